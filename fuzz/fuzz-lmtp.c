/* fuzz/fuzz-lmtp.c — the LMTP session state machine (mta-bridge/lmtp.h):
 * bytes in, replies out, no sockets.
 *
 * Input: byte 0 picks how the rest is cut into reads (all at once, or
 * chunks of 1..63 bytes, as a slow or pipelining client would send it);
 * bytes 1–3 pick small limits (message size, recipients, line length) so
 * the limit paths are reached; byte 4 picks the store's answers.  The rest
 * is what the client sends.
 *
 * Invariants checked (lmtp.h and RFC 2033):
 *   1. every output line is a reply "DDD " or "DDD-" (first digit 2-5) of
 *      printable text ending in CRLF, and no reply is left half written;
 *   2. when a transaction completes (WAIT), it has 1..max_recipients
 *      recipients, each with a group and a kind, and at most
 *      max_message_size bytes of data; nothing more is written, and feeding
 *      nothing changes nothing, until the store's outcome is given;
 *   3. after cor_lmtp_session_finish, exactly one reply per accepted
 *      recipient is written, in RCPT order, each with the code the status
 *      table gives its outcome (250 for a commit), and the session is READY;
 *   4. a CLOSED session takes no more input and writes nothing more;
 *   5. buffered input never exceeds what was fed.
 */
#include "fuzz/fuzz.h"

#include "core/status.h"
#include "mta-bridge/lmtp.h"

static bool
exists(const char *name, void *data)
{
    return strcmp(name, "planning") == 0 || strcmp(name, "x-request") == 0 ||
           strcmp(name, "tmp") == 0 || strcmp(name, "a") == 0;
}

static cor_status_t
resolve(const char *local, const char *domain, cor_lmtp_rcpt_t *r, void *data)
{
    if (strcmp(domain, "other.test") == 0)
        return COR_ERR_BAD_DOMAIN;
    if (strcmp(local, "busy") == 0)
        return COR_ERR_BUSY;
    cor_status_t s = cor_lmtp_split_local(local, exists, NULL, &r->group, &r->kind, &r->detail);
    if (s == COR_OK)
        r->group_id = 1;
    return s;
}

/* Checks the replies in `out` (invariant 1) and returns how many complete
 * lines there are; the codes go to `codes` when not NULL. */
static unsigned
check_replies(const char *out, size_t len, GArray *codes)
{
    unsigned lines = 0;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(out + i, '\n', len - i);
        FUZZ_CHECK(nl != NULL, "unterminated reply '%.*s'", (int) (len - i), out + i);
        size_t n = (size_t) (nl - (out + i)) + 1;
        const char *l = out + i;
        FUZZ_CHECK(n >= 6 && l[n - 2] == '\r', "bad reply line '%.*s'", (int) n, l);
        FUZZ_CHECK(l[0] >= '2' && l[0] <= '5' && g_ascii_isdigit(l[1]) && g_ascii_isdigit(l[2]) &&
                       (l[3] == ' ' || l[3] == '-'),
                   "bad reply code '%.*s'", (int) n, l);
        for (size_t k = 0; k < n - 2; k++)
            FUZZ_CHECK((unsigned char) l[k] >= 0x20 && l[k] != 0x7f,
                       "control byte 0x%02x in reply '%.*s'", (unsigned char) l[k], (int) n, l);
        if (codes) {
            int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
            g_array_append_val(codes, code);
        }
        lines++;
        i += n;
    }
    return lines;
}

static GString *
take(cor_lmtp_session_t *s)
{
    size_t len;
    const char *o = cor_lmtp_session_output(s, &len);
    GString *r = g_string_new_len(o, (gssize) len);
    cor_lmtp_session_consume(s, len);
    return r;
}

/* The store's outcomes to choose from: a commit, a duplicate, temporary
 * failures and refusals. */
static const cor_status_t outcomes[] = {
    COR_OK, COR_DUPLICATE, COR_ERR_BUSY, COR_ERR_DISK_FULL, COR_ERR_STORE,
    COR_ERR_MARKING, COR_ERR_NOT_ALLOWED, COR_ERR_SPAM, COR_ERR_GROUP_SIZE,
};

