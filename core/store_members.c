/* core/store_members.c — a group's own fields and its members.  Schema:
 * store.h. */
#include <string.h>
#include <time.h>

#include "core/store.h"
#include "core/store_internal.h"

/* Binds `v`, or NULL (which the statements read as "unchanged"). */
static void
bind_text_or_null(sqlite3_stmt *q, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, i);
}

void
cor_member_free(cor_member_t *m)
{
    if (!m)
        return;
    g_free(m->address);
    g_free(m->name);
    g_free(m->mode);
    g_free(m->role);
    g_free(m->status);
    g_free(m->reason);
    g_free(m);
}

bool
cor_member_address_valid(const char *address)
{
    if (!address)
        return false;
    size_t n = strlen(address);
    const char *at = strchr(address, '@');
    if (n == 0 || n > 254 || !at || at == address || !at[1] || strchr(at + 1, '@'))
        return false;
    for (const char *p = address; *p; p++)
        if ((unsigned char) *p <= ' ' || *p == 0x7f || *p == '<' || *p == '>' || *p == ',')
            return false;
    return true;
}

static bool
one_of(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return true;
    return false;
}

bool
cor_member_mode_valid(const char *mode)
{
    static const char *const modes[] = { "each", "digest", "none" };
    return one_of(mode, modes, G_N_ELEMENTS(modes));
}

bool
cor_member_role_valid(const char *role)
{
    static const char *const roles[] = { "member", "owner", "moderator" };
    return one_of(role, roles, G_N_ELEMENTS(roles));
}

cor_status_t
cor_store_member_add(cor_store_t *st, int64_t group_id, const char *address, const char *name)
{
    return cor_store_member_join(st, group_id, address, name, "cli", NULL);
}

cor_status_t
cor_store_member_check(cor_store_t *st, int64_t group_id, const char *address)
{
    g_autofree char *addr = g_ascii_strdown(address, -1);
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT 1 FROM members WHERE group_id = ?1 AND address = ?2 AND status = 'enabled'");
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
    return cor_store_sqlite_error(st, rc, "cannot read members");
}

/* COR_ERR_NOT_FOUND with the address named when the last statement
 * changed no row. */
static cor_status_t
changed_or_absent(cor_store_t *st, const char *address)
{
    if (sqlite3_changes(st->db) > 0)
        return COR_OK;
    return cor_store_set_error(st, COR_ERR_NOT_FOUND, "%s is not a member", address);
}

cor_status_t
cor_store_member_set(cor_store_t *st, int64_t group_id, const char *address, const char *name,
                     const char *mode, const char *role)
{
    g_autofree char *addr = g_ascii_strdown(address, -1);
    sqlite3_stmt *q = cor_store_stmt(st,
        "UPDATE members SET name = coalesce(?3, name), mode = coalesce(?4, mode),"
        " role = coalesce(?5, role) WHERE group_id = ?1 AND address = ?2");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, addr, -1, SQLITE_STATIC);
    bind_text_or_null(q, 3, name);
    bind_text_or_null(q, 4, mode);
    bind_text_or_null(q, 5, role);
    cor_status_t s = cor_store_step_done(st, q, "cannot change member");
    return s == COR_OK ? changed_or_absent(st, addr) : s;
}

cor_status_t
cor_store_member_remove(cor_store_t *st, int64_t group_id, const char *address)
{
    g_autofree char *addr = g_ascii_strdown(address, -1);
    sqlite3_stmt *q = cor_store_stmt(st, "DELETE FROM members WHERE group_id = ?1 AND address = ?2");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, addr, -1, SQLITE_STATIC);
    cor_status_t s = cor_store_step_done(st, q, "cannot remove member");
    return s == COR_OK ? changed_or_absent(st, addr) : s;
}

cor_status_t
cor_store_member_list(cor_store_t *st, int64_t group_id, GPtrArray **out)
{
    *out = NULL;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT address, name, mode, role, status, reason, added FROM members"
        " WHERE group_id = ?1 ORDER BY address");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify) cor_member_free);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cor_member_t *m = g_new0(cor_member_t, 1);
        m->address = cor_store_col_text(q, 0);
        m->name = cor_store_col_text(q, 1);
        m->mode = cor_store_col_text(q, 2);
        m->role = cor_store_col_text(q, 3);
        m->status = cor_store_col_text(q, 4);
        m->reason = cor_store_col_text(q, 5);
        m->added = sqlite3_column_int64(q, 6);
        g_ptr_array_add(list, m);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        g_ptr_array_unref(list);
        return cor_store_sqlite_error(st, rc, "cannot list members");
    }
    *out = list;
    return COR_OK;
}

cor_status_t
cor_store_group_update(cor_store_t *st, int64_t id, const char *title, const char *description,
                       const cor_visibility_t *visibility)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "UPDATE groups SET title = coalesce(?2, title), description = coalesce(?3, description),"
        " visibility = coalesce(?4, visibility) WHERE id = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, id);
    bind_text_or_null(q, 2, title);
    bind_text_or_null(q, 3, description);
    bind_text_or_null(q, 4, visibility ? cor_visibility_to_string(*visibility) : NULL);
    cor_status_t s = cor_store_step_done(st, q, "cannot change the group");
    if (s != COR_OK)
        return s;
    if (sqlite3_changes(st->db) == 0)
        return cor_store_set_error(st, COR_ERR_NO_GROUP, "no group %" G_GINT64_FORMAT, id);
    return COR_OK;
}
