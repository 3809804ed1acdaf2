/* cli/cmd_serve.c — `corridor serve`: the long-running daemon (LMTP intake,
 * indexing behind it).  The work is in mta-bridge/server.c.
 *
 * Start-up order (core/privilege.h design notes; docs/security.md):
 *   1. decide who the daemon runs as ([daemon] user) and refuse unsafe
 *      files: a world-writable (or untrusted group-writable) state
 *      directory, store, configuration file or configuration directory;
 *   2. lock STATE/serve.pid, bind every listener (LMTP and HTTP);
 *   3. started as root: drop to [daemon] user and group, checked;
 *   4. only then open the store, record the officers, start the threads
 *      (archive renderer, HTTP, digests, the server's own) and serve.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "archive-web/archive.h"
#include "archive-web/http.h"
#include "cli/cli.h"
#include "core/log.h"
#include "core/privilege.h"
#include "digest/scheduler.h"
#include "mta-bridge/server.h"
#include "records/audit.h"

/* `data` is the address of the runner, which starts after the server is
 * made (and after privileges are dropped); the committer calls this only
 * once cor_server_run has started it. */
static void
on_committed(void *data)
{
    cor_archive_runner_kick(*(cor_archive_runner_t **) data);
}

/* Step 1: who, and are the files it trusts safe?  NULL after printing the
 * error. */
static cor_priv_t *
check_privilege(cor_cli_t *cli, const char *store_path)
{
    g_autofree char *err = NULL;
    g_autoptr(cor_priv_t) who = NULL;
    bool allow_root = g_strcmp0(g_getenv("CORRIDOR_ALLOW_ROOT"), "1") == 0;
    if (cor_priv_plan(cli->config, allow_root, &who, &err) != COR_OK) {
        cli_error("cannot start: %s", err);
        return NULL;
    }
    g_autofree char *store_dir = g_path_get_dirname(store_path);
    g_autofree char *config_dir = g_path_get_dirname(cli->config_path);
    const struct {
        const char *path, *what;
        cor_priv_kind_t kind;
    } paths[] = {
        { cli->state_dir, "the state directory", COR_PRIV_DIR },
        { store_dir, "the store's directory", COR_PRIV_DIR },
        { store_path, "the store", COR_PRIV_FILE },
        { cli->config_path, "the configuration file", COR_PRIV_FILE },
        { config_dir, "the configuration file's directory", COR_PRIV_PARENT },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
        if (cor_priv_check_path(who, paths[i].path, paths[i].what, paths[i].kind, &err) != COR_OK) {
            cli_error("cannot start: %s", err);
            return NULL;
        }
    }
    if (!g_file_test(store_path, G_FILE_TEST_EXISTS)) {
        cli_store(cli, false);   /* prints "no store ... run corridor init" */
        return NULL;
    }
    /* the user it drops to must be able to write what root could: the
     * first three, the state directory, the store's directory, the store */
    for (size_t i = 0; who->drop && i < 3; i++) {
        if (cor_priv_check_writable(who, paths[i].path, paths[i].what, &err) != COR_OK) {
            cli_error("cannot start: %s", err);
            return NULL;
        }
    }
    /* left behind by a command run as root: worth a warning, not a refusal */
    g_autofree char *foreign = who->drop ? cor_priv_find_foreign(who, cli->state_dir,
                                                                 cli->config_path)
                                         : NULL;
    if (foreign)
        cor_log_warning("'%s' does not belong to user '%s', which may fail to change it: "
                        "chown -R %s:%s '%s' (and run commands as '%s', docs/security.md)",
                        foreign, who->user, who->user, who->group, cli->state_dir, who->user);
    return g_steal_pointer(&who);
}

/* Step 3: drop root for good (nothing when not root).  The pid file was
 * made by root: it becomes the user's.  -1 after printing the error. */
