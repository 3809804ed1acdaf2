/* filters/autoreply.c — auto-replies, bounces and mail commands (see
 * autoreply.h).
 *
 * Design notes
 * ------------
 * This runs at intake on every delivery, so it is plain scanning: one pass
 * over the header fields (each name compared with a short table), one
 * folded copy of the subject, then prefix and substring tests on that copy.
 * No regular expressions; the allocations are the folded subject (and a
 * folded display name for the bounce test) and the `why` returned.  About
 * 7 us for the three tests on one message (the linux-mips test measures it).
 *
 * The subject is folded once for all tests: Unicode NFC and case folding
 * (so "RÉPONSE AUTOMATIQUE" and a decomposed "é" both match), runs of white
 * space (including no-break and other Unicode spaces) made one space and
 * trimmed, and curly apostrophes made straight (Outlook writes "o’r").  A
 * pure-ASCII subject — nearly all of them — takes a byte loop instead of
 * GLib's normaliser.
 *
 * Where the header is silent, the choices made here:
 *   - a subject sign must be at the very start (or a [tag]/(tag) at the
 *     end): "Re: Automatic reply: ..." is a person answering an auto-reply
 *     by hand and is not one itself;
 *   - a NULL env_from means "not known" (not the null sender);
 *   - X-Auto-Response-Suppress counts only when it names OOF or AutoReply
 *     literally ("All" is what notification and ticketing systems put on
 *     all their mail);
 *   - a message that is both a report and an auto-reply (Postfix and
 *     sendmail write Auto-Submitted on their bounces) is both: each
 *     function answers for its own signs, the chain decides the order;
 *   - "help" as a subject must stand bare; the other commands allow
 *     "please", "me" or an address and trailing '.'/'!' (see
 *     command_line);
 *   - a failure subject must *begin* with the MTA's wording: a person at a
 *     postmaster@ address writing "Re: mail delivery failed for some staff"
 *     is a post, not a bounce.
 */
#include "filters/autoreply.h"

#include <string.h>

/* ---- small text helpers ------------------------------------------------- */

static bool
is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s >= 0x80)
            return false;
    return true;
}

/* The Unicode white space a subject may carry between words. */
static bool
is_uspace(gunichar c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v' ||
           c == 0x00A0 || (c >= 0x2000 && c <= 0x200B) || c == 0x202F || c == 0x205F ||
           c == 0x3000;
}

/* Appends `c` to `out` folded for matching: one space for a run of white
 * space (none at the start), straight apostrophes. */
static void
fold_append(GString *out, gunichar c, bool *space)
{
    if (is_uspace(c)) {
        *space = out->len > 0;
        return;
    }
    if (*space)
        g_string_append_c(out, ' ');
    *space = false;
    if (c == 0x2018 || c == 0x2019 || c == 0x02BC)
        c = '\'';
    g_string_append_unichar(out, c);
}

/* `s` folded for matching (see the design notes) (transfer full). */
static char *
fold(const char *s)
{
    GString *out = g_string_sized_new(strlen(s) + 1);
    bool space = false;
    if (is_ascii(s)) {
        for (const char *p = s; *p; p++)
            fold_append(out, (gunichar) g_ascii_tolower(*p), &space);
        return g_string_free(out, FALSE);
    }
    char *nfc = g_utf8_normalize(s, -1, G_NORMALIZE_NFC);
    char *cf = g_utf8_casefold(nfc ? nfc : s, -1);
    for (const char *p = cf; *p; p = g_utf8_next_char(p))
        fold_append(out, g_utf8_get_char(p), &space);
    g_free(cf);
    g_free(nfc);
    return g_string_free(out, FALSE);
}

/* The first token of a header value, up to white space, ';', ',' or a
 * comment: "auto-generated (failure)" -> "auto-generated".  Returns its
 * length; *tok points into `v`. */
static size_t
first_token(const char *v, const char **tok)
{
    while (*v == ' ' || *v == '\t')
        v++;
    *tok = v;
    return strcspn(v, " \t;,(");
}

static bool
token_is(const char *tok, size_t n, const char *word)
{
    return strlen(word) == n && g_ascii_strncasecmp(tok, word, n) == 0;
}

