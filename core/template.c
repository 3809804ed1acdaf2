/* core/template.c — logic-less page templates (see template.h).
 *
 * Design notes
 * ------------
 * Values.  A cor_tctx_t is a bump allocator over 64 KiB chunks; a request
 * bigger than a quarter chunk gets a chunk of its own, so a big mail body
 * does not waste the rest of the current one.  Every value, key and copied
 * string of a page lives in the chunks and goes with cor_tctx_free(): building
 * a page costs a handful of mallocs, not one per value.  An object is a
 * singly linked list of (key, value) fields in insertion order with a tail
 * pointer; setting a key that exists points its field at a new value (the old
 * one stays in the arena until the context goes).  A list is a linked list of
 * items with a tail pointer and a length.  Keys are compared by length and
 * their first 8 bytes packed in a word (memcmp only beyond that), and each
 * object keeps a 64-bit mask with one bit per key (picked from that word):
 * a clear bit proves a key absent, so adding a new key skips the search and
 * a lookup skips scopes that cannot have the name.  This is a filter, not a
 * hash table: fields stay in one list in insertion order.
 *
 * Escaping scans 16 bytes at a time (SSE2, with a table-driven byte loop
 * elsewhere) for the bytes that need a look and appends the runs between
 * them in one copy each.  Invalid UTF-8 becomes U+FFFD, one per maximal
 * invalid subpart, as the Unicode standard recommends.
 *
 * Templates.  A template is compiled once into an array of nodes: text runs
 * (pointing into the template's own copy of its source), variable references
 * and sections with their dotted path already split, and partials by name.
 * Partials are looked up in the set's hash table when rendered, so templates
 * may be added in any order and may use each other recursively.  Each compiled
 * template owns one arena (the same allocator as values), freed in one go.
 *
 * Compiling is one left-to-right scan for "{{"; a stack of open sections
 * collects child nodes.  The standalone rule is decided on the source bytes:
 * a #, ^, /, > or ! tag is standalone when the bytes from the start of its
 * line to the tag are blanks and the bytes from the tag to the end of the
 * line are blanks (or "\r"); the text run before it then stops at the start
 * of the line and the scan resumes after the newline.  Because the check
 * looks at the source, a second tag on the same line ("{{#a}}{{/a}}") makes
 * neither standalone.  The indentation of a standalone partial is dropped,
 * not added to each line of the partial (simpler than Mustache).
 *
 * Invariants
 *   1. A compiled set is never written to while rendering; render state lives
 *      on the C stack (scope chain) and in the caller's GString.
 *   2. Nothing iterates over a hash table: output depends only on the
 *      template nodes and the values, in their insertion order.
 *   3. String values are escaped when written, never when set; only html
 *      values are written as they are.
 *   4. On a render error `out` is truncated back to its length on entry.
 */
#include "core/template.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define CHUNK_SIZE       (64 * 1024)
#define TMPL_CHUNK_SIZE  (8 * 1024)
#define PARTIAL_DEPTH    16

/* ---- the arena ------------------------------------------------------------ */

typedef struct chunk {
    struct chunk *next;
    size_t size, used;
    max_align_t data[];
} chunk_t;

struct cor_tctx {
    chunk_t *head;         /* the chunk being filled; big ones are linked after it */
    size_t chunk_size;
};

static cor_tctx_t *
arena_new(size_t chunk_size)
{
    cor_tctx_t *a = g_new0(cor_tctx_t, 1);
    a->chunk_size = chunk_size;
    return a;
}

static chunk_t *
chunk_new(size_t size)
{
    chunk_t *c = g_malloc(sizeof *c + size);
    c->next = NULL;
    c->size = size;
    c->used = 0;
    return c;
}

/* The slow path of arena_alloc(): a new chunk. */
static void *
arena_alloc_chunk(cor_tctx_t *a, size_t n)
{
    if (n > a->chunk_size / 4) {
        /* a chunk of its own, behind the current one so that stays in use */
        chunk_t *big = chunk_new(n);
        big->used = n;
        if (a->head) {
            big->next = a->head->next;
            a->head->next = big;
        } else {
            a->head = big;
        }
        return big->data;
    }
    chunk_t *c = chunk_new(a->chunk_size);
    c->next = a->head;
    a->head = c;
    c->used = n;
    return c->data;
}

