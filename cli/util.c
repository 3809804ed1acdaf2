/* cli/util.c — helpers shared by the verbs (cli.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/message.h"
#include "core/visibility.h"

int
cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "corridor: %s\n", msg);
    return 1;
}

int
cli_output_error(int errnum)
{
    g_autofree char *target = g_file_read_link("/proc/self/fd/1", NULL);
    struct stat sb;
    if (target && (fstat(STDOUT_FILENO, &sb) != 0 || !S_ISREG(sb.st_mode)))
        g_clear_pointer(&target, g_free);
    if (target)
        return cli_error("cannot write '%s' (standard output): %s", target, g_strerror(errnum));
    return cli_error("cannot write standard output: %s", g_strerror(errnum));
}

bool
cli_parse(GOptionContext *ctx, int *argc, char ***argv)
{
    g_autoptr(GError) err = NULL;
    g_option_context_set_help_enabled(ctx, TRUE);
    if (!g_option_context_parse(ctx, argc, argv, &err)) {
        fprintf(stderr, "corridor: %s\n", err->message);
        return false;
    }
    return true;
}

char *
cli_store_path(cor_cli_t *cli)
{
    const char *p = cor_config_string(cli->config, "store", "path");
    return *p ? g_strdup(p) : g_build_filename(cli->state_dir, "corridor.db", NULL);
}

char *
cli_index_path(cor_cli_t *cli)
{
    const char *p = cor_config_string(cli->config, "index", "path");
    return *p ? g_strdup(p) : g_build_filename(cli->state_dir, "index", NULL);
}

cor_store_t *
cli_store(cor_cli_t *cli, bool create)
{
    if (cli->store)
        return cli->store;
    g_autofree char *path = cli_store_path(cli);
    g_autofree char *err = NULL;
    if (!create && !g_file_test(path, G_FILE_TEST_EXISTS)) {
        cli_error("no store in '%s' (run 'corridor --state %s init' first)", cli->state_dir,
                  cli->state_dir);
        return NULL;
    }
    cor_status_t s = cor_store_open(path, create, &cli->store, &err);
    if (s != COR_OK) {
        cli_error("cannot open store: %s", err);
        return NULL;
    }
    cor_store_set_busy_timeout(cli->store,
                               cor_config_int(cli->config, "store", "busy_timeout") * 1000);
    return cli->store;
}

cor_search_writer_t *
cli_index_writer(cor_cli_t *cli)
{
    g_autofree char *path = cli_index_path(cli);
    g_autofree char *err = NULL;
    cor_search_writer_t *w = NULL;
    /* Another writer (or the lock holder of one that was just killed, which
     * Xapian runs as a child process) may hold the lock for a moment: wait
     * up to [store] busy_timeout, as SQLite does for the store. */
    gint64 deadline = g_get_monotonic_time() +
                      cor_config_int(cli->config, "store", "busy_timeout") * G_USEC_PER_SEC;
    cor_status_t s;
    while ((s = cor_search_writer_open(path, &w, &err)) == COR_ERR_BUSY &&
           g_get_monotonic_time() < deadline) {
        g_clear_pointer(&err, g_free);
        g_usleep(100 * 1000);
    }
    if (s != COR_OK) {
        if (s == COR_ERR_BUSY)
            cli_error("index '%s' is locked by another corridor process: %s", path, err);
        else
            cli_error("cannot open index '%s': %s", path, err);
        return NULL;
    }
    return w;
}

void
cli_progress_cb(uint64_t done, uint64_t total, void *data)
{
    cli_progress_t *p = data;
    if (!p->tty)
        return;
    gint64 now = g_get_monotonic_time();
    if (p->started == 0)
        p->started = now;
    if (now - p->last < 100000 && done != total)
        return;
    p->last = now;
    double secs = (now - p->started) / 1e6;
    double rate = secs > 0 ? done / secs : 0;
    if (total > 0) {
        int width = 30, filled = (int) (width * (double) done / (double) total);
        char bar[31];
        for (int i = 0; i < width; i++)
            bar[i] = i < filled ? '#' : '-';
        bar[width] = '\0';
        fprintf(stderr, "\r%s [%s] %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " %3d%%  %.0f msg/s ",
                p->what, bar, done, total, (int) (100.0 * done / total), rate);
    } else {
        fprintf(stderr, "\r%s %" G_GUINT64_FORMAT "  %.0f msg/s ", p->what, done, rate);
    }
    fflush(stderr);
}

