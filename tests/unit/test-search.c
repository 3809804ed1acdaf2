/* Unit tests for core/search, through the C API only.
 *
 * A small index is built once in a temporary directory from the ten
 * hand-made documents of FIXTURE below; each test is a table of queries with
 * the exact docids they must return.  The time zone is Europe/London (set in
 * main before anything reads it), so date bounds cross GMT/BST, and "now"
 * for relative dates is fixed at NOW.
 *
 * The fixture at a glance (local time; 1..3 in GMT, the rest in BST):
 *   1  2005-03-01 10:00  planning   Alice Smith      "Planning meeting agenda"
 *   2  2005-03-02 09:00  planning   Bob Jones        "Re: Planning meeting agenda" (cc Carol)
 *   3  2005-03-02 23:30  finance    Carol White      "Budget 2005"  (attachment)
 *   4  2005-06-02 00:30  waste      Ralf Baechle     "Bins collection"  (23:30 UTC on 06-01)
 *   5  2005-06-01 23:30  planning+waste  "Smith, Alice"  "Road closure"
 *   6  2004-12-24 12:00  hr         Dave Brown       "Holiday rota"  (2 attachments)
 *   7  2005-06-10 09:00  waste      Bob Jones        "Re: Bins collection" (cc Ralf)
 *   8  2005-07-01 13:00  planning   Erin Clark       "Minutes"
 *   9  2005-07-14 21:00  emergency  Frank Hall       "Urgent: flooding"  (yesterday)
 *  10  2005-07-15 09:00  emergency  Frank Hall       "Flood update" (cc Alice; today)
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/search/search.h"

#define NOW ((int64_t) 1121428800)   /* 2005-07-15 12:00 UTC = 13:00 BST */

static const char *const G_PLANNING[] = { "planning" };
static const char *const G_FINANCE[] = { "finance" };
static const char *const G_WASTE[] = { "waste" };
static const char *const G_PLANNING_WASTE[] = { "planning", "waste" };
static const char *const G_HR[] = { "hr" };
static const char *const G_EMERGENCY[] = { "emergency" };
static const char *const G_PLANNING_EMERGENCY[] = { "planning", "emergency" };
static const char *const G_NOSUCH[] = { "nosuch" };
static const uint64_t T101[] = { 101 }, T201[] = { 201 }, T301[] = { 301 },
                      T102_302[] = { 102, 302 }, T401[] = { 401 }, T103[] = { 103 },
                      T501[] = { 501 };
static const char *const A3[] = { "budget-2005.xls" };
static const char *const A6[] = { "rota.pdf", "notes.txt" };

#define LIST(a) a, G_N_ELEMENTS(a)

static const cor_search_doc_t FIXTURE[] = {
    { .docid = 1, .message_id = "20050301100000.1@example.org",
      .subject = "Planning meeting agenda", .from = "Alice Smith <alice@example.org>",
      .to = "Planning Group <planning@lists.example.gov.uk>", .date = 1109671200,
      .new_text = "We planned the new road layout near the school.",
      .signature = "Alice Smith, Highways",
      .groups = LIST(G_PLANNING), .thread_ids = LIST(T101) },
    { .docid = 2, .message_id = "20050302090000.2@example.org",
      .subject = "Re: Planning meeting agenda", .from = "Bob Jones <bob@example.org>",
      .to = "planning@lists.example.gov.uk", .cc = "Carol White <carol@example.net>",
      .date = 1109754000, .new_text = "I agree with the layout.",
      .quoted_text = "We planned the new road layout near the school.",
      .groups = LIST(G_PLANNING), .thread_ids = LIST(T101) },
    { .docid = 3, .message_id = "budget.3@example.net", .subject = "Budget 2005",
      .from = "Carol White <carol@example.net>", .to = "finance@lists.example.gov.uk",
      .date = 1109806200, .new_text = "The budget spreadsheet is attached.",
      .attachment_text = "total spend forecast", .attachment_names = LIST(A3),
      .groups = LIST(G_FINANCE), .thread_ids = LIST(T201) },
    { .docid = 4, .message_id = "bins.4@linux-mips.org", .subject = "Bins collection",
      .from = "Ralf Baechle <ralf@linux-mips.org>", .to = "waste@lists.example.gov.uk",
      .date = 1117668600, .new_text = "Collection moves to Tuesday.",
      .groups = LIST(G_WASTE), .thread_ids = LIST(T301) },
    { .docid = 5, .message_id = "road.5@example.org", .subject = "Road closure",
      .from = "\"Smith, Alice\" <alice@example.org>",
      .to = "planning@lists.example.gov.uk, waste@lists.example.gov.uk",
      .date = 1117665000, .new_text = "The high street closes for resurfacing.",
      .groups = LIST(G_PLANNING_WASTE), .thread_ids = LIST(T102_302) },
    { .docid = 6, .message_id = "rota.6@example.org", .subject = "Holiday rota",
      .from = "Dave Brown <dave@example.org>", .to = "hr@lists.example.gov.uk",
      .date = 1103889600,
      .new_text = "Please fill in the holiday rota spreadsheet. The rota is on the "
                  "shared drive; the rota changes weekly.",
      .attachment_names = LIST(A6), .groups = LIST(G_HR), .thread_ids = LIST(T401) },
    { .docid = 7, .message_id = "CAF=7+x@mail.example.com", .subject = "Re: Bins collection",
      .from = "Bob Jones <bob@example.org>", .to = "waste@lists.example.gov.uk",
      .cc = "Ralf Baechle <ralf@linux-mips.org>", .date = 1118390400,
      .new_text = "Thanks, noted.", .quoted_text = "Collection moves to Tuesday.",
      .groups = LIST(G_WASTE), .thread_ids = LIST(T301) },
    { .docid = 8, .message_id = "minutes.8@example.com", .subject = "Minutes",
      .from = "Erin Clark <erin@example.com>", .to = "planning@lists.example.gov.uk",
      .date = 1120219200,
      .new_text = "Minutes of the planning committee: see http://example.com/minutes",
      .signature = "Erin Clark, Democratic Services",
      .groups = LIST(G_PLANNING), .thread_ids = LIST(T103) },
    { .docid = 9, .message_id = "flood.9@example.org", .subject = "Urgent: flooding",
      .from = "Frank Hall <frank@example.org>", .to = "emergency@lists.example.gov.uk",
      .date = 1121371200, .new_text = "Flooding on the ring road.",
      .groups = LIST(G_EMERGENCY), .thread_ids = LIST(T501) },
    { .docid = 10, .message_id = "flood.10@example.org", .subject = "Flood update",
      .from = "Frank Hall <frank@example.org>", .to = "emergency@lists.example.gov.uk",
      .cc = "Alice Smith <alice@example.org>", .date = 1121414400,
      .new_text = "Water levels are falling.", .quoted_text = "Flooding on the ring road.",
      .groups = LIST(G_EMERGENCY), .thread_ids = LIST(T501) },
};

