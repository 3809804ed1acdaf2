/* archive-web/archive.h — the static archive: pages, feeds, incremental updates.
 *
 * Design notes
 * ------------
 * The archive is derived data (DESIGN.md invariant 1): every page is a
 * function of the store, nothing else — no clock, no hash-table order, no
 * locale — so the same store gives the same bytes, and an incremental update
 * gives exactly what a full build would.
 *
 * Two trees, so that a web server pointed at the public one can never leak:
 *   public_dir       (default STATE/archive)        public groups, site index,
 *                                                    author pages, static files
 *   restricted_dir   (default STATE/archive-restricted)  staff and private
 *                                                    groups, same layout; served
 *                                                    only by `corridor serve
 *                                                    --http` to viewers allowed
 *                                                    (core/visibility.h decides)
 * URL layout (relative links everywhere, so the tree works under any prefix):
 *   index.html                    site index (the groups a viewer may see)
 *   static/corridor.css           GOV.UK Frontend with Arial + corridor's classes
 *   g/G/index.html                threads by last activity, newest first
 *   g/G/page-N.html               older threads; N counts from the oldest page,
 *                                 so a page's content stays put as the group grows
 *   g/G/YYYY-MM.html              the month's messages, by conversation
 *   g/G/about.html                address, how to join and leave, delivery modes
 *   g/G/atom.xml                  the group's newest messages (RFC 4287)
 *   g/G/t/XX/T.html, .../T.atom   a conversation (T: thread id, XX its low byte in
 *                                 hex; a merged thread's old id becomes a page
 *                                 pointing to the new one)
 *   g/G/m/KE/K.html               a message (K: the first 16 hex digits of SHA-256
 *                                 of the Message-ID, so stable; KE: its first two)
 *   g/G/m/KE/K.eml                its original, and
 *   g/G/m/KE/K/N.EXT              attachment N under a generated name (EXT only
 *                                 from a list of harmless types, else "bin"):
 *                                 both served by the HTTP listener from the store
 *                                 (every original is kept once, there), never files
 *   author/A.html                 a person's public posts (A: from the address)
 *
 * Work queue: intake queues a 'render' item with each message (and with each
 * message whose thread moved in a merge) in the same transaction as the
 * message.  cor_archive_update() consumes them: it reads from the store what
 * the pages they change need (a partial model, archive-web/model.h: nothing
 * of it is kept between rounds, so the daemon's memory does not grow with the
 * archive), writes those pages, makes them durable (syncfs) and only then
 * deletes the items, recording in the same transaction what the pages now
 * show (threads.shown, shown_into: where the next round starts from).  A first full
 * build (cor_archive_build) writes new trees next to where they go and
 * renames them into place; a build over live trees replaces only the files
 * whose bytes changed and then deletes the files it did not make.  Every
 * single page is written to a temporary file and renamed over the old one,
 * so no reader ever sees half a page.
 * A lock file (STATE/archive.lock) keeps a build and the daemon's updates
 * apart; a build bumps meta 'archive_generation' and records what its pages
 * show for the daemon's next update.
 *
 * Thread safety: one cor_archive_t per thread, except the read-only page
 * functions used by the HTTP server (cor_archive_page_*), which may be called
 * from several threads with their own store handles.
 */
#ifndef COR_ARCHIVE_H
#define COR_ARCHIVE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/status.h"
#include "core/store.h"
#include "core/visibility.h"

typedef struct cor_archive cor_archive_t;

typedef struct cor_archive_options {
    const char *state_dir;        /* required */
    const cor_config_t *config;   /* [archive] settings; NULL: defaults */
    int workers;                  /* full-build threads; 0: one per CPU */
    /* progress of a full build (may be NULL): pages written so far */
    void (*progress)(uint64_t done, uint64_t total, void *data);
    void *progress_data;
} cor_archive_options_t;

typedef struct cor_archive_stats {
    uint64_t messages;            /* messages rendered */
    uint64_t pages;               /* files written (pages, feeds) */
    uint64_t unchanged;           /* files made again and found the same (not written) */
    uint64_t bytes;               /* bytes written */
    double seconds;
} cor_archive_stats_t;

/* Loads the templates (built-in, then [archive] templates overriding them).
 * COR_ERR_FORMAT with "FILE:LINE: ..." for a template syntax error.
 * *err transfer full. */
cor_status_t cor_archive_open(const cor_archive_options_t *opts, cor_archive_t **out, char **err);
void cor_archive_free(cor_archive_t *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_archive_t, cor_archive_free)

const char *cor_archive_public_dir(const cor_archive_t *a);      /* transfer none */
const char *cor_archive_restricted_dir(const cor_archive_t *a);  /* transfer none */

/* Renders everything (group NULL), or one group and the site-wide pages that
 * list it, from `st`.  Consumes the pending 'render' work it covers. */
cor_status_t cor_archive_build(cor_archive_t *a, cor_store_t *st, const char *group,
                               cor_archive_stats_t *stats, char **err);

/* Renders what every 'render' work item pending in one snapshot of the store
 * changes, then deletes them.  *pending (may be NULL) is set to the items
 * queued since.  Reads what it needs from that snapshot (model.h); with the
 * environment variable CORRIDOR_ARCHIVE_DEBUG_MODEL set it logs how many
 * posts the round's model held (a test hook: tests/T330).
 *
 * All of them, never "the first N": the listing pages are read from the
 * snapshot, which holds every post queued in it, so a round that left some
 * of their work for later would write an index page listing a conversation
 * whose page does not exist yet (the soak's readers met 2,221 such 404s
 * when the renderer fell behind).  A backlog is bounded by [archive]
 * full_build_at: past it the daemon makes a full build instead. */
