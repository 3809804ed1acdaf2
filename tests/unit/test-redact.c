/* Unit tests for records/readable.h and records/redact.h: the readable text
 * of hand-made messages (tests/data/records/bundle/) byte for byte; the
 * scanner against a table of texts with the spans it must and must not find
 * (mail addresses, UK phone numbers, National Insurance numbers, postcodes,
 * names); exemption codes and labels; redacted copies (merging, escaping,
 * spans that do not fit); and, on a real store, proposing, listing,
 * accepting, rejecting and manual spans with their audit entries, a stale
 * span refused, and the original untouched.
 *
 * Fixtures: tests/data/records/bundle/ under $CORRIDOR_SRC (default ".", the
 * repository root, where `make test` runs). */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/message.h"
#include "core/store.h"
#include "core/store_internal.h"
#include "records/readable.h"
#include "records/redact.h"

static char *
data_path(const char *name)
{
    const char *src = g_getenv("CORRIDOR_SRC");
    return g_build_filename(src ? src : ".", "tests", "data", "records", "bundle", name, NULL);
}

static char *
load(const char *name, gsize *len)
{
    g_autofree char *path = data_path(name);
    char *data = NULL;
    g_assert_true(g_file_get_contents(path, &data, len, NULL));
    return data;
}

/* ---- readable text ---- */

static void
test_readable_text(void)
{
    gsize len = 0;
    g_autofree char *raw = load("plain.eml", &len);
    g_autoptr(cor_message_t) m = NULL;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_message_parse(raw, len, 0, &m, &err), ==, COR_OK);
    g_autofree char *reply_to = cor_readable_reply_to(raw, len);
    g_assert_cmpstr(reply_to, ==, "");
    g_autoptr(GArray) fields = g_array_new(FALSE, FALSE, sizeof(cor_readable_field_t));
    g_autofree char *text = cor_readable_text(m, reply_to, fields);
    const char *head =
        "From: Jane Smith <jane.smith@council.example>\n"
        "To: Planning <planning@lists.example.gov.uk>\n"
        "Cc: Se\xc3\xa1n O\xe2\x80\x99" "Brien <sean.obrien@council.example>\n"
        "Date: 1 March 2005 14:05:09 UTC\n"
        "Subject: Caf\xc3\xa9 licence for 12 High Street\n"
        "Message-ID: <plain.1@council.example>\n"
        "\n"
        "Dear Bob Jones,\n";
    g_assert_true(g_str_has_prefix(text, head));
    g_assert_true(g_str_has_suffix(text, "Planning team, Council Offices, London SW1A 2AA\n"));
    /* the whole text: the signature is part of the record */
    g_assert_nonnull(strstr(text, "\nThanks,\nJane Smith\n-- \n"));
    /* every header value's span */
    static const char *const want[][2] = {
        { "From", "Jane Smith <jane.smith@council.example>" },
        { "To", "Planning <planning@lists.example.gov.uk>" },
        { "Cc", "Se\xc3\xa1n O\xe2\x80\x99" "Brien <sean.obrien@council.example>" },
        { "Date", "1 March 2005 14:05:09 UTC" },
        { "Subject", "Caf\xc3\xa9 licence for 12 High Street" },
        { "Message-ID", "plain.1@council.example" },
    };
    g_assert_cmpuint(fields->len, ==, G_N_ELEMENTS(want));
    for (guint i = 0; i < fields->len; i++) {
        const cor_readable_field_t *f = &g_array_index(fields, cor_readable_field_t, i);
        g_assert_cmpstr(f->name, ==, want[i][0]);
        g_assert_cmpuint(f->part, ==, 0);
        g_autofree char *v = g_strndup(text + f->start, f->end - f->start);
        g_assert_cmpstr(v, ==, want[i][1]);
    }
    /* the same bytes give the same text; fields are optional */
    g_autoptr(cor_message_t) again = NULL;
    g_assert_cmpint(cor_message_parse(raw, len, 0, &again, &err), ==, COR_OK);
    g_autofree char *text2 = cor_readable_text(again, "", NULL);
    g_assert_cmpstr(text, ==, text2);

    /* no To or Cc: no such lines; HTML mail: its text, never its markup;
     * each attachment's name on its own line, numbered */
    g_autofree char *raw2 = load("html-attach.eml", &len);
    g_autoptr(cor_message_t) h = NULL;
    g_assert_cmpint(cor_message_parse(raw2, len, 0, &h, &err), ==, COR_OK);
    g_array_set_size(fields, 0);
    g_autofree char *t2 = cor_readable_text(h, NULL, fields);
    g_assert_true(g_str_has_prefix(t2, "From: Bob Jones <bob.jones@council.example>\n"
                                       "To: planning@lists.example.gov.uk\n"
                                       "Date: 2 March 2005 09:30:00 UTC\n"
                                       "Subject: Site visit notes\n"
                                       "Message-ID: <html.2@council.example>\n"
                                       "Attachment 1: ../../etc/Peter Quince CV.pdf (application/pdf)\n"
                                       "Attachment 2: notes.txt (text/plain)\n"
                                       "Attachment 3: NOTES.txt (text/plain)\n\n"));
    g_assert_null(strstr(t2, "Cc:"));
    g_assert_null(strstr(t2, "<b>"));
    g_assert_null(strstr(t2, "secret title"));
    g_assert_null(strstr(t2, "alert"));
    g_assert_null(strstr(t2, "Peter Quince mobile"));   /* a title attribute */
    g_assert_nonnull(strstr(t2, "Met Peter Quince on site"));
    const cor_readable_field_t *a1 = &g_array_index(fields, cor_readable_field_t, 5);
    g_assert_cmpstr(a1->name, ==, "Attachment");
    g_assert_cmpuint(a1->part, ==, 1);
    g_autofree char *a1v = g_strndup(t2 + a1->start, a1->end - a1->start);
    g_assert_cmpstr(a1v, ==, "../../etc/Peter Quince CV.pdf");
    g_assert_cmpuint(g_array_index(fields, cor_readable_field_t, 7).part, ==, 3);

    /* Reply-To: decoded, on its own line after Cc; an unnamed attachment */
    static const char reply[] =
        "From: Tom Hughes <tom@example.org>\r\n"
        "To: planning@lists.example.gov.uk\r\n"
        "Reply-To: =?UTF-8?Q?Si=C3=A2n_Llewelyn?= <sian@example.org>,\r\n"
        " \"Pryce, Gareth\" <gp@example.org>\r\n"
        "References: <complaint-gareth-pryce@example.org>\r\n"
        "X-Originating-Client: Gareth Pryce laptop\r\n"
        "Date: Sun, 10 Mar 2024 10:00:00 +0000\r\n"
        "Subject: culvert\r\n"
        "Message-ID: <m7@example.org>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
        "--BB\r\nContent-Type: text/plain\r\n\r\nPhotos.\r\n"
        "--BB\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0K\r\n"
        "--BB--\r\n";
    g_autofree char *rt = cor_readable_reply_to(reply, sizeof reply - 1);
    g_assert_cmpstr(rt, ==, "Si\xc3\xa2n Llewelyn <sian@example.org>, \"Pryce, Gareth\" <gp@example.org>");
    g_autoptr(cor_message_t) r7 = NULL;
    g_assert_cmpint(cor_message_parse(reply, sizeof reply - 1, 0, &r7, &err), ==, COR_OK);
    g_array_set_size(fields, 0);
    g_autofree char *t7 = cor_readable_text(r7, rt, fields);
    g_assert_cmpstr(t7, ==, "From: Tom Hughes <tom@example.org>\n"
                            "To: planning@lists.example.gov.uk\n"
                            "Reply-To: Si\xc3\xa2n Llewelyn <sian@example.org>, \"Pryce, Gareth\" <gp@example.org>\n"
                            "Date: 10 March 2024 10:00:00 UTC\n"
                            "Subject: culvert\n"
                            "Message-ID: <m7@example.org>\n"
                            "Attachment 1: (no name) (image/png)\n"
                            "\n"
                            "Photos.");
    const cor_readable_field_t *noname = &g_array_index(fields, cor_readable_field_t, fields->len - 1);
    g_assert_cmpuint(noname->start, ==, noname->end);   /* no name: an empty span */
    g_assert_null(strstr(t7, "complaint"));              /* References is not part of it */
    g_assert_null(strstr(t7, "laptop"));
    /* a Reply-To GMime finds no address in: its decoded text */
    static const char odd[] = "From: a@example.org\nReply-To: =?UTF-8?Q?nobody_h=C3=A9re?=\n\nx\n";
    g_autofree char *rt2 = cor_readable_reply_to(odd, sizeof odd - 1);
    g_assert_cmpstr(rt2, ==, "nobody h\xc3\xa9re");

    /* a header value with a line break stays on one line */
    cor_message_t fake = *m;
    fake.subject = (char *) "two\nlines\r\tand a tab";
    fake.to = (char *) "";
    fake.cc = (char *) "";
    fake.body = (char *) "body";
    g_autofree char *t3 = cor_readable_text(&fake, "x\ny <z@example.org>", NULL);
    g_assert_cmpstr(t3, ==, "From: Jane Smith <jane.smith@council.example>\n"
                            "Reply-To: x y <z@example.org>\n"
                            "Date: 1 March 2005 14:05:09 UTC\n"
                            "Subject: two lines  and a tab\n"
                            "Message-ID: <plain.1@council.example>\n\nbody");

    char buf[64];
    cor_readable_date(0, buf, sizeof buf);
    g_assert_cmpstr(buf, ==, "1 January 1970 00:00:00 UTC");
    cor_readable_date(1735689599, buf, sizeof buf);
    g_assert_cmpstr(buf, ==, "31 December 2024 23:59:59 UTC");
}

