/* digest/digest.c — building a member's digest from the store, and making
 * it exactly once (digest.h).  The formats are in format.c. */
#include "digest/digest.h"

#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/links.h"
#include "core/listconf.h"
#include "core/log.h"
#include "core/message.h"
#include "core/visibility.h"
#include "digest/model.h"

/* the built-in templates, compiled in (digest/Makefile.local) */
GResource *cor_digest_res_get_resource(void);

#define WRAP 72                /* columns an excerpt line is counted in */
#define MAX_REFS 10            /* References ids a Reply link carries */
#define RUN_BATCH 100          /* people per transaction in cor_digest_run, */
#define RUN_BATCH_US 200000    /* or fewer when it has taken this long */

/* ---- formats and the clock ---- */

static const char *const format_names[] = { "multipart", "rfc1153", "mime" };

const char *
cor_digest_format_to_string(cor_digest_format_t f)
{
    return (size_t) f < G_N_ELEMENTS(format_names) ? format_names[f] : "multipart";
}

cor_status_t
cor_digest_format_from_string(const char *s, cor_digest_format_t *out)
{
    for (size_t i = 0; s && i < G_N_ELEMENTS(format_names); i++)
        if (strcmp(s, format_names[i]) == 0) {
            *out = (cor_digest_format_t) i;
            return COR_OK;
        }
    return COR_ERR_INVALID;
}

static int64_t
parse_time(const char *text, bool *ok)
{
    g_autofree char *t = g_strstrip(g_strdup(text));
    char *end = NULL;
    gint64 v = g_ascii_strtoll(t, &end, 10);
    *ok = true;
    if (*t && end && *end == '\0')
        return v;
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(t, NULL);
    if (dt)
        return g_date_time_to_unix(dt);
    *ok = false;
    return 0;
}

int64_t
cor_digest_now(void)
{
    bool ok = false;
    const char *file = g_getenv("CORRIDOR_NOW_FILE");
    if (file && *file) {
        g_autofree char *text = NULL;
        if (g_file_get_contents(file, &text, NULL, NULL)) {
            int64_t v = parse_time(text, &ok);
            if (ok)
                return v;
        }
        cor_log_warning("CORRIDOR_NOW_FILE '%s' holds no time: using the clock", file);
    }
    const char *env = g_getenv("CORRIDOR_NOW");
    if (env && *env) {
        int64_t v = parse_time(env, &ok);
        if (ok)
            return v;
        cor_log_warning("CORRIDOR_NOW '%s' is not a time: using the clock", env);
    }
    return (int64_t) time(NULL);
}

bool
cor_digest_clock_simulated(void)
{
    const char *file = g_getenv("CORRIDOR_NOW_FILE");
    const char *env = g_getenv("CORRIDOR_NOW");
    return (file && *file) || (env && *env);
}

/* ---- English dates ---- */

