/* mta-bridge/notices.c — generated mail for a group (notices.h). */
#include "mta-bridge/notices.h"

#include <string.h>

#include "core/mailgen.h"

cor_status_t
cor_notice_queue(cor_store_t *st, const cor_notice_t *n, char **message_id)
{
    if (!n->to || !n->to[0])
        return COR_OK;
    g_autofree char *from = g_strdup_printf("%s-request@%s", n->group, n->domain);
    g_autofree char *from_name = g_strdup_printf("%s (corridor)", n->group);
    g_autofree char *to = g_strjoinv(", ", (char **) n->to);
    cor_mailgen_t m = {
        .kind = n->kind,
        .domain = n->domain,
        .group = n->group,
        .from_name = from_name,
        .from_addr = from,
        .to = to,
        .subject = n->subject,
        .in_reply_to = n->in_reply_to,
        .reply_to = n->reply_to,
        .text = n->text,
    };
    size_t len;
    g_autofree char *bytes = cor_mailgen_build(&m, &len, message_id);
    g_autofree char *env = n->null_sender ? g_strdup("")
                                          : g_strdup_printf("%s-bounces@%s", n->group, n->domain);
    return cor_store_outbox_add(st, n->kind, n->group_id, n->domain, env, bytes, len, n->to, NULL);
}

cor_status_t
cor_notice_owners(cor_store_t *st, int64_t group_id, const char *group, const char *domain,
                  const char *subject, const char *text)
{
    g_autoptr(GPtrArray) to = NULL;
    cor_status_t s = cor_store_member_staff(st, group_id, "owner", &to);
    if (s == COR_OK && to->len == 0) {
        g_ptr_array_unref(to);
        to = NULL;
        s = cor_store_member_staff(st, group_id, "moderator", &to);
    }
    if (s != COR_OK)
        return s;
    g_ptr_array_add(to, NULL);
    cor_notice_t n = {
        .kind = "notice",
        .group_id = group_id,
        .group = group,
        .domain = domain,
        .to = (const char *const *) to->pdata,
        .subject = subject,
        .text = text,
    };
    return cor_notice_queue(st, &n, NULL);
}
