/* mta-bridge/postfix_maps.c — see postfix_maps.h. */
#include "mta-bridge/postfix_maps.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

static const char *const suffixes[] = { "", "-request", "-owner", "-bounces", "-join", "-leave" };

static cor_status_t
write_file(const char *dir, const char *name, const GString *text, char **err)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    GError *e = NULL;
    /* g_file_set_contents writes a temporary file, fsyncs and renames it */
    if (!g_file_set_contents_full(path, text->str, (gssize) text->len,
                                  G_FILE_SET_CONTENTS_CONSISTENT, 0644, &e)) {
        *err = g_strdup_printf("cannot write '%s': %s", path, e->message);
        g_error_free(e);
        return COR_ERR_IO;
    }
    return COR_OK;
}

cor_status_t
cor_postfix_maps_write(cor_store_t *st, const char *dir, const char *const *domains,
                       const char *transport, char **err)
{
    if (!domains || !domains[0]) {
        *err = g_strdup("no list domain: set [lmtp] domains (or [postfix] domain)");
        return COR_ERR_CONFIG;
    }
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        *err = g_strdup_printf("cannot create '%s': %s", dir, g_strerror(errno));
        return COR_ERR_IO;
    }
    g_autoptr(GPtrArray) groups = NULL;
    cor_status_t s = cor_store_group_list(st, false, &groups);
    if (s != COR_OK) {
        *err = g_strdup(cor_store_error(st));
        return s;
    }
    const char *head = "# written by 'corridor postfix-maps': do not edit, it is rewritten\n"
                       "# whenever groups change\n";
    g_autoptr(GString) tr = g_string_new(head);
    g_autoptr(GString) rcpt = g_string_new(head);
    g_autoptr(GString) dom = g_string_new(head);
    for (size_t d = 0; domains[d]; d++) {
        g_autofree char *domain = g_ascii_strdown(domains[d], -1);
        g_string_append_printf(dom, "%s OK\n", domain);
        for (guint i = 0; i < groups->len; i++) {
            const cor_group_t *g = g_ptr_array_index(groups, i);
            for (size_t k = 0; k < G_N_ELEMENTS(suffixes); k++) {
                g_string_append_printf(tr, "%s%s@%s %s\n", g->name, suffixes[k], domain, transport);
                g_string_append_printf(rcpt, "%s%s@%s OK\n", g->name, suffixes[k], domain);
            }
        }
    }
    if ((s = write_file(dir, "transport", tr, err)) != COR_OK ||
        (s = write_file(dir, "relay_recipient_maps", rcpt, err)) != COR_OK ||
        (s = write_file(dir, "relay_domains", dom, err)) != COR_OK)
        return s;
    return COR_OK;
}
