/* cli/main.c — `corridor [--state DIR] [--config FILE] COMMAND [ARGS]`.
 * The only place that exits. */
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/log.h"
#include "core/message.h"

static const struct {
    const char *name;
    int (*fn)(cor_cli_t *, int, char **);
    const char *summary;
} commands[] = {
    { "init",    cmd_init,    "create the state directory, store and index" },
    { "config",  cmd_config,  "config show: print the effective configuration" },
    { "group",   cmd_group,   "group create|list|set|show|delete: groups and their settings" },
    { "member",  cmd_member,  "member add|set|remove|list: a group's members, mode and role" },
    { "directory", cmd_directory, "directory sync FILE.csv: groups follow the staff directory" },
    { "import",  cmd_import,  "import --group NAME PATH...: import mbox, maildir or .eml" },
    { "search",  cmd_search,  "search QUERY: find messages" },
    { "threads", cmd_threads, "threads --group NAME --json: a group's threads" },
    { "thread",  cmd_thread,  "thread --json MESSAGE-ID: a thread as a tree" },
    { "show",    cmd_show,    "show [--raw] MESSAGE-ID: print a message" },
    { "reindex", cmd_reindex, "rebuild the search index from the store" },
    { "archive", cmd_archive, "archive build [--group NAME] | update: the static HTML archive" },
    { "held",    cmd_held,    "held list|show|approve|reject: posts waiting for a moderator" },
    { "outbox",  cmd_outbox,  "outbox [list|flush]: mail waiting to go out, and sending it now" },
    { "bounces", cmd_bounces, "bounces GROUP: members' bounce scores and recent failures" },
    { "digest",  cmd_digest,  "digest preview|send|set|list: members' daily and weekly digests" },
    { "foi",     cmd_foi,     "foi search --case REF QUERY: search every group for an FOI/EIR case" },
    { "sar",     cmd_sar,     "sar search --case REF --person ADDRESS: everything about a person" },
    { "case",    cmd_case,    "case open|list|show|add|redact|export|note|stop-clock|resume: FOI, EIR and SAR cases" },
    { "hold",    cmd_hold,    "hold place|release|list: legal holds on a case, query, group or message" },
    { "retention", cmd_retention, "retention plan|approve|run: dispose of what the schedules allow" },
    { "audit",   cmd_audit,   "audit list|verify|export: the records audit trail" },
    { "filter",  cmd_filter,  "filter explain --group NAME FILE: why a message is accepted or refused" },
    { "serve",   cmd_serve,   "run the daemon: LMTP intake, indexing" },
    { "deliver", cmd_deliver, "deliver --group NAME < MESSAGE: store one message (pipe)" },
    { "status",  cmd_status,  "the daemon, the store and the index backlog" },
    { "postfix-maps", cmd_postfix_maps, "postfix-maps DIR: write Postfix tables for the groups" },
    { "exim-config", cmd_exim_config, "print an Exim router and transport" },
};

static void
usage(FILE *out)
{
    fprintf(out, "usage: corridor [--state DIR] [--config FILE] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'corridor COMMAND --help' describes each command.\n"
                 "The state directory is --state, else $CORRIDOR_STATE, else ./var in the\n"
                 "source tree and /var/lib/corridor elsewhere.\n");
}

static char *
default_state(void)
{
    const char *env = g_getenv("CORRIDOR_STATE");
    if (env && *env)
        return g_strdup(env);
    if (g_file_test("core/store.h", G_FILE_TEST_EXISTS) && g_file_test("Makefile", G_FILE_TEST_EXISTS))
        return g_strdup("./var");
    return g_strdup("/var/lib/corridor");
}

static int run(cor_cli_t *cli, int argc, char **argv);

int
main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    /* A file size limit (ulimit -f, systemd's LimitFSIZE=) must fail the
     * write with EFBIG, which each command reports naming the file, not
     * kill the command with no word, perhaps half-way through its work
     * (the daemon does the same: mta-bridge/server.c). */
    signal(SIGXFSZ, SIG_IGN);
    cor_cli_t cli = { 0 };
    int rc = run(&cli, argc, argv);
    /* the counts of repeated log lines still held back (core/log.h) */
    cor_log_flush();
    cor_store_close(cli.store);
    cor_config_free(cli.config);
    g_free(cli.state_dir);
    g_free(cli.config_path);
    if (fflush(stdout) != 0 && rc == 0)
        rc = cli_output_error(errno);
    return rc;
}

/* Everything but the clean-up, so that each path frees the same way. */
static int
run(cor_cli_t *cli_out, int argc, char **argv)
{
#define cli (*cli_out)
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("corridor 0.1\n");
            return 0;
        } else if (strncmp(a, "--state=", 8) == 0 || strncmp(a, "--config=", 9) == 0) {
            val = strchr(a, '=') + 1;
        } else if (strcmp(a, "--state") == 0 || strcmp(a, "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "corridor: option '%s' needs a value\n", a);
                return 2;
            }
            val = argv[++i];
        } else {
            fprintf(stderr, "corridor: unknown option '%s' (see 'corridor --help')\n", a);
            return 2;
        }
        if (strncmp(a, "--state", 7) == 0) {
            g_free(cli.state_dir);
            cli.state_dir = g_strdup(val);
        } else {
            g_free(cli.config_path);
            cli.config_path = g_strdup(val);
            cli.config_explicit = true;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[i];
    int (*fn)(cor_cli_t *, int, char **) = NULL;
    for (size_t c = 0; c < G_N_ELEMENTS(commands); c++)
        if (strcmp(commands[c].name, name) == 0)
            fn = commands[c].fn;
    if (fn == NULL) {
        fprintf(stderr, "corridor: unknown command '%s' (see 'corridor --help')\n", name);
        return 2;
    }

    if (cli.state_dir == NULL)
        cli.state_dir = default_state();
    if (cli.config_path == NULL)
        cli.config_path = g_build_filename(cli.state_dir, "corridor.conf", NULL);
    g_autofree char *err = NULL;
    cor_status_t s = cor_config_load(cli.config_path, cli.config_explicit, &cli.config, &err);
    if (s != COR_OK) {
        fprintf(stderr, "corridor: %s\n", err);
        return 1;
    }
    const char *level = cor_config_string(cli.config, "core", "log_level");
    static const char *const levels[] = { "debug", "info", "warning", "error" };
    for (int l = 0; l < 4; l++)
        if (strcmp(level, levels[l]) == 0 && g_getenv("CORRIDOR_DEBUG") == NULL)
            cor_log_set_level((cor_log_level_t) l);
    cli.stderr_tty = isatty(STDERR_FILENO);
    cor_message_init();

    return fn(cli_out, argc - i, argv + i);
#undef cli
}
