/* mta-bridge/outbound.c — the outbound worker (outbound.h). */
#include "mta-bridge/outbound.h"

#include <curl/curl.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/links.h"
#include "core/listconf.h"
#include "core/log.h"
#include "core/store.h"
#include "mta-bridge/control.h"
#include "mta-bridge/listcopy.h"

#define FETCH_MAX 512           /* rows read from the outbox at a time */
#define POLICY_TTL_US (2 * G_USEC_PER_SEC)
#define MAX_BACKOFF 3600
#define IDLE_WAIT_MS 5000
#define RECORD_BUSY_MS 200     /* longest wait for the store's lock with transfers in flight */
#define UNSTICK_US (5 * G_USEC_PER_SEC)    /* look for retry times the clock left behind */

/* What a copy is built from: a post's prepared copy, or a generated
 * message's bytes.  Shared by the transfers of one outbox row. */
typedef struct source {
    int64_t outbox;
    cor_copy_t *copy;          /* kind 'post' */
    GBytes *body;              /* anything else */
    char *group;               /* the group's name ("" for none) */
    bool staff_only;           /* a post of a staff-only group */
    guint users;
    int64_t used;              /* monotonic time last used */
} source_t;

typedef struct slot {
    CURL *easy;
    cor_outbox_item_t *it;     /* NULL when free */
    source_t *src;
    struct curl_slist *rcpt;
    char *member_lines;
    const char *piece[3];
    size_t piece_len[3];
    guint cur;
    size_t pos;
    char errbuf[CURL_ERROR_SIZE];
} slot_t;

typedef struct result {
    cor_outbox_item_t *it;
    char *group;
    int kind;                  /* 0 sent, 1 retry, 2 failed for good */
    long code;
    char *error;
} result_t;

typedef struct policy_entry {
    cor_list_policy_t *p;
    int64_t loaded;
} policy_entry_t;

struct cor_outbound {
    char *store_path;
    const cor_config_t *cfg;
    char *relay;
    char *url;                 /* relay with the EHLO name as its path */
    char *base_url;
    char *username, *password, *ca_file;
    long use_ssl;
    bool verify;
    int nslots;
    int64_t timeout_ms, retry_s, max_age_s;
    int64_t busy_ms;           /* [store] busy_timeout */

    cor_store_t *st;
    cor_control_t *control;
    CURLM *multi;
    slot_t *slots;
    int busy;
    GQueue pending;            /* cor_outbox_item_t* read but not started */
    GHashTable *claimed;       /* outbox_rcpt ids pending or in flight */
    GHashTable *sources;       /* outbox id → source_t* */
    GHashTable *policies;      /* group id → policy_entry_t* */
    int64_t cursor;
    int64_t relay_down_until;  /* monotonic µs (a wall clock that jumps must
                                  not stretch or skip the pause); 0: up */
    int down_count;
    int lost_in_row;           /* transfers the relay dropped half-way since the
                                  last one that went through (lost_mid_transfer) */
    GArray *results;           /* finished transfers not yet recorded */
    GHashTable *sockets;       /* fd + 1 of every socket libcurl has open */
    int64_t unstick_last;      /* monotonic µs of the last look for retry
                                  times beyond any back-off (clock went back) */

    int64_t record_busy_since; /* monotonic µs of the first of the results'
                                  writes that found the store locked; 0: none */
    int64_t control_busy_since;/* the same for control mail */
    bool control_due;          /* look for control mail in the next round */
    int64_t control_last;      /* monotonic µs of the last look */

    GThread *thread;
    gint stop;
    gint kicked;
    int64_t drain_deadline;    /* monotonic µs, when stopping */

    GMutex stats_lock;
    cor_outbound_stats_t stats;
};

static int64_t
now_s(void)
{
    return (int64_t) time(NULL);
}

/* Milliseconds the whole queue still waits for the relay (0: go). */
static long
relay_down_ms(const cor_outbound_t *ob)
{
    int64_t left = ob->relay_down_until - g_get_monotonic_time();
    return left > 0 ? (long) ((left + 999) / 1000) : 0;
}

/* ---- sources ---- */

static void
source_free(source_t *s)
{
    cor_copy_free(s->copy);
    if (s->body)
        g_bytes_unref(s->body);
    g_free(s->group);
    g_free(s);
}

static void
policy_entry_free(policy_entry_t *e)
{
    cor_list_policy_free(e->p);
    g_free(e);
}

static const cor_list_policy_t *
policy_for(cor_outbound_t *ob, int64_t group_id, char **err)
{
    int64_t now = g_get_monotonic_time();
    policy_entry_t *e = g_hash_table_lookup(ob->policies, &group_id);
    if (e && now - e->loaded < POLICY_TTL_US)
        return e->p;
    cor_list_policy_t *p = NULL;
    if (cor_list_policy_load(ob->st, ob->cfg, group_id, &p, err) != COR_OK)
        return NULL;
    if (!e) {
        e = g_new0(policy_entry_t, 1);
        int64_t *k = g_new(int64_t, 1);
        *k = group_id;
        g_hash_table_insert(ob->policies, k, e);
    } else {
        cor_list_policy_free(e->p);
    }
    e->p = p;
    e->loaded = now;
    return p;
}

