/* core/store_outbox.c — what distribution keeps in the store: members'
 * tokens and opt-outs, the outbox, bounce scores, one-time tokens and the
 * control mail queue.  Schema and ownership: store.h. */
#include <math.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/store.h"
#include "core/store_internal.h"

void
cor_token_generate(char out[33])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n > 0)
            got += (size_t) n;
        /* EINTR: try again; getrandom blocks only before the pool is
         * initialised at boot, never fails otherwise */
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof b; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[32] = '\0';
}

/* ---- members ---- */

void
cor_member_detail_free(cor_member_detail_t *d)
{
    if (!d)
        return;
    g_free(d->m.address);
    g_free(d->m.name);
    g_free(d->m.mode);
    g_free(d->m.role);
    g_free(d->m.status);
    g_free(d->m.reason);
    g_free(d->token);
    g_free(d->source);
    g_free(d);
}

#define MEMBER_COLS \
    "address, name, mode, role, status, reason, added, group_id, token, source," \
    " bounce_score, bounce_at, self_copy"

static cor_member_detail_t *
member_row(sqlite3_stmt *q)
{
    cor_member_detail_t *d = g_new0(cor_member_detail_t, 1);
    d->m.address = cor_store_col_text(q, 0);
    d->m.name = cor_store_col_text(q, 1);
    d->m.mode = cor_store_col_text(q, 2);
    d->m.role = cor_store_col_text(q, 3);
    d->m.status = cor_store_col_text(q, 4);
    d->m.reason = cor_store_col_text(q, 5);
    d->m.added = sqlite3_column_int64(q, 6);
    d->group_id = sqlite3_column_int64(q, 7);
    d->token = cor_store_col_text(q, 8);
    d->source = cor_store_col_text(q, 9);
    d->bounce_score = sqlite3_column_double(q, 10);
    d->bounce_at = sqlite3_column_int64(q, 11);
    d->self_copy = sqlite3_column_int(q, 12) != 0;
    return d;
}

static cor_status_t
member_one(cor_store_t *st, sqlite3_stmt *q, cor_member_detail_t **out)
{
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *out = member_row(q);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return COR_OK;
    if (rc == SQLITE_DONE)
        return COR_ERR_NOT_FOUND;
    return cor_store_sqlite_error(st, rc, "cannot read members");
}

cor_status_t
cor_store_member_get(cor_store_t *st, int64_t group_id, const char *address,
                     cor_member_detail_t **out)
{
    *out = NULL;
    g_autofree char *addr = g_ascii_strdown(address, -1);
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT " MEMBER_COLS " FROM members WHERE group_id = ?1 AND address = ?2");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, addr, -1, SQLITE_STATIC);
    return member_one(st, q, out);
}

cor_status_t
cor_store_member_by_token(cor_store_t *st, const char *token, cor_member_detail_t **out)
{
    *out = NULL;
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT " MEMBER_COLS " FROM members WHERE token = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, token, -1, SQLITE_STATIC);
    return member_one(st, q, out);
}

