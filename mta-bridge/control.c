/* mta-bridge/control.c — bounces, mail commands, moderation and join
 * confirmations by email.  Design notes: control.h. */
#include "mta-bridge/control.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

#include "core/links.h"
#include "core/listconf.h"
#include "core/log.h"
#include "core/mailgen.h"
#include "filters/autoreply.h"
#include "filters/headers.h"
#include "filters/held.h"
#include "mta-bridge/bounce.h"
#include "mta-bridge/notices.h"

#define MODERATE_TTL (30 * 24 * 3600)

struct cor_control {
    const cor_config_t *cfg;
    char *base_url;
    double threshold, hard_score, soft_score;
    int64_t half_life;
    int64_t confirm_ttl;
};

static double
number(const cor_config_t *cfg, const char *section, const char *key, double fallback)
{
    const char *v = cor_config_string(cfg, section, key);
    char *end = NULL;
    double d = v ? g_ascii_strtod(v, &end) : 0;
    return end && end != v && *end == '\0' && d >= 0 ? d : fallback;
}

cor_control_t *
cor_control_new(const cor_config_t *cfg, const char *base_url)
{
    cor_control_t *c = g_new0(cor_control_t, 1);
    c->cfg = cfg;
    c->base_url = g_strdup(base_url);
    c->threshold = number(cfg, "bounces", "threshold", 5.0);
    c->hard_score = number(cfg, "bounces", "hard_score", 1.0);
    c->soft_score = number(cfg, "bounces", "soft_score", 0.5);
    c->half_life = cor_config_int(cfg, "bounces", "half_life");  /* seconds */
    c->confirm_ttl = cor_config_int(cfg, "commands", "confirm_ttl");
    return c;
}

void
cor_control_free(cor_control_t *c)
{
    if (!c)
        return;
    g_free(c->base_url);
    g_free(c);
}

/* ---- bounces ---- */

cor_status_t
cor_control_count_failure(cor_control_t *c, cor_store_t *st, int64_t group_id, const char *domain,
                          const char *address, bool hard, const char *status, const char *detail,
                          const char *source)
{
    bool disabled = false;
    cor_status_t s = cor_store_bounce_record(st, group_id, address, hard ? "hard" : "soft",
                                             hard ? c->hard_score : c->soft_score, status, detail,
                                             source, (int64_t) time(NULL), c->half_life,
                                             c->threshold, &disabled);
    if (s != COR_OK || !disabled)
        return s;
    g_autoptr(GPtrArray) groups = NULL;
    if ((s = cor_store_group_list(st, false, &groups)) != COR_OK)
        return s;
    const char *name = "";
    for (guint i = 0; i < groups->len; i++)
        if (((cor_group_t *) groups->pdata[i])->id == group_id)
            name = ((cor_group_t *) groups->pdata[i])->name;
    cor_log_info("bounces: %s disabled in %s (%s %s)", address, name, hard ? "hard" : "soft",
                 status && *status ? status : "failure");
    g_autofree char *subject = g_strdup_printf("%s: delivery to %s disabled after bounces", name,
                                               address);
    g_autofree char *text = g_strdup_printf(
        "Mail to %s from the group %s has failed too often, so corridor has\n"
        "stopped sending to this address.  The member stays in the group.\n\n"
        "Last failure: %s %s\n%s\n\n"
        "To see every member's bounce score:  corridor bounces %s\n"
        "To start sending again:              corridor member set %s %s --enable\n",
        address, name, hard ? "permanent" : "temporary", status ? status : "",
        detail ? detail : "", name, name, address);
    return cor_notice_owners(st, group_id, name, domain, subject, text);
}

static cor_status_t
handle_bounce(cor_control_t *c, cor_store_t *st, const cor_control_mail_t *cm, const char *domain,
              char **note)
{
    gsize len;
    const char *raw = g_bytes_get_data(cm->raw, &len);
    raw = raw ? raw : "";
    /* The parser takes the envelope sender from Return-Path (bounce.h),
     * which an LMTP delivery does not add: the envelope's goes on top. */
    g_autoptr(cor_headers_t) h = cor_headers_parse(raw, len);
    g_autoptr(GByteArray) with_rp = NULL;
    if (!cor_headers_get(h, "Return-Path")) {
        g_autofree char *rp = g_strdup_printf("Return-Path: <%s>\r\n", cm->env_from);
        with_rp = g_byte_array_sized_new((guint) (strlen(rp) + len));
        g_byte_array_append(with_rp, (const guint8 *) rp, (guint) strlen(rp));
        g_byte_array_append(with_rp, (const guint8 *) raw, (guint) len);
        raw = (const char *) with_rp->data;
        len = with_rp->len;
    }
    g_autoptr(cor_bounce_report_t) r = NULL;
    cor_status_t s = cor_bounce_parse(raw, len, &r);
    if (s != COR_OK) {
        *note = g_strdup("unreadable bounce");
        return COR_OK;
    }
    if (r->cls == COR_BOUNCE_IGNORED) {
        /* why often starts with the format ("auto-reply: ...") */
        bool named = r->why && g_str_has_prefix(r->why, r->format);
        *note = g_strdup_printf("ignored (%s%s%s)", named ? "" : r->format, named ? "" : ": ",
                                r->why ? r->why : "");
        return COR_OK;
    }
    g_autofree char *verp = cor_link_verp_decode(cm->detail);
    const cor_bounce_rcpt_t *first = NULL;
    for (guint i = 0; i < r->rcpts->len; i++) {
        const cor_bounce_rcpt_t *br = r->rcpts->pdata[i];
        if (br->cls != COR_BOUNCE_IGNORED) {
            first = br;
            break;
        }
    }
    if (verp) {
        /* the envelope names the member: the report says how bad it is */
        s = cor_control_count_failure(c, st, cm->group_id, domain, verp,
                                      r->cls == COR_BOUNCE_HARD, first ? first->status : "",
                                      first ? first->diagnostic : r->why, "dsn");
        *note = g_strdup_printf("%s bounce for %s (%s)", cor_bounce_class_to_string(r->cls), verp,
                                r->format);
        return s;
    }
    guint n = 0;
    for (guint i = 0; s == COR_OK && i < r->rcpts->len; i++) {
        const cor_bounce_rcpt_t *br = r->rcpts->pdata[i];
        if (br->cls == COR_BOUNCE_IGNORED || !br->address)
            continue;
        s = cor_control_count_failure(c, st, cm->group_id, domain, br->address,
                                      br->cls == COR_BOUNCE_HARD, br->status, br->diagnostic, "dsn");
        n++;
    }
    *note = g_strdup_printf("%s bounce without VERP, %u recipient(s) counted (%s)",
                            cor_bounce_class_to_string(r->cls), n, r->format);
    return s;
}

