/* filters/filter.c — the facts, the settings and the chain.  Design notes:
 * filter.h.  The detectors live in autoreply.c and marking.c; this file
 * turns what they found into a verdict for one group. */
#include "filters/filter.h"

#include "core/listconf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "filters/autoreply.h"

const char *
cor_verdict_kind_to_string(cor_verdict_kind_t k)
{
    static const char *const names[] = {
        [COR_VERDICT_PASS] = "pass",
        [COR_VERDICT_ACCEPT] = "accept",
        [COR_VERDICT_RESTRICT] = "restricted",
        [COR_VERDICT_HOLD] = "hold",
        [COR_VERDICT_REJECT] = "reject",
        [COR_VERDICT_DISCARD] = "discard",
        [COR_VERDICT_ROUTE_BOUNCE] = "bounce",
        [COR_VERDICT_ROUTE_COMMAND] = "command",
    };
    return (unsigned) k < G_N_ELEMENTS(names) ? names[k] : "?";
}

char *
cor_filter_list_id(const char *group, const char *domain)
{
    g_autofree char *id = g_strdup_printf("%s.%s", group, domain && *domain ? domain : "localhost");
    return g_ascii_strdown(id, -1);
}

/* ---- facts ---------------------------------------------------------------- */

#define MAX_X_LOOP 64

/* The address in a header value such as "Name <a@b>" or "a@b", lowercase
 * (transfer full; "" when none). */
static char *
bare_address(const char *value)
{
    if (!value)
        return g_strdup("");
    const char *lt = strrchr(value, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;
    g_autofree char *a = lt && gt ? g_strndup(lt + 1, (size_t) (gt - lt - 1)) : g_strdup(value);
    g_strstrip(a);
    return g_ascii_strdown(a, -1);
}

/* The score in "Yes, score=7.1 required=5.0 tests=..." or a bare number. */
static double
spam_score_of(const char *value)
{
    if (!value)
        return NAN;
    const char *p = strstr(value, "score=");
    if (!p) {
        p = strstr(value, "hits=");
        if (p)
            p += 5;
    } else {
        p += 6;
    }
    if (!p) {
        p = value;
        while (*p == ' ')
            p++;
    }
    char *end;
    double d = g_ascii_strtod(p, &end);
    return end == p ? NAN : d;
}

cor_filter_facts_t *
cor_filter_scan(const cor_message_t *msg, const char *raw, size_t len, const char *env_from)
{
    cor_filter_facts_t *f = g_new0(cor_filter_facts_t, 1);
    f->headers = cor_headers_parse(raw, len);
    const cor_headers_t *h = f->headers;
    f->env_from = g_ascii_strdown(env_from ? env_from : "", -1);
    f->null_sender = *f->env_from == '\0';
    f->size = len;
    f->message_id = g_strdup(msg->message_id);
    f->from_addr = g_ascii_strdown(msg->from_addr, -1);

    f->bounce = cor_bounce_detect(msg, h, f->env_from);
    f->autoreply = cor_autoreply_detect(msg, h, f->env_from);
    f->command = cor_command_detect(msg, h);
    cor_marking_scan(msg, h, &f->marking);

    f->attachment_names = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < msg->attachments->len; i++) {
        const cor_attachment_t *a = g_ptr_array_index(msg->attachments, i);
        g_ptr_array_add(f->attachment_names, g_utf8_strdown(a->filename, -1));
    }

    const char *flag = cor_headers_get(h, "X-Spam-Flag");
    f->spam_flag = flag && g_ascii_strncasecmp(flag, "yes", 3) == 0;
    const char *status = cor_headers_get(h, "X-Spam-Status");
    f->spam_score = spam_score_of(status);
    if (isnan(f->spam_score))
        f->spam_score = spam_score_of(cor_headers_get(h, "X-Spam-Score"));
    if (status && g_ascii_strncasecmp(status, "yes", 3) == 0)
        f->spam_flag = true;

    f->x_loop = g_ptr_array_new_with_free_func(g_free);
    const char *v;
    guint pos = 0;
    /* a loop has been through a few list servers, not thousands: the
     * count is capped so a hostile header block costs no more than a scan */
    while (f->x_loop->len < MAX_X_LOOP && (v = cor_headers_next(h, "X-Loop", &pos)) != NULL)
        g_ptr_array_add(f->x_loop, bare_address(v));
    f->list_id = g_strdup(msg->list_id);
    f->our_message_id = cor_message_id_generated(msg->message_id);
    return f;
}

