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
    g_free(e->login);
    g_free(e);
}

void
cor_audit_report_clear(cor_audit_report_t *r)
{
    g_clear_pointer(&r->problem, g_free);
    g_clear_pointer(&r->notes, g_free);
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

#define ENTRY_COLUMNS "seq, at, operator, action, case_ref, detail, prev, hash, login_uid, login"

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
    if (sqlite3_column_type(q, 9) != SQLITE_NULL) {
        e->login_uid = sqlite3_column_int64(q, 8);
        e->login = cor_store_col_text(q, 9);
    }
    return e;
}

cor_status_t
cor_audit_list(cor_store_t *st, const char *case_ref, GPtrArray **out, char **err)
{
    *out = g_ptr_array_new_with_free_func((GDestroyNotify) cor_audit_entry_free);
    sqlite3_stmt *q = case_ref
        ? cor_store_stmt(st, "SELECT " ENTRY_COLUMNS " FROM audit WHERE case_ref = ?1 ORDER BY seq")
        : cor_store_stmt(st, "SELECT " ENTRY_COLUMNS " FROM audit ORDER BY seq");
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
    if (e->login) {
        json_builder_set_member_name(b, "login_uid");
        json_builder_add_int_value(b, e->login_uid);
        json_builder_set_member_name(b, "login");
        json_builder_add_string_value(b, e->login);
    }
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
        if (e->login)
            cor_audit_hash2(e->seq, e->at, e->operator_name, e->login_uid, e->login, e->action,
                            e->case_ref, e->detail, e->prev, h);
        else
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
    if (!r->notes)
        r->notes = g_strdup("");
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

/* One "SEQ HASH" line of an anchor file or copy. */
typedef struct anchor_line {
    int64_t seq;
    char hash[65];
    guint line;
} anchor_line_t;

/* The lines of an anchor file's text; a malformed line is a problem named
 * after `what` ("the anchor file 'X'"). */
static GArray *
anchor_lines(const char *text, const char *what, cor_audit_report_t *r)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(anchor_line_t));
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (!*lines[i] && !lines[i + 1])
            break;   /* after the final newline */
        anchor_line_t a = { .line = i + 1 };
        if (!parse_head(lines[i], &a.seq, a.hash)) {
            report_bad(r, 0, "%s line %u is malformed: '%s'", what, i + 1, lines[i]);
            continue;
        }
        g_array_append_val(out, a);
    }
    return out;
}

/* Everything verify reads, from one read transaction. */
typedef struct snapshot {
    GPtrArray *entries;
    char *meta;                  /* audit_head, NULL when absent */
    char *file;                  /* the anchor file's text, NULL when missing */
    char *copy;                  /* the copy's text, NULL when none asked */
    /* the records rows the cross-check needs (design note 6) */
    GPtrArray *cases;            /* refs */
    GHashTable *events;          /* "REF\nKIND" → count (GINT_TO_POINTER) */
    GArray *holds;               /* pairs: id, released (0/1) */
    GPtrArray *plans;            /* "ID STATE" */
    GPtrArray *queries;          /* "ID\nREF" */
    GHashTable *redactions;      /* REF → count */
} snapshot_t;

static void
snapshot_clear(snapshot_t *s)
{
    g_clear_pointer(&s->entries, g_ptr_array_unref);
    g_clear_pointer(&s->meta, g_free);
    g_clear_pointer(&s->file, g_free);
    g_clear_pointer(&s->copy, g_free);
    g_clear_pointer(&s->cases, g_ptr_array_unref);
    g_clear_pointer(&s->events, g_hash_table_unref);
    g_clear_pointer(&s->holds, g_array_unref);
    g_clear_pointer(&s->plans, g_ptr_array_unref);
    g_clear_pointer(&s->queries, g_ptr_array_unref);
    g_clear_pointer(&s->redactions, g_hash_table_unref);
}