cor_status_t
cor_store_member_join(cor_store_t *st, int64_t group_id, const char *address, const char *name,
                      const char *source, bool *added)
{
    g_autofree char *addr = g_ascii_strdown(address, -1);
    char token[33];
    cor_token_generate(token);
    sqlite3_stmt *q = cor_store_stmt(st,
        "INSERT INTO members (group_id, address, name, added, token, source)"
        " VALUES (?1, ?2, coalesce(?3, ''), ?4, ?5, ?6)"
        " ON CONFLICT (group_id, address) DO NOTHING");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, addr, -1, SQLITE_STATIC);
    if (name)
        sqlite3_bind_text(q, 3, name, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 3);
    sqlite3_bind_int64(q, 4, (sqlite3_int64) time(NULL));
    sqlite3_bind_text(q, 5, token, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, source ? source : "cli", -1, SQLITE_STATIC);
    cor_status_t s = cor_store_step_done(st, q, "cannot add member");
    if (s != COR_OK)
        return s;
    bool is_new = sqlite3_changes(st->db) > 0;
    if (added)
        *added = is_new;
    if (!is_new && name) {
        sqlite3_stmt *u = cor_store_stmt(st,
            "UPDATE members SET name = ?3 WHERE group_id = ?1 AND address = ?2");
        if (!u)
            return COR_ERR_STORE;
        sqlite3_bind_int64(u, 1, group_id);
        sqlite3_bind_text(u, 2, addr, -1, SQLITE_STATIC);
        sqlite3_bind_text(u, 3, name, -1, SQLITE_STATIC);
        if ((s = cor_store_step_done(st, u, "cannot rename member")) != COR_OK)
            return s;
    }
    sqlite3_stmt *d = cor_store_stmt(st, "DELETE FROM optouts WHERE group_id = ?1 AND address = ?2");
    if (!d)
        return COR_ERR_STORE;
    sqlite3_bind_int64(d, 1, group_id);
    sqlite3_bind_text(d, 2, addr, -1, SQLITE_STATIC);
    return cor_store_step_done(st, d, "cannot clear an opt-out");
}

cor_status_t
cor_store_member_leave(cor_store_t *st, int64_t group_id, const char *address, const char *how)
{
    g_autofree char *addr = g_ascii_strdown(address, -1);
    sqlite3_stmt *o = cor_store_stmt(st,
        "INSERT INTO optouts (group_id, address, how, created) VALUES (?1, ?2, ?3, ?4)"
        " ON CONFLICT (group_id, address) DO UPDATE SET how = ?3, created = ?4");
    if (!o)
        return COR_ERR_STORE;
    sqlite3_bind_int64(o, 1, group_id);
    sqlite3_bind_text(o, 2, addr, -1, SQLITE_STATIC);
    sqlite3_bind_text(o, 3, how, -1, SQLITE_STATIC);
    sqlite3_bind_int64(o, 4, (sqlite3_int64) time(NULL));
    cor_status_t s = cor_store_step_done(st, o, "cannot record the opt-out");
    if (s != COR_OK)
        return s;
    /* copies not yet sent to them go too */
    sqlite3_stmt *q = cor_store_stmt(st,
        "DELETE FROM outbox_rcpt WHERE address = ?2 AND outbox IN"
        " (SELECT id FROM outbox WHERE group_id = ?1 AND kind = 'post')");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, addr, -1, SQLITE_STATIC);
    if ((s = cor_store_step_done(st, q, "cannot drop queued copies")) != COR_OK)
        return s;
    return cor_store_member_remove(st, group_id, addr);
}

cor_status_t
cor_store_optout_check(cor_store_t *st, int64_t group_id, const char *address)
{
    g_autofree char *addr = g_ascii_strdown(address, -1);
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT 1 FROM optouts WHERE group_id = ?1 AND address = ?2");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, addr, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return COR_OK;
    if (rc == SQLITE_DONE)
        return COR_ERR_NOT_FOUND;
    return cor_store_sqlite_error(st, rc, "cannot read opt-outs");
}

cor_status_t
cor_store_member_set_status(cor_store_t *st, int64_t group_id, const char *address, bool enabled,
                            const char *reason)
{
    g_autofree char *addr = g_ascii_strdown(address, -1);
    sqlite3_stmt *q = cor_store_stmt(st,
        "UPDATE members SET status = ?3, reason = ?4,"
        " bounce_score = CASE WHEN ?3 = 'enabled' THEN 0 ELSE bounce_score END"
        " WHERE group_id = ?1 AND address = ?2");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, addr, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, enabled ? "enabled" : "disabled", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, enabled ? "" : (reason ? reason : ""), -1, SQLITE_STATIC);
    cor_status_t s = cor_store_step_done(st, q, "cannot change member");
    if (s == COR_OK && sqlite3_changes(st->db) == 0)
        return cor_store_set_error(st, COR_ERR_NOT_FOUND, "%s is not a member", addr);
    return s;
}

