/* Unit tests for core/store and core/thread: schema, groups, idempotent
 * intake, and the threading rules of thread.h, each with a known answer.
 * Messages are built by hand (no parser) so each case says exactly which
 * headers it has. */
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "core/message.h"
#include "core/store.h"
#include "core/thread.h"
#include "core/visibility.h"

typedef struct fixture {
    char *dir;
    cor_store_t *st;
    int64_t group;
} fixture_t;

static void
setup(fixture_t *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("corridor-store-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(f->dir, "corridor.db", NULL);
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_store_open(path, true, &f->st, &err), ==, COR_OK);
    g_assert_cmpint(cor_store_group_create(f->st, "planning", "Planning", COR_VISIBILITY_PUBLIC,
                                           &f->group), ==, COR_OK);
}

static void
teardown(fixture_t *f, gconstpointer data)
{
    cor_store_close(f->st);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(f->dir);
}

/* A message with the given id, In-Reply-To and space-separated References. */
static cor_message_t *
make_msg(const char *id, const char *irt, const char *refs, const char *subject,
         const char *thread_index, const char *topic, int64_t date)
{
    cor_message_t *m = g_new0(cor_message_t, 1);
    m->message_id = g_strdup(id);
    m->subject = g_strdup(subject ? subject : "subject");
    m->from = g_strdup("A <a@example.org>");
    m->from_name = g_strdup("A");
    m->from_addr = g_strdup("a@example.org");
    m->to = g_strdup("");
    m->cc = g_strdup("");
    m->date = date;
    m->in_reply_to = g_strdup(irt ? irt : "");
    m->references = g_ptr_array_new_with_free_func(g_free);
    if (refs) {
        g_auto(GStrv) parts = g_strsplit(refs, " ", -1);
        for (char **p = parts; *p; p++)
            if (**p)
                g_ptr_array_add(m->references, g_strdup(*p));
    }
    m->thread_index = g_strdup(thread_index ? thread_index : "");
    m->thread_topic = g_strdup(topic ? topic : "");
    m->list_id = g_strdup("");
    m->body = g_strdup("body");
    m->new_text = g_strdup("body");
    m->quoted_text = g_strdup("");
    m->signature = g_strdup("");
    m->attachment_text = g_strdup("");
    m->attachments = g_ptr_array_new();
    m->warnings = g_ptr_array_new_with_free_func(g_free);
    return m;
}

/* Stores `m` (freeing it) in group `group`; returns the intake status. */
static cor_status_t
add_in(fixture_t *f, int64_t group, cor_message_t *m, cor_intake_t *in)
{
    g_autofree char *raw = g_strdup_printf("Message-ID: <%s>\n\nbody\n", m->message_id);
    char sha[65];
    cor_sha256_hex(raw, strlen(raw), sha);
    cor_intake_t local;
    if (in == NULL)
        in = &local;
    g_assert_cmpint(cor_store_begin(f->st), ==, COR_OK);
    cor_status_t s = cor_store_add_message(f->st, group, raw, strlen(raw), sha, 1000, m, in);
    g_assert_cmpint(cor_store_commit(f->st), ==, COR_OK);
    if (in == &local)
        cor_intake_clear(&local);
    cor_message_free(m);
    return s;
}

static cor_status_t
add(fixture_t *f, cor_message_t *m, cor_intake_t *in)
{
    return add_in(f, f->group, m, in);
}

/* The live thread of a post. */
static int64_t
thread_of(fixture_t *f, const char *id)
{
    int64_t t = 0;
    g_autoptr(GPtrArray) roots = NULL;
    if (cor_thread_tree(f->st, f->group, id, &t, &roots) != COR_OK)
        return -1;
    return t;
}

static void
collect(GString *out, GPtrArray *nodes)
{
    for (guint i = 0; i < nodes->len; i++) {
        cor_thread_node_t *n = g_ptr_array_index(nodes, i);
        if (i)
            g_string_append_c(out, ' ');
        g_string_append(out, n->msg ? n->message_id : "(ghost)");
        if (n->children->len) {
            g_string_append(out, " [");
            collect(out, n->children);
            g_string_append_c(out, ']');
        }
    }
}

/* The tree of id's thread as text: "a [b [c] d]". */
static char *
tree_text(fixture_t *f, const char *id)
{
    int64_t t;
    g_autoptr(GPtrArray) roots = NULL;
    g_assert_cmpint(cor_thread_tree(f->st, f->group, id, &t, &roots), ==, COR_OK);
    GString *s = g_string_new(NULL);
    collect(s, roots);
    return g_string_free(s, FALSE);
}

static void
test_schema_version(fixture_t *f, gconstpointer data)
{
    g_assert_cmpint(cor_store_schema_version(), >=, 1);
    /* reopening migrates nothing and keeps the data */
    g_autofree char *path = g_build_filename(f->dir, "corridor.db", NULL);
    cor_store_t *again = NULL;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_store_open(path, false, &again, &err), ==, COR_OK);
    g_autoptr(cor_group_t) g = NULL;
    g_assert_cmpint(cor_store_group_get(again, "planning", &g), ==, COR_OK);
    cor_store_close(again);
    /* a missing store is not created without `create` */
    g_autofree char *missing = g_build_filename(f->dir, "nothing.db", NULL);
    g_autofree char *err2 = NULL;
    g_assert_cmpint(cor_store_open(missing, false, &again, &err2), ==, COR_ERR_NOT_FOUND);
    g_assert_nonnull(strstr(err2, "nothing.db"));
}

