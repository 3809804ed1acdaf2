/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * bench/soak-load.c — the LMTP side of bench/soak.sh: N persistent LMTP
 * sessions delivering real mail for a bounded time, one line per delivery.
 *
 *   cc -O2 -pthread -o bench/out/soak/soak-load bench/soak-load.c
 *
 *   soak-load --connect unix:PATH|HOST:PORT --rcpt ADDR [--rcpt ADDR...]
 *             --mbox FILE --seconds S --log FILE [--clients N] [--rate R]
 *             [--tag T] [--from ADDR] [--lhlo NAME] [--timeout S]
 *             [--parts K] [--date-step S]
 *
 * It reuses bench/lmtp-load.c (included below, its main() renamed): the
 * mbox split and the DATA form of each message (CRLF, dot-stuffed, long
 * lines broken as Postfix does), the connection, the reply reader.  What
 * differs from lmtp-load:
 *   - it runs for --seconds rather than a number of messages;
 *   - client i delivers to one recipient, the (i mod count)-th --rcpt, each
 *     client one LMTP session kept for the whole run (LHLO once; reconnects
 *     only if the server drops it, which counts as an error);
 *   - every delivery is unique and the copies still thread: each Message-ID,
 *     In-Reply-To and References id gets ".TrN" before its "@" (N = how many
 *     times the mbox has been cycled), so a reply of round N points at its
 *     parent of round N; a Message-ID that occurs twice in the mbox gets
 *     ".TrNxK" (K its place in the mbox) in its own header, so the daemon's
 *     idempotence never merges two deliveries of the soak;
 *   - --log FILE gets one line per delivery:
 *         END LATENCY_MS CODE CLIENT
 *     END = CLOCK_MONOTONIC seconds when the final reply was read (the same
 *     clock as Python's time.monotonic(), so bench/soak-report.py lines it
 *     up with the HTTP and RSS samples); LATENCY_MS = from the end of the
 *     final "\r\n.\r\n" to the final reply (0 when the message was not
 *     sent); CODE = the final reply's code, or the first refusing reply's
 *     (MAIL, RCPT, DATA), or 0 when the connection broke.
 * --rate R paces the whole run to R deliveries/s over all clients (0, the
 * default: as fast as they go).
 * --parts K delivers the mbox from K places at once (see pick()), so that
 * every stretch of the run has the same mix of the corpus's years and sizes;
 * --date-step S dates delivery k at 2001-01-01 + k * S seconds: each copy is
 * newer than the last, as live mail is, so that the mix does not file copies
 * deep in the index pages, and a month holds the same number of posts all
 * through the run (the corpus's own density is about one post every 3 hours;
 * the wall clock at 50/s would put a year's mail in one month's page).
 *
 * stdout at the end: "deliveries N", "accepted A" (code 250), "failed F".
 * Exit 0 if F = 0, 1 otherwise, 2 on set-up errors.
 */
#define main lmtp_load_main
#include "lmtp-load.c"
#undef main

static double opt_seconds = 600;
static const char *opt_log;
static int opt_parts = 1;       /* --parts K: the mbox delivered from K places at once */
static double opt_date_step;    /* --date-step S: delivery k is dated DATE_BASE + k * S */
#define DATE_BASE 978307200     /* 2001-01-01 00:00:00 UTC */

typedef struct {
    size_t at[64];      /* offsets, ascending, where ".TrN" goes */
    int n;
    size_t mid_at;      /* the (last) Message-ID's place among them (0: none) */
    int dup;            /* that Message-ID occurs earlier in the mbox: ".TrNxK" */
    size_t date_from[4], date_to[4];  /* each Date field with its continuation lines,
                                         [from, to): some messages carry two, and the
                                         parser takes the last */
    int ndates;
} ins_t;

static ins_t *ins;      /* [nmsgs] */
static FILE *logf;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_long n_ok, n_failed;
static double t0_mono, deadline;

