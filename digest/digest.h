/* digest/digest.h — daily and weekly digests: what one member is sent.
 *
 * Purpose: a member in 'digest' mode gets, instead of a copy of every
 * post, one message a day (or a week) with what happened since their last
 * digest: for each thread with new posts, its subject, whether it is new or
 * continuing, and for each new post its author, time, the first lines of
 * its *new* text, a link to its page in the archive and a Reply link that
 * threads (RFC 6068 mailto: with In-Reply-To and References).  A header
 * counts new threads, replies and people; a footer says how to change mode
 * or leave.  A person chooses (store.h digest_prefs) one digest per group
 * or one combined digest for all their digest-mode groups (a section per
 * group), and the format: text + accessible HTML (multipart/alternative,
 * the default), an RFC 1153 plain-text digest, or a MIME multipart/digest
 * of the originals.
 *
 * Where a digest starts and ends (the post sequence, store.h): a member's
 * digest for a group covers the accepted posts with seq in (after, upto],
 * `after` from cor_store_digest_memberships and `upto` the sequence when the
 * digest is made, read in the same snapshot as the posts.  So a post stored
 * while a digest is made goes into the next one, and recording `upto` with
 * the digest (cor_digest_queue, in the transaction that queues it) makes
 * the next start where this one ended: nothing twice, nothing skipped.
 *
 * Invariants:
 *   1. Visibility is asked of core/visibility.h, as the member (a staff
 *      viewer with their address): a group they may not see contributes
 *      nothing.  Only 'accepted' posts are read: held posts are not posts,
 *      restricted ones never appear (their thread's subject comes from its
 *      earliest accepted post).
 *   2. The stored message is never changed: excerpts are made from a parse
 *      of the original (core/quote.h decides what is new text).
 *   3. Building a digest writes nothing; cor_digest_queue writes the outbox
 *      row and the digest's record in the caller's transaction.
 *   4. Output is deterministic for a given store, clock and Message-ID
 *      (the golden test relies on it), and in English whatever the locale.
 *
 * Thread safety: a site (templates, settings, the excerpt cache) belongs to
 * one thread at a time; so does a digest.
 */
#ifndef COR_DIGEST_H
#define COR_DIGEST_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/status.h"
#include "core/store.h"

typedef enum cor_digest_format {
    COR_DIGEST_MULTIPART = 0,  /* multipart/alternative: text + HTML */
    COR_DIGEST_RFC1153,        /* one text/plain RFC 1153 digest of whole text bodies */
    COR_DIGEST_MIME,           /* multipart/mixed: contents, a multipart/digest of
                                  the originals (message/rfc822), the footer */
} cor_digest_format_t;

/* "multipart", "rfc1153", "mime". */
const char *cor_digest_format_to_string(cor_digest_format_t f);
/* COR_ERR_INVALID for another name. */
cor_status_t cor_digest_format_from_string(const char *s, cor_digest_format_t *out);

/* The clock digests use: the time written in the file $CORRIDOR_NOW_FILE
 * when set (read at every call, so a test can move a running daemon's
 * clock), else $CORRIDOR_NOW when set (seconds since the epoch, or ISO 8601
 * with a zone, e.g. 2025-03-04T07:00:00Z — for tests), else the time now. */
int64_t cor_digest_now(void);
/* True when one of those test clocks is set. */
bool cor_digest_clock_simulated(void);

/* ---- the site: what every digest shares ---- */

typedef struct cor_digest_site cor_digest_site_t;

/* Reads [digest] (time zone, excerpt lines, max age, templates), the list
 * domain and `base_url` (cor_config_base_url, ending in '/'), and loads the
 * HTML template (built in, or [digest] templates).  COR_ERR_CONFIG with
 * *err for an unknown time zone or a template that does not compile.
 * `cfg` is borrowed for the site's life.  Transfer full. */
cor_status_t cor_digest_site_new(const cor_config_t *cfg, const char *base_url,
                                 cor_digest_site_t **out, char **err);
void cor_digest_site_free(cor_digest_site_t *site);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_digest_site_t, cor_digest_site_free)

/* ---- which digests a person gets ---- */

/* The scopes of `address`'s digests: "*" (one combined digest) when they
 * chose combined digests and have a digest-mode group, else the names of
 * their digest-mode groups; empty when none (GPtrArray of char*, transfer
 * full). */
cor_status_t cor_digest_scopes(cor_store_t *st, const char *address, GPtrArray **out,
                               char **err);

/* ---- one digest ---- */

typedef struct cor_digest cor_digest_t;

/* Builds `address`'s digest for `scope` (a group's name, or "*" for the
 * combined digest of all their digest-mode groups) as it would be at `now`.
 * Reads inside a read transaction of its own unless the caller has one
 * open (cor_digest_queue builds inside its write transaction).
 * COR_ERR_NOT_FOUND (*err says why) when the address is not an enabled
 * digest-mode member of that group, or (for "*") of any.  An empty digest
 * (nothing new) is not an error: cor_digest_empty says so.  Transfer full. */
cor_status_t cor_digest_build(cor_digest_site_t *site, cor_store_t *st, const char *address,
                              const char *scope, int64_t now, cor_digest_t **out, char **err);
void cor_digest_free(cor_digest_t *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_digest_t, cor_digest_free)

