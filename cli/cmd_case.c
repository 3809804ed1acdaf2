/* cli/cmd_case.c — `corridor case open|list|show|stop-clock|resume|note|
 * close|add` (records/cases.h); `case export` and `case redact` are in
 * cli/cmd_case_export.c.  Every subcommand that reads or changes a case acts
 * for --operator NAME (else the login user) and writes its audit entry in
 * the same transaction as the change (records/audit.h). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "records/audit.h"
#include "records/calendar.h"
#include "records/cases.h"
#include "records/records.h"

typedef int (*case_fn)(cor_cli_t *cli, int argc, char **argv);

/* Begins the command's transaction (officer list checked); NULL after
 * printing the error. */
static cor_store_t *
begin(cor_cli_t *cli, const char *op)
{
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return NULL;
    g_autofree char *err = NULL;
    if (cor_records_begin(st, op, cor_config_officers(cli->config), &err)
        != COR_OK) {
        cli_error("%s", err ? err : cor_store_error(st));
        return NULL;
    }
    return st;
}

/* Commits, or rolls back after printing `err`.  Returns the exit status. */
static int
finish(cor_store_t *st, cor_status_t s, const char *err)
{
    if (s != COR_OK) {
        cor_store_rollback(st);
        return cli_error("%s", err ? err : cor_status_to_string(s));
    }
    if (cor_store_commit(st) != COR_OK) {
        cor_store_rollback(st);
        return cli_error("%s", cor_store_error(st));
    }
    return 0;
}

static GOptionContext *
context(const char *params, const char *description, GOptionEntry *entries)
{
    GOptionContext *ctx = g_option_context_new(params);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (description)
        g_option_context_set_description(ctx, description);
    return ctx;
}

#define OPERATOR_OPTION(var)                                                                  \
    { "operator", 0, 0, G_OPTION_ARG_STRING, &(var), "who is acting (default: the login user)", \
      "NAME" }

/* A date option: the given one or today. */
static bool
date_or_today(const char *opt, const char *what, cor_day_t *out)
{
    if (!opt) {
        *out = cor_cal_today();
        return true;
    }
    g_autofree char *err = NULL;
    if (cor_cal_parse(opt, out, &err) != COR_OK) {
        cli_error("%s: %s", what, err);
        return false;
    }
    return true;
}

static const char *
left_text(const cor_case_t *c, int64_t days, int64_t wdays, char buf[64])
{
    if (strcmp(c->status, "closed") == 0)
        return "closed";
    bool working = c->type != COR_REQUEST_SAR;
    int64_t n = working ? wdays : days;
    const char *unit = working ? "working day" : "day";
    if (days < 0)
        snprintf(buf, 64, "overdue %" G_GINT64_FORMAT " %s%s", -n, unit, -n == 1 ? "" : "s");
    else if (days == 0)
        snprintf(buf, 64, "due today");
    else
        snprintf(buf, 64, "%" G_GINT64_FORMAT " %s%s", n, unit, n == 1 ? "" : "s");
    if (strcmp(c->status, "stopped") == 0)
        g_strlcat(buf, " (stopped)", 64);
    return buf;
}

