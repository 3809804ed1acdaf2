/* mta-bridge/lmtp.c — the LMTP session state machine.  Design notes: lmtp.h. */
#include "mta-bridge/lmtp.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PATH 512          /* bytes in a <path> (RFC 5321: 256), lenient */

struct cor_lmtp_session {
    char *id;
    char *hostname;
    cor_lmtp_limits_t limits;        /* for the current transaction */
    cor_lmtp_limits_t next_limits;   /* from SIGHUP, applied at MAIL */
    cor_lmtp_resolve_fn resolve;
    void *resolve_data;
    cor_lmtp_state_t state;
    int errors;

    GByteArray *in;                  /* input; bytes before in_pos are done */
    size_t in_pos;
    size_t in_peak;                  /* the most `in` held since it was last new */
    GString *out;                    /* output; bytes before out_pos are sent */
    size_t out_pos;
    bool skip_line;                  /* dropping the rest of an over-long line */
    bool skip_cr;                    /* ... and the last byte dropped was CR */

    char *client;                    /* LHLO argument */
    /* the transaction */
    char *from;
    bool eightbit;
    GPtrArray *rcpts;                /* cor_lmtp_rcpt_t* */
    int64_t started_us;
    GByteArray *data;
    bool prev_crlf;                  /* the previous data line ended in CRLF */
    cor_status_t data_status;        /* COR_OK, or TOO_BIG / LINE_TOO_LONG */
    cor_lmtp_envelope_t *pending;    /* in WAIT, until taken */
    guint wait_count;                /* in WAIT: replies owed */
};

void
cor_lmtp_rcpt_free(cor_lmtp_rcpt_t *r)
{
    if (!r)
        return;
    g_free(r->address);
    g_free(r->group);
    g_free(r->detail);
    g_free(r);
}

void
cor_lmtp_envelope_free(cor_lmtp_envelope_t *e)
{
    if (!e)
        return;
    g_free(e->session);
    g_free(e->client);
    g_free(e->from);
    if (e->rcpts)
        g_ptr_array_unref(e->rcpts);
    if (e->data)
        g_bytes_unref(e->data);
    g_free(e);
}

/* ---- recipients ---- */

static const struct {
    const char *suffix;
    cor_rcpt_kind_t kind;
} suffixes[] = {
    { "-request", COR_RCPT_REQUEST },
    { "-owner",   COR_RCPT_OWNER },
    { "-bounces", COR_RCPT_BOUNCES },
    { "-join",    COR_RCPT_JOIN },
    { "-leave",   COR_RCPT_LEAVE },
};

cor_status_t
cor_lmtp_split_local(const char *local, bool (*exists)(const char *name, void *data),
                     void *data, char **group, cor_rcpt_kind_t *kind, char **detail)
{
    *group = NULL;
    *detail = NULL;
    /* "+detail" is allowed on every address, as Postfix's recipient_delimiter
     * finds group+x@ under group@: refusing it here would make Postfix
     * accept it and then bounce it (backscatter).  Group names have no '+'. */
    g_autofree char *base = g_strdup(local);
    char *plus = strchr(base, '+');
    const char *tag = "";
    if (plus) {
        *plus = '\0';
        tag = plus + 1;
    }
    if (cor_group_name_valid(base) && exists(base, data)) {
        *group = g_strdup(base);
        *kind = COR_RCPT_POST;
        *detail = g_strdup(tag);
        return COR_OK;
    }
    /* GROUP-request, GROUP-owner, GROUP-bounces, GROUP-join, GROUP-leave */
    size_t n = strlen(base);
    for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        size_t sl = strlen(suffixes[i].suffix);
        if (n <= sl || strcmp(base + n - sl, suffixes[i].suffix) != 0)
            continue;
        base[n - sl] = '\0';
        if (!cor_group_name_valid(base) || !exists(base, data))
            return COR_ERR_NO_GROUP;
        *group = g_strdup(base);
        *kind = suffixes[i].kind;
        *detail = g_strdup(tag);
        return COR_OK;
    }
    return COR_ERR_NO_GROUP;
}

