/* core/log.h — a small logging API.
 *
 * Messages are lowercase, say what failed first and quote the subject:
 *     cor_log_error("cannot open spool file '%s': %s", path, strerror(errno));
 * Lines go to stderr as "corridor: LEVEL: text".  When stderr is the
 * systemd journal ($JOURNAL_STREAM matches it), each line is sent to the
 * journal instead, with its priority and, from cor_log_fields, structured
 * CORRIDOR_* fields.  A session id, when given, starts the line.
 * Thread-safe: each line is written with one write(2).
 */
#ifndef COR_LOG_H
#define COR_LOG_H

#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>

typedef enum cor_log_level {
    COR_LOG_DEBUG = 0,
    COR_LOG_INFO,
    COR_LOG_WARNING,
    COR_LOG_ERROR,
} cor_log_level_t;

/* Lines below `level` are dropped.  Default COR_LOG_INFO, or COR_LOG_DEBUG
 * when $CORRIDOR_DEBUG is set. */
void cor_log_set_level(cor_log_level_t level);
cor_log_level_t cor_log_get_level(void);

/* The program name that starts each line ("corridor" by default; transfer none,
 * must stay valid). */
void cor_log_set_ident(const char *ident);

void cor_log(cor_log_level_t level, const char *session, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cor_logv(cor_log_level_t level, const char *session, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* A line with journal fields: `fields` is NULL-terminated "CORRIDOR_KEY=value"
 * strings (the session adds CORRIDOR_SESSION).  Off the journal, the fields
 * are not printed: put what matters in the text too. */
void cor_log_fields(cor_log_level_t level, const char *session, const char *const *fields,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define cor_log_debug(...)   cor_log(COR_LOG_DEBUG, NULL, __VA_ARGS__)
#define cor_log_info(...)    cor_log(COR_LOG_INFO, NULL, __VA_ARGS__)
#define cor_log_warning(...) cor_log(COR_LOG_WARNING, NULL, __VA_ARGS__)
#define cor_log_error(...)   cor_log(COR_LOG_ERROR, NULL, __VA_ARGS__)

#endif
