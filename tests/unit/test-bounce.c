/* Unit tests for mta-bridge/bounce:
 *
 *   - the corpus bounces/bounceparser/msgs/ (126 real bounces, auto-replies
 *     and two spams), every file against tests/data/bounces/expected.tsv
 *     (class, format, failed addresses; each message read by hand, the
 *     ambiguous ones with their reason in the table's note column); prints
 *     "# bounces: N hard, N soft, N ignored";
 *   - hand-made files in tests/data/bounces/ (Postfix RFC 3464 hard, 4.2.2
 *     quota, a delay, Exchange 5.1.10 as a report and as text, a truncated
 *     report, a report whose boundary never comes), expectations in
 *     handmade[] below;
 *   - small inline cases for the text formats and the auto-reply rules;
 *   - degenerate input: NULL, empty, binary, every prefix of the hand-made
 *     files and mutated copies, each in a buffer of exactly its length (so
 *     that `make test-asan` sees any read past len).
 *
 * Every report is checked against the invariants of bounce.h.
 *
 * Fixtures: tests/data/bounces/ under $CORRIDOR_SRC (default ".", the repo
 * root).  Corpus: $CORRIDOR_CORPORA or ../shared/corpora; a missing corpus
 * fails the test.
 */
#include <glib.h>
#include <string.h>

#include "core/message.h"
#include "mta-bridge/bounce.h"

/* ---- helpers ------------------------------------------------------------ */

static const char *
src_dir(void)
{
    const char *s = g_getenv("CORRIDOR_SRC");
    return s && *s ? s : ".";
}

static char *
fixture(const char *name)
{
    return g_build_filename(src_dir(), "tests", "data", "bounces", name, NULL);
}

static const char *
corpora(void)
{
    const char *env = g_getenv("CORRIDOR_CORPORA");
    return env && *env ? env : "../shared/corpora";
}

static char *
read_file(const char *path, gsize *len)
{
    char *data = NULL;
    g_autoptr(GError) error = NULL;
    if (!g_file_get_contents(path, &data, len, &error))
        g_error("cannot read '%s': %s", path, error->message);
    return data;
}

/* The invariants of bounce.h, for any report. */
static void
check_invariants(const cor_bounce_report_t *r, const char *label)
{
    g_assert_nonnull(r);
    g_assert_nonnull(r->format);
    g_assert_nonnull(r->why);
    g_assert_true(g_utf8_validate(r->why, -1, NULL));
    for (const unsigned char *p = (const unsigned char *) r->why; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            g_error("%s: control character in why '%s'", label, r->why);
    g_assert_nonnull(r->rcpts);
    cor_bounce_class_t worst = COR_BOUNCE_IGNORED;
    for (guint i = 0; i < r->rcpts->len; i++) {
        const cor_bounce_rcpt_t *x = r->rcpts->pdata[i];
        if (x->cls > worst)
            worst = x->cls;
        g_assert_nonnull(x->reason);
        const char *addrs[] = { x->address, x->final_address };
        for (size_t k = 0; k < G_N_ELEMENTS(addrs); k++) {
            if (!addrs[k])
                continue;
            g_assert_true(g_utf8_validate(addrs[k], -1, NULL));
            const char *at = strchr(addrs[k], '@');
            if (!at)
                g_error("%s: address without @: '%s'", label, addrs[k]);
            for (const char *d = at + 1; *d; d++)
                if (g_ascii_isupper(*d))
                    g_error("%s: domain not lower-cased: '%s'", label, addrs[k]);
        }
        if (x->status) {
            g_assert_true(strchr("245", x->status[0]) && x->status[1] == '.');
            g_assert_cmpuint(strlen(x->status), <=, 9);
        }
        if (x->diagnostic) {
            g_assert_true(g_utf8_validate(x->diagnostic, -1, NULL));
            g_assert_cmpuint(strlen(x->diagnostic), <=, COR_BOUNCE_DIAG_MAX);
            g_assert_cmpuint(strlen(x->diagnostic), >, 0);
            for (const unsigned char *p = (const unsigned char *) x->diagnostic; *p; p++)
                if (*p < 0x20 || *p == 0x7F)
                    g_error("%s: control character in diagnostic '%s'", label, x->diagnostic);
        }
    }
    if (r->cls != worst)
        g_error("%s: report class %s but worst recipient %s", label,
                cor_bounce_class_to_string(r->cls), cor_bounce_class_to_string(worst));
}

/* Parses `len` bytes from a buffer of exactly that size (no NUL after). */
static cor_bounce_report_t *
parse_exact(const char *data, size_t len, const char *label)
{
    g_autofree char *copy = len ? g_memdup2(data, len) : NULL;
    cor_bounce_report_t *r = NULL;
    g_assert_cmpint(cor_bounce_parse(copy, len, &r), ==, COR_OK);
    check_invariants(r, label);
    return r;
}

/* The failed recipients' addresses, comma-separated; "-" for none
 * (transfer full). */
static char *
failed_addresses(const cor_bounce_report_t *r)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < r->rcpts->len; i++) {
        const cor_bounce_rcpt_t *x = r->rcpts->pdata[i];
        if (x->cls == COR_BOUNCE_IGNORED)
            continue;
        if (s->len)
            g_string_append_c(s, ',');
        g_string_append(s, x->address ? x->address : "?");
    }
    if (!s->len)
        g_string_append_c(s, '-');
    return g_string_free(s, FALSE);
}

