/* core/html_text.c — HTML mail to plain text (see html_text.h).
 *
 * libxml2 builds the tree (HTML_PARSE_RECOVER: it never refuses), then one
 * iterative walk renders it: no recursion, so a hostile document nested a
 * million levels deep cannot overflow a worker thread's stack.
 *
 * Rendering keeps a little state, like a text browser:
 *   want_nl   line breaks the block structure asks for before the next text
 *             (1 = start a new line, 2 = leave a blank line);
 *   nl_run    line breaks written since the last visible text;
 *   space     collapsed white space waiting to become one " ";
 *   quote     blockquote depth, each line gets ">" x depth + " ".
 * Newlines are written lazily, when text follows, so empty blocks leave
 * no trace and the result never starts with blank lines.
 */
#include "core/html_text.h"

#include <glib.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <string.h>

#include "core/quote.h"

enum {
    EL_SKIP  = 1 << 0,   /* drop the element and its content */
    EL_BLOCK = 1 << 1,   /* own lines */
    EL_PARA  = 1 << 2,   /* own lines with a blank line around */
    EL_BR    = 1 << 3,
    EL_HR    = 1 << 4,
    EL_LI    = 1 << 5,
    EL_OL    = 1 << 6,
    EL_A     = 1 << 7,
    EL_PRE   = 1 << 8,
    EL_BQ    = 1 << 9,
    EL_CELL  = 1 << 10,
    EL_ROW   = 1 << 11,
};

typedef struct el_info {
    const char *name;
    unsigned flags;
} el_info_t;

/* Sorted by name for bsearch. */
static const el_info_t elements[] = {
    { "a",          EL_A },
    { "address",    EL_BLOCK },
    { "applet",     EL_SKIP },
    { "article",    EL_BLOCK },
    { "aside",      EL_BLOCK },
    { "audio",      EL_SKIP },
    { "blockquote", EL_BLOCK | EL_BQ },
    { "body",       EL_BLOCK },
    { "br",         EL_BR },
    { "canvas",     EL_SKIP },
    { "caption",    EL_BLOCK },
    { "center",     EL_BLOCK },
    { "dd",         EL_BLOCK },
    { "details",    EL_BLOCK },
    { "dialog",     EL_BLOCK },
    { "dir",        EL_BLOCK },
    { "div",        EL_BLOCK },
    { "dl",         EL_BLOCK },
    { "dt",         EL_BLOCK },
    { "embed",      EL_SKIP },
    { "fieldset",   EL_BLOCK },
    { "figcaption", EL_BLOCK },
    { "figure",     EL_BLOCK },
    { "footer",     EL_BLOCK },
    { "form",       EL_BLOCK },
    { "frame",      EL_SKIP },
    { "frameset",   EL_SKIP },
    { "h1",         EL_PARA },
    { "h2",         EL_PARA },
    { "h3",         EL_PARA },
    { "h4",         EL_PARA },
    { "h5",         EL_PARA },
    { "h6",         EL_PARA },
    { "head",       EL_SKIP },
    { "header",     EL_BLOCK },
    { "hr",         EL_HR },
    { "html",       EL_BLOCK },
    { "iframe",     EL_SKIP },
    { "legend",     EL_BLOCK },
    { "li",         EL_BLOCK | EL_LI },
    { "main",       EL_BLOCK },
    { "map",        EL_SKIP },
    { "math",       EL_SKIP },
    { "menu",       EL_BLOCK },
    { "nav",        EL_BLOCK },
    { "noframes",   EL_SKIP },
    { "object",     EL_SKIP },
    { "ol",         EL_BLOCK | EL_OL },
    { "p",          EL_PARA },
    { "pre",        EL_PARA | EL_PRE },
    { "script",     EL_SKIP },
    { "section",    EL_BLOCK },
    { "select",     EL_SKIP },
    { "style",      EL_SKIP },
    { "summary",    EL_BLOCK },
    { "svg",        EL_SKIP },
    { "table",      EL_BLOCK },
    { "tbody",      EL_BLOCK },
    { "td",         EL_CELL },
    { "template",   EL_SKIP },
    { "tfoot",      EL_BLOCK },
    { "th",         EL_CELL },
    { "thead",      EL_BLOCK },
    { "title",      EL_SKIP },
    { "tr",         EL_BLOCK | EL_ROW },
    { "ul",         EL_BLOCK },
    { "video",      EL_SKIP },
    { "xml",        EL_SKIP },
    { "xmp",        EL_PARA | EL_PRE },
};

