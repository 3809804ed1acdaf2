/* fuzz/fuzz-template.c — templates that escape by default (core/template.h).
 *
 * Input: byte 0 (an alignment for the escaper), then NUL-separated pieces:
 * a template text, then up to six string values.
 *
 * Checked:
 *   1. a fixed template over the values renders exactly what template.h
 *      promises: each value escaped (& < > " ' as entities, C0 controls but
 *      tab and newline dropped, CR and DEL dropped, U+FFFE/U+FFFF as
 *      U+FFFD) — compared with a reference escaper written from that text
 *      when the value is valid UTF-8; otherwise the output is valid UTF-8
 *      with no raw < > " ' and no control but tab and newline;
 *   2. the fuzzed template either compiles or fails with COR_ERR_FORMAT and
 *      "ORIGIN:LINE: ..." (the line within the text); when it compiles it
 *      renders (COR_OK, or COR_ERR_NOT_FOUND for a partial that is not in
 *      the set) deterministically, and no '<' (nor '>', '"', '\'')
 *      reaches the output that is not in the template's own text: a value
 *      can never open a tag, whatever the template does with it; only the
 *      value made with cor_tval_set_html is written as it is;
 *   3. cor_escape_html gives the same bytes whatever the alignment of the
 *      text (its SSE2 path and its byte path agree).
 */
#include "fuzz/fuzz.h"

#include "core/template.h"

#define NVALUES 6
static const char *const keys[NVALUES] = { "a", "b", "c", "d", "e", "f" };
static const char fixed[] = "[{{a}}|{{o.b}}|{{#items}}({{.}}){{/items}}|{{^none}}N{{/none}}]\n";
static const char html_value[] = "<b>safe</b>";

/* The escaping template.h describes, for valid UTF-8 (reference). */
static void
reference_escape(GString *out, const char *s)
{
    for (const char *p = s; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        switch (c) {
        case '&': g_string_append(out, "&amp;"); break;
        case '<': g_string_append(out, "&lt;"); break;
        case '>': g_string_append(out, "&gt;"); break;
        case '"': g_string_append(out, "&quot;"); break;
        case '\'': g_string_append(out, "&#39;"); break;
        case 0xfffe:
        case 0xffff: g_string_append(out, "\xef\xbf\xbd"); break;
        default:
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                break;
            g_string_append_len(out, p, g_utf8_next_char(p) - p);
        }
    }
}

static void
check_clean(const char *what, const char *s, size_t len)
{
    FUZZ_CHECK(g_utf8_validate(s, (gssize) len, NULL), "%s not UTF-8", what);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];
        FUZZ_CHECK(c != '<' && c != '>' && c != '"' && c != '\'', "raw '%c' in %s", c, what);
        FUZZ_CHECK((c >= 0x20 && c != 0x7f) || c == '\t' || c == '\n', "control 0x%02x in %s", c, what);
    }
}