static const char *const wday_short[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const char *const wday_long[] = { "Monday", "Tuesday", "Wednesday", "Thursday",
                                         "Friday", "Saturday", "Sunday" };
static const char *const month_short[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const month_long[] = { "January", "February", "March", "April", "May",
                                          "June", "July", "August", "September", "October",
                                          "November", "December" };

static GDateTime *
local(const cor_digest_site_t *site, int64_t t)
{
    g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(t);
    return g_date_time_to_timezone(utc, site->tz);
}

char *
dg_time_short(const cor_digest_site_t *site, int64_t t)
{
    g_autoptr(GDateTime) d = local(site, t);
    return g_strdup_printf("%s %d %s %02d:%02d", wday_short[g_date_time_get_day_of_week(d) - 1],
                           g_date_time_get_day_of_month(d),
                           month_short[g_date_time_get_month(d) - 1],
                           g_date_time_get_hour(d), g_date_time_get_minute(d));
}

char *
dg_day_long(const cor_digest_site_t *site, int64_t t)
{
    g_autoptr(GDateTime) d = local(site, t);
    return g_strdup_printf("%s %d %s %d", wday_long[g_date_time_get_day_of_week(d) - 1],
                           g_date_time_get_day_of_month(d),
                           month_long[g_date_time_get_month(d) - 1],
                           g_date_time_get_year(d));
}

char *
dg_date_rfc5322(const cor_digest_site_t *site, int64_t t)
{
    g_autoptr(GDateTime) d = local(site, t);
    int64_t off = g_date_time_get_utc_offset(d) / G_TIME_SPAN_MINUTE;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    return g_strdup_printf("%s, %02d %s %d %02d:%02d:%02d %c%02d%02d",
                           wday_short[g_date_time_get_day_of_week(d) - 1],
                           g_date_time_get_day_of_month(d),
                           month_short[g_date_time_get_month(d) - 1],
                           g_date_time_get_year(d), g_date_time_get_hour(d),
                           g_date_time_get_minute(d), g_date_time_get_second(d), sign,
                           (int) (off / 60), (int) (off % 60));
}

char *
dg_iso(const cor_digest_site_t *site, int64_t t)
{
    g_autoptr(GDateTime) d = local(site, t);
    return g_date_time_format(d, "%Y-%m-%dT%H:%M:%S%:z");
}

/* ---- the site ---- */

static void
excerpt_free(gpointer p)
{
    dg_excerpt_t *e = p;
    g_strfreev(e->lines);
    g_free(e->body);
    g_free(e);
}

static void thread_free(gpointer p);

static void
shared_free(gpointer p)
{
    dg_shared_t *sh = p;
    g_ptr_array_unref(sh->threads);
    g_ptr_array_unref(sh->authors);
    g_free(sh->text);
    g_free(sh->html[0]);
    g_free(sh->html[1]);
    g_free(sh);
}

cor_status_t
cor_digest_site_new(const cor_config_t *cfg, const char *base_url, cor_digest_site_t **out,
                    char **err)
{
    *out = NULL;
    *err = NULL;
    const char *tzname = cor_config_string(cfg, "digest", "timezone");
    GTimeZone *tz = g_time_zone_new_identifier(tzname && *tzname ? tzname : "Europe/London");
    if (!tz) {
        *err = g_strdup_printf("[digest] timezone: '%s' is not a time zone this system knows",
                               tzname);
        return COR_ERR_CONFIG;
    }
    const char *dt = cor_config_string(cfg, "digest", "time");
    const char *dd = cor_config_string(cfg, "digest", "day");
    g_autofree char *why_time = NULL, *why_day = NULL;
    if (cor_list_setting_check("digest_time", dt, &why_time) != COR_OK ||
        cor_list_setting_check("digest_day", dd, &why_day) != COR_OK) {
        /* "digest_time: '7' is not a time HH:MM" -> "[digest] time: ..." */
        const char *why = why_time ? why_time : why_day ? why_day : "digest_time";
        *err = g_strdup_printf("[digest] %s", why + strlen("digest_"));
        g_time_zone_unref(tz);
        return COR_ERR_CONFIG;
    }
    cor_digest_site_t *s = g_new0(cor_digest_site_t, 1);
    s->cfg = cfg;
    s->tz = tz;
    s->base_url = g_strdup(base_url);
    s->domain = g_strdup(cor_config_list_domain(cfg));
    s->default_time = g_strdup(dt);
    s->default_day = g_strdup(dd);
    int64_t lines = cor_config_int(cfg, "digest", "excerpt_lines");
    s->excerpt_lines = lines < 1 ? 1 : lines > 100 ? 100 : (int) lines;
    s->max_age = cor_config_int(cfg, "digest", "max_age");
    s->excerpts = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, excerpt_free);
    s->shared = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, shared_free);
    s->policies = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                        (GDestroyNotify) cor_list_policy_free);
    s->tmpl = cor_tmpl_set_new();

    GResource *res = cor_digest_res_get_resource();
    g_auto(GStrv) names = g_resource_enumerate_children(res, "/corridor/digest/templates",
                                                        G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
    for (char **n = names; n && *n; n++) {
        g_autofree char *path = g_strdup_printf("/corridor/digest/templates/%s", *n);
        g_autoptr(GBytes) b = g_resource_lookup_data(res, path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
        g_autofree char *origin = g_strdup_printf("built-in %s", *n);
        gsize len = 0;
        const char *text = b ? g_bytes_get_data(b, &len) : "";
        cor_status_t st = cor_tmpl_set_add(s->tmpl, *n, text, len, origin, err);
        if (st != COR_OK) {
            cor_digest_site_free(s);
            return st;
        }
    }
    const char *dir = cor_config_string(cfg, "digest", "templates");
    if (dir && *dir) {
        cor_status_t st = cor_tmpl_set_add_dir(s->tmpl, dir, err);
        if (st != COR_OK) {
            cor_digest_site_free(s);
            return st == COR_ERR_FORMAT ? COR_ERR_CONFIG : st;
        }
    }
    *out = s;
    return COR_OK;
}

void
cor_digest_site_free(cor_digest_site_t *site)
{
    if (!site)
        return;
    g_free(site->base_url);
    g_free(site->domain);
    g_free(site->default_time);
    g_free(site->default_day);
    if (site->tz)
        g_time_zone_unref(site->tz);
    cor_tmpl_set_free(site->tmpl);
    if (site->excerpts)
        g_hash_table_unref(site->excerpts);
    if (site->shared)
        g_hash_table_unref(site->shared);
    if (site->policies)
        g_hash_table_unref(site->policies);
    g_free(site);
}

void
cor_digest_site_on_commit(cor_digest_site_t *site, bool (*fn)(void *data), void *data)
{
    site->on_commit = fn;
    site->on_commit_data = data;
}

void
dg_site_forget(cor_digest_site_t *site)
{
    g_hash_table_remove_all(site->shared);
    g_hash_table_remove_all(site->excerpts);
    g_hash_table_remove_all(site->policies);
}

/* ---- excerpts ---- */

/* The byte offset of the first `n` characters of `s`, cut back to the
 * last space before them when there is one past the first third. */
static size_t
cut_at_word(const char *s, glong n)
{
    const char *end = g_utf8_offset_to_pointer(s, n);
    const char *sp = end;
    while (sp > s && *sp != ' ')
        sp--;
    if (sp > s && g_utf8_pointer_to_offset(s, sp) > n / 3)
        end = sp;
    return (size_t) (end - s);
}

/* The first `max_lines` lines (counted as wrapped at WRAP columns) of
 * `text`, blank runs made one paragraph break, trailing spaces gone. */
static dg_excerpt_t *
make_excerpt(const char *text, int max_lines)
{
    dg_excerpt_t *e = g_new0(dg_excerpt_t, 1);
    GPtrArray *out = g_ptr_array_new();
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
    int used = 0;
    bool blank = false;
    for (char **l = lines; *l; l++) {
        char *line = g_strchomp(*l);
        /* tabs and other controls as spaces */
        for (char *p = line; *p; p++)
            if ((unsigned char) *p < ' ')
                *p = ' ';
        if (!*line) {
            blank = out->len > 0;
            continue;
        }
        if (used >= max_lines) {
            e->cut = true;
            break;
        }
        if (blank) {
            g_ptr_array_add(out, g_strdup(""));
            blank = false;
        }
        glong chars = g_utf8_strlen(line, -1);
        int need = (int) ((chars + WRAP - 1) / WRAP);
        if (need < 1)
            need = 1;
        if (used + need > max_lines) {
            size_t keep = cut_at_word(line, (glong) (max_lines - used) * WRAP - 2);
            g_ptr_array_add(out, g_strndup(line, keep));
            e->cut = true;
            used = max_lines;
            break;
        }
        g_ptr_array_add(out, g_strdup(line));
        used += need;
    }
    if (e->cut && out->len > 0) {
        char *last = out->pdata[out->len - 1];
        out->pdata[out->len - 1] = g_strdup_printf("%s …", g_strchomp(last));
        g_free(last);
    }
    g_ptr_array_add(out, NULL);
    e->lines = (char **) g_ptr_array_free(out, FALSE);
    return e;
}

/* The excerpt of message `msg`, parsed from its original once per site. */
static cor_status_t
excerpt_for(cor_digest_site_t *site, cor_store_t *st, int64_t msg, const dg_excerpt_t **out,
            char **err)
{
    dg_excerpt_t *e = g_hash_table_lookup(site->excerpts, &msg);
    if (!e) {
        g_autoptr(GBytes) raw = NULL;
        cor_status_t s = cor_store_message_raw(st, msg, &raw);
        if (s != COR_OK) {
            *err = g_strdup(cor_store_error(st));
            return s;
        }
        gsize len = 0;
        const char *data = g_bytes_get_data(raw, &len);
        g_autoptr(cor_message_t) m = NULL;
        g_autofree char *why = NULL;
        if (cor_message_parse(data, len, 0, &m, &why) == COR_OK) {
            e = make_excerpt(m->new_text, site->excerpt_lines);
            e->body = g_strdup(m->body);
        } else {
            /* invariant 1 of message.h: only input with no header block */
            e = make_excerpt("", site->excerpt_lines);
            e->body = g_strdup("");
        }
        gint64 *key = g_new(gint64, 1);
        *key = msg;
        g_hash_table_insert(site->excerpts, key, e);
    }
    *out = e;
    return COR_OK;
}

/* ---- links ---- */

/* The subject without its reply markers ("Re:", "RE: AW:") (transfer full). */
static char *
strip_reply(const char *subject)
{
    const char *p = subject;
    while (true) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (g_ascii_strncasecmp(p, "re:", 3) == 0 || g_ascii_strncasecmp(p, "aw:", 3) == 0 ||
            g_ascii_strncasecmp(p, "sv:", 3) == 0) {
            p += 3;
            continue;
        }
        break;
    }
    return g_strdup(p);
}

