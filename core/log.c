/* core/log.c — see log.h. */
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

void
cor_logv(cor_log_level_t level, const char *session, const char *fmt, va_list ap)
{
    static const char *names[] = { "debug", "info", "warning", "error" };
    char line[4096];
    int n;

    if (level < cor_log_get_level())
        return;
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
