/* core/store.c — the SQLite store.  Design notes and schema: store.h. */
#include "core/store.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/store_internal.h"
#include "core/thread.h"

/* ---- migrations: append only; migration i takes user_version i to i+1 ---- */

/* The month of a date as the archive counts it (archive-web/model.c
 * month_of): year * 12 + month - 1 in UTC, 0 outside years 1 to 9999. */
#define MONTH_OF(d)                                                                          \
    "(CASE WHEN " d " BETWEEN -62135596800 AND 253402300799"                                 \
    " THEN CAST(strftime('%Y', " d ", 'unixepoch') AS INTEGER) * 12"                         \
    " + CAST(strftime('%m', " d ", 'unixepoch') AS INTEGER) - 1 ELSE 0 END)"

/* A thread's last activity: the newest date of its accepted posts (NULL
 * when it has none), one seek in thread_nodes_thread_date. */
#define THREAD_LAST_DATE(t)                                                                  \
    "(SELECT max(date) FROM thread_nodes WHERE thread = " t                                  \
    " AND msg IS NOT NULL AND status = 'accepted')"

static const char *const migrations[] = {
    /* 0 → 1: the first schema */
    "CREATE TABLE groups ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  title TEXT NOT NULL DEFAULT '',"
    "  description TEXT NOT NULL DEFAULT '',"
    "  visibility TEXT NOT NULL DEFAULT 'public'"
    "    CHECK (visibility IN ('public','staff','private')),"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY,"
    "  message_id TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL UNIQUE,"
    "  size INTEGER NOT NULL,"
    "  received INTEGER NOT NULL,"
    "  date INTEGER NOT NULL,"
    "  subject TEXT NOT NULL DEFAULT '',"
    "  from_addr TEXT NOT NULL DEFAULT '',"
    "  from_name TEXT NOT NULL DEFAULT '',"
    "  from_display TEXT NOT NULL DEFAULT '',"
    "  to_text TEXT NOT NULL DEFAULT '',"
    "  cc_text TEXT NOT NULL DEFAULT '',"
    "  in_reply_to TEXT NOT NULL DEFAULT '',"
    "  refs TEXT NOT NULL DEFAULT '',"
    "  thread_index TEXT NOT NULL DEFAULT '',"
    "  thread_topic TEXT NOT NULL DEFAULT '',"
    "  list_id TEXT NOT NULL DEFAULT '',"
    "  has_attachments INTEGER NOT NULL DEFAULT 0,"
    "  synthetic_id INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX messages_message_id ON messages(message_id);"
    "CREATE TABLE originals ("
    "  message INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,"
    "  raw BLOB NOT NULL);"
    "CREATE TABLE attachments ("
    "  message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
    "  part_index INTEGER NOT NULL,"
    "  filename TEXT NOT NULL,"
    "  content_type TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  PRIMARY KEY (message, part_index));"
    "CREATE TABLE threads ("
    "  id INTEGER PRIMARY KEY,"
    "  group_id INTEGER NOT NULL REFERENCES groups(id),"
    "  merged_into INTEGER REFERENCES threads(id),"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE thread_nodes ("
    "  group_id INTEGER NOT NULL REFERENCES groups(id),"
    "  message_id TEXT NOT NULL,"
    "  thread INTEGER NOT NULL REFERENCES threads(id),"
    "  parent TEXT,"
    "  msg INTEGER REFERENCES messages(id),"
    "  status TEXT NOT NULL DEFAULT 'accepted',"
    "  added INTEGER NOT NULL,"
    "  PRIMARY KEY (group_id, message_id)) WITHOUT ROWID;"
    "CREATE INDEX thread_nodes_thread ON thread_nodes(thread);"
    "CREATE INDEX thread_nodes_msg ON thread_nodes(msg) WHERE msg IS NOT NULL;"
    "CREATE INDEX thread_nodes_parent ON thread_nodes(group_id, parent) WHERE parent IS NOT NULL;"
    "CREATE TABLE thread_conversations ("
    "  group_id INTEGER NOT NULL,"
    "  conv TEXT NOT NULL,"
    "  topic TEXT NOT NULL,"
    "  thread INTEGER NOT NULL,"
    "  PRIMARY KEY (group_id, conv, topic));"
    "CREATE TABLE members ("
    "  group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
    "  address TEXT NOT NULL,"
    "  name TEXT NOT NULL DEFAULT '',"
    "  mode TEXT NOT NULL DEFAULT 'each',"
    "  role TEXT NOT NULL DEFAULT 'member',"
    "  status TEXT NOT NULL DEFAULT 'enabled',"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  added INTEGER NOT NULL,"
    "  PRIMARY KEY (group_id, address));"
    "CREATE TABLE work ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  msg INTEGER,"
    "  created INTEGER NOT NULL);"
    "CREATE INDEX work_kind ON work(kind, id);"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    /* 1 → 2: mail for a group's -request, -owner and -bounces addresses,
     * kept for the command handler and bounce processing */
    "CREATE TABLE control_mail ("
    "  id INTEGER PRIMARY KEY,"
    "  group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL CHECK (kind IN ('request','owner','bounces')),"
    "  detail TEXT NOT NULL DEFAULT '',"
    "  env_from TEXT NOT NULL,"
    "  rcpt TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  raw BLOB NOT NULL,"
    "  received INTEGER NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'new',"
    "  UNIQUE (group_id, kind, detail, sha256));"
    "CREATE INDEX control_mail_new ON control_mail(status, id);",
    /* 2 → 3: the filters — per-group settings, held posts, and an index for
     * "has this sender posted here before" (first-post moderation, SAR) */
    "CREATE TABLE group_settings ("
    "  group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (group_id, key)) WITHOUT ROWID;"
    "CREATE TABLE held ("
    "  id INTEGER PRIMARY KEY,"
    "  group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
    "  message_id TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  env_from TEXT NOT NULL,"
    "  rcpt TEXT NOT NULL,"
    "  from_addr TEXT NOT NULL DEFAULT '',"
    "  subject TEXT NOT NULL DEFAULT '',"
    "  size INTEGER NOT NULL,"
    "  raw BLOB NOT NULL,"
    "  received INTEGER NOT NULL,"
    "  filter TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  restricted INTEGER NOT NULL DEFAULT 0,"
    "  status TEXT NOT NULL DEFAULT 'held' CHECK (status IN ('held','approved','rejected')),"
    "  decided INTEGER,"
    "  decided_by TEXT NOT NULL DEFAULT '',"
    "  note TEXT NOT NULL DEFAULT '',"
    "  UNIQUE (group_id, message_id));"
    "CREATE INDEX held_status ON held(status, group_id, id);"
    "CREATE INDEX messages_from_addr ON messages(from_addr);",
    /* 3 → 4: distribution — the outbox (one row per generated message, one
     * per recipient still to be sent), members' unsubscribe tokens, where a
     * membership came from, bounce scores, opt-outs that outlive the
     * membership, and one-time tokens for confirmations and moderation */
    "ALTER TABLE members ADD COLUMN token TEXT;"
    "ALTER TABLE members ADD COLUMN source TEXT NOT NULL DEFAULT 'cli';"
    "ALTER TABLE members ADD COLUMN bounce_score REAL NOT NULL DEFAULT 0;"
    "ALTER TABLE members ADD COLUMN bounce_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE members ADD COLUMN self_copy INTEGER NOT NULL DEFAULT 0;"
    "UPDATE members SET token = lower(hex(randomblob(16)));"
    "CREATE UNIQUE INDEX members_token ON members(token);"
    "CREATE TABLE optouts ("
    "  group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
    "  address TEXT NOT NULL,"
    "  how TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  PRIMARY KEY (group_id, address)) WITHOUT ROWID;"
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  kind TEXT NOT NULL,"
    "  group_id INTEGER REFERENCES groups(id) ON DELETE CASCADE,"
    "  msg INTEGER REFERENCES messages(id) ON DELETE CASCADE,"
    "  domain TEXT NOT NULL DEFAULT '',"
    "  env_from TEXT,"
    "  body BLOB,"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE outbox_rcpt ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  outbox INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,"
    "  address TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_try INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX outbox_rcpt_due ON outbox_rcpt(next_try, id);"
    "CREATE INDEX outbox_rcpt_outbox ON outbox_rcpt(outbox);"
    "CREATE TABLE bounce_events ("
    "  id INTEGER PRIMARY KEY,"
    "  group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
    "  address TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  class TEXT NOT NULL CHECK (class IN ('hard','soft')),"
    "  score REAL NOT NULL,"
    "  status TEXT NOT NULL DEFAULT '',"
    "  detail TEXT NOT NULL DEFAULT '',"
    "  source TEXT NOT NULL);"
    "CREATE INDEX bounce_events_member ON bounce_events(group_id, address, at);"
    "CREATE TABLE tokens ("
    "  token TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('join','moderate')),"
    "  group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
    "  address TEXT NOT NULL DEFAULT '',"
    "  ref INTEGER NOT NULL DEFAULT 0,"
    "  data TEXT NOT NULL DEFAULT '',"
    "  created INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL) WITHOUT ROWID;",
    /* 4 → 5: digests — the post sequence (a high-water mark that never goes
     * back and is per group), where a member's digests start, their
     * choices, and the record of every digest made (store.h) */
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO counters VALUES ('post', (SELECT coalesce(max(msg), 0) FROM thread_nodes));"
    "ALTER TABLE thread_nodes ADD COLUMN seq INTEGER;"
    "UPDATE thread_nodes SET seq = msg WHERE msg IS NOT NULL;"
    "CREATE INDEX thread_nodes_seq ON thread_nodes(group_id, seq) WHERE seq IS NOT NULL;"
    "CREATE TRIGGER thread_nodes_seq_insert AFTER INSERT ON thread_nodes"
    "  WHEN new.msg IS NOT NULL BEGIN"
    "  UPDATE counters SET value = value + 1 WHERE name = 'post';"
    "  UPDATE thread_nodes SET seq = (SELECT value FROM counters WHERE name = 'post')"
    "   WHERE group_id = new.group_id AND message_id = new.message_id;"
    " END;"
    "CREATE TRIGGER thread_nodes_seq_filled AFTER UPDATE OF msg ON thread_nodes"
    "  WHEN new.msg IS NOT NULL AND old.msg IS NOT new.msg BEGIN"
    "  UPDATE counters SET value = value + 1 WHERE name = 'post';"
    "  UPDATE thread_nodes SET seq = (SELECT value FROM counters WHERE name = 'post')"
    "   WHERE group_id = new.group_id AND message_id = new.message_id;"
    " END;"
    "ALTER TABLE members ADD COLUMN digest_from INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX members_address ON members(address, mode);"
    "UPDATE members SET digest_from = (SELECT value FROM counters WHERE name = 'post')"
    " WHERE mode = 'digest';"
    "CREATE TRIGGER members_digest_insert AFTER INSERT ON members"
    "  WHEN new.mode = 'digest' BEGIN"
    "  UPDATE members SET digest_from = (SELECT value FROM counters WHERE name = 'post')"
    "   WHERE group_id = new.group_id AND address = new.address;"
    " END;"
    "CREATE TRIGGER members_digest_mode AFTER UPDATE OF mode ON members"
    "  WHEN new.mode = 'digest' AND old.mode IS NOT 'digest' BEGIN"
    "  UPDATE members SET digest_from = (SELECT value FROM counters WHERE name = 'post')"
    "   WHERE group_id = new.group_id AND address = new.address;"
    " END;"
    "CREATE TABLE digest_prefs ("
    "  address TEXT PRIMARY KEY,"
    "  combined INTEGER NOT NULL DEFAULT 0,"
    "  format TEXT NOT NULL DEFAULT 'multipart',"
    "  updated INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE digests ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  address TEXT NOT NULL,"
    "  scope TEXT NOT NULL,"
    "  period TEXT NOT NULL,"
    "  from_seq INTEGER NOT NULL,"
    "  upto_seq INTEGER NOT NULL,"
    "  state TEXT NOT NULL,"
    "  posts INTEGER NOT NULL DEFAULT 0,"
    "  outbox INTEGER,"
    "  message_id TEXT NOT NULL DEFAULT '',"
    "  created INTEGER NOT NULL,"
    "  UNIQUE (address, scope, period));"
    "CREATE INDEX digests_member ON digests(address, scope, upto_seq);"
    "CREATE TRIGGER groups_digests_delete AFTER DELETE ON groups BEGIN"
    "  DELETE FROM digests WHERE scope = old.name;"
    " END;",
    /* 5 → 6: records (records/, store.h "Records") — FOI/EIR/SAR cases, what
     * was searched and added for each, redactions, legal holds, disposals
     * and the hash-chained audit trail.  A message under a live hold cannot
     * be deleted by anything: the messages_hold trigger refuses it. */
    "CREATE TABLE cases ("
    "  id INTEGER PRIMARY KEY,"
    "  ref TEXT NOT NULL UNIQUE,"
    "  type TEXT NOT NULL CHECK (type IN ('foi','eir','sar')),"
    "  jurisdiction TEXT NOT NULL DEFAULT 'england-wales'"
    "    CHECK (jurisdiction IN ('england-wales','scotland','northern-ireland')),"
    "  received TEXT NOT NULL,"
    "  due TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','stopped','closed')),"
    "  stopped_on TEXT,"
    "  days_stopped INTEGER NOT NULL DEFAULT 0,"
    "  person TEXT NOT NULL DEFAULT '',"
    "  opened_by TEXT NOT NULL,"
    "  opened INTEGER NOT NULL,"
    "  closed INTEGER);"
    "CREATE TABLE case_events ("
    "  id INTEGER PRIMARY KEY,"
    "  case_id INTEGER NOT NULL REFERENCES cases(id),"
    "  at INTEGER NOT NULL,"
    "  operator TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  text TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX case_events_case ON case_events(case_id, id);"
    "CREATE TABLE case_queries ("
    "  id INTEGER PRIMARY KEY,"
    "  case_id INTEGER NOT NULL REFERENCES cases(id),"
    "  kind TEXT NOT NULL,"
    "  query TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  operator TEXT NOT NULL,"
    "  count INTEGER NOT NULL,"
    "  bytes INTEGER NOT NULL);"
    "CREATE INDEX case_queries_case ON case_queries(case_id, id);"
    "CREATE TABLE case_messages ("
    "  case_id INTEGER NOT NULL REFERENCES cases(id),"
    "  msg INTEGER NOT NULL REFERENCES messages(id),"
    "  query_id INTEGER REFERENCES case_queries(id),"
    "  added INTEGER NOT NULL,"
    "  added_by TEXT NOT NULL,"
    "  PRIMARY KEY (case_id, msg)) WITHOUT ROWID;"
    "CREATE INDEX case_messages_msg ON case_messages(msg);"
    "CREATE TABLE redactions ("
    "  id INTEGER PRIMARY KEY,"
    "  case_id INTEGER NOT NULL REFERENCES cases(id),"
    "  msg INTEGER NOT NULL REFERENCES messages(id),"
    "  span_start INTEGER NOT NULL,"
    "  span_end INTEGER NOT NULL,"
    "  text_sha256 TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  exemption TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'proposed' CHECK (state IN ('proposed','accepted','rejected')),"
    "  operator TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  CHECK (span_start >= 0 AND span_end > span_start));"
    "CREATE INDEX redactions_case ON redactions(case_id, msg, span_start);"
    "CREATE TABLE holds ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('case','query','group','message')),"
    "  case_id INTEGER REFERENCES cases(id),"
    "  group_id INTEGER REFERENCES groups(id),"
    "  target TEXT NOT NULL,"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  placed_by TEXT NOT NULL,"
    "  placed INTEGER NOT NULL,"
    "  released_by TEXT,"
    "  released INTEGER);"
    "CREATE TABLE hold_messages ("
    "  hold INTEGER NOT NULL REFERENCES holds(id),"
    "  msg INTEGER NOT NULL,"
    "  PRIMARY KEY (hold, msg)) WITHOUT ROWID;"
    "CREATE INDEX hold_messages_msg ON hold_messages(msg);"
    "CREATE VIEW held_messages AS"
    "  SELECT hm.msg AS msg, h.id AS hold FROM hold_messages hm JOIN holds h ON h.id = hm.hold"
    "   WHERE h.released IS NULL AND h.kind IN ('query','message')"
    "  UNION ALL SELECT cm.msg, h.id FROM case_messages cm JOIN holds h ON h.case_id = cm.case_id"
    "   WHERE h.released IS NULL AND h.kind = 'case'"
    "  UNION ALL SELECT tn.msg, h.id FROM thread_nodes tn JOIN holds h ON h.group_id = tn.group_id"
    "   WHERE h.released IS NULL AND h.kind = 'group' AND tn.msg IS NOT NULL;"
    "CREATE TRIGGER messages_hold BEFORE DELETE ON messages"
    "  WHEN EXISTS (SELECT 1 FROM held_messages WHERE msg = old.id) BEGIN"
    "  SELECT RAISE(ABORT, 'message under legal hold');"
    " END;"
    "CREATE TABLE disposals ("
    "  id INTEGER PRIMARY KEY,"
    "  state TEXT NOT NULL CHECK (state IN ('planned','approved','done')),"
    "  planned INTEGER NOT NULL,"
    "  planned_by TEXT NOT NULL,"
    "  approved INTEGER,"
    "  approved_by TEXT,"
    "  done INTEGER,"
    "  certificate TEXT);"
    "CREATE TABLE disposal_items ("
    "  disposal INTEGER NOT NULL REFERENCES disposals(id),"
    "  msg INTEGER NOT NULL,"
    "  message_id TEXT NOT NULL,"
    "  group_name TEXT NOT NULL,"
    "  date INTEGER NOT NULL,"
    "  schedule TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'planned' CHECK (state IN ('planned','disposed','held')),"
    "  PRIMARY KEY (disposal, msg)) WITHOUT ROWID;"
    "CREATE TABLE audit ("
    "  seq INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  operator TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  case_ref TEXT NOT NULL DEFAULT '',"
    "  detail TEXT NOT NULL DEFAULT '{}',"
    "  prev TEXT NOT NULL,"
    "  hash TEXT NOT NULL);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN"
    "  SELECT RAISE(ABORT, 'the audit trail is append-only');"
    " END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN"
    "  SELECT RAISE(ABORT, 'the audit trail is append-only');"
    " END;",
    /* 6 → 7: records fixes (store.h "Records", v7) — each audit entry's
     * login (hash version 2, core/audit.h); a case's clock start and the
     * kind of a stop (clarification restarts the count, a fee pauses it:
     * records/calendar.h), a clock stopped before v7 resuming as a
     * clarification; and the group-hold backstop: held_messages finds a
     * group's posts through thread_nodes.msg, so those links may not be
     * cleared, moved or deleted (nor the group row) while a group hold is
     * live. */
    "ALTER TABLE audit ADD COLUMN login_uid INTEGER;"
    "ALTER TABLE audit ADD COLUMN login TEXT;"
    "ALTER TABLE cases ADD COLUMN clock_from TEXT;"
    "UPDATE cases SET clock_from = received;"
    "ALTER TABLE cases ADD COLUMN stop_kind TEXT;"
    "UPDATE cases SET stop_kind = 'clarification' WHERE status = 'stopped';"
    "CREATE TRIGGER thread_nodes_hold_delete BEFORE DELETE ON thread_nodes"
    "  WHEN old.msg IS NOT NULL AND EXISTS (SELECT 1 FROM holds h WHERE h.kind = 'group'"
    "   AND h.group_id = old.group_id AND h.released IS NULL) BEGIN"
    "  SELECT RAISE(ABORT, 'message under legal hold (group hold)');"
    " END;"
    "CREATE TRIGGER thread_nodes_hold_update BEFORE UPDATE OF msg, group_id ON thread_nodes"
    "  WHEN old.msg IS NOT NULL AND (new.msg IS NOT old.msg OR new.group_id IS NOT old.group_id)"
    "   AND EXISTS (SELECT 1 FROM holds h WHERE h.kind = 'group'"
    "   AND h.group_id = old.group_id AND h.released IS NULL) BEGIN"
    "  SELECT RAISE(ABORT, 'message under legal hold (group hold)');"
    " END;"
    "CREATE TRIGGER groups_hold BEFORE DELETE ON groups"
    "  WHEN EXISTS (SELECT 1 FROM holds h WHERE h.kind = 'group' AND h.group_id = old.id"
    "   AND h.released IS NULL) BEGIN"
    "  SELECT RAISE(ABORT, 'group under legal hold');"
    " END;",
    /* 7 → 8: the archive's listings read from the store (store.h, v8;
     * archive-web/model.h): URL keys, each post's date on its node, each
     * thread's last activity, each group's posts per month (triggers keep
     * them), and what the archive's pages show now (the renderer keeps it).
     * Uses corridor_key(), which cor_store_open registers. */
    "ALTER TABLE messages ADD COLUMN key TEXT;"
    "ALTER TABLE messages ADD COLUMN from_key TEXT;"
    "UPDATE messages SET key = corridor_key(message_id), from_key = corridor_key(lower(from_addr));"
    "CREATE INDEX messages_key ON messages(key);"
    "CREATE INDEX messages_from_key ON messages(from_key, date, id);"
    "ALTER TABLE thread_nodes ADD COLUMN date INTEGER;"
    "UPDATE thread_nodes SET date = (SELECT date FROM messages WHERE id = thread_nodes.msg)"
    " WHERE msg IS NOT NULL;"
    "CREATE INDEX thread_nodes_date ON thread_nodes(group_id, date, msg)"
    " WHERE msg IS NOT NULL AND status = 'accepted';"
    "CREATE INDEX thread_nodes_thread_date ON thread_nodes(thread, date, msg)"
    " WHERE msg IS NOT NULL AND status = 'accepted';"
    "ALTER TABLE threads ADD COLUMN last_date INTEGER;"
    "ALTER TABLE threads ADD COLUMN shown INTEGER;"
    "ALTER TABLE threads ADD COLUMN shown_into INTEGER;"
    "UPDATE threads SET last_date = " THREAD_LAST_DATE("threads.id") ";"
    "UPDATE threads SET shown = last_date, shown_into = merged_into;"
    "CREATE INDEX threads_activity ON threads(group_id, last_date, id) WHERE last_date IS NOT NULL;"
    "CREATE INDEX threads_merged ON threads(merged_into) WHERE merged_into IS NOT NULL;"
    "CREATE TABLE group_months ("
    "  group_id INTEGER NOT NULL,"
    "  month INTEGER NOT NULL,"
    "  posts INTEGER NOT NULL,"
    "  PRIMARY KEY (group_id, month)) WITHOUT ROWID;"
    "INSERT INTO group_months (group_id, month, posts)"
    " SELECT group_id, " MONTH_OF("date") ", count(*) FROM thread_nodes"
    " WHERE msg IS NOT NULL AND status = 'accepted' GROUP BY 1, 2;"
    "CREATE TRIGGER thread_nodes_archive_insert AFTER INSERT ON thread_nodes"
    "  WHEN new.msg IS NOT NULL BEGIN"
    "  UPDATE thread_nodes SET date = (SELECT date FROM messages WHERE id = new.msg)"
    "   WHERE group_id = new.group_id AND message_id = new.message_id;"
    "  INSERT INTO group_months (group_id, month, posts)"
    "   SELECT new.group_id, " MONTH_OF("m.date") ", 1 FROM messages m"
    "   WHERE m.id = new.msg AND new.status = 'accepted'"
    "   ON CONFLICT (group_id, month) DO UPDATE SET posts = posts + 1;"
    "  UPDATE threads SET last_date = " THREAD_LAST_DATE("new.thread")
    "   WHERE id = new.thread AND new.status = 'accepted';"
    " END;"
    "CREATE TRIGGER thread_nodes_archive_update"
    "  AFTER UPDATE OF msg, status, thread, group_id ON thread_nodes"
    "  WHEN old.msg IS NOT new.msg OR old.status IS NOT new.status"
    "   OR old.thread IS NOT new.thread OR old.group_id IS NOT new.group_id BEGIN"
    "  UPDATE thread_nodes SET date = (SELECT date FROM messages WHERE id = new.msg)"
    "   WHERE group_id = new.group_id AND message_id = new.message_id"
    "   AND new.msg IS NOT old.msg;"
    "  UPDATE group_months SET posts = posts - 1"
    "   WHERE old.msg IS NOT NULL AND old.status = 'accepted'"
    "   AND group_id = old.group_id AND month = " MONTH_OF("old.date") ";"
    "  INSERT INTO group_months (group_id, month, posts)"
    "   SELECT new.group_id, " MONTH_OF("m.date") ", 1 FROM messages m"
    "   WHERE m.id = new.msg AND new.status = 'accepted'"
    "   ON CONFLICT (group_id, month) DO UPDATE SET posts = posts + 1;"
    "  UPDATE threads SET last_date = " THREAD_LAST_DATE("threads.id")
    "   WHERE id IN (old.thread, new.thread);"
    " END;"
    "CREATE TRIGGER thread_nodes_archive_delete AFTER DELETE ON thread_nodes"
    "  WHEN old.msg IS NOT NULL AND old.status = 'accepted' BEGIN"
    "  UPDATE group_months SET posts = posts - 1"
    "   WHERE group_id = old.group_id AND month = " MONTH_OF("old.date") ";"
    "  UPDATE threads SET last_date = " THREAD_LAST_DATE("old.thread") " WHERE id = old.thread;"
    " END;"
    "CREATE TRIGGER groups_months_delete AFTER DELETE ON groups BEGIN"
    "  DELETE FROM group_months WHERE group_id = old.id;"
    " END;",
};

int
cor_store_schema_version(void)
{
    return (int) G_N_ELEMENTS(migrations);
}

/* ---- errors ---- */

cor_status_t
cor_store_set_error(cor_store_t *st, cor_status_t status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_free(st->error);
    st->error = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return status;
}

/* SQLite's extended codes for a write that can fail for want of room: the
 * database, its -wal or -journal (WRITE), growing its -shm (SHMSIZE),
 * truncating or extending a file (TRUNCATE). */
static bool
room_errcode(int x)
{
    return x == SQLITE_IOERR_WRITE || x == SQLITE_IOERR_SHMSIZE || x == SQLITE_IOERR_TRUNCATE;
}

cor_status_t
cor_store_sqlite_error(cor_store_t *st, int rc, const char *what)
{
    int saved_errno = errno;   /* the failed call's, if it was a system call */
    cor_status_t status;
    int write_errno = 0;   /* a write that failed for want of room */
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:  status = COR_ERR_BUSY; break;
    case SQLITE_FULL:    status = COR_ERR_DISK_FULL; break;
    case SQLITE_NOMEM:   status = COR_ERR_NOMEM; break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:  status = COR_ERR_CORRUPT; break;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
        status = COR_ERR_IO;
        /* SQLite says SQLITE_FULL only for ENOSPC; a quota or a file size
         * limit (RLIMIT_FSIZE) is a failed write, SQLITE_IOERR_WRITE (or
         * _SHMSIZE, _TRUNCATE: room_errcode).  Its errno is not always
         * kept (sqlite3_system_errno is 0 after a failed WAL write at
         * COMMIT), but is still errno when we are called straight after
         * the failing call, as every caller does. */
        if (st->db && room_errcode(sqlite3_extended_errcode(st->db))) {
            int e = sqlite3_system_errno(st->db);
            if (e == 0)
                e = saved_errno;
            if (e == ENOSPC || e == EDQUOT || e == EFBIG) {
                status = COR_ERR_DISK_FULL;
                write_errno = e;
            }
        }
        break;
    case SQLITE_CONSTRAINT:
        /* only a duplicate key means "exists"; any other constraint is an
         * internal fault, which must not bounce a message for good */
        status = rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY
                     ? COR_ERR_EXISTS : COR_ERR_STORE;
        /* the legal-hold triggers (messages_hold, thread_nodes_hold_*,
         * groups_hold) say "under legal hold" */
        if (st->db && (sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_TRIGGER ||
                       rc == SQLITE_CONSTRAINT_TRIGGER) &&
            strstr(sqlite3_errmsg(st->db), "under legal hold"))
            status = COR_ERR_HELD;
        break;
    default:             status = COR_ERR_STORE; break;
    }
    /* SQLite's own text for these is "disk I/O error": say which file and
     * why (the write may have been to its -wal, -shm or -journal beside it) */
    if (write_errno != 0 && st->path)
        return cor_store_set_error(st, status, "%s: cannot write '%s': %s", what, st->path,
                                   g_strerror(write_errno));
    return cor_store_set_error(st, status, "%s: %s", what,
                               st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
}

const char *
cor_store_error(const cor_store_t *st)
{
    return st && st->error ? st->error : "no error";
}

sqlite3_stmt *
cor_store_stmt(cor_store_t *st, const char *sql)
{
    sqlite3_stmt *stmt = g_hash_table_lookup(st->stmts, sql);
    if (stmt != NULL) {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        return stmt;
    }
    int rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
    if (rc != SQLITE_OK) {
        cor_store_sqlite_error(st, rc, "cannot prepare statement");
        return NULL;
    }
    /* the SQL text is a string literal in corridor's code: keyed by pointer */
    g_hash_table_insert(st->stmts, (gpointer) sql, stmt);
    return stmt;
}

static cor_status_t
exec(cor_store_t *st, const char *sql, const char *what)
{
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? COR_OK : cor_store_sqlite_error(st, rc, what);
}

/* ---- open / close ---- */

static void
finalize_stmt(gpointer stmt)
{
    sqlite3_finalize(stmt);
}

/* corridor_key(text): the archive's URL key of a Message-ID or an address,
 * the first 16 hex digits of its SHA-256 (cor_store_key).  Registered on
 * every handle: schema v8's migration fills messages.key with it. */
static void
sql_key(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void) argc;
    const char *text = (const char *) sqlite3_value_text(argv[0]);
    char key[17];
    cor_store_key(text ? text : "", key);
    sqlite3_result_text(ctx, key, 16, SQLITE_TRANSIENT);
}

