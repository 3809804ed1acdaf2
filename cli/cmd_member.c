/* cli/cmd_member.c — `corridor member add|remove|set|list`: a group's
 * members, their delivery mode and role.  Nothing here sends mail. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"


static void
member_json(const cor_member_t *m)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    const char *fields[][2] = {
        { "address", m->address }, { "name", m->name }, { "mode", m->mode },
        { "role", m->role }, { "status", m->status },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
        json_builder_set_member_name(b, fields[i][0]);
        json_builder_add_string_value(b, fields[i][1]);
    }
    if (strcmp(m->status, "enabled") != 0) {
        json_builder_set_member_name(b, "reason");
        json_builder_add_string_value(b, m->reason);
    }
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    cli_print_json(root);
}

int
cmd_member(cor_cli_t *cli, int argc, char **argv)
{
    static const char usage[] =
        "usage: corridor member add GROUP ADDRESS [--name N] [--mode each|digest|none] "
        "[--role member|owner|moderator]\n"
        "       corridor member set GROUP ADDRESS [--name N] [--mode M] [--role R]\n"
        "       corridor member remove GROUP ADDRESS\n"
        "       corridor member list GROUP [--json]";
    g_autofree char *name = NULL, *mode = NULL, *role = NULL;
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        { "name", 0, 0, G_OPTION_ARG_STRING, &name, "Display name", "N" },
        { "mode", 0, 0, G_OPTION_ARG_STRING, &mode, "Delivery: each, digest or none", "M" },
        { "role", 0, 0, G_OPTION_ARG_STRING, &role, "member, owner or moderator", "R" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "list: one JSON object per line", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("add|set|remove|list GROUP [ADDRESS] - a group's members");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("%s\n", usage);
        return 0;
    }
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    const char *verb = argc >= 2 ? argv[1] : "";
    bool list = strcmp(verb, "list") == 0;
    bool known = list || strcmp(verb, "add") == 0 || strcmp(verb, "set") == 0 ||
                 strcmp(verb, "remove") == 0;
    if (!known || argc != (list ? 3 : 4))
        return cli_error("%s", usage);
    if (mode && !cor_member_mode_valid(mode))
        return cli_error("invalid mode '%s' (use each, digest or none)", mode);
    if (role && !cor_member_role_valid(role))
        return cli_error("invalid role '%s' (use member, owner or moderator)", role);
    if (!list && !cor_member_address_valid(argv[3]))
        return cli_error("invalid address '%s'", argv[3]);
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(cor_group_t) g = NULL;
    if (cor_store_group_get(st, argv[2], &g) != COR_OK)
        return cli_error("%s", cor_store_error(st));
    if (list) {
        g_autoptr(GPtrArray) members = NULL;
        if (cor_store_member_list(st, g->id, &members) != COR_OK)
            return cli_error("cannot list members: %s", cor_store_error(st));
        for (guint i = 0; i < members->len; i++) {
            const cor_member_t *m = members->pdata[i];
            if (json)
                member_json(m);
            else
                printf("%s\t%s\t%s\t%s\t%s%s%s\n", m->address, m->name, m->mode, m->role,
                       m->status, *m->reason ? ": " : "", m->reason);
        }
        return 0;
    }
    cor_status_t s = cor_store_begin(st);
    if (s == COR_OK && strcmp(verb, "add") == 0) {
        s = cor_store_member_add(st, g->id, argv[3], name);
        if (s == COR_OK && (mode || role))
            s = cor_store_member_set(st, g->id, argv[3], NULL, mode, role);
    } else if (s == COR_OK && strcmp(verb, "set") == 0) {
        s = cor_store_member_set(st, g->id, argv[3], name, mode, role);
    } else if (s == COR_OK) {
        s = cor_store_member_remove(st, g->id, argv[3]);
    }
    if (s == COR_OK)
        s = cor_store_commit(st);
    if (s != COR_OK) {
        int rc = cli_error("cannot %s %s %s %s: %s", verb, argv[3],
                           strcmp(verb, "add") == 0 ? "to" : strcmp(verb, "set") == 0 ? "in" : "from",
                           g->name, cor_store_error(st));
        cor_store_rollback(st);
        return rc;
    }
    g_autofree char *addr = g_ascii_strdown(argv[3], -1);
    if (strcmp(verb, "add") == 0)
        printf("added %s to %s\n", addr, g->name);
    else if (strcmp(verb, "set") == 0)
        printf("changed %s in %s\n", addr, g->name);
    else
        printf("removed %s from %s\n", addr, g->name);
    return 0;
}