/* Drops sources nobody uses that were not used for a while. */
static void
sources_trim(cor_outbound_t *ob)
{
    if (g_hash_table_size(ob->sources) < 8)
        return;
    int64_t now = g_get_monotonic_time();
    GHashTableIter iter;
    gpointer k, v;
    g_hash_table_iter_init(&iter, ob->sources);
    while (g_hash_table_iter_next(&iter, &k, &v)) {
        source_t *s = v;
        if (s->users == 0 && now - s->used > 2 * G_USEC_PER_SEC)
            g_hash_table_iter_remove(&iter);
    }
}

static source_t *
source_for(cor_outbound_t *ob, const cor_outbox_item_t *it, char **err)
{
    source_t *s = g_hash_table_lookup(ob->sources, &it->outbox);
    if (s)
        return s;
    s = g_new0(source_t, 1);
    s->outbox = it->outbox;
    if (strcmp(it->kind, "post") == 0 && it->msg > 0) {
        const cor_list_policy_t *pol = policy_for(ob, it->group_id, err);
        if (!pol) {
            g_free(s);
            return NULL;
        }
        g_autoptr(GBytes) raw = NULL;
        cor_stored_message_t *m = NULL;
        if (cor_store_message_raw(ob->st, it->msg, &raw) != COR_OK ||
            cor_store_message_get(ob->st, it->msg, &m) != COR_OK) {
            *err = g_strdup(cor_store_error(ob->st));
            cor_stored_message_free(m);
            g_free(s);
            return NULL;
        }
        gsize len;
        const char *bytes = g_bytes_get_data(raw, &len);
        cor_copy_params_t cp = {
            .policy = pol,
            .domain = it->domain,
            .base_url = ob->base_url,
            .message_id = m->message_id,
            .author_addr = m->from_addr,
            .author_name = m->from_name,
        };
        cor_status_t st = cor_copy_prepare(bytes ? bytes : "", len, &cp, &s->copy, err);
        cor_stored_message_free(m);
        if (st != COR_OK) {
            g_free(s);
            return NULL;
        }
        s->group = g_strdup(pol->group);
        s->staff_only = pol->visibility == COR_VISIBILITY_STAFF;
    } else {
        if (cor_store_outbox_body(ob->st, it->outbox, &s->body) != COR_OK || !s->body) {
            *err = g_strdup(cor_store_error(ob->st));
            g_free(s);
            return NULL;
        }
        s->group = g_strdup("");
    }
    int64_t *k = g_new(int64_t, 1);
    *k = it->outbox;
    g_hash_table_insert(ob->sources, k, s);
    return s;
}

/* ---- transfers ---- */

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *data)
{
    slot_t *sl = data;
    size_t room = size * nitems, n = 0;
    while (room > 0 && sl->cur < 3) {
        size_t left = sl->piece_len[sl->cur] - sl->pos;
        if (left == 0) {
            sl->cur++;
            sl->pos = 0;
            continue;
        }
        size_t k = left < room ? left : room;
        memcpy(buf + n, sl->piece[sl->cur] + sl->pos, k);
        sl->pos += k;
        n += k;
        room -= k;
    }
    return n;
}

static void
slot_release(cor_outbound_t *ob, slot_t *sl)
{
    if (sl->src) {
        sl->src->users--;
        sl->src->used = g_get_monotonic_time();
    }
    sl->src = NULL;
    curl_slist_free_all(sl->rcpt);
    sl->rcpt = NULL;
    g_clear_pointer(&sl->member_lines, g_free);
    sl->it = NULL;
    ob->busy--;
}

static void
add_result(cor_outbound_t *ob, cor_outbox_item_t *it, const char *group, int kind, long code,
           const char *error)
{
    result_t r = { it, g_strdup(group ? group : ""), kind, code, g_strdup(error ? error : "") };
    g_array_append_val(ob->results, r);
}

/* libcurl's sockets, kept track of so that the end can close them without
 * a goodbye (cor_outbound_free). */
static curl_socket_t
open_socket(void *data, curlsocktype purpose, struct curl_sockaddr *a)
{
    cor_outbound_t *ob = data;
    curl_socket_t fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd != CURL_SOCKET_BAD)
        g_hash_table_add(ob->sockets, GINT_TO_POINTER(fd + 1));
    return fd;
}

static int
close_socket(void *data, curl_socket_t fd)
{
    cor_outbound_t *ob = data;
    g_hash_table_remove(ob->sockets, GINT_TO_POINTER(fd + 1));
    return close(fd);
}

/* Whether `address` is outside the site's staff domains ([filters]
 * staff_domains; none set: nobody is). */
static bool
outside_staff(const cor_outbound_t *ob, const char *address)
{
    const char *const *staff = cor_config_list(ob->cfg, "filters", "staff_domains");
    return staff && staff[0] && *staff[0] && !cor_address_in_domains(address, staff);
}

