/* core/log.h — a small logging API.
 *
 * Messages are lowercase, say what failed first and quote the subject:
 *     cor_log_error("cannot open spool file '%s': %s", path, strerror(errno));
 * Lines go to stderr as "corridor: LEVEL: text".  When stderr is the
 * systemd journal ($JOURNAL_STREAM matches it), each line is sent to the
 * journal instead, with its priority and, from cor_log_fields, structured
 * CORRIDOR_* fields.  A session id, when given, starts the line.
 * Thread-safe: each line is written with one write(2).
 *
 * Repeated lines are rate limited, as syslog daemons do: a line identical to
 * one written less than a window ago (60 s; the same level and the same text
 * after formatting, whatever the session id) is not written but counted.
 * Once the window has passed (seen at the next line of its kind, at
 * cor_log_tick, or at cor_log_flush), one summary line says how often, at
 * the same level:
 *     corridor: error: indexing stopped: ... (will retry) (repeated 19 times in the last 60 s)
 * (in the journal with the field CORRIDOR_REPEATED=19; a cor_log_fields
 * line's own fields are not repeated on it).  The next repeat after that is
 * written again and starts a new window.  So a fault that lasts shows one
 * line and one summary per window, not one line per retry.  Debug lines are
 * never held back.  The lines remembered are in a small fixed table (1,024,
 * of which 64 with their text, for the summary; design notes in log.c), so
 * memory stays bounded; a line the table has no room for is written as if
 * new.  $CORRIDOR_LOG_REPEAT_WINDOW (seconds, 0 = off) sets the window; the
 * tests use a few seconds.
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

/* Writes the summary of every held-back line whose window has passed.  The
 * daemon calls it every second, so that a summary is not kept waiting for
 * the next line; a command needs only cor_log_flush at its end. */
void cor_log_tick(void);

/* Writes the summary of every held-back line now, whatever its window, and
 * forgets them all (at exit, so that no count is lost). */
void cor_log_flush(void);

/* The window for repeated lines in seconds (0: every line is written; -1:
 * back to $CORRIDOR_LOG_REPEAT_WINDOW, else 60).  Pending summaries are
 * written first.  For tests; the daemon and the commands use the default. */
void cor_log_set_repeat_window(int seconds);

/* The clock of the window, in microseconds (NULL: g_get_monotonic_time).
 * For tests only (a fake clock). */
typedef gint64 (*cor_log_clock_fn)(void);
void cor_log_set_clock(cor_log_clock_fn now);

#define cor_log_debug(...)   cor_log(COR_LOG_DEBUG, NULL, __VA_ARGS__)
#define cor_log_info(...)    cor_log(COR_LOG_INFO, NULL, __VA_ARGS__)
#define cor_log_warning(...) cor_log(COR_LOG_WARNING, NULL, __VA_ARGS__)
#define cor_log_error(...)   cor_log(COR_LOG_ERROR, NULL, __VA_ARGS__)

#endif
