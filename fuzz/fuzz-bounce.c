/* fuzz/fuzz-bounce.c — reading bounces and delivery reports
 * (mta-bridge/bounce.h).
 *
 * Input: one message, as it came back to GROUP-bounces+member=domain@.
 *
 * Invariants (bounce.h):
 *   1. any byte sequence gives a report (COR_OK), with a format from the
 *      documented list and a `why`;
 *   2. the report's class is the worst of its recipients' (HARD > SOFT >
 *      IGNORED), IGNORED when there is none; at most 256 recipients, no two
 *      with the same address (case-insensitive);
 *   3. every string is valid UTF-8 without control characters; a
 *      diagnostic is at most COR_BOUNCE_DIAG_MAX bytes; an address has its
 *      domain in lowercase; reasons are from the documented list;
 *   4. auto-replies and things that are not bounces never count (format
 *      "auto-reply" or "not-a-bounce" means class IGNORED);
 *   5. parsing the same bytes twice gives the same report (checked for
 *      inputs whose size is a multiple of four).
 */
#include "fuzz/fuzz.h"

#include "mta-bridge/bounce.h"

static const char *const formats[] = {
    "rfc3464", "qmail", "exim", "sendmail", "postfix", "exchange", "domino", "groupwise",
    "aol", "iis", "heuristic", "auto-reply", "not-a-bounce",
};

static const char *const reasons[] = {
    "user unknown", "mailbox full", "message too large", "refused as spam or by policy",
    "domain unknown", "relaying refused", "mailbox disabled", "server unavailable",
    "protocol error", "temporary failure", "permanent failure", "failure, reason unknown",
    "delayed", "delivered", "relayed", "expanded",
};

static bool
in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static void
check_string(const char *what, const char *s)
{
    if (!s)
        return;
    FUZZ_CHECK(fuzz_utf8(s), "%s not UTF-8", what);
    FUZZ_CHECK(fuzz_no_controls(s, NULL), "%s '%s' has a control character", what, s);
}

static void
check_report(const cor_bounce_report_t *r)
{
    FUZZ_CHECK(in_list(r->format, formats, G_N_ELEMENTS(formats)), "format '%s'",
               r->format ? r->format : "(null)");
    FUZZ_CHECK(r->why != NULL, "no why");
    check_string("why", r->why);
    FUZZ_CHECK(r->rcpts != NULL && r->rcpts->len <= 256, "%u recipients",
               r->rcpts ? r->rcpts->len : 0);
    cor_bounce_class_t worst = COR_BOUNCE_IGNORED;
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < r->rcpts->len; i++) {
        const cor_bounce_rcpt_t *c = r->rcpts->pdata[i];
        FUZZ_CHECK(c->cls <= COR_BOUNCE_HARD, "class %d", c->cls);
        worst = MAX(worst, c->cls);
        check_string("address", c->address);
        check_string("final address", c->final_address);
        check_string("status", c->status);
        check_string("diagnostic", c->diagnostic);
        FUZZ_CHECK(in_list(c->reason, reasons, G_N_ELEMENTS(reasons)), "reason '%s'",
                   c->reason ? c->reason : "(null)");
        if (c->diagnostic)
            FUZZ_CHECK(strlen(c->diagnostic) <= COR_BOUNCE_DIAG_MAX, "diagnostic of %zu bytes",
                       strlen(c->diagnostic));
        if (c->address) {
            const char *at = strrchr(c->address, '@');
            if (at) {
                g_autofree char *low = g_ascii_strdown(at, -1);
                FUZZ_CHECK(strcmp(low, at) == 0, "domain of '%s' not lowercase", c->address);
            }
            g_autofree char *key = g_ascii_strdown(c->address, -1);
            FUZZ_CHECK(!g_hash_table_contains(seen, key), "'%s' twice", c->address);
            g_hash_table_add(seen, g_steal_pointer(&key));
        }
    }
    FUZZ_CHECK(r->cls == worst, "class %s, worst recipient %s", cor_bounce_class_to_string(r->cls),
               cor_bounce_class_to_string(worst));
    if (strcmp(r->format, "auto-reply") == 0 || strcmp(r->format, "not-a-bounce") == 0)
        FUZZ_CHECK(r->cls == COR_BOUNCE_IGNORED, "%s counted as %s", r->format,
                   cor_bounce_class_to_string(r->cls));
}

static bool
same_report(const cor_bounce_report_t *a, const cor_bounce_report_t *b)
{
    if (a->cls != b->cls || strcmp(a->format, b->format) != 0 || a->rcpts->len != b->rcpts->len)
        return false;
    for (guint i = 0; i < a->rcpts->len; i++) {
        const cor_bounce_rcpt_t *x = a->rcpts->pdata[i], *y = b->rcpts->pdata[i];
        if (x->cls != y->cls || g_strcmp0(x->address, y->address) != 0 ||
            g_strcmp0(x->status, y->status) != 0 || x->reason != y->reason)
            return false;
    }
    return true;
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
    g_autoptr(cor_bounce_report_t) r = NULL;
    cor_status_t s = cor_bounce_parse((const char *) data, size, &r);
    FUZZ_CHECK(s == COR_OK && r != NULL, "parse gave %s", cor_status_to_string(s));
    check_report(r);

    /* invariant 5: the same bytes again, in a buffer of their own (for one
     * input in four: the parse is the slow part of this target) */
    if (size % 4 != 0)
        return 0;
    g_autofree char *copy = g_memdup2(data, size);
    g_autoptr(cor_bounce_report_t) again = NULL;
    s = cor_bounce_parse(copy, size, &again);
    FUZZ_CHECK(s == COR_OK && same_report(r, again), "a second parse differs");
    return 0;
}
