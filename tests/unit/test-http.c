/* Unit tests for archive-web/http.h's start-up checks and for the search
 * snippets it shows (cor_search_results_snippet*).  Requests themselves are
 * tested end to end by tests/T310-http.sh.
 *
 * The snippet index holds one document whose body is TEXT below; each case
 * searches it and makes a snippet of a given text.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "archive-web/http.h"
#include "core/search/search.h"

static char *tmp;
static cor_archive_t *archive;   /* borrowed by every listener; freed after them */

static const char *const GROUPS[] = { "planning" };
static const uint64_t THREADS[] = { 1 };

static cor_search_results_t *
search(cor_search_db_t *db, const char *query)
{
    cor_search_query_t q = { .query = query, .groups = GROUPS, .n_groups = 1 };
    cor_search_results_t *r = NULL;
    g_assert_cmpint(cor_search_run(db, &q, &r), ==, COR_OK);
    g_assert_true(cor_search_results_valid(r));
    return r;
}

static void
test_snippet(void)
{
    g_autofree char *dir = g_build_filename(tmp, "index", NULL);
    cor_search_writer_t *w = NULL;
    g_assert_cmpint(cor_search_writer_open(dir, &w, NULL), ==, COR_OK);
    cor_search_doc_t doc = {
        .docid = 1, .message_id = "a@b", .subject = "Caches", .from = "Alice <alice@example.org>",
        .date = 1109671200, .new_text = "The cache and caching; été.",
        .groups = GROUPS, .n_groups = 1, .thread_ids = THREADS, .n_thread_ids = 1,
    };
    cor_search_prepared_t *p = NULL;
    g_assert_cmpint(cor_search_prepare(&doc, &p, NULL), ==, COR_OK);
    g_assert_cmpint(cor_search_writer_add(w, p), ==, COR_OK);
    g_assert_cmpint(cor_search_writer_close(w), ==, COR_OK);
    cor_search_db_t *db = NULL;
    g_assert_cmpint(cor_search_db_open(dir, &db, NULL), ==, COR_OK);

    static const struct {
        const char *query, *text;
        int len;                 /* -1: strlen */
        const char *html, *plain;
    } cases[] = {
        /* stems marked, the rest escaped, quotes too */
        { "caching", "Caches & <b>tags</b> \"q\" 'a' caching", -1,
          "<mark>Caches</mark> &amp; &lt;b&gt;tags&lt;/b&gt; &quot;q&quot; &#39;a&#39; <mark>caching</mark>",
          "Caches & <b>tags</b> \"q\" 'a' caching" },
        /* white space and control characters become one space */
        { "cache", "one\n\n  two\t\x01three cache.\r\n", -1,
          "one two three <mark>cache</mark>.", "one two three cache." },
        /* no match: the start of the text, unmarked */
        { "cache", "Nothing to see here.", -1, "Nothing to see here.", "Nothing to see here." },
        /* a character cut at the end is dropped */
        { "cache", "cache \xc3\xa9t\xc3\xa9", 9, "<mark>cache</mark> \xc3\xa9t",
          "cache \xc3\xa9t" },
        /* a phrase query marks the phrase */
        { "\"cache and\"", "The cache and more.", -1,
          "The <mark>cache and</mark> more.", "The cache and more." },
        /* an empty text */
        { "cache", "", -1, "", "" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        cor_search_results_t *r = search(db, cases[i].query);
        size_t len = cases[i].len < 0 ? strlen(cases[i].text) : (size_t) cases[i].len;
        g_autofree char *html = cor_search_results_snippet(r, cases[i].text, len, 240);
        g_autofree char *plain = cor_search_results_snippet_text(r, cases[i].text, len, 240);
        g_assert_cmpstr(html, ==, cases[i].html);
        g_assert_cmpstr(plain, ==, cases[i].plain);
        cor_search_results_free(r);
    }

    /* a long text: about max_chars around the match, "…" where cut */
    GString *long_text = g_string_new(NULL);
    for (int i = 0; i < 200; i++)
        g_string_append(long_text, "word ");
    g_string_append(long_text, "caching ");
    for (int i = 0; i < 200; i++)
        g_string_append(long_text, "more ");
    cor_search_results_t *r = search(db, "cache");
    g_autofree char *html = cor_search_results_snippet(r, long_text->str, long_text->len, 100);
    g_assert_nonnull(strstr(html, "<mark>caching</mark>"));
    g_assert_true(g_str_has_prefix(html, "\xe2\x80\xa6"));
    g_assert_true(g_str_has_suffix(html, "\xe2\x80\xa6"));
    g_assert_cmpuint(strlen(html), <, 200);
    g_assert_null(cor_search_results_snippet(NULL, "x", 1, 10));
    cor_search_results_free(r);
    g_string_free(long_text, TRUE);
    cor_search_db_close(db);
}

/* A listener with `listen` and the config file text `conf` (NULL: none). */
static cor_status_t
start(const char *listen, const char *conf, cor_http_t **out, char **err)
{
    g_autoptr(cor_config_t) cfg = NULL;
    g_autofree char *path = NULL;
    if (conf) {
        path = g_build_filename(tmp, "corridor.conf", NULL);
        g_assert_true(g_file_set_contents(path, conf, -1, NULL));
    }
    g_assert_cmpint(cor_config_load(path, false, &cfg, NULL), ==, COR_OK);
    g_autofree char *store = g_build_filename(tmp, "corridor.db", NULL);
    g_autofree char *index = g_build_filename(tmp, "index", NULL);
    cor_http_options_t o = { .listen = listen, .store_path = store, .index_path = index,
                             .config = cfg, .archive = archive };
    /* the configuration is read during the call only */
    return cor_http_start(&o, out, err);
}

static void
test_start_errors(void)
{
    static const struct {
        const char *listen, *conf;
        cor_status_t status;
        const char *message;
    } cases[] = {
        { "127.0.0.1", NULL, COR_ERR_CONFIG, "listen address '127.0.0.1': expected HOST:PORT" },
        { "127.0.0.1:99999", NULL, COR_ERR_CONFIG, "listen address '127.0.0.1:99999': bad port '99999'" },
        { "127.0.0.1:", NULL, COR_ERR_CONFIG, "listen address '127.0.0.1:': bad port ''" },
        { "::1:8080", NULL, COR_ERR_CONFIG,
          "listen address '::1:8080': put an IPv6 address in brackets ([::1]:8080)" },
        { "www.example.org:80", NULL, COR_ERR_CONFIG,
          "listen address 'www.example.org:80': 'www.example.org' is not an IP address" },
        { "[127.0.0.1]:80", NULL, COR_ERR_CONFIG,
          "listen address '[127.0.0.1]:80': '[127.0.0.1]' is not an IP address" },
        { "127.0.0.1:0", "[http]\ntrusted_proxies = 10.0.0.1, proxy.example.org\n", COR_ERR_CONFIG,
          "[http] trusted_proxies: 'proxy.example.org' is not an IP address" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        cor_http_t *h = NULL;
        g_autofree char *err = NULL;
        g_assert_cmpint(start(cases[i].listen, cases[i].conf, &h, &err), ==, cases[i].status);
        g_assert_null(h);
        g_assert_cmpstr(err, ==, cases[i].message);
    }
}

static void
test_port_in_use(void)
{
    /* a port held by a socket of ours */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    g_assert_cmpint(bind(fd, (struct sockaddr *) &a, sizeof a), ==, 0);
    g_assert_cmpint(listen(fd, 1), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *) &a, &len), ==, 0);
    g_autofree char *listen_at = g_strdup_printf("127.0.0.1:%d", ntohs(a.sin_port));
    cor_http_t *h = NULL;
    g_autofree char *err = NULL;
    g_assert_cmpint(start(listen_at, NULL, &h, &err), ==, COR_ERR_IO);
    g_autofree char *want = g_strdup_printf("cannot listen for HTTP on '%s': %s", listen_at,
                                            g_strerror(EADDRINUSE));
    g_assert_true(g_str_has_prefix(err, want));
    close(fd);
}

