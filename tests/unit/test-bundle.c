/* Unit tests for records/bundle.h: a case of three hand-made messages
 * (tests/data/records/bundle/: plain text full of personal data, HTML mail
 * with attachments in a public and a private group, a reply only in a
 * private group) with accepted, rejected and manual redactions, exported
 * and read back with libarchive:
 *   - two exports give the same bytes, whatever the clock says;
 *   - the entries, in their order, with fixed times and modes;
 *   - originals byte for byte, their SHA-256 in the manifest and the store;
 *   - manifest.csv (no byte order mark, header row, CRLF, quoting) and
 *     manifest.json agree; url empty for a message only a private group has;
 *   - redacted copies lack every redacted text (also escaped, also in
 *     attributes, titles and attachment names) and read "[Redacted – ...]";
 *   - the redaction log and the audit entry never hold the text; the audit
 *     entry names the file's SHA-256;
 *   - the requester's version leaves out what it must;
 *   - a stale redaction stops the export and leaves no file;
 *   - safe attachment names. */
#include <archive.h>
#include <archive_entry.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "core/message.h"
#include "core/store.h"
#include "core/store_internal.h"
#include "core/template.h"
#include "records/bundle.h"
#include "records/readable.h"
#include "records/redact.h"

static char *
load(const char *name, gsize *len)
{
    const char *src = g_getenv("CORRIDOR_SRC");
    g_autofree char *path = g_build_filename(src ? src : ".", "tests", "data", "records", "bundle",
                                             name, NULL);
    char *data = NULL;
    g_assert_true(g_file_get_contents(path, &data, len, NULL));
    return data;
}

typedef struct fixture {
    char *dir;
    cor_store_t *st;
    int64_t planning, hr;
    int64_t msgs[3];
} fixture_t;

static int64_t
add_eml(fixture_t *f, int64_t group, const char *name)
{
    gsize len = 0;
    g_autofree char *raw = load(name, &len);
    g_autoptr(cor_message_t) m = NULL;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_message_parse_summary(raw, len, 1700000000, &m, &err), ==, COR_OK);
    char sha[65];
    cor_sha256_hex(raw, len, sha);
    cor_intake_t in = { 0 };
    g_assert_cmpint(cor_store_begin(f->st), ==, COR_OK);
    g_assert_cmpint(cor_store_add_message(f->st, group, raw, len, sha, 1700000000, m, &in), ==, COR_OK);
    g_assert_cmpint(cor_store_commit(f->st), ==, COR_OK);
    int64_t id = in.msg;
    cor_intake_clear(&in);
    return id;
}

static void
exec(fixture_t *f, const char *sql)
{
    char *e = NULL;
    if (sqlite3_exec(f->st->db, sql, NULL, NULL, &e) != SQLITE_OK)
        g_error("%s: %s", sql, e);
}

static char *
query_text(fixture_t *f, const char *sql)
{
    sqlite3_stmt *q = NULL;
    g_assert_cmpint(sqlite3_prepare_v2(f->st->db, sql, -1, &q, NULL), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_step(q), ==, SQLITE_ROW);
    char *v = g_strdup((const char *) sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    return v;
}

static void
setup(fixture_t *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("corridor-bundle-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(f->dir, "corridor.db", NULL);
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_store_open(path, true, &f->st, &err), ==, COR_OK);
    g_assert_cmpint(cor_store_group_create(f->st, "planning", "Planning", COR_VISIBILITY_PUBLIC,
                                           &f->planning), ==, COR_OK);
    g_assert_cmpint(cor_store_group_create(f->st, "hr", "HR", COR_VISIBILITY_PRIVATE, &f->hr), ==, COR_OK);
    g_assert_cmpint(cor_store_member_add(f->st, f->planning, "bob.jones@council.example", "Bob Jones"), ==, COR_OK);
    f->msgs[0] = add_eml(f, f->planning, "plain.eml");
    f->msgs[1] = add_eml(f, f->planning, "html-attach.eml");
    g_assert_cmpint(add_eml(f, f->hr, "html-attach.eml"), ==, f->msgs[1]);
    f->msgs[2] = add_eml(f, f->hr, "private-reply.eml");
    exec(f, "INSERT INTO cases (ref, type, received, due, opened_by, opened)"
            " VALUES ('FOI/2005-1', 'foi', '2005-04-01', '2005-04-29', 't', 1)");
    exec(f, "INSERT INTO case_queries (case_id, kind, query, at, operator, count, bytes)"
            " VALUES (1, 'foi', 'subject:\"site visit\", or \"quince\"', 1112400000, 'officer', 2, 4000)");
    g_autofree char *add = g_strdup_printf(
        "INSERT INTO case_messages (case_id, msg, query_id, added, added_by) VALUES"
        " (1, %" G_GINT64_FORMAT ", 1, 1, 't'), (1, %" G_GINT64_FORMAT ", 1, 1, 't'),"
        " (1, %" G_GINT64_FORMAT ", NULL, 1, 't')", f->msgs[0], f->msgs[1], f->msgs[2]);
    exec(f, add);
    /* redactions: everything proposed accepted but the group address, one
     * manual span, and message 3's proposals rejected except one */
    int64_t n = 0, m = 0, changed = 0;
    const char *names[] = { "Peter Quince", NULL };
    g_assert_cmpint(cor_redact_propose(f->st, "FOI/2005-1", "officer", NULL, names, &n, &m, &err), ==, COR_OK);
    exec(f, "UPDATE redactions SET state = 'rejected' WHERE kind = 'email' AND"
            " msg = (SELECT id FROM messages WHERE message_id = 'private.3@council.example')");
    /* planning@lists.example.gov.uk (29 bytes) */
    exec(f, "UPDATE redactions SET state = 'rejected' WHERE kind = 'email'"
            " AND span_end - span_start = 29");
    g_assert_cmpint(cor_redact_decide(f->st, "FOI/2005-1", "officer", NULL, true, &changed, &err), ==, COR_OK);
    g_autoptr(GArray) ids = NULL;
    g_assert_cmpint(cor_redact_manual(f->st, "FOI/2005-1", "officer", "private.3@council.example",
                                      "PQ-2005-17", -1, 0, 0, "s31", &ids, NULL, NULL, &err), ==, COR_OK);
}

static void
teardown(fixture_t *f, gconstpointer data)
{
    cor_store_close(f->st);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(f->dir);
}

/* ---- reading a bundle ---- */

typedef struct zip_entry {
    char *name;
    GBytes *data;
    int64_t mtime;
    int mode;
} zip_entry_t;

static void
zip_entry_free(zip_entry_t *e)
{
    g_free(e->name);
    g_bytes_unref(e->data);
    g_free(e);
}

static GPtrArray *
read_zip(const char *path)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify) zip_entry_free);
    struct archive *a = archive_read_new();
    archive_read_support_format_zip(a);
    g_assert_cmpint(archive_read_open_filename(a, path, 65536), ==, ARCHIVE_OK);
    struct archive_entry *e;
    int rc;
    /* (ARCHIVE_WARN: a UTF-8 name the C locale cannot show; the UTF-8 name
     * is read all the same) */
    while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
        zip_entry_t *z = g_new0(zip_entry_t, 1);
        z->name = g_strdup(archive_entry_pathname_utf8(e));
        z->mtime = archive_entry_mtime(e);
        z->mode = (int) archive_entry_mode(e);
        GByteArray *buf = g_byte_array_new();
        char chunk[65536];
        la_ssize_t n;
        while ((n = archive_read_data(a, chunk, sizeof chunk)) > 0)
            g_byte_array_append(buf, (const guint8 *) chunk, (guint) n);
        g_assert_cmpint(n, ==, 0);
        z->data = g_byte_array_free_to_bytes(buf);
        g_ptr_array_add(out, z);
    }
    if (rc != ARCHIVE_EOF)
        g_error("cannot read %s after %u entries: %s", path, out->len, archive_error_string(a));
    archive_read_free(a);
    return out;
}