static const cor_bounce_rcpt_t *
rcpt(const cor_bounce_report_t *r, guint i)
{
    g_assert_cmpuint(i, <, r->rcpts->len);
    return r->rcpts->pdata[i];
}

/* ---- the corpus ------------------------------------------------------------ */

typedef struct expect {
    char *file, *cls, *format, *addresses, *note;
    bool seen;
} expect_t;

static void
expect_free(gpointer p)
{
    expect_t *e = p;
    g_free(e->file);
    g_free(e->cls);
    g_free(e->format);
    g_free(e->addresses);
    g_free(e->note);
    g_free(e);
}

static GHashTable *
load_expected(void)
{
    g_autofree char *path = fixture("expected.tsv");
    gsize len;
    g_autofree char *data = read_file(path, &len);
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, expect_free);
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (!*lines[i] || lines[i][0] == '#')
            continue;
        g_auto(GStrv) f = g_strsplit(lines[i], "\t", 5);
        guint n = g_strv_length(f);
        if (n < 4)
            g_error("expected.tsv line %u: %u columns", i + 1, n);
        if (g_hash_table_contains(t, f[0]))
            g_error("expected.tsv: %s twice", f[0]);
        expect_t *e = g_new0(expect_t, 1);
        e->file = g_strdup(f[0]);
        e->cls = g_strdup(f[1]);
        e->format = g_strdup(f[2]);
        e->addresses = g_strdup(f[3]);
        e->note = g_strdup(n > 4 ? f[4] : "");
        g_hash_table_insert(t, e->file, e);
    }
    return t;
}

static gint
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static void
test_corpus(void)
{
    g_autofree char *dir = g_build_filename(corpora(), "bounces", "bounceparser", "msgs", NULL);
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_test_message("corpus missing: %s (set CORRIDOR_CORPORA)", dir);
        g_test_fail();
        return;
    }
    g_autoptr(GHashTable) expected = load_expected();
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    for (const char *n; (n = g_dir_read_name(d));)
        g_ptr_array_add(files, g_strdup(n));
    g_ptr_array_sort(files, cmp_str);
    g_assert_cmpuint(files->len, >, 0);

    guint counts[3] = { 0 }, wrong = 0;
    g_autoptr(GHashTable) formats = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < files->len; i++) {
        const char *file = files->pdata[i];
        g_autofree char *path = g_build_filename(dir, file, NULL);
        gsize len;
        g_autofree char *data = read_file(path, &len);
        g_autoptr(cor_bounce_report_t) r = parse_exact(data, len, file);
        counts[r->cls]++;
        g_hash_table_insert(formats, (gpointer) r->format,
                            GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(formats, r->format)) + 1));
        g_autofree char *addrs = failed_addresses(r);
        g_test_message("%s: %s %s [%s] %s", file, cor_bounce_class_to_string(r->cls), r->format,
                       addrs, r->why);
        expect_t *e = g_hash_table_lookup(expected, file);
        if (!e) {
            g_test_message("%s: not in expected.tsv", file);
            wrong++;
            continue;
        }
        e->seen = true;
        if (strcmp(e->cls, cor_bounce_class_to_string(r->cls)) != 0 ||
            strcmp(e->format, r->format) != 0 || strcmp(e->addresses, addrs) != 0) {
            g_test_message("%s: expected %s %s [%s], got %s %s [%s] (%s)", file, e->cls, e->format,
                           e->addresses, cor_bounce_class_to_string(r->cls), r->format, addrs, r->why);
            wrong++;
        }
    }
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, expected);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        expect_t *e = v;
        if (!e->seen) {
            g_test_message("%s: in expected.tsv but not in the corpus", e->file);
            wrong++;
        }
    }
    /* formats in a fixed order for the report line */
    g_autoptr(GString) fs = g_string_new(NULL);
    g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(formats), (GCompareFunc) strcmp);
    for (GList *k = keys; k; k = k->next)
        g_string_append_printf(fs, "%s%s %u", fs->len ? ", " : "", (const char *) k->data,
                               GPOINTER_TO_UINT(g_hash_table_lookup(formats, k->data)));
    g_printerr("# bounces: %u hard, %u soft, %u ignored\n", counts[COR_BOUNCE_HARD],
               counts[COR_BOUNCE_SOFT], counts[COR_BOUNCE_IGNORED]);
    g_printerr("# report: bounce corpus, %u messages: %u hard, %u soft, %u ignored (%s)\n",
               files->len, counts[COR_BOUNCE_HARD], counts[COR_BOUNCE_SOFT],
               counts[COR_BOUNCE_IGNORED], fs->str);
    if (wrong)
        g_error("%u corpus messages differ from tests/data/bounces/expected.tsv "
                "(run with --verbose to see which)", wrong);
}

