/* filters/headers.h — the top-level header fields of an original message,
 * read straight from its bytes.
 *
 * The parsed summary (core/message.h) keeps only the fields the store and
 * the archive use; GMime is not even shown the others.  The filters need a
 * few more (Auto-Submitted, X-Loop, Precedence, X-Spam-*, msip_labels,
 * X-Protective-Marking, Sensitivity, Content-Type's parameters...), so this
 * module scans the header block once — up to the first empty line, or the
 * first line that is neither a field nor a continuation — and keeps every
 * field, unfolded.  It never fails: input without a header block gives an
 * empty list.  Values are the raw bytes (RFC 2047 words not decoded; the
 * subject is in cor_message_t decoded), made valid UTF-8, with white space
 * trimmed at both ends and CR/LF of folding replaced by nothing.
 *
 * Cost: one pass over the header block, one allocation per field.
 */
#ifndef COR_FILTERS_HEADERS_H
#define COR_FILTERS_HEADERS_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct cor_headers cor_headers_t;

/* Reads the header block of `raw` (an mbox "From " line first is skipped).
 * Transfer full: cor_headers_free. */
cor_headers_t *cor_headers_parse(const char *raw, size_t len);
void cor_headers_free(cor_headers_t *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_headers_t, cor_headers_free)

/* Number of fields. */
guint cor_headers_size(const cor_headers_t *h);
/* Field i's name as written and its value (transfer none). */
const char *cor_headers_name(const cor_headers_t *h, guint i);
const char *cor_headers_value(const cor_headers_t *h, guint i);

/* The first field called `name` (ASCII case-insensitive), or NULL
 * (transfer none). */
const char *cor_headers_get(const cor_headers_t *h, const char *name);
/* The n-th (from 0) field called `name`, or NULL (transfer none).  Each
 * call scans from the top: to visit every field of a name use
 * cor_headers_next, which is linear. */
const char *cor_headers_get_nth(const cor_headers_t *h, const char *name, guint n);

/* The next field called `name` at or after index *pos, or NULL; *pos is
 * left just past it.  Start with *pos = 0 (transfer none). */
const char *cor_headers_next(const cor_headers_t *h, const char *name, guint *pos);

/* A parameter of a structured value such as Content-Type or msip_labels'
 * "; key=value" parts: `param` matched case-insensitively, quotes removed
 * (transfer full; NULL when absent). */
char *cor_headers_param(const char *value, const char *param);
/* The same without the copy: *v points into `value`, *n bytes (quotes
 * removed).  False when absent. */
bool cor_headers_param_span(const char *value, const char *param, const char **v, size_t *n);

#endif
