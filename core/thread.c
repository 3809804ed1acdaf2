/* core/thread.c — JWZ-style threading in the store.  Design notes: thread.h. */
#include "core/thread.h"

#include <string.h>

#include "core/log.h"
#include "core/store_internal.h"

typedef struct node_info {
    bool exists;
    int64_t thread;
    char *parent;   /* NULL for a root */
    int64_t msg;    /* 0 for a ghost */
} node_info_t;

static void
node_info_clear(node_info_t *n)
{
    g_free(n->parent);
    memset(n, 0, sizeof *n);
}

static cor_status_t
node_lookup(cor_store_t *st, int64_t group_id, const char *message_id, node_info_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT thread, parent, msg FROM thread_nodes WHERE group_id = ?1 AND message_id = ?2");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, message_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        out->exists = true;
        out->thread = sqlite3_column_int64(q, 0);
        const unsigned char *p = sqlite3_column_text(q, 1);
        out->parent = p ? g_strdup((const char *) p) : NULL;
        out->msg = sqlite3_column_type(q, 2) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, 2);
    }
    sqlite3_reset(q);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return COR_OK;
    return cor_store_sqlite_error(st, rc, "cannot read thread node");
}

/* True when `ancestor` is `start` or one of its ancestors in the group. */
static cor_status_t
is_ancestor(cor_store_t *st, int64_t group_id, const char *start, const char *ancestor,
            bool *result)
{
    *result = false;
    g_autofree char *cur = g_strdup(start);
    /* The parent links have no loops (invariant 2); the visited set only
     * protects the walk against a damaged store: a repeat ends it. */
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    while (cur != NULL) {
        if (strcmp(cur, ancestor) == 0) {
            *result = true;
            return COR_OK;
        }
        if (!g_hash_table_add(seen, g_strdup(cur)))
            return COR_OK;
        node_info_t n;
        cor_status_t s = node_lookup(st, group_id, cur, &n);
        if (s != COR_OK)
            return s;
        g_free(cur);
        cur = n.exists ? g_steal_pointer(&n.parent) : NULL;
        node_info_clear(&n);
    }
    return COR_OK;
}

cor_status_t
cor_thread_resolve(cor_store_t *st, int64_t thread, int64_t *live)
{
    int64_t cur = thread;
    for (int steps = 0; steps < 1000; steps++) {
        sqlite3_stmt *q = cor_store_stmt(st, "SELECT merged_into FROM threads WHERE id = ?1");
        if (!q)
            return COR_ERR_STORE;
        sqlite3_bind_int64(q, 1, cur);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE) {
            sqlite3_reset(q);
            return cor_store_set_error(st, COR_ERR_NOT_FOUND, "no thread %" G_GINT64_FORMAT, thread);
        }
        if (rc != SQLITE_ROW) {
            sqlite3_reset(q);
            return cor_store_sqlite_error(st, rc, "cannot read thread");
        }
        bool merged = sqlite3_column_type(q, 0) != SQLITE_NULL;
        int64_t next = sqlite3_column_int64(q, 0);
        sqlite3_reset(q);
        if (!merged) {
            *live = cur;
            return COR_OK;
        }
        cur = next;
    }
    return cor_store_set_error(st, COR_ERR_CORRUPT, "thread %" G_GINT64_FORMAT " merges in a loop", thread);
}

static cor_status_t
run(cor_store_t *st, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? COR_OK : cor_store_sqlite_error(st, rc, what);
}

/* Merges thread `from` into the older thread `into`: its nodes, its aliases
 * and its conversation ids move; its posts are appended to `moved`. */
static cor_status_t
merge_thread(cor_store_t *st, int64_t from, int64_t into, GArray *moved)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT msg FROM thread_nodes WHERE thread = ?1 AND msg IS NOT NULL");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, from);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t m = sqlite3_column_int64(q, 0);
        g_array_append_val(moved, m);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return cor_store_sqlite_error(st, rc, "cannot read thread");

    static const char *const sql[] = {
        "UPDATE thread_nodes SET thread = ?2 WHERE thread = ?1",
        "UPDATE threads SET merged_into = ?2 WHERE id = ?1 OR merged_into = ?1",
        "UPDATE thread_conversations SET thread = ?2 WHERE thread = ?1",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(sql); i++) {
        sqlite3_stmt *u = cor_store_stmt(st, sql[i]);
        if (!u)
            return COR_ERR_STORE;
        sqlite3_bind_int64(u, 1, from);
        sqlite3_bind_int64(u, 2, into);
        cor_status_t s = run(st, u, "cannot merge threads");
        if (s != COR_OK)
            return s;
    }
    cor_log_debug("thread %" G_GINT64_FORMAT " merged into %" G_GINT64_FORMAT, from, into);
    return COR_OK;
}

