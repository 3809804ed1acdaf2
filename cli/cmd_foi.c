/* cli/cmd_foi.c — `corridor foi search --case REF QUERY` and `corridor sar
 * search --case REF --person ADDRESS [--name NAME]...`: searches for a case
 * over EVERY group, private groups and restricted posts included (unlike
 * `corridor search`, which shows what the archive shows).  Each search is
 * recorded for the case (case_queries: query, count, total size) with an
 * audit entry, and with --add its results join the case in the same
 * transaction (records/cases.h). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "records/audit.h"
#include "records/cases.h"
#include "records/records.h"

/* Prints the results as `corridor search` does; the group is the first
 * place of the message, accepted or restricted (text output marks a
 * restricted one). */
static int
print_results(cor_store_t *st, GArray *rows, bool json)
{
    for (guint i = 0; i < rows->len; i++) {
        int64_t row = g_array_index(rows, int64_t, i);
        g_autoptr(cor_stored_message_t) m = NULL;
        if (cor_store_message_get(st, row, &m) != COR_OK)
            continue;
        g_autoptr(GPtrArray) groups = NULL;
        g_autoptr(GArray) threads = NULL, restricted = NULL;
        if (cor_store_message_places(st, row, &groups, &threads, &restricted) != COR_OK)
            return cli_error("%s", cor_store_error(st));
        const char *g = groups->len ? groups->pdata[0] : "";
        int64_t thread = threads->len ? g_array_index(threads, int64_t, 0) : 0;
        bool r = restricted->len && g_array_index(restricted, gboolean, 0);
        g_autofree char *label = !json && r ? g_strdup_printf("%s (restricted)", g) : g_strdup(g);
        cli_print_search_hit(m, label, thread, json);
    }
    return 0;
}

/* Search, record, optionally add; `kind` 'foi' or 'sar'. */
static int
case_search(cor_cli_t *cli, const char *kind, const char *ref, const char *query,
            const char *op, bool json, bool add)
{
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autofree char *err = NULL;
    g_autoptr(cor_case_t) check = NULL;
    if (cor_case_get_open(st, ref, &check, &err) != COR_OK)
        return cli_error("%s", err);
    g_autoptr(GArray) rows = NULL;
    int64_t bytes = 0;
    g_autofree char *index = cli_index_path(cli);
    if (cor_case_search(st, index, query, &rows, &bytes, &err) != COR_OK)
        return cli_error("%s", err);

    g_autofree char *opname = cor_records_operator(op);
    if (cor_records_begin(st, opname, cor_config_officers(cli->config), &err)
        != COR_OK)
        return cli_error("%s", err);
    g_autoptr(cor_case_t) c = NULL;
    int64_t query_id = 0;
    cor_case_add_result_t res = { 0 };
    g_autofree char *action = g_strconcat(kind, ".search", NULL);
    cor_status_t s = cor_case_get_open(st, ref, &c, &err);
    if (s == COR_OK)
        s = cor_case_record_search(st, opname, c, kind, action, query, rows->len, bytes,
                                   &query_id, &err);
    if (s == COR_OK && add)
        s = cor_case_add(st, opname, c, kind, query, query_id, rows, &res, &err);
    if (s == COR_OK && (s = cor_store_commit(st)) != COR_OK)
        err = g_strdup_printf("cannot commit: %s", cor_store_error(st));
    if (s != COR_OK) {
        cor_store_rollback(st);
        return cli_error("%s", err ? err : cor_status_to_string(s));
    }

    int rc = print_results(st, rows, json);
    FILE *summary = json ? stderr : stdout;
    fprintf(summary, "%u message%s, %" G_GINT64_FORMAT " bytes (search #%" G_GINT64_FORMAT
            " recorded for case %s)\n", rows->len, rows->len == 1 ? "" : "s", bytes, query_id, ref);
    if (add)
        fprintf(summary, "added %" G_GINT64_FORMAT " to case %s; the case has %" G_GINT64_FORMAT
                " message%s, %" G_GINT64_FORMAT " bytes\n", res.added, ref, res.total,
                res.total == 1 ? "" : "s", res.total_bytes);
    return rc;
}

/* Hides "-word" query terms from the option parser (as `corridor search`
 * does), in place; returns the new argv (free with g_free, strings owned
 * by `store`). */