/* ---- commands ---- */

typedef struct request {
    cor_control_t *c;
    cor_store_t *st;
    const cor_control_mail_t *cm;
    cor_group_t *g;
    const char *domain;
    cor_message_t *msg;
    const char *sender;        /* lowercase */
    GString *reply;            /* what we answer */
    char *reply_subject;
    guint queued;
} request_t;

static bool
is_token(const char *s, size_t n)
{
    if (n != 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isxdigit(s[i]) || g_ascii_isupper(s[i]))
            return false;
    return true;
}

/* The first 32-hex-digit word of `text`, or NULL (transfer full). */
static char *
find_token(const char *text)
{
    for (const char *p = text; p && *p; p++) {
        if (!g_ascii_isxdigit(*p) || (p > text && g_ascii_isalnum(p[-1])))
            continue;
        size_t n = 0;
        while (g_ascii_isxdigit(p[n]))
            n++;
        if (is_token(p, n) && !g_ascii_isalnum(p[n]))
            return g_strndup(p, n);
        p += n ? n - 1 : 0;
    }
    return NULL;
}

/* The subject without Re:/Fwd:/AW:/SV: and [tags] at the start. */
static const char *
strip_subject(const char *s)
{
    while (s && *s) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '[') {
            const char *e = strchr(s, ']');
            if (!e)
                break;
            s = e + 1;
            continue;
        }
        static const char *const pre[] = { "re:", "fwd:", "fw:", "aw:", "sv:", "vs:", "antw:" };
        bool hit = false;
        for (size_t i = 0; i < G_N_ELEMENTS(pre); i++)
            if (g_ascii_strncasecmp(s, pre[i], strlen(pre[i])) == 0) {
                s += strlen(pre[i]);
                hit = true;
                break;
            }
        if (!hit)
            break;
    }
    return s ? s : "";
}

static const char *const verbs[] = {
    "help", "join", "subscribe", "leave", "unsubscribe", "mode", "digest", "who", "confirm",
    "approve", "reject",
};

/* The command word at the start of `line` (a static string), or NULL; *arg
 * gets the rest of the line, trimmed (transfer full). */
static const char *
verb_of(const char *line, char **arg)
{
    while (*line == ' ' || *line == '\t')
        line++;
    size_t n = 0;
    while (g_ascii_isalpha(line[n]))
        n++;
    /* "leave", "leave planning", "reject: reason", "Unsubscribe." */
    bool stop = line[n] && strchr(".!", line[n]) && (!line[n + 1] || g_ascii_isspace(line[n + 1]));
    if (n == 0 || (line[n] && !g_ascii_isspace(line[n]) && line[n] != ':' && !stop))
        return NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
        if (strlen(verbs[i]) == n && g_ascii_strncasecmp(line, verbs[i], n) == 0) {
            const char *rest = line + n;
            if (*rest == ':' || stop)
                rest++;
            *arg = g_strstrip(g_strdup(rest));
            return verbs[i];
        }
    return NULL;
}

static bool
staff_address(const cor_config_t *cfg, const char *address)
{
    return cor_address_in_domains(address, cor_config_list(cfg, "filters", "staff_domains"));
}

static const char *
member_role(request_t *rq, cor_member_detail_t **m)
{
    *m = NULL;
    if (cor_store_member_get(rq->st, rq->g->id, rq->sender, m) != COR_OK)
        return NULL;
    return (*m)->m.role;
}

static void
help_text(request_t *rq)
{
    const char *g = rq->g->name, *d = rq->domain;
    g_string_append_printf(rq->reply,
        "The group %s (%s@%s)%s%s\n\n"
        "To post, write to %s@%s.\n"
        "Commands go to %s-request@%s, in the subject or as the first line:\n\n"
        "  join              join the group (or write to %s-join@%s)\n"
        "  leave             leave the group (or write to %s-leave@%s)\n"
        "  mode each         every message as it is posted\n"
        "  mode digest       one digest a day\n"
        "  mode none         no mail; read the archive instead\n"
        "  digest combined   one digest for all your groups in digest mode\n"
        "  digest separate   one digest per group (the default)\n"
        "  digest format F   multipart (text and HTML, the default), rfc1153\n"
        "                    (plain text) or mime (the messages attached)\n"
        "  who               the members (owners and moderators only)\n"
        "  help              this text\n\n"
        "The archive: %sg/%s/\n",
        g, g, d, *rq->g->title ? ": " : "", rq->g->title, g, d, g, d, g, d, g, d,
        rq->c->base_url, g);
}

