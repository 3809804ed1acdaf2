/* Unit tests for core/template: escaping, values, every tag kind, the
 * standalone rule, compile errors with their line numbers, partials and the
 * recursion cut, loading a folder over built-in templates, and a big list.
 *
 * Most cases are tables of (template, expected output) rendered against one
 * fixture scope built by make_page(); every expectation is an exact string.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <string.h>

#include "core/template.h"

/* ---- helpers ------------------------------------------------------------ */

/* The fixture scope (transfer none: owned by ctx):
 *   title "Tea & <Cakes>"   html "<b>bold</b>"   n 42   neg -7   zero 0
 *   yes true   no false   empty ""   quote "it's \"quoted\""
 *   tags ["a", "b<", "c"]   none []
 *   site { title "Council", owner { name "Clerk" } }
 *   people [ { name "Ann", email "ann@x" }, { name "Bob" } ]
 *   groups [ { name "g1", members ["m1", "m2"] }, { name "g2", members [] } ] */
static cor_tval_t *
make_page(cor_tctx_t *ctx)
{
    cor_tval_t *page = cor_tval_object(ctx);
    cor_tval_set_str(ctx, page, "title", "Tea & <Cakes>");
    cor_tval_set_html(ctx, page, "html", "<b>bold</b>");
    cor_tval_set_int(ctx, page, "n", 42);
    cor_tval_set_int(ctx, page, "neg", -7);
    cor_tval_set_int(ctx, page, "zero", 0);
    cor_tval_set_bool(ctx, page, "yes", true);
    cor_tval_set_bool(ctx, page, "no", false);
    cor_tval_set_str(ctx, page, "empty", "");
    cor_tval_set_static(ctx, page, "quote", "it's \"quoted\"");
    cor_tval_t *tags = cor_tval_set_list(ctx, page, "tags");
    cor_tval_list_add_str(ctx, tags, "a");
    cor_tval_list_add_str(ctx, tags, "b<");
    cor_tval_list_add_str(ctx, tags, "c");
    cor_tval_set_list(ctx, page, "none");
    cor_tval_t *site = cor_tval_set_object(ctx, page, "site");
    cor_tval_set_str(ctx, site, "title", "Council");
    cor_tval_set_str(ctx, cor_tval_set_object(ctx, site, "owner"), "name", "Clerk");
    cor_tval_t *people = cor_tval_set_list(ctx, page, "people");
    cor_tval_t *p = cor_tval_list_add_object(ctx, people);
    cor_tval_set_str(ctx, p, "name", "Ann");
    cor_tval_set_str(ctx, p, "email", "ann@x");
    cor_tval_set_str(ctx, cor_tval_list_add_object(ctx, people), "name", "Bob");
    cor_tval_t *groups = cor_tval_set_list(ctx, page, "groups");
    cor_tval_t *g = cor_tval_list_add_object(ctx, groups);
    cor_tval_set_str(ctx, g, "name", "g1");
    cor_tval_t *m = cor_tval_set_list(ctx, g, "members");
    cor_tval_list_add_str(ctx, m, "m1");
    cor_tval_list_add_str(ctx, m, "m2");
    g = cor_tval_list_add_object(ctx, groups);
    cor_tval_set_str(ctx, g, "name", "g2");
    cor_tval_set_list(ctx, g, "members");
    return page;
}

/* Compiles `text` as "t" into a new set and renders it with `scope`
 * (transfer full); fails the test on any error. */
static char *
render(const char *text, const cor_tval_t *scope)
{
    g_autoptr(cor_tmpl_set_t) set = cor_tmpl_set_new();
    g_autofree char *err = NULL;
    cor_status_t st = cor_tmpl_set_add(set, "t", text, strlen(text), "test", &err);
    g_assert_cmpstr(err, ==, NULL);
    g_assert_cmpint(st, ==, COR_OK);
    GString *out = g_string_new(NULL);
    st = cor_tmpl_render(set, "t", scope, out, &err);
    g_assert_cmpstr(err, ==, NULL);
    g_assert_cmpint(st, ==, COR_OK);
    return g_string_free(out, FALSE);
}

/* cor_escape_html() of `len` bytes (transfer full). */
static char *
escape(const char *s, gssize len)
{
    GString *out = g_string_new("[");
    cor_escape_html(out, s, len);
    g_string_append_c(out, ']');
    return g_string_free(out, FALSE);
}

typedef struct render_case {
    const char *tmpl;
    const char *expected;
} render_case_t;

/* Renders each case against the fixture page. */
static void
run_cases(const render_case_t *cases, size_t n)
{
    g_autoptr(cor_tctx_t) ctx = cor_tctx_new();
    cor_tval_t *page = make_page(ctx);
    for (size_t i = 0; i < n; i++) {
        g_autofree char *shown = g_strescape(cases[i].tmpl, NULL);
        g_test_message("template: %s", shown);
        g_autofree char *got = render(cases[i].tmpl, page);
        g_assert_cmpstr(got, ==, cases[i].expected);
    }
}

