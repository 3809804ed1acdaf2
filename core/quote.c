/* core/quote.c — new text, quoted text and signature (see quote.h).
 *
 * Design notes
 * ------------
 * The body is cut into lines once (pointers into the body, no copies); each
 * line gets a kind (blank, text, quote) and then a role (new, quoted,
 * signature) in four passes:
 *
 *   1. the cut: the first forwarded/original-message marker or Outlook
 *      header block outside "> " quotes; everything from there is quoted;
 *   2. quote runs before the cut, each with the attribution above it;
 *   3. signatures in each block of new text ("-- ", mobile sign-offs, PGP
 *      armour);
 *   4. end-of-text heuristics (disclaimers, list footers, contact blocks,
 *      the sender's name) on the last block of new text.
 *
 * Every test is on one line or one paragraph and looks at a bounded number
 * of bytes, so the split is linear in the size of the body.  Lowercased
 * copies are made only for the few lines that are candidates (attributions,
 * markers, the last paragraphs).
 */
#include "core/quote.h"

#include <glib.h>
#include <stdbool.h>
#include <string.h>

enum { K_BLANK, K_TEXT, K_QUOTE };
enum { R_NEW, R_QUOTED, R_SIG, R_COUNT };

typedef struct line {
    const char *s;
    size_t len;          /* without the "\n" and a trailing "\r" */
    unsigned char kind;
    unsigned char role;
} line_t;

/* ---- small text helpers ------------------------------------------------- */

static bool
is_space_at(const char *p, const char *end, size_t *adv)
{
    unsigned char c = (unsigned char) *p;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
        *adv = 1;
        return true;
    }
    if (c == 0xC2 && p + 1 < end && (unsigned char) p[1] == 0xA0) {   /* nbsp */
        *adv = 2;
        return true;
    }
    return false;
}

/* Trims blanks (and non-breaking spaces) at both ends. */
static void
trim(const char **s, size_t *len)
{
    const char *p = *s, *end = *s + *len;
    size_t adv;
    while (p < end && is_space_at(p, end, &adv))
        p += adv;
    while (end > p) {
        unsigned char c = (unsigned char) end[-1];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v')
            end--;
        else if (c == 0xA0 && end - 1 > p && (unsigned char) end[-2] == 0xC2)
            end -= 2;
        else
            break;
    }
    *s = p;
    *len = (size_t) (end - p);
}

static bool
starts_ci(const char *s, size_t len, const char *prefix)
{
    if (len == 0 || g_ascii_tolower(*s) != g_ascii_tolower(*prefix))
        return false;
    size_t n = strlen(prefix);
    return len >= n && g_ascii_strncasecmp(s, prefix, n) == 0;
}

/* Lowercase copy of `len` bytes (UTF-8 aware) (transfer full). */
static char *
lower_copy(const char *s, size_t len)
{
    return g_utf8_strdown(s, (gssize) len);
}

static bool
contains(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

static bool
contains_any(const char *hay, const char *const *needles, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strstr(hay, needles[i]))
            return true;
    }
    return false;
}

static bool
starts_any(const char *s, const char *const *prefixes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (g_str_has_prefix(s, prefixes[i]))
            return true;
    }
    return false;
}

/* A line made only of separator characters, at least `min` of them. */
static bool
is_separator(const char *s, size_t len, const char *chars, size_t min)
{
    trim(&s, &len);
    if (len < min)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!strchr(chars, s[i]))
            return false;
    }
    return true;
}

/* ---- header fields ---------------------------------------------------- */

typedef struct field_name {
    const char *name;            /* lowercase */
    cor_header_field_t kind;
} field_name_t;

