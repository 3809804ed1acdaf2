/* records/redact.c — redaction proposals, decisions, manual spans and
 * redacted copies (records/redact.h). */
#include <string.h>
#include <time.h>

#include <json-glib/json-glib.h>

#include "core/store_internal.h"
#include "core/template.h"
#include "records/readable.h"
#include "records/records.h"
#include "records/redact.h"

/* ==== exemptions ==== */

static const struct {
    const char *code, *label, *meaning;
} exemptions[] = {
    { "s40(2)", "s.40(2)", "personal information about someone other than the requester "
                           "(Freedom of Information Act 2000, section 40(2))" },
    { "s41", "s.41", "information provided in confidence (section 41)" },
    { "s42", "s.42", "legal professional privilege (section 42)" },
    { "s43", "s.43", "commercial interests (section 43)" },
    { "s31", "s.31", "law enforcement (section 31)" },
    { "s36", "s.36", "prejudice to the effective conduct of public affairs (section 36)" },
    { "eir-12", "EIR 12", "an exception under regulation 12 of the Environmental Information "
                          "Regulations 2004" },
    { "eir-13", "EIR 13", "personal data under regulation 13 of the Environmental Information "
                          "Regulations 2004" },
};

static int
exemption_index(const char *code)
{
    for (size_t i = 0; code && i < G_N_ELEMENTS(exemptions); i++)
        if (strcmp(code, exemptions[i].code) == 0)
            return (int) i;
    return -1;
}

bool
cor_redact_exemption_valid(const char *code)
{
    return exemption_index(code) >= 0;
}

const char *
cor_redact_exemption_list(void)
{
    return "s40(2), s41, s42, s43, s31, s36, eir-12, eir-13";
}

const char *
cor_redact_exemption_label(const char *code)
{
    int i = exemption_index(code);
    return i < 0 ? NULL : exemptions[i].label;
}

const char *
cor_redact_exemption_meaning(const char *code)
{
    int i = exemption_index(code);
    return i < 0 ? NULL : exemptions[i].meaning;
}

/* ==== the scanner ==== */

static bool
is_alnum(unsigned char c)
{
    return g_ascii_isalnum(c);
}

/* True when the byte before `i` does not continue a word (ASCII letters and
 * digits; a UTF-8 byte counts as a letter). */
static bool
left_edge(const char *t, size_t i)
{
    if (i == 0)
        return true;
    unsigned char c = (unsigned char) t[i - 1];
    return !is_alnum(c) && c < 0x80;
}

static bool
right_edge(const char *t, size_t len, size_t i)
{
    if (i >= len)
        return true;
    unsigned char c = (unsigned char) t[i];
    return !is_alnum(c) && c < 0x80;
}

static void
add_match(GArray *out, size_t start, size_t end, const char *kind)
{
    cor_redact_match_t m = { start, end, kind };
    g_array_append_val(out, m);
}

/* ---- mail addresses ---- */

static bool
local_char(unsigned char c)
{
    return is_alnum(c) || strchr("._%+-'=", c) != NULL;
}

static void
scan_email(const char *t, size_t len, GArray *out)
{
    size_t done = 0;   /* no match may start before this */
    for (size_t at = 1; at + 1 < len; at++) {
        if (t[at] != '@' || at < done)
            continue;
        size_t s = at;
        while (s > done && local_char((unsigned char) t[s - 1]))
            s--;
        while (s < at && (t[s] == '.' || t[s] == '\'' || t[s] == '-' || t[s] == '='))
            s++;   /* a local part does not start with these */
        if (s == at || t[at - 1] == '.')
            continue;
        /* the domain: labels of letters, digits and '-', at least two, the
         * last all letters (two or more) */
        size_t e = at + 1, last_dot = 0;
        int labels = 0;
        for (;;) {
            size_t ls = e;
            while (e < len && (is_alnum((unsigned char) t[e]) || t[e] == '-'))
                e++;
            if (e == ls || t[ls] == '-' || t[e - 1] == '-')
                break;
            labels++;
            if (e + 1 < len && t[e] == '.' && is_alnum((unsigned char) t[e + 1])) {
                last_dot = e;
                e++;
                continue;
            }
            break;
        }
        if (labels < 2)
            continue;
        /* back off a last label that did not parse completely */
        size_t tld = last_dot + 1, n_alpha = 0;
        bool alpha = true;
        for (size_t k = tld; k < e; k++) {
            if (!g_ascii_isalpha(t[k]))
                alpha = false;
            n_alpha++;
        }
        if (!alpha || n_alpha < 2)
            continue;
        if (e < len && (is_alnum((unsigned char) t[e]) || (unsigned char) t[e] >= 0x80))
            continue;
        add_match(out, s, e, "email");
        done = e;
    }
}

/* ---- telephone numbers ---- */

static void
scan_phone(const char *t, size_t len, GArray *out)
{
    for (size_t i = 0; i < len; i++) {
        char c = t[i];
        if (c != '+' && c != '0' && c != '(')
            continue;
        if (i > 0) {
            unsigned char b = (unsigned char) t[i - 1];
            if (is_alnum(b) || b >= 0x80 || strchr("+-./_,=", b))
                continue;
        }
        size_t p = i;
        bool intl = false, paren = false;
        char digits[24];
        int nd = 0;
        if (c == '+') {
            if (p + 3 > len || strncmp(t + p, "+44", 3) != 0)
                continue;
            intl = true;
            p += 3;
            if (p < len && (t[p] == ' ' || t[p] == '-'))
                p++;
            if (p + 3 <= len && strncmp(t + p, "(0)", 3) == 0) {
                p += 3;
                if (p < len && (t[p] == ' ' || t[p] == '-'))
                    p++;
            }
        } else if (c == '(') {
            if (p + 1 >= len || t[p + 1] != '0')
                continue;
            paren = true;
            p++;
        }
        /* digit groups with one separator between them: at most four, the
         * first of a national number (with its 0) three digits or more */
        bool ok = true;
        int groups = 1, first_group = -1;
        while (p < len) {
            if (g_ascii_isdigit(t[p])) {
                if (nd >= (int) sizeof digits - 1) {
                    ok = false;
                    break;
                }
                digits[nd++] = t[p++];
                continue;
            }
            if (paren && t[p] == ')') {
                paren = false;
                if (first_group < 0)
                    first_group = nd;
                groups++;
                p++;
                if (p < len && t[p] == ' ')
                    p++;
                if (p >= len || !g_ascii_isdigit(t[p])) {
                    ok = false;
                    break;
                }
                continue;
            }
            if ((t[p] == ' ' || t[p] == '-') && p + 1 < len && g_ascii_isdigit(t[p + 1]) &&
                nd > 0) {
                if (first_group < 0)
                    first_group = nd;
                groups++;
                p++;
                continue;
            }
            break;
        }
        if (first_group < 0)
            first_group = nd;
        if (!ok || paren || nd == 0 || groups > 4 || (!intl && first_group < 3))
            continue;
        digits[nd] = '\0';
        const char *nsn = digits;
        if (!intl) {
            if (digits[0] != '0')
                continue;
            nsn = digits + 1;
        }
        size_t n = strlen(nsn);
        bool valid = (n == 10 && strchr("123578", nsn[0])) ||
                     (n == 9 && (nsn[0] == '1' || strncmp(nsn, "800", 3) == 0));
        if (!valid)
            continue;
        if (!right_edge(t, len, p) || (p < len && (t[p] == '.' || t[p] == '/') &&
                                       p + 1 < len && g_ascii_isdigit(t[p + 1])))
            continue;
        add_match(out, i, p, "phone");
        i = p;
    }
}

