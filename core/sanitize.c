/* core/sanitize.c — HTML mail made safe to show in a page (see sanitize.h).
 *
 * Three steps, none of them a regex over markup:
 *
 *   1. Input clean-up, only when needed (a fast check first): NUL bytes go,
 *      invalid UTF-8 becomes U+FFFD (libxml2 would otherwise switch the rest
 *      of the document to Latin-1), and Outlook's "downlevel-revealed"
 *      conditionals <![if !mso]> / <![endif]> go, as a browser drops them
 *      (as bogus comments); libxml2 would show them as text.  Nothing here
 *      matters for safety: whatever the parser makes of the bytes, step 3
 *      writes only what the allow-list names.
 *   2. libxml2's HTML parser builds a tree (HTML_PARSE_RECOVER: it never
 *      refuses; NONET; IGNORE_ENC: the input is UTF-8 whatever a <meta>
 *      says).  Not NOIMPLIED: with it, a <title> swallows the body.  One
 *      quirk stays: text before any element gets an implied <p>.  Not
 *      XML_PARSE_HUGE: libxml2 then stops at 256 levels of nesting (what
 *      lies deeper is lost, the output stays balanced); without that limit
 *      every end tag searches the whole open-element stack, and 40,000
 *      <div>s then 40,000 </span>s take seconds.
 *   3. One iterative walk (no recursion: its stack use does not depend on
 *      libxml2's depth limit) writes a new fragment.  Every text node
 *      and attribute value goes through put_escaped(); every written element
 *      is closed when its node is left, so the output is balanced whatever
 *      the input was.  libxml2's serialiser is not used.
 *
 * Balanced is not enough: a browser's HTML parser closes or moves some
 * elements by itself, and an end tag of ours that no longer matches could
 * then close an element of the page around the fragment.  The cases:
 *   - <li> closes an open <li> even through <div>s, <dd>/<dt> likewise:
 *     li is written only directly inside ul/ol, dd/dt only inside dl, so
 *     the browser's search stops at the list at once;
 *   - table parts outside their table are ignored by a browser, but inside a
 *     page's own table cell "</td>" would close the page's cell, and a
 *     <table> straight inside a table closes the outer table: table parts
 *     are written only where they belong (td/th in tr or, with implied rows,
 *     in table/thead/tbody/tfoot; tr in table or a section; caption,
 *     colgroup, sections in table; col in colgroup or table), and inside
 *     table/section/tr only table parts are written (other elements are
 *     unwrapped; their text stays and a browser shows it before the table);
 *     inside colgroup only col (text there is dropped);
 *   - nested links, nested headings, a <p> in a <p> (libxml2 reads Word's
 *     <o:p> as <p>) are unwrapped: a browser would split them.
 * libxml2 2.9 does not know HTML5's void elements embed, source, track and
 * keygen: it nests what follows them inside them.  They are not written,
 * and their "children" are walked as the siblings they are.
 * The walk keeps the kind of the innermost written element (`ctx`) and
 * counters of open a / headings / p for these checks, so each decision is
 * O(1) however deep the tree.
 */
#include "core/sanitize.h"
#include "core/template.h"

#include <glib.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <string.h>

/* What an element is, for the writer. */
enum {
    K_NONE = 0,      /* no element: the fragment's top level */
    K_DROP,          /* dropped with its content */
    K_VOID5,         /* void in HTML5 but not to libxml2: not written, and
                        what libxml2 nests in it follows it in a browser */
    K_PLAIN,         /* written, no special rule */
    K_VOID,          /* br, hr: written without content or end tag */
    K_IMG,           /* written as "[image: ALT]" text */
    K_A,
    K_HEADING,
    K_P,
    K_LIST,          /* ul ol */
    K_LI,
    K_DL,
    K_DLITEM,        /* dt dd */
    K_TABLE,
    K_CAPTION,
    K_COLGROUP,
    K_COL,           /* void */
    K_SECTION,       /* thead tbody tfoot */
    K_TR,
    K_CELL,          /* td th */
};

/* Attributes an element may keep besides dir and lang. */
enum {
    A_HREF  = 1 << 0,
    A_TITLE = 1 << 1,
    A_SPAN  = 1 << 2,   /* colspan rowspan */
    A_SCOPE = 1 << 3,
    A_START = 1 << 4,
};

