/* archive-web/http.c — the archive's HTTP listener (see http.h for the
 * routes, the viewer rule and the invariants). */
#include "archive-web/http.h"
#include "archive-web/render.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <json-glib/json-glib.h>
#include <microhttpd.h>

#include "core/audit.h"
#include "core/log.h"
#include "core/message.h"
#include "core/search/search.h"
#include "core/template.h"
#include "core/visibility.h"

/* The built-in templates (archive-web/Makefile.local: resources.c). */
GResource *cor_web_get_resource(void);

/* ---- constants ---- */

#define CSP "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " \
            "base-uri 'none'; frame-ancestors 'none'"
#define CACHE_PUBLIC "public, max-age=60"
#define CACHE_PRIVATE "private, no-store"
#define CACHE_NONE "no-store"
#define HTML "text/html; charset=utf-8"

enum {
    CONNECTION_TIMEOUT = 30,       /* seconds */
    CONNECTION_LIMIT = 200,
    STORE_BUSY_MS = 2000,          /* a reader waits this long for a lock, then 503 */
    SNIPPET_SOURCE = 2048,         /* bytes of a hit's text given to the snippet */
    SNIPPET_LENGTH = 240,          /* bytes the snippet aims at */
    SNIPPET_PARSE = 65536,         /* bytes of a hit's original parsed for it */
    MAX_PAGE = 10000,              /* deeper result pages are clamped */
    MAX_PER_PAGE = 200,
    STORE_WRITE_BUSY_MS = 5000,    /* a one-click leave waits this long for the writer */
    MAX_FORM = 8192,               /* bytes of a one-click POST body; more: 413 */
    TOKEN_LEN = 32,                /* members.token: 32 hex digits */
};

/* RFC 8058: the one key/value pair a one-click POST carries. */
#define ONE_CLICK_KEY "List-Unsubscribe"
#define ONE_CLICK_VALUE "One-Click"

static const char BUSY_TEXT[] = "The archive is busy, try again in a moment.";

/* Seconds a 503 asks the client to wait (the archive busy, a message page
 * being written). */
#define RETRY_AFTER "5"

/* ---- types ---- */

/* An IP address as compared for [http] trusted_proxies: IPv4 (also when it
 * arrives IPv4-mapped over IPv6) in the first 4 bytes, or IPv6. */
typedef struct ip {
    int family;                    /* AF_INET or AF_INET6 */
    unsigned char bytes[16];
} ip_t;

/* A store read handle and an index handle, lent to one request at a time. */
typedef struct handles {
    cor_store_t *st;
    cor_search_db_t *index;        /* NULL until a search needs it, or after an error */
} handles_t;

struct cor_http {
    struct MHD_Daemon *daemon;
    int port;
    char *listen;
    char *store_path;
    char *index_path;
    cor_archive_t *archive;        /* borrowed */
    char *public_dir;
    char *restricted_dir;
    bool use_openat2;              /* the kernel lets us open beneath a root */

    /* [http] settings, read once at start */
    char *trusted_header;          /* "" : nobody signs in */
    GArray *trusted_proxies;       /* ip_t */
    char *user_domain;             /* without '@'; "" when none */
    char **officers;               /* cor_config_officers(); guarded by `lock`
                                      (cor_http_set_officers replaces it) */
    int per_page;
    int64_t shutdown_ms;

    /* the one-click pages (/u/TOKEN): their own template set, loaded as
     * the archive loads its (built-in, then [archive] templates) */
    cor_tmpl_set_t *tmpl;
    rnd_site_t site;               /* borrows tmpl and the strings below */
    char *site_title;              /* [archive] site_title */
    char *organisation;            /* [archive] organisation */
    char *list_domain;             /* GROUP-join@list_domain */

    GMutex lock;                   /* guards `idle` and `officers` */
    GPtrArray *idle;               /* handles_t* not lent out */
    gint in_flight;                /* requests begun and not completed */
    gint untrusted_logged;         /* the untrusted-header debug line was written */
};

/* One request, from the URI log callback to the completion callback. */
typedef struct request {
    cor_http_t *http;
    char *uri;                     /* as the client sent it (path and query) */
    const char *method;
    char peer[INET6_ADDRSTRLEN];
    ip_t peer_ip;
    bool peer_known;
    gint64 started;
    unsigned status;
    bool headers_seen;             /* the access handler was called once */
    bool answered;
    bool unsubscribe;              /* the path is under /u/ (GET, HEAD and POST) */
    GString *form;                 /* a one-click POST's body, as it arrives */
    char *user;                    /* the signed-in user (the viewer's address) */
    cor_viewer_t viewer;
    handles_t *hd;                 /* borrowed from the pool while answering */
} request_t;

/* ---- small helpers ---- */

static void
free_handles(handles_t *hd)
{
    if (hd == NULL)
        return;
    cor_search_db_close(hd->index);
    cor_store_close(hd->st);
    g_free(hd);
}

/* Parses an IP literal ("127.0.0.1", "::1", "[::1]"). */
static bool
parse_ip(const char *text, ip_t *out)
{
    char buf[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(text);
    if (n >= sizeof buf)
        return false;
    if (n >= 2 && text[0] == '[' && text[n - 1] == ']') {
        memcpy(buf, text + 1, n - 2);
        buf[n - 2] = '\0';
    } else {
        memcpy(buf, text, n + 1);
    }
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->bytes) == 1) {
        out->family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, buf, out->bytes) == 1) {
        out->family = AF_INET6;
        if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *) out->bytes)) {
            memmove(out->bytes, out->bytes + 12, 4);
            memset(out->bytes + 4, 0, 12);
            out->family = AF_INET;
        }
        return true;
    }
    return false;
}

static bool
ip_from_sockaddr(const struct sockaddr *sa, ip_t *out, char *text, size_t text_len)
{
    memset(out, 0, sizeof *out);
    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
        out->family = AF_INET;
        memcpy(out->bytes, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            out->family = AF_INET;
            memcpy(out->bytes, in6->sin6_addr.s6_addr + 12, 4);
        } else {
            out->family = AF_INET6;
            memcpy(out->bytes, &in6->sin6_addr, 16);
        }
    } else {
        return false;
    }
    inet_ntop(out->family, out->bytes, text, (socklen_t) text_len);
    return true;
}

static bool
ip_equal(const ip_t *a, const ip_t *b)
{
    return a->family == b->family &&
           memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16) == 0;
}

/* A user name as the trusted header gives it, made into the address group
 * members are stored under: trimmed, "@user_domain" added when it has no
 * '@', lowercased; NULL when empty or not UTF-8 (transfer full).  The same
 * rule as the officer list's (cor_config_officers), so the two compare. */
static char *
normalise_user(const char *value, const char *domain)
{
    return cor_config_user_address(value, domain);
}

