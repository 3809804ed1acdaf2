/* digest/scheduler.c — the daemon's digest clock (scheduler.h). */
#include "digest/scheduler.h"

#include "core/log.h"
#include "core/store.h"
#include "digest/digest.h"

#define LOOK_US (60 * G_USEC_PER_SEC)        /* look at the clock at least this often */
#define LOOK_SIMULATED_US (G_USEC_PER_SEC / 2)
#define RETRY_S 60                           /* after a failed run */

struct cor_digest_scheduler {
    GThread *thread;
    GMutex lock;
    GCond cond;
    gint stop;
    cor_store_t *st;
    cor_digest_site_t *site;
    void (*on_commit)(void *data);
    void *data;
};

static bool
after_commit(void *data)
{
    cor_digest_scheduler_t *sch = data;
    if (sch->on_commit)
        sch->on_commit(sch->data);
    return !g_atomic_int_get(&sch->stop);
}

/* One run of everything due at `now`; the next time to look (unix time). */
static int64_t
run_once(cor_digest_scheduler_t *sch, int64_t now)
{
    cor_digest_run_stats_t rs;
    g_autofree char *err = NULL;
    cor_status_t s = cor_digest_run(sch->site, sch->st, NULL, now, false, &rs, &err);
    if (rs.queued > 0 || s != COR_OK)
        cor_log_info("digests: %" G_GINT64_FORMAT " queued, %" G_GINT64_FORMAT
                     " with nothing new, %" G_GINT64_FORMAT " made before (%" G_GINT64_FORMAT
                     " people)", rs.queued, rs.empty, rs.done_before, rs.people);
    /* A run that made digests read and rendered every post they show,
     * once a day: give the store handle's page cache back rather than keep
     * the peak until tomorrow (the heap pages freed go back by the
     * checkpointer's trim, every second: mta-bridge/server.c).
     * bench/soak.sh saw the daemon's RSS stay 80 MiB higher after a run of
     * four 1,500-post digests before both. */
    if (rs.queued > 0)
        cor_store_release_memory(sch->st);
    if (s != COR_OK) {
        cor_log_warning("digests: %s; trying again in a minute",
                        err ? err : cor_status_to_string(s));
        return now + RETRY_S;
    }
    int64_t next = 0;
    g_clear_pointer(&err, g_free);
    if (cor_digest_next_slot(sch->site, sch->st, now, &next, &err) != COR_OK) {
        cor_log_warning("digests: %s; looking again in a minute", err ? err : "no next slot");
        return now + RETRY_S;
    }
    return next;
}

static gpointer
scheduler_main(gpointer data)
{
    cor_digest_scheduler_t *sch = data;
    /* Not niced, unlike the indexer and the renderer: a run makes each
     * batch of digests inside a write transaction (digest.c), and intake
     * waits for that lock.  Niced, on a busy machine the run got a tenth
     * of a CPU and held the lock ten times longer: 1.4 s of digests kept
     * intake waiting more than 10 s (451 4.3.0; bench/soak.sh). */
    bool simulated = cor_digest_clock_simulated();
    int64_t due = 0;  /* at start: at once (a slot missed while down is made now) */
    while (!g_atomic_int_get(&sch->stop)) {
        int64_t now = cor_digest_now();
        if (now >= due) {
            due = run_once(sch, now);
            g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(due);
            g_autofree char *when = g_date_time_format_iso8601(dt);
            cor_log_debug("digests: next slot at %s", when);
            continue;
        }
        /* sleep until it is due, but look at the clock at least every
         * minute (it may have jumped) */
        int64_t wait_us = simulated ? LOOK_SIMULATED_US
                                    : MIN((due - now) * G_USEC_PER_SEC, LOOK_US);
        g_mutex_lock(&sch->lock);
        int64_t until = g_get_monotonic_time() + wait_us;
        while (!g_atomic_int_get(&sch->stop))
            if (!g_cond_wait_until(&sch->cond, &sch->lock, until))
                break;
        g_mutex_unlock(&sch->lock);
    }
    return NULL;
}

cor_status_t
cor_digest_scheduler_start(const cor_config_t *cfg, const char *store_path, const char *base_url,
                           void (*on_commit)(void *data), void *data,
                           cor_digest_scheduler_t **out, char **err)
{
    *out = NULL;
    *err = NULL;
    cor_digest_scheduler_t *sch = g_new0(cor_digest_scheduler_t, 1);
    g_mutex_init(&sch->lock);
    g_cond_init(&sch->cond);
    sch->on_commit = on_commit;
    sch->data = data;
    cor_status_t s = cor_digest_site_new(cfg, base_url, &sch->site, err);
    if (s == COR_OK)
        s = cor_store_open(store_path, false, &sch->st, err);
    if (s != COR_OK) {
        cor_digest_scheduler_stop(sch);
        return s;
    }
    cor_store_set_busy_timeout(sch->st, 10000);
    cor_digest_site_on_commit(sch->site, after_commit, sch);
    sch->thread = g_thread_new("digests", scheduler_main, sch);
    *out = sch;
    return COR_OK;
}

void
cor_digest_scheduler_stop(cor_digest_scheduler_t *sch)
{
    if (!sch)
        return;
    if (sch->thread) {
        g_mutex_lock(&sch->lock);
        g_atomic_int_set(&sch->stop, 1);
        g_cond_signal(&sch->cond);
        g_mutex_unlock(&sch->lock);
        g_thread_join(sch->thread);
    }
    cor_digest_site_free(sch->site);
    cor_store_close(sch->st);
    g_mutex_clear(&sch->lock);
    g_cond_clear(&sch->cond);
    g_free(sch);
}