cor_status_t cor_archive_update(cor_archive_t *a, cor_store_t *st, cor_archive_stats_t *stats,
                                int64_t *pending, char **err);

/* Called by the daemon at start, after catching up: decides whether the
 * next update makes every index page of the groups it touches (only when
 * work is still queued from before the start).  Loads nothing. */
cor_status_t cor_archive_preload(cor_archive_t *a, cor_store_t *st, char **err);

/* Removes what a process killed while writing the archive left behind:
 * "NAME.tmp~" files in the trees (an update, or a build over live trees)
 * and the DIR.new trees of a first build (docs/faults.md).  Takes the
 * archive lock, so never anything a running build still writes.  Walks
 * both trees: the daemon's renderer calls it once, at start. */
cor_status_t cor_archive_clean(cor_archive_t *a, char **err);

/* ---- the daemon's renderer ---- */

/* A thread that keeps the archive current (runner.c): it renders after a
 * kick (debounced by `debounce_ms`), looks at the queue every few seconds
 * for work other processes queued, and catches up at start: with a full
 * build when `full_build_at` or more messages wait.  Its own store
 * handle on `store_path`.  `a` must outlive it. */
typedef struct cor_archive_runner cor_archive_runner_t;
cor_status_t cor_archive_runner_start(cor_archive_t *a, const char *store_path, int debounce_ms,
                                      int64_t full_build_at, cor_archive_runner_t **out,
                                      char **err);
/* Something was committed (thread-safe; NULL is fine). */
void cor_archive_runner_kick(cor_archive_runner_t *r);
/* Finishes the round in hand and stops (what is left stays queued). */
void cor_archive_runner_stop(cor_archive_runner_t *r);

/* ---- pages made on request (the HTTP server) ---- */

/* The relative URL of a message page from the archive root
 * ("g/GROUP/m/KEY.html"; transfer full). */
char *cor_archive_message_url(const char *group, const char *message_id);
/* The key of a Message-ID or an address (16 hex digits) into out[17]. */
void cor_archive_key(const char *s, char out[17]);

/* The site index or an author page as `viewer` may see them (the static
 * ones are what an anonymous viewer sees).  COR_ERR_NOT_FOUND for an author
 * key with no post the viewer may see. */
cor_status_t cor_archive_page_site(cor_archive_t *a, cor_store_t *st, const cor_viewer_t *viewer,
                                   GString *out, char **err);
cor_status_t cor_archive_page_author(cor_archive_t *a, cor_store_t *st, const cor_viewer_t *viewer,
                                     const char *key, GString *out, char **err);

/* A download: the original of a message (part 0, "KEY.eml") or its
 * attachment N (1-based, "KEY/N.EXT"), read from the store — the tree holds
 * pages only, the store holds every original once.  The caller decides
 * visibility of the group first. */
typedef struct cor_archive_download {
    GBytes *data;                 /* transfer full */
    char *content_type;           /* what to send: "message/rfc822" or a safe type */
    char *filename;               /* the name to offer (Content-Disposition) */
} cor_archive_download_t;
void cor_archive_download_clear(cor_archive_download_t *d);
/* COR_ERR_NOT_FOUND when the group has no such message or part, or `ext`
 * (for a part: the extension in the URL) is not the one the page links.
 * A post the renderer has not reached yet is found too (its 'render' work
 * still queued, as for cor_archive_page_pending): a link in a member's
 * copy works from the moment the post is committed. */
cor_status_t cor_archive_download(cor_archive_t *a, cor_store_t *st, const char *group,
                                  const char *key, int part, const char *ext,
                                  cor_archive_download_t *out, char **err);

/* One search hit as the results page shows it.  Strings borrowed. */
typedef struct cor_archive_hit {
    const char *group;
    const char *message_id;
    const char *subject;
    const char *from;             /* display name, or address */
    int64_t date;
    const char *url;              /* relative to the archive root */
    const char *snippet_html;     /* escaped text with <mark> around matches; may be NULL */
} cor_archive_hit_t;

typedef struct cor_archive_search_page {
    const char *query;            /* as typed ("" for an empty form) */
    const char *group;            /* "" or NULL: all the viewer may see */
    const char *const *groups;    /* the groups the viewer may see, for the filter */
    size_t n_groups;
    const char *error;            /* a query error to show (NULL when none) */
    uint64_t total;               /* the results, as the page says */
    uint64_t ranked;              /* the index's count the pages are cut from:
                                     more than `total` when hits were left out
                                     (pages not written yet); 0: `total` */
    int page;                     /* 1-based */
    int per_page;
    const cor_archive_hit_t *hits;
    size_t n_hits;
} cor_archive_search_page_t;

/* The search form and results, in the archive's templates; the page lives
 * at the root ("/search"). */
cor_status_t cor_archive_page_search(cor_archive_t *a, const cor_archive_search_page_t *p,
                                     GString *out, char **err);

/* The answer at the address of group g's message page `key` (16 hex
 * digits) that is not written yet: the page of pending.html ("this message
 * is being added to the archive", links to the group and to the original)
 * when g has an accepted post with that key whose 'render' work is still
 * queued (among the newest 10,000 items); COR_ERR_NOT_FOUND when it has
 * none — a page that never existed, or a post the archive does not show.
 * The caller decides visibility of the group first, and that the page is
 * missing. */
cor_status_t cor_archive_page_pending(cor_archive_t *a, cor_store_t *st, const cor_group_t *g,
                                      const char *key, GString *out, char **err);

/* An error page (404, 400, 500) in the archive's templates. */
cor_status_t cor_archive_page_error(cor_archive_t *a, int code, const char *title,
                                    const char *text, GString *out, char **err);

#endif