cor_status_t
cor_store_member_set_self_copy(cor_store_t *st, int64_t group_id, const char *address, bool yes)
{
    g_autofree char *addr = g_ascii_strdown(address, -1);
    sqlite3_stmt *q = cor_store_stmt(st,
        "UPDATE members SET self_copy = ?3 WHERE group_id = ?1 AND address = ?2");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, addr, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, yes ? 1 : 0);
    cor_status_t s = cor_store_step_done(st, q, "cannot change member");
    if (s == COR_OK && sqlite3_changes(st->db) == 0)
        return cor_store_set_error(st, COR_ERR_NOT_FOUND, "%s is not a member", addr);
    return s;
}

cor_status_t
cor_store_member_staff(cor_store_t *st, int64_t group_id, const char *role, GPtrArray **out)
{
    *out = NULL;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT address FROM members WHERE group_id = ?1"
        " AND (role = ?2 OR (?2 IS NULL AND role IN ('owner','moderator')))"
        " ORDER BY address");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    if (role)
        sqlite3_bind_text(q, 2, role, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 2);
    GPtrArray *list = g_ptr_array_new_with_free_func(g_free);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        g_ptr_array_add(list, cor_store_col_text(q, 0));
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        g_ptr_array_unref(list);
        return cor_store_sqlite_error(st, rc, "cannot read members");
    }
    *out = list;
    return COR_OK;
}

/* ---- control mail ---- */

void
cor_control_mail_free(cor_control_mail_t *c)
{
    if (!c)
        return;
    g_free(c->kind);
    g_free(c->detail);
    g_free(c->env_from);
    g_free(c->rcpt);
    if (c->raw)
        g_bytes_unref(c->raw);
    g_free(c);
}

cor_status_t
cor_store_control_next(cor_store_t *st, int64_t after, cor_control_mail_t **out)
{
    *out = NULL;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT id, group_id, kind, detail, env_from, rcpt, received, raw FROM control_mail"
        " WHERE status = 'new' AND id > ?1 ORDER BY id LIMIT 1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, after);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        cor_control_mail_t *c = g_new0(cor_control_mail_t, 1);
        c->id = sqlite3_column_int64(q, 0);
        c->group_id = sqlite3_column_int64(q, 1);
        c->kind = cor_store_col_text(q, 2);
        c->detail = cor_store_col_text(q, 3);
        c->env_from = cor_store_col_text(q, 4);
        c->rcpt = cor_store_col_text(q, 5);
        c->received = sqlite3_column_int64(q, 6);
        c->raw = g_bytes_new(sqlite3_column_blob(q, 7), (gsize) sqlite3_column_bytes(q, 7));
        *out = c;
    }
    sqlite3_reset(q);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return COR_OK;
    return cor_store_sqlite_error(st, rc, "cannot read control mail");
}

