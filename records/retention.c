/* records/retention.c — retention schedules, disposal plans, approval and
 * the run with its certificate (records/retention.h has the design notes).
 *
 * Durability: a plan, an approval and a run are each one SQLite transaction
 * with their audit entry; the COMMIT is the single moment of truth.  A run
 * deletes messages and records the certificate in that one transaction, so
 * there is never a deletion without its certificate, nor a certificate for
 * a deletion that did not happen.  The index and archive (derived data)
 * follow after the commit and can always be rebuilt from the store. */
#include <stdarg.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "core/audit.h"
#include "core/store_internal.h"
#include "records/records.h"
#include "records/retention.h"

/* A message's age date (see the notes): its date, or its receipt when the
 * date is missing or later than the receipt. */
#define AGE_DATE(m) \
    "(CASE WHEN " m ".date <= 0 OR " m ".date > " m ".received THEN " m ".received" \
    " ELSE " m ".date END)"

static cor_status_t G_GNUC_PRINTF(3, 4)
fail(char **err, cor_status_t s, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        g_free(*err);
        *err = g_strdup_vprintf(fmt, ap);
        va_end(ap);
    }
    return s;
}

static cor_status_t
store_fail(cor_store_t *st, char **err, cor_status_t s)
{
    return fail(err, s, "%s", cor_store_error(st));
}

/* "2025-03-01T12:00:00Z" (transfer full). */
static char *
iso(int64_t t)
{
    g_autoptr(GDateTime) d = g_date_time_new_from_unix_utc(t);
    return d ? g_date_time_format(d, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("");
}

/* ---- schedules ---- */

struct cor_retention_policy {
    char *dflt;                /* "permanent" when not configured */
    GHashTable *by_group;      /* name → schedule text */
    GPtrArray *groups;         /* names in file order, NULL-terminated */
};

void
cor_retention_policy_free(cor_retention_policy_t *p)
{
    if (!p)
        return;
    g_free(p->dflt);
    g_hash_table_unref(p->by_group);
    g_ptr_array_unref(p->groups);
    g_free(p);
}

cor_status_t
cor_retention_policy_new(const cor_config_t *cfg, cor_retention_policy_t **out, char **err)
{
    cor_retention_policy_t *p = g_new0(cor_retention_policy_t, 1);
    p->dflt = g_strdup("permanent");
    p->by_group = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    p->groups = g_ptr_array_new_with_free_func(g_free);
    for (const char *const *k = cfg ? cor_config_open_keys(cfg, "retention") : NULL; k && *k;
         k++) {
        const char *const *v = cor_config_open_list(cfg, "retention", *k);
        int64_t n;
        char unit;
        /* the loader checked them; a config made another way is checked here */
        if (!v || !v[0] || v[1] || !cor_config_parse_retention(v[0], &n, &unit)) {
            cor_retention_policy_free(p);
            return fail(err, COR_ERR_CONFIG, "[retention] %s: not a retention schedule", *k);
        }
        g_autofree char *text = g_ascii_strdown(v[0], -1);
        if (strcmp(*k, "default") == 0) {
            g_free(p->dflt);
            p->dflt = g_steal_pointer(&text);
        } else {
            g_hash_table_insert(p->by_group, g_strdup(*k), g_steal_pointer(&text));
            g_ptr_array_add(p->groups, g_strdup(*k));
        }
    }
    g_ptr_array_add(p->groups, NULL);
    *out = p;
    return COR_OK;
}

const char *
cor_retention_schedule_of(const cor_retention_policy_t *p, const char *group)
{
    const char *s = g_hash_table_lookup(p->by_group, group);
    return s ? s : p->dflt;
}

const char *const *
cor_retention_policy_groups(const cor_retention_policy_t *p)
{
    return (const char *const *) p->groups->pdata;
}

bool
cor_retention_cutoff(const char *schedule, int64_t now, int64_t *cutoff)
{
    int64_t n;
    char unit;
    if (!schedule || !cor_config_parse_retention(schedule, &n, &unit) || unit == 'p')
        return false;
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(now);
    if (!t)
        return false;
    g_autoptr(GDateTime) c = unit == 'y' ? g_date_time_add_years(t, (int) -n)
                           : unit == 'm' ? g_date_time_add_months(t, (int) -n)
                           : unit == 'w' ? g_date_time_add_weeks(t, (int) -n)
                                         : g_date_time_add_days(t, (int) -n);
    if (!c)
        return false;
    *cutoff = g_date_time_to_unix(c);
    return true;
}

/* ---- plans in memory ---- */

void
cor_retention_item_free(cor_retention_item_t *it)
{
    if (!it)
        return;
    g_free(it->message_id);
    g_free(it->groups);
    g_free(it->schedule);
    g_free(it->sha256);
    g_free(it->state);
    g_free(it->note);
    g_free(it);
}

void
cor_retention_group_free(cor_retention_group_t *g)
{
    if (!g)
        return;
    g_free(g->group);
    g_free(g->schedule);
    g_free(g);
}

void
cor_retention_plan_free(cor_retention_plan_t *p)
{
    if (!p)
        return;
    g_free(p->state);
    g_free(p->planned_by);
    g_free(p->approved_by);
    g_free(p->certificate);
    if (p->items)
        g_ptr_array_unref(p->items);
    if (p->groups)
        g_ptr_array_unref(p->groups);
    g_free(p);
}

/* A group as the plan sees it. */
typedef struct plan_group {
    int64_t id;
    char *name;
    const char *schedule;      /* borrowed from the policy */
    bool permanent;
    int64_t cutoff;
    cor_retention_group_t *summary;   /* borrowed from the plan's list */
} plan_group_t;

static void
plan_group_free(plan_group_t *g)
{
    g_free(g->name);
    g_free(g);
}

/* Every group with its schedule, by id (transfer full). */
static cor_status_t
plan_groups(cor_store_t *st, const cor_retention_policy_t *pol, int64_t now, GHashTable **out,
            GPtrArray *summaries)
{
    *out = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
                                 (GDestroyNotify) plan_group_free);
    g_autoptr(GPtrArray) groups = NULL;
    cor_status_t s = cor_store_group_list(st, false, &groups);
    if (s != COR_OK)
        return s;
    for (guint i = 0; i < groups->len; i++) {
        cor_group_t *g = groups->pdata[i];
        plan_group_t *pg = g_new0(plan_group_t, 1);
        pg->id = g->id;
        pg->name = g_strdup(g->name);
        pg->schedule = cor_retention_schedule_of(pol, g->name);
        pg->permanent = !cor_retention_cutoff(pg->schedule, now, &pg->cutoff);
        if (summaries) {
            cor_retention_group_t *sum = g_new0(cor_retention_group_t, 1);
            sum->group = g_strdup(g->name);
            sum->schedule = g_strdup(pg->schedule);
            g_ptr_array_add(summaries, sum);
            pg->summary = sum;
        }
        g_hash_table_insert(*out, &pg->id, pg);
    }
    return COR_OK;
}