void
cor_store_key(const char *s, char out[17])
{
    char hex[65];
    cor_sha256_hex(s, strlen(s), hex);
    memcpy(out, hex, 16);
    out[16] = '\0';
}

static cor_status_t
migrate(cor_store_t *st)
{
    sqlite3_stmt *stmt;
    int version = 0;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK)
        return cor_store_sqlite_error(st, sqlite3_errcode(st->db), "cannot read schema version");
    if (sqlite3_step(stmt) == SQLITE_ROW)
        version = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);

    int target = cor_store_schema_version();
    if (version > target)
        return cor_store_set_error(st, COR_ERR_STORE,
                                   "store '%s' has schema version %d, newer than this corridor (%d)",
                                   st->path, version, target);
    for (; version < target; version++) {
        cor_status_t s = exec(st, "BEGIN IMMEDIATE", "cannot start migration");
        if (s != COR_OK)
            return s;
        s = exec(st, migrations[version], "cannot migrate store");
        if (s == COR_OK) {
            char *sql = g_strdup_printf("PRAGMA user_version = %d", version + 1);
            s = exec(st, sql, "cannot set schema version");
            g_free(sql);
        }
        if (s == COR_OK)
            s = exec(st, "COMMIT", "cannot commit migration");
        if (s != COR_OK) {
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return s;
        }
        cor_log_debug("store '%s' migrated to schema version %d", st->path, version + 1);
    }
    return COR_OK;
}

