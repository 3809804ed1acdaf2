/* Unit tests for records/calendar.h: statutory due dates worked out by hand
 * (each case says which days it skips), stopping the clock for a
 * clarification or a fee (each kind under each law, worked out by hand),
 * dates outside
 * the tables, strict date parsing, and the bank-holiday table recomputed
 * from the rules for every nation and year 2020–2030.
 *
 * Working days for FOI/EIR outside Scotland exclude bank holidays in ANY
 * part of the UK (FOIA s.10(6)), so Scotland's 2 January, St Andrew's Day
 * and first Monday of August and Northern Ireland's 17 March and 12 July
 * also stop the count in England.  Under FOISA (scotland) only Scotland's
 * days count, so Easter Monday, 17 March and 12 July are working days. */
#include <glib.h>
#include <string.h>

#include "records/calendar.h"

typedef struct due_case {
    const char *type;
    const char *jurisdiction;
    const char *received;
    const char *due;           /* worked out by hand */
} due_case_t;

static const due_case_t due_cases[] = {
    /* ---- Christmas and New Year ---- */
    /* Wed 20 Dec 2023: 21,22 (2); skip Mon 25 Christmas, Tue 26 Boxing; 27,28,29 (5);
     * skip Mon 1 Jan New Year, Tue 2 Jan (Scotland's 2 January: any part of the UK);
     * 3,4,5 (8); 8-12 (13); 15-19 (18); 22 (19), Tue 23 Jan (20). */
    { "foi", "england-wales", "2023-12-20", "2024-01-23" },
    /* Fri 17 Dec 2021: 20-24 (5); skip Mon 27, Tue 28 (Christmas and Boxing Day
     * substitutes), Mon 3 Jan (New Year substitute), Tue 4 Jan (Scotland's 2 January
     * substitute); 29,30,31 (8); 5,6,7 (11); 10-14 (16); 17,18,19 (19), Thu 20 (20). */
    { "eir", "england-wales", "2021-12-17", "2022-01-20" },
    /* Mon 21 Dec 2026, FOISA: 22,23,24 (3); skip Fri 25 Christmas, Mon 28 (Boxing Day
     * substitute); 29,30,31 (6); skip Fri 1 Jan, Mon 4 Jan (2 January substitute: the
     * 2nd is a Saturday); 5-8 (10); 11-15 (15); 18-21 (19), Fri 22 Jan (20). */
    { "foi", "scotland", "2026-12-21", "2027-01-22" },

    /* ---- Easter ---- */
    /* Mon 25 Mar 2024, FOIA: 26,27,28 (3); skip Good Friday 29, Easter Monday 1 Apr;
     * 2-5 (7); 8-12 (12); 15-19 (17); 22,23 (19), Wed 24 Apr (20). */
    { "foi", "england-wales", "2024-03-25", "2024-04-24" },
    /* the same under FOISA: Easter Monday 1 Apr is a working day in Scotland:
     * 26,27,28 (3); skip Good Friday; 1-5 (8); 8-12 (13); 15-19 (18); 22 (19), Tue 23 (20). */
    { "foi", "scotland", "2024-03-25", "2024-04-23" },

    /* ---- Northern Ireland: St Patrick's Day and the 12th of July ---- */
    /* Mon 11 Mar 2024: 12-15 (4); skip Mon 18 (St Patrick's Day substitute, 17th a
     * Sunday); 19-22 (8); 25-28 (12); skip Good Friday 29, Easter Monday 1 Apr;
     * 2-5 (16); 8,9,10 (19), Thu 11 Apr (20). */
    { "foi", "northern-ireland", "2024-03-11", "2024-04-11" },
    /* the same in England: NI's bank holiday counts under FOIA s.10(6) */
    { "foi", "england-wales", "2024-03-11", "2024-04-11" },
    /* Scotland: 18 Mar and 1 Apr are working days: 12-15 (4); 18-22 (9); 25-28 (13);
     * skip Good Friday; 1-5 (18); 8 (19), Tue 9 Apr (20). */
    { "foi", "scotland", "2024-03-11", "2024-04-09" },
    /* Mon 7 Jul 2025: 8-11 (4); skip Mon 14 (Battle of the Boyne substitute, 12th a
     * Saturday); 15-18 (8); 21-25 (13); 28-31 (17); Fri 1 Aug (18); skip Mon 4 Aug
     * (Scotland's summer bank holiday, first Monday of August); 5 (19), Wed 6 Aug (20). */
    { "foi", "northern-ireland", "2025-07-07", "2025-08-06" },
    /* Scotland: 14 Jul counts: 8-11 (4); 14-18 (9); 21-25 (14); 28-31 (18); 1 Aug (19);
     * skip Mon 4 Aug; Tue 5 Aug (20). */
    { "foi", "scotland", "2025-07-07", "2025-08-05" },

    /* ---- one-off days ---- */
    /* Fri 24 Apr 2020: 27-30, 1 May (5); Mon 4 May is a working day in 2020 (early May
     * bank holiday moved to Fri 8 May, VE Day); 4-7 (9); skip 8; 11-15 (14); 18-22 (19);
     * skip Mon 25 spring bank holiday; Tue 26 May (20). */
    { "foi", "england-wales", "2020-04-24", "2020-05-26" },
    /* Fri 20 May 2022: 23-27 (5); Mon 30 May is a working day in 2022 (spring bank
     * holiday moved to Thu 2 Jun); 30,31,1 (8); skip Thu 2 Jun, Fri 3 Jun (Platinum
     * Jubilee); 6-10 (13); 13-17 (18); 20 (19), Tue 21 Jun (20). */
    { "foi", "england-wales", "2022-05-20", "2022-06-21" },
    /* the same under the EISR in Scotland (both jubilee days are Scottish too) */
    { "eir", "scotland", "2022-05-20", "2022-06-21" },
    /* Mon 5 Sep 2022: 6-9 (4); 12-16 (9); skip Mon 19 (State Funeral); 20-23 (13);
     * 26-30 (18); 3 Oct (19), Tue 4 Oct (20). */
    { "foi", "england-wales", "2022-09-05", "2022-10-04" },
    /* Fri 28 Apr 2023: skip Mon 1 May (early May); 2-5 (4); skip Mon 8 May
     * (Coronation); 9-12 (8); 15-19 (13); 22-26 (18); skip Mon 29 (spring);
     * 30 (19), Wed 31 May (20). */
    { "foi", "england-wales", "2023-04-28", "2023-05-31" },

    /* ---- St Andrew's Day ---- */
    /* Mon 27 Nov 2023: 28,29 (2); skip Thu 30 Nov (St Andrew's Day, Scottish, so
     * also under FOIA); 1 Dec (3); 4-8 (8); 11-15 (13); 18-22 (18); skip 25, 26;
     * 27 (19), Thu 28 Dec (20). */
    { "foi", "england-wales", "2023-11-27", "2023-12-28" },
    /* Mon 25 Nov 2024, FOISA: 26-29 (4); skip Mon 2 Dec (St Andrew's Day substitute,
     * 30th a Saturday); 3-6 (8); 9-13 (13); 16-20 (18); 23 (19), Tue 24 Dec (20). */
    { "foi", "scotland", "2024-11-25", "2024-12-24" },
    { "foi", "england-wales", "2024-11-25", "2024-12-24" },

    /* ---- received on a weekend ---- */
    /* Sat 1 Jun 2024: day 1 is Mon 3 Jun; 3-7 (5), 10-14 (10), 17-21 (15), 24-28 (20). */
    { "foi", "england-wales", "2024-06-01", "2024-06-28" },

    /* ---- SAR: one calendar month from the day after receipt ---- */
    /* 31 Jan 2023: no 31 Feb; last day of February, Tue 28 Feb 2023 */
    { "sar", "england-wales", "2023-01-31", "2023-02-28" },
    /* 31 Jan 2024 (leap year): Thu 29 Feb 2024 */
    { "sar", "england-wales", "2024-01-31", "2024-02-29" },
    /* 29 Jan 2023: no 29 Feb in 2023: Tue 28 Feb */
    { "sar", "england-wales", "2023-01-29", "2023-02-28" },
    /* 29 Jan 2024: 29 Feb exists */
    { "sar", "england-wales", "2024-01-29", "2024-02-29" },
    /* 29 Feb 2024 -> Fri 29 Mar, Good Friday; Sat, Sun; Mon 1 Apr Easter Monday;
     * Tue 2 Apr */
    { "sar", "england-wales", "2024-02-29", "2024-04-02" },
    /* in Scotland Easter Monday is not a bank holiday: Mon 1 Apr */
    { "sar", "scotland", "2024-02-29", "2024-04-01" },
    /* Sat 25 Nov 2023 -> Mon 25 Dec Christmas, Tue 26 Boxing Day: Wed 27 Dec */
    { "sar", "england-wales", "2023-11-25", "2023-12-27" },
    /* 4 Dec 2021 -> Tue 4 Jan 2022: a working day in England (New Year substitute
     * was Mon 3 Jan) ... */
    { "sar", "england-wales", "2021-12-04", "2022-01-04" },
    /* ... but Scotland's 2 January substitute: Wed 5 Jan */
    { "sar", "scotland", "2021-12-04", "2022-01-05" },
    /* 12 Jun 2025 -> Sat 12 Jul; Sun; Mon 14 Jul Battle of the Boyne substitute in NI:
     * Tue 15 Jul */
    { "sar", "northern-ireland", "2025-06-12", "2025-07-15" },
    /* the same in England: Mon 14 Jul */
    { "sar", "england-wales", "2025-06-12", "2025-07-14" },
    /* 17 Feb 2024 -> Sun 17 Mar; Mon 18 Mar St Patrick's Day substitute (NI): Tue 19 */
    { "sar", "northern-ireland", "2024-02-17", "2024-03-19" },
    { "sar", "england-wales", "2024-02-17", "2024-03-18" },
    /* 30 Oct 2024 -> Sat 30 Nov; Sun; Mon 2 Dec St Andrew's Day substitute: Tue 3 Dec */
    { "sar", "scotland", "2024-10-30", "2024-12-03" },
    { "sar", "england-wales", "2024-10-30", "2024-12-02" },
    /* 8 Apr 2023 -> Mon 8 May 2023, the Coronation: Tue 9 May */
    { "sar", "england-wales", "2023-04-08", "2023-05-09" },
};

