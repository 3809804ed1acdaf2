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
 *     Date: <date, UTC, e.g. "1 March 2005 14:05:09 UTC">\n
 *     Subject: <decoded subject>\n
 *     \n
 *     <the whole text body as core/message.h gives it: cor_message_t.body,
 *      quotes, signatures and disclaimers included — this is the record>
 *
 * Each header value is one line: line breaks, tabs and other control
 * characters in a value become one space.  The text is UTF-8 with LF line
 * ends.  A message without a usable Date has the time it was received (as
 * the parser gives it).
 *
 * Invariant: the same original gives the same text (the parser is
 * deterministic and the date is written in UTC with English month names,
 * whatever the locale).  Redaction spans (redactions.span_start/span_end)
 * are byte offsets into exactly this text, and its SHA-256 is stored with
 * each span (redactions.text_sha256): if a later version of corridor renders
 * a message differently, the stored spans no longer match the text and the
 * export refuses them instead of blacking out the wrong words.
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

/* The readable text of a parsed message (a full parse: cor_message_parse
 * or cor_message_parse_ex without COR_PARSE_SUMMARY).  Transfer full. */
char *cor_readable_text(const cor_message_t *msg);

/* The same from the stored original of message row `msg`: parses it (with
 * `parse_flags` added, e.g. COR_PARSE_KEEP_PARTS when the caller also
 * wants the attachments; 0 for none) and fills *text, sha256 (hex of the
 * text's SHA-256; may be NULL) and, when `parsed` is not NULL, the parsed
 * message (transfer full).  COR_ERR_NOT_FOUND when there is no such
 * message; *err says what failed. */
cor_status_t cor_readable_load(cor_store_t *st, int64_t msg, unsigned parse_flags, char **text,
                               char sha256[65], cor_message_t **parsed, char **err);

#endif
