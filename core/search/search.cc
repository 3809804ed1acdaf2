/* core/search/search.cc — the Xapian index behind core/search/search.h.
 *
 * Design notes
 * ============
 *
 * Documents.  One Xapian document per stored message; its Xapian docid is
 * the store's message row id, so adding a message again replaces it
 * (replace_document(docid, doc)) and never duplicates it.  Documents carry
 * no data blob: every answer is a docid, and the store has the rest.
 *
 * The prefix table (FIELDS in query.cc is the data; this is its meaning).
 * Each row names a query field, the term prefixes a query on it searches
 * (OR-ed), how its values become terms, and which parts of a
 * cor_search_doc_t are indexed into its first prefix.  Prefixes follow
 * notmuch where notmuch has the field, so notmuch users' counts agree:
 *
 *   query name(s)       prefixes searched        kind      indexed from
 *   (bare word/phrase)  "" XSUBJECT XNEW XQUOTED free text (nothing of its own)
 *   body: b:            "" XNEW XQUOTED          free text signature, attachment_text
 *   subject: s:         XSUBJECT                 free text subject
 *   from: f:            XFROM                    free text from (address list)
 *   to: t:              XTO XCC                  free text to (address list)
 *   cc: c:              XCC                      free text cc (address list)
 *   nq:                 XNEW                     free text new_text
 *   q:                  XQUOTED                  free text quoted_text
 *   attachment: n:      XATTACHMENT              free text attachment_names
 *   has:                XHAS                     boolean   "attachment" when
 *                                                          n_attachment_names > 0
 *   group: g:           XGROUP                   boolean   groups (exact name)
 *   id: m: mid:         Q                        boolean   message_id (no <>)
 *   thread:             G                        boolean   thread_ids (decimal)
 *   date: d:            value slot 0             range     date
 *
 * Each text is tokenised once: new text goes only to XNEW and quoted text
 * only to XQUOTED, and the unprefixed body terms hold the signature and the
 * attachment text; body: and bare words search the union, which gives the
 * same matches as indexing the body twice at half the indexing cost.  As in
 * notmuch, to: also matches Cc (XTO and XCC), and an address is indexed as
 * "Name addr" so from:ralf@linux-mips.org is the phrase ralf linux mips org.
 *
 * Free text goes through Xapian::TermGenerator with the English stemmer and
 * STEM_SOME (as notmuch): each word gives the positional term prefix+word
 * (lowercased) and the stemmed term "Z"+prefix+stem; queries are split and
 * stemmed the same way by Xapian::QueryParser.  Every text, and every
 * address of an address list, is followed by a gap of 100 positions, so a
 * phrase never spans two parts or two addresses.  Boolean terms are
 * prefix+value, exact; a value longer than a Xapian term allows becomes
 * prefix + "#sha1:" + its digest (boolean_term()).
 *
 * Value slots (append-only: never renumber, only add):
 *   0  SLOT_DATE        Xapian::sortable_serialise(epoch seconds): sorting
 *                       and date: ranges (OP_VALUE_RANGE/GE/LE)
 *   1  SLOT_MESSAGE_ID  the Message-ID without <> (notmuch's slot 1 too)
 *
 * Metadata: "corridor_schema" holds SCHEMA_VERSION (query_internal.h).  A
 * reader refuses another version ("run corridor reindex"); a writer opened
 * on another version refuses to add until cor_search_writer_clear().
 *
 * Shards.  The index is N Xapian databases, DIR/shard0 .. DIR/shard<N-1>,
 * with a stub file DIR/XAPIANDB listing them, so that a reader opens
 * Xapian::Database(DIR) as one database.  Store row r lives in shard
 * (r-1) % N as local docid (r-1) / N + 1; Xapian numbers the documents of a
 * combined database exactly that way, so the combined docid is r again.
 * The writer queues its changes per shard and, at each commit, applies
 * every shard's queue in a thread of its own (the single Xapian writer was
 * the bottleneck of an import), then commits each shard.  N is chosen when
 * the index is created (one per CPU, at most 4) and kept in the stub.
 * Errors of add/relocate/delete therefore surface at the commit.
 *
 * Prepared documents.  cor_search_prepare builds the Xapian::Document and
 * keeps only its serialised form (Document::serialise: terms, wdf and
 * delta-coded positions), and the writer's queue holds that form too; each
 * document is rebuilt (Document::unserialise), placed (set_location) and
 * handed to Xapian one at a time at the commit.  A built document costs
 * about ten times its message in memory (std::map nodes per term, a
 * vector per position list: 40 KiB for a linux-mips message), the
 * serialised one about its text; the daemon's index pipeline holds up to a
 * few hundred prepared documents, an import thousands, and the soak's RSS
 * swung with them (docs/hardening.md).
 *
 * Invariants:
 *  1. No C++ exception crosses the C API: every extern "C" body is one try
 *     and its catch calls classify(), the one place that maps exceptions to
 *     cor_status_t; the text goes into the handle or *err.
 *  2. cor_search_prepare touches no database and no shared mutable state:
 *     its TermGenerator and Stem are thread_local and the TermGenerator lets
 *     go of the document before the document leaves the thread (Xapian's
 *     reference counts are not atomic).
 *  3. The writer works inside one unflushed transaction between commits, so
 *     Xapian never commits on its own: a commit is exactly the caller's
 *     batch, and a crash loses at most the uncommitted batch (the index is
 *     derived data; the work queue re-feeds it).
 */