static char *tmp_root;      /* the test's temporary directory */
static char *fixture_dir;   /* the shared index, read-only after main builds it */

/* ---- helpers ---- */

static char *
new_dir(const char *name)
{
    return g_build_filename(tmp_root, name, NULL);
}

static void
add_doc(cor_search_writer_t *w, const cor_search_doc_t *doc)
{
    cor_search_prepared_t *p = NULL;
    char *err = NULL;
    cor_status_t st = cor_search_prepare(doc, &p, &err);
    g_assert_cmpstr(err, ==, NULL);
    g_assert_cmpint(st, ==, COR_OK);
    st = cor_search_writer_add(w, p);
    if (st != COR_OK)
        g_test_message("add: %s", cor_search_writer_error(w));
    g_assert_cmpint(st, ==, COR_OK);
}

static void
build_index(const char *dir)
{
    cor_search_writer_t *w = NULL;
    char *err = NULL;
    g_assert_cmpint(cor_search_writer_open(dir, &w, &err), ==, COR_OK);
    g_assert_null(err);
    for (size_t i = 0; i < G_N_ELEMENTS(FIXTURE); i++)
        add_doc(w, &FIXTURE[i]);
    g_assert_cmpint(cor_search_writer_close(w), ==, COR_OK);
}

static cor_search_db_t *
open_db(const char *dir)
{
    cor_search_db_t *db = NULL;
    char *err = NULL;
    cor_status_t st = cor_search_db_open(dir, &db, &err);
    if (st != COR_OK)
        g_test_message("open: %s", err);
    g_assert_cmpint(st, ==, COR_OK);
    g_assert_null(err);
    return db;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

/* Runs `q` and returns "query => 1,2,3" (sorted when !ordered), so a
 * failed comparison shows the query. */
static char *
run_query(cor_search_db_t *db, const cor_search_query_t *q, bool ordered)
{
    cor_search_results_t *r = NULL;
    cor_status_t st = cor_search_run(db, q, &r);
    if (st != COR_OK)
        return g_strdup_printf("%s => error %s: %s", q->query, cor_status_to_string(st),
                               cor_search_db_error(db));
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    for (; cor_search_results_valid(r); cor_search_results_next(r)) {
        uint64_t id = cor_search_results_docid(r);
        g_array_append_val(ids, id);
    }
    cor_search_results_free(r);
    if (!ordered && ids->len > 1)
        qsort(ids->data, ids->len, sizeof(uint64_t), cmp_u64);
    GString *s = g_string_new(q->query);
    g_string_append(s, " =>");
    for (guint i = 0; i < ids->len; i++)
        g_string_append_printf(s, "%s%" G_GUINT64_FORMAT, i ? "," : " ",
                               g_array_index(ids, uint64_t, i));
    g_array_free(ids, TRUE);
    return g_string_free(s, FALSE);
}

/* A query with its expected docids, written as the string run_query gives. */
typedef struct {
    const char *query;
    const char *expect;   /* "1,2,3" (ascending), "" for none */
} qcase_t;

static void
check_cases(const qcase_t *cases, size_t n)
{
    cor_search_db_t *db = open_db(fixture_dir);
    for (size_t i = 0; i < n; i++) {
        cor_search_query_t q = { .query = cases[i].query, .all_groups = true, .now = NOW };
        char *got = run_query(db, &q, false);
        char *want = g_strdup_printf("%s =>%s%s", cases[i].query,
                                     *cases[i].expect ? " " : "", cases[i].expect);
        g_assert_cmpstr(got, ==, want);
        g_free(got);
        g_free(want);
    }
    cor_search_db_close(db);
}

#define CHECK(cases) check_cases(cases, G_N_ELEMENTS(cases))

/* ---- free text ---- */

static void
test_bare_words(void)
{
    static const qcase_t cases[] = {
        { "layout", "1,2" },             /* new text, and quoted text of 2 */
        { "spreadsheet", "3,6" },
        { "agenda", "1,2" },             /* subject only */
        { "highways", "1" },             /* signature */
        { "forecast", "3" },             /* attachment text */
        { "alice", "1" },                /* bare words do not search from/to/cc */
        { "LAYOUT", "1,2" },             /* case-insensitive */
        { "nosuchword", "" },
        { "*", "1,2,3,4,5,6,7,8,9,10" },
        { "http://example.com/minutes", "8" },   /* a URL is a word, not a prefix */
        { "Re:", "2,7" },                /* not [a-z]+: so not a prefix */
        { "road & layout", "1,2" },      /* a punctuation-only word is left out */
    };
    CHECK(cases);
}

static void
test_phrases(void)
{
    static const qcase_t cases[] = {
        { "\"road layout\"", "1,2" },
        { "\"layout road\"", "" },
        { "\"ring road\"", "9,10" },
        { "\"school alice\"", "" },      /* no phrase across two parts */
        { "\"meeting agenda\"", "1,2" },
        { "subject:\"meeting agenda\"", "1,2" },
        { "s:\"agenda meeting\"", "" },
    };
    CHECK(cases);
}

/* English stemming (STEM_SOME, as notmuch): lowercase words are stemmed,
 * capitalised and quoted words are not. */
static void
test_stemming(void)
{
    static const qcase_t cases[] = {
        { "planning", "1,2,8" },         /* plan: Planning, planned, planning */
        { "planned", "1,2,8" },
        { "plans", "1,2,8" },
        { "\"planned\"", "1,2" },        /* exact word */
        { "Planning", "1,2,8" },         /* exact word "planning" */
        { "flooding", "9,10" },          /* flood: flooding, Flood */
        { "\"flood\"", "10" },
        { "closes", "5" },
        { "\"closure\"", "5" },
    };
    CHECK(cases);
}

static void
test_operators(void)
{
    static const qcase_t cases[] = {
        { "road", "1,2,5,9,10" },
        { "road AND layout", "1,2" },
        { "road layout", "1,2" },                      /* implicit AND */
        { "road and layout", "1,2" },
        { "layout OR spreadsheet", "1,2,3,6" },
        { "layout or spreadsheet", "1,2,3,6" },
        { "road NOT layout", "5,9,10" },
        { "road AND NOT layout", "5,9,10" },
        { "road not layout", "5,9,10" },
        { "road -layout", "5,9,10" },
        { "-road", "3,4,6,7,8" },                      /* everything except */
        { "NOT road", "3,4,6,7,8" },
        { "* NOT road", "3,4,6,7,8" },
        { "+layout", "1,2" },
        { "(layout OR spreadsheet) AND budget", "3" },
        { "layout OR spreadsheet AND budget", "1,2,3" }, /* AND binds tighter */
        { "layout OR spreadsheet budget", "1,2,3" },
        { "-(road OR spreadsheet)", "4,7,8" },
        { "road -(layout OR flooding)", "5" },
        { "(road)", "1,2,5,9,10" },
        { "((road) OR (budget))", "1,2,3,5,9,10" },
        { "layout OR -road", "1,2,3,4,6,7,8" },
        { "NOT NOT layout", "1,2" },
    };
    CHECK(cases);
}

static void
test_wildcards(void)
{
    static const qcase_t cases[] = {
        { "spread*", "3,6" },
        { "flood*", "9,10" },
        { "resurf*", "5" },
        { "from:bob*", "2,7" },
        { "from:ral*", "4" },
        { "subject:bin*", "4,7" },
        { "zzz*", "" },
    };
    CHECK(cases);
}

/* ---- prefixes ---- */

static void
test_address_prefixes(void)
{
    static const qcase_t cases[] = {
        { "from:alice", "1,5" },
        { "f:alice", "1,5" },
        { "from:alice@example.org", "1,5" },
        { "from:ralf@linux-mips.org", "4" },         /* phrase of the address parts */
        { "from:\"Alice Smith\"", "1" },             /* 5 is "Smith, Alice" */
        { "from:\"Smith Alice\"", "1,5" },         /* 1: Alice Smith alice@... */
        { "from:linux-mips.org", "4" },
        { "from:example.org", "1,2,5,6,7,9,10" },
        { "to:planning", "1,2,5,8" },
        { "t:waste", "4,5,7" },
        { "to:carol", "2" },                         /* to: includes Cc, as notmuch */
        { "to:ralf", "7" },
        { "cc:carol", "2" },
        { "c:alice", "10" },
        { "cc:planning", "" },
        { "to:\"lists example gov\"", "1,2,3,4,5,6,7,8,9,10" },
        { "to:\"uk waste\"", "" },                   /* no phrase across addresses */
    };
    CHECK(cases);
}

static void
test_text_prefixes(void)
{
    static const qcase_t cases[] = {
        { "subject:bins", "4,7" },
        { "s:road", "5" },
        { "subject:layout", "" },
        { "body:layout", "1,2" },
        { "b:layout", "1,2" },
        { "body:agenda", "" },          /* body excludes the subject */
        { "b:highways", "1" },          /* signature */
        { "body:forecast", "3" },       /* attachment text */
        { "body:\"road layout\"", "1,2" },
        { "q:layout", "2" },
        { "nq:layout", "1,2" },
        { "q:tuesday", "7" },
        { "nq:tuesday", "4" },
        { "q:\"ring road\"", "10" },
        { "nq:\"ring road\"", "9" },
        { "attachment:rota", "6" },
        { "n:budget", "3" },
        { "attachment:pdf", "6" },
        { "attachment:notes.txt", "6" },
        { "attachment:budget-2005.xls", "3" },
        { "attachment:forecast", "" },  /* text, not a file name */
        { "has:attachment", "3,6" },
        { "-has:attachment", "1,2,4,5,7,8,9,10" },
        { "subject:(bins OR road)", "4,5,7" },
        { "from:(alice OR ralf) AND -subject:road", "1,4" },
    };
    CHECK(cases);
}

static void
test_boolean_prefixes(void)
{
    static const qcase_t cases[] = {
        { "group:planning", "1,2,5,8" },
        { "g:waste", "4,5,7" },
        { "group:Planning", "" },                        /* exact */
        { "group:plan", "" },
        { "group:planning group:waste", "5" },
        { "group:(finance OR hr)", "3,6" },
        { "thread:301", "4,7" },
        { "thread:302", "5" },
        { "thread:101 OR thread:201", "1,2,3" },
        { "thread:999", "" },
        { "id:20050301100000.1@example.org", "1" },
        { "id:<20050301100000.1@example.org>", "1" },
        { "m:CAF=7+x@mail.example.com", "7" },
        { "mid:<CAF=7+x@mail.example.com>", "7" },
        { "id:\"budget.3@example.net\"", "3" },
        { "id:budget.3", "" },                           /* exact, not a word */
        { "id:caf=7+x@mail.example.com", "" },           /* case matters */
        { "road group:emergency", "9,10" },
    };
    CHECK(cases);
}

/* ---- dates (TZ=Europe/London, now = 2005-07-15 13:00 BST) ---- */

static void
test_dates(void)
{
    static const qcase_t cases[] = {
        { "date:2005-03-01", "1" },
        { "date:2005-03-02", "2,3" },          /* 3 is at 23:30 GMT */
        { "date:20050302", "2,3" },
        { "d:2005-03-01..2005-03-02", "1,2,3" },
        { "date:2005-03", "1,2,3" },
        { "date:2005", "1,2,3,4,5,7,8,9,10" },
        { "date:2004", "6" },
        { "date:2004..2005-03-01", "1,6" },
        { "date:2005-06..", "4,5,7,8,9,10" },
        { "date:..2005-03-01", "1,6" },
        { "d:2005-07", "8,9,10" },
        { "date:2005-02", "" },
        { "date:2005-03-02..2005-03-01", "" },  /* empty range */
        /* relative to now */
        { "date:today", "10" },
        { "date:yesterday", "9" },
        { "date:0d", "10" },
        { "date:1d", "9,10" },
        { "date:1w", "9,10" },                 /* from 2005-07-08 */
        { "date:2w", "8,9,10" },               /* from 2005-07-01 00:00 */
        { "date:1m", "8,9,10" },               /* from 2005-06-15 */
        { "date:2m", "4,5,7,8,9,10" },         /* from 2005-05-15 */
        { "date:1y", "1,2,3,4,5,6,7,8,9,10" }, /* from 2004-07-15 */
        { "date:2w..1w", "8" },                /* 07-01 .. 07-08 inclusive */
        { "date:6w..2w", "7,8" },              /* 06-03 .. 07-01 inclusive */
        { "date:1w..", "9,10" },
        { "date:..2m", "1,2,3,6" },            /* up to the end of 05-15 */
        { "date:yesterday..today", "9,10" },
        { "date:2005 AND road", "1,2,5,9,10" },
        { "date:(2004 OR 2005-07)", "6,8,9,10" },
    };
    CHECK(cases);
}

/* Message 4 was sent at 2005-06-01 23:30 UTC: in London (BST) that is
 * 00:30 on 2 June; message 5 at 22:30 UTC is 23:30 on 1 June. */
static void
test_date_time_zone(void)
{
    static const qcase_t cases[] = {
        { "date:2005-06-01", "5" },
        { "date:2005-06-02", "4" },
        { "date:2005-06-01..2005-06-02", "4,5" },
        { "date:..2005-06-01", "1,2,3,5,6" },
        { "date:2005-06-02..", "4,7,8,9,10" },
    };
    CHECK(cases);
}

/* ---- scoping, sorting, paging, counting ---- */

static void
test_group_scoping(void)
{
    static const struct {
        const char *const *groups;
        size_t n;
        bool all;
        const char *expect;
        uint64_t count;
    } cases[] = {
        { G_PLANNING, 1, false, "road => 1,2,5", 3 },
        { G_PLANNING_EMERGENCY, 2, false, "road => 1,2,5,9,10", 5 },
        { NULL, 0, false, "road =>", 0 },                      /* no group: nothing */
        { NULL, 0, true, "road => 1,2,5,9,10", 5 },
        { G_HR, 1, true, "road => 1,2,5,9,10", 5 },            /* all_groups ignores */
        { G_NOSUCH, 1, false, "road =>", 0 },
        { G_WASTE, 1, false, "road => 5", 1 },
    };
    cor_search_db_t *db = open_db(fixture_dir);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        cor_search_query_t q = { .query = "road", .groups = cases[i].groups,
                                 .n_groups = cases[i].n, .all_groups = cases[i].all,
                                 .now = NOW };
        char *got = run_query(db, &q, false);
        g_assert_cmpstr(got, ==, cases[i].expect);
        g_free(got);
        uint64_t n = 99;
        g_assert_cmpint(cor_search_count(db, &q, &n), ==, COR_OK);
        g_assert_cmpuint(n, ==, cases[i].count);
    }
    /* a malformed query is reported even when no group is visible */
    cor_search_query_t bad = { .query = "foo:bar", .n_groups = 0 };
    cor_search_results_t *r = NULL;
    g_assert_cmpint(cor_search_run(db, &bad, &r), ==, COR_ERR_QUERY);
    g_assert_null(r);
    cor_search_db_close(db);
}

