/* core/search/query.cc — the prefix table and the query language parser.
 *
 * The prefix table below is the single source of truth for field names,
 * term prefixes and how each field is indexed; its meaning is described in
 * prose in the design notes at the top of search.cc.
 *
 * The parser is a tokenizer plus a recursive descent over this grammar
 * (AND binds tighter than OR; "a NOT b" is "a AND NOT b"):
 *
 *   query   := or EOF
 *   or      := and { OR and }
 *   and     := unary { [AND] unary }
 *   unary   := NOT unary | '-' unary | '+' unary | primary
 *   primary := '(' or ')' | prefix '(' or ')' | word | "phrase"
 *            | prefix word | prefix "phrase"
 *
 * It builds the Xapian::Query directly.  Xapian::QueryParser is used only
 * for the leaf of one free-text word or phrase under one term prefix, so
 * that a query word is split into terms exactly as Xapian::TermGenerator
 * split the indexed text ("ralf@linux-mips.org" becomes the phrase
 * ralf linux mips org, as in notmuch).
 *
 * Invariants:
 *  1. Every malformed query throws query_error whose text starts with
 *     "position N: " (N counts characters from 1) or is "empty query".
 *  2. `word:` is a prefix only at the start of a term and only when it is
 *     [a-z]+ followed by ':' and not by "//" (so http://x stays a word); an
 *     unknown one is an error, never silently a word.
 *  3. A word that yields no term (punctuation only) is left out of the
 *     query, as Xapian::QueryParser does.
 */
#include "core/search/query_internal.h"

#include <cstring>
#include <vector>

#include <glib.h>

namespace cor_search {

/* ---- the prefix table (see the design notes in search.cc) ---- */

const field FIELDS[] = {
    /* bare words and phrases: subject and every text part */
    { { nullptr }, kind::FREE, { "", "XSUBJECT", "XNEW", "XQUOTED", nullptr },
      { source::NONE } },
    { { "body", "b", nullptr }, kind::FREE, { "", "XNEW", "XQUOTED", nullptr },
      { source::SIGNATURE, source::ATTACHMENT_TEXT, source::NONE } },
    { { "subject", "s", nullptr }, kind::FREE, { "XSUBJECT", nullptr },
      { source::SUBJECT, source::NONE } },
    { { "from", "f", nullptr }, kind::FREE, { "XFROM", nullptr },
      { source::FROM, source::NONE } },
    { { "to", "t", nullptr }, kind::FREE, { "XTO", "XCC", nullptr },
      { source::TO, source::NONE } },
    { { "cc", "c", nullptr }, kind::FREE, { "XCC", nullptr },
      { source::CC, source::NONE } },
    { { "nq", nullptr }, kind::FREE, { "XNEW", nullptr },
      { source::NEW_TEXT, source::NONE } },
    { { "q", nullptr }, kind::FREE, { "XQUOTED", nullptr },
      { source::QUOTED_TEXT, source::NONE } },
    { { "attachment", "n", nullptr }, kind::FREE, { "XATTACHMENT", nullptr },
      { source::ATTACHMENT_NAMES, source::NONE } },
    { { "has", nullptr }, kind::BOOLEAN, { "XHAS", nullptr },
      { source::HAS, source::NONE } },
    { { "group", "g", nullptr }, kind::BOOLEAN, { "XGROUP", nullptr },
      { source::GROUPS, source::NONE } },
    { { "id", "m", "mid" }, kind::BOOLEAN, { "Q", nullptr },
      { source::MESSAGE_ID, source::NONE } },
    { { "thread", nullptr }, kind::BOOLEAN, { "G", nullptr },
      { source::THREAD_IDS, source::NONE } },
    { { "date", "d", nullptr }, kind::DATE, { nullptr },
      { source::NONE } },
};
const size_t N_FIELDS = sizeof FIELDS / sizeof FIELDS[0];

std::string
boolean_term(const char *prefix, const std::string &value)
{
    std::string term(prefix);
    if (term.size() + value.size() <= 240) {
        term += value;
        return term;
    }
    gchar *hex = g_compute_checksum_for_data(
        G_CHECKSUM_SHA1, reinterpret_cast<const guchar *>(value.data()), value.size());
    term += "#sha1:";
    term += hex;
    g_free(hex);
    return term;
}

namespace {

const field *
default_field()
{
    return &FIELDS[0];
}

const field *
find_field(const std::string &name)
{
    for (size_t i = 0; i < N_FIELDS; i++)
        for (const char *const *n = FIELDS[i].names; n < FIELDS[i].names + 3 && *n; n++)
            if (name == *n)
                return &FIELDS[i];
    return nullptr;
}

/* ---- tokens ---- */

enum class tok { END, LPAREN, RPAREN, AND, OR, NOT, MINUS, PLUS, WORD, PHRASE, FIELD_GROUP };

struct token {
    tok t;
    size_t pos;               /* byte offset of the token (of its prefix, if any) */
    std::string text;         /* WORD/PHRASE value; operator as written */
    const field *f;           /* the prefix's field, or NULL */
    size_t value_pos;         /* byte offset of the value (WORD/PHRASE) */
};

bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool
ends_word(char c)
{
    return is_space(c) || c == '(' || c == ')' || c == '"';
}

class parser {
public:
    parser(const std::string &text, time_t now, const Xapian::Database *db)
        : s_(text), now_(now), db_(db)
    {
    }