static cor_status_t
welcome_text(request_t *rq)
{
    g_autoptr(cor_member_detail_t) m = NULL;
    cor_status_t s = cor_store_member_get(rq->st, rq->g->id, rq->sender, &m);
    if (s != COR_OK)
        return s;
    g_string_append_printf(rq->reply,
        "You have joined %s%s%s.  You get every message as it is posted;\n"
        "reply \"mode digest\" for one digest a day, or \"mode none\" for no mail.\n\n"
        "To leave at any time: %su/%s\n"
        "or write to %s-leave@%s.\n\n",
        rq->g->name, *rq->g->title ? " — " : "", rq->g->title, rq->c->base_url, m->token,
        rq->g->name, rq->domain);
    return COR_OK;
}

static cor_status_t
do_join(request_t *rq)
{
    g_autoptr(cor_member_detail_t) m = NULL;
    if (member_role(rq, &m)) {
        g_string_append_printf(rq->reply, "%s is a member of %s already.\n", rq->sender, rq->g->name);
        return COR_OK;
    }
    if (rq->g->visibility == COR_VISIBILITY_PRIVATE) {
        g_string_append_printf(rq->reply,
            "%s is a private group: only its owners can add members.\n"
            "Write to %s-owner@%s to ask.\n", rq->g->name, rq->g->name, rq->domain);
        return COR_OK;
    }
    const char *const *staff = cor_config_list(rq->c->cfg, "filters", "staff_domains");
    if (rq->g->visibility == COR_VISIBILITY_STAFF && staff && staff[0] && *staff[0] &&
        !staff_address(rq->c->cfg, rq->sender)) {
        g_string_append_printf(rq->reply,
            "%s is open to staff only: %s is not a staff address.\n"
            "Write to %s-owner@%s to ask.\n", rq->g->name, rq->sender, rq->g->name, rq->domain);
        return COR_OK;
    }
    if (staff_address(rq->c->cfg, rq->sender)) {
        cor_status_t s = cor_store_member_join(rq->st, rq->g->id, rq->sender, rq->msg->from_name,
                                               "email", NULL);
        if (s != COR_OK)
            return s;
        cor_log_info("command: %s joined %s by email", rq->sender, rq->g->name);
        return welcome_text(rq);
    }
    /* from outside: the address must show it asked */
    g_autofree char *token = NULL;
    cor_status_t s = cor_store_token_new(rq->st, "join", rq->g->id, rq->sender, 0,
                                         rq->msg->from_name, rq->c->confirm_ttl, &token);
    if (s != COR_OK)
        return s;
    g_free(rq->reply_subject);
    rq->reply_subject = g_strdup_printf("confirm %s: join %s", token, rq->g->name);
    g_string_append_printf(rq->reply,
        "Someone (probably you) asked for %s to join the group %s.\n\n"
        "To confirm, reply to this message, keeping the subject as it is.\n"
        "If you did not ask, ignore this message: nothing happens.\n"
        "The request expires in %" G_GINT64_FORMAT " days.\n",
        rq->sender, rq->g->name, rq->c->confirm_ttl / 86400);
    cor_log_info("command: join %s from outside address %s: confirmation sent", rq->g->name,
                 rq->sender);
    return COR_OK;
}

/* Takes the one-time token `token` of `kind` if it is this request's: its
 * group's (and, with `own`, the sender's).  A token that is someone else's
 * stays theirs (the savepoint undoes the take).  COR_ERR_NOT_FOUND when there
 * is none, it expired, or it is not this request's. */
static cor_status_t
take_token(request_t *rq, const char *token, const char *kind, bool own, cor_token_t **out)
{
    *out = NULL;
    if (!token)
        return COR_ERR_NOT_FOUND;
    cor_status_t s = cor_store_savepoint(rq->st);
    if (s != COR_OK)
        return s;
    g_autoptr(cor_token_t) t = NULL;
    s = cor_store_token_take(rq->st, token, kind, &t);
    if (s == COR_OK && t->group_id == rq->g->id &&
        (!own || g_ascii_strcasecmp(t->address, rq->sender) == 0)) {
        if ((s = cor_store_savepoint_release(rq->st)) != COR_OK)
            return s;
        *out = g_steal_pointer(&t);
        return COR_OK;
    }
    cor_status_t rs = cor_store_savepoint_rollback(rq->st);
    if (rs != COR_OK)
        return rs;
    return s == COR_OK ? COR_ERR_NOT_FOUND : s;
}

static cor_status_t
do_confirm(request_t *rq, const char *token)
{
    g_autoptr(cor_token_t) t = NULL;
    cor_status_t s = take_token(rq, token, "join", true, &t);
    if (s == COR_ERR_NOT_FOUND) {
        g_string_append(rq->reply, "That confirmation is unknown, used already, expired, or not "
                                   "for this address.\nSend \"join\" again to get a new one.\n");
        return COR_OK;
    }
    if (s != COR_OK)
        return s;
    if ((s = cor_store_member_join(rq->st, rq->g->id, t->address, *t->data ? t->data : NULL,
                                   "email", NULL)) != COR_OK)
        return s;
    cor_log_info("command: %s joined %s (confirmed)", t->address, rq->g->name);
    return welcome_text(rq);
}

