/* cli/cmd_audit.c — `corridor audit list|verify|export`: the records audit
 * trail (records/audit.h).  verify exits 1 and names the first bad entry
 * when the trail was edited, cut, reordered or added to outside corridor;
 * export writes JSON lines with every entry's hash so that anyone can check
 * the chain again (docs/records.md shows how). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "records/audit.h"
#include "records/cases.h"
#include "records/records.h"

static int
audit_list(cor_cli_t *cli, const char *case_ref, bool json)
{
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(GPtrArray) all = NULL;
    g_autofree char *err = NULL;
    if (cor_audit_list(st, case_ref, &all, &err) != COR_OK)
        return cli_error("%s", err);
    for (guint i = 0; i < all->len; i++) {
        cor_audit_entry_t *e = all->pdata[i];
        if (json) {
            g_autofree char *line = cor_audit_entry_json(e);
            puts(line);
            continue;
        }
        g_autofree char *at = cli_iso_date(e->at);
        printf("%6" G_GINT64_FORMAT "  %s  %-12s %-18s %-16s %s\n", e->seq, at, e->operator_name,
               e->action, *e->case_ref ? e->case_ref : "-", e->detail);
    }
    if (!json)
        printf("%u entr%s\n", all->len, all->len == 1 ? "y" : "ies");
    return 0;
}

static int
audit_verify(cor_cli_t *cli, const char *copy)
{
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    cor_audit_report_t r = { 0 };
    g_autofree char *err = NULL;
    if (cor_audit_verify_with(st, copy, &r, &err) != COR_OK)
        return cli_error("cannot verify the audit trail: %s", err);
    /* notes (stray anchor lines recorded in the chain) whatever the result */
    if (*r.notes) {
        g_auto(GStrv) lines = g_strsplit(r.notes, "\n", -1);
        for (guint i = 0; lines[i]; i++)
            if (*lines[i])
                fprintf(stderr, "corridor: note: %s\n", lines[i]);
    }
    int rc = 0;
    if (r.ok) {
        g_autofree char *anchor = cor_audit_anchor_path(st);
        g_autofree char *also = copy ? g_strdup_printf(", the copy %s", copy) : g_strdup("");
        printf("audit trail intact: %" G_GINT64_FORMAT " entr%s, chain and anchors (meta"
               " audit_head, %s%s) agree\n", r.entries, r.entries == 1 ? "y" : "ies", anchor,
               also);
    } else if (r.bad_seq > 0) {
        rc = cli_error("audit trail broken at entry %" G_GINT64_FORMAT ": %s", r.bad_seq,
                       r.problem);
    } else {
        rc = cli_error("audit trail broken: %s", r.problem);
    }
    cor_audit_report_clear(&r);
    return rc;
}

static int
audit_export(cor_cli_t *cli, const char *out, const char *op)
{
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autofree char *opname = cor_records_operator(op);
    g_autofree char *err = NULL;
    /* the export is itself a records action: its entry is the last one exported */
    if (cor_records_begin(st, opname, cor_config_officers(cli->config), &err)
        != COR_OK)
        return cli_error("%s", err);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "out");
    json_builder_add_string_value(b, out ? out : "-");
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    g_autofree char *detail = json_generator_to_data(gen, NULL);
    g_autoptr(GPtrArray) all = NULL;
    cor_status_t s = cor_audit_append(st, opname, "audit.export", "", detail, NULL, &err);
    if (s == COR_OK)
        s = cor_audit_list(st, NULL, &all, &err);
    if (s == COR_OK && (s = cor_store_commit(st)) != COR_OK)
        err = g_strdup(cor_store_error(st));
    if (s != COR_OK) {
        cor_store_rollback(st);
        return cli_error("%s", err);
    }
    GString *text = g_string_new(NULL);
    for (guint i = 0; i < all->len; i++) {
        g_autofree char *line = cor_audit_entry_json(all->pdata[i]);
        g_string_append(text, line);
        g_string_append_c(text, '\n');
    }
    int rc = 0;
    if (!out || strcmp(out, "-") == 0) {
        fwrite(text->str, 1, text->len, stdout);
    } else {
        g_autoptr(GError) gerr = NULL;
        if (!g_file_set_contents(out, text->str, (gssize) text->len, &gerr))
            rc = cli_error("cannot write '%s': %s", out, gerr->message);
        else
            fprintf(stderr, "exported %u audit entries to %s\n", all->len, out);
    }
    g_string_free(text, TRUE);
    return rc;
}

int
cmd_audit(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *case_ref = NULL, *out = NULL, *op = NULL, *anchor = NULL;
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        { "case", 0, 0, G_OPTION_ARG_STRING, &case_ref, "list: only this case's entries", "REF" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "list: one JSON object per line", NULL },
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "export: write to FILE (default stdout)",
          "FILE" },
        { "operator", 0, 0, G_OPTION_ARG_STRING, &op, "who is acting (default: the login user)",
          "NAME" },
        { "anchor", 0, 0, G_OPTION_ARG_FILENAME, &anchor,
          "verify: also check against this copy of the anchor file (kept off the machine)",
          "FILE" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("list|verify|export - the records audit trail");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "list shows the entries (every search, view, addition, export, hold, redaction,\n"
        "approval, disposal, case change and officer-list change).\n"
        "verify checks the hash chain, both anchors and that every case, hold, plan, search,\n"
        "event and redaction has its entry; it exits 1 and names the first bad entry when\n"
        "anything was edited, deleted, inserted or reordered.  --anchor FILE also checks a\n"
        "copy of the anchor file kept elsewhere (docs/records.md: what each check proves).\n"
        "export writes JSON lines with each entry's hash (docs/records.md: re-verifying).");
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2)
        return cli_error("usage: corridor audit list [--case REF] [--json] |"
                         " verify [--anchor FILE] | export [--out FILE]");
    if (strcmp(argv[1], "list") == 0)
        return audit_list(cli, case_ref, json);
    if (strcmp(argv[1], "verify") == 0)
        return audit_verify(cli, anchor);
    if (strcmp(argv[1], "export") == 0)
        return audit_export(cli, out, op);
    return cli_error("audit: unknown action '%s' (list, verify or export)", argv[1]);
}
