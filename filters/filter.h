/* filters/filter.h — the policy chain: what happens to a message sent to a
 * group's post address.
 *
 * Design notes
 * ------------
 * A group address that forwards to hundreds of staff must not forward an
 * out-of-office storm, a bounce, a post from outside, or mail marked
 * OFFICIAL-SENSITIVE.  The filters decide, per recipient group, before the
 * LMTP reply, and say why.
 *
 * The work is split in two so that intake stays fast:
 *
 *   1. cor_filter_scan — everything about the *message* that does not depend
 *      on the group: its header fields, auto-reply and bounce signs,
 *      protective markings, attachment names, spam score.  Pure, thread-safe,
 *      run once per delivery in the parse pool (intake.c).  The result is a
 *      cor_filter_facts_t.
 *   2. cor_filter_decide — the group's chain applied to those facts, the
 *      envelope and the store (membership, first posts).  Run for each
 *      recipient group on the writer thread, inside the intake transaction,
 *      so the decision and what it causes (the post, the held copy, the
 *      bounce-processing row) commit together.
 *
 * Each filter returns one verdict.  PASS means "not mine to decide"; every
 * other verdict is decisive except RESTRICT, which marks the message to be
 * accepted as restricted and lets the chain go on (a later filter may still
 * hold or reject it).  The first decisive verdict wins; when none is given
 * the message is accepted (restricted if a filter said so).  One exception:
 * a HOLD never hides a protective marking — after a hold the marking filter
 * still runs, and its reject replaces the hold (an open group refuses the
 * marked post outright) or its restrict makes the held post restricted on
 * approval.  Every step is
 * recorded in the decision's trace with the filter's name, and intake logs
 * that trace in one line.
 *
 * Verdicts and what intake does with them:
 *   accept            stored, threaded, indexed, rendered: 250
 *   accept restricted stored and indexed for FOI roles, kept out of archive
 *                     pages, feeds and digests (thread_nodes.status
 *                     'restricted'): 250
 *   hold              kept in the store's `held` table, not archived, until
 *                     `corridor held approve|reject`: 250
 *   reject            nothing stored: the verdict's status gives the code and
 *                     enhanced code, its reason the sentence (550 5.7.1 ...)
 *   discard           nothing stored, logged: 250 (never answered, never
 *                     posted)
 *   route bounce      stored for bounce processing (control_mail 'bounces'): 250
 *   route command     stored for the command handler (control_mail 'request'): 250
 *
 * Settings: every key in `[filters]` of corridor.conf is a site-wide default;
 * a group may override any of them (`corridor group set NAME key=value`,
 * kept in the store's group_settings table).  cor_filter_policy_t is the
 * effective set for one group.
 */
#ifndef COR_FILTERS_FILTER_H
#define COR_FILTERS_FILTER_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/message.h"
#include "core/status.h"
#include "core/store.h"
#include "filters/headers.h"
#include "filters/marking.h"

typedef enum cor_verdict_kind {
    COR_VERDICT_PASS = 0,
    COR_VERDICT_ACCEPT,
    COR_VERDICT_RESTRICT,
    COR_VERDICT_HOLD,
    COR_VERDICT_REJECT,
    COR_VERDICT_DISCARD,
    COR_VERDICT_ROUTE_BOUNCE,
    COR_VERDICT_ROUTE_COMMAND,
} cor_verdict_kind_t;

/* "pass", "accept", "restricted", "hold", "reject", "discard", "bounce",
 * "command" (static). */
const char *cor_verdict_kind_to_string(cor_verdict_kind_t k);

/* ---- the facts about one message ---- */

typedef struct cor_filter_facts {
    cor_headers_t *headers;      /* every top-level field (owned) */
    bool null_sender;            /* MAIL FROM:<> */
    char *env_from;              /* lowercase envelope sender, "" for <> */
    uint64_t size;               /* bytes of the original */

    /* auto-reply (autoreply.h): a description of the sign, NULL when none */
    char *autoreply;
    /* bounce / delivery report (autoreply.h): NULL when none */
    char *bounce;
    /* a mail command on the post address ("unsubscribe"): NULL when none */
    char *command;

    cor_marking_scan_t marking;  /* marking.h */

    /* attachments: lowercase file names, "" for unnamed (owned) */
    GPtrArray *attachment_names;

    /* upstream spam verdict: X-Spam-Flag: YES, and the score from
     * X-Spam-Status / X-Spam-Score (NAN when none) */
    bool spam_flag;
    double spam_score;

    /* loop: X-Loop values (lowercase, owned), the List-Id (msg->list_id),
     * and whether the Message-ID is one corridor generated */
    GPtrArray *x_loop;
    char *list_id;
    bool our_message_id;

    char *message_id;            /* for the log and explain */
    char *from_addr;             /* lowercase From: address, "" when none */
} cor_filter_facts_t;

/* Scans a message (parsed with at least COR_PARSE_SUMMARY|COR_PARSE_EDGES)
 * and its original bytes.  `env_from` is the envelope sender without <>
 * ("" for the null sender).  Thread-safe.  Transfer full. */
cor_filter_facts_t *cor_filter_scan(const cor_message_t *msg, const char *raw, size_t len,
                                    const char *env_from);
void cor_filter_facts_free(cor_filter_facts_t *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_filter_facts_t, cor_filter_facts_free)

/* ---- settings ---- */

