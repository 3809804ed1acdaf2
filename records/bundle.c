/* records/bundle.c — the disclosure bundle of a case (records/bundle.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "core/links.h"
#include "core/log.h"
#include "core/message.h"
#include "core/sanitize.h"
#include "core/store_internal.h"
#include "core/template.h"
#include "filters/headers.h"
#include "filters/marking.h"
#include "records/bundle.h"
#include "records/readable.h"
#include "records/records.h"
#include "records/redact.h"

#define ZIP_LEVEL "6"

/* ==== the page template ==== */

/* One self-contained page for the officer's printable copy (made from the
 * original: its headers, text, attachments and safe formatting) and for a
 * copy made from the readable text (`copy`: the redacted copy, and every
 * message of a release): no script, no external resource, print CSS.
 * `body` and `formatted` are markup the code made (escaped text, sanitised
 * HTML); everything else is escaped.  A copy's page shows nothing that is
 * not in its (redacted) text but the case reference, the message's number
 * and the released attachments' (redacted) names. */
static const char page_template[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en-GB\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>{{title}}</title>\n"
    "<style>\n"
    "body { font-family: Arial, Helvetica, sans-serif; font-size: 16px; line-height: 1.45;"
    " color: #0b0c0c; background: #fff; max-width: 52em; margin: 1.5em auto; padding: 0 1em; }\n"
    "h1 { font-size: 1.6em; margin: .2em 0 .6em; overflow-wrap: anywhere; }\n"
    "h2 { font-size: 1.2em; margin-top: 1.5em; }\n"
    ".caption { color: #505a5f; margin: 0; }\n"
    "dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .3em 1em; }\n"
    "dl.meta dt { font-weight: bold; }\n"
    "dl.meta dd { margin: 0; overflow-wrap: anywhere; }\n"
    "pre { white-space: pre-wrap; overflow-wrap: anywhere;"
    " font-family: \"Courier New\", Courier, monospace; font-size: .95em; }\n"
    ".notice { border-left: 5px solid #1d70b8; background: #f3f2f1; padding: .6em 1em; }\n"
    ".redacted { background: #0b0c0c; color: #fff; padding: 0 .25em; }\n"
    ".formatted { border: 1px solid #b1b4b6; padding: .5em 1em; overflow-wrap: anywhere; }\n"
    "a { color: #1d70b8; }\n"
    "a:focus { outline: 3px solid #fd0; background: #fd0; color: #0b0c0c; }\n"
    "@media print {\n"
    "  body { max-width: none; margin: 0; font-size: 11pt; }\n"
    "  a { color: #000; }\n"
    "  .redacted { background: none; color: #000; border: 1px solid #000; }\n"
    "  pre, .formatted { page-break-inside: auto; }\n"
    "  h1, h2, dt { page-break-after: avoid; }\n"
    "}\n"
    "</style>\n"
    "</head>\n"
    "<body>\n"
    "<main>\n"
    "<p class=\"caption\">Case {{case}}, message {{number}} of {{total}}</p>\n"
    "{{#copy}}\n"
    "<h1>{{heading}}</h1>\n"
    "{{#redacted}}<p class=\"notice\">Some information in this message has been redacted "
    "(removed). Each redaction reads &ldquo;[Redacted &ndash; <i>exemption</i>]&rdquo; and names "
    "the exemption that applies; README.txt explains them.</p>\n{{/redacted}}"
    "{{#attachments_n}}<p class=\"notice\">This message had {{attachments_n}} attachment(s), "
    "listed in its text. {{#has_attachments}}Those listed under &ldquo;Attachments "
    "released&rdquo; are part of this copy; the others are not.{{/has_attachments}}"
    "{{^has_attachments}}They are not part of this copy.{{/has_attachments}}</p>\n"
    "{{/attachments_n}}"
    "<h2>The message</h2>\n"
    "<pre>{{body}}</pre>\n"
    "{{#has_attachments}}\n"
    "<h2>Attachments released</h2>\n"
    "<ul>\n"
    "{{#attachments}}<li><a href=\"../{{path}}\">{{name}}</a> ({{type}}, {{size}} bytes)</li>\n"
    "{{/attachments}}"
    "</ul>\n"
    "{{/has_attachments}}\n"
    "{{/copy}}\n"
    "{{^copy}}\n"
    "<h1>{{subject}}</h1>\n"
    "<dl class=\"meta\">\n"
    "<dt>From</dt><dd>{{from}}</dd>\n"
    "{{#to}}<dt>To</dt><dd>{{to}}</dd>\n{{/to}}"
    "{{#cc}}<dt>Cc</dt><dd>{{cc}}</dd>\n{{/cc}}"
    "<dt>Date</dt><dd><time datetime=\"{{date_iso}}\">{{date}}</time></dd>\n"
    "<dt>Message-ID</dt><dd><code>{{message_id}}</code></dd>\n"
    "<dt>Group</dt><dd>{{group}}</dd>\n"
    "{{#marking}}<dt>Marking</dt><dd>{{marking}}</dd>\n{{/marking}}"
    "<dt>SHA-256 of the original</dt><dd><code>{{sha256}}</code></dd>\n"
    "<dt>Original</dt><dd><a href=\"../{{original}}\">{{original}}</a></dd>\n"
    "</dl>\n"
    "<h2>The message</h2>\n"
    "{{#empty}}<p>This message has no text.</p>\n{{/empty}}"
    "{{^empty}}<pre>{{body}}</pre>\n{{/empty}}"
    "{{#has_attachments}}\n"
    "<h2>Attachments</h2>\n"
    "<ul>\n"
    "{{#attachments}}<li><a href=\"../{{path}}\">{{name}}</a> ({{type}}, {{size}} bytes)</li>\n"
    "{{/attachments}}"
    "</ul>\n"
    "{{/has_attachments}}\n"
    "{{#formatted}}\n"
    "<h2>The message as it was formatted</h2>\n"
    "<div class=\"formatted\">{{formatted}}</div>\n"
    "{{/formatted}}\n"
    "{{/copy}}\n"
    "</main>\n"
    "</body>\n"
    "</html>\n";

/* ==== safe names ==== */

static const char *const reserved_names[] = {
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
};

char *
cor_bundle_safe_name(const char *name, const char *fallback)
{
    /* the last path component */
    const char *base = name ? name : "";
    for (const char *p = base; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    GString *s = g_string_new(NULL);
    for (const char *p = base; *p;) {
        gunichar c = g_utf8_get_char_validated(p, -1);
        if (c == (gunichar) -1 || c == (gunichar) -2) {
            g_string_append_c(s, '_');
            p++;
            continue;
        }
        const char *next = g_utf8_next_char(p);
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || strchr("<>:\"|?*", (int) c) ||
            c == 0x2028 || c == 0x2029 || c == 0xfeff || (c >= 0x202a && c <= 0x202e) ||
            (c >= 0x2066 && c <= 0x2069))
            g_string_append_c(s, '_');   /* also the bidi controls that disguise extensions */
        else
            g_string_append_len(s, p, next - p);
        p = next;
    }
    /* no leading dots or spaces (hidden files, "..") and no trailing ones */
    size_t lead = 0;
    while (lead < s->len && (s->str[lead] == '.' || s->str[lead] == ' '))
        lead++;
    g_string_erase(s, 0, (gssize) lead);
    while (s->len > 0 && (s->str[s->len - 1] == '.' || s->str[s->len - 1] == ' '))
        g_string_truncate(s, s->len - 1);
    if (s->len == 0) {
        g_string_free(s, TRUE);
        return g_strdup(fallback);
    }
    /* at most 120 bytes, the extension kept, cut on a character boundary */
    if (s->len > 120) {
        const char *dot = strrchr(s->str, '.');
        size_t ext = dot && (size_t) (s->str + s->len - dot) <= 16 ? (size_t) (s->str + s->len - dot) : 0;
        size_t keep = 120 - ext;
        while (keep > 0 && (((unsigned char) s->str[keep]) & 0xc0) == 0x80)
            keep--;
        g_autofree char *tail = g_strdup(s->str + s->len - ext);
        g_string_truncate(s, keep);
        g_string_append(s, tail);
    }
    /* Windows' device names, with or without an extension */
    size_t stem = strcspn(s->str, ".");
    for (size_t k = 0; k < G_N_ELEMENTS(reserved_names); k++)
        if (strlen(reserved_names[k]) == stem &&
            g_ascii_strncasecmp(s->str, reserved_names[k], stem) == 0) {
            g_string_prepend_c(s, '_');
            break;
        }
    return g_string_free(s, FALSE);
}

static const char *
type_ext(const char *type)
{
    static const struct { const char *type, *ext; } map[] = {
        { "text/plain", ".txt" }, { "text/html", ".html" }, { "text/x-patch", ".patch" },
        { "text/x-diff", ".diff" }, { "application/pdf", ".pdf" }, { "message/rfc822", ".eml" },
        { "image/png", ".png" }, { "image/jpeg", ".jpg" }, { "image/gif", ".gif" },
        { "application/zip", ".zip" }, { "text/csv", ".csv" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
        if (strcmp(type, map[i].type) == 0)
            return map[i].ext;
    return ".bin";
}

/* ==== CSV ==== */

static void
csv_field(GString *out, const char *v, bool first)
{
    if (!first)
        g_string_append_c(out, ',');
    if (!v)
        v = "";
    if (strpbrk(v, ",\"\r\n") == NULL) {
        g_string_append(out, v);
        return;
    }
    g_string_append_c(out, '"');
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            g_string_append_c(out, '"');
        g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
}

static void
csv_row(GString *out, const char *const *fields, guint n)
{
    for (guint i = 0; i < n; i++)
        csv_field(out, fields[i], i == 0);
    g_string_append(out, "\r\n");
}

/* ==== the ZIP writer ==== */

typedef struct zip_out {
    struct archive *a;
    int fd;
    GChecksum *sum;
    uint64_t bytes;
    int64_t mtime;
    int64_t entries;
    int write_errno;
    const char *target;       /* the bundle's name, for messages (borrowed) */
} zip_out_t;

/* A failed write for want of room (a full disk, a quota, a file size limit)
 * is COR_ERR_DISK_FULL, any other COR_ERR_IO. */
static cor_status_t
write_status(int e)
{
    return e == ENOSPC || e == EDQUOT || e == EFBIG ? COR_ERR_DISK_FULL : COR_ERR_IO;
}

static la_ssize_t
zip_write_cb(struct archive *a, void *data, const void *buf, size_t len)
{
    zip_out_t *z = data;
    const char *p = buf;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(z->fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            z->write_errno = errno;
            archive_set_error(a, errno, "%s", g_strerror(errno));
            return -1;
        }
        p += n;
        left -= (size_t) n;
    }
    g_checksum_update(z->sum, buf, (gssize) len);
    z->bytes += len;
    return (la_ssize_t) len;
}

static int
zip_close_cb(struct archive *a, void *data)
{
    (void) a;
    (void) data;
    return ARCHIVE_OK;
}

static cor_status_t
zip_add(zip_out_t *z, const char *path, const void *data, size_t len, char **err)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname_utf8(e, path);
    archive_entry_set_size(e, (la_int64_t) len);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, (time_t) z->mtime, 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    int rc = archive_write_header(z->a, e);
    if (rc == ARCHIVE_OK && len > 0) {
        la_ssize_t n = archive_write_data(z->a, data, len);
        if (n < 0 || (size_t) n != len)
            rc = ARCHIVE_FATAL;
    }
    if (rc == ARCHIVE_OK)
        rc = archive_write_finish_entry(z->a);
    archive_entry_free(e);
    if (rc != ARCHIVE_OK) {
        if (z->write_errno)
            *err = g_strdup_printf("cannot write '%s': %s (at '%s' in the bundle)", z->target,
                                   g_strerror(z->write_errno), path);
        else
            *err = g_strdup_printf("cannot write '%s' into the bundle: %s", path,
                                   archive_error_string(z->a) ? archive_error_string(z->a)
                                                              : "error");
        return write_status(z->write_errno);
    }
    z->entries++;
    return COR_OK;
}

static cor_status_t
zip_add_str(zip_out_t *z, const char *path, const GString *s, char **err)
{
    return zip_add(z, path, s->str, s->len, err);
}

/* ==== reading the case ==== */

typedef struct case_info {
    int64_t id;
    char *ref, *type, *jurisdiction, *received, *due, *status, *person;
} case_info_t;

static void
case_info_clear(case_info_t *c)
{
    g_free(c->ref);
    g_free(c->type);
    g_free(c->jurisdiction);
    g_free(c->received);
    g_free(c->due);
    g_free(c->status);
    g_free(c->person);
}

static cor_status_t
store_fail(cor_store_t *st, int rc, const char *what, char **err)
{
    cor_status_t s = cor_store_sqlite_error(st, rc, what);
    *err = g_strdup(cor_store_error(st));
    return s;
}

static cor_status_t
case_read(cor_store_t *st, const char *ref, case_info_t *c, char **err)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT id, ref, type, jurisdiction, received, due, status, person FROM cases"
        " WHERE ref = ?1");
    if (!q) {
        *err = g_strdup(cor_store_error(st));
        return COR_ERR_STORE;
    }
    sqlite3_bind_text(q, 1, ref, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        c->id = sqlite3_column_int64(q, 0);
        c->ref = cor_store_col_text(q, 1);
        c->type = cor_store_col_text(q, 2);
        c->jurisdiction = cor_store_col_text(q, 3);
        c->received = cor_store_col_text(q, 4);
        c->due = cor_store_col_text(q, 5);
        c->status = cor_store_col_text(q, 6);
        c->person = cor_store_col_text(q, 7);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_DONE) {
        *err = g_strdup_printf("no case '%s'", ref);
        return COR_ERR_NOT_FOUND;
    }
    if (rc != SQLITE_ROW)
        return store_fail(st, rc, "cannot read the case", err);
    return COR_OK;
}

