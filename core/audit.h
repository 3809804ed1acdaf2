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
 *    byte for byte as given), login_uid and login (since schema v7), prev
 *    (the previous entry's hash; 64 '0's for entry 1) and hash.  Triggers
 *    refuse UPDATE and DELETE on the table.
 *
 *    The operator is a name the command was given (--operator) or the web's
 *    signed-in officer; the login is who really ran the process: the uid
 *    the person logged in as — the kernel's audit login uid
 *    (/proc/self/loginuid, which su and sudo keep) when it is set, else
 *    the process's real uid (a service, a container) — and that uid's
 *    user name ("uid-N" when it has none).  Two-person approval compares
 *    logins, not operator names (records/retention.h).
 *
 * 2. What the hash covers.  hash = lowercase hex of SHA-256 over a domain
 *    line and netstrings, NS(x) = the decimal length of x's UTF-8 bytes,
 *    ':', the bytes, ','; numbers in decimal without leading zeros (e.g.
 *    NS(12) = "2:12,").  Version 2, every entry written since schema v7:
 *        "corridor-audit-2\n" || NS(seq) || NS(at) || NS(operator)
 *        || NS(login_uid) || NS(login) || NS(action) || NS(case_ref)
 *        || NS(detail) || NS(prev)
 *    Version 1, the entries written before (login_uid and login NULL),
 *    which keep their hashes so existing chains still verify:
 *        "corridor-audit-1\n" || NS(seq) || NS(at) || NS(operator)
 *        || NS(action) || NS(case_ref) || NS(detail) || NS(prev)
 *    An entry with a login is always checked as version 2 and one without
 *    as version 1, so removing a login (to pass as an old entry) changes
 *    the hash.  Every field is covered, each field's extent is fixed by its
 *    length, and the previous entry's hash chains the entries: changing,
 *    removing or moving one entry breaks the hash of that entry or the
 *    prev of the next.
 *
 * 3. The anchors.  The chain alone cannot show that its LAST entries were
 *    removed.  So each append also records the new head "SEQ HASH":
 *      a. in the store's meta table, key 'audit_head', in the same
 *         transaction as the entry;
 *      b. in the anchor file, STORE.audit-anchor (next to the store file,
 *         e.g. STATE/corridor.db.audit-anchor): one line "SEQ HASH" appended
 *         (O_APPEND) and fsync'd when the transaction commits (an SQLite
 *         commit hook: if the file cannot be written the commit is refused,
 *         so no entry is committed without its anchor line, and the
 *         handle's error says why: cor_store_commit gives COR_ERR_IO).  The
 *         file is never rewritten.  It is created mode 0660 in the state
 *         directory's group (`corridor init`, cor_audit_anchor_create, or
 *         the first commit), so every member of the records group can
 *         append; the installation makes it append-only (chattr +a) and
 *         ships a copy off the machine (docs/records.md).
 *    records/audit.h design note 4 says what `audit verify` checks.
 *
 * 4. Durability.  An entry and its meta anchor are rows written in the
 *    caller's transaction, so the SQLite commit is their single moment of
 *    truth.  The anchor line is written from the connection's commit hook,
 *    i.e. while the commit holds the write lock (so lines are in commit
 *    order, whichever process or connection commits) and before it is
 *    final: O_APPEND write, fsync (and the directory's fsync when the file
 *    was created; a directory that cannot be opened or synced refuses the
 *    commit).
 *
 *    The remaining window — the line is written, then the commit itself
 *    fails or the process dies — leaves a "stray" line: one or more lines
 *    at the end of the file naming entry head+1, which the store does not
 *    have.  The next append (the first of its transaction, under the write
 *    lock) reads the file's tail and, when it ends with the head's own line
 *    followed only by lines for seq head+1, first appends an entry
 *    'audit.stray-anchor' with {"stray":[{"seq":S,"hash":"H"},...]} (it
 *    takes seq S itself), then the caller's.  Verify accepts a file line
 *    whose hash differs from its entry's exactly when that entry is an
 *    audit.stray-anchor entry listing the line, and prints each such event
 *    as a note: a crash looks the same as deleting the trail's last entry
 *    and rewriting the meta anchor, which is why an off-machine copy of
 *    the file matters (docs/records.md).
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
 * note 3).  The entry records this process's login (cor_audit_login) and
 * has a version-2 hash.  When it is the transaction's first and the anchor
 * file ends with stray lines (design note 4), an 'audit.stray-anchor'
 * entry recording them goes first.  On COR_OK, *seq_out (if not NULL) is
 * the entry's number.  The time is the system clock's. */
cor_status_t cor_audit_append(cor_store_t *st, const char *operator_name,
                              const char *action, const char *case_ref,
                              const char *detail_json, int64_t *seq_out,
                              char **err);

/* The version-1 hash of an entry written before schema v7 (no login;
 * design note 2), into out[65]. */
void cor_audit_hash(int64_t seq, int64_t at, const char *operator_name, const char *action,
                    const char *case_ref, const char *detail, const char *prev, char out[65]);

/* The version-2 hash (design note 2), into out[65]. */
void cor_audit_hash2(int64_t seq, int64_t at, const char *operator_name, int64_t login_uid,
                     const char *login, const char *action, const char *case_ref,
                     const char *detail, const char *prev, char out[65]);

/* The login this process's entries record (design note 1): *uid and *name
 * (transfer full).  Worked out once per process. */
void cor_audit_login(int64_t *uid, char **name);

/* Makes this process's entries record another login from now on (uid >= 0
 * and a name), or its own again (uid < 0).  For unit tests that play two
 * people in one process; a program that authenticates its users itself
 * could use it too.  Not thread-safe against concurrent appends. */
void cor_audit_set_login(int64_t uid, const char *name);

/* The anchor file for the store (design note 3b) (transfer full). */
char *cor_audit_anchor_path(cor_store_t *st);

/* Creates the anchor file when it is missing: empty, mode 0660, in the
 * group of the directory it is in (what `corridor init` does, so that the
 * first officer's command does not make it theirs alone).  An existing
 * file is left as it is.  COR_ERR_IO with *err naming the file. */
cor_status_t cor_audit_anchor_create(cor_store_t *st, char **err);

#endif
