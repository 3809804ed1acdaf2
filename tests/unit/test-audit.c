/* Unit tests for records/audit.h: the hash is what audit.h says it is (a
 * third party's recomputation agrees); an untouched trail verifies; each kind
 * of tampering done behind the library's back (the triggers dropped first,
 * as someone with the sqlite3 tool would) is found and the first bad entry
 * named: an edited field, a deleted middle entry, deleted last entries (with
 * and without the meta anchor rewritten), two entries swapped, an entry
 * inserted at the end, an entry moved to another seq, a cut-short anchor
 * file.  Also: a rolled-back transaction leaves neither row nor anchor line,
 * the triggers refuse UPDATE and DELETE, the detail must be a JSON object,
 * and officer-list changes are recorded once.  The append primitive
 * (core/audit.h, used by the web too): appends from several connections on
 * several threads at once make one intact chain with one anchor line per
 * commit, in order; an anchor file that cannot be written refuses the
 * commit and leaves the trail as it was, also when a file size limit let
 * only half its line in (the half line is cut off again). */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "records/audit.h"
#include "records/cases.h"
#include "records/hold.h"

typedef struct fixture {
    char *dir;
    char *path;
    cor_store_t *st;
} fixture_t;

static void
append(cor_store_t *st, const char *action, const char *ref, const char *detail)
{
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_store_begin(st), ==, COR_OK);
    int64_t seq = 0;
    g_assert_cmpint(cor_audit_append(st, "alice", action, ref, detail, &seq, &err), ==, COR_OK);
    g_assert_cmpint(seq, >, 0);
    g_assert_cmpint(cor_store_commit(st), ==, COR_OK);
}

/* A store with `n` entries, closed again (the tampering uses its own handle). */
static void
setup(fixture_t *f, gconstpointer data)
{
    int n = GPOINTER_TO_INT(data);
    f->dir = g_dir_make_tmp("corridor-audit-XXXXXX", NULL);
    g_assert_nonnull(f->dir);
    f->path = g_build_filename(f->dir, "corridor.db", NULL);
    g_autofree char *err = NULL;
    cor_audit_set_login(1001, "alice-login");
    g_assert_cmpint(cor_store_open(f->path, true, &f->st, &err), ==, COR_OK);
    for (int i = 1; i <= n; i++) {
        g_autofree char *detail = g_strdup_printf("{\"query\":\"planning %d\",\"count\":%d}", i, i * 3);
        append(f->st, i % 2 ? "foi.search" : "case.note", i % 3 ? "FOI-1" : "", detail);
    }
    cor_store_close(f->st);
    f->st = NULL;
}

static void
teardown(fixture_t *f, gconstpointer data)
{
    if (f->st)
        cor_store_close(f->st);
    g_autoptr(GDir) d = g_dir_open(f->dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(f->dir, name, NULL);
        g_unlink(p);
    }
    g_rmdir(f->dir);
    g_free(f->dir);
    g_free(f->path);
    cor_audit_set_login(-1, NULL);
}

/* Runs SQL on the store file directly, the protective triggers dropped first. */
static void
tamper(fixture_t *f, const char *sql)
{
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open(f->path, &db), ==, SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, "DROP TRIGGER IF EXISTS audit_no_update;"
                              "DROP TRIGGER IF EXISTS audit_no_delete;", NULL, NULL, &msg);
    g_assert_cmpint(rc, ==, SQLITE_OK);
    rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        g_test_message("%s: %s", sql, msg);
    g_assert_cmpint(rc, ==, SQLITE_OK);
    sqlite3_close(db);
}

/* Verifies and returns the first bad seq (0 when the trail is intact). */
static int64_t
verify(fixture_t *f, char **problem)
{
    g_autofree char *err = NULL;
    g_autoptr(cor_store_t) st = NULL;
    g_assert_cmpint(cor_store_open(f->path, false, &st, &err), ==, COR_OK);
    cor_audit_report_t r = { 0 };
    g_assert_cmpint(cor_audit_verify(st, &r, &err), ==, COR_OK);
    int64_t bad = r.ok ? 0 : r.bad_seq;
    if (!r.ok)
        g_assert_cmpint(bad, >, 0);
    g_test_message("verify: %s", r.ok ? "ok" : r.problem);
    if (problem)
        *problem = g_strdup(r.problem);
    cor_audit_report_clear(&r);
    return bad;
}

