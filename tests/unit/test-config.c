/* Unit tests for core/config: defaults, typed values, and errors that name
 * the file and the line or key.  Also checks docs/config.md lists every
 * tunable (the table is the one source; the doc must follow it). */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "core/config.h"

static char *
write_tmp(const char *text)
{
    char *path = NULL;
    int fd = g_file_open_tmp("corridor-conf-XXXXXX", &path, NULL);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static void
test_defaults(void)
{
    g_autoptr(cor_config_t) cfg = NULL;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_config_load(NULL, false, &cfg, &err), ==, COR_OK);
    g_assert_cmpint(cor_config_int(cfg, "import", "batch"), ==, 2000);
    g_assert_cmpint(cor_config_int(cfg, "store", "busy_timeout"), ==, 10);
    g_assert_cmpstr(cor_config_string(cfg, "groups", "default_visibility"), ==, "public");
    g_assert_false(cor_config_is_set(cfg, "import", "batch"));
    /* a missing file is all defaults unless it must exist */
    g_autoptr(cor_config_t) c2 = NULL;
    g_assert_cmpint(cor_config_load("/nonexistent/corridor.conf", false, &c2, &err), ==, COR_OK);
    g_autoptr(cor_config_t) c3 = NULL;
    g_assert_cmpint(cor_config_load("/nonexistent/corridor.conf", true, &c3, &err), ==, COR_ERR_NOT_FOUND);
    g_assert_nonnull(strstr(err, "/nonexistent/corridor.conf"));
}

static void
test_values(void)
{
    g_autofree char *path = write_tmp(
        "# a comment\n[import]\nbatch = 500\nworkers=3\n[store]\nbusy_timeout = 2m\n"
        "[groups]\ndefault_visibility = staff\n");
    g_autoptr(cor_config_t) cfg = NULL;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_config_load(path, true, &cfg, &err), ==, COR_OK);
    g_assert_cmpint(cor_config_int(cfg, "import", "batch"), ==, 500);
    g_assert_cmpint(cor_config_int(cfg, "import", "workers"), ==, 3);
    g_assert_cmpint(cor_config_int(cfg, "store", "busy_timeout"), ==, 120);
    g_assert_cmpstr(cor_config_string(cfg, "groups", "default_visibility"), ==, "staff");
    g_assert_true(cor_config_is_set(cfg, "import", "batch"));
    g_assert_cmpstr(cor_config_path(cfg), ==, path);
    g_unlink(path);
}

static void
test_errors(void)
{
    static const struct { const char *text; const char *expect; } cases[] = {
        { "[import]\nbatch = many\n", "[import] batch: 'many' is not a valid number" },
        { "[import]\nbatchsize = 5\n", "[import] batchsize: unknown setting" },
        { "[imports]\nbatch = 5\n", "[imports] batch: unknown setting" },
        { "[import]\nbatch = 5\nthis line is wrong\n", "line 3:" },
        { "[import\nbatch = 5\n", "line 1:" },
        { "[store]\nbusy_timeout = 5 fortnights\n", "is not a valid duration" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = write_tmp(cases[i].text);
        g_autoptr(cor_config_t) cfg = NULL;
        g_autofree char *err = NULL;
        g_assert_cmpint(cor_config_load(path, true, &cfg, &err), ==, COR_ERR_CONFIG);
        g_assert_null(cfg);
        if (strstr(err, cases[i].expect) == NULL || strstr(err, path) == NULL)
            g_error("case %zu: '%s' does not name the file and '%s'", i, err, cases[i].expect);
        g_unlink(path);
    }
}

/* docs/config.md has a "### [section] key" heading for every tunable. */
static void
test_docs_follow_table(void)
{
    const char *src = g_getenv("CORRIDOR_SRC");
    g_autofree char *path = g_build_filename(src ? src : ".", "docs", "config.md", NULL);
    g_autofree char *doc = NULL;
    g_assert_true(g_file_get_contents(path, &doc, NULL, NULL));
    for (const cor_tunable_t *t = cor_config_tunables(); t->section; t++) {
        g_autofree char *heading = g_strdup_printf("### [%s] %s\n", t->section, t->key);
        if (strstr(doc, heading) == NULL)
            g_error("docs/config.md lacks '%s'", heading);
        g_autofree char *dflt = g_strdup_printf("Default: `%s`", t->default_value);
        if (strstr(doc, heading) && strstr(strstr(doc, heading), dflt) == NULL)
            g_error("docs/config.md: [%s] %s should say %s", t->section, t->key, dflt);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/config/defaults", test_defaults);
    g_test_add_func("/config/values", test_values);
    g_test_add_func("/config/errors", test_errors);
    g_test_add_func("/config/docs-follow-table", test_docs_follow_table);
    return g_test_run();
}