/* An HTTP date (RFC 9110 IMF-fixdate; no locale involved). */
static const char *const DAYS[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const MONTHS[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static void
http_date(time_t t, char out[40])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", DAYS[tm.tm_wday], tm.tm_mday,
             MONTHS[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Parses an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"); false for
 * anything else (the obsolete forms are not worth a 304). */
static bool
parse_http_date(const char *s, time_t *out)
{
    char wday[4], mon[4];
    int day, year, hh, mm, ss, n = 0;
    if (sscanf(s, "%3[A-Za-z], %d %3[A-Za-z] %d %d:%d:%d GMT%n", wday, &day, mon, &year, &hh, &mm,
               &ss, &n) != 7 || n == 0)
        return false;
    struct tm tm = { 0 };
    tm.tm_mon = -1;
    for (int i = 0; i < 12; i++)
        if (strcmp(mon, MONTHS[i]) == 0)
            tm.tm_mon = i;
    if (tm.tm_mon < 0 || day < 1 || day > 31 || year < 1970 || hh > 23 || mm > 59 || ss > 60)
        return false;
    tm.tm_mday = day;
    tm.tm_year = year - 1900;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    *out = timegm(&tm);
    return *out != (time_t) -1;
}

/* The request target as logged: escaped, at most 300 bytes (transfer
 * full). */
static char *
shown_uri(const request_t *rq)
{
    char *shown = g_strescape(rq->uri, NULL);
    if (strlen(shown) > 300)
        strcpy(shown + 297, "...");
    return shown;
}

/* ---- the handle pool ---- */

/* The request's store handle, borrowed from the pool (opened when the pool
 * is empty).  NULL after logging when the store cannot be opened. */
static cor_store_t *
request_store(request_t *rq)
{
    cor_http_t *h = rq->http;
    if (rq->hd)
        return rq->hd->st;
    g_mutex_lock(&h->lock);
    if (h->idle->len > 0)
        rq->hd = g_ptr_array_steal_index_fast(h->idle, h->idle->len - 1);
    g_mutex_unlock(&h->lock);
    if (rq->hd)
        return rq->hd->st;
    handles_t *hd = g_new0(handles_t, 1);
    g_autofree char *err = NULL;
    if (cor_store_open(h->store_path, false, &hd->st, &err) != COR_OK) {
        cor_log_warning("http: cannot open store '%s': %s", h->store_path, err ? err : "");
        g_free(hd);
        return NULL;
    }
    cor_store_set_busy_timeout(hd->st, STORE_BUSY_MS);
    rq->hd = hd;
    return hd->st;
}

static void
request_release(request_t *rq)
{
    if (rq->hd == NULL)
        return;
    g_mutex_lock(&rq->http->lock);
    g_ptr_array_add(rq->http->idle, rq->hd);
    g_mutex_unlock(&rq->http->lock);
    rq->hd = NULL;
}

/* The request's index handle (its store handle must be borrowed already).
 * NULL after logging when the index cannot be opened. */
static cor_search_db_t *
request_index(request_t *rq)
{
    if (rq->hd == NULL)
        return NULL;
    if (rq->hd->index)
        return rq->hd->index;
    g_autofree char *err = NULL;
    if (cor_search_db_open(rq->http->index_path, &rq->hd->index, &err) != COR_OK) {
        cor_log_warning("http: cannot open index '%s': %s", rq->http->index_path, err ? err : "");
        rq->hd->index = NULL;
    }
    return rq->hd->index;
}

/* ---- the viewer (http.h: decided once, here) ---- */

typedef struct header_count {
    const char *name;
    unsigned n;
    const char *value;
} header_count_t;

static enum MHD_Result
count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    header_count_t *hc = cls;
    if (g_ascii_strcasecmp(key, hc->name) == 0) {
        hc->n++;
        hc->value = value;
    }
    return MHD_YES;
}

static bool
peer_trusted(const cor_http_t *h, const request_t *rq)
{
    if (!rq->peer_known)
        return false;
    for (guint i = 0; i < h->trusted_proxies->len; i++)
        if (ip_equal(&g_array_index(h->trusted_proxies, ip_t, i), &rq->peer_ip))
            return true;
    return false;
}

/* Sets rq->viewer (and rq->user, which its address points into). */
static void
viewer_of(request_t *rq, struct MHD_Connection *c)
{
    cor_http_t *h = rq->http;
    rq->viewer = (cor_viewer_t){ COR_VIEWER_ANONYMOUS, NULL };
    if (*h->trusted_header == '\0')
        return;
    header_count_t hc = { h->trusted_header, 0, NULL };
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &hc);
    if (hc.n == 0)
        return;
    if (!peer_trusted(h, rq)) {
        if (g_atomic_int_compare_and_exchange(&h->untrusted_logged, 0, 1))
            cor_log_debug("http %s: ignoring %s from a peer not in [http] trusted_proxies "
                          "(logged once)", rq->peer, h->trusted_header);
        return;
    }
    if (hc.n > 1) {
        cor_log_warning("http %s: %u %s headers in one request: treated as anonymous", rq->peer,
                        hc.n, h->trusted_header);
        return;
    }
    rq->user = normalise_user(hc.value ? hc.value : "", h->user_domain);
    if (rq->user == NULL)
        return;
    g_mutex_lock(&h->lock);
    bool officer = g_strv_contains((const char *const *) h->officers, rq->user);
    g_mutex_unlock(&h->lock);
    rq->viewer.kind = officer ? COR_VIEWER_OFFICER : COR_VIEWER_STAFF;
    rq->viewer.address = rq->user;
}

/* ---- responses ---- */

static void
add_common_headers(const cor_http_t *h, struct MHD_Response *r, const char *cache)
{
    MHD_add_response_header(r, "Content-Security-Policy", CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "same-origin");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Cache-Control", cache);
    if (*h->trusted_header)
        MHD_add_response_header(r, "Vary", h->trusted_header);
}

/* Queues `r` (consumed) with the common headers. */
static enum MHD_Result
queue(request_t *rq, struct MHD_Connection *c, unsigned code, struct MHD_Response *r,
      const char *cache)
{
    if (r == NULL) {
        cor_log_warning("http %s: out of memory for a response", rq->peer);
        return MHD_NO;
    }
    add_common_headers(rq->http, r, cache);
    rq->status = code;
    rq->answered = true;
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* A buffer response that takes `body` (g_free'd by MHD). */
static struct MHD_Response *
buffer_response(GString *body, const char *type)
{
    size_t len = body->len;
    char *data = g_string_free(body, FALSE);
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, data, g_free);
    if (r == NULL) {
        g_free(data);
        return NULL;
    }
    MHD_add_response_header(r, "Content-Type", type);
    return r;
}

static enum MHD_Result
send_page(request_t *rq, struct MHD_Connection *c, unsigned code, GString *body,
          const char *type, const char *cache)
{
    return queue(rq, c, code, buffer_response(body, type), cache);
}

/* An error page in the archive's templates (plain text when even that
 * fails).  Names nothing the viewer did not type (invariant 1). */
static enum MHD_Result
send_error(request_t *rq, struct MHD_Connection *c, unsigned code, const char *title,
           const char *text)
{
    GString *body = g_string_new(NULL);
    g_autofree char *err = NULL;
    const char *type = HTML;
    if (cor_archive_page_error(rq->http->archive, (int) code, title, text, body, &err) != COR_OK) {
        cor_log_warning("http: cannot render the %u page: %s", code, err ? err : "");
        g_string_assign(body, title);
        g_string_append_printf(body, "\n\n%s\n", text);
        type = "text/plain; charset=utf-8";
    }
    struct MHD_Response *r = buffer_response(body, type);
    if (r && code == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, "Allow", rq->unsubscribe ? "GET, HEAD, POST" : "GET, HEAD");
    if (r && code == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(r, "Retry-After", RETRY_AFTER);
    return queue(rq, c, code, r, CACHE_NONE);
}

static enum MHD_Result
not_found(request_t *rq, struct MHD_Connection *c)
{
    return send_error(rq, c, MHD_HTTP_NOT_FOUND, "Page not found",
                      "There is no page at this address, or you may not see it.");
}

static enum MHD_Result
bad_request(request_t *rq, struct MHD_Connection *c, const char *text)
{
    return send_error(rq, c, MHD_HTTP_BAD_REQUEST, "Bad request", text);
}

static enum MHD_Result
busy(request_t *rq, struct MHD_Connection *c)
{
    return send_error(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, "The archive is busy", BUSY_TEXT);
}

/* The answer to a failed cor_archive_page_* or store call. */
static enum MHD_Result
failed(request_t *rq, struct MHD_Connection *c, cor_status_t s, const char *what)
{
    if (s == COR_ERR_NOT_FOUND || s == COR_ERR_NO_GROUP)
        return not_found(rq, c);
    g_autofree char *uri = shown_uri(rq);
    cor_log_warning("http %s: %s %s: %s", rq->peer, rq->method, uri,
                    what ? what : cor_status_to_string(s));
    if (s == COR_ERR_STORE || s == COR_ERR_BUSY || s == COR_ERR_INDEX || s == COR_ERR_IO ||
        s == COR_ERR_CORRUPT || s == COR_ERR_NOMEM)
        return busy(rq, c);
    return send_error(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Something went wrong",
                      "The archive could not make this page. The error has been logged.");
}

static struct MHD_Response *
empty_response(void)
{
    return MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result
redirect(request_t *rq, struct MHD_Connection *c, const char *location)
{
    struct MHD_Response *r = empty_response();
    if (r)
        MHD_add_response_header(r, "Location", location);
    return queue(rq, c, MHD_HTTP_MOVED_PERMANENTLY, r, CACHE_NONE);
}

/* ---- paths (invariant 2) ---- */

/* Decodes the path part of the raw request target once.  False (a 400)
 * when it is not a safe absolute path. */
static bool
decode_path(const char *raw, size_t len, char **out)
{
    *out = NULL;
    if (len == 0 || raw[0] != '/')
        return false;
    GString *p = g_string_sized_new(len);
    for (size_t i = 0; i < len; i++) {
        char ch = raw[i];
        if (ch == '%') {
            int hi = i + 1 < len ? g_ascii_xdigit_value(raw[i + 1]) : -1;
            int lo = i + 2 < len ? g_ascii_xdigit_value(raw[i + 2]) : -1;
            ch = (char) (hi * 16 + lo);
            /* a bad escape, or an encoded '/', '\' or NUL: never a name */
            if (hi < 0 || lo < 0 || ch == '/' || ch == '\\' || ch == '\0') {
                g_string_free(p, TRUE);
                return false;
            }
            i += 2;
        }
        g_string_append_c(p, ch);
    }
    char *s = g_string_free(p, FALSE);
    if (strstr(s, "..") || strstr(s, "//") || strchr(s, '\\') || !g_utf8_validate(s, -1, NULL)) {
        g_free(s);
        return false;
    }
    for (const char *q = s; *q; q++)
        if ((unsigned char) *q < 0x20 || *q == 0x7f) {
            g_free(s);
            return false;
        }
    *out = s;
    return true;
}

/* True when `rel` (no leading '/') has a segment starting with '.', or is
 * a page being written (the archive's "NAME.tmp~"). */
static bool
has_hidden_segment(const char *rel)
{
    if (g_str_has_suffix(rel, "~"))
        return true;
    for (const char *p = rel; *p;) {
        if (*p == '.')
            return true;
        const char *slash = strchr(p, '/');
        if (slash == NULL)
            break;
        p = slash + 1;
    }
    return false;
}

/* Opens `rel` beneath `rootfd` without following symbolic links. */
static int
open_beneath(const cor_http_t *h, int rootfd, const char *rel)
{
    if (h->use_openat2) {
        struct open_how how = {
            .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        return (int) syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
    }
    /* the path holds no ".." (decode_path): only the last link to refuse */
    return openat(rootfd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
}

typedef struct ctype {
    const char *ext;
    const char *type;
} ctype_t;

/* Files of the trees (pages, feeds, the stylesheet and what it uses), by
 * extension.  Originals and attachments come from the store
 * (send_download). */
static const ctype_t TREE_TYPES[] = {
    { "html", HTML },
    { "css", "text/css" },
    { "xml", "application/atom+xml" },
    { "atom", "application/atom+xml" },
    { "txt", "text/plain; charset=utf-8" },
    { "json", "application/json" },
    { "png", "image/png" },
    { "svg", "image/svg+xml" },
    { "ico", "image/x-icon" },
    { "woff", "font/woff" },
    { "woff2", "font/woff2" },
    { NULL, NULL },
};

static const char *
type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot == NULL)
        return "application/octet-stream";
    for (const ctype_t *t = TREE_TYPES; t->ext; t++)
        if (g_ascii_strcasecmp(dot + 1, t->ext) == 0)
            return t->type;
    return "application/octet-stream";
}

/* True when an If-None-Match list holds `etag` (or "*"). */
static bool
etag_matches(const char *list, const char *etag)
{
    g_auto(GStrv) parts = g_strsplit(list, ",", -1);
    for (char **p = parts; *p; p++) {
        char *t = g_strstrip(*p);
        if (g_str_has_prefix(t, "W/"))
            t += 2;
        if (strcmp(t, "*") == 0 || strcmp(t, etag) == 0)
            return true;
    }
    return false;
}

/* What send_file answers instead of its 404 for a file that does not
 * exist (nor its tree); `data` is the caller's. */
typedef enum MHD_Result (*missing_fn)(request_t *rq, struct MHD_Connection *c, void *data);

/* Answers with the file at `path` (decoded, absolute) of the tree at
 * `root`; when there is no such file, with missing(rq, c, missing_data),
 * or 404 when `missing` is NULL. */
static enum MHD_Result
send_file(request_t *rq, struct MHD_Connection *c, const char *root, const char *path,
          const char *cache, missing_fn missing, void *missing_data)
{
    cor_http_t *h = rq->http;
    const char *rel = path + 1;
    g_autofree char *with_index = NULL;
    if (*rel == '\0' || g_str_has_suffix(rel, "/"))
        rel = with_index = g_strconcat(rel, "index.html", NULL);
    if (has_hidden_segment(rel))
        return not_found(rq, c);

    int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        int e = errno;
        if (e != ENOENT)
            cor_log_warning("http: cannot open archive tree '%s': %s", root, g_strerror(e));
        /* no tree yet: nothing is rendered in it so far */
        return e == ENOENT && missing ? missing(rq, c, missing_data) : not_found(rq, c);
    }
    int fd = open_beneath(h, rootfd, rel);
    int e = errno;
    close(rootfd);
    if (fd < 0) {
        if (e == ENOENT && missing)
            return missing(rq, c, missing_data);
        if (e == ENOENT || e == ENOTDIR || e == ELOOP || e == EXDEV || e == ENAMETOOLONG)
            return not_found(rq, c);
        cor_log_warning("http %s: cannot open '%s/%s': %s", rq->peer, root, rel, g_strerror(e));
        if (e == EACCES || e == EPERM)
            return not_found(rq, c);
        return send_error(rq, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Something went wrong",
                          "The archive could not read this page. The error has been logged.");
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !(S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode))) {
        close(fd);
        return not_found(rq, c);
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd);
        /* a folder without its '/': send the browser to it, so that relative
         * links resolve; only for a plain ASCII target (it is echoed) */
        size_t plen = strcspn(rq->uri, "?");
        for (size_t i = 0; i < plen; i++)
            if ((unsigned char) rq->uri[i] <= 0x20 || (unsigned char) rq->uri[i] >= 0x7f)
                return not_found(rq, c);
        g_autofree char *loc = g_strdup_printf("%.*s/", (int) plen, rq->uri);
        return redirect(rq, c, loc);
    }

    char etag[64], modified[40];
    snprintf(etag, sizeof etag, "\"%" PRIx64 "-%" PRIx64 "\"", (uint64_t) sb.st_size,
             (uint64_t) sb.st_mtim.tv_sec * 1000000000u + (uint64_t) sb.st_mtim.tv_nsec);
    http_date(sb.st_mtim.tv_sec, modified);
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    const char *ims = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Modified-Since");
    time_t since;
    bool fresh = inm ? etag_matches(inm, etag)
                     : ims && parse_http_date(ims, &since) && sb.st_mtim.tv_sec <= since;
    struct MHD_Response *r;
    unsigned code;
    if (fresh) {
        close(fd);
        r = empty_response();
        code = MHD_HTTP_NOT_MODIFIED;
        /* libmicrohttpd 0.9.75 adds "Content-Length: 0"; a header of our
         * own would be a second one.  Clients know a 304 has no body. */
    } else {
        r = MHD_create_response_from_fd64((uint64_t) sb.st_size, fd);   /* owns fd */
        if (r == NULL)
            close(fd);
        code = MHD_HTTP_OK;
    }
    if (r == NULL)
        return queue(rq, c, code, NULL, cache);
    MHD_add_response_header(r, "ETag", etag);
    MHD_add_response_header(r, "Last-Modified", modified);
    if (code == MHD_HTTP_OK) {
        const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
        MHD_add_response_header(r, "Content-Type", type_of(base));
    }
    return queue(rq, c, code, r, cache);
}

/* A message's paths under "/g/GROUP/" (`rest`): "m/KE/KEY" then more,
 * KEY 16 lowercase hex digits and KE its first two.  KEY into key; returns
 * what follows it, or NULL. */
static const char *
parse_message_key(const char *rest, char key[17])
{
    if (!g_str_has_prefix(rest, "m/"))
        return NULL;
    const char *ke = rest + 2, *k = rest + 5;
    if (strlen(ke) < 3 + 16 || ke[2] != '/' || strncmp(ke, k, 2) != 0)
        return NULL;
    for (int i = 0; i < 16; i++)
        if (!g_ascii_isxdigit(k[i]) || g_ascii_isupper(k[i]))
            return NULL;
    memcpy(key, k, 16);
    key[16] = '\0';
    return k + 16;
}

/* Downloads (archive.h): "m/KE/KEY.eml" is the original (part 0),
 * "m/KE/KEY/N.EXT" attachment N.  `rest` is the path after "/g/GROUP/". */
static bool
parse_download(const char *rest, char key[17], int *part, char ext[16])
{
    const char *after = parse_message_key(rest, key);
    if (after == NULL)
        return false;
    if (strcmp(after, ".eml") == 0) {
        *part = 0;
        g_strlcpy(ext, "eml", 16);
        return true;
    }
    if (*after != '/' || !g_ascii_isdigit(after[1]))
        return false;
    char *end;
    errno = 0;
    long n = strtol(after + 1, &end, 10);
    if (errno || n < 1 || n > 100000 || *end != '.' || strlen(end + 1) == 0 ||
        strlen(end + 1) >= 16 || end[1 + strspn(end + 1, "abcdefghijklmnopqrstuvwxyz0123456789.")])
        return false;
    *part = (int) n;
    g_strlcpy(ext, end + 1, 16);
    return true;
}

/* A message page, "m/KE/KEY.html" (`rest` as above). */
static bool
parse_message_page(const char *rest, char key[17])
{
    const char *after = parse_message_key(rest, key);
    return after && strcmp(after, ".html") == 0;
}

/* True for characters a file name offered for download must not carry:
 * controls, and the bidirectional marks and overrides that make
 * "invoice\u202Efdp.exe" look like a PDF. */
static bool
unsafe_in_name(gunichar ch)
{
    return ch < 0x20 || (ch >= 0x7f && ch < 0xa0) || ch == 0x061c || ch == 0x200e ||
           ch == 0x200f || (ch >= 0x202a && ch <= 0x202e) || (ch >= 0x2066 && ch <= 0x2069);
}

/* Content-Disposition for a download named `name` (UTF-8): an ASCII
 * fallback and the RFC 8187 form, without unsafe characters (transfer
 * full). */
static char *
disposition(const char *name)
{
    g_autofree char *valid = g_utf8_make_valid(name, -1);
    GString *clean = g_string_new(NULL);
    for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
        gunichar ch = g_utf8_get_char(p);
        if (!unsafe_in_name(ch) && ch != '"' && ch != '\\' && ch != '/')
            g_string_append_unichar(clean, ch);
    }
    if (clean->len == 0)
        g_string_assign(clean, "download");
    GString *d = g_string_new("attachment; filename=\"");
    for (const char *p = clean->str; *p; p = g_utf8_next_char(p))
        g_string_append_c(d, g_ascii_isalnum(*p) || strchr("._- ", *p) ? *p : '_');
    g_string_append(d, "\"; filename*=UTF-8''");
    for (const unsigned char *p = (const unsigned char *) clean->str; *p; p++) {
        if (g_ascii_isalnum(*p) || strchr("._-", *p))
            g_string_append_c(d, (char) *p);
        else
            g_string_append_printf(d, "%%%02X", *p);
    }
    g_string_free(clean, TRUE);
    return g_string_free(d, FALSE);
}