static const field_name_t field_names[] = {
    { "from", COR_FIELD_FROM }, { "von", COR_FIELD_FROM }, { "de", COR_FIELD_FROM },
    { "van", COR_FIELD_FROM }, { "fra", COR_FIELD_FROM }, { "från", COR_FIELD_FROM },
    { "od", COR_FIELD_FROM }, { "от", COR_FIELD_FROM }, { "da", COR_FIELD_FROM },
    { "lähettäjä", COR_FIELD_FROM }, { "feladó", COR_FIELD_FROM }, { "kimden", COR_FIELD_FROM },
    { "від", COR_FIELD_FROM }, { "发件人", COR_FIELD_FROM }, { "寄件者", COR_FIELD_FROM },
    { "差出人", COR_FIELD_FROM }, { "remetente", COR_FIELD_FROM }, { "afzender", COR_FIELD_FROM },
    { "avsändare", COR_FIELD_FROM }, { "mittente", COR_FIELD_FROM }, { "nadawca", COR_FIELD_FROM },
    { "sent", COR_FIELD_SENT }, { "gesendet", COR_FIELD_SENT }, { "envoyé", COR_FIELD_SENT },
    { "verzonden", COR_FIELD_SENT }, { "enviado", COR_FIELD_SENT }, { "enviada", COR_FIELD_SENT },
    { "inviato", COR_FIELD_SENT }, { "sendt", COR_FIELD_SENT }, { "skickat", COR_FIELD_SENT },
    { "wysłano", COR_FIELD_SENT }, { "отправлено", COR_FIELD_SENT }, { "lähetetty", COR_FIELD_SENT },
    { "odesláno", COR_FIELD_SENT }, { "elküldve", COR_FIELD_SENT }, { "gönderildi", COR_FIELD_SENT },
    { "发送时间", COR_FIELD_SENT }, { "送信日時", COR_FIELD_SENT }, { "enviado el", COR_FIELD_SENT },
    { "date", COR_FIELD_DATE }, { "datum", COR_FIELD_DATE }, { "fecha", COR_FIELD_DATE },
    { "data", COR_FIELD_DATE }, { "dato", COR_FIELD_DATE }, { "päivämäärä", COR_FIELD_DATE },
    { "дата", COR_FIELD_DATE }, { "tarih", COR_FIELD_DATE }, { "日期", COR_FIELD_DATE },
    { "日付", COR_FIELD_DATE }, { "dátum", COR_FIELD_DATE },
    { "to", COR_FIELD_TO }, { "an", COR_FIELD_TO }, { "à", COR_FIELD_TO }, { "a", COR_FIELD_TO },
    { "aan", COR_FIELD_TO }, { "para", COR_FIELD_TO }, { "til", COR_FIELD_TO },
    { "till", COR_FIELD_TO }, { "do", COR_FIELD_TO }, { "кому", COR_FIELD_TO },
    { "vastaanottaja", COR_FIELD_TO }, { "címzett", COR_FIELD_TO }, { "kime", COR_FIELD_TO },
    { "收件人", COR_FIELD_TO }, { "宛先", COR_FIELD_TO }, { "komu", COR_FIELD_TO },
    { "per", COR_FIELD_TO }, { "destinataire", COR_FIELD_TO },
    { "cc", COR_FIELD_CC }, { "bcc", COR_FIELD_CC }, { "kopie", COR_FIELD_CC },
    { "copie", COR_FIELD_CC }, { "kopia", COR_FIELD_CC }, { "копия", COR_FIELD_CC },
    { "kopio", COR_FIELD_CC }, { "másolat", COR_FIELD_CC }, { "抄送", COR_FIELD_CC },
    { "reply-to", COR_FIELD_CC }, { "antwort an", COR_FIELD_CC },
    { "subject", COR_FIELD_SUBJECT }, { "betreff", COR_FIELD_SUBJECT }, { "objet", COR_FIELD_SUBJECT },
    { "onderwerp", COR_FIELD_SUBJECT }, { "asunto", COR_FIELD_SUBJECT }, { "oggetto", COR_FIELD_SUBJECT },
    { "emne", COR_FIELD_SUBJECT }, { "ämne", COR_FIELD_SUBJECT }, { "temat", COR_FIELD_SUBJECT },
    { "тема", COR_FIELD_SUBJECT }, { "aihe", COR_FIELD_SUBJECT }, { "předmět", COR_FIELD_SUBJECT },
    { "tárgy", COR_FIELD_SUBJECT }, { "konu", COR_FIELD_SUBJECT }, { "主题", COR_FIELD_SUBJECT },
    { "件名", COR_FIELD_SUBJECT }, { "assunto", COR_FIELD_SUBJECT }, { "subiect", COR_FIELD_SUBJECT },
    { "tema", COR_FIELD_SUBJECT },
};

cor_header_field_t
cor_quote_header_field(const char *line, size_t len)
{
    const char *p = line, *end = line + len;
    size_t adv;

    while (p < end && (*p == '*' || is_space_at(p, end, &adv)))
        p += (*p == '*') ? 1 : adv;
    if (p >= end || *p == '>')
        return COR_FIELD_NONE;

    /* the colon: ':' or the full-width U+FF1A, within the first 48 bytes */
    const char *colon = NULL;
    for (const char *q = p; q < end && q < p + 48; q++) {
        if (*q == ':') {
            colon = q;
            break;
        }
        if ((unsigned char) q[0] == 0xEF && q + 2 < end &&
            (unsigned char) q[1] == 0xBC && (unsigned char) q[2] == 0x9A) {
            colon = q;
            break;
        }
    }
    if (!colon)
        return COR_FIELD_NONE;
    const char *ne = colon;
    while (ne > p && (ne[-1] == '*' || ne[-1] == ' ' || ne[-1] == '\t' ||
                      (unsigned char) ne[-1] == 0xA0))
        ne -= ((unsigned char) ne[-1] == 0xA0 && ne - 1 > p && (unsigned char) ne[-2] == 0xC2) ? 2 : 1;
    size_t n = (size_t) (ne - p);
    if (n == 0 || n > 40)
        return COR_FIELD_NONE;

    char buf[48];
    bool ascii = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) p[i];
        if (c >= 0x80)
            ascii = false;
        buf[i] = (char) g_ascii_tolower(c);
    }
    buf[n] = '\0';
    g_autofree char *folded = NULL;
    const char *name = buf;
    if (!ascii) {
        folded = g_utf8_strdown(p, (gssize) n);
        name = folded;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(field_names); i++) {
        if (strcmp(name, field_names[i].name) == 0)
            return field_names[i].kind;
    }
    return COR_FIELD_NONE;
}

