/* cli/cmd_import.c — `corridor import --group NAME PATH...`.
 *
 * Every path is opened (and so validated: mailbox.h invariant 1) before
 * anything is imported, so a truncated or unrecognised input imports
 * nothing.  Single messages that cannot be read or parsed are reported on
 * stderr and counted; the last line on stdout is
 * "imported N, duplicates D, failed F". */
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/ingest.h"
#include "core/mailbox.h"

int
cmd_import(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *group = NULL;
    GOptionEntry entries[] = {
        { "group", 'g', 0, G_OPTION_ARG_STRING, &group, "The group to import into", "NAME" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("--group NAME PATH... - import mail");
    g_option_context_set_description(ctx,
        "PATH is an mbox file (mboxo or mboxrd), an .xz or .gz compressed mbox,\n"
        "a maildir (or a folder of maildirs), or a single message file.\n"
        "The format is recognised from the content.  Importing again adds nothing.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (group == NULL || argc < 2)
        return cli_error("usage: corridor import --group NAME PATH...");

    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(cor_group_t) g = NULL;
    if (cor_store_group_get(st, group, &g) != COR_OK)
        return cli_error("%s (create it with 'corridor group create %s')", cor_store_error(st), group);

    g_autofree char *tmpdir = g_build_filename(cli->state_dir, "tmp", NULL);
    g_mkdir_with_parents(tmpdir, 0750);
    g_autoptr(GPtrArray) boxes = g_ptr_array_new_with_free_func((GDestroyNotify) cor_mailbox_close);
    for (int i = 1; i < argc; i++) {
        cor_mailbox_t *mb = NULL;
        g_autofree char *err = NULL;
        cor_status_t s = cor_mailbox_open(argv[i], tmpdir, &mb, &err);
        if (s != COR_OK)
            return cli_error("%s; nothing imported", err ? err : cor_status_to_string(s));
        g_ptr_array_add(boxes, mb);
    }

    cor_search_writer_t *w = cli_index_writer(cli);
    if (w == NULL)
        return 1;
    cli_progress_t prog = { .what = "importing", .tty = cli->stderr_tty };
    cor_ingest_options_t opt = cli_ingest_options(cli, &prog);
    cor_ingest_stats_t total = { 0 };
    int rc = 0;
    /* first, anything a crash left unindexed */
    g_autofree char *cerr = NULL;
    cor_ingest_stats_t caught;
    cor_status_t s = cor_ingest_catch_up(st, w, &opt, &caught, &cerr);
    for (guint i = 0; s == COR_OK && i < boxes->len; i++) {
        cor_ingest_stats_t one;
        g_autofree char *err = NULL;
        prog.started = 0;
        s = cor_ingest_import(st, w, g->id, g_ptr_array_index(boxes, i), &opt, &one, &err);
        cli_progress_end(&prog);
        total.imported += one.imported;
        total.duplicates += one.duplicates;
        total.failed += one.failed;
        if (s != COR_OK)
            cli_error("import of '%s' stopped: %s", argv[i + 1], err ? err : cor_status_to_string(s));
    }
    if (s != COR_OK && cerr)
        cli_error("cannot index pending messages: %s", cerr);
    if (cor_search_writer_close(w) != COR_OK && s == COR_OK) {
        cli_error("cannot close index");
        rc = 1;
    }
    if (s != COR_OK)
        rc = 1;
    if (total.failed > 0)
        rc = 1;
    printf("imported %" G_GUINT64_FORMAT ", duplicates %" G_GUINT64_FORMAT ", failed %" G_GUINT64_FORMAT "\n",
           total.imported, total.duplicates, total.failed);
    return rc;
}
