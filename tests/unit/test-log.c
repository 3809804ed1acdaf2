/* Unit tests for core/log: repeated lines.  stderr goes to a file and the
 * window's clock is a fake one.  The first line is written; its repeats
 * within the window are not, whatever their session, and once the window
 * has passed one summary line gives their number, before the line is written
 * again; a different text, or the same text at another level, is written;
 * debug lines are all written; cor_log_fields lines are held back alike;
 * cor_log_flush writes what is pending; lines that share a repeating line's
 * set do not push it out, a line seen once is pushed out by newer ones; a
 * set full of repeating lines, or all 64 texts taken, let new lines through
 * unlimited; a window of 0 (or
 * $CORRIDOR_LOG_REPEAT_WINDOW=0) writes everything, and the variable sets
 * the window; many threads logging one line at once write it once and the
 * summary counts every other. */
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

static gint64 fake_now;

static gint64
fake_clock(void)
{
    return __atomic_load_n(&fake_now, __ATOMIC_RELAXED);
}

static void
advance(double seconds)
{
    __atomic_add_fetch(&fake_now, (gint64) (seconds * G_USEC_PER_SEC), __ATOMIC_RELAXED);
}

typedef struct fixture {
    char *path;
    int saved_stderr;
} fixture_t;

static void
setup(fixture_t *f, gconstpointer data)
{
    int fd = g_file_open_tmp("corridor-log-XXXXXX", &f->path, NULL);
    g_assert_cmpint(fd, >=, 0);
    f->saved_stderr = dup(STDERR_FILENO);
    g_assert_cmpint(dup2(fd, STDERR_FILENO), ==, STDERR_FILENO);
    close(fd);
    fake_now = 1000 * G_USEC_PER_SEC;
    cor_log_set_clock(fake_clock);
    cor_log_set_level(COR_LOG_INFO);
    cor_log_set_repeat_window(60);
}

static void
teardown(fixture_t *f, gconstpointer data)
{
    cor_log_set_repeat_window(0);   /* writes and forgets whatever is pending */
    cor_log_set_clock(NULL);
    dup2(f->saved_stderr, STDERR_FILENO);
    close(f->saved_stderr);
    g_unlink(f->path);
    g_free(f->path);
}

/* The lines written since the last call, joined by "|" (transfer full). */
static char *
logged(fixture_t *f)
{
    g_autofree char *text = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(f->path, &text, &len, NULL));
    g_assert_cmpint(ftruncate(STDERR_FILENO, 0), ==, 0);
    g_assert_cmpint(lseek(STDERR_FILENO, 0, SEEK_SET), ==, 0);
    if (len > 0 && text[len - 1] == '\n')
        text[len - 1] = '\0';
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    return g_strjoinv("|", lines);
}

static void
test_repeats(fixture_t *f, gconstpointer data)
{
    cor_log_error("indexing stopped: %s (will retry)", "no space");
    g_autofree char *first = logged(f);
    g_assert_cmpstr(first, ==, "corridor: error: indexing stopped: no space (will retry)");
    for (int i = 0; i < 19; i++) {
        advance(3);
        cor_log_error("indexing stopped: %s (will retry)", "no space");
    }
    g_autofree char *held = logged(f);
    g_assert_cmpstr(held, ==, "");
    /* the window passes: the summary, then the line again, a new window */
    advance(4);
    cor_log_error("indexing stopped: %s (will retry)", "no space");
    g_autofree char *next = logged(f);
    g_assert_cmpstr(next, ==,
                    "corridor: error: indexing stopped: no space (will retry) (repeated 19 times"
                    " in the last 61 s)|corridor: error: indexing stopped: no space (will retry)");
    advance(1);
    cor_log_error("indexing stopped: %s (will retry)", "no space");
    advance(60);
    cor_log_tick();
    g_autofree char *one = logged(f);
    g_assert_cmpstr(one, ==, "corridor: error: indexing stopped: no space (will retry)"
                             " (repeated 1 time in the last 61 s)");
    /* nothing was held back since: the tick writes nothing more */
    advance(120);
    cor_log_tick();
    g_autofree char *none = logged(f);
    g_assert_cmpstr(none, ==, "");
}

static void
test_what_is_the_same(fixture_t *f, gconstpointer data)
{
    cor_log(COR_LOG_WARNING, "3f2a.1", "cannot record %d results: locked", 4);
    cor_log(COR_LOG_WARNING, "3f2a.2", "cannot record %d results: locked", 4);  /* session */
    cor_log(COR_LOG_WARNING, NULL, "cannot record %d results: locked", 4);
    cor_log(COR_LOG_WARNING, NULL, "cannot record %d results: locked", 5);      /* text */
    cor_log(COR_LOG_ERROR, NULL, "cannot record %d results: locked", 4);        /* level */
    g_autofree char *out = logged(f);
    g_assert_cmpstr(out, ==,
                    "corridor: warning: 3f2a.1: cannot record 4 results: locked|"
                    "corridor: warning: cannot record 5 results: locked|"
                    "corridor: error: cannot record 4 results: locked");
    cor_log_flush();
    g_autofree char *summary = logged(f);
    g_assert_cmpstr(summary, ==, "corridor: warning: cannot record 4 results: locked"
                                 " (repeated 2 times in the last 1 s)");
}

