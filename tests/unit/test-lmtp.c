/* Unit tests for mta-bridge/lmtp: the LMTP state machine, bytes in and
 * replies out, without sockets.  Every reply code the issue lists, dot
 * handling, limits, pipelining, and byte-at-a-time input. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "core/store_internal.h"
#include "mta-bridge/lmtp.h"

static bool
exists(const char *name, void *data)
{
    return strcmp(name, "planning") == 0 || strcmp(name, "x-request") == 0 ||
           strcmp(name, "tmp") == 0;
}

static cor_status_t
resolve(const char *local, const char *domain, cor_lmtp_rcpt_t *r, void *data)
{
    if (strcmp(domain, "other.test") == 0)
        return COR_ERR_BAD_DOMAIN;
    cor_status_t s = cor_lmtp_split_local(local, exists, NULL, &r->group, &r->kind, &r->detail);
    if (s == COR_OK)
        r->group_id = 1;
    return s;
}

static const cor_lmtp_limits_t limits = { 1000, 3, 200 };

static cor_lmtp_session_t *
new_session(void)
{
    return cor_lmtp_session_new("T1", "lists.test", &limits, resolve, NULL);
}

/* All output so far, consumed. */
static char *
take_output(cor_lmtp_session_t *s)
{
    size_t len;
    const char *o = cor_lmtp_session_output(s, &len);
    char *r = g_strndup(o, len);
    cor_lmtp_session_consume(s, len);
    return r;
}

/* Feeds `in` and returns the replies (greeting dropped first). */
static char *
talk(cor_lmtp_session_t *s, const char *in)
{
    cor_lmtp_session_feed(s, in, strlen(in));
    return take_output(s);
}

static void
assert_has(const char *out, const char *want)
{
    if (!strstr(out, want))
        g_error("expected '%s' in:\n%s", want, out);
}

static cor_lmtp_session_t *
ready(void)
{
    cor_lmtp_session_t *s = new_session();
    g_autofree char *greet = take_output(s);
    g_assert_true(g_str_has_prefix(greet, "220 lists.test "));
    g_autofree char *o = talk(s, "LHLO mta.test\r\n");
    assert_has(o, "250-lists.test\r\n");
    assert_has(o, "250-PIPELINING\r\n");
    assert_has(o, "250-ENHANCEDSTATUSCODES\r\n");
    assert_has(o, "250-8BITMIME\r\n");
    assert_has(o, "250 SIZE 1000\r\n");
    return s;
}

static void
test_sequence(void)
{
    cor_lmtp_session_t *s = new_session();
    g_free(take_output(s));
    g_autofree char *o1 = talk(s, "MAIL FROM:<a@b>\r\n");
    assert_has(o1, "503 5.5.1 ");
    g_autofree char *o2 = talk(s, "LHLO x\r\nRCPT TO:<planning@lists.test>\r\n");
    assert_has(o2, "503 5.5.1 ");
    g_autofree char *o3 = talk(s, "DATA\r\n");
    assert_has(o3, "503 5.5.1 ");
    g_autofree char *o4 = talk(s, "MAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\n");
    assert_has(o4, "250 2.1.0 ");
    assert_has(o4, "503 5.5.1 bad sequence of commands: nested");
    g_autofree char *o5 = talk(s, "RCPT TO:<nobody@lists.test>\r\nDATA\r\n");
    assert_has(o5, "550 5.1.1 ");
    assert_has(o5, "503 5.5.1 bad sequence of commands: no valid recipients");
    g_autofree char *o6 = talk(s, "HELO x\r\nEHLO x\r\n");
    assert_has(o6, "500 5.5.2 ");
    cor_lmtp_session_free(s);
}

