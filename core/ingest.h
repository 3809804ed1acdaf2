/* core/ingest.h — bringing many messages into the store and the index:
 * `corridor import`, `corridor reindex` and catching up on the work queue.
 *
 * Design notes
 * ------------
 * Parsing a message (GMime) and generating its index terms (Xapian's
 * TermGenerator) are the expensive steps and need no shared state, so a pool
 * of worker threads does them.  One writer — the calling thread — takes the
 * results *in input order* (so threading and thread ids are the same on every
 * run) and:
 *
 *   1. stores a batch of messages in one SQLite transaction and commits it
 *      (the moment of truth: from here the messages exist, each with an
 *      'index' work item);
 *   2. adds the prepared documents to the Xapian index, with their groups and
 *      thread ids now known, and commits the index;
 *   3. deletes the batch's work items.
 *
 * A crash between 1 and 3 leaves work items behind; the next ingest, reindex
 * or daemon start indexes them (cor_ingest_catch_up).  Threads merged by a
 * later message have their older documents' thread terms updated.
 *
 * Import does not run the policy filters: it is for existing archives.
 */
#ifndef COR_INGEST_H
#define COR_INGEST_H

#include <stdint.h>

#include "core/mailbox.h"
#include "core/search/search.h"
#include "core/status.h"
#include "core/store.h"

typedef struct cor_ingest_stats {
    uint64_t imported;     /* new posts in the group (committed: a batch
                              rolled back by a failure is not counted) */
    uint64_t duplicates;   /* already in the group (likewise) */
    uint64_t failed;       /* could not be read or parsed */
    uint64_t indexed;      /* documents written to the index */
} cor_ingest_stats_t;

/* Progress: called from the writer thread after each message with the
 * number done so far and the total (0 when unknown). */
typedef void (*cor_ingest_progress_fn)(uint64_t done, uint64_t total, void *data);
/* A message that failed: its label and the reason (borrowed). */
typedef void (*cor_ingest_failure_fn)(const char *label, const char *reason, void *data);

typedef struct cor_ingest_options {
    int workers;                       /* 0: one per CPU */
    int batch;                         /* messages per commit; 0: 2000 */
    cor_ingest_progress_fn progress;
    cor_ingest_failure_fn failure;
    void *data;
    gint *cancel;                      /* when not NULL and set (atomically) to
                                          non-zero, catch-up stops after the
                                          batch in hand (it is committed) */
    bool private_threads;              /* workers are the pipeline's own
                                          (an exclusive pool started by the
                                          calling thread), so they inherit its
                                          CPU priority: the daemon's indexer
                                          runs niced behind LMTP intake */
} cor_ingest_options_t;

/* Imports every message of `mb` into group `group_id`.  Returns COR_OK when
 * it ran to the end (failures of single messages are counted in stats and
 * reported through opt->failure); a store or index error stops it with that
 * status and *err (transfer full); committed batches stay (an import can be
 * run again: it is idempotent). */
cor_status_t cor_ingest_import(cor_store_t *st, cor_search_writer_t *w, int64_t group_id,
                               cor_mailbox_t *mb, const cor_ingest_options_t *opt,
                               cor_ingest_stats_t *stats, char **err);

/* Indexes the messages whose 'index' work items are pending. */
cor_status_t cor_ingest_catch_up(cor_store_t *st, cor_search_writer_t *w,
                                 const cor_ingest_options_t *opt, cor_ingest_stats_t *stats,
                                 char **err);

/* Clears the index and indexes every stored message again. */
cor_status_t cor_ingest_reindex(cor_store_t *st, cor_search_writer_t *w,
                                const cor_ingest_options_t *opt, cor_ingest_stats_t *stats,
                                char **err);

#endif
