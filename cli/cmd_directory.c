/* cli/cmd_directory.c — `corridor directory sync FILE.csv [--dry-run] [--verbose]`.
 *
 * The staff directory (a CSV export from HR or Active Directory: a header
 * row, then one person a row) and the default-follow rules of the
 * configuration ([directory] everyone, [follow] DEPARTMENT = groups) decide
 * which groups each person is in.  A sync makes the store agree, in one
 * transaction:
 *
 *   1. everyone in the file gets the groups the rules give them; a new
 *      membership has source 'directory' and the mode [directory] mode;
 *   2. a person who left a group themselves (the optouts table) is never
 *      added to it again;
 *   3. a membership with source 'directory' that the rules no longer give
 *      (the person left the file, or moved department, or the rule went)
 *      is removed — not an opt-out: a later rule may add it again;
 *   4. memberships added by hand ('cli', 'email') are never removed; those
 *      of people no longer in the directory are reported.
 *
 * The file is read whole and checked before the store is touched: any
 * error ("staff.csv:12: ...") changes nothing.  CSV as RFC 4180 writes it
 * (quoted fields, "" for a quote, commas and new lines inside quotes),
 * UTF-8 with or without a byte order mark, CRLF or LF line ends.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define MAX_ERRORS 20

/* ---- reading the CSV ---- */

typedef struct person {
    char *email;               /* lowercase */
    char *name;
    char *department;          /* as written ("" when none) */
    char *job_title;
    int line;
} person_t;

static void
person_free(person_t *p)
{
    g_free(p->email);
    g_free(p->name);
    g_free(p->department);
    g_free(p->job_title);
    g_free(p);
}

typedef struct csv {
    const char *file;          /* the name errors give (the argument) */
    const char *p, *end;
    int line;                  /* of *p, 1-based */
} csv_t;

/* Reads one record into `fields` (strings, owned).  Returns 1 for a
 * record, 0 at the end of the data, -1 with *err.  *start: its first line. */
static int
csv_record(csv_t *c, GPtrArray *fields, int *start, char **err)
{
    g_ptr_array_set_size(fields, 0);
    if (c->p >= c->end)
        return 0;
    *start = c->line;
    GString *f = g_string_new(NULL);
    for (;;) {
        g_string_truncate(f, 0);
        if (c->p < c->end && *c->p == '"') {
            int from = c->line;
            c->p++;
            for (;;) {
                if (c->p >= c->end) {
                    *err = g_strdup_printf("%s:%d: a quoted field is not closed", c->file, from);
                    g_string_free(f, TRUE);
                    return -1;
                }
                if (*c->p == '"') {
                    if (c->p + 1 < c->end && c->p[1] == '"') {
                        g_string_append_c(f, '"');
                        c->p += 2;
                        continue;
                    }
                    c->p++;
                    break;
                }
                if (*c->p == '\n')
                    c->line++;
                if (*c->p == '\r' && (c->p + 1 >= c->end || c->p[1] != '\n'))
                    c->line++;   /* a lone CR ends a line too */
                g_string_append_c(f, *c->p++);
            }
            if (c->p < c->end && *c->p != ',' && *c->p != '\r' && *c->p != '\n') {
                *err = g_strdup_printf("%s:%d: text after the closing quote of a field "
                                       "(a quote inside a quoted field is written \"\")",
                                       c->file, c->line);
                g_string_free(f, TRUE);
                return -1;
            }
        } else {
            while (c->p < c->end && *c->p != ',' && *c->p != '\r' && *c->p != '\n')
                g_string_append_c(f, *c->p++);
        }
        g_ptr_array_add(fields, g_strdup(f->str));
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        /* the end of the record: CRLF, LF, CR or the end of the data */
        if (c->p < c->end && *c->p == '\r')
            c->p++;
        if (c->p < c->end && *c->p == '\n')
            c->p++;
        c->line++;
        break;
    }
    g_string_free(f, TRUE);
    return 1;
}