static void
test_syntax(void)
{
    cor_lmtp_session_t *s = ready();
    g_autofree char *o1 = talk(s, "MAIL <a@b>\r\n");
    assert_has(o1, "501 5.5.4 ");
    g_autofree char *o2 = talk(s, "FROB\r\n");
    assert_has(o2, "500 5.5.2 ");
    g_autofree char *o3 = talk(s, "MAIL FROM:<a@b> SIZE=abc\r\n");
    assert_has(o3, "501 5.5.4 ");
    g_autofree char *o4 = talk(s, "MAIL FROM:<a@b> FROB=1\r\n");
    assert_has(o4, "555 5.5.4 ");
    g_autofree char *o5 = talk(s, "MAIL FROM:<a@b> BODY=BINARYMIME\r\n");
    assert_has(o5, "555 5.5.4 ");
    g_autofree char *o6 = talk(s, "MAIL FROM:<a@b> SIZE=1001\r\n");
    assert_has(o6, "552 5.3.4 ");
    g_autofree char *o7 = talk(s, "MAIL FROM:<> SIZE=999 BODY=8BITMIME\r\nRCPT TO:<>\r\nRCPT TO:<planning@lists.test> NOTIFY=NEVER\r\n");
    assert_has(o7, "250 2.1.0 ");
    assert_has(o7, "501 5.5.4 ");
    assert_has(o7, "555 5.5.4 ");
    g_autofree char *o8 = talk(s, "VRFY planning\r\nNOOP\r\nHELP\r\nSTARTTLS\r\nRSET\r\n");
    assert_has(o8, "252 2.0.0 ");
    assert_has(o8, "250 2.0.0 ok\r\n");
    assert_has(o8, "214 2.0.0 ");
    assert_has(o8, "502 5.5.1 ");
    cor_lmtp_session_feed(s, "\r\nNO\0OP\r\n", 9);
    g_autofree char *o9 = take_output(s);
    g_assert_cmpstr(o9, ==, "500 5.5.2 syntax error, command unrecognised: empty command\r\n"
                            "500 5.5.2 syntax error, command unrecognised: NUL byte in command\r\n");
    assert_has(o9, "500 5.5.2 ");
    g_autofree char *o10 = talk(s, "QUIT\r\nNOOP\r\n");
    assert_has(o10, "221 2.0.0 ");
    g_assert_null(strstr(o10, "250"));
    g_assert_cmpint(cor_lmtp_session_state(s), ==, COR_LMTP_CLOSED);
    cor_lmtp_session_free(s);
}

static void
test_recipients(void)
{
    cor_lmtp_session_t *s = ready();
    g_autofree char *o = talk(s,
        "MAIL FROM:<a@b>\r\n"
        "RCPT TO:<Planning@Lists.Test>\r\n"
        "RCPT TO:<planning@other.test>\r\n"
        "RCPT TO:<x-request@lists.test>\r\n"
        "RCPT TO:<planning-bounces+m=x.org@lists.test>\r\n"
        "RCPT TO:<planning-owner@lists.test>\r\n");
    assert_has(o, "550 5.1.2 ");
    assert_has(o, "452 4.5.3 ");
    g_autofree char *d = talk(s, "DATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n");
    g_assert_cmpint(cor_lmtp_session_state(s), ==, COR_LMTP_WAIT);
    g_autoptr(cor_lmtp_envelope_t) e = cor_lmtp_session_take(s);
    g_assert_cmpuint(e->rcpts->len, ==, 3);
    const cor_lmtp_rcpt_t *r0 = g_ptr_array_index(e->rcpts, 0);
    const cor_lmtp_rcpt_t *r1 = g_ptr_array_index(e->rcpts, 1);
    const cor_lmtp_rcpt_t *r2 = g_ptr_array_index(e->rcpts, 2);
    g_assert_cmpstr(r0->group, ==, "planning");
    g_assert_cmpint(r0->kind, ==, COR_RCPT_POST);
    g_assert_cmpstr(r0->address, ==, "Planning@Lists.Test");
    /* a group may be called x-request: the whole local part is tried first */
    g_assert_cmpstr(r1->group, ==, "x-request");
    g_assert_cmpint(r1->kind, ==, COR_RCPT_POST);
    g_assert_cmpstr(r2->group, ==, "planning");
    g_assert_cmpint(r2->kind, ==, COR_RCPT_BOUNCES);
    g_assert_cmpstr(r2->detail, ==, "m=x.org");
    cor_lmtp_session_free(s);
}