/* Whether an Outlook-style header block starts at line i: consecutive field
 * lines (continuation lines starting with a blank allowed) with From plus
 * Sent, or From plus To plus Date or Subject. */
static bool
header_block_at(const line_t *lines, size_t n, size_t i)
{
    unsigned mask = 0;
    size_t count = 0;
    for (size_t j = i; j < n && j < i + 16; j++) {
        if (lines[j].kind != K_TEXT)
            break;
        cor_header_field_t f = cor_quote_header_field(lines[j].s, lines[j].len);
        if (f != COR_FIELD_NONE) {
            mask |= 1u << f;
            count++;
        } else if (count > 0 && (lines[j].s[0] == ' ' || lines[j].s[0] == '\t') && lines[j].len < 200) {
            continue;
        } else {
            break;
        }
    }
    if (!(mask & (1u << COR_FIELD_FROM)))
        return false;
    if (mask & (1u << COR_FIELD_SENT))
        return true;
    return (mask & (1u << COR_FIELD_TO)) &&
           (mask & ((1u << COR_FIELD_DATE) | (1u << COR_FIELD_SUBJECT)));
}

/* ---- markers and attributions ------------------------------------------- */

static const char *const forward_words[] = {
    "original", "forward", "ursprüngliche", "weitergeleitet", "origine", "transféré",
    "oorspronkelijk", "doorgestuurd", "reenviado", "inoltrato", "encaminhad",
    "opprinnelig", "videresendt", "oprindelig", "ursprungligt", "vidarebefordrat",
    "alkuperäinen", "välitetty", "původní", "přeposlan", "oryginaln", "przekazan",
    "исходное", "пересылаемое", "пересланное", "eredeti", "továbbított", "orijinal",
    "iletilen", "原始邮件", "转发", "転送",
};

static const char *const forward_starts[] = {
    "begin forwarded message", "anfang der weitergeleiteten", "début du message réexpédié",
    "inicio del mensaje reenviado", "inizio messaggio inoltrato", "início da mensagem reencaminhada",
    "doorgestuurd bericht", "forwarded message:", "original message:",
};

/* "-----Original Message-----", "---------- Forwarded message ---------",
 * "Begin forwarded message:" and their translations. */
static bool
is_forward_marker(const char *s, size_t len)
{
    trim(&s, &len);
    if (len < 10 || len > 120)
        return false;
    if (s[0] == '-' && s[1] == '-' && s[len - 1] == '-' && s[len - 2] == '-') {
        const char *a = s, *b = s + len;
        while (a < b && (*a == '-' || *a == ' '))
            a++;
        while (b > a && (b[-1] == '-' || b[-1] == ' '))
            b--;
        if (b == a)
            return false;
        g_autofree char *low = lower_copy(a, (size_t) (b - a));
        return contains_any(low, forward_words, G_N_ELEMENTS(forward_words));
    }
    for (size_t i = 0; i < G_N_ELEMENTS(forward_starts); i++) {
        if (starts_ci(s, len, forward_starts[i]))
            return true;
    }
    return false;
}

static const char *const attribution_verbs[] = {
    "wrote", "writes", "schrieb", "schreibt", "écrit", "escribió", "escribio", "escreveu",
    "ha scritto", "scrisse", "schreef", "skrev", "skriver", "kirjoitti", "napisał", "napisal",
    "napsal", "написал", "пишет", "пише", "írta", "yazdı", "said", "says", "sagte", "a dit",
    "写道", "寫道", "のメッセージ", "작성", "quoting", "citando", "zitat", "wrote on",
};

static const char *const attribution_openers[] = {
    "on ", "le ", "am ", "el ", "il ", "op ", "em ", "den ", "dne ", "w dniu ", "quoting ",
    "citando ", "zitat von ", "zitiere ", "* ", "в ",
};

/* Lowercased line without leading dashes and blanks (transfer full). */
static char *
attribution_text(const char *s, size_t len)
{
    trim(&s, &len);
    while (len > 0 && (*s == '-' || *s == ' ')) {
        s++;
        len--;
    }
    return lower_copy(s, len);
}