/* Each handle's page cache may grow to this many KiB (see
 * cor_store_set_default_cache). */
static gint default_cache_kib = 65536;

void
cor_store_set_default_cache(int kib)
{
    g_atomic_int_set(&default_cache_kib, kib > 0 ? kib : 2048);
}

void
cor_store_limit_memory(int64_t bytes)
{
    sqlite3_soft_heap_limit64(bytes > 0 ? bytes : 0);
}

static cor_status_t
set_cache(cor_store_t *st, int kib)
{
    g_autofree char *sql = g_strdup_printf("PRAGMA cache_size=-%d", kib);
    return exec(st, sql, "cannot set cache size");
}

cor_status_t
cor_store_open(const char *path, bool create, cor_store_t **out, char **err)
{
    *out = NULL;
    if (!create && !g_file_test(path, G_FILE_TEST_EXISTS)) {
        if (err)
            *err = g_strdup_printf("no store at '%s' (run 'corridor init' first)", path);
        return COR_ERR_NOT_FOUND;
    }
    cor_store_t *st = g_new0(cor_store_t, 1);
    st->path = g_strdup(path);
    st->stmts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, finalize_stmt);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &st->db, flags, NULL);
    cor_status_t s = COR_OK;
    if (rc != SQLITE_OK) {
        s = cor_store_sqlite_error(st, rc, "cannot open store");
        goto fail;
    }
    sqlite3_extended_result_codes(st->db, 1);
    st->busy_ms = 10000;
    sqlite3_busy_timeout(st->db, 10000);
    /* WAL + synchronous=FULL: a returned COMMIT is durable (store.h). */
    if ((s = exec(st, "PRAGMA journal_mode=WAL", "cannot set WAL mode")) != COR_OK ||
        (s = exec(st, "PRAGMA synchronous=FULL", "cannot set synchronous")) != COR_OK ||
        (s = exec(st, "PRAGMA foreign_keys=ON", "cannot enable foreign keys")) != COR_OK ||
        (s = exec(st, "PRAGMA journal_size_limit=67108864", "cannot set the WAL limit")) != COR_OK ||
        (s = set_cache(st, g_atomic_int_get(&default_cache_kib))) != COR_OK)
        goto fail;
    rc = sqlite3_create_function(st->db, "corridor_key", 1,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                 sql_key, NULL, NULL);
    if (rc != SQLITE_OK) {
        s = cor_store_sqlite_error(st, rc, "cannot register corridor_key");
        goto fail;
    }
    if ((s = migrate(st)) != COR_OK)
        goto fail;
    *out = st;
    return COR_OK;
