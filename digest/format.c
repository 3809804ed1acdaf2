/* digest/format.c — a digest written out: the plain text and the HTML
 * of the default format, the RFC 1153 text digest, the MIME
 * multipart/digest, and the whole message with its list headers
 * (digest.h).  The model comes from digest.c (model.h). */
#include <gmime/gmime.h>
#include <string.h>

#include "core/mailgen.h"
#include "core/message.h"
#include "digest/model.h"

#define WIDTH 76               /* text is wrapped at this column */
#define LONG_LINE 76           /* an excerpt line longer than this is wrapped */

/* ---- plain text ---- */

/* Appends `text` wrapped at WIDTH columns, each line after `indent`;
 * words longer than a line (URLs) stay whole. */
static void
wrap(GString *out, const char *indent, const char *text)
{
    glong room = WIDTH - (glong) strlen(indent);
    if (room < 20)
        room = 20;
    g_auto(GStrv) words = g_strsplit(text, " ", -1);
    glong col = 0;
    bool start = true;
    for (char **w = words; *w; w++) {
        if (!**w)
            continue;
        glong n = g_utf8_strlen(*w, -1);
        if (!start && col + 1 + n > room) {
            g_string_append_c(out, '\n');
            start = true;
        }
        if (start) {
            g_string_append(out, indent);
            col = 0;
        } else {
            g_string_append_c(out, ' ');
            col++;
        }
        g_string_append(out, *w);
        col += n;
        start = false;
    }
    if (!start)
        g_string_append_c(out, '\n');
}

static void
underline(GString *out, const char *text, char c)
{
    g_string_append_printf(out, "%s\n", text);
    for (glong i = g_utf8_strlen(text, -1); i > 0; i--)
        g_string_append_c(out, c);
    g_string_append_c(out, '\n');
}

static char *
thread_status(const dg_thread_t *t)
{
    if (t->earlier == 0)
        return g_strdup("New conversation");
    return g_strdup_printf("Continuing, %" G_GINT64_FORMAT " earlier message%s", t->earlier,
                           t->earlier == 1 ? "" : "s");
}

/* The footer of one group: how to change mode or leave. */
static void
text_footer_group(GString *out, const dg_section_t *s, bool combined)
{
    g_autofree char *line = g_strdup_printf("You get %s (%s) %s, %s.", s->title, s->address,
                                            combined ? "in your combined digest" : "as a digest",
                                            s->schedule);
    wrap(out, "", line);
    g_autofree char *each = g_strdup_printf("Every message as it is posted: write to %s with "
                                            "the subject \"mode each\".", s->request);
    wrap(out, "  ", each);
    wrap(out, "  ", "No mail, only the archive: the subject \"mode none\".");
    if (s->unsubscribe_url)
        g_string_append_printf(out, "  Leave the group: %s\n", s->unsubscribe_url);
    else
        g_string_append_printf(out, "  Leave the group: write to %s\n", s->leave);
    g_string_append_printf(out, "  The archive: %s\n", s->archive_url);
}

static void
text_footer(GString *out, const cor_digest_t *d)
{
    g_string_append(out, "-- \n");
    for (guint i = 0; i < d->groups->len; i++) {
        if (i)
            g_string_append_c(out, '\n');
        text_footer_group(out, d->groups->pdata[i], d->combined);
    }
    if (d->stop_url) {
        g_string_append_c(out, '\n');
        wrap(out, "", "Stop this digest (no mail from these groups; you stay a member):");
        g_string_append_printf(out, "  %s\n", d->stop_url);
    }
}

/* The threads of one section as text: the same for every member who gets
 * it, so made once (dg_shared_t.text). */
