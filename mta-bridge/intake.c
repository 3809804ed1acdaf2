/* mta-bridge/intake.c — parse and store deliveries.  Design notes: intake.h. */
#include "mta-bridge/intake.h"

#include <string.h>

cor_delivery_t *
cor_delivery_new(cor_lmtp_envelope_t *env, int64_t received)
{
    cor_delivery_t *d = g_new0(cor_delivery_t, 1);
    d->env = env;
    d->received = received;
    d->results = g_new0(cor_status_t, env->rcpts->len);
    d->details = g_new0(char *, env->rcpts->len + 1);
    return d;
}

void
cor_delivery_free(cor_delivery_t *d)
{
    if (!d)
        return;
    cor_lmtp_envelope_free(d->env);
    cor_message_free(d->msg);
    g_free(d->parse_error);
    g_free(d->results);
    g_strfreev(d->details);
    g_free(d);
}

void
cor_delivery_parse(cor_delivery_t *d)
{
    gsize len;
    const char *raw = g_bytes_get_data(d->env->data, &len);
    cor_sha256_hex(raw ? raw : "", len, d->sha256);
    /* the store needs headers and attachments only; the indexer parses the
     * stored message in full when it gets to it */
    d->parse_status = cor_message_parse_summary(raw ? raw : "", len, d->received, &d->msg,
                                                &d->parse_error);
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

/* One recipient's copy, under a savepoint.  *fatal is set when the
 * transaction itself is lost (nothing in it may be answered 250). */
static cor_status_t
store_one(cor_store_t *st, cor_delivery_t *d, const cor_lmtp_rcpt_t *r, char **detail,
          bool *fatal)
{
    gsize len;
    const char *raw = g_bytes_get_data(d->env->data, &len);
    raw = raw ? raw : "";
    cor_status_t s = cor_store_savepoint(st);
    if (s != COR_OK)
        return s;
    if (r->kind == COR_RCPT_POST) {
        cor_intake_t in;
        s = cor_store_add_message(st, r->group_id, raw, len, d->sha256, d->received, d->msg, &in);
        if (COR_SUCCEEDED(s)) {
            if (d->row == 0)
                d->row = in.msg;
            *detail = g_strdup_printf("%s <%s>%s", r->group, d->msg->message_id,
                                      s == COR_DUPLICATE ? "" : " stored");
        }
        cor_intake_clear(&in);
    } else {
        static const cor_control_kind_t kinds[] = {
            [COR_RCPT_REQUEST] = COR_CONTROL_REQUEST,
            [COR_RCPT_OWNER] = COR_CONTROL_OWNER,
            [COR_RCPT_BOUNCES] = COR_CONTROL_BOUNCES,
        };
        s = cor_store_control_add(st, r->group_id, kinds[r->kind], r->detail, d->env->from,
                                  r->address, raw, len, d->sha256, d->received, NULL);
        if (COR_SUCCEEDED(s))
            *detail = g_strdup_printf("%s-%s%s", r->group, cor_control_kind_to_string(kinds[r->kind]),
                                      s == COR_DUPLICATE ? "" : " stored");
    }
    if (COR_SUCCEEDED(s)) {
        cor_status_t rs = cor_store_savepoint_release(st);
        if (rs == COR_OK)
            return s;
        s = rs;
        g_clear_pointer(detail, g_free);
    }
    *detail = g_strdup(cor_store_error(st));
    if (cor_store_savepoint_rollback(st) != COR_OK)
        *fatal = true;
    return s;
}

cor_status_t
cor_delivery_store(cor_store_t *st, cor_delivery_t **ds, guint n, char **err)
{
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
                cor_status_t rs = store_one(st, d, r, &detail, &fatal);
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
    int64_t now = g_get_monotonic_time();
    for (guint k = 0; k < n; k++)
        ds[k]->done_us = now;
    return s;
}
