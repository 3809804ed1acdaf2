/* digest/model.h — the digest's model, shared by digest.c (which builds it
 * from the store) and format.c (which writes it as text, HTML, RFC 1153 or
 * MIME).  Nothing outside digest/ includes this. */
#ifndef COR_DIGEST_MODEL_H
#define COR_DIGEST_MODEL_H

#include "core/config.h"
#include "core/template.h"
#include "digest/digest.h"

/* What a digest shows of one message: made once per message and kept in
 * the site's cache (a run makes the same excerpt for every member). */
typedef struct dg_excerpt {
    char **lines;              /* the first lines of its new text, NULL-terminated;
                                  "" between paragraphs; empty: no new text */
    bool cut;                  /* there was more */
    char *body;                /* the whole text body (RFC 1153) */
} dg_excerpt_t;

/* What every member who gets one group's posts (after, upto] at one time
 * is shown of it: built once per run and shared by their digests
 * (read-only once made, except the renderings, made on first use).  A run
 * of 10,000 digests of 100 groups builds about 100 of these. */
typedef struct dg_shared {
    GPtrArray *threads;        /* dg_thread_t*, by first_seq */
    int64_t posts;             /* posts shown */
    int64_t new_threads;       /* threads begun after `after` */
    GPtrArray *authors;        /* distinct lower-case author addresses (char*) */
    char *text;                /* its threads as text (cor_digest_text), or NULL */
    char *html[2];             /* its threads as HTML, [combined] (h2/h3 headings) */
} dg_shared_t;

struct cor_digest_site {
    const cor_config_t *cfg;
    char *base_url;            /* ends in '/' */
    char *domain;              /* the list domain */
    GTimeZone *tz;
    int excerpt_lines;
    int64_t max_age;           /* seconds; 0: none */
    char *default_time;        /* [digest] time, "HH:MM" */
    char *default_day;         /* [digest] day */
    cor_tmpl_set_t *tmpl;
    GHashTable *excerpts;      /* messages.id (gint64*) -> dg_excerpt_t* */
    GHashTable *shared;        /* "group:after:upto:now:weekly" -> dg_shared_t* */
    GHashTable *policies;      /* group id (gint64*) -> cor_list_policy_t* */
    bool (*on_commit)(void *data);
    void *on_commit_data;
};

/* Forgets what the site remembers between digests (excerpts, shared
 * sections, group settings): at the start and end of each run, so a
 * long-lived site (the daemon's) sees changed settings and does not grow. */
void dg_site_forget(cor_digest_site_t *site);

typedef struct dg_post {
    int64_t seq, msg, date;
    char *message_id;
    char *subject;
    char *author;              /* the name, else the address */
    char *from_addr;
    bool has_attachments;
    const dg_excerpt_t *ex;    /* borrowed from the site's cache */
    char *permalink;           /* absolute URL of its archive page */
    char *reply;               /* mailto: URI (RFC 6068) */
} dg_post_t;

typedef struct dg_thread {
    int64_t id;
    char *subject;             /* of its earliest accepted post */
    int64_t earlier;           /* accepted posts before this digest (0: new) */
    int64_t first_seq;         /* of its first post here (the order) */
    GPtrArray *posts;          /* dg_post_t*, by date */
} dg_thread_t;

typedef struct dg_section {
    int64_t group_id;
    char *group, *title;
    char *address;             /* GROUP@DOMAIN */
    char *request;             /* GROUP-request@DOMAIN */
    char *leave;               /* GROUP-leave@DOMAIN */
    char *archive_url;         /* BASE/g/GROUP/ */
    char *unsubscribe_url;     /* BASE/u/TOKEN, NULL when no token */
    char *schedule;            /* "daily at 07:00", "weekly on monday at 07:00" */
    bool weekly;
    int64_t after;             /* its posts have seq > after */
    int64_t last_at;
    dg_shared_t *shared;       /* borrowed from the site's cache, or `own` */
    dg_shared_t *own;          /* a view of it for this digest alone (a
                                  combined digest leaves out a post shown in
                                  an earlier section), or NULL */
    GPtrArray *threads;        /* shared->threads (a reference) */
} dg_section_t;

struct cor_digest {
    cor_digest_site_t *site;   /* borrowed */
    char *address;
    char *name;                /* the member's name, "" when unknown */
    char *scope;               /* group name or "*" */
    bool combined;
    cor_digest_format_t format;
    int64_t now, from, upto;
    int64_t last_at;           /* their last digest for these groups, 0: none */
    bool weekly;
    GPtrArray *groups;         /* dg_section_t*: every group in scope, by name */
    GPtrArray *sections;       /* borrowed from groups: those with posts */
    cor_digest_counts_t counts;
    char *title;               /* "Planning digest, Tuesday 4 March 2025" */
    char *stop_url;            /* combined: BASE/u/TOKEN/digest (one click), or NULL */
};

/* English dates in the site's time zone, whatever the locale (transfer full):
 * "Tue 4 Mar 09:14", "Tuesday 4 March 2025", "Tue, 04 Mar 2025 09:14:00 +0000",
 * "09:14" */
char *dg_time_short(const cor_digest_site_t *site, int64_t t);
char *dg_day_long(const cor_digest_site_t *site, int64_t t);
char *dg_date_rfc5322(const cor_digest_site_t *site, int64_t t);
char *dg_iso(const cor_digest_site_t *site, int64_t t);

/* "2 new conversations, 3 replies, 4 people" (transfer full) */
char *dg_summary(const cor_digest_t *d);
/* "New since your last digest on Mon 3 Mar at 07:00." or NULL */
char *dg_since(const cor_digest_t *d);

#endif
