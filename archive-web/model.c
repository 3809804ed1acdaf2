/* archive-web/model.c — the in-memory model of the archive (see model.h for
 * the design notes: a whole model for full builds, a partial one per update
 * round, nothing kept between rounds).
 *
 * What an update round asks the store (am_round_load; every query's plan
 * checked with EXPLAIN QUERY PLAN on schema v8), with G the group's
 * threads, T a touched thread's posts, P threads per index page:
 *   the round's posts         thread_nodes_msg             1 seek per message
 *   a touched thread          thread_nodes_thread_date     T rows
 *   its state, merged ids     threads PK, threads_merged   1 seek each
 *   where the change starts   threads_activity, covering   count of threads
 *                                                          at or after it
 *   the index pages' threads  threads_activity, newest     <= 4P rows
 *   their first/last/count    thread_nodes_thread_date     2 seeks + count
 *   a month's posts           thread_nodes_date (range)    the month's rows
 *   the feed's posts          thread_nodes_date (desc)     feed_entries rows
 *   months, counts            group_months PK; threads_activity covering
 *                                                          (count: G entries)
 *   an author page            messages_from_key            the author's rows
 * No statement scans a table; the one that grows with the group is the
 * count of its threads (an index-only count of G entries, about 0.3 ms for
 * 30,000 threads). */
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
    if (g->month_list)
        g_array_unref(g->month_list);
    if (g->newest)
        g_ptr_array_unref(g->newest);
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
    g_array_unref(c->shown);
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
    g->month_list = g_array_new(FALSE, FALSE, sizeof(am_month_t));
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
    int x = ((const am_month_t *) a)->month, y = ((const am_month_t *) b)->month;
    return x > y ? -1 : x < y;
}

/* g->month_list from g->months (a whole model). */
static void
month_list_fill(am_group_t *g)
{
    g_array_set_size(g->month_list, 0);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, g->months);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        am_month_t mo = { GPOINTER_TO_INT(k), ((GPtrArray *) v)->len };
        g_array_append_val(g->month_list, mo);
    }
    g_array_sort(g->month_list, month_cmp_desc);
}

guint
am_model_post_count(const am_model_t *m)
{
    guint n = 0;
    for (guint i = 0; i < m->groups->len; i++)
        n += ((am_group_t *) m->groups->pdata[i])->posts->len;
    return n;
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

/* A new post, in its group's tables, and in a whole model in its month and
 * its author (not yet in a thread; not sorted). */
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
    if (!m->partial) {
        g_ptr_array_add(month_posts(g, x->month), x);
        g_ptr_array_add(x->author->posts, x);
    }
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
    t->full = t->ends = true;
    t->count = t->posts->len;
    t->first = t->count ? t->posts->pdata[0] : NULL;
    t->last = t->count ? t->posts->pdata[t->posts->len - 1] : NULL;
    t->last_date = t->last ? t->last->date : 0;
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
    g->order_base = 0;
    g->n_threads = g->order->len;
    g->n_posts = g->posts->len;
    month_list_fill(g);
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


/* ---- partial models: one update round ---- */

static cor_status_t
groups_load(cor_store_t *st, am_model_t *m)
{
    g_autoptr(GPtrArray) groups = NULL;
    cor_status_t s = cor_store_group_list(st, false, &groups);
    if (s != COR_OK)
        return s;
    for (guint i = 0; i < groups->len; i++)
        g_ptr_array_add(m->groups, group_new(g_steal_pointer(&groups->pdata[i])));
    g_ptr_array_set_free_func(groups, NULL);
    return COR_OK;
}

static am_model_t *
model_new(bool partial)
{
    am_model_t *m = g_new0(am_model_t, 1);
    m->groups = g_ptr_array_new_with_free_func(group_free);
    m->authors = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, author_free);
    m->partial = partial;
    return m;
}

cor_status_t
am_model_summary(cor_store_t *st, am_model_t **out)
{
    *out = NULL;
    bool own_read = !cor_store_in_transaction(st);
    cor_status_t s = own_read ? cor_store_begin_read(st) : COR_OK;
    if (s != COR_OK)
        return s;
    am_model_t *m = model_new(true);
    if (cor_store_meta_get(st, "archive_generation", &m->generation) != COR_OK)
        m->generation = g_strdup("0");
    s = groups_load(st, m);
    for (guint i = 0; s == COR_OK && i < m->groups->len; i++) {
        am_group_t *g = m->groups->pdata[i];
        s = cor_store_group_activity(st, g->info->id, &g->n_threads, &g->n_posts, &g->last_date);
    }
    if (own_read)
        cor_store_end_read(st);
    if (s != COR_OK) {
        am_model_free(m);
        return s;
    }
    *out = m;
    return COR_OK;
}

