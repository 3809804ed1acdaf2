/* mta-bridge/lmtp.h — one LMTP session (RFC 2033) as a state machine.
 *
 * Design notes
 * ------------
 * The session does no I/O.  The server feeds it the bytes it read and sends
 * the bytes it produced; so the same code runs under the daemon's main loop,
 * under the unit tests and under a fuzzer (bytes in, replies out).
 *
 * States:
 *
 *     GREETED --LHLO--> READY --MAIL--> MAIL --RCPT ok--> RCPT --DATA--> DATA
 *        ^                ^                                               |
 *        |                +------- replies written <-- WAIT <-- final dot-+
 *        +-- RSET/LHLO reset the transaction; QUIT or a fatal error: CLOSED
 *
 * In WAIT the session has a complete transaction (envelope + message) that
 * the caller takes with cor_lmtp_session_take() and stores.  Nothing is read
 * while waiting: pipelined input stays buffered.  When the store has
 * committed (or failed), cor_lmtp_session_finish() writes one reply per
 * accepted recipient, in RCPT order, and the session carries on with the
 * buffered input.  That is invariant 2: a 250 is written only after commit.
 *
 * Lines: commands end at LF (a CR before it is dropped), so bare LF does not
 * confuse it.  In DATA only a "." line that follows a CRLF and itself ends in
 * CRLF ends the message (no "\n.\n" smuggling); dot-stuffing is undone and
 * line ends are stored as LF, the local form of a message.  NUL bytes are
 * refused in commands and kept in data.  Command lines are limited to
 * COR_LMTP_MAX_COMMAND bytes, message lines to limits.max_line_length, the
 * message to limits.max_message_size: over a limit the rest is read and
 * dropped and the reply says why (500 5.5.2, 552 5.3.4).
 *
 * Every failure reply's codes come from the status table (core/status.c).
 */
#ifndef COR_LMTP_H
#define COR_LMTP_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "core/store.h"

#define COR_LMTP_MAX_COMMAND 2048   /* bytes, CRLF included (RFC 5321: 512 minimum) */
#define COR_LMTP_MAX_ERRORS 20      /* bad commands before 421 4.7.0 */
/* [lmtp] max_message_size is capped here: SQLite keeps a value of at most
 * 1e9 bytes, and a message is held in memory while it is stored. */
#define COR_LMTP_SIZE_CAP (512ULL * 1024 * 1024)

typedef struct cor_lmtp_limits {
    uint64_t max_message_size;      /* bytes; SIZE advertised */
    unsigned max_recipients;        /* per transaction: 452 4.5.3 after */
    uint64_t max_line_length;       /* bytes per message line */
} cor_lmtp_limits_t;

/* What a recipient address means. */
typedef enum cor_rcpt_kind {
    COR_RCPT_POST,           /* group@: a post */
    COR_RCPT_REQUEST,        /* group-request@: commands */
    COR_RCPT_OWNER,          /* group-owner@: to the owners */
    COR_RCPT_BOUNCES,        /* group-bounces[+detail]@: bounces (VERP detail) */
    COR_RCPT_JOIN,           /* group-join@: the join command */
    COR_RCPT_LEAVE,          /* group-leave@: the leave command */
} cor_rcpt_kind_t;

typedef struct cor_lmtp_rcpt {
    char *address;           /* as given, without <> */
    char *group;             /* group name */
    int64_t group_id;
    cor_rcpt_kind_t kind;
    char *detail;            /* the +detail of the address, or "" */
} cor_lmtp_rcpt_t;

void cor_lmtp_rcpt_free(cor_lmtp_rcpt_t *r);

/* Splits a local part into group name, kind and detail ("x-bounces+a=b" →
 * "x", BOUNCES, "a=b").  Every kind takes a +detail (it means something for
 * -bounces, VERP; elsewhere it is kept and ignored).  `exists` says whether
 * a group name exists; the local part without its detail is tried as a
 * group name first, so a group may be called "x-request".  Returns
 * COR_ERR_NO_GROUP when nothing matches.  *group and *detail transfer full. */
cor_status_t cor_lmtp_split_local(const char *local, bool (*exists)(const char *name, void *data),
                                  void *data, char **group, cor_rcpt_kind_t *kind, char **detail);

/* The lookup both the daemon and `corridor deliver` use: `domain` must be
 * one of `domains` (case-insensitive; NULL or empty: any), the local part
 * (lowercase) must name a group (cor_lmtp_split_local) in the store.  Fills
 * r->group, r->group_id, r->kind, r->detail.  COR_ERR_BAD_DOMAIN,
 * COR_ERR_NO_GROUP, or the store's own failure (COR_ERR_BUSY, COR_ERR_IO...),
 * which is temporary. */
