/* core/audit.h — the records audit trail's storage: append-only and
 * hash-chained, with its head anchored twice.
 *
 * The trail belongs to records/ (records/audit.h: reading, verifying,
 * exporting, the officer list), but more than records/ must write to it:
 * an officer's search on the web (archive-web/http.c) is a records search
 * and is audited like `corridor foi search`.  DESIGN.md lets records/,
 * archive-web/ and digest/ use only core/, so the one way to append an
 * entry lives here, and records/audit.h builds on it.
 *
 * Design notes
 *
 * 1. The entry.  A row of the `audit` table (core/store.h "Records"):
 *    seq (1, 2, 3, ... with no gaps), at (seconds since 1970, UTC),
 *    operator, action, case_ref ("" when none), detail (a JSON object, kept
 *    byte for byte as given), prev (the previous entry's hash; 64 '0's for
 *    entry 1) and hash.  Triggers refuse UPDATE and DELETE on the table.
 *
 * 2. What the hash covers.  hash = lowercase hex of
 *        SHA-256( "corridor-audit-1\n"
 *                 || NS(seq) || NS(at) || NS(operator) || NS(action)
 *                 || NS(case_ref) || NS(detail) || NS(prev) )
 *    where NS(x) is a netstring: the decimal length of x's UTF-8 bytes, ':',
 *    the bytes, ','; seq and at are written in decimal without leading zeros
 *    (e.g. NS(12) = "2:12,").  Every field is covered, each field's extent is
 *    fixed by its length (no ambiguity between "a|b" and "a" "|b"), and the
 *    previous entry's hash chains the entries: changing, removing or moving
 *    one entry breaks the hash of that entry or the prev of the next.
 *
 * 3. The anchors.  The chain alone cannot show that its LAST entries were
 *    removed.  So each append also records the new head "SEQ HASH":
 *      a. in the store's meta table, key 'audit_head', in the same
 *         transaction as the entry;
 *      b. in the anchor file, STORE.audit-anchor (next to the store file,
 *         e.g. STATE/corridor.db.audit-anchor): one line "SEQ HASH" appended
 *         (O_APPEND) and fsync'd when the transaction commits (an SQLite
 *         commit hook: if the file cannot be written the commit is refused,
 *         so no entry is committed without its anchor line).  The file is
 *         never rewritten; an installation may make it append-only
 *         (chattr +a) or copy it off the machine.
 *    records/audit.h design note 4 says what `audit verify` checks.
 *
 * 4. Durability.  An entry and its meta anchor are rows written in the
 *    caller's transaction, so the SQLite commit is their single moment of
 *    truth.  The anchor line is written from the connection's commit hook,
 *    i.e. while the commit holds the write lock (so lines are in commit
 *    order, whichever process or connection commits) and before it is
 *    final: O_APPEND write, fsync (and the directory's fsync when the file
 *    was created).  The remaining window (the line is written and then the
 *    commit itself fails, or the process dies) leaves a line for an entry
 *    the store does not have, which verify reports.
 *
 * 5. Who appends.  Any store handle, on any thread, inside a write
 *    transaction (cor_store_begin) the caller commits: the records commands
 *    on theirs, the daemon on a short transaction of its own (the officer
 *    list at start and on SIGHUP), the web's request threads on their
 *    pooled handles (an officer's search).  Appends from several
 *    connections and processes serialise on SQLite's write lock, which the
 *    reading of the head (the last seq) happens under.
 *
 * Ownership: *err transfer full; strings returned transfer full (g_free).
 */
#ifndef COR_AUDIT_H
#define COR_AUDIT_H

#include <stdint.h>

#include "core/status.h"
#include "core/store.h"

/* The hash of entry 1's prev: 64 '0's. */
#define COR_AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* Appends one entry inside the caller's open write transaction
 * (cor_store_begin; COR_ERR_INTERNAL outside one).
 * action: a short verb ("case.open", "foi.search", "web.search", "export",
 * "hold.place", "role.change", ...); case_ref: "" or NULL when none;
 * detail_json: a JSON object (NULL: "{}"), stored as given (COR_ERR_INVALID
 * when it is not one, or operator/action are empty or not UTF-8).  Also
 * sets the meta anchor and arms the anchor file line for the commit (design
 * note 3).  On COR_OK, *seq_out (if not NULL) is the entry's number.  The
 * time is the system clock's. */
cor_status_t cor_audit_append(cor_store_t *st, const char *operator_name,
                              const char *action, const char *case_ref,
                              const char *detail_json, int64_t *seq_out,
                              char **err);

/* The hash of an entry from its fields (design note 2), into out[65]. */
void cor_audit_hash(int64_t seq, int64_t at, const char *operator_name, const char *action,
                    const char *case_ref, const char *detail, const char *prev, char out[65]);

/* The anchor file for the store (design note 3b) (transfer full). */
char *cor_audit_anchor_path(cor_store_t *st);

#endif
