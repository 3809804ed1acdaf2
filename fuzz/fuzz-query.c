/* fuzz/fuzz-query.c — the search query parser (core/search/query.cc behind
 * core/search/search.h), and the snippets made from a query's matches.
 *
 * Input: the query, then optionally a NUL byte and a text to make a snippet
 * of.  A small index (eight documents in two groups, one restricted) is
 * built once in a temporary folder.
 *
 * Invariants (search.h):
 *   1. cor_search_check_query accepts the query or fails with
 *      COR_ERR_QUERY and "position N: ..." (1 <= N <= length + 1) or
 *      "empty query"; never another status, never an exception;
 *   2. running the query agrees with the check: a query the check accepts
 *      runs (COR_OK), one it refuses fails with COR_ERR_QUERY — scoped to a
 *      group, to no group and across all groups;
 *   3. results are documents of the index (docids 1..8), each once, no more
 *      than the limit; a scoped search never returns the restricted one;
 *   4. snippets are valid UTF-8; the HTML one has no '<' but those of
 *      <mark> and </mark>, balanced, and no raw '>' '"' '\'' or '&' that
 *      does not start an entity; the plain one has no control characters.
 */
#include "fuzz/fuzz.h"

#include "core/search/search.h"

static cor_search_db_t *db;

static const char *const g_planning[] = { "planning" };
static const char *const g_private[] = { "!private" };
static const char *const names_a[] = { "budget.xlsx", "minutes 2025.pdf" };
static const uint64_t t1[] = { 1 }, t2[] = { 2 };

static const cor_search_doc_t docs[] = {
    { 1, "a1@example.com", "Budget for 2025", "Ann Clerk <ann@council.example.gov.uk>",
      "planning@lists.example.gov.uk", "", 1735732800, "The budget draft is attached.",
      "> older text\n> about roads", "Ann\nClerk", "", names_a, 2, g_planning, 1, t1, 1 },
    { 2, "a2@example.com", "Re: Budget for 2025", "Bob <bob@example.org>", "ann@council.example.gov.uk",
      "carol@example.net", 1735819200, "Looks fine; roads need more.", "> The budget draft",
      "", "", NULL, 0, g_planning, 1, t1, 1 },
    { 3, "a3@example.com", "Bin collections \xe2\x80\x94 caf\xc3\xa9 week",
      "=?utf-8?q?Caf=C3=A9?= <cafe@example.com>", "", "", 1700000000,
      "Na\xc3\xafve r\xc3\xa9sum\xc3\xa9 of the bins schedule", "", "", "diff --git a/x b/x\n+bins",
      NULL, 0, g_planning, 1, t2, 1 },
    { 4, "a4@example.com", "OFFICIAL-SENSITIVE: staff matter", "hr@council.example.gov.uk", "", "",
      1710000000, "Restricted text about a person.", "", "", "", NULL, 0, g_private, 1, t2, 1 },
    { 5, "a5@example.com", "", "", "", "", 0, "", "", "", "", NULL, 0, g_planning, 1, t2, 1 },
    { 6, "a6@example.com", "Library hours & <opening>", "lib@example.com", "", "", 1720000000,
      "Opening \"hours\" are 9\xe2\x80\x93" "5 & it's <fine>.", "", "", "", NULL, 0, g_planning, 1, t1, 1 },
    { 7, "a7@example.com", "roads roads roads", "x@example.com", "", "", 1600000000,
      "road roads roading roaded", "", "", "", NULL, 0, g_planning, 1, t2, 1 },
    { 8, "a8@example.com", "numbers 12345 2025-03-01", "y@example.com", "", "", 1740787200,
      "date:2025 from:me subject:(x) \"quoted\" NOT AND OR", "", "", "", NULL, 0, g_planning, 1, t1, 1 },
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_setup();
    g_autofree char *dir = g_build_filename(fuzz_tmp_dir(), "index", NULL);
    cor_search_writer_t *w = NULL;
    g_autofree char *err = NULL;
    if (cor_search_writer_open(dir, &w, &err) != COR_OK) {
        fprintf(stderr, "fuzz-query: index: %s\n", err);
        abort();
    }
    for (size_t i = 0; i < G_N_ELEMENTS(docs); i++) {
        cor_search_prepared_t *p = NULL;
        if (cor_search_prepare(&docs[i], &p, &err) != COR_OK ||
            cor_search_writer_add(w, p) != COR_OK) {
            fprintf(stderr, "fuzz-query: document %zu: %s\n", i, err ? err : cor_search_writer_error(w));
            abort();
        }
    }
    if (cor_search_writer_close(w) != COR_OK || cor_search_db_open(dir, &db, &err) != COR_OK) {
        fprintf(stderr, "fuzz-query: open: %s\n", err ? err : "");
        abort();
    }
    return 0;
}

