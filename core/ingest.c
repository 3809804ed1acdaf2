/* core/ingest.c — parallel parse/prepare, one ordered writer.  Design notes
 * in ingest.h. */
#include "core/ingest.h"

#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/message.h"

/* ---- a job: one message through the pipeline ---- */

typedef struct job {
    uint64_t seq;
    GBytes *raw;
    char *label;
    int64_t received;
    int64_t row;                   /* reindex / catch-up: the stored row */
    int64_t work;                  /* catch-up: the work item */
    cor_status_t status;           /* of reading and parsing */
    char *err;
    cor_message_t *msg;
    char sha[65];
    cor_search_prepared_t *prepared;
} job_t;

static void
job_free(job_t *j)
{
    if (j == NULL)
        return;
    if (j->raw)
        g_bytes_unref(j->raw);
    g_free(j->label);
    g_free(j->err);
    cor_message_free(j->msg);
    cor_search_prepared_free(j->prepared);
    g_free(j);
}

/* Fills `doc` from `msg` (borrowed pointers; `names` holds the attachment
 * name array).  Groups and threads are added by the writer. */
static void
doc_from_message(const cor_message_t *msg, cor_search_doc_t *doc, GPtrArray *names)
{
    memset(doc, 0, sizeof *doc);
    doc->message_id = msg->message_id;
    doc->subject = msg->subject;
    doc->from = msg->from;
    doc->to = msg->to;
    doc->cc = msg->cc;
    doc->date = msg->date;
    doc->new_text = msg->new_text;
    doc->quoted_text = msg->quoted_text;
    doc->signature = msg->signature;
    doc->attachment_text = msg->attachment_text;
    for (guint i = 0; i < msg->attachments->len; i++) {
        const cor_attachment_t *a = g_ptr_array_index(msg->attachments, i);
        g_ptr_array_add(names, a->filename);
    }
    doc->attachment_names = (const char *const *) names->pdata;
    doc->n_attachment_names = names->len;
}

static void
work_job(gpointer data, gpointer user)
{
    job_t *j = data;
    GAsyncQueue *done = user;
    if (j->status == COR_OK) {
        gsize len;
        const char *d = g_bytes_get_data(j->raw, &len);
        j->status = cor_message_parse(d, len, j->received, &j->msg, &j->err);
        if (j->status == COR_OK) {
            cor_sha256_hex(d, len, j->sha);
            cor_search_doc_t doc;
            g_autoptr(GPtrArray) names = g_ptr_array_new();
            doc_from_message(j->msg, &doc, names);
            j->status = cor_search_prepare(&doc, &j->prepared, &j->err);
        }
    }
    g_async_queue_push(done, j);
}

/* ---- the ordered pipeline ---- */

typedef cor_status_t (*source_fn)(void *data, job_t **out);   /* COR_DONE at the end */
typedef cor_status_t (*sink_fn)(void *data, job_t *job);

static int
worker_count(const cor_ingest_options_t *opt)
{
    int n = opt && opt->workers > 0 ? opt->workers : (int) g_get_num_processors();
    return CLAMP(n, 1, 64);
}

