/* archive-web/archive.c — building and updating the archive trees (see archive.h).
 *
 * Writing is the only thing here that must be careful:
 *   - a full build writes into fresh folders next to the live ones
 *     (DIR.new), makes them durable (syncfs) and swaps each in with one
 *     renameat2(RENAME_EXCHANGE); readers see the old tree or the new one;
 *   - an update writes each file to "NAME.tmp~" and renames it over NAME,
 *     then syncfs, and only then deletes the work items it consumed, so a
 *     crash at any point leaves either the old page or the new one, and the
 *     items are still queued for the next round.
 */
#include "archive-web/archive.h"

#include "core/links.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-web/model.h"
#include "archive-web/render.h"
#include "core/log.h"
#include "core/message.h"
#include "core/template.h"

GResource *cor_web_get_resource(void);

/* Parsed messages the daemon keeps between updates (see cor_archive): at
 * most this many, holding at most this many bytes of originals (a parsed
 * message costs about four times its original in memory; a count alone
 * would let a burst of mail with attachments take gigabytes).  The cache is
 * emptied whole when over, so its bound is also how far the daemon's memory
 * swings: 2 MiB of originals swung it by up to 9 MB in the soak
 * (docs/hardening.md).  512 KiB holds the posts of a usual round (about a
 * second's mail) or of a long thread; a miss costs one parse. */
#define MESSAGE_CACHE 500
#define MESSAGE_CACHE_BYTES (512u << 10)
/* pages made and held before they are written (update_group) */
#define FLUSH_FILES 32

struct cor_archive {
    char *state_dir;
    char *public_dir;
    char *restricted_dir;
    char *lock_path;
    char *url;
    char *title;
    char *organisation;
    char *templates_dir;
    int workers;
    cor_tmpl_set_t *tmpl;
    rnd_site_t site;
    GBytes *css;
    void (*progress)(uint64_t, uint64_t, void *);
    void *progress_data;
    char *generation;          /* meta 'archive_generation' at the last update */
    GHashTable *messages;      /* updates: msg -> rnd_message_t*, parsed messages kept
                                  between rounds (a thread's page needs all of
                                  them; the group feed the newest); emptied when
                                  it holds more than MESSAGE_CACHE messages or
                                  MESSAGE_CACHE_BYTES (see cache_trim) */
    size_t messages_bytes;     /* bytes of originals in `messages` */
    bool fresh_next;           /* the pages may not match the store's record of
                                  them (threads.shown): the next update makes
                                  every index page of the groups it touches */
};

void
cor_archive_key(const char *s, char out[17])
{
    cor_store_key(s, out);     /* one key for the archive's URLs and the store's column */
}

char *
cor_archive_message_url(const char *group, const char *message_id)
{
    /* one layout for the archive and the links in mail (core/links.h) */
    return cor_link_message_path(group, message_id);
}

const char *
cor_archive_public_dir(const cor_archive_t *a)
{
    return a->public_dir;
}

const char *
cor_archive_restricted_dir(const cor_archive_t *a)
{
    return a->restricted_dir;
}

static const char *
cfg_str(const cor_config_t *cfg, const char *key, const char *fallback)
{
    if (!cfg)
        return fallback;
    return cor_config_string(cfg, "archive", key);
}

static int64_t
cfg_int(const cor_config_t *cfg, const char *key, int64_t fallback)
{
    return cfg ? cor_config_int(cfg, "archive", key) : fallback;
}

/* The built-in templates from the GResource, then the council's. */
static cor_status_t
load_templates(cor_archive_t *a, char **err)
{
    GResource *res = cor_web_get_resource();
    g_auto(GStrv) names = g_resource_enumerate_children(res, "/corridor/templates",
                                                         G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
    if (!names) {
        *err = g_strdup("the built-in templates are missing from this build");
        return COR_ERR_INTERNAL;
    }
    for (char **n = names; *n; n++) {
        g_autofree char *path = g_strdup_printf("/corridor/templates/%s", *n);
        g_autoptr(GBytes) b = g_resource_lookup_data(res, path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
        if (!b)
            continue;
        gsize len;
        const char *text = g_bytes_get_data(b, &len);
        g_autofree char *origin = g_strdup_printf("built-in %s", *n);
        cor_status_t s = cor_tmpl_set_add(a->tmpl, *n, text, len, origin, err);
        if (s != COR_OK)
            return s;
    }
    a->css = g_resource_lookup_data(res, "/corridor/static/corridor.css",
                                    G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
    if (a->templates_dir && *a->templates_dir) {
        cor_status_t s = cor_tmpl_set_add_dir(a->tmpl, a->templates_dir, err);
        if (s != COR_OK)
            return s;
        g_autofree char *css = g_build_filename(a->templates_dir, "corridor.css", NULL);
        char *data;
        gsize len;
        if (g_file_get_contents(css, &data, &len, NULL)) {
            g_bytes_unref(a->css);
            a->css = g_bytes_new_take(data, len);
        }
    }
    if (!a->css)
        a->css = g_bytes_new_static("", 0);
    return COR_OK;
}

cor_status_t
cor_archive_open(const cor_archive_options_t *o, cor_archive_t **out, char **err)
{
    *out = NULL;
    cor_archive_t *a = g_new0(cor_archive_t, 1);
    const cor_config_t *cfg = o->config;
    a->state_dir = g_strdup(o->state_dir);
    const char *d = cfg_str(cfg, "dir", "");
    a->public_dir = *d ? g_strdup(d) : g_build_filename(o->state_dir, "archive", NULL);
    d = cfg_str(cfg, "restricted_dir", "");
    a->restricted_dir = *d ? g_strdup(d) : g_build_filename(o->state_dir, "archive-restricted", NULL);
    a->lock_path = g_build_filename(o->state_dir, "archive.lock", NULL);
    const char *url = cfg_str(cfg, "url", "http://127.0.0.1:8080/");
    a->url = g_str_has_suffix(url, "/") ? g_strdup(url) : g_strconcat(url, "/", NULL);
    a->title = g_strdup(cfg_str(cfg, "site_title", "Group archive"));
    a->organisation = g_strdup(cfg_str(cfg, "organisation", ""));
    a->templates_dir = g_strdup(cfg_str(cfg, "templates", ""));
    a->workers = o->workers > 0 ? o->workers : (int) cfg_int(cfg, "workers", 0);
    if (a->workers <= 0)
        a->workers = (int) g_get_num_processors();
    if (a->workers > 8)
        a->workers = 8;
    a->progress = o->progress;
    a->progress_data = o->progress_data;
    a->fresh_next = true;       /* the first round after a start */
    a->messages = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                        (GDestroyNotify) rnd_message_free);
    a->tmpl = cor_tmpl_set_new();
    cor_status_t s = load_templates(a, err);
    if (s != COR_OK) {
        cor_archive_free(a);
        return s;
    }
    int per_page = (int) cfg_int(cfg, "threads_per_page", 50);
    int feed = (int) cfg_int(cfg, "feed_entries", 20);
    a->site = (rnd_site_t) {
        .tmpl = a->tmpl,
        .title = a->title,
        .organisation = a->organisation,
        .url = a->url,
        .per_page = per_page > 0 ? per_page : 50,
        .feed_entries = feed > 0 ? feed : 20,
    };
    *out = a;
    return COR_OK;
}

void
cor_archive_free(cor_archive_t *a)
{
    if (!a)
        return;
    g_free(a->generation);
    g_hash_table_unref(a->messages);
    cor_tmpl_set_free(a->tmpl);
    if (a->css)
        g_bytes_unref(a->css);
    g_free(a->state_dir);
    g_free(a->public_dir);
    g_free(a->restricted_dir);
    g_free(a->lock_path);
    g_free(a->url);
    g_free(a->title);
    g_free(a->organisation);
    g_free(a->templates_dir);
    g_free(a);
}

/* ---- files ---- */

typedef struct writer {
    GHashTable *dirs;          /* folders known to exist */
    bool atomic;               /* live tree: unchanged files are left alone,
                                  others written to NAME.tmp~ and renamed */
    GHashTable *written;       /* paths written or found unchanged (a full
                                  build in place sweeps the rest), or NULL */
    uint64_t files, bytes, unchanged;
} writer_t;

static void
writer_init(writer_t *w, bool atomic)
{
    w->dirs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    w->atomic = atomic;
    w->written = NULL;
    w->files = w->bytes = w->unchanged = 0;
}

static void
writer_clear(writer_t *w)
{
    g_hash_table_unref(w->dirs);
    if (w->written)
        g_hash_table_unref(w->written);
}

/* True when the file at path holds exactly these bytes. */
static bool
same_content(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat sb;
    bool same = false;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (size_t) sb.st_size == len) {
        char *buf = g_malloc(len > 0 ? len : 1);
        size_t got = 0;
        while (got < len) {
            ssize_t n = read(fd, buf + got, len - got);
            if (n <= 0) {
                if (n < 0 && errno == EINTR)
                    continue;
                break;
            }
            got += (size_t) n;
        }
        same = got == len && memcmp(buf, data, len) == 0;
        g_free(buf);
    }
    close(fd);
    return same;
}

static cor_status_t
io_error(char **err, const char *what, const char *path)
{
    int e = errno;
    if (err && !*err)
        *err = g_strdup_printf("cannot %s '%s': %s", what, path, g_strerror(e));
    return e == ENOSPC || e == EDQUOT || e == EFBIG ? COR_ERR_DISK_FULL : COR_ERR_IO;
}

static cor_status_t
ensure_dir(writer_t *w, const char *dir, char **err)
{
    if (g_hash_table_contains(w->dirs, dir))
        return COR_OK;
    if (g_mkdir_with_parents(dir, 0777) != 0)
        return io_error(err, "create folder", dir);
    g_hash_table_add(w->dirs, g_strdup(dir));
    return COR_OK;
}

static cor_status_t
write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return COR_ERR_IO;
        }
        data += n;
        len -= (size_t) n;
    }
    return COR_OK;
}

