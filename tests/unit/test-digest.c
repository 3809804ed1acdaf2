/* Unit tests for digest/digest.h and core/links.h: the schedule slots
 * (daily across both clock changes, weekly, a time the spring change skips),
 * format names, settings that do not check, the archive link agreeing with
 * the archive's own layout, and percent-encoding for mailto: links.  The
 * digests themselves (golden text, visibility, exactly once) are tests/T700. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "archive-web/archive.h"
#include "core/config.h"
#include "core/links.h"
#include "digest/digest.h"

/* A site over a config holding `conf` ([digest] settings). */
static cor_digest_site_t *
site_with(const char *conf, cor_config_t **cfg_out, char **err)
{
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("corridor-digest-XXXXXX.conf", &path, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_true(g_file_set_contents(path, conf, -1, NULL));
    close(fd);
    cor_config_t *cfg = NULL;
    g_autofree char *cerr = NULL;
    g_assert_cmpint(cor_config_load(path, true, &cfg, &cerr), ==, COR_OK);
    g_unlink(path);
    cor_digest_site_t *site = NULL;
    cor_status_t s = cor_digest_site_new(cfg, "https://lists.example.gov.uk/", &site, err);
    *cfg_out = cfg;
    return s == COR_OK ? site : NULL;
}

static int64_t
utc(const char *iso)
{
    g_autoptr(GDateTime) d = g_date_time_new_from_iso8601(iso, NULL);
    g_assert_nonnull(d);
    return g_date_time_to_unix(d);
}

typedef struct slot_case {
    const char *conf;          /* [digest] lines */
    const char *now;           /* ISO 8601 UTC */
    const char *period;        /* expected */
    const char *began;         /* expected, UTC */
} slot_case_t;

static const slot_case_t slot_cases[] = {
    /* daily 07:00 Europe/London; 30 March 2025: clocks forward at 01:00 GMT */
    { "[digest]\ntime = 07:00\n", "2025-03-29T07:00:00Z", "2025-03-29", "2025-03-29T07:00:00Z" },
    { "[digest]\ntime = 07:00\n", "2025-03-30T05:59:59Z", "2025-03-29", "2025-03-29T07:00:00Z" },
    { "[digest]\ntime = 07:00\n", "2025-03-30T06:00:00Z", "2025-03-30", "2025-03-30T06:00:00Z" },
    { "[digest]\ntime = 07:00\n", "2025-03-31T05:00:00Z", "2025-03-30", "2025-03-30T06:00:00Z" },
    /* 26 October 2025: clocks back at 01:00 UTC; 07:00 is 07:00 UTC again */
    { "[digest]\ntime = 07:00\n", "2025-10-26T06:30:00Z", "2025-10-25", "2025-10-25T06:00:00Z" },
    { "[digest]\ntime = 07:00\n", "2025-10-26T07:00:00Z", "2025-10-26", "2025-10-26T07:00:00Z" },
    /* just after midnight, local: still yesterday's slot */
    { "[digest]\ntime = 23:30\n", "2025-06-01T22:29:00Z", "2025-05-31", "2025-05-31T22:30:00Z" },
    { "[digest]\ntime = 23:30\n", "2025-06-01T22:30:00Z", "2025-06-01", "2025-06-01T22:30:00Z" },
    /* weekly on Monday at 09:00 */
    { "[digest]\nday = monday\ntime = 09:00\n", "2025-03-05T12:00:00Z", "2025-03-03", "2025-03-03T09:00:00Z" },
    { "[digest]\nday = monday\ntime = 09:00\n", "2025-03-10T08:59:59Z", "2025-03-03", "2025-03-03T09:00:00Z" },
    { "[digest]\nday = monday\ntime = 09:00\n", "2025-03-10T09:00:00Z", "2025-03-10", "2025-03-10T09:00:00Z" },
    { "[digest]\nday = sunday\ntime = 07:00\n", "2025-03-30T12:00:00Z", "2025-03-30", "2025-03-30T06:00:00Z" },
    /* 01:30 does not exist on 30 March: the slot is the moment the clocks
     * jump (02:00 BST, 01:00 UTC) */
    { "[digest]\ntime = 01:30\n", "2025-03-30T12:00:00Z", "2025-03-30", "2025-03-30T01:00:00Z" },
    { "[digest]\ntime = 01:30\n", "2025-03-30T00:59:59Z", "2025-03-29", "2025-03-29T01:30:00Z" },
};

static void
test_slots(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(slot_cases); i++) {
        const slot_case_t *c = &slot_cases[i];
        cor_config_t *cfg = NULL;
        g_autofree char *err = NULL;
        cor_digest_site_t *site = site_with(c->conf, &cfg, &err);
        g_assert_nonnull(site);
        g_autofree char *period = NULL, *serr = NULL;
        int64_t began = 0;
        g_assert_cmpint(cor_digest_slot(site, NULL, "*", utc(c->now), &period, &began, &serr), ==,
                        COR_OK);
        if (g_strcmp0(period, c->period) != 0)
            g_error("case %zu (%s): period %s, expected %s", i, c->now, period, c->period);
        if (c->began)
            g_assert_cmpint(began, ==, utc(c->began));
        else
            g_assert_cmpint(began, <=, utc(c->now));
        cor_digest_site_free(site);
        cor_config_free(cfg);
    }
}

