/* cli/cmd_outbox.c — `corridor outbox [list|flush]` and `corridor bounces
 * GROUP`: what waits to go out, sending it without the daemon, and the
 * members' bounce scores (mta-bridge/outbound.h, mta-bridge/control.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "mta-bridge/outbound.h"

static int
outbox_list(cor_cli_t *cli, bool json)
{
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(GPtrArray) list = NULL;
    if (cor_store_outbox_list(st, G_MAXUINT, &list) != COR_OK)
        return cli_error("cannot read the outbox: %s", cor_store_error(st));
    int64_t now = (int64_t) time(NULL);
    for (guint i = 0; i < list->len; i++) {
        cor_outbox_item_t *it = list->pdata[i];
        g_autofree char *created = cli_iso_date(it->created);
        if (json) {
            g_autoptr(JsonBuilder) b = json_builder_new();
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "id");
            json_builder_add_int_value(b, it->id);
            json_builder_set_member_name(b, "kind");
            json_builder_add_string_value(b, it->kind);
            json_builder_set_member_name(b, "to");
            json_builder_add_string_value(b, it->address);
            json_builder_set_member_name(b, "queued");
            json_builder_add_string_value(b, created);
            json_builder_set_member_name(b, "attempts");
            json_builder_add_int_value(b, it->attempts);
            json_builder_set_member_name(b, "next_try");
            json_builder_add_int_value(b, it->next_try);
            json_builder_set_member_name(b, "last_error");
            json_builder_add_string_value(b, it->last_error);
            json_builder_end_object(b);
            g_autoptr(JsonNode) root = json_builder_get_root(b);
            cli_print_json(root);
        } else {
            printf("%-8" G_GINT64_FORMAT " %-8s %-40s %s  %d attempt%s%s%s\n", it->id, it->kind,
                   it->address, created, it->attempts, it->attempts == 1 ? "" : "s",
                   it->next_try > now ? ", waiting" : "", *it->last_error ? "" : "");
            if (*it->last_error)
                printf("         last error: %s\n", it->last_error);
        }
    }
    if (!json)
        printf("%u cop%s waiting\n", list->len, list->len == 1 ? "y" : "ies");
    return 0;
}

static int
outbox_flush(cor_cli_t *cli, const char *relay, int wait_s)
{
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    cor_store_close(g_steal_pointer(&cli->store));
    g_autofree char *store_path = cli_store_path(cli);
    g_autofree char *base = cor_config_base_url(cli->config, NULL);
    g_autofree char *err = NULL;
    cor_outbound_t *ob = NULL;
    cor_status_t s = cor_outbound_new(store_path, cli->config, relay, base, &ob, &err);
    if (s != COR_OK)
        return cli_error("cannot send: %s", err ? err : cor_status_to_string(s));
    cor_outbound_stats_t stats = { 0 };
    s = cor_outbound_flush(ob, wait_s > 0, (int64_t) (wait_s > 0 ? wait_s : 0) * 1000 + 1000,
                           &stats, &err);
    cor_outbound_free(ob);
    if (s != COR_OK)
        return cli_error("cannot send: %s", err ? err : cor_status_to_string(s));
    printf("sent %" G_GINT64_FORMAT ", deferred %" G_GINT64_FORMAT ", failed %" G_GINT64_FORMAT
           ", still queued %" G_GINT64_FORMAT, stats.sent, stats.deferred, stats.failed,
           stats.queued);
    if (stats.withheld > 0)   /* outside addresses in staff-only groups (outbound.c) */
        printf(", withheld %" G_GINT64_FORMAT, stats.withheld);
    printf("\n");
    return stats.queued > 0 ? 75 : 0;  /* EX_TEMPFAIL: some wait for a retry */
}

