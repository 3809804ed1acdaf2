/* core/store_digest.c — what the digests keep in the store: the post
 * sequence, people's digest choices, their digest-mode memberships with
 * where the next digest starts, the posts of a digest and the record of
 * every digest made.  Schema and ownership: store.h. */
#include <string.h>
#include <time.h>

#include "core/store.h"
#include "core/store_internal.h"

cor_status_t
cor_store_post_seq(cor_store_t *st, int64_t *seq)
{
    *seq = 0;
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT value FROM counters WHERE name = 'post'");
    if (!q)
        return COR_ERR_STORE;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *seq = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE
               ? COR_OK : cor_store_sqlite_error(st, rc, "cannot read the post sequence");
}

/* ---- a person's choices ---- */

cor_status_t
cor_store_digest_prefs_get(cor_store_t *st, const char *address, bool *combined, char **format)
{
    *combined = false;
    *format = NULL;
    g_autofree char *addr = g_ascii_strdown(address, -1);
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT combined, format FROM digest_prefs WHERE address = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, addr, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *combined = sqlite3_column_int(q, 0) != 0;
        *format = cor_store_col_text(q, 1);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cor_store_sqlite_error(st, rc, "cannot read digest settings");
    if (!*format)
        *format = g_strdup("multipart");
    return COR_OK;
}

cor_status_t
cor_store_digest_prefs_set(cor_store_t *st, const char *address, const bool *combined,
                           const char *format)
{
    g_autofree char *addr = g_ascii_strdown(address, -1);
    sqlite3_stmt *q = cor_store_stmt(st,
        "INSERT INTO digest_prefs (address, combined, format, updated)"
        " VALUES (?1, coalesce(?2, 0), coalesce(?3, 'multipart'), ?4)"
        " ON CONFLICT (address) DO UPDATE SET combined = coalesce(?2, combined),"
        "  format = coalesce(?3, format), updated = ?4");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, addr, -1, SQLITE_STATIC);
    if (combined)
        sqlite3_bind_int(q, 2, *combined ? 1 : 0);
    else
        sqlite3_bind_null(q, 2);
    if (format)
        sqlite3_bind_text(q, 3, format, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 3);
    sqlite3_bind_int64(q, 4, (sqlite3_int64) time(NULL));
    return cor_store_step_done(st, q, "cannot change digest settings");
}

/* ---- memberships ---- */

void
cor_digest_membership_free(cor_digest_membership_t *m)
{
    if (!m)
        return;
    g_free(m->group);
    g_free(m->title);
    g_free(m->name);
    g_free(m->token);
    g_free(m);
}

cor_status_t
cor_store_digest_memberships(cor_store_t *st, const char *address, GPtrArray **out)
{
    *out = NULL;
    g_autofree char *addr = g_ascii_strdown(address, -1);
    /* where the next digest starts: after the member switched to digest
     * mode, and after everything a digest for this group or a combined one
     * covered (store.h) */
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT g.id, g.name, g.title, g.visibility, m.name, coalesce(m.token, ''),"
        " max(m.digest_from, coalesce((SELECT max(d.upto_seq) FROM digests d"
        "   WHERE d.address = m.address AND d.scope IN (g.name, '*')), 0)),"
        " coalesce((SELECT max(d.created) FROM digests d WHERE d.address = m.address"
        "   AND d.scope IN (g.name, '*') AND d.state = 'queued'), 0)"
        " FROM members m JOIN groups g ON g.id = m.group_id"
        " WHERE m.address = ?1 AND m.mode = 'digest' AND m.status = 'enabled'"
        " ORDER BY g.name");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, addr, -1, SQLITE_STATIC);
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify) cor_digest_membership_free);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cor_digest_membership_t *m = g_new0(cor_digest_membership_t, 1);
        m->group_id = sqlite3_column_int64(q, 0);
        m->group = cor_store_col_text(q, 1);
        m->title = cor_store_col_text(q, 2);
        const char *vis = (const char *) sqlite3_column_text(q, 3);
        /* an unknown visibility counts as the strictest */
        if (cor_visibility_from_string(vis ? vis : "", &m->visibility) != COR_OK)
            m->visibility = COR_VISIBILITY_PRIVATE;
        m->name = cor_store_col_text(q, 4);
        m->token = cor_store_col_text(q, 5);
        m->after = sqlite3_column_int64(q, 6);
        m->last_at = sqlite3_column_int64(q, 7);
        g_ptr_array_add(list, m);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        g_ptr_array_unref(list);
        return cor_store_sqlite_error(st, rc, "cannot read digest memberships");
    }
    *out = list;
    return COR_OK;
}