/* ---- hand-made files ------------------------------------------------------------ */

typedef struct handmade {
    const char *file;
    cor_bounce_class_t cls;
    const char *format;
    const char *address;       /* of the first recipient */
    const char *final_address; /* NULL: none */
    const char *status;
    const char *reason;
    const char *diag_part;     /* a substring of the diagnostic */
} handmade_t;

static const handmade_t handmade[] = {
    { "postfix-rfc3464-hard.eml", COR_BOUNCE_HARD, "rfc3464", "ann.officer@othercouncil.example",
      NULL, "5.1.1", "user unknown", "User unknown in virtual mailbox table" },
    { "quota-422-soft.eml", COR_BOUNCE_SOFT, "rfc3464", "bob.member@gmail.example", NULL, "4.2.2",
      "mailbox full", "out of storage space" },
    { "delayed.eml", COR_BOUNCE_IGNORED, "rfc3464", "carol@parish.example", NULL, "4.4.1",
      "delayed", "Connection timed out" },
    { "exchange-online-5.1.10.eml", COR_BOUNCE_HARD, "rfc3464", "dave.smith@borough.example", NULL,
      "5.1.10", "user unknown", "RESOLVER.ADR.RecipientNotFound" },
    { "exchange-text-5.1.10.eml", COR_BOUNCE_HARD, "exchange", "erin.jones@district.example", NULL,
      "5.1.10", "user unknown", "Recipient not found by SMTP address lookup" },
    /* cut inside the Diagnostic-Code: Action and Status were already there */
    { "truncated.eml", COR_BOUNCE_HARD, "rfc3464", "frank.gone@othercouncil.example", NULL, "5.1.1",
      "user unknown", "550 5.1.1 <frank.gone@othe" },
    /* the boundary parameter names a boundary that never comes: no parts,
     * the body is read as Postfix's text */
    { "malformed-boundary.eml", COR_BOUNCE_HARD, "postfix", "gina.gone@othercouncil.example", NULL,
      "5.1.1", "user unknown", "User unknown in virtual mailbox table" },
};

static void
test_handmade(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(handmade); i++) {
        const handmade_t *h = &handmade[i];
        g_autofree char *path = fixture(h->file);
        gsize len;
        g_autofree char *data = read_file(path, &len);
        g_autoptr(cor_bounce_report_t) r = parse_exact(data, len, h->file);
        g_test_message("%s: %s", h->file, r->why);
        g_assert_cmpstr(cor_bounce_class_to_string(r->cls), ==, cor_bounce_class_to_string(h->cls));
        g_assert_cmpstr(r->format, ==, h->format);
        g_assert_cmpuint(r->rcpts->len, ==, 1);
        const cor_bounce_rcpt_t *x = rcpt(r, 0);
        g_assert_cmpstr(x->address, ==, h->address);
        g_assert_cmpstr(x->final_address, ==, h->final_address);
        g_assert_cmpstr(x->status, ==, h->status);
        g_assert_cmpstr(x->reason, ==, h->reason);
        g_assert_nonnull(x->diagnostic);
        if (!strstr(x->diagnostic, h->diag_part))
            g_error("%s: diagnostic '%s' lacks '%s'", h->file, x->diagnostic, h->diag_part);
    }
}