static const zip_entry_t *
find(GPtrArray *zip, const char *name)
{
    for (guint i = 0; i < zip->len; i++) {
        const zip_entry_t *z = zip->pdata[i];
        if (strcmp(z->name, name) == 0)
            return z;
    }
    return NULL;
}

static char *
text_of(GPtrArray *zip, const char *name)
{
    const zip_entry_t *z = find(zip, name);
    if (!z)
        g_error("no '%s' in the bundle", name);
    gsize len = 0;
    const char *d = g_bytes_get_data(z->data, &len);
    return g_strndup(d, len);
}

/* RFC 4180 records of a CSV text (GPtrArray of GStrv). */
static GPtrArray *
csv_parse(const char *t)
{
    GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
    const char *p = t;
    while (*p) {
        GPtrArray *fields = g_ptr_array_new();
        for (;;) {
            GString *f = g_string_new(NULL);
            if (*p == '"') {
                p++;
                for (;;) {
                    g_assert_true(*p);
                    if (*p == '"' && p[1] == '"') {
                        g_string_append_c(f, '"');
                        p += 2;
                    } else if (*p == '"') {
                        p++;
                        break;
                    } else {
                        g_string_append_c(f, *p++);
                    }
                }
            } else {
                while (*p && *p != ',' && *p != '\r')
                    g_string_append_c(f, *p++);
            }
            g_ptr_array_add(fields, g_string_free(f, FALSE));
            if (*p == ',') {
                p++;
                continue;
            }
            g_assert_true(p[0] == '\r' && p[1] == '\n');   /* CRLF, always */
            p += 2;
            break;
        }
        g_ptr_array_add(fields, NULL);
        g_ptr_array_add(rows, g_ptr_array_free(fields, FALSE));
    }
    return rows;
}

static int
column(char **header, const char *name)
{
    for (int i = 0; header[i]; i++)
        if (strcmp(header[i], name) == 0)
            return i;
    g_error("no column %s", name);
    return -1;
}

/* The texts of the case's accepted redactions. */
static GPtrArray *
redacted_texts(fixture_t *f)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) list = NULL;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_redact_list(f->st, "FOI/2005-1", "accepted", &list, &err), ==, COR_OK);
    for (guint i = 0; i < list->len; i++) {
        cor_redaction_t *r = list->pdata[i];
        g_autofree char *text = NULL;
        g_assert_cmpint(cor_readable_load(f->st, r->msg, 0, &text, NULL, NULL, NULL, &err), ==, COR_OK);
        g_ptr_array_add(out, g_strndup(text + r->start, (gsize) (r->end - r->start)));
    }
    return out;
}

static void
export(fixture_t *f, const char *name, bool release, cor_bundle_result_t *res)
{
    g_autofree char *path = g_build_filename(f->dir, name, NULL);
    cor_bundle_options_t opt = {
        .case_ref = "FOI/2005-1", .out_path = path, .release = release,
        .base_url = "https://lists.example.gov.uk/", .operator_name = "officer",
    };
    g_autofree char *err = NULL;
    cor_status_t s = cor_bundle_export(f->st, &opt, res, &err);
    if (s != COR_OK)
        g_error("export: %s", err);
}