typedef struct msg_row {
    int64_t id;
    char *message_id;
    char *sha256;
    int64_t date;
    int64_t size;
} msg_row_t;

static void
msg_row_free(msg_row_t *m)
{
    g_free(m->message_id);
    g_free(m->sha256);
    g_free(m);
}

static cor_status_t
case_message_rows(cor_store_t *st, int64_t case_id, GPtrArray **out, char **err)
{
    *out = g_ptr_array_new_with_free_func((GDestroyNotify) msg_row_free);
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT m.id, m.message_id, m.sha256, m.date, m.size FROM case_messages cm"
        " JOIN messages m ON m.id = cm.msg WHERE cm.case_id = ?1"
        " ORDER BY m.date, m.message_id, m.id");
    if (!q) {
        *err = g_strdup(cor_store_error(st));
        return COR_ERR_STORE;
    }
    sqlite3_bind_int64(q, 1, case_id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        msg_row_t *m = g_new0(msg_row_t, 1);
        m->id = sqlite3_column_int64(q, 0);
        m->message_id = cor_store_col_text(q, 1);
        m->sha256 = cor_store_col_text(q, 2);
        m->date = sqlite3_column_int64(q, 3);
        m->size = sqlite3_column_int64(q, 4);
        g_ptr_array_add(*out, m);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store_fail(st, rc, "cannot read the case's messages", err);
    return COR_OK;
}