static void
test_intact(fixture_t *f, gconstpointer data)
{
    g_assert_cmpint(verify(f, NULL), ==, 0);
    g_autofree char *err = NULL;
    g_autoptr(cor_store_t) st = NULL;
    g_assert_cmpint(cor_store_open(f->path, false, &st, &err), ==, COR_OK);
    g_autoptr(GPtrArray) all = NULL;
    g_assert_cmpint(cor_audit_list(st, NULL, &all, &err), ==, COR_OK);
    g_assert_cmpuint(all->len, ==, 6);
    cor_audit_entry_t *first = all->pdata[0];
    g_assert_cmpstr(first->prev, ==, COR_AUDIT_GENESIS);
    /* the hash is SHA-256 over the documented encoding (version 2, with the
     * login), recomputed by hand */
    g_assert_cmpint(first->login_uid, ==, 1001);
    g_assert_cmpstr(first->login, ==, "alice-login");
    g_autofree char *at = g_strdup_printf("%" G_GINT64_FORMAT, first->at);
    g_autofree char *enc = g_strdup_printf(
        "corridor-audit-2\n1:1,%zu:%s,5:alice,4:1001,11:alice-login,10:foi.search,5:FOI-1,%zu:%s,"
        "64:%s,", strlen(at), at, strlen(first->detail), first->detail, COR_AUDIT_GENESIS);
    g_autofree char *want = g_compute_checksum_for_string(G_CHECKSUM_SHA256, enc, -1);
    g_assert_cmpstr(first->hash, ==, want);
    for (guint i = 1; i < all->len; i++) {
        cor_audit_entry_t *e = all->pdata[i], *p = all->pdata[i - 1];
        g_assert_cmpint(e->seq, ==, p->seq + 1);
        g_assert_cmpstr(e->prev, ==, p->hash);
    }
    /* by case */
    g_autoptr(GPtrArray) one = NULL;
    g_assert_cmpint(cor_audit_list(st, "FOI-1", &one, &err), ==, COR_OK);
    g_assert_cmpuint(one->len, ==, 4);   /* seq 1, 2, 4, 5 */
    /* the export form re-verifies as a third party would */
    g_autoptr(GPtrArray) parsed = g_ptr_array_new_with_free_func((GDestroyNotify) cor_audit_entry_free);
    for (guint i = 0; i < all->len; i++) {
        g_autofree char *line = cor_audit_entry_json(all->pdata[i]);
        g_autoptr(JsonParser) p = json_parser_new();
        g_assert_true(json_parser_load_from_data(p, line, -1, NULL));
        JsonObject *o = json_node_get_object(json_parser_get_root(p));
        cor_audit_entry_t *e = g_new0(cor_audit_entry_t, 1);
        e->seq = json_object_get_int_member(o, "seq");
        e->at = json_object_get_int_member(o, "at");
        e->operator_name = g_strdup(json_object_get_string_member(o, "operator"));
        e->action = g_strdup(json_object_get_string_member(o, "action"));
        e->case_ref = g_strdup(json_object_get_string_member(o, "case_ref"));
        e->detail = g_strdup(json_object_get_string_member(o, "detail"));
        e->prev = g_strdup(json_object_get_string_member(o, "prev"));
        e->hash = g_strdup(json_object_get_string_member(o, "hash"));
        e->login_uid = json_object_get_int_member(o, "login_uid");
        e->login = g_strdup(json_object_get_string_member(o, "login"));
        g_ptr_array_add(parsed, e);
    }
    cor_audit_report_t r = { 0 };
    cor_audit_verify_entries(parsed, &r);
    g_assert_true(r.ok);
    g_assert_cmpint(r.entries, ==, 6);
    cor_audit_report_clear(&r);
    /* one changed character in the export is found */
    cor_audit_entry_t *e3 = parsed->pdata[2];
    e3->detail[2] = 'Q';
    cor_audit_verify_entries(parsed, &r);
    g_assert_false(r.ok);
    g_assert_cmpint(r.bad_seq, ==, 3);
    cor_audit_report_clear(&r);
}

static void
test_edit(fixture_t *f, gconstpointer data)
{
    tamper(f, "UPDATE audit SET detail = '{\"query\":\"planning 3\",\"count\":0}' WHERE seq = 3");
    g_autofree char *problem = NULL;
    g_assert_cmpint(verify(f, &problem), ==, 3);
    g_assert_nonnull(strstr(problem, "entry 3"));
    g_assert_nonnull(strstr(problem, "hash"));
}

static void
test_edit_operator_and_rehash_rest(fixture_t *f, gconstpointer data)
{
    /* editing a field AND its hash leaves the next entry's prev pointing at the
     * old hash: found at the edited entry's successor or the anchors */
    tamper(f, "UPDATE audit SET operator = 'mallory', hash = '"
              "1111111111111111111111111111111111111111111111111111111111111111' WHERE seq = 2");
    g_assert_cmpint(verify(f, NULL), ==, 2);
}

static void
test_delete_middle(fixture_t *f, gconstpointer data)
{
    tamper(f, "DELETE FROM audit WHERE seq = 3");
    g_autofree char *problem = NULL;
    g_assert_cmpint(verify(f, &problem), ==, 3);
    g_assert_nonnull(strstr(problem, "missing"));
}

static void
test_delete_last(fixture_t *f, gconstpointer data)
{
    tamper(f, "DELETE FROM audit WHERE seq = 6");
    g_autofree char *problem = NULL;
    g_assert_cmpint(verify(f, &problem), ==, 6);
    g_assert_nonnull(strstr(problem, "meta audit_head"));
}

static void
test_delete_last_and_meta(fixture_t *f, gconstpointer data)
{
    /* someone who also rewrites the store's anchor: the file still knows */
    tamper(f, "DELETE FROM audit WHERE seq >= 5;"
              "UPDATE meta SET value = (SELECT seq || ' ' || hash FROM audit WHERE seq = 4)"
              " WHERE key = 'audit_head'");
    g_autofree char *problem = NULL;
    g_assert_cmpint(verify(f, &problem), ==, 5);
    g_assert_nonnull(strstr(problem, "anchor file"));
}

static void
test_swap(fixture_t *f, gconstpointer data)
{
    /* swap the contents of entries 2 and 4 (every column but seq) */
    tamper(f, "CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN (2, 4);"
              "UPDATE audit SET (at, operator, action, case_ref, detail, prev, hash) ="
              " (SELECT at, operator, action, case_ref, detail, prev, hash FROM t WHERE seq = 4)"
              " WHERE seq = 2;"
              "UPDATE audit SET (at, operator, action, case_ref, detail, prev, hash) ="
              " (SELECT at, operator, action, case_ref, detail, prev, hash FROM t WHERE seq = 2)"
              " WHERE seq = 4;");
    g_assert_cmpint(verify(f, NULL), ==, 2);
}

static void
test_renumber(fixture_t *f, gconstpointer data)
{
    /* swap two rows by their seq numbers */
    tamper(f, "UPDATE audit SET seq = -1 WHERE seq = 4;"
              "UPDATE audit SET seq = 4 WHERE seq = 5;"
              "UPDATE audit SET seq = 5 WHERE seq = -1;");
    g_assert_cmpint(verify(f, NULL), ==, 4);
}