static void
unref_bytes(void *bytes)
{
    g_bytes_unref(bytes);
}

/* A download from the store (the group's visibility is checked already). */
static enum MHD_Result
send_download(request_t *rq, struct MHD_Connection *c, const char *group, const char *key,
              int part, const char *ext, const char *cache)
{
    cor_archive_download_t d = { 0 };
    g_autofree char *err = NULL;
    cor_status_t s = cor_archive_download(rq->http->archive, rq->hd->st, group, key, part,
                                          part == 0 ? NULL : ext, &d, &err);
    if (s != COR_OK) {
        cor_archive_download_clear(&d);
        return failed(rq, c, s, err);
    }
    gsize len = 0;
    const void *data = g_bytes_get_data(d.data, &len);
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback_cls(
        len, (void *) data, unref_bytes, g_bytes_ref(d.data));
    if (r == NULL) {
        g_bytes_unref(d.data);
    } else {
        g_autofree char *cd = disposition(d.filename ? d.filename : "download");
        MHD_add_response_header(r, "Content-Type", d.content_type ? d.content_type
                                                                  : "application/octet-stream");
        MHD_add_response_header(r, "Content-Disposition", cd);
    }
    cor_archive_download_clear(&d);
    return queue(rq, c, MHD_HTTP_OK, r, cache);
}

/* A message page that is not written yet, asked for by a viewer who may
 * see its group. */
typedef struct pending {
    const cor_group_t *group;
    const char *key;
} pending_t;

/* send_file's answer for a missing message page (invariant 7): 503 with
 * Retry-After and the "being added to the archive" page when the post is
 * stored and waits for the renderer; else the 404 of any missing page. */
static enum MHD_Result
send_pending(request_t *rq, struct MHD_Connection *c, void *data)
{
    const pending_t *pd = data;
    cor_store_t *st = request_store(rq);
    if (st == NULL)
        return busy(rq, c);
    GString *body = g_string_new(NULL);
    g_autofree char *err = NULL;
    cor_status_t s = cor_archive_page_pending(rq->http->archive, st, pd->group, pd->key, body,
                                              &err);
    request_release(rq);
    if (s != COR_OK) {
        g_string_free(body, TRUE);
        return failed(rq, c, s, err);
    }
    struct MHD_Response *r = buffer_response(body, HTML);
    if (r)
        MHD_add_response_header(r, "Retry-After", RETRY_AFTER);
    /* never kept by a cache: the page itself is seconds away */
    return queue(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, r, CACHE_NONE);
}