cor_status_t
cor_store_control_done(cor_store_t *st, int64_t id, const char *status, const char *note)
{
    (void) note; /* the note goes to the log; the row keeps the status */
    sqlite3_stmt *q = cor_store_stmt(st, "UPDATE control_mail SET status = ?2 WHERE id = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, status, -1, SQLITE_STATIC);
    return cor_store_step_done(st, q, "cannot mark control mail");
}

/* ---- the outbox ---- */

cor_status_t
cor_store_outbox_post(cor_store_t *st, int64_t group_id, int64_t msg, const char *domain,
                      const char *author, int64_t *count)
{
    *count = 0;
    g_autofree char *from = g_ascii_strdown(author ? author : "", -1);
    sqlite3_stmt *q = cor_store_stmt(st,
        "INSERT INTO outbox (kind, group_id, msg, domain, created)"
        " SELECT 'post', ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM members"
        " WHERE group_id = ?1 AND mode = 'each' AND status = 'enabled'"
        " AND (address <> ?5 OR self_copy))");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_int64(q, 2, msg);
    sqlite3_bind_text(q, 3, domain ? domain : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, (sqlite3_int64) time(NULL));
    sqlite3_bind_text(q, 5, from, -1, SQLITE_STATIC);
    cor_status_t s = cor_store_step_done(st, q, "cannot queue the post's copies");
    if (s != COR_OK || sqlite3_changes(st->db) == 0)
        return s;
    int64_t ob = sqlite3_last_insert_rowid(st->db);
    sqlite3_stmt *r = cor_store_stmt(st,
        "INSERT INTO outbox_rcpt (outbox, address) SELECT ?1, address FROM members"
        " WHERE group_id = ?2 AND mode = 'each' AND status = 'enabled'"
        " AND (address <> ?3 OR self_copy) ORDER BY address");
    if (!r)
        return COR_ERR_STORE;
    sqlite3_bind_int64(r, 1, ob);
    sqlite3_bind_int64(r, 2, group_id);
    sqlite3_bind_text(r, 3, from, -1, SQLITE_STATIC);
    if ((s = cor_store_step_done(st, r, "cannot queue the post's copies")) != COR_OK)
        return s;
    *count = sqlite3_changes(st->db);
    return COR_OK;
}

cor_status_t
cor_store_outbox_add(cor_store_t *st, const char *kind, int64_t group_id, const char *domain,
                     const char *env_from, const char *body, size_t len,
                     const char *const *rcpts, int64_t *id_out)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "INSERT INTO outbox (kind, group_id, domain, env_from, body, created)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
    if (group_id > 0)
        sqlite3_bind_int64(q, 2, group_id);
    else
        sqlite3_bind_null(q, 2);
    sqlite3_bind_text(q, 3, domain ? domain : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, env_from ? env_from : "", -1, SQLITE_STATIC);
    sqlite3_bind_blob64(q, 5, body, len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, (sqlite3_int64) time(NULL));
    cor_status_t s = cor_store_step_done(st, q, "cannot queue a message");
    if (s != COR_OK)
        return s;
    int64_t ob = sqlite3_last_insert_rowid(st->db);
    for (size_t i = 0; rcpts && rcpts[i]; i++) {
        sqlite3_stmt *r = cor_store_stmt(st,
            "INSERT INTO outbox_rcpt (outbox, address) VALUES (?1, ?2)");
        if (!r)
            return COR_ERR_STORE;
        sqlite3_bind_int64(r, 1, ob);
        sqlite3_bind_text(r, 2, rcpts[i], -1, SQLITE_STATIC);
        if ((s = cor_store_step_done(st, r, "cannot queue a message")) != COR_OK)
            return s;
    }
    if (id_out)
        *id_out = ob;
    return COR_OK;
}

void
cor_outbox_item_free(cor_outbox_item_t *it)
{
    if (!it)
        return;
    g_free(it->kind);
    g_free(it->domain);
    g_free(it->env_from);
    g_free(it->address);
    g_free(it->token);
    g_free(it->name);
    g_free(it->last_error);
    g_free(it);
}

cor_status_t
cor_store_outbox_due(cor_store_t *st, int64_t now, int64_t after, guint max, GPtrArray **out)
{
    *out = NULL;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT r.id, r.outbox, o.kind, coalesce(o.group_id, 0), coalesce(o.msg, 0), o.domain,"
        " o.env_from, r.address, r.attempts, m.token, coalesce(m.name, ''), o.created"
        " FROM outbox_rcpt r JOIN outbox o ON o.id = r.outbox"
        " LEFT JOIN members m ON m.group_id = o.group_id AND m.address = r.address"
        " WHERE r.id > ?2 AND r.next_try <= ?1 ORDER BY r.id LIMIT ?3");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, now);
    sqlite3_bind_int64(q, 2, after);
    sqlite3_bind_int64(q, 3, max);
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify) cor_outbox_item_free);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cor_outbox_item_t *it = g_new0(cor_outbox_item_t, 1);
        it->id = sqlite3_column_int64(q, 0);
        it->outbox = sqlite3_column_int64(q, 1);
        it->kind = cor_store_col_text(q, 2);
        it->group_id = sqlite3_column_int64(q, 3);
        it->msg = sqlite3_column_int64(q, 4);
        it->domain = cor_store_col_text(q, 5);
        it->env_from = sqlite3_column_type(q, 6) == SQLITE_NULL ? NULL : cor_store_col_text(q, 6);
        it->address = cor_store_col_text(q, 7);
        it->attempts = sqlite3_column_int(q, 8);
        it->token = sqlite3_column_type(q, 9) == SQLITE_NULL ? NULL : cor_store_col_text(q, 9);
        it->name = cor_store_col_text(q, 10);
        it->created = sqlite3_column_int64(q, 11);
        g_ptr_array_add(list, it);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        g_ptr_array_unref(list);
        return cor_store_sqlite_error(st, rc, "cannot read the outbox");
    }
    *out = list;
    return COR_OK;
}

