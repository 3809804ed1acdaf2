/* cli/cmd_case_export.c — `corridor case export REF --out FILE.zip
 * [--release]` and `corridor case redact REF ...` (records/bundle.h,
 * records/redact.h).  cmd_case (cli/cmd_case.c) calls these with argv[0]
 * the subcommand ("export", "redact"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "records/bundle.h"
#include "records/cases.h"
#include "records/readable.h"
#include "records/records.h"
#include "records/redact.h"

/* The store, with the officer list checked against the audit trail first
 * (records/audit.h note 5: every records command does it when it starts). */
static cor_store_t *
records_store(cor_cli_t *cli, const char *operator_name)
{
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return NULL;
    g_autofree char *err = NULL;
    if (cor_records_begin(st, operator_name, cor_config_officers(cli->config),
                          &err) != COR_OK) {
        cli_error("%s", err ? err : cor_store_error(st));
        return NULL;
    }
    if (cor_store_commit(st) != COR_OK) {
        cli_error("cannot record the officers: %s", cor_store_error(st));
        cor_store_rollback(st);
        return NULL;
    }
    return st;
}

/* ==== export ==== */

int
cmd_case_export(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *out = NULL;
    g_autofree char *op = NULL;
    gboolean release = FALSE, quiet = FALSE;
    g_auto(GStrv) attachments = NULL;
    GOptionEntry entries[] = {
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "the ZIP file to write", "FILE.zip" },
        { "release", 0, 0, G_OPTION_ARG_NONE, &release,
          "the requester's version: each message as its (redacted) text, no originals", NULL },
        { "attachment", 0, 0, G_OPTION_ARG_STRING_ARRAY, &attachments,
          "release: also release this attachment, reviewed (repeat for more)",
          "MESSAGE/N" },
        { "operator", 0, 0, G_OPTION_ARG_STRING, &op, "who is acting (default: the login user)",
          "NAME" },
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "no progress bar", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("REF --out FILE.zip - a disclosure bundle");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Writes the case's disclosure bundle: every original .eml byte for byte, a printable\n"
        "HTML copy of each, the attachments, redacted copies where redactions were accepted,\n"
        "manifest.csv/.json (with each original's SHA-256), the case's searches, the\n"
        "redaction log and a README for the requester.  The same case exported twice gives\n"
        "the same bytes.\n"
        "With --release, the requester's version: every message only as its readable text\n"
        "(the headers, Message-ID, attachment names and text that 'case redact --propose'\n"
        "scans) with the accepted redactions applied; no originals, no formatting, no\n"
        "attachments but those released with --attachment MESSAGE/N (message 0002's\n"
        "\"Attachment 1:\" line is 0002/1): release an attachment only after reading it.\n"
        "The export is recorded in the audit trail with the file's SHA-256.");
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2 || !out)
        return cli_error("usage: corridor case export REF --out FILE.zip [--release "
                         "[--attachment MESSAGE/N]...] [--operator NAME]");
    if (attachments && !release)
        return cli_error("--attachment goes with --release (the officer's bundle has every "
                         "attachment)");
    g_autofree char *operator_name = cor_records_operator(op);
    cor_store_t *st = records_store(cli, operator_name);
    if (!st)
        return 1;
    /* The ZIP format keeps each entry's time as a local time: the export
     * runs in UTC so that the same case gives the same bytes on any
     * machine (records/bundle.h invariant 1).  Nothing after this in the
     * command prints a local time. */
    setenv("TZ", "UTC0", 1);
    tzset();
    g_autofree char *base = cor_config_base_url(cli->config, NULL);
    cli_progress_t prog = { .what = "exporting", .tty = cli->stderr_tty && !quiet };
    cor_bundle_options_t opt = {
        .case_ref = argv[1],
        .out_path = out,
        .release = release,
        .base_url = base,
        .operator_name = operator_name,
        .attachments = (const char *const *) attachments,
        .progress = cli_progress_cb,
        .progress_data = &prog,
    };
    cor_bundle_result_t res;
    g_autofree char *err = NULL;
    cor_status_t s = cor_bundle_export(st, &opt, &res, &err);
    cli_progress_end(&prog);
    if (s != COR_OK)
        return cli_error("%s", err ? err : cor_status_to_string(s));
    g_autofree char *withheld = release
        ? g_strdup_printf(", %" G_GINT64_FORMAT " original%s withheld", res.withheld,
                          res.withheld == 1 ? "" : "s")
        : g_strdup("");
    printf("exported case %s to %s: %" G_GINT64_FORMAT " message%s, %" G_GINT64_FORMAT
           " with redactions (%" G_GINT64_FORMAT " span%s)%s, %" G_GINT64_FORMAT
           " attachment%s, %" G_GINT64_FORMAT " files, %" G_GUINT64_FORMAT " bytes\n",
           argv[1], out, res.messages, res.messages == 1 ? "" : "s", res.redacted,
           res.redactions, res.redactions == 1 ? "" : "s", withheld,
           res.attachments, res.attachments == 1 ? "" : "s", res.entries, res.bytes);
    printf("sha256 %s\n", res.sha256);
    return 0;
}

