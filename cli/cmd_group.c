/* cli/cmd_group.c — `corridor group create|list|set|show|delete`.
 *
 * A group's own fields (title, description, visibility), its settings over
 * the site's defaults — the filters' keys (filters/filter.h) and the
 * distribution keys (core/listconf.h), both kept in group_settings — and
 * its owners and moderators (members with that role).  `create` and `set`
 * check everything before they touch the store, then change it in one
 * transaction. */
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "archive-web/archive.h"
#include "cli/cli.h"
#include "core/listconf.h"
#include "filters/filter.h"

/* ---- what create and set change ---- */

enum { ROLE_OWNER, ROLE_MODERATOR, N_ROLES };
static const char *const role_names[N_ROLES] = { "owner", "moderator" };
static const char *const role_keys[N_ROLES] = { "owners", "moderators" };

typedef struct group_change {
    const char *title;
    const char *description;
    cor_visibility_t vis;
    bool vis_set;
    GPtrArray *settings;          /* key, value, ... (value NULL: back to the default) */
    GPtrArray *roles[N_ROLES];    /* lowercase addresses; NULL: unchanged */
} group_change_t;

static void
group_change_clear(group_change_t *c)
{
    g_clear_pointer(&c->settings, g_ptr_array_unref);
    for (int r = 0; r < N_ROLES; r++)
        g_clear_pointer(&c->roles[r], g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(group_change_t, group_change_clear)

static bool
is_filter_key(const char *key)
{
    for (const cor_filter_key_t *k = cor_filter_keys(); k->key; k++)
        if (strcmp(k->key, key) == 0)
            return true;
    return false;
}

static bool
is_list_key(const char *key)
{
    for (const cor_list_key_t *k = cor_list_keys(); k->key; k++)
        if (strcmp(k->key, key) == 0)
            return true;
    return false;
}

static int
role_of_key(const char *key)
{
    for (int r = 0; r < N_ROLES; r++)
        if (strcmp(key, role_keys[r]) == 0)
            return r;
    return -1;
}

static bool
in_strv(GPtrArray *a, const char *s)
{
    for (guint i = 0; a && i < a->len; i++)
        if (strcmp(a->pdata[i], s) == 0)
            return true;
    return false;
}

/* Adds `addresses` (comma separated) to role r; 0, or 1 after the error. */
static int
add_role_addresses(group_change_t *c, int r, const char *addresses)
{
    if (!c->roles[r])
        c->roles[r] = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) list = cor_config_split_list(addresses);
    for (char **a = list; *a; a++) {
        if (!cor_member_address_valid(*a))
            return cli_error("%s: invalid address '%s'", role_keys[r], *a);
        char *low = g_ascii_strdown(*a, -1);
        if (in_strv(c->roles[r], low))
            g_free(low);
        else
            g_ptr_array_add(c->roles[r], low);
    }
    return 0;
}

/* Checks `KEY=VALUE` arguments and --unset keys into `c`.  `owners` and
 * `moderators` (from --owner/--moderator of create) are added to the
 * roles.  0, or the exit status after printing the error. */
static int
parse_change(int n, char **args, char **unset, char **owners, char **moderators,
             group_change_t *c)
{
    c->settings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    char **given[N_ROLES] = { owners, moderators };
    for (int r = 0; r < N_ROLES; r++)
        for (char **a = given[r]; a && *a; a++)
            if (add_role_addresses(c, r, *a) != 0)
                return 1;
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(args[i], '=');
        if (!eq || eq == args[i])
            return cli_error("'%s' is not KEY=VALUE", args[i]);
        char *key = g_strndup(args[i], (size_t) (eq - args[i]));
        const char *value = eq + 1;
        if (g_hash_table_contains(seen, key)) {
            int rc = cli_error("%s: given twice", key);
            g_free(key);
            return rc;
        }
        g_hash_table_add(seen, key);            /* owns it */
        int r;
        if (strcmp(key, "title") == 0) {
            if (!*value)
                return cli_error("title: a group needs a title");
            c->title = value;
        } else if (strcmp(key, "description") == 0) {
            c->description = value;
        } else if (strcmp(key, "visibility") == 0) {
            if (cor_visibility_from_string(value, &c->vis) != COR_OK)
                return cli_error("visibility: '%s' is not public, staff or private", value);
            c->vis_set = true;
        } else if ((r = role_of_key(key)) >= 0) {
            if (add_role_addresses(c, r, value) != 0)
                return 1;
        } else {
            g_autofree char *err = NULL;
            cor_status_t s = cor_list_setting_check(key, value, &err);
            if (s == COR_ERR_NOT_FOUND) {
                g_clear_pointer(&err, g_free);
                s = cor_filter_setting_check(key, value, &err);
            }
            if (s != COR_OK)
                return cli_error("%s", err ? err : cor_status_to_string(s));
            g_ptr_array_add(c->settings, g_strdup(key));
            g_ptr_array_add(c->settings, g_strdup(value));
        }
    }
    for (char **u = unset; u && *u; u++) {
        int r = role_of_key(*u);
        if (strcmp(*u, "title") == 0 || strcmp(*u, "visibility") == 0)
            return cli_error("%s cannot be unset: give it a value", *u);
        if (g_hash_table_contains(seen, *u))
            return cli_error("%s: both set and unset", *u);
        if (strcmp(*u, "description") == 0) {
            c->description = "";
        } else if (r >= 0) {
            if (c->roles[r])
                return cli_error("%s: both set and unset", *u);
            c->roles[r] = g_ptr_array_new_with_free_func(g_free);
        } else if (is_filter_key(*u) || is_list_key(*u)) {
            g_ptr_array_add(c->settings, g_strdup(*u));
            g_ptr_array_add(c->settings, NULL);
        } else {
            return cli_error("unknown setting '%s'", *u);
        }
    }
    for (guint i = 0; c->roles[ROLE_OWNER] && i < c->roles[ROLE_OWNER]->len; i++)
        if (in_strv(c->roles[ROLE_MODERATOR], c->roles[ROLE_OWNER]->pdata[i]))
            return cli_error("%s cannot be both an owner and a moderator",
                             (const char *) c->roles[ROLE_OWNER]->pdata[i]);
    return 0;
}

