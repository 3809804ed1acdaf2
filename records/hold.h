/* records/hold.h — legal holds: placing, releasing and listing them.
 *
 * Design notes
 * ------------
 * A hold keeps messages from being deleted — by retention, by `corridor
 * group delete`, by anything — until it is released.  Four kinds (the
 * `holds` table, core/store.h "Records"):
 *
 *   case     the messages selected for a case (case_messages), whenever
 *            asked: a message added to the case later is held too;
 *   group    the group's posts (accepted and restricted), whenever asked:
 *            posts that arrive later are held too;
 *   query    the messages a query (the core query language, every group,
 *            private and restricted included: an officer's search) matched
 *            when the hold was placed, kept in hold_messages: later mail that
 *            would match is not held (place a new hold for it);
 *   message  every stored copy with one Message-ID, kept in hold_messages.
 *
 * The view held_messages lists every message under a live hold; the store's
 * messages_hold trigger refuses to delete one, so a path that forgets to
 * ask still cannot delete a held message (it fails, loudly).  The deleting
 * paths ask first and answer clearly: retention (records/retention.h) with
 * cor_hold_check, `group delete` in the store itself (store_groups.c, which
 * refuses with COR_ERR_HELD and the holds' ids).
 *
 * Invariants:
 *  1. A hold is never deleted or edited, only released (released_by,
 *     released set once); the reason for a release is in the audit trail.
 *  2. Every place and release writes its audit entry (records/records.h) in
 *     the same transaction.
 *
 * Ownership: transfer full unless said; *err transfer full.
 */
#ifndef COR_RECORDS_HOLD_H
#define COR_RECORDS_HOLD_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/search/search.h"
#include "core/status.h"
#include "core/store.h"
#include "records/records.h"

/* One hold, as `hold list` shows it. */
typedef struct cor_hold {
    int64_t id;
    char *kind;                /* 'case', 'query', 'group', 'message' */
    char *target;              /* the case ref, query, group name or Message-ID */
    char *reason;
    char *placed_by;
    int64_t placed;
    char *released_by;         /* "" while live */
    int64_t released;          /* 0 while live */
    int64_t messages;          /* messages it covers now (stored ones) */
} cor_hold_t;

void cor_hold_free(cor_hold_t *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_hold_t, cor_hold_free)

/* True for the names a hold's kind may have. */
bool cor_hold_kind_valid(const char *kind);

/* The stored messages a query matches in every group, private and
 * restricted places included (what an officer's search finds), by row id
 * (GArray of int64_t, transfer full).  COR_ERR_QUERY with the position in
 * *err for a malformed query. */
cor_status_t cor_hold_resolve_query(cor_search_db_t *db, cor_store_t *st, const char *query,
                                    GArray **msgs, char **err);

/* Places a hold, with its 'hold.place' audit entry, in one transaction of
 * its own.  `target` by kind: a case ref (COR_ERR_NOT_FOUND when there is no
 * such case), a group name (COR_ERR_NO_GROUP), a Message-ID with or without
 * <> (COR_ERR_NOT_FOUND when none is stored), or a query whose matches are
 * given in `query_msgs` (cor_hold_resolve_query; COR_ERR_INVALID when it
 * matched nothing).  `reason` must not be empty.  *id_out: the hold's id;
 * *count_out (may be NULL): the messages it covers now. */
cor_status_t cor_hold_place(cor_store_t *st, const char *operator_name, const char *kind,
                            const char *target, const GArray *query_msgs, const char *reason,
                            int64_t now, int64_t *id_out, int64_t *count_out, char **err);

/* Releases a live hold, with its 'hold.release' audit entry (the reason is
 * kept there), in one transaction of its own.  COR_ERR_NOT_FOUND when there
 * is no such hold, COR_ERR_INVALID when it was released already. */
cor_status_t cor_hold_release(cor_store_t *st, const char *operator_name, int64_t id,
                              const char *reason, int64_t now, char **err);

/* The holds, live ones only or all (`all`), by id, each with the messages
 * it covers now (GPtrArray of cor_hold_t*, transfer full). */
cor_status_t cor_hold_list(cor_store_t *st, bool all, GPtrArray **out, char **err);

/* One hold (COR_ERR_NOT_FOUND when none). */
cor_status_t cor_hold_get(cor_store_t *st, int64_t id, cor_hold_t **out, char **err);

/* The live holds covering message `msg`, by id (GArray of int64_t, transfer
 * full; empty when none). */
cor_status_t cor_hold_holds_of(cor_store_t *st, int64_t msg, GArray **holds, char **err);

#endif
