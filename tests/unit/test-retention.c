/* Unit tests for records/retention and records/hold: the schedule syntax,
 * the cutoff date (calendar months and leap days), schedules from the
 * config, and a plan over a hand-made store with a known answer — the age
 * rule (receipt when the date is in the future), a message in several
 * groups, holds — then approval by another operator and the run (thread
 * nodes become ghosts, the held message stays). */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/audit.h"
#include "core/config.h"
#include "core/message.h"
#include "core/store_internal.h"
#include "core/store.h"
#include "records/hold.h"
#include "records/records.h"
#include "records/retention.h"

static int64_t
utc(int y, int mo, int d)
{
    g_autoptr(GDateTime) t = g_date_time_new_utc(y, mo, d, 12, 0, 0);
    return g_date_time_to_unix(t);
}

static void
test_parse(void)
{
    static const struct {
        const char *text;
        bool ok;
        int64_t count;
        char unit;
    } cases[] = {
        { "6y", true, 6, 'y' },          { "18m", true, 18, 'm' },
        { "90d", true, 90, 'd' },        { "4w", true, 4, 'w' },
        { " 2Y ", true, 2, 'y' },        { "permanent", true, 0, 'p' },
        { "PERMANENT", true, 0, 'p' },   { "1000y", true, 1000, 'y' },
        { "0y", false, 0, 0 },           { "1001y", false, 0, 0 },
        { "6", false, 0, 0 },            { "y", false, 0, 0 },
        { "6 y", false, 0, 0 },          { "6yy", false, 0, 0 },
        { "-6y", false, 0, 0 },          { "12h", false, 0, 0 },
        { "6 years", false, 0, 0 },      { "", false, 0, 0 },
        { "forever", false, 0, 0 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        int64_t n = -1;
        char unit = 0;
        bool ok = cor_config_parse_retention(cases[i].text, &n, &unit);
        if (ok != cases[i].ok || (ok && (n != cases[i].count || unit != cases[i].unit)))
            g_error("'%s': got %d %" G_GINT64_FORMAT " %c", cases[i].text, ok, n, unit ? unit : '-');
    }
}

static void
test_cutoff(void)
{
    static const struct {
        const char *schedule;
        int y, mo, d;            /* now, at 12:00 UTC */
        int ey, emo, ed;         /* the cutoff expected, at 12:00 UTC */
    } cases[] = {
        { "6y", 2025, 6, 1, 2019, 6, 1 },
        { "1y", 2024, 2, 29, 2023, 2, 28 },     /* no 29 February in 2023 */
        { "4y", 2024, 2, 29, 2020, 2, 29 },
        { "18m", 2025, 6, 1, 2023, 12, 1 },
        { "1m", 2025, 3, 31, 2025, 2, 28 },     /* no 31 February */
        { "90d", 2025, 3, 1, 2024, 12, 1 },
        { "2w", 2025, 1, 10, 2024, 12, 27 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        int64_t c = 0;
        g_assert_true(cor_retention_cutoff(cases[i].schedule,
                                           utc(cases[i].y, cases[i].mo, cases[i].d), &c));
        int64_t want = utc(cases[i].ey, cases[i].emo, cases[i].ed);
        if (c != want)
            g_error("%s from %04d-%02d-%02d: %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT,
                    cases[i].schedule, cases[i].y, cases[i].mo, cases[i].d, c, want);
    }
    int64_t c = 0;
    g_assert_false(cor_retention_cutoff("permanent", utc(2025, 1, 1), &c));
    g_assert_false(cor_retention_cutoff("nonsense", utc(2025, 1, 1), &c));
}

static char *
write_conf(const char *text)
{
    char *path = NULL;
    int fd = g_file_open_tmp("corridor-retention-XXXXXX.conf", &path, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    close(fd);
    return path;
}

static void
test_policy(void)
{
    g_autofree char *path = write_conf("[retention]\nplanning = 6Y\ndefault = 2y\nsocial = permanent\n");
    g_autoptr(cor_config_t) cfg = NULL;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_config_load(path, true, &cfg, &err), ==, COR_OK);
    g_autoptr(cor_retention_policy_t) p = NULL;
    g_assert_cmpint(cor_retention_policy_new(cfg, &p, &err), ==, COR_OK);
    g_assert_cmpstr(cor_retention_schedule_of(p, "planning"), ==, "6y");
    g_assert_cmpstr(cor_retention_schedule_of(p, "social"), ==, "permanent");
    g_assert_cmpstr(cor_retention_schedule_of(p, "other"), ==, "2y");
    const char *const *g = cor_retention_policy_groups(p);
    g_assert_cmpstr(g[0], ==, "planning");
    g_assert_cmpstr(g[1], ==, "social");
    g_assert_null(g[2]);
    g_unlink(path);

    /* no [retention]: everything permanent */
    g_autoptr(cor_retention_policy_t) none = NULL;
    g_assert_cmpint(cor_retention_policy_new(NULL, &none, &err), ==, COR_OK);
    g_assert_cmpstr(cor_retention_schedule_of(none, "planning"), ==, "permanent");

    /* errors name the file and line */
    static const struct { const char *text; const char *expect; } bad[] = {
        { "[retention]\nplanning = 6 years\n", "line 2: [retention] planning: '6 years' is not a retention schedule" },
        { "[core]\n[retention]\ndefault = 1y\nsocial = 2y;3y\n", "line 4: [retention] social: '2y;3y'" },
        { "[retention]\nBad_Name! = 1y\n", "[retention] Bad_Name!: 'Bad_Name!' is not a group name" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *bp = write_conf(bad[i].text);
        g_autoptr(cor_config_t) bc = NULL;
        g_autofree char *e = NULL;
        g_assert_cmpint(cor_config_load(bp, true, &bc, &e), ==, COR_ERR_CONFIG);
        if (!strstr(e, bad[i].expect) || !strstr(e, bp))
            g_error("case %zu: '%s' lacks '%s'", i, e, bad[i].expect);
        g_unlink(bp);
    }
}

/* ---- a plan over a hand-made store ---- */

typedef struct fixture {
    char *dir;
    char *path;
    cor_store_t *st;
    int64_t a, b, c;           /* groups: a 1y, b permanent, c 1y */
    cor_retention_policy_t *pol;
} fixture_t;

static void
setup(fixture_t *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("corridor-retention-XXXXXX", NULL);
    f->path = g_build_filename(f->dir, "corridor.db", NULL);
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_store_open(f->path, true, &f->st, &err), ==, COR_OK);
    /* the planner's login, as core/audit.h records it (two people: two logins) */
    cor_audit_set_login(1001, "alice-login");
    g_assert_cmpint(cor_store_group_create(f->st, "a", "A", COR_VISIBILITY_PUBLIC, &f->a), ==, COR_OK);
    g_assert_cmpint(cor_store_group_create(f->st, "b", "B", COR_VISIBILITY_PUBLIC, &f->b), ==, COR_OK);
    g_assert_cmpint(cor_store_group_create(f->st, "c", "C", COR_VISIBILITY_PRIVATE, &f->c), ==, COR_OK);
    g_autofree char *conf = g_build_filename(f->dir, "corridor.conf", NULL);
    g_assert_true(g_file_set_contents(conf, "[retention]\na = 1y\nc = 1y\n", -1, NULL));
    g_autoptr(cor_config_t) cfg = NULL;
    g_assert_cmpint(cor_config_load(conf, true, &cfg, &err), ==, COR_OK);
    g_assert_cmpint(cor_retention_policy_new(cfg, &f->pol, &err), ==, COR_OK);
}

static void
teardown(fixture_t *f, gconstpointer data)
{
    cor_retention_policy_free(f->pol);
    cor_store_close(f->st);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(f->dir);
    g_free(f->path);
    cor_audit_set_login(-1, NULL);
}

/* Stores message `id` (dated `date`, received at `received`, replying to
 * `parent` when not NULL) in `group`. */
static void
add(fixture_t *f, int64_t group, const char *id, const char *parent, int64_t date,
    int64_t received)
{
    cor_message_t *m = g_new0(cor_message_t, 1);
    m->message_id = g_strdup(id);
    m->subject = g_strdup("subject");
    m->from = g_strdup("A <a@example.org>");
    m->from_name = g_strdup("A");
    m->from_addr = g_strdup("a@example.org");
    m->to = g_strdup("");
    m->cc = g_strdup("");
    m->date = date;
    m->in_reply_to = g_strdup(parent ? parent : "");
    m->references = g_ptr_array_new_with_free_func(g_free);
    if (parent)
        g_ptr_array_add(m->references, g_strdup(parent));
    m->thread_index = g_strdup("");
    m->thread_topic = g_strdup("");
    m->list_id = g_strdup("");
    m->body = g_strdup("body");
    m->new_text = g_strdup("body");
    m->quoted_text = g_strdup("");
    m->signature = g_strdup("");
    m->attachment_text = g_strdup("");
    m->attachments = g_ptr_array_new();
    m->warnings = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *raw = g_strdup_printf("Message-ID: <%s>\n\nbody\n", id);
    char sha[65];
    cor_sha256_hex(raw, strlen(raw), sha);
    cor_intake_t in = { 0 };
    g_assert_cmpint(cor_store_begin(f->st), ==, COR_OK);
    cor_status_t s = cor_store_add_message(f->st, group, raw, strlen(raw), sha, received, m, &in);
    g_assert_true(s == COR_OK || s == COR_DUPLICATE);
    g_assert_cmpint(cor_store_commit(f->st), ==, COR_OK);
    cor_intake_clear(&in);
    cor_message_free(m);
}

static const cor_retention_item_t *
item(const cor_retention_plan_t *p, const char *id)
{
    for (guint i = 0; i < p->items->len; i++) {
        const cor_retention_item_t *it = p->items->pdata[i];
        if (strcmp(it->message_id, id) == 0)
            return it;
    }
    return NULL;
}

static void
test_plan_and_run(fixture_t *f, gconstpointer data)
{
    int64_t now = utc(2025, 6, 1);
    int64_t old = utc(2020, 1, 1);
    add(f, f->a, "only-a@x", NULL, old, old);
    add(f, f->a, "a-and-b@x", NULL, old, old);        /* b is permanent: kept */
    add(f, f->b, "a-and-b@x", NULL, old, old);
    add(f, f->a, "a-and-c@x", NULL, old, old);        /* due in both: due */
    add(f, f->c, "a-and-c@x", NULL, old, old);
    add(f, f->a, "recent@x", NULL, utc(2025, 5, 1), utc(2025, 5, 1));
    add(f, f->a, "future-old@x", NULL, utc(2030, 1, 1), old);              /* age from receipt: due */
    add(f, f->a, "future-new@x", NULL, utc(2030, 1, 1), utc(2025, 5, 1));  /* not due */
    add(f, f->a, "held@x", NULL, old, old);
    add(f, f->a, "reply@x", "only-a@x", utc(2025, 5, 2), utc(2025, 5, 2)); /* keeps the thread */
    add(f, f->a, "exactly@x", NULL, utc(2024, 6, 1), utc(2024, 6, 1));     /* due on the day */

    g_autofree char *err = NULL;
    int64_t hold = 0, n = 0;
    g_assert_cmpint(cor_hold_place(f->st, "alice", "message", "<held@x>", NULL, "litigation",
                                   now, &hold, &n, &err), ==, COR_OK);
    g_assert_cmpint(n, ==, 1);

    g_autoptr(cor_retention_plan_t) p = NULL;
    g_assert_cmpint(cor_retention_plan_make(f->st, f->pol, "alice", now, true, &p, &err), ==, COR_OK);
    g_assert_cmpint(p->id, ==, 1);
    g_assert_cmpint(p->items->len, ==, 5);
    g_assert_cmpint(p->n_planned, ==, 4);
    g_assert_cmpint(p->n_held, ==, 1);
    g_assert_cmpstr(item(p, "only-a@x")->state, ==, "planned");
    g_assert_cmpstr(item(p, "a-and-c@x")->groups, ==, "a, c");
    g_assert_cmpstr(item(p, "a-and-c@x")->schedule, ==, "1y, 1y");
    g_assert_cmpstr(item(p, "future-old@x")->state, ==, "planned");
    g_assert_cmpint(item(p, "future-old@x")->date, ==, old);
    g_assert_cmpstr(item(p, "exactly@x")->state, ==, "planned");
    g_assert_cmpstr(item(p, "held@x")->state, ==, "held");
    g_assert_cmpstr(item(p, "held@x")->note, ==, "hold 1");
    g_assert_null(item(p, "a-and-b@x"));
    g_assert_null(item(p, "recent@x"));
    g_assert_null(item(p, "future-new@x"));
    g_assert_null(item(p, "reply@x"));
    /* per group: a has 5 due, 1 held, 1 waiting (kept by b) */
    for (guint i = 0; i < p->groups->len; i++) {
        cor_retention_group_t *g = p->groups->pdata[i];
        if (strcmp(g->group, "a") == 0) {
            g_assert_cmpint(g->due, ==, 5);
            g_assert_cmpint(g->held, ==, 1);
            g_assert_cmpint(g->waiting, ==, 1);
            g_assert_cmpint(g->oldest, ==, old);
            g_assert_cmpint(g->newest, ==, utc(2024, 6, 1));
        } else if (strcmp(g->group, "b") == 0) {
            g_assert_cmpstr(g->schedule, ==, "permanent");
            g_assert_cmpint(g->due, ==, 0);
        } else {
            g_assert_cmpint(g->due, ==, 1);
        }
    }

    /* approval: not by the planner, not twice; the run only once approved */
    g_autoptr(cor_retention_plan_t) done = NULL;
    g_autoptr(GArray) gone = NULL;
    g_autoptr(GPtrArray) groups = NULL;
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(cor_retention_run(f->st, f->pol, "carol", 1, now, &done, &gone, &groups, &err),
                    ==, COR_ERR_INVALID);
    g_clear_pointer(&err, g_free);
    /* the plan was made by login 1001 (setup); the same login cannot approve, whatever
     * --operator name it gives, nor another login under the planner's name */
    g_assert_cmpint(cor_retention_approve(f->st, "alice", 1, now, false, &err), ==, COR_ERR_DENIED);
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(cor_retention_approve(f->st, "bob", 1, now, false, &err), ==, COR_ERR_DENIED);
    g_assert_nonnull(strstr(err, "logged in as alice-login"));
    g_clear_pointer(&err, g_free);
    cor_audit_set_login(1002, "bob-login");
    g_assert_cmpint(cor_retention_approve(f->st, "alice", 1, now, false, &err), ==, COR_ERR_DENIED);
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(cor_retention_approve(f->st, "bob", 1, now, false, &err), ==, COR_OK);
    g_assert_cmpint(cor_retention_approve(f->st, "carol", 1, now, false, &err), ==, COR_ERR_INVALID);
    g_clear_pointer(&err, g_free);
    /* the approval records the planner's login and its own */
    {
        sqlite3 *db = NULL;
        g_assert_cmpint(sqlite3_open(f->path, &db), ==, SQLITE_OK);
        sqlite3_stmt *q = NULL;
        g_assert_cmpint(sqlite3_prepare_v2(db, "SELECT login_uid || ' ' || login || ' ' || detail"
                                           " FROM audit WHERE action = 'retention.approve'", -1,
                                           &q, NULL), ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_step(q), ==, SQLITE_ROW);
        g_assert_cmpstr((const char *) sqlite3_column_text(q, 0), ==,
                        "1002 bob-login {\"plan\":1,\"planned_by\":\"alice\",\"planner_login\":"
                        "\"alice-login\",\"planned\":4,\"held\":1}");
        sqlite3_finalize(q);
        sqlite3_close(db);
    }
    g_assert_cmpint(cor_retention_run(f->st, f->pol, "carol", 1, now, &done, &gone, &groups, &err),
                    ==, COR_OK);
    g_assert_cmpint(gone->len, ==, 4);
    g_assert_cmpint(done->n_disposed, ==, 4);
    g_assert_cmpint(done->n_held, ==, 1);
    g_assert_cmpuint(groups->len, ==, 2);
    g_assert_cmpstr(groups->pdata[0], ==, "a");
    g_assert_cmpstr(groups->pdata[1], ==, "c");
    g_assert_nonnull(strstr(done->certificate, "\"approved_by\" : \"bob\""));
    g_assert_nonnull(strstr(done->certificate, "\"run_by\" : \"carol\""));

    /* the store: disposed gone, held and the rest kept; the reply's parent a ghost */
    static const struct { const char *id; guint rows; } after[] = {
        { "only-a@x", 0 }, { "a-and-c@x", 0 }, { "future-old@x", 0 }, { "exactly@x", 0 },
        { "held@x", 1 }, { "a-and-b@x", 1 }, { "recent@x", 1 }, { "future-new@x", 1 },
        { "reply@x", 1 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(after); i++) {
        g_autoptr(GArray) rows = NULL;
        g_assert_cmpint(cor_store_message_find(f->st, after[i].id, &rows), ==, COR_OK);
        if (rows->len != after[i].rows)
            g_error("%s: %u rows, expected %u", after[i].id, rows->len, after[i].rows);
    }
    g_autoptr(GPtrArray) posts = NULL;
    g_autoptr(GArray) threads = NULL;
    g_autoptr(GArray) rows = NULL;
    g_assert_cmpint(cor_store_message_find(f->st, "reply@x", &rows), ==, COR_OK);
    g_assert_cmpint(cor_store_message_groups(f->st, g_array_index(rows, int64_t, 0), &posts,
                                             &threads), ==, COR_OK);
    g_assert_cmpuint(posts->len, ==, 1);

    /* a second run is refused; a new plan finds only the held message */
    g_autoptr(cor_retention_plan_t) again = NULL;
    g_autoptr(GArray) gone2 = NULL;
    g_autoptr(GPtrArray) groups2 = NULL;
    g_assert_cmpint(cor_retention_run(f->st, f->pol, "carol", 1, now, &again, &gone2, &groups2, &err),
                    ==, COR_ERR_INVALID);
    g_autoptr(cor_retention_plan_t) p2 = NULL;
    g_assert_cmpint(cor_retention_plan_make(f->st, f->pol, "alice", now, true, &p2, &err), ==, COR_OK);
    g_assert_cmpint(p2->id, ==, 0);    /* only held: nothing recorded */
    g_assert_cmpint(p2->n_held, ==, 1);

    /* released: the next plan disposes of it */
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(cor_hold_release(f->st, "alice", hold, "", now, &err), ==, COR_ERR_INVALID);
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(cor_hold_release(f->st, "alice", hold, "settled", now, &err), ==, COR_OK);
    g_assert_cmpint(cor_hold_release(f->st, "alice", hold, "settled", now, &err), ==, COR_ERR_INVALID);
    g_autoptr(cor_retention_plan_t) p3 = NULL;
    g_assert_cmpint(cor_retention_plan_make(f->st, f->pol, "alice", now, true, &p3, &err), ==, COR_OK);
    g_assert_cmpint(p3->id, ==, 2);
    g_assert_cmpint(p3->n_planned, ==, 1);
    g_assert_cmpstr(item(p3, "held@x")->state, ==, "planned");
}

/* A hold placed after the plan: the run keeps the message and says so. */
static void
test_held_after_plan(fixture_t *f, gconstpointer data)
{
    int64_t now = utc(2025, 6, 1), old = utc(2020, 1, 1);
    add(f, f->a, "one@x", NULL, old, old);
    add(f, f->a, "two@x", NULL, old, old);
    g_autofree char *err = NULL;
    g_autoptr(cor_retention_plan_t) p = NULL;
    g_assert_cmpint(cor_retention_plan_make(f->st, f->pol, "alice", now, true, &p, &err), ==, COR_OK);
    cor_audit_set_login(1002, "bob-login");
    g_assert_cmpint(cor_retention_approve(f->st, "bob", p->id, now, false, &err), ==, COR_OK);
    int64_t hold = 0;
    g_assert_cmpint(cor_hold_place(f->st, "alice", "group", "a", NULL, "new claim", now, &hold,
                                   NULL, &err), ==, COR_OK);
    g_autoptr(cor_retention_plan_t) done = NULL;
    g_autoptr(GArray) gone = NULL;
    g_autoptr(GPtrArray) groups = NULL;
    g_assert_cmpint(cor_retention_run(f->st, f->pol, "bob", p->id, now, &done, &gone, &groups, &err),
                    ==, COR_OK);
    g_assert_cmpint(gone->len, ==, 0);
    g_assert_cmpint(done->n_held, ==, 2);
    g_assert_cmpstr(item(done, "one@x")->note, ==, "hold 1");
    bool held = false;
    g_autoptr(GArray) rows = NULL;
    g_assert_cmpint(cor_store_message_find(f->st, "one@x", &rows), ==, COR_OK);
    g_assert_cmpint(cor_hold_check(f->st, g_array_index(rows, int64_t, 0), &held, NULL, &err), ==, COR_OK);
    g_assert_true(held);
    /* and group deletion is refused, naming the hold */
    g_autoptr(GArray) removed = NULL, kept = NULL;
    g_assert_cmpint(cor_store_begin(f->st), ==, COR_OK);
    g_assert_cmpint(cor_store_group_delete(f->st, f->a, &removed, &kept), ==, COR_ERR_HELD);
    cor_store_rollback(f->st);
    g_assert_cmpstr(cor_store_error(f->st), ==,
                    "group a has 2 messages under legal hold (hold 1); release them first "
                    "('corridor hold list', 'corridor hold release')");
    /* an empty group under a group hold too; released, it goes */
    g_assert_cmpint(cor_hold_place(f->st, "alice", "group", "b", NULL, "to come", now, &hold,
                                   NULL, &err), ==, COR_OK);
    g_autoptr(GArray) removed2 = NULL, kept2 = NULL;
    g_assert_cmpint(cor_store_begin(f->st), ==, COR_OK);
    g_assert_cmpint(cor_store_group_delete(f->st, f->b, &removed2, &kept2), ==, COR_ERR_HELD);
    cor_store_rollback(f->st);
    g_assert_cmpstr(cor_store_error(f->st), ==,
                    "group b is under legal hold (hold 2); release it first ('corridor hold release')");
    g_assert_cmpint(cor_hold_release(f->st, "alice", hold, "dropped", now, &err), ==, COR_OK);
    g_assert_cmpint(cor_store_begin(f->st), ==, COR_OK);
    g_assert_cmpint(cor_store_group_delete(f->st, f->b, &removed2, &kept2), ==, COR_OK);
    g_assert_cmpint(cor_store_commit(f->st), ==, COR_OK);
    g_autoptr(cor_hold_t) h = NULL;
    g_assert_cmpint(cor_hold_get(f->st, hold, &h, &err), ==, COR_OK);
    g_assert_cmpstr(h->target, ==, "b");
    g_assert_cmpint(h->messages, ==, 0);
}

/* [records] single_officer: the planner approves their own plan only when
 * asked to, and the approval and certificate say so. */
static void
test_single_officer(fixture_t *f, gconstpointer data)
{
    int64_t now = utc(2025, 6, 1), old = utc(2020, 1, 1);
    add(f, f->a, "one@x", NULL, old, old);
    g_autofree char *err = NULL;
    g_autoptr(cor_retention_plan_t) p = NULL;
    g_assert_cmpint(cor_retention_plan_make(f->st, f->pol, "alice", now, true, &p, &err), ==, COR_OK);
    g_assert_cmpint(cor_retention_approve(f->st, "alice", p->id, now, false, &err), ==,
                    COR_ERR_DENIED);
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(cor_retention_approve(f->st, "alice", p->id, now, true, &err), ==, COR_OK);
    g_autoptr(cor_retention_plan_t) done = NULL;
    g_autoptr(GArray) gone = NULL;
    g_autoptr(GPtrArray) groups = NULL;
    g_assert_cmpint(cor_retention_run(f->st, f->pol, "alice", p->id, now, &done, &gone, &groups,
                                      &err), ==, COR_OK);
    g_assert_cmpint(gone->len, ==, 1);
    if (!strstr(done->certificate, "\"single_officer_approval\" : true"))
        g_error("certificate: %s", done->certificate);
    /* a plan approved by another person says nothing of the kind */
    add(f, f->a, "two@x", NULL, old, old);
    g_autoptr(cor_retention_plan_t) p2 = NULL;
    g_assert_cmpint(cor_retention_plan_make(f->st, f->pol, "alice", now, true, &p2, &err), ==, COR_OK);
    cor_audit_set_login(1002, "bob-login");
    g_assert_cmpint(cor_retention_approve(f->st, "bob", p2->id, now, true, &err), ==, COR_OK);
    g_autoptr(cor_retention_plan_t) done2 = NULL;
    g_autoptr(GArray) gone2 = NULL;
    g_autoptr(GPtrArray) groups2 = NULL;
    g_assert_cmpint(cor_retention_run(f->st, f->pol, "bob", p2->id, now, &done2, &gone2, &groups2,
                                      &err), ==, COR_OK);
    g_assert_null(strstr(done2->certificate, "single_officer"));
}

/* Schema v7's backstop: with a group hold live, the thread_nodes links of
 * the group's posts cannot be cleared, moved or deleted, nor the group row
 * deleted — so the message cannot be deleted by unlinking it first (the
 * path retention and group deletion take). */
static void
test_group_hold_backstop(fixture_t *f, gconstpointer data)
{
    int64_t now = utc(2025, 6, 1), old = utc(2020, 1, 1);
    add(f, f->a, "one@x", NULL, old, old);
    add(f, f->b, "two@x", NULL, old, old);
    g_autofree char *err = NULL;
    int64_t hold = 0;
    g_assert_cmpint(cor_hold_place(f->st, "alice", "group", "a", NULL, "claim", now, &hold, NULL,
                                   &err), ==, COR_OK);
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open(f->path, &db), ==, SQLITE_OK);
    static const char *const refused[] = {
        "UPDATE thread_nodes SET msg = NULL WHERE message_id = 'one@x';"
        " DELETE FROM messages WHERE message_id = 'one@x'",
        "UPDATE thread_nodes SET group_id = (SELECT id FROM groups WHERE name = 'b')"
        " WHERE message_id = 'one@x'",
        "DELETE FROM thread_nodes WHERE message_id = 'one@x'",
        "DELETE FROM messages WHERE message_id = 'one@x'",
        "DELETE FROM groups WHERE name = 'a'",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
        char *msg = NULL;
        g_assert_cmpint(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), ==, SQLITE_OK);
        int rc = sqlite3_exec(db, refused[i], NULL, NULL, &msg);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        if (rc == SQLITE_OK || !msg || !strstr(msg, "under legal hold"))
            g_error("not refused: %s (%s)", refused[i], msg ? msg : "ok");
        sqlite3_free(msg);
    }
    /* the library's own error for it: COR_ERR_HELD */
    g_assert_cmpint(cor_store_begin(f->st), ==, COR_OK);
    sqlite3_stmt *q = cor_store_stmt(f->st, "UPDATE thread_nodes SET msg = NULL"
                                            " WHERE message_id = 'one@x'");
    g_assert_nonnull(q);
    g_assert_cmpint(cor_store_step_done(f->st, q, "cannot unlink"), ==, COR_ERR_HELD);
    g_assert_nonnull(strstr(cor_store_error(f->st), "message under legal hold (group hold)"));
    cor_store_rollback(f->st);
    /* the other group's post and a ghost placement are not held */
    g_assert_cmpint(sqlite3_exec(db, "BEGIN; UPDATE thread_nodes SET msg = NULL WHERE message_id ="
                                     " 'two@x'; ROLLBACK", NULL, NULL, NULL), ==, SQLITE_OK);
    /* released, the links may go again */
    g_assert_cmpint(cor_hold_release(f->st, "alice", hold, "settled", now, &err), ==, COR_OK);
    g_assert_cmpint(sqlite3_exec(db, "BEGIN; UPDATE thread_nodes SET msg = NULL WHERE message_id ="
                                     " 'one@x'; DELETE FROM messages WHERE message_id = 'one@x';"
                                     " ROLLBACK", NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close(db);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/retention/parse", test_parse);
    g_test_add_func("/retention/cutoff", test_cutoff);
    g_test_add_func("/retention/policy", test_policy);
    g_test_add("/retention/plan-and-run", fixture_t, NULL, setup, test_plan_and_run, teardown);
    g_test_add("/retention/held-after-plan", fixture_t, NULL, setup, test_held_after_plan, teardown);
    g_test_add("/retention/single-officer", fixture_t, NULL, setup, test_single_officer, teardown);
    g_test_add("/retention/group-hold-backstop", fixture_t, NULL, setup, test_group_hold_backstop,
               teardown);
    return g_test_run();
}
