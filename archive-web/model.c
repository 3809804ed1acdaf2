/* archive-web/model.c — the in-memory model of the archive (see model.h). */
#include "archive-web/model.h"

#include <string.h>

#include "archive-web/archive.h"

static int64_t *
id_new(int64_t v)
{
    int64_t *p = g_new(int64_t, 1);
    *p = v;
    return p;
}

static int
month_of(int64_t date)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(date);
    if (!dt)
        return 0;
    return g_date_time_get_year(dt) * 12 + g_date_time_get_month(dt) - 1;
}

static int
post_cmp(const am_post_t *a, const am_post_t *b)
{
    if (a->date != b->date)
        return a->date < b->date ? -1 : 1;
    if (a->msg != b->msg)
        return a->msg < b->msg ? -1 : 1;
    return strcmp(a->group->info->name, b->group->info->name);
}

static int
post_cmp_p(gconstpointer a, gconstpointer b)
{
    return post_cmp(*(am_post_t *const *) a, *(am_post_t *const *) b);
}

static int
thread_cmp(const am_thread_t *a, const am_thread_t *b)
{
    if (a->last_date != b->last_date)
        return a->last_date < b->last_date ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int
thread_cmp_p(gconstpointer a, gconstpointer b)
{
    return thread_cmp(*(am_thread_t *const *) a, *(am_thread_t *const *) b);
}

static void
post_free(gpointer p)
{
    am_post_t *x = p;
    g_free(x->message_id);
    g_free(x->subject);
    g_free(x->from_name);
    g_free(x->from_addr);
    g_free(x);
}

static void
thread_free(gpointer p)
{
    am_thread_t *t = p;
    g_ptr_array_unref(t->posts);
    g_free(t);
}

static void
author_free(gpointer p)
{
    am_author_t *a = p;
    g_free(a->addr);
    g_ptr_array_unref(a->posts);
    g_free(a);
}

static void
group_free(gpointer p)
{
    am_group_t *g = p;
    g_hash_table_unref(g->threads);
    g_hash_table_unref(g->by_msg);
    g_hash_table_unref(g->by_key);
    g_hash_table_unref(g->months);
    g_hash_table_unref(g->aliases);
    g_ptr_array_unref(g->order);
    g_ptr_array_unref(g->posts);
    cor_group_free(g->info);
    g_free(g);
}

void
am_model_free(am_model_t *m)
{
    if (!m)
        return;
    g_ptr_array_unref(m->groups);
    g_hash_table_unref(m->authors);
    g_free(m->generation);
    g_free(m);
}

void
am_change_free(am_change_t *c)
{
    if (!c)
        return;
    g_array_unref(c->threads);
    g_array_unref(c->gone);
    g_array_unref(c->months);
    g_ptr_array_unref(c->posts);
    g_ptr_array_unref(c->authors);
    g_free(c);
}

static am_group_t *
group_new(cor_group_t *info)
{
    am_group_t *g = g_new0(am_group_t, 1);
    g->info = info;
    g->posts = g_ptr_array_new_with_free_func(post_free);
    g->by_msg = g_hash_table_new(g_int64_hash, g_int64_equal);
    g->by_key = g_hash_table_new(g_str_hash, g_str_equal);
    g->threads = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, thread_free);
    g->order = g_ptr_array_new();
    g->months = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                      (GDestroyNotify) g_ptr_array_unref);
    g->aliases = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    return g;
}

am_group_t *
am_model_group(am_model_t *m, const char *name)
{
    for (guint i = 0; i < m->groups->len; i++) {
        am_group_t *g = m->groups->pdata[i];
        if (strcmp(g->info->name, name) == 0)
            return g;
    }
    return NULL;
}

am_group_t *
am_model_group_by_id(am_model_t *m, int64_t id)
{
    for (guint i = 0; i < m->groups->len; i++) {
        am_group_t *g = m->groups->pdata[i];
        if (g->info->id == id)
            return g;
    }
    return NULL;
}

static int
month_cmp_desc(gconstpointer a, gconstpointer b)
{
    int x = *(const int *) a, y = *(const int *) b;
    return x > y ? -1 : x < y;
}

