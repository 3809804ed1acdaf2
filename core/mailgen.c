/* core/mailgen.c — generated mail (mailgen.h), built with GMime. */
#include "core/mailgen.h"

#include <gmime/gmime.h>
#include <string.h>

#include "core/message.h"

/* A text part of our own UTF-8 text.  Its content is given as a stream,
 * not with g_mime_text_part_set_text(), which scans every byte to choose a
 * charset we already know (a tenth of the time of a digest run). */
GMimeTextPart *
cor_mailgen_text_part(const char *subtype, const char *text)
{
    GMimeTextPart *p = g_mime_text_part_new_with_subtype(subtype);
    g_mime_object_set_content_type_parameter(GMIME_OBJECT(p), "charset", "utf-8");
    text = text ? text : "";
    GMimeStream *mem = g_mime_stream_mem_new_with_buffer(text, strlen(text));
    GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(mem, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(GMIME_PART(p), w);
    g_object_unref(w);
    g_object_unref(mem);
    g_mime_part_set_content_encoding(GMIME_PART(p), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    return p;
}

static char *build(const cor_mailgen_t *m, GMimeObject *custom, size_t *len, char **message_id);

char *
cor_mailgen_build(const cor_mailgen_t *m, size_t *len, char **message_id)
{
    return build(m, NULL, len, message_id);
}

char *
cor_mailgen_build_mime(const cor_mailgen_t *m, GMimeObject *body, size_t *len, char **message_id)
{
    return build(m, body, len, message_id);
}

static char *
build(const cor_mailgen_t *m, GMimeObject *custom, size_t *len, char **message_id)
{
    cor_message_init();
    GMimeMessage *msg = g_mime_message_new(TRUE);
    GMimeObject *o = GMIME_OBJECT(msg);

    g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, m->from_name ? m->from_name : "",
                               m->from_addr);
    InternetAddressList *to = internet_address_list_parse(NULL, m->to);
    if (to) {
        internet_address_list_append(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO), to);
        g_object_unref(to);
    }
    if (m->reply_to)
        g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_REPLY_TO, "", m->reply_to);
    g_mime_message_set_subject(msg, m->subject ? m->subject : "", "utf-8");
    GDateTime *dt = m->date ? g_date_time_new_from_unix_utc(m->date) : g_date_time_new_now_utc();
    g_mime_message_set_date(msg, dt);
    g_date_time_unref(dt);
    char *mid = cor_message_id_generate(m->kind ? m->kind : "notice", m->domain);
    g_mime_message_set_message_id(msg, mid);
    if (m->in_reply_to && *m->in_reply_to) {
        char *irt = g_strdup_printf("<%s>", m->in_reply_to);
        g_mime_object_set_header(o, "In-Reply-To", irt, NULL);
        g_free(irt);
    }
    if (m->references && *m->references)
        g_mime_object_set_header(o, "References", m->references, NULL);
    g_mime_object_set_header(o, "Auto-Submitted", "auto-generated", NULL);
    g_mime_object_set_header(o, "X-Auto-Response-Suppress", "All", NULL);
    if (m->group) {
        char *loop = g_strdup_printf("%s@%s", m->group, m->domain);
        g_mime_object_set_header(o, "X-Loop", loop, NULL);
        g_free(loop);
        char *phrase = m->list_title && *m->list_title
            ? g_mime_utils_header_encode_phrase(NULL, m->list_title, "utf-8") : NULL;
        char *lid = g_strdup_printf("%s%s<%s.%s>", phrase ? phrase : "", phrase ? " " : "",
                                    m->group, m->domain);
        g_mime_object_set_header(o, "List-Id", lid, NULL);
        g_free(lid);
        g_free(phrase);
    }
    for (size_t i = 0; m->extra && m->extra[i]; i++) {
        const char *colon = strchr(m->extra[i], ':');
        if (!colon)
            continue;
        char *name = g_strndup(m->extra[i], (gsize) (colon - m->extra[i]));
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        g_mime_object_append_header(o, name, v, NULL);
        g_free(name);
    }

    GMimeObject *body = NULL;
    if (custom) {
        body = g_object_ref(custom);
    } else if (m->html) {
        GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
        GMimeTextPart *t = cor_mailgen_text_part("plain", m->text);
        GMimeTextPart *h = cor_mailgen_text_part("html", m->html);
        g_mime_multipart_add(alt, GMIME_OBJECT(t));
        g_mime_multipart_add(alt, GMIME_OBJECT(h));
        g_object_unref(t);
        g_object_unref(h);
        body = GMIME_OBJECT(alt);
    } else {
        body = GMIME_OBJECT(cor_mailgen_text_part("plain", m->text));
    }
    if (m->attach) {
        /* the original, whole and unchanged, as message/rfc822 */
        GMimeStream *in = g_mime_stream_mem_new_with_buffer(m->attach, m->attach_len);
        GMimeParser *parser = g_mime_parser_new_with_stream(in);
        GMimeMessage *orig = g_mime_parser_construct_message(parser, NULL);
        g_object_unref(parser);
        g_object_unref(in);
        if (orig) {
            GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
            g_mime_multipart_add(mixed, body);
            g_object_unref(body);
            GMimeMessagePart *mp = g_mime_message_part_new_with_message("rfc822", orig);
            g_mime_object_set_disposition(GMIME_OBJECT(mp), "inline");
            g_mime_multipart_add(mixed, GMIME_OBJECT(mp));
            g_object_unref(mp);
            g_object_unref(orig);
            body = GMIME_OBJECT(mixed);
        }
    }
    g_mime_message_set_mime_part(msg, body);
    g_object_unref(body);

    GMimeFormatOptions *fo = g_mime_format_options_clone(NULL);
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    char *s = g_mime_object_to_string(o, fo);
    g_mime_format_options_free(fo);
    g_object_unref(msg);
    *len = strlen(s);
    if (message_id)
        *message_id = mid;
    else
        g_free(mid);
    return s;
}
