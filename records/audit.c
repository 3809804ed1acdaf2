/* records/audit.c — the records audit trail: reading, verifying,
 * exporting and the officer list (records/audit.h has the design notes and
 * what verify checks), and the operator's name (records/records.h).
 * Appending, the hash and the anchors are core/audit.c's: the web appends
 * too, and archive-web/ may use only core/. */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "core/log.h"
#include "core/store_internal.h"
#include "records/audit.h"

/* ---- the operator ---- */

char *
cor_records_operator(const char *option)
{
    if (option && *option)
        return g_strdup(option);
    struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name && *pw->pw_name)
        return g_strdup(pw->pw_name);
    return g_strdup_printf("uid-%ld", (long) geteuid());
}


void
cor_audit_entry_free(cor_audit_entry_t *e)
{
    if (!e)
        return;
    g_free(e->operator_name);
    g_free(e->action);
    g_free(e->case_ref);
    g_free(e->detail);
    g_free(e->prev);
    g_free(e->hash);
    g_free(e);
}

void
cor_audit_report_clear(cor_audit_report_t *r)
{
    g_clear_pointer(&r->problem, g_free);
    memset(r, 0, sizeof *r);
}

static cor_status_t
fail(char **err, cor_status_t s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static cor_status_t
fail(char **err, cor_status_t s, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        g_free(*err);
        *err = g_strdup_vprintf(fmt, ap);
        va_end(ap);
    }
    return s;
}

/* ---- reading ---- */

static cor_audit_entry_t *
entry_from_row(sqlite3_stmt *q)
{
    cor_audit_entry_t *e = g_new0(cor_audit_entry_t, 1);
    e->seq = sqlite3_column_int64(q, 0);
    e->at = sqlite3_column_int64(q, 1);
    e->operator_name = cor_store_col_text(q, 2);
    e->action = cor_store_col_text(q, 3);
    e->case_ref = cor_store_col_text(q, 4);
    e->detail = cor_store_col_text(q, 5);
    e->prev = cor_store_col_text(q, 6);
    e->hash = cor_store_col_text(q, 7);
    return e;
}

cor_status_t
cor_audit_list(cor_store_t *st, const char *case_ref, GPtrArray **out, char **err)
{
    *out = g_ptr_array_new_with_free_func((GDestroyNotify) cor_audit_entry_free);
    sqlite3_stmt *q = case_ref
        ? cor_store_stmt(st, "SELECT seq, at, operator, action, case_ref, detail, prev, hash"
                             " FROM audit WHERE case_ref = ?1 ORDER BY seq")
        : cor_store_stmt(st, "SELECT seq, at, operator, action, case_ref, detail, prev, hash"
                             " FROM audit ORDER BY seq");
    if (!q)
        return fail(err, COR_ERR_STORE, "%s", cor_store_error(st));
    if (case_ref)
        sqlite3_bind_text(q, 1, case_ref, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        g_ptr_array_add(*out, entry_from_row(q));
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        cor_status_t s = cor_store_sqlite_error(st, rc, "cannot read the audit trail");
        return fail(err, s, "%s", cor_store_error(st));
    }
    return COR_OK;
}

char *
cor_audit_entry_json(const cor_audit_entry_t *e)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "seq");
    json_builder_add_int_value(b, e->seq);
    json_builder_set_member_name(b, "at");
    json_builder_add_int_value(b, e->at);
    json_builder_set_member_name(b, "operator");
    json_builder_add_string_value(b, e->operator_name);
    json_builder_set_member_name(b, "action");
    json_builder_add_string_value(b, e->action);
    json_builder_set_member_name(b, "case_ref");
    json_builder_add_string_value(b, e->case_ref);
    json_builder_set_member_name(b, "detail");
    json_builder_add_string_value(b, e->detail);
    json_builder_set_member_name(b, "prev");
    json_builder_add_string_value(b, e->prev);
    json_builder_set_member_name(b, "hash");
    json_builder_add_string_value(b, e->hash);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

/* ---- verifying ---- */

