/* mta-bridge/bounce.c — reading bounces.  See bounce.h for what is read and
 * how failures are classed.
 *
 * Design notes
 * ------------
 * The message is read once by GMime (a copy of at most COR_BOUNCE_MAX_INPUT
 * bytes, so nothing past `len` is ever touched) into a small scan:
 *
 *   - the delivery-status parts, transfer-decoded, as text;
 *   - the "notice": the first inline text/plain part outside any returned
 *     message (else the first text/html one made text, else the text of a
 *     multipart whose boundary never came), charset-converted to UTF-8 with
 *     CR, LF and NUL normalised;
 *   - From, To and Return-Path addresses and the report-type.
 *
 * The notice is cut into lines and ends at the first line that starts the
 * returned message ("--- Below this line is a copy of the message.",
 * "------ This is a copy of the message", "Original message follows",
 * "Original message headers:", ...): the text formats and the heuristic
 * read only the lines before it, so the quoted original never supplies a
 * recipient or a reason.
 *
 * Every format parser turns its text into candidates (address as written,
 * final address, the MTA's sentence for that recipient, delayed or not);
 * one function classes a sentence (classify, rules a-k of bounce.h) and one
 * adds the result to the report, de-duplicating by address.  The auto-reply
 * and bounce filters of filters/autoreply.c are asked only when no report
 * part and no known text format answered: a Postfix bounce carries
 * "Auto-Submitted: auto-replied" too.
 *
 * Invariants:
 *   1. Only bytes of the copy handed to GMime are read from the input; all
 *      later scanning is over NUL-terminated strings this module owns.
 *   2. Lists are bounded: MAX_RCPTS recipients, MAX_DEPTH MIME levels,
 *      MAX_TEXT bytes of notice, MAX_DS bytes of delivery status.
 *   3. Phrase tables are lower-case ASCII and matched against a lower-cased
 *      copy of the text.
 */
#include "mta-bridge/bounce.h"

#include <gmime/gmime.h>
#include <stdbool.h>
#include <string.h>

#include "core/html_text.h"
#include "core/message.h"
#include "filters/autoreply.h"
#include "filters/headers.h"

#define MAX_TEXT   (64u << 10)   /* bytes of notice text kept */
#define MAX_DS     (256u << 10)  /* bytes of delivery-status text kept, all parts */
#define MAX_DEPTH  32            /* MIME nesting read */
#define MAX_RCPTS  256           /* recipients kept (a list copy has one) */
#define MAX_CR_SCAN 4096         /* bytes of notice searched for challenge-response words */
#define MAX_ADDR   320
#define MAX_REASON 2048          /* bytes of an MTA's sentence kept for one recipient */
#define MAX_CLASSIFY 4096        /* bytes of a sentence that classify() reads */

/* ---- small string helpers ------------------------------------------------ */

const char *
cor_bounce_class_to_string(cor_bounce_class_t c)
{
    switch (c) {
    case COR_BOUNCE_IGNORED: return "ignored";
    case COR_BOUNCE_SOFT: return "soft";
    case COR_BOUNCE_HARD: return "hard";
    }
    return "?";
}

static bool
is_blank(const char *s)
{
    for (; s && *s; s++)
        if (!g_ascii_isspace(*s))
            return false;
    return true;
}

static const char *
skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Columns of leading white space (a tab counts 8). */
static int
indent_of(const char *s)
{
    int n = 0;
    for (; *s == ' ' || *s == '\t'; s++)
        n += *s == '\t' ? 8 : 1;
    return n;
}

static bool
any_of(const char *lc, const char *const *phrases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strstr(lc, phrases[i]))
            return true;
    return false;
}

/* `word` in `lc` with no letter or digit on either side. */
static bool
has_word(const char *lc, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = lc; (p = strstr(p, word)); p++) {
        bool left = p == lc || !g_ascii_isalnum(p[-1]);
        bool right = !g_ascii_isalnum(p[wl]);
        if (left && right)
            return true;
    }
    return false;
}

static bool
any_word(const char *lc, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (has_word(lc, words[i]))
            return true;
    return false;
}

#define ANY(lc, table) any_of((lc), (table), G_N_ELEMENTS(table))
#define ANY_WORD(lc, table) any_word((lc), (table), G_N_ELEMENTS(table))

/* Bytes of some charset to UTF-8 text: NUL made a space, CRLF and lone CR
 * made LF.  Valid UTF-8 is kept as it is; otherwise the declared charset,
 * then windows-1252, then latin1 (which always converts).  Transfer full. */
static char *
to_text(const char *bytes, size_t n, const char *charset)
{
    g_autofree char *b = g_malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        b[i] = bytes[i] ? bytes[i] : ' ';
    b[n] = '\0';
    char *u = NULL;
    if (g_utf8_validate(b, (gssize) n, NULL))
        u = g_strndup(b, n);
    if (!u && charset && *charset)
        u = g_convert(b, (gssize) n, "UTF-8", charset, NULL, NULL, NULL);
    if (!u)
        u = g_convert(b, (gssize) n, "UTF-8", "WINDOWS-1252", NULL, NULL, NULL);
    if (!u)
        u = g_convert(b, (gssize) n, "UTF-8", "ISO-8859-1", NULL, NULL, NULL);
    if (!u)
        u = g_utf8_make_valid(b, (gssize) n);
    if (!g_utf8_validate(u, -1, NULL)) {
        char *v = g_utf8_make_valid(u, -1);
        g_free(u);
        u = v;
    }
    /* line ends: CRLF -> LF, CR -> LF (in place: never longer) */
    char *w = u;
    for (const char *r = u; *r; r++) {
        if (*r == '\r') {
            *w++ = '\n';
            if (r[1] == '\n')
                r++;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return u;
}

/* One line for a log: white space runs made one space, control characters
 * dropped, trimmed, at most COR_BOUNCE_DIAG_MAX bytes cut at a character
 * boundary; NULL for empty input (transfer full). */
static char *
one_line(const char *s)
{
    if (!s)
        return NULL;
    GString *o = g_string_sized_new(strlen(s) < 256 ? strlen(s) + 1 : 256);
    bool space = false;
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            space = o->len > 0;
            continue;
        }
        if (*p < 0x20 || *p == 0x7F)
            continue;
        if (space) {
            g_string_append_c(o, ' ');
            space = false;
        }
        g_string_append_c(o, (char) *p);
        if (o->len > COR_BOUNCE_DIAG_MAX + 8)
            break;
    }
    if (o->len > COR_BOUNCE_DIAG_MAX) {
        size_t cut = COR_BOUNCE_DIAG_MAX;
        while (cut > 0 && ((unsigned char) o->str[cut] & 0xC0) == 0x80)
            cut--;
        g_string_truncate(o, cut);
        while (o->len > 0 && o->str[o->len - 1] == ' ')
            g_string_truncate(o, o->len - 1);
    }
    if (o->len == 0) {
        g_string_free(o, TRUE);
        return NULL;
    }
    char *r = g_string_free(o, FALSE);
    if (!g_utf8_validate(r, -1, NULL)) {
        char *v = g_utf8_make_valid(r, -1);
        g_free(r);
        r = v;
    }
    return r;
}

/* ---- addresses ------------------------------------------------------------ */

static bool
local_char(unsigned char c)
{
    return c != '\0' && (g_ascii_isalnum(c) || c >= 0x80 || strchr("!#$%&'*+/=?^_`{|}~.-", c));
}

static bool
domain_char(unsigned char c)
{
    return g_ascii_isalnum(c) || c >= 0x80 || c == '.' || c == '-' || c == '_';
}

/* An address as a report or an MTA wrote it, cleaned: address types
 * ("rfc822;", also repeated), <>, quotes and trailing punctuation removed,
 * the domain lower-cased.  NULL when what is left is not local@domain
 * (transfer full). */
