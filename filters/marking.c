/* filters/marking.c — UK protective markings in a message (see marking.h).
 *
 * Design notes
 * ------------
 * Everything is a forward scan over the bytes in place: no regex, no
 * lowercased copies, no allocation except the strings of the result (the
 * header promises it, and this runs on every message at intake).  ASCII
 * case is folded with g_ascii_strncasecmp; the only non-ASCII bytes that
 * matter are the dashes (U+2010..U+2015, U+2212, U+FF0D) and U+00A0.
 *
 * A marking is found in three steps:
 *
 *   1. the marking words: OFFICIAL<joint>SENSITIVE, TOP<joint>SECRET, or
 *      one of SECRET, PROTECT, RESTRICTED, CONFIDENTIAL, case-insensitive,
 *      whole words ("Secretary", "Confidentiality", "Unofficial" are not).
 *      The joint is any run of blanks, '-', dashes, '_' and ':' (up to 12
 *      bytes), or nothing ("OFFICIALSENSITIVE").  A joint without white
 *      space ("OFFICIAL-SENSITIVE", "OFFICIAL_SENSITIVE", "OFFICIAL:Sensitive",
 *      "TOP-SECRET") makes a *strong* form: it is never prose.  Plain OFFICIAL
 *      is the baseline classification and matches nothing.
 *   2. descriptors after the words (PERSONAL, COMMERCIAL, LOCSEN, the GPMS
 *      ones, UK EYES ONLY), each after a joint of blanks, dashes, ':', '/',
 *      ',', '|' or an opening bracket.  Where the marking must be all the
 *      text holds (rule (a) below) a descriptor is taken in any case; where
 *      the subject's text follows (rule (b)) only when written in capitals
 *      or followed by a separator, so that "OFFICIAL SENSITIVE - Personal
 *      data breach" is the marking "OFFICIAL SENSITIVE" and the subject
 *      "Personal data breach", and "OFFICIAL-SENSITIVE: Budget" is about
 *      the budget.
 *   3. a decision depending on where the words are.
 *
 * The rule for prose against markings
 * -----------------------------------
 * (a) A bracketed tag of the subject ([..], (..), {..}, at its start among
 *     the reply prefixes and list tags, or at its very end), a body line,
 *     and an X-Protective-Marking SEC= value count when they hold nothing
 *     but the marking, its descriptors, and punctuation (plus, on a body
 *     line, a label such as "Classification:" or "Protective Marking:").
 *     Any case counts ("[Official Sensitive]"), except a one-word marking
 *     written all in lower case in a bracket or on a line ("Card for Sue
 *     (secret)", a line "confidential"): markings are not written so.
 *     The header value may be in any case: it is a structured field.
 * (b) At the start of the subject (after RE:/FW:/Fwd:/AW:/... prefixes and
 *     [list tags]), where the marking is followed by the subject's text, it
 *     counts when one of these holds:
 *       1. it is a strong form ("Official-Sensitive budget papers");
 *       2. it is OFFICIAL SENSITIVE written in capitals: no one shouts
 *          those two words as prose;
 *       3. it is followed by the end of the subject or a separator (':',
 *          '-', a dash, '|', '/', a closing bracket): "Confidential:",
 *          "Restricted - parking", "Official sensitive";
 *       4. a descriptor follows it (as in step 2): "Protect PERSONAL ...";
 *       5. it is written in capitals and stands out from the text after it,
 *          i.e. the next word has a lower-case letter: "CONFIDENTIAL Staff
 *          restructure", "OFFICIAL SENSITIVE Personal data breach".  A
 *          shouted subject ("SECRET SANTA DRAW", "TOP SECRET RECIPE!!!",
 *          "RESTRICTED PARKING ON FRIDAY") is not a marking.
 * (c) At the end of the subject, after a spaced separator (" - ", " – ",
 *     " — ", " | ", ": "), when the rest is the marking alone as in (a) and
 *     written as markings are — capitals or a joined pair: "Minutes of the
 *     panel - OFFICIAL-SENSITIVE" (tail_hit).  "... - Confidential" is prose.
 *     Everything else is prose: "Official sensitive topics discussed at
 *     lunch", "Top secret recipe for the bake sale", "Re: protect the
 *     hedgehogs campaign", "Confidential waste collection moved to Tuesday".
 * (c) A marking anywhere else (the middle of the subject, running text in
 *     the body) never counts.
 *
 * The body's edges
 * ----------------
 * The first MARKING_EDGE_LINES (5) and the last MARKING_EDGE_LINES lines of
 * the body (msg->body_head, msg->body_tail) are read, counting only lines
 * with a letter or digit: blank lines and rules ("_____", "-- ", "****")
 * are skipped and do not count.  Leading '>' quote marks and bullets are
 * decoration, so a marking line in a quoted reply at the bottom of the body
 * counts: the rule is about where the line is, not who wrote it, and a
 * reply that carries an OFFICIAL-SENSITIVE original is itself sensitive.
 *
 * Encryption
 * ----------
 * The top-level Content-Type (from the header block, since the parsed
 * summary keeps no parameters): application/pkcs7-mime (or x-pkcs7-mime)
 * with smime-type enveloped-data, authEnveloped-data or no smime-type is
 * S/MIME encryption; signed-data / certs-only and multipart/signed are not.
 * multipart/encrypted is PGP/MIME.  An attachment named *.rpmsg or typed
 * application/x-microsoft-rpmsg-message is rights-protected mail.  For
 * these, .text says what was seen (the type or the file name).
 */