/* mailto:GROUP@DOMAIN?In-Reply-To=<id>&References=<...> <id>&subject=Re: ...
 * (RFC 6068), each value percent-encoded */
static char *
reply_mailto(const char *group_addr, const char *message_id, const char *refs,
             const char *subject)
{
    g_auto(GStrv) ids = g_strsplit(refs ? refs : "", " ", -1);
    GPtrArray *all = g_ptr_array_new();
    for (char **r = ids; *r; r++)
        if (**r && strcmp(*r, message_id) != 0)
            g_ptr_array_add(all, *r);
    g_ptr_array_add(all, (gpointer) message_id);
    /* a long chain: the first (the thread's root) and the last ones */
    GString *r = g_string_new(NULL);
    for (guint i = 0; i < all->len; i++) {
        if (all->len > MAX_REFS && i > 0 && i < all->len - (MAX_REFS - 1))
            continue;
        g_string_append_printf(r, "%s<%s>", r->len ? " " : "", (char *) all->pdata[i]);
    }
    g_ptr_array_unref(all);
    g_autofree char *irt = g_strdup_printf("<%s>", message_id);
    g_autofree char *bare = strip_reply(subject);
    g_autofree char *re = g_strdup_printf("Re: %s", bare);
    g_autofree char *e_to = cor_link_percent_encode(group_addr, "@");
    g_autofree char *e_irt = cor_link_percent_encode(irt, "@");
    g_autofree char *e_refs = cor_link_percent_encode(r->str, "@");
    g_autofree char *e_subj = cor_link_percent_encode(re, "@");
    g_string_free(r, TRUE);
    return g_strdup_printf("mailto:%s?In-Reply-To=%s&References=%s&subject=%s", e_to, e_irt,
                           e_refs, e_subj);
}

/* ---- the model ---- */

static void
post_free(gpointer p)
{
    dg_post_t *x = p;
    g_free(x->message_id);
    g_free(x->subject);
    g_free(x->author);
    g_free(x->from_addr);
    g_free(x->permalink);
    g_free(x->reply);
    g_free(x);
}

static void
thread_free(gpointer p)
{
    dg_thread_t *t = p;
    g_free(t->subject);
    g_ptr_array_unref(t->posts);
    g_free(t);
}

static void
section_free(gpointer p)
{
    dg_section_t *s = p;
    g_free(s->group);
    g_free(s->title);
    g_free(s->address);
    g_free(s->request);
    g_free(s->leave);
    g_free(s->archive_url);
    g_free(s->unsubscribe_url);
    g_free(s->schedule);
    if (s->threads)
        g_ptr_array_unref(s->threads);
    if (s->own)
        shared_free(s->own);
    g_free(s);
}

void
cor_digest_free(cor_digest_t *d)
{
    if (!d)
        return;
    g_free(d->address);
    g_free(d->name);
    g_free(d->scope);
    g_free(d->title);
    g_free(d->stop_url);
    if (d->sections)
        g_ptr_array_unref(d->sections);
    if (d->groups)
        g_ptr_array_unref(d->groups);
    g_free(d);
}

/* collects a section's posts (cor_store_digest_posts callback) */
typedef struct collect {
    cor_digest_t *d;
    dg_section_t *sec;
    dg_shared_t *sh;
    GHashTable *by_thread;     /* thread id -> dg_thread_t* (borrowed) */
} collect_t;

static cor_status_t
collect_post(const cor_store_digest_post_t *p, void *data)
{
    collect_t *c = data;
    const cor_digest_site_t *site = c->d->site;
    /* history (an import), not news: [digest] max_age — never less than a
     * weekly digest's week and a day */
    int64_t max_age = site->max_age;
    if (max_age > 0 && c->sec->weekly && max_age < 8 * 86400)
        max_age = 8 * 86400;
    if (max_age > 0 && p->date < c->d->now - max_age)
        return COR_OK;
    dg_thread_t *t = g_hash_table_lookup(c->by_thread, &p->thread);
    if (!t) {
        t = g_new0(dg_thread_t, 1);
        t->id = p->thread;
        t->first_seq = p->seq;
        t->posts = g_ptr_array_new_with_free_func(post_free);
        g_ptr_array_add(c->sh->threads, t);
        g_hash_table_insert(c->by_thread, &t->id, t);
    }
    dg_post_t *x = g_new0(dg_post_t, 1);
    x->seq = p->seq;
    x->msg = p->msg;
    x->date = p->date;
    x->message_id = g_strdup(p->message_id);
    x->subject = g_strdup(p->subject);
    x->author = g_strdup(*p->from_name ? p->from_name : *p->from_addr ? p->from_addr : "(unknown)");
    x->from_addr = g_ascii_strdown(p->from_addr, -1);
    x->has_attachments = p->has_attachments;
    x->permalink = cor_link_message_url(site->base_url, c->sec->group, p->message_id);
    x->reply = reply_mailto(c->sec->address, p->message_id, p->refs, p->subject);
    g_ptr_array_add(t->posts, x);
    return COR_OK;
}