/* ---- National Insurance numbers ---- */

static bool
nino_prefix(char a, char b)
{
    if (!g_ascii_isupper(a) || !g_ascii_isupper(b))
        return false;
    if (strchr("DFIQUV", a) || strchr("DFIOQUV", b))
        return false;
    static const char *const never[] = { "BG", "GB", "KN", "NK", "NT", "TN", "ZZ" };
    for (size_t k = 0; k < G_N_ELEMENTS(never); k++)
        if (a == never[k][0] && b == never[k][1])
            return false;
    return true;
}

static void
scan_nino(const char *t, size_t len, GArray *out)
{
    for (size_t i = 0; i + 8 <= len; i++) {
        if (!left_edge(t, i) || !nino_prefix(t[i], t[i + 1]))
            continue;
        size_t p = i + 2;
        bool spaced = p < len && t[p] == ' ';
        int pairs = 0;
        while (pairs < 3) {
            if (spaced) {
                if (p >= len || t[p] != ' ')
                    break;
                p++;
            }
            if (p + 2 > len || !g_ascii_isdigit(t[p]) || !g_ascii_isdigit(t[p + 1]))
                break;
            p += 2;
            pairs++;
        }
        if (pairs != 3)
            continue;
        size_t end = p;
        bool suffix = false;
        size_t q = p + (spaced && p < len && t[p] == ' ' ? 1 : 0);
        if (q < len && t[q] >= 'A' && t[q] <= 'D' && right_edge(t, len, q + 1)) {
            suffix = true;
            end = q + 1;
        }
        if (!suffix && (!spaced || !right_edge(t, len, p)))
            continue;
        add_match(out, i, end, "nino");
        i = end - 1;
    }
}

/* ---- postcodes ---- */

static const char *const postcode_areas[] = {
    "AB", "AL", "B", "BA", "BB", "BD", "BH", "BL", "BN", "BR", "BS", "BT", "CA", "CB", "CF",
    "CH", "CM", "CO", "CR", "CT", "CV", "CW", "DA", "DD", "DE", "DG", "DH", "DL", "DN", "DT",
    "DY", "E", "EC", "EH", "EN", "EX", "FK", "FY", "G", "GL", "GU", "GY", "HA", "HD", "HG",
    "HP", "HR", "HS", "HU", "HX", "IG", "IM", "IP", "IV", "JE", "KA", "KT", "KW", "KY", "L",
    "LA", "LD", "LE", "LL", "LN", "LS", "LU", "M", "ME", "MK", "ML", "N", "NE", "NG", "NN",
    "NP", "NR", "NW", "OL", "OX", "PA", "PE", "PH", "PL", "PO", "PR", "RG", "RH", "RM", "S",
    "SA", "SE", "SG", "SK", "SL", "SM", "SN", "SO", "SP", "SR", "SS", "ST", "SW", "SY", "TA",
    "TD", "TF", "TN", "TQ", "TR", "TS", "TW", "UB", "W", "WA", "WC", "WD", "WF", "WN", "WR",
    "WS", "WV", "YO", "ZE",
};

static bool
postcode_area(const char *a, size_t n)
{
    for (size_t k = 0; k < G_N_ELEMENTS(postcode_areas); k++)
        if (strlen(postcode_areas[k]) == n && strncmp(postcode_areas[k], a, n) == 0)
            return true;
    return false;
}

/* Length of a valid outward code at t (area + district) that ends exactly
 * at t + n, or 0. */
static bool
outward_valid(const char *t, size_t n)
{
    size_t a = 0;
    while (a < n && a < 2 && g_ascii_isupper(t[a]))
        a++;
    if (a == 0 || !postcode_area(t, a))
        return false;
    size_t rest = n - a;
    const char *d = t + a;
    if (rest == 1)
        return g_ascii_isdigit(d[0]);
    if (rest != 2 || !g_ascii_isdigit(d[0]))
        return false;
    if (g_ascii_isdigit(d[1]))
        return true;
    if (a == 1)
        return strchr("ABCDEFGHJKPSTUW", d[1]) != NULL && d[1] != '\0';
    return strchr("ABEHMNPRVWXY", d[1]) != NULL && d[1] != '\0';
}

static bool
inward_valid(const char *t)
{
    return g_ascii_isdigit(t[0]) && g_ascii_isupper(t[1]) && g_ascii_isupper(t[2]) &&
           !strchr("CIKMOV", t[1]) && !strchr("CIKMOV", t[2]);
}

static void
scan_postcode(const char *t, size_t len, GArray *out)
{
    for (size_t i = 0; i < len; i++) {
        if (!g_ascii_isupper(t[i]) || !left_edge(t, i))
            continue;
        size_t e = i;
        while (e < len && (g_ascii_isupper(t[e]) || g_ascii_isdigit(t[e])))
            e++;
        size_t w = e - i;   /* the first token */
        if (w == 3 && strncmp(t + i, "GIR", 3) == 0 && e + 4 <= len && t[e] == ' ' &&
            strncmp(t + e + 1, "0AA", 3) == 0 && right_edge(t, len, e + 4)) {
            add_match(out, i, e + 4, "postcode");
            i = e + 3;
            continue;
        }
        if (!right_edge(t, len, e)) {
            i = e;
            continue;
        }
        /* "SW1A 1AA": an outward token, one space, an inward token */
        if (w >= 2 && w <= 4 && outward_valid(t + i, w) && e + 4 <= len && t[e] == ' ' &&
            inward_valid(t + e + 1) && right_edge(t, len, e + 4)) {
            add_match(out, i, e + 4, "postcode");
            i = e + 3;
            continue;
        }
        /* "SW1A1AA": one token, only with an outward code of three or
         * four characters ("M11AE" is as often a part number) */
        if (w >= 6 && w <= 7 && outward_valid(t + i, w - 3) && inward_valid(t + e - 3)) {
            add_match(out, i, e, "postcode");
            i = e - 1;
            continue;
        }
        i = e > i ? e - 1 : i;
    }
}

/* ---- names ---- */

/* A word: a run of letters and digits (any script), with ' ’ - inside. */
typedef struct word {
    size_t start, end;
    char *key;                 /* casefolded (owned) */
} word_t;

static bool
word_char(gunichar c)
{
    return g_unichar_isalnum(c) || g_unichar_ismark(c);
}

static bool
inner_char(gunichar c)
{
    return c == '\'' || c == 0x2019 || c == '-';
}

/* Splits `text` into words (GArray of word_t; keys owned by the caller:
 * words_free). */
static GArray *
words_split(const char *text, size_t len)
{
    GArray *ws = g_array_new(FALSE, FALSE, sizeof(word_t));
    const char *p = text, *end = text + len;
    while (p < end) {
        gunichar c = g_utf8_get_char_validated(p, end - p);
        if (c == (gunichar) -1 || c == (gunichar) -2) {
            p++;
            continue;
        }
        if (!word_char(c)) {
            p = g_utf8_next_char(p);
            continue;
        }
        const char *s = p, *last = p;
        while (p < end) {
            gunichar d = g_utf8_get_char_validated(p, end - p);
            if (d == (gunichar) -1 || d == (gunichar) -2)
                break;
            if (word_char(d)) {
                p = g_utf8_next_char(p);
                last = p;
                continue;
            }
            if (inner_char(d)) {
                const char *n = g_utf8_next_char(p);
                /* a possessive 's ends the word: "Quince's" is "Quince" */
                if (d != '-' && n < end && (*n == 's' || *n == 'S') &&
                    (n + 1 >= end || !g_unichar_isalnum(g_utf8_get_char_validated(n + 1, end - n - 1))))
                    break;
                if (n < end) {
                    gunichar e = g_utf8_get_char_validated(n, end - n);
                    if (e != (gunichar) -1 && e != (gunichar) -2 && word_char(e)) {
                        p = n;
                        continue;
                    }
                }
            }
            break;
        }
        word_t w = { (size_t) (s - text), (size_t) (last - text),
                     g_utf8_casefold(s, last - s) };
        g_array_append_val(ws, w);
        p = last > s ? last : g_utf8_next_char(s);
    }
    return ws;
}