/* Runs `sql` and calls `row` for each result row.  COR_OK or the error. */
static cor_status_t
each_row(cor_store_t *st, const char *sql, void (*row)(sqlite3_stmt *q, snapshot_t *s),
         snapshot_t *snap, char **err)
{
    sqlite3_stmt *q = cor_store_stmt(st, sql);
    if (!q)
        return fail(err, COR_ERR_STORE, "%s", cor_store_error(st));
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        row(q, snap);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        cor_status_t s = cor_store_sqlite_error(st, rc, "cannot read the records tables");
        return fail(err, s, "%s", cor_store_error(st));
    }
    return COR_OK;
}

static void
row_case(sqlite3_stmt *q, snapshot_t *s)
{
    g_ptr_array_add(s->cases, cor_store_col_text(q, 0));
}

static void
row_event(sqlite3_stmt *q, snapshot_t *s)
{
    g_autofree char *ref = cor_store_col_text(q, 0), *kind = cor_store_col_text(q, 1);
    g_hash_table_insert(s->events, g_strdup_printf("%s\n%s", ref, kind),
                        GINT_TO_POINTER((int) sqlite3_column_int64(q, 2)));
}

static void
row_hold(sqlite3_stmt *q, snapshot_t *s)
{
    int64_t v[2] = { sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1) };
    g_array_append_vals(s->holds, v, 2);
}

static void
row_plan(sqlite3_stmt *q, snapshot_t *s)
{
    g_autofree char *state = cor_store_col_text(q, 1);
    g_ptr_array_add(s->plans, g_strdup_printf("%" G_GINT64_FORMAT " %s",
                                              (int64_t) sqlite3_column_int64(q, 0), state));
}

static void
row_query(sqlite3_stmt *q, snapshot_t *s)
{
    g_autofree char *ref = cor_store_col_text(q, 1);
    g_ptr_array_add(s->queries, g_strdup_printf("%" G_GINT64_FORMAT "\n%s",
                                                (int64_t) sqlite3_column_int64(q, 0), ref));
}

static void
row_redactions(sqlite3_stmt *q, snapshot_t *s)
{
    g_hash_table_insert(s->redactions, cor_store_col_text(q, 0),
                        GINT_TO_POINTER((int) sqlite3_column_int64(q, 1)));
}

/* Reads a file whole: COR_OK with *text (NULL when it does not exist), or
 * COR_ERR_IO. */