static void
case_json_fields(JsonBuilder *b, const cor_case_t *c, cor_day_t today)
{
    json_builder_set_member_name(b, "ref");
    json_builder_add_string_value(b, c->ref);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, cor_request_type_to_string(c->type));
    json_builder_set_member_name(b, "jurisdiction");
    json_builder_add_string_value(b, cor_jurisdiction_to_string(c->jurisdiction));
    json_builder_set_member_name(b, "received");
    json_builder_add_string_value(b, c->received);
    json_builder_set_member_name(b, "due");
    json_builder_add_string_value(b, c->due);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, c->status);
    json_builder_set_member_name(b, "stopped_on");
    if (*c->stopped_on)
        json_builder_add_string_value(b, c->stopped_on);
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "stop_kind");
    if (*c->stop_kind)
        json_builder_add_string_value(b, c->stop_kind);
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "clock_from");
    json_builder_add_string_value(b, c->clock_from);
    json_builder_set_member_name(b, "days_stopped");
    json_builder_add_int_value(b, c->days_stopped);
    json_builder_set_member_name(b, "person");
    json_builder_add_string_value(b, c->person);
    json_builder_set_member_name(b, "opened_by");
    json_builder_add_string_value(b, c->opened_by);
    g_autofree char *opened = cli_iso_date(c->opened);
    json_builder_set_member_name(b, "opened");
    json_builder_add_string_value(b, opened);
    json_builder_set_member_name(b, "closed");
    if (c->closed) {
        g_autofree char *closed = cli_iso_date(c->closed);
        json_builder_add_string_value(b, closed);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_set_member_name(b, "messages");
    json_builder_add_int_value(b, c->messages);
    json_builder_set_member_name(b, "bytes");
    json_builder_add_int_value(b, c->bytes);
    int64_t days = 0, wdays = 0;
    g_autofree char *err = NULL;
    bool have = strcmp(c->status, "closed") != 0 &&
                cor_case_days_left(c, today, &days, &wdays, &err) == COR_OK;
    json_builder_set_member_name(b, "days_left");
    if (have)
        json_builder_add_int_value(b, days);
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "working_days_left");
    if (have)
        json_builder_add_int_value(b, wdays);
    else
        json_builder_add_null_value(b);
}

/* ==== open ==== */

static int
case_open(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *type = NULL, *received = NULL, *jur = NULL, *person = NULL, *op = NULL;
    GOptionEntry entries[] = {
        { "type", 0, 0, G_OPTION_ARG_STRING, &type, "foi, eir or sar", "TYPE" },
        { "received", 0, 0, G_OPTION_ARG_STRING, &received, "the day the request arrived",
          "YYYY-MM-DD" },
        { "jurisdiction", 0, 0, G_OPTION_ARG_STRING, &jur,
          "england-wales (default), scotland or northern-ireland", "WHERE" },
        { "person", 0, 0, G_OPTION_ARG_STRING, &person, "a SAR's data subject", "ADDRESS" },
        OPERATOR_OPTION(op),
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = context(
        "REF --type foi|eir|sar --received YYYY-MM-DD - open a case",
        "Works out the statutory due date (docs/records.md): FOI and EIR the 20th working\n"
        "day after receipt (FOISA in Scotland), a SAR one calendar month.", entries);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2 || !type || !received)
        return cli_error("usage: corridor case open REF --type foi|eir|sar --received YYYY-MM-DD"
                         " [--jurisdiction england-wales|scotland|northern-ireland]"
                         " [--person ADDRESS]");
    cor_request_type_t t;
    if (!cor_request_type_from_string(type, &t))
        return cli_error("bad --type '%s' (foi, eir or sar)", type);
    cor_jurisdiction_t j = COR_JUR_ENGLAND_WALES;
    if (jur && !cor_jurisdiction_from_string(jur, &j))
        return cli_error("bad --jurisdiction '%s' (england-wales, scotland or northern-ireland)",
                         jur);
    cor_day_t rday;
    if (!date_or_today(received, "--received", &rday))
        return 1;
    g_autofree char *opname = cor_records_operator(op);
    cor_store_t *st = begin(cli, opname);
    if (!st)
        return 1;
    g_autoptr(cor_case_t) c = NULL;
    g_autofree char *err = NULL;
    cor_status_t s = cor_case_open(st, opname, argv[1], t, j, rday, person, &c, &err);
    int rc = finish(st, s, err);
    if (rc == 0)
        printf("opened case %s (%s, %s): received %s, due %s\n", c->ref,
               cor_request_type_to_string(c->type), cor_jurisdiction_to_string(c->jurisdiction),
               c->received, c->due);
    return rc;
}

/* ==== list ==== */

