/* core/store.h — the SQLite store: the only source of truth.
 *
 * Design notes
 * ------------
 * Everything corridor knows is in one SQLite database, `STATE/corridor.db`.
 * The Xapian index, the HTML archive, feeds and digests are derived from it
 * and rebuilt from it (DESIGN.md invariant 1).
 *
 * Durability: the database runs in WAL mode with synchronous=FULL, so a
 * COMMIT that returned SQLITE_OK is on disk.  The commit is the single
 * moment of truth: intake writes the message, its group membership, its
 * threading and its work items in one transaction, and only after
 * cor_store_commit() returned COR_OK may anyone say "250".
 *
 * Schema (version kept in PRAGMA user_version; migrations in store.c run in
 * order inside one transaction each, so a crash mid-migration leaves the
 * previous version):
 *
 *   groups(id, name UNIQUE, title, description, visibility, created)
 *       visibility is 'public' (whoever reaches the archive), 'staff' (signed-in
 *       staff; on an intranet the same people) or 'private' (members only).
 *   messages(id, message_id, sha256 UNIQUE, size, received, date, subject,
 *            from_addr, from_name, from_display, to_text, cc_text,
 *            in_reply_to, refs, thread_index, thread_topic, list_id,
 *            has_attachments, synthetic_id)
 *       one row per distinct original (by SHA-256): the same bytes posted to
 *       two groups are stored once.  `refs` is the References list, space
 *       separated, oldest first.
 *   originals(message PRIMARY KEY → messages.id, raw BLOB)
 *       the original bytes, byte for byte (invariant 3).  Kept apart so that
 *       scans of `messages` stay small.
 *   attachments(message, part_index, filename, content_type, size)
 *   threads(id, group_id, merged_into, created)
 *       a thread id never changes meaning: when two threads merge, the
 *       younger one gets merged_into = the older one and stays as an alias.
 *   thread_nodes(group_id, message_id, thread, parent, msg, status, added)
 *       PRIMARY KEY (group_id, message_id).  Every Message-ID a group's
 *       threads know: a real post (msg = messages.id) or a ghost (msg NULL:
 *       referenced but not seen).  `parent` is the parent Message-ID (NULL for
 *       a root).  `status` is 'accepted' for a post; later issues add held,
 *       restricted, discarded.  The per-group uniqueness of Message-ID is
 *       what makes redelivery idempotent (invariant 4).
 *   thread_conversations(group_id, conv, topic, thread)
 *       Microsoft Thread-Index conversation ids seen, with their normalised
 *       topic, for the Thread-Index rule (see thread.h).
 *   members(group_id, address, name, mode, role, status, reason, added)
 *   work(id, kind, msg, created)
 *       the queue of derived work ('index': index this message; 'render':
 *       re-render the archive pages it changes); consumers
 *       delete items only after their own output is durable.
 *   meta(key PRIMARY KEY, value)
 *   control_mail(id, group_id, kind, detail, env_from, rcpt, sha256, raw,
 *                received, status)                                  [v2]
 *       mail to a group's -request, -owner and -bounces(+detail) addresses,
 *       original bytes and envelope, UNIQUE (group_id, kind, detail, sha256)
 *       so a redelivery is stored once.  status 'new' until the command
 *       handler or bounce processing (later issues) has dealt with it.
 *       The filters also route here: a bounce or a mail command sent to a
 *       post address (kind 'bounces' or 'request', rcpt the post address).
 *   group_settings(group_id, key, value)                             [v3]
 *       a group's overrides of the [filters] defaults (filters/filter.h
 *       knows the keys; the store does not).
 *   held(id, group_id, message_id, sha256, env_from, rcpt, from_addr,
 *        subject, size, raw, received, filter, reason, restricted, status,
 *        decided, decided_by, note)                                  [v3]
 *       posts the filters held for a moderator, original bytes included;
 *       UNIQUE (group_id, message_id) so a redelivery is held once.  status
 *       'held' until `corridor held approve|reject`; approving stores the
 *       post and sets 'approved' in one transaction (exactly once).
 *   thread_nodes.status is 'accepted' or 'restricted' (protectively
 *       marked mail a group keeps for FOI roles only; every public reader
 *       asks for 'accepted').  messages(from_addr) is indexed [v3].
 *   members.token, source, bounce_score, bounce_at, self_copy          [v4]
 *       token: the member's unsubscribe secret (32 hex digits from the
 *       kernel's random source; the one-click URL carries it); source: who
 *       added the membership ('cli', 'directory', 'email'); bounce_score
 *       with the time it was last changed (it decays: store_outbox.c);
 *       self_copy: the author wants a copy of their own posts.
 *   optouts(group_id, address, how, created)                         [v4]
 *       a member left the group themselves (one-click, -leave, a command):
 *       directory sync never adds them back.  Cleared when they rejoin.
 *   outbox(id, kind, group_id, msg, domain, env_from, body, created)  [v4]
 *   outbox_rcpt(id, outbox, address, attempts, next_try, last_error)
 *       the only way out (DESIGN.md): one outbox row per generated
 *       message, one outbox_rcpt row per recipient still to be sent.  A
 *       post's copies ('post') have msg set, env_from NULL (VERP, built per
 *       recipient) and no body: each copy is built from the original when it
 *       is sent.  Anything else has its complete bytes in body and its
 *       envelope sender in env_from ('' is the null sender).  A recipient's
 *       row is deleted once the relay took the copy (or refused it for
 *       good, recorded as a bounce); the outbox row goes with its last one.
 *       Both ids are AUTOINCREMENT: never reused, so the worker's caches
 *       keyed by them cannot mistake a new row for a sent one.
 *   bounce_events(id, group_id, address, at, class, score, status,
 *                 detail, source)                                     [v4]
 *       every hard or soft failure counted against a member.
 *   tokens(token, kind, group_id, address, ref, data, created, expires) [v4]
 *       one-time secrets: 'join' (an outside address confirming it wants
 *       to join) and 'moderate' (ref = held.id).
 *   counters(name PRIMARY KEY, value)                                 [v5]
 *   thread_nodes.seq                                                  [v5]
 *       the post sequence: every time a node becomes a real post (an
 *       INSERT with msg, or a ghost whose msg is filled in) a trigger adds
 *       one to counters('post') and writes the new value into the node's
 *       seq.  So seq orders posts as they were stored *in that group*, and
 *       never goes back: unlike messages.id, it is not shared by the same
 *       bytes stored in two groups at different times, and not reused
 *       after a group delete removed the newest rows.  Digests remember
 *       how far they got in this sequence (a high-water mark): "every post
 *       with seq <= N is covered".  Nodes stored before v5 got seq = msg and
 *       the counter their maximum.  Indexed by (group_id, seq).
 *   members.digest_from                                               [v5]
 *       the post sequence when the member's mode last became 'digest'
 *       (a trigger on INSERT and on UPDATE OF mode sets it; v5 set it for
 *       the digest-mode members then): their first digest starts there, so
 *       switching from 'each' never repeats copies already received.
 *       members(address, mode) is indexed: a person's memberships.
 *   digest_prefs(address PRIMARY KEY, combined, format, updated)      [v5]
 *       a person's digest choices, whatever their groups (absent: the
 *       defaults): combined 1 = one digest for all their digest-mode
 *       groups (sections per group) rather than one per group; format
 *       'multipart' (text + HTML, the default), 'rfc1153' (plain text
 *       digest) or 'mime' (multipart/digest of the originals).
 *   digests(id, address, scope, period, from_seq, upto_seq, state, posts,
 *           outbox, message_id, created)                              [v5]
 *       every digest made, UNIQUE (address, scope, period): scope is the
 *       group's name, or '*' for a combined digest; period names the
 *       schedule slot it was for ('2025-03-04' daily, '2025-W10' weekly,
 *       'now-...' for `digest send --now`).  It covered the posts with
 *       from_seq < seq <= upto_seq of its groups.  state 'queued': the
 *       digest's bytes went into the outbox (row `outbox`) in the same
 *       transaction as this row, so it is made exactly once; 'empty':
 *       nothing was new, nothing sent (the slot is done all the same).
 *       A member's next digest for a group starts after the largest
 *       upto_seq of their digests for that group or '*', or after
 *       members.digest_from when that is larger.  A trigger deletes a
 *       group's rows (scope = its name) with the group.
 *
 * Records (v6, v7; records/ owns the code, records/records.h the API):
 *   cases(id, ref UNIQUE, type foi|eir|sar, jurisdiction, received, due,
 *         status open|stopped|closed, stopped_on, days_stopped, person,
 *         opened_by, opened, closed)
 *       dates are 'YYYY-MM-DD'; due is the statutory due date, recomputed
 *       when a stopped clock resumes; person is a SAR's data subject.
 *   case_events(id, case_id, at, operator, kind, text)
 *       notes and clock stops/resumes of a case, in order.
 *   case_queries(id, case_id, kind, query, at, operator, count, bytes)
 *       every search run for a case, with its result count and total size.
 *   case_messages(case_id, msg, query_id, added, added_by)
 *       the messages selected for a case (the disclosure set).
 *   redactions(id, case_id, msg, span_start, span_end, text_sha256, kind,
 *              exemption, state proposed|accepted|rejected, operator, at)
 *       byte spans of a message's readable text (records/readable.h; its
 *       SHA-256 is text_sha256) to redact in the case's export; the stored
 *       original is never changed.
 *   holds(id, kind case|query|group|message, case_id, group_id, target,
 *         reason, placed_by, placed, released_by, released)
 *   hold_messages(hold, msg)
 *       the messages a query or message hold covers (resolved when placed);
 *       a case hold covers the case's messages and a group hold the group's,
 *       whenever asked.  The view held_messages(msg, hold) lists every
 *       message under a live hold, and the trigger messages_hold refuses to
 *       delete one (retention, group deletion, anything).
 *   disposals(id, state planned|approved|done, planned, planned_by,
 *             approved, approved_by, done, certificate)
 *   disposal_items(disposal, msg, message_id, group_name, date, schedule,
 *                  sha256, state planned|disposed|held)
 *       a retention run: what it would/did dispose of; metadata only.
 *   audit(seq, at, operator, action, case_ref, detail, prev, hash)
 *       append-only (triggers refuse UPDATE and DELETE), hash-chained: each
 *       entry's hash covers its fields and the previous entry's hash
 *       (core/audit.h says exactly how); `corridor audit verify` finds
 *       any edit, deletion or reordering, also with the triggers dropped.
 *   audit.login_uid, audit.login                                      [v7]
 *       the login that wrote the entry (core/audit.h note 1): the uid the
 *       person logged in as and its name.  NULL in entries written before
 *       v7, whose hash is version 1; an entry with a login has hash
 *       version 2, which covers both (core/audit.h note 2).
 *   cases.clock_from, cases.stop_kind                                 [v7]
 *       clock_from 'YYYY-MM-DD': the day the statutory count runs from —
 *       received, or the day a clarification arrived (FOI/EIR) or a SAR's
 *       fee was paid, which restart it (records/calendar.h); v7 set it to
 *       received.  stop_kind 'clarification' or 'fee' while stopped
 *       (NULL otherwise); v7 made a clock stopped before it a
 *       'clarification'.
 *   triggers thread_nodes_hold_delete, thread_nodes_hold_update,
 *            groups_hold                                              [v7]
 *       held_messages finds a group hold's messages through
 *       thread_nodes.msg, so while a group hold is live those links may
 *       not be deleted, cleared or moved to another group, nor the group
 *       row deleted: with messages_hold, "UPDATE thread_nodes SET msg =
 *       NULL ...; DELETE FROM messages ..." fails too.  Their errors say
 *       "under legal hold" (COR_ERR_HELD).
 *
 * The archive's listings (v8; archive-web/model.h says how they are used):
 *   messages.key, messages.from_key                                   [v8]
 *       the archive's URL keys (cor_store_key) of the Message-ID and of
 *       the lowercased From address, set when the row is inserted (v8 set
 *       them for the rows before it); both indexed: a download or an
 *       author page finds its posts without a scan.
 *   thread_nodes.date                                                 [v8]
 *       the post's messages.date (NULL for a ghost).  Indexed twice, over
 *       the accepted posts only: (group_id, date, msg) — a month's posts, a
 *       group's newest — and (thread, date, msg) — a thread's first and
 *       last post, its count.
 *   threads.last_date                                                 [v8]
 *       the newest date of the thread's accepted posts; NULL when it has
 *       none (merged away, or only restricted posts): the archive lists
 *       exactly the threads with a last_date, by (last_date, id), which
 *       threads_activity (group_id, last_date, id) indexes.
 *   group_months(group_id, month, posts)                              [v8]
 *       a group's accepted posts per month (year * 12 + month - 1, UTC;
 *       month 0 for dates outside the years 1 to 9999); rows may hold 0.
 *   triggers thread_nodes_archive_insert, _update, _delete,
 *            groups_months_delete                                     [v8]
 *       keep thread_nodes.date, threads.last_date and group_months true
 *       for every write to thread_nodes (a post stored, marked
 *       restricted, merged into another thread, made a ghost, deleted):
 *       each recomputes the last_date of the threads it touches (one
 *       index seek) and moves one count between months.
 *   threads.shown, threads.shown_into                                 [v8]
 *       the archive renderer's own record of its pages (derived data,
 *       written only by archive-web): shown is the last_date the group's
 *       index pages list the thread with (NULL: not listed), shown_into
 *       the thread its "moved" page points to (NULL: none).  Written in
 *       the transaction that consumes the render work, after the pages are
 *       durable; an update compares them with last_date and merged_into
 *       to know which index and moved pages changed.  threads(merged_into)
 *       is indexed.
 *
 * Concurrency: one writer (this handle, used by one thread at a time);
 * readers may open their own handles.  busy_timeout is set so a short lock by
 * another process waits; a long one gives COR_ERR_BUSY.
 */
