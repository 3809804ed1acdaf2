/* core/mailbox.c — reading existing archives, message by message.
 *
 * Design notes
 *
 * Recognition.  A path is stat()ed once.  A directory is walked (below).  A
 * regular file is sniffed from its first 64 KiB: xz or gzip magic bytes send
 * it through liblzma/zlib into a private temporary folder, and the
 * decompressed copy is sniffed again; "From " + a header block is an mbox; a
 * header block alone is one message.  A header block is one or more
 * "Name: value" fields (continuation lines allowed after the first) up to an
 * empty line or the end of the file, with at least one common mail header
 * name among them, so that "Note: ..." in a README is not taken for mail.
 *
 * mbox.  libetpan's mailmbox finds the messages (mailmbox_init, read-only,
 * no UIDs written; the table folder->mb_tab; mailmbox_fetch_msg_no_lock gives
 * each message's bytes inside libetpan's read-only mapping).  libetpan's
 * separator rule is the mboxrd one: a "From " line after an empty line, and
 * the empty line belongs to neither message.  Three libetpan behaviours are
 * worked around here, each as narrowly as possible:
 *   - mailmbox_init takes a dot-lock (liblockfile) next to the mbox: it
 *     creates FILE.lock and a .lkXXXX file in the archive's own folder, which
 *     is a write into a folder we only mean to read (and fails on read-only
 *     media).  We call mailmbox_init on a symbolic link inside our private
 *     temporary folder, so the lock files land there.
 *   - mailmbox_fetch_msg is not used: it copies the message through the
 *     append path's writer, which *adds* a '>' to every line starting with
 *     "From " and drops X-LibEtPan-UID header lines, and it takes the dot-lock
 *     again for every message.  mailmbox_fetch_msg_no_lock returns the exact
 *     bytes without a copy; we un-escape them ourselves (mboxo/mboxrd, see
 *     mailbox.h) while copying into the one GBytes that is returned.
 *   - For the last message, libetpan's end is wrong when the file does not end
 *     with an empty line: its parser only moves the end forward when it sees
 *     the next line start, so "body\nlast\n" at the end of the file loses
 *     "last\n".  The last message therefore runs to the end of the file, less
 *     one trailing empty line (the separator an mbox writer adds).
 *
 * Maildir.  libetpan's maildir (maildir_new, maildir_update, the message
 * table md->mdir_msg_list) lists cur/ and new/.  maildir_update needs both
 * folders to exist (notmuch's corpora, like many copied maildirs, have only
 * cur/) and creates an empty "maildirfolder" file in the maildir when it is
 * missing, which is again a write into the archive (and marks a root maildir
 * as a Maildir++ subfolder for Dovecot).  So each maildir is shown to libetpan
 * through a shadow folder in our temporary folder: shadow/cur and shadow/new
 * are symbolic links to the real folders, or empty folders when missing.
 * maildir_message_get is not used: it looks a message up by its unique name
 * (the file name before ":2,"), so two files with the same unique name (a
 * leftover in new/ next to its copy in cur/) map to one path; the real path
 * is built from msg_filename and the NEW flag instead.
 *
 * Folder trees.  A folder is walked in a fixed order: if it is a maildir (it
 * has cur/ or new/), its messages sorted by file name; then its other files
 * that look like a message (MH folders, and notmuch-style loose files next
 * to cur/ and new/), sorted; then its sub-folders, sorted, recursively.
 * Names starting with '.' are skipped, except Maildir++ folders (".Sent"
 * holding cur/ or new/); tmp/ of a maildir is skipped (half-delivered mail).
 * Sorting compares digit runs as numbers, so MH's 2 comes before 10.  In a
 * folder every file is one message, even one starting with a "From " line
 * (which is dropped, as notmuch does); a warning is logged when such a file
 * looks like it holds several messages, and for compressed files, which are
 * skipped (import each on its own).  Other files that are not mail (README,
 * .mh_sequences, dovecot-uidlist) are skipped with an info line.
 *
 * Validation happens in cor_mailbox_open (mailbox.h invariant 1): the whole
 * compressed stream is decoded, the whole mbox is parsed and its last
 * message's header block checked, every loose file of a folder is sniffed.
 */
#include "core/mailbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libetpan/maildir.h>
#include <libetpan/mailmbox.h>
#include <lzma.h>
#include <zlib.h>

#include "core/log.h"

#define SNIFF_SIZE  (64 * 1024)        /* bytes read to recognise a file */
#define IO_CHUNK    (4 * 1024 * 1024)  /* decompression output buffer */
#define MAX_DEPTH   64                 /* folder nesting we follow */

typedef struct mail_file {
    char *path;        /* the file to read */
    int64_t mtime;     /* 0 when it could not be stat()ed */
} mail_file_t;

struct cor_mailbox {
    cor_mailbox_format_t format;
    char *path;                 /* as given: starts labels and errors */
    char *tmpdir;               /* where our private folder goes */
    char *workdir;              /* private temporary folder, or NULL */
    uint64_t count;
    uint64_t next;              /* index of the next message */
    int64_t received;

    /* COR_MAILBOX_MBOX */
    struct mailmbox_folder *folder;
    gboolean mboxrd;
    size_t line_pos;            /* newlines before this offset ... */
    uint64_t line_no;           /* ... are this many (counted lazily) */

    /* the other formats: one file per message */
    GArray *files;              /* mail_file_t */
};

typedef enum sniff {
    SNIFF_EMPTY,
    SNIFF_XZ,
    SNIFF_GZIP,
    SNIFF_MBOX,
    SNIFF_MESSAGE,
    SNIFF_BINARY,
    SNIFF_TEXT,
} sniff_t;

