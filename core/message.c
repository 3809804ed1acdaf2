/* core/message.c — parsing one original message (see message.h).
 *
 * Design notes
 * ------------
 * One GMime parse, then one depth-first walk of the MIME tree that fills
 * the body, the attachment list and the attachment text together.  GMime
 * reads a copy of the original from which the header fields this module
 * never reads (Received, DKIM, X-...: a third of the parse time of list
 * mail) were dropped (filter_headers); the GMimeStreamMem borrows that copy,
 * and parts' contents stay substreams of it (no further copies).
 *
 * Decisions the header leaves open, made here:
 *
 *   - Part indices count every MIME entity in depth-first order: the
 *     message's top-level part is 0, a multipart counts before its children,
 *     a message/rfc822 part counts and then the parts of the message inside.
 *   - multipart/alternative: the first inline text/plain child is the body
 *     when it has any non-blank text; otherwise the last text/html or
 *     multipart child (the richest rendering) is walked.  The other
 *     alternatives give no text, but attachments inside them (images of an
 *     HTML multipart/related) are still listed.
 *   - multipart/mixed and the rest: inline text/plain and text/html parts
 *     without a file name are the body, in order, separated by a blank line.
 *     A message that is a single text part is its body even with a file
 *     name, unless its disposition is "attachment".
 *   - Text parts that are attachments (a file name, "Content-Disposition:
 *     attachment", or a subtype other than plain/html such as x-patch) and
 *     the textual message/delivery-status and message/disposition-notification
 *     parts are listed as attachments with is_inline_text set, and their text
 *     (HTML rendered as text) goes into attachment_text, at most 1 MiB per
 *     part and 4 MiB in all (a warning says when text was cut).
 *   - Signature parts (application/pgp-signature, application/(x-)pkcs7-
 *     signature) are listed as attachments and never give text.
 *   - An attached message (message/rfc822, e.g. forwarded as attachment or
 *     returned in a bounce) is listed as an attachment and its text follows
 *     in the body under a "---------- Forwarded message ----------" line
 *     with its From, Date, Subject and To, so search finds it and the quote
 *     rules put it in quoted_text, not new_text.
 *   - List-Id is the id between the angle brackets (lowercased, RFC 2919
 *     compares it without case), or the whole value when there are none.
 *   - A Date before 2 January 1970 or more than a year after `received`
 *     (after now when `received` is 0) is unusable like an unparsable one.
 *   - In-Reply-To and References that name the message itself are dropped
 *     (a self-reference is a loop).  Message-IDs never contain white space
 *     (the store keeps References space separated): it is removed.
 *
 * Salvage: a multipart whose declared boundary never occurs but whose body
 * starts with "--other" and a header line is parsed again with "other"
 * (once per message); a multipart without parts gives its prologue as text;
 * NUL bytes are dropped; every repair adds a line to `warnings`.
 *
 * Charsets: every text is converted to UTF-8 by to_utf8(): the declared
 * charset first (through GMime's cached iconv); text that is valid UTF-8
 * despite a single-byte label is taken as UTF-8 (mislabelled UTF-8 is far
 * more common than Latin-1 that happens to validate); undeclared or unknown
 * charsets and broken UTF-8 fall back to windows-1252, whose unassigned
 * bytes map as in Latin-1, so the fallback never fails.  Subject and
 * Thread-Topic go through decode_unstructured(), a lenient RFC 2047 decoder
 * that uses to_utf8() for every encoded word (GMime turns an undecodable
 * byte of "=?utf-8?Q?caf=E9?=" into '?' and "x-unknown" into the locale's
 * charset); addresses and file names (RFC 2231) are decoded by GMime with
 * the fallback charsets UTF-8, windows-1252, ISO-8859-1, then checked.
 *
 * Thread safety: every allocation belongs to one call; the parser options
 * are created per call (they carry the call's warning callback).
 */
#include "core/message.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <iconv.h>
#include <libxml/parser.h>
#include <string.h>

#include "core/html_text.h"
#include "core/quote.h"

#define MAX_WARNINGS          32
#define MAX_PART_TEXT         (1u << 20)
#define MAX_ATTACHMENT_TEXT   (4u << 20)
#define MAX_DEPTH             64

/* ---- initialisation ------------------------------------------------------ */

static gsize init_done;

void
cor_message_init(void)
{
    if (g_once_init_enter(&init_done)) {
        g_mime_init();
        xmlInitParser();
        g_once_init_leave(&init_done, 1);
    }
}

/* ---- small helpers ------------------------------------------------------- */

char *
cor_message_id_generate(const char *kind, const char *domain)
{
    guint32 r[4];
    for (int i = 0; i < 4; i++)
        r[i] = g_random_int();
    return g_strdup_printf("corridor.%s.%" G_GINT64_MODIFIER "x.%08x%08x%08x%08x@%s", kind,
                           g_get_real_time(), r[0], r[1], r[2], r[3],
                           domain && *domain ? domain : "localhost");
}

bool
cor_message_id_generated(const char *message_id)
{
    /* "corridor." KIND "." ... "@": the prefix and two more dots before the @ */
    if (!message_id || strncmp(message_id, "corridor.", 9) != 0)
        return false;
    const char *at = strchr(message_id, '@');
    const char *dot = strchr(message_id + 9, '.');
    return at && dot && dot < at && strchr(dot + 1, '.') && strchr(dot + 1, '.') < at;
}

void
cor_sha256_hex(const char *data, size_t len, char out[65])
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(sum, (const guchar *) data, (gssize) len);
    g_strlcpy(out, g_checksum_get_string(sum), 65);
}

static bool
all_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char) s[i] >= 0x80)
            return false;
    }
    return true;
}

/* windows-1252 to UTF-8; the five unassigned bytes map as in Latin-1. */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static char *
cp1252_to_utf8(const char *s, size_t len)
{
    GString *out = g_string_sized_new(len + len / 4 + 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c < 0x80)
            g_string_append_c(out, (char) c);
        else if (c < 0xA0)
            g_string_append_unichar(out, cp1252_high[c - 0x80]);
        else
            g_string_append_unichar(out, c);
    }
    return g_string_free(out, FALSE);
}

/* Whether invalid UTF-8 is mostly UTF-8 with some damage (more valid
 * multi-byte sequences than invalid bytes). */
static bool
mostly_utf8(const char *s, size_t len)
{
    size_t good = 0, bad = 0;
    const char *p = s, *end = s + len;
    while (p < end) {
        if ((unsigned char) *p < 0x80) {
            p++;
            continue;
        }
        gunichar c = g_utf8_get_char_validated(p, end - p);
        if (c == (gunichar) -1 || c == (gunichar) -2) {
            bad++;
            p++;
        } else {
            good++;
            p = g_utf8_next_char(p);
        }
    }
    return good > bad;
}

/* Bytes in an unknown or undeclared charset to UTF-8 (transfer full). */
static char *
guess_to_utf8(const char *s, size_t len, bool *lossy)
{
    if (g_utf8_validate_len(s, len, NULL))
        return g_strndup(s, len);
    if (mostly_utf8(s, len)) {
        *lossy = true;
        return g_utf8_make_valid(s, (gssize) len);
    }
    return cp1252_to_utf8(s, len);
}

static bool
charset_is(const char *cs, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (g_ascii_strcasecmp(cs, names[i]) == 0)
            return true;
    }
    return false;
}

/* Converts with iconv, replacing undecodable bytes by U+FFFD. */
static char *
iconv_to_utf8(iconv_t cd, const char *s, size_t len, size_t *errors)
{
    GString *out = g_string_sized_new(len * 2 + 16);
    char buf[4096];
    char *in = (char *) s;
    size_t inleft = len;

    while (inleft > 0) {
        char *ob = buf;
        size_t oleft = sizeof buf;
        size_t r = iconv(cd, &in, &inleft, &ob, &oleft);
        g_string_append_len(out, buf, (gssize) (ob - buf));
        if (r != (size_t) -1)
            continue;
        if (errno == E2BIG)
            continue;
        (*errors)++;
        g_string_append(out, "\xEF\xBF\xBD");
        if (errno == EILSEQ) {
            in++;
            inleft--;
        } else {
            break;       /* EINVAL: incomplete sequence at the end */
        }
    }
    char *ob = buf;
    size_t oleft = sizeof buf;
    iconv(cd, NULL, NULL, &ob, &oleft);
    g_string_append_len(out, buf, (gssize) (ob - buf));
    iconv(cd, NULL, NULL, NULL, NULL);
    return g_string_free(out, FALSE);
}

/* `len` bytes in `charset` (NULL: undeclared) to UTF-8 (transfer full).
 * *lossy is set when bytes had to be replaced. */
