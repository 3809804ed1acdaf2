/* cli/cmd_search.c — `corridor search [options] QUERY...`.
 * Shows what staff may see (core/visibility), plus private groups of which
 * --as ADDRESS is a member.  One result per message. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/visibility.h"

int
cmd_search(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *group = NULL, *sort = NULL, *as = NULL;
    gint limit = -1, offset = 0;
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        { "group", 'g', 0, G_OPTION_ARG_STRING, &group, "Only this group", "NAME" },
        { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, "At most N results", "N" },
        { "offset", 0, 0, G_OPTION_ARG_INT, &offset, "Skip the first N results", "N" },
        { "sort", 0, 0, G_OPTION_ARG_STRING, &sort, "date (newest first, default), oldest or relevance", "ORDER" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object per line", NULL },
        { "as", 0, 0, G_OPTION_ARG_STRING, &as, "Search as this member (adds their private groups)", "ADDRESS" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("QUERY... - search messages");
    g_option_context_set_description(ctx,
        "Query language: words, \"phrases\", AND OR NOT -word ( ) word*,\n"
        "from:/f: to:/t: cc:/c: subject:/s: body:/b: q: nq: attachment:/n:\n"
        "has:attachment group:/g: id:/m: thread: date:/d: (YYYY-MM-DD, A..B, 7d).\n"
        "See docs/search.md.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    /* "-word" and "-from:x" are query terms (NOT), not options: hide them
     * from the option parser, in place, so the query keeps its order.  The
     * short options -g and -n (with their value apart) stay options. */
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool term = i > 0 && a[0] == '-' && a[1] != '-' && a[1] != '\0' && a[2] != '\0';
        g_ptr_array_add(args, term ? g_strconcat("\x01", a, NULL) : g_strdup(a));
    }
    /* the option parser moves pointers around: give it its own array */
    g_autofree char **pargv = g_new0(char *, args->len + 1);
    memcpy(pargv, args->pdata, args->len * sizeof(char *));
    int pargc = argc;
    if (!cli_parse(ctx, &pargc, &pargv))
        return 2;
    argc = pargc;
    argv = pargv;
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '\x01')
            memmove(argv[i], argv[i] + 1, strlen(argv[i]));
    if (argc < 2)
        return cli_error("usage: corridor search [--group NAME] [--limit N] [--sort date|relevance] [--json] QUERY");
    if (limit < -1 || offset < 0)
        return cli_error("--limit and --offset must not be negative");
    cor_search_sort_t order = COR_SEARCH_SORT_DATE_DESC;
    if (sort == NULL || strcmp(sort, "date") == 0 || strcmp(sort, "newest") == 0)
        order = COR_SEARCH_SORT_DATE_DESC;
    else if (strcmp(sort, "oldest") == 0)
        order = COR_SEARCH_SORT_DATE_ASC;
    else if (strcmp(sort, "relevance") == 0)
        order = COR_SEARCH_SORT_RELEVANCE;
    else
        return cli_error("invalid --sort '%s' (use date, oldest or relevance)", sort);

    g_autofree char *query = g_strjoinv(" ", argv + 1);
    g_autofree char *qerr = NULL;
    if (cor_search_check_query(query, &qerr) != COR_OK)
        return cli_error("malformed query: %s", qerr);

    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    cor_viewer_t viewer = { COR_VIEWER_STAFF, as };
    g_autoptr(GPtrArray) visible = NULL;
    if (cor_visibility_groups(st, &viewer, &visible) != COR_OK)
        return cli_error("%s", cor_store_error(st));
    if (group) {
        g_autoptr(cor_group_t) g = NULL;
        if (cor_store_group_get(st, group, &g) != COR_OK)
            return cli_error("%s", cor_store_error(st));
        bool ok = false;
        for (guint i = 0; i < visible->len; i++)
            ok |= strcmp(g_ptr_array_index(visible, i), group) == 0;
        if (!ok)
            return cli_error("group '%s' is private (use --as ADDRESS of a member)", group);
        g_ptr_array_set_size(visible, 0);
        g_ptr_array_add(visible, g_strdup(group));
    }

    g_autofree char *dir = cli_index_path(cli);
    g_autofree char *err = NULL;
    cor_search_db_t *db = NULL;
    cor_status_t s = cor_search_db_open(dir, &db, &err);
    if (s != COR_OK)
        return cli_error("cannot open index '%s': %s", dir, err);
    if (limit < 0)
        limit = (gint) cor_config_int(cli->config, "search", "default_limit");
    cor_search_query_t q = {
        .query = query,
        .groups = (const char *const *) visible->pdata,
        .n_groups = visible->len,
        .sort = order,
        .offset = (size_t) offset,
        .limit = (size_t) limit,
    };
    cor_search_results_t *r = NULL;
    s = cor_search_run(db, &q, &r);
    if (s != COR_OK) {
        int rc = cli_error("%s: %s", s == COR_ERR_QUERY ? "malformed query" : "search failed",
                           cor_search_db_error(db));
        cor_search_db_close(db);
        return rc;
    }
    int rc = 0;
    for (; cor_search_results_valid(r); cor_search_results_next(r)) {
        int64_t row = (int64_t) cor_search_results_docid(r);
        g_autoptr(cor_stored_message_t) m = NULL;
        if (cor_store_message_get(st, row, &m) != COR_OK)
            continue;   /* index ahead of a deleted message: skip */
        g_autoptr(GPtrArray) groups = NULL;
        g_autoptr(GArray) threads = NULL;
        if (cor_store_message_groups(st, row, &groups, &threads) != COR_OK) {
            rc = cli_error("%s", cor_store_error(st));
            break;
        }
        /* the first of the message's groups that the viewer may see */
        const char *gname = NULL;
        int64_t thread = 0;
        for (guint i = 0; i < groups->len && !gname; i++)
            for (guint j = 0; j < visible->len; j++)
                if (strcmp(g_ptr_array_index(groups, i), g_ptr_array_index(visible, j)) == 0) {
                    gname = g_ptr_array_index(groups, i);
                    thread = g_array_index(threads, int64_t, i);
                    break;
                }
        if (!gname)
            continue;
        cli_print_search_hit(m, gname, thread, json);
    }
    cor_search_results_free(r);
    cor_search_db_close(db);
    return rc;
}