static char **
protect_terms(int argc, char **argv, GPtrArray *store)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool term = i > 1 && a[0] == '-' && a[1] != '-' && a[1] != '\0' && a[2] != '\0';
        g_ptr_array_add(store, term ? g_strconcat("\x01", a, NULL) : g_strdup(a));
    }
    char **out = g_new0(char *, store->len + 1);
    memcpy(out, store->pdata, store->len * sizeof(char *));
    return out;
}

static void
unprotect_terms(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '\x01')
            memmove(argv[i], argv[i] + 1, strlen(argv[i]));
}

int
cmd_foi(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *ref = NULL, *op = NULL;
    gboolean json = FALSE, add = FALSE;
    GOptionEntry entries[] = {
        { "case", 0, 0, G_OPTION_ARG_STRING, &ref, "the case the search is for", "REF" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "one JSON object per line, as corridor search",
          NULL },
        { "add", 0, 0, G_OPTION_ARG_NONE, &add, "also add the results to the case", NULL },
        { "operator", 0, 0, G_OPTION_ARG_STRING, &op, "who is acting (default: the login user)",
          "NAME" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "search --case REF QUERY... - search every group for an FOI/EIR case");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "The query language of corridor search (docs/search.md), over every group:\n"
        "private groups and restricted posts included.  The query, its count and the\n"
        "total size are recorded for the case and in the audit trail.");
    g_autoptr(GPtrArray) store = g_ptr_array_new_with_free_func(g_free);
    g_autofree char **pargv = protect_terms(argc, argv, store);
    int pargc = argc;
    if (!cli_parse(ctx, &pargc, &pargv))
        return 2;
    unprotect_terms(pargc, pargv);
    if (pargc < 3 || strcmp(pargv[1], "search") != 0 || !ref)
        return cli_error("usage: corridor foi search --case REF [--operator NAME] [--json] [--add]"
                         " QUERY");
    g_autofree char *query = g_strjoinv(" ", pargv + 2);
    return case_search(cli, "foi", ref, query, op, json, add);
}

int
cmd_sar(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *ref = NULL, *op = NULL, *person = NULL;
    g_auto(GStrv) names = NULL;
    gboolean json = FALSE, add = FALSE;
    GOptionEntry entries[] = {
        { "case", 0, 0, G_OPTION_ARG_STRING, &ref, "the case the search is for", "REF" },
        { "person", 0, 0, G_OPTION_ARG_STRING, &person,
          "the data subject's address (default: the case's person)", "ADDRESS" },
        { "name", 0, 0, G_OPTION_ARG_STRING_ARRAY, &names,
          "a name the person is known by (repeat for more)", "\"Full Name\"" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "one JSON object per line, as corridor search",
          NULL },
        { "add", 0, 0, G_OPTION_ARG_NONE, &add, "also add the results to the case", NULL },
        { "operator", 0, 0, G_OPTION_ARG_STRING, &op, "who is acting (default: the login user)",
          "NAME" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "search --case REF --person ADDRESS [--name NAME]... - everything about a person");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Finds every message from, to or cc the person, or mentioning their address or any\n"
        "name given, in every group (private and restricted included).  The query used is\n"
        "printed and recorded for the case and in the audit trail.");
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2 || strcmp(argv[1], "search") != 0 || !ref)
        return cli_error("usage: corridor sar search --case REF --person ADDRESS"
                         " [--name \"Full Name\"]... [--json] [--add]");
    if (!person) {
        cor_store_t *st = cli_store(cli, false);
        if (!st)
            return 1;
        g_autoptr(cor_case_t) c = NULL;
        g_autofree char *err = NULL;
        if (cor_case_get(st, ref, &c, &err) != COR_OK)
            return cli_error("%s", err);
        if (!*c->person)
            return cli_error("case '%s' names no person: give --person ADDRESS", ref);
        person = g_strdup(c->person);
    }
    if (!strchr(person, '@') || strchr(person, '"'))
        return cli_error("bad --person '%s' (an email address)", person);
    g_autofree char *query = cor_case_sar_query(person, (const char *const *) names);
    fprintf(json ? stderr : stdout, "query: %s\n", query);
    return case_search(cli, "sar", ref, query, op, json, add);
}