cor_status_t cor_lmtp_resolve(cor_store_t *st, const char *const *domains, const char *local,
                              const char *domain, cor_lmtp_rcpt_t *r);

/* Recipient lookup, called at RCPT time: fill r->group, r->group_id, r->kind
 * and r->detail for `address` (lowercase local part and domain given
 * separately) or return the refusal (COR_ERR_NO_GROUP, COR_ERR_BAD_DOMAIN,
 * COR_ERR_BUSY ...). */
typedef cor_status_t (*cor_lmtp_resolve_fn)(const char *local, const char *domain,
                                            cor_lmtp_rcpt_t *r, void *data);

/* A complete transaction, handed over in WAIT (transfer full). */
typedef struct cor_lmtp_envelope {
    char *session;           /* session id */
    char *client;            /* LHLO name */
    char *from;              /* reverse path, "" for the null sender */
    bool eightbit;           /* BODY=8BITMIME */
    GPtrArray *rcpts;        /* cor_lmtp_rcpt_t*, accepted recipients in RCPT order */
    GBytes *data;            /* the message, unstuffed, LF line ends */
    int64_t started_us;      /* monotonic time of MAIL */
} cor_lmtp_envelope_t;

void cor_lmtp_envelope_free(cor_lmtp_envelope_t *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_lmtp_envelope_t, cor_lmtp_envelope_free)

typedef enum cor_lmtp_state {
    COR_LMTP_GREETED,
    COR_LMTP_READY,
    COR_LMTP_MAIL,
    COR_LMTP_RCPT,
    COR_LMTP_DATA,
    COR_LMTP_WAIT,
    COR_LMTP_CLOSED,
} cor_lmtp_state_t;

typedef struct cor_lmtp_session cor_lmtp_session_t;

/* A new session; the greeting "220 HOST LMTP corridor ready" is already in
 * the output.  `limits` is copied; `hostname` and `id` are copied. */
cor_lmtp_session_t *cor_lmtp_session_new(const char *id, const char *hostname,
                                         const cor_lmtp_limits_t *limits,
                                         cor_lmtp_resolve_fn resolve, void *resolve_data);
void cor_lmtp_session_free(cor_lmtp_session_t *s);

/* New limits (SIGHUP); take effect at the next transaction. */
void cor_lmtp_session_set_limits(cor_lmtp_session_t *s, const cor_lmtp_limits_t *limits);

const char *cor_lmtp_session_id(const cor_lmtp_session_t *s);
cor_lmtp_state_t cor_lmtp_session_state(const cor_lmtp_session_t *s);

/* Appends `len` bytes of input and processes as much as it can: until the
 * input is used up, a transaction is complete (state WAIT) or the session
 * closed.  Call with len 0 to carry on after cor_lmtp_session_finish(). */
cor_lmtp_state_t cor_lmtp_session_feed(cor_lmtp_session_t *s, const char *buf, size_t len);

/* Bytes of input buffered but not yet processed. */
size_t cor_lmtp_session_pending_input(const cor_lmtp_session_t *s);

/* In WAIT: the transaction (transfer full; once). */
cor_lmtp_envelope_t *cor_lmtp_session_take(cor_lmtp_session_t *s);

/* In WAIT: the outcome for each recipient of the envelope taken, in its
 * order; `details` (may be NULL, or NULL entries) adds text to a reply.
 * Writes the replies and returns to READY (the caller then feeds 0 bytes to
 * process what is buffered). */
void cor_lmtp_session_finish(cor_lmtp_session_t *s, const cor_status_t *results,
                             const char *const *details);

/* A session-ending reply (timeout, shutdown): writes "421 ..." for `status`
 * and closes.  In WAIT it does nothing (the commit decides). */
void cor_lmtp_session_abort(cor_lmtp_session_t *s, cor_status_t status);

/* Output waiting to be sent (transfer none) and how much of it was sent. */
const char *cor_lmtp_session_output(const cor_lmtp_session_t *s, size_t *len);
void cor_lmtp_session_consume(cor_lmtp_session_t *s, size_t n);

/* Formats one reply line for `status` ("451 4.3.0 local error ...: detail")
 * (transfer full). */
char *cor_lmtp_reply_text(cor_status_t status, const char *detail);

#endif
