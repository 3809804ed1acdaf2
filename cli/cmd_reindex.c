/* cli/cmd_reindex.c — `corridor reindex`: rebuild the Xapian index from the
 * store (DESIGN.md invariant 1). */
#include <stdio.h>

#include "cli/cli.h"
#include "core/ingest.h"

int
cmd_reindex(cor_cli_t *cli, int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("- rebuild the search index from the store");
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 1)
        return cli_error("usage: corridor reindex");
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    cor_search_writer_t *w = cli_index_writer(cli);
    if (!w)
        return 1;
    cli_progress_t prog = { .what = "indexing", .tty = cli->stderr_tty };
    cor_ingest_options_t opt = cli_ingest_options(cli, &prog);
    cor_ingest_stats_t stats;
    g_autofree char *err = NULL;
    cor_status_t s = cor_ingest_reindex(st, w, &opt, &stats, &err);
    cli_progress_end(&prog);
    cor_status_t c = cor_search_writer_close(w);
    if (s != COR_OK)
        return cli_error("reindex failed: %s", err ? err : cor_status_to_string(s));
    if (c != COR_OK)
        return cli_error("cannot close index");
    printf("indexed %" G_GUINT64_FORMAT ", failed %" G_GUINT64_FORMAT "\n", stats.indexed, stats.failed);
    return stats.failed ? 1 : 0;
}