static int
el_cmp(const void *key, const void *elem)
{
    return strcmp((const char *) key, ((const el_info_t *) elem)->name);
}

static unsigned
el_flags(const char *name)
{
    const el_info_t *e = bsearch(name, elements, G_N_ELEMENTS(elements),
                                 sizeof elements[0], el_cmp);
    return e ? e->flags : 0;
}

/* One open <a> or <ol>, so that leaving it can finish its work. */
typedef struct frame {
    const xmlNode *node;
    size_t start;        /* <a>: output length when the link began */
    char *href;          /* <a>: transfer full */
    int counter;         /* <ol>: next item number */
} frame_t;

typedef struct walk {
    GString *out;
    int want_nl;
    int nl_run;
    bool at_line_start;
    bool space;
    int quote;
    int pre;
    bool split_armed;
    gssize split;        /* -1: no split point yet */
    GArray *frames;      /* frame_t */
} walk_t;

/* ---- output ----------------------------------------------------------- */

static void
end_line(walk_t *w)
{
    if (w->at_line_start) {
        if (w->nl_run >= 2)
            return;     /* at most one blank line in a row */
        for (int i = 0; i < w->quote; i++)
            g_string_append_c(w->out, '>');
    }
    while (w->out->len > 0 && w->out->str[w->out->len - 1] == ' ')
        g_string_truncate(w->out, w->out->len - 1);
    g_string_append_c(w->out, '\n');
    w->nl_run++;
    w->at_line_start = true;
    w->space = false;
}

static void
flush_newlines(walk_t *w)
{
    if (w->out->len > 0) {
        for (int i = w->nl_run; i < w->want_nl; i++)
            end_line(w);
    }
    w->want_nl = 0;
}

/* Writes visible bytes, after any pending line breaks and space. */
static void
emit(walk_t *w, const char *s, size_t n)
{
    flush_newlines(w);
    if (w->at_line_start) {
        if (w->split_armed) {
            if (w->split < 0)
                w->split = (gssize) w->out->len;
            w->split_armed = false;
        }
        for (int i = 0; i < w->quote; i++)
            g_string_append_c(w->out, '>');
        if (w->quote > 0)
            g_string_append_c(w->out, ' ');
        w->at_line_start = false;
    } else if (w->space) {
        g_string_append_c(w->out, ' ');
    }
    w->space = false;
    g_string_append_len(w->out, s, (gssize) n);
    w->nl_run = 0;
}

static void
block(walk_t *w, int n)
{
    if (w->want_nl < n)
        w->want_nl = n;
    w->space = false;
}

static bool
is_html_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void
put_text(walk_t *w, const char *s)
{
    const unsigned char *p = (const unsigned char *) s;

    while (*p) {
        if (w->pre > 0) {
            if (*p == '\r') {
                p++;
            } else if (*p == '\n') {
                flush_newlines(w);
                if (w->out->len > 0 || !w->at_line_start)
                    end_line(w);
                p++;
            } else {
                const unsigned char *q = p;
                while (*q && *q != '\n' && *q != '\r')
                    q++;
                emit(w, (const char *) p, (size_t) (q - p));
                p = q;
            }
            continue;
        }
        if (is_html_space(*p)) {
            w->space = true;
            p++;
            continue;
        }
        if (p[0] == 0xC2 && p[1] == 0xA0) {          /* &nbsp;: a space that stays */
            emit(w, " ", 1);
            p += 2;
            continue;
        }
        const unsigned char *q = p;
        while (*q && !is_html_space(*q) && !(q[0] == 0xC2 && q[1] == 0xA0))
            q++;
        emit(w, (const char *) p, (size_t) (q - p));
        p = q;
    }
}