static cor_tval_t *
make_scope(cor_tctx_t *ctx, char **values, size_t n)
{
    cor_tval_t *page = cor_tval_object(ctx);
    cor_tval_t *o = cor_tval_set_object(ctx, page, "o");
    cor_tval_t *items = cor_tval_set_list(ctx, page, "items");
    for (size_t i = 0; i < NVALUES; i++) {
        const char *v = i < n ? values[i] : "";
        cor_tval_set_str(ctx, page, keys[i], v);
        cor_tval_set_str(ctx, o, keys[i], v);
        if (i < n)
            cor_tval_list_add_str(ctx, items, v);
    }
    cor_tval_t *people = cor_tval_set_list(ctx, page, "people");
    for (size_t i = 0; i < n; i++)
        cor_tval_set_str(ctx, cor_tval_list_add_object(ctx, people), "name", values[i]);
    cor_tval_set_html(ctx, page, "h", html_value);
    cor_tval_set_int(ctx, page, "n", (int64_t) n - 3);
    cor_tval_set_bool(ctx, page, "t", n > 2);
    cor_tval_set_list(ctx, page, "none");
    return page;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_setup();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    unsigned align = data[0] % 16;
    char *pieces[1 + NVALUES];
    size_t lens[1 + NVALUES];
    size_t n = fuzz_split(data + 1, size - 1, '\0', 1 + NVALUES, pieces, lens);
    const char *text = pieces[0];
    char **values = pieces + 1;
    size_t nv = n - 1;
    for (size_t i = 1; i < n; i++)      /* the last piece may hold NULs: values are strings */
        lens[i] = strlen(pieces[i]);

    /* 3: the escaper at every alignment agrees with itself */
    for (size_t i = 0; i < nv; i++) {
        g_autoptr(GString) plain = g_string_new(NULL);
        cor_escape_html(plain, values[i], (gssize) lens[i + 1]);
        g_autofree char *pad = g_strnfill(align, 'x');
        g_autofree char *padded = g_strconcat(pad, values[i], NULL);
        g_autoptr(GString) shifted = g_string_new(NULL);
        cor_escape_html(shifted, padded, -1);
        FUZZ_CHECK(shifted->len == align + plain->len && memcmp(shifted->str + align, plain->str, plain->len) == 0,
                   "escaping value %zu depends on its alignment (%u)", i, align);
        if (g_utf8_validate(values[i], (gssize) lens[i + 1], NULL)) {
            g_autoptr(GString) want = g_string_new(NULL);
            reference_escape(want, values[i]);
            FUZZ_CHECK(strcmp(want->str, plain->str) == 0, "value %zu escaped as '%s', want '%s'", i,
                       plain->str, want->str);
        }
        check_clean("an escaped value", plain->str, plain->len);
    }

    g_autoptr(cor_tmpl_set_t) set = cor_tmpl_set_new();
    g_autofree char *err = NULL;
    FUZZ_CHECK(cor_tmpl_set_add(set, "fixed", fixed, strlen(fixed), "built-in fixed", &err) == COR_OK,
               "fixed template: %s", err);
    g_autoptr(cor_tctx_t) ctx = cor_tctx_new();
    cor_tval_t *scope = make_scope(ctx, values, nv);

    /* 1: the fixed template */
    g_autoptr(GString) out = g_string_new(NULL);
    FUZZ_CHECK(cor_tmpl_render(set, "fixed", scope, out, &err) == COR_OK, "render: %s", err);
    bool valid = true;
    for (size_t i = 0; i < nv; i++)
        valid &= g_utf8_validate(values[i], (gssize) lens[i + 1], NULL);
    if (valid) {
        g_autoptr(GString) want = g_string_new("[");
        reference_escape(want, nv > 0 ? values[0] : "");
        g_string_append_c(want, '|');
        reference_escape(want, nv > 1 ? values[1] : "");
        g_string_append_c(want, '|');
        for (size_t i = 0; i < nv; i++) {
            g_string_append_c(want, '(');
            reference_escape(want, values[i]);
            g_string_append_c(want, ')');
        }
        g_string_append(want, "|N]\n");
        FUZZ_CHECK(strcmp(out->str, want->str) == 0, "fixed template gave '%s', want '%s'", out->str,
                   want->str);
    }
    check_clean("the fixed template's output", out->str, out->len);

    /* 2: the fuzzed template ("fuzzed text" cannot be named in a partial
     * tag, so it cannot include itself; it may include "fixed") */
    g_clear_pointer(&err, g_free);
    cor_status_t s = cor_tmpl_set_add(set, "fuzzed text", text, lens[0], "fuzz", &err);
    if (s != COR_OK) {
        FUZZ_CHECK(s == COR_ERR_FORMAT, "compile gave %s", cor_status_to_string(s));
        unsigned long line = 0;
        FUZZ_CHECK(err && sscanf(err, "fuzz:%lu: ", &line) == 1 && line >= 1, "error '%s'",
                   err ? err : "(null)");
        unsigned long lines = 1;
        for (size_t i = 0; i < lens[0]; i++)
            lines += text[i] == '\n';
        FUZZ_CHECK(line <= lines, "error on line %lu of %lu: %s", line, lines, err);
    } else {
        g_autoptr(GString) r1 = g_string_new(NULL), r2 = g_string_new(NULL);
        s = cor_tmpl_render(set, "fuzzed text", scope, r1, &err);
        if (s == COR_ERR_NOT_FOUND) {
            /* a partial that is not in the set (documented) */
            FUZZ_CHECK(err && strstr(text, "{{"), "not found without a reason");
            fuzz_pieces_free(pieces, n);
            return 0;
        }
        FUZZ_CHECK(s == COR_OK, "render gave %s: %s", cor_status_to_string(s), err ? err : "");
        cor_tmpl_render(set, "fuzzed text", scope, r2, NULL);
        FUZZ_CHECK(g_string_equal(r1, r2), "two renders differ");
        /* what only the trusted value may bring */
        g_autoptr(GString) rest = g_string_new(NULL);
        for (const char *p = r1->str; p < r1->str + r1->len;) {
            if (g_str_has_prefix(p, html_value)) {
                p += strlen(html_value);
            } else {
                g_string_append_c(rest, *p);
                p++;
            }
        }
        for (const char *c = "<>\"'"; *c; c++)
            if (!memchr(text, *c, lens[0]) && !strchr(fixed, *c))
                FUZZ_CHECK(!memchr(rest->str, *c, rest->len),
                           "'%c' from a value reached the output: template '%s', output '%s'", *c,
                           text, r1->str);
        if (g_utf8_validate(text, (gssize) lens[0], NULL))
            FUZZ_CHECK(g_utf8_validate(r1->str, (gssize) r1->len, NULL), "output not UTF-8");
    }
    fuzz_pieces_free(pieces, n);
    return 0;
}