/* Makes the change inside the caller's transaction.  Addresses that became
 * members to take a role are appended to `added` ("address role"). */
static cor_status_t
apply_change(cor_store_t *st, int64_t gid, const group_change_t *c, GPtrArray *added)
{
    cor_status_t s = COR_OK;
    if (c->title || c->description || c->vis_set)
        s = cor_store_group_update(st, gid, c->title, c->description, c->vis_set ? &c->vis : NULL);
    for (guint i = 0; s == COR_OK && i + 1 < c->settings->len; i += 2)
        s = cor_store_group_setting_set(st, gid, c->settings->pdata[i], c->settings->pdata[i + 1]);
    /* whoever holds a role and is not named for it any more goes back to
     * being a member; then everyone named gets the role (joining first) */
    for (int r = 0; s == COR_OK && r < N_ROLES; r++) {
        if (!c->roles[r])
            continue;
        g_autoptr(GPtrArray) now = NULL;
        s = cor_store_member_staff(st, gid, role_names[r], &now);
        for (guint i = 0; s == COR_OK && i < now->len; i++)
            if (!in_strv(c->roles[r], now->pdata[i]))
                s = cor_store_member_set(st, gid, now->pdata[i], NULL, NULL, "member");
    }
    for (int r = 0; s == COR_OK && r < N_ROLES; r++) {
        for (guint i = 0; s == COR_OK && c->roles[r] && i < c->roles[r]->len; i++) {
            const char *addr = c->roles[r]->pdata[i];
            bool is_new = false;
            s = cor_store_member_join(st, gid, addr, NULL, "cli", &is_new);
            if (s == COR_OK)
                s = cor_store_member_set(st, gid, addr, NULL, NULL, role_names[r]);
            if (s == COR_OK && is_new)
                g_ptr_array_add(added, g_strdup_printf("%s as %s", addr, role_names[r]));
        }
    }
    return s;
}

