/* core/store_groups.c — a group as a whole: what it holds (counts), every
 * member with where the membership came from, and deleting a group with
 * everything that is only its.  Schema: store.h. */
#include <stddef.h>
#include <string.h>

#include "core/store.h"
#include "core/store_internal.h"

/* One number from a query with the group id as ?1. */
static cor_status_t
count_one(cor_store_t *st, const char *sql, int64_t group_id, int64_t *out)
{
    sqlite3_stmt *q = cor_store_stmt(st, sql);
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    int rc = sqlite3_step(q);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cor_store_sqlite_error(st, rc, "cannot count a group's rows");
    return COR_OK;
}

cor_status_t
cor_store_group_counts(cor_store_t *st, int64_t group_id, cor_group_counts_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT count(*),"
        " coalesce(sum(status = 'enabled'), 0), coalesce(sum(status != 'enabled'), 0),"
        " coalesce(sum(mode = 'each'), 0), coalesce(sum(mode = 'digest'), 0),"
        " coalesce(sum(mode = 'none'), 0),"
        " coalesce(sum(role = 'owner'), 0), coalesce(sum(role = 'moderator'), 0)"
        " FROM members WHERE group_id = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        out->members = sqlite3_column_int64(q, 0);
        out->enabled = sqlite3_column_int64(q, 1);
        out->disabled = sqlite3_column_int64(q, 2);
        out->each = sqlite3_column_int64(q, 3);
        out->digest = sqlite3_column_int64(q, 4);
        out->none = sqlite3_column_int64(q, 5);
        out->owners = sqlite3_column_int64(q, 6);
        out->moderators = sqlite3_column_int64(q, 7);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW)
        return cor_store_sqlite_error(st, rc, "cannot count members");
    static const struct {
        size_t offset;
        const char *sql;
    } counts[] = {
        { offsetof(cor_group_counts_t, posts),
          "SELECT count(*) FROM thread_nodes WHERE group_id = ?1 AND msg IS NOT NULL" },
        { offsetof(cor_group_counts_t, threads),
          "SELECT count(*) FROM threads WHERE group_id = ?1 AND merged_into IS NULL" },
        { offsetof(cor_group_counts_t, only_here),
          "SELECT count(DISTINCT n.msg) FROM thread_nodes n WHERE n.group_id = ?1"
          " AND n.msg IS NOT NULL AND NOT EXISTS (SELECT 1 FROM thread_nodes o"
          "   WHERE o.msg = n.msg AND o.group_id != ?1)" },
        { offsetof(cor_group_counts_t, held),
          "SELECT count(*) FROM held WHERE group_id = ?1 AND status = 'held'" },
        { offsetof(cor_group_counts_t, control_mail),
          "SELECT count(*) FROM control_mail WHERE group_id = ?1" },
        { offsetof(cor_group_counts_t, outbox),
          "SELECT count(*) FROM outbox_rcpt r JOIN outbox o ON o.id = r.outbox"
          " WHERE o.group_id = ?1" },
        { offsetof(cor_group_counts_t, optouts),
          "SELECT count(*) FROM optouts WHERE group_id = ?1" },
        { offsetof(cor_group_counts_t, settings),
          "SELECT count(*) FROM group_settings WHERE group_id = ?1" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(counts); i++) {
        cor_status_t s = count_one(st, counts[i].sql, group_id,
                                   (int64_t *) ((char *) out + counts[i].offset));
        if (s != COR_OK)
            return s;
    }
    return COR_OK;
}

cor_status_t
cor_store_member_details(cor_store_t *st, int64_t group_id, GPtrArray **out)
{
    *out = NULL;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT address, name, mode, role, status, reason, added, group_id, coalesce(token, ''),"
        " source, bounce_score, bounce_at, self_copy FROM members WHERE group_id = ?1"
        " ORDER BY address");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify) cor_member_detail_free);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
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
        g_ptr_array_add(list, d);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        g_ptr_array_unref(list);
        return cor_store_sqlite_error(st, rc, "cannot list members");
    }
    *out = list;
    return COR_OK;
}