/* ---- the scanner ---- */

typedef struct scan_case {
    const char *text;
    const char *expect;        /* "kind:text|kind:text", "" for none */
} scan_case_t;

static const scan_case_t scan_cases[] = {
    /* mail addresses */
    { "write to jane.smith@council.example today", "email:jane.smith@council.example" },
    { "<a.b+c@sub.example.co.uk>.", "email:a.b+c@sub.example.co.uk" },
    { "o'neill@example.org, x_y%z@example.net", "email:o'neill@example.org|email:x_y%z@example.net" },
    { "not@localhost, not@an, user@example.c0m, @example.org", "" },
    { "ends with a dot: info@example.gov.uk.", "email:info@example.gov.uk" },
    /* phone numbers */
    { "ring 020 7946 0018.", "phone:020 7946 0018" },
    { "ring (020) 7946 0018 now", "phone:(020) 7946 0018" },
    { "+44 (0)20 7946 0018", "phone:+44 (0)20 7946 0018" },
    { "+44 7700 900123, +447700900123", "phone:+44 7700 900123|phone:+447700900123" },
    { "mobile 07700-900-123", "phone:07700-900-123" },
    { "01632 960001 and 0161 496 0000", "phone:01632 960001|phone:0161 496 0000" },
    { "freephone 0800 123456", "phone:0800 123456" },
    { "(07700 900123)", "phone:07700 900123" },
    { "0000 0000 0000 and 00000000000", "" },
    { "020 7946 00189 is too long, 020 794 is too short", "" },
    { "2005-03-01, 0x02079460018, v1.02079460018, 07:30, 0.5", "" },
    { "at 0 2005-03-19 20 the log, 02 0794 6001 8, 020 79 46 00 18", "" },
    { "+33 1 23 45 67 89 is French", "" },
    { "09876 543210 starts 09", "" },
    /* National Insurance numbers */
    { "NI AB123456C.", "nino:AB123456C" },
    { "NI AB 12 34 56 C, later", "nino:AB 12 34 56 C" },
    { "NI AB 12 34 56 (no letter)", "nino:AB 12 34 56" },
    { "AB123456 lacks the letter, QQ123456C DA123456A AO123456A GB123456A ZZ123456D", "" },
    { "AB123456E has a bad letter, XAB123456C is glued", "" },
    /* postcodes */
    { "London SW1A 2AA.", "postcode:SW1A 2AA" },
    { "M1 1AE, B33 8TH, CR2 6XH, DN55 1PT", "postcode:M1 1AE|postcode:B33 8TH|postcode:CR2 6XH|postcode:DN55 1PT" },
    { "EC1A 1BB W1A 0AX GIR 0AA SW1A2AA", "postcode:EC1A 1BB|postcode:W1A 0AX|postcode:GIR 0AA|postcode:SW1A2AA" },
    { "XX1 1AA QA1 1AA SW1A 2AC sw1a 2aa AB12 CD HELLO WORLD", "" },
    { "ABC1 1AA is not a postcode, nor W1 1AAA, nor M66EN", "" },
    { "CB59PH and CB5 9PH", "postcode:CB59PH|postcode:CB5 9PH" },
};