/* The groups holding the message (names joined with ';') and its archive
 * permalink (bundle.h: the first public or staff group where it is
 * accepted; "" when none). */
static cor_status_t
message_places(cor_store_t *st, const char *base_url, const msg_row_t *m, char **groups,
               char **url, char **err)
{
    *groups = NULL;
    *url = NULL;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT g.name, g.visibility, tn.status FROM thread_nodes tn"
        " JOIN groups g ON g.id = tn.group_id"
        " WHERE tn.msg = ?1 AND tn.status IN ('accepted', 'restricted') ORDER BY g.name");
    if (!q) {
        *err = g_strdup(cor_store_error(st));
        return COR_ERR_STORE;
    }
    sqlite3_bind_int64(q, 1, m->id);
    GString *g = g_string_new(NULL);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *name = (const char *) sqlite3_column_text(q, 0);
        const char *vis = (const char *) sqlite3_column_text(q, 1);
        const char *status = (const char *) sqlite3_column_text(q, 2);
        if (g->len)
            g_string_append_c(g, ';');
        g_string_append(g, name);
        if (!*url && strcmp(vis, "private") != 0 && strcmp(status, "accepted") == 0)
            *url = cor_link_message_url(base_url, name, m->message_id);
    }
    sqlite3_reset(q);
    *groups = g_string_free(g, FALSE);
    if (!*url)
        *url = g_strdup("");
    if (rc != SQLITE_DONE)
        return store_fail(st, rc, "cannot read the message's groups", err);
    return COR_OK;
}

/* ==== one message ==== */

/* What the manifest says about one message. */
typedef struct manifest_row {
    int number;
    char *message_id, *date, *from, *to, *cc, *subject, *group, *url, *sha256, *marking;
    int64_t size;
    int64_t redactions;
    char *original, *html, *redacted_html, *redacted_txt;
    GPtrArray *attachments;    /* char* paths */
} manifest_row_t;

static void
manifest_row_free(manifest_row_t *r)
{
    g_free(r->message_id);
    g_free(r->date);
    g_free(r->from);
    g_free(r->to);
    g_free(r->cc);
    g_free(r->subject);
    g_free(r->group);
    g_free(r->url);
    g_free(r->sha256);
    g_free(r->marking);
    g_free(r->original);
    g_free(r->html);
    g_free(r->redacted_html);
    g_free(r->redacted_txt);
    g_ptr_array_unref(r->attachments);
    g_free(r);
}

/* The value of the readable text's header `name` (attachment `part`) with
 * the spans applied to it; NULL when the text has no such header.
 * *changed: a span covers some of it. */
static char *
field_value(const char *text, const GArray *fields, const char *name, guint part,
            const GArray *spans, bool *changed)
{
    if (changed)
        *changed = false;
    for (guint i = 0; i < fields->len; i++) {
        const cor_readable_field_t *f = &g_array_index(fields, cor_readable_field_t, i);
        if (strcmp(f->name, name) != 0 || f->part != part)
            continue;
        GString *out = g_string_new(NULL);
        for (guint k = 0; k < spans->len; k++) {
            const cor_redact_span_t *sp = &g_array_index(spans, cor_redact_span_t, k);
            if (changed && sp->start < f->end && sp->end > f->start)
                *changed = true;
        }
        cor_redact_apply_range(text, strlen(text), (const cor_redact_span_t *) (void *) spans->data,
                               spans->len, f->start, f->end, out);
        return g_string_free(out, FALSE);
    }
    return NULL;
}

typedef struct export_ctx {
    cor_store_t *st;
    const cor_bundle_options_t *opt;
    case_info_t *c;
    cor_tmpl_set_t *tmpl;
    zip_out_t *z;
    guint total;
    cor_bundle_result_t *res;
    GHashTable *wanted;            /* release: "NNNN/K" → 1 (asked) or 2 (written) */
    cor_redact_phrases_t *phrases; /* every accepted span's text */
} export_ctx_t;

static cor_status_t
render_page(export_ctx_t *x, cor_tval_t *scope, const char *path, char **err)
{
    GString *page = g_string_sized_new(8192);
    cor_status_t s = cor_tmpl_render(x->tmpl, "page.html", scope, page, err);
    if (s == COR_OK)
        s = zip_add_str(x->z, path, page, err);
    g_string_free(page, TRUE);
    return s;
}

/* Writes attachment `a` as attachments/NUM/NAME (NAME made safe and unique
 * in `used`), adds its path to the row and its link to the page's list. */
static cor_status_t
add_attachment(export_ctx_t *x, manifest_row_t *r, const char *num, guint k,
               const cor_attachment_t *a, const char *shown_name, GHashTable *used,
               cor_tctx_t *tc, cor_tval_t *scope, cor_tval_t **alist, char **err)
{
    g_autofree char *fallback = g_strdup_printf("attachment-%u%s", k, type_ext(a->content_type));
    g_autofree char *base = cor_bundle_safe_name(shown_name, fallback);
    g_autofree char *name = g_strdup(base);
    g_autofree char *folded = g_utf8_casefold(name, -1);
    for (int n = 2; g_hash_table_contains(used, folded); n++) {
        const char *dot = strrchr(base, '.');
        size_t stem = dot && dot != base ? (size_t) (dot - base) : strlen(base);
        g_free(name);
        name = g_strdup_printf("%.*s (%d)%s", (int) stem, base, n, base + stem);
        g_free(folded);
        folded = g_utf8_casefold(name, -1);
    }
    g_hash_table_add(used, g_steal_pointer(&folded));
    char *path = g_strdup_printf("attachments/%s/%s", num, name);
    gsize alen = 0;
    const void *adata = a->data ? g_bytes_get_data(a->data, &alen) : "";
    cor_status_t s = zip_add(x->z, path, adata, alen, err);
    if (s != COR_OK) {
        g_free(path);
        return s;
    }
    g_ptr_array_add(r->attachments, path);
    x->res->attachments++;
    if (!*alist) {
        *alist = cor_tval_set_list(tc, scope, "attachments");
        cor_tval_set_bool(tc, scope, "has_attachments", true);
    }
    cor_tval_t *ai = cor_tval_list_add_object(tc, *alist);
    g_autofree char *href = cor_link_percent_encode(path, "/");
    cor_tval_set_str(tc, ai, "path", href);
    cor_tval_set_str(tc, ai, "name", name);
    cor_tval_set_str(tc, ai, "type", a->content_type);
    cor_tval_set_int(tc, ai, "size", (int64_t) alen);
    return COR_OK;
}