static void
test_deterministic(fixture_t *f, gconstpointer data)
{
    cor_bundle_result_t a, b;
    export(f, "a.zip", false, &a);
    g_usleep(1100 * 1000);   /* a second later: nothing may depend on the clock */
    export(f, "b.zip", false, &b);
    g_autofree char *pa = g_build_filename(f->dir, "a.zip", NULL);
    g_autofree char *pb = g_build_filename(f->dir, "b.zip", NULL);
    g_autofree char *da = NULL, *db = NULL;
    gsize la = 0, lb = 0;
    g_assert_true(g_file_get_contents(pa, &da, &la, NULL));
    g_assert_true(g_file_get_contents(pb, &db, &lb, NULL));
    g_assert_cmpmem(da, la, db, lb);
    g_assert_cmpstr(a.sha256, ==, b.sha256);
    char sha[65];
    cor_sha256_hex(da, la, sha);
    g_assert_cmpstr(a.sha256, ==, sha);
    g_assert_cmpuint(a.bytes, ==, la);
    g_assert_cmpint(a.messages, ==, 3);
    g_assert_cmpint(a.redacted, ==, 3);
    g_assert_cmpint(a.withheld, ==, 0);
    g_assert_cmpint(a.attachments, ==, 3);
    g_assert_true(a.audit_seq > 0 && b.audit_seq == a.audit_seq + 1);
    /* the audit entry names the file's checksum, never a redacted text */
    g_autofree char *sql = g_strdup_printf("SELECT detail FROM audit WHERE seq = %" G_GINT64_FORMAT, a.audit_seq);
    g_autofree char *detail = query_text(f, sql);
    g_assert_nonnull(strstr(detail, sha));
    g_autofree char *want_file = g_strdup_printf("\"file\":\"%s\"", pa);
    g_assert_nonnull(strstr(detail, want_file));
    g_autofree char *action = query_text(f, "SELECT action || ' ' || case_ref FROM audit ORDER BY seq DESC LIMIT 1");
    g_assert_cmpstr(action, ==, "export FOI/2005-1");
    /* no temporary file left */
    g_autoptr(GDir) d = g_dir_open(f->dir, 0, NULL);
    const char *n;
    while ((n = g_dir_read_name(d)))
        g_assert_null(strstr(n, ".tmp-"));
}