typedef enum cor_posting {
    COR_POSTING_AUTO = 0,        /* staff domains when some are configured, else anyone */
    COR_POSTING_ANYONE,
    COR_POSTING_STAFF,           /* senders in staff_domains (and members) */
    COR_POSTING_MEMBERS,
} cor_posting_t;

typedef enum cor_moderation {
    COR_MODERATION_NONE = 0,
    COR_MODERATION_ALL,
    COR_MODERATION_FIRST_POST,   /* a sender's first post to the group */
} cor_moderation_t;

/* The effective settings of one group (site defaults + its overrides). */
typedef struct cor_filter_policy {
    char *group;                 /* group name */
    int64_t group_id;
    cor_visibility_t visibility;
    GPtrArray *chain;            /* char* filter names, in order */
    cor_posting_t posting;
    cor_verdict_kind_t nonmember_action;   /* HOLD or REJECT */
    char **staff_domains;        /* lowercase, NULL-terminated */
    cor_moderation_t moderation;
    cor_verdict_kind_t marking_action;     /* REJECT, RESTRICT or HOLD */
    char **marking_levels;       /* which cor_marking_kind names count */
    char **msip_labels;          /* lowercase label GUIDs that count */
    char **sensitivity;          /* lowercase Sensitivity values that count */
    uint64_t max_message_size;   /* bytes, 0: no limit of the group's own */
    char **blocked_extensions;   /* lowercase, without the dot */
    cor_verdict_kind_t spam_action;        /* HOLD, REJECT, DISCARD or PASS */
    double spam_threshold;
    char *join_hint;             /* how to join, for rejections ("" unset) */
    GHashTable *overrides;       /* key → value set for this group (owned) */
} cor_filter_policy_t;

void cor_filter_policy_free(cor_filter_policy_t *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_filter_policy_t, cor_filter_policy_free)

/* Every per-group key that `corridor group set` accepts and `[filters]`
 * declares: name, and a one-line help (static, NULL-terminated by name). */
typedef struct cor_filter_key {
    const char *key;
    const char *help;
} cor_filter_key_t;
const cor_filter_key_t *cor_filter_keys(void);

/* Checks one key=value for a group override; COR_ERR_INVALID with *err
 * saying why (transfer full). */
cor_status_t cor_filter_setting_check(const char *key, const char *value, char **err);

/* The site-wide defaults: corridor.conf's [filters] section, checked.
 * Immutable once made and reference-counted, so the daemon's writer thread
 * can keep using one while SIGHUP makes the next.  COR_ERR_CONFIG with
 * *err ("[filters] posting: ...") for a bad value.  Transfer full. */
typedef struct cor_filter_site cor_filter_site_t;
cor_status_t cor_filter_site_new(const cor_config_t *cfg, cor_filter_site_t **out, char **err);
cor_filter_site_t *cor_filter_site_ref(cor_filter_site_t *site);
void cor_filter_site_unref(cor_filter_site_t *site);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_filter_site_t, cor_filter_site_unref)
/* A number no other site of this process has: caches of policies made
 * from a site compare it (a pointer could be reused after a free). */
guint64 cor_filter_site_serial(const cor_filter_site_t *site);

/* The effective policy of group `g`: the site's defaults, then the group's
 * rows in group_settings.  A bad stored value is COR_ERR_CONFIG with *err
 * naming the group and key.  Transfer full. */
cor_status_t cor_filter_policy_load(cor_store_t *st, const cor_filter_site_t *site,
                                    const cor_group_t *g, cor_filter_policy_t **out, char **err);

/* The List-Id corridor gives group `group` at `domain`: "group.domain"
 * (RFC 2919; the outbound mail carries it, the loop filter looks for it)
 * (transfer full). */
char *cor_filter_list_id(const char *group, const char *domain);

/* ---- deciding ---- */

typedef struct cor_filter_step {
    const char *filter;          /* static name */
    cor_verdict_kind_t verdict;
    char *why;                   /* one sentence (owned) */
} cor_filter_step_t;

typedef struct cor_decision {
    cor_verdict_kind_t verdict;  /* ACCEPT, RESTRICT, HOLD, REJECT, DISCARD, ROUTE_* */
    const char *filter;          /* the deciding filter (static), NULL for the default accept */
    cor_status_t status;         /* REJECT: the reply's status (550 5.7.1 ...) */
    char *reason;                /* the sentence for the reply and the log (owned) */
    bool restricted;             /* a RESTRICT was seen (HOLD keeps it for approval) */
    GArray *trace;               /* cor_filter_step_t, every filter run */
} cor_decision_t;

void cor_decision_clear(cor_decision_t *d);

/* Applies `policy`'s chain.  `rcpt` is the recipient address (for the
 * loop check and the join hint).  With `explain`, every filter runs, also
 * after the decisive one (their steps are marked not reached by
 * cor_decision_format).  Store errors are returned (the caller answers
 * 451); the decision is filled on COR_OK. */
cor_status_t cor_filter_decide(cor_store_t *st, const cor_filter_policy_t *policy,
                               const cor_filter_facts_t *facts, const char *rcpt,
                               bool explain, cor_decision_t *out);

/* One line for the log: "loop=pass auto-reply=pass marking=reject -> reject
 * (marking: ...)" (transfer full). */
char *cor_decision_trace(const cor_decision_t *d);

#endif
