/* core/audit.c — appending to the records audit trail (core/audit.h has
 * the design notes: what each hash covers, the two anchors, durability). */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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

void
cor_audit_hash2(int64_t seq, int64_t at, const char *operator_name, int64_t login_uid,
                const char *login, const char *action, const char *case_ref, const char *detail,
                const char *prev, char out[65])
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    static const char domain[] = "corridor-audit-2\n";
    g_checksum_update(sum, (const guchar *) domain, (gssize) (sizeof domain - 1));
    char num[32];
    snprintf(num, sizeof num, "%" G_GINT64_FORMAT, seq);
    netstring(sum, num);
    snprintf(num, sizeof num, "%" G_GINT64_FORMAT, at);
    netstring(sum, num);
    netstring(sum, operator_name);
    snprintf(num, sizeof num, "%" G_GINT64_FORMAT, login_uid);
    netstring(sum, num);
    netstring(sum, login);
    netstring(sum, action);
    netstring(sum, case_ref);
    netstring(sum, detail);
    netstring(sum, prev);
    g_strlcpy(out, g_checksum_get_string(sum), 65);
}

/* ---- the login (design note 1) ---- */

static GMutex login_lock;
static bool login_known;
static int64_t login_uid;
static char *login_name;

/* The kernel's audit login uid, or -1 when it has none ("4294967295"). */
static int64_t
kernel_login_uid(void)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents("/proc/self/loginuid", &text, NULL, NULL))
        return -1;
    char *end = NULL;
    guint64 v = g_ascii_strtoull(g_strstrip(text), &end, 10);
    if (!end || end == text || *end || v >= (guint64) (uid_t) -1)
        return -1;
    return (int64_t) v;
}

static char *
user_name(int64_t uid)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwuid_r((uid_t) uid, &pw, buf, sizeof buf, &res) == 0 && res && res->pw_name &&
        *res->pw_name)
        return g_strdup(res->pw_name);
    return g_strdup_printf("uid-%" G_GINT64_FORMAT, uid);
}

void
cor_audit_login(int64_t *uid, char **name)
{
    g_mutex_lock(&login_lock);
    if (!login_known) {
        login_uid = kernel_login_uid();
        if (login_uid < 0)
            login_uid = (int64_t) getuid();
        g_free(login_name);
        login_name = user_name(login_uid);
        login_known = true;
    }
    *uid = login_uid;
    *name = g_strdup(login_name);
    g_mutex_unlock(&login_lock);
}

void
cor_audit_set_login(int64_t uid, const char *name)
{
    g_mutex_lock(&login_lock);
    g_clear_pointer(&login_name, g_free);
    login_known = uid >= 0;
    if (login_known) {
        login_uid = uid;
        login_name = g_strdup(name && *name ? name : "?");
    }
    g_mutex_unlock(&login_lock);
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
    cor_store_t *st;            /* the handle that armed it (for the error) */
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

/* Syncs the directory holding `path` (after creating a file in it).  0 or
 * -1 (errno): a directory that cannot be opened counts as a failure. */
static int
sync_dir_of(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    int rc = fsync(dfd);
    int e = errno;
    close(dfd);
    errno = e;
    return rc;
}

/* Opens the anchor file for appending, creating it when missing: mode
 * 0660 whatever the umask, in the directory's group (a setgid directory
 * gives that anyway; otherwise the creator's group would lock the other
 * officers out).  *created says whether it was made.  fd or -1 (errno). */
static int
anchor_open(const char *path, bool *created)
{
    *created = false;
    for (;;) {
        int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (fd >= 0 || errno != ENOENT)
            return fd;
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0660);
        if (fd < 0) {
            if (errno == EEXIST)
                continue;   /* another process made it meanwhile */
            return -1;
        }
        *created = true;
        g_autofree char *dir = g_path_get_dirname(path);
        struct stat ds, fs;
        /* best effort: the owner may always set the mode, and the group
         * when they are in it */
        if (stat(dir, &ds) == 0 && fstat(fd, &fs) == 0 && fs.st_gid != ds.st_gid &&
            fchown(fd, (uid_t) -1, ds.st_gid) != 0)
            cor_log_warning("cannot give the audit anchor file '%s' the group of its directory:"
                            " %s", path, g_strerror(errno));
        if (fchmod(fd, 0660) != 0)
            cor_log_warning("cannot make the audit anchor file '%s' mode 0660: %s", path,
                            g_strerror(errno));
        return fd;
    }
}

