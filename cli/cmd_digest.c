/* cli/cmd_digest.c — `corridor digest preview|send|set|list`: what a
 * member's digest would be now, making the digests that are due and
 * sending them, people's digest choices, and the digests made
 * (digest/digest.h; the sending is mta-bridge/outbound.h's). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "digest/digest.h"
#include "mta-bridge/outbound.h"

static int
usage_error(void)
{
    fprintf(stderr,
        "usage: corridor digest preview --member ADDRESS [--group G] [--format text|html|raw]\n"
        "       corridor digest send [--group G] [--now] [--relay URL] [--queue-only]\n"
        "       corridor digest set ADDRESS [--combined|--separate] [--format multipart|rfc1153|mime]\n"
        "       corridor digest list [--member ADDRESS] [--limit N] [--json]\n");
    return 2;
}

/* ---- preview ---- */

static int
preview(cor_cli_t *cli, const char *member, const char *group, const char *format)
{
    if (!member)
        return usage_error();
    if (strcmp(format, "text") && strcmp(format, "html") && strcmp(format, "raw"))
        return cli_error("digest preview: --format is text, html or raw, not '%s'", format);
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autofree char *base = cor_config_base_url(cli->config, NULL);
    g_autofree char *err = NULL;
    g_autoptr(cor_digest_site_t) site = NULL;
    cor_status_t s = cor_digest_site_new(cli->config, base, &site, &err);
    if (s != COR_OK)
        return cli_error("%s", err);
    g_autoptr(GPtrArray) scopes = NULL;
    if (group) {
        scopes = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(scopes, g_strdup(group));
        bool combined = false;
        g_autofree char *f = NULL;
        if (cor_store_digest_prefs_get(st, member, &combined, &f) == COR_OK && combined)
            fprintf(stderr, "corridor: %s gets combined digests: this is %s's part on its own\n",
                    member, group);
    } else if ((s = cor_digest_scopes(st, member, &scopes, &err)) != COR_OK) {
        return cli_error("cannot read %s's digests: %s", member, err);
    }
    if (scopes->len == 0)
        return cli_error("%s gets no digests (no group in digest mode)", member);
    int64_t now = cor_digest_now();
    guint shown = 0;
    for (guint i = 0; i < scopes->len; i++) {
        const char *scope = scopes->pdata[i];
        g_autoptr(cor_digest_t) d = NULL;
        g_clear_pointer(&err, g_free);
        if ((s = cor_digest_build(site, st, member, scope, now, &d, &err)) != COR_OK)
            return cli_error("%s", err);
        const char *what = strcmp(scope, "*") == 0 ? "their groups (combined)" : scope;
        if (cor_digest_empty(d)) {
            fprintf(stderr, "corridor: no digest for %s in %s: nothing new since the last one\n",
                    member, what);
            continue;
        }
        if (scopes->len > 1)
            printf("%s==> %s <==\n", shown ? "\n" : "", what);
        shown++;
        if (strcmp(format, "text") == 0) {
            g_autofree char *text = cor_digest_text(d);
            fputs(text, stdout);
        } else if (strcmp(format, "html") == 0) {
            g_autofree char *html = NULL;
            if ((s = cor_digest_html(d, &html, &err)) != COR_OK)
                return cli_error("%s", err);
            fputs(html, stdout);
        } else {
            g_autofree char *bytes = NULL;
            size_t len = 0;
            s = cor_digest_message(d, st, cor_digest_format(d), &bytes, &len, NULL, &err);
            if (s != COR_OK)
                return cli_error("cannot make the digest: %s", err);
            fwrite(bytes, 1, len, stdout);
        }
    }
    return 0;
}

/* ---- send ---- */

static bool
kick(void *ob)
{
    cor_outbound_kick(ob);
    return true;
}