static void
test_split_local(void)
{
    static const struct { const char *local; cor_status_t s; const char *group; int kind; const char *detail; } cases[] = {
        { "planning", COR_OK, "planning", COR_RCPT_POST, "" },
        { "planning-request", COR_OK, "planning", COR_RCPT_REQUEST, "" },
        { "planning-owner", COR_OK, "planning", COR_RCPT_OWNER, "" },
        { "planning-bounces", COR_OK, "planning", COR_RCPT_BOUNCES, "" },
        { "planning-bounces+a=b.c", COR_OK, "planning", COR_RCPT_BOUNCES, "a=b.c" },
        { "x-request-request", COR_OK, "x-request", COR_RCPT_REQUEST, "" },
        { "planning+tag", COR_OK, "planning", COR_RCPT_POST, "tag" },
        { "planning-request+tag", COR_OK, "planning", COR_RCPT_REQUEST, "tag" },
        { "nobody+planning", COR_ERR_NO_GROUP, NULL, 0, NULL },
        { "nobody", COR_ERR_NO_GROUP, NULL, 0, NULL },
        { "nobody-request", COR_ERR_NO_GROUP, NULL, 0, NULL },
        { "-request", COR_ERR_NO_GROUP, NULL, 0, NULL },
        { "", COR_ERR_NO_GROUP, NULL, 0, NULL },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *g = NULL, *d = NULL;
        cor_rcpt_kind_t k = 0;
        cor_status_t s = cor_lmtp_split_local(cases[i].local, exists, NULL, &g, &k, &d);
        g_assert_cmpint(s, ==, cases[i].s);
        if (s == COR_OK) {
            g_assert_cmpstr(g, ==, cases[i].group);
            g_assert_cmpint(k, ==, cases[i].kind);
            g_assert_cmpstr(d, ==, cases[i].detail);
        }
        g_free(g);
        g_free(d);
    }
}

/* After the final dot: one reply per accepted recipient, in RCPT order, and
 * only when finish() gives the results; pipelined commands wait. */
static void
test_data_and_pipelining(void)
{
    cor_lmtp_session_t *s = ready();
    const char *in =
        "MAIL FROM:<a@b>\r\n"
        "RCPT TO:<planning@lists.test>\r\n"
        "RCPT TO:<nobody@lists.test>\r\n"
        "RCPT TO:<tmp@lists.test>\r\n"
        "DATA\r\n"
        "Subject: dots\r\n"
        "\r\n"
        "..leading dot\r\n"
        ".\n"
        "bare LF line\n"
        "\n.\n"
        "still data\r\n"
        ".\r\n"
        "NOOP\r\n"
        "QUIT\r\n";
    g_autofree char *o = talk(s, in);
    g_assert_cmpint(cor_lmtp_session_state(s), ==, COR_LMTP_WAIT);
    assert_has(o, "354 ");
    /* no reply to the message and nothing after it yet */
    g_assert_null(strstr(o, "221"));
    g_assert_null(strstr(o, "250 2.0.0"));
    g_autoptr(cor_lmtp_envelope_t) e = cor_lmtp_session_take(s);
    gsize len;
    const char *data = g_bytes_get_data(e->data, &len);
    g_autofree char *text = g_strndup(data, len);
    g_assert_cmpstr(text, ==, "Subject: dots\n\n.leading dot\n\nbare LF line\n\n\nstill data\n");
    g_assert_cmpuint(e->rcpts->len, ==, 2);
    cor_status_t results[] = { COR_OK, COR_ERR_STORE };
    const char *details[] = { "planning <m@x> stored", NULL };
    cor_lmtp_session_finish(s, results, details);
    cor_lmtp_session_feed(s, NULL, 0);
    g_autofree char *o2 = take_output(s);
    g_assert_cmpstr(o2, ==,
                    "250 2.0.0 ok: planning <m@x> stored\r\n"
                    "451 4.3.0 local error in processing\r\n"
                    "250 2.0.0 ok\r\n"
                    "221 2.0.0 lists.test closing connection\r\n");
    cor_lmtp_session_free(s);
}

/* The same dialogue one byte at a time gives the same replies. */
static void
test_byte_at_a_time(void)
{
    const char *in = "LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<planning@lists.test>\r\nDATA\r\n"
                     "a: b\r\n\r\nbody\r\n.\r\nQUIT\r\n";
    cor_lmtp_session_t *s = new_session();
    for (const char *p = in; *p; p++) {
        cor_lmtp_session_feed(s, p, 1);
        if (cor_lmtp_session_state(s) == COR_LMTP_WAIT) {
            cor_lmtp_envelope_free(cor_lmtp_session_take(s));
            cor_status_t ok = COR_OK;
            cor_lmtp_session_finish(s, &ok, NULL);
            cor_lmtp_session_feed(s, NULL, 0);
        }
    }
    g_autofree char *o = take_output(s);
    assert_has(o, "354 ");
    assert_has(o, "250 2.0.0 ok\r\n221 ");
    cor_lmtp_session_free(s);
}