static cor_status_t
export_message(export_ctx_t *x, const msg_row_t *m, int number, manifest_row_t **row_out,
               char **err)
{
    cor_store_t *st = x->st;
    const bool release = x->opt->release;
    g_autofree char *text = NULL;
    char text_sha[65];
    g_autoptr(cor_message_t) msg = NULL;
    g_autoptr(GArray) fields = g_array_new(FALSE, FALSE, sizeof(cor_readable_field_t));
    cor_status_t s = cor_readable_load(st, m->id, COR_PARSE_KEEP_PARTS | COR_PARSE_KEEP_HTML,
                                       &text, text_sha, &msg, fields, err);
    if (s != COR_OK)
        return s;
    g_autoptr(GBytes) raw = NULL;
    if ((s = cor_store_message_raw(st, m->id, &raw)) != COR_OK) {
        *err = g_strdup_printf("cannot read the original of <%s>: %s", m->message_id,
                               cor_store_error(st));
        return s;
    }
    gsize raw_len = 0;
    const char *raw_data = g_bytes_get_data(raw, &raw_len);

    /* the accepted spans and the copy made from the readable text */
    g_autoptr(GArray) spans = NULL;
    if ((s = cor_redact_accepted(st, x->c->id, m->id, text_sha, &spans, err)) != COR_OK)
        return s;
    GString *rtxt = g_string_new(NULL), *rhtml = g_string_new(NULL);
    g_autofree char *aerr = NULL;
    s = cor_redact_apply(text, strlen(text), (const cor_redact_span_t *) (void *) spans->data,
                         spans->len, rtxt, rhtml, &aerr);
    if (s != COR_OK) {
        *err = g_strdup_printf("message <%s>: %s", m->message_id, aerr);
        g_string_free(rtxt, TRUE);
        g_string_free(rhtml, TRUE);
        return s;
    }
    for (guint k = 0; k < spans->len; k++) {
        const cor_redact_span_t *sp = &g_array_index(spans, cor_redact_span_t, k);
        cor_redact_phrases_add(x->phrases, text + sp->start, sp->end - sp->start, sp->exemption);
    }
    const int64_t nspans = spans->len;
    const bool redacted = nspans > 0;
    g_autofree char *num = g_strdup_printf("%04d", number);
    g_autoptr(GHashTable) used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(cor_tctx_t) tc = cor_tctx_new();
    cor_tval_t *scope = cor_tval_object(tc);
    cor_tval_t *alist = NULL;

    manifest_row_t *r = g_new0(manifest_row_t, 1);
    r->number = number;
    r->attachments = g_ptr_array_new_with_free_func(g_free);
    r->sha256 = g_strdup(m->sha256);
    r->size = m->size;
    r->redactions = nspans;
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(msg->date);
    r->date = dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("");
    if (release) {
        /* what the manifest says about a released message comes from its
         * released text: nothing the scanner did not read, every
         * redaction applied */
        bool date_changed = false;
        r->message_id = field_value(text, fields, "Message-ID", 0, spans, NULL);
        r->from = field_value(text, fields, "From", 0, spans, NULL);
        r->to = field_value(text, fields, "To", 0, spans, NULL);
        r->cc = field_value(text, fields, "Cc", 0, spans, NULL);
        r->subject = field_value(text, fields, "Subject", 0, spans, NULL);
        g_autofree char *date = field_value(text, fields, "Date", 0, spans, &date_changed);
        if (date_changed) {
            g_free(r->date);
            r->date = g_steal_pointer(&date);
        }
        char **strs[] = { &r->message_id, &r->from, &r->to, &r->cc, &r->subject };
        for (size_t k = 0; k < G_N_ELEMENTS(strs); k++)
            if (!*strs[k])
                *strs[k] = g_strdup("");
    } else {
        r->message_id = g_strdup(m->message_id);
        r->from = g_strdup(msg->from);
        r->to = g_strdup(msg->to);
        r->cc = g_strdup(msg->cc);
        r->subject = g_strdup(msg->subject);
    }
    if ((s = message_places(st, x->opt->base_url, m, &r->group, &r->url, err)) != COR_OK)
        goto out;
    if (release && redacted) {
        /* the permalink names the Message-ID and opens the unredacted page */
        g_free(r->url);
        r->url = g_strdup("");
    }
    {
        g_autoptr(cor_headers_t) h = cor_headers_parse(raw_data, raw_len);
        cor_marking_scan_t scan = { 0 };
        cor_marking_scan(msg, h, &scan);
        r->marking = g_strdup(scan.kind == COR_MARKING_NONE ? ""
                              : scan.text ? scan.text : cor_marking_kind_to_string(scan.kind));
        cor_marking_scan_clear(&scan);
    }

    if (!release) {
        /* the officer's record: the original byte for byte, every
         * attachment, the printable copy of the original */
        r->original = g_strdup_printf("originals/%s.eml", num);
        if ((s = zip_add(x->z, r->original, raw_data, raw_len, err)) != COR_OK)
            goto out;
        for (guint i = 0; i < msg->attachments->len; i++) {
            const cor_attachment_t *a = msg->attachments->pdata[i];
            if ((s = add_attachment(x, r, num, i + 1, a, a->filename, used, tc, scope, &alist,
                                    err)) != COR_OK)
                goto out;
        }
        r->html = g_strdup_printf("html/%s.html", num);
        char date[64];
        cor_readable_date(msg->date, date, sizeof date);
        cor_tval_set_printf(tc, scope, "title", "%s (case %s, message %s)",
                            *msg->subject ? msg->subject : "(no subject)", x->c->ref, num);
        cor_tval_set_str(tc, scope, "case", x->c->ref);
        cor_tval_set_str(tc, scope, "number", num);
        cor_tval_set_int(tc, scope, "total", x->total);
        cor_tval_set_str(tc, scope, "subject", *msg->subject ? msg->subject : "(no subject)");
        cor_tval_set_str(tc, scope, "from", msg->from);
        cor_tval_set_str(tc, scope, "to", msg->to);
        cor_tval_set_str(tc, scope, "cc", msg->cc);
        cor_tval_set_str(tc, scope, "date", date);
        cor_tval_set_str(tc, scope, "date_iso", r->date);
        cor_tval_set_str(tc, scope, "message_id", m->message_id);
        cor_tval_set_str(tc, scope, "group", r->group);
        cor_tval_set_str(tc, scope, "marking", r->marking);
        cor_tval_set_str(tc, scope, "sha256", m->sha256);
        cor_tval_set_str(tc, scope, "original", r->original);
        bool empty = *msg->body == '\0';
        cor_tval_set_bool(tc, scope, "empty", empty);
        GString *body = g_string_sized_new(strlen(msg->body) + 64);
        cor_escape_html(body, msg->body, -1);
        cor_tval_set_html_len(tc, scope, "body", body->str, body->len);
        g_string_free(body, TRUE);
        if (msg->body_from_html && *msg->body_html) {
            g_autofree char *safe = cor_sanitize_html(msg->body_html, strlen(msg->body_html));
            if (*safe)
                cor_tval_set_html(tc, scope, "formatted", safe);
        }
        if ((s = render_page(x, scope, r->html, err)) != COR_OK)
            goto out;
    } else {
        /* the requester's copy: only what was read and decided on; an
         * attachment only when the officer released it by number, under
         * its name as the released text shows it */
        x->res->withheld++;
        for (guint i = 0; i < msg->attachments->len; i++) {
            g_autofree char *key = g_strdup_printf("%s/%u", num, i + 1);
            if (!g_hash_table_contains(x->wanted, key))
                continue;
            g_hash_table_insert(x->wanted, g_strdup(key), GINT_TO_POINTER(2));
            const cor_attachment_t *a = msg->attachments->pdata[i];
            g_autofree char *shown = field_value(text, fields, "Attachment", i + 1, spans, NULL);
            if ((s = add_attachment(x, r, num, i + 1, a, shown ? shown : "", used, tc, scope,
                                    &alist, err)) != COR_OK)
                goto out;
        }
    }

    if (redacted || release) {
        if (redacted) {
            x->res->redacted++;
            x->res->redactions += nspans;
        }
        r->redacted_txt = g_strdup_printf("redacted/%s.txt", num);
        r->redacted_html = g_strdup_printf("redacted/%s.html", num);
        /* the copy's page: in a release the scope that has the released
         * attachments' links; the officer's redacted copy lists none */
        g_autoptr(cor_tctx_t) fresh = release ? NULL : cor_tctx_new();
        cor_tctx_t *rc = release ? tc : fresh;
        cor_tval_t *cs = release ? scope : cor_tval_object(fresh);
        if (redacted)
            cor_tval_set_printf(rc, cs, "title", "Redacted copy of message %s (case %s)", num,
                                x->c->ref);
        else
            cor_tval_set_printf(rc, cs, "title", "Message %s (case %s)", num, x->c->ref);
        cor_tval_set_printf(rc, cs, "heading", redacted ? "Redacted copy of message %s"
                                                        : "Message %s", num);
        cor_tval_set_bool(rc, cs, "copy", true);
        cor_tval_set_bool(rc, cs, "redacted", redacted);
        cor_tval_set_str(rc, cs, "case", x->c->ref);
        cor_tval_set_str(rc, cs, "number", num);
        cor_tval_set_int(rc, cs, "total", x->total);
        cor_tval_set_int(rc, cs, "attachments_n", msg->attachments->len);
        cor_tval_set_html_len(rc, cs, "body", rhtml->str, rhtml->len);
        if ((s = zip_add_str(x->z, r->redacted_txt, rtxt, err)) != COR_OK ||
            (s = render_page(x, cs, r->redacted_html, err)) != COR_OK)
            goto out;
    }
out:
    g_string_free(rtxt, TRUE);
    g_string_free(rhtml, TRUE);
    if (s != COR_OK) {
        manifest_row_free(r);
        return s;
    }
    *row_out = r;
    return COR_OK;
}