cor_status_t
cor_store_outbox_body(cor_store_t *st, int64_t outbox, GBytes **body)
{
    *body = NULL;
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT body FROM outbox WHERE id = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, outbox);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
        *body = g_bytes_new(sqlite3_column_blob(q, 0), (gsize) sqlite3_column_bytes(q, 0));
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return COR_OK;
    if (rc == SQLITE_DONE)
        return cor_store_set_error(st, COR_ERR_NOT_FOUND, "no outbox row %" G_GINT64_FORMAT, outbox);
    return cor_store_sqlite_error(st, rc, "cannot read the outbox");
}

cor_status_t
cor_store_outbox_done(cor_store_t *st, int64_t id)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "DELETE FROM outbox_rcpt WHERE id = ?1 RETURNING outbox");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, id);
    int64_t ob = 0;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        ob = sqlite3_column_int64(q, 0);
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return cor_store_sqlite_error(st, rc, "cannot update the outbox");
    if (ob == 0)
        return COR_OK;  /* gone already (the member left meanwhile) */
    sqlite3_stmt *d = cor_store_stmt(st,
        "DELETE FROM outbox WHERE id = ?1 AND NOT EXISTS"
        " (SELECT 1 FROM outbox_rcpt WHERE outbox = ?1)");
    if (!d)
        return COR_ERR_STORE;
    sqlite3_bind_int64(d, 1, ob);
    return cor_store_step_done(st, d, "cannot update the outbox");
}

cor_status_t
cor_store_outbox_done_many(cor_store_t *st, const int64_t *ids, guint n)
{
    g_autoptr(GArray) outboxes = g_array_new(FALSE, FALSE, sizeof(int64_t));
    for (guint i = 0; i < n; i++) {
        sqlite3_stmt *q = cor_store_stmt(st, "DELETE FROM outbox_rcpt WHERE id = ?1 RETURNING outbox");
        if (!q)
            return COR_ERR_STORE;
        sqlite3_bind_int64(q, 1, ids[i]);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            int64_t ob = sqlite3_column_int64(q, 0);
            guint k = 0;
            while (k < outboxes->len && g_array_index(outboxes, int64_t, k) != ob)
                k++;
            if (k == outboxes->len)
                g_array_append_val(outboxes, ob);
        }
        while (rc == SQLITE_ROW)
            rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc != SQLITE_DONE)
            return cor_store_sqlite_error(st, rc, "cannot update the outbox");
    }
    for (guint k = 0; k < outboxes->len; k++) {
        sqlite3_stmt *d = cor_store_stmt(st,
            "DELETE FROM outbox WHERE id = ?1 AND NOT EXISTS"
            " (SELECT 1 FROM outbox_rcpt WHERE outbox = ?1)");
        if (!d)
            return COR_ERR_STORE;
        sqlite3_bind_int64(d, 1, g_array_index(outboxes, int64_t, k));
        cor_status_t s = cor_store_step_done(st, d, "cannot update the outbox");
        if (s != COR_OK)
            return s;
    }
    return COR_OK;
}

cor_status_t
cor_store_outbox_retry(cor_store_t *st, int64_t id, int64_t next_try, const char *error)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "UPDATE outbox_rcpt SET attempts = attempts + 1, next_try = ?2, last_error = ?3"
        " WHERE id = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, next_try);
    sqlite3_bind_text(q, 3, error ? error : "", -1, SQLITE_STATIC);
    return cor_store_step_done(st, q, "cannot update the outbox");
}

