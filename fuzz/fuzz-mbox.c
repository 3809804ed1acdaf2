/* fuzz/fuzz-mbox.c — splitting a mailbox file into messages
 * (core/mailbox.h), from a temporary file.
 *
 * Input: the file's bytes (an mbox, a single message, or anything; xz and
 * gzip streams are recognised by their magic and unpacked first).
 *
 * Invariants (mailbox.h):
 *   1. opening either fails with a documented status (NOT_FOUND, IO,
 *      FORMAT, TRUNCATED) and a one-line reason naming the file, or gives
 *      a format and a count;
 *   2. iteration returns exactly `count` results (messages or per-message
 *      COR_ERR_IO), then COR_DONE, and COR_DONE again when asked again;
 *   3. every message has a label (valid UTF-8) and non-empty bytes; an
 *      uncompressed mbox's messages together are no longer than the file
 *      (un-escaping and separators only remove bytes);
 *   4. opening the same file twice gives the same messages.
 */
#include "fuzz/fuzz.h"

#include "core/mailbox.h"

static bool
compressed(const uint8_t *data, size_t size)
{
    return (size >= 6 && memcmp(data, "\xfd" "7zXZ\0", 6) == 0) ||
           (size >= 2 && data[0] == 0x1f && data[1] == 0x8b);
}

/* Reads the whole mailbox; returns the messages (GBytes, NULL for an
 * unreadable one) or NULL when it does not open. */
static GPtrArray *
read_all(const char *path, cor_mailbox_format_t *fmt)
{
    g_autoptr(cor_mailbox_t) mb = NULL;
    g_autofree char *err = NULL;
    cor_status_t s = cor_mailbox_open(path, fuzz_tmp_dir(), &mb, &err);
    if (s != COR_OK) {
        FUZZ_CHECK(s == COR_ERR_NOT_FOUND || s == COR_ERR_IO || s == COR_ERR_FORMAT ||
                       s == COR_ERR_TRUNCATED,
                   "open gave %s", cor_status_to_string(s));
        FUZZ_CHECK(err && fuzz_utf8(err) && !strchr(err, '\n'), "open failed without one line: '%s'",
                   err ? err : "(null)");
        FUZZ_CHECK(mb == NULL, "a mailbox with a failure");
        return NULL;
    }
    FUZZ_CHECK(mb != NULL, "no mailbox");
    *fmt = cor_mailbox_format(mb);
    uint64_t count = cor_mailbox_count(mb);
    GPtrArray *msgs = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
    for (;;) {
        GBytes *b = NULL;
        g_autofree char *label = NULL, *e = NULL;
        s = cor_mailbox_next(mb, &b, &label, &e);
        if (s == COR_DONE)
            break;
        FUZZ_CHECK(s == COR_OK || s == COR_ERR_IO, "next gave %s", cor_status_to_string(s));
        FUZZ_CHECK(label && fuzz_utf8(label), "message %u without a label", msgs->len);
        FUZZ_CHECK(msgs->len < count, "more than the %" G_GUINT64_FORMAT " messages counted", count);
        if (s == COR_OK) {
            FUZZ_CHECK(b && g_bytes_get_size(b) > 0, "message %u (%s) is empty", msgs->len, label);
            g_ptr_array_add(msgs, b);
        } else {
            FUZZ_CHECK(e != NULL, "a failed message without a reason");
            g_ptr_array_add(msgs, NULL);
        }
    }
    FUZZ_CHECK(msgs->len == count, "%u messages, %" G_GUINT64_FORMAT " counted", msgs->len, count);
    GBytes *b = NULL;
    g_autofree char *label = NULL, *e = NULL;
    FUZZ_CHECK(cor_mailbox_next(mb, &b, &label, &e) == COR_DONE, "not done after the end");
    return msgs;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_setup();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 262144)
        return 0;
    const char *path = fuzz_write_file("input.mbox", data, size);
    cor_mailbox_format_t fmt = COR_MAILBOX_MESSAGE;
    g_autoptr(GPtrArray) msgs = read_all(path, &fmt);
    if (!msgs)
        return 0;
    FUZZ_CHECK(fmt == COR_MAILBOX_MBOX || fmt == COR_MAILBOX_MESSAGE, "format %d for a file", fmt);
    size_t total = 0;
    for (guint i = 0; i < msgs->len; i++) {
        if (!msgs->pdata[i])
            continue;
        gsize n;
        g_bytes_get_data(msgs->pdata[i], &n);
        total += n;
    }
    if (!compressed(data, size))
        FUZZ_CHECK(total <= size, "%zu bytes of messages from a file of %zu", total, size);

    cor_mailbox_format_t fmt2;
    g_autoptr(GPtrArray) again = read_all(path, &fmt2);
    FUZZ_CHECK(again && fmt2 == fmt && again->len == msgs->len, "a second read differs");
    for (guint i = 0; i < msgs->len; i++)
        FUZZ_CHECK((!msgs->pdata[i] && !again->pdata[i]) ||
                       (msgs->pdata[i] && again->pdata[i] && g_bytes_equal(msgs->pdata[i], again->pdata[i])),
                   "message %u differs on a second read", i);
    return 0;
}
