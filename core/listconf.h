/* core/listconf.h — a group's distribution settings: how its copies look
 * (subject prefix, footer, reply policy, DMARC rewriting) and when its
 * digest goes.  Site defaults come from corridor.conf ([outbound]); a group
 * overrides them with `corridor group set NAME key=value`, kept in the
 * store's group_settings table beside the filters' keys (filters/filter.h).
 * The outbound worker (mta-bridge/outbound.c) and the digests read them
 * through cor_list_policy_load. */
#ifndef COR_LISTCONF_H
#define COR_LISTCONF_H

#include <glib.h>
#include <stdbool.h>

#include "core/config.h"
#include "core/status.h"
#include "core/store.h"

typedef struct cor_list_key {
    const char *key;
    const char *help;
} cor_list_key_t;
/* Every distribution key, NULL-terminated (static). */
const cor_list_key_t *cor_list_keys(void);
/* COR_OK when `key` is a distribution key and `value` fits it; else
 * COR_ERR_INVALID with *err (transfer full).  Not a key: COR_ERR_NOT_FOUND. */
cor_status_t cor_list_setting_check(const char *key, const char *value, char **err);

typedef enum cor_dmarc_mode {
    COR_DMARC_NONE,
    COR_DMARC_MUNGE_EXTERNAL,
    COR_DMARC_MUNGE_ALL,
} cor_dmarc_mode_t;

typedef struct cor_list_policy {
    int64_t group_id;
    char *group;               /* the group's name */
    char *title;
    cor_visibility_t visibility;
    char *subject_prefix;      /* "" for none; written as is ("[planning] ") */
    char *footer;              /* "" for none; plain text, may hold newlines */
    bool reply_to_author;      /* reply_to = author (else group) */
    cor_dmarc_mode_t dmarc;
    char *digest_time;         /* "HH:MM" local time */
    char *digest_day;          /* "daily" or a weekday "monday".."sunday" */
    char **internal_domains;   /* NULL-terminated, lowercase */
} cor_list_policy_t;

void cor_list_policy_free(cor_list_policy_t *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_list_policy_t, cor_list_policy_free)

/* The group's effective settings: its overrides over the site's defaults.
 * A stored value that no longer checks is ignored with a warning.
 * Transfer full. */
cor_status_t cor_list_policy_load(cor_store_t *st, const cor_config_t *cfg, int64_t group_id,
                                  cor_list_policy_t **out, char **err);

/* Whether `address`'s domain is an internal one (subdomains included). */
bool cor_list_internal(const cor_list_policy_t *p, const char *address);

/* Whether `address` (or a bare domain) is in one of `domains`, or a
 * subdomain of one; ASCII case-insensitive.  The one rule for staff and
 * internal domains (filters, commands, DMARC rewriting). */
bool cor_address_in_domains(const char *address, const char *const *domains);

#endif