static bool
start_one(cor_outbound_t *ob, slot_t *sl, cor_outbox_item_t *it)
{
    g_autofree char *err = NULL;
    source_t *src = source_for(ob, it, &err);
    if (!src) {
        /* the row cannot be built now (the store is busy, the post is gone):
         * a temporary failure, tried again later */
        cor_log_warning("outbound: cannot build the copy for %s: %s", it->address,
                        err ? err : "unknown error");
        add_result(ob, it, NULL, 1, 0, err ? err : "cannot build the copy");
        return false;
    }
    if (src->staff_only && outside_staff(ob, it->address)) {
        /* a member added before `member add` refused outside addresses for
         * a staff-only group, or before staff_domains was set: such a
         * reader may not see the group (as its digests and archive treat
         * them), so the copy is dropped, not sent */
        add_result(ob, it, src->group, 4, 0, NULL);
        return false;
    }
    src->users++;
    src->used = g_get_monotonic_time();
    sl->it = it;
    sl->src = src;
    sl->cur = 0;
    sl->pos = 0;
    g_autofree char *from = NULL;
    if (src->copy) {
        from = cor_link_verp_sender(src->group, it->domain, it->address);
        sl->member_lines = cor_copy_member_lines(src->copy, it->token);
        sl->piece[0] = cor_copy_head(src->copy, &sl->piece_len[0]);
        sl->piece[1] = sl->member_lines;
        sl->piece_len[1] = strlen(sl->member_lines);
        sl->piece[2] = cor_copy_body(src->copy, &sl->piece_len[2]);
    } else {
        from = g_strdup(it->env_from ? it->env_from : "");
        gsize n;
        sl->piece[0] = g_bytes_get_data(src->body, &n);
        sl->piece_len[0] = n;
        sl->piece[1] = sl->piece[2] = "";
        sl->piece_len[1] = sl->piece_len[2] = 0;
    }
    g_autofree char *mail_from = g_strdup_printf("<%s>", from);
    g_autofree char *rcpt = g_strdup_printf("<%s>", it->address);
    sl->rcpt = curl_slist_append(NULL, rcpt);
    CURL *e = sl->easy;
    curl_easy_reset(e);
    curl_easy_setopt(e, CURLOPT_URL, ob->url);
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, mail_from);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, sl->rcpt);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(e, CURLOPT_READDATA, sl);
    curl_easy_setopt(e, CURLOPT_PRIVATE, sl);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, sl->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) ob->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) MIN(ob->timeout_ms, 30000));
    /* every wait for one answer too, which is what bounds the wait for the
     * answer to QUIT when libcurl closes a kept connection (no transfer
     * timeout applies then; libcurl's default is 120 s, and it waits in
     * this thread) */
    curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT, (long) MAX(1, ob->timeout_ms / 1000));
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, ob);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, ob);
    curl_easy_setopt(e, CURLOPT_USE_SSL, ob->use_ssl);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, ob->verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, ob->verify ? 2L : 0L);
    if (ob->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, ob->ca_file);
    if (ob->username) {
        curl_easy_setopt(e, CURLOPT_USERNAME, ob->username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, ob->password ? ob->password : "");
    }
    sl->errbuf[0] = '\0';
    ob->busy++;
    curl_multi_add_handle(ob->multi, e);
    return true;
}

static void
start_transfers(cor_outbound_t *ob)
{
    if (relay_down_ms(ob) > 0 || g_atomic_int_get(&ob->stop))
        return;
    for (int i = 0; i < ob->nslots && !g_queue_is_empty(&ob->pending); i++) {
        slot_t *sl = &ob->slots[i];
        if (sl->it)
            continue;
        cor_outbox_item_t *it = g_queue_pop_head(&ob->pending);
        start_one(ob, sl, it);
    }
}

/* Whom a failed transfer's reply is about.  Only an answer to RCPT TO or to
 * the message's final dot is about this copy: a 5xx there is a bounce, a
 * 4xx a retry of this copy alone.  Anything else — no answer at all, a
 * connection error or time-out, a refusal of the greeting, EHLO/HELO,
 * AUTH, MAIL FROM or DATA — is about the relay (or about us as its
 * client): every copy would get the same, so the whole queue pauses and
 * nobody's copy is dropped or counted as a bounce.  libcurl tells the
 * stages apart only by its error text ("RCPT failed: 550"; a refused final
 * dot is CURLE_WEIRD_SERVER_REPLY with no text of its own); a text it does
 * not recognise counts as the relay's, which errs on the side of retrying
 * rather than dropping. */
static bool
about_the_copy(CURLcode rc, const char *errbuf, long code)
{
    if (code < 400)
        return false;
    if (rc == CURLE_SEND_ERROR && g_str_has_prefix(errbuf, "RCPT failed"))
        return true;
    return rc == CURLE_WEIRD_SERVER_REPLY && errbuf[0] == '\0';
}

