/* records/records.h — what the records modules share: who is acting, the
 * audit trail, and legal holds.  The tables are in core/store.h ("Records",
 * schema v6).
 *
 * Every records command (corridor foi, sar, case, hold, retention, audit)
 * acts for a named operator and writes one audit entry per thing it does
 * (search, view, export, hold, release, redaction, approval, disposal, role
 * change), in the same transaction as the change it records, so there is no
 * change without its entry and no entry without its change.
 *
 * The records tables' SQL lives in records/ (it includes core/store_internal.h
 * for the statement cache); nothing outside records/ writes those tables,
 * except that the messages_hold trigger guards every deletion.
 *
 * Ownership: strings returned are transfer full (g_free) unless said.
 */
#ifndef COR_RECORDS_H
#define COR_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "core/store.h"

/* The operator's name: `option` when given (the --operator value), else the
 * login user's name (getpwuid(geteuid())), else "uid-N".  Transfer full. */
char *cor_records_operator(const char *option);

/* ---- the audit trail (core/audit.h, the same declaration) ---- */

/* Appends one entry inside the caller's open transaction (cor_store_begin).
 * action: a short verb ("case.open", "foi.search", "export", "hold.place",
 * "hold.release", "redact", "retention.approve", "retention.run", ...);
 * case_ref: "" when none; detail_json: a JSON object (NULL: "{}"), stored as
 * given.  On COR_OK, *seq_out (if not NULL) is the entry's sequence number. */
cor_status_t cor_audit_append(cor_store_t *st, const char *operator_name,
                              const char *action, const char *case_ref,
                              const char *detail_json, int64_t *seq_out,
                              char **err);

/* ---- legal holds (records/hold.c) ---- */

/* True when message `msg` (messages.id) is under a live hold (the view
 * held_messages); *hold_out (if not NULL) is one hold's id. */
cor_status_t cor_hold_check(cor_store_t *st, int64_t msg, bool *held,
                            int64_t *hold_out, char **err);

#endif
