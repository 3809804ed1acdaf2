/* records/hold.c — legal holds (records/hold.h has the design notes).
 *
 * Durability: a hold, its hold_messages rows and its audit entry are rows
 * of one SQLite transaction; its COMMIT is the single moment of truth. */
#include <stdarg.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "core/store_internal.h"
#include "records/hold.h"

void
cor_hold_free(cor_hold_t *h)
{
    if (!h)
        return;
    g_free(h->kind);
    g_free(h->target);
    g_free(h->reason);
    g_free(h->placed_by);
    g_free(h->released_by);
    g_free(h);
}

bool
cor_hold_kind_valid(const char *kind)
{
    return kind && (strcmp(kind, "case") == 0 || strcmp(kind, "query") == 0 ||
                    strcmp(kind, "group") == 0 || strcmp(kind, "message") == 0);
}

/* Sets *err (when err is not NULL) and returns s. */
static cor_status_t G_GNUC_PRINTF(3, 4)
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

/* True for NULL or nothing but white space. */
static bool
blank(const char *s)
{
    while (s && g_ascii_isspace(*s))
        s++;
    return !s || !*s;
}

/* The store's last error as *err. */
static cor_status_t
store_fail(cor_store_t *st, char **err, cor_status_t s)
{
    return fail(err, s, "%s", cor_store_error(st));
}

cor_status_t
cor_hold_check(cor_store_t *st, int64_t msg, bool *held, int64_t *hold_out, char **err)
{
    *held = false;
    if (hold_out)
        *hold_out = 0;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT hold FROM held_messages WHERE msg = ?1 ORDER BY hold LIMIT 1");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    sqlite3_bind_int64(q, 1, msg);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *held = true;
        if (hold_out)
            *hold_out = sqlite3_column_int64(q, 0);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(st, err, cor_store_sqlite_error(st, rc, "cannot check legal holds"));
    return COR_OK;
}

cor_status_t
cor_hold_holds_of(cor_store_t *st, int64_t msg, GArray **holds, char **err)
{
    *holds = g_array_new(FALSE, FALSE, sizeof(int64_t));
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT DISTINCT hold FROM held_messages WHERE msg = ?1 ORDER BY hold");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    sqlite3_bind_int64(q, 1, msg);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        g_array_append_val(*holds, id);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store_fail(st, err, cor_store_sqlite_error(st, rc, "cannot check legal holds"));
    return COR_OK;
}

cor_status_t
cor_hold_resolve_query(cor_search_db_t *db, cor_store_t *st, const char *query, GArray **msgs,
                       char **err)
{
    *msgs = g_array_new(FALSE, FALSE, sizeof(int64_t));
    cor_search_query_t q = {
        .query = query,
        .all_groups = true,          /* an officer's search: every group, restricted too */
        .sort = COR_SEARCH_SORT_DATE_ASC,
        .exact_total = true,
    };
    cor_search_results_t *r = NULL;
    cor_status_t s = cor_search_run(db, &q, &r);
    if (s != COR_OK)
        return fail(err, s, "%s", cor_search_db_error(db));
    for (; cor_search_results_valid(r); cor_search_results_next(r)) {
        int64_t row = (int64_t) cor_search_results_docid(r);
        g_autoptr(cor_stored_message_t) m = NULL;
        s = cor_store_message_get(st, row, &m);
        if (s == COR_ERR_NOT_FOUND) {   /* the index is ahead of a deleted message */
            s = COR_OK;
            continue;
        }
        if (s != COR_OK)
            break;
        g_array_append_val(*msgs, row);
    }
    cor_search_results_free(r);
    if (s != COR_OK)
        return store_fail(st, err, s);
    return COR_OK;
}

/* A JsonBuilder's object as compact text (transfer full). */
static char *
json_text(JsonBuilder *b)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

static cor_status_t
one_int(cor_store_t *st, sqlite3_stmt *q, int64_t *out, const char *what)
{
    int rc = sqlite3_step(q);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cor_store_sqlite_error(st, rc, what);
    return rc == SQLITE_ROW ? COR_OK : COR_ERR_NOT_FOUND;
}

/* Inside the transaction: the holds row and, for query and message holds,
 * its hold_messages.  *count: the messages it covers. */