#define RUN(cases) run_cases(cases, G_N_ELEMENTS(cases))

/* ---- escaping ------------------------------------------------------------ */

static void
test_escape_specials(void)
{
    static const render_case_t cases[] = {
        { "plain text", "[plain text]" },
        { "", "[]" },
        { "&", "[&amp;]" },
        { "<>", "[&lt;&gt;]" },
        { "\"'", "[&quot;&#39;]" },
        { "a & b < c > d \" e ' f", "[a &amp; b &lt; c &gt; d &quot; e &#39; f]" },
        { "&amp;", "[&amp;amp;]" },
        { "<script>alert('x')</script>",
          "[&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;]" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = escape(cases[i].tmpl, -1);
        g_assert_cmpstr(got, ==, cases[i].expected);
    }
}

static void
test_escape_controls(void)
{
    static const struct { const char *in; gssize len; const char *expected; } cases[] = {
        { "a\tb\nc", -1, "[a\tb\nc]" },                 /* tab and newline kept */
        { "a\rb\r\n", -1, "[ab\n]" },                   /* CR dropped */
        { "\x01\x02x\x1b[0m\x1f", -1, "[x[0m]" },
        { "del\x7f!", -1, "[del!]" },
        { "a\0b", 3, "[ab]" },                          /* NUL inside a counted string */
        { "\x0b\x0c", -1, "[]" },                       /* VT, FF */
        { "abcdef", 3, "[abc]" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = escape(cases[i].in, cases[i].len);
        g_assert_cmpstr(got, ==, cases[i].expected);
    }
}

static void
test_escape_utf8(void)
{
    static const struct { const char *in; const char *expected; } cases[] = {
        { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "[caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80]" },
        { "\xc2\x85", "[\xc2\x85]" },                       /* C1 is valid UTF-8 */
        { "a\x80z", "[a\xef\xbf\xbdz]" },                   /* stray continuation */
        { "a\xffz", "[a\xef\xbf\xbdz]" },
        { "\xc0\xaf", "[\xef\xbf\xbd\xef\xbf\xbd]" },       /* overlong '/' */
        { "\xed\xa0\x80", "[\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd]" },   /* surrogate */
        { "\xe2\x82<", "[\xef\xbf\xbd&lt;]" },              /* truncated, one U+FFFD */
        { "end\xe2\x82", "[end\xef\xbf\xbd]" },              /* truncated at the end */
        { "\xf4\x90\x80\x80", "[\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd]" },
        { "latin1 \xe9t\xe9", "[latin1 \xef\xbf\xbdt\xef\xbf\xbd]" },
        { "\xef\xbf\xbf", "[\xef\xbf\xbd]" },               /* U+FFFF: not XML */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = escape(cases[i].in, -1);
        g_assert_cmpstr(got, ==, cases[i].expected);
        g_assert_true(g_utf8_validate(got, -1, NULL));
    }
}

/* ---- values -------------------------------------------------------------- */

static void
test_values(void)
{
    static const render_case_t cases[] = {
        { "<h1>{{title}}</h1>", "<h1>Tea &amp; &lt;Cakes&gt;</h1>" },
        { "<a title=\"{{quote}}\">", "<a title=\"it&#39;s &quot;quoted&quot;\">" },
        { "{{html}}", "<b>bold</b>" },                  /* trusted markup: raw */
        { "{{n}} {{neg}} {{zero}}", "42 -7 0" },
        { "{{yes}}/{{no}}", "true/false" },
        { "[{{missing}}][{{empty}}]", "[][]" },
        { "[{{site}}][{{tags}}]", "[][]" },             /* objects and lists: nothing */
        { "no tags at all { } }} {", "no tags at all { } }} {" },
    };
    RUN(cases);
}

static void
test_ints(void)
{
    static const struct { int64_t v; const char *expected; } cases[] = {
        { 0, "0" }, { 7, "7" }, { -1, "-1" }, { 1234567890123, "1234567890123" },
        { INT64_MAX, "9223372036854775807" }, { INT64_MIN, "-9223372036854775808" } };
    g_autoptr(cor_tctx_t) ctx = cor_tctx_new();
    cor_tval_t *o = cor_tval_object(ctx);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        cor_tval_set_int(ctx, o, "v", cases[i].v);
        g_autofree char *got = render("{{v}}", o);
        g_assert_cmpstr(got, ==, cases[i].expected);
    }
}

static void
test_set_replaces(void)
{
    g_autoptr(cor_tctx_t) ctx = cor_tctx_new();
    cor_tval_t *o = cor_tval_object(ctx);
    cor_tval_set_str(ctx, o, "a", "first");
    cor_tval_set_str(ctx, o, "b", "B");
    cor_tval_set_str(ctx, o, "a", "second");
    cor_tval_set_str(ctx, o, "c", NULL);                /* NULL is "" */
    g_autofree char *got = render("{{a}}{{b}}[{{c}}]{{^c}}no c{{/c}}", o);
    g_assert_cmpstr(got, ==, "secondB[]no c");

    /* a key can change kind: string to list to html */
    cor_tval_list_add_str(ctx, cor_tval_set_list(ctx, o, "a"), "x");
    g_autofree char *got2 = render("{{#a}}<{{.}}>{{/a}}", o);
    g_assert_cmpstr(got2, ==, "<x>");
    cor_tval_set_html(ctx, o, "a", "<i>");
    g_autofree char *got3 = render("{{a}}", o);
    g_assert_cmpstr(got3, ==, "<i>");
}

/* keys that share their first 8 bytes, or differ in length only, and enough
 * keys in one object that many share a presence bit */
static void
test_many_keys(void)
{
    g_autoptr(cor_tctx_t) ctx = cor_tctx_new();
    cor_tval_t *o = cor_tval_object(ctx);
    g_autoptr(GString) tmpl = g_string_new(NULL), want = g_string_new(NULL);
    for (int i = 0; i < 300; i++) {
        g_autofree char *a = g_strdup_printf("message_header_%d", i);
        g_autofree char *b = g_strdup_printf("k%d", i);
        cor_tval_set_int(ctx, o, a, i);
        cor_tval_set_int(ctx, o, b, -i);
    }
    for (int i = 0; i < 300; i += 3) {                  /* replace every third */
        g_autofree char *a = g_strdup_printf("message_header_%d", i);
        cor_tval_set_printf(ctx, o, a, "r%d", i);
    }
    cor_tval_set_str(ctx, o, "", "empty key");
    cor_tval_set_str(ctx, o, "message_", "eight");
    cor_tval_set_str(ctx, o, "message", "seven");
    for (int i = 0; i < 300; i++) {
        g_string_append_printf(tmpl, "{{message_header_%d}}/{{k%d}},", i, i);
        g_string_append_printf(want, "%s%d/%d,", i % 3 ? "" : "r", i, -i);
    }
    g_string_append(tmpl, "{{message}}|{{message_}}|{{message_header}}|{{message_header_300}}");
    g_string_append(want, "seven|eight||");
    g_autofree char *got = render(tmpl->str, o);
    g_assert_cmpstr(got, ==, want->str);
}

static void
test_setters(void)
{
    g_autoptr(cor_tctx_t) ctx = cor_tctx_new();
    cor_tval_t *o = cor_tval_object(ctx);
    char buf[] = "abc<def";
    cor_tval_set_str_len(ctx, o, "len", buf, 4);
    cor_tval_set_html_len(ctx, o, "hlen", "<p>x</p>trailing", 8);
    cor_tval_set_str(ctx, o, "copied", buf);
    buf[0] = 'X';                                       /* the value is a copy */
    cor_tval_set_printf(ctx, o, "pf", "%s=%d <%05.1f>", "k", -3, 2.5);
    cor_tval_t *shared = cor_tval_object(ctx);
    cor_tval_set_str(ctx, shared, "v", "S");
    cor_tval_set_value(ctx, o, "s1", shared);
    cor_tval_set_value(ctx, o, "s2", shared);
    cor_tval_set_str(ctx, shared, "v", "T");            /* both keys see it */
    g_autofree char *got = render("{{len}}|{{hlen}}|{{copied}}|{{pf}}|{{s1.v}}{{s2.v}}", o);
    g_assert_cmpstr(got, ==, "abc&lt;|<p>x</p>|abc&lt;def|k=-3 &lt;002.5&gt;|TT");
}

/* printf output longer than a chunk, and many values over several chunks */
static void
test_arena_big_values(void)
{
    g_autoptr(cor_tctx_t) ctx = cor_tctx_new();
    cor_tval_t *o = cor_tval_object(ctx);
    g_autofree char *big = g_strnfill(300000, 'x');
    cor_tval_set_str(ctx, o, "s1", "before");
    cor_tval_set_printf(ctx, o, "big", "<%s>", big);
    cor_tval_set_str(ctx, o, "s2", "after");
    cor_tval_t *list = cor_tval_set_list(ctx, o, "l");
    for (int i = 0; i < 20000; i++)
        cor_tval_set_printf(ctx, cor_tval_list_add_object(ctx, list), "k", "%d", i);
    g_autofree char *got = render("{{s1}}{{big}}{{s2}}", o);
    g_autofree char *want = g_strdup_printf("before&lt;%s&gt;after", big);
    g_assert_cmpstr(got, ==, want);
    g_assert_cmpuint(cor_tval_list_len(list), ==, 20000);
    g_assert_cmpuint(cor_tval_list_len(o), ==, 0);      /* not a list */
}

/* ---- tags ----------------------------------------------------------------- */

static void
test_sections(void)
{
    static const render_case_t cases[] = {
        { "{{#tags}}[{{.}}]{{/tags}}", "[a][b&lt;][c]" },
        { "{{#people}}{{name}} {{/people}}", "Ann Bob " },
        { "{{#people}}{{name}}{{#email}} <{{email}}>{{/email}};{{/people}}", "Ann <ann@x>;Bob;" },
        { "{{#site}}{{title}}/{{owner.name}}{{/site}}", "Council/Clerk" },
        { "{{#yes}}Y{{/yes}}{{#no}}N{{/no}}", "Y" },
        { "{{#n}}n={{n}}{{/n}}{{#zero}}zero{{/zero}}{{#neg}}neg{{/neg}}", "n=42neg" },
        { "{{#title}}{{.}}{{/title}}{{#empty}}E{{/empty}}", "Tea &amp; &lt;Cakes&gt;" },
        { "{{#none}}x{{/none}}{{#missing}}x{{/missing}}", "" },
        { "{{#html}}{{.}}{{/html}}", "<b>bold</b>" },
        { "{{#site}}{{#owner}}{{name}}@{{title}}{{/owner}}{{/site}}", "Clerk@Council" },
    };
    RUN(cases);
}

static void
test_inverted(void)
{
    static const render_case_t cases[] = {
        { "{{^missing}}M{{/missing}}{{^no}}F{{/no}}{{^zero}}0{{/zero}}", "MF0" },
        { "{{^empty}}E{{/empty}}{{^none}}L{{/none}}", "EL" },
        { "{{^yes}}x{{/yes}}{{^n}}x{{/n}}{{^tags}}x{{/tags}}{{^site}}x{{/site}}", "" },
        { "{{^title}}x{{/title}}{{^neg}}x{{/neg}}", "" },
        { "{{#groups}}{{name}}:{{^members}}none{{/members}};{{/groups}}", "g1:;g2:none;" },
    };
    RUN(cases);
}

static void
test_nested_lists(void)
{
    static const render_case_t cases[] = {
        /* item keys first, then the page: site.title and n from outside */
        { "{{#groups}}{{name}}({{#members}}{{.}}@{{name}}/{{site.title}},{{/members}}){{/groups}}",
          "g1(m1@g1/Council,m2@g1/Council,)g2()" },
        { "{{#people}}{{#tags}}{{name}}{{.}} {{/tags}}{{/people}}",
          "Anna Annb&lt; Annc Boba Bobb&lt; Bobc " },
        { "{{#people}}{{n}}{{title}};{{/people}}", "42Tea &amp; &lt;Cakes&gt;;42Tea &amp; &lt;Cakes&gt;;" },
    };
    RUN(cases);
}

static void
test_dotted_paths(void)
{
    static const render_case_t cases[] = {
        { "{{site.title}}|{{site.owner.name}}", "Council|Clerk" },
        { "[{{site.nope}}][{{site.owner.nope}}][{{nope.title}}]", "[][][]" },
        { "[{{title.x}}][{{site.title.x}}]", "[][]" },     /* through a string */
        { "{{#site.owner}}{{name}}{{/site.owner}}", "Clerk" },
        { "{{^site.nope}}none{{/site.nope}}", "none" },
        /* inside owner, "title" falls back to site; "owner.title" does not */
        { "{{#site}}{{#owner}}[{{title}}][{{owner.title}}]{{/owner}}{{/site}}", "[Council][]" },
    };
    RUN(cases);
}

static void
test_dot(void)
{
    static const render_case_t cases[] = {
        { "{{#tags}}{{ . }}{{/tags}}", "ab&lt;c" },
        { "{{#people}}[{{.}}]{{/people}}", "[][]" },       /* an object prints nothing */
        { "[{{.}}]", "[]" },                               /* the page itself */
        { "{{#n}}{{.}}{{/n}}", "42" },
    };
    RUN(cases);
    g_autoptr(cor_tctx_t) ctx = cor_tctx_new();
    cor_tval_t *o = cor_tval_object(ctx);
    cor_tval_t *outer = cor_tval_set_list(ctx, o, "outer");
    cor_tval_list_add_str(ctx, cor_tval_set_list(ctx, cor_tval_list_add_object(ctx, outer), "in"),
                          "deep");
    g_autofree char *got = render("{{#outer}}{{#in}}{{.}}{{/in}}{{/outer}}", o);
    g_assert_cmpstr(got, ==, "deep");
}

static void
test_comments_and_spaces(void)
{
    static const render_case_t cases[] = {
        { "a{{! a comment }}b", "ab" },
        { "a{{!multi\nline {{ comment}}b", "ab" },
        { "a{{!}}b", "ab" },
        { "{{ title }}|{{\ttitle\t}}", "Tea &amp; &lt;Cakes&gt;|Tea &amp; &lt;Cakes&gt;" },
        { "{{# yes }}Y{{/ yes }}{{ ^no}}N{{ /no }}", "YN" },
        { "{{ site.owner.name }}", "Clerk" },
        { "{{title}}}", "Tea &amp; &lt;Cakes&gt;}" },
    };
    RUN(cases);
}

static void
test_standalone(void)
{
    static const render_case_t cases[] = {
        { "<ul>\n{{#tags}}\n<li>{{.}}</li>\n{{/tags}}\n</ul>\n",
          "<ul>\n<li>a</li>\n<li>b&lt;</li>\n<li>c</li>\n</ul>\n" },
        /* indented, with tabs and CRLF */
        { "<ul>\n  {{#tags}}\n    <li>{{.}}</li>\n  {{/tags}}\n</ul>",
          "<ul>\n    <li>a</li>\n    <li>b&lt;</li>\n    <li>c</li>\n</ul>" },
        { "x\r\n\t{{^no}}  \r\ny\r\n\t{{/no}}\r\nz", "x\r\ny\r\nz" },
        { "a\n  {{! comment }}\nb\n", "a\nb\n" },
        { "{{#yes}}\nfirst line\n{{/yes}}", "first line\n" },    /* at start and EOF */
        /* not standalone: other content or a second tag on the line */
        { "a {{#yes}}\nb\n{{/yes}} c", "a \nb\n c" },
        { "  {{#yes}}{{/yes}}\nx", "  \nx" },
        { "  {{title}}\n", "  Tea &amp; &lt;Cakes&gt;\n" },   /* variables never */
        { "|\n{{#none}}\nhidden\n{{/none}}\n|", "|\n|" },
        { "{{#people}}\n  {{^email}}\n  no mail: {{name}}\n  {{/email}}\n{{/people}}\n",
          "  no mail: Bob\n" },
    };
    RUN(cases);
}

/* ---- compile errors --------------------------------------------------------- */

#define ONLY " (letters, digits, '_', '-' and '.' between them only)"

static void
test_compile_errors(void)
{
    static const struct { const char *tmpl; const char *err; } cases[] = {
        { "line1\n{{#a}}\nx\n", "page.html:3: section 'a' opened on line 2 is not closed" },
        { "{{#a}}{{#b}}{{/b}}", "page.html:1: section 'a' opened on line 1 is not closed" },
        { "{{#a}}\n\n{{/b}}", "page.html:3: '{{/b}}' does not close section 'a' opened on line 1" },
        { "x\n{{/a}}", "page.html:2: '{{/a}}' closes no open section" },
        { "a\nb\nc {{title", "page.html:3: unterminated '{{'" },
        { "{{}}", "page.html:1: empty name in '{{}}'" },
        { "\n{{# }}{{/}}", "page.html:2: empty name in '{{# }}'" },
        { "{{>}}", "page.html:1: empty name in '{{>}}'" },
        { "{{{raw}}}", "page.html:1: bad name '{raw'" ONLY },
        { "{{&raw}}", "page.html:1: bad name '&raw'" ONLY },
        { "{{a b}}", "page.html:1: bad name 'a b'" ONLY },
        { "{{a..b}}", "page.html:1: bad name 'a..b'" ONLY },
        { "{{.a}}", "page.html:1: bad name '.a'" ONLY },
        { "{{=<% %>=}}", "page.html:1: bad name '=<% %>='" ONLY },
        { "{{# a\x01 }}", "page.html:1: bad name 'a\\x01'" ONLY },
        { "{{!\n\n}}\n{{#a}}", "page.html:4: section 'a' opened on line 4 is not closed" },
        /* a stray "{{" in inline script: the message quotes 40 bytes at most */
        { "<script>\nif (a{{b) {\n  x = 1;\n  y = 2;\n  z = 3;\n  w = 4;\n} // }}\n</script>",
          "page.html:2: bad name 'b) {\\n  x = 1;\\n  y = 2;\\n  z = 3;\\n  w = 4;...'" ONLY },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(cor_tmpl_set_t) set = cor_tmpl_set_new();
        g_autofree char *err = NULL;
        g_autofree char *shown = g_strescape(cases[i].tmpl, NULL);
        g_test_message("template: %s", shown);
        cor_status_t st = cor_tmpl_set_add(set, "page.html", cases[i].tmpl,
                                           strlen(cases[i].tmpl), "page.html", &err);
        g_assert_cmpint(st, ==, COR_ERR_FORMAT);
        g_assert_cmpstr(err, ==, cases[i].err);
        g_assert_false(cor_tmpl_set_has(set, "page.html"));
    }
}

/* a failed add keeps the old template of that name; a good one replaces it */
static void
test_add_replaces(void)
{
    g_autoptr(cor_tmpl_set_t) set = cor_tmpl_set_new();
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_tmpl_set_add(set, "t", "one", 3, NULL, &err), ==, COR_OK);
    g_assert_cmpint(cor_tmpl_set_add(set, "t", "{{#x}}", 6, NULL, &err), ==, COR_ERR_FORMAT);
    g_assert_cmpstr(err, ==, "t:1: section 'x' opened on line 1 is not closed");   /* origin NULL */
    g_autoptr(GString) out = g_string_new(NULL);
    g_assert_cmpint(cor_tmpl_render(set, "t", NULL, out, NULL), ==, COR_OK);
    g_assert_cmpstr(out->str, ==, "one");
    g_assert_cmpint(cor_tmpl_set_add(set, "t", "two and more", 3, "x", NULL), ==, COR_OK);
    g_string_truncate(out, 0);
    g_assert_cmpint(cor_tmpl_render(set, "t", NULL, out, NULL), ==, COR_OK);
    g_assert_cmpstr(out->str, ==, "two");
    g_assert_true(cor_tmpl_set_has(set, "t"));
    g_assert_false(cor_tmpl_set_has(set, "u"));
}

