/* mta-bridge/intake.h — storing what LMTP (or `corridor deliver`) received.
 *
 * Design notes
 * ------------
 * A delivery is one message with its envelope.  Parsing it (GMime) needs no
 * shared state and runs on any thread (cor_delivery_parse).  Storing runs on
 * the one writer thread and takes a *batch* of deliveries — whatever arrived
 * while the previous commit was being synced — in one transaction:
 *
 *     BEGIN IMMEDIATE
 *       for each delivery, for each recipient:
 *         SAVEPOINT; add the post (or control mail); RELEASE
 *         (on failure: ROLLBACK TO — only this recipient's rows go)
 *     COMMIT                      ← one fsync for the whole batch
 *
 * Each recipient's result is decided by its own add and then by the COMMIT:
 * if the COMMIT fails, every recipient of the batch gets the commit's status
 * (451 4.3.0, or 452 4.3.1 when the disk is full), never 250.  So grouping
 * commits keeps invariant 2 while the disk's fsync rate stops being the
 * limit on throughput.  A redelivery of the same message to the same group
 * is COR_DUPLICATE, answered 250 like the first time (invariant 4).
 */
#ifndef COR_INTAKE_H
#define COR_INTAKE_H

#include <glib.h>
#include <stdint.h>

#include "core/message.h"
#include "core/status.h"
#include "core/store.h"
#include "filters/filter.h"
#include "mta-bridge/lmtp.h"

typedef struct cor_delivery {
    cor_lmtp_envelope_t *env;   /* owned */
    int64_t received;           /* wall-clock time of arrival */
    char sha256[65];
    cor_message_t *msg;         /* parsed (owned); NULL when parsing failed */
    cor_filter_facts_t *facts;  /* what the filters need (owned); NULL when parsing
                                   failed or no recipient is a post address */
    cor_status_t parse_status;
    char *parse_error;          /* owned */
    cor_status_t *results;      /* one per recipient, filled by _store */
    char **details;             /* one per recipient, NULL-terminated (owned) */
    char **traces;              /* one per recipient: the filter chain's steps for
                                   the log, NULL for control addresses (owned) */
    int64_t row;                /* messages.id of the stored post (0: none) */
    bool wakes_outbound;        /* it queued outbox rows or control mail: the
                                   outbound worker should look after the commit */
    int64_t done_us;            /* monotonic time the results were known */
    void *user;                 /* the caller's (the server's session) */
} cor_delivery_t;

/* Takes ownership of `env`. */
cor_delivery_t *cor_delivery_new(cor_lmtp_envelope_t *env, int64_t received);
void cor_delivery_free(cor_delivery_t *d);

/* Parses the message (headers, attachments and the edges of the body:
 * COR_PARSE_SUMMARY | COR_PARSE_EDGES), hashes it and scans it for the
 * filters (any thread). */
void cor_delivery_parse(cor_delivery_t *d);

/* The groups' filter policies, kept by the writer from one batch to the
 * next for at most COR_INTAKE_POLICY_TTL_US (a `corridor group set` takes
 * effect within that), and dropped at once when the site's defaults change
 * (SIGHUP).  Only the thread that stores uses it. */
typedef struct cor_intake_cache cor_intake_cache_t;
#define COR_INTAKE_POLICY_TTL_US (1 * G_USEC_PER_SEC)
cor_intake_cache_t *cor_intake_cache_new(void);
void cor_intake_cache_free(cor_intake_cache_t *c);

/* Stores a batch in one transaction (the writer thread), each post
 * recipient through its group's filters with `site`'s defaults, and fills
 * every delivery's results.  Returns the transaction's status (COR_OK when
 * it committed; the per-recipient results say the rest).  *err transfer full. */
cor_status_t cor_delivery_store(cor_store_t *st, const cor_filter_site_t *site,
                                cor_intake_cache_t *cache, cor_delivery_t **ds, guint n,
                                char **err);

/* For benchmarks only (bench/lmtp.sh measures the chain's cost with it):
 * false makes intake skip the filters altogether — no body edges parsed,
 * no scan, every post accepted.  `corridor serve` sets it from the
 * environment variable CORRIDOR_BENCH_NO_FILTERS=1, and says so in its log. */
void cor_intake_set_filters(bool on);

/* How many recipients of `d` got a 2xx. */
guint cor_delivery_accepted(const cor_delivery_t *d);

#endif
