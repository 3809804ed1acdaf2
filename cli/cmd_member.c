/* cli/cmd_member.c — `corridor member add|remove|set|list`: a group's
 * members, their delivery mode and role.  Nothing here sends mail, except
 * the welcome message `add --welcome` queues in the outbox (in the same
 * transaction as the membership). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/listconf.h"
#include "core/mailgen.h"

/* "Name <address>" with the name quoted, or the address alone
 * (transfer full). */
static char *
mailbox_text(const char *name, const char *address)
{
    if (!name || !*name)
        return g_strdup(address);
    GString *s = g_string_new("\"");
    for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_c(s, '\\');
        if ((unsigned char) *p >= ' ')
            g_string_append_c(s, *p);
    }
    g_string_append_printf(s, "\" <%s>", address);
    return g_string_free(s, FALSE);
}

/* Queues the welcome message for `address` (a member of `g` now), inside
 * the caller's transaction. */
static cor_status_t
queue_welcome(cor_cli_t *cli, cor_store_t *st, const cor_group_t *g, const char *address)
{
    g_autoptr(cor_member_detail_t) m = NULL;
    cor_status_t s = cor_store_member_get(st, g->id, address, &m);
    if (s != COR_OK)
        return s;
    const char *domain = cor_config_list_domain(cli->config);
    g_autofree char *base = cor_config_base_url(cli->config, NULL);
    g_autofree char *post = g_strdup_printf("%s@%s", g->name, domain);
    g_autofree char *request = g_strdup_printf("%s-request@%s", g->name, domain);
    g_autofree char *leave = g_strdup_printf("%s-leave@%s", g->name, domain);
    g_autofree char *bounces = g_strdup_printf("%s-bounces@%s", g->name, domain);
    g_autofree char *unsub = g_strdup_printf("%su/%s", base, m->token);
    g_autoptr(cor_list_policy_t) lp = NULL;
    g_autofree char *err = NULL;
    if ((s = cor_list_policy_load(st, cli->config, g->id, &lp, &err)) != COR_OK)
        return s;
    bool daily = strcmp(lp->digest_day, "daily") == 0;
    g_autofree char *digest = daily
        ? g_strdup_printf("one message a day at %s with the day's posts", lp->digest_time)
        : g_strdup_printf("one message a week, on %s at %s, with the week's posts",
                          lp->digest_day, lp->digest_time);
    g_autofree char *mode_text =
        strcmp(m->m.mode, "each") == 0 ? g_strdup("a copy of every message, as it is posted")
        : strcmp(m->m.mode, "digest") == 0 ? g_strdup_printf("a digest: %s", digest)
        : g_strdup("nothing by mail: you read the group in its archive");

    GString *t = g_string_new(NULL);
    g_string_append_printf(t, "Welcome to %s (%s).\n\n", g->title, post);
    if (*g->description)
        g_string_append_printf(t, "%s\n\n", g->description);
    g_string_append_printf(t,
        "Posting\n"
        "To write to everyone in the group, send your message to %s.\n"
        "%s\n"
        "Everything posted is kept in the group's archive: %sg/%s/\n\n", post,
        lp->reply_to_author ? "A reply goes to the author of the message; to answer everyone, "
                              "reply to all."
                            : "A reply to one of the group's messages goes to the whole group.",
        base, g->name);
    g_string_append_printf(t,
        "How you get the group's mail\n"
        "You get %s.\n"
        "There are three ways to follow the group:\n"
        "  each    a copy of every message\n"
        "  digest  %s\n"
        "  none    no mail: read the archive when you like\n"
        "To change, write to %s\n"
        "with the subject \"mode digest\", \"mode each\" or \"mode none\".\n"
        "The subject \"help\" tells you more.\n\n",
        mode_text, digest, request);
    g_string_append_printf(t,
        "Leaving\n"
        "To leave the group, write to %s\n"
        "or open this page and press the button:\n"
        "%s\n", leave, unsub);
    g_autofree char *text = g_string_free(t, FALSE);
    g_autofree char *subject = g_strdup_printf("Welcome to %s", g->title);
    g_autofree char *to = mailbox_text(m->m.name, m->m.address);
    g_autofree char *h_unsub = g_strdup_printf("List-Unsubscribe: <%s>, <mailto:%s>", unsub, leave);
    g_autofree char *h_post = g_strdup_printf("List-Post: <mailto:%s>", post);
    g_autofree char *h_help = g_strdup_printf("List-Help: <mailto:%s?subject=help>", request);
    const char *extra[] = { h_unsub, "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
                            h_post, h_help, NULL };
    cor_mailgen_t mg = {
        .kind = "welcome",
        .domain = domain,
        .group = g->name,
        .from_name = g->title,
        .from_addr = request,
        .to = to,
        .subject = subject,
        .text = text,
        .extra = extra,
    };
    size_t len = 0;
    g_autofree char *bytes = cor_mailgen_build(&mg, &len, NULL);
    const char *rcpts[] = { m->m.address, NULL };
    return cor_store_outbox_add(st, "welcome", g->id, domain, bounces, bytes, len, rcpts, NULL);
}


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
        "[--role member|owner|moderator] [--welcome]\n"
        "       corridor member set GROUP ADDRESS [--name N] [--mode M] [--role R] [--enable]"
        " [--own-copies yes|no]\n"
        "       corridor member remove GROUP ADDRESS [--opt-out]\n"
        "       corridor member list GROUP [--json]";
    g_autofree char *name = NULL, *mode = NULL, *role = NULL, *own = NULL;
    gboolean json = FALSE, welcome = FALSE, opt_out = FALSE, enable = FALSE;
    GOptionEntry entries[] = {
        { "name", 0, 0, G_OPTION_ARG_STRING, &name, "Display name", "N" },
        { "mode", 0, 0, G_OPTION_ARG_STRING, &mode, "Delivery: each, digest or none", "M" },
        { "role", 0, 0, G_OPTION_ARG_STRING, &role, "member, owner or moderator", "R" },
        { "welcome", 0, 0, G_OPTION_ARG_NONE, &welcome,
          "add: send the welcome message (how to post, change mode, leave)", NULL },
        { "opt-out", 0, 0, G_OPTION_ARG_NONE, &opt_out,
          "remove: they asked to leave: record an opt-out, so a directory sync "
          "never adds them back", NULL },
        { "enable", 0, 0, G_OPTION_ARG_NONE, &enable,
          "set: send to the member again (delivery disabled after bounces): clears the "
          "bounce score", NULL },
        { "own-copies", 0, 0, G_OPTION_ARG_STRING, &own,
          "set: yes to get a copy of one's own posts (the default is no)", "yes|no" },
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
    bool list = strcmp(verb, "list") == 0, add = strcmp(verb, "add") == 0;
    bool set = strcmp(verb, "set") == 0, remove = strcmp(verb, "remove") == 0;
    if (!(list || add || set || remove) || argc != (list ? 3 : 4))
        return cli_error("%s", usage);
    if (welcome && !add)
        return cli_error("--welcome goes with 'member add'");
    if (opt_out && !remove)
        return cli_error("--opt-out goes with 'member remove'");
    if (enable && !set)
        return cli_error("--enable goes with 'member set'");
    if (own && !set)
        return cli_error("--own-copies goes with 'member set'");
    if (own && strcmp(own, "yes") != 0 && strcmp(own, "no") != 0)
        return cli_error("--own-copies: '%s' is not yes or no", own);
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
    g_autofree char *addr = g_ascii_strdown(argv[3], -1);
    /* a staff-only group's posts go to staff only: its digests and joins by
     * mail already keep outside addresses out (they read as guests) */
    const char *const *staff = cor_config_list(cli->config, "filters", "staff_domains");
    if (add && g->visibility == COR_VISIBILITY_STAFF && staff && staff[0] && *staff[0] &&
        !cor_address_in_domains(addr, staff)) {
        g_autofree char *domains = g_strjoinv(", ", (char **) staff);
        return cli_error("cannot add %s to %s: %s is open to staff only and %s is not a staff "
                         "address ([filters] staff_domains: %s); a private group can take "
                         "people from outside", addr, g->name, g->name, addr, domains);
    }
    bool had_opted_out = false, was_member = true;
    cor_status_t s = cor_store_begin(st);
    if (s == COR_OK && add) {
        s = cor_store_optout_check(st, g->id, addr);
        had_opted_out = s == COR_OK;
        if (s == COR_OK || s == COR_ERR_NOT_FOUND)
            s = cor_store_member_join(st, g->id, addr, name, "cli", NULL);
        if (s == COR_OK && (mode || role))
            s = cor_store_member_set(st, g->id, addr, NULL, mode, role);
        if (s == COR_OK && welcome)
            s = queue_welcome(cli, st, g, addr);
    } else if (s == COR_OK && set) {
        s = cor_store_member_set(st, g->id, addr, name, mode, role);
        if (s == COR_OK && enable)
            s = cor_store_member_set_status(st, g->id, addr, true, "");
        if (s == COR_OK && own)
            s = cor_store_member_set_self_copy(st, g->id, addr, strcmp(own, "yes") == 0);
    } else if (s == COR_OK && opt_out) {
        s = cor_store_member_leave(st, g->id, addr, "cli");
        if (s == COR_ERR_NOT_FOUND) {       /* the opt-out is recorded all the same */
            was_member = false;
            s = COR_OK;
        }
    } else if (s == COR_OK) {
        s = cor_store_member_remove(st, g->id, addr);
    }
    if (s == COR_OK)
        s = cor_store_commit(st);
    if (s != COR_OK) {
        int rc = cli_error("cannot %s %s %s %s: %s", verb, addr,
                           add ? "to" : set ? "in" : "from", g->name, cor_store_error(st));
        cor_store_rollback(st);
        return rc;
    }
    if (add) {
        printf("added %s to %s%s\n", addr, g->name, welcome ? " (welcome message queued)" : "");
        if (had_opted_out) {
            fflush(stdout);
            fprintf(stderr, "corridor: %s had left %s themselves; adding them cleared that\n",
                    addr, g->name);
        }
    } else if (set) {
        printf("changed %s in %s%s\n", addr, g->name,
               enable ? " (delivery enabled, bounce score cleared)" : "");
    } else if (opt_out && !was_member) {
        printf("%s is not a member of %s; recorded the opt-out (a directory sync will not "
               "add them)\n", addr, g->name);
    } else {
        printf("removed %s from %s%s\n", addr, g->name,
               opt_out ? " (opted out: a directory sync will not add them back)" : "");
    }
    return 0;
}