/* The relay answered (it greeted us and took commands: the last reply was
 * not an error) and then the connection broke in the middle of the transfer
 * — a reset, a relay restarting, a load balancer's idle cut.  As Postfix
 * does, that copy is deferred and retried; the relay is not taken for down,
 * unless LOST_BEFORE_PAUSE transfers in a row end so. */
#define LOST_BEFORE_PAUSE 3
static bool
lost_mid_transfer(CURLcode rc, long code)
{
    return (rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING) &&
           code > 0 && code < 400;
}

/* The relay cannot take anything now: everything waits, doubling from
 * [outbound] retry up to MAX_BACKOFF while it goes on.  The transfers of
 * one round that fail together are one failure: only the first sets the
 * pause (else four connections timing out at once would double it four
 * times). */
static void
relay_pause(cor_outbound_t *ob, long code, const char *error)
{
    if (relay_down_ms(ob) > 0)
        return;
    int64_t wait = MIN(ob->retry_s << MIN(ob->down_count, 12), MAX_BACKOFF);
    ob->relay_down_until = g_get_monotonic_time() + wait * G_USEC_PER_SEC;
    if (ob->down_count++ > 0)
        return;
    if (code >= 500)
        cor_log_error("outbound: relay %s refuses to take mail from us (%s); nothing is "
                      "dropped, retrying in %" G_GINT64_FORMAT " s", ob->relay, error, wait);
    else if (code >= 400)
        cor_log_warning("outbound: relay %s cannot take mail now (%s); retrying in %"
                        G_GINT64_FORMAT " s", ob->relay, error, wait);
    else
        cor_log_warning("outbound: relay %s unreachable (%s); retrying in %" G_GINT64_FORMAT " s",
                        ob->relay, error, wait);
}

static void
collect_done(cor_outbound_t *ob)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(ob->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        CURLcode rc = msg->data.result;
        slot_t *sl = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **) &sl);
        long code = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
        curl_multi_remove_handle(ob->multi, e);
        cor_outbox_item_t *it = sl->it;
        const char *group = sl->src ? sl->src->group : "";
        if (rc == CURLE_OK) {
            add_result(ob, it, group, 0, 250, NULL);
            ob->down_count = 0;
            ob->lost_in_row = 0;
        } else {
            const char *why = sl->errbuf[0] ? sl->errbuf : curl_easy_strerror(rc);
            g_autofree char *error = code ? g_strdup_printf("%ld: %s", code, why) : g_strdup(why);
            if (lost_mid_transfer(rc, code) && ++ob->lost_in_row < LOST_BEFORE_PAUSE) {
                cor_log_info("outbound: relay %s dropped the connection while taking the %s to "
                             "%s (%s); that copy is retried", ob->relay, it->kind, it->address,
                             error);
                add_result(ob, it, group, 1, code, error);
            } else if (!about_the_copy(rc, sl->errbuf, code)) {
                /* the relay's fault: this copy waits with the rest */
                add_result(ob, it, group, 1, code, error);
                relay_pause(ob, code, error);
            } else if (code >= 500 && code < 600) {
                add_result(ob, it, group, 2, code, error);
            } else {
                add_result(ob, it, group, 1, code, error);
            }
        }
        slot_release(ob, sl);
    }
}

static int64_t
backoff(const cor_outbound_t *ob, int attempts)
{
    int64_t w = ob->retry_s << MIN(attempts, 12);
    return MIN(w, MAX_BACKOFF);
}

/* How long this thread's writes wait for another process's lock.  While
 * transfers are in flight it must not sit in a busy wait: nobody would read
 * the relay's answers, and the transfers would time out after the relay had
 * taken the copies (sent again: duplicates).  So only a short wait then,
 * and the next round tries again; [store] busy_timeout when idle. */
static void
store_wait(cor_outbound_t *ob)
{
    cor_store_set_busy_timeout(ob->st, ob->busy > 0 ? MIN(RECORD_BUSY_MS, ob->busy_ms)
                                                    : ob->busy_ms);
}

/* Logs a write that failed, by how it failed.  The store being locked
 * (another thread or process is writing: COR_ERR_BUSY) while transfers are
 * in flight is expected under load — this thread waits only RECORD_BUSY_MS
 * then — and the next round writes again, so it is a debug line until it
 * has lasted longer than [store] busy_timeout, when it is an error: then
 * something holds the lock for too long.  Any other failure (disk full, I/O)
 * is an error at once.  `*since` tracks the episode; reset on success. */
static void
log_write_failure(cor_outbound_t *ob, int64_t *since, cor_status_t s, const char *what)
{
    int64_t now = g_get_monotonic_time();
    if (s == COR_ERR_BUSY) {
        if (*since == 0)
            *since = now;
        if (now - *since <= ob->busy_ms * 1000) {
            cor_log_debug("outbound: %s: %s (store locked for %" G_GINT64_FORMAT
                          " ms; trying again)", what, cor_store_error(ob->st),
                          (now - *since) / 1000);
            return;
        }
    }
    cor_log_error("outbound: %s: %s (trying again)", what, cor_store_error(ob->st));
}