typedef struct el_info {
    const char *name;
    const char *out;    /* the name written (headings shift) */
    guint8 kind;
    guint8 attrs;
} el_info_t;

/* Sorted by name for bsearch.  Elements not here are unwrapped. */
static const el_info_t elements[] = {
    { "a",          "a",          K_A,        A_HREF | A_TITLE },
    { "abbr",       "abbr",       K_PLAIN,    A_TITLE },
    { "applet",     NULL,         K_DROP,     0 },
    { "audio",      NULL,         K_DROP,     0 },
    { "b",          "b",          K_PLAIN,    0 },
    { "base",       NULL,         K_DROP,     0 },
    { "big",        "big",        K_PLAIN,    0 },
    { "blockquote", "blockquote", K_PLAIN,    0 },
    { "br",         "br",         K_VOID,     0 },
    { "button",     NULL,         K_DROP,     0 },
    { "canvas",     NULL,         K_DROP,     0 },
    { "caption",    "caption",    K_CAPTION,  0 },
    { "cite",       "cite",       K_PLAIN,    0 },
    { "code",       "code",       K_PLAIN,    0 },
    { "col",        "col",        K_COL,      0 },
    { "colgroup",   "colgroup",   K_COLGROUP, 0 },
    { "datalist",   NULL,         K_DROP,     0 },
    { "dd",         "dd",         K_DLITEM,   0 },
    { "del",        "del",        K_PLAIN,    0 },
    { "div",        "div",        K_PLAIN,    0 },
    { "dl",         "dl",         K_DL,       0 },
    { "dt",         "dt",         K_DLITEM,   0 },
    { "em",         "em",         K_PLAIN,    0 },
    { "embed",      NULL,         K_VOID5,    0 },
    { "form",       NULL,         K_DROP,     0 },
    { "frame",      NULL,         K_DROP,     0 },
    { "frameset",   NULL,         K_DROP,     0 },
    { "h1",         "h4",         K_HEADING,  0 },
    { "h2",         "h4",         K_HEADING,  0 },
    { "h3",         "h4",         K_HEADING,  0 },
    { "h4",         "h5",         K_HEADING,  0 },
    { "h5",         "h6",         K_HEADING,  0 },
    { "h6",         "h6",         K_HEADING,  0 },
    { "head",       NULL,         K_DROP,     0 },
    { "hr",         "hr",         K_VOID,     0 },
    { "i",          "i",          K_PLAIN,    0 },
    { "iframe",     NULL,         K_DROP,     0 },
    { "img",        NULL,         K_IMG,      0 },
    { "input",      NULL,         K_DROP,     0 },
    { "ins",        "ins",        K_PLAIN,    0 },
    { "kbd",        "kbd",        K_PLAIN,    0 },
    { "keygen",     NULL,         K_VOID5,    0 },
    { "li",         "li",         K_LI,       0 },
    { "link",       NULL,         K_DROP,     0 },
    { "mark",       "mark",       K_PLAIN,    0 },
    { "math",       NULL,         K_DROP,     0 },
    { "meta",       NULL,         K_DROP,     0 },
    { "noembed",    NULL,         K_DROP,     0 },
    { "noframes",   NULL,         K_DROP,     0 },
    { "noscript",   NULL,         K_DROP,     0 },
    { "object",     NULL,         K_DROP,     0 },
    { "ol",         "ol",         K_LIST,     A_START },
    { "optgroup",   NULL,         K_DROP,     0 },
    { "option",     NULL,         K_DROP,     0 },
    { "p",          "p",          K_P,        0 },
    { "param",      NULL,         K_DROP,     0 },
    { "pre",        "pre",        K_PLAIN,    0 },
    { "q",          "q",          K_PLAIN,    0 },
    { "s",          "s",          K_PLAIN,    0 },
    { "samp",       "samp",       K_PLAIN,    0 },
    { "script",     NULL,         K_DROP,     0 },
    { "select",     NULL,         K_DROP,     0 },
    { "small",      "small",      K_PLAIN,    0 },
    { "source",     NULL,         K_VOID5,    0 },
    { "span",       "span",       K_PLAIN,    0 },
    { "strike",     "strike",     K_PLAIN,    0 },
    { "strong",     "strong",     K_PLAIN,    0 },
    { "style",      NULL,         K_DROP,     0 },
    { "sub",        "sub",        K_PLAIN,    0 },
    { "sup",        "sup",        K_PLAIN,    0 },
    { "svg",        NULL,         K_DROP,     0 },
    { "table",      "table",      K_TABLE,    0 },
    { "tbody",      "tbody",      K_SECTION,  0 },
    { "td",         "td",         K_CELL,     A_SPAN },
    { "template",   NULL,         K_DROP,     0 },
    { "textarea",   NULL,         K_DROP,     0 },
    { "tfoot",      "tfoot",      K_SECTION,  0 },
    { "th",         "th",         K_CELL,     A_SPAN | A_SCOPE },
    { "thead",      "thead",      K_SECTION,  0 },
    { "title",      NULL,         K_DROP,     0 },
    { "tr",         "tr",         K_TR,       0 },
    { "track",      NULL,         K_VOID5,    0 },
    { "tt",         "tt",         K_PLAIN,    0 },
    { "u",          "u",          K_PLAIN,    0 },
    { "ul",         "ul",         K_LIST,     0 },
    { "video",      NULL,         K_DROP,     0 },
    { "xml",        NULL,         K_DROP,     0 },
};