static void
test_debug_not_limited(fixture_t *f, gconstpointer data)
{
    cor_log_set_level(COR_LOG_DEBUG);
    for (int i = 0; i < 3; i++)
        cor_log_debug("indexed %d messages", 0);
    g_autofree char *out = logged(f);
    g_assert_cmpstr(out, ==, "corridor: debug: indexed 0 messages|"
                             "corridor: debug: indexed 0 messages|"
                             "corridor: debug: indexed 0 messages");
    cor_log_flush();
    g_autofree char *after = logged(f);
    g_assert_cmpstr(after, ==, "");
}

static void
test_fields(fixture_t *f, gconstpointer data)
{
    const char *fields[] = { "CORRIDOR_GROUP=planning", NULL };
    for (int i = 0; i < 4; i++)
        cor_log_fields(COR_LOG_WARNING, "9c.1", fields, "delivery of %s failed", "<a@b>");
    g_autofree char *out = logged(f);
    g_assert_cmpstr(out, ==, "corridor: warning: 9c.1: delivery of <a@b> failed");
    advance(60);
    cor_log_tick();
    g_autofree char *summary = logged(f);
    g_assert_cmpstr(summary, ==,
                    "corridor: warning: delivery of <a@b> failed (repeated 3 times in the last 60 s)");
}

/* log.c's set of a line: the test's copy of its hash (FNV-1a, 64 bits, of
 * the level and the text) and of its number of sets */
static guint
set_of(const char *text, cor_log_level_t level)
{
    guint64 h = 0xcbf29ce484222325ULL;
    h = (h ^ (guint64) (level + 1)) * 0x100000001b3ULL;
    for (const unsigned char *p = (const unsigned char *) text; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return (guint) ((h ? h : 1) % 256);
}

/* `n` error lines "PREFIX N" that fall in `set` (-1: each in a set of its
 * own) (transfer full) */
static GPtrArray *
lines_in_set(const char *prefix, int set, guint n)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    gboolean used[256] = { FALSE };
    for (int i = 0; out->len < n; i++) {
        char *t = g_strdup_printf("%s %d", prefix, i);
        guint s = set_of(t, COR_LOG_ERROR);
        if (set >= 0 ? s == (guint) set : !used[s]) {
            used[s] = TRUE;
            g_ptr_array_add(out, t);
        } else {
            g_free(t);
        }
    }
    return out;
}

/* Lines that share a set with a repeating line do not push it out; a line
 * seen once is pushed out by newer ones, and is then written again. */
static void
test_busy_set(fixture_t *f, gconstpointer data)
{
    const char *a = "outbound: cannot read the outbox: locked";
    int set = (int) set_of(a, COR_LOG_ERROR);
    g_autoptr(GPtrArray) others = lines_in_set("archive: rendered page", set, 9);
    cor_log_error("%s", a);
    cor_log_error("%s", a);
    for (guint i = 0; i < 8; i++)
        cor_log_error("%s", (char *) others->pdata[i]);
    cor_log_error("%s", a);
    g_autofree char *out = logged(f);
    g_auto(GStrv) lines = g_strsplit(out, "|", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 9);   /* a once, the 8 others */
    g_autofree char *first = g_strdup_printf("corridor: error: %s", a);
    g_assert_cmpstr(lines[0], ==, first);
    for (guint i = 0; i < 8; i++)
        g_assert_true(g_str_has_suffix(lines[i + 1], others->pdata[i]));
    cor_log_flush();
    g_autofree char *summary = logged(f);
    g_autofree char *want = g_strdup_printf("corridor: error: %s (repeated 2 times in the last 1 s)", a);
    g_assert_cmpstr(summary, ==, want);

    /* others[0] seen once, then three newer in its set and a fourth: pushed out */
    const char *b = others->pdata[0];
    cor_log_error("%s", b);
    for (guint i = 1; i <= 4; i++)
        cor_log_error("%s", (char *) others->pdata[i]);
    cor_log_error("%s", b);
    g_autofree char *again = logged(f);
    g_auto(GStrv) l2 = g_strsplit(again, "|", -1);
    g_assert_cmpuint(g_strv_length(l2), ==, 6);
    g_assert_true(g_str_has_suffix(l2[5], b));
}

/* A set full of repeating lines keeps them: a new line there is written
 * each time; and at most 64 lines keep their text, the repeats of others
 * are written. */