static void
test_groups(fixture_t *f, gconstpointer data)
{
    g_assert_cmpint(cor_store_group_create(f->st, "planning", NULL, COR_VISIBILITY_PUBLIC, NULL),
                    ==, COR_ERR_EXISTS);
    g_assert_cmpint(cor_store_group_create(f->st, "Bad Name", NULL, COR_VISIBILITY_PUBLIC, NULL),
                    ==, COR_ERR_INVALID);
    g_assert_cmpint(cor_store_group_create(f->st, "hr", "HR", COR_VISIBILITY_PRIVATE, NULL), ==, COR_OK);
    g_autoptr(cor_group_t) g = NULL;
    g_assert_cmpint(cor_store_group_get(f->st, "nope", &g), ==, COR_ERR_NO_GROUP);
    g_assert_nonnull(strstr(cor_store_error(f->st), "nope"));
    g_autoptr(GPtrArray) all = NULL;
    g_assert_cmpint(cor_store_group_list(f->st, true, &all), ==, COR_OK);
    g_assert_cmpuint(all->len, ==, 2);
    g_assert_cmpstr(((cor_group_t *) g_ptr_array_index(all, 0))->name, ==, "hr");
}

static void
test_visibility(fixture_t *f, gconstpointer data)
{
    int64_t hr, staff;
    g_assert_cmpint(cor_store_group_create(f->st, "hr", NULL, COR_VISIBILITY_PRIVATE, &hr), ==, COR_OK);
    g_assert_cmpint(cor_store_group_create(f->st, "intranet", NULL, COR_VISIBILITY_STAFF, &staff), ==, COR_OK);
    g_assert_cmpint(cor_store_member_add(f->st, hr, "Pat@Example.org", "Pat"), ==, COR_OK);
    static const struct { cor_viewer_kind_t kind; const char *addr; const char *expect; } cases[] = {
        { COR_VIEWER_ANONYMOUS, NULL, "planning" },
        { COR_VIEWER_STAFF, NULL, "intranet planning" },
        { COR_VIEWER_STAFF, "someone@example.org", "intranet planning" },
        { COR_VIEWER_STAFF, "pat@example.org", "hr intranet planning" },
        { COR_VIEWER_OFFICER, NULL, "hr intranet planning" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        cor_viewer_t v = { cases[i].kind, cases[i].addr };
        g_autoptr(GPtrArray) names = NULL;
        g_assert_cmpint(cor_visibility_groups(f->st, &v, &names), ==, COR_OK);
        g_ptr_array_add(names, NULL);
        g_autofree char *got = g_strjoinv(" ", (char **) names->pdata);
        g_assert_cmpstr(got, ==, cases[i].expect);
    }
}

static void
test_duplicate_is_idempotent(fixture_t *f, gconstpointer data)
{
    cor_intake_t a, b;
    g_assert_cmpint(add(f, make_msg("x@e", NULL, NULL, NULL, NULL, NULL, 1), &a), ==, COR_OK);
    g_assert_cmpint(add(f, make_msg("x@e", NULL, NULL, NULL, NULL, NULL, 1), &b), ==, COR_DUPLICATE);
    g_assert_true(b.duplicate);
    g_assert_cmpint(a.msg, ==, b.msg);
    g_assert_cmpint(a.thread, ==, b.thread);
    int64_t n;
    g_assert_cmpint(cor_store_message_count(f->st, &n), ==, COR_OK);
    g_assert_cmpint(n, ==, 1);
    /* one work item: the duplicate queued nothing */
    g_assert_cmpint(cor_store_work_count(f->st, "index", &n), ==, COR_OK);
    g_assert_cmpint(n, ==, 1);
    cor_intake_clear(&a);
    cor_intake_clear(&b);
}

/* cor_store_message_raw_head: the start of the original, all of it when
 * shorter, the whole when asked for more, NOT_FOUND for a missing row; the
 * same bytes as cor_store_message_raw. */
static void
test_raw_head(fixture_t *f, gconstpointer data)
{
    cor_intake_t a;
    g_assert_cmpint(add(f, make_msg("head@e", NULL, NULL, NULL, NULL, NULL, 1), &a), ==, COR_OK);
    g_autoptr(GBytes) whole = NULL;
    g_assert_cmpint(cor_store_message_raw(f->st, a.msg, &whole), ==, COR_OK);
    gsize n = g_bytes_get_size(whole);
    g_assert_cmpuint(n, ==, strlen("Message-ID: <head@e>\n\nbody\n"));
    size_t asks[] = { 0, 1, 10, n - 1, n, n + 1, 1u << 20 };
    for (size_t i = 0; i < G_N_ELEMENTS(asks); i++) {
        g_autoptr(GBytes) head = NULL;
        g_assert_cmpint(cor_store_message_raw_head(f->st, a.msg, asks[i], &head), ==, COR_OK);
        gsize len = 0;
        const char *d = g_bytes_get_data(head, &len);
        g_assert_cmpuint(len, ==, MIN(asks[i], n));
        g_assert_true(len == 0 || memcmp(d, g_bytes_get_data(whole, NULL), len) == 0);
    }
    g_autoptr(GBytes) none = NULL;
    g_assert_cmpint(cor_store_message_raw_head(f->st, a.msg + 100, 10, &none), ==, COR_ERR_NOT_FOUND);
    g_assert_null(none);
    g_assert_nonnull(strstr(cor_store_error(f->st), "no original for message"));
    cor_intake_clear(&a);
}

static void
test_same_post_two_groups(fixture_t *f, gconstpointer data)
{
    int64_t other;
    g_assert_cmpint(cor_store_group_create(f->st, "other", NULL, COR_VISIBILITY_PUBLIC, &other), ==, COR_OK);
    cor_intake_t a, b;
    g_assert_cmpint(add_in(f, f->group, make_msg("x@e", NULL, NULL, NULL, NULL, NULL, 1), &a), ==, COR_OK);
    g_assert_cmpint(add_in(f, other, make_msg("x@e", NULL, NULL, NULL, NULL, NULL, 1), &b), ==, COR_OK);
    g_assert_cmpint(a.msg, ==, b.msg);          /* stored once */
    g_assert_cmpint(a.thread, !=, b.thread);    /* a thread in each group */
    g_autoptr(GPtrArray) groups = NULL;
    g_autoptr(GArray) threads = NULL;
    g_assert_cmpint(cor_store_message_groups(f->st, a.msg, &groups, &threads), ==, COR_OK);
    g_assert_cmpuint(groups->len, ==, 2);
    cor_intake_clear(&a);
    cor_intake_clear(&b);
}

static void
test_reply_joins_parent(fixture_t *f, gconstpointer data)
{
    add(f, make_msg("root@e", NULL, NULL, NULL, NULL, NULL, 1), NULL);
    add(f, make_msg("child@e", "root@e", "root@e", NULL, NULL, NULL, 2), NULL);
    add(f, make_msg("grand@e", "child@e", "root@e child@e", NULL, NULL, NULL, 3), NULL);
    add(f, make_msg("other@e", NULL, NULL, NULL, NULL, NULL, 4), NULL);
    g_assert_cmpint(thread_of(f, "root@e"), ==, thread_of(f, "grand@e"));
    g_assert_cmpint(thread_of(f, "root@e"), !=, thread_of(f, "other@e"));
    g_autofree char *t = tree_text(f, "child@e");
    g_assert_cmpstr(t, ==, "root@e [child@e [grand@e]]");
}

/* Children arrive before their parent, in every order: one thread, with the
 * id first given to any of them, and the same tree. */
static void
test_any_arrival_order(fixture_t *f, gconstpointer data)
{
    static const char *const orders[][3] = {
        { "a", "b", "c" }, { "a", "c", "b" }, { "b", "a", "c" },
        { "b", "c", "a" }, { "c", "a", "b" }, { "c", "b", "a" },
    };
    for (size_t o = 0; o < G_N_ELEMENTS(orders); o++) {
        int64_t g;
        g_autofree char *name = g_strdup_printf("order%zu", o);
        g_assert_cmpint(cor_store_group_create(f->st, name, NULL, COR_VISIBILITY_PUBLIC, &g), ==, COR_OK);
        int64_t first_thread = 0;
        for (int i = 0; i < 3; i++) {
            const char *w = orders[o][i];
            cor_message_t *m;
            if (strcmp(w, "a") == 0)
                m = make_msg("a@e", NULL, NULL, NULL, NULL, NULL, 1);
            else if (strcmp(w, "b") == 0)
                m = make_msg("b@e", "a@e", "a@e", NULL, NULL, NULL, 2);
            else
                m = make_msg("c@e", "b@e", "a@e b@e", NULL, NULL, NULL, 3);
            cor_intake_t in;
            g_assert_cmpint(add_in(f, g, m, &in), ==, COR_OK);
            if (i == 0)
                first_thread = in.thread;
            cor_intake_clear(&in);
        }
        int64_t ta, tc, t;
        g_autoptr(GPtrArray) r1 = NULL;
        g_autoptr(GPtrArray) r2 = NULL;
        g_assert_cmpint(cor_thread_tree(f->st, g, "a@e", &ta, &r1), ==, COR_OK);
        g_assert_cmpint(cor_thread_tree(f->st, g, "c@e", &tc, &r2), ==, COR_OK);
        g_assert_cmpint(ta, ==, tc);
        g_assert_cmpint(ta, ==, first_thread);
        g_assert_cmpuint(r1->len, ==, 1);
        /* an older published id still resolves */
        g_assert_cmpint(cor_thread_resolve(f->st, first_thread, &t), ==, COR_OK);
        g_assert_cmpint(t, ==, ta);
    }
}

/* Two threads that a later message joins: merged into the older one; the
 * younger id is an alias; the moved posts are reported for re-indexing. */
static void
test_merge_reports_moved(fixture_t *f, gconstpointer data)
{
    cor_intake_t a, b, c;
    add(f, make_msg("a@e", NULL, NULL, NULL, NULL, NULL, 1), &a);
    add(f, make_msg("b@e", "x@e", "x@e", NULL, NULL, NULL, 2), &b);   /* x not seen */
    g_assert_cmpint(a.thread, !=, b.thread);
    add(f, make_msg("c@e", "x@e", "a@e x@e", NULL, NULL, NULL, 3), &c);
    g_assert_cmpint(c.thread, ==, a.thread);
    g_assert_nonnull(c.merged);
    g_assert_cmpuint(c.merged->len, ==, 1);
    g_assert_cmpint(g_array_index(c.merged, int64_t, 0), ==, b.msg);
    /* the moved post was queued for re-indexing in the same transaction */
    g_assert_nonnull(c.merged_work);
    g_assert_cmpuint(c.merged_work->len, ==, 1);
    int64_t pending;
    g_assert_cmpint(cor_store_work_count(f->st, "index", &pending), ==, COR_OK);
    g_assert_cmpint(pending, ==, 4);   /* a, b, c, and b again */
    int64_t live;
    g_assert_cmpint(cor_thread_resolve(f->st, b.thread, &live), ==, COR_OK);
    g_assert_cmpint(live, ==, a.thread);
    /* x is a ghost under a with two children: it stays in the tree */
    g_autofree char *t = tree_text(f, "a@e");
    g_assert_cmpstr(t, ==, "a@e [(ghost) [b@e c@e]]");
    cor_intake_clear(&a);
    cor_intake_clear(&b);
    cor_intake_clear(&c);
}

/* notmuch's broken/loop case: two messages replying to each other. */
static void
test_loop_broken(fixture_t *f, gconstpointer data)
{
    add(f, make_msg("loop-12@e", "loop-21@e", NULL, NULL, NULL, NULL, 1), NULL);
    add(f, make_msg("loop-21@e", "loop-12@e", NULL, NULL, NULL, NULL, 2), NULL);
    g_assert_cmpint(thread_of(f, "loop-12@e"), ==, thread_of(f, "loop-21@e"));
    g_autofree char *t = tree_text(f, "loop-12@e");
    g_assert_cmpstr(t, ==, "loop-21@e [loop-12@e]");
}

/* A new ghost must not close a loop: a@e replies to m@e (a ghost); then m@e
 * arrives saying it follows a@e and b@e.  Without the check, ghost b@e would
 * get parent a@e, closing m -> b -> a -> m. */
static void
test_new_ghost_cannot_close_loop(fixture_t *f, gconstpointer data)
{
    add(f, make_msg("a@e", "m@e", NULL, NULL, NULL, NULL, 1), NULL);
    add(f, make_msg("m@e", NULL, "a@e b@e", NULL, NULL, NULL, 2), NULL);
    g_assert_cmpint(thread_of(f, "a@e"), ==, thread_of(f, "m@e"));
    g_autofree char *t = tree_text(f, "a@e");
    g_assert_cmpstr(t, ==, "m@e [a@e]");
    /* a third message referencing all of them still terminates */
    add(f, make_msg("z@e", "b@e", "m@e a@e b@e", NULL, NULL, NULL, 3), NULL);
    g_autofree char *t2 = tree_text(f, "z@e");
    g_assert_nonnull(strstr(t2, "z@e"));
}

static void
test_self_reference(fixture_t *f, gconstpointer data)
{
    /* the parser drops self-references; the threader must too */
    cor_message_t *m = make_msg("self@e", "self@e", "self@e", NULL, NULL, NULL, 1);
    g_assert_cmpint(add(f, m, NULL), ==, COR_OK);
    g_autofree char *t = tree_text(f, "self@e");
    g_assert_cmpstr(t, ==, "self@e");
}

/* notmuch's threading/parent-priority: In-Reply-To beats a wrong References. */
static void
test_parent_priority(fixture_t *f, gconstpointer data)
{
    add(f, make_msg("B00-root@e", NULL, NULL, NULL, NULL, NULL, 1), NULL);
    add(f, make_msg("B01-child@e", "B00-root@e", "B00--root@e", NULL, NULL, NULL, 2), NULL);
    add(f, make_msg("B01-grand-child@e", "B01-child@e", "B01-child@e B00-root@e", NULL, NULL, NULL, 3), NULL);
    g_autofree char *t = tree_text(f, "B00-root@e");
    g_assert_cmpstr(t, ==, "B00-root@e [B01-child@e [B01-grand-child@e]]");
}

/* notmuch's threading/ghost-root: a reply to a missing message whose
 * References name the real root stays under the real root. */
static void
test_ghost_root(fixture_t *f, gconstpointer data)
{
    add(f, make_msg("000-real-root@e", NULL, NULL, NULL, NULL, NULL, 1), NULL);
    add(f, make_msg("001-child@e", "000-real-root@e", "000-real-root@e", NULL, NULL, NULL, 2), NULL);
    add(f, make_msg("001-fake-message-root@e", "nonexistent-message@e",
                    "000-real-root@e 001-child@e nonexistent-message@e", NULL, NULL, NULL, 3), NULL);
    g_autofree char *t = tree_text(f, "000-real-root@e");
    g_assert_cmpstr(t, ==, "000-real-root@e [001-child@e [001-fake-message-root@e]]");
}

/* Thread-Index: joins only without References/In-Reply-To, and only when the
 * topic matches too. */
static void
test_thread_index_rule(fixture_t *f, gconstpointer data)
{
    const char *conv = "01c5a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4";
    add(f, make_msg("o1@e", NULL, NULL, "Budget 2025", conv, "Budget 2025", 1), NULL);
    /* same conversation id and topic, no References: joins */
    add(f, make_msg("o2@e", NULL, NULL, "RE: Budget 2025", conv, "Budget 2025", 2), NULL);
    /* same conversation id, another topic: a colliding root, does not join */
    add(f, make_msg("o3@e", NULL, NULL, "Car park", conv, "Car park", 3), NULL);
    /* same topic, no Thread-Index: subjects alone never join */
    add(f, make_msg("o4@e", NULL, NULL, "Budget 2025", NULL, NULL, 4), NULL);
    /* no Thread-Topic: the normalised subject is compared */
    add(f, make_msg("o5@e", NULL, NULL, "AW: budget  2025", conv, NULL, 5), NULL);
    g_assert_cmpint(thread_of(f, "o1@e"), ==, thread_of(f, "o2@e"));
    g_assert_cmpint(thread_of(f, "o1@e"), ==, thread_of(f, "o5@e"));
    g_assert_cmpint(thread_of(f, "o1@e"), !=, thread_of(f, "o3@e"));
    g_assert_cmpint(thread_of(f, "o1@e"), !=, thread_of(f, "o4@e"));
}

static cor_status_t
count_threads(int64_t thread, GPtrArray *ids, void *data)
{
    GString *s = data;
    g_string_append_printf(s, "%s%u", s->len ? "," : "", ids->len);
    return COR_OK;
}

static void
test_foreach_lists_posts_only(fixture_t *f, gconstpointer data)
{
    add(f, make_msg("a@e", NULL, "ghost1@e", NULL, NULL, NULL, 1), NULL);
    add(f, make_msg("b@e", "a@e", "ghost1@e a@e", NULL, NULL, NULL, 2), NULL);
    add(f, make_msg("c@e", NULL, NULL, NULL, NULL, NULL, 3), NULL);
    g_autoptr(GString) s = g_string_new(NULL);
    g_assert_cmpint(cor_thread_foreach(f->st, f->group, count_threads, s), ==, COR_OK);
    g_assert_cmpstr(s->str, ==, "2,1");
}

static void
test_work_queue(fixture_t *f, gconstpointer data)
{
    add(f, make_msg("a@e", NULL, NULL, NULL, NULL, NULL, 1), NULL);
    add(f, make_msg("b@e", NULL, NULL, NULL, NULL, NULL, 2), NULL);
    g_autoptr(GArray) ids = NULL;
    g_autoptr(GArray) msgs = NULL;
    g_assert_cmpint(cor_store_work_pending(f->st, "index", 10, &ids, &msgs), ==, COR_OK);
    g_assert_cmpuint(ids->len, ==, 2);
    g_autoptr(GArray) first = g_array_new(FALSE, FALSE, sizeof(int64_t));
    g_array_append_val(first, g_array_index(ids, int64_t, 0));
    g_assert_cmpint(cor_store_work_delete(f->st, first), ==, COR_OK);
    int64_t n;
    g_assert_cmpint(cor_store_work_count(f->st, "index", &n), ==, COR_OK);
    g_assert_cmpint(n, ==, 1);
}

static cor_status_t
collect_post(const cor_store_post_t *p, void *data)
{
    GString *out = data;
    g_string_append_printf(out, "%s%s", out->len ? " " : "", p->message_id);
    return COR_OK;
}

/* The posts of a group whose 'render' work is queued: newest item first,
 * only that group's accepted posts, at most `max` items read, and a post
 * whose items are done is not listed. */
static void
test_posts_queued(fixture_t *f, gconstpointer data)
{
    int64_t other;
    g_assert_cmpint(cor_store_group_create(f->st, "other", NULL, COR_VISIBILITY_PUBLIC, &other), ==, COR_OK);
    add(f, make_msg("a@e", NULL, NULL, NULL, NULL, NULL, 1), NULL);
    add_in(f, other, make_msg("b@e", NULL, NULL, NULL, NULL, NULL, 2), NULL);
    /* a restricted post: no archive page, never listed */
    cor_message_t *m = make_msg("r@e", NULL, NULL, NULL, NULL, NULL, 3);
    const char *raw = "Message-ID: <r@e>\n\nrestricted\n";
    char sha[65];
    cor_sha256_hex(raw, strlen(raw), sha);
    cor_intake_t in;
    g_assert_cmpint(cor_store_begin(f->st), ==, COR_OK);
    g_assert_cmpint(cor_store_add_message_as(f->st, f->group, raw, strlen(raw), sha, 1, m,
                                             COR_POST_RESTRICTED, &in), ==, COR_OK);
    g_assert_cmpint(cor_store_commit(f->st), ==, COR_OK);
    cor_intake_clear(&in);
    cor_message_free(m);
    add(f, make_msg("c@e", NULL, NULL, NULL, NULL, NULL, 4), NULL);

    g_autoptr(GString) s = g_string_new(NULL);
    g_assert_cmpint(cor_store_posts_queued(f->st, "render", f->group, 0, collect_post, s), ==, COR_OK);
    g_assert_cmpstr(s->str, ==, "c@e a@e");
    g_string_truncate(s, 0);
    g_assert_cmpint(cor_store_posts_queued(f->st, "render", other, 0, collect_post, s), ==, COR_OK);
    g_assert_cmpstr(s->str, ==, "b@e");
    /* the newest item only: c's */
    g_string_truncate(s, 0);
    g_assert_cmpint(cor_store_posts_queued(f->st, "render", f->group, 1, collect_post, s), ==, COR_OK);
    g_assert_cmpstr(s->str, ==, "c@e");
    /* the newest two items are r's and c's: a is not reached */
    g_string_truncate(s, 0);
    g_assert_cmpint(cor_store_posts_queued(f->st, "render", f->group, 2, collect_post, s), ==, COR_OK);
    g_assert_cmpstr(s->str, ==, "c@e");
    /* rendered: no longer queued (the 'index' items stay) */
    g_assert_cmpint(cor_store_begin(f->st), ==, COR_OK);
    g_autoptr(GArray) ids = NULL;
    g_autoptr(GArray) msgs = NULL;
    g_assert_cmpint(cor_store_work_pending(f->st, "render", 1, &ids, &msgs), ==, COR_OK);
    g_assert_cmpint(cor_store_work_delete(f->st, ids), ==, COR_OK);
    g_assert_cmpint(cor_store_commit(f->st), ==, COR_OK);
    g_string_truncate(s, 0);
    g_assert_cmpint(cor_store_posts_queued(f->st, "render", f->group, 0, collect_post, s), ==, COR_OK);
    g_assert_cmpstr(s->str, ==, "c@e");
    g_string_truncate(s, 0);
    g_assert_cmpint(cor_store_posts_queued(f->st, "index", f->group, 0, collect_post, s), ==, COR_OK);
    g_assert_cmpstr(s->str, ==, "c@e a@e");
}

/* A rolled-back transaction leaves nothing behind: no message, no node. */
static cor_status_t
collect_ids(const cor_store_post_t *p, void *data)
{
    GString *s = data;
    if (s->len)
        g_string_append_c(s, ' ');
    g_string_append(s, p->message_id);
    return COR_OK;
}

/* One integer from SQL on a second connection to the store. */
static int64_t
sql_int(fixture_t *f, const char *sql)
{
    g_autofree char *path = g_build_filename(f->dir, "corridor.db", NULL);
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
    sqlite3_stmt *q = NULL;
    g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &q, NULL), ==, SQLITE_OK);
    int64_t v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

