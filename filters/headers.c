/* filters/headers.c — a message's header fields, unfolded.  See headers.h. */
#include "filters/headers.h"

#include <stdbool.h>
#include <string.h>

typedef struct field {
    const char *name;            /* NUL-terminated, in `block` */
    const char *value;           /* unfolded, trimmed, NUL-terminated: in `block`,
                                    or in `owned` when it had to be made valid UTF-8 */
} field_t;

struct cor_headers {
    char *block;                 /* a copy of the header block, edited in place */
    GArray *fields;              /* field_t */
    GPtrArray *owned;            /* values made valid UTF-8 (rare), or NULL */
};

/* The length of the header block at raw: up to and including the empty
 * line, or up to the first line that is neither a field nor a
 * continuation. */
static size_t
block_length(const char *raw, size_t len)
{
    const char *p = raw, *end = raw + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *le = nl ? nl + 1 : end;
        if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'))
            break;                                   /* the empty line */
        if (*p != ' ' && *p != '\t') {
            const char *q = p;
            while (q < le && *q != ':' && (unsigned char) *q > ' ' && *q != 0x7F)
                q++;
            const char *c = q;
            while (c < le && (*c == ' ' || *c == '\t'))
                c++;
            if (q == p || c >= le || *c != ':')
                break;                               /* not a field: the body begins */
        } else if (p == raw) {
            break;                                   /* a continuation of nothing */
        }
        p = le;
    }
    return (size_t) (p - raw);
}

/* Unfolds the value [v, vend) in place: CR and LF dropped, NUL made a
 * space, white space trimmed; returns the start (NUL-terminated).  There is
 * room for the NUL: the value ends with the LF it drops, or the block was
 * copied with one spare byte. */
static char *
unfold_in_place(char *v, char *vend, bool *high)
{
    char *w = v;
    bool hi = false;
    for (char *r = v; r < vend; r++) {
        char ch = *r;
        if (ch == '\r' || ch == '\n')
            continue;
        if (ch == '\0')
            ch = ' ';
        hi = hi || (unsigned char) ch >= 0x80;
        *w++ = ch;
    }
    while (w > v && (w[-1] == ' ' || w[-1] == '\t'))
        w--;
    *w = '\0';
    while (*v == ' ' || *v == '\t')
        v++;
    *high = hi;
    return v;
}

/* An mbox "From " line, not an old-style header "From : a@b" (a space
 * before the colon). */
static bool
is_from_line(const char *raw, size_t len)
{
    if (len < 5 || memcmp(raw, "From ", 5) != 0)
        return false;
    size_t i = 5;
    while (i < len && (raw[i] == ' ' || raw[i] == '\t'))
        i++;
    return i < len && raw[i] != ':';
}

/* One pass over a copy of the header block, edited in place: names and
 * values are NUL-terminated where they lie, so a message's 20 or 50 fields
 * cost two allocations, not a hundred (this runs on every message at
 * intake). */
cor_headers_t *
cor_headers_parse(const char *raw, size_t len)
{
    cor_headers_t *h = g_new0(cor_headers_t, 1);
    h->fields = g_array_sized_new(FALSE, FALSE, sizeof(field_t), 32);
    if (!raw)
        return h;
    if (is_from_line(raw, len)) {
        const char *nl = memchr(raw, '\n', len);
        size_t skip = nl ? (size_t) (nl + 1 - raw) : len;
        raw += skip;
        len -= skip;
    }
    size_t n = block_length(raw, len);
    h->block = g_malloc(n + 1);
    memcpy(h->block, raw, n);
    h->block[n] = '\0';
    char *p = h->block, *end = h->block + n;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t) (end - p));
        char *le = nl ? nl + 1 : end;
        char *q = p;
        while (q < le && *q != ':' && (unsigned char) *q > ' ' && *q != 0x7F)
            q++;
        char *c = q;
        while (c < le && *c != ':')
            c++;
        /* the value runs on over continuation lines */
        char *vend = le;
        while (vend < end && (*vend == ' ' || *vend == '\t')) {
            char *n2 = memchr(vend, '\n', (size_t) (end - vend));
            vend = n2 ? n2 + 1 : end;
        }
        *q = '\0';                                   /* ends the name (q <= c) */
        bool high;
        field_t f = { .name = p, .value = unfold_in_place(c + 1, vend, &high) };
        if (high && !g_utf8_validate(f.value, -1, NULL)) {
            if (!h->owned)
                h->owned = g_ptr_array_new_with_free_func(g_free);
            char *valid = g_utf8_make_valid(f.value, -1);
            g_ptr_array_add(h->owned, valid);
            f.value = valid;
        }
        g_array_append_val(h->fields, f);
        p = vend;
    }
    return h;
}

void
cor_headers_free(cor_headers_t *h)
{
    if (!h)
        return;
    g_array_unref(h->fields);
    if (h->owned)
        g_ptr_array_unref(h->owned);
    g_free(h->block);
    g_free(h);
}

guint
cor_headers_size(const cor_headers_t *h)
{
    return h->fields->len;
}

const char *
cor_headers_name(const cor_headers_t *h, guint i)
{
    return i < h->fields->len ? g_array_index(h->fields, field_t, i).name : NULL;
}

const char *
cor_headers_value(const cor_headers_t *h, guint i)
{
    return i < h->fields->len ? g_array_index(h->fields, field_t, i).value : NULL;
}

const char *
cor_headers_get_nth(const cor_headers_t *h, const char *name, guint n)
{
    for (guint i = 0; i < h->fields->len; i++) {
        const field_t *f = &g_array_index(h->fields, field_t, i);
        /* the first letter first: most fields (Received, DKIM-Signature...) stop there */
        if (g_ascii_tolower(f->name[0]) == g_ascii_tolower(name[0]) &&
            g_ascii_strcasecmp(f->name, name) == 0 && n-- == 0)
            return f->value;
    }
    return NULL;
}

const char *
cor_headers_next(const cor_headers_t *h, const char *name, guint *pos)
{
    for (guint i = *pos; i < h->fields->len; i++) {
        const field_t *f = &g_array_index(h->fields, field_t, i);
        if (g_ascii_tolower(f->name[0]) == g_ascii_tolower(name[0]) &&
            g_ascii_strcasecmp(f->name, name) == 0) {
            *pos = i + 1;
            return f->value;
        }
    }
    *pos = h->fields->len;
    return NULL;
}

const char *
cor_headers_get(const cor_headers_t *h, const char *name)
{
    return cor_headers_get_nth(h, name, 0);
}

bool
cor_headers_param_span(const char *value, const char *param, const char **v, size_t *n)
{
    if (!value)
        return false;
    size_t plen = strlen(param);
    for (const char *p = value; (p = strchr(p, ';')) != NULL;) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (g_ascii_strncasecmp(p, param, plen) != 0)
            continue;
        const char *e = p + plen;
        while (*e == ' ' || *e == '\t')
            e++;
        if (*e != '=')
            continue;
        e++;
        while (*e == ' ' || *e == '\t')
            e++;
        if (*e == '"') {
            const char *close = strchr(e + 1, '"');
            *v = e + 1;
            *n = close ? (size_t) (close - e - 1) : strlen(e + 1);
        } else {
            *v = e;
            *n = strcspn(e, "; \t");
        }
        return true;
    }
    return false;
}

char *
cor_headers_param(const char *value, const char *param)
{
    const char *v;
    size_t n;
    return cor_headers_param_span(value, param, &v, &n) ? g_strndup(v, n) : NULL;
}