G_STATIC_ASSERT(G_N_ELEMENTS(elements) < 255);

static int
el_cmp(const void *key, const void *elem)
{
    return strcmp((const char *) key, ((const el_info_t *) elem)->name);
}

static const el_info_t *
el_lookup(const char *name)
{
    return bsearch(name, elements, G_N_ELEMENTS(elements), sizeof elements[0], el_cmp);
}

/* One element entered by the walk (written or unwrapped). */
typedef struct open_el {
    guint8 written;     /* index in elements + 1; 0: not written */
    guint8 saved_ctx;   /* ctx before this element */
    guint32 saved_p;    /* cells: in_p before */
} open_el_t;

typedef struct san {
    GString *out;
    GArray *open;       /* open_el_t */
    guint8 ctx;         /* kind of the innermost written element */
    guint32 in_a, in_heading, in_p;
} san_t;

/* ---- output ------------------------------------------------------------- */

/* The one way text and attribute values reach the output is the template
 * engine's escaper, cor_escape_html (core/template.h): & < > " ' as
 * entities, control characters dropped except tab and newline.  CR LF and a
 * lone CR were made newlines before parsing (clean_input). */
static inline void
put_escaped(GString *out, const char *s, size_t n)
{
    cor_escape_html(out, s, (gssize) n);
}

static void
put_attr(GString *out, const char *name, const char *value)
{
    g_string_append_c(out, ' ');
    g_string_append(out, name);
    g_string_append_len(out, "=\"", 2);
    put_escaped(out, value, strlen(value));
    g_string_append_c(out, '"');
}

/* ---- attributes --------------------------------------------------------- */

/* The value of attribute `a`; *tofree is set when it had to be built. */
static const char *
attr_value(const xmlNode *node, const xmlAttr *a, xmlChar **tofree)
{
    *tofree = NULL;
    if (!a->children)
        return "";
    if (a->children->type == XML_TEXT_NODE && !a->children->next)
        return a->children->content ? (const char *) a->children->content : "";
    *tofree = xmlNodeListGetString(node->doc, a->children, 1);
    return *tofree ? (const char *) *tofree : "";
}

static const xmlAttr *
find_attr(const xmlNode *node, const char *name)
{
    for (const xmlAttr *a = node->properties; a; a = a->next) {
        if (a->name && g_ascii_strcasecmp((const char *) a->name, name) == 0)
            return a;
    }
    return NULL;
}

static bool
all_digits(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++) {
        if (!g_ascii_isdigit(s[n]))
            return false;
    }
    return n > 0 && n <= max;
}

static bool
valid_lang(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        if (!g_ascii_isalnum(*s) && *s != '-')
            return false;
    }
    return true;
}

/* The value written for `value` if it is one of `allowed` (ASCII, case
 * insensitive), else NULL. */
static const char *
one_of(const char *value, const char *const *allowed)
{
    for (; *allowed; allowed++) {
        if (g_ascii_strcasecmp(value, *allowed) == 0)
            return *allowed;
    }
    return NULL;
}

/* The href to write for `raw`, or NULL (transfer full).  ASCII control
 * characters go (a browser drops tab and newline inside a URL, so
 * "java\tscript:" is javascript:), then spaces around; what is left must be
 * http:, https:, mailto: or a fragment. */
