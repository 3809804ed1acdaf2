/* tests/unit/test-privilege.c — core/privilege.h: who the daemon runs as,
 * the checked drop of root, and the refusal of unsafe files.  The suite
 * runs as root; the cases that need root say so and are skipped otherwise. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/privilege.h"

static cor_config_t *
config(const char *text)
{
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("corridor-priv-XXXXXX.conf", &path, NULL);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    cor_config_t *cfg = NULL;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_config_load(path, true, &cfg, &err), ==, COR_OK);
    g_unlink(path);
    return cfg;
}

static bool
need_root(void)
{
    if (geteuid() == 0)
        return true;
    g_test_skip("needs root");
    return false;
}

static uid_t
nobody_uid(void)
{
    struct passwd *pw = getpwnam("nobody");
    g_assert_nonnull(pw);
    return pw->pw_uid;
}

static gid_t
nobody_gid(void)
{
    struct passwd *pw = getpwnam("nobody");
    g_assert_nonnull(pw);
    return pw->pw_gid;
}

/* Design note 1, row by row. */
static void
test_plan(void)
{
    if (!need_root())
        return;
    struct {
        const char *conf;
        bool allow_root;
        cor_status_t status;
        const char *err_part;   /* in *err, for a refusal */
        bool drop;
    } cases[] = {
        { "", false, COR_ERR_CONFIG, "refusing to run as root: set [daemon] user", false },
        { "", true, COR_OK, NULL, false },
        { "[daemon]\nuser = root\n", false, COR_OK, NULL, false },
        { "[daemon]\nuser = nobody\n", false, COR_OK, NULL, true },
        { "[daemon]\nuser = nobody\ngroup = daemon\n", false, COR_OK, NULL, true },
        { "[daemon]\nuser = no-such-user-x\n", false, COR_ERR_CONFIG,
          "there is no user 'no-such-user-x'", false },
        { "[daemon]\nuser = nobody\ngroup = no-such-group-x\n", false, COR_ERR_CONFIG,
          "there is no group 'no-such-group-x'", false },
        { "[daemon]\nuser = nobody\ntrusted_groups = daemon, no-such-group-y\n", false,
          COR_ERR_CONFIG, "[daemon] trusted_groups: there is no group 'no-such-group-y'", false },
        { "[daemon]\ngroup = daemon\n", false, COR_ERR_CONFIG, "[daemon] user is not", false },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(cor_config_t) cfg = config(cases[i].conf);
        g_autoptr(cor_priv_t) p = NULL;
        g_autofree char *err = NULL;
        cor_status_t s = cor_priv_plan(cfg, cases[i].allow_root, &p, &err);
        g_test_message("case %zu: %s", i, err ? err : "ok");
        g_assert_cmpint(s, ==, cases[i].status);
        if (s != COR_OK) {
            g_assert_null(p);
            g_assert_nonnull(strstr(err, cases[i].err_part));
            continue;
        }
        g_assert_cmpint(p->drop, ==, cases[i].drop);
    }
    /* the user's primary group, or [daemon] group; trusted groups resolved */
    g_autoptr(cor_config_t) cfg = config("[daemon]\nuser = nobody\ntrusted_groups = daemon\n");
    g_autoptr(cor_priv_t) p = NULL;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_priv_plan(cfg, false, &p, &err), ==, COR_OK);
    g_assert_cmpint(p->uid, ==, nobody_uid());
    g_assert_cmpint(p->gid, ==, nobody_gid());
    g_assert_cmpstr(p->user, ==, "nobody");
    g_assert_cmpuint(p->trusted->len, ==, 1);
    g_assert_cmpint(g_array_index(p->trusted, gid_t, 0), ==, getgrnam("daemon")->gr_gid);
    g_autoptr(cor_config_t) cfg2 = config("[daemon]\nuser = nobody\ngroup = daemon\n");
    g_autoptr(cor_priv_t) p2 = NULL;
    g_assert_cmpint(cor_priv_plan(cfg2, false, &p2, &err), ==, COR_OK);
    g_assert_cmpint(p2->gid, ==, getgrnam("daemon")->gr_gid);
    g_assert_cmpstr(p2->group, ==, "daemon");
}

