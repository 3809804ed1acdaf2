/* mta-bridge/notices.h — mail corridor writes on a group's behalf (to its
 * owners, to a member, to someone who wrote to -request) queued in the
 * outbox inside the caller's transaction.  Built by core/mailgen.h, so
 * every one is marked auto-generated and recognised by the loop filter;
 * the envelope sender is GROUP-bounces@DOMAIN, or the null sender for
 * replies to people who are not members (nothing may bounce to them). */
#ifndef COR_NOTICES_H
#define COR_NOTICES_H

#include <glib.h>

#include "core/status.h"
#include "core/store.h"

typedef struct cor_notice {
    const char *kind;          /* outbox kind and Message-ID kind */
    int64_t group_id;
    const char *group;
    const char *domain;
    const char *const *to;     /* addresses, NULL-terminated */
    const char *subject;
    const char *text;
    const char *in_reply_to;   /* Message-ID without <>, or NULL */
    const char *reply_to;      /* or NULL */
    bool null_sender;
} cor_notice_t;

/* Queues one message to every address in `to` (one outbox row).  Transfer
 * full *message_id (optional). */
cor_status_t cor_notice_queue(cor_store_t *st, const cor_notice_t *n, char **message_id);

/* Tells the group's owners (or, with none, its moderators; with neither,
 * nobody: COR_OK) `subject` and `text`. */
cor_status_t cor_notice_owners(cor_store_t *st, int64_t group_id, const char *group,
                               const char *domain, const char *subject, const char *text);

#endif