static cor_status_t
do_leave(request_t *rq)
{
    cor_status_t s = cor_store_member_leave(rq->st, rq->g->id, rq->sender, "email");
    if (s == COR_ERR_NOT_FOUND) {
        /* the opt-out stands all the same: a directory sync will not add them */
        g_string_append_printf(rq->reply, "%s is not a member of %s, and will not be added to it "
                                          "by the staff directory.\n", rq->sender, rq->g->name);
        return COR_OK;
    }
    if (s != COR_OK)
        return s;
    cor_log_info("command: %s left %s by email", rq->sender, rq->g->name);
    g_string_append_printf(rq->reply,
        "You have left %s and will get no more mail from it.\n"
        "The archive stays open to you: %sg/%s/\n"
        "To join again, write to %s-join@%s.\n",
        rq->g->name, rq->c->base_url, rq->g->name, rq->g->name, rq->domain);
    return COR_OK;
}

static cor_status_t
do_mode(request_t *rq, const char *arg)
{
    g_autofree char *mode = g_ascii_strdown(arg ? arg : "", -1);
    char *sp = strpbrk(mode, " \t");
    if (sp)
        *sp = '\0';
    if (!cor_member_mode_valid(mode)) {
        g_string_append_printf(rq->reply, "\"%s\" is not a delivery mode: use each, digest or none.\n",
                               mode);
        return COR_OK;
    }
    cor_status_t s = cor_store_member_set(rq->st, rq->g->id, rq->sender, NULL, mode, NULL);
    if (s == COR_ERR_NOT_FOUND) {
        g_string_append_printf(rq->reply, "%s is not a member of %s; send \"join\" first.\n",
                               rq->sender, rq->g->name);
        return COR_OK;
    }
    if (s != COR_OK)
        return s;
    cor_log_info("command: %s set mode %s in %s", rq->sender, mode, rq->g->name);
    g_string_append_printf(rq->reply, "Your delivery mode in %s is now %s.\n", rq->g->name, mode);
    return COR_OK;
}

/* digest combined|separate, digest format multipart|rfc1153|mime: the
 * sender's digest choices (store.h digest_prefs), for all their groups */
static cor_status_t
do_digest(request_t *rq, const char *arg)
{
    g_autoptr(cor_member_detail_t) m = NULL;
    if (!member_role(rq, &m)) {
        g_string_append_printf(rq->reply, "%s is not a member of %s; send \"join\" first.\n",
                               rq->sender, rq->g->name);
        return COR_OK;
    }
    g_autofree char *a = g_ascii_strdown(arg ? arg : "", -1);
    g_auto(GStrv) w = g_strsplit_set(a, " \t", -1);
    const char *first = w[0] ? w[0] : "";
    const char *second = first[0] && w[1] ? w[1] : "";
    for (size_t i = 1; w[i] && !*second; i++)
        second = w[i];
    bool combined = false;
    const char *format = NULL;
    cor_status_t s = COR_OK;
    if (strcmp(first, "combined") == 0 || strcmp(first, "separate") == 0) {
        combined = strcmp(first, "combined") == 0;
        s = cor_store_digest_prefs_set(rq->st, rq->sender, &combined, NULL);
    } else if (strcmp(first, "format") == 0 &&
               (strcmp(second, "multipart") == 0 || strcmp(second, "rfc1153") == 0 ||
                strcmp(second, "mime") == 0)) {
        format = second;
        s = cor_store_digest_prefs_set(rq->st, rq->sender, NULL, format);
    } else {
        g_string_append(rq->reply, "Send \"digest combined\", \"digest separate\" or \"digest "
                                   "format multipart|rfc1153|mime\".\n");
        return COR_OK;
    }
    if (s != COR_OK)
        return s;
    cor_log_info("command: %s set digest %s%s", rq->sender, format ? "format " : "", format ? format : first);
    if (format)
        g_string_append_printf(rq->reply, "Your digests now come as %s.\n",
                               strcmp(format, "multipart") == 0 ? "text and HTML (multipart)"
                               : strcmp(format, "rfc1153") == 0 ? "one plain-text message (RFC 1153)"
                               : "the messages themselves, attached (MIME digest)");
    else
        g_string_append_printf(rq->reply, "%s\nA group sends you digests when your mode there is "
                                          "digest (\"mode digest\").\n",
                               combined ? "You now get one digest a day for all your groups in "
                                          "digest mode."
                                        : "You now get one digest per group.");
    return COR_OK;
}

static cor_status_t
do_who(request_t *rq)
{
    g_autoptr(cor_member_detail_t) m = NULL;
    const char *role = member_role(rq, &m);
    if (!role || strcmp(role, "member") == 0) {
        g_string_append_printf(rq->reply, "Only the owners and moderators of %s may see who its "
                                          "members are.\n", rq->g->name);
        return COR_OK;
    }
    g_autoptr(GPtrArray) list = NULL;
    cor_status_t s = cor_store_member_list(rq->st, rq->g->id, &list);
    if (s != COR_OK)
        return s;
    g_string_append_printf(rq->reply, "Members of %s (%u):\n\n", rq->g->name, list->len);
    for (guint i = 0; i < list->len; i++) {
        cor_member_t *x = list->pdata[i];
        g_string_append_printf(rq->reply, "  %s  %s%s%s%s\n", x->address, x->mode,
                               strcmp(x->role, "member") ? ", " : "",
                               strcmp(x->role, "member") ? x->role : "",
                               strcmp(x->status, "enabled") ? " (disabled)" : "");
    }
    return COR_OK;
}

