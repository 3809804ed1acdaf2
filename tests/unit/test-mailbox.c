/* Unit tests for core/mailbox: format recognition from content, exact message
 * bytes after mbox un-escaping, maildir/MH/tree walking order, compressed
 * archives, validation errors (each naming the path), and the real corpora.
 *
 * Fixtures: tests/data/mailbox/ under $CORRIDOR_SRC (default ".", the repo
 * root).  Real corpora: $CORRIDOR_CORPORA or $CORRIDOR_SRC/../shared/corpora;
 * the corpus tests fail when they are missing.  Compressed, binary and broken
 * inputs are made at run time in a scratch folder. */
#include <glib.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <ftw.h>
#include <lzma.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/mailbox.h"

/* ---- helpers ------------------------------------------------------------ */

static const char *
src_dir(void)
{
    const char *s = g_getenv("CORRIDOR_SRC");
    return s != NULL && *s != '\0' ? s : ".";
}

static char *
fixture(const char *name)
{
    return g_build_filename(src_dir(), "tests", "data", "mailbox", name, NULL);
}

/* The corpora folder, or NULL after failing the test. */
static char *
corpora_dir(void)
{
    const char *env = g_getenv("CORRIDOR_CORPORA");
    char *dir = env != NULL && *env != '\0' ? g_strdup(env)
                                            : g_build_filename(src_dir(), "..", "shared", "corpora", NULL);
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_test_fail_printf("corpora not found at '%s' (set CORRIDOR_CORPORA)", dir);
        g_free(dir);
        return NULL;
    }
    return dir;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st; (void) flag; (void) ftw;
    remove(path);
    return 0;
}

/* A test's folders: `work` is given to cor_mailbox_open as its tmpdir and
 * must be empty again after every close; `scratch` holds made-up inputs. */
typedef struct dirs {
    char *work;
    char *scratch;
} dirs_t;

static void
dirs_init(dirs_t *d)
{
    GError *error = NULL;
    d->work = g_dir_make_tmp("corridor-mbx-work-XXXXXX", &error);
    g_assert_no_error(error);
    d->scratch = g_dir_make_tmp("corridor-mbx-data-XXXXXX", &error);
    g_assert_no_error(error);
}

static void
assert_work_empty(const dirs_t *d)
{
    GDir *dir = g_dir_open(d->work, 0, NULL);
    g_assert_nonnull(dir);
    const char *left = g_dir_read_name(dir);
    g_assert_cmpstr(left, ==, NULL);    /* no temporary file left behind */
    g_dir_close(dir);
}

static void
dirs_done(dirs_t *d)
{
    assert_work_empty(d);
    g_assert_cmpint(g_rmdir(d->work), ==, 0);
    nftw(d->scratch, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    g_free(d->work);
    g_free(d->scratch);
}

static char *
scratch_file(const dirs_t *d, const char *name, const void *data, size_t len)
{
    char *path = g_build_filename(d->scratch, name, NULL);
    GError *error = NULL;
    g_file_set_contents(path, data, (gssize) len, &error);
    g_assert_no_error(error);
    return path;
}

static GBytes *
read_file(const char *path)
{
    char *data;
    gsize len;
    GError *error = NULL;
    g_file_get_contents(path, &data, &len, &error);
    g_assert_no_error(error);
    return g_bytes_new_take(data, len);
}

static int64_t
mtime_of(const char *path)
{
    struct stat st;
    g_assert_cmpint(stat(path, &st), ==, 0);
    return (int64_t) st.st_mtime;
}

static GBytes *
xz_compress(GBytes *in)
{
    gsize len;
    const uint8_t *data = g_bytes_get_data(in, &len);
    size_t cap = lzma_stream_buffer_bound(len), pos = 0;
    uint8_t *out = g_malloc(cap);
    g_assert_cmpint(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, data, len, out, &pos, cap),
                    ==, LZMA_OK);
    return g_bytes_new_take(out, pos);
}