#include "filters/marking.h"

#include <string.h>

/* Lines read at each end of the body (non-empty, non-rule lines). */
#define MARKING_EDGE_LINES 5
/* Longest joint between OFFICIAL and SENSITIVE, TOP and SECRET (bytes). */
#define MAX_JOINT 12
/* Longest bracketed tag looked at in a subject (bytes). */
#define MAX_TAG 100
#define MAX_MSIP_FIELDS 8      /* msip_labels fields read */
#define MAX_MSIP_LABELS 32     /* labels collected */

static const char *const kind_names[COR_MARKING_KIND_COUNT] = {
    [COR_MARKING_NONE] = "none",
    [COR_MARKING_PROTECT] = "protect",
    [COR_MARKING_RESTRICTED] = "restricted",
    [COR_MARKING_CONFIDENTIAL] = "confidential",
    [COR_MARKING_OFFICIAL_SENSITIVE] = "official-sensitive",
    [COR_MARKING_SECRET] = "secret",
    [COR_MARKING_TOP_SECRET] = "top-secret",
    [COR_MARKING_ENCRYPTED] = "encrypted",
};

const char *
cor_marking_kind_to_string(cor_marking_kind_t k)
{
    return (unsigned) k < COR_MARKING_KIND_COUNT ? kind_names[k] : "unknown";
}

cor_marking_kind_t
cor_marking_kind_from_string(const char *name)
{
    if (!name)
        return COR_MARKING_KIND_COUNT;
    for (int k = 0; k < COR_MARKING_KIND_COUNT; k++) {
        if (g_ascii_strcasecmp(name, kind_names[k]) == 0)
            return (cor_marking_kind_t) k;
    }
    return COR_MARKING_KIND_COUNT;
}

/* ---- characters ---------------------------------------------------------- */

/* Length of a blank at p (space, tab, CR, U+00A0), or 0. */
static size_t
space_at(const char *p, const char *end)
{
    if (p >= end)
        return 0;
    if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v')
        return 1;
    if ((unsigned char) p[0] == 0xC2 && p + 1 < end && (unsigned char) p[1] == 0xA0)
        return 2;
    return 0;
}

/* Length of a dash at p ('-', U+2010..U+2015 hyphens, en and em dashes,
 * U+2212 minus, U+FF0D full-width hyphen), or 0. */
static size_t
dash_at(const char *p, const char *end)
{
    if (p >= end)
        return 0;
    if (*p == '-')
        return 1;
    if (p + 2 >= end)
        return 0;
    const unsigned char *u = (const unsigned char *) p;
    if (u[0] == 0xE2 && u[1] == 0x80 && u[2] >= 0x90 && u[2] <= 0x95)
        return 3;
    if (u[0] == 0xE2 && u[1] == 0x88 && u[2] == 0x92)
        return 3;
    if (u[0] == 0xEF && u[1] == 0xBC && u[2] == 0x8D)
        return 3;
    return 0;
}

static const char *
skip_spaces(const char *p, const char *end)
{
    size_t adv;
    while ((adv = space_at(p, end)) > 0)
        p += adv;
    return p;
}

/* Whether p starts a letter or digit (any script); *adv gets the length of
 * the character at p (1 for a byte that is not valid UTF-8). */