/* ---- inline cases ------------------------------------------------------------------ */

typedef struct inline_case {
    const char *name;
    const char *msg;
    cor_bounce_class_t cls;
    const char *format;
    const char *addresses;     /* failed ones, as failed_addresses() writes them */
} inline_case_t;

#define DAEMON "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\nTo: list-bounces@lists.council.example\n"

static const inline_case_t inline_cases[] = {
    { "postfix text, no MIME",
      DAEMON "Subject: Undelivered Mail Returned to Sender\n\n"
      "This is the Postfix program at host mx.example.org.\n\n"
      "I'm sorry to have to inform you that your message could not\n"
      "be delivered to one or more recipients.\n\n"
      "\t\t\tThe Postfix program\n\n"
      "<gone@example.org>: host mail.example.org[192.0.2.1] said: 550 5.1.1\n"
      "    <gone@example.org>: Recipient address rejected: User unknown (in reply to\n"
      "    RCPT TO command)\n"
      "<full@example.org> (expanded from <alias@example.org>): host\n"
      "    mail.example.org[192.0.2.1] said: 552 5.2.2 Mailbox full\n\n"
      "--- Undelivered message follows ---\n"
      "To: <nobody@example.net>\n",
      COR_BOUNCE_HARD, "postfix", "gone@example.org,alias@example.org" },
    { "postfix text delay warning",
      DAEMON "Subject: Delayed Mail (still being retried)\n\n"
      "This is the mail system at host mx.example.org.\n\n"
      "####################################################################\n"
      "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"
      "####################################################################\n\n"
      "<slow@example.org>: connect to mail.example.org[192.0.2.1]:25: Connection\n"
      "    timed out\n",
      COR_BOUNCE_IGNORED, "postfix", "-" },
    { "sendmail transient (a delay)",
      "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>\nSubject: Warning: could not send message for past 4 hours\n\n"
      "    **********************************************\n"
      "    **      THIS IS A WARNING MESSAGE ONLY      **\n"
      "    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **\n"
      "    **********************************************\n\n"
      "   ----- The following addresses had transient non-fatal errors -----\n"
      "<slow@example.org>\n\n"
      "   ----- Transcript of session follows -----\n"
      "<slow@example.org>... Deferred: Connection timed out with mail.example.org.\n",
      COR_BOUNCE_IGNORED, "sendmail", "-" },
    { "sendmail without a reason line: the transcript",
      "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>\nSubject: Returned mail: see transcript for details\n\n"
      "   ----- The following addresses had permanent fatal errors -----\n"
      "nobody@example.org\n\n"
      "   ----- Transcript of session follows -----\n"
      "... while talking to mail.example.org.:\n"
      ">>> RCPT To:<nobody@example.org>\n"
      "<<< 550 5.1.1 <nobody@example.org>... User unknown\n"
      "550 5.1.1 nobody@example.org... User unknown\n",
      COR_BOUNCE_HARD, "sendmail", "nobody@example.org" },
    { "qmail, two recipients",
      "From: MAILER-DAEMON@mx.example.org\nSubject: failure notice\n\n"
      "Hi. This is the qmail-send program at mx.example.org.\n"
      "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
      "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
      "<one@example.org>:\n192.0.2.1 does not like recipient.\n"
      "Remote host said: 550 5.1.1 No such user\nGiving up on 192.0.2.1.\n\n"
      "<two@example.net>:\nThis message is looping: it already has my Delivered-To line. (#5.4.6)\n\n"
      "--- Below this line is a copy of the message.\n\n"
      "To: <three@example.com>\n",
      COR_BOUNCE_HARD, "qmail", "one@example.org,two@example.net" },
    { "exim delay warning",
      "From: Mail Delivery System <Mailer-Daemon@mx.example.org>\nSubject: Warning: message 1abc-000 delayed 24 hours\n"
      "Auto-Submitted: auto-replied\n\n"
      "This message was created automatically by mail delivery software.\n\n"
      "A message that you sent has not yet been delivered to one or more of its\n"
      "recipients after more than 24 hours on the queue on mx.example.org.\n\n"
      "The address to which the message has not yet been delivered is:\n\n"
      "  slow@example.org\n    Delay reason: SMTP error from remote mail server after RCPT TO:<slow@example.org>:\n"
      "    451 4.3.0 Temporary lookup failure\n\n"
      "No action is required on your part.\n",
      COR_BOUNCE_IGNORED, "exim", "-" },
    { "IIS text only",
      "From: postmaster@example.org\nSubject: Delivery Status Notification (Failure)\n\n"
      "This is an automatically generated Delivery Status Notification.\n\n"
      "Delivery to the following recipients failed.\n\n       someone@example.org\n\n",
      COR_BOUNCE_SOFT, "iis", "someone@example.org" },
    { "a read receipt",
      "From: Bob <bob@example.org>\nSubject: Read: Minutes\nMIME-Version: 1.0\n"
      "Content-Type: multipart/report; report-type=disposition-notification; boundary=\"b\"\n\n"
      "--b\nContent-Type: text/plain\n\nYour message was read.\n\n"
      "--b\nContent-Type: message/disposition-notification\n\n"
      "Final-Recipient: rfc822; bob@example.org\nDisposition: manual-action/MDN-sent-manually; displayed\n\n--b--\n",
      COR_BOUNCE_IGNORED, "not-a-bounce", "-" },
    { "an HTML-only notice in words",
      "From: Mail Delivery System <MAILER-DAEMON@example.org>\nSubject: Undeliverable message\n"
      "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n"
      "<html><body><p>Delivery to <b>gone@example.org</b> failed: no such user.</p></body></html>\n",
      COR_BOUNCE_HARD, "heuristic", "gone@example.org" },
    { "a vacation reply from the null sender that names a colleague",
      "Return-Path: <>\nFrom: Harry Officer <harry@council.example>\nSubject: Out of Office: Budget\n"
      "Auto-Submitted: auto-replied\n\n"
      "I am temporarily out of the office. Mail sent to this mailbox is not read;\n"
      "for urgent matters write to deputy@council.example, my account is inactive\n"
      "until Monday.\n",
      COR_BOUNCE_IGNORED, "auto-reply", "-" },
    { "a daemon's Auto-Submitted notice in words",
      "Return-Path: <>\nFrom: <>\nTo: list-bounces@lists.council.example\nAuto-Submitted: auto-replied\n\n"
      "Your mail to jo@example.org could not be delivered: mailbox is full.\n",
      COR_BOUNCE_SOFT, "heuristic", "jo@example.org" },
    { "ordinary mail",
      "From: Ann <ann@council.example>\nTo: planning@lists.council.example\nSubject: Minutes\n\n"
      "The user unknown to us, bob@example.org, has a full mailbox of ideas.\n",
      COR_BOUNCE_IGNORED, "not-a-bounce", "-" },
    { "challenge-response by its words",
      "From: bob@example.org\nSubject: Re: Minutes\n\n"
      "Hello, your message has been waitlisted. Sender not pre-approved.\n",
      COR_BOUNCE_IGNORED, "auto-reply", "-" },
    { "a report with two recipients in one block and a per-message Action",
      DAEMON "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n"
      "--b\nContent-Type: message/delivery-status\n\n"
      "Reporting-MTA: dns; mx.example.org\nAction: failed\nStatus: 5.0.0\n\n"
      "Final-Recipient: rfc822; a@EXAMPLE.org\nDiagnostic-Code: smtp; 550 mailbox unavailable\n"
      "Final-Recipient: rfc822;b@example.org\nDiagnostic-Code: smtp; 552 5.2.2 over quota\n"
      "--b--\n",
      COR_BOUNCE_HARD, "rfc3464", "a@example.org,b@example.org" },
};

