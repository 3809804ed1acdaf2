/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * bench/lmtp-load.c — a small LMTP load client for bench/lmtp.sh.
 *
 *   cc -O2 -pthread -o bench/out/lmtp-load bench/lmtp-load.c
 *
 *   lmtp-load --connect unix:PATH|HOST:PORT --rcpt ADDR [--rcpt ADDR...]
 *             --mbox FILE [--clients N] [--messages N] [--unique] [--tag T]
 *             [--rate R] [--from ADDR] [--lhlo NAME] [--timeout S]
 *
 * The mbox is split into messages at "From " separator lines (a line that
 * starts a message: at the start of the file or after a blank line, and that
 * looks like "From SENDER DATE" with a time in it); the separator line and the
 * blank line mbox puts after each message are dropped, mboxrd quoting
 * (">From " in a body) is undone, line ends become CRLF, lines starting with
 * "." are dot-stuffed, and lines longer than 998 octets are broken by
 * inserting CRLF SPACE, as Postfix's LMTP client does (lmtp_line_length_limit;
 * Mailman's LMTP server rejects longer lines).  Each message is prepared
 * once, before the clock starts.
 *
 * Each of N clients keeps one connection: LHLO once, then per message
 *   MAIL FROM + every RCPT TO in one write (pipelined), read their replies;
 *   DATA, read 354; the message and "\r\n.\r\n"; read one reply per accepted
 *   recipient (LMTP).
 * and QUIT at the end.  Messages are handed out from one shared counter, so
 * --messages is the total over all clients; the mbox is cycled through.  With
 * --unique the Message-ID of every copy gets ".rN" (N = how many times the
 * mbox has been cycled, from 0) before its "@", so a server that merges
 * duplicate Message-IDs stores every copy; --tag T makes that ".TrN", for
 * several runs into one store.  --rate R paces the whole run to R messages/s
 * (message k is not started before start + k/R); 0 = as fast as possible.
 *
 * Latency of a message = from the moment the final "\r\n.\r\n" has been
 * written to the moment the last per-recipient reply has been read.  A
 * message fails if MAIL, every RCPT, DATA or any final reply is not 2xx/3xx
 * as expected, or if the connection breaks (the client then reconnects).
 *
 * Output (stdout), one line each:
 *   messages N      transactions attempted (ok + failed)
 *   seconds S       wall time from the first MAIL to the last reply
 *   rate R msg/s    messages accepted (N - failed) / S
 *   p50_ms X        latency percentiles of accepted messages
 *   p99_ms Y
 *   max_ms Z
 *   failed F
 * The first few distinct failure replies go to stderr.  Exit status 0 if no
 * message failed, 1 if some did, 2 on usage or set-up errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ---- options ---- */

static const char *opt_connect;
static int opt_clients = 1;
static const char **opt_rcpt;
static int opt_nrcpt;
static const char *opt_from = "bench@lmtp-load.invalid";
static const char *opt_mbox;
static long opt_messages = -1;          /* -1: each message of the mbox once */
static int opt_unique;
static const char *opt_tag = "";
static double opt_rate;
static const char *opt_lhlo = "lmtp-load.invalid";
static int opt_timeout = 60;

/* ---- messages, prepared once ---- */

typedef struct {
    char *wire;        /* CRLF, dot-stuffed, ending in "\r\n.\r\n" */
    size_t len;
    size_t id_at;      /* --unique: where ".rN" goes (before the '@') */
    int has_id;        /* 0: no Message-ID header; one is added with --unique */
} msg_t;

static msg_t *msgs;
static size_t nmsgs;

/* ---- shared run state ---- */

static atomic_long next_msg;            /* next message sequence number */
static atomic_long done_ok, done_failed;
static double *lat_ms;                  /* [opt_messages], NAN when failed */
static struct timespec t_start;
static pthread_barrier_t ready, go;   /* all connected; clock started */

