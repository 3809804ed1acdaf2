/* records/cases.c — FOI, EIR and SAR cases (records/cases.h).  Every change
 * and its audit entry are written in the caller's transaction. */
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include <json-glib/json-glib.h>

#include "core/search/search.h"
#include "core/store_internal.h"
#include "records/audit.h"
#include "records/cases.h"

static cor_status_t
fail(char **err, cor_status_t s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static cor_status_t
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

void
cor_case_free(cor_case_t *c)
{
    if (!c)
        return;
    g_free(c->ref);
    g_free(c->received);
    g_free(c->due);
    g_free(c->status);
    g_free(c->stopped_on);
    g_free(c->stop_kind);
    g_free(c->clock_from);
    g_free(c->person);
    g_free(c->opened_by);
    g_free(c);
}

void
cor_case_query_free(cor_case_query_t *q)
{
    if (!q)
        return;
    g_free(q->kind);
    g_free(q->query);
    g_free(q->operator_name);
    g_free(q);
}

void
cor_case_event_free(cor_case_event_t *e)
{
    if (!e)
        return;
    g_free(e->operator_name);
    g_free(e->kind);
    g_free(e->text);
    g_free(e);
}

bool
cor_case_ref_valid(const char *ref)
{
    size_t n = ref ? strlen(ref) : 0;
    if (n < 1 || n > 64 || ref[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isalnum(ref[i]) && !strchr("-_./:", ref[i]))
            return false;
    return true;
}

/* ---- JSON details ---- */

static char *
json_text(JsonBuilder *b)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

static void
jstr(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, value ? value : "");
}

static void
jint(JsonBuilder *b, const char *name, int64_t value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

/* ---- the transaction ---- */

cor_status_t
cor_records_begin(cor_store_t *st, const char *operator_name, const char *const *officers,
                  char **err)
{
    cor_status_t s = cor_store_begin(st);
    if (s != COR_OK)
        return store_fail(st, err, s);
    g_autofree char *list = officers ? g_strjoinv(",", (char **) officers) : g_strdup("");
    s = cor_audit_sync_officers(st, operator_name, list, NULL, err);
    if (s != COR_OK)
        cor_store_rollback(st);
    return s;
}

/* ---- reading cases ---- */

#define CASE_COLUMNS                                                                         \
    "c.id, c.ref, c.type, c.jurisdiction, c.received, c.due, c.status,"                       \
    " coalesce(c.stopped_on, ''), c.days_stopped, c.person, c.opened_by, c.opened,"           \
    " coalesce(c.closed, 0),"                                                                 \
    " coalesce(c.stop_kind, ''), coalesce(c.clock_from, c.received),"                          \
    " (SELECT count(*) FROM case_messages cm WHERE cm.case_id = c.id),"                       \
    " (SELECT coalesce(sum(m.size), 0) FROM case_messages cm JOIN messages m ON m.id = cm.msg" \
    "   WHERE cm.case_id = c.id)"

static cor_case_t *
case_from_row(sqlite3_stmt *q)
{
    cor_case_t *c = g_new0(cor_case_t, 1);
    c->id = sqlite3_column_int64(q, 0);
    c->ref = cor_store_col_text(q, 1);
    g_autofree char *type = cor_store_col_text(q, 2);
    g_autofree char *jur = cor_store_col_text(q, 3);
    if (!cor_request_type_from_string(type, &c->type))
        c->type = COR_REQUEST_FOI;
    if (!cor_jurisdiction_from_string(jur, &c->jurisdiction))
        c->jurisdiction = COR_JUR_ENGLAND_WALES;
    c->received = cor_store_col_text(q, 4);
    c->due = cor_store_col_text(q, 5);
    c->status = cor_store_col_text(q, 6);
    c->stopped_on = cor_store_col_text(q, 7);
    c->days_stopped = sqlite3_column_int64(q, 8);
    c->person = cor_store_col_text(q, 9);
    c->opened_by = cor_store_col_text(q, 10);
    c->opened = sqlite3_column_int64(q, 11);
    c->closed = sqlite3_column_int64(q, 12);
    c->stop_kind = cor_store_col_text(q, 13);
    c->clock_from = cor_store_col_text(q, 14);
    c->messages = sqlite3_column_int64(q, 15);
    c->bytes = sqlite3_column_int64(q, 16);
    return c;
}

cor_status_t
cor_case_get(cor_store_t *st, const char *ref, cor_case_t **out, char **err)
{
    *out = NULL;
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT " CASE_COLUMNS " FROM cases c WHERE c.ref = ?1");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    sqlite3_bind_text(q, 1, ref, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *out = case_from_row(q);
    sqlite3_reset(q);
    if (rc == SQLITE_ROW)
        return COR_OK;
    if (rc == SQLITE_DONE)
        return fail(err, COR_ERR_NOT_FOUND, "no case '%s'", ref);
    return store_fail(st, err, cor_store_sqlite_error(st, rc, "cannot read cases"));
}

cor_status_t
cor_case_get_open(cor_store_t *st, const char *ref, cor_case_t **out, char **err)
{
    cor_status_t s = cor_case_get(st, ref, out, err);
    if (s != COR_OK)
        return s;
    if (strcmp((*out)->status, "closed") == 0) {
        g_clear_pointer(out, cor_case_free);
        return fail(err, COR_ERR_INVALID, "case '%s' is closed", ref);
    }
    return COR_OK;
}

cor_status_t
cor_case_list(cor_store_t *st, bool all, GPtrArray **out, char **err)
{
    *out = g_ptr_array_new_with_free_func((GDestroyNotify) cor_case_free);
    sqlite3_stmt *q = all
        ? cor_store_stmt(st, "SELECT " CASE_COLUMNS " FROM cases c"
                             " ORDER BY c.status = 'closed', CASE WHEN c.status = 'closed'"
                             " THEN -c.closed ELSE 0 END, c.due, c.ref")
        : cor_store_stmt(st, "SELECT " CASE_COLUMNS " FROM cases c WHERE c.status <> 'closed'"
                             " ORDER BY c.due, c.ref");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        g_ptr_array_add(*out, case_from_row(q));
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store_fail(st, err, cor_store_sqlite_error(st, rc, "cannot read cases"));
    return COR_OK;
}

/* ---- events ---- */

static cor_status_t
add_event(cor_store_t *st, int64_t case_id, const char *operator_name, const char *kind,
          const char *text, char **err)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "INSERT INTO case_events (case_id, at, operator, kind, text) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    sqlite3_bind_int64(q, 1, case_id);
    sqlite3_bind_int64(q, 2, (int64_t) time(NULL));
    sqlite3_bind_text(q, 3, operator_name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 4, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, text ? text : "", -1, SQLITE_TRANSIENT);
    cor_status_t s = cor_store_step_done(st, q, "cannot write a case event");
    return s == COR_OK ? COR_OK : store_fail(st, err, s);
}

/* ---- opening ---- */

cor_status_t
cor_case_open(cor_store_t *st, const char *operator_name, const char *ref,
              cor_request_type_t type, cor_jurisdiction_t jurisdiction, cor_day_t received,
              const char *person, cor_case_t **out, char **err)
{
    if (out)
        *out = NULL;
    if (!cor_case_ref_valid(ref))
        return fail(err, COR_ERR_INVALID, "bad case reference '%s' (1-64 letters, digits and"
                    " - _ . / :)", ref ? ref : "");
    if (!person)
        person = "";
    if (type == COR_REQUEST_SAR && !*person)
        return fail(err, COR_ERR_INVALID, "a SAR case needs --person ADDRESS (the data subject)");
    if (*person && !strchr(person, '@'))
        return fail(err, COR_ERR_INVALID, "bad --person '%s' (an email address)", person);
    cor_day_t today = cor_cal_today();
    if (received > today) {
        char r[11];
        cor_cal_format(received, r);
        return fail(err, COR_ERR_INVALID, "received date '%s' is in the future", r);
    }
    cor_day_t due;
    cor_status_t s = cor_cal_due(type, jurisdiction, received, 0, &due, err);
    if (s != COR_OK)
        return s;
    g_autoptr(cor_case_t) existing = NULL;
    g_autofree char *gerr = NULL;
    s = cor_case_get(st, ref, &existing, &gerr);
    if (s == COR_OK)
        return fail(err, COR_ERR_EXISTS, "case '%s' exists already (opened by %s, received %s)",
                    ref, existing->opened_by, existing->received);
    if (s != COR_ERR_NOT_FOUND)
        return fail(err, s, "%s", gerr);

    char rs[11], ds[11];
    cor_cal_format(received, rs);
    cor_cal_format(due, ds);
    sqlite3_stmt *q = cor_store_stmt(st,
        "INSERT INTO cases (ref, type, jurisdiction, received, due, status, person, opened_by,"
        " opened, clock_from) VALUES (?1, ?2, ?3, ?4, ?5, 'open', ?6, ?7, ?8, ?4)");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    sqlite3_bind_text(q, 1, ref, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 2, cor_request_type_to_string(type), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, cor_jurisdiction_to_string(jurisdiction), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, rs, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 5, ds, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 6, person, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 7, operator_name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 8, (int64_t) time(NULL));
    if ((s = cor_store_step_done(st, q, "cannot open the case")) != COR_OK)
        return store_fail(st, err, s);
    g_autoptr(cor_case_t) c = NULL;
    if ((s = cor_case_get(st, ref, &c, err)) != COR_OK)
        return s;
    g_autofree char *text = g_strdup_printf("opened: %s, %s, received %s, due %s",
                                            cor_request_type_to_string(type),
                                            cor_jurisdiction_to_string(jurisdiction), rs, ds);
    if ((s = add_event(st, c->id, operator_name, "open", text, err)) != COR_OK)
        return s;

    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    jstr(b, "type", cor_request_type_to_string(type));
    jstr(b, "jurisdiction", cor_jurisdiction_to_string(jurisdiction));
    jstr(b, "received", rs);
    jstr(b, "due", ds);
    if (*person)
        jstr(b, "person", person);
    json_builder_end_object(b);
    g_autofree char *detail = json_text(b);
    if ((s = cor_audit_append(st, operator_name, "case.open", ref, detail, NULL, err)) != COR_OK)
        return s;
    if (out)
        *out = g_steal_pointer(&c);
    return COR_OK;
}

cor_status_t
cor_case_viewed(cor_store_t *st, const char *operator_name, const cor_case_t *c, char **err)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    jstr(b, "status", c->status);
    jint(b, "messages", c->messages);
    json_builder_end_object(b);
    g_autofree char *detail = json_text(b);
    return cor_audit_append(st, operator_name, "case.view", c->ref, detail, NULL, err);
}