fail:
    if (err)
        *err = g_strdup_printf("%s: %s", path, cor_store_error(st));
    cor_store_close(st);
    return s;
}

void
cor_store_close(cor_store_t *st)
{
    if (st == NULL)
        return;
    g_hash_table_destroy(st->stmts);
    if (st->db)
        sqlite3_close(st->db);
    g_free(st->path);
    g_free(st->error);
    g_free(st);
}

void
cor_store_set_busy_timeout(cor_store_t *st, int64_t milliseconds)
{
    st->busy_ms = CLAMP(milliseconds, 0, G_MAXINT);
    sqlite3_busy_timeout(st->db, (int) st->busy_ms);
}

void
cor_store_release_memory(cor_store_t *st)
{
    sqlite3_db_release_memory(st->db);
}

cor_status_t
cor_store_begin(cor_store_t *st)
{
    return exec(st, "BEGIN IMMEDIATE", "cannot begin transaction");
}

cor_status_t
cor_store_commit(cor_store_t *st)
{
    /* A commit hook that refuses the commit (core/audit.c: the audit anchor
     * file could not be written) records why on the handle first; keep that
     * rather than SQLite's "constraint failed". */
    g_clear_pointer(&st->error, g_free);
    int rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return COR_OK;
    cor_status_t s;
    if (sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_COMMITHOOK && st->error)
        s = COR_ERR_IO;
    else
        s = cor_store_sqlite_error(st, rc, "cannot commit");
    cor_store_rollback(st);
    return s;
}

void
cor_store_rollback(cor_store_t *st)
{
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

cor_status_t
cor_store_begin_read(cor_store_t *st)
{
    /* BEGIN alone takes no lock; the first SELECT takes the snapshot, so
     * read something at once */
    cor_status_t s = exec(st, "BEGIN", "cannot begin transaction");
    if (s == COR_OK && (s = exec(st, "SELECT count(*) FROM meta", "cannot read")) != COR_OK)
        cor_store_rollback(st);
    return s;
}

void
cor_store_end_read(cor_store_t *st)
{
    cor_store_rollback(st);
}

void
cor_store_set_autocheckpoint(cor_store_t *st, int pages)
{
    sqlite3_wal_autocheckpoint(st->db, pages);
}

cor_status_t
cor_store_checkpoint(cor_store_t *st, int *wal_frames, int *done_frames)
{
    int log = 0, ckpt = 0;
    int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &ckpt);
    if (wal_frames)
        *wal_frames = log;
    if (done_frames)
        *done_frames = ckpt;
    /* BUSY: another checkpoint is running; not an error */
    if (rc == SQLITE_OK || rc == SQLITE_BUSY)
        return COR_OK;
    return cor_store_sqlite_error(st, rc, "cannot checkpoint");
}

cor_status_t
cor_store_checkpoint_restart(cor_store_t *st, int64_t wait_ms, bool *restarted)
{
    *restarted = false;
    sqlite3_busy_timeout(st->db, (int) MIN(wait_ms, G_MAXINT));
    int log = 0, ckpt = 0;
    int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_RESTART, &log, &ckpt);
    sqlite3_busy_timeout(st->db, (int) MIN(st->busy_ms, G_MAXINT));
    if (rc == SQLITE_OK) {
        *restarted = true;
        return COR_OK;
    }
    if ((rc & 0xff) == SQLITE_BUSY)
        return COR_OK;
    return cor_store_sqlite_error(st, rc, "cannot checkpoint");
}

bool
cor_store_in_transaction(const cor_store_t *st)
{
    return !sqlite3_get_autocommit(st->db);
}

/* A statement run once per recipient on the intake path: prepared once. */
static cor_status_t
exec_cached(cor_store_t *st, const char *sql, const char *what)
{
    sqlite3_stmt *q = cor_store_stmt(st, sql);
    if (!q)
        return COR_ERR_STORE;
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? COR_OK : cor_store_sqlite_error(st, rc, what);
}

cor_status_t
cor_store_savepoint(cor_store_t *st)
{
    /* outside a transaction SAVEPOINT would start one, and RELEASE commit it */
    if (!cor_store_in_transaction(st))
        return cor_store_set_error(st, COR_ERR_INTERNAL, "savepoint outside a transaction");
    return exec_cached(st, "SAVEPOINT cor_sp", "cannot set savepoint");
}

cor_status_t
cor_store_savepoint_release(cor_store_t *st)
{
    return exec_cached(st, "RELEASE cor_sp", "cannot release savepoint");
}

cor_status_t
cor_store_savepoint_rollback(cor_store_t *st)
{
    /* ROLLBACK TO keeps the savepoint open; RELEASE then closes it.  After
     * SQLITE_FULL, IOERR or NOMEM SQLite may have rolled back the whole
     * transaction: then there is nothing left to roll back to, and the
     * caller must give up the batch. */
    if (!cor_store_in_transaction(st))
        return cor_store_set_error(st, COR_ERR_STORE, "the transaction was rolled back");
    cor_status_t s = exec_cached(st, "ROLLBACK TO cor_sp", "cannot roll back to savepoint");
    if (s == COR_OK)
        s = exec_cached(st, "RELEASE cor_sp", "cannot release savepoint");
    if (s == COR_OK && !cor_store_in_transaction(st))
        s = cor_store_set_error(st, COR_ERR_STORE, "the transaction was rolled back");
    return s;
}

/* ---- small helpers ---- */

char *
cor_store_col_text(sqlite3_stmt *stmt, int i)
{
    const unsigned char *t = sqlite3_column_text(stmt, i);
    return g_strdup(t ? (const char *) t : "");
}

cor_status_t
cor_store_step_done(cor_store_t *st, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return COR_OK;
    return cor_store_sqlite_error(st, rc, what);
}

/* ---- visibility names ---- */

static const char *const visibility_names[] = { "public", "staff", "private" };