static cor_status_t
find_conversation(cor_store_t *st, int64_t group_id, const char *conv, const char *topic,
                  int64_t *thread)
{
    *thread = 0;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT thread FROM thread_conversations WHERE group_id = ?1 AND conv = ?2 AND topic = ?3");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, conv, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, topic, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *thread = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return cor_thread_resolve(st, *thread, thread);
    return rc == SQLITE_DONE ? COR_OK : cor_store_sqlite_error(st, rc, "cannot read conversations");
}

static cor_status_t
upsert_node(cor_store_t *st, int64_t group_id, const char *message_id, int64_t thread,
            const char *parent, int64_t msg, int64_t now)
{
    sqlite3_stmt *u = cor_store_stmt(st,
        "INSERT INTO thread_nodes (group_id, message_id, thread, parent, msg, added)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        " ON CONFLICT (group_id, message_id) DO UPDATE SET"
        "  thread = excluded.thread, parent = excluded.parent, msg = excluded.msg,"
        "  added = excluded.added");
    if (!u)
        return COR_ERR_STORE;
    sqlite3_bind_int64(u, 1, group_id);
    sqlite3_bind_text(u, 2, message_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(u, 3, thread);
    if (parent)
        sqlite3_bind_text(u, 4, parent, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(u, 4);
    if (msg)
        sqlite3_bind_int64(u, 5, msg);
    else
        sqlite3_bind_null(u, 5);
    sqlite3_bind_int64(u, 6, now);
    return run(st, u, "cannot store thread node");
}

static cor_status_t
set_parent(cor_store_t *st, int64_t group_id, const char *message_id, const char *parent)
{
    sqlite3_stmt *u = cor_store_stmt(st,
        "UPDATE thread_nodes SET parent = ?3 WHERE group_id = ?1 AND message_id = ?2");
    if (!u)
        return COR_ERR_STORE;
    sqlite3_bind_int64(u, 1, group_id);
    sqlite3_bind_text(u, 2, message_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(u, 3, parent, -1, SQLITE_STATIC);
    return run(st, u, "cannot link thread node");
}

cor_status_t
cor_thread_place(cor_store_t *st, int64_t group_id, int64_t msg_row, const cor_message_t *msg,
                 int64_t now, int64_t *thread_out, GArray **merged_out)
{
    const char *self = msg->message_id;
    cor_status_t s = COR_OK;
    *thread_out = 0;
    *merged_out = NULL;

    /* 1. references: References, then In-Reply-To; no self, no repeats */
    g_autoptr(GPtrArray) refs = g_ptr_array_new();
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < msg->references->len; i++) {
        const char *r = g_ptr_array_index(msg->references, i);
        if (*r && strcmp(r, self) != 0 && g_hash_table_add(seen, (gpointer) r))
            g_ptr_array_add(refs, (gpointer) r);
    }
    const char *irt = msg->in_reply_to;
    if (*irt && strcmp(irt, self) != 0) {
        if (g_hash_table_contains(seen, irt)) {
            /* already listed: keep References order */
        } else {
            g_ptr_array_add(refs, (gpointer) irt);
        }
    } else {
        irt = NULL;
    }

    /* 2. the threads to join */
    g_autoptr(GArray) threads = g_array_new(FALSE, FALSE, sizeof(int64_t));
    node_info_t own;
    if ((s = node_lookup(st, group_id, self, &own)) != COR_OK)
        return s;
    if (own.exists)
        g_array_append_val(threads, own.thread);
    node_info_clear(&own);
    for (guint i = 0; i < refs->len; i++) {
        node_info_t n;
        if ((s = node_lookup(st, group_id, g_ptr_array_index(refs, i), &n)) != COR_OK)
            return s;
        if (n.exists)
            g_array_append_val(threads, n.thread);
        node_info_clear(&n);
    }

    /* 3. the Thread-Index rule: only without References and In-Reply-To */
    g_autofree char *topic = NULL;
    if (*msg->thread_index) {
        topic = cor_subject_normalise(*msg->thread_topic ? msg->thread_topic : msg->subject);
        if (refs->len == 0 && threads->len == 0) {
            int64_t t = 0;
            if ((s = find_conversation(st, group_id, msg->thread_index, topic, &t)) != COR_OK)
                return s;
            if (t) {
                g_array_append_val(threads, t);
                cor_log_debug("'%s' joins thread %" G_GINT64_FORMAT " by Thread-Index", self, t);
            }
        }
    }

    /* 4. new thread, join, or merge into the oldest */
    int64_t target = 0;
    for (guint i = 0; i < threads->len; i++) {
        int64_t t = g_array_index(threads, int64_t, i);
        if (target == 0 || t < target)
            target = t;
    }
    if (target == 0) {
        sqlite3_stmt *u = cor_store_stmt(st, "INSERT INTO threads (group_id, created) VALUES (?1, ?2)");
        if (!u)
            return COR_ERR_STORE;
        sqlite3_bind_int64(u, 1, group_id);
        sqlite3_bind_int64(u, 2, now);
        if ((s = run(st, u, "cannot create thread")) != COR_OK)
            return s;
        target = sqlite3_last_insert_rowid(st->db);
    } else {
        GArray *moved = NULL;
        for (guint i = 0; i < threads->len; i++) {
            int64_t t = g_array_index(threads, int64_t, i);
            if (t == target)
                continue;
            bool done = false;
            for (guint j = 0; j < i; j++)
                done |= g_array_index(threads, int64_t, j) == t;
            if (done)
                continue;
            if (!moved)
                moved = g_array_new(FALSE, FALSE, sizeof(int64_t));
            if ((s = merge_thread(st, t, target, moved)) != COR_OK) {
                g_array_unref(moved);
                return s;
            }
        }
        *merged_out = moved;
    }

    /* 5. the parent: In-Reply-To, else the last reference; never a loop */
    const char *parent = irt ? irt : (refs->len ? g_ptr_array_index(refs, refs->len - 1) : NULL);
    if (parent) {
        bool loop;
        if ((s = is_ancestor(st, group_id, parent, self, &loop)) != COR_OK)
            return s;
        if (loop) {
            cor_log_debug("reference loop broken at '%s'", self);
            parent = NULL;
        }
    }
    if ((s = upsert_node(st, group_id, self, target, parent, msg_row, now)) != COR_OK)
        return s;

    /* 6. ghosts for the unknown references, chained in References order */
    for (guint i = 0; i < refs->len; i++) {
        const char *r = g_ptr_array_index(refs, i);
        const char *prev = i > 0 ? g_ptr_array_index(refs, i - 1) : NULL;
        node_info_t n;
        if ((s = node_lookup(st, group_id, r, &n)) != COR_OK)
            return s;
        if (!n.exists) {
            /* a new ghost closes a loop when it is an ancestor of its
             * parent-to-be (its id may already be a parent link) */
            bool loop = false;
            if (prev != NULL)
                s = is_ancestor(st, group_id, prev, r, &loop);
            if (s == COR_OK)
                s = upsert_node(st, group_id, r, target, loop ? NULL : prev, 0, now);
        } else if (n.msg == 0 && n.parent == NULL && prev != NULL) {
            bool loop;
            s = is_ancestor(st, group_id, prev, r, &loop);
            if (s == COR_OK && !loop)
                s = set_parent(st, group_id, r, prev);
        }
        node_info_clear(&n);
        if (s != COR_OK)
            return s;
    }

    /* 7. remember the conversation id for later Outlook messages */
    if (*msg->thread_index) {
        sqlite3_stmt *u = cor_store_stmt(st,
            "INSERT OR IGNORE INTO thread_conversations (group_id, conv, topic, thread)"
            " VALUES (?1, ?2, ?3, ?4)");
        if (!u)
            return COR_ERR_STORE;
        sqlite3_bind_int64(u, 1, group_id);
        sqlite3_bind_text(u, 2, msg->thread_index, -1, SQLITE_STATIC);
        sqlite3_bind_text(u, 3, topic, -1, SQLITE_STATIC);
        sqlite3_bind_int64(u, 4, target);
        if ((s = run(st, u, "cannot store conversation")) != COR_OK)
            return s;
    }
    *thread_out = target;
    return COR_OK;
}

/* ---- reading ---- */

cor_status_t
cor_thread_foreach(cor_store_t *st, int64_t group_id,
                   cor_status_t (*fn)(int64_t thread, GPtrArray *message_ids, void *data),
                   void *data)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT n.thread, n.message_id FROM thread_nodes n JOIN messages m ON m.id = n.msg"
        " WHERE n.group_id = ?1 AND n.status = 'accepted'"
        " ORDER BY n.thread, m.date, m.id");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    /* Rows are gathered first: the callback may use the handle. */
    g_autoptr(GArray) tids = g_array_new(FALSE, FALSE, sizeof(int64_t));
    g_autoptr(GPtrArray) lists = g_ptr_array_new_with_free_func((GDestroyNotify) g_ptr_array_unref);
    int rc;
    int64_t cur = -1;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t t = sqlite3_column_int64(q, 0);
        if (t != cur) {
            g_array_append_val(tids, t);
            g_ptr_array_add(lists, g_ptr_array_new_with_free_func(g_free));
            cur = t;
        }
        g_ptr_array_add(g_ptr_array_index(lists, lists->len - 1),
                        g_strdup((const char *) sqlite3_column_text(q, 1)));
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return cor_store_sqlite_error(st, rc, "cannot list threads");
    for (guint i = 0; i < tids->len; i++) {
        cor_status_t s = fn(g_array_index(tids, int64_t, i), g_ptr_array_index(lists, i), data);
        if (s != COR_OK)
            return s;
    }
    return COR_OK;
}

