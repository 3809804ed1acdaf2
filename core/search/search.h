/* core/search/search.h — the full-text index, plain C over Xapian.
 *
 * The only header other folders include for search.  Behind it is C++
 * (search.cc, query.cc); no C++ type or exception crosses this interface:
 * every extern "C" body is one try, and a shared classifier turns each
 * Xapian::Error into a cor_status_t with its text kept in the handle.
 *
 * The index is derived data (DESIGN.md invariant 1): `corridor reindex`
 * rebuilds it from the store.  One writer at a time (Xapian's own lock);
 * readers open it read-only.  The Xapian document id is the store's message
 * row id, so a document is replaced, never duplicated.
 *
 * Query language (compatible with what notmuch and public-inbox users know):
 *   bare words and "phrases" search subject, body (new and quoted text),
 *   inline text attachments; AND, OR, NOT, -word, ( ), word* (prefix);
 *   implicit AND between terms;
 *   from:/f:  to:/t:  cc:/c:  subject:/s:  body:/b:  q: (quoted text)
 *   nq: (new text)  attachment:/n: (file name)  has:attachment
 *   group:/g:  id:/m:  thread:  date:/d:
 *   date values: YYYY-MM-DD, YYYYMMDD, YYYY-MM, YYYY, A..B, A.., ..B, and
 *   relative Nd / Nw / Nm / Ny (N days/weeks/months/years ago up to now);
 *   date bounds are calendar days in the local time zone (TZ), end inclusive;
 *   English stemming for free text.
 * The single prefix table in query.cc drives both indexing and parsing.
 * A malformed query (unknown prefix, unbalanced parenthesis or quote, bad
 * date, dangling operator) fails with COR_ERR_QUERY and a message that names
 * the 1-based character position: "position 7: unknown prefix 'foo:'".
 *
 * Group scoping is an argument (cor_search_query.groups), never something a
 * caller adds to the query string: visibility is decided by the caller
 * (core/visibility) and passed in.
 */
#ifndef COR_SEARCH_H
#define COR_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the index needs of one message: plain C, all strings UTF-8 and
 * borrowed (transfer none) for the duration of the call. */
typedef struct cor_search_doc {
    uint64_t docid;            /* store message row id, > 0; or 0, see
                                  cor_search_writer_add_at */
    const char *message_id;    /* without <> */
    const char *subject;
    const char *from;          /* display form "Name <addr>" */
    const char *to;
    const char *cc;
    int64_t date;              /* epoch seconds */
    const char *new_text;
    const char *quoted_text;
    const char *signature;     /* indexed as body text too */
    const char *attachment_text;
    const char *const *attachment_names; size_t n_attachment_names;
    const char *const *groups; size_t n_groups;      /* group names; a name with
                                                        COR_SEARCH_RESTRICTED_MARK
                                                        in front is a restricted
                                                        place (see below) */
    const uint64_t *thread_ids; size_t n_thread_ids; /* one per group membership */
} cor_search_doc_t;

/* A restricted place: the message is kept in that group for FOI roles only
 * (a protective marking, filters/filter.h).  Wherever a writer function
 * takes group names, "!name" means group `name`, restricted: the document
 * answers `group:name` and searches with all_groups (officers), never a
 * search scoped to the searcher's groups. */
#define COR_SEARCH_RESTRICTED_MARK '!'

/* ---- writing ---- */

typedef struct cor_search_writer cor_search_writer_t;

/* A document whose terms are generated but not yet written: building is the
 * expensive part and is thread-safe (no database involved), so import workers
 * build documents in parallel and the single writer only adds them. */
typedef struct cor_search_prepared cor_search_prepared_t;

/* Opens (creating when needed) the index at `dir` for writing.
 * COR_ERR_BUSY when another writer holds the lock.  *err transfer full. */
cor_status_t cor_search_writer_open(const char *dir, cor_search_writer_t **out,
                                    char **err);

/* Builds the terms of `doc` (thread-safe; transfer full: the writer's add
 * consumes it, or cor_search_prepared_free). */
cor_status_t cor_search_prepare(const cor_search_doc_t *doc,
                                cor_search_prepared_t **out, char **err);
void cor_search_prepared_free(cor_search_prepared_t *p);

/* Adds or replaces the document (by docid).  Takes ownership of `p` in every
 * case.  Changes become durable at the next commit. */
cor_status_t cor_search_writer_add(cor_search_writer_t *w, cor_search_prepared_t *p);

/* For documents prepared before their place is known (import prepares in
 * worker threads; the store then decides the row id and the thread): a
 * cor_search_doc_t with docid 0 may be prepared, and is added here with its
 * docid and with `groups`/`thread_ids` replacing any group and thread terms.
 * Takes ownership of `p` in every case. */
