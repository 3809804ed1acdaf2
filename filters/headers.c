/* filters/headers.c — a message's header fields, unfolded.  See headers.h. */
#include "filters/headers.h"

#include <string.h>

typedef struct field {
    char *name;
    char *value;
} field_t;

struct cor_headers {
    GArray *fields;          /* field_t */
};

static void
field_clear(gpointer p)
{
    field_t *f = p;
    g_free(f->name);
    g_free(f->value);
}

/* The value of a field, unfolded: CR and LF dropped, white space trimmed,
 * made valid UTF-8 (transfer full). */
static char *
unfold(const char *p, size_t n)
{
    GString *v = g_string_sized_new(n);
    for (size_t i = 0; i < n; i++)
        if (p[i] != '\r' && p[i] != '\n')
            g_string_append_c(v, p[i] == '\0' ? ' ' : p[i]);
    char *s = g_string_free(v, FALSE);
    g_strstrip(s);
    if (!g_utf8_validate(s, -1, NULL)) {
        char *valid = g_utf8_make_valid(s, -1);
        g_free(s);
        s = valid;
    }
    return s;
}

cor_headers_t *
cor_headers_parse(const char *raw, size_t len)
{
    cor_headers_t *h = g_new0(cor_headers_t, 1);
    h->fields = g_array_new(FALSE, TRUE, sizeof(field_t));
    g_array_set_clear_func(h->fields, field_clear);
    if (!raw)
        return h;
    const char *p = raw, *end = raw + len;
    if (len >= 5 && memcmp(p, "From ", 5) == 0) {
        const char *nl = memchr(p, '\n', len);
        p = nl ? nl + 1 : end;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *le = nl ? nl + 1 : end;
        if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'))
            break;                                   /* the empty line */
        const char *q = p;
        while (q < le && *q != ':' && (unsigned char) *q > ' ' && *q != 0x7F)
            q++;
        const char *c = q;
        while (c < le && (*c == ' ' || *c == '\t'))
            c++;
        if (q == p || c >= le || *c != ':')
            break;                                   /* not a field: the body begins */
        /* the value runs on over continuation lines */
        const char *vend = le;
        while (vend < end && (*vend == ' ' || *vend == '\t')) {
            const char *n2 = memchr(vend, '\n', (size_t) (end - vend));
            vend = n2 ? n2 + 1 : end;
        }
        field_t f = {
            .name = g_strndup(p, (size_t) (q - p)),
            .value = unfold(c + 1, (size_t) (vend - (c + 1))),
        };
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
        if (g_ascii_strcasecmp(f->name, name) == 0 && n-- == 0)
            return f->value;
    }
    return NULL;
}

const char *
cor_headers_get(const cor_headers_t *h, const char *name)
{
    return cor_headers_get_nth(h, name, 0);
}

char *
cor_headers_param(const char *value, const char *param)
{
    if (!value)
        return NULL;
    size_t plen = strlen(param);
    const char *p = value;
    while ((p = strchr(p, ';')) != NULL) {
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
            return close ? g_strndup(e + 1, (size_t) (close - e - 1)) : g_strdup(e + 1);
        }
        size_t n = strcspn(e, "; \t");
        return g_strndup(e, n);
    }
    return NULL;
}
