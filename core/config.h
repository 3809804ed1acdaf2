/* core/config.h — corridor's configuration: one GKeyFile, every tunable
 * declared once.
 *
 * The table in config.c declares each tunable (section, key, type, default,
 * help).  It is the only list: `corridor config show` prints it with the
 * effective values, docs/config.md is checked against it by a test, and
 * lookups of an undeclared key are a programming error (COR_ERR_INTERNAL).
 *
 * An absent file or absent key means the default.  A file that cannot be read
 * (other than not existing) is COR_ERR_IO; a syntax error or a value of the
 * wrong type is COR_ERR_CONFIG with "FILE: line N: ..." where GLib tells the
 * line, "FILE: [section] key: ..." otherwise.  Unknown sections or keys are
 * reported too (a typo must not silently mean the default).
 */
#ifndef COR_CONFIG_H
#define COR_CONFIG_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"

typedef enum cor_config_type {
    COR_CONFIG_STRING,
    COR_CONFIG_INT,
    COR_CONFIG_BOOL,
    COR_CONFIG_SIZE,       /* bytes; accepts suffixes k, M, G */
    COR_CONFIG_DURATION,   /* seconds; accepts suffixes s, m, h, d */
    COR_CONFIG_LIST,       /* comma or semicolon separated strings */
} cor_config_type_t;

typedef struct cor_tunable {
    const char *section;
    const char *key;
    cor_config_type_t type;
    const char *default_value;   /* as it would be written in the file */
    const char *help;
} cor_tunable_t;

typedef struct cor_config cor_config_t;

/* The declared tunables, terminated by an entry with section == NULL
 * (transfer none). */
const cor_tunable_t *cor_config_tunables(void);

/* Open sections: sections whose keys the administrator names rather than
 * the table, such as [follow] (DEPARTMENT = group, group...: the
 * default-follow rules of `corridor directory sync`).  They are declared
 * in a second table in config.c (section, help); every value in them is a
 * LIST.  Keys are kept as written, in file order; a key written twice is an
 * error.  docs/config.md describes each. */
typedef struct cor_config_open_section {
    const char *section;
    const char *help;
} cor_config_open_section_t;

/* The open sections, terminated by an entry with section == NULL
 * (transfer none). */
const cor_config_open_section_t *cor_config_open_sections(void);
/* The keys of an open section in file order, NULL-terminated; empty when
 * the file has none (transfer none).  An undeclared section is a bug:
 * logged, empty. */
const char *const *cor_config_open_keys(const cor_config_t *cfg, const char *section);
/* The value of one key of an open section as a list, or NULL when the key
 * is absent (transfer none). */
const char *const *cor_config_open_list(const cor_config_t *cfg, const char *section,
                                        const char *key);

/* Loads `path` (NULL or a missing file: all defaults when `must_exist` is
 * false).  *err transfer full. */
cor_status_t cor_config_load(const char *path, bool must_exist, cor_config_t **out, char **err);
void cor_config_free(cor_config_t *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_config_t, cor_config_free)

/* The file it was loaded from, or NULL (transfer none). */
const char *cor_config_path(const cor_config_t *cfg);

/* Typed getters for declared tunables.  An undeclared key or a type mismatch
 * is a bug: logged, and the zero value returned. */
const char *cor_config_string(const cor_config_t *cfg, const char *section, const char *key);
int64_t cor_config_int(const cor_config_t *cfg, const char *section, const char *key);
bool cor_config_bool(const cor_config_t *cfg, const char *section, const char *key);
/* NULL-terminated list (transfer none). */
const char *const *cor_config_list(const cor_config_t *cfg, const char *section, const char *key);

/* The records (FOI/SAR) officers: [records] officers and its deprecated
 * older name [http] officers, the two lists added up, each entry made into
 * an address as the web makes a signed-in user's name
 * (cor_config_user_address with [http] user_domain), entries that are not
 * one dropped, duplicates removed, sorted (byte order).  The one list both
 * the web's officer role and the audit trail's role.change entries use.
 * Made at load; NULL-terminated, may be empty (transfer none). */
const char *const *cor_config_officers(const cor_config_t *cfg);

/* A user name as the web's trusted header (or an officers entry) gives it,
 * made into the address group members are stored under: trimmed,
 * "@" `domain` added when it has no '@' and `domain` (leading '@'s
 * ignored) is not empty or NULL, lowercased.  NULL when empty, not UTF-8
 * or holding a space or a control character inside (transfer full). */
char *cor_config_user_address(const char *value, const char *domain);

/* Parses an INT, SIZE or DURATION value as the loader does ("25M", "5m").
 * False when it is not one. */
bool cor_config_parse_number(const char *text, cor_config_type_t type, int64_t *out);
/* A retention schedule, as [retention] values are written: "permanent"
 * (*unit 'p', *count 0), or N (1 to 1000) followed by y (years), m
 * (months, not minutes), w (weeks) or d (days).  False when it is not one. */
bool cor_config_parse_retention(const char *text, int64_t *count, char *unit);
/* Splits a LIST value at commas and semicolons, trimmed, empty items
 * dropped (transfer full, NULL-terminated). */
char **cor_config_split_list(const char *text);

/* The effective value of a tunable as text (transfer none). */
const char *cor_config_value_text(const cor_config_t *cfg, const char *section, const char *key);
/* True when the value came from the file rather than the default. */
bool cor_config_is_set(const cor_config_t *cfg, const char *section, const char *key);

/* The domain of the groups' addresses: [lmtp] domains' first, else [postfix]
 * domain, else "localhost" (transfer none). */
const char *cor_config_list_domain(const cor_config_t *cfg);
/* The public URL that generated mail links to, ending in '/': [web]
 * base_url, else [archive] url when set, else http:// and the HTTP listen
 * address (`http_listen` overrides [http] listen: `serve --http`), else the
 * [archive] url default (transfer full). */
char *cor_config_base_url(const cor_config_t *cfg, const char *http_listen);

#endif
