/* cli/cmd_thread.c — `corridor threads --group NAME --json` (the group's
 * threads, from the store) and `corridor thread --json MESSAGE-ID` (one
 * thread as a nested tree). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/message.h"
#include "core/thread.h"
#include "core/visibility.h"

static cor_status_t
print_thread(int64_t thread, GPtrArray *ids, void *data)
{
    gboolean json = *(gboolean *) data;
    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "thread_id");
        json_builder_add_int_value(b, thread);
        json_builder_set_member_name(b, "message_ids");
        json_builder_begin_array(b);
        for (guint i = 0; i < ids->len; i++)
            json_builder_add_string_value(b, g_ptr_array_index(ids, i));
        json_builder_end_array(b);
        json_builder_end_object(b);
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        cli_print_json(root);
    } else {
        printf("thread %" G_GINT64_FORMAT ": %u messages\n", thread, ids->len);
        for (guint i = 0; i < ids->len; i++)
            printf("  <%s>\n", (char *) g_ptr_array_index(ids, i));
    }
    return COR_OK;
}

/* The group `name` if the staff viewer (or --as member) may see it. */
static cor_group_t *
visible_group(cor_cli_t *cli, cor_store_t *st, const char *name, const char *as)
{
    cor_group_t *g = NULL;
    if (cor_store_group_get(st, name, &g) != COR_OK) {
        cli_error("%s", cor_store_error(st));
        return NULL;
    }
    cor_viewer_t viewer = { COR_VIEWER_STAFF, as };
    bool ok = false;
    if (cor_visibility_can_see(st, &viewer, g, &ok) != COR_OK || !ok) {
        cli_error("group '%s' is private (use --as ADDRESS of a member)", name);
        cor_group_free(g);
        return NULL;
    }
    return g;
}

int
cmd_threads(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *group = NULL, *as = NULL;
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        { "group", 'g', 0, G_OPTION_ARG_STRING, &group, "The group", "NAME" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object per line", NULL },
        { "as", 0, 0, G_OPTION_ARG_STRING, &as, "As this member (for a private group)", "ADDRESS" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("--group NAME [--json] - list a group's threads");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (!group || argc != 1)
        return cli_error("usage: corridor threads --group NAME [--json]");
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(cor_group_t) g = visible_group(cli, st, group, as);
    if (!g)
        return 1;
    if (cor_thread_foreach(st, g->id, print_thread, &json) != COR_OK)
        return cli_error("%s", cor_store_error(st));
    return 0;
}

static void
add_node(cor_store_t *st, JsonBuilder *b, const cor_thread_node_t *n, gboolean json, int depth)
{
    g_autoptr(cor_stored_message_t) m = NULL;
    if (n->msg)
        cor_store_message_get(st, n->msg, &m);
    if (json) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "message_id");
        json_builder_add_string_value(b, n->message_id);
        if (m) {
            g_autofree char *date = cli_iso_date(m->date);
            json_builder_set_member_name(b, "date");
            json_builder_add_string_value(b, date);
            json_builder_set_member_name(b, "from");
            json_builder_add_string_value(b, m->from_display);
            json_builder_set_member_name(b, "subject");
            json_builder_add_string_value(b, m->subject);
        } else {
            json_builder_set_member_name(b, "ghost");
            json_builder_add_boolean_value(b, TRUE);
        }
        json_builder_set_member_name(b, "children");
        json_builder_begin_array(b);
    } else {
        printf("%*s%s  <%s>\n", depth * 2, "", m ? m->subject : "(not seen)", n->message_id);
    }
    for (guint i = 0; i < n->children->len; i++)
        add_node(st, b, g_ptr_array_index(n->children, i), json, depth + 1);
    if (json) {
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
}

int
cmd_thread(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *group = NULL, *as = NULL;
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        { "group", 'g', 0, G_OPTION_ARG_STRING, &group, "The group (default: the first one that has it)", "NAME" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "The tree as JSON", NULL },
        { "as", 0, 0, G_OPTION_ARG_STRING, &as, "As this member (for a private group)", "ADDRESS" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("[--json] MESSAGE-ID - show a message's thread");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2)
        return cli_error("usage: corridor thread [--json] [--group NAME] MESSAGE-ID");
    g_autofree char *id = cli_message_id(argv[1]);
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;

    /* the first group holding this message that the viewer may see */
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    if (!cli_visible_message(st, id, group, as, names))
        return 1;
    g_autoptr(cor_group_t) g = NULL;
    if (cor_store_group_get(st, g_ptr_array_index(names, 0), &g) != COR_OK)
        return cli_error("%s", cor_store_error(st));

    int64_t thread = 0;
    g_autoptr(GPtrArray) roots = NULL;
    if (cor_thread_tree(st, g->id, id, &thread, &roots) != COR_OK)
        return cli_error("%s", cor_store_error(st));
    g_autoptr(JsonBuilder) b = json_builder_new();
    if (json) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "thread_id");
        json_builder_add_int_value(b, thread);
        json_builder_set_member_name(b, "group");
        json_builder_add_string_value(b, g->name);
        json_builder_set_member_name(b, "roots");
        json_builder_begin_array(b);
    } else {
        printf("thread %" G_GINT64_FORMAT " in %s\n", thread, g->name);
    }
    for (guint i = 0; i < roots->len; i++)
        add_node(st, b, g_ptr_array_index(roots, i), json, 0);
    if (json) {
        json_builder_end_array(b);
        json_builder_end_object(b);
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        cli_print_json(root);
    }
    return 0;
}