static void
report_bad(cor_audit_report_t *r, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
report_bad(cor_audit_report_t *r, int64_t seq, const char *fmt, ...)
{
    if (!r->ok)
        return;   /* the first problem wins */
    r->ok = false;
    r->bad_seq = seq;
    va_list ap;
    va_start(ap, fmt);
    g_free(r->problem);
    r->problem = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

/* The chain walk shared by verify and verify_entries; fills `hashes`
 * (seq → hash, borrowed from the entries) when not NULL. */
static void
verify_chain(GPtrArray *entries, cor_audit_report_t *r, GHashTable *hashes)
{
    int64_t expect = 1;
    const char *prev = COR_AUDIT_GENESIS;
    for (guint i = 0; i < entries->len; i++) {
        cor_audit_entry_t *e = entries->pdata[i];
        r->entries++;
        r->head_seq = e->seq;
        if (hashes)
            g_hash_table_insert(hashes, &e->seq, e->hash);
        if (e->seq != expect) {
            if (e->seq > expect)
                report_bad(r, expect,
                           expect == e->seq - 1
                               ? "entry %" G_GINT64_FORMAT " is missing (deleted): the next entry"
                                 " is %" G_GINT64_FORMAT
                               : "entries from %" G_GINT64_FORMAT " are missing (deleted): the"
                                 " next entry is %" G_GINT64_FORMAT,
                           expect, e->seq);
            else
                report_bad(r, expect, "entry %" G_GINT64_FORMAT " is out of sequence (numbered %"
                           G_GINT64_FORMAT ")", expect, e->seq);
        }
        if (strcmp(e->prev, prev) != 0)
            report_bad(r, e->seq,
                       e->seq == 1 || i == 0
                           ? "entry %" G_GINT64_FORMAT ": its prev is not the chain's start"
                             " (entries before it removed, or it was moved or edited)"
                           : "entry %" G_GINT64_FORMAT ": its prev is not the previous entry's"
                             " hash (an entry was removed, inserted or moved before it, or it"
                             " was edited)",
                       e->seq);
        char h[65];
        cor_audit_hash(e->seq, e->at, e->operator_name, e->action, e->case_ref, e->detail,
                       e->prev, h);
        if (strcmp(h, e->hash) != 0)
            report_bad(r, e->seq, "entry %" G_GINT64_FORMAT ": its hash does not match its"
                       " contents (edited, or moved to another place)", e->seq);
        prev = e->hash;
        expect = e->seq + 1;
    }
}

void
cor_audit_verify_entries(GPtrArray *entries, cor_audit_report_t *r)
{
    cor_audit_report_clear(r);
    r->ok = true;
    verify_chain(entries, r, NULL);
    if (!r->problem)
        r->problem = g_strdup("");
}

static bool
parse_head(const char *s, int64_t *seq, char hash[65])
{
    char *end = NULL;
    gint64 n = g_ascii_strtoll(s, &end, 10);
    if (!end || end == s || *end != ' ' || n <= 0)
        return false;
    const char *h = end + 1;
    if (strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64)
        return false;
    *seq = n;
    g_strlcpy(hash, h, 65);
    return true;
}

cor_status_t
cor_audit_verify(cor_store_t *st, cor_audit_report_t *r, char **err)
{
    cor_audit_report_clear(r);
    r->ok = true;
    /* The write lock (BEGIN IMMEDIATE, rolled back) rather than a read
     * snapshot: a writer appends the file line in its commit hook, before
     * its commit is visible, so only with writers held off do the table,
     * the meta row and the file show the same moment. */
    cor_status_t s = cor_store_begin(st);
    if (s != COR_OK)
        return fail(err, s, "%s", cor_store_error(st));
    g_autoptr(GPtrArray) entries = NULL;
    s = cor_audit_list(st, NULL, &entries, err);
    g_autofree char *meta = NULL;
    cor_status_t ms = COR_OK;
    if (s == COR_OK)
        ms = cor_store_meta_get(st, "audit_head", &meta);
    g_autofree char *path = cor_audit_anchor_path(st);
    g_autofree char *text = NULL;
    g_autoptr(GError) gerr = NULL;
    bool have_file = s == COR_OK && g_file_get_contents(path, &text, NULL, &gerr);
    cor_store_rollback(st);
    if (s != COR_OK)
        return s;
    if (ms != COR_OK && ms != COR_ERR_NOT_FOUND)
        return fail(err, ms, "%s", cor_store_error(st));

    g_autoptr(GHashTable) hashes = g_hash_table_new(g_int64_hash, g_int64_equal);
    verify_chain(entries, r, hashes);
    const char *head_hash = entries->len
        ? ((cor_audit_entry_t *) entries->pdata[entries->len - 1])->hash : "";
    int64_t head = r->head_seq;

    /* the store's anchor */
    if (!meta) {
        if (head > 0)
            report_bad(r, 1, "the store's anchor (meta audit_head) is missing but the table has"
                       " %" G_GINT64_FORMAT " entries", r->entries);
    } else {
        int64_t mseq = 0;
        char mhash[65];
        if (!parse_head(meta, &mseq, mhash))
            report_bad(r, head, "the store's anchor (meta audit_head) is malformed: '%s'", meta);
        else if (mseq > head)
            report_bad(r, head + 1, "entry %" G_GINT64_FORMAT " is missing (deleted): the"
                       " store's anchor (meta audit_head) says the trail ends at entry %"
                       G_GINT64_FORMAT " but the table ends at %" G_GINT64_FORMAT,
                       head + 1, mseq, head);
        else if (mseq < head)
            report_bad(r, mseq + 1, "entry %" G_GINT64_FORMAT " is not anchored: the store's"
                       " anchor (meta audit_head) says the trail ends at entry %" G_GINT64_FORMAT
                       " (entries added outside corridor)", mseq + 1, mseq);
        else if (strcmp(mhash, head_hash) != 0)
            report_bad(r, head, "entry %" G_GINT64_FORMAT " does not match the store's anchor"
                       " (meta audit_head): replaced", head);
    }

    /* the anchor file */
    if (!have_file) {
        if (!g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return fail(err, COR_ERR_IO, "cannot read the audit anchor file '%s': %s", path,
                        gerr->message);
        if (head > 0)
            report_bad(r, 1, "the anchor file '%s' is missing but the table has %"
                       G_GINT64_FORMAT " entries", path, r->entries);
        goto done;
    }
    {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        int64_t last_seq = 0;
        char last_hash[65] = "";
        for (guint i = 0; lines[i]; i++) {
            if (!*lines[i] && !lines[i + 1])
                break;   /* after the final newline */
            int64_t fseq;
            char fhash[65];
            if (!parse_head(lines[i], &fseq, fhash)) {
                report_bad(r, 0, "the anchor file '%s' line %u is malformed: '%s'", path, i + 1,
                           lines[i]);
                continue;
            }
            if (fseq > head) {
                report_bad(r, head + 1, "entry %" G_GINT64_FORMAT " is missing (deleted): the"
                           " anchor file '%s' (line %u) records entry %" G_GINT64_FORMAT
                           " but the table ends at %" G_GINT64_FORMAT,
                           head + 1, path, i + 1, fseq, head);
            } else {
                const char *h = g_hash_table_lookup(hashes, &fseq);
                if (!h)
                    report_bad(r, fseq, "entry %" G_GINT64_FORMAT " is missing (deleted): the"
                               " anchor file '%s' (line %u) records it", fseq, path, i + 1);
                else if (strcmp(h, fhash) != 0)
                    report_bad(r, fseq, "entry %" G_GINT64_FORMAT " does not match the anchor"
                               " file '%s' (line %u): replaced", fseq, path, i + 1);
            }
            last_seq = fseq;
            g_strlcpy(last_hash, fhash, sizeof last_hash);
        }
        if (head > 0 && (last_seq != head || strcmp(last_hash, head_hash) != 0) &&
            last_seq < head)
            report_bad(r, last_seq + 1, "entry %" G_GINT64_FORMAT " is not in the anchor file"
                       " '%s', which ends at entry %" G_GINT64_FORMAT " (entries added outside"
                       " corridor, or the file was cut short)", last_seq + 1, path, last_seq);
    }
done:
    if (!r->problem)
        r->problem = g_strdup("");
    return COR_OK;
}

/* ---- officers ---- */

static GPtrArray *
officer_list(const char *s)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) parts = g_strsplit_set(s ? s : "", ", \t\n", -1);
    for (guint i = 0; parts[i]; i++) {
        if (!*parts[i])
            continue;
        bool dup = false;
        for (guint j = 0; j < out->len && !dup; j++)
            dup = strcmp(out->pdata[j], parts[i]) == 0;
        if (!dup)
            g_ptr_array_add(out, g_strdup(parts[i]));
    }
    return out;
}

static gint
cmp_strp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static void
add_list(JsonBuilder *b, const char *name, GPtrArray *l)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (guint i = 0; i < l->len; i++)
        json_builder_add_string_value(b, l->pdata[i]);
    json_builder_end_array(b);
}