int
cmd_outbox(cor_cli_t *cli, int argc, char **argv)
{
    gboolean json = FALSE;
    g_autofree char *relay = NULL;
    gint wait_s = 0;
    GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "list: one JSON object per line", NULL },
        { "relay", 0, 0, G_OPTION_ARG_STRING, &relay, "flush: send through this relay", "URL" },
        { "wait", 0, 0, G_OPTION_ARG_INT, &wait_s,
          "flush: keep retrying temporary failures for this long", "SECONDS" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("[list|flush] - mail waiting to go out");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "list (the default) shows every copy waiting, with its attempts and last error.\n"
        "flush sends what is due now through the relay and exits (no daemon needed);\n"
        "it exits 75 when some copies still wait for a retry.");
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    const char *what = argc > 1 ? argv[1] : "list";
    if (argc > 2)
        return cli_error("usage: corridor outbox [list|flush] [--json] [--relay URL] [--wait SECONDS]");
    if (strcmp(what, "list") == 0)
        return outbox_list(cli, json);
    if (strcmp(what, "flush") == 0)
        return outbox_flush(cli, relay, wait_s);
    return cli_error("outbox: unknown action '%s' (list or flush)", what);
}

int
cmd_bounces(cor_cli_t *cli, int argc, char **argv)
{
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "one JSON object per line", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("GROUP - members' bounce scores");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Every address with a failed delivery in the group, worst first: the score now\n"
        "(it halves every [bounces] half_life), hard and soft failures counted, the\n"
        "member's status, and the last failure.  A member is disabled at [bounces] threshold.");
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2)
        return cli_error("usage: corridor bounces GROUP [--json]");
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(cor_group_t) g = NULL;
    cor_status_t s = cor_store_group_get(st, argv[1], &g);
    if (s == COR_ERR_NO_GROUP || s == COR_ERR_NOT_FOUND)
        return cli_error("no group '%s'", argv[1]);
    if (s != COR_OK)
        return cli_error("%s", cor_store_error(st));
    int64_t half = cor_config_int(cli->config, "bounces", "half_life");  /* seconds */
    g_autoptr(GPtrArray) list = NULL;
    if (cor_store_bounce_scores(st, g->id, (int64_t) time(NULL), half, &list) != COR_OK)
        return cli_error("cannot read bounces: %s", cor_store_error(st));
    const char *threshold = cor_config_string(cli->config, "bounces", "threshold");
    for (guint i = 0; i < list->len; i++) {
        cor_bounce_score_t *b = list->pdata[i];
        g_autofree char *last = cli_iso_date(b->last_at);
        if (json) {
            g_autoptr(JsonBuilder) jb = json_builder_new();
            json_builder_begin_object(jb);
            json_builder_set_member_name(jb, "address");
            json_builder_add_string_value(jb, b->address);
            json_builder_set_member_name(jb, "score");
            json_builder_add_double_value(jb, (double) (int64_t) (b->score * 100 + 0.5) / 100);
            json_builder_set_member_name(jb, "hard");
            json_builder_add_int_value(jb, b->hard);
            json_builder_set_member_name(jb, "soft");
            json_builder_add_int_value(jb, b->soft);
            json_builder_set_member_name(jb, "status");
            json_builder_add_string_value(jb, b->status);
            json_builder_set_member_name(jb, "reason");
            json_builder_add_string_value(jb, b->reason);
            json_builder_set_member_name(jb, "last");
            json_builder_add_string_value(jb, last);
            json_builder_set_member_name(jb, "last_class");
            json_builder_add_string_value(jb, b->last_class);
            json_builder_set_member_name(jb, "last_status");
            json_builder_add_string_value(jb, b->last_status);
            json_builder_set_member_name(jb, "last_detail");
            json_builder_add_string_value(jb, b->last_detail);
            json_builder_end_object(jb);
            g_autoptr(JsonNode) root = json_builder_get_root(jb);
            cli_print_json(root);
        } else {
            printf("%-40s score %5.2f  %3" G_GINT64_FORMAT " hard %3" G_GINT64_FORMAT
                   " soft  %-9s last %s %s %s\n",
                   b->address, b->score, b->hard, b->soft, b->status, last, b->last_class,
                   b->last_status);
        }
    }
    if (!json)
        printf("%u address%s with bounces in %s (threshold %s)\n", list->len,
               list->len == 1 ? "" : "es", g->name, threshold);
    return 0;
}