static GBytes *
gzip_compress(GBytes *in)
{
    gsize len;
    const uint8_t *data = g_bytes_get_data(in, &len);
    z_stream z;
    memset(&z, 0, sizeof z);
    g_assert_cmpint(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), ==, Z_OK);
    size_t cap = deflateBound(&z, len) + 64;
    uint8_t *out = g_malloc(cap);
    z.next_in = (Bytef *) data;
    z.avail_in = (uInt) len;
    z.next_out = out;
    z.avail_out = (uInt) cap;
    g_assert_cmpint(deflate(&z, Z_FINISH), ==, Z_STREAM_END);
    size_t n = z.total_out;
    deflateEnd(&z);
    return g_bytes_new_take(out, n);
}

typedef struct msg {
    char *label;
    GBytes *data;
    int64_t received;
} msg_t;

static void
msg_free(gpointer p)
{
    msg_t *m = p;
    g_free(m->label);
    g_bytes_unref(m->data);
    g_free(m);
}

/* Opens `path`, checks its format and count, and reads every message. */
static GPtrArray *
read_all(const dirs_t *d, const char *path, cor_mailbox_format_t format)
{
    cor_mailbox_t *mb = NULL;
    char *err = NULL;
    cor_status_t s = cor_mailbox_open(path, d->work, &mb, &err);
    if (s != COR_OK)
        g_test_message("open '%s': %s", path, err);
    g_assert_cmpint(s, ==, COR_OK);
    g_assert_null(err);
    g_assert_cmpint(cor_mailbox_format(mb), ==, format);

    GPtrArray *msgs = g_ptr_array_new_with_free_func(msg_free);
    for (;;) {
        msg_t *m = g_new0(msg_t, 1);
        s = cor_mailbox_next(mb, &m->data, &m->label, &err);
        if (s == COR_DONE) {
            g_free(m);
            break;
        }
        if (s != COR_OK)
            g_test_message("next in '%s': %s", path, err);
        g_assert_cmpint(s, ==, COR_OK);
        g_assert_nonnull(m->data);
        g_assert_nonnull(m->label);
        m->received = cor_mailbox_received(mb);
        g_ptr_array_add(msgs, m);
    }
    g_assert_cmpuint(cor_mailbox_count(mb), ==, msgs->len);
    /* COR_DONE again at the end */
    GBytes *data = NULL;
    char *label = NULL;
    g_assert_cmpint(cor_mailbox_next(mb, &data, &label, &err), ==, COR_DONE);
    cor_mailbox_close(mb);
    assert_work_empty(d);
    return msgs;
}

static void
assert_bytes(GBytes *got, const char *want)
{
    gsize len;
    const char *data = g_bytes_get_data(got, &len);
    g_autofree char *text = g_strndup(data, len);
    g_assert_cmpstr(text, ==, want);
    g_assert_cmpuint(len, ==, strlen(want));
}

/* Opens `path` expecting an error: the status, a one-line message that
 * names the path and contains `fragment`. */
static void
assert_open_fails(const dirs_t *d, const char *path, cor_status_t want, const char *fragment)
{
    cor_mailbox_t *mb = NULL;
    char *err = NULL;
    cor_status_t s = cor_mailbox_open(path, d->work, &mb, &err);
    g_test_message("open '%s': %s", path, err ? err : "(no message)");
    g_assert_cmpint(s, ==, want);
    g_assert_null(mb);
    g_assert_nonnull(err);
    g_assert_true(g_str_has_prefix(err, path));
    g_assert_null(strchr(err, '\n'));
    if (fragment != NULL)
        g_assert_nonnull(strstr(err, fragment));
    g_free(err);
    assert_work_empty(d);
}

/* ---- mbox: exact bytes -------------------------------------------------- */

typedef struct want_msg {
    const char *bytes;
    unsigned line;
    int64_t received;
} want_msg_t;