/* /g/NAME[/...]: the group's tree, when the viewer may see it. */
static enum MHD_Result
send_group_file(request_t *rq, struct MHD_Connection *c, const char *path)
{
    cor_http_t *h = rq->http;
    const char *name_start = path + 3;
    const char *slash = strchr(name_start, '/');
    g_autofree char *name = slash ? g_strndup(name_start, (gsize) (slash - name_start))
                                  : g_strdup(name_start);
    if (*name == '\0')
        return send_file(rq, c, h->public_dir, path, CACHE_PUBLIC, NULL, NULL);
    if (!cor_group_name_valid(name))
        return not_found(rq, c);
    cor_store_t *st = request_store(rq);
    if (st == NULL)
        return busy(rq, c);
    g_autoptr(cor_group_t) g = NULL;
    cor_status_t s = cor_store_group_get(st, name, &g);
    if (s == COR_ERR_NO_GROUP || s == COR_ERR_NOT_FOUND)
        return not_found(rq, c);
    if (s != COR_OK)
        return failed(rq, c, s, cor_store_error(st));
    bool allowed = false;
    if ((s = cor_visibility_can_see(st, &rq->viewer, g, &allowed)) != COR_OK)
        return failed(rq, c, s, cor_store_error(st));
    if (!allowed)
        return not_found(rq, c);
    bool public = g->visibility == COR_VISIBILITY_PUBLIC;
    const char *cache = public ? CACHE_PUBLIC : CACHE_PRIVATE;
    char key[17], ext[16];
    int part;
    if (slash && parse_download(slash + 1, key, &part, ext))
        return send_download(rq, c, name, key, part, ext, cache);
    request_release(rq);
    const char *root = public ? h->public_dir : h->restricted_dir;
    if (slash && parse_message_page(slash + 1, key)) {
        pending_t pd = { g, key };
        return send_file(rq, c, root, path, cache, send_pending, &pd);
    }
    return send_file(rq, c, root, path, cache, NULL, NULL);
}

/* "/author/KEY.html" → KEY (16 lowercase hex digits), or NULL. */
static char *
author_key(const char *path)
{
    if (!g_str_has_prefix(path, "/author/") || !g_str_has_suffix(path, ".html"))
        return NULL;
    const char *k = path + strlen("/author/");
    size_t n = strlen(k) - strlen(".html");
    if (n != 16)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isxdigit(k[i]) || g_ascii_isupper(k[i]))
            return NULL;
    return g_strndup(k, n);
}

/* The site index or an author page, made for a signed-in viewer. */
static enum MHD_Result
send_viewer_page(request_t *rq, struct MHD_Connection *c, const char *key)
{
    cor_store_t *st = request_store(rq);
    if (st == NULL)
        return busy(rq, c);
    GString *body = g_string_new(NULL);
    g_autofree char *err = NULL;
    cor_archive_t *a = rq->http->archive;
    cor_status_t s = key ? cor_archive_page_author(a, st, &rq->viewer, key, body, &err)
                         : cor_archive_page_site(a, st, &rq->viewer, body, &err);
    if (s != COR_OK) {
        g_string_free(body, TRUE);
        return failed(rq, c, s, err);
    }
    return send_page(rq, c, MHD_HTTP_OK, body, HTML, CACHE_PRIVATE);
}

/* ---- search ---- */

/* What a hit owns; cor_archive_hit_t borrows from it. */
typedef struct hit_data {
    cor_stored_message_t *m;
    char *group;
    char *group_label;             /* "NAME (restricted)" for an officer's restricted hit */
    bool restricted;
    char *from;
    char *url;
    char *snippet;
} hit_data_t;

static void
hit_data_clear(void *p)
{
    hit_data_t *d = p;
    cor_stored_message_free(d->m);
    g_free(d->group);
    g_free(d->group_label);
    g_free(d->from);
    g_free(d->url);
    g_free(d->snippet);
}

static bool
in_list(GPtrArray *names, const char *name)
{
    for (guint i = 0; i < names->len; i++)
        if (strcmp(g_ptr_array_index(names, i), name) == 0)
            return true;
    return false;
}

/* Which hits of one search have their message page (invariant 7): the
 * trees' roots, opened at the first hit, and each group's tree. */
typedef struct published {
    const cor_http_t *http;
    bool opened;
    int public_fd;                 /* O_PATH roots; -1 when absent */
    int restricted_fd;
    GHashTable *public_group;      /* group name (owned) -> GINT_TO_POINTER(1 public, 2 not) */
} published_t;

static void
published_init(published_t *p, const cor_http_t *h)
{
    *p = (published_t){ .http = h, .public_fd = -1, .restricted_fd = -1 };
    p->public_group = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static void
published_clear(published_t *p)
{
    if (p->public_fd >= 0)
        close(p->public_fd);
    if (p->restricted_fd >= 0)
        close(p->restricted_fd);
    g_hash_table_destroy(p->public_group);
}

/* True when the page `url` (cor_archive_message_url) of a post in `group`
 * is in the group's tree: one fstatat per hit, as send_file would find it.
 * False with *s set when the group cannot be read. */
static bool
page_published(published_t *p, cor_store_t *st, const char *group, const char *url,
               cor_status_t *s)
{
    if (!p->opened) {
        p->opened = true;
        p->public_fd = open(p->http->public_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        p->restricted_fd = open(p->http->restricted_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
    gpointer public = g_hash_table_lookup(p->public_group, group);
    if (public == NULL) {
        g_autoptr(cor_group_t) g = NULL;
        *s = cor_store_group_get(st, group, &g);
        if (*s == COR_ERR_NO_GROUP || *s == COR_ERR_NOT_FOUND) {
            *s = COR_OK;   /* deleted meanwhile: no pages */
            return false;
        }
        if (*s != COR_OK)
            return false;
        public = GINT_TO_POINTER(g->visibility == COR_VISIBILITY_PUBLIC ? 1 : 2);
        g_hash_table_insert(p->public_group, g_strdup(group), public);
    }
    int root = GPOINTER_TO_INT(public) == 1 ? p->public_fd : p->restricted_fd;
    struct stat sb;
    return root >= 0 && fstatat(root, url, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode);
}

/* Fills `d` for message row `row`: false (and *s COR_OK) to skip a hit
 * that is gone or in none of `searched`, or (*unpublished set too) whose
 * page the archive does not have yet. */
static bool
hit_fill(request_t *rq, cor_search_results_t *r, int64_t row, GPtrArray *searched, bool json,
         published_t *pub, hit_data_t *d, bool *unpublished, cor_status_t *s)
{
    *unpublished = false;
    cor_store_t *st = rq->hd->st;
    *s = cor_store_message_get(st, row, &d->m);
    if (*s == COR_ERR_NOT_FOUND) {
        *s = COR_OK;   /* the index is ahead of a deleted message */
        return false;
    }
    if (*s != COR_OK)
        return false;
    g_autoptr(GPtrArray) groups = NULL;
    g_autoptr(GArray) threads = NULL, restricted = NULL;
    /* an officer's hits include restricted places (they have no page: the
     * group is labelled so, and the officer reads them with the records
     * commands) */
    bool officer = rq->viewer.kind == COR_VIEWER_OFFICER;
    if ((*s = officer ? cor_store_message_places(st, row, &groups, &threads, &restricted)
                      : cor_store_message_groups(st, row, &groups, &threads)) != COR_OK)
        return false;
    for (int pass = 0; pass < (officer ? 2 : 1) && !d->group; pass++)
        for (guint i = 0; i < groups->len && !d->group; i++) {
            bool r = restricted && g_array_index(restricted, gboolean, i);
            if (r == (pass == 1) && in_list(searched, g_ptr_array_index(groups, i))) {
                d->group = g_strdup(g_ptr_array_index(groups, i));
                d->restricted = r;
            }
        }
    if (d->group == NULL)
        return false;
    d->url = cor_archive_message_url(d->group, d->m->message_id);
    /* search shows what the archive shows: not a link to a page the
     * renderer has still to write (an officer's restricted hit has no page
     * at all, and is shown as such) */
    if (!d->restricted && !page_published(pub, st, d->group, d->url, s)) {
        *unpublished = *s == COR_OK;
        return false;
    }

    g_autoptr(GBytes) raw = NULL;
    g_autoptr(cor_message_t) msg = NULL;
    /* the snippet needs the first 2 KB of text: the start of the message is
     * enough, and a big attachment is neither read nor decoded for it */
    if (cor_store_message_raw_head(st, row, SNIPPET_PARSE, &raw) == COR_OK) {
        gsize len = 0;
        const char *data = g_bytes_get_data(raw, &len);
        if (cor_message_parse(data, len, d->m->received, &msg, NULL) != COR_OK)
            msg = NULL;
    }
    if (msg) {
        d->from = g_strdup(*msg->from_name ? msg->from_name :
                           *msg->from_addr ? msg->from_addr : d->m->from_display);
        const char *text = *msg->new_text ? msg->new_text : msg->body;
        size_t len = MIN(strlen(text), (size_t) SNIPPET_SOURCE);
        d->snippet = json ? cor_search_results_snippet_text(r, text, len, SNIPPET_LENGTH)
                          : cor_search_results_snippet(r, text, len, SNIPPET_LENGTH);
    } else {
        d->from = g_strdup(d->m->from_display);
    }
    return true;
}

static enum MHD_Result
send_json(request_t *rq, struct MHD_Connection *c, unsigned code, JsonBuilder *b)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    gsize len = 0;
    char *text = json_generator_to_data(gen, &len);
    GString *body = g_string_new_len(text, (gssize) len);
    g_free(text);
    g_string_append_c(body, '\n');
    return send_page(rq, c, code, body, "application/json", CACHE_PRIVATE);
}

static enum MHD_Result
send_json_error(request_t *rq, struct MHD_Connection *c, unsigned code, const char *text)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "error");
    json_builder_add_string_value(b, text);
    json_builder_end_object(b);
    return send_json(rq, c, code, b);
}

static int
parse_page(const char *s)
{
    if (s == NULL || *s == '\0')
        return 1;
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno || *end != '\0' || n < 1)
        return 1;
    return n > MAX_PAGE ? MAX_PAGE : (int) n;
}

static enum MHD_Result
search_busy(request_t *rq, struct MHD_Connection *c, bool json)
{
    if (json)
        return send_json_error(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE,
                               "the archive is busy, try again");
    return busy(rq, c);
}

/* An officer's search is a records search (docs/records.md, "Officers on
 * the web"): before its results are shown it gets one audit entry
 * (core/audit.h): action "web.search", the officer's address as operator,
 * detail {"query","group" ("" for every group),"page","count","peer"}, in
 * a short write transaction of its own on the request's handle, which
 * waits up to STORE_WRITE_BUSY_MS for another writer (the daemon's
 * committer, a records command).  False, after logging an error, when the
 * entry could not be written: the caller then shows nothing (503) rather
 * than an unaudited search. */
