/* core/store_policy.c — the store's tables for the filters: per-group
 * settings, held posts, first posts, and a message's places for the index.
 * Schema and design notes: store.h. */
#include <string.h>

#include "core/store.h"
#include "core/store_internal.h"

/* ---- group settings ---- */

cor_status_t
cor_store_group_setting_set(cor_store_t *st, int64_t group_id, const char *key, const char *value)
{
    sqlite3_stmt *q = cor_store_stmt(st, value
        ? "INSERT INTO group_settings (group_id, key, value) VALUES (?1, ?2, ?3)"
          " ON CONFLICT (group_id, key) DO UPDATE SET value = excluded.value"
        : "DELETE FROM group_settings WHERE group_id = ?1 AND key = ?2");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
    if (value)
        sqlite3_bind_text(q, 3, value, -1, SQLITE_STATIC);
    return cor_store_step_done(st, q, "cannot change the group's setting");
}

cor_status_t
cor_store_group_settings(cor_store_t *st, int64_t group_id, GPtrArray **pairs)
{
    *pairs = NULL;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT key, value FROM group_settings WHERE group_id = ?1 ORDER BY key");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        g_ptr_array_add(out, cor_store_col_text(q, 0));
        g_ptr_array_add(out, cor_store_col_text(q, 1));
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        g_ptr_array_unref(out);
        return cor_store_sqlite_error(st, rc, "cannot read the group's settings");
    }
    *pairs = out;
    return COR_OK;
}

cor_status_t
cor_store_first_post(cor_store_t *st, int64_t group_id, const char *from_addr, bool *first)
{
    *first = true;
    if (!from_addr || !*from_addr)
        return COR_OK;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT 1 FROM messages m JOIN thread_nodes n ON n.msg = m.id"
        " WHERE m.from_addr = ?2 AND n.group_id = ?1"
        "   AND n.status IN ('accepted', 'restricted') LIMIT 1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, from_addr, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        *first = false;
    else if (rc != SQLITE_DONE)
        return cor_store_sqlite_error(st, rc, "cannot look up the sender's posts");
    return COR_OK;
}

/* ---- held posts ---- */

void
cor_held_free(cor_held_t *h)
{
    if (!h)
        return;
    g_free(h->group);
    g_free(h->message_id);
    g_free(h->sha256);
    g_free(h->env_from);
    g_free(h->rcpt);
    g_free(h->from_addr);
    g_free(h->subject);
    g_free(h->filter);
    g_free(h->reason);
    g_free(h->status);
    g_free(h->decided_by);
    g_free(h->note);
    g_free(h);
}

cor_status_t
cor_store_held_add(cor_store_t *st, int64_t group_id, const char *raw, size_t len,
                   const char *sha256, const cor_message_t *msg, const char *env_from,
                   const char *rcpt, int64_t received, const char *filter, const char *reason,
                   bool restricted, int64_t *id_out)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "INSERT INTO held (group_id, message_id, sha256, env_from, rcpt, from_addr, subject,"
        " size, raw, received, filter, reason, restricted)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        " ON CONFLICT (group_id, message_id) DO NOTHING");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, msg->message_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, sha256, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, env_from ? env_from : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, rcpt ? rcpt : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, msg->from_addr, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 7, msg->subject, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 8, (sqlite3_int64) len);
    int rc = sqlite3_bind_blob64(q, 9, raw, len, SQLITE_STATIC);
    if (rc != SQLITE_OK) {
        sqlite3_reset(q);
        return cor_store_sqlite_error(st, rc, "cannot hold the post");
    }
    sqlite3_bind_int64(q, 10, received);
    sqlite3_bind_text(q, 11, filter ? filter : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 12, reason ? reason : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 13, restricted ? 1 : 0);
    cor_status_t s = cor_store_step_done(st, q, "cannot hold the post");
    if (s != COR_OK)
        return s;
    if (sqlite3_changes(st->db) == 0)
        return COR_DUPLICATE;
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(st->db);
    return COR_OK;
}

#define HELD_COLUMNS \
    "h.id, h.group_id, g.name, h.message_id, h.sha256, h.env_from, h.rcpt, h.from_addr," \
    " h.subject, h.size, h.received, h.filter, h.reason, h.restricted, h.status," \
    " coalesce(h.decided, 0), h.decided_by, h.note"