static const struct {
    const char *file;
    unsigned count;
    want_msg_t msgs[3];
} mbox_cases[] = {
    /* mboxo: no ">>From " line, so only ">From " loses its '>'; the last
     * message has no final empty line and keeps its last line */
    { "mboxo.mbox", 3, {
        { "Return-Path: <alice@example.org>\n"
          "From: Alice <alice@example.org>\n"
          "To: list@example.org\n"
          "Subject: escaped lines\n"
          "Date: Mon, 03 Jan 2005 12:34:56 +0000\n"
          "Message-ID: <mboxo-1@example.org>\n"
          "\n"
          "From the start of a line this was escaped.\n"
          "Not escaped: >From in the middle, and\n"
          ">Fromage is no separator.\n", 1, 1104755696 },
        { "From: Bob <bob@example.org>\n"
          "To: list@example.org\n"
          "Subject: empty body\n"
          "Message-ID: <mboxo-2@example.org>\n"
          "\n", 13, 1107219723 },
        { "From: Carol <carol@example.org>\n"
          "Subject: no final blank line\n"
          "Message-ID: <mboxo-3@example.org>\n"
          "\n"
          "second to last line\n"
          "last line\n", 20, 1109754000 /* 10:00 +0100 */ },
    } },
    /* mboxrd (a ">>From " line exists): every >+From line loses one '>' */
    { "mboxrd.mbox", 2, {
        { "From: Alice <alice@example.org>\n"
          "Subject: quoting\n"
          "Message-ID: <mboxrd-1@example.org>\n"
          "\n"
          "From one\n"
          ">From two\n"
          ">>From three\n"
          " >From indented stays\n"
          ">>Fromage stays\n", 1, 1104755696 },
        { "From: Bob <bob@example.org>\n"
          "Subject: second\n"
          "Message-ID: <mboxrd-2@example.org>\n"
          "\n"
          "body\n"
          "From last line\n", 12, 1107219723 },
    } },
    { "crlf.mbox", 2, {
        { "From: A <a@example.org>\r\n"
          "Subject: crlf one\r\n"
          "Message-ID: <crlf-1@example.org>\r\n"
          "\r\n"
          "From escaped\r\n"
          "body one\r\n", 1, 1104755696 },
        { "From: B <b@example.org>\r\n"
          "Subject: crlf two\r\n"
          "Message-ID: <crlf-2@example.org>\r\n"
          "\r\n"
          "body two\r\n", 9, 1104755700 },
    } },
};

static void
test_mbox_exact_bytes(void)
{
    dirs_t d;
    dirs_init(&d);
    for (size_t i = 0; i < G_N_ELEMENTS(mbox_cases); i++) {
        g_autofree char *path = fixture(mbox_cases[i].file);
        GPtrArray *msgs = read_all(&d, path, COR_MAILBOX_MBOX);
        g_assert_cmpuint(msgs->len, ==, mbox_cases[i].count);
        for (guint k = 0; k < msgs->len; k++) {
            const msg_t *m = msgs->pdata[k];
            const want_msg_t *w = &mbox_cases[i].msgs[k];
            g_autofree char *label = g_strdup_printf("%s: message %u (line %u)", path, k + 1, w->line);
            g_assert_cmpstr(m->label, ==, label);
            assert_bytes(m->data, w->bytes);
            g_assert_cmpint(m->received, ==, w->received);
        }
        g_ptr_array_unref(msgs);
    }
    dirs_done(&d);
}

