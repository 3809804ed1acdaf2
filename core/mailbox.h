/* core/mailbox.h — reading existing archives, message by message.
 *
 * Purpose: `corridor import` reads mbox files (mboxo and mboxrd), .xz and .gz
 * compressed mbox files, maildirs (cur/ and new/, and a folder of maildirs such
 * as notmuch's test corpora, searched recursively), MH-style folders of one
 * message per file, and single message files (.eml).  The format is recognised
 * from the *content*, never from the file name: xz and gzip by their magic
 * bytes, mbox by a first line "From " followed by header lines, a single
 * message by a valid header block, a maildir by its cur/new/tmp folders.
 *
 * libetpan reads the mailboxes (mailmbox for mbox, maildir for maildirs);
 * liblzma/zlib (or GIO converters) decompress to a temporary file first.
 *
 * mbox escaping: in mboxrd, ">From " lines with one or more '>' lose one '>';
 * in mboxo only ">From " (exactly one '>') becomes "From ".  Auto-detection: a
 * file with any line matching /^>>+From / is mboxrd, otherwise mboxo rules are
 * applied (identical for all lines but those).
 *
 * Invariants:
 *   1. Opening validates the whole container before any message is returned:
 *      a truncated compressed stream, a binary file, a directory with no mail,
 *      or an mbox whose last message ends inside its header block gives an
 *      error from cor_mailbox_open, so a caller can refuse to import anything.
 *   2. Each message is returned as its exact original bytes (after mbox
 *      un-escaping, without the "From " separator line), with a label that
 *      names it in error messages ("FILE: message 12 (line 3456)" or the
 *      maildir file path).
 *   3. A message that cannot be read (unreadable maildir file) is reported by
 *      cor_mailbox_next with COR_ERR_IO and its label; iteration can continue.
 */
#ifndef COR_MAILBOX_H
#define COR_MAILBOX_H

#include <glib.h>
#include <stdint.h>

#include "core/status.h"

typedef struct cor_mailbox cor_mailbox_t;

typedef enum cor_mailbox_format {
    COR_MAILBOX_MBOX,
    COR_MAILBOX_MAILDIR,   /* one maildir, or a tree containing maildirs */
    COR_MAILBOX_MH,        /* a folder of one-message files */
    COR_MAILBOX_MESSAGE,   /* one message file */
} cor_mailbox_format_t;

/* Opens `path` and recognises its format.  `tmpdir` is where decompressed
 * copies go (NULL: g_get_tmp_dir()); they are removed by cor_mailbox_close.
 * On error, *err (when not NULL) is one line naming the path and the reason,
 * e.g. "x.mbox: line 812: mbox is truncated inside a header block"
 * (transfer full).  Statuses: COR_ERR_NOT_FOUND, COR_ERR_IO, COR_ERR_FORMAT
 * (binary / not mail / directory without mail), COR_ERR_TRUNCATED. */
cor_status_t cor_mailbox_open(const char *path, const char *tmpdir,
                              cor_mailbox_t **out, char **err);

cor_mailbox_format_t cor_mailbox_format(const cor_mailbox_t *mb);

/* Number of messages found (known after open for every format). */
uint64_t cor_mailbox_count(const cor_mailbox_t *mb);

/* Returns the next message: COR_OK with *data (transfer full, GBytes) and
 * *label (transfer full, g_free); COR_DONE at the end; COR_ERR_IO with *label
 * and *err set for a message that could not be read (call again to go on). */
cor_status_t cor_mailbox_next(cor_mailbox_t *mb, GBytes **data, char **label,
                              char **err);

/* Receive time to use for a message without a Date header: the mbox "From "
 * line's date, the maildir file's mtime, or 0 when unknown.  Refers to the
 * message returned by the last successful cor_mailbox_next. */
int64_t cor_mailbox_received(const cor_mailbox_t *mb);

void cor_mailbox_close(cor_mailbox_t *mb);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_mailbox_t, cor_mailbox_close)

#endif
