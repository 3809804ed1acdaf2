/* fuzz/fuzz.h — what every corridor fuzz harness shares.
 *
 * Each fuzz/fuzz-TARGET.c defines libFuzzer's entry points:
 *
 *     int LLVMFuzzerInitialize(int *argc, char ***argv);   (once)
 *     int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 *
 * and is built two ways (fuzz/Makefile.local):
 *   - build-fuzz/fuzz/fuzz-TARGET: clang, -fsanitize=fuzzer,address,undefined,
 *     against libraries built with -fsanitize=fuzzer-no-link (make fuzz);
 *   - $(O)/fuzz/replay-TARGET: the normal (or ASan) build with fuzz/replay.c
 *     as main(), which runs the files named on its command line through the
 *     same entry points.  tests/T900-fuzz-regressions.sh replays every input
 *     in fuzz/regressions/TARGET/ with it, so no clang runtime is needed in
 *     `make test`.
 *
 * A harness checks the module's documented invariants, not only "no crash":
 * FUZZ_CHECK prints what did not hold and aborts, which libFuzzer reports as
 * a crash (and saves the input) and the replay driver as a failure.
 *
 * Temporary files go under g_get_tmp_dir() ($TMPDIR): `make fuzz` points it
 * at build-fuzz/tmp, T900 at its own folder.
 */
#ifndef COR_FUZZ_H
#define COR_FUZZ_H

#include <glib.h>
#include <glib/gstdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the module under test: on failure, say which and abort. */
#define FUZZ_CHECK(cond, ...)                                                     \
    do {                                                                          \
        if (G_UNLIKELY(!(cond))) {                                                \
            fprintf(stderr, "fuzz: %s:%d: invariant failed: %s: ", __FILE__,      \
                    __LINE__, #cond);                                             \
            fprintf(stderr, __VA_ARGS__);                                         \
            fputc('\n', stderr);                                                  \
            abort();                                                              \
        }                                                                         \
    } while (0)

/* Quiet library logging (errors still show) and make GLib criticals fatal:
 * a g_return_if_fail in GLib or GMime means corridor passed it something it
 * must not. */
static inline void
fuzz_setup(void)
{
    cor_log_set_level(COR_LOG_ERROR);
    g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
}

/* True when `s` is valid UTF-8 (NUL-terminated). */
static inline bool
fuzz_utf8(const char *s)
{
    return s != NULL && g_utf8_validate(s, -1, NULL);
}

/* True when `s` has no ASCII control character (C0 or DEL); `allow` lists
 * the ones that are fine ("\n\t"). */
static inline bool
fuzz_no_controls(const char *s, const char *allow)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++)
        if ((*p < 0x20 || *p == 0x7f) && !(allow && strchr(allow, *p)))
            return false;
    return true;
}

/* A private temporary folder for this process (made once, removed with
 * what is in it at exit) (transfer none). */
static char *fuzz_tmp_dir_path;

static inline void
fuzz_remove_tree(const char *path)
{
    GDir *d = g_file_test(path, G_FILE_TEST_IS_SYMLINK) ? NULL : g_dir_open(path, 0, NULL);
    if (d) {
        const char *n;
        while ((n = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(path, n, NULL);
            fuzz_remove_tree(p);
        }
        g_dir_close(d);
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

static inline void
fuzz_tmp_dir_remove(void)
{
    if (fuzz_tmp_dir_path)
        fuzz_remove_tree(fuzz_tmp_dir_path);
}

static inline const char *
fuzz_tmp_dir(void)
{
    if (!fuzz_tmp_dir_path) {
        GError *e = NULL;
        fuzz_tmp_dir_path = g_dir_make_tmp("corridor-fuzz.XXXXXX", &e);
        if (!fuzz_tmp_dir_path) {
            fprintf(stderr, "fuzz: cannot make a temporary folder: %s\n", e->message);
            abort();
        }
        atexit(fuzz_tmp_dir_remove);
    }
    return fuzz_tmp_dir_path;
}

/* Writes `size` bytes to NAME in the private folder, replacing it; returns
 * the path (transfer none: valid until the next call with the same name). */
static inline const char *
fuzz_write_file(const char *name, const uint8_t *data, size_t size)
{
    static GHashTable *paths;
    if (!paths)
        paths = g_hash_table_new(g_str_hash, g_str_equal);
    char *path = g_hash_table_lookup(paths, name);
    if (!path) {
        path = g_build_filename(fuzz_tmp_dir(), name, NULL);
        g_hash_table_insert(paths, g_strdup(name), path);
    }
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        fprintf(stderr, "fuzz: cannot write '%s'\n", path);
        abort();
    }
    return path;
}

/* Splits the input at `sep` bytes into at most `max` pieces (the last one
 * takes the rest); each piece is a NUL-terminated copy whose length is in
 * lens[i].  Returns the number of pieces (at least 1).  Free with
 * fuzz_pieces_free. */
static inline size_t
fuzz_split(const uint8_t *data, size_t size, char sep, size_t max, char **pieces, size_t *lens)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= size && n < max; i++) {
        if (i == size || (data[i] == (uint8_t) sep && n + 1 < max)) {
            lens[n] = i - start;
            pieces[n] = g_malloc(lens[n] + 1);
            memcpy(pieces[n], data + start, lens[n]);
            pieces[n][lens[n]] = '\0';
            n++;
            start = i + 1;
        }
    }
    return n;
}

static inline void
fuzz_pieces_free(char **pieces, size_t n)
{
    for (size_t i = 0; i < n; i++)
        g_free(pieces[i]);
}

#endif