static bool
word_char_at(const char *p, const char *end, size_t *adv)
{
    unsigned char c = (unsigned char) *p;
    if (c < 0x80) {
        *adv = 1;
        return g_ascii_isalnum(c);
    }
    gunichar u = g_utf8_get_char_validated(p, end - p);
    if (u == (gunichar) -1 || u == (gunichar) -2) {
        *adv = 1;
        return false;
    }
    *adv = (size_t) (g_utf8_next_char(p) - p);
    return g_unichar_isalnum(u);
}

/* Skips everything that is not a letter or digit. */
static const char *
skip_nonword(const char *p, const char *end)
{
    size_t adv;
    while (p < end && !word_char_at(p, end, &adv))
        p += adv;
    return p;
}

static bool
has_word_char(const char *p, const char *end)
{
    return skip_nonword(p, end) < end;
}

/* p + strlen(word) when the bytes at p spell `word` (ASCII case folded). */
static const char *
match_ci(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);
    if ((size_t) (end - p) < n || g_ascii_strncasecmp(p, word, n) != 0)
        return NULL;
    return p + n;
}

static char
closer_of(char open)
{
    return open == '[' ? ']' : open == '(' ? ')' : open == '{' ? '}' : 0;
}

/* A separator after a marking: ':', '-', a dash, '|', '/', a closing
 * bracket, or the end (white space before it skipped). */
static bool
followed_by_stop(const char *p, const char *end)
{
    p = skip_spaces(p, end);
    if (p >= end || dash_at(p, end))
        return true;
    return strchr(":|/)]}", *p) != NULL;
}

/* ---- the marking words -------------------------------------------------- */

enum { CASE_UPPER, CASE_LOWER, CASE_MIXED };

typedef struct hit {
    cor_marking_kind_t kind;
    const char *start;           /* the marking words as written */
    const char *words_end;
    const char *end;             /* after the descriptors taken */
    bool pair;                   /* OFFICIAL SENSITIVE or TOP SECRET */
    bool strong;                 /* a pair joined without white space */
    bool descriptor;             /* a descriptor was taken */
    int kase;                    /* of the marking words' letters */
} hit_t;

static int
case_of(const char *p, const char *end)
{
    bool upper = false, lower = false;
    for (; p < end; p++) {
        if (g_ascii_isupper(*p))
            upper = true;
        else if (g_ascii_islower(*p))
            lower = true;
    }
    return upper && lower ? CASE_MIXED : lower ? CASE_LOWER : CASE_UPPER;
}

/* w1 <joint> w2 at p, a whole word; fills h. */
static bool
match_pair(const char *p, const char *end, const char *w1, const char *w2, hit_t *h)
{
    const char *q = match_ci(p, end, w1);
    if (!q)
        return false;
    const char *j = q;
    bool blank = false;
    while (j < end && j - q <= MAX_JOINT) {
        size_t adv = space_at(j, end);
        if (adv > 0) {
            blank = true;
        } else if ((adv = dash_at(j, end)) == 0) {
            if (*j != '_' && *j != ':')
                break;
            adv = 1;
        }
        j += adv;
    }
    const char *r = match_ci(j, end, w2);
    size_t adv;
    if (!r || (r < end && word_char_at(r, end, &adv)))
        return false;
    h->start = p;
    h->words_end = r;
    h->end = r;
    h->pair = true;
    h->strong = !blank;
    /* the case of the words alone: the joint has no letters */
    h->kase = case_of(p, r);
    return true;
}

static const struct single {
    const char *word;
    cor_marking_kind_t kind;
} singles[] = {
    { "SECRET", COR_MARKING_SECRET },
    { "PROTECT", COR_MARKING_PROTECT },
    { "RESTRICTED", COR_MARKING_RESTRICTED },
    { "CONFIDENTIAL", COR_MARKING_CONFIDENTIAL },
};

/* The marking words at p (p is at a word start); fills h. */
static bool
match_words(const char *p, const char *end, hit_t *h)
{
    memset(h, 0, sizeof *h);
    if (p >= end)
        return false;
    if (match_pair(p, end, "OFFICIAL", "SENSITIVE", h)) {
        h->kind = COR_MARKING_OFFICIAL_SENSITIVE;
        return true;
    }
    if (match_pair(p, end, "TOP", "SECRET", h)) {
        h->kind = COR_MARKING_TOP_SECRET;
        return true;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(singles); i++) {
        const char *q = match_ci(p, end, singles[i].word);
        size_t adv;
        if (!q || (q < end && word_char_at(q, end, &adv)))
            continue;
        h->kind = singles[i].kind;
        h->start = p;
        h->words_end = q;
        h->end = q;
        h->kase = case_of(p, q);
        return true;
    }
    return false;
}