static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
#define MAX_FAIL_SHOWN 5
static char *fail_seen[MAX_FAIL_SHOWN];
static int nfail_seen;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("lmtp-load: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double since_start(void)
{
    return now_s() - (t_start.tv_sec + t_start.tv_nsec / 1e9);
}

/* Remember a failure reply; print it to stderr if it is one of the first
 * few distinct ones (digits in the text are ignored when comparing, so
 * "queue id 123" and "queue id 124" count as one). */
static void note_failure(const char *what, const char *reply)
{
    char key[512];
    snprintf(key, sizeof key, "%s: %s", what, reply);
    char norm[512];
    size_t j = 0;
    for (size_t i = 0; key[i] && j + 1 < sizeof norm; i++)
        norm[j++] = (key[i] >= '0' && key[i] <= '9' && i > strlen(what) + 5) ? '#' : key[i];
    norm[j] = 0;
    pthread_mutex_lock(&fail_lock);
    int known = 0;
    for (int i = 0; i < nfail_seen; i++)
        if (strcmp(fail_seen[i], norm) == 0)
            known = 1;
    if (!known && nfail_seen < MAX_FAIL_SHOWN) {
        fail_seen[nfail_seen++] = strdup(norm);
        fprintf(stderr, "lmtp-load: failure: %s\n", key);
    }
    pthread_mutex_unlock(&fail_lock);
}

/* ---- mbox ---- */

/* A "From " line that separates messages: "From SENDER ... HH:MM:SS ..." */
static int is_separator(const char *p, const char *eol)
{
    if (eol - p < 7 || memcmp(p, "From ", 5) != 0 || p[5] == ' ')
        return 0;
    int colons = 0;
    for (const char *q = p; q < eol; q++)
        if (*q == ':')
            colons++;
    return colons >= 2;
}

static void buf_add(char **b, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n > *cap) {
        while (*len + n > *cap)
            *cap = *cap ? *cap * 2 : 4096;
        *b = realloc(*b, *cap);
        if (!*b)
            die("out of memory");
    }
    memcpy(*b + *len, s, n);
    *len += n;
}

/* Turn the LF text [p, end) of one message into its DATA form. */
static void add_message(const char *p, const char *end)
{
    /* drop the trailing blank line(s) mbox puts between messages */
    while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
        end--;
    if (end == p)
        return;
    char *b = NULL;
    size_t len = 0, cap = (size_t)(end - p) * 11 / 10 + 64;
    b = malloc(cap);
    if (!b)
        die("out of memory");
    int in_header = 1, id_hdr = 0, has_id = 0;
    size_t id_at = 0;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *le = eol;
        if (le > p && le[-1] == '\r')
            le--;
        size_t line_start = len;
        if (in_header) {
            if (le == p) {
                in_header = 0;
            } else if (*p == ' ' || *p == '\t') {
                /* continuation: still the same header */
            } else {
                id_hdr = (le - p > 11 && strncasecmp(p, "Message-ID:", 11) == 0);
                if (id_hdr && !has_id)
                    has_id = 1;
                else
                    id_hdr = 0;
            }
        } else if (*p == '>') {
            /* mboxrd: ">From " -> "From ", ">>From " -> ">From " ... */
            const char *q = p;
            while (q < le && *q == '>')
                q++;
            if (le - q >= 5 && memcmp(q, "From ", 5) == 0)
                p++;
        }
        if (p < le && *p == '.')
            buf_add(&b, &len, &cap, ".", 1);
        /* as Postfix's LMTP client does (lmtp_line_length_limit = 998):
         * break longer lines by inserting CRLF SPACE */
        size_t room = 998 - (len - line_start);
        const char *q = p;
        while ((size_t)(le - q) > room) {
            buf_add(&b, &len, &cap, q, room);
            buf_add(&b, &len, &cap, "\r\n ", 3);
            q += room;
            room = 997;
        }
        buf_add(&b, &len, &cap, q, (size_t)(le - q));
        if (id_hdr && in_header && !id_at) {
            /* the '@' inside <...> of the (first) Message-ID */
            const char *lt = memchr(b + line_start, '<', len - line_start);
            if (lt) {
                const char *gt = memchr(lt, '>', (size_t)(b + len - lt));
                const char *at = memchr(lt, '@', (size_t)((gt ? gt : b + len) - lt));
                if (at)
                    id_at = (size_t)(at - b);
                else if (gt)
                    id_at = (size_t)(gt - b);
            }
        }
        buf_add(&b, &len, &cap, "\r\n", 2);
        p = eol < end ? eol + 1 : end;
    }
    if (has_id && !id_at)
        has_id = 0;     /* a Message-ID we cannot rewrite: treat as missing */
    buf_add(&b, &len, &cap, ".\r\n", 3);
    msgs = realloc(msgs, (nmsgs + 1) * sizeof *msgs);
    if (!msgs)
        die("out of memory");
    msgs[nmsgs++] = (msg_t){ .wire = b, .len = len, .id_at = id_at, .has_id = has_id };
}