/* Writes one file under root.  Atomic mode: NAME.tmp~ then rename. */
static cor_status_t
write_file(writer_t *w, const char *root, const rnd_file_t *f, char **err)
{
    char *path = g_build_filename(root, f->path, NULL);
    g_autofree char *dir = g_path_get_dirname(path);
    gsize len;
    const char *data = g_bytes_get_data(f->data, &len);
    if (w->written)
        g_hash_table_add(w->written, path);
    g_autofree char *own_path = w->written ? NULL : path;
    /* an unchanged page is not written again: a rebuild of a current
     * archive only reads, and an update touches only what changed */
    if (w->atomic && same_content(path, data, len)) {
        w->unchanged++;
        return COR_OK;
    }
    cor_status_t s = ensure_dir(w, dir, err);
    if (s != COR_OK)
        return s;
    g_autofree char *tmp = w->atomic ? g_strconcat(path, ".tmp~", NULL) : NULL;
    const char *target = tmp ? tmp : path;
    /* 0666 and 0777 here: the umask decides (the daemon's UMask=0007 keeps
     * pages writable by the corridor group, so an officer's retention run
     * can rewrite them; docs/security.md) */
    int fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return io_error(err, "create", target);
    if (write_all(fd, data, len) != COR_OK) {
        s = io_error(err, "write", target);
        close(fd);
        unlink(target);
        return s;
    }
    if (close(fd) != 0)
        return io_error(err, "write", target);
    if (tmp && rename(tmp, path) != 0) {
        s = io_error(err, "rename into place", path);
        unlink(tmp);
        return s;
    }
    w->files++;
    w->bytes += len;
    return COR_OK;
}

static cor_status_t
write_files(writer_t *w, const char *root, GPtrArray *files, char **err)
{
    for (guint i = 0; i < files->len; i++) {
        cor_status_t s = write_file(w, root, files->pdata[i], err);
        if (s != COR_OK)
            return s;
    }
    g_ptr_array_set_size(files, 0);
    return COR_OK;
}

/* Writes what `files` holds once it holds FLUSH_FILES pages (update_group:
 * a round's memory must not grow with its size). */
static cor_status_t
write_some(writer_t *w, const char *root, GPtrArray *files, char **err)
{
    return files->len >= FLUSH_FILES ? write_files(w, root, files, err) : COR_OK;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void) sb;
    (void) ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

static void
remove_tree(const char *dir)
{
    if (g_file_test(dir, G_FILE_TEST_EXISTS))
        nftw(dir, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
}

/* Deletes every file under dir that is not in `keep` (full paths), and
 * folders left empty. */
static GHashTable *sweep_keep;
static G_LOCK_DEFINE(sweep);

static int
sweep_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void) sb;
    if (flag == FTW_DP) {
        if (ftw->level > 0)
            rmdir(path);            /* fails (fine) unless empty */
    } else if (flag == FTW_F || flag == FTW_SL) {
        if (!g_hash_table_contains(sweep_keep, path))
            unlink(path);
    }
    return 0;
}

static void
sweep_tree(const char *dir, GHashTable *keep)
{
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
        return;
    G_LOCK(sweep);
    sweep_keep = keep;
    nftw(dir, sweep_entry, 32, FTW_DEPTH | FTW_PHYS);
    sweep_keep = NULL;
    G_UNLOCK(sweep);
}

/* Deletes the temporary files a killed writer left under dir. */
static int
clean_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void) sb;
    (void) ftw;
    if (flag == FTW_F && g_str_has_suffix(path, ".tmp~"))
        unlink(path);
    return 0;
}

/* Makes everything written under dir durable (one syncfs for the file system). */
static cor_status_t
sync_tree(const char *dir, char **err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return io_error(err, "open folder", dir);
    int rc = syncfs(fd);
    int e = errno;
    close(fd);
    if (rc != 0) {
        errno = e;
        return io_error(err, "sync", dir);
    }
    return COR_OK;
}

/* Puts `fresh` in place of `live` in one step; the old tree is removed. */
static cor_status_t
swap_in(const char *fresh, const char *live, char **err)
{
    if (!g_file_test(live, G_FILE_TEST_EXISTS)) {
        g_autofree char *parent = g_path_get_dirname(live);
        g_mkdir_with_parents(parent, 0777);
        if (rename(fresh, live) != 0)
            return io_error(err, "rename into place", live);
        return COR_OK;
    }
    if (renameat2(AT_FDCWD, fresh, AT_FDCWD, live, RENAME_EXCHANGE) != 0)
        return io_error(err, "swap in", live);
    remove_tree(fresh);       /* now the old tree */
    return COR_OK;
}

