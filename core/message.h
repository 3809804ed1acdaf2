/* core/message.h — parsing one original message into corridor's summary.
 *
 * Purpose: turn the original bytes of a message (kept byte for byte by the
 * store) into the parsed summary that the store, the threader, the index and
 * the archive use.  GMime 3 does the MIME work; this module decides what the
 * text of a message *is*:
 *
 *   - headers are decoded (RFC 2047, RFC 2231), charsets converted to UTF-8,
 *     undeclared 8-bit text is tried as UTF-8 then windows-1252 then latin1;
 *   - a missing or empty Message-ID gets a deterministic synthetic one,
 *     "corridor-<first 32 hex of sha256 of the original>@synthetic.invalid",
 *     so that importing the same bytes twice yields the same id;
 *   - the date is the Date header; when it is missing or unparsable, the
 *     received time passed in (and date_from_received is set);
 *   - the text body: text/plain is preferred in multipart/alternative;
 *     HTML-only mail is converted to text (libxml2 HTML parser, see
 *     html_text.h); inline text attachments (patches, logs) are not part of
 *     `body` but are given in `attachment_text` so that search finds them;
 *   - the body is split into `new_text` (what the author wrote), `quoted_text`
 *     (quoted replies and forwarded originals: "> " lines, "On ... wrote:",
 *     Outlook "-----Original Message-----" / "From: ... Sent: ..." blocks)
 *     and `signature` ("-- " line, common sign-off and disclaimer blocks); see
 *     quote.h;
 *   - attachments (parts with a filename or Content-Disposition: attachment,
 *     and non-text leaf parts) are listed with decoded name, type and size.
 *
 * Invariants:
 *   1. Parsing never fails on content: any byte sequence that GMime can read
 *      at all yields a message; the worst case is an empty body and headers
 *      salvaged as raw text.  COR_ERR_PARSE is only for input with no header
 *      block at all (empty input, binary data).
 *   2. Every string in cor_message_t is valid UTF-8 with no NUL, never NULL
 *      (empty string when absent), except where noted.
 *   3. Message-IDs are stored without angle brackets, with surrounding white
 *      space removed.
 *
 * Thread safety: cor_message_parse may be called from several threads at
 * once after cor_message_init() was called once from the main thread.
 */
#ifndef COR_MESSAGE_H
#define COR_MESSAGE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"

typedef struct cor_attachment {
    char *filename;        /* decoded, UTF-8; "" when the part has no name */
    char *content_type;    /* lowercase "type/subtype" */
    uint64_t size;         /* decoded size in bytes */
    int part_index;        /* depth-first index of the MIME part, from 0 */
    bool is_inline_text;   /* a text attachment whose text is in attachment_text */
    GBytes *data;          /* decoded content with COR_PARSE_KEEP_PARTS, else NULL;
                              an attached message as written (owned by the message) */
} cor_attachment_t;