/* approve|reject TOKEN: only a moderator or owner of the post's group */
static cor_status_t
do_moderate(request_t *rq, bool approve, const char *token, const char *reason)
{
    g_autoptr(cor_member_detail_t) m = NULL;
    const char *role = member_role(rq, &m);
    if (!role || strcmp(role, "member") == 0) {
        g_string_append_printf(rq->reply, "Only the moderators and owners of %s may decide on held "
                                          "posts.\n", rq->g->name);
        return COR_OK;
    }
    g_autoptr(cor_token_t) t = NULL;
    cor_status_t s = take_token(rq, token, "moderate", false, &t);
    if (s == COR_ERR_NOT_FOUND) {
        g_string_append(rq->reply, "That moderation request is unknown or was decided already.\n");
        return COR_OK;
    }
    if (s != COR_OK)
        return s;
    g_autoptr(cor_held_t) h = NULL;
    if ((s = cor_store_held_get(rq->st, t->ref, &h, NULL)) != COR_OK)
        return s;
    if (strcmp(h->status, "held") != 0) {
        g_string_append_printf(rq->reply, "The post \"%s\" was %s already%s%s.\n", h->subject,
                               h->status, *h->decided_by ? " by " : "", h->decided_by);
        return COR_OK;
    }
    g_autofree char *by = g_strdup_printf("%s (email)", rq->sender);
    if (approve) {
        g_autofree char *err = NULL;
        int64_t copies = 0;
        if ((s = cor_held_approve_in(rq->st, t->ref, by, NULL, &copies, &err)) != COR_OK) {
            if (s == COR_ERR_INVALID || s == COR_ERR_PARSE) {
                g_string_append_printf(rq->reply, "The post cannot be approved: %s\n", err);
                return COR_OK;
            }
            return s;
        }
        cor_log_info("moderation: held post %" G_GINT64_FORMAT " in %s approved by %s",
                     t->ref, rq->g->name, rq->sender);
        g_string_append_printf(rq->reply, "Approved: \"%s\" from %s is posted to %s (%" G_GINT64_FORMAT
                               " copies queued).\n", h->subject, h->from_addr, rq->g->name, copies);
        if (copies > 0)
            rq->queued++;
        return COR_OK;
    }
    if ((s = cor_store_held_decide(rq->st, t->ref, "rejected", (int64_t) time(NULL), by,
                                   reason ? reason : "")) != COR_OK)
        return s;
    cor_log_info("moderation: held post %" G_GINT64_FORMAT " in %s rejected by %s", t->ref,
                 rq->g->name, rq->sender);
    g_string_append_printf(rq->reply, "Rejected: \"%s\" from %s.\n", h->subject, h->from_addr);
    /* the author hears why, unless the post was held as spam or had no sender */
    if (*h->from_addr && strcmp(h->filter, "spam") != 0 && *h->env_from) {
        g_autofree char *subj = g_strdup_printf("Your post to %s was not accepted: %s", rq->g->name,
                                                h->subject);
        g_autofree char *text = g_strdup_printf(
            "Your message \"%s\" to %s@%s was not accepted by the group's moderators.\n%s%s%s",
            h->subject, rq->g->name, rq->domain, reason && *reason ? "\nTheir reason:\n\n" : "",
            reason ? reason : "", reason && *reason ? "\n" : "");
        const char *to[] = { h->from_addr, NULL };
        cor_notice_t n = {
            .kind = "notice", .group_id = rq->g->id, .group = rq->g->name, .domain = rq->domain,
            .to = to, .subject = subj, .text = text, .in_reply_to = h->message_id,
            .null_sender = true,
        };
        if ((s = cor_notice_queue(rq->st, &n, NULL)) != COR_OK)
            return s;
        rq->queued++;
    }
    return COR_OK;
}

/* Whether `l` ends the part of a reply its author wrote: a signature, or
 * what mail clients put above the message replied to. */
static bool
reply_boundary(const char *l)
{
    static const char *const starts[] = {
        "-----Original Message", "-----Ursprüngliche Nachricht", "From:", "Von:", "Sent from my ",
    };
    if (strcmp(l, "--") == 0)
        return true;
    for (size_t i = 0; i < G_N_ELEMENTS(starts); i++)
        if (g_ascii_strncasecmp(l, starts[i], strlen(starts[i])) == 0)
            return true;
    /* Outlook's rule above the original: a line of underscores */
    size_t n = strspn(l, "_");
    return n >= 8 && l[n] == '\0';
}

/* The body lines a command may be on: non-empty, not quoted, before the
 * signature or the message replied to, at most 10 (transfer full). */
static GPtrArray *
command_lines(const char *body)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) lines = g_strsplit(body ? body : "", "\n", 40);
    for (size_t i = 0; lines[i] && out->len < 10; i++) {
        char *l = g_strstrip(lines[i]);
        if (!*l || *l == '>')
            continue;
        if (reply_boundary(l))
            break;
        if (g_str_has_suffix(l, "wrote:") || g_str_has_suffix(l, "writes:")) {
            /* "On DATE, NAME <ADDRESS> wrote:", maybe wrapped over two lines */
            if (out->len > 0 && !g_str_has_prefix(l, "On ") &&
                g_str_has_prefix((char *) out->pdata[out->len - 1], "On "))
                g_ptr_array_remove_index(out, out->len - 1);
            break;
        }
        g_ptr_array_add(out, g_strdup(l));
    }
    return out;
}