/* ---- partials --------------------------------------------------------------- */

static void
test_partials(void)
{
    g_autoptr(cor_tctx_t) ctx = cor_tctx_new();
    cor_tval_t *page = make_page(ctx);
    g_autoptr(cor_tmpl_set_t) set = cor_tmpl_set_new();
    static const struct { const char *name, *text; } tmpls[] = {
        { "page.html", "<title>{{> title.html}}</title>\n{{#people}}\n  {{>person.html}}\n"
                       "{{/people}}\n<footer>{{>footer.html}}</footer>" },
        { "title.html", "{{title}} - {{site.title}}" },
        { "person.html", "<p>{{name}} of {{site.title}}</p>\n" },   /* current scope */
        { "footer.html", "{{! nothing but }}{{>empty.txt}}(c)" },
        { "empty.txt", "" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(tmpls); i++)
        g_assert_cmpint(cor_tmpl_set_add(set, tmpls[i].name, tmpls[i].text,
                                         strlen(tmpls[i].text), tmpls[i].name, NULL), ==, COR_OK);
    g_autoptr(GString) out = g_string_new("keep:");
    g_assert_cmpint(cor_tmpl_render(set, "page.html", page, out, NULL), ==, COR_OK);
    g_assert_cmpstr(out->str, ==,
                    "keep:<title>Tea &amp; &lt;Cakes&gt; - Council</title>\n"
                    "<p>Ann of Council</p>\n<p>Bob of Council</p>\n<footer>(c)</footer>");
}

static void
test_partial_recursion_cut(void)
{
    g_autoptr(cor_tmpl_set_t) set = cor_tmpl_set_new();
    g_assert_cmpint(cor_tmpl_set_add(set, "r", "x{{>r}}", 7, NULL, NULL), ==, COR_OK);
    g_assert_cmpint(cor_tmpl_set_add(set, "a", "a{{>b}}", 7, NULL, NULL), ==, COR_OK);
    g_assert_cmpint(cor_tmpl_set_add(set, "b", "b{{>a}}", 7, NULL, NULL), ==, COR_OK);
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *err = NULL;
    /* the template itself plus 16 levels of partials */
    g_assert_cmpint(cor_tmpl_render(set, "r", NULL, out, &err), ==, COR_OK);
    g_assert_cmpstr(err, ==, NULL);
    g_assert_cmpstr(out->str, ==, "xxxxxxxxxxxxxxxxx");
    g_string_truncate(out, 0);
    g_assert_cmpint(cor_tmpl_render(set, "a", NULL, out, &err), ==, COR_OK);
    g_assert_cmpstr(out->str, ==, "abababababababab" "a");   /* mutual recursion too */
}

static void
test_not_found(void)
{
    g_autoptr(cor_tctx_t) ctx = cor_tctx_new();
    cor_tval_t *page = make_page(ctx);
    g_autoptr(cor_tmpl_set_t) set = cor_tmpl_set_new();
    const char *t = "text {{title}} {{#yes}}{{>nope.html}}{{/yes}}";
    g_assert_cmpint(cor_tmpl_set_add(set, "t", t, strlen(t), NULL, NULL), ==, COR_OK);
    const char *lazy = "{{#no}}{{>nope.html}}{{/no}}ok";   /* never reached: fine */
    g_assert_cmpint(cor_tmpl_set_add(set, "lazy", lazy, strlen(lazy), NULL, NULL), ==, COR_OK);

    g_autoptr(GString) out = g_string_new("before|");
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_tmpl_render(set, "t", page, out, &err), ==, COR_ERR_NOT_FOUND);
    g_assert_cmpstr(err, ==, "no template 'nope.html'");
    g_assert_cmpstr(out->str, ==, "before|");           /* the partial output is taken back */
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(cor_tmpl_render(set, "missing", page, out, &err), ==, COR_ERR_NOT_FOUND);
    g_assert_cmpstr(err, ==, "no template 'missing'");
    g_assert_cmpint(cor_tmpl_render(set, "lazy", page, out, NULL), ==, COR_OK);
    g_assert_cmpstr(out->str, ==, "before|ok");
}