cor_status_t
cor_store_digest_addresses(cor_store_t *st, GPtrArray **out)
{
    *out = NULL;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT DISTINCT address FROM members WHERE mode = 'digest' AND status = 'enabled'"
        " ORDER BY address");
    if (!q)
        return COR_ERR_STORE;
    GPtrArray *list = g_ptr_array_new_with_free_func(g_free);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        g_ptr_array_add(list, cor_store_col_text(q, 0));
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        g_ptr_array_unref(list);
        return cor_store_sqlite_error(st, rc, "cannot read digest members");
    }
    *out = list;
    return COR_OK;
}

/* ---- posts and threads ---- */

cor_status_t
cor_store_digest_posts(cor_store_t *st, int64_t group_id, int64_t after, int64_t upto,
                       cor_status_t (*fn)(const cor_store_digest_post_t *p, void *data), void *data)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT n.seq, m.id, n.thread, m.message_id, m.date, m.subject, m.from_name,"
        " m.from_addr, m.refs, m.has_attachments"
        " FROM thread_nodes n JOIN messages m ON m.id = n.msg"
        " WHERE n.group_id = ?1 AND n.seq > ?2 AND n.seq <= ?3 AND n.status = 'accepted'"
        " ORDER BY n.seq");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_int64(q, 2, after);
    sqlite3_bind_int64(q, 3, upto);
    int rc;
    cor_status_t s = COR_OK;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
#define TEXT(i) (sqlite3_column_text(q, (i)) ? (const char *) sqlite3_column_text(q, (i)) : "")
        cor_store_digest_post_t p = {
            .seq = sqlite3_column_int64(q, 0),
            .msg = sqlite3_column_int64(q, 1),
            .thread = sqlite3_column_int64(q, 2),
            .message_id = TEXT(3),
            .date = sqlite3_column_int64(q, 4),
            .subject = TEXT(5),
            .from_name = TEXT(6),
            .from_addr = TEXT(7),
            .refs = TEXT(8),
            .has_attachments = sqlite3_column_int(q, 9) != 0,
        };
#undef TEXT
        if ((s = fn(&p, data)) != COR_OK)
            break;
    }
    sqlite3_reset(q);
    if (s != COR_OK)
        return s;
    return rc == SQLITE_DONE ? COR_OK : cor_store_sqlite_error(st, rc, "cannot read digest posts");
}

cor_status_t
cor_store_digest_thread(cor_store_t *st, int64_t thread, int64_t after, int64_t upto,
                        char **subject, int64_t *earlier, int64_t *total)
{
    *subject = NULL;
    *earlier = *total = 0;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT m.subject FROM thread_nodes n JOIN messages m ON m.id = n.msg"
        " WHERE n.thread = ?1 AND n.status = 'accepted' AND n.seq <= ?2"
        " ORDER BY m.date, n.seq LIMIT 1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, thread);
    sqlite3_bind_int64(q, 2, upto);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *subject = cor_store_col_text(q, 0);
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cor_store_sqlite_error(st, rc, "cannot read a thread");
    if (!*subject)
        *subject = g_strdup("");
    q = cor_store_stmt(st,
        "SELECT coalesce(sum(n.seq <= ?2), 0), count(*) FROM thread_nodes n"
        " WHERE n.thread = ?1 AND n.status = 'accepted' AND n.seq <= ?3");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, thread);
    sqlite3_bind_int64(q, 2, after);
    sqlite3_bind_int64(q, 3, upto);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *earlier = sqlite3_column_int64(q, 0);
        *total = sqlite3_column_int64(q, 1);
    }
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? COR_OK : cor_store_sqlite_error(st, rc, "cannot read a thread");
}

