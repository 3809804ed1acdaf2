/* core/config.c — the tunables table and the GKeyFile loader (config.h). */
#include "core/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/store.h"

/* Every tunable, declared once.  Keep docs/config.md in step: a test
 * compares the two. */
static const cor_tunable_t tunables[] = {
    { "core", "log_level", COR_CONFIG_STRING, "info",
      "Lowest level logged: debug, info, warning or error." },
    { "store", "path", COR_CONFIG_STRING, "",
      "The SQLite store; empty means STATE/corridor.db." },
    { "store", "busy_timeout", COR_CONFIG_DURATION, "10s",
      "How long to wait for a lock held by another corridor process." },
    { "store", "daemon_cache", COR_CONFIG_SIZE, "8M",
      "Page cache of each of the daemon's store handles (commands use 64M)." },
    { "store", "daemon_memory", COR_CONFIG_SIZE, "4M",
      "All the daemon's SQLite memory: past it, page caches reuse pages rather than grow." },
    { "index", "path", COR_CONFIG_STRING, "",
      "The Xapian index directory; empty means STATE/index." },
    { "groups", "default_visibility", COR_CONFIG_STRING, "public",
      "Visibility of a group created without --visibility: public, staff or private." },
    { "import", "workers", COR_CONFIG_INT, "0",
      "Threads that parse and prepare messages during import and reindex; 0 means one per CPU." },
    { "import", "batch", COR_CONFIG_INT, "2000",
      "Messages per store transaction and index commit during import and reindex." },
    { "search", "default_limit", COR_CONFIG_INT, "0",
      "Results printed by 'corridor search' without --limit; 0 means all." },
    { "lmtp", "listen", COR_CONFIG_LIST, "",
      "LMTP listeners: unix:PATH or HOST:PORT; empty means unix:STATE/lmtp.sock." },
    { "lmtp", "socket_mode", COR_CONFIG_STRING, "0660",
      "Permissions of LMTP Unix sockets corridor creates (octal)." },
    { "lmtp", "allow_remote", COR_CONFIG_BOOL, "false",
      "Allow LMTP on addresses other than loopback." },
    { "lmtp", "hostname", COR_CONFIG_STRING, "",
      "Name in the greeting and LHLO reply; empty means the host name." },
    { "lmtp", "domains", COR_CONFIG_LIST, "",
      "List domains; recipients in other domains are refused. Empty: any domain." },
    { "lmtp", "max_message_size", COR_CONFIG_SIZE, "50M",
      "Largest message accepted (SIZE); larger ones get 552 5.3.4." },
    { "lmtp", "max_recipients", COR_CONFIG_INT, "100",
      "Recipients per transaction; more get 452 4.5.3." },
    { "lmtp", "max_line_length", COR_CONFIG_SIZE, "64k",
      "Longest message line accepted; longer get 500 5.5.2." },
    { "lmtp", "max_sessions", COR_CONFIG_INT, "100",
      "Concurrent LMTP sessions; more get 421 4.3.2." },
    { "lmtp", "command_timeout", COR_CONFIG_DURATION, "5m",
      "Idle time allowed between commands before 421 4.4.2." },
    { "lmtp", "data_timeout", COR_CONFIG_DURATION, "10m",
      "Idle time allowed while receiving a message before 421 4.4.2." },
    { "lmtp", "commit_batch", COR_CONFIG_INT, "256",
      "Most messages stored in one grouped commit." },
    { "daemon", "shutdown_timeout", COR_CONFIG_DURATION, "5s",
      "On SIGTERM, how long sessions in the middle of a message may take to finish." },
    { "daemon", "index_batch", COR_CONFIG_INT, "100",
      "Messages per index commit when the daemon's indexer catches up." },
    { "daemon", "user", COR_CONFIG_STRING, "",
      "User 'corridor serve' switches to after binding its listeners when started as root; empty: started as root it refuses (docs/security.md)." },
    { "daemon", "group", COR_CONFIG_STRING, "",
      "Group it switches to with [daemon] user; empty: that user's primary group." },
    { "daemon", "trusted_groups", COR_CONFIG_LIST, "",
      "Groups besides the daemon's own that may have write access to the state directory, the store and the configuration (a records group)." },
    { "postfix", "maps_dir", COR_CONFIG_STRING, "",
      "Where corridor keeps Postfix lookup tables current; empty means not at all." },
    { "postfix", "transport", COR_CONFIG_STRING, "lmtp:unix:private/corridor-lmtp",
      "The Postfix transport written into the transport table." },
    { "postfix", "domain", COR_CONFIG_STRING, "",
      "Domain for the Postfix tables when [lmtp] domains is empty." },
    { "archive", "dir", COR_CONFIG_STRING, "",
      "Folder of the public archive tree; empty means STATE/archive." },
    { "archive", "restricted_dir", COR_CONFIG_STRING, "",
      "Folder of the staff and private groups' pages; empty means STATE/archive-restricted." },
    { "archive", "templates", COR_CONFIG_STRING, "",
      "Folder of template files that replace the built-in ones (branding)." },
    { "archive", "url", COR_CONFIG_STRING, "http://127.0.0.1:8080/",
      "Absolute URL of the public archive root, for feeds and Archived-At." },
    { "archive", "site_title", COR_CONFIG_STRING, "Group archive",
      "The name shown in every page's header." },
    { "archive", "organisation", COR_CONFIG_STRING, "",
      "The organisation named in the footer." },
    { "archive", "threads_per_page", COR_CONFIG_INT, "50",
      "Conversations per group index page." },
    { "archive", "feed_entries", COR_CONFIG_INT, "20",
      "Newest messages in a group's or a conversation's Atom feed." },
    { "archive", "debounce_ms", COR_CONFIG_INT, "200",
      "How long the daemon waits after a message before rendering, to render bursts once." },
    { "archive", "full_build_at", COR_CONFIG_INT, "5000",
      "Messages waiting to be rendered from which the daemon rebuilds the whole archive instead." },
    { "archive", "workers", COR_CONFIG_INT, "0",
      "Threads for a full build; 0 means one per CPU." },
    { "http", "listen", COR_CONFIG_STRING, "",
      "Address and port of the archive's HTTP listener; empty means none." },
    { "http", "allow_remote", COR_CONFIG_BOOL, "false",
      "Allow the HTTP listener on addresses other than loopback." },
    { "http", "trusted_header", COR_CONFIG_STRING, "X-Remote-User",
      "Request header in which the front web server names the signed-in user." },
    { "http", "trusted_proxies", COR_CONFIG_LIST, "127.0.0.1, ::1",
      "Peers whose trusted header is believed; from others it is ignored." },
    { "http", "user_domain", COR_CONFIG_STRING, "",
      "Domain added to a signed-in user name without one, to match group members." },
    { "http", "officers", COR_CONFIG_LIST, "",
      "Deprecated: the older name of [records] officers, still read (the two lists add up)." },
    { "http", "results_per_page", COR_CONFIG_INT, "20",
      "Search results per page." },
    { "filters", "chain", COR_CONFIG_LIST,
      "loop, bounce, auto-reply, command, spam, size, attachments, posting, marking, moderation",
      "The filters a post goes through, in order (docs/filters.md)." },
    { "filters", "posting", COR_CONFIG_STRING, "auto",
      "Who may post: anyone, staff (staff_domains), members, or auto (staff once staff_domains is set, else anyone)." },
    { "filters", "staff_domains", COR_CONFIG_LIST, "",
      "The organisation's mail domains: senders there count as staff (subdomains included)." },
    { "filters", "nonmember_action", COR_CONFIG_STRING, "reject",
      "What happens to a post from someone the posting policy does not allow: reject (550 5.7.1 with how to join) or hold." },
    { "filters", "moderation", COR_CONFIG_STRING, "none",
      "Hold posts for a moderator: none, all, or first-post (a sender's first post to the group)." },
    { "filters", "marking_action", COR_CONFIG_STRING, "auto",
      "Protectively marked mail: reject (550 5.7.1), restrict (stored for FOI, kept out of archive, feeds and digests), hold, or auto (reject in public and staff groups, restrict in private ones)." },
    { "filters", "marking_levels", COR_CONFIG_LIST,
      "protect, restricted, confidential, official-sensitive, secret, top-secret, encrypted",
      "Which markings count (encrypted: S/MIME, PGP/MIME and rights-protected mail)." },
    { "filters", "msip_labels", COR_CONFIG_LIST, "",
      "Microsoft Purview sensitivity label GUIDs (msip_labels header) that count as a marking." },
    { "filters", "sensitivity", COR_CONFIG_LIST, "",
      "Sensitivity: header values that count as a marking (e.g. company-confidential); empty: the header is ignored." },
    { "filters", "max_message_size", COR_CONFIG_SIZE, "0",
      "A group's own size limit (0: only [lmtp] max_message_size); larger posts get 552 5.2.3." },
    { "filters", "blocked_extensions", COR_CONFIG_LIST,
      "exe, scr, com, pif, bat, cmd, vbs, vbe, js, jse, wsf, wsh, hta, msi, ps1, lnk, cpl",
      "Attachment file name extensions refused with 550 5.7.1." },
    { "filters", "spam_action", COR_CONFIG_STRING, "hold",
      "Mail an upstream filter marked as spam (X-Spam-Flag: YES or a score over spam_threshold): hold, reject, discard or ignore." },
    { "filters", "spam_threshold", COR_CONFIG_STRING, "5.0",
      "The X-Spam-Status / X-Spam-Score score from which mail counts as spam." },
    { "filters", "join_hint", COR_CONFIG_STRING, "",
      "How to join, told to refused senders; empty: write to GROUP-request@DOMAIN with the subject 'subscribe'." },
    { "web", "base_url", COR_CONFIG_STRING, "",
      "Public URL of the archive and HTTP listener, used in generated mail (Archived-At, List-Archive, unsubscribe links); empty: http:// and [http] listen." },
    { "outbound", "relay", COR_CONFIG_STRING, "smtp://127.0.0.1:25",
      "Where copies, notices and digests are handed over: smtp://HOST:PORT (STARTTLS per starttls) or smtps://HOST:PORT." },
    { "outbound", "starttls", COR_CONFIG_STRING, "try",
      "STARTTLS on smtp:// relays: try (use it when offered), require, or never." },
    { "outbound", "verify_tls", COR_CONFIG_BOOL, "true",
      "Check the relay's TLS certificate and host name." },
    { "outbound", "ca_file", COR_CONFIG_STRING, "",
      "CA bundle for the relay's certificate; empty: the system's." },
    { "outbound", "username", COR_CONFIG_STRING, "",
      "SMTP AUTH user name at the relay; empty: no authentication." },
    { "outbound", "password_file", COR_CONFIG_STRING, "",
      "File whose first line is the SMTP AUTH password (keep it mode 0600)." },
    { "outbound", "helo", COR_CONFIG_STRING, "",
      "Name given in EHLO; empty: the host name." },
    { "outbound", "connections", COR_CONFIG_INT, "16",
      "Transfers to the relay at once." },
    { "outbound", "timeout", COR_CONFIG_DURATION, "2m",
      "How long one transfer may take before it counts as a temporary failure." },
    { "outbound", "retry", COR_CONFIG_DURATION, "1m",
      "First wait after a temporary failure; it doubles each time up to an hour." },
    { "outbound", "max_age", COR_CONFIG_DURATION, "5d",
      "A copy still not delivered after this long is given up and counted as a soft bounce." },
    { "outbound", "dmarc", COR_CONFIG_STRING, "munge-external",
      "Default From: rewriting of copies: none, munge-external (authors outside internal_domains) or munge-all." },
    { "outbound", "internal_domains", COR_CONFIG_LIST, "",
      "Domains whose authors are not rewritten under munge-external; empty: [filters] staff_domains." },
    { "outbound", "reply_to", COR_CONFIG_STRING, "group",
      "Default reply policy: group (replies go to the group, the author in Cc) or author (Reply-To: the author)." },
    { "bounces", "threshold", COR_CONFIG_STRING, "5.0",
      "Bounce score at which a member's delivery is disabled and the owners are told." },
    { "bounces", "hard_score", COR_CONFIG_STRING, "1.0",
      "Score a hard (permanent) failure adds." },
    { "bounces", "soft_score", COR_CONFIG_STRING, "0.5",
      "Score a soft (temporary or policy) failure adds." },
    { "bounces", "half_life", COR_CONFIG_DURATION, "7d",
      "A bounce score halves after this long without new bounces." },
    { "commands", "confirm_ttl", COR_CONFIG_DURATION, "7d",
      "How long a join confirmation or a moderation request stays valid." },
    { "directory", "everyone", COR_CONFIG_LIST, "",
      "Groups everyone in the staff directory follows ('corridor directory sync'), e.g. all-staff." },
    { "directory", "mode", COR_CONFIG_STRING, "digest",
      "Delivery mode of the memberships a directory sync adds: each, digest or none." },
    { "digest", "timezone", COR_CONFIG_STRING, "Europe/London",
      "Time zone of digest times and of the times a digest shows (an IANA name)." },
    { "digest", "time", COR_CONFIG_STRING, "07:00",
      "Local time digests go, HH:MM, for groups without their own digest_time and for combined digests." },
    { "digest", "day", COR_CONFIG_STRING, "daily",
      "daily, or the weekday of weekly digests (monday ... sunday), for groups without their own digest_day and for combined digests." },
    { "digest", "excerpt_lines", COR_CONFIG_INT, "6",
      "Lines of each message's new text a digest shows (quotes, signatures and disclaimers left out)." },
    { "digest", "max_age", COR_CONFIG_DURATION, "14d",
      "Posts dated longer ago than this are left out of digests (history imported into a group); 0: no limit." },
    { "digest", "templates", COR_CONFIG_STRING, "",
      "A folder whose digest.html replaces the built-in HTML template; empty: the built-in one." },
    { "records", "officers", COR_CONFIG_LIST, "",
      "FOI/records officers, as the web names signed-in users ([http] user_domain added): their web search covers every group, private and restricted posts included, and is audited." },
    { "records", "single_officer", COR_CONFIG_BOOL, "false",
      "Allow 'retention approve --single-officer': the person who made a disposal plan may approve it (a council with one records officer); the approval entry and the certificate say so." },
    { NULL, NULL, 0, NULL, NULL },
};