static int
lock_archive(cor_archive_t *a, char **err)
{
    int fd = open(a->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        io_error(err, "open", a->lock_path);
        return -1;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            io_error(err, "lock", a->lock_path);
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void
unlock_archive(int fd)
{
    if (fd >= 0)
        close(fd);
}

cor_status_t
cor_archive_clean(cor_archive_t *a, char **err)
{
    int lockfd = lock_archive(a, err);
    if (lockfd < 0)
        return COR_ERR_IO;
    const char *const roots[] = { a->public_dir, a->restricted_dir };
    for (int i = 0; i < 2; i++) {
        g_autofree char *half = g_strconcat(roots[i], ".new", NULL);
        if (g_file_test(half, G_FILE_TEST_IS_DIR)) {
            cor_log_info("archive: removing '%s', left by a build that did not finish", half);
            remove_tree(half);
        }
        if (g_file_test(roots[i], G_FILE_TEST_IS_DIR))
            nftw(roots[i], clean_entry, 32, FTW_PHYS);
    }
    unlock_archive(lockfd);
    return COR_OK;
}

static const char *
tree_of(cor_archive_t *a, const am_group_t *g)
{
    return g->info->visibility == COR_VISIBILITY_PUBLIC ? a->public_dir : a->restricted_dir;
}

static rnd_file_t *
css_file(cor_archive_t *a)
{
    rnd_file_t *f = g_new(rnd_file_t, 1);
    f->path = g_strdup("static/corridor.css");
    f->data = g_bytes_ref(a->css);
    return f;
}

/* ---- full build ---- */

typedef enum { JOB_THREAD, JOB_GROUP, JOB_AUTHORS, JOB_SITE } job_kind_t;

typedef struct job {
    job_kind_t kind;
    am_group_t *group;
    am_thread_t *thread;
    guint from, to;            /* JOB_AUTHORS: range in the author list */
    guint weight;
} job_t;

typedef struct build {
    cor_archive_t *a;
    const char *store_file;
    am_model_t *m;
    GPtrArray *jobs;
    GPtrArray *authors;        /* am_author_t* by key */
    const char *pub, *res;     /* roots being written */
    const char *only_group;    /* --group */
    bool in_place;             /* the live trees exist: write what changed */
    GHashTable *written;       /* in place: every path this build made */
    uint64_t unchanged;
    gint next;
    guint limit;               /* jobs of this round: [next, limit) */
    gint failed;
    GMutex lock;
    char *error;
    cor_status_t status;
    uint64_t done, total;      /* messages */
    uint64_t files, bytes;
} build_t;

static void
build_fail(build_t *b, cor_status_t s, char *err)
{
    g_mutex_lock(&b->lock);
    if (b->status == COR_OK) {
        b->status = s;
        b->error = err ? err : g_strdup(cor_status_to_string(s));
        err = NULL;
    }
    g_mutex_unlock(&b->lock);
    g_free(err);
    g_atomic_int_set(&b->failed, 1);
}

/* The folder a group's files go to in this build. */
static const char *
build_root(build_t *b, const am_group_t *g)
{
    return g->info->visibility == COR_VISIBILITY_PUBLIC ? b->pub : b->res;
}

static cor_status_t
build_write(build_t *b, writer_t *w, const am_group_t *g, GPtrArray *files, char **err)
{
    return write_files(w, g ? build_root(b, g) : b->pub, files, err);
}

/* A full build's messages for one thread page (rnd_message_get_fn): each
 * post is parsed once, when the page asks for it, its message page made and
 * written then, and freed at the next. */
typedef struct {
    build_t *b;
    cor_store_t *st;
    writer_t *w;
    const am_group_t *g;
    GPtrArray *files;
    rnd_message_t *cur;        /* owned: the one the page may still read */
} job_get_t;

static cor_status_t
job_get(void *data, const am_post_t *p, const rnd_message_t **out, char **err)
{
    job_get_t *j = data;
    g_clear_pointer(&j->cur, rnd_message_free);
    cor_status_t s = rnd_message_load(j->st, p, &j->cur);
    if (s != COR_OK) {
        *err = g_strdup_printf("cannot read message %" G_GINT64_FORMAT ": %s", p->msg,
                               cor_store_error(j->st));
        return s;
    }
    if ((s = rnd_message_files(&j->b->a->site, p, j->cur, j->files, err)) != COR_OK ||
        (s = build_write(j->b, j->w, j->g, j->files, err)) != COR_OK)
        return s;
    *out = j->cur;
    return COR_OK;
}

static cor_status_t
job_thread(build_t *b, cor_store_t *st, writer_t *w, am_thread_t *t, GPtrArray *files, char **err)
{
    job_get_t j = { b, st, w, t->group, files, NULL };
    cor_status_t s = rnd_thread_files(&b->a->site, st, t, job_get, &j, files, err);
    g_clear_pointer(&j.cur, rnd_message_free);
    if (s == COR_OK)
        s = build_write(b, w, t->group, files, err);
    return s;
}

static cor_status_t
job_group(build_t *b, cor_store_t *st, writer_t *w, am_group_t *g, GPtrArray *files, char **err)
{
    const rnd_site_t *site = &b->a->site;
    /* the numbered pages before the front page, which links to them */
    cor_status_t s = COR_OK;
    for (int k = 1; s == COR_OK && k <= rnd_index_numbered(site, g); k++)
        s = rnd_index_file(site, g, k, files, err);
    if (s == COR_OK)
        s = rnd_index_file(site, g, 0, files, err);
    for (guint i = 0; s == COR_OK && i < g->month_list->len; i++)
        s = rnd_month_file(site, g, g_array_index(g->month_list, am_month_t, i).month, files, err);
    if (s == COR_OK)
        s = rnd_about_file(site, g, files, err);
    if (s == COR_OK)
        s = rnd_group_feed_file(site, st, g, NULL, files, err);
    /* merged thread ids keep their pages */
    GHashTableIter it;
    gpointer k, v;
    g_autoptr(GArray) olds = g_array_new(FALSE, FALSE, sizeof(int64_t));
    g_hash_table_iter_init(&it, g->aliases);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_array_append_val(olds, *(int64_t *) k);
    for (guint i = 0; s == COR_OK && i < olds->len; i++) {
        int64_t old = g_array_index(olds, int64_t, i);
        s = rnd_alias_file(site, g, old, *(int64_t *) g_hash_table_lookup(g->aliases, &old),
                           files, err);
    }
    if (s == COR_OK)
        s = build_write(b, w, g, files, err);
    return s;
}

static const cor_viewer_t anonymous = { COR_VIEWER_ANONYMOUS, NULL };

static cor_status_t
job_authors(build_t *b, cor_store_t *st, writer_t *w, guint from, guint to, GPtrArray *files,
            char **err)
{
    for (guint i = from; i < to; i++) {
        am_author_t *au = b->authors->pdata[i];
        GString *out = g_string_sized_new(8192);
        cor_status_t s = rnd_author_page(&b->a->site, st, b->m, &anonymous, au->key, out, err);
        if (s == COR_ERR_NOT_FOUND) {
            g_string_free(out, TRUE);
            continue;
        }
        if (s != COR_OK) {
            g_string_free(out, TRUE);
            return s;
        }
        rnd_file_t *f = g_new(rnd_file_t, 1);
        f->path = g_strdup_printf("author/%s.html", au->key);
        f->data = g_string_free_to_bytes(out);
        g_ptr_array_add(files, f);
    }
    return write_files(w, b->pub, files, err);
}

static cor_status_t
job_site(build_t *b, cor_store_t *st, writer_t *w, GPtrArray *files, char **err)
{
    GString *out = g_string_sized_new(8192);
    cor_status_t s = rnd_site_page(&b->a->site, st, b->m, &anonymous, out, err);
    if (s != COR_OK) {
        g_string_free(out, TRUE);
        return s;
    }
    rnd_file_t *f = g_new(rnd_file_t, 1);
    f->path = g_strdup("index.html");
    f->data = g_string_free_to_bytes(out);
    g_ptr_array_add(files, f);
    g_ptr_array_add(files, css_file(b->a));
    return write_files(w, b->pub, files, err);
}

static gpointer
build_worker(gpointer data)
{
    build_t *b = data;
    cor_store_t *st = NULL;
    char *err = NULL;
    cor_status_t s = cor_store_open(b->store_file, false, &st, &err);
    if (s != COR_OK) {
        build_fail(b, s, err);
        return NULL;
    }
    writer_t w;
    writer_init(&w, b->in_place);
    if (b->in_place)
        w.written = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func((GDestroyNotify) rnd_file_free);
    for (;;) {
        if (g_atomic_int_get(&b->failed))
            break;
        gint i = g_atomic_int_add(&b->next, 1);
        if (i >= (gint) b->limit)
            break;
        job_t *j = b->jobs->pdata[i];
        err = NULL;
        switch (j->kind) {
        case JOB_THREAD: s = job_thread(b, st, &w, j->thread, files, &err); break;
        case JOB_GROUP: s = job_group(b, st, &w, j->group, files, &err); break;
        case JOB_AUTHORS: s = job_authors(b, st, &w, j->from, j->to, files, &err); break;
        case JOB_SITE: s = job_site(b, st, &w, files, &err); break;
        }
        g_ptr_array_set_size(files, 0);
        if (s != COR_OK) {
            build_fail(b, s, err);
            break;
        }
        if (j->kind == JOB_THREAD) {
            g_mutex_lock(&b->lock);
            b->done += j->thread->posts->len;
            if (b->a->progress)
                b->a->progress(b->done, b->total, b->a->progress_data);
            g_mutex_unlock(&b->lock);
        }
    }
    g_mutex_lock(&b->lock);
    b->files += w.files;
    b->bytes += w.bytes;
    b->unchanged += w.unchanged;
    if (w.written) {
        GHashTableIter it;
        gpointer k;
        g_hash_table_iter_init(&it, w.written);
        while (g_hash_table_iter_next(&it, &k, NULL)) {
            g_hash_table_iter_steal(&it);
            g_hash_table_add(b->written, k);
        }
    }
    g_mutex_unlock(&b->lock);
    writer_clear(&w);
    cor_store_close(st);
    return NULL;
}

static int
job_cmp(gconstpointer x, gconstpointer y)
{
    const job_t *a = *(job_t *const *) x, *b = *(job_t *const *) y;
    if ((a->kind == JOB_THREAD) != (b->kind == JOB_THREAD))
        return a->kind == JOB_THREAD ? -1 : 1;      /* conversations first */
    if (a->weight != b->weight)
        return a->weight > b->weight ? -1 : 1;
    return 0;
}

static int
author_cmp(gconstpointer x, gconstpointer y)
{
    return strcmp((*(am_author_t *const *) x)->key, (*(am_author_t *const *) y)->key);
}

/* Records in the store what the pages of model m show (threads.shown,
 * shown_into: every listed thread with its last activity, every merged id
 * with the thread its page points to), for all groups or `only`. */
static cor_status_t
record_shown(cor_store_t *st, am_model_t *m, am_group_t *only)
{
    cor_status_t s = cor_store_threads_clear_shown(st, only ? only->info->id : 0);
    for (guint i = 0; s == COR_OK && i < m->groups->len; i++) {
        am_group_t *g = m->groups->pdata[i];
        if (only && g != only)
            continue;
        for (guint k = 0; s == COR_OK && k < g->order->len; k++) {
            am_thread_t *t = g->order->pdata[k];
            s = cor_store_thread_set_shown(st, t->id, true, t->last_date, 0);
        }
        GHashTableIter it;
        gpointer key, v;
        g_hash_table_iter_init(&it, g->aliases);
        while (s == COR_OK && g_hash_table_iter_next(&it, &key, &v))
            s = cor_store_thread_set_shown(st, *(int64_t *) key, false, 0, *(int64_t *) v);
    }
    return s;
}

/* Deletes the render work up to `upto`, bumps the generation, records what
 * the pages show (record_shown), in one transaction: after the pages are
 * durable, so that a crash before it leaves the work queued. */
static cor_status_t
consume_work(cor_store_t *st, int64_t upto, const char *generation_bump, am_model_t *m,
             am_group_t *only)
{
    cor_status_t s = cor_store_begin(st);
    if (s != COR_OK)
        return s;
    if (upto > 0 && (s = cor_store_work_done(st, "render", upto)) != COR_OK)
        goto fail;
    if (m && (s = record_shown(st, m, only)) != COR_OK)
        goto fail;
    if (generation_bump) {
        g_autofree char *cur = NULL;
        int64_t gen = 0;
        if (cor_store_meta_get(st, "archive_generation", &cur) == COR_OK)
            gen = g_ascii_strtoll(cur, NULL, 10);
        char buf[32];
        g_snprintf(buf, sizeof buf, "%" G_GINT64_FORMAT, gen + 1);
        if ((s = cor_store_meta_set(st, "archive_generation", buf)) != COR_OK)
            goto fail;
    }
    return cor_store_commit(st);
fail:
    cor_store_rollback(st);
    return s;
}

cor_status_t
cor_archive_build(cor_archive_t *a, cor_store_t *st, const char *group, cor_archive_stats_t *stats,
                  char **err)
{
    gint64 t0 = g_get_monotonic_time();
    if (stats)
        memset(stats, 0, sizeof *stats);
    int lockfd = lock_archive(a, err);
    if (lockfd < 0)
        return COR_ERR_IO;

    /* the last work item and the model from one snapshot: every item up to
     * `upto` (deleted at the end) is for a message the model holds */
    int64_t upto = 0;
    am_model_t *m = NULL;
    bool own_read = !cor_store_in_transaction(st);
    cor_status_t s = own_read ? cor_store_begin_read(st) : COR_OK;
    if (s == COR_OK)
        s = cor_store_work_last(st, "render", &upto);
    if (s == COR_OK)
        s = am_model_load(st, &m);
    if (own_read)
        cor_store_end_read(st);
    if (s != COR_OK) {
        *err = g_strdup_printf("cannot read the store: %s", cor_store_error(st));
        unlock_archive(lockfd);
        return s;
    }
    am_group_t *only = NULL;
    if (group && !(only = am_model_group(m, group))) {
        *err = g_strdup_printf("no group '%s'", group);
        am_model_free(m);
        unlock_archive(lockfd);
        return COR_ERR_NO_GROUP;
    }

    build_t b = { .a = a, .store_file = cor_store_file(st), .m = m, .only_group = group };
    g_mutex_init(&b.lock);
    b.jobs = g_ptr_array_new_with_free_func(g_free);
    b.authors = g_ptr_array_new();
    /* A first build writes new trees and renames them into place.  Over
     * live trees, each file is compared and only a changed one replaced
     * (temporary file + rename), then whatever the build did not make is
     * swept away: no reader sees a half-written page, and a rebuild of a
     * current archive writes nothing (creating and deleting every file
     * again would cost far more than reading them). */
    g_autofree char *pub_new = g_strconcat(a->public_dir, ".new", NULL);
    g_autofree char *res_new = g_strconcat(a->restricted_dir, ".new", NULL);
    b.in_place = only || g_file_test(a->public_dir, G_FILE_TEST_IS_DIR);
    if (b.in_place) {
        b.pub = a->public_dir;
        b.res = a->restricted_dir;
        b.written = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    } else {
        remove_tree(pub_new);
        remove_tree(res_new);
        b.pub = pub_new;
        b.res = res_new;
        g_mkdir_with_parents(pub_new, 0777);
        g_mkdir_with_parents(res_new, 0777);
    }

    for (guint i = 0; i < m->groups->len; i++) {
        am_group_t *g = m->groups->pdata[i];
        if (only && g != only)
            continue;
        for (guint k = 0; k < g->order->len; k++) {
            am_thread_t *t = g->order->pdata[k];
            job_t *j = g_new0(job_t, 1);
            j->kind = JOB_THREAD;
            j->thread = t;
            j->group = g;
            j->weight = t->posts->len;
            b.total += t->posts->len;
            g_ptr_array_add(b.jobs, j);
        }
        job_t *j = g_new0(job_t, 1);
        j->kind = JOB_GROUP;
        j->group = g;
        j->weight = g->order->len / 8 + g->posts->len / 64 + 20;
        g_ptr_array_add(b.jobs, j);
    }
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, m->authors);
    while (g_hash_table_iter_next(&it, NULL, &v))
        g_ptr_array_add(b.authors, v);
    g_ptr_array_sort(b.authors, author_cmp);
    for (guint from = 0; from < b.authors->len; from += 500) {
        job_t *j = g_new0(job_t, 1);
        j->kind = JOB_AUTHORS;
        j->from = from;
        j->to = MIN(from + 500, b.authors->len);
        j->weight = 10;
        g_ptr_array_add(b.jobs, j);
    }
    job_t *sj = g_new0(job_t, 1);
    sj->kind = JOB_SITE;
    sj->weight = 1;
    g_ptr_array_add(b.jobs, sj);
    /* biggest first, so the last job to finish is a small one */
    g_ptr_array_sort(b.jobs, job_cmp);

    /* Two rounds: the conversations and their messages, then the pages that
     * list them (group index, months, feeds, authors, site).  Over live
     * trees, a reader following a link from a listing page this build has
     * written never finds the page missing. */
    guint thread_jobs = 0;
    while (thread_jobs < b.jobs->len && ((job_t *) b.jobs->pdata[thread_jobs])->kind == JOB_THREAD)
        thread_jobs++;
    int n = a->workers;
    g_autofree GThread **threads = g_new0(GThread *, n);
    for (int round = 0; round < 2 && !g_atomic_int_get(&b.failed); round++) {
        b.next = round == 0 ? 0 : (gint) thread_jobs;
        b.limit = round == 0 ? thread_jobs : b.jobs->len;
        for (int i = 0; i < n; i++)
            threads[i] = g_thread_new("archive", build_worker, &b);
        for (int i = 0; i < n; i++)
            g_thread_join(threads[i]);
    }

    s = b.status;
    if (s != COR_OK) {
        *err = b.error;
        b.error = NULL;
        if (!b.in_place) {
            remove_tree(pub_new);
            remove_tree(res_new);
        }
    } else if (b.in_place) {
        if (only) {
            g_autofree char *p1 = g_build_filename(a->public_dir, "g", only->info->name, NULL);
            g_autofree char *p2 = g_build_filename(a->restricted_dir, "g", only->info->name, NULL);
            sweep_tree(p1, b.written);
            sweep_tree(p2, b.written);
        } else {
            sweep_tree(a->public_dir, b.written);
            sweep_tree(a->restricted_dir, b.written);
        }
        g_mkdir_with_parents(a->public_dir, 0777);
        s = sync_tree(a->public_dir, err);
    } else {
        s = sync_tree(pub_new, err);
        if (s == COR_OK)
            s = swap_in(pub_new, a->public_dir, err);
        if (s == COR_OK)
            s = swap_in(res_new, a->restricted_dir, err);
    }
    if (s == COR_OK && (s = consume_work(st, upto, "bump", m, only)) != COR_OK)
        *err = g_strdup_printf("cannot update the work queue: %s", cor_store_error(st));
    if (stats) {
        stats->messages = b.done;
        stats->pages = b.files;
        stats->unchanged = b.unchanged;
        stats->bytes = b.bytes;
        stats->seconds = (g_get_monotonic_time() - t0) / 1e6;
    }
    g_free(b.error);
    if (b.written)
        g_hash_table_unref(b.written);
    g_ptr_array_unref(b.jobs);
    g_ptr_array_unref(b.authors);
    g_mutex_clear(&b.lock);
    /* the whole model lives for the build only (model.h); in the daemon
     * the checkpointer gives the freed pages back within a second */
    am_model_free(m);
    unlock_archive(lockfd);
    return s;
}

/* ---- incremental ---- */

static cor_status_t
remove_file(const char *root, const char *rel)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    if (unlink(path) != 0 && errno != ENOENT)
        return COR_ERR_IO;
    return COR_OK;
}

