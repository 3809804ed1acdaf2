/* core/status.h — corridor's one status type.
 *
 * Every function in corridor's own code that can fail returns a cor_status_t.
 * The text of the last error is kept in the long-lived handle that failed
 * (store, search database, mailbox) or returned through a `char **err`
 * out-parameter (transfer full, g_free it), never in a global.
 *
 * Each status maps, in one table (status.c), to the SMTP/LMTP reply that the
 * mta-bridge sends when that status decides a recipient's fate: basic code,
 * enhanced status code (RFC 3463) and a short human sentence.  No other file
 * writes "451 ..." by hand.
 *
 * Only main() exits; library code returns a status (DESIGN.md invariant 7).
 */
#ifndef COR_STATUS_H
#define COR_STATUS_H

typedef enum cor_status {
    COR_OK = 0,
    COR_DONE,              /* iteration finished: not an error */
    COR_DUPLICATE,         /* already stored (idempotent redelivery): not an error */
    COR_ERR_NOMEM,
    COR_ERR_IO,            /* read/write/open of a file failed */
    COR_ERR_DISK_FULL,     /* ENOSPC / SQLITE_FULL */
    COR_ERR_STORE,         /* SQLite reported an error */
    COR_ERR_BUSY,          /* the store or index is locked by another process */
    COR_ERR_CORRUPT,       /* the store or index is damaged */
    COR_ERR_INDEX,         /* Xapian reported an error */
    COR_ERR_NOT_FOUND,     /* no such message / thread / file */
    COR_ERR_EXISTS,        /* already exists (group create) */
    COR_ERR_NO_GROUP,      /* no such group */
    COR_ERR_INVALID,       /* bad argument or value */
    COR_ERR_CONFIG,        /* bad configuration file or value */
    COR_ERR_QUERY,         /* malformed search query */
    COR_ERR_PARSE,         /* a message could not be parsed at all */
    COR_ERR_FORMAT,        /* input is not a recognised mailbox/message */
    COR_ERR_TRUNCATED,     /* input ends in the middle of a message/stream */
    COR_ERR_TOO_BIG,       /* over a configured size limit */
    COR_ERR_LIMIT,         /* some other configured limit reached */
    COR_ERR_TIMEOUT,
    COR_ERR_PROTOCOL,      /* a peer broke the protocol */
    COR_ERR_DENIED,        /* not allowed (visibility, permissions) */
    COR_ERR_UNSUPPORTED,
    COR_ERR_SEQUENCE,      /* a command out of order (MAIL before LHLO, ...) */
    COR_ERR_PARAMETER,     /* an unknown or unsupported command parameter */
    COR_ERR_LINE_TOO_LONG, /* a protocol or message line over the limit */
    COR_ERR_NOT_IMPLEMENTED, /* a command this server does not offer */
    COR_ERR_BAD_DOMAIN,    /* a recipient domain that is not a list domain here */
    COR_ERR_OVERLOADED,    /* too many sessions; try later */
    COR_ERR_SHUTDOWN,      /* the daemon is stopping; try later */
    COR_ERR_TOO_MANY_ERRORS, /* a client kept sending bad commands */
    COR_ERR_MARKING,       /* protectively marked mail refused by a group's filters */
    COR_ERR_NOT_ALLOWED,   /* the sender may not post to this group */
    COR_ERR_CONTENT_TYPE,  /* an attachment type the group refuses */
    COR_ERR_SPAM,          /* classified as spam upstream */
    COR_ERR_GROUP_SIZE,    /* over the group's own size limit */
    COR_ERR_HELD,          /* under legal hold: may not be deleted */
    COR_ERR_INTERNAL,      /* a bug: an invariant did not hold */
    COR_STATUS_COUNT
} cor_status_t;

/* A reply for the SMTP/LMTP dialogue.  All strings are static. */
typedef struct cor_smtp_reply {
    int code;              /* 250, 451, 550, ... */
    const char *enhanced;  /* "2.0.0", "4.3.0", ... */
    const char *text;      /* short sentence without the codes */
} cor_smtp_reply_t;

/* Returns a static lowercase name such as "disk full" (transfer none). */
const char *cor_status_to_string(cor_status_t status);

/* Returns the static reply that `status` produces (transfer none).
 * COR_OK and COR_DUPLICATE both give "250 2.0.0". */
const cor_smtp_reply_t *cor_status_smtp(cor_status_t status);

/* True for statuses that are not failures (COR_OK, COR_DONE, COR_DUPLICATE). */
#define COR_SUCCEEDED(s) ((s) == COR_OK || (s) == COR_DONE || (s) == COR_DUPLICATE)

#endif