static void
section_text(GString *out, const cor_digest_site_t *site, const dg_section_t *s)
{
    for (guint t = 0; t < s->threads->len; t++) {
        const dg_thread_t *th = s->threads->pdata[t];
        g_autofree char *status = thread_status(th);
        g_autofree char *head = g_strdup_printf("%s: %s", status, th->subject);
        /* the heading, wrapped, underlined as long as its longest line */
        g_autoptr(GString) h = g_string_new(NULL);
        wrap(h, "", head);
        g_string_append_printf(out, "\n%s", h->str);
        glong longest = 0;
        g_auto(GStrv) hl = g_strsplit(h->str, "\n", -1);
        for (char **l = hl; *l; l++)
            longest = MAX(longest, g_utf8_strlen(*l, -1));
        for (glong n = 0; n < longest; n++)
            g_string_append_c(out, '-');
        g_string_append_c(out, '\n');
        for (guint k = 0; k < th->posts->len; k++) {
            const dg_post_t *p = th->posts->pdata[k];
            g_autofree char *when = dg_time_short(site, p->date);
            g_string_append_printf(out, "\n%s, %s%s\n", p->author, when,
                                   p->has_attachments ? ", with attachments" : "");
            if (!p->ex->lines[0])
                g_string_append(out, "    (No new text: only quoted or forwarded text.)\n");
            /* lines as the author wrapped them; only long ones (a
             * paragraph on one line) are wrapped here */
            for (char **l = p->ex->lines; *l; l++) {
                if (!**l)
                    g_string_append_c(out, '\n');
                else if (g_utf8_strlen(*l, -1) <= LONG_LINE)
                    g_string_append_printf(out, "    %s\n", *l);
                else
                    wrap(out, "    ", *l);
            }
            g_string_append_printf(out, "    Read:  %s\n", p->permalink);
            g_string_append_printf(out, "    Reply: %s\n", p->reply);
        }
    }
}

char *
cor_digest_text(const cor_digest_t *d)
{
    const cor_digest_site_t *site = d->site;
    GString *out = g_string_new(NULL);
    underline(out, d->title, '=');
    g_string_append_c(out, '\n');
    g_autofree char *summary = dg_summary(d);
    g_string_append_printf(out, "%s.\n", summary);
    g_autofree char *since = dg_since(d);
    if (since)
        g_string_append_printf(out, "%s\n", since);
    if (cor_digest_empty(d))
        g_string_append(out, "\nNothing new.\n");
    for (guint i = 0; i < d->sections->len; i++) {
        const dg_section_t *s = d->sections->pdata[i];
        if (d->combined) {
            g_autofree char *h = g_strdup_printf("%s (%s)", s->title, s->address);
            g_string_append_c(out, '\n');
            underline(out, h, '#');
        }
        if (!s->shared->text) {
            GString *t = g_string_new(NULL);
            section_text(t, site, s);
            s->shared->text = g_string_free(t, FALSE);
        }
        g_string_append(out, s->shared->text);
    }
    g_string_append_c(out, '\n');
    text_footer(out, d);
    return g_string_free(out, FALSE);
}

/* ---- HTML ---- */

/* Whether an excerpt line continues the line above (the same sentence
 * wrapped by the author's mail client) rather than starting a list item,
 * an indented block or a table row. */
static bool
continues(const char *line)
{
    const unsigned char *p = (const unsigned char *) line;
    if (*p == ' ' || *p == '-' || *p == '*' || *p == '+' || *p == '>' || *p == '|')
        return false;
    if (g_str_has_prefix(line, "•") || g_str_has_prefix(line, "–"))
        return false;
    if (g_ascii_isdigit(*p)) {
        while (g_ascii_isdigit(*p))
            p++;
        if (*p == '.' || *p == ')')
            return false;
    }
    if (g_ascii_isalpha(p[0]) && (p[1] == ')' || (p[1] == '.' && p[2] == ' ')))
        return false;  /* "a) ..." */
    return true;
}

static void
set_section_links(cor_tctx_t *c, cor_tval_t *o, const dg_section_t *s)
{
    cor_tval_set_str(c, o, "title", s->title);
    cor_tval_set_str(c, o, "address", s->address);
    cor_tval_set_str(c, o, "schedule", s->schedule);
    cor_tval_set_str(c, o, "archive_url", s->archive_url);
    cor_tval_set_printf(c, o, "each_url", "mailto:%s?subject=mode%%20each", s->request);
    cor_tval_set_printf(c, o, "none_url", "mailto:%s?subject=mode%%20none", s->request);
    cor_tval_set_str(c, o, "request", s->request);
    if (s->unsubscribe_url)
        cor_tval_set_str(c, o, "leave_url", s->unsubscribe_url);
    else
        cor_tval_set_printf(c, o, "leave_url", "mailto:%s", s->leave);
}

/* The HTML of one section's threads (digest-section.html): the same for
 * every member who gets it, so rendered once (dg_shared_t.html; the
 * combined digest's headings are a level lower).  *out transfer none. */