static bool
audit_officer_search(request_t *rq, cor_store_t *st, const char *query, const char *group,
                     int page, uint64_t total)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "query");
    json_builder_add_string_value(b, query);
    json_builder_set_member_name(b, "group");
    json_builder_add_string_value(b, group ? group : "");
    json_builder_set_member_name(b, "page");
    json_builder_add_int_value(b, page);
    json_builder_set_member_name(b, "count");
    json_builder_add_int_value(b, (gint64) total);
    json_builder_set_member_name(b, "peer");
    json_builder_add_string_value(b, rq->peer);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    g_autofree char *detail = json_generator_to_data(gen, NULL);

    g_autofree char *err = NULL;
    int64_t seq = 0;
    cor_store_set_busy_timeout(st, STORE_WRITE_BUSY_MS);
    cor_status_t s = cor_store_begin(st);
    if (s == COR_OK)
        s = cor_audit_append(st, rq->user, "web.search", "", detail, &seq, &err);
    else
        err = g_strdup(cor_store_error(st));
    if (s == COR_OK && (s = cor_store_commit(st)) != COR_OK)
        err = g_strdup(cor_store_error(st));
    if (s != COR_OK && cor_store_in_transaction(st))
        cor_store_rollback(st);
    cor_store_set_busy_timeout(st, STORE_BUSY_MS);
    if (s != COR_OK) {
        cor_log_error("http %s: officer %s's search refused: cannot write its audit entry: %s",
                      rq->peer, rq->user, err && *err ? err : cor_status_to_string(s));
        return false;
    }
    cor_log_debug("http %s: officer %s's search is audit entry %" PRId64, rq->peer, rq->user,
                  seq);
    return true;
}

static enum MHD_Result
send_search(request_t *rq, struct MHD_Connection *c)
{
    cor_http_t *h = rq->http;
    const char *qarg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "q");
    const char *garg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "group");
    const char *format = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
    bool json = format && strcmp(format, "json") == 0;
    if ((qarg && !g_utf8_validate(qarg, -1, NULL)) || (garg && !g_utf8_validate(garg, -1, NULL)))
        return json ? send_json_error(rq, c, MHD_HTTP_BAD_REQUEST, "the query is not valid UTF-8")
                    : bad_request(rq, c, "The query is not valid UTF-8.");
    g_autofree char *query = g_strstrip(g_strdup(qarg ? qarg : ""));
    const char *group = garg && *garg ? garg : NULL;
    int page = parse_page(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "page"));
    int per_page = h->per_page;

    cor_store_t *st = request_store(rq);
    if (st == NULL)
        return search_busy(rq, c, json);
    g_autoptr(GPtrArray) visible = NULL;
    cor_status_t s = cor_visibility_groups(st, &rq->viewer, &visible);
    if (s != COR_OK) {
        cor_log_warning("http %s: search: %s", rq->peer, cor_store_error(st));
        return search_busy(rq, c, json);
    }
    /* the groups searched: all the viewer may see, or the one asked for;
     * one the viewer may not see is searched as an empty set (invariant 1) */
    g_autoptr(GPtrArray) searched = g_ptr_array_new();
    for (guint i = 0; i < visible->len; i++)
        if (group == NULL || strcmp(group, g_ptr_array_index(visible, i)) == 0)
            g_ptr_array_add(searched, g_ptr_array_index(visible, i));

    g_autoptr(GArray) data = g_array_new(FALSE, TRUE, sizeof(hit_data_t));
    g_array_set_clear_func(data, hit_data_clear);
    uint64_t total = 0, ranked = 0;
    g_autofree char *query_error = NULL;
    if (*query) {
        cor_search_db_t *db = request_index(rq);
        if (db == NULL)
            return search_busy(rq, c, json);
        cor_search_query_t q = {
            .query = query,
            .groups = (const char *const *) searched->pdata,
            .n_groups = searched->len,
            /* officers: restricted posts too, in every group they search */
            .restricted_places = rq->viewer.kind == COR_VIEWER_OFFICER,
            .sort = COR_SEARCH_SORT_DATE_DESC,
            .offset = (size_t) (page - 1) * (size_t) per_page,
            .limit = (size_t) per_page,
            .exact_total = true,    /* the page count depends on it */
        };
        cor_search_results_t *r = NULL;
        s = cor_search_run(db, &q, &r);
        if (s == COR_ERR_QUERY) {
            query_error = g_strdup(cor_search_db_error(db));
        } else if (s != COR_OK) {
            cor_log_warning("http %s: search failed: %s", rq->peer, cor_search_db_error(db));
            cor_search_db_close(rq->hd->index);
            rq->hd->index = NULL;    /* opened afresh next time */
            return search_busy(rq, c, json);
        } else {
            ranked = total = cor_search_results_total(r);
            published_t pub;
            published_init(&pub, h);
            for (; cor_search_results_valid(r); cor_search_results_next(r)) {
                hit_data_t d = { 0 };
                int64_t row = (int64_t) cor_search_results_docid(r);
                bool unpublished;
                if (hit_fill(rq, r, row, searched, json, &pub, &d, &unpublished, &s)) {
                    g_array_append_val(data, d);
                    continue;
                }
                hit_data_clear(&d);
                if (s != COR_OK)
                    break;
                if (unpublished && total > 0)
                    total--;   /* the count shown is of what can be read */
            }
            published_clear(&pub);
            cor_search_results_free(r);
            if (s != COR_OK) {
                cor_log_warning("http %s: search: %s", rq->peer, cor_store_error(st));
                return search_busy(rq, c, json);
            }
        }
    }
    /* an officer's search is shown only once it is in the audit trail */
    if (*query && !query_error && rq->viewer.kind == COR_VIEWER_OFFICER &&
        !audit_officer_search(rq, st, query, group, page, total))
        return json ? send_json_error(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE,
                                      "the search could not be recorded in the audit trail, "
                                      "try again")
                    : send_error(rq, c, MHD_HTTP_SERVICE_UNAVAILABLE, "Search not recorded",
                                 "Your search could not be written to the records audit "
                                 "trail, so its results are not shown. Try again in a "
                                 "moment; if this goes on, tell the administrator.");
    unsigned code = query_error ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_OK;

    if (json) {
        if (query_error)
            return send_json_error(rq, c, code, query_error);
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "query");
        json_builder_add_string_value(b, query);
        json_builder_set_member_name(b, "total");
        json_builder_add_int_value(b, (gint64) total);
        json_builder_set_member_name(b, "page");
        json_builder_add_int_value(b, page);
        json_builder_set_member_name(b, "per_page");
        json_builder_add_int_value(b, per_page);
        json_builder_set_member_name(b, "results");
        json_builder_begin_array(b);
        for (guint i = 0; i < data->len; i++) {
            hit_data_t *d = &g_array_index(data, hit_data_t, i);
            char date[32];
            rnd_date_iso(date, sizeof date, d->m->date);
            g_autofree char *url = g_strconcat("/", d->url, NULL);
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "message_id");
            json_builder_add_string_value(b, d->m->message_id);
            json_builder_set_member_name(b, "group");
            json_builder_add_string_value(b, d->group);
            if (d->restricted) {
                json_builder_set_member_name(b, "restricted");
                json_builder_add_boolean_value(b, TRUE);
            }
            json_builder_set_member_name(b, "subject");
            json_builder_add_string_value(b, d->m->subject);
            json_builder_set_member_name(b, "from");
            json_builder_add_string_value(b, d->from);
            json_builder_set_member_name(b, "date");
            json_builder_add_string_value(b, date);
            json_builder_set_member_name(b, "url");
            json_builder_add_string_value(b, url);
            json_builder_set_member_name(b, "snippet");
            json_builder_add_string_value(b, d->snippet ? d->snippet : "");
            json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
        return send_json(rq, c, code, b);
    }

    g_autofree cor_archive_hit_t *hits = g_new0(cor_archive_hit_t, data->len + 1);
    for (guint i = 0; i < data->len; i++) {
        hit_data_t *d = &g_array_index(data, hit_data_t, i);
        if (d->restricted)
            d->group_label = g_strdup_printf("%s (restricted)", d->group);
        hits[i] = (cor_archive_hit_t){
            .group = d->group_label ? d->group_label : d->group,
            .message_id = d->m->message_id,
            .subject = d->m->subject,
            .from = d->from,
            .date = d->m->date,
            .url = d->url,
            .snippet_html = d->snippet,
        };
    }
    cor_archive_search_page_t p = {
        .query = query,
        .group = group ? group : "",
        .groups = (const char *const *) visible->pdata,
        .n_groups = visible->len,
        .error = query_error,
        .total = total,
        .ranked = ranked,
        .page = page,
        .per_page = per_page,
        .hits = hits,
        .n_hits = data->len,
    };
    GString *body = g_string_new(NULL);
    g_autofree char *err = NULL;
    s = cor_archive_page_search(h->archive, &p, body, &err);
    if (s != COR_OK) {
        g_string_free(body, TRUE);
        return failed(rq, c, s, err);
    }
    return send_page(rq, c, code, body, HTML, CACHE_PRIVATE);
}

/* ---- one-click unsubscribe (RFC 8058) ---- */

/* True when the decoded path of `uri` is /u or under /u/: the one-click
 * routes, which also take POST. */
static bool
unsubscribe_uri(const char *uri)
{
    g_autofree char *path = NULL;
    if (!decode_path(uri, strcspn(uri, "?"), &path))
        return false;
    return strcmp(path, "/u") == 0 || g_str_has_prefix(path, "/u/");
}

/* "/u/TOKEN" → TOKEN (32 hex digits, lowercased) into out; also
 * "/u/TOKEN/digest" (a combined digest's link: *digest true, when `digest`
 * is not NULL); false for any other path under /u. */
static bool
parse_token(const char *path, char out[TOKEN_LEN + 1], bool *digest)
{
    if (!g_str_has_prefix(path, "/u/"))
        return false;
    const char *t = path + 3;
    bool d = digest && strlen(t) == TOKEN_LEN + strlen("/digest") &&
             strcmp(t + TOKEN_LEN, "/digest") == 0;
    if (digest)
        *digest = d;
    if (strlen(t) != TOKEN_LEN && !d)
        return false;
    for (int i = 0; i < TOKEN_LEN; i++) {
        if (!g_ascii_isxdigit(t[i]))
            return false;
        out[i] = g_ascii_tolower(t[i]);
    }
    out[TOKEN_LEN] = '\0';
    return true;
}

