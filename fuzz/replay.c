/* fuzz/replay.c — main() for a harness built without libFuzzer.
 *
 *     replay-TARGET FILE|DIR...
 *
 * Runs each file (each regular file of a folder, in name order) through the
 * harness's LLVMFuzzerTestOneInput once, as libFuzzer would when given the
 * file, and prints "replayed N inputs".  A failed invariant or a sanitizer
 * error aborts with the harness's message; the file being run is printed
 * first (on stderr) so the report names it.  Exit status: 0, or 2 when a
 * file cannot be read.  tests/T900-fuzz-regressions.sh uses it so that
 * `make test` (and `make test-asan`) replay every crash found without
 * clang's fuzzer runtime. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "fuzz/fuzz.h"

/* Not every harness has one: a weak reference is NULL then. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int
run_file(const char *path, unsigned *count)
{
    g_autofree char *buf = NULL;
    gsize len = 0;
    g_autoptr(GError) e = NULL;
    if (!g_file_get_contents(path, &buf, &len, &e)) {
        fprintf(stderr, "replay: cannot read '%s': %s\n", path, e->message);
        return 2;
    }
    fprintf(stderr, "replay: %s\n", path);
    /* a copy of exactly `len` bytes, so ASan sees reads past the end */
    uint8_t *copy = g_malloc(len ? len : 1);
    memcpy(copy, buf, len);
    LLVMFuzzerTestOneInput(copy, len);
    g_free(copy);
    (*count)++;
    return 0;
}

static int
by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    unsigned count = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        if (!g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
            rc |= run_file(argv[i], &count);
            continue;
        }
        g_autoptr(GError) e = NULL;
        GDir *d = g_dir_open(argv[i], 0, &e);
        if (!d) {
            fprintf(stderr, "replay: cannot read '%s': %s\n", argv[i], e->message);
            rc = 2;
            continue;
        }
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        const char *n;
        while ((n = g_dir_read_name(d)))
            g_ptr_array_add(names, g_build_filename(argv[i], n, NULL));
        g_dir_close(d);
        g_ptr_array_sort(names, by_name);
        for (guint j = 0; j < names->len; j++)
            if (g_file_test(names->pdata[j], G_FILE_TEST_IS_REGULAR))
                rc |= run_file(names->pdata[j], &count);
    }
    printf("replayed %u inputs\n", count);
    return rc;
}