void
cor_filter_facts_free(cor_filter_facts_t *f)
{
    if (!f)
        return;
    cor_headers_free(f->headers);
    g_free(f->env_from);
    g_free(f->autoreply);
    g_free(f->bounce);
    g_free(f->command);
    cor_marking_scan_clear(&f->marking);
    if (f->attachment_names)
        g_ptr_array_unref(f->attachment_names);
    if (f->x_loop)
        g_ptr_array_unref(f->x_loop);
    g_free(f->list_id);
    g_free(f->message_id);
    g_free(f->from_addr);
    g_free(f);
}

/* ---- settings ------------------------------------------------------------- */

typedef struct filter_def filter_def_t;
typedef struct decide_ctx {
    cor_store_t *st;
    const cor_filter_policy_t *p;
    const cor_filter_facts_t *f;
    const char *rcpt;
    const char *rcpt_domain;
    bool explain;                 /* sentences for PASS too (they cost) */
    cor_decision_t *d;
    cor_status_t status;          /* REJECT: the reply's status */
} decide_ctx_t;

/* A PASS's sentence, made only for `corridor filter explain`: intake logs
 * the filters' names and verdicts, and a sentence for each of ten filters
 * on every message is measurable. */
#define SAY_PASS(c, why, ...) \
    do { if ((c)->explain) *(why) = g_strdup_printf(__VA_ARGS__); } while (0)

/* A filter: returns its verdict and one sentence saying why (*why,
 * transfer full; for PASS only when explaining, else NULL).  A store error is
 * returned through ctx->status with COR_VERDICT_PASS... see run_filter. */
typedef cor_status_t (*filter_fn)(decide_ctx_t *c, cor_verdict_kind_t *v, char **why);

struct filter_def {
    const char *name;
    filter_fn fn;
};

static const cor_filter_key_t keys[] = {
    { "chain", "the filters a post goes through, in order" },
    { "posting", "anyone, staff, members or auto" },
    { "staff_domains", "the organisation's mail domains" },
    { "nonmember_action", "reject or hold posts the posting policy does not allow" },
    { "moderation", "none, all or first-post" },
    { "marking_action", "reject, restrict, hold or auto for protectively marked mail" },
    { "marking_levels", "which markings count" },
    { "msip_labels", "Purview label GUIDs that count as a marking" },
    { "sensitivity", "Sensitivity: values that count as a marking" },
    { "max_message_size", "the group's size limit (0: none of its own)" },
    { "blocked_extensions", "attachment extensions refused" },
    { "spam_action", "hold, reject, discard or ignore upstream spam verdicts" },
    { "spam_threshold", "the spam score from which mail counts as spam" },
    { "join_hint", "how to join, told to refused senders" },
    { NULL, NULL },
};

const cor_filter_key_t *
cor_filter_keys(void)
{
    return keys;
}

static const filter_def_t *find_filter(const char *name);

static char **
lower_list(const char *text, bool strip_dot)
{
    char **list = cor_config_split_list(text);
    for (char **p = list; *p; p++) {
        char *low = g_utf8_strdown(*p + (strip_dot && **p == '.' ? 1 : 0), -1);
        g_free(*p);
        *p = low;
    }
    return list;
}