static bool
is_opener(const char *low)
{
    if (g_ascii_isdigit(low[0]))
        return true;
    return starts_any(low, attribution_openers, G_N_ELEMENTS(attribution_openers));
}

static bool
has_digit(const char *s)
{
    for (; *s; s++) {
        if (g_ascii_isdigit(*s))
            return true;
    }
    return false;
}

/* Whether the lowercased, trimmed `low` reads like "On <date>, X wrote:". */
static bool
is_attribution(const char *low)
{
    size_t n = strlen(low);
    if (n < 2 || n > 400)
        return false;
    bool colon = low[n - 1] == ':' ||
                 (n >= 3 && (unsigned char) low[n - 3] == 0xEF &&
                  (unsigned char) low[n - 2] == 0xBC && (unsigned char) low[n - 1] == 0x9A);
    if (!colon)
        return false;
    if (contains_any(low, attribution_verbs, G_N_ELEMENTS(attribution_verbs)))
        return true;
    if (strchr(low, '@'))
        return true;
    return is_opener(low) && has_digit(low) && n <= 200;
}

/* An attribution may wrap: "On Mon, 3 Jan 2005, Ralf Baechle\nwrote:".  A
 * line above belongs to it when it opens like one, carries a date or an
 * address and does not end a sentence. */
static bool
is_wrapped_opener(const line_t *l)
{
    if (l->kind != K_TEXT || l->role != R_NEW || l->len > 200)
        return false;
    g_autofree char *low = attribution_text(l->s, l->len);
    size_t n = strlen(low);
    if (n == 0 || low[n - 1] == '.' || low[n - 1] == '!' || low[n - 1] == '?')
        return false;
    return is_opener(low) && (has_digit(low) || strchr(low, '@'));
}

/* The first line of the attribution ending at line j, or -1. */
static gssize
attribution_start(const line_t *lines, size_t j)
{
    const line_t *l = &lines[j];
    if (l->kind != K_TEXT || l->role != R_NEW)
        return -1;
    g_autofree char *low = attribution_text(l->s, l->len);
    if (is_attribution(low)) {
        if (is_opener(low))
            return (gssize) j;
        if (j >= 1 && is_wrapped_opener(&lines[j - 1]))
            return (gssize) j - 1;
        if (j >= 2 && is_wrapped_opener(&lines[j - 2]) && lines[j - 1].kind == K_TEXT &&
            lines[j - 1].role == R_NEW && lines[j - 1].len <= 100)
            return (gssize) j - 2;
        return (gssize) j;
    }
    /* the verb-less last line may still close a wrapped attribution */
    size_t n = strlen(low);
    if (n == 0 || low[n - 1] != ':')
        return -1;
    for (size_t up = 1; up <= 2 && up <= j; up++) {
        const line_t *top = &lines[j - up];
        if (!is_wrapped_opener(top))
            continue;
        const char *from = top->s;
        const char *to = l->s + l->len;
        g_autofree char *joined = attribution_text(from, (size_t) (to - from));
        for (char *p = joined; *p; p++) {
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        }
        if (is_attribution(joined))
            return (gssize) (j - up);
    }
    return -1;
}

/* ---- signatures --------------------------------------------------------- */

/* Compared without case for ASCII letters, exactly for the others (hence
 * the capitalised Cyrillic forms). */
static const char *const signoffs[] = {
    "sent from ", "sent with ", "sent via ", "sent using ", "sent by my ", "get outlook for ",
    "von meinem ", "gesendet von ", "gesendet mit ", "envoyé de mon ", "envoyé depuis ",
    "enviado desde ", "enviado do meu ", "enviado de mi ", "inviato da ", "inviato dal ",
    "verzonden vanaf ", "verstuurd vanaf ", "verzonden met ", "skickat från ", "sendt fra ",
    "lähetetty ", "wysłane z ", "отправлено с ", "отправлено из ", "Отправлено с ",
    "Отправлено из ",
};

static bool
is_signoff(const line_t *l)
{
    const char *s = l->s;
    size_t len = l->len;
    trim(&s, &len);
    if (len < 8 || len > 100)
        return false;
    for (size_t i = 0; i < G_N_ELEMENTS(signoffs); i++) {
        if (starts_ci(s, len, signoffs[i]))
            return true;
    }
    return false;
}

static bool
is_sig_delimiter(const line_t *l)
{
    const char *s = l->s;
    size_t len = l->len;
    trim(&s, &len);
    return len == 2 && s[0] == '-' && s[1] == '-';
}

static const char *const disclaimer_phrases[] = {
    "confidential", "intended recipient", "intended solely", "intended only", "in error",
    "privileged", "any attachments", "files transmitted", "do not disclose", "unauthorised",
    "unauthorized", "disclaimer", "notify the sender", "notify us", "delete it", "delete this",
    "delete the", "virus", "views expressed", "liability", "monitored", "registered office",
    "registered in", "company number", "consider the environment", "before printing",
    "strictly prohibited", "prohibited", "legally", "vertraulich", "irrtümlich",
    "confidentialit", "destinataire", "addressee", "disclosure", "distribution",
};