#ifndef COR_STORE_H
#define COR_STORE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/message.h"
#include "core/status.h"

typedef struct cor_store cor_store_t;

typedef enum cor_visibility {
    COR_VISIBILITY_PUBLIC = 0,
    COR_VISIBILITY_STAFF,
    COR_VISIBILITY_PRIVATE,
} cor_visibility_t;

const char *cor_visibility_to_string(cor_visibility_t v);
/* Returns COR_ERR_INVALID for an unknown name. */
cor_status_t cor_visibility_from_string(const char *s, cor_visibility_t *out);

typedef struct cor_group {
    int64_t id;
    char *name;
    char *title;
    char *description;
    cor_visibility_t visibility;
    int64_t created;
    /* filled by cor_store_group_list with `counts` only: */
    int64_t n_messages;
    int64_t n_threads;
    int64_t last_date;
} cor_group_t;

void cor_group_free(cor_group_t *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_group_t, cor_group_free)

/* Opens (creating and migrating when `create`) the store at `path`.
 * COR_ERR_NOT_FOUND when it does not exist and !create.  *err transfer full. */
cor_status_t cor_store_open(const char *path, bool create, cor_store_t **out, char **err);
void cor_store_close(cor_store_t *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_store_t, cor_store_close)

/* Text of the last error on this handle (transfer none). */
const char *cor_store_error(const cor_store_t *st);

