/* records/redact.h — redaction without touching the record.
 *
 * Design notes
 * ------------
 * A redaction is a byte span [start, end) of a message's readable text
 * (records/readable.h) in one case, with the kind of thing it hides, the
 * FOI/EIR exemption that justifies hiding it, and a state: 'proposed'
 * (found by the scanner, waiting for an officer), 'accepted' (will be
 * blacked out in the case's export) or 'rejected' (stays readable).  Rows
 * live in the `redactions` table (core/store.h "Records"); the stored
 * original is never changed (DESIGN.md invariant 3): the export makes the
 * redacted copies from the readable text and the accepted spans.
 *
 * 1. Spans are tied to the text they were made on.  Each row carries the
 *    SHA-256 of the readable text it points into (text_sha256).  Before a
 *    span is used the text is rendered again and the hashes compared; a
 *    mismatch (a newer corridor renders the message differently) is an
 *    error that names the redaction, never a silent mis-redaction.
 * 2. Spans start and end on UTF-8 character boundaries, inside the text.
 * 3. What the scanner proposes (cor_redact_scan), each with a kind:
 *      email     mail addresses (local@domain.tld); the Message-ID line's
 *                id is one too (ids often hold a name: <jane.smith.1@...>)
 *      phone     UK telephone numbers: 0 or +44 (also "+44 (0)") forms,
 *                landline and mobile, at most four groups separated by
 *                single spaces or dashes (a national number's first group,
 *                with its 0, at least three digits), "(020) ..." brackets;
 *                10-digit national numbers starting 1, 2, 3, 5, 7 or 8
 *                (9 digits for the old 01 and 0800 numbers)
 *      nino      National Insurance numbers: two prefix letters from the
 *                allocated ranges (first not D F I Q U V; second not
 *                D F I O Q U V; never BG GB KN NK NT TN ZZ), six digits,
 *                suffix A–D; "AB123456C" or "AB 12 34 56 C" (the spaced
 *                form may leave the suffix out)
 *      postcode  UK postcodes in the real format: a real postcode area
 *                (AB ... ZE, the 121 areas), the district (9, 99, 9A),
 *                one space, the inward code (9 + two letters, not
 *                C I K M O V); GIR 0AA; capitals only.  Without the space
 *                only when the outward code has three or four characters
 *                ("SW1A2AA", "CB59PH"; "M11AE" is as often a part number)
 *      name      a name from the staff directory (the members' names the
 *                store knows: those `corridor directory sync` and `member
 *                add` recorded), at least two words; matched whole-word,
 *                ignoring case, any white space between the words, or
 *                one '.', '_' or '-' (jane.smith, jane_smith, jane-smith:
 *                the name in an address, a link or a Message-ID)
 *      subject   the SAR subject: the case's person (an address) and the
 *                names the officer gives (--name)
 *    A match inside a longer one is dropped (the name inside "Jane Smith
 *    <jane.smith@council.example>" is covered by the two matches there).
 * 4. Exemption codes: s40(2) (personal data, the default for proposals),
 *    s41, s42, s43, s31, s36, eir-12, eir-13.  In a redacted copy a span
 *    reads "[Redacted – s.40(2)]" (s40(2) → "s.40(2)", eir-12 → "EIR 12");
 *    overlapping spans are merged and name every exemption once.
 * 5. Every change (propose, accept, reject, a manual span) writes one
 *    audit entry, action "redact", in the same transaction; the entry never
 *    holds the hidden text (only ids, spans, kinds and exemptions).
 *
 * Ownership: strings returned are transfer full (g_free); *err transfer full.
 */
#ifndef COR_RECORDS_REDACT_H
#define COR_RECORDS_REDACT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "core/store.h"

/* ---- exemptions ---- */

/* True for one of the codes above (exact, lowercase). */
bool cor_redact_exemption_valid(const char *code);
/* "s40(2), s41, s42, s43, s31, s36, eir-12, eir-13" (static). */
const char *cor_redact_exemption_list(void);
/* How a code is written in a redacted copy: "s.40(2)", "EIR 12" (static;
 * NULL for an unknown code). */
