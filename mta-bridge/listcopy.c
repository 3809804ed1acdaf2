/* mta-bridge/listcopy.c — a post's copies for members (listcopy.h). */
#include "mta-bridge/listcopy.h"

#include <gmime/gmime.h>
#include <string.h>

#include "core/links.h"
#include "core/message.h"
#include "core/store.h"

struct cor_copy {
    GString *head;
    GString *body;
    char *group;
    char *domain;
    char *base_url;
};

/* one header field as written: name and raw bytes (folded, line ends included) */
typedef struct field {
    char *name;
    const char *raw;
    size_t len;
    bool drop;
    char *owned;               /* raw, when this code wrote the field */
} field_t;

static void
append_crlf(GString *out, const char *s, size_t n)
{
    const char *end = s + n, *p = s;
    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t) (end - p));
        if (!lf) {
            g_string_append_len(out, p, end - p);
            break;
        }
        if (lf > p && lf[-1] == '\r') {
            g_string_append_len(out, p, lf + 1 - p);
        } else {
            g_string_append_len(out, p, lf - p);
            g_string_append_len(out, "\r\n", 2);
        }
        p = lf + 1;
    }
}

/* Field value unfolded and trimmed (transfer full). */
static char *
field_value(const field_t *f)
{
    const char *colon = memchr(f->raw, ':', f->len);
    GString *v = g_string_new(NULL);
    for (const char *p = colon + 1; p < f->raw + f->len; p++)
        if (*p != '\r' && *p != '\n')
            g_string_append_c(v, *p);
    return g_strstrip(g_string_free(v, FALSE));
}

static bool
name_is(const field_t *f, const char *name)
{
    return g_ascii_strcasecmp(f->name, name) == 0;
}

static field_t *
find(GArray *fields, const char *name)
{
    for (guint i = 0; i < fields->len; i++) {
        field_t *f = &g_array_index(fields, field_t, i);
        if (!f->drop && name_is(f, name))
            return f;
    }
    return NULL;
}

/* Splits the header block into fields; *body points after the blank line
 * (or at the first line that is not a header field). */
static GArray *
split_fields(const char *raw, size_t len, const char **body)
{
    GArray *fields = g_array_new(FALSE, TRUE, sizeof(field_t));
    const char *p = raw, *end = raw + len;
    if (len >= 5 && memcmp(raw, "From ", 5) == 0) {
        const char *lf = memchr(p, '\n', len);
        p = lf ? lf + 1 : end;
    }
    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t) (end - p));
        const char *next = lf ? lf + 1 : end;
        size_t linelen = (size_t) ((lf ? lf : end) - p);
        if (linelen > 0 && p[linelen - 1] == '\r')
            linelen--;
        if (linelen == 0) {
            p = next;
            break;
        }
        if ((*p == ' ' || *p == '\t') && fields->len > 0) {
            field_t *f = &g_array_index(fields, field_t, fields->len - 1);
            f->len = (size_t) (next - f->raw);
            p = next;
            continue;
        }
        const char *colon = memchr(p, ':', linelen);
        bool ok = colon && colon > p;
        for (const char *q = p; ok && q < colon; q++)
            if (*q <= ' ' || *q > '~')
                ok = false;
        if (!ok)
            break;  /* not a field: the body starts here */
        field_t f = { g_strndup(p, (gsize) (colon - p)), p, (size_t) (next - p), false, NULL };
        g_array_append_val(fields, f);
        p = next;
    }
    *body = p;
    return fields;
}

static void
free_fields(GArray *fields)
{
    for (guint i = 0; i < fields->len; i++) {
        g_free(g_array_index(fields, field_t, i).name);
        g_free(g_array_index(fields, field_t, i).owned);
    }
    g_array_free(fields, TRUE);
}

/* "Name: value\r\n", folded at ", " when long */
static void
put_field(GString *out, const char *name, const char *value)
{
    size_t col = strlen(name) + 2;
    g_string_append_printf(out, "%s: ", name);
    const char *p = value;
    while (*p) {
        const char *comma = strstr(p, ", ");
        size_t chunk = comma ? (size_t) (comma - p) + 1 : strlen(p);
        if (col > 1 && col + chunk > 76 && p != value) {
            g_string_append(out, "\r\n ");
            col = 1;
            while (*p == ' ')
                p++, chunk--;
        }
        g_string_append_len(out, p, (gssize) chunk);
        col += chunk;
        p += chunk;
    }
    g_string_append(out, "\r\n");
}

static char *
mailbox_text(const char *name, const char *addr)
{
    InternetAddress *ia = internet_address_mailbox_new(name ? name : "", addr);
    char *s = internet_address_to_string(ia, NULL, TRUE);
    g_object_unref(ia);
    return s;
}