/* `n` bytes aligned to `align` (a power of two) (transfer none). */
static inline void *
arena_alloc(cor_tctx_t *a, size_t n, size_t align)
{
    chunk_t *c = a->head;
    if (G_LIKELY(c)) {
        size_t off = (c->used + align - 1) & ~(align - 1);
        if (G_LIKELY(off <= c->size && n <= c->size - off)) {
            c->used = off + n;
            return (char *) c->data + off;
        }
    }
    return arena_alloc_chunk(a, n);
}

#define ARENA_NEW(a, type) ((type *) arena_alloc((a), sizeof(type), _Alignof(type)))

/* A NUL-terminated copy of `len` bytes (transfer none). */
static char *
arena_strndup(cor_tctx_t *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1, 1);
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

cor_tctx_t *
cor_tctx_new(void)
{
    return arena_new(CHUNK_SIZE);
}

void
cor_tctx_free(cor_tctx_t *ctx)
{
    if (!ctx)
        return;
    for (chunk_t *c = ctx->head, *next; c; c = next) {
        next = c->next;
        g_free(c);
    }
    g_free(ctx);
}

/* ---- values --------------------------------------------------------------- */

typedef enum { TV_OBJECT, TV_LIST, TV_STR, TV_HTML, TV_INT, TV_BOOL } tv_kind_t;

/* A key as it is compared: its length and its first 8 bytes in a word, so
 * most comparisons are two integer compares (memcmp only past 8 bytes), and
 * one bit of 64 picked from them: an object ORs the bits of its keys, so a
 * key whose bit is clear is certainly not there (no search on adding a new
 * key, outer scopes skipped on lookup). */
typedef struct tkey {
    const char *s;         /* NUL-terminated, in an arena */
    size_t len;
    uint64_t head;
    uint64_t bit;
} tkey_t;

static inline tkey_t
key_make(const char *s, size_t len)
{
    tkey_t k = { s, len, 0, 0 };
    if (len >= 8) {
        memcpy(&k.head, s, 8);
    } else {
        for (size_t i = 0; i < len; i++)      /* in a register: no store/load stall */
            k.head |= (uint64_t) (unsigned char) s[i] << (8 * i);
    }
    k.bit = UINT64_C(1) << (((k.head ^ len) * UINT64_C(0x9e3779b97f4a7c15)) >> 58);
    return k;
}

static inline bool
key_eq(const tkey_t *a, const tkey_t *b)
{
    return a->len == b->len && a->head == b->head &&
           (a->len <= 8 || memcmp(a->s + 8, b->s + 8, a->len - 8) == 0);
}

typedef struct tfield {
    struct tfield *next;
    tkey_t key;
    cor_tval_t *val;       /* NULL renders as missing */
} tfield_t;

typedef struct titem {
    struct titem *next;
    cor_tval_t *val;
} titem_t;

struct cor_tval {
    tv_kind_t kind;
    union {
        struct { tfield_t *head, *tail; uint64_t keys; } obj;   /* keys: OR of key bits */
        struct { titem_t *head, *tail; size_t len; } list;
        struct { const char *s; size_t len; } str;     /* TV_STR and TV_HTML */
        int64_t i;
        bool b;
    } u;
};

static cor_tval_t *
tval_new(cor_tctx_t *ctx, tv_kind_t kind)
{
    cor_tval_t *v = ARENA_NEW(ctx, cor_tval_t);
    memset(v, 0, sizeof *v);
    v->kind = kind;
    return v;
}

static cor_tval_t *
tval_str(cor_tctx_t *ctx, tv_kind_t kind, const char *s, size_t len, bool copy)
{
    cor_tval_t *v = tval_new(ctx, kind);
    if (!s) {
        s = "";
        len = 0;
    } else if (copy) {
        s = arena_strndup(ctx, s, len);
    }
    v->u.str.s = s;
    v->u.str.len = len;
    return v;
}

/* Points `key` of `obj` at `v`: replaces the value of an existing key, else
 * appends a field (the key copied into the arena). */
static void
obj_put(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, cor_tval_t *v)
{
    g_return_if_fail(obj != NULL && obj->kind == TV_OBJECT && key != NULL);
    size_t klen = strlen(key);
    tkey_t k = key_make(key, klen);
    if (obj->u.obj.keys & k.bit)
        for (tfield_t *f = obj->u.obj.head; f; f = f->next)
            if (key_eq(&f->key, &k)) {
                f->val = v;
                return;
            }
    obj->u.obj.keys |= k.bit;
    tfield_t *f = ARENA_NEW(ctx, tfield_t);
    f->next = NULL;
    f->key = k;
    f->key.s = arena_strndup(ctx, key, klen);
    f->val = v;
    if (obj->u.obj.tail)
        obj->u.obj.tail->next = f;
    else
        obj->u.obj.head = f;
    obj->u.obj.tail = f;
}