/* Loads (or reuses) the parsed message of p (rnd_message_cached). */
static cor_status_t
cached_message(cor_archive_t *a, cor_store_t *st, const am_post_t *p, rnd_message_t **out,
               char **err)
{
    guint before = g_hash_table_size(a->messages);
    cor_status_t s = rnd_message_cached(a->messages, st, p, out);
    if (s != COR_OK)
        *err = g_strdup_printf("cannot read message %" G_GINT64_FORMAT ": %s", p->msg,
                               cor_store_error(st));
    else if (g_hash_table_size(a->messages) > before)
        a->messages_bytes += g_bytes_get_size(rnd_message_raw(*out));
    return s;
}

/* Empties the message cache when it is over its bounds.  Only where no
 * page being made points into it: at the start of a round, before each
 * message page, and before each message a thread page asks for (its values
 * are copies: render.h).  `recount`: add up the originals again (the group
 * feed loads through the cache too, uncounted). */
static void
cache_trim(cor_archive_t *a, bool recount)
{
    if (recount) {
        a->messages_bytes = 0;
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, a->messages);
        while (g_hash_table_iter_next(&it, NULL, &v))
            a->messages_bytes += g_bytes_get_size(rnd_message_raw(v));
    }
    if (g_hash_table_size(a->messages) > MESSAGE_CACHE || a->messages_bytes > MESSAGE_CACHE_BYTES) {
        g_hash_table_remove_all(a->messages);
        a->messages_bytes = 0;
    }
}