static int
case_list(cor_cli_t *cli, int argc, char **argv)
{
    gboolean all = FALSE, json = FALSE;
    GOptionEntry entries[] = {
        { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "also the closed cases", NULL },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "one JSON object per line", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = context("- the cases, soonest due first", NULL, entries);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 1)
        return cli_error("usage: corridor case list [--all] [--json]");
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(GPtrArray) list = NULL;
    g_autofree char *err = NULL;
    if (cor_case_list(st, all, &list, &err) != COR_OK)
        return cli_error("%s", err);
    cor_day_t today = cor_cal_today();
    if (!json && list->len)
        printf("%-20s %-4s %-16s %-10s  %-10s  %-26s %s\n", "CASE", "TYPE", "JURISDICTION",
               "RECEIVED", "DUE", "LEFT", "MESSAGES");
    for (guint i = 0; i < list->len; i++) {
        cor_case_t *c = list->pdata[i];
        if (json) {
            g_autoptr(JsonBuilder) b = json_builder_new();
            json_builder_begin_object(b);
            case_json_fields(b, c, today);
            json_builder_end_object(b);
            g_autoptr(JsonNode) root = json_builder_get_root(b);
            cli_print_json(root);
            continue;
        }
        int64_t days = 0, wdays = 0;
        g_autofree char *derr = NULL;
        char buf[64];
        const char *left = "?";
        if (strcmp(c->status, "closed") == 0 ||
            cor_case_days_left(c, today, &days, &wdays, &derr) == COR_OK)
            left = left_text(c, days, wdays, buf);
        printf("%-20s %-4s %-16s %-10s  %-10s  %-26s %" G_GINT64_FORMAT "\n", c->ref,
               cor_request_type_to_string(c->type), cor_jurisdiction_to_string(c->jurisdiction),
               c->received, c->due, left, c->messages);
    }
    if (!json)
        printf("%u case%s%s\n", list->len, list->len == 1 ? "" : "s", all ? "" : " open");
    return 0;
}

/* ==== show ==== */