static void
list_put(cor_tctx_t *ctx, cor_tval_t *list, cor_tval_t *v)
{
    titem_t *it = ARENA_NEW(ctx, titem_t);
    it->next = NULL;
    it->val = v;
    if (list->u.list.tail)
        list->u.list.tail->next = it;
    else
        list->u.list.head = it;
    list->u.list.tail = it;
    list->u.list.len++;
}

cor_tval_t *
cor_tval_object(cor_tctx_t *ctx)
{
    return tval_new(ctx, TV_OBJECT);
}

void
cor_tval_set_str(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, const char *s)
{
    obj_put(ctx, obj, key, tval_str(ctx, TV_STR, s, s ? strlen(s) : 0, true));
}

void
cor_tval_set_str_len(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, const char *s,
                     size_t len)
{
    obj_put(ctx, obj, key, tval_str(ctx, TV_STR, s, len, true));
}

void
cor_tval_set_static(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, const char *s)
{
    obj_put(ctx, obj, key, tval_str(ctx, TV_STR, s, s ? strlen(s) : 0, false));
}

void
cor_tval_set_printf(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    /* first try straight into what is left of the current chunk */
    chunk_t *c = ctx->head;
    char *room = c ? (char *) c->data + c->used : NULL;
    size_t avail = c ? c->size - c->used : 0;
    int n = vsnprintf(room, avail, fmt, ap);
    va_end(ap);
    char *s;
    if (n < 0) {
        s = arena_strndup(ctx, "", 0);
        n = 0;
    } else if ((size_t) n < avail) {
        s = room;
        c->used += (size_t) n + 1;
    } else {
        s = arena_alloc(ctx, (size_t) n + 1, 1);
        vsnprintf(s, (size_t) n + 1, fmt, ap2);
    }
    va_end(ap2);
    obj_put(ctx, obj, key, tval_str(ctx, TV_STR, s, (size_t) n, false));
}

void
cor_tval_set_html(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, const char *html)
{
    obj_put(ctx, obj, key, tval_str(ctx, TV_HTML, html, html ? strlen(html) : 0, true));
}

void
cor_tval_set_html_len(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, const char *html,
                      size_t len)
{
    obj_put(ctx, obj, key, tval_str(ctx, TV_HTML, html, len, true));
}

void
cor_tval_set_int(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, int64_t v)
{
    cor_tval_t *t = tval_new(ctx, TV_INT);
    t->u.i = v;
    obj_put(ctx, obj, key, t);
}

void
cor_tval_set_bool(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, bool v)
{
    cor_tval_t *t = tval_new(ctx, TV_BOOL);
    t->u.b = v;
    obj_put(ctx, obj, key, t);
}

cor_tval_t *
cor_tval_set_object(cor_tctx_t *ctx, cor_tval_t *obj, const char *key)
{
    cor_tval_t *v = tval_new(ctx, TV_OBJECT);
    obj_put(ctx, obj, key, v);
    return v;
}

cor_tval_t *
cor_tval_set_list(cor_tctx_t *ctx, cor_tval_t *obj, const char *key)
{
    cor_tval_t *v = tval_new(ctx, TV_LIST);
    obj_put(ctx, obj, key, v);
    return v;
}

void
cor_tval_set_value(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, cor_tval_t *v)
{
    obj_put(ctx, obj, key, v);
}

cor_tval_t *
cor_tval_list_add_object(cor_tctx_t *ctx, cor_tval_t *list)
{
    g_return_val_if_fail(list != NULL && list->kind == TV_LIST, NULL);
    cor_tval_t *v = tval_new(ctx, TV_OBJECT);
    list_put(ctx, list, v);
    return v;
}

void
cor_tval_list_add_str(cor_tctx_t *ctx, cor_tval_t *list, const char *s)
{
    g_return_if_fail(list != NULL && list->kind == TV_LIST);
    list_put(ctx, list, tval_str(ctx, TV_STR, s, s ? strlen(s) : 0, true));
}

size_t
cor_tval_list_len(const cor_tval_t *list)
{
    return list && list->kind == TV_LIST ? list->u.list.len : 0;
}

/* ---- escaping ------------------------------------------------------------- */

/* g_string_append_len() without its general insert path (GLib before 2.76
 * does not inline it, and rendering is mostly short appends). */