/* The header block of a prepared message: [w, end of the blank line). */
static size_t header_len(const msg_t *m)
{
    const char *e = memmem(m->wire, m->len, "\r\n\r\n", 4);
    return e ? (size_t)(e - m->wire) + 2 : m->len;
}

/* Record where ".TrN" goes in Message-ID, In-Reply-To and References: before
 * the '@' of each <local@domain> in those fields (continuation lines too). */
static void find_ids(size_t k)
{
    const msg_t *m = &msgs[k];
    ins_t *in = &ins[k];
    size_t hl = header_len(m);
    const char *w = m->wire;
    int field = 0;      /* 0 other, 1 Message-ID, 2 In-Reply-To/References */
    for (size_t p = 0; p < hl;) {
        const char *nl = memchr(w + p, '\n', hl - p);
        size_t eol = nl ? (size_t)(nl - w) + 1 : hl;
        if ((w[p] == ' ' || w[p] == '\t') && in->ndates && in->date_to[in->ndates - 1] == p)
            in->date_to[in->ndates - 1] = eol;     /* the Date field goes on */
        if (w[p] != ' ' && w[p] != '\t') {
            field = 0;
            /* every Message-ID field: some archived messages carry two, and
             * the parser takes the last (left alone, round N+1 would repeat
             * round N's id with other bytes) */
            if (eol - p > 5 && strncasecmp(w + p, "Date:", 5) == 0 && in->ndates < 4) {
                in->date_from[in->ndates] = p;
                in->date_to[in->ndates++] = eol;
            }
            if (eol - p > 11 && strncasecmp(w + p, "Message-ID:", 11) == 0)
                field = 1;
            else if ((eol - p > 12 && strncasecmp(w + p, "In-Reply-To:", 12) == 0) ||
                     (eol - p > 11 && strncasecmp(w + p, "References:", 11) == 0))
                field = 2;
        }
        if (field && !memchr(w + p, '<', eol - p)) {
            /* no '<' on the line: bare ids ("Message-Id: 1.0.1.1999...@mclink.it",
             * which GMime takes as they are): the first '@' of each word */
            size_t q = p;
            if (w[p] != ' ' && w[p] != '\t')
                while (q < eol && w[q] != ':')
                    q++;
            int done = 1;
            for (; q < eol; q++) {
                if (w[q] == ' ' || w[q] == '\t' || w[q] == ',')
                    done = 0;
                else if (w[q] == '@' && !done && in->n < 64) {
                    in->at[in->n++] = q;
                    done = 1;
                    if (field == 1)
                        in->mid_at = q;
                }
            }
        } else if (field) {
            /* each '@' between a '<' and its '>' on this line */
            int inside = 0, done = 0;
            for (size_t q = p; q < eol; q++) {
                if (w[q] == '<')
                    inside = 1, done = 0;
                else if (w[q] == '>') {
                    /* an id without '@' (<94684699_88790458>): before the '>' */
                    if (inside && !done && field == 1 && in->n < 64) {
                        in->at[in->n++] = q;
                        in->mid_at = q;
                    }
                    inside = 0;
                }
                else if (w[q] == '@' && inside && !done && in->n < 64) {
                    in->at[in->n++] = q;
                    done = 1;
                    if (field == 1)   /* the last one: the one the parser takes */
                        in->mid_at = q;
                }
            }
        }
        p = eol;
    }
    /* References lines come in header order, the offsets are already
     * ascending; a message without a Message-ID gets one in send_msg() */
}

/* The Message-ID of message k: [*a, *b) from its '<' to its '>'; 0 if none. */
static int id_span(size_t k, size_t *a, size_t *b)
{
    size_t at = ins[k].mid_at;
    if (!at)
        return 0;
    const char *w = msgs[k].wire;
    *a = *b = at;
    while (*a > 0 && w[*a] != '<' && w[*a] != '\n')
        (*a)--;
    while (*b < msgs[k].len && w[*b] != '>' && w[*b] != '\r')
        (*b)++;
    return 1;
}