/* Invariant 4, for the HTML snippet. */
static void
check_snippet_html(const char *s)
{
    FUZZ_CHECK(fuzz_utf8(s), "snippet not UTF-8");
    int open = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '<') {
            if (g_str_has_prefix(p, "<mark>")) {
                FUZZ_CHECK(open == 0, "nested <mark> in '%s'", s);
                open = 1;
                p += 5;
            } else if (g_str_has_prefix(p, "</mark>")) {
                FUZZ_CHECK(open == 1, "</mark> without <mark> in '%s'", s);
                open = 0;
                p += 6;
            } else {
                FUZZ_CHECK(false, "raw '<' in snippet '%s'", s);
            }
        } else if (*p == '&') {
            FUZZ_CHECK(g_str_has_prefix(p, "&amp;") || g_str_has_prefix(p, "&lt;") ||
                           g_str_has_prefix(p, "&gt;") || g_str_has_prefix(p, "&quot;") ||
                           g_str_has_prefix(p, "&#39;") || g_str_has_prefix(p, "&#x27;") ||
                           g_str_has_prefix(p, "&apos;"),
                       "raw '&' in snippet '%s'", s);
        } else {
            FUZZ_CHECK(*p != '>' && *p != '"' && *p != '\'', "raw '%c' in snippet '%s'", *p, s);
        }
    }
    FUZZ_CHECK(open == 0, "unclosed <mark> in '%s'", s);
}

static void
run(const char *query, bool ok, const char *const *groups, size_t n_groups, bool all,
    const char *text, size_t text_len)
{
    cor_search_query_t q = {
        .query = query, .groups = groups, .n_groups = n_groups, .all_groups = all,
        .sort = (cor_search_sort_t) (text_len % 3), .limit = 5, .now = 1740787200,
    };
    cor_search_results_t *r = NULL;
    cor_status_t s = cor_search_run(db, &q, &r);
    if (!ok) {
        FUZZ_CHECK(s == COR_ERR_QUERY, "check refused '%s', run gave %s", query,
                   cor_status_to_string(s));
        cor_search_results_free(r);
        return;
    }
    FUZZ_CHECK(s == COR_OK, "check accepted '%s', run gave %s: %s", query, cor_status_to_string(s),
               cor_search_db_error(db));
    bool seen[G_N_ELEMENTS(docs) + 1] = { false };
    size_t n = 0;
    for (; cor_search_results_valid(r); cor_search_results_next(r)) {
        uint64_t id = cor_search_results_docid(r);
        FUZZ_CHECK(id >= 1 && id <= G_N_ELEMENTS(docs), "docid %" G_GUINT64_FORMAT, id);
        FUZZ_CHECK(!seen[id], "docid %" G_GUINT64_FORMAT " twice", id);
        seen[id] = true;
        FUZZ_CHECK(all || id != 4, "a scoped search found the restricted document");
        n++;
    }
    FUZZ_CHECK(n <= 5, "%zu results, limit 5", n);
    if (text) {
        g_autofree char *h = cor_search_results_snippet(r, text, text_len, 1 + text_len % 200);
        FUZZ_CHECK(h != NULL, "no snippet");
        check_snippet_html(h);
        g_autofree char *t = cor_search_results_snippet_text(r, text, text_len, 1 + text_len % 200);
        FUZZ_CHECK(t && fuzz_utf8(t) && fuzz_no_controls(t, NULL), "plain snippet '%s'", t ? t : "");
    }
    cor_search_results_free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *pieces[2];
    size_t lens[2];
    size_t n = fuzz_split(data, size, '\0', 2, pieces, lens);
    const char *query = pieces[0];
    const char *text = n > 1 ? pieces[1] : NULL;

    g_autofree char *err = NULL;
    cor_status_t s = cor_search_check_query(query, &err);
    bool ok = s == COR_OK;
    if (!ok) {
        FUZZ_CHECK(s == COR_ERR_QUERY, "check gave %s", cor_status_to_string(s));
        FUZZ_CHECK(err != NULL, "no error text");
        /* the error quotes the query: UTF-8 when the query is (the HTTP
         * endpoint refuses a query that is not) */
        if (g_utf8_validate(query, -1, NULL))
            FUZZ_CHECK(fuzz_utf8(err), "error text not UTF-8");
        unsigned long pos = 0;
        if (strcmp(err, "empty query") != 0) {
            FUZZ_CHECK(sscanf(err, "position %lu: ", &pos) == 1 && g_str_has_prefix(err, "position "),
                       "error '%s' names no position", err);
            FUZZ_CHECK(pos >= 1 && pos <= lens[0] + 1, "position %lu in a query of %zu bytes: %s",
                       pos, lens[0], err);
        }
    } else {
        FUZZ_CHECK(err == NULL, "accepted with an error text");
    }
    run(query, ok, g_planning, 1, false, text, text ? lens[1] : 0);
    run(query, ok, NULL, 0, false, NULL, 0);
    run(query, ok, NULL, 0, true, text ? text : query, text ? lens[1] : lens[0]);
    fuzz_pieces_free(pieces, n);
    return 0;
}
