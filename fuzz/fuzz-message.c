/* fuzz/fuzz-message.c — message parsing (core/message.h) and building the
 * search document from it (core/search/search.h: cor_search_prepare, the
 * thread-safe half of indexing that import and the indexer run).
 *
 * Input: one message, as the store would keep it.
 *
 * Every parse mode is run (full; summary; summary + edges; full with the
 * HTML and the parts kept) and each result is checked against message.h:
 *   1. parsing fails only with COR_ERR_PARSE (and a reason), never with
 *      another status;
 *   2. every string field is valid UTF-8, never NULL; references and
 *      attachments are never NULL;
 *   3. Message-IDs (the message's, In-Reply-To, References) have no angle
 *      brackets and no white space at either end; a synthetic id is
 *      "corridor-<first 32 hex of the SHA-256 of the bytes>@synthetic.invalid";
 *      References never name the message itself;
 *   4. the modes agree on what they share: Message-ID, subject, From, date,
 *      references and the number of attachments;
 *   5. body_head/body_tail are at most COR_BODY_EDGE bytes; a summary has
 *      no body text;
 *   6. the search document builds (COR_OK) from any parsed message, as in
 *      core/ingest.c;
 *   7. cor_subject_normalise and cor_message_id_normalise give valid UTF-8.
 */
#include "fuzz/fuzz.h"

#include "core/message.h"
#include "core/search/search.h"

static void
check_id(const char *what, const char *id)
{
    FUZZ_CHECK(fuzz_utf8(id), "%s not UTF-8", what);
    size_t n = strlen(id);
    if (n == 0)
        return;
    FUZZ_CHECK(id[0] != '<' && id[n - 1] != '>', "%s '%s' keeps <>", what, id);
    FUZZ_CHECK(!g_ascii_isspace(id[0]) && !g_ascii_isspace(id[n - 1]),
               "%s '%s' keeps white space", what, id);
}

static void
check_message(const cor_message_t *m, const uint8_t *data, size_t size, unsigned flags)
{
    const char *const strings[] = {
        m->message_id, m->subject, m->from, m->from_name, m->from_addr, m->to, m->cc,
        m->in_reply_to, m->thread_index, m->thread_topic, m->list_id, m->body, m->new_text,
        m->quoted_text, m->signature, m->attachment_text, m->body_html, m->body_head,
        m->body_tail,
    };
    for (size_t i = 0; i < G_N_ELEMENTS(strings); i++)
        FUZZ_CHECK(fuzz_utf8(strings[i]), "string field %zu NULL or not UTF-8 (flags %u)", i, flags);
    FUZZ_CHECK(*m->message_id, "empty Message-ID");
    check_id("Message-ID", m->message_id);
    check_id("In-Reply-To", m->in_reply_to);
    FUZZ_CHECK(m->references && m->attachments && m->warnings, "NULL array");
    for (guint i = 0; i < m->references->len; i++) {
        const char *r = m->references->pdata[i];
        check_id("a reference", r);
        FUZZ_CHECK(strcmp(r, m->message_id) != 0, "References names the message itself");
    }
    if (m->synthetic_id) {
        char hex[65];
        cor_sha256_hex((const char *) data, size, hex);
        g_autofree char *want = g_strdup_printf("corridor-%.32s@synthetic.invalid", hex);
        FUZZ_CHECK(strcmp(m->message_id, want) == 0, "synthetic id '%s', want '%s'",
                   m->message_id, want);
    }
    for (guint i = 0; i < m->attachments->len; i++) {
        const cor_attachment_t *a = m->attachments->pdata[i];
        FUZZ_CHECK(fuzz_utf8(a->filename) && fuzz_utf8(a->content_type), "attachment %u", i);
        FUZZ_CHECK(!!a->data == !!(flags & COR_PARSE_KEEP_PARTS),
                   "attachment %u: data %s KEEP_PARTS", i, a->data ? "without" : "with no data with");
    }
    for (guint i = 0; i < m->warnings->len; i++)
        FUZZ_CHECK(fuzz_utf8(m->warnings->pdata[i]), "warning %u not UTF-8", i);
    FUZZ_CHECK(strlen(m->body_head) <= COR_BODY_EDGE && strlen(m->body_tail) <= COR_BODY_EDGE,
               "edges of %zu and %zu bytes, over %d (flags %u)", strlen(m->body_head),
               strlen(m->body_tail), COR_BODY_EDGE, flags);
    if (flags & COR_PARSE_SUMMARY)
        FUZZ_CHECK(!*m->body && !*m->new_text && !*m->quoted_text && !*m->signature &&
                       !*m->attachment_text,
                   "a summary with body text");
    if (!(flags & COR_PARSE_KEEP_HTML))
        FUZZ_CHECK(!*m->body_html, "body_html without KEEP_HTML");
}