static cor_status_t
read_text(const char *path, const char *what, char **text, char **err)
{
    g_autoptr(GError) gerr = NULL;
    if (g_file_get_contents(path, text, NULL, &gerr))
        return COR_OK;
    *text = NULL;
    if (g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return COR_OK;
    return fail(err, COR_ERR_IO, "cannot read %s '%s': %s", what, path, gerr->message);
}

static cor_status_t
read_snapshot(cor_store_t *st, const char *path, const char *copy, snapshot_t *snap, char **err)
{
    cor_status_t s = cor_store_begin_read(st);
    if (s != COR_OK)
        return fail(err, s, "%s", cor_store_error(st));
    snap->cases = g_ptr_array_new_with_free_func(g_free);
    snap->events = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    snap->holds = g_array_new(FALSE, FALSE, sizeof(int64_t));
    snap->plans = g_ptr_array_new_with_free_func(g_free);
    snap->queries = g_ptr_array_new_with_free_func(g_free);
    snap->redactions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    s = cor_audit_list(st, NULL, &snap->entries, err);
    if (s == COR_OK) {
        cor_status_t ms = cor_store_meta_get(st, "audit_head", &snap->meta);
        if (ms != COR_OK && ms != COR_ERR_NOT_FOUND)
            s = fail(err, ms, "%s", cor_store_error(st));
    }
    if (s == COR_OK)
        s = each_row(st, "SELECT ref FROM cases ORDER BY id", row_case, snap, err);
    if (s == COR_OK)
        s = each_row(st, "SELECT c.ref, e.kind, count(*) FROM case_events e"
                         " JOIN cases c ON c.id = e.case_id GROUP BY c.ref, e.kind",
                     row_event, snap, err);
    if (s == COR_OK)
        s = each_row(st, "SELECT id, released IS NOT NULL FROM holds ORDER BY id", row_hold,
                     snap, err);
    if (s == COR_OK)
        s = each_row(st, "SELECT id, state FROM disposals ORDER BY id", row_plan, snap, err);
    if (s == COR_OK)
        s = each_row(st, "SELECT q.id, c.ref FROM case_queries q JOIN cases c ON c.id = q.case_id"
                         " ORDER BY q.id", row_query, snap, err);
    if (s == COR_OK)
        s = each_row(st, "SELECT c.ref, count(*) FROM redactions r"
                         " JOIN cases c ON c.id = r.case_id GROUP BY c.ref",
                     row_redactions, snap, err);
    /* the file after the snapshot: every line of a commit the snapshot
     * shows is in it already (written before that commit) */
    if (s == COR_OK)
        s = read_text(path, "the audit anchor file", &snap->file, err);
    if (s == COR_OK && copy) {
        s = read_text(copy, "the anchor copy", &snap->copy, err);
        if (s == COR_OK && !snap->copy)
            s = fail(err, COR_ERR_IO, "cannot read the anchor copy '%s': no such file", copy);
    }
    cor_store_end_read(st);
    return s;
}

/* Member `name` of a detail object as an integer, or -1. */
static int64_t
detail_int(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
        return -1;
    return json_node_get_int(n);
}

static const char *
detail_str(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

static gint64 *
key64(int64_t v)
{
    gint64 *k = g_new(gint64, 1);
    *k = v;
    return k;
}

/* seq of the first entry that recorded `id` under `table` (0: none). */
static void
note_first(GHashTable *table, int64_t id, int64_t seq, int64_t *dup_seq)
{
    if (id < 0)
        return;
    if (g_hash_table_contains(table, &id)) {
        if (dup_seq && !*dup_seq)
            *dup_seq = seq;
        return;
    }
    g_hash_table_insert(table, key64(id), key64(seq));
}

static int64_t
first_seq(GHashTable *table, int64_t id)
{
    gint64 *v = g_hash_table_lookup(table, &id);
    return v ? *v : 0;
}

/* Design note 6. */
static void
cross_check(const snapshot_t *snap, cor_audit_report_t *r)
{
    g_autoptr(GHashTable) opened = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GHashTable) ev = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) placed = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    g_autoptr(GHashTable) released = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    g_autoptr(GHashTable) planned = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    g_autoptr(GHashTable) approved = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    g_autoptr(GHashTable) ran = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    g_autoptr(GHashTable) queried = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    g_autoptr(GHashTable) redacted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    int64_t dup_case = 0, dup_hold = 0, dup_plan = 0;
    static const struct {
        const char *action, *kind;
    } event_actions[] = {
        { "case.open", "open" }, { "case.note", "note" }, { "case.stop-clock", "stop" },
        { "case.resume", "resume" }, { "case.close", "close" },
    };

    for (guint i = 0; i < snap->entries->len; i++) {
        cor_audit_entry_t *e = snap->entries->pdata[i];
        const char *a = e->action;
        for (size_t k = 0; k < G_N_ELEMENTS(event_actions); k++) {
            if (strcmp(a, event_actions[k].action) != 0)
                continue;
            g_autofree char *key = g_strdup_printf("%s\n%s", e->case_ref, event_actions[k].kind);
            int n = GPOINTER_TO_INT(g_hash_table_lookup(ev, key));
            g_hash_table_replace(ev, g_steal_pointer(&key), GINT_TO_POINTER(n + 1));
        }
        if (strcmp(a, "case.open") == 0) {
            if (g_hash_table_contains(opened, e->case_ref)) {
                if (!dup_case)
                    dup_case = e->seq;
            } else {
                g_hash_table_insert(opened, g_strdup(e->case_ref), key64(e->seq));
            }
        }
        bool wanted = strcmp(a, "hold.place") == 0 || strcmp(a, "hold.release") == 0 ||
                      g_str_has_prefix(a, "retention.") || strcmp(a, "foi.search") == 0 ||
                      strcmp(a, "sar.search") == 0 || strcmp(a, "case.add") == 0 ||
                      strcmp(a, "redact") == 0;
        if (!wanted)
            continue;
        g_autoptr(JsonParser) p = json_parser_new();
        if (!json_parser_load_from_data(p, e->detail, -1, NULL))
            continue;
        JsonNode *root = json_parser_get_root(p);
        JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
        if (strcmp(a, "hold.place") == 0)
            note_first(placed, detail_int(o, "hold"), e->seq, &dup_hold);
        else if (strcmp(a, "hold.release") == 0)
            note_first(released, detail_int(o, "hold"), e->seq, NULL);
        else if (strcmp(a, "retention.plan") == 0)
            note_first(planned, detail_int(o, "plan"), e->seq, &dup_plan);
        else if (strcmp(a, "retention.approve") == 0)
            note_first(approved, detail_int(o, "plan"), e->seq, NULL);
        else if (strcmp(a, "retention.run") == 0)
            note_first(ran, detail_int(o, "plan"), e->seq, NULL);
        else if (strcmp(a, "redact") == 0) {
            const char *op = detail_str(o, "op");
            int64_t made = 0;
            if (op && strcmp(op, "propose") == 0) {
                made = detail_int(o, "proposed");
            } else if (op && strcmp(op, "manual") == 0) {
                JsonNode *n = json_object_get_member(o, "spans");
                if (!n || !JSON_NODE_HOLDS_ARRAY(n))
                    n = json_object_get_member(o, "ids");
                if (n && JSON_NODE_HOLDS_ARRAY(n))
                    made = json_array_get_length(json_node_get_array(n));
            }
            if (made > 0) {
                int n = GPOINTER_TO_INT(g_hash_table_lookup(redacted, e->case_ref));
                g_hash_table_replace(redacted, g_strdup(e->case_ref),
                                     GINT_TO_POINTER(n + (int) made));
            }
        } else {
            /* foi.search, sar.search, case.add: the search they recorded */
            note_first(queried, detail_int(o, "query_id"), e->seq, NULL);
        }
    }

    /* rows without their entry */
    g_autoptr(GHashTable) case_rows = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < snap->cases->len; i++) {
        const char *ref = snap->cases->pdata[i];
        g_hash_table_add(case_rows, (gpointer) ref);
        if (!g_hash_table_contains(opened, ref))
            report_bad(r, 0, "case '%s' has no case.open entry in the audit trail (its entry was"
                       " removed)", ref);
    }
    g_autoptr(GHashTable) hold_rows = g_hash_table_new(g_int64_hash, g_int64_equal);
    for (guint i = 0; i + 1 < snap->holds->len; i += 2) {
        int64_t *id = &g_array_index(snap->holds, int64_t, i);
        g_hash_table_add(hold_rows, id);
        if (!first_seq(placed, *id))
            report_bad(r, 0, "hold %" G_GINT64_FORMAT " has no hold.place entry in the audit"
                       " trail (its entry was removed)", *id);
        else if (id[1] && !first_seq(released, *id))
            report_bad(r, 0, "hold %" G_GINT64_FORMAT " is released but has no hold.release"
                       " entry in the audit trail (its entry was removed)", *id);
    }
    g_autoptr(GHashTable) plan_rows = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                                            NULL);
    for (guint i = 0; i < snap->plans->len; i++) {
        const char *row = snap->plans->pdata[i];
        int64_t id = g_ascii_strtoll(row, NULL, 10);
        const char *state = strchr(row, ' ') + 1;
        g_hash_table_add(plan_rows, key64(id));
        const char *missing = !first_seq(planned, id) ? "retention.plan"
            : strcmp(state, "planned") != 0 && !first_seq(approved, id) ? "retention.approve"
            : strcmp(state, "done") == 0 && !first_seq(ran, id) ? "retention.run" : NULL;
        if (missing)
            report_bad(r, 0, "retention plan %" G_GINT64_FORMAT " (%s) has no %s entry in the"
                       " audit trail (its entry was removed)", id, state, missing);
    }
    g_autoptr(GHashTable) query_rows = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                                             NULL);
    for (guint i = 0; i < snap->queries->len; i++) {
        const char *row = snap->queries->pdata[i];
        int64_t id = g_ascii_strtoll(row, NULL, 10);
        g_hash_table_add(query_rows, key64(id));
        if (!first_seq(queried, id))
            report_bad(r, 0, "search %" G_GINT64_FORMAT " of case '%s' has no entry in the audit"
                       " trail (its entry was removed)", id, strchr(row, '\n') + 1);
    }
    /* events and redactions: as many entries as rows, per case */
    GHashTableIter it;
    gpointer k, v;
    g_autoptr(GHashTable) keys = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_iter_init(&it, snap->events);
    while (g_hash_table_iter_next(&it, &k, NULL))
        g_hash_table_add(keys, k);
    g_hash_table_iter_init(&it, ev);
    while (g_hash_table_iter_next(&it, &k, NULL))
        g_hash_table_add(keys, k);
    g_autoptr(GList) sorted = g_list_sort(g_hash_table_get_keys(keys), (GCompareFunc) strcmp);
    for (GList *l = sorted; l; l = l->next) {
        const char *key = l->data;
        int rows = GPOINTER_TO_INT(g_hash_table_lookup(snap->events, key));
        int entries = GPOINTER_TO_INT(g_hash_table_lookup(ev, key));
        g_autofree char *ref = g_strndup(key, (gsize) (strchr(key, '\n') - key));
        const char *kind = strchr(key, '\n') + 1;
        if (rows != entries && g_hash_table_contains(case_rows, ref))
            report_bad(r, 0, "case '%s' has %d '%s' event%s but the audit trail records %d"
                       " (%s)", ref, rows, kind, rows == 1 ? "" : "s", entries,
                       rows > entries ? "entries removed" : "events removed");
    }
    g_hash_table_remove_all(keys);
    g_hash_table_iter_init(&it, snap->redactions);
    while (g_hash_table_iter_next(&it, &k, NULL))
        g_hash_table_add(keys, k);
    g_hash_table_iter_init(&it, redacted);
    while (g_hash_table_iter_next(&it, &k, NULL))
        g_hash_table_add(keys, k);
    g_clear_pointer(&sorted, g_list_free);
    sorted = g_list_sort(g_hash_table_get_keys(keys), (GCompareFunc) strcmp);
    for (GList *l = sorted; l; l = l->next) {
        int rows = GPOINTER_TO_INT(g_hash_table_lookup(snap->redactions, l->data));
        int made = GPOINTER_TO_INT(g_hash_table_lookup(redacted, l->data));
        if (rows != made && g_hash_table_contains(case_rows, l->data))
            report_bad(r, 0, "case '%s' has %d redaction%s but its audit entries created %d (%s)",
                       (const char *) l->data, rows, rows == 1 ? "" : "s", made,
                       rows > made ? "entries removed" : "redactions removed");
    }

    /* entries without their row */
    g_autoptr(GList) refs = g_list_sort(g_hash_table_get_keys(opened), (GCompareFunc) strcmp);
    for (GList *l = refs; l; l = l->next) {
        int64_t seq = *(gint64 *) g_hash_table_lookup(opened, l->data);
        if (!g_hash_table_contains(case_rows, l->data))
            report_bad(r, seq, "entry %" G_GINT64_FORMAT " (case.open) records case '%s', which"
                       " the store does not have (deleted)", seq, (const char *) l->data);
    }
    struct {
        GHashTable *entries, *rows;
        const char *what, *action;
    } back[] = {
        { placed, hold_rows, "hold", "hold.place" },
        { planned, plan_rows, "retention plan", "retention.plan" },
        { queried, query_rows, "search", "its search" },
    };
    for (size_t b = 0; b < G_N_ELEMENTS(back); b++) {
        g_hash_table_iter_init(&it, back[b].entries);
        while (g_hash_table_iter_next(&it, &k, &v))
            if (!g_hash_table_contains(back[b].rows, k))
                report_bad(r, *(gint64 *) v, "entry %" G_GINT64_FORMAT " (%s) records %s %"
                           G_GINT64_FORMAT ", which the store does not have (deleted)",
                           *(gint64 *) v, back[b].action, back[b].what, *(gint64 *) k);
    }
    if (dup_case)
        report_bad(r, dup_case, "entry %" G_GINT64_FORMAT " opens a case that an earlier entry"
                   " opened (its row was deleted and made again)", dup_case);
    if (dup_hold)
        report_bad(r, dup_hold, "entry %" G_GINT64_FORMAT " places a hold whose number an earlier"
                   " entry placed (its row was deleted and made again)", dup_hold);
    if (dup_plan)
        report_bad(r, dup_plan, "entry %" G_GINT64_FORMAT " records a plan whose number an earlier"
                   " entry recorded (its row was deleted and made again)", dup_plan);
}

