/* records/readable.c — a message's canonical readable text (readable.h). */
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>

#include "filters/headers.h"
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

/* ---- Reply-To ---- */

/* "Name <addr>, addr, Group: a, b;" as core/message.c writes From, To and
 * Cc (names quoted when they hold specials). */
static void
format_addresses(GString *out, InternetAddressList *list)
{
    int n = internet_address_list_length(list);
    for (int i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (out->len > 0 && out->str[out->len - 1] != ':')
            g_string_append(out, ", ");
        else if (out->len > 0)
            g_string_append_c(out, ' ');
        const char *name = internet_address_get_name(ia);
        if (name && *name) {
            if (strpbrk(name, "()<>[]:;@\\,.\"")) {
                g_string_append_c(out, '"');
                for (const char *p = name; *p; p++) {
                    if (*p == '"' || *p == '\\')
                        g_string_append_c(out, '\\');
                    g_string_append_c(out, *p);
                }
                g_string_append_c(out, '"');
            } else {
                g_string_append(out, name);
            }
        }
        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            if (name && *name)
                g_string_append_printf(out, " <%s>", addr ? addr : "");
            else
                g_string_append(out, addr ? addr : "");
        } else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            g_string_append_c(out, ':');
            InternetAddressList *members =
                internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
            if (members)
                format_addresses(out, members);
            g_string_append_c(out, ';');
        }
    }
}

/* True when some mailbox of `list` has an address with an '@' (GMime takes
 * any word for an address, an undecoded "=?UTF-8?Q?...?=" too). */
static bool
has_address(InternetAddressList *list)
{
    int n = internet_address_list_length(list);
    for (int i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            if (a && strchr(a, '@'))
                return true;
        } else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            InternetAddressList *m = internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));
            if (m && has_address(m))
                return true;
        }
    }
    return false;
}

char *
cor_readable_reply_to(const char *raw, size_t len)
{
    g_autoptr(cor_headers_t) h = cor_headers_parse(raw, len);
    const char *value = cor_headers_get(h, "Reply-To");
    if (!value || !*value)
        return g_strdup("");
    GString *out = g_string_new(NULL);
    InternetAddressList *list = internet_address_list_parse(NULL, value);
    if (list && has_address(list)) {
        format_addresses(out, list);
    } else {
        /* no address GMime can read: the decoded text as written */
        g_autofree char *decoded = g_mime_utils_header_decode_text(NULL, value);
        g_string_append(out, decoded ? decoded : value);
    }
    if (list)
        g_object_unref(list);
    if (!g_utf8_validate(out->str, (gssize) out->len, NULL)) {
        char *valid = g_utf8_make_valid(out->str, (gssize) out->len);
        g_string_free(out, TRUE);
        return valid;
    }
    return g_string_free(out, FALSE);
}

/* ---- the text ---- */

/* Appends `value` on one line (control characters and line breaks made
 * one space each). */
static void
one_line(GString *out, const char *value)
{
    for (const char *p = value; *p; p++) {
        unsigned char c = (unsigned char) *p;
        g_string_append_c(out, c < 0x20 || c == 0x7f ? ' ' : (char) c);
    }
}

static void
add_field(GArray *fields, const char *name, guint part, size_t start, size_t end)
{
    if (!fields)
        return;
    cor_readable_field_t f = { name, part, start, end };
    g_array_append_val(fields, f);
}

/* "Name: value\n", its value's span recorded. */
static void
header_line(GString *out, GArray *fields, const char *name, const char *value)
{
    g_string_append(out, name);
    g_string_append(out, ": ");
    size_t start = out->len;
    one_line(out, value);
    add_field(fields, name, 0, start, out->len);
    g_string_append_c(out, '\n');
}

char *
cor_readable_text(const cor_message_t *msg, const char *reply_to, GArray *fields)
{
    GString *out = g_string_sized_new(strlen(msg->body) + 512);
    header_line(out, fields, "From", msg->from);
    if (*msg->to)
        header_line(out, fields, "To", msg->to);
    if (*msg->cc)
        header_line(out, fields, "Cc", msg->cc);
    if (reply_to && *reply_to)
        header_line(out, fields, "Reply-To", reply_to);
    char date[64];
    cor_readable_date(msg->date, date, sizeof date);
    header_line(out, fields, "Date", date);
    header_line(out, fields, "Subject", msg->subject);
    g_string_append(out, "Message-ID: <");
    size_t start = out->len;
    one_line(out, msg->message_id);
    add_field(fields, "Message-ID", 0, start, out->len);
    g_string_append(out, ">\n");
    for (guint i = 0; i < msg->attachments->len; i++) {
        const cor_attachment_t *a = msg->attachments->pdata[i];
        g_string_append_printf(out, "Attachment %u: ", i + 1);
        start = out->len;
        if (a->filename && *a->filename) {
            one_line(out, a->filename);
            add_field(fields, "Attachment", i + 1, start, out->len);
        } else {
            add_field(fields, "Attachment", i + 1, start, start);
            g_string_append(out, "(no name)");
        }
        g_string_append(out, " (");
        one_line(out, a->content_type);
        g_string_append(out, ")\n");
    }
    g_string_append_c(out, '\n');
    g_string_append(out, msg->body);
    return g_string_free(out, FALSE);
}

cor_status_t
cor_readable_load(cor_store_t *st, int64_t msg, unsigned parse_flags, char **text,
                  char sha256[65], cor_message_t **parsed, GArray *fields, char **err)
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
    g_autofree char *reply_to = cor_readable_reply_to(data, len);
    *text = cor_readable_text(m, reply_to, fields);
    if (sha256)
        cor_sha256_hex(*text, strlen(*text), sha256);
    if (parsed)
        *parsed = g_steal_pointer(&m);
    return COR_OK;
}