    Xapian::Query run();

private:
    struct node {
        Xapian::Query q;
        bool empty = true;   /* no term at all (punctuation only) */
        bool neg = false;    /* stands for "everything except q" */
    };

    const std::string &s_;
    time_t now_;
    const Xapian::Database *db_;
    std::vector<token> toks_;
    size_t i_ = 0;
    Xapian::QueryParser qp_;
    bool qp_ready_ = false;

    [[noreturn]] void fail(size_t byte_pos, const std::string &msg) const;
    size_t char_pos(size_t byte_pos) const;

    void lex();
    size_t lex_quote(size_t at, std::string *out) const;

    const token &cur() const { return toks_[i_]; }
    static bool starts_term(const token &t);

    node parse_or(const field *ctx);
    node parse_and(const field *ctx);
    node parse_unary(const field *ctx);
    node parse_primary(const field *ctx);

    node leaf(const token &t, const field *f);
    node free_text(const token &t, const field *f);
    node boolean(const token &t, const field *f);
    node date(const token &t);
    bool date_spec(const std::string &v, bool single, time_t *lo, time_t *hi) const;

    static Xapian::Query materialise(const node &n);
    static node and_of(std::vector<node> &parts);
    static node or_of(std::vector<node> &parts);
};

size_t
parser::char_pos(size_t byte_pos) const
{
    size_t n = 1;
    for (size_t k = 0; k < byte_pos && k < s_.size(); k++)
        if ((static_cast<unsigned char>(s_[k]) & 0xC0) != 0x80)
            n++;
    if (byte_pos > s_.size())
        n++;
    return n;
}

void
parser::fail(size_t byte_pos, const std::string &msg) const
{
    throw query_error("position " + std::to_string(char_pos(byte_pos)) + ": " + msg);
}

/* Reads a quoted string starting at the '"' at `at`; returns the offset after
 * the closing quote. */
size_t
parser::lex_quote(size_t at, std::string *out) const
{
    size_t close = s_.find('"', at + 1);
    if (close == std::string::npos)
        fail(at, "unterminated quote");
    out->assign(s_, at + 1, close - at - 1);
    return close + 1;
}

void
parser::lex()
{
    size_t n = s_.size();
    size_t k = 0;
    for (;;) {
        while (k < n && is_space(s_[k]))
            k++;
        if (k >= n)
            break;
        char c = s_[k];
        token t{ tok::WORD, k, std::string(), nullptr, k };
        if (c == '(' || c == ')') {
            t.t = c == '(' ? tok::LPAREN : tok::RPAREN;
            t.text.assign(1, c);
            k++;
        } else if (c == '"') {
            t.t = tok::PHRASE;
            t.value_pos = k;
            k = lex_quote(k, &t.text);
        } else if ((c == '-' || c == '+') && k + 1 < n && !is_space(s_[k + 1])
                   && s_[k + 1] != ')') {
            t.t = c == '-' ? tok::MINUS : tok::PLUS;
            t.text.assign(1, c);
            k++;
        } else {
            /* a prefix: [a-z]+ ':' at the start of a term, not "scheme://" */
            size_t e = k;
            while (e < n && s_[e] >= 'a' && s_[e] <= 'z')
                e++;
            if (e > k && e < n && s_[e] == ':' && s_.compare(e + 1, 2, "//") != 0) {
                std::string name(s_, k, e - k);
                t.f = find_field(name);
                if (!t.f)
                    fail(k, "unknown prefix '" + name + ":'");
                size_t v = e + 1;
                if (v >= n || is_space(s_[v]) || s_[v] == ')')
                    fail(k, "'" + name + ":' needs a value");
                t.value_pos = v;
                if (s_[v] == '(') {
                    t.t = tok::FIELD_GROUP;
                    k = v;  /* the '(' is the next token */
                } else if (s_[v] == '"') {
                    t.t = tok::PHRASE;
                    k = lex_quote(v, &t.text);
                } else {
                    k = v;
                    while (k < n && !ends_word(s_[k]))
                        k++;
                    t.text.assign(s_, v, k - v);
                }
            } else {
                while (k < n && !ends_word(s_[k]))
                    k++;
                t.text.assign(s_, t.pos, k - t.pos);
                const std::string &w = t.text;
                if (w == "AND" || w == "and")
                    t.t = tok::AND;
                else if (w == "OR" || w == "or")
                    t.t = tok::OR;
                else if (w == "NOT" || w == "not")
                    t.t = tok::NOT;
            }
        }
        toks_.push_back(std::move(t));
    }
    toks_.push_back(token{ tok::END, n, std::string(), nullptr, n });
}

bool
parser::starts_term(const token &t)
{
    switch (t.t) {
    case tok::LPAREN: case tok::NOT: case tok::MINUS: case tok::PLUS:
    case tok::WORD: case tok::PHRASE: case tok::FIELD_GROUP:
        return true;
    default:
        return false;
    }
}

Xapian::Query
parser::materialise(const node &n)
{
    if (n.empty)
        return Xapian::Query::MatchNothing;
    if (n.neg)
        return Xapian::Query(Xapian::Query::OP_AND_NOT, Xapian::Query::MatchAll, n.q);
    return n.q;
}

parser::node
parser::and_of(std::vector<node> &parts)
{
    std::vector<Xapian::Query> pos, neg;
    for (node &p : parts) {
        if (p.empty)
            continue;
        (p.neg ? neg : pos).push_back(std::move(p.q));
    }
    node r;
    if (pos.empty() && neg.empty())
        return r;
    r.empty = false;
    Xapian::Query negq;
    if (!neg.empty())
        negq = neg.size() == 1 ? neg[0] : Xapian::Query(Xapian::Query::OP_OR, neg.begin(), neg.end());
    if (pos.empty()) {
        r.q = negq;
        r.neg = true;
        return r;
    }
    r.q = pos.size() == 1 ? pos[0] : Xapian::Query(Xapian::Query::OP_AND, pos.begin(), pos.end());
    if (!neg.empty())
        r.q = Xapian::Query(Xapian::Query::OP_AND_NOT, r.q, negq);
    return r;
}

parser::node
parser::or_of(std::vector<node> &parts)
{
    std::vector<Xapian::Query> qs;
    for (node &p : parts)
        if (!p.empty)
            qs.push_back(materialise(p));
    node r;
    if (qs.empty())
        return r;
    r.empty = false;
    r.q = qs.size() == 1 ? qs[0] : Xapian::Query(Xapian::Query::OP_OR, qs.begin(), qs.end());
    return r;
}

parser::node
parser::parse_or(const field *ctx)
{
    std::vector<node> parts;
    parts.push_back(parse_and(ctx));
    while (cur().t == tok::OR) {
        const token &op = cur();
        i_++;
        if (!starts_term(cur()))
            fail(op.pos, "'" + op.text + "' needs a term on each side");
        parts.push_back(parse_and(ctx));
    }
    return parts.size() == 1 ? parts[0] : or_of(parts);
}

parser::node
parser::parse_and(const field *ctx)
{
    const token &first = cur();
    if (!starts_term(first)) {
        if (first.t == tok::AND || first.t == tok::OR)
            fail(first.pos, "'" + first.text + "' needs a term on each side");
        if (first.t == tok::RPAREN)
            fail(first.pos, "unexpected ')'");
        fail(first.pos, "a term is missing");
    }
    std::vector<node> parts;
    parts.push_back(parse_unary(ctx));
    for (;;) {
        if (cur().t == tok::AND) {
            const token &op = cur();
            i_++;
            if (!starts_term(cur()))
                fail(op.pos, "'" + op.text + "' needs a term on each side");
            parts.push_back(parse_unary(ctx));
        } else if (starts_term(cur())) {
            parts.push_back(parse_unary(ctx));
        } else {
            break;
        }
    }
    return parts.size() == 1 ? parts[0] : and_of(parts);
}

parser::node
parser::parse_unary(const field *ctx)
{
    const token &t = cur();
    if (t.t == tok::NOT || t.t == tok::MINUS || t.t == tok::PLUS) {
        i_++;
        if (!starts_term(cur()))
            fail(t.pos, "'" + t.text + "' needs a term after it");
        node n = parse_unary(ctx);
        if (t.t != tok::PLUS && !n.empty)
            n.neg = !n.neg;
        return n;
    }
    return parse_primary(ctx);
}

parser::node
parser::parse_primary(const field *ctx)
{
    const token &t = cur();
    switch (t.t) {
    case tok::FIELD_GROUP:
        i_++;
        return parse_primary(t.f);  /* the '(' follows */
    case tok::LPAREN: {
        i_++;
        if (cur().t == tok::RPAREN)
            fail(t.pos, "empty parentheses");
        if (cur().t == tok::END)
            fail(cur().pos, "missing ')'");
        node n = parse_or(ctx);
        if (cur().t != tok::RPAREN)
            fail(cur().pos, "missing ')'");
        i_++;
        return n;
    }
    case tok::WORD:
    case tok::PHRASE:
        i_++;
        return leaf(t, t.f ? t.f : ctx);
    default:
        fail(t.pos, "a term is missing");
    }
}

parser::node
parser::leaf(const token &t, const field *f)
{
    if (t.t == tok::WORD && t.text == "*") {
        node n;
        n.empty = false;
        n.q = Xapian::Query::MatchAll;
        return n;
    }
    switch (f->k) {
    case kind::FREE:
        return free_text(t, f);
    case kind::BOOLEAN:
        return boolean(t, f);
    case kind::DATE:
        return date(t);
    }
    fail(t.pos, "a term is missing");
}

parser::node
parser::free_text(const token &t, const field *f)
{
    if (!qp_ready_) {
        qp_.set_stemmer(Xapian::Stem("english"));
        qp_.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
        if (db_)
            qp_.set_database(*db_);
        qp_ready_ = true;
    }
    std::string text;
    if (t.t == tok::PHRASE) {
        text.reserve(t.text.size() + 2);
        text += '"';
        text += t.text;
        text += '"';
    } else {
        text = t.text;
    }
    const unsigned flags = Xapian::QueryParser::FLAG_PHRASE | Xapian::QueryParser::FLAG_WILDCARD;
    std::vector<Xapian::Query> qs;
    try {
        for (const char *const *p = f->prefixes; *p; p++) {
            Xapian::Query q = qp_.parse_query(text, flags, *p);
            if (!q.empty())
                qs.push_back(std::move(q));
        }
    } catch (const Xapian::QueryParserError &e) {
        fail(t.value_pos, e.get_msg());
    }
    node n;
    if (qs.empty())
        return n;
    n.empty = false;
    n.q = qs.size() == 1 ? qs[0] : Xapian::Query(Xapian::Query::OP_OR, qs.begin(), qs.end());
    return n;
}

parser::node
parser::boolean(const token &t, const field *f)
{
    std::string v = t.text;
    const char *name = f->names[0];
    switch (f->sources[0]) {
    case source::MESSAGE_ID:
        if (v.size() >= 2 && v.front() == '<' && v.back() == '>')
            v = v.substr(1, v.size() - 2);
        break;
    case source::THREAD_IDS:
        if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
            fail(t.value_pos, "bad thread id '" + v + "'");
        break;
    case source::HAS:
        if (v != "attachment")
            fail(t.value_pos, "unknown value '" + v + "' for 'has:' (try has:attachment)");
        break;
    default:
        break;
    }
    if (v.empty())
        fail(t.pos, std::string("'") + name + ":' needs a value");
    node n;
    n.empty = false;
    /* a filter: no weight, so relevance comes from the free-text terms */
    n.q = Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT,
                        Xapian::Query(boolean_term(f->prefixes[0], v)), 0.0);
    return n;
}

/* ---- dates ---- */

bool
all_digits(const std::string &s, size_t from, size_t len)
{
    if (from + len > s.size())
        return false;
    for (size_t k = from; k < from + len; k++)
        if (s[k] < '0' || s[k] > '9')
            return false;
    return true;
}

int
days_in_month(int y, int m)
{
    static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

/* Local midnight at the start of y-m-d (month and day may be out of range:
 * mktime normalises them).  tm_isdst = -1 lets mktime pick GMT or BST. */
time_t
local_midnight(int y, int m, int d)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_isdst = -1;
    return mktime(&tm);
}

/* One date bound: [*lo, *hi] are the first and last second it covers.
 * Relative values (Nd Nw Nm Ny) cover the calendar day N units ago, or,
 * used alone (`single`), that day's start up to now. */
bool
parser::date_spec(const std::string &v, bool single, time_t *lo, time_t *hi) const
{
    size_t n = v.size();
    int y, m = 0, d = 0;
    if (n == 4 && all_digits(v, 0, 4)) {
        y = atoi(v.c_str());
        *lo = local_midnight(y, 1, 1);
        *hi = local_midnight(y + 1, 1, 1) - 1;
        return true;
    }
    if (n == 7 && all_digits(v, 0, 4) && v[4] == '-' && all_digits(v, 5, 2)) {
        y = atoi(v.substr(0, 4).c_str());
        m = atoi(v.substr(5, 2).c_str());
        if (m < 1 || m > 12)
            return false;
        *lo = local_midnight(y, m, 1);
        *hi = local_midnight(y, m + 1, 1) - 1;
        return true;
    }
    if (n == 10 && all_digits(v, 0, 4) && v[4] == '-' && all_digits(v, 5, 2)
        && v[7] == '-' && all_digits(v, 8, 2)) {
        y = atoi(v.substr(0, 4).c_str());
        m = atoi(v.substr(5, 2).c_str());
        d = atoi(v.substr(8, 2).c_str());
    } else if (n == 8 && all_digits(v, 0, 8)) {
        y = atoi(v.substr(0, 4).c_str());
        m = atoi(v.substr(4, 2).c_str());
        d = atoi(v.substr(6, 2).c_str());
    }
    if (m != 0) {
        if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
            return false;
        *lo = local_midnight(y, m, d);
        *hi = local_midnight(y, m, d + 1) - 1;
        return true;
    }

    /* relative to now, in the local calendar */
    long count;
    char unit;
    if (v == "today") {
        count = 0, unit = 'd', single = false;
    } else if (v == "yesterday") {
        count = 1, unit = 'd', single = false;
    } else if (n >= 2 && n <= 7 && all_digits(v, 0, n - 1)
               && strchr("dwmy", v[n - 1]) != nullptr) {
        count = atol(v.c_str());
        unit = v[n - 1];
    } else {
        return false;
    }
    struct tm now_tm;
    time_t now = now_;
    localtime_r(&now, &now_tm);
    y = now_tm.tm_year + 1900;
    m = now_tm.tm_mon + 1;
    d = now_tm.tm_mday;
    switch (unit) {
    case 'd': d -= static_cast<int>(count); break;
    case 'w': d -= 7 * static_cast<int>(count); break;
    case 'm': {
        long months = static_cast<long>(y) * 12 + (m - 1) - count;
        y = static_cast<int>(months / 12);
        m = static_cast<int>(months % 12) + 1;
        if (d > days_in_month(y, m))
            d = days_in_month(y, m);
        break;
    }
    case 'y':
        y -= static_cast<int>(count);
        if (d > days_in_month(y, m))
            d = days_in_month(y, m);
        break;
    }
    *lo = local_midnight(y, m, d);
    *hi = single ? now : local_midnight(y, m, d + 1) - 1;
    return true;
}

parser::node
parser::date(const token &t)
{
    const std::string &v = t.text;
    size_t dots = v.find("..");
    time_t lo = 0, hi = 0, ignore;
    std::string a = dots == std::string::npos ? v : v.substr(0, dots);
    std::string b = dots == std::string::npos ? std::string() : v.substr(dots + 2);
    size_t b_pos = t.value_pos + (dots == std::string::npos ? 0 : dots + 2);
    if (t.t == tok::PHRASE)
        b_pos++;  /* skip the opening quote */
    size_t a_pos = t.value_pos + (t.t == tok::PHRASE ? 1 : 0);

    if (dots == std::string::npos) {
        if (!date_spec(a, true, &lo, &hi))
            fail(a_pos, "bad date '" + a + "'");
    } else {
        if (a.empty() && b.empty())
            fail(a_pos, "bad date '" + v + "'");
        if (!a.empty() && !date_spec(a, false, &lo, &ignore))
            fail(a_pos, "bad date '" + a + "'");
        if (!b.empty() && !date_spec(b, false, &ignore, &hi))
            fail(b_pos, "bad date '" + b + "'");
    }
    node n;
    n.empty = false;
    const std::string los = Xapian::sortable_serialise(static_cast<double>(lo));
    const std::string his = Xapian::sortable_serialise(static_cast<double>(hi));
    if (dots != std::string::npos && a.empty())
        n.q = Xapian::Query(Xapian::Query::OP_VALUE_LE, SLOT_DATE, his);
    else if (dots != std::string::npos && b.empty())
        n.q = Xapian::Query(Xapian::Query::OP_VALUE_GE, SLOT_DATE, los);
    else
        n.q = Xapian::Query(Xapian::Query::OP_VALUE_RANGE, SLOT_DATE, los, his);
    return n;
}

Xapian::Query
parser::run()
{
    lex();
    if (toks_.size() == 1)
        throw query_error("empty query");
    node n = parse_or(default_field());
    if (cur().t == tok::RPAREN)
        fail(cur().pos, "unexpected ')'");
    if (cur().t != tok::END)
        fail(cur().pos, "unexpected '" + cur().text + "'");
    return materialise(n);
}

} // namespace

Xapian::Query
parse_query(const std::string &text, time_t now, const Xapian::Database *db)
{
    parser p(text, now, db);
    return p.run();
}

} // namespace cor_search