const cor_tunable_t *
cor_config_tunables(void)
{
    return tunables;
}

/* Sections whose keys the administrator names (config.h); every value a
 * LIST.  docs/config.md describes each. */
static const cor_config_open_section_t open_sections[] = {
    { "follow", "Default-follow rules of 'corridor directory sync': DEPARTMENT = group, group..." },
    { "retention", "Retention schedules: default = permanent, GROUP = 6y | 18m | 90d | permanent" },
    { NULL, NULL },
};

const cor_config_open_section_t *
cor_config_open_sections(void)
{
    return open_sections;
}

typedef struct value {
    char *text;           /* effective value as written */
    bool set;             /* from the file */
    int64_t num;          /* INT, SIZE, DURATION, BOOL */
    char **list;          /* LIST */
} value_t;

struct cor_config {
    char *path;
    value_t values[G_N_ELEMENTS(tunables)];
    /* per open section: its keys in file order (NULL-terminated, owned)
     * and key → list (owned) */
    GPtrArray *open_keys[G_N_ELEMENTS(open_sections)];
    GHashTable *open_values[G_N_ELEMENTS(open_sections)];
    char **officers;      /* cor_config_officers(), made at load (owned) */
};

static int
find_open(const char *section)
{
    for (int i = 0; open_sections[i].section; i++)
        if (strcmp(open_sections[i].section, section) == 0)
            return i;
    return -1;
}