/* Descriptors (GSC 2014: PERSONAL, COMMERCIAL, LOCSEN; the older GPMS
 * ones) and the UK EYES ONLY caveat, single-spaced. */
static const char *const descriptor_words[] = {
    "PERSONAL", "COMMERCIAL", "LOCSEN", "APPOINTMENTS", "BUDGET", "CONTRACTS",
    "HONOURS", "INVESTIGATION", "MANAGEMENT", "MEDICAL", "POLICY", "REGULATORY",
    "STAFF", "VISITS", "UK EYES ONLY",
};

/* Length of a descriptor at p, a whole word, or 0. */
static size_t
descriptor_at(const char *p, const char *end)
{
    for (size_t i = 0; i < G_N_ELEMENTS(descriptor_words); i++) {
        const char *q = match_ci(p, end, descriptor_words[i]);
        size_t adv;
        if (q && !(q < end && word_char_at(q, end, &adv)))
            return (size_t) (q - p);
    }
    return 0;
}

/* Takes the descriptors after h->words_end: h->end moves past the last
 * one taken (with its closing bracket when it was opened in the joint).
 * `whole`: [h->start, end) must hold nothing else (rule (a)), so a
 * descriptor in any case is taken; otherwise the subject's text follows,
 * and a descriptor is taken in capitals, or followed by a separator, so
 * that in "OFFICIAL-SENSITIVE: Budget" the word "Budget" is the subject. */
static void
take_descriptors(hit_t *h, const char *end, bool whole)
{
    for (;;) {
        const char *q = h->end;
        char open = 0;
        while (q < end && q - h->end <= MAX_JOINT) {
            size_t adv = space_at(q, end);
            if (adv == 0)
                adv = dash_at(q, end);
            if (adv == 0 && strchr(":/,|_", *q))
                adv = 1;
            if (adv == 0 && !open && closer_of(*q)) {
                open = *q;
                adv = 1;
            }
            if (adv == 0)
                break;
            q += adv;
        }
        size_t n = descriptor_at(q, end);
        if (n == 0)
            return;
        const char *d_end = q + n;
        if (!whole && case_of(q, d_end) != CASE_UPPER &&
            (skip_spaces(d_end, end) >= end || !followed_by_stop(d_end, end)))
            return;
        if (open && d_end < end && *d_end == closer_of(open))
            d_end++;
        h->end = d_end;
        h->descriptor = true;
    }
}

/* Whether the word after p (past blanks and punctuation) has a lower-case
 * letter: capitals then stand out as a marking. */
static bool
next_word_has_lower(const char *p, const char *end)
{
    p = skip_nonword(p, end);
    size_t adv;
    for (; p < end && word_char_at(p, end, &adv); p += adv) {
        if (g_ascii_islower(*p))
            return true;
        if (adv > 1 && g_unichar_islower(g_utf8_get_char(p)))
            return true;
    }
    return false;
}

/* Rule (a): [p, end) holds nothing but the marking, descriptors and
 * punctuation.  `any_case`: one-word markings in lower case count too. */
static bool
whole_hit(const char *p, const char *end, bool any_case, hit_t *h)
{
    p = skip_nonword(p, end);
    if (!match_words(p, end, h))
        return false;
    if (!any_case && !h->pair && h->kase == CASE_LOWER)
        return false;
    take_descriptors(h, end, true);
    return !has_word_char(h->end, end);
}

/* Rule (b): the marking at the start of the subject's text. */
static bool
start_hit(const char *p, const char *end, hit_t *h)
{
    if (!match_words(p, end, h))
        return false;
    take_descriptors(h, end, false);
    if (h->strong || h->descriptor)
        return true;
    if (h->kind == COR_MARKING_OFFICIAL_SENSITIVE && h->kase == CASE_UPPER)
        return true;
    if (followed_by_stop(h->words_end, end))
        return true;
    return h->kase == CASE_UPPER && next_word_has_lower(h->words_end, end);
}