static char *
describe(const char *text, GArray *found)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < found->len; i++) {
        const cor_redact_match_t *m = &g_array_index(found, cor_redact_match_t, i);
        g_string_append_printf(s, "%s%s:%.*s", i ? "|" : "", m->kind, (int) (m->end - m->start),
                               text + m->start);
    }
    return g_string_free(s, FALSE);
}

static void
test_scan_table(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(scan_cases); i++) {
        const scan_case_t *c = &scan_cases[i];
        g_autoptr(GArray) found = cor_redact_scan(c->text, strlen(c->text), NULL, NULL);
        g_autofree char *got = describe(c->text, found);
        if (strcmp(got, c->expect) != 0)
            g_error("scan case %zu '%s': expected '%s', got '%s'", i, c->text, c->expect, got);
    }
}

static void
test_scan_names(void)
{
    g_autoptr(cor_redact_names_t) n = cor_redact_names_new();
    g_assert_true(cor_redact_names_add(n, "Jane Smith", "name"));
    g_assert_true(cor_redact_names_add(n, "Bob Jones", "name"));
    g_assert_true(cor_redact_names_add(n, "Se\xc3\xa1n O\xe2\x80\x99" "Brien", "name"));
    g_assert_true(cor_redact_names_add(n, "Jane Smith-Wright", "name"));
    g_assert_false(cor_redact_names_add(n, "jane  SMITH", "name"));   /* the same name */
    g_assert_false(cor_redact_names_add(n, "Ralf", "name"));          /* one word */
    g_assert_true(cor_redact_names_add(n, "Quince", "subject"));      /* a subject's may be */
    g_assert_false(cor_redact_names_add(n, "Al", "subject"));
    g_assert_cmpuint(cor_redact_names_count(n), ==, 5);
    const char *text =
        "dear bob  jones and JANE\nSMITH, not Jane Smithson nor Jane, but "
        "Se\xc3\xa1n O\xe2\x80\x99" "Brien. Jane Smith-Wright's form; Quince's too; "
        "Jane Smith <jane.smith@council.example>; BobJones; Bob\n> Jones";
    g_autoptr(GArray) found = cor_redact_scan(text, strlen(text), n, "JANE.SMITH@council.example");
    g_autofree char *got = describe(text, found);
    g_assert_cmpstr(got, ==,
        "name:bob  jones|name:JANE\nSMITH|name:Se\xc3\xa1n O\xe2\x80\x99" "Brien|"
        "name:Jane Smith-Wright|subject:Quince|name:Jane Smith|subject:jane.smith@council.example");
    /* joined by one '.', '_' or '-': in links, ids and paths */
    const char *joined = "see https://example.org/people/jane-smith and bob_jones.pdf, "
                         "<bob.jones.7@host.example>, jane..smith, jane. smith, bob-jones-2";
    g_autoptr(GArray) found2 = cor_redact_scan(joined, strlen(joined), n, NULL);
    g_autofree char *got2 = describe(joined, found2);
    g_assert_cmpstr(got2, ==, "name:jane-smith|name:bob_jones|email:bob.jones.7@host.example");
}

static void
test_scan_contained(void)
{
    /* a phone number inside a longer match is not proposed twice; a
     * postcode-like run inside an address is the address's */
    const char *text = "mail 02079460018@fax.example.org or SW1A2AA@example.org";
    g_autoptr(GArray) found = cor_redact_scan(text, strlen(text), NULL, NULL);
    g_autofree char *got = describe(text, found);
    g_assert_cmpstr(got, ==, "email:02079460018@fax.example.org|email:SW1A2AA@example.org");
}

/* ---- exemptions and redacted copies ---- */

static void
test_exemptions(void)
{
    static const char *const ok[] = { "s40(2)", "s41", "s42", "s43", "s31", "s36", "eir-12", "eir-13" };
    static const char *const label[] = { "s.40(2)", "s.41", "s.42", "s.43", "s.31", "s.36", "EIR 12", "EIR 13" };
    for (size_t i = 0; i < G_N_ELEMENTS(ok); i++) {
        g_assert_true(cor_redact_exemption_valid(ok[i]));
        g_assert_cmpstr(cor_redact_exemption_label(ok[i]), ==, label[i]);
        g_assert_nonnull(cor_redact_exemption_meaning(ok[i]));
        g_assert_nonnull(strstr(cor_redact_exemption_list(), ok[i]));
    }
    static const char *const bad[] = { "", "s40", "S40(2)", "s.40(2)", "s44", "eir12", "EIR-12", "s40(2) " };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_false(cor_redact_exemption_valid(bad[i]));
        g_assert_null(cor_redact_exemption_label(bad[i]));
    }
    g_assert_false(cor_redact_exemption_valid(NULL));
}