static void
test_contents(fixture_t *f, gconstpointer data)
{
    cor_bundle_result_t r;
    export(f, "case.zip", false, &r);
    g_autofree char *path = g_build_filename(f->dir, "case.zip", NULL);
    g_autoptr(GPtrArray) zip = read_zip(path);
    GString *names = g_string_new(NULL);
    for (guint i = 0; i < zip->len; i++) {
        const zip_entry_t *z = zip->pdata[i];
        g_string_append_printf(names, "%s\n", z->name);
        g_assert_cmpint(z->mtime, ==, 1112313600);   /* 2005-04-01T00:00:00Z, the received date */
        g_assert_cmpint(z->mode, ==, 0100644);
    }
    g_assert_cmpstr(names->str, ==,
        "originals/0001.eml\nhtml/0001.html\nredacted/0001.txt\nredacted/0001.html\n"
        "originals/0002.eml\nattachments/0002/Peter Quince CV.pdf\nattachments/0002/notes.txt\n"
        "attachments/0002/NOTES (2).txt\nhtml/0002.html\nredacted/0002.txt\nredacted/0002.html\n"
        "originals/0003.eml\nhtml/0003.html\nredacted/0003.txt\nredacted/0003.html\n"
        "README.txt\nmanifest.csv\nmanifest.json\nqueries.csv\nqueries.json\nredaction-log.csv\n");
    g_string_free(names, TRUE);
    g_assert_cmpint(r.entries, ==, 21);

    /* originals byte for byte */
    static const char *const files[] = { "plain.eml", "html-attach.eml", "private-reply.eml" };
    for (int i = 0; i < 3; i++) {
        gsize len = 0;
        g_autofree char *raw = load(files[i], &len);
        g_autofree char *name = g_strdup_printf("originals/%04d.eml", i + 1);
        const zip_entry_t *z = find(zip, name);
        g_assert_cmpmem(g_bytes_get_data(z->data, NULL), g_bytes_get_size(z->data), raw, len);
    }
    const zip_entry_t *pdf = find(zip, "attachments/0002/Peter Quince CV.pdf");
    g_assert_true(g_str_has_prefix(g_bytes_get_data(pdf->data, NULL), "%PDF-1.4"));

    /* the manifest */
    g_autofree char *csv = text_of(zip, "manifest.csv");
    g_assert_true(g_str_has_prefix(csv, "number,message_id,date,from,to,cc,subject,group,url,"
                                        "sha256,marking,size,redactions,original,html,"
                                        "attachments,redacted_html,redacted_txt\r\n"));
    g_autoptr(GPtrArray) rows = csv_parse(csv);
    g_assert_cmpuint(rows->len, ==, 4);
    char **h = rows->pdata[0];
    for (int i = 1; i <= 3; i++) {
        char **row = rows->pdata[i];
        g_autofree char *want_name = g_strdup_printf("originals/%04d.eml", i);
        g_assert_cmpstr(row[column(h, "original")], ==, want_name);
        const zip_entry_t *z = find(zip, want_name);
        char sha[65];
        cor_sha256_hex(g_bytes_get_data(z->data, NULL), g_bytes_get_size(z->data), sha);
        g_assert_cmpstr(row[column(h, "sha256")], ==, sha);
        g_autofree char *sql = g_strdup_printf("SELECT sha256 FROM messages WHERE id = %" G_GINT64_FORMAT, f->msgs[i - 1]);
        g_autofree char *stored = query_text(f, sql);
        g_assert_cmpstr(stored, ==, sha);
    }
    char **r1 = rows->pdata[1], **r2 = rows->pdata[2], **r3 = rows->pdata[3];
    g_assert_cmpstr(r1[column(h, "message_id")], ==, "plain.1@council.example");
    g_assert_cmpstr(r1[column(h, "date")], ==, "2005-03-01T14:05:09Z");
    g_assert_cmpstr(r1[column(h, "from")], ==, "Jane Smith <jane.smith@council.example>");
    g_assert_cmpstr(r1[column(h, "subject")], ==, "Caf\xc3\xa9 licence for 12 High Street");
    g_assert_cmpstr(r1[column(h, "group")], ==, "planning");
    g_assert_true(g_str_has_prefix(r1[column(h, "url")], "https://lists.example.gov.uk/g/planning/m/"));
    g_assert_cmpstr(r2[column(h, "group")], ==, "hr;planning");
    g_assert_true(g_str_has_prefix(r2[column(h, "url")], "https://lists.example.gov.uk/g/planning/m/"));
    g_assert_cmpstr(r2[column(h, "attachments")], ==, "attachments/0002/Peter Quince CV.pdf;"
                    "attachments/0002/notes.txt;attachments/0002/NOTES (2).txt");
    g_assert_cmpstr(r3[column(h, "group")], ==, "hr");
    g_assert_cmpstr(r3[column(h, "url")], ==, "");        /* only a private group has it */
    g_assert_cmpstr(r3[column(h, "redactions")], !=, "0");
    g_assert_cmpstr(r3[column(h, "redacted_txt")], ==, "redacted/0003.txt");

    /* manifest.json agrees */
    g_autofree char *json = text_of(zip, "manifest.json");
    g_autoptr(JsonParser) jp = json_parser_new();
    g_assert_true(json_parser_load_from_data(jp, json, -1, NULL));
    JsonObject *root = json_node_get_object(json_parser_get_root(jp));
    g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(root, "case"), "ref"), ==, "FOI/2005-1");
    JsonArray *msgs = json_object_get_array_member(root, "messages");
    g_assert_cmpuint(json_array_get_length(msgs), ==, 3);
    for (guint i = 0; i < 3; i++) {
        JsonObject *o = json_array_get_object_element(msgs, i);
        char **row = rows->pdata[i + 1];
        static const char *const same[] = { "message_id", "date", "from", "to", "cc", "subject",
                                            "group", "url", "sha256", "marking" };
        for (size_t k = 0; k < G_N_ELEMENTS(same); k++)
            g_assert_cmpstr(json_object_get_string_member(o, same[k]), ==, row[column(h, same[k])]);
    }

    /* the printable copy: self-contained, the text, no script from the mail */
    g_autofree char *page = text_of(zip, "html/0002.html");
    g_assert_true(g_str_has_prefix(page, "<!DOCTYPE html>\n<html lang=\"en-GB\">"));
    g_assert_nonnull(strstr(page, "@media print"));
    g_assert_nonnull(strstr(page, "Met Peter Quince on site"));
    g_assert_nonnull(strstr(page, "href=\"../attachments/0002/Peter%20Quince%20CV.pdf\""));
    const char *once = strstr(page, "Peter Quince CV.pdf</a>");
    g_assert_true(once && !strstr(once + 1, "Peter Quince CV.pdf</a>"));   /* listed once */
    g_assert_nonnull(strstr(page, "<h2>Attachments</h2>"));
    g_autofree char *page1 = text_of(zip, "html/0001.html");
    g_assert_null(strstr(page1, "<h2>Attachments</h2>"));
    g_assert_null(strstr(page, "<script"));
    g_assert_null(strstr(page, "alert(1)"));
    g_assert_null(strstr(page, "src="));

    /* redacted copies: every redacted text gone, in any form */
    g_autoptr(GPtrArray) gone = redacted_texts(f);
    g_assert_cmpuint(gone->len, >=, 15);
    for (int i = 1; i <= 3; i++) {
        g_autofree char *tn = g_strdup_printf("redacted/%04d.txt", i);
        g_autofree char *hn = g_strdup_printf("redacted/%04d.html", i);
        g_autofree char *t = text_of(zip, tn);
        g_autofree char *hh = text_of(zip, hn);
        g_assert_nonnull(strstr(t, "[Redacted \xe2\x80\x93 s.40(2)]"));
        g_assert_nonnull(strstr(hh, "<span class=\"redacted\">[Redacted \xe2\x80\x93 s.40(2)]</span>"));
        for (guint k = 0; k < gone->len; k++) {
            const char *g = gone->pdata[k];
            GString *esc = g_string_new(NULL);
            cor_escape_html(esc, g, -1);
            g_assert_null(strstr(t, g));
            g_assert_null(strstr(hh, g));
            g_assert_null(strstr(hh, esc->str));
            g_string_free(esc, TRUE);
        }
        g_assert_null(strstr(hh, "Quince"));     /* not in a title, an attribute or a file name */
        g_assert_null(strstr(hh, "secret title"));
    }
    g_autofree char *r3t = text_of(zip, "redacted/0003.txt");
    g_assert_nonnull(strstr(r3t, "His file reference is [Redacted \xe2\x80\x93 s.31]."));
    g_assert_nonnull(strstr(r3t, "hr@lists.example.gov.uk"));   /* rejected: still there */

    /* the log: every accepted span, never its text */
    g_autofree char *log = text_of(zip, "redaction-log.csv");
    g_autoptr(GPtrArray) lrows = csv_parse(log);
    g_assert_cmpuint(lrows->len, ==, gone->len + 1);
    g_autofree char *log_head = g_strjoinv(",", lrows->pdata[0]);
    g_assert_cmpstr(log_head, ==, "message,message_id,span,kind,exemption,label,operator,time");
    /* (the officer's log names each message by its Message-ID, which is
     * redacted in the copies: only the message_id column may hold one) */
    for (guint r = 1; r < lrows->len; r++) {
        char **row = lrows->pdata[r];
        for (int c = 0; row[c]; c++)
            for (guint k = 0; k < gone->len && c != 1; k++)
                g_assert_null(strstr(row[c], gone->pdata[k]));
    }
    g_autofree char *q = text_of(zip, "queries.csv");
    g_assert_cmpstr(q, ==, "id,kind,query,at,operator,count,bytes\r\n"
                           "1,foi,\"subject:\"\"site visit\"\", or \"\"quince\"\"\",2005-04-02T00:00:00Z,officer,2,4000\r\n");
    g_autofree char *readme = text_of(zip, "README.txt");
    g_assert_nonnull(strstr(readme, "Disclosure bundle for case FOI/2005-1"));
    g_assert_nonnull(strstr(readme, "sha256sum originals/0001.eml"));
    g_assert_nonnull(strstr(readme, "s.40(2)"));
    g_assert_null(strstr(readme, "left out"));
}

