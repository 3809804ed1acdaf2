/* core/thread.h — conversation threading (JWZ style), kept in the store.
 *
 * Design notes
 * ------------
 * Threads are per group (a group is its own space; the same post in two
 * groups is in a thread of each).  The store keeps one node per Message-ID a
 * group's threads know (thread_nodes): real posts and ghosts — Message-IDs
 * that were referenced but not (yet) seen.  Placing a message M:
 *
 *   1. its references are References (oldest first) then In-Reply-To when it
 *      is not already the last of them; self-references are dropped;
 *   2. the threads to join are those of M's own node (when M was a ghost) and
 *      of every referenced Message-ID the group knows;
 *   3. only when M has neither References nor In-Reply-To: the Microsoft
 *      Thread-Index rule — an earlier message with the same Thread-Index
 *      conversation id *and* the same Thread-Topic (or, without one, the
 *      same normalised subject) — joins M to that thread.  Never the id alone:
 *      real Outlook mail has colliding Thread-Index roots;
 *   4. none: M starts a new thread.  One: M joins it.  Several: they merge
 *      into the oldest (smallest id); the others become aliases
 *      (threads.merged_into) so that a published thread id still resolves;
 *      the messages that moved are reported for re-indexing;
 *   5. M's parent is its In-Reply-To, else its last reference; a parent that
 *      would make a loop (M is an ancestor of it) is dropped, so M becomes a
 *      root: loops and self-references are broken safely and the tree always
 *      terminates;
 *   6. referenced Message-IDs not yet known become ghosts, chained in
 *      References order (each ghost's parent is the reference before it),
 *      and an existing ghost without a parent gets one the same way.
 *
 * Subjects alone never join threads (no subject merging by default).
 * Arrival order does not change thread membership: whichever order the
 * messages of a conversation arrive in, they end in one thread, whose id is
 * the first one created for any of them.
 *
 * Invariants:
 *   1. Every node of a group is in exactly one live thread (merged_into NULL).
 *   2. Following parent links from any node ends at a root within the group
 *      and the same thread.
 */
#ifndef COR_THREAD_H
#define COR_THREAD_H

#include <glib.h>
#include <stdint.h>

#include "core/status.h"
#include "core/store.h"

/* Resolves a thread id through merges to the live thread (or itself). */
cor_status_t cor_thread_resolve(cor_store_t *st, int64_t thread, int64_t *live);

/* The group's threads, oldest first: calls fn with the thread id and the
 * Message-IDs of its accepted posts (no ghosts), by date.  Borrowed args. */
cor_status_t cor_thread_foreach(cor_store_t *st, int64_t group_id,
                                cor_status_t (*fn)(int64_t thread, GPtrArray *message_ids,
                                                   void *data),
                                void *data);

/* A node of a thread tree for display. */
typedef struct cor_thread_node {
    char *message_id;
    int64_t msg;                 /* messages.id, 0 for a ghost */
    GPtrArray *children;         /* cor_thread_node_t*, by date */
    int64_t date;                /* the message's date (ghost: earliest child's) */
} cor_thread_node_t;

void cor_thread_node_free(cor_thread_node_t *n);

/* The tree of the thread in `group_id` containing `message_id`: roots by
 * date.  Ghosts with no children are left out; a ghost with one child is
 * replaced by that child; ghosts with several children stay (msg == 0).
 * *roots transfer full (GPtrArray frees the nodes).  COR_ERR_NOT_FOUND when
 * the group has no post with that Message-ID.  *thread is the live id. */
cor_status_t cor_thread_tree(cor_store_t *st, int64_t group_id, const char *message_id,
                             int64_t *thread, GPtrArray **roots);

#endif