/* Why message `msg` must be kept whatever its age: a live hold ("hold 3,
 * 5") or a records case ("case FOI-1"); NULL when neither (transfer full). */
static cor_status_t
kept_for_records(cor_store_t *st, int64_t msg, char **why)
{
    *why = NULL;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT (SELECT group_concat(hold, ', ') FROM"
        "         (SELECT DISTINCT hold FROM held_messages WHERE msg = ?1 ORDER BY hold)),"
        " (SELECT group_concat(ref, ', ') FROM (SELECT DISTINCT c.ref FROM cases c"
        "         WHERE c.id IN (SELECT case_id FROM case_messages WHERE msg = ?1"
        "                        UNION SELECT case_id FROM redactions WHERE msg = ?1)"
        "         ORDER BY c.ref))");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, msg);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *holds = (const char *) sqlite3_column_text(q, 0);
        const char *cases = (const char *) sqlite3_column_text(q, 1);
        if (holds && *holds)
            *why = g_strdup_printf("hold %s", holds);
        else if (cases && *cases)
            *why = g_strdup_printf("case %s", cases);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW)
        return cor_store_sqlite_error(st, rc, "cannot check holds and cases");
    return COR_OK;
}

/* Whether message `msg` is due in every group it is in.  Fills the item's
 * groups and schedules; *due false when some placement keeps it (and
 * *keeper, borrowed, names that group). */
static cor_status_t
due_everywhere(cor_store_t *st, GHashTable *groups, int64_t msg, int64_t age,
               cor_retention_item_t *it, bool *due, GPtrArray *placed)
{
    *due = true;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT DISTINCT group_id FROM thread_nodes WHERE msg = ?1 ORDER BY group_id");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, msg);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    g_autoptr(GPtrArray) scheds = g_ptr_array_new();
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t gid = sqlite3_column_int64(q, 0);
        plan_group_t *pg = g_hash_table_lookup(groups, &gid);
        if (!pg || pg->permanent || age > pg->cutoff)
            *due = false;
        if (pg) {
            g_ptr_array_add(names, pg->name);
            g_ptr_array_add(scheds, (gpointer) pg->schedule);
            if (placed)
                g_ptr_array_add(placed, pg);
        }
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return cor_store_sqlite_error(st, rc, "cannot read a message's groups");
    if (names->len == 0)
        *due = false;   /* in no group: no schedule applies */
    g_ptr_array_add(names, NULL);
    g_ptr_array_add(scheds, NULL);
    if (it) {
        g_free(it->groups);
        g_free(it->schedule);
        it->groups = g_strjoinv(", ", (char **) names->pdata);
        it->schedule = g_strjoinv(", ", (char **) scheds->pdata);
    }
    return COR_OK;
}