static bool
in_list(char *const *list, const char *s)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* One key's value into the policy; NULL or an error sentence (transfer full). */
static char *
apply(cor_filter_policy_t *p, const char *key, const char *value)
{
    if (strcmp(key, "chain") == 0) {
        g_auto(GStrv) names = cor_config_split_list(value);
        GPtrArray *chain = g_ptr_array_new_with_free_func(g_free);
        for (char **n = names; *n; n++) {
            if (!find_filter(*n)) {
                g_ptr_array_unref(chain);
                return g_strdup_printf("unknown filter '%s' (known: loop, bounce, auto-reply, "
                                       "command, spam, size, attachments, posting, marking, "
                                       "moderation)", *n);
            }
            g_ptr_array_add(chain, g_strdup(*n));
        }
        if (p->chain)
            g_ptr_array_unref(p->chain);
        p->chain = chain;
    } else if (strcmp(key, "posting") == 0) {
        static const char *const names[] = { "auto", "anyone", "staff", "members" };
        for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
            if (strcmp(value, names[i]) == 0) {
                p->posting = (cor_posting_t) i;
                return NULL;
            }
        return g_strdup_printf("'%s' is not anyone, staff, members or auto", value);
    } else if (strcmp(key, "staff_domains") == 0) {
        g_strfreev(p->staff_domains);
        p->staff_domains = lower_list(value, false);
    } else if (strcmp(key, "nonmember_action") == 0) {
        if (strcmp(value, "reject") == 0)
            p->nonmember_action = COR_VERDICT_REJECT;
        else if (strcmp(value, "hold") == 0)
            p->nonmember_action = COR_VERDICT_HOLD;
        else
            return g_strdup_printf("'%s' is not reject or hold", value);
    } else if (strcmp(key, "moderation") == 0) {
        if (strcmp(value, "none") == 0)
            p->moderation = COR_MODERATION_NONE;
        else if (strcmp(value, "all") == 0)
            p->moderation = COR_MODERATION_ALL;
        else if (strcmp(value, "first-post") == 0)
            p->moderation = COR_MODERATION_FIRST_POST;
        else
            return g_strdup_printf("'%s' is not none, all or first-post", value);
    } else if (strcmp(key, "marking_action") == 0) {
        if (strcmp(value, "auto") == 0)
            p->marking_action = COR_VERDICT_PASS;      /* resolved by visibility */
        else if (strcmp(value, "reject") == 0)
            p->marking_action = COR_VERDICT_REJECT;
        else if (strcmp(value, "restrict") == 0)
            p->marking_action = COR_VERDICT_RESTRICT;
        else if (strcmp(value, "hold") == 0)
            p->marking_action = COR_VERDICT_HOLD;
        else
            return g_strdup_printf("'%s' is not reject, restrict, hold or auto", value);
    } else if (strcmp(key, "marking_levels") == 0) {
        g_auto(GStrv) levels = lower_list(value, false);
        for (char **l = levels; *l; l++)
            if (cor_marking_kind_from_string(*l) == COR_MARKING_KIND_COUNT ||
                strcmp(*l, "none") == 0)
                return g_strdup_printf("unknown marking '%s' (known: protect, restricted, "
                                       "confidential, official-sensitive, secret, top-secret, "
                                       "encrypted)", *l);
        g_strfreev(p->marking_levels);
        p->marking_levels = g_steal_pointer(&levels);
    } else if (strcmp(key, "msip_labels") == 0) {
        g_strfreev(p->msip_labels);
        p->msip_labels = lower_list(value, false);
    } else if (strcmp(key, "sensitivity") == 0) {
        g_strfreev(p->sensitivity);
        p->sensitivity = lower_list(value, false);
    } else if (strcmp(key, "max_message_size") == 0) {
        int64_t n;
        if (!cor_config_parse_number(value, COR_CONFIG_SIZE, &n))
            return g_strdup_printf("'%s' is not a size (e.g. 10M)", value);
        p->max_message_size = (uint64_t) n;
    } else if (strcmp(key, "blocked_extensions") == 0) {
        g_strfreev(p->blocked_extensions);
        p->blocked_extensions = lower_list(value, true);
    } else if (strcmp(key, "spam_action") == 0) {
        if (strcmp(value, "hold") == 0)
            p->spam_action = COR_VERDICT_HOLD;
        else if (strcmp(value, "reject") == 0)
            p->spam_action = COR_VERDICT_REJECT;
        else if (strcmp(value, "discard") == 0)
            p->spam_action = COR_VERDICT_DISCARD;
        else if (strcmp(value, "ignore") == 0)
            p->spam_action = COR_VERDICT_PASS;
        else
            return g_strdup_printf("'%s' is not hold, reject, discard or ignore", value);
    } else if (strcmp(key, "spam_threshold") == 0) {
        char *end;
        double d = g_ascii_strtod(value, &end);
        while (*end == ' ')
            end++;
        if (end == value || *end || isnan(d))
            return g_strdup_printf("'%s' is not a number", value);
        p->spam_threshold = d;
    } else if (strcmp(key, "join_hint") == 0) {
        g_free(p->join_hint);
        p->join_hint = g_strdup(value);
    } else {
        return g_strdup_printf("unknown setting '%s'", key);
    }
    return NULL;
}

cor_status_t
cor_filter_setting_check(const char *key, const char *value, char **err)
{
    cor_filter_policy_t p = { 0 };
    char *e = apply(&p, key, value);
    if (p.chain)
        g_ptr_array_unref(p.chain);
    g_strfreev(p.staff_domains);
    g_strfreev(p.marking_levels);
    g_strfreev(p.msip_labels);
    g_strfreev(p.sensitivity);
    g_strfreev(p.blocked_extensions);
    g_free(p.join_hint);
    if (!e)
        return COR_OK;
    if (err)
        *err = g_strdup_printf("%s: %s", key, e);
    g_free(e);
    return COR_ERR_INVALID;
}