#include "core/search/search.h"

#include <cstring>
#include <ctime>
#include <memory>
#include <new>
#include <string>
#include <algorithm>
#include <cerrno>
#include <exception>
#include <fstream>
#include <thread>
#include <vector>

#include <glib.h>
#include <xapian.h>

extern "C" {
#include "core/log.h"   /* a C header without its own extern "C" */
}
#include "core/search/query_internal.h"

using namespace cor_search;

/* One queued change to a shard (see "Shards" in the design notes). */
struct shard_op {
    enum kind_t { ADD, DEL, RELOCATE } kind;
    Xapian::docid local;
    std::string doc;                       /* ADD: the document, serialised
                                              (see "Prepared documents") */
    bool place = false;                    /* ADD: set groups and threads */
    std::vector<std::string> groups;       /* ADD with place, RELOCATE */
    std::vector<uint64_t> threads;         /* ADD with place, RELOCATE */
};

struct cor_search_writer {
    std::string dir;
    std::vector<Xapian::WritableDatabase> shards;
    std::vector<std::vector<shard_op>> ops;   /* per shard, applied at commit */
    std::string error;
    bool schema_ok = true;
    std::string schema_found;
};

struct cor_search_prepared {
    Xapian::docid docid = 0;
    std::string doc;                       /* Xapian::Document::serialise() */
    bool place = false;                    /* cor_search_writer_add_at: */
    std::vector<std::string> groups;       /* the place set_location gives it */
    std::vector<uint64_t> threads;         /* when it is applied */
};

struct cor_search_db {
    std::string dir;
    Xapian::Database db;
    std::string error;
};

struct cor_search_results {
    Xapian::MSet mset;
    Xapian::MSetIterator it;
};