/* Handles a complete transaction (invariants 2 and 3). */
static void
complete(cor_lmtp_session_t *s, const cor_lmtp_limits_t *lim, unsigned *pick)
{
    size_t pending = 0;
    cor_lmtp_session_output(s, &pending);
    FUZZ_CHECK(pending == 0, "output was not taken before WAIT");
    /* waiting: nothing happens without the store's outcome */
    FUZZ_CHECK(cor_lmtp_session_feed(s, NULL, 0) == COR_LMTP_WAIT, "left WAIT by itself");
    cor_lmtp_session_abort(s, COR_ERR_SHUTDOWN);
    FUZZ_CHECK(cor_lmtp_session_state(s) == COR_LMTP_WAIT, "abort left WAIT");
    cor_lmtp_session_output(s, &pending);
    FUZZ_CHECK(pending == 0, "wrote %zu bytes while waiting for the store", pending);

    g_autoptr(cor_lmtp_envelope_t) e = cor_lmtp_session_take(s);
    FUZZ_CHECK(e != NULL, "WAIT without an envelope");
    FUZZ_CHECK(cor_lmtp_session_take(s) == NULL, "envelope taken twice");
    FUZZ_CHECK(e->rcpts->len >= 1 && e->rcpts->len <= lim->max_recipients,
               "%u recipients, limit %u", e->rcpts->len, lim->max_recipients);
    gsize dlen = 0;
    const char *d = g_bytes_get_data(e->data, &dlen);
    FUZZ_CHECK(dlen <= lim->max_message_size, "%zu bytes of data, limit %" G_GUINT64_FORMAT,
               (size_t) dlen, lim->max_message_size);
    (void) d;
    FUZZ_CHECK(e->from != NULL && e->session != NULL && e->client != NULL, "envelope field NULL");
    for (guint i = 0; i < e->rcpts->len; i++) {
        cor_lmtp_rcpt_t *r = e->rcpts->pdata[i];
        FUZZ_CHECK(r->address && *r->address && r->group && r->detail,
                   "recipient %u incomplete", i);
        FUZZ_CHECK(exists(r->group, NULL), "recipient %u: unknown group '%s'", i, r->group);
    }

    cor_status_t *res = g_new(cor_status_t, e->rcpts->len);
    const char **details = g_new0(const char *, e->rcpts->len);
    for (guint i = 0; i < e->rcpts->len; i++) {
        res[i] = outcomes[(*pick)++ % G_N_ELEMENTS(outcomes)];
        details[i] = (i & 1) ? "detail\r\nwith a line break" : NULL;
    }
    cor_lmtp_session_finish(s, res, details);
    FUZZ_CHECK(cor_lmtp_session_state(s) == COR_LMTP_READY, "not READY after finish");
    g_autoptr(GString) out = take(s);
    g_autoptr(GArray) codes = g_array_new(FALSE, FALSE, sizeof(int));
    unsigned n = check_replies(out->str, out->len, codes);
    FUZZ_CHECK(n == e->rcpts->len, "%u replies for %u recipients:\n%s", n, e->rcpts->len, out->str);
    for (guint i = 0; i < n; i++) {
        int want = cor_status_smtp(res[i])->code;
        FUZZ_CHECK(g_array_index(codes, int, i) == want, "reply %u is %d, want %d", i,
                   g_array_index(codes, int, i), want);
    }
    g_free(res);
    g_free(details);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_setup();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    unsigned chunk = data[0] & 0x3f;                /* 0: all at once */
    cor_lmtp_limits_t lim = {
        .max_message_size = 16 + (uint64_t) data[1] * 64,
        .max_recipients = 1 + data[2] % 5,
        .max_line_length = 8 + (uint64_t) data[3] * 4,
    };
    unsigned pick = data[4];
    data += 5;
    size -= 5;

    cor_lmtp_session_t *s = cor_lmtp_session_new("F1", "lists.test", &lim, resolve, NULL);
    g_autoptr(GString) greeting = take(s);
    FUZZ_CHECK(g_str_has_prefix(greeting->str, "220 lists.test "), "greeting '%s'", greeting->str);

    size_t fed = 0;
    while (fed < size) {
        size_t n = chunk ? MIN((size_t) chunk, size - fed) : size - fed;
        cor_lmtp_state_t st = cor_lmtp_session_feed(s, (const char *) data + fed, n);
        fed += n;
        /* a complete transaction: replies so far, then the store's turn;
         * what was pipelined behind it is processed after finish */
        while (st == COR_LMTP_WAIT) {
            g_autoptr(GString) out = take(s);
            check_replies(out->str, out->len, NULL);
            complete(s, &lim, &pick);
            st = cor_lmtp_session_feed(s, NULL, 0);
        }
        g_autoptr(GString) out = take(s);
        check_replies(out->str, out->len, NULL);
        FUZZ_CHECK(cor_lmtp_session_pending_input(s) <= fed, "more input buffered than fed");
        if (st == COR_LMTP_CLOSED) {
            /* invariant 4 */
            cor_lmtp_session_feed(s, "NOOP\r\n", 6);
            size_t len;
            cor_lmtp_session_output(s, &len);
            FUZZ_CHECK(len == 0, "a closed session answered");
            break;
        }
    }
    /* the client goes away, or the daemon stops */
    if (pick & 1) {
        cor_lmtp_session_abort(s, COR_ERR_SHUTDOWN);
        g_autoptr(GString) out = take(s);
        check_replies(out->str, out->len, NULL);
    }
    cor_lmtp_session_free(s);
    return 0;
}