static cor_day_t
day(const char *s)
{
    cor_day_t d = 0;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_cal_parse(s, &d, &err), ==, COR_OK);
    return d;
}

static void
test_due_dates(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(due_cases); i++) {
        const due_case_t *c = &due_cases[i];
        cor_request_type_t t;
        cor_jurisdiction_t j;
        g_assert_true(cor_request_type_from_string(c->type, &t));
        g_assert_true(cor_jurisdiction_from_string(c->jurisdiction, &j));
        cor_day_t due = 0;
        g_autofree char *err = NULL;
        g_assert_cmpint(cor_cal_due(t, j, day(c->received), 0, &due, &err), ==, COR_OK);
        char got[11];
        cor_cal_format(due, got);
        if (strcmp(got, c->due) != 0)
            g_test_message("%s %s received %s: due %s, expected %s", c->type,
                           c->jurisdiction, c->received, got, c->due);
        g_assert_cmpstr(got, ==, c->due);
    }
    g_assert_cmpuint(G_N_ELEMENTS(due_cases), >=, 20);
}

/* One stop of the clock and the due date after it, worked out by hand
 * (records/calendar.h: a clarification restarts FOI/EIR and pauses a SAR;
 * a fee pauses FOI/EIR and restarts a SAR). */
typedef struct stop_case {
    const char *type;
    const char *jurisdiction;
    const char *received;
    const char *kind;
    const char *stopped;
    const char *resumed;
    const char *due;
} stop_case_t;