static cor_status_t
section_html(const cor_digest_t *d, const dg_section_t *s, const char **out, char **err)
{
    const cor_digest_site_t *site = d->site;
    char **slot = &s->shared->html[d->combined ? 1 : 0];
    if (*slot) {
        *out = *slot;
        return COR_OK;
    }
    g_autoptr(cor_tctx_t) c = cor_tctx_new();
    cor_tval_t *so = cor_tval_object(c);
    cor_tval_set_static(c, so, "thread_tag", d->combined ? "h3" : "h2");
    cor_tval_t *threads = cor_tval_set_list(c, so, "threads");
    for (guint t = 0; t < s->threads->len; t++) {
        const dg_thread_t *th = s->threads->pdata[t];
        cor_tval_t *to = cor_tval_list_add_object(c, threads);
        cor_tval_set_str(c, to, "subject", *th->subject ? th->subject : "(no subject)");
        g_autofree char *status = thread_status(th);
        cor_tval_set_str(c, to, "status", status);
        cor_tval_set_bool(c, to, "is_new", th->earlier == 0);
        cor_tval_set_str(c, to, "url", ((dg_post_t *) th->posts->pdata[0])->permalink);
        cor_tval_t *posts = cor_tval_set_list(c, to, "posts");
        for (guint k = 0; k < th->posts->len; k++) {
            const dg_post_t *p = th->posts->pdata[k];
            cor_tval_t *po = cor_tval_list_add_object(c, posts);
            cor_tval_set_str(c, po, "author", p->author);
            g_autofree char *when = dg_time_short(site, p->date);
            g_autofree char *iso = dg_iso(site, p->date);
            cor_tval_set_str(c, po, "time", when);
            cor_tval_set_str(c, po, "datetime", iso);
            cor_tval_set_bool(c, po, "attachments", p->has_attachments);
            cor_tval_set_str(c, po, "permalink", p->permalink);
            cor_tval_set_str(c, po, "reply", p->reply);
            cor_tval_set_printf(c, po, "read_label", "Read %s’s message", p->author);
            cor_tval_set_printf(c, po, "reply_label", "Reply to %s", p->author);
            /* paragraphs of lines: blank lines in the excerpt split them */
            cor_tval_t *paras = cor_tval_set_list(c, po, "paragraphs");
            cor_tval_t *lines = NULL;
            cor_tval_t *prev = NULL;
            g_autoptr(GString) joined = g_string_new(NULL);
            for (char **l = p->ex->lines; *l; l++) {
                if (!**l) {
                    lines = NULL;
                    continue;
                }
                if (!lines) {
                    cor_tval_t *para = cor_tval_list_add_object(c, paras);
                    lines = cor_tval_set_list(c, para, "lines");
                    prev = NULL;
                }
                if (prev && continues(*l)) {
                    /* reflowed: the author's line ends are the width
                     * of their window, not of the reader's */
                    g_string_append_printf(joined, " %s", *l);
                    cor_tval_set_str(c, prev, "text", joined->str);
                    continue;
                }
                if (prev)
                    cor_tval_set_bool(c, prev, "br", true);
                prev = cor_tval_list_add_object(c, lines);
                cor_tval_set_str(c, prev, "text", *l);
                g_string_assign(joined, *l);
            }
        }
    }
    GString *html = g_string_new(NULL);
    cor_status_t st = cor_tmpl_render(site->tmpl, "digest-section.html", so, html, err);
    if (st != COR_OK) {
        g_string_free(html, TRUE);
        return st;
    }
    *slot = g_string_free(html, FALSE);
    *out = *slot;
    return COR_OK;
}