static void
test_limits(void)
{
    cor_lmtp_session_t *s = ready();
    /* a message over max_message_size (1000): read to the end, 552 per recipient */
    GString *big = g_string_new("MAIL FROM:<a@b>\r\nRCPT TO:<planning@lists.test>\r\n"
                                "RCPT TO:<tmp@lists.test>\r\nDATA\r\n");
    for (int i = 0; i < 30; i++)
        g_string_append(big, "0123456789012345678901234567890123456789012345678\r\n");
    g_string_append(big, ".\r\nNOOP\r\n");
    g_autofree char *o = talk(s, big->str);
    g_string_free(big, TRUE);
    g_assert_cmpint(cor_lmtp_session_state(s), ==, COR_LMTP_READY);
    const char *p = strstr(o, "552 5.3.4 ");
    g_assert_nonnull(p);
    g_assert_nonnull(strstr(p + 1, "552 5.3.4 "));
    assert_has(o, "250 2.0.0 ok\r\n");

    /* a data line over max_line_length (200): 500 5.5.2 */
    GString *lng = g_string_new("MAIL FROM:<a@b>\r\nRCPT TO:<planning@lists.test>\r\nDATA\r\n");
    g_string_append(lng, "x: y\r\n\r\n");
    for (int i = 0; i < 300; i++)
        g_string_append_c(lng, 'z');
    g_string_append(lng, "\r\n.\r\n");
    g_autofree char *o2 = talk(s, lng->str);
    g_string_free(lng, TRUE);
    assert_has(o2, "500 5.5.2 line too long");

    /* an endless command line: one 500, then the next command works */
    GString *cmd = g_string_new("NOOP ");
    for (int i = 0; i < 10000; i++)
        g_string_append_c(cmd, 'a');
    g_autofree char *o3 = talk(s, cmd->str);
    assert_has(o3, "500 5.5.2 line too long");
    g_autofree char *o4 = talk(s, cmd->str);
    g_assert_cmpstr(o4, ==, "");
    g_autofree char *o5 = talk(s, "aaa\r\nNOOP\r\n");
    g_assert_cmpstr(o5, ==, "250 2.0.0 ok\r\n");
    g_string_free(cmd, TRUE);
    cor_lmtp_session_free(s);
}

/* An over-long data line whose CR ends one read and LF starts the next:
 * the final dot after it still ends the message. */
static void
test_long_line_cr_split(void)
{
    cor_lmtp_session_t *s = ready();
    g_free(talk(s, "MAIL FROM:<a@b>\r\nRCPT TO:<planning@lists.test>\r\nDATA\r\n"));
    GString *lng = g_string_new(NULL);
    for (int i = 0; i < 300; i++)
        g_string_append_c(lng, 'z');
    g_string_append(lng, "AAAA\r");
    g_free(talk(s, lng->str));
    g_string_free(lng, TRUE);
    g_autofree char *o = talk(s, "\n.\r\n");
    g_assert_cmpstr(o, ==, "500 5.5.2 line too long: the limit is 200 bytes per line\r\n");
    g_assert_cmpint(cor_lmtp_session_state(s), ==, COR_LMTP_READY);
    cor_lmtp_session_free(s);
}

/* Refused recipients followed by DATA do not count as errors, and a good
 * transaction forgives earlier errors (Postfix caches connections). */
static void
test_errors_forgiven(void)
{
    cor_lmtp_session_t *s = ready();
    for (int i = 0; i < 30; i++) {
        g_autofree char *o = talk(s, "MAIL FROM:<a@b>\r\nRCPT TO:<nobody@lists.test>\r\nDATA\r\nRSET\r\n");
        assert_has(o, "503 5.5.1 bad sequence of commands: no valid recipients");
    }
    g_assert_cmpint(cor_lmtp_session_state(s), ==, COR_LMTP_READY);
    cor_lmtp_session_free(s);
}

static void
test_too_many_errors(void)
{
    cor_lmtp_session_t *s = ready();
    GString *in = g_string_new(NULL);
    for (int i = 0; i < 30; i++)
        g_string_append(in, "BOGUS\r\n");
    g_autofree char *o = talk(s, in->str);
    g_string_free(in, TRUE);
    assert_has(o, "421 4.7.0 ");
    g_assert_cmpint(cor_lmtp_session_state(s), ==, COR_LMTP_CLOSED);
    cor_lmtp_session_free(s);
}