cor_status_t
cor_store_outbox_count(cor_store_t *st, int64_t *queued, int64_t *deferred)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT count(*), coalesce(sum(attempts > 0), 0) FROM outbox_rcpt");
    if (!q)
        return COR_ERR_STORE;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        if (queued)
            *queued = sqlite3_column_int64(q, 0);
        if (deferred)
            *deferred = sqlite3_column_int64(q, 1);
    }
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? COR_OK : cor_store_sqlite_error(st, rc, "cannot count the outbox");
}

cor_status_t
cor_store_outbox_next_due(cor_store_t *st, int64_t *when)
{
    *when = 0;
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT min(next_try) FROM outbox_rcpt");
    if (!q)
        return COR_ERR_STORE;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
        *when = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? COR_OK : cor_store_sqlite_error(st, rc, "cannot read the outbox");
}

cor_status_t
cor_store_outbox_unstick(cor_store_t *st, int64_t latest, int64_t now, int64_t *moved)
{
    if (moved)
        *moved = 0;
    /* a read first (the index on next_try answers it at once): an UPDATE
     * would take the write lock even when it changes nothing */
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT max(next_try) FROM outbox_rcpt");
    if (!q)
        return COR_ERR_STORE;
    int rc = sqlite3_step(q);
    int64_t max = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_reset(q);
    if (rc != SQLITE_ROW)
        return cor_store_sqlite_error(st, rc, "cannot read the outbox");
    if (max <= latest)
        return COR_OK;
    sqlite3_stmt *u = cor_store_stmt(st,
        "UPDATE outbox_rcpt SET next_try = ?2 WHERE next_try > ?1");
    if (!u)
        return COR_ERR_STORE;
    sqlite3_bind_int64(u, 1, latest);
    sqlite3_bind_int64(u, 2, now);
    cor_status_t s = cor_store_step_done(st, u, "cannot reschedule the outbox");
    if (s == COR_OK && moved)
        *moved = sqlite3_changes(st->db);
    return s;
}

/* ---- bounces ---- */

double
cor_bounce_decayed(double score, int64_t since, int64_t now, int64_t half_life)
{
    if (score <= 0 || half_life <= 0 || now <= since)
        return score;
    return score * pow(0.5, (double) (now - since) / (double) half_life);
}