/* Whether a command word found on a body line is meant as a command, by
 * what follows it: "join" or "leave planning" are, "Leave the booking to
 * me" or "Join us at 3" in a reply are not. */
static bool
plausible(const char *verb, const char *arg, const cor_group_t *g, const char *domain)
{
    if (strcmp(verb, "help") == 0 || strcmp(verb, "reject") == 0)
        return true;
    if (strcmp(verb, "confirm") == 0 || strcmp(verb, "approve") == 0) {
        g_autofree char *t = find_token(arg);
        return !*arg || t;
    }
    g_auto(GStrv) words = g_strsplit_set(arg, " \t", -1);
    guint n = 0;
    for (size_t i = 0; words[i]; i++)
        n += *words[i] != '\0';
    if (strcmp(verb, "mode") == 0)
        return n == 1;
    if (strcmp(verb, "digest") == 0)   /* digest combined | digest format mime */
        return n == 1 || (n == 2 && g_ascii_strncasecmp(arg, "format", 6) == 0);
    /* join, subscribe, leave, unsubscribe, who: nothing, or little more */
    g_autofree char *address = g_strdup_printf("%s@%s", g->name, domain);
    for (size_t i = 0; words[i]; i++) {
        char *w = words[i];
        size_t len = strlen(w);
        while (len > 0 && strchr(".,!:;", w[len - 1]))
            w[--len] = '\0';
        if (*w && g_ascii_strcasecmp(w, "me") != 0 && g_ascii_strcasecmp(w, "please") != 0 &&
            g_ascii_strcasecmp(w, g->name) != 0 && g_ascii_strcasecmp(w, address) != 0)
            return false;
    }
    return true;
}

static cor_status_t
handle_request(cor_control_t *c, cor_store_t *st, const cor_control_mail_t *cm, cor_group_t *g,
               const char *domain, char **note, guint *queued)
{
    gsize len;
    const char *raw = g_bytes_get_data(cm->raw, &len);
    raw = raw ? raw : "";
    g_autoptr(cor_message_t) msg = NULL;
    g_autofree char *perr = NULL;
    if (cor_message_parse_ex(raw, len, cm->received, COR_PARSE_SUMMARY | COR_PARSE_EDGES, &msg,
                             &perr) != COR_OK) {
        *note = g_strdup_printf("unreadable: %s", perr ? perr : "");
        return COR_OK;
    }
    g_autoptr(cor_headers_t) h = cor_headers_parse(raw, len);
    g_autofree char *bounce = cor_bounce_detect(msg, h, cm->env_from);
    if (bounce) {
        cor_control_mail_t as_bounce = *cm;
        return handle_bounce(c, st, &as_bounce, domain, note);
    }
    g_autofree char *auto_reply = cor_autoreply_detect(msg, h, cm->env_from);
    /* GROUP-leave@ is written only in List-Unsubscribe: what arrives there is
     * a mail client's unsubscribe, often marked auto-generated.  It is
     * carried out (never answered); anything else automatic is ignored. */
    bool leave_addr = strcmp(cm->detail, "leave") == 0;
    if ((auto_reply && !leave_addr) || !*cm->env_from || cor_message_id_generated(msg->message_id)) {
        /* never answer an auto-reply, the null sender, or ourselves */
        *note = g_strdup_printf("not answered (%s)", auto_reply ? auto_reply
                                                   : !*cm->env_from ? "null sender"
                                                                    : "corridor's own mail");
        return COR_OK;
    }
    const char *sender = *msg->from_addr ? msg->from_addr : cm->env_from;
    g_autofree char *sender_l = g_ascii_strdown(sender, -1);
    request_t rq = { c, st, cm, g, domain, msg, sender_l, g_string_new(NULL), NULL, 0 };

    g_autoptr(GPtrArray) lines = command_lines(msg->body_head);
    const char *subject = strip_subject(msg->subject);
    const char *verb = NULL;
    g_autofree char *arg = NULL;
    gint at = -1;          /* the body line of the command, -1: the subject */
    if (strcmp(cm->detail, "join") == 0 || strcmp(cm->detail, "leave") == 0) {
        /* GROUP-join@, GROUP-leave@: the verb is in the address */
        for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
            if (strcmp(verbs[i], cm->detail) == 0)
                verb = verbs[i];
    } else {
        /* A reply to a moderation request or a join confirmation (the
         * subject starts with "approve TOKEN" or "confirm TOKEN") means that,
         * unless the text says "reject"; other command words in it are
         * ordinary words.  Anything else: the first body line with a command
         * meant as one, else the subject. */
        g_autofree char *sarg = NULL;
        const char *sverb = verb_of(subject, &sarg);
        g_autofree char *stoken = find_token(sarg);
        bool moderation = sverb && stoken && strcmp(sverb, "approve") == 0;
        bool confirmation = sverb && stoken && strcmp(sverb, "confirm") == 0;
        for (guint i = 0; !verb && i < lines->len; i++) {
            g_autofree char *a = NULL;
            const char *v = verb_of(lines->pdata[i], &a);
            if (!v)
                continue;
            bool ok = moderation     ? strcmp(v, "approve") == 0 || strcmp(v, "reject") == 0
                      : confirmation ? strcmp(v, "confirm") == 0
                                     : plausible(v, a, g, domain);
            if (ok) {
                verb = v;
                arg = g_steal_pointer(&a);
                at = (gint) i;
            }
        }
        if (!verb) {
            verb = sverb;
            arg = g_steal_pointer(&sarg);
        }
    }
    g_autofree char *token = find_token(arg);
    if (!token)
        token = find_token(msg->subject);
    /* a reason for a rejection: what follows the word (but the token), and
     * the body lines after the command's */
    g_autofree char *reason = NULL;
    if (verb && strcmp(verb, "reject") == 0) {
        GString *r = g_string_new(NULL);
        const char *rest = arg ? arg : "";
        bool subject_token = at < 0 && token && g_str_has_prefix(rest, token);
        if (token && g_str_has_prefix(rest, token))
            rest += strlen(token);
        while (*rest == ':' || *rest == ' ' || *rest == '-' || *rest == '\t')
            rest++;
        if (!subject_token)        /* not the subject's "reject TOKEN: held post..." */
            g_string_append(r, rest);
        for (guint i = (guint) (at + 1); i < lines->len; i++)
            g_string_append_printf(r, "%s%s", r->len ? "\n" : "", (char *) lines->pdata[i]);
        reason = g_string_free(r, FALSE);
    }

    cor_status_t s = COR_OK;
    const char *done = verb ? verb : "unknown";
    if (!verb) {
        g_string_append(rq.reply, "corridor did not find a command in your message.\n\n");
        help_text(&rq);
    } else if (strcmp(verb, "help") == 0) {
        help_text(&rq);
    } else if (strcmp(verb, "join") == 0 || strcmp(verb, "subscribe") == 0) {
        s = do_join(&rq);
    } else if (strcmp(verb, "confirm") == 0) {
        s = do_confirm(&rq, token);
    } else if (strcmp(verb, "leave") == 0 || strcmp(verb, "unsubscribe") == 0) {
        s = do_leave(&rq);
    } else if (strcmp(verb, "mode") == 0) {
        s = do_mode(&rq, arg);
    } else if (strcmp(verb, "digest") == 0) {
        s = do_digest(&rq, arg);
    } else if (strcmp(verb, "who") == 0) {
        s = do_who(&rq);
    } else if (strcmp(verb, "approve") == 0 || strcmp(verb, "reject") == 0) {
        s = do_moderate(&rq, strcmp(verb, "approve") == 0, token, reason);
    }
    if (s == COR_OK && rq.reply->len > 0 && !auto_reply) {
        g_autofree char *subj = rq.reply_subject ? g_strdup(rq.reply_subject)
                                                 : g_strdup_printf("Re: %s", *msg->subject
                                                                   ? msg->subject : done);
        const char *to[] = { sender_l, NULL };
        cor_notice_t n = {
            .kind = "command", .group_id = g->id, .group = g->name, .domain = domain, .to = to,
            .subject = subj, .text = rq.reply->str, .in_reply_to = msg->message_id,
            .null_sender = true,
        };
        s = cor_notice_queue(st, &n, NULL);
        rq.queued++;
    }
    *note = g_strdup_printf("command %s from %s", done, sender_l);
    *queued += rq.queued;
    g_string_free(rq.reply, TRUE);
    g_free(rq.reply_subject);
    return s;
}