static int
send(cor_cli_t *cli, const char *group, bool now_all, const char *relay, bool queue_only)
{
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autofree char *base = cor_config_base_url(cli->config, NULL);
    g_autofree char *err = NULL;
    g_autoptr(cor_digest_site_t) site = NULL;
    cor_status_t s = cor_digest_site_new(cli->config, base, &site, &err);
    if (s != COR_OK)
        return cli_error("%s", err);
    /* what is queued goes now, through the outbound worker's code on a
     * handle of its own (the daemon need not run): its thread sends each
     * batch as soon as it is committed, while the next is made */
    g_autofree char *store_path = cli_store_path(cli);
    cor_outbound_t *ob = NULL;
    if (!queue_only) {
        if ((s = cor_outbound_new(store_path, cli->config, relay, base, &ob, &err)) != COR_OK)
            return cli_error("cannot send: %s", err ? err : cor_status_to_string(s));
        cor_outbound_start(ob);
        cor_digest_site_on_commit(site, kick, ob);
    }
    cor_digest_run_stats_t rs;
    s = cor_digest_run(site, st, group, cor_digest_now(), now_all, &rs, &err);
    printf("digests: %" G_GINT64_FORMAT " queued, %" G_GINT64_FORMAT " with nothing new, %"
           G_GINT64_FORMAT " made before (%" G_GINT64_FORMAT " %s)\n", rs.queued, rs.empty,
           rs.done_before, rs.people, rs.people == 1 ? "person" : "people");
    if (s != COR_OK) {
        cor_outbound_stop(ob, 10 * 1000);
        cor_outbound_free(ob);
        return cli_error("cannot make the digests: %s", err ? err : cor_status_to_string(s));
    }
    if (queue_only)
        return 0;
    cor_store_close(g_steal_pointer(&cli->store));
    /* the rest, on this thread: no waiting for retries, but time enough
     * for a whole run to go out */
    cor_outbound_stop(ob, 120 * 1000);  /* in flight: finished and recorded, never abandoned */
    cor_outbound_stats_t os = { 0 };
    g_clear_pointer(&err, g_free);
    s = cor_outbound_flush(ob, false, (int64_t) 3600 * 1000, &os, &err);
    cor_outbound_free(ob);
    if (s != COR_OK)
        return cli_error("cannot send: %s", err ? err : cor_status_to_string(s));
    printf("sent %" G_GINT64_FORMAT ", deferred %" G_GINT64_FORMAT ", failed %" G_GINT64_FORMAT
           ", still queued %" G_GINT64_FORMAT "\n", os.sent, os.deferred, os.failed, os.queued);
    return os.queued > 0 ? 75 : 0;  /* EX_TEMPFAIL: the outbox retries them */
}

/* ---- set ---- */

static int
set(cor_cli_t *cli, const char *address, bool combined, bool separate, const char *format)
{
    if (combined && separate)
        return cli_error("digest set: --combined or --separate, not both");
    cor_digest_format_t f;
    if (format && cor_digest_format_from_string(format, &f) != COR_OK)
        return cli_error("digest set: --format is multipart, rfc1153 or mime, not '%s'", format);
    if (!cor_member_address_valid(address))
        return cli_error("invalid address '%s'", address);
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    bool c = combined;
    if (cor_store_digest_prefs_set(st, address, combined || separate ? &c : NULL, format) != COR_OK)
        return cli_error("cannot change %s's digests: %s", address, cor_store_error(st));
    bool now_combined = false;
    g_autofree char *now_format = NULL;
    if (cor_store_digest_prefs_get(st, address, &now_combined, &now_format) != COR_OK)
        return cli_error("cannot read %s's digests: %s", address, cor_store_error(st));
    g_autofree char *lower = g_ascii_strdown(address, -1);
    printf("%s: %s digests, format %s\n", lower, now_combined ? "combined" : "separate",
           now_format);
    return 0;
}

/* ---- list ---- */

