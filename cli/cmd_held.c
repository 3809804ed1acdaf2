/* cli/cmd_held.c — `corridor held list|show|approve|reject`: the posts the
 * filters held for a moderator (filters/held.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "filters/held.h"

static const char *
operator_name(const char *given)
{
    return given && *given ? given : g_get_user_name();
}

static bool
parse_id(const char *arg, int64_t *id)
{
    char *end;
    long long n = strtoll(arg, &end, 10);
    if (end == arg || *end || n <= 0)
        return false;
    *id = (int64_t) n;
    return true;
}

static void
held_json(const cor_held_t *h)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
#define STR(k, v) json_builder_set_member_name(b, k); json_builder_add_string_value(b, v)
#define INT(k, v) json_builder_set_member_name(b, k); json_builder_add_int_value(b, v)
    INT("id", h->id);
    STR("group", h->group);
    STR("message_id", h->message_id);
    STR("from", h->from_addr);
    STR("envelope_from", h->env_from);
    STR("subject", h->subject);
    INT("size", (gint64) h->size);
    g_autofree char *received = cli_iso_date(h->received);
    STR("received", received);
    STR("filter", h->filter);
    STR("reason", h->reason);
    json_builder_set_member_name(b, "restricted");
    json_builder_add_boolean_value(b, h->restricted);
    STR("status", h->status);
    if (h->decided) {
        g_autofree char *decided = cli_iso_date(h->decided);
        STR("decided", decided);
        STR("decided_by", h->decided_by);
        STR("note", h->note);
    }
#undef STR
#undef INT
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    cli_print_json(root);
}

static int
held_list(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *group = NULL, *status = NULL;
    gboolean json = FALSE, all = FALSE;
    GOptionEntry entries[] = {
        { "group", 'g', 0, G_OPTION_ARG_STRING, &group, "Only this group", "NAME" },
        { "all", 0, 0, G_OPTION_ARG_NONE, &all, "Decided posts too (approved, rejected)", NULL },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object per line", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- posts waiting for a moderator");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 1)
        return cli_error("usage: corridor held list [--group NAME] [--all] [--json]");
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    int64_t gid = 0;
    if (group) {
        g_autoptr(cor_group_t) g = NULL;
        if (cor_store_group_get(st, group, &g) != COR_OK)
            return cli_error("%s", cor_store_error(st));
        gid = g->id;
    }
    g_autoptr(GPtrArray) list = NULL;
    if (cor_store_held_list(st, gid, all ? NULL : "held", &list) != COR_OK)
        return cli_error("cannot list held posts: %s", cor_store_error(st));
    for (guint i = 0; i < list->len; i++) {
        const cor_held_t *h = list->pdata[i];
        if (json) {
            held_json(h);
            continue;
        }
        g_autofree char *received = cli_iso_date(h->received);
        printf("%" G_GINT64_FORMAT "\t%s\t%s\t%s\t%s\t%s: %s\t%s\n", h->id, h->group, received,
               h->from_addr, h->subject, h->filter, h->reason, h->status);
    }
    if (!json && list->len == 0 && cli->stderr_tty)
        fprintf(stderr, "no held posts\n");
    return 0;
}

static int
held_show(cor_cli_t *cli, int argc, char **argv)
{
    gboolean json = FALSE, raw = FALSE;
    GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object", NULL },
        { "raw", 0, 0, G_OPTION_ARG_NONE, &raw, "The original message, byte for byte", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("ID - one held post");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    int64_t id;
    if (argc != 2 || !parse_id(argv[1], &id))
        return cli_error("usage: corridor held show ID [--json|--raw]");
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(cor_held_t) h = NULL;
    g_autoptr(GBytes) bytes = NULL;
    if (cor_store_held_get(st, id, &h, &bytes) != COR_OK)
        return cli_error("%s", cor_store_error(st));
    if (raw) {
        gsize len;
        const char *data = g_bytes_get_data(bytes, &len);
        fwrite(data, 1, len, stdout);
        return 0;
    }
    if (json) {
        held_json(h);
        return 0;
    }
    g_autofree char *received = cli_iso_date(h->received);
    printf("id          %" G_GINT64_FORMAT "\ngroup       %s\nmessage-id  <%s>\nfrom        %s\n"
           "envelope    <%s>\nsubject     %s\nsize        %" G_GUINT64_FORMAT " bytes\n"
           "received    %s\nheld by     %s: %s\nstatus      %s%s\n",
           h->id, h->group, h->message_id, h->from_addr, h->env_from, h->subject, h->size,
           received, h->filter, h->reason, h->status,
           h->restricted ? " (to be kept restricted when approved)" : "");
    if (h->decided) {
        g_autofree char *decided = cli_iso_date(h->decided);
        printf("decided     %s by %s%s%s\n", decided, h->decided_by, *h->note ? ": " : "", h->note);
    }
    return 0;
}

static int
held_decide(cor_cli_t *cli, int argc, char **argv, bool approve)
{
    g_autofree char *op = NULL, *reason = NULL;
    GOptionEntry entries[] = {
        { "operator", 0, 0, G_OPTION_ARG_STRING, &op, "Who decides (default: the login user)", "NAME" },
        { "reason", 0, 0, G_OPTION_ARG_STRING, &reason, "Why (rejections: told to the sender)", "TEXT" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(approve ? "ID... - post held messages"
                                                                 : "ID... - refuse held messages");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc < 2)
        return cli_error("usage: corridor held %s ID... [--operator NAME]%s",
                         approve ? "approve" : "reject", approve ? "" : " [--reason TEXT]");
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        int64_t id;
        if (!parse_id(argv[i], &id)) {
            rc = cli_error("'%s' is not a held post id", argv[i]);
            continue;
        }
        g_autofree char *err = NULL;
        cor_status_t s = approve ? cor_held_approve(st, id, operator_name(op), NULL, &err)
                                 : cor_held_reject(st, id, operator_name(op), reason, &err);
        if (s != COR_OK) {
            rc = cli_error("cannot %s held post %s: %s", approve ? "approve" : "reject", argv[i],
                           err ? err : cor_status_to_string(s));
            continue;
        }
        printf("%s held post %" G_GINT64_FORMAT "\n", approve ? "approved" : "rejected", id);
    }
    return rc;
}

int
cmd_held(cor_cli_t *cli, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return held_list(cli, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "show") == 0)
        return held_show(cli, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "approve") == 0)
        return held_decide(cli, argc - 1, argv + 1, true);
    if (argc >= 2 && strcmp(argv[1], "reject") == 0)
        return held_decide(cli, argc - 1, argv + 1, false);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: corridor held list [--group NAME] [--all] [--json]\n"
               "       corridor held show ID [--json|--raw]\n"
               "       corridor held approve ID... [--operator NAME]\n"
               "       corridor held reject ID... [--operator NAME] [--reason TEXT]\n");
        return 0;
    }
    return cli_error("usage: corridor held list|show|approve|reject ... (see 'corridor held --help')");
}
