/* filters/held.h — deciding on held posts.
 *
 * A post the filters held (moderation, a non-member, spam, a marking on a
 * group that holds them) waits in the store's `held` table, original bytes
 * and all: not lost, not archived.  Approving it stores it as the post it
 * would have been (restricted if a marking said so) and records the
 * decision *in one transaction*, so a crash leaves it either still held or
 * posted and marked approved — never both, never twice.  Approving it
 * again, or approving a post the group already has (a redelivery that was
 * accepted meanwhile), posts nothing more.  Rejecting records the decision
 * and keeps the original for the records (retention decides its end).
 *
 * Approving queues the members' copies in the same transaction (the
 * outbox, core/store.h).  The request to the moderators and the notice to
 * the sender are written by mta-bridge/control.c.
 */
#ifndef COR_FILTERS_HELD_H
#define COR_FILTERS_HELD_H

#include <stdint.h>

#include "core/status.h"
#include "core/store.h"

/* Posts held post `id` to its group.  `by` names who decided (recorded).
 * *msg_row (may be NULL) gets the stored message's row.  COR_ERR_NOT_FOUND
 * for no such id; COR_ERR_INVALID when it was decided already; *err says
 * why (transfer full). */
cor_status_t cor_held_approve(cor_store_t *st, int64_t id, const char *by, int64_t *msg_row,
                              char **err);

/* The same inside the caller's transaction (the command handler approves
 * by email together with the token it uses up); also queues the members'
 * copies (*copies, may be NULL).  Nothing is rolled back here. */
cor_status_t cor_held_approve_in(cor_store_t *st, int64_t id, const char *by, int64_t *msg_row,
                                 int64_t *copies, char **err);
/* Rejects held post `id` with an optional note (the reason told to the
 * sender).  Errors as cor_held_approve. */
cor_status_t cor_held_reject(cor_store_t *st, int64_t id, const char *by, const char *note,
                             char **err);

#endif