static char *
addr_clean(const char *raw)
{
    if (!raw)
        return NULL;
    const char *p = raw;
    for (;;) {                                /* "rfc822;", "RFC822; rfc822;" */
        p = skip_space(p);
        const char *semi = strchr(p, ';');
        if (!semi || semi == p || semi - p > 32)
            break;
        bool token = true;
        for (const char *q = p; q < semi; q++)
            if (!g_ascii_isalnum(*q) && *q != '-' && *q != '_' && *q != '.')
                token = false;
        if (!token)
            break;
        p = semi + 1;
    }
    g_autofree char *s = g_strstrip(g_strdup(p));
    char *a = s;
    if (*a == '<') {
        char *gt = strchr(a, '>');
        a++;
        if (gt)
            *gt = '\0';
    }
    a = g_strstrip(a);
    size_t n = strlen(a);
    while (n > 0 && strchr("\"'.,;:", a[n - 1]))
        a[--n] = '\0';
    while (*a == '"' || *a == '\'')
        a++, n--;
    if (n == 0 || n > MAX_ADDR)
        return NULL;
    const char *at = strchr(a, '@');
    if (!at || at == a || at[1] == '\0' || strchr(at + 1, '@'))
        return NULL;
    for (const unsigned char *q = (const unsigned char *) a; *q; q++)
        if (*q <= ' ' || *q == 0x7F || strchr("<>()[],;\\\"", *q))
            return NULL;
    char *out = g_strdup(a);
    for (char *d = out + (at - a) + 1; *d; d++)
        *d = g_ascii_tolower(*d);
    if (!g_utf8_validate(out, -1, NULL)) {
        char *v = g_utf8_make_valid(out, -1);
        g_free(out);
        out = v;
    }
    return out;
}

/* The first address in free text at or after `s` (local@domain with a dot
 * in the domain and a letter in its last label), cleaned; *next is set past
 * it.  NULL when there is none (transfer full). */
static char *
addr_find(const char *s, const char **next)
{
    for (const char *at = strchr(s, '@'); at; at = strchr(at + 1, '@')) {
        const char *l = at;
        while (l > s && local_char((unsigned char) l[-1]))
            l--;
        while (l < at && *l == '.')
            l++;
        const char *r = at + 1;
        while (domain_char((unsigned char) *r))
            r++;
        while (r > at + 1 && (r[-1] == '.' || r[-1] == '-'))
            r--;
        if (l == at || r == at + 1)
            continue;
        const char *dot = NULL;
        for (const char *q = at + 1; q < r; q++)
            if (*q == '.')
                dot = q;
        if (!dot)
            continue;
        bool alpha = false;
        for (const char *q = dot + 1; q < r; q++)
            if (g_ascii_isalpha(*q) || (unsigned char) *q >= 0x80)
                alpha = true;
        if (!alpha)
            continue;
        g_autofree char *raw = g_strndup(l, (size_t) (r - l));
        char *a = addr_clean(raw);
        if (a) {
            if (next)
                *next = r;
            return a;
        }
    }
    if (next)
        *next = s + strlen(s);
    return NULL;
}

/* The address of a From/To/Return-Path value: inside <> when there is one,
 * else the first in the text; "" when none (transfer full). */
static char *
header_addr(const char *value)
{
    if (!value)
        return g_strdup("");
    const char *lt = strchr(value, '<');
    if (lt) {
        const char *gt = strchr(lt, '>');
        if (gt) {
            g_autofree char *in = g_strndup(lt + 1, (size_t) (gt - lt - 1));
            char *a = addr_clean(in);
            if (a)
                return a;
        }
    }
    char *a = addr_find(value, NULL);
    return a ? a : g_strdup("");
}

/* The address that opens `line` (after white space and an optional '<'),
 * or NULL; *end is set past it (and past its '>'). */
static char *
addr_at_start(const char *line, const char **end)
{
    const char *t = skip_space(line);
    bool angle = *t == '<';
    if (angle)
        t++;
    if (!local_char((unsigned char) *t))
        return NULL;
    const char *e = NULL;
    char *a = addr_find(t, &e);
    if (!a)
        return NULL;
    /* the address found must be the one at t, not one later in the line */
    if (g_ascii_strncasecmp(t, a, strlen(a)) != 0) {
        g_free(a);
        return NULL;
    }
    if (angle && *e == '>')
        e++;
    *end = e;
    return a;
}

static const char *
domain_of(const char *addr)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    return at ? at + 1 : "";
}

/* ---- status codes ---------------------------------------------------------- */

/* The first enhanced status code "c.s.d" (c 2, 4 or 5; s and d of 1-3
 * digits) in `s`, not part of a longer dotted number (IP addresses,
 * versions).  Written to out (16 bytes). */
static bool
status_find(const char *s, char out[16])
{
    if (!s)
        return false;
    for (const char *p = s; *p; p++) {
        if (*p != '2' && *p != '4' && *p != '5')
            continue;
        if (p > s && (g_ascii_isdigit(p[-1]) || p[-1] == '.'))
            continue;
        if (p[1] != '.')
            continue;
        const char *q = p + 2;
        int a = 0, b = 0;
        while (g_ascii_isdigit(q[a]))
            a++;
        if (a < 1 || a > 3 || q[a] != '.')
            continue;
        const char *r = q + a + 1;
        while (g_ascii_isdigit(r[b]))
            b++;
        if (b < 1 || b > 3)
            continue;
        if (r[b] == '.' && g_ascii_isdigit(r[b + 1]))
            continue;                         /* 5.6.7.8: an address */
        if (g_ascii_isdigit(r[b]))
            continue;
        size_t len = (size_t) (r + b - p);
        memcpy(out, p, len);
        out[len] = '\0';
        return true;
    }
    return false;
}

/* x.0.0: says no more than its class. */
static bool
status_generic(const char *st)
{
    return !st || g_str_has_suffix(st, ".0.0");
}

static void
status_parts(const char *st, int *subject, int *detail)
{
    *subject = *detail = -1;
    if (!st || !st[0] || st[1] != '.')
        return;
    char *end = NULL;
    *subject = (int) strtol(st + 2, &end, 10);
    if (end && *end == '.')
        *detail = (int) strtol(end + 1, NULL, 10);
}

/* The first three-digit SMTP reply code 2xx/4xx/5xx standing alone (not
 * inside a longer number, an IP address or a dotted code), or 0. */
static int
smtp_code(const char *s)
{
    if (!s)
        return 0;
    for (const char *p = s; *p; p++) {
        if (*p != '2' && *p != '4' && *p != '5')
            continue;
        if (p > s && (g_ascii_isdigit(p[-1]) || p[-1] == '.' || g_ascii_isalpha(p[-1])))
            continue;
        if (!g_ascii_isdigit(p[1]) || !g_ascii_isdigit(p[2]))
            continue;
        char after = p[3];
        if (after != '\0' && after != ' ' && after != '-' && after != '\t' && after != ';' &&
            after != ')' && after != ',' && after != '\n')
            continue;
        return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    }
    return 0;
}

/* ---- classing a failure (bounce.h, rules a-k) ------------------------------ */

