/* records/audit.h — the records audit trail: append-only and hash-chained,
 * with its head anchored twice, so that any edit, deletion, insertion or
 * reordering shows, also by someone who opens the store with the sqlite3
 * tool and drops the protective triggers first.
 *
 * The entry, what its hash covers, the two anchors (meta 'audit_head' and
 * the anchor file STORE.audit-anchor) and how an entry is appended are in
 * core/audit.h (design notes 1-4): cor_audit_append, cor_audit_hash,
 * cor_audit_anchor_path and COR_AUDIT_GENESIS live there, because the web
 * appends too (an officer's search) and archive-web/ may use only core/.
 * This header includes it, so records/ code uses them as before.
 *
 * Design notes
 *
 * 4. Verification (cor_audit_verify) walks the table in seq order and
 *    reports the FIRST problem:
 *      - a gap in seq: entry N missing (deleted);
 *      - prev differs from the previous entry's hash (an entry before it was
 *        removed, inserted or moved);
 *      - hash differs from the recomputed one, version 1 or 2 (core/audit.h
 *        note 2) (the entry was edited, or moved to another seq);
 *      - the meta anchor names another head than the table's last entry
 *        (entries after it deleted, or added outside corridor);
 *      - the anchor file disagrees: a line names an entry the table does
 *        not have or has with another hash (unless that entry is the
 *        audit.stray-anchor entry that lists the line: core/audit.h note
 *        4), or the table's last entry is not the file's last line;
 *      - with an anchor COPY (cor_audit_verify_with; `audit verify
 *        --anchor FILE`, a copy kept off the machine): the same per-line
 *        check against the copy, and the local file must begin with the
 *        copy's lines;
 *      - the cross-check (note 6).
 *    Each check names what disagrees, so "the table and meta agree but the
 *    file does not" (someone rewrote both store anchors) is visible.  It
 *    reads in one read transaction (no write lock: a read-only auditor can
 *    verify, and writers are not held up); because a writer appends its
 *    anchor line just before its commit becomes visible, lines beyond the
 *    snapshot's head are read again a few times (up to 2 s) before they
 *    count as a problem.
 *
 *    What it cannot prove.  Someone who can write the store AND the anchor
 *    file can delete or rewrite the trail's last entries and both anchors
 *    consistently; the cross-check catches it only when a deleted entry is
 *    the record of a case, hold, plan, query, event or redaction that is
 *    still there.  Only a copy of the anchor file out of their reach (an
 *    append-only file, chattr +a; lines shipped off the machine as they
 *    are written) shows the rest.  docs/records.md says which check finds
 *    which tampering.
 *
 * 6. The cross-check.  Every records row that corridor writes with an
 *    entry must still have that entry, and every entry's row must still be
 *    there (corridor never deletes these rows):
 *      cases            one case.open entry with the case's ref;
 *      holds            hold.place {"hold":ID}; a released one also
 *                       hold.release {"hold":ID};
 *      disposals        retention.plan {"plan":ID}; approved ones also
 *                       retention.approve, run ones retention.run;
 *      case_queries     an entry of the case with {"query_id":ID}
 *                       (foi.search, sar.search, case.add);
 *      case_events      as many case.open/note/stop-clock/resume/close
 *                       entries of the case as it has open/note/stop/
 *                       resume/close events;
 *      redactions       as many as the case's 'redact' entries created
 *                       ("proposed" of op propose, the "spans" of op
 *                       manual).
 *    A row without its entry (the trail cut, or emptied with both anchors)
 *    or an entry without its row (records deleted behind corridor's back)
 *    is reported like any other tampering.
 *
 * 5. Role changes.  The records officers are config, not store data: the
 *    one list cor_config_officers() makes ([records] officers and its
 *    deprecated older name [http] officers, each entry an address as the
 *    web compares signed-in users).  cor_audit_sync_officers compares it
 *    with the list in the last 'role.change' entry and appends a new one
 *    when they differ.  Every records command calls it when it starts, and
 *    `corridor serve` at start and after SIGHUP, before the web uses the
 *    new list (cli/cmd_serve.c), so the list recorded is the list in force.
 *    The entry's operator and login are those of the command or daemon
 *    that noticed the change, not of whoever edited the file (which the
 *    file does not say).
 *
 * Ownership: strings returned are transfer full (g_free); *err transfer full.
 */
#ifndef COR_RECORDS_AUDIT_H
#define COR_RECORDS_AUDIT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/audit.h"
#include "core/status.h"
#include "core/store.h"
#include "records/records.h"

typedef struct cor_audit_entry {
    int64_t seq;
    int64_t at;
    char *operator_name;
    char *action;
    char *case_ref;
    char *detail;         /* JSON object text, as stored */
    char *prev;
    char *hash;
    int64_t login_uid;    /* when login is not NULL */
    char *login;          /* NULL: an entry written before schema v7 (hash version 1) */
} cor_audit_entry_t;

void cor_audit_entry_free(cor_audit_entry_t *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_audit_entry_t, cor_audit_entry_free)

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
    char *notes;          /* lines worth knowing that are not problems: each
                             audit.stray-anchor event ("" when none) */
} cor_audit_report_t;
void cor_audit_report_clear(cor_audit_report_t *r);

/* Checks the chain, both anchors and the cross-check (design notes 4 and
 * 6).  COR_OK with r->ok false when the trail is damaged; another status
 * only when it could not be read (COR_ERR_IO: the anchor file or copy).
 * Reads in a read transaction: takes no write lock. */
cor_status_t cor_audit_verify(cor_store_t *st, cor_audit_report_t *r, char **err);

/* The same, and also against `anchor_copy` (a copy of the anchor file
 * kept elsewhere; NULL: none). */
cor_status_t cor_audit_verify_with(cor_store_t *st, const char *anchor_copy,
                                   cor_audit_report_t *r, char **err);

/* Verifies entries given as parsed rows, the way a third party would with
 * an export (no anchors): COR_OK with r filled. */
void cor_audit_verify_entries(GPtrArray *entries, cor_audit_report_t *r);

/* One entry as a JSON object line for `audit export`/`audit list --json`:
 * {"seq","at","operator","login_uid","login","action","case_ref","detail",
 * "prev","hash"} ("login_uid" and "login" only for entries that have them,
 * i.e. hash version 2), detail as the stored string (transfer full). */
char *cor_audit_entry_json(const cor_audit_entry_t *e);

/* Design note 5: `officers` is the configured list (comma or space
 * separated, may be ""; callers pass cor_config_officers() joined); appends a 'role.change' entry with
 * {"officers":[...], "previous":[...]} (sorted, unique) when it differs
 * from the last recorded list.  Inside the caller's transaction.
 * *changed (may be NULL) says whether an entry was written. */
cor_status_t cor_audit_sync_officers(cor_store_t *st, const char *operator_name,
                                     const char *officers, bool *changed, char **err);

#endif