/* A round's messages for one thread page (rnd_message_get_fn): through the
 * cache, which is emptied when over its bounds before each one, so a long
 * thread holds its page and the cache, not every parsed message of it. */
typedef struct {
    cor_archive_t *a;
    cor_store_t *st;
} round_get_t;

static cor_status_t
round_get(void *data, const am_post_t *p, const rnd_message_t **out, char **err)
{
    round_get_t *r = data;
    rnd_message_t *rm = NULL;
    cache_trim(r->a, false);
    cor_status_t s = cached_message(r->a, r->st, p, &rm, err);
    if (s == COR_OK)
        *out = rm;
    return s;
}

static cor_status_t
update_group(cor_archive_t *a, cor_store_t *st, writer_t *w, am_model_t *m, am_change_t *c,
             bool fresh, GPtrArray *files, char **err)
{
    const rnd_site_t *site = &a->site;
    am_group_t *g = c->group;
    const char *root = tree_of(a, g);
    GHashTable *cache = a->messages;
    cor_status_t s = COR_OK;
    /* Pages are written as they are made, a few at a time, so that a
     * round's memory does not grow with its size: a renderer that fell
     * behind takes thousands of posts in one round (the soak measured a
     * round holding every page of 16,000 posts).  The order is kept:
     * message and thread pages before the listings that link to them. */
    for (guint i = 0; s == COR_OK && i < c->posts->len; i++) {
        am_post_t *p = c->posts->pdata[i];
        rnd_message_t *rm;
        cache_trim(a, false);
        if ((s = cached_message(a, st, p, &rm, err)) == COR_OK)
            s = rnd_message_files(site, p, rm, files, err);
        if (s == COR_OK)
            s = write_some(w, root, files, err);
    }
    for (guint i = 0; s == COR_OK && i < c->threads->len; i++) {
        int64_t tid = g_array_index(c->threads, int64_t, i);
        am_thread_t *t = g_hash_table_lookup(g->threads, &tid);
        if (!t || !t->full || t->posts->len == 0)
            continue;
        if ((s = write_some(w, root, files, err)) != COR_OK)
            break;
        round_get_t rg = { a, st };
        s = rnd_thread_files(site, st, t, round_get, &rg, files, err);
    }
    for (guint i = 0; s == COR_OK && i < c->gone->len; i++) {
        int64_t old = g_array_index(c->gone, int64_t, i);
        int64_t *live = g_hash_table_lookup(g->aliases, &old);
        if (live) {
            s = rnd_alias_file(site, g, old, *live, files, err);
        } else {
            g_autofree char *rel = rnd_thread_rel(g->info->name, old, ".html");
            remove_file(root, rel);
        }
        g_autofree char *feed = rnd_thread_rel(g->info->name, old, ".atom");
        remove_file(root, feed);
    }
    for (guint i = 0; s == COR_OK && i < c->months->len; i++) {
        int mo = g_array_index(c->months, int, i);
        s = rnd_month_file(site, g, mo, files, err);
        if (s == COR_ERR_NOT_FOUND) {
            char slug[16];
            rnd_month_slug(slug, sizeof slug, mo);
            g_autofree char *rel = g_strdup_printf("g/%s/%s.html", g->info->name, slug);
            remove_file(root, rel);
            s = COR_OK;
        }
    }
    /* index pages: the front, every numbered page from the first rank that
     * moved, and the top two (their "newer" link depends on the count);
     * the partial model holds exactly these (am_round_load) */
    if (s == COR_OK) {
        int numbered = rnd_index_numbered(site, g);
        int64_t old_n = c->old_threads / site->per_page;
        int old_numbered = old_n > 1 ? (int) old_n - 1 : 0;
        int from = fresh || c->min_rank == G_MAXINT64 ? 1
                   : rnd_index_page_of(site, g, c->min_rank);
        if (from == 0 || from > numbered - 1)
            from = numbered - 1 > 0 ? numbered - 1 : 1;
        if (fresh)
            from = 1;
        /* files are written in this order: the numbered pages before the
         * front page that links to them (a new page-N.html must be there
         * before a reader can follow the link) */
        for (int k = from; s == COR_OK && k <= numbered; k++)
            s = rnd_index_file(site, g, k, files, err);
        if (s == COR_OK)
            s = rnd_index_file(site, g, 0, files, err);
        for (int k = numbered + 1; k <= old_numbered; k++) {
            g_autofree char *rel = g_strdup_printf("g/%s/page-%d.html", g->info->name, k);
            remove_file(root, rel);
        }
    }
    if (s == COR_OK)
        s = rnd_about_file(site, g, files, err);
    if (s == COR_OK)
        s = rnd_group_feed_file(site, st, g, cache, files, err);
    if (s == COR_OK)
        s = write_files(w, root, files, err);
    /* author pages (public tree; only public posts show there), from the
     * store: the model holds only this round's posts */
    for (guint i = 0; s == COR_OK && i < c->authors->len; i++) {
        am_author_t *au = c->authors->pdata[i];
        GString *out = g_string_sized_new(8192);
        cor_status_t rs = rnd_author_page_store(site, st, m, &anonymous, au->key, out, err);
        g_autofree char *rel = g_strdup_printf("author/%s.html", au->key);
        if (rs == COR_ERR_NOT_FOUND) {
            g_string_free(out, TRUE);
            remove_file(a->public_dir, rel);
            continue;
        }
        if (rs != COR_OK) {
            g_string_free(out, TRUE);
            s = rs;
            break;
        }
        rnd_file_t f = { .path = rel, .data = g_string_free_to_bytes(out) };
        s = write_file(w, a->public_dir, &f, err);
        g_bytes_unref(f.data);
    }
    return s;
}