static gint
item_cmp(gconstpointer a, gconstpointer b)
{
    const cor_retention_item_t *x = *(cor_retention_item_t *const *) a;
    const cor_retention_item_t *y = *(cor_retention_item_t *const *) b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return x->msg < y->msg ? -1 : x->msg > y->msg;
}

/* A JsonBuilder's root as text (transfer full). */
static char *
json_text(JsonBuilder *b, bool pretty)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, pretty);
    json_generator_set_indent(gen, 2);
    return json_generator_to_data(gen, NULL);
}

static void
member_str(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, value ? value : "");
}

static void
member_int(JsonBuilder *b, const char *name, int64_t value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

/* Finds the plan's items (not recorded). */
static cor_status_t
find_due(cor_store_t *st, const cor_retention_policy_t *pol, int64_t now,
         cor_retention_plan_t *plan)
{
    g_autoptr(GHashTable) groups = NULL;
    cor_status_t s = plan_groups(st, pol, now, &groups, plan->groups);
    if (s != COR_OK)
        return s;
    /* candidates: due in at least one group */
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    GHashTableIter gi;
    gpointer key, value;
    g_hash_table_iter_init(&gi, groups);
    while (g_hash_table_iter_next(&gi, &key, &value)) {
        plan_group_t *pg = value;
        if (pg->permanent)
            continue;
        sqlite3_stmt *q = cor_store_stmt(st,
            "SELECT DISTINCT n.msg, m.message_id, " AGE_DATE("m") ", m.sha256"
            " FROM thread_nodes n JOIN messages m ON m.id = n.msg"
            " WHERE n.group_id = ?1 AND " AGE_DATE("m") " <= ?2 ORDER BY n.msg");
        if (!q)
            return COR_ERR_STORE;
        sqlite3_bind_int64(q, 1, pg->id);
        sqlite3_bind_int64(q, 2, pg->cutoff);
        g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(
            (GDestroyNotify) cor_retention_item_free);
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
            int64_t msg = sqlite3_column_int64(q, 0);
            if (g_hash_table_contains(seen, &msg))
                continue;
            cor_retention_item_t *it = g_new0(cor_retention_item_t, 1);
            it->msg = msg;
            it->message_id = cor_store_col_text(q, 1);
            it->date = sqlite3_column_int64(q, 2);
            it->sha256 = cor_store_col_text(q, 3);
            g_ptr_array_add(found, it);
            g_hash_table_add(seen, g_memdup2(&msg, sizeof msg));
        }
        sqlite3_reset(q);
        if (rc != SQLITE_DONE)
            return cor_store_sqlite_error(st, rc, "cannot find the messages due");
        /* due everywhere it is?  then held, or planned */
        for (guint i = 0; i < found->len; i++) {
            cor_retention_item_t *it = found->pdata[i];
            bool due;
            g_autoptr(GPtrArray) placed = g_ptr_array_new();
            if ((s = due_everywhere(st, groups, it->msg, it->date, it, &due, placed)) != COR_OK)
                return s;
            if (!due) {
                for (guint k = 0; k < placed->len; k++) {
                    plan_group_t *p = placed->pdata[k];
                    if (!p->permanent && it->date <= p->cutoff)
                        p->summary->waiting++;
                }
                continue;
            }
            g_autofree char *why = NULL;
            if ((s = kept_for_records(st, it->msg, &why)) != COR_OK)
                return s;
            it->state = g_strdup(why ? "held" : "planned");
            it->note = why ? g_steal_pointer(&why) : g_strdup("");
            for (guint k = 0; k < placed->len; k++) {
                cor_retention_group_t *sum = ((plan_group_t *) placed->pdata[k])->summary;
                sum->due++;
                if (strcmp(it->state, "held") == 0)
                    sum->held++;
                if (!sum->oldest || it->date < sum->oldest)
                    sum->oldest = it->date;
                if (it->date > sum->newest)
                    sum->newest = it->date;
            }
            if (strcmp(it->state, "held") == 0)
                plan->n_held++;
            else
                plan->n_planned++;
            g_ptr_array_add(plan->items, it);
            found->pdata[i] = NULL;    /* the plan owns it now */
        }
    }
    g_ptr_array_sort(plan->items, item_cmp);
    return COR_OK;
}

