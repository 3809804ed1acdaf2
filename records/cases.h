/* records/cases.h — FOI, EIR and subject-access cases: opening one with its
 * statutory due date (records/calendar.h), notes, stopping and resuming the
 * clock, closing, the searches run for a case and the messages selected for
 * it (the disclosure set).
 *
 * Every function that changes something runs inside the caller's
 * transaction (cor_records_begin ... cor_store_commit) and appends its audit
 * entry (records/audit.h) there too, so a change and its entry are committed
 * together or not at all.  Audit actions written here: case.open, case.view,
 * case.note, case.stop-clock, case.resume, case.close, case.add, foi.search,
 * sar.search.
 *
 * Tables: cases, case_events, case_queries, case_messages (core/store.h
 * "Records").  Event kinds: 'open', 'note', 'stop', 'resume', 'close';
 * query kinds: 'foi' and 'sar' (a search run with `corridor foi|sar
 * search`), 'query' and 'ids' (`case add --query` and `case add ID...`).
 *
 * Errors come back as a status and *err (transfer full): COR_ERR_NOT_FOUND
 * "no case 'REF'", COR_ERR_EXISTS "case 'REF' exists already",
 * COR_ERR_INVALID for a closed case, a clock already stopped or a date
 * before receipt (each says which).
 */
#ifndef COR_RECORDS_CASES_H
#define COR_RECORDS_CASES_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "core/store.h"
#include "records/calendar.h"

typedef struct cor_case {
    int64_t id;
    char *ref;
    cor_request_type_t type;
    cor_jurisdiction_t jurisdiction;
    char *received;            /* YYYY-MM-DD */
    char *due;                 /* YYYY-MM-DD; while stopped, the due date before the stop */
    char *status;              /* open, stopped, closed */
    char *stopped_on;          /* YYYY-MM-DD, "" unless stopped */
    char *stop_kind;           /* "clarification" or "fee" while stopped, else "" */
    char *clock_from;          /* YYYY-MM-DD the count runs from: received, or
                                  the day a stop restarted it (calendar.h) */
    int64_t days_stopped;      /* records/calendar.h: working days (FOI/EIR) or days
                                  (SAR) disregarded since clock_from */
    char *person;              /* a SAR's data subject, "" otherwise */
    char *opened_by;
    int64_t opened;            /* seconds since 1970 */
    int64_t closed;            /* 0 while not closed */
    int64_t messages;          /* selected for the case */
    int64_t bytes;             /* their total size */
} cor_case_t;

void cor_case_free(cor_case_t *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_case_t, cor_case_free)

/* Case references: 1–64 characters, letters, digits and - _ . / : and not
 * starting with '-'. */
bool cor_case_ref_valid(const char *ref);

/* Begins the transaction of a records command and records a change of the
 * officer list when there is one (cor_audit_sync_officers; `officers`
 * NULL-terminated, may be NULL).  On failure nothing is open. */
cor_status_t cor_records_begin(cor_store_t *st, const char *operator_name,
                               const char *const *officers, char **err);

/* Opens a case.  `person` is for a SAR (required there; "" or NULL for FOI
 * and EIR).  *out (may be NULL) transfer full. */
cor_status_t cor_case_open(cor_store_t *st, const char *operator_name, const char *ref,
                           cor_request_type_t type, cor_jurisdiction_t jurisdiction,
                           cor_day_t received, const char *person, cor_case_t **out,
                           char **err);

/* A case by reference, with its message count and bytes (transfer full). */
cor_status_t cor_case_get(cor_store_t *st, const char *ref, cor_case_t **out, char **err);

/* The cases: open and stopped ones soonest due first, then (with `all`) the
 * closed ones, most recently closed first (GPtrArray of cor_case_t*,
 * transfer full). */
cor_status_t cor_case_list(cor_store_t *st, bool all, GPtrArray **out, char **err);

/* Writes the case.view audit entry for `case show`. */
cor_status_t cor_case_viewed(cor_store_t *st, const char *operator_name, const cor_case_t *c,
                             char **err);

cor_status_t cor_case_note(cor_store_t *st, const char *operator_name, const char *ref,
                           const char *text, char **err);

/* Stops the clock on `on` (received <= on; not after the due date; the case
 * open and running) for a clarification or a fee (records/calendar.h says
 * what each does when the clock resumes). */
cor_status_t cor_case_stop_clock(cor_store_t *st, const char *operator_name, const char *ref,
                                 cor_stop_kind_t kind, cor_day_t on, const char *reason,
                                 char **err);