/* The test hook behind CORRIDOR_ARCHIVE_DEBUG_MODEL (archive.h): what the
 * round's model held, logged when it is freed. */
static void
log_round_model(const am_model_t *m)
{
    static int debug = -1;
    static gint rounds;
    if (debug < 0)
        debug = g_getenv("CORRIDOR_ARCHIVE_DEBUG_MODEL") != NULL;
    /* numbered: two rounds holding as many posts would otherwise be one
     * line, the second held back by the log's repeat limiter (core/log.h) */
    if (debug)
        cor_log_info("archive: round model held %u posts (freed with the round; round %d)",
                     am_model_post_count(m), g_atomic_int_add(&rounds, 1) + 1);
}

cor_status_t
cor_archive_update(cor_archive_t *a, cor_store_t *st, cor_archive_stats_t *stats,
                   int64_t *pending, char **err)
{
    gint64 t0 = g_get_monotonic_time();
    if (stats)
        memset(stats, 0, sizeof *stats);
    int lockfd = lock_archive(a, err);
    if (lockfd < 0)
        return COR_ERR_IO;
    /* one snapshot of the store for the model and the pages: the committer
     * goes on writing meanwhile (a message merging threads between two of
     * our reads would otherwise tear the picture) */
    cor_status_t s = cor_store_begin_read(st);
    if (s != COR_OK) {
        *err = g_strdup_printf("cannot read the store: %s", cor_store_error(st));
        unlock_archive(lockfd);
        return s;
    }
    g_autoptr(GArray) ids = NULL, msgs = NULL;
    g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func((GDestroyNotify) am_change_free);
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func((GDestroyNotify) rnd_file_free);
    writer_t w;
    writer_init(&w, true);

    cache_trim(a, true);
    /* the round's partial model (model.h): the groups and their counts,
     * then what the pages this work changes need */
    am_model_t *m = NULL;
    bool fresh = a->fresh_next;
    s = am_model_summary(st, &m);
    if (s == COR_OK) {
        /* a build or a group deletion since the last round: the pages were
         * made again, as was the record of them (threads.shown) */
        if (a->generation && strcmp(a->generation, m->generation) != 0)
            cor_log_debug("archive: generation %s (was %s)", m->generation, a->generation);
        g_free(a->generation);
        a->generation = g_strdup(m->generation);
        s = cor_store_work_pending(st, "render", 0, &ids, &msgs);   /* all: archive.h */
    }
    if (s == COR_OK &&
        (s = am_round_load(m, st, msgs, fresh, a->site.per_page, a->site.feed_entries,
                           changes)) != COR_OK)
        *err = g_strdup_printf("cannot read the messages to render: %s", cor_store_error(st));
    else if (s != COR_OK)
        *err = g_strdup_printf("cannot read the store: %s", cor_store_error(st));
    gint64 t_model = g_get_monotonic_time();

    for (guint i = 0; s == COR_OK && i < changes->len; i++)
        s = update_group(a, st, &w, m, changes->pdata[i], fresh, files, err);
    if (s == COR_OK && (changes->len > 0 || fresh)) {
        GString *out = g_string_sized_new(8192);
        s = rnd_site_page(&a->site, st, m, &anonymous, out, err);
        if (s == COR_OK) {
            rnd_file_t f = { .path = (char *) "index.html", .data = g_string_free_to_bytes(out) };
            s = write_file(&w, a->public_dir, &f, err);
            g_bytes_unref(f.data);
            rnd_file_t *css = css_file(a);
            /* also when it is missing: a daemon that started with an empty
             * archive has never made a full build */
            g_autofree char *css_path = g_build_filename(a->public_dir, css->path, NULL);
            if (s == COR_OK && (fresh || !g_file_test(css_path, G_FILE_TEST_EXISTS)))
                s = write_file(&w, a->public_dir, css, err);
            rnd_file_free(css);
        } else {
            g_string_free(out, TRUE);
        }
    }

    gint64 t_render = g_get_monotonic_time();
    if (s == COR_OK && w.files > 0) {
        g_mkdir_with_parents(a->public_dir, 0777);
        s = sync_tree(a->public_dir, err);
    }
    gint64 t_sync = g_get_monotonic_time();
    cor_store_end_read(st);
    /* the pages are durable: the work goes, and the record of what they
     * show is written, in one transaction (a crash before it renders the
     * same work again, from the same record) */
    if (s == COR_OK && ids && ids->len > 0 && (s = cor_store_begin(st)) == COR_OK) {
        s = cor_store_work_delete(st, ids);
        for (guint i = 0; s == COR_OK && i < changes->len; i++) {
            GArray *shown = ((am_change_t *) changes->pdata[i])->shown;
            for (guint j = 0; s == COR_OK && j < shown->len; j++) {
                cor_store_thread_state_t *t = &g_array_index(shown, cor_store_thread_state_t, j);
                s = cor_store_thread_set_shown(st, t->id, t->listed, t->shown, t->shown_into);
            }
        }
        if (s == COR_OK)
            s = cor_store_commit(st);
        else
            cor_store_rollback(st);
        if (s != COR_OK)
            *err = g_strdup_printf("cannot update the work queue: %s", cor_store_error(st));
    }
    if (s == COR_OK)
        a->fresh_next = false;
    if (s == COR_OK && pending)
        s = cor_store_work_count(st, "render", pending);
    cor_log_debug("archive: model %.1f ms, pages %.1f ms, sync %.1f ms, queue %.1f ms",
                  (t_model - t0) / 1000.0, (t_render - t_model) / 1000.0,
                  (t_sync - t_render) / 1000.0, (g_get_monotonic_time() - t_sync) / 1000.0);
    if (stats) {
        stats->messages = msgs ? msgs->len : 0;
        stats->pages = w.files;
        stats->unchanged = w.unchanged;
        stats->bytes = w.bytes;
        stats->seconds = (g_get_monotonic_time() - t0) / 1e6;
    }
    writer_clear(&w);
    if (m)
        log_round_model(m);
    /* nothing of the round's model is kept (model.h); the daemon's
     * checkpointer gives the freed pages back within a second */
    g_ptr_array_set_size(changes, 0);
    am_model_free(m);
    unlock_archive(lockfd);
    return s;
}