/* Schema v8: the triggers keep threads.last_date and group_months equal to
 * what the thread nodes say, through new posts, a restricted one, a merge
 * and a group delete; and the archive's reads find the right posts. */
static void
test_archive_listings(fixture_t *f, gconstpointer data)
{
    /* 1 Jan 2005 00:00 UTC and 1 Feb 2005 */
    const int64_t jan = 1104537600, feb = 1107216000;
    cor_intake_t a, b, c, r;
    add(f, make_msg("a@e", NULL, NULL, "first", NULL, NULL, jan + 10), &a);
    add(f, make_msg("b@e", "x@e", "x@e", "second", NULL, NULL, feb + 10), &b);
    g_assert_cmpint(cor_store_begin(f->st), ==, COR_OK);
    {
        cor_message_t *m = make_msg("r@e", "a@e", "a@e", "restricted", NULL, NULL, feb + 99);
        const char *raw = "Message-ID: <r@e>\n\nbody\n";
        char sha[65];
        cor_sha256_hex(raw, strlen(raw), sha);
        g_assert_cmpint(cor_store_add_message_as(f->st, f->group, raw, strlen(raw), sha, 1000, m,
                                                 COR_POST_RESTRICTED, &r), ==, COR_OK);
        cor_message_free(m);
    }
    g_assert_cmpint(cor_store_commit(f->st), ==, COR_OK);
    cor_store_thread_state_t ta, tb;
    g_assert_cmpint(cor_store_thread_state(f->st, a.thread, &ta), ==, COR_OK);
    g_assert_true(ta.live);
    g_assert_cmpint(ta.last_date, ==, jan + 10);      /* the restricted reply does not count */
    int64_t threads, posts, last;
    g_assert_cmpint(cor_store_group_activity(f->st, f->group, &threads, &posts, &last), ==, COR_OK);
    g_assert_cmpint(threads, ==, 2);
    g_assert_cmpint(posts, ==, 2);
    g_assert_cmpint(last, ==, feb + 10);
    /* c joins a and b's threads: b's moves into a's */
    add(f, make_msg("c@e", "x@e", "a@e x@e", "third", NULL, NULL, feb + 20), &c);
    g_assert_cmpint(c.thread, ==, a.thread);
    g_assert_cmpint(cor_store_thread_state(f->st, a.thread, &ta), ==, COR_OK);
    g_assert_cmpint(cor_store_thread_state(f->st, b.thread, &tb), ==, COR_OK);
    g_assert_cmpint(ta.last_date, ==, feb + 20);
    g_assert_false(tb.live);
    g_assert_cmpint(tb.merged_into, ==, a.thread);
    g_autoptr(GArray) merged = NULL;
    g_assert_cmpint(cor_store_thread_merged(f->st, a.thread, &merged), ==, COR_OK);
    g_assert_cmpuint(merged->len, ==, 1);
    g_assert_cmpint(g_array_index(merged, cor_store_thread_state_t, 0).id, ==, b.thread);
    g_assert_cmpint(cor_store_group_activity(f->st, f->group, &threads, &posts, &last), ==, COR_OK);
    g_assert_cmpint(threads, ==, 1);
    g_assert_cmpint(posts, ==, 3);
    g_autoptr(GArray) months = NULL;
    g_assert_cmpint(cor_store_group_months(f->st, f->group, &months), ==, COR_OK);
    g_assert_cmpuint(months->len, ==, 4);
    g_assert_cmpint(g_array_index(months, int64_t, 0), ==, 2005 * 12 + 1);
    g_assert_cmpint(g_array_index(months, int64_t, 1), ==, 2);
    g_assert_cmpint(g_array_index(months, int64_t, 2), ==, 2005 * 12);
    g_assert_cmpint(g_array_index(months, int64_t, 3), ==, 1);
    /* the reads */
    g_autoptr(GString) got = g_string_new(NULL);
    int64_t count = 0;
    g_assert_cmpint(cor_store_thread_ends(f->st, a.thread, &count, collect_ids, got), ==, COR_OK);
    g_assert_cmpint(count, ==, 3);
    g_assert_cmpstr(got->str, ==, "a@e c@e");
    g_string_truncate(got, 0);
    g_assert_cmpint(cor_store_posts_month(f->st, f->group, 2005 * 12 + 1, collect_ids, got), ==, COR_OK);
    g_assert_cmpstr(got->str, ==, "b@e c@e");
    g_string_truncate(got, 0);
    g_assert_cmpint(cor_store_posts_newest(f->st, f->group, 2, collect_ids, got), ==, COR_OK);
    g_assert_cmpstr(got->str, ==, "c@e b@e");
    g_string_truncate(got, 0);
    char key[17];
    cor_store_key("b@e", key);
    g_assert_cmpint(cor_store_post_by_key(f->st, f->group, key, collect_ids, got), ==, COR_OK);
    g_assert_cmpstr(got->str, ==, "b@e");
    g_string_truncate(got, 0);
    cor_store_key("r@e", key);       /* restricted: not the archive's */
    g_assert_cmpint(cor_store_post_by_key(f->st, f->group, key, collect_ids, got), ==, COR_OK);
    g_assert_cmpstr(got->str, ==, "");
    cor_store_key("a@example.org", key);
    g_assert_cmpint(cor_store_posts_by_author(f->st, key, collect_ids, got), ==, COR_OK);
    g_assert_cmpstr(got->str, ==, "c@e b@e a@e");
    int64_t after = 0;
    g_assert_cmpint(cor_store_threads_after(f->st, f->group, ta.last_date, ta.id, &after), ==, COR_OK);
    g_assert_cmpint(after, ==, 1);
    /* what the archive shows: written and read back */
    g_assert_cmpint(cor_store_begin(f->st), ==, COR_OK);
    g_assert_cmpint(cor_store_thread_set_shown(f->st, b.thread, false, 0, a.thread), ==, COR_OK);
    g_assert_cmpint(cor_store_thread_set_shown(f->st, a.thread, true, feb + 20, 0), ==, COR_OK);
    g_assert_cmpint(cor_store_commit(f->st), ==, COR_OK);
    g_assert_cmpint(cor_store_thread_state(f->st, b.thread, &tb), ==, COR_OK);
    g_assert_false(tb.listed);
    g_assert_cmpint(tb.shown_into, ==, a.thread);
    /* the maintained values equal a recount from scratch */
    g_assert_cmpint(sql_int(f,
        "SELECT count(*) FROM threads t WHERE t.last_date IS NOT (SELECT max(m.date)"
        " FROM thread_nodes n JOIN messages m ON m.id = n.msg WHERE n.thread = t.id"
        " AND n.status = 'accepted')"), ==, 0);
    g_assert_cmpint(sql_int(f,
        "SELECT count(*) FROM thread_nodes n JOIN messages m ON m.id = n.msg"
        " WHERE n.date IS NOT m.date"), ==, 0);
    /* deleting the group leaves no month behind */
    g_autoptr(GArray) removed = NULL, kept = NULL;
    g_assert_cmpint(cor_store_begin(f->st), ==, COR_OK);
    g_assert_cmpint(cor_store_group_delete(f->st, f->group, &removed, &kept), ==, COR_OK);
    g_assert_cmpint(cor_store_commit(f->st), ==, COR_OK);
    g_assert_cmpint(sql_int(f, "SELECT count(*) FROM group_months"), ==, 0);
    cor_intake_clear(&a);
    cor_intake_clear(&b);
    cor_intake_clear(&c);
    cor_intake_clear(&r);
}