static void
words_free(GArray *ws)
{
    for (guint i = 0; i < ws->len; i++)
        g_free(g_array_index(ws, word_t, i).key);
    g_array_free(ws, TRUE);
}

typedef struct name_entry {
    char **keys;               /* casefolded words (owned, NULL-terminated) */
    guint n;
    const char *kind;
} name_entry_t;

struct cor_redact_names {
    GHashTable *by_first;      /* first word key → GPtrArray of name_entry_t* (borrowed) */
    GPtrArray *all;            /* name_entry_t*, owned */
    GPtrArray *joined;         /* name_entry_t*, owned: "jane-smith", one word */
    GHashTable *seen;          /* "kind\x1fkeys" → 1, duplicates */
};

static void
name_entry_free(name_entry_t *e)
{
    g_strfreev(e->keys);
    g_free(e);
}

cor_redact_names_t *
cor_redact_names_new(void)
{
    cor_redact_names_t *n = g_new0(cor_redact_names_t, 1);
    n->by_first = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) g_ptr_array_unref);
    n->all = g_ptr_array_new_with_free_func((GDestroyNotify) name_entry_free);
    n->joined = g_ptr_array_new_with_free_func((GDestroyNotify) name_entry_free);
    n->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return n;
}

void
cor_redact_names_free(cor_redact_names_t *n)
{
    if (!n)
        return;
    g_hash_table_unref(n->by_first);
    g_ptr_array_unref(n->all);
    g_ptr_array_unref(n->joined);
    g_hash_table_unref(n->seen);
    g_free(n);
}

guint
cor_redact_names_count(const cor_redact_names_t *n)
{
    return n->all->len;
}

static void
by_first_add(cor_redact_names_t *n, name_entry_t *e)
{
    GPtrArray *list = g_hash_table_lookup(n->by_first, e->keys[0]);
    if (!list) {
        list = g_ptr_array_new();
        g_hash_table_insert(n->by_first, g_strdup(e->keys[0]), list);
    }
    g_ptr_array_add(list, e);
}

bool
cor_redact_names_add(cor_redact_names_t *n, const char *name, const char *kind)
{
    if (!name || !g_utf8_validate(name, -1, NULL))
        return false;
    GArray *ws = words_split(name, strlen(name));
    bool subject = strcmp(kind, "subject") == 0;
    bool ok = ws->len >= 2 ||
              (subject && ws->len == 1 && g_utf8_strlen(g_array_index(ws, word_t, 0).key, -1) >= 3);
    if (!ok) {
        words_free(ws);
        return false;
    }
    name_entry_t *e = g_new0(name_entry_t, 1);
    e->keys = g_new0(char *, ws->len + 1);
    e->n = ws->len;
    e->kind = subject ? "subject" : "name";
    GString *sig = g_string_new(e->kind);
    for (guint i = 0; i < ws->len; i++) {
        e->keys[i] = g_steal_pointer(&g_array_index(ws, word_t, i).key);
        g_string_append_c(sig, '\x1f');
        g_string_append(sig, e->keys[i]);
    }
    words_free(ws);
    if (g_hash_table_contains(n->seen, sig->str)) {
        g_string_free(sig, TRUE);
        name_entry_free(e);
        return false;
    }
    g_hash_table_add(n->seen, g_string_free(sig, FALSE));
    g_ptr_array_add(n->all, e);
    by_first_add(n, e);
    if (e->n >= 2) {
        /* "jane-smith" is one word (words_split keeps '-' inside) */
        name_entry_t *j = g_new0(name_entry_t, 1);
        j->keys = g_new0(char *, 2);
        j->keys[0] = g_strjoinv("-", e->keys);
        j->n = 1;
        j->kind = e->kind;
        g_ptr_array_add(n->joined, j);
        by_first_add(n, j);
    }
    return true;
}

/* Only white space between two words of a name, or one '.' or '_' (the
 * name in an address, a link or a Message-ID: jane.smith, jane_smith). */
static bool
blank_between(const char *t, size_t from, size_t to)
{
    if (from >= to)
        return false;
    if (to - from == 1 && (t[from] == '.' || t[from] == '_'))
        return true;
    for (size_t k = from; k < to; k++)
        if (!g_ascii_isspace(t[k]))
            return false;
    return true;
}

static void
scan_names(const char *t, size_t len, const cor_redact_names_t *names, GArray *out)
{
    if (!names || names->all->len == 0)
        return;
    GArray *ws = words_split(t, len);
    for (guint i = 0; i < ws->len; i++) {
        const word_t *w = &g_array_index(ws, word_t, i);
        GPtrArray *cands = g_hash_table_lookup(names->by_first, w->key);
        if (!cands)
            continue;
        const name_entry_t *best = NULL;
        for (guint c = 0; c < cands->len; c++) {
            const name_entry_t *e = cands->pdata[c];
            if (i + e->n > ws->len || (best && best->n >= e->n))
                continue;
            bool match = true;
            for (guint k = 1; k < e->n && match; k++) {
                const word_t *a = &g_array_index(ws, word_t, i + k - 1);
                const word_t *b = &g_array_index(ws, word_t, i + k);
                match = strcmp(b->key, e->keys[k]) == 0 && blank_between(t, a->end, b->start);
            }
            if (match)
                best = e;
        }
        if (best) {
            add_match(out, w->start, g_array_index(ws, word_t, i + best->n - 1).end, best->kind);
            i += best->n - 1;
        }
    }
    words_free(ws);
}

static gint
match_cmp(gconstpointer a, gconstpointer b)
{
    const cor_redact_match_t *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end > y->end ? -1 : 1;   /* the longer first */
    return strcmp(x->kind, y->kind);
}

GArray *
cor_redact_scan(const char *text, size_t len, const cor_redact_names_t *names,
                const char *subject_address)
{
    GArray *all = g_array_new(FALSE, FALSE, sizeof(cor_redact_match_t));
    scan_email(text, len, all);
    scan_phone(text, len, all);
    scan_nino(text, len, all);
    scan_postcode(text, len, all);
    scan_names(text, len, names, all);
    if (subject_address && *subject_address) {
        size_t sl = strlen(subject_address);
        for (guint i = 0; i < all->len; i++) {
            cor_redact_match_t *m = &g_array_index(all, cor_redact_match_t, i);
            if (strcmp(m->kind, "email") == 0 && m->end - m->start == sl &&
                g_ascii_strncasecmp(text + m->start, subject_address, sl) == 0)
                m->kind = "subject";
        }
    }
    g_array_sort(all, match_cmp);
    GArray *out = g_array_new(FALSE, FALSE, sizeof(cor_redact_match_t));
    size_t covered = 0;
    for (guint i = 0; i < all->len; i++) {
        cor_redact_match_t m = g_array_index(all, cor_redact_match_t, i);
        /* sorted by start: every kept match starts at or before this one,
         * so it is inside one of them when one reaches its end */
        if (out->len > 0 && m.end <= covered)
            continue;
        g_array_append_val(out, m);
        if (m.end > covered)
            covered = m.end;
    }
    g_array_free(all, TRUE);
    return out;
}

