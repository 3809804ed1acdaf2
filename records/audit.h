/* records/audit.h — the records audit trail: append-only and hash-chained,
 * with its head anchored twice, so that any edit, deletion, insertion or
 * reordering shows, also by someone who opens the store with the sqlite3
 * tool and drops the protective triggers first.
 *
 * cor_audit_append (declared in records/records.h) is the one way in.
 *
 * Design notes
 *
 * 1. The entry.  A row of the `audit` table (core/store.h "Records"):
 *    seq (1, 2, 3, ... with no gaps), at (seconds since 1970, UTC),
 *    operator, action, case_ref ("" when none), detail (a JSON object, kept
 *    byte for byte as given), prev (the previous entry's hash; 64 '0's for
 *    entry 1) and hash.
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
 *         so no entry is committed without its anchor line).  When a commit
 *         fails after its line was written, a line "rollback SEQ HASH"
 *         retracts it.  The file is never rewritten; an installation may make
 *         it append-only (chattr +a) or copy it off the machine.
 *
 * 4. Verification (cor_audit_verify) walks the table in seq order and
 *    reports the FIRST problem:
 *      - a gap in seq: entry N missing (deleted);
 *      - prev differs from the previous entry's hash (an entry before it was
 *        removed, inserted or moved);
 *      - hash differs from the recomputed one (the entry was edited, or
 *        moved to another seq);
 *      - the meta anchor names another head than the table's last entry
 *        (entries after it deleted, or added outside corridor);
 *      - the anchor file disagrees: a line names an entry the table does
 *        not have or has with another hash, or the table's last entry is
 *        not the file's last line.
 *    Each check names what disagrees, so "the table and meta agree but the
 *    file does not" (someone rewrote both store anchors) is visible.
 *
 * 5. Role changes.  The records officers ([records] officers) are config,
 *    not store data; cor_audit_sync_officers compares the configured list
 *    with the one in the last 'role.change' entry and appends a new one when
 *    they differ.  Every records command calls it when it starts.
 *
 * Ownership: strings returned are transfer full (g_free); *err transfer full.
 */
#ifndef COR_RECORDS_AUDIT_H
#define COR_RECORDS_AUDIT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "core/store.h"
#include "records/records.h"

/* The hash of entry 1's prev: 64 '0's. */
#define COR_AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

typedef struct cor_audit_entry {
    int64_t seq;
    int64_t at;
    char *operator_name;
    char *action;
    char *case_ref;
    char *detail;         /* JSON object text, as stored */
    char *prev;
    char *hash;
} cor_audit_entry_t;

void cor_audit_entry_free(cor_audit_entry_t *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_audit_entry_t, cor_audit_entry_free)

/* The hash of an entry from its fields (design note 2), into out[65]. */
void cor_audit_hash(int64_t seq, int64_t at, const char *operator_name, const char *action,
                    const char *case_ref, const char *detail, const char *prev, char out[65]);

/* The anchor file for the store (design note 3b) (transfer full). */
char *cor_audit_anchor_path(cor_store_t *st);

/* The entries in seq order; with `case_ref` not NULL only that case's
 * (GPtrArray of cor_audit_entry_t*, transfer full). */
cor_status_t cor_audit_list(cor_store_t *st, const char *case_ref, GPtrArray **out, char **err);

/* The result of a verification. */
typedef struct cor_audit_report {
    int64_t entries;      /* rows read */
    int64_t head_seq;     /* the table's last seq, 0 when empty */
    bool ok;
    int64_t bad_seq;      /* the first bad entry (0 when ok or not an entry) */
    char *problem;        /* what is wrong, one line ("" when ok) */
} cor_audit_report_t;
void cor_audit_report_clear(cor_audit_report_t *r);

/* Checks the chain and both anchors (design note 4).  COR_OK with r->ok
 * false when the trail is damaged; another status only when it could not
 * be read.  Holds the store's write lock while it reads (so that no commit
 * is half-way between the file and the table), which makes it wait for a
 * writer and writers wait for it. */
cor_status_t cor_audit_verify(cor_store_t *st, cor_audit_report_t *r, char **err);

/* Verifies entries given as parsed rows, the way a third party would with
 * an export (no anchors): COR_OK with r filled. */
void cor_audit_verify_entries(GPtrArray *entries, cor_audit_report_t *r);

/* One entry as a JSON object line for `audit export`/`audit list --json`:
 * {"seq","at","operator","action","case_ref","detail","prev","hash"},
 * detail as the stored string (transfer full). */
char *cor_audit_entry_json(const cor_audit_entry_t *e);

/* Design note 5: `officers` is the configured list (comma or space
 * separated, may be ""); appends a 'role.change' entry with
 * {"officers":[...], "previous":[...]} (sorted, unique) when it differs
 * from the last recorded list.  Inside the caller's transaction.
 * *changed (may be NULL) says whether an entry was written. */
cor_status_t cor_audit_sync_officers(cor_store_t *st, const char *operator_name,
                                     const char *officers, bool *changed, char **err);

#endif