/* The post of row p in group g, loaded once, with its thread set.  That
 * thread may hold none of its posts yet: a partial model loads a thread's
 * posts or ends only when a page needs them (model.h, invariant 1). */
static am_post_t *
post_get(am_model_t *m, am_group_t *g, const cor_store_post_t *p)
{
    am_post_t *x = g_hash_table_lookup(g->by_msg, &p->msg);
    if (!x) {
        x = post_add(m, g, p);
        x->thread = thread_get(g, p->thread);
    }
    return x;
}

typedef struct {
    am_model_t *m;
    am_group_t *g;
    GPtrArray *into;           /* may be NULL */
} collect_t;

static cor_status_t
collect_post(const cor_store_post_t *p, void *data)
{
    collect_t *c = data;
    if (p->group_id != c->g->info->id)
        return COR_OK;
    am_post_t *x = post_get(c->m, c->g, p);
    if (c->into)
        g_ptr_array_add(c->into, x);
    return COR_OK;
}

/* Every post of thread t (invariant 1). */
static cor_status_t
thread_load_full(am_model_t *m, cor_store_t *st, am_thread_t *t)
{
    if (t->full)
        return COR_OK;
    g_autoptr(GPtrArray) posts = g_ptr_array_new();
    collect_t c = { m, t->group, posts };
    cor_status_t s = cor_store_posts_foreach(st, 0, t->id, collect_post, &c);
    if (s != COR_OK)
        return s;
    g_ptr_array_set_size(t->posts, 0);
    for (guint i = 0; i < posts->len; i++)
        g_ptr_array_add(t->posts, posts->pdata[i]);
    thread_finish(t);
    return COR_OK;
}

/* Thread t's first and last post and its count (invariant 1). */
static cor_status_t
thread_load_ends(am_model_t *m, cor_store_t *st, am_thread_t *t)
{
    if (t->ends)
        return COR_OK;
    g_autoptr(GPtrArray) ends = g_ptr_array_new();
    collect_t c = { m, t->group, ends };
    cor_status_t s = cor_store_thread_ends(st, t->id, &t->count, collect_post, &c);
    if (s != COR_OK)
        return s;
    t->first = ends->len > 0 ? ends->pdata[0] : NULL;
    t->last = ends->len > 0 ? ends->pdata[ends->len - 1] : NULL;
    t->last_date = t->last ? t->last->date : 0;
    t->ends = true;
    return COR_OK;
}

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
    c->min_rank = G_MAXINT64;
    c->threads = g_array_new(FALSE, FALSE, sizeof(int64_t));
    c->gone = g_array_new(FALSE, FALSE, sizeof(int64_t));
    c->months = g_array_new(FALSE, FALSE, sizeof(int));
    c->posts = g_ptr_array_new();
    c->authors = g_ptr_array_new();
    c->shown = g_array_new(FALSE, FALSE, sizeof(cor_store_thread_state_t));
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

static void
add_shown(am_change_t *c, int64_t id, bool listed, int64_t shown, int64_t shown_into)
{
    cor_store_thread_state_t t = { .id = id, .listed = listed, .shown = shown,
                                   .shown_into = shown_into };
    g_array_append_val(c->shown, t);
}

/* The lowest activity key (last_date, id) a change involves. */
typedef struct {
    bool any;
    int64_t date, id;
} key_t_;

static void
key_min(key_t_ *k, int64_t date, int64_t id)
{
    if (!k->any || date < k->date || (date == k->date && id < k->id)) {
        k->any = true;
        k->date = date;
        k->id = id;
    }
}

static void
alias_set(am_group_t *g, int64_t old, int64_t live)
{
    g_hash_table_insert(g->aliases, id_new(old), id_new(live));
}

/* The threads one group's change touches: each with every post; the
 * moved pages of the threads merged into them; the months whose pages
 * change; the lowest key whose index place changed (see am_round_load). */