static cor_retention_plan_t *
plan_new(void)
{
    cor_retention_plan_t *p = g_new0(cor_retention_plan_t, 1);
    p->items = g_ptr_array_new_with_free_func((GDestroyNotify) cor_retention_item_free);
    p->state = g_strdup("planned");
    p->approved_by = g_strdup("");
    p->certificate = g_strdup("");
    return p;
}

static gint
group_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp((*(cor_retention_group_t *const *) a)->group,
                  (*(cor_retention_group_t *const *) b)->group);
}

static cor_status_t
record_plan(cor_store_t *st, cor_retention_plan_t *plan, const char *operator_name,
            int64_t now, char **err)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "INSERT INTO disposals (state, planned, planned_by) VALUES ('planned', ?1, ?2)");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    sqlite3_bind_int64(q, 1, now);
    sqlite3_bind_text(q, 2, operator_name, -1, SQLITE_STATIC);
    cor_status_t s = cor_store_step_done(st, q, "cannot record the plan");
    if (s != COR_OK)
        return store_fail(st, err, s);
    plan->id = sqlite3_last_insert_rowid(st->db);
    for (guint i = 0; i < plan->items->len; i++) {
        cor_retention_item_t *it = plan->items->pdata[i];
        q = cor_store_stmt(st,
            "INSERT INTO disposal_items (disposal, msg, message_id, group_name, date, schedule,"
            " sha256, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
        if (!q)
            return store_fail(st, err, COR_ERR_STORE);
        sqlite3_bind_int64(q, 1, plan->id);
        sqlite3_bind_int64(q, 2, it->msg);
        sqlite3_bind_text(q, 3, it->message_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 4, it->groups, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 5, it->date);
        sqlite3_bind_text(q, 6, it->schedule, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 7, it->sha256, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 8, it->state, -1, SQLITE_STATIC);
        if ((s = cor_store_step_done(st, q, "cannot record the plan's items")) != COR_OK)
            return store_fail(st, err, s);
    }
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    member_int(b, "plan", plan->id);
    member_int(b, "planned", plan->n_planned);
    member_int(b, "held", plan->n_held);
    json_builder_set_member_name(b, "groups");
    json_builder_begin_object(b);
    for (guint i = 0; i < plan->groups->len; i++) {
        cor_retention_group_t *g = plan->groups->pdata[i];
        if (g->due == 0)
            continue;
        json_builder_set_member_name(b, g->group);
        json_builder_begin_object(b);
        member_str(b, "schedule", g->schedule);
        member_int(b, "due", g->due);
        member_int(b, "held", g->held);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    json_builder_end_object(b);
    g_autofree char *detail = json_text(b, false);
    return cor_audit_append(st, operator_name, "retention.plan", "", detail, NULL, err);
}

cor_status_t
cor_retention_plan_make(cor_store_t *st, const cor_retention_policy_t *pol,
                        const char *operator_name, int64_t now, bool record,
                        cor_retention_plan_t **out, char **err)
{
    *out = NULL;
    g_autoptr(cor_retention_plan_t) plan = plan_new();
    plan->groups = g_ptr_array_new_with_free_func((GDestroyNotify) cor_retention_group_free);
    plan->planned = now;
    plan->planned_by = g_strdup(operator_name);
    /* one snapshot for the search and the record: BEGIN IMMEDIATE when
     * recording (nobody changes the store between), a read transaction
     * otherwise */
    cor_status_t s = record ? cor_store_begin(st) : cor_store_begin_read(st);
    if (s != COR_OK)
        return store_fail(st, err, s);
    if ((s = find_due(st, pol, now, plan)) != COR_OK)
        store_fail(st, err, s);
    g_ptr_array_sort(plan->groups, group_cmp);
    if (!record) {
        cor_store_end_read(st);
    } else {
        /* only held messages due: nothing to approve, nothing recorded */
        if (s == COR_OK && plan->n_planned > 0)
            s = record_plan(st, plan, operator_name, now, err);
        if (s == COR_OK && (s = cor_store_commit(st)) != COR_OK)
            store_fail(st, err, s);
        if (s != COR_OK)
            cor_store_rollback(st);
    }
    if (s != COR_OK)
        return s;
    *out = g_steal_pointer(&plan);
    return COR_OK;
}

/* ---- recorded plans ---- */

#define PLAN_COLS \
    "d.id, d.state, d.planned, d.planned_by, coalesce(d.approved, 0)," \
    " coalesce(d.approved_by, ''), coalesce(d.done, 0), coalesce(d.certificate, '')," \
    " (SELECT count(*) FROM disposal_items i WHERE i.disposal = d.id AND i.state = 'planned')," \
    " (SELECT count(*) FROM disposal_items i WHERE i.disposal = d.id AND i.state = 'held')," \
    " (SELECT count(*) FROM disposal_items i WHERE i.disposal = d.id AND i.state = 'disposed')"

static cor_retention_plan_t *
plan_row(sqlite3_stmt *q)
{
    cor_retention_plan_t *p = g_new0(cor_retention_plan_t, 1);
    p->id = sqlite3_column_int64(q, 0);
    p->state = cor_store_col_text(q, 1);
    p->planned = sqlite3_column_int64(q, 2);
    p->planned_by = cor_store_col_text(q, 3);
    p->approved = sqlite3_column_int64(q, 4);
    p->approved_by = cor_store_col_text(q, 5);
    p->done = sqlite3_column_int64(q, 6);
    p->certificate = cor_store_col_text(q, 7);
    p->n_planned = sqlite3_column_int64(q, 8);
    p->n_held = sqlite3_column_int64(q, 9);
    p->n_disposed = sqlite3_column_int64(q, 10);
    return p;
}

cor_status_t
cor_retention_plan_list(cor_store_t *st, GPtrArray **out, char **err)
{
    *out = g_ptr_array_new_with_free_func((GDestroyNotify) cor_retention_plan_free);
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT " PLAN_COLS " FROM disposals d ORDER BY d.id DESC");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        g_ptr_array_add(*out, plan_row(q));
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store_fail(st, err, cor_store_sqlite_error(st, rc, "cannot list plans"));
    return COR_OK;
}

cor_status_t
cor_retention_plan_get(cor_store_t *st, int64_t id, cor_retention_plan_t **out, char **err)
{
    *out = NULL;
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT " PLAN_COLS " FROM disposals d WHERE d.id = ?1");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_step(q);
    g_autoptr(cor_retention_plan_t) p = rc == SQLITE_ROW ? plan_row(q) : NULL;
    sqlite3_reset(q);
    if (rc == SQLITE_DONE)
        return fail(err, COR_ERR_NOT_FOUND, "no retention plan %" G_GINT64_FORMAT, id);
    if (rc != SQLITE_ROW)
        return store_fail(st, err, cor_store_sqlite_error(st, rc, "cannot read the plan"));
    p->items = g_ptr_array_new_with_free_func((GDestroyNotify) cor_retention_item_free);
    q = cor_store_stmt(st,
        "SELECT msg, message_id, group_name, date, schedule, sha256, state FROM disposal_items"
        " WHERE disposal = ?1 ORDER BY date, msg");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    sqlite3_bind_int64(q, 1, id);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cor_retention_item_t *it = g_new0(cor_retention_item_t, 1);
        it->msg = sqlite3_column_int64(q, 0);
        it->message_id = cor_store_col_text(q, 1);
        it->groups = cor_store_col_text(q, 2);
        it->date = sqlite3_column_int64(q, 3);
        it->schedule = cor_store_col_text(q, 4);
        it->sha256 = cor_store_col_text(q, 5);
        it->state = cor_store_col_text(q, 6);
        it->note = g_strdup("");
        g_ptr_array_add(p->items, it);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store_fail(st, err, cor_store_sqlite_error(st, rc, "cannot read the plan's items"));
    *out = g_steal_pointer(&p);
    return COR_OK;
}

/* The login and operator in the plan's retention.plan audit entry: *uid
 * -1 when the entry has no login (written before schema v7) or there is
 * no entry. */
static cor_status_t
plan_login(cor_store_t *st, int64_t id, int64_t *uid, char **login, char **err)
{
    *uid = -1;
    *login = NULL;
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT login_uid, login FROM audit WHERE action = 'retention.plan'"
        " AND json_valid(detail) AND json_extract(detail, '$.plan') = ?1 ORDER BY seq LIMIT 1");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
        *uid = sqlite3_column_int64(q, 0);
        *login = cor_store_col_text(q, 1);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(st, err, cor_store_sqlite_error(st, rc, "cannot read the audit trail"));
    return COR_OK;
}