/* The database file this handle has open (transfer none): worker threads
 * open their own handles on it. */
const char *cor_store_file(const cor_store_t *st);

/* How long a statement waits for a lock held by another process before it
 * fails with COR_ERR_BUSY (default 10 s). */
void cor_store_set_busy_timeout(cor_store_t *st, int64_t milliseconds);

/* How much of the database each handle opened from now on may cache, in
 * KiB (64 MiB unless set).  A page cache only grows: a handle keeps every
 * page it has read until the cap, so a process holding many long-lived
 * handles on a growing store grows by up to (handles x cap).  `corridor
 * serve` (about ten handles: intake, indexer, renderer, outbound, digest,
 * HTTP threads) sets 8 MiB before it opens any; the kernel's page cache
 * keeps the rest of the file close.  Bulk commands keep 64 MiB. */
void cor_store_set_default_cache(int kib);

/* Bounds all SQLite memory of this process (every handle, every thread):
 * once it is over `bytes`, page caches reuse their own pages rather than
 * grow (sqlite3_soft_heap_limit64: advisory, never a failure).  0 lifts
 * the bound.  The daemon sets it from [store] daemon_memory. */
void cor_store_limit_memory(int64_t bytes);

/* Frees what this handle's page cache holds (each handle caches up to
 * 64 MiB of the database unless cor_store_set_default_cache says less): for a long-lived handle used now and then, such
 * as the digest scheduler's, after a run.  Outside a transaction. */
void cor_store_release_memory(cor_store_t *st);

/* The schema version this build writes. */
int cor_store_schema_version(void);

/* Transactions: BEGIN IMMEDIATE / COMMIT / ROLLBACK.  Not nestable. */
cor_status_t cor_store_begin(cor_store_t *st);
cor_status_t cor_store_commit(cor_store_t *st);
void cor_store_rollback(cor_store_t *st);

/* A read transaction: every statement until _end_read sees the store as it
 * was at _begin_read (WAL snapshot), whatever other connections commit
 * meanwhile.  Writers are not blocked.  For readers that make one picture
 * from several queries (the archive's model). */
cor_status_t cor_store_begin_read(cor_store_t *st);
void cor_store_end_read(cor_store_t *st);

/* One savepoint inside a transaction (not nestable): the LMTP intake stores
 * each recipient's copy under a savepoint so that one group's failure undoes
 * only that group's rows.  _rollback undoes to the savepoint and closes it. */
cor_status_t cor_store_savepoint(cor_store_t *st);
cor_status_t cor_store_savepoint_release(cor_store_t *st);
/* Not COR_OK when the whole transaction is gone (SQLite rolls it all back on
 * some errors): the caller must then give up everything in it. */
cor_status_t cor_store_savepoint_rollback(cor_store_t *st);
/* WAL checkpoints.  By default SQLite copies the WAL into the database in
 * the commit that makes the WAL pass 1,000 pages, which puts a checkpoint
 * (megabytes written and synced) in the way of that commit.  The daemon
 * turns that off (pages 0) on its writers and checkpoints from a thread of
 * its own with cor_store_checkpoint (PASSIVE: it never blocks a writer).
 * *wal_frames and *done_frames (may be NULL) say how far it got. */
void cor_store_set_autocheckpoint(cor_store_t *st, int pages);
cor_status_t cor_store_checkpoint(cor_store_t *st, int *wal_frames, int *done_frames);
/* A PASSIVE checkpoint copies frames but cannot rewind the WAL while some
 * reader still uses a snapshot in it; under steady load (commits every few
 * milliseconds, the web and the renderer always reading) that is always, and
 * the WAL file grows without end (the soak saw 536 MB in five minutes).  This
 * RESTART checkpoint waits up to `wait_ms` for the readers to move on —
 * holding the write lock meanwhile, so writers wait at most that long — and
 * then the next writer starts the WAL from its beginning; the file is cut
 * back to 64 MiB (journal_size_limit).  *restarted: whether it got that far
 * (false when readers stayed longer: try again later). */
cor_status_t cor_store_checkpoint_restart(cor_store_t *st, int64_t wait_ms, bool *restarted);

/* True inside BEGIN ... COMMIT. */
bool cor_store_in_transaction(const cor_store_t *st);

/* ---- groups ---- */

/* Group names: lowercase letters, digits, '-', '_', '.', 1–64 chars, starting
 * with a letter or digit, no ".." and no '.' at the end (they become local
 * parts and URL segments). */
bool cor_group_name_valid(const char *name);

cor_status_t cor_store_group_create(cor_store_t *st, const char *name, const char *title,
                                    cor_visibility_t visibility, int64_t *id_out);
/* COR_ERR_NO_GROUP when absent.  *out transfer full. */
cor_status_t cor_store_group_get(cor_store_t *st, const char *name, cor_group_t **out);
/* The same by id.  COR_ERR_NO_GROUP when absent.  *out transfer full. */
cor_status_t cor_store_group_get_by_id(cor_store_t *st, int64_t id, cor_group_t **out);
/* Changes a group's title, description or visibility (NULL: unchanged).
 * COR_ERR_NO_GROUP when there is no group `id`. */
