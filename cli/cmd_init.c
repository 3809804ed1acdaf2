/* cli/cmd_init.c — `corridor init`: the state directory, store and index.
 *
 * Safe modes (docs/security.md): the state directory is made 0750 and what
 * init writes in it is not readable by others (umask 027).  Run as root with
 * [daemon] user set, a state directory it makes is given to that user and
 * group (one that exists already must be theirs) and init drops to them (core/privilege.h) before it makes the store
 * and the index, so that they are theirs.  An existing state directory that
 * corridor serve would refuse (world-writable, ...) is refused here too. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/audit.h"
#include "core/privilege.h"


int
cmd_init(cor_cli_t *cli, int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("- create the state directory, store and index");
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc > 1)
        return cli_error("init takes no arguments");
    /* who will own it: [daemon] user when run as root (init may run as root) */
    g_autofree char *err = NULL;
    g_autoptr(cor_priv_t) who = NULL;
    if (cor_priv_plan(cli->config, true, &who, &err) != COR_OK)
        return cli_error("%s", err);
    /* parents as mkdir -p makes them (the daemon's user must pass through),
     * then the state directory itself 0750: the corridor user and a records
     * group (docs/records.md) */
    g_autofree char *parent = g_path_get_dirname(cli->state_dir);
    if (g_mkdir_with_parents(parent, 0755) != 0)
        return cli_error("cannot create directory '%s': %s", parent, g_strerror(errno));
    umask(027);
    bool made = mkdir(cli->state_dir, 0750) == 0;
    if (!made && errno != EEXIST)
        return cli_error("cannot create state directory '%s': %s", cli->state_dir, g_strerror(errno));
    if (who->drop && made && chown(cli->state_dir, who->uid, who->gid) != 0)
        return cli_error("cannot give '%s' to '%s:%s': %s", cli->state_dir, who->user,
                         who->group, g_strerror(errno));
    if (cor_priv_check_path(who, cli->state_dir, "the state directory", COR_PRIV_DIR, &err) !=
            COR_OK ||
        (who->drop && cor_priv_check_writable(who, cli->state_dir, "the state directory", &err) !=
                          COR_OK))
        return cli_error("%s", err);
    /* the store and the index are made by the user that will run the daemon */
    if (cor_priv_drop(who, &err) != COR_OK)
        return cli_error("%s", err);
    cor_store_t *st = cli_store(cli, true);
    if (st == NULL)
        return 1;
    /* the records audit trail's anchor file, 0660 in the directory's group,
     * so that every records officer can append to it (docs/records.md) */
    g_autofree char *aerr = NULL;
    if (cor_audit_anchor_create(st, &aerr) != COR_OK)
        return cli_error("%s", aerr);
    cor_search_writer_t *w = cli_index_writer(cli);
    if (w == NULL)
        return 1;
    if (cor_search_writer_close(w) != COR_OK)
        return cli_error("cannot write index");
    printf("initialised %s (schema version %d)\n", cli->state_dir, cor_store_schema_version());
    return 0;
}