/* ---- create ---- */

static int
group_create(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *title = NULL, *description = NULL, *visibility = NULL;
    g_auto(GStrv) owners = NULL, moderators = NULL;
    GOptionEntry entries[] = {
        { "title", 0, 0, G_OPTION_ARG_STRING, &title, "Title shown in the archive", "T" },
        { "description", 0, 0, G_OPTION_ARG_STRING, &description,
          "What the group is for (archive, welcome message)", "D" },
        { "visibility", 0, 0, G_OPTION_ARG_STRING, &visibility,
          "public (default: [groups] default_visibility), staff or private", "V" },
        { "owner", 0, 0, G_OPTION_ARG_STRING_ARRAY, &owners,
          "An owner (joins as a member); repeat for more", "ADDR" },
        { "moderator", 0, 0, G_OPTION_ARG_STRING_ARRAY, &moderators,
          "A moderator (joins as a member); repeat for more", "ADDR" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("NAME [KEY=VALUE...] - create a group");
    g_option_context_set_description(ctx,
        "KEY=VALUE: any setting 'corridor group set' takes (docs/filters.md,\n"
        "docs/config.md), all made in the same transaction as the group.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc < 2)
        return cli_error("usage: corridor group create NAME [--title T] [--description D] "
                         "[--visibility public|staff|private] [--owner ADDR]... "
                         "[--moderator ADDR]... [KEY=VALUE...]");
    const char *name = argv[1];
    cor_visibility_t vis;
    const char *vtext = visibility ? visibility
                                   : cor_config_string(cli->config, "groups", "default_visibility");
    if (cor_visibility_from_string(vtext, &vis) != COR_OK)
        return cli_error("invalid visibility '%s' (use public, staff or private)", vtext);
    if (!cor_group_name_valid(name))
        return cli_error("invalid group name '%s' (lowercase letters, digits, '-', '_', '.'; "
                         "starting with a letter or digit)", name);
    if (title && !*title)
        return cli_error("--title: a group needs a title");
    g_auto(group_change_t) c = { 0 };
    int rc = parse_change(argc - 2, argv + 2, NULL, owners, moderators, &c);
    if (rc != 0)
        return rc;
    if (c.vis_set)
        vis = c.vis;
    if (!c.description)
        c.description = description;
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    int64_t gid = 0;
    g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func(g_free);
    cor_status_t s = cor_store_begin(st);
    if (s == COR_OK)
        s = cor_store_group_create(st, name, c.title ? c.title : title ? title : name, vis, &gid);
    if (s == COR_OK)
        s = apply_change(st, gid, &c, added);
    if (s == COR_OK)
        s = cor_store_commit(st);
    if (s != COR_OK) {
        rc = cli_error("cannot create group: %s", cor_store_error(st));
        cor_store_rollback(st);
        return rc;
    }
    printf("created group %s (%s)\n", name, cor_visibility_to_string(vis));
    for (guint i = 0; i < added->len; i++)
        printf("added %s\n", (const char *) added->pdata[i]);
    if (cli_postfix_maps_refresh(cli) != 0)
        return 1;
    return 0;
}

/* The fields every JSON form of a group starts with: name, title, visibility. */
static void
group_json_head(JsonBuilder *b, const cor_group_t *g)
{
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, g->name);
    json_builder_set_member_name(b, "title");
    json_builder_add_string_value(b, g->title);
    json_builder_set_member_name(b, "visibility");
    json_builder_add_string_value(b, cor_visibility_to_string(g->visibility));
}

static int
group_list(cor_cli_t *cli, int argc, char **argv)
{
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object per line", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- list groups");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 1)
        return cli_error("usage: corridor group list [--json]");
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(GPtrArray) groups = NULL;
    if (cor_store_group_list(st, true, &groups) != COR_OK)
        return cli_error("cannot list groups: %s", cor_store_error(st));
    for (guint i = 0; i < groups->len; i++) {
        cor_group_t *g = g_ptr_array_index(groups, i);
        if (json) {
            g_autoptr(JsonBuilder) b = json_builder_new();
            json_builder_begin_object(b);
            group_json_head(b, g);
            json_builder_set_member_name(b, "messages");
            json_builder_add_int_value(b, g->n_messages);
            json_builder_set_member_name(b, "threads");
            json_builder_add_int_value(b, g->n_threads);
            json_builder_set_member_name(b, "last_activity");
            if (g->n_messages > 0) {
                g_autofree char *d = cli_iso_date(g->last_date);
                json_builder_add_string_value(b, d);
            } else {
                json_builder_add_null_value(b);
            }
            json_builder_end_object(b);
            g_autoptr(JsonNode) root = json_builder_get_root(b);
            cli_print_json(root);
        } else {
            printf("%-20s %-8s %6" G_GINT64_FORMAT " messages %6" G_GINT64_FORMAT " threads  %s\n",
                   g->name, cor_visibility_to_string(g->visibility), g->n_messages,
                   g->n_threads, g->title);
        }
    }
    return 0;
}

