/* core/listconf.c — a group's distribution settings (listconf.h). */
#include "core/listconf.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"

static const cor_list_key_t keys[] = {
    { "subject_prefix", "Text put before the subject of every copy, e.g. \"[planning] \"; empty: none." },
    { "footer", "Plain text added at the end of every copy (a line \\n starts a new line); empty: none." },
    { "reply_to", "group (replies go to the group, the author in Cc) or author (Reply-To: the author)." },
    { "dmarc", "From: rewriting: none, munge-external or munge-all." },
    { "digest_time", "Local time (Europe/London) the daily digest goes, HH:MM." },
    { "digest_day", "daily, or the weekday of a weekly digest (monday ... sunday)." },
    { NULL, NULL },
};

const cor_list_key_t *
cor_list_keys(void)
{
    return keys;
}

static const char *const weekdays[] = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
};

static bool
printable(const char *v, bool newlines)
{
    if (!g_utf8_validate(v, -1, NULL))
        return false;
    for (const unsigned char *p = (const unsigned char *) v; *p; p++)
        if ((*p < ' ' && !(newlines && (*p == '\n' || *p == '\t'))) || *p == 0x7f)
            return false;
    return true;
}

cor_status_t
cor_list_setting_check(const char *key, const char *value, char **err)
{
    *err = NULL;
    if (strcmp(key, "subject_prefix") == 0) {
        if (strlen(value) > 60 || !printable(value, false)) {
            *err = g_strdup("subject_prefix: at most 60 characters of printable UTF-8 on one line");
            return COR_ERR_INVALID;
        }
        return COR_OK;
    }
    if (strcmp(key, "footer") == 0) {
        if (strlen(value) > 2000 || !printable(value, true)) {
            *err = g_strdup("footer: at most 2000 characters of printable UTF-8");
            return COR_ERR_INVALID;
        }
        return COR_OK;
    }
    if (strcmp(key, "reply_to") == 0) {
        if (strcmp(value, "group") && strcmp(value, "author")) {
            *err = g_strdup_printf("reply_to: '%s' is not group or author", value);
            return COR_ERR_INVALID;
        }
        return COR_OK;
    }
    if (strcmp(key, "dmarc") == 0) {
        if (strcmp(value, "none") && strcmp(value, "munge-external") && strcmp(value, "munge-all")) {
            *err = g_strdup_printf("dmarc: '%s' is not none, munge-external or munge-all", value);
            return COR_ERR_INVALID;
        }
        return COR_OK;
    }
    if (strcmp(key, "digest_time") == 0) {
        unsigned h, m;
        char extra;
        if (strlen(value) != 5 || sscanf(value, "%2u:%2u%c", &h, &m, &extra) != 2 || h > 23 || m > 59) {
            *err = g_strdup_printf("digest_time: '%s' is not a time HH:MM", value);
            return COR_ERR_INVALID;
        }
        return COR_OK;
    }
    if (strcmp(key, "digest_day") == 0) {
        if (strcmp(value, "daily") == 0)
            return COR_OK;
        for (size_t i = 0; i < G_N_ELEMENTS(weekdays); i++)
            if (strcmp(value, weekdays[i]) == 0)
                return COR_OK;
        *err = g_strdup_printf("digest_day: '%s' is not daily or a weekday (monday ... sunday)", value);
        return COR_ERR_INVALID;
    }
    return COR_ERR_NOT_FOUND;
}

void
cor_list_policy_free(cor_list_policy_t *p)
{
    if (!p)
        return;
    g_free(p->group);
    g_free(p->title);
    g_free(p->subject_prefix);
    g_free(p->footer);
    g_free(p->digest_time);
    g_free(p->digest_day);
    g_strfreev(p->internal_domains);
    g_free(p);
}

static cor_dmarc_mode_t
dmarc_mode(const char *v)
{
    if (v && strcmp(v, "none") == 0)
        return COR_DMARC_NONE;
    if (v && strcmp(v, "munge-all") == 0)
        return COR_DMARC_MUNGE_ALL;
    return COR_DMARC_MUNGE_EXTERNAL;
}

/* "\n" written in a setting is a new line */
static char *
unescape_newlines(const char *v)
{
    GString *s = g_string_new(NULL);
    for (const char *p = v; *p; p++) {
        if (p[0] == '\\' && p[1] == 'n') {
            g_string_append_c(s, '\n');
            p++;
        } else {
            g_string_append_c(s, *p);
        }
    }
    return g_string_free(s, FALSE);
}