cor_status_t cor_store_group_update(cor_store_t *st, int64_t id, const char *title,
                                    const char *description, const cor_visibility_t *visibility);
/* All groups by name (transfer full: the array frees its elements).  With
 * `counts`, also their message and thread counts and last activity, which
 * cost a scan of the group's posts: ask for them only to show them. */
cor_status_t cor_store_group_list(cor_store_t *st, bool counts, GPtrArray **out);

/* ---- members (store_members.c) ---- */

/* A member of a group.  Addresses are kept lowercase. */
typedef struct cor_member {
    char *address;
    char *name;
    char *mode;                /* 'each', 'digest' or 'none' */
    char *role;                /* 'member', 'owner' or 'moderator' */
    char *status;              /* 'enabled' or 'disabled' */
    char *reason;              /* why disabled ("" when enabled) */
    int64_t added;
} cor_member_t;

void cor_member_free(cor_member_t *m);

/* The rest of a member's row [v4], read by cor_store_member_get. */
typedef struct cor_member_detail {
    cor_member_t m;
    int64_t group_id;
    char *token;
    char *source;
    double bounce_score;       /* as stored (not decayed) */
    int64_t bounce_at;
    bool self_copy;
} cor_member_detail_t;
void cor_member_detail_free(cor_member_detail_t *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_member_detail_t, cor_member_detail_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_member_t, cor_member_free)

/* A plausible mail address: one '@' with text on both sides, no white
 * space or control characters, at most 254 bytes. */
bool cor_member_address_valid(const char *address);
/* The names allowed for a member's delivery mode and role. */
bool cor_member_mode_valid(const char *mode);
bool cor_member_role_valid(const char *role);

/* Adds a member (enabled, mode 'each', role 'member'), or renames one who
 * is there already (`name` NULL keeps the name). */
cor_status_t cor_store_member_add(cor_store_t *st, int64_t group_id, const char *address,
                                  const char *name);
/* COR_OK when `address` is an enabled member of the group, COR_ERR_NOT_FOUND if not. */
cor_status_t cor_store_member_check(cor_store_t *st, int64_t group_id, const char *address);
/* Changes a member's name, mode or role (NULL: unchanged).  COR_ERR_NOT_FOUND
 * when `address` is not a member. */
cor_status_t cor_store_member_set(cor_store_t *st, int64_t group_id, const char *address,
                                  const char *name, const char *mode, const char *role);
/* Removes a member.  COR_ERR_NOT_FOUND when `address` is not one. */
cor_status_t cor_store_member_remove(cor_store_t *st, int64_t group_id, const char *address);
/* A group's members by address (GPtrArray of cor_member_t*, transfer full). */
cor_status_t cor_store_member_list(cor_store_t *st, int64_t group_id, GPtrArray **out);

/* Adds a member with a fresh token, noting where the membership came from
 * ('cli', 'directory', 'email').  A member who is there already keeps their
 * settings (`name` non-NULL renames).  *added says whether a row was new.
 * Adding clears an opt-out: joining again is the member's own choice (the
 * directory sync checks cor_store_optout_check first). */
cor_status_t cor_store_member_join(cor_store_t *st, int64_t group_id, const char *address,
                                   const char *name, const char *source, bool *added);
/* One member, every field; COR_ERR_NOT_FOUND when not a member. */
cor_status_t cor_store_member_get(cor_store_t *st, int64_t group_id, const char *address,
                                  cor_member_detail_t **out);
/* The member an unsubscribe token belongs to; COR_ERR_NOT_FOUND for an
 * unknown token (which says nothing about who is a member). */
cor_status_t cor_store_member_by_token(cor_store_t *st, const char *token,
                                       cor_member_detail_t **out);
/* The member leaves on their own request: removed, and an opt-out
 * recorded with `how` ('one-click', 'email', 'cli').  COR_ERR_NOT_FOUND when
 * not a member (the opt-out is recorded all the same). */
cor_status_t cor_store_member_leave(cor_store_t *st, int64_t group_id, const char *address,
                                    const char *how);
/* COR_OK when `address` opted out of the group, COR_ERR_NOT_FOUND if not. */
cor_status_t cor_store_optout_check(cor_store_t *st, int64_t group_id, const char *address);
/* Enables or disables a member's delivery (`reason` "" when enabling). */
cor_status_t cor_store_member_set_status(cor_store_t *st, int64_t group_id, const char *address,
                                         bool enabled, const char *reason);
/* Whether the member gets copies of their own posts (default no). */
cor_status_t cor_store_member_set_self_copy(cor_store_t *st, int64_t group_id,
                                            const char *address, bool yes);
/* Members with a role ('owner', 'moderator'; NULL: both) as addresses
 * (GPtrArray of char*, transfer full). */
cor_status_t cor_store_member_staff(cor_store_t *st, int64_t group_id, const char *role,
                                    GPtrArray **out);

/* 32 lowercase hex digits from the kernel's random source (getrandom). */
void cor_token_generate(char out[33]);

/* ---- messages ---- */

typedef struct cor_intake {
    int64_t msg;          /* messages.id of the stored (or already stored) original */
    int64_t thread;       /* the thread it is in, in this group */
    int64_t work;         /* the 'index' work item queued for it (0 for a duplicate) */
    bool duplicate;       /* the group already had this Message-ID: nothing written */
    GArray *merged;       /* int64_t messages.id whose thread changed (transfer
                             full; NULL when none) — they need re-indexing */
    GArray *merged_work;  /* int64_t: the 'index' work items queued for them,
                             in the same transaction (NULL when none) */
} cor_intake_t;

void cor_intake_clear(cor_intake_t *in);

/* Stores one message in a group, inside the caller's transaction: the
 * original (unless the same bytes are stored already), its parsed summary,
 * attachments, its thread node (thread.h), an 'index' and a 'render' work
 * item (and both for every post whose thread merged into its thread).
 * Returns COR_DUPLICATE (res->duplicate set) when the group already has the
 * Message-ID.  `sha256` is cor_sha256_hex of raw. */
cor_status_t cor_store_add_message(cor_store_t *st, int64_t group_id,
                                   const char *raw, size_t len, const char *sha256,
                                   int64_t received, const cor_message_t *msg,
                                   cor_intake_t *res);

/* How a post is kept (thread_nodes.status). */
typedef enum cor_post_status {
    COR_POST_ACCEPTED = 0,     /* archived, in feeds and digests */
    COR_POST_RESTRICTED,       /* stored and indexed for FOI roles only; every
                                  archive, feed, digest and ordinary search
                                  leaves it out (a ghost in its thread) */
} cor_post_status_t;
const char *cor_post_status_to_string(cor_post_status_t s);