static const char *const quota_phrases[] = {
    "quota", "mailbox full", "mailbox is full", "mailbox was full", "inbox is full",
    "account is full", "mailbox size limit", "mailbox exceeds", "exceeds allowed size",
    "too many messages", "disk space", "disc space", "out of space", "storage limit",
    "storage space", "insufficient storage", "insufficient system storage", "exceeded storage",
    "mailbox has exceeded", "full mailbox", "postfach voll", "boite pleine",
};
static const char *const size_phrases[] = {
    "message size", "size limit", "sizelimit", "too large", "too big", "message exceeds",
    "exceeds the maximum", "maximum message size", "message length exceeds",
};
/* refusals of the sending side: our server, IP, sender address, SPF */
static const char *const sender_phrases[] = {
    "sender address rejected", "sender rejected", "sender domain", "sender verif",
    "sender policy", "sender denied", "invalid sender", "sender is not", "sender not allowed",
    "sending address", "sender policy framework", "your server", "your ip", "your host",
    "your mail server", "client host", "sending server", "sending host", "sending ip",
    "reverse dns", "ptr record", "not allowed to send", "not authorized to send",
    "not permitted to send", "not authorised to send",
};
static const char *const sender_words[] = { "spf", "dmarc", "dkim", "helo", "rdns" };
static const char *const unknown_phrases[] = {
    "user unknown", "unknown user", "unknown recipient", "recipient unknown", "unknown address",
    "address unknown", "addressee unknown", "unknown local", "unknown mailbox", "mailbox unknown",
    "no such user", "no such recipient", "no such mailbox", "no such account", "no such address",
    "no such person", "not exist", "n't exist", "nie istnieje", "existiert nicht",
    "n'existe pas", "no existe", "non esiste", "invalid recipient", "invalid address",
    "invalid mailbox", "invalid user", "bad recipient", "bad_recipient", "bad destination mailbox",
    "bad address", "mailbox unavailable", "mailbox not available", "mailbox is unavailable",
    "mailbox not found", "mail-box not found", "mailbox does not", "no mailbox", "no mail box",
    "no mail-box", "user not found", "recipient not found", "address not found",
    "account not found", "recipientnotfound", "recipnotfound", "not a valid mailbox",
    "not a valid user", "not a valid recipient", "not a valid address", "not a known user",
    "not an active", "no longer", "not listed in", "not recognized", "not recognised",
    "no account by that name", "by that name", "unrouteable address", "not our customer",
    "recipient rejected", "illegal alias", "unknown or illegal", "no mailbox here",
};
static const char *const disabled_phrases[] = {
    "disabled", "deactivated", "suspended", "discontinued", "inactive", "account closed",
    "account has been closed", "account is closed", "account expired", "has been terminated",
};
static const char *const domain_phrases[] = {
    "host unknown", "unknown host", "host not found", "domain not found", "no such domain",
    "unknown domain", "domain unknown", "name or service not known", "name service error",
    "nxdomain", "no mx record", "domain does not", "domain name not found", "unroutable",
    "unrouteable", "not a valid domain", "null mx", "host or domain name not found",
};
static const char *const relay_phrases[] = {
    "relay access denied", "relaying denied", "relay denied", "relay not permitted", "relaying not",
    "not permitted to relay", "unable to relay", "as a relay", "not configured to relay",
    "rcpthosts", "we do not relay", "relaying to", "relay not allowed",
};
static const char *const policy_phrases[] = {
    "spam", "blocked", "block list", "blocklist", "blacklist", "black list", "denylist",
    "dnsbl", "uribl", "unsolicited", "bulk", "junk", "content rejected", "content reject",
    "content filter", "rejected due to content", "message content", "mass mail", "virus",
    "malware", "infected", "attachment", "polic", "not accepting", "reputation", "rejected as",
    "refused by", "message refused", "message rejected", "rejected message", "whitelist",
    "white list", "requires confirmation", "scored", "filter", "banned", "access denied",
    "not allowed", "prohibited", "forbidden", "suspicious", "phish", "fraud",
};
static const char *const policy_words[] = { "rbl", "ube", "uce", "score" };
static const char *const unavailable_phrases[] = {
    "service unavailable", "service currently unavailable", "service not available",
    "try again later", "please try again", "try later", "temporarily", "temporary",
    "timed out", "timeout", "connection refused", "connection reset", "connection lost",
    "lost connection", "all hosts have been failing", "retry time", "too many connections",
    "greylist", "deferred", "queue too long", "not going to try again", "expired",
    "could not connect", "unable to connect",
};

typedef struct verdict {
    cor_bounce_class_t cls;
    const char *reason;
    bool definite;       /* a code or a known phrase decided it (not rule k) */
    char status[16];     /* the enhanced status that was used, "" for none */
} verdict_t;

static verdict_t
verdict(cor_bounce_class_t cls, const char *reason)
{
    verdict_t v = { .cls = cls, .reason = reason, .definite = true };
    return v;
}

/* `dsn_status`: the Status of a report (validated, or NULL); `text`: what
 * the MTA said for that recipient (may be NULL). */
static verdict_t
classify(const char *dsn_status, const char *text)
{
    size_t tn = text ? strnlen(text, MAX_CLASSIFY) : 0;
    g_autofree char *lc = g_ascii_strdown(text ? text : "", (gssize) tn);
    char text_status[16] = "";
    bool have_text_status = status_find(lc, text_status);
    int code = smtp_code(lc);
    const char *st = dsn_status && !status_generic(dsn_status) ? dsn_status
                   : have_text_status ? text_status
                   : dsn_status;
    char cls_digit = dsn_status ? dsn_status[0]
                   : have_text_status ? text_status[0]
                   : code ? (char) ('0' + code / 100) : 0;
    verdict_t v;

    if (ANY(lc, quota_phrases))                                   /* b */
        v = verdict(COR_BOUNCE_SOFT, "mailbox full");
    else if (ANY(lc, size_phrases))
        v = verdict(COR_BOUNCE_SOFT, "message too large");
    else if (ANY(lc, sender_phrases) || ANY_WORD(lc, sender_words)) /* c */
        v = verdict(COR_BOUNCE_SOFT, "refused as spam or by policy");
    else if (ANY(lc, unknown_phrases))                            /* d */
        v = verdict(COR_BOUNCE_HARD, "user unknown");
    else if (ANY(lc, disabled_phrases))
        v = verdict(COR_BOUNCE_HARD, "mailbox disabled");
    else if (ANY(lc, domain_phrases))                             /* e */
        v = verdict(COR_BOUNCE_HARD, "domain unknown");
    else if (ANY(lc, relay_phrases))
        v = verdict(COR_BOUNCE_HARD, "relaying refused");
    else if (ANY(lc, policy_phrases) || ANY_WORD(lc, policy_words)) /* f */
        v = verdict(COR_BOUNCE_SOFT, "refused as spam or by policy");
    else if (ANY(lc, unavailable_phrases))                        /* g */
        v = verdict(COR_BOUNCE_SOFT, "server unavailable");
    else {
        int subject, detail;
        status_parts(st, &subject, &detail);
        v = verdict(COR_BOUNCE_SOFT, "failure, reason unknown");
        v.definite = false;
        if (st && st[0] == '5' && !(subject == 0 && detail == 0)) {  /* h */
            v.definite = true;
            switch (subject) {
            case 1:
                v = verdict(COR_BOUNCE_HARD, detail == 2 ? "domain unknown" : "user unknown");
                break;
            case 2:
                v = detail == 2 ? verdict(COR_BOUNCE_SOFT, "mailbox full")
                  : detail == 3 ? verdict(COR_BOUNCE_SOFT, "message too large")
                  : detail == 1 ? verdict(COR_BOUNCE_HARD, "mailbox disabled")
                  : verdict(COR_BOUNCE_HARD, "permanent failure");
                break;
            case 3:
                if (detail == 4)
                    v = verdict(COR_BOUNCE_SOFT, "message too large");
                else
                    v.definite = false;        /* other mail-system problems: read on */
                break;
            case 4:
                v = detail == 4 ? verdict(COR_BOUNCE_HARD, "domain unknown")
                  : verdict(COR_BOUNCE_SOFT, "server unavailable");
                break;
            case 5:
                v = verdict(COR_BOUNCE_SOFT, "protocol error");
                break;
            case 6:
            case 7:
                v = verdict(COR_BOUNCE_SOFT, "refused as spam or by policy");
                break;
            default:
                v.definite = false;
                break;
            }
        }
        if (!v.definite && code >= 500 && code < 600)             /* i */
            v = code == 552 ? verdict(COR_BOUNCE_SOFT, "mailbox full")
                            : verdict(COR_BOUNCE_HARD, "permanent failure");
        else if (!v.definite && st && st[0] == '5')               /* j */
            v = verdict(COR_BOUNCE_HARD, "permanent failure");
    }
    /* a: whatever the words, a 4.x.x failure is soft; a soft reason from
     * the words says more than "temporary failure" ("452 4.2.2 mailbox
     * full") */
    if (cls_digit == '4' && (v.cls != COR_BOUNCE_SOFT || !v.definite))
        v = verdict(COR_BOUNCE_SOFT, "temporary failure");
    if (st)
        g_strlcpy(v.status, st, sizeof v.status);
    return v;
}

/* ---- the report -------------------------------------------------------------- */

static void
rcpt_free(gpointer p)
{
    cor_bounce_rcpt_t *r = p;
    if (!r)
        return;
    g_free(r->address);
    g_free(r->final_address);
    g_free(r->status);
    g_free(r->diagnostic);
    g_free(r);
}

void
cor_bounce_report_free(cor_bounce_report_t *r)
{
    if (!r)
        return;
    g_free(r->why);
    if (r->rcpts)
        g_ptr_array_unref(r->rcpts);
    g_free(r);
}

/* Adds one recipient (copies everything).  `orig` is the address as
 * addressed, `final` the final one (either may be NULL); a recipient
 * already there (same address, ASCII case-insensitive) keeps the worse
 * class. */