static cor_status_t
run_pipeline(int workers, bool exclusive, source_fn source, void *sdata, sink_fn sink, void *kdata)
{
    g_autoptr(GAsyncQueue) done = g_async_queue_new();
    GThreadPool *pool = g_thread_pool_new(work_job, done, workers, exclusive, NULL);
    g_autoptr(GHashTable) ready = g_hash_table_new(g_int64_hash, g_int64_equal);
    uint64_t next_in = 0, next_out = 0, inflight = 0;
    const uint64_t max_inflight = (uint64_t) workers * 64;
    bool more = true;
    cor_status_t status = COR_OK;

    while (more || inflight > 0) {
        while (more && status == COR_OK && inflight < max_inflight) {
            job_t *j = NULL;
            cor_status_t s = source(sdata, &j);
            if (s == COR_DONE) {
                more = false;
            } else if (s != COR_OK) {
                status = s;
                more = false;
            } else {
                j->seq = next_in++;
                inflight++;
                g_thread_pool_push(pool, j, NULL);
            }
        }
        if (status != COR_OK)
            more = false;
        if (inflight == 0)
            break;
        job_t *j = g_async_queue_pop(done);
        g_hash_table_insert(ready, &j->seq, j);
        while ((j = g_hash_table_lookup(ready, &next_out)) != NULL) {
            g_hash_table_remove(ready, &next_out);
            if (status == COR_OK) {
                cor_status_t s = sink(kdata, j);
                if (s != COR_OK)
                    status = s;
            }
            job_free(j);
            next_out++;
            inflight--;
        }
    }
    g_thread_pool_free(pool, FALSE, TRUE);
    return status;
}

/* ---- the writer: store, then index ----
 *
 * The calling thread stores and commits each batch; a dedicated index
 * thread then adds the batch's documents to Xapian and commits the index,
 * while the calling thread goes on storing the next batch (at most
 * MAX_BATCHES_IN_FLIGHT batches wait for the index).  The store handle is
 * only used by the calling thread, the index writer only by the index
 * thread until it is joined.  A batch's work items are deleted in the first
 * store transaction after its index commit came back. */

#define MAX_BATCHES_IN_FLIGHT 2

typedef struct pending {
    cor_search_prepared_t *prepared;
    int64_t row;
} pending_t;

/* One document's place: docid, groups and threads. */
typedef struct placed {
    cor_search_prepared_t *prepared;   /* NULL: relocate an indexed document */
    int64_t row;
    GPtrArray *groups;                 /* char* */
    GArray *threads;                   /* int64_t */
} placed_t;

typedef struct index_batch {
    GArray *docs;                      /* placed_t, adds then relocations */
    GArray *work_ids;                  /* int64_t: delete once indexed */
    uint64_t added;
    cor_status_t status;
    char *err;
} index_batch_t;

static void
index_batch_free(index_batch_t *b)
{
    for (guint i = 0; i < b->docs->len; i++) {
        placed_t *p = &g_array_index(b->docs, placed_t, i);
        cor_search_prepared_free(p->prepared);
        g_ptr_array_unref(p->groups);
        g_array_unref(p->threads);
    }
    g_array_unref(b->docs);
    g_array_unref(b->work_ids);
    g_free(b->err);
    g_free(b);
}

static index_batch_t STOP;   /* the sentinel that ends the index thread */

typedef struct indexer {
    GThread *thread;
    GAsyncQueue *queued;                /* index_batch_t*, or &STOP */
    GAsyncQueue *done;                 /* index_batch_t*, status set */
    cor_search_writer_t *w;
    int in_flight;
} indexer_t;

static gpointer
index_thread(gpointer data)
{
    indexer_t *ix = data;
    bool failed = false;
    for (;;) {
        index_batch_t *b = g_async_queue_pop(ix->queued);
        if (b == &STOP)
            return NULL;
        b->status = COR_OK;
        for (guint i = 0; !failed && i < b->docs->len; i++) {
            placed_t *p = &g_array_index(b->docs, placed_t, i);
            cor_status_t s;
            if (p->prepared) {
                s = cor_search_writer_add_at(ix->w, g_steal_pointer(&p->prepared), (uint64_t) p->row,
                                             (const char *const *) p->groups->pdata, p->groups->len,
                                             (const uint64_t *) p->threads->data, p->threads->len);
                if (s == COR_OK)
                    b->added++;
            } else {
                s = cor_search_writer_relocate(ix->w, (uint64_t) p->row,
                                               (const char *const *) p->groups->pdata, p->groups->len,
                                               (const uint64_t *) p->threads->data, p->threads->len);
            }
            if (s != COR_OK) {
                b->status = s;
                failed = true;
            }
        }
        if (!failed && b->status == COR_OK) {
            b->status = cor_search_writer_commit(ix->w);
            failed = b->status != COR_OK;
        }
        if (failed && b->status == COR_OK)
            b->status = COR_ERR_INDEX;   /* an earlier batch failed: this one is not indexed */
        if (b->status != COR_OK)
            b->err = g_strdup_printf("index: %s", cor_search_writer_error(ix->w));
        g_async_queue_push(ix->done, b);
    }
}