/* ==== redact ==== */

/* Parses ids: "12", "12,13", "12-20" into `ids`.  False (after the error)
 * on anything else. */
static bool
parse_ids(const char *arg, GArray *ids)
{
    g_auto(GStrv) parts = g_strsplit(arg, ",", -1);
    for (char **p = parts; *p; p++) {
        const char *t = g_strstrip(*p);
        if (!*t)
            continue;
        char *end = NULL;
        gint64 a = g_ascii_strtoll(t, &end, 10), b = a;
        if (end && *end == '-')
            b = g_ascii_strtoll(end + 1, &end, 10);
        if (end == t || !end || *end || a <= 0 || b < a || b - a > 1000000) {
            cli_error("'%s' is not a redaction id (a number, a list 3,4 or a range 3-9)", t);
            return false;
        }
        for (gint64 i = a; i <= b; i++) {
            int64_t v = i;
            g_array_append_val(ids, v);
        }
    }
    return true;
}

/* "12-40" into start and end. */
static bool
parse_span(const char *arg, int64_t *start, int64_t *end)
{
    char *e = NULL;
    gint64 a = g_ascii_strtoll(arg, &e, 10);
    if (e == arg || !e || *e != '-')
        return false;
    const char *b = e + 1;
    gint64 z = g_ascii_strtoll(b, &e, 10);
    if (e == b || *e || a < 0 || z <= a)
        return false;
    *start = a;
    *end = z;
    return true;
}

/* A short, one-line view of the span's text for the officer (the list is
 * theirs; the bundle's log never has it). */
static char *
span_text(const char *text, size_t len, int64_t start, int64_t end)
{
    if (!text || start < 0 || end > (int64_t) len || start >= end)
        return g_strdup("");
    GString *s = g_string_new(NULL);
    for (int64_t i = start; i < end; i++) {
        char c = text[i];
        g_string_append_c(s, c == '\n' || c == '\t' || c == '\r' ? ' ' : c);
    }
    if (!g_utf8_validate(s->str, (gssize) s->len, NULL)) {
        g_autofree char *v = g_utf8_make_valid(s->str, (gssize) s->len);
        g_string_assign(s, v);
    }
    return g_string_free(s, FALSE);
}

