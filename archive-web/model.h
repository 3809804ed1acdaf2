/* archive-web/model.h — what the archive's listing pages are made of, in memory.
 *
 * The model is a function of the store: accepted posts (group, live
 * thread, message row, Message-ID, date, subject, author), the threads
 * they make, and merged thread ids.  render.c makes every page from it
 * (message and thread pages also read the originals).
 *
 * Design notes
 * ------------
 * Two ways to fill it, and which one keeps what:
 *
 *   whole     am_model_load(): every post of the archive (a full build,
 *             `corridor archive build` or the daemon's when it is more than
 *             [archive] full_build_at behind).  It lives for the build only
 *             and is freed after it.
 *   partial   am_model_summary() + am_round_load(): what one update round's
 *             pages need and nothing else — the groups with their counts
 *             (the site index), and for each group the round touches: its
 *             touched threads with every post, the threads on the index
 *             pages that change with their first and last post, the posts
 *             of the months that change, the newest posts (the group feed),
 *             the month list with counts.  Read from the store's indexes
 *             (core/store.h, schema v8) in the round's read transaction,
 *             rendered, written, freed.
 *
 * So the daemon keeps nothing that grows with the archive between rounds:
 * its memory for the archive is one round's partial model (bounded by the
 * pages that round writes) and the parsed-message cache (archive.c,
 * bounded by count and bytes).  The HTTP listener's site index, author pages
 * and downloads ask the store per request (archive.c).
 *
 * What an update needs to know about the pages as they were — where a
 * thread was listed, which "moved" pages exist — is not kept in memory
 * either: the renderer records it in the store (threads.shown,
 * threads.shown_into) in the transaction that consumes the round's work,
 * after the pages are durable, and am_round_load() compares it with the
 * threads as they are now.
 *
 * Orders (all total, so output is deterministic):
 *   threads of a group by activity: (last_date, thread id) ascending — rank 0
 *   is the least recently active; index pages count from there.
 *   posts of a thread, of a month, of an author: (date, message row).
 *
 * Invariants:
 *   1. A thread's first, last, count and last_date are set whenever it is
 *      listed on a page being rendered (am_thread_t.ends); its posts array
 *      holds every post only when `full`.
 *   2. g->order holds the threads of ranks [order_base, n_threads): the
 *      whole order in a whole model, the index pages to render in a
 *      partial one.
 *   3. g->months holds a month's posts only when the model holds all of
 *      them; g->month_list always lists every month with its count.
 *
 * Not thread-safe: one owner.  Build workers read a whole model without
 * changing it.
 */
#ifndef COR_ARCHIVE_MODEL_H
#define COR_ARCHIVE_MODEL_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "core/store.h"

typedef struct am_group am_group_t;
typedef struct am_thread am_thread_t;
typedef struct am_author am_author_t;

typedef struct am_post {
    int64_t msg;               /* messages.id */
    char key[17];              /* URL key of the Message-ID */
    char *message_id;          /* owned */
    int64_t date;
    char *subject;             /* owned */
    char *from_name;           /* owned */
    char *from_addr;           /* owned */
    bool has_attachments;
    am_group_t *group;
    am_thread_t *thread;
    am_author_t *author;
    int month;                 /* year * 12 + month - 1, UTC */
} am_post_t;

struct am_thread {
    int64_t id;
    am_group_t *group;
    GPtrArray *posts;          /* am_post_t* by (date, msg): all of them when `full` */
    bool full;
    bool ends;                 /* first, last, count and last_date are set */
    am_post_t *first, *last;
    int64_t count;             /* its posts */
    int64_t last_date;
    int64_t rank;              /* place in the activity order; -1: not known */
};

typedef struct am_month {
    int month;
    int64_t posts;
} am_month_t;

struct am_group {
    cor_group_t *info;         /* owned */
    GPtrArray *posts;          /* am_post_t* (owned): the posts loaded */
    GHashTable *by_msg;        /* msg (int64_t*) -> am_post_t* */
    GHashTable *by_key;        /* key (char*) -> am_post_t* */
    GHashTable *threads;       /* id (int64_t*) -> am_thread_t* (owned) */
    GPtrArray *order;          /* am_thread_t* by activity from rank order_base */
    int64_t order_base;
    int64_t n_threads;         /* threads listed (with posts) */
    int64_t n_posts;           /* accepted posts */
    GHashTable *months;        /* month (int) -> GPtrArray of am_post_t* by (date, msg) */
    GArray *month_list;        /* am_month_t, newest first: every month with posts */
    GPtrArray *newest;         /* partial: the newest posts, newest first (the group
                                  feed's); NULL in a whole model (the months have them) */
    GHashTable *aliases;       /* merged id (int64_t*) -> live id (int64_t*): all of
                                  them in a whole model, the round's in a partial one */
    int64_t last_date;
};

struct am_author {
    char key[17];
    char *addr;
    GPtrArray *posts;          /* am_post_t* by (date, msg, group name); whole model only */
};

typedef struct am_model {
    GPtrArray *groups;         /* am_group_t* (owned) by name */
    GHashTable *authors;       /* key -> am_author_t* (owned) */
    char *generation;          /* meta 'archive_generation' when loaded */
    bool partial;
} am_model_t;

/* The whole archive, in one read transaction (the caller's, or its own). */
cor_status_t am_model_load(cor_store_t *st, am_model_t **out);
void am_model_free(am_model_t *m);

/* A partial model with every group and its counts (threads, posts, last
 * activity) and nothing else: enough for the site index.  In the caller's
 * read transaction when there is one. */
cor_status_t am_model_summary(cor_store_t *st, am_model_t **out);

am_group_t *am_model_group(am_model_t *m, const char *name);
am_group_t *am_model_group_by_id(am_model_t *m, int64_t id);

/* How many posts the model holds (a test hook: what a round keeps). */
guint am_model_post_count(const am_model_t *m);

/* What one update round changes in one group: the pages to write, and
 * what to record in the store once they are durable. */
typedef struct am_change {
    am_group_t *group;
    int64_t old_threads;       /* the group's thread count on its pages before */
    int64_t min_rank;          /* lowest activity rank whose thread changed, before or
                                  after (index pages from there on change); 0 when
                                  every index page is to be made again */
    GArray *threads;           /* int64_t ids of threads whose pages change (live, full) */
    GArray *gone;              /* int64_t merged ids whose "moved" page changes */
    GArray *months;            /* int months whose pages change */
    GPtrArray *posts;          /* am_post_t* whose message page changes */
    GPtrArray *authors;        /* am_author_t* whose page changes */
    GArray *shown;             /* cor_store_thread_state_t: threads.shown and
                                  shown_into to record (id, listed, shown, shown_into) */
} am_change_t;

/* Fills the partial model `m` (from am_model_summary, in the same read
 * transaction) with what the pages changed by the messages `msgs` (int64_t
 * rows, a round's 'render' work) need, and appends one am_change_t per group
 * touched to `changes`.  `fresh`: the pages may not match the store's record
 * of them (the first round after a start): every index page, moved page and
 * month of the touched threads is made again.  `per_page` and
 * `feed_entries` are the site's. */
cor_status_t am_round_load(am_model_t *m, cor_store_t *st, GArray *msgs, bool fresh,
                           int per_page, int feed_entries, GPtrArray *changes);
void am_change_free(am_change_t *c);

#endif