static char *
clean_href(const char *raw)
{
    size_t n = strlen(raw);
    char *s = g_malloc(n + 1), *w = s;
    for (const char *p = raw; *p; p++) {
        unsigned char c = (unsigned char) *p;
        if (c >= 0x20 && c != 0x7F)
            *w++ = (char) c;
    }
    *w = '\0';
    char *start = s;
    while (*start == ' ')
        start++;
    while (w > start && w[-1] == ' ')
        *--w = '\0';
    if (start[0] == '#' ||
        g_ascii_strncasecmp(start, "http:", 5) == 0 ||
        g_ascii_strncasecmp(start, "https:", 6) == 0 ||
        g_ascii_strncasecmp(start, "mailto:", 7) == 0) {
        if (start != s)
            memmove(s, start, strlen(start) + 1);
        return s;
    }
    g_free(s);
    return NULL;
}

static const char *const dir_values[] = { "ltr", "rtl", "auto", NULL };
static const char *const scope_values[] = { "row", "col", "rowgroup", "colgroup", NULL };

/* Writes the start tag of `node` as `e`, with the attributes it may keep. */
static void
write_start(san_t *s, const xmlNode *node, const el_info_t *e, const char *href)
{
    enum { S_DIR = 1, S_LANG = 2, S_TITLE = 4, S_COLSPAN = 8, S_ROWSPAN = 16,
           S_SCOPE = 32, S_START = 64 };
    GString *out = s->out;
    unsigned seen = 0;

    g_string_append_c(out, '<');
    g_string_append(out, e->out);
    if (href)
        put_attr(out, "href", href);
    for (const xmlAttr *a = node->properties; a; a = a->next) {
        const char *name = (const char *) a->name;
        unsigned bit;
        if (!name)
            continue;
        /* the name is written as the table spells it, not as the mail did */
        if (g_ascii_strcasecmp(name, "dir") == 0)
            bit = S_DIR, name = "dir";
        else if (g_ascii_strcasecmp(name, "lang") == 0)
            bit = S_LANG, name = "lang";
        else if ((e->attrs & A_TITLE) && g_ascii_strcasecmp(name, "title") == 0)
            bit = S_TITLE, name = "title";
        else if ((e->attrs & A_SPAN) && g_ascii_strcasecmp(name, "colspan") == 0)
            bit = S_COLSPAN, name = "colspan";
        else if ((e->attrs & A_SPAN) && g_ascii_strcasecmp(name, "rowspan") == 0)
            bit = S_ROWSPAN, name = "rowspan";
        else if ((e->attrs & A_SCOPE) && g_ascii_strcasecmp(name, "scope") == 0)
            bit = S_SCOPE, name = "scope";
        else if ((e->attrs & A_START) && g_ascii_strcasecmp(name, "start") == 0)
            bit = S_START, name = "start";
        else
            continue;
        if (seen & bit)
            continue;

        xmlChar *tofree = NULL;
        const char *v = attr_value(node, a, &tofree);
        const char *write = NULL;
        switch (bit) {
        case S_DIR:     write = one_of(v, dir_values); break;
        case S_SCOPE:   write = one_of(v, scope_values); break;
        case S_LANG:    write = valid_lang(v) ? v : NULL; break;
        case S_TITLE:   write = v; break;
        case S_COLSPAN:
        case S_ROWSPAN: write = all_digits(v, 3) ? v : NULL; break;
        case S_START:   write = all_digits(v, SIZE_MAX) ? v : NULL; break;
        }
        if (write) {
            put_attr(out, name, write);
            seen |= bit;
        }
        xmlFree(tofree);
    }
    if (href)
        g_string_append(out, " rel=\"noopener noreferrer nofollow\"");
    g_string_append_c(out, '>');
}

/* ---- the walk ----------------------------------------------------------- */

/* Whether an element of `kind` may be written where the innermost written
 * element is of kind `ctx` (see the notes at the top). */