static const stop_case_t stop_cases[] = {
    /* The reviewer's example, FOIA: received Mon 3 Jun 2024, clarification asked
     * Fri 7 Jun, received Mon 17 Jun.  s.1(3)/s.10(6)(b): 20 working days after
     * 17 Jun: 18-21 (4), 24-28 (9), 1-5 Jul (14), 8-11 (18), skip Fri 12 Jul (Battle
     * of the Boyne, Northern Ireland: a bank holiday in a part of the UK), Mon 15
     * (19), Tue 16 Jul (20).  (The review said 15 July: it counted 12 July.) */
    { "foi", "england-wales", "2024-06-03", "clarification", "2024-06-07", "2024-06-17",
      "2024-07-16" },
    { "eir", "england-wales", "2024-06-03", "clarification", "2024-06-07", "2024-06-17",
      "2024-07-16" },
    /* FOISA s.10(1)(b): the same, but 12 July is a working day in Scotland: Mon 15 Jul */
    { "foi", "scotland", "2024-06-03", "clarification", "2024-06-07", "2024-06-17",
      "2024-07-15" },
    /* Northern Ireland (FOIA): clarified Fri 15 Mar 2024; skip Mon 18 Mar (St Patrick's
     * Day substitute), 19-22 (4), 25-28 (8), skip Good Friday 29 Mar and Easter Monday
     * 1 Apr, 2-5 (12), 8-12 (17), 15, 16, Wed 17 Apr (20) */
    { "foi", "northern-ireland", "2024-03-11", "clarification", "2024-03-12", "2024-03-15",
      "2024-04-17" },
    /* FOISA, clarification arriving on Sat 30 Nov 2024 (St Andrew's Day): skip Mon 2 Dec
     * (its substitute), 3-6 (4), 9-13 (9), 16-20 (14), 23, 24 (16), skip 25, 26 Dec, 27
     * (17), 30, 31 (19), skip 1 and 2 Jan 2025, Fri 3 Jan (20) */
    { "foi", "scotland", "2024-11-11", "clarification", "2024-11-13", "2024-11-30",
      "2025-01-03" },
    /* FOIA s.10(2), fees notice given Fri 7 Jun, fee received Mon 17 Jun: the working
     * days 7, 10-14, 17 (7) are disregarded; 27th working day after 3 Jun: 1 Jul (20),
     * 2-5 (24), 8, 9, Wed 10 Jul (27) */
    { "foi", "england-wales", "2024-06-03", "fee", "2024-06-07", "2024-06-17", "2024-07-10" },
    { "eir", "england-wales", "2024-06-03", "fee", "2024-06-07", "2024-06-17", "2024-07-10" },
    /* a fees notice on the day of receipt, paid the same day: that day never counted,
     * so nothing is disregarded: Mon 1 Jul as without the notice */
    { "foi", "england-wales", "2024-06-03", "fee", "2024-06-03", "2024-06-03", "2024-07-01" },
    /* over Christmas: received Wed 13 Dec 2023 (due Tue 16 Jan); notice Fri 22 Dec, paid
     * Wed 3 Jan: disregarded 22, 27, 28, 29 Dec and 3 Jan (25, 26 Dec, 1 and 2 Jan are
     * holidays) = 5; counted 14-21 Dec (6), 4, 5 (8), 8-12 (13), 15-19 (18), 22, Tue 23
     * Jan (20) */
    { "foi", "england-wales", "2023-12-13", "fee", "2023-12-22", "2024-01-03", "2024-01-23" },
    /* SAR, UK GDPR Art 12A: clarification asked Mon 10 Jun, received Thu 20 Jun: the 11
     * days 10-20 Jun do not count: 3 Jul + 11 = Sun 14 Jul, so Mon 15 Jul */
    { "sar", "england-wales", "2024-06-03", "clarification", "2024-06-10", "2024-06-20",
      "2024-07-15" },
    /* asked and answered the same day: one day: 31 Jan 2024 is due Thu 29 Feb (leap
     * year), + 1 = Fri 1 Mar */
    { "sar", "england-wales", "2024-01-31", "clarification", "2024-02-05", "2024-02-05",
      "2024-03-01" },
    /* SAR fee (Art 12A: the month runs from the payment): paid Thu 20 Jun 2024: 20 Jul is
     * a Saturday, so Mon 22 Jul */
    { "sar", "england-wales", "2024-06-03", "fee", "2024-06-05", "2024-06-20", "2024-07-22" },
    /* paid Fri 31 Jan 2025: February has no 31st: Fri 28 Feb */
    { "sar", "scotland", "2025-01-20", "fee", "2025-01-22", "2025-01-31", "2025-02-28" },
};

