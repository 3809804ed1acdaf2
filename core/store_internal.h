/* core/store_internal.h — the store handle, shared by store.c, thread.c and
 * store_policy.c only.  Nothing outside core/ includes this. */
#ifndef COR_STORE_INTERNAL_H
#define COR_STORE_INTERNAL_H

#include <sqlite3.h>

#include "core/store.h"

struct cor_store {
    sqlite3 *db;
    char *path;
    char *error;          /* last error text (owned) */
    GHashTable *stmts;    /* SQL text → sqlite3_stmt*, prepared once */
    int64_t busy_ms;      /* the busy timeout set (cor_store_set_busy_timeout) */
};

/* Records an error on the handle from SQLite's state and returns the status
 * that the SQLite result code means (COR_ERR_BUSY, COR_ERR_DISK_FULL, ...). */
cor_status_t cor_store_sqlite_error(cor_store_t *st, int rc, const char *what);

/* Records a formatted error on the handle and returns `status`. */
cor_status_t cor_store_set_error(cor_store_t *st, cor_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A cached, reset statement for `sql` (transfer none: do not finalize).
 * NULL on error (recorded on the handle). */
sqlite3_stmt *cor_store_stmt(cor_store_t *st, const char *sql);

/* A text column as a new string, "" for NULL (transfer full). */
char *cor_store_col_text(sqlite3_stmt *stmt, int i);

/* Steps a statement that returns no rows (or one not wanted) and resets
 * it; an error is recorded on the handle as `what`. */
cor_status_t cor_store_step_done(cor_store_t *st, sqlite3_stmt *stmt, const char *what);

/* Places a newly stored post in its group's threads (thread.c). */
cor_status_t cor_thread_place(cor_store_t *st, int64_t group_id, int64_t msg_row,
                              const cor_message_t *msg, int64_t now,
                              int64_t *thread_out, GArray **merged_out);

#endif