void
cor_thread_node_free(cor_thread_node_t *n)
{
    if (n == NULL)
        return;
    g_free(n->message_id);
    if (n->children)
        g_ptr_array_unref(n->children);
    g_free(n);
}

static gint
node_cmp(gconstpointer a, gconstpointer b)
{
    const cor_thread_node_t *x = *(cor_thread_node_t *const *) a;
    const cor_thread_node_t *y = *(cor_thread_node_t *const *) b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return strcmp(x->message_id, y->message_id);
}

/* Prunes ghosts under `list` (post-order), sorts by date.  A ghost without
 * children goes; a ghost with one child is replaced by it. */
static void
prune(GPtrArray *list)
{
    for (guint i = 0; i < list->len; i++) {
        cor_thread_node_t *n = g_ptr_array_index(list, i);
        prune(n->children);
        if (n->msg != 0)
            continue;
        if (n->children->len == 0) {
            g_ptr_array_remove_index(list, i);   /* frees n */
            i--;
        } else if (n->children->len == 1) {
            cor_thread_node_t *child = g_ptr_array_steal_index(n->children, 0);
            list->pdata[i] = child;
            cor_thread_node_free(n);
        } else {
            cor_thread_node_t *first = g_ptr_array_index(n->children, 0);
            n->date = first->date;
        }
    }
    g_ptr_array_sort(list, node_cmp);
}