cor_status_t
cor_case_note(cor_store_t *st, const char *operator_name, const char *ref, const char *text,
              char **err)
{
    if (!text || !*text)
        return fail(err, COR_ERR_INVALID, "an empty note");
    if (!g_utf8_validate(text, -1, NULL))
        return fail(err, COR_ERR_INVALID, "the note is not UTF-8");
    g_autoptr(cor_case_t) c = NULL;
    cor_status_t s = cor_case_get(st, ref, &c, err);
    if (s != COR_OK)
        return s;
    if ((s = add_event(st, c->id, operator_name, "note", text, err)) != COR_OK)
        return s;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    jstr(b, "text", text);
    json_builder_end_object(b);
    g_autofree char *detail = json_text(b);
    return cor_audit_append(st, operator_name, "case.note", ref, detail, NULL, err);
}

/* ---- the clock ---- */

static cor_status_t
set_clock(cor_store_t *st, int64_t id, const char *status, const char *stopped_on,
          const char *stop_kind, const char *clock_from, int64_t days_stopped, const char *due)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "UPDATE cases SET status = ?2, stopped_on = ?3, stop_kind = ?4, clock_from = ?5,"
        " days_stopped = ?6, due = ?7 WHERE id = ?1");
    if (!q)
        return COR_ERR_STORE;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, status, -1, SQLITE_STATIC);
    if (stopped_on)
        sqlite3_bind_text(q, 3, stopped_on, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(q, 3);
    if (stop_kind)
        sqlite3_bind_text(q, 4, stop_kind, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, 4);
    sqlite3_bind_text(q, 5, clock_from, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 6, days_stopped);
    sqlite3_bind_text(q, 7, due, -1, SQLITE_TRANSIENT);
    return cor_store_step_done(st, q, "cannot change the case's clock");
}

