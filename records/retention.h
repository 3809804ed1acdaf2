/* records/retention.h — retention schedules, disposal plans, their approval
 * and their run, with a disposal certificate.
 *
 * Design notes
 * ------------
 * Schedules are config ([retention], docs/config.md): `default = permanent`
 * and one key per group name, each "permanent" or N followed by y, m
 * (months), w or d (core/config.h cor_config_parse_retention; checked when
 * the file is loaded).  A group without a key has the default; without a
 * default, everything is kept (permanent).
 *
 * Age.  A message's age counts from its date (the Date header); from the
 * time corridor received it when it has no usable date or the date is
 * later than its receipt (a sender's clock in the future).  A message is
 * due in a group when its age date is at or before now minus the group's
 * schedule (calendar years and months, UTC).
 *
 * One message, several groups.  The same message may be placed in groups
 * with different schedules: it is due only when it is due in every group
 * it is in (any permanent group keeps it), because disposal deletes the
 * message itself, not one placement.
 *
 * The three steps, each one transaction with its audit entry:
 *   plan     finds what is due now and records a plan (disposals row, state
 *            'planned', and one disposal_items row per message: 'planned',
 *            or 'held' when a live legal hold covers it or a records case
 *            selected it — case material is kept whatever its age);
 *   approve  by another person than the planner (two people see every
 *            disposal): the approver's login (core/audit.h note 1: the uid
 *            the person logged in as) must differ from the login recorded
 *            in the plan's retention.plan audit entry, and the --operator
 *            names must differ too; state 'approved'.  A council with one
 *            records officer may allow the planner to approve their own
 *            plan: [records] single_officer = true in the configuration
 *            AND `retention approve --single-officer`; the approval entry
 *            and the certificate then say "single_officer": true;
 *   run      for an approved plan: every 'planned' item is checked again
 *            (still stored, not held now, still due under today's schedules)
 *            and deleted from the store — the message row with its original,
 *            attachments, queued copies and work items; its thread nodes
 *            become ghosts, so replies stay threaded under it — and marked
 *            'disposed'; one held since the plan becomes 'held'; one no longer
 *            due or gone stays 'planned' and the certificate says why.  The
 *            certificate (metadata only: ids, Message-IDs, dates, groups,
 *            schedules, SHA-256, planner, approver, who ran it and when) is
 *            stored in disposals.certificate; state 'done'.
 * The derived data (index documents, archive pages) is the caller's to
 * update after the commit (cli/cmd_hold.c): run returns the messages
 * deleted and the groups they were in.  Items held at plan time are never
 * disposed of by that plan: after the hold's release, a new plan covers
 * them.
 *
 * Ownership: transfer full unless said; *err transfer full.
 */
#ifndef COR_RECORDS_RETENTION_H
#define COR_RECORDS_RETENTION_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/status.h"
#include "core/store.h"

/* ---- schedules ---- */

typedef struct cor_retention_policy cor_retention_policy_t;

/* The schedules of [retention] in `cfg` (NULL: everything permanent). */
cor_status_t cor_retention_policy_new(const cor_config_t *cfg, cor_retention_policy_t **out,
                                      char **err);
void cor_retention_policy_free(cor_retention_policy_t *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_retention_policy_t, cor_retention_policy_free)

/* A group's schedule as written ("6y", "permanent"; transfer none). */
const char *cor_retention_schedule_of(const cor_retention_policy_t *p, const char *group);
/* The group names [retention] gives a schedule ("default" left out), in
 * file order (transfer none, NULL-terminated). */
const char *const *cor_retention_policy_groups(const cor_retention_policy_t *p);

/* The latest age date that is due under `schedule` at `now`: false for
 * "permanent" (nothing is ever due) or a schedule that is not one. */
bool cor_retention_cutoff(const char *schedule, int64_t now, int64_t *cutoff);

/* ---- plans ---- */