typedef struct writer {
    cor_store_t *st;
    cor_search_writer_t *w;
    const cor_ingest_options_t *opt;
    cor_ingest_stats_t *stats;
    char **err;
    int batch;
    bool in_txn;
    bool catching_up;         /* index_rows: nothing else opens a store
                                 transaction to carry the work deletions */
    GArray *pending;          /* pending_t: stored, not yet handed to the index */
    GHashTable *relocate;     /* int64 row set: thread terms changed */
    GArray *work_batch;       /* int64 work ids of the batch being stored */
    GArray *work_done;        /* int64 work ids indexed, to delete */
    GArray *work_deleting;    /* deleted in the open transaction (back to
                                 work_done if it rolls back) */
    indexer_t ix;
    uint64_t done, total;
    uint64_t txn_imported;    /* import: added / duplicates in the open */
    uint64_t txn_duplicates;  /* transaction, counted in stats at its commit */
} writer_t;

static cor_status_t
fail_store(writer_t *wr, cor_status_t s)
{
    if (wr->err && *wr->err == NULL)
        *wr->err = g_strdup(cor_store_error(wr->st));
    cor_store_rollback(wr->st);
    wr->in_txn = false;
    wr->txn_imported = wr->txn_duplicates = 0;   /* rolled back: not imported */
    g_array_append_vals(wr->work_done, wr->work_deleting->data, wr->work_deleting->len);
    g_array_set_size(wr->work_deleting, 0);
    return s;
}

static cor_status_t
commit_store(writer_t *wr)
{
    cor_status_t s = cor_store_commit(wr->st);
    if (s != COR_OK)
        return fail_store(wr, s);
    wr->in_txn = false;
    g_array_set_size(wr->work_deleting, 0);
    wr->stats->imported += wr->txn_imported;
    wr->stats->duplicates += wr->txn_duplicates;
    wr->txn_imported = wr->txn_duplicates = 0;
    return COR_OK;
}

/* Takes one finished batch back from the index thread. */
static cor_status_t
collect(writer_t *wr, index_batch_t *b)
{
    wr->ix.in_flight--;
    cor_status_t s = b->status;
    if (s == COR_OK) {
        g_array_append_vals(wr->work_done, b->work_ids->data, b->work_ids->len);
        wr->stats->indexed += b->added;
    } else if (wr->err && *wr->err == NULL) {
        *wr->err = g_steal_pointer(&b->err);
    }
    index_batch_free(b);
    return s;
}

/* Collects finished batches; with `all`, waits for every one. */
static cor_status_t
collect_done(writer_t *wr, bool all)
{
    cor_status_t status = COR_OK;
    while (wr->ix.in_flight > 0) {
        index_batch_t *b = all || wr->ix.in_flight >= MAX_BATCHES_IN_FLIGHT
                               ? g_async_queue_pop(wr->ix.done)
                               : g_async_queue_try_pop(wr->ix.done);
        if (b == NULL)
            break;
        cor_status_t s = collect(wr, b);
        if (status == COR_OK)
            status = s;
    }
    return status;
}

