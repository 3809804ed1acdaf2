/* cli/cmd_archive.c — `corridor archive build|update`: the static archive
 * (archive-web/archive.h).
 *
 *   archive build [--group G]   render everything (or one group) from the store
 *   archive update              render what the pending 'render' work changes
 *                               (what the daemon does by itself)
 */
#include <stdio.h>
#include <string.h>

#include "archive-web/archive.h"
#include "cli/cli.h"

static void
progress(uint64_t done, uint64_t total, void *data)
{
    cli_progress_t *p = data;
    p->what = "rendering";
    cli_progress_cb(done, total, p);
}

static cor_archive_t *
open_archive(cor_cli_t *cli, cli_progress_t *prog)
{
    cor_archive_options_t o = {
        .state_dir = cli->state_dir,
        .config = cli->config,
        .progress = prog ? progress : NULL,
        .progress_data = prog,
    };
    cor_archive_t *a = NULL;
    g_autofree char *err = NULL;
    cor_status_t s = cor_archive_open(&o, &a, &err);
    if (s != COR_OK) {
        cli_error("cannot load the archive templates: %s", err ? err : cor_status_to_string(s));
        return NULL;
    }
    return a;
}

static int
archive_build(cor_cli_t *cli, int argc, char **argv)
{
    char *group = NULL;
    GOptionEntry entries[] = {
        { "group", 'g', 0, G_OPTION_ARG_STRING, &group, "only this group (and the pages listing it)", "NAME" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- render the whole archive from the store");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    g_autofree char *gname = group;
    if (argc != 1)
        return cli_error("usage: corridor archive build [--group NAME]");
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    cli_progress_t prog = { .what = "rendering", .tty = cli->stderr_tty };
    g_autoptr(cor_archive_t) a = open_archive(cli, &prog);
    if (!a)
        return 1;
    cor_archive_stats_t stats;
    g_autofree char *err = NULL;
    cor_status_t s = cor_archive_build(a, st, gname, &stats, &err);
    cli_progress_end(&prog);
    if (s != COR_OK)
        return cli_error("archive build failed: %s", err ? err : cor_status_to_string(s));
    printf("rendered %" G_GUINT64_FORMAT " messages, %" G_GUINT64_FORMAT " files, %.1f MiB in %.2f s"
           " (%" G_GUINT64_FORMAT " files unchanged)\n",
           stats.messages, stats.pages, stats.bytes / 1048576.0, stats.seconds, stats.unchanged);
    printf("archive: %s\n", cor_archive_public_dir(a));
    return 0;
}

static int
archive_update(cor_cli_t *cli, int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("- render the pages that pending messages change");
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 1)
        return cli_error("usage: corridor archive update");
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(cor_archive_t) a = open_archive(cli, NULL);
    if (!a)
        return 1;
    uint64_t messages = 0, files = 0;
    double seconds = 0;
    for (;;) {
        cor_archive_stats_t stats;
        int64_t pending = 0;
        g_autofree char *err = NULL;
        cor_status_t s = cor_archive_update(a, st, &stats, &pending, &err);
        if (s != COR_OK)
            return cli_error("archive update failed: %s", err ? err : cor_status_to_string(s));
        messages += stats.messages;
        files += stats.pages;
        seconds += stats.seconds;
        if (pending == 0 || stats.messages == 0)
            break;
    }
    printf("rendered %" G_GUINT64_FORMAT " messages, %" G_GUINT64_FORMAT " files in %.3f s\n",
           messages, files, seconds);
    return 0;
}

int
cmd_archive(cor_cli_t *cli, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "build") == 0)
        return archive_build(cli, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "update") == 0)
        return archive_update(cli, argc - 1, argv + 1);
    return cli_error("usage: corridor archive build [--group NAME] | corridor archive update");
}