typedef struct cor_digest_counts {
    int64_t posts;             /* posts shown */
    int64_t threads;           /* threads with new posts */
    int64_t new_threads;       /* of which begun since the last digest */
    int64_t replies;           /* posts - new_threads */
    int64_t people;            /* distinct authors */
    int64_t groups;            /* sections (groups with new posts) */
} cor_digest_counts_t;

/* True when there is nothing to send. */
bool cor_digest_empty(const cor_digest_t *d);
void cor_digest_get_counts(const cor_digest_t *d, cor_digest_counts_t *out);
/* The post sequence range it covers: posts with from < seq <= upto (from:
 * the smallest start of its groups). */
int64_t cor_digest_from(const cor_digest_t *d);
int64_t cor_digest_upto(const cor_digest_t *d);
/* The format the person chose (digest_prefs). */
cor_digest_format_t cor_digest_format(const cor_digest_t *d);
/* Its subject, UTF-8 (transfer none). */
const char *cor_digest_subject(const cor_digest_t *d);

/* The plain text of the default format: the text/plain part (transfer full). */
char *cor_digest_text(const cor_digest_t *d);
/* The HTML part (transfer full); COR_ERR_* with *err when the template
 * fails (a missing partial in a replaced template). */
cor_status_t cor_digest_html(const cor_digest_t *d, char **out, char **err);

/* The complete message in `format` (CRLF line ends, transfer full, *len its
 * length): From the group's -request address (the first group's for a
 * combined digest), To the member, List-Id, List-Unsubscribe with the
 * member's one-click URL (a per-group digest), List-Unsubscribe-Post,
 * List-Post, List-Help, List-Archive, Precedence: list, Auto-Submitted:
 * auto-generated.  *message_id (optional) gets its Message-ID without <>.
 * The MIME format reads the originals from `st`. */
cor_status_t cor_digest_message(const cor_digest_t *d, cor_store_t *st, cor_digest_format_t format,
                                char **bytes, size_t *len, char **message_id, char **err);
/* Its envelope sender: the VERP address of the member in its (first)
 * group, so a bounce counts against them (transfer full). */
char *cor_digest_env_from(const cor_digest_t *d);

/* ---- making it exactly once ---- */

/* Inside the caller's write transaction (cor_store_begin): unless the
 * address has a digest for `scope` and `period` already (COR_DUPLICATE,
 * nothing written, *rec that digest), builds it as at `now`; a non-empty one
 * goes into the outbox (kind 'digest', the member's chosen format) and is
 * recorded 'queued' with its outbox row; an empty one is recorded 'empty'
 * when `keep_empty` (a schedule slot is done even when nothing happened),
 * else nothing is written.  Either way a record keeps the post sequence it
 * covered, so the next digest starts there.  *rec (optional) the record
 * (transfer full; id 0 when nothing was written). */
cor_status_t cor_digest_queue(cor_digest_site_t *site, cor_store_t *st, const char *address,
                              const char *scope, const char *period, int64_t now,
                              bool keep_empty, cor_digest_record_t **rec, char **err);

/* The schedule slot of `scope` (a group: its digest_time and digest_day;
 * "*": [digest] time and day) most recently begun at or before `now`, in
 * the site's time zone (summer time followed): its period name, the local
 * date "2025-03-04" (transfer full), and when it began.  A daily digest's
 * slot is today's time, or yesterday's before it; a weekly one the last
 * such weekday.  `st` is only read for a group (NULL will do for "*"). */
cor_status_t cor_digest_slot(cor_digest_site_t *site, cor_store_t *st, const char *scope,
                             int64_t now, char **period, int64_t *began, char **err);

/* When the next schedule slot of any scope begins after `now`: the
 * earliest of the site's default schedule ([digest] time and day, which
 * combined digests follow) and every group's digest_time/digest_day. */
cor_status_t cor_digest_next_slot(cor_digest_site_t *site, cor_store_t *st, int64_t now,
                                  int64_t *next, char **err);

typedef struct cor_digest_run_stats {
    int64_t people;            /* addresses looked at */
    int64_t queued;            /* digests put in the outbox */
    int64_t empty;             /* nothing new: nothing sent */
    int64_t done_before;       /* their digest for this slot was made already */
} cor_digest_run_stats_t;

/* Makes every digest due at `now`: for each person in digest mode (of
 * `group` only, when not NULL: their digest for it, or their combined
 * digest), each of their scopes whose current slot has no digest yet
 * (cor_digest_slot, cor_digest_queue), one write transaction per person.
 * With `all_now`, whatever the schedule: the period is "now-" and the time
 * (UTC), and an empty digest leaves no record, so running it again at once
 * sends nothing and writes nothing.  Stops at the first store error (what
 * was committed stays: running it again goes on where it stopped). */
cor_status_t cor_digest_run(cor_digest_site_t *site, cor_store_t *st, const char *group,
                            int64_t now, bool all_now, cor_digest_run_stats_t *stats, char **err);

/* Called (on the running thread) after each commit of cor_digest_run, so a
 * sender can start on what was queued while the rest are made (the CLI and
 * the daemon kick the outbound worker).  Returning false stops the run
 * there (what was committed stays; the next run goes on).  NULL: none. */
void cor_digest_site_on_commit(cor_digest_site_t *site, bool (*fn)(void *data), void *data);

#endif