static int
list(cor_cli_t *cli, const char *member, int limit, bool json)
{
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(GPtrArray) recs = NULL;
    if (cor_store_digest_list(st, member, limit > 0 ? (guint) limit : 0, &recs) != COR_OK)
        return cli_error("cannot read digests: %s", cor_store_error(st));
    for (guint i = 0; i < recs->len; i++) {
        const cor_digest_record_t *r = recs->pdata[i];
        g_autofree char *when = cli_iso_date(r->created);
        if (json) {
            g_autoptr(JsonBuilder) b = json_builder_new();
            json_builder_begin_object(b);
            const struct { const char *k; const char *v; } strs[] = {
                { "address", r->address }, { "scope", r->scope }, { "period", r->period },
                { "state", r->state }, { "message_id", r->message_id }, { "created", when },
            };
            for (size_t k = 0; k < G_N_ELEMENTS(strs); k++) {
                json_builder_set_member_name(b, strs[k].k);
                json_builder_add_string_value(b, strs[k].v);
            }
            const struct { const char *k; int64_t v; } ints[] = {
                { "from_seq", r->from_seq }, { "upto_seq", r->upto_seq }, { "posts", r->posts },
            };
            for (size_t k = 0; k < G_N_ELEMENTS(ints); k++) {
                json_builder_set_member_name(b, ints[k].k);
                json_builder_add_int_value(b, ints[k].v);
            }
            json_builder_end_object(b);
            g_autoptr(JsonNode) root = json_builder_get_root(b);
            cli_print_json(root);
        } else {
            printf("%s  %-32s %-16s %-20s %-6s %" G_GINT64_FORMAT " post%s\n", when, r->address,
                   r->scope, r->period, r->state, r->posts, r->posts == 1 ? "" : "s");
        }
    }
    return 0;
}

int
cmd_digest(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *member = NULL, *group = NULL, *format = NULL;
    gboolean combined = FALSE, separate = FALSE, json = FALSE, now_all = FALSE, queue_only = FALSE;
    g_autofree char *relay = NULL;
    gint limit = 0;
    GOptionEntry entries[] = {
        { "member", 0, 0, G_OPTION_ARG_STRING, &member, "preview, list: the member's address", "ADDRESS" },
        { "group", 0, 0, G_OPTION_ARG_STRING, &group,
          "preview: this group's digest only; send: only the digests of its members", "G" },
        { "format", 0, 0, G_OPTION_ARG_STRING, &format,
          "preview: text, html or raw (the whole message); set: multipart, rfc1153 or mime", "F" },
        { "combined", 0, 0, G_OPTION_ARG_NONE, &combined,
          "set: one digest for all the member's digest groups", NULL },
        { "separate", 0, 0, G_OPTION_ARG_NONE, &separate, "set: one digest per group", NULL },
        { "now", 0, 0, G_OPTION_ARG_NONE, &now_all,
          "send: every digest now, whatever the schedule", NULL },
        { "relay", 0, 0, G_OPTION_ARG_STRING, &relay, "send: through this relay", "URL" },
        { "queue-only", 0, 0, G_OPTION_ARG_NONE, &queue_only,
          "send: only write them to the outbox (the daemon sends them)", NULL },
        { "limit", 0, 0, G_OPTION_ARG_INT, &limit, "list: at most N, newest first", "N" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "list: one JSON object per line", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("preview|send|set|list - members' digests");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "preview prints the digest the member would be sent now (nothing is changed or sent):\n"
        "  text and html are the two parts of the default format, raw the whole message in\n"
        "  the member's format.  Without --group, every digest they get.\n"
        "send makes the digests that are due (each group's digest_time and digest_day,\n"
        "  [digest] time and day for combined ones; --now: all of them, whatever the\n"
        "  schedule), writes them to the outbox with their record, exactly once, and\n"
        "  sends them through the relay; it exits 75 when some wait for a retry.\n"
        "set changes a person's digest choices: --combined (one digest for all their digest\n"
        "  groups) or --separate (one per group), and --format.\n"
        "list shows the digests made, newest first.");
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc < 2)
        return usage_error();
    const char *verb = argv[1];
    if (strcmp(verb, "preview") == 0) {
        if (argc != 2)
            return usage_error();
        return preview(cli, member, group, format ? format : "text");
    }
    if (strcmp(verb, "send") == 0) {
        if (argc != 2)
            return usage_error();
        return send(cli, group, now_all, relay, queue_only);
    }
    if (strcmp(verb, "set") == 0) {
        if (argc != 3)
            return usage_error();
        return set(cli, argv[2], combined, separate, format);
    }
    if (strcmp(verb, "list") == 0) {
        if (argc != 2)
            return usage_error();
        return list(cli, member, limit, json);
    }
    fprintf(stderr, "corridor: digest: unknown action '%s'\n", verb);
    return usage_error();
}