/* The same, choosing how the post is kept. */
cor_status_t cor_store_add_message_as(cor_store_t *st, int64_t group_id,
                                      const char *raw, size_t len, const char *sha256,
                                      int64_t received, const cor_message_t *msg,
                                      cor_post_status_t status, cor_intake_t *res);

/* The summary of a stored message, as the CLI and the index need it. */
typedef struct cor_stored_message {
    int64_t id;
    char *message_id;
    char *subject;
    char *from_display;
    char *from_addr;
    int64_t date;
    int64_t received;
    uint64_t size;
    char *sha256;
    char *from_name;           /* the decoded display name, "" when none */
} cor_stored_message_t;

void cor_stored_message_free(cor_stored_message_t *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_stored_message_t, cor_stored_message_free)

/* By row id.  COR_ERR_NOT_FOUND when absent.  *out transfer full. */
cor_status_t cor_store_message_get(cor_store_t *st, int64_t id, cor_stored_message_t **out);

/* Message rows with this Message-ID (normalised, without <>), any group
 * (transfer full GArray of int64_t; empty when none). */
cor_status_t cor_store_message_find(cor_store_t *st, const char *message_id, GArray **rows);

/* The original bytes (transfer full). */
cor_status_t cor_store_message_raw(cor_store_t *st, int64_t id, GBytes **raw);

/* At most the first `max` bytes of the original (transfer full), read
 * without loading the rest: for what needs only the start of a message (a
 * search hit's snippet), so that a message with a large attachment costs
 * `max` bytes rather than its size.  (A digest's excerpt keeps the whole
 * body for its mime and rfc1153 formats: it reads the whole original.)
 * COR_ERR_NOT_FOUND when absent. */
cor_status_t cor_store_message_raw_head(cor_store_t *st, int64_t id, size_t max, GBytes **raw);

/* Group memberships of a message: names (transfer full, GPtrArray of char*)
 * and the thread id in each group (GArray of int64_t), same order.  Only
 * accepted posts. */
cor_status_t cor_store_message_groups(cor_store_t *st, int64_t id, GPtrArray **groups,
                                      GArray **threads);

/* Number of messages stored (distinct originals). */
cor_status_t cor_store_message_count(cor_store_t *st, int64_t *count);

/* ---- work queue ---- */

cor_status_t cor_store_work_add(cor_store_t *st, const char *kind, int64_t msg);
/* Up to `max` pending items of `kind`, oldest first: ids (GArray int64_t)
 * and their message rows (GArray int64_t).  Transfer full. */
cor_status_t cor_store_work_pending(cor_store_t *st, const char *kind, size_t max,
                                    GArray **ids, GArray **msgs);
/* Deletes items of `kind` with id <= upto. */
cor_status_t cor_store_work_done(cor_store_t *st, const char *kind, int64_t upto);
/* Queues a `kind` item for every stored message (reindex). */
cor_status_t cor_store_work_add_all(cor_store_t *st, const char *kind);
/* Deletes the work items with these ids (GArray of int64_t). */
cor_status_t cor_store_work_delete(cor_store_t *st, GArray *ids);
cor_status_t cor_store_work_count(cor_store_t *st, const char *kind, int64_t *count);

/* The id of the newest pending item of `kind` (0 when none). */
cor_status_t cor_store_work_last(cor_store_t *st, const char *kind, int64_t *id);

/* ---- reading for the archive ---- */

/* One accepted post: a message in a group's thread.  Strings borrowed for
 * the duration of the callback. */
typedef struct cor_store_post {
    int64_t group_id;
    int64_t thread;            /* live thread id */
    int64_t msg;               /* messages.id */
    const char *message_id;
    int64_t date;
    const char *subject;
    const char *from_name;
    const char *from_addr;
    bool has_attachments;
} cor_store_post_t;

/* Calls fn for every accepted post (msg 0 and thread 0), the posts of one
 * message (msg > 0: one per group it is in) or of one thread (thread > 0),
 * by group then message row.  A status other than COR_OK from fn stops the
 * walk and is returned. */
cor_status_t cor_store_posts_foreach(cor_store_t *st, int64_t msg, int64_t thread,
                                     cor_status_t (*fn)(const cor_store_post_t *post, void *data),
                                     void *data);

/* Calls fn, as cor_store_posts_foreach does, for the accepted posts in
 * group `group_id` of the messages that have one of the newest `max`
 * pending work items of `kind` (0: every item), newest item first; a
 * message queued twice comes twice.  For 'render': the posts whose archive
 * pages the renderer has not written yet (the HTTP listener's "being added
 * to the archive" answer, and downloads before the renderer's model knows
 * the post).  Reads at most `max` work rows, however long the queue. */
cor_status_t cor_store_posts_queued(cor_store_t *st, const char *kind, int64_t group_id,
                                    size_t max,
                                    cor_status_t (*fn)(const cor_store_post_t *post, void *data),
                                    void *data);

/* The archive's URL key of a Message-ID or an address (messages.key,
 * messages.from_key): the first 16 hex digits of its SHA-256, into out[17]. */
void cor_store_key(const char *s, char out[17]);

/* The posts of thread `thread`'s ends: fn for its first post, then for its
 * last (once when it has one), by (date, message row); *count its accepted
 * posts.  Index seeks: cheap whatever the thread's size. */
cor_status_t cor_store_thread_ends(cor_store_t *st, int64_t thread, int64_t *count,
                                   cor_status_t (*fn)(const cor_store_post_t *post, void *data),
                                   void *data);
/* Group `group_id`'s accepted posts of archive month `month` (see
 * group_months) by (date, message row). */
cor_status_t cor_store_posts_month(cor_store_t *st, int64_t group_id, int month,
                                   cor_status_t (*fn)(const cor_store_post_t *post, void *data),
                                   void *data);
/* The group's newest `max` accepted posts, newest first by month, then by
 * (date, message row) — the order of its feed. */
cor_status_t cor_store_posts_newest(cor_store_t *st, int64_t group_id, int64_t max,
                                    cor_status_t (*fn)(const cor_store_post_t *post, void *data),
                                    void *data);
/* The group's accepted post whose messages.key is `key` (none: fn is not
 * called). */
cor_status_t cor_store_post_by_key(cor_store_t *st, int64_t group_id, const char *key,
                                   cor_status_t (*fn)(const cor_store_post_t *post, void *data),
                                   void *data);
/* Every accepted post, in any group, whose messages.from_key is
 * `from_key`: newest first by (date, message row, group name), walking the
 * index messages_from_key backwards (no sort of the author's posts: `fn`
 * may stop early by returning COR_DONE, which is then returned). */
/* How many accepted posts the author has in each group: pairs (group id,
 * count) in *out (transfer full), in no particular order. */
cor_status_t cor_store_author_counts(cor_store_t *st, const char *from_key, GArray **out);
cor_status_t cor_store_posts_by_author(cor_store_t *st, const char *from_key,
                                       cor_status_t (*fn)(const cor_store_post_t *post, void *data),
                                       void *data);