static cor_status_t
place_rows(cor_store_t *st, const char *operator_name, const char *kind, const char *target,
           const GArray *query_msgs, const char *reason, int64_t now, int64_t *id_out,
           int64_t *count, char **err)
{
    int64_t case_id = 0, group_id = 0;
    g_autoptr(GArray) rows = NULL;
    g_autofree char *norm = NULL;
    cor_status_t s;
    sqlite3_stmt *q;
    if (strcmp(kind, "case") == 0) {
        q = cor_store_stmt(st, "SELECT id FROM cases WHERE ref = ?1");
        if (!q)
            return store_fail(st, err, COR_ERR_STORE);
        sqlite3_bind_text(q, 1, target, -1, SQLITE_STATIC);
        s = one_int(st, q, &case_id, "cannot read cases");
        if (s == COR_ERR_NOT_FOUND)
            return fail(err, s, "no case '%s'", target);
        if (s != COR_OK)
            return store_fail(st, err, s);
    } else if (strcmp(kind, "group") == 0) {
        g_autoptr(cor_group_t) g = NULL;
        s = cor_store_group_get(st, target, &g);
        if (s == COR_ERR_NO_GROUP || s == COR_ERR_NOT_FOUND)
            return fail(err, COR_ERR_NO_GROUP, "no group '%s'", target);
        if (s != COR_OK)
            return store_fail(st, err, s);
        group_id = g->id;
    } else if (strcmp(kind, "message") == 0) {
        norm = cor_message_id_normalise(target);
        if ((s = cor_store_message_find(st, norm, &rows)) != COR_OK)
            return store_fail(st, err, s);
        if (rows->len == 0)
            return fail(err, COR_ERR_NOT_FOUND, "no message <%s> is stored", norm);
        target = norm;
    } else {
        if (!query_msgs || query_msgs->len == 0)
            return fail(err, COR_ERR_INVALID, "the query '%s' matches no message: nothing to hold",
                        target);
    }

    q = cor_store_stmt(st,
        "INSERT INTO holds (kind, case_id, group_id, target, reason, placed_by, placed)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
    if (case_id)
        sqlite3_bind_int64(q, 2, case_id);
    else
        sqlite3_bind_null(q, 2);
    if (group_id)
        sqlite3_bind_int64(q, 3, group_id);
    else
        sqlite3_bind_null(q, 3);
    sqlite3_bind_text(q, 4, target, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, operator_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, now);
    if ((s = cor_store_step_done(st, q, "cannot record the hold")) != COR_OK)
        return store_fail(st, err, s);
    int64_t id = sqlite3_last_insert_rowid(st->db);

    const GArray *covered = rows ? rows : strcmp(kind, "query") == 0 ? query_msgs : NULL;
    for (guint i = 0; covered && i < covered->len; i++) {
        q = cor_store_stmt(st, "INSERT OR IGNORE INTO hold_messages (hold, msg) VALUES (?1, ?2)");
        if (!q)
            return store_fail(st, err, COR_ERR_STORE);
        sqlite3_bind_int64(q, 1, id);
        sqlite3_bind_int64(q, 2, g_array_index(covered, int64_t, i));
        if ((s = cor_store_step_done(st, q, "cannot record the held messages")) != COR_OK)
            return store_fail(st, err, s);
    }
    g_autoptr(cor_hold_t) h = NULL;
    if ((s = cor_hold_get(st, id, &h, err)) != COR_OK)
        return s;
    *id_out = id;
    *count = h->messages;
    return COR_OK;
}

cor_status_t
cor_hold_place(cor_store_t *st, const char *operator_name, const char *kind, const char *target,
               const GArray *query_msgs, const char *reason, int64_t now, int64_t *id_out,
               int64_t *count_out, char **err)
{
    *id_out = 0;
    if (!cor_hold_kind_valid(kind))
        return fail(err, COR_ERR_INVALID, "unknown kind of hold '%s'", kind ? kind : "");
    if (!target || !*target)
        return fail(err, COR_ERR_INVALID, "a %s hold needs a target", kind);
    if (blank(reason))
        return fail(err, COR_ERR_INVALID, "a hold needs a reason (--reason)");
    cor_status_t s = cor_store_begin(st);
    if (s != COR_OK)
        return store_fail(st, err, s);
    int64_t id = 0, count = 0;
    s = place_rows(st, operator_name, kind, target, query_msgs, reason, now, &id, &count, err);
    if (s == COR_OK) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "hold");
        json_builder_add_int_value(b, id);
        json_builder_set_member_name(b, "kind");
        json_builder_add_string_value(b, kind);
        json_builder_set_member_name(b, "target");
        json_builder_add_string_value(b, target);
        json_builder_set_member_name(b, "reason");
        json_builder_add_string_value(b, reason);
        json_builder_set_member_name(b, "messages");
        json_builder_add_int_value(b, count);
        json_builder_end_object(b);
        g_autofree char *detail = json_text(b);
        s = cor_audit_append(st, operator_name, "hold.place",
                             strcmp(kind, "case") == 0 ? target : "", detail, NULL, err);
    }
    if (s == COR_OK && (s = cor_store_commit(st)) != COR_OK)
        store_fail(st, err, s);
    if (s != COR_OK) {
        cor_store_rollback(st);
        return s;
    }
    *id_out = id;
    if (count_out)
        *count_out = count;
    return COR_OK;
}