static void
test_abort(void)
{
    cor_lmtp_session_t *s = ready();
    g_autofree char *o = talk(s, "MAIL FROM:<a@b>\r\nRCPT TO:<planning@x>\r\nDATA\r\npart");
    cor_lmtp_session_abort(s, COR_ERR_TIMEOUT);
    g_autofree char *o2 = take_output(s);
    g_assert_cmpstr(o2, ==, "421 4.4.2 timeout, closing connection\r\n");
    g_assert_cmpint(cor_lmtp_session_state(s), ==, COR_LMTP_CLOSED);
    cor_lmtp_session_free(s);
}

/* 1,000 pipelined commands in one write: 1,000 replies in order. */
static void
test_thousand_pipelined(void)
{
    cor_lmtp_session_t *s = ready();
    GString *in = g_string_new(NULL);
    for (int i = 0; i < 1000; i++)
        g_string_append(in, i % 2 ? "NOOP\r\n" : "RSET\r\n");
    g_autofree char *o = talk(s, in->str);
    g_string_free(in, TRUE);
    int n = 0;
    for (const char *p = o; (p = strstr(p, "250 2.0.0 ok\r\n")); p++)
        n++;
    g_assert_cmpint(n, ==, 1000);
    cor_lmtp_session_free(s);
}

/* cor_lmtp_resolve against a real store: domains, kinds, and a store that
 * cannot be read is its own (temporary) failure, never "no such group". */
static void
test_resolve_store(void)
{
    g_autofree char *dir = g_dir_make_tmp("test-lmtp-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "corridor.db", NULL);
    cor_store_t *st = NULL;
    g_assert_cmpint(cor_store_open(path, true, &st, NULL), ==, COR_OK);
    int64_t id = 0;
    g_assert_cmpint(cor_store_group_create(st, "planning", "P", COR_VISIBILITY_PUBLIC, &id), ==, COR_OK);
    const char *domains[] = { "lists.test", NULL };
    cor_lmtp_rcpt_t r = { 0 };
    g_assert_cmpint(cor_lmtp_resolve(st, domains, "planning-owner", "LISTS.test", &r), ==, COR_OK);
    g_assert_cmpstr(r.group, ==, "planning");
    g_assert_cmpint(r.group_id, ==, id);
    g_assert_cmpint(r.kind, ==, COR_RCPT_OWNER);
    g_clear_pointer(&r.group, g_free);
    g_clear_pointer(&r.detail, g_free);
    g_assert_cmpint(cor_lmtp_resolve(st, domains, "planning", "other.test", &r), ==, COR_ERR_BAD_DOMAIN);
    g_assert_cmpint(cor_lmtp_resolve(st, NULL, "nosuch", "other.test", &r), ==, COR_ERR_NO_GROUP);
    /* the groups table gone: a store failure, answered 4xx */
    g_assert_cmpint(sqlite3_exec(st->db, "ALTER TABLE groups RENAME TO gone", NULL, NULL, NULL), ==, SQLITE_OK);
    cor_status_t s = cor_lmtp_resolve(st, domains, "planning", "lists.test", &r);
    g_assert_cmpint(s, !=, COR_ERR_NO_GROUP);
    g_assert_cmpint(cor_status_smtp(s)->code / 100, ==, 4);
    g_assert_null(r.group);
    cor_store_close(st);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/lmtp/sequence", test_sequence);
    g_test_add_func("/lmtp/syntax", test_syntax);
    g_test_add_func("/lmtp/recipients", test_recipients);
    g_test_add_func("/lmtp/split-local", test_split_local);
    g_test_add_func("/lmtp/data-and-pipelining", test_data_and_pipelining);
    g_test_add_func("/lmtp/byte-at-a-time", test_byte_at_a_time);
    g_test_add_func("/lmtp/limits", test_limits);
    g_test_add_func("/lmtp/too-many-errors", test_too_many_errors);
    g_test_add_func("/lmtp/long-line-cr-split", test_long_line_cr_split);
    g_test_add_func("/lmtp/errors-forgiven", test_errors_forgiven);
    g_test_add_func("/lmtp/resolve-store", test_resolve_store);
    g_test_add_func("/lmtp/abort", test_abort);
    g_test_add_func("/lmtp/thousand-pipelined", test_thousand_pipelined);
    return g_test_run();
}