/* Appends "SEQ HASH\n" to the anchor file and syncs it.  0 or -1 (errno).
 * A write that fails part-way (a full disk, a file size limit: write(2)
 * takes what fits) is cut off again, so that the file never ends with half
 * a line that verify and the stray-line check could not read.  (Appenders
 * take turns: this runs in the commit hook, under the store's write lock.) */
static int
anchor_write(const char *path, int64_t seq, const char *hash)
{
    bool created;
    int fd = anchor_open(path, &created);
    if (fd < 0)
        return -1;
    char line[128];
    int n = snprintf(line, sizeof line, "%" G_GINT64_FORMAT " %s\n", seq, hash);
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (write_all(fd, line, (size_t) n) != 0 || fsync(fd) != 0) {
        int e = errno;
        struct stat now;
        if (fstat(fd, &now) == 0 && now.st_size > sb.st_size &&
            now.st_size < sb.st_size + n && ftruncate(fd, sb.st_size) != 0)
            cor_log_warning("cannot cut the half-written line off the audit anchor file '%s': %s",
                            path, g_strerror(errno));
        close(fd);
        errno = e;
        return -1;
    }
    if (close(fd) != 0)
        return -1;
    if (created && sync_dir_of(path) != 0)
        return -1;
    return 0;
}

cor_status_t
cor_audit_anchor_create(cor_store_t *st, char **err)
{
    g_autofree char *path = cor_audit_anchor_path(st);
    bool created;
    int fd = anchor_open(path, &created);
    if (fd < 0 || close(fd) != 0 || (created && sync_dir_of(path) != 0)) {
        if (err) {
            g_free(*err);
            *err = g_strdup_printf("cannot create the audit anchor file '%s': %s", path,
                                   g_strerror(errno));
        }
        return COR_ERR_IO;
    }
    return COR_OK;
}