struct cor_filter_site {
    GPtrArray *pairs;            /* key, value, ... from [filters] (effective text) */
    guint64 serial;              /* unique to this site (cor_filter_site_serial) */
};

guint64
cor_filter_site_serial(const cor_filter_site_t *site)
{
    return site->serial;
}

cor_status_t
cor_filter_site_new(const cor_config_t *cfg, cor_filter_site_t **out, char **err)
{
    *out = NULL;
    static gint serials;           /* sites are made at start and on SIGHUP */
    cor_filter_site_t *site = g_atomic_rc_box_new0(cor_filter_site_t);
    site->pairs = g_ptr_array_new_with_free_func(g_free);
    site->serial = (guint64) (guint) g_atomic_int_add(&serials, 1) + 1;
    for (const cor_filter_key_t *k = keys; k->key; k++) {
        const char *v = cor_config_value_text(cfg, "filters", k->key);
        g_autofree char *e = NULL;
        if (cor_filter_setting_check(k->key, v ? v : "", &e) != COR_OK) {
            if (err)
                *err = g_strdup_printf("%s: [filters] %s", cor_config_path(cfg)
                                       ? cor_config_path(cfg) : "(defaults)", e);
            cor_filter_site_unref(site);
            return COR_ERR_CONFIG;
        }
        g_ptr_array_add(site->pairs, g_strdup(k->key));
        g_ptr_array_add(site->pairs, g_strdup(v ? v : ""));
    }
    *out = site;
    return COR_OK;
}

cor_filter_site_t *
cor_filter_site_ref(cor_filter_site_t *site)
{
    return g_atomic_rc_box_acquire(site);
}

static void
site_clear(gpointer p)
{
    cor_filter_site_t *site = p;
    g_ptr_array_unref(site->pairs);
}

void
cor_filter_site_unref(cor_filter_site_t *site)
{
    if (site)
        g_atomic_rc_box_release_full(site, site_clear);
}

void
cor_filter_policy_free(cor_filter_policy_t *p)
{
    if (!p)
        return;
    g_free(p->group);
    if (p->chain)
        g_ptr_array_unref(p->chain);
    g_strfreev(p->staff_domains);
    g_strfreev(p->marking_levels);
    g_strfreev(p->msip_labels);
    g_strfreev(p->sensitivity);
    g_strfreev(p->blocked_extensions);
    g_free(p->join_hint);
    if (p->overrides)
        g_hash_table_unref(p->overrides);
    g_free(p);
}

cor_status_t
cor_filter_policy_load(cor_store_t *st, const cor_filter_site_t *site, const cor_group_t *g,
                       cor_filter_policy_t **out, char **err)
{
    *out = NULL;
    g_autoptr(cor_filter_policy_t) p = g_new0(cor_filter_policy_t, 1);
    p->group = g_strdup(g->name);
    p->group_id = g->id;
    p->visibility = g->visibility;
    p->overrides = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (guint i = 0; i + 1 < site->pairs->len; i += 2) {
        char *e = apply(p, site->pairs->pdata[i], site->pairs->pdata[i + 1]);
        if (e) {                 /* checked in cor_filter_site_new */
            g_free(e);
            return COR_ERR_INTERNAL;
        }
    }
    g_autoptr(GPtrArray) pairs = NULL;
    cor_status_t s = cor_store_group_settings(st, g->id, &pairs);
    if (s != COR_OK) {
        if (err)
            *err = g_strdup(cor_store_error(st));
        return s;
    }
    for (guint i = 0; i + 1 < pairs->len; i += 2) {
        const char *key = pairs->pdata[i], *value = pairs->pdata[i + 1];
        bool known = false;
        for (const cor_filter_key_t *k = keys; k->key; k++)
            known = known || strcmp(k->key, key) == 0;
        if (!known)
            continue;            /* a setting of another module (title, ...) */
        char *e = apply(p, key, value);
        if (e) {
            if (err)
                *err = g_strdup_printf("group %s: setting %s: %s", g->name, key, e);
            g_free(e);
            return COR_ERR_CONFIG;
        }
        g_hash_table_insert(p->overrides, g_strdup(key), g_strdup(value));
    }
    *out = g_steal_pointer(&p);
    return COR_OK;
}