/* ==== the summary files ==== */

static const char *const manifest_columns[] = {
    "number", "message_id", "date", "from", "to", "cc", "subject", "group", "url", "sha256",
    "marking", "size", "redactions", "original", "html", "attachments", "redacted_html",
    "redacted_txt",
};

static void
manifest_csv(GString *out, GPtrArray *rows)
{
    csv_row(out, manifest_columns, G_N_ELEMENTS(manifest_columns));
    for (guint i = 0; i < rows->len; i++) {
        const manifest_row_t *r = rows->pdata[i];
        g_autofree char *num = g_strdup_printf("%04d", r->number);
        g_autofree char *size = g_strdup_printf("%" G_GINT64_FORMAT, r->size);
        g_autofree char *nred = g_strdup_printf("%" G_GINT64_FORMAT, r->redactions);
        g_ptr_array_add(r->attachments, NULL);
        g_autofree char *att = g_strjoinv(";", (char **) r->attachments->pdata);
        g_ptr_array_remove_index(r->attachments, r->attachments->len - 1);
        const char *f[] = {
            num, r->message_id, r->date, r->from, r->to, r->cc, r->subject, r->group, r->url,
            r->sha256, r->marking, size, nred, r->original, r->html, att, r->redacted_html,
            r->redacted_txt,
        };
        csv_row(out, f, G_N_ELEMENTS(f));
    }
}

static void
json_str(JsonBuilder *b, const char *name, const char *v)
{
    json_builder_set_member_name(b, name);
    if (v)
        json_builder_add_string_value(b, v);
    else
        json_builder_add_null_value(b);
}

static void
json_int(JsonBuilder *b, const char *name, int64_t v)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, v);
}

static char *
json_text(JsonBuilder *b)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, TRUE);
    json_generator_set_indent(gen, 2);
    char *t = json_generator_to_data(gen, NULL);
    char *with_nl = g_strconcat(t, "\n", NULL);
    g_free(t);
    return with_nl;
}

static void
case_json(JsonBuilder *b, const case_info_t *c, bool release)
{
    json_builder_set_member_name(b, "case");
    json_builder_begin_object(b);
    json_str(b, "ref", c->ref);
    json_str(b, "type", c->type);
    json_str(b, "jurisdiction", c->jurisdiction);
    json_str(b, "received", c->received);
    json_str(b, "due", c->due);
    json_builder_set_member_name(b, "release");
    json_builder_add_boolean_value(b, release);
    json_builder_end_object(b);
}

static char *
manifest_json(const case_info_t *c, bool release, GPtrArray *rows)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    case_json(b, c, release);
    json_builder_set_member_name(b, "messages");
    json_builder_begin_array(b);
    for (guint i = 0; i < rows->len; i++) {
        const manifest_row_t *r = rows->pdata[i];
        g_autofree char *num = g_strdup_printf("%04d", r->number);
        json_builder_begin_object(b);
        json_str(b, "number", num);
        json_str(b, "message_id", r->message_id);
        json_str(b, "date", r->date);
        json_str(b, "from", r->from);
        json_str(b, "to", r->to);
        json_str(b, "cc", r->cc);
        json_str(b, "subject", r->subject);
        json_str(b, "group", r->group);
        json_str(b, "url", r->url);
        json_str(b, "sha256", r->sha256);
        json_str(b, "marking", r->marking);
        json_int(b, "size", r->size);
        json_int(b, "redactions", r->redactions);
        json_str(b, "original", r->original);
        json_str(b, "html", r->html);
        json_builder_set_member_name(b, "attachments");
        json_builder_begin_array(b);
        for (guint k = 0; k < r->attachments->len; k++)
            json_builder_add_string_value(b, r->attachments->pdata[k]);
        json_builder_end_array(b);
        json_str(b, "redacted_html", r->redacted_html);
        json_str(b, "redacted_txt", r->redacted_txt);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    return json_text(b);
}

static char *
iso(int64_t t)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
    return dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("");
}

/* queries.csv and queries.json.  In a release each query has every text
 * the officer redacted in the case's messages replaced by its label
 * (`phrases`, redact.h): a search may name the people the redactions
 * hide, or a Message-ID that holds a name. */
static cor_status_t
queries_files(cor_store_t *st, const case_info_t *c, bool release,
              const cor_redact_phrases_t *phrases, GString *csv, char **json, int64_t *n,
              char **err)
{
    *n = 0;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT id, kind, query, at, operator, count, bytes FROM case_queries"
        " WHERE case_id = ?1 ORDER BY id");
    if (!q) {
        *err = g_strdup(cor_store_error(st));
        return COR_ERR_STORE;
    }
    sqlite3_bind_int64(q, 1, c->id);
    static const char *const cols[] = { "id", "kind", "query", "at", "operator", "count", "bytes" };
    csv_row(csv, cols, G_N_ELEMENTS(cols));
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    case_json(b, c, release);
    json_builder_set_member_name(b, "queries");
    json_builder_begin_array(b);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        g_autofree char *id = g_strdup_printf("%lld", (long long) sqlite3_column_int64(q, 0));
        const char *kind = (const char *) sqlite3_column_text(q, 1);
        const char *stored = (const char *) sqlite3_column_text(q, 2);
        g_autofree char *query = release ? cor_redact_phrases_apply(phrases, stored)
                                         : g_strdup(stored ? stored : "");
        g_autofree char *at = iso(sqlite3_column_int64(q, 3));
        const char *op = (const char *) sqlite3_column_text(q, 4);
        g_autofree char *count = g_strdup_printf("%lld", (long long) sqlite3_column_int64(q, 5));
        g_autofree char *bytes = g_strdup_printf("%lld", (long long) sqlite3_column_int64(q, 6));
        const char *f[] = { id, kind, query, at, op, count, bytes };
        csv_row(csv, f, G_N_ELEMENTS(f));
        json_builder_begin_object(b);
        json_int(b, "id", sqlite3_column_int64(q, 0));
        json_str(b, "kind", kind);
        json_str(b, "query", query);
        json_str(b, "at", at);
        json_str(b, "operator", op);
        json_int(b, "count", sqlite3_column_int64(q, 5));
        json_int(b, "bytes", sqlite3_column_int64(q, 6));
        json_builder_end_object(b);
        (*n)++;
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store_fail(st, rc, "cannot read the case's queries", err);
    json_builder_end_array(b);
    json_builder_end_object(b);
    *json = json_text(b);
    return COR_OK;
}