const char *
cor_visibility_to_string(cor_visibility_t v)
{
    return (unsigned) v < G_N_ELEMENTS(visibility_names) ? visibility_names[v] : "private";
}

cor_status_t
cor_visibility_from_string(const char *s, cor_visibility_t *out)
{
    for (size_t i = 0; i < G_N_ELEMENTS(visibility_names); i++)
        if (s && strcmp(s, visibility_names[i]) == 0) {
            *out = (cor_visibility_t) i;
            return COR_OK;
        }
    return COR_ERR_INVALID;
}

/* ---- groups ---- */

bool
cor_group_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64 || !g_ascii_isalnum(name[0]))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!(g_ascii_islower(c) || g_ascii_isdigit(c) || c == '-' || c == '_' || c == '.'))
            return false;
        if (c == '.' && (i + 1 == n || name[i + 1] == '.'))
            return false;       /* "a..b" and "a." are no URL segments to trust */
    }
    return true;
}

void
cor_group_free(cor_group_t *g)
{
    if (g == NULL)
        return;
    g_free(g->name);
    g_free(g->title);
    g_free(g->description);
    g_free(g);
}

cor_status_t
cor_store_group_create(cor_store_t *st, const char *name, const char *title,
                       cor_visibility_t visibility, int64_t *id_out)
{
    if (!cor_group_name_valid(name))
        return cor_store_set_error(st, COR_ERR_INVALID,
                                   "invalid group name '%s' (use lowercase letters, digits, '-', '_', '.')",
                                   name ? name : "");
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT 1 FROM groups WHERE name = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return cor_store_set_error(st, COR_ERR_EXISTS, "group '%s' already exists", name);
    sqlite3_stmt *stmt = cor_store_stmt(st,
        "INSERT INTO groups (name, title, visibility, created) VALUES (?1, ?2, ?3, ?4)");
    if (!stmt)
        return COR_ERR_STORE;
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, title ? title : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, cor_visibility_to_string(visibility), -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, (sqlite3_int64) time(NULL));
    cor_status_t s = cor_store_step_done(st, stmt, "cannot create group");
    if (s == COR_OK && id_out)
        *id_out = sqlite3_last_insert_rowid(st->db);
    return s;
}

static cor_group_t *
group_from_row(sqlite3_stmt *q)
{
    cor_group_t *g = g_new0(cor_group_t, 1);
    g->id = sqlite3_column_int64(q, 0);
    g->name = cor_store_col_text(q, 1);
    g->title = cor_store_col_text(q, 2);
    g->description = cor_store_col_text(q, 3);
    cor_visibility_t v = COR_VISIBILITY_PRIVATE; /* unknown text: the safe choice */
    cor_visibility_from_string((const char *) sqlite3_column_text(q, 4), &v);
    g->visibility = v;
    g->created = sqlite3_column_int64(q, 5);
    return g;
}

#define GROUP_COLS "id, name, title, description, visibility, created"

cor_status_t
cor_store_group_get(cor_store_t *st, const char *name, cor_group_t **out)
{
    *out = NULL;
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT " GROUP_COLS " FROM groups WHERE name = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *out = group_from_row(q);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return COR_OK;
    if (rc == SQLITE_DONE)
        return cor_store_set_error(st, COR_ERR_NO_GROUP, "no such group '%s'", name);
    return cor_store_sqlite_error(st, rc, "cannot read group");
}

cor_status_t
cor_store_group_get_by_id(cor_store_t *st, int64_t id, cor_group_t **out)
{
    *out = NULL;
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT " GROUP_COLS " FROM groups WHERE id = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *out = group_from_row(q);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return COR_OK;
    if (rc == SQLITE_DONE)
        return cor_store_set_error(st, COR_ERR_NO_GROUP, "no group %" G_GINT64_FORMAT, id);
    return cor_store_sqlite_error(st, rc, "cannot read group");
}

cor_status_t
cor_store_group_list(cor_store_t *st, bool counts, GPtrArray **out)
{
    *out = g_ptr_array_new_with_free_func((GDestroyNotify) cor_group_free);
    sqlite3_stmt *q = counts
        ? cor_store_stmt(st,
            "SELECT g.id, g.name, g.title, g.description, g.visibility, g.created,"
            " (SELECT count(*) FROM thread_nodes n WHERE n.group_id = g.id AND n.msg IS NOT NULL"
            "    AND n.status = 'accepted'),"
            " (SELECT count(DISTINCT n.thread) FROM thread_nodes n WHERE n.group_id = g.id"
            "    AND n.msg IS NOT NULL AND n.status = 'accepted'),"
            " (SELECT max(m.date) FROM thread_nodes n JOIN messages m ON m.id = n.msg"
            "    WHERE n.group_id = g.id AND n.status = 'accepted')"
            " FROM groups g ORDER BY g.name")
        : cor_store_stmt(st, "SELECT " GROUP_COLS " FROM groups ORDER BY name");
    if (!q)
        return COR_ERR_STORE;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cor_group_t *g = group_from_row(q);
        if (counts) {
            g->n_messages = sqlite3_column_int64(q, 6);
            g->n_threads = sqlite3_column_int64(q, 7);
            g->last_date = sqlite3_column_int64(q, 8);
        }
        g_ptr_array_add(*out, g);
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? COR_OK : cor_store_sqlite_error(st, rc, "cannot list groups");
}

/* ---- members ---- */


/* ---- messages ---- */

void
cor_intake_clear(cor_intake_t *in)
{
    if (in->merged)
        g_array_unref(in->merged);
    if (in->merged_work)
        g_array_unref(in->merged_work);
    memset(in, 0, sizeof *in);
}

static char *
join_refs(GPtrArray *refs)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; refs && i < refs->len; i++) {
        if (i)
            g_string_append_c(s, ' ');
        g_string_append(s, g_ptr_array_index(refs, i));
    }
    return g_string_free(s, FALSE);
}

static cor_status_t
insert_message(cor_store_t *st, const char *raw, size_t len, const char *sha256,
               int64_t received, const cor_message_t *msg, int64_t *row)
{
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT id FROM messages WHERE sha256 = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, sha256, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *row = sqlite3_column_int64(q, 0);
        sqlite3_reset(q);
        return COR_OK;            /* the same bytes are stored already */
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return cor_store_sqlite_error(st, rc, "cannot look up message");

    sqlite3_stmt *stmt = cor_store_stmt(st,
        "INSERT INTO messages (message_id, sha256, size, received, date, subject, from_addr,"
        " from_name, from_display, to_text, cc_text, in_reply_to, refs, thread_index,"
        " thread_topic, list_id, has_attachments, synthetic_id, key, from_key)"
        " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)");
    if (!stmt)
        return COR_ERR_STORE;
    g_autofree char *refs = join_refs(msg->references);
    sqlite3_bind_text(stmt, 1, msg->message_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64) len);
    sqlite3_bind_int64(stmt, 4, received);
    sqlite3_bind_int64(stmt, 5, msg->date);
    sqlite3_bind_text(stmt, 6, msg->subject, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 7, msg->from_addr, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 8, msg->from_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 9, msg->from, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 10, msg->to, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 11, msg->cc, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 12, msg->in_reply_to, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 13, refs, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 14, msg->thread_index, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 15, msg->thread_topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 16, msg->list_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 17, msg->attachments->len > 0);
    sqlite3_bind_int(stmt, 18, msg->synthetic_id);
    char key[17], from_key[17];
    g_autofree char *from_lower = g_ascii_strdown(msg->from_addr ? msg->from_addr : "", -1);
    cor_store_key(msg->message_id, key);
    cor_store_key(from_lower, from_key);
    sqlite3_bind_text(stmt, 19, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 20, from_key, -1, SQLITE_STATIC);
    cor_status_t s = cor_store_step_done(st, stmt, "cannot store message");
    if (s != COR_OK)
        return s;
    *row = sqlite3_last_insert_rowid(st->db);

    stmt = cor_store_stmt(st, "INSERT INTO originals (message, raw) VALUES (?1, ?2)");
    if (!stmt)
        return COR_ERR_STORE;
    sqlite3_bind_int64(stmt, 1, *row);
    sqlite3_bind_blob64(stmt, 2, raw, len, SQLITE_STATIC);
    if ((s = cor_store_step_done(st, stmt, "cannot store original")) != COR_OK)
        return s;

    for (guint i = 0; i < msg->attachments->len; i++) {
        const cor_attachment_t *a = g_ptr_array_index(msg->attachments, i);
        stmt = cor_store_stmt(st,
            "INSERT OR IGNORE INTO attachments (message, part_index, filename, content_type, size)"
            " VALUES (?1, ?2, ?3, ?4, ?5)");
        if (!stmt)
            return COR_ERR_STORE;
        sqlite3_bind_int64(stmt, 1, *row);
        sqlite3_bind_int(stmt, 2, a->part_index);
        sqlite3_bind_text(stmt, 3, a->filename, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 4, a->content_type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 5, (sqlite3_int64) a->size);
        if ((s = cor_store_step_done(st, stmt, "cannot store attachment")) != COR_OK)
            return s;
    }
    return COR_OK;
}

cor_status_t
cor_store_add_message(cor_store_t *st, int64_t group_id, const char *raw, size_t len,
                      const char *sha256, int64_t received, const cor_message_t *msg,
                      cor_intake_t *res)
{
    return cor_store_add_message_as(st, group_id, raw, len, sha256, received, msg,
                                    COR_POST_ACCEPTED, res);
}

const char *
cor_post_status_to_string(cor_post_status_t s)
{
    return s == COR_POST_RESTRICTED ? "restricted" : "accepted";
}