/* Header names: lowercase without spaces, '-', '_' and '.', so that
 * "E-mail Address" and "email_address" are one name (transfer full). */
static char *
header_key(const char *h)
{
    GString *s = g_string_new(NULL);
    for (const char *p = h; *p; p++)
        if (!strchr(" -_.\t", *p))
            g_string_append_c(s, g_ascii_tolower(*p));
    return g_string_free(s, FALSE);
}

enum { COL_EMAIL, COL_NAME, COL_FIRST, COL_LAST, COL_DEPT, COL_TITLE, N_COLS };
static const char *const col_what[N_COLS] = {
    "email", "name", "first name", "last name", "department", "job title",
};
static const struct {
    const char *key;
    int col;
} header_names[] = {
    { "email", COL_EMAIL }, { "emailaddress", COL_EMAIL }, { "mail", COL_EMAIL },
    { "mailaddress", COL_EMAIL }, { "primarysmtpaddress", COL_EMAIL },
    { "name", COL_NAME }, { "displayname", COL_NAME }, { "fullname", COL_NAME },
    { "firstname", COL_FIRST }, { "givenname", COL_FIRST }, { "forename", COL_FIRST },
    { "lastname", COL_LAST }, { "surname", COL_LAST }, { "familyname", COL_LAST },
    { "department", COL_DEPT }, { "dept", COL_DEPT },
    { "jobtitle", COL_TITLE }, { "title", COL_TITLE },
};

/* Adds an error line; false once there are enough to stop. */
static bool
add_error(GPtrArray *errors, char *msg)
{
    g_ptr_array_add(errors, msg);
    return errors->len < MAX_ERRORS;
}

/* Reads and checks the whole directory: people (person_t*, in file order)
 * or the errors ("FILE:LINE: ...") in `errors`. */