const char *cor_redact_exemption_label(const char *code);
/* A short description for the requester's README ("personal information",
 * ...) (static; NULL for an unknown code). */
const char *cor_redact_exemption_meaning(const char *code);

/* ---- finding what to propose ---- */

/* Names to look for (directory names and the SAR subject's). */
typedef struct cor_redact_names cor_redact_names_t;
cor_redact_names_t *cor_redact_names_new(void);
void cor_redact_names_free(cor_redact_names_t *n);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_redact_names_t, cor_redact_names_free)
/* Adds a name with its kind ("name" or "subject"; a static string).  A
 * name of kind "name" needs two words or more (a single word is ignored:
 * one-word directory names would black out ordinary words); a subject's
 * may be one word of three letters or more.  Returns whether it was added. */
bool cor_redact_names_add(cor_redact_names_t *n, const char *name, const char *kind);
guint cor_redact_names_count(const cor_redact_names_t *n);

typedef struct cor_redact_match {
    size_t start, end;         /* byte span of the text */
    const char *kind;          /* static: "email", "phone", "nino", "postcode",
                                  "name", "subject" */
} cor_redact_match_t;

/* Every match in `text` (`len` bytes, UTF-8), by start, with matches
 * inside a longer one removed (design note 3).  `names` may be NULL.
 * `subject_address` (may be NULL or "") is the SAR subject's address: an
 * email match equal to it (ignoring case) gets kind "subject".  GArray of
 * cor_redact_match_t, transfer full. */
GArray *cor_redact_scan(const char *text, size_t len, const cor_redact_names_t *names,
                        const char *subject_address);

/* ---- making a redacted copy ---- */

typedef struct cor_redact_span {
    size_t start, end;
    const char *exemption;     /* a valid code (borrowed) */
} cor_redact_span_t;

/* Appends the redacted text to `txt` and the same as HTML (escaped text,
 * each span a <span class="redacted"> holding the marker) to `html`
 * (either may be NULL).  Spans in any order; overlapping or touching spans
 * are merged.  COR_ERR_INVALID (and *err) when a span is empty, outside the
 * text or not on character boundaries. */
cor_status_t cor_redact_apply(const char *text, size_t len, const cor_redact_span_t *spans,
                              guint n, GString *txt, GString *html, char **err);

/* Appends to `out` the bytes [from, to) of `text` with the spans applied
 * to that range only: a span that covers part of it is cut to it and
 * still reads "[Redacted – ...]" there.  (The export uses it for each
 * header value of a released copy: records/readable.h, cor_readable_field_t.)
 * Spans as cor_redact_apply makes them; `from`, `to` on character
 * boundaries. */
void cor_redact_apply_range(const char *text, size_t len, const cor_redact_span_t *spans,
                            guint n, size_t from, size_t to, GString *out);

/* ---- the texts the officer redacted, applied to other strings ---- */

/* A case's searches and other strings that are not message text (the
 * release's queries.csv) cannot be scanned for proposals, so the export
 * hides in them every text the officer redacted in any message: each
 * occurrence, ignoring case (Unicode) and with any white space matching
 * any white space, becomes the span's label.  Longer texts first. */
typedef struct cor_redact_phrases cor_redact_phrases_t;
cor_redact_phrases_t *cor_redact_phrases_new(void);
void cor_redact_phrases_free(cor_redact_phrases_t *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_redact_phrases_t, cor_redact_phrases_free)
/* Adds the `len` bytes at `text` (UTF-8) with the exemption `code`.  A text
 * without a letter or digit is ignored (it would only blank punctuation);
 * the same text twice is kept once. */
void cor_redact_phrases_add(cor_redact_phrases_t *p, const char *text, size_t len,
                            const char *code);
guint cor_redact_phrases_count(const cor_redact_phrases_t *p);
/* `s` with every phrase replaced by "[Redacted – LABEL]" (transfer full). */
char *cor_redact_phrases_apply(const cor_redact_phrases_t *p, const char *s);