cor_status_t
cor_retention_approve(cor_store_t *st, const char *operator_name, int64_t id, int64_t now,
                      bool single_officer, char **err)
{
    cor_status_t s = cor_store_begin(st);
    if (s != COR_OK)
        return store_fail(st, err, s);
    g_autoptr(cor_retention_plan_t) p = NULL;
    int64_t planner_uid = -1, my_uid = -1;
    g_autofree char *planner_login = NULL, *my_login = NULL;
    cor_audit_login(&my_uid, &my_login);
    s = cor_retention_plan_get(st, id, &p, err);
    if (s == COR_OK && strcmp(p->state, "planned") != 0)
        s = fail(err, COR_ERR_INVALID, "plan %" G_GINT64_FORMAT " is %s already, by %s", id,
                 p->state, *p->approved_by ? p->approved_by : p->planned_by);
    if (s == COR_OK)
        s = plan_login(st, id, &planner_uid, &planner_login, err);
    if (s == COR_OK && planner_uid < 0)
        s = fail(err, COR_ERR_DENIED,
                 "plan %" G_GINT64_FORMAT " has no login recorded (it was made before corridor"
                 " recorded logins): make a new plan ('corridor retention plan')", id);
    bool self = s == COR_OK && (planner_uid == my_uid || strcmp(p->planned_by, operator_name) == 0);
    if (s == COR_OK && !single_officer && planner_uid == my_uid)
        s = fail(err, COR_ERR_DENIED,
                 "plan %" G_GINT64_FORMAT " was made by %s, logged in as %s: another person, "
                 "logged in as themselves, must approve it (a different --operator name is not "
                 "enough)", id, p->planned_by, planner_login);
    if (s == COR_OK && !single_officer && strcmp(p->planned_by, operator_name) == 0)
        s = fail(err, COR_ERR_DENIED,
                 "plan %" G_GINT64_FORMAT " was made by %s: another operator must approve it "
                 "(--operator NAME)", id, p->planned_by);
    if (s == COR_OK) {
        sqlite3_stmt *q = cor_store_stmt(st,
            "UPDATE disposals SET state = 'approved', approved = ?2, approved_by = ?3"
            " WHERE id = ?1 AND state = 'planned'");
        if (!q) {
            s = store_fail(st, err, COR_ERR_STORE);
        } else {
            sqlite3_bind_int64(q, 1, id);
            sqlite3_bind_int64(q, 2, now);
            sqlite3_bind_text(q, 3, operator_name, -1, SQLITE_STATIC);
            if ((s = cor_store_step_done(st, q, "cannot approve the plan")) != COR_OK)
                store_fail(st, err, s);
        }
    }
    if (s == COR_OK) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        member_int(b, "plan", id);
        member_str(b, "planned_by", p->planned_by);
        member_str(b, "planner_login", planner_login);
        member_int(b, "planned", p->n_planned);
        member_int(b, "held", p->n_held);
        if (self) {
            /* allowed only with single_officer (above) */
            json_builder_set_member_name(b, "single_officer");
            json_builder_add_boolean_value(b, TRUE);
        }
        json_builder_end_object(b);
        g_autofree char *detail = json_text(b, false);
        s = cor_audit_append(st, operator_name, "retention.approve", "", detail, NULL, err);
    }
    if (s == COR_OK && (s = cor_store_commit(st)) != COR_OK)
        store_fail(st, err, s);
    if (s != COR_OK)
        cor_store_rollback(st);
    return s;
}