static void
test_any_port(void)
{
    cor_http_t *h = NULL, *h2 = NULL;
    g_autofree char *err = NULL;
    g_assert_cmpint(start("127.0.0.1:0", NULL, &h, &err), ==, COR_OK);
    int port = cor_http_port(h);
    g_assert_cmpint(port, >, 0);
    /* the same port again: taken */
    g_autofree char *again = g_strdup_printf("localhost:%d", port);
    g_autofree char *err2 = NULL;
    g_assert_cmpint(start(again, NULL, &h2, &err2), ==, COR_ERR_IO);
    cor_http_stop(h);
    cor_http_stop(NULL);
    /* and free once stopped */
    g_autofree char *err3 = NULL;
    g_assert_cmpint(start(again, NULL, &h2, &err3), ==, COR_OK);
    g_assert_cmpint(cor_http_port(h2), ==, port);
    cor_http_stop(h2);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmp = g_dir_make_tmp("corridor-test-http-XXXXXX", NULL);
    cor_archive_options_t ao = { .state_dir = tmp };
    g_autofree char *err = NULL;
    if (cor_archive_open(&ao, &archive, &err) != COR_OK)
        g_error("cannot open the archive: %s", err);
    g_test_add_func("/http/snippet", test_snippet);
    g_test_add_func("/http/start-errors", test_start_errors);
    g_test_add_func("/http/port-in-use", test_port_in_use);
    g_test_add_func("/http/any-port", test_any_port);
    int rc = g_test_run();
    cor_archive_free(archive);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        rc = 1;
    g_free(tmp);
    return rc;
}