/* Writes the finished transfers' results in one transaction.  When that
 * fails (another process holds the store's write lock longer than the busy
 * timeout, the disk is full) the results are kept, their rows stay claimed,
 * and the next round tries to write them again: a copy the relay took is
 * never sent again because its "sent" could not be written at once (only a
 * crash before it is written repeats it). */
static void
record_results(cor_outbound_t *ob)
{
    if (ob->results->len == 0)
        return;
    int64_t now = now_s();
    store_wait(ob);
    cor_status_t s = cor_store_begin(ob->st);
    int64_t sent = 0, deferred = 0, failed = 0, withheld = 0;
    g_autoptr(GArray) done = g_array_sized_new(FALSE, FALSE, sizeof(int64_t), ob->results->len);
    for (guint i = 0; s == COR_OK && i < ob->results->len; i++) {
        result_t *r = &g_array_index(ob->results, result_t, i);
        cor_outbox_item_t *it = r->it;
        int kind = r->kind;
        if (kind == 1 && it->created + ob->max_age_s <= now)
            kind = 3;  /* given up */
        switch (kind) {
        case 0:
            g_array_append_val(done, it->id);
            sent++;
            break;
        case 1:
            s = cor_store_outbox_retry(ob->st, it->id, now + backoff(ob, it->attempts), r->error);
            deferred++;
            break;
        case 4:
            cor_log_info("outbound: not sending %s's post to %s: the group is staff-only and "
                         "the address is outside [filters] staff_domains",
                         r->group, it->address);
            g_array_append_val(done, it->id);
            withheld++;
            break;
        default: {
            bool hard = kind == 2 && (r->code == 550 || r->code == 551 || r->code == 553);
            cor_log_warning("outbound: %s to %s %s: %s", it->kind, it->address,
                            kind == 2 ? "refused" : "given up", r->error);
            s = cor_store_outbox_done(ob->st, it->id);
            if (s == COR_OK && it->group_id > 0 && strcmp(it->kind, "post") == 0) {
                g_autofree char *st = g_strdup_printf("%ld", r->code);
                s = cor_control_count_failure(ob->control, ob->st, it->group_id, it->domain,
                                              it->address, hard, r->code ? st : "",
                                              r->error, kind == 2 ? "smtp" : "expired");
            }
            failed++;
            break;
        }
        }
    }
    if (s == COR_OK && done->len > 0)
        s = cor_store_outbox_done_many(ob->st, (const int64_t *) done->data, done->len);
    if (s == COR_OK)
        s = cor_store_commit(ob->st);
    if (s != COR_OK) {
        g_autofree char *what = g_strdup_printf("cannot record %u results", ob->results->len);
        log_write_failure(ob, &ob->record_busy_since, s, what);
        cor_store_rollback(ob->st);
        return;
    }
    ob->record_busy_since = 0;
    for (guint i = 0; i < ob->results->len; i++) {
        result_t *r = &g_array_index(ob->results, result_t, i);
        g_hash_table_remove(ob->claimed, &r->it->id);
        cor_outbox_item_free(r->it);
        g_free(r->group);
        g_free(r->error);
    }
    g_array_set_size(ob->results, 0);
    g_mutex_lock(&ob->stats_lock);
    ob->stats.sent += sent;
    ob->stats.deferred += deferred;
    ob->stats.failed += failed;
    ob->stats.withheld += withheld;
    g_mutex_unlock(&ob->stats_lock);
}

/* Reads due rows nobody has claimed.  Returns how many were added. */
static guint
fetch(cor_outbound_t *ob)
{
    if (g_queue_get_length(&ob->pending) >= (guint) ob->nslots * 4 || relay_down_ms(ob) > 0)
        return 0;
    g_autoptr(GPtrArray) due = NULL;
    if (cor_store_outbox_due(ob->st, now_s(), ob->cursor, FETCH_MAX, &due) != COR_OK) {
        cor_log_warning("outbound: cannot read the outbox: %s", cor_store_error(ob->st));
        return 0;
    }
    guint added = 0;
    for (guint i = 0; i < due->len; i++) {
        cor_outbox_item_t *it = due->pdata[i];
        ob->cursor = it->id;
        if (g_hash_table_contains(ob->claimed, &it->id))
            continue;
        due->pdata[i] = NULL;
        int64_t *k = g_new(int64_t, 1);
        *k = it->id;
        g_hash_table_add(ob->claimed, k);
        g_queue_push_tail(&ob->pending, it);
        added++;
    }
    g_ptr_array_set_free_func(due, (GDestroyNotify) cor_outbox_item_free);
    if (due->len < FETCH_MAX)
        ob->cursor = 0;  /* the end: start from the top next time */
    return added;
}

/* Puts pending rows back (they were never started). */
static void
unclaim_pending(cor_outbound_t *ob)
{
    cor_outbox_item_t *it;
    while ((it = g_queue_pop_head(&ob->pending)) != NULL) {
        g_hash_table_remove(ob->claimed, &it->id);
        cor_outbox_item_free(it);
    }
    ob->cursor = 0;
}