/* ---- the filters ---------------------------------------------------------- */

static cor_status_t
f_loop(decide_ctx_t *c, cor_verdict_kind_t *v, char **why)
{
    const cor_filter_facts_t *f = c->f;
    g_autofree char *own = cor_filter_list_id(c->p->group, c->rcpt_domain);
    if (*f->list_id && g_ascii_strcasecmp(f->list_id, own) == 0) {
        *v = COR_VERDICT_DISCARD;
        *why = g_strdup_printf("it carries this group's own List-Id <%s>: a copy of a post came back", own);
        return COR_OK;
    }
    for (guint i = 0; i < f->x_loop->len; i++) {
        if (g_ascii_strcasecmp(f->x_loop->pdata[i], c->rcpt) == 0) {
            *v = COR_VERDICT_DISCARD;
            *why = g_strdup_printf("it carries X-Loop: %s: it has been through this group already",
                                   (const char *) f->x_loop->pdata[i]);
            return COR_OK;
        }
    }
    if (f->our_message_id) {
        *v = COR_VERDICT_DISCARD;
        *why = g_strdup_printf("its Message-ID <%s> is one corridor generated", f->message_id);
        return COR_OK;
    }
    SAY_PASS(c, why, "no List-Id, X-Loop or Message-ID of this group's");
    return COR_OK;
}

static cor_status_t
f_bounce(decide_ctx_t *c, cor_verdict_kind_t *v, char **why)
{
    if (c->f->bounce) {
        *v = COR_VERDICT_ROUTE_BOUNCE;
        *why = g_strdup_printf("a bounce: %s", c->f->bounce);
    } else {
        SAY_PASS(c, why, "not a bounce or delivery report");
    }
    return COR_OK;
}

static cor_status_t
f_autoreply(decide_ctx_t *c, cor_verdict_kind_t *v, char **why)
{
    if (c->f->autoreply) {
        *v = COR_VERDICT_DISCARD;
        *why = g_strdup_printf("an automatic reply: %s", c->f->autoreply);
    } else {
        SAY_PASS(c, why, "no sign of an automatic reply");
    }
    return COR_OK;
}

static cor_status_t
f_command(decide_ctx_t *c, cor_verdict_kind_t *v, char **why)
{
    if (c->f->command) {
        *v = COR_VERDICT_ROUTE_COMMAND;
        *why = g_strdup_printf("a mail command sent to the post address: %s", c->f->command);
    } else {
        SAY_PASS(c, why, "not a mail command");
    }
    return COR_OK;
}

static cor_status_t
f_spam(decide_ctx_t *c, cor_verdict_kind_t *v, char **why)
{
    const cor_filter_facts_t *f = c->f;
    bool over = !isnan(f->spam_score) && f->spam_score >= c->p->spam_threshold;
    if (!f->spam_flag && !over) {
        if (isnan(f->spam_score))
            SAY_PASS(c, why, "no upstream spam verdict");
        else
            SAY_PASS(c, why, "spam score %.1f, below %.1f", f->spam_score, c->p->spam_threshold);
        return COR_OK;
    }
    g_autofree char *sign = f->spam_flag ? g_strdup("X-Spam-Flag: YES")
                                         : g_strdup_printf("spam score %.1f, at least %.1f",
                                                           f->spam_score, c->p->spam_threshold);
    *v = c->p->spam_action;
    if (*v == COR_VERDICT_PASS)
        *why = g_strdup_printf("%s, ignored (spam_action = ignore)", sign);
    else if (*v == COR_VERDICT_REJECT)
        *why = g_strdup_printf("an upstream filter classified it as spam (%s)", sign);
    else
        *why = g_strdup_printf("classified as spam upstream (%s)", sign);
    c->status = COR_ERR_SPAM;
    return COR_OK;
}

static char *
size_text(uint64_t n)
{
    if (n >= 1024 * 1024)
        return g_strdup_printf("%.1f MiB", (double) n / (1024.0 * 1024.0));
    if (n >= 1024)
        return g_strdup_printf("%.1f KiB", (double) n / 1024.0);
    return g_strdup_printf("%" G_GUINT64_FORMAT " bytes", n);
}

