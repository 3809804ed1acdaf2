/* core/audit.c — appending to the records audit trail (core/audit.h has
 * the design notes: what each hash covers, the two anchors, durability). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "core/audit.h"
#include "core/log.h"
#include "core/store_internal.h"

/* ---- hashing ---- */

static void
netstring(GChecksum *sum, const char *s)
{
    char len[32];
    size_t n = strlen(s);
    int k = snprintf(len, sizeof len, "%zu:", n);
    g_checksum_update(sum, (const guchar *) len, (gssize) k);
    g_checksum_update(sum, (const guchar *) s, (gssize) n);
    g_checksum_update(sum, (const guchar *) ",", 1);
}

void
cor_audit_hash(int64_t seq, int64_t at, const char *operator_name, const char *action,
               const char *case_ref, const char *detail, const char *prev, char out[65])
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    static const char domain[] = "corridor-audit-1\n";
    g_checksum_update(sum, (const guchar *) domain, (gssize) (sizeof domain - 1));
    char num[32];
    snprintf(num, sizeof num, "%" G_GINT64_FORMAT, seq);
    netstring(sum, num);
    snprintf(num, sizeof num, "%" G_GINT64_FORMAT, at);
    netstring(sum, num);
    netstring(sum, operator_name);
    netstring(sum, action);
    netstring(sum, case_ref);
    netstring(sum, detail);
    netstring(sum, prev);
    g_strlcpy(out, g_checksum_get_string(sum), 65);
}

char *
cor_audit_anchor_path(cor_store_t *st)
{
    return g_strconcat(cor_store_file(st), ".audit-anchor", NULL);
}

/* ---- the anchor file, written from the commit hook ---- */

/* One per SQLite connection that appended an entry.  Kept for the life of
 * the process (a handful of connections at most), in a table reachable
 * from a static, keyed by the sqlite3 handle. */
typedef struct anchor_state {
    char *path;
    bool pending;
    int64_t seq;
    char hash[65];
} anchor_state_t;

static GMutex anchor_lock;
static GHashTable *anchor_states;   /* sqlite3* → anchor_state_t* */

static int
write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t) w;
    }
    return 0;
}

/* Appends "SEQ HASH\n" to the anchor file and syncs it.  0 or -1 (errno). */
static int
anchor_write(const char *path, int64_t seq, const char *hash)
{
    bool existed = access(path, F_OK) == 0;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    char line[128];
    int n = snprintf(line, sizeof line, "%" G_GINT64_FORMAT " %s\n", seq, hash);
    if (write_all(fd, line, (size_t) n) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (close(fd) != 0)
        return -1;
    if (!existed) {
        g_autofree char *dir = g_path_get_dirname(path);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            int rc = fsync(dfd);
            close(dfd);
            if (rc != 0)
                return -1;
        }
    }
    return 0;
}

static int
anchor_commit_hook(void *data)
{
    anchor_state_t *a = data;
    if (!a->pending)
        return 0;
    a->pending = false;
    if (anchor_write(a->path, a->seq, a->hash) != 0) {
        cor_log_error("cannot write the audit anchor file '%s': %s (commit refused)", a->path,
                      g_strerror(errno));
        return 1;   /* turns the COMMIT into a ROLLBACK */
    }
    return 0;
}

static void
anchor_rollback_hook(void *data)
{
    anchor_state_t *a = data;
    a->pending = false;
}