static void
report_add(cor_bounce_report_t *r, const char *orig, const char *final, const char *status,
           cor_bounce_class_t cls, const char *reason, const char *diag)
{
    const char *addr = orig ? orig : final;
    const char *fin = orig && final && g_ascii_strcasecmp(orig, final) != 0 ? final : NULL;
    cor_bounce_rcpt_t *old = NULL;
    for (guint i = 0; addr && i < r->rcpts->len; i++) {
        cor_bounce_rcpt_t *x = r->rcpts->pdata[i];
        if (x->address && g_ascii_strcasecmp(x->address, addr) == 0)
            old = x;
    }
    if (old && old->cls >= cls)
        return;
    if (!old && r->rcpts->len >= MAX_RCPTS)
        return;
    cor_bounce_rcpt_t *x = old ? old : g_new0(cor_bounce_rcpt_t, 1);
    g_free(x->address);
    g_free(x->final_address);
    g_free(x->status);
    g_free(x->diagnostic);
    x->address = g_strdup(addr);
    x->final_address = g_strdup(fin);
    x->status = status && *status ? g_strdup(status) : NULL;
    x->cls = cls;
    x->reason = reason;
    x->diagnostic = one_line(diag);
    if (!old)
        g_ptr_array_add(r->rcpts, x);
}

/* Sets cls (the worst recipient), the format and a `why` naming the worst
 * recipient. */
static void
report_finish(cor_bounce_report_t *r, const char *format)
{
    r->format = format;
    r->cls = COR_BOUNCE_IGNORED;
    cor_bounce_rcpt_t *worst = NULL;
    guint failed = 0;
    for (guint i = 0; i < r->rcpts->len; i++) {
        cor_bounce_rcpt_t *x = r->rcpts->pdata[i];
        if (x->cls != COR_BOUNCE_IGNORED)
            failed++;
        if (!worst || x->cls > worst->cls)
            worst = x;
    }
    if (worst)
        r->cls = worst->cls;
    g_free(r->why);
    const char *who = worst && worst->address ? worst->address : "an unnamed recipient";
    if (!worst) {
        r->why = g_strdup_printf("%s bounce that names no recipient", format);
    } else if (r->cls == COR_BOUNCE_IGNORED) {
        r->why = g_strdup_printf("%s report: %s %s, not a failure", format, who, worst->reason);
    } else {
        g_autofree char *more = failed > 1 ? g_strdup_printf(" and %u more", failed - 1)
                                           : g_strdup("");
        r->why = g_strdup_printf("%s bounce: %s failed %s (%s%s%s)%s", format, who,
                                 cor_bounce_class_to_string(r->cls), worst->reason,
                                 worst->status ? ", " : "", worst->status ? worst->status : "",
                                 more);
    }
}

/* A report of nothing that counts: auto-reply, not a bounce. */
static void
report_ignored(cor_bounce_report_t *r, const char *format, char *why)
{
    g_ptr_array_set_size(r->rcpts, 0);
    r->cls = COR_BOUNCE_IGNORED;
    r->format = format;
    g_free(r->why);
    r->why = why;
}

/* ---- reading the MIME structure ---------------------------------------------- */

typedef struct scan {
    cor_headers_t *h;
    char *from_addr;      /* lower-case domain; "" when none */
    char *to_addr;
    char *return_path;    /* NULL: no Return-Path; "" the null sender */
    char *report_type;    /* lower-case, NULL when not multipart/report */
    GPtrArray *ds;        /* char*: delivery-status parts as text */
    size_t ds_bytes;
    char *text;           /* first inline text/plain part */
    char *html_text;      /* first inline text/html part, made text */
    char *prologue;       /* text of a multipart without parts */
} scan_t;

static void
scan_clear(scan_t *s)
{
    cor_headers_free(s->h);
    g_free(s->from_addr);
    g_free(s->to_addr);
    g_free(s->return_path);
    g_free(s->report_type);
    if (s->ds)
        g_ptr_array_unref(s->ds);
    g_free(s->text);
    g_free(s->html_text);
    g_free(s->prologue);
}

/* The transfer-decoded content of a leaf part, at most `cap` bytes, as
 * text (transfer full; NULL when it has none). */
static char *
part_text(GMimePart *part, size_t cap)
{
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    if (!w)
        return NULL;
    GMimeStream *mem = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(w, mem);
    GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    size_t n = ba ? ba->len : 0;
    if (n > cap)
        n = cap;
    const char *charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    char *t = to_text(ba ? (const char *) ba->data : "", n, charset);
    g_object_unref(mem);
    return t;
}

static void
scan_walk(scan_t *s, GMimeObject *obj, int depth)
{
    if (!obj || depth > MAX_DEPTH)
        return;
    if (GMIME_IS_MESSAGE_PART(obj))
        return;                               /* the returned message */
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int n = g_mime_multipart_get_count(mp);
        if (n == 0 && !s->prologue) {
            const char *pro = g_mime_multipart_get_prologue(mp);
            if (pro && !is_blank(pro))
                s->prologue = to_text(pro, MIN(strlen(pro), MAX_TEXT), NULL);
        }
        for (int i = 0; i < n; i++)
            scan_walk(s, g_mime_multipart_get_part(mp, i), depth + 1);
        return;
    }
    if (!GMIME_IS_PART(obj))
        return;
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    g_autofree char *type = ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("text/plain");
    g_autofree char *lt = g_ascii_strdown(type, -1);
    if (g_str_has_prefix(lt, "message/") && g_str_has_suffix(lt, "delivery-status")) {
        if (s->ds_bytes >= MAX_DS)
            return;
        char *t = part_text(GMIME_PART(obj), MAX_DS - s->ds_bytes);
        if (t) {
            s->ds_bytes += strlen(t) + 1;
            g_ptr_array_add(s->ds, t);
        }
        return;
    }
    const char *disp = g_mime_object_get_disposition(obj);
    if (disp && g_ascii_strcasecmp(disp, "attachment") == 0)
        return;
    if (strcmp(lt, "text/plain") == 0 && !s->text) {
        s->text = part_text(GMIME_PART(obj), MAX_TEXT);
    } else if (strcmp(lt, "text/html") == 0 && !s->html_text) {
        g_autofree char *html = part_text(GMIME_PART(obj), MAX_TEXT);
        if (html)
            s->html_text = cor_html_to_text(html, strlen(html));
    }
}

/* Where the header block starts: after an mbox "From " line. */
static size_t
skip_from_line(const char *raw, size_t len)
{
    if (len >= 5 && memcmp(raw, "From ", 5) == 0) {
        const char *nl = memchr(raw, '\n', len);
        return nl ? (size_t) (nl + 1 - raw) : len;
    }
    return 0;
}