static int
find(const char *section, const char *key)
{
    for (int i = 0; tunables[i].section; i++)
        if (strcmp(tunables[i].section, section) == 0 && strcmp(tunables[i].key, key) == 0)
            return i;
    return -1;
}

static bool
parse_number(const char *text, cor_config_type_t type, int64_t *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    if (end == text || errno != 0 || n < 0)
        return false;
    int64_t mul = 1;
    if (type == COR_CONFIG_SIZE) {
        switch (*end) {
        case 'k': case 'K': mul = 1024; end++; break;
        case 'm': case 'M': mul = 1024 * 1024; end++; break;
        case 'g': case 'G': mul = 1024LL * 1024 * 1024; end++; break;
        default: break;
        }
    } else if (type == COR_CONFIG_DURATION) {
        switch (*end) {
        case 's': end++; break;
        case 'm': mul = 60; end++; break;
        case 'h': mul = 3600; end++; break;
        case 'd': mul = 86400; end++; break;
        default: break;
        }
    }
    if (*end != '\0' || n > INT64_MAX / mul)    /* "9999999999999G" is not a size */
        return false;
    *out = (int64_t) n * mul;
    return true;
}

bool
cor_config_parse_number(const char *text, cor_config_type_t type, int64_t *out)
{
    g_autofree char *stripped = g_strstrip(g_strdup(text));
    return parse_number(stripped, type, out);
}