cor_status_t cor_search_writer_add_at(cor_search_writer_t *w, cor_search_prepared_t *p,
                                      uint64_t docid,
                                      const char *const *groups, size_t n_groups,
                                      const uint64_t *thread_ids, size_t n_thread_ids);

/* Replaces the group and thread terms of an indexed document (its thread was
 * merged into another, or it joined a group).  A document not in the index is
 * not an error: it will be indexed with its place. */
cor_status_t cor_search_writer_relocate(cor_search_writer_t *w, uint64_t docid,
                                        const char *const *groups, size_t n_groups,
                                        const uint64_t *thread_ids, size_t n_thread_ids);

/* Removes a document by docid (not found is not an error). */
cor_status_t cor_search_writer_delete(cor_search_writer_t *w, uint64_t docid);

/* Removes every document (for reindex). */
cor_status_t cor_search_writer_clear(cor_search_writer_t *w);

cor_status_t cor_search_writer_commit(cor_search_writer_t *w);

/* Text of the last error on this handle (transfer none). */
const char *cor_search_writer_error(const cor_search_writer_t *w);

/* Commits and closes; NULL is fine. */
cor_status_t cor_search_writer_close(cor_search_writer_t *w);

/* ---- searching ---- */

typedef struct cor_search_db cor_search_db_t;
typedef struct cor_search_results cor_search_results_t;

typedef enum cor_search_sort {
    COR_SEARCH_SORT_DATE_DESC = 0,  /* newest first (default) */
    COR_SEARCH_SORT_DATE_ASC,
    COR_SEARCH_SORT_RELEVANCE,
} cor_search_sort_t;

typedef struct cor_search_query {
    const char *query;               /* the user's query string */
    const char *const *groups;       /* groups the searcher may see; */
    size_t n_groups;                 /* n_groups == 0 means *no* group */
    bool all_groups;                 /* true: ignore `groups` (FOI officers) */
    bool restricted_places;          /* true: a restricted place in one of
                                        `groups` matches too (an officer's
                                        search scoped to groups) */
    cor_search_sort_t sort;
    size_t offset;
    size_t limit;                    /* 0: no limit */
    int64_t now;                     /* "now" for relative dates; 0: time(NULL) */
    bool exact_total;                /* count every match, so that
                                        cor_search_results_total is exact, not
                                        Xapian's estimate (costs more for
                                        broad queries) */
} cor_search_query_t;

/* Opens the index read-only.  A missing index is COR_ERR_NOT_FOUND. */
cor_status_t cor_search_db_open(const char *dir, cor_search_db_t **out, char **err);
void cor_search_db_close(cor_search_db_t *db);
const char *cor_search_db_error(const cor_search_db_t *db);

/* Number of documents in the index. */
uint64_t cor_search_db_count(cor_search_db_t *db);

/* Runs a query.  COR_ERR_QUERY with the position in the error text for a
 * malformed query. */
cor_status_t cor_search_run(cor_search_db_t *db, const cor_search_query_t *q,
                            cor_search_results_t **out);

/* Counts matches without fetching them. */
cor_status_t cor_search_count(cor_search_db_t *db, const cor_search_query_t *q,
                              uint64_t *count);

/* Result iterator: valid/next/get. */
bool cor_search_results_valid(const cor_search_results_t *r);
void cor_search_results_next(cor_search_results_t *r);
uint64_t cor_search_results_docid(const cor_search_results_t *r);
/* Total number of matches: exact with cor_search_query_t.exact_total, else
 * Xapian's estimate. */
uint64_t cor_search_results_total(const cor_search_results_t *r);
void cor_search_results_free(cor_search_results_t *r);

/* A snippet of `text` (`len` bytes of UTF-8; not NUL-terminated; a
 * truncated last character is dropped) around where the query of `r`
 * matches: about `max_chars` bytes of whole words, "…" where text was left
 * out, runs of white space and control characters made one space.  The
 * words the query matches (as the query parser stems them; prefixed-field
 * terms such as from: do not mark body words) are between <mark> and
 * </mark>; the rest is HTML-escaped (& < > " ').  Without a match it is the
 * start of the text, unmarked.  NULL only when out of memory or on a bad
 * argument (transfer full, g_free).  The database `r` came from must still
 * be open. */
char *cor_search_results_snippet(const cor_search_results_t *r, const char *text, size_t len,
                                 size_t max_chars);

/* The same snippet as plain text: no marks, no escaping (for JSON)
 * (transfer full). */
char *cor_search_results_snippet_text(const cor_search_results_t *r, const char *text,
                                      size_t len, size_t max_chars);

/* Checks a query's syntax without a database (for tests and error messages).
 * COR_OK or COR_ERR_QUERY with *err (transfer full). */
cor_status_t cor_search_check_query(const char *query, char **err);

#ifdef __cplusplus
}
#endif

#endif