static void
test_apply(void)
{
    const char *text = "Call Jane on 020 7946 0018 <b>\"x\" & Se\xc3\xa1n.";
    size_t len = strlen(text);
    cor_redact_span_t spans[] = {
        { 13, 26, "s40(2)" },
        { 5, 9, "s40(2)" },
        { 15, 20, "s43" },      /* inside the phone number: merged, both named */
        { 36, 41, "eir-12" },   /* "Seán" */
    };
    g_autoptr(GString) txt = g_string_new(NULL);
    g_autoptr(GString) html = g_string_new(NULL);
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_redact_apply(text, len, spans, G_N_ELEMENTS(spans), txt, html, &err), ==, COR_OK);
    g_assert_cmpstr(txt->str, ==,
        "Call [Redacted \xe2\x80\x93 s.40(2)] on [Redacted \xe2\x80\x93 s.40(2), s.43] <b>\"x\" & "
        "[Redacted \xe2\x80\x93 EIR 12].");
    g_assert_cmpstr(html->str, ==,
        "Call <span class=\"redacted\">[Redacted \xe2\x80\x93 s.40(2)]</span> on "
        "<span class=\"redacted\">[Redacted \xe2\x80\x93 s.40(2), s.43]</span> "
        "&lt;b&gt;&quot;x&quot; &amp; <span class=\"redacted\">[Redacted \xe2\x80\x93 EIR 12]</span>.");
    /* touching spans merge into one marker */
    cor_redact_span_t touch[] = { { 0, 4, "s41" }, { 4, 9, "s41" } };
    g_string_truncate(txt, 0);
    g_assert_cmpint(cor_redact_apply(text, len, touch, 2, txt, NULL, &err), ==, COR_OK);
    g_assert_cmpstr(txt->str, ==, "[Redacted \xe2\x80\x93 s.41] on 020 7946 0018 <b>\"x\" & Se\xc3\xa1n.");
    /* no spans: the text as it is */
    g_string_truncate(txt, 0);
    g_assert_cmpint(cor_redact_apply(text, len, NULL, 0, txt, NULL, &err), ==, COR_OK);
    g_assert_cmpstr(txt->str, ==, text);
    /* spans that do not fit */
    cor_redact_span_t bad[][1] = {
        { { 5, 5, "s40(2)" } },          /* empty */
        { { 40, 100, "s40(2)" } },       /* past the end */
        { { 39, 41, "s40(2)" } },        /* from the middle of "á" */
        { { 0, 4, "s99" } },             /* unknown exemption */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(cor_redact_apply(text, len, bad[i], 1, txt, NULL, &err), ==, COR_ERR_INVALID);
        g_assert_nonnull(err);
    }
}

/* A range of the text with the spans cut to it: a header value's copy. */
static void
test_apply_range(void)
{
    const char *text = "From: Gareth Pryce <gp@example.org>\nSubject: Se\xc3\xa1n\n";
    size_t len = strlen(text);
    cor_redact_span_t spans[] = {
        { 6, 18, "s40(2)" },    /* "Gareth Pryce" */
        { 20, 46, "s41" },      /* "gp@example.org>\nSubject: S": across two lines */
    };
    GString *out = g_string_new(NULL);
    cor_redact_apply_range(text, len, spans, 2, 6, 35, out);   /* From's value */
    g_assert_cmpstr(out->str, ==, "[Redacted \xe2\x80\x93 s.40(2)] <[Redacted \xe2\x80\x93 s.41]");
    g_string_truncate(out, 0);
    cor_redact_apply_range(text, len, spans, 2, 45, 50, out);  /* Subject's value: cut, still marked */
    g_assert_cmpstr(out->str, ==, "[Redacted \xe2\x80\x93 s.41]e\xc3\xa1n");
    g_string_truncate(out, 0);
    cor_redact_apply_range(text, len, spans, 2, 0, 6, out);    /* untouched */
    g_assert_cmpstr(out->str, ==, "From: ");
    g_string_truncate(out, 0);
    cor_redact_apply_range(text, len, spans, 2, 10, 10, out);  /* empty */
    g_assert_cmpstr(out->str, ==, "");
    g_string_free(out, TRUE);
}

/* Texts redacted in messages, hidden in strings that were never scanned
 * (the case's queries). */
static void
test_phrases(void)
{
    g_autoptr(cor_redact_phrases_t) p = cor_redact_phrases_new();
    const char *src = "Gareth Pryce|gareth.pryce.1@northshire.gov.uk|Si\xc3\xa2n|  --  |07700 900123";
    g_auto(GStrv) parts = g_strsplit(src, "|", -1);
    cor_redact_phrases_add(p, parts[0], strlen(parts[0]), "s40(2)");
    cor_redact_phrases_add(p, parts[1], strlen(parts[1]), "s40(2)");
    cor_redact_phrases_add(p, parts[2], strlen(parts[2]), "s41");
    cor_redact_phrases_add(p, parts[3], strlen(parts[3]), "s40(2)");   /* no letter: ignored */
    cor_redact_phrases_add(p, parts[4], strlen(parts[4]), "s40(2)");
    cor_redact_phrases_add(p, "GARETH PRYCE", 12, "s40(2)");            /* the same, once */
    cor_redact_phrases_add(p, "x", 1, "s99");                           /* unknown code: ignored */
    g_assert_cmpuint(cor_redact_phrases_count(p), ==, 4);
    static const struct { const char *in, *out; } cases[] = {
        { "ids,<gareth.pryce.1@northshire.gov.uk>", "ids,<[Redacted \xe2\x80\x93 s.40(2)]>" },
        { "from:\"gareth  PRYCE\" culvert", "from:\"[Redacted \xe2\x80\x93 s.40(2)]\" culvert" },
        { "\"gareth\npryce\" OR SI\xc3\x82N", "\"[Redacted \xe2\x80\x93 s.40(2)]\" OR [Redacted \xe2\x80\x93 s.41]" },
        { "07700 900123 or 07700  900123", "[Redacted \xe2\x80\x93 s.40(2)] or [Redacted \xe2\x80\x93 s.40(2)]" },
        { "gareth pryc", "gareth pryc" },
        { "culvert -- survey", "culvert -- survey" },
        { "", "" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = cor_redact_phrases_apply(p, cases[i].in);
        g_assert_cmpstr(got, ==, cases[i].out);
    }
    /* the longer text wins where two start at the same place */
    g_autoptr(cor_redact_phrases_t) q = cor_redact_phrases_new();
    cor_redact_phrases_add(q, "Jane", 4, "s41");
    cor_redact_phrases_add(q, "Jane Smith", 10, "s40(2)");
    g_autofree char *got = cor_redact_phrases_apply(q, "to Jane Smith and Jane");
    g_assert_cmpstr(got, ==, "to [Redacted \xe2\x80\x93 s.40(2)] and [Redacted \xe2\x80\x93 s.41]");
}

/* ---- on a store ---- */

typedef struct fixture {
    char *dir;
    cor_store_t *st;
    int64_t group;
    int64_t msgs[3];
    int64_t case_id;
} fixture_t;

static int64_t
add_eml(fixture_t *f, const char *name)
{
    gsize len = 0;
    g_autofree char *raw = load(name, &len);
    g_autoptr(cor_message_t) m = NULL;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_message_parse_summary(raw, len, 1700000000, &m, &err), ==, COR_OK);
    char sha[65];
    cor_sha256_hex(raw, len, sha);
    cor_intake_t in = { 0 };
    g_assert_cmpint(cor_store_begin(f->st), ==, COR_OK);
    g_assert_cmpint(cor_store_add_message(f->st, f->group, raw, len, sha, 1700000000, m, &in), ==, COR_OK);
    g_assert_cmpint(cor_store_commit(f->st), ==, COR_OK);
    int64_t id = in.msg;
    cor_intake_clear(&in);
    return id;
}

