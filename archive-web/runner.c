/* archive-web/runner.c — the daemon's renderer thread (see archive.h).
 *
 * One thread with its own store handle.  The committer kicks it after each
 * commit; it waits [archive] debounce_ms for more, then renders what the
 * pending 'render' work changes, round after round until the queue is
 * empty.  It also looks at the queue every few seconds, for work queued by
 * other processes (`corridor import`, `corridor deliver`), and at start
 * (catching up after a restart).  A backlog of [archive] full_build_at
 * messages or more is cheaper as a full build, which uses every CPU.
 */
#include "archive-web/archive.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"

#define POLL_US (3 * G_USEC_PER_SEC)

struct cor_archive_runner {
    cor_archive_t *archive;       /* borrowed */
    cor_store_t *st;
    int debounce_ms;
    int64_t full_build_at;
    GThread *thread;
    GMutex lock;
    GCond cond;
    bool kicked;
    bool stop;
};

static bool
wait_kick(cor_archive_runner_t *r, gint64 until)
{
    g_mutex_lock(&r->lock);
    while (!r->kicked && !r->stop)
        if (!g_cond_wait_until(&r->cond, &r->lock, until))
            break;
    bool stop = r->stop;
    r->kicked = false;
    g_mutex_unlock(&r->lock);
    return !stop;
}

static void
render_all(cor_archive_runner_t *r)
{
    for (;;) {
        int64_t pending = 0;
        if (cor_store_work_count(r->st, "render", &pending) != COR_OK || pending == 0)
            return;
        g_autofree char *err = NULL;
        cor_archive_stats_t stats;
        cor_status_t s;
        if (pending >= r->full_build_at) {
            cor_log_info("archive: %" G_GINT64_FORMAT " messages to render: full build", pending);
            s = cor_archive_build(r->archive, r->st, NULL, &stats, &err);
            if (s == COR_OK)
                cor_log_info("archive: rendered %" G_GUINT64_FORMAT " messages, %" G_GUINT64_FORMAT
                             " files in %.1f s", stats.messages, stats.pages, stats.seconds);
        } else {
            s = cor_archive_update(r->archive, r->st, &stats, &pending, &err);
            if (s == COR_OK)
                cor_log_debug("archive: %" G_GUINT64_FORMAT " messages, %" G_GUINT64_FORMAT
                              " files in %.1f ms", stats.messages, stats.pages,
                              stats.seconds * 1000.0);
        }
        if (s != COR_OK) {
            cor_log_error("archive: %s (will retry)", err ? err : cor_status_to_string(s));
            return;
        }
        g_mutex_lock(&r->lock);
        bool stop = r->stop;
        g_mutex_unlock(&r->lock);
        if (stop)
            return;
    }
}

static gpointer
runner_main(gpointer data)
{
    cor_archive_runner_t *r = data;
    /* intake comes first; the index and the archive share what is left */
    if (setpriority(PRIO_PROCESS, (id_t) syscall(SYS_gettid), 19) != 0)
        cor_log_debug("cannot lower the renderer's priority: %s", g_strerror(errno));
    g_autofree char *cerr = NULL;
    if (cor_archive_clean(r->archive, &cerr) != COR_OK)   /* after a crash */
        cor_log_warning("archive: %s", cerr);
    render_all(r);                            /* catch up after a restart */
    g_autofree char *err = NULL;
    if (cor_archive_preload(r->archive, r->st, &err) != COR_OK)
        cor_log_warning("archive: %s (will load it at the first message)", err);
    for (;;) {
        if (!wait_kick(r, g_get_monotonic_time() + POLL_US))
            break;
        /* debounce: a burst of mail renders the shared pages once */
        gint64 until = g_get_monotonic_time() + (gint64) r->debounce_ms * 1000;
        while (r->debounce_ms > 0 && g_get_monotonic_time() < until)
            if (!wait_kick(r, until))
                goto out;
        render_all(r);
    }
out:
    return NULL;
}

cor_status_t
cor_archive_runner_start(cor_archive_t *a, const char *store_path, int debounce_ms,
                         int64_t full_build_at, cor_archive_runner_t **out, char **err)
{
    *out = NULL;
    cor_archive_runner_t *r = g_new0(cor_archive_runner_t, 1);
    r->archive = a;
    r->debounce_ms = debounce_ms < 0 ? 0 : debounce_ms;
    r->full_build_at = full_build_at > 0 ? full_build_at : 5000;
    cor_status_t s = cor_store_open(store_path, false, &r->st, err);
    if (s != COR_OK) {
        g_free(r);
        return s;
    }
    cor_store_set_autocheckpoint(r->st, 0);
    g_mutex_init(&r->lock);
    g_cond_init(&r->cond);
    r->thread = g_thread_new("renderer", runner_main, r);
    *out = r;
    return COR_OK;
}

void
cor_archive_runner_kick(cor_archive_runner_t *r)
{
    if (!r)
        return;
    g_mutex_lock(&r->lock);
    r->kicked = true;
    g_cond_broadcast(&r->cond);
    g_mutex_unlock(&r->lock);
}

void
cor_archive_runner_stop(cor_archive_runner_t *r)
{
    if (!r)
        return;
    g_mutex_lock(&r->lock);
    r->stop = true;
    g_cond_broadcast(&r->cond);
    g_mutex_unlock(&r->lock);
    g_thread_join(r->thread);
    cor_store_close(r->st);
    g_mutex_clear(&r->lock);
    g_cond_clear(&r->cond);
    g_free(r);
}