static void
test_sorting(void)
{
    static const struct {
        const char *query;
        cor_search_sort_t sort;
        size_t offset, limit;
        const char *expect;
    } cases[] = {
        { "road", COR_SEARCH_SORT_DATE_DESC, 0, 0, "road => 10,9,5,2,1" },
        { "road", COR_SEARCH_SORT_DATE_ASC, 0, 0, "road => 1,2,5,9,10" },
        { "*", COR_SEARCH_SORT_DATE_DESC, 0, 0, "* => 10,9,8,7,4,5,3,2,1,6" },
        { "*", COR_SEARCH_SORT_DATE_ASC, 0, 0, "* => 6,1,2,3,5,4,7,8,9,10" },
        { "*", COR_SEARCH_SORT_DATE_DESC, 0, 3, "* => 10,9,8" },
        { "*", COR_SEARCH_SORT_DATE_DESC, 2, 3, "* => 8,7,4" },
        { "*", COR_SEARCH_SORT_DATE_DESC, 9, 5, "* => 6" },
        { "*", COR_SEARCH_SORT_DATE_DESC, 20, 5, "* =>" },
        /* 6 has rota three times and spreadsheet; 3 only spreadsheet */
        { "rota OR spreadsheet", COR_SEARCH_SORT_RELEVANCE, 0, 0, "rota OR spreadsheet => 6,3" },
        { "rota OR spreadsheet", COR_SEARCH_SORT_DATE_DESC, 0, 0, "rota OR spreadsheet => 3,6" },
        /* equal weights: newest first */
        { "group:planning", COR_SEARCH_SORT_RELEVANCE, 0, 0, "group:planning => 8,5,2,1" },
    };
    cor_search_db_t *db = open_db(fixture_dir);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        cor_search_query_t q = { .query = cases[i].query, .all_groups = true,
                                 .sort = cases[i].sort, .offset = cases[i].offset,
                                 .limit = cases[i].limit, .now = NOW };
        char *got = run_query(db, &q, true);
        g_assert_cmpstr(got, ==, cases[i].expect);
        g_free(got);
    }
    /* the total is the number of matches, not of the page */
    cor_search_query_t q = { .query = "*", .all_groups = true, .limit = 3 };
    cor_search_results_t *r = NULL;
    g_assert_cmpint(cor_search_run(db, &q, &r), ==, COR_OK);
    g_assert_cmpuint(cor_search_results_total(r), ==, 10);
    cor_search_results_free(r);
    cor_search_db_close(db);
}