cor_status_t
cor_hold_release(cor_store_t *st, const char *operator_name, int64_t id, const char *reason,
                 int64_t now, char **err)
{
    if (blank(reason))
        return fail(err, COR_ERR_INVALID, "releasing a hold needs a reason (--reason)");
    cor_status_t s = cor_store_begin(st);
    if (s != COR_OK)
        return store_fail(st, err, s);
    g_autoptr(cor_hold_t) h = NULL;
    s = cor_hold_get(st, id, &h, err);
    if (s == COR_OK && h->released)
        s = fail(err, COR_ERR_INVALID, "hold %" G_GINT64_FORMAT " was released already, by %s",
                 id, h->released_by);
    if (s == COR_OK) {
        sqlite3_stmt *q = cor_store_stmt(st,
            "UPDATE holds SET released_by = ?2, released = ?3 WHERE id = ?1 AND released IS NULL");
        if (!q) {
            s = store_fail(st, err, COR_ERR_STORE);
        } else {
            sqlite3_bind_int64(q, 1, id);
            sqlite3_bind_text(q, 2, operator_name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(q, 3, now);
            if ((s = cor_store_step_done(st, q, "cannot release the hold")) != COR_OK)
                store_fail(st, err, s);
        }
    }
    if (s == COR_OK) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "hold");
        json_builder_add_int_value(b, id);
        json_builder_set_member_name(b, "kind");
        json_builder_add_string_value(b, h->kind);
        json_builder_set_member_name(b, "target");
        json_builder_add_string_value(b, h->target);
        json_builder_set_member_name(b, "reason");
        json_builder_add_string_value(b, reason);
        json_builder_set_member_name(b, "messages");
        json_builder_add_int_value(b, h->messages);
        json_builder_end_object(b);
        g_autofree char *detail = json_text(b);
        s = cor_audit_append(st, operator_name, "hold.release",
                             strcmp(h->kind, "case") == 0 ? h->target : "", detail, NULL, err);
    }
    if (s == COR_OK && (s = cor_store_commit(st)) != COR_OK)
        store_fail(st, err, s);
    if (s != COR_OK)
        cor_store_rollback(st);
    return s;
}

/* The columns of cor_hold_t, with the messages each covers now. */
#define HOLD_COLS \
    "h.id, h.kind, h.target, h.reason, h.placed_by, h.placed, coalesce(h.released_by, '')," \
    " coalesce(h.released, 0)," \
    " CASE h.kind" \
    "  WHEN 'case' THEN (SELECT count(*) FROM case_messages cm WHERE cm.case_id = h.case_id)" \
    "  WHEN 'group' THEN (SELECT count(DISTINCT tn.msg) FROM thread_nodes tn" \
    "                     WHERE tn.group_id = h.group_id AND tn.msg IS NOT NULL)" \
    "  ELSE (SELECT count(*) FROM hold_messages hm JOIN messages m ON m.id = hm.msg" \
    "        WHERE hm.hold = h.id) END"

static cor_hold_t *
hold_row(sqlite3_stmt *q)
{
    cor_hold_t *h = g_new0(cor_hold_t, 1);
    h->id = sqlite3_column_int64(q, 0);
    h->kind = cor_store_col_text(q, 1);
    h->target = cor_store_col_text(q, 2);
    h->reason = cor_store_col_text(q, 3);
    h->placed_by = cor_store_col_text(q, 4);
    h->placed = sqlite3_column_int64(q, 5);
    h->released_by = cor_store_col_text(q, 6);
    h->released = sqlite3_column_int64(q, 7);
    h->messages = sqlite3_column_int64(q, 8);
    return h;
}

cor_status_t
cor_hold_list(cor_store_t *st, bool all, GPtrArray **out, char **err)
{
    *out = g_ptr_array_new_with_free_func((GDestroyNotify) cor_hold_free);
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT " HOLD_COLS " FROM holds h WHERE ?1 OR h.released IS NULL ORDER BY h.id");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    sqlite3_bind_int(q, 1, all ? 1 : 0);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        g_ptr_array_add(*out, hold_row(q));
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store_fail(st, err, cor_store_sqlite_error(st, rc, "cannot list holds"));
    return COR_OK;
}

cor_status_t
cor_hold_get(cor_store_t *st, int64_t id, cor_hold_t **out, char **err)
{
    *out = NULL;
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT " HOLD_COLS " FROM holds h WHERE h.id = ?1");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *out = hold_row(q);
    sqlite3_reset(q);
    if (rc == SQLITE_DONE)
        return fail(err, COR_ERR_NOT_FOUND, "no hold %" G_GINT64_FORMAT, id);
    if (rc != SQLITE_ROW)
        return store_fail(st, err, cor_store_sqlite_error(st, rc, "cannot read the hold"));
    return COR_OK;
}