/* Control mail is looked for when the worker is kicked (intake stored
 * some) and otherwise at most every CONTROL_INTERVAL_US: not once per round
 * of a fan-out, where rounds come every few hundred microseconds. */
#define CONTROL_INTERVAL_US (250 * 1000)

static void
run_control(cor_outbound_t *ob)
{
    int64_t now = g_get_monotonic_time();
    if (!ob->control_due && now - ob->control_last < CONTROL_INTERVAL_US)
        return;
    ob->control_due = false;
    ob->control_last = now;
    guint handled = 0, queued = 0;
    store_wait(ob);
    cor_status_t s = cor_control_run(ob->control, ob->st, 50, &handled, &queued);
    if (s != COR_OK)
        log_write_failure(ob, &ob->control_busy_since, s, "control mail");
    else
        ob->control_busy_since = 0;
}

/* Retry times are wall-clock times in the store.  A clock set back (by
 * hours or days: a host that booted with the wrong time, then NTP) would
 * leave copies waiting that long; no back-off ever sets a time further
 * ahead than MAX_BACKOFF, so such copies are made due now.  A clock set
 * forward only makes retries come early.  Looked at every few seconds (an
 * index look-up; nothing is written unless there is something to move). */
static void
unstick(cor_outbound_t *ob)
{
    int64_t mono = g_get_monotonic_time();
    if (ob->unstick_last != 0 && mono - ob->unstick_last < UNSTICK_US)
        return;
    ob->unstick_last = mono;
    int64_t now = now_s(), moved = 0;
    store_wait(ob);
    if (cor_store_outbox_unstick(ob->st, now + MAX_BACKOFF + 60, now, &moved) != COR_OK)
        cor_log_warning("outbound: %s", cor_store_error(ob->st));
    else if (moved > 0)
        cor_log_warning("outbound: %" G_GINT64_FORMAT " cop%s had a retry time beyond any "
                        "back-off (the clock went back?): trying now", moved,
                        moved == 1 ? "y" : "ies");
}

/* Results kept because they could not be recorded, given up at the end
 * (their rows stay queued: sent again, like transfers in flight). */
static void
results_drop(cor_outbound_t *ob)
{
    for (guint i = 0; ob->results && i < ob->results->len; i++) {
        result_t *r = &g_array_index(ob->results, result_t, i);
        g_hash_table_remove(ob->claimed, &r->it->id);
        cor_outbox_item_free(r->it);
        g_free(r->group);
        g_free(r->error);
    }
    if (ob->results)
        g_array_set_size(ob->results, 0);
}

/* One round: control mail, new rows, transfers, results.  Returns the
 * milliseconds to wait for the next round. */
static long
round_once(cor_outbound_t *ob)
{
    run_control(ob);
    unstick(ob);
    fetch(ob);
    start_transfers(ob);
    int running = 0;
    curl_multi_perform(ob->multi, &running);
    collect_done(ob);
    record_results(ob);
    if (ob->busy < ob->nslots && !g_queue_is_empty(&ob->pending)) {
        /* slots freed this round start at once, not at the next wake-up */
        fetch(ob);
        start_transfers(ob);
        curl_multi_perform(ob->multi, &running);
    }
    long down_ms = relay_down_ms(ob);
    if (down_ms > 0 && !g_queue_is_empty(&ob->pending))
        unclaim_pending(ob);
    sources_trim(ob);
    if (ob->busy > 0)
        return 200;
    if (ob->results->len > 0)
        return 1000;                   /* not recorded yet: try again soon */
    if (!g_queue_is_empty(&ob->pending))
        return 0;
    int64_t next = 0;
    cor_store_outbox_next_due(ob->st, &next);
    if (next == 0)
        return IDLE_WAIT_MS;
    int64_t now = now_s();
    if (next <= now && down_ms == 0)
        return ob->cursor ? 0 : 1000;  /* due rows left beyond the cursor: at once */
    long ms = next <= now ? 0 : (long) MIN((next - now) * 1000, IDLE_WAIT_MS);
    return MAX(ms, MIN(down_ms, IDLE_WAIT_MS));
}

static gpointer
worker_main(gpointer data)
{
    cor_outbound_t *ob = data;
    while (true) {
        bool stopping = g_atomic_int_get(&ob->stop);
        if (stopping) {
            unclaim_pending(ob);
            if (ob->busy == 0 || g_get_monotonic_time() >= ob->drain_deadline)
                break;
        }
        long wait = round_once(ob);
        if (g_atomic_int_compare_and_exchange(&ob->kicked, 1, 0)) {
            ob->control_due = true;
            continue;
        }
        if (wait > 0)
            curl_multi_poll(ob->multi, NULL, 0, (int) wait, NULL);
        if (g_atomic_int_compare_and_exchange(&ob->kicked, 1, 0))
            ob->control_due = true;
    }
    /* results not recorded yet get a last chance; transfers still running
     * are abandoned: their rows stay queued */
    record_results(ob);
    results_drop(ob);
    for (int i = 0; i < ob->nslots; i++)
        if (ob->slots[i].it) {
            curl_multi_remove_handle(ob->multi, ob->slots[i].easy);
            g_hash_table_remove(ob->claimed, &ob->slots[i].it->id);
            cor_outbox_item_free(ob->slots[i].it);
            slot_release(ob, &ob->slots[i]);
        }
    return NULL;
}

