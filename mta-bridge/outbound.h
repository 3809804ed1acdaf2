/* mta-bridge/outbound.h — the outbound worker: the only code that speaks
 * SMTP (DESIGN.md: "the outbox is the only way out").
 *
 * Design notes
 * ------------
 * Whatever sends mail writes outbox rows in the same transaction as the
 * change that causes it (intake: a post's copies; the command handler: its
 * replies; digests...).  This worker reads the rows that are due, builds
 * each recipient's copy (listcopy.h: prepared once per post, three pieces
 * per member, nothing copied), and hands them to the relay through libcurl's
 * multi interface: up to [outbound] connections transfers at once over
 * connections the multi handle keeps open and reuses.
 *
 * Results are written by this worker's own store handle, one transaction
 * per round of finished transfers, with synchronous=NORMAL: a "sent" mark
 * survives the process being killed (WAL), and one lost to a power cut
 * only means the copy is sent again.  So:
 *   - a copy is never lost: its row goes only after the relay's 250;
 *   - after SIGKILL, at most the transfers in flight (handed over but not
 *     yet recorded) are sent again;
 *   - a clean stop waits up to the shutdown timeout for transfers in flight
 *     and records them; the rest stay queued.
 * Temporary failures (4xx, no connection, time-outs) are retried with a
 * back-off doubling from [outbound] retry up to an hour.  A failure that is
 * about the relay rather than the recipient — no connection, a time-out, a
 * 4xx or 5xx to the greeting, EHLO or MAIL FROM — makes the whole queue
 * wait (no storm of connection attempts; the pause runs on the monotonic
 * clock) and drops nothing: a relay that refuses us is the administrator's
 * to fix, not the members' bounce.  A copy refused for good (5xx to RCPT TO
 * or to the message) or not delivered within [outbound] max_age is counted
 * as a bounce against the member (hard for 550/551/553, else soft), which
 * may disable them (the owners are told).  Every wait for the relay is
 * bounded by [outbound] timeout, the answer to QUIT included, and the end
 * closes kept connections without waiting for that answer.
 *
 * Faults (docs/faults.md): results that cannot be recorded (the store
 * locked or full) are kept and recorded by a later round, never sent again
 * meanwhile; while transfers are in flight the worker waits for the store's
 * lock only briefly, so that it keeps reading the relay's answers; retry
 * times left far in the future by a clock set back are made due.
 *
 * The worker also runs the control mail handler (control.h) between
 * rounds: bounces and mail commands arrive as rows too, and its replies are
 * outbox rows this worker then sends.
 */
#ifndef COR_OUTBOUND_H
#define COR_OUTBOUND_H

#include <glib.h>
#include <stdbool.h>

#include "core/config.h"
#include "core/status.h"

typedef struct cor_outbound cor_outbound_t;

typedef struct cor_outbound_stats {
    int64_t sent;              /* copies the relay took */
    int64_t deferred;          /* temporary failures (to be retried) */
    int64_t failed;            /* refused for good or given up (bounces) */
    int64_t withheld;          /* not sent: an outside address in a staff-only group */
    int64_t queued;            /* still in the outbox (flush: at the end) */
} cor_outbound_stats_t;

/* A worker on its own store handle.  `relay` overrides [outbound] relay
 * (NULL: the config's); `base_url` is where generated mail links to
 * (cor_config_base_url).  The config must outlive the worker. */
cor_status_t cor_outbound_new(const char *store_path, const cor_config_t *cfg, const char *relay,
                              const char *base_url, cor_outbound_t **out, char **err);
void cor_outbound_free(cor_outbound_t *ob);

/* Starts the worker thread (the daemon). */
void cor_outbound_start(cor_outbound_t *ob);
/* New rows were committed: look now (any thread). */
void cor_outbound_kick(cor_outbound_t *ob);
/* Stops the thread: transfers in flight get up to `drain_ms` to finish and
 * are recorded; nothing else is started.  The handle may then be used with
 * cor_outbound_flush (the CLI sends while it queues, then flushes). */
void cor_outbound_stop(cor_outbound_t *ob, int64_t drain_ms);

/* Without a thread (the CLI): handles the control mail waiting and sends
 * everything due now, retrying temporary failures within `deadline_ms`
 * only if `wait_retries`; returns when nothing due is left. */
cor_status_t cor_outbound_flush(cor_outbound_t *ob, bool wait_retries, int64_t deadline_ms,
                                cor_outbound_stats_t *stats, char **err);

/* Counters since the worker was made (any thread). */
void cor_outbound_stats(cor_outbound_t *ob, cor_outbound_stats_t *stats);

#endif