static inline void
out_append(GString *out, const char *s, size_t n)
{
    if (out->len + n < out->allocated_len) {
        memcpy(out->str + out->len, s, n);
        out->len += n;
        out->str[out->len] = '\0';
    } else {
        g_string_append_len(out, s, (gssize) n);
    }
}

/* 0: copied as is; 1: ASCII that is replaced or dropped; 2: a UTF-8 lead or
 * stray byte, checked. */
static const unsigned char esc_class[256] = {
    [0x00 ... 0x08] = 1, [0x0b ... 0x1f] = 1,      /* not \t, \n */
    ['&'] = 1, ['<'] = 1, ['>'] = 1, ['"'] = 1, ['\''] = 1, [0x7f] = 1,
    [0x80 ... 0xff] = 2,
};

/* Length of the valid UTF-8 sequence at p (2 to 4), or 0 with *bad set to
 * the length of its longest valid prefix (at least 1), which becomes one
 * U+FFFD (the Unicode "maximal subpart" practice).  U+FFFE and U+FFFF, not
 * allowed in XML, count as invalid. */
static size_t
utf8_seq(const unsigned char *p, const unsigned char *end, size_t *bad)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t n;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;          /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;          /* nothing above U+10FFFF */
    } else {
        *bad = 1;
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        unsigned char lo_i = i == 1 ? lo : 0x80, hi_i = i == 1 ? hi : 0xbf;
        if (p + i >= end || p[i] < lo_i || p[i] > hi_i) {
            *bad = i;
            return 0;
        }
    }
    if (n == 3 && c == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf)) {
        *bad = 3;
        return 0;
    }
    return n;
}

void
cor_escape_html(GString *out, const char *s, gssize len)
{
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *) s;
    const unsigned char *end = p + (len < 0 ? strlen(s) : (size_t) len);
    const unsigned char *run = p;
    while (p < end) {
#ifdef __SSE2__
        /* 16 bytes at a time while none needs a look: a signed compare
         * flags both C0 controls and bytes >= 0x80; tab and newline are
         * flagged too and pass through the table below */
        while (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *) p);
            __m128i m = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
            m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('&')));
            m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('<')));
            m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('>')));
            m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
            m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('\'')));
            m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
            unsigned bits = (unsigned) _mm_movemask_epi8(m);
            if (bits) {
                p += __builtin_ctz(bits);
                break;
            }
            p += 16;
        }
        if (p >= end)
            break;
#endif
        unsigned char cls = esc_class[*p];
        if (cls == 0) {
            p++;
            continue;
        }
        size_t bad = 0;
        if (cls == 2) {
            size_t n = utf8_seq(p, end, &bad);
            if (n) {
                p += n;
                continue;
            }
        }
        if (p > run)
            out_append(out, (const char *) run, p - run);
        if (cls == 2) {
            out_append(out, "\xef\xbf\xbd", 3);
            p += bad;
        } else {
            switch (*p) {
            case '&':  out_append(out, "&amp;", 5); break;
            case '<':  out_append(out, "&lt;", 4); break;
            case '>':  out_append(out, "&gt;", 4); break;
            case '"':  out_append(out, "&quot;", 6); break;
            case '\'': out_append(out, "&#39;", 5); break;
            default:   break;            /* a control character: dropped */
            }
            p++;
        }
        run = p;
    }
    if (p > run)
        out_append(out, (const char *) run, p - run);
}

/* ---- compiled templates --------------------------------------------------- */

typedef enum { N_TEXT, N_VAR, N_SECTION, N_INVERTED, N_PARTIAL } node_kind_t;

typedef struct tnode {
    node_kind_t kind;
    const char *text;          /* N_TEXT: the run; N_PARTIAL: the name (NUL-terminated) */
    size_t len;                /* N_TEXT: its length */
    const tkey_t *path;        /* N_VAR/N_SECTION/N_INVERTED: segments; npath 0 is "." */
    size_t npath;
    const struct tnode *kids;  /* N_SECTION/N_INVERTED */
    size_t nkids;
} tnode_t;

typedef struct tmpl {
    cor_tctx_t *arena;         /* owns the nodes, names and the copy of the source */
    const tnode_t *nodes;
    size_t nnodes;
} tmpl_t;

struct cor_tmpl_set {
    GHashTable *by_name;       /* char * (owned) -> tmpl_t * (owned); lookups only */
};

static void
tmpl_free(gpointer p)
{
    tmpl_t *t = p;
    if (t) {
        cor_tctx_free(t->arena);
        g_free(t);
    }
}

