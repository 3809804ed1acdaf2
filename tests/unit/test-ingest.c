/* Unit tests for core/ingest: the parallel import pipeline with the real
 * parser, store and index; thread merges reaching the index; catching up on
 * work items a crash left behind; reindex. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "core/ingest.h"
#include "core/message.h"
#include "core/thread.h"

typedef struct fixture {
    char *dir;
    cor_store_t *st;
    cor_search_writer_t *w;
    int64_t group;
} fixture_t;

static void
setup(fixture_t *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("corridor-ingest-XXXXXX", NULL);
    g_autofree char *db = g_build_filename(f->dir, "corridor.db", NULL);
    g_autofree char *ix = g_build_filename(f->dir, "index", NULL);
    g_assert_cmpint(cor_store_open(db, true, &f->st, NULL), ==, COR_OK);
    g_assert_cmpint(cor_search_writer_open(ix, &f->w, NULL), ==, COR_OK);
    g_assert_cmpint(cor_store_group_create(f->st, "g", NULL, COR_VISIBILITY_PUBLIC, &f->group), ==, COR_OK);
}

static void
teardown(fixture_t *f, gconstpointer data)
{
    if (f->w)
        cor_search_writer_close(f->w);
    cor_store_close(f->st);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(f->dir);
}

/* Number of matches for `query` in group g, after committing the writer. */
static uint64_t
count(fixture_t *f, const char *query)
{
    g_assert_cmpint(cor_search_writer_commit(f->w), ==, COR_OK);
    g_autofree char *ix = g_build_filename(f->dir, "index", NULL);
    cor_search_db_t *db = NULL;
    g_assert_cmpint(cor_search_db_open(ix, &db, NULL), ==, COR_OK);
    const char *groups[] = { "g" };
    cor_search_query_t q = { .query = query, .groups = groups, .n_groups = 1 };
    uint64_t n = 0;
    g_assert_cmpint(cor_search_count(db, &q, &n), ==, COR_OK);
    cor_search_db_close(db);
    return n;
}

static const char *
src_dir(void)
{
    const char *s = g_getenv("CORRIDOR_SRC");
    return s ? s : ".";
}

static void
test_import_sample(fixture_t *f, gconstpointer data)
{
    g_autofree char *path = g_build_filename(src_dir(), "tests", "data", "sample", "planning.mbox", NULL);
    cor_mailbox_t *mb = NULL;
    g_assert_cmpint(cor_mailbox_open(path, f->dir, &mb, NULL), ==, COR_OK);
    cor_ingest_options_t opt = { .workers = 3, .batch = 7 };   /* several batches */
    cor_ingest_stats_t stats;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_ingest_import(f->st, f->w, f->group, mb, &opt, &stats, &err), ==, COR_OK);
    cor_mailbox_close(mb);
    g_assert_cmpuint(stats.imported, ==, 20);
    g_assert_cmpuint(stats.failed, ==, 0);
    g_assert_cmpuint(stats.indexed, ==, 20);
    g_assert_cmpuint(count(f, "*"), ==, 20);
    g_assert_cmpuint(count(f, "group:g"), ==, 20);
    int64_t pending;
    g_assert_cmpint(cor_store_work_count(f->st, "index", &pending), ==, COR_OK);
    g_assert_cmpint(pending, ==, 0);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
    g_autofree char *p = g_build_filename(dir, name, NULL);
    g_assert_true(g_file_set_contents(p, text, -1, NULL));
}

/* b (replying to unseen x) and a start two threads; c references a and x:
 * the threads merge into a's, and b's document must move with them. */