static void
test_bad_settings(void)
{
    static const struct {
        const char *conf;
        const char *err;
    } cases[] = {
        { "[digest]\ntimezone = Europe/Nowhere\n",
          "[digest] timezone: 'Europe/Nowhere' is not a time zone this system knows" },
        { "[digest]\ntime = 7am\n", "[digest] time: '7am' is not a time HH:MM" },
        { "[digest]\nday = fortnightly\n",
          "[digest] day: 'fortnightly' is not daily or a weekday (monday ... sunday)" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        cor_config_t *cfg = NULL;
        g_autofree char *err = NULL;
        g_assert_null(site_with(cases[i].conf, &cfg, &err));
        g_assert_cmpstr(err, ==, cases[i].err);
        cor_config_free(cfg);
    }
}

static void
test_formats(void)
{
    static const char *const names[] = { "multipart", "rfc1153", "mime" };
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        cor_digest_format_t f;
        g_assert_cmpint(cor_digest_format_from_string(names[i], &f), ==, COR_OK);
        g_assert_cmpstr(cor_digest_format_to_string(f), ==, names[i]);
    }
    cor_digest_format_t f;
    g_assert_cmpint(cor_digest_format_from_string("html", &f), ==, COR_ERR_INVALID);
    g_assert_cmpint(cor_digest_format_from_string(NULL, &f), ==, COR_ERR_INVALID);
}

/* The link a digest (and a copy's Archived-At) gives is the page the
 * archive writes. */
static void
test_permalink_is_the_archives(void)
{
    static const char *const ids[] = {
        "b7d2e9c4-31a8-4f6e-9c0b-8e5a7d13f6a2@northshire.gov.uk",
        "A1E4C2B7D9F04A3C8E6B5D2F1C0A9E87@NSDC-EXCH02.northshire.local",
        "corridor-0123@synthetic.invalid",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
        g_autofree char *mine = cor_link_message_path("planning", ids[i]);
        g_autofree char *archive = cor_archive_message_url("planning", ids[i]);
        g_assert_cmpstr(mine, ==, archive);
        g_autofree char *url = cor_link_message_url("https://l.example/", "planning", ids[i]);
        g_assert_true(g_str_has_prefix(url, "https://l.example/g/planning/m/"));
    }
    g_autofree char *u = cor_link_unsubscribe_url("https://l.example/", "abc");
    g_assert_cmpstr(u, ==, "https://l.example/u/abc");
    g_autofree char *v = cor_link_verp_sender("planning", "lists.example", "Jane.Smith@example.gov.uk");
    g_assert_cmpstr(v, ==, "planning-bounces+Jane.Smith=example.gov.uk@lists.example");
    g_autofree char *w = cor_link_verp_sender("planning", "lists.example", "nobody");
    g_assert_cmpstr(w, ==, "planning-bounces@lists.example");
}

static void
test_percent_encode(void)
{
    static const struct {
        const char *in, *keep, *out;
    } cases[] = {
        { "<a.b@c>", "@", "%3Ca.b@c%3E" },
        { "Re: a & b = c?", "@", "Re%3A%20a%20%26%20b%20%3D%20c%3F" },
        { "Siân", NULL, "Si%C3%A2n" },
        { "a-b_c.d~e", NULL, "a-b_c.d~e" },
        { "50% #1 +x", "@", "50%25%20%231%20%2Bx" },
        { "", NULL, "" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *o = cor_link_percent_encode(cases[i].in, cases[i].keep);
        g_assert_cmpstr(o, ==, cases[i].out);
    }
}

static void
test_clock(void)
{
    g_setenv("CORRIDOR_NOW", "2025-03-30T06:00:00Z", TRUE);
    g_assert_cmpint(cor_digest_now(), ==, utc("2025-03-30T06:00:00Z"));
    g_setenv("CORRIDOR_NOW", "1743314400", TRUE);
    g_assert_cmpint(cor_digest_now(), ==, 1743314400);
    g_unsetenv("CORRIDOR_NOW");
    int64_t t = cor_digest_now();
    g_assert_cmpint(t, >, 1700000000);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/digest/slots", test_slots);
    g_test_add_func("/digest/bad-settings", test_bad_settings);
    g_test_add_func("/digest/formats", test_formats);
    g_test_add_func("/digest/permalink-is-the-archives", test_permalink_is_the_archives);
    g_test_add_func("/digest/percent-encode", test_percent_encode);
    g_test_add_func("/digest/clock", test_clock);
    return g_test_run();
}