static cor_day_t
parse_stored(const char *s)
{
    cor_day_t d = 0;
    cor_cal_parse(s, &d, NULL);
    return d;
}

cor_status_t
cor_case_stop_clock(cor_store_t *st, const char *operator_name, const char *ref,
                    cor_stop_kind_t kind, cor_day_t on, const char *reason, char **err)
{
    if (!reason || !*reason)
        return fail(err, COR_ERR_INVALID, "stopping the clock needs a --reason");
    g_autoptr(cor_case_t) c = NULL;
    cor_status_t s = cor_case_get(st, ref, &c, err);
    if (s != COR_OK)
        return s;
    if (strcmp(c->status, "stopped") == 0)
        return fail(err, COR_ERR_INVALID, "the clock of case '%s' is already stopped (since %s)",
                    ref, c->stopped_on);
    if (strcmp(c->status, "closed") == 0)
        return fail(err, COR_ERR_INVALID, "case '%s' is closed", ref);
    char ons[11];
    cor_cal_format(on, ons);
    if (on < parse_stored(c->received))
        return fail(err, COR_ERR_INVALID, "cannot stop the clock on %s, before the request was"
                    " received (%s)", ons, c->received);
    if (on > parse_stored(c->due))
        return fail(err, COR_ERR_INVALID, "cannot stop the clock on %s, after the due date (%s)",
                    ons, c->due);
    const char *k = cor_stop_kind_to_string(kind);
    if ((s = set_clock(st, c->id, "stopped", ons, k, c->clock_from, c->days_stopped, c->due)) !=
        COR_OK)
        return store_fail(st, err, s);
    g_autofree char *text = g_strdup_printf("clock stopped on %s (%s): %s", ons, k, reason);
    if ((s = add_event(st, c->id, operator_name, "stop", text, err)) != COR_OK)
        return s;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    jstr(b, "on", ons);
    jstr(b, "kind", k);
    jstr(b, "reason", reason);
    jstr(b, "due_before", c->due);
    json_builder_end_object(b);
    g_autofree char *detail = json_text(b);
    return cor_audit_append(st, operator_name, "case.stop-clock", ref, detail, NULL, err);
}