/* An address as the one-click pages show it: its first character, "***",
 * and the domain ("j***@example.gov.uk"), so that a page seen over a
 * shoulder or kept in a history does not give the address away
 * (transfer full). */
static char *
masked_address(const char *address)
{
    const char *at = strrchr(address, '@');
    if (at == NULL || at == address || !g_utf8_validate(address, -1, NULL))
        return g_strdup("***");
    const char *second = g_utf8_next_char(address);
    return g_strdup_printf("%.*s***%s", (int) (second - address), address, at);
}

/* The group with id `id` (transfer full), or NULL with *s set. */
static cor_group_t *
group_by_id(cor_store_t *st, int64_t id, cor_status_t *s)
{
    g_autoptr(GPtrArray) groups = NULL;
    if ((*s = cor_store_group_list(st, false, &groups)) != COR_OK)
        return NULL;
    for (guint i = 0; i < groups->len; i++)
        if (((cor_group_t *) g_ptr_array_index(groups, i))->id == id)
            return g_ptr_array_steal_index(groups, i);
    *s = COR_ERR_NO_GROUP;
    return NULL;
}

static enum MHD_Result
unknown_token(request_t *rq, struct MHD_Connection *c)
{
    return send_error(rq, c, MHD_HTTP_NOT_FOUND, "Page not found",
                      "This link to leave a group is not valid. It may have been used "
                      "already, or only part of it was copied. If you still get mail from "
                      "the group, use the link in the newest message you received.");
}

/* Renders `tmpl` (unsubscribe.html: the confirmation form; left.html:
 * the answer to the POST) for the member `address` of group `g`, whose
 * token is `token`. */
static enum MHD_Result
send_unsubscribe_page(request_t *rq, struct MHD_Connection *c, const char *tmpl,
                      const char *token, const cor_group_t *g, const char *address)
{
    cor_http_t *h = rq->http;
    const char *gtitle = g->title && *g->title ? g->title : g->name;
    g_autoptr(cor_tctx_t) x = cor_tctx_new();
    g_autofree char *rel = g_strconcat("u/", token, NULL);
    g_autofree char *title = g_strdup_printf(strcmp(tmpl, "left.html") == 0 ? "You have left %s"
                                                                           : "Leave %s",
                                             gtitle);
    cor_tval_t *v = rnd_page_scope(x, &h->site, rel, title);
    cor_tval_t *crumbs = cor_tval_set_list(x, v, "breadcrumbs");
    cor_tval_t *it = cor_tval_list_add_object(x, crumbs);
    cor_tval_set_static(x, it, "href", "index.html");
    cor_tval_set_static(x, it, "text", "All groups");
    cor_tval_t *gv = cor_tval_set_object(x, v, "group");
    cor_tval_set_str(x, gv, "name", g->name);
    cor_tval_set_str(x, gv, "title", gtitle);
    g_autofree char *masked = masked_address(address);
    cor_tval_set_str(x, v, "address", masked);
    cor_tval_set_printf(x, v, "join_address", "%s-join@%s", g->name, h->list_domain);
    cor_tval_set_str(x, v, "action", token);   /* relative: this very URL */
    cor_tval_set_static(x, v, "one_click_key", ONE_CLICK_KEY);
    cor_tval_set_static(x, v, "one_click_value", ONE_CLICK_VALUE);
    GString *body = g_string_new(NULL);
    g_autofree char *err = NULL;
    cor_status_t s = cor_tmpl_render(h->tmpl, tmpl, v, body, &err);
    if (s != COR_OK) {
        g_string_free(body, TRUE);
        return failed(rq, c, s, err);
    }
    struct MHD_Response *r = buffer_response(body, HTML);
    if (r)
        MHD_add_response_header(r, "X-Robots-Tag", "noindex, nofollow");
    return queue(rq, c, MHD_HTTP_OK, r, CACHE_NONE);
}

typedef struct form_scan {
    GString *value;                /* the List-Unsubscribe field, as it arrives */
    bool seen;
} form_scan_t;

/* MHD_PostProcessor callback (multipart/form-data): keeps the value of
 * the List-Unsubscribe field. */
static enum MHD_Result
form_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
           const char *content_type, const char *transfer_encoding, const char *data,
           uint64_t off, size_t size)
{
    form_scan_t *f = cls;
    if (key == NULL || strcmp(key, ONE_CLICK_KEY) != 0 || filename != NULL)
        return MHD_YES;
    if (off == 0) {
        if (f->seen)
            return MHD_YES;     /* the first field of that name counts */
        f->seen = true;
        g_string_truncate(f->value, 0);
    }
    if (f->value->len + size <= MAX_FORM)
        g_string_append_len(f->value, data, (gssize) size);
    return MHD_YES;
}

/* True when the POST body holds List-Unsubscribe=One-Click: an
 * application/x-www-form-urlencoded body (also one sent without a
 * Content-Type), or multipart/form-data (RFC 8058 section 3.1). */
static bool
one_click_body(struct MHD_Connection *c, const GString *form)
{
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct == NULL)
        ct = "";
    /* the media type, without its parameters (charset, boundary) */
    g_autofree char *type = g_strstrip(g_ascii_strdown(ct, (gssize) strcspn(ct, ";")));
    const char *text = form ? form->str : "";
    size_t len = form ? form->len : 0;

    if (strcmp(type, "multipart/form-data") == 0) {
        form_scan_t f = { g_string_new(NULL), false };
        struct MHD_PostProcessor *pp = MHD_create_post_processor(c, 1024, form_field, &f);
        bool ok = false;
        if (pp) {
            ok = MHD_post_process(pp, text, len) == MHD_YES;
            ok = MHD_destroy_post_processor(pp) == MHD_YES && ok;
        }
        ok = ok && f.seen && strcmp(g_strstrip(f.value->str), ONE_CLICK_VALUE) == 0;
        g_string_free(f.value, TRUE);
        return ok;
    }
    if (*type && strcmp(type, "application/x-www-form-urlencoded") != 0)
        return false;
    g_autofree char *copy = g_strndup(text, len);
    g_auto(GStrv) pairs = g_strsplit(g_strstrip(copy), "&", -1);
    for (char **p = pairs; *p; p++) {
        for (char *q = *p; *q; q++)
            if (*q == '+')
                *q = ' ';
        char *eq = strchr(*p, '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        g_autofree char *key = g_uri_unescape_string(*p, NULL);
        g_autofree char *value = g_uri_unescape_string(eq + 1, NULL);
        if (key && value && strcmp(key, ONE_CLICK_KEY) == 0)
            return strcmp(g_strstrip(value), ONE_CLICK_VALUE) == 0;
    }
    return false;
}

/* The member leaves: one short write transaction on the request's handle
 * (the daemon's committer holds the write lock only for its commits;
 * busy_timeout waits them out).  The token is looked up again inside the
 * transaction, so two POSTs at once remove the member once. */
static enum MHD_Result
unsubscribe_post(request_t *rq, struct MHD_Connection *c, cor_store_t *st, const char *token)
{
    cor_store_set_busy_timeout(st, STORE_WRITE_BUSY_MS);
    cor_status_t s = cor_store_begin(st);
    g_autoptr(cor_member_detail_t) m = NULL;
    g_autoptr(cor_group_t) g = NULL;
    if (s == COR_OK)
        s = cor_store_member_by_token(st, token, &m);
    if (s == COR_OK)
        g = group_by_id(st, m->group_id, &s);
    if (s == COR_OK)
        s = cor_store_member_leave(st, m->group_id, m->m.address, "one-click");
    if (s == COR_OK)
        s = cor_store_commit(st);
    if (s != COR_OK && cor_store_in_transaction(st))
        cor_store_rollback(st);
    cor_store_set_busy_timeout(st, STORE_BUSY_MS);
    if (s == COR_ERR_NOT_FOUND || s == COR_ERR_NO_GROUP)
        return unknown_token(rq, c);   /* gone meanwhile */
    if (s != COR_OK)
        return failed(rq, c, s, cor_store_error(st));
    cor_log_info("http %s: group %s: %s left by one-click", rq->peer, g->name, m->m.address);
    return send_unsubscribe_page(rq, c, "left.html", token, g, m->m.address);
}

/* /u/TOKEN/digest: the List-Unsubscribe link of a combined digest (one
 * digest for all of a person's digest-mode groups; TOKEN is their token in
 * one of them).  GET and HEAD show which groups it covers and change
 * nothing; POST with List-Unsubscribe=One-Click stops the digest: every
 * digest-mode membership of the address becomes mode 'none' (no mail; still
 * a member, the archive as before), in one transaction.  The same page
 * answers both, worded for before or after. */
static enum MHD_Result
digest_stop(request_t *rq, struct MHD_Connection *c, cor_store_t *st, const char *token,
            const char *address, bool post)
{
    cor_http_t *h = rq->http;
    if (post && !one_click_body(c, rq->form))
        return send_error(rq, c, MHD_HTTP_BAD_REQUEST, "Nothing has changed",
                          "This address stops a digest only when the request carries "
                          "List-Unsubscribe=One-Click (RFC 8058), as the button on its "
                          "page sends it. Open the link in a browser to see that page.");
    g_autoptr(GPtrArray) ms = NULL;
    cor_status_t s = COR_OK;
    if (post) {
        cor_store_set_busy_timeout(st, STORE_WRITE_BUSY_MS);
        s = cor_store_begin(st);
    }
    if (s == COR_OK)
        s = cor_store_digest_memberships(st, address, &ms);
    for (guint i = 0; post && s == COR_OK && i < ms->len; i++) {
        const cor_digest_membership_t *m = ms->pdata[i];
        s = cor_store_member_set(st, m->group_id, address, NULL, "none", NULL);
    }
    if (post && s == COR_OK)
        s = cor_store_commit(st);
    if (post) {
        if (s != COR_OK && cor_store_in_transaction(st))
            cor_store_rollback(st);
        cor_store_set_busy_timeout(st, STORE_BUSY_MS);
    }
    if (s != COR_OK)
        return failed(rq, c, s, cor_store_error(st));
    if (post)
        cor_log_info("http %s: %s stopped their combined digest by one-click (%u group%s)",
                     rq->peer, address, ms->len, ms->len == 1 ? "" : "s");
    g_autoptr(cor_tctx_t) x = cor_tctx_new();
    g_autofree char *rel = g_strconcat("u/", token, "/digest", NULL);
    cor_tval_t *v = rnd_page_scope(x, &h->site, rel,
                                   post ? "Your digest has stopped" : "Stop your digest");
    cor_tval_t *crumbs = cor_tval_set_list(x, v, "breadcrumbs");
    cor_tval_t *it = cor_tval_list_add_object(x, crumbs);
    cor_tval_set_static(x, it, "href", "index.html");
    cor_tval_set_static(x, it, "text", "All groups");
    g_autofree char *masked = masked_address(address);
    cor_tval_set_str(x, v, "address", masked);
    cor_tval_set_bool(x, v, "stopped", post);
    cor_tval_t *list = cor_tval_set_list(x, v, "groups");
    for (guint i = 0; i < ms->len; i++) {
        const cor_digest_membership_t *m = ms->pdata[i];
        cor_tval_t *g = cor_tval_list_add_object(x, list);
        cor_tval_set_str(x, g, "title", *m->title ? m->title : m->group);
        cor_tval_set_printf(x, g, "request", "%s-request@%s", m->group, h->list_domain);
    }
    cor_tval_set_static(x, v, "action", "digest");   /* relative: this very URL */
    cor_tval_set_static(x, v, "one_click_key", ONE_CLICK_KEY);
    cor_tval_set_static(x, v, "one_click_value", ONE_CLICK_VALUE);
    GString *body = g_string_new(NULL);
    g_autofree char *err = NULL;
    s = cor_tmpl_render(h->tmpl, "digest-stop.html", v, body, &err);
    if (s != COR_OK) {
        g_string_free(body, TRUE);
        return failed(rq, c, s, err);
    }
    struct MHD_Response *r = buffer_response(body, HTML);
    if (r)
        MHD_add_response_header(r, "X-Robots-Tag", "noindex, nofollow");
    return queue(rq, c, MHD_HTTP_OK, r, CACHE_NONE);
}