static void
test_inline(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(inline_cases); i++) {
        const inline_case_t *c = &inline_cases[i];
        g_autoptr(cor_bounce_report_t) r = parse_exact(c->msg, strlen(c->msg), c->name);
        g_autofree char *addrs = failed_addresses(r);
        g_test_message("%s: %s", c->name, r->why);
        if (r->cls != c->cls || strcmp(r->format, c->format) != 0 || strcmp(addrs, c->addresses) != 0)
            g_error("%s: expected %s %s [%s], got %s %s [%s] (%s)", c->name,
                    cor_bounce_class_to_string(c->cls), c->format, c->addresses,
                    cor_bounce_class_to_string(r->cls), r->format, addrs, r->why);
    }
}

/* Details the tables above do not show. */
static void
test_details(void)
{
    /* Original-Recipient wins; the final one is kept apart */
    {
        const char *m = DAEMON "MIME-Version: 1.0\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n"
            "--b\nContent-Type: message/delivery-status\n\n"
            "Reporting-MTA: dns; mx.example.org\n\n"
            "Original-Recipient: rfc822; RFC822; Member@Council.EXAMPLE\n"
            "Final-Recipient: rfc822; <member.forward@Mailbox.EXAMPLE>\n"
            "Action: failed\nStatus: 5.1.1 (bad destination mailbox address)\n\n--b--\n";
        g_autoptr(cor_bounce_report_t) r = parse_exact(m, strlen(m), "original");
        const cor_bounce_rcpt_t *x = rcpt(r, 0);
        g_assert_cmpstr(x->address, ==, "Member@council.example");
        g_assert_cmpstr(x->final_address, ==, "member.forward@mailbox.example");
        g_assert_cmpstr(x->status, ==, "5.1.1");
        g_assert_null(x->diagnostic);
        g_assert_cmpint(x->cls, ==, COR_BOUNCE_HARD);
    }
    /* a long diagnostic is one line of at most COR_BOUNCE_DIAG_MAX bytes,
     * cut between characters */
    {
        GString *m = g_string_new(DAEMON "MIME-Version: 1.0\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n"
            "--b\nContent-Type: message/delivery-status; charset=utf-8\n\n"
            "Final-Recipient: rfc822; x@example.org\nAction: failed\nStatus: 5.2.2\n"
            "Diagnostic-Code: smtp; 552 ");
        for (int i = 0; i < 120; i++)
            g_string_append(m, "bl\xc3\xa5\n ");
        g_string_append(m, "\n\n--b--\n");
        g_autoptr(cor_bounce_report_t) r = parse_exact(m->str, m->len, "long diagnostic");
        const cor_bounce_rcpt_t *x = rcpt(r, 0);
        g_assert_nonnull(x->diagnostic);
        g_assert_cmpuint(strlen(x->diagnostic), <=, COR_BOUNCE_DIAG_MAX);
        g_assert_cmpuint(strlen(x->diagnostic), >=, COR_BOUNCE_DIAG_MAX - 8);
        g_assert_null(strchr(x->diagnostic, '\n'));
        g_assert_cmpstr(x->reason, ==, "mailbox full");
        g_string_free(m, TRUE);
    }
    /* the report part is read even when a huge returned message follows,
     * and nothing past COR_BOUNCE_MAX_INPUT is looked at */
    {
        GString *m = g_string_new(DAEMON "MIME-Version: 1.0\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n"
            "--b\nContent-Type: message/delivery-status\n\n"
            "Final-Recipient: rfc822; big@example.org\nAction: failed\nStatus: 5.3.4\n\n"
            "--b\nContent-Type: message/rfc822\n\nSubject: big\n\n");
        while (m->len < COR_BOUNCE_MAX_INPUT + 100000)
            g_string_append(m, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n");
        g_string_append(m, "\n--b\nContent-Type: message/delivery-status\n\n"
                           "Final-Recipient: rfc822; after@example.org\nAction: failed\nStatus: 5.1.1\n\n--b--\n");
        g_autoptr(cor_bounce_report_t) r = parse_exact(m->str, m->len, "huge");
        g_assert_cmpuint(r->rcpts->len, ==, 1);
        g_assert_cmpstr(rcpt(r, 0)->address, ==, "big@example.org");
        g_assert_cmpint(r->cls, ==, COR_BOUNCE_SOFT);
        g_string_free(m, TRUE);
    }
    g_assert_cmpstr(cor_bounce_class_to_string(COR_BOUNCE_HARD), ==, "hard");
    g_assert_cmpstr(cor_bounce_class_to_string(COR_BOUNCE_SOFT), ==, "soft");
    g_assert_cmpstr(cor_bounce_class_to_string(COR_BOUNCE_IGNORED), ==, "ignored");
    g_assert_cmpstr(cor_bounce_class_to_string((cor_bounce_class_t) 42), ==, "?");
}

/* ---- degenerate input --------------------------------------------------------------- */

static void
test_degenerate(void)
{
    cor_bounce_report_t *r = (cor_bounce_report_t *) 0x1;
    g_assert_cmpint(cor_bounce_parse("x", 1, NULL), ==, COR_ERR_INVALID);
    g_assert_cmpint(cor_bounce_parse(NULL, 5, &r), ==, COR_ERR_INVALID);
    g_assert_null(r);
    g_assert_cmpint(cor_bounce_parse(NULL, 0, &r), ==, COR_OK);
    check_invariants(r, "NULL, 0");
    g_assert_cmpstr(r->format, ==, "not-a-bounce");
    cor_bounce_report_free(r);
    cor_bounce_report_free(NULL);

    static const char *const odd[] = {
        "", "\n", "\r\n\r\n", "From \n", "From: \n\n", ":\n\n", "Content-Type: multipart/report\n\n",
        "Content-Type: multipart/report; boundary=\"\"\n\n--\n--\n",
        "Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822;\nAction: failed\n",
        "Content-Type: message/delivery-status\n\nFinal-Recipient:\n \n\tAction",
        "Content-Type: message/delivery-status\n\nOriginal-Recipient: @\nFinal-Recipient: a@\nStatus: 5.\n",
        "From: MAILER-DAEMON\n\n<>:\n<@>: x\n<a@b.c\n",
        "From: <>\n\nThis is the qmail-send program\n<:\n<>:",
        "From: <>\n\nThis message was created automatically by mail delivery software.\nfailed:\n  @\n   a@b.c\n",
        "From: <>\n\n----- The following addresses had permanent fatal errors -----\n",
        "From: <>\n\ndid not reach the following recipient(s):\n@ on\n\tx\n",
        "From: <>\n\nwas not delivered to:\nbecause:",
        "From: <>\n\nYour mail to the following recipients could not be delivered\n\t\xff\xfe\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(odd); i++) {
        g_autofree char *label = g_strdup_printf("odd case %zu", i);
        g_autoptr(cor_bounce_report_t) x = parse_exact(odd[i], strlen(odd[i]), label);
    }

    /* binary noise, with NULs */
    GRand *rand = g_rand_new_with_seed(20250311);
    for (int i = 0; i < 50; i++) {
        size_t n = (size_t) g_rand_int_range(rand, 1, 4096);
        g_autofree char *b = g_malloc(n);
        for (size_t k = 0; k < n; k++)
            b[k] = (char) g_rand_int_range(rand, 0, 256);
        g_autoptr(cor_bounce_report_t) x = parse_exact(b, n, "noise");
        g_assert_cmpint(x->cls, ==, COR_BOUNCE_IGNORED);
    }

    /* every prefix (in steps) and byte-mutated copies of the hand-made files */
    for (size_t i = 0; i < G_N_ELEMENTS(handmade); i++) {
        g_autofree char *path = fixture(handmade[i].file);
        gsize len;
        g_autofree char *data = read_file(path, &len);
        for (gsize cut = 0; cut <= len; cut += cut < 64 ? 1 : 13) {
            g_autoptr(cor_bounce_report_t) x = parse_exact(data, cut, handmade[i].file);
        }
        for (int k = 0; k < 60; k++) {
            g_autofree char *m = g_memdup2(data, len);
            int flips = g_rand_int_range(rand, 1, 12);
            for (int f = 0; f < flips; f++) {
                gsize at = (gsize) g_rand_int_range(rand, 0, (gint32) len);
                static const char pool[] = "\n\r\t :;<>@\"-=\0\x80\xff";
                m[at] = g_rand_boolean(rand) ? pool[g_rand_int_range(rand, 0, sizeof pool - 1)]
                                             : (char) g_rand_int_range(rand, 0, 256);
            }
            g_autoptr(cor_bounce_report_t) x = parse_exact(m, len, handmade[i].file);
        }
    }
    g_rand_free(rand);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cor_message_init();
    g_test_add_func("/bounce/corpus", test_corpus);
    g_test_add_func("/bounce/handmade", test_handmade);
    g_test_add_func("/bounce/inline", test_inline);
    g_test_add_func("/bounce/details", test_details);
    g_test_add_func("/bounce/degenerate", test_degenerate);
    return g_test_run();
}
