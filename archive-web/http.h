/* archive-web/http.h — the archive's HTTP listener (`corridor serve --http`).
 *
 * Serves the two archive trees (archive.h) and the search page to whoever
 * reaches it, and takes members' one-click unsubscribe requests (RFC 8058),
 * through libmicrohttpd.  Meant to sit behind a front web server
 * (nginx, Apache) that does TLS and single sign-on and names the signed-in
 * user in a request header ([http] trusted_header); it also works alone on
 * an intranet, where every viewer is anonymous.
 *
 * Design notes
 * ------------
 * Routes (one decoding of the path, then these, in this order):
 *
 *   GET/HEAD /search      the search form and results (?q=&group=&page=),
 *                         HTML, or JSON with &format=json
 *   GET/HEAD /g/G[/...]   group G's pages: from the public tree for a public
 *                         group; from the restricted tree for a staff or
 *                         private group when core/visibility says the viewer
 *                         may see it; else 404, the same 404 as for a group
 *                         that does not exist.  Its downloads, m/KE/KEY.eml
 *                         (the original) and m/KE/KEY/N.EXT (attachment N),
 *                         come from the store (cor_archive_download) under
 *                         the same check, also before the message's page
 *                         is written.  A message page not written yet:
 *                         invariant 7
 *   GET/HEAD / , /index.html, /author/KEY.html
 *                         for a signed-in viewer, made on request with
 *                         cor_archive_page_site/_author (they list the staff
 *                         and private groups that viewer may see); for an
 *                         anonymous one, the static files
 *   GET/HEAD/POST /u/TOKEN  one-click unsubscribe (TOKEN: members.token,
 *                         32 hex digits; generated mail links to
 *                         cor_config_base_url() + "u/" + TOKEN).  GET and
 *                         HEAD show a confirmation page (the group, the
 *                         address partly hidden, a form posting
 *                         List-Unsubscribe=One-Click to the same URL) and
 *                         change nothing.  POST with that pair in an
 *                         application/x-www-form-urlencoded body (or one
 *                         with no Content-Type) or a multipart/form-data
 *                         one removes the member and records the opt-out
 *                         (cor_store_member_leave, how 'one-click') in one
 *                         short write transaction, and answers 200 "You
 *                         have left GROUP": no sign-in, no cookie, no
 *                         redirect.  An unknown or malformed token: 404; a
 *                         POST without the pair: 400; a body over 8 KiB:
 *                         413; other methods 405 with Allow: GET, HEAD,
 *                         POST.  Never the viewer's business: the token is
 *                         the authority.  Each leave is logged at info
 *                         ("http PEER: group G: ADDRESS left by one-click")
 *   GET/HEAD anything else  the public tree
 *   other methods         405 with Allow: GET, HEAD
 *
 * A path ending in "/" means its index.html; a folder asked for without the
 * "/" is redirected (301) to it.  Files go out with zero copy
 * (MHD_create_response_from_fd), with Last-Modified and ETag ("size-mtime")
 * from fstat, and 304 for a matching If-None-Match or If-Modified-Since.
 * Downloads carry Content-Disposition: attachment and the type the archive
 * gives them (message/rfc822, or one of its harmless types).
 *
 * The viewer is decided once per request, in one function (viewer_of in
 * http.c): a peer listed in [http] trusted_proxies (addresses compared
 * parsed) that sends exactly one non-empty [http] trusted_header is the
 * signed-in user it names, with "@"[http] user_domain added when it has no
 * "@", lowercased (cor_config_user_address); a user in
 * cor_config_officers() ([records] officers and its deprecated older name
 * [http] officers, normalised by the same rule) is an officer, whose search
 * covers every group, restricted posts included, and is audited (invariant
 * 6); anyone else is staff with that address.  Every other request is
 * anonymous, whatever headers it carries.  What a viewer may see is decided
 * by core/visibility.h only.
 *
 * Invariants:
 *  1. A group the viewer may not see answers exactly as a group that does
 *     not exist: 404, a body that names no group, the same headers; search
 *     in it finds nothing.
 *  2. No file outside the two trees is opened: the path is decoded once and
 *     refused (400) when it then holds "..", "//", a backslash, a NUL or an
 *     encoded "/", and files are opened beneath the tree's root
 *     (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where the kernel has
 *     it); names starting with "." and names ending in "~" (pages being
 *     written, "NAME.tmp~") are 404.
 *  3. Every response carries the security headers (a Content-Security-Policy
 *     that allows no script, nosniff, DENY framing, same-origin referrers)
 *     and Vary: the trusted header.  Restricted pages and pages made for a
 *     signed-in viewer are "Cache-Control: private, no-store"; public files
 *     "public, max-age=60".
 *  4. A request never stops the listener: a bad one gets 400/404/405, a
 *     store that is busy or failing 503 ("the archive is busy, try again"),
 *     anything else 500, each logged.
 *  5. GET and HEAD never change anything (mail scanners and link previews
 *     follow links).  The only write is a one-click POST under /u/: one
 *     transaction that either removes the member and records the opt-out,
 *     or changes nothing (404, 400, 413, 503).  (An officer's search appends
 *     to the audit trail, invariant 6: a record of the request, not a
 *     change of anything it shows.)
 *  6. An officer's search (a non-empty query that ran, any group, HTML or
 *     JSON, each page) is a records search: its results are shown only
 *     after its audit entry is committed (core/audit.h; action
 *     "web.search", the officer's address as operator, detail {"query",
 *     "group" ("" for every group), "page", "count", "peer"}).  When the
 *     entry cannot be written (the store busy beyond 5 s, the anchor file
 *     not writable, ...) the error is logged and the answer is 503 with
 *     nothing found: never an unaudited officer's search.  Other viewers'
 *     searches are not audited.
 *  7. Nothing links to a page the archive does not have yet, and a page
 *     asked for before it is written says so.  The renderer writes a post's
 *     pages after the indexer has made it searchable, and members' copies,
 *     digests and feeds carry its address from the moment it is committed.
 *     So: a search hit whose message page is not in its tree (one fstatat
 *     per hit on the page) is left out of the results, HTML and JSON, and
 *     the total shown is lowered by the hits left out on that page (the
 *     pager still follows the index's count, so no later hit is lost);
 *     an officer's restricted hit, which has no page, is shown as before.
 *     A GET or HEAD of a missing message page (g/G/m/KE/KEY.html) of a
 *     group the viewer may see answers 503 with Retry-After: 5,
 *     Cache-Control: no-store and the archive's "being added to the
 *     archive" page (pending.html: a link to the group, one to the
 *     original) when the group has an accepted post with that key whose
 *     'render' work is still queued (cor_archive_page_pending); any other
 *     missing page is the 404 of invariant 1, so the 503 tells nothing
 *     about a group or a post the viewer may not see.
 *
 * Threads: libmicrohttpd's own pool of `threads` threads answers requests;
 * the page functions of cor_archive_t are called from them concurrently.
 * Each request borrows a store handle and a read-only index handle from a
 * small pool (mutex-protected; one pair per thread at most) and gives them
 * back at its end.  The store handles are ordinary read-write connections
 * that only read, except for a one-click leave and an officer's search
 * audit entry: BEGIN IMMEDIATE, which waits up to 5 s (busy_timeout) for
 * the daemon's committer or any other writer, then 503.  The index handle is reopened at the revision of
 * each search (a cheap check when nothing changed), so new mail is found
 * without a restart; after an index error it is closed and opened afresh.
 *
 * Settings are read from `config` once, at start; a restart applies changed
 * [http] settings, except the officer list, which cor_http_set_officers
 * replaces (`corridor serve` does on SIGHUP).  The one-click pages are rendered from a template set of
 * the listener's own, loaded at start as cor_archive_open loads the
 * archive's (built-in unsubscribe.html and left.html with the shared
 * head.html/foot.html/crumbs.html, then [archive] templates), with
 * [archive] site_title and organisation, and the join address
 * GROUP-join@ cor_config_list_domain().  One line per request is logged at debug level
 * ("http PEER: GET /path 200 (1.2 ms)"); failures at warning.
 *
 * cor_message_init() must have been called (search parses the originals of
 * the hits for their snippets).
 */