cor_status_t
cor_digest_html(const cor_digest_t *d, char **out, char **err)
{
    *out = NULL;
    *err = NULL;
    const cor_digest_site_t *site = d->site;
    g_autoptr(cor_tctx_t) c = cor_tctx_new();
    cor_tval_t *root = cor_tval_object(c);
    cor_tval_set_str(c, root, "title", d->title);
    g_autofree char *summary = dg_summary(d);
    cor_tval_set_str(c, root, "summary", summary);
    g_autofree char *since = dg_since(d);
    if (since)
        cor_tval_set_str(c, root, "since", since);
    cor_tval_set_bool(c, root, "combined", d->combined);
    cor_tval_set_bool(c, root, "empty", cor_digest_empty(d));
    cor_tval_t *sections = cor_tval_set_list(c, root, "sections");
    for (guint i = 0; i < d->sections->len; i++) {
        const dg_section_t *s = d->sections->pdata[i];
        cor_tval_t *so = cor_tval_list_add_object(c, sections);
        set_section_links(c, so, s);
        const char *html = NULL;
        cor_status_t hs = section_html(d, s, &html, err);
        if (hs != COR_OK)
            return hs;
        cor_tval_set_html(c, so, "section_html", html);
    }
    if (d->stop_url)
        cor_tval_set_str(c, root, "stop_url", d->stop_url);
    cor_tval_t *groups = cor_tval_set_list(c, root, "groups");
    for (guint i = 0; i < d->groups->len; i++)
        set_section_links(c, cor_tval_list_add_object(c, groups), d->groups->pdata[i]);
    GString *html = g_string_new(NULL);
    cor_status_t s = cor_tmpl_render(site->tmpl, "digest.html", root, html, err);
    if (s != COR_OK) {
        g_string_free(html, TRUE);
        return s;
    }
    *out = g_string_free(html, FALSE);
    return COR_OK;
}

/* ---- RFC 1153 ---- */

#define SEP70 "----------------------------------------------------------------------"
#define SEP30 "------------------------------"

/* "Planning Digest" (or "Your Digest") */
static char *
rfc1153_name(const cor_digest_t *d)
{
    if (d->combined)
        return g_strdup("Your Digest");
    return g_strdup_printf("%s Digest", ((dg_section_t *) d->groups->pdata[0])->title);
}

/* Volume = the year, issue = the day of the year (local). */
static void
rfc1153_issue(const cor_digest_t *d, int *volume, int *issue)
{
    g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(d->now);
    g_autoptr(GDateTime) l = g_date_time_to_timezone(utc, d->site->tz);
    *volume = g_date_time_get_year(l);
    *issue = g_date_time_get_day_of_year(l);
}

/* a message's text, encapsulated (RFC 934: a line starting with '-' gets
 * "- " in front) */
static void
stuffed(GString *out, const char *body)
{
    g_auto(GStrv) lines = g_strsplit(body, "\n", -1);
    guint n = g_strv_length(lines);
    while (n > 0 && !*g_strchomp(lines[n - 1]))
        n--;  /* trailing blank lines */
    for (guint i = 0; i < n; i++) {
        if (lines[i][0] == '-')
            g_string_append(out, "- ");
        g_string_append_printf(out, "%s\n", lines[i]);
    }
}

static char *
rfc1153_text(const cor_digest_t *d, char **subject)
{
    const cor_digest_site_t *site = d->site;
    g_autofree char *name = rfc1153_name(d);
    int vol, iss;
    rfc1153_issue(d, &vol, &iss);
    g_autofree char *date = dg_date_rfc5322(site, d->now);
    /* "Tue, 04 Mar 2025 07:00:00 +0000" -> "Tue, 04 Mar 2025" */
    if (strlen(date) > 16)
        date[16] = '\0';
    *subject = g_strdup_printf("%s, Vol %d, Issue %d", name, vol, iss);
    GString *out = g_string_new(NULL);
    g_string_append_printf(out, "%s    %s    Volume %d : Issue %d\n\n", name, date, vol, iss);
    g_string_append(out, "Today's Topics:\n\n");
    for (guint i = 0; i < d->sections->len; i++) {
        const dg_section_t *s = d->sections->pdata[i];
        for (guint t = 0; t < s->threads->len; t++) {
            const dg_thread_t *th = s->threads->pdata[t];
            g_autofree char *topic = g_strdup_printf("%s%s%s", d->combined ? s->title : "",
                                                     d->combined ? ": " : "", th->subject);
            if (th->posts->len > 1)
                g_string_append_printf(out, "   %s (%u messages)\n", topic, th->posts->len);
            else
                g_string_append_printf(out, "   %s\n", topic);
        }
    }
    g_string_append(out, "\n" SEP70 "\n");
    for (guint i = 0; i < d->sections->len; i++) {
        const dg_section_t *s = d->sections->pdata[i];
        for (guint t = 0; t < s->threads->len; t++) {
            const dg_thread_t *th = s->threads->pdata[t];
            for (guint k = 0; k < th->posts->len; k++) {
                const dg_post_t *p = th->posts->pdata[k];
                g_autofree char *pd = dg_date_rfc5322(site, p->date);
                g_string_append_printf(out, "\nDate: %s\n", pd);
                if (strcmp(p->author, p->from_addr) != 0 && *p->from_addr)
                    g_string_append_printf(out, "From: %s <%s>\n", p->author, p->from_addr);
                else
                    g_string_append_printf(out, "From: %s\n", p->author);
                g_string_append_printf(out, "Subject: %s\n", p->subject);
                g_string_append_printf(out, "Message-ID: <%s>\n\n", p->message_id);
                stuffed(out, p->ex->body);
                g_string_append(out, "\n" SEP30 "\n");
            }
        }
    }
    g_string_append(out, "\nSubject: Digest footer\n\n");
    GString *foot = g_string_new(NULL);
    for (guint i = 0; i < d->groups->len; i++) {
        if (i)
            g_string_append_c(foot, '\n');
        text_footer_group(foot, d->groups->pdata[i], d->combined);
    }
    stuffed(out, foot->str);
    g_string_free(foot, TRUE);
    g_string_append(out, "\n" SEP30 "\n\n");
    g_autofree char *end = g_strdup_printf("End of %s, Vol %d, Issue %d", name, vol, iss);
    underline(out, end, '*');
    return g_string_free(out, FALSE);
}