static bool
ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s >= 0x80)
            return false;
    return true;
}

static char *
encode_text(const char *s)
{
    return ascii(s) ? g_strdup(s) : g_mime_utils_header_encode_text(NULL, s, "utf-8");
}

static bool
mentions(GArray *fields, const char *name, const char *addr)
{
    field_t *f = find(fields, name);
    if (!f || !addr || !*addr)
        return false;
    g_autofree char *v = field_value(f);
    g_autofree char *lv = g_ascii_strdown(v, -1);
    g_autofree char *la = g_ascii_strdown(addr, -1);
    return strstr(lv, la) != NULL;
}

/* The footer as a MIME part (CRLF), with its encoding */
static void
footer_part(GString *out, const char *footer)
{
    if (ascii(footer)) {
        g_string_append(out, "Content-Type: text/plain; charset=us-ascii\r\n"
                             "Content-Transfer-Encoding: 7bit\r\n"
                             "Content-Disposition: inline\r\n\r\n");
        append_crlf(out, footer, strlen(footer));
        g_string_append(out, "\r\n");
    } else {
        g_string_append(out, "Content-Type: text/plain; charset=utf-8\r\n"
                             "Content-Transfer-Encoding: base64\r\n"
                             "Content-Disposition: inline\r\n\r\n");
        g_autofree char *b = g_base64_encode((const guchar *) footer, strlen(footer));
        size_t n = strlen(b);
        for (size_t i = 0; i < n; i += 76) {
            g_string_append_len(out, b + i, (gssize) MIN(76, n - i));
            g_string_append(out, "\r\n");
        }
    }
}

static const char footer_rule[] = "_______________________________________________\r\n";

/* Adds the footer to the body; may move Content-* fields out of the head
 * (wrapping), so it runs before the head is written. */
static void
add_footer(GArray *fields, GString *body, const char *footer)
{
    field_t *ct = find(fields, "Content-Type");
    field_t *cte = find(fields, "Content-Transfer-Encoding");
    g_autofree char *ctv = ct ? field_value(ct) : g_strdup("text/plain");
    g_autofree char *ctev = cte ? field_value(cte) : g_strdup("7bit");
    GMimeContentType *type = g_mime_content_type_parse(NULL, ctv);
    const char *mt = type ? g_mime_content_type_get_media_type(type) : "text";
    const char *st = type ? g_mime_content_type_get_media_subtype(type) : "plain";
    const char *cs = type ? g_mime_content_type_get_parameter(type, "charset") : NULL;
    bool plain_enc = g_ascii_strcasecmp(ctev, "7bit") == 0 || g_ascii_strcasecmp(ctev, "8bit") == 0;
    bool utf8 = !cs || g_ascii_strcasecmp(cs, "utf-8") == 0 || g_ascii_strcasecmp(cs, "us-ascii") == 0;

    if (g_ascii_strcasecmp(mt, "text") == 0 && g_ascii_strcasecmp(st, "plain") == 0 && plain_enc &&
        (ascii(footer) || (cs && g_ascii_strcasecmp(cs, "utf-8") == 0)) && utf8) {
        if (body->len > 2 && !g_str_has_suffix(body->str, "\r\n"))
            g_string_append(body, "\r\n");
        g_string_append(body, footer_rule);
        append_crlf(body, footer, strlen(footer));
        g_string_append(body, "\r\n");
    } else if (g_ascii_strcasecmp(mt, "multipart") == 0 && g_ascii_strcasecmp(st, "mixed") == 0 &&
               g_mime_content_type_get_parameter(type, "boundary")) {
        const char *b = g_mime_content_type_get_parameter(type, "boundary");
        g_autofree char *close = g_strdup_printf("\r\n--%s--", b);
        /* the last close delimiter */
        char *at = NULL;
        for (char *q = body->str; (q = strstr(q, close)) != NULL; q++)
            at = q;
        if (at) {
            GString *part = g_string_new(NULL);
            g_string_append_printf(part, "\r\n--%s\r\n", b);
            footer_part(part, footer);
            g_string_insert_len(body, at - body->str, part->str, (gssize) part->len);
            g_string_free(part, TRUE);
        }
    } else {
        /* wrap: the original body becomes the first part of a new multipart/mixed */
        char tok[33];
        cor_token_generate(tok);
        GString *part = g_string_new(NULL);
        g_string_append_printf(part, "--corridor-%s\r\n", tok);
        for (guint i = 0; i < fields->len; i++) {
            field_t *f = &g_array_index(fields, field_t, i);
            if (f->drop || g_ascii_strncasecmp(f->name, "Content-", 8) != 0)
                continue;
            append_crlf(part, f->raw, f->len);
            f->drop = true;
        }
        /* body->str starts with the blank line that ends the part's fields;
         * the line break before a delimiter belongs to the delimiter */
        g_string_prepend(body, part->str);
        if (!g_str_has_suffix(body->str, "\r\n"))
            g_string_append(body, "\r\n");
        g_string_append(body, "\r\n");
        g_string_append_printf(body, "--corridor-%s\r\n", tok);
        footer_part(body, footer);
        g_string_append_printf(body, "--corridor-%s--\r\n", tok);
        g_string_free(part, TRUE);
        field_t f = { g_strdup("Content-Type"), NULL, 0, false, NULL };
        f.owned = g_strdup_printf("Content-Type: multipart/mixed; boundary=\"corridor-%s\"\r\n", tok);
        f.raw = f.owned;
        f.len = strlen(f.owned);
        g_array_append_val(fields, f);
    }
    if (type)
        g_object_unref(type);
}