void
cli_progress_end(cli_progress_t *p)
{
    if (p->tty && p->started != 0)
        fprintf(stderr, "\n");
}

void
cli_print_json(JsonNode *node)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, node);
    json_generator_set_pretty(gen, FALSE);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    fputs(text, stdout);
    fputc('\n', stdout);
}

void
cli_print_search_hit(const cor_stored_message_t *m, const char *group, int64_t thread, bool json)
{
    g_autofree char *date = cli_iso_date(m->date);
    if (!json) {
        printf("%.10s  %-12s %s; %s  <%s>\n", date, group, m->from_display, m->subject,
               m->message_id);
        return;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "message_id");
    json_builder_add_string_value(b, m->message_id);
    json_builder_set_member_name(b, "thread_id");
    json_builder_add_int_value(b, thread);
    json_builder_set_member_name(b, "group");
    json_builder_add_string_value(b, group);
    json_builder_set_member_name(b, "date");
    json_builder_add_string_value(b, date);
    json_builder_set_member_name(b, "from");
    json_builder_add_string_value(b, m->from_display);
    json_builder_set_member_name(b, "subject");
    json_builder_add_string_value(b, m->subject);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    cli_print_json(root);
}

char *
cli_iso_date(int64_t t)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
    if (dt == NULL)
        return g_strdup("1970-01-01T00:00:00Z");
    return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}

char *
cli_message_id(const char *arg)
{
    return cor_message_id_normalise(arg);
}

int64_t
cli_visible_message(cor_store_t *st, const char *id, const char *only_group, const char *as,
                    GPtrArray *groups_out)
{
    g_autoptr(GArray) rows = NULL;
    if (cor_store_message_find(st, id, &rows) != COR_OK) {
        cli_error("%s", cor_store_error(st));
        return 0;
    }
    cor_viewer_t viewer = { COR_VIEWER_STAFF, as };
    for (guint i = 0; i < rows->len; i++) {
        int64_t row = g_array_index(rows, int64_t, i);
        g_autoptr(GPtrArray) groups = NULL;
        g_autoptr(GArray) threads = NULL;
        if (cor_store_message_groups(st, row, &groups, &threads) != COR_OK) {
            cli_error("%s", cor_store_error(st));
            return 0;
        }
        bool found = false;
        for (guint j = 0; j < groups->len; j++) {
            const char *name = g_ptr_array_index(groups, j);
            if (only_group && strcmp(only_group, name) != 0)
                continue;
            g_autoptr(cor_group_t) g = NULL;
            bool ok = false;
            if (cor_store_group_get(st, name, &g) == COR_OK &&
                cor_visibility_can_see(st, &viewer, g, &ok) == COR_OK && ok) {
                found = true;
                if (groups_out)
                    g_ptr_array_add(groups_out, g_strdup(name));
            }
        }
        if (found)
            return row;
    }
    cli_error("no message <%s>%s%s", id, only_group ? " in group " : "", only_group ? only_group : "");
    return 0;
}

static void
report_failure(const char *label, const char *reason, void *data)
{
    cli_progress_t *p = data;
    if (p->tty && p->started)
        fputc('\n', stderr);
    fprintf(stderr, "corridor: %s: %s\n", label, reason);
}

cor_ingest_options_t
cli_ingest_options(cor_cli_t *cli, cli_progress_t *prog)
{
    cor_ingest_options_t opt = {
        .workers = (int) cor_config_int(cli->config, "import", "workers"),
        .batch = (int) cor_config_int(cli->config, "import", "batch"),
        .progress = cli_progress_cb,
        .failure = report_failure,
        .data = prog,
    };
    return opt;
}