static void
scan_message(scan_t *s, const char *raw, size_t len)
{
    s->ds = g_ptr_array_new_with_free_func(g_free);
    s->h = cor_headers_parse(raw, len);
    s->from_addr = header_addr(cor_headers_get(s->h, "From"));
    s->to_addr = header_addr(cor_headers_get(s->h, "To"));
    const char *rp = cor_headers_get(s->h, "Return-Path");
    if (rp)
        s->return_path = header_addr(rp);

    size_t skip = skip_from_line(raw, len);
    if (skip >= len)
        return;
    static const char *fallback[] = { "UTF-8", "windows-1252", "iso-8859-1", NULL };
    GMimeParserOptions *opt = g_mime_parser_options_new();
    g_mime_parser_options_set_rfc2047_compliance_mode(opt, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_address_compliance_mode(opt, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(opt, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_allow_addresses_without_domain(opt, TRUE);
    g_mime_parser_options_set_fallback_charsets(opt, fallback);
    /* the stream owns a copy of exactly len - skip bytes (invariant 1) */
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(raw + skip, len - skip);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    GMimeMessage *m = g_mime_parser_construct_message(parser, opt);
    g_object_unref(parser);
    g_object_unref(stream);
    if (m) {
        GMimeObject *top = g_mime_message_get_mime_part(m);
        GMimeContentType *ct = top ? g_mime_object_get_content_type(top) : NULL;
        if (ct && g_mime_content_type_is_type(ct, "multipart", "report")) {
            const char *rt = g_mime_content_type_get_parameter(ct, "report-type");
            s->report_type = g_ascii_strdown(rt ? rt : "", -1);
        }
        scan_walk(s, top, 0);
        g_object_unref(m);
    }
    g_mime_parser_options_free(opt);
}

/* ---- the notice: lines before the returned message ----------------------------- */

typedef struct notice {
    char **lines;   /* all lines of the notice text (owned) */
    guint n;        /* how many come before the returned message */
    char *lc;       /* those n lines lower-cased, joined with LF */
} notice_t;

static void
notice_clear(notice_t *nt)
{
    g_strfreev(nt->lines);
    g_free(nt->lc);
}

/* The line starts the returned message (or its headers). */
static bool
starts_original(const char *line)
{
    g_autofree char *lc = g_ascii_strdown(skip_space(line), -1);
    static const char *const markers[] = {
        "below this line is a copy of the message", "this is a copy of the message",
        "original message follows", "original message headers", "message header follows",
        "-----original message-----", "undelivered message follows", "returned message follows",
        "unsent message below", "header of the original message", "original message is attached",
        "text of the original message",
    };
    if (ANY(lc, markers))
        return true;
    /* "------ ... message ... ------" style separators */
    if ((g_str_has_prefix(lc, "---") || g_str_has_prefix(lc, "===")) &&
        (strstr(lc, "original") || strstr(lc, "returned")) && strstr(lc, "message"))
        return true;
    return false;
}

static void
notice_build(notice_t *nt, const char *text)
{
    nt->lines = g_strsplit(text ? text : "", "\n", -1);
    guint n = 0;
    while (nt->lines[n] && !starts_original(nt->lines[n]))
        n++;
    nt->n = n;
    GString *lc = g_string_new(NULL);
    for (guint i = 0; i < n; i++) {
        g_autofree char *l = g_ascii_strdown(nt->lines[i], -1);
        g_string_append(lc, l);
        g_string_append_c(lc, '\n');
    }
    nt->lc = g_string_free(lc, FALSE);
}

/* The first notice line (from `from`) whose lower-cased form contains
 * `needle`, or -1. */
static int
notice_find(const notice_t *nt, guint from, const char *needle)
{
    for (guint i = from; i < nt->n; i++) {
        g_autofree char *l = g_ascii_strdown(nt->lines[i], -1);
        if (strstr(l, needle))
            return (int) i;
    }
    return -1;
}

/* The notice's paragraph about `addr`: its line and those that follow up to
 * a blank line; the whole notice when it is short and the address is not in
 * it; NULL otherwise (transfer full). */
static char *
notice_paragraph(const notice_t *nt, const char *addr)
{
    if (addr) {
        g_autofree char *la = g_ascii_strdown(addr, -1);
        const char *hit = strstr(nt->lc, la);
        int i = -1;
        if (hit) {                            /* nt->lc holds the lines joined by LF */
            i = 0;
            for (const char *q = nt->lc; q < hit; q++)
                i += *q == '\n';
        }
        if (i >= 0) {
            GString *p = g_string_new(NULL);
            for (guint j = (guint) i; j < nt->n && p->len < MAX_REASON &&
                                      (j == (guint) i || !is_blank(nt->lines[j])); j++) {
                g_string_append(p, nt->lines[j]);
                g_string_append_c(p, '\n');
            }
            return g_string_free(p, FALSE);
        }
    }
    if (strlen(nt->lc) < 1000 && !is_blank(nt->lc)) {
        GString *p = g_string_new(NULL);
        for (guint j = 0; j < nt->n; j++) {
            g_string_append(p, nt->lines[j]);
            g_string_append_c(p, '\n');
        }
        return g_string_free(p, FALSE);
    }
    return NULL;
}

/* ---- RFC 3464 ------------------------------------------------------------------- */

typedef struct dsblock {
    char *final, *original, *action, *status, *diag;
} dsblock_t;

static void
dsblock_clear(dsblock_t *b)
{
    g_free(b->final);
    g_free(b->original);
    g_free(b->action);
    g_free(b->status);
    g_free(b->diag);
    memset(b, 0, sizeof *b);
}

/* The Diagnostic-Code without its type: "smtp; 550 ..." -> "550 ...". */
static const char *
diag_text(const char *d)
{
    if (!d)
        return NULL;
    const char *semi = strchr(d, ';');
    if (semi && semi - d <= 40) {
        bool token = true;
        for (const char *q = d; q < semi; q++)
            if (*q == ' ' && q != d && q + 1 != semi)
                token = false;
        if (token)
            return skip_space(semi + 1);
    }
    return d;
}

static const char *
action_reason(const char *lc_action)
{
    if (g_str_has_prefix(lc_action, "delayed"))
        return "delayed";
    if (g_str_has_prefix(lc_action, "delivered"))
        return "delivered";
    if (g_str_has_prefix(lc_action, "relayed"))
        return "relayed";
    if (g_str_has_prefix(lc_action, "expanded"))
        return "expanded";
    return NULL;
}

/* One per-recipient block of a report into the report.  `defaults`: the
 * Action and Status of a per-message block, for blocks without them. */
static void
dsn_emit(cor_bounce_report_t *r, dsblock_t *b, const dsblock_t *defaults, const notice_t *nt)
{
    if (r->rcpts->len >= MAX_RCPTS)
        return;
    g_autofree char *orig = addr_clean(b->original);
    g_autofree char *final = addr_clean(b->final);
    const char *addr = orig ? orig : final;
    const char *action = b->action ? b->action : defaults->action ? defaults->action : "";
    g_autofree char *lc_action = g_ascii_strdown(skip_space(action), -1);
    char st_buf[16] = "";
    const char *status_field = b->status ? b->status : defaults->status;
    const char *st = status_find(status_field, st_buf) ? st_buf : NULL;
    const char *diag = diag_text(b->diag);
    if (diag && is_blank(diag))
        diag = NULL;

    const char *ignored = action_reason(lc_action);
    bool failing_status = st && (st[0] == '5' || st[0] == '4');
    if (ignored || (!g_str_has_prefix(lc_action, "failed") && !failing_status)) {
        report_add(r, orig, final, st, COR_BOUNCE_IGNORED, ignored ? ignored : "delivered", diag);
        return;
    }
    /* failed: class from the status and what the MTA said; a report that
     * says no more than "5.0.0" leans on the notice's words */
    g_autofree char *para = NULL;
    const char *text = diag;
    if (!diag && status_generic(st)) {
        para = notice_paragraph(nt, addr);
        text = para;
    }
    verdict_t v = classify(st, text);
    report_add(r, orig, final, st ? st : v.status[0] ? v.status : NULL, v.cls, v.reason, text);
}

/* Every recipient block of one delivery-status text. */
static void
dsn_parse(cor_bounce_report_t *r, const char *ds, const notice_t *nt)
{
    g_auto(GStrv) lines = g_strsplit(ds, "\n", -1);
    dsblock_t b = { 0 }, defaults = { 0 };
    bool seen_rcpt = false;
    GString *name = g_string_new(NULL), *value = g_string_new(NULL);
    bool in_field = false;

    for (guint i = 0;; i++) {
        const char *line = lines[i];
        bool cont = line && (*line == ' ' || *line == '\t') && !is_blank(line) && in_field;
        if (cont) {
            g_string_append_c(value, ' ');
            g_string_append(value, skip_space(line));
            continue;
        }
        /* the field before ends here */
        if (in_field) {
            char **slot = NULL;
            const char *n = name->str;
            if (g_ascii_strcasecmp(n, "Final-Recipient") == 0) {
                if (b.final) {                /* a second recipient without a blank line */
                    dsn_emit(r, &b, &defaults, nt);
                    seen_rcpt = true;
                    dsblock_clear(&b);
                }
                slot = &b.final;
            } else if (g_ascii_strcasecmp(n, "Original-Recipient") == 0) {
                if (b.original || (b.final && b.action)) {
                    dsn_emit(r, &b, &defaults, nt);
                    seen_rcpt = true;
                    dsblock_clear(&b);
                }
                slot = &b.original;
            } else if (g_ascii_strcasecmp(n, "Action") == 0) {
                slot = &b.action;
            } else if (g_ascii_strcasecmp(n, "Status") == 0) {
                slot = &b.status;
            } else if (g_ascii_strcasecmp(n, "Diagnostic-Code") == 0) {
                slot = &b.diag;
            }
            if (slot && !*slot)
                *slot = g_strdup(g_strstrip(value->str));
            in_field = false;
        }
        if (!line || is_blank(line)) {
            /* a block ends */
            if (b.final || b.original) {
                dsn_emit(r, &b, &defaults, nt);
                seen_rcpt = true;
            } else if (!seen_rcpt && (b.action || b.status)) {
                dsblock_clear(&defaults);
                defaults = b;                 /* the per-message block's Action/Status */
                memset(&b, 0, sizeof b);
            }
            dsblock_clear(&b);
            if (!line)
                break;
            continue;
        }
        const char *colon = strchr(line, ':');
        const char *q = line;
        while (q < (colon ? colon : line) && (g_ascii_isalnum(*q) || *q == '-' || *q == '_'))
            q++;
        if (colon && q == colon && q > line) {
            g_string_assign(name, "");
            g_string_append_len(name, line, colon - line);
            g_string_assign(value, colon + 1);
            in_field = true;
        }
        /* anything else (garbage in a report) is skipped */
    }
    dsblock_clear(&b);
    dsblock_clear(&defaults);
    g_string_free(name, TRUE);
    g_string_free(value, TRUE);
}

/* ---- text formats ------------------------------------------------------------------ */

typedef struct cand {
    char *orig;         /* as addressed, cleaned, or NULL */
    char *final;        /* the final recipient, cleaned, or NULL */
    GString *reason;    /* what the MTA said for it */
    bool delayed;       /* a delay warning, not a failure */
} cand_t;

static void
cand_free(gpointer p)
{
    cand_t *c = p;
    g_free(c->orig);
    g_free(c->final);
    g_string_free(c->reason, TRUE);
    g_free(c);
}

static cand_t *
cand_new(GPtrArray *cands, char *final, const char *reason)
{
    if (cands->len >= MAX_RCPTS) {
        g_free(final);
        return NULL;
    }
    cand_t *c = g_new0(cand_t, 1);
    c->final = final;
    const char *r = reason ? skip_space(reason) : "";
    c->reason = g_string_new_len(r, (gssize) strnlen(r, MAX_REASON));
    g_ptr_array_add(cands, c);
    return c;
}

static void
cand_append(cand_t *c, const char *text)
{
    if (!c || c->reason->len >= MAX_REASON)
        return;
    if (c->reason->len)
        g_string_append_c(c->reason, '\n');
    const char *t = skip_space(text);
    g_string_append_len(c->reason, t, (gssize) strnlen(t, MAX_REASON - c->reason->len));
}

/* Classes every candidate into the report; false when there were none. */
static bool
cands_report(cor_bounce_report_t *r, GPtrArray *cands, const char *format)
{
    guint added = 0;
    for (guint i = 0; i < cands->len; i++) {
        cand_t *c = cands->pdata[i];
        if (!c->orig && !c->final)
            continue;
        const char *reason = c->reason->len ? c->reason->str : NULL;
        if (c->delayed) {
            report_add(r, c->orig, c->final, NULL, COR_BOUNCE_IGNORED, "delayed", reason);
        } else {
            verdict_t v = classify(NULL, reason);
            report_add(r, c->orig, c->final, v.status[0] ? v.status : NULL, v.cls, v.reason,
                       reason);
        }
        added++;
    }
    if (added)
        report_finish(r, format);
    return added > 0;
}

/* qmail: "<addr>:" then the reason lines, up to a blank line. */
static void
parse_qmail(const notice_t *nt, GPtrArray *cands)
{
    cand_t *cur = NULL;
    for (guint i = 0; i < nt->n; i++) {
        const char *l = nt->lines[i];
        const char *gt = *l == '<' ? strstr(l, ">:") : NULL;
        if (gt) {
            g_autofree char *a = g_strndup(l + 1, (size_t) (gt - l - 1));
            cur = cand_new(cands, addr_clean(a), gt + 2);
        } else if (is_blank(l)) {
            cur = NULL;
        } else if (cur) {
            cand_append(cur, l);
        }
    }
}

/* Exim: after "... address(es) failed:", "  addr" lines with "    reason"
 * lines below; "(generated from X)" names the address as addressed. */
static void
parse_exim(const notice_t *nt, GPtrArray *cands, bool delayed)
{
    guint i = 0;
    for (; i < nt->n; i++) {
        g_autofree char *lc = g_ascii_strdown(nt->lines[i], -1);
        g_strstrip(lc);
        size_t n = strlen(lc);
        if (n && lc[n - 1] == ':' &&
            (strstr(lc, "failed") || strstr(lc, "not yet been delivered") || strstr(lc, "address")))
            break;
    }
    cand_t *cur = NULL;
    for (i++; i < nt->n; i++) {
        const char *l = nt->lines[i];
        if (is_blank(l))
            continue;
        int ind = indent_of(l);
        if (ind == 0) {
            if (cands->len)
                break;                        /* the list is over */
            continue;
        }
        if (ind <= 3) {
            const char *end = NULL;
            char *a = addr_at_start(l, &end);
            if (a) {
                cur = cand_new(cands, a, end && *end == ':' ? end + 1 : "");
                if (cur)
                    cur->delayed = delayed;
            } else {
                cur = NULL;
            }
            continue;
        }
        if (!cur)
            continue;
        g_autofree char *lc = g_ascii_strdown(l, -1);
        const char *gen = strstr(lc, "generated from");
        if (gen && !cur->orig) {
            cur->orig = addr_find(l + (gen - lc), NULL);
        } else {
            cand_append(cur, l);
        }
    }
}

/* sendmail: the address lines under "----- The following addresses had
 * permanent fatal errors -----" with "(reason: ...)" and "(expanded from:
 * ...)" below; without a reason, the transcript lines that name it. */
static void
parse_sendmail(const notice_t *nt, GPtrArray *cands)
{
    GString *transcript = g_string_new(NULL);
    int t = notice_find(nt, 0, "transcript of session follows");
    for (guint j = t >= 0 ? (guint) t + 1 : nt->n; j < nt->n; j++) {
        if (strstr(nt->lines[j], "-----"))
            break;
        g_string_append(transcript, nt->lines[j]);
        g_string_append_c(transcript, '\n');
    }
    for (guint i = 0; i < nt->n; i++) {
        g_autofree char *lc = g_ascii_strdown(nt->lines[i], -1);
        bool fatal = strstr(lc, "following addresses had permanent fatal errors") != NULL;
        bool transient = strstr(lc, "following addresses had transient non-fatal errors") != NULL;
        if (!fatal && !transient)
            continue;
        cand_t *cur = NULL;
        guint j = i + 1;
        for (; j < nt->n; j++) {
            const char *l = nt->lines[j];
            if (is_blank(l) || strstr(l, "-----"))
                break;
            const char *s = skip_space(l);
            if (indent_of(l) == 0) {
                cur = cand_new(cands, addr_find(l, NULL), NULL);
                if (cur)
                    cur->delayed = transient;
            } else if (cur && g_ascii_strncasecmp(s, "(reason:", 8) == 0) {
                g_autofree char *r = g_strstrip(g_strdup(s + 8));
                size_t n = strlen(r);
                if (n && r[n - 1] == ')')
                    r[n - 1] = '\0';
                cand_append(cur, r);
            } else if (cur && g_ascii_strncasecmp(s, "(expanded from:", 15) == 0) {
                if (!cur->orig)
                    cur->orig = addr_find(s + 15, NULL);
            } else if (cur) {
                cand_append(cur, s);
            }
        }
        i = j;
    }
    /* no reason: the transcript's lines about that address */
    g_auto(GStrv) tl = g_strsplit(transcript->str, "\n", -1);
    for (guint k = 0; k < cands->len; k++) {
        cand_t *c = cands->pdata[k];
        if (c->reason->len || !c->final)
            continue;
        for (guint j = 0; tl[j]; j++)
            if (strcasestr(tl[j], c->final))
                cand_append(c, tl[j]);
        if (!c->reason->len)
            cand_append(c, transcript->str);
    }
    g_string_free(transcript, TRUE);
}

/* Postfix: "<addr>: reason" or "<addr> (expanded from <orig>): reason",
 * continued on indented lines. */
static void
parse_postfix(const notice_t *nt, GPtrArray *cands, bool delayed)
{
    cand_t *cur = NULL;
    for (guint i = 0; i < nt->n; i++) {
        const char *l = nt->lines[i];
        if (*l == '<') {
            const char *gt = strchr(l, '>');
            if (gt) {
                g_autofree char *a = g_strndup(l + 1, (size_t) (gt - l - 1));
                const char *rest = gt + 1;
                char *orig = NULL;
                if (g_str_has_prefix(rest, " (expanded from ")) {
                    const char *close = strchr(rest, ')');
                    if (close) {
                        g_autofree char *o = g_strndup(rest + 16, (size_t) (close - rest - 16));
                        orig = addr_clean(o);
                        rest = close + 1;
                    }
                }
                if (*rest == ':') {
                    cur = cand_new(cands, addr_clean(a), rest + 1);
                    if (cur) {
                        cur->orig = orig;
                        cur->delayed = delayed;
                    } else {
                        g_free(orig);
                    }
                    continue;
                }
                g_free(orig);
            }
        }
        if (is_blank(l))
            cur = NULL;
        else if (cur && (*l == ' ' || *l == '\t'))
            cand_append(cur, l);
        else
            cur = NULL;
    }
}

/* A line that is one address and nothing else (transfer full, or NULL). */
static char *
line_address(const char *l)
{
    const char *end = NULL;
    char *a = addr_at_start(l, &end);
    if (a && !is_blank(end)) {
        g_free(a);
        return NULL;
    }
    return a;
}

/* Exchange: "Diagnostic information for administrators:" (2007 and later)
 * with an address line and the server's reply below; else "did not reach
 * the following recipient(s):" (5.5-2003), "ADDR on DATE" and indented
 * reasons; else "Delivery has failed to these recipients". */
static void
parse_exchange(const notice_t *nt, GPtrArray *cands)
{
    int i = notice_find(nt, 0, "diagnostic information for administrators");
    if (i >= 0) {
        cand_t *cur = NULL;
        for (guint j = (guint) i + 1; j < nt->n; j++) {
            const char *l = nt->lines[j];
            if (is_blank(l)) {
                cur = NULL;
                continue;
            }
            char *a = line_address(l);
            if (a)
                cur = cand_new(cands, a, NULL);
            else if (cur)
                cand_append(cur, l);
        }
        if (cands->len)
            return;
    }
    i = notice_find(nt, 0, "did not reach the following recipient");
    if (i >= 0) {
        cand_t *cur = NULL;
        for (guint j = (guint) i + 1; j < nt->n; j++) {
            const char *l = nt->lines[j];
            if (is_blank(l))
                continue;
            if (indent_of(l) == 0) {
                char *a = strchr(l, '@') ? addr_find(l, NULL) : NULL;
                if (a)
                    cur = cand_new(cands, a, NULL);
                else if (*l != ';')
                    cur = NULL;
            } else if (cur && !strcasestr(l, "MTS-ID")) {
                cand_append(cur, l);
            }
        }
        if (cands->len)
            return;
    }
    i = notice_find(nt, 0, "delivery has failed to these recipients");
    if (i >= 0) {
        cand_t *cur = NULL;
        for (guint j = (guint) i + 1; j < nt->n; j++) {
            const char *l = nt->lines[j];
            if (is_blank(l)) {
                if (cur)
                    break;
                continue;
            }
            char *a = cur ? NULL : addr_find(l, NULL);
            if (a)
                cur = cand_new(cands, a, NULL);
            else if (cur)
                cand_append(cur, l);
        }
    }
}

/* Lotus Domino: "was not delivered to:" addresses, "because:" reason. */
static void
parse_domino(const notice_t *nt, GPtrArray *cands)
{
    int i = notice_find(nt, 0, "was not delivered to:");
    int b = i >= 0 ? notice_find(nt, (guint) i + 1, "because:") : -1;
    if (i < 0 || b < 0)
        return;
    GString *reason = g_string_new(NULL);
    for (guint j = (guint) b + 1; j < nt->n && reason->len < MAX_REASON; j++) {
        if (is_blank(nt->lines[j])) {
            if (reason->len)
                break;
            continue;
        }
        if (reason->len)
            g_string_append_c(reason, ' ');
        g_string_append(reason, skip_space(nt->lines[j]));
    }
    for (guint j = (guint) i + 1; j < (guint) b; j++) {
        const char *p = nt->lines[j], *next = NULL;
        char *a;
        while ((a = addr_find(p, &next))) {
            cand_new(cands, a, reason->str);
            p = next;
        }
    }
    g_string_free(reason, TRUE);
}

/* Novell GroupWise: "addr (reason)" lines under its sentence. */
static void
parse_groupwise(const notice_t *nt, GPtrArray *cands)
{
    int i = notice_find(nt, 0, "was undeliverable to the following");
    if (i < 0)
        return;
    for (guint j = (guint) i + 1; j < nt->n; j++) {
        const char *l = nt->lines[j];
        if (is_blank(l)) {
            if (cands->len)
                break;
            continue;
        }
        const char *end = NULL;
        char *a = addr_find(l, &end);
        if (a)
            cand_new(cands, a, end);
    }
}

/* AOL: "Your mail to the following recipients could not be delivered
 * because REASON:" and screen names below (given the From's domain). */
static void
parse_aol(const notice_t *nt, GPtrArray *cands, const char *from_domain)
{
    int i = notice_find(nt, 0, "your mail to the following recipients could not be delivered");
    if (i < 0)
        return;
    const char *l = nt->lines[i];
    const char *because = strcasestr(l, "because");
    g_autofree char *reason = g_strdup(because ? because : l);
    for (guint j = (guint) i + 1; j < nt->n; j++) {
        const char *t = nt->lines[j];
        if (is_blank(t)) {
            if (cands->len)
                break;
            continue;
        }
        if (indent_of(t) == 0)
            break;
        g_autofree char *name = g_strstrip(g_strdup(t));
        char *a = strchr(name, '@') ? addr_clean(name) : NULL;
        if (!a && *from_domain) {
            bool ok = *name != '\0';
            for (const char *q = name; *q; q++)
                if (!local_char((unsigned char) *q))
                    ok = false;
            if (ok) {
                g_autofree char *full = g_strdup_printf("%s@%s", name, from_domain);
                a = addr_clean(full);
            }
        }
        if (a)
            cand_new(cands, a, reason);
    }
}

/* IIS / Exchange SMTP service: indented addresses under "Delivery to the
 * following recipients failed." (or "has been delayed."). */
static void
parse_iis(const notice_t *nt, GPtrArray *cands)
{
    int i = notice_find(nt, 0, "delivery to the following recipients");
    if (i < 0)
        return;
    g_autofree char *lc = g_ascii_strdown(nt->lines[i], -1);
    bool delayed = strstr(lc, "delayed") != NULL;
    for (guint j = (guint) i + 1; j < nt->n; j++) {
        const char *l = nt->lines[j];
        if (is_blank(l))
            continue;
        char *a = line_address(l);
        if (!a) {
            if (cands->len)
                break;
            continue;
        }
        cand_t *c = cand_new(cands, a, NULL);
        if (c)
            c->delayed = delayed;
    }
}

/* The known text formats, by their fixed sentences; true when one named a
 * recipient. */
static bool
text_formats(cor_bounce_report_t *r, const scan_t *s, const notice_t *nt)
{
    const char *lc = nt->lc;
    g_autoptr(GPtrArray) cands = g_ptr_array_new_with_free_func(cand_free);
    const char *format = NULL;

    if (strstr(lc, "this is the qmail-send program") || strstr(lc, "qmail-send program at")) {
        format = "qmail";
        parse_qmail(nt, cands);
    } else if (strstr(lc, "created automatically by mail delivery software") ||
               cor_headers_get(s->h, "X-Failed-Recipients")) {
        format = "exim";
        parse_exim(nt, cands, strstr(lc, "has not yet been delivered") != NULL);
        const char *xf = cor_headers_get(s->h, "X-Failed-Recipients");
        if (!cands->len && xf) {
            const char *p = xf, *next = NULL;
            char *a;
            while ((a = addr_find(p, &next))) {
                cand_new(cands, a, NULL);
                p = next;
            }
        }
    } else if (strstr(lc, "following addresses had permanent fatal errors") ||
               strstr(lc, "following addresses had transient non-fatal errors")) {
        format = "sendmail";
        parse_sendmail(nt, cands);
    } else if (strstr(lc, "this is the postfix program") ||
               strstr(lc, "this is the mail system at host")) {
        format = "postfix";
        parse_postfix(nt, cands, strstr(lc, "this is a warning only") != NULL ||
                                 strstr(lc, "delayed mail") != NULL);
    } else if (strstr(lc, "did not reach the following recipient") ||
               strstr(lc, "diagnostic information for administrators") ||
               strstr(lc, "delivery has failed to these recipients")) {
        format = "exchange";
        parse_exchange(nt, cands);
    } else if (strstr(lc, "was not delivered to:") && strstr(lc, "because:")) {
        format = "domino";
        parse_domino(nt, cands);
    } else if (strstr(lc, "was undeliverable to the following")) {
        format = "groupwise";
        parse_groupwise(nt, cands);
    } else if (strstr(lc, "your mail to the following recipients could not be delivered")) {
        format = "aol";
        parse_aol(nt, cands, domain_of(s->from_addr));
    } else if (strstr(lc, "delivery to the following recipients")) {
        format = "iis";
        parse_iis(nt, cands);
    }
    return format && cands_report(r, cands, format);
}

/* ---- challenge-response, receipts, auto-replies, the heuristic -------------------- */

/* Why the message is a challenge-response request, or NULL (static). */
static const char *
challenge_response(const scan_t *s, const notice_t *nt)
{
    /* not "X-CR-": Exchange's X-CR-HashedPuzzle is on ordinary Outlook mail */
    static const char *const prefixes[] = {
        "x-bluebottle", "x-boxbe", "x-spamarrest", "x-mailblocks",
    };
    for (guint i = 0; i < cor_headers_size(s->h); i++) {
        g_autofree char *n = g_ascii_strdown(cor_headers_name(s->h, i), -1);
        for (size_t k = 0; k < G_N_ELEMENTS(prefixes); k++)
            if (g_str_has_prefix(n, prefixes[k]))
                return "a challenge-response header";
    }
    static const char *const services[] = {
        "boxbe.com", "bluebottle.com", "spamarrest.com", "mailblocks.com",
    };
    const char *senders[] = { s->from_addr, s->return_path };
    for (size_t k = 0; k < G_N_ELEMENTS(senders); k++)
        for (size_t j = 0; senders[k] && j < G_N_ELEMENTS(services); j++)
            if (g_ascii_strcasecmp(domain_of(senders[k]), services[j]) == 0)
                return "sent by a challenge-response service";
    for (guint i = 0; i < s->ds->len; i++)
        if (strcasestr(s->ds->pdata[i], "x-boxbe"))
            return "a challenge-response notice in a delivery report";
    static const char *const phrases[] = {
        "sender not pre-approved", "has been waitlisted", "my guest list", "challenge-response",
        "challenge/response", "to have your address added to", "added to the recipient's allowed",
        "spam arrest", "spamarrest",
    };
    size_t n = strlen(nt->lc);
    g_autofree char *head = g_strndup(nt->lc, n < MAX_CR_SCAN ? n : MAX_CR_SCAN);
    if (ANY(head, phrases))
        return "a challenge-response request in the text";
    return NULL;
}

/* From: is a mail system (none, "<>", MAILER-DAEMON, postmaster, "Mail
 * Delivery ...").  The null envelope sender is no sign: RFC 3834
 * auto-replies use it too. */
static bool
daemon_sender(const scan_t *s)
{
    const char *from = cor_headers_get(s->h, "From");
    if (!from || is_blank(from))
        return true;
    g_autofree char *lc = g_ascii_strdown(from, -1);
    if (strstr(lc, "<>") || strstr(lc, "mailer-daemon") || strstr(lc, "mail delivery") ||
        strstr(lc, "mail-daemon") || strstr(lc, "postmaster"))
        return true;
    return false;
}

/* Addresses that are never the failed recipient: the bounce's own sender
 * and recipient, and mail-system mailboxes. */
static bool
excluded_address(const scan_t *s, const char *a)
{
    if ((*s->from_addr && g_ascii_strcasecmp(a, s->from_addr) == 0) ||
        (*s->to_addr && g_ascii_strcasecmp(a, s->to_addr) == 0) ||
        (s->return_path && *s->return_path && g_ascii_strcasecmp(a, s->return_path) == 0))
        return true;
    return g_ascii_strncasecmp(a, "postmaster@", 11) == 0 ||
           g_ascii_strncasecmp(a, "mailer-daemon@", 14) == 0;
}

/* Only words that name a failure count in free text: "temporarily" or a
 * bare reply code do not. */
static bool
heuristic_verdict(const verdict_t *v)
{
    return v->definite && strcmp(v->reason, "server unavailable") != 0 &&
           strcmp(v->reason, "permanent failure") != 0 && strcmp(v->reason, "protocol error") != 0;
}

/* Bounce-looking mail in no known format: the notice's lines that name an
 * address, classed by their own words or the notice's; only a definite
 * class counts. */
static bool
heuristic(cor_bounce_report_t *r, const scan_t *s, const notice_t *nt)
{
    verdict_t all = classify(NULL, nt->lc);
    g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
    guint added = 0;
    for (guint i = 0; i < nt->n && seen->len < 20; i++) {
        const char *p = nt->lines[i], *next = NULL;
        char *a;
        while ((a = addr_find(p, &next)) && seen->len < 20) {
            p = next;
            bool dup = excluded_address(s, a);
            for (guint k = 0; !dup && k < seen->len; k++)
                dup = g_ascii_strcasecmp(seen->pdata[k], a) == 0;
            if (dup) {
                g_free(a);
                continue;
            }
            g_ptr_array_add(seen, a);
            verdict_t v = classify(NULL, nt->lines[i]);
            if (!heuristic_verdict(&v))
                v = all;
            if (!heuristic_verdict(&v))
                continue;
            report_add(r, a, NULL, v.status[0] ? v.status : NULL, v.cls, v.reason, nt->lines[i]);
            added++;
        }
        if (a)
            g_free(a);
    }
    if (added)
        report_finish(r, "heuristic");
    return added > 0;
}

/* ---- the parse -------------------------------------------------------------------- */

/* No report and no known text: an auto-reply, a bounce in words, or
 * ordinary mail. */
static void
decide_words(cor_bounce_report_t *r, const scan_t *s, const notice_t *nt, const char *raw,
             size_t len)
{
    g_autoptr(cor_message_t) msg = NULL;
    g_autofree char *ar = NULL;
    g_autofree char *bd = NULL;
    unsigned flags = COR_PARSE_SUMMARY | COR_PARSE_EDGES;
    if (cor_message_parse_ex(raw, len, 0, flags, &msg, NULL) == COR_OK) {
        ar = cor_autoreply_detect(msg, s->h, s->return_path);
        bd = cor_bounce_detect(msg, s->h, s->return_path);
    }
    bool daemon = daemon_sender(s);
    /* Postfix and sendmail write Auto-Submitted on their bounces */
    bool daemon_auto = ar && g_str_has_prefix(ar, "Auto-Submitted") && daemon;
    if (ar && !daemon_auto) {
        report_ignored(r, "auto-reply", g_strdup_printf("auto-reply: %s", ar));
        return;
    }
    if ((bd || daemon) && heuristic(r, s, nt))
        return;
    if (bd || daemon_auto)
        report_ignored(r, "not-a-bounce",
                       g_strdup_printf("looks like a bounce (%s) but names no failed recipient",
                                       bd ? bd : "sent by a mail system"));
    else
        report_ignored(r, "not-a-bounce",
                       g_strdup("no delivery report, no bounce text and no auto-reply sign"));
}

static void
decide(cor_bounce_report_t *r, const scan_t *s, const notice_t *nt, const char *raw, size_t len)
{
    const char *cr = challenge_response(s, nt);
    if (cr) {
        report_ignored(r, "auto-reply", g_strdup_printf("challenge-response: %s", cr));
        return;
    }
    if (s->ds->len == 0 && s->report_type &&
        (strcmp(s->report_type, "disposition-notification") == 0 ||
         strcmp(s->report_type, "feedback-report") == 0)) {
        report_ignored(r, "not-a-bounce",
                       g_strdup_printf("a %s report, not a bounce", s->report_type));
        return;
    }
    for (guint i = 0; i < s->ds->len; i++)
        dsn_parse(r, s->ds->pdata[i], nt);
    if (r->rcpts->len) {
        report_finish(r, "rfc3464");
        return;
    }
    if (text_formats(r, s, nt))
        return;
    decide_words(r, s, nt, raw, len);
}

cor_status_t
cor_bounce_parse(const char *raw, size_t len, cor_bounce_report_t **out)
{
    if (out)
        *out = NULL;
    if (!out || (!raw && len > 0))
        return COR_ERR_INVALID;
    cor_message_init();
    if (!raw)
        raw = "";
    size_t n = len < COR_BOUNCE_MAX_INPUT ? len : COR_BOUNCE_MAX_INPUT;

    cor_bounce_report_t *r = g_new0(cor_bounce_report_t, 1);
    r->rcpts = g_ptr_array_new_with_free_func(rcpt_free);
    r->format = "not-a-bounce";
    r->why = g_strdup("empty message");
    if (n > 0) {
        scan_t s = { 0 };
        scan_message(&s, raw, n);
        notice_t nt = { 0 };
        notice_build(&nt, s.text ? s.text : s.html_text ? s.html_text : s.prologue);
        decide(r, &s, &nt, raw, n);
        notice_clear(&nt);
        scan_clear(&s);
    }
    /* `why` may quote a subject (via the filters): one clean line */
    char *why = r->why;
    r->why = g_utf8_validate(why, -1, NULL) ? g_strdup(why) : g_utf8_make_valid(why, -1);
    g_free(why);
    for (char *p = r->why; *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7F)
            *p = ' ';
    *out = r;
    return COR_OK;
}