cor_status_t
cor_store_add_message_as(cor_store_t *st, int64_t group_id, const char *raw, size_t len,
                         const char *sha256, int64_t received, const cor_message_t *msg,
                         cor_post_status_t status, cor_intake_t *res)
{
    memset(res, 0, sizeof *res);
    /* Idempotent redelivery: the group already has a post with this id. */
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT msg, thread FROM thread_nodes"
        " WHERE group_id = ?1 AND message_id = ?2 AND msg IS NOT NULL");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, msg->message_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        res->msg = sqlite3_column_int64(q, 0);
        res->thread = sqlite3_column_int64(q, 1);
        res->duplicate = true;
        sqlite3_reset(q);
        cor_thread_resolve(st, res->thread, &res->thread);
        return COR_DUPLICATE;
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return cor_store_sqlite_error(st, rc, "cannot look up message");

    cor_status_t s = insert_message(st, raw, len, sha256, received, msg, &res->msg);
    if (s != COR_OK)
        return s;
    s = cor_thread_place(st, group_id, res->msg, msg, (int64_t) time(NULL),
                         &res->thread, &res->merged);
    if (s != COR_OK)
        return s;
    if (status != COR_POST_ACCEPTED) {
        /* the node stays in the thread (its replies keep their place); every
         * public reader asks for 'accepted' and sees a ghost here */
        sqlite3_stmt *u = cor_store_stmt(st,
            "UPDATE thread_nodes SET status = ?3 WHERE group_id = ?1 AND message_id = ?2");
        if (!u)
            return COR_ERR_STORE;
        sqlite3_bind_int64(u, 1, group_id);
        sqlite3_bind_text(u, 2, msg->message_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(u, 3, cor_post_status_to_string(status), -1, SQLITE_STATIC);
        if ((s = cor_store_step_done(st, u, "cannot mark the post restricted")) != COR_OK)
            return s;
    }
    if ((s = cor_store_work_add(st, "index", res->msg)) != COR_OK)
        return s;
    res->work = sqlite3_last_insert_rowid(st->db);
    /* posts whose thread merged into this one need new thread terms: queued
     * in this same transaction, so a crash cannot lose the change */
    for (guint i = 0; res->merged && i < res->merged->len; i++) {
        if ((s = cor_store_work_add(st, "index", g_array_index(res->merged, int64_t, i))) != COR_OK)
            return s;
        if (!res->merged_work)
            res->merged_work = g_array_new(FALSE, FALSE, sizeof(int64_t));
        int64_t w = sqlite3_last_insert_rowid(st->db);
        g_array_append_val(res->merged_work, w);
    }
    /* and the archive pages they change (archive-web/archive.h) */
    if ((s = cor_store_work_add(st, "render", res->msg)) != COR_OK)
        return s;
    for (guint i = 0; res->merged && i < res->merged->len; i++) {
        if ((s = cor_store_work_add(st, "render", g_array_index(res->merged, int64_t, i))) != COR_OK)
            return s;
    }
    return COR_OK;
}

void
cor_stored_message_free(cor_stored_message_t *m)
{
    if (m == NULL)
        return;
    g_free(m->message_id);
    g_free(m->subject);
    g_free(m->from_display);
    g_free(m->from_name);
    g_free(m->from_addr);
    g_free(m->sha256);
    g_free(m);
}

cor_status_t
cor_store_message_get(cor_store_t *st, int64_t id, cor_stored_message_t **out)
{
    *out = NULL;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT id, message_id, subject, from_display, from_addr, date, received, size, sha256, from_name"
        " FROM messages WHERE id = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        cor_stored_message_t *m = g_new0(cor_stored_message_t, 1);
        m->id = sqlite3_column_int64(q, 0);
        m->message_id = cor_store_col_text(q, 1);
        m->subject = cor_store_col_text(q, 2);
        m->from_display = cor_store_col_text(q, 3);
        m->from_name = cor_store_col_text(q, 9);
        m->from_addr = cor_store_col_text(q, 4);
        m->date = sqlite3_column_int64(q, 5);
        m->received = sqlite3_column_int64(q, 6);
        m->size = (uint64_t) sqlite3_column_int64(q, 7);
        m->sha256 = cor_store_col_text(q, 8);
        *out = m;
    }
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return COR_OK;
    if (rc == SQLITE_DONE)
        return cor_store_set_error(st, COR_ERR_NOT_FOUND, "no message with row id %" G_GINT64_FORMAT, id);
    return cor_store_sqlite_error(st, rc, "cannot read message");
}

cor_status_t
cor_store_message_find(cor_store_t *st, const char *message_id, GArray **rows)
{
    *rows = g_array_new(FALSE, FALSE, sizeof(int64_t));
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT id FROM messages WHERE message_id = ?1 ORDER BY id");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, message_id, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        g_array_append_val(*rows, id);
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? COR_OK : cor_store_sqlite_error(st, rc, "cannot find message");
}

cor_status_t
cor_store_message_raw(cor_store_t *st, int64_t id, GBytes **raw)
{
    *raw = NULL;
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT raw FROM originals WHERE message = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *raw = g_bytes_new(sqlite3_column_blob(q, 0), (gsize) sqlite3_column_bytes(q, 0));
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return COR_OK;
    if (rc == SQLITE_DONE)
        return cor_store_set_error(st, COR_ERR_NOT_FOUND, "no original for message %" G_GINT64_FORMAT, id);
    return cor_store_sqlite_error(st, rc, "cannot read original");
}

cor_status_t
cor_store_message_raw_head(cor_store_t *st, int64_t id, size_t max, GBytes **raw)
{
    *raw = NULL;
    /* SELECT substr(raw, ...) would load the whole value first: the blob
     * handle reads only the pages of the bytes asked for */
    sqlite3_blob *b = NULL;
    int rc = sqlite3_blob_open(st->db, "main", "originals", "raw", id, 0, &b);
    if (rc != SQLITE_OK) {
        /* SQLite's text first: closing the handle or asking below resets it */
        cor_status_t s = cor_store_sqlite_error(st, rc, "cannot read original");
        sqlite3_blob_close(b);
        /* no such row is SQLITE_ERROR, like a missing table: ask which */
        sqlite3_stmt *q = rc == SQLITE_ERROR
                              ? cor_store_stmt(st, "SELECT 1 FROM originals WHERE message = ?1")
                              : NULL;
        if (q) {
            sqlite3_bind_int64(q, 1, id);
            int found = sqlite3_step(q);
            sqlite3_reset(q);
            if (found == SQLITE_DONE)
                return cor_store_set_error(st, COR_ERR_NOT_FOUND,
                                           "no original for message %" G_GINT64_FORMAT, id);
        }
        return s;
    }
    size_t len = MIN((size_t) sqlite3_blob_bytes(b), max);
    guint8 *buf = g_malloc(len ? len : 1);
    rc = sqlite3_blob_read(b, buf, (int) len, 0);
    if (rc != SQLITE_OK) {
        cor_status_t s = cor_store_sqlite_error(st, rc, "cannot read original");
        sqlite3_blob_close(b);
        g_free(buf);
        return s;
    }
    sqlite3_blob_close(b);
    *raw = g_bytes_new_take(buf, len);
    return COR_OK;
}

cor_status_t
cor_store_message_groups(cor_store_t *st, int64_t id, GPtrArray **groups, GArray **threads)
{
    *groups = g_ptr_array_new_with_free_func(g_free);
    *threads = g_array_new(FALSE, FALSE, sizeof(int64_t));
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT g.name, n.thread FROM thread_nodes n JOIN groups g ON g.id = n.group_id"
        " WHERE n.msg = ?1 AND n.status = 'accepted' ORDER BY g.name");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        g_ptr_array_add(*groups, cor_store_col_text(q, 0));
        int64_t t = sqlite3_column_int64(q, 1);
        g_array_append_val(*threads, t);
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? COR_OK : cor_store_sqlite_error(st, rc, "cannot read memberships");
}

cor_status_t
cor_store_message_count(cor_store_t *st, int64_t *count)
{
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT count(*) FROM messages");
    if (!q)
        return COR_ERR_STORE;
    int rc = sqlite3_step(q);
    *count = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? COR_OK : cor_store_sqlite_error(st, rc, "cannot count messages");
}

/* ---- work queue ---- */

cor_status_t
cor_store_work_add(cor_store_t *st, const char *kind, int64_t msg)
{
    sqlite3_stmt *stmt = cor_store_stmt(st,
        "INSERT INTO work (kind, msg, created) VALUES (?1, ?2, ?3)");
    if (!stmt)
        return COR_ERR_STORE;
    sqlite3_bind_text(stmt, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, msg);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64) time(NULL));
    return cor_store_step_done(st, stmt, "cannot queue work");
}

cor_status_t
cor_store_work_pending(cor_store_t *st, const char *kind, size_t max, GArray **ids, GArray **msgs)
{
    *ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
    *msgs = g_array_new(FALSE, FALSE, sizeof(int64_t));
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT id, msg FROM work WHERE kind = ?1 ORDER BY id LIMIT ?2");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, max ? (sqlite3_int64) max : -1);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0), m = sqlite3_column_int64(q, 1);
        g_array_append_val(*ids, id);
        g_array_append_val(*msgs, m);
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? COR_OK : cor_store_sqlite_error(st, rc, "cannot read work queue");
}

cor_status_t
cor_store_work_done(cor_store_t *st, const char *kind, int64_t upto)
{
    sqlite3_stmt *stmt = cor_store_stmt(st, "DELETE FROM work WHERE kind = ?1 AND id <= ?2");
    if (!stmt)
        return COR_ERR_STORE;
    sqlite3_bind_text(stmt, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, upto);
    return cor_store_step_done(st, stmt, "cannot update work queue");
}

cor_status_t
cor_store_work_delete(cor_store_t *st, GArray *ids)
{
    for (guint i = 0; ids && i < ids->len; i++) {
        sqlite3_stmt *stmt = cor_store_stmt(st, "DELETE FROM work WHERE id = ?1");
        if (!stmt)
            return COR_ERR_STORE;
        sqlite3_bind_int64(stmt, 1, g_array_index(ids, int64_t, i));
        cor_status_t s = cor_store_step_done(st, stmt, "cannot update work queue");
        if (s != COR_OK)
            return s;
    }
    return COR_OK;
}