/* ---- the run ---- */

static cor_status_t
exec_id(cor_store_t *st, const char *sql, int64_t id, const char *what)
{
    sqlite3_stmt *q = cor_store_stmt(st, sql);
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, id);
    return cor_store_step_done(st, q, what);
}

/* Deletes one message (see the notes): its thread nodes become ghosts. */
static cor_status_t
dispose(cor_store_t *st, int64_t msg)
{
    cor_status_t s;
    if ((s = exec_id(st, "UPDATE thread_nodes SET msg = NULL WHERE msg = ?1",
                     msg, "cannot make the message's thread nodes ghosts")) != COR_OK ||
        (s = exec_id(st, "DELETE FROM work WHERE msg = ?1", msg,
                     "cannot delete the message's work items")) != COR_OK ||
        /* the original, attachments and queued copies cascade */
        (s = exec_id(st, "DELETE FROM messages WHERE id = ?1", msg,
                     "cannot delete the message")) != COR_OK)
        return s;
    return COR_OK;
}

static cor_status_t
set_item_state(cor_store_t *st, int64_t plan, int64_t msg, const char *state)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "UPDATE disposal_items SET state = ?3 WHERE disposal = ?1 AND msg = ?2");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, plan);
    sqlite3_bind_int64(q, 2, msg);
    sqlite3_bind_text(q, 3, state, -1, SQLITE_STATIC);
    return cor_store_step_done(st, q, "cannot record an item's state");
}

