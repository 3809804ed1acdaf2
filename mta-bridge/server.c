/* mta-bridge/server.c — the LMTP daemon.  Design notes: server.h. */
#include "mta-bridge/server.h"

#include <errno.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib-unix.h>
#include <malloc.h>
#include <sqlite3.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "core/ingest.h"
#include "core/log.h"
#include "core/search/search.h"
#include "core/store.h"
#include "mta-bridge/intake.h"
#include "mta-bridge/outbound.h"
#include "mta-bridge/lmtp.h"

#define READ_CHUNK 65536
#define OUT_HIGH_WATER 65536      /* stop reading while this much output waits */
#define GATHER_US 1000            /* longest wait for messages being parsed */
#define INDEX_INTERVAL_US 1000000 /* the indexer's rounds start at most this often */
#define CHECKPOINT_US 250000      /* WAL checkpoints, and malloc trims, this often */
#define WAL_RESTART_FRAMES 16384  /* a WAL this long (64 MiB of 4 KiB pages) is rewound */
#define WAL_RESTART_WAIT_MS 100   /* how long writers may wait for that */
#define WAL_RESTART_EVERY_US (5 * G_USEC_PER_SEC)  /* at most this often */
#define HEAP_LOG_EVERY_US (10 * G_USEC_PER_SEC)    /* CORRIDOR_HEAP_LOG's lines */

/* What the configuration decides; replaced as a whole on SIGHUP. */
typedef struct settings {
    cor_lmtp_limits_t limits;
    char *hostname;
    char **domains;               /* lowercase; empty: any */
    unsigned max_sessions;
    int64_t command_timeout_us;
    int64_t data_timeout_us;
    int64_t shutdown_timeout_us;
    unsigned commit_batch;
    int index_batch;
    int64_t busy_timeout_ms;
} settings_t;

typedef struct conn conn_t;

struct cor_server {
    char *config_path;
    bool config_explicit;
    char *store_path;
    char *index_path;
    settings_t set;

    GMainContext *ctx;
    GMainLoop *loop;
    cor_store_t *reader;          /* main thread: recipient lookups */
    GPtrArray *listeners;         /* listener_t* */
    GList *conns;                 /* conn_t*, open sessions */
    unsigned n_conns;
    uint64_t next_session;
    guint tick_id, sigterm_id, sigint_id, sighup_id;

    gint commit_batch;            /* [lmtp] commit_batch, read by the committer */
    gint parsing;                 /* deliveries handed to the parse pool, not yet
                                     queued for the committer (atomic) */
    GThreadPool *parse_pool;
    GAsyncQueue *commit_q;        /* cor_delivery_t*, or &stop_marker */
    GThread *committer;
    unsigned in_flight;           /* deliveries handed over, not yet answered */

    GThread *indexer;
    GThread *checkpointer;
    GMutex index_lock;
    GCond index_cond;
    bool index_kick;
    gint index_stop;

    GMutex site_lock;             /* guards `site`: SIGHUP replaces it */
    cor_filter_site_t *site;      /* the filters' [filters] defaults */

    bool stopping;
    int64_t stop_deadline_us;
    bool watchdog;
    uint64_t watchdog_us;

    void (*committed)(void *data);
    void *committed_data;
    void (*reloaded)(const cor_config_t *cfg, void *data);
    void *reloaded_data;
    cor_outbound_t *outbound;   /* NULL with no_outbound */
    bool no_outbound;
    char *relay, *base_url;       /* for cor_outbound_new in cor_server_open */
    bool opened;                  /* cor_server_open has run */
    bool own_sockets;             /* Unix sockets we create go to socket_uid/gid */
    uid_t socket_uid;
    gid_t socket_gid;

    /* counters, for STATUS= and the log */
    uint64_t n_delivered, n_sessions;
};

typedef struct listener {
    GSocket *sock;
    GSource *src;
    char *label;                  /* "unix:/path" or "127.0.0.1:2003" */
    char *unlink_path;            /* a socket file we created */
} listener_t;

struct conn {
    cor_server_t *srv;
    int refs;
    GSocket *sock;
    GSource *in_src, *out_src;
    cor_lmtp_session_t *lmtp;
    bool closed;
    bool waiting;                 /* a delivery is with the committer */
    bool eof;                     /* the client closed its side */
    int64_t last_us;
    char *peer;
};

static char stop_marker;

/* ---- settings ---- */

static void
settings_clear(settings_t *s)
{
    g_free(s->hostname);
    g_strfreev(s->domains);
    memset(s, 0, sizeof *s);
}

static void
settings_load(settings_t *s, const cor_config_t *cfg)
{
    settings_clear(s);
    s->limits.max_message_size = MIN((uint64_t) cor_config_int(cfg, "lmtp", "max_message_size"),
                                     COR_LMTP_SIZE_CAP);
    s->limits.max_recipients = (unsigned) MAX(1, cor_config_int(cfg, "lmtp", "max_recipients"));
    s->limits.max_line_length = (uint64_t) MAX(78, cor_config_int(cfg, "lmtp", "max_line_length"));
    const char *h = cor_config_string(cfg, "lmtp", "hostname");
    s->hostname = g_strdup(*h ? h : g_get_host_name());
    const char *const *d = cor_config_list(cfg, "lmtp", "domains");
    GPtrArray *doms = g_ptr_array_new();
    for (size_t i = 0; d && d[i]; i++)
        if (*d[i])
            g_ptr_array_add(doms, g_ascii_strdown(d[i], -1));
    g_ptr_array_add(doms, NULL);
    s->domains = (char **) g_ptr_array_free(doms, FALSE);
    s->max_sessions = (unsigned) MAX(1, cor_config_int(cfg, "lmtp", "max_sessions"));
    s->command_timeout_us = MAX(1, cor_config_int(cfg, "lmtp", "command_timeout")) * G_USEC_PER_SEC;
    s->data_timeout_us = MAX(1, cor_config_int(cfg, "lmtp", "data_timeout")) * G_USEC_PER_SEC;
    s->shutdown_timeout_us = cor_config_int(cfg, "daemon", "shutdown_timeout") * G_USEC_PER_SEC;
    s->commit_batch = (unsigned) MAX(1, cor_config_int(cfg, "lmtp", "commit_batch"));
    s->index_batch = (int) MAX(1, cor_config_int(cfg, "daemon", "index_batch"));
    s->busy_timeout_ms = cor_config_int(cfg, "store", "busy_timeout") * 1000;
}

static void
apply_log_level(const cor_config_t *cfg)
{
    static const char *const levels[] = { "debug", "info", "warning", "error" };
    const char *level = cor_config_string(cfg, "core", "log_level");
    for (int l = 0; l < 4; l++)
        if (strcmp(level, levels[l]) == 0 && g_getenv("CORRIDOR_DEBUG") == NULL)
            cor_log_set_level((cor_log_level_t) l);
}

