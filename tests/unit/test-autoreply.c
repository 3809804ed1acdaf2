/* Unit tests for filters/autoreply: hand-made cases of every sign in
 * autoreply.h, then two real corpora:
 *
 *   - bounces/bounceparser/msgs/ (Mail::DeliveryStatus::BounceParser's test
 *     corpus): every message is a bounce or an auto-reply, except two spam
 *     messages that the corpus keeps as "not a bounce" cases;
 *   - linux-mips-2005.mbox (a year of a real technical list): no post is a
 *     bounce, an auto-reply or a mail command, except the few listed by
 *     Message-ID that really are one.
 *
 * Corpora: $CORRIDOR_CORPORA or ../shared/corpora from the repository root;
 * a missing corpus fails the test.
 */
#include <glib.h>
#include <string.h>

#include "core/mailbox.h"
#include "core/message.h"
#include "filters/autoreply.h"
#include "filters/headers.h"

/* ---- helpers ------------------------------------------------------------ */

static const char *
corpora(void)
{
    const char *env = g_getenv("CORRIDOR_CORPORA");
    return env && *env ? env : "../shared/corpora";
}

/* The path of a corpus file or folder; fails the test when it is missing. */
static char *
corpus_path(const char *rel)
{
    char *p = g_build_filename(corpora(), rel, NULL);
    if (!g_file_test(p, G_FILE_TEST_EXISTS)) {
        g_test_message("corpus missing: %s (set CORRIDOR_CORPORA)", p);
        g_test_fail();
        g_free(p);
        return NULL;
    }
    return p;
}

/* A message as intake sees it: the summary with the body's edges, and the
 * header fields. */
typedef struct parsed {
    cor_message_t *msg;
    cor_headers_t *h;
} parsed_t;