/* The certificate (metadata only) as pretty JSON (transfer full). */
static char *
certificate(const cor_retention_plan_t *p, const char *run_by, GHashTable *schedules,
            bool single_officer)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    member_str(b, "certificate", "corridor disposal certificate");
    member_int(b, "plan", p->id);
    g_autofree char *planned = iso(p->planned), *approved = iso(p->approved),
                    *done = iso(p->done);
    member_str(b, "planned", planned);
    member_str(b, "planned_by", p->planned_by);
    member_str(b, "approved", approved);
    member_str(b, "approved_by", p->approved_by);
    if (single_officer) {
        /* [records] single_officer: the planner approved their own plan */
        json_builder_set_member_name(b, "single_officer_approval");
        json_builder_add_boolean_value(b, TRUE);
    }
    member_str(b, "done", done);
    member_str(b, "run_by", run_by);
    member_str(b, "age_from",
               "the message's Date; the time corridor received it when the date is missing "
               "or later than that");
    json_builder_set_member_name(b, "schedules");
    json_builder_begin_object(b);
    g_autoptr(GList) names = g_list_sort(g_hash_table_get_keys(schedules),
                                         (GCompareFunc) strcmp);
    for (GList *l = names; l; l = l->next)
        member_str(b, l->data, g_hash_table_lookup(schedules, l->data));
    json_builder_end_object(b);
    member_int(b, "disposed", p->n_disposed);
    member_int(b, "held", p->n_held);
    member_int(b, "kept", p->n_planned);
    json_builder_set_member_name(b, "items");
    json_builder_begin_array(b);
    for (guint i = 0; i < p->items->len; i++) {
        cor_retention_item_t *it = p->items->pdata[i];
        g_autofree char *date = iso(it->date);
        json_builder_begin_object(b);
        member_int(b, "id", it->msg);
        member_str(b, "message_id", it->message_id);
        member_str(b, "date", date);
        member_str(b, "group", it->groups);
        member_str(b, "schedule", it->schedule);
        member_str(b, "sha256", it->sha256);
        member_str(b, "state", it->state);
        if (it->note && *it->note)
            member_str(b, "note", it->note);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autofree char *text = json_text(b, true);
    return g_strconcat(text, "\n", NULL);
}

static cor_status_t
run_items(cor_store_t *st, const cor_retention_policy_t *pol, cor_retention_plan_t *p,
          int64_t now, GArray *disposed, GHashTable *touched, GHashTable *schedules)
{
    g_autoptr(GHashTable) groups = NULL;
    cor_status_t s = plan_groups(st, pol, now, &groups, NULL);
    if (s != COR_OK)
        return s;
    p->n_planned = p->n_held = p->n_disposed = 0;
    for (guint i = 0; i < p->items->len; i++) {
        cor_retention_item_t *it = p->items->pdata[i];
        /* the schedules the plan used, for the certificate */
        g_auto(GStrv) gn = g_strsplit(it->groups, ", ", -1);
        g_auto(GStrv) sc = g_strsplit(it->schedule, ", ", -1);
        for (guint k = 0; gn[k] && sc[k]; k++)
            if (*gn[k])
                g_hash_table_replace(schedules, g_strdup(gn[k]), g_strdup(sc[k]));
        if (strcmp(it->state, "held") == 0) {
            /* held when planned: this plan never disposes of it */
            g_free(it->note);
            it->note = g_strdup("held when planned");
            p->n_held++;
            continue;
        }
        g_autoptr(cor_stored_message_t) m = NULL;
        s = cor_store_message_get(st, it->msg, &m);
        if (s == COR_ERR_NOT_FOUND || (s == COR_OK && strcmp(m->sha256, it->sha256) != 0)) {
            g_free(it->note);
            it->note = g_strdup("gone: deleted since the plan");
            p->n_planned++;
            continue;
        }
        if (s != COR_OK)
            return s;
        g_autofree char *why = NULL;
        if ((s = kept_for_records(st, it->msg, &why)) != COR_OK)
            return s;
        if (why) {
            if ((s = set_item_state(st, p->id, it->msg, "held")) != COR_OK)
                return s;
            g_free(it->state);
            it->state = g_strdup("held");
            g_free(it->note);
            it->note = g_steal_pointer(&why);
            p->n_held++;
            continue;
        }
        bool due;
        g_autoptr(GPtrArray) placed = g_ptr_array_new();
        g_autofree char *was_groups = g_strdup(it->groups), *was_sched = g_strdup(it->schedule);
        if ((s = due_everywhere(st, groups, it->msg, it->date, it, &due, placed)) != COR_OK)
            return s;
        if (!due) {
            /* the schedules or the groups changed since the plan */
            g_free(it->note);
            it->note = g_strdup_printf("no longer due (now in %s: %s)", it->groups, it->schedule);
            g_free(it->groups);
            g_free(it->schedule);
            it->groups = g_steal_pointer(&was_groups);
            it->schedule = g_steal_pointer(&was_sched);
            p->n_planned++;
            continue;
        }
        for (guint k = 0; k < placed->len; k++)
            g_hash_table_add(touched, g_strdup(((plan_group_t *) placed->pdata[k])->name));
        if ((s = dispose(st, it->msg)) != COR_OK ||
            (s = set_item_state(st, p->id, it->msg, "disposed")) != COR_OK)
            return s;
        g_free(it->state);
        it->state = g_strdup("disposed");
        g_array_append_val(disposed, it->msg);
        p->n_disposed++;
    }
    return COR_OK;
}