static const char *const disclaimer_starts[] = {
    "disclaimer", "confidentiality", "important notice", "legal notice", "privileged",
    "this email and any", "this e-mail and any", "this message and any",
    "this email is confidential", "this e-mail is confidential", "this message is confidential",
    "this email may contain", "this e-mail may contain", "this message may contain",
    "the information contained in this", "the information in this", "the contents of this",
    "please consider the environment", "notice:", "caution:", "warning: this",
};

/* Whether the paragraph of lines [a, b) is a disclaimer or a list footer. */
static bool
is_disclaimer_paragraph(const line_t *lines, size_t a, size_t b)
{
    const char *from = lines[a].s;
    size_t span = (size_t) (lines[b - 1].s + lines[b - 1].len - from);
    if (span > 8192)
        span = 8192;
    /* the phrases are ASCII: an ASCII lowercase copy is enough */
    g_autofree char *low = g_ascii_strdown(from, (gssize) span);

    bool rule = is_separator(lines[a].s, lines[a].len, "-_=*~#", 10);
    if (rule && (contains(low, "mailing list") || contains(low, "listinfo") ||
                 contains(low, "unsubscribe")))
        return true;

    const char *t = low;
    while (*t && (strchr("-_=*~# \t\r\n", *t)))
        t++;
    if (starts_any(t, disclaimer_starts, G_N_ELEMENTS(disclaimer_starts)))
        return true;
    int score = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(disclaimer_phrases); i++) {
        if (strstr(t, disclaimer_phrases[i]))
            score++;
    }
    return score >= 2 && strlen(t) >= 60;
}

/* Words of the sender's name and address local part, lowercased, at least
 * three characters, without common non-name words. */
static GPtrArray *
sender_tokens(const char *sender)
{
    static const char *const stop[] = {
        "the", "and", "mail", "email", "info", "admin", "team", "support", "noreply",
        "reply", "list", "lists", "user", "one", "com", "org", "net", "www", "via",
        "from", "for", "office", "contact", "sales", "help", "bounce", "owner",
    };
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    if (!sender || !*sender)
        return out;
    g_autofree char *low = g_utf8_strdown(sender, -1);

    /* drop the domain of addresses */
    for (char *at = strchr(low, '@'); at; at = strchr(at, '@')) {
        char *e = at;
        while (*e && *e != ' ' && *e != '>' && *e != ')' && *e != ',' && *e != '"')
            e++;
        memset(at, ' ', (size_t) (e - at));
        at = e;
    }
    const char *p = low;
    while (*p) {
        gunichar c = g_utf8_get_char_validated(p, -1);
        if (c == (gunichar) -1 || c == (gunichar) -2) {
            p++;
            continue;
        }
        if (!g_unichar_isalpha(c)) {
            p = g_utf8_next_char(p);
            continue;
        }
        const char *start = p;
        glong chars = 0;
        while (*p) {
            gunichar d = g_utf8_get_char_validated(p, -1);
            if (d == (gunichar) -1 || d == (gunichar) -2 || !g_unichar_isalpha(d))
                break;
            p = g_utf8_next_char(p);
            chars++;
        }
        if (chars < 3)
            continue;
        char *tok = g_strndup(start, (gsize) (p - start));
        bool skip = false;
        for (size_t i = 0; i < G_N_ELEMENTS(stop) && !skip; i++)
            skip = strcmp(tok, stop[i]) == 0;
        for (guint i = 0; i < out->len && !skip; i++)
            skip = strcmp(tok, out->pdata[i]) == 0;
        if (skip || out->len >= 8)
            g_free(tok);
        else
            g_ptr_array_add(out, tok);
    }
    return out;
}

/* Whether the lowercased `low` has `tok` as a whole word. */
static bool
has_word(const char *low, const char *tok)
{
    size_t n = strlen(tok);
    for (const char *p = strstr(low, tok); p; p = strstr(p + 1, tok)) {
        bool left = p == low;
        if (!left) {
            const char *prev = g_utf8_find_prev_char(low, p);
            left = !prev || !g_unichar_isalpha(g_utf8_get_char(prev));
        }
        bool right = p[n] == '\0' || !g_unichar_isalpha(g_utf8_get_char(p + n));
        if (left && right)
            return true;
    }
    return false;
}

static bool
line_has_token(const line_t *l, const GPtrArray *tokens)
{
    if (tokens->len == 0)
        return false;
    g_autofree char *low = lower_copy(l->s, l->len);
    for (guint i = 0; i < tokens->len; i++) {
        if (has_word(low, tokens->pdata[i]))
            return true;
    }
    return false;
}