char **
cor_config_split_list(const char *text)
{
    char **parts = g_strsplit_set(text, ",;", -1);
    GPtrArray *kept = g_ptr_array_new();
    for (char **p = parts; *p; p++) {
        g_strstrip(*p);
        if (**p)
            g_ptr_array_add(kept, g_strdup(*p));
    }
    g_strfreev(parts);
    g_ptr_array_add(kept, NULL);
    return (char **) g_ptr_array_free(kept, FALSE);
}

bool
cor_config_parse_retention(const char *text, int64_t *count, char *unit)
{
    g_autofree char *copy = g_strstrip(g_strdup(text));
    g_autofree char *t = g_ascii_strdown(copy, -1);
    if (strcmp(t, "permanent") == 0) {
        *count = 0;
        *unit = 'p';
        return true;
    }
    char *end;
    errno = 0;
    long long n = g_ascii_isdigit(*t) ? strtoll(t, &end, 10) : -1;
    /* at most 1,000 of anything: the dates stay within GDateTime's range */
    if (n < 1 || n > 1000 || errno != 0 || end[0] == '\0' || end[1] != '\0' ||
        strchr("ymwd", end[0]) == NULL)
        return false;
    *count = (int64_t) n;
    *unit = end[0];
    return true;
}

/* The line on which `key` first appears in [section] (0: not found). */
static int
key_line(const char *data, const char *section, const char *key)
{
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    bool inside = false;
    for (int i = 0; lines[i]; i++) {
        g_autofree char *l = g_strstrip(g_strdup(lines[i]));
        if (*l == '[') {
            char *end = strchr(l, ']');
            inside = end && (size_t) (end - l - 1) == strlen(section) &&
                     strncmp(l + 1, section, strlen(section)) == 0;
            continue;
        }
        char *eq = strchr(l, '=');
        if (!inside || *l == '#' || !eq)
            continue;
        *eq = '\0';
        if (strcmp(g_strstrip(l), key) == 0)
            return i + 1;
    }
    return 0;
}