static void
exec(fixture_t *f, const char *sql)
{
    char *e = NULL;
    if (sqlite3_exec(f->st->db, sql, NULL, NULL, &e) != SQLITE_OK)
        g_error("%s: %s", sql, e);
}

static int64_t
count(fixture_t *f, const char *sql)
{
    sqlite3_stmt *q = NULL;
    g_assert_cmpint(sqlite3_prepare_v2(f->st->db, sql, -1, &q, NULL), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_step(q), ==, SQLITE_ROW);
    int64_t n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return n;
}

static void
setup(fixture_t *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("corridor-redact-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(f->dir, "corridor.db", NULL);
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_store_open(path, true, &f->st, &err), ==, COR_OK);
    g_assert_cmpint(cor_store_group_create(f->st, "planning", "Planning", COR_VISIBILITY_PUBLIC,
                                           &f->group), ==, COR_OK);
    g_assert_cmpint(cor_store_member_add(f->st, f->group, "bob.jones@council.example", "Bob Jones"), ==, COR_OK);
    g_assert_cmpint(cor_store_member_add(f->st, f->group, "ralf@example.org", "Ralf"), ==, COR_OK);
    f->msgs[0] = add_eml(f, "plain.eml");
    f->msgs[1] = add_eml(f, "html-attach.eml");
    f->msgs[2] = add_eml(f, "private-reply.eml");
    exec(f, "INSERT INTO cases (ref, type, received, due, person, opened_by, opened)"
            " VALUES ('SAR-1', 'sar', '2005-04-01', '2005-05-01', 'jane.smith@council.example', 't', 1)");
    f->case_id = count(f, "SELECT id FROM cases WHERE ref = 'SAR-1'");
    g_autofree char *add = g_strdup_printf(
        "INSERT INTO case_messages (case_id, msg, added, added_by) VALUES"
        " (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", 1, 't'), (%" G_GINT64_FORMAT ", %"
        G_GINT64_FORMAT ", 1, 't')", f->case_id, f->msgs[0], f->case_id, f->msgs[1]);
    exec(f, add);   /* the third message is not in the case */
}

static void
teardown(fixture_t *f, gconstpointer data)
{
    cor_store_close(f->st);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(f->dir);
}

/* The redactions of the case as "kind:text:state" lines in list order. */
static char *
listing(fixture_t *f, const char *state)
{
    g_autoptr(GPtrArray) list = NULL;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_redact_list(f->st, "SAR-1", state, &list, &err), ==, COR_OK);
    GString *s = g_string_new(NULL);
    int64_t msg = 0;
    g_autofree char *text = NULL;
    for (guint i = 0; i < list->len; i++) {
        cor_redaction_t *r = list->pdata[i];
        if (r->msg != msg) {
            g_clear_pointer(&text, g_free);
            char sha[65];
            g_assert_cmpint(cor_readable_load(f->st, r->msg, 0, &text, sha, NULL, NULL, &err), ==, COR_OK);
            g_assert_cmpstr(sha, ==, r->text_sha256);
            msg = r->msg;
        }
        g_string_append_printf(s, "%d %s:%.*s:%s:%s\n", r->number, r->kind,
                               (int) (r->end - r->start), text + r->start, r->state, r->exemption);
    }
    return g_string_free(s, FALSE);
}