static cor_status_t
handle_owner(cor_store_t *st, const cor_control_mail_t *cm, cor_group_t *g, const char *domain,
             char **note, guint *queued)
{
    gsize len;
    const char *raw = g_bytes_get_data(cm->raw, &len);
    raw = raw ? raw : "";
    g_autoptr(cor_message_t) msg = NULL;
    if (cor_message_parse_summary(raw, len, cm->received, &msg, NULL) == COR_OK) {
        g_autoptr(cor_headers_t) h = cor_headers_parse(raw, len);
        g_autofree char *ar = cor_autoreply_detect(msg, h, cm->env_from);
        g_autofree char *bo = cor_bounce_detect(msg, h, cm->env_from);
        if (ar || bo || cor_message_id_generated(msg->message_id)) {
            *note = g_strdup_printf("not passed on (%s)", ar ? ar : bo ? bo : "corridor's own mail");
            return COR_OK;
        }
    }
    g_autoptr(GPtrArray) to = NULL;
    cor_status_t s = cor_store_member_staff(st, g->id, "owner", &to);
    if (s != COR_OK)
        return s;
    if (to->len == 0) {
        *note = g_strdup("no owners to pass it to");
        return COR_OK;
    }
    g_ptr_array_add(to, NULL);
    /* passed on as corridor's own message with the original attached whole:
     * marked auto-generated like everything corridor sends, and no DMARC
     * failure for a From: that is not ours */
    const char *who = msg && *msg->from_addr ? msg->from_addr : cm->env_from;
    g_autofree char *subject = g_strdup_printf("For the owners of %s: %s", g->name,
                                               msg ? msg->subject : "");
    g_autofree char *text = g_strdup_printf(
        "%s wrote to %s-owner@%s; their message is attached.\n"
        "Reply to them directly: %s\n", *who ? who : "Someone", g->name, domain,
        *who ? who : "(no address)");
    g_autofree char *from = g_strdup_printf("%s-request@%s", g->name, domain);
    g_autofree char *from_name = g_strdup_printf("%s (corridor)", g->name);
    g_autofree char *to_text = g_strjoinv(", ", (char **) to->pdata);
    cor_mailgen_t mg = {
        .kind = "owner", .domain = domain, .group = g->name, .from_name = from_name,
        .from_addr = from, .to = to_text, .subject = subject, .text = text,
        .reply_to = *who ? who : NULL, .attach = raw, .attach_len = len,
    };
    size_t blen;
    g_autofree char *bytes = cor_mailgen_build(&mg, &blen, NULL);
    g_autofree char *env = g_strdup_printf("%s-bounces@%s", g->name, domain);
    s = cor_store_outbox_add(st, "owner", g->id, domain, env, bytes, blen,
                             (const char *const *) to->pdata, NULL);
    if (s == COR_OK) {
        (*queued)++;
        *note = g_strdup_printf("passed on to %u owner(s)", to->len - 1);
    }
    return s;
}