static gint
post_by_date(gconstpointer a, gconstpointer b)
{
    const dg_post_t *x = *(dg_post_t *const *) a, *y = *(dg_post_t *const *) b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static gint
thread_by_first_post(gconstpointer a, gconstpointer b)
{
    const dg_thread_t *x = *(dg_thread_t *const *) a, *y = *(dg_thread_t *const *) b;
    if (!x->posts->len || !y->posts->len)
        return (int) x->posts->len - (int) y->posts->len;
    return post_by_date(&x->posts->pdata[0], &y->posts->pdata[0]);
}

/* A section for membership `m` (schedule and addresses; no posts yet). */
static cor_status_t
new_section(cor_digest_t *d, cor_store_t *st, const cor_digest_membership_t *m,
            dg_section_t **out, char **err)
{
    cor_digest_site_t *site = d->site;
    cor_list_policy_t *pol = g_hash_table_lookup(site->policies, &m->group_id);
    if (!pol) {
        cor_status_t s = cor_list_policy_load(st, site->cfg, m->group_id, &pol, err);
        if (s != COR_OK)
            return s;
        gint64 *key = g_new(gint64, 1);
        *key = m->group_id;
        g_hash_table_insert(site->policies, key, pol);
    }
    dg_section_t *sec = g_new0(dg_section_t, 1);
    sec->group_id = m->group_id;
    sec->group = g_strdup(m->group);
    sec->title = g_strdup(*m->title ? m->title : m->group);
    sec->address = g_strdup_printf("%s@%s", m->group, site->domain);
    sec->request = g_strdup_printf("%s-request@%s", m->group, site->domain);
    sec->leave = g_strdup_printf("%s-leave@%s", m->group, site->domain);
    sec->archive_url = cor_link_group_url(site->base_url, m->group);
    sec->unsubscribe_url = *m->token ? cor_link_unsubscribe_url(site->base_url, m->token) : NULL;
    /* a combined digest goes on the site's schedule, a group's on its own */
    const char *day = d->combined ? site->default_day : pol->digest_day;
    const char *at = d->combined ? site->default_time : pol->digest_time;
    sec->weekly = strcmp(day, "daily") != 0;
    sec->schedule = sec->weekly
        ? g_strdup_printf("weekly, on %c%s at %s", g_ascii_toupper(day[0]), day + 1, at)
        : g_strdup_printf("daily at %s", at);
    sec->after = m->after;
    sec->last_at = m->last_at;
    *out = sec;
    return COR_OK;
}

/* A copy of `sh` without the posts whose messages.id is in `shown`
 * (gint64* set), for one digest only; NULL when it has none of them (use
 * `sh` itself).  Threads left empty go.  Transfer full (shared_free). */
static dg_shared_t *
shared_without(const dg_shared_t *sh, GHashTable *shown)
{
    bool any = false;
    for (guint t = 0; t < sh->threads->len && !any; t++) {
        const dg_thread_t *th = sh->threads->pdata[t];
        for (guint k = 0; k < th->posts->len && !any; k++)
            any = g_hash_table_contains(shown, &((dg_post_t *) th->posts->pdata[k])->msg);
    }
    if (!any)
        return NULL;
    dg_shared_t *v = g_new0(dg_shared_t, 1);
    v->threads = g_ptr_array_new_with_free_func(thread_free);
    v->authors = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint t = 0; t < sh->threads->len; t++) {
        const dg_thread_t *th = sh->threads->pdata[t];
        dg_thread_t *c = NULL;
        for (guint k = 0; k < th->posts->len; k++) {
            dg_post_t *p = th->posts->pdata[k];
            if (g_hash_table_contains(shown, &p->msg))
                continue;
            if (!c) {
                c = g_new0(dg_thread_t, 1);
                *c = *th;
                c->subject = g_strdup(th->subject);
                c->posts = g_ptr_array_new();  /* the posts stay `sh`'s */
                g_ptr_array_add(v->threads, c);
                if (c->earlier == 0)
                    v->new_threads++;
            }
            g_ptr_array_add(c->posts, p);
            v->posts++;
            if (g_hash_table_add(seen, p->from_addr))
                g_ptr_array_add(v->authors, g_strdup(p->from_addr));
        }
    }
    return v;
}

/* The threads of `sec`'s group with posts (sec->after, d->upto] (see
 * dg_shared_t); *out transfer full (into the site's cache). */