/* The result for the caller: kind, and *text the marking as written. */
static cor_marking_kind_t
give(const hit_t *h, char **text)
{
    if (text)
        *text = g_strndup(h->start, (size_t) (h->end - h->start));
    return h->kind;
}

static cor_marking_kind_t
none(char **text)
{
    if (text)
        *text = NULL;
    return COR_MARKING_NONE;
}

/* ---- subject ------------------------------------------------------------- */

/* Reply and forward prefixes (ASCII folded; the others as mail clients
 * write them), as in core/message.c's cor_subject_normalise. */
static const char *const subject_prefixes[] = {
    "antwoord", "antwort", "doorgestuurd", "doorst", "antw", "svar", "fwd", "rif",
    "ynt", "ref", "enc", "odp", "atb", "bls", "trs", "wtr", "re", "fw", "aw", "wg",
    "sv", "vs", "tr", "rv", "pd", "vl", "fs", "vb", "r",
    "réf", "rép", "vá", "Réf", "Rép", "Vá", "RÉF", "RÉP", "VÁ",
    "πρθ", "σχετ", "השב", "回复", "回覆", "转发", "答复", "轉寄", "转寄", "返信", "転送",
    "відп", "отв", "пер", "Відп", "Отв", "Пер",
};

/* Length of a reply/forward prefix with its colon at p ("Re:", "RE[2]:",
 * "Re^2:", "AW :"), or 0. */
static size_t
prefix_len(const char *p, const char *end)
{
    for (size_t i = 0; i < G_N_ELEMENTS(subject_prefixes); i++) {
        const char *q = match_ci(p, end, subject_prefixes[i]);
        if (!q)
            continue;
        size_t adv;
        if (q < end && word_char_at(q, end, &adv) && !g_ascii_isdigit(*q))
            continue;              /* "Really:" is no "Re:" */
        if (q < end && (*q == '[' || *q == '(')) {
            char close = closer_of(*q);
            const char *r = q + 1;
            while (r < end && g_ascii_isdigit(*r))
                r++;
            if (r > q + 1 && r < end && *r == close)
                q = r + 1;
        } else if (q < end && (*q == '^' || *q == '*')) {
            const char *r = q + 1;
            while (r < end && g_ascii_isdigit(*r))
                r++;
            if (r > q + 1)
                q = r;
        } else {
            while (q < end && g_ascii_isdigit(*q))
                q++;
        }
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (q < end && *q == ':')
            return (size_t) (q + 1 - p);
        if (end - q >= 3 && memcmp(q, "\xEF\xBC\x9A", 3) == 0)   /* full-width colon */
            return (size_t) (q + 3 - p);
    }
    return 0;
}

/* Rule (c): "Minutes of the panel - OFFICIAL-SENSITIVE": after a spaced
 * separator (" - ", " – ", " — ", " | ", ": ") the rest of the subject is
 * the marking alone, written as markings are — a joined pair or capitals
 * ("Re: notes - Confidential" reads as prose and does not count). */
static bool
tail_hit(const char *s, const char *e, hit_t *h)
{
    static const char *const seps[] = { " - ", " \xe2\x80\x93 ", " \xe2\x80\x94 ", " | ", ": " };
    for (const char *q = e - 1; q > s && e - q <= MAX_TAG; q--) {
        for (size_t i = 0; i < G_N_ELEMENTS(seps); i++) {
            size_t n = strlen(seps[i]);
            if ((size_t) (e - q) < n || memcmp(q, seps[i], n) != 0)
                continue;
            hit_t t;
            if (whole_hit(q + n, e, false, &t) && (t.strong || t.kase == CASE_UPPER)) {
                *h = t;
                return true;
            }
        }
    }
    return false;
}

/* The subject's marking: bracketed tags among the prefixes, the start of
 * its text, a marking after a separator or a bracketed tag at its end. */