static char *
to_utf8(const char *s, size_t len, const char *charset, bool *lossy)
{
    static const char *const wide[] = {
        "utf-16", "utf-16le", "utf-16be", "utf-32", "utf-32le", "utf-32be", "ucs-2", "ucs-4",
        "unicode",
    };
    static const char *const sevenbit[] = {
        "iso-2022-jp", "iso-2022-jp-2", "iso-2022-kr", "iso-2022-cn", "utf-7", "hz-gb-2312",
        "csiso2022jp", "iso-2022-jp-1", "iso-2022-jp-3",
    };
    static const char *const western[] = {
        "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1", "windows-1252",
        "cp1252", "x-cp1252", "us-ascii", "ascii", "ansi_x3.4-1968",
    };
    static const char *const undeclared[] = {
        "utf-8", "utf8", "unknown-8bit", "x-unknown", "unknown", "8bit", "default",
        "x-user-defined", "charset", "none", "",
    };

    if (charset) {
        while (g_ascii_isspace(*charset) || *charset == '"')
            charset++;
    }
    bool is_wide = charset && charset_is(charset, wide, G_N_ELEMENTS(wide));
    if (!is_wide) {
        if (all_ascii(s, len)) {
            if (!charset || !charset_is(charset, sevenbit, G_N_ELEMENTS(sevenbit)))
                return g_strndup(s, len);
        } else if (g_utf8_validate_len(s, len, NULL)) {
            return g_strndup(s, len);
        }
        if (!charset || charset_is(charset, undeclared, G_N_ELEMENTS(undeclared)))
            return guess_to_utf8(s, len, lossy);
        if (charset_is(charset, western, G_N_ELEMENTS(western)))
            return cp1252_to_utf8(s, len);
    }

    iconv_t cd = g_mime_iconv_open("UTF-8", charset);
    if (cd == (iconv_t) -1)
        return guess_to_utf8(s, len, lossy);
    size_t errors = 0;
    char *out = iconv_to_utf8(cd, s, len, &errors);
    g_mime_iconv_close(cd);
    if (errors > 0)
        *lossy = true;
    if (!g_utf8_validate(out, -1, NULL)) {
        char *v = g_utf8_make_valid(out, -1);
        g_free(out);
        out = v;
    }
    return out;
}

/* Makes a header value fit for the summary: valid UTF-8, control
 * characters (folding included) as spaces, trimmed (transfer full). */
static char *
clean_header(const char *value)
{
    if (!value)
        return g_strdup("");
    bool lossy = false;
    size_t len = strlen(value);
    char *s = g_utf8_validate_len(value, len, NULL) ? g_strndup(value, len)
                                                   : guess_to_utf8(value, len, &lossy);
    for (char *p = s; *p; p++) {
        if ((unsigned char) *p < 0x20 || *p == 0x7F)
            *p = ' ';
    }
    return g_strstrip(s);
}

/* Text part content: CRLF and CR to LF, NULs removed.  Returns whether
 * NULs were found.  Works in place. */
static bool
normalise_text(char *s, size_t *len)
{
    bool nul = false;
    size_t o = 0;
    for (size_t i = 0; i < *len; i++) {
        char c = s[i];
        if (c == '\0') {
            nul = true;
            continue;
        }
        if (c == '\r') {
            if (i + 1 < *len && s[i + 1] == '\n')
                continue;
            c = '\n';
        }
        s[o++] = c;
    }
    s[o] = '\0';
    *len = o;
    return nul;
}

static bool
is_blank_text(const char *s)
{
    for (; *s; s++) {
        if (!g_ascii_isspace(*s) && (unsigned char) *s != 0xC2 && (unsigned char) *s != 0xA0)
            return false;
    }
    return true;
}

/* ---- RFC 2047 ---------------------------------------------------------------- */

/* Parses an encoded word "=?charset[*lang]?B|Q?text?=" at p.  On success
 * appends the decoded bytes to `bytes`, sets *charset (transfer full) and
 * returns the end of the word; else NULL. */
static const char *
encoded_word(const char *p, GString *bytes, char **charset)
{
    if (p[0] != '=' || p[1] != '?')
        return NULL;
    const char *cs = p + 2, *q = cs;
    while (*q && *q != '?' && !g_ascii_isspace(*q) && q - cs < 64)
        q++;
    if (*q != '?' || q == cs)
        return NULL;
    const char *cs_end = q;
    const char *star = memchr(cs, '*', (size_t) (cs_end - cs));     /* RFC 2231 language */
    if (star)
        cs_end = star;
    char enc = (char) g_ascii_toupper(q[1]);
    if ((enc != 'B' && enc != 'Q') || q[2] != '?')
        return NULL;
    const char *text = q + 3;
    const char *end = strstr(text, "?=");
    if (!end)
        return NULL;
    for (const char *t = text; t < end; t++) {
        if (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\n')
            return NULL;
    }

    if (enc == 'B') {
        /* lenient: characters outside the alphabet skipped, padding added */
        GString *b64 = g_string_sized_new((gsize) (end - text) + 4);
        for (const char *t = text; t < end; t++) {
            if (g_ascii_isalnum(*t) || *t == '+' || *t == '/')
                g_string_append_c(b64, *t);
        }
        if (b64->len % 4 == 1)
            g_string_truncate(b64, b64->len - 1);
        while (b64->len % 4 != 0)
            g_string_append_c(b64, '=');
        gsize n = 0;
        guchar *bin = g_base64_decode(b64->str, &n);
        g_string_append_len(bytes, (const char *) bin, (gssize) n);
        g_free(bin);
        g_string_free(b64, TRUE);
    } else {
        for (const char *t = text; t < end; t++) {
            if (*t == '_') {
                g_string_append_c(bytes, ' ');
            } else if (*t == '=' && g_ascii_isxdigit(t[1]) && g_ascii_isxdigit(t[2])) {
                g_string_append_c(bytes, (char) (g_ascii_xdigit_value(t[1]) * 16 + g_ascii_xdigit_value(t[2])));
                t += 2;
            } else {
                g_string_append_c(bytes, *t);
            }
        }
    }
    *charset = g_strndup(cs, (gsize) (cs_end - cs));
    return end + 2;
}

/* Decodes an unstructured header value (Subject, Thread-Topic) from its raw
 * form: unfolded, RFC 2047 words decoded leniently (inside words too, with
 * the white space between adjacent words dropped and adjacent words of one
 * charset joined before conversion, so a character split across two words
 * survives), charsets converted with the fallbacks of to_utf8(), undeclared
 * 8-bit text guessed the same way.  Result cleaned like clean_header()
 * (transfer full). */
static char *
decode_unstructured(const char *raw)
{
    if (!raw)
        return g_strdup("");
    GString *out = g_string_sized_new(strlen(raw) + 1);
    GString *bytes = g_string_new(NULL);     /* pending encoded-word bytes */
    g_autofree char *pending_cs = NULL;
    GString *literal = g_string_new(NULL);
    const char *p = raw;

    while (*p) {
        char *cs = NULL;
        GString *word = g_string_new(NULL);
        const char *after = encoded_word(p, word, &cs);
        if (after) {
            if (literal->len > 0) {
                bool lossy = false;
                g_autofree char *t = to_utf8(literal->str, literal->len, NULL, &lossy);
                g_string_append(out, t);
                g_string_truncate(literal, 0);
            }
            if (pending_cs && g_ascii_strcasecmp(pending_cs, cs) != 0) {
                bool lossy = false;
                g_autofree char *t = to_utf8(bytes->str, bytes->len, pending_cs, &lossy);
                g_string_append(out, t);
                g_string_truncate(bytes, 0);
            }
            g_free(pending_cs);
            pending_cs = cs;
            g_string_append_len(bytes, word->str, (gssize) word->len);
            g_string_free(word, TRUE);
            /* white space between two encoded words is not text */
            const char *q = after;
            while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
                q++;
            if (q != after && q[0] == '=' && q[1] == '?') {
                GString *probe = g_string_new(NULL);
                char *pcs = NULL;
                if (encoded_word(q, probe, &pcs))
                    after = q;
                g_free(pcs);
                g_string_free(probe, TRUE);
            }
            p = after;
            continue;
        }
        g_string_free(word, TRUE);
        if (pending_cs) {
            bool lossy = false;
            g_autofree char *t = to_utf8(bytes->str, bytes->len, pending_cs, &lossy);
            g_string_append(out, t);
            g_string_truncate(bytes, 0);
            g_clear_pointer(&pending_cs, g_free);
        }
        if (*p == '\r' || *p == '\n') {        /* unfold */
            p++;
            continue;
        }
        g_string_append_c(literal, *p++);
    }
    if (pending_cs) {
        bool lossy = false;
        g_autofree char *t = to_utf8(bytes->str, bytes->len, pending_cs, &lossy);
        g_string_append(out, t);
    }
    if (literal->len > 0) {
        bool lossy = false;
        g_autofree char *t = to_utf8(literal->str, literal->len, NULL, &lossy);
        g_string_append(out, t);
    }
    g_string_free(bytes, TRUE);
    g_string_free(literal, TRUE);
    char *s = g_string_free(out, FALSE);
    char *clean = clean_header(s);
    g_free(s);
    return clean;
}

/* ---- Message-IDs and subjects ------------------------------------------- */

char *
cor_message_id_normalise(const char *id)
{
    if (!id)
        return g_strdup("");
    const char *s = id, *e;
    const char *lt = strchr(s, '<');
    if (lt) {
        s = lt + 1;
        e = strchr(s, '>');
        if (!e)
            e = s + strlen(s);
    } else {
        e = s + strlen(s);
    }
    GString *out = g_string_sized_new((gsize) (e - s) + 1);
    for (const char *p = s; p < e; p++) {
        unsigned char c = (unsigned char) *p;
        if (c <= 0x20 || c == 0x7F || c == '<' || c == '>')
            continue;
        g_string_append_c(out, (char) c);
    }
    char *r = g_string_free(out, FALSE);
    if (!g_utf8_validate(r, -1, NULL)) {
        char *v = g_utf8_make_valid(r, -1);
        g_free(r);
        r = v;
    }
    return r;
}

/* Reply and forward prefixes, lowercase, in the languages mail clients
 * write them. */
static const char *const subject_prefixes[] = {
    "re", "fw", "fwd", "aw", "wg", "sv", "vs", "antw", "doorst", "tr", "r", "rif", "ynt",
    "réf", "ref", "rv", "enc", "odp", "pd", "vá", "vl", "atb", "bls", "fs", "trs", "rép",
    "antwort", "wtr", "πρθ", "σχετ", "השב", "回复", "回覆", "转发", "答复", "轉寄", "转寄",
    "返信", "転送", "відп", "отв", "пер", "antwoord", "doorgestuurd", "svar", "vb", "vs",
};

/* Length of a reply/forward prefix with its colon at `p`, or 0. */
static size_t
subject_prefix_len(const char *p)
{
    for (size_t i = 0; i < G_N_ELEMENTS(subject_prefixes); i++) {
        size_t k = strlen(subject_prefixes[i]);
        if (strncmp(p, subject_prefixes[i], k) != 0)
            continue;
        const char *q = p + k;
        if (g_unichar_isalnum(g_utf8_get_char(q)) && *q != '\0' && !g_ascii_isdigit(*q))
            continue;     /* "really:" is no "re:" */
        /* "Re[2]:", "Re(2):", "Re^2:", "Re2:" */
        if (*q == '[' || *q == '(') {
            char close = *q == '[' ? ']' : ')';
            const char *r = q + 1;
            while (g_ascii_isdigit(*r))
                r++;
            if (r > q + 1 && *r == close)
                q = r + 1;
        } else if (*q == '^' || *q == '*') {
            const char *r = q + 1;
            while (g_ascii_isdigit(*r))
                r++;
            if (r > q + 1)
                q = r;
        } else {
            while (g_ascii_isdigit(*q))
                q++;
        }
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q == ':')
            return (size_t) (q + 1 - p);
        if (strncmp(q, "\xEF\xBC\x9A", 3) == 0)     /* full-width colon */
            return (size_t) (q + 3 - p);
    }
    return 0;
}

