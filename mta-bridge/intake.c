/* mta-bridge/intake.c — parse and store deliveries.  Design notes: intake.h. */
#include "mta-bridge/intake.h"

#include <string.h>

#include "core/log.h"
#include "mta-bridge/control.h"

static gint filters_off;      /* cor_intake_set_filters(false): benchmarks only */

void
cor_intake_set_filters(bool on)
{
    g_atomic_int_set(&filters_off, on ? 0 : 1);
}

cor_delivery_t *
cor_delivery_new(cor_lmtp_envelope_t *env, int64_t received)
{
    cor_delivery_t *d = g_new0(cor_delivery_t, 1);
    d->env = env;
    d->received = received;
    d->results = g_new0(cor_status_t, env->rcpts->len);
    d->details = g_new0(char *, env->rcpts->len + 1);
    d->traces = g_new0(char *, env->rcpts->len + 1);
    return d;
}

void
cor_delivery_free(cor_delivery_t *d)
{
    if (!d)
        return;
    /* one entry per recipient, any of them NULL: g_strfreev would stop at
     * the first NULL */
    for (guint i = 0; i < d->env->rcpts->len; i++) {
        g_free(d->details[i]);
        g_free(d->traces[i]);
    }
    g_free(d->details);
    g_free(d->traces);
    g_free(d->results);
    cor_lmtp_envelope_free(d->env);
    cor_message_free(d->msg);
    cor_filter_facts_free(d->facts);
    g_free(d->parse_error);
    g_free(d);
}

void
cor_delivery_parse(cor_delivery_t *d)
{
    gsize len;
    const char *raw = g_bytes_get_data(d->env->data, &len);
    cor_sha256_hex(raw ? raw : "", len, d->sha256);
    /* the store needs headers and attachments only, the filters the first
     * and last lines of the body too; the indexer parses the stored message
     * in full when it gets to it */
    bool filters = !g_atomic_int_get(&filters_off);
    d->parse_status = cor_message_parse_ex(raw ? raw : "", len, d->received,
                                           COR_PARSE_SUMMARY | (filters ? COR_PARSE_EDGES : 0),
                                           &d->msg, &d->parse_error);
    if (d->parse_status != COR_OK || !filters)
        return;
    for (guint i = 0; i < d->env->rcpts->len; i++) {
        const cor_lmtp_rcpt_t *r = g_ptr_array_index(d->env->rcpts, i);
        if (r->kind == COR_RCPT_POST) {
            d->facts = cor_filter_scan(d->msg, raw ? raw : "", len, d->env->from);
            break;
        }
    }
}

guint
cor_delivery_accepted(const cor_delivery_t *d)
{
    guint n = 0;
    for (guint i = 0; i < d->env->rcpts->len; i++)
        n += COR_SUCCEEDED(d->results[i]);
    return n;
}

static void
set_result(cor_delivery_t *d, guint i, cor_status_t s, char *detail)
{
    d->results[i] = s;
    g_free(d->details[i]);
    d->details[i] = detail;
}

struct cor_intake_cache {
    guint64 site_serial;             /* the defaults the policies were made with */
    int64_t loaded_us;               /* monotonic time of the first load */
    GHashTable *policies;            /* int64 group id → cor_filter_policy_t* */
};

cor_intake_cache_t *
cor_intake_cache_new(void)
{
    cor_intake_cache_t *c = g_new0(cor_intake_cache_t, 1);
    c->policies = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                        (GDestroyNotify) cor_filter_policy_free);
    return c;
}

void
cor_intake_cache_free(cor_intake_cache_t *c)
{
    if (!c)
        return;
    g_hash_table_unref(c->policies);
    g_free(c);
}

/* What one batch shares: the site's filter defaults and the groups'
 * policies. */
typedef struct batch {
    const cor_filter_site_t *site;
    GHashTable *policies;        /* the cache's, or the batch's own */
} batch_t;

static cor_status_t
policy_for(cor_store_t *st, batch_t *b, const cor_lmtp_rcpt_t *r,
           const cor_filter_policy_t **out, char **detail)
{
    cor_filter_policy_t *p = g_hash_table_lookup(b->policies, &r->group_id);
    if (!p) {
        g_autoptr(cor_group_t) g = NULL;
        cor_status_t s = cor_store_group_get(st, r->group, &g);
        if (s != COR_OK) {
            *detail = g_strdup(cor_store_error(st));
            return s;
        }
        g_autofree char *err = NULL;
        if ((s = cor_filter_policy_load(st, b->site, g, &p, &err)) != COR_OK) {
            cor_log_error("cannot apply the filters of group %s: %s", r->group, err);
            *detail = g_steal_pointer(&err);
            return s;
        }
        int64_t *key = g_new(int64_t, 1);
        *key = r->group_id;
        g_hash_table_insert(b->policies, key, p);
    }
    *out = p;
    return COR_OK;
}