static bool
subject_hit(const char *s, hit_t *h)
{
    const char *end = s + strlen(s);
    const char *p = s;

    for (;;) {
        p = skip_spaces(p, end);
        char close = p < end ? closer_of(*p) : 0;
        if (close) {
            const char *c = memchr(p + 1, close, (size_t) MIN(end - p - 1, MAX_TAG));
            if (!c)
                break;
            if (whole_hit(p + 1, c, false, h))
                return true;
            if (*p != '[')
                break;            /* "(Draft) ..." is the subject's text */
            p = c + 1;            /* a [list tag] */
            continue;
        }
        size_t k = prefix_len(p, end);
        if (k == 0)
            break;
        p += k;
    }
    /* decoration some senders put around a marking: "** OFFICIAL-SENSITIVE **" */
    while (p < end && (strchr("*#~=_|", *p) || space_at(p, end)))
        p += space_at(p, end) ? space_at(p, end) : 1;
    if (start_hit(p, end, h))
        return true;

    /* "Budget figures [OFFICIAL-SENSITIVE]" */
    const char *e = end;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    if (e == s)
        return false;
    if (tail_hit(s, e, h))
        return true;
    char close = e[-1];
    char open = close == ']' ? '[' : close == ')' ? '(' : close == '}' ? '{' : 0;
    if (!open)
        return false;
    const char *o = e - 1;
    while (o > s && e - o <= MAX_TAG && o[-1] != open)
        o--;
    if (o == s || o[-1] != open)
        return false;
    return whole_hit(o, e - 1, false, h);
}

cor_marking_kind_t
cor_marking_subject(const char *subject, char **text)
{
    hit_t h;
    if (!subject || !subject_hit(subject, &h))
        return none(text);
    return give(&h, text);
}

/* ---- body lines ----------------------------------------------------------- */

/* The last word of a label before a marking: "Classification:",
 * "Security Classification:", "Protective Marking:", "Sensitivity:",
 * "Security level:", "Sensitivity label:". */
static const char *const label_words[] = {
    "classification", "marking", "sensitivity", "level", "label",
};

/* After a label ("Protective Marking:") at p, or p. */
static const char *
skip_label(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && q - p < 48 && (g_ascii_isalpha(*q) || *q == ' ' || *q == '-' || *q == '\t'))
        q++;
    if (q >= end || *q != ':')
        return p;
    const char *w = q;
    while (w > p && (w[-1] == ' ' || w[-1] == '\t'))
        w--;
    for (size_t i = 0; i < G_N_ELEMENTS(label_words); i++) {
        size_t n = strlen(label_words[i]);
        if ((size_t) (w - p) < n || g_ascii_strncasecmp(w - n, label_words[i], n) != 0)
            continue;
        if (w - n > p && g_ascii_isalpha(*(w - n - 1)))   /* not w[-n - 1]: n is unsigned */
            continue;             /* "remarking:" */
        return q + 1;
    }
    return p;
}

static bool
line_hit(const char *p, const char *end, hit_t *h)
{
    p = skip_nonword(p, end);
    p = skip_label(p, end);
    return whole_hit(p, end, false, h);
}

cor_marking_kind_t
cor_marking_line(const char *line, char **text)
{
    hit_t h;
    if (!line || !line_hit(line, line + strlen(line), &h))
        return none(text);
    return give(&h, text);
}

/* The first marking line among the first MARKING_EDGE_LINES lines of
 * `body` (or the last ones, from the bottom up, when `from_end`). */
static bool
edge_hit(const char *body, bool from_end, hit_t *h)
{
    if (!body || !*body)
        return false;
    const char *start = body, *end = body + strlen(body);
    int seen = 0;
    if (!from_end) {
        for (const char *p = start; p < end && seen < MARKING_EDGE_LINES;) {
            const char *nl = memchr(p, '\n', (size_t) (end - p));
            const char *e = nl ? nl : end;
            if (has_word_char(p, e)) {
                seen++;
                if (line_hit(p, e, h))
                    return true;
            }
            p = nl ? nl + 1 : end;
        }
        return false;
    }
    for (const char *e = end; e > start && seen < MARKING_EDGE_LINES;) {
        const char *p = e;
        while (p > start && p[-1] != '\n')
            p--;
        if (has_word_char(p, e)) {
            seen++;
            if (line_hit(p, e, h))
                return true;
        }
        e = p > start ? p - 1 : start;
    }
    return false;
}

/* ---- header fields -------------------------------------------------------- */

/* The SEC= value of an X-Protective-Marking field, or the whole value when
 * it has no key=value pairs at all ("X-Protective-Marking: PROTECT"). */