/* Mark Message-IDs that occur more than once in the mbox (all but the first). */
static void mark_duplicates(void)
{
    /* a small open-addressing set of (hash, k) over the Message-IDs */
    size_t cap = 1;
    while (cap < nmsgs * 2)
        cap <<= 1;
    long *slot = malloc(cap * sizeof *slot);
    if (!slot)
        die("out of memory");
    for (size_t i = 0; i < cap; i++)
        slot[i] = -1;
    for (size_t k = 0; k < nmsgs; k++) {
        size_t a, b;
        if (!id_span(k, &a, &b))
            continue;
        const char *w = msgs[k].wire;
        uint64_t h = 1469598103934665603ULL;
        for (size_t i = a; i < b; i++)
            h = (h ^ (unsigned char)w[i]) * 1099511628211ULL;
        for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
            if (slot[i] < 0) {
                slot[i] = (long)k;
                break;
            }
            size_t x, y;
            id_span((size_t)slot[i], &x, &y);
            if (y - x == b - a && memcmp(msgs[slot[i]].wire + x, w + a, b - a) == 0) {
                ins[k].dup = 1;
                break;
            }
        }
    }
    free(slot);
}

static void log_delivery(double end, double lat, int code, int client)
{
    pthread_mutex_lock(&log_lock);
    fprintf(logf, "%.6f %.3f %d %d\n", end, lat, code, client);
    pthread_mutex_unlock(&log_lock);
    if (code == 250)
        atomic_fetch_add(&n_ok, 1);
    else
        atomic_fetch_add(&n_failed, 1);
}

/* The k-th delivery of the run: message *i of the mbox, in its *round-th
 * pass.  With --parts K the mbox is cut into K parts of equal count and
 * delivery k takes the next message of part k mod K, so every stretch of
 * the run has the same mix of the corpus's years (and of its sizes): a
 * steady load.  Each part goes round by itself; a message left over after
 * K equal parts is not sent. */
static void pick(long k, size_t *i, long *round)
{
    if (opt_parts <= 1 || nmsgs < (size_t)opt_parts) {
        *i = (size_t)k % nmsgs;
        *round = k / (long)nmsgs;
        return;
    }
    size_t seg = nmsgs / (size_t)opt_parts;
    size_t part = (size_t)k % (size_t)opt_parts, pos = (size_t)k / (size_t)opt_parts;
    *i = part * seg + pos % seg;
    *round = (long)(pos / seg);
}

/* One delivery of message k on c to the envelope env; returns the code
 * (250 accepted), 0 if the connection is gone.  *lat set when sent. */