static cor_status_t
shared_build(cor_digest_t *d, cor_store_t *st, dg_section_t *sec, dg_shared_t **out, char **err)
{
    cor_digest_site_t *site = d->site;
    dg_shared_t *sh = g_new0(dg_shared_t, 1);
    sh->threads = g_ptr_array_new_with_free_func(thread_free);
    sh->authors = g_ptr_array_new_with_free_func(g_free);
    collect_t c = { d, sec, sh, g_hash_table_new(g_int64_hash, g_int64_equal) };
    cor_status_t s = cor_store_digest_posts(st, sec->group_id, sec->after, d->upto, collect_post, &c);
    g_hash_table_unref(c.by_thread);
    if (s != COR_OK)
        *err = g_strdup(cor_store_error(st));
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint t = 0; t < sh->threads->len && s == COR_OK; t++) {
        dg_thread_t *th = sh->threads->pdata[t];
        int64_t total = 0;
        if ((s = cor_store_digest_thread(st, th->id, sec->after, d->upto, &th->subject,
                                         &th->earlier, &total)) != COR_OK) {
            *err = g_strdup(cor_store_error(st));
            break;
        }
        if (!*th->subject) {
            g_free(th->subject);
            th->subject = g_strdup("(no subject)");
        }
        g_ptr_array_sort(th->posts, post_by_date);
    }
    /* threads in the order their first new post was written, not the order
     * the MTA happened to deliver them in (Postfix delivers in parallel) */
    if (s == COR_OK)
        g_ptr_array_sort(sh->threads, thread_by_first_post);
    for (guint t = 0; t < sh->threads->len && s == COR_OK; t++) {
        dg_thread_t *th = sh->threads->pdata[t];
        for (guint k = 0; k < th->posts->len; k++) {
            dg_post_t *p = th->posts->pdata[k];
            if ((s = excerpt_for(site, st, p->msg, &p->ex, err)) != COR_OK)
                break;
            if (g_hash_table_add(seen, p->from_addr))
                g_ptr_array_add(sh->authors, g_strdup(p->from_addr));
            sh->posts++;
        }
        if (th->earlier == 0)
            sh->new_threads++;
    }
    if (s != COR_OK) {
        shared_free(sh);
        return s;
    }
    *out = sh;
    return COR_OK;
}

/* Everything but the read transaction. */
static cor_status_t
build(cor_digest_t *d, cor_store_t *st, char **err)
{
    cor_digest_site_t *site = d->site;
    g_autoptr(GPtrArray) ms = NULL;
    cor_status_t s = cor_store_digest_memberships(st, d->address, &ms);
    g_autofree char *format = NULL;
    if (s == COR_OK)
        s = cor_store_digest_prefs_get(st, d->address, &d->combined, &format);
    if (s == COR_OK)
        s = cor_store_post_seq(st, &d->upto);
    if (s != COR_OK) {
        *err = g_strdup(cor_store_error(st));
        return s;
    }
    if (cor_digest_format_from_string(format, &d->format) != COR_OK) {
        cor_log_warning("%s: unknown digest format '%s': sending multipart", d->address, format);
        d->format = COR_DIGEST_MULTIPART;
    }
    bool all = strcmp(d->scope, "*") == 0;
    d->combined = all;
    d->from = d->upto;
    /* someone outside the staff domains reads as a guest: never a
     * staff-only group, even one they were added to */
    const char *const *staff = cor_config_list(site->cfg, "filters", "staff_domains");
    bool outside = staff && staff[0] && *staff[0] && !cor_address_in_domains(d->address, staff);
    cor_viewer_t viewer = { outside ? COR_VIEWER_GUEST : COR_VIEWER_STAFF, d->address };
    for (guint i = 0; i < ms->len; i++) {
        const cor_digest_membership_t *m = ms->pdata[i];
        if (!all && strcmp(m->group, d->scope) != 0)
            continue;
        if (!*d->name && *m->name) {
            g_free(d->name);
            d->name = g_strdup(m->name);
        }
        /* invariant 5 (DESIGN.md): asked of visibility.c, as this member */
        cor_group_t g = { .id = m->group_id, .name = m->group, .title = m->title,
                          .visibility = m->visibility };
        bool allowed = false;
        if ((s = cor_visibility_can_see(st, &viewer, &g, &allowed)) != COR_OK) {
            *err = g_strdup(cor_store_error(st));
            return s;
        }
        if (!allowed)
            continue;
        dg_section_t *sec = NULL;
        if ((s = new_section(d, st, m, &sec, err)) != COR_OK)
            return s;
        g_ptr_array_add(d->groups, sec);
        if (m->after < d->from)
            d->from = m->after;
        if (m->last_at > d->last_at)
            d->last_at = m->last_at;
    }
    if (d->groups->len == 0) {
        *err = all ? g_strdup_printf("%s gets no digests (no group in digest mode)", d->address)
                   : g_strdup_printf("%s is not in digest mode in %s", d->address, d->scope);
        return COR_ERR_NOT_FOUND;
    }
    if (all) {
        /* its one-click stop link names the person by their token in one
         * of its groups (the first that has one) */
        for (guint i = 0; i < ms->len && !d->stop_url; i++) {
            const cor_digest_membership_t *m = ms->pdata[i];
            if (*m->token)
                d->stop_url = cor_link_digest_stop_url(site->base_url, m->token);
        }
    }
    /* a combined digest goes on the site's schedule; a group's on its own */
    d->weekly = all ? strcmp(site->default_day, "daily") != 0
                    : ((dg_section_t *) d->groups->pdata[0])->weekly;

    GHashTable *people = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) shown = g_hash_table_new(g_int64_hash, g_int64_equal);
    for (guint i = 0; i < d->groups->len; i++) {
        dg_section_t *sec = d->groups->pdata[i];
        /* everyone who gets this group's posts (after, upto] now sees the
         * same threads: made once per run (dg_shared_t) */
        g_autofree char *key = g_strdup_printf("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT ":%"
                                               G_GINT64_FORMAT ":%" G_GINT64_FORMAT ":%d",
                                               sec->group_id, sec->after, d->upto, d->now,
                                               sec->weekly);
        dg_shared_t *sh = g_hash_table_lookup(site->shared, key);
        if (!sh) {
            if ((s = shared_build(d, st, sec, &sh, err)) != COR_OK)
                break;
            g_hash_table_insert(site->shared, g_steal_pointer(&key), sh);
        }
        sec->shared = sh;
        /* a post sent to two of a person's groups is shown once, in the
         * first of them (by name): later sections get a view without it */
        if (all && i > 0) {
            dg_shared_t *view = shared_without(sh, shown);
            if (view) {
                sec->own = view;
                sec->shared = sh = view;
            }
        }
        for (guint t = 0; all && t < sh->threads->len; t++) {
            const dg_thread_t *th = sh->threads->pdata[t];
            for (guint k = 0; k < th->posts->len; k++)
                g_hash_table_add(shown, &((dg_post_t *) th->posts->pdata[k])->msg);
        }
        sec->threads = g_ptr_array_ref(sh->threads);
        d->counts.posts += sh->posts;
        d->counts.threads += sh->threads->len;
        d->counts.new_threads += sh->new_threads;
        for (guint k = 0; k < sh->authors->len; k++)
            g_hash_table_add(people, sh->authors->pdata[k]);
        if (sec->threads->len > 0) {
            g_ptr_array_add(d->sections, sec);
            d->counts.groups++;
        }
    }
    d->counts.people = g_hash_table_size(people);
    d->counts.replies = d->counts.posts - d->counts.new_threads;
    g_hash_table_unref(people);
    if (s != COR_OK)
        return s;

    g_autofree char *day = dg_day_long(site, d->now);
    const char *kind = d->weekly ? "weekly digest" : "digest";
    if (all)
        d->title = g_strdup_printf("Your %s, %s", kind, day);
    else
        d->title = g_strdup_printf("%s %s, %s", ((dg_section_t *) d->groups->pdata[0])->title,
                                   kind, day);
    return COR_OK;
}