/* The subject without every copy of `prefix`, its reply markers ("Re:",
 * "RE:", "AW:", "SV:") collapsed into one "Re: " at the front. */
static char *
subject_without(const char *subject, const char *prefix)
{
    GString *s = g_string_new(subject);
    size_t pl = strlen(prefix);
    char *at;
    while (pl && (at = strstr(s->str, prefix)) != NULL)
        g_string_erase(s, at - s->str, (gssize) pl);
    const char *p = s->str;
    bool reply = false;
    while (true) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (g_ascii_strncasecmp(p, "re:", 3) == 0 || g_ascii_strncasecmp(p, "aw:", 3) == 0 ||
            g_ascii_strncasecmp(p, "sv:", 3) == 0) {
            reply = true;
            p += 3;
            continue;
        }
        break;
    }
    char *out = g_strdup_printf("%s%s", reply ? "Re: " : "", p);
    g_string_free(s, TRUE);
    return out;
}


cor_status_t
cor_copy_prepare(const char *raw, size_t len, const cor_copy_params_t *p, cor_copy_t **out,
                 char **err)
{
    *out = NULL;
    *err = NULL;
    cor_message_init();
    const cor_list_policy_t *pol = p->policy;
    const char *bodyp;
    GArray *fields = split_fields(raw, len, &bodyp);
    g_autofree char *group_addr = g_strdup_printf("%s@%s", pol->group, p->domain);

    static const char *const drop[] = {
        "Return-Path", "Delivered-To", "X-Original-To", "Archived-At", "Precedence",
        "X-Auto-Response-Suppress", "Errors-To",
    };
    for (guint i = 0; i < fields->len; i++) {
        field_t *f = &g_array_index(fields, field_t, i);
        if (g_ascii_strncasecmp(f->name, "List-", 5) == 0)
            f->drop = true;
        for (size_t k = 0; k < G_N_ELEMENTS(drop); k++)
            if (name_is(f, drop[k]))
                f->drop = true;
    }

    cor_copy_t *c = g_new0(cor_copy_t, 1);
    c->group = g_strdup(pol->group);
    c->domain = g_strdup(p->domain);
    c->base_url = g_strdup(p->base_url);
    c->body = g_string_sized_new((gsize) (len - (size_t) (bodyp - raw)) + 256);
    g_string_append(c->body, "\r\n");
    append_crlf(c->body, bodyp, (size_t) (raw + len - bodyp));
    if (pol->footer && *pol->footer)
        add_footer(fields, c->body, pol->footer);

    /* DMARC */
    const char *author = p->author_addr ? p->author_addr : "";
    bool munge = *author && (pol->dmarc == COR_DMARC_MUNGE_ALL ||
                             (pol->dmarc == COR_DMARC_MUNGE_EXTERNAL && !cor_list_internal(pol, author)));
    g_autofree char *author_text = *author ? mailbox_text(p->author_name, author) : NULL;
    GPtrArray *extra = g_ptr_array_new_with_free_func(g_free);  /* whole lines */
    if (munge) {
        field_t *from = find(fields, "From");
        if (from)
            from->drop = true;
        field_t *sender = find(fields, "Sender");
        if (sender)
            sender->drop = true;
        const char *who = p->author_name && *p->author_name ? p->author_name : author;
        g_autofree char *local = NULL;
        if (who == author) {
            local = g_strndup(author, (gsize) (strchr(author, '@') ? strchr(author, '@') - author : (long) strlen(author)));
            who = local;
        }
        g_autofree char *display = g_strdup_printf("%s via %s", who,
                                                   pol->title && *pol->title ? pol->title : pol->group);
        g_autofree char *mb = mailbox_text(display, group_addr);
        GString *l = g_string_new(NULL);
        put_field(l, "From", mb);
        g_ptr_array_add(extra, g_string_free(l, FALSE));
        if (pol->reply_to_author) {
            if (!find(fields, "Reply-To")) {
                GString *r = g_string_new(NULL);
                put_field(r, "Reply-To", author_text);
                g_ptr_array_add(extra, g_string_free(r, FALSE));
            }
        } else if (!mentions(fields, "To", author) && !mentions(fields, "Cc", author)) {
            field_t *cc = find(fields, "Cc");
            GString *r = g_string_new(NULL);
            if (cc) {
                g_autofree char *v = field_value(cc);
                g_autofree char *nv = g_strdup_printf("%s, %s", v, author_text);
                cc->drop = true;
                put_field(r, "Cc", nv);
            } else {
                put_field(r, "Cc", author_text);
            }
            g_ptr_array_add(extra, g_string_free(r, FALSE));
        }
    } else if (!pol->reply_to_author && !find(fields, "Reply-To")) {
        GString *r = g_string_new(NULL);
        g_autofree char *t = g_strdup_printf("<%s>", group_addr);
        put_field(r, "Reply-To", t);
        g_ptr_array_add(extra, g_string_free(r, FALSE));
    }

    /* Subject prefix */
    if (pol->subject_prefix && *pol->subject_prefix) {
        g_autofree char *prefix = g_strstrip(g_strdup(pol->subject_prefix));
        field_t *subj = find(fields, "Subject");
        g_autofree char *rawv = subj ? field_value(subj) : g_strdup("");
        g_autofree char *decoded = g_mime_utils_header_decode_text(NULL, rawv);
        if (*prefix && !g_str_has_prefix(decoded ? decoded : rawv, prefix)) {
            /* "Re: [group] Re: x" → "[group] Re: x": the prefix goes to the
             * front once, the reply markers collapse to one */
            g_autofree char *rest = subject_without(decoded ? decoded : rawv, prefix);
            if (subj)
                subj->drop = true;
            g_autofree char *nv = g_strdup_printf("%s %s", prefix, rest);
            g_autofree char *ev = encode_text(g_strstrip(nv));
            GString *r = g_string_new(NULL);
            put_field(r, "Subject", ev);
            g_ptr_array_add(extra, g_string_free(r, FALSE));
        }
    }

    /* the head: kept fields as written, then the rewritten and the list's */
    c->head = g_string_sized_new(2048);
    for (guint i = 0; i < fields->len; i++) {
        field_t *f = &g_array_index(fields, field_t, i);
        if (!f->drop && f->raw)
            append_crlf(c->head, f->raw, f->len);
    }
    for (guint i = 0; i < extra->len; i++)
        g_string_append(c->head, extra->pdata[i]);
    g_ptr_array_unref(extra);

    g_autofree char *title = encode_text(pol->title && *pol->title ? pol->title : pol->group);
    g_autofree char *permalink = p->message_id ? cor_link_message_path(pol->group, p->message_id) : NULL;
    g_string_append_printf(c->head, "List-Id: %s <%s.%s>\r\n", title, pol->group, p->domain);
    g_string_append_printf(c->head, "List-Post: <mailto:%s>\r\n", group_addr);
    g_string_append_printf(c->head, "List-Help: <mailto:%s-request@%s?subject=help>\r\n",
                           pol->group, p->domain);
    g_string_append_printf(c->head, "List-Subscribe: <mailto:%s-join@%s>\r\n", pol->group, p->domain);
    g_string_append_printf(c->head, "List-Archive: <%sg/%s/>\r\n", p->base_url, pol->group);
    if (permalink)
        g_string_append_printf(c->head, "Archived-At: <%s%s>\r\n", p->base_url, permalink);
    g_string_append(c->head, "Precedence: list\r\n");
    g_string_append(c->head, "X-Auto-Response-Suppress: OOF, AutoReply\r\n");
    g_string_append_printf(c->head, "X-Loop: %s\r\n", group_addr);

    free_fields(fields);
    *out = c;
    return COR_OK;
}

void
cor_copy_free(cor_copy_t *c)
{
    if (!c)
        return;
    g_string_free(c->head, TRUE);
    g_string_free(c->body, TRUE);
    g_free(c->group);
    g_free(c->domain);
    g_free(c->base_url);
    g_free(c);
}

const char *
cor_copy_head(const cor_copy_t *c, size_t *len)
{
    *len = c->head->len;
    return c->head->str;
}

const char *
cor_copy_body(const cor_copy_t *c, size_t *len)
{
    *len = c->body->len;
    return c->body->str;
}

char *
cor_copy_member_lines(const cor_copy_t *c, const char *token)
{
    if (!token)
        return g_strdup_printf("List-Unsubscribe: <mailto:%s-leave@%s>\r\n", c->group, c->domain);
    return g_strdup_printf("List-Unsubscribe: <%su/%s>, <mailto:%s-leave@%s>\r\n"
                           "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
                           c->base_url, token, c->group, c->domain);
}