/* ---- life ---- */

static char *
read_password(const char *file, char **err)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) e = NULL;
    if (!g_file_get_contents(file, &text, NULL, &e)) {
        *err = g_strdup_printf("[outbound] password_file: %s", e->message);
        return NULL;
    }
    char *nl = strpbrk(text, "\r\n");
    if (nl)
        *nl = '\0';
    return g_strdup(text);
}

cor_status_t
cor_outbound_new(const char *store_path, const cor_config_t *cfg, const char *relay,
                 const char *base_url, cor_outbound_t **out, char **err)
{
    *out = NULL;
    *err = NULL;
    static gsize curl_once = 0;
    if (g_once_init_enter(&curl_once)) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        g_once_init_leave(&curl_once, 1);
    }
    const char *r = relay && *relay ? relay : cor_config_string(cfg, "outbound", "relay");
    if (!g_str_has_prefix(r, "smtp://") && !g_str_has_prefix(r, "smtps://")) {
        *err = g_strdup_printf("relay '%s': not an smtp:// or smtps:// URL", r);
        return COR_ERR_CONFIG;
    }
    const char *tls = cor_config_string(cfg, "outbound", "starttls");
    long use_ssl;
    if (strcmp(tls, "try") == 0)
        use_ssl = CURLUSESSL_TRY;
    else if (strcmp(tls, "require") == 0)
        use_ssl = CURLUSESSL_ALL;
    else if (strcmp(tls, "never") == 0)
        use_ssl = CURLUSESSL_NONE;
    else {
        *err = g_strdup_printf("[outbound] starttls: '%s' is not try, require or never", tls);
        return COR_ERR_CONFIG;
    }
    cor_outbound_t *ob = g_new0(cor_outbound_t, 1);
    ob->store_path = g_strdup(store_path);
    ob->cfg = cfg;
    ob->relay = g_strdup(r);
    ob->use_ssl = g_str_has_prefix(r, "smtps://") ? CURLUSESSL_ALL : use_ssl;
    const char *helo = cor_config_string(cfg, "outbound", "helo");
    char host[256] = "localhost";
    if (!helo || !*helo) {
        if (gethostname(host, sizeof host - 1) == 0)
            host[sizeof host - 1] = '\0';
        helo = host;
    }
    /* libcurl takes the EHLO name from the URL's path */
    const char *after = strstr(r, "://") + 3;
    const char *slash = strchr(after, '/');
    ob->url = slash ? g_strdup(r) : g_strdup_printf("%s/%s", r, helo);
    ob->base_url = g_strdup(base_url);
    const char *user = cor_config_string(cfg, "outbound", "username");
    if (user && *user) {
        ob->username = g_strdup(user);
        const char *pf = cor_config_string(cfg, "outbound", "password_file");
        if (pf && *pf && !(ob->password = read_password(pf, err))) {
            cor_outbound_free(ob);
            return COR_ERR_CONFIG;
        }
    }
    const char *ca = cor_config_string(cfg, "outbound", "ca_file");
    ob->ca_file = ca && *ca ? g_strdup(ca) : NULL;
    ob->verify = cor_config_bool(cfg, "outbound", "verify_tls");
    ob->nslots = (int) CLAMP(cor_config_int(cfg, "outbound", "connections"), 1, 256);
    ob->timeout_ms = cor_config_int(cfg, "outbound", "timeout") * 1000;  /* durations are seconds */
    ob->retry_s = MAX(1, cor_config_int(cfg, "outbound", "retry"));
    ob->max_age_s = cor_config_int(cfg, "outbound", "max_age");

    cor_status_t s = cor_store_open(store_path, false, &ob->st, err);
    if (s != COR_OK) {
        cor_outbound_free(ob);
        return s;
    }
    cor_store_set_synchronous(ob->st, false);
    ob->busy_ms = MAX(1, cor_config_int(cfg, "store", "busy_timeout") * 1000);
    cor_store_set_busy_timeout(ob->st, ob->busy_ms);
    ob->control = cor_control_new(cfg, base_url);
    ob->multi = curl_multi_init();
    curl_multi_setopt(ob->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) ob->nslots);
    curl_multi_setopt(ob->multi, CURLMOPT_MAXCONNECTS, (long) ob->nslots);
    ob->slots = g_new0(slot_t, ob->nslots);
    for (int i = 0; i < ob->nslots; i++)
        ob->slots[i].easy = curl_easy_init();
    g_queue_init(&ob->pending);
    ob->claimed = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    ob->sources = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                        (GDestroyNotify) source_free);
    ob->policies = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                         (GDestroyNotify) policy_entry_free);
    ob->results = g_array_new(FALSE, FALSE, sizeof(result_t));
    ob->sockets = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_mutex_init(&ob->stats_lock);
    ob->control_due = true;    /* what waited while the daemon was down */
    *out = ob;
    return COR_OK;
}