/* Group lookups for cor_lmtp_resolve: the first store failure is kept, so
 * that a store that cannot be read is a temporary failure, never "no such
 * group" (which Postfix would bounce for good). */
typedef struct lookup {
    cor_store_t *st;
    cor_status_t failure;
    int64_t id;
} lookup_t;

static bool
lookup_group(const char *name, void *data)
{
    lookup_t *l = data;
    g_autoptr(cor_group_t) g = NULL;
    cor_status_t s = cor_store_group_get(l->st, name, &g);
    if (s == COR_OK)
        l->id = g->id;
    else if (s != COR_ERR_NO_GROUP && l->failure == COR_OK)
        l->failure = s;
    return s == COR_OK;
}

cor_status_t
cor_lmtp_resolve(cor_store_t *st, const char *const *domains, const char *local,
                 const char *domain, cor_lmtp_rcpt_t *r)
{
    if (domains && domains[0] && *domains[0]) {
        bool ok = false;
        for (size_t i = 0; domains[i] && !ok; i++)
            ok = domain && g_ascii_strcasecmp(domains[i], domain) == 0;
        if (!ok)
            return COR_ERR_BAD_DOMAIN;
    }
    lookup_t l = { st, COR_OK, 0 };
    cor_status_t s = cor_lmtp_split_local(local, lookup_group, &l, &r->group, &r->kind, &r->detail);
    if (l.failure != COR_OK) {
        g_clear_pointer(&r->group, g_free);
        g_clear_pointer(&r->detail, g_free);
        return l.failure;
    }
    if (s != COR_OK)
        return s;
    /* the last successful lookup was the group's own */
    r->group_id = l.id;
    return COR_OK;
}

/* ---- output ---- */