static const char *const closings[] = {
    "thanks", "thank you", "thx", "regards", "best", "kind regards", "best regards",
    "warm regards", "cheers", "sincerely", "yours", "many thanks", "all the best", "bye",
    "greetings", "take care", "ciao", "br", "rgds", "cordialement", "saludos", "groeten",
    "gruß", "grüße", "gruss", "mfg", "viele grüße", "hälsningar", "pozdrawiam", "mvh",
    "с уважением", "спасибо", "merci", "grazie", "obrigado", "gracias", "met vriendelijke groet",
};

/* "Thanks," / "Best regards" / "С уважением," on a line of its own. */
static bool
is_closing(const line_t *l)
{
    const char *s = l->s;
    size_t len = l->len;
    if (l->kind != K_TEXT || l->role != R_NEW)
        return false;
    trim(&s, &len);
    if (len == 0 || len > 40)
        return false;
    g_autofree char *low = lower_copy(s, len);
    size_t n = strlen(low);
    while (n > 0 && strchr(",.!-", low[n - 1]))
        low[--n] = '\0';
    for (size_t i = 0; i < G_N_ELEMENTS(closings); i++) {
        size_t k = strlen(closings[i]);
        if (strncmp(low, closings[i], k) == 0 &&
            (low[k] == '\0' || low[k] == ' ' || low[k] == ','))
            return n <= k + 20;
    }
    return false;
}

/* A line of a patch: the end-of-text rules never take those. */
static bool
is_patch_line(const line_t *l)
{
    static const char *const marks[] = { "@@ ", "diff ", "+++ ", "--- ", "Index: ", "RCS file: " };
    for (size_t i = 0; i < G_N_ELEMENTS(marks); i++) {
        size_t n = strlen(marks[i]);
        if (l->len >= n && memcmp(l->s, marks[i], n) == 0)
            return true;
    }
    return false;
}

static bool
has_patch(const line_t *lines, size_t a, size_t b)
{
    for (size_t i = a; i < b; i++) {
        if (is_patch_line(&lines[i]))
            return true;
    }
    return false;
}

/* A phone number, an address, a web site. */
static bool
is_contact_line(const line_t *l)
{
    int digits = 0, other = 0;
    for (size_t i = 0; i < l->len; i++) {
        char c = l->s[i];
        if (g_ascii_isdigit(c))
            digits++;
        else if (!strchr(" \t+-()./", c))
            other++;
    }
    if (digits >= 7 && digits >= other)
        return true;
    g_autofree char *low = lower_copy(l->s, l->len);
    static const char *const marks[] = { "http", "www.", "@", "tel", "fax", "phone", "mobile", "skype" };
    return contains_any(low, marks, G_N_ELEMENTS(marks));
}

static size_t
trimmed_len(const line_t *l)
{
    const char *s = l->s;
    size_t len = l->len;
    trim(&s, &len);
    return g_utf8_strlen(s, (gssize) len);
}

/* The start of end-of-text signature material in the new-text block
 * [a, b) (b exclusive, trailing blank lines included), or b when none. */
static size_t
tail_signature(const line_t *lines, size_t a, size_t b, const GPtrArray *tokens)
{
    size_t start = b;
    size_t last = b;
    while (last > a && lines[last - 1].kind == K_BLANK)
        last--;
    if (last == a)
        return b;

    /* disclaimers and list footers, paragraph by paragraph from the end */
    size_t pos = last;
    while (pos > a) {
        while (pos > a && lines[pos - 1].kind == K_BLANK)
            pos--;
        if (pos == a)
            break;
        size_t pe = pos, ps = pos;
        while (ps > a && lines[ps - 1].kind != K_BLANK)
            ps--;
        if (is_disclaimer_paragraph(lines, ps, pe)) {
            start = ps;
        } else if (start < b && pe - ps <= 2) {
            /* a separator line just above a disclaimer goes with it */
            bool all_sep = true;
            for (size_t i = ps; i < pe; i++)
                all_sep = all_sep && is_separator(lines[i].s, lines[i].len, "-_=*~#", 4);
            if (!all_sep)
                break;
            start = ps;
        } else {
            break;
        }
        pos = ps;
    }

    /* the closing lines above a disclaimer */
    last = start;
    while (last > a && lines[last - 1].kind == K_BLANK)
        last--;
    if (last == a)
        return start;

    /* a contact block under a separator line */
    size_t nonblank = 0;
    for (size_t i = last; i > a; i--) {
        const line_t *l = &lines[i - 1];
        if (l->kind == K_BLANK)
            continue;
        if (trimmed_len(l) > 80 || ++nonblank > 16)
            break;
        if (is_separator(l->s, l->len, "-_=*~#", 4) && i - 1 < last - 1) {
            int contact = 0;
            bool named = false;
            for (size_t k = i; k < last; k++) {
                if (lines[k].kind == K_BLANK)
                    continue;
                contact += is_contact_line(&lines[k]);
                named = named || line_has_token(&lines[k], tokens);
            }
            if ((named || contact >= 2) && !has_patch(lines, i - 1, last)) {
                if (i - 1 < start)
                    start = i - 1;
            }
            break;
        }
    }

    /* the sender's name in the short closing lines */
    if (tokens->len > 0) {
        size_t window = last, count = 0;
        for (size_t i = last; i > a; i--) {
            const line_t *l = &lines[i - 1];
            if (l->kind == K_BLANK) {
                window = i - 1;
                continue;
            }
            if (trimmed_len(l) > 60 || ++count > 6)
                break;
            window = i - 1;
        }
        for (size_t i = window; i < last; i++) {
            const line_t *l = &lines[i];
            if (l->kind == K_BLANK || trimmed_len(l) > 40 || !line_has_token(l, tokens))
                continue;
            size_t s = i;
            /* "Thanks,\nRalf" or "Thanks,\n\nRalf" */
            size_t k = s;
            if (k > a && lines[k - 1].kind == K_BLANK && k - 1 > a)
                k--;
            if (k > a && is_closing(&lines[k - 1]))
                s = k - 1;
            if (s < start && !has_patch(lines, s, last))
                start = s;
            break;
        }
    }
    return start;
}