static bool
is_space_char(const char *p, size_t *adv)
{
    unsigned char c = (unsigned char) *p;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        *adv = 1;
        return true;
    }
    if (c == 0xC2 && (unsigned char) p[1] == 0xA0) {
        *adv = 2;
        return true;
    }
    if (c == 0xE3 && (unsigned char) p[1] == 0x80 && (unsigned char) p[2] == 0x80) {
        *adv = 3;     /* ideographic space */
        return true;
    }
    return false;
}

char *
cor_subject_normalise(const char *subject)
{
    if (!subject)
        return g_strdup("");
    g_autofree char *valid = g_utf8_make_valid(subject, -1);
    g_autofree char *low = g_utf8_strdown(valid, -1);
    const char *p = low;
    size_t adv;

    for (;;) {
        while (*p && is_space_char(p, &adv))
            p += adv;
        if (*p == '[') {
            const char *q = strchr(p, ']');
            if (q && q - p <= 100) {
                p = q + 1;
                continue;
            }
            break;
        }
        size_t k = subject_prefix_len(p);
        if (k == 0)
            break;
        p += k;
    }

    GString *out = g_string_sized_new(strlen(p) + 1);
    bool space = false;
    while (*p) {
        if (is_space_char(p, &adv)) {
            space = out->len > 0;
            p += adv;
            continue;
        }
        if (space)
            g_string_append_c(out, ' ');
        space = false;
        g_string_append_c(out, *p++);
    }
    return g_string_free(out, FALSE);
}

/* ---- the parse context ---------------------------------------------------- */

typedef struct ctx {
    cor_message_t *msg;
    GMimeParserOptions *options;
    GString *body;
    GString *att_text;
    gssize quote_split;          /* body offset where HTML says the original starts */
    int part_index;
    unsigned gmime_warned;       /* bit per GMimeParserWarning already reported */
    bool reparsed;               /* a multipart was parsed again (once only) */
    /* the text of one part decoded ahead of the walk (alternative choice) */
    GMimePart *cached_part;
    char *cached_text;
    size_t cached_size;
    bool summary;                /* headers and attachments only (no text) */
    unsigned flags;              /* COR_PARSE_* */
    GString *html;               /* the HTML body parts (COR_PARSE_KEEP_HTML) */
    bool edges_done;             /* COR_PARSE_EDGES: the first text part was read */
} ctx_t;

static void G_GNUC_PRINTF(2, 3)
warn(ctx_t *c, const char *fmt, ...)
{
    GPtrArray *w = c->msg->warnings;
    if (w->len >= MAX_WARNINGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *clean = clean_header(s);
    g_free(s);
    for (guint i = 0; i < w->len; i++) {
        if (strcmp(w->pdata[i], clean) == 0) {
            g_free(clean);
            return;
        }
    }
    g_ptr_array_add(w, clean);
}

static void
on_gmime_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer user_data)
{
    static const char *const what[] = {
        [GMIME_WARN_DUPLICATED_HEADER] = "duplicated header",
        [GMIME_WARN_DUPLICATED_PARAMETER] = "duplicated header parameter",
        [GMIME_WARN_UNENCODED_8BIT_HEADER] = "unencoded 8-bit header",
        [GMIME_WARN_INVALID_CONTENT_TYPE] = "invalid content type",
        [GMIME_WARN_INVALID_RFC2047_HEADER_VALUE] = "invalid RFC 2047 encoded header",
        [GMIME_WARN_MALFORMED_MULTIPART] = "malformed multipart",
        [GMIME_WARN_TRUNCATED_MESSAGE] = "truncated message",
        [GMIME_WARN_MALFORMED_MESSAGE] = "malformed message",
        [GMIME_CRIT_INVALID_HEADER_NAME] = "invalid header name",
        [GMIME_CRIT_CONFLICTING_HEADER] = "conflicting header",
        [GMIME_CRIT_CONFLICTING_PARAMETER] = "conflicting header parameter",
        [GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY] = "multipart without boundary",
        [GMIME_WARN_INVALID_PARAMETER] = "invalid header parameter",
        [GMIME_WARN_INVALID_ADDRESS_LIST] = "invalid address list",
        [GMIME_CRIT_NESTING_OVERFLOW] = "MIME nesting too deep",
        [GMIME_WARN_PART_WITHOUT_CONTENT] = "part without content",
        [GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT] = "part without headers or content",
    };
    ctx_t *c = user_data;
    unsigned bit = (unsigned) code < 32 ? 1u << (unsigned) code : 0;
    if (!c || (c->gmime_warned & bit))
        return;
    c->gmime_warned |= bit;
    const char *w = (unsigned) code < G_N_ELEMENTS(what) && what[code] ? what[code] : "parser warning";
    /* no offsets: GMime reads a filtered copy (see filter_headers) */
    (void) offset;
    if (item && *item) {
        g_autofree char *short_item = g_strndup(item, 80);
        warn(c, "%s '%s'", w, short_item);
    } else {
        warn(c, "%s", w);
    }
}

/* ---- headers -------------------------------------------------------------- */

static const char *
raw_header(GMimeObject *obj, const char *name)
{
    GMimeHeaderList *list = g_mime_object_get_header_list(obj);
    GMimeHeader *h = list ? g_mime_header_list_get_header(list, name) : NULL;
    return h ? g_mime_header_get_raw_value(h) : NULL;
}

/* A bare "id@host" among garbage, for In-Reply-To without brackets
 * (transfer full, or NULL). */
