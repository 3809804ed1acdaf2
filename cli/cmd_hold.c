/* cli/cmd_hold.c — `corridor hold place|release|list` (legal holds,
 * records/hold.h) and `corridor retention plan|approve|run|list|show|
 * certificate` (retention schedules and disposal, records/retention.h).
 *
 * Both act for an operator (--operator NAME, else the login user) and every
 * change writes its audit entry in the same transaction (the library does
 * it).  A retention run deletes from the store first (one transaction, with
 * the certificate); then this file removes the messages' index documents
 * and rebuilds the archive pages of the groups they were in, as `group
 * delete` does: both are derived data, and a failure there is reported with
 * the command that repairs it. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "archive-web/archive.h"
#include "cli/cli.h"
#include "records/audit.h"
#include "records/hold.h"
#include "records/records.h"
#include "records/retention.h"

/* Records the configured records officers in the audit trail when they
 * changed (records/audit.h, design note 5).  0, or 1 after the error. */
static int
sync_officers(cor_cli_t *cli, cor_store_t *st, const char *op)
{
    g_autofree char *officers =
        g_strjoinv(",", (char **) cor_config_officers(cli->config));
    g_autofree char *err = NULL;
    cor_status_t s = cor_store_begin(st);
    if (s == COR_OK)
        s = cor_audit_sync_officers(st, op, officers, NULL, &err);
    if (s == COR_OK)
        s = cor_store_commit(st);
    if (s != COR_OK) {
        cor_store_rollback(st);
        return cli_error("cannot record the records officers in the audit trail: %s",
                         err ? err : cor_store_error(st));
    }
    return 0;
}

/* The store, with the officers synced, for a command that changes
 * something; NULL after the error. */
static cor_store_t *
records_store(cor_cli_t *cli, const char *op)
{
    cor_store_t *st = cli_store(cli, false);
    if (!st || sync_officers(cli, st, op) != 0)
        return NULL;
    return st;
}

/* A positive id from an argument; 0 when it is not one. */
static int64_t
parse_id(const char *arg)
{
    char *end;
    gint64 n = g_ascii_strtoll(arg, &end, 10);
    return *arg && *end == '\0' && n > 0 ? n : 0;
}

/* ==== hold ==== */

/* What `hold place` holds: one of --case, --query, --group, --message,
 * given once. */
typedef struct hold_target {
    const char *kind;          /* static */
    char *target;
    int given;
} hold_target_t;

static gboolean
target_option(const gchar *name, const gchar *value, gpointer data, GError **error)
{
    hold_target_t *t = data;
    t->given++;
    t->kind = strcmp(name, "--case") == 0 ? "case" : strcmp(name, "--query") == 0 ? "query"
            : strcmp(name, "--group") == 0 ? "group" : "message";
    g_free(t->target);
    t->target = g_strdup(value);
    return TRUE;
}