/* The date of the "From " line, through one-message mboxes. */
static void
test_mbox_received(void)
{
    static const struct { const char *from_line; int64_t want; } cases[] = {
        { "From a@example.org Mon Jan  3 12:34:56 2005", 1104755696 },
        { "From a@example.org  Sat Feb  5 09:19:10 2022", 1644052750 },
        { "From a@example.org Mon Jan 3 12:34:56 2005 +0100", 1104755696 - 3600 },
        { "From a@example.org Mon Jan 3 12:34:56 2005 -0030", 1104755696 + 1800 },
        { "From a@example.org Mon Jan  3 12:34:56 PST 2005", 1104755696 },
        { "From a@example.org Mon Jan  3 12:34 2005", 1104755696 - 56 },
        { "From mboxrd@z Thu Jan  1 00:00:00 1970", 0 },
        { "From MAILER-DAEMON no date here", 0 },
        { "From a@example.org Mon Jan 32 12:34:56 2005", 0 },
    };
    dirs_t d;
    dirs_init(&d);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text = g_strdup_printf("%s\nFrom: a@example.org\nSubject: %zu\n\nbody\n",
                                                cases[i].from_line, i);
        g_autofree char *path = scratch_file(&d, "dated", text, strlen(text));
        GPtrArray *msgs = read_all(&d, path, COR_MAILBOX_MBOX);
        g_assert_cmpuint(msgs->len, ==, 1);
        g_test_message("%s", cases[i].from_line);
        g_assert_cmpint(((msg_t *) msgs->pdata[0])->received, ==, cases[i].want);
        g_ptr_array_unref(msgs);
    }
    dirs_done(&d);
}

/* ---- single message, maildir, trees, MH ---------------------------------- */

static void
test_single_message(void)
{
    dirs_t d;
    dirs_init(&d);
    g_autofree char *path = fixture("single.eml");
    GPtrArray *msgs = read_all(&d, path, COR_MAILBOX_MESSAGE);
    g_assert_cmpuint(msgs->len, ==, 1);
    const msg_t *m = msgs->pdata[0];
    g_assert_cmpstr(m->label, ==, path);
    GBytes *want = read_file(path);
    g_assert_true(g_bytes_equal(m->data, want));
    g_assert_cmpint(m->received, ==, mtime_of(path));
    g_bytes_unref(want);
    g_ptr_array_unref(msgs);
    dirs_done(&d);
}

static const struct {
    const char *folder;
    cor_mailbox_format_t format;
    const char *files[8];       /* in the order they must come */
} folder_cases[] = {
    /* cur/ and new/ merged in file-name order; tmp/ and dot files skipped */
    { "maildir", COR_MAILBOX_MAILDIR, {
        "cur/1104755696.M1P100.host:2,S",
        "new/1104755697.M2P100.host",
        "cur/1104755698.M3P100.host:2,RS",
    } },
    /* loose files first, then sub-folders: Maildir++ ".Sent" yes, ".notmuch"
     * no, notes.txt is not mail */
    { "tree", COR_MAILBOX_MAILDIR, {
        "loose:2,",
        ".Sent/cur/1104755700.M1P1.host:2,S",
        "a-inbox/cur/1104755701.M1P1.host:2,S",
        "a-inbox/new/1104755702.M1P1.host",
        "lists/dev/cur/1104755703.M1P1.host:2,",
        "lists/users/new/1104755704.M1P1.host",
    } },
    /* numeric order; .mh_sequences and a note skipped */
    { "mh", COR_MAILBOX_MH, { "1", "2", "10" } },
};

static void
test_folders(void)
{
    dirs_t d;
    dirs_init(&d);
    for (size_t i = 0; i < G_N_ELEMENTS(folder_cases); i++) {
        g_autofree char *dir = fixture(folder_cases[i].folder);
        GPtrArray *msgs = read_all(&d, dir, folder_cases[i].format);
        guint n = 0;
        while (n < G_N_ELEMENTS(folder_cases[i].files) && folder_cases[i].files[n] != NULL)
            n++;
        g_assert_cmpuint(msgs->len, ==, n);
        for (guint k = 0; k < n; k++) {
            const msg_t *m = msgs->pdata[k];
            g_autofree char *path = g_build_filename(dir, folder_cases[i].files[k], NULL);
            g_assert_cmpstr(m->label, ==, path);
            GBytes *want = read_file(path);
            g_assert_true(g_bytes_equal(m->data, want));
            g_bytes_unref(want);
            g_assert_cmpint(m->received, ==, mtime_of(path));
        }
        g_ptr_array_unref(msgs);
    }
    dirs_done(&d);
}

/* A maildir file that cannot be read is reported by next with its label,
 * and iteration goes on. */