/* A [retention] entry: `default` or a group name, and one schedule.  An
 * error sentence or NULL. */
static char *
check_retention(const char *key, const char *raw, const char *const *values)
{
    if (strcmp(key, "default") != 0 && !cor_group_name_valid(key))
        return g_strdup_printf("'%s' is not a group name (lowercase letters, digits, '-', '_', '.')",
                               key);
    int64_t n;
    char unit;
    g_autofree char *shown = g_strstrip(g_strdup(raw ? raw : ""));
    if (!values[0] || values[1] || !cor_config_parse_retention(values[0], &n, &unit))
        return g_strdup_printf("'%s' is not a retention schedule (one of e.g. 6y, 18m, 4w, "
                               "90d or permanent)", shown);
    return NULL;
}

/* Parses `text` for tunable i into v.  Returns an error sentence or NULL. */
static char *
set_value(value_t *v, int i, const char *text)
{
    const cor_tunable_t *t = &tunables[i];
    g_autofree char *stripped = g_strstrip(g_strdup(text));
    switch (t->type) {
    case COR_CONFIG_STRING:
        break;
    case COR_CONFIG_INT:
    case COR_CONFIG_SIZE:
    case COR_CONFIG_DURATION:
        if (!parse_number(stripped, t->type, &v->num))
            return g_strdup_printf("'%s' is not a valid %s", stripped,
                                   t->type == COR_CONFIG_INT ? "number" :
                                   t->type == COR_CONFIG_SIZE ? "size (e.g. 25M)" :
                                   "duration (e.g. 30s, 5m, 2h)");
        break;
    case COR_CONFIG_BOOL:
        if (g_ascii_strcasecmp(stripped, "true") == 0 || strcmp(stripped, "yes") == 0 ||
            strcmp(stripped, "1") == 0)
            v->num = 1;
        else if (g_ascii_strcasecmp(stripped, "false") == 0 || strcmp(stripped, "no") == 0 ||
                 strcmp(stripped, "0") == 0)
            v->num = 0;
        else
            return g_strdup_printf("'%s' is not true or false", stripped);
        break;
    case COR_CONFIG_LIST:
        g_strfreev(v->list);
        v->list = cor_config_split_list(stripped);
        break;
    }
    g_free(v->text);
    v->text = g_steal_pointer(&stripped);
    return NULL;
}

