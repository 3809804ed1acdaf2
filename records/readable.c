/* records/readable.c — a message's canonical readable text (readable.h). */
#include <string.h>
#include <time.h>

#include "records/readable.h"

static const char *const month_names[] = {
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
};

void
cor_readable_date(int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t) t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        g_strlcpy(buf, "unknown date", n);
        return;
    }
    g_snprintf(buf, n, "%d %s %d %02d:%02d:%02d UTC", tm.tm_mday, month_names[tm.tm_mon],
               tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* "Name: value\n" with the value on one line (control characters and line
 * breaks made one space each). */
static void
header_line(GString *out, const char *name, const char *value)
{
    g_string_append(out, name);
    g_string_append(out, ": ");
    for (const char *p = value; *p; p++) {
        unsigned char c = (unsigned char) *p;
        g_string_append_c(out, c < 0x20 || c == 0x7f ? ' ' : (char) c);
    }
    g_string_append_c(out, '\n');
}

char *
cor_readable_text(const cor_message_t *msg)
{
    GString *out = g_string_sized_new(strlen(msg->body) + 512);
    header_line(out, "From", msg->from);
    if (*msg->to)
        header_line(out, "To", msg->to);
    if (*msg->cc)
        header_line(out, "Cc", msg->cc);
    char date[64];
    cor_readable_date(msg->date, date, sizeof date);
    header_line(out, "Date", date);
    header_line(out, "Subject", msg->subject);
    g_string_append_c(out, '\n');
    g_string_append(out, msg->body);
    return g_string_free(out, FALSE);
}

cor_status_t
cor_readable_load(cor_store_t *st, int64_t msg, unsigned parse_flags, char **text,
                  char sha256[65], cor_message_t **parsed, char **err)
{
    *text = NULL;
    if (parsed)
        *parsed = NULL;
    g_autoptr(cor_stored_message_t) sm = NULL;
    cor_status_t s = cor_store_message_get(st, msg, &sm);
    if (s != COR_OK) {
        *err = s == COR_ERR_NOT_FOUND
                   ? g_strdup_printf("no message %" G_GINT64_FORMAT " in the store", msg)
                   : g_strdup(cor_store_error(st));
        return s;
    }
    g_autoptr(GBytes) raw = NULL;
    s = cor_store_message_raw(st, msg, &raw);
    if (s != COR_OK) {
        *err = g_strdup_printf("cannot read the original of <%s>: %s", sm->message_id,
                               cor_store_error(st));
        return s;
    }
    gsize len = 0;
    const char *data = g_bytes_get_data(raw, &len);
    g_autoptr(cor_message_t) m = NULL;
    g_autofree char *perr = NULL;
    s = cor_message_parse_ex(data, len, sm->received, parse_flags & ~(unsigned) COR_PARSE_SUMMARY,
                             &m, &perr);
    if (s != COR_OK) {
        *err = g_strdup_printf("cannot parse the original of <%s>: %s", sm->message_id,
                               perr ? perr : cor_status_to_string(s));
        return s;
    }
    *text = cor_readable_text(m);
    if (sha256)
        cor_sha256_hex(*text, strlen(*text), sha256);
    if (parsed)
        *parsed = g_steal_pointer(&m);
    return COR_OK;
}
