/* bench/filter-cost.c — what the filters cost per message, stage by stage,
 * on real mail, on one thread (no daemon, no disk): the steady counterpart
 * of bench/lmtp.sh's filters on/off runs, whose msg/s on a shared 2-CPU
 * host moves by more than the chain costs.
 *
 *   build/bench/filter-cost MBOX [REPEATS]      (make bench-filters)
 *
 * Each stage is timed over every message of the mbox REPEATS times (default
 * 5) and printed in microseconds per message:
 *   parse           what intake parsed before the filters (COR_PARSE_SUMMARY)
 *   parse + edges   what it parses now (COR_PARSE_SUMMARY | COR_PARSE_EDGES)
 *   headers         cor_headers_parse alone
 *   scan            cor_filter_scan (headers, auto-reply, bounce, command,
 *                   marking, attachments, spam, loop facts)
 *   decide          cor_filter_decide with the default chain on a group with
 *                   no settings (an in-memory store), as the committer runs it
 *   trace           cor_decision_trace, the log line's filter steps
 * and the filters' share: (edges + scan + decide + trace) / parse. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/message.h"
#include "core/store.h"
#include "filters/filter.h"

typedef struct {
    GPtrArray *data;          /* const char*, into the mbox buffer */
    GArray *len;              /* gsize */
} corpus_t;

/* Splits an mbox at "From " lines (after a blank line or at the start). */
static void
split(const char *buf, gsize n, corpus_t *c)
{
    const char *p = buf, *end = buf + n, *start = NULL;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *le = nl ? nl + 1 : end;
        if (le - p >= 5 && memcmp(p, "From ", 5) == 0 && (p == buf || p[-1] == '\n')) {
            if (start) {
                gsize l = (gsize) (p - start);
                g_ptr_array_add(c->data, (gpointer) start);
                g_array_append_val(c->len, l);
            }
            start = le;
        }
        p = le;
    }
    if (start) {
        gsize l = (gsize) (end - start);
        g_ptr_array_add(c->data, (gpointer) start);
        g_array_append_val(c->len, l);
    }
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: filter-cost MBOX [REPEATS]\n");
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    cor_message_init();
    g_autofree char *buf = NULL;
    gsize n = 0;
    if (!g_file_get_contents(argv[1], &buf, &n, NULL)) {
        fprintf(stderr, "filter-cost: cannot read '%s'\n", argv[1]);
        return 1;
    }
    corpus_t c = { g_ptr_array_new(), g_array_new(FALSE, FALSE, sizeof(gsize)) };
    split(buf, n, &c);
    guint m = c.data->len;

    /* a throwaway store with one group, and the default site */
    g_autofree char *err = NULL;
    g_autoptr(GError) gerr = NULL;
    g_autofree char *dir = g_dir_make_tmp("filter-cost.XXXXXX", &gerr);
    if (!dir) {
        fprintf(stderr, "filter-cost: cannot make a temporary folder: %s\n", gerr->message);
        return 1;
    }
    g_autofree char *db = g_build_filename(dir, "corridor.db", NULL);
    cor_store_t *st = NULL;
    g_autoptr(cor_config_t) cfg = NULL;
    g_autoptr(cor_filter_site_t) site = NULL;
    g_autoptr(cor_group_t) g = NULL;
    g_autoptr(cor_filter_policy_t) policy = NULL;
    if (cor_store_open(db, true, &st, &err) != COR_OK ||
        cor_store_group_create(st, "bench", "bench", COR_VISIBILITY_PUBLIC, NULL) != COR_OK ||
        cor_store_group_get(st, "bench", &g) != COR_OK) {
        fprintf(stderr, "filter-cost: store '%s': %s\n", db, err ? err : cor_store_error(st));
        return 1;
    }
    if (cor_config_load(NULL, false, &cfg, &err) != COR_OK ||
        cor_filter_site_new(cfg, &site, &err) != COR_OK ||
        cor_filter_policy_load(st, site, g, &policy, &err) != COR_OK) {
        fprintf(stderr, "filter-cost: filters: %s\n", err ? err : "(no detail)");
        return 1;
    }

    /* parsed once with edges, for the later stages */
    GPtrArray *msgs = g_ptr_array_new_with_free_func((GDestroyNotify) cor_message_free);
    GPtrArray *facts = g_ptr_array_new_with_free_func((GDestroyNotify) cor_filter_facts_free);
    for (guint i = 0; i < m; i++) {
        cor_message_t *msg = NULL;
        cor_message_parse_ex(c.data->pdata[i], g_array_index(c.len, gsize, i), 0,
                             COR_PARSE_SUMMARY | COR_PARSE_EDGES, &msg, NULL);
        g_ptr_array_add(msgs, msg);
        g_ptr_array_add(facts, msg ? cor_filter_scan(msg, c.data->pdata[i],
                                                      g_array_index(c.len, gsize, i), "a@b.example")
                                   : NULL);
    }

    const char *names[] = { "parse", "parse + edges", "headers", "scan", "decide", "trace" };
    double us[G_N_ELEMENTS(names)] = { 0 };
    /* one untimed pass of every stage first (caches, lazy set-up); then the
     * stages take turns within each repeat, so a change in the host's load
     * during the run falls on all of them alike */
    for (int r = -1; r < reps; r++) {
        for (guint stage = 0; stage < G_N_ELEMENTS(names); stage++) {
            gint64 t0 = g_get_monotonic_time();
            for (guint i = 0; i < m; i++) {
                const char *raw = c.data->pdata[i];
                gsize len = g_array_index(c.len, gsize, i);
                cor_message_t *msg = msgs->pdata[i];
                if (stage <= 1) {
                    cor_message_t *p = NULL;
                    cor_message_parse_ex(raw, len, 0,
                                         COR_PARSE_SUMMARY | (stage ? COR_PARSE_EDGES : 0), &p, NULL);
                    cor_message_free(p);
                } else if (stage == 2) {
                    cor_headers_free(cor_headers_parse(raw, len));
                } else if (stage == 3 && msg) {
                    cor_filter_facts_free(cor_filter_scan(msg, raw, len, "a@b.example"));
                } else if (stage >= 4 && facts->pdata[i]) {
                    cor_decision_t d;
                    cor_filter_decide(st, policy, facts->pdata[i], "bench@lists.example", false, &d);
                    if (stage == 5)
                        g_free(cor_decision_trace(&d));
                    cor_decision_clear(&d);
                }
            }
            if (r >= 0)
                us[stage] += (double) (g_get_monotonic_time() - t0) / ((double) reps * m);
        }
    }
    us[5] -= us[4];              /* trace: beyond decide */
    printf("filter cost on %u messages of %s, %d repeats, one thread\n", m, argv[1], reps);
    for (guint stage = 0; stage < G_N_ELEMENTS(names); stage++)
        printf("  %-14s %8.1f us/msg\n", names[stage], us[stage]);
    double added = (us[1] - us[0]) + us[3] + us[4] + us[5];
    printf("  filters add   %8.1f us/msg = %.1f%% of the parse (edges %.1f, scan %.1f, decide %.1f, trace %.1f)\n",
           added, 100.0 * added / us[0], us[1] - us[0], us[3], us[4], us[5]);
    g_ptr_array_unref(facts);
    g_ptr_array_unref(msgs);
    cor_store_close(st);
    g_unlink(db);
    g_autofree char *wal = g_strconcat(db, "-wal", NULL), *shm = g_strconcat(db, "-shm", NULL);
    g_unlink(wal);
    g_unlink(shm);
    g_rmdir(dir);
    return 0;
}