static void set_err(char **err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
set_err(char **err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    g_free(*err);
    va_start(ap, fmt);
    *err = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

static cor_status_t
errno_status(int e)
{
    switch (e) {
    case ENOENT: case ENOTDIR: return COR_ERR_NOT_FOUND;
    case ENOSPC: case EDQUOT:  return COR_ERR_DISK_FULL;
    case ENOMEM:               return COR_ERR_NOMEM;
    default:                   return COR_ERR_IO;
    }
}

/* ---- small helpers ------------------------------------------------------ */

/* Orders names with digit runs compared as numbers ("2" < "10"), then
 * byte-wise, so that the order is total and does not depend on the locale. */
static int
natural_cmp(const char *a, const char *b)
{
    const char *x = a, *y = b;

    while (*x != '\0' && *y != '\0') {
        if (g_ascii_isdigit(*x) && g_ascii_isdigit(*y)) {
            while (*x == '0') x++;
            while (*y == '0') y++;
            size_t nx = 0, ny = 0;
            while (g_ascii_isdigit(x[nx])) nx++;
            while (g_ascii_isdigit(y[ny])) ny++;
            if (nx != ny)
                return nx < ny ? -1 : 1;
            int c = memcmp(x, y, nx);
            if (c != 0)
                return c;
            x += nx;
            y += ny;
        } else if (*x != *y) {
            return (unsigned char) *x < (unsigned char) *y ? -1 : 1;
        } else {
            x++;
            y++;
        }
    }
    if (*x != *y)
        return (unsigned char) *x < (unsigned char) *y ? -1 : 1;
    return strcmp(a, b);
}

static int
natural_cmp_ptr(gconstpointer a, gconstpointer b)
{
    return natural_cmp(*(char *const *) a, *(char *const *) b);
}

static int
mail_file_cmp(gconstpointer a, gconstpointer b)
{
    const char *pa = ((const mail_file_t *) a)->path;
    const char *pb = ((const mail_file_t *) b)->path;
    const char *ba = strrchr(pa, '/'), *bb = strrchr(pb, '/');
    int c = natural_cmp(ba ? ba + 1 : pa, bb ? bb + 1 : pb);
    return c != 0 ? c : strcmp(pa, pb);
}

static void
mail_file_clear(gpointer p)
{
    g_free(((mail_file_t *) p)->path);
}

static gboolean
is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static gboolean
is_maildir(const char *dir)
{
    g_autofree char *cur = g_build_filename(dir, "cur", NULL);
    g_autofree char *new = g_build_filename(dir, "new", NULL);
    return is_dir(cur) || is_dir(new);
}

/* Reads up to `max` bytes from the start of `path`.  Returns the count, or -1
 * with errno set. */
static ssize_t
read_head(const char *path, char *buf, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got < max) {
        ssize_t n = read(fd, buf + got, max - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t) n;
    }
    close(fd);
    return (ssize_t) got;
}

/* Reads a whole file into one g_malloc'ed buffer.  FALSE with errno set. */
static gboolean
read_whole(const char *path, char **out, size_t *out_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return FALSE;
    struct stat st;
    int bad = fstat(fd, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (bad != 0) {
        int e = bad;
        close(fd);
        errno = e;
        return FALSE;
    }
    size_t cap = (size_t) st.st_size + 1, len = 0;
    char *buf = g_malloc(cap);
    for (;;) {
        if (len == cap) {
            cap *= 2;
            buf = g_realloc(buf, cap);
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            g_free(buf);
            close(fd);
            errno = e;
            return FALSE;
        }
        if (n == 0)
            break;
        len += (size_t) n;
    }
    close(fd);
    *out = buf;
    *out_len = len;
    return TRUE;
}

static cor_status_t
write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno_status(errno);
        buf += n;
        len -= (size_t) n;
    }
    return COR_OK;
}

static int
remove_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st; (void) flag; (void) ftw;
    if (remove(path) < 0)
        cor_log_warning("cannot remove temporary file '%s': %s", path, g_strerror(errno));
    return 0;
}

/* Creates the private temporary folder on first use. */
static cor_status_t
workdir_get(cor_mailbox_t *mb, char **err)
{
    if (mb->workdir != NULL)
        return COR_OK;
    char *tmpl = g_build_filename(mb->tmpdir, "corridor-mailbox-XXXXXX", NULL);
    if (g_mkdtemp_full(tmpl, 0700) == NULL) {
        int e = errno;
        set_err(err, "%s: cannot create a temporary folder in '%s': %s",
                mb->path, mb->tmpdir, g_strerror(e));
        g_free(tmpl);
        return errno_status(e);
    }
    mb->workdir = tmpl;
    return COR_OK;
}

/* ---- recognising content ------------------------------------------------ */

/* Header names that make a block of "Name: value" lines mail rather than
 * some other key-value text. */
static const char *const mail_headers[] = {
    "from", "to", "cc", "bcc", "subject", "date", "message-id", "sender",
    "reply-to", "in-reply-to", "references", "received", "return-path",
    "delivered-to", "envelope-to", "x-original-to", "mime-version",
    "content-type", "content-transfer-encoding", "list-id", "resent-from",
    "resent-date", "resent-message-id", "dkim-signature", "arc-seal",
    "authentication-results", "received-spf", "user-agent",
};

static gboolean
is_mail_header(const char *name, size_t len)
{
    for (size_t i = 0; i < G_N_ELEMENTS(mail_headers); i++)
        if (strlen(mail_headers[i]) == len && g_ascii_strncasecmp(name, mail_headers[i], len) == 0)
            return TRUE;
    return FALSE;
}

/* Length of the field name if `line` is a header field ("Name: value", also
 * the obsolete "Name : value"), else 0. */
static size_t
field_name_len(const char *line, size_t len)
{
    size_t n = 0;
    while (n < len && line[n] >= 33 && line[n] <= 126 && line[n] != ':')
        n++;
    if (n == 0)
        return 0;
    size_t i = n;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return i < len && line[i] == ':' ? n : 0;
}

typedef enum header_end {
    HB_BLANK,      /* ended at an empty line */
    HB_OTHER,      /* ended at a line that is not a field */
    HB_EOF,        /* the data ended inside the block */
} header_end_t;

/* Walks the header block at the start of [p, end).  Returns how it ended;
 * *fields counts the fields, *known those with a common mail name.  When
 * `complete` is FALSE the data is a prefix, and its last partial line is not
 * judged. */