static cor_held_t *
held_row(sqlite3_stmt *q)
{
    cor_held_t *h = g_new0(cor_held_t, 1);
    h->id = sqlite3_column_int64(q, 0);
    h->group_id = sqlite3_column_int64(q, 1);
    h->group = cor_store_col_text(q, 2);
    h->message_id = cor_store_col_text(q, 3);
    h->sha256 = cor_store_col_text(q, 4);
    h->env_from = cor_store_col_text(q, 5);
    h->rcpt = cor_store_col_text(q, 6);
    h->from_addr = cor_store_col_text(q, 7);
    h->subject = cor_store_col_text(q, 8);
    h->size = (uint64_t) sqlite3_column_int64(q, 9);
    h->received = sqlite3_column_int64(q, 10);
    h->filter = cor_store_col_text(q, 11);
    h->reason = cor_store_col_text(q, 12);
    h->restricted = sqlite3_column_int(q, 13) != 0;
    h->status = cor_store_col_text(q, 14);
    h->decided = sqlite3_column_int64(q, 15);
    h->decided_by = cor_store_col_text(q, 16);
    h->note = cor_store_col_text(q, 17);
    return h;
}

cor_status_t
cor_store_held_list(cor_store_t *st, int64_t group_id, const char *status, GPtrArray **out)
{
    *out = NULL;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT " HELD_COLUMNS " FROM held h JOIN groups g ON g.id = h.group_id"
        " WHERE (?1 = 0 OR h.group_id = ?1) AND (?2 IS NULL OR h.status = ?2)"
        " ORDER BY h.id");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    if (status)
        sqlite3_bind_text(q, 2, status, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 2);
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify) cor_held_free);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        g_ptr_array_add(list, held_row(q));
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        g_ptr_array_unref(list);
        return cor_store_sqlite_error(st, rc, "cannot list held posts");
    }
    *out = list;
    return COR_OK;
}

cor_status_t
cor_store_held_get(cor_store_t *st, int64_t id, cor_held_t **out, GBytes **raw)
{
    *out = NULL;
    if (raw)
        *raw = NULL;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT " HELD_COLUMNS ", h.raw FROM held h JOIN groups g ON g.id = h.group_id"
        " WHERE h.id = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *out = held_row(q);
        if (raw)
            *raw = g_bytes_new(sqlite3_column_blob(q, 18), (gsize) sqlite3_column_bytes(q, 18));
        sqlite3_reset(q);
        return COR_OK;
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return cor_store_sqlite_error(st, rc, "cannot read the held post");
    return cor_store_set_error(st, COR_ERR_NOT_FOUND, "no held post %" G_GINT64_FORMAT, id);
}

cor_status_t
cor_store_held_decide(cor_store_t *st, int64_t id, const char *status, int64_t when,
                      const char *by, const char *note)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "UPDATE held SET status = ?2, decided = ?3, decided_by = ?4, note = ?5"
        " WHERE id = ?1 AND status = 'held'");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, when);
    sqlite3_bind_text(q, 4, by ? by : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, note ? note : "", -1, SQLITE_STATIC);
    cor_status_t s = cor_store_step_done(st, q, "cannot record the decision");
    if (s != COR_OK)
        return s;
    if (sqlite3_changes(st->db) == 0)
        return cor_store_set_error(st, COR_ERR_INVALID,
                                   "held post %" G_GINT64_FORMAT " was decided already", id);
    return COR_OK;
}

/* ---- places, for the index ---- */

cor_status_t
cor_store_message_places(cor_store_t *st, int64_t id, GPtrArray **groups, GArray **threads,
                         GArray **restricted)
{
    *groups = NULL;
    *threads = NULL;
    *restricted = NULL;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT g.name, n.thread, n.status FROM thread_nodes n"
        " JOIN groups g ON g.id = n.group_id"
        " WHERE n.msg = ?1 AND n.status IN ('accepted', 'restricted') ORDER BY g.name");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, id);
    GPtrArray *g = g_ptr_array_new_with_free_func(g_free);
    GArray *t = g_array_new(FALSE, FALSE, sizeof(int64_t));
    GArray *r = g_array_new(FALSE, FALSE, sizeof(gboolean));
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        g_ptr_array_add(g, cor_store_col_text(q, 0));
        int64_t th = sqlite3_column_int64(q, 1);
        g_array_append_val(t, th);
        gboolean res = strcmp((const char *) sqlite3_column_text(q, 2), "restricted") == 0;
        g_array_append_val(r, res);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        g_ptr_array_unref(g);
        g_array_unref(t);
        g_array_unref(r);
        return cor_store_sqlite_error(st, rc, "cannot read the message's groups");
    }
    *groups = g;
    *threads = t;
    *restricted = r;
    return COR_OK;
}