static int send_msg(conn_t *c, const char *env, size_t envlen, long k, double *lat)
{
    size_t i;
    long round;
    pick(k, &i, &round);
    const msg_t *m = &msgs[i];
    const ins_t *in = &ins[i];
    int code;
    *lat = 0;

    if (write_all(c->fd, env, envlen) < 0 || (code = read_reply(c)) < 0)
        return 0;
    int mail = code;
    if ((code = read_reply(c)) < 0)
        return 0;
    int rcpt = code;
    if (mail / 100 != 2 || rcpt / 100 != 2) {
        note_failure(mail / 100 != 2 ? "MAIL" : "RCPT", c->last);
        if (write_all(c->fd, "RSET\r\n", 6) < 0 || read_reply(c) < 0)
            return 0;
        return mail / 100 != 2 ? mail : rcpt;
    }
    if (write_all(c->fd, "DATA\r\n", 6) < 0 || (code = read_reply(c)) < 0)
        return 0;
    if (code != 354) {
        note_failure("DATA", c->last);
        if (write_all(c->fd, "RSET\r\n", 6) < 0 || read_reply(c) < 0)
            return 0;
        return code;
    }
    struct iovec iov[2 * 64 + 2 * 4 + 6];
    char sfx[64], dsfx[96], hdr[160];
    int n = 0;
    snprintf(sfx, sizeof sfx, ".%sr%ld", opt_tag, round);
    snprintf(dsfx, sizeof dsfx, ".%sr%ldx%zu", opt_tag, round, i);
    if (!m->has_id && !in->mid_at) {   /* a bare id (no <>) was found by find_ids */
        snprintf(hdr, sizeof hdr, "Message-ID: <soak.%zu.%sr%ld@soak-load.invalid>\r\n", i, opt_tag, round);
        iov[n++] = (struct iovec){ hdr, strlen(hdr) };
    }
    char date[96];
    size_t from = 0;
    int nd = 0, d = 0;          /* Date fields to replace; the next one */
    if (opt_date_step > 0) {
        time_t when = (time_t)(DATE_BASE + (double)k * opt_date_step);
        struct tm tm;
        gmtime_r(&when, &tm);
        strftime(date, sizeof date, "Date: %a, %d %b %Y %H:%M:%S +0000\r\n", &tm);
        nd = in->ndates;        /* each replaced where it is */
        if (nd == 0)            /* none: one goes first (the daemon would file it
                                   at its arrival, years after the sequence) */
            iov[n++] = (struct iovec){ date, strlen(date) };
    }
    for (int j = 0; j <= in->n; j++) {
        size_t to = j < in->n ? in->at[j] : m->len;
        while (d < nd && in->date_from[d] >= from && in->date_from[d] < to) {
            /* a Date field before the next insertion (never across one: ids
             * are in other fields) */
            iov[n++] = (struct iovec){ m->wire + from, in->date_from[d] - from };
            iov[n++] = (struct iovec){ date, strlen(date) };
            from = in->date_to[d++];
        }
        if (j == in->n)
            break;
        iov[n++] = (struct iovec){ m->wire + from, in->at[j] - from };
        if (in->dup && in->at[j] == in->mid_at)
            iov[n++] = (struct iovec){ dsfx, strlen(dsfx) };
        else
            iov[n++] = (struct iovec){ sfx, strlen(sfx) };
        from = in->at[j];
    }
    iov[n++] = (struct iovec){ m->wire + from, m->len - from };
    if (write_all_v(c->fd, iov, n) < 0)
        return 0;
    double t = now_s();
    if ((code = read_reply(c)) < 0)
        return 0;
    *lat = (now_s() - t) * 1000.0;
    if (code != 250)
        note_failure("final", c->last);
    return code;
}

typedef struct {
    int id;
    pthread_t th;
} soak_client_t;