static int
case_show(cor_cli_t *cli, int argc, char **argv)
{
    gboolean json = FALSE;
    g_autofree char *op = NULL;
    GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "one JSON object", NULL },
        OPERATOR_OPTION(op),
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = context("REF - a case, its searches and its history",
                                            NULL, entries);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2)
        return cli_error("usage: corridor case show REF [--json]");
    g_autofree char *opname = cor_records_operator(op);
    cor_store_t *st = begin(cli, opname);
    if (!st)
        return 1;
    g_autofree char *err = NULL;
    g_autoptr(cor_case_t) c = NULL;
    g_autoptr(GPtrArray) queries = NULL, events = NULL;
    g_autoptr(GArray) msgs = NULL;
    cor_status_t s = cor_case_get(st, argv[1], &c, &err);
    if (s == COR_OK)
        s = cor_case_queries(st, c->id, &queries, &err);
    if (s == COR_OK)
        s = cor_case_events(st, c->id, &events, &err);
    if (s == COR_OK)
        s = cor_case_messages(st, c->id, &msgs, &err);
    if (s == COR_OK)
        s = cor_case_viewed(st, opname, c, &err);
    int rc = finish(st, s, err);
    if (rc != 0)
        return rc;

    cor_day_t today = cor_cal_today();
    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        case_json_fields(b, c, today);
        json_builder_set_member_name(b, "queries");
        json_builder_begin_array(b);
        for (guint i = 0; i < queries->len; i++) {
            cor_case_query_t *q = queries->pdata[i];
            g_autofree char *at = cli_iso_date(q->at);
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "id");
            json_builder_add_int_value(b, q->id);
            json_builder_set_member_name(b, "kind");
            json_builder_add_string_value(b, q->kind);
            json_builder_set_member_name(b, "query");
            json_builder_add_string_value(b, q->query);
            json_builder_set_member_name(b, "at");
            json_builder_add_string_value(b, at);
            json_builder_set_member_name(b, "operator");
            json_builder_add_string_value(b, q->operator_name);
            json_builder_set_member_name(b, "count");
            json_builder_add_int_value(b, q->count);
            json_builder_set_member_name(b, "bytes");
            json_builder_add_int_value(b, q->bytes);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "events");
        json_builder_begin_array(b);
        for (guint i = 0; i < events->len; i++) {
            cor_case_event_t *e = events->pdata[i];
            g_autofree char *at = cli_iso_date(e->at);
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "at");
            json_builder_add_string_value(b, at);
            json_builder_set_member_name(b, "operator");
            json_builder_add_string_value(b, e->operator_name);
            json_builder_set_member_name(b, "kind");
            json_builder_add_string_value(b, e->kind);
            json_builder_set_member_name(b, "text");
            json_builder_add_string_value(b, e->text);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "message_ids");
        json_builder_begin_array(b);
        for (guint i = 0; i < msgs->len; i++) {
            g_autoptr(cor_stored_message_t) m = NULL;
            if (cor_store_message_get(st, g_array_index(msgs, int64_t, i), &m) == COR_OK)
                json_builder_add_string_value(b, m->message_id);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        cli_print_json(root);
        return 0;
    }

    int64_t days = 0, wdays = 0;
    char buf[64];
    const char *left = "?";
    g_autofree char *derr = NULL;
    if (strcmp(c->status, "closed") == 0 ||
        cor_case_days_left(c, today, &days, &wdays, &derr) == COR_OK)
        left = left_text(c, days, wdays, buf);
    g_autofree char *opened = cli_iso_date(c->opened);
    printf("case:          %s\n", c->ref);
    printf("type:          %s (%s)\n", cor_request_type_to_string(c->type),
           cor_jurisdiction_to_string(c->jurisdiction));
    if (*c->person)
        printf("person:        %s\n", c->person);
    printf("received:      %s\n", c->received);
    if (strcmp(c->clock_from, c->received) != 0)
        printf("counted from:  %s (the clock restarted)\n", c->clock_from);
    printf("due:           %s (%s)\n", c->due, left);
    printf("status:        %s%s%s%s%s%s\n", c->status, *c->stopped_on ? " since " : "",
           c->stopped_on, *c->stop_kind ? " (" : "", c->stop_kind, *c->stop_kind ? ")" : "");
    if (c->days_stopped)
        printf("clock stopped: %" G_GINT64_FORMAT " %s not counted\n", c->days_stopped,
               c->type == COR_REQUEST_SAR ? "days" : "working days");
    printf("opened:        %s by %s\n", opened, c->opened_by);
    printf("messages:      %" G_GINT64_FORMAT " (%" G_GINT64_FORMAT " bytes)\n", c->messages,
           c->bytes);
    if (queries->len)
        printf("\nsearches:\n");
    for (guint i = 0; i < queries->len; i++) {
        cor_case_query_t *q = queries->pdata[i];
        g_autofree char *at = cli_iso_date(q->at);
        printf("  #%-4" G_GINT64_FORMAT " %s  %-5s %-10s %6" G_GINT64_FORMAT " messages %10"
               G_GINT64_FORMAT " bytes  %s\n", q->id, at, q->kind, q->operator_name, q->count,
               q->bytes, q->query);
    }
    if (events->len)
        printf("\nhistory:\n");
    for (guint i = 0; i < events->len; i++) {
        cor_case_event_t *e = events->pdata[i];
        g_autofree char *at = cli_iso_date(e->at);
        printf("  %s  %-10s %-6s %s\n", at, e->operator_name, e->kind, e->text);
    }
    return 0;
}

/* ==== the clock, notes, closing ==== */