/* The message rows of a group's posts that another group also has (`shared`)
 * or that no other group has. */
static cor_status_t
group_messages(cor_store_t *st, int64_t group_id, bool shared, GArray **out)
{
    *out = g_array_new(FALSE, FALSE, sizeof(int64_t));
    sqlite3_stmt *q = cor_store_stmt(st, shared
        ? "SELECT DISTINCT n.msg FROM thread_nodes n WHERE n.group_id = ?1 AND n.msg IS NOT NULL"
          " AND EXISTS (SELECT 1 FROM thread_nodes o WHERE o.msg = n.msg AND o.group_id != ?1)"
          " ORDER BY n.msg"
        : "SELECT DISTINCT n.msg FROM thread_nodes n WHERE n.group_id = ?1 AND n.msg IS NOT NULL"
          " AND NOT EXISTS (SELECT 1 FROM thread_nodes o WHERE o.msg = n.msg AND o.group_id != ?1)"
          " ORDER BY n.msg");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        g_array_append_val(*out, id);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return cor_store_sqlite_error(st, rc, "cannot read a group's messages");
    return COR_OK;
}

static cor_status_t
exec_group(cor_store_t *st, const char *sql, int64_t id, const char *what)
{
    sqlite3_stmt *q = cor_store_stmt(st, sql);
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, id);
    return cor_store_step_done(st, q, what);
}

/* One count and one list ("3, 5") from a query with the group id as ?1. */
static cor_status_t
count_and_list(cor_store_t *st, const char *sql, int64_t group_id, int64_t *n, char **list)
{
    sqlite3_stmt *q = cor_store_stmt(st, sql);
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    int rc = sqlite3_step(q);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    *list = rc == SQLITE_ROW ? cor_store_col_text(q, 1) : g_strdup("");
    sqlite3_reset(q);
    if (rc != SQLITE_ROW)
        return cor_store_sqlite_error(st, rc, "cannot check the group's legal holds");
    return COR_OK;
}

/* Records (store.h "Records"): a group whose posts are under a legal hold,
 * or selected for a records case, is not deleted.  The messages_hold
 * trigger would refuse the first in the middle of the deletion, and the
 * case tables' foreign keys the second; this answers before anything
 * changes, naming the holds or cases.  COR_ERR_HELD with the error text. */
static cor_status_t
group_delete_allowed(cor_store_t *st, int64_t group_id)
{
    int64_t n = 0;
    g_autofree char *holds = NULL, *cases = NULL, *name = NULL;
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT name FROM groups WHERE id = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    if (sqlite3_step(q) == SQLITE_ROW)
        name = cor_store_col_text(q, 0);
    sqlite3_reset(q);
    cor_status_t s = count_and_list(st,
        "SELECT (SELECT count(DISTINCT h.msg) FROM held_messages h"
        "        JOIN thread_nodes n ON n.msg = h.msg WHERE n.group_id = ?1),"
        " (SELECT group_concat(hold, ', ') FROM (SELECT DISTINCT h.hold FROM held_messages h"
        "        JOIN thread_nodes n ON n.msg = h.msg WHERE n.group_id = ?1"
        "        UNION SELECT id FROM holds WHERE kind = 'group' AND group_id = ?1"
        "        AND released IS NULL ORDER BY 1))",
        group_id, &n, &holds);
    if (s != COR_OK)
        return s;
    if (n > 0)
        return cor_store_set_error(st, COR_ERR_HELD,
            "group %s has %" G_GINT64_FORMAT " message%s under legal hold (hold %s); "
            "release %s first ('corridor hold list', 'corridor hold release')",
            name ? name : "?", n, n == 1 ? "" : "s", holds, n == 1 ? "it" : "them");
    if (*holds)
        return cor_store_set_error(st, COR_ERR_HELD,
            "group %s is under legal hold (hold %s); release it first ('corridor hold release')",
            name ? name : "?", holds);
    s = count_and_list(st,
        "SELECT (SELECT count(DISTINCT x.msg) FROM (SELECT msg FROM case_messages"
        "        UNION SELECT msg FROM redactions) x"
        "        JOIN thread_nodes n ON n.msg = x.msg WHERE n.group_id = ?1),"
        " (SELECT group_concat(ref, ', ') FROM (SELECT DISTINCT c.ref FROM cases c"
        "        JOIN case_messages cm ON cm.case_id = c.id"
        "        JOIN thread_nodes n ON n.msg = cm.msg WHERE n.group_id = ?1 ORDER BY c.ref))",
        group_id, &n, &cases);
    if (s != COR_OK)
        return s;
    if (n > 0)
        return cor_store_set_error(st, COR_ERR_HELD,
            "group %s has %" G_GINT64_FORMAT " message%s selected for records case%s %s; "
            "a case's records are kept", name ? name : "?", n, n == 1 ? "" : "s",
            strchr(cases, ',') ? "s" : "", cases);
    return COR_OK;
}