/* ==== redacted copies ==== */

static gint
span_cmp(gconstpointer a, gconstpointer b)
{
    const cor_redact_span_t *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static bool
char_boundary(const char *text, size_t len, size_t i)
{
    return i == 0 || i == len || (((unsigned char) text[i]) & 0xc0) != 0x80;
}

cor_status_t
cor_redact_apply(const char *text, size_t len, const cor_redact_span_t *spans, guint n,
                 GString *txt, GString *html, char **err)
{
    GArray *sorted = g_array_sized_new(FALSE, FALSE, sizeof(cor_redact_span_t), n);
    for (guint i = 0; i < n; i++) {
        const cor_redact_span_t *s = &spans[i];
        if (s->start >= s->end || s->end > len || !char_boundary(text, len, s->start) ||
            !char_boundary(text, len, s->end) || !cor_redact_exemption_valid(s->exemption)) {
            *err = g_strdup_printf("span %zu-%zu (%s) does not fit the text (%zu bytes)",
                                   s->start, s->end, s->exemption ? s->exemption : "?", len);
            g_array_free(sorted, TRUE);
            return COR_ERR_INVALID;
        }
        g_array_append_val(sorted, *s);
    }
    g_array_sort(sorted, span_cmp);
    size_t pos = 0;
    guint i = 0;
    while (i < sorted->len) {
        cor_redact_span_t *s = &g_array_index(sorted, cor_redact_span_t, i);
        size_t start = s->start, end = s->end;
        /* the exemptions of every span merged into this one, each once */
        const char *codes[G_N_ELEMENTS(exemptions)];
        guint nc = 0;
        for (; i < sorted->len; i++) {
            cor_redact_span_t *o = &g_array_index(sorted, cor_redact_span_t, i);
            if (o->start > end)
                break;
            if (o->end > end)
                end = o->end;
            bool have = false;
            for (guint k = 0; k < nc; k++)
                have = have || strcmp(codes[k], o->exemption) == 0;
            if (!have && nc < G_N_ELEMENTS(codes))
                codes[nc++] = o->exemption;
        }
        GString *marker = g_string_new("[Redacted \xe2\x80\x93 ");
        for (guint k = 0; k < nc; k++)
            g_string_append_printf(marker, "%s%s", k ? ", " : "", cor_redact_exemption_label(codes[k]));
        g_string_append_c(marker, ']');
        if (txt) {
            g_string_append_len(txt, text + pos, (gssize) (start - pos));
            g_string_append(txt, marker->str);
        }
        if (html) {
            cor_escape_html(html, text + pos, (gssize) (start - pos));
            g_string_append(html, "<span class=\"redacted\">");
            cor_escape_html(html, marker->str, -1);
            g_string_append(html, "</span>");
        }
        g_string_free(marker, TRUE);
        pos = end;
    }
    if (txt)
        g_string_append_len(txt, text + pos, (gssize) (len - pos));
    if (html)
        cor_escape_html(html, text + pos, (gssize) (len - pos));
    g_array_free(sorted, TRUE);
    return COR_OK;
}

void
cor_redact_apply_range(const char *text, size_t len, const cor_redact_span_t *spans, guint n,
                       size_t from, size_t to, GString *out)
{
    if (to > len)
        to = len;
    if (from >= to)
        return;
    GArray *cut = g_array_new(FALSE, FALSE, sizeof(cor_redact_span_t));
    for (guint i = 0; i < n; i++) {
        if (spans[i].end <= from || spans[i].start >= to)
            continue;
        cor_redact_span_t c = { MAX(spans[i].start, from) - from, MIN(spans[i].end, to) - from,
                                spans[i].exemption };
        g_array_append_val(cut, c);
    }
    g_autofree char *err = NULL;
    if (cor_redact_apply(text + from, to - from, (const cor_redact_span_t *) (void *) cut->data,
                         cut->len, out, NULL, &err) != COR_OK) {
        /* a span off a character boundary: the whole range is withheld
         * rather than shown (the caller's spans were checked; not reached) */
        g_string_append(out, "[Redacted]");
    }
    g_array_free(cut, TRUE);
}

/* ==== phrases ==== */

typedef struct phrase {
    char *text;
    const char *code;          /* static */
} phrase_t;

struct cor_redact_phrases {
    GArray *list;              /* phrase_t */
    GHashTable *seen;          /* casefolded text → 1 */
    bool sorted;
};

cor_redact_phrases_t *
cor_redact_phrases_new(void)
{
    cor_redact_phrases_t *p = g_new0(cor_redact_phrases_t, 1);
    p->list = g_array_new(FALSE, FALSE, sizeof(phrase_t));
    p->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return p;
}

void
cor_redact_phrases_free(cor_redact_phrases_t *p)
{
    if (!p)
        return;
    for (guint i = 0; i < p->list->len; i++)
        g_free(g_array_index(p->list, phrase_t, i).text);
    g_array_free(p->list, TRUE);
    g_hash_table_unref(p->seen);
    g_free(p);
}

guint
cor_redact_phrases_count(const cor_redact_phrases_t *p)
{
    return p->list->len;
}

void
cor_redact_phrases_add(cor_redact_phrases_t *p, const char *text, size_t len, const char *code)
{
    int ex = exemption_index(code);
    while (len > 0 && g_ascii_isspace(*text)) {
        text++;
        len--;
    }
    while (len > 0 && g_ascii_isspace(text[len - 1]))
        len--;
    if (ex < 0 || len == 0 || !g_utf8_validate(text, (gssize) len, NULL))
        return;
    bool word = false;
    for (const char *q = text; q < text + len && !word; q = g_utf8_next_char(q))
        word = g_unichar_isalnum(g_utf8_get_char(q));
    if (!word)
        return;
    char *key = g_utf8_casefold(text, (gssize) len);
    if (g_hash_table_contains(p->seen, key)) {
        g_free(key);
        return;
    }
    g_hash_table_add(p->seen, key);
    phrase_t ph = { g_strndup(text, len), exemptions[ex].code };
    g_array_append_val(p->list, ph);
    p->sorted = false;
}

static gint
phrase_cmp(gconstpointer a, gconstpointer b)
{
    const phrase_t *x = a, *y = b;
    size_t lx = strlen(x->text), ly = strlen(y->text);
    if (lx != ly)
        return lx > ly ? -1 : 1;   /* longer first */
    return strcmp(x->text, y->text);
}

/* The end of `ph` matched at s + i (ignoring case, white space runs equal),
 * or 0. */
static size_t
phrase_match(const char *s, size_t i, const char *ph)
{
    const char *p = s + i, *q = ph;
    while (*q) {
        if (!*p)
            return 0;
        if (g_ascii_isspace(*q)) {
            if (!g_ascii_isspace(*p))
                return 0;
            while (g_ascii_isspace(*q))
                q++;
            while (g_ascii_isspace(*p))
                p++;
            continue;
        }
        gunichar a = g_utf8_get_char_validated(p, -1), b = g_utf8_get_char(q);
        if (a == (gunichar) -1 || a == (gunichar) -2)
            return 0;
        if (a != b && g_unichar_tolower(a) != g_unichar_tolower(b) &&
            g_unichar_toupper(a) != g_unichar_toupper(b))
            return 0;
        p = g_utf8_next_char(p);
        q = g_utf8_next_char(q);
    }
    return (size_t) (p - s);
}

char *
cor_redact_phrases_apply(const cor_redact_phrases_t *p, const char *s)
{
    if (!s)
        return g_strdup("");
    if (!p->sorted) {
        g_array_sort(p->list, phrase_cmp);
        ((cor_redact_phrases_t *) p)->sorted = true;
    }
    GString *out = g_string_sized_new(strlen(s));
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t end = 0;
        const phrase_t *hit = NULL;
        if ((s[i] & 0xc0) != 0x80) {
            for (guint k = 0; k < p->list->len && !hit; k++) {
                const phrase_t *ph = &g_array_index(p->list, phrase_t, k);
                if ((end = phrase_match(s, i, ph->text)) != 0)
                    hit = ph;
            }
        }
        if (hit) {
            g_string_append_printf(out, "[Redacted \xe2\x80\x93 %s]",
                                   cor_redact_exemption_label(hit->code));
            i = end;
        } else {
            g_string_append_c(out, s[i]);
            i++;
        }
    }
    return g_string_free(out, FALSE);
}