static int
case_stop_clock(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *on = NULL, *reason = NULL, *op = NULL, *kind = NULL;
    GOptionEntry entries[] = {
        { "kind", 0, 0, G_OPTION_ARG_STRING, &kind,
          "clarification (default): asked the requester what they want; fee: sent a fees notice",
          "clarification|fee" },
        { "on", 0, 0, G_OPTION_ARG_STRING, &on,
          "the day the clock stops: the day you asked or sent the notice (default today)",
          "YYYY-MM-DD" },
        { "reason", 0, 0, G_OPTION_ARG_STRING, &reason, "what was asked or charged", "TEXT" },
        OPERATOR_OPTION(op),
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = context(
        "REF [--kind clarification|fee] --reason TEXT - stop a case's clock",
        "What happens when it resumes ('case resume REF --on DAY', the day the answer or\n"
        "the fee arrived) depends on the kind (docs/records.md):\n"
        "  clarification  FOI/EIR: the 20 working days start again after that day\n"
        "                 (FOIA s.1(3), s.10(6); FOISA s.10(1)(b); EIR reg 9(4));\n"
        "                 SAR: the days from the stop to that day do not count.\n"
        "  fee            FOI/EIR: the working days from the notice to the payment do not\n"
        "                 count (FOIA s.10(2), FOISA s.10(2)); SAR: the month starts again\n"
        "                 from the payment.", entries);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2 || !reason)
        return cli_error("usage: corridor case stop-clock REF [--kind clarification|fee]"
                         " [--on YYYY-MM-DD] --reason TEXT");
    cor_stop_kind_t k = COR_STOP_CLARIFICATION;
    if (kind && !cor_stop_kind_from_string(kind, &k))
        return cli_error("bad --kind '%s' (clarification or fee)", kind);
    cor_day_t day;
    if (!date_or_today(on, "--on", &day))
        return 1;
    g_autofree char *opname = cor_records_operator(op);
    cor_store_t *st = begin(cli, opname);
    if (!st)
        return 1;
    g_autofree char *err = NULL;
    cor_status_t s = cor_case_stop_clock(st, opname, argv[1], k, day, reason, &err);
    int rc = finish(st, s, err);
    if (rc == 0) {
        char d[11];
        cor_cal_format(day, d);
        printf("clock of case %s stopped on %s for a %s\n", argv[1], d,
               k == COR_STOP_FEE ? "fee" : "clarification");
    }
    return rc;
}

static int
case_resume(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *on = NULL, *op = NULL;
    GOptionEntry entries[] = {
        { "on", 0, 0, G_OPTION_ARG_STRING, &on,
          "the day the clock restarts, e.g. when the clarification arrived (default today)",
          "YYYY-MM-DD" },
        OPERATOR_OPTION(op),
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = context("REF - restart a stopped clock", NULL, entries);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2)
        return cli_error("usage: corridor case resume REF [--on YYYY-MM-DD]");
    cor_day_t day;
    if (!date_or_today(on, "--on", &day))
        return 1;
    g_autofree char *opname = cor_records_operator(op);
    cor_store_t *st = begin(cli, opname);
    if (!st)
        return 1;
    g_autofree char *err = NULL;
    g_autoptr(cor_case_t) c = NULL;
    cor_status_t s = cor_case_resume(st, opname, argv[1], day, &c, &err);
    int rc = finish(st, s, err);
    if (rc == 0)
        printf("clock of case %s resumed; due %s\n", c->ref, c->due);
    return rc;
}

static int
case_note(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *op = NULL;
    GOptionEntry entries[] = {
        OPERATOR_OPTION(op),
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = context("REF TEXT... - add a note to a case", NULL, entries);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc < 3)
        return cli_error("usage: corridor case note REF TEXT");
    g_autofree char *text = g_strjoinv(" ", argv + 2);
    g_autofree char *opname = cor_records_operator(op);
    cor_store_t *st = begin(cli, opname);
    if (!st)
        return 1;
    g_autofree char *err = NULL;
    cor_status_t s = cor_case_note(st, opname, argv[1], text, &err);
    int rc = finish(st, s, err);
    if (rc == 0)
        printf("note added to case %s\n", argv[1]);
    return rc;
}

static int
case_close(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *op = NULL;
    GOptionEntry entries[] = {
        OPERATOR_OPTION(op),
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = context("REF - close a case", NULL, entries);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2)
        return cli_error("usage: corridor case close REF");
    g_autofree char *opname = cor_records_operator(op);
    cor_store_t *st = begin(cli, opname);
    if (!st)
        return 1;
    g_autofree char *err = NULL;
    cor_status_t s = cor_case_close(st, opname, argv[1], &err);
    int rc = finish(st, s, err);
    if (rc == 0)
        printf("case %s closed\n", argv[1]);
    return rc;
}

/* ==== add ==== */

