/* Unit tests for core/status: every status has a name and a reply, and the
 * replies that LMTP depends on are the right ones. */
#include <glib.h>
#include <string.h>

#include "core/status.h"

static void
test_every_status_named(void)
{
    for (int s = 0; s < COR_STATUS_COUNT; s++) {
        g_assert_cmpstr(cor_status_to_string((cor_status_t) s), !=, "unknown status");
        const cor_smtp_reply_t *r = cor_status_smtp((cor_status_t) s);
        g_assert_nonnull(r);
        g_assert_cmpint(r->code, >=, 200);
        g_assert_cmpint(r->code, <, 600);
        /* the enhanced code's class agrees with the basic code */
        g_assert_cmpint(r->enhanced[0] - '0', ==, r->code / 100);
    }
    g_assert_cmpstr(cor_status_to_string((cor_status_t) 999), ==, "unknown status");
}

static void
test_known_replies(void)
{
    static const struct { cor_status_t s; int code; const char *enh; } cases[] = {
        { COR_OK,           250, "2.0.0" },
        { COR_DUPLICATE,    250, "2.0.0" },
        { COR_ERR_NO_GROUP, 550, "5.1.1" },
        { COR_ERR_TOO_BIG,  552, "5.3.4" },
        { COR_ERR_TIMEOUT,  421, "4.4.2" },
        { COR_ERR_DISK_FULL,452, "4.3.1" },
        { COR_ERR_STORE,    451, "4.3.0" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const cor_smtp_reply_t *r = cor_status_smtp(cases[i].s);
        g_assert_cmpint(r->code, ==, cases[i].code);
        g_assert_cmpstr(r->enhanced, ==, cases[i].enh);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/status/every-status-named", test_every_status_named);
    g_test_add_func("/status/known-replies", test_known_replies);
    return g_test_run();
}