/* redaction-log.csv: every accepted span, never its text.  The Message-ID
 * is the manifest's (in a release, with its redactions applied). */
static cor_status_t
redaction_log(cor_store_t *st, const case_info_t *c, GHashTable *numbers, GPtrArray *rows,
              GString *csv, char **err)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT r.msg, '', r.span_start, r.span_end, r.kind, r.exemption, r.operator,"
        " r.at, r.id FROM redactions r JOIN messages m ON m.id = r.msg"
        " JOIN case_messages cm ON cm.case_id = r.case_id AND cm.msg = r.msg"
        " WHERE r.case_id = ?1 AND r.state = 'accepted'"
        " ORDER BY m.date, m.message_id, r.msg, r.span_start, r.span_end, r.id");
    if (!q) {
        *err = g_strdup(cor_store_error(st));
        return COR_ERR_STORE;
    }
    sqlite3_bind_int64(q, 1, c->id);
    static const char *const cols[] = {
        "message", "message_id", "span", "kind", "exemption", "label", "operator", "time",
    };
    csv_row(csv, cols, G_N_ELEMENTS(cols));
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t msg = sqlite3_column_int64(q, 0);
        int number = GPOINTER_TO_INT(g_hash_table_lookup(numbers, &msg));
        g_autofree char *num = g_strdup_printf("%04d", number);
        const manifest_row_t *row = number >= 1 && (guint) number <= rows->len
                                        ? rows->pdata[number - 1] : NULL;
        g_autofree char *span = g_strdup_printf("%lld-%lld", (long long) sqlite3_column_int64(q, 2),
                                                (long long) sqlite3_column_int64(q, 3));
        const char *ex = (const char *) sqlite3_column_text(q, 5);
        g_autofree char *label = g_strdup_printf("[Redacted \xe2\x80\x93 %s]",
            cor_redact_exemption_label(ex) ? cor_redact_exemption_label(ex) : ex);
        g_autofree char *at = iso(sqlite3_column_int64(q, 7));
        const char *f[] = {
            num, row ? row->message_id : "", span,
            (const char *) sqlite3_column_text(q, 4), ex, label,
            (const char *) sqlite3_column_text(q, 6), at,
        };
        csv_row(csv, f, G_N_ELEMENTS(f));
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store_fail(st, rc, "cannot read redactions", err);
    return COR_OK;
}

static void
readme(GString *o, const case_info_t *c, bool release, const cor_bundle_result_t *res,
       int64_t queries)
{
    const char *what = strcmp(c->type, "sar") == 0 ? "subject access request"
                       : strcmp(c->type, "eir") == 0 ? "Environmental Information Regulations request"
                                                     : "Freedom of Information request";
    g_string_append_printf(o,
        "Disclosure bundle for case %s\r\n"
        "===========================%.*s\r\n"
        "\r\n"
        "This bundle holds the email messages found for %s %s (received %s).\r\n"
        "It was made by corridor, the system that keeps the council's group email.\r\n"
        "It holds %" G_GINT64_FORMAT " message%s; %" G_GINT64_FORMAT " of them %s redactions.\r\n"
        "\r\n",
        c->ref, (int) strlen(c->ref), "==========================================================="
        "===================================================================",
        strchr("aeiou", what[0]) ? "an" : "a", what, c->received, res->messages,
        res->messages == 1 ? "" : "s", res->redacted, res->redacted == 1 ? "has" : "have");
    if (!release) {
        g_string_append(o,
            "What is in it\r\n"
            "-------------\r\n"
            "The messages are numbered 0001, 0002, ... in date order.\r\n"
            "\r\n"
            "  manifest.csv       one line per message: its number, Message-ID, date, sender,\r\n"
            "                     recipients, subject, the group it was sent to, a link to it\r\n"
            "                     in the archive (empty when the group is not published), the\r\n"
            "                     SHA-256 checksum of the original, any protective marking,\r\n"
            "                     and the files below that belong to it.  It opens in a\r\n"
            "                     spreadsheet (UTF-8 text, comma separated).\r\n"
            "  manifest.json      the same, for computers.\r\n"
            "  originals/         each original message exactly as it was received (.eml: it\r\n"
            "                     opens in an email program).\r\n"
            "  html/              each message as a page for reading and printing.\r\n"
            "  attachments/       the attachments of each message, in a folder per message.\r\n"
            "  redacted/          for messages with redactions, a copy with the redacted\r\n"
            "                     information removed (.html to read and print, .txt plain text).\r\n"
            "  redaction-log.csv  every redaction: message, position, kind of information,\r\n"
            "                     exemption, who made it and when (not the information itself).\r\n"
            "  queries.csv/.json  the searches made to find the messages: when, by whom, the\r\n"
            "                     search and how many messages it found.\r\n"
            "\r\n"
            "Checking a message has not been changed\r\n"
            "---------------------------------------\r\n"
            "The sha256 column of manifest.csv is the SHA-256 checksum of each original as the\r\n"
            "council stored it when it arrived.  To check an original, compute its checksum and\r\n"
            "compare it with the manifest:\r\n"
            "\r\n"
            "  Windows (PowerShell):  Get-FileHash originals\\0001.eml -Algorithm SHA256\r\n"
            "  Windows (cmd):         certutil -hashfile originals\\0001.eml SHA256\r\n"
            "  macOS:                 shasum -a 256 originals/0001.eml\r\n"
            "  Linux:                 sha256sum originals/0001.eml\r\n"
            "\r\n"
            "The two must be the same 64 characters (capital or small letters do not matter).\r\n"
            "\r\n");
    } else {
        g_string_append(o,
            "What is in it\r\n"
            "-------------\r\n"
            "The messages are numbered 0001, 0002, ... in date order.  Each message is given\r\n"
            "as a copy of its text: who sent it and to whom, the date, the subject, its\r\n"
            "Message-ID (the identifier email programs give a message), the names of its\r\n"
            "attachments, and everything written in it.  The original files are left out:\r\n"
            "their formatting, technical headers and attachments are not part of this\r\n"
            "bundle, except the attachments listed under attachments/ below, which the\r\n"
            "council has decided to release.\r\n"
            "\r\n"
            "  redacted/          each message: .html to read and print, .txt plain text.\r\n"
            "                     Where information was withheld it reads [Redacted ...].\r\n"
            "  attachments/       the attachments released, in a folder per message (none\r\n"
            "                     when the folder is missing).\r\n"
            "  manifest.csv       one line per message: its number, Message-ID, date, sender,\r\n"
            "                     recipients and subject as its copy shows them, the group it\r\n"
            "                     was sent to, a link to it in the archive (empty when the\r\n"
            "                     group is not published or the message has redactions), the\r\n"
            "                     SHA-256 checksum of the original the council keeps, any\r\n"
            "                     protective marking, and the files that belong to it.  It\r\n"
            "                     opens in a spreadsheet (UTF-8 text, comma separated).\r\n"
            "  manifest.json      the same, for computers.\r\n"
            "  redaction-log.csv  every redaction: message, position, kind of information,\r\n"
            "                     exemption, who made it and when (not the information itself).\r\n"
            "  queries.csv/.json  the searches made to find the messages: when, by whom, the\r\n"
            "                     search and how many messages it found.\r\n"
            "\r\n"
            "The sha256 column is the checksum of each original as the council stored it\r\n"
            "when it arrived: quote it with the message's number if you ask about a message.\r\n"
            "\r\n");
    }
    g_string_append(o,
        "Redactions\r\n"
        "----------\r\n"
        "Where information has been withheld, the redacted copy reads, for example,\r\n"
        "[Redacted \xe2\x80\x93 s.40(2)]: the text is removed from the copy, not covered up, and\r\n"
        "the label names the exemption that applies:\r\n"
        "\r\n");
    static const char *const codes[] = { "s40(2)", "s41", "s42", "s43", "s31", "s36", "eir-12", "eir-13" };
    for (size_t i = 0; i < G_N_ELEMENTS(codes); i++) {
        /* "  s.40(2)  meaning..." wrapped at 78 columns under the meaning */
        g_string_append_printf(o, "  %-8s", cor_redact_exemption_label(codes[i]));
        size_t col = 10;
        g_auto(GStrv) words = g_strsplit(cor_redact_exemption_meaning(codes[i]), " ", -1);
        for (char **w = words; *w; w++) {
            size_t wl = strlen(*w);
            if (col + 1 + wl > 78 && col > 11) {
                g_string_append(o, "\r\n           ");
                col = 11;
            } else {
                g_string_append_c(o, ' ');
                col++;
            }
            g_string_append(o, *w);
            col += wl;
        }
        g_string_append(o, "\r\n");
    }
    g_string_append_printf(o,
        "\r\n"
        "The searches made for this case (%" G_GINT64_FORMAT ") are listed in queries.csv.%s\r\n"
        "If you have a question about this bundle, quote the case reference %s.\r\n",
        queries, release ? "  Information\r\nwithheld from the messages is withheld from them "
                           "too." : "", c->ref);
}

