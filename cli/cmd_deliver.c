/* cli/cmd_deliver.c — `corridor deliver --group NAME`: one message from
 * stdin, through the same acceptance path as LMTP, for MTAs that pipe
 * (Postfix pipe(8), Exim's pipe transport, procmail).
 *
 * The exit status is what those MTAs understand (sysexits.h):
 *   0   stored (or already stored: a redelivery)
 *   64  EX_USAGE      bad command line
 *   65  EX_DATAERR    the message cannot be accepted (too big, unreadable)
 *   67  EX_NOUSER     no such group (or not one of the list domains)
 *   75  EX_TEMPFAIL   the store is busy, full or failing: try again later
 *   77  EX_NOPERM     the group's filters refused it (550 5.7.1: a protective
 *                     marking, a sender who may not post, a refused attachment)
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/ingest.h"
#include "filters/headers.h"
#include "mta-bridge/intake.h"
#include "mta-bridge/lmtp.h"

#define EX_OK 0
#define EX_USAGE 64
#define EX_DATAERR 65
#define EX_NOUSER 67
#define EX_TEMPFAIL 75
#define EX_NOPERM 77

static int
exit_code(cor_status_t s)
{
    const cor_smtp_reply_t *r = cor_status_smtp(s);
    if (COR_SUCCEEDED(s))
        return EX_OK;
    if (r->code / 100 == 4)
        return EX_TEMPFAIL;
    if (s == COR_ERR_NO_GROUP || s == COR_ERR_BAD_DOMAIN || s == COR_ERR_NOT_FOUND)
        return EX_NOUSER;
    if (r->code == 550 && strcmp(r->enhanced, "5.7.1") == 0)
        return EX_NOPERM;         /* a group's filters refused it (marking, policy...) */
    return EX_DATAERR;
}

/* Reads stdin up to `max` bytes: CRLF becomes LF, a leading mbox "From "
 * line (procmail, pipe flags=F) is dropped, its address kept in *from_line
 * (transfer full, NULL when there is none).  NULL when over `max`. */
static GBytes *
read_message(uint64_t max, bool *too_big, char **from_line, char **err)
{
    GByteArray *buf = g_byte_array_new();
    char chunk[65536];
    size_t n;
    *too_big = false;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
        if (buf->len + n > max + 2 * 1024 * 1024) {    /* CRs may still go */
            *too_big = true;
            break;
        }
        g_byte_array_append(buf, (guint8 *) chunk, n);
    }
    if (ferror(stdin)) {
        *err = g_strdup("cannot read the message from standard input");
        g_byte_array_unref(buf);
        return NULL;
    }
    size_t w = 0, start = 0;
    if (buf->len >= 5 && memcmp(buf->data, "From ", 5) == 0) {
        guint8 *lf = memchr(buf->data, '\n', buf->len);
        start = lf ? (size_t) (lf - buf->data) + 1 : buf->len;
        /* "From ADDRESS DATE": the envelope sender ("MAILER-DAEMON" is how
         * mbox writes the null sender) */
        size_t e = 5;
        while (e < start && buf->data[e] != ' ' && buf->data[e] != '\r' && buf->data[e] != '\n')
            e++;
        *from_line = g_strndup((const char *) buf->data + 5, e - 5);
        if (g_ascii_strcasecmp(*from_line, "MAILER-DAEMON") == 0 || strcmp(*from_line, "<>") == 0)
            (*from_line)[0] = '\0';
    }
    for (size_t r = start; r < buf->len; r++) {
        if (buf->data[r] == '\r' && r + 1 < buf->len && buf->data[r + 1] == '\n')
            continue;
        buf->data[w++] = buf->data[r];
    }
    g_byte_array_set_size(buf, (guint) w);
    if (w > max)
        *too_big = true;
    return g_byte_array_free_to_bytes(buf);
}

/* The Return-Path's address, else the From: address, else "unknown"
 * (transfer full). */