/* ---- the split ---------------------------------------------------------- */

static line_t *
split_lines(const char *body, size_t len, size_t *count)
{
    size_t n = 1;
    for (const char *p = memchr(body, '\n', len); p; p = memchr(p + 1, '\n', (size_t) (body + len - p - 1)))
        n++;
    line_t *lines = g_new(line_t, n);
    size_t i = 0;
    const char *s = body, *end = body + len;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t) (end - s));
        const char *le = nl ? nl : end;
        line_t *l = &lines[i++];
        l->s = s;
        l->len = (size_t) (le - s);
        if (l->len > 0 && s[l->len - 1] == '\r')
            l->len--;
        l->role = R_NEW;

        const char *t = s;
        size_t tl = l->len, adv;
        while (tl > 0 && is_space_at(t, t + tl, &adv)) {
            t += adv;
            tl -= adv;
        }
        l->kind = tl == 0 ? K_BLANK : (*t == '>' ? K_QUOTE : K_TEXT);
        s = nl ? nl + 1 : end;
    }
    *count = i;
    return lines;
}

/* Everything from the first marker or header block on is quoted. */
static size_t
find_cut(line_t *lines, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (lines[i].kind != K_TEXT)
            continue;
        size_t cut;
        if (is_forward_marker(lines[i].s, lines[i].len)) {
            cut = i;
        } else if (cor_quote_header_field(lines[i].s, lines[i].len) != COR_FIELD_NONE &&
                   header_block_at(lines, n, i)) {
            cut = i;
            /* the separator line and the attribution above belong to it */
            for (int step = 0; step < 2; step++) {
                size_t k = cut, blanks = 0;
                while (k > 0 && lines[k - 1].kind == K_BLANK && blanks < 2) {
                    k--;
                    blanks++;
                }
                if (k == 0 || lines[k - 1].kind != K_TEXT)
                    break;
                const line_t *l = &lines[k - 1];
                if (is_separator(l->s, l->len, "_-", 10) || is_forward_marker(l->s, l->len)) {
                    cut = k - 1;
                    continue;
                }
                g_autofree char *low = attribution_text(l->s, l->len);
                if (is_attribution(low)) {
                    gssize st = attribution_start(lines, k - 1);
                    cut = st >= 0 ? (size_t) st : k - 1;
                }
                break;
            }
        } else {
            continue;
        }
        return cut;
    }
    return n;
}

static void
mark_quotes(line_t *lines, size_t limit)
{
    size_t i = 0;
    while (i < limit) {
        if (lines[i].kind != K_QUOTE) {
            i++;
            continue;
        }
        size_t start = i, end = i + 1;
        /* the run: quote lines and the blank lines between them */
        for (size_t j = i + 1; j < limit; j++) {
            if (lines[j].kind == K_QUOTE)
                end = j + 1;
            else if (lines[j].kind != K_BLANK)
                break;
        }
        for (size_t j = start; j < end; j++)
            lines[j].role = R_QUOTED;

        /* the attribution above, at most two blank lines up */
        size_t k = start, blanks = 0;
        while (k > 0 && lines[k - 1].kind == K_BLANK && lines[k - 1].role == R_NEW && blanks < 2) {
            k--;
            blanks++;
        }
        if (k > 0) {
            gssize att = attribution_start(lines, k - 1);
            if (att >= 0) {
                for (size_t j = (size_t) att; j < start; j++)
                    lines[j].role = R_QUOTED;
            }
        }
        i = end;
    }
}