cor_status_t
cor_digest_build(cor_digest_site_t *site, cor_store_t *st, const char *address, const char *scope,
                 int64_t now, cor_digest_t **out, char **err)
{
    *out = NULL;
    *err = NULL;
    cor_digest_t *d = g_new0(cor_digest_t, 1);
    d->site = site;
    d->address = g_ascii_strdown(address, -1);
    d->name = g_strdup("");
    d->scope = g_strdup(scope);
    d->now = now;
    d->groups = g_ptr_array_new_with_free_func(section_free);
    d->sections = g_ptr_array_new();
    /* one snapshot: the sequence read and the posts read agree (a post
     * committed meanwhile is in neither, so it goes into the next digest) */
    bool own = !cor_store_in_transaction(st);
    cor_status_t s = own ? cor_store_begin_read(st) : COR_OK;
    if (s != COR_OK) {
        *err = g_strdup(cor_store_error(st));
        cor_digest_free(d);
        return s;
    }
    s = build(d, st, err);
    if (own)
        cor_store_end_read(st);
    if (s != COR_OK) {
        cor_digest_free(d);
        return s;
    }
    *out = d;
    return COR_OK;
}

cor_status_t
cor_digest_scopes(cor_store_t *st, const char *address, GPtrArray **out, char **err)
{
    *out = NULL;
    *err = NULL;
    g_autoptr(GPtrArray) ms = NULL;
    bool combined = false;
    g_autofree char *format = NULL;
    cor_status_t s = cor_store_digest_memberships(st, address, &ms);
    if (s == COR_OK)
        s = cor_store_digest_prefs_get(st, address, &combined, &format);
    if (s != COR_OK) {
        *err = g_strdup(cor_store_error(st));
        return s;
    }
    GPtrArray *list = g_ptr_array_new_with_free_func(g_free);
    if (combined && ms->len > 0)
        g_ptr_array_add(list, g_strdup("*"));
    else
        for (guint i = 0; i < ms->len; i++)
            g_ptr_array_add(list, g_strdup(((cor_digest_membership_t *) ms->pdata[i])->group));
    *out = list;
    return COR_OK;
}

/* ---- reading it ---- */

bool
cor_digest_empty(const cor_digest_t *d)
{
    return d->counts.posts == 0;
}

void
cor_digest_get_counts(const cor_digest_t *d, cor_digest_counts_t *out)
{
    *out = d->counts;
}

int64_t
cor_digest_from(const cor_digest_t *d)
{
    return d->from;
}

int64_t
cor_digest_upto(const cor_digest_t *d)
{
    return d->upto;
}

cor_digest_format_t
cor_digest_format(const cor_digest_t *d)
{
    return d->format;
}

const char *
cor_digest_subject(const cor_digest_t *d)
{
    return d->title;
}

char *
cor_digest_env_from(const cor_digest_t *d)
{
    const dg_section_t *sec = d->sections->len ? d->sections->pdata[0] : d->groups->pdata[0];
    return cor_link_verp_sender(sec->group, d->site->domain, d->address);
}

static const char *
plural(int64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

char *
dg_summary(const cor_digest_t *d)
{
    const cor_digest_counts_t *c = &d->counts;
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "%" G_GINT64_FORMAT " new %s, %" G_GINT64_FORMAT " %s, %"
                           G_GINT64_FORMAT " %s",
                           c->new_threads, plural(c->new_threads, "conversation", "conversations"),
                           c->replies, plural(c->replies, "reply", "replies"),
                           c->people, plural(c->people, "person", "people"));
    if (d->combined)
        g_string_append_printf(s, " in %" G_GINT64_FORMAT " %s", c->groups,
                               plural(c->groups, "group", "groups"));
    return g_string_free(s, FALSE);
}

char *
dg_since(const cor_digest_t *d)
{
    if (d->last_at <= 0)
        return NULL;
    g_autofree char *t = dg_time_short(d->site, d->last_at);
    /* "Tue 4 Mar 07:00" -> "Tue 4 Mar at 07:00" */
    char *sp = strrchr(t, ' ');
    if (sp)
        *sp = '\0';
    return g_strdup_printf("New since your last digest on %s at %s.", t, sp ? sp + 1 : "");
}

/* ---- exactly once ---- */