/* The (seq, hash) lines that audit.stray-anchor entries recorded: "SEQ
 * HASH" → the entry's seq, only where the entry took that seq itself
 * (core/audit.h note 4). */
static GHashTable *
stray_records(GPtrArray *entries, GString *notes)
{
    GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < entries->len; i++) {
        cor_audit_entry_t *e = entries->pdata[i];
        if (strcmp(e->action, "audit.stray-anchor") != 0)
            continue;
        g_autoptr(JsonParser) p = json_parser_new();
        if (!json_parser_load_from_data(p, e->detail, -1, NULL))
            continue;
        JsonNode *root = json_parser_get_root(p);
        JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
        JsonNode *n = o ? json_object_get_member(o, "stray") : NULL;
        if (!n || !JSON_NODE_HOLDS_ARRAY(n))
            continue;
        JsonArray *a = json_node_get_array(n);
        guint listed = 0;
        for (guint j = 0; j < json_array_get_length(a); j++) {
            JsonNode *x = json_array_get_element(a, j);
            JsonObject *xo = JSON_NODE_HOLDS_OBJECT(x) ? json_node_get_object(x) : NULL;
            const char *h = detail_str(xo, "hash");
            if (detail_int(xo, "seq") != e->seq || !h)
                continue;
            g_hash_table_insert(out, g_strdup_printf("%" G_GINT64_FORMAT " %s", e->seq, h),
                                GINT_TO_POINTER(1));
            listed++;
        }
        g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(e->at);
        g_autofree char *when = t ? g_date_time_format(t, "%Y-%m-%d %H:%M:%S UTC") : g_strdup("?");
        g_string_append_printf(notes, "entry %" G_GINT64_FORMAT " (audit.stray-anchor, %s,"
                               " operator %s) records %u anchor line%s of a commit that did not"
                               " happen: a crash or failure after the line was written, or the"
                               " trail's last entry deleted with the store's anchor rewritten;"
                               " compare the time with the system's log (journalctl"
                               " --list-boots) and an off-machine copy of the anchor file\n",
                               e->seq, when, e->operator_name, listed, listed == 1 ? "" : "s");
    }
    return out;
}

