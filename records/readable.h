/* records/readable.h — a message's canonical readable text: what a records
 * officer reads, what redaction spans point into, and what a redacted copy
 * is made from.
 *
 * The text is derived from the stored original (core/store.h, invariant 3:
 * never from anything else) and is, byte for byte:
 *
 *     From: <decoded display form of From>\n
 *     To: <decoded display form of To>\n          (only when there is a To)
 *     Cc: <decoded display form of Cc>\n          (only when there is a Cc)
 *     Reply-To: <decoded display form>\n          (only when there is one)
 *     Date: <date, UTC, e.g. "1 March 2005 14:05:09 UTC">\n
 *     Subject: <decoded subject>\n
 *     Message-ID: <<the Message-ID>>\n
 *     Attachment 1: <its decoded name> (<type/subtype>)\n   (one line per
 *     Attachment 2: ...                                       attachment)
 *     \n
 *     <the whole text body as core/message.h gives it: cor_message_t.body,
 *      quotes, signatures and disclaimers included — this is the record>
 *
 * Each header value is one line: line breaks, tabs and other control
 * characters in a value become one space.  The text is UTF-8 with LF line
 * ends.  A message without a usable Date has the time it was received (as
 * the parser gives it).  An attachment without a name reads "(no name)".
 *
 * Why these lines: the text is everything a requester's copy of the
 * message shows (records/bundle.h, the release), so the redaction scanner
 * (records/redact.h), which reads only this text, sees everything that can
 * be released: who wrote and who is answered (Reply-To), the Message-ID
 * (the manifest lists it) and the attachments' names (a released
 * attachment keeps its name).  Other headers (References, X-...), HTML
 * markup, attributes and hidden text are not part of it and are never
 * released.
 *
 * Invariant: the same original gives the same text (the parser is
 * deterministic and the date is written in UTC with English month names,
 * whatever the locale).  Redaction spans (redactions.span_start/span_end)
 * are byte offsets into exactly this text, and its SHA-256 is stored with
 * each span (redactions.text_sha256): if a later version of corridor renders
 * a message differently, the stored spans no longer match the text and the
 * export refuses them instead of blacking out the wrong words.  (The
 * Reply-To, Message-ID and Attachment lines were added after the first
 * records release: a span made on the older text is refused that way and
 * is proposed again by `case redact --propose`.)
 *
 * Ownership: strings returned are transfer full (g_free); *err transfer full.
 */
#ifndef COR_RECORDS_READABLE_H
#define COR_RECORDS_READABLE_H

#include <glib.h>
#include <stdint.h>

#include "core/message.h"
#include "core/status.h"
#include "core/store.h"

/* "1 March 2005 14:05:09 UTC" into buf (at least 40 bytes). */
void cor_readable_date(int64_t t, char *buf, size_t n);

/* Where each header value is in a readable text. */
typedef struct cor_readable_field {
    const char *name;          /* static: "From", "To", "Cc", "Reply-To", "Date",
                                  "Subject", "Message-ID", "Attachment" */
    guint part;                /* "Attachment": its number (1 = the message's
                                  first attachment, cor_message_t.attachments[0]);
                                  0 for the others */
    size_t start, end;         /* the value's bytes: for Message-ID the id
                                  inside <>; for an attachment its name only
                                  (an empty span when it has none) */
} cor_readable_field_t;

/* The decoded display form of the original's Reply-To ("Name <addr>, ...";
 * "" when there is none).  `raw` is the original (its header block is
 * read).  Transfer full. */
char *cor_readable_reply_to(const char *raw, size_t len);

/* The readable text of a parsed message (a full parse: cor_message_parse
 * or cor_message_parse_ex without COR_PARSE_SUMMARY) with `reply_to` (from
 * cor_readable_reply_to; NULL or "": no Reply-To line).  When `fields` is
 * not NULL (a GArray of cor_readable_field_t) the header values' spans are
 * appended to it, in the text's order.  Transfer full. */
char *cor_readable_text(const cor_message_t *msg, const char *reply_to, GArray *fields);

/* The same from the stored original of message row `msg`: parses it (with
 * `parse_flags` added, e.g. COR_PARSE_KEEP_PARTS when the caller also
 * wants the attachments; 0 for none) and fills *text, sha256 (hex of the
 * text's SHA-256; may be NULL), `fields` (may be NULL, as above) and, when
 * `parsed` is not NULL, the parsed message (transfer full).
 * COR_ERR_NOT_FOUND when there is no such message; *err says what failed. */
cor_status_t cor_readable_load(cor_store_t *st, int64_t msg, unsigned parse_flags, char **text,
                               char sha256[65], cor_message_t **parsed, GArray *fields,
                               char **err);

#endif