/* Runs cor_cal_resume then cor_cal_due; the due date into out[11]. */
static void
resume_due(cor_request_type_t t, cor_jurisdiction_t j, const char *kind, const char *stopped,
           const char *resumed, cor_day_t *from, int64_t *days, char out[11])
{
    g_autofree char *err = NULL;
    cor_stop_kind_t k;
    g_assert_true(cor_stop_kind_from_string(kind, &k));
    g_assert_cmpint(cor_cal_resume(t, j, k, day(stopped), day(resumed), from, days, NULL, NULL,
                                   &err), ==, COR_OK);
    cor_day_t due;
    g_assert_cmpint(cor_cal_due(t, j, *from, *days, &due, &err), ==, COR_OK);
    cor_cal_format(due, out);
}

static void
test_stop_clock(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(stop_cases); i++) {
        const stop_case_t *c = &stop_cases[i];
        cor_request_type_t t;
        cor_jurisdiction_t j;
        g_assert_true(cor_request_type_from_string(c->type, &t));
        g_assert_true(cor_jurisdiction_from_string(c->jurisdiction, &j));
        cor_day_t from = day(c->received);
        int64_t days = 0;
        char s[11];
        resume_due(t, j, c->kind, c->stopped, c->resumed, &from, &days, s);
        if (strcmp(s, c->due) != 0)
            g_error("%s %s received %s, %s stop %s to %s: due %s, expected %s", c->type,
                    c->jurisdiction, c->received, c->kind, c->stopped, c->resumed, s, c->due);
    }

    /* two stops: FOI received Mon 3 Jun 2024; fees notice Wed 5, paid Thu 6 (2 working
     * days disregarded); then clarification asked Mon 10, received Wed 12 Jun: the count
     * restarts, what was disregarded before no longer matters: 13, 14 (2), 17-21 (7),
     * 24-28 (12), 1-5 Jul (17), 8, 9, Wed 10 Jul (20).  Then a fees notice Thu 20 Jun,
     * paid Mon 24: 20, 21, 24 disregarded (3): 11 Jul (21), skip 12 Jul, 15 (22), Tue
     * 16 Jul (23). */
    cor_day_t from = day("2024-06-03");
    int64_t days = 0;
    char s[11];
    resume_due(COR_REQUEST_FOI, COR_JUR_ENGLAND_WALES, "fee", "2024-06-05", "2024-06-06",
               &from, &days, s);
    g_assert_cmpint(days, ==, 2);
    g_assert_cmpstr(s, ==, "2024-07-03");
    resume_due(COR_REQUEST_FOI, COR_JUR_ENGLAND_WALES, "clarification", "2024-06-10",
               "2024-06-12", &from, &days, s);
    g_assert_cmpint(days, ==, 0);
    g_assert_cmpint(from, ==, day("2024-06-12"));
    g_assert_cmpstr(s, ==, "2024-07-10");
    resume_due(COR_REQUEST_FOI, COR_JUR_ENGLAND_WALES, "fee", "2024-06-20", "2024-06-24",
               &from, &days, s);
    g_assert_cmpint(days, ==, 3);
    g_assert_cmpstr(s, ==, "2024-07-16");

    /* what cor_cal_resume reports */
    g_autofree char *err = NULL;
    bool restarted = true;
    int64_t added = -1;
    from = day("2024-06-03");
    days = 0;
    g_assert_cmpint(cor_cal_resume(COR_REQUEST_SAR, COR_JUR_ENGLAND_WALES, COR_STOP_CLARIFICATION,
                                   day("2024-06-10"), day("2024-06-20"), &from, &days,
                                   &restarted, &added, &err), ==, COR_OK);
    g_assert_false(restarted);
    g_assert_cmpint(added, ==, 11);
    g_assert_cmpint(cor_cal_resume(COR_REQUEST_FOI, COR_JUR_ENGLAND_WALES, COR_STOP_CLARIFICATION,
                                   day("2024-06-10"), day("2024-06-20"), &from, &days,
                                   &restarted, &added, &err), ==, COR_OK);
    g_assert_true(restarted);
    g_assert_cmpint(added, ==, 0);
    g_assert_cmpint(days, ==, 0);

    /* resuming before the stop is an error naming both days; kinds by name */
    g_assert_cmpint(cor_cal_resume(COR_REQUEST_SAR, COR_JUR_ENGLAND_WALES, COR_STOP_FEE,
                                   day("2024-06-10"), day("2024-06-09"), &from, &days, NULL,
                                   NULL, &err), ==, COR_ERR_INVALID);
    g_assert_nonnull(strstr(err, "2024-06-09"));
    g_assert_nonnull(strstr(err, "2024-06-10"));
    cor_stop_kind_t k;
    g_assert_false(cor_stop_kind_from_string("payment", &k));
    g_assert_true(cor_stop_kind_from_string("fee", &k));
    g_assert_cmpstr(cor_stop_kind_to_string(k), ==, "fee");
    /* a resume outside the tables is refused, not guessed */
    g_assert_cmpint(cor_cal_resume(COR_REQUEST_FOI, COR_JUR_ENGLAND_WALES, COR_STOP_FEE,
                                   day("2030-12-20"), day("2031-01-05"), &from, &days, NULL,
                                   NULL, &err), ==, COR_ERR_INVALID);
    g_assert_nonnull(strstr(err, "outside the bank-holiday tables"));
}

