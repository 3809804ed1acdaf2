/* cli/cmd_filter.c — `corridor filter explain --group NAME FILE`: each
 * filter's verdict on one message and the decision, as intake would make it
 * (the same parse, the same scan, the same chain), so an administrator can
 * see why something was refused.  Nothing is stored. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "filters/filter.h"
#include "filters/headers.h"
#include "mta-bridge/lmtp.h"

/* The domain of the group's post address: [lmtp] domains, else [postfix]
 * domain, else "localhost" (transfer none). */
static const char *
list_domain(cor_cli_t *cli)
{
    const char *const *l = cor_config_list(cli->config, "lmtp", "domains");
    if (l && l[0] && *l[0])
        return l[0];
    const char *one = cor_config_string(cli->config, "postfix", "domain");
    return one && *one ? one : "localhost";
}

static char *
envelope_from_file(const char *raw, size_t len)
{
    g_autoptr(cor_headers_t) h = cor_headers_parse(raw, len);
    const char *rp = cor_headers_get(h, "Return-Path");
    if (!rp)
        return NULL;
    const char *lt = strchr(rp, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    g_autofree char *a = lt && gt ? g_strndup(lt + 1, (size_t) (gt - lt - 1)) : g_strdup(rp);
    return g_strstrip(g_steal_pointer(&a));
}

/* The verdict as a verb, and what it means for the message. */
static void
outcome(const cor_decision_t *d, const char **verb, const char **what)
{
    switch (d->verdict) {
    case COR_VERDICT_RESTRICT:
        *verb = "accept restricted";
        *what = "stored and indexed for records officers only, kept out of the archive";
        break;
    case COR_VERDICT_HOLD:
        *verb = "hold";
        *what = "kept for a moderator (corridor held list)";
        break;
    case COR_VERDICT_DISCARD:
        *verb = "discard";
        *what = "dropped and logged, never posted or answered";
        break;
    case COR_VERDICT_ROUTE_BOUNCE:
        *verb = "route";
        *what = "to bounce processing, never posted";
        break;
    case COR_VERDICT_ROUTE_COMMAND:
        *verb = "route";
        *what = "to the command handler, never posted";
        break;
    case COR_VERDICT_ACCEPT:
    default:
        *verb = "accept";
        *what = "stored, archived and sent on";
        break;
    }
}

static int
explain(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *group = NULL, *sender = NULL, *rcpt = NULL;
    GOptionEntry entries[] = {
        { "group", 'g', 0, G_OPTION_ARG_STRING, &group, "The group it is sent to", "NAME" },
        { "sender", 0, 0, G_OPTION_ARG_STRING, &sender,
          "Envelope sender (default: the Return-Path, else the From address; \"\" for <>)", "ADDR" },
        { "rcpt", 0, 0, G_OPTION_ARG_STRING, &rcpt,
          "The post address (default: NAME@ the first list domain)", "ADDR" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("--group NAME FILE - why a message would be accepted or refused");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2 || !group)
        return cli_error("usage: corridor filter explain --group NAME FILE");
    g_autofree char *raw = NULL;
    gsize len = 0;
    g_autoptr(GError) gerr = NULL;
    if (!g_file_get_contents(argv[1], &raw, &len, &gerr))
        return cli_error("cannot read '%s': %s", argv[1], gerr->message);
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(cor_group_t) g = NULL;
    if (cor_store_group_get(st, group, &g) != COR_OK)
        return cli_error("%s", cor_store_error(st));

    g_autoptr(cor_message_t) msg = NULL;
    g_autofree char *err = NULL;
    if (cor_message_parse_ex(raw, len, 0, COR_PARSE_SUMMARY | COR_PARSE_EDGES, &msg, &err) != COR_OK) {
        g_autofree char *reply = cor_lmtp_reply_text(COR_ERR_PARSE, err);
        printf("decision    reject: %s\n", reply);
        return 0;
    }
    if (!sender) {
        sender = envelope_from_file(raw, len);
        if (!sender)
            sender = g_strdup(msg->from_addr);
    }
    if (!rcpt)
        rcpt = g_strdup_printf("%s@%s", g->name, list_domain(cli));

    g_autoptr(cor_filter_site_t) site = NULL;
    if (cor_filter_site_new(cli->config, &site, &err) != COR_OK)
        return cli_error("%s", err);
    g_autoptr(cor_filter_policy_t) policy = NULL;
    if (cor_filter_policy_load(st, site, g, &policy, &err) != COR_OK)
        return cli_error("%s", err);
    g_autoptr(cor_filter_facts_t) facts = cor_filter_scan(msg, raw, len, sender);
    cor_decision_t d;
    if (cor_filter_decide(st, policy, facts, rcpt, true, &d) != COR_OK)
        return cli_error("%s", cor_store_error(st));

    printf("message     <%s>\nfrom        %s\nenvelope    <%s> to <%s>\nsubject     %s\n"
           "group       %s (%s)\n\n", msg->message_id, msg->from, sender, rcpt, msg->subject,
           g->name, cor_visibility_to_string(g->visibility));
    bool reached = true;
    for (guint i = 0; i < d.trace->len; i++) {
        const cor_filter_step_t *s = &g_array_index(d.trace, cor_filter_step_t, i);
        if (reached)
            printf("  %-12s %-11s %s\n", s->filter, cor_verdict_kind_to_string(s->verdict), s->why);
        else
            printf("  %-12s %-11s (would say %s: %s)\n", s->filter, "not reached",
                   cor_verdict_kind_to_string(s->verdict), s->why);
        if (d.filter && strcmp(s->filter, d.filter) == 0 && d.verdict != COR_VERDICT_RESTRICT)
            reached = false;
    }
    if (d.verdict == COR_VERDICT_REJECT) {
        g_autofree char *reply = cor_lmtp_reply_text(d.status, d.reason);
        printf("\ndecision    reject by %s: %s\n", d.filter, reply);
    } else {
        const char *verb, *what;
        outcome(&d, &verb, &what);
        if (d.filter)
            printf("\ndecision    %s by %s: %s\n", verb, d.filter, what);
        else
            printf("\ndecision    %s: %s\n", verb, what);
    }
    cor_decision_clear(&d);
    return 0;
}

int
cmd_filter(cor_cli_t *cli, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "explain") == 0)
        return explain(cli, argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: corridor filter explain --group NAME [--sender ADDR] [--rcpt ADDR] FILE\n");
        return 0;
    }
    return cli_error("usage: corridor filter explain --group NAME FILE (see 'corridor filter --help')");
}