/* ---- set ---- */

/* `group set NAME key=value... [--unset key]...`: the group's own fields,
 * settings (filter and distribution keys) and owners/moderators. */
static int
group_set(cor_cli_t *cli, int argc, char **argv)
{
    g_auto(GStrv) unset = NULL;
    GOptionEntry entries[] = {
        { "unset", 0, 0, G_OPTION_ARG_STRING_ARRAY, &unset,
          "Go back to the site-wide default for KEY (owners, moderators: none)", "KEY" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("NAME KEY=VALUE... - change a group's settings");
    g_option_context_set_description(ctx,
        "KEY: title, description, visibility; owners=ADDR,ADDR and moderators=...\n"
        "(members no longer named go back to role member; those named join when\n"
        "they are not members); the filter keys of docs/filters.md; the distribution\n"
        "keys subject_prefix, footer, reply_to, dmarc, digest_time, digest_day.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc < 2 || (argc == 2 && !unset))
        return cli_error("usage: corridor group set NAME KEY=VALUE... [--unset KEY]");
    g_auto(group_change_t) c = { 0 };
    int rc = parse_change(argc - 2, argv + 2, unset, NULL, NULL, &c);
    if (rc != 0)
        return rc;
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(cor_group_t) g = NULL;
    if (cor_store_group_get(st, argv[1], &g) != COR_OK)
        return cli_error("%s", cor_store_error(st));
    g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func(g_free);
    cor_status_t s = cor_store_begin(st);
    if (s == COR_OK)
        s = apply_change(st, g->id, &c, added);
    if (s == COR_OK)
        s = cor_store_commit(st);
    if (s != COR_OK) {
        rc = cli_error("cannot change group %s: %s", g->name, cor_store_error(st));
        cor_store_rollback(st);
        return rc;
    }
    printf("changed group %s\n", g->name);
    for (guint i = 0; i < added->len; i++)
        printf("added %s\n", (const char *) added->pdata[i]);
    /* a group's visibility decides which archive tree its pages are in */
    fflush(stdout);
    if (c.vis_set && c.vis != g->visibility)
        fprintf(stderr, "corridor: %s is now %s: run 'corridor archive build' to move its pages\n",
                g->name, cor_visibility_to_string(c.vis));
    return 0;
}

/* ---- show ---- */

/* A setting as one line: new lines written as \n, quoted when white space
 * at either end would not be seen. */
static char *
one_line(const char *v)
{
    size_t n = strlen(v);
    bool quote = n > 0 && (g_ascii_isspace(v[0]) || g_ascii_isspace(v[n - 1]));
    GString *s = g_string_new(quote ? "\"" : NULL);
    for (const char *p = v; *p; p++) {
        if (*p == '\n')
            g_string_append(s, "\\n");
        else
            g_string_append_c(s, *p);
    }
    if (quote)
        g_string_append_c(s, '"');
    return g_string_free(s, FALSE);
}

/* The effective value of a distribution key (transfer none). */
static const char *
list_value(const cor_list_policy_t *lp, const char *key)
{
    if (strcmp(key, "subject_prefix") == 0)
        return lp->subject_prefix;
    if (strcmp(key, "footer") == 0)
        return lp->footer;
    if (strcmp(key, "reply_to") == 0)
        return lp->reply_to_author ? "author" : "group";
    if (strcmp(key, "dmarc") == 0)
        return lp->dmarc == COR_DMARC_NONE ? "none"
             : lp->dmarc == COR_DMARC_MUNGE_ALL ? "munge-all" : "munge-external";
    if (strcmp(key, "digest_time") == 0)
        return lp->digest_time;
    if (strcmp(key, "digest_day") == 0)
        return lp->digest_day;
    return "";
}

static void
json_int(JsonBuilder *b, const char *name, int64_t v)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, v);
}

static char *
join_ptr_array(GPtrArray *a)
{
    if (!a || a->len == 0)
        return g_strdup("(none)");
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < a->len; i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "", (const char *) a->pdata[i]);
    return g_string_free(s, FALSE);
}

