/* mta-bridge/server.h — `corridor serve`: the LMTP daemon.
 *
 * Design notes
 * ------------
 * Threads and who owns what:
 *
 *   main thread    GLib main loop: listeners, every session's socket I/O and
 *                  LMTP state machine (lmtp.h), timeouts, signals, systemd
 *                  notifications.  Its own read-only use of the store:
 *                  recipient lookups at RCPT.
 *   parse pool     GThreadPool, one thread per CPU: parses each complete
 *                  message (intake.h) and hands it to the committer.
 *   committer      one thread, the only writer of the store: takes every
 *                  delivery waiting (up to [lmtp] commit_batch), stores them
 *                  in one transaction, commits, and hands the results back to
 *                  the main loop, which writes the replies.  While one commit
 *                  is syncing, the next batch gathers: grouped commit.
 *   indexer        one thread at lower CPU priority: works through the
 *                  'index' work queue (cor_ingest_catch_up) with its own
 *                  store handle, opening the index only while it has work so
 *                  that `corridor import` can run beside the daemon.
 *
 * A session waiting for its commit reads nothing more, so a client can have
 * one transaction in flight; many clients give the committer its batches.
 *
 * Shutdown (SIGTERM/SIGINT): listeners close at once; idle sessions get
 * 421 4.3.2; sessions in the middle of a message have [daemon]
 * shutdown_timeout to finish it; transactions already complete are
 * committed and answered; then the indexer stops after the batch in hand and
 * the process exits 0.  What the index has not caught up with stays queued.
 *
 * SIGHUP reloads the configuration file: limits, timeouts, domains, host
 * name, log level, then calls the `reloaded` callback.  Listeners stay as
 * they are (restart to change them).
 *
 * Start-up is in three steps so that a daemon started as root can drop its
 * privileges between binding and opening files (core/privilege.h):
 * cor_server_new binds the listeners and opens nothing else;
 * cor_server_open opens the store and the outbound worker; cor_server_run
 * starts the threads and serves.
 */
#ifndef COR_SERVER_H
#define COR_SERVER_H

#include <glib.h>
#include <sys/types.h>

#include "core/config.h"
#include "core/status.h"

typedef struct cor_server cor_server_t;

typedef struct cor_server_options {
    const char *config_path;        /* reloaded on SIGHUP (may be NULL) */
    bool config_explicit;           /* the config file must exist */
    const char *state_dir;
    const char *store_path;
    const char *index_path;
    const char *const *listen;      /* --lmtp values; NULL: from the config */
    /* called by the committer thread after each successful commit (may be
     * NULL): how derived work in other folders (the archive) hears of it */
    void (*committed)(void *data);
    void *committed_data;
    /* called on the main thread after SIGHUP reloaded the configuration
     * (may be NULL; `cfg` borrowed for the call): how parts in other
     * folders (the web's officer list, the records audit trail) hear of it */
    void (*reloaded)(const cor_config_t *cfg, void *data);
    void *reloaded_data;
    /* the outbound worker (outbound.h): the relay (NULL: [outbound] relay),
     * the base URL of generated links; `no_outbound` leaves the outbox for
     * `corridor outbox flush` */
    const char *relay;
    const char *base_url;
    bool no_outbound;
    /* `own_sockets`: the Unix sockets corridor creates are given to
     * socket_uid:socket_gid after binding (a daemon bound as root that
     * drops to that user and group) */
    bool own_sockets;
    uid_t socket_uid;
    gid_t socket_gid;
} cor_server_options_t;

/* Binds the listeners ([lmtp] listen or opt->listen; TCP only on loopback
 * unless [lmtp] allow_remote) and takes systemd's sockets; opens no file in
 * the state directory.  `cfg` is the configuration loaded by the caller
 * (transfer none).  On failure *out may still be set: free it.  *err
 * transfer full. */
cor_status_t cor_server_new(const cor_server_options_t *opt, const cor_config_t *cfg,
                            cor_server_t **out, char **err);

/* Opens the store and makes the outbound worker (which reads [outbound]
 * password_file), as the user the daemon serves as.  Call once after
 * cor_server_new, before cor_server_run.  `cfg` as for cor_server_new, and
 * it must outlive `srv` (the outbound worker reads it).  *err transfer full. */
cor_status_t cor_server_open(cor_server_t *srv, const cor_config_t *cfg, char **err);

/* Runs until SIGTERM/SIGINT and a clean shutdown.  COR_OK then;
 * COR_ERR_INVALID without cor_server_open. */
cor_status_t cor_server_run(cor_server_t *srv);

void cor_server_free(cor_server_t *srv);

/* New rows are in the outbox: the outbound worker looks now (any thread;
 * nothing with no_outbound).  The digest scheduler calls it. */
void cor_server_kick_outbound(cor_server_t *srv);

#endif