cor_status_t
cor_store_work_add_all(cor_store_t *st, const char *kind)
{
    sqlite3_stmt *stmt = cor_store_stmt(st,
        "INSERT INTO work (kind, msg, created) SELECT ?1, id, ?2 FROM messages ORDER BY id");
    if (!stmt)
        return COR_ERR_STORE;
    sqlite3_bind_text(stmt, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64) time(NULL));
    return cor_store_step_done(st, stmt, "cannot queue work");
}

cor_status_t
cor_store_work_count(cor_store_t *st, const char *kind, int64_t *count)
{
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT count(*) FROM work WHERE kind = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    *count = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? COR_OK : cor_store_sqlite_error(st, rc, "cannot count work");
}

/* ---- control mail ---- */

const char *
cor_control_kind_to_string(cor_control_kind_t k)
{
    switch (k) {
    case COR_CONTROL_REQUEST: return "request";
    case COR_CONTROL_OWNER:   return "owner";
    case COR_CONTROL_BOUNCES: return "bounces";
    }
    return "request";
}

cor_status_t
cor_store_control_add(cor_store_t *st, int64_t group_id, cor_control_kind_t kind,
                      const char *detail, const char *env_from, const char *rcpt,
                      const char *raw, size_t len, const char *sha256, int64_t received,
                      int64_t *id_out)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "INSERT INTO control_mail (group_id, kind, detail, env_from, rcpt, sha256,"
        " raw, received) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        " ON CONFLICT (group_id, kind, detail, sha256) DO NOTHING");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, cor_control_kind_to_string(kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, detail ? detail : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, env_from ? env_from : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, rcpt ? rcpt : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, sha256, -1, SQLITE_STATIC);
    int rc = sqlite3_bind_blob64(q, 7, raw, len, SQLITE_STATIC);
    if (rc != SQLITE_OK) {
        sqlite3_reset(q);
        return cor_store_sqlite_error(st, rc, "cannot store control mail");
    }
    sqlite3_bind_int64(q, 8, received);
    rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return cor_store_sqlite_error(st, rc, "cannot store control mail");
    if (sqlite3_changes(st->db) == 0)
        return COR_DUPLICATE;
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(st->db);
    return COR_OK;
}

cor_status_t
cor_store_control_count(cor_store_t *st, const char *status, int64_t *count)
{
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT count(*) FROM control_mail WHERE status = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, status, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    *count = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? COR_OK : cor_store_sqlite_error(st, rc, "cannot count control mail");
}

/* ---- reading for the archive ---- */

/* The columns both post walks select, in the order posts_step reads them
 * (a macro: cor_store_stmt keys its cache by the SQL's pointer, so every
 * statement is one string literal; a freed, reused buffer would find
 * another query's statement). */
#define POSTS_COLUMNS                                                                        \
    "SELECT n.group_id, n.thread, m.id, m.message_id, m.date, m.subject, m.from_name,"      \
    " m.from_addr, m.has_attachments"

/* Steps `q` (POSTS_COLUMNS) to its end, calling fn for each row; resets
 * it.  A status other than COR_OK from fn stops the walk and is returned. */
/* Appends the two integer columns of every row of `q` (bound by the
 * caller) to `out` (int64_t) as pairs, then resets it. */
static cor_status_t
read_pairs(cor_store_t *st, sqlite3_stmt *q, GArray *out, const char *what)
{
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t v[2] = { sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1) };
        g_array_append_vals(out, v, 2);
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? COR_OK : cor_store_sqlite_error(st, rc, what);
}

static cor_status_t
posts_step(cor_store_t *st, sqlite3_stmt *q,
           cor_status_t (*fn)(const cor_store_post_t *post, void *data), void *data)
{
    int rc;
    cor_status_t s = COR_OK;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cor_store_post_t p = {
            .group_id = sqlite3_column_int64(q, 0),
            .thread = sqlite3_column_int64(q, 1),
            .msg = sqlite3_column_int64(q, 2),
            .message_id = (const char *) sqlite3_column_text(q, 3),
            .date = sqlite3_column_int64(q, 4),
            .subject = (const char *) sqlite3_column_text(q, 5),
            .from_name = (const char *) sqlite3_column_text(q, 6),
            .from_addr = (const char *) sqlite3_column_text(q, 7),
            .has_attachments = sqlite3_column_int(q, 8) != 0,
        };
        if (!p.message_id) p.message_id = "";
        if (!p.subject) p.subject = "";
        if (!p.from_name) p.from_name = "";
        if (!p.from_addr) p.from_addr = "";
        if ((s = fn(&p, data)) != COR_OK)
            break;
    }
    sqlite3_reset(q);
    if (s != COR_OK)
        return s;
    return rc == SQLITE_DONE ? COR_OK : cor_store_sqlite_error(st, rc, "cannot read posts");
}

cor_status_t
cor_store_posts_foreach(cor_store_t *st, int64_t msg, int64_t thread,
                        cor_status_t (*fn)(const cor_store_post_t *post, void *data), void *data)
{
#define POSTS_SQL                                                                            \
    POSTS_COLUMNS " FROM thread_nodes n JOIN messages m ON m.id = n.msg"                    \
    " WHERE n.status = 'accepted'"
    sqlite3_stmt *q = cor_store_stmt(st,
        msg > 0 ? POSTS_SQL " AND n.msg = ?1 ORDER BY n.group_id, m.id"
        : thread > 0 ? POSTS_SQL " AND n.thread = ?1 ORDER BY n.group_id, m.id"
        : POSTS_SQL " ORDER BY n.group_id, m.id");
#undef POSTS_SQL
    if (!q)
        return COR_ERR_STORE;
    if (msg > 0)
        sqlite3_bind_int64(q, 1, msg);
    else if (thread > 0)
        sqlite3_bind_int64(q, 1, thread);
    return posts_step(st, q, fn, data);
}

cor_status_t
cor_store_posts_queued(cor_store_t *st, const char *kind, int64_t group_id, size_t max,
                       cor_status_t (*fn)(const cor_store_post_t *post, void *data), void *data)
{
    /* the newest `max` items first (work_kind is (kind, id)), then their
     * posts in the group: the cost is bounded by `max`, not by the queue */
    sqlite3_stmt *q = cor_store_stmt(st,
        POSTS_COLUMNS " FROM (SELECT id, msg FROM work WHERE kind = ?1 ORDER BY id DESC LIMIT ?3) w"
        " JOIN thread_nodes n ON n.msg = w.msg JOIN messages m ON m.id = n.msg"
        " WHERE n.group_id = ?2 AND n.status = 'accepted' ORDER BY w.id DESC");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, group_id);
    sqlite3_bind_int64(q, 3, max ? (sqlite3_int64) max : -1);
    return posts_step(st, q, fn, data);
}

/* The posts of the thread's ends: its first, then its last (one row when it
 * has one post), by (date, message row); seeks in thread_nodes_thread_date. */
cor_status_t
cor_store_thread_ends(cor_store_t *st, int64_t thread, int64_t *count,
                      cor_status_t (*fn)(const cor_store_post_t *post, void *data), void *data)
{
    *count = 0;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT count(*) FROM thread_nodes WHERE thread = ?1 AND msg IS NOT NULL"
        " AND status = 'accepted'");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, thread);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    if (rc != SQLITE_ROW)
        return cor_store_sqlite_error(st, rc, "cannot count a thread's posts");
    if (*count == 0)
        return COR_OK;
#define ENDS_SQL                                                                             \
    POSTS_COLUMNS " FROM thread_nodes n JOIN messages m ON m.id = n.msg"                    \
    " WHERE n.thread = ?1 AND n.msg IS NOT NULL AND n.status = 'accepted'"
    for (int end = 0; end < (*count > 1 ? 2 : 1); end++) {
        q = cor_store_stmt(st, end == 0 ? ENDS_SQL " ORDER BY n.date, n.msg LIMIT 1"
                                        : ENDS_SQL " ORDER BY n.date DESC, n.msg DESC LIMIT 1");
        if (!q)
            return COR_ERR_STORE;
        sqlite3_bind_int64(q, 1, thread);
        cor_status_t s = posts_step(st, q, fn, data);
        if (s != COR_OK)
            return s;
    }
#undef ENDS_SQL
    return COR_OK;
}

/* Dates in the years GLib counts (1 to 9999): the archive's months (see
 * MONTH_OF above); any other date is in "month 0". */
#define DATE_MIN G_GINT64_CONSTANT(-62135596800)
#define DATE_MAX G_GINT64_CONSTANT(253402300799)

static int64_t
month_start(int month)
{
    g_autoptr(GDateTime) d = g_date_time_new_utc(month / 12, month % 12 + 1, 1, 0, 0, 0);
    return d ? g_date_time_to_unix(d) : DATE_MAX + 1;
}

cor_status_t
cor_store_posts_month(cor_store_t *st, int64_t group_id, int month,
                      cor_status_t (*fn)(const cor_store_post_t *post, void *data), void *data)
{
#define MONTH_SQL                                                                            \
    POSTS_COLUMNS " FROM thread_nodes n JOIN messages m ON m.id = n.msg"                    \
    " WHERE n.group_id = ?1 AND n.msg IS NOT NULL AND n.status = 'accepted'"
    sqlite3_stmt *q = cor_store_stmt(st, month > 0
        ? MONTH_SQL " AND n.date >= ?2 AND n.date < ?3 ORDER BY n.date, n.msg"
        : MONTH_SQL " AND (n.date < ?2 OR n.date > ?3) ORDER BY n.date, n.msg");
#undef MONTH_SQL
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    if (month > 0) {
        sqlite3_bind_int64(q, 2, MAX(month_start(month), DATE_MIN));
        sqlite3_bind_int64(q, 3, MIN(month_start(month + 1), DATE_MAX + 1));
    } else {
        sqlite3_bind_int64(q, 2, DATE_MIN);
        sqlite3_bind_int64(q, 3, DATE_MAX);
    }
    return posts_step(st, q, fn, data);
}

typedef struct counting {
    cor_status_t (*fn)(const cor_store_post_t *post, void *data);
    void *data;
    int64_t n;
} counting_t;

static cor_status_t
counting_fn(const cor_store_post_t *post, void *data)
{
    counting_t *c = data;
    c->n++;
    return c->fn(post, c->data);
}