static void
test_store_propose(fixture_t *f, gconstpointer data)
{
    g_autofree char *err = NULL;
    int64_t proposed = 0, messages = 0;
    const char *names[] = { "Peter Quince", NULL };
    g_assert_cmpint(cor_redact_propose(f->st, "SAR-1", "officer", NULL, names, &proposed,
                                       &messages, &err), ==, COR_OK);
    g_assert_cmpint(messages, ==, 2);
    g_autofree char *got = listing(f, NULL);
    g_assert_cmpstr(got, ==,
        "1 subject:jane.smith@council.example:proposed:s40(2)\n"
        "1 email:planning@lists.example.gov.uk:proposed:s40(2)\n"
        "1 email:sean.obrien@council.example:proposed:s40(2)\n"
        "1 email:plain.1@council.example:proposed:s40(2)\n"      /* the Message-ID line */
        "1 name:Bob Jones:proposed:s40(2)\n"
        "1 subject:Peter Quince:proposed:s40(2)\n"
        "1 phone:020 7946 0018:proposed:s40(2)\n"
        "1 phone:07700 900123:proposed:s40(2)\n"
        "1 phone:+44 (0)161 496 0000:proposed:s40(2)\n"
        "1 nino:AB 12 34 56 C:proposed:s40(2)\n"
        "1 postcode:M1 1AE:proposed:s40(2)\n"
        "1 postcode:SW1A 2AA:proposed:s40(2)\n"
        "2 name:Bob Jones:proposed:s40(2)\n"
        "2 email:bob.jones@council.example:proposed:s40(2)\n"
        "2 email:planning@lists.example.gov.uk:proposed:s40(2)\n"
        "2 email:html.2@council.example:proposed:s40(2)\n"
        "2 subject:Peter Quince:proposed:s40(2)\n"               /* an attachment's name */
        "2 subject:Peter Quince:proposed:s40(2)\n"
        "2 phone:07700 900456:proposed:s40(2)\n"
        "2 email:peter.quince@example.org:proposed:s40(2)\n");
    g_assert_cmpint(proposed, ==, 20);
    /* proposing again adds nothing; another exemption is checked */
    g_assert_cmpint(cor_redact_propose(f->st, "SAR-1", "officer", "s43", NULL, &proposed,
                                       &messages, &err), ==, COR_OK);
    g_assert_cmpint(proposed, ==, 0);
    g_assert_cmpint(cor_redact_propose(f->st, "SAR-1", "officer", "s99", NULL, &proposed,
                                       &messages, &err), ==, COR_ERR_INVALID);
    g_assert_nonnull(strstr(err, "s40(2), s41, s42, s43, s31, s36, eir-12, eir-13"));
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(cor_redact_propose(f->st, "NOPE", "officer", NULL, NULL, &proposed,
                                       &messages, &err), ==, COR_ERR_NOT_FOUND);
    g_assert_cmpstr(err, ==, "no case 'NOPE'");
    /* two audit entries (the failed ones wrote none), never the text */
    g_assert_cmpint(count(f, "SELECT count(*) FROM audit WHERE action = 'redact' AND case_ref = 'SAR-1'"), ==, 2);
    g_assert_cmpint(count(f, "SELECT count(*) FROM audit WHERE detail LIKE '%7946%'"
                             " OR detail LIKE '%Quince%' OR detail LIKE '%@%'"), ==, 0);
    /* the original is untouched */
    g_autoptr(GBytes) raw = NULL;
    g_assert_cmpint(cor_store_message_raw(f->st, f->msgs[0], &raw), ==, COR_OK);
    gsize len = 0;
    g_autofree char *file = load("plain.eml", &len);
    g_assert_cmpmem(g_bytes_get_data(raw, NULL), g_bytes_get_size(raw), file, len);
}

/* The ids of the listed redactions whose text is `what`. */
static GArray *
ids_of(fixture_t *f, const char *what)
{
    g_autoptr(GPtrArray) list = NULL;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_redact_list(f->st, "SAR-1", NULL, &list, &err), ==, COR_OK);
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
    for (guint i = 0; i < list->len; i++) {
        cor_redaction_t *r = list->pdata[i];
        g_autofree char *text = NULL;
        g_assert_cmpint(cor_readable_load(f->st, r->msg, 0, &text, NULL, NULL, NULL, &err), ==, COR_OK);
        if ((size_t) (r->end - r->start) == strlen(what) && strncmp(text + r->start, what, strlen(what)) == 0)
            g_array_append_val(ids, r->id);
    }
    return ids;
}

static void
test_store_decide(fixture_t *f, gconstpointer data)
{
    g_autofree char *err = NULL;
    int64_t proposed = 0, messages = 0, changed = 0;
    g_assert_cmpint(cor_redact_propose(f->st, "SAR-1", "officer", NULL, NULL, &proposed,
                                       &messages, &err), ==, COR_OK);
    int64_t audit0 = count(f, "SELECT count(*) FROM audit");
    /* reject the group address (twice: once per message) */
    g_autoptr(GArray) list_ids = ids_of(f, "planning@lists.example.gov.uk");
    g_assert_cmpuint(list_ids->len, ==, 2);
    g_assert_cmpint(cor_redact_decide(f->st, "SAR-1", "officer", list_ids, false, &changed, &err), ==, COR_OK);
    g_assert_cmpint(changed, ==, 2);
    /* an id that is not the case's: an error, nothing changed */
    g_autoptr(GArray) bad = g_array_new(FALSE, FALSE, sizeof(int64_t));
    int64_t first = g_array_index(list_ids, int64_t, 1), missing = 99999;   /* message 2's */
    g_array_append_val(bad, first);
    g_array_append_val(bad, missing);
    g_assert_cmpint(cor_redact_decide(f->st, "SAR-1", "officer", bad, true, &changed, &err), ==, COR_ERR_NOT_FOUND);
    g_assert_cmpstr(err, ==, "case SAR-1 has no redaction 99999");
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(count(f, "SELECT count(*) FROM redactions WHERE state = 'rejected'"), ==, 2);
    /* accept every one still proposed */
    g_assert_cmpint(cor_redact_decide(f->st, "SAR-1", "officer2", NULL, true, &changed, &err), ==, COR_OK);
    g_assert_cmpint(changed, ==, proposed - 2);
    g_assert_cmpint(count(f, "SELECT count(*) FROM redactions WHERE state = 'proposed'"), ==, 0);
    g_assert_cmpint(count(f, "SELECT count(*) FROM redactions WHERE state = 'accepted' AND operator = 'officer2'"), ==, proposed - 2);
    g_assert_cmpint(count(f, "SELECT count(*) FROM audit"), ==, audit0 + 2);
    /* a change of mind: accepting a rejected one */
    g_array_set_size(bad, 1);
    g_assert_cmpint(cor_redact_decide(f->st, "SAR-1", "officer", bad, true, &changed, &err), ==, COR_OK);
    g_assert_cmpint(changed, ==, 1);
    g_assert_cmpint(cor_redact_decide(f->st, "SAR-1", "officer", bad, true, &changed, &err), ==, COR_OK);
    g_assert_cmpint(changed, ==, 0);

    /* the redacted copy of message 1 has none of the accepted texts */
    g_autofree char *text = NULL;
    char sha[65];
    g_assert_cmpint(cor_readable_load(f->st, f->msgs[0], 0, &text, sha, NULL, NULL, &err), ==, COR_OK);
    g_autoptr(GString) txt = g_string_new(NULL);
    g_autoptr(GString) html = g_string_new(NULL);
    int64_t n = 0;
    g_assert_cmpint(cor_redact_message(f->st, f->case_id, f->msgs[0], text, sha, txt, html, &n, &err), ==, COR_OK);
    g_assert_cmpint(n, ==, 10);
    static const char *const gone[] = {
        "jane.smith@council.example", "sean.obrien", "Bob Jones", "7946", "900123", "496 0000",
        "AB 12 34 56 C", "M1 1AE", "SW1A 2AA", "plain.1@",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(gone); i++) {
        g_assert_null(strstr(txt->str, gone[i]));
        g_assert_null(strstr(html->str, gone[i]));
    }
    g_assert_nonnull(strstr(txt->str, "planning@lists.example.gov.uk"));   /* rejected here */
    g_assert_nonnull(strstr(txt->str, "Dear [Redacted \xe2\x80\x93 s.40(2)],"));
    g_assert_nonnull(strstr(txt->str, "Peter Quince"));   /* not a known name without --name */

    /* a span made on another rendering of the text is refused */
    exec(f, "UPDATE redactions SET text_sha256 = '0000' WHERE id = (SELECT min(id) FROM redactions WHERE state = 'accepted')");
    g_string_truncate(txt, 0);
    g_assert_cmpint(cor_redact_message(f->st, f->case_id, f->msgs[0], text, sha, txt, NULL, &n, &err), ==, COR_ERR_INVALID);
    g_assert_nonnull(strstr(err, "another rendering"));
}