/* Not root: [daemon] user must be the user it runs as (run in a child that
 * has become nobody). */
static void
test_plan_not_root(void)
{
    if (!need_root())
        return;
    if (g_test_subprocess()) {
        g_autoptr(cor_config_t) me = config("[daemon]\nuser = nobody\n");
        g_autoptr(cor_config_t) other = config("[daemon]\nuser = daemon\n");
        g_autoptr(cor_config_t) none = config("");
        g_autoptr(cor_priv_t) p = NULL;
        g_autofree char *err = NULL;
        g_assert_cmpint(cor_priv_plan(me, false, &p, &err), ==, COR_OK);
        /* become nobody, then plan again as nobody */
        g_assert_cmpint(cor_priv_drop(p, &err), ==, COR_OK);
        g_clear_pointer(&p, cor_priv_free);
        g_assert_cmpint(cor_priv_plan(me, false, &p, &err), ==, COR_OK);
        g_assert_false(p->drop);
        g_clear_pointer(&p, cor_priv_free);
        g_assert_cmpint(cor_priv_plan(none, false, &p, &err), ==, COR_OK);
        g_assert_cmpint(p->uid, ==, nobody_uid());
        g_assert_false(p->drop);
        g_clear_pointer(&p, cor_priv_free);
        g_assert_cmpint(cor_priv_plan(other, false, &p, &err), ==, COR_ERR_CONFIG);
        g_assert_nonnull(strstr(err, "cannot switch (only root can)"));
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
}

static gpointer
idle_thread(gpointer data)
{
    GAsyncQueue *q = data;
    return g_async_queue_pop(q);   /* waits until the test is done */
}

/* Design note 2: in a child, with a second thread running, drop to nobody;
 * every id of every thread, the group list and the files it makes are
 * nobody's, and it cannot get root back. */
static void
test_drop(void)
{
    if (!need_root())
        return;
    if (g_test_subprocess()) {
        g_autoptr(cor_config_t) cfg = config("[daemon]\nuser = nobody\n");
        g_autoptr(cor_priv_t) p = NULL;
        g_autofree char *err = NULL;
        g_assert_cmpint(cor_priv_plan(cfg, false, &p, &err), ==, COR_OK);
        g_autofree char *dir = g_dir_make_tmp("corridor-drop-XXXXXX", NULL);
        g_assert_nonnull(dir);
        g_assert_cmpint(chown(dir, p->uid, p->gid), ==, 0);
        GAsyncQueue *q = g_async_queue_new();
        GThread *t = g_thread_new("other", idle_thread, q);
        g_assert_cmpint(cor_priv_drop(p, &err), ==, COR_OK);
        g_assert_null(err);
        uid_t r, e, s;
        g_assert_cmpint(getresuid(&r, &e, &s), ==, 0);
        g_assert_cmpint(r, ==, p->uid);
        g_assert_cmpint(e, ==, p->uid);
        g_assert_cmpint(s, ==, p->uid);
        gid_t groups[4];
        g_assert_cmpint(getgroups(4, groups), ==, 1);
        g_assert_cmpint(groups[0], ==, p->gid);
        g_assert_cmpint(setuid(0), ==, -1);
        g_assert_cmpint(errno, ==, EPERM);
        g_assert_cmpint(setgroups(0, NULL), ==, -1);
        /* the other thread too (the kernel keeps ids per thread) */
        g_autofree char *status = NULL;
        g_assert_true(g_file_get_contents("/proc/self/status", &status, NULL, NULL));
        g_autofree char *want = g_strdup_printf("Uid:\t%ld\t%ld\t%ld\t%ld", (long) p->uid,
                                                (long) p->uid, (long) p->uid, (long) p->uid);
        g_assert_nonnull(strstr(status, want));
        g_autoptr(GDir) tasks = g_dir_open("/proc/self/task", 0, NULL);
        int n = 0;
        for (const char *name; (name = g_dir_read_name(tasks)) != NULL; n++) {
            g_autofree char *tp = g_strdup_printf("/proc/self/task/%s/status", name);
            g_autofree char *ts = NULL;
            g_assert_true(g_file_get_contents(tp, &ts, NULL, NULL));
            g_assert_nonnull(strstr(ts, want));
        }
        g_assert_cmpint(n, >=, 2);
        /* what it writes now is nobody's */
        g_autofree char *file = g_build_filename(dir, "made-after-drop", NULL);
        g_assert_true(g_file_set_contents(file, "x", 1, NULL));
        struct stat st;
        g_assert_cmpint(stat(file, &st), ==, 0);
        g_assert_cmpint(st.st_uid, ==, p->uid);
        g_assert_cmpint(st.st_gid, ==, p->gid);
        g_unlink(file);
        g_rmdir(dir);
        g_async_queue_push(q, q);
        g_thread_join(t);
        g_async_queue_unref(q);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
}

/* Design note 3. */
static void
test_check_path(void)
{
    if (!need_root())
        return;
    g_autoptr(cor_config_t) cfg = config("[daemon]\nuser = nobody\n");
    g_autoptr(cor_priv_t) p = NULL;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_priv_plan(cfg, false, &p, &err), ==, COR_OK);
    g_autofree char *dir = g_dir_make_tmp("corridor-modes-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "f", NULL);
    g_autofree char *missing = g_build_filename(dir, "none", NULL);
    g_assert_true(g_file_set_contents(file, "x", 1, NULL));
    gid_t other = getgrnam("daemon")->gr_gid;
    struct {
        const char *path;
        mode_t mode;
        uid_t uid;
        gid_t gid;
        cor_priv_kind_t kind;
        bool trust_other;       /* [daemon] trusted_groups = daemon */
        const char *err_part;   /* NULL: accepted */
    } cases[] = {
        { dir, 0750, 0, 0, COR_PRIV_DIR, false, NULL },
        { dir, 0755, 0, 0, COR_PRIV_DIR, false, NULL },
        { dir, 0777, 0, 0, COR_PRIV_DIR, false, "is writable by everyone (mode 0777): chmod o-w" },
        { dir, 01777, 0, 0, COR_PRIV_DIR, false, "(mode 1777)" },
        { dir, 01777, 0, 0, COR_PRIV_PARENT, false, NULL },   /* /tmp holding a config */
        { dir, 0777, 0, 0, COR_PRIV_PARENT, false, "(mode 0777)" },
        { dir, 0770, 0, 0, COR_PRIV_DIR, false, "writable by group 'root' (mode 0770)" },
        { dir, 0770, 0, 65534, COR_PRIV_DIR, false, NULL },   /* nobody's group */
        { dir, 0770, 0, 1, COR_PRIV_DIR, false, "writable by group 'daemon'" },
        { dir, 0770, 0, 1, COR_PRIV_DIR, true, NULL },
        { dir, 0750, 1, 0, COR_PRIV_DIR, false, "belongs to user 'daemon'" },
        { dir, 0750, 65534, 0, COR_PRIV_DIR, false, NULL },   /* the daemon's own user */
        { dir, 0750, 0, 0, COR_PRIV_FILE, false, "is not a regular file" },
        { file, 0644, 0, 0, COR_PRIV_FILE, false, NULL },
        { file, 0640, 65534, 65534, COR_PRIV_FILE, false, NULL },
        { file, 0646, 0, 0, COR_PRIV_FILE, false, "(mode 0646)" },
        { file, 0664, 0, 1, COR_PRIV_FILE, false, "writable by group 'daemon' (mode 0664)" },
        { file, 0644, 0, 0, COR_PRIV_DIR, false, "is not a directory" },
        { missing, 0, 0, 0, COR_PRIV_FILE, false, NULL },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        if (cases[i].path != missing) {
            g_assert_cmpint(chown(cases[i].path, cases[i].uid,
                                  cases[i].gid == 1 ? other : cases[i].gid), ==, 0);
            g_assert_cmpint(chmod(cases[i].path, cases[i].mode), ==, 0);
        }
        g_array_set_size(p->trusted, 0);
        if (cases[i].trust_other)
            g_array_append_val(p->trusted, other);
        g_clear_pointer(&err, g_free);
        cor_status_t s = cor_priv_check_path(p, cases[i].path, "the thing", cases[i].kind, &err);
        g_test_message("case %zu: %s", i, err ? err : "ok");
        if (cases[i].err_part == NULL) {
            g_assert_cmpint(s, ==, COR_OK);
        } else {
            g_assert_cmpint(s, ==, COR_ERR_DENIED);
            g_assert_nonnull(strstr(err, cases[i].err_part));
            g_assert_nonnull(strstr(err, cases[i].path));   /* names the path */
            g_assert_true(g_str_has_prefix(err, "the thing '"));
        }
    }
    g_unlink(file);
    g_rmdir(dir);
}

/* Whether the user it drops to can write the state directory and store. */
static void
test_check_writable(void)
{
    if (!need_root())
        return;
    g_autoptr(cor_config_t) cfg = config("[daemon]\nuser = nobody\n");
    g_autoptr(cor_priv_t) p = NULL;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_priv_plan(cfg, false, &p, &err), ==, COR_OK);
    g_autofree char *dir = g_dir_make_tmp("corridor-own-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "corridor.db", NULL);
    g_assert_true(g_file_set_contents(file, "x", 1, NULL));
    g_assert_cmpint(chmod(dir, 0750), ==, 0);
    g_assert_cmpint(cor_priv_check_writable(p, dir, "the state directory", &err), ==,
                    COR_ERR_DENIED);
    g_assert_nonnull(strstr(err, "belongs to root:root (mode 0750)"));
    g_assert_nonnull(strstr(err, "chown -R nobody:nogroup"));
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(chown(dir, p->uid, p->gid), ==, 0);
    g_assert_cmpint(cor_priv_check_writable(p, dir, "the state directory", &err), ==, COR_OK);
    /* by its group: read and write needed */
    g_assert_cmpint(chown(file, 0, p->gid), ==, 0);
    g_assert_cmpint(chmod(file, 0640), ==, 0);
    g_assert_cmpint(cor_priv_check_writable(p, file, "the store", &err), ==, COR_ERR_DENIED);
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(chmod(file, 0660), ==, 0);
    g_assert_cmpint(cor_priv_check_writable(p, file, "the store", &err), ==, COR_OK);
    g_autofree char *none = g_build_filename(dir, "none", NULL);
    g_assert_cmpint(cor_priv_check_writable(p, none, "the store", &err), ==, COR_OK);
    /* files root left behind: the first one is named, `except` is not */
    g_autofree char *found = cor_priv_find_foreign(p, dir, NULL);
    g_assert_cmpstr(found, ==, file);
    g_autofree char *found2 = cor_priv_find_foreign(p, dir, file);
    g_assert_null(found2);
    g_assert_cmpint(chown(file, p->uid, p->gid), ==, 0);
    g_autofree char *found3 = cor_priv_find_foreign(p, dir, NULL);
    g_assert_null(found3);
    g_unlink(file);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/privilege/plan", test_plan);
    g_test_add_func("/privilege/plan-not-root", test_plan_not_root);
    g_test_add_func("/privilege/drop", test_drop);
    g_test_add_func("/privilege/check-path", test_check_path);
    g_test_add_func("/privilege/check-writable", test_check_writable);
    return g_test_run();
}