/* Does `v` contain `needle` ASCII case-insensitively? */
static bool
contains_ci(const char *v, const char *needle)
{
    size_t n = strlen(needle);
    for (; *v; v++)
        if (g_ascii_tolower(*v) == g_ascii_tolower(*needle) && g_ascii_strncasecmp(v, needle, n) == 0)
            return true;
    return false;
}

/* Is the byte before `p` (in `s`) the end of a word?  Letters, digits and
 * any non-ASCII byte continue a word ("moon holiday" holds no "on holiday"). */
static bool
word_start(const char *s, const char *p)
{
    if (p == s)
        return true;
    unsigned char c = (unsigned char) p[-1];
    return !(g_ascii_isalnum(c) || c >= 0x80);
}

/* Does folded `s` contain `phrase` starting at a word start? */
static bool
has_phrase(const char *s, const char *phrase)
{
    for (const char *p = s; (p = strstr(p, phrase)) != NULL; p++)
        if (word_start(s, p))
            return true;
    return false;
}

/* The local part of an address, lowercase compared: does `addr` (with or
 * without a domain) have one of `locals`? */
static bool
local_part_in(const char *addr, const char *const *locals, size_t n)
{
    if (!addr || !*addr)
        return false;
    const char *at = strrchr(addr, '@');
    size_t len = at ? (size_t) (at - addr) : strlen(addr);
    for (size_t i = 0; i < n; i++)
        if (strlen(locals[i]) == len && g_ascii_strncasecmp(addr, locals[i], len) == 0)
            return true;
    return false;
}

/* ---- auto-reply signs ------------------------------------------------------ */

/* Subject prefixes auto-responders write, folded, and how they are shown in
 * `why`.  Each must be followed by ':' (spaces allowed before it: French
 * puts one there) or be the whole of a [tag] / (tag). */
typedef struct phrase {
    const char *folded;
    const char *shown;
} phrase_t;

static const phrase_t auto_prefixes[] = {
    { "automatic reply", "Automatic reply" },
    { "auto-reply", "Auto-Reply" },
    { "autoreply", "AutoReply" },
    { "auto reply", "Auto Reply" },
    { "out of office", "Out of Office" },
    { "out of office autoreply", "Out of Office AutoReply" },
    { "out of office auto-reply", "Out of Office Auto-Reply" },
    { "auto", "AUTO" },                                       /* Lotus Notes */
    { "ateb awtomatig", "Ateb awtomatig" },                   /* Welsh */
    { "ymateb awtomatig", "Ymateb awtomatig" },
    { "allan o'r swyddfa", "Allan o'r swyddfa" },
    { "automatische antwort", "Automatische Antwort" },       /* German */
    { "abwesenheitsnotiz", "Abwesenheitsnotiz" },
    { "réponse automatique", "Réponse automatique" },         /* French */
    { "reponse automatique", "Reponse automatique" },
    { "automatisch antwoord", "Automatisch antwoord" },       /* Dutch */
    { "respuesta automática", "Respuesta automática" },       /* Spanish */
    { "respuesta automatica", "Respuesta automatica" },
    { "risposta automatica", "Risposta automatica" },         /* Italian */
    { "resposta automática", "Resposta automática" },         /* Portuguese */
    { "resposta automatica", "Resposta automatica" },
    { "automatyczna odpowiedź", "Automatyczna odpowiedź" },   /* Polish */
    { "automatyczna odpowiedz", "Automatyczna odpowiedz" },
    { "autosvar", "Autosvar" },                               /* Swedish, Danish, Norwegian */
    { "automaattinen vastaus", "Automaattinen vastaus" },     /* Finnish */
};

/* Subject words that suggest an auto-reply but also head ordinary posts
 * ("Out of office cover arrangements"): signs only with a strengthener. */
static const char *const weak_phrases[] = {
    "out of office", "out of the office", "on annual leave", "on holiday",
    "away from my desk", "away from my mail", "away from my email", "away from my e-mail",
    "vacation", "autoresponder", "abwesend", "absence", "allan o'r swyddfa", "ar wyliau",
};

/* Does `s` (folded) begin with `phrase` followed by optional spaces and
 * ':'? */