/* A group's listed threads (with a last_date), accepted posts and newest
 * last_date (0 when none). */
cor_status_t cor_store_group_activity(cor_store_t *st, int64_t group_id, int64_t *threads,
                                      int64_t *posts, int64_t *last_date);
/* The group's months with posts, newest first, as pairs (month, posts) in
 * one GArray of int64_t (transfer full). */
cor_status_t cor_store_group_months(cor_store_t *st, int64_t group_id, GArray **pairs);
/* How many listed threads of the group are at or after (last_date, id) in
 * activity order (index range: cheap for recent activity). */
cor_status_t cor_store_threads_after(cor_store_t *st, int64_t group_id, int64_t last_date,
                                     int64_t id, int64_t *count);
/* The group's `max` most recently active listed threads, newest first, as
 * pairs (id, last_date) in one GArray of int64_t (transfer full). */
cor_status_t cor_store_threads_newest(cor_store_t *st, int64_t group_id, int64_t max,
                                      GArray **pairs);

/* One thread row as the archive needs it. */
typedef struct cor_store_thread_state {
    int64_t id;
    int64_t group_id;
    int64_t merged_into;       /* 0: not merged */
    bool live;                 /* has accepted posts: last_date is set */
    int64_t last_date;
    bool listed;               /* threads.shown is set */
    int64_t shown;
    int64_t shown_into;        /* 0: none */
} cor_store_thread_state_t;

/* COR_ERR_NOT_FOUND when there is no such thread. */
cor_status_t cor_store_thread_state(cor_store_t *st, int64_t thread, cor_store_thread_state_t *out);
/* The threads merged into `live`, by id (GArray of cor_store_thread_state_t,
 * transfer full). */
cor_status_t cor_store_thread_merged(cor_store_t *st, int64_t live, GArray **out);
/* Records what the archive shows for a thread (threads.shown: `shown` when
 * `listed`, else NULL; threads.shown_into: shown_into, 0 for NULL).  Inside
 * the caller's write transaction. */
cor_status_t cor_store_thread_set_shown(cor_store_t *st, int64_t thread, bool listed,
                                        int64_t shown, int64_t shown_into);
/* Clears the record for every thread of a group (group_id 0: all groups). */
cor_status_t cor_store_threads_clear_shown(cor_store_t *st, int64_t group_id);

/* The merged (alias) thread ids of a group with the thread each merged into,
 * as pairs in one GArray of int64_t: old, live, old, live... (transfer full). */
cor_status_t cor_store_thread_aliases(cor_store_t *st, int64_t group_id, GArray **pairs);

/* The meta table: small named values of derived data ('archive_generation').
 * _get: COR_ERR_NOT_FOUND when unset; *value transfer full. */
cor_status_t cor_store_meta_get(cor_store_t *st, const char *key, char **value);
cor_status_t cor_store_meta_set(cor_store_t *st, const char *key, const char *value);

/* ---- control mail (-request, -owner, -bounces) ---- */

typedef enum cor_control_kind {
    COR_CONTROL_REQUEST,
    COR_CONTROL_OWNER,
    COR_CONTROL_BOUNCES,
} cor_control_kind_t;

const char *cor_control_kind_to_string(cor_control_kind_t k);

/* Stores mail for a group's control address inside the caller's transaction.
 * COR_DUPLICATE when the same bytes for the same address are stored already. */
cor_status_t cor_store_control_add(cor_store_t *st, int64_t group_id, cor_control_kind_t kind,
                                   const char *detail, const char *env_from, const char *rcpt,
                                   const char *raw, size_t len, const char *sha256,
                                   int64_t received, int64_t *id_out);
/* Control mail with this status ('new': not yet handled). */
cor_status_t cor_store_control_count(cor_store_t *st, const char *status, int64_t *count);

/* One stored control mail. */
typedef struct cor_control_mail {
    int64_t id;
    int64_t group_id;
    char *kind;                /* 'request', 'owner', 'bounces' */
    char *detail;
    char *env_from;
    char *rcpt;
    int64_t received;
    GBytes *raw;
} cor_control_mail_t;
void cor_control_mail_free(cor_control_mail_t *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_control_mail_t, cor_control_mail_free)
/* The oldest control mail still 'new' with id > after; NULL *out when none. */
cor_status_t cor_store_control_next(cor_store_t *st, int64_t after, cor_control_mail_t **out);
/* Sets the handle's PRAGMA synchronous: FULL (the default: a commit
 * survives power loss) or NORMAL (survives a crash of the process, not of
 * the machine; for records whose loss only repeats work, like the outbound
 * worker's "sent" marks). */
cor_status_t cor_store_set_synchronous(cor_store_t *st, bool full);
/* Marks control mail handled: status 'done' or 'failed', with a note. */
cor_status_t cor_store_control_done(cor_store_t *st, int64_t id, const char *status,
                                    const char *note);

/* ---- the outbox (store_outbox.c; schema above) ---- */

/* Queues one copy of post `msg` for every enabled member of the group in
 * 'each' mode, except the author (`author`, any case) unless they asked
 * for their own copies; `domain` is the list's domain (the one the post was
 * sent to).  Inside the caller's transaction.  *count: copies queued (no
 * outbox row when 0). */
cor_status_t cor_store_outbox_post(cor_store_t *st, int64_t group_id, int64_t msg,
                                   const char *domain, const char *author, int64_t *count);
/* Queues a generated message (complete bytes) for `rcpts` (NULL-terminated)
 * with envelope sender `env_from` ("" is the null sender).  `group_id` 0: no
 * group.  Inside the caller's transaction. */
cor_status_t cor_store_outbox_add(cor_store_t *st, const char *kind, int64_t group_id,
                                  const char *domain, const char *env_from, const char *body,
                                  size_t len, const char *const *rcpts, int64_t *id_out);

/* One recipient's copy waiting to be sent. */
typedef struct cor_outbox_item {
    int64_t id;                /* outbox_rcpt.id */
    int64_t outbox;
    char *kind;
    int64_t group_id;          /* 0: none */
    int64_t msg;               /* the post (kind 'post'), else 0 */
    char *domain;
    char *env_from;            /* NULL: VERP (a post's copy) */
    char *address;
    int attempts;
    char *token;               /* the member's unsubscribe token, NULL when not a member */
    char *name;                /* the member's name, "" when unknown */
    int64_t created;           /* when it was queued */
    int64_t next_try;          /* cor_store_outbox_list only */
    char *last_error;          /* cor_store_outbox_list only */
} cor_outbox_item_t;
void cor_outbox_item_free(cor_outbox_item_t *it);
/* Up to `max` copies due at `now` with id > `after`, by id (GPtrArray of
 * cor_outbox_item_t*, transfer full). */