cor_status_t
cor_store_bounce_record(cor_store_t *st, int64_t group_id, const char *address, const char *cls,
                        double score, const char *status, const char *detail, const char *source,
                        int64_t now, int64_t half_life, double threshold, bool *disabled)
{
    *disabled = false;
    g_autofree char *addr = g_ascii_strdown(address, -1);
    sqlite3_stmt *q = cor_store_stmt(st,
        "INSERT INTO bounce_events (group_id, address, at, class, score, status, detail, source)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, addr, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, now);
    sqlite3_bind_text(q, 4, cls, -1, SQLITE_STATIC);
    sqlite3_bind_double(q, 5, score);
    sqlite3_bind_text(q, 6, status ? status : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 7, detail ? detail : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 8, source, -1, SQLITE_STATIC);
    cor_status_t s = cor_store_step_done(st, q, "cannot record a bounce");
    if (s != COR_OK)
        return s;
    g_autoptr(cor_member_detail_t) m = NULL;
    s = cor_store_member_get(st, group_id, addr, &m);
    if (s == COR_ERR_NOT_FOUND)
        return COR_OK;
    if (s != COR_OK)
        return s;
    double now_score = cor_bounce_decayed(m->bounce_score, m->bounce_at, now, half_life) + score;
    bool was_enabled = strcmp(m->m.status, "enabled") == 0;
    /* reached at the precision scores are shown with (two decimals): three
     * hard bounces seconds apart decay to 2.99998 and reach 3 all the same */
    bool disable = was_enabled && now_score >= threshold - 0.005;
    sqlite3_stmt *u = cor_store_stmt(st,
        "UPDATE members SET bounce_score = ?3, bounce_at = ?4,"
        " status = CASE WHEN ?5 THEN 'disabled' ELSE status END,"
        " reason = CASE WHEN ?5 THEN ?6 ELSE reason END"
        " WHERE group_id = ?1 AND address = ?2");
    if (!u)
        return COR_ERR_STORE;
    g_autofree char *reason = g_strdup_printf("bounces: score %.1f reached %.1f (last: %s%s%s)",
                                              now_score, threshold, cls,
                                              status && *status ? " " : "", status ? status : "");
    sqlite3_bind_int64(u, 1, group_id);
    sqlite3_bind_text(u, 2, addr, -1, SQLITE_STATIC);
    sqlite3_bind_double(u, 3, now_score);
    sqlite3_bind_int64(u, 4, now);
    sqlite3_bind_int(u, 5, disable);
    sqlite3_bind_text(u, 6, reason, -1, SQLITE_STATIC);
    if ((s = cor_store_step_done(st, u, "cannot update the bounce score")) != COR_OK)
        return s;
    *disabled = disable;
    return COR_OK;
}

/* ---- one-time tokens ---- */

void
cor_token_free(cor_token_t *t)
{
    if (!t)
        return;
    g_free(t->token);
    g_free(t->kind);
    g_free(t->address);
    g_free(t->data);
    g_free(t);
}

cor_status_t
cor_store_token_new(cor_store_t *st, const char *kind, int64_t group_id, const char *address,
                    int64_t ref, const char *data, int64_t ttl, char **token)
{
    *token = NULL;
    char tok[33];
    cor_token_generate(tok);
    int64_t now = (int64_t) time(NULL);
    sqlite3_stmt *q = cor_store_stmt(st,
        "INSERT INTO tokens (token, kind, group_id, address, ref, data, created, expires)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, tok, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, group_id);
    sqlite3_bind_text(q, 4, address ? address : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, ref);
    sqlite3_bind_text(q, 6, data ? data : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, now);
    sqlite3_bind_int64(q, 8, now + ttl);
    cor_status_t s = cor_store_step_done(st, q, "cannot store a token");
    if (s == COR_OK)
        *token = g_strdup(tok);
    return s;
}

cor_status_t
cor_store_token_take(cor_store_t *st, const char *token, const char *kind, cor_token_t **out)
{
    *out = NULL;
    sqlite3_stmt *q = cor_store_stmt(st,
        "DELETE FROM tokens WHERE token = ?1 AND kind = ?2 RETURNING"
        " token, kind, group_id, address, ref, data, created, expires");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, token, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
    cor_token_t *t = NULL;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        t = g_new0(cor_token_t, 1);
        t->token = cor_store_col_text(q, 0);
        t->kind = cor_store_col_text(q, 1);
        t->group_id = sqlite3_column_int64(q, 2);
        t->address = cor_store_col_text(q, 3);
        t->ref = sqlite3_column_int64(q, 4);
        t->data = cor_store_col_text(q, 5);
        t->created = sqlite3_column_int64(q, 6);
        t->expires = sqlite3_column_int64(q, 7);
        rc = sqlite3_step(q);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        cor_token_free(t);
        return cor_store_sqlite_error(st, rc, "cannot read tokens");
    }
    if (!t)
        return cor_store_set_error(st, COR_ERR_NOT_FOUND, "unknown or used token");
    if (t->expires < (int64_t) time(NULL)) {
        cor_token_free(t);
        return cor_store_set_error(st, COR_ERR_NOT_FOUND, "the token has expired");
    }
    *out = t;
    return COR_OK;
}

cor_status_t
cor_store_set_synchronous(cor_store_t *st, bool full)
{
    int rc = sqlite3_exec(st->db, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
                          NULL, NULL, NULL);
    return rc == SQLITE_OK ? COR_OK : cor_store_sqlite_error(st, rc, "cannot set synchronous");
}

cor_status_t
cor_store_outbox_list(cor_store_t *st, guint max, GPtrArray **out)
{
    *out = NULL;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT r.id, r.outbox, o.kind, coalesce(o.group_id, 0), coalesce(o.msg, 0), o.domain,"
        " o.env_from, r.address, r.attempts, o.created, r.next_try, r.last_error"
        " FROM outbox_rcpt r JOIN outbox o ON o.id = r.outbox ORDER BY r.id LIMIT ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, max);
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify) cor_outbox_item_free);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cor_outbox_item_t *it = g_new0(cor_outbox_item_t, 1);
        it->id = sqlite3_column_int64(q, 0);
        it->outbox = sqlite3_column_int64(q, 1);
        it->kind = cor_store_col_text(q, 2);
        it->group_id = sqlite3_column_int64(q, 3);
        it->msg = sqlite3_column_int64(q, 4);
        it->domain = cor_store_col_text(q, 5);
        it->env_from = sqlite3_column_type(q, 6) == SQLITE_NULL ? NULL : cor_store_col_text(q, 6);
        it->address = cor_store_col_text(q, 7);
        it->attempts = sqlite3_column_int(q, 8);
        it->created = sqlite3_column_int64(q, 9);
        it->next_try = sqlite3_column_int64(q, 10);
        it->last_error = cor_store_col_text(q, 11);
        it->name = g_strdup("");
        g_ptr_array_add(list, it);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        g_ptr_array_unref(list);
        return cor_store_sqlite_error(st, rc, "cannot read the outbox");
    }
    *out = list;
    return COR_OK;
}