static bool
fits(const san_t *s, guint8 kind)
{
    switch (s->ctx) {
    case K_TABLE:
        return kind == K_CAPTION || kind == K_COLGROUP || kind == K_COL ||
               kind == K_SECTION || kind == K_TR || kind == K_CELL;
    case K_SECTION:
        return kind == K_TR || kind == K_CELL;
    case K_TR:
        return kind == K_CELL;
    case K_COLGROUP:
        return kind == K_COL;
    default:
        break;
    }
    switch (kind) {
    case K_CAPTION: case K_COLGROUP: case K_COL: case K_SECTION: case K_TR: case K_CELL:
        return false;
    case K_LI:
        return s->ctx == K_LIST;
    case K_DLITEM:
        return s->ctx == K_DL;
    case K_A:
        return s->in_a == 0;
    case K_HEADING:
        return s->in_heading == 0;
    case K_P:
        return s->in_p == 0;
    default:
        return true;
    }
}

static void
write_image(san_t *s, const xmlNode *node)
{
    const xmlAttr *a = find_attr(node, "alt");
    xmlChar *tofree = NULL;
    const char *alt = a ? attr_value(node, a, &tofree) : "";
    size_t n = strlen(alt);

    while (n > 0 && g_ascii_isspace(*alt)) {
        alt++;
        n--;
    }
    while (n > 0 && g_ascii_isspace(alt[n - 1]))
        n--;
    if (n > 0) {
        g_string_append_len(s->out, "[image: ", 8);
        put_escaped(s->out, alt, n);
        g_string_append_c(s->out, ']');
    } else {
        g_string_append_len(s->out, "[image]", 7);
    }
    xmlFree(tofree);
}

/* Returns whether to walk the children of `node` (then leave() follows). */
static bool
enter(san_t *s, const xmlNode *node)
{
    if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
        if (node->content && s->ctx != K_COLGROUP)
            put_escaped(s->out, (const char *) node->content, strlen((const char *) node->content));
        return false;
    }
    if (node->type != XML_ELEMENT_NODE || !node->name)
        return false;     /* comments, PIs, DTDs... */

    const el_info_t *e = el_lookup((const char *) node->name);
    guint8 kind = e ? e->kind : K_PLAIN;
    if (kind == K_DROP)
        return false;
    if (kind == K_VOID5)
        e = NULL;       /* unwrapped */
    if (kind == K_IMG) {
        if (s->ctx != K_COLGROUP)
            write_image(s, node);
        return false;
    }
    if (kind == K_VOID || kind == K_COL) {
        if (fits(s, kind))
            write_start(s, node, e, NULL);
        return false;
    }

    open_el_t o = { .saved_ctx = s->ctx, .saved_p = s->in_p };
    char *href = NULL;
    bool write = e && fits(s, kind);
    if (write && kind == K_A) {
        const xmlAttr *a = find_attr(node, "href");
        if (a) {
            xmlChar *tofree = NULL;
            href = clean_href(attr_value(node, a, &tofree));
            xmlFree(tofree);
        }
        write = href != NULL;
    }
    if (write) {
        write_start(s, node, e, href);
        o.written = (guint8) (e - elements + 1);
        s->ctx = kind;
        switch (kind) {
        case K_A:       s->in_a++; break;
        case K_HEADING: s->in_heading++; break;
        case K_P:       s->in_p++; break;
        case K_CELL:
        case K_CAPTION: s->in_p = 0; break;
        default:        break;
        }
    }
    g_free(href);
    g_array_append_val(s->open, o);
    return true;
}

static void
leave(san_t *s)
{
    g_assert(s->open->len > 0);
    open_el_t *o = &g_array_index(s->open, open_el_t, s->open->len - 1);
    if (o->written) {
        const el_info_t *e = &elements[o->written - 1];
        g_string_append_len(s->out, "</", 2);
        g_string_append(s->out, e->out);
        g_string_append_c(s->out, '>');
        switch (e->kind) {
        case K_A:       s->in_a--; break;
        case K_HEADING: s->in_heading--; break;
        case K_P:       s->in_p--; break;
        case K_CELL:
        case K_CAPTION: s->in_p = o->saved_p; break;
        default:        break;
        }
        s->ctx = o->saved_ctx;
    }
    g_array_set_size(s->open, s->open->len - 1);
}

/* ---- input clean-up ------------------------------------------------------ */

/* Length of a downlevel-revealed conditional ("<![if ...]>", "<![endif]>")
 * at p, or 0. */