static void
read_directory(const char *file, const char *data, size_t len, GPtrArray *people,
               GPtrArray *errors)
{
    /* UTF-8, and no NUL, before anything else: the line of the first bad byte */
    const char *bad = NULL;
    if (!g_utf8_validate_len(data, len, &bad)) {
        int line = 1;
        for (const char *p = data; p < bad; p++)
            line += *p == '\n';
        add_error(errors, g_strdup_printf("%s:%d: not UTF-8 text (save the directory as "
                                          "\"CSV UTF-8\")", file, line));
        return;
    }
    csv_t c = { .file = file, .p = data, .end = data + len, .line = 1 };
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
        c.p += 3;
    g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *err = NULL;
    int start = 0, rc;
    /* the header: the first record that is not blank */
    while ((rc = csv_record(&c, fields, &start, &err)) == 1 &&
           fields->len == 1 && !*(const char *) fields->pdata[0])
        ;
    if (rc < 0) {
        add_error(errors, g_steal_pointer(&err));
        return;
    }
    if (rc == 0) {
        add_error(errors, g_strdup_printf("%s: empty file (a header row naming at least the "
                                          "email and name columns comes first)", file));
        return;
    }
    int col[N_COLS];
    for (int k = 0; k < N_COLS; k++)
        col[k] = -1;
    guint n_header = fields->len;
    for (guint i = 0; i < fields->len; i++) {
        g_autofree char *stripped = g_strstrip(g_strdup(fields->pdata[i]));
        g_autofree char *key = header_key(stripped);
        for (size_t h = 0; h < G_N_ELEMENTS(header_names); h++) {
            if (strcmp(key, header_names[h].key) != 0)
                continue;
            int k = header_names[h].col;
            if (col[k] >= 0) {
                add_error(errors, g_strdup_printf("%s:%d: two %s columns ('%s' and '%s')", file,
                                                  start, col_what[k],
                                                  (const char *) fields->pdata[col[k]], stripped));
                return;
            }
            col[k] = (int) i;
        }
    }
    bool split_name = col[COL_NAME] < 0 && col[COL_FIRST] >= 0 && col[COL_LAST] >= 0;
    if (col[COL_EMAIL] < 0 || (col[COL_NAME] < 0 && !split_name)) {
        GString *names = g_string_new(NULL);
        for (guint i = 0; i < fields->len; i++)
            g_string_append_printf(names, "%s'%s'", i ? ", " : "", (const char *) fields->pdata[i]);
        add_error(errors, g_strdup_printf("%s:%d: the header has no %s column (it has %s; "
                                          "the names known are email, e-mail, mail, email "
                                          "address; name, display name, full name (or first name and surname); department, "
                                          "dept; job title, title)", file, start,
                                          col[COL_EMAIL] < 0 ? "email" : "name", names->str));
        g_string_free(names, TRUE);
        return;
    }

    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);  /* email → person */
    while ((rc = csv_record(&c, fields, &start, &err)) == 1) {
        if (fields->len == 1 && !*g_strstrip((char *) fields->pdata[0]))
            continue;                           /* a blank line */
        if (fields->len != n_header) {
            if (!add_error(errors, g_strdup_printf("%s:%d: %u fields, but the header has %u",
                                                   file, start, fields->len, n_header)))
                return;
            continue;
        }
        for (guint i = 0; i < fields->len; i++)
            g_strstrip(fields->pdata[i]);
        const char *email = fields->pdata[col[COL_EMAIL]];
        if (!*email) {
            if (!add_error(errors, g_strdup_printf("%s:%d: no email address", file, start)))
                return;
            continue;
        }
        if (!cor_member_address_valid(email)) {
            if (!add_error(errors, g_strdup_printf("%s:%d: '%s' is not a mail address", file,
                                                   start, email)))
                return;
            continue;
        }
        person_t *p = g_new0(person_t, 1);
        p->email = g_ascii_strdown(email, -1);
        p->line = start;
        if (split_name) {
            const char *first = fields->pdata[col[COL_FIRST]], *last = fields->pdata[col[COL_LAST]];
            p->name = g_strdup_printf("%s%s%s", first, *first && *last ? " " : "", last);
        } else {
            p->name = g_strdup(fields->pdata[col[COL_NAME]]);
        }
        p->department = g_strdup(col[COL_DEPT] >= 0 ? fields->pdata[col[COL_DEPT]] : "");
        p->job_title = g_strdup(col[COL_TITLE] >= 0 ? fields->pdata[col[COL_TITLE]] : "");
        person_t *first = g_hash_table_lookup(seen, p->email);
        if (first) {
            bool more = add_error(errors, g_strdup_printf("%s:%d: %s is in the directory twice "
                                                          "(first on line %d)", file, start,
                                                          p->email, first->line));
            person_free(p);
            if (!more)
                return;
            continue;
        }
        g_hash_table_insert(seen, p->email, p);
        g_ptr_array_add(people, p);
    }
    if (rc < 0) {
        add_error(errors, g_steal_pointer(&err));
        return;
    }
    if (people->len == 0 && errors->len == 0)
        add_error(errors, g_strdup_printf("%s: no people after the header (a sync needs the "
                                          "whole directory: an empty one would remove everyone "
                                          "it added)", file));
}

/* ---- the rules ---- */

/* A department name as the rules compare it: case folded, every run of
 * characters other than letters and digits one space, trimmed
 * (transfer full). */
static char *
department_key(const char *name)
{
    g_autofree char *folded = g_utf8_casefold(name, -1);
    GString *s = g_string_new(NULL);
    bool space = false;
    for (const char *p = folded; *p; p = g_utf8_next_char(p)) {
        gunichar ch = g_utf8_get_char(p);
        if (g_unichar_isalnum(ch)) {
            if (space && s->len)
                g_string_append_c(s, ' ');
            space = false;
            g_string_append_unichar(s, ch);
        } else {
            space = true;
        }
    }
    return g_string_free(s, FALSE);
}