static void
mark_pgp(line_t *lines, size_t limit)
{
    for (size_t i = 0; i < limit; i++) {
        if (lines[i].role != R_NEW || lines[i].len < 27 || lines[i].s[0] != '-')
            continue;
        if (starts_ci(lines[i].s, lines[i].len, "-----BEGIN PGP SIGNED MESSAGE-----")) {
            lines[i].role = R_SIG;
            for (size_t j = i + 1; j < limit && lines[j].role == R_NEW; j++) {
                lines[j].role = R_SIG;
                if (lines[j].kind == K_BLANK)
                    break;
            }
        } else if (starts_ci(lines[i].s, lines[i].len, "-----BEGIN PGP SIGNATURE-----")) {
            size_t j = i;
            for (; j < limit && lines[j].role == R_NEW; j++) {
                lines[j].role = R_SIG;
                if (starts_ci(lines[j].s, lines[j].len, "-----END PGP SIGNATURE-----"))
                    break;
            }
            i = j;
        }
    }
}

/* "-- " lines and mobile sign-offs, block by block. */
static void
mark_block_signatures(line_t *lines, size_t limit)
{
    size_t i = 0;
    while (i < limit) {
        if (lines[i].role != R_NEW) {
            i++;
            continue;
        }
        size_t a = i, b = i;
        while (b < limit && lines[b].role == R_NEW)
            b++;
        size_t sig = b;
        for (size_t j = a; j < b; j++) {
            if (is_sig_delimiter(&lines[j])) {
                sig = j;
                break;
            }
        }
        /* a sign-off has at most two lines after it: look at the last three */
        size_t seen = 0;
        for (size_t j = sig; j > a && seen < 3; j--) {
            const line_t *l = &lines[j - 1];
            if (l->kind == K_BLANK)
                continue;
            seen++;
            if (l->kind == K_TEXT && is_signoff(l))
                sig = j - 1;
        }
        for (size_t j = sig; j < b; j++)
            lines[j].role = R_SIG;
        i = b;
    }
}

static void
mark_tail_signature(line_t *lines, size_t limit, const char *sender)
{
    /* the last block of new text that has text in it */
    size_t b = limit;
    for (;;) {
        while (b > 0 && lines[b - 1].role != R_NEW)
            b--;
        if (b == 0)
            return;
        size_t a = b;
        while (a > 0 && lines[a - 1].role == R_NEW)
            a--;
        bool text = false;
        for (size_t j = a; j < b && !text; j++)
            text = lines[j].kind != K_BLANK;
        if (!text) {
            b = a;
            continue;
        }
        g_autoptr(GPtrArray) tokens = sender_tokens(sender);
        size_t start = tail_signature(lines, a, b, tokens);
        if (start >= b)
            return;
        /* some new text must stay */
        bool kept = false;
        for (size_t j = 0; j < start && !kept; j++)
            kept = lines[j].role == R_NEW && lines[j].kind != K_BLANK;
        if (!kept)
            return;
        for (size_t j = start; j < b; j++)
            lines[j].role = R_SIG;
        return;
    }
}

/* Appends the lines of each block of `role`, blocks trimmed of blank lines
 * and separated by one blank line (transfer full). */
static char *
collect(const line_t *lines, size_t n, int role, size_t hint)
{
    GString *out = g_string_sized_new(hint);
    size_t i = 0;
    while (i < n) {
        if (lines[i].role != role) {
            i++;
            continue;
        }
        size_t a = i, b = i;
        while (b < n && lines[b].role == role)
            b++;
        i = b;
        while (a < b && lines[a].kind == K_BLANK)
            a++;
        while (b > a && lines[b - 1].kind == K_BLANK)
            b--;
        if (a == b)
            continue;
        if (out->len > 0)
            g_string_append_c(out, '\n');
        for (size_t j = a; j < b; j++) {
            g_string_append_len(out, lines[j].s, (gssize) lines[j].len);
            g_string_append_c(out, '\n');
        }
    }
    return g_string_free(out, FALSE);
}

void
cor_quote_split(const char *body, size_t len, const char *sender,
                char **new_text, char **quoted, char **signature)
{
    if (!body || len == 0) {
        *new_text = g_strdup("");
        *quoted = g_strdup("");
        *signature = g_strdup("");
        return;
    }
    size_t n;
    line_t *lines = split_lines(body, len, &n);

    size_t cut = find_cut(lines, n);
    for (size_t i = cut; i < n; i++)
        lines[i].role = R_QUOTED;
    mark_quotes(lines, cut);
    mark_pgp(lines, cut);
    mark_block_signatures(lines, cut);
    mark_tail_signature(lines, cut, sender);

    *new_text = collect(lines, n, R_NEW, len);
    *quoted = collect(lines, n, R_QUOTED, 64);
    *signature = collect(lines, n, R_SIG, 64);
    g_free(lines);
}