#ifndef COR_HTTP_H
#define COR_HTTP_H

#include <glib.h>

#include "archive-web/archive.h"
#include "core/config.h"
#include "core/status.h"

typedef struct cor_http cor_http_t;

typedef struct cor_http_options {
    const char *listen;          /* "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:80";
                                    IP literals (or "localhost"); exactly this
                                    address is bound; port 0: any free port */
    const char *store_path;      /* STATE/corridor.db: read handles are opened on it */
    const char *index_path;      /* STATE/index, opened read-only */
    const cor_config_t *config;  /* [http], [daemon] shutdown_timeout; NULL: defaults.
                                    Read during cor_http_start only */
    cor_archive_t *archive;      /* page functions and the two trees (borrowed:
                                    must outlive the listener) */
    int threads;                 /* request threads; 0: 2 */
    int listen_fd;               /* > 0: the socket cor_http_bind returned for
                                    `listen` (taken over, also on failure), for
                                    a daemon that binds as root and serves after
                                    dropping it; 0: cor_http_start binds */
} cor_http_options_t;

/* Checks the settings, binds the address and starts answering.  Fails with
 * COR_ERR_CONFIG for a bad listen address or [http] trusted_proxies entry,
 * or an address that is not loopback (127.0.0.0/8, ::1) while [http]
 * allow_remote is false,
 * COR_ERR_IO naming the address when it cannot be bound (port taken),
 * COR_ERR_INVALID for missing options.  *out transfer full (cor_http_stop);
 * *err transfer full. */
cor_status_t cor_http_start(const cor_http_options_t *o, cor_http_t **out, char **err);

/* Binds and listens on `listen` as cor_http_start would, with the same
 * checks ([http] allow_remote from `cfg`; NULL: defaults), and returns the
 * socket in *fd (transfer full: close it, or pass it as listen_fd).
 * COR_ERR_CONFIG or COR_ERR_IO as cor_http_start; *err transfer full. */
cor_status_t cor_http_bind(const char *listen, const cor_config_t *cfg, int *fd, char **err);

/* Replaces the officer list with cor_config_officers(cfg) (`cfg` read
 * during the call only); requests that start afterwards use the new one.
 * Any thread.  NULL `h` or `cfg`: nothing. */
void cor_http_set_officers(cor_http_t *h, const cor_config_t *cfg);

/* The bound port (the one chosen, for port 0). */
int cor_http_port(const cor_http_t *h);

/* Stops accepting at once, waits up to [daemon] shutdown_timeout for the
 * requests in flight to be answered, closes every connection and frees `h`.
 * NULL is fine. */
void cor_http_stop(cor_http_t *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_http_t, cor_http_stop)

#endif