static gint
str_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

cor_status_t
cor_retention_run(cor_store_t *st, const cor_retention_policy_t *pol, const char *operator_name,
                  int64_t id, int64_t now, cor_retention_plan_t **out, GArray **disposed,
                  GPtrArray **groups, char **err)
{
    *out = NULL;
    *disposed = NULL;
    *groups = NULL;
    cor_status_t s = cor_store_begin(st);
    if (s != COR_OK)
        return store_fail(st, err, s);
    g_autoptr(cor_retention_plan_t) p = NULL;
    g_autoptr(GArray) gone = g_array_new(FALSE, FALSE, sizeof(int64_t));
    g_autoptr(GHashTable) touched = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) schedules = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                            g_free);
    s = cor_retention_plan_get(st, id, &p, err);
    if (s == COR_OK && strcmp(p->state, "approved") != 0)
        s = fail(err, COR_ERR_INVALID, strcmp(p->state, "planned") == 0
                 ? "plan %" G_GINT64_FORMAT " is not approved yet ('corridor retention approve')"
                 : "plan %" G_GINT64_FORMAT " has run already", id);
    if (s == COR_OK && (s = run_items(st, pol, p, now, gone, touched, schedules)) != COR_OK)
        store_fail(st, err, s);
    g_autofree char *cert = NULL;
    if (s == COR_OK) {
        p->done = now;
        g_free(p->state);
        p->state = g_strdup("done");
        bool single = false;
        sqlite3_stmt *q1 = cor_store_stmt(st,
            "SELECT 1 FROM audit WHERE action = 'retention.approve' AND json_valid(detail)"
            " AND json_extract(detail, '$.plan') = ?1"
            " AND json_extract(detail, '$.single_officer') = 1");
        if (q1) {
            sqlite3_bind_int64(q1, 1, id);
            single = sqlite3_step(q1) == SQLITE_ROW;
            sqlite3_reset(q1);
        }
        cert = certificate(p, operator_name, schedules, single);
        sqlite3_stmt *q = cor_store_stmt(st,
            "UPDATE disposals SET state = 'done', done = ?2, certificate = ?3"
            " WHERE id = ?1 AND state = 'approved'");
        if (!q) {
            s = store_fail(st, err, COR_ERR_STORE);
        } else {
            sqlite3_bind_int64(q, 1, id);
            sqlite3_bind_int64(q, 2, now);
            sqlite3_bind_text(q, 3, cert, -1, SQLITE_STATIC);
            if ((s = cor_store_step_done(st, q, "cannot record the certificate")) != COR_OK)
                store_fail(st, err, s);
        }
    }
    if (s == COR_OK) {
        g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, cert, -1);
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        member_int(b, "plan", id);
        member_str(b, "approved_by", p->approved_by);
        member_int(b, "disposed", p->n_disposed);
        member_int(b, "held", p->n_held);
        member_int(b, "kept", p->n_planned);
        member_str(b, "certificate_sha256", sum);
        json_builder_end_object(b);
        g_autofree char *detail = json_text(b, false);
        s = cor_audit_append(st, operator_name, "retention.run", "", detail, NULL, err);
    }
    if (s == COR_OK && (s = cor_store_commit(st)) != COR_OK)
        store_fail(st, err, s);
    if (s != COR_OK) {
        cor_store_rollback(st);
        return s;
    }
    g_free(p->certificate);
    p->certificate = g_steal_pointer(&cert);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter hi;
    gpointer k;
    g_hash_table_iter_init(&hi, touched);
    while (g_hash_table_iter_next(&hi, &k, NULL))
        g_ptr_array_add(names, g_strdup(k));
    g_ptr_array_sort(names, str_cmp);
    *groups = names;
    *disposed = g_steal_pointer(&gone);
    *out = g_steal_pointer(&p);
    return COR_OK;
}