typedef struct rules {
    char **everyone;           /* group names (borrowed from the config) */
    GHashTable *follow;        /* department key → const char *const * groups (borrowed) */
    GHashTable *follow_name;   /* department key → the key as written (borrowed) */
    const char *mode;
} rules_t;

static void
rules_clear(rules_t *r)
{
    g_clear_pointer(&r->follow, g_hash_table_unref);
    g_clear_pointer(&r->follow_name, g_hash_table_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(rules_t, rules_clear)

/* Reads the rules and checks that every group they name exists (`groups`:
 * name → cor_group_t*).  0, or 1 after the error. */
static int
load_rules(const cor_config_t *cfg, GHashTable *groups, rules_t *r)
{
    const char *conf = cor_config_path(cfg) ? cor_config_path(cfg) : "corridor.conf";
    r->mode = cor_config_string(cfg, "directory", "mode");
    if (!cor_member_mode_valid(r->mode))
        return cli_error("%s: [directory] mode: '%s' is not each, digest or none", conf, r->mode);
    r->everyone = (char **) cor_config_list(cfg, "directory", "everyone");
    for (char **gname = r->everyone; *gname; gname++)
        if (!g_hash_table_contains(groups, *gname))
            return cli_error("%s: [directory] everyone: no group '%s' (create it first, or "
                             "correct the rule)", conf, *gname);
    r->follow = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    r->follow_name = g_hash_table_new(g_str_hash, g_str_equal);
    for (const char *const *k = cor_config_open_keys(cfg, "follow"); *k; k++) {
        char *key = department_key(*k);
        if (!*key) {
            g_free(key);
            return cli_error("%s: [follow] '%s': a department name needs letters or digits",
                             conf, *k);
        }
        const char *other = g_hash_table_lookup(r->follow_name, key);
        if (other) {
            int rc = cli_error("%s: [follow] '%s' and '%s' name the same department (names are "
                               "compared without case and punctuation)", conf, other, *k);
            g_free(key);
            return rc;
        }
        const char *const *list = cor_config_open_list(cfg, "follow", *k);
        for (const char *const *gname = list; gname && *gname; gname++) {
            if (!g_hash_table_contains(groups, *gname)) {
                int rc = cli_error("%s: [follow] %s: no group '%s' (create it first, or correct "
                                   "the rule)", conf, *k, *gname);
                g_free(key);
                return rc;
            }
        }
        g_hash_table_insert(r->follow_name, key, (gpointer) *k);
        g_hash_table_insert(r->follow, key, (gpointer) list);
    }
    return 0;
}

/* ---- the sync ---- */

typedef struct tally {
    int64_t joined, left, kept_out, unchanged, renamed, by_hand;
} tally_t;

static void
tally_add(tally_t *to, const tally_t *t)
{
    to->joined += t->joined;
    to->left += t->left;
    to->kept_out += t->kept_out;
    to->unchanged += t->unchanged;
    to->renamed += t->renamed;
    to->by_hand += t->by_hand;
}

static char *
tally_text(const tally_t *t)
{
    return g_strdup_printf("joined %" G_GINT64_FORMAT ", left %" G_GINT64_FORMAT
                           ", kept out by opt-out %" G_GINT64_FORMAT ", unchanged %"
                           G_GINT64_FORMAT ", renamed %" G_GINT64_FORMAT
                           ", kept by hand %" G_GINT64_FORMAT,
                           t->joined, t->left, t->kept_out, t->unchanged, t->renamed, t->by_hand);
}

typedef struct progress {
    bool tty;
    uint64_t done, total;
    gint64 last;
} progress_t;

static void
progress_step(progress_t *p)
{
    p->done++;
    if (!p->tty)
        return;
    gint64 now = g_get_monotonic_time();
    if (now - p->last < 100000 && p->done != p->total)
        return;
    p->last = now;
    int width = 30, filled = p->total ? (int) (width * (double) p->done / (double) p->total) : 0;
    char bar[31];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '-';
    bar[width] = '\0';
    fprintf(stderr, "\rsyncing [%s] %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " memberships ",
            bar, p->done, p->total);
    fflush(stderr);
}

/* Why the rules no longer give `who` a group (for --verbose; transfer full). */
static char *
why_not(GHashTable *by_email, const char *who)
{
    const person_t *p = g_hash_table_lookup(by_email, who);
    if (!p)
        return g_strdup("not in the directory");
    if (!*p->department)
        return g_strdup("no department now, and no rule gives it");
    return g_strdup_printf("department now '%s', and no rule gives it", p->department);
}

typedef struct sync {
    cor_store_t *st;
    const rules_t *rules;
    GPtrArray *people;
    GHashTable *by_email;      /* email → person_t* */
    GHashTable *domains;       /* the directory's mail domains */
    bool verbose;
    progress_t prog;
    GPtrArray *lines;          /* --verbose: one line per change, printed after the commit */
} sync_t;

/* The groups the rules give person `p` (names, borrowed), into `out`. */
static void
groups_of(const rules_t *r, const person_t *p, GHashTable *out)
{
    g_hash_table_remove_all(out);
    for (char **g = r->everyone; *g; g++)
        g_hash_table_add(out, *g);
    if (!*p->department)
        return;
    g_autofree char *key = department_key(p->department);
    const char *const *list = g_hash_table_lookup(r->follow, key);
    for (const char *const *g = list; g && *g; g++)
        g_hash_table_add(out, (gpointer) *g);
}

static const char *
domain_of(const char *addr)
{
    const char *at = strrchr(addr, '@');
    return at ? at + 1 : "";
}

/* Makes one group agree with the rules; counts into *t. */
static cor_status_t
sync_group(sync_t *s, const cor_group_t *g, GHashTable *wanted, tally_t *t)
{
    g_autoptr(GPtrArray) members = NULL;
    cor_status_t rc = cor_store_member_details(s->st, g->id, &members);
    if (rc != COR_OK)
        return rc;
    g_autoptr(GHashTable) current = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < members->len; i++) {
        cor_member_detail_t *d = members->pdata[i];
        g_hash_table_insert(current, d->m.address, d);
    }
    /* everyone the rules give it, in file order */
    for (guint i = 0; i < s->people->len; i++) {
        const person_t *p = s->people->pdata[i];
        if (!g_hash_table_contains(wanted, p->email))
            continue;
        progress_step(&s->prog);
        cor_member_detail_t *d = g_hash_table_lookup(current, p->email);
        if (d) {
            /* the directory keeps the names it gave; a name nobody gave is filled in */
            bool rename = *p->name && strcmp(d->m.name, p->name) != 0 &&
                          (strcmp(d->source, "directory") == 0 || !*d->m.name);
            if (!rename) {
                t->unchanged++;
                continue;
            }
            if ((rc = cor_store_member_set(s->st, g->id, p->email, p->name, NULL, NULL)) != COR_OK)
                return rc;
            t->renamed++;
            if (s->verbose)
                g_ptr_array_add(s->lines, g_strdup_printf("renamed %s %s: '%s' (was '%s')", g->name,
                                                          p->email, p->name, d->m.name));
            continue;
        }
        rc = cor_store_optout_check(s->st, g->id, p->email);
        if (rc == COR_OK) {
            t->kept_out++;
            if (s->verbose)
                g_ptr_array_add(s->lines, g_strdup_printf("kept-out %s %s: left it themselves",
                                                          g->name, p->email));
            continue;
        }
        if (rc != COR_ERR_NOT_FOUND)
            return rc;
        if ((rc = cor_store_member_join(s->st, g->id, p->email, p->name, "directory", NULL)) != COR_OK ||
            (rc = cor_store_member_set(s->st, g->id, p->email, NULL, s->rules->mode, NULL)) != COR_OK)
            return rc;
        t->joined++;
        if (s->verbose)
            g_ptr_array_add(s->lines, g_strdup_printf("joined %s %s%s%s%s", g->name, p->email,
                                                      *p->department ? " (" : "", p->department,
                                                      *p->department ? ")" : ""));
    }
    /* members the rules do not give it */
    for (guint i = 0; i < members->len; i++) {
        const cor_member_detail_t *d = members->pdata[i];
        if (g_hash_table_contains(wanted, d->m.address))
            continue;
        if (strcmp(d->source, "directory") == 0) {
            if ((rc = cor_store_member_remove(s->st, g->id, d->m.address)) != COR_OK)
                return rc;
            t->left++;
            if (s->verbose) {
                g_autofree char *why = why_not(s->by_email, d->m.address);
                g_ptr_array_add(s->lines, g_strdup_printf("left %s %s: %s", g->name,
                                                          d->m.address, why));
            }
        } else if (!g_hash_table_contains(s->by_email, d->m.address) &&
                   g_hash_table_contains(s->domains, domain_of(d->m.address))) {
            /* someone with a directory address who is not in it: perhaps a
             * leaver, but added by hand, so a person decides */
            t->by_hand++;
            if (s->verbose)
                g_ptr_array_add(s->lines, g_strdup_printf("kept %s %s: not in the directory, but "
                                                          "added by hand (%s)", g->name,
                                                          d->m.address, d->source));
        }
    }
    return COR_OK;
}

static int
directory_sync(cor_cli_t *cli, int argc, char **argv)
{
    gboolean dry_run = FALSE, verbose = FALSE;
    GOptionEntry entries[] = {
        { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run, "Say what would change; change nothing", NULL },
        { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
          "One line per change and per group", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("FILE.csv - make the groups follow the staff directory");
    g_option_context_set_description(ctx,
        "FILE.csv: a header row naming at least the email and name columns\n"
        "(department and job title optional), then one person a row.  The rules are\n"
        "[directory] everyone and [follow] DEPARTMENT = groups in the configuration\n"
        "(docs/config.md).  People who left a group themselves are never added back;\n"
        "memberships a sync added that the rules no longer give are removed; members\n"
        "added by hand are never removed.  All or nothing: one transaction.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2)
        return cli_error("usage: corridor directory sync FILE.csv [--dry-run] [--verbose]");
    const char *file = argv[1];

    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) gerr = NULL;
    if (!g_file_get_contents(file, &data, &len, &gerr))
        return cli_error("cannot read '%s': %s", file, gerr->message);
    g_autoptr(GPtrArray) people = g_ptr_array_new_with_free_func((GDestroyNotify) person_free);
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    read_directory(file, data, len, people, errors);
    if (errors->len > 0) {
        for (guint i = 0; i < errors->len; i++)
            cli_error("%s", (const char *) errors->pdata[i]);
        if (errors->len >= MAX_ERRORS)
            cli_error("%s: stopped after %d errors", file, MAX_ERRORS);
        return cli_error("%s: nothing changed", file);
    }

    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(GPtrArray) group_list = NULL;
    if (cor_store_group_list(st, false, &group_list) != COR_OK)
        return cli_error("cannot read the groups: %s", cor_store_error(st));
    g_autoptr(GHashTable) groups = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < group_list->len; i++) {
        cor_group_t *g = group_list->pdata[i];
        g_hash_table_insert(groups, g->name, g);
    }
    g_auto(rules_t) rules = { 0 };
    if (load_rules(cli->config, groups, &rules) != 0)
        return 1;

    /* who each group should have: group name → set of emails */
    g_autoptr(GHashTable) wanted = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                                         (GDestroyNotify) g_hash_table_unref);
    g_autoptr(GHashTable) by_email = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) domains = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) unruled = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) mine = g_hash_table_new(g_str_hash, g_str_equal);
    uint64_t total = 0;
    for (guint i = 0; i < group_list->len; i++) {
        cor_group_t *g = group_list->pdata[i];
        g_hash_table_insert(wanted, g->name, g_hash_table_new(g_str_hash, g_str_equal));
    }
    for (guint i = 0; i < people->len; i++) {
        person_t *p = people->pdata[i];
        g_hash_table_insert(by_email, p->email, p);
        g_hash_table_add(domains, (gpointer) domain_of(p->email));
        groups_of(&rules, p, mine);
        GHashTableIter it;
        gpointer gname;
        g_hash_table_iter_init(&it, mine);
        while (g_hash_table_iter_next(&it, &gname, NULL)) {
            g_hash_table_add(g_hash_table_lookup(wanted, gname), p->email);
            total++;
        }
        g_autofree char *dkey = department_key(p->department);
        if (*dkey && !g_hash_table_contains(rules.follow, dkey)) {
            gpointer n = g_hash_table_lookup(unruled, p->department);
            g_hash_table_insert(unruled, g_strdup(p->department), GINT_TO_POINTER(GPOINTER_TO_INT(n) + 1));
        }
    }

    sync_t s = {
        .st = st, .rules = &rules, .people = people, .by_email = by_email, .domains = domains,
        .verbose = verbose, .prog = { .tty = cli->stderr_tty },
        .lines = g_ptr_array_new_with_free_func(g_free),
    };
    g_autoptr(GPtrArray) lines = s.lines;
    g_autoptr(GPtrArray) group_lines = g_ptr_array_new_with_free_func(g_free);
    s.prog.total = total;       /* the memberships the rules give */
    tally_t all = { 0 };
    cor_status_t rc = cor_store_begin(st);
    for (guint i = 0; rc == COR_OK && i < group_list->len; i++) {
        cor_group_t *g = group_list->pdata[i];
        tally_t t = { 0 };
        rc = sync_group(&s, g, g_hash_table_lookup(wanted, g->name), &t);
        tally_add(&all, &t);
        if (verbose && (t.joined || t.left || t.kept_out || t.unchanged || t.renamed || t.by_hand)) {
            g_autofree char *text = tally_text(&t);
            g_ptr_array_add(group_lines, g_strdup_printf("group %s: %s", g->name, text));
        }
    }
    if (s.prog.tty && s.prog.done > 0)
        fprintf(stderr, "\n");
    if (rc == COR_OK && !dry_run)
        rc = cor_store_commit(st);
    else if (rc == COR_OK)
        cor_store_rollback(st);
    if (rc != COR_OK) {
        int e = cli_error("directory sync failed, nothing changed: %s", cor_store_error(st));
        cor_store_rollback(st);
        return e;
    }

    for (guint i = 0; i < lines->len; i++)
        printf("%s\n", (const char *) lines->pdata[i]);
    if (verbose) {
        g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(unruled), (GCompareFunc) strcmp);
        for (GList *k = keys; k; k = k->next) {
            int n = GPOINTER_TO_INT(g_hash_table_lookup(unruled, k->data));
            printf("no rule for department '%s' (%d %s): only the everyone groups\n",
                   (const char *) k->data, n, n == 1 ? "person" : "people");
        }
    }
    for (guint i = 0; i < group_lines->len; i++)
        printf("%s\n", (const char *) group_lines->pdata[i]);
    printf("%s: %u %s\n", file, people->len, people->len == 1 ? "person" : "people");
    g_autofree char *text = tally_text(&all);
    printf("%s%s\n", text, dry_run ? " (dry run: nothing changed)" : "");
    return 0;
}

int
cmd_directory(cor_cli_t *cli, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "sync") == 0)
        return directory_sync(cli, argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: corridor directory sync FILE.csv [--dry-run] [--verbose]\n"
               "  the groups each person follows by default, from the staff directory and the\n"
               "  rules in [directory] and [follow] (docs/config.md)\n");
        return 0;
    }
    return cli_error("usage: corridor directory sync FILE.csv [--dry-run] [--verbose]");
}