static void
test_insert_end(fixture_t *f, gconstpointer data)
{
    /* a well-formed entry 7 added with the sqlite3 tool: its hash is right,
     * but neither anchor knows it */
    g_autofree char *err = NULL;
    g_autoptr(cor_store_t) st = NULL;
    g_assert_cmpint(cor_store_open(f->path, false, &st, &err), ==, COR_OK);
    g_autoptr(GPtrArray) all = NULL;
    g_assert_cmpint(cor_audit_list(st, NULL, &all, &err), ==, COR_OK);
    cor_audit_entry_t *last = all->pdata[all->len - 1];
    char h[65];
    cor_audit_hash2(7, last->at, "mallory", 1001, "alice-login", "export", "", "{}", last->hash,
                    h);
    g_autofree char *sql = g_strdup_printf(
        "INSERT INTO audit (seq, at, operator, action, case_ref, detail, prev, hash, login_uid,"
        " login) VALUES (7, %" G_GINT64_FORMAT ", 'mallory', 'export', '', '{}', '%s', '%s', 1001,"
        " 'alice-login')", last->at, last->hash, h);
    tamper(f, sql);
    g_autofree char *problem = NULL;
    g_assert_cmpint(verify(f, &problem), ==, 7);
    g_assert_nonnull(strstr(problem, "not anchored"));
}

static void
test_insert_middle(fixture_t *f, gconstpointer data)
{
    /* make room by moving 4..6 up one, then put a new 4 in */
    tamper(f, "UPDATE audit SET seq = seq + 100 WHERE seq >= 4;"
              "UPDATE audit SET seq = seq - 99 WHERE seq >= 100;"
              "INSERT INTO audit SELECT 4, at, 'mallory', 'view', '', '{}', hash, hash,"
              " login_uid, login FROM audit WHERE seq = 3;");
    g_assert_cmpint(verify(f, NULL), ==, 4);
}

static void
test_anchor_file_cut(fixture_t *f, gconstpointer data)
{
    g_autofree char *anchor = g_strconcat(f->path, ".audit-anchor", NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(anchor, &text, NULL, NULL));
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 7);   /* 6 lines and the final "" */
    g_autofree char *cut = g_strdup_printf("%s\n%s\n%s\n", lines[0], lines[1], lines[2]);
    g_assert_true(g_file_set_contents(anchor, cut, -1, NULL));
    g_autofree char *problem = NULL;
    g_assert_cmpint(verify(f, &problem), ==, 4);
    g_assert_nonnull(strstr(problem, "anchor file"));
    g_unlink(anchor);
    g_clear_pointer(&problem, g_free);
    g_assert_cmpint(verify(f, &problem), ==, 1);
    g_assert_nonnull(strstr(problem, "missing"));
}

static void
test_rollback_and_triggers(fixture_t *f, gconstpointer data)
{
    g_autofree char *err = NULL;
    g_autoptr(cor_store_t) st = NULL;
    g_assert_cmpint(cor_store_open(f->path, false, &st, &err), ==, COR_OK);
    g_autofree char *anchor = cor_audit_anchor_path(st);
    g_autofree char *before = NULL;
    g_assert_true(g_file_get_contents(anchor, &before, NULL, NULL));

    g_assert_cmpint(cor_store_begin(st), ==, COR_OK);
    g_assert_cmpint(cor_audit_append(st, "bob", "export", "FOI-1", NULL, NULL, &err), ==, COR_OK);
    cor_store_rollback(st);
    g_autofree char *after = NULL;
    g_assert_true(g_file_get_contents(anchor, &after, NULL, NULL));
    g_assert_cmpstr(before, ==, after);

    /* outside a transaction, or with a detail that is not an object: refused */
    g_assert_cmpint(cor_audit_append(st, "bob", "export", "", NULL, NULL, &err), ==,
                    COR_ERR_INTERNAL);
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(cor_store_begin(st), ==, COR_OK);
    g_assert_cmpint(cor_audit_append(st, "bob", "export", "", "[1]", NULL, &err), ==,
                    COR_ERR_INVALID);
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(cor_audit_append(st, "", "export", "", "{}", NULL, &err), ==, COR_ERR_INVALID);
    g_clear_pointer(&err, g_free);
    /* two entries in one transaction: the file gets the head once */
    int64_t a = 0, b = 0;
    g_assert_cmpint(cor_audit_append(st, "bob", "view", "FOI-1", "{\"n\":1}", &a, &err), ==, COR_OK);
    g_assert_cmpint(cor_audit_append(st, "bob", "view", "FOI-1", "{\"n\":2}", &b, &err), ==, COR_OK);
    g_assert_cmpint(b, ==, a + 1);
    g_assert_cmpint(a, ==, 7);
    g_assert_cmpint(cor_store_commit(st), ==, COR_OK);
    g_clear_pointer(&after, g_free);
    g_assert_true(g_file_get_contents(anchor, &after, NULL, NULL));
    g_assert_true(g_str_has_suffix(after, "\n"));
    g_assert_cmpuint(strlen(after), ==, strlen(before) + 2 + 64 + 1);
    g_assert_cmpint(verify(f, NULL), ==, 0);

    /* the triggers */
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open(f->path, &db), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_exec(db, "UPDATE audit SET operator = 'x' WHERE seq = 1", NULL, NULL,
                                 NULL), !=, SQLITE_OK);
    g_assert_cmpint(sqlite3_exec(db, "DELETE FROM audit WHERE seq = 1", NULL, NULL, NULL), !=,
                    SQLITE_OK);
    sqlite3_close(db);
    g_assert_cmpint(verify(f, NULL), ==, 0);
}