void
cor_outbound_free(cor_outbound_t *ob)
{
    if (!ob)
        return;
    if (ob->thread)
        cor_outbound_stop(ob, 0);
    unclaim_pending(ob);
    results_drop(ob);
    for (int i = 0; ob->slots && i < ob->nslots; i++) {
        if (ob->slots[i].it) {
            curl_multi_remove_handle(ob->multi, ob->slots[i].easy);
            cor_outbox_item_free(ob->slots[i].it);
            slot_release(ob, &ob->slots[i]);
        }
        curl_easy_cleanup(ob->slots[i].easy);
    }
    g_free(ob->slots);
    /* Every result is recorded: the connections libcurl keeps are closed
     * without waiting for the relay's answer to QUIT, which a relay that
     * hangs never gives (libcurl would wait up to [outbound] timeout for
     * each connection, holding up the daemon's stop). */
    if (ob->sockets) {
        GHashTableIter iter;
        gpointer k;
        g_hash_table_iter_init(&iter, ob->sockets);
        while (g_hash_table_iter_next(&iter, &k, NULL))
            shutdown(GPOINTER_TO_INT(k) - 1, SHUT_RDWR);
    }
    if (ob->multi)
        curl_multi_cleanup(ob->multi);
    if (ob->sockets)
        g_hash_table_unref(ob->sockets);
    if (ob->claimed)
        g_hash_table_unref(ob->claimed);
    if (ob->sources)
        g_hash_table_unref(ob->sources);
    if (ob->policies)
        g_hash_table_unref(ob->policies);
    if (ob->results)
        g_array_unref(ob->results);
    cor_control_free(ob->control);
    if (ob->st)
        cor_store_close(ob->st);
    g_free(ob->store_path);
    g_free(ob->relay);
    g_free(ob->url);
    g_free(ob->base_url);
    g_free(ob->username);
    g_free(ob->password);
    g_free(ob->ca_file);
    g_mutex_clear(&ob->stats_lock);
    g_free(ob);
}

void
cor_outbound_start(cor_outbound_t *ob)
{
    ob->thread = g_thread_new("outbound", worker_main, ob);
}

void
cor_outbound_kick(cor_outbound_t *ob)
{
    if (!ob)
        return;
    g_atomic_int_set(&ob->kicked, 1);
    curl_multi_wakeup(ob->multi);
}

void
cor_outbound_stop(cor_outbound_t *ob, int64_t drain_ms)
{
    if (!ob || !ob->thread)
        return;
    ob->drain_deadline = g_get_monotonic_time() + drain_ms * 1000;
    g_atomic_int_set(&ob->stop, 1);
    curl_multi_wakeup(ob->multi);
    g_thread_join(ob->thread);
    ob->thread = NULL;
    g_atomic_int_set(&ob->stop, 0);  /* the handle may flush after this */
}

void
cor_outbound_stats(cor_outbound_t *ob, cor_outbound_stats_t *stats)
{
    g_mutex_lock(&ob->stats_lock);
    *stats = ob->stats;
    g_mutex_unlock(&ob->stats_lock);
}

cor_status_t
cor_outbound_flush(cor_outbound_t *ob, bool wait_retries, int64_t deadline_ms,
                   cor_outbound_stats_t *stats, char **err)
{
    *err = NULL;
    int64_t deadline = g_get_monotonic_time() + deadline_ms * 1000;
    ob->control_due = true;
    while (true) {
        long wait = round_once(ob);
        bool idle = ob->busy == 0 && g_queue_is_empty(&ob->pending) &&
                    (ob->results->len == 0 || g_get_monotonic_time() >= deadline);
        if (idle) {
            int64_t next = 0;
            cor_store_outbox_next_due(ob->st, &next);
            bool due_now = next != 0 && next <= now_s() && relay_down_ms(ob) == 0;
            /* the deadline bounds waiting for retries, never sending what
             * is due now (each transfer has its own timeout, and a dead
             * relay pauses the queue, which ends the wait) */
            if (!due_now && (!wait_retries || next == 0 || g_get_monotonic_time() >= deadline))
                break;
        }
        if (wait > 0)
            curl_multi_poll(ob->multi, NULL, 0, (int) MIN(wait, 1000), NULL);
    }
    /* give the transfers in flight their chance, then record */
    while (ob->busy > 0 && g_get_monotonic_time() < deadline + 30 * G_USEC_PER_SEC) {
        int running = 0;
        curl_multi_perform(ob->multi, &running);
        collect_done(ob);
        record_results(ob);
        if (ob->busy > 0)
            curl_multi_poll(ob->multi, NULL, 0, 200, NULL);
    }
    record_results(ob);
    unclaim_pending(ob);
    cor_outbound_stats(ob, stats);
    int64_t queued = 0;
    cor_store_outbox_count(ob->st, &queued, NULL);
    stats->queued = queued;
    return COR_OK;
}