cor_status_t
cor_archive_preload(cor_archive_t *a, cor_store_t *st, char **err)
{
    /* nothing to load (model.h): only whether the first round must make
     * every index page — when work was queued before this start, its
     * pages may be half done while the record says otherwise */
    int64_t pending = 0;
    cor_status_t s = cor_store_work_count(st, "render", &pending);
    if (s != COR_OK) {
        *err = g_strdup_printf("cannot read the store: %s", cor_store_error(st));
        return s;
    }
    a->fresh_next = a->fresh_next && pending > 0;
    return COR_OK;
}

/* ---- pages on request ---- */

/* The site index and author pages read the store per request (model.h):
 * the groups with their counts, and an author's posts by messages.from_key. */
cor_status_t
cor_archive_page_site(cor_archive_t *a, cor_store_t *st, const cor_viewer_t *viewer, GString *out,
                      char **err)
{
    am_model_t *m = NULL;
    cor_status_t s = am_model_summary(st, &m);
    if (s != COR_OK)
        *err = g_strdup_printf("cannot read the groups: %s", cor_store_error(st));
    else
        s = rnd_site_page(&a->site, st, m, viewer, out, err);
    am_model_free(m);
    return s;
}

cor_status_t
cor_archive_page_author(cor_archive_t *a, cor_store_t *st, const cor_viewer_t *viewer,
                        const char *key, GString *out, char **err)
{
    bool own_read = !cor_store_in_transaction(st);
    cor_status_t s = own_read ? cor_store_begin_read(st) : COR_OK;
    am_model_t *m = NULL;
    if (s == COR_OK)
        s = am_model_summary(st, &m);
    if (s != COR_OK)
        *err = g_strdup_printf("cannot read the groups: %s", cor_store_error(st));
    else
        s = rnd_author_page_store(&a->site, st, m, viewer, key, out, err);
    if (own_read)
        cor_store_end_read(st);
    am_model_free(m);
    return s;
}

static char *
search_href(const char *q, const char *group, int page)
{
    g_autofree char *eq = g_uri_escape_string(q ? q : "", NULL, FALSE);
    GString *s = g_string_new("search?q=");
    g_string_append(s, eq);
    if (group && *group) {
        g_autofree char *eg = g_uri_escape_string(group, NULL, FALSE);
        g_string_append_printf(s, "&group=%s", eg);
    }
    if (page > 1)
        g_string_append_printf(s, "&page=%d", page);
    return g_string_free(s, FALSE);
}

