/* mta-bridge/bounce.h — reading a bounce into per-recipient results.
 *
 * Purpose: when a copy corridor sent to a member comes back, say which
 * recipient failed and whether the failure means the mailbox is gone (hard),
 * may pass (soft), or does not count at all (ignored).  Bounce processing
 * (disabling a member after repeated hard bounces) acts on the result; this
 * module only reads.
 *
 * What is read, in this order (the first that applies decides):
 *
 *   1. challenge-response mail (Bluebottle, Boxbe, Spam Arrest...: "add
 *      yourself to my guest list") -> IGNORED, format "auto-reply", even
 *      when it is dressed as a delivery report;
 *   2. read receipts and abuse reports (multipart/report of report-type
 *      disposition-notification or feedback-report, no delivery status)
 *      -> IGNORED, "not-a-bounce";
 *   3. an RFC 3464 delivery report: every message/delivery-status part
 *      (also message/global-delivery-status and the odd
 *      message/xdelivery-status), every per-recipient block.  Action
 *      "failed" is classed from the Status and the Diagnostic-Code (below);
 *      "delayed", "delivered", "relayed" and "expanded" are IGNORED.
 *      Format "rfc3464";
 *   4. the text bounces of MTAs that write no report, recognised by their
 *      fixed sentences: qmail ("This is the qmail-send program"), Exim
 *      ("This message was created automatically by mail delivery
 *      software"), sendmail ("----- The following addresses had permanent
 *      fatal errors -----"), Postfix ("This is the Postfix program" / "This
 *      is the mail system at host"), Exchange ("did not reach the following
 *      recipient(s)", "Diagnostic information for administrators",
 *      "Delivery has failed to these recipients"), Lotus Domino ("was not
 *      delivered to: ... because:"), Novell GroupWise, AOL and IIS.  Their
 *      delay warnings are IGNORED;
 *   5. an auto-reply (cor_autoreply_detect; the envelope sender is taken
 *      from Return-Path) -> IGNORED, "auto-reply".  Exception: the only
 *      sign is Auto-Submitted and From: is a mail system (empty, "<>",
 *      MAILER-DAEMON, postmaster, "Mail Delivery ...") — Postfix and
 *      sendmail put Auto-Submitted on their bounces — then step 6 is tried
 *      first.  The null envelope sender alone is no such exception: RFC
 *      3834 auto-replies use it too;
 *   6. "heuristic": mail that looks like a bounce (cor_bounce_detect, or
 *      From: a mail system) whose text, before the returned message, names
 *      a recipient and says why in words this module knows ("User mailbox
 *      exceeds allowed size: a@b.c"); a bare reply code or "try again" is
 *      not enough there;
 *   7. anything else -> IGNORED, "not-a-bounce".  Auto-replies never count.
 *
 * How a failure is classed (the first rule that matches; text is the
 * Diagnostic-Code or the MTA's sentence for that recipient):
 *
 *   a. status 4.x.x (or, with no status, an SMTP 4xx reply) -> SOFT,
 *      whatever the words (which may still name the reason: "mailbox full");
 *   b. mailbox full / quota / message too large -> SOFT;
 *   c. a refusal of *us* (our server, IP, SPF, sender address) -> SOFT;
 *   d. user unknown / no such mailbox / mailbox unavailable / account
 *      disabled -> HARD (words come before codes: "550 5.7.1 No such user"
 *      is a user, not a policy);
 *   e. the domain does not exist, or its server will not take mail for it
 *      (relaying denied, not in rcpthosts) -> HARD;
 *   f. spam, blocked, blacklist, content or policy rejections -> SOFT:
 *      the member's mailbox is not gone;
 *   g. "service unavailable", "try again later" -> SOFT;
 *   h. the enhanced status: 5.1.x, 5.2.0, 5.2.1, 5.4.4 -> HARD; 5.2.2,
 *      5.2.3, 5.3.4, other 5.4.x, 5.5.x, 5.6.x, 5.7.x -> SOFT (a status
 *      other than x.0.0 in the report wins over one found in the text);
 *   i. an SMTP 552 -> SOFT; any other 5xx -> HARD;
 *   j. a 5.x.x status with nothing else -> HARD;
 *   k. nothing readable -> SOFT ("failure, reason unknown"): a failure this
 *      module cannot read never takes a member away.
 *
 * Addresses: a recipient's `address` is the one the sender wrote — the
 * Original-Recipient, Exim's "generated from", sendmail's "expanded from" —
 * when it is a mail address, else the final recipient; `final_address` is
 * the final one when it differs.  Address types ("rfc822;"), <> and quotes
 * are removed, the domain is lower-cased.  A bare AOL screen name gets the
 * domain of the bounce's From.  Recipients are de-duplicated by address
 * (case-insensitive), keeping the worst class.
 *
 * Invariants:
 *   1. Any byte sequence gives a report (COR_OK): malformed, truncated or
 *      binary input is "not-a-bounce" at worst.  At most the first
 *      COR_BOUNCE_MAX_INPUT bytes are read (the report parts come before the
 *      returned message); nothing is read past `len`.
 *   2. report->cls is the worst of the recipients' classes (HARD > SOFT >
 *      IGNORED), IGNORED when there is none.  At most 256 recipients are
 *      kept (a list copy bounces with one).
 *   3. Every string is valid UTF-8 without control characters; diagnostic
 *      is one line of at most COR_BOUNCE_DIAG_MAX bytes.
 *
 * Thread safety: cor_bounce_parse may run on several threads at once (it
 * calls cor_message_init itself, which is idempotent).
 */