GArray *
am_group_months(am_group_t *g)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(int));
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, g->months);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        int v = GPOINTER_TO_INT(k);
        g_array_append_val(out, v);
    }
    g_array_sort(out, month_cmp_desc);
    return out;
}

static am_thread_t *
thread_get(am_group_t *g, int64_t id)
{
    am_thread_t *t = g_hash_table_lookup(g->threads, &id);
    if (!t) {
        t = g_new0(am_thread_t, 1);
        t->id = id;
        t->group = g;
        t->posts = g_ptr_array_new();
        t->rank = -1;
        g_hash_table_insert(g->threads, &t->id, t);
    }
    return t;
}

static am_author_t *
author_get(am_model_t *m, const char *addr)
{
    char key[17];
    cor_archive_key(addr, key);
    am_author_t *a = g_hash_table_lookup(m->authors, key);
    if (!a) {
        a = g_new0(am_author_t, 1);
        memcpy(a->key, key, sizeof key);
        a->addr = g_strdup(addr);
        a->posts = g_ptr_array_new();
        g_hash_table_insert(m->authors, a->key, a);
    }
    return a;
}

static GPtrArray *
month_posts(am_group_t *g, int month)
{
    GPtrArray *arr = g_hash_table_lookup(g->months, GINT_TO_POINTER(month));
    if (!arr) {
        arr = g_ptr_array_new();
        g_hash_table_insert(g->months, GINT_TO_POINTER(month), arr);
    }
    return arr;
}

/* A new post, in its group's tables, its month and its author (not yet in
 * a thread; not sorted). */
static am_post_t *
post_add(am_model_t *m, am_group_t *g, const cor_store_post_t *p)
{
    am_post_t *x = g_new0(am_post_t, 1);
    x->msg = p->msg;
    x->message_id = g_strdup(p->message_id);
    cor_archive_key(p->message_id, x->key);
    x->date = p->date;
    x->subject = g_strdup(p->subject);
    x->from_name = g_strdup(p->from_name);
    x->from_addr = g_ascii_strdown(p->from_addr, -1);
    x->has_attachments = p->has_attachments;
    x->group = g;
    x->month = month_of(p->date);
    x->author = author_get(m, x->from_addr);
    g_ptr_array_add(g->posts, x);
    g_hash_table_insert(g->by_msg, &x->msg, x);
    g_hash_table_insert(g->by_key, x->key, x);
    g_ptr_array_add(month_posts(g, x->month), x);
    g_ptr_array_add(x->author->posts, x);
    return x;
}

typedef struct {
    am_model_t *m;
    am_group_t *g;
} load_t;

static cor_status_t
load_post(const cor_store_post_t *p, void *data)
{
    load_t *l = data;
    if (!l->g || l->g->info->id != p->group_id)
        l->g = am_model_group_by_id(l->m, p->group_id);
    if (!l->g)
        return COR_OK;      /* a group created since the list was read */
    am_post_t *x = post_add(l->m, l->g, p);
    x->thread = thread_get(l->g, p->thread);
    g_ptr_array_add(x->thread->posts, x);
    return COR_OK;
}

static void
thread_finish(am_thread_t *t)
{
    g_ptr_array_sort(t->posts, post_cmp_p);
    t->last_date = t->posts->len ? ((am_post_t *) t->posts->pdata[t->posts->len - 1])->date : 0;
}

static void
group_finish(am_group_t *g)
{
    g_ptr_array_set_size(g->order, 0);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, g->threads);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        thread_finish(v);
        g_ptr_array_add(g->order, v);
    }
    g_ptr_array_sort(g->order, thread_cmp_p);
    g->last_date = 0;
    for (guint i = 0; i < g->order->len; i++) {
        am_thread_t *t = g->order->pdata[i];
        t->rank = i;
        if (t->last_date > g->last_date)
            g->last_date = t->last_date;
    }
    g_hash_table_iter_init(&it, g->months);
    while (g_hash_table_iter_next(&it, NULL, &v))
        g_ptr_array_sort(v, post_cmp_p);
}