cor_status_t
cor_archive_page_search(cor_archive_t *a, const cor_archive_search_page_t *p, GString *out,
                        char **err)
{
    g_autoptr(cor_tctx_t) c = cor_tctx_new();
    const char *q = p->query ? p->query : "";
    g_autofree char *title = *q ? g_strdup_printf("Search: %s", q) : g_strdup("Search");
    cor_tval_t *v = rnd_page_scope(c, &a->site, "search", title);
    cor_tval_set_str(c, v, "query", q);
    cor_tval_t *crumbs = cor_tval_set_list(c, v, "breadcrumbs");
    cor_tval_t *it = cor_tval_list_add_object(c, crumbs);
    cor_tval_set_static(c, it, "href", "index.html");
    cor_tval_set_static(c, it, "text", "All groups");
    cor_tval_t *gl = cor_tval_set_list(c, v, "groups");
    cor_tval_set_bool(c, v, "has_group_choice", p->n_groups > 1);
    for (size_t i = 0; i < p->n_groups; i++) {
        cor_tval_t *g = cor_tval_list_add_object(c, gl);
        cor_tval_set_str(c, g, "name", p->groups[i]);
        if (p->group && strcmp(p->group, p->groups[i]) == 0)
            cor_tval_set_bool(c, g, "selected", true);
    }
    if (p->error)
        cor_tval_set_str(c, v, "error", p->error);
    if (*q && !p->error) {
        cor_tval_set_bool(c, v, "searched", true);
        cor_tval_set_int(c, v, "total", (int64_t) p->total);
        cor_tval_set_bool(c, v, "plural", p->total != 1);
        if (p->n_hits > 0) {
            cor_tval_set_int(c, v, "first", (int64_t) (p->page - 1) * p->per_page + 1);
            cor_tval_set_int(c, v, "last", (int64_t) (p->page - 1) * p->per_page + (int64_t) p->n_hits);
        }
    }
    cor_tval_t *hl = cor_tval_set_list(c, v, "hits");
    char buf[64];
    for (size_t i = 0; i < p->n_hits; i++) {
        const cor_archive_hit_t *h = &p->hits[i];
        cor_tval_t *hv = cor_tval_list_add_object(c, hl);
        cor_tval_set_str(c, hv, "subject", h->subject && *h->subject ? h->subject : "(no subject)");
        cor_tval_set_str(c, hv, "href", h->url);
        cor_tval_set_str(c, hv, "group", h->group);
        cor_tval_set_str(c, hv, "from", h->from);
        rnd_date(buf, sizeof buf, h->date);
        cor_tval_set_str(c, hv, "date", buf);
        rnd_date_iso(buf, sizeof buf, h->date);
        cor_tval_set_str(c, hv, "date_iso", buf);
        if (h->snippet_html)
            cor_tval_set_html(c, hv, "snippet_html", h->snippet_html);
    }
    /* the pager follows the index, which has the hits left out on this
     * page: the next page is where the index's next hits are */
    uint64_t ranked = MAX(p->total, p->ranked);
    int pages = p->per_page > 0 ? (int) ((ranked + (uint64_t) p->per_page - 1) / (uint64_t) p->per_page) : 1;
    if (p->page > 1) {
        g_autofree char *h = search_href(q, p->group, p->page - 1);
        cor_tval_set_str(c, v, "prev_href", h);
    }
    if (p->page < pages) {
        g_autofree char *h = search_href(q, p->group, p->page + 1);
        cor_tval_set_str(c, v, "next_href", h);
    }
    cor_tval_set_bool(c, v, "has_pager", p->page > 1 || p->page < pages);
    return cor_tmpl_render(a->tmpl, "search.html", v, out, err);
}

/* How many of the newest 'render' items queued_post looks through: twice
 * the backlog at which the renderer rebuilds everything instead
 * (runner.c FULL_BUILD_AT), so that a post still waiting is found and a
 * request for a page that does not exist costs a bounded read. */
#define QUEUED_LOOKUP 10000

typedef struct queued_find {
    const char *key;
    am_post_t *post;
} queued_find_t;

static cor_status_t
queued_match(const cor_store_post_t *p, void *data)
{
    queued_find_t *f = data;
    char key[17];
    cor_archive_key(p->message_id, key);
    if (strcmp(key, f->key) != 0)
        return COR_OK;
    f->post->msg = p->msg;
    f->post->date = p->date;
    memcpy(f->post->key, key, sizeof key);
    return COR_DONE;
}

/* The accepted post in group `group_id` with Message-ID key `key` whose
 * 'render' work is still queued: its msg, date and key into *out (msg 0
 * when there is none). */
static cor_status_t
queued_post_in(cor_store_t *st, int64_t group_id, const char *key, am_post_t *out, char **err)
{
    memset(out, 0, sizeof *out);
    queued_find_t f = { key, out };
    cor_status_t s = cor_store_posts_queued(st, "render", group_id, QUEUED_LOOKUP, queued_match,
                                            &f);
    if (s == COR_DONE)
        return COR_OK;
    if (s != COR_OK)
        *err = g_strdup_printf("cannot read the archive's queue: %s", cor_store_error(st));
    return s;
}

cor_status_t
cor_archive_page_pending(cor_archive_t *a, cor_store_t *st, const cor_group_t *g,
                         const char *key, GString *out, char **err)
{
    am_post_t p;
    cor_status_t s = queued_post_in(st, g->id, key, &p, err);
    if (s != COR_OK)
        return s;
    if (p.msg == 0)
        return COR_ERR_NOT_FOUND;
    return rnd_pending_page(&a->site, g, key, out, err);
}

cor_status_t
cor_archive_page_error(cor_archive_t *a, int code, const char *title, const char *text,
                       GString *out, char **err)
{
    g_autoptr(cor_tctx_t) c = cor_tctx_new();
    cor_tval_t *v = rnd_page_scope(c, &a->site, "error", title);
    /* served at any path: links from the root, absolutely */
    cor_tval_set_static(c, v, "root", "/");
    cor_tval_set_int(c, v, "code", code);
    cor_tval_set_str(c, v, "text", text);
    return cor_tmpl_render(a->tmpl, "error.html", v, out, err);
}

void
cor_archive_download_clear(cor_archive_download_t *d)
{
    if (d->data)
        g_bytes_unref(d->data);
    g_free(d->content_type);
    g_free(d->filename);
    memset(d, 0, sizeof *d);
}

typedef struct key_find {
    am_post_t *post;
} key_find_t;

static cor_status_t
key_match(const cor_store_post_t *p, void *data)
{
    key_find_t *f = data;
    f->post->msg = p->msg;
    f->post->date = p->date;
    cor_archive_key(p->message_id, f->post->key);
    return COR_OK;
}

cor_status_t
cor_archive_download(cor_archive_t *a, cor_store_t *st, const char *group, const char *key,
                     int part, const char *ext, cor_archive_download_t *out, char **err)
{
    memset(out, 0, sizeof *out);
    /* the post by its key in the store (messages.key), from its commit on:
     * a link in a member's copy is followed at once, before the renderer
     * has written the page (what T340 checks), and nothing is kept */
    am_post_t copy = { 0 };
    g_autoptr(cor_group_t) g = NULL;
    cor_status_t s = cor_store_group_get(st, group, &g);
    if (s == COR_ERR_NO_GROUP || s == COR_ERR_NOT_FOUND)
        return COR_ERR_NOT_FOUND;
    if (s == COR_OK && strlen(key) == 16) {
        key_find_t f = { &copy };
        s = cor_store_post_by_key(st, g->id, key, key_match, &f);
    }
    if (s != COR_OK) {
        *err = g_strdup_printf("cannot read group '%s': %s", group, cor_store_error(st));
        return s;
    }
    if (copy.msg == 0)
        return COR_ERR_NOT_FOUND;
    rnd_message_t *rm = NULL;
    if ((s = (part == 0 ? rnd_message_load : rnd_message_load_parts)(st, &copy, &rm)) != COR_OK) {
        *err = g_strdup_printf("cannot read message %" G_GINT64_FORMAT ": %s", copy.msg,
                               cor_store_error(st));
        return s;
    }
    if (part == 0) {
        out->data = g_bytes_ref(rnd_message_raw(rm));
        out->content_type = g_strdup("message/rfc822");
        out->filename = g_strdup_printf("%s.eml", key);
    } else {
        const char *type, *real_ext;
        char *name = NULL;
        s = rnd_attachment(rm, part, &out->data, &real_ext, &name, &type);
        if (s == COR_OK && ext && strcmp(ext, real_ext) != 0) {
            g_free(name);
            cor_archive_download_clear(out);
            s = COR_ERR_NOT_FOUND;
        } else if (s == COR_OK) {
            out->filename = name;
            out->content_type = g_strdup(type);
        }
    }
    rnd_message_free(rm);
    return s;
}