static int
hold_place(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *reason = NULL, *operator_opt = NULL;
    hold_target_t t = { NULL, NULL, 0 };
    g_autofree char *target_owned = NULL;
    GOptionEntry entries[] = {
        { "case", 0, 0, G_OPTION_ARG_CALLBACK, (void *) target_option, "Hold a case's messages (also ones added later)", "REF" },
        { "query", 0, 0, G_OPTION_ARG_CALLBACK, (void *) target_option, "Hold what the query matches now, in every group", "QUERY" },
        { "group", 0, 0, G_OPTION_ARG_CALLBACK, (void *) target_option, "Hold a group's posts (also later ones)", "NAME" },
        { "message", 0, 0, G_OPTION_ARG_CALLBACK, (void *) target_option, "Hold a message", "MESSAGE-ID" },
        { "reason", 0, 0, G_OPTION_ARG_STRING, &reason, "Why (required; kept with the hold)", "TEXT" },
        { "operator", 0, 0, G_OPTION_ARG_STRING, &operator_opt, "Act as this operator (default: the login user)", "NAME" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "(--case REF | --query QUERY | --group NAME | --message MESSAGE-ID) --reason TEXT - place a legal hold");
    g_option_context_set_description(ctx,
        "A held message cannot be deleted by retention, 'group delete' or anything else\n"
        "until the hold is released.  A case or group hold covers the case's or group's\n"
        "messages whenever asked (later ones too); a query hold the messages the query\n"
        "matched when it was placed (every group, private and restricted included); a\n"
        "message hold every stored copy of that Message-ID.  Audited.");
    GOptionGroup *main_group = g_option_group_new(NULL, NULL, NULL, &t, NULL);
    g_option_group_add_entries(main_group, entries);
    g_option_context_set_main_group(ctx, main_group);
    bool parsed = cli_parse(ctx, &argc, &argv);
    target_owned = t.target;
    if (!parsed)
        return 2;
    if (argc != 1 || t.given != 1)
        return cli_error("usage: corridor hold place (--case REF | --query QUERY | --group NAME | "
                         "--message MESSAGE-ID) --reason TEXT [--operator NAME]  (one target)");
    if (!reason || !*g_strstrip(reason))
        return cli_error("hold place: --reason TEXT is required");
    const char *kind = t.kind;
    if (strcmp(kind, "message") == 0) {
        char *norm = cli_message_id(target_owned);
        g_free(target_owned);
        target_owned = norm;
    }
    const char *target = target_owned;
    const char *query = strcmp(kind, "query") == 0 ? target : NULL;
    g_autofree char *op = cor_records_operator(operator_opt);
    cor_store_t *st = records_store(cli, op);
    if (!st)
        return 1;
    g_autofree char *err = NULL;
    g_autoptr(GArray) msgs = NULL;
    if (query) {
        g_autofree char *path = cli_index_path(cli);
        cor_search_db_t *db = NULL;
        cor_status_t s = cor_search_db_open(path, &db, &err);
        if (s != COR_OK)
            return cli_error("cannot open index '%s': %s", path, err ? err : cor_status_to_string(s));
        s = cor_hold_resolve_query(db, st, query, &msgs, &err);
        cor_search_db_close(db);
        if (s != COR_OK)
            return cli_error("%s: %s", s == COR_ERR_QUERY ? "bad query" : "cannot search", err);
    }
    int64_t id = 0, count = 0;
    cor_status_t s = cor_hold_place(st, op, kind, target, msgs, reason, (int64_t) time(NULL), &id,
                                    &count, &err);
    if (s != COR_OK)
        return cli_error("cannot place the hold: %s", err ? err : cor_status_to_string(s));
    printf("placed hold %" G_GINT64_FORMAT " on %s %s: %" G_GINT64_FORMAT " message%s held now%s\n",
           id, kind, target, count, count == 1 ? "" : "s",
           strcmp(kind, "case") == 0 || strcmp(kind, "group") == 0 ? " (and any added later)" : "");
    return 0;
}

static int
hold_release(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *reason = NULL, *operator_opt = NULL;
    GOptionEntry entries[] = {
        { "reason", 0, 0, G_OPTION_ARG_STRING, &reason, "Why (required; kept in the audit trail)", "TEXT" },
        { "operator", 0, 0, G_OPTION_ARG_STRING, &operator_opt, "Act as this operator (default: the login user)", "NAME" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("ID --reason TEXT - release a legal hold");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    int64_t id = argc == 2 ? parse_id(argv[1]) : 0;
    if (id == 0)
        return cli_error("usage: corridor hold release ID --reason TEXT [--operator NAME]");
    if (!reason || !*g_strstrip(reason))
        return cli_error("hold release: --reason TEXT is required");
    g_autofree char *op = cor_records_operator(operator_opt);
    cor_store_t *st = records_store(cli, op);
    if (!st)
        return 1;
    g_autofree char *err = NULL;
    cor_status_t s = cor_hold_release(st, op, id, reason, (int64_t) time(NULL), &err);
    if (s != COR_OK)
        return cli_error("cannot release hold %" G_GINT64_FORMAT ": %s", id,
                         err ? err : cor_status_to_string(s));
    printf("released hold %" G_GINT64_FORMAT "\n", id);
    return 0;
}

static int
hold_list(cor_cli_t *cli, int argc, char **argv)
{
    gboolean all = FALSE, json = FALSE;
    GOptionEntry entries[] = {
        { "all", 0, 0, G_OPTION_ARG_NONE, &all, "Released holds too", NULL },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object per line", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("[--all] [--json] - the legal holds");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 1)
        return cli_error("usage: corridor hold list [--all] [--json]");
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(GPtrArray) list = NULL;
    g_autofree char *err = NULL;
    if (cor_hold_list(st, all, &list, &err) != COR_OK)
        return cli_error("cannot list holds: %s", err);
    int64_t live = 0;
    for (guint i = 0; i < list->len; i++) {
        cor_hold_t *h = list->pdata[i];
        g_autofree char *placed = cli_iso_date(h->placed);
        g_autofree char *released = h->released ? cli_iso_date(h->released) : g_strdup("");
        live += h->released == 0;
        if (json) {
            g_autoptr(JsonBuilder) b = json_builder_new();
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "id");
            json_builder_add_int_value(b, h->id);
            json_builder_set_member_name(b, "kind");
            json_builder_add_string_value(b, h->kind);
            json_builder_set_member_name(b, "target");
            json_builder_add_string_value(b, h->target);
            json_builder_set_member_name(b, "reason");
            json_builder_add_string_value(b, h->reason);
            json_builder_set_member_name(b, "messages");
            json_builder_add_int_value(b, h->messages);
            json_builder_set_member_name(b, "placed");
            json_builder_add_string_value(b, placed);
            json_builder_set_member_name(b, "placed_by");
            json_builder_add_string_value(b, h->placed_by);
            json_builder_set_member_name(b, "live");
            json_builder_add_boolean_value(b, h->released == 0);
            json_builder_set_member_name(b, "released");
            json_builder_add_string_value(b, released);
            json_builder_set_member_name(b, "released_by");
            json_builder_add_string_value(b, h->released_by);
            json_builder_end_object(b);
            g_autoptr(JsonNode) root = json_builder_get_root(b);
            cli_print_json(root);
        } else {
            printf("hold %-4" G_GINT64_FORMAT " %-7s %-30s %6" G_GINT64_FORMAT " message%s  placed %s by %s",
                   h->id, h->kind, h->target, h->messages, h->messages == 1 ? " " : "s", placed,
                   h->placed_by);
            if (h->released)
                printf(", released %s by %s", released, h->released_by);
            printf("\n          reason: %s\n", h->reason);
        }
    }
    if (!json)
        printf("%" G_GINT64_FORMAT " live hold%s\n", live, live == 1 ? "" : "s");
    return 0;
}

int
cmd_hold(cor_cli_t *cli, int argc, char **argv)
{
    static const struct {
        const char *verb;
        int (*fn)(cor_cli_t *, int, char **);
    } verbs[] = {
        { "place", hold_place }, { "release", hold_release }, { "list", hold_list },
    };
    for (size_t i = 0; argc >= 2 && i < G_N_ELEMENTS(verbs); i++)
        if (strcmp(argv[1], verbs[i].verb) == 0)
            return verbs[i].fn(cli, argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: corridor hold place (--case REF | --query QUERY | --group NAME |\n"
               "                            --message MESSAGE-ID) --reason TEXT [--operator NAME]\n"
               "       corridor hold release ID --reason TEXT [--operator NAME]\n"
               "       corridor hold list [--all] [--json]\n");
        return 0;
    }
    return cli_error("usage: corridor hold place|release|list ... (see 'corridor hold --help')");
}

/* ==== retention ==== */

/* The schedules, with a warning for a [retention] key naming no group. */
static cor_retention_policy_t *
policy(cor_cli_t *cli, cor_store_t *st)
{
    cor_retention_policy_t *pol = NULL;
    g_autofree char *err = NULL;
    if (cor_retention_policy_new(cli->config, &pol, &err) != COR_OK) {
        cli_error("%s", err);
        return NULL;
    }
    for (const char *const *g = cor_retention_policy_groups(pol); *g; g++) {
        g_autoptr(cor_group_t) grp = NULL;
        if (cor_store_group_get(st, *g, &grp) != COR_OK)
            fprintf(stderr, "corridor: warning: [retention] %s: there is no group '%s'\n", *g, *g);
    }
    return pol;
}

static void
item_json(JsonBuilder *b, const cor_retention_item_t *it)
{
    g_autofree char *date = cli_iso_date(it->date);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, it->msg);
    json_builder_set_member_name(b, "message_id");
    json_builder_add_string_value(b, it->message_id);
    json_builder_set_member_name(b, "date");
    json_builder_add_string_value(b, date);
    json_builder_set_member_name(b, "group");
    json_builder_add_string_value(b, it->groups);
    json_builder_set_member_name(b, "schedule");
    json_builder_add_string_value(b, it->schedule);
    json_builder_set_member_name(b, "sha256");
    json_builder_add_string_value(b, it->sha256);
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, it->state);
    if (it->note && *it->note) {
        json_builder_set_member_name(b, "note");
        json_builder_add_string_value(b, it->note);
    }
    json_builder_end_object(b);
}

/* "2005-03-01" (transfer full); "-" for 0. */
static char *
day(int64_t t)
{
    if (t == 0)
        return g_strdup("-");
    g_autofree char *d = cli_iso_date(t);
    return g_strndup(d, 10);
}

static int
retention_plan(cor_cli_t *cli, int argc, char **argv)
{
    gboolean json = FALSE, dry = FALSE, verbose = FALSE;
    g_autofree char *operator_opt = NULL;
    GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "The plan as one JSON object", NULL },
        { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry, "Show what is due; record nothing", NULL },
        { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "One line per message", NULL },
        { "operator", 0, 0, G_OPTION_ARG_STRING, &operator_opt, "Act as this operator (default: the login user)", "NAME" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- list what is due for disposal and record a plan");
    g_option_context_set_description(ctx,
        "Per group: its [retention] schedule, the messages due, how many of them are\n"
        "held (a legal hold or a records case keeps them), how many are due here but\n"
        "kept by another group's schedule, and the oldest and newest.  Age counts from\n"
        "the message's date (its receipt when the date is missing or in the future).\n"
        "A message in several groups is due only when it is due in all of them.\n"
        "The plan is recorded for 'corridor retention approve' (another operator).");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 1)
        return cli_error("usage: corridor retention plan [--json] [--dry-run] [--verbose] [--operator NAME]");
    g_autofree char *op = cor_records_operator(operator_opt);
    cor_store_t *st = dry ? cli_store(cli, false) : records_store(cli, op);
    if (!st)
        return 1;
    g_autoptr(cor_retention_policy_t) pol = policy(cli, st);
    if (!pol)
        return 1;
    g_autoptr(cor_retention_plan_t) plan = NULL;
    g_autofree char *err = NULL;
    cor_status_t s = cor_retention_plan_make(st, pol, op, (int64_t) time(NULL), !dry, &plan, &err);
    if (s != COR_OK)
        return cli_error("cannot make a retention plan: %s", err ? err : cor_status_to_string(s));
    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "plan");
        json_builder_add_int_value(b, plan->id);
        json_builder_set_member_name(b, "planned_by");
        json_builder_add_string_value(b, plan->planned_by);
        json_builder_set_member_name(b, "due");
        json_builder_add_int_value(b, plan->n_planned);
        json_builder_set_member_name(b, "held");
        json_builder_add_int_value(b, plan->n_held);
        json_builder_set_member_name(b, "groups");
        json_builder_begin_array(b);
        for (guint i = 0; i < plan->groups->len; i++) {
            cor_retention_group_t *g = plan->groups->pdata[i];
            g_autofree char *oldest = g->oldest ? cli_iso_date(g->oldest) : g_strdup("");
            g_autofree char *newest = g->newest ? cli_iso_date(g->newest) : g_strdup("");
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "group");
            json_builder_add_string_value(b, g->group);
            json_builder_set_member_name(b, "schedule");
            json_builder_add_string_value(b, g->schedule);
            json_builder_set_member_name(b, "due");
            json_builder_add_int_value(b, g->due);
            json_builder_set_member_name(b, "held");
            json_builder_add_int_value(b, g->held);
            json_builder_set_member_name(b, "waiting");
            json_builder_add_int_value(b, g->waiting);
            json_builder_set_member_name(b, "oldest");
            json_builder_add_string_value(b, oldest);
            json_builder_set_member_name(b, "newest");
            json_builder_add_string_value(b, newest);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "items");
        json_builder_begin_array(b);
        for (guint i = 0; i < plan->items->len; i++)
            item_json(b, plan->items->pdata[i]);
        json_builder_end_array(b);
        json_builder_end_object(b);
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        cli_print_json(root);
        return 0;
    }
    printf("%-24s %-10s %7s %6s %8s  %-10s  %s\n", "group", "schedule", "due", "held",
           "waiting", "oldest", "newest");
    for (guint i = 0; i < plan->groups->len; i++) {
        cor_retention_group_t *g = plan->groups->pdata[i];
        g_autofree char *oldest = day(g->oldest), *newest = day(g->newest);
        printf("%-24s %-10s %7" G_GINT64_FORMAT " %6" G_GINT64_FORMAT " %8" G_GINT64_FORMAT
               "  %-10s  %s\n", g->group, g->schedule, g->due, g->held, g->waiting, oldest,
               newest);
    }
    for (guint i = 0; verbose && i < plan->items->len; i++) {
        cor_retention_item_t *it = plan->items->pdata[i];
        g_autofree char *d = day(it->date);
        printf("  %-8s %s <%s> in %s (%s)%s%s\n", it->state, d, it->message_id, it->groups,
               it->schedule, *it->note ? ": " : "", it->note);
    }
    int64_t total = plan->n_planned + plan->n_held;
    if (total == 0) {
        printf("nothing is due for disposal%s\n", dry ? "" : "; no plan recorded");
        return 0;
    }
    if (plan->n_planned == 0 && !dry) {
        printf("nothing to dispose of: the %" G_GINT64_FORMAT " message%s due %s held; no plan "
               "recorded\n", total, total == 1 ? "" : "s", total == 1 ? "is" : "are");
        return 0;
    }
    if (dry) {
        printf("%" G_GINT64_FORMAT " message%s due, %" G_GINT64_FORMAT " of them held "
               "(dry run: no plan recorded)\n", total, total == 1 ? "" : "s", plan->n_held);
        return 0;
    }
    printf("plan %" G_GINT64_FORMAT ": %" G_GINT64_FORMAT " message%s to dispose of, %"
           G_GINT64_FORMAT " held (kept); another person approves it with "
           "'corridor retention approve %" G_GINT64_FORMAT "'\n",
           plan->id, plan->n_planned, plan->n_planned == 1 ? "" : "s", plan->n_held, plan->id);
    return 0;
}

