/* core/search/query_internal.h — shared between search.cc and query.cc only.
 *
 * C++; never included from C.  The prefix table and the value slots are
 * described in prose once, in the design notes at the top of search.cc; the
 * table itself (query.cc) is the data both the indexer (search.cc) and the
 * query parser (query.cc) read.
 */
#ifndef COR_SEARCH_QUERY_INTERNAL_H
#define COR_SEARCH_QUERY_INTERNAL_H

#include <ctime>
#include <stdexcept>
#include <string>

#include <xapian.h>

namespace cor_search {

/* Stored in the metadata key "corridor_schema"; bump it whenever a prefix,
 * a value slot or the way text is turned into terms changes, so an old
 * index is refused at open ("run corridor reindex") instead of silently
 * answering wrongly. */
constexpr const char *SCHEMA_KEY = "corridor_schema";
constexpr const char *SCHEMA_VERSION = "2";

/* The groups where a document is *visible*: XVIS + group name for each
 * accepted post, none for a restricted one (a protectively marked message a
 * group keeps for FOI roles).  Not a query field: the searcher's groups
 * (cor_search_query_t.groups) filter on it, while `group:` (XGROUP) finds
 * every place, restricted ones included, for officers.  Added in schema 2. */
constexpr const char *VISIBLE_PREFIX = "XVIS";

/* Value slots: append-only, never renumber (see search.cc's notes). */
enum slot : Xapian::valueno {
    SLOT_DATE = 0,        /* sortable_serialise(epoch seconds) */
    SLOT_MESSAGE_ID = 1,  /* the Message-ID without <> */
};

/* How a field's values become terms and how its query values are read. */
enum class kind {
    FREE,     /* free text: TermGenerator + stemming, phrases, wildcards */
    BOOLEAN,  /* one exact term per value */
    DATE,     /* a range over SLOT_DATE, no terms */
};

/* Which part of a cor_search_doc_t feeds a field. */
enum class source {
    NONE,
    SUBJECT, FROM, TO, CC,              /* FROM/TO/CC are address lists */
    NEW_TEXT, QUOTED_TEXT, SIGNATURE, ATTACHMENT_TEXT,
    ATTACHMENT_NAMES,
    MESSAGE_ID, GROUPS, THREAD_IDS,
    HAS,                                /* derived flags: "attachment" */
};

/* One row of the prefix table.  A query on the field is the OR of the same
 * query under each of `prefixes`; documents are indexed from `sources` into
 * `prefixes[0]`.  Rows whose `names[0]` is NULL are the default field of
 * bare words (only one such row). */
struct field {
    const char *names[3];        /* query names, NULL-terminated */
    kind k;
    const char *prefixes[5];     /* term prefixes, NULL-terminated */
    source sources[3];           /* NONE-terminated */
};

extern const field FIELDS[];
extern const size_t N_FIELDS;

/* Boolean term for `value` under `prefix`; over-long values (Xapian's limit
 * is 245 bytes a term) become prefix + "#sha1:" + hex digest, at index and
 * query time alike. */
std::string boolean_term(const char *prefix, const std::string &value);

/* A malformed query: what() is "position N: ..." or "empty query". */
struct query_error : std::runtime_error {
    explicit query_error(const std::string &m) : std::runtime_error(m) {}
};

/* Parses `text` into a Xapian query (throws query_error).  `db` (may be
 * NULL) is given to Xapian::QueryParser for wildcard expansion; `now` is the
 * reference time of relative dates. */
Xapian::Query parse_query(const std::string &text, time_t now,
                          const Xapian::Database *db);

} // namespace cor_search

#endif