static header_end_t
scan_header_block(const char *p, const char *end, gboolean complete,
                  unsigned *fields, unsigned *known)
{
    *fields = 0;
    *known = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        if (nl == NULL && !complete)
            return HB_EOF;
        const char *le = nl ? nl : end;
        size_t len = (size_t) (le - p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (len == 0 && nl != NULL)
            return HB_BLANK;
        if (memchr(p, '\0', len) != NULL)
            return HB_OTHER;
        if (p[0] == ' ' || p[0] == '\t') {
            if (*fields == 0)
                return HB_OTHER;
        } else {
            size_t n = field_name_len(p, len);
            if (n == 0)
                return HB_OTHER;
            (*fields)++;
            if (is_mail_header(p, n))
                (*known)++;
        }
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return HB_EOF;
}

static gboolean
looks_like_headers(const char *p, size_t len, gboolean complete)
{
    unsigned fields, known;
    header_end_t e = scan_header_block(p, p + len, complete, &fields, &known);
    return e != HB_OTHER && fields > 0 && known > 0;
}

/* Real mail with damaged headers is still mail: a leading space before the
 * first field, a stray line inside the block, obsolete "Name  :" syntax, a
 * missing blank line.  Lenient test, used only when the strict one fails and
 * the data is not binary: most of the first (up to 40) lines are fields and
 * at least two of them carry common mail header names, so a README or other
 * "Key: value" text is not taken for mail; and the first line must be a field
 * (after any leading white space). */
static gboolean
looks_like_damaged_headers(const char *p, size_t len)
{
    const char *end = p + len;
    unsigned lines = 0, fields = 0, known = 0;
    while (p < end && lines < 40) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *le = nl ? nl : end;
        size_t l = (size_t) (le - p);
        if (l > 0 && p[l - 1] == '\r')
            l--;
        if (l == 0)
            break;                      /* the blank line ending the block */
        lines++;
        const char *q = p;
        while (q < p + l && (*q == ' ' || *q == '\t'))
            q++;
        if (q > p && fields > 0) {
            fields++;                   /* a continuation line */
        } else {
            size_t n = field_name_len(q, (size_t) (p + l - q));
            if (n > 0) {
                fields++;
                if (is_mail_header(q, n))
                    known++;
            } else if (lines == 1) {
                return FALSE;           /* mail starts with a field */
            }
        }
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return known >= 2 && fields * 4 >= lines * 3;
}

static gboolean
looks_binary(const char *buf, size_t len)
{
    size_t ctl = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) buf[i];
        if (c == 0)
            return TRUE;
        if ((c < 32 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 27) || c == 127)
            ctl++;
    }
    return ctl * 32 > len;
}

/* `complete`: buf holds the whole file. */
static sniff_t
sniff(const char *buf, size_t len, gboolean complete)
{
    if (len == 0)
        return SNIFF_EMPTY;
    if (len >= 6 && memcmp(buf, "\xFD" "7zXZ\0", 6) == 0)
        return SNIFF_XZ;
    if (len >= 2 && (unsigned char) buf[0] == 0x1F && (unsigned char) buf[1] == 0x8B)
        return SNIFF_GZIP;
    if (len >= 5 && memcmp(buf, "From ", 5) == 0) {
        const char *nl = memchr(buf, '\n', len);
        if (nl != NULL && looks_like_headers(nl + 1, len - (size_t) (nl + 1 - buf), complete))
            return SNIFF_MBOX;
    } else if (looks_like_headers(buf, len, complete)) {
        return SNIFF_MESSAGE;
    }
    if (looks_binary(buf, len))
        return SNIFF_BINARY;
    return looks_like_damaged_headers(buf, len) ? SNIFF_MESSAGE : SNIFF_TEXT;
}

/* ---- mbox "From " line dates -------------------------------------------- */

static int
month_index(const char *s, size_t len)
{
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    if (len != 3)
        return -1;
    for (int i = 0; i < 12; i++)
        if (g_ascii_strncasecmp(s, months + 3 * i, 3) == 0)
            return i + 1;
    return -1;
}

static gboolean
parse_uint(const char *s, size_t len, int *out)
{
    if (len == 0 || len > 9)
        return FALSE;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!g_ascii_isdigit(s[i]))
            return FALSE;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return TRUE;
}

/* The date of an mbox "From " line: "From sender Mon Jan  3 12:34:56 2005"
 * (asctime), also with a zone before or after the year ("... 2005 +0100",
 * "... PST 2005"); only numeric zones are applied, names are taken as UTC.
 * Returns seconds since the epoch, or 0 when there is no usable date. */
static int64_t
from_line_date(const char *line, size_t len)
{
    struct { const char *s; size_t n; } tok[16];
    int ntok = 0;
    size_t i = 0;

    while (i < len && ntok < (int) G_N_ELEMENTS(tok)) {
        while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
            i++;
        if (i >= len)
            break;
        size_t start = i;
        while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n')
            i++;
        tok[ntok].s = line + start;
        tok[ntok].n = i - start;
        ntok++;
    }
    for (int m = 2; m + 2 < ntok; m++) {
        int mon = month_index(tok[m].s, tok[m].n);
        int day, h, mi, s = 0, year = -1, offset = 0;
        if (mon < 0 || !parse_uint(tok[m + 1].s, tok[m + 1].n, &day))
            continue;
        const char *t = tok[m + 2].s;
        size_t tn = tok[m + 2].n;
        if (!((tn == 5 || tn == 8) && t[2] == ':' && parse_uint(t, 2, &h) && parse_uint(t + 3, 2, &mi)))
            continue;
        if (tn == 8 && !(t[5] == ':' && parse_uint(t + 6, 2, &s)))
            continue;
        for (int k = m + 3; k < ntok && k <= m + 5; k++) {
            const char *z = tok[k].s;
            size_t zn = tok[k].n;
            int v;
            if (year < 0 && zn == 4 && parse_uint(z, 4, &v)) {
                year = v;
            } else if (zn == 5 && (z[0] == '+' || z[0] == '-') && parse_uint(z + 1, 4, &v)) {
                offset = (v / 100 * 3600 + v % 100 * 60) * (z[0] == '-' ? -1 : 1);
            }
        }
        if (year < 0)
            continue;
        GDateTime *dt = g_date_time_new_utc(year, mon, day, h, mi, s);
        if (dt == NULL)
            return 0;
        int64_t when = g_date_time_to_unix(dt) - offset;
        g_date_time_unref(dt);
        return when > 0 ? when : 0;
    }
    return 0;
}