static void
test_maildir_unreadable(void)
{
    dirs_t d;
    dirs_init(&d);
    g_autofree char *cur = g_build_filename(d.scratch, "md", "cur", NULL);
    g_assert_cmpint(g_mkdir_with_parents(cur, 0700), ==, 0);
    const char *text = "From: a@example.org\nSubject: fine\n\nbody\n";
    g_autofree char *ok = scratch_file(&d, "md/cur/2:2,S", text, strlen(text));
    g_autofree char *gone = g_build_filename(cur, "1:2,S", NULL);
    g_assert_cmpint(symlink("/nonexistent/corridor-test", gone), ==, 0);
    g_autofree char *md = g_build_filename(d.scratch, "md", NULL);

    cor_mailbox_t *mb = NULL;
    char *err = NULL, *label = NULL;
    GBytes *data = NULL;
    g_assert_cmpint(cor_mailbox_open(md, d.work, &mb, &err), ==, COR_OK);
    g_assert_cmpuint(cor_mailbox_count(mb), ==, 2);

    g_assert_cmpint(cor_mailbox_next(mb, &data, &label, &err), ==, COR_ERR_IO);
    g_assert_null(data);
    g_assert_cmpstr(label, ==, gone);
    g_assert_nonnull(err);
    g_assert_true(g_str_has_prefix(err, gone));
    g_free(label);
    g_free(err);

    g_assert_cmpint(cor_mailbox_next(mb, &data, &label, &err), ==, COR_OK);
    g_assert_cmpstr(label, ==, ok);
    assert_bytes(data, text);
    g_free(label);
    g_bytes_unref(data);
    g_assert_cmpint(cor_mailbox_next(mb, &data, &label, &err), ==, COR_DONE);
    cor_mailbox_close(mb);
    dirs_done(&d);
}

/* ---- compressed archives ------------------------------------------------ */

static void
test_compressed(void)
{
    static const struct {
        const char *fixture;
        gboolean xz;
        cor_mailbox_format_t format;
    } cases[] = {
        { "mboxrd.mbox", TRUE,  COR_MAILBOX_MBOX },
        { "mboxrd.mbox", FALSE, COR_MAILBOX_MBOX },
        { "crlf.mbox",   TRUE,  COR_MAILBOX_MBOX },
        { "single.eml",  TRUE,  COR_MAILBOX_MESSAGE },
        { "single.eml",  FALSE, COR_MAILBOX_MESSAGE },
    };
    dirs_t d;
    dirs_init(&d);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *plain_path = fixture(cases[i].fixture);
        GBytes *plain = read_file(plain_path);
        GBytes *packed = cases[i].xz ? xz_compress(plain) : gzip_compress(plain);
        gsize len;
        const void *bytes = g_bytes_get_data(packed, &len);
        /* the name says nothing true: content decides */
        g_autofree char *path = scratch_file(&d, "archive.txt", bytes, len);

        GPtrArray *want = read_all(&d, plain_path, cases[i].format);
        GPtrArray *got = read_all(&d, path, cases[i].format);
        g_assert_cmpuint(got->len, ==, want->len);
        for (guint k = 0; k < got->len; k++) {
            const msg_t *g = got->pdata[k], *w = want->pdata[k];
            g_assert_true(g_bytes_equal(g->data, w->data));
            g_assert_true(g_str_has_prefix(g->label, path));
            if (cases[i].format == COR_MAILBOX_MBOX)
                g_assert_cmpint(g->received, ==, w->received);
        }
        g_ptr_array_unref(want);
        g_ptr_array_unref(got);
        g_bytes_unref(plain);
        g_bytes_unref(packed);
    }
    dirs_done(&d);
}

/* ---- errors ------------------------------------------------------------- */

typedef enum make {
    AS_IS,          /* the content, as a file */
    XZ,             /* xz of the content */
    GZ,             /* gzip of the content */
    XZ_CUT,         /* xz of the content, cut short */
    GZ_CUT,
    GZ_FLIPPED,     /* gzip with a corrupted byte in the middle */
} make_t;