static bool
prefix_colon(const char *s, const char *phrase)
{
    size_t n = strlen(phrase);
    if (strncmp(s, phrase, n) != 0)
        return false;
    s += n;
    while (*s == ' ')
        s++;
    return *s == ':';
}

/* Is the text of a tag, [inner] or (inner), exactly `phrase` (spaces and one
 * ':' allowed at its end)? */
static bool
tag_is(const char *inner, size_t len, const char *phrase)
{
    while (len > 0 && inner[0] == ' ')
        inner++, len--;
    while (len > 0 && (inner[len - 1] == ' ' || inner[len - 1] == ':'))
        len--;
    return len == strlen(phrase) && memcmp(inner, phrase, len) == 0;
}

/* The auto-reply phrase that the folded subject begins with or is tagged
 * with, or NULL; *tagged is the tag's opening bracket, or 0 for a prefix. */
static const phrase_t *
subject_prefix(const char *s, char *tagged)
{
    const char *start_in = NULL, *end_in = NULL;
    size_t start_len = 0, end_len = 0;
    size_t len = strlen(s);
    if (s[0] == '[' || s[0] == '(') {
        const char *close = strchr(s + 1, s[0] == '[' ? ']' : ')');
        if (close) {
            start_in = s + 1;
            start_len = (size_t) (close - start_in);
        }
    }
    if (len > 1 && (s[len - 1] == ']' || s[len - 1] == ')')) {
        char open = s[len - 1] == ']' ? '[' : '(';
        const char *o = s + len - 1;
        while (o > s && *o != open)
            o--;
        if (*o == open) {
            end_in = o + 1;
            end_len = (size_t) (s + len - 1 - end_in);
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(auto_prefixes); i++) {
        const char *ph = auto_prefixes[i].folded;
        if (prefix_colon(s, ph)) {
            *tagged = 0;
            return &auto_prefixes[i];
        }
        if (start_in && tag_is(start_in, start_len, ph)) {
            *tagged = s[0];
            return &auto_prefixes[i];
        }
        if (end_in && tag_is(end_in, end_len, ph)) {
            *tagged = end_in[-1];
            return &auto_prefixes[i];
        }
    }
    return NULL;
}

/* What the header fields say about auto-replies, gathered in one pass.
 * Pointers are into the headers (transfer none). */
typedef struct auto_fields {
    const char *auto_submitted;   /* first token of a value that is not "no" */
    size_t auto_submitted_len;
    const char *x_autoreply;      /* the field's name (X-Autoreply, ...) */
    bool precedence_auto_reply;
    const char *strengthener;     /* "Precedence: bulk" ... (static) */
    const char *exchange;         /* an Exchange auto-reply field's name */
    const char *oof_class;        /* a message class value naming OOF/Rules */
    const char *challenge;        /* a challenge-response field's name */
    bool list_headers;            /* List-Id, List-Post or List-Unsubscribe present */
} auto_fields_t;

/* Fields whose mere presence marks a message made by an Exchange rule or
 * auto-reply. */
static const char *const exchange_fields[] = {
    "X-MS-Exchange-Inbox-Rules-Loop",
    "X-MS-Exchange-Generated-Message-Source",
    "X-MS-Exchange-Organization-AutoReply",
};

/* Challenge-response systems ("prove you are human before I read this");
 * a trailing '*' is a name prefix. */
static const char *const challenge_fields[] = {
    "X-Bluebottle-Request",
    "X-Boxbe-*",
    "X-ChoiceMail-Registration-Request",
    "X-Boxtrapper",                          /* cPanel BoxTrapper */
};

static bool
name_matches(const char *name, const char *pattern)
{
    size_t n = strlen(pattern);
    if (pattern[n - 1] == '*')
        return g_ascii_strncasecmp(name, pattern, n - 1) == 0;
    return g_ascii_strcasecmp(name, pattern) == 0;
}

static bool
name_in(const char *name, const char *const *names, size_t n, const char **which)
{
    for (size_t i = 0; i < n; i++)
        if (name_matches(name, names[i])) {
            *which = name;
            return true;
        }
    return false;
}

static void
scan_fields(const cor_headers_t *h, auto_fields_t *f)
{
    memset(f, 0, sizeof *f);
    guint n = cor_headers_size(h);
    for (guint i = 0; i < n; i++) {
        const char *name = cor_headers_name(h, i);
        const char *v = cor_headers_value(h, i);
        const char *tok;
        size_t tn;
        /* a first-letter test keeps most fields (Received, DKIM-Signature,
         * To, ...) out of the comparisons */
        switch (g_ascii_tolower(name[0])) {
        case 'a':
            if (g_ascii_strcasecmp(name, "Auto-Submitted") == 0 && !f->auto_submitted) {
                tn = first_token(v, &tok);
                if (!token_is(tok, tn, "no")) {
                    f->auto_submitted = tok;
                    f->auto_submitted_len = tn;
                }
            }
            break;
        case 'p':
            if (g_ascii_strcasecmp(name, "Precedence") == 0) {
                tn = first_token(v, &tok);
                if (token_is(tok, tn, "auto_reply") || token_is(tok, tn, "auto-reply"))
                    f->precedence_auto_reply = true;
                else if (token_is(tok, tn, "bulk"))
                    f->strengthener = "Precedence: bulk";
                else if (token_is(tok, tn, "junk"))
                    f->strengthener = "Precedence: junk";
                else if (token_is(tok, tn, "list"))
                    f->strengthener = "Precedence: list";
            }
            break;
        case 'l':
            if (g_ascii_strcasecmp(name, "List-Id") == 0 ||
                g_ascii_strcasecmp(name, "List-Post") == 0 ||
                g_ascii_strcasecmp(name, "List-Unsubscribe") == 0)
                f->list_headers = true;
            break;
        case 'c':
            if (g_ascii_strcasecmp(name, "Content-Class") == 0 &&
                (contains_ci(v, "ooftemplate") || contains_ci(v, "rules")))
                f->oof_class = v;
            break;
        case 'x':
            if (g_ascii_strcasecmp(name, "X-Autoreply") == 0 ||
                g_ascii_strcasecmp(name, "X-Autorespond") == 0 ||
                g_ascii_strcasecmp(name, "X-Autoresponder") == 0) {
                tn = first_token(v, &tok);
                if (!token_is(tok, tn, "no") && !f->x_autoreply)
                    f->x_autoreply = name;
            } else if (g_ascii_strncasecmp(name, "X-MS-Exchange-", 14) == 0) {
                if (!f->exchange)
                    name_in(name, exchange_fields, G_N_ELEMENTS(exchange_fields), &f->exchange);
                if ((g_ascii_strcasecmp(name, "X-MS-Exchange-MessageClass") == 0 ||
                     g_ascii_strcasecmp(name, "X-MS-Exchange-Organization-MessageClass") == 0) &&
                    (contains_ci(v, "ooftemplate") || contains_ci(v, "rules")))
                    f->oof_class = v;
            } else if (g_ascii_strcasecmp(name, "X-Delivery-Agent") == 0) {
                if (g_ascii_strncasecmp(v, "TMDA", 4) == 0 && !f->challenge)
                    f->challenge = "X-Delivery-Agent: TMDA";
            } else if (!f->challenge) {
                name_in(name, challenge_fields, G_N_ELEMENTS(challenge_fields), &f->challenge);
            }
            break;
        default:
            break;
        }
    }
}

/* The auto-reply sign, strongest first, or NULL.  `want_why` false skips
 * building the sentence (the bounce test only needs yes or no). */
static char *
autoreply_sign(const cor_message_t *msg, const cor_headers_t *h, const char *env_from,
               bool want_why, bool *found)
{
    auto_fields_t f;
    scan_fields(h, &f);
    *found = true;
    if (f.auto_submitted)
        return want_why ? g_strdup_printf("Auto-Submitted: %.*s", (int) f.auto_submitted_len,
                                          f.auto_submitted) : NULL;
    if (f.x_autoreply)
        return want_why ? g_strdup_printf("%s header", f.x_autoreply) : NULL;
    if (f.precedence_auto_reply)
        return want_why ? g_strdup("Precedence: auto_reply") : NULL;
    if (f.exchange)
        return want_why ? g_strdup_printf("%s header", f.exchange) : NULL;
    if (f.oof_class)
        return want_why ? g_strdup_printf("out-of-office message class %s", f.oof_class) : NULL;
    if (f.challenge)
        return want_why ? g_strdup_printf("challenge-response request (%s)", f.challenge) : NULL;

    g_autofree char *s = fold(msg->subject ? msg->subject : "");
    char tagged = 0;
    const phrase_t *ph = subject_prefix(s, &tagged);
    if (ph) {
        if (!want_why)
            return NULL;
        if (tagged)
            return g_strdup_printf("subject tagged \"%c%s%c\"", tagged, ph->shown,
                                   tagged == '[' ? ']' : ')');
        return g_strdup_printf("subject begins \"%s:\"", ph->shown);
    }

    bool null_sender = env_from && !*env_from;
    /* the null sender with Precedence: bulk or junk is how vacation(1) and
     * many small autoresponders answer ("Thank you for your e-mail") */
    if (null_sender && f.strengthener && strcmp(f.strengthener, "Precedence: list") != 0)
        return want_why ? g_strdup_printf("a null envelope sender with %s", f.strengthener) : NULL;

    /* Weak signs, each needing a strengthener.  A Precedence header from a
     * mailing list (one that also carries List-* fields) is no strengthener:
     * every list post has it, and an HR bulletin "Absence reporting
     * changes" must not vanish.  X-Auto-Response-Suppress is not a sign at
     * all: git-send-email and Office 365 put it on ordinary posts (two of
     * two in the linux-mips archive), and so do list servers. */
    const char *strength = f.list_headers ? NULL : f.strengthener;
    if (!strength && null_sender)
        strength = "a null envelope sender";
    if (strength) {
        for (size_t i = 0; i < G_N_ELEMENTS(weak_phrases); i++)
            if (has_phrase(s, weak_phrases[i]))
                return want_why ? g_strdup_printf("\"%s\" in the subject with %s", weak_phrases[i],
                                                  strength) : NULL;
    }
    *found = false;
    return NULL;
}

char *
cor_autoreply_detect(const cor_message_t *msg, const cor_headers_t *h, const char *env_from)
{
    bool found;
    return autoreply_sign(msg, h, env_from, true, &found);
}

/* ---- bounces ------------------------------------------------------------- */

/* Local parts MTAs send delivery reports from. */
static const char *const daemon_locals[] = {
    "mailer-daemon", "postmaster", "mail-daemon", "mailer_daemon", "mdaemon",
};

/* Display names of the same (Postfix, sendmail, Exim, Outlook/Exchange
 * Online), compared whole, folded. */
static const char *const daemon_names[] = {
    "mail delivery system", "mail delivery subsystem", "mail delivery service",
    "microsoft outlook", "microsoft exchange", "mailer-daemon", "postmaster",
};

/* How delivery reports begin their subject, folded.  A prefix, not a
 * substring: see the design notes. */
static const char *const failure_subjects[] = {
    "undeliverable",                      /* Exchange: "Undeliverable: x", "Undeliverable mail" */
    "undelivered mail",                   /* Postfix */
    "delivery status notification",       /* Exchange, IIS */
    "returned mail",                      /* sendmail */
    "mail delivery failed",               /* Exim */
    "failure notice",                     /* qmail */
    "delivery failure",                   /* Domino: "DELIVERY FAILURE: ..." */
    "message status - undeliverable",     /* GroupWise */
    "delivery notification",              /* Domino, Lotus */
    "mail delivery problem",              /* AOL */
    "non delivery report", "non-delivery report", "nondeliverable mail",
    "delivery has failed", "delivery failed", "message delivery failure",
    "delayed mail", "delivery delayed", "warning: could not send message",
    "unzustellbar",                       /* German Exchange */
    "non remis", "non distribuable",      /* French */
    "onbestelbaar",                       /* Dutch */
    "no se puede entregar",               /* Spanish */
    "non recapitabile",                   /* Italian */
    "olevererbart", "kan ikke leveres",   /* Swedish, Danish/Norwegian */
};

static bool
daemon_sender(const cor_message_t *msg, const char *env_from, const char **who)
{
    if (local_part_in(env_from, daemon_locals, G_N_ELEMENTS(daemon_locals))) {
        *who = env_from;
        return true;
    }
    if (local_part_in(msg->from_addr, daemon_locals, G_N_ELEMENTS(daemon_locals))) {
        *who = msg->from_addr;
        return true;
    }
    /* Exchange Online's system mailbox: MicrosoftExchange329e71ec...@ */
    if (msg->from_addr && g_ascii_strncasecmp(msg->from_addr, "microsoftexchange", 17) == 0) {
        *who = msg->from_addr;
        return true;
    }
    if (msg->from_name && *msg->from_name) {
        g_autofree char *name = fold(msg->from_name);
        for (size_t i = 0; i < G_N_ELEMENTS(daemon_names); i++)
            if (strcmp(name, daemon_names[i]) == 0) {
                *who = msg->from_name;
                return true;
            }
    }
    return false;
}

/* The report's kind for `why`, from its report-type. */
static const char *
report_kind(const char *type)
{
    if (!type)
        return "a report";
    if (g_ascii_strcasecmp(type, "delivery-status") == 0)
        return "a delivery report";
    if (g_ascii_strcasecmp(type, "disposition-notification") == 0)
        return "a read receipt";
    if (g_ascii_strcasecmp(type, "feedback-report") == 0)
        return "an abuse report";
    return "a report";
}

char *
cor_bounce_detect(const cor_message_t *msg, const cor_headers_t *h, const char *env_from)
{
    /* 1. a report: multipart/report, whatever its report-type */
    const char *ct = cor_headers_get(h, "Content-Type");
    if (ct) {
        const char *p = ct;
        while (*p == ' ' || *p == '\t')
            p++;
        if (g_ascii_strncasecmp(p, "multipart/report", 16) == 0 &&
            (p[16] == '\0' || p[16] == ';' || p[16] == ' ' || p[16] == '\t')) {
            g_autofree char *type = cor_headers_param(ct, "report-type");
            if (type && *type)
                return g_strdup_printf("%s (multipart/report; report-type=%s)", report_kind(type), type);
            return g_strdup("a report (multipart/report)");
        }
    }

    /* 2. a daemon's address or name with a failure subject */
    const char *who = NULL;
    if (daemon_sender(msg, env_from, &who)) {
        g_autofree char *s = fold(msg->subject ? msg->subject : "");
        for (size_t i = 0; i < G_N_ELEMENTS(failure_subjects); i++)
            if (g_str_has_prefix(s, failure_subjects[i]))
                return g_strdup_printf("sender %s and subject \"%s\"", who, msg->subject);
    }

    /* 3. the null sender, unless an auto-reply (the auto-reply filter
     * discards those; a bounce would be routed to bounce processing) */
    if (env_from && !*env_from) {
        bool autoreply;
        autoreply_sign(msg, h, env_from, false, &autoreply);
        if (!autoreply)
            return g_strdup("null envelope sender");
    }
    return NULL;
}

/* ---- mail commands ------------------------------------------------------- */

/* Is `w` (n bytes) an address-like argument ("me", "a@b.example")? */
static bool
command_arg(const char *w, size_t n)
{
    if (n == 2 && memcmp(w, "me", 2) == 0)
        return true;
    const char *at = memchr(w, '@', n);
    return at && at > w && at < w + n - 1;
}

/* Is folded line `s` (n bytes) a whole mail command?  The forms accepted:
 *   help
 *   [please] KEYWORD [me|ADDRESS] [please]
 * with KEYWORD one of unsubscribe, subscribe, leave, join, remove; "remove"
 * needs its "me" or address ("Remove" alone is too vague a subject).
 * "help" must be alone and bare: "help!" and "help please" head pleas for
 * help on lists (linux-mips has several), not requests for the command
 * list.  Elsewhere trailing '.' and '!' are ignored ("Unsubscribe!!").
 * Returns the keyword (static) or NULL. */
static const char *
command_line(const char *s, size_t n)
{
    while (n > 0 && s[n - 1] == ' ')
        n--;
    while (n > 0 && *s == ' ')
        s++, n--;
    if (token_is(s, n, "help"))
        return "help";
    while (n > 0 && (s[n - 1] == '.' || s[n - 1] == '!' || s[n - 1] == ' '))
        n--;
    const char *w[5];
    size_t wl[5];
    size_t nw = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && s[i] == ' ')
            i++;
        if (i >= n)
            break;
        if (nw == G_N_ELEMENTS(w))
            return NULL;                  /* a sentence, not a command */
        size_t j = i;
        while (j < n && s[j] != ' ')
            j++;
        w[nw] = s + i;
        wl[nw++] = j - i;
        i = j;
    }
    size_t k = 0;
    if (k < nw && token_is(w[k], wl[k], "please"))
        k++;
    if (k >= nw)
        return NULL;
    static const char *const keywords[] = { "unsubscribe", "subscribe", "leave", "join", "remove" };
    const char *kw = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(keywords); i++)
        if (token_is(w[k], wl[k], keywords[i]))
            kw = keywords[i];
    if (!kw)
        return NULL;
    k++;
    bool arg = false;
    if (k < nw && command_arg(w[k], wl[k])) {
        arg = true;
        k++;
    }
    if (k < nw && token_is(w[k], wl[k], "please"))
        k++;
    if (k != nw)
        return NULL;
    if (strcmp(kw, "remove") == 0 && !arg)
        return NULL;
    return kw;
}

