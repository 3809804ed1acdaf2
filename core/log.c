/* core/log.c — see log.h. */
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

void
cor_log_fields(cor_log_level_t level, const char *session, const char *const *fields,
               const char *fmt, ...)
{
    if (level < cor_log_get_level())
        return;
    va_list ap;
    va_start(ap, fmt);
    if (!journal()) {
        cor_logv(level, session, fmt, ap);
        va_end(ap);
        return;
    }
    char *text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
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
    g_free(text);
}

void
cor_logv(cor_log_level_t level, const char *session, const char *fmt, va_list ap)
{
    static const char *names[] = { "debug", "info", "warning", "error" };
    char line[4096];
    int n;

    if (level < cor_log_get_level())
        return;
    if (journal()) {
        /* the journal keeps the level and the time itself */
        char *text = g_strdup_vprintf(fmt, ap);
        if (session)
            sd_journal_send("MESSAGE=%s: %s", session, text, "PRIORITY=%d", priorities[level],
                            "SYSLOG_IDENTIFIER=%s", ident, "CORRIDOR_SESSION=%s", session, NULL);
        else
            sd_journal_send("MESSAGE=%s", text, "PRIORITY=%d", priorities[level],
                            "SYSLOG_IDENTIFIER=%s", ident, NULL);
        g_free(text);
        return;
    }
    if (session != NULL)
        n = snprintf(line, sizeof line, "%s: %s: %s: ", ident, names[level], session);
    else
        n = snprintf(line, sizeof line, "%s: %s: ", ident, names[level]);
    if (n < 0 || (size_t) n >= sizeof line)
        n = 0;
    int m = vsnprintf(line + n, sizeof line - (size_t) n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t) n + (size_t) m;
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void) w; /* nothing sensible to do if stderr is gone */
}

void
cor_log(cor_log_level_t level, const char *session, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cor_logv(level, session, fmt, ap);
    va_end(ap);
}