/* ---- attributes ------------------------------------------------------- */

/* The value of attribute `name` of `node`, or NULL.  *tofree is set when
 * the value had to be built (transfer full through *tofree). */
static const char *
attr(const xmlNode *node, const char *name, xmlChar **tofree)
{
    *tofree = NULL;
    for (const xmlAttr *a = node->properties; a; a = a->next) {
        if (g_ascii_strcasecmp((const char *) a->name, name) != 0)
            continue;
        if (!a->children)
            return "";
        if (a->children->type == XML_TEXT_NODE && !a->children->next)
            return a->children->content ? (const char *) a->children->content : "";
        *tofree = xmlNodeListGetString(node->doc, a->children, 1);
        return *tofree ? (const char *) *tofree : "";
    }
    return NULL;
}

/* Case-insensitive search for `needle` (ASCII) in `hay`. */
static bool
contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++) {
        if (g_ascii_strncasecmp(p, needle, n) == 0)
            return true;
    }
    return false;
}

/* "display:none" / "display : none" / "mso-hide:all" in a style. */
static bool
style_hides(const char *style)
{
    for (const char *p = style; *p; p++) {
        const char *v = NULL;
        if (g_ascii_strncasecmp(p, "display", 7) == 0)
            v = p + 7;
        else if (g_ascii_strncasecmp(p, "mso-hide", 8) == 0)
            v = p + 8;
        else
            continue;
        while (*v == ' ' || *v == '\t')
            v++;
        if (*v != ':')
            continue;
        v++;
        while (*v == ' ' || *v == '\t')
            v++;
        if (g_ascii_strncasecmp(v, "none", 4) == 0 || g_ascii_strncasecmp(v, "all", 3) == 0)
            return true;
    }
    return false;
}

/* Whether the space-separated class list `classes` has `name`. */
static bool
has_class(const char *classes, const char *name)
{
    size_t n = strlen(name);
    const char *p = classes;
    while (*p) {
        while (*p && g_ascii_isspace(*p))
            p++;
        const char *q = p;
        while (*q && !g_ascii_isspace(*q))
            q++;
        if ((size_t) (q - p) == n && g_ascii_strncasecmp(p, name, n) == 0)
            return true;
        p = q;
    }
    return false;
}

/* The first ~200 bytes of visible text below `node`, white space collapsed,
 * into buf. */
static void
leading_text(const xmlNode *node, char *buf, size_t size)
{
    size_t len = 0;
    bool space = false;
    const xmlNode *n = node->children;

    buf[0] = '\0';
    while (n && len + 8 < size) {
        bool descend = true;
        if (n->type == XML_TEXT_NODE && n->content) {
            for (const unsigned char *p = n->content; *p && len + 8 < size; p++) {
                if (is_html_space(*p) || (p[0] == 0xC2 && p[1] == 0xA0)) {
                    if (p[0] == 0xC2)
                        p++;
                    space = len > 0;
                    continue;
                }
                if (space)
                    buf[len++] = ' ';
                space = false;
                buf[len++] = (char) *p;
            }
        } else if (n->type == XML_ELEMENT_NODE) {
            unsigned f = el_flags((const char *) n->name);
            if (f & EL_SKIP)
                descend = false;
            if (f & (EL_BLOCK | EL_PARA | EL_BR))
                space = len > 0;
        } else {
            descend = false;
        }
        if (descend && n->children) {
            n = n->children;
            continue;
        }
        while (n && n != node && !n->next)
            n = n->parent;
        if (!n || n == node)
            break;
        n = n->next;
    }
    buf[len] = '\0';
}

/* Whether entering `node` (an element with its attributes) starts the
 * original message of a reply (see html_text.h). */