static cor_status_t
handle_one(cor_control_t *c, cor_store_t *st, const cor_control_mail_t *cm, char **note,
           guint *queued)
{
    g_autoptr(GPtrArray) groups = NULL;
    cor_status_t s = cor_store_group_list(st, false, &groups);
    if (s != COR_OK)
        return s;
    cor_group_t *g = NULL;
    for (guint i = 0; i < groups->len; i++)
        if (((cor_group_t *) groups->pdata[i])->id == cm->group_id)
            g = groups->pdata[i];
    if (!g) {
        *note = g_strdup("the group is gone");
        return COR_OK;
    }
    const char *at = strrchr(cm->rcpt, '@');
    const char *domain = at ? at + 1 : cor_config_list_domain(c->cfg);
    if (strcmp(cm->kind, "bounces") == 0)
        return handle_bounce(c, st, cm, domain, note);
    if (strcmp(cm->kind, "owner") == 0)
        return handle_owner(st, cm, g, domain, note, queued);
    return handle_request(c, st, cm, g, domain, note, queued);
}

cor_status_t
cor_control_run(cor_control_t *c, cor_store_t *st, guint max, guint *handled, guint *queued)
{
    *handled = 0;
    *queued = 0;
    int64_t after = 0;
    while (*handled < max) {
        g_autoptr(cor_control_mail_t) cm = NULL;
        cor_status_t s = cor_store_control_next(st, after, &cm);
        if (s != COR_OK)
            return s;
        if (!cm)
            return COR_OK;
        after = cm->id;
        if ((s = cor_store_begin(st)) != COR_OK)
            return s;
        g_autofree char *note = NULL;
        guint q = 0;
        s = handle_one(c, st, cm, &note, &q);
        if (s == COR_OK)
            s = cor_store_control_done(st, cm->id, "done", note);
        if (s == COR_OK)
            s = cor_store_commit(st);
        if (s != COR_OK) {
            /* a store failure: nothing of it happened; the row is tried again */
            cor_log_warning("control mail %" G_GINT64_FORMAT ": %s", cm->id, cor_store_error(st));
            cor_store_rollback(st);
            return s;
        }
        cor_log_info("control mail %" G_GINT64_FORMAT " to %s: %s", cm->id, cm->rcpt,
                     note ? note : "done");
        (*handled)++;
        *queued += q;
    }
    return COR_OK;
}

/* ---- moderation requests ---- */

cor_status_t
cor_control_hold_request(cor_store_t *st, int64_t group_id, const char *group, const char *domain,
                         int64_t held_id, const cor_message_t *msg, const char *filter,
                         const char *reason)
{
    g_autoptr(GPtrArray) to = NULL;
    cor_status_t s = cor_store_member_staff(st, group_id, NULL, &to);
    if (s != COR_OK || to->len == 0)
        return s;
    g_autofree char *token = NULL;
    if ((s = cor_store_token_new(st, "moderate", group_id, "", held_id, "", MODERATE_TTL, &token)) !=
        COR_OK)
        return s;
    g_autofree char *subject = g_strdup_printf("approve %s: held post to %s: %s", token, group,
                                               msg->subject);
    GString *t = g_string_new(NULL);
    g_string_append_printf(t,
        "A post to %s@%s is waiting for a moderator.\n\n"
        "  From:    %s%s%s%s\n"
        "  Subject: %s\n"
        "  Held by: %s (%s)\n\n"
        "To approve it, reply to this message (keep the subject).\n"
        "To reject it, reply with the word reject as the first line;\n"
        "a reason for the sender may follow on the next lines.\n"
        "Or on the server: corridor held approve %" G_GINT64_FORMAT "\n\n"
        "The start of the post:\n\n",
        group, domain, msg->from_name, *msg->from_name ? " <" : "", msg->from_addr,
        *msg->from_name ? ">" : "", msg->subject, filter, reason, held_id);
    g_autofree char *head = g_strchomp(g_strdup(msg->body_head ? msg->body_head : ""));
    g_auto(GStrv) lines = g_strsplit(head, "\n", 16);
    for (size_t i = 0; lines[i] && i < 15; i++)
        g_string_append_printf(t, "|%s%s\n", *g_strchomp(lines[i]) ? " " : "", lines[i]);
    g_ptr_array_add(to, NULL);
    cor_notice_t n = {
        .kind = "moderate", .group_id = group_id, .group = group, .domain = domain,
        .to = (const char *const *) to->pdata, .subject = subject, .text = t->str,
    };
    s = cor_notice_queue(st, &n, NULL);
    g_string_free(t, TRUE);
    return s;
}