static cor_status_t
round_threads(am_model_t *m, cor_store_t *st, am_change_t *c, bool fresh, key_t_ *low,
              int64_t *new_threads, int64_t *gone_threads)
{
    am_group_t *g = c->group;
    cor_status_t s = COR_OK;
    for (guint i = 0; s == COR_OK && i < c->threads->len; i++) {
        int64_t tid = g_array_index(c->threads, int64_t, i);
        am_thread_t *t = thread_get(g, tid);
        cor_store_thread_state_t ts;
        if ((s = cor_store_thread_state(st, tid, &ts)) != COR_OK ||
            (s = thread_load_full(m, st, t)) != COR_OK)
            break;
        if (t->count == 0)
            continue;                       /* cannot be: the work's post is in it */
        key_min(low, t->last_date, tid);
        if (ts.listed)
            key_min(low, ts.shown, tid);
        else
            (*new_threads)++;
        add_shown(c, tid, true, t->last_date, 0);
        /* month pages show a thread by its first post: when that may be
         * new here, every month the thread is in changes; otherwise the
         * months of this round's posts (added below) */
        bool first_new = fresh;
        for (guint j = 0; !first_new && j < c->posts->len; j++)
            first_new = c->posts->pdata[j] == t->first;
        for (guint j = 0; first_new && j < t->posts->len; j++)
            add_month(c->months, ((am_post_t *) t->posts->pdata[j])->month);
        /* threads merged into this one: listed before, they left the index
         * pages; a moved page not pointing here yet is made */
        g_autoptr(GArray) merged = NULL;
        if ((s = cor_store_thread_merged(st, tid, &merged)) != COR_OK)
            break;
        for (guint j = 0; j < merged->len; j++) {
            cor_store_thread_state_t *x = &g_array_index(merged, cor_store_thread_state_t, j);
            if (x->listed) {
                key_min(low, x->shown, x->id);
                (*gone_threads)++;
            }
            if (x->listed || x->shown_into != tid || fresh) {
                alias_set(g, x->id, tid);
                add_id(c->gone, x->id);
                add_shown(c, x->id, false, 0, tid);
            }
        }
    }
    return s;
}

/* Loads the index pages' threads of ranks [from, n_threads) into g->order
 * (invariant 2) with their ends. */
static cor_status_t
round_order(am_model_t *m, cor_store_t *st, am_group_t *g, int64_t from)
{
    g_autoptr(GArray) pairs = NULL;
    cor_status_t s = cor_store_threads_newest(st, g->info->id, g->n_threads - from, &pairs);
    if (s != COR_OK)
        return s;
    guint n = pairs->len / 2;
    g_ptr_array_set_size(g->order, 0);
    g->order_base = g->n_threads - n;
    for (guint i = n; i-- > 0;) {
        am_thread_t *t = thread_get(g, g_array_index(pairs, int64_t, 2 * i));
        if ((s = thread_load_ends(m, st, t)) != COR_OK)
            return s;
        t->rank = g->order_base + g->order->len;
        g_ptr_array_add(g->order, t);
    }
    return COR_OK;
}

/* The posts of month mo (invariant 3), each thread with its ends. */
static cor_status_t
round_month(am_model_t *m, cor_store_t *st, am_group_t *g, int mo)
{
    if (g_hash_table_contains(g->months, GINT_TO_POINTER(mo)))
        return COR_OK;
    GPtrArray *posts = g_ptr_array_new();
    collect_t c = { m, g, posts };
    cor_status_t s = cor_store_posts_month(st, g->info->id, mo, collect_post, &c);
    for (guint i = 0; s == COR_OK && i < posts->len; i++)
        s = thread_load_ends(m, st, ((am_post_t *) posts->pdata[i])->thread);
    if (s != COR_OK || posts->len == 0) {
        g_ptr_array_unref(posts);
        return s;
    }
    g_hash_table_insert(g->months, GINT_TO_POINTER(mo), posts);
    return COR_OK;
}