/* `group show NAME [--json]`: the group, its effective settings (each
 * marked as the group's own or the site's default), owners, moderators and
 * what it holds. */
static int
group_show(cor_cli_t *cli, int argc, char **argv)
{
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("NAME - show a group and its settings");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2)
        return cli_error("usage: corridor group show NAME [--json]");
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(cor_group_t) g = NULL;
    if (cor_store_group_get(st, argv[1], &g) != COR_OK)
        return cli_error("%s", cor_store_error(st));
    g_autoptr(cor_filter_site_t) site = NULL;
    g_autofree char *err = NULL;
    if (cor_filter_site_new(cli->config, &site, &err) != COR_OK)
        return cli_error("%s", err);
    g_autoptr(cor_filter_policy_t) p = NULL;
    if (cor_filter_policy_load(st, site, g, &p, &err) != COR_OK)
        return cli_error("%s", err);
    g_autoptr(cor_list_policy_t) lp = NULL;
    if (cor_list_policy_load(st, cli->config, g->id, &lp, &err) != COR_OK)
        return cli_error("%s", err);
    g_autoptr(GPtrArray) pairs = NULL;
    g_autoptr(GPtrArray) owners = NULL, moderators = NULL;
    cor_group_counts_t n;
    if (cor_store_group_settings(st, g->id, &pairs) != COR_OK ||
        cor_store_member_staff(st, g->id, role_names[ROLE_OWNER], &owners) != COR_OK ||
        cor_store_member_staff(st, g->id, role_names[ROLE_MODERATOR], &moderators) != COR_OK ||
        cor_store_group_counts(st, g->id, &n) != COR_OK)
        return cli_error("cannot read group %s: %s", g->name, cor_store_error(st));
    GPtrArray *staff[N_ROLES] = { owners, moderators };
    g_autoptr(GHashTable) own = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i + 1 < pairs->len; i += 2)
        g_hash_table_insert(own, pairs->pdata[i], pairs->pdata[i + 1]);
    const char *domain = cor_config_list_domain(cli->config);

    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    group_json_head(b, g);
    json_builder_set_member_name(b, "description");
    json_builder_add_string_value(b, g->description);
    g_autofree char *address = g_strdup_printf("%s@%s", g->name, domain);
    json_builder_set_member_name(b, "address");
    json_builder_add_string_value(b, address);
    if (!json) {
        g_autofree char *o = join_ptr_array(staff[ROLE_OWNER]);
        g_autofree char *m = join_ptr_array(staff[ROLE_MODERATOR]);
        printf("group       %s\ntitle       %s\ndescription %s\nvisibility  %s\naddress     %s\n"
               "owners      %s\nmoderators  %s\n",
               g->name, g->title, g->description, cor_visibility_to_string(g->visibility),
               address, o, m);
        printf("members     %" G_GINT64_FORMAT ": %" G_GINT64_FORMAT " each, %" G_GINT64_FORMAT
               " digest, %" G_GINT64_FORMAT " none; %" G_GINT64_FORMAT " enabled, %"
               G_GINT64_FORMAT " disabled\n",
               n.members, n.each, n.digest, n.none, n.enabled, n.disabled);
        printf("posts       %" G_GINT64_FORMAT " in %" G_GINT64_FORMAT " threads\n", n.posts, n.threads);
        printf("held        %" G_GINT64_FORMAT "\nopt-outs    %" G_GINT64_FORMAT "\n", n.held, n.optouts);
        printf("filters:\n");
    }
    json_builder_set_member_name(b, "settings");
    json_builder_begin_object(b);
    for (const cor_filter_key_t *k = cor_filter_keys(); k->key; k++) {
        const char *mine = g_hash_table_lookup(p->overrides, k->key);
        const char *v = mine ? mine : cor_config_value_text(cli->config, "filters", k->key);
        json_builder_set_member_name(b, k->key);
        json_builder_add_string_value(b, v ? v : "");
        if (!json)
            printf("  %-20s %s%s\n", k->key, v && *v ? v : "(none)", mine ? "   [group]" : "");
    }
    if (!json)
        printf("distribution:\n");
    for (const cor_list_key_t *k = cor_list_keys(); k->key; k++) {
        const char *v = list_value(lp, k->key);
        json_builder_set_member_name(b, k->key);
        json_builder_add_string_value(b, v);
        if (!json) {
            g_autofree char *line = one_line(v);
            printf("  %-20s %s%s\n", k->key, *line ? line : "(none)",
                   g_hash_table_contains(own, k->key) ? "   [group]" : "");
        }
    }
    json_builder_end_object(b);
    json_builder_set_member_name(b, "group_settings");
    json_builder_begin_array(b);
    for (guint i = 0; i + 1 < pairs->len; i += 2)     /* by key (store.h) */
        json_builder_add_string_value(b, pairs->pdata[i]);
    json_builder_end_array(b);
    for (int r = 0; r < N_ROLES; r++) {
        json_builder_set_member_name(b, role_keys[r]);
        json_builder_begin_array(b);
        for (guint i = 0; i < staff[r]->len; i++)
            json_builder_add_string_value(b, staff[r]->pdata[i]);
        json_builder_end_array(b);
    }
    json_builder_set_member_name(b, "members");
    json_builder_begin_object(b);
    json_int(b, "total", n.members);
    json_int(b, "each", n.each);
    json_int(b, "digest", n.digest);
    json_int(b, "none", n.none);
    json_int(b, "enabled", n.enabled);
    json_int(b, "disabled", n.disabled);
    json_builder_end_object(b);
    json_int(b, "posts", n.posts);
    json_int(b, "threads", n.threads);
    json_int(b, "held", n.held);
    json_int(b, "optouts", n.optouts);
    json_builder_end_object(b);
    if (json) {
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        cli_print_json(root);
    }
    return 0;
}

