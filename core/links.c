/* core/links.c — links and addresses in generated mail (links.h). */
#include "core/links.h"

#include <glib.h>
#include <string.h>

#include "core/message.h"

char *
cor_link_message_path(const char *group, const char *message_id)
{
    char hex[65];
    cor_sha256_hex(message_id, strlen(message_id), hex);
    return g_strdup_printf("g/%s/m/%.2s/%.16s.html", group, hex, hex);
}

char *
cor_link_message_url(const char *base_url, const char *group, const char *message_id)
{
    g_autofree char *path = cor_link_message_path(group, message_id);
    return g_strconcat(base_url, path, NULL);
}

char *
cor_link_group_url(const char *base_url, const char *group)
{
    return g_strdup_printf("%sg/%s/", base_url, group);
}

char *
cor_link_unsubscribe_url(const char *base_url, const char *token)
{
    return g_strdup_printf("%su/%s", base_url, token);
}

char *
cor_link_digest_stop_url(const char *base_url, const char *token)
{
    return g_strdup_printf("%su/%s/digest", base_url, token);
}

char *
cor_link_verp_sender(const char *group, const char *list_domain, const char *address)
{
    const char *at = address ? strrchr(address, '@') : NULL;
    if (!at)
        return g_strdup_printf("%s-bounces@%s", group, list_domain);
    g_autofree char *local = g_strndup(address, (gsize) (at - address));
    return g_strdup_printf("%s-bounces+%s=%s@%s", group, local, at + 1, list_domain);
}

char *
cor_link_verp_decode(const char *detail)
{
    if (!detail || !*detail)
        return NULL;
    const char *eq = strrchr(detail, '=');
    if (!eq || eq == detail || !eq[1] || strchr(eq + 1, '@'))
        return NULL;
    g_autofree char *local = g_strndup(detail, (gsize) (eq - detail));
    g_autofree char *addr = g_strdup_printf("%s@%s", local, eq + 1);
    return g_ascii_strdown(addr, -1);
}

char *
cor_link_percent_encode(const char *s, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    GString *out = g_string_sized_new(strlen(s) + 16);
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (g_ascii_isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
            (keep && *p < 0x80 && strchr(keep, *p))) {
            g_string_append_c(out, (char) *p);
        } else {
            g_string_append_c(out, '%');
            g_string_append_c(out, hex[*p >> 4]);
            g_string_append_c(out, hex[*p & 15]);
        }
    }
    return g_string_free(out, FALSE);
}
