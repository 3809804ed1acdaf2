/* records/bundle.h — the disclosure bundle of a case: one ZIP file.
 *
 * Design notes
 * ------------
 * What is in it, for the case's messages numbered 0001, 0002, ... by date
 * (then Message-ID, then store row):
 *
 *   originals/NNNN.eml         the stored original, byte for byte (its
 *                              SHA-256 is the manifest's sha256)
 *   html/NNNN.html             a printable copy: one self-contained,
 *                              accessible page (no script, no remote
 *                              anything, print CSS), the headers, the whole
 *                              text, the attachments' names linked, and for
 *                              HTML mail the formatting made safe by
 *                              core/sanitize.h
 *   attachments/NNNN/NAME      each attachment, decoded; NAME made safe
 *                              (no folders, no control or reserved
 *                              characters, at most 120 bytes, the same name
 *                              twice gets " (2)")
 *   redacted/NNNN.txt          for a message with accepted redactions: its
 *   redacted/NNNN.html         readable text (records/readable.h) with each
 *                              span replaced by "[Redacted – s.40(2)]"; the
 *                              hidden text is not in the file at all (not
 *                              hidden by CSS, not in an attribute, not in a
 *                              title); attachments are not part of a
 *                              redacted copy (their names are listed in
 *                              the text, with its redactions); in a release
 *                              every message has this copy (below)
 *   README.txt                 for the requester: what this is, how to check
 *                              a SHA-256, what a redaction and each
 *                              exemption mean
 *   manifest.csv, .json        one row per message: number, message_id,
 *                              date, from, to, cc, subject, group, url,
 *                              sha256, marking, size, redactions, and the
 *                              paths of its files in the bundle
 *   queries.csv, .json         the searches run for the case: when, by whom,
 *                              the query, how many messages and bytes
 *   redaction-log.csv          every accepted redaction: message, span,
 *                              kind, exemption, operator, time — never the
 *                              text
 *
 * manifest.csv and the other CSV files: UTF-8 without a byte order mark,
 * RFC 4180 (CRLF, fields quoted when needed), a header row.  `group` is the
 * groups holding the message, by name, separated by ';'.  `url` is the
 * archive permalink (core/links.h) in the first of them (by name) where the
 * archive shows the message — a public or staff group where it is accepted;
 * for a message only in private groups, or kept only as restricted, it is
 * empty: no archive page exists for it.  `marking` is the protective
 * marking as written (filters/marking.h), "" when none.
 *
 * The requester's version (release) holds only what the officer has seen
 * and decided on.  The redaction scanner (records/redact.h) reads one
 * thing, the message's readable text (records/readable.h: From, To, Cc,
 * Reply-To, Date, Subject, Message-ID, the attachments' names and the whole
 * text), so a release is made from that text and nothing else:
 *   - every message is given as redacted/NNNN.txt and redacted/NNNN.html,
 *     its readable text with the accepted spans applied (for a message
 *     without redactions, the text as it is); the page shows nothing else
 *     of the message (no subject in its title, no formatting);
 *   - no original, no printable copy of the original (html/), no
 *     attachment: an original holds headers, HTML attributes, hidden text
 *     and attachment contents that no scan has read;
 *   - an attachment goes in only when the officer releases it by number
 *     (opt->attachments, "0002/1": message 0002's "Attachment 1" line),
 *     under its name as the redacted text shows it; its content is the
 *     officer's decision (they reviewed it), recorded in the audit entry;
 *   - the manifest's message_id, from, to, cc, subject (and date, when the
 *     Date line has a redaction) are those header values of the redacted
 *     text; url is empty for a message with redactions (the permalink
 *     names the Message-ID and opens the unredacted page); the redaction
 *     log's message_id is the manifest's;
 *   - queries.csv/.json: every text redacted in any of the case's
 *     messages is replaced in each query by its label (ignoring case and
 *     white space: redact.h, phrases), since a search may name the person
 *     a redaction hides;
 *   - group, marking, size and the original's sha256 are given as in the
 *     officer's version: they are the council's own data about the record.
 * The officer's version has everything.
 *
 * Invariants:
 *   1. Deterministic: the same case, redactions and options give the same
 *      bytes.  Entries in a fixed order (each message's files in message
 *      order, then README, manifests, queries, log), every entry's time is
 *      the case's received date (00:00 UTC; the ZIP's DOS time field is
 *      local time, so the command runs the export with TZ=UTC), mode 0644,
 *      uid/gid 0 and no owner names, deflate at a fixed level.  Nothing
 *      depends on the clock or the machine.
 *   2. Durable and whole: the bundle is written to a temporary file next
 *      to the target, fsync'd, renamed over it and the folder fsync'd; a
 *      failure leaves no partial file under the target's name, and the
 *      temporary file a killed export left ("OUT.tmp-XXXXXX", not written
 *      for a minute) is removed by the next export to the same target.
 *   3. Audited: once the temporary file is complete and synced, one audit
 *      entry "export" (file name, its SHA-256, counts, release or not, the
 *      attachments released) is committed, and only then is the file
 *      renamed to its name: no bundle without its entry, and a failed entry
 *      leaves an earlier bundle of that name untouched.  (A rename that
 *      fails after the commit leaves an entry for a file that was not
 *      written; the error says so.)
 *   4. A redaction made on another rendering of the text (its text_sha256
 *      differs) stops the export with an error naming it (redact.h note 1).
 *   5. Consistent: everything is read in one read transaction.
 *
 * Ownership: *err transfer full.
 */
#ifndef COR_RECORDS_BUNDLE_H
#define COR_RECORDS_BUNDLE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "core/store.h"

typedef struct cor_bundle_options {
    const char *case_ref;
    const char *out_path;      /* the .zip to write (replaced when it exists) */
    bool release;              /* the requester's version (see above) */
    const char *base_url;      /* the archive's base URL, ending in '/' */
    const char *operator_name;
    /* release: the attachments the officer releases, each "N/K" (message
     * N as the bundle numbers it, its attachment K as its text's
     * "Attachment K:" line numbers it); NULL-terminated, may be NULL.  Any
     * without release, or naming something the case lacks, is an error
     * (COR_ERR_INVALID, COR_ERR_NOT_FOUND) and nothing is written. */
    const char *const *attachments;
    /* called after each message (may be NULL) */
    void (*progress)(uint64_t done, uint64_t total, void *data);
    void *progress_data;
} cor_bundle_options_t;

typedef struct cor_bundle_result {
    char sha256[65];           /* of the ZIP file */
    uint64_t bytes;            /* its size */
    int64_t messages;          /* in the manifest */
    int64_t redacted;          /* with a redacted copy */
    int64_t withheld;          /* release: originals left out (every message) */
    int64_t redactions;        /* accepted spans applied */
    int64_t attachments;       /* attachment files written (release: released) */
    int64_t entries;           /* files in the ZIP */
    int64_t audit_seq;         /* the audit entry written */
} cor_bundle_result_t;

/* Writes the bundle of case opt->case_ref to opt->out_path (design notes).
 * COR_ERR_NOT_FOUND when there is no such case; COR_ERR_INVALID for a
 * stale redaction; COR_ERR_IO when the file cannot be written. */
cor_status_t cor_bundle_export(cor_store_t *st, const cor_bundle_options_t *opt,
                               cor_bundle_result_t *res, char **err);

/* A file name made safe for a ZIP entry and any file system (design
 * notes); `fallback` when nothing is left (transfer full).  For tests. */
char *cor_bundle_safe_name(const char *name, const char *fallback);

#endif