cor_tmpl_set_t *
cor_tmpl_set_new(void)
{
    cor_tmpl_set_t *set = g_new0(cor_tmpl_set_t, 1);
    set->by_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, tmpl_free);
    return set;
}

void
cor_tmpl_set_free(cor_tmpl_set_t *set)
{
    if (!set)
        return;
    g_hash_table_destroy(set->by_name);
    g_free(set);
}

bool
cor_tmpl_set_has(const cor_tmpl_set_t *set, const char *name)
{
    return set && name && g_hash_table_contains(set->by_name, name);
}

/* ---- the compiler ---------------------------------------------------------- */

typedef struct frame {
    GArray *nodes;             /* tnode_t */
    node_kind_t kind;          /* N_SECTION or N_INVERTED; the root frame N_TEXT */
    const char *name;          /* the section's name as written, in the arena */
    size_t name_len;
    int line;
} frame_t;

typedef struct compiler {
    cor_tctx_t *arena;
    const char *src, *end;
    const char *origin;
    const char *line_pos;      /* lines are counted up to here ... */
    int line;                  /* ... which is on this line */
    char **err;
} compiler_t;

static int
line_at(compiler_t *c, const char *p)
{
    for (const char *q = c->line_pos; q < p; q++)
        if (*q == '\n')
            c->line++;
    c->line_pos = p;
    return c->line;
}

static cor_status_t G_GNUC_PRINTF(3, 4)
syntax_error(compiler_t *c, int line, const char *fmt, ...)
{
    if (c->err) {
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        *c->err = g_strdup_printf("%s:%d: %s", c->origin, line, msg);
    }
    return COR_ERR_FORMAT;
}

/* `len` bytes of template text for an error message: at most 40 bytes (then
 * "..."), control characters written as \n, \t, \xNN (transfer full). */
static char *
snip(const char *s, size_t len)
{
    GString *out = g_string_new(NULL);
    size_t max = len > 40 ? 40 : len;
    while (max < len && max > 0 && ((unsigned char) s[max] & 0xc0) == 0x80)
        max--;                                  /* do not cut a UTF-8 sequence */
    for (size_t i = 0; i < max; i++) {
        unsigned char ch = (unsigned char) s[i];
        if (ch == '\n')
            g_string_append(out, "\\n");
        else if (ch == '\t')
            g_string_append(out, "\\t");
        else if (ch < 0x20 || ch == 0x7f)
            g_string_append_printf(out, "\\x%02x", ch);
        else
            g_string_append_c(out, (char) ch);
    }
    if (max < len)
        g_string_append(out, "...");
    return g_string_free(out, FALSE);
}

static bool
is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static bool
name_ok(const char *s, size_t len)
{
    if (len == 1 && s[0] == '.')
        return true;
    bool seg_empty = true;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '.') {
            if (seg_empty)
                return false;
            seg_empty = true;
        } else if (g_ascii_isalnum(ch) || ch == '_' || ch == '-') {
            seg_empty = false;
        } else {
            return false;
        }
    }
    return !seg_empty;
}

/* Splits a checked name into path segments in the arena ("." has none). */
static void
split_path(compiler_t *c, tnode_t *n, const char *s, size_t len)
{
    n->npath = 0;
    if (len == 1 && s[0] == '.')
        return;
    size_t count = 1;
    for (size_t i = 0; i < len; i++)
        count += s[i] == '.';
    tkey_t *path = arena_alloc(c->arena, count * sizeof *path, _Alignof(tkey_t));
    const char *seg = s, *end = s + len;
    for (const char *p = s; p <= end; p++)
        if (p == end || *p == '.') {
            size_t l = p - seg;
            path[n->npath++] = key_make(arena_strndup(c->arena, seg, l), l);
            seg = p + 1;
        }
    n->path = path;
}

/* The nodes of a frame as an arena array; frees the GArray. */
static const tnode_t *
frame_nodes(compiler_t *c, frame_t *f, size_t *n)
{
    *n = f->nodes->len;
    tnode_t *copy = NULL;
    if (*n) {
        copy = arena_alloc(c->arena, *n * sizeof(tnode_t), _Alignof(tnode_t));
        memcpy(copy, f->nodes->data, *n * sizeof(tnode_t));
    }
    g_array_free(f->nodes, TRUE);
    f->nodes = NULL;
    return copy;
}

static void
add_text(GArray *nodes, const char *s, size_t len)
{
    if (len == 0)
        return;
    tnode_t n = { .kind = N_TEXT, .text = s, .len = len };
    g_array_append_val(nodes, n);
}