static void
test_officers(fixture_t *f, gconstpointer data)
{
    g_autofree char *err = NULL;
    g_autoptr(cor_store_t) st = NULL;
    g_assert_cmpint(cor_store_open(f->path, false, &st, &err), ==, COR_OK);
    bool changed = true;
    /* nobody configured and nothing recorded: nothing to say */
    g_assert_cmpint(cor_store_begin(st), ==, COR_OK);
    g_assert_cmpint(cor_audit_sync_officers(st, "root", "", &changed, &err), ==, COR_OK);
    g_assert_false(changed);
    g_assert_cmpint(cor_audit_sync_officers(st, "root", "carol, alice", &changed, &err), ==, COR_OK);
    g_assert_true(changed);
    /* the same people in another order and spacing: no change */
    g_assert_cmpint(cor_audit_sync_officers(st, "root", "alice carol,alice", &changed, &err), ==,
                    COR_OK);
    g_assert_false(changed);
    g_assert_cmpint(cor_audit_sync_officers(st, "root", "alice", &changed, &err), ==, COR_OK);
    g_assert_true(changed);
    g_assert_cmpint(cor_store_commit(st), ==, COR_OK);
    g_autoptr(GPtrArray) all = NULL;
    g_assert_cmpint(cor_audit_list(st, NULL, &all, &err), ==, COR_OK);
    cor_audit_entry_t *last = all->pdata[all->len - 1];
    g_assert_cmpstr(last->action, ==, "role.change");
    g_assert_cmpstr(last->detail, ==,
                    "{\"role\":\"records officer\",\"officers\":[\"alice\"],"
                    "\"previous\":[\"alice\",\"carol\"]}");
    g_assert_cmpint(verify(f, NULL), ==, 0);
}

/* Several connections append at once, as the web's request threads, the
 * daemon and a records command do: one chain, one anchor line per commit in
 * commit order, verify intact. */
enum { WRITERS = 4, APPENDS = 25 };

typedef struct writer {
    const char *path;
    int id;
} writer_t;

static gpointer
write_entries(gpointer data)
{
    writer_t *w = data;
    g_autofree char *err = NULL;
    g_autoptr(cor_store_t) st = NULL;
    g_assert_cmpint(cor_store_open(w->path, false, &st, &err), ==, COR_OK);
    g_autofree char *op = g_strdup_printf("officer-%d@council.test", w->id);
    for (int i = 0; i < APPENDS; i++) {
        g_autofree char *detail = g_strdup_printf("{\"query\":\"q%d\",\"count\":%d}", i, w->id);
        g_assert_cmpint(cor_store_begin(st), ==, COR_OK);
        g_assert_cmpint(cor_audit_append(st, op, "web.search", NULL, detail, NULL, &err), ==,
                        COR_OK);
        g_assert_cmpint(cor_store_commit(st), ==, COR_OK);
    }
    return NULL;
}

static void
test_concurrent(fixture_t *f, gconstpointer data)
{
    writer_t w[WRITERS];
    GThread *t[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        w[i] = (writer_t){ f->path, i };
        t[i] = g_thread_new("writer", write_entries, &w[i]);
    }
    for (int i = 0; i < WRITERS; i++)
        g_thread_join(t[i]);
    g_assert_cmpint(verify(f, NULL), ==, 0);

    g_autofree char *err = NULL;
    g_autoptr(cor_store_t) st = NULL;
    g_assert_cmpint(cor_store_open(f->path, false, &st, &err), ==, COR_OK);
    g_autoptr(GPtrArray) all = NULL;
    g_assert_cmpint(cor_audit_list(st, NULL, &all, &err), ==, COR_OK);
    g_assert_cmpuint(all->len, ==, 6 + WRITERS * APPENDS);
    /* the anchor file: one line per commit (6 + WRITERS * APPENDS), the
     * n-th line naming entry n with its hash */
    g_autofree char *anchor = cor_audit_anchor_path(st);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(anchor, &text, NULL, NULL));
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, all->len + 1);   /* the last is "" */
    for (guint i = 0; i < all->len; i++) {
        cor_audit_entry_t *e = all->pdata[i];
        g_autofree char *want = g_strdup_printf("%" G_GINT64_FORMAT " %s", e->seq, e->hash);
        g_assert_cmpstr(lines[i], ==, want);
    }
}

/* An anchor file that cannot be written refuses the commit: no entry, no
 * meta anchor, and the trail still verifies once the file is back. */
static void
test_anchor_unwritable(fixture_t *f, gconstpointer data)
{
    g_autofree char *err = NULL;
    g_autoptr(cor_store_t) st = NULL;
    g_assert_cmpint(cor_store_open(f->path, false, &st, &err), ==, COR_OK);
    g_autofree char *anchor = cor_audit_anchor_path(st);
    g_autofree char *saved = g_strconcat(anchor, ".saved", NULL);
    g_assert_cmpint(g_rename(anchor, saved), ==, 0);
    g_assert_cmpint(g_mkdir(anchor, 0700), ==, 0);   /* open(O_WRONLY) fails: EISDIR */
    g_autofree char *meta_before = NULL;
    g_assert_cmpint(cor_store_meta_get(st, "audit_head", &meta_before), ==, COR_OK);

    g_assert_cmpint(cor_store_begin(st), ==, COR_OK);
    g_assert_cmpint(cor_audit_append(st, "foi@council.test", "web.search", "", "{}", NULL, &err),
                    ==, COR_OK);
    /* the handle says why: not SQLite's "constraint failed" */
    g_assert_cmpint(cor_store_commit(st), ==, COR_ERR_IO);
    g_test_message("commit refused: %s", cor_store_error(st));
    g_assert_true(g_str_has_prefix(cor_store_error(st), "cannot write the audit anchor file '"));
    g_assert_nonnull(strstr(cor_store_error(st), g_strerror(EISDIR)));
    if (cor_store_in_transaction(st))
        cor_store_rollback(st);
    g_autoptr(GPtrArray) all = NULL;
    g_assert_cmpint(cor_audit_list(st, NULL, &all, &err), ==, COR_OK);
    g_assert_cmpuint(all->len, ==, 6);
    g_autofree char *meta_after = NULL;
    g_assert_cmpint(cor_store_meta_get(st, "audit_head", &meta_after), ==, COR_OK);
    g_assert_cmpstr(meta_after, ==, meta_before);

    g_assert_cmpint(g_rmdir(anchor), ==, 0);
    g_assert_cmpint(g_rename(saved, anchor), ==, 0);
    g_assert_cmpint(verify(f, NULL), ==, 0);
    /* and the handle appends again */
    append(st, "web.search", "", "{}");
    g_assert_cmpint(verify(f, NULL), ==, 0);
}