static bool
sec_value(const char *value, const char **v, const char **v_end)
{
    const char *end = value + strlen(value);
    for (const char *p = value; p < end; p++) {
        if (p > value && !strchr(",; \t", p[-1]))
            continue;
        const char *q = match_ci(p, end, "SEC");
        if (!q)
            continue;
        q = skip_spaces(q, end);
        if (q >= end || *q != '=')
            continue;
        q = skip_spaces(q + 1, end);
        const char *e = q;
        while (e < end && *e != ',' && *e != ';')
            e++;
        while (e > q && space_at(e - 1, e))
            e--;
        *v = q;
        *v_end = e;
        return true;
    }
    if (strchr(value, '='))
        return false;
    *v = value;
    *v_end = end;
    return true;
}

cor_marking_kind_t
cor_marking_x_protective(const char *value, char **text)
{
    const char *v, *v_end;
    hit_t h;
    if (!value || !sec_value(value, &v, &v_end) || !whole_hit(v, v_end, true, &h))
        return none(text);
    return give(&h, text);
}

/* Whether the type/subtype of a Content-Type value is `type`. */
static bool
type_is(const char *ct, const char *type)
{
    const char *e = match_ci(ct, ct + strlen(ct), type);
    if (!e)
        return false;
    while (*e == ' ' || *e == '\t')
        e++;
    return *e == '\0' || *e == ';';
}

static bool
span_is(const char *v, size_t n, const char *word)
{
    return n == strlen(word) && g_ascii_strncasecmp(v, word, n) == 0;
}

/* S/MIME: enveloped (or authEnveloped) data, or a pkcs7-mime part that does
 * not say what it holds; signed-data and certs-only are readable. */
static bool
smime_encrypted(const char *ct)
{
    if (!type_is(ct, "application/pkcs7-mime") && !type_is(ct, "application/x-pkcs7-mime"))
        return false;
    const char *v;
    size_t n;
    if (!cor_headers_param_span(ct, "smime-type", &v, &n))
        return true;
    return span_is(v, n, "enveloped-data") || span_is(v, n, "authenveloped-data");
}

static bool
is_rpmsg(const char *type, const char *filename)
{
    if (type && g_ascii_strcasecmp(type, "application/x-microsoft-rpmsg-message") == 0)
        return true;
    size_t n = filename ? strlen(filename) : 0;
    return n >= 6 && g_ascii_strcasecmp(filename + n - 6, ".rpmsg") == 0;
}

/* ---- msip_labels ---------------------------------------------------------- */

static gint
find_str(const GPtrArray *a, const char *s, size_t n)
{
    for (guint i = 0; i < a->len; i++) {
        const char *x = g_ptr_array_index(a, i);
        if (strlen(x) == n && g_ascii_strncasecmp(x, s, n) == 0)
            return (gint) i;
    }
    return -1;
}

/* One msip_labels item "MSIP_Label_<guid>_<key>=<value>": the spans of
 * guid, key and value (value trimmed, quotes removed). */
static bool
msip_item(const char *p, const char *end, const char **guid, size_t *guid_n, const char **key,
          size_t *key_n, const char **val, size_t *val_n)
{
    p = skip_spaces(p, end);
    while (end > p && space_at(end - 1, end))
        end--;
    const char *q = match_ci(p, end, "MSIP_Label_");
    if (!q)
        return false;
    const char *us = memchr(q, '_', (size_t) (end - q));
    const char *eq = us ? memchr(us, '=', (size_t) (end - us)) : NULL;
    if (!us || !eq || us == q)
        return false;
    *guid = q;
    *guid_n = (size_t) (us - q);
    *key = us + 1;
    *key_n = (size_t) (eq - us - 1);
    const char *v = skip_spaces(eq + 1, end);
    const char *ve = end;
    if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
        v++;
        ve--;
    }
    *val = v;
    *val_n = (size_t) (ve - v);
    return true;
}

/* Collects the GUIDs of the labels with Enabled=true, then their names.
 * Two passes because nothing says _Enabled comes before _Name. */