typedef struct cor_message {
    char *message_id;      /* without <>; synthetic when missing */
    bool synthetic_id;
    char *subject;         /* decoded, unfolded */
    char *from;            /* decoded display form: "Name <addr>" or "addr" */
    char *from_name;       /* decoded display name, "" when none */
    char *from_addr;       /* lowercase address, "" when none */
    char *to;              /* decoded display form of To, comma separated */
    char *cc;              /* decoded display form of Cc */
    int64_t date;          /* seconds since the epoch, UTC */
    bool date_from_received;
    char *in_reply_to;     /* first Message-ID in In-Reply-To, "" when none */
    GPtrArray *references; /* char* Message-IDs from References, oldest first,
                              self-references removed, never NULL */
    char *thread_index;    /* Microsoft Thread-Index conversation id: hex of
                              its first 22 decoded bytes; "" when absent/invalid */
    char *thread_topic;    /* Thread-Topic header decoded, "" when absent */
    char *list_id;         /* List-Id header: the id between <>, lowercased
                              (the whole value without <>); "" when absent */
    char *body;            /* the whole text body, UTF-8, LF line ends */
    char *new_text;        /* body minus quoted text and signature */
    char *quoted_text;     /* quoted/forwarded parts of body */
    char *signature;       /* signature and disclaimer */
    char *attachment_text; /* text of inline text attachments (patches), "" if none */
    bool body_from_html;   /* body was converted from HTML */
    char *body_html;       /* with COR_PARSE_KEEP_HTML and body_from_html: the HTML
                              of the body part(s), UTF-8, unsanitised; else "" */
    char *body_head;       /* the first lines of the text body (at most
                              COR_BODY_EDGE bytes, whole lines), and */
    char *body_tail;       /* the last ones: where protective markings and
                              disclaimers sit.  Filled by a full parse and by
                              COR_PARSE_EDGES; "" otherwise.  They may overlap
                              (a short body is in both). */
    bool body_cut;         /* the text was longer than COR_BODY_EDGE: body_head
                              and body_tail are parts of it, not all of it */
    GPtrArray *attachments;/* cor_attachment_t*, never NULL */
    GPtrArray *warnings;   /* char*: what was salvaged ("bad base64 in part 2"), never NULL */
} cor_message_t;

/* Call once at start-up, from the main thread (initialises GMime). */
void cor_message_init(void);

/* Parses `len` bytes at `data` (not NUL-terminated; may contain NULs).
 * `received` is the time to use when the message has no usable Date.
 * On success *out is a new message (transfer full: cor_message_free).
 * On COR_ERR_PARSE, *err (when err != NULL) says why (transfer full). */
cor_status_t cor_message_parse(const char *data, size_t len, int64_t received,
                               cor_message_t **out, char **err);

/* The same without the text: headers, ids, threading fields and the
 * attachment list (with sizes) — what the store needs to file a message;
 * body, new_text, quoted_text, signature and attachment_text are "".  The
 * LMTP intake uses it (the index parses the stored message in full later). */
cor_status_t cor_message_parse_summary(const char *data, size_t len, int64_t received,
                                       cor_message_t **out, char **err);

/* What cor_message_parse_ex does beyond cor_message_parse (bits): */
enum {
    COR_PARSE_SUMMARY = 1 << 0,     /* as cor_message_parse_summary */
    COR_PARSE_KEEP_HTML = 1 << 1,   /* fill body_html (the archive sanitises it) */
    COR_PARSE_KEEP_PARTS = 1 << 2,  /* fill each attachment's data (downloads) */
    COR_PARSE_EDGES = 1 << 3,       /* with SUMMARY: decode the first text part
                                       of the body (HTML made text) for
                                       body_head and body_tail only — what the
                                       filters read at intake */
};
#define COR_BODY_EDGE 4096
cor_status_t cor_message_parse_ex(const char *data, size_t len, int64_t received,
                                  unsigned flags, cor_message_t **out, char **err);

void cor_message_free(cor_message_t *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_message_t, cor_message_free)

/* Strips angle brackets and white space from a Message-ID given by a user or
 * a header: "<a@b>" and " a@b " both give "a@b" (transfer full). */
char *cor_message_id_normalise(const char *id);

/* Normalised subject for comparisons: "Re: Fwd: [group] AW: Foo  bar" -> "foo bar"
 * (lowercase, reply/forward prefixes in common languages and [tags] removed,
 * white space collapsed) (transfer full). */
char *cor_subject_normalise(const char *subject);

/* A Message-ID for mail corridor writes itself (digests, notices, command
 * replies): "corridor.KIND.RANDOM@DOMAIN" (transfer full).  The loop filter
 * refuses any post carrying one (cor_message_id_generated). */
char *cor_message_id_generate(const char *kind, const char *domain);
bool cor_message_id_generated(const char *message_id);

/* Hex SHA-256 of the bytes (64 chars + NUL written into out). */
void cor_sha256_hex(const char *data, size_t len, char out[65]);

#endif