static char *
envelope_from_headers(GBytes *data)
{
    gsize len;
    const char *raw = g_bytes_get_data(data, &len);
    g_autoptr(cor_headers_t) h = cor_headers_parse(raw, len);
    const char *v = cor_headers_get(h, "Return-Path");
    if (!v)
        v = cor_headers_get(h, "From");
    if (!v)
        return g_strdup("unknown");
    const char *lt = strrchr(v, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    g_autofree char *a = lt && gt ? g_strndup(lt + 1, (size_t) (gt - lt - 1)) : g_strdup(v);
    g_strstrip(a);
    return g_steal_pointer(&a);
}

int
cmd_deliver(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *group = NULL, *sender = NULL, *recipient = NULL;
    GOptionEntry entries[] = {
        { "group", 'g', 0, G_OPTION_ARG_STRING, &group, "the group (or GROUP-request, ...)", "NAME" },
        { "recipient", 'r', 0, G_OPTION_ARG_STRING, &recipient,
          "the envelope recipient instead of --group (Postfix: ${recipient})", "ADDRESS" },
        { "sender", 'f', 0, G_OPTION_ARG_STRING, &sender, "the envelope sender (Postfix: ${sender})", "ADDRESS" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- store one message from standard input");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Exit status (sysexits): 0 stored, 65 message refused, 67 no such group,\n"
        "75 temporary failure (the MTA should retry), 77 refused by the group's filters.\n"
        "Without --sender the envelope sender is the mbox From_ line's, else the\n"
        "Return-Path, else the From: address; --sender '' is the null sender.");
    if (!cli_parse(ctx, &argc, &argv))
        return EX_USAGE;
    if (argc != 1 || (!group == !recipient)) {
        cli_error("usage: corridor deliver --group NAME | --recipient ADDRESS [--sender ADDRESS] < MESSAGE");
        return EX_USAGE;
    }
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return EX_TEMPFAIL;

    /* the recipient, resolved as LMTP's RCPT does */
    const char *addr = recipient ? recipient : group;
    const char *at = strrchr(addr, '@');
    g_autofree char *local = g_ascii_strdown(addr, at ? at - addr : -1);
    g_autofree char *domain = at ? g_ascii_strdown(at + 1, -1) : NULL;
    const char *const *domains = cor_config_list(cli->config, "lmtp", "domains");
    cor_lmtp_rcpt_t *r = g_new0(cor_lmtp_rcpt_t, 1);
    /* --group NAME has no domain: only the local part selects the group */
    cor_status_t s = cor_lmtp_resolve(st, domain ? domains : NULL, local, domain, r);
    if (s != COR_OK) {
        cor_lmtp_rcpt_free(r);
        if (s == COR_ERR_BAD_DOMAIN) {
            cli_error("'%s' is not in a list domain ([lmtp] domains)", addr);
            return EX_NOUSER;
        }
        if (s == COR_ERR_NO_GROUP) {
            cli_error("no group for '%s'", addr);
            return EX_NOUSER;
        }
        cli_error("cannot look up '%s': %s", addr, cor_store_error(st));
        return EX_TEMPFAIL;
    }
    /* with --group, the post address in the first list domain (the loop
     * filter compares the List-Id and X-Loop with it) */
    if (recipient)
        r->address = g_strdup(recipient);
    else if (domains && domains[0] && *domains[0])
        r->address = g_strdup_printf("%s@%s", group, domains[0]);
    else
        r->address = g_strdup(group);

    bool too_big;
    g_autofree char *err = NULL;
    uint64_t max = MIN((uint64_t) cor_config_int(cli->config, "lmtp", "max_message_size"),
                       COR_LMTP_SIZE_CAP);
    g_autofree char *from_line = NULL;
    GBytes *data = read_message(max, &too_big, &from_line, &err);
    if (!data) {
        cor_lmtp_rcpt_free(r);
        cli_error("%s", err);
        return EX_TEMPFAIL;
    }
    if (too_big) {
        cor_lmtp_rcpt_free(r);
        g_bytes_unref(data);
        cli_error("message refused: larger than [lmtp] max_message_size (%" G_GUINT64_FORMAT " bytes)", max);
        return EX_DATAERR;
    }
    cor_lmtp_envelope_t *env = g_new0(cor_lmtp_envelope_t, 1);
    env->session = g_strdup_printf("deliver-%d", (int) getpid());
    env->client = g_strdup("pipe");
    /* The envelope sender: --sender ("" is the null sender), else the mbox
     * From_ line's, else the Return-Path, else the From: address.  Never
     * the null sender by default: the filters would take every piped
     * message for a bounce. */
    if (sender)
        env->from = g_strdup(sender);
    else if (from_line)
        env->from = g_strdup(from_line);
    else
        env->from = envelope_from_headers(data);
    env->rcpts = g_ptr_array_new_with_free_func((GDestroyNotify) cor_lmtp_rcpt_free);
    g_ptr_array_add(env->rcpts, r);
    env->data = data;
    env->started_us = g_get_monotonic_time();
    cor_delivery_t *d = cor_delivery_new(env, (int64_t) time(NULL));
    cor_delivery_parse(d);
    cor_store_set_busy_timeout(st, cor_config_int(cli->config, "store", "busy_timeout") * 1000);
    g_autoptr(cor_filter_site_t) site = NULL;
    if (cor_filter_site_new(cli->config, &site, &err) != COR_OK) {
        cli_error("message not stored: %s", err);
        cor_delivery_free(d);
        return EX_TEMPFAIL;
    }
    cor_delivery_store(st, site, NULL, &d, 1, &err);
    cor_status_t result = d->results[0];
    int rc = exit_code(result);
    if (rc != EX_OK) {
        g_autofree char *reply = cor_lmtp_reply_text(result, d->details[0]);
        cli_error("message not stored: %s", reply);
    }
    cor_delivery_free(d);

    /* index it now when there is no backlog to work through (a pipe
     * delivery must not take on the indexing of everything waiting) and
     * nobody else is indexing; otherwise the daemon, or the next import or
     * deliver, catches up from the work queue */
    int64_t backlog = 0;
    if (rc == EX_OK && result == COR_OK && cor_store_work_count(st, "index", &backlog) == COR_OK &&
        backlog <= 16) {
        g_autofree char *ipath = cli_index_path(cli);
        cor_search_writer_t *w = NULL;
        g_autofree char *ierr = NULL;
        if (cor_search_writer_open(ipath, &w, &ierr) == COR_OK) {
            cor_ingest_options_t opt = { .workers = 1 };
            cor_ingest_stats_t stats;
            g_autofree char *cerr = NULL;
            cor_ingest_catch_up(st, w, &opt, &stats, &cerr);
            cor_search_writer_close(w);
        }
    }
    return rc;
}