cor_status_t
cor_digest_queue(cor_digest_site_t *site, cor_store_t *st, const char *address, const char *scope,
                 const char *period, int64_t now, bool keep_empty, cor_digest_record_t **rec,
                 char **err)
{
    if (rec)
        *rec = NULL;
    *err = NULL;
    if (!cor_store_in_transaction(st)) {
        *err = g_strdup("a digest is queued inside a write transaction");
        return COR_ERR_INTERNAL;
    }
    cor_digest_record_t *old = NULL;
    cor_status_t s = cor_store_digest_get(st, address, scope, period, &old);
    if (s == COR_OK) {
        if (rec)
            *rec = old;
        else
            cor_digest_record_free(old);
        return COR_DUPLICATE;
    }
    if (s != COR_ERR_NOT_FOUND) {
        *err = g_strdup(cor_store_error(st));
        return s;
    }
    g_autoptr(cor_digest_t) d = NULL;
    if ((s = cor_digest_build(site, st, address, scope, now, &d, err)) != COR_OK)
        return s;
    cor_digest_record_t r = {
        .address = d->address,
        .scope = d->scope,
        .period = (char *) period,
        .from_seq = d->from,
        .upto_seq = d->upto,
        .state = (char *) (cor_digest_empty(d) ? "empty" : "queued"),
        .posts = d->counts.posts,
        .created = now,
    };
    g_autofree char *bytes = NULL, *mid = NULL, *env = NULL;
    if (!cor_digest_empty(d)) {
        size_t len = 0;
        if ((s = cor_digest_message(d, st, d->format, &bytes, &len, &mid, err)) != COR_OK)
            return s;
        env = cor_digest_env_from(d);
        const dg_section_t *first = d->sections->pdata[0];
        const char *rcpts[] = { d->address, NULL };
        if ((s = cor_store_outbox_add(st, "digest", first->group_id, site->domain, env, bytes, len,
                                      rcpts, &r.outbox)) != COR_OK) {
            *err = g_strdup(cor_store_error(st));
            return s;
        }
        r.message_id = mid;
    }
    if (!cor_digest_empty(d) || keep_empty) {
        s = cor_store_digest_add(st, &r);
        if (s != COR_OK) {
            *err = g_strdup(cor_store_error(st));
            return s;
        }
    }
    if (rec) {
        cor_digest_record_t *c = g_new0(cor_digest_record_t, 1);
        *c = r;
        c->address = g_strdup(r.address);
        c->scope = g_strdup(r.scope);
        c->period = g_strdup(r.period);
        c->state = g_strdup(r.state);
        c->message_id = g_strdup(r.message_id ? r.message_id : "");
        *rec = c;
    }
    return COR_OK;
}

/* ---- the schedule ---- */

static const char *const weekday_names[] = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
};

/* The slot of (`time`, `day`) most recently begun at or before `now`. */
static int64_t
latest_slot(GTimeZone *tz, const char *time_, const char *day, int64_t now, char **period)
{
    unsigned h = 7, m = 0;
    if (sscanf(time_, "%u:%u", &h, &m) != 2 || h > 23 || m > 59)
        h = 7, m = 0;
    int want = 0;  /* 0: daily; 1..7: Monday..Sunday */
    for (int i = 0; i < 7; i++)
        if (strcmp(day, weekday_names[i]) == 0)
            want = i + 1;
    g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(now);
    g_autoptr(GDateTime) today = g_date_time_to_timezone(utc, tz);
    for (int back = 0; back <= 8; back++) {
        g_autoptr(GDateTime) day_dt = g_date_time_add_days(today, -back);
        /* the wall-clock time on that local day; GLib moves a time that
         * does not exist (in the hour skipped in March) forward */
        g_autoptr(GDateTime) slot = g_date_time_new(tz, g_date_time_get_year(day_dt),
                                                    g_date_time_get_month(day_dt),
                                                    g_date_time_get_day_of_month(day_dt),
                                                    (gint) h, (gint) m, 0);
        if (!slot)
            continue;
        if (want && g_date_time_get_day_of_week(slot) != want)
            continue;
        int64_t at = g_date_time_to_unix(slot);
        if (at > now)
            continue;
        *period = g_date_time_format(slot, "%Y-%m-%d");
        return at;
    }
    *period = NULL;
    return 0;
}

/* The first slot of (`time`, `day`) that begins after `now`. */
static int64_t
next_slot_after(GTimeZone *tz, const char *time_, const char *day, int64_t now)
{
    unsigned h = 7, m = 0;
    if (sscanf(time_, "%u:%u", &h, &m) != 2 || h > 23 || m > 59)
        h = 7, m = 0;
    int want = 0;
    for (int i = 0; i < 7; i++)
        if (strcmp(day, weekday_names[i]) == 0)
            want = i + 1;
    g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(now);
    g_autoptr(GDateTime) today = g_date_time_to_timezone(utc, tz);
    for (int ahead = 0; ahead <= 8; ahead++) {
        g_autoptr(GDateTime) day_dt = g_date_time_add_days(today, ahead);
        g_autoptr(GDateTime) slot = g_date_time_new(tz, g_date_time_get_year(day_dt),
                                                    g_date_time_get_month(day_dt),
                                                    g_date_time_get_day_of_month(day_dt),
                                                    (gint) h, (gint) m, 0);
        if (!slot || (want && g_date_time_get_day_of_week(slot) != want))
            continue;
        int64_t at = g_date_time_to_unix(slot);
        if (at > now)
            return at;
    }
    return now + 24 * 3600;  /* not reached: some day within 8 has the slot */
}

cor_status_t
cor_digest_next_slot(cor_digest_site_t *site, cor_store_t *st, int64_t now, int64_t *next,
                     char **err)
{
    *err = NULL;
    *next = next_slot_after(site->tz, site->default_time, site->default_day, now);
    g_autoptr(GPtrArray) groups = NULL;
    if (cor_store_group_list(st, false, &groups) != COR_OK) {
        *err = g_strdup(cor_store_error(st));
        return COR_ERR_STORE;
    }
    for (guint i = 0; i < groups->len; i++) {
        const cor_group_t *g = groups->pdata[i];
        g_autoptr(cor_list_policy_t) pol = NULL;
        g_autofree char *why = NULL;
        if (cor_list_policy_load(st, site->cfg, g->id, &pol, &why) != COR_OK)
            continue;  /* deleted meanwhile */
        int64_t at = next_slot_after(site->tz, pol->digest_time, pol->digest_day, now);
        if (at < *next)
            *next = at;
    }
    return COR_OK;
}