static void
parsed_clear(parsed_t *p)
{
    cor_message_free(p->msg);
    cor_headers_free(p->h);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(parsed_t, parsed_clear)

static bool
parse(const char *data, size_t len, parsed_t *p, const char *label)
{
    g_autofree char *err = NULL;
    cor_status_t s = cor_message_parse_ex(data, len, 0, COR_PARSE_SUMMARY | COR_PARSE_EDGES,
                                          &p->msg, &err);
    if (s != COR_OK) {
        g_test_message("%s: parse failed: %s", label, err ? err : "?");
        return false;
    }
    p->h = cor_headers_parse(data, len);
    return true;
}

/* The address in a Return-Path value: "<a@b>" -> "a@b", "<>" -> ""
 * (transfer full). */
static char *
return_path_addr(const char *v)
{
    const char *lt = strchr(v, '<');
    if (lt) {
        const char *gt = strchr(lt + 1, '>');
        return g_strstrip(g_strndup(lt + 1, gt ? (size_t) (gt - lt - 1) : strlen(lt + 1)));
    }
    return g_strstrip(g_strdup(v));
}

/* The three answers for one message (transfer full, each NULL for no). */
typedef struct verdicts {
    char *autoreply, *bounce, *command;
} verdicts_t;

static void
verdicts_clear(verdicts_t *v)
{
    g_free(v->autoreply);
    g_free(v->bounce);
    g_free(v->command);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(verdicts_t, verdicts_clear)

static void
detect(const parsed_t *p, const char *env_from, verdicts_t *v)
{
    v->autoreply = cor_autoreply_detect(p->msg, p->h, env_from);
    v->bounce = cor_bounce_detect(p->msg, p->h, env_from);
    v->command = cor_command_detect(p->msg, p->h);
}

/* ---- hand-made cases ------------------------------------------------------ */

#define OFFICER "From: Ann Officer <ann.officer@council.example>\n"
#define ANN "ann.officer@council.example"
/* a small delivery report body, the boundary named "b" */
#define REPORT_BODY \
    "--b\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n" \
    "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n" \
    "Final-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.1.1\n\n--b--\n"
#define MDN_BODY \
    "--b\nContent-Type: text/plain\n\nYour message was displayed.\n\n" \
    "--b\nContent-Type: message/disposition-notification\n\nReporting-UA: x; Outlook\n" \
    "Final-Recipient: rfc822; bob@council.example\n" \
    "Disposition: manual-action/MDN-sent-manually; displayed\n\n--b--\n"

typedef struct ar_case {
    const char *name;
    const char *headers;     /* fields other than Subject, each ending "\n";
                                OFFICER is added when there is no From */
    const char *subject;     /* NULL: no Subject field (or one in headers) */
    const char *env_from;    /* NULL: not known */
    const char *body;        /* NULL: a one-line ordinary body */
    bool autoreply, bounce, command;
    const char *why;         /* NULL, or the expected `why` of the first
                                "yes" (auto-reply, else bounce, else command) */
} ar_case_t;

static const ar_case_t cases[] = {
    /* strong auto-reply signs: headers */
    { "Auto-Submitted: auto-replied", "Auto-Submitted: auto-replied\n", "Budget", ANN, NULL,
      true, false, false, "Auto-Submitted: auto-replied" },
    { "Auto-Submitted: auto-generated with a comment", "Auto-Submitted: auto-generated (reminder)\n",
      "Your reminder", ANN, NULL, true, false, false, "Auto-Submitted: auto-generated" },
    { "Auto-Submitted: no is a person", "Auto-Submitted: no\n", "Minutes of the meeting", ANN, NULL,
      false, false, false, NULL },
    { "Auto-Submitted: No with a comment is a person", "Auto-Submitted: No (sent by hand)\n",
      "Minutes", ANN, NULL, false, false, false, NULL },
    { "X-Autoreply: yes", "X-Autoreply: yes\n", "Re: Budget", ANN, NULL,
      true, false, false, "X-Autoreply header" },
    { "X-Autorespond", "X-Autorespond: Budget\n", "Re: Budget", ANN, NULL, true, false, false, NULL },
    { "X-Autoresponder: 1", "X-Autoresponder: 1\n", "Re: Budget", ANN, NULL, true, false, false, NULL },
    { "X-Autoresponder: no", "X-Autoresponder: no\n", "Re: Budget", ANN, NULL, false, false, false, NULL },
    { "Precedence: auto_reply", "Precedence: auto_reply\n", "Re: Budget", ANN, NULL,
      true, false, false, "Precedence: auto_reply" },
    { "Exchange inbox rule loop", "X-MS-Exchange-Inbox-Rules-Loop: ann.officer@council.example\n",
      "Re: Budget", ANN, NULL, true, false, false, NULL },
    { "Exchange generated message", "X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent\n",
      "FW: Budget", ANN, NULL, true, false, false, NULL },
    { "Exchange organisation auto-reply", "X-MS-Exchange-Organization-AutoReply: true\n",
      "Re: Budget", ANN, NULL, true, false, false, NULL },
    { "OOF Content-Class", "Content-Class: IPM.Note.Rules.OofTemplate.Microsoft\n",
      "Budget", ANN, NULL, true, false, false,
      "out-of-office message class IPM.Note.Rules.OofTemplate.Microsoft" },
    { "rules message class", "X-MS-Exchange-MessageClass: IPM.Note.Rules.ReplyTemplate.Microsoft\n",
      "Budget", ANN, NULL, true, false, false, NULL },
    { "ordinary Content-Class", "Content-Class: urn:content-classes:message\n",
      "Budget", ANN, NULL, false, false, false, NULL },
    { "Bluebottle challenge", "X-Bluebottle-Request: <1234>\n", "RE: Budget", ANN, NULL,
      true, false, false, "challenge-response request (X-Bluebottle-Request)" },
    { "Boxbe challenge", "X-Boxbe-Screening: pending\n", "Re: Budget", ANN, NULL,
      true, false, false, NULL },
    { "ChoiceMail challenge", "X-ChoiceMail-Registration-Request: yes\n", "Re: Budget", ANN, NULL,
      true, false, false, NULL },

    /* strong auto-reply signs: subject prefixes */
    { "Automatic reply:", "", "Automatic reply: Budget", ANN, NULL,
      true, false, false, "subject begins \"Automatic reply:\"" },
    { "Auto-Reply:", "", "Auto-Reply: Budget", ANN, NULL, true, false, false, NULL },
    { "AutoReply:", "", "AutoReply: Budget", ANN, NULL, true, false, false, NULL },
    { "Out of Office:", "", "Out of Office: Budget", ANN, NULL, true, false, false, NULL },
    { "Out of Office AutoReply:", "", "Out of Office AutoReply: Budget", ANN, NULL,
      true, false, false, "subject begins \"Out of Office AutoReply:\"" },
    { "Lotus Notes AUTO:", "", "AUTO: Ann Officer is out of the office (returning 05/01/2010)", ANN,
      NULL, true, false, false, "subject begins \"AUTO:\"" },
    { "Welsh Ateb awtomatig:", "", "Ateb awtomatig: Cyllideb", ANN, NULL, true, false, false, NULL },
    { "Welsh Ymateb awtomatig:", "", "Ymateb awtomatig: Cyllideb", ANN, NULL, true, false, false, NULL },
    { "Welsh Allan o'r swyddfa:", "", "Allan o'r swyddfa: Cyllideb", ANN, NULL, true, false, false, NULL },
    { "Welsh with a curly apostrophe", "", "Allan o’r swyddfa: Cyllideb", ANN, NULL,
      true, false, false, "subject begins \"Allan o'r swyddfa:\"" },
    { "German Automatische Antwort:", "", "Automatische Antwort: Haushalt", ANN, NULL,
      true, false, false, NULL },
    { "German Abwesenheitsnotiz:", "", "Abwesenheitsnotiz: Haushalt", ANN, NULL, true, false, false, NULL },
    { "French, space before the colon", "", "Réponse automatique : Budget", ANN, NULL,
      true, false, false, "subject begins \"Réponse automatique:\"" },
    { "French in capitals", "", "RÉPONSE AUTOMATIQUE : Budget", ANN, NULL, true, false, false, NULL },
    { "Dutch Automatisch antwoord:", "", "Automatisch antwoord: Begroting", ANN, NULL,
      true, false, false, NULL },
    { "Spanish Respuesta automática:", "", "Respuesta automática: Presupuesto", ANN, NULL,
      true, false, false, NULL },
    { "Italian Risposta automatica:", "", "Risposta automatica: Bilancio", ANN, NULL,
      true, false, false, NULL },
    { "Portuguese Resposta automática:", "", "Resposta automática: Orçamento", ANN, NULL,
      true, false, false, NULL },
    { "Polish Automatyczna odpowiedź:", "", "Automatyczna odpowiedź: Budżet", ANN, NULL,
      true, false, false, NULL },
    { "Polish in a [tag], RFC 2047",
      "Subject: [Automatyczna =?iso-8859-2?Q?odpowied=BC?=] test\n", NULL, ANN, NULL,
      true, false, false, "subject tagged \"[Automatyczna odpowiedź]\"" },
    { "Swedish/Danish/Norwegian Autosvar:", "", "Autosvar: Budsjett", ANN, NULL,
      true, false, false, NULL },
    { "Finnish Automaattinen vastaus:", "", "Automaattinen vastaus: Budjetti", ANN, NULL,
      true, false, false, NULL },
    { "(tag) at the start", "", "(Automatic reply) Budget", ANN, NULL, true, false, false,
      "subject tagged \"(Automatic reply)\"" },
    { "[tag] at the end", "", "Budget meeting [Out of Office]", ANN, NULL, true, false, false, NULL },
    { "capitals and extra spaces", "", "  AUTOMATIC   REPLY :   Budget", ANN, NULL,
      true, false, false, NULL },
    { "a phrase without its colon is no prefix", "", "Automatic reply handling in Outlook", ANN, NULL,
      false, false, false, NULL },
    /* Decision: someone answering an auto-reply by hand writes a post; the
     * subject sign counts only at the very start. */
    { "Re: Automatic reply: is a person's reply", "", "Re: Automatic reply: Budget", ANN, NULL,
      false, false, false, NULL },
    { "a prefix after a list tag is no prefix", "", "[staff] Out of office: rota", ANN, NULL,
      false, false, false, NULL },

    /* weak signs and strengtheners */
    { "out of office in a human subject", "", "Out of office cover arrangements for Christmas", ANN,
      NULL, false, false, false, NULL },
    { "Precedence: bulk alone is a newsletter", "Precedence: bulk\n", "Council newsletter: March",
      ANN, NULL, false, false, false, NULL },
    { "Precedence: list alone is a list post", "Precedence: list\nList-Id: <staff.council.example>\n",
      "Bin collection rota", ANN, NULL, false, false, false, NULL },
    { "Precedence: bulk and out of office", "Precedence: bulk\n", "I am out of office today", ANN,
      NULL, true, false, false, "\"out of office\" in the subject with Precedence: bulk" },
    { "Precedence: list and on annual leave", "Precedence: list\n", "On annual leave until Monday",
      ANN, NULL, true, false, false, NULL },
    { "Precedence: junk and out of the office", "Precedence: junk\n", "Ann is out of the office",
      ANN, NULL, true, false, false, NULL },
    { "Precedence: bulk and on holiday", "Precedence: bulk\n", "Re: Budget - on holiday", ANN, NULL,
      true, false, false, NULL },
    { "Precedence: bulk and away from my email", "Precedence: bulk\n", "Away from my email", ANN, NULL,
      true, false, false, NULL },
    { "Precedence: bulk and vacation", "Precedence: bulk\n", "Vacation", ANN, NULL, true, false, false, NULL },
    { "Precedence: bulk and autoresponder", "Precedence: bulk\n", "Message from the autoresponder",
      ANN, NULL, true, false, false, NULL },
    { "Precedence: bulk and abwesend", "Precedence: bulk\n", "Ich bin abwesend", ANN, NULL,
      true, false, false, NULL },
    { "Precedence: bulk and absence", "Precedence: bulk\n", "Absence notice", ANN, NULL,
      true, false, false, NULL },
    { "Precedence: bulk and Welsh allan o'r swyddfa", "Precedence: bulk\n", "Rydw i allan o'r swyddfa",
      ANN, NULL, true, false, false, NULL },
    { "Precedence: bulk and Welsh ar wyliau", "Precedence: bulk\n", "Ar wyliau tan ddydd Llun", ANN,
      NULL, true, false, false, NULL },
    { "a weak phrase inside a word does not count", "Precedence: bulk\n", "Honeymoon holiday offers",
      ANN, NULL, false, false, false, NULL },
    { "vacation alone is a post", "", "Vacation policy for 2025", ANN, NULL, false, false, false, NULL },
    { "null sender strengthens away from my desk", "", "Away from my desk", "", NULL,
      true, false, false, "\"away from my desk\" in the subject with a null envelope sender" },
    { "X-Auto-Response-Suppress alone", "X-Auto-Response-Suppress: OOF\n", "Budget", ANN, NULL,
      false, false, false, NULL },
    /* X-Auto-Response-Suppress is no sign: git-send-email and Office 365
     * put it on ordinary posts (the only two in the linux-mips archive) */
    { "X-Auto-Response-Suppress and Precedence: bulk",
      "X-Auto-Response-Suppress: DR, OOF, AutoReply\nPrecedence: bulk\n", "Budget", ANN, NULL,
      false, false, false, NULL },
    /* Found in the full linux-mips archive (1996-2019): every list post
     * carries the list's Precedence: bulk, which must not strengthen a
     * weak sign when the List-* fields say it is list traffic. */
    { "a list post about a vacation",
      "Precedence: bulk\nList-Id: linux-mips <linux-mips.eddie.linux-mips.org>\n",
      "Vacation & Linux Expo", ANN, NULL, false, false, false, NULL },
    { "a git-send-email patch through a list",
      "X-Mailer: git-send-email 2.1.4\nX-Auto-Response-Suppress: DR, OOF, AutoReply\n"
      "Precedence: bulk\nList-Id: linux-mips <linux-mips.eddie.linux-mips.org>\n",
      "[PATCH-RFC 4/7] mips: convert to generic builtin command line", ANN, NULL,
      false, false, false, NULL },
    { "an HR bulletin through a list: absence in the subject",
      "Precedence: bulk\nList-Unsubscribe: <mailto:hr-request@council.example>\n",
      "Absence reporting changes", ANN, NULL, false, false, false, NULL },
    { "null sender with Precedence: bulk (vacation(1))", "Precedence: bulk\n",
      "Thank you for your e-mail", "", NULL, true, false, false,
      "a null envelope sender with Precedence: bulk" },
    { "X-Auto-Response-Suppress: All does not name OOF", "X-Auto-Response-Suppress: All\n"
      "Precedence: bulk\n", "Ticket 123 updated", ANN, NULL, false, false, false, NULL },

    /* bounces */
    { "null sender alone", "", "Your message", "", NULL, false, true, false, "null envelope sender" },
    { "null sender with Auto-Submitted is an auto-reply", "Auto-Submitted: auto-replied\n",
      "Thank you for your email", "", NULL, true, false, false, NULL },
    { "DSN", "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; "
      "boundary=\"b\"\n", "Failure", "bounces@mx.example", REPORT_BODY, false, true, false,
      "a delivery report (multipart/report; report-type=delivery-status)" },
    { "DSN, folded Content-Type in capitals", "MIME-Version: 1.0\nContent-Type: Multipart/Report;\n"
      "\treport-type=\"delivery-status\";\n\tboundary=\"b\"\n", "x", ANN, REPORT_BODY,
      false, true, false, NULL },
    { "MDN", "MIME-Version: 1.0\nContent-Type: multipart/report; "
      "report-type=disposition-notification; boundary=\"b\"\n", "Read: Budget", ANN, MDN_BODY,
      false, true, false, "a read receipt (multipart/report; report-type=disposition-notification)" },
    { "abuse feedback report", "MIME-Version: 1.0\nContent-Type: multipart/report; "
      "report-type=feedback-report; boundary=\"b\"\n", "Abuse report", "fbl@isp.example", REPORT_BODY,
      false, true, false, NULL },
    { "sendmail: MAILER-DAEMON and Returned mail:",
      "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example>\n",
      "Returned mail: see transcript for details", "MAILER-DAEMON@mx.example", NULL,
      false, true, false,
      "sender MAILER-DAEMON@mx.example and subject \"Returned mail: see transcript for details\"" },
    { "Exchange: postmaster and Undeliverable:", "From: System Administrator <postmaster@example.net>\n",
      "Undeliverable: Budget", "bounce@example.net", NULL, false, true, false, NULL },
    { "Postfix display name", "From: Mail Delivery System <bounces@mx.example>\n",
      "Undelivered Mail Returned to Sender", "bounces@mx.example", NULL, false, true, false, NULL },
    { "Exim: Mailer-Daemon and Mail delivery failed", "From: Mail Delivery System <Mailer-Daemon@mx.example>\n",
      "Mail delivery failed: returning message to sender", "x@mx.example", NULL,
      false, true, false, NULL },
    { "Outlook: Microsoft Outlook and Undeliverable:",
      "From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@council.example>\n",
      "Undeliverable: Budget", "x@council.example", NULL, false, true, false, NULL },
    { "qmail: failure notice", "From: MAILER-DAEMON@mx.example\n", "failure notice", "x@mx.example",
      NULL, false, true, false, NULL },
    { "Domino: DELIVERY FAILURE", "From: Postmaster@example.net\n",
      "DELIVERY FAILURE: User x not listed in Domino Directory", "x@example.net", NULL,
      false, true, false, NULL },
    { "GroupWise: Message status - undeliverable", "From: Mailer-Daemon@example.net\n",
      "Message status - undeliverable", "x@example.net", NULL, false, true, false, NULL },
    { "mail-daemon local part", "From: mail-daemon@example.net\n", "Delivery Notification: failed",
      "x@example.net", NULL, false, true, false, NULL },
    { "mailer_daemon envelope sender", "", "Delivery Status Notification (Failure)",
      "mailer_daemon@example.net", NULL, false, true, false, NULL },
    { "mdaemon envelope sender", "", "Mail Delivery Problem", "MDaemon@example.net", NULL,
      false, true, false, NULL },
    { "postmaster writing a post", "From: Postmaster <postmaster@council.example>\n",
      "Planned mail maintenance on Saturday", "postmaster@council.example", NULL,
      false, false, false, NULL },
    { "postmaster replying about failures", "From: Postmaster <postmaster@council.example>\n",
      "Re: Mail delivery failed for some staff", "postmaster@council.example", NULL,
      false, false, false, NULL },
    { "a person's failure subject", "", "Returned mail: what to do with it", ANN, NULL,
      false, false, false, NULL },

    /* mail commands */
    { "unsubscribe", "", "unsubscribe", ANN, NULL, false, false, true,
      "subject is the command \"unsubscribe\"" },
    { "UNSUBSCRIBE me", "", "UNSUBSCRIBE me", ANN, NULL, false, false, true, NULL },
    { "Remove me", "", "Remove me", ANN, NULL, false, false, true, NULL },
    { "subscribe", "", "subscribe", ANN, NULL, false, false, true, NULL },
    { "help", "", "help", ANN, NULL, false, false, true, NULL },
    { "leave", "", "Leave", ANN, NULL, false, false, true, NULL },
    { "join", "", "join", ANN, NULL, false, false, true, NULL },
    { "Please unsubscribe me.", "", "Please unsubscribe me.", ANN, NULL, false, false, true, NULL },
    { "unsubscribe with an address", "", "unsubscribe ann.officer@council.example", ANN, NULL,
      false, false, true, NULL },
    { "Remove alone is too vague", "", "Remove", ANN, NULL, false, false, false, NULL },
    { "Leave with a long body is about annual leave", "", "Leave", ANN,
      "Hi all,\n\nA reminder that leave requests for December\nmust be in by Friday.\n"
      "Please use the new form.\nThe form is on the intranet.\nThanks,\nJo\n",
      false, false, false, NULL },
    { "Help with a long body is a question", "", "help", ANN,
      "My board will not boot.\nI tried the 2.6.12 kernel.\nThen 2.6.11.\nThen the CVS head.\n"
      "Nothing prints on the serial console.\nAny idea?\n", false, false, false, NULL },
    { "Unsubscribe!! is a command", "", "Unsubscribe!!", ANN, NULL, false, false, true, NULL },
    /* "help!" heads a plea on real lists (linux-mips, 2000), not a request
     * for the command list; "help" must stand bare */
    { "help! is a plea", "", "help!", ANN, "I need a job, please help!\n", false, false, false, NULL },
    { "help please is a plea", "", "Help please", ANN, NULL, false, false, false, NULL },
    { "Re: help with the budget spreadsheet", "", "Re: help with the budget spreadsheet", ANN, NULL,
      false, false, false, NULL },
    { "Help needed: printer on 3rd floor", "", "Help needed: printer on 3rd floor", ANN, NULL,
      false, false, false, NULL },
    { "a question about unsubscribing", "", "How do I unsubscribe?", ANN, NULL,
      false, false, false, NULL },
    { "Re: unsubscribe is a reply", "", "Re: unsubscribe", ANN, NULL, false, false, false, NULL },
    { "empty subject, command body", "", "", ANN, "unsubscribe\n\n-- \nAnn Officer\nCouncil\n",
      false, false, true, "empty subject and the body's first line is the command \"unsubscribe\"" },
    { "no subject, command body", "", NULL, ANN, "\n  Remove me please  \nSent from my phone\n",
      false, false, true, NULL },
    { "empty subject, long body", "", "", ANN,
      "unsubscribe\nline 2\nline 3\nline 4\nline 5\nline 6\n", false, false, false, NULL },
    { "a subject, command body", "", "Budget", ANN, "unsubscribe\n", false, false, false, NULL },
};

/* A message from a case (transfer full). */
static char *
case_message(const ar_case_t *c)
{
    GString *m = g_string_new(NULL);
    if (c->env_from)
        g_string_append_printf(m, "Return-Path: <%s>\n", c->env_from);
    if (!strstr(c->headers, "From:"))
        g_string_append(m, OFFICER);
    g_string_append(m, "To: staff@groups.council.example\n"
                       "Date: Mon, 3 Jan 2005 10:00:00 +0000\n"
                       "Message-ID: <case@council.example>\n");
    g_string_append(m, c->headers);
    if (c->subject)
        g_string_append_printf(m, "Subject: %s\n", c->subject);
    if (!strstr(c->headers, "Content-Type:"))
        g_string_append(m, "Content-Type: text/plain; charset=utf-8\n");
    g_string_append_printf(m, "\n%s", c->body ? c->body : "Please see the attached figures.\n");
    return g_string_free(m, FALSE);
}

static void
test_cases(void)
{
    g_assert_cmpuint(G_N_ELEMENTS(cases), >=, 40);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const ar_case_t *c = &cases[i];
        g_autofree char *raw = case_message(c);
        g_auto(parsed_t) p = { 0 };
        g_assert_true(parse(raw, strlen(raw), &p, c->name));
        g_auto(verdicts_t) v = { 0 };
        detect(&p, c->env_from, &v);
        g_test_message("%s: autoreply %s; bounce %s; command %s", c->name,
                       v.autoreply ? v.autoreply : "no", v.bounce ? v.bounce : "no",
                       v.command ? v.command : "no");
        if ((v.autoreply != NULL) != c->autoreply || (v.bounce != NULL) != c->bounce ||
            (v.command != NULL) != c->command)
            g_error("case '%s': got autoreply=%s bounce=%s command=%s, want %d %d %d", c->name,
                    v.autoreply ? v.autoreply : "no", v.bounce ? v.bounce : "no",
                    v.command ? v.command : "no", c->autoreply, c->bounce, c->command);
        if (c->why) {
            const char *got = v.autoreply ? v.autoreply : v.bounce ? v.bounce : v.command;
            g_assert_cmpstr(got, ==, c->why);
        }
    }
}

/* Edge cases of the input: no header block, no subject, NULL env_from. */
static void
test_degenerate(void)
{
    static const char raw[] = "From: a@b.example\n\nunsubscribe\n";
    g_auto(parsed_t) p = { 0 };
    g_assert_true(parse(raw, sizeof raw - 1, &p, "degenerate"));
    g_autofree char *a = cor_autoreply_detect(p.msg, p.h, NULL);
    g_autofree char *b = cor_bounce_detect(p.msg, p.h, NULL);
    g_autofree char *c = cor_command_detect(p.msg, p.h);
    g_assert_null(a);
    g_assert_null(b);                  /* NULL env_from is "not known", not <> */
    g_assert_cmpstr(c, ==, "empty subject and the body's first line is the command \"unsubscribe\"");

    /* an empty header list (the scanner found no fields) */
    g_autoptr(cor_headers_t) none = cor_headers_parse("", 0);
    g_autofree char *a2 = cor_autoreply_detect(p.msg, none, "");
    g_autofree char *b2 = cor_bounce_detect(p.msg, none, "");
    g_assert_null(a2);
    g_assert_cmpstr(b2, ==, "null envelope sender");
}

/* ---- the bounce corpus ----------------------------------------------------- */

/* Messages of bounceparser/msgs that are neither a bounce nor an
 * auto-reply. */
static const struct {
    const char *file;
    const char *reason;
} bounce_corpus_exceptions[] = {
    { "spam-bogus-email-in-report.msg", "ordinary (spam) mail: BounceParser's not-a-bounce case" },
    { "spam-with-image.msg", "ordinary (spam) mail: BounceParser's not-a-bounce case" },
};

static const char *
bounce_exception(const char *file)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bounce_corpus_exceptions); i++)
        if (strcmp(file, bounce_corpus_exceptions[i].file) == 0)
            return bounce_corpus_exceptions[i].reason;
    return NULL;
}