static int
redact_list(cor_store_t *st, const char *ref, const char *state, bool json,
            const char *operator_name)
{
    g_autoptr(GPtrArray) list = NULL;
    g_autofree char *err = NULL;
    if (state && strcmp(state, "proposed") && strcmp(state, "accepted") && strcmp(state, "rejected"))
        return cli_error("--state: '%s' is not proposed, accepted or rejected", state);
    cor_status_t s = cor_redact_list(st, ref, state, &list, &err);
    if (s != COR_OK)
        return cli_error("%s", err);
    /* showing the spans shows the text: the view is recorded first, and
     * nothing is shown when it cannot be (as case show does) */
    {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "op");
        json_builder_add_string_value(b, "list");
        json_builder_set_member_name(b, "state");
        json_builder_add_string_value(b, state ? state : "any");
        json_builder_set_member_name(b, "count");
        json_builder_add_int_value(b, list->len);
        json_builder_end_object(b);
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        g_autoptr(JsonGenerator) gen = json_generator_new();
        json_generator_set_root(gen, root);
        g_autofree char *detail = json_generator_to_data(gen, NULL);
        if ((s = cor_store_begin(st)) != COR_OK)
            return cli_error("cannot record the view (nothing shown): %s", cor_store_error(st));
        s = cor_audit_append(st, operator_name, "redact", ref, detail, NULL, &err);
        if (s == COR_OK && (s = cor_store_commit(st)) != COR_OK)
            err = g_strdup(cor_store_error(st));
        if (s != COR_OK) {
            cor_store_rollback(st);
            return cli_error("cannot record the view (nothing shown): %s",
                             err ? err : cor_status_to_string(s));
        }
    }
    int64_t msg = 0;
    g_autofree char *text = NULL;
    char sha[65] = "";
    int64_t counts[3] = { 0, 0, 0 };
    for (guint i = 0; i < list->len; i++) {
        cor_redaction_t *r = list->pdata[i];
        if (r->msg != msg) {
            msg = r->msg;
            g_clear_pointer(&text, g_free);
            g_clear_pointer(&err, g_free);
            if (cor_readable_load(st, msg, 0, &text, sha, NULL, NULL, &err) != COR_OK)
                return cli_error("%s", err);
            if (!json)
                printf("message %04d <%s>\n", r->number, r->message_id);
        }
        bool stale = strcmp(sha, r->text_sha256) != 0;
        g_autofree char *shown = stale ? g_strdup("") : span_text(text, strlen(text), r->start, r->end);
        counts[strcmp(r->state, "proposed") == 0 ? 0 : strcmp(r->state, "accepted") == 0 ? 1 : 2]++;
        g_autofree char *at = cli_iso_date(r->at);
        if (json) {
            g_autoptr(JsonBuilder) b = json_builder_new();
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "id");
            json_builder_add_int_value(b, r->id);
            json_builder_set_member_name(b, "message");
            g_autofree char *num = g_strdup_printf("%04d", r->number);
            json_builder_add_string_value(b, num);
            json_builder_set_member_name(b, "message_id");
            json_builder_add_string_value(b, r->message_id);
            json_builder_set_member_name(b, "msg");
            json_builder_add_int_value(b, r->msg);
            json_builder_set_member_name(b, "start");
            json_builder_add_int_value(b, r->start);
            json_builder_set_member_name(b, "end");
            json_builder_add_int_value(b, r->end);
            json_builder_set_member_name(b, "kind");
            json_builder_add_string_value(b, r->kind);
            json_builder_set_member_name(b, "exemption");
            json_builder_add_string_value(b, r->exemption);
            json_builder_set_member_name(b, "state");
            json_builder_add_string_value(b, r->state);
            json_builder_set_member_name(b, "operator");
            json_builder_add_string_value(b, r->operator_name);
            json_builder_set_member_name(b, "at");
            json_builder_add_string_value(b, at);
            json_builder_set_member_name(b, "text");
            json_builder_add_string_value(b, shown);
            json_builder_set_member_name(b, "stale");
            json_builder_add_boolean_value(b, stale);
            json_builder_end_object(b);
            g_autoptr(JsonNode) root = json_builder_get_root(b);
            cli_print_json(root);
        } else {
            g_autofree char *span = g_strdup_printf("%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT,
                                                    r->start, r->end);
            printf("  %-6" G_GINT64_FORMAT " %-9s %-13s %-9s %-7s %s%s\n", r->id, r->state, span,
                   r->kind, r->exemption, stale ? "(the message's text changed: reject this one)" : "",
                   shown);
        }
    }
    if (!json)
        printf("%u redaction%s: %" G_GINT64_FORMAT " proposed, %" G_GINT64_FORMAT " accepted, %"
               G_GINT64_FORMAT " rejected\n", list->len, list->len == 1 ? "" : "s", counts[0],
               counts[1], counts[2]);
    return 0;
}