cor_status_t
cor_digest_slot(cor_digest_site_t *site, cor_store_t *st, const char *scope, int64_t now,
                char **period, int64_t *began, char **err)
{
    *period = NULL;
    *began = 0;
    *err = NULL;
    g_autofree char *time_ = NULL, *day = NULL;
    if (strcmp(scope, "*") == 0) {
        time_ = g_strdup(site->default_time);
        day = g_strdup(site->default_day);
    } else {
        g_autoptr(cor_group_t) g = NULL;
        cor_status_t s = cor_store_group_get(st, scope, &g);
        if (s != COR_OK) {
            *err = g_strdup_printf("no group '%s'", scope);
            return s;
        }
        g_autoptr(cor_list_policy_t) pol = NULL;
        if ((s = cor_list_policy_load(st, site->cfg, g->id, &pol, err)) != COR_OK)
            return s;
        time_ = g_strdup(pol->digest_time);
        day = g_strdup(pol->digest_day);
    }
    *began = latest_slot(site->tz, time_, day, now, period);
    if (!*period) {
        *err = g_strdup_printf("no digest slot for %s before now", scope);
        return COR_ERR_INTERNAL;
    }
    return COR_OK;
}

/* The people of one run: everyone in digest mode, or those of `group`. */
static cor_status_t
run_people(cor_store_t *st, const char *group, GPtrArray **out, char **err)
{
    if (!group) {
        cor_status_t s = cor_store_digest_addresses(st, out);
        if (s != COR_OK)
            *err = g_strdup(cor_store_error(st));
        return s;
    }
    g_autoptr(cor_group_t) g = NULL;
    cor_status_t s = cor_store_group_get(st, group, &g);
    if (s != COR_OK) {
        *err = g_strdup_printf("no such group '%s'", group);
        return s;
    }
    g_autoptr(GPtrArray) members = NULL;
    if ((s = cor_store_member_details(st, g->id, &members)) != COR_OK) {
        *err = g_strdup(cor_store_error(st));
        return s;
    }
    *out = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < members->len; i++) {
        const cor_member_detail_t *m = members->pdata[i];
        if (strcmp(m->m.mode, "digest") == 0 && strcmp(m->m.status, "enabled") == 0)
            g_ptr_array_add(*out, g_strdup(m->m.address));
    }
    return COR_OK;
}

static cor_status_t run(cor_digest_site_t *site, cor_store_t *st, const char *group, int64_t now,
                        bool all_now, cor_digest_run_stats_t *stats, char **err);

cor_status_t
cor_digest_run(cor_digest_site_t *site, cor_store_t *st, const char *group, int64_t now,
               bool all_now, cor_digest_run_stats_t *stats, char **err)
{
    memset(stats, 0, sizeof *stats);
    *err = NULL;
    dg_site_forget(site);
    cor_status_t s = run(site, st, group, now, all_now, stats, err);
    dg_site_forget(site);
    return s;
}

static cor_status_t
run(cor_digest_site_t *site, cor_store_t *st, const char *group, int64_t now, bool all_now,
    cor_digest_run_stats_t *stats, char **err)
{
    g_autoptr(GPtrArray) people = NULL;
    cor_status_t s = run_people(st, group, &people, err);
    if (s != COR_OK)
        return s;
    g_autofree char *now_period = NULL;
    if (all_now) {
        g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(now);
        now_period = g_date_time_format(utc, "now-%Y-%m-%dT%H:%M:%SZ");
    }
    /* the slot of each scope, worked out once per run */
    g_autoptr(GHashTable) slots = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    /* several people per transaction (one fsync for them all), but the
     * write lock is never held for long: intake waits for it */
    int64_t txn_started = 0;
    guint in_txn = 0;
    for (guint i = 0; i < people->len; i++) {
        const char *address = people->pdata[i];
        stats->people++;
        g_autoptr(GPtrArray) scopes = NULL;
        g_clear_pointer(err, g_free);
        if (in_txn == 0) {
            if ((s = cor_store_begin(st)) != COR_OK) {
                *err = g_strdup(cor_store_error(st));
                return s;
            }
            txn_started = g_get_monotonic_time();
        }
        in_txn++;
        if ((s = cor_digest_scopes(st, address, &scopes, err)) != COR_OK) {
            cor_store_rollback(st);
            return s;
        }
        for (guint k = 0; k < scopes->len && s == COR_OK; k++) {
            const char *scope = scopes->pdata[k];
            if (group && strcmp(scope, group) != 0 && strcmp(scope, "*") != 0)
                continue;
            const char *period = now_period;
            if (!period) {
                period = g_hash_table_lookup(slots, scope);
                if (!period) {
                    char *p = NULL;
                    int64_t began = 0;
                    if ((s = cor_digest_slot(site, st, scope, now, &p, &began, err)) != COR_OK)
                        break;
                    g_hash_table_insert(slots, g_strdup(scope), p);
                    period = p;
                }
            }
            g_autoptr(cor_digest_record_t) rec = NULL;
            g_clear_pointer(err, g_free);
            s = cor_digest_queue(site, st, address, scope, period, now, !all_now, &rec, err);
            if (s == COR_DUPLICATE) {
                stats->done_before++;
                s = COR_OK;
            } else if (s == COR_ERR_NOT_FOUND) {
                s = COR_OK;  /* their membership changed since the list was read */
            } else if (s == COR_OK) {
                if (strcmp(rec->state, "queued") == 0)
                    stats->queued++;
                else
                    stats->empty++;
            }
        }
        if (s != COR_OK) {
            cor_store_rollback(st);
            return s;
        }
        /* the commit is the moment of truth: each digest's outbox row and
         * its record, or neither (a digest not committed is made again by
         * the next run, from the same start) */
        bool last = i + 1 == people->len;
        if (last || in_txn >= RUN_BATCH ||
            g_get_monotonic_time() - txn_started >= RUN_BATCH_US) {
            if ((s = cor_store_commit(st)) != COR_OK) {
                *err = g_strdup(cor_store_error(st));
                cor_store_rollback(st);
                return s;
            }
            in_txn = 0;
            if (site->on_commit && !site->on_commit(site->on_commit_data))
                return COR_OK;  /* stopped: the rest wait for the next run */
        }
    }
    return COR_OK;
}