/* Invariant 4: what two parses of the same bytes share. */
static void
check_same(const cor_message_t *a, const cor_message_t *b, unsigned flags)
{
    FUZZ_CHECK(strcmp(a->message_id, b->message_id) == 0, "Message-ID differs (flags %u)", flags);
    FUZZ_CHECK(strcmp(a->subject, b->subject) == 0, "subject differs (flags %u)", flags);
    FUZZ_CHECK(strcmp(a->from, b->from) == 0, "From differs (flags %u)", flags);
    FUZZ_CHECK(strcmp(a->in_reply_to, b->in_reply_to) == 0, "In-Reply-To differs (flags %u)", flags);
    FUZZ_CHECK(a->date == b->date, "date differs (flags %u)", flags);
    FUZZ_CHECK(a->references->len == b->references->len, "references differ (flags %u)", flags);
    FUZZ_CHECK(a->attachments->len == b->attachments->len, "%u vs %u attachments (flags %u)",
               a->attachments->len, b->attachments->len, flags);
}

/* Invariant 6: the document the index would get, as core/ingest.c makes it. */
static void
check_document(const cor_message_t *m)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    for (guint i = 0; i < m->attachments->len; i++)
        g_ptr_array_add(names, ((cor_attachment_t *) m->attachments->pdata[i])->filename);
    const char *groups[] = { "planning", "!private" };
    const uint64_t threads[] = { 1, 2 };
    cor_search_doc_t doc = {
        .docid = 1,
        .message_id = m->message_id,
        .subject = m->subject,
        .from = m->from,
        .to = m->to,
        .cc = m->cc,
        .date = m->date,
        .new_text = m->new_text,
        .quoted_text = m->quoted_text,
        .signature = m->signature,
        .attachment_text = m->attachment_text,
        .attachment_names = (const char *const *) names->pdata,
        .n_attachment_names = names->len,
        .groups = groups,
        .n_groups = 2,
        .thread_ids = threads,
        .n_thread_ids = 2,
    };
    cor_search_prepared_t *p = NULL;
    g_autofree char *err = NULL;
    cor_status_t s = cor_search_prepare(&doc, &p, &err);
    FUZZ_CHECK(s == COR_OK && p != NULL, "cor_search_prepare: %s: %s", cor_status_to_string(s),
               err ? err : "");
    cor_search_prepared_free(p);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_setup();
    cor_message_init();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *raw = (const char *) data;
    g_autoptr(cor_message_t) full = NULL;
    g_autofree char *err = NULL;
    cor_status_t s = cor_message_parse(raw, size, 1700000000, &full, &err);
    if (s != COR_OK) {
        FUZZ_CHECK(s == COR_ERR_PARSE, "parse failed with %s", cor_status_to_string(s));
        FUZZ_CHECK(err && fuzz_utf8(err) && full == NULL, "COR_ERR_PARSE without a reason");
        return 0;
    }
    check_message(full, data, size, 0);
    check_document(full);

    static const unsigned modes[] = {
        COR_PARSE_SUMMARY,
        COR_PARSE_SUMMARY | COR_PARSE_EDGES,
        COR_PARSE_KEEP_HTML | COR_PARSE_KEEP_PARTS,
    };
    for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
        g_autoptr(cor_message_t) m = NULL;
        g_autofree char *e2 = NULL;
        s = cor_message_parse_ex(raw, size, 1700000000, modes[i], &m, &e2);
        FUZZ_CHECK(s == COR_OK, "full parse worked, flags %u gave %s (%s)", modes[i],
                   cor_status_to_string(s), e2 ? e2 : "");
        check_message(m, data, size, modes[i]);
        check_same(full, m, modes[i]);
    }

    g_autofree char *subj = cor_subject_normalise(full->subject);
    FUZZ_CHECK(fuzz_utf8(subj), "normalised subject not UTF-8");
    g_autofree char *head = g_strndup(raw, MIN(size, 200));
    g_autofree char *id = cor_message_id_normalise(head);
    check_id("normalised id", id);
    return 0;
}
