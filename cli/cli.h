/* cli/cli.h — what the `corridor` subcommands share.
 *
 * Each verb is one file, cli/cmd_VERB.c, with one entry point
 * `int cmd_VERB(cor_cli_t *cli, int argc, char **argv)` returning the exit
 * status: 0 success, 1 failure, 2 usage error.  Verbs stay thin: they parse
 * options (GOptionContext), call core/, and print.  Errors are one line on
 * stderr, "corridor: ..." (cli_error), naming the file, line or message.
 */
#ifndef COR_CLI_H
#define COR_CLI_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

#include "core/config.h"
#include "core/ingest.h"
#include "core/search/search.h"
#include "core/status.h"
#include "core/store.h"

typedef struct cor_cli {
    char *state_dir;          /* --state, $CORRIDOR_STATE, ./var in the source tree */
    char *config_path;        /* --config, else STATE/corridor.conf (optional) */
    bool config_explicit;     /* --config was given: the file must exist */
    cor_config_t *config;
    cor_store_t *store;       /* opened by cli_store() */
    bool stderr_tty;
} cor_cli_t;

/* Prints "corridor: <message>" on stderr.  Returns 1 (for `return cli_error(...)`). */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reports a failed write to standard output, naming the file it goes to
 * when it is one: "corridor: cannot write 'out.txt' (standard output): File
 * too large".  `errnum` is the failed call's errno.  Returns 1. */
int cli_output_error(int errnum);

/* Parses a verb's options; on a usage error prints it and returns false.
 * The context is freed by the caller (g_autoptr). */
bool cli_parse(GOptionContext *ctx, int *argc, char ***argv);

/* The store, opened (and created when `create`) on first use; NULL after
 * printing the error.  Transfer none. */
cor_store_t *cli_store(cor_cli_t *cli, bool create);

/* Paths under the state directory (transfer full). */
char *cli_store_path(cor_cli_t *cli);
char *cli_index_path(cor_cli_t *cli);

/* Opens the index writer; NULL after printing the error (transfer full). */
cor_search_writer_t *cli_index_writer(cor_cli_t *cli);

/* Options for ingest from the config, with a progress bar on a terminal. */
typedef struct cli_progress {
    const char *what;         /* "importing", "indexing" */
    bool tty;
    gint64 started, last;
} cli_progress_t;
void cli_progress_cb(uint64_t done, uint64_t total, void *data);
void cli_progress_end(cli_progress_t *p);

/* Ingest options for import and reindex: workers and batch from the config,
 * progress on `prog`, each failed message named on stderr (on its own line
 * when a progress bar is showing). */
cor_ingest_options_t cli_ingest_options(cor_cli_t *cli, cli_progress_t *prog);

/* Prints a JSON node as one compact line on stdout. */
void cli_print_json(JsonNode *node);

/* One search result as `corridor search` prints it: a line, or with `json`
 * one object {message_id, thread_id, group, date, from, subject} (also
 * `corridor foi|sar search`). */
void cli_print_search_hit(const cor_stored_message_t *m, const char *group, int64_t thread,
                          bool json);

/* ISO 8601 in UTC ("2005-03-01T12:00:00Z") (transfer full). */
char *cli_iso_date(int64_t t);

/* The first stored copy of Message-ID `id` that is in a group the staff
 * viewer (or member `as`) may see, restricted to `only_group` when not NULL.
 * Returns its message row, or 0 after printing "no message <id>".  When
 * `groups` is not NULL, the names of the visible groups holding that copy
 * are appended to it (char*, the array frees them). */
int64_t cli_visible_message(cor_store_t *st, const char *id, const char *only_group,
                            const char *as, GPtrArray *groups);

/* Normalises a Message-ID argument: with or without <> (transfer full). */
char *cli_message_id(const char *arg);

/* Rewrites the Postfix tables when [postfix] maps_dir is set (after a change
 * to groups).  0, or 1 after printing the error. */
int cli_postfix_maps_refresh(cor_cli_t *cli);

int cmd_init(cor_cli_t *cli, int argc, char **argv);
int cmd_serve(cor_cli_t *cli, int argc, char **argv);
int cmd_outbox(cor_cli_t *cli, int argc, char **argv);
int cmd_bounces(cor_cli_t *cli, int argc, char **argv);
int cmd_deliver(cor_cli_t *cli, int argc, char **argv);
int cmd_status(cor_cli_t *cli, int argc, char **argv);
int cmd_postfix_maps(cor_cli_t *cli, int argc, char **argv);
int cmd_exim_config(cor_cli_t *cli, int argc, char **argv);
int cmd_config(cor_cli_t *cli, int argc, char **argv);
int cmd_group(cor_cli_t *cli, int argc, char **argv);
int cmd_member(cor_cli_t *cli, int argc, char **argv);
int cmd_directory(cor_cli_t *cli, int argc, char **argv);
int cmd_import(cor_cli_t *cli, int argc, char **argv);
int cmd_search(cor_cli_t *cli, int argc, char **argv);
int cmd_threads(cor_cli_t *cli, int argc, char **argv);
int cmd_thread(cor_cli_t *cli, int argc, char **argv);
int cmd_show(cor_cli_t *cli, int argc, char **argv);
int cmd_reindex(cor_cli_t *cli, int argc, char **argv);
int cmd_archive(cor_cli_t *cli, int argc, char **argv);
int cmd_held(cor_cli_t *cli, int argc, char **argv);
int cmd_filter(cor_cli_t *cli, int argc, char **argv);
int cmd_digest(cor_cli_t *cli, int argc, char **argv);

/* records (issue 8): cmd_case.c dispatches `case export` and `case redact`
 * to cmd_case_export.c */
int cmd_case(cor_cli_t *cli, int argc, char **argv);
int cmd_case_export(cor_cli_t *cli, int argc, char **argv);
int cmd_case_redact(cor_cli_t *cli, int argc, char **argv);
int cmd_foi(cor_cli_t *cli, int argc, char **argv);
int cmd_sar(cor_cli_t *cli, int argc, char **argv);
int cmd_audit(cor_cli_t *cli, int argc, char **argv);
int cmd_hold(cor_cli_t *cli, int argc, char **argv);
int cmd_retention(cor_cli_t *cli, int argc, char **argv);

#endif