static cor_status_t
load_aliases(cor_store_t *st, am_group_t *g)
{
    g_autoptr(GArray) pairs = NULL;
    cor_status_t s = cor_store_thread_aliases(st, g->info->id, &pairs);
    if (s != COR_OK)
        return s;
    g_hash_table_remove_all(g->aliases);
    for (guint i = 0; i + 1 < pairs->len; i += 2)
        g_hash_table_insert(g->aliases, id_new(g_array_index(pairs, int64_t, i)),
                            id_new(g_array_index(pairs, int64_t, i + 1)));
    return COR_OK;
}

static cor_status_t model_load(cor_store_t *st, am_model_t **out);

/* In one read transaction (the caller's, or one of its own): the groups,
 * posts and aliases must be one picture of the store. */
cor_status_t
am_model_load(cor_store_t *st, am_model_t **out)
{
    if (cor_store_in_transaction(st))
        return model_load(st, out);
    cor_status_t s = cor_store_begin_read(st);
    if (s != COR_OK)
        return s;
    s = model_load(st, out);
    cor_store_end_read(st);
    return s;
}

static cor_status_t
model_load(cor_store_t *st, am_model_t **out)
{
    *out = NULL;
    am_model_t *m = g_new0(am_model_t, 1);
    m->groups = g_ptr_array_new_with_free_func(group_free);
    m->authors = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, author_free);
    if (cor_store_meta_get(st, "archive_generation", &m->generation) != COR_OK)
        m->generation = g_strdup("0");

    g_autoptr(GPtrArray) groups = NULL;
    cor_status_t s = cor_store_group_list(st, false, &groups);
    if (s != COR_OK) {
        am_model_free(m);
        return s;
    }
    for (guint i = 0; i < groups->len; i++)
        g_ptr_array_add(m->groups, group_new(g_steal_pointer(&groups->pdata[i])));
    g_ptr_array_set_free_func(groups, NULL);

    load_t l = { .m = m };
    s = cor_store_posts_foreach(st, 0, 0, load_post, &l);
    for (guint i = 0; s == COR_OK && i < m->groups->len; i++) {
        group_finish(m->groups->pdata[i]);
        s = load_aliases(st, m->groups->pdata[i]);
    }
    if (s != COR_OK) {
        am_model_free(m);
        return s;
    }
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, m->authors);
    while (g_hash_table_iter_next(&it, NULL, &v))
        g_ptr_array_sort(((am_author_t *) v)->posts, post_cmp_p);
    *out = m;
    return COR_OK;
}

/* ---- incremental ---- */

static am_change_t *
change_for(GPtrArray *changes, am_group_t *g)
{
    for (guint i = 0; i < changes->len; i++) {
        am_change_t *c = changes->pdata[i];
        if (c->group == g)
            return c;
    }
    am_change_t *c = g_new0(am_change_t, 1);
    c->group = g;
    c->old_threads = g->order->len;
    c->min_rank = G_MAXINT64;
    c->threads = g_array_new(FALSE, FALSE, sizeof(int64_t));
    c->gone = g_array_new(FALSE, FALSE, sizeof(int64_t));
    c->months = g_array_new(FALSE, FALSE, sizeof(int));
    c->posts = g_ptr_array_new();
    c->authors = g_ptr_array_new();
    g_ptr_array_add(changes, c);
    return c;
}

static void
add_id(GArray *a, int64_t v)
{
    for (guint i = 0; i < a->len; i++)
        if (g_array_index(a, int64_t, i) == v)
            return;
    g_array_append_val(a, v);
}

static void
add_month(GArray *a, int v)
{
    for (guint i = 0; i < a->len; i++)
        if (g_array_index(a, int, i) == v)
            return;
    g_array_append_val(a, v);
}

static void
add_ptr(GPtrArray *a, gpointer p)
{
    for (guint i = 0; i < a->len; i++)
        if (a->pdata[i] == p)
            return;
    g_ptr_array_add(a, p);
}

