/* core/mailgen.h — mail corridor writes itself: notices, command replies,
 * welcome messages, moderation requests, digests.
 *
 * Every generated message carries what keeps it out of loops and away from
 * auto-responders: Auto-Submitted: auto-generated (RFC 3834), a
 * corridor-generated Message-ID (the loop filter refuses any post carrying
 * one), X-Loop naming the group's address, List-Id when it speaks for a
 * group, and X-Auto-Response-Suppress: All (Exchange).  The body is UTF-8
 * text (quoted-printable), optionally with an HTML alternative.  The caller
 * queues the bytes in the outbox with a null or -bounces envelope sender;
 * nothing here sends anything. */
#ifndef COR_MAILGEN_H
#define COR_MAILGEN_H

#include <glib.h>
#include <gmime/gmime.h>
#include <stddef.h>

typedef struct cor_mailgen {
    const char *kind;          /* Message-ID kind: "notice", "welcome", "digest", ... */
    const char *domain;        /* the list domain (Message-ID, X-Loop, List-Id) */
    const char *group;         /* the group it speaks for, or NULL */
    const char *list_title;    /* with group: List-Id's phrase ("Planning
                                  <planning.DOMAIN>"), or NULL for none */
    const char *from_name;     /* display name, may be NULL */
    const char *from_addr;     /* address */
    const char *to;            /* address, or "Name <address>" written by the caller */
    const char *subject;       /* UTF-8; RFC 2047-encoded as needed */
    const char *in_reply_to;   /* a Message-ID without <>, or NULL */
    const char *references;    /* space-separated <ids>, or NULL */
    const char *reply_to;      /* address, or NULL */
    const char *text;          /* the plain text body, UTF-8 */
    const char *html;          /* an HTML alternative, or NULL */
    const char *const *extra;  /* more header lines "Name: value", NULL-terminated, or NULL */
    gint64 date;               /* seconds since the epoch; 0: now */
    const char *attach;        /* a message to attach whole (message/rfc822), or NULL */
    size_t attach_len;
} cor_mailgen_t;

/* The complete message (CRLF line ends), *len its length; transfer full.
 * *message_id (optional) gets the new Message-ID without <> (transfer full). */
char *cor_mailgen_build(const cor_mailgen_t *m, size_t *len, char **message_id);

/* The same with a body the caller built with GMime (a multipart/mixed
 * holding a multipart/digest, say) in place of text and html, which are
 * ignored.  `body` transfer none. */
char *cor_mailgen_build_mime(const cor_mailgen_t *m, GMimeObject *body, size_t *len,
                             char **message_id);

/* A text/SUBTYPE part holding our own UTF-8 `text` (copied), charset=utf-8,
 * quoted-printable (transfer full). */
GMimeTextPart *cor_mailgen_text_part(const char *subtype, const char *text);

#endif
