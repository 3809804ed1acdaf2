/* archive-web/render.c — page contents (see render.h).
 *
 * Every string that comes from mail reaches a page through the template
 * engine, which escapes it (core/template.h); the only markup made here is
 * the message text with its links (text_html: escaped, then links added
 * around http/https URLs) and HTML parts, which go through
 * cor_sanitize_html() first.
 */
#include "archive-web/render.h"

#include <string.h>
#include <time.h>

#include "archive-web/archive.h"
#include "core/message.h"
#include "core/sanitize.h"
#include "core/thread.h"

/* Posts listed on an author page; the others are found by search. */
#define AUTHOR_POSTS 100

static const char *const month_names[] = {
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
};

/* Dates without GDateTime or printf: they are made for every post of
 * every listing page. */
static bool
utc(int64_t t, struct tm *tm)
{
    time_t tt = (time_t) t;
    return gmtime_r(&tt, tm) != NULL && tm->tm_year + 1900 >= 0 && tm->tm_year + 1900 <= 9999;
}

static char *
put_num(char *p, int v, int width)
{
    char tmp[12];
    int n = 0;
    do {
        tmp[n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v > 0 && n < 11);
    while (n < width)
        tmp[n++] = '0';
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

void
rnd_date(char *buf, size_t n, int64_t t)
{
    struct tm tm;
    if (n < 48 || !utc(t, &tm)) {
        g_strlcpy(buf, "unknown date", n);
        return;
    }
    char *p = put_num(buf, tm.tm_mday, 1);
    *p++ = ' ';
    size_t ml = strlen(month_names[tm.tm_mon]);
    memcpy(p, month_names[tm.tm_mon], ml);
    p += ml;
    *p++ = ' ';
    p = put_num(p, tm.tm_year + 1900, 1);
    *p++ = ',';
    *p++ = ' ';
    p = put_num(p, tm.tm_hour, 2);
    *p++ = ':';
    p = put_num(p, tm.tm_min, 2);
    memcpy(p, " UTC", 5);
}

void
rnd_date_iso(char *buf, size_t n, int64_t t)
{
    struct tm tm;
    if (n < 21 || !utc(t, &tm)) {
        g_strlcpy(buf, "1970-01-01T00:00:00Z", n);
        return;
    }
    char *p = put_num(buf, tm.tm_year + 1900, 4);
    *p++ = '-';
    p = put_num(p, tm.tm_mon + 1, 2);
    *p++ = '-';
    p = put_num(p, tm.tm_mday, 2);
    *p++ = 'T';
    p = put_num(p, tm.tm_hour, 2);
    *p++ = ':';
    p = put_num(p, tm.tm_min, 2);
    *p++ = ':';
    p = put_num(p, tm.tm_sec, 2);
    *p++ = 'Z';
    *p = '\0';
}

void
rnd_month_name(char *buf, size_t n, int month)
{
    g_snprintf(buf, n, "%s %d", month_names[month % 12], month / 12);
}

void
rnd_month_slug(char *buf, size_t n, int month)
{
    g_snprintf(buf, n, "%04d-%02d", month / 12, month % 12 + 1);
}

static void
size_text(char *buf, size_t n, uint64_t size)
{
    if (size < 1024)
        g_snprintf(buf, n, "%" G_GUINT64_FORMAT " bytes", size);
    else if (size < 1024 * 1024)
        g_snprintf(buf, n, "%.1f KB", size / 1024.0);
    else
        g_snprintf(buf, n, "%.1f MB", size / (1024.0 * 1024.0));
}

char *
rnd_msg_rel(const char *group, const char *key, const char *ext)
{
    return g_strdup_printf("g/%s/m/%.2s/%s%s", group, key, key, ext);
}

char *
rnd_thread_rel(const char *group, int64_t id, const char *ext)
{
    return g_strdup_printf("g/%s/t/%02x/%" G_GINT64_FORMAT "%s", group, (unsigned) (id & 0xff), id,
                           ext);
}

/* Sets key to prefix + a path made by one of the two above (freed here). */
static void
set_path(cor_tctx_t *c, cor_tval_t *v, const char *key, const char *prefix, char *path)
{
    cor_tval_set_printf(c, v, key, "%s%s", prefix, path);
    g_free(path);
}

char *
rnd_root_of(const char *path)
{
    GString *r = g_string_new(NULL);
    for (const char *p = path; *p; p++)
        if (*p == '/')
            g_string_append(r, "../");
    return g_string_free(r, FALSE);
}

static const char *
display_name(const am_post_t *p)
{
    if (*p->from_name)
        return p->from_name;
    if (*p->from_addr)
        return p->from_addr;
    return "Unknown sender";
}

static const char *
subject_or_none(const char *s)
{
    return s && *s ? s : "(no subject)";
}

/* ---- text to markup ---- */

static bool
url_char(unsigned char c)
{
    return c > 0x20 && c != '<' && c != '>' && c != '"' && c != 0x7f && c != '`';
}

/* Escaped text with http/https URLs made into links (rel="nofollow ...").
 * Every byte of `text` goes through cor_escape_html. */
static void
text_html(GString *out, const char *text)
{
    const char *p = text, *run = text;
    while ((p = strstr(p, "http")) != NULL) {
        size_t scheme = g_str_has_prefix(p, "https://") ? 8 : g_str_has_prefix(p, "http://") ? 7 : 0;
        bool boundary = p == text || !g_ascii_isalnum(p[-1]);
        if (!scheme || !boundary) {
            p += 4;
            continue;
        }
        const char *e = p + scheme;
        while (*e && url_char((unsigned char) *e))
            e++;
        /* trailing punctuation belongs to the sentence; a ')' only when
         * the URL has no '(' */
        while (e > p + scheme && strchr(".,;:!?'*", e[-1]))
            e--;
        if (e > p + scheme && e[-1] == ')' && !memchr(p, '(', (size_t) (e - p)))
            e--;
        if (e <= p + scheme + 1) {
            p = e > p + 4 ? e : p + 4;
            continue;
        }
        cor_escape_html(out, run, p - run);
        g_string_append(out, "<a class=\"govuk-link\" rel=\"nofollow noopener noreferrer\" href=\"");
        cor_escape_html(out, p, e - p);
        g_string_append(out, "\">");
        cor_escape_html(out, p, e - p);
        g_string_append(out, "</a>");
        run = p = e;
    }
    cor_escape_html(out, run, -1);
}

static int
count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* ---- messages ---- */

struct rnd_message {
    cor_message_t *msg;
    GBytes *raw;
    /* the text as markup, made once for the message and the thread page */
    char *body_html, *quoted_html, *signature_html;
};

void
rnd_message_free(rnd_message_t *m)
{
    if (!m)
        return;
    cor_message_free(m->msg);
    if (m->raw)
        g_bytes_unref(m->raw);
    g_free(m->body_html);
    g_free(m->quoted_html);
    g_free(m->signature_html);
    g_free(m);
}

void
rnd_file_free(rnd_file_t *f)
{
    if (!f)
        return;
    g_free(f->path);
    if (f->data)
        g_bytes_unref(f->data);
    g_free(f);
}

static void
add_file(GPtrArray *files, char *path, GString *content)
{
    rnd_file_t *f = g_new(rnd_file_t, 1);
    f->path = path;
    f->data = g_string_free_to_bytes(content);
    g_ptr_array_add(files, f);
}

static cor_status_t
message_load(cor_store_t *st, const am_post_t *p, unsigned flags, rnd_message_t **out);

cor_status_t
rnd_message_load(cor_store_t *st, const am_post_t *p, rnd_message_t **out)
{
    return message_load(st, p, COR_PARSE_KEEP_HTML, out);
}

cor_status_t
rnd_message_cached(GHashTable *cache, cor_store_t *st, const am_post_t *p, rnd_message_t **out)
{
    rnd_message_t *rm = g_hash_table_lookup(cache, &p->msg);
    if (!rm) {
        cor_status_t s = rnd_message_load(st, p, &rm);
        if (s != COR_OK)
            return s;
        int64_t *k = g_new(int64_t, 1);
        *k = p->msg;
        g_hash_table_insert(cache, k, rm);
    }
    *out = rm;
    return COR_OK;
}

cor_status_t
rnd_message_load_parts(cor_store_t *st, const am_post_t *p, rnd_message_t **out)
{
    return message_load(st, p, COR_PARSE_KEEP_HTML | COR_PARSE_KEEP_PARTS, out);
}

static cor_status_t
message_load(cor_store_t *st, const am_post_t *p, unsigned flags, rnd_message_t **out)
{
    *out = NULL;
    GBytes *raw = NULL;
    cor_status_t s = cor_store_message_raw(st, p->msg, &raw);
    if (s != COR_OK)
        return s;
    gsize len;
    const char *data = g_bytes_get_data(raw, &len);
    cor_message_t *msg = NULL;
    s = cor_message_parse_ex(data, len, p->date, flags, &msg, NULL);
    if (s != COR_OK) {
        /* no header block at all: show it as text rather than lose it */
        g_autoptr(GString) fake = g_string_new("Subject: (unreadable message)\n\n");
        g_string_append_len(fake, data, (gssize) len);
        s = cor_message_parse_ex(fake->str, fake->len, p->date, 0, &msg, NULL);
        if (s != COR_OK) {
            g_bytes_unref(raw);
            return s;
        }
    }
    rnd_message_t *m = g_new0(rnd_message_t, 1);
    m->msg = msg;
    m->raw = raw;
    *out = m;
    return COR_OK;
}

/* File extensions an attachment may keep: types a browser does not run.
 * Anything else (html, svg, xml, js, exe...) is saved as .bin. */
static const char *const safe_ext[] = {
    "pdf", "png", "jpg", "jpeg", "gif", "webp", "txt", "csv", "doc", "docx", "xls", "xlsx",
    "ppt", "pptx", "odt", "ods", "odp", "rtf", "zip", "gz", "tgz", "bz2", "xz", "7z",
    "ics", "vcf", "mp3", "mp4", "wav", "msg",
};

static const struct { const char *type, *ext; } type_ext[] = {
    { "application/pdf", "pdf" }, { "image/png", "png" }, { "image/jpeg", "jpg" },
    { "image/gif", "gif" }, { "text/plain", "txt" }, { "text/x-patch", "txt" },
    { "text/x-diff", "txt" }, { "text/csv", "csv" }, { "text/calendar", "ics" },
    { "application/zip", "zip" }, { "message/rfc822", "eml.txt" },
    { "application/msword", "doc" }, { "application/vnd.ms-excel", "xls" },
};

static const char *
attachment_ext(const cor_attachment_t *a)
{
    const char *dot = strrchr(a->filename, '.');
    if (dot && dot[1]) {
        g_autofree char *ext = g_ascii_strdown(dot + 1, -1);
        for (size_t i = 0; i < G_N_ELEMENTS(safe_ext); i++)
            if (strcmp(ext, safe_ext[i]) == 0)
                return safe_ext[i];
        if (strcmp(ext, "patch") == 0 || strcmp(ext, "diff") == 0 || strcmp(ext, "log") == 0)
            return "txt";
    }
    for (size_t i = 0; i < G_N_ELEMENTS(type_ext); i++)
        if (strcmp(a->content_type, type_ext[i].type) == 0)
            return type_ext[i].ext;
    return "bin";
}

/* The name offered for download: the decoded name without folders, control
 * characters or leading dots; "attachment-N.EXT" when nothing is left. */
static char *
download_name(const cor_attachment_t *a, int n, const char *ext)
{
    const char *base = a->filename;
    for (const char *p = a->filename; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    GString *o = g_string_new(NULL);
    for (const char *p = base; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        /* no controls, and no invisible format characters: a right-to-left
         * override would show "invoice\u202Efdp.exe" as "invoiceexe.pdf" */
        GUnicodeType t = g_unichar_type(c);
        if (t == G_UNICODE_CONTROL || t == G_UNICODE_FORMAT || t == G_UNICODE_UNASSIGNED ||
            t == G_UNICODE_LINE_SEPARATOR || t == G_UNICODE_PARAGRAPH_SEPARATOR)
            continue;
        if (c == ':' || c == '*' || c == '?' || c == '"' || c == '<' || c == '>' || c == '|')
            continue;
        if (o->len == 0 && (c == '.' || c == ' '))
            continue;
        g_string_append_unichar(o, c);
        if (g_utf8_strlen(o->str, -1) >= 100)
            break;
    }
    if (o->len == 0)
        g_string_printf(o, "attachment-%d.%s", n, ext);
    return g_string_free(o, FALSE);
}

static const struct { const char *ext, *type; } ext_type[] = {
    { "pdf", "application/pdf" }, { "png", "image/png" }, { "jpg", "image/jpeg" },
    { "jpeg", "image/jpeg" }, { "gif", "image/gif" }, { "webp", "image/webp" },
    { "txt", "text/plain; charset=utf-8" }, { "csv", "text/csv; charset=utf-8" },
    { "eml.txt", "text/plain; charset=utf-8" }, { "ics", "text/calendar" },
    { "zip", "application/zip" },
};

GBytes *
rnd_message_raw(const rnd_message_t *m)
{
    return m->raw;
}

cor_status_t
rnd_attachment(const rnd_message_t *m, int n, GBytes **data, const char **ext, char **name,
               const char **type)
{
    if (n < 1 || (guint) n > m->msg->attachments->len)
        return COR_ERR_NOT_FOUND;
    const cor_attachment_t *a = m->msg->attachments->pdata[n - 1];
    if (!a->data)
        return COR_ERR_NOT_FOUND;
    *ext = attachment_ext(a);
    *name = download_name(a, n, *ext);
    *type = "application/octet-stream";
    for (size_t i = 0; i < G_N_ELEMENTS(ext_type); i++)
        if (strcmp(*ext, ext_type[i].ext) == 0)
            *type = ext_type[i].type;
    *data = g_bytes_ref(a->data);
    return COR_OK;
}

/* Values of one message for the article partial. */
static void
message_scope(cor_tctx_t *c, cor_tval_t *v, const am_post_t *p, const rnd_message_t *rm,
              bool full)
{
    const cor_message_t *m = rm->msg;
    char buf[64];
    cor_tval_set_str(c, v, "key", p->key);
    set_path(c, v, "msg_href", "", rnd_msg_rel(p->group->info->name, p->key, ".html"));
    cor_tval_set_str(c, v, "subject", subject_or_none(m->subject));
    cor_tval_set_str(c, v, "from_name", display_name(p));
    cor_tval_set_printf(c, v, "author_url", "author/%s.html", p->author->key);
    rnd_date(buf, sizeof buf, p->date);
    cor_tval_set_str(c, v, "date", buf);
    rnd_date_iso(buf, sizeof buf, p->date);
    cor_tval_set_str(c, v, "date_iso", buf);
    cor_tval_set_str(c, v, "to", m->to);
    cor_tval_set_str(c, v, "cc", m->cc);
    cor_tval_set_str(c, v, "message_id", p->message_id);

    /* the markup of the text is made once per message (a cache in rm:
     * the message page and the thread page show the same) */
    rnd_message_t *cache = (rnd_message_t *) rm;
    const char *new_text = *m->new_text ? m->new_text : m->body;
    if (!cache->body_html) {
        GString *h = g_string_sized_new(strlen(new_text) + 64);
        text_html(h, new_text);
        cache->body_html = g_string_free(h, FALSE);
        if (*m->new_text && *m->quoted_text) {
            h = g_string_sized_new(strlen(m->quoted_text) + 64);
            text_html(h, m->quoted_text);
            cache->quoted_html = g_string_free(h, FALSE);
        }
        if (*m->signature) {
            h = g_string_sized_new(strlen(m->signature) + 64);
            text_html(h, m->signature);
            cache->signature_html = g_string_free(h, FALSE);
        }
    }
    cor_tval_set_html(c, v, "body_html", cache->body_html);
    if (!*new_text && !*m->quoted_text)
        cor_tval_set_bool(c, v, "empty", true);
    if (cache->quoted_html) {
        cor_tval_set_html(c, v, "quoted_html", cache->quoted_html);
        int n = count_lines(m->quoted_text);
        cor_tval_set_printf(c, v, "quoted_lines", "%d line%s", n, n == 1 ? "" : "s");
    }
    if (cache->signature_html) {
        cor_tval_set_html(c, v, "signature_html", cache->signature_html);
        int n = count_lines(m->signature);
        cor_tval_set_printf(c, v, "signature_lines", "%d line%s", n, n == 1 ? "" : "s");
    }
    if (full && m->body_from_html && m->body_html && *m->body_html) {
        g_autofree char *safe = cor_sanitize_html(m->body_html, strlen(m->body_html));
        if (*safe)
            cor_tval_set_html(c, v, "html_part", safe);
    }
    if (m->attachments->len > 0) {
        cor_tval_set_bool(c, v, "has_attachments", true);
        cor_tval_t *list = cor_tval_set_list(c, v, "attachments");
        for (guint i = 0; i < m->attachments->len; i++) {
            const cor_attachment_t *a = m->attachments->pdata[i];
            const char *ext = attachment_ext(a);
            g_autofree char *name = download_name(a, (int) i + 1, ext);
            cor_tval_t *it = cor_tval_list_add_object(c, list);
            cor_tval_set_str(c, it, "name", name);
            cor_tval_set_str(c, it, "type", a->content_type);
            size_text(buf, sizeof buf, a->size);
            cor_tval_set_str(c, it, "size", buf);
            cor_tval_set_printf(c, it, "href", "m/%.2s/%s/%u.%s", p->key, p->key, i + 1, ext);
        }
    }
}

cor_tval_t *
rnd_page_scope(cor_tctx_t *c, const rnd_site_t *s, const char *path, const char *title)
{
    cor_tval_t *v = cor_tval_object(c);
    g_autofree char *root = rnd_root_of(path);
    cor_tval_set_str(c, v, "root", root);
    cor_tval_set_str(c, v, "site_title", s->title);
    cor_tval_set_str(c, v, "organisation", s->organisation);
    cor_tval_set_str(c, v, "title", title);
    return v;
}

static cor_tval_t *
crumbs(cor_tctx_t *c, cor_tval_t *scope, const char *group, const char *group_title)
{
    cor_tval_t *list = cor_tval_set_list(c, scope, "breadcrumbs");
    cor_tval_t *it = cor_tval_list_add_object(c, list);
    cor_tval_set_static(c, it, "href", "index.html");
    cor_tval_set_static(c, it, "text", "All groups");
    if (group) {
        it = cor_tval_list_add_object(c, list);
        cor_tval_set_printf(c, it, "href", "g/%s/index.html", group);
        cor_tval_set_str(c, it, "text", group_title && *group_title ? group_title : group);
    }
    return list;
}

static void
group_scope(cor_tctx_t *c, cor_tval_t *scope, const cor_group_t *info)
{
    cor_tval_t *gv = cor_tval_set_object(c, scope, "group");
    cor_tval_set_str(c, gv, "name", info->name);
    cor_tval_set_str(c, gv, "title", *info->title ? info->title : info->name);
    cor_tval_set_str(c, gv, "description", info->description);
    cor_tval_set_str(c, gv, "visibility", cor_visibility_to_string(info->visibility));
    cor_tval_set_printf(c, gv, "href", "g/%s/", info->name);
}

static cor_tval_t *
group_page(cor_tctx_t *c, const rnd_site_t *s, const char *path, const char *title,
           const am_group_t *g, bool top)
{
    cor_tval_t *v = rnd_page_scope(c, s, path, title);
    group_scope(c, v, g->info);
    crumbs(c, v, top ? NULL : g->info->name, g->info->title);
    return v;
}

static cor_status_t
render_to(const rnd_site_t *s, const char *tmpl, cor_tval_t *scope, GString *out, char **err)
{
    return cor_tmpl_render(s->tmpl, tmpl, scope, out, err);
}

/* Renders template `tmpl` and appends it to `files` as `path` (transfer
 * full: freed on error too).  `hint` sizes the buffer. */
static cor_status_t
emit(const rnd_site_t *s, const char *tmpl, cor_tval_t *scope, char *path, size_t hint,
     GPtrArray *files, char **err)
{
    GString *out = g_string_sized_new(hint);
    cor_status_t rs = render_to(s, tmpl, scope, out, err);
    if (rs != COR_OK) {
        g_free(path);
        g_string_free(out, TRUE);
        return rs;
    }
    add_file(files, path, out);
    return COR_OK;
}

/* The values every page of group g has: title, group, breadcrumbs (with
 * the group's own crumb unless `top`). */
static cor_tval_t *
group_page(cor_tctx_t *c, const rnd_site_t *s, const char *path, const char *title,
           const am_group_t *g, bool top);

cor_status_t
rnd_message_files(const rnd_site_t *s, const am_post_t *p, const rnd_message_t *rm,
                  GPtrArray *files, char **err)
{
    const char *gname = p->group->info->name;
    char *path = rnd_msg_rel(gname, p->key, ".html");
    g_autoptr(cor_tctx_t) c = cor_tctx_new();
    cor_tval_t *v = group_page(c, s, path, subject_or_none(rm->msg->subject), p->group, false);
    cor_tval_t *mv = cor_tval_set_object(c, v, "message");
    message_scope(c, mv, p, rm, true);
    cor_tval_set_bool(c, mv, "standalone", true);
    g_autofree char *th = rnd_thread_rel(gname, p->thread->id, ".html");
    cor_tval_set_printf(c, v, "thread_href", "%s#m-%s", th, p->key);
    set_path(c, v, "eml_href", "", rnd_msg_rel(gname, p->key, ".eml"));
    set_path(c, v, "permalink", s->url, rnd_msg_rel(gname, p->key, ".html"));
    set_path(c, v, "self_href", "", rnd_msg_rel(gname, p->key, ".html"));
    GString *out = g_string_sized_new(8192);
    cor_status_t st = render_to(s, "message.html", v, out, err);
    if (st != COR_OK) {
        g_free(path);
        g_string_free(out, TRUE);
        return st;
    }
    add_file(files, path, out);

    return COR_OK;
}

cor_status_t
rnd_pending_page(const rnd_site_t *s, const cor_group_t *g, const char *key, GString *out,
                 char **err)
{
    /* served at the message page's own address: links relative to it, as
     * the page that will be there has them */
    g_autofree char *path = rnd_msg_rel(g->name, key, ".html");
    g_autoptr(cor_tctx_t) c = cor_tctx_new();
    cor_tval_t *v = rnd_page_scope(c, s, path, "This message is being added to the archive");
    group_scope(c, v, g);
    crumbs(c, v, g->name, g->title);
    set_path(c, v, "eml_href", "", rnd_msg_rel(g->name, key, ".eml"));
    return render_to(s, "pending.html", v, out, err);
}

/* Depth-first over the display tree: the posts in tree order with depth. */
typedef struct {
    GHashTable *by_msg;        /* msg -> index in t->posts */
    GArray *order;             /* int index */
    GArray *depth;             /* int */
    GArray *parent;            /* int index, -1 */
} walk_t;

static void
tree_walk(walk_t *w, GPtrArray *nodes, int depth, int parent)
{
    for (guint i = 0; i < nodes->len; i++) {
        cor_thread_node_t *n = nodes->pdata[i];
        int me = parent;
        int d = depth;
        if (n->msg) {
            gpointer idx;
            if (g_hash_table_lookup_extended(w->by_msg, &n->msg, NULL, &idx)) {
                me = GPOINTER_TO_INT(idx);
                g_array_append_val(w->order, me);
                g_array_append_val(w->depth, depth);
                g_array_append_val(w->parent, parent);
                d = depth + 1;
            }
        }
        if (n->children)
            tree_walk(w, n->children, d, me);
    }
}

/* Fills feed entry e (an object already in its list) for post p. */
static void
feed_entry(cor_tctx_t *c, cor_tval_t *e, const rnd_site_t *s, const am_post_t *p,
           const rnd_message_t *rm)
{
    char buf[64];
    cor_tval_set_str(c, e, "title", subject_or_none(rm->msg->subject));
    set_path(c, e, "url", s->url, rnd_msg_rel(p->group->info->name, p->key, ".html"));
    cor_tval_set_str(c, e, "author", display_name(p));
    rnd_date_iso(buf, sizeof buf, p->date);
    cor_tval_set_str(c, e, "updated", buf);
    const char *text = *rm->msg->new_text ? rm->msg->new_text : rm->msg->body;
    size_t len = strlen(text);
    if (len > 4000) {
        const char *end = g_utf8_find_prev_char(text, text + 4000);
        len = end ? (size_t) (end - text) : 0;
    }
    cor_tval_set_str_len(c, e, "content", text, len);
}

cor_status_t
rnd_thread_files(const rnd_site_t *s, cor_store_t *st, const am_thread_t *t,
                 rnd_message_get_fn get, void *data, GPtrArray *files, char **err)
{
    const am_group_t *g = t->group;
    const char *gname = g->info->name;
    const am_post_t *first = t->posts->pdata[0];

    /* tree order */
    walk_t w = {
        .by_msg = g_hash_table_new(g_int64_hash, g_int64_equal),
        .order = g_array_new(FALSE, FALSE, sizeof(int)),
        .depth = g_array_new(FALSE, FALSE, sizeof(int)),
        .parent = g_array_new(FALSE, FALSE, sizeof(int)),
    };
    for (guint i = 0; i < t->posts->len; i++) {
        am_post_t *p = t->posts->pdata[i];
        g_hash_table_insert(w.by_msg, &p->msg, GINT_TO_POINTER((int) i));
    }
    GPtrArray *roots = NULL;
    int64_t live = 0;
    if (cor_thread_tree(st, g->info->id, first->message_id, &live, &roots) == COR_OK) {
        tree_walk(&w, roots, 0, -1);
        g_ptr_array_unref(roots);
    }
    /* posts the tree did not reach (should not happen): after, at depth 0 */
    if (w.order->len < t->posts->len) {
        g_autofree bool *seen = g_new0(bool, t->posts->len);
        for (guint i = 0; i < w.order->len; i++)
            seen[g_array_index(w.order, int, i)] = true;
        for (guint i = 0; i < t->posts->len; i++) {
            if (seen[i])
                continue;
            int idx = (int) i, zero = 0, none = -1;
            g_array_append_val(w.order, idx);
            g_array_append_val(w.depth, zero);
            g_array_append_val(w.parent, none);
        }
    }

    /* One pass in tree order fills both the page's messages and the feed's
     * entries, asking for one parsed message at a time (see render.h): the
     * values are copies, so what a thread of hundreds of messages holds
     * while it is made is its page, not its parsed messages. */
    char *path = rnd_thread_rel(gname, t->id, ".html");
    g_autoptr(cor_tctx_t) c = cor_tctx_new();
    cor_tval_t *holder = cor_tval_object(c);
    cor_tval_t *list = cor_tval_set_list(c, holder, "messages");
    g_autoptr(cor_tctx_t) fc = cor_tctx_new();
    cor_tval_t *fv = cor_tval_object(fc);
    cor_tval_t *entries = cor_tval_set_list(fc, fv, "entries");
    /* the newest [archive] feed_entries messages, newest first: posts
     * [feed_from, len) go to entry slot len - 1 - i */
    guint n_feed = MIN(t->posts->len, (guint) MAX(s->feed_entries, 0));
    guint feed_from = t->posts->len - n_feed;
    g_autofree cor_tval_t **slot = g_new0(cor_tval_t *, n_feed + 1);
    for (guint k = 0; k < n_feed; k++)
        slot[k] = cor_tval_list_add_object(fc, entries);
    g_autofree char *subject = NULL;
    cor_status_t rs = COR_OK;
    for (guint i = 0; rs == COR_OK && i < w.order->len; i++) {
        int idx = g_array_index(w.order, int, i);
        int depth = g_array_index(w.depth, int, i);
        int parent = g_array_index(w.parent, int, i);
        const am_post_t *p = t->posts->pdata[idx];
        const rnd_message_t *rm = NULL;
        if ((rs = get(data, p, &rm, err)) != COR_OK)
            break;
        if (idx == 0)
            subject = g_strdup(subject_or_none(rm->msg->subject));
        cor_tval_t *mv = cor_tval_list_add_object(c, list);
        message_scope(c, mv, p, rm, false);
        cor_tval_set_int(c, mv, "depth", depth > 8 ? 8 : depth);
        if (parent >= 0) {
            const am_post_t *pp = t->posts->pdata[parent];
            cor_tval_t *pv = cor_tval_set_object(c, mv, "parent");
            cor_tval_set_str(c, pv, "key", pp->key);
            cor_tval_set_str(c, pv, "from_name", display_name(pp));
        }
        if ((guint) idx >= feed_from)
            feed_entry(fc, slot[t->posts->len - 1 - (guint) idx], s, p, rm);
    }
    g_hash_table_unref(w.by_msg);
    g_array_unref(w.order);
    g_array_unref(w.depth);
    g_array_unref(w.parent);
    if (rs != COR_OK) {
        g_free(path);
        return rs;
    }
    if (!subject)               /* cannot be: the tree order holds every post */
        subject = g_strdup(subject_or_none(first->subject));

    cor_tval_t *v = group_page(c, s, path, subject, g, false);
    cor_tval_set_value(c, v, "messages", list);
    cor_tval_set_int(c, v, "count", t->posts->len);
    cor_tval_set_bool(c, v, "plural", t->posts->len != 1);
    set_path(c, v, "feed_href", "", rnd_thread_rel(gname, t->id, ".atom"));
    char buf[64];
    rnd_date(buf, sizeof buf, first->date);
    cor_tval_set_str(c, v, "first_date", buf);
    rnd_date(buf, sizeof buf, t->last_date);
    cor_tval_set_str(c, v, "last_date", buf);
    GString *out = g_string_sized_new(16384);
    rs = render_to(s, "thread.html", v, out, err);
    if (rs != COR_OK) {
        g_free(path);
        g_string_free(out, TRUE);
        return rs;
    }
    add_file(files, path, out);

    /* the thread's feed */
    cor_tval_set_str(fc, fv, "title", subject);
    set_path(fc, fv, "id", s->url, rnd_thread_rel(gname, t->id, ".html"));
    set_path(fc, fv, "self", s->url, rnd_thread_rel(gname, t->id, ".atom"));
    set_path(fc, fv, "alternate", s->url, rnd_thread_rel(gname, t->id, ".html"));
    rnd_date_iso(buf, sizeof buf, t->last_date);
    cor_tval_set_str(fc, fv, "updated", buf);
    cor_tval_set_str(fc, fv, "site_title", s->title);
    out = g_string_sized_new(8192);
    if ((rs = render_to(s, "atom.xml", fv, out, err)) != COR_OK) {
        g_string_free(out, TRUE);
        return rs;
    }
    add_file(files, rnd_thread_rel(gname, t->id, ".atom"), out);
    return COR_OK;
}

cor_status_t
rnd_alias_file(const rnd_site_t *s, am_group_t *g, int64_t old, int64_t live, GPtrArray *files,
               char **err)
{
    char *path = rnd_thread_rel(g->info->name, old, ".html");
    g_autoptr(cor_tctx_t) c = cor_tctx_new();
    cor_tval_t *v = group_page(c, s, path, "This conversation has moved", g, false);
    set_path(c, v, "target", "", rnd_thread_rel(g->info->name, live, ".html"));
    return emit(s, "moved.html", v, path, 4096, files, err);
}

/* ---- listings ---- */

int
rnd_index_numbered(const rnd_site_t *s, const am_group_t *g)
{
    int nfull = (int) (g->n_threads / s->per_page);
    return nfull > 1 ? nfull - 1 : 0;
}

int
rnd_index_page_of(const rnd_site_t *s, const am_group_t *g, int64_t rank)
{
    int numbered = rnd_index_numbered(s, g);
    int k = (int) (rank / s->per_page) + 1;
    return k <= numbered ? k : 0;
}

static void
thread_row(cor_tctx_t *c, cor_tval_t *list, const am_thread_t *t)
{
    const am_post_t *first = t->first;
    char buf[64];
    cor_tval_t *r = cor_tval_list_add_object(c, list);
    cor_tval_set_str(c, r, "subject", subject_or_none(first->subject));
    set_path(c, r, "href", "", rnd_thread_rel(t->group->info->name, t->id, ".html"));
    cor_tval_set_int(c, r, "count", t->count);
    cor_tval_set_bool(c, r, "plural", t->count != 1);
    cor_tval_set_str(c, r, "started_by", display_name(first));
    const am_post_t *last = t->last;
    cor_tval_set_str(c, r, "last_by", display_name(last));
    rnd_date(buf, sizeof buf, t->last_date);
    cor_tval_set_str(c, r, "last_date", buf);
    rnd_date_iso(buf, sizeof buf, t->last_date);
    cor_tval_set_str(c, r, "last_date_iso", buf);
}

static void
months_list(cor_tctx_t *c, cor_tval_t *v, const am_group_t *g)
{
    GArray *months = g->month_list;
    cor_tval_t *list = cor_tval_set_list(c, v, "months");
    cor_tval_set_bool(c, v, "has_months", months->len > 0);
    char buf[64];
    for (guint i = 0; i < months->len; i++) {
        int mo = g_array_index(months, am_month_t, i).month;
        cor_tval_t *it = cor_tval_list_add_object(c, list);
        rnd_month_name(buf, sizeof buf, mo);
        cor_tval_set_str(c, it, "name", buf);
        rnd_month_slug(buf, sizeof buf, mo);
        cor_tval_set_printf(c, it, "href", "g/%s/%s.html", g->info->name, buf);
        cor_tval_set_int(c, it, "count", g_array_index(months, am_month_t, i).posts);
    }
}

cor_status_t
rnd_index_file(const rnd_site_t *s, const am_group_t *g, int k, GPtrArray *files, char **err)
{
    int numbered = rnd_index_numbered(s, g);
    int64_t from, to;      /* ranks [from, to) */
    if (k == 0) {
        from = numbered > 0 ? (int64_t) numbered * s->per_page : 0;
        to = g->n_threads;
    } else {
        from = (int64_t) (k - 1) * s->per_page;
        to = from + s->per_page;
    }
    char *path = k == 0 ? g_strdup_printf("g/%s/index.html", g->info->name)
                        : g_strdup_printf("g/%s/page-%d.html", g->info->name, k);
    const char *gtitle = *g->info->title ? g->info->title : g->info->name;
    g_autofree char *title = k == 0 ? g_strdup(gtitle)
                                    : g_strdup_printf("%s: older conversations, page %d", gtitle, k);
    g_autoptr(cor_tctx_t) c = cor_tctx_new();
    cor_tval_t *v = group_page(c, s, path, title, g, k == 0);
    cor_tval_set_bool(c, v, "front", k == 0);
    cor_tval_set_int(c, v, "page", k);
    cor_tval_t *list = cor_tval_set_list(c, v, "threads");
    /* a partial model holds the ranks from order_base on (model.h) */
    if (from < g->order_base) {
        if (err)
            *err = g_strdup_printf("index page %d of group '%s' is not loaded", k, g->info->name);
        g_free(path);
        return COR_ERR_INTERNAL;
    }
    for (int64_t r = to - 1; r >= from; r--)
        thread_row(c, list, g->order->pdata[r - g->order_base]);
    cor_tval_set_bool(c, v, "has_threads", to > from);
    /* pagination: newer and older neighbours, newest and oldest */
    int older = k == 0 ? numbered : k - 1;
    if (k > 0 && k + 1 <= numbered)
        cor_tval_set_printf(c, v, "newer_href", "g/%s/page-%d.html", g->info->name, k + 1);
    else if (k > 0)
        cor_tval_set_printf(c, v, "newer_href", "g/%s/index.html", g->info->name);
    if (k > 0)
        cor_tval_set_printf(c, v, "newest_href", "g/%s/index.html", g->info->name);
    if (older > 0) {
        cor_tval_set_printf(c, v, "older_href", "g/%s/page-%d.html", g->info->name, older);
        cor_tval_set_printf(c, v, "oldest_href", "g/%s/page-1.html", g->info->name);
    }
    cor_tval_set_bool(c, v, "has_pager", k > 0 || older > 0);
    if (k == 0) {
        months_list(c, v, g);
        cor_tval_set_printf(c, v, "feed_href", "g/%s/atom.xml", g->info->name);
        cor_tval_set_int(c, v, "thread_count", g->n_threads);
        cor_tval_set_int(c, v, "message_count", g->n_posts);
    }
    return emit(s, "group.html", v, path, 16384, files, err);
}

cor_status_t
rnd_month_file(const rnd_site_t *s, am_group_t *g, int month, GPtrArray *files, char **err)
{
    char slug[16], name[64];
    rnd_month_slug(slug, sizeof slug, month);
    rnd_month_name(name, sizeof name, month);
    GPtrArray *posts = g_hash_table_lookup(g->months, GINT_TO_POINTER(month));
    if (!posts || posts->len == 0)
        return COR_ERR_NOT_FOUND;
    char *path = g_strdup_printf("g/%s/%s.html", g->info->name, slug);
    const char *gtitle = *g->info->title ? g->info->title : g->info->name;
    g_autofree char *title = g_strdup_printf("%s: %s", gtitle, name);
    g_autoptr(cor_tctx_t) c = cor_tctx_new();
    cor_tval_t *v = group_page(c, s, path, title, g, false);
    cor_tval_set_str(c, v, "month", name);
    cor_tval_set_int(c, v, "count", posts->len);
    /* conversations in the order of their first message this month, each
     * with its messages of this month */
    cor_tval_t *list = cor_tval_set_list(c, v, "threads");
    g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    char buf[64];
    for (guint i = 0; i < posts->len; i++) {
        am_post_t *p = posts->pdata[i];
        if (g_hash_table_contains(seen, p->thread))
            continue;
        g_hash_table_add(seen, p->thread);
        const am_post_t *first = p->thread->first ? p->thread->first : p;
        cor_tval_t *tv = cor_tval_list_add_object(c, list);
        cor_tval_set_str(c, tv, "subject", subject_or_none(first->subject));
        set_path(c, tv, "href", "", rnd_thread_rel(g->info->name, p->thread->id, ".html"));
        cor_tval_t *ml = cor_tval_set_list(c, tv, "messages");
        for (guint j = i; j < posts->len; j++) {
            am_post_t *q = posts->pdata[j];
            if (q->thread != p->thread)
                continue;
            cor_tval_t *mv = cor_tval_list_add_object(c, ml);
            cor_tval_set_str(c, mv, "subject", subject_or_none(q->subject));
            cor_tval_set_str(c, mv, "from_name", display_name(q));
            set_path(c, mv, "href", "", rnd_msg_rel(g->info->name, q->key, ".html"));
            rnd_date(buf, sizeof buf, q->date);
            cor_tval_set_str(c, mv, "date", buf);
            rnd_date_iso(buf, sizeof buf, q->date);
            cor_tval_set_str(c, mv, "date_iso", buf);
        }
    }
    return emit(s, "month.html", v, path, 16384, files, err);
}

cor_status_t
rnd_about_file(const rnd_site_t *s, const am_group_t *g, GPtrArray *files, char **err)
{
    char *path = g_strdup_printf("g/%s/about.html", g->info->name);
    const char *gtitle = *g->info->title ? g->info->title : g->info->name;
    g_autofree char *title = g_strdup_printf("About %s", gtitle);
    g_autoptr(cor_tctx_t) c = cor_tctx_new();
    cor_tval_t *v = group_page(c, s, path, title, g, false);
    cor_tval_set_bool(c, v, g->info->visibility == COR_VISIBILITY_PUBLIC ? "is_public"
                            : g->info->visibility == COR_VISIBILITY_STAFF ? "is_staff"
                                                                          : "is_private",
                      true);
    return emit(s, "about.html", v, path, 4096, files, err);
}

cor_status_t
rnd_group_feed_file(const rnd_site_t *s, cor_store_t *st, am_group_t *g, GHashTable *cache,
                    GPtrArray *files, char **err)
{
    g_autoptr(cor_tctx_t) c = cor_tctx_new();
    cor_tval_t *fv = cor_tval_object(c);
    const char *gtitle = *g->info->title ? g->info->title : g->info->name;
    cor_tval_set_str(c, fv, "title", gtitle);
    cor_tval_set_str(c, fv, "site_title", s->title);
    cor_tval_set_printf(c, fv, "id", "%sg/%s/", s->url, g->info->name);
    cor_tval_set_printf(c, fv, "self", "%sg/%s/atom.xml", s->url, g->info->name);
    cor_tval_set_printf(c, fv, "alternate", "%sg/%s/index.html", s->url, g->info->name);
    char buf[64];
    rnd_date_iso(buf, sizeof buf, g->last_date);
    cor_tval_set_str(c, fv, "updated", buf);
    cor_tval_t *entries = cor_tval_set_list(c, fv, "entries");
    /* the newest posts: newest month first, each from its end (a partial
     * model has them in g->newest, in that order: model.h) */
    g_autoptr(GPtrArray) newest = g_ptr_array_new();
    if (g->newest) {
        for (guint i = 0; i < g->newest->len && (int) newest->len < s->feed_entries; i++)
            g_ptr_array_add(newest, g->newest->pdata[i]);
    } else {
        for (guint i = 0; i < g->month_list->len && (int) newest->len < s->feed_entries; i++) {
            int mo = g_array_index(g->month_list, am_month_t, i).month;
            GPtrArray *posts = g_hash_table_lookup(g->months, GINT_TO_POINTER(mo));
            for (guint j = posts ? posts->len : 0; j-- > 0 && (int) newest->len < s->feed_entries;)
                g_ptr_array_add(newest, posts->pdata[j]);
        }
    }
    for (guint i = 0; i < newest->len; i++) {
        am_post_t *p = newest->pdata[i];
        rnd_message_t *rm = NULL;
        cor_status_t rs = cache ? rnd_message_cached(cache, st, p, &rm)
                                : rnd_message_load(st, p, &rm);
        if (rs != COR_OK) {
            if (err)
                *err = g_strdup_printf("cannot read message %" G_GINT64_FORMAT ": %s", p->msg,
                                       cor_store_error(st));
            return rs;
        }
        feed_entry(c, cor_tval_list_add_object(c, entries), s, p, rm);
        if (!cache)
            rnd_message_free(rm);
    }
    GString *out = g_string_sized_new(16384);
    cor_status_t rs = render_to(s, "atom.xml", fv, out, err);
    if (rs != COR_OK) {
        g_string_free(out, TRUE);
        return rs;
    }
    add_file(files, g_strdup_printf("g/%s/atom.xml", g->info->name), out);
    return COR_OK;
}

static cor_status_t
can_see(cor_store_t *st, const cor_viewer_t *viewer, const am_group_t *g, bool *yes)
{
    return cor_visibility_can_see(st, viewer, g->info, yes);
}

cor_status_t
rnd_site_page(const rnd_site_t *s, cor_store_t *st, am_model_t *m, const cor_viewer_t *viewer,
              GString *out, char **err)
{
    g_autoptr(cor_tctx_t) c = cor_tctx_new();
    cor_tval_t *v = rnd_page_scope(c, s, "index.html", s->title);
    cor_tval_set_bool(c, v, "home", true);
    cor_tval_t *list = cor_tval_set_list(c, v, "groups");
    bool any = false;
    char buf[64];
    for (guint i = 0; i < m->groups->len; i++) {
        am_group_t *g = m->groups->pdata[i];
        bool yes = false;
        cor_status_t rs = can_see(st, viewer, g, &yes);
        if (rs != COR_OK)
            return rs;
        if (!yes)
            continue;
        any = true;
        cor_tval_t *gv = cor_tval_list_add_object(c, list);
        cor_tval_set_str(c, gv, "name", g->info->name);
        cor_tval_set_str(c, gv, "title", *g->info->title ? g->info->title : g->info->name);
        cor_tval_set_str(c, gv, "description", g->info->description);
        cor_tval_set_printf(c, gv, "href", "g/%s/index.html", g->info->name);
        cor_tval_set_int(c, gv, "message_count", g->n_posts);
        cor_tval_set_int(c, gv, "thread_count", g->n_threads);
        if (g->info->visibility != COR_VISIBILITY_PUBLIC)
            cor_tval_set_str(c, gv, "visibility", cor_visibility_to_string(g->info->visibility));
        if (g->last_date > 0) {
            rnd_date(buf, sizeof buf, g->last_date);
            cor_tval_set_str(c, gv, "last_date", buf);
            rnd_date_iso(buf, sizeof buf, g->last_date);
            cor_tval_set_str(c, gv, "last_date_iso", buf);
        }
    }
    cor_tval_set_bool(c, v, "has_groups", any);
    return render_to(s, "site.html", v, out, err);
}

/* One post as an author page lists it. */
typedef struct author_item {
    char *subject;             /* owned */
    char key[17];
    const am_group_t *group;
    int64_t date;
} author_item_t;

static void
author_item_clear(gpointer p)
{
    g_free(((author_item_t *) p)->subject);
}

/* What an author page shows, from a whole model or from the store. */
typedef struct author_view {
    const char *key;
    char *addr;                /* owned */
    char *name;                /* owned: from the newest visible post that has one */
    guint visible;
    GPtrArray *groups;         /* am_group_t* the viewer may see, in the model's order */
    GArray *counts;            /* guint: the author's posts in each of `groups` */
    GArray *items;             /* author_item_t: the newest AUTHOR_POSTS visible posts */
} author_view_t;

static cor_status_t
author_view_init(author_view_t *av, cor_store_t *st, am_model_t *m, const cor_viewer_t *viewer,
                 const char *key)
{
    memset(av, 0, sizeof *av);
    av->key = key;
    av->groups = g_ptr_array_new();
    av->counts = g_array_new(FALSE, TRUE, sizeof(guint));
    av->items = g_array_new(FALSE, TRUE, sizeof(author_item_t));
    g_array_set_clear_func(av->items, author_item_clear);
    for (guint i = 0; i < m->groups->len; i++) {
        am_group_t *g = m->groups->pdata[i];
        bool yes = false;
        cor_status_t rs = can_see(st, viewer, g, &yes);
        if (rs != COR_OK)
            return rs;
        if (yes)
            g_ptr_array_add(av->groups, g);
    }
    g_array_set_size(av->counts, av->groups->len);
    return COR_OK;
}

static void
author_view_clear(author_view_t *av)
{
    g_free(av->addr);
    g_free(av->name);
    g_ptr_array_unref(av->groups);
    g_array_unref(av->counts);
    g_array_unref(av->items);
}

/* Takes one post of the author (called newest first); a post in a group
 * the viewer may not see is left out.  With `count`, it is also counted
 * (the store's path counts with one aggregate instead). */
static void
author_view_add(author_view_t *av, const am_group_t *g, const char *subject, const char *key,
                const char *from_name, int64_t date, bool count)
{
    guint gi;
    if (!g_ptr_array_find(av->groups, g, &gi))
        return;
    if (count) {
        av->visible++;
        g_array_index(av->counts, guint, gi)++;
    }
    if (!av->name && *from_name)
        av->name = g_strdup(from_name);
    if (av->items->len < AUTHOR_POSTS) {
        author_item_t it = { .subject = g_strdup(subject), .group = g, .date = date };
        memcpy(it.key, key, sizeof it.key);
        g_array_append_val(av->items, it);
    }
}

static cor_status_t
author_render(const rnd_site_t *s, const author_view_t *av, GString *out, char **err)
{
    if (av->visible == 0)
        return COR_ERR_NOT_FOUND;
    const char *addr = av->addr ? av->addr : "";
    const char *name = av->name ? av->name : *addr ? addr : "Unknown sender";
    g_autofree char *path = g_strdup_printf("author/%s.html", av->key);
    g_autoptr(cor_tctx_t) c = cor_tctx_new();
    cor_tval_t *v = rnd_page_scope(c, s, path, name);
    crumbs(c, v, NULL, NULL);
    cor_tval_set_str(c, v, "name", name);
    cor_tval_set_str(c, v, "address", addr);
    cor_tval_set_int(c, v, "count", av->visible);
    /* groups, by name, with the number of posts */
    cor_tval_t *gl = cor_tval_set_list(c, v, "groups");
    for (guint i = 0; i < av->groups->len; i++) {
        const am_group_t *g = av->groups->pdata[i];
        guint n = g_array_index(av->counts, guint, i);
        if (n == 0)
            continue;
        cor_tval_t *gv = cor_tval_list_add_object(c, gl);
        cor_tval_set_str(c, gv, "title", *g->info->title ? g->info->title : g->info->name);
        cor_tval_set_printf(c, gv, "href", "g/%s/index.html", g->info->name);
        cor_tval_set_int(c, gv, "count", n);
    }
    /* the newest posts; the rest through search (a page that grew with
     * every post of a prolific author would make each of their posts cost
     * more to publish than the last) */
    cor_tval_t *pl = cor_tval_set_list(c, v, "posts");
    char buf[64];
    for (guint i = 0; i < av->items->len; i++) {
        const author_item_t *p = &g_array_index(av->items, author_item_t, i);
        cor_tval_t *pv = cor_tval_list_add_object(c, pl);
        cor_tval_set_str(c, pv, "subject", subject_or_none(p->subject));
        set_path(c, pv, "href", "", rnd_msg_rel(p->group->info->name, p->key, ".html"));
        cor_tval_set_str(c, pv, "group", *p->group->info->title ? p->group->info->title
                                                                : p->group->info->name);
        rnd_date(buf, sizeof buf, p->date);
        cor_tval_set_str(c, pv, "date", buf);
        rnd_date_iso(buf, sizeof buf, p->date);
        cor_tval_set_str(c, pv, "date_iso", buf);
    }
    cor_tval_set_int(c, v, "shown", av->items->len);
    if (av->items->len < av->visible)
        cor_tval_set_bool(c, v, "more", true);
    if (*addr) {
        g_autofree char *q = g_strdup_printf("from:%s", addr);
        g_autofree char *eq = g_uri_escape_string(q, NULL, FALSE);
        cor_tval_set_printf(c, v, "search_href", "search?q=%s", eq);
    }
    return render_to(s, "author.html", v, out, err);
}

cor_status_t
rnd_author_page(const rnd_site_t *s, cor_store_t *st, am_model_t *m, const cor_viewer_t *viewer,
                const char *key, GString *out, char **err)
{
    am_author_t *a = g_hash_table_lookup(m->authors, key);
    if (!a)
        return COR_ERR_NOT_FOUND;
    author_view_t av;
    cor_status_t rs = author_view_init(&av, st, m, viewer, a->key);
    if (rs == COR_OK) {
        av.addr = g_strdup(a->addr);
        for (guint i = a->posts->len; i-- > 0;) {
            am_post_t *p = a->posts->pdata[i];
            author_view_add(&av, p->group, p->subject, p->key, p->from_name, p->date, true);
        }
        rs = author_render(s, &av, out, err);
    }
    author_view_clear(&av);
    return rs;
}

typedef struct author_rows {
    author_view_t *av;
    am_model_t *m;
} author_rows_t;

static cor_status_t
author_row(const cor_store_post_t *p, void *data)
{
    author_rows_t *r = data;
    if (!r->av->addr)
        r->av->addr = g_ascii_strdown(p->from_addr, -1);
    am_group_t *g = am_model_group_by_id(r->m, p->group_id);
    if (!g)
        return COR_OK;
    char key[17];
    cor_archive_key(p->message_id, key);
    author_view_add(r->av, g, p->subject, key, p->from_name, p->date, false);
    /* the page lists the newest AUTHOR_POSTS and takes the name from the
     * newest visible post that has one: nothing older changes it */
    if (r->av->items->len >= AUTHOR_POSTS && r->av->name)
        return COR_DONE;
    return COR_OK;
}

cor_status_t
rnd_author_page_store(const rnd_site_t *s, cor_store_t *st, am_model_t *m,
                      const cor_viewer_t *viewer, const char *key, GString *out, char **err)
{
    if (strlen(key) != 16)
        return COR_ERR_NOT_FOUND;
    author_view_t av;
    cor_status_t rs = author_view_init(&av, st, m, viewer, key);
    author_rows_t r = { &av, m };
    if (rs == COR_OK && (rs = cor_store_posts_by_author(st, key, author_row, &r)) == COR_DONE)
        rs = COR_OK;
    /* the counts: one aggregate, not a walk over every post of a prolific
     * author (which grew with the archive on every round) */
    g_autoptr(GArray) counts = NULL;
    if (rs == COR_OK && (rs = cor_store_author_counts(st, key, &counts)) == COR_OK) {
        for (guint i = 0; i + 1 < counts->len; i += 2) {
            am_group_t *g = am_model_group_by_id(m, g_array_index(counts, int64_t, i));
            guint gi;
            if (!g || !g_ptr_array_find(av.groups, g, &gi))
                continue;
            guint n = (guint) g_array_index(counts, int64_t, i + 1);
            g_array_index(av.counts, guint, gi) = n;
            av.visible += n;
        }
    }
    if (rs != COR_OK && err)
        *err = g_strdup_printf("cannot read the posts of author %s: %s", key, cor_store_error(st));
    if (rs == COR_OK)
        rs = author_render(s, &av, out, err);
    author_view_clear(&av);
    return rs;
}