static void load_mbox(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die("cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size == 0)
        die("cannot read %s (empty?)", path);
    const char *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        die("mmap %s: %s", path, strerror(errno));
    const char *end = m + st.st_size, *p = m, *msg = NULL;
    int prev_blank = 1;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *next = eol ? eol + 1 : end;
        if (!eol)
            eol = end;
        if (prev_blank && is_separator(p, eol)) {
            if (msg)
                add_message(msg, p);
            msg = next;
        } else if (!msg) {
            msg = p;    /* no separator at the top: the file is one message */
        }
        prev_blank = (eol == p) || (eol == p + 1 && *p == '\r');
        p = next;
    }
    if (msg)
        add_message(msg, end);
    munmap((void *)m, (size_t)st.st_size);
    close(fd);
    if (nmsgs == 0)
        die("no messages in %s", path);
}

/* ---- connection ---- */

typedef struct {
    int fd;
    char buf[65536];
    size_t off, len;
    char last[512];     /* last reply line, for failure messages */
} conn_t;

static int dial(void)
{
    int fd;
    if (strncmp(opt_connect, "unix:", 5) == 0) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(opt_connect + 5) >= sizeof sa.sun_path)
            die("socket path too long: %s", opt_connect + 5);
        strcpy(sa.sun_path, opt_connect + 5);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -1;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            close(fd);
            return -1;
        }
    } else {
        char host[256];
        const char *colon = strrchr(opt_connect, ':');
        if (!colon || colon == opt_connect || (size_t)(colon - opt_connect) >= sizeof host)
            die("--connect wants unix:PATH or HOST:PORT, not '%s'", opt_connect);
        memcpy(host, opt_connect, (size_t)(colon - opt_connect));
        host[colon - opt_connect] = 0;
        char *h = host;
        if (h[0] == '[' && h[strlen(h) - 1] == ']') {
            h[strlen(h) - 1] = 0;
            h++;
        }
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
        int rc = getaddrinfo(h, colon + 1, &hints, &ai);
        if (rc != 0)
            die("cannot resolve %s: %s", opt_connect, gai_strerror(rc));
        fd = -1;
        for (a = ai; a; a = a->ai_next) {
            fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
            if (fd < 0)
                continue;
            if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
                break;
            close(fd);
            fd = -1;
        }
        freeaddrinfo(ai);
        if (fd < 0)
            return -1;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    struct timeval tv = { .tv_sec = opt_timeout };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

static int write_all_v(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

static int write_all(int fd, const char *s, size_t n)
{
    struct iovec iov = { (void *)s, n };
    return write_all_v(fd, &iov, 1);
}

/* Read one line (without CRLF) into c->last; -1 on EOF/error/timeout. */
static int read_line(conn_t *c)
{
    for (;;) {
        char *nl = memchr(c->buf + c->off, '\n', c->len - c->off);
        if (nl) {
            size_t n = (size_t)(nl - (c->buf + c->off));
            size_t k = n;
            if (k > 0 && c->buf[c->off + k - 1] == '\r')
                k--;
            if (k >= sizeof c->last)
                k = sizeof c->last - 1;
            memcpy(c->last, c->buf + c->off, k);
            c->last[k] = 0;
            c->off += n + 1;
            return 0;
        }
        if (c->off > 0) {
            memmove(c->buf, c->buf + c->off, c->len - c->off);
            c->len -= c->off;
            c->off = 0;
        }
        if (c->len == sizeof c->buf)
            c->len = 0;     /* absurdly long line: drop it */
        ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(c->last, sizeof c->last, "(connection %s)",
                     r == 0 ? "closed by server" : strerror(errno));
            return -1;
        }
        c->len += (size_t)r;
    }
}

/* Read one (possibly multi-line) reply; returns its code, -1 on I/O error. */
static int read_reply(conn_t *c)
{
    for (;;) {
        if (read_line(c) < 0)
            return -1;
        if (strlen(c->last) < 3 || c->last[0] < '1' || c->last[0] > '5')
            return 0;   /* garbage: code 0 counts as a failure */
        if (c->last[3] != '-')
            return atoi(c->last);
    }
}

static void hangup(conn_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->off = c->len = 0;
}

/* Connect, read the greeting, LHLO; retries for up to `patience` seconds. */
static int session_open(conn_t *c, double patience)
{
    double until = now_s() + patience;
    char cmd[512];
    for (;;) {
        c->off = c->len = 0;
        c->fd = dial();
        if (c->fd >= 0) {
            int code = read_reply(c);
            if (code == 220) {
                snprintf(cmd, sizeof cmd, "LHLO %s\r\n", opt_lhlo);
                if (write_all(c->fd, cmd, strlen(cmd)) == 0 && (code = read_reply(c)) == 250)
                    return 0;
                note_failure("LHLO", c->last);
            } else {
                note_failure("greeting", c->last);
            }
            hangup(c);
        }
        if (now_s() >= until)
            return -1;
        usleep(100000);
    }
}

/* ---- one client ---- */

typedef struct {
    int id;
    pthread_t th;
    int ok;             /* connected at the start */
} client_t;

static char *envelope;          /* MAIL FROM + all RCPT TO, pipelined */
static size_t envelope_len;

/* Send message sequence number k; returns 1 ok, 0 failed (connection still
 * usable), -1 failed and the connection is gone. */
static int send_one(conn_t *c, long k, double *lat)
{
    const msg_t *m = &msgs[(size_t)k % nmsgs];
    long round = k / (long)nmsgs;
    int code, accepted = 0;

    if (write_all(c->fd, envelope, envelope_len) < 0)
        return note_failure("MAIL", "(write failed)"), -1;
    if ((code = read_reply(c)) < 0)
        return note_failure("MAIL", c->last), -1;
    int mail_ok = code / 100 == 2;
    if (!mail_ok)
        note_failure("MAIL", c->last);
    for (int i = 0; i < opt_nrcpt; i++) {
        if ((code = read_reply(c)) < 0)
            return note_failure("RCPT", c->last), -1;
        if (code / 100 == 2)
            accepted++;
        else if (mail_ok)
            note_failure("RCPT", c->last);
    }
    if (!mail_ok || accepted == 0) {
        if (write_all(c->fd, "RSET\r\n", 6) < 0 || read_reply(c) < 0)
            return -1;
        return 0;
    }
    if (write_all(c->fd, "DATA\r\n", 6) < 0)
        return note_failure("DATA", "(write failed)"), -1;
    if ((code = read_reply(c)) < 0)
        return note_failure("DATA", c->last), -1;
    if (code != 354) {
        note_failure("DATA", c->last);
        if (write_all(c->fd, "RSET\r\n", 6) < 0 || read_reply(c) < 0)
            return -1;
        return 0;
    }

    struct iovec iov[4];
    int n = 0;
    char idbuf[96], hdr[160];
    if (opt_unique && m->has_id) {
        snprintf(idbuf, sizeof idbuf, ".%sr%ld", opt_tag, round);
        iov[n++] = (struct iovec){ m->wire, m->id_at };
        iov[n++] = (struct iovec){ idbuf, strlen(idbuf) };
        iov[n++] = (struct iovec){ m->wire + m->id_at, m->len - m->id_at };
    } else if (opt_unique) {
        snprintf(hdr, sizeof hdr, "Message-ID: <lmtp-load.%zu.%sr%ld@lmtp-load.invalid>\r\n",
                 (size_t)k % nmsgs, opt_tag, round);
        iov[n++] = (struct iovec){ hdr, strlen(hdr) };
        iov[n++] = (struct iovec){ m->wire, m->len };
    } else {
        iov[n++] = (struct iovec){ m->wire, m->len };
    }
    if (write_all_v(c->fd, iov, n) < 0)
        return note_failure("message", "(write failed)"), -1;
    double t0 = now_s();
    int ok = 1;
    for (int i = 0; i < accepted; i++) {
        if ((code = read_reply(c)) < 0)
            return note_failure("final", c->last), -1;
        if (code / 100 != 2) {
            if (ok)
                note_failure("final", c->last);
            ok = 0;
        }
    }
    *lat = (now_s() - t0) * 1000.0;
    return ok;
}

static void *client_main(void *arg)
{
    client_t *cl = arg;
    conn_t *c = calloc(1, sizeof *c);
    if (!c)
        die("out of memory");
    cl->ok = session_open(c, 10.0) == 0;
    if (!cl->ok)
        note_failure("connect", c->last[0] ? c->last : strerror(errno));
    pthread_barrier_wait(&ready);
    pthread_barrier_wait(&go);
    if (!cl->ok) {
        free(c);
        return NULL;
    }
    for (;;) {
        long k = atomic_fetch_add(&next_msg, 1);
        if (k >= opt_messages)
            break;
        if (opt_rate > 0) {
            double due = (double)k / opt_rate, wait = due - since_start();
            if (wait > 0) {
                struct timespec ts = { (time_t)wait, (long)((wait - (time_t)wait) * 1e9) };
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                    ;
            }
        }
        if (c->fd < 0 && session_open(c, 10.0) < 0) {
            /* give the message back? no: count it failed and stop this client */
            lat_ms[k] = -1;
            atomic_fetch_add(&done_failed, 1);
            break;
        }
        double lat = 0;
        int r = send_one(c, k, &lat);
        if (r == 1) {
            lat_ms[k] = lat;
            atomic_fetch_add(&done_ok, 1);
        } else {
            lat_ms[k] = -1;
            atomic_fetch_add(&done_failed, 1);
            if (r < 0)
                hangup(c);
        }
    }
    if (c->fd >= 0) {
        if (write_all(c->fd, "QUIT\r\n", 6) == 0)
            read_reply(c);
        hangup(c);
    }
    free(c);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p / 100.0 * (double)n + 0.999999);   /* nearest rank */
    if (i < 1)
        i = 1;
    if (i > n)
        i = n;
    return v[i - 1];
}