/* ---- decompression ------------------------------------------------------ */

static cor_status_t
write_chunk(const cor_mailbox_t *mb, int fd, const uint8_t *buf, size_t len, char **err)
{
    cor_status_t status = write_all(fd, buf, len);
    if (status != COR_OK)
        set_err(err, "%s: cannot write the decompressed copy in '%s': %s",
                mb->path, mb->workdir, g_strerror(errno));
    return status;
}

static cor_status_t
decompress_xz(const cor_mailbox_t *mb, const uint8_t *in, size_t in_len, int out, char **err)
{
    lzma_stream strm = LZMA_STREAM_INIT;
    lzma_mt mt = {
        .flags = LZMA_CONCATENATED,
        .threads = CLAMP(g_get_num_processors(), 1, 8),
        .timeout = 0,
        .memlimit_threading = lzma_physmem() / 4,
        .memlimit_stop = UINT64_MAX,
    };
    if (mt.memlimit_threading == 0)
        mt.memlimit_threading = 256u << 20;

    lzma_ret ret = lzma_stream_decoder_mt(&strm, &mt);
    if (ret != LZMA_OK) {
        set_err(err, "%s: cannot start the xz decoder (liblzma error %d)", mb->path, (int) ret);
        return ret == LZMA_MEM_ERROR ? COR_ERR_NOMEM : COR_ERR_INTERNAL;
    }
    uint8_t *buf = g_malloc(IO_CHUNK);
    cor_status_t status = COR_OK;
    strm.next_in = in;
    strm.avail_in = in_len;
    for (;;) {
        strm.next_out = buf;
        strm.avail_out = IO_CHUNK;
        ret = lzma_code(&strm, LZMA_FINISH);
        size_t produced = IO_CHUNK - strm.avail_out;
        if (produced > 0 && (status = write_chunk(mb, out, buf, produced, err)) != COR_OK)
            break;
        if (ret == LZMA_OK)
            continue;
        if (ret == LZMA_STREAM_END)
            break;
        switch (ret) {
        case LZMA_BUF_ERROR:
            status = COR_ERR_TRUNCATED;
            set_err(err, "%s: compressed stream is truncated (xz)", mb->path);
            break;
        case LZMA_MEM_ERROR:
            status = COR_ERR_NOMEM;
            set_err(err, "%s: out of memory decompressing xz data", mb->path);
            break;
        case LZMA_OPTIONS_ERROR:
        case LZMA_UNSUPPORTED_CHECK:
            status = COR_ERR_UNSUPPORTED;
            set_err(err, "%s: unsupported xz options or check (liblzma error %d)", mb->path, (int) ret);
            break;
        default: /* LZMA_DATA_ERROR, LZMA_FORMAT_ERROR, ... */
            status = COR_ERR_FORMAT;
            set_err(err, "%s: xz data is corrupt (liblzma error %d)", mb->path, (int) ret);
            break;
        }
        break;
    }
    lzma_end(&strm);
    g_free(buf);
    return status;
}

static cor_status_t
decompress_gzip(const cor_mailbox_t *mb, const uint8_t *in, size_t in_len, int out, char **err)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        set_err(err, "%s: cannot start the gzip decoder", mb->path);
        return COR_ERR_NOMEM;
    }
    uint8_t *buf = g_malloc(IO_CHUNK);
    const uint8_t *end = in + in_len;
    cor_status_t status = COR_OK;
    z.next_in = (Bytef *) in;
    z.avail_in = 0;
    for (;;) {
        if (z.avail_in == 0) {
            size_t left = (size_t) (end - z.next_in);
            z.avail_in = (uInt) MIN(left, (size_t) 1 << 30);
        }
        z.next_out = buf;
        z.avail_out = IO_CHUNK;
        int r = inflate(&z, Z_NO_FLUSH);
        size_t produced = IO_CHUNK - z.avail_out;
        if (produced > 0 && (status = write_chunk(mb, out, buf, produced, err)) != COR_OK)
            break;
        if (r == Z_STREAM_END) {
            /* another gzip member ("cat a.gz b.gz"), zero padding, or garbage */
            const uint8_t *rest = z.next_in;
            size_t left = (size_t) (end - rest);
            if (left == 0)
                break;
            if (left >= 2 && rest[0] == 0x1F && rest[1] == 0x8B) {
                inflateReset(&z);
                z.avail_in = 0;
                continue;
            }
            size_t k = 0;
            while (k < left && rest[k] == 0)
                k++;
            if (k == left)
                break;
            status = COR_ERR_FORMAT;
            set_err(err, "%s: unexpected data after the gzip stream", mb->path);
            break;
        }
        if (r == Z_OK || r == Z_BUF_ERROR) {
            if (z.avail_in == 0 && z.next_in == end && z.avail_out != 0) {
                status = COR_ERR_TRUNCATED;
                set_err(err, "%s: compressed stream is truncated (gzip)", mb->path);
                break;
            }
            continue;
        }
        status = r == Z_MEM_ERROR ? COR_ERR_NOMEM : COR_ERR_FORMAT;
        set_err(err, "%s: gzip data is corrupt: %s", mb->path, z.msg ? z.msg : "unknown error");
        break;
    }
    inflateEnd(&z);
    g_free(buf);
    return status;
}