/* ---- a case's redactions in the store ---- */

typedef struct cor_redaction {
    int64_t id;
    int64_t msg;               /* messages.id */
    int number;                /* the message's number in the case (0001 = 1,
                                  as in the bundle); 0 when no longer in it */
    char *message_id;
    int64_t start, end;
    char *text_sha256;
    char *kind;                /* as above, or "manual" */
    char *exemption;
    char *state;               /* 'proposed', 'accepted', 'rejected' */
    char *operator_name;
    int64_t at;
} cor_redaction_t;
void cor_redaction_free(cor_redaction_t *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_redaction_t, cor_redaction_free)

/* Scans every message of the case (design note 3) and records what is not
 * recorded yet (a span already proposed, accepted or rejected on the same
 * text is not proposed again) as 'proposed' with `exemption` (NULL:
 * s40(2)).  Names: the members' names in the store, the case's person, and
 * `names` (NULL-terminated, may be NULL) as the subject's.  One transaction
 * with its audit entry.  *proposed: new rows; *messages: messages scanned. */
cor_status_t cor_redact_propose(cor_store_t *st, const char *case_ref, const char *operator_name,
                                const char *exemption, const char *const *names,
                                int64_t *proposed, int64_t *messages, char **err);

/* The case's redactions by message date, message and start; `state` NULL:
 * any (GPtrArray of cor_redaction_t*, transfer full). */
cor_status_t cor_redact_list(cor_store_t *st, const char *case_ref, const char *state,
                             GPtrArray **out, char **err);

/* Accepts (accept) or rejects the redactions `ids` (int64_t) of the case;
 * `ids` NULL: every one still 'proposed'.  An id that is not the case's is
 * an error and changes nothing.  One transaction with its audit entry.
 * *changed: rows whose state changed. */
cor_status_t cor_redact_decide(cor_store_t *st, const char *case_ref, const char *operator_name,
                               GArray *ids, bool accept, int64_t *changed, char **err);

/* A manual span (kind "manual", accepted at once: the officer chose it) in
 * one message of the case, `message`: its number in the case ("2" or
 * "0002", as the bundle and cor_redact_list number them), "id:N" for the
 * store's row N, or its Message-ID (with or without <>; an all-digit
 * Message-ID needs the <>).  A Message-ID that more than one message of
 * the case has (different originals with the same id) is refused with
 * their numbers (COR_ERR_INVALID): the caller names one by number.  The
 * span: every place `text` occurs (`occurrence` 0), the occurrence'th
 * (from 1), or its only place (`occurrence` -1: an error when it occurs
 * more than once); or (text NULL) the byte span [start, end).
 * COR_ERR_NOT_FOUND when the message is not in the case or the text does
 * not occur (that often).  One transaction with its audit entry.  *ids: the
 * new rows (GArray of int64_t, transfer full); *message_id_out (may be
 * NULL): the message's Message-ID (transfer full) and *number_out (may be
 * NULL) its number. */
cor_status_t cor_redact_manual(cor_store_t *st, const char *case_ref, const char *operator_name,
                               const char *message, const char *text, int occurrence,
                               int64_t start, int64_t end, const char *exemption,
                               GArray **ids, char **message_id_out, int *number_out,
                               char **err);

/* The accepted spans of message `msg` in case `case_id` (GArray of
 * cor_redact_span_t by start, exemptions static strings; transfer full),
 * each checked against the text's SHA-256 (design note 1: a stale span is
 * COR_ERR_INVALID naming it). */
cor_status_t cor_redact_accepted(cor_store_t *st, int64_t case_id, int64_t msg,
                                 const char *text_sha256, GArray **spans, char **err);

/* The readable text of a message of a case with the case's accepted
 * redactions applied (design note 1 checked).  *count: spans applied
 * (0: the message has none; *txt and *html are still filled, unredacted).
 * Used by the export. */
cor_status_t cor_redact_message(cor_store_t *st, int64_t case_id, int64_t msg, const char *text,
                                const char *text_sha256, GString *txt, GString *html,
                                int64_t *count, char **err);

#endif