/* Inserts p into the sorted array arr (no duplicates). */
static void
sorted_insert(GPtrArray *arr, am_post_t *p)
{
    guint lo = 0, hi = arr->len;
    while (lo < hi) {
        guint mid = (lo + hi) / 2;
        int c = post_cmp(arr->pdata[mid], p);
        if (c == 0)
            return;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    g_ptr_array_insert(arr, (gint) lo, p);
}

static void
order_remove(am_group_t *g, am_thread_t *t)
{
    if (t->rank < 0)
        return;
    g_ptr_array_remove_index(g->order, (guint) t->rank);
    for (guint i = (guint) t->rank; i < g->order->len; i++)
        ((am_thread_t *) g->order->pdata[i])->rank = i;
    t->rank = -1;
}

static void
order_insert(am_group_t *g, am_thread_t *t)
{
    guint lo = 0, hi = g->order->len;
    while (lo < hi) {
        guint mid = (lo + hi) / 2;
        if (thread_cmp(g->order->pdata[mid], t) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    g_ptr_array_insert(g->order, (gint) lo, t);
    for (guint i = lo; i < g->order->len; i++)
        ((am_thread_t *) g->order->pdata[i])->rank = i;
}

typedef struct {
    GPtrArray *rows;     /* cor_store_post_t copies (strings owned) */
} rows_t;

static void
row_free(gpointer p)
{
    cor_store_post_t *r = p;
    g_free((char *) r->message_id);
    g_free((char *) r->subject);
    g_free((char *) r->from_name);
    g_free((char *) r->from_addr);
    g_free(r);
}

static cor_status_t
collect_row(const cor_store_post_t *p, void *data)
{
    rows_t *r = data;
    cor_store_post_t *c = g_new(cor_store_post_t, 1);
    *c = *p;
    c->message_id = g_strdup(p->message_id);
    c->subject = g_strdup(p->subject);
    c->from_name = g_strdup(p->from_name);
    c->from_addr = g_strdup(p->from_addr);
    g_ptr_array_add(r->rows, c);
    return COR_OK;
}

static cor_status_t
add_group(am_model_t *m, cor_store_t *st, int64_t group_id, am_group_t **out)
{
    g_autoptr(GPtrArray) groups = NULL;
    cor_status_t s = cor_store_group_list(st, false, &groups);
    if (s != COR_OK)
        return s;
    *out = NULL;
    for (guint i = 0; i < groups->len; i++) {
        cor_group_t *info = groups->pdata[i];
        if (info->id != group_id)
            continue;
        am_group_t *g = group_new(g_steal_pointer(&groups->pdata[i]));
        /* keep the groups by name */
        guint at = 0;
        while (at < m->groups->len &&
               strcmp(((am_group_t *) m->groups->pdata[at])->info->name, g->info->name) < 0)
            at++;
        g_ptr_array_insert(m->groups, (gint) at, g);
        *out = g;
        break;
    }
    g_ptr_array_set_free_func(groups, (GDestroyNotify) cor_group_free);
    return *out ? COR_OK : COR_ERR_NO_GROUP;
}

/* Reloads thread `tid` of group g from the store (see am_model_apply). */
static cor_status_t
reload_thread(am_model_t *m, cor_store_t *st, am_group_t *g, int64_t tid, am_change_t *c)
{
    rows_t r = { g_ptr_array_new_with_free_func(row_free) };
    cor_status_t s = cor_store_posts_foreach(st, 0, tid, collect_row, &r);
    if (s != COR_OK) {
        g_ptr_array_unref(r.rows);
        return s;
    }
    am_thread_t *t = thread_get(g, tid);
    /* month pages show a thread by its first post: while that stays, only
     * the months of posts that arrive (or move) here change */
    am_post_t *old_first = t->posts->len ? t->posts->pdata[0] : NULL;
    if (t->rank >= 0 && t->rank < c->min_rank)
        c->min_rank = t->rank;
    order_remove(g, t);
    g_autoptr(GPtrArray) losers = g_ptr_array_new();   /* threads that lost posts */
    g_ptr_array_set_size(t->posts, 0);
    for (guint i = 0; i < r.rows->len; i++) {
        cor_store_post_t *row = r.rows->pdata[i];
        if (row->group_id != g->info->id)
            continue;
        am_post_t *x = g_hash_table_lookup(g->by_msg, &row->msg);
        if (!x) {
            x = post_add(m, g, row);
            /* post_add appended it unsorted to both: put it in place */
            GPtrArray *mp = month_posts(g, x->month);
            g_ptr_array_remove_index(mp, mp->len - 1);
            sorted_insert(mp, x);
            g_ptr_array_remove_index(x->author->posts, x->author->posts->len - 1);
            sorted_insert(x->author->posts, x);
            add_ptr(c->posts, x);
            add_ptr(c->authors, x->author);
            add_month(c->months, x->month);
        } else if (x->thread != t) {
            if (x->thread) {
                g_ptr_array_remove(x->thread->posts, x);
                add_ptr(losers, x->thread);
            }
            add_ptr(c->posts, x);
            add_month(c->months, x->month);
        }
        x->thread = t;
        g_ptr_array_add(t->posts, x);
    }
    g_ptr_array_unref(r.rows);
    thread_finish(t);
    for (guint i = 0; i < losers->len; i++) {
        am_thread_t *l = losers->pdata[i];
        if (l->rank >= 0 && l->rank < c->min_rank)
            c->min_rank = l->rank;
        order_remove(g, l);
        if (l->posts->len == 0) {
            /* kept (empty, out of the order) rather than freed: nothing may
             * be left pointing at freed memory, whatever order the work
             * comes in */
            add_id(c->gone, l->id);
        } else {
            thread_finish(l);
            order_insert(g, l);
            add_id(c->threads, l->id);
            for (guint j = 0; j < l->posts->len; j++)
                add_month(c->months, ((am_post_t *) l->posts->pdata[j])->month);
        }
    }
    if (t->posts->len > 0) {
        order_insert(g, t);
        if (t->rank < c->min_rank)
            c->min_rank = t->rank;
        add_id(c->threads, t->id);
        if (t->posts->pdata[0] != old_first || losers->len > 0)
            for (guint j = 0; j < t->posts->len; j++)
                add_month(c->months, ((am_post_t *) t->posts->pdata[j])->month);
    }
    if (t->last_date > g->last_date)
        g->last_date = t->last_date;
    return COR_OK;
}

cor_status_t
am_model_apply(am_model_t *m, cor_store_t *st, int64_t msg, GPtrArray *changes)
{
    rows_t r = { g_ptr_array_new_with_free_func(row_free) };
    cor_status_t s = cor_store_posts_foreach(st, msg, 0, collect_row, &r);
    for (guint i = 0; s == COR_OK && i < r.rows->len; i++) {
        cor_store_post_t *row = r.rows->pdata[i];
        am_group_t *g = am_model_group_by_id(m, row->group_id);
        if (!g && (s = add_group(m, st, row->group_id, &g)) != COR_OK)
            break;
        am_change_t *c = change_for(changes, g);
        am_post_t *x = g_hash_table_lookup(g->by_msg, &row->msg);
        if (x) {
            add_ptr(c->posts, x);
            add_ptr(c->authors, x->author);
        }
        guint gone_before = c->gone->len;
        if ((s = reload_thread(m, st, g, row->thread, c)) != COR_OK)
            break;
        x = g_hash_table_lookup(g->by_msg, &row->msg);
        if (x) {
            /* the message this work is for: its page, author and month
             * change, even when the model held it already (loaded after it
             * was stored) */
            add_ptr(c->posts, x);
            add_ptr(c->authors, x->author);
            add_month(c->months, x->month);
        }
        /* merged ids now point elsewhere: their pages change too.  Only a
         * merge (a thread emptied into this one) changes them: reading every
         * alias of the group for each message would cost more as the group
         * grows */
        if (c->gone->len == gone_before)
            continue;
        g_autoptr(GHashTable) before = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                                             g_free, g_free);
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, g->aliases);
        while (g_hash_table_iter_next(&it, &k, &v))
            g_hash_table_insert(before, id_new(*(int64_t *) k), id_new(*(int64_t *) v));
        if ((s = load_aliases(st, g)) != COR_OK)
            break;
        g_hash_table_iter_init(&it, g->aliases);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            int64_t *old = g_hash_table_lookup(before, k);
            if (!old || *old != *(int64_t *) v)
                add_id(c->gone, *(int64_t *) k);
        }
    }
    g_ptr_array_unref(r.rows);
    return s;
}