/* Decompresses `mb->path` into workdir/content; *out_path (transfer full). */
static cor_status_t
decompress(cor_mailbox_t *mb, sniff_t kind, const struct stat *st, char **out_path, char **err)
{
    cor_status_t status = workdir_get(mb, err);
    if (status != COR_OK)
        return status;

    int in = open(mb->path, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        int e = errno;
        set_err(err, "%s: %s", mb->path, g_strerror(e));
        return errno_status(e);
    }
    size_t in_len = (size_t) st->st_size;
    void *map = mmap(NULL, in_len, PROT_READ, MAP_PRIVATE, in, 0);
    int e = errno;
    close(in);
    if (map == MAP_FAILED) {
        set_err(err, "%s: cannot map the file: %s", mb->path, g_strerror(e));
        return errno_status(e);
    }
    madvise(map, in_len, MADV_SEQUENTIAL);

    char *path = g_build_filename(mb->workdir, "content", NULL);
    int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        e = errno;
        set_err(err, "%s: cannot create '%s': %s", mb->path, path, g_strerror(e));
        munmap(map, in_len);
        g_free(path);
        return errno_status(e);
    }
    if (kind == SNIFF_XZ)
        status = decompress_xz(mb, map, in_len, out, err);
    else
        status = decompress_gzip(mb, map, in_len, out, err);
    munmap(map, in_len);
    if (close(out) < 0 && status == COR_OK) {
        e = errno;
        set_err(err, "%s: cannot write the decompressed copy '%s': %s", mb->path, path, g_strerror(e));
        status = errno_status(e);
    }
    if (status != COR_OK) {
        g_free(path);
        return status;
    }
    *out_path = path;
    return COR_OK;
}

/* ---- mbox --------------------------------------------------------------- */

/* Advances the line counter to byte `pos` and returns its 1-based line. */
static uint64_t
line_at(cor_mailbox_t *mb, size_t pos)
{
    const char *map = mb->folder->mb_mapping;
    if (pos < mb->line_pos) {
        mb->line_pos = 0;
        mb->line_no = 0;
    }
    const char *p = map + mb->line_pos, *end = map + pos;
    while (p < end && (p = memchr(p, '\n', (size_t) (end - p))) != NULL) {
        mb->line_no++;
        p++;
    }
    mb->line_pos = pos;
    return mb->line_no + 1;
}

/* True when a line /^>>+From / exists: the file is mboxrd (see mailbox.h). */
static gboolean
detect_mboxrd(const char *data, size_t len)
{
    const char *p = data, *end = data + len, *hit;
    while (p < end && (hit = memmem(p, (size_t) (end - p), ">From ", 6)) != NULL) {
        const char *q = hit;
        while (q > data && q[-1] == '>')
            q--;
        if (q < hit && (q == data || q[-1] == '\n'))
            return TRUE;
        p = hit + 6;
    }
    return FALSE;
}

/* Copies one message, removing one '>' from ">From " lines (mboxo: only
 * lines with exactly one '>'; mboxrd: any number). */
static GBytes *
mbox_unescape(const char *msg, size_t len, gboolean mboxrd)
{
    char *out = g_malloc(len > 0 ? len : 1);
    size_t o = 0;
    const char *p = msg, *end = msg + len, *copied = msg, *hit;

    while (p < end && (hit = memmem(p, (size_t) (end - p), ">From ", 6)) != NULL) {
        const char *q = hit;
        while (q > msg && q[-1] == '>')
            q--;
        if ((q == msg || q[-1] == '\n') && (mboxrd || q == hit)) {
            memcpy(out + o, copied, (size_t) (q - copied));
            o += (size_t) (q - copied);
            copied = q + 1;
        }
        p = hit + 6;
    }
    memcpy(out + o, copied, (size_t) (end - copied));
    o += (size_t) (end - copied);
    return g_bytes_new_take(out, o);
}

/* Byte range of message `idx` (without the "From " line and the empty line
 * that separates it from the next one). */
static gboolean
mbox_message_range(cor_mailbox_t *mb, unsigned idx, struct mailmbox_msg_info **pinfo,
                   const char **pdata, size_t *plen)
{
    struct mailmbox_folder *f = mb->folder;
    struct mailmbox_msg_info *info = carray_get(f->mb_tab, idx);
    char *data;
    size_t len;

    if (mailmbox_fetch_msg_no_lock(f, info->msg_uid, &data, &len) != MAILMBOX_NO_ERROR)
        return FALSE;
    if (idx + 1 == carray_count(f->mb_tab)) {
        /* libetpan's end of the last message is unreliable: see the notes */
        const char *end = f->mb_mapping + f->mb_mapping_size;
        len = (size_t) (end - data);
        if (len >= 2 && end[-1] == '\n' && end[-2] == '\n')
            len -= 1;
        else if (len >= 4 && memcmp(end - 4, "\r\n\r\n", 4) == 0)
            len -= 2;
    }
    *pinfo = info;
    *pdata = data;
    *plen = len;
    return TRUE;
}

static cor_status_t
open_mbox(cor_mailbox_t *mb, const char *content, gboolean is_temp, char **err)
{
    g_autofree char *link = NULL;
    cor_status_t status;

    if (!is_temp) {
        /* see the notes: libetpan's dot-lock goes next to this link */
        if ((status = workdir_get(mb, err)) != COR_OK)
            return status;
        g_autofree char *target = g_canonicalize_filename(content, NULL);
        link = g_build_filename(mb->workdir, "mbox", NULL);
        if (symlink(target, link) < 0) {
            int e = errno;
            set_err(err, "%s: cannot create '%s': %s", mb->path, link, g_strerror(e));
            return errno_status(e);
        }
        content = link;
    }

    int r = mailmbox_init(content, 1 /* read-only */, 1 /* write no UIDs */, 0, &mb->folder);
    if (r != MAILMBOX_NO_ERROR) {
        mb->folder = NULL;
        switch (r) {
        case MAILMBOX_ERROR_MEMORY:
            set_err(err, "%s: out of memory reading the mbox", mb->path);
            return COR_ERR_NOMEM;
        case MAILMBOX_ERROR_PARSE:
            set_err(err, "%s: cannot parse the mbox", mb->path);
            return COR_ERR_FORMAT;
        default:
            set_err(err, "%s: cannot open the mbox (libetpan error %d)", mb->path, r);
            return COR_ERR_IO;
        }
    }
    struct mailmbox_folder *f = mb->folder;
    mb->format = COR_MAILBOX_MBOX;
    mb->count = carray_count(f->mb_tab);
    if (mb->count == 0) {
        set_err(err, "%s: no mail found", mb->path);
        return COR_ERR_FORMAT;
    }
    madvise(f->mb_mapping, f->mb_mapping_size, MADV_SEQUENTIAL);
    mb->mboxrd = detect_mboxrd(f->mb_mapping, f->mb_mapping_size);

    /* invariant 1: the last message must not end inside its header block */
    unsigned last = (unsigned) mb->count - 1;
    struct mailmbox_msg_info *info;
    const char *data;
    size_t len;
    if (!mbox_message_range(mb, last, &info, &data, &len)) {
        set_err(err, "%s: cannot read message %u", mb->path, last + 1);
        return COR_ERR_INTERNAL;
    }
    /* scan to the end of the file: the empty line that ends the header
     * block may be the one mbox_message_range took for the separator */
    unsigned fields, known;
    const char *map_end = f->mb_mapping + f->mb_mapping_size;
    if (info->msg_start_len == 0
        || scan_header_block(data, map_end, TRUE, &fields, &known) == HB_EOF) {
        uint64_t line = line_at(mb, info->msg_start);
        set_err(err, "%s: line %" PRIu64 ": mbox is truncated inside a header block (message %u)",
                mb->path, line, last + 1);
        return COR_ERR_TRUNCATED;
    }
    mb->line_pos = 0;
    mb->line_no = 0;
    return COR_OK;
}