static void
test_out_of_range(void)
{
    cor_day_t due;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_cal_due(COR_REQUEST_FOI, COR_JUR_ENGLAND_WALES, day("2019-12-31"), 0,
                                &due, &err), ==, COR_ERR_INVALID);
    g_assert_nonnull(strstr(err, "2019-12-31"));
    g_assert_nonnull(strstr(err, "2020"));
    g_clear_pointer(&err, g_free);
    /* received inside, but the 20th working day is in 2031 */
    g_assert_cmpint(cor_cal_due(COR_REQUEST_FOI, COR_JUR_SCOTLAND, day("2030-12-20"), 0, &due,
                                &err), ==, COR_ERR_INVALID);
    g_assert_nonnull(strstr(err, "2031-01-01"));
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(cor_cal_due(COR_REQUEST_SAR, COR_JUR_SCOTLAND, day("2030-12-15"), 0, &due,
                                &err), ==, COR_ERR_INVALID);
    g_clear_pointer(&err, g_free);
    /* the last day that still works: SAR 2030-11-30 -> Sat 2030-12-30? no: 30 Dec 2030 is
     * a Monday, a working day */
    g_assert_cmpint(cor_cal_due(COR_REQUEST_SAR, COR_JUR_ENGLAND_WALES, day("2030-11-30"), 0,
                                &due, &err), ==, COR_OK);
    char s[11];
    cor_cal_format(due, s);
    g_assert_cmpstr(s, ==, "2030-12-30");
    const char *name;
    g_assert_cmpint(cor_cal_holiday(COR_JUR_ENGLAND_WALES, day("2031-01-01"), &name, &err), ==,
                    COR_ERR_INVALID);
}