static bool
is_split_container(const xmlNode *node, const char *name, const char *id,
                   const char *cls, const char *style)
{
    if (id && (g_ascii_strcasecmp(id, "divRplyFwdMsg") == 0 ||
               g_ascii_strcasecmp(id, "appendonsend") == 0 ||
               g_ascii_strcasecmp(id, "OLK_SRC_BODY_SECTION") == 0))
        return true;
    if (cls && has_class(cls, "yahoo_quoted"))
        return true;
    if (style && strcmp(name, "div") == 0 && contains_ci(style, "border-top")) {
        char buf[256];
        leading_text(node, buf, sizeof buf);
        if (cor_quote_header_field(buf, strlen(buf)) != COR_FIELD_NONE)
            return true;
    }
    return false;
}

/* ---- links ------------------------------------------------------------ */

static bool
link_worth_showing(const char *href)
{
    return g_ascii_strncasecmp(href, "http://", 7) == 0 ||
           g_ascii_strncasecmp(href, "https://", 8) == 0 ||
           g_ascii_strncasecmp(href, "ftp://", 6) == 0 ||
           g_ascii_strncasecmp(href, "mailto:", 7) == 0;
}

/* Strips the scheme, "www." and a trailing "/" for comparing a link's text
 * with its target. */
static void
link_core(const char *s, size_t n, const char **out, size_t *outn)
{
    static const char *const schemes[] = { "mailto:", "https://", "http://", "ftp://" };
    for (size_t i = 0; i < G_N_ELEMENTS(schemes); i++) {
        size_t k = strlen(schemes[i]);
        if (n >= k && g_ascii_strncasecmp(s, schemes[i], k) == 0) {
            s += k;
            n -= k;
            break;
        }
    }
    if (n >= 4 && g_ascii_strncasecmp(s, "www.", 4) == 0) {
        s += 4;
        n -= 4;
    }
    while (n > 0 && s[n - 1] == '/')
        n--;
    *out = s;
    *outn = n;
}

static void
finish_link(walk_t *w, frame_t *f)
{
    if (!f->href)
        return;
    const char *text = w->out->str + f->start;
    size_t tn = w->out->len - f->start;
    while (tn > 0 && g_ascii_isspace(*text)) {
        text++;
        tn--;
    }
    while (tn > 0 && g_ascii_isspace(text[tn - 1]))
        tn--;
    if (tn == 0)
        return;      /* an image link: the URL alone is noise */

    const char *href = f->href;
    if (g_ascii_strncasecmp(href, "mailto:", 7) == 0)
        href += 7;
    const char *a, *b;
    size_t an, bn;
    link_core(text, tn, &a, &an);
    link_core(href, strlen(href), &b, &bn);
    if (an == bn && g_ascii_strncasecmp(a, b, an) == 0)
        return;
    /* "?subject=..." of a mailto and the like do not matter */
    if (bn > an && g_ascii_strncasecmp(a, b, an) == 0 && (b[an] == '?' || b[an] == '#'))
        return;

    g_autofree char *shown = g_strdup_printf("<%s>", href);
    w->space = true;
    emit(w, shown, strlen(shown));
}

/* ---- the walk --------------------------------------------------------- */

static frame_t *
top_frame(walk_t *w, const xmlNode *node)
{
    if (w->frames->len == 0)
        return NULL;
    frame_t *f = &g_array_index(w->frames, frame_t, w->frames->len - 1);
    return f->node == node ? f : NULL;
}

/* libxml2 reads Word's <o:p> as <p>; a <p> inside a <p> can only be one
 * (the parser closes a real paragraph before the next), and it is inline. */
static bool
is_office_p(const xmlNode *node)
{
    if (strcmp((const char *) node->name, "p") != 0)
        return false;
    int up = 0;
    for (const xmlNode *a = node->parent; a && up < 8; a = a->parent, up++) {
        if (a->type == XML_ELEMENT_NODE && strcmp((const char *) a->name, "p") == 0)
            return true;
    }
    return false;
}

