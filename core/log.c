/* core/log.c — see log.h.
 *
 * Design notes (repeated lines)
 * -----------------------------
 * A fault that lasts (a full disk, a locked store, an unwritable index) makes
 * the daemon's retry loops log the same line every few seconds.  Such lines
 * are written once per window instead:
 *
 *   1. The key of a line is its level and its text after formatting, without
 *      the session id (the same fault seen by two sessions is one fault),
 *      hashed to 64 bits.  Debug lines have no key: they are always written,
 *      as are lines of LOG_LINE_MAX bytes or more (cut on stderr anyway).
 *   2. A fixed table remembers the lines written lately: REPEAT_SETS sets of
 *      REPEAT_WAYS entries, a line's set chosen by its hash.  An entry holds
 *      the hash, the level, when the line was written and how many repeats
 *      were not; the text (for the summary) only from its first repeat on,
 *      for at most REPEAT_TEXTS entries at once.  So memory is bounded:
 *      the table, and REPEAT_TEXTS texts shorter than LOG_LINE_MAX.
 *   3. A line found in its set, its window not passed, is counted there and
 *      not written (when no text may be kept, it is written after all).
 *      Any other line is written and takes an entry of its set: a free one,
 *      else the oldest one not repeated, else none (a set full of repeating
 *      lines keeps them: a busy log of lines seen once does not push out the
 *      fault that repeats, which is what the table is for).
 *   4. An entry whose window has passed gives up its line — when its set is
 *      next looked at, on cor_log_tick (every second in the daemon) and on
 *      cor_log_flush — with one summary line when repeats were counted: the
 *      text again, at its level, with "(repeated N times in the last S s)",
 *      S the seconds since it was written.  The line's next repeat is
 *      written again and starts a new window.
 *   5. One mutex guards the table and is held while the line (and a summary
 *      before it) is written, so that a summary always comes before the next
 *      line of its kind.  Each line is still one write(2) or journal call.
 *      Two different lines with the same 64-bit hash would be taken for one
 *      until the first's text is kept (then they are compared); the chance
 *      is negligible.
 */
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

/* longest line written to stderr, newline included */
#define LOG_LINE_MAX 4096
#define DEFAULT_WINDOW_S 60

static cor_log_level_t min_level = COR_LOG_INFO;
static int level_set = 0;
static const char *ident = "corridor";

void
cor_log_set_level(cor_log_level_t level)
{
    min_level = level;
    level_set = 1;
}

cor_log_level_t
cor_log_get_level(void)
{
    if (!level_set && getenv("CORRIDOR_DEBUG") != NULL)
        return COR_LOG_DEBUG;
    return min_level;
}

void
cor_log_set_ident(const char *name)
{
    ident = name ? name : "corridor";
}

/* 1 when stderr is the journal ($JOURNAL_STREAM names stderr's device and
 * inode, as systemd sets it), 0 when not, -1 not yet known. */
static int to_journal = -1;