static cor_status_t
f_size(decide_ctx_t *c, cor_verdict_kind_t *v, char **why)
{
    if (c->p->max_message_size == 0 || c->f->size <= c->p->max_message_size) {
        if (c->explain) {
            g_autofree char *have = size_text(c->f->size);
            g_autofree char *max = size_text(c->p->max_message_size);
            *why = c->p->max_message_size == 0
                ? g_strdup_printf("%s, the group sets no limit of its own", have)
                : g_strdup_printf("%s, within the group's %s", have, max);
        }
        return COR_OK;
    }
    g_autofree char *have = size_text(c->f->size);
    g_autofree char *max = size_text(c->p->max_message_size);
    *v = COR_VERDICT_REJECT;
    c->status = COR_ERR_GROUP_SIZE;
    *why = g_strdup_printf("the message is %s and %s accepts at most %s; share large files "
                           "with a link instead", have, c->p->group, max);
    return COR_OK;
}

static cor_status_t
f_attachments(decide_ctx_t *c, cor_verdict_kind_t *v, char **why)
{
    const GPtrArray *names = c->f->attachment_names;
    for (guint i = 0; i < names->len; i++) {
        const char *name = names->pdata[i];
        const char *dot = strrchr(name, '.');
        if (!dot || !dot[1])
            continue;
        /* trailing dots and spaces are ignored by Windows: "a.exe." runs */
        g_autofree char *ext = g_strdup(dot + 1);
        g_strchomp(ext);
        if (in_list(c->p->blocked_extensions, ext)) {
            *v = COR_VERDICT_REJECT;
            c->status = COR_ERR_CONTENT_TYPE;
            *why = g_strdup_printf("the attachment \"%s\" is a .%s file, a type Windows runs "
                                   "when it is opened, which %s does not accept; share it "
                                   "another way", name, ext, c->p->group);
            return COR_OK;
        }
    }
    if (c->explain)
        *why = names->len ? g_strdup_printf("%u attachment%s, none of a refused type", names->len,
                                            names->len == 1 ? "" : "s")
                          : g_strdup("no attachments");
    return COR_OK;
}

static const char *
domain_of(const char *addr)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    return at ? at + 1 : "";
}

/* `domain` is one of `domains` or a subdomain of one (core/listconf.h). */
static bool
domain_in(const char *domain, char *const *domains)
{
    return *domain && cor_address_in_domains(domain, (const char *const *) domains);
}

static char *
join_hint(decide_ctx_t *c)
{
    if (c->p->join_hint && *c->p->join_hint)
        return g_strdup(c->p->join_hint);
    return g_strdup_printf("to join, write to %s-request@%s with the subject \"subscribe\"",
                           c->p->group, c->rcpt_domain);
}

static cor_status_t
f_posting(decide_ctx_t *c, cor_verdict_kind_t *v, char **why)
{
    const cor_filter_policy_t *p = c->p;
    const cor_filter_facts_t *f = c->f;
    cor_posting_t posting = p->posting;
    if (posting == COR_POSTING_AUTO)
        posting = p->staff_domains && p->staff_domains[0] ? COR_POSTING_STAFF : COR_POSTING_ANYONE;
    if (posting == COR_POSTING_ANYONE) {
        SAY_PASS(c, why, "anyone may post to this group");
        return COR_OK;
    }
    /* the From: address, or the envelope sender, will do */
    const char *who[] = { f->from_addr, f->env_from };
    for (size_t i = 0; i < G_N_ELEMENTS(who); i++) {
        if (!*who[i])
            continue;
        if (posting == COR_POSTING_STAFF && domain_in(domain_of(who[i]), p->staff_domains)) {
            SAY_PASS(c, why, "%s is staff (a staff domain)", who[i]);
            return COR_OK;
        }
        cor_status_t s = cor_store_member_check(c->st, p->group_id, who[i]);
        if (s == COR_OK) {
            SAY_PASS(c, why, "%s is a member", who[i]);
            return COR_OK;
        }
        if (s != COR_ERR_NOT_FOUND)
            return s;
    }
    const char *sender = *f->from_addr ? f->from_addr : *f->env_from ? f->env_from : "(no address)";
    *v = p->nonmember_action;
    c->status = COR_ERR_NOT_ALLOWED;
    g_autofree char *hint = join_hint(c);
    if (posting == COR_POSTING_STAFF)
        *why = g_strdup_printf("only staff and members may post to %s, and %s is neither; %s",
                               p->group, sender, hint);
    else
        *why = g_strdup_printf("only members may post to %s, and %s is not one; %s",
                               p->group, sender, hint);
    return COR_OK;
}