/* ---- the record ---- */

void
cor_digest_record_free(cor_digest_record_t *r)
{
    if (!r)
        return;
    g_free(r->address);
    g_free(r->scope);
    g_free(r->period);
    g_free(r->state);
    g_free(r->message_id);
    g_free(r);
}

cor_status_t
cor_store_digest_add(cor_store_t *st, cor_digest_record_t *r)
{
    g_autofree char *addr = g_ascii_strdown(r->address, -1);
    sqlite3_stmt *q = cor_store_stmt(st,
        "INSERT INTO digests (address, scope, period, from_seq, upto_seq, state, posts, outbox,"
        " message_id, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        " ON CONFLICT (address, scope, period) DO NOTHING");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, addr, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, r->scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, r->period, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, r->from_seq);
    sqlite3_bind_int64(q, 5, r->upto_seq);
    sqlite3_bind_text(q, 6, r->state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, r->posts);
    if (r->outbox > 0)
        sqlite3_bind_int64(q, 8, r->outbox);
    else
        sqlite3_bind_null(q, 8);
    sqlite3_bind_text(q, 9, r->message_id ? r->message_id : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 10, r->created ? r->created : (int64_t) time(NULL));
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return cor_store_sqlite_error(st, rc, "cannot record a digest");
    if (sqlite3_changes(st->db) == 0)
        return COR_DUPLICATE;
    r->id = sqlite3_last_insert_rowid(st->db);
    return COR_OK;
}

#define RECORD_COLS \
    "id, address, scope, period, from_seq, upto_seq, state, posts, coalesce(outbox, 0)," \
    " message_id, created"

static cor_digest_record_t *
record_row(sqlite3_stmt *q)
{
    cor_digest_record_t *r = g_new0(cor_digest_record_t, 1);
    r->id = sqlite3_column_int64(q, 0);
    r->address = cor_store_col_text(q, 1);
    r->scope = cor_store_col_text(q, 2);
    r->period = cor_store_col_text(q, 3);
    r->from_seq = sqlite3_column_int64(q, 4);
    r->upto_seq = sqlite3_column_int64(q, 5);
    r->state = cor_store_col_text(q, 6);
    r->posts = sqlite3_column_int64(q, 7);
    r->outbox = sqlite3_column_int64(q, 8);
    r->message_id = cor_store_col_text(q, 9);
    r->created = sqlite3_column_int64(q, 10);
    return r;
}

cor_status_t
cor_store_digest_get(cor_store_t *st, const char *address, const char *scope, const char *period,
                     cor_digest_record_t **out)
{
    *out = NULL;
    g_autofree char *addr = g_ascii_strdown(address, -1);
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT " RECORD_COLS " FROM digests WHERE address = ?1 AND scope = ?2 AND period = ?3");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, addr, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, period, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *out = record_row(q);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return COR_OK;
    return rc == SQLITE_DONE ? COR_ERR_NOT_FOUND
                             : cor_store_sqlite_error(st, rc, "cannot read digests");
}

cor_status_t
cor_store_digest_list(cor_store_t *st, const char *address, guint max, GPtrArray **out)
{
    *out = NULL;
    g_autofree char *addr = address ? g_ascii_strdown(address, -1) : NULL;
    sqlite3_stmt *q = cor_store_stmt(st, addr
        ? "SELECT " RECORD_COLS " FROM digests WHERE address = ?1 ORDER BY id DESC LIMIT ?2"
        : "SELECT " RECORD_COLS " FROM digests ORDER BY id DESC LIMIT ?2");
    if (!q)
        return COR_ERR_STORE;
    if (addr)
        sqlite3_bind_text(q, 1, addr, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, max ? (sqlite3_int64) max : -1);
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify) cor_digest_record_free);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        g_ptr_array_add(list, record_row(q));
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        g_ptr_array_unref(list);
        return cor_store_sqlite_error(st, rc, "cannot read digests");
    }
    *out = list;
    return COR_OK;
}
