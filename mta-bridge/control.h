/* mta-bridge/control.h — what happens to mail for a group's control
 * addresses: bounces (GROUP-bounces+VERP@, or routed there by the bounce
 * filter), mail commands (GROUP-request@, GROUP-join@, GROUP-leave@, or a
 * command sent to the post address), replies to moderation requests and
 * join confirmations, and mail for GROUP-owner@ (passed on to the owners).
 *
 * Intake only stores such mail (control_mail rows, in the same commit as its
 * 250); this handler, run by the outbound worker between rounds, handles
 * each row in one transaction together with everything it causes (the
 * member's new state, the reply in the outbox, the row marked done), so a
 * crash in between repeats nothing and loses nothing.  Commands:
 *
 *   help                   the commands, how to post, how to leave
 *   join | subscribe       staff (the [filters] staff_domains) join at once;
 *                          anyone else is sent a confirmation token first
 *   leave | unsubscribe    leaves (an opt-out the directory sync keeps)
 *   mode each|digest|none  delivery mode
 *   who                    the members (owners and moderators only)
 *   confirm TOKEN          a join confirmation
 *   approve|reject TOKEN   a moderator's decision on a held post
 *
 * Where the command is: the first of the body's own lines (not quoted,
 * before the signature or the message replied to, at most ten) that is a
 * command meant as one — "leave", "leave planning", "mode digest", not
 * "Leave the booking to me" — else the subject ("Re:", "AW:" and [tags]
 * skipped).  A reply to a moderation request or a join confirmation (the
 * subject starts "approve TOKEN" or "confirm TOKEN") is that, unless its text
 * says "reject" (the rest of that line and the lines after it are the
 * reason); other command words in it are ordinary words.  A token is used
 * only by its own group and, for a join, its own address: a reply from
 * anyone else leaves it usable.  A reply is never sent to an auto-reply, a
 * bounce, or the null sender, and every reply is auto-generated
 * (core/mailgen.h).
 *
 * Bounces: the report's class counts against the member the VERP address
 * names (without one, against every failed recipient the report names);
 * auto-replies and delays never count.  A member is disabled when the
 * decayed score reaches [bounces] threshold (at the two decimals scores are
 * shown with), and the owners are told once.
 */
#ifndef COR_CONTROL_H
#define COR_CONTROL_H

#include <glib.h>

#include "core/config.h"
#include "core/message.h"
#include "core/status.h"
#include "core/store.h"

typedef struct cor_control cor_control_t;

/* `cfg` must outlive the handler; base_url ends with '/'. */
cor_control_t *cor_control_new(const cor_config_t *cfg, const char *base_url);
void cor_control_free(cor_control_t *c);

/* Handles up to `max` waiting rows, each in its own transaction.
 * *handled: rows handled; *queued: outbox rows written. */
cor_status_t cor_control_run(cor_control_t *c, cor_store_t *st, guint max, guint *handled,
                             guint *queued);

/* Counts a failed delivery to `address` in group `group_id` (an SMTP refusal
 * or a give-up by the outbound worker) inside the caller's transaction:
 * the score, the member disabled at the threshold, the owners told. */
cor_status_t cor_control_count_failure(cor_control_t *c, cor_store_t *st, int64_t group_id,
                                       const char *domain, const char *address, bool hard,
                                       const char *status, const char *detail,
                                       const char *source);

/* At intake, inside the transaction that holds a post: asks the group's
 * moderators and owners to approve or reject it by replying (a one-time
 * 'moderate' token in the subject).  With neither, nothing is sent (the
 * post waits for `corridor held`). */
cor_status_t cor_control_hold_request(cor_store_t *st, int64_t group_id, const char *group,
                                      const char *domain, int64_t held_id,
                                      const cor_message_t *msg, const char *filter,
                                      const char *reason);

#endif