static const char mbox_ok[] =
    "From a@example.org Mon Jan  3 12:34:56 2005\n"
    "From: A <a@example.org>\n"
    "Subject: complete\n"
    "\n"
    "fine\n"
    "\n";

static void
test_errors(void)
{
    static const char binary[] = "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0";
    static const struct {
        const char *name;
        make_t make;
        const char *content;
        size_t len;           /* 0: strlen(content) */
        size_t cut;           /* bytes cut off the end for *_CUT */
        cor_status_t status;
        const char *fragment;
    } cases[] = {
        { "empty",         AS_IS, "", 0, 0, COR_ERR_FORMAT, "empty" },
        { "binary",        AS_IS, binary, sizeof binary - 1, 0, COR_ERR_FORMAT, "binary data" },
        { "text",          AS_IS, "Hello,\nthis is a letter.\n", 0, 0, COR_ERR_FORMAT, "not a mailbox or message" },
        { "from-text",     AS_IS, "From here on we go.\nNo headers here.\n", 0, 0, COR_ERR_FORMAT, "not a mailbox or message" },
        { "key-value",     AS_IS, "Name: value\nOther: thing\n\nbody\n", 0, 0, COR_ERR_FORMAT, "not a mailbox or message" },
        /* an mbox whose last message ends inside its header block */
        { "cut-headers",   AS_IS, "From a@example.org Mon Jan  3 12:34:56 2005\n"
                                  "From: A <a@example.org>\nSubject: complete\n\nfine\n\n"
                                  "From b@example.org Mon Jan  3 12:35:00 2005\n"
                                  "From: B <b@example.org>\nSubject: cut", 0, 0,
                                  COR_ERR_TRUNCATED, "line 7: mbox is truncated inside a header block" },
        { "cut-from-line", AS_IS, "From a@example.org Mon Jan  3 12:34:56 2005\n"
                                  "From: A <a@example.org>\nSubject: complete\n\nfine\n\n"
                                  "From b@example.org Mon Jan", 0, 0,
                                  COR_ERR_TRUNCATED, "line 7" },
        { "cut-one",       AS_IS, "From a@example.org Mon Jan  3 12:34:56 2005\n"
                                  "From: A <a@example.org>\n", 0, 0,
                                  COR_ERR_TRUNCATED, "line 1" },
        { "xz-cut-end",    XZ_CUT, mbox_ok, 0, 10, COR_ERR_TRUNCATED, "truncated" },
        { "xz-cut-half",   XZ_CUT, mbox_ok, 0, 60, COR_ERR_TRUNCATED, "truncated" },
        { "gz-cut-end",    GZ_CUT, mbox_ok, 0, 4, COR_ERR_TRUNCATED, "truncated" },
        { "gz-cut-half",   GZ_CUT, mbox_ok, 0, 40, COR_ERR_TRUNCATED, "truncated" },
        { "gz-corrupt",    GZ_FLIPPED, mbox_ok, 0, 0, COR_ERR_FORMAT, "corrupt" },
        { "xz-binary",     XZ, binary, sizeof binary - 1, 0, COR_ERR_FORMAT, "binary data after xz" },
        { "gz-text",       GZ, "just text\n", 0, 0, COR_ERR_FORMAT, "after gzip" },
        { "xz-empty",      XZ, "", 0, 0, COR_ERR_FORMAT, "empty" },
    };
    dirs_t d;
    dirs_init(&d);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].content);
        GBytes *content = g_bytes_new_static(cases[i].content, len);
        GBytes *file;
        switch (cases[i].make) {
        case XZ: case XZ_CUT: file = xz_compress(content); break;
        case GZ: case GZ_CUT: case GZ_FLIPPED: file = gzip_compress(content); break;
        default: file = g_bytes_ref(content); break;
        }
        gsize flen;
        const uint8_t *fdata = g_bytes_get_data(file, &flen);
        g_autofree uint8_t *copy = g_memdup2(fdata, flen ? flen : 1);
        if (cases[i].make == XZ_CUT || cases[i].make == GZ_CUT) {
            g_assert_cmpuint(flen, >, cases[i].cut);
            flen -= cases[i].cut;
        }
        if (cases[i].make == GZ_FLIPPED)
            copy[flen / 2] ^= 0x55;
        g_autofree char *path = scratch_file(&d, cases[i].name, copy, flen);
        assert_open_fails(&d, path, cases[i].status, cases[i].fragment);
        g_bytes_unref(content);
        g_bytes_unref(file);
    }

    /* fixtures and folders */
    g_autofree char *truncated = fixture("truncated.mbox");
    assert_open_fails(&d, truncated, COR_ERR_TRUNCATED, "line 7: mbox is truncated inside a header block");
    g_autofree char *missing = g_build_filename(d.scratch, "no-such-mailbox", NULL);
    assert_open_fails(&d, missing, COR_ERR_NOT_FOUND, "no such file or directory");
    g_autofree char *under_file = g_build_filename(truncated, "x", NULL);
    assert_open_fails(&d, under_file, COR_ERR_NOT_FOUND, "no such file or directory");
    g_autofree char *empty_dir = g_build_filename(d.scratch, "empty-dir", NULL);
    g_assert_cmpint(g_mkdir(empty_dir, 0700), ==, 0);
    assert_open_fails(&d, empty_dir, COR_ERR_FORMAT, "no mail found");
    g_autofree char *notes_dir = g_build_filename(d.scratch, "notes-dir", NULL);
    g_assert_cmpint(g_mkdir(notes_dir, 0700), ==, 0);
    g_autofree char *note = scratch_file(&d, "notes-dir/todo", "Buy milk.\n", 10);
    g_autofree char *bin = scratch_file(&d, "notes-dir/blob", binary, sizeof binary - 1);
    assert_open_fails(&d, notes_dir, COR_ERR_FORMAT, "no mail found");
    dirs_done(&d);
}