/* At most this many non-blank lines (before a "-- " signature) make a
 * short body; Mailman looks at its first five. */
#define SHORT_BODY_LINES 5

/* The first line of a short body when that line is a command, else NULL. */
static const char *
body_command(const cor_message_t *msg)
{
    const char *body = msg->body_head;
    if (!body || !*body)
        return NULL;
    if (msg->body_cut)
        return NULL;                      /* body_head is part of it: not short */
    const char *first = NULL;
    size_t first_len = 0;
    int lines = 0;
    for (const char *p = body; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t) (nl - p) : strlen(p);
        if (len >= 3 && strncmp(p, "-- ", 3) == 0 && (len == 3 || p[3] == '\r'))
            break;                        /* the signature */
        bool blank = true;
        for (size_t i = 0; i < len; i++)
            if (!g_ascii_isspace(p[i]))
                blank = false;
        if (!blank) {
            if (!first) {
                first = p;
                first_len = len;
            }
            if (++lines > SHORT_BODY_LINES)
                return NULL;
        }
        p = nl ? nl + 1 : p + len;
    }
    if (!first)
        return NULL;
    g_autofree char *line = g_strndup(first, first_len);
    g_autofree char *f = fold(line);
    return command_line(f, strlen(f));
}

/* A short body: at most SHORT_BODY_LINES non-blank lines before a "-- "
 * signature, and not cut (body_head holds all of it). */