/* ---- MIME multipart/digest ---- */

static cor_status_t
mime_body(const cor_digest_t *d, cor_store_t *st, GMimeObject **out, char **err)
{
    *out = NULL;
    GString *intro = g_string_new(NULL);
    underline(intro, d->title, '=');
    g_autofree char *summary = dg_summary(d);
    g_string_append_printf(intro, "\n%s.\n", summary);
    g_autofree char *since = dg_since(d);
    if (since)
        g_string_append_printf(intro, "%s\n", since);
    g_string_append(intro, "\nContents (each message follows whole):\n");
    for (guint i = 0; i < d->sections->len; i++) {
        const dg_section_t *s = d->sections->pdata[i];
        if (d->combined)
            g_string_append_printf(intro, "\n%s (%s)\n", s->title, s->address);
        for (guint t = 0; t < s->threads->len; t++) {
            const dg_thread_t *th = s->threads->pdata[t];
            g_autofree char *status = thread_status(th);
            g_autofree char *line = g_strdup_printf("%s (%s, %u new)", th->subject, status,
                                                    th->posts->len);
            wrap(intro, "  ", line);
        }
    }
    GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
    GMimeTextPart *ip = cor_mailgen_text_part("plain", intro->str);
    g_string_free(intro, TRUE);
    g_mime_multipart_add(mixed, GMIME_OBJECT(ip));
    g_object_unref(ip);

    GMimeMultipart *dig = g_mime_multipart_new_with_subtype("digest");
    for (guint i = 0; i < d->sections->len; i++) {
        const dg_section_t *s = d->sections->pdata[i];
        for (guint t = 0; t < s->threads->len; t++) {
            const dg_thread_t *th = s->threads->pdata[t];
            for (guint k = 0; k < th->posts->len; k++) {
                const dg_post_t *p = th->posts->pdata[k];
                g_autoptr(GBytes) raw = NULL;
                if (cor_store_message_raw(st, p->msg, &raw) != COR_OK) {
                    *err = g_strdup(cor_store_error(st));
                    g_object_unref(dig);
                    g_object_unref(mixed);
                    return COR_ERR_STORE;
                }
                gsize len = 0;
                const char *data = g_bytes_get_data(raw, &len);
                GMimeStream *in = g_mime_stream_mem_new_with_buffer(data, len);
                GMimeParser *parser = g_mime_parser_new_with_stream(in);
                GMimeMessage *orig = g_mime_parser_construct_message(parser, NULL);
                g_object_unref(parser);
                g_object_unref(in);
                if (!orig)
                    continue;  /* not a message GMime can read: the archive has it */
                GMimeMessagePart *mp = g_mime_message_part_new_with_message("rfc822", orig);
                g_mime_multipart_add(dig, GMIME_OBJECT(mp));
                g_object_unref(mp);
                g_object_unref(orig);
            }
        }
    }
    g_mime_multipart_add(mixed, GMIME_OBJECT(dig));
    g_object_unref(dig);

    GString *foot = g_string_new(NULL);
    text_footer(foot, d);
    GMimeTextPart *fp = cor_mailgen_text_part("plain", foot->str);
    g_string_free(foot, TRUE);
    g_mime_multipart_add(mixed, GMIME_OBJECT(fp));
    g_object_unref(fp);
    *out = GMIME_OBJECT(mixed);
    return COR_OK;
}