static void
test_count(void)
{
    static const struct { const char *query; uint64_t n; } cases[] = {
        { "*", 10 }, { "road", 5 }, { "group:planning", 4 }, { "nosuchword", 0 },
        { "date:2005-03", 3 }, { "-road", 5 },
    };
    cor_search_db_t *db = open_db(fixture_dir);
    g_assert_cmpuint(cor_search_db_count(db), ==, 10);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        cor_search_query_t q = { .query = cases[i].query, .all_groups = true, .now = NOW };
        uint64_t n = 99;
        g_assert_cmpint(cor_search_count(db, &q, &n), ==, COR_OK);
        g_assert_cmpuint(n, ==, cases[i].n);
    }
    cor_search_db_close(db);
}

/* ---- malformed queries ---- */

static void
test_malformed(void)
{
    static const struct { const char *query; const char *error; } cases[] = {
        { "", "empty query" },
        { "   ", "empty query" },
        { "foo:bar", "position 1: unknown prefix 'foo:'" },
        { "road foo:bar", "position 6: unknown prefix 'foo:'" },
        { "café foo:x", "position 6: unknown prefix 'foo:'" },   /* characters, not bytes */
        { "re: hello", "position 1: unknown prefix 're:'" },
        { "(road OR layout", "position 16: missing ')'" },
        { "((road)", "position 8: missing ')'" },
        { "(", "position 2: missing ')'" },
        { "road)", "position 5: unexpected ')'" },
        { "()", "position 1: empty parentheses" },
        { "\"road layout", "position 1: unterminated quote" },
        { "from:\"alice", "position 6: unterminated quote" },
        { "date:yesterdy", "position 6: bad date 'yesterdy'" },
        { "road date:yesterdy", "position 11: bad date 'yesterdy'" },
        { "date:2005-13", "position 6: bad date '2005-13'" },
        { "date:2005-02-30", "position 6: bad date '2005-02-30'" },
        { "date:2005..2006x", "position 12: bad date '2006x'" },
        { "date:..", "position 6: bad date '..'" },
        { "date:3x", "position 6: bad date '3x'" },
        { "road AND", "position 6: 'AND' needs a term on each side" },
        { "AND road", "position 1: 'AND' needs a term on each side" },
        { "road and", "position 6: 'and' needs a term on each side" },
        { "road OR", "position 6: 'OR' needs a term on each side" },
        { "road AND OR x", "position 6: 'AND' needs a term on each side" },
        { "(road OR) x", "position 7: 'OR' needs a term on each side" },
        { "road NOT", "position 6: 'NOT' needs a term after it" },
        { "from:", "position 1: 'from:' needs a value" },
        { "road from: x", "position 6: 'from:' needs a value" },
        { "thread:abc", "position 8: bad thread id 'abc'" },
        { "has:pdf", "position 5: unknown value 'pdf' for 'has:' (try has:attachment)" },
        { "id:<>", "position 1: 'id:' needs a value" },
    };
    cor_search_db_t *db = open_db(fixture_dir);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *err = NULL;
        g_assert_cmpint(cor_search_check_query(cases[i].query, &err), ==, COR_ERR_QUERY);
        g_assert_cmpstr(err, ==, cases[i].error);
        g_free(err);
        /* the same through a search, with the text kept in the handle */
        cor_search_query_t q = { .query = cases[i].query, .all_groups = true, .now = NOW };
        cor_search_results_t *r = NULL;
        g_assert_cmpint(cor_search_run(db, &q, &r), ==, COR_ERR_QUERY);
        g_assert_null(r);
        g_assert_cmpstr(cor_search_db_error(db), ==, cases[i].error);
        uint64_t n = 99;
        g_assert_cmpint(cor_search_count(db, &q, &n), ==, COR_ERR_QUERY);
        g_assert_cmpuint(n, ==, 0);
    }
    static const char *const good[] = {
        "from:bob* AND (x OR y)", "http://x", "-x", "a -", "date:2005..", "*",
        "subject:(a b) OR g:x", "\"a phrase\" -\"another one\"", "id:<a@b>",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        char *err = NULL;
        g_assert_cmpint(cor_search_check_query(good[i], &err), ==, COR_OK);
        g_assert_null(err);
    }
    cor_search_db_close(db);
}