static void
test_release(fixture_t *f, gconstpointer data)
{
    cor_bundle_result_t r;
    export(f, "release.zip", true, &r);
    g_assert_cmpint(r.withheld, ==, 3);
    g_autofree char *path = g_build_filename(f->dir, "release.zip", NULL);
    g_autoptr(GPtrArray) zip = read_zip(path);
    for (guint i = 0; i < zip->len; i++) {
        const zip_entry_t *z = zip->pdata[i];
        g_assert_false(g_str_has_prefix(z->name, "originals/"));
        g_assert_false(g_str_has_prefix(z->name, "attachments/"));
        g_assert_false(g_str_has_prefix(z->name, "html/"));
    }
    g_autoptr(GPtrArray) gone = redacted_texts(f);
    for (guint i = 0; i < zip->len; i++) {
        const zip_entry_t *z = zip->pdata[i];
        gsize len = 0;
        const char *d = g_bytes_get_data(z->data, &len);
        g_autofree char *t = g_strndup(d, len);
        for (guint k = 0; k < gone->len; k++)
            if (strstr(t, gone->pdata[k]))
                g_error("'%s' in %s of the release", (const char *) gone->pdata[k], z->name);
    }
    g_autofree char *csv = text_of(zip, "manifest.csv");
    g_autoptr(GPtrArray) rows = csv_parse(csv);
    char **h = rows->pdata[0], **r1 = rows->pdata[1];
    g_assert_cmpstr(r1[column(h, "from")], ==, "Jane Smith <[Redacted \xe2\x80\x93 s.40(2)]>");
    g_assert_cmpstr(r1[column(h, "original")], ==, "");
    g_assert_cmpstr(r1[column(h, "redacted_html")], ==, "redacted/0001.html");
    g_assert_cmpuint(strlen(r1[column(h, "sha256")]), ==, 64);
    g_autofree char *readme = text_of(zip, "README.txt");
    g_assert_nonnull(strstr(readme, "left out"));
}

/* Every entry's name and bytes, casefolded, must not hold `needle`. */
static void
assert_absent(GPtrArray *zip, const char *needle, const char *where)
{
    g_autofree char *want = g_utf8_casefold(needle, -1);
    for (guint i = 0; i < zip->len; i++) {
        const zip_entry_t *z = zip->pdata[i];
        gsize len = 0;
        const char *d = g_bytes_get_data(z->data, &len);
        g_autofree char *name = g_utf8_casefold(z->name, -1);
        g_autofree char *valid = g_utf8_make_valid(d, (gssize) len);
        g_autofree char *body = g_utf8_casefold(valid, -1);
        if (strstr(name, want) || strstr(body, want))
            g_error("%s: '%s' is in %s", where, needle, z->name);
    }
}

static void
export_opts(fixture_t *f, const char *ref, const char *name, bool release,
            const char *const *attachments, cor_bundle_result_t *res)
{
    g_autofree char *path = g_build_filename(f->dir, name, NULL);
    cor_bundle_options_t opt = {
        .case_ref = ref, .out_path = path, .release = release,
        .base_url = "https://lists.example.gov.uk/", .operator_name = "officer",
        .attachments = attachments,
    };
    g_autofree char *err = NULL;
    if (cor_bundle_export(f->st, &opt, res, &err) != COR_OK)
        g_error("export: %s", err);
}

/* The reviewer's case: a name in an HTML message's attributes, hidden
 * text, comment, Reply-To, References, an X- header and its Message-ID,
 * and in an attachment's name.  The release holds only what the scanner
 * read, redacted; an attachment only when released, under its redacted
 * name. */