cor_status_t
cor_thread_tree(cor_store_t *st, int64_t group_id, const char *message_id, int64_t *thread,
                GPtrArray **roots)
{
    *roots = NULL;
    node_info_t self;
    cor_status_t s = node_lookup(st, group_id, message_id, &self);
    if (s != COR_OK)
        return s;
    bool found = self.exists && self.msg != 0;
    *thread = self.thread;
    node_info_clear(&self);
    if (!found)
        return cor_store_set_error(st, COR_ERR_NOT_FOUND, "no message '%s' in this group", message_id);

    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT n.message_id, n.parent, n.msg, m.date FROM thread_nodes n"
        " LEFT JOIN messages m ON m.id = n.msg AND n.status = 'accepted'"
        " WHERE n.thread = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, *thread);
    g_autoptr(GHashTable) byid = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) parents = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cor_thread_node_t *n = g_new0(cor_thread_node_t, 1);
        n->message_id = g_strdup((const char *) sqlite3_column_text(q, 0));
        n->msg = sqlite3_column_type(q, 3) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, 2);
        n->date = sqlite3_column_int64(q, 3);
        n->children = g_ptr_array_new_with_free_func((GDestroyNotify) cor_thread_node_free);
        const unsigned char *p = sqlite3_column_text(q, 1);
        if (p)
            g_hash_table_insert(parents, n, g_strdup((const char *) p));
        g_hash_table_insert(byid, n->message_id, n);
        g_ptr_array_add(all, n);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        for (guint i = 0; i < all->len; i++)
            cor_thread_node_free(g_ptr_array_index(all, i));
        return cor_store_sqlite_error(st, rc, "cannot read thread");
    }

    /* Link each node under its parent unless that would close a loop (the
     * store has none, but a tree must terminate whatever the data). */
    *roots = g_ptr_array_new_with_free_func((GDestroyNotify) cor_thread_node_free);
    g_autoptr(GHashTable) linked_to = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint i = 0; i < all->len; i++) {
        cor_thread_node_t *n = g_ptr_array_index(all, i);
        const char *pid = g_hash_table_lookup(parents, n);
        cor_thread_node_t *p = pid ? g_hash_table_lookup(byid, pid) : NULL;
        bool loop = false;
        for (cor_thread_node_t *a = p; a != NULL && !loop; a = g_hash_table_lookup(linked_to, a))
            loop = a == n;
        if (p && !loop) {
            g_ptr_array_add(p->children, n);
            g_hash_table_insert(linked_to, n, p);
        } else {
            g_ptr_array_add(*roots, n);
        }
    }
    prune(*roots);
    return COR_OK;
}