static int
drop_privilege(cor_cli_t *cli, const cor_priv_t *who, int pidfd)
{
    if (!who->drop) {
        if (geteuid() == 0)
            cor_log_warning("running as root ([daemon] user is %s)",
                            *cor_config_string(cli->config, "daemon", "user")
                                ? "root" : "empty, CORRIDOR_ALLOW_ROOT=1");
        return 0;
    }
    g_autofree char *err = NULL;
    if (fchown(pidfd, who->uid, who->gid) != 0) {
        cli_error("cannot give the pid file to '%s': %s", who->user, g_strerror(errno));
        return -1;
    }
    if (cor_priv_drop(who, &err) != COR_OK) {
        cli_error("cannot start: %s", err);
        return -1;
    }
    cor_log_info("bound as root, now running as user '%s' (uid %ld) and group '%s' (gid %ld)",
                 who->user, (long) who->uid, who->group, (long) who->gid);
    if (g_file_test(cli->config_path, G_FILE_TEST_EXISTS) && access(cli->config_path, R_OK) != 0)
        cor_log_warning("user '%s' cannot read '%s': SIGHUP will not be able to reload it",
                        who->user, cli->config_path);
    return 0;
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
    cor_store_limit_memory(cor_config_int(cfg, "store", "daemon_memory"));
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

/* glibc's malloc for a daemon that runs for months (docs/hardening.md, RSS).
 * Blocks of MMAP_FROM and more (a large message, a page being made, a
 * batch's arrays) get a mapping of their own, which free() gives back
 * whole.  Left to itself glibc raises that threshold each time such a
 * block is freed, up to 32 MiB, and from then on the big blocks come from
 * the arenas, where what they leave between smaller live blocks stays
 * resident.  A MALLOC_MMAP_THRESHOLD_ or glibc.malloc.mmap_threshold
 * (GLIBC_TUNABLES) in the environment wins. */
#define MMAP_FROM (128 * 1024)

static void
tune_malloc(void)
{
    const char *tunables = g_getenv("GLIBC_TUNABLES");
    if (!g_getenv("MALLOC_MMAP_THRESHOLD_") &&
        !(tunables && strstr(tunables, "glibc.malloc.mmap_threshold")))
        mallopt(M_MMAP_THRESHOLD, MMAP_FROM);
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
        "the configuration.  Logs go to stderr, or to the journal under systemd.\n"
        "Started as root, it binds its listeners and then runs as [daemon] user\n"
        "(without one it refuses unless CORRIDOR_ALLOW_ROOT=1).  TCP listeners must\n"
        "be on loopback unless [lmtp]/[http] allow_remote (docs/security.md).");
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    tune_malloc();
    if (argc != 1)
        return cli_error("usage: corridor serve [--lmtp unix:PATH|HOST:PORT]... [--http HOST:PORT]"
                         " [--relay URL] [--no-outbound] [--no-archive] [--no-digests]");
    g_autofree char *store_path = cli_store_path(cli);
    g_autofree char *index_path = cli_index_path(cli);
    /* every handle opened from here on (cor_store_set_default_cache) */
    cor_store_set_default_cache((int) MIN(cor_config_int(cli->config, "store", "daemon_cache") / 1024,
                                          G_MAXINT));
    /* and all of them together: a cache fills as the archive grows, and
     * ten of them would otherwise keep growing for hours (docs/hardening.md) */
    cor_store_limit_memory(cor_config_int(cli->config, "store", "daemon_memory"));
    /* 1. who runs it, and are its files safe */
    g_autoptr(cor_priv_t) who = check_privilege(cli, store_path);
    if (!who)
        return 1;
    /* 2. one daemon per state directory (before a stale socket is replaced) */
    int pidfd = lock_pid_file(cli);
    if (pidfd < 0)
        return 1;
    cor_log_set_ident("corridor");

    cor_server_options_t opt = {
        .config_path = cli->config_path,
        .config_explicit = cli->config_explicit,
        .state_dir = cli->state_dir,
        .store_path = store_path,
        .index_path = index_path,
        .listen = (const char *const *) lmtp,
        .relay = relay,
        .no_outbound = no_outbound,
        .own_sockets = who->drop,
        .socket_uid = who->uid,
        .socket_gid = who->gid,
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
    cor_digest_scheduler_t *digests = NULL;
    cor_server_t *srv = NULL;
    int http_fd = -1;
    g_autofree char *err = NULL;
    int rc = 0;
    cor_archive_options_t ao = { .state_dir = cli->state_dir, .config = cli->config };
    cor_status_t s = cor_archive_open(&ao, &archive, &err);
    if (s != COR_OK) {
        rc = cli_error("cannot load the archive templates: %s", err);
        goto out;
    }
    if (!no_archive) {
        opt.committed = on_committed;
        opt.committed_data = &runner;
    }
    s = cor_server_new(&opt, cli->config, &srv, &err);
    const char *listen = http && *http ? http : cor_config_string(cli->config, "http", "listen");
    if (s == COR_OK && listen && *listen)
        s = cor_http_bind(listen, cli->config, &http_fd, &err);
    if (s != COR_OK) {
        rc = cli_error("cannot start: %s", err ? err : cor_status_to_string(s));
        goto out;
    }
    /* 3. every listener is bound: drop root */
    if (drop_privilege(cli, who, pidfd) != 0) {
        rc = 1;
        goto out;
    }
    /* 4. files, threads, serving.  A changed officer list goes into the
     * audit trail before the web uses it (opening the store migrates it) */
    if (!cli_store(cli, false)) {
        rc = 1;
        goto out;
    }
    if (sync_officers(cli->store, cli->config, "start") != 0) {
        rc = cli_error("cannot start: the records officers cannot be recorded");
        goto out;
    }
    cor_store_close(g_steal_pointer(&cli->store));
    s = cor_server_open(srv, cli->config, &err);
    if (s == COR_OK && !no_archive) {
        int debounce = (int) cor_config_int(cli->config, "archive", "debounce_ms");
        s = cor_archive_runner_start(archive, store_path, debounce,
                                     cor_config_int(cli->config, "archive", "full_build_at"),
                                     &runner, &err);
    }
    if (s == COR_OK && http_fd >= 0) {
        cor_http_options_t ho = {
            .listen = listen,
            .store_path = store_path,
            .index_path = index_path,
            .config = cli->config,
            .archive = archive,
            .listen_fd = g_steal_fd(&http_fd),
        };
        s = cor_http_start(&ho, &web, &err);
        reload.web = web;
        if (s == COR_OK)
            cor_log_info("the archive is at http://%s/ (port %d)", listen, cor_http_port(web));
    }
    /* digests at their slots: a thread of their own, sent by the outbound
     * worker as each batch commits */
    if (s == COR_OK && !no_digests)
        s = cor_digest_scheduler_start(cli->config, store_path, base_url, kick_outbound, srv,
                                       &digests, &err);
    if (s != COR_OK)
        rc = cli_error("cannot start: %s", err ? err : cor_status_to_string(s));
    else if ((s = cor_server_run(srv)) != COR_OK)
        rc = cli_error("stopped on an error: %s", cor_status_to_string(s));
out:
    if (http_fd >= 0)
        close(http_fd);
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