static char *
loose_message_id(const char *value)
{
    g_auto(GStrv) words = g_strsplit_set(value, " \t\r\n,;", -1);
    for (char **w = words; *w; w++) {
        char *t = *w;
        while (*t && strchr("<\"'(", *t))
            t++;
        size_t n = strlen(t);
        while (n > 0 && strchr(">\"')", t[n - 1]))
            n--;
        t[n] = '\0';
        char *at = strchr(t, '@');
        if (at && at > t && at[1] != '\0')
            return cor_message_id_normalise(t);
    }
    return NULL;
}

static char *
first_mailbox_addr(InternetAddressList *list, char **name)
{
    int n = internet_address_list_length(list);
    for (int i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            *name = clean_header(internet_address_get_name(ia));
            return clean_header(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
        }
        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            InternetAddressList *members = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
            char *addr = members ? first_mailbox_addr(members, name) : NULL;
            if (addr)
                return addr;
        }
    }
    return NULL;
}

/* Appends `list` as "Name <addr>, addr, Group: a, b;" with names quoted
 * when they hold specials.  (internet_address_list_to_string does the same
 * but converts every domain through IDNA, which costs more than the rest
 * of the header work.) */
static void
format_addresses(GString *out, InternetAddressList *list)
{
    int n = internet_address_list_length(list);
    for (int i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (out->len > 0 && out->str[out->len - 1] != ':')
            g_string_append(out, ", ");
        else if (out->len > 0)
            g_string_append_c(out, ' ');
        const char *name = internet_address_get_name(ia);
        bool quote = name && name[0] && strpbrk(name, "()<>[]:;@\\,.\"") != NULL;
        if (name && *name) {
            if (quote) {
                g_string_append_c(out, '"');
                for (const char *p = name; *p; p++) {
                    if (*p == '"' || *p == '\\')
                        g_string_append_c(out, '\\');
                    g_string_append_c(out, *p);
                }
                g_string_append_c(out, '"');
            } else {
                g_string_append(out, name);
            }
        }
        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            if (name && *name)
                g_string_append_printf(out, " <%s>", addr ? addr : "");
            else
                g_string_append(out, addr ? addr : "");
        } else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            g_string_append_c(out, ':');
            InternetAddressList *members = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
            if (members)
                format_addresses(out, members);
            g_string_append_c(out, ';');
        }
    }
}

/* The display form of an address header; the decoded raw text when GMime
 * found no address in it (transfer full). */
static char *
address_display(GMimeMessage *m, GMimeAddressType type, const char *name)
{
    InternetAddressList *list = g_mime_message_get_addresses(m, type);
    if (list && internet_address_list_length(list) > 0) {
        GString *s = g_string_new(NULL);
        format_addresses(s, list);
        char *r = g_string_free(s, FALSE);
        char *clean = clean_header(r);
        g_free(r);
        return clean;
    }
    return clean_header(g_mime_object_get_header(GMIME_OBJECT(m), name));
}

static void
parse_from(ctx_t *c, GMimeMessage *m)
{
    cor_message_t *msg = c->msg;
    msg->from = address_display(m, GMIME_ADDRESS_TYPE_FROM, "From");
    char *name = NULL;
    char *addr = NULL;
    InternetAddressList *list = g_mime_message_get_from(m);
    if (list)
        addr = first_mailbox_addr(list, &name);
    if (!addr && *msg->from) {
        addr = loose_message_id(msg->from);     /* the same shape: x@y */
        if (addr)
            warn(c, "unparsable From header '%s'", msg->from);
    }
    msg->from_name = name ? name : g_strdup("");
    if (addr) {
        msg->from_addr = g_utf8_strdown(addr, -1);
        g_free(addr);
    } else {
        msg->from_addr = g_strdup("");
    }
}

static void
parse_date(ctx_t *c, GMimeMessage *m, int64_t received)
{
    cor_message_t *msg = c->msg;
    const char *raw = g_mime_object_get_header(GMIME_OBJECT(m), "Date");
    GDateTime *d = g_mime_message_get_date(m);
    int64_t limit = (received > 0 ? received : g_get_real_time() / G_USEC_PER_SEC) +
                    366 * 24 * 3600;
    if (d) {
        int64_t t = g_date_time_to_unix(d);
        if (t > 86400 && t <= limit) {
            msg->date = t;
            return;
        }
    }
    msg->date = received;
    msg->date_from_received = true;
    if (raw) {
        g_autofree char *shown = clean_header(raw);
        warn(c, "unusable Date header '%s'", shown);
    } else {
        warn(c, "no Date header");
    }
}

static void
parse_ids(ctx_t *c, GMimeMessage *m, const char *data, size_t len)
{
    cor_message_t *msg = c->msg;
    GMimeObject *obj = GMIME_OBJECT(m);

    const char *mid = g_mime_message_get_message_id(m);
    msg->message_id = cor_message_id_normalise(mid);
    if (!*msg->message_id) {
        const char *raw = raw_header(obj, "Message-ID");
        if (raw) {
            g_free(msg->message_id);
            msg->message_id = cor_message_id_normalise(raw);
        }
    }
    if (!*msg->message_id) {
        char hex[65];
        cor_sha256_hex(data, len, hex);
        g_free(msg->message_id);
        msg->message_id = g_strdup_printf("corridor-%.32s@synthetic.invalid", hex);
        msg->synthetic_id = true;
    }

    /* References: oldest first, each once, never the message itself */
    const char *refs = raw_header(obj, "References");
    if (refs) {
        GMimeReferences *r = g_mime_references_parse(c->options, refs);
        int n = r ? g_mime_references_length(r) : 0;
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        for (int i = 0; i < n; i++) {
            char *id = cor_message_id_normalise(g_mime_references_get_message_id(r, i));
            if (!*id || strcmp(id, msg->message_id) == 0 || g_hash_table_contains(seen, id)) {
                g_free(id);
                continue;
            }
            g_hash_table_add(seen, id);
            g_ptr_array_add(msg->references, id);
        }
        if (r)
            g_mime_references_free(r);
        if (n == 0 && !is_blank_text(refs))
            warn(c, "no Message-ID in References");
    }

    /* In-Reply-To: the first id, leniently */
    const char *irt = raw_header(obj, "In-Reply-To");
    char *first = NULL;
    if (irt) {
        GMimeReferences *r = g_mime_references_parse(c->options, irt);
        if (r && g_mime_references_length(r) > 0)
            first = cor_message_id_normalise(g_mime_references_get_message_id(r, 0));
        if (r)
            g_mime_references_free(r);
        if (!first || !*first) {
            g_free(first);
            first = loose_message_id(irt);
            if (!is_blank_text(irt)) {
                g_autofree char *shown = clean_header(irt);
                warn(c, first ? "In-Reply-To without angle brackets '%s'"
                              : "no Message-ID in In-Reply-To '%s'", shown);
            }
        }
    }
    if (first && strcmp(first, msg->message_id) == 0) {
        warn(c, "In-Reply-To names the message itself");
        g_clear_pointer(&first, g_free);
    }
    msg->in_reply_to = first ? first : g_strdup("");
}