void
cor_bounce_score_free(cor_bounce_score_t *b)
{
    if (!b)
        return;
    g_free(b->address);
    g_free(b->status);
    g_free(b->reason);
    g_free(b->last_class);
    g_free(b->last_status);
    g_free(b->last_detail);
    g_free(b);
}

static gint
by_score(gconstpointer a, gconstpointer b)
{
    const cor_bounce_score_t *x = *(cor_bounce_score_t *const *) a;
    const cor_bounce_score_t *y = *(cor_bounce_score_t *const *) b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->address, y->address);
}

cor_status_t
cor_store_bounce_scores(cor_store_t *st, int64_t group_id, int64_t now, int64_t half_life,
                        GPtrArray **out)
{
    *out = NULL;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT e.address, coalesce(m.bounce_score, 0), coalesce(m.bounce_at, 0),"
        " coalesce(m.status, 'not a member'), coalesce(m.reason, ''),"
        " sum(e.class = 'hard'), sum(e.class = 'soft'), max(e.at),"
        " (SELECT class || char(9) || status || char(9) || detail FROM bounce_events l"
        "   WHERE l.group_id = e.group_id AND l.address = e.address ORDER BY at DESC, id DESC LIMIT 1)"
        " FROM bounce_events e LEFT JOIN members m ON m.group_id = e.group_id AND m.address = e.address"
        " WHERE e.group_id = ?1 GROUP BY e.address");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify) cor_bounce_score_free);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cor_bounce_score_t *b = g_new0(cor_bounce_score_t, 1);
        b->address = cor_store_col_text(q, 0);
        b->score = cor_bounce_decayed(sqlite3_column_double(q, 1), sqlite3_column_int64(q, 2), now,
                                      half_life);
        b->status = cor_store_col_text(q, 3);
        b->reason = cor_store_col_text(q, 4);
        b->hard = sqlite3_column_int64(q, 5);
        b->soft = sqlite3_column_int64(q, 6);
        b->last_at = sqlite3_column_int64(q, 7);
        g_autofree char *last = cor_store_col_text(q, 8);
        g_auto(GStrv) parts = g_strsplit(last, "\t", 3);
        b->last_class = g_strdup(parts[0] ? parts[0] : "");
        b->last_status = g_strdup(parts[0] && parts[1] ? parts[1] : "");
        b->last_detail = g_strdup(parts[0] && parts[1] && parts[2] ? parts[2] : "");
        g_ptr_array_add(list, b);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        g_ptr_array_unref(list);
        return cor_store_sqlite_error(st, rc, "cannot read bounces");
    }
    g_ptr_array_sort(list, by_score);
    *out = list;
    return COR_OK;
}