static void
test_parse(void)
{
    static const char *const bad[] = { "2024-02-30", "2023-02-29", "2024-13-01", "2024-1-01",
                                       "24-01-01", "2024/01/01", "2024-01-01x", "", "yesterday",
                                       "2024-00-10", "2024-04-31" };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        cor_day_t d;
        g_autofree char *err = NULL;
        g_assert_cmpint(cor_cal_parse(bad[i], &d, &err), ==, COR_ERR_INVALID);
        g_assert_nonnull(strstr(err, "'"));
        g_autofree char *quoted = g_strdup_printf("'%s'", bad[i]);
        g_assert_nonnull(strstr(err, quoted));
    }
    /* round trip and weekdays across the range */
    for (cor_day_t d = day("2019-12-25"); d <= day("2031-01-05"); d++) {
        char s[11];
        cor_cal_format(d, s);
        g_assert_cmpint(day(s), ==, d);
        int y, m, dd;
        cor_cal_ymd(d, &y, &m, &dd);
        g_autoptr(GDateTime) gd = g_date_time_new_utc(y, m, dd, 0, 0, 0);
        g_assert_cmpint(cor_cal_weekday(d), ==, g_date_time_get_day_of_week(gd) - 1);
    }
    g_assert_cmpint(cor_cal_weekday(day("2024-01-01")), ==, 0);   /* a Monday */
    cor_jurisdiction_t j;
    g_assert_false(cor_jurisdiction_from_string("wales", &j));
    cor_request_type_t t;
    g_assert_false(cor_request_type_from_string("FOI", &t));
}