/* ---- systemd ---- */

static void
notify_status(cor_server_t *srv)
{
    g_autofree char *msg = g_strdup_printf(
        "STATUS=%s: %u sessions, %" G_GUINT64_FORMAT " messages accepted",
        srv->stopping ? "stopping" : "accepting mail", srv->n_conns, srv->n_delivered);
    sd_notify(0, msg);
}

/* ---- recipients ---- */

static cor_status_t
resolve(const char *local, const char *domain, cor_lmtp_rcpt_t *r, void *data)
{
    cor_server_t *srv = data;
    return cor_lmtp_resolve(srv->reader, (const char *const *) srv->set.domains, local, domain, r);
}

/* ---- connections ---- */

static void conn_update_io(conn_t *c);
static void conn_close(conn_t *c);

static conn_t *
conn_ref(conn_t *c)
{
    c->refs++;
    return c;
}

static void
conn_unref(conn_t *c)
{
    if (--c->refs > 0)
        return;
    cor_lmtp_session_free(c->lmtp);
    g_clear_object(&c->sock);
    g_free(c->peer);
    g_free(c);
}

/* Sends what it can of the output without blocking. */
static void
conn_flush(conn_t *c)
{
    while (!c->closed) {
        size_t len;
        const char *out = cor_lmtp_session_output(c->lmtp, &len);
        if (len == 0)
            return;
        GError *e = NULL;
        gssize n = g_socket_send(c->sock, out, len, NULL, &e);
        if (n < 0) {
            if (!g_error_matches(e, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
                cor_log_debug("lmtp %s: cannot write: %s", cor_lmtp_session_id(c->lmtp), e->message);
                c->eof = true;
                /* nobody is listening: drop the output */
                cor_lmtp_session_consume(c->lmtp, len);
            }
            g_error_free(e);
            return;
        }
        cor_lmtp_session_consume(c->lmtp, (size_t) n);
        if (n > 0)
            c->last_us = g_get_monotonic_time();
    }
}

static void submit(conn_t *c);

/* After input or a commit: hand over a complete transaction, send, decide
 * what to wait for next. */
static void
conn_progress(conn_t *c)
{
    if (c->closed)
        return;
    if (cor_lmtp_session_state(c->lmtp) == COR_LMTP_WAIT && !c->waiting)
        submit(c);
    conn_flush(c);
    size_t pending;
    cor_lmtp_session_output(c->lmtp, &pending);
    cor_lmtp_state_t st = cor_lmtp_session_state(c->lmtp);
    /* closed: after QUIT or a 421 has been sent; or the client has gone and
     * everything it sent before going has been answered */
    if (pending == 0 && (st == COR_LMTP_CLOSED || (c->eof && !c->waiting && st != COR_LMTP_WAIT))) {
        conn_close(c);
        return;
    }
    conn_update_io(c);
}

static gboolean
on_readable(GSocket *sock, GIOCondition cond, gpointer data)
{
    conn_t *c = data;
    char buf[READ_CHUNK];
    GError *e = NULL;
    gssize n = g_socket_receive(sock, buf, sizeof buf, NULL, &e);
    if (n < 0) {
        if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
            g_error_free(e);
            return G_SOURCE_CONTINUE;
        }
        cor_log_debug("lmtp %s: cannot read: %s", cor_lmtp_session_id(c->lmtp), e->message);
        g_error_free(e);
        n = 0;
    }
    c->last_us = g_get_monotonic_time();
    conn_ref(c);
    if (n == 0)
        c->eof = true;
    else
        cor_lmtp_session_feed(c->lmtp, buf, (size_t) n);
    conn_progress(c);
    conn_unref(c);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_writable(GSocket *sock, GIOCondition cond, gpointer data)
{
    conn_t *c = data;
    conn_ref(c);
    conn_progress(c);
    conn_unref(c);
    return G_SOURCE_CONTINUE;
}

static void
conn_update_io(conn_t *c)
{
    if (c->closed)
        return;
    size_t pending;
    cor_lmtp_session_output(c->lmtp, &pending);
    cor_lmtp_state_t st = cor_lmtp_session_state(c->lmtp);
    bool want_read = !c->eof && !c->waiting && st != COR_LMTP_WAIT && st != COR_LMTP_CLOSED &&
                     pending < OUT_HIGH_WATER && !c->srv->stopping;
    /* while stopping, a session in the middle of a message may finish it */
    if (c->srv->stopping && st == COR_LMTP_DATA && !c->eof)
        want_read = pending < OUT_HIGH_WATER;
    bool want_write = pending > 0;
    if (want_read && !c->in_src) {
        c->in_src = g_socket_create_source(c->sock, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
        g_source_set_callback(c->in_src, (GSourceFunc) (void (*)(void)) on_readable, c, NULL);
        g_source_attach(c->in_src, c->srv->ctx);
    } else if (!want_read && c->in_src) {
        g_source_destroy(c->in_src);
        g_clear_pointer(&c->in_src, g_source_unref);
    }
    if (want_write && !c->out_src) {
        c->out_src = g_socket_create_source(c->sock, G_IO_OUT | G_IO_HUP | G_IO_ERR, NULL);
        g_source_set_callback(c->out_src, (GSourceFunc) (void (*)(void)) on_writable, c, NULL);
        g_source_attach(c->out_src, c->srv->ctx);
    } else if (!want_write && c->out_src) {
        g_source_destroy(c->out_src);
        g_clear_pointer(&c->out_src, g_source_unref);
    }
}

static void
conn_close(conn_t *c)
{
    if (c->closed)
        return;
    c->closed = true;
    if (c->in_src) {
        g_source_destroy(c->in_src);
        g_clear_pointer(&c->in_src, g_source_unref);
    }
    if (c->out_src) {
        g_source_destroy(c->out_src);
        g_clear_pointer(&c->out_src, g_source_unref);
    }
    g_socket_close(c->sock, NULL);
    cor_server_t *srv = c->srv;
    srv->conns = g_list_remove(srv->conns, c);
    srv->n_conns--;
    cor_log_debug("lmtp %s: closed", cor_lmtp_session_id(c->lmtp));
    conn_unref(c);
    if (srv->stopping && srv->n_conns == 0 && srv->in_flight == 0)
        g_main_loop_quit(srv->loop);
}

/* ---- deliveries ---- */

static void
parse_job(gpointer data, gpointer user)
{
    cor_server_t *srv = user;
    cor_delivery_t *d = data;
    cor_delivery_parse(d);
    g_async_queue_push(srv->commit_q, d);
    g_atomic_int_dec_and_test(&srv->parsing);
}

static void
submit(conn_t *c)
{
    cor_lmtp_envelope_t *env = cor_lmtp_session_take(c->lmtp);
    if (!env)
        return;
    cor_delivery_t *d = cor_delivery_new(env, (int64_t) time(NULL));
    d->user = conn_ref(c);
    c->waiting = true;
    c->srv->in_flight++;
    g_atomic_int_inc(&c->srv->parsing);
    g_thread_pool_push(c->srv->parse_pool, d, NULL);
}

/* One line per transaction: session, envelope, each recipient's result,
 * size, milliseconds from MAIL to the replies. */
static void
log_transaction(const cor_delivery_t *d)
{
    const cor_lmtp_envelope_t *e = d->env;
    GString *rcpts = g_string_new(NULL);
    for (guint i = 0; i < e->rcpts->len; i++) {
        const cor_lmtp_rcpt_t *r = g_ptr_array_index(e->rcpts, i);
        const cor_smtp_reply_t *rep = cor_status_smtp(d->results[i]);
        g_string_append_printf(rcpts, "%s<%s> %d %s", i ? ", " : "", r->address, rep->code,
                               rep->enhanced);
        /* every filter's step, by name (filters/filter.h) */
        if (d->traces[i])
            g_string_append_printf(rcpts, " [%s]", d->traces[i]);
    }
    gsize size = g_bytes_get_size(e->data);
    int64_t ms = (d->done_us - e->started_us) / 1000;
    g_autofree char *f_from = g_strdup_printf("CORRIDOR_FROM=%s", e->from);
    g_autofree char *f_rcpt = g_strdup_printf("CORRIDOR_RCPTS=%s", rcpts->str);
    g_autofree char *f_size = g_strdup_printf("CORRIDOR_SIZE=%" G_GSIZE_FORMAT, size);
    g_autofree char *f_ms = g_strdup_printf("CORRIDOR_MS=%" G_GINT64_FORMAT, ms);
    g_autofree char *f_mid = g_strdup_printf("CORRIDOR_MESSAGE_ID=%s",
                                             d->msg ? d->msg->message_id : "");
    const char *fields[] = { f_from, f_rcpt, f_size, f_ms, f_mid, NULL };
    guint ok = cor_delivery_accepted(d);
    cor_log_fields(ok == e->rcpts->len ? COR_LOG_INFO : COR_LOG_WARNING, e->session, fields,
                   "from=<%s> message-id=<%s> size=%" G_GSIZE_FORMAT " ms=%" G_GINT64_FORMAT
                   " rcpt: %s", e->from, d->msg ? d->msg->message_id : "", size, ms, rcpts->str);
    g_string_free(rcpts, TRUE);
}

/* Main thread: the committer has decided. */
static gboolean
delivered(gpointer data)
{
    cor_delivery_t *d = data;
    conn_t *c = d->user;
    cor_server_t *srv = c->srv;
    srv->in_flight--;
    srv->n_delivered += cor_delivery_accepted(d);
    log_transaction(d);
    c->waiting = false;
    c->last_us = g_get_monotonic_time();
    if (!c->closed) {
        cor_lmtp_session_finish(c->lmtp, d->results, (const char *const *) d->details);
        if (srv->stopping && cor_lmtp_session_state(c->lmtp) != COR_LMTP_CLOSED) {
            /* answer what was asked, then say goodbye */
            conn_flush(c);
            cor_lmtp_session_abort(c->lmtp, COR_ERR_SHUTDOWN);
        } else {
            cor_lmtp_session_feed(c->lmtp, NULL, 0);
        }
        conn_progress(c);
    }
    conn_unref(c);
    cor_delivery_free(d);
    if (srv->stopping && srv->n_conns == 0 && srv->in_flight == 0)
        g_main_loop_quit(srv->loop);
    return G_SOURCE_REMOVE;
}

static void
kick_indexer(cor_server_t *srv)
{
    g_mutex_lock(&srv->index_lock);
    srv->index_kick = true;
    g_cond_broadcast(&srv->index_cond);
    g_mutex_unlock(&srv->index_lock);
}

typedef struct committer_args {
    cor_server_t *srv;
    cor_store_t *st;
} committer_args_t;

static gpointer
committer_main(gpointer data)
{
    committer_args_t *a = data;
    cor_server_t *srv = a->srv;
    GPtrArray *batch = g_ptr_array_new();
    cor_intake_cache_t *cache = cor_intake_cache_new();
    bool stop = false;
    while (!stop) {
        gpointer item = g_async_queue_pop(srv->commit_q);
        g_ptr_array_set_size(batch, 0);
        if (item == &stop_marker)
            break;
        g_ptr_array_add(batch, item);
        unsigned max = (unsigned) g_atomic_int_get(&srv->commit_batch);
        /* Take what is waiting; and while messages already received are
         * still being parsed (a few hundred microseconds each), wait for
         * them a little: one commit for all of them costs one fsync, a
         * commit each costs one fsync each. */
        gint64 until = g_get_monotonic_time() + GATHER_US;
        while (batch->len < max) {
            item = g_async_queue_try_pop(srv->commit_q);
            if (!item && g_atomic_int_get(&srv->parsing) > 0) {
                gint64 left = until - g_get_monotonic_time();
                if (left > 0)
                    item = g_async_queue_timeout_pop(srv->commit_q, (guint64) left);
            }
            if (!item)
                break;
            if (item == &stop_marker) {
                stop = true;
                break;
            }
            g_ptr_array_add(batch, item);
        }
        g_autofree char *err = NULL;
        g_mutex_lock(&srv->site_lock);
        cor_filter_site_t *site = cor_filter_site_ref(srv->site);
        g_mutex_unlock(&srv->site_lock);
        cor_status_t s = cor_delivery_store(a->st, site, cache, (cor_delivery_t **) batch->pdata,
                                            batch->len, &err);
        cor_filter_site_unref(site);
        if (s != COR_OK)
            cor_log_error("cannot store %u message%s: %s (the MTA will retry)", batch->len,
                          batch->len == 1 ? "" : "s", err ? err : cor_status_to_string(s));
        else
            cor_log_debug("committed %u message%s", batch->len, batch->len == 1 ? "" : "s");
        /* read before the deliveries are handed over (the main loop frees them) */
        bool wake = false;
        for (guint i = 0; i < batch->len; i++)
            wake = wake || ((cor_delivery_t *) g_ptr_array_index(batch, i))->wakes_outbound;
        /* the answers are written by the main loop, never by this thread */
        for (guint i = 0; i < batch->len; i++) {
            GSource *src = g_idle_source_new();
            g_source_set_priority(src, G_PRIORITY_DEFAULT);
            g_source_set_callback(src, delivered, g_ptr_array_index(batch, i), NULL);
            g_source_attach(src, srv->ctx);
            g_source_unref(src);
        }
        if (s == COR_OK) {
            kick_indexer(srv);
            if (wake && srv->outbound)
                cor_outbound_kick(srv->outbound);
            if (srv->committed)
                srv->committed(srv->committed_data);
        }
    }
    g_ptr_array_unref(batch);
    cor_intake_cache_free(cache);
    cor_store_close(a->st);
    g_free(a);
    return NULL;
}

/* ---- the indexer ---- */

typedef struct indexer_args {
    cor_server_t *srv;
    cor_store_t *st;
    char *index_path;
    int batch;
} indexer_args_t;

static gpointer
indexer_main(gpointer data)
{
    indexer_args_t *a = data;
    cor_server_t *srv = a->srv;
    /* intake comes first: the index may lag (threads inherit this) */
    if (setpriority(PRIO_PROCESS, (id_t) syscall(SYS_gettid), 19) != 0)
        cor_log_debug("cannot lower the indexer's priority: %s", g_strerror(errno));
    bool first = true;
    while (!g_atomic_int_get(&srv->index_stop)) {
        if (!first) {
            /* Rounds at most once a second: the index lags by about that
             * much, and a trickle of mail does not cost an index commit
             * (several fsyncs) per message, in the way of intake's own. */
            g_mutex_lock(&srv->index_lock);
            gint64 rest = g_get_monotonic_time() + INDEX_INTERVAL_US;
            while (!g_atomic_int_get(&srv->index_stop))
                if (!g_cond_wait_until(&srv->index_cond, &srv->index_lock, rest))
                    break;
            gint64 until = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
            while (!srv->index_kick && !g_atomic_int_get(&srv->index_stop))
                if (!g_cond_wait_until(&srv->index_cond, &srv->index_lock, until))
                    break;
            srv->index_kick = false;
            g_mutex_unlock(&srv->index_lock);
        }
        first = false;
        if (g_atomic_int_get(&srv->index_stop))
            break;
        int64_t pending = 0;
        if (cor_store_work_count(a->st, "index", &pending) != COR_OK || pending == 0)
            continue;
        cor_search_writer_t *w = NULL;
        g_autofree char *err = NULL;
        cor_status_t s = cor_search_writer_open(a->index_path, &w, &err);
        if (s == COR_ERR_BUSY)
            continue;                   /* `corridor import` or reindex has it: later */
        if (s != COR_OK) {
            cor_log_error("cannot open index '%s': %s", a->index_path, err);
            continue;
        }
        cor_ingest_options_t opt = { .workers = 1, .batch = a->batch, .cancel = &srv->index_stop,
                                     .private_threads = true };
        cor_ingest_stats_t stats;
        s = cor_ingest_catch_up(a->st, w, &opt, &stats, &err);
        if (s != COR_OK)
            cor_log_error("indexing stopped: %s (will retry)", err ? err : cor_status_to_string(s));
        else
            cor_log_debug("indexed %" G_GUINT64_FORMAT " messages", stats.indexed);
        g_clear_pointer(&err, g_free);
        if (cor_search_writer_close(w) != COR_OK)
            cor_log_error("cannot close index '%s'", a->index_path);
    }
    cor_store_close(a->st);
    g_free(a->index_path);
    g_free(a);
    return NULL;
}

/* ---- the checkpointer ---- */

/* With CORRIDOR_HEAP_LOG set (a diagnostic for the soak, docs/hardening.md)
 * the checkpointer writes every 10 s what malloc holds in use and free, and
 * the kinds of resident memory, so that RSS growth can be told apart:
 * allocations kept, free memory malloc keeps, or file pages. */
static void
log_heap(int trims, gint64 trim_us, gint64 trim_max_us)
{
    struct mallinfo2 mi = mallinfo2();
    g_autofree char *status = NULL;
    long anon = -1, file = -1, shmem = -1;
    if (g_file_get_contents("/proc/self/status", &status, NULL, NULL)) {
        const char *p;
        if ((p = strstr(status, "RssAnon:")))
            anon = strtol(p + 8, NULL, 10);
        if ((p = strstr(status, "RssFile:")))
            file = strtol(p + 8, NULL, 10);
        if ((p = strstr(status, "RssShmem:")))
            shmem = strtol(p + 9, NULL, 10);
    }
    sqlite3_int64 sq = 0, sq_peak = 0;
    sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &sq, &sq_peak, 0);
    /* each arena: what it has from the system and how much of it is free,
     * in how many chunks (malloc_info's XML, one <heap> per arena) */
    g_autoptr(GString) arenas = g_string_new(NULL);
    char *xml = NULL;
    size_t xml_len = 0;
    FILE *mf = open_memstream(&xml, &xml_len);
    if (mf) {
        malloc_info(0, mf);
        fclose(mf);
        static const char HEAP[] = "<heap nr=\"", REST[] = "<total type=\"rest\" count=\"",
                          SYS[] = "<system type=\"current\" size=\"", SIZE[] = "size=\"";
        for (const char *h = xml ? strstr(xml, HEAP) : NULL; h != NULL;) {
            const char *next = strstr(h + 1, HEAP);
            const char *rest = strstr(h, REST), *sys = strstr(h, SYS);
            if (rest && sys && (!next || (rest < next && sys < next))) {
                char *e = NULL;
                long count = strtol(rest + sizeof REST - 1, &e, 10);
                const char *sz = e ? strstr(e, SIZE) : NULL;
                long size = sz ? strtol(sz + sizeof SIZE - 1, NULL, 10) : 0;
                g_string_append_printf(arenas, " %ld:%ld/%ld/%ld",
                                       strtol(h + sizeof HEAP - 1, NULL, 10),
                                       strtol(sys + sizeof SYS - 1, NULL, 10) / 1024, size / 1024,
                                       count);
            }
            h = next;
        }
        free(xml);
    }
    cor_log_info("heap: in use %zu KiB (SQLite %lld KiB), free %zu KiB (top %zu), "
                 "mmapped %zu KiB; resident anon %ld KiB, file %ld KiB, shmem %ld KiB; "
                 "%d trims took %.1f ms (longest %.1f ms); arenas (KiB from the system/free/"
                 "free chunks):%s",
                 mi.uordblks / 1024, (long long) (sq / 1024), mi.fordblks / 1024,
                 mi.keepcost / 1024, mi.hblkhd / 1024, anon, file, shmem,
                 trims, trim_us / 1000.0, trim_max_us / 1000.0, arenas->str);
}

typedef struct checkpointer_args {
    cor_server_t *srv;
    cor_store_t *st;
} checkpointer_args_t;

/* Copies the WAL into the database a few times a second (PASSIVE: never in
 * a writer's way), so that no commit carries a checkpoint.  Under steady
 * load a PASSIVE checkpoint never rewinds the WAL (some reader always uses
 * it), so once it is WAL_RESTART_FRAMES long a RESTART checkpoint waits up
 * to WAL_RESTART_WAIT_MS for the readers, writers held meanwhile
 * (cor_store_checkpoint_restart).  Stops with the indexer. */
static gpointer
checkpointer_main(gpointer data)
{
    checkpointer_args_t *a = data;
    cor_server_t *srv = a->srv;
    if (setpriority(PRIO_PROCESS, (id_t) syscall(SYS_gettid), 10) != 0)
        cor_log_debug("cannot lower the checkpointer's priority: %s", g_strerror(errno));
    gint64 last_restart = 0;
    int rewound_at = -1;         /* the WAL's length at the last RESTART */
    bool heap_log = g_getenv("CORRIDOR_HEAP_LOG") != NULL;
    gint64 last_log = 0, trim_us = 0, trim_max_us = 0;
    int trims = 0;
    while (!g_atomic_int_get(&srv->index_stop)) {
        g_mutex_lock(&srv->index_lock);
        gint64 until = g_get_monotonic_time() + CHECKPOINT_US;
        while (!g_atomic_int_get(&srv->index_stop))
            if (!g_cond_wait_until(&srv->index_cond, &srv->index_lock, until))
                break;
        g_mutex_unlock(&srv->index_lock);
        int frames = 0;
        if (cor_store_checkpoint(a->st, &frames, NULL) != COR_OK) {
            cor_log_warning("checkpoint: %s", cor_store_error(a->st));
            continue;
        }
        gint64 now = g_get_monotonic_time();
        /* every checkpoint (4 times a second): what a busy moment freed (a
         * render round, an index batch, a digest run, a burst of searches)
         * stays resident in glibc's arenas until trimmed, and as the arenas
         * fragment over a run the same work touches more pages between two
         * trims.  Trimming every 10 s left the soak's RSS 49 % up, every
         * second 12-18 %, every 250 ms 7-8 % (docs/hardening.md).  A trim
         * takes about 4 ms (at most 100 ms): 1-2 % of one CPU. */
        malloc_trim(0);
        gint64 took = g_get_monotonic_time() - now;
        trims++;
        trim_us += took;
        trim_max_us = MAX(trim_max_us, took);
        if (heap_log && now - last_log >= HEAP_LOG_EVERY_US) {
            last_log = now;
            log_heap(trims, trim_us, trim_max_us);
            trims = 0;
            trim_us = trim_max_us = 0;
        }
        /* after a RESTART the WAL keeps its length until the next writer
         * starts it again: nothing to do while it is as long as we left it */
        if (frames != rewound_at)
            rewound_at = -1;
        if (frames >= WAL_RESTART_FRAMES && frames != rewound_at &&
            now - last_restart >= WAL_RESTART_EVERY_US) {
            last_restart = now;
            bool restarted = false;
            if (cor_store_checkpoint_restart(a->st, WAL_RESTART_WAIT_MS, &restarted) != COR_OK)
                cor_log_warning("checkpoint: %s", cor_store_error(a->st));
            else
                cor_log_debug("checkpoint: WAL of %d frames %s", frames,
                              restarted ? "rewound" : "still in use (readers): later");
            if (restarted)
                rewound_at = frames;
        }
    }
    cor_store_checkpoint(a->st, NULL, NULL);
    cor_store_close(a->st);
    g_free(a);
    return NULL;
}

/* ---- accepting ---- */

static gboolean
on_accept(GSocket *lsock, GIOCondition cond, gpointer data)
{
    cor_server_t *srv = data;
    for (int i = 0; i < 64; i++) {
        GError *e = NULL;
        GSocket *sock = g_socket_accept(lsock, NULL, &e);
        if (!sock) {
            if (!g_error_matches(e, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
                cor_log_warning("cannot accept a connection: %s", e->message);
            g_error_free(e);
            break;
        }
        g_socket_set_blocking(sock, FALSE);
        if (srv->stopping || srv->n_conns >= srv->set.max_sessions) {
            g_autofree char *t = cor_lmtp_reply_text(srv->stopping ? COR_ERR_SHUTDOWN
                                                                   : COR_ERR_OVERLOADED, NULL);
            g_autofree char *line = g_strconcat(t, "\r\n", NULL);
            g_socket_send(sock, line, strlen(line), NULL, NULL);
            g_socket_close(sock, NULL);
            g_object_unref(sock);
            if (!srv->stopping)
                cor_log_warning("lmtp: refused a connection: %u sessions open (the limit)",
                                srv->n_conns);
            continue;
        }
        conn_t *c = g_new0(conn_t, 1);
        c->srv = srv;
        c->refs = 1;
        c->sock = sock;
        c->last_us = g_get_monotonic_time();
        g_autofree char *id = g_strdup_printf("L%05x%04" G_GINT64_MODIFIER "x",
                                              (unsigned) (getpid() & 0xfffff),
                                              (gint64) (++srv->next_session & 0xffffffff));
        c->lmtp = cor_lmtp_session_new(id, srv->set.hostname, &srv->set.limits, resolve, srv);
        srv->conns = g_list_prepend(srv->conns, c);
        srv->n_conns++;
        srv->n_sessions++;
        cor_log_debug("lmtp %s: connected", id);
        conn_progress(c);
    }
    return G_SOURCE_CONTINUE;
}

static void
listener_free(listener_t *l)
{
    if (!l)
        return;
    if (l->src) {
        g_source_destroy(l->src);
        g_source_unref(l->src);
    }
    if (l->sock) {
        g_socket_close(l->sock, NULL);
        g_object_unref(l->sock);
    }
    if (l->unlink_path)
        unlink(l->unlink_path);
    g_free(l->unlink_path);
    g_free(l->label);
    g_free(l);
}

static bool
is_loopback(GInetAddress *a)
{
    return g_inet_address_get_is_loopback(a);
}

/* Binds "unix:PATH" or "HOST:PORT". */
static cor_status_t
bind_listener(cor_server_t *srv, const char *spec, const cor_config_t *cfg, listener_t **out,
              char **err)
{
    GError *e = NULL;
    GSocket *sock = NULL;
    GSocketAddress *addr = NULL;
    listener_t *l = g_new0(listener_t, 1);
    l->label = g_strdup(spec);
    if (g_str_has_prefix(spec, "unix:")) {
        const char *path = spec + 5;
        if (!*path) {
            *err = g_strdup_printf("listener '%s': no socket path", spec);
            listener_free(l);
            return COR_ERR_CONFIG;
        }
        struct stat st;
        if (lstat(path, &st) == 0) {
            if (!S_ISSOCK(st.st_mode)) {
                *err = g_strdup_printf("listener '%s': '%s' exists and is not a socket", spec, path);
                listener_free(l);
                return COR_ERR_CONFIG;
            }
            unlink(path);   /* left by a daemon that was killed */
        }
        sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &e);
        addr = g_unix_socket_address_new(path);
        l->unlink_path = g_strdup(path);
    } else {
        const char *colon = strrchr(spec, ':');
        char *end = NULL;
        guint64 port = colon ? g_ascii_strtoull(colon + 1, &end, 10) : 0;
        if (!colon || !end || *end || port == 0 || port > 65535) {
            *err = g_strdup_printf("listener '%s': expected unix:PATH or HOST:PORT", spec);
            listener_free(l);
            return COR_ERR_CONFIG;
        }
        g_autofree char *host = g_strndup(spec, colon - spec);
        if (host[0] == '[' && host[strlen(host) - 1] == ']') {
            memmove(host, host + 1, strlen(host));
            host[strlen(host) - 1] = '\0';
        }
        g_autoptr(GInetAddress) ia = g_inet_address_new_from_string(host);
        if (!ia) {
            *err = g_strdup_printf("listener '%s': '%s' is not an IP address", spec, host);
            listener_free(l);
            return COR_ERR_CONFIG;
        }
        if (!is_loopback(ia) && !cor_config_bool(cfg, "lmtp", "allow_remote")) {
            *err = g_strdup_printf("listener '%s' is not on loopback: LMTP has no authentication "
                                   "(set [lmtp] allow_remote = true to allow it)", spec);
            listener_free(l);
            return COR_ERR_CONFIG;
        }
        sock = g_socket_new(g_inet_address_get_family(ia), G_SOCKET_TYPE_STREAM,
                            G_SOCKET_PROTOCOL_TCP, &e);
        addr = g_inet_socket_address_new(ia, (guint16) port);
    }
    if (sock)
        g_socket_set_listen_backlog(sock, 128);
    if (!sock || !g_socket_bind(sock, addr, TRUE, &e) || !g_socket_listen(sock, &e)) {
        *err = g_strdup_printf("cannot listen on '%s': %s", spec, e ? e->message : "?");
        g_clear_error(&e);
        g_clear_object(&sock);
        g_clear_object(&addr);
        g_clear_pointer(&l->unlink_path, g_free);
        listener_free(l);
        return COR_ERR_IO;
    }
    g_object_unref(addr);
    if (l->unlink_path) {
        const char *mode = cor_config_string(cfg, "lmtp", "socket_mode");
        char *end = NULL;
        guint64 m = g_ascii_strtoull(mode, &end, 8);
        if (!*mode || *end || m > 0777) {
            *err = g_strdup_printf("[lmtp] socket_mode '%s' is not an octal file mode such as 0660",
                                   mode);
            listener_free(l);
            g_object_unref(sock);
            return COR_ERR_CONFIG;
        }
        if (chmod(l->unlink_path, (mode_t) m) != 0) {
            *err = g_strdup_printf("cannot set mode %s on '%s': %s", mode, l->unlink_path,
                                   g_strerror(errno));
            listener_free(l);
            g_object_unref(sock);
            return COR_ERR_IO;
        }
        /* bound as root for a daemon that then drops to its own user: the
         * socket is that user's, as if it had made it */
        if (srv->own_sockets && chown(l->unlink_path, srv->socket_uid, srv->socket_gid) != 0) {
            *err = g_strdup_printf("cannot give '%s' to uid %ld gid %ld: %s", l->unlink_path,
                                   (long) srv->socket_uid, (long) srv->socket_gid,
                                   g_strerror(errno));
            listener_free(l);
            g_object_unref(sock);
            return COR_ERR_IO;
        }
    }
    l->sock = sock;
    *out = l;
    return COR_OK;
}

static void
listener_start(cor_server_t *srv, listener_t *l)
{
    g_socket_set_blocking(l->sock, FALSE);
    l->src = g_socket_create_source(l->sock, G_IO_IN, NULL);
    g_source_set_callback(l->src, (GSourceFunc) (void (*)(void)) on_accept, srv, NULL);
    g_source_attach(l->src, srv->ctx);
}

/* Sockets passed by systemd (corridor-lmtp.socket).  Names other than
 * "lmtp" (FileDescriptorName=) are left for later issues' listeners. */
static cor_status_t
systemd_listeners(cor_server_t *srv, char **err)
{
    char **names = NULL;
    int n = sd_listen_fds_with_names(1, &names);
    if (n < 0) {
        *err = g_strdup_printf("cannot take the sockets systemd passed: %s", g_strerror(-n));
        return COR_ERR_IO;
    }
    for (int i = 0; i < n; i++) {
        int fd = SD_LISTEN_FDS_START + i;
        const char *name = names && names[i] ? names[i] : "lmtp";
        if (strcmp(name, "lmtp") != 0 && strcmp(name, "unknown") != 0 &&
            !g_str_has_prefix(name, "corridor")) {
            cor_log_warning("ignoring socket '%s' from systemd (not for LMTP)", name);
            continue;
        }
        GError *e = NULL;
        GSocket *sock = g_socket_new_from_fd(fd, &e);
        if (!sock) {
            *err = g_strdup_printf("socket %d from systemd: %s", fd, e->message);
            g_error_free(e);
            return COR_ERR_IO;
        }
        listener_t *l = g_new0(listener_t, 1);
        l->sock = sock;
        l->label = g_strdup_printf("systemd:%s", name);
        g_ptr_array_add(srv->listeners, l);
    }
    if (names) {
        for (int i = 0; i < n; i++)
            free(names[i]);
        free(names);
    }
    return COR_OK;
}

/* ---- signals and time ---- */

static void
begin_shutdown(cor_server_t *srv)
{
    if (srv->stopping)
        return;
    srv->stopping = true;
    srv->stop_deadline_us = g_get_monotonic_time() + srv->set.shutdown_timeout_us;
    sd_notify(0, "STOPPING=1");
    cor_log_info("stopping: %u sessions open, %u messages being stored", srv->n_conns,
                 srv->in_flight);
    g_ptr_array_set_size(srv->listeners, 0);   /* no more connections */
    GList *copy = g_list_copy(srv->conns);
    for (GList *l = copy; l; l = l->next) {
        conn_t *c = l->data;
        cor_lmtp_state_t st = cor_lmtp_session_state(c->lmtp);
        if (st != COR_LMTP_DATA && st != COR_LMTP_WAIT && !c->waiting) {
            cor_lmtp_session_abort(c->lmtp, COR_ERR_SHUTDOWN);
            conn_progress(c);
        } else {
            conn_update_io(c);
        }
    }
    g_list_free(copy);
    if (srv->n_conns == 0 && srv->in_flight == 0)
        g_main_loop_quit(srv->loop);
}

static gboolean
on_sigterm(gpointer data)
{
    begin_shutdown(data);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_sighup(gpointer data)
{
    cor_server_t *srv = data;
    cor_config_t *cfg = NULL;
    cor_filter_site_t *site = NULL;
    g_autofree char *err = NULL;
    sd_notify(0, "RELOADING=1");
    cor_status_t s = cor_config_load(srv->config_path, srv->config_explicit, &cfg, &err);
    if (s != COR_OK) {
        cor_log_error("configuration not reloaded, keeping the old one: %s", err);
    } else if ((s = cor_filter_site_new(cfg, &site, &err)) != COR_OK) {
        cor_log_error("configuration not reloaded, keeping the old one: %s", err);
        cor_config_free(cfg);
    } else {
        g_mutex_lock(&srv->site_lock);
        cor_filter_site_t *old = srv->site;
        srv->site = site;
        g_mutex_unlock(&srv->site_lock);
        cor_filter_site_unref(old);
        settings_t next = { 0 };
        settings_load(&next, cfg);
        g_atomic_int_set(&srv->commit_batch, (gint) next.commit_batch);
        settings_clear(&srv->set);
        srv->set = next;
        apply_log_level(cfg);
        for (GList *l = srv->conns; l; l = l->next)
            cor_lmtp_session_set_limits(((conn_t *) l->data)->lmtp, &srv->set.limits);
        cor_log_info("configuration reloaded from '%s'", srv->config_path ? srv->config_path : "(defaults)");
        if (srv->reloaded)
            srv->reloaded(cfg, srv->reloaded_data);
        cor_config_free(cfg);
    }
    sd_notify(0, "READY=1");
    return G_SOURCE_CONTINUE;
}

/* Every second: timeouts, the shutdown deadline, STATUS=, log summaries. */
static gboolean
on_tick(gpointer data)
{
    cor_server_t *srv = data;
    int64_t now = g_get_monotonic_time();
    /* summaries of repeated log lines whose window has passed (core/log.h) */
    cor_log_tick();
    GList *copy = g_list_copy(srv->conns);
    for (GList *l = copy; l; l = l->next) {
        conn_t *c = l->data;
        if (c->closed || c->waiting)
            continue;
        cor_lmtp_state_t st = cor_lmtp_session_state(c->lmtp);
        if (st == COR_LMTP_WAIT)
            continue;
        int64_t limit = st == COR_LMTP_DATA ? srv->set.data_timeout_us : srv->set.command_timeout_us;
        bool late = now - c->last_us > limit;
        bool shutdown = srv->stopping && now > srv->stop_deadline_us;
        if (!late && !shutdown)
            continue;
        conn_ref(c);
        if (st == COR_LMTP_CLOSED) {
            /* said goodbye, but the client does not read what is left */
            cor_log_info("lmtp %s: closing: the client does not read its replies",
                         cor_lmtp_session_id(c->lmtp));
        } else {
            if (late)
                cor_log_info("lmtp %s: timed out %s", cor_lmtp_session_id(c->lmtp),
                             st == COR_LMTP_DATA ? "receiving a message" : "waiting for a command");
            cor_lmtp_session_abort(c->lmtp, shutdown ? COR_ERR_SHUTDOWN : COR_ERR_TIMEOUT);
            c->eof = true;
            conn_progress(c);
        }
        if (!c->closed)
            conn_close(c);   /* what could not be sent is dropped */
        conn_unref(c);
    }
    g_list_free(copy);
    static int64_t last_status;
    if (now - last_status > 10 * G_USEC_PER_SEC) {
        notify_status(srv);
        last_status = now;
    }
    return G_SOURCE_CONTINUE;
}

/* Half the watchdog interval: the main loop is alive. */
static gboolean
on_watchdog(gpointer data)
{
    sd_notify(0, "WATCHDOG=1");
    return G_SOURCE_CONTINUE;
}

/* ---- life ---- */

cor_status_t
cor_server_new(const cor_server_options_t *opt, const cor_config_t *cfg, cor_server_t **out,
               char **err)
{
    *out = NULL;
    cor_server_t *srv = g_new0(cor_server_t, 1);
    srv->config_path = g_strdup(opt->config_path);
    srv->config_explicit = opt->config_explicit;
    srv->store_path = g_strdup(opt->store_path);
    srv->index_path = g_strdup(opt->index_path);
    srv->committed = opt->committed;
    srv->committed_data = opt->committed_data;
    srv->reloaded = opt->reloaded;
    srv->reloaded_data = opt->reloaded_data;
    srv->no_outbound = opt->no_outbound;
    srv->relay = g_strdup(opt->relay);
    srv->base_url = g_strdup(opt->base_url);
    srv->own_sockets = opt->own_sockets;
    srv->socket_uid = opt->socket_uid;
    srv->socket_gid = opt->socket_gid;
    settings_load(&srv->set, cfg);
    srv->commit_batch = (gint) srv->set.commit_batch;
    srv->listeners = g_ptr_array_new_with_free_func((GDestroyNotify) listener_free);
    g_mutex_init(&srv->index_lock);
    g_cond_init(&srv->index_cond);
    g_mutex_init(&srv->site_lock);
    *out = srv;

    cor_status_t fs = cor_filter_site_new(cfg, &srv->site, err);
    if (fs != COR_OK)
        return fs;
    if (g_strcmp0(g_getenv("CORRIDOR_BENCH_NO_FILTERS"), "1") == 0) {
        cor_intake_set_filters(false);
        cor_log_warning("CORRIDOR_BENCH_NO_FILTERS=1: the filters are OFF, every post is "
                        "accepted (for benchmarks only)");
    }

    /* the listeners only: nothing in the state directory is opened before
     * cor_server_open, so that a daemon started as root binds, drops its
     * privileges, and only then opens (and creates) files */
    cor_status_t s;
    if ((s = systemd_listeners(srv, err)) != COR_OK)
        return s;
    const char *const *specs = opt->listen;
    if (!specs || !specs[0])
        specs = cor_config_list(cfg, "lmtp", "listen");
    g_autofree char *dflt = NULL;
    const char *one[2] = { NULL, NULL };
    if ((!specs || !specs[0] || !*specs[0]) && srv->listeners->len == 0) {
        dflt = g_strdup_printf("unix:%s/lmtp.sock", opt->state_dir);
        one[0] = dflt;
        specs = one;
    }
    for (size_t i = 0; specs && specs[i]; i++) {
        if (!*specs[i])
            continue;
        listener_t *l = NULL;
        if ((s = bind_listener(srv, specs[i], cfg, &l, err)) != COR_OK)
            return s;
        g_ptr_array_add(srv->listeners, l);
    }
    return COR_OK;
}

cor_status_t
cor_server_open(cor_server_t *srv, const cor_config_t *cfg, char **err)
{
    *err = NULL;
    if (!srv->no_outbound && !srv->outbound) {
        g_autofree char *base = srv->base_url ? g_strdup(srv->base_url)
                                              : cor_config_base_url(cfg, NULL);
        cor_status_t os = cor_outbound_new(srv->store_path, cfg, srv->relay, base,
                                           &srv->outbound, err);
        if (os != COR_OK)
            return os;
    }
    if (!srv->reader) {
        cor_status_t s = cor_store_open(srv->store_path, false, &srv->reader, err);
        if (s != COR_OK)
            return s;
        cor_store_set_busy_timeout(srv->reader, srv->set.busy_timeout_ms);
    }
    srv->opened = true;
    return COR_OK;
}

cor_status_t
cor_server_run(cor_server_t *srv)
{
    if (!srv->opened) {
        cor_log_error("cor_server_run: cor_server_open was not called");
        return COR_ERR_INVALID;
    }
    srv->ctx = g_main_context_ref_thread_default();
    srv->loop = g_main_loop_new(srv->ctx, FALSE);
    signal(SIGPIPE, SIG_IGN);
    /* a file size limit (RLIMIT_FSIZE) must fail the write, not kill the
     * daemon: the store then answers 452 4.3.1 like a full disk */
    signal(SIGXFSZ, SIG_IGN);

    /* the writer and the indexer each have their own store handle */
    cor_store_t *wst = NULL, *ist = NULL, *cst = NULL;
    g_autofree char *err = NULL;
    if (cor_store_open(srv->store_path, false, &wst, &err) != COR_OK ||
        cor_store_open(srv->store_path, false, &ist, &err) != COR_OK ||
        cor_store_open(srv->store_path, false, &cst, &err) != COR_OK) {
        cor_log_error("%s", err);
        cor_store_close(wst);
        cor_store_close(ist);
        return COR_ERR_STORE;
    }
    /* checkpoints are the checkpointer's, not the committer's */
    cor_store_set_autocheckpoint(wst, 0);
    cor_store_set_autocheckpoint(ist, 0);
    cor_store_set_busy_timeout(wst, srv->set.busy_timeout_ms);
    cor_store_set_busy_timeout(ist, srv->set.busy_timeout_ms);
    srv->commit_q = g_async_queue_new();
    /* exclusive: its threads are started here, at the main thread's
     * priority, and never shared with the niced indexer's */
    srv->parse_pool = g_thread_pool_new(parse_job, srv, (gint) MAX(1, g_get_num_processors()),
                                        TRUE, NULL);
    committer_args_t *ca = g_new0(committer_args_t, 1);
    ca->srv = srv;
    ca->st = wst;
    srv->committer = g_thread_new("committer", committer_main, ca);
    indexer_args_t *ia = g_new0(indexer_args_t, 1);
    ia->srv = srv;
    ia->st = ist;
    ia->index_path = g_strdup(srv->index_path);
    ia->batch = srv->set.index_batch;
    srv->indexer = g_thread_new("indexer", indexer_main, ia);
    checkpointer_args_t *ka = g_new0(checkpointer_args_t, 1);
    ka->srv = srv;
    ka->st = cst;
    srv->checkpointer = g_thread_new("checkpointer", checkpointer_main, ka);

    for (guint i = 0; i < srv->listeners->len; i++) {
        listener_t *l = g_ptr_array_index(srv->listeners, i);
        listener_start(srv, l);
        cor_log_info("listening for LMTP on %s", l->label);
    }
    srv->sigterm_id = g_unix_signal_add(SIGTERM, on_sigterm, srv);
    srv->sigint_id = g_unix_signal_add(SIGINT, on_sigterm, srv);
    srv->sighup_id = g_unix_signal_add(SIGHUP, on_sighup, srv);
    srv->tick_id = g_timeout_add_seconds(1, on_tick, srv);
    srv->watchdog = sd_watchdog_enabled(0, &srv->watchdog_us) > 0;
    guint watchdog_id = 0;
    if (srv->watchdog)
        watchdog_id = g_timeout_add(MAX(1, (guint) (srv->watchdog_us / 2000)), on_watchdog, srv);
    if (srv->outbound)
        cor_outbound_start(srv->outbound);
    sd_notify(0, "READY=1");
    notify_status(srv);
    cor_log_info("ready (pid %d)", (int) getpid());

    g_main_loop_run(srv->loop);

    /* every session is closed and every delivery answered */
    g_async_queue_push(srv->commit_q, &stop_marker);
    g_thread_join(srv->committer);
    /* copies in flight get the shutdown timeout to finish; the rest wait */
    cor_outbound_stop(srv->outbound, srv->set.shutdown_timeout_us / 1000);
    g_atomic_int_set(&srv->index_stop, 1);
    kick_indexer(srv);
    g_thread_join(srv->indexer);
    g_thread_join(srv->checkpointer);
    g_thread_pool_free(srv->parse_pool, FALSE, TRUE);
    /* results the committer posted after the loop ended (none expected) */
    while (g_main_context_iteration(srv->ctx, FALSE))
        ;
    g_source_remove(srv->tick_id);
    if (watchdog_id)
        g_source_remove(watchdog_id);
    g_source_remove(srv->sigterm_id);
    g_source_remove(srv->sigint_id);
    g_source_remove(srv->sighup_id);
    cor_log_info("stopped: %" G_GUINT64_FORMAT " sessions, %" G_GUINT64_FORMAT
                 " deliveries accepted", srv->n_sessions, srv->n_delivered);
    return COR_OK;
}

void
cor_server_kick_outbound(cor_server_t *srv)
{
    if (srv && srv->outbound)
        cor_outbound_kick(srv->outbound);
}

void
cor_server_free(cor_server_t *srv)
{
    if (!srv)
        return;
    if (srv->listeners)
        g_ptr_array_unref(srv->listeners);
    while (srv->conns)
        conn_close(srv->conns->data);
    cor_outbound_free(srv->outbound);
    cor_store_close(srv->reader);
    if (srv->commit_q)
        g_async_queue_unref(srv->commit_q);
    if (srv->loop)
        g_main_loop_unref(srv->loop);
    if (srv->ctx)
        g_main_context_unref(srv->ctx);
    g_mutex_clear(&srv->index_lock);
    cor_filter_site_unref(srv->site);
    g_mutex_clear(&srv->site_lock);
    g_cond_clear(&srv->index_cond);
    settings_clear(&srv->set);
    g_free(srv->config_path);
    g_free(srv->relay);
    g_free(srv->base_url);
    g_free(srv->store_path);
    g_free(srv->index_path);
    g_free(srv);
}