cor_status_t
cor_audit_sync_officers(cor_store_t *st, const char *operator_name, const char *officers,
                        bool *changed, char **err)
{
    if (changed)
        *changed = false;
    g_autoptr(GPtrArray) now = officer_list(officers);
    g_ptr_array_sort(now, cmp_strp);

    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT detail FROM audit WHERE action = 'role.change' ORDER BY seq DESC LIMIT 1");
    if (!q)
        return fail(err, COR_ERR_STORE, "%s", cor_store_error(st));
    g_autofree char *last = NULL;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        last = cor_store_col_text(q, 0);
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        cor_status_t s = cor_store_sqlite_error(st, rc, "cannot read the audit trail");
        return fail(err, s, "%s", cor_store_error(st));
    }
    g_autoptr(GPtrArray) before = g_ptr_array_new_with_free_func(g_free);
    if (last) {
        g_autoptr(JsonParser) p = json_parser_new();
        if (json_parser_load_from_data(p, last, -1, NULL)) {
            JsonNode *root = json_parser_get_root(p);
            JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
            JsonArray *a = o && json_object_has_member(o, "officers")
                ? json_object_get_array_member(o, "officers") : NULL;
            for (guint i = 0; a && i < json_array_get_length(a); i++) {
                const char *s = json_array_get_string_element(a, i);
                if (s)
                    g_ptr_array_add(before, g_strdup(s));
            }
        }
        g_ptr_array_sort(before, cmp_strp);
    }
    bool same = now->len == before->len;
    for (guint i = 0; same && i < now->len; i++)
        same = strcmp(now->pdata[i], before->pdata[i]) == 0;
    if (same)
        return COR_OK;   /* also: no entry yet and nobody configured */

    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "role");
    json_builder_add_string_value(b, "records officer");
    add_list(b, "officers", now);
    add_list(b, "previous", before);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    g_autofree char *detail = json_generator_to_data(gen, NULL);
    cor_status_t s = cor_audit_append(st, operator_name, "role.change", "", detail, NULL, err);
    if (s == COR_OK && changed)
        *changed = true;
    return s;
}