/* ==== the store ==== */

void
cor_redaction_free(cor_redaction_t *r)
{
    if (!r)
        return;
    g_free(r->message_id);
    g_free(r->text_sha256);
    g_free(r->kind);
    g_free(r->exemption);
    g_free(r->state);
    g_free(r->operator_name);
    g_free(r);
}

static cor_status_t
store_fail(cor_store_t *st, int rc, const char *what, char **err)
{
    cor_status_t s = cor_store_sqlite_error(st, rc, what);
    *err = g_strdup(cor_store_error(st));
    return s;
}

/* The case's id and person; COR_ERR_NOT_FOUND with "no case 'REF'". */
static cor_status_t
case_find(cor_store_t *st, const char *ref, int64_t *id, char **person, char **err)
{
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT id, person FROM cases WHERE ref = ?1");
    if (!q) {
        *err = g_strdup(cor_store_error(st));
        return COR_ERR_STORE;
    }
    sqlite3_bind_text(q, 1, ref, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(q, 0);
        if (person)
            *person = cor_store_col_text(q, 1);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_DONE) {
        *err = g_strdup_printf("no case '%s'", ref);
        return COR_ERR_NOT_FOUND;
    }
    if (rc != SQLITE_ROW)
        return store_fail(st, rc, "cannot read the case", err);
    return COR_OK;
}

/* The case's messages (GArray of int64_t), by date. */
static cor_status_t
case_messages(cor_store_t *st, int64_t case_id, GArray **out, char **err)
{
    *out = g_array_new(FALSE, FALSE, sizeof(int64_t));
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT m.id FROM case_messages cm JOIN messages m ON m.id = cm.msg"
        " WHERE cm.case_id = ?1 ORDER BY m.date, m.message_id, m.id");
    if (!q) {
        *err = g_strdup(cor_store_error(st));
        return COR_ERR_STORE;
    }
    sqlite3_bind_int64(q, 1, case_id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        g_array_append_val(*out, id);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store_fail(st, rc, "cannot read the case's messages", err);
    return COR_OK;
}

/* Inserts one redaction; *id_out its row. */
static cor_status_t
insert_redaction(cor_store_t *st, int64_t case_id, int64_t msg, int64_t start, int64_t end,
                 const char *sha, const char *kind, const char *exemption, const char *state,
                 const char *operator_name, int64_t now, int64_t *id_out, char **err)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "INSERT INTO redactions (case_id, msg, span_start, span_end, text_sha256, kind,"
        " exemption, state, operator, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (!q) {
        *err = g_strdup(cor_store_error(st));
        return COR_ERR_STORE;
    }
    sqlite3_bind_int64(q, 1, case_id);
    sqlite3_bind_int64(q, 2, msg);
    sqlite3_bind_int64(q, 3, start);
    sqlite3_bind_int64(q, 4, end);
    sqlite3_bind_text(q, 5, sha, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 7, exemption, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 8, state, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 9, operator_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 10, now);
    cor_status_t s = cor_store_step_done(st, q, "cannot record a redaction");
    if (s != COR_OK) {
        *err = g_strdup(cor_store_error(st));
        return s;
    }
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(st->db);
    return COR_OK;
}

/* The spans already recorded for (case, msg, text) as "start-end" keys. */
static cor_status_t
existing_spans(cor_store_t *st, int64_t case_id, int64_t msg, const char *sha, GHashTable *keys,
               char **err)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT span_start, span_end FROM redactions"
        " WHERE case_id = ?1 AND msg = ?2 AND text_sha256 = ?3");
    if (!q) {
        *err = g_strdup(cor_store_error(st));
        return COR_ERR_STORE;
    }
    sqlite3_bind_int64(q, 1, case_id);
    sqlite3_bind_int64(q, 2, msg);
    sqlite3_bind_text(q, 3, sha, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        g_hash_table_add(keys, g_strdup_printf("%lld-%lld", (long long) sqlite3_column_int64(q, 0),
                                               (long long) sqlite3_column_int64(q, 1)));
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store_fail(st, rc, "cannot read redactions", err);
    return COR_OK;
}

/* Appends the audit entry of a redaction change and commits; on failure
 * rolls back. */
static cor_status_t
audit_commit(cor_store_t *st, const char *operator_name, const char *case_ref, JsonBuilder *b,
             char **err)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    g_autofree char *detail = json_generator_to_data(gen, NULL);
    g_autofree char *aerr = NULL;
    cor_status_t s = cor_audit_append(st, operator_name, "redact", case_ref, detail, NULL, &aerr);
    if (s != COR_OK) {
        cor_store_rollback(st);
        *err = g_strdup_printf("cannot write the audit entry: %s",
                               aerr ? aerr : cor_status_to_string(s));
        return s;
    }
    s = cor_store_commit(st);
    if (s != COR_OK) {
        *err = g_strdup_printf("cannot commit: %s", cor_store_error(st));
        cor_store_rollback(st);
    }
    return s;
}

static cor_status_t
begin(cor_store_t *st, char **err)
{
    cor_status_t s = cor_store_begin(st);
    if (s != COR_OK)
        *err = g_strdup_printf("cannot start a transaction: %s", cor_store_error(st));
    return s;
}

/* The members' names (directory and CLI) into `names`. */
static cor_status_t
member_names(cor_store_t *st, cor_redact_names_t *names, char **err)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT DISTINCT name FROM members WHERE name <> '' ORDER BY name");
    if (!q) {
        *err = g_strdup(cor_store_error(st));
        return COR_ERR_STORE;
    }
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        cor_redact_names_add(names, (const char *) sqlite3_column_text(q, 0), "name");
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store_fail(st, rc, "cannot read the members' names", err);
    return COR_OK;
}