/* ---- writing ---- */

static void
test_replace_delete_clear(void)
{
    char *dir = new_dir("mutate");
    build_index(dir);

    cor_search_writer_t *w = NULL;
    char *err = NULL;
    g_assert_cmpint(cor_search_writer_open(dir, &w, &err), ==, COR_OK);
    /* adding the same documents again changes nothing */
    for (size_t i = 0; i < G_N_ELEMENTS(FIXTURE); i++)
        add_doc(w, &FIXTURE[i]);
    g_assert_cmpint(cor_search_writer_commit(w), ==, COR_OK);

    cor_search_db_t *db = open_db(dir);
    g_assert_cmpuint(cor_search_db_count(db), ==, 10);
    cor_search_query_t q = { .query = "agenda", .all_groups = true };
    char *got = run_query(db, &q, false);
    g_assert_cmpstr(got, ==, "agenda => 1,2");
    g_free(got);

    /* replacing by docid: the old terms go */
    cor_search_doc_t changed = FIXTURE[0];
    changed.subject = "Revised topic";
    add_doc(w, &changed);
    g_assert_cmpint(cor_search_writer_commit(w), ==, COR_OK);
    g_assert_cmpuint(cor_search_db_count(db), ==, 10);   /* the reader sees the commit */
    got = run_query(db, &q, false);
    g_assert_cmpstr(got, ==, "agenda => 2");
    g_free(got);
    q.query = "revised";
    got = run_query(db, &q, false);
    g_assert_cmpstr(got, ==, "revised => 1");
    g_free(got);

    /* uncommitted changes are not visible */
    g_assert_cmpint(cor_search_writer_delete(w, 3), ==, COR_OK);
    q.query = "spreadsheet";
    got = run_query(db, &q, false);
    g_assert_cmpstr(got, ==, "spreadsheet => 3,6");
    g_free(got);
    g_assert_cmpint(cor_search_writer_commit(w), ==, COR_OK);
    got = run_query(db, &q, false);
    g_assert_cmpstr(got, ==, "spreadsheet => 6");
    g_free(got);
    g_assert_cmpuint(cor_search_db_count(db), ==, 9);
    /* deleting what is not there is fine */
    g_assert_cmpint(cor_search_writer_delete(w, 3), ==, COR_OK);
    g_assert_cmpint(cor_search_writer_delete(w, 999), ==, COR_OK);

    g_assert_cmpint(cor_search_writer_clear(w), ==, COR_OK);
    g_assert_cmpint(cor_search_writer_commit(w), ==, COR_OK);
    g_assert_cmpuint(cor_search_db_count(db), ==, 0);
    /* and the cleared index takes documents again */
    add_doc(w, &FIXTURE[5]);
    g_assert_cmpint(cor_search_writer_close(w), ==, COR_OK);
    got = run_query(db, &q, false);
    g_assert_cmpstr(got, ==, "spreadsheet => 6");
    g_free(got);
    g_assert_cmpuint(cor_search_db_count(db), ==, 1);
    cor_search_db_close(db);
    g_free(dir);
}