static void
parse_microsoft(cor_message_t *msg, GMimeObject *obj)
{
    msg->thread_index = g_strdup("");
    const char *ti = raw_header(obj, "Thread-Index");
    if (ti) {
        GString *b64 = g_string_sized_new(strlen(ti));
        bool ok = true;
        for (const char *p = ti; *p && ok; p++) {
            if (g_ascii_isspace(*p))
                continue;
            if (g_ascii_isalnum(*p) || *p == '+' || *p == '/' || *p == '=')
                g_string_append_c(b64, *p);
            else
                ok = false;
        }
        if (ok && b64->len > 0) {
            gsize n = 0;
            g_autofree guchar *bin = g_base64_decode(b64->str, &n);
            if (bin && n >= 22) {
                g_free(msg->thread_index);
                msg->thread_index = g_malloc(45);
                for (int i = 0; i < 22; i++)
                    g_snprintf(msg->thread_index + 2 * i, 3, "%02x", bin[i]);
            }
        }
        g_string_free(b64, TRUE);
    }
    msg->thread_topic = decode_unstructured(raw_header(obj, "Thread-Topic"));

    g_autofree char *list = clean_header(g_mime_object_get_header(obj, "List-Id"));
    const char *lt = strrchr(list, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;
    g_autofree char *id = (lt && gt) ? g_strndup(lt + 1, (gsize) (gt - lt - 1)) : g_strdup(list);
    g_strstrip(id);
    msg->list_id = g_utf8_strdown(id, -1);
}

/* ---- parts ---------------------------------------------------------------- */

static void
attachment_free(gpointer p)
{
    cor_attachment_t *a = p;
    if (!a)
        return;
    g_free(a->filename);
    g_free(a->content_type);
    if (a->data)
        g_bytes_unref(a->data);
    g_free(a);
}

static char *
mime_type_of(GMimeObject *obj)
{
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    g_autofree char *t = ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("application/octet-stream");
    g_autofree char *clean = clean_header(t);
    return g_ascii_strdown(clean, -1);
}

/* The charset a <meta> of an HTML document declares, or NULL (transfer full). */
static char *
html_meta_charset(const char *s, size_t len)
{
    size_t n = len < 4096 ? len : 4096;
    for (size_t i = 0; i + 8 < n; i++) {
        if (g_ascii_strncasecmp(s + i, "charset=", 8) != 0)
            continue;
        size_t j = i + 8;
        while (j < n && (s[j] == '"' || s[j] == '\'' || s[j] == ' '))
            j++;
        size_t k = j;
        while (k < n && (g_ascii_isalnum(s[k]) || strchr("-_.:", s[k])))
            k++;
        if (k > j)
            return g_strndup(s + j, k - j);
    }
    return NULL;
}

/* Warns when base64 content holds characters outside the alphabet (GMime
 * skips them when decoding). */
static void
check_base64(ctx_t *c, GMimePart *part, int index)
{
    if (g_mime_part_get_content_encoding(part) != GMIME_CONTENT_ENCODING_BASE64)
        return;
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    GMimeStream *s = w ? g_mime_data_wrapper_get_stream(w) : NULL;
    if (!s)
        return;
    char buf[4096];
    ssize_t n;
    bool bad = false, padded = false;
    g_mime_stream_reset(s);
    while (!bad && (n = g_mime_stream_read(s, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n && !bad; i++) {
            unsigned char ch = (unsigned char) buf[i];
            if (ch == '=')
                padded = true;
            else if (g_ascii_isalnum(ch) || ch == '+' || ch == '/')
                bad = padded;
            else if (!g_ascii_isspace(ch))
                bad = true;
        }
    }
    g_mime_stream_reset(s);
    if (bad)
        warn(c, "bad base64 in part %d", index);
}

/* The decoded text of a text part in UTF-8 with LF line ends (transfer
 * full); *size is the decoded size in bytes before charset conversion. */
static char *
part_text(ctx_t *c, GMimePart *part, int index, bool html, size_t *size)
{
    if (c->cached_part == part) {
        char *t = c->cached_text;
        *size = c->cached_size;
        c->cached_part = NULL;
        c->cached_text = NULL;
        return t;
    }
    *size = 0;
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    if (!w)
        return g_strdup("");
    GMimeStream *mem = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(w, mem);
    GByteArray *arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    check_base64(c, part, index);

    const char *charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    static const char *const wide[] = { "utf-16", "utf-32", "ucs-2", "ucs-4", "unicode" };
    bool is_wide = false;
    for (size_t i = 0; charset && i < G_N_ELEMENTS(wide); i++)
        is_wide = is_wide || g_ascii_strncasecmp(charset, wide[i], strlen(wide[i])) == 0;

    /* NUL bytes are no text (invariant 2): drop them in place */
    char *data = arr->data ? (char *) arr->data : (char *) "";
    size_t len = arr->len;
    *size = len;
    if (!is_wide && len > 0 && memchr(data, '\0', len)) {
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
            if (data[i] != '\0')
                data[o++] = data[i];
        }
        len = o;
        warn(c, "NUL bytes removed from part %d", index);
    }
    g_autofree char *meta = NULL;
    if (html && (!charset || !*charset) && !g_utf8_validate_len(data, len, NULL))
        charset = meta = html_meta_charset(data, len);

    bool lossy = false;
    char *text = to_utf8(data, len, charset, &lossy);
    g_object_unref(mem);
    if (lossy)
        warn(c, "undecodable bytes in part %d (charset '%s')", index, charset ? charset : "none");
    size_t tl = strlen(text);
    if (normalise_text(text, &tl))
        warn(c, "NUL bytes removed from part %d", index);
    return text;
}

static bool
is_signature_type(const char *type)
{
    return strcmp(type, "application/pgp-signature") == 0 ||
           strcmp(type, "application/pkcs7-signature") == 0 ||
           strcmp(type, "application/x-pkcs7-signature") == 0;
}

static bool
is_textual_report(const char *type)
{
    return strcmp(type, "message/delivery-status") == 0 ||
           strcmp(type, "message/global-delivery-status") == 0 ||
           strcmp(type, "message/disposition-notification") == 0 ||
           strcmp(type, "message/global-disposition-notification") == 0 ||
           strcmp(type, "message/feedback-report") == 0;
}

static bool
is_attachment_part(GMimeObject *obj)
{
    const char *disp = g_mime_object_get_disposition(obj);
    if (disp && g_ascii_strcasecmp(disp, "attachment") == 0)
        return true;
    if (GMIME_IS_PART(obj)) {
        const char *name = g_mime_part_get_filename(GMIME_PART(obj));
        if (name && *name)
            return true;
    }
    return false;
}

/* A cut at `p` moved back, or forward, to the first byte of a UTF-8
 * character: a line longer than COR_BODY_EDGE is cut there, never inside a
 * character (fill_missing would turn the pieces into U+FFFD and the edge
 * would grow past COR_BODY_EDGE). */
static const char *
utf8_back(const char *start, const char *p)
{
    while (p > start && ((unsigned char) *p & 0xC0) == 0x80)
        p--;
    return p;
}

static const char *
utf8_forward(const char *p, const char *end)
{
    while (p < end && ((unsigned char) *p & 0xC0) == 0x80)
        p++;
    return p;
}

/* body_head and body_tail: up to COR_BODY_EDGE bytes of whole lines from
 * each end of `text` (replacing what was there). */
static void
body_edges(cor_message_t *msg, const char *text, size_t len)
{
    g_free(msg->body_head);
    g_free(msg->body_tail);
    msg->body_cut = len > COR_BODY_EDGE;
    if (len <= COR_BODY_EDGE) {
        msg->body_head = g_strndup(text, len);
        msg->body_tail = g_strndup(text, len);
        return;
    }
    const char *cut = text + COR_BODY_EDGE;
    while (cut > text && cut[-1] != '\n')
        cut--;
    if (cut == text)
        cut = utf8_back(text, text + COR_BODY_EDGE);
    msg->body_head = g_strndup(text, (size_t) (cut - text));
    const char *from = text + len - COR_BODY_EDGE;
    const char *nl = memchr(from, '\n', COR_BODY_EDGE);
    if (nl && nl + 1 < text + len)
        from = nl + 1;
    else
        from = utf8_forward(from, text + len);
    msg->body_tail = g_strndup(from, (size_t) (text + len - from));
}

/* One slice of a part's raw content as text: converted from `charset`,
 * CR and NUL dropped (transfer full). */
static char *
slice_text(const char *s, size_t n, const char *charset)
{
    bool lossy = false;
    char *t = to_utf8(s, n, charset, &lossy);
    size_t tl = strlen(t);
    normalise_text(t, &tl);
    return t;
}

/* COR_PARSE_EDGES for a long text/plain part sent as it is (7bit, 8bit,
 * binary): only its first and last COR_BODY_EDGE bytes are read and
 * converted, straight from the message's bytes, not the whole part through
 * GMime's filters (linux-mips is full of 20 KiB patches).  A multi-byte
 * charset (UTF-16, UTF-32) is left to the full decode.  False when this
 * does not apply. */
static bool
raw_edges(ctx_t *c, GMimePart *part)
{
    GMimeContentEncoding enc = g_mime_part_get_content_encoding(part);
    if (enc != GMIME_CONTENT_ENCODING_DEFAULT && enc != GMIME_CONTENT_ENCODING_7BIT &&
        enc != GMIME_CONTENT_ENCODING_8BIT && enc != GMIME_CONTENT_ENCODING_BINARY)
        return false;
    const char *charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    if (charset && (g_ascii_strncasecmp(charset, "utf-16", 6) == 0 ||
                    g_ascii_strncasecmp(charset, "utf-32", 6) == 0 ||
                    g_ascii_strncasecmp(charset, "ucs", 3) == 0 ||
                    g_ascii_strncasecmp(charset, "unicode", 7) == 0))
        return false;
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    GMimeStream *raw = w ? g_mime_data_wrapper_get_stream(w) : NULL;
    gint64 n = raw ? g_mime_stream_length(raw) : -1;
    if (n <= 4 * COR_BODY_EDGE)
        return false;             /* short: the full decode costs no more */
    char head[COR_BODY_EDGE], tail[COR_BODY_EDGE];
    gint64 start = raw->bound_start;
    if (g_mime_stream_seek(raw, start, GMIME_STREAM_SEEK_SET) < 0 ||
        g_mime_stream_read(raw, head, sizeof head) != (gssize) sizeof head ||
        g_mime_stream_seek(raw, start + n - (gint64) sizeof tail, GMIME_STREAM_SEEK_SET) < 0 ||
        g_mime_stream_read(raw, tail, sizeof tail) != (gssize) sizeof tail)
        return false;
    /* whole lines only: the head up to its last line end, the tail from
     * after its first (no character is cut in two) */
    const char *hl = memrchr(head, '\n', sizeof head);
    const char *tl = memchr(tail, '\n', sizeof tail);
    size_t hn = hl ? (size_t) (hl - head) + 1 : sizeof head;
    const char *ts = tl ? tl + 1 : tail;
    char *ht = slice_text(head, hn, charset);
    char *tt = slice_text(ts, (size_t) (tail + sizeof tail - ts), charset);
    /* converted text can be longer (é is two bytes in UTF-8): whole lines
     * within COR_BODY_EDGE again */
    size_t hlen = strlen(ht), tlen = strlen(tt);
    if (hlen > COR_BODY_EDGE) {
        char *cut = ht + COR_BODY_EDGE;
        while (cut > ht && cut[-1] != '\n')
            cut--;
        *(cut > ht ? cut : (char *) utf8_back(ht, ht + COR_BODY_EDGE)) = '\0';
    }
    if (tlen > COR_BODY_EDGE) {
        const char *from = tt + tlen - COR_BODY_EDGE;
        const char *nl = memchr(from, '\n', COR_BODY_EDGE);
        char *keep = g_strdup(nl && nl + 1 < tt + tlen ? nl + 1 : utf8_forward(from, tt + tlen));
        g_free(tt);
        tt = keep;
    }
    g_free(c->msg->body_head);
    g_free(c->msg->body_tail);
    c->msg->body_head = ht;
    c->msg->body_tail = tt;
    c->msg->body_cut = true;
    return true;
}

static void
append_body(ctx_t *c, const char *text)
{
    if (!*text)
        return;
    GString *b = c->body;
    if (b->len > 0) {
        if (b->str[b->len - 1] != '\n')
            g_string_append_c(b, '\n');
        g_string_append_c(b, '\n');
    }
    g_string_append(b, text);
}

static void
append_attachment_text(ctx_t *c, const char *text, int index)
{
    size_t len = strlen(text);
    if (len == 0)
        return;
    if (len > MAX_PART_TEXT) {
        len = MAX_PART_TEXT;
        warn(c, "text of part %d cut at %u bytes", index, MAX_PART_TEXT);
    }
    if (c->att_text->len + len > MAX_ATTACHMENT_TEXT) {
        len = c->att_text->len < MAX_ATTACHMENT_TEXT ? MAX_ATTACHMENT_TEXT - c->att_text->len : 0;
        warn(c, "attachment text cut at %u bytes", MAX_ATTACHMENT_TEXT);
    }
    /* cut at a character boundary */
    const char *end = text + len;
    if (len < strlen(text)) {
        while (end > text && ((unsigned char) *end & 0xC0) == 0x80)
            end--;
    }
    if (end == text)
        return;
    if (c->att_text->len > 0) {
        if (c->att_text->str[c->att_text->len - 1] != '\n')
            g_string_append_c(c->att_text, '\n');
        g_string_append_c(c->att_text, '\n');
    }
    g_string_append_len(c->att_text, text, end - text);
}

static cor_attachment_t *
add_attachment(ctx_t *c, GMimeObject *obj, const char *type, int index)
{
    cor_attachment_t *a = g_new0(cor_attachment_t, 1);
    const char *name = GMIME_IS_PART(obj) ? g_mime_part_get_filename(GMIME_PART(obj))
                                          : g_mime_object_get_content_disposition_parameter(obj, "filename");
    if (!name && !GMIME_IS_PART(obj))
        name = g_mime_object_get_content_type_parameter(obj, "name");
    a->filename = clean_header(name);
    a->content_type = g_strdup(type);
    a->part_index = index;
    g_ptr_array_add(c->msg->attachments, a);
    return a;
}

/* With COR_PARSE_KEEP_PARTS: the decoded bytes of an attachment (a leaf's
 * content, or an attached message as it was written). */
static void
keep_data(ctx_t *c, cor_attachment_t *a, GMimeObject *obj)
{
    if (!(c->flags & COR_PARSE_KEEP_PARTS))
        return;
    GMimeStream *mem = g_mime_stream_mem_new();
    if (GMIME_IS_PART(obj)) {
        GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));
        if (w)
            g_mime_data_wrapper_write_to_stream(w, mem);
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        if (inner)
            g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, mem);
    }
    GByteArray *arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    a->data = g_bytes_new(arr->data, arr->len);
    g_object_unref(mem);
}