cor_status_t
cor_redact_propose(cor_store_t *st, const char *case_ref, const char *operator_name,
                   const char *exemption, const char *const *names, int64_t *proposed,
                   int64_t *messages, char **err)
{
    *proposed = 0;
    *messages = 0;
    if (!exemption)
        exemption = "s40(2)";
    if (!cor_redact_exemption_valid(exemption)) {
        *err = g_strdup_printf("unknown exemption '%s' (use one of %s)", exemption,
                               cor_redact_exemption_list());
        return COR_ERR_INVALID;
    }
    /* The scan (parsing every message) runs in a read transaction, so the
     * daemon's writers are not kept waiting; the rows are written after it
     * in one short write transaction that checks again what exists. */
    cor_status_t s = cor_store_begin_read(st);
    if (s != COR_OK) {
        *err = g_strdup_printf("cannot read the store: %s", cor_store_error(st));
        return s;
    }
    int64_t case_id = 0;
    g_autofree char *person = NULL;
    g_autoptr(GArray) msgs = NULL;
    g_autoptr(cor_redact_names_t) nm = cor_redact_names_new();
    if ((s = case_find(st, case_ref, &case_id, &person, err)) != COR_OK ||
        (s = case_messages(st, case_id, &msgs, err)) != COR_OK ||
        (s = member_names(st, nm, err)) != COR_OK) {
        cor_store_end_read(st);
        return s;
    }
    for (const char *const *n = names; n && *n; n++)
        cor_redact_names_add(nm, *n, "subject");
    typedef struct found_msg {
        int64_t msg;
        char sha[65];
        GArray *matches;       /* cor_redact_match_t */
    } found_msg_t;
    g_autoptr(GArray) found = g_array_new(FALSE, TRUE, sizeof(found_msg_t));
    for (guint i = 0; i < msgs->len && s == COR_OK; i++) {
        found_msg_t fm = { .msg = g_array_index(msgs, int64_t, i) };
        g_autofree char *text = NULL;
        if ((s = cor_readable_load(st, fm.msg, 0, &text, fm.sha, NULL, NULL, err)) != COR_OK)
            break;
        fm.matches = cor_redact_scan(text, strlen(text), nm, person);
        g_array_append_val(found, fm);
    }
    cor_store_end_read(st);

    bool in_tx = false;
    if (s == COR_OK && (s = begin(st, err)) == COR_OK) {
        in_tx = true;
        s = case_find(st, case_ref, &case_id, NULL, err);
    }
    int64_t now = (int64_t) time(NULL);
    GHashTable *kinds = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < found->len && s == COR_OK; i++) {
        found_msg_t *fm = &g_array_index(found, found_msg_t, i);
        g_autoptr(GHashTable) have = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        if ((s = existing_spans(st, case_id, fm->msg, fm->sha, have, err)) != COR_OK)
            break;
        for (guint k = 0; k < fm->matches->len && s == COR_OK; k++) {
            const cor_redact_match_t *m = &g_array_index(fm->matches, cor_redact_match_t, k);
            g_autofree char *key = g_strdup_printf("%zu-%zu", m->start, m->end);
            if (g_hash_table_contains(have, key))
                continue;
            s = insert_redaction(st, case_id, fm->msg, (int64_t) m->start, (int64_t) m->end,
                                 fm->sha, m->kind, exemption, "proposed", operator_name, now,
                                 NULL, err);
            if (s == COR_OK) {
                (*proposed)++;
                g_hash_table_insert(kinds, (gpointer) m->kind,
                    GINT_TO_POINTER(GPOINTER_TO_INT(g_hash_table_lookup(kinds, m->kind)) + 1));
            }
        }
        if (s == COR_OK)
            (*messages)++;
    }
    if (s != COR_OK && in_tx)
        cor_store_rollback(st);
    for (guint i = 0; i < found->len; i++)
        g_array_unref(g_array_index(found, found_msg_t, i).matches);
    if (s != COR_OK) {
        g_hash_table_unref(kinds);
        *proposed = 0;
        *messages = 0;
        return s;
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "op");
    json_builder_add_string_value(b, "propose");
    json_builder_set_member_name(b, "messages");
    json_builder_add_int_value(b, *messages);
    json_builder_set_member_name(b, "proposed");
    json_builder_add_int_value(b, *proposed);
    json_builder_set_member_name(b, "exemption");
    json_builder_add_string_value(b, exemption);
    json_builder_set_member_name(b, "kinds");
    json_builder_begin_object(b);
    static const char *const kind_order[] = { "email", "phone", "nino", "postcode", "name", "subject" };
    for (size_t k = 0; k < G_N_ELEMENTS(kind_order); k++) {
        int c = GPOINTER_TO_INT(g_hash_table_lookup(kinds, kind_order[k]));
        if (c) {
            json_builder_set_member_name(b, kind_order[k]);
            json_builder_add_int_value(b, c);
        }
    }
    json_builder_end_object(b);
    json_builder_set_member_name(b, "names");
    json_builder_add_int_value(b, cor_redact_names_count(nm));
    json_builder_end_object(b);
    g_hash_table_unref(kinds);
    return audit_commit(st, operator_name, case_ref, b, err);
}

static cor_redaction_t *
row_redaction(sqlite3_stmt *q)
{
    cor_redaction_t *r = g_new0(cor_redaction_t, 1);
    r->id = sqlite3_column_int64(q, 0);
    r->msg = sqlite3_column_int64(q, 1);
    r->message_id = cor_store_col_text(q, 2);
    r->start = sqlite3_column_int64(q, 3);
    r->end = sqlite3_column_int64(q, 4);
    r->text_sha256 = cor_store_col_text(q, 5);
    r->kind = cor_store_col_text(q, 6);
    r->exemption = cor_store_col_text(q, 7);
    r->state = cor_store_col_text(q, 8);
    r->operator_name = cor_store_col_text(q, 9);
    r->at = sqlite3_column_int64(q, 10);
    return r;
}

cor_status_t
cor_redact_list(cor_store_t *st, const char *case_ref, const char *state, GPtrArray **out,
                char **err)
{
    *out = NULL;
    int64_t case_id = 0;
    cor_status_t s = case_find(st, case_ref, &case_id, NULL, err);
    if (s != COR_OK)
        return s;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT r.id, r.msg, m.message_id, r.span_start, r.span_end, r.text_sha256, r.kind,"
        " r.exemption, r.state, r.operator, r.at FROM redactions r JOIN messages m ON m.id = r.msg"
        " WHERE r.case_id = ?1 AND (?2 IS NULL OR r.state = ?2)"
        " ORDER BY m.date, m.message_id, r.msg, r.span_start, r.span_end, r.id");
    if (!q) {
        *err = g_strdup(cor_store_error(st));
        return COR_ERR_STORE;
    }
    sqlite3_bind_int64(q, 1, case_id);
    if (state)
        sqlite3_bind_text(q, 2, state, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, 2);
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify) cor_redaction_free);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        g_ptr_array_add(list, row_redaction(q));
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        g_ptr_array_unref(list);
        return store_fail(st, rc, "cannot read redactions", err);
    }
    /* the numbers the bundle gives the messages */
    g_autoptr(GArray) msgs = NULL;
    if ((s = case_messages(st, case_id, &msgs, err)) != COR_OK) {
        g_ptr_array_unref(list);
        return s;
    }
    g_autoptr(GHashTable) numbers = g_hash_table_new(g_int64_hash, g_int64_equal);
    for (guint i = 0; i < msgs->len; i++)
        g_hash_table_insert(numbers, &g_array_index(msgs, int64_t, i), GINT_TO_POINTER(i + 1));
    for (guint i = 0; i < list->len; i++) {
        cor_redaction_t *r = list->pdata[i];
        r->number = GPOINTER_TO_INT(g_hash_table_lookup(numbers, &r->msg));
    }
    *out = list;
    return COR_OK;
}