static void
test_bad_documents(void)
{
    /* docid 0 may be prepared (placed later by add_at), but not added there */
    cor_search_doc_t doc = { .docid = 0, .subject = "x" };
    cor_search_prepared_t *p = NULL;
    char *err = NULL;
    g_assert_cmpint(cor_search_prepare(&doc, &p, &err), ==, COR_OK);
    g_assert_nonnull(p);
    g_assert_null(err);
    char *pdir = new_dir("place");
    cor_search_writer_t *pw = NULL;
    g_assert_cmpint(cor_search_writer_open(pdir, &pw, NULL), ==, COR_OK);
    g_assert_cmpint(cor_search_writer_add_at(pw, p, 0, NULL, 0, NULL, 0), ==, COR_ERR_INVALID);
    g_assert_cmpint(cor_search_prepare(&doc, &p, NULL), ==, COR_OK);
    g_assert_cmpint(cor_search_writer_add(pw, p), ==, COR_ERR_INVALID);   /* needs add_at */
    g_assert_cmpint(cor_search_writer_close(pw), ==, COR_OK);
    g_free(pdir);

    /* an empty document, and one with an over-long Message-ID */
    char *dir = new_dir("odd");
    cor_search_writer_t *w = NULL;
    g_assert_cmpint(cor_search_writer_open(dir, &w, NULL), ==, COR_OK);
    cor_search_doc_t empty = { .docid = 1 };
    add_doc(w, &empty);
    GString *id = g_string_new(NULL);
    for (int i = 0; i < 60; i++)
        g_string_append(id, "long.");
    g_string_append(id, "@example.org");
    cor_search_doc_t longid = { .docid = 2, .message_id = id->str, .subject = "long" };
    add_doc(w, &longid);
    g_assert_cmpint(cor_search_writer_close(w), ==, COR_OK);

    cor_search_db_t *db = open_db(dir);
    char *query = g_strdup_printf("id:<%s>", id->str);
    cor_search_query_t q = { .query = query, .all_groups = true };
    char *got = run_query(db, &q, false);
    char *want = g_strdup_printf("%s => 2", query);
    g_assert_cmpstr(got, ==, want);
    g_free(got);
    g_free(want);
    g_free(query);
    cor_search_db_close(db);
    g_string_free(id, TRUE);
    g_free(dir);
}