cor_status_t cor_store_outbox_due(cor_store_t *st, int64_t now, int64_t after, guint max,
                                  GPtrArray **out);
/* A generated message's bytes (transfer full); NULL *body for a post. */
cor_status_t cor_store_outbox_body(cor_store_t *st, int64_t outbox, GBytes **body);
/* The relay took the copy (or refused it for good): the recipient's row
 * goes, and the outbox row with its last recipient. */
cor_status_t cor_store_outbox_done(cor_store_t *st, int64_t id);
/* The same for many copies at once (one outbox check per outbox row). */
cor_status_t cor_store_outbox_done_many(cor_store_t *st, const int64_t *ids, guint n);
/* A temporary failure: try again at `next_try`. */
cor_status_t cor_store_outbox_retry(cor_store_t *st, int64_t id, int64_t next_try,
                                    const char *error);
/* Copies waiting, and how many of them have failed at least once. */
cor_status_t cor_store_outbox_count(cor_store_t *st, int64_t *queued, int64_t *deferred);
/* When the next deferred copy is due (0: none waiting). */
cor_status_t cor_store_outbox_next_due(cor_store_t *st, int64_t *when);
/* Copies whose next try is later than `latest` (retry times written by a
 * clock that has since been set back) are made due at `now`; *moved (may
 * be NULL) says how many.  Writes nothing when there are none. */
cor_status_t cor_store_outbox_unstick(cor_store_t *st, int64_t latest, int64_t now,
                                      int64_t *moved);

/* ---- bounces (store_outbox.c) ---- */

/* Counts a failure against a member: the score decays by half every
 * `half_life` seconds, then `score` is added; at `threshold` or more (to two
 * decimals, as scores are shown) the
 * member's delivery is disabled ("bounces: ...") and *disabled is set (only
 * on the change).  Not a member: recorded, nothing else. */
cor_status_t cor_store_bounce_record(cor_store_t *st, int64_t group_id, const char *address,
                                     const char *cls, double score, const char *status,
                                     const char *detail, const char *source, int64_t now,
                                     int64_t half_life, double threshold, bool *disabled);
/* A member's bounce record, for `corridor bounces`. */
typedef struct cor_bounce_score {
    char *address;
    double score;              /* decayed to `now` */
    char *status;              /* the member's: 'enabled' / 'disabled' */
    char *reason;
    int64_t hard, soft;        /* events counted */
    int64_t last_at;
    char *last_class, *last_status, *last_detail;
} cor_bounce_score_t;
void cor_bounce_score_free(cor_bounce_score_t *b);
/* Every member (or former member) with a bounce event in the group, worst
 * first (GPtrArray of cor_bounce_score_t*, transfer full). */
cor_status_t cor_store_bounce_scores(cor_store_t *st, int64_t group_id, int64_t now,
                                     int64_t half_life, GPtrArray **out);
/* Every copy waiting, oldest first (for `corridor outbox list`). */
cor_status_t cor_store_outbox_list(cor_store_t *st, guint max, GPtrArray **out);
/* A member's score now (decayed). */
double cor_bounce_decayed(double score, int64_t since, int64_t now, int64_t half_life);

/* ---- one-time tokens (store_outbox.c) ---- */

typedef struct cor_token {
    char *token;
    char *kind;                /* 'join' or 'moderate' */
    int64_t group_id;
    char *address;
    int64_t ref;
    char *data;
    int64_t created, expires;
} cor_token_t;
void cor_token_free(cor_token_t *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_token_t, cor_token_free)
/* A new token (transfer full) valid for `ttl` seconds. */
cor_status_t cor_store_token_new(cor_store_t *st, const char *kind, int64_t group_id,
                                 const char *address, int64_t ref, const char *data,
                                 int64_t ttl, char **token);
/* Uses a token up: returned and deleted.  COR_ERR_NOT_FOUND when unknown,
 * of another kind, or expired. */
cor_status_t cor_store_token_take(cor_store_t *st, const char *token, const char *kind,
                                  cor_token_t **out);

/* ---- per-group settings (store_policy.c) ---- */

/* Sets (value non-NULL) or removes (NULL) one setting of a group.  The
 * store does not know what keys mean: filters/filter.h checks them. */
cor_status_t cor_store_group_setting_set(cor_store_t *st, int64_t group_id, const char *key,
                                         const char *value);
/* A group's settings as key, value, key, value... by key (transfer full). */
cor_status_t cor_store_group_settings(cor_store_t *st, int64_t group_id, GPtrArray **pairs);

/* True in *first when `from_addr` has no accepted or restricted post in the
 * group yet (first-post moderation). */
cor_status_t cor_store_first_post(cor_store_t *st, int64_t group_id, const char *from_addr,
                                  bool *first);

/* ---- held posts (store_policy.c) ---- */

typedef struct cor_held {
    int64_t id;
    int64_t group_id;
    char *group;               /* group name */
    char *message_id;
    char *sha256;
    char *env_from;
    char *rcpt;
    char *from_addr;
    char *subject;
    uint64_t size;
    int64_t received;
    char *filter;              /* the filter that held it */
    char *reason;
    bool restricted;           /* to be accepted as restricted on approval */
    char *status;              /* 'held', 'approved', 'rejected' */
    int64_t decided;           /* 0 while held */
    char *decided_by;
    char *note;
} cor_held_t;

void cor_held_free(cor_held_t *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_held_t, cor_held_free)

/* Keeps a held post, inside the caller's transaction.  COR_DUPLICATE (and
 * nothing written) when the group already holds, or held, this Message-ID:
 * a redelivery is held once. */
cor_status_t cor_store_held_add(cor_store_t *st, int64_t group_id, const char *raw, size_t len,
                                const char *sha256, const cor_message_t *msg,
                                const char *env_from, const char *rcpt, int64_t received,
                                const char *filter, const char *reason, bool restricted,
                                int64_t *id_out);
/* Held posts, oldest first: of one group (group_id > 0) or all, with one
 * status or any (NULL).  GPtrArray of cor_held_t* (transfer full). */
cor_status_t cor_store_held_list(cor_store_t *st, int64_t group_id, const char *status,
                                 GPtrArray **out);
/* One held post and (raw non-NULL) its original bytes.  COR_ERR_NOT_FOUND
 * when there is no such id.  Transfer full. */
cor_status_t cor_store_held_get(cor_store_t *st, int64_t id, cor_held_t **out, GBytes **raw);
/* Records the decision on a post still 'held' (status 'approved' or
 * 'rejected'); COR_ERR_INVALID with the error text when it was decided
 * already.  Inside the caller's transaction. */
cor_status_t cor_store_held_decide(cor_store_t *st, int64_t id, const char *status,
                                   int64_t when, const char *by, const char *note);

/* ---- for the index ---- */