static void
collect_msip(const char *value, GPtrArray *guids, GPtrArray *names)
{
    /* Outlook writes one to three labels; the caps keep a hostile header
     * from costing labels squared */
    const char *end = value + strlen(value);
    for (int pass = 0; pass < 2; pass++) {
        for (const char *p = value; p < end;) {
            const char *semi = memchr(p, ';', (size_t) (end - p));
            const char *e = semi ? semi : end;
            const char *g, *k, *v;
            size_t gn, kn, vn;
            if (msip_item(p, e, &g, &gn, &k, &kn, &v, &vn)) {
                gint i = find_str(guids, g, gn);
                if (pass == 0 && i < 0 && guids->len < MAX_MSIP_LABELS &&
                    span_is(k, kn, "Enabled") && span_is(v, vn, "true")) {
                    g_ptr_array_add(guids, g_ascii_strdown(g, (gssize) gn));
                    g_ptr_array_add(names, g_strdup(""));
                } else if (pass == 1 && i >= 0 && span_is(k, kn, "Name") &&
                           !*(const char *) g_ptr_array_index(names, i)) {
                    g_free(g_ptr_array_index(names, i));
                    g_ptr_array_index(names, i) = g_strndup(v, vn);
                }
            }
            p = semi ? semi + 1 : end;
        }
    }
}

/* ---- the scan --------------------------------------------------------------- */

static void
found(cor_marking_scan_t *out, cor_marking_kind_t kind, const char *where, char *text)
{
    out->kind = kind;
    out->where = g_strdup(where);
    out->text = text;
}

void
cor_marking_scan(const cor_message_t *msg, const cor_headers_t *h, cor_marking_scan_t *out)
{
    /* cleared, not freed: *out may be uninitialised memory */
    memset(out, 0, sizeof *out);
    out->msip_labels = g_ptr_array_new_with_free_func(g_free);
    out->msip_names = g_ptr_array_new_with_free_func(g_free);

    const char *v;
    if (h) {
        guint pos = 0, n = 0;
        while (n++ < MAX_MSIP_FIELDS && (v = cor_headers_next(h, "msip_labels", &pos)) != NULL)
            collect_msip(v, out->msip_labels, out->msip_names);
        v = cor_headers_get(h, "Sensitivity");
        out->sensitivity = g_ascii_strdown(v ? v : "", -1);
    } else {
        out->sensitivity = g_strdup("");
    }

    char *text = NULL;
    cor_marking_kind_t k;
    hit_t hit;
    if (msg && (k = cor_marking_subject(msg->subject, &text)) != COR_MARKING_NONE) {
        found(out, k, "subject", text);
        return;
    }
    guint pos = 0;
    while (h && (v = cor_headers_next(h, "X-Protective-Marking", &pos)) != NULL) {
        if ((k = cor_marking_x_protective(v, &text)) != COR_MARKING_NONE) {
            found(out, k, "X-Protective-Marking", text);
            return;
        }
    }
    if (msg && edge_hit(msg->body_head, false, &hit)) {
        k = give(&hit, &text);
        found(out, k, "first lines of the body", text);
        return;
    }
    if (msg && edge_hit(msg->body_tail, true, &hit)) {
        k = give(&hit, &text);
        found(out, k, "last lines of the body", text);
        return;
    }

    const char *ct = h ? cor_headers_get(h, "Content-Type") : NULL;
    if (ct && smime_encrypted(ct)) {
        const char *e = strchr(ct, ';');
        found(out, COR_MARKING_ENCRYPTED, "S/MIME encryption",
              g_strstrip(g_strndup(ct, e ? (size_t) (e - ct) : strlen(ct))));
        return;
    }
    if (ct && type_is(ct, "multipart/encrypted")) {
        found(out, COR_MARKING_ENCRYPTED, "PGP/MIME encryption", g_strdup("multipart/encrypted"));
        return;
    }
    if (ct && type_is(ct, "application/x-microsoft-rpmsg-message")) {
        found(out, COR_MARKING_ENCRYPTED, "rights-protected (rpmsg)",
              g_strdup("application/x-microsoft-rpmsg-message"));
        return;
    }
    for (guint i = 0; msg && i < msg->attachments->len; i++) {
        const cor_attachment_t *a = g_ptr_array_index(msg->attachments, i);
        if (is_rpmsg(a->content_type, a->filename)) {
            found(out, COR_MARKING_ENCRYPTED, "rights-protected (rpmsg)",
                  g_strdup(*a->filename ? a->filename : a->content_type));
            return;
        }
    }
}

void
cor_marking_scan_clear(cor_marking_scan_t *s)
{
    if (!s)
        return;
    g_free(s->where);
    g_free(s->text);
    if (s->msip_labels)
        g_ptr_array_unref(s->msip_labels);
    if (s->msip_names)
        g_ptr_array_unref(s->msip_names);
    g_free(s->sensitivity);
    memset(s, 0, sizeof *s);
}