static void
test_writer_busy(void)
{
    char *dir = new_dir("busy");
    cor_search_writer_t *w1 = NULL, *w2 = NULL;
    char *err = NULL;
    g_assert_cmpint(cor_search_writer_open(dir, &w1, &err), ==, COR_OK);
    g_assert_cmpint(cor_search_writer_open(dir, &w2, &err), ==, COR_ERR_BUSY);
    g_assert_null(w2);
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err, "locked"));
    g_free(err);
    /* a reader is not blocked by the writer */
    cor_search_db_t *db = open_db(dir);
    g_assert_cmpuint(cor_search_db_count(db), ==, 0);
    cor_search_db_close(db);
    g_assert_cmpint(cor_search_writer_close(w1), ==, COR_OK);
    /* the lock is free again */
    g_assert_cmpint(cor_search_writer_open(dir, &w2, NULL), ==, COR_OK);
    g_assert_cmpint(cor_search_writer_close(w2), ==, COR_OK);
    g_assert_cmpint(cor_search_writer_close(NULL), ==, COR_OK);
    g_free(dir);
}

static void
test_missing_db(void)
{
    char *dir = new_dir("does-not-exist");
    cor_search_db_t *db = (cor_search_db_t *) dir;   /* must be reset */
    char *err = NULL;
    g_assert_cmpint(cor_search_db_open(dir, &db, &err), ==, COR_ERR_NOT_FOUND);
    g_assert_null(db);
    g_assert_nonnull(err);
    g_free(err);
    /* an empty directory is not an index either */
    g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
    g_assert_cmpint(cor_search_db_open(dir, &db, NULL), ==, COR_ERR_NOT_FOUND);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
    g_free(dir);
}

/* cor_search_prepare from several threads at once, the writer adding. */
#define N_THREADS 4
#define PER_THREAD 250

static gpointer
prepare_thread(gpointer data)
{
    size_t t = GPOINTER_TO_SIZE(data);
    GPtrArray *out = g_ptr_array_new();
    for (size_t i = 0; i < PER_THREAD; i++) {
        cor_search_doc_t doc = FIXTURE[i % G_N_ELEMENTS(FIXTURE)];
        doc.docid = 1 + t * PER_THREAD + i;
        cor_search_prepared_t *p = NULL;
        if (cor_search_prepare(&doc, &p, NULL) == COR_OK)
            g_ptr_array_add(out, p);
    }
    return out;
}

static void
test_parallel_prepare(void)
{
    GThread *threads[N_THREADS];
    for (size_t t = 0; t < N_THREADS; t++)
        threads[t] = g_thread_new("prepare", prepare_thread, GSIZE_TO_POINTER(t));
    char *dir = new_dir("parallel");
    cor_search_writer_t *w = NULL;
    g_assert_cmpint(cor_search_writer_open(dir, &w, NULL), ==, COR_OK);
    for (size_t t = 0; t < N_THREADS; t++) {
        GPtrArray *ps = g_thread_join(threads[t]);
        g_assert_cmpuint(ps->len, ==, PER_THREAD);
        for (guint i = 0; i < ps->len; i++)
            g_assert_cmpint(cor_search_writer_add(w, ps->pdata[i]), ==, COR_OK);
        g_ptr_array_free(ps, TRUE);
    }
    g_assert_cmpint(cor_search_writer_close(w), ==, COR_OK);
    cor_search_db_t *db = open_db(dir);
    g_assert_cmpuint(cor_search_db_count(db), ==, N_THREADS * PER_THREAD);
    cor_search_query_t q = { .query = "\"road layout\"", .all_groups = true };
    uint64_t n = 0;
    g_assert_cmpint(cor_search_count(db, &q, &n), ==, COR_OK);
    g_assert_cmpuint(n, ==, 2 * N_THREADS * PER_THREAD / G_N_ELEMENTS(FIXTURE));
    cor_search_db_close(db);
    g_free(dir);
}