static void
test_rollback_leaves_nothing(fixture_t *f, gconstpointer data)
{
    cor_message_t *m = make_msg("gone@e", NULL, NULL, NULL, NULL, NULL, 1);
    const char *raw = "Message-ID: <gone@e>\n\nbody\n";
    char sha[65];
    cor_sha256_hex(raw, strlen(raw), sha);
    cor_intake_t in;
    g_assert_cmpint(cor_store_begin(f->st), ==, COR_OK);
    g_assert_cmpint(cor_store_add_message(f->st, f->group, raw, strlen(raw), sha, 1, m, &in), ==, COR_OK);
    cor_store_rollback(f->st);
    cor_intake_clear(&in);
    cor_message_free(m);
    int64_t n;
    g_assert_cmpint(cor_store_message_count(f->st, &n), ==, COR_OK);
    g_assert_cmpint(n, ==, 0);
    g_assert_cmpint(thread_of(f, "gone@e"), ==, -1);
}

/* Writes `n` meta rows of ~3 KB each, one commit each (WAL frames). */
static void
write_rows(cor_store_t *st, int n, int from)
{
    g_autofree char *v = g_strnfill(3000, 'x');
    for (int i = 0; i < n; i++) {
        g_autofree char *k = g_strdup_printf("wal-%d", from + i);
        g_assert_cmpint(cor_store_meta_set(st, k, v), ==, COR_OK);
    }
}