/* Compiles into `t`; on failure the caller frees it. */
static cor_status_t
compile(tmpl_t *t, const char *text, size_t len, const char *origin, char **err)
{
    compiler_t c = { .arena = t->arena, .origin = origin, .line = 1, .err = err };
    char *src = arena_alloc(t->arena, len + 1, 1);
    memcpy(src, text, len);
    src[len] = '\0';
    c.src = c.line_pos = src;
    c.end = src + len;

    GArray *stack = g_array_new(FALSE, FALSE, sizeof(frame_t));
    frame_t root = { .nodes = g_array_new(FALSE, FALSE, sizeof(tnode_t)), .kind = N_TEXT };
    g_array_append_val(stack, root);
    cor_status_t st = COR_OK;
    const char *pos = src;

    while (pos < c.end) {
        frame_t *top = &g_array_index(stack, frame_t, stack->len - 1);
        const char *open = memmem(pos, c.end - pos, "{{", 2);
        if (!open) {
            add_text(top->nodes, pos, c.end - pos);
            break;
        }
        int line = line_at(&c, open);
        const char *close = memmem(open + 2, c.end - open - 2, "}}", 2);
        if (!close) {
            st = syntax_error(&c, line, "unterminated '{{'");
            break;
        }
        const char *tag_end = close + 2;
        const char *in = open + 2, *in_end = close;
        while (in < in_end && is_blank(*in))
            in++;
        char sigil = in < in_end && strchr("#^/>!", *in) ? *in : 0;

        /* the standalone rule, on the source bytes of the tag's line */
        const char *text_end = open, *next = tag_end;
        if (sigil) {
            const char *ls = open;
            while (ls > src && (ls[-1] == ' ' || ls[-1] == '\t'))
                ls--;
            const char *le = tag_end;
            while (le < c.end && (*le == ' ' || *le == '\t' || *le == '\r'))
                le++;
            if ((ls == src || ls[-1] == '\n') && (le == c.end || *le == '\n') && ls >= pos) {
                text_end = ls;
                next = le < c.end ? le + 1 : le;
            }
        }
        add_text(top->nodes, pos, text_end - pos);
        pos = next;
        if (sigil == '!')
            continue;

        if (sigil)
            in++;
        while (in < in_end && is_blank(*in))
            in++;
        while (in_end > in && is_blank(in_end[-1]))
            in_end--;
        size_t nlen = in_end - in;
        g_autofree char *tag = snip(open, tag_end - open);
        if (nlen == 0) {
            st = syntax_error(&c, line, "empty name in '%s'", tag);
            break;
        }
        if (!name_ok(in, nlen) || (sigil == '>' && nlen == 1 && *in == '.')) {
            g_autofree char *name = snip(in, nlen);
            st = syntax_error(&c, line, "bad name '%s' (letters, digits, '_', '-' and '.' "
                              "between them only)", name);
            break;
        }

        tnode_t n = { 0 };
        switch (sigil) {
        case 0:
            n.kind = N_VAR;
            split_path(&c, &n, in, nlen);
            g_array_append_val(top->nodes, n);
            break;
        case '>':
            n.kind = N_PARTIAL;
            n.text = arena_strndup(c.arena, in, nlen);
            n.len = nlen;
            g_array_append_val(top->nodes, n);
            break;
        case '#':
        case '^': {
            frame_t f = {
                .nodes = g_array_new(FALSE, FALSE, sizeof(tnode_t)),
                .kind = sigil == '#' ? N_SECTION : N_INVERTED,
                .name = in, .name_len = nlen, .line = line,
            };
            g_array_append_val(stack, f);
            break;
        }
        case '/':
            if (stack->len == 1) {
                st = syntax_error(&c, line, "'%s' closes no open section", tag);
                break;
            }
            if (top->name_len != nlen || memcmp(top->name, in, nlen) != 0) {
                g_autofree char *name = snip(top->name, top->name_len);
                st = syntax_error(&c, line, "'%s' does not close section '%s' opened on "
                                  "line %d", tag, name, top->line);
                break;
            }
            n.kind = top->kind;
            split_path(&c, &n, top->name, top->name_len);
            n.kids = frame_nodes(&c, top, &n.nkids);
            g_array_set_size(stack, stack->len - 1);
            top = &g_array_index(stack, frame_t, stack->len - 1);
            g_array_append_val(top->nodes, n);
            break;
        }
        if (st != COR_OK)
            break;
    }

    if (st == COR_OK && stack->len > 1) {
        frame_t *top = &g_array_index(stack, frame_t, stack->len - 1);
        /* the last line of the file: a final newline does not start another */
        const char *last = c.end > src && c.end[-1] == '\n' ? c.end - 1 : c.end;
        g_autofree char *name = snip(top->name, top->name_len);
        st = syntax_error(&c, line_at(&c, last), "section '%s' opened on line %d is not "
                          "closed", name, top->line);
    }
    if (st == COR_OK)
        t->nodes = frame_nodes(&c, &g_array_index(stack, frame_t, 0), &t->nnodes);
    for (guint i = 0; i < stack->len; i++) {
        frame_t *f = &g_array_index(stack, frame_t, i);
        if (f->nodes)
            g_array_free(f->nodes, TRUE);
    }
    g_array_free(stack, TRUE);
    return st;
}

