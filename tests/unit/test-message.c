/* Unit tests for core/message: hand-made cases (C string tables here and
 * tests/data/message/NAME.eml, expectations next to each case), then the
 * real-mail corpora: every file under corpora/mime/, corpora/notmuch/ and
 * corpora/bounces/ must parse (or be listed below as not a message, with
 * the reason), and all 2,896 messages of linux-mips-2005.mbox, whose parse
 * rate is reported.
 *
 * Corpora: $CORRIDOR_CORPORA or ../shared/corpora from the repository root
 * (tests run from the root); a missing corpus fails the test.
 */
#include <glib.h>
#include <string.h>
#include <time.h>

#include "core/message.h"

#define RECEIVED ((int64_t) 1700000000)     /* 2023-11-14 */

/* ---- helpers ------------------------------------------------------------ */

static cor_message_t *
parse_ok(const char *data, size_t len)
{
    cor_message_t *m = NULL;
    g_autofree char *err = NULL;
    cor_status_t st = cor_message_parse(data, len, RECEIVED, &m, &err);
    if (st != COR_OK)
        g_test_message("parse failed: %s", err ? err : "?");
    g_assert_cmpint(st, ==, COR_OK);
    g_assert_nonnull(m);
    return m;
}

static cor_message_t *
parse_str(const char *s)
{
    return parse_ok(s, strlen(s));
}

static cor_message_t *
parse_fixture(const char *name)
{
    g_autofree char *path = g_build_filename("tests", "data", "message", name, NULL);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) error = NULL;
    if (!g_file_get_contents(path, &data, &len, &error))
        g_error("cannot read fixture '%s': %s (run from the repository root)", path, error->message);
    return parse_ok(data, len);
}

static bool
has_warning(const cor_message_t *m, const char *part)
{
    for (guint i = 0; i < m->warnings->len; i++) {
        if (strstr(m->warnings->pdata[i], part))
            return true;
    }
    return false;
}

static bool
valid_text(const char *s)
{
    return s && g_utf8_validate(s, -1, NULL);
}

/* Invariants 2 and 3 of message.h, for any parsed message. */
static void
assert_invariants(const cor_message_t *m)
{
    const char *strings[] = {
        m->message_id, m->subject, m->from, m->from_name, m->from_addr, m->to, m->cc,
        m->in_reply_to, m->thread_index, m->thread_topic, m->list_id, m->body, m->new_text,
        m->quoted_text, m->signature, m->attachment_text,
    };
    for (size_t i = 0; i < G_N_ELEMENTS(strings); i++)
        g_assert_true(valid_text(strings[i]));
    g_assert_nonnull(m->references);
    g_assert_nonnull(m->attachments);
    g_assert_nonnull(m->warnings);
    g_assert_cmpstr(m->message_id, !=, "");
    g_assert_null(strpbrk(m->message_id, "<> \t\r\n"));
    g_assert_null(strpbrk(m->in_reply_to, "<> \t\r\n"));
    for (guint i = 0; i < m->references->len; i++) {
        const char *r = m->references->pdata[i];
        g_assert_true(valid_text(r));
        g_assert_cmpstr(r, !=, "");
        g_assert_null(strpbrk(r, "<> \t\r\n"));
        g_assert_cmpstr(r, !=, m->message_id);
    }
    for (guint i = 0; i < m->attachments->len; i++) {
        const cor_attachment_t *a = m->attachments->pdata[i];
        g_assert_true(valid_text(a->filename));
        g_assert_true(valid_text(a->content_type));
        g_assert_nonnull(strchr(a->content_type, '/'));
        g_assert_cmpint(a->part_index, >=, 0);
    }
    for (guint i = 0; i < m->warnings->len; i++)
        g_assert_true(valid_text(m->warnings->pdata[i]));
    g_assert_cmpuint(strlen(m->thread_index) % 2, ==, 0);
}

static char *
message_with(const char *headers, const char *body)
{
    return g_strdup_printf("%s\n\n%s", headers, body);
}

static const char *
corpora(void)
{
    const char *env = g_getenv("CORRIDOR_CORPORA");
    return env && *env ? env : "../shared/corpora";
}

/* ---- headers ------------------------------------------------------------ */