cor_status_t
cor_case_resume(cor_store_t *st, const char *operator_name, const char *ref, cor_day_t on,
                cor_case_t **c_out, char **err)
{
    if (c_out)
        *c_out = NULL;
    g_autoptr(cor_case_t) c = NULL;
    cor_status_t s = cor_case_get(st, ref, &c, err);
    if (s != COR_OK)
        return s;
    if (strcmp(c->status, "stopped") != 0)
        return fail(err, COR_ERR_INVALID, "the clock of case '%s' is not stopped (it is %s)",
                    ref, c->status);
    cor_stop_kind_t kind = COR_STOP_CLARIFICATION;   /* a stop from before v7 */
    cor_stop_kind_from_string(c->stop_kind, &kind);
    cor_day_t from = parse_stored(c->clock_from);
    int64_t days = c->days_stopped, added = 0;
    bool restarted = false;
    if ((s = cor_cal_resume(c->type, c->jurisdiction, kind, parse_stored(c->stopped_on), on,
                            &from, &days, &restarted, &added, err)) != COR_OK)
        return s;
    cor_day_t due;
    if ((s = cor_cal_due(c->type, c->jurisdiction, from, days, &due, err)) != COR_OK)
        return s;
    char ons[11], dues[11], froms[11];
    cor_cal_format(on, ons);
    cor_cal_format(due, dues);
    cor_cal_format(from, froms);
    if ((s = set_clock(st, c->id, "open", NULL, NULL, froms, days, dues)) != COR_OK)
        return store_fail(st, err, s);
    bool sar = c->type == COR_REQUEST_SAR;
    g_autofree char *how = restarted
        ? g_strdup_printf(sar ? "the month restarts from %s" : "the 20 working days restart after %s",
                          froms)
        : g_strdup_printf("%" G_GINT64_FORMAT " %s not counted", added,
                          sar ? (added == 1 ? "day" : "days")
                              : (added == 1 ? "working day" : "working days"));
    g_autofree char *text = g_strdup_printf("clock resumed on %s (%s): %s; due %s (was %s)", ons,
                                            cor_stop_kind_to_string(kind), how, dues, c->due);
    if ((s = add_event(st, c->id, operator_name, "resume", text, err)) != COR_OK)
        return s;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    jstr(b, "on", ons);
    jstr(b, "stopped_on", c->stopped_on);
    jstr(b, "kind", cor_stop_kind_to_string(kind));
    if (restarted)
        jstr(b, "clock_from", froms);
    else
        jint(b, sar ? "days_added" : "working_days_added", added);
    jstr(b, "due_before", c->due);
    jstr(b, "due", dues);
    json_builder_end_object(b);
    g_autofree char *detail = json_text(b);
    if ((s = cor_audit_append(st, operator_name, "case.resume", ref, detail, NULL, err)) != COR_OK)
        return s;
    if (c_out)
        return cor_case_get(st, ref, c_out, err);
    return COR_OK;
}