static cor_status_t
begin_if_needed(writer_t *wr)
{
    if (wr->in_txn)
        return COR_OK;
    cor_status_t s = cor_store_begin(wr->st);
    if (s != COR_OK)
        return fail_store(wr, s);
    wr->in_txn = true;
    /* earlier batches' index commits are durable: their work items go */
    if (wr->work_done->len > 0) {
        g_array_append_vals(wr->work_deleting, wr->work_done->data, wr->work_done->len);
        g_array_set_size(wr->work_done, 0);
        if ((s = cor_store_work_delete(wr->st, wr->work_deleting)) != COR_OK)
            return fail_store(wr, s);
    }
    return COR_OK;
}

static cor_status_t
place(writer_t *wr, index_batch_t *b, cor_search_prepared_t *prepared, int64_t row)
{
    placed_t p = { prepared, row, NULL, NULL };
    g_autoptr(GArray) restricted = NULL;
    cor_status_t s = cor_store_message_places(wr->st, row, &p.groups, &p.threads, &restricted);
    if (s != COR_OK) {
        cor_search_prepared_free(prepared);
        return fail_store(wr, s);
    }
    /* a restricted place is "!group" to the index (search.h) */
    for (guint i = 0; i < p.groups->len; i++) {
        if (g_array_index(restricted, gboolean, i)) {
            char *marked = g_strdup_printf("%c%s", COR_SEARCH_RESTRICTED_MARK,
                                           (const char *) p.groups->pdata[i]);
            g_free(p.groups->pdata[i]);
            p.groups->pdata[i] = marked;
        }
    }
    g_array_append_val(b->docs, p);
    return COR_OK;
}

/* Commits the stored batch and hands its documents to the index thread. */
static cor_status_t
flush(writer_t *wr)
{
    cor_status_t s;
    if (wr->in_txn && (s = commit_store(wr)) != COR_OK)
        return s;
    if (wr->pending->len == 0 && g_hash_table_size(wr->relocate) == 0) {
        /* nothing for the index; work items (catch-up of deleted rows) */
        if (wr->ix.in_flight == 0)
            g_array_append_vals(wr->work_done, wr->work_batch->data, wr->work_batch->len);
        else if (wr->work_batch->len > 0)
            goto hand_off;
        g_array_set_size(wr->work_batch, 0);
        return COR_OK;
    }
hand_off:;
    index_batch_t *b = g_new0(index_batch_t, 1);
    b->docs = g_array_new(FALSE, FALSE, sizeof(placed_t));
    b->work_ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
    g_array_append_vals(b->work_ids, wr->work_batch->data, wr->work_batch->len);
    g_array_set_size(wr->work_batch, 0);
    for (guint i = 0; i < wr->pending->len; i++) {
        pending_t *p = &g_array_index(wr->pending, pending_t, i);
        g_hash_table_remove(wr->relocate, &p->row);
        if ((s = place(wr, b, g_steal_pointer(&p->prepared), p->row)) != COR_OK) {
            for (guint k = i + 1; k < wr->pending->len; k++)
                cor_search_prepared_free(g_array_index(wr->pending, pending_t, k).prepared);
            g_array_set_size(wr->pending, 0);
            index_batch_free(b);
            return s;
        }
    }
    g_array_set_size(wr->pending, 0);
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, wr->relocate);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if ((s = place(wr, b, NULL, *(int64_t *) key)) != COR_OK) {
            index_batch_free(b);
            return s;
        }
    }
    g_hash_table_remove_all(wr->relocate);
    wr->ix.in_flight++;
    g_async_queue_push(wr->ix.queued, b);
    s = collect_done(wr, false);
    if (s == COR_OK && wr->catching_up && !wr->in_txn && wr->work_done->len >= (guint) wr->batch) {
        /* Catching up, the store is only read: delete the work of the
         * batches whose index commit is durable as they come, so that the
         * backlog (`corridor status`) goes down as the index grows and a
         * crash repeats one batch rather than the whole round. */
        if ((s = begin_if_needed(wr)) == COR_OK)
            s = commit_store(wr);
    }
    return s;
}

