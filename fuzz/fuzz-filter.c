/* fuzz/fuzz-filter.c — the filter chain (filters/filter.h): the facts of a
 * message, then the decision of four groups with fixed policies, on a
 * temporary store made once.
 *
 * Input: byte 0 picks the envelope sender (a member, a staff address, an
 * outsider, the null sender); the rest is the message, parsed as intake
 * parses it (COR_PARSE_SUMMARY | COR_PARSE_EDGES).
 *
 * The groups ([filters] site defaults from a configuration file, then
 * per-group settings in the store, as `corridor group set` writes them):
 *   open      public, the default chain and settings, staff_domains set;
 *   members   public, posting=members, nonmember_action=hold,
 *             moderation=first-post, max_message_size=2k;
 *   private   private, marking_action auto (restrict), spam_action=reject,
 *             sensitivity and msip_labels that count;
 *   staffonly staff, posting=staff, marking_action=hold, spam_action=discard,
 *             a short chain in another order.
 *
 * Invariants (filter.h):
 *   1. cor_filter_scan never fails; its strings are valid UTF-8, env_from
 *      and from_addr lowercase;
 *   2. cor_filter_decide returns COR_OK on a healthy store, with a decisive
 *      verdict (never PASS) and one trace step per filter run;
 *   3. a REJECT carries a failure status with a 5xx reply and a reason; a
 *      RESTRICT verdict has `restricted` set;
 *   4. explain (every filter run) reaches the same verdict, filter, status
 *      and restriction as the normal run;
 *   5. the log line (cor_decision_trace) is one line of valid UTF-8 with no
 *      control characters, whatever the message says (no log injection).
 */
#include "fuzz/fuzz.h"

#include "core/config.h"
#include "core/message.h"
#include "core/store.h"
#include "filters/filter.h"

static cor_store_t *store;
static cor_filter_policy_t *policies[4];

static const char config_text[] =
    "[filters]\n"
    "staff_domains = council.example.gov.uk, schools.example.gov.uk\n"
    "msip_labels = 3f1b8a6e-0000-4000-8000-000000000001\n"
    "join_hint = ask the clerk\n";

static const struct {
    const char *name;
    cor_visibility_t vis;
    const char *settings[12];     /* key, value, ..., NULL */
} groups[] = {
    { "open", COR_VISIBILITY_PUBLIC, { NULL } },
    { "members", COR_VISIBILITY_PUBLIC,
      { "posting", "members", "nonmember_action", "hold", "moderation", "first-post",
        "max_message_size", "2k", NULL } },
    { "private", COR_VISIBILITY_PRIVATE,
      { "spam_action", "reject", "sensitivity", "company-confidential, private",
        "spam_threshold", "3.5", NULL } },
    { "staffonly", COR_VISIBILITY_STAFF,
      { "posting", "staff", "marking_action", "hold", "spam_action", "discard",
        "chain", "marking, posting, loop, size, attachments, spam", NULL } },
};

static const char *const senders[] = {
    "member@council.example.gov.uk", "Clerk@Schools.Example.Gov.UK", "someone@outside.example",
    "",
};

static void
die(const char *what, const char *err)
{
    fprintf(stderr, "fuzz-filter: %s: %s\n", what, err ? err : "(no detail)");
    abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_setup();
    cor_message_init();
    g_autofree char *err = NULL;
    g_autofree char *db = g_build_filename(fuzz_tmp_dir(), "corridor.db", NULL);
    if (cor_store_open(db, true, &store, &err) != COR_OK)
        die("store", err);
    const char *conf = fuzz_write_file("corridor.conf", (const uint8_t *) config_text,
                                       strlen(config_text));
    g_autoptr(cor_config_t) cfg = NULL;
    g_autoptr(cor_filter_site_t) site = NULL;
    if (cor_config_load(conf, true, &cfg, &err) != COR_OK ||
        cor_filter_site_new(cfg, &site, &err) != COR_OK)
        die("filters", err);
    for (size_t i = 0; i < G_N_ELEMENTS(groups); i++) {
        int64_t id = 0;
        if (cor_store_group_create(store, groups[i].name, groups[i].name, groups[i].vis, &id) != COR_OK ||
            cor_store_member_add(store, id, "member@council.example.gov.uk", "Member") != COR_OK)
            die("group", cor_store_error(store));
        for (size_t k = 0; groups[i].settings[k]; k += 2) {
            if (cor_filter_setting_check(groups[i].settings[k], groups[i].settings[k + 1], &err) != COR_OK)
                die(groups[i].settings[k], err);
            if (cor_store_group_setting_set(store, id, groups[i].settings[k],
                                            groups[i].settings[k + 1]) != COR_OK)
                die("setting", cor_store_error(store));
        }
        g_autoptr(cor_group_t) g = NULL;
        if (cor_store_group_get(store, groups[i].name, &g) != COR_OK ||
            cor_filter_policy_load(store, site, g, &policies[i], &err) != COR_OK)
            die("policy", err);
    }
    return 0;
}

