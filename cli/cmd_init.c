/* cli/cmd_init.c — `corridor init`: the state directory, store and index. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int
cmd_init(cor_cli_t *cli, int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("- create the state directory, store and index");
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc > 1)
        return cli_error("init takes no arguments");
    /* 0750: the corridor user and a records group (see docs/admin.md) */
    if (g_mkdir_with_parents(cli->state_dir, 0750) != 0)
        return cli_error("cannot create state directory '%s': %s", cli->state_dir, g_strerror(errno));
    if (cli_store(cli, true) == NULL)
        return 1;
    cor_search_writer_t *w = cli_index_writer(cli);
    if (w == NULL)
        return 1;
    if (cor_search_writer_close(w) != COR_OK)
        return cli_error("cannot write index");
    printf("initialised %s (schema version %d)\n", cli->state_dir, cor_store_schema_version());
    return 0;
}
