/* archive-web/render.h — one function per page kind (inside archive-web only).
 *
 * Each function renders one page into a GString from the model, whole or
 * partial (model.h: each says what it needs loaded), and, for message and
 * thread pages, the originals in the store.  They decide the
 * page's content and nothing else: where it is written is archive.c's
 * business.  Same model + same store = same bytes.
 */
#ifndef COR_ARCHIVE_RENDER_H
#define COR_ARCHIVE_RENDER_H

#include <glib.h>

#include "archive-web/model.h"
#include "core/template.h"
#include "core/visibility.h"

typedef struct rnd_site {
    cor_tmpl_set_t *tmpl;      /* borrowed */
    const char *title;         /* [archive] site_title */
    const char *organisation;
    const char *url;           /* [archive] url, ends with '/' */
    int per_page;              /* threads per index page */
    int feed_entries;
} rnd_site_t;

/* A parsed message ready to show (what a message and its thread page need). */
typedef struct rnd_message rnd_message_t;

/* Parses post p's original.  *out transfer full (rnd_message_free). */
cor_status_t rnd_message_load(cor_store_t *st, const am_post_t *p, rnd_message_t **out);
/* rnd_message_load through `cache` (msg id -> rnd_message_t*, owning; NULL
 * for none): a message is parsed once, whatever page or group needs it.
 * *out is borrowed from the cache (or, without one, must be freed: use
 * rnd_message_load then). */
cor_status_t rnd_message_cached(GHashTable *cache, cor_store_t *st, const am_post_t *p,
                                rnd_message_t **out);
/* The same with every attachment's bytes (for rnd_attachment: downloads). */
cor_status_t rnd_message_load_parts(cor_store_t *st, const am_post_t *p, rnd_message_t **out);
void rnd_message_free(rnd_message_t *m);

/* A file to write: its path relative to the tree root and its bytes. */
typedef struct rnd_file {
    char *path;
    GBytes *data;
} rnd_file_t;
void rnd_file_free(rnd_file_t *f);

/* The message page of p: appends an rnd_file_t* to files.  (The .eml and
 * the attachments are served from the store by the HTTP listener.) */
cor_status_t rnd_message_files(const rnd_site_t *s, const am_post_t *p, const rnd_message_t *m,
                               GPtrArray *files, char **err);
/* Gives the parsed message of post p: *out is borrowed until the next call
 * (the renderer keeps nothing of it; every value it needs is copied).  On
 * failure, *err says why (transfer full). */
typedef cor_status_t (*rnd_message_get_fn)(void *data, const am_post_t *p,
                                           const rnd_message_t **out, char **err);
/* Thread page and thread feed.  Asks `get` once for each post of t (in tree
 * order), so a caller can hold one parsed message at a time however long
 * the thread is. */
cor_status_t rnd_thread_files(const rnd_site_t *s, cor_store_t *st, const am_thread_t *t,
                              rnd_message_get_fn get, void *data, GPtrArray *files,
                              char **err);
/* The page a merged thread id leaves behind, pointing to `live`. */
cor_status_t rnd_alias_file(const rnd_site_t *s, am_group_t *g, int64_t old, int64_t live,
                            GPtrArray *files, char **err);

/* Group index pages.  Index page numbering (see archive.h): with N threads
 * and P per page, nfull = N / P; page k (1 <= k < nfull) holds ranks
 * [(k-1)P, kP); the front page (index.html) holds the rest. */
int rnd_index_numbered(const rnd_site_t *s, const am_group_t *g);   /* nfull - 1, or 0 */
int rnd_index_page_of(const rnd_site_t *s, const am_group_t *g, int64_t rank); /* 0: front */
cor_status_t rnd_index_file(const rnd_site_t *s, const am_group_t *g, int k, GPtrArray *files,
                            char **err);
cor_status_t rnd_month_file(const rnd_site_t *s, am_group_t *g, int month, GPtrArray *files,
                            char **err);
cor_status_t rnd_about_file(const rnd_site_t *s, const am_group_t *g, GPtrArray *files, char **err);
/* The group feed needs the newest posts' text: reads them from the store
 * (through `cache` when not NULL, see rnd_message_cached). */
cor_status_t rnd_group_feed_file(const rnd_site_t *s, cor_store_t *st, am_group_t *g,
                                 GHashTable *cache, GPtrArray *files, char **err);

/* Attachment N (1-based) of a loaded message: its bytes, the extension
 * the page links (safe list, else "bin"), the download name and a content
 * type safe to send (never HTML/SVG/XML; "application/octet-stream" for
 * what is not on the list).  COR_ERR_NOT_FOUND when there is no such part. */
cor_status_t rnd_attachment(const rnd_message_t *m, int n, GBytes **data, const char **ext,
                            char **name, const char **type);
/* The original bytes of a loaded message (transfer none). */
GBytes *rnd_message_raw(const rnd_message_t *m);

/* Site index and author page as `viewer` sees them (into out). */
cor_status_t rnd_site_page(const rnd_site_t *s, cor_store_t *st, am_model_t *m,
                           const cor_viewer_t *viewer, GString *out, char **err);
/* COR_ERR_NOT_FOUND when the author has no post the viewer may see.  From
 * a whole model's authors (a full build). */
cor_status_t rnd_author_page(const rnd_site_t *s, cor_store_t *st, am_model_t *m,
                             const cor_viewer_t *viewer, const char *key, GString *out,
                             char **err);
/* The same page read from the store (messages.from_key): `m` needs only
 * the groups (am_model_summary).  The same bytes as rnd_author_page. */
cor_status_t rnd_author_page_store(const rnd_site_t *s, cor_store_t *st, am_model_t *m,
                                   const cor_viewer_t *viewer, const char *key, GString *out,
                                   char **err);

/* The page answered at the address of group g's message `key` while the
 * renderer has not written it yet (pending.html: posted moments ago, being
 * added; links to the group and to the original).  Into out. */
cor_status_t rnd_pending_page(const rnd_site_t *s, const cor_group_t *g, const char *key,
                              GString *out, char **err);

/* Paths of a message's and a thread's files from the tree root, with `ext`
 * appended (".html", ".eml", ".atom"): "g/G/m/KE/KEY.html",
 * "g/G/t/XX/ID.html" (KE: the key's first two digits; XX: the id's low
 * byte in hex).  The two-level folders keep directories small and let build
 * workers create files side by side (transfer full). */
char *rnd_msg_rel(const char *group, const char *key, const char *ext);
char *rnd_thread_rel(const char *group, int64_t id, const char *ext);

/* The archive root path relative to a file at `path` ("g/x/t/1.html" ->
 * "../../../") (transfer full). */
char *rnd_root_of(const char *path);

/* Common page values: title, breadcrumbs, links; returns the scope. */
cor_tval_t *rnd_page_scope(cor_tctx_t *c, const rnd_site_t *s, const char *path,
                           const char *title);

/* Date and size text (deterministic: UTC, English month names). */
void rnd_date(char *buf, size_t n, int64_t t);         /* "1 March 2005, 14:05 UTC" */
void rnd_date_iso(char *buf, size_t n, int64_t t);     /* "2005-03-01T14:05:00Z" */
void rnd_month_name(char *buf, size_t n, int month);   /* "March 2005" */
void rnd_month_slug(char *buf, size_t n, int month);   /* "2005-03" */

#endif