static void
test_rfc2047_subjects(void)
{
    static const struct { const char *raw; const char *decoded; } cases[] = {
        { "=?utf-8?B?w6l0w6k=?=", "été" },                          /* B, utf-8 */
        { "=?iso-8859-1?Q?caf=E9?=", "café" },                      /* Q, latin1 */
        { "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus =?utf-8?q?K=C3=B6ln?=", "Grüße aus Köln" },
        { "=?utf-8?q?a?= =?utf-8?q?b?=", "ab" },                     /* space between words dropped */
        { "=?utf-8?Q?split_=C3?= =?utf-8?Q?=A9?=", "split é" },     /* a character split in two words */
        { "=?windows-1252?Q?=93quoted=94?=", "“quoted”" },
        { "=?iso-8859-15?q?=A4uro?=", "€uro" },
        { "Re: =?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=", "Re: 日本語" },
        { "=?utf-8*en?q?with_language?=", "with language" },         /* RFC 2231 language */
        /* broken ones */
        { "=?utf-8?B?w6l0w6k?=", "été" },                           /* missing padding */
        { "=?x-unknown?Q?caf=E9?=", "café" },                       /* unknown charset */
        { "=?utf-8?Q?caf=E9?=", "café" },                           /* latin1 labelled utf-8 */
        { "=?us-ascii?Q?caf=E9?=", "café" },                        /* 8-bit labelled ascii */
        { "=?utf-8?Q?no_end", "=?utf-8?Q?no_end" },                 /* not a word: kept */
        { "foo=?utf-8?q?=C3=A9?=bar", "fooébar" },                  /* inside a word */
        { "=?utf-8?q?=FF=FE?=", "ÿþ" },                             /* invalid utf-8 */
        { "folded\n\tsubject", "folded\tsubject" },
        { "  padded  ", "padded" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *raw = g_strdup_printf("From: a@example.org\nSubject: %s\nMessage-ID: <s%zu@x>\n"
                                               "Date: Mon, 3 Jan 2005 10:00:00 +0000\n\nbody\n",
                                               cases[i].raw, i);
        g_autoptr(cor_message_t) m = parse_str(raw);
        g_test_message("subject '%s'", cases[i].raw);
        /* folding white space is unfolded to a space */
        g_autofree char *want = g_strdup(cases[i].decoded);
        g_strdelimit(want, "\t", ' ');
        g_assert_cmpstr(m->subject, ==, want);
        assert_invariants(m);
    }
}

static void
test_rfc2231_filenames(void)
{
    g_autoptr(cor_message_t) m = parse_fixture("rfc2231.eml");
    assert_invariants(m);
    g_assert_cmpuint(m->attachments->len, ==, 3);
    const cor_attachment_t *a = m->attachments->pdata[0];
    g_assert_cmpstr(a->filename, ==, "€ rates 2005–06.xls");     /* continuations, utf-8 */
    g_assert_cmpstr(a->content_type, ==, "application/octet-stream");
    g_assert_cmpuint(a->size, ==, 10);                           /* decoded base64 */
    g_assert_cmpint(a->part_index, ==, 2);
    a = m->attachments->pdata[1];
    g_assert_cmpstr(a->filename, ==, "résumé.doc");              /* iso-8859-1 with language */
    a = m->attachments->pdata[2];
    g_assert_cmpstr(a->filename, ==, "été.png");                 /* RFC 2047 in name= */
    g_assert_cmpstr(a->content_type, ==, "image/png");
    g_assert_cmpuint(a->size, ==, 8);
    g_assert_cmpstr(m->body, ==, "See the attachments.\n");
}

static void
test_undeclared_8bit(void)
{
    g_autoptr(cor_message_t) m = parse_fixture("latin1-undeclared.eml");
    assert_invariants(m);
    g_assert_cmpstr(m->subject, ==, "Café “con leche”");          /* windows-1252 */
    g_assert_cmpstr(m->from_name, ==, "José García");
    g_assert_cmpstr(m->from_addr, ==, "jose@example.es");
    g_assert_cmpstr(m->body, ==, "Grüße aus Köln, “quoted” € 5.\n");

    /* undeclared but valid UTF-8 stays UTF-8; a declared latin1 that is
     * valid UTF-8 is mislabelled UTF-8 */
    g_autoptr(cor_message_t) u = parse_str("From: a@x\nSubject: Gr\xc3\xbc\xc3\x9f" "e\nMessage-ID: <u@x>\n"
                                           "Content-Type: text/plain; charset=iso-8859-1\n\n"
                                           "K\xc3\xb6ln\n");
    g_assert_cmpstr(u->subject, ==, "Grüße");
    g_assert_cmpstr(u->body, ==, "Köln\n");

    /* a bogus charset falls back */
    g_autoptr(cor_message_t) b = parse_str("From: a@x\nMessage-ID: <b@x>\n"
                                           "Content-Type: text/plain; charset=x-no-such-charset\n\n"
                                           "caf\xe9\n");
    g_assert_cmpstr(b->body, ==, "café\n");

    /* a declared charset is used */
    g_autoptr(cor_message_t) k = parse_str("From: a@x\nMessage-ID: <k@x>\n"
                                           "Content-Type: text/plain; charset=koi8-r\n\n"
                                           "\xf0\xd2\xc9\xd7\xc5\xd4\n");
    g_assert_cmpstr(k->body, ==, "Привет\n");

    /* mostly UTF-8 with one broken byte keeps the UTF-8 */
    g_autoptr(cor_message_t) d = parse_str("From: a@x\nMessage-ID: <d@x>\n"
                                           "Content-Type: text/plain; charset=utf-8\n\n"
                                           "Gr\xc3\xbc\xc3\x9f" "e \xff K\xc3\xb6ln\n");
    g_assert_cmpstr(d->body, ==, "Grüße \xef\xbf\xbd Köln\n");
    g_assert_true(has_warning(d, "undecodable"));
}

static void
test_synthetic_message_id(void)
{
    const char *raw = "From: a@example.org\nSubject: no id\nDate: Mon, 3 Jan 2005 10:00:00 +0000\n\nbody\n";
    g_autoptr(cor_message_t) a = parse_str(raw);
    g_autoptr(cor_message_t) b = parse_str(raw);
    assert_invariants(a);
    g_assert_true(a->synthetic_id);
    g_assert_cmpstr(a->message_id, ==, b->message_id);        /* same bytes, same id */
    char hex[65];
    cor_sha256_hex(raw, strlen(raw), hex);
    g_autofree char *want = g_strdup_printf("corridor-%.32s@synthetic.invalid", hex);
    g_assert_cmpstr(a->message_id, ==, want);

    const char *other = "From: a@example.org\nSubject: no id\nDate: Mon, 3 Jan 2005 10:00:00 +0000\n\nbody!\n";
    g_autoptr(cor_message_t) c = parse_str(other);
    g_assert_cmpstr(c->message_id, !=, a->message_id);

    static const char *const empty_ids[] = { "Message-ID:", "Message-ID: <>", "Message-ID:  \t" };
    for (size_t i = 0; i < G_N_ELEMENTS(empty_ids); i++) {
        g_autofree char *r = message_with(empty_ids[i], "x\n");
        g_autofree char *full = g_strdup_printf("From: a@x\n%s", r);
        g_autoptr(cor_message_t) e = parse_str(full);
        g_assert_true(e->synthetic_id);
        g_assert_true(g_str_has_prefix(e->message_id, "corridor-"));
        g_assert_true(g_str_has_suffix(e->message_id, "@synthetic.invalid"));
    }

    g_autoptr(cor_message_t) real = parse_str("From: a@x\nMessage-ID:   < real@example.org >  \n\nx\n");
    g_assert_false(real->synthetic_id);
    g_assert_cmpstr(real->message_id, ==, "real@example.org");
}

static void
test_date(void)
{
    static const struct { const char *header; int64_t date; bool from_received; } cases[] = {
        { "Date: Mon, 3 Jan 2005 10:00:00 +0000", 1104746400, false },
        { "Date: Mon, 3 Jan 2005 11:00:00 +0100", 1104746400, false },
        { "Date: 3 Jan 2005 10:00:00 GMT", 1104746400, false },
        { "", RECEIVED, true },                                       /* missing */
        { "Date: not a date at all", RECEIVED, true },                /* garbage */
        { "Date:", RECEIVED, true },
        { "Date: Mon, 3 Jan 1900 10:00:00 +0000", RECEIVED, true },   /* before 1970 */
        { "Date: Thu, 1 Jan 1970 00:00:00 +0000", RECEIVED, true },   /* the epoch: a bogus clock */
        { "Date: Mon, 3 Jan 2050 10:00:00 +0000", RECEIVED, true },   /* decades ahead */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *raw = g_strdup_printf("From: a@x\nMessage-ID: <d%zu@x>\n%s%s\nbody\n",
                                               i, cases[i].header, *cases[i].header ? "\n" : "");
        g_autoptr(cor_message_t) m = parse_str(raw);
        g_test_message("date '%s'", cases[i].header);
        g_assert_cmpint(m->date, ==, cases[i].date);
        g_assert_cmpint(m->date_from_received, ==, cases[i].from_received);
        if (cases[i].from_received)
            g_assert_true(has_warning(m, "Date"));
    }
}

static void
test_references(void)
{
    g_autoptr(cor_message_t) m = parse_str(
        "From: a@x\nMessage-ID: <self@x>\n"
        "References: <a@x> <b@x>\n <a@x> <self@x>\n\t<c@x> garbage (comment <d@x>) <e@x>\n\nbody\n");
    assert_invariants(m);
    static const char *const want[] = { "a@x", "b@x", "c@x", "e@x" };
    g_assert_cmpuint(m->references->len, ==, G_N_ELEMENTS(want));
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
        g_assert_cmpstr(m->references->pdata[i], ==, want[i]);

    g_autoptr(cor_message_t) none = parse_str("From: a@x\nMessage-ID: <n@x>\n\nbody\n");
    g_assert_cmpuint(none->references->len, ==, 0);
}

static void
test_in_reply_to(void)
{
    static const struct { const char *value; const char *id; } cases[] = {
        { "<abc@example.org>", "abc@example.org" },
        { "<abc@example.org> (from Foo Bar)", "abc@example.org" },
        { "Foo's message of \"Mon, 3 Jan 2005\" <abc@example.org>", "abc@example.org" },
        { "<first@x> <second@x>", "first@x" },
        { "abc@example.org", "abc@example.org" },            /* no brackets */
        { "\"abc@example.org\"", "abc@example.org" },
        { "garbage without an id", "" },
        { "", "" },
        { "<self@x>", "" },                                   /* itself: a loop */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *raw = g_strdup_printf("From: a@x\nMessage-ID: <self@x>\nIn-Reply-To: %s\n\nx\n",
                                               cases[i].value);
        g_autoptr(cor_message_t) m = parse_str(raw);
        g_test_message("in-reply-to '%s'", cases[i].value);
        g_assert_cmpstr(m->in_reply_to, ==, cases[i].id);
        assert_invariants(m);
    }
}

static void
test_microsoft_headers(void)
{
    static const struct { const char *value; const char *hex; } cases[] = {
        /* 27 bytes: the first 22 are the conversation */
        { "AcTz8dFmBwKzkyQ3RyqvIqi3SGJwSQAAAbCA", "01c4f3f1d1660702b3932437472aaf22a8b748627049" },
        /* exactly 22 bytes */
        { "AcTz8dFmBwKzkyQ3RyqvIqi3SGJwSQ==", "01c4f3f1d1660702b3932437472aaf22a8b748627049" },
        /* folded */
        { "AcTz8dFmBwKzkyQ3\n RyqvIqi3SGJwSQAAAbCA", "01c4f3f1d1660702b3932437472aaf22a8b748627049" },
        { "AcTz8dFm", "" },                                  /* too short */
        { "not base64 at all!", "" },                        /* undecodable */
        { "", "" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *raw = g_strdup_printf("From: a@x\nMessage-ID: <t%zu@x>\nThread-Index: %s\n"
                                               "Thread-Topic: =?utf-8?q?Agenda_f=C3=BCr_Montag?=\n"
                                               "List-Id: Planning group <planning.lists.Example.gov.uk>\n\nx\n",
                                               i, cases[i].value);
        g_autoptr(cor_message_t) m = parse_str(raw);
        g_test_message("thread-index '%s'", cases[i].value);
        g_assert_cmpstr(m->thread_index, ==, cases[i].hex);
        g_assert_cmpstr(m->thread_topic, ==, "Agenda für Montag");
        g_assert_cmpstr(m->list_id, ==, "planning.lists.example.gov.uk");
    }
    g_autoptr(cor_message_t) m = parse_str("From: a@x\nMessage-ID: <t@x>\nList-Id: bare.list.id\n\nx\n");
    g_assert_cmpstr(m->list_id, ==, "bare.list.id");
    g_assert_cmpstr(m->thread_index, ==, "");
    g_assert_cmpstr(m->thread_topic, ==, "");
}

static void
test_addresses(void)
{
    g_autoptr(cor_message_t) m = parse_str(
        "From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <Joerg.Mueller@Example.ORG>\n"
        "To: \"Baechle, Ralf\" <ralf@linux-mips.org>, linux-mips@linux-mips.org\n"
        "Cc: Undisclosed recipients:;\nMessage-ID: <a@x>\n\nx\n");
    assert_invariants(m);
    g_assert_cmpstr(m->from, ==, "Jörg Müller <Joerg.Mueller@Example.ORG>");
    g_assert_cmpstr(m->from_name, ==, "Jörg Müller");
    g_assert_cmpstr(m->from_addr, ==, "joerg.mueller@example.org");
    g_assert_cmpstr(m->to, ==, "\"Baechle, Ralf\" <ralf@linux-mips.org>, linux-mips@linux-mips.org");

    g_autoptr(cor_message_t) bare = parse_str("From: ralf@linux-mips.org\nMessage-ID: <b@x>\n\nx\n");
    g_assert_cmpstr(bare->from, ==, "ralf@linux-mips.org");
    g_assert_cmpstr(bare->from_name, ==, "");
    g_assert_cmpstr(bare->from_addr, ==, "ralf@linux-mips.org");

    g_autoptr(cor_message_t) none = parse_str("Subject: no from\nMessage-ID: <c@x>\n\nx\n");
    g_assert_cmpstr(none->from, ==, "");
    g_assert_cmpstr(none->from_addr, ==, "");
}

/* ---- bodies --------------------------------------------------------------- */

static void
test_alternative_prefers_plain(void)
{
    g_autoptr(cor_message_t) m = parse_fixture("alternative.eml");
    assert_invariants(m);
    g_assert_false(m->body_from_html);
    g_assert_null(strstr(m->body, "HTML VERSION"));
    g_assert_true(g_str_has_prefix(m->body, "Applied, thanks."));
    g_assert_cmpstr(m->new_text, ==, "Applied, thanks.\n");
    g_assert_cmpstr(m->quoted_text, ==, "On Sun, 2 Jan 2005, Joe Hacker wrote:\n> This fixes the frobnicator.\n");
    g_assert_cmpstr(m->signature, ==, "  Ralf\n");               /* the sender's name */
    g_assert_cmpuint(m->attachments->len, ==, 0);                /* the HTML alternative is no attachment */
    g_assert_cmpstr(m->in_reply_to, ==, "patch-1@example.org");

    /* a blank text/plain alternative gives way to the HTML */
    g_autoptr(cor_message_t) b = parse_fixture("alternative-blank-plain.eml");
    g_assert_true(b->body_from_html);
    g_assert_cmpstr(b->body, ==, "The real text is in the HTML part.\n");
}

static void
test_html_only(void)
{
    g_autoptr(cor_message_t) m = parse_fixture("html-only.eml");
    assert_invariants(m);
    g_assert_true(m->body_from_html);
    g_assert_cmpstr(m->body, ==,
                    "Planning update\n\n"
                    "Fish & chips, café été €5 <tag>\n\n"
                    "- first item\n- second item\n\n"
                    "See the plan <https://example.gov.uk/plan> or https://example.gov.uk/.\n\n"
                    "> quoted line\n\n"
                    "after the quote\nnext line\n");
    g_assert_null(strstr(m->body, "SHOULD NOT APPEAR"));
    g_assert_null(strstr(m->body, "HIDDEN"));
    g_assert_cmpstr(m->quoted_text, ==, "> quoted line\n");
}

static void
test_outlook_reply(void)
{
    g_autoptr(cor_message_t) m = parse_fixture("outlook-reply.eml");
    assert_invariants(m);
    g_assert_cmpstr(m->new_text, ==, "Item 3 can wait until next week.\n");
    g_assert_true(g_str_has_prefix(m->signature, "Kind regards,\nJane Smith\n\nThis email and any"));
    g_assert_true(g_str_has_prefix(m->quoted_text, "-----Original Message-----\nFrom: Ann Officer\n"));
    g_assert_cmpstr(m->thread_topic, ==, "Agenda for Thursday");
    g_assert_cmpstr(m->thread_index, ==, "01c4f3f1d1660702b3932437472aaf22a8b748627049");
}

static void
test_inline_patch(void)
{
    g_autoptr(cor_message_t) m = parse_fixture("patch-inline.eml");
    assert_invariants(m);
    g_assert_cmpstr(m->body, ==, "The frobnicator was broken on big-endian machines.\n");
    g_assert_null(strstr(m->body, "This is a multi-part message"));     /* the prologue is no text */
    g_assert_cmpstr(m->attachment_text, ==,
                    "--- a/arch/mips/frob.c\n+++ b/arch/mips/frob.c\n@@ -1,3 +1,3 @@\n"
                    "-int frob = 0;\n+int frob = 1;\n");
    g_assert_cmpuint(m->attachments->len, ==, 2);
    const cor_attachment_t *p = m->attachments->pdata[0];
    g_assert_cmpstr(p->filename, ==, "frob.patch");
    g_assert_cmpstr(p->content_type, ==, "text/x-patch");
    g_assert_true(p->is_inline_text);
    g_assert_cmpint(p->part_index, ==, 2);
    const cor_attachment_t *pdf = m->attachments->pdata[1];
    g_assert_cmpstr(pdf->filename, ==, "spec.pdf");
    g_assert_cmpstr(pdf->content_type, ==, "application/pdf");
    g_assert_false(pdf->is_inline_text);
    g_assert_cmpuint(pdf->size, ==, 52);
    g_assert_cmpint(pdf->part_index, ==, 3);
}

static void
test_forwarded_and_signed(void)
{
    g_autoptr(cor_message_t) f = parse_fixture("forwarded.eml");
    assert_invariants(f);
    g_assert_cmpstr(f->new_text, ==, "Please see below.\n");
    g_assert_true(g_str_has_prefix(f->quoted_text, "---------- Forwarded message ----------\n"
                                                   "From: Bob Builder <bob@example.com>\n"));
    g_assert_nonnull(strstr(f->body, "The site visit is on Friday."));
    g_assert_cmpuint(f->attachments->len, ==, 2);
    const cor_attachment_t *msg = f->attachments->pdata[0];
    g_assert_cmpstr(msg->content_type, ==, "message/rfc822");
    g_assert_cmpint(msg->part_index, ==, 2);
    g_assert_cmpuint(msg->size, >, 200);
    const cor_attachment_t *jpg = f->attachments->pdata[1];
    g_assert_cmpstr(jpg->filename, ==, "site.jpg");
    g_assert_cmpint(jpg->part_index, ==, 5);     /* 3: inner multipart, 4: inner text */

    g_autoptr(cor_message_t) s = parse_fixture("signed.eml");
    assert_invariants(s);
    g_assert_cmpstr(s->body, ==, "Signed text.\n");
    g_assert_cmpuint(s->attachments->len, ==, 1);
    const cor_attachment_t *sig = s->attachments->pdata[0];
    g_assert_cmpstr(sig->content_type, ==, "application/pgp-signature");
    g_assert_false(sig->is_inline_text);
    g_assert_cmpstr(s->attachment_text, ==, "");
}

static void
test_single_part_and_bounce(void)
{
    /* a message that is one text part with a file name is still a body */
    g_autoptr(cor_message_t) m = parse_str("From: a@x\nMessage-ID: <one@x>\n"
                                           "Content-Type: text/plain; name=\"notes.txt\"\n"
                                           "Content-Disposition: inline; filename=\"notes.txt\"\n\nthe notes\n");
    g_assert_cmpstr(m->body, ==, "the notes\n");
    g_assert_cmpuint(m->attachments->len, ==, 0);
    /* ... unless it says it is an attachment */
    g_autoptr(cor_message_t) a = parse_str("From: a@x\nMessage-ID: <att@x>\n"
                                           "Content-Type: text/plain\n"
                                           "Content-Disposition: attachment; filename=\"log.txt\"\n\nthe log\n");
    g_assert_cmpstr(a->body, ==, "");
    g_assert_cmpuint(a->attachments->len, ==, 1);
    g_assert_cmpstr(a->attachment_text, ==, "the log\n");

    /* a DSN: the report is new text, the returned message quoted, the
     * delivery status searchable attachment text */
    g_autofree char *path = g_build_filename(corpora(), "bounces/bounceparser/msgs/postfix-host-unknown.msg", NULL);
    g_autofree char *data = NULL;
    gsize len;
    if (!g_file_get_contents(path, &data, &len, NULL)) {
        g_test_message("corpus missing: %s", path);
        g_test_fail();
        return;
    }
    g_autoptr(cor_message_t) b = parse_ok(data, len);
    g_assert_true(g_str_has_prefix(b->new_text, "This is the Postfix program"));
    g_assert_null(strstr(b->new_text, "Ricardo"));
    g_assert_true(g_str_has_prefix(b->quoted_text, "---------- Forwarded message ----------\n"
                                                   "From: Ricardo SIGNES <sender@domain-2.org>\n"));
    g_assert_nonnull(strstr(b->attachment_text, "Status: 5.0.0"));
    g_assert_cmpuint(b->attachments->len, ==, 2);
    g_assert_cmpstr(((cor_attachment_t *) b->attachments->pdata[0])->content_type, ==, "message/delivery-status");
    g_assert_true(((cor_attachment_t *) b->attachments->pdata[0])->is_inline_text);
    g_assert_cmpstr(((cor_attachment_t *) b->attachments->pdata[1])->content_type, ==, "message/rfc822");
}

/* ---- salvage ---------------------------------------------------------------- */

static void
test_bad_boundary(void)
{
    g_autoptr(cor_message_t) m = parse_fixture("bad-boundary.eml");
    assert_invariants(m);
    g_assert_cmpstr(m->body, ==, "The text behind a boundary that was never declared.\n");
    g_assert_true(has_warning(m, "boundary"));

    /* no boundary parameter at all: the text is kept */
    g_autoptr(cor_message_t) n = parse_str("From: a@x\nMessage-ID: <nb@x>\nContent-Type: multipart/mixed\n\n"
                                           "Text of a multipart without boundary.\n");
    g_assert_cmpstr(n->body, ==, "Text of a multipart without boundary.\n");

    /* the closing boundary missing */
    g_autoptr(cor_message_t) t = parse_str("From: a@x\nMessage-ID: <t@x>\n"
                                           "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nfirst\n--b\n\nsecond\n");
    g_assert_cmpstr(t->body, ==, "first\n\nsecond\n");
}

static void
test_base64_garbage(void)
{
    g_autoptr(cor_message_t) m = parse_fixture("base64-garbage.eml");
    assert_invariants(m);
    g_assert_cmpstr(m->body, ==, "Hello world!\n");
    g_assert_true(has_warning(m, "bad base64 in part 0"));

    g_autoptr(cor_message_t) g = parse_str("From: a@x\nMessage-ID: <g@x>\nContent-Transfer-Encoding: base64\n\n"
                                           "%%%% not base64 at all %%%%\n");
    assert_invariants(g);
    g_assert_true(has_warning(g, "bad base64"));
}

static void
test_nul_bytes(void)
{
    g_autofree char *data = NULL;
    gsize len;
    g_assert_true(g_file_get_contents("tests/data/message/nul-bytes.eml", &data, &len, NULL));
    g_assert_nonnull(memchr(data, '\0', len));
    g_autoptr(cor_message_t) m = parse_ok(data, len);
    assert_invariants(m);
    g_assert_cmpstr(m->body, ==, "beforeafter end\n");
    g_assert_true(has_warning(m, "NUL"));

    /* NUL in a base64 text part too */
    g_autoptr(cor_message_t) b = parse_str("From: a@x\nMessage-ID: <n@x>\nContent-Transfer-Encoding: base64\n\n"
                                           "YQBiAGM=\n");                  /* "a\0b\0c" */
    g_assert_cmpstr(b->body, ==, "abc");
}

static void
test_not_messages(void)
{
    static const struct { const char *name; const char *data; size_t len; } cases[] = {
        { "empty", "", 0 },
        { "white space only", " \n\r\n\t", 5 },
        { "binary", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0", 20 },
        { "ELF", "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0>\0", 20 },
        { "NUL bytes", "\0\0\0\0\0\0\0\0", 8 },
        { "prose", "Dear all,\nthis is not a message.\n", 33 },
        { "body only", "\nNo header, only content.\n", 26 },
        { "mbox separator only", "From someone Mon Jan  3 10:00:00 2005", 37 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        cor_message_t *m = (cor_message_t *) 0x1;
        g_autofree char *err = NULL;
        g_test_message("input '%s'", cases[i].name);
        g_assert_cmpint(cor_message_parse(cases[i].data, cases[i].len, RECEIVED, &m, &err), ==, COR_ERR_PARSE);
        g_assert_null(m);
        g_assert_nonnull(err);
        g_assert_true(valid_text(err));
    }
    /* random bytes, many seeds */
    GRand *r = g_rand_new_with_seed(42);
    for (int i = 0; i < 200; i++) {
        guint8 buf[512];
        for (size_t k = 0; k < sizeof buf; k++)
            buf[k] = (guint8) g_rand_int_range(r, 0, 256);
        buf[0] = (guint8) (0x80 | buf[0]);     /* not by chance a header name */
        cor_message_t *m = NULL;
        g_assert_cmpint(cor_message_parse((const char *) buf, sizeof buf, RECEIVED, &m, NULL), ==, COR_ERR_PARSE);
        g_assert_null(m);
    }
    g_rand_free(r);
}

static void
test_leading_junk_salvaged(void)
{
    /* an mbox "From " line and a blank before the header are tolerated */
    g_autoptr(cor_message_t) a = parse_str("From someone Mon Jan  3 10:00:00 2005\nFrom: a@x\nSubject: mbox\n"
                                           "Message-ID: <m@x>\n\nbody\n");
    g_assert_cmpstr(a->subject, ==, "mbox");
    g_autoptr(cor_message_t) b = parse_str("\n  From: a@x\nSubject: indented\nMessage-ID: <i@x>\n\nbody\n");
    g_assert_cmpstr(b->subject, ==, "indented");
    g_assert_cmpstr(b->from_addr, ==, "a@x");
    /* header only, no body */
    g_autoptr(cor_message_t) h = parse_str("From: a@x\nSubject: header only");
    g_assert_cmpstr(h->subject, ==, "header only");
    g_assert_cmpstr(h->body, ==, "");
}

static void
test_fuzzed_mutations(void)
{
    /* truncations and byte flips of a real multipart never crash and keep
     * the invariants */
    g_autofree char *data = NULL;
    gsize len;
    g_assert_true(g_file_get_contents("tests/data/message/forwarded.eml", &data, &len, NULL));
    for (gsize cut = 1; cut < len; cut += 7) {
        cor_message_t *m = NULL;
        if (cor_message_parse(data, cut, RECEIVED, &m, NULL) == COR_OK) {
            assert_invariants(m);
            cor_message_free(m);
        }
    }
    GRand *r = g_rand_new_with_seed(7);
    for (int i = 0; i < 300; i++) {
        g_autofree char *copy = g_memdup2(data, len);
        for (int k = 0; k < 8; k++)
            copy[g_rand_int_range(r, 20, (gint32) len)] = (char) g_rand_int_range(r, 0, 256);
        cor_message_t *m = NULL;
        if (cor_message_parse(copy, len, RECEIVED, &m, NULL) == COR_OK) {
            assert_invariants(m);
            cor_message_free(m);
        }
    }
    g_rand_free(r);
}

/* ---- helpers of the API ----------------------------------------------------- */

static void
test_id_normalise(void)
{
    static const struct { const char *in, *out; } cases[] = {
        { "<a@b>", "a@b" }, { " a@b ", "a@b" }, { "  <a@b>  ", "a@b" }, { "<a@b> (comment)", "a@b" },
        { "<a@b", "a@b" }, { "a@b>", "a@b" }, { "", "" }, { "<>", "" }, { "<a b@c>", "ab@c" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *n = cor_message_id_normalise(cases[i].in);
        g_assert_cmpstr(n, ==, cases[i].out);
    }
    g_autofree char *null = cor_message_id_normalise(NULL);
    g_assert_cmpstr(null, ==, "");
}

static void
test_subject_normalise(void)
{
    static const struct { const char *in, *out; } cases[] = {
        { "Re: Fwd: [group] AW: Foo  bar", "foo bar" },
        { "RE: RE: re: Hello", "hello" },
        { "Fw: FW: fwd: x", "x" },
        { "AW: WG: SV: VS: Antw: Doorst: TR: R: RIF: Ynt: YNT: Réf: x", "x" },
        { "Re[2]: Re(3): Re^4: x", "x" },
        { "[linux-mips] [PATCH 1/2] Re: mips: fix", "mips: fix" },
        { "  Re :  spaced   out  ", "spaced out" },
        { "Really: not a prefix", "really: not a prefix" },
        { "Reply needed", "reply needed" },
        { "回复: 测试", "测试" },
        { "OFFICIAL-SENSITIVE: Budget", "official-sensitive: budget" },
        { "ÉTÉ", "été" },
        { "", "" },
        { "Re:", "" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *n = cor_subject_normalise(cases[i].in);
        g_test_message("subject '%s'", cases[i].in);
        g_assert_cmpstr(n, ==, cases[i].out);
    }
    g_autofree char *null = cor_subject_normalise(NULL);
    g_assert_cmpstr(null, ==, "");
}

static void
test_sha256(void)
{
    char hex[65];
    cor_sha256_hex("abc", 3, hex);
    g_assert_cmpstr(hex, ==, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    cor_sha256_hex("", 0, hex);
    g_assert_cmpstr(hex, ==, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* ---- corpora ------------------------------------------------------------------ */

/* Files of the corpora that are not messages, and why.  Each must give
 * COR_ERR_PARSE; every other file must give COR_OK. */
static const struct { const char *path; const char *why; } not_messages[] = {
    { "mime/enmime/attach/fake.png", "an attachment fixture: one line of text, no header" },
    { "mime/enmime/encode/part-empty.golden", "empty file (the encoding of an empty part)" },
    { "mime/enmime/encode/part-content-only.golden", "a MIME part with an empty header block: content only" },
    { "mime/enmime/mail/erroneous.raw", "\"// Not an RFC-822 Document\": enmime's own non-message" },
    { "mime/ruby-mail/sample_output_multipart", "empty file" },
    { "notmuch/README", "the corpus description" },
    { "notmuch/expected-trees/inbox-outline", "notmuch's expected thread tree output" },
    { "notmuch/expected-trees/notmuch-tree-show-window", "notmuch's expected thread tree output" },
    { "notmuch/expected-trees/notmuch-tree-single-thread", "notmuch's expected thread tree output" },
    { "notmuch/expected-trees/notmuch-tree-tag-inbox", "notmuch's expected thread tree output" },
    { "notmuch/expected-trees/notmuch-tree-tag-inbox-oldest-first", "notmuch's expected thread tree output" },
    { "notmuch/expected-trees/notmuch-tree-tag-inbox-tagged", "notmuch's expected thread tree output" },
    { "notmuch/expected-trees/notmuch-tree-tag-inbox-thread-tagged", "notmuch's expected thread tree output" },
    { "notmuch/expected-trees/result-format-function", "notmuch's expected thread tree output" },
};

static const char *
not_message_reason(const char *rel)
{
    for (size_t i = 0; i < G_N_ELEMENTS(not_messages); i++) {
        if (strcmp(rel, not_messages[i].path) == 0)
            return not_messages[i].why;
    }
    return NULL;
}

static void
collect_files(const char *dir, GPtrArray *out)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    if (!d)
        return;
    for (const char *n; (n = g_dir_read_name(d));) {
        char *p = g_build_filename(dir, n, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR)) {
            collect_files(p, out);
            g_free(p);
        } else {
            g_ptr_array_add(out, p);
        }
    }
}

/* Whether the raw message has anything but white space after its header
 * block (then the parse must have salvaged a body or an attachment). */
static bool
raw_has_content(const char *data, size_t len)
{
    const char *end = data + len;
    const char *p = data;
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        if (!nl)
            return false;
        const char *next = nl + 1;
        if (next < end && (*next == '\n' || (*next == '\r' && next + 1 < end && next[1] == '\n'))) {
            p = *next == '\n' ? next + 1 : next + 2;
            break;
        }
        p = next;
    }
    for (; p < end; p++) {
        if (!g_ascii_isspace(*p))
            return true;
    }
    return false;
}

typedef struct corpus_result {
    int files, ok, not_messages, with_content, golden;
} corpus_result_t;

static void
check_corpus(const char *sub, corpus_result_t *res)
{
    g_autofree char *root = g_build_filename(corpora(), sub, NULL);
    if (!g_file_test(root, G_FILE_TEST_IS_DIR)) {
        g_test_message("corpus missing: %s (set CORRIDOR_CORPORA)", root);
        g_test_fail();
        return;
    }
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    collect_files(root, files);
    g_ptr_array_sort(files, (GCompareFunc) g_strcmp0);
    size_t prefix = strlen(corpora()) + 1;
    for (guint i = 0; i < files->len; i++) {
        const char *path = g_ptr_array_index(files, i);
        const char *rel = path + prefix;
        g_autofree char *data = NULL;
        gsize len;
        g_assert_true(g_file_get_contents(path, &data, &len, NULL));
        cor_message_t *m = NULL;
        g_autofree char *err = NULL;
        cor_status_t st = cor_message_parse(data, len, RECEIVED, &m, &err);
        const char *why = not_message_reason(rel);
        res->files++;
        if (why) {
            if (st != COR_ERR_PARSE)
                g_test_message("%s: listed as not a message (%s) but parsed", rel, why);
            g_assert_cmpint(st, ==, COR_ERR_PARSE);
            res->not_messages++;
            continue;
        }
        if (st != COR_OK)
            g_test_message("%s: %s", rel, err);
        g_assert_cmpint(st, ==, COR_OK);
        res->ok++;
        assert_invariants(m);
        if (raw_has_content(data, len)) {
            if (!*m->body && m->attachments->len == 0)
                g_test_message("%s: content but neither body nor attachment", rel);
            g_assert_true(*m->body || m->attachments->len > 0);
            res->with_content++;
        }
        cor_message_free(m);
    }
}

static void
test_corpus_mime(void)
{
    corpus_result_t r = { 0 };
    check_corpus("mime", &r);
    if (g_test_failed())
        return;

    /* enmime's goldens: the same message encoded again; the decoded text
     * must be the same whatever the transfer encoding */
    static const struct { const char *raw, *golden; } pairs[] = {
        { "parser-raw-content-html-option.raw", "parser-raw-content-html-option-false.raw.golden" },
        { "parser-raw-content-html-option.raw", "parser-raw-content-html-option-true.raw.golden" },
        { "parser-raw-content-text-option.raw", "parser-raw-content-text-option-false.raw.golden" },
        { "parser-raw-content-text-option.raw", "parser-raw-content-text-option-true.raw.golden" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(pairs); i++) {
        g_autofree char *a = g_build_filename(corpora(), "mime/enmime/encode", pairs[i].raw, NULL);
        g_autofree char *b = g_build_filename(corpora(), "mime/enmime/encode", pairs[i].golden, NULL);
        g_autofree char *da = NULL, *db = NULL;
        gsize la, lb;
        g_assert_true(g_file_get_contents(a, &da, &la, NULL));
        g_assert_true(g_file_get_contents(b, &db, &lb, NULL));
        g_autoptr(cor_message_t) ma = parse_ok(da, la);
        g_autoptr(cor_message_t) mb = parse_ok(db, lb);
        g_autofree char *ta = g_strstrip(g_strdup(ma->body)), *tb = g_strstrip(g_strdup(mb->body));
        g_assert_cmpstr(ta, ==, tb);
        g_assert_cmpstr(ta, !=, "");
        r.golden++;
    }
    /* and what the HTML golden decodes to */
    g_autofree char *h = g_build_filename(corpora(), "mime/enmime/encode/parser-raw-content-html-option.raw", NULL);
    g_autofree char *hd = NULL;
    gsize hl;
    g_assert_true(g_file_get_contents(h, &hd, &hl, NULL));
    g_autoptr(cor_message_t) hm = parse_ok(hd, hl);
    g_assert_cmpstr(hm->body, ==, "My First Heading\n\nMy first paragraph éà.\n");
    g_autofree char *t = g_build_filename(corpora(), "mime/enmime/encode/parser-raw-content-text-option.raw", NULL);
    g_autofree char *td = NULL;
    gsize tl;
    g_assert_true(g_file_get_contents(t, &td, &tl, NULL));
    g_autoptr(cor_message_t) tm = parse_ok(td, tl);
    g_assert_cmpstr(tm->body, ==, "\n\n添付ファイル名テスト\n");

    g_printerr("# corpus mime/: %d files, %d parsed (%d with content, all salvaged), %d listed as not "
               "messages, %d golden pairs equal\n", r.files, r.ok, r.with_content, r.not_messages, r.golden);
    g_assert_cmpint(r.files, >=, 200);
}

static void
test_corpus_notmuch(void)
{
    corpus_result_t r = { 0 };
    check_corpus("notmuch", &r);
    g_printerr("# corpus notmuch/: %d files, %d parsed, %d listed as not messages\n",
               r.files, r.ok, r.not_messages);
    g_assert_cmpint(r.files, >=, 300);
}

static void
test_corpus_bounces(void)
{
    corpus_result_t r = { 0 };
    check_corpus("bounces", &r);
    g_printerr("# corpus bounces/: %d files, %d parsed, %d listed as not messages\n",
               r.files, r.ok, r.not_messages);
    g_assert_cmpint(r.files, ==, 126);
    g_assert_cmpint(r.ok, ==, 126);
}

/* ---- linux-mips 2005: every message, and the parse rate ------------------------ */

/* CPU time of the calling thread in seconds: the parse rate should not
 * depend on what else the machine runs. */
static double
thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Splits an mboxrd file: a message starts at a "From " line at the start
 * of the file or after a blank line; ">From " lines lose one '>'. */
static GPtrArray *
split_mbox(const char *data, gsize len)
{
    GPtrArray *msgs = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
    const char *p = data, *end = data + len;
    GString *cur = NULL;
    bool prev_blank = true;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *le = nl ? nl + 1 : end;
        size_t n = (size_t) (le - p);
        if (prev_blank && n >= 5 && memcmp(p, "From ", 5) == 0) {
            if (cur)
                g_ptr_array_add(msgs, g_string_free_to_bytes(cur));
            cur = g_string_sized_new(8192);
        } else if (cur) {
            const char *q = p;
            while (q < le && *q == '>')
                q++;
            if (q > p && (size_t) (le - q) >= 5 && memcmp(q, "From ", 5) == 0)
                g_string_append_len(cur, p + 1, (gssize) n - 1);
            else
                g_string_append_len(cur, p, (gssize) n);
        }
        prev_blank = n == 1 || (n == 2 && p[0] == '\r');
        p = le;
    }
    if (cur)
        g_ptr_array_add(msgs, g_string_free_to_bytes(cur));
    return msgs;
}

static GPtrArray *
linux_mips_2005(void)
{
    g_autofree char *path = g_build_filename(corpora(), "linux-mips-2005.mbox", NULL);
    g_autofree char *data = NULL;
    gsize len;
    if (!g_file_get_contents(path, &data, &len, NULL)) {
        g_test_message("corpus missing: %s (set CORRIDOR_CORPORA)", path);
        g_test_fail();
        return NULL;
    }
    return split_mbox(data, len);
}

static void
test_corpus_linux_mips(void)
{
    g_autoptr(GPtrArray) msgs = linux_mips_2005();
    if (!msgs)
        return;
    g_assert_cmpuint(msgs->len, ==, 2896);

    int quoted = 0, with_sig = 0, html = 0, synthetic = 0, warned = 0;
    size_t bytes = 0;
    gint64 t0 = g_get_monotonic_time();
    double c0 = thread_cpu();
    for (guint i = 0; i < msgs->len; i++) {
        gsize len;
        const char *d = g_bytes_get_data(msgs->pdata[i], &len);
        cor_message_t *m = NULL;
        g_assert_cmpint(cor_message_parse(d, len, RECEIVED, &m, NULL), ==, COR_OK);
        quoted += *m->quoted_text != '\0';
        with_sig += *m->signature != '\0';
        html += m->body_from_html;
        synthetic += m->synthetic_id;
        warned += m->warnings->len > 0;
        bytes += len;
        cor_message_free(m);
    }
    double secs = (double) (g_get_monotonic_time() - t0) / 1e6;
    double cpu = thread_cpu() - c0;

    /* invariants on every message (not timed) */
    for (guint i = 0; i < msgs->len; i++) {
        gsize len;
        const char *d = g_bytes_get_data(msgs->pdata[i], &len);
        g_autoptr(cor_message_t) m = parse_ok(d, len);
        assert_invariants(m);
        /* one post is empty indeed: both of its alternatives are blank */
        if (strcmp(m->message_id, "85f7d96d0512161851w6b3b25fdk298eba8205ff4b12@mail.gmail.com") != 0)
            g_assert_true(*m->body || m->attachments->len > 0);
        g_assert_false(m->date_from_received);      /* every 2005 post has a Date */
    }
    g_printerr("# linux-mips-2005: %u messages (%.1f MB) parsed in %.2f s CPU (%.2f s wall), one thread: "
               "%.0f messages/s, %.1f MB/s of CPU time; %d with quotes, %d with signatures, %d HTML, "
               "%d synthetic ids, %d with warnings\n",
               msgs->len, (double) bytes / 1e6, cpu, secs, msgs->len / cpu, (double) bytes / 1e6 / cpu,
               quoted, with_sig, html, synthetic, warned);
    /* a reply list: most messages quote */
    g_assert_cmpint(quoted, >, (int) msgs->len / 2);
}

/* Several threads at once give the same results as one (thread safety). */
typedef struct thread_job {
    GPtrArray *msgs;
    guint start, step;
    GPtrArray *digests;      /* per message: subject|new_text|att count */
} thread_job_t;

static char *
digest(const cor_message_t *m)
{
    return g_strdup_printf("%s|%s|%s|%s|%u|%s", m->message_id, m->subject, m->new_text,
                           m->quoted_text, m->attachments->len, m->body);
}

static gpointer
thread_main(gpointer data)
{
    thread_job_t *job = data;
    for (guint i = job->start; i < job->msgs->len; i += job->step) {
        gsize len;
        const char *d = g_bytes_get_data(job->msgs->pdata[i], &len);
        cor_message_t *m = NULL;
        if (cor_message_parse(d, len, RECEIVED, &m, NULL) == COR_OK) {
            job->digests->pdata[i] = digest(m);
            cor_message_free(m);
        }
    }
    return NULL;
}

static void
test_threads(void)
{
    g_autoptr(GPtrArray) all = linux_mips_2005();
    if (!all)
        return;
    /* a slice keeps the test quick; it holds HTML, Outlook and PGP mail */
    g_autoptr(GPtrArray) msgs = g_ptr_array_new();
    for (guint i = 0; i < all->len; i += 4)
        g_ptr_array_add(msgs, all->pdata[i]);

    GPtrArray *serial = g_ptr_array_new_full(msgs->len, g_free);
    g_ptr_array_set_size(serial, (gint) msgs->len);
    thread_job_t one = { msgs, 0, 1, serial };
    thread_main(&one);

    enum { N = 4 };
    GPtrArray *parallel = g_ptr_array_new_full(msgs->len, g_free);
    g_ptr_array_set_size(parallel, (gint) msgs->len);
    thread_job_t jobs[N];
    GThread *threads[N];
    for (int t = 0; t < N; t++) {
        jobs[t] = (thread_job_t) { msgs, (guint) t, N, parallel };
        threads[t] = g_thread_new("parse", thread_main, &jobs[t]);
    }
    for (int t = 0; t < N; t++)
        g_thread_join(threads[t]);
    for (guint i = 0; i < msgs->len; i++)
        g_assert_cmpstr(parallel->pdata[i], ==, serial->pdata[i]);
    g_ptr_array_unref(serial);
    g_ptr_array_unref(parallel);
}

/* The summary parse (LMTP intake) gives the same headers, ids and
 * attachments as the full parse, and no text. */
static void
test_summary_parse(void)
{
    g_autoptr(GDir) dir = g_dir_open("tests/data/message", 0, NULL);
    g_assert_nonnull(dir);
    const char *name;
    int n = 0;
    while ((name = g_dir_read_name(dir)) != NULL) {
        if (!g_str_has_suffix(name, ".eml"))
            continue;
        g_autofree char *path = g_build_filename("tests/data/message", name, NULL);
        g_autofree char *data = NULL;
        gsize len;
        g_assert_true(g_file_get_contents(path, &data, &len, NULL));
        g_autoptr(cor_message_t) full = NULL, sum = NULL;
        cor_status_t a = cor_message_parse(data, len, 1000, &full, NULL);
        cor_status_t b = cor_message_parse_summary(data, len, 1000, &sum, NULL);
        g_assert_cmpint(a, ==, b);
        if (a != COR_OK)
            continue;
        n++;
        g_assert_cmpstr(full->message_id, ==, sum->message_id);
        g_assert_cmpstr(full->subject, ==, sum->subject);
        g_assert_cmpstr(full->from, ==, sum->from);
        g_assert_cmpstr(full->from_addr, ==, sum->from_addr);
        g_assert_cmpstr(full->to, ==, sum->to);
        g_assert_cmpstr(full->in_reply_to, ==, sum->in_reply_to);
        g_assert_cmpstr(full->thread_index, ==, sum->thread_index);
        g_assert_cmpint(full->date, ==, sum->date);
        g_assert_cmpuint(full->references->len, ==, sum->references->len);
        g_assert_cmpuint(full->attachments->len, ==, sum->attachments->len);
        for (guint i = 0; i < full->attachments->len; i++) {
            const cor_attachment_t *x = full->attachments->pdata[i], *y = sum->attachments->pdata[i];
            g_assert_cmpstr(x->filename, ==, y->filename);
            g_assert_cmpstr(x->content_type, ==, y->content_type);
            g_assert_cmpuint(x->size, ==, y->size);
        }
        g_assert_cmpuint(strlen(sum->body), <=, strlen(full->body));
        g_assert_cmpstr(sum->new_text, ==, "");
    }
    g_assert_cmpint(n, >, 5);
}

/* COR_PARSE_EDGES: the first and last lines of the body, the same whether
 * the part is read whole (quoted-printable, short) or only at its ends (a
 * long 8bit part, straight from the bytes); body_cut says which. */
static void
test_body_edges(void)
{
    for (int qp = 0; qp < 2; qp++) {
        GString *m = g_string_new(NULL);
        g_string_append_printf(m, "From: a@b.example\nSubject: long\nMessage-ID: <edges-%d@b>\n"
                               "MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\n"
                               "Content-Transfer-Encoding: %s\n\nClassification: OFFICIAL-SENSITIVE\n\n",
                               qp, qp ? "quoted-printable" : "8bit");
        for (int i = 0; i < 800; i++)
            g_string_append_printf(m, "line %d of a long patch, caf\xe9\n", i);
        g_string_append(m, "-- \nJo Bloggs, Planning\n");
        cor_message_t *msg = NULL;
        g_assert_cmpint(cor_message_parse_ex(m->str, m->len, 0, COR_PARSE_SUMMARY | COR_PARSE_EDGES,
                                             &msg, NULL), ==, COR_OK);
        g_assert_true(msg->body_cut);
        g_assert_true(g_str_has_prefix(msg->body_head, "Classification: OFFICIAL-SENSITIVE\n"));
        g_assert_true(g_str_has_suffix(msg->body_tail, "caf\xc3\xa9\n-- \nJo Bloggs, Planning\n"));
        g_assert_cmpuint(strlen(msg->body_head), <=, COR_BODY_EDGE);
        g_assert_cmpuint(strlen(msg->body_tail), <=, COR_BODY_EDGE);
        g_assert_true(g_str_has_prefix(msg->body_tail, "line "));      /* whole lines */
        g_assert_cmpstr(msg->body, ==, "");                             /* a summary still */
        cor_message_free(msg);
        g_string_free(m, TRUE);
    }
    /* short: both ends are the whole body, not cut */
    const char *s = "From: a@b.example\nSubject: short\n\nOne line.\n";
    cor_message_t *msg = NULL;
    g_assert_cmpint(cor_message_parse_ex(s, strlen(s), 0, COR_PARSE_SUMMARY | COR_PARSE_EDGES,
                                         &msg, NULL), ==, COR_OK);
    g_assert_false(msg->body_cut);
    g_assert_cmpstr(msg->body_head, ==, "One line.\n");
    g_assert_cmpstr(msg->body_tail, ==, "One line.\n");
    cor_message_free(msg);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cor_message_init();

    g_test_add_func("/message/rfc2047-subjects", test_rfc2047_subjects);
    g_test_add_func("/message/rfc2231-filenames", test_rfc2231_filenames);
    g_test_add_func("/message/undeclared-8bit", test_undeclared_8bit);
    g_test_add_func("/message/synthetic-message-id", test_synthetic_message_id);
    g_test_add_func("/message/date", test_date);
    g_test_add_func("/message/references", test_references);
    g_test_add_func("/message/in-reply-to", test_in_reply_to);
    g_test_add_func("/message/microsoft-headers", test_microsoft_headers);
    g_test_add_func("/message/addresses", test_addresses);
    g_test_add_func("/message/alternative-prefers-plain", test_alternative_prefers_plain);
    g_test_add_func("/message/html-only", test_html_only);
    g_test_add_func("/message/outlook-reply", test_outlook_reply);
    g_test_add_func("/message/inline-patch", test_inline_patch);
    g_test_add_func("/message/forwarded-and-signed", test_forwarded_and_signed);
    g_test_add_func("/message/single-part-and-bounce", test_single_part_and_bounce);
    g_test_add_func("/message/bad-boundary", test_bad_boundary);
    g_test_add_func("/message/base64-garbage", test_base64_garbage);
    g_test_add_func("/message/nul-bytes", test_nul_bytes);
    g_test_add_func("/message/not-messages", test_not_messages);
    g_test_add_func("/message/leading-junk-salvaged", test_leading_junk_salvaged);
    g_test_add_func("/message/fuzzed-mutations", test_fuzzed_mutations);
    g_test_add_func("/message/id-normalise", test_id_normalise);
    g_test_add_func("/message/subject-normalise", test_subject_normalise);
    g_test_add_func("/message/sha256", test_sha256);
    g_test_add_func("/message/corpus/mime", test_corpus_mime);
    g_test_add_func("/message/corpus/notmuch", test_corpus_notmuch);
    g_test_add_func("/message/corpus/bounces", test_corpus_bounces);
    g_test_add_func("/message/corpus/linux-mips-2005", test_corpus_linux_mips);
    g_test_add_func("/message/threads", test_threads);
    g_test_add_func("/message/summary-parse", test_summary_parse);
    g_test_add_func("/message/body-edges", test_body_edges);
    return g_test_run();
}