/* ---- the table against the rules, computed here independently ---- */

static cor_day_t
easter_sunday(int y)
{
    /* the anonymous Gregorian algorithm (Meeus/Jones/Butcher) */
    int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4, f = (b + 8) / 25;
    int g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30, i = c / 4, k = c % 4;
    int l = (32 + 2 * e + 2 * i - h - k) % 7, m = (a + 11 * h + 22 * l) / 451;
    int month = (h + l - 7 * m + 114) / 31, dd = ((h + l - 7 * m + 114) % 31) + 1;
    return cor_cal_from_ymd(y, month, dd);
}

static cor_day_t
first_monday(int y, int m)
{
    cor_day_t d = cor_cal_from_ymd(y, m, 1);
    while (cor_cal_weekday(d) != 0)
        d++;
    return d;
}

static cor_day_t
last_monday(int y, int m)
{
    cor_day_t d = cor_cal_from_ymd(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - 1;
    while (cor_cal_weekday(d) != 0)
        d--;
    return d;
}

/* A fixed date on its own day when that is a free weekday, else the next free weekday. */
static cor_day_t
substitute(GHashTable *taken, cor_day_t d)
{
    while (cor_cal_weekday(d) >= 5 || g_hash_table_contains(taken, GINT_TO_POINTER(d)))
        d++;
    g_hash_table_add(taken, GINT_TO_POINTER(d));
    return d;
}

static void
rule_days(int y, cor_jurisdiction_t j, GHashTable *out)
{
    g_autoptr(GHashTable) taken = g_hash_table_new(g_direct_hash, g_direct_equal);
    bool sc = j == COR_JUR_SCOTLAND, ni = j == COR_JUR_NORTHERN_IRELAND;
    g_hash_table_add(out, GINT_TO_POINTER(substitute(taken, cor_cal_from_ymd(y, 1, 1))));
    if (sc)
        g_hash_table_add(out, GINT_TO_POINTER(substitute(taken, cor_cal_from_ymd(y, 1, 2))));
    if (ni)
        g_hash_table_add(out, GINT_TO_POINTER(substitute(taken, cor_cal_from_ymd(y, 3, 17))));
    cor_day_t e = easter_sunday(y);
    g_hash_table_add(out, GINT_TO_POINTER(e - 2));
    if (!sc)
        g_hash_table_add(out, GINT_TO_POINTER(e + 1));
    g_hash_table_add(out, GINT_TO_POINTER(y == 2020 ? cor_cal_from_ymd(2020, 5, 8)
                                                    : first_monday(y, 5)));
    if (y == 2022) {
        g_hash_table_add(out, GINT_TO_POINTER(cor_cal_from_ymd(2022, 6, 2)));
        g_hash_table_add(out, GINT_TO_POINTER(cor_cal_from_ymd(2022, 6, 3)));
        g_hash_table_add(out, GINT_TO_POINTER(cor_cal_from_ymd(2022, 9, 19)));
    } else {
        g_hash_table_add(out, GINT_TO_POINTER(last_monday(y, 5)));
    }
    if (y == 2023)
        g_hash_table_add(out, GINT_TO_POINTER(cor_cal_from_ymd(2023, 5, 8)));
    if (ni)
        g_hash_table_add(out, GINT_TO_POINTER(substitute(taken, cor_cal_from_ymd(y, 7, 12))));
    g_hash_table_add(out, GINT_TO_POINTER(sc ? first_monday(y, 8) : last_monday(y, 8)));
    if (sc) {
        cor_day_t sa = cor_cal_from_ymd(y, 11, 30);
        while (cor_cal_weekday(sa) >= 5)
            sa++;     /* Saturday or Sunday: the following Monday */
        g_hash_table_add(out, GINT_TO_POINTER(sa));
    }
    g_hash_table_add(out, GINT_TO_POINTER(substitute(taken, cor_cal_from_ymd(y, 12, 25))));
    g_hash_table_add(out, GINT_TO_POINTER(substitute(taken, cor_cal_from_ymd(y, 12, 26))));
}

static void
test_table_matches_rules(void)
{
    for (int jj = 0; jj < 3; jj++) {
        cor_jurisdiction_t j = (cor_jurisdiction_t) jj;
        g_autoptr(GHashTable) want = g_hash_table_new(g_direct_hash, g_direct_equal);
        for (int y = 2020; y <= 2030; y++)
            rule_days(y, j, want);
        guint n = 0;
        for (cor_day_t d = cor_cal_first_day(); d <= cor_cal_last_day(); d++) {
            const char *name = NULL;
            g_autofree char *err = NULL;
            g_assert_cmpint(cor_cal_holiday(j, d, &name, &err), ==, COR_OK);
            bool expected = g_hash_table_contains(want, GINT_TO_POINTER(d));
            if (expected != (name != NULL)) {
                char s[11];
                cor_cal_format(d, s);
                g_test_message("%s %s: table %s, rules %s", cor_jurisdiction_to_string(j), s,
                               name ? name : "no holiday", expected ? "holiday" : "none");
            }
            g_assert_cmpint(expected, ==, name != NULL);
            n += name != NULL;
        }
        g_assert_cmpuint(n, ==, g_hash_table_size(want));
    }
    /* a few by name, as gov.uk lists them */
    const char *name;
    g_autofree char *err = NULL;
    g_assert_cmpint(cor_cal_holiday(COR_JUR_ENGLAND_WALES, day("2022-12-27"), &name, &err), ==,
                    COR_OK);
    g_assert_cmpstr(name, ==, "Christmas Day (substitute day)");
    g_assert_cmpint(cor_cal_holiday(COR_JUR_SCOTLAND, day("2023-01-03"), &name, &err), ==, COR_OK);
    g_assert_cmpstr(name, ==, "2nd January (substitute day)");
    g_assert_cmpint(cor_cal_holiday(COR_JUR_NORTHERN_IRELAND, day("2020-07-13"), &name, &err),
                    ==, COR_OK);
    g_assert_nonnull(strstr(name, "Boyne"));
    g_assert_cmpint(cor_cal_holiday(COR_JUR_ENGLAND_WALES, day("2020-05-04"), &name, &err), ==,
                    COR_OK);
    g_assert_null(name);   /* moved to VE Day */
    g_assert_cmpint(cor_cal_holiday(COR_JUR_ENGLAND_WALES, day("2022-05-30"), &name, &err), ==,
                    COR_OK);
    g_assert_null(name);   /* moved to 2 June */
    g_assert_cmpint(cor_cal_holiday(COR_JUR_ENGLAND_WALES, day("2024-11-29"), &name, &err), ==,
                    COR_OK);
    g_assert_null(name);
    /* FOIA: a Scottish day is not a working day in England; FOISA: Easter Monday is */
    bool w = true;
    g_assert_cmpint(cor_cal_working_day(COR_REQUEST_FOI, COR_JUR_ENGLAND_WALES, day("2024-12-02"),
                                        &w, &err), ==, COR_OK);
    g_assert_false(w);
    g_assert_cmpint(cor_cal_working_day(COR_REQUEST_FOI, COR_JUR_SCOTLAND, day("2024-04-01"),
                                        &w, &err), ==, COR_OK);
    g_assert_true(w);
    g_assert_cmpint(cor_cal_working_day(COR_REQUEST_SAR, COR_JUR_ENGLAND_WALES, day("2024-12-02"),
                                        &w, &err), ==, COR_OK);
    g_assert_true(w);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/calendar/due-dates", test_due_dates);
    g_test_add_func("/calendar/stop-clock", test_stop_clock);
    g_test_add_func("/calendar/out-of-range", test_out_of_range);
    g_test_add_func("/calendar/parse", test_parse);
    g_test_add_func("/calendar/table-matches-rules", test_table_matches_rules);
    return g_test_run();
}