/* The per-line check of an anchor file or copy (`what` names it in
 * messages).  *beyond counts lines past the table's head. */
static void
check_lines(GArray *lines, GHashTable *hashes, GHashTable *strays, int64_t head,
            const char *what, bool local, cor_audit_report_t *r, guint *beyond)
{
    for (guint i = 0; i < lines->len; i++) {
        anchor_line_t *a = &g_array_index(lines, anchor_line_t, i);
        if (a->seq > head) {
            (*beyond)++;
            report_bad(r, head + 1, "entry %" G_GINT64_FORMAT " is missing (deleted): %s (line"
                       " %u) records entry %" G_GINT64_FORMAT " but the table ends at %"
                       G_GINT64_FORMAT "%s", head + 1, what, a->line, a->seq, head,
                       local && a->seq == head + 1 && i + 1 == lines->len
                           ? " (or a commit failed after writing its anchor line: the next"
                             " records command records it)" : "");
            continue;
        }
        const char *h = g_hash_table_lookup(hashes, &a->seq);
        g_autofree char *key = g_strdup_printf("%" G_GINT64_FORMAT " %s", a->seq, a->hash);
        if (!h)
            report_bad(r, a->seq, "entry %" G_GINT64_FORMAT " is missing (deleted): %s (line %u)"
                       " records it", a->seq, what, a->line);
        else if (strcmp(h, a->hash) != 0 && !g_hash_table_contains(strays, key))
            report_bad(r, a->seq, "entry %" G_GINT64_FORMAT " does not match %s (line %u):"
                       " replaced", a->seq, what, a->line);
    }
}