static int64_t
wal_size(fixture_t *f)
{
    g_autofree char *path = g_build_filename(f->dir, "corridor.db-wal", NULL);
    GStatBuf sb;
    return g_stat(path, &sb) == 0 ? (int64_t) sb.st_size : 0;
}

/* A reader holding a snapshot keeps a RESTART checkpoint from rewinding the
 * WAL (it gives up after its wait, writers unharmed); once the reader is
 * gone it rewinds, and the next writes start the WAL from its beginning. */
static void
test_checkpoint_restart(fixture_t *f, gconstpointer data)
{
    g_autofree char *path = g_build_filename(f->dir, "corridor.db", NULL);
    g_autoptr(cor_store_t) reader = NULL, ck = NULL;
    g_assert_cmpint(cor_store_open(path, false, &reader, NULL), ==, COR_OK);
    g_assert_cmpint(cor_store_open(path, false, &ck, NULL), ==, COR_OK);
    cor_store_set_autocheckpoint(f->st, 0);
    write_rows(f->st, 200, 0);
    g_assert_cmpint(cor_store_begin_read(reader), ==, COR_OK);   /* a snapshot in the WAL */
    write_rows(f->st, 50, 200);
    int64_t grown = wal_size(f);
    g_assert_cmpint(grown, >, 250 * 3000);
    bool restarted = true;
    gint64 t0 = g_get_monotonic_time();
    g_assert_cmpint(cor_store_checkpoint_restart(ck, 50, &restarted), ==, COR_OK);
    g_assert_false(restarted);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 2 * G_USEC_PER_SEC);
    write_rows(f->st, 1, 250);                                    /* writers still write */
    grown = wal_size(f);
    cor_store_end_read(reader);
    g_assert_cmpint(cor_store_checkpoint_restart(ck, 50, &restarted), ==, COR_OK);
    g_assert_true(restarted);
    write_rows(f->st, 5, 251);                                    /* from the WAL's start */
    int frames = -1;
    g_assert_cmpint(cor_store_checkpoint(ck, &frames, NULL), ==, COR_OK);
    g_assert_cmpint(frames, <, 50);
    g_assert_cmpint(wal_size(f), ==, grown);                      /* rewound, not grown */
    g_autofree char *v = NULL;
    g_assert_cmpint(cor_store_meta_get(f->st, "wal-255", &v), ==, COR_OK);
    g_assert_cmpint(strlen(v), ==, 3000);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cor_message_init();