static void walk(ctx_t *c, GMimeObject *obj, int depth, bool text_wanted);
static gssize header_start(const char *data, size_t len);

static void
leaf(ctx_t *c, GMimePart *part, int index, int depth, bool text_wanted)
{
    GMimeObject *obj = GMIME_OBJECT(part);
    g_autofree char *type = mime_type_of(obj);
    bool is_text = g_str_has_prefix(type, "text/");
    bool is_html = strcmp(type, "text/html") == 0;
    bool attachment = is_attachment_part(obj) || !is_text;
    /* a message that is one text part is its body, file name or not,
     * unless it says "attachment" */
    if (depth == 0 && (is_html || strcmp(type, "text/plain") == 0)) {
        const char *disp = g_mime_object_get_disposition(obj);
        if (!disp || g_ascii_strcasecmp(disp, "attachment") != 0)
            attachment = false;
    }

    if (!attachment) {
        if (c->summary && text_wanted && (c->flags & COR_PARSE_EDGES) && !c->edges_done &&
            (is_html || strcmp(type, "text/plain") == 0)) {
            /* the filters' look at the top and bottom of the body */
            c->edges_done = true;
            if (!is_html && raw_edges(c, part))
                return;
            size_t size;
            g_autofree char *text = part_text(c, part, index, is_html, &size);
            if (is_html) {
                g_autofree char *plain = cor_html_to_text(text, strlen(text));
                body_edges(c->msg, plain, strlen(plain));
            } else {
                body_edges(c->msg, text, strlen(text));
            }
            return;
        }
        if (!text_wanted)
            return;       /* an alternative rendering not chosen */
        if (is_html || strcmp(type, "text/plain") == 0) {
            if (c->summary)
                return;   /* no text wanted */
            size_t size;
            g_autofree char *text = part_text(c, part, index, is_html, &size);
            if (is_html) {
                size_t split;
                g_autofree char *plain = cor_html_to_text_split(text, strlen(text), &split);
                if (c->html && *plain)
                    g_string_append(c->html, text);
                append_body(c, plain);
                if (*plain) {
                    size_t start = c->body->len - strlen(plain);
                    if (c->quote_split < 0 && split < strlen(plain))
                        c->quote_split = (gssize) (start + split);
                    c->msg->body_from_html = true;
                }
            } else {
                append_body(c, text);
            }
            return;
        }
        /* other inline text (text/x-patch, text/enriched...) is attachment text */
    }

    cor_attachment_t *a = add_attachment(c, obj, type, index);
    keep_data(c, a, obj);
    if ((is_text || is_textual_report(type)) && !is_signature_type(type) && !c->summary) {
        size_t size;
        g_autofree char *text = part_text(c, part, index, is_html, &size);
        a->size = size;
        if (is_html) {
            g_autofree char *plain = cor_html_to_text(text, strlen(text));
            append_attachment_text(c, plain, index);
        } else {
            append_attachment_text(c, text, index);
        }
        a->is_inline_text = true;
        return;
    }
    GMimeDataWrapper *w = g_mime_part_get_content(part);
    if (w) {
        GMimeStream *null = g_mime_stream_null_new();
        ssize_t n = g_mime_data_wrapper_write_to_stream(w, null);
        a->size = n > 0 ? (uint64_t) n : 0;
        g_object_unref(null);
        check_base64(c, part, index);
    }
}

/* Which child of a multipart/alternative gives the text, or -1.  May
 * decode the text/plain child ahead of the walk (kept in c->cached_*). */
static int
choose_alternative(ctx_t *c, GMimeMultipart *mp, int first_index)
{
    int n = g_mime_multipart_get_count(mp);
    int plain = -1, rich = -1;
    for (int i = 0; i < n; i++) {
        GMimeObject *child = g_mime_multipart_get_part(mp, i);
        if (GMIME_IS_MULTIPART(child)) {
            rich = i;
        } else if (GMIME_IS_PART(child) && !is_attachment_part(child)) {
            g_autofree char *type = mime_type_of(child);
            if (strcmp(type, "text/plain") == 0 && plain < 0)
                plain = i;
            else if (strcmp(type, "text/html") == 0)
                rich = i;
        }
    }
    if (plain >= 0 && rich < 0)
        return plain;       /* nothing else to choose: no need to decode it */
    if (plain >= 0) {
        /* a summary decodes it too: which child is chosen decides which
         * inline parts are attachments and whether a multipart without
         * its boundary is read again, so both parses must choose alike */
        GMimePart *part = GMIME_PART(g_mime_multipart_get_part(mp, plain));
        /* the index is only used in warnings; children before it are
         * leaves or multiparts whose size we do not know yet */
        size_t size;
        char *text = part_text(c, part, first_index + plain, false, &size);
        if (!is_blank_text(text)) {
            if (c->summary) {
                g_free(text);    /* a summary keeps no text */
            } else {
                c->cached_part = part;
                c->cached_text = text;
                c->cached_size = size;
            }
            return plain;
        }
        g_free(text);
    }
    return rich;
}