/* Resumes a stopped clock on `on` (>= the stop): the day the clarification
 * or the fee arrived.  Applies the stop's rule (cor_cal_resume) and
 * recomputes the due date; *c_out (may be NULL) is the case afterwards
 * (transfer full). */
cor_status_t cor_case_resume(cor_store_t *st, const char *operator_name, const char *ref,
                             cor_day_t on, cor_case_t **c_out, char **err);

cor_status_t cor_case_close(cor_store_t *st, const char *operator_name, const char *ref,
                            char **err);

/* The case by ref, failing (COR_ERR_INVALID) when it is closed: the check
 * before a search or an addition (transfer full). */
cor_status_t cor_case_get_open(cor_store_t *st, const char *ref, cor_case_t **out, char **err);

/* The rows' total size (messages.size) and how many of them the store has:
 * rows the store no longer has are dropped from `msgs` (GArray of
 * int64_t, changed in place). */
cor_status_t cor_case_measure(cor_store_t *st, GArray *msgs, int64_t *bytes, char **err);

/* Records a search run for the case: a case_queries row (kind 'foi' or
 * 'sar') and the audit entry `action` ("foi.search", "sar.search") with the
 * query, count and bytes.  *query_id (may be NULL) is the row's id. */
cor_status_t cor_case_record_search(cor_store_t *st, const char *operator_name,
                                    const cor_case_t *c, const char *kind, const char *action,
                                    const char *query, int64_t count, int64_t bytes,
                                    int64_t *query_id, char **err);

/* What cor_case_add reports. */
typedef struct cor_case_add_result {
    int64_t matched;           /* messages given (after measuring) */
    int64_t added;             /* of them, new to the case */
    int64_t total;             /* the case's messages afterwards */
    int64_t total_bytes;       /* their size */
    int64_t matched_bytes;
} cor_case_add_result_t;

/* Adds message rows to the case.  With query_id 0, records a case_queries
 * row of `kind` ('query' or 'ids') for `query` first (for ids: the ids
 * given, space separated); with query_id from cor_case_record_search, adds
 * under that search.  Writes the case.add audit entry. */
cor_status_t cor_case_add(cor_store_t *st, const char *operator_name, const cor_case_t *c,
                          const char *kind, const char *query, int64_t query_id, GArray *msgs,
                          cor_case_add_result_t *res, char **err);

/* One search run for a case. */
typedef struct cor_case_query {
    int64_t id;
    char *kind;
    char *query;
    int64_t at;
    char *operator_name;
    int64_t count;
    int64_t bytes;
} cor_case_query_t;
void cor_case_query_free(cor_case_query_t *q);

/* One event of a case. */
typedef struct cor_case_event {
    int64_t id;
    int64_t at;
    char *operator_name;
    char *kind;
    char *text;
} cor_case_event_t;
void cor_case_event_free(cor_case_event_t *e);

/* A case's queries and events, oldest first (transfer full). */
cor_status_t cor_case_queries(cor_store_t *st, int64_t case_id, GPtrArray **out, char **err);
cor_status_t cor_case_events(cor_store_t *st, int64_t case_id, GPtrArray **out, char **err);

/* The message rows selected for a case, in the order added (GArray of
 * int64_t, transfer full). */
cor_status_t cor_case_messages(cor_store_t *st, int64_t case_id, GArray **out, char **err);

/* Days left until the due date from `today`: calendar days (negative when
 * overdue) and, for FOI/EIR, working days (for a SAR the same as calendar
 * days).  A stopped case counts from its stop day (what was left when it
 * stopped; a clarification will restart the count anyway). */
cor_status_t cor_case_days_left(const cor_case_t *c, cor_day_t today, int64_t *days,
                                int64_t *working_days, char **err);

/* Runs `query` (the core query language, docs/search.md) over EVERY group,
 * private and restricted places included, without a limit: the message
 * rows the store has, oldest first (GArray of int64_t, transfer full) and
 * their total size.  COR_ERR_QUERY with "malformed query: ..." in *err. */
cor_status_t cor_case_search(cor_store_t *st, const char *index_dir, const char *query,
                             GArray **rows, int64_t *bytes, char **err);

/* The SAR query for a person: from, to or cc the address, or mentioning the
 * address or any of `names` (NULL-terminated, may be NULL) — in the core
 * query language (transfer full). */
char *cor_case_sar_query(const char *address, const char *const *names);

#endif