static void
test_release_scanned(fixture_t *f, gconstpointer data)
{
    int64_t m1 = add_eml(f, f->planning, "gp-html.eml");
    int64_t m2 = add_eml(f, f->planning, "gp-cv.eml");
    int64_t m3 = add_eml(f, f->planning, "gp-plain.eml");
    exec(f, "INSERT INTO cases (ref, type, received, due, opened_by, opened)"
            " VALUES ('FOI/GP', 'foi', '2024-03-13', '2024-04-11', 't', 1)");
    exec(f, "INSERT INTO case_queries (case_id, kind, query, at, operator, count, bytes) VALUES"
            " (2, 'foi', '\"gareth pryce\" OR culvert', 1710300000, 'officer', 3, 9000),"
            " (2, 'ids', '<gareth.pryce.7@northshire.gov.uk>', 1710300100, 'officer', 1, 900)");
    g_autofree char *add = g_strdup_printf(
        "INSERT INTO case_messages (case_id, msg, query_id, added, added_by) VALUES"
        " (2, %" G_GINT64_FORMAT ", 2, 1, 't'), (2, %" G_GINT64_FORMAT ", 2, 1, 't'),"
        " (2, %" G_GINT64_FORMAT ", 2, 1, 't')", m1, m2, m3);
    exec(f, add);
    g_autofree char *err = NULL;
    int64_t n = 0, m = 0, changed = 0;
    const char *names[] = { "Gareth Pryce", NULL };
    g_assert_cmpint(cor_redact_propose(f->st, "FOI/GP", "officer", NULL, names, &n, &m, &err), ==, COR_OK);
    /* the third message is released as it is */
    g_autofree char *rej = g_strdup_printf("UPDATE redactions SET state = 'rejected' WHERE msg = %"
                                           G_GINT64_FORMAT, m3);
    exec(f, rej);
    g_assert_cmpint(cor_redact_decide(f->st, "FOI/GP", "officer", NULL, true, &changed, &err), ==, COR_OK);

    cor_bundle_result_t r;
    export_opts(f, "FOI/GP", "gp.zip", true, NULL, &r);
    g_assert_cmpint(r.messages, ==, 3);
    g_assert_cmpint(r.withheld, ==, 3);
    g_assert_cmpint(r.redacted, ==, 2);
    g_assert_cmpint(r.attachments, ==, 0);
    g_autofree char *path = g_build_filename(f->dir, "gp.zip", NULL);
    g_autoptr(GPtrArray) zip = read_zip(path);
    GString *names_s = g_string_new(NULL);
    for (guint i = 0; i < zip->len; i++)
        g_string_append_printf(names_s, "%s\n", ((zip_entry_t *) zip->pdata[i])->name);
    g_assert_cmpstr(names_s->str, ==,
        "redacted/0001.txt\nredacted/0001.html\nredacted/0002.txt\nredacted/0002.html\n"
        "redacted/0003.txt\nredacted/0003.html\n"
        "README.txt\nmanifest.csv\nmanifest.json\nqueries.csv\nqueries.json\nredaction-log.csv\n");
    g_string_free(names_s, TRUE);
    static const char *const never[] = {
        "gareth", "pryce", "hidden text", "comment", "laptop", "complaint", "profile",
        "at his house", "gp@example.org",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(never); i++)
        assert_absent(zip, never[i], "release");
    /* the copies are the redacted readable text, attachments by name */
    g_autofree char *t1 = text_of(zip, "redacted/0001.txt");
    g_assert_true(g_str_has_prefix(t1,
        "From: Tom Hughes <[Redacted \xe2\x80\x93 s.40(2)]>\n"
        "To: [Redacted \xe2\x80\x93 s.40(2)]\n"
        "Reply-To: [Redacted \xe2\x80\x93 s.40(2)] <[Redacted \xe2\x80\x93 s.40(2)]>\n"
        "Date: 10 March 2024 10:00:00 UTC\n"
        "Subject: culvert pictures\n"
        "Message-ID: <[Redacted \xe2\x80\x93 s.40(2)]>\n\n"
        "Photos of the culvert attached; [Redacted \xe2\x80\x93 s.40(2)] took them."));
    g_autofree char *t2 = text_of(zip, "redacted/0002.txt");
    g_assert_nonnull(strstr(t2, "\nAttachment 1: [Redacted \xe2\x80\x93 s.40(2)] CV.pdf (application/pdf)\n"
                                "Attachment 2: flow readings.csv (text/csv)\n"));
    g_autofree char *h2 = text_of(zip, "redacted/0002.html");
    g_assert_nonnull(strstr(h2, "<title>Redacted copy of message 0002 (case FOI/GP)</title>"));
    g_assert_nonnull(strstr(h2, "This message had 2 attachment(s), listed in its text. They are "
                                "not part of this copy."));
    g_autofree char *h3 = text_of(zip, "redacted/0003.html");
    g_assert_nonnull(strstr(h3, "<h1>Message 0003</h1>"));
    g_assert_null(strstr(h3, "has been redacted"));
    g_assert_nonnull(strstr(h3, "The culvert survey is booked for Thursday."));
    g_assert_null(strstr(h3, "<title>culvert"));   /* the subject is in the text, not the title */
    /* the manifest: from the redacted text */
    g_autofree char *csv = text_of(zip, "manifest.csv");
    g_autoptr(GPtrArray) rows = csv_parse(csv);
    char **h = rows->pdata[0], **r1 = rows->pdata[1], **r2 = rows->pdata[2], **r3 = rows->pdata[3];
    g_assert_cmpstr(r1[column(h, "message_id")], ==, "[Redacted \xe2\x80\x93 s.40(2)]");
    g_assert_cmpstr(r1[column(h, "url")], ==, "");       /* redacted: no permalink */
    g_assert_cmpstr(r1[column(h, "from")], ==, "Tom Hughes <[Redacted \xe2\x80\x93 s.40(2)]>");
    g_assert_cmpstr(r1[column(h, "date")], ==, "2024-03-10T10:00:00Z");
    g_assert_cmpstr(r1[column(h, "original")], ==, "");
    g_assert_cmpstr(r1[column(h, "html")], ==, "");
    g_assert_cmpstr(r1[column(h, "redacted_html")], ==, "redacted/0001.html");
    g_assert_cmpstr(r2[column(h, "message_id")], ==, "[Redacted \xe2\x80\x93 s.40(2)]");   /* proposed as an address, accepted */
    g_assert_cmpstr(r2[column(h, "attachments")], ==, "");
    g_assert_cmpstr(r3[column(h, "message_id")], ==, "survey.9@lists.example.gov.uk");
    g_assert_cmpstr(r3[column(h, "redactions")], ==, "0");
    g_assert_true(g_str_has_prefix(r3[column(h, "url")], "https://lists.example.gov.uk/g/planning/m/"));
    g_assert_cmpstr(r3[column(h, "redacted_txt")], ==, "redacted/0003.txt");
    /* the searches: every redacted text replaced */
    g_autofree char *q = text_of(zip, "queries.csv");
    g_assert_cmpstr(q, ==, "id,kind,query,at,operator,count,bytes\r\n"
        "2,foi,\"\"\"[Redacted \xe2\x80\x93 s.40(2)]\"\" OR culvert\",2024-03-13T03:20:00Z,officer,3,9000\r\n"
        "3,ids,<[Redacted \xe2\x80\x93 s.40(2)]>,2024-03-13T03:21:40Z,officer,1,900\r\n");
    g_autofree char *log = text_of(zip, "redaction-log.csv");
    g_assert_nonnull(strstr(log, "\r\n0001,[Redacted \xe2\x80\x93 s.40(2)],"));
    g_autofree char *readme = text_of(zip, "README.txt");
    g_assert_nonnull(strstr(readme, "left out"));
    g_assert_null(strstr(readme, "sha256sum originals"));

    /* attachments released by number: under their redacted names */
    const char *const wanted[] = { "0002/1", "2/2", NULL };
    export_opts(f, "FOI/GP", "gp-att.zip", true, wanted, &r);
    g_assert_cmpint(r.attachments, ==, 2);
    g_autofree char *apath = g_build_filename(f->dir, "gp-att.zip", NULL);
    g_autoptr(GPtrArray) azip = read_zip(apath);
    for (size_t i = 0; i < G_N_ELEMENTS(never); i++)
        assert_absent(azip, never[i], "release with attachments");
    const zip_entry_t *cv = find(azip, "attachments/0002/[Redacted \xe2\x80\x93 s.40(2)] CV.pdf");
    g_assert_nonnull(cv);
    g_assert_cmpmem(g_bytes_get_data(cv->data, NULL), g_bytes_get_size(cv->data),
                    "%PDF-1.4\n% culvert CV\n", 22);
    g_assert_nonnull(find(azip, "attachments/0002/flow readings.csv"));
    g_autofree char *acsv = text_of(azip, "manifest.csv");
    g_autoptr(GPtrArray) arows = csv_parse(acsv);
    g_assert_cmpstr(((char **) arows->pdata[2])[column(h, "attachments")], ==,
                    "attachments/0002/[Redacted \xe2\x80\x93 s.40(2)] CV.pdf;"
                    "attachments/0002/flow readings.csv");
    g_autofree char *ah2 = text_of(azip, "redacted/0002.html");
    g_assert_nonnull(strstr(ah2, "<h2>Attachments released</h2>"));
    g_assert_nonnull(strstr(ah2, "href=\"../attachments/0002/flow%20readings.csv\""));
    g_assert_nonnull(strstr(ah2, "CV.pdf</a> (application/pdf, 22 bytes)"));
    g_assert_nonnull(strstr(ah2, "(text/csv, 23 bytes)"));
    g_autofree char *detail = query_text(f, "SELECT detail FROM audit ORDER BY seq DESC LIMIT 1");
    g_assert_nonnull(strstr(detail, "\"attachments_released\":[\"0002/1\",\"0002/2\"]"));
    g_assert_nonnull(strstr(detail, "\"release\":true"));
    /* the same release twice: the same bytes */
    export_opts(f, "FOI/GP", "gp-att2.zip", true, wanted, &r);
    g_autofree char *da = NULL, *db = NULL;
    gsize la = 0, lb = 0;
    g_autofree char *bpath = g_build_filename(f->dir, "gp-att2.zip", NULL);
    g_assert_true(g_file_get_contents(apath, &da, &la, NULL));
    g_assert_true(g_file_get_contents(bpath, &db, &lb, NULL));
    g_assert_cmpmem(da, la, db, lb);

    /* attachments the case does not have, or asked for badly: nothing written */
    static const struct { const char *a; cor_status_t s; const char *err; } bad[] = {
        { "0009/1", COR_ERR_NOT_FOUND, "cannot release attachment 0009/1: case FOI/GP has 3 messages" },
        { "0002/3", COR_ERR_NOT_FOUND, "cannot release attachment 0002/3: message 0002 has no "
                                       "attachment 3 (see the Attachment lines of its text)" },
        { "0001/1", COR_ERR_NOT_FOUND, NULL },
        { "0002", COR_ERR_INVALID, NULL },
        { "2/0", COR_ERR_INVALID, NULL },
        { "a/1", COR_ERR_INVALID, NULL },
    };
    g_autofree char *bad_path = g_build_filename(f->dir, "bad.zip", NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        const char *one[] = { bad[i].a, NULL };
        cor_bundle_options_t opt = { .case_ref = "FOI/GP", .out_path = bad_path, .release = true,
                                     .base_url = "/", .operator_name = "o", .attachments = one };
        g_clear_pointer(&err, g_free);
        g_assert_cmpint(cor_bundle_export(f->st, &opt, &r, &err), ==, bad[i].s);
        if (bad[i].err)
            g_assert_cmpstr(err, ==, bad[i].err);
        g_assert_false(g_file_test(bad_path, G_FILE_TEST_EXISTS));
    }
    const char *one[] = { "0002/1", NULL };
    cor_bundle_options_t opt = { .case_ref = "FOI/GP", .out_path = bad_path, .release = false,
                                 .base_url = "/", .operator_name = "o", .attachments = one };
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(cor_bundle_export(f->st, &opt, &r, &err), ==, COR_ERR_INVALID);
    g_assert_false(g_file_test(bad_path, G_FILE_TEST_EXISTS));
    g_autoptr(GDir) d = g_dir_open(f->dir, 0, NULL);
    const char *dn;
    while ((dn = g_dir_read_name(d)))
        g_assert_null(strstr(dn, ".tmp-"));
}