cor_status_t
cor_case_close(cor_store_t *st, const char *operator_name, const char *ref, char **err)
{
    g_autoptr(cor_case_t) c = NULL;
    cor_status_t s = cor_case_get(st, ref, &c, err);
    if (s != COR_OK)
        return s;
    if (strcmp(c->status, "closed") == 0)
        return fail(err, COR_ERR_INVALID, "case '%s' is closed already", ref);
    sqlite3_stmt *q = cor_store_stmt(st,
        "UPDATE cases SET status = 'closed', closed = ?2 WHERE id = ?1");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    sqlite3_bind_int64(q, 1, c->id);
    sqlite3_bind_int64(q, 2, (int64_t) time(NULL));
    if ((s = cor_store_step_done(st, q, "cannot close the case")) != COR_OK)
        return store_fail(st, err, s);
    if ((s = add_event(st, c->id, operator_name, "close", "closed", err)) != COR_OK)
        return s;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    jstr(b, "status_before", c->status);
    jstr(b, "due", c->due);
    jint(b, "messages", c->messages);
    json_builder_end_object(b);
    g_autofree char *detail = json_text(b);
    return cor_audit_append(st, operator_name, "case.close", ref, detail, NULL, err);
}

/* ---- searches and the disclosure set ---- */

cor_status_t
cor_case_measure(cor_store_t *st, GArray *msgs, int64_t *bytes, char **err)
{
    *bytes = 0;
    sqlite3_stmt *q = cor_store_stmt(st, "SELECT size FROM messages WHERE id = ?1");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    guint kept = 0;
    for (guint i = 0; i < msgs->len; i++) {
        int64_t row = g_array_index(msgs, int64_t, i);
        sqlite3_bind_int64(q, 1, row);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            *bytes += sqlite3_column_int64(q, 0);
            g_array_index(msgs, int64_t, kept++) = row;
        }
        sqlite3_reset(q);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return store_fail(st, err, cor_store_sqlite_error(st, rc, "cannot read messages"));
    }
    g_array_set_size(msgs, kept);
    return COR_OK;
}