/* A file size limit (RLIMIT_FSIZE) that lets only part of the anchor line
 * in: the commit is refused, the half line is cut off again (the file is
 * as before, byte for byte), and once the limit is lifted the handle
 * appends and the trail verifies. */
static void
test_anchor_file_size_limit(fixture_t *f, gconstpointer data)
{
    g_autofree char *err = NULL;
    g_autoptr(cor_store_t) st = NULL;
    g_assert_cmpint(cor_store_open(f->path, false, &st, &err), ==, COR_OK);
    g_autofree char *anchor = cor_audit_anchor_path(st);
    g_autofree char *before = NULL;
    gsize before_len = 0;
    g_assert_true(g_file_get_contents(anchor, &before, &before_len, NULL));

    struct rlimit old, lim;
    g_assert_cmpint(getrlimit(RLIMIT_FSIZE, &old), ==, 0);
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = (rlim_t) before_len + 30;   /* the line is "7 HASH\n", 67 bytes */
    g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &lim), ==, 0);
    g_assert_cmpint(cor_store_begin(st), ==, COR_OK);
    g_assert_cmpint(cor_audit_append(st, "alice", "case.note", "FOI-1", "{}", NULL, &err), ==,
                    COR_OK);
    cor_status_t s = cor_store_commit(st);
    g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &old), ==, 0);
    signal(SIGXFSZ, old_handler);
    g_assert_cmpint(s, ==, COR_ERR_IO);
    g_test_message("commit refused: %s", cor_store_error(st));
    g_assert_nonnull(strstr(cor_store_error(st), g_strerror(EFBIG)));
    if (cor_store_in_transaction(st))
        cor_store_rollback(st);
    g_autofree char *after = NULL;
    gsize after_len = 0;
    g_assert_true(g_file_get_contents(anchor, &after, &after_len, NULL));
    g_assert_cmpuint(after_len, ==, before_len);
    g_assert_true(memcmp(after, before, before_len) == 0);
    g_assert_cmpint(verify(f, NULL), ==, 0);

    append(st, "case.note", "FOI-1", "{}");
    g_autoptr(GPtrArray) all = NULL;
    g_assert_cmpint(cor_audit_list(st, NULL, &all, &err), ==, COR_OK);
    g_assert_cmpuint(all->len, ==, 7);
    g_assert_cmpint(verify(f, NULL), ==, 0);
}

/* ---- schema v7: logins, hash versions ---- */

/* Entries written before v7 (no login, hash version 1) still verify, in the
 * same chain as new ones; removing a new entry's login (to pass it off as an
 * old one) breaks its hash. */
