/* digest/scheduler.h — the daemon's digest clock.
 *
 * Purpose: `corridor serve` makes every digest at its slot without a
 * systemd timer.  A thread of its own (not niced: it holds the write lock while it
 * makes a batch; with its own store handle)
 * sleeps until the next slot of any group or of the combined digests
 * (cor_digest_next_slot), then runs cor_digest_run for everything due, as
 * `corridor digest send` would; each committed batch calls `on_commit` (the
 * daemon kicks its outbound worker, which sends them).  It also runs once
 * at start, so a slot missed while the daemon was down is made then.
 *
 * Invariants:
 *   1. Exactly once comes from the digests table (digest.h): a run that
 *      finds a slot done (by the timer, the CLI or an earlier run) skips it;
 *      a crash mid-run leaves committed digests queued and the rest to the
 *      next run, which starts at once after a restart.
 *   2. It never sleeps past a slot by more than a minute even if the wall
 *      clock jumps (it wakes at least every minute and compares); with a
 *      test clock (CORRIDOR_NOW_FILE) it looks every half second.
 *   3. A failed run is logged and retried a minute later; it never stops
 *      the daemon.
 *
 * The [digest] settings are read at start (a restart applies changes);
 * groups' digest_time and digest_day are read from the store at every run.
 */
#ifndef COR_DIGEST_SCHEDULER_H
#define COR_DIGEST_SCHEDULER_H

#include "core/config.h"
#include "core/status.h"

typedef struct cor_digest_scheduler cor_digest_scheduler_t;

/* Starts the thread.  `cfg` is borrowed for the scheduler's life; `base_url`
 * (links) is copied; `on_commit(data)` is called on the scheduler's thread
 * after each commit that queued digests (NULL: none).  COR_ERR_CONFIG with
 * *err for bad [digest] settings.  Transfer full. */
cor_status_t cor_digest_scheduler_start(const cor_config_t *cfg, const char *store_path,
                                        const char *base_url, void (*on_commit)(void *data),
                                        void *data, cor_digest_scheduler_t **out, char **err);
/* Stops it: a run in progress finishes its current batch (at most a few
 * hundred digests) and stops.  NULL is fine. */
void cor_digest_scheduler_stop(cor_digest_scheduler_t *sch);

#endif