/* A compiled template (transfer full), or NULL with *err set. */
static tmpl_t *
tmpl_compile(const char *name, const char *text, size_t len, const char *origin, char **err,
             cor_status_t *st)
{
    tmpl_t *t = g_new0(tmpl_t, 1);
    t->arena = arena_new(TMPL_CHUNK_SIZE);
    *st = compile(t, text ? text : "", text ? len : 0, origin ? origin : name, err);
    if (*st != COR_OK) {
        tmpl_free(t);
        return NULL;
    }
    return t;
}

cor_status_t
cor_tmpl_set_add(cor_tmpl_set_t *set, const char *name, const char *text, size_t len,
                 const char *origin, char **err)
{
    g_return_val_if_fail(set != NULL && name != NULL, COR_ERR_INVALID);
    cor_status_t st;
    tmpl_t *t = tmpl_compile(name, text, len, origin, err, &st);
    if (t)
        g_hash_table_replace(set->by_name, g_strdup(name), t);
    return st;
}

static int
cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

cor_status_t
cor_tmpl_set_add_dir(cor_tmpl_set_t *set, const char *dir, char **err)
{
    g_return_val_if_fail(set != NULL && dir != NULL, COR_ERR_INVALID);
    g_autoptr(GError) gerr = NULL;
    GDir *d = g_dir_open(dir, 0, &gerr);
    if (!d) {
        if (err)
            *err = g_strdup_printf("cannot read template folder '%s': %s", dir, gerr->message);
        return COR_ERR_IO;
    }
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    for (const char *n; (n = g_dir_read_name(d)) != NULL;)
        if (g_str_has_suffix(n, ".html") || g_str_has_suffix(n, ".xml") ||
            g_str_has_suffix(n, ".txt"))
            g_ptr_array_add(names, g_strdup(n));
    g_dir_close(d);
    g_ptr_array_sort(names, cmp_names);

    /* all or nothing: compile every file before replacing any template */
    g_autoptr(GPtrArray) compiled = g_ptr_array_new_with_free_func(tmpl_free);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_build_filename(dir, names->pdata[i], NULL);
        if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
            g_ptr_array_add(compiled, NULL);
            continue;
        }
        g_autofree char *text = NULL;
        gsize len = 0;
        g_clear_error(&gerr);
        if (!g_file_get_contents(path, &text, &len, &gerr)) {
            if (err)
                *err = g_strdup_printf("cannot read template '%s': %s", path, gerr->message);
            return COR_ERR_IO;
        }
        cor_status_t st;
        tmpl_t *t = tmpl_compile(names->pdata[i], text, len, path, err, &st);
        if (!t)
            return st;
        g_ptr_array_add(compiled, t);
    }
    for (guint i = 0; i < names->len; i++)
        if (compiled->pdata[i]) {
            g_hash_table_replace(set->by_name, g_strdup(names->pdata[i]), compiled->pdata[i]);
            compiled->pdata[i] = NULL;
        }
    return COR_OK;
}

/* ---- rendering ------------------------------------------------------------ */

typedef struct scope {
    const cor_tval_t *v;
    const struct scope *up;
} scope_t;

typedef struct render {
    const cor_tmpl_set_t *set;
    GString *out;
    char **err;
} render_t;

/* The field `key` of `obj`, or NULL when `obj` is not an object or has no
 * such key. */
static const tfield_t *
field_find(const cor_tval_t *obj, const tkey_t *key)
{
    if (!obj || obj->kind != TV_OBJECT || !(obj->u.obj.keys & key->bit))
        return NULL;
    for (const tfield_t *f = obj->u.obj.head; f; f = f->next)
        if (key_eq(&f->key, key))
            return f;
    return NULL;
}