#ifndef COR_BOUNCE_H
#define COR_BOUNCE_H

#include <glib.h>
#include <stddef.h>

#include "core/status.h"

#define COR_BOUNCE_MAX_INPUT (4u << 20)
#define COR_BOUNCE_DIAG_MAX 200

typedef enum cor_bounce_class {
    COR_BOUNCE_IGNORED,   /* does not count: auto-reply, delay, success, not a bounce */
    COR_BOUNCE_SOFT,      /* failed, but the mailbox may still be there */
    COR_BOUNCE_HARD,      /* the mailbox or its domain is gone */
} cor_bounce_class_t;

/* "ignored", "soft" or "hard" (static, transfer none); "?" out of range. */
const char *cor_bounce_class_to_string(cor_bounce_class_t c);

typedef struct cor_bounce_rcpt {
    char *address;         /* the recipient as addressed (see above), lower-cased
                              domain; NULL when unknown */
    char *final_address;   /* the final recipient when it differs from address, else NULL */
    char *status;          /* enhanced status "5.1.1" (from the report, else from
                              the text), or NULL */
    cor_bounce_class_t cls;
    const char *reason;    /* static: "user unknown", "mailbox full", "message too
                              large", "refused as spam or by policy", "domain
                              unknown", "relaying refused", "mailbox disabled",
                              "server unavailable", "protocol error", "temporary
                              failure", "permanent failure", "failure, reason
                              unknown", "delayed", "delivered", "relayed",
                              "expanded" */
    char *diagnostic;      /* one line, UTF-8, at most COR_BOUNCE_DIAG_MAX bytes, or NULL */
} cor_bounce_rcpt_t;

typedef struct cor_bounce_report {
    cor_bounce_class_t cls;  /* the worst of the recipients (invariant 2) */
    const char *format;      /* static: "rfc3464", "qmail", "exim", "sendmail",
                                "postfix", "exchange", "domino", "groupwise", "aol",
                                "iis", "heuristic", "auto-reply", "not-a-bounce" */
    char *why;               /* one sentence for logs, never NULL */
    GPtrArray *rcpts;        /* cor_bounce_rcpt_t*, owned, never NULL */
} cor_bounce_report_t;

void cor_bounce_report_free(cor_bounce_report_t *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_bounce_report_t, cor_bounce_report_free)

/* Reads the message of `len` bytes at `raw` (not NUL-terminated; may hold
 * NULs).  On COR_OK *out is a new report (transfer full:
 * cor_bounce_report_free).  COR_ERR_INVALID when out is NULL or raw is
 * NULL with len > 0 (then *out, if out is not NULL, is NULL). */
cor_status_t cor_bounce_parse(const char *raw, size_t len, cor_bounce_report_t **out);

#endif