/* /u/TOKEN: GET and HEAD show the confirmation page and change nothing
 * (mail scanners follow links); POST with List-Unsubscribe=One-Click
 * removes the member.  No sign-in, cookie or redirect is involved. */
static enum MHD_Result
send_unsubscribe(request_t *rq, struct MHD_Connection *c, const char *path, bool post)
{
    char token[TOKEN_LEN + 1];
    bool digest = false;
    if (!parse_token(path, token, &digest))
        return unknown_token(rq, c);
    cor_store_t *st = request_store(rq);
    if (st == NULL)
        return busy(rq, c);
    g_autoptr(cor_member_detail_t) m = NULL;
    cor_status_t s = cor_store_member_by_token(st, token, &m);
    if (s == COR_ERR_NOT_FOUND)
        return unknown_token(rq, c);
    if (s != COR_OK)
        return failed(rq, c, s, cor_store_error(st));
    if (digest)
        return digest_stop(rq, c, st, token, m->m.address, post);
    if (post) {
        if (!one_click_body(c, rq->form))
            return send_error(rq, c, MHD_HTTP_BAD_REQUEST, "Nothing has changed",
                              "This address leaves a group only when the request carries "
                              "List-Unsubscribe=One-Click (RFC 8058), as the button on its "
                              "page sends it. Open the link in a browser to see that page.");
        return unsubscribe_post(rq, c, st, token);
    }
    g_autoptr(cor_group_t) g = group_by_id(st, m->group_id, &s);
    if (g == NULL)
        return s == COR_ERR_NO_GROUP ? unknown_token(rq, c) : failed(rq, c, s, cor_store_error(st));
    return send_unsubscribe_page(rq, c, "unsubscribe.html", token, g, m->m.address);
}

/* ---- libmicrohttpd callbacks ---- */

/* Called once per request with the raw target, before anything is decoded. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    cor_http_t *h = cls;
    request_t *rq = g_new0(request_t, 1);
    rq->http = h;
    rq->uri = g_strdup(uri ? uri : "");
    rq->started = g_get_monotonic_time();
    g_strlcpy(rq->peer, "?", sizeof rq->peer);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci)
        rq->peer_known = ip_from_sockaddr(ci->client_addr, &rq->peer_ip, rq->peer, sizeof rq->peer);
    g_atomic_int_inc(&h->in_flight);
    return rq;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
    cor_http_t *h = cls;
    request_t *rq = *req_cls;
    if (rq == NULL)
        return;
    *req_cls = NULL;
    if (cor_log_get_level() <= COR_LOG_DEBUG) {
        g_autofree char *shown = shown_uri(rq);
        cor_log_debug("http %s: %s %s %u (%.1f ms)%s", rq->peer, rq->method ? rq->method : "-",
                      shown, rq->status,
                      (double) (g_get_monotonic_time() - rq->started) / 1000.0,
                      toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (not completed)");
    }
    request_release(rq);
    if (rq->form)
        g_string_free(rq->form, TRUE);
    g_free(rq->user);
    g_free(rq->uri);
    g_free(rq);
    g_atomic_int_dec_and_test(&h->in_flight);
}

/* Answers one request (after on_uri gave it its context). */
static enum MHD_Result
route(request_t *rq, struct MHD_Connection *c, const char *method)
{
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0 &&
        !(post && rq->unsubscribe))
        return send_error(rq, c, MHD_HTTP_METHOD_NOT_ALLOWED, "Method not allowed",
                          rq->unsubscribe ? "This address takes GET, HEAD and POST only."
                                          : "This archive can only be read (GET and HEAD).");
    g_autofree char *path = NULL;
    if (!decode_path(rq->uri, strcspn(rq->uri, "?"), &path))
        return bad_request(rq, c, "This address is not valid.");
    if (rq->unsubscribe)
        return send_unsubscribe(rq, c, path, post);
    viewer_of(rq, c);
    bool signed_in = rq->viewer.kind != COR_VIEWER_ANONYMOUS;
    if (strcmp(path, "/search") == 0)
        return send_search(rq, c);
    if (strcmp(path, "/g") == 0)
        return redirect(rq, c, "/g/");
    if (g_str_has_prefix(path, "/g/"))
        return send_group_file(rq, c, path);
    if (signed_in && (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0))
        return send_viewer_page(rq, c, NULL);
    g_autofree char *key = signed_in ? author_key(path) : NULL;
    if (key)
        return send_viewer_page(rq, c, key);
    return send_file(rq, c, rq->http->public_dir, path, CACHE_PUBLIC, NULL, NULL);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
    request_t *rq = *req_cls;
    if (rq == NULL)   /* cannot happen: on_uri always gives one */
        return MHD_NO;
    rq->method = method;
    if (rq->answered) {
        *upload_size = 0;   /* a body after our answer: ignored */
        return MHD_YES;
    }
    /* libmicrohttpd 0.9 closes the connection after a response queued in
     * the first call (the request may have a body it has not read), so a
     * GET or HEAD is answered in the second call, when the request is
     * complete, and a one-click POST in the last, when its body is read;
     * any other method at once (405, and close) */
    if (!rq->headers_seen)
        rq->unsubscribe = unsubscribe_uri(rq->uri);
    bool readable = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
                    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    bool form = rq->unsubscribe && strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if ((readable || form) && !rq->headers_seen) {
        rq->headers_seen = true;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (form && cl && g_ascii_strtoull(cl, NULL, 10) > MAX_FORM)
            return send_error(rq, c, MHD_HTTP_CONTENT_TOO_LARGE, "Request too large",
                              "A request to leave a group is a few bytes long. "
                              "Nothing has changed.");
        if (form)
            rq->form = g_string_new(NULL);
        return MHD_YES;
    }
    if (readable && *upload_size != 0) {
        *upload_size = 0;   /* a body with a GET: ignored */
        return MHD_YES;
    }
    if (form && *upload_size != 0) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (rq->form->len + n > MAX_FORM)
            return send_error(rq, c, MHD_HTTP_CONTENT_TOO_LARGE, "Request too large",
                              "A request to leave a group is a few bytes long. "
                              "Nothing has changed.");
        g_string_append_len(rq->form, upload_data, (gssize) n);
        return MHD_YES;
    }
    enum MHD_Result ret = route(rq, c, method);
    request_release(rq);
    return ret;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    g_autofree char *text = g_strdup_vprintf(fmt, ap);
    g_strchomp(text);
    cor_log_debug("http: libmicrohttpd: %s", text);
}

/* ---- start and stop ---- */

/* "HOST:PORT" / "[V6]:PORT" into a socket address; HOST is an IP literal
 * or "localhost". */
static bool
parse_listen(const char *address, struct sockaddr_storage *ss, socklen_t *len, char **err)
{
    const char *colon = strrchr(address, ':');
    if (colon == NULL || colon == address) {
        *err = g_strdup_printf("listen address '%s': expected HOST:PORT", address);
        return false;
    }
    g_autofree char *host = g_strndup(address, (gsize) (colon - address));
    const char *port_text = colon + 1;
    char *end;
    errno = 0;
    long port = strtol(port_text, &end, 10);
    if (*port_text == '\0' || *end != '\0' || errno || port < 0 || port > 65535) {
        *err = g_strdup_printf("listen address '%s': bad port '%s'", address, port_text);
        return false;
    }
    memset(ss, 0, sizeof *ss);
    size_t hl = strlen(host);
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;
        host[hl - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1) {
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons((uint16_t) port);
            *len = sizeof *in6;
            return true;
        }
        host[hl - 1] = ']';
    } else if (strchr(host, ':')) {
        *err = g_strdup_printf("listen address '%s': put an IPv6 address in brackets "
                               "([::1]:8080)", address);
        return false;
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *) ss;
        const char *ip = strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
        if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
            in->sin_family = AF_INET;
            in->sin_port = htons((uint16_t) port);
            *len = sizeof *in;
            return true;
        }
    }
    *err = g_strdup_printf("listen address '%s': '%s' is not an IP address", address, host);
    return false;
}

/* 127.0.0.0/8 or ::1 */
static bool
is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *) ss)->sin_addr.s_addr) >> 24) == 127;
    return ss->ss_family == AF_INET6 &&
           IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *) ss)->sin6_addr);
}

/* The port and family a listening socket is bound to. */
static void
bound_port(int fd, int *port, int *family)
{
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    *port = 0;
    if (getsockname(fd, (struct sockaddr *) &bound, &blen) == 0) {
        *family = bound.ss_family;
        *port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *) &bound)->sin_port
                                                 : ((struct sockaddr_in6 *) &bound)->sin6_port);
    }
}