static cor_status_t
finish(writer_t *wr)
{
    cor_status_t s = flush(wr);
    cor_status_t c = collect_done(wr, true);
    if (s != COR_OK)
        return s;
    if (c != COR_OK)
        return c;
    if (wr->work_done->len > 0) {
        if ((s = begin_if_needed(wr)) != COR_OK)
            return s;
        if ((s = commit_store(wr)) != COR_OK)
            return s;
    }
    return COR_OK;
}

static void
writer_init(writer_t *wr, cor_store_t *st, cor_search_writer_t *w,
            const cor_ingest_options_t *opt, cor_ingest_stats_t *stats, char **err)
{
    memset(wr, 0, sizeof *wr);
    wr->st = st;
    wr->w = w;
    wr->opt = opt;
    wr->stats = stats;
    wr->err = err;
    wr->batch = opt && opt->batch > 0 ? opt->batch : 2000;
    wr->pending = g_array_new(FALSE, FALSE, sizeof(pending_t));
    wr->relocate = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    wr->work_batch = g_array_new(FALSE, FALSE, sizeof(int64_t));
    wr->work_done = g_array_new(FALSE, FALSE, sizeof(int64_t));
    wr->work_deleting = g_array_new(FALSE, FALSE, sizeof(int64_t));
    wr->ix.w = w;
    wr->ix.queued = g_async_queue_new();
    wr->ix.done = g_async_queue_new();
    wr->ix.thread = g_thread_new("corridor-index", index_thread, &wr->ix);
}

static void
writer_clear(writer_t *wr)
{
    collect_done(wr, true);
    g_async_queue_push(wr->ix.queued, &STOP);
    g_thread_join(wr->ix.thread);
    g_async_queue_unref(wr->ix.queued);
    g_async_queue_unref(wr->ix.done);
    if (wr->in_txn)
        cor_store_rollback(wr->st);
    for (guint i = 0; i < wr->pending->len; i++)
        cor_search_prepared_free(g_array_index(wr->pending, pending_t, i).prepared);
    g_array_unref(wr->pending);
    g_hash_table_destroy(wr->relocate);
    g_array_unref(wr->work_batch);
    g_array_unref(wr->work_done);
    g_array_unref(wr->work_deleting);
}

static void
progress(writer_t *wr)
{
    wr->done++;
    if (wr->opt && wr->opt->progress)
        wr->opt->progress(wr->done, wr->total, wr->opt->data);
}

static void
report_failure(writer_t *wr, job_t *j)
{
    wr->stats->failed++;
    if (wr->opt && wr->opt->failure)
        wr->opt->failure(j->label ? j->label : "message",
                         j->err ? j->err : cor_status_to_string(j->status), wr->opt->data);
}

/* ---- import ---- */

typedef struct import_src {
    cor_mailbox_t *mb;
    int64_t now;
} import_src_t;

static cor_status_t
import_source(void *data, job_t **out)
{
    import_src_t *src = data;
    job_t *j = g_new0(job_t, 1);
    cor_status_t s = cor_mailbox_next(src->mb, &j->raw, &j->label, &j->err);
    if (s == COR_DONE) {
        job_free(j);
        return COR_DONE;
    }
    j->status = s;   /* a message that could not be read travels as a failure */
    j->received = s == COR_OK ? cor_mailbox_received(src->mb) : 0;
    if (j->received <= 0)
        j->received = src->now;
    *out = j;
    return COR_OK;
}

typedef struct import_sink {
    writer_t wr;
    int64_t group_id;
} import_sink_t;