/* The value a node's path names, or NULL when missing: the first segment
 * from the innermost scope that has it, the others inside that value only. */
static const cor_tval_t *
lookup(const tnode_t *n, const scope_t *sc)
{
    if (n->npath == 0)
        return sc ? sc->v : NULL;
    const tfield_t *f = NULL;
    for (; sc && !f; sc = sc->up)
        f = field_find(sc->v, &n->path[0]);
    const cor_tval_t *v = f ? f->val : NULL;
    for (size_t i = 1; i < n->npath && v; i++) {
        f = field_find(v, &n->path[i]);
        v = f ? f->val : NULL;
    }
    return v;
}

static bool
truthy(const cor_tval_t *v)
{
    if (!v)
        return false;
    switch (v->kind) {
    case TV_OBJECT: return true;
    case TV_LIST:   return v->u.list.len > 0;
    case TV_STR:
    case TV_HTML:   return v->u.str.len > 0;
    case TV_INT:    return v->u.i != 0;
    case TV_BOOL:   return v->u.b;
    }
    return false;
}

static void
append_int(GString *out, int64_t i)
{
    char buf[24], *p = buf + sizeof buf;
    uint64_t u = i < 0 ? (uint64_t) 0 - (uint64_t) i : (uint64_t) i;
    do {
        *--p = (char) ('0' + u % 10);
        u /= 10;
    } while (u);
    if (i < 0)
        *--p = '-';
    out_append(out, p, buf + sizeof buf - p);
}

static void
write_value(GString *out, const cor_tval_t *v)
{
    if (!v)
        return;
    switch (v->kind) {
    case TV_STR:    cor_escape_html(out, v->u.str.s, (gssize) v->u.str.len); break;
    case TV_HTML:   out_append(out, v->u.str.s, v->u.str.len); break;
    case TV_INT:    append_int(out, v->u.i); break;
    case TV_BOOL:   g_string_append(out, v->u.b ? "true" : "false"); break;
    case TV_OBJECT:
    case TV_LIST:   break;
    }
}

static cor_status_t
render_nodes(render_t *r, const tnode_t *nodes, size_t n, const scope_t *sc, int depth)
{
    for (size_t i = 0; i < n; i++) {
        const tnode_t *nd = &nodes[i];
        cor_status_t st = COR_OK;
        switch (nd->kind) {
        case N_TEXT:
            out_append(r->out, nd->text, nd->len);
            break;
        case N_VAR:
            write_value(r->out, lookup(nd, sc));
            break;
        case N_INVERTED:
            if (!truthy(lookup(nd, sc)))
                st = render_nodes(r, nd->kids, nd->nkids, sc, depth);
            break;
        case N_SECTION: {
            const cor_tval_t *v = lookup(nd, sc);
            if (!truthy(v))
                break;
            if (v->kind == TV_LIST) {
                for (const titem_t *it = v->u.list.head; it && st == COR_OK; it = it->next) {
                    scope_t inner = { it->val, sc };
                    st = render_nodes(r, nd->kids, nd->nkids, &inner, depth);
                }
            } else {
                scope_t inner = { v, sc };
                st = render_nodes(r, nd->kids, nd->nkids, &inner, depth);
            }
            break;
        }
        case N_PARTIAL: {
            if (depth >= PARTIAL_DEPTH)
                break;
            const tmpl_t *t = g_hash_table_lookup(r->set->by_name, nd->text);
            if (!t) {
                if (r->err)
                    *r->err = g_strdup_printf("no template '%s'", nd->text);
                return COR_ERR_NOT_FOUND;
            }
            st = render_nodes(r, t->nodes, t->nnodes, sc, depth + 1);
            break;
        }
        }
        if (st != COR_OK)
            return st;
    }
    return COR_OK;
}

cor_status_t
cor_tmpl_render(const cor_tmpl_set_t *set, const char *name, const cor_tval_t *scope,
                GString *out, char **err)
{
    g_return_val_if_fail(set != NULL && name != NULL && out != NULL, COR_ERR_INVALID);
    const tmpl_t *t = g_hash_table_lookup(set->by_name, name);
    if (!t) {
        if (err)
            *err = g_strdup_printf("no template '%s'", name);
        return COR_ERR_NOT_FOUND;
    }
    render_t r = { .set = set, .out = out, .err = err };
    scope_t top = { scope, NULL };
    size_t start = out->len;
    cor_status_t st = render_nodes(&r, t->nodes, t->nnodes, scope ? &top : NULL, 0);
    if (st != COR_OK)
        g_string_truncate(out, start);
    return st;
}