/* A listening socket on `address`, or -2 (bad or refused address) or -1
 * (cannot bind) with *err. */
static int
bind_listener(const char *address, bool allow_remote, int *port, int *family, char **err)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    if (!parse_listen(address, &ss, &len, err))
        return -2;
    /* the archive sits behind a front web server on this machine, which
     * does TLS and sign-in: nothing else is exposed unless told */
    if (!allow_remote && !is_loopback(&ss)) {
        *err = g_strdup_printf("HTTP listen address '%s' is not loopback (127.0.0.0/8, [::1]): "
                               "put nginx or Apache in front, or set [http] allow_remote = true",
                               address);
        return -2;
    }
    *family = ss.ss_family;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        *err = g_strdup_printf("cannot listen for HTTP on '%s': %s", address, g_strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *) &ss, len) != 0 || listen(fd, 128) != 0) {
        int e = errno;
        *err = g_strdup_printf("cannot listen for HTTP on '%s': %s%s", address, g_strerror(e),
                               e == EADDRINUSE ? " (is another server using the port?)" : "");
        close(fd);
        return -1;
    }
    bound_port(fd, port, family);
    return fd;
}

/* [http] allow_remote of `cfg` (NULL: the default, false). */
static bool
allow_remote(const cor_config_t *cfg)
{
    return cfg && cor_config_bool(cfg, "http", "allow_remote");
}

cor_status_t
cor_http_bind(const char *listen, const cor_config_t *cfg, int *fd, char **err)
{
    int port, family = AF_INET;
    *err = NULL;
    *fd = bind_listener(listen, allow_remote(cfg), &port, &family, err);
    return *fd >= 0 ? COR_OK : *fd == -2 ? COR_ERR_CONFIG : COR_ERR_IO;
}

/* True when openat2 works here (kernel >= 5.6 and no seccomp filter). */
static bool
probe_openat2(const char *dir)
{
    int rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return false;
    struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_BENEATH };
    int fd = (int) syscall(SYS_openat2, rootfd, ".", &how, sizeof how);
    bool ok = fd >= 0 || (errno != ENOSYS && errno != EPERM);
    if (fd >= 0)
        close(fd);
    close(rootfd);
    return ok;
}

static void
http_free(cor_http_t *h)
{
    if (h->idle)
        g_ptr_array_free(h->idle, TRUE);
    g_mutex_clear(&h->lock);
    if (h->trusted_proxies)
        g_array_free(h->trusted_proxies, TRUE);
    g_strfreev(h->officers);
    g_free(h->listen);
    g_free(h->store_path);
    g_free(h->index_path);
    g_free(h->public_dir);
    g_free(h->restricted_dir);
    g_free(h->trusted_header);
    g_free(h->user_domain);
    cor_tmpl_set_free(h->tmpl);
    g_free(h->site_title);
    g_free(h->organisation);
    g_free(h->list_domain);
    g_free(h);
}

/* The templates of the one-click pages: the built-in ones, then the
 * council's ([archive] templates), as cor_archive_open loads them, so that
 * these pages share the archive's layout and partials. */
static cor_status_t
load_templates(cor_http_t *h, const cor_config_t *cfg, char **err)
{
    h->tmpl = cor_tmpl_set_new();
    GResource *res = cor_web_get_resource();
    g_auto(GStrv) names = g_resource_enumerate_children(res, "/corridor/templates",
                                                         G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
    if (names == NULL) {
        *err = g_strdup("the built-in templates are missing from this build");
        return COR_ERR_INTERNAL;
    }
    for (char **n = names; *n; n++) {
        g_autofree char *path = g_strdup_printf("/corridor/templates/%s", *n);
        g_autoptr(GBytes) b = g_resource_lookup_data(res, path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
        if (b == NULL)
            continue;
        gsize len;
        const char *text = g_bytes_get_data(b, &len);
        g_autofree char *origin = g_strdup_printf("built-in %s", *n);
        cor_status_t s = cor_tmpl_set_add(h->tmpl, *n, text, len, origin, err);
        if (s != COR_OK)
            return s;
    }
    const char *dir = cor_config_string(cfg, "archive", "templates");
    if (dir && *dir) {
        cor_status_t s = cor_tmpl_set_add_dir(h->tmpl, dir, err);
        if (s != COR_OK)
            return s;
    }
    h->site_title = g_strdup(cor_config_string(cfg, "archive", "site_title"));
    h->organisation = g_strdup(cor_config_string(cfg, "archive", "organisation"));
    h->list_domain = g_strdup(cor_config_list_domain(cfg));
    h->site = (rnd_site_t){
        .tmpl = h->tmpl,
        .title = h->site_title,
        .organisation = h->organisation,
        .url = "",
    };
    return COR_OK;
}

/* Reads the [http] settings into h. */
static cor_status_t
read_settings(cor_http_t *h, const cor_config_t *cfg, char **err)
{
    g_autoptr(cor_config_t) defaults = NULL;
    if (cfg == NULL) {
        if (cor_config_load(NULL, false, &defaults, err) != COR_OK)
            return COR_ERR_CONFIG;
        cfg = defaults;
    }
    h->trusted_header = g_strstrip(g_strdup(cor_config_string(cfg, "http", "trusted_header")));
    const char *domain = cor_config_string(cfg, "http", "user_domain");
    while (*domain == '@')
        domain++;
    h->user_domain = g_ascii_strdown(domain, -1);
    h->trusted_proxies = g_array_new(FALSE, TRUE, sizeof(ip_t));
    for (const char *const *p = cor_config_list(cfg, "http", "trusted_proxies"); *p; p++) {
        ip_t ip;
        if (!parse_ip(*p, &ip)) {
            *err = g_strdup_printf("[http] trusted_proxies: '%s' is not an IP address", *p);
            return COR_ERR_CONFIG;
        }
        g_array_append_val(h->trusted_proxies, ip);
    }
    /* [records] officers and its older name [http] officers, made one list
     * in one place (the list the audit trail records) */
    h->officers = g_strdupv((char **) cor_config_officers(cfg));
    int64_t n = cor_config_int(cfg, "http", "results_per_page");
    h->per_page = n <= 0 ? 20 : n > MAX_PER_PAGE ? MAX_PER_PAGE : (int) n;
    h->shutdown_ms = cor_config_int(cfg, "daemon", "shutdown_timeout") * 1000;
    return load_templates(h, cfg, err);
}

void
cor_http_set_officers(cor_http_t *h, const cor_config_t *cfg)
{
    if (h == NULL || cfg == NULL)
        return;
    char **now = g_strdupv((char **) cor_config_officers(cfg));
    g_mutex_lock(&h->lock);
    char **old = h->officers;
    h->officers = now;
    g_mutex_unlock(&h->lock);
    g_strfreev(old);
}

cor_status_t
cor_http_start(const cor_http_options_t *o, cor_http_t **out, char **err)
{
    char *e = NULL;
    *out = NULL;
    if (err)
        *err = NULL;
    if (o == NULL || o->listen == NULL || o->store_path == NULL || o->index_path == NULL ||
        o->archive == NULL) {
        if (err)
            *err = g_strdup("cor_http_start: listen, store_path, index_path and archive "
                            "are required");
        if (o && o->listen_fd > 0)
            close(o->listen_fd);
        return COR_ERR_INVALID;
    }
    int fd = o->listen_fd > 0 ? o->listen_fd : -1;
    cor_http_t *h = g_new0(cor_http_t, 1);
    g_mutex_init(&h->lock);
    h->idle = g_ptr_array_new_with_free_func((GDestroyNotify) free_handles);
    h->listen = g_strdup(o->listen);
    h->store_path = g_strdup(o->store_path);
    h->index_path = g_strdup(o->index_path);
    h->archive = o->archive;
    h->public_dir = g_strdup(cor_archive_public_dir(o->archive));
    h->restricted_dir = g_strdup(cor_archive_restricted_dir(o->archive));
    cor_status_t s = read_settings(h, o->config, &e);
    if (s != COR_OK) {
        if (fd >= 0)
            close(fd);   /* a listen_fd is ours, also on failure */
        goto fail;
    }
    h->use_openat2 = probe_openat2(h->public_dir);

    int family = AF_INET;
    if (fd >= 0)
        bound_port(fd, &h->port, &family);
    else
        fd = bind_listener(o->listen, allow_remote(o->config), &h->port, &family, &e);
    if (fd < 0) {
        s = fd == -2 ? COR_ERR_CONFIG : COR_ERR_IO;
        goto fail;
    }
    unsigned threads = o->threads > 0 ? (unsigned) o->threads : 2;
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
                                 MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
                                 MHD_OPTION_LISTEN_SOCKET, (MHD_socket) fd,
                                 MHD_OPTION_THREAD_POOL_SIZE, threads,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) CONNECTION_TIMEOUT,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned) CONNECTION_LIMIT,
                                 MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                                 MHD_OPTION_END);
    if (h->daemon == NULL) {
        /* on failure the socket is still ours (it is libmicrohttpd's only
         * once started) */
        close(fd);
        e = g_strdup_printf("cannot listen for HTTP on '%s': libmicrohttpd did not start "
                            "(see the debug log)", o->listen);
        s = COR_ERR_IO;
        goto fail;
    }
    cor_log_info("listening for HTTP on %s (port %d, %u threads)", o->listen, h->port, threads);
    *out = h;
    return COR_OK;
fail:
    if (err)
        *err = e;
    else
        g_free(e);
    http_free(h);
    return s;
}

int
cor_http_port(const cor_http_t *h)
{
    return h ? h->port : 0;
}

void
cor_http_stop(cor_http_t *h)
{
    if (h == NULL)
        return;
    if (h->daemon) {
        MHD_socket ls = MHD_quiesce_daemon(h->daemon);
        if (ls != MHD_INVALID_SOCKET)
            close(ls);
        gint64 deadline = g_get_monotonic_time() + h->shutdown_ms * 1000;
        while (g_atomic_int_get(&h->in_flight) > 0 && g_get_monotonic_time() < deadline)
            g_usleep(10 * 1000);
        if (g_atomic_int_get(&h->in_flight) > 0)
            cor_log_info("http: stopping with %d requests unanswered",
                         g_atomic_int_get(&h->in_flight));
        MHD_stop_daemon(h->daemon);
    }
    http_free(h);
}