static int
retention_approve(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *operator_opt = NULL;
    gboolean single = FALSE;
    GOptionEntry entries[] = {
        { "operator", 0, 0, G_OPTION_ARG_STRING, &operator_opt, "Act as this operator (default: the login user)", "NAME" },
        { "single-officer", 0, 0, G_OPTION_ARG_NONE, &single,
          "Approve your own plan (only with [records] single_officer = true)", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("PLAN-ID - approve a disposal plan");
    g_option_context_set_description(ctx,
        "The approver must be another person than the one who made the plan: another\n"
        "login (the audit trail records each entry's login) and another --operator name.\n"
        "A council with one records officer sets [records] single_officer = true and\n"
        "approves with --single-officer; the approval and the certificate say so.  Audited.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    int64_t id = argc == 2 ? parse_id(argv[1]) : 0;
    if (id == 0)
        return cli_error("usage: corridor retention approve PLAN-ID [--operator NAME]"
                         " [--single-officer]");
    if (single && !cor_config_bool(cli->config, "records", "single_officer"))
        return cli_error("--single-officer needs [records] single_officer = true in the"
                         " configuration (docs/config.md)");
    g_autofree char *op = cor_records_operator(operator_opt);
    cor_store_t *st = records_store(cli, op);
    if (!st)
        return 1;
    g_autofree char *err = NULL;
    cor_status_t s = cor_retention_approve(st, op, id, (int64_t) time(NULL), single, &err);
    if (s != COR_OK)
        return cli_error("cannot approve plan %" G_GINT64_FORMAT ": %s", id,
                         err ? err : cor_status_to_string(s));
    printf("approved plan %" G_GINT64_FORMAT " (run it with 'corridor retention run %"
           G_GINT64_FORMAT "')\n", id, id);
    return 0;
}

/* Writes the certificate to `path` ("-": stdout).  0, or 1 after the error. */
static int
write_certificate(const char *path, const char *text)
{
    if (strcmp(path, "-") == 0) {
        fputs(text, stdout);
        return 0;
    }
    g_autoptr(GError) gerr = NULL;
    if (!g_file_set_contents_full(path, text, -1,
                                  G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                  0644, &gerr))
        return cli_error("cannot write the certificate: %s", gerr->message);
    return 0;
}

/* The disposed messages out of the index.  0, or 1 after the error. */
static int
run_index(cor_cli_t *cli, GArray *disposed)
{
    if (disposed->len == 0)
        return 0;
    cor_search_writer_t *w = cli_index_writer(cli);
    if (!w)
        return cli_error("the index still has the disposed messages (searches skip them); "
                         "'corridor reindex' removes them");
    cor_status_t s = COR_OK;
    for (guint i = 0; s == COR_OK && i < disposed->len; i++)
        s = cor_search_writer_delete(w, (uint64_t) g_array_index(disposed, int64_t, i));
    if (s == COR_OK)
        s = cor_search_writer_commit(w);
    int rc = 0;
    if (s != COR_OK)
        rc = cli_error("cannot remove the disposed messages from the index (searches skip "
                       "them; 'corridor reindex' removes them): %s", cor_search_writer_error(w));
    cor_search_writer_close(w);
    if (rc == 0)
        printf("index: removed %u document%s\n", disposed->len, disposed->len == 1 ? "" : "s");
    return rc;
}

/* The pages of the groups that lost messages, made again from the store: a
 * build over the live tree writes what changed and deletes the disposed
 * messages' pages.  0, or 1 after the error. */
static int
run_archive(cor_cli_t *cli, cor_store_t *st, GPtrArray *groups)
{
    if (groups->len == 0)
        return 0;
    cor_archive_options_t o = { .state_dir = cli->state_dir, .config = cli->config };
    g_autoptr(cor_archive_t) a = NULL;
    g_autofree char *err = NULL;
    cor_status_t s = cor_archive_open(&o, &a, &err);
    if (s != COR_OK)
        return cli_error("cannot load the archive templates (run 'corridor archive build'): %s",
                         err ? err : cor_status_to_string(s));
    if (!g_file_test(cor_archive_public_dir(a), G_FILE_TEST_IS_DIR))
        return 0;   /* no archive built here yet */
    int rc = 0;
    for (guint i = 0; i < groups->len; i++) {
        const char *g = groups->pdata[i];
        cor_archive_stats_t stats;
        g_clear_pointer(&err, g_free);
        s = cor_archive_build(a, st, g, &stats, &err);
        if (s != COR_OK)
            rc = cli_error("archive build of %s failed (run 'corridor archive build --group %s'): %s",
                           g, g, err ? err : cor_status_to_string(s));
        else
            printf("archive: rebuilt g/%s\n", g);
    }
    return rc;
}

static int
retention_run(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *operator_opt = NULL, *out = NULL;
    GOptionEntry entries[] = {
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Write the disposal certificate here ('-': standard output)", "FILE" },
        { "operator", 0, 0, G_OPTION_ARG_STRING, &operator_opt, "Act as this operator (default: the login user)", "NAME" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("PLAN-ID [--out FILE] - dispose of an approved plan's messages");
    g_option_context_set_description(ctx,
        "Deletes the plan's messages from the store (originals, attachments; thread\n"
        "places become ghosts so replies stay threaded), the search index and the\n"
        "archive.  Messages held now (legal hold, records case) are kept and listed.\n"
        "The disposal certificate (metadata only) is stored with the plan and written\n"
        "with --out; 'corridor retention certificate PLAN-ID' prints it again.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    int64_t id = argc == 2 ? parse_id(argv[1]) : 0;
    if (id == 0)
        return cli_error("usage: corridor retention run PLAN-ID [--out FILE] [--operator NAME]");
    g_autofree char *op = cor_records_operator(operator_opt);
    cor_store_t *st = records_store(cli, op);
    if (!st)
        return 1;
    g_autoptr(cor_retention_policy_t) pol = policy(cli, st);
    if (!pol)
        return 1;
    g_autoptr(cor_retention_plan_t) plan = NULL;
    g_autoptr(GArray) disposed = NULL;
    g_autoptr(GPtrArray) groups = NULL;
    g_autofree char *err = NULL;
    cor_status_t s = cor_retention_run(st, pol, op, id, (int64_t) time(NULL), &plan, &disposed,
                                       &groups, &err);
    if (s != COR_OK)
        return cli_error("cannot run plan %" G_GINT64_FORMAT ": %s", id,
                         err ? err : cor_status_to_string(s));
    printf("plan %" G_GINT64_FORMAT ": disposed of %" G_GINT64_FORMAT " message%s; kept %"
           G_GINT64_FORMAT " held, %" G_GINT64_FORMAT " not disposed of (see the certificate)\n",
           id, plan->n_disposed, plan->n_disposed == 1 ? "" : "s", plan->n_held, plan->n_planned);
    for (guint i = 0; i < plan->items->len; i++) {
        cor_retention_item_t *it = plan->items->pdata[i];
        if (strcmp(it->state, "disposed") == 0)
            continue;
        bool held_now = strcmp(it->state, "held") == 0 && !g_str_has_prefix(it->note, "held when");
        printf("  kept <%s> (%s): %s%s\n", it->message_id, it->groups,
               held_now ? "held now, " : "", it->note);
    }
    fflush(stdout);
    /* the index and archive files this writes must stay writable by the
     * daemon and the other officers (the group: docs/records.md) */
    umask(umask(0) & ~(mode_t) S_IRWXG);
    int rc = 0;
    if (out && write_certificate(out, plan->certificate) != 0)
        rc = 1;
    else if (out && strcmp(out, "-") != 0)
        printf("certificate: %s\n", out);
    if (run_index(cli, disposed) != 0)
        rc = 1;
    if (run_archive(cli, st, groups) != 0)
        rc = 1;
    return rc;
}

static int
retention_list(cor_cli_t *cli, int argc, char **argv)
{
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object per line", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("[--json] - the disposal plans, newest first");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 1)
        return cli_error("usage: corridor retention list [--json]");
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(GPtrArray) list = NULL;
    g_autofree char *err = NULL;
    if (cor_retention_plan_list(st, &list, &err) != COR_OK)
        return cli_error("cannot list plans: %s", err);
    for (guint i = 0; i < list->len; i++) {
        cor_retention_plan_t *p = list->pdata[i];
        g_autofree char *planned = cli_iso_date(p->planned);
        g_autofree char *approved = p->approved ? cli_iso_date(p->approved) : g_strdup("");
        g_autofree char *done = p->done ? cli_iso_date(p->done) : g_strdup("");
        if (json) {
            g_autoptr(JsonBuilder) b = json_builder_new();
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "plan");
            json_builder_add_int_value(b, p->id);
            json_builder_set_member_name(b, "state");
            json_builder_add_string_value(b, p->state);
            json_builder_set_member_name(b, "planned");
            json_builder_add_string_value(b, planned);
            json_builder_set_member_name(b, "planned_by");
            json_builder_add_string_value(b, p->planned_by);
            json_builder_set_member_name(b, "approved");
            json_builder_add_string_value(b, approved);
            json_builder_set_member_name(b, "approved_by");
            json_builder_add_string_value(b, p->approved_by);
            json_builder_set_member_name(b, "done");
            json_builder_add_string_value(b, done);
            json_builder_set_member_name(b, "planned_items");
            json_builder_add_int_value(b, p->n_planned);
            json_builder_set_member_name(b, "held");
            json_builder_add_int_value(b, p->n_held);
            json_builder_set_member_name(b, "disposed");
            json_builder_add_int_value(b, p->n_disposed);
            json_builder_end_object(b);
            g_autoptr(JsonNode) root = json_builder_get_root(b);
            cli_print_json(root);
        } else {
            printf("plan %-4" G_GINT64_FORMAT " %-8s planned %s by %s", p->id, p->state, planned,
                   p->planned_by);
            if (p->approved)
                printf(", approved %s by %s", approved, p->approved_by);
            if (p->done)
                printf(", run %s", done);
            printf("\n          %" G_GINT64_FORMAT " planned, %" G_GINT64_FORMAT " held, %"
                   G_GINT64_FORMAT " disposed\n", p->n_planned, p->n_held, p->n_disposed);
        }
    }
    if (!json)
        printf("%u plan%s\n", list->len, list->len == 1 ? "" : "s");
    return 0;
}

static int
retention_show(cor_cli_t *cli, int argc, char **argv, bool cert)
{
    gboolean json = FALSE;
    g_autofree char *out = NULL;
    GOptionEntry show_entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "The plan as one JSON object", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    GOptionEntry cert_entries[] = {
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Write it here rather than to standard output", "FILE" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        cert ? "PLAN-ID [--out FILE] - a run plan's disposal certificate"
             : "PLAN-ID [--json] - a plan and its messages");
    g_option_context_add_main_entries(ctx, cert ? cert_entries : show_entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    int64_t id = argc == 2 ? parse_id(argv[1]) : 0;
    if (id == 0)
        return cli_error(cert ? "usage: corridor retention certificate PLAN-ID [--out FILE]"
                              : "usage: corridor retention show PLAN-ID [--json]");
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(cor_retention_plan_t) p = NULL;
    g_autofree char *err = NULL;
    if (cor_retention_plan_get(st, id, &p, &err) != COR_OK)
        return cli_error("%s", err);
    if (cert) {
        if (!*p->certificate)
            return cli_error("plan %" G_GINT64_FORMAT " has not run: no certificate yet", id);
        return write_certificate(out ? out : "-", p->certificate);
    }
    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "plan");
        json_builder_add_int_value(b, p->id);
        json_builder_set_member_name(b, "state");
        json_builder_add_string_value(b, p->state);
        json_builder_set_member_name(b, "planned_by");
        json_builder_add_string_value(b, p->planned_by);
        json_builder_set_member_name(b, "approved_by");
        json_builder_add_string_value(b, p->approved_by);
        json_builder_set_member_name(b, "items");
        json_builder_begin_array(b);
        for (guint i = 0; i < p->items->len; i++)
            item_json(b, p->items->pdata[i]);
        json_builder_end_array(b);
        json_builder_end_object(b);
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        cli_print_json(root);
        return 0;
    }
    printf("plan %" G_GINT64_FORMAT ": %s, planned by %s%s%s\n", p->id, p->state, p->planned_by,
           *p->approved_by ? ", approved by " : "", p->approved_by);
    for (guint i = 0; i < p->items->len; i++) {
        cor_retention_item_t *it = p->items->pdata[i];
        g_autofree char *d = day(it->date);
        printf("  %-8s %s <%s> in %s (%s)\n", it->state, d, it->message_id, it->groups,
               it->schedule);
    }
    return 0;
}

int
cmd_retention(cor_cli_t *cli, int argc, char **argv)
{
    const char *verb = argc >= 2 ? argv[1] : "";
    if (strcmp(verb, "plan") == 0)
        return retention_plan(cli, argc - 1, argv + 1);
    if (strcmp(verb, "approve") == 0)
        return retention_approve(cli, argc - 1, argv + 1);
    if (strcmp(verb, "run") == 0)
        return retention_run(cli, argc - 1, argv + 1);
    if (strcmp(verb, "list") == 0)
        return retention_list(cli, argc - 1, argv + 1);
    if (strcmp(verb, "show") == 0)
        return retention_show(cli, argc - 1, argv + 1, false);
    if (strcmp(verb, "certificate") == 0)
        return retention_show(cli, argc - 1, argv + 1, true);
    if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
        printf("usage: corridor retention plan [--json] [--dry-run] [--verbose] [--operator NAME]\n"
               "       corridor retention approve PLAN-ID [--operator NAME]\n"
               "       corridor retention run PLAN-ID [--out FILE] [--operator NAME]\n"
               "       corridor retention list [--json]\n"
               "       corridor retention show PLAN-ID [--json]\n"
               "       corridor retention certificate PLAN-ID [--out FILE]\n"
               "Schedules: the [retention] section of the config (docs/records.md).\n");
        return 0;
    }
    return cli_error("usage: corridor retention plan|approve|run|list|show|certificate ... "
                     "(see 'corridor retention --help')");
}