/* ---- delete ---- */

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void) sb;
    (void) ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/* What deleting the group removes, in words (transfer full). */
static char *
describe_counts(const cor_group_counts_t *n, const char *group)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "%" G_GINT64_FORMAT " member%s, %" G_GINT64_FORMAT " post%s in %"
                           G_GINT64_FORMAT " thread%s (%" G_GINT64_FORMAT " message%s only in %s)",
                           n->members, n->members == 1 ? "" : "s", n->posts,
                           n->posts == 1 ? "" : "s", n->threads, n->threads == 1 ? "" : "s",
                           n->only_here, n->only_here == 1 ? "" : "s", group);
    const struct {
        int64_t v;
        const char *one, *many;
    } more[] = {
        { n->held, "held post", "held posts" },
        { n->outbox, "queued copy", "queued copies" },
        { n->control_mail, "control mail", "control mails" },
        { n->optouts, "opt-out", "opt-outs" },
        { n->settings, "setting", "settings" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(more); i++)
        if (more[i].v > 0)
            g_string_append_printf(s, ", %" G_GINT64_FORMAT " %s", more[i].v,
                                   more[i].v == 1 ? more[i].one : more[i].many);
    return g_string_free(s, FALSE);
}

/* Drops the deleted messages from the search index and re-indexes the
 * shared ones (their 'index' work items, queued with the delete).  A
 * failure here leaves only stale documents, which searches skip: a warning,
 * not an error. */