static void
check_facts(const cor_filter_facts_t *f)
{
    FUZZ_CHECK(f != NULL, "no facts");
    FUZZ_CHECK(fuzz_utf8(f->env_from) && fuzz_utf8(f->from_addr) && fuzz_utf8(f->message_id),
               "facts strings");
    g_autofree char *low = g_utf8_strdown(f->env_from, -1);
    FUZZ_CHECK(strcmp(low, f->env_from) == 0, "env_from '%s' not lowercase", f->env_from);
    g_autofree char *flow = g_ascii_strdown(f->from_addr, -1);
    FUZZ_CHECK(strcmp(flow, f->from_addr) == 0, "from_addr '%s' not lowercase", f->from_addr);
    for (guint i = 0; i < f->attachment_names->len; i++)
        FUZZ_CHECK(fuzz_utf8(f->attachment_names->pdata[i]), "attachment name %u", i);
    const char *const opt[] = { f->autoreply, f->bounce, f->command, f->list_id,
                                f->marking.where, f->marking.text };
    for (size_t i = 0; i < G_N_ELEMENTS(opt); i++)
        FUZZ_CHECK(!opt[i] || fuzz_utf8(opt[i]), "facts string %zu not UTF-8", i);
}

static void
check_decision(const cor_decision_t *d, size_t chain_len, bool explain)
{
    FUZZ_CHECK(d->verdict != COR_VERDICT_PASS && d->verdict <= COR_VERDICT_ROUTE_COMMAND,
               "verdict %d", d->verdict);
    FUZZ_CHECK(d->trace && d->trace->len <= chain_len, "trace of %u steps, chain %zu",
               d->trace ? d->trace->len : 0, chain_len);
    if (explain)
        FUZZ_CHECK(d->trace->len == chain_len, "explain ran %u of %zu filters", d->trace->len,
                   chain_len);
    if (d->verdict == COR_VERDICT_REJECT) {
        FUZZ_CHECK(!COR_SUCCEEDED(d->status) && cor_status_smtp(d->status)->code >= 500,
                   "reject with status %s", cor_status_to_string(d->status));
        FUZZ_CHECK(d->reason && *d->reason && d->filter, "reject without a reason");
    }
    if (d->verdict == COR_VERDICT_RESTRICT)
        FUZZ_CHECK(d->restricted, "RESTRICT verdict, not restricted");
    FUZZ_CHECK(!d->reason || fuzz_utf8(d->reason), "reason not UTF-8");
    for (guint i = 0; i < d->trace->len; i++) {
        const cor_filter_step_t *s = &g_array_index(d->trace, cor_filter_step_t, i);
        FUZZ_CHECK(s->filter && (!s->why || fuzz_utf8(s->why)), "step %u", i);
    }
    g_autofree char *line = cor_decision_trace(d);
    FUZZ_CHECK(fuzz_utf8(line) && fuzz_no_controls(line, NULL),
               "trace is not one clean line: '%s'", line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *env_from = senders[data[0] % G_N_ELEMENTS(senders)];
    const char *raw = (const char *) data + 1;
    size_t len = size - 1;

    g_autoptr(cor_message_t) msg = NULL;
    if (cor_message_parse_ex(raw, len, 1700000000, COR_PARSE_SUMMARY | COR_PARSE_EDGES, &msg,
                             NULL) != COR_OK)
        return 0;
    g_autoptr(cor_filter_facts_t) facts = cor_filter_scan(msg, raw, len, env_from);
    check_facts(facts);

    for (size_t i = 0; i < G_N_ELEMENTS(policies); i++) {
        const cor_filter_policy_t *p = policies[i];
        g_autofree char *rcpt = g_strdup_printf("%s@lists.example.gov.uk", p->group);
        cor_decision_t d, e;
        cor_status_t s = cor_filter_decide(store, p, facts, rcpt, false, &d);
        FUZZ_CHECK(s == COR_OK, "decide for %s: %s", p->group, cor_status_to_string(s));
        check_decision(&d, p->chain->len, false);
        s = cor_filter_decide(store, p, facts, rcpt, true, &e);
        FUZZ_CHECK(s == COR_OK, "explain for %s: %s", p->group, cor_status_to_string(s));
        check_decision(&e, p->chain->len, true);
        FUZZ_CHECK(d.verdict == e.verdict && d.status == e.status && d.restricted == e.restricted &&
                       g_strcmp0(d.filter, e.filter) == 0,
                   "%s: explain says %s (%s), the chain %s (%s)", p->group,
                   cor_verdict_kind_to_string(e.verdict), e.filter ? e.filter : "-",
                   cor_verdict_kind_to_string(d.verdict), d.filter ? d.filter : "-");
        cor_decision_clear(&d);
        cor_decision_clear(&e);
    }
    return 0;
}