cor_status_t
cor_redact_decide(cor_store_t *st, const char *case_ref, const char *operator_name, GArray *ids,
                  bool accept, int64_t *changed, char **err)
{
    *changed = 0;
    const char *to = accept ? "accepted" : "rejected";
    cor_status_t s = begin(st, err);
    if (s != COR_OK)
        return s;
    int64_t case_id = 0;
    if ((s = case_find(st, case_ref, &case_id, NULL, err)) != COR_OK) {
        cor_store_rollback(st);
        return s;
    }
    int64_t now = (int64_t) time(NULL);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "op");
    json_builder_add_string_value(b, accept ? "accept" : "reject");
    if (!ids) {
        sqlite3_stmt *q = cor_store_stmt(st,
            "UPDATE redactions SET state = ?2, operator = ?3, at = ?4"
            " WHERE case_id = ?1 AND state = 'proposed'");
        if (!q) {
            cor_store_rollback(st);
            *err = g_strdup(cor_store_error(st));
            return COR_ERR_STORE;
        }
        sqlite3_bind_int64(q, 1, case_id);
        sqlite3_bind_text(q, 2, to, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, operator_name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, now);
        if ((s = cor_store_step_done(st, q, "cannot change redactions")) != COR_OK) {
            *err = g_strdup(cor_store_error(st));
            cor_store_rollback(st);
            return s;
        }
        *changed = sqlite3_changes(st->db);
        json_builder_set_member_name(b, "all_proposed");
        json_builder_add_boolean_value(b, TRUE);
    } else {
        json_builder_set_member_name(b, "ids");
        json_builder_begin_array(b);
        for (guint i = 0; i < ids->len; i++) {
            int64_t id = g_array_index(ids, int64_t, i);
            sqlite3_stmt *q = cor_store_stmt(st,
                "SELECT state FROM redactions WHERE id = ?1 AND case_id = ?2");
            if (!q) {
                cor_store_rollback(st);
                *err = g_strdup(cor_store_error(st));
                return COR_ERR_STORE;
            }
            sqlite3_bind_int64(q, 1, id);
            sqlite3_bind_int64(q, 2, case_id);
            int rc = sqlite3_step(q);
            g_autofree char *was = rc == SQLITE_ROW ? cor_store_col_text(q, 0) : NULL;
            sqlite3_reset(q);
            if (rc == SQLITE_DONE) {
                cor_store_rollback(st);
                *err = g_strdup_printf("case %s has no redaction %" G_GINT64_FORMAT, case_ref, id);
                return COR_ERR_NOT_FOUND;
            }
            if (rc != SQLITE_ROW) {
                s = store_fail(st, rc, "cannot read a redaction", err);
                cor_store_rollback(st);
                return s;
            }
            if (strcmp(was, to) == 0)
                continue;
            q = cor_store_stmt(st,
                "UPDATE redactions SET state = ?2, operator = ?3, at = ?4 WHERE id = ?1");
            if (!q) {
                cor_store_rollback(st);
                *err = g_strdup(cor_store_error(st));
                return COR_ERR_STORE;
            }
            sqlite3_bind_int64(q, 1, id);
            sqlite3_bind_text(q, 2, to, -1, SQLITE_STATIC);
            sqlite3_bind_text(q, 3, operator_name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(q, 4, now);
            if ((s = cor_store_step_done(st, q, "cannot change a redaction")) != COR_OK) {
                *err = g_strdup(cor_store_error(st));
                cor_store_rollback(st);
                return s;
            }
            (*changed)++;
            json_builder_add_int_value(b, id);
        }
        json_builder_end_array(b);
    }
    json_builder_set_member_name(b, "changed");
    json_builder_add_int_value(b, *changed);
    json_builder_end_object(b);
    return audit_commit(st, operator_name, case_ref, b, err);
}

static bool
all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!g_ascii_isdigit(*s))
            return false;
    return true;
}

/* The case's message named by `message` (redact.h, cor_redact_manual):
 * *msg its store row, *number its number in the case, *mid its Message-ID
 * (transfer full). */
static cor_status_t
case_message_pick(cor_store_t *st, int64_t case_id, const char *case_ref, const char *message,
                  int64_t *msg, int *number, char **mid, char **err)
{
    *msg = 0;
    *number = 0;
    *mid = NULL;
    g_autoptr(GArray) msgs = NULL;
    cor_status_t s = case_messages(st, case_id, &msgs, err);
    if (s != COR_OK)
        return s;
    const char *m = message ? message : "";
    while (g_ascii_isspace(*m))
        m++;
    if (all_digits(m) || (g_str_has_prefix(m, "id:") && all_digits(m + 3))) {
        bool by_row = *m == 'i';
        gint64 v = g_ascii_strtoll(by_row ? m + 3 : m, NULL, 10);
        for (guint i = 0; i < msgs->len && !*msg; i++) {
            int64_t id = g_array_index(msgs, int64_t, i);
            if (by_row ? id == v : (gint64) i + 1 == v) {
                *msg = id;
                *number = (int) i + 1;
            }
        }
        if (!*msg) {
            *err = by_row
                ? g_strdup_printf("message id:%" G_GINT64_FORMAT " is not in case %s", v, case_ref)
                : g_strdup_printf("case %s has no message %s (it has %u; the numbers are "
                                  "those of 'case redact %s --list' and the bundle)", case_ref,
                                  m, msgs->len, case_ref);
            return COR_ERR_NOT_FOUND;
        }
        sqlite3_stmt *q = cor_store_stmt(st, "SELECT message_id FROM messages WHERE id = ?1");
        if (!q) {
            *err = g_strdup(cor_store_error(st));
            return COR_ERR_STORE;
        }
        sqlite3_bind_int64(q, 1, *msg);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW)
            *mid = cor_store_col_text(q, 0);
        sqlite3_reset(q);
        if (rc != SQLITE_ROW)
            return store_fail(st, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc,
                              "cannot read the message", err);
        return COR_OK;
    }
    g_autofree char *want = cor_message_id_normalise(m);
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT m.id FROM case_messages cm JOIN messages m ON m.id = cm.msg"
        " WHERE cm.case_id = ?1 AND m.message_id = ?2 ORDER BY m.id");
    if (!q) {
        *err = g_strdup(cor_store_error(st));
        return COR_ERR_STORE;
    }
    sqlite3_bind_int64(q, 1, case_id);
    sqlite3_bind_text(q, 2, want, -1, SQLITE_TRANSIENT);
    g_autoptr(GArray) hits = g_array_new(FALSE, FALSE, sizeof(int64_t));
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        g_array_append_val(hits, id);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store_fail(st, rc, "cannot read the case's messages", err);
    if (hits->len == 0) {
        *err = g_strdup_printf("message <%s> is not in case %s (case add it first)", want,
                               case_ref);
        return COR_ERR_NOT_FOUND;
    }
    /* the numbers of every hit, by the case's order */
    GString *nums = g_string_new(NULL);
    for (guint i = 0; i < msgs->len; i++) {
        int64_t id = g_array_index(msgs, int64_t, i);
        for (guint k = 0; k < hits->len; k++)
            if (g_array_index(hits, int64_t, k) == id) {
                if (!*msg) {
                    *msg = id;
                    *number = (int) i + 1;
                }
                g_string_append_printf(nums, "%s%04u", nums->len ? ", " : "", i + 1);
            }
    }
    if (hits->len > 1) {
        *err = g_strdup_printf("%u messages of case %s have the Message-ID <%s> (%s, different "
                               "originals): name one by its number, e.g. --message %.4s",
                               hits->len, case_ref, want, nums->str, nums->str);
        g_string_free(nums, TRUE);
        *msg = 0;
        *number = 0;
        return COR_ERR_INVALID;
    }
    g_string_free(nums, TRUE);
    *mid = g_steal_pointer(&want);
    return COR_OK;
}