/* ---- add_dir ------------------------------------------------------------------ */

static void
write_file(const char *dir, const char *name, const char *text)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(g_file_set_contents(path, text, -1, &error));
}

/* Removes `dir` with its files and empty subfolders (one level). */
static void
remove_dir(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    for (const char *n; (n = g_dir_read_name(d)) != NULL;) {
        g_autofree char *path = g_build_filename(dir, n, NULL);
        g_assert_cmpint(g_remove(path), ==, 0);
    }
    g_dir_close(d);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void
test_add_dir(void)
{
    g_autofree char *dir = g_dir_make_tmp("test-template-XXXXXX", NULL);
    g_assert_nonnull(dir);
    g_autoptr(cor_tmpl_set_t) set = cor_tmpl_set_new();
    const char *builtin = "built-in {{>footer.txt}}";
    g_assert_cmpint(cor_tmpl_set_add(set, "page.html", builtin, strlen(builtin),
                                     "built-in page.html", NULL), ==, COR_OK);
    g_assert_cmpint(cor_tmpl_set_add(set, "footer.txt", "F", 1, NULL, NULL), ==, COR_OK);
    write_file(dir, "page.html", "council {{title}} {{>footer.txt}} {{>feed.xml}}");
    write_file(dir, "feed.xml", "<feed/>");
    write_file(dir, "notes.md", "{{#broken");                /* other names are ignored */
    write_file(dir, "page.html~", "{{#broken");
    g_autofree char *sub = g_build_filename(dir, "sub.html", NULL);
    g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);              /* not a regular file */

    g_autofree char *err = NULL;
    g_assert_cmpint(cor_tmpl_set_add_dir(set, dir, &err), ==, COR_OK);
    g_assert_cmpstr(err, ==, NULL);
    g_assert_true(cor_tmpl_set_has(set, "feed.xml"));
    g_assert_false(cor_tmpl_set_has(set, "notes.md"));
    g_assert_false(cor_tmpl_set_has(set, "sub.html"));
    g_autoptr(cor_tctx_t) ctx = cor_tctx_new();
    cor_tval_t *o = cor_tval_object(ctx);
    cor_tval_set_str(ctx, o, "title", "A&B");
    g_autoptr(GString) out = g_string_new(NULL);
    g_assert_cmpint(cor_tmpl_render(set, "page.html", o, out, NULL), ==, COR_OK);
    g_assert_cmpstr(out->str, ==, "council A&amp;B F <feed/>");

    /* a syntax error names path:line; nothing of that folder is taken */
    write_file(dir, "a.txt", "new a");
    write_file(dir, "footer.txt", "ok\n{{#x}}\n{{/y}}\n");
    g_assert_cmpint(cor_tmpl_set_add_dir(set, dir, &err), ==, COR_ERR_FORMAT);
    g_autofree char *path = g_build_filename(dir, "footer.txt", NULL);
    g_autofree char *want = g_strdup_printf("%s:3: '{{/y}}' does not close section 'x' opened "
                                            "on line 2", path);
    g_assert_cmpstr(err, ==, want);
    g_assert_false(cor_tmpl_set_has(set, "a.txt"));
    g_string_truncate(out, 0);
    g_assert_cmpint(cor_tmpl_render(set, "footer.txt", o, out, NULL), ==, COR_OK);
    g_assert_cmpstr(out->str, ==, "F");
    remove_dir(dir);

    /* a folder that cannot be read */
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(cor_tmpl_set_add_dir(set, dir, &err), ==, COR_ERR_IO);
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err, dir));
}

