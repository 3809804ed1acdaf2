/* fuzz/fuzz-config.c — the configuration parser (core/config.h), from a
 * temporary file, and the [filters] site defaults built from it
 * (filters/filter.h: cor_filter_site_new checks every value).
 *
 * Input: the bytes of corridor.conf.
 *
 * Invariants (config.h):
 *   1. loading gives COR_OK, or COR_ERR_CONFIG / COR_ERR_IO with one line
 *      that starts with the file's path;
 *   2. once loaded, every declared tunable has a value: its text (never
 *      NULL), and for numbers the value the text parses to
 *      (cor_config_parse_number gives what cor_config_int gives); a LIST
 *      is what cor_config_split_list makes of the text: items trimmed,
 *      none empty, none holding ',' or ';';
 *   3. the keys of every open section are listed, each with a list;
 *   4. the list domain is never NULL, the base URL ends in '/';
 *   5. the [filters] site either builds or fails with COR_ERR_CONFIG and
 *      a sentence naming "[filters]".
 * Then cor_config_parse_number and cor_config_split_list are also tried
 * on each line of the input on their own.
 */
#include "fuzz/fuzz.h"

#include "core/config.h"
#include "filters/filter.h"

static void
check_list(const char *what, const char *const *l)
{
    FUZZ_CHECK(l != NULL, "%s: NULL list", what);
    for (size_t i = 0; l[i]; i++) {
        size_t n = strlen(l[i]);
        FUZZ_CHECK(n > 0, "%s: empty item", what);
        FUZZ_CHECK(!strchr(l[i], ',') && !strchr(l[i], ';'), "%s: item '%s' holds a separator", what, l[i]);
        FUZZ_CHECK(!g_ascii_isspace(l[i][0]) && !g_ascii_isspace(l[i][n - 1]),
                   "%s: item '%s' not trimmed", what, l[i]);
    }
}

static void
check_config(const cor_config_t *cfg)
{
    for (const cor_tunable_t *t = cor_config_tunables(); t->section; t++) {
        g_autofree char *what = g_strdup_printf("[%s] %s", t->section, t->key);
        const char *text = cor_config_value_text(cfg, t->section, t->key);
        FUZZ_CHECK(text != NULL, "%s: no value text", what);
        switch (t->type) {
        case COR_CONFIG_STRING:
            FUZZ_CHECK(cor_config_string(cfg, t->section, t->key) != NULL, "%s: NULL string", what);
            break;
        case COR_CONFIG_INT:
        case COR_CONFIG_SIZE:
        case COR_CONFIG_DURATION: {
            int64_t want = 0;
            FUZZ_CHECK(cor_config_parse_number(text, t->type, &want), "%s: value '%s' does not parse",
                       what, text);
            FUZZ_CHECK(cor_config_int(cfg, t->section, t->key) == want,
                       "%s: %" G_GINT64_FORMAT " for '%s'", what,
                       cor_config_int(cfg, t->section, t->key), text);
            break;
        }
        case COR_CONFIG_BOOL:
            (void) cor_config_bool(cfg, t->section, t->key);
            break;
        case COR_CONFIG_LIST: {
            const char *const *l = cor_config_list(cfg, t->section, t->key);
            check_list(what, l);
            g_auto(GStrv) again = cor_config_split_list(text);
            FUZZ_CHECK(g_strv_equal((const char *const *) again, l), "%s: list differs from its text",
                       what);
            break;
        }
        }
    }
    for (const cor_config_open_section_t *o = cor_config_open_sections(); o->section; o++) {
        const char *const *keys = cor_config_open_keys(cfg, o->section);
        FUZZ_CHECK(keys != NULL, "[%s]: NULL keys", o->section);
        for (size_t i = 0; keys[i]; i++) {
            g_autofree char *what = g_strdup_printf("[%s] %s", o->section, keys[i]);
            check_list(what, cor_config_open_list(cfg, o->section, keys[i]));
        }
    }
    FUZZ_CHECK(cor_config_list_domain(cfg) != NULL, "no list domain");
    g_autofree char *url = cor_config_base_url(cfg, NULL);
    FUZZ_CHECK(url && g_str_has_suffix(url, "/"), "base URL '%s'", url ? url : "(null)");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_setup();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    const char *path = fuzz_write_file("corridor.conf", data, size);
    g_autoptr(cor_config_t) cfg = NULL;
    g_autofree char *err = NULL;
    cor_status_t s = cor_config_load(path, true, &cfg, &err);
    if (s != COR_OK) {
        FUZZ_CHECK(s == COR_ERR_CONFIG || s == COR_ERR_IO, "load gave %s", cor_status_to_string(s));
        FUZZ_CHECK(err && g_str_has_prefix(err, path), "error '%s' does not name the file",
                   err ? err : "(null)");
        FUZZ_CHECK(!strchr(err, '\n'), "error of more than one line: '%s'", err);
        FUZZ_CHECK(cfg == NULL, "a configuration with an error");
    } else {
        FUZZ_CHECK(cfg != NULL && err == NULL, "loaded with an error");
        check_config(cfg);
        g_autoptr(cor_filter_site_t) site = NULL;
        g_autofree char *ferr = NULL;
        s = cor_filter_site_new(cfg, &site, &ferr);
        if (s != COR_OK)
            FUZZ_CHECK(s == COR_ERR_CONFIG && ferr && strstr(ferr, "[filters]"),
                       "filters gave %s: %s", cor_status_to_string(s), ferr ? ferr : "(null)");
        else
            FUZZ_CHECK(site != NULL, "no site");
    }

    /* the value parsers on their own, line by line */
    g_autofree char *text = g_strndup((const char *) data, size);
    g_auto(GStrv) lines = g_strsplit(text, "\n", 64);
    for (size_t i = 0; lines[i]; i++) {
        int64_t v;
        (void) cor_config_parse_number(lines[i], COR_CONFIG_INT, &v);
        (void) cor_config_parse_number(lines[i], COR_CONFIG_SIZE, &v);
        (void) cor_config_parse_number(lines[i], COR_CONFIG_DURATION, &v);
        g_auto(GStrv) l = cor_config_split_list(lines[i]);
        check_list("split", (const char *const *) l);
    }
    return 0;
}
