/* fuzz/fuzz-sanitize.c — HTML mail made safe to show (core/sanitize.h).
 *
 * Input: the HTML of a mail part (UTF-8 or not).
 *
 * The output is read back with a strict tokenizer of its own (the output
 * is written from a tree, so it is regular: every '<' starts a tag, every
 * attribute value is double-quoted and escaped) and checked against the
 * allow-list of sanitize.h:
 *   1. never NULL, valid UTF-8; no '<' outside a tag, none inside an
 *      attribute value;
 *   2. only allowed elements (h1..h3 never: headings are shifted to
 *      h4..h6), each closed in order (balanced), void ones (br hr col) not
 *      closed;
 *   3. only allowed attributes for the element: a@href|title|rel,
 *      td/th@colspan|rowspan (1-3 digits), th@scope (row|col|rowgroup|colgroup),
 *      ol@start (digits), abbr@title, *@dir (ltr|rtl|auto), *@lang
 *      (letters, digits, '-'); no img at all (images become text);
 *   4. an href is "#..." or http:, https:, mailto: (any case), and every
 *      kept link has rel="noopener noreferrer nofollow";
 *   5. sanitising the output again keeps it within the allow-list as well
 *      (checked on the second pass with the same rules).
 */
#include "fuzz/fuzz.h"

#include "core/message.h"
#include "core/sanitize.h"

static const char *const allowed[] = {
    "p", "br", "hr", "div", "span", "blockquote", "pre", "code", "tt", "kbd", "samp", "q",
    "cite", "b", "strong", "i", "em", "u", "s", "strike", "sub", "sup", "small", "big", "mark",
    "abbr", "del", "ins", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "table",
    "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "colgroup", "col", "a",
};
static const char *const void_elements[] = { "br", "hr", "col" };

static bool
in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static bool
all_digits(const char *v, size_t max)
{
    size_t n = strlen(v);
    if (n == 0 || (max && n > max))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isdigit(v[i]))
            return false;
    return true;
}

/* Is attribute `attr`="value" (value still escaped) allowed on `el`? */
static bool
attr_allowed(const char *el, const char *attr, const char *value)
{
    if (strcmp(attr, "dir") == 0)
        return strcmp(value, "ltr") == 0 || strcmp(value, "rtl") == 0 || strcmp(value, "auto") == 0;
    if (strcmp(attr, "lang") == 0) {
        for (const char *p = value; *p; p++)
            if (!g_ascii_isalnum(*p) && *p != '-')
                return false;
        return *value != '\0';
    }
    if (strcmp(el, "a") == 0) {
        if (strcmp(attr, "title") == 0)
            return true;
        if (strcmp(attr, "rel") == 0)
            return strcmp(value, "noopener noreferrer nofollow") == 0;
        if (strcmp(attr, "href") == 0)
            return value[0] == '#' || g_ascii_strncasecmp(value, "http:", 5) == 0 ||
                   g_ascii_strncasecmp(value, "https:", 6) == 0 ||
                   g_ascii_strncasecmp(value, "mailto:", 7) == 0;
        return false;
    }
    if (strcmp(el, "td") == 0 || strcmp(el, "th") == 0) {
        if (strcmp(attr, "colspan") == 0 || strcmp(attr, "rowspan") == 0)
            return all_digits(value, 3);
        if (strcmp(el, "th") == 0 && strcmp(attr, "scope") == 0)
            return strcmp(value, "row") == 0 || strcmp(value, "col") == 0 ||
                   strcmp(value, "rowgroup") == 0 || strcmp(value, "colgroup") == 0;
        return false;
    }
    if (strcmp(el, "ol") == 0 && strcmp(attr, "start") == 0)
        return all_digits(value, 0);
    if (strcmp(el, "abbr") == 0 && strcmp(attr, "title") == 0)
        return true;
    return false;
}

/* Reads the output back (invariants 1-4). */
static void
check_output(const char *out)
{
    FUZZ_CHECK(out != NULL, "NULL output");
    FUZZ_CHECK(fuzz_utf8(out), "output not UTF-8");
    g_autoptr(GPtrArray) stack = g_ptr_array_new_with_free_func(g_free);
    const char *p = out;
    while (*p) {
        if (*p != '<') {
            p++;
            continue;
        }
        p++;
        bool closing = *p == '/';
        if (closing)
            p++;
        const char *ns = p;
        while (g_ascii_isalnum(*p))
            p++;
        g_autofree char *name = g_strndup(ns, (gsize) (p - ns));
        FUZZ_CHECK(*name, "'<' outside a tag: %.60s", ns - 1 - closing);
        FUZZ_CHECK(in_list(name, allowed, G_N_ELEMENTS(allowed)), "element <%s> not allowed", name);
        if (closing) {
            FUZZ_CHECK(*p == '>', "bad closing tag </%s", name);
            p++;
            FUZZ_CHECK(stack->len > 0 && strcmp(stack->pdata[stack->len - 1], name) == 0,
                       "</%s> closes %s", name,
                       stack->len ? (const char *) stack->pdata[stack->len - 1] : "nothing");
            g_ptr_array_remove_index(stack, stack->len - 1);
            continue;
        }
        bool has_href = false, has_rel = false;
        while (*p == ' ') {
            p++;
            const char *as = p;
            while (g_ascii_isalnum(*p) || *p == '-')
                p++;
            g_autofree char *attr = g_strndup(as, (gsize) (p - as));
            FUZZ_CHECK(p[0] == '=' && p[1] == '"', "attribute '%s' of <%s> not quoted", attr, name);
            p += 2;
            const char *vs = p;
            while (*p && *p != '"') {
                FUZZ_CHECK(*p != '<' && *p != '>', "raw '%c' in attribute %s of <%s>", *p, attr, name);
                p++;
            }
            FUZZ_CHECK(*p == '"', "unterminated attribute %s of <%s>", attr, name);
            g_autofree char *value = g_strndup(vs, (gsize) (p - vs));
            p++;
            FUZZ_CHECK(attr_allowed(name, attr, value), "<%s %s=\"%s\"> not allowed", name, attr,
                       value);
            has_href |= strcmp(attr, "href") == 0;
            has_rel |= strcmp(attr, "rel") == 0;
        }
        if (*p == '/')
            p++;
        FUZZ_CHECK(*p == '>', "bad tag <%s: %.40s", name, p);
        p++;
        if (strcmp(name, "a") == 0)
            FUZZ_CHECK(has_href == has_rel, "a link without rel=\"noopener noreferrer nofollow\"");
        if (!in_list(name, void_elements, G_N_ELEMENTS(void_elements)))
            g_ptr_array_add(stack, g_steal_pointer(&name));
    }
    FUZZ_CHECK(stack->len == 0, "<%s> never closed", (const char *) stack->pdata[stack->len - 1]);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_setup();
    cor_message_init();    /* xmlInitParser, as the daemon does */
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    g_autofree char *out = cor_sanitize_html((const char *) data, size);
    check_output(out);
    g_autofree char *again = cor_sanitize_html(out, strlen(out));
    check_output(again);
    return 0;
}