static cor_status_t
round_group(am_model_t *m, cor_store_t *st, am_change_t *c, bool fresh, int per_page,
            int feed_entries)
{
    am_group_t *g = c->group;
    key_t_ low = { 0 };
    int64_t new_threads = 0, gone_threads = 0;
    cor_status_t s = round_threads(m, st, c, fresh, &low, &new_threads, &gone_threads);
    if (s == COR_OK && fresh) {
        /* every merged id's page, whatever the record says */
        g_autoptr(GArray) pairs = NULL;
        if ((s = cor_store_thread_aliases(st, g->info->id, &pairs)) != COR_OK)
            return s;
        for (guint i = 0; i + 1 < pairs->len; i += 2) {
            int64_t old = g_array_index(pairs, int64_t, i);
            int64_t live = g_array_index(pairs, int64_t, i + 1);
            if (!g_hash_table_contains(g->aliases, &old)) {
                alias_set(g, old, live);
                add_id(c->gone, old);
                add_shown(c, old, false, 0, live);
            }
        }
    }
    if (s != COR_OK)
        return s;
    /* Index pages.  Every thread listed below the lowest key this round
     * involves (before or after: the record of what the pages list, and the
     * threads as they are) is in the same place as before, with the same
     * row: only the pages from that place on change. */
    c->old_threads = fresh ? g->n_threads : g->n_threads - new_threads + gone_threads;
    if (fresh || !low.any) {
        c->min_rank = fresh ? 0 : G_MAXINT64;
    } else {
        int64_t after = 0;
        if ((s = cor_store_threads_after(st, g->info->id, low.date, low.id, &after)) != COR_OK)
            return s;
        c->min_rank = g->n_threads - after;
    }
    int64_t nfull = g->n_threads / per_page;
    int numbered = nfull > 1 ? (int) nfull - 1 : 0;
    int from;          /* as archive.c's update_group works it out */
    if (fresh || c->min_rank == G_MAXINT64) {
        from = 1;
    } else {
        int k = (int) (c->min_rank / per_page) + 1;
        from = k <= numbered ? k : 0;
    }
    if (from == 0 || from > numbered - 1)
        from = numbered - 1 > 0 ? numbered - 1 : 1;
    if (fresh)
        from = 1;
    int64_t first_rank = from <= numbered ? (int64_t) (from - 1) * per_page
                                          : (int64_t) numbered * per_page;
    if ((s = round_order(m, st, g, first_rank)) != COR_OK)
        return s;
    /* month pages, the month list, the feed's posts */
    for (guint i = 0; s == COR_OK && i < c->months->len; i++)
        s = round_month(m, st, g, g_array_index(c->months, int, i));
    g_autoptr(GArray) months = NULL;
    if (s == COR_OK && (s = cor_store_group_months(st, g->info->id, &months)) == COR_OK) {
        g_array_set_size(g->month_list, 0);
        for (guint i = 0; i + 1 < months->len; i += 2) {
            am_month_t mo = { (int) g_array_index(months, int64_t, i),
                              g_array_index(months, int64_t, i + 1) };
            g_array_append_val(g->month_list, mo);
        }
    }
    if (s == COR_OK) {
        if (g->newest)
            g_ptr_array_unref(g->newest);
        g->newest = g_ptr_array_new();
        collect_t cn = { m, g, g->newest };
        s = cor_store_posts_newest(st, g->info->id, feed_entries, collect_post, &cn);
    }
    return s;
}

typedef struct {
    am_model_t *m;
    GPtrArray *changes;
} round_t;

static cor_status_t
round_post(const cor_store_post_t *p, void *data)
{
    round_t *r = data;
    am_group_t *g = am_model_group_by_id(r->m, p->group_id);
    if (!g)
        return COR_OK;          /* cannot be: the groups are from the same snapshot */
    am_change_t *c = change_for(r->changes, g);
    am_post_t *x = post_get(r->m, g, p);
    add_ptr(c->posts, x);
    add_ptr(c->authors, x->author);
    add_month(c->months, x->month);
    add_id(c->threads, p->thread);
    return COR_OK;
}

cor_status_t
am_round_load(am_model_t *m, cor_store_t *st, GArray *msgs, bool fresh, int per_page,
              int feed_entries, GPtrArray *changes)
{
    /* the round's posts (every group each message is in): their message
     * pages, authors and months change, and their threads' pages */
    round_t r = { m, changes };
    cor_status_t s = COR_OK;
    for (guint i = 0; s == COR_OK && i < msgs->len; i++)
        s = cor_store_posts_foreach(st, g_array_index(msgs, int64_t, i), 0, round_post, &r);
    for (guint i = 0; s == COR_OK && i < changes->len; i++)
        s = round_group(m, st, changes->pdata[i], fresh, per_page, feed_entries);
    return s;
}