/* ---- the message ---- */

/* "Name <address>" with the name quoted, or the address (transfer full). */
static char *
mailbox_text(const char *name, const char *address)
{
    if (!name || !*name)
        return g_strdup(address);
    GString *s = g_string_new("\"");
    for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_c(s, '\\');
        if ((unsigned char) *p >= ' ')
            g_string_append_c(s, *p);
    }
    g_string_append_printf(s, "\" <%s>", address);
    return g_string_free(s, FALSE);
}

cor_status_t
cor_digest_message(const cor_digest_t *d, cor_store_t *st, cor_digest_format_t format,
                   char **bytes, size_t *len, char **message_id, char **err)
{
    *bytes = NULL;
    *len = 0;
    *err = NULL;
    if (message_id)
        *message_id = NULL;
    const cor_digest_site_t *site = d->site;
    const dg_section_t *first = d->sections->len ? d->sections->pdata[0] : d->groups->pdata[0];
    GPtrArray *extra = g_ptr_array_new_with_free_func(g_free);
    if (!d->combined) {
        if (first->unsubscribe_url) {
            g_ptr_array_add(extra, g_strdup_printf("List-Unsubscribe: <%s>, <mailto:%s>",
                                                   first->unsubscribe_url, first->leave));
            g_ptr_array_add(extra, g_strdup("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        } else {
            g_ptr_array_add(extra, g_strdup_printf("List-Unsubscribe: <mailto:%s>", first->leave));
        }
        g_ptr_array_add(extra, g_strdup_printf("List-Post: <mailto:%s>", first->address));
        g_ptr_array_add(extra, g_strdup_printf("List-Help: <mailto:%s?subject=help>",
                                               first->request));
        g_ptr_array_add(extra, g_strdup_printf("List-Archive: <%s>", first->archive_url));
    } else {
        /* a combined digest speaks for no one group: its own List-Id, each
         * group's links in the footer, and a one-click link that stops it */
        g_ptr_array_add(extra, g_strdup_printf("List-Id: Your digest <digest.%s>", site->domain));
        if (d->stop_url) {
            g_ptr_array_add(extra, g_strdup_printf("List-Unsubscribe: <%s>", d->stop_url));
            g_ptr_array_add(extra, g_strdup("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        }
    }
    g_ptr_array_add(extra, g_strdup("Precedence: list"));
    g_ptr_array_add(extra, NULL);

    g_autofree char *to = mailbox_text(d->name, d->address);
    g_autofree char *text = NULL, *html = NULL, *subject = NULL;
    cor_status_t s = COR_OK;
    GMimeObject *body = NULL;
    switch (format) {
    case COR_DIGEST_MULTIPART:
        text = cor_digest_text(d);
        s = cor_digest_html(d, &html, err);
        break;
    case COR_DIGEST_RFC1153:
        text = rfc1153_text(d, &subject);
        break;
    case COR_DIGEST_MIME:
        s = mime_body(d, st, &body, err);
        break;
    }
    if (s != COR_OK) {
        g_ptr_array_unref(extra);
        return s;
    }
    cor_mailgen_t mg = {
        .kind = "digest",
        .domain = site->domain,
        .group = d->combined ? NULL : first->group,
        .list_title = first->title,
        .from_name = d->combined ? "Group digest" : first->title,
        .from_addr = first->request,
        .to = to,
        .subject = subject ? subject : d->title,
        .text = text,
        .html = html,
        .extra = (const char *const *) extra->pdata,
        .date = d->now,
    };
    *bytes = body ? cor_mailgen_build_mime(&mg, body, len, message_id)
                  : cor_mailgen_build(&mg, len, message_id);
    if (body)
        g_object_unref(body);
    g_ptr_array_unref(extra);
    return COR_OK;
}