int
cmd_case_redact(cor_cli_t *cli, int argc, char **argv)
{
    gboolean propose = FALSE, list = FALSE, json = FALSE, accept_all = FALSE, all = FALSE;
    g_autofree char *exemption = NULL, *op = NULL, *state = NULL, *message = NULL, *text = NULL,
                    *span = NULL;
    g_auto(GStrv) names = NULL, accept = NULL, reject = NULL;
    gint occurrence = 0;
    GOptionEntry entries[] = {
        { "propose", 0, 0, G_OPTION_ARG_NONE, &propose,
          "find personal data in every message of the case and propose it", NULL },
        { "name", 0, 0, G_OPTION_ARG_STRING_ARRAY, &names,
          "propose: a name of the SAR subject (repeat for more)", "\"FULL NAME\"" },
        { "exemption", 0, 0, G_OPTION_ARG_STRING, &exemption,
          "s40(2) (default for proposals), s41, s42, s43, s31, s36, eir-12, eir-13", "CODE" },
        { "list", 0, 0, G_OPTION_ARG_NONE, &list, "the case's redactions", NULL },
        { "state", 0, 0, G_OPTION_ARG_STRING, &state, "list: only proposed, accepted or rejected",
          "STATE" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "list: one JSON object per line", NULL },
        { "accept", 0, 0, G_OPTION_ARG_STRING_ARRAY, &accept,
          "accept redactions (ids, 3,4 or 3-9; more ids may follow REF)", "ID" },
        { "accept-all", 0, 0, G_OPTION_ARG_NONE, &accept_all,
          "accept every proposed redaction", NULL },
        { "reject", 0, 0, G_OPTION_ARG_STRING_ARRAY, &reject, "reject redactions", "ID" },
        { "message", 0, 0, G_OPTION_ARG_STRING, &message,
          "a manual span in this message of the case: its number (0002), id:ROW or Message-ID",
          "MESSAGE" },
        { "text", 0, 0, G_OPTION_ARG_STRING, &text, "manual: the exact text to redact", "TEXT" },
        { "occurrence", 0, 0, G_OPTION_ARG_INT, &occurrence,
          "manual: only the N-th place the text occurs", "N" },
        { "all", 0, 0, G_OPTION_ARG_NONE, &all, "manual: every place the text occurs", NULL },
        { "span", 0, 0, G_OPTION_ARG_STRING, &span,
          "manual: a byte span of the readable text", "START-END" },
        { "operator", 0, 0, G_OPTION_ARG_STRING, &op, "who is acting (default: the login user)",
          "NAME" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "REF --propose|--list|--accept ID...|--accept-all|--reject ID...|--message MESSAGE "
        "- redactions for a case's export");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Redactions are spans of a message's readable text (its From, To, Cc, Reply-To,\n"
        "Date, Subject, Message-ID and Attachment lines, a blank line, then the whole text)\n"
        "hidden in the case's export, each with an exemption.  The stored original never\n"
        "changes.\n"
        "  --propose [--exemption CODE] [--name \"FULL NAME\"]...\n"
        "      proposes mail addresses, UK phone numbers, National Insurance numbers,\n"
        "      postcodes, staff names (members' names) and the SAR subject's address and names\n"
        "  --list [--state STATE] [--json]        what is proposed, accepted and rejected\n"
        "  --accept ID... | --accept-all | --reject ID...\n"
        "  --message MESSAGE --text \"exact text\" [--occurrence N|--all] --exemption CODE\n"
        "  --message MESSAGE --span START-END --exemption CODE\n"
        "      a manual span, accepted at once; MESSAGE is the message's number in the case\n"
        "      (0002, as --list and the bundle number them), id:ROW (the store's row) or its\n"
        "      Message-ID (refused when two messages of the case have it)\n"
        "Every change is recorded in the audit trail (without the redacted text).");
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc < 2)
        return cli_error("usage: corridor case redact REF --propose|--list|--accept ID...|"
                         "--accept-all|--reject ID...|--message MESSAGE ...");
    const char *ref = argv[1];
    int actions = !!propose + !!list + !!(accept || accept_all) + !!reject + !!message;
    if (accept && accept_all)
        return cli_error("give --accept ID... or --accept-all, not both");
    if (actions != 1)
        return cli_error("case redact: give one of --propose, --list, --accept, --accept-all, "
                         "--reject or --message");
    if (argc > 2 && !accept && !reject)
        return cli_error("case redact: unexpected argument '%s'", argv[2]);
    if (exemption && !cor_redact_exemption_valid(exemption))
        return cli_error("unknown exemption '%s': use one of %s", exemption,
                         cor_redact_exemption_list());
    if (names && !propose)
        return cli_error("--name goes with --propose");
    if ((text || span || all || occurrence) && !message)
        return cli_error("--text, --span, --occurrence and --all go with --message");
    g_autofree char *operator_name = cor_records_operator(op);
    cor_store_t *st = records_store(cli, operator_name);
    if (!st)
        return 1;
    g_autofree char *err = NULL;
    cor_status_t s;

    if (list)
        return redact_list(st, ref, state, json, operator_name);

    if (propose) {
        int64_t proposed = 0, messages = 0;
        s = cor_redact_propose(st, ref, operator_name, exemption, (const char *const *) names,
                               &proposed, &messages, &err);
        if (s != COR_OK)
            return cli_error("%s", err);
        printf("proposed %" G_GINT64_FORMAT " redaction%s in %" G_GINT64_FORMAT " message%s "
               "of case %s (see case redact %s --list)\n", proposed, proposed == 1 ? "" : "s",
               messages, messages == 1 ? "" : "s", ref, ref);
        return 0;
    }

    if (accept || accept_all || reject) {
        g_autoptr(GArray) ids = NULL;
        if (!accept_all) {
            ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
            for (char **a = accept ? accept : reject; *a; a++)
                if (!parse_ids(*a, ids))
                    return 2;
            for (int i = 2; i < argc; i++)
                if (!parse_ids(argv[i], ids))
                    return 2;
        }
        int64_t changed = 0;
        bool yes = accept || accept_all;
        s = cor_redact_decide(st, ref, operator_name, ids, yes, &changed, &err);
        if (s != COR_OK)
            return cli_error("%s", err);
        printf("%s %" G_GINT64_FORMAT " redaction%s of case %s\n", yes ? "accepted" : "rejected",
               changed, changed == 1 ? "" : "s", ref);
        return 0;
    }

    /* a manual span */
    if (!exemption)
        return cli_error("a manual span needs --exemption CODE (one of %s)",
                         cor_redact_exemption_list());
    if (!text && !span)
        return cli_error("--message needs --text \"exact text\" or --span START-END");
    if (all && occurrence)
        return cli_error("give --occurrence N or --all, not both");
    if (occurrence < 0)
        return cli_error("--occurrence counts from 1");
    if ((all || occurrence) && !text)
        return cli_error("--occurrence and --all go with --text");
    int64_t start = 0, end = 0;
    if (span && !parse_span(span, &start, &end))
        return cli_error("--span: '%s' is not START-END (byte offsets, END after START)", span);
    int rc = 0;
    for (int pass = 0; pass < 2; pass++) {
        if ((pass == 0 && !text) || (pass == 1 && !span))
            continue;
        g_autoptr(GArray) ids = NULL;
        g_clear_pointer(&err, g_free);
        g_autofree char *mid = NULL;
        int number = 0;
        s = cor_redact_manual(st, ref, operator_name, message, pass == 0 ? text : NULL,
                              all ? 0 : occurrence ? occurrence : -1, start, end, exemption,
                              &ids, &mid, &number, &err);
        if (s != COR_OK) {
            rc = cli_error("%s", err);
            break;
        }
        GString *list_ids = g_string_new(NULL);
        for (guint i = 0; i < ids->len; i++)
            g_string_append_printf(list_ids, "%s%" G_GINT64_FORMAT, i ? ", " : "",
                                   g_array_index(ids, int64_t, i));
        printf("redacted %u span%s (%s) in <%s>: %s %s (message %04d)\n", ids->len,
               ids->len == 1 ? "" : "s", exemption, mid, ids->len == 1 ? "id" : "ids",
               list_ids->str, number);
        g_string_free(list_ids, TRUE);
    }
    return rc;
}