void
cor_config_free(cor_config_t *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < G_N_ELEMENTS(tunables); i++) {
        g_free(cfg->values[i].text);
        g_strfreev(cfg->values[i].list);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(open_sections); i++) {
        if (cfg->open_keys[i])
            g_ptr_array_unref(cfg->open_keys[i]);
        if (cfg->open_values[i])
            g_hash_table_unref(cfg->open_values[i]);
    }
    g_strfreev(cfg->officers);
    g_free(cfg->path);
    g_free(cfg);
}

/* GLib's parse errors say "Key file contains line 'x' which is not ..." and
 * sometimes no line number: find the first offending line ourselves. */
static int
first_bad_line(const char *data)
{
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        const char *l = lines[i];
        while (*l == ' ' || *l == '\t')
            l++;
        if (*l == '\0' || *l == '#' || *l == ';')
            continue;
        if (*l == '[') {
            if (strchr(l, ']') == NULL)
                return i + 1;
            continue;
        }
        if (strchr(l, '=') == NULL)
            return i + 1;
    }
    return 0;
}

/* The line on which `key` appears a second time in [section] (0: not found). */
static int
second_key_line(const char *data, const char *section, const char *key)
{
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    bool inside = false;
    int seen = 0;
    for (int i = 0; lines[i]; i++) {
        g_autofree char *l = g_strstrip(g_strdup(lines[i]));
        if (*l == '[') {
            char *end = strchr(l, ']');
            inside = end && (size_t) (end - l - 1) == strlen(section) &&
                     strncmp(l + 1, section, strlen(section)) == 0;
            continue;
        }
        char *eq = strchr(l, '=');
        if (!inside || *l == '#' || !eq)
            continue;
        *eq = '\0';
        if (strcmp(g_strstrip(l), key) == 0 && ++seen == 2)
            return i + 1;
    }
    return 0;
}

char *
cor_config_user_address(const char *value, const char *domain)
{
    g_autofree char *v = g_strstrip(g_strdup(value ? value : ""));
    if (*v == '\0' || !g_utf8_validate(v, -1, NULL))
        return NULL;
    for (const char *p = v; *p; p++)
        if ((unsigned char) *p <= 0x20 || *p == 0x7f)
            return NULL;   /* no address has a space or a control character */
    while (domain && *domain == '@')
        domain++;
    if (strchr(v, '@') == NULL && domain && *domain) {
        char *full = g_strconcat(v, "@", domain, NULL);
        g_free(v);
        v = full;
    }
    return g_utf8_strdown(v, -1);
}

static gint
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* cfg->officers from [records] officers and its older name [http]
 * officers (config.h, cor_config_officers). */
static void
make_officers(cor_config_t *cfg)
{
    static const char *const sections[] = { "records", "http" };
    const char *domain = cor_config_string(cfg, "http", "user_domain");
    GPtrArray *all = g_ptr_array_new();
    for (size_t i = 0; i < G_N_ELEMENTS(sections); i++)
        for (const char *const *p = cor_config_list(cfg, sections[i], "officers"); *p; p++) {
            char *o = cor_config_user_address(*p, domain);
            if (o)
                g_ptr_array_add(all, o);
        }
    g_ptr_array_sort(all, cmp_str);
    guint kept = 0;
    for (guint i = 0; i < all->len; i++) {
        if (kept > 0 && strcmp(all->pdata[kept - 1], all->pdata[i]) == 0)
            g_free(all->pdata[i]);
        else
            all->pdata[kept++] = all->pdata[i];
    }
    g_ptr_array_set_size(all, kept);
    g_ptr_array_add(all, NULL);
    g_strfreev(cfg->officers);
    cfg->officers = (char **) g_ptr_array_free(all, FALSE);
}