static int
anchor_commit_hook(void *data)
{
    anchor_state_t *a = data;
    if (!a->pending)
        return 0;
    a->pending = false;
    if (anchor_write(a->path, a->seq, a->hash) != 0) {
        const char *why = g_strerror(errno);
        /* the caller reports it: cor_store_commit keeps this on the handle
         * rather than SQLite's "constraint failed" */
        cor_log_debug("cannot write the audit anchor file '%s': %s (commit refused)", a->path,
                      why);
        cor_store_set_error(a->st, COR_ERR_IO,
                            "cannot write the audit anchor file '%s': %s; nothing was changed"
                            " (the records group must be able to append to it: docs/records.md)",
                            a->path, why);
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
    a->st = st;
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

/* Whether this connection's transaction has appended already (its anchor
 * line is armed). */
static bool
anchor_is_pending(cor_store_t *st)
{
    g_mutex_lock(&anchor_lock);
    anchor_state_t *a = anchor_states ? g_hash_table_lookup(anchor_states, st->db) : NULL;
    bool pending = a && a->pending && a->st == st;
    g_mutex_unlock(&anchor_lock);
    return pending;
}

/* ---- stray anchor lines (design note 4) ---- */

typedef struct stray {
    int64_t seq;
    char hash[65];
} stray_t;

static bool
parse_line(const char *s, size_t n, int64_t *seq, char hash[65])
{
    if (n != 0 && s[n - 1] == '\r')
        n--;
    const char *sp = memchr(s, ' ', n);
    if (!sp || sp == s || (size_t) (s + n - (sp + 1)) != 64)
        return false;
    int64_t v = 0;
    for (const char *p = s; p < sp; p++) {
        if (!g_ascii_isdigit(*p) || v > G_MAXINT64 / 10 - 10)
            return false;
        v = v * 10 + (*p - '0');
    }
    for (const char *p = sp + 1; p < s + n; p++)
        if (!g_ascii_isxdigit(*p) || g_ascii_isupper(*p))
            return false;
    if (v <= 0)
        return false;
    *seq = v;
    memcpy(hash, sp + 1, 64);
    hash[64] = '\0';
    return true;
}

/* The stray lines at the end of the anchor file: lines for seq head+1
 * after the head's own line (or from the file's start when there is no
 * head).  An empty array when the file ends with the head; NULL when the
 * file does not show the pattern (missing, unreadable, or disagreeing in
 * another way: verify's business, not this). */
static GArray *
stray_lines(const char *path, int64_t head_seq, const char *head_hash)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return NULL;
    }
    /* the tail is enough: the pattern is the head line and a few after it */
    off_t want = sb.st_size < 16384 ? sb.st_size : 16384;
    off_t from = sb.st_size - want;
    g_autofree char *buf = g_malloc((gsize) want + 1);
    ssize_t got = pread(fd, buf, (size_t) want, from);
    close(fd);
    if (got != (ssize_t) want)
        return NULL;
    buf[want] = '\0';
    char *start = buf, *end = buf + want;
    if (from > 0) {
        char *nl = memchr(buf, '\n', (size_t) want);
        if (!nl)
            return NULL;
        start = nl + 1;   /* a partial first line */
    }
    GArray *out = g_array_new(FALSE, FALSE, sizeof(stray_t));
    /* walk back line by line */
    char *p = end;
    if (p > start && p[-1] == '\n')
        p--;
    while (p > start) {
        char *ls = p;
        while (ls > start && ls[-1] != '\n')
            ls--;
        stray_t x;
        if (!parse_line(ls, (size_t) (p - ls), &x.seq, x.hash))
            goto no;
        if (x.seq == head_seq && strcmp(x.hash, head_hash) == 0)
            return out;                                 /* the head's line */
        if (x.seq != head_seq + 1)
            goto no;
        g_array_prepend_val(out, x);
        p = ls > start ? ls - 1 : ls;
    }
    if (from == 0 && head_seq == 0)
        return out;                                     /* before entry 1 */
no:
    g_array_unref(out);
    return NULL;
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

/* Inserts one validated entry after (seq - 1, prev) with this process's
 * login, sets the meta anchor and arms the anchor line. */
static cor_status_t
append_row(cor_store_t *st, int64_t seq, const char *prev, const char *operator_name,
           const char *action, const char *case_ref, const char *detail_json, char hash[65],
           char **err)
{
    int64_t at = (int64_t) time(NULL);
    int64_t uid;
    g_autofree char *login = NULL;
    cor_audit_login(&uid, &login);
    cor_audit_hash2(seq, at, operator_name, uid, login, action, case_ref, detail_json, prev,
                    hash);

    sqlite3_stmt *q = cor_store_stmt(st,
        "INSERT INTO audit (seq, at, operator, action, case_ref, detail, prev, hash, login_uid,"
        " login) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
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
    sqlite3_bind_int64(q, 9, uid);
    sqlite3_bind_text(q, 10, login, -1, SQLITE_STATIC);
    cor_status_t s = cor_store_step_done(st, q, "cannot append to the audit trail");
    if (s != COR_OK)
        return fail(err, s, "%s", cor_store_error(st));

    char head[128];
    snprintf(head, sizeof head, "%" G_GINT64_FORMAT " %s", seq, hash);
    if ((s = cor_store_meta_set(st, "audit_head", head)) != COR_OK)
        return fail(err, s, "%s", cor_store_error(st));
    anchor_set_pending(st, seq, hash);
    return COR_OK;
}

/* The detail of an audit.stray-anchor entry (transfer full). */
static char *
stray_detail(GArray *strays)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "stray");
    json_builder_begin_array(b);
    for (guint i = 0; i < strays->len; i++) {
        stray_t *x = &g_array_index(strays, stray_t, i);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "seq");
        json_builder_add_int_value(b, x->seq);
        json_builder_set_member_name(b, "hash");
        json_builder_add_string_value(b, x->hash);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
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

    char hash[65];
    cor_status_t s;
    if (!anchor_is_pending(st)) {
        /* the transaction's first entry: the head is the committed one, so
         * lines after it in the file are commits that did not happen */
        g_autofree char *path = cor_audit_anchor_path(st);
        g_autoptr(GArray) strays = stray_lines(path, seq - 1, seq > 1 ? prev : "");
        if (strays && strays->len > 0) {
            g_autofree char *detail = stray_detail(strays);
            cor_log_warning("the audit anchor file '%s' ends with %u line%s for entry %"
                            G_GINT64_FORMAT ", which the store does not have (a commit that"
                            " failed after its anchor line); recorded as entry %" G_GINT64_FORMAT,
                            path, strays->len, strays->len == 1 ? "" : "s", seq, seq);
            if ((s = append_row(st, seq, prev, operator_name, "audit.stray-anchor", "", detail,
                                hash, err)) != COR_OK)
                return s;
            g_free(prev);
            prev = g_strdup(hash);
            seq++;
        }
    }
    if ((s = append_row(st, seq, prev, operator_name, action, case_ref, detail_json, hash,
                        err)) != COR_OK)
        return s;
    if (seq_out)
        *seq_out = seq;
    return COR_OK;
}
