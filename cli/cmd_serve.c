/* cli/cmd_serve.c — `corridor serve`: the long-running daemon (LMTP intake,
 * indexing behind it).  The work is in mta-bridge/server.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "archive-web/archive.h"
#include "archive-web/http.h"
#include "cli/cli.h"
#include "core/log.h"
#include "digest/scheduler.h"
#include "mta-bridge/server.h"
#include "records/audit.h"

static void
on_committed(void *data)
{
    cor_archive_runner_kick(data);
}

/* STATE/serve.pid, locked while the daemon runs: one daemon per state
 * directory, and `corridor status` can tell whether one is running. */
static int
lock_pid_file(cor_cli_t *cli)
{
    g_autofree char *path = g_build_filename(cli->state_dir, "serve.pid", NULL);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        cli_error("cannot open '%s': %s", path, g_strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char buf[32] = "";
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        g_strstrip(buf);
        cli_error("another 'corridor serve' (pid %s) is using '%s'", *buf ? buf : "?",
                  cli->state_dir);
        close(fd);
        return -1;
    }
    g_autofree char *pid = g_strdup_printf("%d\n", (int) getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, strlen(pid), 0) < 0)
        cor_log_warning("cannot write '%s': %s", path, g_strerror(errno));
    return fd;
}

static void
kick_outbound(void *srv)
{
    cor_server_kick_outbound(srv);
}

/* The records officers (cor_config_officers) in the audit trail, as every
 * records command records them (records/audit.h design note 5): a change
 * since the last role.change entry becomes a new one, in a short write
 * transaction on `st`.  The operator is the daemon's user.  -1 after
 * logging when it could not be written. */
static int
sync_officers(cor_store_t *st, const cor_config_t *cfg, const char *when)
{
    g_autofree char *op = cor_records_operator(NULL);
    g_autofree char *list = g_strjoinv(",", (char **) cor_config_officers(cfg));
    g_autofree char *err = NULL;
    bool changed = false;
    cor_status_t s = cor_store_begin(st);
    if (s == COR_OK)
        s = cor_audit_sync_officers(st, op, list, &changed, &err);
    if (s == COR_OK)
        s = cor_store_commit(st);
    if (s != COR_OK) {
        if (cor_store_in_transaction(st))
            cor_store_rollback(st);
        cor_log_error("%s: cannot record the records officers in the audit trail: %s", when,
                      err ? err : cor_store_error(st));
        return -1;
    }
    if (changed)
        cor_log_info("%s: the records officers are now '%s' (recorded in the audit trail)", when,
                     list);
    return 0;
}

/* SIGHUP: the officer list is recorded, then the web uses it; when it
 * cannot be recorded the web keeps the old one. */
typedef struct reload_ctx {
    const char *store_path;
    cor_http_t *web;
} reload_ctx_t;

static void
on_reloaded(const cor_config_t *cfg, void *data)
{
    reload_ctx_t *rc = data;
    g_autoptr(cor_store_t) st = NULL;
    g_autofree char *err = NULL;
    if (cor_store_open(rc->store_path, false, &st, &err) != COR_OK) {
        cor_log_error("reload: cannot open the store to record the records officers: %s", err);
        return;
    }
    cor_store_set_busy_timeout(st, cor_config_int(cfg, "store", "busy_timeout") * 1000);
    if (sync_officers(st, cfg, "reload") == 0)
        cor_http_set_officers(rc->web, cfg);
    else
        cor_log_error("reload: the web keeps the records officers it had");
}