static gint
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static void
test_bounce_corpus(void)
{
    g_autofree char *dir = corpus_path("bounces/bounceparser/msgs");
    if (!dir)
        return;
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    for (const char *n; (n = g_dir_read_name(d));)
        g_ptr_array_add(files, g_strdup(n));
    g_ptr_array_sort(files, cmp_str);
    g_assert_cmpuint(files->len, >, 0);

    g_autoptr(GString) bounce_only = g_string_new(NULL), auto_only = g_string_new(NULL),
                       both = g_string_new(NULL);
    guint n_bounce = 0, n_auto = 0, n_both = 0, n_neither = 0, n_exceptions_seen = 0;
    for (guint i = 0; i < files->len; i++) {
        const char *file = files->pdata[i];
        g_autofree char *path = g_build_filename(dir, file, NULL);
        g_autofree char *data = NULL;
        gsize len = 0;
        g_autoptr(GError) error = NULL;
        if (!g_file_get_contents(path, &data, &len, &error))
            g_error("cannot read '%s': %s", path, error->message);
        g_auto(parsed_t) p = { 0 };
        g_assert_true(parse(data, len, &p, file));
        /* the envelope sender: Return-Path as the final MTA wrote it; three
         * messages have none, and then the From: address stands in */
        const char *rp = cor_headers_get(p.h, "Return-Path");
        g_autofree char *env = rp ? return_path_addr(rp) : g_strdup(p.msg->from_addr);
        g_auto(verdicts_t) v = { 0 };
        detect(&p, env, &v);
        const char *exception = bounce_exception(file);
        if (exception) {
            n_exceptions_seen++;
            g_test_message("%s: expected neither (%s): autoreply %s, bounce %s", file, exception,
                           v.autoreply ? v.autoreply : "no", v.bounce ? v.bounce : "no");
            g_assert_null(v.autoreply);
            g_assert_null(v.bounce);
            g_assert_null(v.command);
            n_neither++;
            continue;
        }
        g_test_message("%s: autoreply %s; bounce %s", file, v.autoreply ? v.autoreply : "no",
                       v.bounce ? v.bounce : "no");
        if (!v.autoreply && !v.bounce)
            g_error("%s: detected as neither a bounce nor an auto-reply", file);
        g_assert_null(v.command);
        if (v.autoreply && v.bounce) {
            n_both++;
            g_string_append_printf(both, " %s", file);
        } else if (v.bounce) {
            n_bounce++;
            g_string_append_printf(bounce_only, " %s", file);
        } else {
            n_auto++;
            g_string_append_printf(auto_only, " %s", file);
        }
    }
    g_assert_cmpuint(n_exceptions_seen, ==, G_N_ELEMENTS(bounce_corpus_exceptions));
    g_test_message("bounce corpus: %u messages: %u bounce only, %u auto-reply only, %u both "
                   "(a report or daemon bounce that also carries Auto-Submitted), %u neither",
                   files->len, n_bounce, n_auto, n_both, n_neither);
    g_test_message("bounce only:%s", bounce_only->str);
    g_test_message("auto-reply only:%s", auto_only->str);
    g_test_message("both:%s", both->str);
    g_printerr("# bounce corpus: %u messages: %u bounce, %u auto-reply, %u both, %u neither (spam)\n",
               files->len, n_bounce, n_auto, n_both, n_neither);
}