static cor_status_t
f_marking(decide_ctx_t *c, cor_verdict_kind_t *v, char **why)
{
    const cor_marking_scan_t *m = &c->f->marking;
    const cor_filter_policy_t *p = c->p;
    g_autofree char *found = NULL;
    if (m->kind != COR_MARKING_NONE && in_list(p->marking_levels, cor_marking_kind_to_string(m->kind))) {
        if (m->kind == COR_MARKING_ENCRYPTED)
            found = g_strdup_printf("it is encrypted (%s), so its marking cannot be read", m->where);
        else
            found = g_strdup_printf("it is marked %s (%s)", m->text ? m->text : "", m->where);
    }
    for (guint i = 0; !found && i < m->msip_labels->len; i++)
        if (in_list(p->msip_labels, m->msip_labels->pdata[i])) {
            const char *name = i < m->msip_names->len ? m->msip_names->pdata[i] : "";
            found = g_strdup_printf("it carries the sensitivity label %s%s%s%s", *name ? name : "",
                                    *name ? " (" : "", (const char *) m->msip_labels->pdata[i],
                                    *name ? ")" : "");
        }
    if (!found && *m->sensitivity && in_list(p->sensitivity, m->sensitivity))
        found = g_strdup_printf("it is marked Sensitivity: %s", m->sensitivity);
    if (!found) {
        if (!c->explain)
            return COR_OK;
        *why = m->kind != COR_MARKING_NONE
            ? g_strdup_printf("marked %s (%s), a marking this group does not count",
                              m->text ? m->text : cor_marking_kind_to_string(m->kind), m->where)
            : g_strdup("no protective marking");
        return COR_OK;
    }
    cor_verdict_kind_t action = p->marking_action;
    if (action == COR_VERDICT_PASS)
        action = p->visibility == COR_VISIBILITY_PRIVATE ? COR_VERDICT_RESTRICT : COR_VERDICT_REJECT;
    *v = action;
    c->status = COR_ERR_MARKING;
    switch (action) {
    case COR_VERDICT_REJECT:
        *why = g_strdup_printf("%s and %s is an open group: protectively marked mail belongs in "
                               "the inboxes of the people who need it, so please send it to "
                               "them directly", found, p->group);
        break;
    case COR_VERDICT_RESTRICT:
        *why = g_strdup_printf("%s: kept for records officers only, not archived or sent on", found);
        break;
    default:
        *why = g_strdup_printf("%s: held for a moderator", found);
        break;
    }
    return COR_OK;
}

static cor_status_t
f_moderation(decide_ctx_t *c, cor_verdict_kind_t *v, char **why)
{
    switch (c->p->moderation) {
    case COR_MODERATION_ALL:
        *v = COR_VERDICT_HOLD;
        *why = g_strdup_printf("every post to %s is moderated", c->p->group);
        return COR_OK;
    case COR_MODERATION_FIRST_POST: {
        const char *who = *c->f->from_addr ? c->f->from_addr : c->f->env_from;
        bool first;
        cor_status_t s = cor_store_first_post(c->st, c->p->group_id, who, &first);
        if (s != COR_OK)
            return s;
        if (first) {
            *v = COR_VERDICT_HOLD;
            *why = g_strdup_printf("the first post from %s to %s is moderated", *who ? who : "(no address)",
                                   c->p->group);
        } else {
            SAY_PASS(c, why, "%s has posted to %s before", who, c->p->group);
        }
        return COR_OK;
    }
    case COR_MODERATION_NONE:
    default:
        SAY_PASS(c, why, "the group is not moderated");
        return COR_OK;
    }
}

static const filter_def_t filters[] = {
    { "loop", f_loop },
    { "bounce", f_bounce },
    { "auto-reply", f_autoreply },
    { "command", f_command },
    { "spam", f_spam },
    { "size", f_size },
    { "attachments", f_attachments },
    { "posting", f_posting },
    { "marking", f_marking },
    { "moderation", f_moderation },
};

static const filter_def_t *
find_filter(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(filters); i++)
        if (strcmp(filters[i].name, name) == 0)
            return &filters[i];
    return NULL;
}

/* ---- deciding ------------------------------------------------------------- */

void
cor_decision_clear(cor_decision_t *d)
{
    g_free(d->reason);
    if (d->trace) {
        for (guint i = 0; i < d->trace->len; i++)
            g_free(g_array_index(d->trace, cor_filter_step_t, i).why);
        g_array_unref(d->trace);
    }
    memset(d, 0, sizeof *d);
}