/* The audit entry is committed before the bundle gets its name: when it
 * cannot be written, an earlier bundle of that name stays as it was. */
static void
test_audit_first(fixture_t *f, gconstpointer data)
{
    cor_bundle_result_t r;
    export(f, "keep.zip", false, &r);
    g_autofree char *path = g_build_filename(f->dir, "keep.zip", NULL);
    g_autofree char *before = NULL;
    gsize before_len = 0;
    g_assert_true(g_file_get_contents(path, &before, &before_len, NULL));
    g_autofree char *n0 = query_text(f, "SELECT count(*) FROM audit");
    /* the anchor file cannot be appended to: every audit commit fails */
    g_autofree char *anchor = g_strconcat(f->dir, "/corridor.db.audit-anchor", NULL);
    g_unlink(anchor);
    g_assert_cmpint(g_mkdir(anchor, 0700), ==, 0);
    cor_bundle_options_t opt = { .case_ref = "FOI/2005-1", .out_path = path, .release = true,
                                 .base_url = "/", .operator_name = "o" };
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_bundle_export(f->st, &opt, &r, &err), !=, COR_OK);
    g_assert_nonnull(strstr(err, "cannot record the export"));
    g_autofree char *after = NULL;
    gsize after_len = 0;
    g_assert_true(g_file_get_contents(path, &after, &after_len, NULL));
    g_assert_cmpmem(after, after_len, before, before_len);   /* the earlier bundle, untouched */
    g_autofree char *n1 = query_text(f, "SELECT count(*) FROM audit");
    g_assert_cmpstr(n1, ==, n0);
    g_autoptr(GDir) d = g_dir_open(f->dir, 0, NULL);
    const char *dn;
    while ((dn = g_dir_read_name(d)))
        g_assert_null(strstr(dn, ".tmp-"));
    g_assert_cmpint(g_rmdir(anchor), ==, 0);
}