/* ---- the linux-mips list --------------------------------------------------- */

/* Messages of linux-mips-2005.mbox that are really automatic, each looked
 * at by hand. */
typedef struct mips_exception {
    const char *message_id;
    bool autoreply, bounce, command;
    const char *reason;
} mips_exception_t;

static const mips_exception_t mips_exceptions[] = {
    /* Subject "help", body "help": a list-server command sent to the post
     * address by mistake, exactly what the command route is for. */
    { "053301c55aa8$887769e0$0300a8c0@boletus", false, false, true,
      "a mail command (\"help\") sent to the list" },
};

static const mips_exception_t *
mips_exception(const char *id)
{
    for (size_t i = 0; i < G_N_ELEMENTS(mips_exceptions); i++)
        if (strcmp(mips_exceptions[i].message_id, id) == 0)
            return &mips_exceptions[i];
    return NULL;
}

static void
test_linux_mips(void)
{
    g_autofree char *path = corpus_path("linux-mips-2005.mbox");
    if (!path)
        return;
    g_autoptr(cor_mailbox_t) mb = NULL;
    g_autofree char *err = NULL;
    cor_status_t s = cor_mailbox_open(path, NULL, &mb, &err);
    if (s != COR_OK)
        g_error("open '%s': %s", path, err);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    guint total = 0, unexpected = 0;
    gint64 spent = 0;
    for (;;) {
        g_autoptr(GBytes) data = NULL;
        g_autofree char *label = NULL, *nerr = NULL;
        s = cor_mailbox_next(mb, &data, &label, &nerr);
        if (s == COR_DONE)
            break;
        if (s != COR_OK)
            g_error("next in '%s': %s", path, nerr);
        total++;
        gsize len = 0;
        const char *raw = g_bytes_get_data(data, &len);
        g_auto(parsed_t) p = { 0 };
        g_assert_true(parse(raw, len, &p, label));
        /* list posts: the From: address stands in for the envelope sender */
        g_auto(verdicts_t) v = { 0 };
        gint64 t0 = g_get_monotonic_time();
        detect(&p, p.msg->from_addr, &v);
        spent += g_get_monotonic_time() - t0;
        if (!v.autoreply && !v.bounce && !v.command)
            continue;
        const mips_exception_t *ex = mips_exception(p.msg->message_id);
        g_test_message("%s <%s> \"%s\" from %s: autoreply %s; bounce %s; command %s%s%s", label,
                       p.msg->message_id, p.msg->subject, p.msg->from, v.autoreply ? v.autoreply : "no",
                       v.bounce ? v.bounce : "no", v.command ? v.command : "no",
                       ex ? " -- expected: " : "", ex ? ex->reason : "");
        if (!ex || ex->autoreply != (v.autoreply != NULL) || ex->bounce != (v.bounce != NULL) ||
            ex->command != (v.command != NULL)) {
            unexpected++;
            continue;
        }
        g_hash_table_add(seen, (gpointer) ex);
    }
    g_assert_cmpuint(total, ==, 2896);
    g_test_message("linux-mips: %u messages, %u listed exceptions found, %u unexpected; "
                   "detection %.2f us a message", total, g_hash_table_size(seen), unexpected,
                   (double) spent / total);
    g_assert_cmpuint(unexpected, ==, 0);
    for (size_t i = 0; i < G_N_ELEMENTS(mips_exceptions); i++)
        if (!g_hash_table_contains(seen, &mips_exceptions[i]))
            g_error("listed exception <%s> not found or not detected as listed",
                    mips_exceptions[i].message_id);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cor_message_init();
    g_test_add_func("/autoreply/cases", test_cases);
    g_test_add_func("/autoreply/degenerate", test_degenerate);
    g_test_add_func("/autoreply/bounce-corpus", test_bounce_corpus);
    g_test_add_func("/autoreply/linux-mips", test_linux_mips);
    return g_test_run();
}