static bool
journal(void)
{
    int j = __atomic_load_n(&to_journal, __ATOMIC_RELAXED);
    if (j >= 0)
        return j;
    j = 0;
    const char *env = getenv("JOURNAL_STREAM");
    struct stat st;
    unsigned long long dev, ino;
    if (env && sscanf(env, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
        (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino)
        j = 1;
    __atomic_store_n(&to_journal, j, __ATOMIC_RELAXED);
    return j;
}

static const int priorities[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };
static const char *const names[] = { "debug", "info", "warning", "error" };

/* Writes one line: to the journal with its priority, the session and
 * `fields` (NULL-terminated "KEY=value", may be NULL), or to stderr as
 * "IDENT: LEVEL: [SESSION: ]TEXT". */
static void
emit(cor_log_level_t level, const char *session, const char *const *fields, const char *text)
{
    if (journal()) {
        /* the journal keeps the level and the time itself */
        GPtrArray *f = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(f, g_strdup_printf("MESSAGE=%s%s%s", session ? session : "",
                                           session ? ": " : "", text));
        g_ptr_array_add(f, g_strdup_printf("PRIORITY=%d", priorities[level]));
        g_ptr_array_add(f, g_strdup_printf("SYSLOG_IDENTIFIER=%s", ident));
        if (session)
            g_ptr_array_add(f, g_strdup_printf("CORRIDOR_SESSION=%s", session));
        for (size_t i = 0; fields && fields[i]; i++)
            g_ptr_array_add(f, g_strdup(fields[i]));
        struct iovec *iov = g_new(struct iovec, f->len);
        for (guint i = 0; i < f->len; i++) {
            iov[i].iov_base = g_ptr_array_index(f, i);
            iov[i].iov_len = strlen(g_ptr_array_index(f, i));
        }
        sd_journal_sendv(iov, (int) f->len);
        g_free(iov);
        g_ptr_array_unref(f);
        return;
    }
    char line[LOG_LINE_MAX];
    int n;
    if (session != NULL)
        n = snprintf(line, sizeof line, "%s: %s: %s: %s", ident, names[level], session, text);
    else
        n = snprintf(line, sizeof line, "%s: %s: %s", ident, names[level], text);
    if (n < 0)
        return;
    size_t len = (size_t) n;
    if (len > sizeof line - 2)
        len = sizeof line - 2;   /* cut, keeping room for the newline */
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void) w; /* nothing sensible to do if stderr is gone */
}

/* ---- repeated lines (design notes above) ---- */

#define REPEAT_SETS 256
#define REPEAT_WAYS 4
#define REPEAT_TEXTS 64

typedef struct repeat_entry {
    guint64 hash;            /* 0: the entry is free */
    cor_log_level_t level;
    gint64 written;          /* when the line was written (µs, the clock) */
    guint64 repeats;         /* since then, not written */
    char *text;              /* owned; from the first repeat on */
} repeat_entry_t;

static GMutex repeat_lock;
static repeat_entry_t repeat_table[REPEAT_SETS][REPEAT_WAYS];
static unsigned repeat_texts;          /* entries holding a text */
static gint64 repeat_window_us = -1;   /* -1: not read from the environment yet */
static cor_log_clock_fn repeat_clock = g_get_monotonic_time;

/* The window, from $CORRIDOR_LOG_REPEAT_WINDOW on first use.  Lock held. */
static gint64
window_us(void)
{
    if (repeat_window_us < 0) {
        repeat_window_us = DEFAULT_WINDOW_S * G_USEC_PER_SEC;
        const char *env = getenv("CORRIDOR_LOG_REPEAT_WINDOW");
        char *end = NULL;
        if (env && *env) {
            gint64 v = g_ascii_strtoll(env, &end, 10);
            if (end && *end == '\0' && v >= 0 && v <= G_MAXINT32)
                repeat_window_us = v * G_USEC_PER_SEC;
        }
    }
    return repeat_window_us;
}

/* FNV-1a, 64 bits, of the level and the text; never 0 (a free entry). */
static guint64
key_hash(cor_log_level_t level, const char *text)
{
    guint64 h = 0xcbf29ce484222325ULL;
    h = (h ^ (guint64) (level + 1)) * 0x100000001b3ULL;
    for (const unsigned char *p = (const unsigned char *) text; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return h ? h : 1;
}

/* Frees entry `e`, first writing its summary when repeats were counted.
 * Lock held. */
static void
entry_release(repeat_entry_t *e, gint64 now)
{
    if (e->repeats > 0 && e->text) {
        gint64 secs = (now - e->written + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC;
        char *summary = g_strdup_printf("%s (repeated %" G_GUINT64_FORMAT " time%s in the last %"
                                        G_GINT64_FORMAT " s)", e->text, e->repeats,
                                        e->repeats == 1 ? "" : "s", MAX(secs, 1));
        char *count = g_strdup_printf("CORRIDOR_REPEATED=%" G_GUINT64_FORMAT, e->repeats);
        const char *fields[] = { count, NULL };
        emit(e->level, NULL, fields, summary);
        g_free(count);
        g_free(summary);
    }
    if (e->text) {
        g_clear_pointer(&e->text, g_free);
        repeat_texts--;
    }
    e->hash = 0;
    e->repeats = 0;
}

/* Releases the entries of `set` (of every set when NULL) whose window has
 * passed, or all of them with `all`.  Lock held. */
static void
release_expired(repeat_entry_t *set, gint64 now, bool all)
{
    gint64 window = window_us();
    repeat_entry_t *from = set ? set : &repeat_table[0][0];
    size_t n = set ? REPEAT_WAYS : REPEAT_SETS * REPEAT_WAYS;
    for (size_t i = 0; i < n; i++)
        if (from[i].hash && (all || now - from[i].written >= window))
            entry_release(&from[i], now);
}

/* Writes a line through the table (design note 3).  Lock not held. */
static void
log_text(cor_log_level_t level, const char *session, const char *const *fields, const char *text)
{
    if (level == COR_LOG_DEBUG || strlen(text) >= LOG_LINE_MAX) {
        emit(level, session, fields, text);
        return;
    }
    g_mutex_lock(&repeat_lock);
    if (window_us() == 0) {
        emit(level, session, fields, text);
        g_mutex_unlock(&repeat_lock);
        return;
    }
    gint64 now = repeat_clock();
    guint64 hash = key_hash(level, text);
    repeat_entry_t *set = repeat_table[hash % REPEAT_SETS];
    release_expired(set, now, false);
    repeat_entry_t *victim = NULL;
    for (int i = 0; i < REPEAT_WAYS; i++) {
        repeat_entry_t *e = &set[i];
        if (e->hash == hash && e->level == level && (!e->text || strcmp(e->text, text) == 0)) {
            if (!e->text && repeat_texts < REPEAT_TEXTS) {
                e->text = g_strdup(text);
                repeat_texts++;
            }
            if (e->text) {
                e->repeats++;
                g_mutex_unlock(&repeat_lock);
                return;
            }
            victim = e;   /* no room for its text: written again, a new window */
            break;
        }
        if (e->hash == 0) {
            if (!victim || victim->hash != 0)
                victim = e;
        } else if (e->repeats == 0 && (!victim || (victim->hash != 0 &&
                                                   e->written < victim->written))) {
            victim = e;
        }
    }
    emit(level, session, fields, text);
    if (victim) {
        entry_release(victim, now);
        victim->hash = hash;
        victim->level = level;
        victim->written = now;
    }
    g_mutex_unlock(&repeat_lock);
}

void
cor_log_tick(void)
{
    g_mutex_lock(&repeat_lock);
    release_expired(NULL, repeat_clock(), false);
    g_mutex_unlock(&repeat_lock);
}

void
cor_log_flush(void)
{
    g_mutex_lock(&repeat_lock);
    release_expired(NULL, repeat_clock(), true);
    g_mutex_unlock(&repeat_lock);
}

void
cor_log_set_repeat_window(int seconds)
{
    g_mutex_lock(&repeat_lock);
    release_expired(NULL, repeat_clock(), true);
    repeat_window_us = seconds < 0 ? -1 : (gint64) seconds * G_USEC_PER_SEC;
    g_mutex_unlock(&repeat_lock);
}

void
cor_log_set_clock(cor_log_clock_fn now)
{
    g_mutex_lock(&repeat_lock);
    repeat_clock = now ? now : g_get_monotonic_time;
    g_mutex_unlock(&repeat_lock);
}

/* ---- the entry points ---- */

void
cor_log_fields(cor_log_level_t level, const char *session, const char *const *fields,
               const char *fmt, ...)
{
    if (level < cor_log_get_level())
        return;
    va_list ap;
    va_start(ap, fmt);
    char *text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* off the journal the fields are not printed (log.h) */
    log_text(level, session, fields, text);
    g_free(text);
}

void
cor_logv(cor_log_level_t level, const char *session, const char *fmt, va_list ap)
{
    if (level < cor_log_get_level())
        return;
    char *text = g_strdup_vprintf(fmt, ap);
    log_text(level, session, NULL, text);
    g_free(text);
}

void
cor_log(cor_log_level_t level, const char *session, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cor_logv(level, session, fmt, ap);
    va_end(ap);
}