/* A post: the group's filters decide, then the verdict is carried out. */
static cor_status_t
store_post(cor_store_t *st, batch_t *b, cor_delivery_t *d, const cor_lmtp_rcpt_t *r, guint idx,
           char **detail)
{
    gsize len;
    const char *raw = g_bytes_get_data(d->env->data, &len);
    raw = raw ? raw : "";
    cor_decision_t dec = { .verdict = COR_VERDICT_ACCEPT };
    cor_status_t s;
    if (d->facts) {
        const cor_filter_policy_t *policy;
        if ((s = policy_for(st, b, r, &policy, detail)) != COR_OK)
            return s;
        if ((s = cor_filter_decide(st, policy, d->facts, r->address, false, &dec)) != COR_OK) {
            *detail = g_strdup(cor_store_error(st));
            return s;
        }
        g_free(d->traces[idx]);
        d->traces[idx] = cor_decision_trace(&dec);
    }
    const char *mid = d->msg->message_id;
    switch (dec.verdict) {
    case COR_VERDICT_ACCEPT:
    case COR_VERDICT_RESTRICT: {
        cor_intake_t in;
        s = cor_store_add_message_as(st, r->group_id, raw, len, d->sha256, d->received, d->msg,
                                     dec.verdict == COR_VERDICT_RESTRICT ? COR_POST_RESTRICTED
                                                                         : COR_POST_ACCEPTED,
                                     &in);
        int64_t copies = 0;
        if (s == COR_OK && dec.verdict == COR_VERDICT_ACCEPT) {
            /* the members' copies, in this same transaction (outbound.h) */
            const char *at = strrchr(r->address, '@');
            s = cor_store_outbox_post(st, r->group_id, in.msg, at ? at + 1 : "",
                                      d->msg->from_addr, &copies);
            if (copies > 0)
                d->wakes_outbound = true;
        }
        if (COR_SUCCEEDED(s)) {
            if (d->row == 0)
                d->row = in.msg;
            g_autofree char *n = copies > 0 ? g_strdup_printf(", %" G_GINT64_FORMAT " copies queued",
                                                              copies) : NULL;
            *detail = g_strdup_printf("%s <%s>%s%s%s", r->group, mid,
                                      s == COR_DUPLICATE ? "" : " stored",
                                      dec.verdict == COR_VERDICT_RESTRICT ? " (restricted)" : "",
                                      n ? n : "");
        }
        cor_intake_clear(&in);
        break;
    }
    case COR_VERDICT_HOLD: {
        int64_t held_id = 0;
        s = cor_store_held_add(st, r->group_id, raw, len, d->sha256, d->msg, d->env->from,
                               r->address, d->received, dec.filter, dec.reason, dec.restricted,
                               &held_id);
        if (s == COR_OK) {
            /* the moderators' request, in this same transaction */
            const char *at = strrchr(r->address, '@');
            s = cor_control_hold_request(st, r->group_id, r->group, at ? at + 1 : "", held_id,
                                         d->msg, dec.filter, dec.reason);
            d->wakes_outbound = true;
        }
        if (s == COR_DUPLICATE)
            *detail = g_strdup_printf("%s <%s> was held already", r->group, mid);
        else if (s == COR_OK)
            *detail = g_strdup_printf("%s <%s> held for moderation (%s)", r->group, mid, dec.filter);
        break;
    }
    case COR_VERDICT_REJECT:
        s = dec.status;
        *detail = g_strdup(dec.reason);
        break;
    case COR_VERDICT_DISCARD:
        s = COR_OK;
        *detail = g_strdup_printf("%s <%s> discarded (%s)", r->group, mid, dec.filter);
        break;
    case COR_VERDICT_ROUTE_BOUNCE:
    case COR_VERDICT_ROUTE_COMMAND: {
        bool bounce = dec.verdict == COR_VERDICT_ROUTE_BOUNCE;
        s = cor_store_control_add(st, r->group_id, bounce ? COR_CONTROL_BOUNCES : COR_CONTROL_REQUEST,
                                  "", d->env->from, r->address, raw, len, d->sha256, d->received,
                                  NULL);
        if (s == COR_OK)
            d->wakes_outbound = true;
        if (COR_SUCCEEDED(s))
            *detail = g_strdup_printf("%s <%s> passed to %s", r->group, mid,
                                      bounce ? "bounce processing" : "the command handler");
        break;
    }
    case COR_VERDICT_PASS:
    default:
        s = COR_ERR_INTERNAL;
        break;
    }
    cor_decision_clear(&dec);
    return s;
}

/* One recipient's copy, under a savepoint.  *fatal is set when the
 * transaction itself is lost (nothing in it may be answered 250). */