static void
delete_from_index(cor_cli_t *cli, cor_store_t *st, GArray *removed)
{
    g_autofree char *ipath = cli_index_path(cli);
    if (!g_file_test(ipath, G_FILE_TEST_IS_DIR))
        return;
    cor_search_writer_t *w = cli_index_writer(cli);
    if (!w) {
        fprintf(stderr, "corridor: the index still has the deleted messages (searches skip "
                        "them); 'corridor reindex' removes them\n");
        return;
    }
    cor_status_t s = COR_OK;
    for (guint i = 0; s == COR_OK && i < removed->len; i++)
        s = cor_search_writer_delete(w, (uint64_t) g_array_index(removed, int64_t, i));
    if (s == COR_OK)
        s = cor_search_writer_commit(w);
    if (s != COR_OK)
        cli_error("cannot remove the deleted messages from the index (searches skip them; "
                  "'corridor reindex' removes them): %s", cor_search_writer_error(w));
    cor_ingest_options_t opt = { .workers = 1 };
    cor_ingest_stats_t stats;
    g_autofree char *err = NULL;
    if (s == COR_OK && cor_ingest_catch_up(st, w, &opt, &stats, &err) != COR_OK)
        cli_error("cannot re-index the messages other groups share (the daemon or the next "
                  "'corridor reindex' will): %s", err ? err : "");
    cor_search_writer_close(w);
    if (s == COR_OK)
        printf("index: removed %u document%s\n", removed->len, removed->len == 1 ? "" : "s");
}

/* Removes the group's pages: a build over the live trees sweeps them and
 * takes it out of the site index and the author pages.  0, or 1 after the
 * error. */