#define ADD(path, fn) g_test_add("/store/" path, fixture_t, NULL, setup, fn, teardown)
    ADD("schema-version", test_schema_version);
    ADD("checkpoint-restart", test_checkpoint_restart);
    ADD("groups", test_groups);
    ADD("visibility", test_visibility);
    ADD("duplicate-is-idempotent", test_duplicate_is_idempotent);
    ADD("same-post-two-groups", test_same_post_two_groups);
    ADD("raw-head", test_raw_head);
    ADD("work-queue", test_work_queue);
    ADD("posts-queued", test_posts_queued);
    ADD("archive-listings", test_archive_listings);
    ADD("rollback-leaves-nothing", test_rollback_leaves_nothing);
    ADD("thread/reply-joins-parent", test_reply_joins_parent);
    ADD("thread/any-arrival-order", test_any_arrival_order);
    ADD("thread/merge-reports-moved", test_merge_reports_moved);
    ADD("thread/loop-broken", test_loop_broken);
    ADD("thread/self-reference", test_self_reference);
    ADD("thread/new-ghost-cannot-close-loop", test_new_ghost_cannot_close_loop);
    ADD("thread/parent-priority", test_parent_priority);
    ADD("thread/ghost-root", test_ghost_root);
    ADD("thread/thread-index-rule", test_thread_index_rule);
    ADD("thread/foreach-lists-posts-only", test_foreach_lists_posts_only);
    return g_test_run();
}