/* ==== the export ==== */

static cor_status_t
fsync_dir(const char *path, char **err)
{
    g_autofree char *dir = g_path_get_dirname(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        *err = g_strdup_printf("cannot sync folder '%s': %s", dir, g_strerror(e));
        return COR_ERR_IO;
    }
    close(fd);
    return COR_OK;
}

static int64_t
day_start(const char *ymd)
{
    int y = 0, m = 0, d = 0;
    if (sscanf(ymd, "%d-%d-%d", &y, &m, &d) != 3)
        return 315532800;   /* 1980-01-01, the earliest DOS time */
    g_autoptr(GDateTime) dt = g_date_time_new_utc(y, m, d, 0, 0, 0);
    int64_t t = dt ? g_date_time_to_unix(dt) : 315532800;
    return t < 315532800 ? 315532800 : t;
}

/* The release's attachments "N/K" (bundle.h) into `wanted` as "NNNN/K". */
static cor_status_t
parse_wanted(const cor_bundle_options_t *opt, GHashTable *wanted, char **err)
{
    for (const char *const *a = opt->attachments; a && *a; a++) {
        if (!opt->release) {
            *err = g_strdup("attachments are released one by one only in a release (--release): "
                            "the officer's bundle has them all");
            return COR_ERR_INVALID;
        }
        char *end = NULL;
        guint64 n = g_ascii_strtoull(*a, &end, 10);
        guint64 k = 0;
        bool ok = end != *a && *end == '/' && g_ascii_isdigit(end[1]);
        if (ok) {
            const char *kp = end + 1;
            k = g_ascii_strtoull(kp, &end, 10);
            ok = *end == '\0' && n >= 1 && n <= 9999 && k >= 1 && k <= 100000;
        }
        if (!ok) {
            *err = g_strdup_printf("'%s' is not MESSAGE/ATTACHMENT (the message's number in the "
                                   "case and the attachment's number in its text, e.g. 0002/1)",
                                   *a);
            return COR_ERR_INVALID;
        }
        g_hash_table_insert(wanted, g_strdup_printf("%04u/%u", (unsigned) n, (unsigned) k),
                            GINT_TO_POINTER(1));
    }
    return COR_OK;
}

static gint
str_ptr_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The keys of `wanted` (with value `only`, or any when 0), sorted
 * (borrowed strings). */
static GPtrArray *
wanted_keys(GHashTable *wanted, int only)
{
    GPtrArray *keys = g_ptr_array_new();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, wanted);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (!only || GPOINTER_TO_INT(v) == only)
            g_ptr_array_add(keys, k);
    g_ptr_array_sort(keys, str_ptr_cmp);
    return keys;
}

/* The first attachment asked for that the case does not have (transfer
 * full), or NULL. */
static char *
wanted_missing(GHashTable *wanted)
{
    g_autoptr(GPtrArray) keys = wanted_keys(wanted, 1);
    return keys->len ? g_strdup(keys->pdata[0]) : NULL;
}

/* Every released attachment, sorted, for the audit entry. */
static void
wanted_json(JsonBuilder *b, GHashTable *wanted)
{
    g_autoptr(GPtrArray) keys = wanted_keys(wanted, 0);
    json_builder_set_member_name(b, "attachments_released");
    json_builder_begin_array(b);
    for (guint i = 0; i < keys->len; i++)
        json_builder_add_string_value(b, keys->pdata[i]);
    json_builder_end_array(b);
}

static cor_status_t
write_bundle(cor_store_t *st, const cor_bundle_options_t *opt, case_info_t *c, zip_out_t *z,
             GHashTable *wanted, cor_bundle_result_t *res, char **err)
{
    g_autoptr(GPtrArray) msgs = NULL;
    cor_status_t s = case_message_rows(st, c->id, &msgs, err);
    if (s != COR_OK)
        return s;
    g_autoptr(cor_tmpl_set_t) tmpl = cor_tmpl_set_new();
    if ((s = cor_tmpl_set_add(tmpl, "page.html", page_template, sizeof page_template - 1,
                              "built-in bundle page.html", err)) != COR_OK)
        return s;
    g_autoptr(cor_redact_phrases_t) phrases = cor_redact_phrases_new();
    export_ctx_t x = { st, opt, c, tmpl, z, msgs->len, res, wanted, phrases };
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func((GDestroyNotify) manifest_row_free);
    g_autoptr(GHashTable) numbers = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    for (guint i = 0; i < msgs->len; i++) {
        const msg_row_t *m = msgs->pdata[i];
        manifest_row_t *r = NULL;
        if ((s = export_message(&x, m, (int) i + 1, &r, err)) != COR_OK)
            return s;
        g_ptr_array_add(rows, r);
        g_hash_table_insert(numbers, g_memdup2(&m->id, sizeof m->id), GINT_TO_POINTER((int) i + 1));
        if (opt->progress)
            opt->progress(i + 1, msgs->len, opt->progress_data);
    }
    res->messages = msgs->len;
    g_autofree char *missing = wanted_missing(wanted);
    if (missing) {
        unsigned n = (unsigned) g_ascii_strtoull(missing, NULL, 10);
        *err = n > msgs->len
            ? g_strdup_printf("cannot release attachment %s: case %s has %u message%s", missing,
                              c->ref, msgs->len, msgs->len == 1 ? "" : "s")
            : g_strdup_printf("cannot release attachment %s: message %.4s has no attachment %s "
                              "(see the Attachment lines of its text)", missing, missing,
                              strchr(missing, '/') + 1);
        return COR_ERR_NOT_FOUND;
    }

    GString *csv = g_string_new(NULL);
    manifest_csv(csv, rows);
    g_autofree char *mjson = manifest_json(c, opt->release, rows);
    GString *qcsv = g_string_new(NULL), *log = g_string_new(NULL), *rd = g_string_new(NULL);
    g_autofree char *qjson = NULL;
    int64_t nq = 0;
    if ((s = queries_files(st, c, opt->release, phrases, qcsv, &qjson, &nq, err)) == COR_OK &&
        (s = redaction_log(st, c, numbers, rows, log, err)) == COR_OK) {
        readme(rd, c, opt->release, res, nq);
        if ((s = zip_add_str(z, "README.txt", rd, err)) == COR_OK &&
            (s = zip_add_str(z, "manifest.csv", csv, err)) == COR_OK &&
            (s = zip_add(z, "manifest.json", mjson, strlen(mjson), err)) == COR_OK &&
            (s = zip_add_str(z, "queries.csv", qcsv, err)) == COR_OK &&
            (s = zip_add(z, "queries.json", qjson, strlen(qjson), err)) == COR_OK)
            s = zip_add_str(z, "redaction-log.csv", log, err);
    }
    g_string_free(csv, TRUE);
    g_string_free(qcsv, TRUE);
    g_string_free(log, TRUE);
    g_string_free(rd, TRUE);
    return s;
}