static void usage(void)
{
    fputs("usage: lmtp-load --connect unix:PATH|HOST:PORT --rcpt ADDR [--rcpt ADDR...]\n"
          "                 --mbox FILE [--clients N] [--messages N] [--unique] [--tag T]\n"
          "                 [--rate MSG/S] [--from ADDR] [--lhlo NAME] [--timeout SEC]\n", stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "connect", required_argument, 0, 'c' },
        { "clients", required_argument, 0, 'n' },
        { "rcpt", required_argument, 0, 'r' },
        { "from", required_argument, 0, 'f' },
        { "mbox", required_argument, 0, 'm' },
        { "messages", required_argument, 0, 'N' },
        { "unique", no_argument, 0, 'u' },
        { "tag", required_argument, 0, 't' },
        { "rate", required_argument, 0, 'R' },
        { "lhlo", required_argument, 0, 'l' },
        { "timeout", required_argument, 0, 'T' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    int ch;
    opt_rcpt = calloc((size_t)argc, sizeof *opt_rcpt);
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'c': opt_connect = optarg; break;
        case 'n': opt_clients = atoi(optarg); break;
        case 'r': opt_rcpt[opt_nrcpt++] = optarg; break;
        case 'f': opt_from = optarg; break;
        case 'm': opt_mbox = optarg; break;
        case 'N': opt_messages = atol(optarg); break;
        case 'u': opt_unique = 1; break;
        case 't': opt_tag = optarg; break;
        case 'R': opt_rate = atof(optarg); break;
        case 'l': opt_lhlo = optarg; break;
        case 'T': opt_timeout = atoi(optarg); break;
        default: usage();
        }
    }
    if (optind != argc || !opt_connect || !opt_mbox || opt_nrcpt == 0 ||
        opt_clients < 1 || opt_rate < 0 || opt_timeout < 1)
        usage();
    signal(SIGPIPE, SIG_IGN);

    load_mbox(opt_mbox);
    if (opt_messages < 0)
        opt_messages = (long)nmsgs;
    size_t total = 0;
    for (size_t i = 0; i < nmsgs; i++)
        total += msgs[i].len;
    fprintf(stderr, "lmtp-load: %zu messages in %s (%.1f MiB as sent); sending %ld with %d client%s%s\n",
            nmsgs, opt_mbox, total / 1048576.0, opt_messages, opt_clients,
            opt_clients == 1 ? "" : "s", opt_unique ? ", unique Message-IDs" : "");

    /* the pipelined envelope, the same for every message */
    char *e = NULL;
    size_t elen = 0, ecap = 0;
    char line[1024];
    snprintf(line, sizeof line, "MAIL FROM:<%s>\r\n", opt_from);
    buf_add(&e, &elen, &ecap, line, strlen(line));
    for (int i = 0; i < opt_nrcpt; i++) {
        snprintf(line, sizeof line, "RCPT TO:<%s>\r\n", opt_rcpt[i]);
        buf_add(&e, &elen, &ecap, line, strlen(line));
    }
    envelope = e;
    envelope_len = elen;

    lat_ms = calloc((size_t)(opt_messages > 0 ? opt_messages : 1), sizeof *lat_ms);
    client_t *cl = calloc((size_t)opt_clients, sizeof *cl);
    if (!lat_ms || !cl)
        die("out of memory");
    pthread_barrier_init(&ready, NULL, (unsigned)opt_clients + 1);
    pthread_barrier_init(&go, NULL, (unsigned)opt_clients + 1);
    for (int i = 0; i < opt_clients; i++) {
        cl[i].id = i;
        if (pthread_create(&cl[i].th, NULL, client_main, &cl[i]) != 0)
            die("pthread_create failed");
    }
    pthread_barrier_wait(&ready);               /* everyone has connected */
    clock_gettime(CLOCK_MONOTONIC, &t_start);
    pthread_barrier_wait(&go);
    for (int i = 0; i < opt_clients; i++)
        pthread_join(cl[i].th, NULL);
    double secs = since_start();

    int connected = 0;
    for (int i = 0; i < opt_clients; i++)
        connected += cl[i].ok;
    long ok = atomic_load(&done_ok), failed = atomic_load(&done_failed);
    long attempted = ok + failed;
    if (connected == 0) {
        fprintf(stderr, "lmtp-load: no client could connect to %s\n", opt_connect);
        failed = opt_messages;
        attempted = opt_messages;
    } else if (attempted < opt_messages) {
        fprintf(stderr, "lmtp-load: only %ld of %ld messages were attempted\n",
                attempted, opt_messages);
        failed += opt_messages - attempted;
        attempted = opt_messages;
    }

    double *v = malloc(((size_t)ok + 1) * sizeof *v);
    size_t nv = 0;
    for (long k = 0; k < opt_messages && v; k++)
        if (lat_ms[k] > 0)              /* ok; failed are -1, unsent 0 */
            v[nv++] = lat_ms[k];
    qsort(v, nv, sizeof *v, cmp_double);
    printf("messages %ld\n", attempted);
    printf("seconds %.3f\n", secs);
    printf("rate %.1f msg/s\n", secs > 0 ? (double)ok / secs : 0.0);
    printf("p50_ms %.2f\n", percentile(v, nv, 50));
    printf("p99_ms %.2f\n", percentile(v, nv, 99));
    printf("max_ms %.2f\n", nv ? v[nv - 1] : 0.0);
    printf("failed %ld\n", failed);
    fflush(stdout);
    return connected == 0 ? 2 : failed ? 1 : 0;
}