/* ---- scale, determinism, threads ------------------------------------------------ */

static void
test_big_list(void)
{
    g_autoptr(cor_tctx_t) ctx = cor_tctx_new();
    cor_tval_t *page = cor_tval_object(ctx);
    cor_tval_set_str(ctx, page, "site", "S");
    cor_tval_t *list = cor_tval_set_list(ctx, page, "msgs");
    g_autoptr(GString) want = g_string_new("<ol>\n");
    for (int i = 0; i < 10000; i++) {
        cor_tval_t *m = cor_tval_list_add_object(ctx, list);
        cor_tval_set_int(ctx, m, "id", i);
        cor_tval_set_printf(ctx, m, "subject", "Re: <%d> & more", i);
        cor_tval_set_bool(ctx, m, "odd", i % 2);
        g_string_append_printf(want, "<li id=\"m%d\"%s>Re: &lt;%d&gt; &amp; more (S)</li>\n",
                               i, i % 2 ? " class=\"odd\"" : "", i);
    }
    g_string_append(want, "</ol>\n");
    g_assert_cmpuint(cor_tval_list_len(list), ==, 10000);
    const char *t = "<ol>\n{{#msgs}}\n<li id=\"m{{id}}\"{{#odd}} class=\"odd\"{{/odd}}>"
                    "{{subject}} ({{site}})</li>\n{{/msgs}}\n</ol>\n";
    g_autofree char *got = render(t, page);
    g_assert_cmpstr(got, ==, want->str);
    g_autofree char *again = render(t, page);                /* deterministic */
    g_assert_cmpstr(again, ==, got);
}