static int
delete_from_archive(cor_cli_t *cli, cor_store_t *st, const char *group)
{
    cor_archive_options_t o = { .state_dir = cli->state_dir, .config = cli->config };
    g_autoptr(cor_archive_t) a = NULL;
    g_autofree char *err = NULL;
    cor_status_t s = cor_archive_open(&o, &a, &err);
    if (s != COR_OK)
        return cli_error("cannot load the archive templates: %s", err ? err : cor_status_to_string(s));
    int rc = 0;
    if (g_file_test(cor_archive_public_dir(a), G_FILE_TEST_IS_DIR)) {
        cor_archive_stats_t stats;
        s = cor_archive_build(a, st, NULL, &stats, &err);
        if (s != COR_OK)
            rc = cli_error("archive build failed (run 'corridor archive build'): %s",
                           err ? err : cor_status_to_string(s));
        else
            printf("archive: removed g/%s and rebuilt the pages that listed it\n", group);
    }
    /* whatever a failed build (or a tree without a public side) left */
    const char *roots[] = { cor_archive_public_dir(a), cor_archive_restricted_dir(a) };
    for (size_t i = 0; i < G_N_ELEMENTS(roots); i++) {
        g_autofree char *dir = g_build_filename(roots[i], "g", group, NULL);
        if (g_file_test(dir, G_FILE_TEST_EXISTS))
            nftw(dir, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
    }
    return rc;
}

/* `group delete NAME --yes`: the group and everything that is only its. */
static int
group_delete(cor_cli_t *cli, int argc, char **argv)
{
    gboolean yes = FALSE;
    GOptionEntry entries[] = {
        { "yes", 0, 0, G_OPTION_ARG_NONE, &yes, "Really delete it", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("NAME --yes - delete a group and all it holds");
    g_option_context_set_description(ctx,
        "Deletes the group's members, settings, held posts, queued mail, opt-outs,\n"
        "threads and the messages no other group has (originals and attachments),\n"
        "removes them from the search index and the archive, and rewrites the\n"
        "Postfix tables when [postfix] maps_dir is set.  There is no undo.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2)
        return cli_error("usage: corridor group delete NAME --yes");
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(cor_group_t) g = NULL;
    if (cor_store_group_get(st, argv[1], &g) != COR_OK)
        return cli_error("%s", cor_store_error(st));
    cor_group_counts_t n;
    if (cor_store_group_counts(st, g->id, &n) != COR_OK)
        return cli_error("cannot read group %s: %s", g->name, cor_store_error(st));
    g_autofree char *what = describe_counts(&n, g->name);
    if (!yes)
        return cli_error("not deleting group %s without --yes: it would delete %s, and its "
                         "archive pages (there is no undo)", g->name, what);

    g_autoptr(GArray) removed = NULL, kept = NULL;
    cor_status_t s = cor_store_begin(st);
    if (s == COR_OK)
        s = cor_store_group_delete(st, g->id, &removed, &kept);
    /* the daemon's archive renderer reloads its model when this changes */
    g_autofree char *gen = NULL;
    if (s == COR_OK && cor_store_meta_get(st, "archive_generation", &gen) == COR_OK) {
        g_autofree char *next = g_strdup_printf("%" G_GINT64_FORMAT,
                                                g_ascii_strtoll(gen, NULL, 10) + 1);
        s = cor_store_meta_set(st, "archive_generation", next);
    }
    if (s == COR_OK)
        s = cor_store_commit(st);
    if (s != COR_OK) {
        int rc = cli_error("cannot delete group %s: %s", g->name, cor_store_error(st));
        cor_store_rollback(st);
        return rc;
    }
    printf("deleted group %s: %s\n", g->name, what);
    fflush(stdout);
    delete_from_index(cli, st, removed);
    int rc = delete_from_archive(cli, st, g->name);
    if (cli_postfix_maps_refresh(cli) != 0)
        rc = 1;
    return rc;
}

int
cmd_group(cor_cli_t *cli, int argc, char **argv)
{
    static const struct {
        const char *verb;
        int (*fn)(cor_cli_t *, int, char **);
    } verbs[] = {
        { "create", group_create }, { "list", group_list }, { "set", group_set },
        { "show", group_show },     { "delete", group_delete },
    };
    for (size_t i = 0; argc >= 2 && i < G_N_ELEMENTS(verbs); i++)
        if (strcmp(argv[1], verbs[i].verb) == 0)
            return verbs[i].fn(cli, argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: corridor group create NAME [--title T] [--description D]\n"
               "                 [--visibility public|staff|private] [--owner ADDR]...\n"
               "                 [--moderator ADDR]... [KEY=VALUE...]\n"
               "       corridor group list [--json]\n"
               "       corridor group set NAME KEY=VALUE... [--unset KEY]  (title, description,\n"
               "                 visibility, owners, moderators, the filter keys of\n"
               "                 docs/filters.md, subject_prefix, footer, reply_to, dmarc,\n"
               "                 digest_time, digest_day)\n"
               "       corridor group show NAME [--json]\n"
               "       corridor group delete NAME --yes\n");
        return 0;
    }
    return cli_error("usage: corridor group create|list|set|show|delete ... "
                     "(see 'corridor group --help')");
}