static void
test_hash_versions(fixture_t *f, gconstpointer data)
{
    /* make entries 1-6 version 1, as a store migrated from v6 has them */
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open(f->path, &db), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_exec(db, "DROP TRIGGER audit_no_update", NULL, NULL, NULL), ==, SQLITE_OK);
    g_autofree char *err = NULL;
    g_autoptr(cor_store_t) st = NULL;
    g_assert_cmpint(cor_store_open(f->path, false, &st, &err), ==, COR_OK);
    g_autoptr(GPtrArray) all = NULL;
    g_assert_cmpint(cor_audit_list(st, NULL, &all, &err), ==, COR_OK);
    GString *file = g_string_new(NULL);
    char prev[65];
    g_strlcpy(prev, COR_AUDIT_GENESIS, sizeof prev);
    for (guint i = 0; i < all->len; i++) {
        cor_audit_entry_t *e = all->pdata[i];
        char h[65];
        cor_audit_hash(e->seq, e->at, e->operator_name, e->action, e->case_ref, e->detail, prev, h);
        g_autofree char *sql = g_strdup_printf(
            "UPDATE audit SET login_uid = NULL, login = NULL, prev = '%s', hash = '%s'"
            " WHERE seq = %" G_GINT64_FORMAT ";"
            "UPDATE meta SET value = '%" G_GINT64_FORMAT " %s' WHERE key = 'audit_head'",
            prev, h, e->seq, e->seq, h);
        g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
        g_string_append_printf(file, "%" G_GINT64_FORMAT " %s\n", e->seq, h);
        g_strlcpy(prev, h, sizeof prev);
    }
    g_assert_cmpint(sqlite3_exec(db, "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN"
                                     " SELECT RAISE(ABORT, 'the audit trail is append-only'); END",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
    g_autofree char *anchor = cor_audit_anchor_path(st);
    g_assert_true(g_file_set_contents(anchor, file->str, -1, NULL));
    g_string_free(file, TRUE);
    g_assert_cmpint(verify(f, NULL), ==, 0);
    /* new entries after them are version 2 */
    append(st, "case.view", "FOI-1", "{}");
    g_autoptr(GPtrArray) now = NULL;
    g_assert_cmpint(cor_audit_list(st, NULL, &now, &err), ==, COR_OK);
    cor_audit_entry_t *old = now->pdata[5], *new = now->pdata[6];
    g_assert_null(old->login);
    g_assert_cmpstr(new->login, ==, "alice-login");
    g_assert_cmpint(verify(f, NULL), ==, 0);
    /* an export re-verifies with both versions */
    cor_audit_report_t r = { 0 };
    cor_audit_verify_entries(now, &r);
    g_assert_true(r.ok);
    cor_audit_report_clear(&r);
    /* stripping the login of entry 7 */
    g_assert_cmpint(sqlite3_exec(db, "DROP TRIGGER audit_no_update;"
                                     "UPDATE audit SET login = NULL, login_uid = NULL WHERE seq = 7",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close(db);
    g_autofree char *problem = NULL;
    g_assert_cmpint(verify(f, &problem), ==, 7);
    g_assert_nonnull(strstr(problem, "hash does not match"));
}

/* ---- stray anchor lines (core/audit.h note 4) ---- */

static void
append_text(const char *path, const char *text)
{
    g_autofree char *old = NULL;
    g_assert_true(g_file_get_contents(path, &old, NULL, NULL));
    g_autofree char *all = g_strconcat(old, text, NULL);
    g_assert_true(g_file_set_contents(path, all, -1, NULL));
}

/* A commit that failed after its anchor line was written leaves a line for
 * entry head+1: verify reports it; the next append records it in the chain
 * (audit.stray-anchor, taking that seq) and verify then accepts exactly
 * those lines, with a note.  A line that does not fit the pattern is not
 * recorded. */
static void
test_stray_anchor(fixture_t *f, gconstpointer data)
{
    g_autofree char *err = NULL;
    g_autoptr(cor_store_t) st = NULL;
    g_assert_cmpint(cor_store_open(f->path, false, &st, &err), ==, COR_OK);
    g_autofree char *anchor = cor_audit_anchor_path(st);
    static const char h1[] = "1111111111111111111111111111111111111111111111111111111111111111";
    static const char h2[] = "2222222222222222222222222222222222222222222222222222222222222222";
    /* twice: the process died twice before its commit */
    g_autofree char *lines = g_strdup_printf("7 %s\n7 %s\n", h1, h2);
    append_text(anchor, lines);
    g_autofree char *problem = NULL;
    g_assert_cmpint(verify(f, &problem), ==, 7);
    g_assert_nonnull(strstr(problem, "records entry 7 but the table ends at 6"));

    append(st, "case.note", "FOI-1", "{\"text\":\"after the crash\"}");
    g_autoptr(GPtrArray) all = NULL;
    g_assert_cmpint(cor_audit_list(st, NULL, &all, &err), ==, COR_OK);
    g_assert_cmpuint(all->len, ==, 8);
    cor_audit_entry_t *e7 = all->pdata[6], *e8 = all->pdata[7];
    g_assert_cmpstr(e7->action, ==, "audit.stray-anchor");
    g_autofree char *want = g_strdup_printf("{\"stray\":[{\"seq\":7,\"hash\":\"%s\"},"
                                            "{\"seq\":7,\"hash\":\"%s\"}]}", h1, h2);
    g_assert_cmpstr(e7->detail, ==, want);
    g_assert_cmpstr(e8->action, ==, "case.note");
    /* the file: the two stray lines, then one line for the commit (8) */
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(anchor, &text, NULL, NULL));
    g_autofree char *tail = g_strdup_printf("7 %s\n7 %s\n8 %s\n", h1, h2, e8->hash);
    g_assert_true(g_str_has_suffix(text, tail));

    cor_audit_report_t r = { 0 };
    g_assert_cmpint(cor_audit_verify(st, &r, &err), ==, COR_OK);
    g_assert_true(r.ok);
    g_assert_nonnull(strstr(r.notes, "entry 7 (audit.stray-anchor"));
    g_assert_nonnull(strstr(r.notes, "records 2 anchor lines"));
    cor_audit_report_clear(&r);

    /* a line for another entry than head+1 is not the pattern: left to verify */
    g_autofree char *odd = g_strdup_printf("12 %s\n", h1);
    append_text(anchor, odd);
    append(st, "case.note", "FOI-1", "{}");
    g_clear_pointer(&all, g_ptr_array_unref);
    g_assert_cmpint(cor_audit_list(st, NULL, &all, &err), ==, COR_OK);
    g_assert_cmpuint(all->len, ==, 9);
    g_assert_cmpstr(((cor_audit_entry_t *) all->pdata[8])->action, ==, "case.note");
    g_clear_pointer(&problem, g_free);
    g_assert_cmpint(verify(f, &problem), ==, 10);
    g_assert_nonnull(strstr(problem, "(line 10) records entry 12 but the table ends at 9"));
}

/* ---- what verify can and cannot see (docs/records.md) ---- */

/* The reviewer's three tamperings by someone who can write both the store
 * and the anchor file; with no records rows to cross-check (these entries
 * record searches and notes of no case), plain verify cannot see them; a
 * copy of the anchor file taken before, kept elsewhere, shows each. */
static void
check_copy_finds(fixture_t *f, const char *copy, const char *what)
{
    g_autofree char *err = NULL;
    g_autoptr(cor_store_t) st = NULL;
    g_assert_cmpint(cor_store_open(f->path, false, &st, &err), ==, COR_OK);
    cor_audit_report_t r = { 0 };
    g_assert_cmpint(cor_audit_verify(st, &r, &err), ==, COR_OK);
    if (!r.ok)
        g_error("%s: plain verify found it after all: %s", what, r.problem);
    cor_audit_report_clear(&r);
    g_assert_cmpint(cor_audit_verify_with(st, copy, &r, &err), ==, COR_OK);
    g_test_message("%s: %s", what, r.problem);
    if (r.ok)
        g_error("%s: the copy did not show it", what);
    g_assert_nonnull(strstr(r.problem, "anchor copy"));
    cor_audit_report_clear(&r);
}

static char *
keep_copy(fixture_t *f)
{
    g_autofree char *anchor = g_strconcat(f->path, ".audit-anchor", NULL);
    char *copy = g_build_filename(f->dir, "copy-off-machine", NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(anchor, &text, NULL, NULL));
    g_assert_true(g_file_set_contents(copy, text, -1, NULL));
    return copy;
}

static void
test_copy_finds_rewritten_last(fixture_t *f, gconstpointer data)
{
    g_autofree char *copy = keep_copy(f);
    /* edit the last entry, rehash it, rewrite meta and the file's last line */
    g_autofree char *err = NULL;
    g_autoptr(cor_store_t) st = NULL;
    g_assert_cmpint(cor_store_open(f->path, false, &st, &err), ==, COR_OK);
    g_autoptr(GPtrArray) all = NULL;
    g_assert_cmpint(cor_audit_list(st, NULL, &all, &err), ==, COR_OK);
    cor_audit_entry_t *e = all->pdata[5];
    char h[65];
    cor_audit_hash2(6, e->at, "mallory", e->login_uid, e->login, e->action, e->case_ref,
                    e->detail, e->prev, h);
    g_autofree char *sql = g_strdup_printf(
        "UPDATE audit SET operator = 'mallory', hash = '%s' WHERE seq = 6;"
        "UPDATE meta SET value = '6 %s' WHERE key = 'audit_head'", h, h);
    tamper(f, sql);
    g_autofree char *anchor = cor_audit_anchor_path(st);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(anchor, &text, NULL, NULL));
    char *last = strstr(text, "\n6 ");
    g_assert_nonnull(last);
    g_autofree char *cut = g_strndup(text, (gsize) (last - text));
    g_autofree char *rewritten = g_strdup_printf("%s\n6 %s\n", cut, h);
    g_assert_true(g_file_set_contents(anchor, rewritten, -1, NULL));
    check_copy_finds(f, copy, "last entry rewritten");
}

static void
test_copy_finds_cut_last(fixture_t *f, gconstpointer data)
{
    g_autofree char *copy = keep_copy(f);
    tamper(f, "DELETE FROM audit WHERE seq = 6;"
              "UPDATE meta SET value = (SELECT seq || ' ' || hash FROM audit WHERE seq = 5)"
              " WHERE key = 'audit_head'");
    g_autofree char *anchor = g_strconcat(f->path, ".audit-anchor", NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(anchor, &text, NULL, NULL));
    *strstr(text, "\n6 ") = '\0';
    g_autofree char *cut = g_strconcat(text, "\n", NULL);
    g_assert_true(g_file_set_contents(anchor, cut, -1, NULL));
    check_copy_finds(f, copy, "last entry cut");
}

static void
test_copy_finds_wipe(fixture_t *f, gconstpointer data)
{
    g_autofree char *copy = keep_copy(f);
    tamper(f, "DELETE FROM audit; DELETE FROM meta WHERE key = 'audit_head'");
    g_autofree char *anchor = g_strconcat(f->path, ".audit-anchor", NULL);
    g_unlink(anchor);
    check_copy_finds(f, copy, "trail wiped");
}

/* ---- the cross-check of the records tables (records/audit.h note 6) ---- */

static void
test_cross_check(fixture_t *f, gconstpointer data)
{
    g_autofree char *err = NULL;
    g_autoptr(cor_store_t) st = NULL;
    g_assert_cmpint(cor_store_open(f->path, false, &st, &err), ==, COR_OK);
    g_assert_cmpint(cor_store_begin(st), ==, COR_OK);
    g_assert_cmpint(cor_case_open(st, "alice", "FOI-9", COR_REQUEST_FOI, COR_JUR_ENGLAND_WALES,
                                  cor_cal_from_ymd(2024, 6, 3), NULL, NULL, &err), ==, COR_OK);
    g_assert_cmpint(cor_case_note(st, "alice", "FOI-9", "scope agreed", &err), ==, COR_OK);
    g_assert_cmpint(cor_store_commit(st), ==, COR_OK);
    int64_t hold = 0;
    g_assert_cmpint(cor_hold_place(st, "alice", "case", "FOI-9", NULL, "litigation", 1717400000,
                                   &hold, NULL, &err), ==, COR_OK);
    g_assert_cmpint(verify(f, NULL), ==, 0);
    cor_store_close(g_steal_pointer(&st));
    g_autofree char *saved = g_build_filename(f->dir, "saved.db", NULL);
    g_autofree char *anchor = g_strconcat(f->path, ".audit-anchor", NULL);
    g_autofree char *anchor_text = NULL;
    g_assert_true(g_file_get_contents(anchor, &anchor_text, NULL, NULL));
    g_autofree char *cmd = g_strdup_printf("cp '%s' '%s'", f->path, saved);
    g_assert_cmpint(system(cmd), ==, 0);
    g_autofree char *restore = g_strdup_printf("cp '%s' '%s'", saved, f->path);

    /* the last entry (hold.place) cut with both anchors: the hold has no entry */
    tamper(f, "DELETE FROM audit WHERE seq = 9;"
              "UPDATE meta SET value = (SELECT seq || ' ' || hash FROM audit WHERE seq = 8)"
              " WHERE key = 'audit_head'");
    g_autofree char *cut = g_strdup(anchor_text);
    *strstr(cut, "\n9 ") = '\0';
    g_autofree char *cut_nl = g_strconcat(cut, "\n", NULL);
    g_assert_true(g_file_set_contents(anchor, cut_nl, -1, NULL));
    cor_audit_report_t r = { 0 };
    g_assert_cmpint(cor_store_open(f->path, false, &st, &err), ==, COR_OK);
    g_assert_cmpint(cor_audit_verify(st, &r, &err), ==, COR_OK);
    g_assert_false(r.ok);
    g_assert_cmpstr(r.problem, ==, "hold 1 has no hold.place entry in the audit trail (its entry"
                    " was removed)");
    cor_audit_report_clear(&r);
    cor_store_close(g_steal_pointer(&st));

    /* the whole trail emptied, with meta and the file */
    g_assert_cmpint(system(restore), ==, 0);
    tamper(f, "DELETE FROM audit; DELETE FROM meta WHERE key = 'audit_head'");
    g_unlink(anchor);
    g_autofree char *problem = NULL;
    g_assert_cmpint(cor_store_open(f->path, false, &st, &err), ==, COR_OK);
    g_assert_cmpint(cor_audit_verify(st, &r, &err), ==, COR_OK);
    g_assert_false(r.ok);
    g_assert_cmpstr(r.problem, ==, "case 'FOI-9' has no case.open entry in the audit trail (its"
                    " entry was removed)");
    cor_audit_report_clear(&r);
    cor_store_close(g_steal_pointer(&st));

    /* records deleted behind corridor's back: an entry without its row */
    g_assert_cmpint(system(restore), ==, 0);
    g_assert_true(g_file_set_contents(anchor, anchor_text, -1, NULL));
    tamper(f, "DELETE FROM hold_messages; DELETE FROM holds");
    g_assert_cmpint(verify(f, &problem), ==, 9);
    g_assert_cmpstr(problem, ==, "entry 9 (hold.place) records hold 1, which the store does not"
                    " have (deleted)");
    g_assert_cmpint(system(restore), ==, 0);
    tamper(f, "DELETE FROM case_events WHERE kind = 'note'");
    g_clear_pointer(&problem, g_free);
    g_assert_cmpint(cor_store_open(f->path, false, &st, &err), ==, COR_OK);
    g_assert_cmpint(cor_audit_verify(st, &r, &err), ==, COR_OK);
    g_assert_cmpstr(r.problem, ==, "case 'FOI-9' has 0 'note' events but the audit trail records 1"
                    " (events removed)");
    cor_audit_report_clear(&r);
    g_unlink(saved);
}

/* ---- verify takes no write lock ---- */

static void
test_verify_while_locked(fixture_t *f, gconstpointer data)
{
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open(f->path, &db), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_exec(db, "BEGIN IMMEDIATE; INSERT INTO meta VALUES ('lock', 'x')",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
    gint64 t0 = g_get_monotonic_time();
    g_autofree char *err = NULL;
    g_autoptr(cor_store_t) st = NULL;
    g_assert_cmpint(cor_store_open(f->path, false, &st, &err), ==, COR_OK);
    cor_store_set_busy_timeout(st, 100);
    cor_audit_report_t r = { 0 };
    g_assert_cmpint(cor_audit_verify(st, &r, &err), ==, COR_OK);
    g_assert_true(r.ok);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 2 * G_USEC_PER_SEC);
    cor_audit_report_clear(&r);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
}

/* ---- the anchor file's mode and group ---- */

static void
test_anchor_mode(void)
{
    g_autofree char *dir = g_dir_make_tmp("corridor-anchor-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "corridor.db", NULL);
    g_autofree char *anchor = g_strconcat(path, ".audit-anchor", NULL);
    /* a directory of another group (the records group) when we may set one */
    bool other_group = geteuid() == 0 && chown(dir, (uid_t) -1, 4242) == 0;
    mode_t old = umask(022);
    g_autofree char *err = NULL;
    g_autoptr(cor_store_t) st = NULL;
    g_assert_cmpint(cor_store_open(path, true, &st, &err), ==, COR_OK);
    g_assert_cmpint(cor_audit_anchor_create(st, &err), ==, COR_OK);
    struct stat sb;
    g_assert_cmpint(stat(anchor, &sb), ==, 0);
    g_assert_cmpint(sb.st_mode & 07777, ==, 0660);
    if (other_group)
        g_assert_cmpint(sb.st_gid, ==, 4242);
    /* made by the first commit instead: the same */
    g_unlink(anchor);
    append(st, "case.view", "", "{}");
    g_assert_cmpint(stat(anchor, &sb), ==, 0);
    g_assert_cmpint(sb.st_mode & 07777, ==, 0660);
    if (other_group)
        g_assert_cmpint(sb.st_gid, ==, 4242);
    /* an existing file is left as it is */
    g_assert_cmpint(chmod(anchor, 0640), ==, 0);
    g_assert_cmpint(cor_audit_anchor_create(st, &err), ==, COR_OK);
    g_assert_cmpint(stat(anchor, &sb), ==, 0);
    g_assert_cmpint(sb.st_mode & 07777, ==, 0640);
    umask(old);
    cor_store_close(g_steal_pointer(&st));
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

static void
test_operator(void)
{
    g_autofree char *a = cor_records_operator("jo.bloggs");
    g_assert_cmpstr(a, ==, "jo.bloggs");
    g_autofree char *b = cor_records_operator(NULL);
    g_assert_nonnull(b);
    g_assert_cmpuint(strlen(b), >, 0);
    g_autofree char *c = cor_records_operator("");
    g_assert_cmpstr(c, ==, b);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    gconstpointer six = GINT_TO_POINTER(6);
#define T(path, fn) g_test_add("/audit/" path, fixture_t, six, setup, fn, teardown)
    T("intact", test_intact);
    T("edit", test_edit);
    T("edit-and-rehash", test_edit_operator_and_rehash_rest);
    T("delete-middle", test_delete_middle);
    T("delete-last", test_delete_last);
    T("delete-last-and-meta", test_delete_last_and_meta);
    T("swap", test_swap);
    T("renumber", test_renumber);
    T("insert-end", test_insert_end);
    T("insert-middle", test_insert_middle);
    T("anchor-file-cut", test_anchor_file_cut);
    T("rollback-and-triggers", test_rollback_and_triggers);
    T("officers", test_officers);
    T("concurrent-appends", test_concurrent);
    T("anchor-unwritable", test_anchor_unwritable);
    T("anchor-file-size-limit", test_anchor_file_size_limit);
    T("hash-versions", test_hash_versions);
    T("stray-anchor", test_stray_anchor);
    T("copy-finds-rewritten-last", test_copy_finds_rewritten_last);
    T("copy-finds-cut-last", test_copy_finds_cut_last);
    T("copy-finds-wipe", test_copy_finds_wipe);
    T("cross-check", test_cross_check);
    T("verify-while-locked", test_verify_while_locked);
#undef T
    g_test_add_func("/audit/anchor-mode", test_anchor_mode);
    g_test_add_func("/audit/operator", test_operator);
    return g_test_run();
}