static void
test_store_manual(fixture_t *f, gconstpointer data)
{
    g_autofree char *err = NULL;
    g_autoptr(GArray) ids = NULL;
    /* "Jane Smith" occurs twice in message 1's text (From and the sign-off) */
    g_assert_cmpint(cor_redact_manual(f->st, "SAR-1", "officer", "<plain.1@council.example>",
                                      "Jane Smith", -1, 0, 0, "s40(2)", &ids, NULL, NULL, &err), ==, COR_ERR_INVALID);
    g_assert_cmpstr(err, ==, "the text occurs 2 times in <plain.1@council.example>: say which with "
                             "--occurrence N, or --all");
    g_clear_pointer(&err, g_free);
    g_clear_pointer(&ids, g_array_unref);
    g_assert_cmpint(cor_redact_manual(f->st, "SAR-1", "officer", "plain.1@council.example",
                                      "Jane Smith", 3, 0, 0, "s40(2)", &ids, NULL, NULL, &err), ==, COR_ERR_NOT_FOUND);
    g_clear_pointer(&err, g_free);
    g_clear_pointer(&ids, g_array_unref);
    g_assert_cmpint(cor_redact_manual(f->st, "SAR-1", "officer", "plain.1@council.example",
                                      "Jane Smith", 2, 0, 0, "s41", &ids, NULL, NULL, &err), ==, COR_OK);
    g_assert_cmpuint(ids->len, ==, 1);
    g_clear_pointer(&ids, g_array_unref);
    g_assert_cmpint(cor_redact_manual(f->st, "SAR-1", "officer", "plain.1@council.example",
                                      "licence", 0, 0, 0, "s43", &ids, NULL, NULL, &err), ==, COR_OK);
    g_assert_cmpuint(ids->len, ==, 2);
    g_clear_pointer(&ids, g_array_unref);
    /* a byte span: "Café" is bytes 6..11 of the subject line's value */
    g_autofree char *text = NULL;
    g_assert_cmpint(cor_readable_load(f->st, f->msgs[0], 0, &text, NULL, NULL, NULL, &err), ==, COR_OK);
    const char *cafe = strstr(text, "Caf\xc3\xa9");
    int64_t s0 = cafe - text;
    g_assert_cmpint(cor_redact_manual(f->st, "SAR-1", "officer", "plain.1@council.example",
                                      NULL, 0, s0, s0 + 4, "eir-12", &ids, NULL, NULL, &err), ==, COR_ERR_INVALID);
    g_assert_nonnull(strstr(err, "character boundaries"));
    g_clear_pointer(&err, g_free);
    g_clear_pointer(&ids, g_array_unref);
    g_assert_cmpint(cor_redact_manual(f->st, "SAR-1", "officer", "plain.1@council.example",
                                      NULL, 0, s0, s0 + 5, "eir-12", &ids, NULL, NULL, &err), ==, COR_OK);
    g_clear_pointer(&ids, g_array_unref);
    /* not in the case, unknown text, bad exemption */
    g_assert_cmpint(cor_redact_manual(f->st, "SAR-1", "officer", "private.3@council.example",
                                      "Noted", 0, 0, 0, "s40(2)", &ids, NULL, NULL, &err), ==, COR_ERR_NOT_FOUND);
    g_assert_cmpstr(err, ==, "message <private.3@council.example> is not in case SAR-1 (case add it first)");
    g_clear_pointer(&err, g_free);
    g_clear_pointer(&ids, g_array_unref);
    g_assert_cmpint(cor_redact_manual(f->st, "SAR-1", "officer", "plain.1@council.example",
                                      "not there", 0, 0, 0, "s40(2)", &ids, NULL, NULL, &err), ==, COR_ERR_NOT_FOUND);
    g_clear_pointer(&err, g_free);
    g_clear_pointer(&ids, g_array_unref);
    g_assert_cmpint(cor_redact_manual(f->st, "SAR-1", "officer", "plain.1@council.example",
                                      "licence", 0, 0, 0, "s40", &ids, NULL, NULL, &err), ==, COR_ERR_INVALID);
    g_clear_pointer(&ids, g_array_unref);
    g_autofree char *got = listing(f, "accepted");
    g_assert_cmpstr(got, ==,
        "1 manual:Caf\xc3\xa9:accepted:eir-12\n"
        "1 manual:licence:accepted:s43\n"
        "1 manual:licence:accepted:s43\n"
        "1 manual:Jane Smith:accepted:s41\n");
    g_assert_cmpint(count(f, "SELECT count(*) FROM audit WHERE action = 'redact'"), ==, 3);
    g_assert_cmpint(count(f, "SELECT count(*) FROM audit WHERE detail LIKE '%licence%' OR detail LIKE '%Jane%'"), ==, 0);
}

/* Naming the message of a manual span: its number, its store row, or a
 * Message-ID, which two messages of the case may share. */