int
cmd_serve(cor_cli_t *cli, int argc, char **argv)
{
    g_auto(GStrv) lmtp = NULL;
    g_autofree char *http = NULL;
    gboolean no_archive = FALSE;
    gboolean no_outbound = FALSE;
    gboolean no_digests = FALSE;
    g_autofree char *relay = NULL;
    GOptionEntry entries[] = {
        { "lmtp", 0, 0, G_OPTION_ARG_STRING_ARRAY, &lmtp,
          "listen for LMTP here (repeatable; replaces [lmtp] listen)", "unix:PATH|HOST:PORT" },
        { "http", 0, 0, G_OPTION_ARG_STRING, &http,
          "serve the archive and its search here (replaces [http] listen)", "HOST:PORT" },
        { "no-archive", 0, 0, G_OPTION_ARG_NONE, &no_archive,
          "do not keep the HTML archive current", NULL },
        { "relay", 0, 0, G_OPTION_ARG_STRING, &relay,
          "send members' copies and notices through this relay (replaces [outbound] relay)",
          "smtp://HOST:PORT" },
        { "no-outbound", 0, 0, G_OPTION_ARG_NONE, &no_outbound,
          "send nothing: mail waits in the outbox (corridor outbox flush)", NULL },
        { "no-digests", 0, 0, G_OPTION_ARG_NONE, &no_digests,
          "make no digests (a timer runs corridor digest send instead)", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- run the daemon: LMTP intake and indexing");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Runs in the foreground until SIGTERM (systemd: Type=notify).  SIGHUP reloads\n"
        "the configuration.  Logs go to stderr, or to the journal under systemd.");
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 1)
        return cli_error("usage: corridor serve [--lmtp unix:PATH|HOST:PORT]... [--http HOST:PORT]"
                         " [--relay URL] [--no-outbound] [--no-archive] [--no-digests]");
    /* opening the store once here creates nothing but migrates it; a
     * changed officer list goes into the audit trail before the web uses it */
    if (!cli_store(cli, false))
        return 1;
    int pidfd = lock_pid_file(cli);
    if (pidfd < 0)
        return 1;
    if (sync_officers(cli->store, cli->config, "start") != 0) {
        close(pidfd);
        return cli_error("cannot start: the records officers cannot be recorded");
    }
    cor_store_close(g_steal_pointer(&cli->store));
    cor_log_set_ident("corridor");

    g_autofree char *store_path = cli_store_path(cli);
    g_autofree char *index_path = cli_index_path(cli);
    cor_server_options_t opt = {
        .config_path = cli->config_path,
        .config_explicit = cli->config_explicit,
        .state_dir = cli->state_dir,
        .store_path = store_path,
        .index_path = index_path,
        .listen = (const char *const *) lmtp,
        .relay = relay,
        .no_outbound = no_outbound,
    };
    g_autofree char *base_url = cor_config_base_url(cli->config, http);
    opt.base_url = base_url;
    reload_ctx_t reload = { .store_path = store_path };
    opt.reloaded = on_reloaded;
    opt.reloaded_data = &reload;
    /* the archive: kept current by the renderer thread, served by HTTP */
    cor_archive_t *archive = NULL;
    cor_archive_runner_t *runner = NULL;
    cor_http_t *web = NULL;
    g_autofree char *err = NULL;
    cor_archive_options_t ao = { .state_dir = cli->state_dir, .config = cli->config };
    cor_status_t s = cor_archive_open(&ao, &archive, &err);
    if (s != COR_OK) {
        int rc = cli_error("cannot load the archive templates: %s", err);
        close(pidfd);
        return rc;
    }
    if (!no_archive) {
        int debounce = (int) cor_config_int(cli->config, "archive", "debounce_ms");
        s = cor_archive_runner_start(archive, store_path, debounce, &runner, &err);
        opt.committed = on_committed;
        opt.committed_data = runner;
    }
    cor_server_t *srv = NULL;
    int rc = 0;
    if (s == COR_OK)
        s = cor_server_new(&opt, cli->config, &srv, &err);
    const char *listen = http && *http ? http : cor_config_string(cli->config, "http", "listen");
    if (s == COR_OK && listen && *listen) {
        cor_http_options_t ho = {
            .listen = listen,
            .store_path = store_path,
            .index_path = index_path,
            .config = cli->config,
            .archive = archive,
        };
        s = cor_http_start(&ho, &web, &err);
        reload.web = web;
        if (s == COR_OK)
            cor_log_info("the archive is at http://%s/ (port %d)", listen, cor_http_port(web));
    }
    /* digests at their slots: a thread of their own, sent by the outbound
     * worker as each batch commits */
    cor_digest_scheduler_t *digests = NULL;
    if (s == COR_OK && !no_digests)
        s = cor_digest_scheduler_start(cli->config, store_path, base_url, kick_outbound, srv,
                                       &digests, &err);
    if (s != COR_OK)
        rc = cli_error("cannot start: %s", err ? err : cor_status_to_string(s));
    else if ((s = cor_server_run(srv)) != COR_OK)
        rc = cli_error("stopped on an error: %s", cor_status_to_string(s));
    cor_digest_scheduler_stop(digests);
    cor_http_stop(web);
    cor_archive_runner_stop(runner);
    cor_server_free(srv);
    cor_archive_free(archive);
    g_autofree char *pidpath = g_build_filename(cli->state_dir, "serve.pid", NULL);
    unlink(pidpath);
    close(pidfd);
    return rc;
}