static int
case_add(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *query = NULL, *op = NULL;
    GOptionEntry entries[] = {
        { "query", 'q', 0, G_OPTION_ARG_STRING, &query,
          "add every message this query finds, in every group", "QUERY" },
        OPERATOR_OPTION(op),
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = context(
        "REF (--query QUERY | MESSAGE-ID...) - select messages for a case",
        "Prints how many were added, and the case's message count and total size (for the\n"
        "cost-limit estimate).  The query is the core query language (docs/search.md) over\n"
        "every group, private and restricted included.", entries);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc < 2 || (query && argc > 2) || (!query && argc < 3))
        return cli_error("usage: corridor case add REF (--query QUERY | MESSAGE-ID...)");
    const char *ref = argv[1];
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autofree char *err = NULL;
    g_autoptr(cor_case_t) check = NULL;
    if (cor_case_get_open(st, ref, &check, &err) != COR_OK)
        return cli_error("%s", err);

    g_autoptr(GArray) rows = NULL;
    g_autofree char *recorded = NULL;
    int64_t bytes = 0;
    if (query) {
        g_autofree char *index = cli_index_path(cli);
        if (cor_case_search(st, index, query, &rows, &bytes, &err) != COR_OK)
            return cli_error("%s", err);
        recorded = g_strdup(query);
    } else {
        rows = g_array_new(FALSE, FALSE, sizeof(int64_t));
        GString *ids = g_string_new(NULL);
        for (int i = 2; i < argc; i++) {
            g_autofree char *id = cli_message_id(argv[i]);
            g_autoptr(GArray) found = NULL;
            if (cor_store_message_find(st, id, &found) != COR_OK) {
                g_string_free(ids, TRUE);
                return cli_error("%s", cor_store_error(st));
            }
            if (found->len == 0) {
                g_string_free(ids, TRUE);
                return cli_error("no message <%s>", id);
            }
            g_array_append_vals(rows, found->data, found->len);
            g_string_append_printf(ids, "%s<%s>", ids->len ? " " : "", id);
        }
        recorded = g_string_free(ids, FALSE);
    }

    g_autofree char *opname = cor_records_operator(op);
    if (!(st = begin(cli, opname)))
        return 1;
    g_autoptr(cor_case_t) c = NULL;
    cor_case_add_result_t res;
    cor_status_t s = cor_case_get_open(st, ref, &c, &err);
    if (s == COR_OK)
        s = cor_case_add(st, opname, c, query ? "query" : "ids", recorded, 0, rows, &res, &err);
    int rc = finish(st, s, err);
    if (rc == 0)
        printf("added %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " message%s (%" G_GINT64_FORMAT
               " bytes) to case %s; the case has %" G_GINT64_FORMAT " message%s, %"
               G_GINT64_FORMAT " bytes\n",
               res.added, res.matched, res.matched == 1 ? "" : "s", res.matched_bytes, ref,
               res.total, res.total == 1 ? "" : "s", res.total_bytes);
    return rc;
}

/* ==== dispatch ==== */

static const struct {
    const char *name;
    case_fn fn;
} subcommands[] = {
    { "open", case_open },
    { "list", case_list },
    { "show", case_show },
    { "stop-clock", case_stop_clock },
    { "resume", case_resume },
    { "note", case_note },
    { "close", case_close },
    { "add", case_add },
    { "export", cmd_case_export },
    { "redact", cmd_case_redact },
};

int
cmd_case(cor_cli_t *cli, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fprintf(argc < 2 ? stderr : stdout,
                "usage: corridor case SUBCOMMAND ...\n"
                "  open REF --type foi|eir|sar --received YYYY-MM-DD [--jurisdiction J]"
                " [--person ADDRESS]\n"
                "  list [--all] [--json]\n"
                "  show REF [--json]\n"
                "  stop-clock REF [--kind clarification|fee] [--on YYYY-MM-DD] --reason TEXT\n"
                "  resume REF [--on YYYY-MM-DD]\n"
                "  note REF TEXT\n"
                "  close REF\n"
                "  add REF (--query QUERY | MESSAGE-ID...)\n"
                "  export REF --out FILE.zip\n"
                "  redact REF ...\n"
                "Each takes --operator NAME (default: the login user); see docs/records.md.\n");
        return argc < 2 ? 2 : 0;
    }
    for (guint i = 0; i < G_N_ELEMENTS(subcommands); i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].fn(cli, argc - 1, argv + 1);
    return cli_error("case: unknown subcommand '%s' (open, list, show, stop-clock, resume, note,"
                     " close, add, export, redact)", argv[1]);
}