namespace {

/* An index written by another schema version. */
struct schema_error : std::runtime_error {
    explicit schema_error(const std::string &m) : std::runtime_error(m) {}
};

/* The one exception classifier: call it only from a catch block.  `what`
 * says what failed ("cannot open index '/x'"); `opening` makes a missing
 * database COR_ERR_NOT_FOUND.  A query error's text is kept as it is
 * ("position 7: ..."). */
cor_status_t
classify(std::string *msg, const std::string &what, bool opening = false) noexcept
{
    cor_status_t st = COR_ERR_INDEX;
    try {
        try {
            throw;
        } catch (const query_error &e) {
            *msg = e.what();
            return COR_ERR_QUERY;
        } catch (const Xapian::QueryParserError &e) {
            *msg = e.get_msg();
            return COR_ERR_QUERY;
        } catch (const Xapian::DatabaseLockError &e) {
            /* only "already locked" is another writer; a lock file that
             * cannot be made (a read-only or full file system, no
             * permission) is an error to report, not a wait */
            if (e.get_msg().find("already locked") != std::string::npos) {
                st = COR_ERR_BUSY;
                *msg = what + ": locked by another writer (" + e.get_description() + ")";
            } else {
                st = COR_ERR_IO;
                *msg = what + ": " + e.get_description();
            }
        } catch (const Xapian::DatabaseCorruptError &e) {
            st = COR_ERR_CORRUPT;
            *msg = what + ": " + e.get_description();
        } catch (const Xapian::DatabaseOpeningError &e) {
            /* DatabaseNotFoundError and DatabaseVersionError are subtypes */
            st = opening ? COR_ERR_NOT_FOUND : COR_ERR_INDEX;
            *msg = what + ": " + e.get_description();
        } catch (const Xapian::Error &e) {
            *msg = what + ": " + e.get_description();
        } catch (const std::bad_alloc &) {
            st = COR_ERR_NOMEM;
            *msg = what + ": out of memory";
        } catch (const std::exception &e) {
            *msg = what + ": " + e.what();
        } catch (...) {
            *msg = what + ": unknown exception";
        }
    } catch (...) {
        /* building the message itself failed */
        return COR_ERR_NOMEM;
    }
    return st;
}

char *
dup_error(const std::string &msg)
{
    return g_strdup(msg.c_str());
}

const char *
prefix_of(source src)
{
    for (size_t i = 0; i < N_FIELDS; i++)
        for (const source *s = FIELDS[i].sources; *s != source::NONE; s++)
            if (*s == src)
                return FIELDS[i].prefixes[0];
    return nullptr;
}

/* ---- building documents (thread-safe) ---- */

/* The stemmer of indexing, of query parsing (query.cc's parser says
 * "english" too) and of snippets: the three must agree. */
const char *const STEM_LANGUAGE = "english";

struct term_gen {
    Xapian::TermGenerator tg;
    term_gen()
    {
        tg.set_stemmer(Xapian::Stem(STEM_LANGUAGE));
        tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
    }
};

/* Lets the TermGenerator drop its reference to the document, whatever
 * happens, before the document leaves this thread. */
struct tg_release {
    Xapian::TermGenerator &tg;
    ~tg_release() { tg.set_document(Xapian::Document()); }
};

const Xapian::termpos GAP = 100;

void
index_span(Xapian::TermGenerator &tg, const char *p, size_t len, const std::string &prefix)
{
    if (len == 0)
        return;
    tg.index_text(Xapian::Utf8Iterator(p, len), 1, prefix);
    tg.increase_termpos(GAP);
}

void
index_text(Xapian::TermGenerator &tg, const char *text, const std::string &prefix)
{
    if (text)
        index_span(tg, text, strlen(text), prefix);
}

/* Splits an address list at the commas that are outside quotes, angle
 * brackets and comments, and indexes each address with a gap after it. */
void
index_addresses(Xapian::TermGenerator &tg, const char *list, const std::string &prefix)
{
    if (!list)
        return;
    const char *start = list;
    bool quoted = false;
    int angle = 0, comment = 0;
    for (const char *p = list;; p++) {
        char c = *p;
        if (c == '\0' || (c == ',' && !quoted && angle == 0 && comment == 0)) {
            index_span(tg, start, static_cast<size_t>(p - start), prefix);
            if (c == '\0')
                break;
            start = p + 1;
        } else if (c == '\\' && quoted && p[1] != '\0') {
            p++;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (!quoted) {
            if (c == '<') angle++;
            else if (c == '>' && angle > 0) angle--;
            else if (c == '(') comment++;
            else if (c == ')' && comment > 0) comment--;
        }
    }
}

std::string
bare_message_id(const char *id)
{
    size_t len = strlen(id);
    if (len >= 2 && id[0] == '<' && id[len - 1] == '>')
        return std::string(id + 1, len - 2);
    return std::string(id, len);
}

/* XGROUP (every place) and XVIS (visible places) terms for `groups`; a
 * name with COR_SEARCH_RESTRICTED_MARK in front is a restricted place. */
void
add_group_terms(Xapian::Document &doc, const char *const *groups, size_t n_groups)
{
    const char *gp = prefix_of(source::GROUPS);
    for (size_t k = 0; k < n_groups; k++) {
        if (!groups[k] || !*groups[k])
            continue;
        bool restricted = groups[k][0] == COR_SEARCH_RESTRICTED_MARK;
        const char *name = groups[k] + (restricted ? 1 : 0);
        if (!*name)
            continue;
        doc.add_boolean_term(boolean_term(gp, name));
        if (!restricted)
            doc.add_boolean_term(boolean_term(VISIBLE_PREFIX, name));
    }
}

void
build_document(const cor_search_doc_t &d, Xapian::Document &doc)
{
    thread_local term_gen gen;
    Xapian::TermGenerator &tg = gen.tg;
    tg.set_document(doc);
    tg.set_termpos(0);
    tg_release release{ tg };

    for (size_t i = 0; i < N_FIELDS; i++) {
        const field &f = FIELDS[i];
        if (f.sources[0] == source::NONE || !f.prefixes[0])
            continue;
        const std::string prefix(f.prefixes[0]);
        for (const source *s = f.sources; *s != source::NONE; s++) {
            switch (*s) {
            case source::SUBJECT: index_text(tg, d.subject, prefix); break;
            case source::FROM: index_addresses(tg, d.from, prefix); break;
            case source::TO: index_addresses(tg, d.to, prefix); break;
            case source::CC: index_addresses(tg, d.cc, prefix); break;
            case source::NEW_TEXT: index_text(tg, d.new_text, prefix); break;
            case source::QUOTED_TEXT: index_text(tg, d.quoted_text, prefix); break;
            case source::SIGNATURE: index_text(tg, d.signature, prefix); break;
            case source::ATTACHMENT_TEXT: index_text(tg, d.attachment_text, prefix); break;
            case source::ATTACHMENT_NAMES:
                for (size_t k = 0; k < d.n_attachment_names; k++)
                    index_text(tg, d.attachment_names[k], prefix);
                break;
            case source::MESSAGE_ID:
                if (d.message_id && *d.message_id)
                    doc.add_boolean_term(boolean_term(f.prefixes[0], bare_message_id(d.message_id)));
                break;
            case source::GROUPS:
                add_group_terms(doc, d.groups, d.n_groups);
                break;
            case source::THREAD_IDS:
                for (size_t k = 0; k < d.n_thread_ids; k++)
                    doc.add_boolean_term(prefix + std::to_string(d.thread_ids[k]));
                break;
            case source::HAS:
                if (d.n_attachment_names > 0)
                    doc.add_boolean_term(prefix + "attachment");
                break;
            case source::NONE:
                break;
            }
        }
    }
    doc.add_value(SLOT_DATE, Xapian::sortable_serialise(static_cast<double>(d.date)));
    if (d.message_id && *d.message_id)
        doc.add_value(SLOT_MESSAGE_ID, bare_message_id(d.message_id));
}

bool
docid_ok(uint64_t id)
{
    return id > 0 && id <= static_cast<uint64_t>(static_cast<Xapian::docid>(-1));
}


const field *
field_for(source src)
{
    for (size_t i = 0; i < N_FIELDS; i++)
        for (const source *s = FIELDS[i].sources; *s != source::NONE; s++)
            if (*s == src)
                return &FIELDS[i];
    return nullptr;
}


/* Replaces the group, visibility and thread terms of `doc`. */
void
set_location(Xapian::Document &doc, const char *const *groups, size_t n_groups,
             const uint64_t *thread_ids, size_t n_threads)
{
    const field *gf = field_for(source::GROUPS);
    const field *tf = field_for(source::THREAD_IDS);
    const std::string gp(gf->prefixes[0]), tp(tf->prefixes[0]), vp(VISIBLE_PREFIX);
    std::vector<std::string> old;
    for (const std::string *p : { &gp, &tp, &vp }) {
        for (Xapian::TermIterator t = doc.termlist_begin(); t != doc.termlist_end(); ++t) {
            const std::string term = *t;
            if (term.compare(0, p->size(), *p) != 0)
                continue;
            /* thread terms are the prefix and digits only */
            if (p == &tp && (term.size() == p->size() || !g_ascii_isdigit(term[p->size()])))
                continue;
            old.push_back(term);
        }
    }
    for (const std::string &term : old)
        doc.remove_term(term);
    add_group_terms(doc, groups, n_groups);
    for (size_t k = 0; k < n_threads; k++)
        doc.add_boolean_term(tp + std::to_string(thread_ids[k]));
}


/* ---- writer helpers ---- */

constexpr size_t MAX_SHARDS = 4;

std::string
shard_path(const std::string &dir, size_t k)
{
    return dir + "/shard" + std::to_string(k);
}

/* The shard count of an existing index (from its stub), or 0. */
size_t
stub_shards(const std::string &dir)
{
    std::ifstream in(dir + "/XAPIANDB");
    if (!in)
        return 0;
    size_t n = 0;
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("auto shard", 0) == 0)
            n++;
    return n;
}

/* Writes the stub listing n shards: temp file, fsync, rename. */
void
write_stub(const std::string &dir, size_t n)
{
    std::string text;
    for (size_t k = 0; k < n; k++)
        text += "auto shard" + std::to_string(k) + "\n";
    GError *gerr = nullptr;
    if (!g_file_set_contents_full((dir + "/XAPIANDB").c_str(), text.data(),
                                  static_cast<gssize>(text.size()),
                                  G_FILE_SET_CONTENTS_CONSISTENT, 0644, &gerr)) {
        std::string m = gerr ? gerr->message : "cannot write stub";
        g_clear_error(&gerr);
        throw Xapian::DatabaseCreateError(m);
    }
}

size_t
shard_of(const cor_search_writer *w, Xapian::docid id)
{
    return (id - 1) % w->shards.size();
}

Xapian::docid
local_of(const cor_search_writer *w, Xapian::docid id)
{
    return static_cast<Xapian::docid>((id - 1) / w->shards.size() + 1);
}

void
writer_check_schema(cor_search_writer *w)
{
    std::string v = w->shards[0].get_metadata(SCHEMA_KEY);
    Xapian::doccount docs = 0;
    for (auto &db : w->shards)
        docs += db.get_doccount();
    if (v == SCHEMA_VERSION) {
        w->schema_ok = true;
    } else if (docs == 0) {
        /* a new (or empty) index takes this schema */
        for (auto &db : w->shards) {
            db.set_metadata(SCHEMA_KEY, SCHEMA_VERSION);
            db.commit();
        }
        w->schema_ok = true;
    } else {
        w->schema_ok = false;
        w->schema_found = v.empty() ? "none" : v;
    }
}

/* True (with the error set) when the index was written by another schema
 * version: nothing may be added until it is cleared (reindex). */
bool
refuse_old_schema(cor_search_writer *w)
{
    if (w->schema_ok)
        return false;
    w->error = "index '" + w->dir + "' has schema " + w->schema_found
               + " but this corridor writes schema " + SCHEMA_VERSION + ": run 'corridor reindex'";
    return true;
}

/* Opens (creating when needed) every shard of `dir`. */
void
writer_open_shards(cor_search_writer *w, int flags)
{
    if (g_file_test((w->dir + "/iamglass").c_str(), G_FILE_TEST_EXISTS))
        throw Xapian::DatabaseVersionError("index '" + w->dir + "' has the old unsharded layout: "
                                           "remove the directory and run 'corridor reindex'");
    if (g_mkdir_with_parents(w->dir.c_str(), 0750) != 0)
        throw Xapian::DatabaseCreateError("cannot create '" + w->dir + "': " + g_strerror(errno));
    size_t n = (flags == Xapian::DB_CREATE_OR_OVERWRITE) ? 0 : stub_shards(w->dir);
    bool create = n == 0;
    if (create)
        n = std::max<size_t>(1, std::min<size_t>(MAX_SHARDS, g_get_num_processors()));
    w->shards.clear();
    for (size_t k = 0; k < n; k++)
        w->shards.emplace_back(shard_path(w->dir, k), flags);
    if (create)
        write_stub(w->dir, n);
    w->ops.assign(n, {});
}

/* A place (groups, threads) copied for later: a queued relocation, or a
 * prepared document placed by cor_search_writer_add_at. */
void
keep_place(std::vector<std::string> &g, std::vector<uint64_t> &t, const char *const *groups,
           size_t n_groups, const uint64_t *thread_ids, size_t n_threads)
{
    g.clear();
    for (size_t k = 0; k < n_groups; k++)
        if (groups[k])
            g.emplace_back(groups[k]);
    t.assign(thread_ids, thread_ids + n_threads);
}

/* set_location with the place an op kept (keep_place). */
void
apply_place(Xapian::Document &doc, const shard_op &op)
{
    std::vector<const char *> g;
    for (auto &x : op.groups)
        g.push_back(x.c_str());
    set_location(doc, g.data(), g.size(), op.threads.data(), op.threads.size());
}

/* Applies shard k's queued changes in one unflushed transaction and commits. */
void
apply_shard(cor_search_writer *w, size_t k)
{
    Xapian::WritableDatabase &db = w->shards[k];
    db.begin_transaction(false);
    try {
        for (shard_op &op : w->ops[k]) {
            switch (op.kind) {
            case shard_op::ADD: {
                Xapian::Document doc = Xapian::Document::unserialise(op.doc);
                std::string().swap(op.doc);
                if (op.place)
                    apply_place(doc, op);
                db.replace_document(op.local, doc);
                break;
            }
            case shard_op::DEL:
                try {
                    db.delete_document(op.local);
                } catch (const Xapian::DocNotFoundError &) {
                }
                break;
            case shard_op::RELOCATE: {
                Xapian::Document doc;
                try {
                    doc = db.get_document(op.local);
                } catch (const Xapian::DocNotFoundError &) {
                    break;   /* not indexed yet: it will be, with its place */
                }
                apply_place(doc, op);
                db.replace_document(op.local, doc);
                break;
            }
            }
        }
        db.commit_transaction();
    } catch (...) {
        try {
            db.cancel_transaction();
        } catch (...) {
        }
        throw;
    }
    db.commit();
}

/* Applies every shard's queue, in parallel, and commits; rethrows the first
 * shard's error after all have finished.  The queues are emptied either way. */
void
writer_commit_all(cor_search_writer *w)
{
    size_t n = w->shards.size();
    std::vector<std::exception_ptr> errs(n);
    if (n == 1) {
        try {
            apply_shard(w, 0);
        } catch (...) {
            errs[0] = std::current_exception();
        }
    } else {
        std::vector<std::thread> threads;
        for (size_t k = 0; k < n; k++)
            threads.emplace_back([w, k, &errs] {
                try {
                    apply_shard(w, k);
                } catch (...) {
                    errs[k] = std::current_exception();
                }
            });
        for (auto &t : threads)
            t.join();
    }
    for (auto &q : w->ops)
        q.clear();
    for (auto &e : errs)
        if (e)
            std::rethrow_exception(e);
}

cor_status_t
writer_fail(cor_search_writer *w, const std::string &what) noexcept
{
    return classify(&w->error, what);
}

/* ---- searching helpers ---- */

Xapian::Query
build_query(cor_search_db *h, const cor_search_query_t *q)
{
    if (!q->query)
        throw query_error("empty query");
    time_t now = q->now ? static_cast<time_t>(q->now) : time(nullptr);
    Xapian::Query query = parse_query(q->query, now, &h->db);
    if (q->all_groups)
        return query;
    if (q->n_groups == 0)
        return Xapian::Query::MatchNothing;
    /* visible places only: a restricted post is for officers (all_groups,
     * or restricted_places with the groups they chose) */
    const char *gp = q->restricted_places ? prefix_of(source::GROUPS) : VISIBLE_PREFIX;
    std::vector<Xapian::Query> groups;
    groups.reserve(q->n_groups);
    for (size_t i = 0; i < q->n_groups; i++)
        if (q->groups[i])
            groups.emplace_back(boolean_term(gp, q->groups[i]));
    if (groups.empty())
        return Xapian::Query::MatchNothing;
    return Xapian::Query(Xapian::Query::OP_FILTER, query,
                         Xapian::Query(Xapian::Query::OP_OR, groups.begin(), groups.end()));
}

void
set_sort(Xapian::Enquire &enq, cor_search_sort_t sort)
{
    switch (sort) {
    case COR_SEARCH_SORT_RELEVANCE:
        enq.set_sort_by_relevance_then_value(SLOT_DATE, true);
        break;
    case COR_SEARCH_SORT_DATE_ASC:
        enq.set_weighting_scheme(Xapian::BoolWeight());
        enq.set_sort_by_value(SLOT_DATE, false);
        enq.set_docid_order(Xapian::Enquire::ASCENDING);
        break;
    case COR_SEARCH_SORT_DATE_DESC:
    default:
        enq.set_weighting_scheme(Xapian::BoolWeight());
        enq.set_sort_by_value(SLOT_DATE, true);
        enq.set_docid_order(Xapian::Enquire::DESCENDING);
        break;
    }
}

Xapian::doccount
clamp_count(size_t n)
{
    const Xapian::doccount max = static_cast<Xapian::doccount>(-1);
    return n > max ? max : static_cast<Xapian::doccount>(n);
}

/* Runs `fn` against a freshly reopened database, once more after a
 * DatabaseModifiedError (a writer committed twice under our feet). */
template <typename F>
auto
with_retry(cor_search_db *h, F fn) -> decltype(fn())
{
    h->db.reopen();
    try {
        return fn();
    } catch (const Xapian::DatabaseModifiedError &) {
        h->db.reopen();
        return fn();
    }
}

/* ---- snippets ---- */

/* `len` bytes of `text` as valid UTF-8: a character cut off at the end is
 * dropped, anything else invalid becomes U+FFFD. */
std::string
valid_utf8(const char *text, size_t len)
{
    const gchar *end = nullptr;
    if (g_utf8_validate_len(text, len, &end))
        return std::string(text, len);
    size_t good = static_cast<size_t>(end - text);
    const gunichar partial = static_cast<gunichar>(-2);   /* a sequence cut short */
    if (g_utf8_get_char_validated(end, static_cast<gssize>(len - good)) == partial)
        return std::string(text, good);
    gchar *fixed = g_utf8_make_valid(text, static_cast<gssize>(len));
    std::string s(fixed);
    g_free(fixed);
    return s;
}

const char MARK_START[] = "<mark>";
const char MARK_END[] = "</mark>";

/* Xapian's snippet, HTML-escaped and marked.  Xapian escapes & < > only,
 * and keeps control characters and line breaks: this adds &quot; and &#39;
 * (so the text is safe in an attribute too) and folds every run of white
 * space and control characters into one space. */
std::string
html_snippet(const cor_search_results *r, const char *text, size_t len, size_t max_chars)
{
    thread_local const Xapian::Stem stem(STEM_LANGUAGE);
    const std::string raw = r->mset.snippet(valid_utf8(text, len), max_chars, stem, 0,
                                            MARK_START, MARK_END, "\u2026");
    std::string out;
    out.reserve(raw.size() + 16);
    bool space = false;
    for (unsigned char c : raw) {
        if (c <= 0x20 || c == 0x7f) {
            space = true;
            continue;
        }
        if (space && !out.empty())
            out += ' ';
        space = false;
        switch (c) {
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += static_cast<char>(c); break;
        }
    }
    /* Xapian leaves a mark open when max_chars cuts the snippet inside a
     * marked word ("<mark>from…"): close it, or the rest of the page is
     * marked.  (The text itself cannot hold "<mark>": '<' is escaped.) */
    size_t open = out.rfind(MARK_START);
    if (open != std::string::npos && out.find(MARK_END, open) == std::string::npos)
        out += MARK_END;
    return out;
}

/* The plain text of html_snippet's answer: marks removed, entities undone. */
std::string
plain_snippet(const std::string &html)
{
    static const struct { const char *from; char to; } entities[] = {
        { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&#39;", '\'' },
    };
    std::string out;
    out.reserve(html.size());
    for (size_t i = 0; i < html.size();) {
        if (html.compare(i, sizeof MARK_START - 1, MARK_START) == 0) {
            i += sizeof MARK_START - 1;
            continue;
        }
        if (html.compare(i, sizeof MARK_END - 1, MARK_END) == 0) {
            i += sizeof MARK_END - 1;
            continue;
        }
        bool done = false;
        if (html[i] == '&')
            for (const auto &e : entities) {
                size_t n = strlen(e.from);
                if (html.compare(i, n, e.from) == 0) {
                    out += e.to;
                    i += n;
                    done = true;
                    break;
                }
            }
        if (!done)
            out += html[i++];
    }
    return out;
}

} // namespace

/* ---- writing ---- */

extern "C" cor_status_t
cor_search_writer_open(const char *dir, cor_search_writer_t **out, char **err)
{
    std::string msg;
    try {
        if (err)
            *err = nullptr;
        if (!out || !dir || !*dir) {
            if (err)
                *err = g_strdup("cor_search_writer_open: no directory");
            return COR_ERR_INVALID;
        }
        *out = nullptr;
        auto w = std::make_unique<cor_search_writer>();
        w->dir = dir;
        writer_open_shards(w.get(), Xapian::DB_CREATE_OR_OPEN);
        writer_check_schema(w.get());
        *out = w.release();
        return COR_OK;
    } catch (...) {
        cor_status_t st = classify(&msg, std::string("cannot open index '") + (dir ? dir : "")
                                             + "' for writing");
        if (err)
            *err = dup_error(msg);
        return st;
    }
}

extern "C" cor_status_t
cor_search_prepare(const cor_search_doc_t *doc, cor_search_prepared_t **out, char **err)
{
    std::string msg;
    try {
        if (err)
            *err = nullptr;
        if (!out || !doc || (doc->docid != 0 && !docid_ok(doc->docid))) {
            if (out)
                *out = nullptr;
            if (err)
                *err = g_strdup_printf("cannot index document %" G_GUINT64_FORMAT
                                       ": bad document id", doc ? doc->docid : 0);
            return COR_ERR_INVALID;
        }
        *out = nullptr;
        auto p = std::make_unique<cor_search_prepared>();
        p->docid = static_cast<Xapian::docid>(doc->docid);
        Xapian::Document built;
        build_document(*doc, built);
        p->doc = built.serialise();
        p->doc.shrink_to_fit();   /* built by appending: up to twice its size */
        *out = p.release();
        return COR_OK;
    } catch (...) {
        cor_status_t st = classify(&msg, "cannot index document "
                                             + std::to_string(doc ? doc->docid : 0));
        if (err)
            *err = dup_error(msg);
        return st;
    }
}

extern "C" void
cor_search_prepared_free(cor_search_prepared_t *p)
{
    try {
        delete p;
    } catch (...) {
    }
}

extern "C" cor_status_t
cor_search_writer_add(cor_search_writer_t *w, cor_search_prepared_t *p)
{
    std::unique_ptr<cor_search_prepared> owned(p);
    try {
        if (!w || !p || !docid_ok(p->docid)) {
            if (w)
                w->error = "cor_search_writer_add: no document or no document id";
            return COR_ERR_INVALID;
        }
        if (refuse_old_schema(w))
            return COR_ERR_INDEX;
        shard_op op{ shard_op::ADD, local_of(w, p->docid), std::move(p->doc), p->place,
                     std::move(p->groups), std::move(p->threads) };
        w->ops[shard_of(w, p->docid)].push_back(std::move(op));
        return COR_OK;
    } catch (...) {
        return writer_fail(w, "cannot add document " + std::to_string(p->docid) + " to index '"
                                  + w->dir + "'");
    }
}

extern "C" cor_status_t
cor_search_writer_delete(cor_search_writer_t *w, uint64_t docid)
{
    try {
        if (!w)
            return COR_ERR_INVALID;
        if (!docid_ok(docid))
            return COR_OK;  /* cannot be in the index */
        Xapian::docid id = static_cast<Xapian::docid>(docid);
        w->ops[shard_of(w, id)].push_back(shard_op{ shard_op::DEL, local_of(w, id), {}, false, {}, {} });
        return COR_OK;
    } catch (...) {
        return writer_fail(w, "cannot delete document " + std::to_string(docid)
                                  + " from index '" + w->dir + "'");
    }
}

extern "C" cor_status_t
cor_search_writer_clear(cor_search_writer_t *w)
{
    try {
        if (!w)
            return COR_ERR_INVALID;
        /* Recreating is far faster than deleting every document; the lock
         * is let go for the moment between close and reopen. */
        for (auto &q : w->ops)
            q.clear();
        for (auto &db : w->shards)
            db.close();
        w->shards.clear();
        writer_open_shards(w, Xapian::DB_CREATE_OR_OVERWRITE);
        for (auto &db : w->shards) {
            db.set_metadata(SCHEMA_KEY, SCHEMA_VERSION);
            db.commit();
        }
        w->schema_ok = true;
        return COR_OK;
    } catch (...) {
        return writer_fail(w, "cannot clear index '" + w->dir + "'");
    }
}

extern "C" cor_status_t
cor_search_writer_commit(cor_search_writer_t *w)
{
    try {
        if (!w)
            return COR_ERR_INVALID;
        writer_commit_all(w);
        return COR_OK;
    } catch (...) {
        return writer_fail(w, "cannot commit index '" + w->dir + "'");
    }
}

extern "C" const char *
cor_search_writer_error(const cor_search_writer_t *w)
{
    try {
        return w ? w->error.c_str() : "";
    } catch (...) {
        return "";
    }
}

extern "C" cor_status_t
cor_search_writer_close(cor_search_writer_t *w)
{
    if (!w)
        return COR_OK;
    cor_status_t st = COR_OK;
    try {
        writer_commit_all(w);
        for (auto &db : w->shards)
            db.close();
    } catch (...) {
        /* the handle goes, so the text goes to the log */
        st = writer_fail(w, "cannot close index '" + w->dir + "'");
        cor_log_error("%s", w->error.c_str());
    }
    delete w;   /* Xapian's destructors do not throw */
    return st;
}

/* ---- searching ---- */

extern "C" cor_status_t
cor_search_db_open(const char *dir, cor_search_db_t **out, char **err)
{
    std::string msg;
    try {
        if (err)
            *err = nullptr;
        if (!out || !dir || !*dir) {
            if (err)
                *err = g_strdup("cor_search_db_open: no directory");
            return COR_ERR_INVALID;
        }
        *out = nullptr;
        auto h = std::make_unique<cor_search_db>();
        h->dir = dir;
        h->db = Xapian::Database(h->dir);
        std::string v = h->db.get_metadata(SCHEMA_KEY);
        if (v != SCHEMA_VERSION && !(v.empty() && h->db.get_doccount() == 0))
            throw schema_error("index has schema " + (v.empty() ? std::string("none") : v)
                               + " but this corridor reads schema " + SCHEMA_VERSION
                               + ": run 'corridor reindex'");
        *out = h.release();
        return COR_OK;
    } catch (...) {
        cor_status_t st = classify(&msg, std::string("cannot open index '") + (dir ? dir : "")
                                             + "'", true);
        if (err)
            *err = dup_error(msg);
        return st;
    }
}

extern "C" void
cor_search_db_close(cor_search_db_t *db)
{
    try {
        delete db;
    } catch (...) {
    }
}

extern "C" const char *
cor_search_db_error(const cor_search_db_t *db)
{
    try {
        return db ? db->error.c_str() : "";
    } catch (...) {
        return "";
    }
}

extern "C" uint64_t
cor_search_db_count(cor_search_db_t *db)
{
    try {
        if (!db)
            return 0;
        return with_retry(db, [db] { return db->db.get_doccount(); });
    } catch (...) {
        classify(&db->error, "cannot count documents of index '" + db->dir + "'");
        return 0;
    }
}

extern "C" cor_status_t
cor_search_run(cor_search_db_t *db, const cor_search_query_t *q, cor_search_results_t **out)
{
    try {
        if (out)
            *out = nullptr;
        if (!db || !q || !out)
            return COR_ERR_INVALID;
        Xapian::Query query = build_query(db, q);
        Xapian::MSet mset = with_retry(db, [&] {
            Xapian::Enquire enq(db->db);
            enq.set_query(query);
            set_sort(enq, q->sort);
            Xapian::doccount all = db->db.get_doccount();
            Xapian::doccount limit = q->limit ? clamp_count(q->limit) : all;
            /* checking every candidate makes the total exact */
            return enq.get_mset(clamp_count(q->offset), limit, q->exact_total ? all : 0);
        });
        auto r = std::make_unique<cor_search_results>();
        r->mset = std::move(mset);
        r->it = r->mset.begin();
        *out = r.release();
        return COR_OK;
    } catch (...) {
        return classify(&db->error, "search in index '" + db->dir + "' failed");
    }
}

extern "C" cor_status_t
cor_search_count(cor_search_db_t *db, const cor_search_query_t *q, uint64_t *count)
{
    try {
        if (count)
            *count = 0;
        if (!db || !q || !count)
            return COR_ERR_INVALID;
        Xapian::Query query = build_query(db, q);
        *count = with_retry(db, [&] {
            Xapian::Enquire enq(db->db);
            enq.set_query(query);
            enq.set_weighting_scheme(Xapian::BoolWeight());
            Xapian::doccount all = db->db.get_doccount();
            /* checking every candidate makes the estimate exact */
            return enq.get_mset(0, 0, all).get_matches_estimated();
        });
        return COR_OK;
    } catch (...) {
        return classify(&db->error, "count in index '" + db->dir + "' failed");
    }
}

extern "C" bool
cor_search_results_valid(const cor_search_results_t *r)
{
    try {
        return r && r->it != r->mset.end();
    } catch (...) {
        return false;
    }
}

extern "C" void
cor_search_results_next(cor_search_results_t *r)
{
    try {
        if (r && r->it != r->mset.end())
            ++r->it;
    } catch (...) {
    }
}

extern "C" uint64_t
cor_search_results_docid(const cor_search_results_t *r)
{
    try {
        return r && r->it != r->mset.end() ? *r->it : 0;
    } catch (...) {
        return 0;
    }
}

extern "C" uint64_t
cor_search_results_total(const cor_search_results_t *r)
{
    try {
        return r ? r->mset.get_matches_estimated() : 0;
    } catch (...) {
        return 0;
    }
}

extern "C" void
cor_search_results_free(cor_search_results_t *r)
{
    try {
        delete r;
    } catch (...) {
    }
}

extern "C" char *
cor_search_results_snippet(const cor_search_results_t *r, const char *text, size_t len,
                           size_t max_chars)
{
    try {
        if (!r || (!text && len > 0))
            return nullptr;
        return g_strdup(html_snippet(r, text ? text : "", len, max_chars).c_str());
    } catch (...) {
        return nullptr;
    }
}

extern "C" char *
cor_search_results_snippet_text(const cor_search_results_t *r, const char *text, size_t len,
                                size_t max_chars)
{
    try {
        if (!r || (!text && len > 0))
            return nullptr;
        return g_strdup(plain_snippet(html_snippet(r, text ? text : "", len, max_chars)).c_str());
    } catch (...) {
        return nullptr;
    }
}

extern "C" cor_status_t
cor_search_check_query(const char *query, char **err)
{
    std::string msg;
    try {
        if (err)
            *err = nullptr;
        if (!query)
            throw query_error("empty query");
        parse_query(query, time(nullptr), nullptr);
        return COR_OK;
    } catch (...) {
        cor_status_t st = classify(&msg, "cannot check query");
        if (err)
            *err = dup_error(msg);
        return st;
    }
}

/* ---- placing prepared documents (ingest.c) ----
 *
 * Import prepares documents in worker threads before the store has decided
 * their row id (the docid) and their thread: cor_search_prepare accepts
 * docid 0 for that, and the writer places the document here, adding the
 * group and thread terms from the same prefix table as everything else.
 * cor_search_writer_relocate changes only those terms of a stored document,
 * for posts whose thread merged into another. */


extern "C" cor_status_t
cor_search_writer_add_at(cor_search_writer_t *w, cor_search_prepared_t *p, uint64_t docid,
                         const char *const *groups, size_t n_groups,
                         const uint64_t *thread_ids, size_t n_threads)
{
    std::unique_ptr<cor_search_prepared> owned(p);
    try {
        if (!w || !p || !docid_ok(docid)) {
            if (w)
                w->error = "cor_search_writer_add_at: no document or bad document id";
            return COR_ERR_INVALID;
        }
        p->place = true;
        keep_place(p->groups, p->threads, groups, n_groups, thread_ids, n_threads);
        p->docid = static_cast<Xapian::docid>(docid);
    } catch (...) {
        return writer_fail(w, "cannot place document " + std::to_string(docid));
    }
    return cor_search_writer_add(w, owned.release());
}

extern "C" cor_status_t
cor_search_writer_relocate(cor_search_writer_t *w, uint64_t docid,
                           const char *const *groups, size_t n_groups,
                           const uint64_t *thread_ids, size_t n_threads)
{
    try {
        if (!w)
            return COR_ERR_INVALID;
        if (!docid_ok(docid))
            return COR_OK;
        if (refuse_old_schema(w))
            return COR_ERR_INDEX;
        Xapian::docid id = static_cast<Xapian::docid>(docid);
        shard_op op{ shard_op::RELOCATE, local_of(w, id), {}, false, {}, {} };
        keep_place(op.groups, op.threads, groups, n_groups, thread_ids, n_threads);
        w->ops[shard_of(w, id)].push_back(std::move(op));
        return COR_OK;
    } catch (...) {
        return writer_fail(w, "cannot update document " + std::to_string(docid) + " in index '"
                                  + w->dir + "'");
    }
}