cor_status_t
cor_redact_manual(cor_store_t *st, const char *case_ref, const char *operator_name,
                  const char *message, const char *text, int occurrence, int64_t start,
                  int64_t end, const char *exemption, GArray **ids, char **message_id_out,
                  int *number_out, char **err)
{
    *ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
    if (message_id_out)
        *message_id_out = NULL;
    if (number_out)
        *number_out = 0;
    if (!cor_redact_exemption_valid(exemption)) {
        *err = g_strdup_printf("unknown exemption '%s' (use one of %s)",
                               exemption ? exemption : "", cor_redact_exemption_list());
        return COR_ERR_INVALID;
    }
    if (text && !*text) {
        *err = g_strdup("--text needs the exact text to redact");
        return COR_ERR_INVALID;
    }
    cor_status_t s = begin(st, err);
    if (s != COR_OK)
        return s;
    int64_t case_id = 0, msg = 0;
    int number = 0;
    g_autofree char *mid = NULL;
    if ((s = case_find(st, case_ref, &case_id, NULL, err)) != COR_OK ||
        (s = case_message_pick(st, case_id, case_ref, message, &msg, &number, &mid, err)) != COR_OK) {
        cor_store_rollback(st);
        return s;
    }
    g_autofree char *body = NULL;
    char sha[65];
    if ((s = cor_readable_load(st, msg, 0, &body, sha, NULL, NULL, err)) != COR_OK) {
        cor_store_rollback(st);
        return s;
    }
    size_t len = strlen(body);
    g_autoptr(GArray) spans = g_array_new(FALSE, FALSE, sizeof(int64_t) * 2);
    if (text) {
        size_t tl = strlen(text);
        int seen = 0;
        for (const char *p = body; (p = strstr(p, text)) != NULL; p += tl) {
            seen++;
            if (occurrence <= 0 || seen == occurrence) {
                int64_t se[2] = { p - body, (int64_t) (p - body + tl) };
                g_array_append_val(spans, se);
                if (occurrence > 0)
                    break;
            }
        }
        if (occurrence < 0 && seen > 1) {
            cor_store_rollback(st);
            *err = g_strdup_printf("the text occurs %d times in <%s>: say which with "
                                   "--occurrence N, or --all", seen, mid);
            return COR_ERR_INVALID;
        }
        if (spans->len == 0) {
            cor_store_rollback(st);
            *err = seen == 0
                ? g_strdup_printf("the text does not occur in the readable text of <%s> "
                                  "(it must match exactly, as the message reads decoded: "
                                  "see docs/records.md, Redaction)", mid)
                : g_strdup_printf("the text occurs %d time%s in <%s>, not %d", seen,
                                  seen == 1 ? "" : "s", mid, occurrence);
            return COR_ERR_NOT_FOUND;
        }
    } else {
        if (start < 0 || end <= start || (size_t) end > len ||
            !char_boundary(body, len, (size_t) start) || !char_boundary(body, len, (size_t) end)) {
            cor_store_rollback(st);
            *err = g_strdup_printf("span %" G_GINT64_FORMAT "-%" G_GINT64_FORMAT " does not fit "
                                   "the readable text of <%s> (%zu bytes; spans are byte "
                                   "offsets on character boundaries, END after START)",
                                   start, end, mid, len);
            return COR_ERR_INVALID;
        }
        int64_t se[2] = { start, end };
        g_array_append_val(spans, se);
    }
    int64_t now = (int64_t) time(NULL);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "op");
    json_builder_add_string_value(b, "manual");
    json_builder_set_member_name(b, "message_id");
    json_builder_add_string_value(b, mid);
    json_builder_set_member_name(b, "message");
    g_autofree char *num = g_strdup_printf("%04d", number);
    json_builder_add_string_value(b, num);
    json_builder_set_member_name(b, "msg");
    json_builder_add_int_value(b, msg);
    json_builder_set_member_name(b, "exemption");
    json_builder_add_string_value(b, exemption);
    json_builder_set_member_name(b, "spans");
    json_builder_begin_array(b);
    for (guint i = 0; i < spans->len; i++) {
        int64_t *se = &g_array_index(spans, int64_t, 2 * i);
        int64_t id = 0;
        s = insert_redaction(st, case_id, msg, se[0], se[1], sha, "manual", exemption, "accepted",
                             operator_name, now, &id, err);
        if (s != COR_OK) {
            cor_store_rollback(st);
            return s;
        }
        g_array_append_val(*ids, id);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "id");
        json_builder_add_int_value(b, id);
        json_builder_set_member_name(b, "span");
        g_autofree char *sp = g_strdup_printf("%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT, se[0], se[1]);
        json_builder_add_string_value(b, sp);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    s = audit_commit(st, operator_name, case_ref, b, err);
    if (s == COR_OK) {
        if (message_id_out)
            *message_id_out = g_steal_pointer(&mid);
        if (number_out)
            *number_out = number;
    }
    return s;
}

cor_status_t
cor_redact_accepted(cor_store_t *st, int64_t case_id, int64_t msg, const char *text_sha256,
                    GArray **out, char **err)
{
    *out = NULL;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT r.id, r.span_start, r.span_end, r.text_sha256, r.exemption FROM redactions r"
        " WHERE r.case_id = ?1 AND r.msg = ?2 AND r.state = 'accepted' ORDER BY r.span_start, r.id");
    if (!q) {
        *err = g_strdup(cor_store_error(st));
        return COR_ERR_STORE;
    }
    sqlite3_bind_int64(q, 1, case_id);
    sqlite3_bind_int64(q, 2, msg);
    GArray *spans = g_array_new(FALSE, FALSE, sizeof(cor_redact_span_t));
    int rc;
    int64_t stale = 0, unknown = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *sha = (const char *) sqlite3_column_text(q, 3);
        if (!sha || strcmp(sha, text_sha256) != 0) {
            stale = sqlite3_column_int64(q, 0);
            break;
        }
        int ex = exemption_index((const char *) sqlite3_column_text(q, 4));
        if (ex < 0) {
            unknown = sqlite3_column_int64(q, 0);
            break;
        }
        cor_redact_span_t sp = { (size_t) sqlite3_column_int64(q, 1),
                                 (size_t) sqlite3_column_int64(q, 2), exemptions[ex].code };
        g_array_append_val(spans, sp);
    }
    sqlite3_reset(q);
    if (stale || unknown) {
        g_array_free(spans, TRUE);
        *err = stale
            ? g_strdup_printf("redaction %" G_GINT64_FORMAT " was made on another rendering of "
                              "message %" G_GINT64_FORMAT "'s text (its SHA-256 differs): "
                              "reject it and propose or mark the span again", stale, msg)
            : g_strdup_printf("redaction %" G_GINT64_FORMAT " has an unknown exemption", unknown);
        return COR_ERR_INVALID;
    }
    if (rc != SQLITE_DONE) {
        g_array_free(spans, TRUE);
        return store_fail(st, rc, "cannot read redactions", err);
    }
    *out = spans;
    return COR_OK;
}

cor_status_t
cor_redact_message(cor_store_t *st, int64_t case_id, int64_t msg, const char *text,
                   const char *text_sha256, GString *txt, GString *html, int64_t *count,
                   char **err)
{
    *count = 0;
    g_autoptr(GArray) spans = NULL;
    cor_status_t s = cor_redact_accepted(st, case_id, msg, text_sha256, &spans, err);
    if (s != COR_OK)
        return s;
    size_t len = strlen(text);
    g_autofree char *aerr = NULL;
    s = cor_redact_apply(text, len, (const cor_redact_span_t *) (void *) spans->data, spans->len,
                         txt, html, &aerr);
    if (s != COR_OK) {
        *err = g_strdup_printf("message %" G_GINT64_FORMAT ": %s", msg, aerr);
        return s;
    }
    *count = spans->len;
    return COR_OK;
}