typedef struct thread_arg {
    const cor_tmpl_set_t *set;
    const char *expected;
} thread_arg_t;

static gpointer
render_thread(gpointer data)
{
    thread_arg_t *a = data;
    for (int i = 0; i < 200; i++) {
        g_autoptr(cor_tctx_t) ctx = cor_tctx_new();        /* one context per thread */
        cor_tval_t *o = cor_tval_object(ctx);
        cor_tval_t *l = cor_tval_set_list(ctx, o, "l");
        for (int j = 0; j < 50; j++)
            cor_tval_set_int(ctx, cor_tval_list_add_object(ctx, l), "v", j);
        g_autoptr(GString) out = g_string_new(NULL);
        if (cor_tmpl_render(a->set, "main", o, out, NULL) != COR_OK ||
            strcmp(out->str, a->expected) != 0)
            return GINT_TO_POINTER(1);
    }
    return GINT_TO_POINTER(0);
}

/* a compiled set is shared read-only by several threads */
static void
test_threads(void)
{
    g_autoptr(cor_tmpl_set_t) set = cor_tmpl_set_new();
    g_assert_cmpint(cor_tmpl_set_add(set, "main", "{{#l}}{{>item}}{{/l}}", 21, NULL, NULL), ==, COR_OK);
    g_assert_cmpint(cor_tmpl_set_add(set, "item", "{{v}},", 6, NULL, NULL), ==, COR_OK);
    g_autoptr(GString) want = g_string_new(NULL);
    for (int j = 0; j < 50; j++)
        g_string_append_printf(want, "%d,", j);
    thread_arg_t arg = { set, want->str };
    GThread *threads[4];
    for (size_t i = 0; i < G_N_ELEMENTS(threads); i++)
        threads[i] = g_thread_new("render", render_thread, &arg);
    for (size_t i = 0; i < G_N_ELEMENTS(threads); i++)
        g_assert_cmpint(GPOINTER_TO_INT(g_thread_join(threads[i])), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/template/escape/specials", test_escape_specials);
    g_test_add_func("/template/escape/controls", test_escape_controls);
    g_test_add_func("/template/escape/utf8", test_escape_utf8);
    g_test_add_func("/template/values/kinds", test_values);
    g_test_add_func("/template/values/ints", test_ints);
    g_test_add_func("/template/values/set-replaces", test_set_replaces);
    g_test_add_func("/template/values/many-keys", test_many_keys);
    g_test_add_func("/template/values/setters", test_setters);
    g_test_add_func("/template/values/arena-big", test_arena_big_values);
    g_test_add_func("/template/tags/sections", test_sections);
    g_test_add_func("/template/tags/inverted", test_inverted);
    g_test_add_func("/template/tags/nested-lists", test_nested_lists);
    g_test_add_func("/template/tags/dotted-paths", test_dotted_paths);
    g_test_add_func("/template/tags/dot", test_dot);
    g_test_add_func("/template/tags/comments-spaces", test_comments_and_spaces);
    g_test_add_func("/template/tags/standalone", test_standalone);
    g_test_add_func("/template/compile/errors", test_compile_errors);
    g_test_add_func("/template/compile/add-replaces", test_add_replaces);
    g_test_add_func("/template/partials/render", test_partials);
    g_test_add_func("/template/partials/recursion-cut", test_partial_recursion_cut);
    g_test_add_func("/template/partials/not-found", test_not_found);
    g_test_add_func("/template/add-dir", test_add_dir);
    g_test_add_func("/template/scale/big-list", test_big_list);
    g_test_add_func("/template/scale/threads", test_threads);
    return g_test_run();
}