static cor_status_t
next_mbox(cor_mailbox_t *mb, GBytes **data, char **label, char **err)
{
    unsigned idx = (unsigned) mb->next++;
    struct mailmbox_msg_info *info;
    const char *msg;
    size_t len;

    if (!mbox_message_range(mb, idx, &info, &msg, &len)) {
        *label = g_strdup_printf("%s: message %u", mb->path, idx + 1);
        set_err(err, "%s: cannot read the message", *label);
        return COR_ERR_INTERNAL;
    }
    uint64_t line = line_at(mb, info->msg_start);
    *label = g_strdup_printf("%s: message %u (line %" PRIu64 ")", mb->path, idx + 1, line);
    *data = mbox_unescape(msg, len, mb->mboxrd);
    mb->received = from_line_date(mb->folder->mb_mapping + info->msg_start, info->msg_start_len);
    return COR_OK;
}

/* ---- folders ------------------------------------------------------------ */

typedef struct scan {
    cor_mailbox_t *mb;
    GHashTable *seen;          /* "dev:ino" of the folders walked */
    gboolean found_maildir;
    char *shadow;              /* the shadow maildir shown to libetpan */
} scan_t;

static void
add_file(cor_mailbox_t *mb, GArray *to, char *path, const struct stat *st)
{
    mail_file_t f = { path, st ? (int64_t) st->st_mtime : 0 };
    g_array_append_val(to ? to : mb->files, f);
}

/* Points shadow/cur and shadow/new at the maildir's folders (or empty
 * folders when one is missing). */
static cor_status_t
shadow_link(scan_t *s, const char *dir, char **err)
{
    static const char *const subs[] = { "cur", "new" };
    for (size_t i = 0; i < G_N_ELEMENTS(subs); i++) {
        g_autofree char *real = g_build_filename(dir, subs[i], NULL);
        g_autofree char *link = g_build_filename(s->shadow, subs[i], NULL);
        int r;
        if (is_dir(real)) {
            g_autofree char *target = g_canonicalize_filename(real, NULL);
            r = symlink(target, link);
        } else {
            r = mkdir(link, 0700);
        }
        if (r < 0) {
            int e = errno;
            set_err(err, "%s: cannot create '%s': %s", s->mb->path, link, g_strerror(e));
            return errno_status(e);
        }
    }
    return COR_OK;
}

static void
shadow_unlink(scan_t *s)
{
    static const char *const subs[] = { "cur", "new" };
    for (size_t i = 0; i < G_N_ELEMENTS(subs); i++) {
        g_autofree char *link = g_build_filename(s->shadow, subs[i], NULL);
        if (remove(link) < 0 && errno != ENOENT)
            cor_log_warning("cannot remove temporary '%s': %s", link, g_strerror(errno));
    }
}

/* Appends the messages of the maildir `dir` (cur/ and new/), sorted. */
static cor_status_t
list_maildir(scan_t *s, const char *dir, char **err)
{
    cor_mailbox_t *mb = s->mb;
    cor_status_t status;

    if (s->shadow == NULL) {
        if ((status = workdir_get(mb, err)) != COR_OK)
            return status;
        s->shadow = g_build_filename(mb->workdir, "maildir", NULL);
        if (mkdir(s->shadow, 0700) < 0) {
            int e = errno;
            set_err(err, "%s: cannot create '%s': %s", mb->path, s->shadow, g_strerror(e));
            return errno_status(e);
        }
    }
    if ((status = shadow_link(s, dir, err)) != COR_OK) {
        shadow_unlink(s);
        return status;
    }

    struct maildir *md = maildir_new(s->shadow);
    if (md == NULL) {
        shadow_unlink(s);
        set_err(err, "%s: out of memory listing the maildir", dir);
        return COR_ERR_NOMEM;
    }
    int r = maildir_update(md);
    if (r != MAILDIR_NO_ERROR) {
        maildir_free(md);
        shadow_unlink(s);
        set_err(err, "%s: cannot list the maildir (libetpan error %d)", dir, r);
        return r == MAILDIR_ERROR_MEMORY ? COR_ERR_NOMEM : COR_ERR_IO;
    }

    GArray *found = g_array_new(FALSE, FALSE, sizeof(mail_file_t));
    for (unsigned i = 0; i < carray_count(md->mdir_msg_list); i++) {
        struct maildir_msg *m = carray_get(md->mdir_msg_list, i);
        const char *sub = (m->msg_flags & MAILDIR_FLAG_NEW) ? "new" : "cur";
        char *path = g_build_filename(dir, sub, m->msg_filename, NULL);
        struct stat st;
        if (stat(path, &st) == 0) {
            if (!S_ISREG(st.st_mode)) {      /* libetpan lists folders too */
                g_free(path);
                continue;
            }
            add_file(mb, found, path, &st);
        } else {
            add_file(mb, found, path, NULL); /* cor_mailbox_next reports it */
        }
    }
    maildir_free(md);
    shadow_unlink(s);

    g_array_sort(found, mail_file_cmp);
    g_array_append_vals(mb->files, found->data, found->len);
    g_array_free(found, TRUE);
    s->found_maildir = TRUE;
    return COR_OK;
}