static cor_status_t
import_sink(void *data, job_t *j)
{
    import_sink_t *k = data;
    writer_t *wr = &k->wr;
    if (j->status != COR_OK) {
        report_failure(wr, j);
        progress(wr);
        return COR_OK;
    }
    cor_status_t s = begin_if_needed(wr);
    if (s != COR_OK)
        return s;
    gsize len;
    const char *raw = g_bytes_get_data(j->raw, &len);
    cor_intake_t in;
    s = cor_store_add_message(wr->st, k->group_id, raw, len, j->sha, j->received, j->msg, &in);
    if (s == COR_DUPLICATE) {
        wr->txn_duplicates++;
    } else if (s != COR_OK) {
        cor_intake_clear(&in);
        return fail_store(wr, s);
    } else {
        wr->txn_imported++;
        pending_t p = { g_steal_pointer(&j->prepared), in.msg };
        g_array_append_val(wr->pending, p);
        g_array_append_val(wr->work_batch, in.work);
        if (in.merged_work)
            g_array_append_vals(wr->work_batch, in.merged_work->data, in.merged_work->len);
        for (guint i = 0; in.merged && i < in.merged->len; i++) {
            int64_t *row = g_new(int64_t, 1);
            *row = g_array_index(in.merged, int64_t, i);
            g_hash_table_add(wr->relocate, row);
        }
    }
    cor_intake_clear(&in);
    progress(wr);
    if (wr->pending->len >= (guint) wr->batch)
        return flush(wr);
    return COR_OK;
}

cor_status_t
cor_ingest_import(cor_store_t *st, cor_search_writer_t *w, int64_t group_id, cor_mailbox_t *mb,
                  const cor_ingest_options_t *opt, cor_ingest_stats_t *stats, char **err)
{
    memset(stats, 0, sizeof *stats);
    import_src_t src = { mb, (int64_t) time(NULL) };
    import_sink_t sink;
    writer_init(&sink.wr, st, w, opt, stats, err);
    sink.group_id = group_id;
    sink.wr.total = cor_mailbox_count(mb);
    cor_status_t s = run_pipeline(worker_count(opt), opt && opt->private_threads, import_source, &src, import_sink, &sink);
    if (s == COR_OK)
        s = finish(&sink.wr);
    writer_clear(&sink.wr);
    return s;
}

/* ---- catch-up and reindex: messages already in the store ---- */

typedef struct stored_src {
    cor_store_t *st;
    gint *cancel;
    GArray *rows;       /* int64 */
    GArray *works;      /* int64, parallel to rows, 0 for reindex */
    guint next;
    char **err;
} stored_src_t;

static cor_status_t
stored_source(void *data, job_t **out)
{
    stored_src_t *src = data;
    if (src->next >= src->rows->len || (src->cancel && g_atomic_int_get(src->cancel)))
        return COR_DONE;
    int64_t row = g_array_index(src->rows, int64_t, src->next);
    job_t *j = g_new0(job_t, 1);
    j->row = row;
    j->work = src->works ? g_array_index(src->works, int64_t, src->next) : 0;
    src->next++;
    g_autoptr(cor_stored_message_t) m = NULL;
    cor_status_t s = cor_store_message_get(src->st, row, &m);
    if (s == COR_OK)
        s = cor_store_message_raw(src->st, row, &j->raw);
    if (s == COR_ERR_NOT_FOUND) {
        /* deleted since it was queued: nothing to index */
        j->status = COR_ERR_NOT_FOUND;
        j->label = g_strdup_printf("message %" G_GINT64_FORMAT, row);
        *out = j;
        return COR_OK;
    }
    if (s != COR_OK) {
        if (src->err && *src->err == NULL)
            *src->err = g_strdup(cor_store_error(src->st));
        job_free(j);
        return s;
    }
    j->received = m->received;
    j->label = g_strdup_printf("<%s>", m->message_id);
    *out = j;
    return COR_OK;
}

