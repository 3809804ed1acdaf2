/* filters/autoreply.h — auto-replies, bounces and mail commands sent to a
 * post address.
 *
 * Auto-replies (out-of-office, vacation, challenge-response) must never be
 * posted or answered: one out-of-office reply to a group post, posted back,
 * would go to every member, and their out-of-office replies would come
 * back...  The signs, strongest first:
 *
 *   strong (one is enough)
 *     Auto-Submitted: anything but "no" (RFC 3834);
 *     X-Autoreply, X-Autorespond, X-Autoresponder (any value but "no");
 *     Precedence: auto_reply;
 *     Microsoft Exchange: X-MS-Exchange-Inbox-Rules-Loop,
 *       X-MS-Exchange-Generated-Message-Source, X-MS-Exchange-Organization-AutoReply
 *       and the like, an OOF message class (X-MS-Exchange-MessageClass or
 *       Content-Class with "OofTemplate" or "Rules");
 *     challenge-response systems (X-Bluebottle-Request, X-Boxbe-*, ...);
 *     a subject that *begins* the way auto-responders write it:
 *       "Automatic reply:", "Auto-Reply:", "AutoReply:", "Out of Office:",
 *       "Out of Office AutoReply:", "AUTO:" (Lotus Notes), and in Welsh
 *       ("Ateb awtomatig:", "Ymateb awtomatig:", "Allan o'r swyddfa:") and
 *       the common European languages (German "Automatische Antwort:",
 *       "Abwesenheitsnotiz:", French "Réponse automatique :", Dutch
 *       "Automatisch antwoord:", Spanish "Respuesta automática:", Italian
 *       "Risposta automatica:", Portuguese "Resposta automática:", Polish
 *       "Automatyczna odpowiedź", Swedish/Danish/Norwegian "Autosvar:",
 *       Finnish "Automaattinen vastaus:"), also in [brackets] or (brackets)
 *       at the start or end;
 *   the null envelope sender with Precedence: bulk or junk (vacation(1)
 *     and small autoresponders: "Thank you for your e-mail");
 *   weak (counted only with a strengthener)
 *     "out of office", "out of the office", "on annual leave", "on holiday",
 *     "away from my desk|mail|email", "vacation", "autoresponder",
 *     "abwesend", "absence", "allan o'r swyddfa", "ar wyliau" anywhere in
 *     the subject;
 *   strengtheners (never a sign alone: ordinary list and newsletter mail
 *     carries them)
 *     Precedence: bulk, junk or list — but not on mail that also carries
 *     List-Id, List-Post or List-Unsubscribe (every list post has it); a
 *     null envelope sender.
 *   not a sign: X-Auto-Response-Suppress (git-send-email, Office 365 and
 *     list servers put it on ordinary posts).
 *
 * A delivery report that carries Auto-Submitted (Postfix and sendmail write
 * it on their bounces) is both a bounce and an auto-reply; the default chain
 * runs `bounce` first, so it goes to bounce processing.
 *
 * Bounces: a delivery report (multipart/report, of any report-type:
 * delivery-status, disposition-notification, feedback-report); a null
 * envelope sender, unless the message carries an auto-reply sign (then it
 * is the auto-reply filter's to discard); and, for MTAs that send them from a real address, a
 * sender or From: of MAILER-DAEMON / postmaster / mail delivery subsystem
 * together with a subject that says delivery failed ("Undeliverable:",
 * "Undelivered Mail Returned to Sender", "Delivery Status Notification",
 * "Returned mail:", "Mail delivery failed", "failure notice", "DELIVERY
 * FAILURE", "Message status - undeliverable", "Delivery Notification",
 * "Mail Delivery Problem", ...).
 *
 * Mail commands sent to the post address by mistake ("unsubscribe",
 * "subscribe", "remove me" as the whole subject; "leave", "join" and "help"
 * likewise but only with a short body, since they are ordinary subjects
 * too; or a command as the whole first line of a short body with an empty
 * subject) are routed to the command handler, as Mailman's administrivia
 * check does.  A short body is at most five non-blank lines before a "-- "
 * signature.
 *
 * All functions are pure and thread-safe; `why` is one human sentence
 * naming the sign ("Auto-Submitted: auto-replied"), transfer full, NULL
 * when the answer is no.
 */
#ifndef COR_FILTERS_AUTOREPLY_H
#define COR_FILTERS_AUTOREPLY_H

#include <glib.h>
#include <stdbool.h>

#include "core/message.h"
#include "filters/headers.h"

/* `env_from` is the envelope sender without <> ("" for the null sender;
 * NULL when it is not known, e.g. a file given to `corridor filter explain`
 * without one: then no null-sender rule applies). */
char *cor_autoreply_detect(const cor_message_t *msg, const cor_headers_t *h, const char *env_from);
char *cor_bounce_detect(const cor_message_t *msg, const cor_headers_t *h, const char *env_from);
char *cor_command_detect(const cor_message_t *msg, const cor_headers_t *h);

#endif