cor_status_t
cor_store_group_delete(cor_store_t *st, int64_t group_id, GArray **removed, GArray **kept)
{
    *removed = NULL;
    *kept = NULL;
    g_autoptr(GArray) gone = NULL, shared = NULL;
    cor_status_t s = group_delete_allowed(st, group_id);
    if (s != COR_OK)
        return s;
    s = group_messages(st, group_id, false, &gone);
    if (s == COR_OK)
        s = group_messages(st, group_id, true, &shared);
    if (s != COR_OK)
        return s;
    /* the group's threads first: they refer to the messages (no cascade) */
    static const struct {
        const char *sql;
        const char *what;
    } steps[] = {
        { "DELETE FROM thread_nodes WHERE group_id = ?1", "cannot delete the group's thread nodes" },
        { "DELETE FROM thread_conversations WHERE group_id = ?1",
          "cannot delete the group's conversations" },
        /* one statement: merged_into points inside the group, and SQLite
         * checks foreign keys at the end of the statement */
        { "DELETE FROM threads WHERE group_id = ?1", "cannot delete the group's threads" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(steps); i++)
        if ((s = exec_group(st, steps[i].sql, group_id, steps[i].what)) != COR_OK)
            return s;
    /* messages no other group has: originals, attachments and queued
     * copies go with them (ON DELETE CASCADE); their work items too */
    for (guint i = 0; i < gone->len; i++) {
        int64_t id = g_array_index(gone, int64_t, i);
        if ((s = exec_group(st, "DELETE FROM work WHERE msg = ?1", id,
                            "cannot delete a message's work items")) != COR_OK ||
            (s = exec_group(st, "DELETE FROM messages WHERE id = ?1", id,
                            "cannot delete a message")) != COR_OK)
            return s;
    }
    /* the others lose this group in the index: queued with the change */
    for (guint i = 0; i < shared->len; i++)
        if ((s = cor_store_work_add(st, "index", g_array_index(shared, int64_t, i))) != COR_OK)
            return s;
    /* released group holds keep their target (the group's name) but no
     * longer point at the row (live ones refused the deletion above) */
    if ((s = exec_group(st, "UPDATE holds SET group_id = NULL WHERE group_id = ?1", group_id,
                        "cannot detach the group's released holds")) != COR_OK)
        return s;
    /* the group row last: members, settings, held posts, control mail,
     * the outbox, tokens, opt-outs and bounce events cascade from it */
    if ((s = exec_group(st, "DELETE FROM groups WHERE id = ?1", group_id,
                        "cannot delete the group")) != COR_OK)
        return s;
    *removed = g_steal_pointer(&gone);
    *kept = g_steal_pointer(&shared);
    return COR_OK;
}