static void
test_errors(fixture_t *f, gconstpointer data)
{
    g_autofree char *path = g_build_filename(f->dir, "x.zip", NULL);
    cor_bundle_options_t opt = { .case_ref = "NOPE", .out_path = path, .base_url = "/",
                                 .operator_name = "o" };
    cor_bundle_result_t r;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_bundle_export(f->st, &opt, &r, &err), ==, COR_ERR_NOT_FOUND);
    g_assert_cmpstr(err, ==, "no case 'NOPE'");
    g_clear_pointer(&err, g_free);
    /* a redaction made on another rendering: refused, nothing written */
    exec(f, "UPDATE redactions SET text_sha256 = 'feed' WHERE id = (SELECT max(id) FROM redactions"
            " WHERE state = 'accepted')");
    opt.case_ref = "FOI/2005-1";
    g_autofree char *before_text = query_text(f, "SELECT count(*) FROM audit");
    int64_t before = g_ascii_strtoll(before_text, NULL, 10);
    g_assert_cmpint(cor_bundle_export(f->st, &opt, &r, &err), ==, COR_ERR_INVALID);
    g_assert_nonnull(strstr(err, "another rendering"));
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_autoptr(GDir) d = g_dir_open(f->dir, 0, NULL);
    const char *n;
    while ((n = g_dir_read_name(d)))
        g_assert_null(strstr(n, ".tmp-"));
    g_autofree char *after = query_text(f, "SELECT count(*) FROM audit");
    g_assert_cmpint(g_ascii_strtoll(after, NULL, 10), ==, before);
    /* a folder that does not exist */
    g_clear_pointer(&err, g_free);
    opt.out_path = "/nonexistent-dir/x.zip";
    g_assert_cmpint(cor_bundle_export(f->st, &opt, &r, &err), ==, COR_ERR_IO);
    g_assert_nonnull(strstr(err, "cannot create"));
}

static void
test_safe_names(void)
{
    static const struct { const char *in, *out; } cases[] = {
        { "report.pdf", "report.pdf" },
        { "../../etc/passwd", "passwd" },
        { "C:\\Users\\jane\\cv.docx", "cv.docx" },
        { ".hidden", "hidden" },
        { "..", "fallback.bin" },
        { "", "fallback.bin" },
        { "a<b>c:d\"e|f?g*h.txt", "a_b_c_d_e_f_g_h.txt" },
        { "tab\there\nnl.txt", "tab_here_nl.txt" },
        { "invoice\xe2\x80\xaegpj.exe", "invoice_gpj.exe" },   /* right-to-left override */
        { "CON.txt", "_CON.txt" },
        { "lpt1", "_lpt1" },
        { "console.txt", "console.txt" },
        { "trailing. . ", "trailing" },
        { "Caf\xc3\xa9 men\xc3\xba.pdf", "Caf\xc3\xa9 men\xc3\xba.pdf" },
        { "bad\xff" "byte.txt", "bad_byte.txt" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = cor_bundle_safe_name(cases[i].in, "fallback.bin");
        g_assert_cmpstr(got, ==, cases[i].out);
    }
    /* long names keep their extension and stay valid UTF-8 */
    GString *longname = g_string_new(NULL);
    for (int i = 0; i < 100; i++)
        g_string_append(longname, "\xc3\xa9");
    g_string_append(longname, ".pdf");
    g_autofree char *got = cor_bundle_safe_name(longname->str, "x");
    g_assert_cmpuint(strlen(got), <=, 120);
    g_assert_true(g_str_has_suffix(got, ".pdf"));
    g_assert_true(g_utf8_validate(got, -1, NULL));
    g_string_free(longname, TRUE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    setlocale(LC_CTYPE, "C.UTF-8");   /* libarchive reads UTF-8 entry names in it */
    cor_message_init();
    g_setenv("TZ", "UTC0", TRUE);   /* as `corridor case export` does */
    tzset();
    g_test_add_func("/bundle/safe-names", test_safe_names);
    g_test_add("/bundle/deterministic", fixture_t, NULL, setup, test_deterministic, teardown);
    g_test_add("/bundle/contents", fixture_t, NULL, setup, test_contents, teardown);
    g_test_add("/bundle/release", fixture_t, NULL, setup, test_release, teardown);
    g_test_add("/bundle/errors", fixture_t, NULL, setup, test_errors, teardown);
    g_test_add("/bundle/release-scanned", fixture_t, NULL, setup, test_release_scanned, teardown);
    g_test_add("/bundle/audit-first", fixture_t, NULL, setup, test_audit_first, teardown);
    return g_test_run();
}