static void
anchor_set_pending(cor_store_t *st, int64_t seq, const char *hash)
{
    g_mutex_lock(&anchor_lock);
    if (!anchor_states)
        anchor_states = g_hash_table_new(g_direct_hash, g_direct_equal);
    anchor_state_t *a = g_hash_table_lookup(anchor_states, st->db);
    g_autofree char *path = cor_audit_anchor_path(st);
    if (!a) {
        a = g_new0(anchor_state_t, 1);
        g_hash_table_insert(anchor_states, st->db, a);
    }
    if (!a->path || strcmp(a->path, path) != 0) {
        /* a new connection that reuses a closed one's address */
        g_free(a->path);
        a->path = g_steal_pointer(&path);
    }
    a->pending = true;
    a->seq = seq;
    g_strlcpy(a->hash, hash, sizeof a->hash);
    /* (re)registering is cheap and covers a connection opened since */
    sqlite3_commit_hook(st->db, anchor_commit_hook, a);
    sqlite3_rollback_hook(st->db, anchor_rollback_hook, a);
    g_mutex_unlock(&anchor_lock);
}

/* ---- appending ---- */

static cor_status_t
fail(char **err, cor_status_t s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static cor_status_t
fail(char **err, cor_status_t s, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        g_free(*err);
        *err = g_strdup_vprintf(fmt, ap);
        va_end(ap);
    }
    return s;
}

static bool
is_json_object(const char *text)
{
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json_parser_load_from_data(p, text, -1, NULL))
        return false;
    JsonNode *root = json_parser_get_root(p);
    return root && JSON_NODE_HOLDS_OBJECT(root);
}

cor_status_t
cor_audit_append(cor_store_t *st, const char *operator_name, const char *action,
                 const char *case_ref, const char *detail_json, int64_t *seq_out, char **err)
{
    if (!cor_store_in_transaction(st))
        return fail(err, COR_ERR_INTERNAL, "audit entry '%s' outside a transaction", action);
    if (!operator_name || !*operator_name || !action || !*action)
        return fail(err, COR_ERR_INVALID, "an audit entry needs an operator and an action");
    if (!case_ref)
        case_ref = "";
    if (!detail_json)
        detail_json = "{}";
    if (!g_utf8_validate(detail_json, -1, NULL) || !is_json_object(detail_json))
        return fail(err, COR_ERR_INVALID, "audit detail for '%s' is not a JSON object", action);
    if (!g_utf8_validate(operator_name, -1, NULL) || !g_utf8_validate(case_ref, -1, NULL))
        return fail(err, COR_ERR_INVALID, "audit entry '%s': operator or case is not UTF-8",
                    action);

    sqlite3_stmt *q = cor_store_stmt(st, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
    if (!q)
        return fail(err, COR_ERR_STORE, "%s", cor_store_error(st));
    int64_t seq = 1;
    g_autofree char *prev = g_strdup(COR_AUDIT_GENESIS);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        seq = sqlite3_column_int64(q, 0) + 1;
        g_free(prev);
        prev = cor_store_col_text(q, 1);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        cor_status_t s = cor_store_sqlite_error(st, rc, "cannot read the audit trail");
        return fail(err, s, "%s", cor_store_error(st));
    }

    int64_t at = (int64_t) time(NULL);
    char hash[65];
    cor_audit_hash(seq, at, operator_name, action, case_ref, detail_json, prev, hash);

    q = cor_store_stmt(st,
        "INSERT INTO audit (seq, at, operator, action, case_ref, detail, prev, hash)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!q)
        return fail(err, COR_ERR_STORE, "%s", cor_store_error(st));
    sqlite3_bind_int64(q, 1, seq);
    sqlite3_bind_int64(q, 2, at);
    sqlite3_bind_text(q, 3, operator_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, case_ref, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, detail_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 7, prev, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 8, hash, -1, SQLITE_STATIC);
    cor_status_t s = cor_store_step_done(st, q, "cannot append to the audit trail");
    if (s != COR_OK)
        return fail(err, s, "%s", cor_store_error(st));

    char head[128];
    snprintf(head, sizeof head, "%" G_GINT64_FORMAT " %s", seq, hash);
    if ((s = cor_store_meta_set(st, "audit_head", head)) != COR_OK)
        return fail(err, s, "%s", cor_store_error(st));
    anchor_set_pending(st, seq, hash);
    if (seq_out)
        *seq_out = seq;
    return COR_OK;
}