/* One message of a plan (a disposal_items row). */
typedef struct cor_retention_item {
    int64_t msg;               /* messages.id when planned */
    char *message_id;
    char *groups;              /* the groups it is in, "a, b" */
    int64_t date;              /* its age date (see the notes) */
    char *schedule;            /* the groups' schedules, same order, "6y, 2y" */
    char *sha256;
    char *state;               /* 'planned', 'disposed' or 'held' */
    char *note;                /* why held or kept ("hold 3", "case FOI-1",
                                  "no longer due", "gone"); "" when none.
                                  Not stored: filled by plan and run */
} cor_retention_item_t;
void cor_retention_item_free(cor_retention_item_t *it);

/* One group's part of a new plan. */
typedef struct cor_retention_group {
    char *group;
    char *schedule;
    int64_t due;               /* messages due in this group and in all others
                                  they are in (the plan's items here) */
    int64_t held;              /* of those, held */
    int64_t waiting;           /* due here, kept by another group's schedule */
    int64_t oldest, newest;    /* age dates of the due ones (0: none) */
} cor_retention_group_t;
void cor_retention_group_free(cor_retention_group_t *g);

typedef struct cor_retention_plan {
    int64_t id;                /* 0: not recorded (nothing due, or a dry run) */
    char *state;               /* 'planned', 'approved', 'done' */
    int64_t planned;
    char *planned_by;
    int64_t approved;          /* 0: not yet */
    char *approved_by;         /* "" */
    int64_t done;              /* 0: not yet */
    char *certificate;         /* JSON, "" until run */
    int64_t n_planned, n_held, n_disposed;
    GPtrArray *items;          /* cor_retention_item_t*, by age date */
    GPtrArray *groups;         /* cor_retention_group_t*, by name (plan_make
                                  only; NULL from plan_get) */
} cor_retention_plan_t;
void cor_retention_plan_free(cor_retention_plan_t *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_retention_plan_t, cor_retention_plan_free)

/* Finds what is due at `now` and, when `record` and something is due,
 * records the plan with its 'retention.plan' audit entry in one
 * transaction.  Without `record` (a dry run) nothing is written, nor when
 * every message due is held (nothing to approve): plan->id stays 0. */
cor_status_t cor_retention_plan_make(cor_store_t *st, const cor_retention_policy_t *pol,
                                     const char *operator_name, int64_t now, bool record,
                                     cor_retention_plan_t **out, char **err);

/* A recorded plan with its items (COR_ERR_NOT_FOUND when none). */
cor_status_t cor_retention_plan_get(cor_store_t *st, int64_t id, cor_retention_plan_t **out,
                                    char **err);
/* Every recorded plan, newest first, without items (GPtrArray of
 * cor_retention_plan_t*). */
cor_status_t cor_retention_plan_list(cor_store_t *st, GPtrArray **out, char **err);

/* Approves a 'planned' plan, with its 'retention.approve' audit entry
 * ({"plan","planned_by","planner_login","planned","held"} and
 * "single_officer": true when it was one).  COR_ERR_DENIED when this
 * process's login (cor_audit_login) is the one that made the plan, or
 * `operator_name` is the planner's name — unless `single_officer` (the
 * caller checked that the configuration allows it) — or when the plan's
 * entry has no login (made before schema v7: make a new plan);
 * COR_ERR_INVALID when it is not 'planned'; COR_ERR_NOT_FOUND when there
 * is no such plan. */
cor_status_t cor_retention_approve(cor_store_t *st, const char *operator_name, int64_t id,
                                   int64_t now, bool single_officer, char **err);

/* Runs an 'approved' plan (see the notes), with its 'retention.run' audit
 * entry, in one transaction.  *out: the plan as done, certificate
 * included; *disposed: the message rows deleted (GArray of int64_t);
 * *groups: the names of the groups they were in (GPtrArray of char*,
 * sorted).  COR_ERR_INVALID when the plan is not 'approved'. */
cor_status_t cor_retention_run(cor_store_t *st, const cor_retention_policy_t *pol,
                               const char *operator_name, int64_t id, int64_t now,
                               cor_retention_plan_t **out, GArray **disposed, GPtrArray **groups,
                               char **err);

#endif