/* Warns when a "From "-led file in a folder seems to hold more than one
 * message: it is read as one (see the notes). */
static void
warn_if_multi_mbox(const char *path, const struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    size_t len = (size_t) st->st_size;
    char *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return;
    unsigned more = 0;
    const char *p = map, *end = map + len, *hit;
    while (p < end && (hit = memmem(p, (size_t) (end - p), "\n\nFrom ", 7)) != NULL) {
        const char *nl = memchr(hit + 2, '\n', (size_t) (end - hit - 2));
        if (nl != NULL && looks_like_headers(nl + 1, (size_t) (end - nl - 1), TRUE))
            more++;
        p = hit + 2;
    }
    munmap(map, len);
    if (more > 0)
        cor_log_warning("'%s' starts with a \"From \" line and may hold %u messages; "
                        "it is read as one message (import it on its own to read it as an mbox)",
                        path, more + 1);
}

static cor_status_t
scan_dir(scan_t *s, const char *dir, int depth, char **err)
{
    cor_mailbox_t *mb = s->mb;
    struct stat st;
    cor_status_t status = COR_OK;

    if (depth > MAX_DEPTH) {
        cor_log_warning("skipping '%s': folders nested deeper than %d", dir, MAX_DEPTH);
        return COR_OK;
    }
    if (stat(dir, &st) < 0) {
        int e = errno;
        set_err(err, "%s: %s", dir, g_strerror(e));
        return errno_status(e);
    }
    char *key = g_strdup_printf("%ju:%ju", (uintmax_t) st.st_dev, (uintmax_t) st.st_ino);
    if (!g_hash_table_add(s->seen, key))
        return COR_OK;                     /* a symbolic link loop */

    DIR *d = opendir(dir);
    if (d == NULL) {
        int e = errno;
        set_err(err, "%s: cannot read the folder: %s", dir, g_strerror(e));
        return errno_status(e);
    }
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    struct dirent *ent;
    errno = 0;
    while ((ent = readdir(d)) != NULL) {
        if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0)
            g_ptr_array_add(names, g_strdup(ent->d_name));
        errno = 0;
    }
    int e = errno;
    closedir(d);
    if (e != 0) {
        set_err(err, "%s: cannot read the folder: %s", dir, g_strerror(e));
        g_ptr_array_free(names, TRUE);
        return errno_status(e);
    }
    g_ptr_array_sort(names, natural_cmp_ptr);

    gboolean maildir = is_maildir(dir);
    if (maildir && (status = list_maildir(s, dir, err)) != COR_OK) {
        g_ptr_array_free(names, TRUE);
        return status;
    }

    GPtrArray *subdirs = g_ptr_array_new_with_free_func(g_free);
    char *head = g_malloc(SNIFF_SIZE);
    for (guint i = 0; i < names->len && status == COR_OK; i++) {
        const char *name = names->pdata[i];
        if (maildir && (strcmp(name, "cur") == 0 || strcmp(name, "new") == 0
                        || strcmp(name, "tmp") == 0))
            continue;
        char *path = g_build_filename(dir, name, NULL);
        if (stat(path, &st) < 0) {
            cor_log_warning("skipping '%s': %s", path, g_strerror(errno));
            g_free(path);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (name[0] != '.' || is_maildir(path)) {   /* Maildir++ ".Sent" */
                g_ptr_array_add(subdirs, path);
                path = NULL;
            }
        } else if (S_ISREG(st.st_mode) && name[0] != '.') {
            ssize_t n = read_head(path, head, SNIFF_SIZE);
            if (n < 0) {
                e = errno;
                set_err(err, "%s: cannot read: %s", path, g_strerror(e));
                status = errno_status(e);
            } else {
                sniff_t kind = sniff(head, (size_t) n, (off_t) n == st.st_size);
                if (kind == SNIFF_MESSAGE || kind == SNIFF_MBOX) {
                    if (kind == SNIFF_MBOX)
                        warn_if_multi_mbox(path, &st);
                    add_file(mb, NULL, path, &st);
                    path = NULL;
                } else if (kind == SNIFF_XZ || kind == SNIFF_GZIP) {
                    cor_log_warning("skipping '%s': a compressed file inside a folder "
                                    "(import it on its own)", path);
                } else if (n > 0) {
                    cor_log_debug("skipping '%s': not a mail message", path);
                }
            }
        }
        g_free(path);
    }
    g_free(head);
    g_ptr_array_free(names, TRUE);

    for (guint i = 0; i < subdirs->len && status == COR_OK; i++)
        status = scan_dir(s, subdirs->pdata[i], depth + 1, err);
    g_ptr_array_free(subdirs, TRUE);
    return status;
}

static cor_status_t
open_dir(cor_mailbox_t *mb, char **err)
{
    scan_t s = { .mb = mb, .seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL) };
    cor_status_t status = scan_dir(&s, mb->path, 0, err);
    g_hash_table_destroy(s.seen);
    g_free(s.shadow);
    if (status != COR_OK)
        return status;
    if (mb->files->len == 0) {
        set_err(err, "%s: no mail found", mb->path);
        return COR_ERR_FORMAT;
    }
    mb->format = s.found_maildir ? COR_MAILBOX_MAILDIR : COR_MAILBOX_MH;
    mb->count = mb->files->len;
    return COR_OK;
}