const char *const *
cor_config_officers(const cor_config_t *cfg)
{
    return (const char *const *) cfg->officers;
}

cor_status_t
cor_config_load(const char *path, bool must_exist, cor_config_t **out, char **err)
{
    *out = NULL;
    cor_config_t *cfg = g_new0(cor_config_t, 1);
    for (int i = 0; tunables[i].section; i++) {
        g_autofree char *e = set_value(&cfg->values[i], i, tunables[i].default_value);
        g_assert(e == NULL); /* the table's defaults parse */
    }
    for (int i = 0; open_sections[i].section; i++) {
        cfg->open_keys[i] = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(cfg->open_keys[i], NULL);
        cfg->open_values[i] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                    (GDestroyNotify) g_strfreev);
    }
    if (path == NULL) {
        make_officers(cfg);
        *out = cfg;
        return COR_OK;
    }
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) gerr = NULL;
    if (!g_file_get_contents(path, &data, &len, &gerr)) {
        if (g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT) && !must_exist) {
            make_officers(cfg);
            *out = cfg;
            return COR_OK;
        }
        if (err)
            *err = g_strdup_printf("%s: %s", path, gerr->message);
        cor_config_free(cfg);
        return g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? COR_ERR_NOT_FOUND : COR_ERR_IO;
    }
    cfg->path = g_strdup(path);

    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &gerr)) {
        int line = first_bad_line(data);
        if (err) {
            if (line > 0)
                *err = g_strdup_printf("%s: line %d: %s", path, line, gerr->message);
            else
                *err = g_strdup_printf("%s: %s", path, gerr->message);
        }
        cor_config_free(cfg);
        return COR_ERR_CONFIG;
    }

    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
    for (char **g = groups; *g; g++) {
        g_auto(GStrv) keys = g_key_file_get_keys(kf, *g, NULL, NULL);
        int o = find_open(*g);
        for (char **k = keys; o >= 0 && k && *k; k++) {
            /* an open section: any key, each value a list */
            if (g_hash_table_contains(cfg->open_values[o], *k)) {
                if (err)
                    *err = g_strdup_printf("%s: line %d: [%s] %s: given twice", path,
                                           second_key_line(data, *g, *k), *g, *k);
                cor_config_free(cfg);
                return COR_ERR_CONFIG;
            }
            g_autofree char *raw = g_key_file_get_value(kf, *g, *k, NULL);
            GPtrArray *ks = cfg->open_keys[o];
            ks->pdata[ks->len - 1] = g_strdup(*k);
            g_ptr_array_add(ks, NULL);
            g_hash_table_insert(cfg->open_values[o], g_strdup(*k),
                                cor_config_split_list(raw ? raw : ""));
            g_autofree char *bad = strcmp(*g, "retention") != 0 ? NULL :
                check_retention(*k, raw, g_hash_table_lookup(cfg->open_values[o], *k));
            if (bad) {
                if (err)
                    *err = g_strdup_printf("%s: line %d: [%s] %s: %s", path,
                                           key_line(data, *g, *k), *g, *k, bad);
                cor_config_free(cfg);
                return COR_ERR_CONFIG;
            }
        }
        for (char **k = keys; o < 0 && k && *k; k++) {
            int i = find(*g, *k);
            if (i < 0) {
                if (err)
                    *err = g_strdup_printf("%s: [%s] %s: unknown setting (see 'corridor config show')",
                                           path, *g, *k);
                cor_config_free(cfg);
                return COR_ERR_CONFIG;
            }
            g_autofree char *raw = g_key_file_get_value(kf, *g, *k, NULL);
            g_autofree char *e = set_value(&cfg->values[i], i, raw ? raw : "");
            if (e != NULL) {
                if (err)
                    *err = g_strdup_printf("%s: [%s] %s: %s", path, *g, *k, e);
                cor_config_free(cfg);
                return COR_ERR_CONFIG;
            }
            cfg->values[i].set = true;
        }
    }
    make_officers(cfg);
    *out = cfg;
    return COR_OK;
}