/* A multipart whose declared boundary never occurs, but whose body starts
 * with "--something" and a header line, was most likely written with
 * another boundary: parse it again with that one and walk the result in
 * its place.  Done once per message. */
static bool
reparse_multipart(ctx_t *c, GMimeMultipart *mp, int depth)
{
    const char *pro = g_mime_multipart_get_prologue(mp);
    if (!pro)
        return false;
    const char *p = pro;
    while (*p == '\r' || *p == '\n')
        p++;
    for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (p[0] != '-' || p[1] != '-')
            continue;
        const char *b = p + 2, *e = b;
        while (*e && *e != '\n' && *e != '\r' && !g_ascii_isspace(*e))
            e++;
        if (e == b || e - b > 70)
            continue;
        const char *next = strchr(e, '\n');
        if (!next || header_start(next + 1, strlen(next + 1)) != 0)
            continue;
        g_autofree char *boundary = g_strndup(b, (gsize) (e - b));
        GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(mp));
        const char *sub = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
        g_autofree char *doc = g_strdup_printf("Content-Type: multipart/%s; boundary=\"%s\"\n\n%s",
                                               sub ? sub : "mixed", boundary, pro);
        GMimeStream *st = g_mime_stream_mem_new_with_buffer(doc, strlen(doc));
        GMimeParser *parser = g_mime_parser_new_with_stream(st);
        GMimeObject *obj = g_mime_parser_construct_part(parser, c->options);
        g_object_unref(parser);
        g_object_unref(st);
        if (!obj)
            return false;
        bool ok = GMIME_IS_MULTIPART(obj) && g_mime_multipart_get_count(GMIME_MULTIPART(obj)) > 0;
        if (ok) {
            c->reparsed = true;
            warn(c, "multipart boundary '%s' never occurs, parts read with '%s'",
                 g_mime_multipart_get_boundary(mp) ? g_mime_multipart_get_boundary(mp) : "",
                 boundary);
            c->part_index--;      /* the replacement takes the multipart's index */
            walk(c, obj, depth, true);
        }
        g_object_unref(obj);
        return ok;
    }
    return false;
}

static void
forwarded_header(ctx_t *c, GMimeMessage *inner)
{
    GString *h = g_string_new("---------- Forwarded message ----------\n");
    static const struct { const char *label; const char *name; } fields[] = {
        { "From", "From" }, { "Date", "Date" }, { "Subject", "Subject" }, { "To", "To" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
        g_autofree char *v = NULL;
        if (strcmp(fields[i].name, "From") == 0)
            v = address_display(inner, GMIME_ADDRESS_TYPE_FROM, "From");
        else if (strcmp(fields[i].name, "To") == 0)
            v = address_display(inner, GMIME_ADDRESS_TYPE_TO, "To");
        else
            v = decode_unstructured(raw_header(GMIME_OBJECT(inner), fields[i].name));
        if (*v)
            g_string_append_printf(h, "%s: %s\n", fields[i].label, v);
    }
    append_body(c, h->str);
    g_string_free(h, TRUE);
}

static void
walk(ctx_t *c, GMimeObject *obj, int depth, bool text_wanted)
{
    int index = c->part_index++;
    if (!obj)
        return;
    if (depth > MAX_DEPTH) {
        warn(c, "MIME nesting deeper than %d at part %d ignored", MAX_DEPTH, index);
        return;
    }

    if (GMIME_IS_MESSAGE_PART(obj)) {
        g_autofree char *type = mime_type_of(obj);
        cor_attachment_t *a = add_attachment(c, obj, type, index);
        keep_data(c, a, obj);
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        if (!inner)
            return;
        GMimeStream *null = g_mime_stream_null_new();
        ssize_t n = g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, null);
        a->size = n > 0 ? (uint64_t) n : 0;
        g_object_unref(null);
        if (text_wanted && !c->summary)
            forwarded_header(c, inner);
        walk(c, g_mime_message_get_mime_part(inner), depth + 1, text_wanted);
        return;
    }

    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int n = g_mime_multipart_get_count(mp);
        int chosen = -2;      /* -2: every child as text_wanted says */
        GMimeContentType *ct = g_mime_object_get_content_type(obj);
        if (text_wanted && ct && g_mime_content_type_is_type(ct, "multipart", "alternative"))
            chosen = choose_alternative(c, mp, c->part_index);
        if (n == 0 && text_wanted && !c->reparsed && reparse_multipart(c, mp, depth))
            return;
        if (n == 0) {
            /* no boundary found: what GMime kept as prologue is the text */
            warn(c, "multipart without parts at part %d, its text kept", index);
            const char *texts[] = { g_mime_multipart_get_prologue(mp), g_mime_multipart_get_epilogue(mp) };
            for (size_t i = 0; text_wanted && i < G_N_ELEMENTS(texts); i++) {
                if (!texts[i] || is_blank_text(texts[i]))
                    continue;
                bool lossy = false;
                char *t = to_utf8(texts[i], strlen(texts[i]), NULL, &lossy);
                size_t tl = strlen(t);
                normalise_text(t, &tl);
                if (!c->summary) {
                    append_body(c, t);
                } else if ((c->flags & COR_PARSE_EDGES) && !c->edges_done) {
                    /* a summary has no text: this is its first text part */
                    c->edges_done = true;
                    body_edges(c->msg, t, strlen(t));
                }
                g_free(t);
            }
        }
        for (int i = 0; i < n; i++) {
            bool want = chosen == -2 ? text_wanted : chosen == i;
            walk(c, g_mime_multipart_get_part(mp, i), depth + 1, want);
        }
        if (c->cached_part) {          /* chosen part never reached */
            g_clear_pointer(&c->cached_text, g_free);
            c->cached_part = NULL;
        }
        return;
    }

    if (GMIME_IS_PART(obj))
        leaf(c, GMIME_PART(obj), index, depth, text_wanted);
}

/* ---- the parse ------------------------------------------------------------ */

/* Where the header block starts, or -1 when the input has none: after
 * leading white space and an mbox "From " line, the first line must be a
 * header field "Name:" with a name of letters, digits, '-', '_' or '.'. */
static gssize
header_start(const char *data, size_t len)
{
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    if (len - i >= 5 && memcmp(data + i, "From ", 5) == 0) {
        const char *nl = memchr(data + i, '\n', len - i);
        if (!nl)
            return -1;
        i = (size_t) (nl - data) + 1;
    }
    size_t j = i;
    while (j < len && (g_ascii_isalnum(data[j]) || data[j] == '-' || data[j] == '_' || data[j] == '.'))
        j++;
    if (j == i || j - i > 200)
        return -1;
    while (j < len && (data[j] == ' ' || data[j] == '\t'))
        j++;
    if (j >= len || data[j] != ':')
        return -1;
    return (gssize) i;
}

/* The header fields this module reads; the rest of a header block (often
 * most of it: Received, DKIM, X-...) is not given to GMime, which would
 * build an object for each.  Sorted for bsearch. */
static const char *const wanted_headers[] = {
    "cc", "content-disposition", "content-transfer-encoding", "content-type", "date", "from",
    "in-reply-to", "list-id", "message-id", "mime-version", "references", "subject",
    "thread-index", "thread-topic", "to",
};

static int
header_name_cmp(const void *key, const void *elem)
{
    return strcmp((const char *) key, *(const char *const *) elem);
}

/* A copy of the message with only the wanted top-level header fields
 * (transfer full, *out_len its length); a plain copy when it has none.  Filtering stops at the first line
 * that is neither a field nor a continuation, and everything from there on
 * is copied as it is, so GMime sees malformed header blocks unchanged. */