/* Records the export (design note 3): one transaction, one entry, before
 * the file gets its name. */
static cor_status_t
record_export(cor_store_t *st, const cor_bundle_options_t *opt, const case_info_t *c,
              GHashTable *wanted, cor_bundle_result_t *res, char **err)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    g_autofree char *abs = g_canonicalize_filename(opt->out_path, NULL);
    json_str(b, "file", abs);
    json_str(b, "sha256", res->sha256);
    json_int(b, "bytes", (int64_t) res->bytes);
    json_builder_set_member_name(b, "release");
    json_builder_add_boolean_value(b, opt->release);
    json_int(b, "messages", res->messages);
    json_int(b, "redacted", res->redacted);
    json_int(b, "withheld", res->withheld);
    json_int(b, "redactions", res->redactions);
    json_int(b, "attachments", res->attachments);
    json_int(b, "entries", res->entries);
    if (opt->release)
        wanted_json(b, wanted);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    g_autofree char *detail = json_generator_to_data(gen, NULL);
    g_autofree char *aerr = NULL;
    cor_status_t s = cor_store_begin(st);
    if (s != COR_OK) {
        *err = g_strdup_printf("cannot record the export: %s", cor_store_error(st));
    } else if ((s = cor_audit_append(st, opt->operator_name, "export", c->ref, detail,
                                     &res->audit_seq, &aerr)) != COR_OK) {
        cor_store_rollback(st);
        *err = g_strdup_printf("cannot record the export: %s", aerr ? aerr : cor_status_to_string(s));
    } else if ((s = cor_store_commit(st)) != COR_OK) {
        *err = g_strdup_printf("cannot record the export: %s", cor_store_error(st));
        cor_store_rollback(st);
    }
    if (s != COR_OK)
        res->audit_seq = 0;
    return s;
}

/* Removes "OUT.tmp-XXXXXX" files beside `out_path` that no export is
 * writing: an export killed part-way leaves its temporary file (the target
 * itself is untouched).  A live export writes its file continuously, so one
 * not written for a minute is stale. */
#define STALE_TMP_SECONDS 60
static void
sweep_stale_tmp(const char *out_path)
{
    g_autofree char *dir = g_path_get_dirname(out_path);
    g_autofree char *base = g_path_get_basename(out_path);
    g_autofree char *prefix = g_strconcat(base, ".tmp-", NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    if (!d)
        return;
    time_t now = time(NULL);
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        if (!g_str_has_prefix(name, prefix) || strlen(name) != strlen(prefix) + 6)
            continue;
        g_autofree char *path = g_build_filename(dir, name, NULL);
        struct stat sb;
        if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
            now - sb.st_mtime > STALE_TMP_SECONDS && g_unlink(path) == 0)
            cor_log_info("removed '%s', left by an export that did not finish", path);
    }
    g_dir_close(d);
}

cor_status_t
cor_bundle_export(cor_store_t *st, const cor_bundle_options_t *opt, cor_bundle_result_t *res,
                  char **err)
{
    memset(res, 0, sizeof *res);
    g_autoptr(GHashTable) wanted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    cor_status_t s = parse_wanted(opt, wanted, err);
    if (s != COR_OK)
        return s;
    case_info_t c = { 0 };
    s = cor_store_begin_read(st);
    if (s != COR_OK) {
        *err = g_strdup_printf("cannot read the store: %s", cor_store_error(st));
        return s;
    }
    if ((s = case_read(st, opt->case_ref, &c, err)) != COR_OK) {
        cor_store_end_read(st);
        return s;
    }

    /* the temporary file next to the target (design note 2); first the
     * ones an export killed earlier left there */
    sweep_stale_tmp(opt->out_path);
    g_autofree char *tmp = g_strconcat(opt->out_path, ".tmp-XXXXXX", NULL);
    int fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0640);
    if (fd < 0) {
        *err = g_strdup_printf("cannot create '%s': %s", tmp, g_strerror(errno));
        cor_store_end_read(st);
        case_info_clear(&c);
        return COR_ERR_IO;
    }
    zip_out_t z = { .fd = fd, .sum = g_checksum_new(G_CHECKSUM_SHA256),
                    .mtime = day_start(c.received), .target = opt->out_path };
    z.a = archive_write_new();
    archive_write_set_format_zip(z.a);
    archive_write_set_bytes_in_last_block(z.a, 1);
    archive_write_set_format_option(z.a, "zip", "compression", "deflate");
    archive_write_set_format_option(z.a, "zip", "compression-level", ZIP_LEVEL);
    archive_write_set_format_option(z.a, "zip", "hdrcharset", "UTF-8");
    if (archive_write_open2(z.a, &z, NULL, zip_write_cb, zip_close_cb, NULL) != ARCHIVE_OK) {
        *err = g_strdup_printf("cannot start the ZIP file: %s", archive_error_string(z.a));
        s = COR_ERR_IO;
    } else {
        s = write_bundle(st, opt, &c, &z, wanted, res, err);
    }
    cor_store_end_read(st);
    if (s == COR_OK && archive_write_close(z.a) != ARCHIVE_OK) {
        if (z.write_errno)
            *err = g_strdup_printf("cannot write '%s': %s (at the end of the bundle)",
                                   opt->out_path, g_strerror(z.write_errno));
        else
            *err = g_strdup_printf("cannot finish the ZIP file: %s", archive_error_string(z.a));
        s = write_status(z.write_errno);
    }
    archive_write_free(z.a);
    if (s == COR_OK && fsync(fd) != 0) {
        int e = errno;
        *err = g_strdup_printf("cannot sync '%s': %s", tmp, g_strerror(e));
        s = write_status(e);
    }
    if (close(fd) != 0 && s == COR_OK) {
        *err = g_strdup_printf("cannot close '%s': %s", tmp, g_strerror(errno));
        s = COR_ERR_IO;
    }
    g_strlcpy(res->sha256, g_checksum_get_string(z.sum), sizeof res->sha256);
    g_checksum_free(z.sum);
    res->bytes = z.bytes;
    res->entries = z.entries;

    /* the audit entry, with the finished file's SHA-256, before the file
     * gets its name (design note 3): a failure here leaves any earlier
     * bundle of that name as it was */
    if (s == COR_OK)
        s = record_export(st, opt, &c, wanted, res, err);
    if (s == COR_OK && rename(tmp, opt->out_path) != 0) {
        *err = g_strdup_printf("cannot rename '%s' to '%s': %s (audit entry %" G_GINT64_FORMAT
                               " records this export, but the file was not written)", tmp,
                               opt->out_path, g_strerror(errno), res->audit_seq);
        s = COR_ERR_IO;
    }
    if (s != COR_OK) {
        g_unlink(tmp);
        case_info_clear(&c);
        return s;
    }
    /* renamed: the entry and the file match; a folder that cannot be
     * synced is reported, and the file is left (its entry is committed) */
    s = fsync_dir(opt->out_path, err);
    case_info_clear(&c);
    return s;
}