static void
remove_tree(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    if (d) {
        const char *name;
        while ((name = g_dir_read_name(d))) {
            char *child = g_build_filename(path, name, NULL);
            remove_tree(child);
            g_free(child);
        }
        g_dir_close(d);
    }
    g_remove(path);
}

/* A restricted place ("!group", search.h): the message is found by officers
 * (all_groups) and by `group:`, never by a search scoped to the searcher's
 * groups — and placing it again as accepted makes it visible. */
static void
test_restricted_places(void)
{
    g_autofree char *dir = new_dir("restricted");
    cor_search_writer_t *w = NULL;
    char *err = NULL;
    g_assert_cmpint(cor_search_writer_open(dir, &w, &err), ==, COR_OK);
    cor_search_doc_t doc = {
        .message_id = "marked@council.test", .subject = "Case review for Flat 4",
        .from = "Raj <raj@council.test>", .date = NOW - 100, .new_text = "tenant details",
    };
    cor_search_prepared_t *p = NULL;
    g_assert_cmpint(cor_search_prepare(&doc, &p, &err), ==, COR_OK);
    const char *const places[] = { "!hr", "planning" };
    const uint64_t threads[] = { 7, 8 };
    g_assert_cmpint(cor_search_writer_add_at(w, p, 5, places, 2, threads, 2), ==, COR_OK);
    doc.message_id = "open@council.test";
    doc.subject = "Flat 4 repairs";
    g_assert_cmpint(cor_search_prepare(&doc, &p, &err), ==, COR_OK);
    g_assert_cmpint(cor_search_writer_add_at(w, p, 6, G_HR, 1, T101, 1), ==, COR_OK);
    g_assert_cmpint(cor_search_writer_close(w), ==, COR_OK);

    cor_search_db_t *db = open_db(dir);
    struct { const char *query; const char *const *groups; size_t n; bool all; const char *want; } cases[] = {
        { "flat", G_HR, 1, false, "flat => 6" },               /* hr member: not the restricted one */
        { "flat", G_PLANNING, 1, false, "flat => 5" },         /* visible in planning */
        { "flat", NULL, 0, true, "flat => 5,6" },              /* officer */
        { "group:hr", NULL, 0, true, "group:hr => 5,6" },      /* officer, by group */
        { "group:hr", G_HR, 1, false, "group:hr => 6" },
        { "thread:7", NULL, 0, true, "thread:7 => 5" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        cor_search_query_t q = { .query = cases[i].query, .groups = cases[i].groups,
                                 .n_groups = cases[i].n, .all_groups = cases[i].all, .now = NOW };
        g_autofree char *got = run_query(db, &q, false);
        g_assert_cmpstr(got, ==, cases[i].want);
    }
    cor_search_db_close(db);

    /* approved or re-placed as accepted: visible to hr */
    g_assert_cmpint(cor_search_writer_open(dir, &w, &err), ==, COR_OK);
    g_assert_cmpint(cor_search_writer_relocate(w, 5, G_HR, 1, threads, 1), ==, COR_OK);
    g_assert_cmpint(cor_search_writer_close(w), ==, COR_OK);
    db = open_db(dir);
    cor_search_query_t q = { .query = "flat", .groups = G_HR, .n_groups = 1, .now = NOW };
    g_autofree char *got = run_query(db, &q, false);
    g_assert_cmpstr(got, ==, "flat => 5,6");
    cor_search_db_close(db);
}

int
main(int argc, char **argv)
{
    /* before anything reads the time zone */
    g_setenv("TZ", "Europe/London", TRUE);
    tzset();
    g_test_init(&argc, &argv, NULL);

    tmp_root = g_dir_make_tmp("test-search-XXXXXX", NULL);
    g_assert_nonnull(tmp_root);
    fixture_dir = new_dir("fixture");
    build_index(fixture_dir);

    g_test_add_func("/search/bare-words", test_bare_words);
    g_test_add_func("/search/phrases", test_phrases);
    g_test_add_func("/search/stemming", test_stemming);
    g_test_add_func("/search/operators", test_operators);
    g_test_add_func("/search/wildcards", test_wildcards);
    g_test_add_func("/search/address-prefixes", test_address_prefixes);
    g_test_add_func("/search/text-prefixes", test_text_prefixes);
    g_test_add_func("/search/boolean-prefixes", test_boolean_prefixes);
    g_test_add_func("/search/dates", test_dates);
    g_test_add_func("/search/date-time-zone", test_date_time_zone);
    g_test_add_func("/search/group-scoping", test_group_scoping);
    g_test_add_func("/search/sorting", test_sorting);
    g_test_add_func("/search/count", test_count);
    g_test_add_func("/search/malformed", test_malformed);
    g_test_add_func("/search/replace-delete-clear", test_replace_delete_clear);
    g_test_add_func("/search/bad-documents", test_bad_documents);
    g_test_add_func("/search/writer-busy", test_writer_busy);
    g_test_add_func("/search/missing-db", test_missing_db);
    g_test_add_func("/search/parallel-prepare", test_parallel_prepare);
    g_test_add_func("/search/restricted-places", test_restricted_places);
    int rc = g_test_run();

    remove_tree(tmp_root);
    g_free(fixture_dir);
    g_free(tmp_root);
    return rc;
}
