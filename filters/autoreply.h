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
 *   weak (counted only with a strengthener)
 *     "out of office", "out of the office", "on annual leave", "on holiday",
 *     "away from my desk|mail|email", "vacation", "autoresponder",
 *     "abwesend", "absence", "allan o'r swyddfa", "ar wyliau" anywhere in
 *     the subject;
 *     X-Auto-Response-Suppress naming OOF or AutoReply (Exchange sets it on
 *     its own generated mail, but also list servers on their posts);
 *   strengtheners (never a sign alone: ordinary list and newsletter mail
 *     carries them)
 *     Precedence: bulk, junk or list; a null envelope sender.
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
 * Mail commands sent to the post address by mistake ("unsubscribe", "leave",
 * "subscribe", "join", "help", "remove me" as the whole subject, or as the
 * whole first line of a short body with an empty or command subject) are
 * routed to the command handler, as Mailman's administrivia check does.
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

/* `env_from` is the envelope sender without <> ("" for the null sender). */
char *cor_autoreply_detect(const cor_message_t *msg, const cor_headers_t *h, const char *env_from);
char *cor_bounce_detect(const cor_message_t *msg, const cor_headers_t *h, const char *env_from);
char *cor_command_detect(const cor_message_t *msg, const cor_headers_t *h);

#endif