cor_status_t
cor_store_posts_newest(cor_store_t *st, int64_t group_id, int64_t max,
                       cor_status_t (*fn)(const cor_store_post_t *post, void *data), void *data)
{
    /* month 0 sorts before every other month: its posts come last */
#define NEWEST_SQL                                                                           \
    POSTS_COLUMNS " FROM thread_nodes n JOIN messages m ON m.id = n.msg"                    \
    " WHERE n.group_id = ?1 AND n.msg IS NOT NULL AND n.status = 'accepted'"
    static const char *const sql[] = {
        NEWEST_SQL " AND n.date BETWEEN ?2 AND ?3 ORDER BY n.date DESC, n.msg DESC LIMIT ?4",
        NEWEST_SQL " AND (n.date < ?2 OR n.date > ?3) ORDER BY n.date DESC, n.msg DESC LIMIT ?4",
    };
#undef NEWEST_SQL
    counting_t c = { fn, data, 0 };
    for (int i = 0; i < 2 && c.n < max; i++) {
        sqlite3_stmt *q = cor_store_stmt(st, sql[i]);
        if (!q)
            return COR_ERR_STORE;
        sqlite3_bind_int64(q, 1, group_id);
        sqlite3_bind_int64(q, 2, DATE_MIN);
        sqlite3_bind_int64(q, 3, DATE_MAX);
        sqlite3_bind_int64(q, 4, max - c.n);
        cor_status_t s = posts_step(st, q, counting_fn, &c);
        if (s != COR_OK)
            return s;
    }
    return COR_OK;
}

cor_status_t
cor_store_post_by_key(cor_store_t *st, int64_t group_id, const char *key,
                      cor_status_t (*fn)(const cor_store_post_t *post, void *data), void *data)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        POSTS_COLUMNS " FROM messages m JOIN thread_nodes n ON n.msg = m.id"
        " WHERE m.key = ?2 AND n.group_id = ?1 AND n.status = 'accepted'"
        " ORDER BY m.id DESC LIMIT 1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
    return posts_step(st, q, fn, data);
}

cor_status_t
cor_store_author_counts(cor_store_t *st, const char *from_key, GArray **out)
{
    *out = g_array_new(FALSE, FALSE, sizeof(int64_t));
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT n.group_id, count(*) FROM messages m JOIN thread_nodes n ON n.msg = m.id"
        " WHERE m.from_key = ?1 AND n.status = 'accepted' GROUP BY n.group_id");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, from_key, -1, SQLITE_STATIC);
    return read_pairs(st, q, *out, "cannot count an author's posts");
}

cor_status_t
cor_store_posts_by_author(cor_store_t *st, const char *from_key,
                          cor_status_t (*fn)(const cor_store_post_t *post, void *data), void *data)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        POSTS_COLUMNS " FROM messages m JOIN thread_nodes n ON n.msg = m.id"
        " JOIN groups g ON g.id = n.group_id"
        " WHERE m.from_key = ?1 AND n.status = 'accepted'"
        " ORDER BY m.date DESC, m.id DESC, g.name DESC");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, from_key, -1, SQLITE_STATIC);
    return posts_step(st, q, fn, data);
}
#undef POSTS_COLUMNS

cor_status_t
cor_store_group_activity(cor_store_t *st, int64_t group_id, int64_t *threads, int64_t *posts,
                         int64_t *last_date)
{
    *threads = *posts = *last_date = 0;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT (SELECT count(*) FROM threads WHERE group_id = ?1 AND last_date IS NOT NULL),"
        " (SELECT coalesce(sum(posts), 0) FROM group_months WHERE group_id = ?1),"
        " (SELECT coalesce(max(last_date), 0) FROM threads WHERE group_id = ?1"
        "   AND last_date IS NOT NULL)");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *threads = sqlite3_column_int64(q, 0);
        *posts = sqlite3_column_int64(q, 1);
        *last_date = sqlite3_column_int64(q, 2);
    }
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? COR_OK : cor_store_sqlite_error(st, rc, "cannot count a group's threads");
}

cor_status_t
cor_store_group_months(cor_store_t *st, int64_t group_id, GArray **pairs)
{
    *pairs = g_array_new(FALSE, FALSE, sizeof(int64_t));
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT month, posts FROM group_months WHERE group_id = ?1 AND posts > 0"
        " ORDER BY month DESC");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    return read_pairs(st, q, *pairs, "cannot read months");
}

cor_status_t
cor_store_threads_after(cor_store_t *st, int64_t group_id, int64_t last_date, int64_t id,
                        int64_t *count)
{
    *count = 0;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT count(*) FROM threads WHERE group_id = ?1 AND last_date IS NOT NULL"
        " AND (last_date, id) >= (?2, ?3)");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_int64(q, 2, last_date);
    sqlite3_bind_int64(q, 3, id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? COR_OK : cor_store_sqlite_error(st, rc, "cannot count threads");
}

cor_status_t
cor_store_threads_newest(cor_store_t *st, int64_t group_id, int64_t max, GArray **pairs)
{
    *pairs = g_array_new(FALSE, FALSE, sizeof(int64_t));
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT id, last_date FROM threads WHERE group_id = ?1 AND last_date IS NOT NULL"
        " ORDER BY last_date DESC, id DESC LIMIT ?2");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    sqlite3_bind_int64(q, 2, max);
    return read_pairs(st, q, *pairs, "cannot read threads");
}

static void
thread_state_row(sqlite3_stmt *q, cor_store_thread_state_t *t)
{
    t->id = sqlite3_column_int64(q, 0);
    t->group_id = sqlite3_column_int64(q, 1);
    t->merged_into = sqlite3_column_int64(q, 2);
    t->live = sqlite3_column_type(q, 3) != SQLITE_NULL;
    t->last_date = sqlite3_column_int64(q, 3);
    t->listed = sqlite3_column_type(q, 4) != SQLITE_NULL;
    t->shown = sqlite3_column_int64(q, 4);
    t->shown_into = sqlite3_column_int64(q, 5);
}

#define THREAD_STATE_COLUMNS                                                                 \
    "SELECT id, group_id, coalesce(merged_into, 0), last_date, shown, coalesce(shown_into, 0)" \
    " FROM threads"

cor_status_t
cor_store_thread_state(cor_store_t *st, int64_t thread, cor_store_thread_state_t *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *q = cor_store_stmt(st, THREAD_STATE_COLUMNS " WHERE id = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, thread);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        thread_state_row(q, out);
    sqlite3_reset(q);
    if (rc == SQLITE_DONE)
        return cor_store_set_error(st, COR_ERR_NOT_FOUND, "no thread %" G_GINT64_FORMAT, thread);
    return rc == SQLITE_ROW ? COR_OK : cor_store_sqlite_error(st, rc, "cannot read a thread");
}

cor_status_t
cor_store_thread_merged(cor_store_t *st, int64_t live, GArray **out)
{
    *out = g_array_new(FALSE, FALSE, sizeof(cor_store_thread_state_t));
    sqlite3_stmt *q = cor_store_stmt(st, THREAD_STATE_COLUMNS " WHERE merged_into = ?1 ORDER BY id");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, live);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cor_store_thread_state_t t;
        thread_state_row(q, &t);
        g_array_append_val(*out, t);
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? COR_OK : cor_store_sqlite_error(st, rc, "cannot read threads");
}
#undef THREAD_STATE_COLUMNS

cor_status_t
cor_store_thread_set_shown(cor_store_t *st, int64_t thread, bool listed, int64_t shown,
                           int64_t shown_into)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "UPDATE threads SET shown = ?2, shown_into = nullif(?3, 0) WHERE id = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, thread);
    if (listed)
        sqlite3_bind_int64(q, 2, shown);
    else
        sqlite3_bind_null(q, 2);
    sqlite3_bind_int64(q, 3, shown_into);
    return cor_store_step_done(st, q, "cannot record what the archive shows");
}

cor_status_t
cor_store_threads_clear_shown(cor_store_t *st, int64_t group_id)
{
    sqlite3_stmt *q = cor_store_stmt(st, group_id > 0
        ? "UPDATE threads SET shown = NULL, shown_into = NULL WHERE group_id = ?1"
          " AND (shown IS NOT NULL OR shown_into IS NOT NULL)"
        : "UPDATE threads SET shown = NULL, shown_into = NULL"
          " WHERE shown IS NOT NULL OR shown_into IS NOT NULL");
    if (!q)
        return COR_ERR_STORE;
    if (group_id > 0)
        sqlite3_bind_int64(q, 1, group_id);
    return cor_store_step_done(st, q, "cannot record what the archive shows");
}

cor_status_t
cor_store_thread_aliases(cor_store_t *st, int64_t group_id, GArray **pairs)
{
    *pairs = g_array_new(FALSE, FALSE, sizeof(int64_t));
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT id, merged_into FROM threads WHERE group_id = ?1 AND merged_into IS NOT NULL"
        " ORDER BY id");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, group_id);
    return read_pairs(st, q, *pairs, "cannot read threads");
}

cor_status_t
cor_store_meta_get(cor_store_t *st, const char *key, char **value)
{
    *value = NULL;
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT value FROM meta WHERE key = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *value = g_strdup((const char *) sqlite3_column_text(q, 0));
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return COR_OK;
    return rc == SQLITE_DONE ? COR_ERR_NOT_FOUND : cor_store_sqlite_error(st, rc, "cannot read meta");
}

cor_status_t
cor_store_meta_set(cor_store_t *st, const char *key, const char *value)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "INSERT INTO meta (key, value) VALUES (?1, ?2)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
    return cor_store_step_done(st, q, "cannot write meta");
}

cor_status_t
cor_store_work_last(cor_store_t *st, const char *kind, int64_t *id)
{
    *id = 0;
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT max(id) FROM work WHERE kind = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(q, 0);
    sqlite3_reset(q);
    return rc == SQLITE_ROW ? COR_OK : cor_store_sqlite_error(st, rc, "cannot read work queue");
}

const char *
cor_store_file(const cor_store_t *st)
{
    return st->path;
}