/* Returns whether to walk the children of `node`. */
static bool
enter(walk_t *w, const xmlNode *node)
{
    if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
        if (node->content)
            put_text(w, (const char *) node->content);
        return false;
    }
    if (node->type != XML_ELEMENT_NODE)
        return false;

    const char *name = (const char *) node->name;
    unsigned f = el_flags(name);
    if (f & EL_SKIP)
        return false;

    xmlChar *free_style = NULL, *free_id = NULL, *free_class = NULL;
    const char *style = NULL, *id = NULL, *cls = NULL;
    if (node->properties) {
        style = attr(node, "style", &free_style);
        id = attr(node, "id", &free_id);
        cls = attr(node, "class", &free_class);
    }
    bool hidden = style && style_hides(style);
    if (!hidden && w->split < 0 && !w->split_armed && w->quote == 0 &&
        is_split_container(node, name, id, cls, style)) {
        block(w, 1);
        w->split_armed = true;
    }
    /* Outlook writes every line as <p class=MsoNormal> with no margins */
    if ((f & EL_PARA) && cls && has_class(cls, "MsoNormal"))
        f = (f & ~(unsigned) EL_PARA) | EL_BLOCK;
    if (is_office_p(node))
        f = 0;
    xmlFree(free_style);
    xmlFree(free_id);
    xmlFree(free_class);
    if (hidden)
        return false;

    if (f & EL_PARA)
        block(w, 2);
    else if (f & EL_BLOCK)
        block(w, 1);
    if (f & EL_PRE)
        w->pre++;
    if (f & EL_BQ)
        w->quote++;
    if (f & EL_BR) {
        flush_newlines(w);
        if (w->out->len > 0)
            end_line(w);
        else
            w->at_line_start = true;
        return false;
    }
    if (f & EL_HR) {
        block(w, 1);
        emit(w, "________________________________", 32);
        block(w, 1);
        return false;
    }
    if (f & EL_CELL) {
        if (!w->at_line_start)
            w->space = true;
    }
    if (f & EL_OL) {
        frame_t fr = { .node = node, .counter = 1 };
        g_array_append_val(w->frames, fr);
    }
    if (f & EL_LI) {
        const xmlNode *p = node->parent;
        frame_t *ol = NULL;
        if (p && w->frames->len > 0) {
            frame_t *t = &g_array_index(w->frames, frame_t, w->frames->len - 1);
            if (t->node == p)
                ol = t;
        }
        if (ol) {
            char num[16];
            int n = g_snprintf(num, sizeof num, "%d.", ol->counter++);
            emit(w, num, (size_t) n);
        } else {
            emit(w, "-", 1);
        }
        w->space = true;
    }
    if (f & EL_A) {
        xmlChar *free_href = NULL;
        const char *href = attr(node, "href", &free_href);
        frame_t fr = { .node = node, .start = w->out->len };
        if (href) {
            while (g_ascii_isspace(*href))
                href++;
            if (link_worth_showing(href)) {
                fr.href = g_strdup(href);
                g_strchomp(fr.href);
            }
        }
        xmlFree(free_href);
        g_array_append_val(w->frames, fr);
    }
    return true;
}

static void
leave(walk_t *w, const xmlNode *node)
{
    if (node->type != XML_ELEMENT_NODE)
        return;
    unsigned f = el_flags((const char *) node->name);

    if (f & (EL_A | EL_OL)) {
        frame_t *fr = top_frame(w, node);
        if (fr) {
            if (f & EL_A)
                finish_link(w, fr);
            g_free(fr->href);
            g_array_set_size(w->frames, w->frames->len - 1);
        }
    }
    if (f & EL_PRE)
        w->pre--;
    if (f & EL_BQ) {
        /* the blank line after a quote belongs to the quote's end, not to
         * the text that follows */
        block(w, 1);
        flush_newlines(w);
        w->quote--;
    }
    if (is_office_p(node))
        return;
    if (f & EL_PARA) {
        xmlChar *free_class = NULL;
        const char *cls = node->properties ? attr(node, "class", &free_class) : NULL;
        block(w, cls && has_class(cls, "MsoNormal") ? 1 : 2);
        xmlFree(free_class);
    } else if (f & EL_BLOCK) {
        block(w, 1);
    }
}