static cor_status_t
insert_query(cor_store_t *st, const char *operator_name, int64_t case_id, const char *kind,
             const char *query, int64_t count, int64_t bytes, int64_t *id, char **err)
{
    sqlite3_stmt *q = cor_store_stmt(st,
        "INSERT INTO case_queries (case_id, kind, query, at, operator, count, bytes)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    sqlite3_bind_int64(q, 1, case_id);
    sqlite3_bind_text(q, 2, kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 3, query, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 4, (int64_t) time(NULL));
    sqlite3_bind_text(q, 5, operator_name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 6, count);
    sqlite3_bind_int64(q, 7, bytes);
    cor_status_t s = cor_store_step_done(st, q, "cannot record the query");
    if (s != COR_OK)
        return store_fail(st, err, s);
    *id = sqlite3_last_insert_rowid(st->db);
    return COR_OK;
}

cor_status_t
cor_case_record_search(cor_store_t *st, const char *operator_name, const cor_case_t *c,
                       const char *kind, const char *action, const char *query, int64_t count,
                       int64_t bytes, int64_t *query_id, char **err)
{
    int64_t id = 0;
    cor_status_t s = insert_query(st, operator_name, c->id, kind, query, count, bytes, &id, err);
    if (s != COR_OK)
        return s;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    jstr(b, "query", query);
    jint(b, "count", count);
    jint(b, "bytes", bytes);
    jint(b, "query_id", id);
    json_builder_end_object(b);
    g_autofree char *detail = json_text(b);
    if ((s = cor_audit_append(st, operator_name, action, c->ref, detail, NULL, err)) != COR_OK)
        return s;
    if (query_id)
        *query_id = id;
    return COR_OK;
}

cor_status_t
cor_case_add(cor_store_t *st, const char *operator_name, const cor_case_t *c, const char *kind,
             const char *query, int64_t query_id, GArray *msgs, cor_case_add_result_t *res,
             char **err)
{
    memset(res, 0, sizeof *res);
    cor_status_t s = cor_case_measure(st, msgs, &res->matched_bytes, err);
    if (s != COR_OK)
        return s;
    res->matched = msgs->len;
    if (query_id == 0 &&
        (s = insert_query(st, operator_name, c->id, kind, query, res->matched,
                          res->matched_bytes, &query_id, err)) != COR_OK)
        return s;
    sqlite3_stmt *q = cor_store_stmt(st,
        "INSERT OR IGNORE INTO case_messages (case_id, msg, query_id, added, added_by)"
        " VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    int64_t now = (int64_t) time(NULL);
    for (guint i = 0; i < msgs->len; i++) {
        sqlite3_bind_int64(q, 1, c->id);
        sqlite3_bind_int64(q, 2, g_array_index(msgs, int64_t, i));
        sqlite3_bind_int64(q, 3, query_id);
        sqlite3_bind_int64(q, 4, now);
        sqlite3_bind_text(q, 5, operator_name, -1, SQLITE_TRANSIENT);
        if ((s = cor_store_step_done(st, q, "cannot add to the case")) != COR_OK)
            return store_fail(st, err, s);
        res->added += sqlite3_changes(st->db);
    }
    g_autoptr(cor_case_t) after = NULL;
    if ((s = cor_case_get(st, c->ref, &after, err)) != COR_OK)
        return s;
    res->total = after->messages;
    res->total_bytes = after->bytes;

    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    jstr(b, "kind", kind);
    jstr(b, "query", query);
    jint(b, "query_id", query_id);
    jint(b, "matched", res->matched);
    jint(b, "added", res->added);
    jint(b, "total", res->total);
    jint(b, "total_bytes", res->total_bytes);
    json_builder_end_object(b);
    g_autofree char *detail = json_text(b);
    return cor_audit_append(st, operator_name, "case.add", c->ref, detail, NULL, err);
}

cor_status_t
cor_case_queries(cor_store_t *st, int64_t case_id, GPtrArray **out, char **err)
{
    *out = g_ptr_array_new_with_free_func((GDestroyNotify) cor_case_query_free);
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT id, kind, query, at, operator, count, bytes FROM case_queries"
        " WHERE case_id = ?1 ORDER BY id");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    sqlite3_bind_int64(q, 1, case_id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cor_case_query_t *x = g_new0(cor_case_query_t, 1);
        x->id = sqlite3_column_int64(q, 0);
        x->kind = cor_store_col_text(q, 1);
        x->query = cor_store_col_text(q, 2);
        x->at = sqlite3_column_int64(q, 3);
        x->operator_name = cor_store_col_text(q, 4);
        x->count = sqlite3_column_int64(q, 5);
        x->bytes = sqlite3_column_int64(q, 6);
        g_ptr_array_add(*out, x);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store_fail(st, err, cor_store_sqlite_error(st, rc, "cannot read case queries"));
    return COR_OK;
}

cor_status_t
cor_case_events(cor_store_t *st, int64_t case_id, GPtrArray **out, char **err)
{
    *out = g_ptr_array_new_with_free_func((GDestroyNotify) cor_case_event_free);
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT id, at, operator, kind, text FROM case_events WHERE case_id = ?1 ORDER BY id");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    sqlite3_bind_int64(q, 1, case_id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        cor_case_event_t *e = g_new0(cor_case_event_t, 1);
        e->id = sqlite3_column_int64(q, 0);
        e->at = sqlite3_column_int64(q, 1);
        e->operator_name = cor_store_col_text(q, 2);
        e->kind = cor_store_col_text(q, 3);
        e->text = cor_store_col_text(q, 4);
        g_ptr_array_add(*out, e);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store_fail(st, err, cor_store_sqlite_error(st, rc, "cannot read case events"));
    return COR_OK;
}

cor_status_t
cor_case_messages(cor_store_t *st, int64_t case_id, GArray **out, char **err)
{
    *out = g_array_new(FALSE, FALSE, sizeof(int64_t));
    sqlite3_stmt *q = cor_store_stmt(st,
        "SELECT msg FROM case_messages WHERE case_id = ?1 ORDER BY added, msg");
    if (!q)
        return store_fail(st, err, COR_ERR_STORE);
    sqlite3_bind_int64(q, 1, case_id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t m = sqlite3_column_int64(q, 0);
        g_array_append_val(*out, m);
    }
    sqlite3_reset(q);
    if (rc != SQLITE_DONE)
        return store_fail(st, err, cor_store_sqlite_error(st, rc, "cannot read case messages"));
    return COR_OK;
}

cor_status_t
cor_case_days_left(const cor_case_t *c, cor_day_t today, int64_t *days, int64_t *working_days,
                   char **err)
{
    cor_day_t due = parse_stored(c->due);
    cor_day_t from = today;
    if (strcmp(c->status, "stopped") == 0 && *c->stopped_on)
        from = parse_stored(c->stopped_on);
    *days = (int64_t) due - from;
    if (c->type == COR_REQUEST_SAR) {
        *working_days = *days;
        return COR_OK;
    }
    /* outside the tables (a case of 2030 looked at in 2031): calendar days only */
    if (from < cor_cal_first_day() || from > cor_cal_last_day()) {
        *working_days = *days;
        return COR_OK;
    }
    return cor_cal_working_days_between(c->type, c->jurisdiction, from, due, working_days, err);
}

/* A value as a quoted phrase of the query language (double quotes dropped:
 * the language has no escape for them). */
static void
phrase(GString *q, const char *prefix, const char *value)
{
    g_autofree char *v = g_strdup(value);
    g_strdelimit(v, "\"", ' ');
    g_strstrip(v);
    g_string_append_printf(q, "%s%s\"%s\"", q->len ? " OR " : "", prefix, v);
}

char *
cor_case_sar_query(const char *address, const char *const *names)
{
    GString *q = g_string_new(NULL);
    phrase(q, "from:", address);
    phrase(q, "to:", address);
    phrase(q, "cc:", address);
    phrase(q, "", address);
    for (guint i = 0; names && names[i]; i++) {
        g_autofree char *n = g_strstrip(g_strdup(names[i]));
        if (!*n)
            continue;
        phrase(q, "from:", n);
        phrase(q, "to:", n);
        phrase(q, "", n);
    }
    return g_string_free(q, FALSE);
}

cor_status_t
cor_case_search(cor_store_t *st, const char *index_dir, const char *query, GArray **rows,
                int64_t *bytes, char **err)
{
    *rows = g_array_new(FALSE, FALSE, sizeof(int64_t));
    *bytes = 0;
    g_autofree char *qerr = NULL;
    if (cor_search_check_query(query, &qerr) != COR_OK)
        return fail(err, COR_ERR_QUERY, "malformed query: %s", qerr);
    cor_search_db_t *db = NULL;
    g_autofree char *derr = NULL;
    cor_status_t s = cor_search_db_open(index_dir, &db, &derr);
    if (s == COR_ERR_NOT_FOUND)
        return COR_OK;   /* nothing indexed yet: nothing found */
    if (s != COR_OK)
        return fail(err, s, "cannot open index '%s': %s", index_dir, derr);
    cor_search_query_t q = {
        .query = query,
        .all_groups = true,
        .sort = COR_SEARCH_SORT_DATE_ASC,
        .limit = 0,
    };
    cor_search_results_t *r = NULL;
    s = cor_search_run(db, &q, &r);
    if (s != COR_OK) {
        s = fail(err, s, "%s: %s", s == COR_ERR_QUERY ? "malformed query" : "search failed",
                 cor_search_db_error(db));
        cor_search_db_close(db);
        return s;
    }
    for (; cor_search_results_valid(r); cor_search_results_next(r)) {
        int64_t row = (int64_t) cor_search_results_docid(r);
        g_array_append_val(*rows, row);
    }
    cor_search_results_free(r);
    cor_search_db_close(db);
    /* the index may be ahead of a deleted message: keep what the store has */
    return cor_case_measure(st, *rows, bytes, err);
}
