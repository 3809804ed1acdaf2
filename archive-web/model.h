/* archive-web/model.h — what the archive's listing pages are made of, in memory.
 *
 * The model is a function of the store: every accepted post (group, live
 * thread, message row, Message-ID, date, subject, author) and every merged
 * thread id.  Listing pages (group index pages, month pages, author pages,
 * the site index, feeds) are rendered from it without asking the store;
 * message and thread pages also read the originals.
 *
 * A full build loads it once.  The daemon keeps it between updates and
 * applies each 'render' work item with am_model_apply(), which reloads that
 * message's posts and their threads from the store and reports what moved,
 * so that render.c can work out the pages to write.
 *
 * Orders (all total, so output is deterministic):
 *   threads of a group by activity: (last_date, thread id) ascending — rank 0
 *   is the least recently active; index pages count from there.
 *   posts of a thread, of a month, of an author: (date, message row).
 *
 * Not thread-safe: one owner.  Build workers read it without changing it.
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
    GPtrArray *posts;          /* am_post_t* by (date, msg) */
    int64_t last_date;
    int64_t rank;              /* place in group->order */
};

struct am_group {
    cor_group_t *info;         /* owned */
    GPtrArray *posts;          /* am_post_t* (owned), by msg */
    GHashTable *by_msg;        /* msg (int64_t*) -> am_post_t* */
    GHashTable *by_key;        /* key (char*) -> am_post_t* */
    GHashTable *threads;       /* id (int64_t*) -> am_thread_t* (owned) */
    GPtrArray *order;          /* am_thread_t* by activity, least recent first */
    GHashTable *months;        /* month (int) -> GPtrArray of am_post_t* by (date, msg) */
    GHashTable *aliases;       /* merged id (int64_t*) -> live id (int64_t*) */
    int64_t last_date;
};

struct am_author {
    char key[17];
    char *addr;
    GPtrArray *posts;          /* am_post_t* by (date, msg, group name) */
};

typedef struct am_model {
    GPtrArray *groups;         /* am_group_t* (owned) by name */
    GHashTable *authors;       /* key -> am_author_t* (owned) */
    char *generation;          /* meta 'archive_generation' when loaded */
} am_model_t;

cor_status_t am_model_load(cor_store_t *st, am_model_t **out);
void am_model_free(am_model_t *m);

am_group_t *am_model_group(am_model_t *m, const char *name);
am_group_t *am_model_group_by_id(am_model_t *m, int64_t id);

/* Sorted list of the group's months (ints), newest first (transfer full). */
GArray *am_group_months(am_group_t *g);

/* What applying one message changed in one group. */
typedef struct am_change {
    am_group_t *group;
    int64_t old_threads;       /* the group's thread count before the change */
    int64_t min_rank;          /* lowest activity rank whose thread changed, before or
                                  after (index pages from there on change) */
    GArray *threads;           /* int64_t ids of threads whose pages change (live) */
    GArray *gone;              /* int64_t ids of threads merged away (alias pages) */
    GArray *months;            /* int months whose pages change */
    GPtrArray *posts;          /* am_post_t* whose message page changes */
    GPtrArray *authors;        /* am_author_t* whose page changes */
} am_change_t;

/* Reloads message `msg` (and every post of the threads it is in now and
 * was in before) from the store, which must be in a read transaction
 * (cor_store_begin_read): the message's rows and its thread's rows are then
 * one picture, so the thread always holds the message.  Appends to `changes` (am_change_t*, one
 * per group touched; merged with an existing entry for the same group).
 * A group unknown to the model (created since the load) is added. */
cor_status_t am_model_apply(am_model_t *m, cor_store_t *st, int64_t msg, GPtrArray *changes);
void am_change_free(am_change_t *c);

#endif