static void
out_line(cor_lmtp_session_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
out_line(cor_lmtp_session_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_string_append_vprintf(s->out, fmt, ap);
    va_end(ap);
    g_string_append(s->out, "\r\n");
}

char *
cor_lmtp_reply_text(cor_status_t status, const char *detail)
{
    const cor_smtp_reply_t *r = cor_status_smtp(status);
    GString *t = g_string_new(NULL);
    g_string_append_printf(t, "%d %s %s", r->code, r->enhanced, r->text);
    if (detail && *detail)
        g_string_append_printf(t, ": %s", detail);
    /* a reply is one line of printable text */
    for (char *p = t->str; *p; p++)
        if ((unsigned char) *p < 0x20 || (unsigned char) *p == 0x7f)
            *p = ' ';
    return g_string_free(t, FALSE);
}

static void
out_status(cor_lmtp_session_t *s, cor_status_t status, const char *detail)
{
    g_autofree char *t = cor_lmtp_reply_text(status, detail);
    out_line(s, "%s", t);
}

/* A refused command: the reply, and after too many, the end. */
static void
out_error(cor_lmtp_session_t *s, cor_status_t status, const char *detail)
{
    out_status(s, status, detail);
    if (++s->errors >= COR_LMTP_MAX_ERRORS) {
        out_status(s, COR_ERR_TOO_MANY_ERRORS, NULL);
        s->state = COR_LMTP_CLOSED;
    }
}

const char *
cor_lmtp_session_output(const cor_lmtp_session_t *s, size_t *len)
{
    *len = s->out->len - s->out_pos;
    return s->out->str + s->out_pos;
}

void
cor_lmtp_session_consume(cor_lmtp_session_t *s, size_t n)
{
    s->out_pos += MIN(n, s->out->len - s->out_pos);
    if (s->out_pos == s->out->len) {
        g_string_truncate(s->out, 0);
        s->out_pos = 0;
    }
}

/* ---- life ---- */

static void
reset_transaction(cor_lmtp_session_t *s)
{
    g_clear_pointer(&s->from, g_free);
    g_ptr_array_set_size(s->rcpts, 0);
    if (s->data)
        g_byte_array_set_size(s->data, 0);
    s->eightbit = false;
    s->data_status = COR_OK;
    cor_lmtp_envelope_free(g_steal_pointer(&s->pending));
}

cor_lmtp_session_t *
cor_lmtp_session_new(const char *id, const char *hostname, const cor_lmtp_limits_t *limits,
                     cor_lmtp_resolve_fn resolve, void *resolve_data)
{
    cor_lmtp_session_t *s = g_new0(cor_lmtp_session_t, 1);
    s->id = g_strdup(id);
    s->hostname = g_strdup(hostname && *hostname ? hostname : "localhost");
    s->limits = s->next_limits = *limits;
    s->resolve = resolve;
    s->resolve_data = resolve_data;
    s->in = g_byte_array_new();
    s->out = g_string_sized_new(256);
    s->rcpts = g_ptr_array_new_with_free_func((GDestroyNotify) cor_lmtp_rcpt_free);
    s->data = g_byte_array_new();
    s->state = COR_LMTP_GREETED;
    out_line(s, "220 %s LMTP corridor ready", s->hostname);
    return s;
}

void
cor_lmtp_session_free(cor_lmtp_session_t *s)
{
    if (!s)
        return;
    reset_transaction(s);
    g_ptr_array_unref(s->rcpts);
    g_byte_array_unref(s->data);
    g_byte_array_unref(s->in);
    g_string_free(s->out, TRUE);
    g_free(s->client);
    g_free(s->hostname);
    g_free(s->id);
    g_free(s);
}

void
cor_lmtp_session_set_limits(cor_lmtp_session_t *s, const cor_lmtp_limits_t *limits)
{
    s->next_limits = *limits;
}

const char *
cor_lmtp_session_id(const cor_lmtp_session_t *s)
{
    return s->id;
}

cor_lmtp_state_t
cor_lmtp_session_state(const cor_lmtp_session_t *s)
{
    return s->state;
}

size_t
cor_lmtp_session_pending_input(const cor_lmtp_session_t *s)
{
    return s->in->len - s->in_pos;
}

/* ---- command parsing ---- */

/* Case-insensitive "KEYWORD:" prefix, then optional spaces.  Returns the
 * rest or NULL. */
static const char *
after_keyword(const char *arg, const char *kw)
{
    size_t n = strlen(kw);
    if (g_ascii_strncasecmp(arg, kw, n) != 0)
        return NULL;
    arg += n;
    while (*arg == ' ')
        arg++;
    return arg;
}

/* Parses "<path>" (or a bare address) at *p.  Returns the address (transfer
 * full, may be "") and advances *p past it, or NULL on a syntax error. */
static char *
parse_path(const char **p)
{
    const char *a = *p;
    const char *start, *end;
    if (*a == '<') {
        start = a + 1;
        end = start;
        bool quoted = false;
        for (; *end && (quoted || *end != '>'); end++) {
            if (*end == '"')
                quoted = !quoted;
            else if (*end == '\\' && end[1])
                end++;
        }
        if (*end != '>')
            return NULL;
        *p = end + 1;
    } else {
        start = a;
        end = strchr(a, ' ');
        if (!end)
            end = a + strlen(a);
        if (end == start)
            return NULL;
        *p = end;
    }
    if ((size_t) (end - start) > MAX_PATH)
        return NULL;
    /* an obsolete source route "@a,@b:user@d" keeps only the mailbox */
    if (*start == '@') {
        const char *colon = memchr(start, ':', end - start);
        if (!colon)
            return NULL;
        start = colon + 1;
    }
    for (const char *c = start; c < end; c++)
        if ((unsigned char) *c < 0x20 || *c == 0x7f)
            return NULL;
    return g_strndup(start, end - start);
}

/* Splits "KEY=VALUE KEY2=VALUE2" parameters.  Returns false on a syntax error. */
static bool
next_param(const char **p, char **key, char **value)
{
    const char *a = *p;
    while (*a == ' ')
        a++;
    if (!*a)
        return false;
    const char *end = strchr(a, ' ');
    if (!end)
        end = a + strlen(a);
    const char *eq = memchr(a, '=', end - a);
    if (eq) {
        *key = g_ascii_strup(a, eq - a);
        *value = g_strndup(eq + 1, end - eq - 1);
    } else {
        *key = g_ascii_strup(a, end - a);
        *value = NULL;
    }
    *p = end;
    return true;
}

static void
cmd_lhlo(cor_lmtp_session_t *s, const char *arg)
{
    if (!*arg) {
        out_error(s, COR_ERR_INVALID, "LHLO needs a host name");
        return;
    }
    reset_transaction(s);
    g_free(s->client);
    s->client = g_strdup(arg);
    s->state = COR_LMTP_READY;
    out_line(s, "250-%s", s->hostname);
    out_line(s, "250-PIPELINING");
    out_line(s, "250-ENHANCEDSTATUSCODES");
    out_line(s, "250-8BITMIME");
    out_line(s, "250 SIZE %" G_GUINT64_FORMAT, s->next_limits.max_message_size);
}

static void
cmd_mail(cor_lmtp_session_t *s, const char *arg)
{
    if (s->state == COR_LMTP_GREETED) {
        out_error(s, COR_ERR_SEQUENCE, "send LHLO first");
        return;
    }
    if (s->state != COR_LMTP_READY) {
        out_error(s, COR_ERR_SEQUENCE, "nested MAIL command");
        return;
    }
    const char *p = after_keyword(arg, "FROM:");
    g_autofree char *from = p ? parse_path(&p) : NULL;
    if (!from) {
        out_error(s, COR_ERR_INVALID, "use MAIL FROM:<address>");
        return;
    }
    s->limits = s->next_limits;
    bool eightbit = false;
    char *key, *value;
    while (next_param(&p, &key, &value)) {
        g_autofree char *k = key, *v = value;
        if (strcmp(k, "SIZE") == 0) {
            char *end;
            guint64 size = v ? g_ascii_strtoull(v, &end, 10) : 0;
            if (!v || !*v || *end) {
                out_error(s, COR_ERR_INVALID, "bad SIZE value");
                return;
            }
            if (size > s->limits.max_message_size) {
                g_autofree char *d = g_strdup_printf("the limit is %" G_GUINT64_FORMAT " bytes",
                                                     s->limits.max_message_size);
                out_status(s, COR_ERR_TOO_BIG, d);
                return;
            }
        } else if (strcmp(k, "BODY") == 0) {
            if (v && g_ascii_strcasecmp(v, "8BITMIME") == 0)
                eightbit = true;
            else if (!v || g_ascii_strcasecmp(v, "7BIT") != 0) {
                out_error(s, COR_ERR_PARAMETER, "BODY must be 7BIT or 8BITMIME");
                return;
            }
        } else {
            g_autofree char *d = g_strdup_printf("%s is not supported", k);
            out_error(s, COR_ERR_PARAMETER, d);
            return;
        }
    }
    reset_transaction(s);
    s->from = g_steal_pointer(&from);
    s->eightbit = eightbit;
    s->started_us = g_get_monotonic_time();
    s->state = COR_LMTP_MAIL;
    out_line(s, "250 2.1.0 sender ok");
}

static void
cmd_rcpt(cor_lmtp_session_t *s, const char *arg)
{
    if (s->state != COR_LMTP_MAIL && s->state != COR_LMTP_RCPT) {
        out_error(s, COR_ERR_SEQUENCE, "send MAIL first");
        return;
    }
    const char *p = after_keyword(arg, "TO:");
    g_autofree char *addr = p ? parse_path(&p) : NULL;
    if (!addr || !*addr) {
        out_error(s, COR_ERR_INVALID, "use RCPT TO:<address>");
        return;
    }
    char *key, *value;
    while (next_param(&p, &key, &value)) {
        g_autofree char *k = key;
        g_free(value);
        g_autofree char *d = g_strdup_printf("%s is not supported", k);
        out_error(s, COR_ERR_PARAMETER, d);
        return;
    }
    if (s->rcpts->len >= s->limits.max_recipients) {
        g_autofree char *d = g_strdup_printf("at most %u per transaction", s->limits.max_recipients);
        out_status(s, COR_ERR_LIMIT, d);
        return;
    }
    const char *at = strrchr(addr, '@');
    g_autofree char *local = g_ascii_strdown(addr, at ? at - addr : -1);
    g_autofree char *domain = at ? g_ascii_strdown(at + 1, -1) : g_strdup("");
    /* a quoted local part means the same without its quotes */
    size_t ll = strlen(local);
    if (ll >= 2 && local[0] == '"' && local[ll - 1] == '"') {
        memmove(local, local + 1, ll - 2);
        local[ll - 2] = '\0';
    }
    cor_lmtp_rcpt_t *r = g_new0(cor_lmtp_rcpt_t, 1);
    cor_status_t st = s->resolve(local, domain, r, s->resolve_data);
    if (st != COR_OK) {
        cor_lmtp_rcpt_free(r);
        g_autofree char *d = g_strdup_printf("<%s>", addr);
        out_status(s, st, d);
        return;
    }
    r->address = g_steal_pointer(&addr);
    if (!r->detail)
        r->detail = g_strdup("");
    g_ptr_array_add(s->rcpts, r);
    s->state = COR_LMTP_RCPT;
    out_line(s, "250 2.1.5 recipient ok");
}

static void
cmd_data(cor_lmtp_session_t *s, const char *arg)
{
    if (*arg) {
        out_error(s, COR_ERR_INVALID, "DATA takes no parameters");
        return;
    }
    if (s->state == COR_LMTP_MAIL) {
        /* every RCPT was refused: the client did nothing wrong */
        out_status(s, COR_ERR_SEQUENCE, "no valid recipients");
        return;
    }
    if (s->state != COR_LMTP_RCPT) {
        out_error(s, COR_ERR_SEQUENCE, "send MAIL and RCPT first");
        return;
    }
    g_byte_array_set_size(s->data, 0);
    s->prev_crlf = true;
    s->data_status = COR_OK;
    s->state = COR_LMTP_DATA;
    out_line(s, "354 2.0.0 send the message, end with <CR><LF>.<CR><LF>");
}

static void
command(cor_lmtp_session_t *s, const char *line, size_t len)
{
    if (memchr(line, '\0', len)) {
        out_error(s, COR_ERR_PROTOCOL, "NUL byte in command");
        return;
    }
    const char *sp = strchr(line, ' ');
    size_t vl = sp ? (size_t) (sp - line) : len;
    const char *arg = sp ? sp + 1 : "";
    while (*arg == ' ')
        arg++;
    g_autofree char *verb = g_ascii_strup(line, vl);

    if (strcmp(verb, "LHLO") == 0)
        cmd_lhlo(s, arg);
    else if (strcmp(verb, "MAIL") == 0)
        cmd_mail(s, arg);
    else if (strcmp(verb, "RCPT") == 0)
        cmd_rcpt(s, arg);
    else if (strcmp(verb, "DATA") == 0)
        cmd_data(s, arg);
    else if (strcmp(verb, "RSET") == 0) {
        reset_transaction(s);
        if (s->state != COR_LMTP_GREETED)
            s->state = COR_LMTP_READY;
        out_line(s, "250 2.0.0 ok");
    } else if (strcmp(verb, "NOOP") == 0)
        out_line(s, "250 2.0.0 ok");
    else if (strcmp(verb, "VRFY") == 0)
        out_line(s, "252 2.0.0 cannot verify, but will accept mail for a group");
    else if (strcmp(verb, "QUIT") == 0) {
        out_line(s, "221 2.0.0 %s closing connection", s->hostname);
        s->state = COR_LMTP_CLOSED;
    } else if (strcmp(verb, "HELP") == 0)
        out_line(s, "214 2.0.0 commands: LHLO MAIL RCPT DATA RSET NOOP VRFY QUIT");
    else if (strcmp(verb, "HELO") == 0 || strcmp(verb, "EHLO") == 0)
        out_error(s, COR_ERR_PROTOCOL, "this is LMTP: use LHLO");
    else if (strcmp(verb, "STARTTLS") == 0 || strcmp(verb, "AUTH") == 0 ||
             strcmp(verb, "BDAT") == 0 || strcmp(verb, "EXPN") == 0 ||
             strcmp(verb, "ETRN") == 0 || strcmp(verb, "TURN") == 0)
        out_error(s, COR_ERR_NOT_IMPLEMENTED, verb);
    else
        out_error(s, COR_ERR_PROTOCOL, NULL);
}

/* ---- data ---- */

static void
end_of_data(cor_lmtp_session_t *s)
{
    if (s->data_status != COR_OK) {
        g_autofree char *d = s->data_status == COR_ERR_TOO_BIG
            ? g_strdup_printf("the limit is %" G_GUINT64_FORMAT " bytes", s->limits.max_message_size)
            : g_strdup_printf("the limit is %" G_GUINT64_FORMAT " bytes per line",
                              s->limits.max_line_length);
        for (guint i = 0; i < s->rcpts->len; i++)
            out_status(s, s->data_status, d);
        reset_transaction(s);
        s->state = COR_LMTP_READY;
        return;
    }
    cor_lmtp_envelope_t *e = g_new0(cor_lmtp_envelope_t, 1);
    e->session = g_strdup(s->id);
    e->client = g_strdup(s->client);
    e->from = g_strdup(s->from);
    e->eightbit = s->eightbit;
    e->started_us = s->started_us;
    e->rcpts = g_ptr_array_new_with_free_func((GDestroyNotify) cor_lmtp_rcpt_free);
    for (guint i = 0; i < s->rcpts->len; i++)
        g_ptr_array_add(e->rcpts, g_ptr_array_index(s->rcpts, i));
    /* the envelope owns the recipients now */
    g_ptr_array_set_free_func(s->rcpts, NULL);
    g_ptr_array_set_size(s->rcpts, 0);
    g_ptr_array_set_free_func(s->rcpts, (GDestroyNotify) cor_lmtp_rcpt_free);
    e->data = g_byte_array_free_to_bytes(s->data);
    s->data = g_byte_array_new();
    s->pending = e;
    s->wait_count = e->rcpts->len;
    s->state = COR_LMTP_WAIT;
}

/* One data line (LF included when present).  `complete` is false for the
 * head of a line that is over the limit. */
static void
data_line(cor_lmtp_session_t *s, const char *line, size_t len)
{
    bool crlf = len >= 2 && line[len - 2] == '\r' && line[len - 1] == '\n';
    if (s->prev_crlf && crlf && len == 3 && line[0] == '.') {
        end_of_data(s);
        return;
    }
    s->prev_crlf = crlf;
    if (len > 0 && line[0] == '.') {
        line++;
        len--;
    }
    if (s->data_status != COR_OK)
        return;
    size_t body = crlf ? len - 2 : (len > 0 && line[len - 1] == '\n' ? len - 1 : len);
    bool eol = body < len;
    if (s->data->len + body + eol > s->limits.max_message_size) {
        s->data_status = COR_ERR_TOO_BIG;
        g_byte_array_set_size(s->data, 0);
        return;
    }
    g_byte_array_append(s->data, (const guint8 *) line, body);
    if (eol)
        g_byte_array_append(s->data, (const guint8 *) "\n", 1);
}

/* ---- the loop ---- */

/* An input buffer that held more than this is given back once it is empty:
 * a GByteArray keeps its largest size, and 32 sessions each keeping a
 * 128 KiB buffer after one big read grew the daemon by 4 MiB over a soak
 * (bench/soak.sh, docs/hardening.md). */
#define IN_KEEP 16384

static void
compact(cor_lmtp_session_t *s)
{
    if (s->in_pos == 0)
        return;
    if (s->in_pos == s->in->len && s->in_peak > IN_KEEP) {
        g_byte_array_unref(s->in);
        s->in = g_byte_array_new();
        s->in_peak = 0;
    } else {
        g_byte_array_remove_range(s->in, 0, s->in_pos);
    }
    s->in_pos = 0;
}

cor_lmtp_state_t
cor_lmtp_session_feed(cor_lmtp_session_t *s, const char *buf, size_t len)
{
    if (s->state == COR_LMTP_CLOSED)
        return s->state;
    if (len) {
        g_byte_array_append(s->in, (const guint8 *) buf, len);
        s->in_peak = MAX(s->in_peak, s->in->len);
    }

    while (s->state != COR_LMTP_WAIT && s->state != COR_LMTP_CLOSED) {
        const char *p = (const char *) s->in->data + s->in_pos;
        size_t avail = s->in->len - s->in_pos;
        if (avail == 0)
            break;
        const char *lf = memchr(p, '\n', avail);
        size_t line_len = lf ? (size_t) (lf - p) + 1 : avail;
        bool data = s->state == COR_LMTP_DATA;
        size_t limit = data ? s->limits.max_line_length + 2 : COR_LMTP_MAX_COMMAND;

        if (s->skip_line) {
            /* the rest of an over-long line */
            s->in_pos += line_len;
            if (lf) {
                s->skip_line = false;
                /* the CR of a CRLF may have come in the previous read */
                s->prev_crlf = line_len >= 2 ? lf[-1] == '\r' : s->skip_cr;
            } else {
                s->skip_cr = p[avail - 1] == '\r';
            }
            continue;
        }
        if (line_len > limit) {
            /* over the limit, with or without its end: drop it */
            s->in_pos += lf ? line_len : avail;
            s->skip_line = lf == NULL;
            s->skip_cr = !lf && p[avail - 1] == '\r';
            if (data) {
                s->prev_crlf = lf && lf > p && lf[-1] == '\r';
                if (s->data_status == COR_OK) {
                    s->data_status = COR_ERR_LINE_TOO_LONG;
                    g_byte_array_set_size(s->data, 0);
                }
            } else {
                out_error(s, COR_ERR_LINE_TOO_LONG, NULL);
            }
            continue;
        }
        if (!lf)
            break;                  /* wait for the rest of the line */
        s->in_pos += line_len;
        if (data) {
            data_line(s, p, line_len);
        } else {
            size_t n = line_len - 1;
            if (n > 0 && p[n - 1] == '\r')
                n--;
            g_autofree char *cmd = g_strndup(p, n);
            /* g_strndup stops at a NUL; keep the length to see it */
            if (strlen(cmd) != n)
                out_error(s, COR_ERR_PROTOCOL, "NUL byte in command");
            else if (n == 0)
                out_error(s, COR_ERR_PROTOCOL, "empty command");
            else
                command(s, cmd, n);
        }
    }
    if (s->in_pos > 65536 || s->in_pos == s->in->len)
        compact(s);
    return s->state;
}

cor_lmtp_envelope_t *
cor_lmtp_session_take(cor_lmtp_session_t *s)
{
    return g_steal_pointer(&s->pending);
}

void
cor_lmtp_session_finish(cor_lmtp_session_t *s, const cor_status_t *results,
                        const char *const *details)
{
    if (s->state != COR_LMTP_WAIT)
        return;
    for (guint i = 0; i < s->wait_count; i++) {
        out_status(s, results[i], details ? details[i] : NULL);
        if (COR_SUCCEEDED(results[i]))
            s->errors = 0;      /* a cached connection is not punished forever */
    }
    s->wait_count = 0;
    reset_transaction(s);
    s->state = COR_LMTP_READY;
}

void
cor_lmtp_session_abort(cor_lmtp_session_t *s, cor_status_t status)
{
    if (s->state == COR_LMTP_WAIT || s->state == COR_LMTP_CLOSED)
        return;
    out_status(s, status, NULL);
    s->state = COR_LMTP_CLOSED;
}