cor_status_t
cor_list_policy_load(cor_store_t *st, const cor_config_t *cfg, int64_t group_id,
                     cor_list_policy_t **out, char **err)
{
    *out = NULL;
    *err = NULL;
    g_autoptr(cor_group_t) g = NULL;
    cor_status_t s = cor_store_group_get_by_id(st, group_id, &g);
    if (s != COR_OK) {
        *err = g_strdup(cor_store_error(st));
        return s;
    }
    cor_list_policy_t *p = g_new0(cor_list_policy_t, 1);
    p->group_id = group_id;
    p->group = g_strdup(g->name);
    p->title = g_strdup(g->title);
    p->visibility = g->visibility;
    p->subject_prefix = g_strdup("");
    p->footer = g_strdup("");
    const char *rt = cor_config_string(cfg, "outbound", "reply_to");
    p->reply_to_author = rt && strcmp(rt, "author") == 0;
    p->dmarc = dmarc_mode(cor_config_string(cfg, "outbound", "dmarc"));
    /* the site's [digest] time and day, when they check */
    g_autofree char *why = NULL;
    const char *dt = cor_config_string(cfg, "digest", "time");
    const char *dd = cor_config_string(cfg, "digest", "day");
    p->digest_time = g_strdup(dt && cor_list_setting_check("digest_time", dt, &why) == COR_OK
                                  ? dt : "07:00");
    g_clear_pointer(&why, g_free);
    p->digest_day = g_strdup(dd && cor_list_setting_check("digest_day", dd, &why) == COR_OK
                                 ? dd : "daily");
    const char *const *dom = cor_config_list(cfg, "outbound", "internal_domains");
    if (!dom || !dom[0] || !*dom[0])
        dom = cor_config_list(cfg, "filters", "staff_domains");
    GPtrArray *d = g_ptr_array_new();
    for (size_t i = 0; dom && dom[i]; i++)
        if (*dom[i])
            g_ptr_array_add(d, g_ascii_strdown(dom[i], -1));
    g_ptr_array_add(d, NULL);
    p->internal_domains = (char **) g_ptr_array_free(d, FALSE);

    g_autoptr(GPtrArray) pairs = NULL;
    if ((s = cor_store_group_settings(st, group_id, &pairs)) != COR_OK) {
        *err = g_strdup(cor_store_error(st));
        cor_list_policy_free(p);
        return s;
    }
    for (guint i = 0; i + 1 < pairs->len; i += 2) {
        const char *k = pairs->pdata[i], *v = pairs->pdata[i + 1];
        g_autofree char *why = NULL;
        cor_status_t c = cor_list_setting_check(k, v, &why);
        if (c == COR_ERR_NOT_FOUND)
            continue;  /* a filter key */
        if (c != COR_OK) {
            cor_log_warning("group %s: ignoring %s", p->group, why);
            continue;
        }
        if (strcmp(k, "subject_prefix") == 0) {
            g_free(p->subject_prefix);
            p->subject_prefix = g_strdup(v);
        } else if (strcmp(k, "footer") == 0) {
            g_free(p->footer);
            p->footer = unescape_newlines(v);
        } else if (strcmp(k, "reply_to") == 0) {
            p->reply_to_author = strcmp(v, "author") == 0;
        } else if (strcmp(k, "dmarc") == 0) {
            p->dmarc = dmarc_mode(v);
        } else if (strcmp(k, "digest_time") == 0) {
            g_free(p->digest_time);
            p->digest_time = g_strdup(v);
        } else if (strcmp(k, "digest_day") == 0) {
            g_free(p->digest_day);
            p->digest_day = g_strdup(v);
        }
    }
    *out = p;
    return COR_OK;
}

bool
cor_address_in_domains(const char *address, const char *const *domains)
{
    const char *at = address ? strrchr(address, '@') : NULL;
    const char *dom = at ? at + 1 : address ? address : "";
    size_t n = strlen(dom);
    for (size_t i = 0; domains && domains[i]; i++) {
        const char *d = domains[i];
        size_t dl = strlen(d);
        if (dl == 0)
            continue;
        if (n == dl && g_ascii_strcasecmp(dom, d) == 0)
            return true;
        if (n > dl && dom[n - dl - 1] == '.' && g_ascii_strcasecmp(dom + n - dl, d) == 0)
            return true;
    }
    return false;
}

bool
cor_list_internal(const cor_list_policy_t *p, const char *address)
{
    return address && strrchr(address, '@') &&
           cor_address_in_domains(address, (const char *const *) p->internal_domains);
}