static void
test_store_pick(fixture_t *f, gconstpointer data)
{
    g_autofree char *err = NULL;
    int64_t housing = 0;
    g_assert_cmpint(cor_store_group_create(f->st, "housing", "Housing", COR_VISIBILITY_PUBLIC,
                                           &housing), ==, COR_OK);
    int64_t saved = f->group;
    f->group = housing;
    int64_t again = add_eml(f, "plain-again.eml");
    f->group = saved;
    g_assert_cmpint(again, !=, f->msgs[0]);
    g_autofree char *add = g_strdup_printf(
        "INSERT INTO case_messages (case_id, msg, added, added_by) VALUES (%" G_GINT64_FORMAT
        ", %" G_GINT64_FORMAT ", 1, 't')", f->case_id, again);
    exec(f, add);
    /* the case by date: 0001 plain.1 (1 March), 0002 plain.1 again (2 March
     * 08:00), 0003 html.2 (2 March 09:30) */
    g_autoptr(GArray) ids = NULL;
    int64_t audit0 = count(f, "SELECT count(*) FROM audit");
    g_assert_cmpint(cor_redact_manual(f->st, "SAR-1", "officer", "<plain.1@council.example>",
                                      "Jane Smith", 0, 0, 0, "s40(2)", &ids, NULL, NULL, &err),
                    ==, COR_ERR_INVALID);
    g_assert_cmpstr(err, ==, "2 messages of case SAR-1 have the Message-ID <plain.1@council.example> "
                             "(0001, 0002, different originals): name one by its number, e.g. "
                             "--message 0001");
    g_assert_cmpint(count(f, "SELECT count(*) FROM redactions"), ==, 0);
    g_assert_cmpint(count(f, "SELECT count(*) FROM audit"), ==, audit0);
    /* by number: the second one, which a Message-ID could not name */
    g_clear_pointer(&err, g_free);
    g_clear_pointer(&ids, g_array_unref);
    g_autofree char *mid = NULL;
    int number = 0;
    g_assert_cmpint(cor_redact_manual(f->st, "SAR-1", "officer", "0002", "Jane Smith", 0, 0, 0,
                                      "s40(2)", &ids, &mid, &number, &err), ==, COR_OK);
    g_assert_cmpuint(ids->len, ==, 2);   /* From and the text */
    g_assert_cmpstr(mid, ==, "plain.1@council.example");
    g_assert_cmpint(number, ==, 2);
    g_autofree char *sql = g_strdup_printf("SELECT count(*) FROM redactions WHERE msg = %"
                                           G_GINT64_FORMAT, again);
    g_assert_cmpint(count(f, sql), ==, 2);
    g_assert_cmpint(count(f, "SELECT count(*) FROM audit WHERE detail LIKE '%\"message\":\"0002\"%'"), ==, 1);
    /* by store row */
    g_clear_pointer(&ids, g_array_unref);
    g_clear_pointer(&mid, g_free);
    g_autofree char *row = g_strdup_printf("id:%" G_GINT64_FORMAT, f->msgs[0]);
    g_assert_cmpint(cor_redact_manual(f->st, "SAR-1", "officer", row, "licence", 1, 0, 0, "s43",
                                      &ids, &mid, &number, &err), ==, COR_OK);
    g_assert_cmpint(number, ==, 1);
    /* "3" is html.2; numbers and rows that are not the case's */
    g_clear_pointer(&ids, g_array_unref);
    g_assert_cmpint(cor_redact_manual(f->st, "SAR-1", "officer", "3", "Site visit", 1, 0, 0,
                                      "s43", &ids, NULL, &number, &err), ==, COR_OK);
    g_assert_cmpint(number, ==, 3);
    g_clear_pointer(&ids, g_array_unref);
    g_assert_cmpint(cor_redact_manual(f->st, "SAR-1", "officer", "4", "x", 0, 0, 0, "s43", &ids,
                                      NULL, NULL, &err), ==, COR_ERR_NOT_FOUND);
    g_assert_cmpstr(err, ==, "case SAR-1 has no message 4 (it has 3; the numbers are those of "
                             "'case redact SAR-1 --list' and the bundle)");
    g_clear_pointer(&err, g_free);
    g_clear_pointer(&ids, g_array_unref);
    g_autofree char *outside = g_strdup_printf("id:%" G_GINT64_FORMAT, f->msgs[2]);
    g_assert_cmpint(cor_redact_manual(f->st, "SAR-1", "officer", outside, "x", 0, 0, 0, "s43",
                                      &ids, NULL, NULL, &err), ==, COR_ERR_NOT_FOUND);
    g_autofree char *want = g_strdup_printf("message %s is not in case SAR-1", outside);
    g_assert_cmpstr(err, ==, want);
    /* the list's numbers are the same */
    g_autofree char *got = listing(f, "accepted");
    g_assert_cmpstr(got, ==,
        "1 manual:licence:accepted:s43\n"
        "2 manual:Jane Smith:accepted:s40(2)\n"
        "2 manual:Jane Smith:accepted:s40(2)\n"
        "3 manual:Site visit:accepted:s43\n");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cor_message_init();
    g_test_add_func("/redact/readable-text", test_readable_text);
    g_test_add_func("/redact/scan-table", test_scan_table);
    g_test_add_func("/redact/scan-names", test_scan_names);
    g_test_add_func("/redact/scan-contained", test_scan_contained);
    g_test_add_func("/redact/exemptions", test_exemptions);
    g_test_add_func("/redact/apply", test_apply);
    g_test_add_func("/redact/apply-range", test_apply_range);
    g_test_add_func("/redact/phrases", test_phrases);
    g_test_add("/redact/store-propose", fixture_t, NULL, setup, test_store_propose, teardown);
    g_test_add("/redact/store-decide", fixture_t, NULL, setup, test_store_decide, teardown);
    g_test_add("/redact/store-manual", fixture_t, NULL, setup, test_store_manual, teardown);
    g_test_add("/redact/store-pick", fixture_t, NULL, setup, test_store_pick, teardown);
    return g_test_run();
}