static bool
short_body(const cor_message_t *msg)
{
    const char *body = msg->body_head;
    if (msg->body_cut)
        return false;
    if (!body || !*body)
        return true;
    int lines = 0;
    for (const char *p = body; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t) (nl - p) : strlen(p);
        if (len >= 3 && strncmp(p, "-- ", 3) == 0 && (len == 3 || p[3] == '\r'))
            break;
        for (size_t i = 0; i < len; i++)
            if (!g_ascii_isspace(p[i])) {
                lines++;
                break;
            }
        if (lines > SHORT_BODY_LINES)
            return false;
        p = nl ? nl + 1 : p + len;
    }
    return true;
}

char *
cor_command_detect(const cor_message_t *msg, const cor_headers_t *h)
{
    g_autofree char *s = fold(msg->subject ? msg->subject : "");
    const char *kw = command_line(s, strlen(s));
    /* "Leave", "Join" and "Help" are also ordinary subjects (in a council
     * "Leave" is usually annual leave): commands only with a short body */
    if (kw && (strcmp(kw, "help") == 0 || strcmp(kw, "leave") == 0 || strcmp(kw, "join") == 0) &&
        !short_body(msg))
        kw = NULL;
    if (kw)
        return g_strdup_printf("subject is the command \"%s\"", kw);
    if (*s)
        return NULL;
    kw = body_command(msg);
    if (kw)
        return g_strdup_printf("empty subject and the body's first line is the command \"%s\"", kw);
    return NULL;
}