static cor_status_t
store_one(cor_store_t *st, batch_t *b, cor_delivery_t *d, const cor_lmtp_rcpt_t *r, guint idx,
          char **detail, bool *fatal)
{
    gsize len;
    const char *raw = g_bytes_get_data(d->env->data, &len);
    raw = raw ? raw : "";
    cor_status_t s = cor_store_savepoint(st);
    if (s != COR_OK)
        return s;
    if (r->kind == COR_RCPT_POST) {
        s = store_post(st, b, d, r, idx, detail);
    } else {
        static const cor_control_kind_t kinds[] = {
            [COR_RCPT_REQUEST] = COR_CONTROL_REQUEST,
            [COR_RCPT_OWNER] = COR_CONTROL_OWNER,
            [COR_RCPT_BOUNCES] = COR_CONTROL_BOUNCES,
            [COR_RCPT_JOIN] = COR_CONTROL_REQUEST,
            [COR_RCPT_LEAVE] = COR_CONTROL_REQUEST,
        };
        /* -join and -leave are commands with the verb in the address */
        const char *detail_in = r->kind == COR_RCPT_JOIN    ? "join"
                                : r->kind == COR_RCPT_LEAVE ? "leave"
                                                            : r->detail;
        s = cor_store_control_add(st, r->group_id, kinds[r->kind], detail_in, d->env->from,
                                  r->address, raw, len, d->sha256, d->received, NULL);
        if (s == COR_OK)
            d->wakes_outbound = true;
        if (COR_SUCCEEDED(s))
            *detail = g_strdup_printf("%s-%s%s", r->group,
                                      r->kind == COR_RCPT_JOIN    ? "join"
                                      : r->kind == COR_RCPT_LEAVE ? "leave"
                                                                  : cor_control_kind_to_string(kinds[r->kind]),
                                      s == COR_DUPLICATE ? "" : " stored");
    }
    if (COR_SUCCEEDED(s)) {
        cor_status_t rs = cor_store_savepoint_release(st);
        if (rs == COR_OK)
            return s;
        s = rs;
        g_clear_pointer(detail, g_free);
    }
    if (!*detail)
        *detail = g_strdup(cor_store_error(st));
    if (cor_store_savepoint_rollback(st) != COR_OK)
        *fatal = true;
    return s;
}

cor_status_t
cor_delivery_store(cor_store_t *st, const cor_filter_site_t *site, cor_intake_cache_t *cache,
                   cor_delivery_t **ds, guint n, char **err)
{
    batch_t b = { .site = site };
    if (cache) {
        int64_t now = g_get_monotonic_time();
        guint64 serial = cor_filter_site_serial(site);
        if (cache->site_serial != serial || now - cache->loaded_us > COR_INTAKE_POLICY_TTL_US) {
            g_hash_table_remove_all(cache->policies);
            cache->site_serial = serial;
            cache->loaded_us = now;
        }
        b.policies = g_hash_table_ref(cache->policies);
    } else {
        b.policies = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                           (GDestroyNotify) cor_filter_policy_free);
    }
    cor_status_t s = cor_store_begin(st);
    bool fatal = false;
    if (s == COR_OK) {
        for (guint k = 0; k < n && !fatal; k++) {
            cor_delivery_t *d = ds[k];
            for (guint i = 0; i < d->env->rcpts->len && !fatal; i++) {
                const cor_lmtp_rcpt_t *r = g_ptr_array_index(d->env->rcpts, i);
                if (r->kind == COR_RCPT_POST && d->parse_status != COR_OK) {
                    set_result(d, i, d->parse_status, g_strdup(d->parse_error));
                    continue;
                }
                char *detail = NULL;
                cor_status_t rs = store_one(st, &b, d, r, i, &detail, &fatal);
                set_result(d, i, rs, detail);
                if (fatal)
                    s = COR_SUCCEEDED(rs) ? COR_ERR_STORE : rs;
            }
        }
        if (!fatal)
            s = cor_store_commit(st);
    }
    if (s != COR_OK) {
        /* nothing of the batch is stored: nobody may hear 250 */
        if (err && !*err)
            *err = g_strdup(cor_store_error(st));
        cor_store_rollback(st);
        /* a store failure is temporary for everyone in the batch, even
         * those whose own copy had failed for good (it was not decided) */
        cor_status_t temp = cor_status_smtp(s)->code / 100 == 4 ? s : COR_ERR_STORE;
        for (guint k = 0; k < n; k++) {
            cor_delivery_t *d = ds[k];
            d->row = 0;
            for (guint i = 0; i < d->env->rcpts->len; i++)
                if (COR_SUCCEEDED(d->results[i]) || fatal)
                    set_result(d, i, temp, NULL);
        }
    }
    g_hash_table_unref(b.policies);
    int64_t now = g_get_monotonic_time();
    for (guint k = 0; k < n; k++)
        ds[k]->done_us = now;
    return s;
}