/* ---- real corpora ------------------------------------------------------- */

static gboolean
starts_with_header_line(GBytes *b)
{
    gsize len;
    const char *p = g_bytes_get_data(b, &len);
    size_t n = 0;
    while (n < len && p[n] > 32 && p[n] < 127 && p[n] != ':')
        n++;
    return n > 0 && n < len && p[n] == ':';
}

static guint
count_lines_starting(GBytes *b, const char *prefix)
{
    gsize len;
    const char *p = g_bytes_get_data(b, &len), *end = p + len;
    size_t n = strlen(prefix);
    guint count = 0;
    while (p < end) {
        if ((size_t) (end - p) >= n && memcmp(p, prefix, n) == 0)
            count++;
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return count;
}

static void
test_corpus_linux_mips_2005(void)
{
    g_autofree char *corpora = corpora_dir();
    if (corpora == NULL)
        return;
    dirs_t d;
    dirs_init(&d);
    g_autofree char *path = g_build_filename(corpora, "linux-mips-2005.mbox", NULL);
    gint64 t0 = g_get_monotonic_time();
    GPtrArray *msgs = read_all(&d, path, COR_MAILBOX_MBOX);
    g_test_message("linux-mips-2005.mbox: %u messages in %.3f s", msgs->len,
                   (double) (g_get_monotonic_time() - t0) / 1e6);
    g_assert_cmpuint(msgs->len, ==, 2896);
    /* the file is mboxrd: its 9 ">From " lines and 3 ">>>From " lines lose
     * one '>' each (there is no ">>From " line) */
    guint from = 0, from1 = 0, from2 = 0;
    for (guint k = 0; k < msgs->len; k++) {
        const msg_t *m = msgs->pdata[k];
        if (!starts_with_header_line(m->data))
            g_test_message("%s does not start with a header line", m->label);
        g_assert_true(starts_with_header_line(m->data));
        g_autofree char *prefix = g_strdup_printf("%s: message %u (line ", path, k + 1);
        g_assert_true(g_str_has_prefix(m->label, prefix));
        from += count_lines_starting(m->data, "From ");
        from1 += count_lines_starting(m->data, ">From ");
        from2 += count_lines_starting(m->data, ">>From ");
    }
    g_assert_cmpuint(from, ==, 9);
    g_assert_cmpuint(from1, ==, 0);
    g_assert_cmpuint(from2, ==, 3);
    g_autofree char *first = g_strdup_printf("%s: message 1 (line 1)", path);
    g_assert_cmpstr(((msg_t *) msgs->pdata[0])->label, ==, first);
    g_assert_cmpint(((msg_t *) msgs->pdata[0])->received, ==, 1104586844); /* Sat Jan  1 13:40:44 2005 */
    g_ptr_array_unref(msgs);
    dirs_done(&d);
}

static void
test_corpus_notmuch(void)
{
    /* counts from the layout: every file is one message (README and
     * expected-trees/ are not mail) */
    static const struct {
        const char *folder;
        cor_mailbox_format_t format;
        guint count;
    } cases[] = {
        { "attachment",        COR_MAILBOX_MH,        2 },
        { "broken",            COR_MAILBOX_MH,        4 },   /* 2 + loop/ 2 */
        { "crypto",            COR_MAILBOX_MH,        4 },
        { "default",           COR_MAILBOX_MAILDIR,  53 },   /* maildirs and loose files, 01..53 */
        { "duplicate",         COR_MAILBOX_MH,        9 },
        { "html",              COR_MAILBOX_MH,        2 },
        { "indexing",          COR_MAILBOX_MH,        2 },
        { "insert",            COR_MAILBOX_MH,        1 },   /* a "From "-led file is one message */
        { "lkml",              COR_MAILBOX_MAILDIR, 210 },   /* cur/ only */
        { "mangling",          COR_MAILBOX_MH,        1 },
        { "pkcs7",             COR_MAILBOX_MH,        1 },
        { "protected-headers", COR_MAILBOX_MH,       19 },
        { "threading",         COR_MAILBOX_MAILDIR,  12 },   /* parent-priority/cur 3 + ghost-root 9 */
        { "",                  COR_MAILBOX_MAILDIR, 320 },   /* the whole tree */
    };
    g_autofree char *corpora = corpora_dir();
    if (corpora == NULL)
        return;
    dirs_t d;
    dirs_init(&d);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_build_filename(corpora, "notmuch", cases[i].folder, NULL);
        GPtrArray *msgs = read_all(&d, path, cases[i].format);
        g_test_message("notmuch/%s: %u messages", cases[i].folder, msgs->len);
        g_assert_cmpuint(msgs->len, ==, cases[i].count);
        for (guint k = 0; k < msgs->len; k++) {
            const msg_t *m = msgs->pdata[k];
            g_assert_true(starts_with_header_line(m->data));
            g_assert_true(g_str_has_prefix(m->label, path));
            g_assert_cmpint(m->received, >, 0);
        }
        g_ptr_array_unref(msgs);
    }
    g_autofree char *trees = g_build_filename(corpora, "notmuch", "expected-trees", NULL);
    assert_open_fails(&d, trees, COR_ERR_FORMAT, "no mail found");
    dirs_done(&d);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/mailbox/mbox/exact-bytes", test_mbox_exact_bytes);
    g_test_add_func("/mailbox/mbox/received", test_mbox_received);
    g_test_add_func("/mailbox/message/single", test_single_message);
    g_test_add_func("/mailbox/folders/order-and-bytes", test_folders);
    g_test_add_func("/mailbox/maildir/unreadable-file", test_maildir_unreadable);
    g_test_add_func("/mailbox/compressed", test_compressed);
    g_test_add_func("/mailbox/errors", test_errors);
    g_test_add_func("/mailbox/corpora/linux-mips-2005", test_corpus_linux_mips_2005);
    g_test_add_func("/mailbox/corpora/notmuch", test_corpus_notmuch);
    return g_test_run();
}