/* A filter's sentence may quote the message ("Auto-Submitted: ..."): it is
 * made one line of valid UTF-8, since it goes into the log line, the reply
 * and the held post's record (transfer full; takes `why`). */
static char *
one_line(char *why)
{
    if (!why)
        return NULL;
    if (!g_utf8_validate(why, -1, NULL)) {
        char *v = g_utf8_make_valid(why, -1);
        g_free(why);
        why = v;
    }
    for (char *p = why; *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            *p = ' ';
    return why;
}

cor_status_t
cor_filter_decide(cor_store_t *st, const cor_filter_policy_t *policy,
                  const cor_filter_facts_t *facts, const char *rcpt, bool explain,
                  cor_decision_t *out)
{
    memset(out, 0, sizeof *out);
    out->trace = g_array_new(FALSE, TRUE, sizeof(cor_filter_step_t));
    decide_ctx_t c = {
        .st = st, .p = policy, .f = facts, .rcpt = rcpt ? rcpt : "",
        .rcpt_domain = domain_of(rcpt), .explain = explain, .d = out,
    };
    bool decided = false;
    for (guint i = 0; i < policy->chain->len; i++) {
        const filter_def_t *def = find_filter(policy->chain->pdata[i]);
        if (!def)
            continue;
        /* A hold never hides a marking: the moderator must not be the one
         * to let OFFICIAL-SENSITIVE mail into an open group, so after a
         * HOLD the marking filter still runs (explain runs everything). */
        bool marking_after_hold = decided && out->verdict == COR_VERDICT_HOLD &&
                                  def->fn == f_marking;
        if (decided && !explain && !marking_after_hold)
            continue;
        cor_verdict_kind_t v = COR_VERDICT_PASS;
        char *why = NULL;
        c.status = COR_OK;
        cor_status_t s = def->fn(&c, &v, &why);
        if (s != COR_OK) {
            g_free(why);
            cor_decision_clear(out);
            return s;
        }
        why = one_line(why);
        cor_filter_step_t step = { def->name, v, why };
        g_array_append_val(out->trace, step);
        if (decided) {
            if (marking_after_hold && v == COR_VERDICT_REJECT) {
                out->verdict = COR_VERDICT_REJECT;
                out->filter = def->name;
                out->status = c.status;
                g_free(out->reason);
                out->reason = g_strdup(why);
            } else if (marking_after_hold && v == COR_VERDICT_RESTRICT) {
                out->restricted = true;          /* approval keeps it restricted */
            }
            continue;            /* explain: shown, not counted */
        }
        if (v == COR_VERDICT_RESTRICT) {
            out->restricted = true;
            if (!out->reason)
                out->reason = g_strdup(why);
            continue;
        }
        if (v != COR_VERDICT_PASS) {
            decided = true;
            out->verdict = v;
            out->filter = def->name;
            out->status = v == COR_VERDICT_REJECT ? c.status : COR_OK;
            g_free(out->reason);
            out->reason = g_strdup(why);
        }
    }
    if (!decided) {
        out->verdict = out->restricted ? COR_VERDICT_RESTRICT : COR_VERDICT_ACCEPT;
        if (out->restricted) {
            /* the first RESTRICT, whose sentence is the reason */
            for (guint i = 0; i < out->trace->len && !out->filter; i++)
                if (g_array_index(out->trace, cor_filter_step_t, i).verdict == COR_VERDICT_RESTRICT)
                    out->filter = g_array_index(out->trace, cor_filter_step_t, i).filter;
        } else {
            out->reason = g_strdup("no filter objected");
        }
    }
    return COR_OK;
}

char *
cor_decision_trace(const cor_decision_t *d)
{
    GString *t = g_string_new(NULL);
    for (guint i = 0; d->trace && i < d->trace->len; i++) {
        const cor_filter_step_t *s = &g_array_index(d->trace, cor_filter_step_t, i);
        g_string_append_printf(t, "%s%s=%s", i ? " " : "", s->filter,
                               cor_verdict_kind_to_string(s->verdict));
    }
    g_string_append_printf(t, " -> %s", cor_verdict_kind_to_string(d->verdict));
    if (d->verdict != COR_VERDICT_ACCEPT && d->filter)
        g_string_append_printf(t, " (%s: %s)", d->filter, d->reason ? d->reason : "");
    return g_string_free(t, FALSE);
}