static void *soak_client(void *arg)
{
    soak_client_t *cl = arg;
    conn_t *c = calloc(1, sizeof *c);
    char env[1200];
    if (!c)
        die("out of memory");
    const char *rcpt = opt_rcpt[cl->id % opt_nrcpt];
    int envlen = snprintf(env, sizeof env, "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\n", opt_from, rcpt);
    if (session_open(c, 30.0) < 0) {
        note_failure("connect", c->last[0] ? c->last : strerror(errno));
        log_delivery(now_s(), 0, 0, cl->id);
        free(c);
        return NULL;
    }
    for (;;) {
        long k = atomic_fetch_add(&next_msg, 1);
        if (opt_rate > 0) {
            double due = t0_mono + (double)k / opt_rate, wait = due - now_s();
            if (due >= deadline)
                break;
            if (wait > 0) {
                struct timespec ts = { (time_t)wait, (long)((wait - (time_t)wait) * 1e9) };
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                    ;
            }
        } else if (now_s() >= deadline) {
            break;
        }
        if (c->fd < 0 && session_open(c, 10.0) < 0) {
            log_delivery(now_s(), 0, 0, cl->id);
            continue;
        }
        double lat;
        int code = send_msg(c, env, (size_t)envlen, k, &lat);
        if (code == 0) {
            note_failure("connection", c->last);
            hangup(c);
        }
        log_delivery(now_s(), lat, code, cl->id);
    }
    if (c->fd >= 0) {
        if (write_all(c->fd, "QUIT\r\n", 6) == 0)
            read_reply(c);
        hangup(c);
    }
    free(c);
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "connect", required_argument, 0, 'c' },
        { "clients", required_argument, 0, 'n' },
        { "rcpt", required_argument, 0, 'r' },
        { "from", required_argument, 0, 'f' },
        { "mbox", required_argument, 0, 'm' },
        { "seconds", required_argument, 0, 'S' },
        { "log", required_argument, 0, 'L' },
        { "tag", required_argument, 0, 't' },
        { "rate", required_argument, 0, 'R' },
        { "lhlo", required_argument, 0, 'l' },
        { "timeout", required_argument, 0, 'T' },
        { "parts", required_argument, 0, 'P' },
        { "date-step", required_argument, 0, 'D' },
        { 0, 0, 0, 0 },
    };
    int ch;
    opt_rcpt = calloc((size_t)argc, sizeof *opt_rcpt);
    opt_from = "soak@soak-load.invalid";
    opt_lhlo = "soak-load.invalid";
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'c': opt_connect = optarg; break;
        case 'n': opt_clients = atoi(optarg); break;
        case 'r': opt_rcpt[opt_nrcpt++] = optarg; break;
        case 'f': opt_from = optarg; break;
        case 'm': opt_mbox = optarg; break;
        case 'S': opt_seconds = atof(optarg); break;
        case 'L': opt_log = optarg; break;
        case 't': opt_tag = optarg; break;
        case 'R': opt_rate = atof(optarg); break;
        case 'l': opt_lhlo = optarg; break;
        case 'T': opt_timeout = atoi(optarg); break;
        case 'P': opt_parts = atoi(optarg); break;
        case 'D': opt_date_step = atof(optarg); break;
        default:
            fputs("usage: soak-load --connect unix:PATH|HOST:PORT --rcpt ADDR [--rcpt ADDR...]\n"
                  "                 --mbox FILE --seconds S --log FILE [--clients N] [--rate R]\n"
                  "                 [--tag T] [--from ADDR] [--lhlo NAME] [--timeout S]\n"
                  "                 [--parts K] [--date-step S]\n", stderr);
            return 2;
        }
    }
    if (optind != argc || !opt_connect || !opt_mbox || !opt_log || opt_nrcpt == 0 ||
        opt_clients < 1 || opt_rate < 0 || opt_seconds <= 0 || opt_timeout < 1 || opt_parts < 1 || opt_date_step < 0)
        die("bad arguments (see the top of bench/soak-load.c)");
    signal(SIGPIPE, SIG_IGN);
    load_mbox(opt_mbox);
    ins = calloc(nmsgs, sizeof *ins);
    if (!ins)
        die("out of memory");
    for (size_t k = 0; k < nmsgs; k++)
        find_ids(k);
    mark_duplicates();
    size_t dups = 0;
    for (size_t k = 0; k < nmsgs; k++)
        dups += ins[k].dup;
    if (!(logf = fopen(opt_log, "w")))
        die("cannot write %s: %s", opt_log, strerror(errno));
    fprintf(stderr, "soak-load: %zu messages in %s (%zu repeat an earlier Message-ID); "
            "%d clients for %.0f s%s\n", nmsgs, opt_mbox, dups, opt_clients, opt_seconds,
            opt_rate > 0 ? ", paced" : "");

    soak_client_t *cl = calloc((size_t)opt_clients, sizeof *cl);
    if (!cl)
        die("out of memory");
    t0_mono = now_s();
    deadline = t0_mono + opt_seconds;
    for (int i = 0; i < opt_clients; i++) {
        cl[i].id = i;
        if (pthread_create(&cl[i].th, NULL, soak_client, &cl[i]) != 0)
            die("pthread_create failed");
    }
    for (int i = 0; i < opt_clients; i++)
        pthread_join(cl[i].th, NULL);
    fclose(logf);
    long ok = atomic_load(&n_ok), failed = atomic_load(&n_failed);
    printf("deliveries %ld\naccepted %ld\nfailed %ld\n", ok + failed, ok, failed);
    return failed ? 1 : 0;
}