static cor_status_t
next_file(cor_mailbox_t *mb, GBytes **data, char **label, char **err)
{
    const mail_file_t *f = &g_array_index(mb->files, mail_file_t, mb->next);
    char *buf;
    size_t len;

    mb->next++;
    *label = g_strdup(mb->format == COR_MAILBOX_MESSAGE ? mb->path : f->path);
    if (!read_whole(f->path, &buf, &len)) {
        int e = errno;
        set_err(err, "%s: cannot read: %s", *label, g_strerror(e));
        return COR_ERR_IO;
    }
    mb->received = f->mtime;
    if (len >= 5 && memcmp(buf, "From ", 5) == 0) {
        /* a file in a folder with an mbox "From " line: see the notes */
        const char *nl = memchr(buf, '\n', len);
        size_t skip = nl ? (size_t) (nl + 1 - buf) : len;
        int64_t when = from_line_date(buf, skip);
        if (when != 0)
            mb->received = when;
        memmove(buf, buf + skip, len - skip);
        len -= skip;
    }
    *data = g_bytes_new_take(buf, len);
    return COR_OK;
}

/* ---- single files ------------------------------------------------------- */

static cor_status_t
open_file(cor_mailbox_t *mb, const struct stat *st, char **err)
{
    char *head = g_malloc(SNIFF_SIZE);
    g_autofree char *content = NULL;
    const char *how = "";
    cor_status_t status = COR_OK;

    if (st->st_size == 0) {
        set_err(err, "%s: empty file", mb->path);
        g_free(head);
        return COR_ERR_FORMAT;
    }
    ssize_t n = read_head(mb->path, head, SNIFF_SIZE);
    if (n < 0) {
        int e = errno;
        set_err(err, "%s: cannot read: %s", mb->path, g_strerror(e));
        g_free(head);
        return errno_status(e);
    }
    sniff_t kind = sniff(head, (size_t) n, (off_t) n == st->st_size);

    if (kind == SNIFF_XZ || kind == SNIFF_GZIP) {
        how = kind == SNIFF_XZ ? " after xz decompression" : " after gzip decompression";
        status = decompress(mb, kind, st, &content, err);
        if (status != COR_OK)
            goto out;
        struct stat cst;
        if (stat(content, &cst) < 0 || (n = read_head(content, head, SNIFF_SIZE)) < 0) {
            int e = errno;
            set_err(err, "%s: cannot read the decompressed copy '%s': %s", mb->path, content, g_strerror(e));
            status = errno_status(e);
            goto out;
        }
        kind = sniff(head, (size_t) n, (off_t) n == cst.st_size);
        if (kind == SNIFF_XZ || kind == SNIFF_GZIP)
            kind = SNIFF_BINARY;     /* compressed twice: not something we read */
    }

    switch (kind) {
    case SNIFF_MBOX:
        status = open_mbox(mb, content ? content : mb->path, content != NULL, err);
        break;
    case SNIFF_MESSAGE:
        mb->format = COR_MAILBOX_MESSAGE;
        add_file(mb, NULL, content ? g_steal_pointer(&content) : g_strdup(mb->path), st);
        mb->count = 1;
        break;
    case SNIFF_EMPTY:
        set_err(err, "%s: empty file%s", mb->path, how);
        status = COR_ERR_FORMAT;
        break;
    case SNIFF_BINARY:
        set_err(err, "%s: not a mailbox or message (binary data%s)", mb->path, how);
        status = COR_ERR_FORMAT;
        break;
    default:
        set_err(err, "%s: not a mailbox or message (no \"From \" line or header block%s)",
                mb->path, how);
        status = COR_ERR_FORMAT;
        break;
    }
out:
    g_free(head);
    return status;
}

/* ---- the API ------------------------------------------------------------ */

cor_status_t
cor_mailbox_open(const char *path, const char *tmpdir, cor_mailbox_t **out, char **err)
{
    struct stat st;
    cor_status_t status;

    g_return_val_if_fail(path != NULL && out != NULL, COR_ERR_INVALID);
    *out = NULL;
    if (err != NULL)
        *err = NULL;

    if (stat(path, &st) < 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR) {
            set_err(err, "%s: no such file or directory", path);
            return COR_ERR_NOT_FOUND;
        }
        set_err(err, "%s: %s", path, g_strerror(e));
        return errno_status(e);
    }

    cor_mailbox_t *mb = g_new0(cor_mailbox_t, 1);
    mb->path = g_strdup(path);
    mb->tmpdir = g_strdup(tmpdir != NULL ? tmpdir : g_get_tmp_dir());
    mb->files = g_array_new(FALSE, FALSE, sizeof(mail_file_t));
    g_array_set_clear_func(mb->files, mail_file_clear);

    if (S_ISDIR(st.st_mode)) {
        status = open_dir(mb, err);
    } else if (S_ISREG(st.st_mode)) {
        status = open_file(mb, &st, err);
    } else {
        set_err(err, "%s: not a regular file or folder", path);
        status = COR_ERR_FORMAT;
    }
    if (status != COR_OK) {
        cor_mailbox_close(mb);
        return status;
    }
    *out = mb;
    return COR_OK;
}

cor_mailbox_format_t
cor_mailbox_format(const cor_mailbox_t *mb)
{
    return mb->format;
}

uint64_t
cor_mailbox_count(const cor_mailbox_t *mb)
{
    return mb->count;
}

cor_status_t
cor_mailbox_next(cor_mailbox_t *mb, GBytes **data, char **label, char **err)
{
    g_return_val_if_fail(mb != NULL && data != NULL && label != NULL, COR_ERR_INVALID);
    *data = NULL;
    *label = NULL;
    if (err != NULL)
        *err = NULL;
    if (mb->next >= mb->count)
        return COR_DONE;
    if (mb->format == COR_MAILBOX_MBOX)
        return next_mbox(mb, data, label, err);
    return next_file(mb, data, label, err);
}

int64_t
cor_mailbox_received(const cor_mailbox_t *mb)
{
    return mb->received;
}

void
cor_mailbox_close(cor_mailbox_t *mb)
{
    if (mb == NULL)
        return;
    if (mb->folder != NULL)
        mailmbox_done(mb->folder);     /* read-only: writes nothing */
    if (mb->files != NULL)
        g_array_free(mb->files, TRUE);
    if (mb->workdir != NULL)
        nftw(mb->workdir, remove_cb, 16, FTW_DEPTH | FTW_PHYS);
    g_free(mb->workdir);
    g_free(mb->tmpdir);
    g_free(mb->path);
    g_free(mb);
}
