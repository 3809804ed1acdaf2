/* cli/cmd_group.c — `corridor group create|list|set|show`. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "filters/filter.h"

static int
group_create(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *title = NULL, *visibility = NULL;
    GOptionEntry entries[] = {
        { "title", 0, 0, G_OPTION_ARG_STRING, &title, "Title shown in the archive", "T" },
        { "visibility", 0, 0, G_OPTION_ARG_STRING, &visibility,
          "public (default), staff or private", "V" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("NAME - create a group");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2)
        return cli_error("usage: corridor group create NAME [--title T] [--visibility public|staff|private]");
    const char *name = argv[1];
    cor_visibility_t vis;
    const char *vtext = visibility ? visibility
                                   : cor_config_string(cli->config, "groups", "default_visibility");
    if (cor_visibility_from_string(vtext, &vis) != COR_OK)
        return cli_error("invalid visibility '%s' (use public, staff or private)", vtext);
    if (!cor_group_name_valid(name))
        return cli_error("invalid group name '%s' (lowercase letters, digits, '-', '_', '.'; "
                         "starting with a letter or digit)", name);
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    cor_status_t s = cor_store_group_create(st, name, title ? title : name, vis, NULL);
    if (s != COR_OK)
        return cli_error("cannot create group: %s", cor_store_error(st));
    printf("created group %s (%s)\n", name, cor_visibility_to_string(vis));
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

/* `group set NAME key=value... [--unset key]...`: a group's own filter
 * settings over the [filters] defaults (filters/filter.h), checked first. */
static int
group_set(cor_cli_t *cli, int argc, char **argv)
{
    g_auto(GStrv) unset = NULL;
    GOptionEntry entries[] = {
        { "unset", 0, 0, G_OPTION_ARG_STRING_ARRAY, &unset,
          "Go back to the site-wide default for KEY", "KEY" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("NAME KEY=VALUE... - change a group's settings");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc < 2 || (argc == 2 && !unset))
        return cli_error("usage: corridor group set NAME KEY=VALUE... [--unset KEY]");
    const char *title = NULL, *description = NULL;
    cor_visibility_t vis;
    bool vis_set = false;
    for (int i = 2; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq)
            return cli_error("'%s' is not KEY=VALUE", argv[i]);
        g_autofree char *key = g_strndup(argv[i], (size_t) (eq - argv[i]));
        /* the group's own fields, then the filters' keys */
        if (strcmp(key, "title") == 0) {
            if (!*(eq + 1))
                return cli_error("title: a group needs a title");
            title = eq + 1;
            continue;
        }
        if (strcmp(key, "description") == 0) {
            description = eq + 1;
            continue;
        }
        if (strcmp(key, "visibility") == 0) {
            if (cor_visibility_from_string(eq + 1, &vis) != COR_OK)
                return cli_error("visibility: '%s' is not public, staff or private", eq + 1);
            vis_set = true;
            continue;
        }
        g_autofree char *err = NULL;
        if (cor_filter_setting_check(key, eq + 1, &err) != COR_OK)
            return cli_error("%s", err);
    }
    for (char **u = unset; u && *u; u++) {
        bool known = false;
        for (const cor_filter_key_t *k = cor_filter_keys(); k->key; k++)
            known = known || strcmp(k->key, *u) == 0;
        if (!known)
            return cli_error("unknown setting '%s'", *u);
    }
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(cor_group_t) g = NULL;
    if (cor_store_group_get(st, argv[1], &g) != COR_OK)
        return cli_error("%s", cor_store_error(st));
    cor_status_t s = cor_store_begin(st);
    if (s == COR_OK && (title || description || vis_set))
        s = cor_store_group_update(st, g->id, title, description, vis_set ? &vis : NULL);
    for (int i = 2; s == COR_OK && i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        g_autofree char *key = g_strndup(argv[i], (size_t) (eq - argv[i]));
        if (strcmp(key, "title") == 0 || strcmp(key, "description") == 0 ||
            strcmp(key, "visibility") == 0)
            continue;
        s = cor_store_group_setting_set(st, g->id, key, eq + 1);
    }
    for (char **u = unset; s == COR_OK && u && *u; u++)
        s = cor_store_group_setting_set(st, g->id, *u, NULL);
    if (s == COR_OK)
        s = cor_store_commit(st);
    if (s != COR_OK) {
        cor_store_rollback(st);
        return cli_error("cannot change group %s: %s", g->name, cor_store_error(st));
    }
    printf("changed group %s\n", g->name);
    /* a group's visibility decides which archive tree its pages are in */
    fflush(stdout);
    if (vis_set && vis != g->visibility)
        fprintf(stderr, "corridor: %s is now %s: run 'corridor archive build' to move its pages\n",
                g->name, cor_visibility_to_string(vis));
    return 0;
}

static int
cmp_strp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* `group show NAME [--json]`: the group and its effective filter settings,
 * each marked as the group's own or the site's default. */
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
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    group_json_head(b, g);
    json_builder_set_member_name(b, "description");
    json_builder_add_string_value(b, g->description);
    json_builder_set_member_name(b, "settings");
    json_builder_begin_object(b);
    if (!json)
        printf("group       %s\ntitle       %s\ndescription %s\nvisibility  %s\nfilters:\n", g->name,
               g->title, g->description, cor_visibility_to_string(g->visibility));
    for (const cor_filter_key_t *k = cor_filter_keys(); k->key; k++) {
        const char *own = g_hash_table_lookup(p->overrides, k->key);
        const char *v = own ? own : cor_config_value_text(cli->config, "filters", k->key);
        json_builder_set_member_name(b, k->key);
        json_builder_add_string_value(b, v ? v : "");
        if (!json)
            printf("  %-20s %s%s\n", k->key, v && *v ? v : "(none)", own ? "   [group]" : "");
    }
    json_builder_end_object(b);
    json_builder_set_member_name(b, "group_settings");
    json_builder_begin_array(b);
    GHashTableIter it;
    gpointer key;
    g_autoptr(GPtrArray) own = g_ptr_array_new();
    g_hash_table_iter_init(&it, p->overrides);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_ptr_array_add(own, key);
    g_ptr_array_sort(own, cmp_strp);
    for (guint i = 0; i < own->len; i++)
        json_builder_add_string_value(b, own->pdata[i]);
    json_builder_end_array(b);
    json_builder_end_object(b);
    if (json) {
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        cli_print_json(root);
    }
    return 0;
}

int
cmd_group(cor_cli_t *cli, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "create") == 0)
        return group_create(cli, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return group_list(cli, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "set") == 0)
        return group_set(cli, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "show") == 0)
        return group_show(cli, argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: corridor group create NAME [--title T] [--visibility public|staff|private]\n"
               "       corridor group list [--json]\n"
               "       corridor group set NAME KEY=VALUE... [--unset KEY]  (title, description,\n"
               "                 visibility, and the filter keys of docs/filters.md)\n"
               "       corridor group show NAME [--json]\n");
        return 0;
    }
    return cli_error("usage: corridor group create|list|set|show ... (see 'corridor group --help')");
}