/* Every group place of a message, accepted or restricted: names, thread
 * ids and whether the post is restricted there (GArray of gboolean), by
 * group name (transfer full). */
cor_status_t cor_store_message_places(cor_store_t *st, int64_t id, GPtrArray **groups,
                                      GArray **threads, GArray **restricted);

/* ==== groups as a whole (store_groups.c) ==== */

/* What a group holds, for `group show` and `group delete`. */
typedef struct cor_group_counts {
    int64_t members, enabled, disabled;   /* disabled: any status but 'enabled' */
    int64_t each, digest, none;           /* members by delivery mode */
    int64_t owners, moderators;
    int64_t posts;             /* accepted and restricted posts */
    int64_t threads;           /* live threads (merged aliases not counted) */
    int64_t only_here;         /* messages no other group has */
    int64_t held;              /* posts waiting for a moderator */
    int64_t control_mail;      /* -request/-owner/-bounces mail, any status */
    int64_t outbox;            /* copies still queued for sending */
    int64_t optouts;
    int64_t settings;          /* the group's own settings (group_settings) */
} cor_group_counts_t;
cor_status_t cor_store_group_counts(cor_store_t *st, int64_t group_id, cor_group_counts_t *out);

/* Every member of a group with all their fields, by address (GPtrArray of
 * cor_member_detail_t*, transfer full). */
cor_status_t cor_store_member_details(cor_store_t *st, int64_t group_id, GPtrArray **out);

/* Deletes a group and every row that is its, inside the caller's
 * transaction: thread nodes, threads and conversations; the messages no
 * other group has (with their originals, attachments, work items and queued
 * copies); members, settings, held posts, control mail, the outbox, tokens,
 * opt-outs and bounce events.  Messages other groups also have stay, and an
 * 'index' work item is queued for each so the index drops this group from
 * them.  *removed: the message rows deleted (their index documents are now
 * stale; searches skip rows the store no longer has, and the caller should
 * delete them from the index after the commit); *kept: the shared ones.
 * Both GArray of int64_t, transfer full.  COR_ERR_HELD, and nothing
 * deleted, when a post of the group is under a legal hold (or the group is)
 * or selected for a records case: the error text names the holds or cases.
 * Released holds on the group keep its name as their target. */
cor_status_t cor_store_group_delete(cor_store_t *st, int64_t group_id, GArray **removed,
                                    GArray **kept);

/* ==== digests (store_digest.c; schema above) ==== */

/* The post sequence now: every post with seq <= *seq is stored (inside a
 * read transaction, what that snapshot holds). */
cor_status_t cor_store_post_seq(cor_store_t *st, int64_t *seq);

/* A person's digest choices (digest_prefs); the defaults (separate digests,
 * 'multipart') when they never chose.  *format transfer full. */
cor_status_t cor_store_digest_prefs_get(cor_store_t *st, const char *address, bool *combined,
                                        char **format);
/* Changes them: `combined` NULL or `format` NULL leaves that one as it is.
 * The store does not check the format's name (digest/digest.h does). */
cor_status_t cor_store_digest_prefs_set(cor_store_t *st, const char *address,
                                        const bool *combined, const char *format);

/* One of a person's memberships in 'digest' mode (enabled), with where
 * its next digest starts. */
typedef struct cor_digest_membership {
    int64_t group_id;
    char *group;               /* name */
    char *title;
    cor_visibility_t visibility;
    char *name;                /* the member's name, "" when unknown */
    char *token;               /* the member's unsubscribe token, "" when none */
    int64_t after;             /* posts with seq > after are new to them: the
                                  largest of members.digest_from and the
                                  upto_seq of their digests for this group
                                  or '*' */
    int64_t last_at;           /* when their last digest for it (or a combined
                                  one) was sent, 0: none */
} cor_digest_membership_t;
void cor_digest_membership_free(cor_digest_membership_t *m);
/* The address's enabled digest-mode memberships by group name (GPtrArray of
 * cor_digest_membership_t*, transfer full; empty when none). */
cor_status_t cor_store_digest_memberships(cor_store_t *st, const char *address, GPtrArray **out);
/* Every address with at least one enabled digest-mode membership, sorted
 * (GPtrArray of char*, transfer full). */
cor_status_t cor_store_digest_addresses(cor_store_t *st, GPtrArray **out);

/* One accepted post of a digest (strings borrowed for the callback). */
typedef struct cor_store_digest_post {
    int64_t seq;
    int64_t msg;               /* messages.id */
    int64_t thread;            /* live thread id */
    const char *message_id;
    int64_t date;
    const char *subject;
    const char *from_name;
    const char *from_addr;
    const char *refs;          /* References, space separated, oldest first */
    bool has_attachments;
} cor_store_digest_post_t;
/* Calls fn for every accepted post of the group with after < seq <= upto,
 * by seq.  Held posts are not posts; restricted ones are left out.  A status
 * other than COR_OK from fn stops the walk and is returned. */
cor_status_t cor_store_digest_posts(cor_store_t *st, int64_t group_id, int64_t after, int64_t upto,
                                    cor_status_t (*fn)(const cor_store_digest_post_t *p, void *data),
                                    void *data);

/* A thread as a digest names it: the subject of its earliest accepted post
 * (by date; transfer full), how many accepted posts it had with
 * seq <= after (*earlier: 0 means the thread is new), and in all up to
 * `upto`. */
cor_status_t cor_store_digest_thread(cor_store_t *st, int64_t thread, int64_t after, int64_t upto,
                                     char **subject, int64_t *earlier, int64_t *total);

/* A digest made (a row of `digests`). */
typedef struct cor_digest_record {
    int64_t id;
    char *address;
    char *scope;               /* group name, or "*" */
    char *period;
    int64_t from_seq, upto_seq;
    char *state;               /* 'queued' or 'empty' */
    int64_t posts;
    int64_t outbox;            /* 0: none */
    char *message_id;
    int64_t created;
} cor_digest_record_t;
void cor_digest_record_free(cor_digest_record_t *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_digest_record_t, cor_digest_record_free)
/* Records a digest inside the caller's transaction (the one that queued
 * its bytes).  COR_DUPLICATE, nothing written, when the address has one
 * for this scope and period already.  r->id is set. */
cor_status_t cor_store_digest_add(cor_store_t *st, cor_digest_record_t *r);
/* COR_OK with *out when the address has a digest for scope and period,
 * COR_ERR_NOT_FOUND if not.  Transfer full. */
cor_status_t cor_store_digest_get(cor_store_t *st, const char *address, const char *scope,
                                  const char *period, cor_digest_record_t **out);
/* The digests made, newest first, of one address (NULL: all), at most
 * `max` (GPtrArray of cor_digest_record_t*, transfer full). */
cor_status_t cor_store_digest_list(cor_store_t *st, const char *address, guint max,
                                   GPtrArray **out);

#endif