const char *
cor_config_path(const cor_config_t *cfg)
{
    return cfg->path;
}

static const value_t *
lookup(const cor_config_t *cfg, const char *section, const char *key, cor_config_type_t type,
       bool check_type)
{
    int i = find(section, key);
    if (i < 0) {
        cor_log_error("internal: undeclared setting [%s] %s", section, key);
        return NULL;
    }
    if (check_type && tunables[i].type != type &&
        !(type == COR_CONFIG_INT && (tunables[i].type == COR_CONFIG_SIZE ||
                                     tunables[i].type == COR_CONFIG_DURATION))) {
        cor_log_error("internal: setting [%s] %s read with the wrong type", section, key);
        return NULL;
    }
    return &cfg->values[i];
}

const char *
cor_config_string(const cor_config_t *cfg, const char *section, const char *key)
{
    const value_t *v = lookup(cfg, section, key, COR_CONFIG_STRING, true);
    return v ? v->text : "";
}

int64_t
cor_config_int(const cor_config_t *cfg, const char *section, const char *key)
{
    const value_t *v = lookup(cfg, section, key, COR_CONFIG_INT, true);
    return v ? v->num : 0;
}

bool
cor_config_bool(const cor_config_t *cfg, const char *section, const char *key)
{
    const value_t *v = lookup(cfg, section, key, COR_CONFIG_BOOL, true);
    return v ? v->num != 0 : false;
}

const char *const *
cor_config_list(const cor_config_t *cfg, const char *section, const char *key)
{
    static const char *const empty[] = { NULL };
    const value_t *v = lookup(cfg, section, key, COR_CONFIG_LIST, true);
    return v && v->list ? (const char *const *) v->list : empty;
}

const char *
cor_config_value_text(const cor_config_t *cfg, const char *section, const char *key)
{
    const value_t *v = lookup(cfg, section, key, COR_CONFIG_STRING, false);
    return v ? v->text : "";
}

bool
cor_config_is_set(const cor_config_t *cfg, const char *section, const char *key)
{
    const value_t *v = lookup(cfg, section, key, COR_CONFIG_STRING, false);
    return v ? v->set : false;
}

const char *const *
cor_config_open_keys(const cor_config_t *cfg, const char *section)
{
    int o = find_open(section);
    if (o < 0) {
        static const char *const empty[] = { NULL };
        cor_log_error("internal: undeclared open section [%s]", section);
        return empty;
    }
    return (const char *const *) cfg->open_keys[o]->pdata;
}

const char *const *
cor_config_open_list(const cor_config_t *cfg, const char *section, const char *key)
{
    int o = find_open(section);
    if (o < 0) {
        cor_log_error("internal: undeclared open section [%s]", section);
        return NULL;
    }
    return g_hash_table_lookup(cfg->open_values[o], key);
}

const char *
cor_config_list_domain(const cor_config_t *cfg)
{
    const char *const *l = cor_config_list(cfg, "lmtp", "domains");
    if (l && l[0] && *l[0])
        return l[0];
    const char *one = cor_config_string(cfg, "postfix", "domain");
    return one && *one ? one : "localhost";
}

char *
cor_config_base_url(const cor_config_t *cfg, const char *http_listen)
{
    const char *b = cor_config_string(cfg, "web", "base_url");
    if (!b || !*b) {
        if (cor_config_is_set(cfg, "archive", "url"))
            b = cor_config_string(cfg, "archive", "url");
    }
    if (!b || !*b) {
        const char *l = http_listen && *http_listen ? http_listen
                                                    : cor_config_string(cfg, "http", "listen");
        if (l && *l)
            return g_strdup_printf("http://%s/", l);
        b = cor_config_string(cfg, "archive", "url");
    }
    size_t n = strlen(b);
    return n && b[n - 1] == '/' ? g_strdup(b) : g_strdup_printf("%s/", b);
}