char *
cor_html_to_text_split(const char *html, size_t len, size_t *quote_offset)
{
    walk_t w = {
        .out = g_string_sized_new(len / 2 + 16),
        .at_line_start = true,
        .split = -1,
        .frames = g_array_new(FALSE, TRUE, sizeof(frame_t)),
    };

    if (len > G_MAXINT)
        len = G_MAXINT;
    htmlDocPtr doc = NULL;
    if (len > 0)
        doc = htmlReadMemory(html, (int) len, NULL, "UTF-8",
                             HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                             HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                             HTML_PARSE_IGNORE_ENC);
    if (doc) {
        xmlNode *node = doc->children;
        while (node) {
            bool descend = enter(&w, node);
            if (descend && node->children) {
                node = node->children;
                continue;
            }
            if (descend)
                leave(&w, node);
            while (node && !node->next) {
                node = node->parent;
                if (!node || (xmlNode *) node == (xmlNode *) doc) {
                    node = NULL;
                    break;
                }
                leave(&w, node);
            }
            if (node)
                node = node->next;
        }
        xmlFreeDoc(doc);
    }
    for (guint i = 0; i < w.frames->len; i++)
        g_free(g_array_index(w.frames, frame_t, i).href);
    g_array_free(w.frames, TRUE);

    /* Clean-up pass: no leading or trailing blank lines, at most one blank
     * line in a row (a line of only '>' and spaces is blank), and the split
     * offset follows its line. */
    GString *out = g_string_sized_new(w.out->len + 1);
    gssize split = -1;
    bool pending_blank = false;
    size_t blank_quote = 0, last_line = 0;
    const char *s = w.out->str, *end = s + w.out->len;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t) (end - s));
        const char *le = nl ? nl : end;
        bool blank = true;
        for (const char *p = s; p < le; p++) {
            if (*p != ' ' && *p != '>') {
                blank = false;
                break;
            }
        }
        if (w.split >= 0 && split < 0 && (gssize) (le - w.out->str) >= w.split)
            split = -2;     /* this line (or the next text line) starts the quote */
        if (blank) {
            if (!pending_blank && out->len > 0) {
                pending_blank = true;
                blank_quote = 0;
                for (const char *p = s; p < le; p++)
                    blank_quote += *p == '>';
            }
        } else {
            if (split == -2)
                split = (gssize) out->len;
            if (pending_blank) {
                /* a blank line inside a quote stays a quote line */
                if (blank_quote > 0 && *s == '>' && out->len > 1 && out->str[last_line] == '>')
                    g_string_append_len(out, ">>>>>>>>>>>>>>>>", MIN(blank_quote, 16));
                g_string_append_c(out, '\n');
            }
            pending_blank = false;
            last_line = out->len;
            if (split == -2)
                split = (gssize) out->len;
            g_string_append_len(out, s, le - s);
            g_string_append_c(out, '\n');
        }
        s = nl ? nl + 1 : end;
    }
    g_string_free(w.out, TRUE);

    if (quote_offset)
        *quote_offset = split >= 0 ? (size_t) split : out->len;

    char *text = g_string_free(out, FALSE);
    if (!g_utf8_validate(text, -1, NULL)) {
        /* libxml2 emits UTF-8, so this is only a safety net */
        if (quote_offset) {
            g_autofree char *head = g_utf8_make_valid(text, (gssize) *quote_offset);
            *quote_offset = strlen(head);
        }
        char *v = g_utf8_make_valid(text, -1);
        g_free(text);
        text = v;
    }
    return text;
}

char *
cor_html_to_text(const char *html, size_t len)
{
    return cor_html_to_text_split(html, len, NULL);
}