static void
test_table_full(fixture_t *f, gconstpointer data)
{
    g_autoptr(GPtrArray) four = lines_in_set("store: locked", 7, 5);
    for (guint i = 0; i < 4; i++) {
        cor_log_error("%s", (char *) four->pdata[i]);
        cor_log_error("%s", (char *) four->pdata[i]);
    }
    cor_log_error("%s", (char *) four->pdata[4]);
    cor_log_error("%s", (char *) four->pdata[4]);
    g_autofree char *out = logged(f);
    g_auto(GStrv) lines = g_strsplit(out, "|", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 6);   /* each of the four once, the fifth twice */
    cor_log_flush();
    g_autofree char *sums = logged(f);
    g_auto(GStrv) s = g_strsplit(sums, "|", -1);
    g_assert_cmpuint(g_strv_length(s), ==, 4);

    g_autoptr(GPtrArray) many = lines_in_set("index: cannot write shard", -1, 70);
    for (guint i = 0; i < many->len; i++) {
        cor_log_error("%s", (char *) many->pdata[i]);
        cor_log_error("%s", (char *) many->pdata[i]);
    }
    g_autofree char *out2 = logged(f);
    g_auto(GStrv) l2 = g_strsplit(out2, "|", -1);
    g_assert_cmpuint(g_strv_length(l2), ==, 70 + 6);
    cor_log_flush();
    g_autofree char *sums2 = logged(f);
    g_auto(GStrv) s2 = g_strsplit(sums2, "|", -1);
    g_assert_cmpuint(g_strv_length(s2), ==, 64);
}

static void
test_window_off_and_env(fixture_t *f, gconstpointer data)
{
    cor_log_set_repeat_window(0);
    for (int i = 0; i < 3; i++)
        cor_log_info("configuration reloaded");
    g_autofree char *all = logged(f);
    g_assert_cmpstr(all, ==, "corridor: info: configuration reloaded|"
                             "corridor: info: configuration reloaded|"
                             "corridor: info: configuration reloaded");

    g_setenv("CORRIDOR_LOG_REPEAT_WINDOW", "2", TRUE);
    cor_log_set_repeat_window(-1);
    cor_log_info("configuration reloaded");
    advance(1);
    cor_log_info("configuration reloaded");
    g_autofree char *once = logged(f);
    g_assert_cmpstr(once, ==, "corridor: info: configuration reloaded");
    advance(1.5);
    cor_log_tick();
    g_autofree char *summary = logged(f);
    g_assert_cmpstr(summary, ==,
                    "corridor: info: configuration reloaded (repeated 1 time in the last 3 s)");

    g_setenv("CORRIDOR_LOG_REPEAT_WINDOW", "0", TRUE);
    cor_log_set_repeat_window(-1);
    cor_log_info("configuration reloaded");
    cor_log_info("configuration reloaded");
    g_autofree char *off = logged(f);
    g_assert_cmpstr(off, ==, "corridor: info: configuration reloaded|"
                             "corridor: info: configuration reloaded");
    g_unsetenv("CORRIDOR_LOG_REPEAT_WINDOW");
}

#define THREADS 8
#define PER_THREAD 500

static gpointer
hammer(gpointer data)
{
    for (int i = 0; i < PER_THREAD; i++)
        cor_log(COR_LOG_WARNING, data, "outbound: relay %s unreachable", "smtp://relay");
    return NULL;
}

static void
test_threads(fixture_t *f, gconstpointer data)
{
    GThread *t[THREADS];
    char sessions[THREADS][8];
    for (int i = 0; i < THREADS; i++) {
        g_snprintf(sessions[i], sizeof sessions[i], "s%d", i);
        t[i] = g_thread_new("hammer", hammer, sessions[i]);
    }
    for (int i = 0; i < THREADS; i++)
        g_thread_join(t[i]);
    cor_log_flush();
    g_autofree char *out = logged(f);
    g_auto(GStrv) lines = g_strsplit(out, "|", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 2);
    g_assert_true(g_str_has_suffix(lines[0], ": outbound: relay smtp://relay unreachable"));
    g_autofree char *want = g_strdup_printf("corridor: warning: outbound: relay smtp://relay "
                                            "unreachable (repeated %d times in the last 1 s)",
                                            THREADS * PER_THREAD - 1);
    g_assert_cmpstr(lines[1], ==, want);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_unsetenv("JOURNAL_STREAM");
    g_unsetenv("CORRIDOR_DEBUG");
    g_unsetenv("CORRIDOR_LOG_REPEAT_WINDOW");
#define T(path, fn) g_test_add("/log/" path, fixture_t, NULL, setup, fn, teardown)
    T("repeats", test_repeats);
    T("what-is-the-same", test_what_is_the_same);
    T("debug-not-limited", test_debug_not_limited);
    T("fields", test_fields);
    T("busy-set", test_busy_set);
    T("table-full", test_table_full);
    T("window-off-and-env", test_window_off_and_env);
    T("threads", test_threads);
#undef T
    return g_test_run();
}