/* Evaluates one snapshot into r; *beyond counts anchor lines past the
 * table's head (maybe commits in flight: worth reading again). */
static void
evaluate(const snapshot_t *snap, const char *path, const char *copy, cor_audit_report_t *r,
         guint *beyond)
{
    *beyond = 0;
    GPtrArray *entries = snap->entries;
    g_autoptr(GHashTable) hashes = g_hash_table_new(g_int64_hash, g_int64_equal);
    verify_chain(entries, r, hashes);
    const char *head_hash = entries->len
        ? ((cor_audit_entry_t *) entries->pdata[entries->len - 1])->hash : "";
    int64_t head = r->head_seq;
    g_autoptr(GString) notes = g_string_new(NULL);
    g_autoptr(GHashTable) strays = stray_records(entries, notes);

    /* the store's anchor */
    const char *meta = snap->meta;
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
    g_autofree char *fwhat = g_strdup_printf("the anchor file '%s'", path);
    g_autoptr(GArray) flines = NULL;
    if (!snap->file) {
        if (head > 0)
            report_bad(r, 1, "the anchor file '%s' is missing but the table has %"
                       G_GINT64_FORMAT " entries", path, r->entries);
    } else {
        flines = anchor_lines(snap->file, fwhat, r);
        check_lines(flines, hashes, strays, head, fwhat, true, r, beyond);
        const anchor_line_t *last = flines->len
            ? &g_array_index(flines, anchor_line_t, flines->len - 1) : NULL;
        int64_t last_seq = last ? last->seq : 0;
        if (head > 0 && last_seq < head)
            report_bad(r, last_seq + 1, "entry %" G_GINT64_FORMAT " is not in the anchor file"
                       " '%s', which ends at entry %" G_GINT64_FORMAT " (entries added outside"
                       " corridor, or the file was cut short)", last_seq + 1, path, last_seq);
    }

    /* the copy kept elsewhere */
    if (copy && snap->copy) {
        g_autofree char *cwhat = g_strdup_printf("the anchor copy '%s'", copy);
        g_autoptr(GArray) clines = anchor_lines(snap->copy, cwhat, r);
        check_lines(clines, hashes, strays, head, cwhat, false, r, beyond);
        /* the local file must still begin with what was copied */
        for (guint i = 0; i < clines->len; i++) {
            anchor_line_t *c = &g_array_index(clines, anchor_line_t, i);
            anchor_line_t *f = flines && i < flines->len
                ? &g_array_index(flines, anchor_line_t, i) : NULL;
            if (!f || f->seq != c->seq || strcmp(f->hash, c->hash) != 0) {
                report_bad(r, c->seq <= head ? c->seq : 0, "the anchor file '%s' %s line %u of"
                           " the anchor copy '%s' (entry %" G_GINT64_FORMAT "): the file was"
                           " rewritten or cut short", path, f ? "differs from" : "ends before",
                           c->line, copy, c->seq);
                break;
            }
        }
    }

    if (r->ok)
        cross_check(snap, r);
    g_free(r->notes);
    r->notes = g_strdup(notes->str);
}

cor_status_t
cor_audit_verify_with(cor_store_t *st, const char *anchor_copy, cor_audit_report_t *r,
                      char **err)
{
    g_autofree char *path = cor_audit_anchor_path(st);
    for (int attempt = 0;; attempt++) {
        cor_audit_report_clear(r);
        r->ok = true;
        snapshot_t snap = { 0 };
        cor_status_t s = read_snapshot(st, path, anchor_copy, &snap, err);
        guint beyond = 0;
        if (s == COR_OK)
            evaluate(&snap, path, anchor_copy, r, &beyond);
        snapshot_clear(&snap);
        if (s != COR_OK) {
            cor_audit_report_clear(r);
            return s;
        }
        /* a writer appends its line just before its commit is visible: give
         * lines past the head a moment to become entries (up to 2 s) */
        if (r->ok || beyond == 0 || attempt >= 40)
            break;
        g_usleep(50 * 1000);
    }
    if (!r->problem)
        r->problem = g_strdup("");
    if (!r->notes)
        r->notes = g_strdup("");
    return COR_OK;
}

cor_status_t
cor_audit_verify(cor_store_t *st, cor_audit_report_t *r, char **err)
{
    return cor_audit_verify_with(st, NULL, r, err);
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