static cor_status_t
stored_sink(void *data, job_t *j)
{
    writer_t *wr = data;
    /* A work item goes once its message is indexed, deleted, or can never
     * be parsed; any other failure (memory, the index) leaves it queued. */
    if (j->work && (j->status == COR_OK || j->status == COR_ERR_NOT_FOUND ||
                    j->status == COR_ERR_PARSE))
        g_array_append_val(wr->work_batch, j->work);
    if (j->status == COR_ERR_NOT_FOUND) {
        /* deleted since it was queued: nothing to index (the index thread
         * owns the index until the writer is cleared; the store is the
         * truth, and searches skip rows the store no longer has) */
        progress(wr);
        return COR_OK;
    }
    if (j->status != COR_OK) {
        report_failure(wr, j);
        progress(wr);
        return COR_OK;
    }
    pending_t p = { g_steal_pointer(&j->prepared), j->row };
    g_array_append_val(wr->pending, p);
    progress(wr);
    if (wr->pending->len >= (guint) wr->batch)
        return flush(wr);
    return COR_OK;
}

static cor_status_t
index_rows(cor_store_t *st, cor_search_writer_t *w, GArray *rows, GArray *works,
           const cor_ingest_options_t *opt, cor_ingest_stats_t *stats, char **err)
{
    stored_src_t src = { st, opt ? opt->cancel : NULL, rows, works, 0, err };
    writer_t wr;
    writer_init(&wr, st, w, opt, stats, err);
    wr.total = rows->len;
    wr.catching_up = true;
    cor_status_t s = run_pipeline(worker_count(opt), opt && opt->private_threads, stored_source, &src, stored_sink, &wr);
    if (s == COR_OK)
        s = finish(&wr);
    writer_clear(&wr);
    return s;
}

cor_status_t
cor_ingest_catch_up(cor_store_t *st, cor_search_writer_t *w, const cor_ingest_options_t *opt,
                    cor_ingest_stats_t *stats, char **err)
{
    memset(stats, 0, sizeof *stats);
    for (;;) {
        if (opt && opt->cancel && g_atomic_int_get(opt->cancel))
            return COR_OK;
        g_autoptr(GArray) ids = NULL;
        g_autoptr(GArray) rows = NULL;
        cor_status_t s = cor_store_work_pending(st, "index", 50000, &ids, &rows);
        if (s != COR_OK) {
            if (err && *err == NULL)
                *err = g_strdup(cor_store_error(st));
            return s;
        }
        if (rows->len == 0)
            return COR_OK;
        int64_t before = 0, after = 0;
        if ((s = cor_store_work_count(st, "index", &before)) != COR_OK)
            return s;
        cor_ingest_stats_t part;
        memset(&part, 0, sizeof part);
        s = index_rows(st, w, rows, ids, opt, &part, err);
        stats->indexed += part.indexed;
        stats->failed += part.failed;
        if (s != COR_OK)
            return s;
        if ((s = cor_store_work_count(st, "index", &after)) != COR_OK)
            return s;
        if (after >= before)
            return COR_OK;      /* only items that keep failing are left */
    }
}

cor_status_t
cor_ingest_reindex(cor_store_t *st, cor_search_writer_t *w, const cor_ingest_options_t *opt,
                   cor_ingest_stats_t *stats, char **err)
{
    memset(stats, 0, sizeof *stats);
    /* Crash-safe: first, in one transaction, every stored message gets an
     * 'index' work item (replacing those pending); then the index is
     * cleared and the work queue is caught up, batch by batch.  A crash at
     * any point leaves work items for everything not yet re-indexed. */
    cor_status_t s = cor_store_begin(st);
    if (s == COR_OK)
        s = cor_store_work_done(st, "index", G_MAXINT64);
    if (s == COR_OK)
        s = cor_store_work_add_all(st, "index");
    if (s == COR_OK)
        s = cor_store_commit(st);
    if (s != COR_OK) {
        cor_store_rollback(st);
        if (err && *err == NULL)
            *err = g_strdup(cor_store_error(st));
        return s;
    }
    if ((s = cor_search_writer_clear(w)) != COR_OK) {
        if (err && *err == NULL)
            *err = g_strdup_printf("index: %s", cor_search_writer_error(w));
        return s;
    }
    return cor_ingest_catch_up(st, w, opt, stats, err);
}
