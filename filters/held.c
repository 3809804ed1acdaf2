/* filters/held.c — approving and rejecting held posts.  See held.h. */
#include "filters/held.h"

#include <string.h>
#include <time.h>

#include "core/message.h"

static cor_status_t
fail(cor_store_t *st, cor_status_t s, char **err)
{
    if (err && !*err)
        *err = g_strdup(cor_store_error(st));
    if (cor_store_in_transaction(st))
        cor_store_rollback(st);
    return s;
}

cor_status_t
cor_held_approve_in(cor_store_t *st, int64_t id, const char *by, int64_t *msg_row,
                    int64_t *copies, char **err)
{
    if (msg_row)
        *msg_row = 0;
    if (copies)
        *copies = 0;
    cor_status_t s;
    g_autoptr(cor_held_t) h = NULL;
    g_autoptr(GBytes) raw = NULL;
    if ((s = cor_store_held_get(st, id, &h, &raw)) != COR_OK) {
        if (err)
            *err = g_strdup(cor_store_error(st));
        return s;
    }
    if (g_strcmp0(h->status, "held") != 0) {
        if (err)
            *err = g_strdup_printf("held post %" G_GINT64_FORMAT " was %s already%s%s", id,
                                   h->status, *h->decided_by ? " by " : "", h->decided_by);
        return COR_ERR_INVALID;
    }
    gsize len;
    const char *data = g_bytes_get_data(raw, &len);
    g_autoptr(cor_message_t) msg = NULL;
    g_autofree char *perr = NULL;
    if ((s = cor_message_parse_summary(data ? data : "", len, h->received, &msg, &perr)) != COR_OK) {
        if (err)
            *err = g_strdup_printf("held post %" G_GINT64_FORMAT " cannot be read: %s", id, perr);
        return s;
    }
    cor_intake_t in;
    s = cor_store_add_message_as(st, h->group_id, data ? data : "", len, h->sha256, h->received,
                                 msg, h->restricted ? COR_POST_RESTRICTED : COR_POST_ACCEPTED, &in);
    int64_t row = in.msg;
    bool dup = in.duplicate;
    cor_intake_clear(&in);
    if (!COR_SUCCEEDED(s)) {
        if (err)
            *err = g_strdup(cor_store_error(st));
        return s;
    }
    /* the members' copies, as for a post accepted at once (never for a
     * restricted one) */
    if (!dup && !h->restricted) {
        const char *at = strrchr(h->rcpt, '@');
        int64_t n = 0;
        if ((s = cor_store_outbox_post(st, h->group_id, row, at ? at + 1 : "", msg->from_addr,
                                       &n)) != COR_OK) {
            if (err)
                *err = g_strdup(cor_store_error(st));
            return s;
        }
        if (copies)
            *copies = n;
    }
    if ((s = cor_store_held_decide(st, id, "approved", (int64_t) time(NULL), by, "")) != COR_OK) {
        if (err)
            *err = g_strdup(cor_store_error(st));
        return s;
    }
    if (msg_row)
        *msg_row = row;
    return COR_OK;
}

cor_status_t
cor_held_approve(cor_store_t *st, int64_t id, const char *by, int64_t *msg_row, char **err)
{
    cor_status_t s = cor_store_begin(st);
    if (s != COR_OK)
        return fail(st, s, err);
    int64_t row = 0;
    if ((s = cor_held_approve_in(st, id, by, &row, NULL, err)) != COR_OK)
        return fail(st, s, err);
    if ((s = cor_store_commit(st)) != COR_OK)
        return fail(st, s, err);
    if (msg_row)
        *msg_row = row;
    return COR_OK;
}

cor_status_t
cor_held_reject(cor_store_t *st, int64_t id, const char *by, const char *note, char **err)
{
    cor_status_t s = cor_store_begin(st);
    if (s != COR_OK)
        return fail(st, s, err);
    g_autoptr(cor_held_t) h = NULL;
    if ((s = cor_store_held_get(st, id, &h, NULL)) != COR_OK)
        return fail(st, s, err);
    if ((s = cor_store_held_decide(st, id, "rejected", (int64_t) time(NULL), by, note)) != COR_OK)
        return fail(st, s, err);
    if ((s = cor_store_commit(st)) != COR_OK)
        return fail(st, s, err);
    return COR_OK;
}
