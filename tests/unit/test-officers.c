/* Unit tests for the one records-officer list (core/config.h,
 * cor_config_officers): [records] officers and its deprecated older name
 * [http] officers add up; every entry is made into an address by the rule
 * the web applies to a signed-in user (cor_config_user_address: trimmed,
 * "@"[http] user_domain added when there is no '@', lowercased); entries
 * that cannot be an address are dropped; the list is unique and sorted.
 * And the list recorded in the audit trail is exactly that list. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "records/audit.h"

/* Loads `text` as a config file (transfer full). */
static cor_config_t *
load(const char *text)
{
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("corridor-officers-XXXXXX.conf", &path, NULL);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    cor_config_t *cfg = NULL;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_config_load(path, true, &cfg, &err), ==, COR_OK);
    g_unlink(path);
    return cfg;
}

/* The list joined with " " ("" when empty) (transfer full). */
static char *
officers(const cor_config_t *cfg)
{
    return g_strjoinv(" ", (char **) cor_config_officers(cfg));
}

static void
test_user_address(void)
{
    static const struct {
        const char *value, *domain, *want;   /* want NULL: not an address */
    } cases[] = {
        { "foi", "council.test", "foi@council.test" },
        { "  FOI ", "Council.Test", "foi@council.test" },
        { "foi", "@council.test", "foi@council.test" },
        { "Jo.Bloggs@Elsewhere.Test", "council.test", "jo.bloggs@elsewhere.test" },
        { "foi", "", "foi" },
        { "foi", NULL, "foi" },
        { "ÉLODIE", "council.test", "élodie@council.test" },
        { "", "council.test", NULL },
        { "   ", "council.test", NULL },
        { "jo bloggs", "council.test", NULL },
        { "jo\tbloggs", "", NULL },
        { "jo\x7f", "", NULL },
        { "jo\xff", "", NULL },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = cor_config_user_address(cases[i].value, cases[i].domain);
        g_test_message("'%s' with '%s'", cases[i].value, cases[i].domain ? cases[i].domain : "");
        g_assert_cmpstr(got, ==, cases[i].want);
    }
}

static void
test_defaults(void)
{
    g_autoptr(cor_config_t) cfg = NULL;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_config_load(NULL, false, &cfg, &err), ==, COR_OK);
    g_assert_nonnull(cor_config_officers(cfg));
    g_assert_null(cor_config_officers(cfg)[0]);
    g_autoptr(cor_config_t) missing = NULL;
    g_assert_cmpint(cor_config_load("/nonexistent/corridor.conf", false, &missing, &err), ==,
                    COR_OK);
    g_assert_null(cor_config_officers(missing)[0]);
}

static void
test_merge(void)
{
    static const struct {
        const char *conf, *want;
    } cases[] = {
        /* [records] alone, no domain: lowercased, sorted */
        { "[records]\nofficers = Foi, alice\n", "alice foi" },
        /* the deprecated name alone still works */
        { "[http]\nofficers = foi\nuser_domain = council.test\n", "foi@council.test" },
        /* both add up; the same person written three ways is one officer */
        { "[records]\nofficers = foi, Lead\n[http]\nuser_domain = council.test\n"
          "officers = FOI@Council.Test; bob@elsewhere.test\n",
          "bob@elsewhere.test foi@council.test lead@council.test" },
        /* an entry that cannot be an address is dropped */
        { "[records]\nofficers = jo bloggs, foi\n", "foi" },
        /* nobody */
        { "[records]\nofficers =\n", "" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(cor_config_t) cfg = load(cases[i].conf);
        g_autofree char *got = officers(cfg);
        g_test_message("%s", cases[i].conf);
        g_assert_cmpstr(got, ==, cases[i].want);
    }
}

/* The list the audit trail records is the merged one: the same people
 * configured another way record nothing new; a real change records the new
 * list with the old. */
static void
test_recorded(void)
{
    g_autofree char *dir = g_dir_make_tmp("corridor-officers-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "corridor.db", NULL);
    g_autofree char *err = NULL;
    g_autoptr(cor_store_t) st = NULL;
    g_assert_cmpint(cor_store_open(path, true, &st, &err), ==, COR_OK);
    static const struct {
        const char *conf;
        bool changed;
    } steps[] = {
        { "[http]\nofficers = foi\nuser_domain = council.test\n", true },
        { "[records]\nofficers = FOI@council.test\n", false },
        { "[records]\nofficers = foi\n[http]\nuser_domain = council.test\nofficers = lead\n", true },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(steps); i++) {
        g_autoptr(cor_config_t) cfg = load(steps[i].conf);
        g_autofree char *list = g_strjoinv(",", (char **) cor_config_officers(cfg));
        bool changed = !steps[i].changed;
        g_assert_cmpint(cor_store_begin(st), ==, COR_OK);
        g_assert_cmpint(cor_audit_sync_officers(st, "corridor", list, &changed, &err), ==, COR_OK);
        g_assert_cmpint(cor_store_commit(st), ==, COR_OK);
        g_assert_cmpint(changed, ==, steps[i].changed);
    }
    g_autoptr(GPtrArray) all = NULL;
    g_assert_cmpint(cor_audit_list(st, NULL, &all, &err), ==, COR_OK);
    g_assert_cmpuint(all->len, ==, 2);
    cor_audit_entry_t *last = all->pdata[1];
    g_assert_cmpstr(last->detail, ==,
                    "{\"role\":\"records officer\",\"officers\":[\"foi@council.test\","
                    "\"lead@council.test\"],\"previous\":[\"foi@council.test\"]}");
    cor_audit_report_t r = { 0 };
    g_assert_cmpint(cor_audit_verify(st, &r, &err), ==, COR_OK);
    g_assert_true(r.ok);
    cor_audit_report_clear(&r);
    g_clear_pointer(&st, cor_store_close);

    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, name, NULL);
        g_unlink(p);
    }
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/officers/user-address", test_user_address);
    g_test_add_func("/officers/defaults", test_defaults);
    g_test_add_func("/officers/merge", test_merge);
    g_test_add_func("/officers/recorded", test_recorded);
    return g_test_run();
}