static void
test_merge_reaches_index(fixture_t *f, gconstpointer data)
{
    g_autofree char *md = g_build_filename(f->dir, "mh", NULL);
    g_mkdir(md, 0700);
    write_file(md, "1", "From: A <a@e>\nSubject: alpha\nMessage-ID: <a@e>\nDate: Mon, 3 Mar 2025 10:00:00 +0000\n\none\n");
    write_file(md, "2", "From: B <b@e>\nSubject: beta\nMessage-ID: <b@e>\nIn-Reply-To: <x@e>\nDate: Mon, 3 Mar 2025 11:00:00 +0000\n\ntwo\n");
    write_file(md, "3", "From: C <c@e>\nSubject: gamma\nMessage-ID: <c@e>\nIn-Reply-To: <x@e>\nReferences: <a@e> <x@e>\nDate: Mon, 3 Mar 2025 12:00:00 +0000\n\nthree\n");
    cor_mailbox_t *mb = NULL;
    g_assert_cmpint(cor_mailbox_open(md, f->dir, &mb, NULL), ==, COR_OK);
    /* batch 1: each message is committed and indexed before the next */
    cor_ingest_options_t opt = { .workers = 2, .batch = 1 };
    cor_ingest_stats_t stats;
    g_assert_cmpint(cor_ingest_import(f->st, f->w, f->group, mb, &opt, &stats, NULL), ==, COR_OK);
    cor_mailbox_close(mb);
    int64_t ta, tb;
    g_autoptr(GPtrArray) r1 = NULL;
    g_autoptr(GPtrArray) r2 = NULL;
    g_assert_cmpint(cor_thread_tree(f->st, f->group, "a@e", &ta, &r1), ==, COR_OK);
    g_assert_cmpint(cor_thread_tree(f->st, f->group, "b@e", &tb, &r2), ==, COR_OK);
    g_assert_cmpint(ta, ==, tb);
    g_autofree char *q = g_strdup_printf("thread:%" G_GINT64_FORMAT, ta);
    g_assert_cmpuint(count(f, q), ==, 3);
    /* b's old thread id (the younger one) no longer matches anything */
    g_autofree char *old = g_strdup_printf("thread:%" G_GINT64_FORMAT, ta + 1);
    g_assert_cmpuint(count(f, old), ==, 0);
}

/* A message stored with its work item but not indexed (a crash between the
 * store commit and the index commit) is indexed by catch-up. */
static void
test_catch_up(fixture_t *f, gconstpointer data)
{
    const char *raw = "From: D <d@e>\nSubject: delta\nMessage-ID: <d@e>\nDate: Mon, 3 Mar 2025 10:00:00 +0000\n\nunindexed words\n";
    g_autoptr(cor_message_t) m = NULL;
    g_assert_cmpint(cor_message_parse(raw, strlen(raw), 1, &m, NULL), ==, COR_OK);
    char sha[65];
    cor_sha256_hex(raw, strlen(raw), sha);
    cor_intake_t in;
    g_assert_cmpint(cor_store_begin(f->st), ==, COR_OK);
    g_assert_cmpint(cor_store_add_message(f->st, f->group, raw, strlen(raw), sha, 1, m, &in), ==, COR_OK);
    g_assert_cmpint(cor_store_commit(f->st), ==, COR_OK);
    cor_intake_clear(&in);
    g_assert_cmpuint(count(f, "unindexed"), ==, 0);
    cor_ingest_stats_t stats;
    g_assert_cmpint(cor_ingest_catch_up(f->st, f->w, NULL, &stats, NULL), ==, COR_OK);
    g_assert_cmpuint(stats.indexed, ==, 1);
    g_assert_cmpuint(count(f, "unindexed"), ==, 1);
    int64_t pending;
    g_assert_cmpint(cor_store_work_count(f->st, "index", &pending), ==, COR_OK);
    g_assert_cmpint(pending, ==, 0);
}

static void
test_reindex(fixture_t *f, gconstpointer data)
{
    test_import_sample(f, data);
    cor_ingest_stats_t stats;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_ingest_reindex(f->st, f->w, NULL, &stats, &err), ==, COR_OK);
    g_assert_cmpuint(stats.indexed, ==, 20);
    g_assert_cmpuint(count(f, "*"), ==, 20);
    g_assert_cmpuint(count(f, "flood"), >, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cor_message_init();
    g_test_add("/ingest/import-sample", fixture_t, NULL, setup, test_import_sample, teardown);
    g_test_add("/ingest/merge-reaches-index", fixture_t, NULL, setup, test_merge_reaches_index, teardown);
    g_test_add("/ingest/catch-up", fixture_t, NULL, setup, test_catch_up, teardown);
    g_test_add("/ingest/reindex", fixture_t, NULL, setup, test_reindex, teardown);
    return g_test_run();
}