static char *
filter_headers(const char *data, size_t len, size_t *out_len)
{
    char *out = g_malloc(len + 1);
    size_t o = 0, kept = 0;
    const char *p = data, *end = data + len;
    bool keep = false;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *le = nl ? nl + 1 : end;
        if (*p == ' ' || *p == '\t') {                 /* continuation */
            if (keep) {
                memcpy(out + o, p, (size_t) (le - p));
                o += (size_t) (le - p);
            }
            p = le;
            continue;
        }
        const char *q = p;
        while (q < le && *q != ':' && (unsigned char) *q > ' ' && *q != 0x7F)
            q++;
        const char *c = q;
        while (c < le && (*c == ' ' || *c == '\t'))
            c++;
        if (q == p || q - p > 64 || c >= le || *c != ':')
            break;                                      /* end of the header block */
        char name[72];
        for (const char *k = p; k < q; k++)
            name[k - p] = (char) g_ascii_tolower(*k);
        name[q - p] = '\0';
        keep = bsearch(name, wanted_headers, G_N_ELEMENTS(wanted_headers),
                       sizeof wanted_headers[0], header_name_cmp) != NULL;
        if (keep) {
            memcpy(out + o, p, (size_t) (le - p));
            o += (size_t) (le - p);
            kept++;
        }
        p = le;
    }
    if (kept == 0) {          /* nothing to read: let GMime see it all */
        memcpy(out, data, len);
        out[len] = '\0';
        *out_len = len;
        return out;
    }
    memcpy(out + o, p, (size_t) (end - p));
    o += (size_t) (end - p);
    out[o] = '\0';
    *out_len = o;
    return out;
}

static cor_message_t *
message_new(void)
{
    cor_message_t *m = g_new0(cor_message_t, 1);
    m->references = g_ptr_array_new_with_free_func(g_free);
    m->attachments = g_ptr_array_new_with_free_func(attachment_free);
    m->warnings = g_ptr_array_new_with_free_func(g_free);
    return m;
}

/* The last resort for invariant 2: every string is checked once more
 * (a linear scan, cheap next to the parse) and repaired if anything above
 * let invalid UTF-8 through. */
static void
ensure_valid(char **s)
{
    if (!*s) {
        *s = g_strdup("");
    } else if (!g_utf8_validate(*s, -1, NULL)) {
        char *v = g_utf8_make_valid(*s, -1);
        g_free(*s);
        *s = v;
    }
}

/* Strings never NULL, always valid UTF-8 (invariant 2). */
static void
fill_missing(cor_message_t *m)
{
    char **fields[] = {
        &m->message_id, &m->subject, &m->from, &m->from_name, &m->from_addr, &m->to, &m->cc,
        &m->in_reply_to, &m->thread_index, &m->thread_topic, &m->list_id, &m->body,
        &m->new_text, &m->quoted_text, &m->signature, &m->attachment_text, &m->body_html,
        &m->body_head, &m->body_tail,
    };
    for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
        ensure_valid(fields[i]);
    for (guint i = 0; i < m->references->len; i++)
        ensure_valid((char **) &m->references->pdata[i]);
    for (guint i = 0; i < m->warnings->len; i++)
        ensure_valid((char **) &m->warnings->pdata[i]);
    for (guint i = 0; i < m->attachments->len; i++) {
        cor_attachment_t *a = m->attachments->pdata[i];
        ensure_valid(&a->filename);
        ensure_valid(&a->content_type);
    }
}

cor_status_t
cor_message_parse(const char *data, size_t len, int64_t received,
                  cor_message_t **out, char **err)
{
    return cor_message_parse_ex(data, len, received, 0, out, err);
}

cor_status_t
cor_message_parse_summary(const char *data, size_t len, int64_t received,
                          cor_message_t **out, char **err)
{
    return cor_message_parse_ex(data, len, received, COR_PARSE_SUMMARY, out, err);
}

cor_status_t
cor_message_parse_ex(const char *data, size_t len, int64_t received, unsigned flags,
                     cor_message_t **out, char **err)
{
    bool summary = (flags & COR_PARSE_SUMMARY) != 0;
    *out = NULL;
    cor_message_init();

    if (!data || len == 0) {
        if (err)
            *err = g_strdup("empty message");
        return COR_ERR_PARSE;
    }
    if (len > G_MAXUINT) {
        if (err)
            *err = g_strdup("message larger than 4 GiB");
        return COR_ERR_PARSE;
    }
    gssize start = header_start(data, len);
    if (start < 0) {
        if (err)
            *err = g_strdup("no header block: the input does not start with a header field");
        return COR_ERR_PARSE;
    }

    cor_message_t *msg = message_new();
    ctx_t c = {
        .msg = msg,
        .body = g_string_sized_new(len < 65536 ? len : 65536),
        .att_text = g_string_new(NULL),
        .quote_split = -1,
        .summary = summary,
        .flags = flags,
        .html = (flags & COR_PARSE_KEEP_HTML) && !summary ? g_string_new(NULL) : NULL,
    };

    static const char *fallback[] = { "UTF-8", "windows-1252", "iso-8859-1", NULL };
    c.options = g_mime_parser_options_new();
    g_mime_parser_options_set_rfc2047_compliance_mode(c.options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_address_compliance_mode(c.options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(c.options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_allow_addresses_without_domain(c.options, TRUE);
    g_mime_parser_options_set_fallback_charsets(c.options, fallback);
    g_mime_parser_options_set_warning_callback(c.options, on_gmime_warning, &c);

    /* GMime reads a copy without the header fields nobody uses (a third of
     * the parse time of list mail goes to those otherwise).  The stream
     * borrows that copy: the byte array lives on this stack frame and every
     * GMime object is gone before the copy is freed. */
    size_t flen;
    g_autofree char *filtered = filter_headers(data + start, len - (size_t) start, &flen);
    GByteArray borrowed = { .data = (guint8 *) filtered, .len = (guint) flen };
    GMimeStream *stream = g_mime_stream_mem_new();
    g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(stream), &borrowed);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    GMimeMessage *m = g_mime_parser_construct_message(parser, c.options);
    g_object_unref(parser);

    cor_status_t status = COR_OK;
    if (!m) {
        if (err)
            *err = g_strdup("no message could be read from the input");
        status = COR_ERR_PARSE;
        goto done;
    }

    msg->subject = decode_unstructured(raw_header(GMIME_OBJECT(m), "Subject"));
    parse_from(&c, m);
    msg->to = address_display(m, GMIME_ADDRESS_TYPE_TO, "To");
    msg->cc = address_display(m, GMIME_ADDRESS_TYPE_CC, "Cc");
    parse_date(&c, m, received);
    parse_ids(&c, m, data, len);
    parse_microsoft(msg, GMIME_OBJECT(m));

    walk(&c, g_mime_message_get_mime_part(m), 0, true);
    g_clear_pointer(&c.cached_text, g_free);

    /* the text of the message and its parts */
    if (!summary) {
        g_autofree char *sender = *msg->from_name
            ? g_strdup_printf("%s <%s>", msg->from_name, msg->from_addr)
            : g_strdup(msg->from_addr);
        size_t split = c.quote_split >= 0 ? (size_t) c.quote_split : c.body->len;
        cor_quote_split(c.body->str, split, sender, &msg->new_text, &msg->quoted_text,
                        &msg->signature);
        if (split < c.body->len) {
            GString *q = g_string_new(msg->quoted_text);
            if (q->len > 0)
                g_string_append_c(q, '\n');
            g_string_append(q, c.body->str + split);
            g_free(msg->quoted_text);
            msg->quoted_text = g_string_free(q, FALSE);
        }
    }
    g_object_unref(m);

done:
    g_object_unref(stream);
    g_mime_parser_options_free(c.options);
    msg->body = g_string_free(c.body, FALSE);
    if (!summary)
        body_edges(msg, msg->body, strlen(msg->body));
    msg->attachment_text = g_string_free(c.att_text, FALSE);
    if (c.html) {
        if (msg->body_from_html) {
            msg->body_html = g_string_free(c.html, FALSE);
        } else {
            g_string_free(c.html, TRUE);
        }
    }
    if (status != COR_OK) {
        cor_message_free(msg);
        return status;
    }
    fill_missing(msg);
    *out = msg;
    return COR_OK;
}

void
cor_message_free(cor_message_t *msg)
{
    if (!msg)
        return;
    g_free(msg->message_id);
    g_free(msg->subject);
    g_free(msg->from);
    g_free(msg->from_name);
    g_free(msg->from_addr);
    g_free(msg->to);
    g_free(msg->cc);
    g_free(msg->in_reply_to);
    if (msg->references)
        g_ptr_array_unref(msg->references);
    g_free(msg->thread_index);
    g_free(msg->thread_topic);
    g_free(msg->list_id);
    g_free(msg->body);
    g_free(msg->new_text);
    g_free(msg->quoted_text);
    g_free(msg->signature);
    g_free(msg->attachment_text);
    g_free(msg->body_html);
    g_free(msg->body_head);
    g_free(msg->body_tail);
    if (msg->attachments)
        g_ptr_array_unref(msg->attachments);
    if (msg->warnings)
        g_ptr_array_unref(msg->warnings);
    g_free(msg);
}