static size_t
conditional_len(const char *p, const char *end)
{
    if (end - p < 6 || memcmp(p, "<![", 3) != 0)
        return 0;
    const char *q = p + 3;
    if (!(g_ascii_strncasecmp(q, "if", 2) == 0 && (q[2] == ' ' || q[2] == '!' || q[2] == '(')) &&
        !(end - q >= 6 && g_ascii_strncasecmp(q, "endif]", 6) == 0))
        return 0;
    const char *gt = memchr(q, '>', (size_t) (end - q));
    if (!gt || gt[-1] != ']' || gt - p > 200)
        return 0;
    return (size_t) (gt + 1 - p);
}

/* The input as libxml2 should see it, or NULL when it is fine as it is
 * (transfer full; *outlen set). */
static char *
clean_input(const char *html, size_t len, size_t *outlen)
{
    const char *end = html + len;
    if (g_utf8_validate_len(html, len, NULL) && !memmem(html, len, "<![", 3) &&
        !memchr(html, '\r', len))
        return NULL;

    GString *out = g_string_sized_new(len + 16);
    const char *p = html;
    while (p < end) {
        unsigned char c = (unsigned char) *p;
        if (c == '\0') {
            p++;
        } else if (c == '\r') {
            /* CR LF and a lone CR are one newline, as a browser reads them */
            g_string_append_c(out, '\n');
            p += (p + 1 < end && p[1] == '\n') ? 2 : 1;
        } else if (c == '<') {
            size_t n = conditional_len(p, end);
            if (n == 0) {
                g_string_append_c(out, '<');
                n = 1;
            }
            p += n;
        } else if (c < 0x80) {
            const char *q = p + 1;
            while (q < end && (unsigned char) *q < 0x80 && *q != '\0' && *q != '<' && *q != '\r')
                q++;
            g_string_append_len(out, p, q - p);
            p = q;
        } else {
            int n = g_utf8_skip[c];
            gunichar u = end - p >= n ? g_utf8_get_char_validated(p, n) : (gunichar) -1;
            if (u == (gunichar) -1 || u == (gunichar) -2) {
                g_string_append_len(out, "\xEF\xBF\xBD", 3);
                p++;
            } else {
                g_string_append_len(out, p, n);
                p += n;
            }
        }
    }
    *outlen = out->len;
    return g_string_free(out, FALSE);
}

/* ---- entry point ---------------------------------------------------------- */

char *
cor_sanitize_html(const char *html, size_t len)
{
    if (!html || len == 0)
        return g_strdup("");

    size_t clen = 0;
    char *cleaned = clean_input(html, len, &clen);
    if (cleaned) {
        html = cleaned;
        len = clen;
    }
    if (len > G_MAXINT)
        len = G_MAXINT;

    htmlDocPtr doc = NULL;
    if (len > 0)
        doc = htmlReadMemory(html, (int) len, NULL, "UTF-8",
                             HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                             HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                             HTML_PARSE_IGNORE_ENC);
    san_t s = {
        .out = g_string_sized_new(len + 64),
        .open = g_array_new(FALSE, FALSE, sizeof(open_el_t)),
        .ctx = K_NONE,
    };
    if (doc) {
        xmlNode *node = doc->children;
        while (node) {
            bool descend = enter(&s, node);
            if (descend && node->children) {
                node = node->children;
                continue;
            }
            if (descend)
                leave(&s);
            while (node && !node->next) {
                node = node->parent;
                if (!node || node == (xmlNode *) doc) {
                    node = NULL;
                    break;
                }
                leave(&s);
            }
            if (node)
                node = node->next;
        }
        xmlFreeDoc(doc);
    }
    g_assert(s.open->len == 0);
    g_array_free(s.open, TRUE);
    g_free(cleaned);

    /* white space around the fragment means nothing */
    GString *out = s.out;
    size_t a = 0, b = out->len;
    while (a < b && g_ascii_isspace(out->str[a]))
        a++;
    while (b > a && g_ascii_isspace(out->str[b - 1]))
        b--;
    if (a > 0 || b < out->len) {
        g_string_truncate(out, b);
        g_string_erase(out, 0, (gssize) a);
    }

    char *result = g_string_free(out, FALSE);
    if (!g_utf8_validate(result, -1, NULL)) {
        /* libxml2 emits UTF-8 and the input was made valid: a safety net */
        char *v = g_utf8_make_valid(result, -1);
        g_free(result);
        result = v;
    }
    return result;
}
