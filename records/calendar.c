/* records/calendar.c — UK bank holidays 2020–2030 and statutory due dates
 * (records/calendar.h states the rules).
 *
 * Sources.
 *   - Bank holidays: the Banking and Financial Dealings Act 1971, Schedule 1,
 *     and the days appointed by royal proclamation under its s.1(3), as
 *     published for each nation at https://www.gov.uk/bank-holidays
 *     (England and Wales, Scotland, Northern Ireland).  The table below was
 *     generated from the rules and checked year by year against those lists;
 *     tests/unit/test-calendar.c recomputes every year from the rules
 *     independently and compares:
 *       all:  New Year's Day; Good Friday; early May (first Monday of May);
 *             spring (last Monday of May); Christmas Day; Boxing Day.  A day
 *             falling on a weekend (or on another holiday's substitute)
 *             moves to the next free weekday.
 *       E&W, NI: Easter Monday; summer (last Monday of August).
 *       NI:   St Patrick's Day (17 March), Battle of the Boyne (12 July),
 *             each moved to the next Monday from a weekend.
 *       Scotland: 2 January; summer (FIRST Monday of August); St Andrew's
 *             Day (30 November; from a weekend the next Monday, St Andrew's
 *             Day Bank Holiday (Scotland) Act 2007); no Easter Monday.
 *       one-off days: 2020-05-08 VE Day (instead of 2020-05-04); 2022-06-02
 *             spring bank holiday moved, 2022-06-03 Platinum Jubilee;
 *             2022-09-19 State Funeral of Queen Elizabeth II; 2023-05-08
 *             Coronation of King Charles III — all in every nation.
 *   - FOIA s.10(1): "promptly and in any event not later than the twentieth
 *     working day following the date of receipt"; s.10(6): "working day"
 *     means any day other than a Saturday, a Sunday, Christmas Day, Good
 *     Friday or a day which is a bank holiday under the Banking and
 *     Financial Dealings Act 1971 in any part of the United Kingdom.
 *     EIR 2004 reg 5(2) (twenty working days) and reg 2(1) ("working day"
 *     has the same meaning as in s.10(6) FOIA).
 *   - FOISA s.10(1) (twentieth working day after receipt) and s.73:
 *     "working day" means any day other than a Saturday, a Sunday, Christmas
 *     Day or a day which, under the Banking and Financial Dealings Act 1971,
 *     is a bank holiday in Scotland.  EISR 2004 reg 2(1) and 5(2)(a) take
 *     the same meaning and period.  (Good Friday is a Scottish bank holiday,
 *     Easter Monday is not: under FOISA Easter Monday is a working day.)
 *   - UK GDPR Art 12(3) ("within one month of receipt"), with the ICO's
 *     guidance on the right of access ("calculate the time limit from the
 *     day after you receive the request ... until the corresponding calendar
 *     date in the next month"; if there is none, the last day of that month;
 *     "if this falls on a weekend or a public holiday, you have until the
 *     next working day").  Also Art 3 of Regulation (EEC, Euratom) 1182/71
 *     on periods, which the ICO's approach follows.
 *   - Stopping the clock (cor_cal_resume):
 *     clarification, FOI: FOIA s.1(3) (the authority "is not obliged to
 *       comply ... unless it is supplied with that further information")
 *       and s.10(6)(b) ("date of receipt" means, if later, "the day on which
 *       it receives the information referred to in section 1(3)"); FOISA
 *       s.1(3) and s.10(1)(b) ("the receipt by it of the further
 *       information"); EIR reg 9(4) and EISR reg 9(4) (the 20 working days
 *       are counted from the date the further particulars are received).
 *       So the count restarts; nothing used before carries over.
 *     fee, FOI: FOIA s.10(2) ("the working days in the period beginning
 *       with the day on which the fees notice is given ... and ending with
 *       the day on which the fee is received ... are to be disregarded");
 *       FOISA s.10(2) likewise; EIR/EISR reg 8(5)-(6) (advance payment; the
 *       ICO treats the time as stopped until it is paid).
 *     clarification, SAR: UK GDPR Art 12A (Data (Use and Access) Act 2025):
 *       the period from the day the controller asks for the information it
 *       reasonably requires to the day it receives it does not count (the
 *       same words as DPA 2018 s.54(3C) for law-enforcement processing);
 *       before that, the ICO's right-of-access guidance ("the time limit is
 *       paused until you receive clarification").
 *     fee, SAR: Art 12A: the period begins with the latest of the day the
 *       request, the identity information asked for, or the fee is
 *       received (ICO guidance: "you do not need to comply ... until you
 *       have received the fee"), so the month runs from the payment.
 *     Worked examples are in tests/unit/test-calendar.c (test_stop_clock).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "records/calendar.h"

enum { EW = 1, SC = 2, NI = 4 };

typedef struct holiday {
    char date[11];
    unsigned nations;
    const char *name;
} holiday_t;

/* Every bank holiday 2020–2030, by date; each with the nations it is in. */
static const holiday_t holidays[] = {
    { "2020-01-01", EW|SC|NI, "New Year's Day" },
    { "2020-01-02", SC, "2nd January" },
    { "2020-03-17", NI, "St Patrick's Day" },
    { "2020-04-10", EW|SC|NI, "Good Friday" },
    { "2020-04-13", EW|NI, "Easter Monday" },
    { "2020-05-08", EW|SC|NI, "Early May bank holiday (VE Day)" },
    { "2020-05-25", EW|SC|NI, "Spring bank holiday" },
    { "2020-07-13", NI, "Battle of the Boyne (Orangemen's Day) (substitute day)" },
    { "2020-08-03", SC, "Summer bank holiday" },
    { "2020-08-31", EW|NI, "Summer bank holiday" },
    { "2020-11-30", SC, "St Andrew's Day" },
    { "2020-12-25", EW|SC|NI, "Christmas Day" },
    { "2020-12-28", EW|SC|NI, "Boxing Day (substitute day)" },
    { "2021-01-01", EW|SC|NI, "New Year's Day" },
    { "2021-01-04", SC, "2nd January (substitute day)" },
    { "2021-03-17", NI, "St Patrick's Day" },
    { "2021-04-02", EW|SC|NI, "Good Friday" },
    { "2021-04-05", EW|NI, "Easter Monday" },
    { "2021-05-03", EW|SC|NI, "Early May bank holiday" },
    { "2021-05-31", EW|SC|NI, "Spring bank holiday" },
    { "2021-07-12", NI, "Battle of the Boyne (Orangemen's Day)" },
    { "2021-08-02", SC, "Summer bank holiday" },
    { "2021-08-30", EW|NI, "Summer bank holiday" },
    { "2021-11-30", SC, "St Andrew's Day" },
    { "2021-12-27", EW|SC|NI, "Christmas Day (substitute day)" },
    { "2021-12-28", EW|SC|NI, "Boxing Day (substitute day)" },
    { "2022-01-03", EW|SC|NI, "New Year's Day (substitute day)" },
    { "2022-01-04", SC, "2nd January (substitute day)" },
    { "2022-03-17", NI, "St Patrick's Day" },
    { "2022-04-15", EW|SC|NI, "Good Friday" },
    { "2022-04-18", EW|NI, "Easter Monday" },
    { "2022-05-02", EW|SC|NI, "Early May bank holiday" },
    { "2022-06-02", EW|SC|NI, "Spring bank holiday" },
    { "2022-06-03", EW|SC|NI, "Platinum Jubilee bank holiday" },
    { "2022-07-12", NI, "Battle of the Boyne (Orangemen's Day)" },
    { "2022-08-01", SC, "Summer bank holiday" },
    { "2022-08-29", EW|NI, "Summer bank holiday" },
    { "2022-09-19", EW|SC|NI, "Bank Holiday for the State Funeral of Queen Elizabeth II" },
    { "2022-11-30", SC, "St Andrew's Day" },
    { "2022-12-26", EW|SC|NI, "Boxing Day" },
    { "2022-12-27", EW|SC|NI, "Christmas Day (substitute day)" },
    { "2023-01-02", EW|SC|NI, "New Year's Day (substitute day)" },
    { "2023-01-03", SC, "2nd January (substitute day)" },
    { "2023-03-17", NI, "St Patrick's Day" },
    { "2023-04-07", EW|SC|NI, "Good Friday" },
    { "2023-04-10", EW|NI, "Easter Monday" },
    { "2023-05-01", EW|SC|NI, "Early May bank holiday" },
    { "2023-05-08", EW|SC|NI, "Bank holiday for the coronation of King Charles III" },
    { "2023-05-29", EW|SC|NI, "Spring bank holiday" },
    { "2023-07-12", NI, "Battle of the Boyne (Orangemen's Day)" },
    { "2023-08-07", SC, "Summer bank holiday" },
    { "2023-08-28", EW|NI, "Summer bank holiday" },
    { "2023-11-30", SC, "St Andrew's Day" },
    { "2023-12-25", EW|SC|NI, "Christmas Day" },
    { "2023-12-26", EW|SC|NI, "Boxing Day" },
    { "2024-01-01", EW|SC|NI, "New Year's Day" },
    { "2024-01-02", SC, "2nd January" },
    { "2024-03-18", NI, "St Patrick's Day (substitute day)" },
    { "2024-03-29", EW|SC|NI, "Good Friday" },
    { "2024-04-01", EW|NI, "Easter Monday" },
    { "2024-05-06", EW|SC|NI, "Early May bank holiday" },
    { "2024-05-27", EW|SC|NI, "Spring bank holiday" },
    { "2024-07-12", NI, "Battle of the Boyne (Orangemen's Day)" },
    { "2024-08-05", SC, "Summer bank holiday" },
    { "2024-08-26", EW|NI, "Summer bank holiday" },
    { "2024-12-02", SC, "St Andrew's Day (substitute day)" },
    { "2024-12-25", EW|SC|NI, "Christmas Day" },
    { "2024-12-26", EW|SC|NI, "Boxing Day" },
    { "2025-01-01", EW|SC|NI, "New Year's Day" },
    { "2025-01-02", SC, "2nd January" },
    { "2025-03-17", NI, "St Patrick's Day" },
    { "2025-04-18", EW|SC|NI, "Good Friday" },
    { "2025-04-21", EW|NI, "Easter Monday" },
    { "2025-05-05", EW|SC|NI, "Early May bank holiday" },
    { "2025-05-26", EW|SC|NI, "Spring bank holiday" },
    { "2025-07-14", NI, "Battle of the Boyne (Orangemen's Day) (substitute day)" },
    { "2025-08-04", SC, "Summer bank holiday" },
    { "2025-08-25", EW|NI, "Summer bank holiday" },
    { "2025-12-01", SC, "St Andrew's Day (substitute day)" },
    { "2025-12-25", EW|SC|NI, "Christmas Day" },
    { "2025-12-26", EW|SC|NI, "Boxing Day" },
    { "2026-01-01", EW|SC|NI, "New Year's Day" },
    { "2026-01-02", SC, "2nd January" },
    { "2026-03-17", NI, "St Patrick's Day" },
    { "2026-04-03", EW|SC|NI, "Good Friday" },
    { "2026-04-06", EW|NI, "Easter Monday" },
    { "2026-05-04", EW|SC|NI, "Early May bank holiday" },
    { "2026-05-25", EW|SC|NI, "Spring bank holiday" },
    { "2026-07-13", NI, "Battle of the Boyne (Orangemen's Day) (substitute day)" },
    { "2026-08-03", SC, "Summer bank holiday" },
    { "2026-08-31", EW|NI, "Summer bank holiday" },
    { "2026-11-30", SC, "St Andrew's Day" },
    { "2026-12-25", EW|SC|NI, "Christmas Day" },
    { "2026-12-28", EW|SC|NI, "Boxing Day (substitute day)" },
    { "2027-01-01", EW|SC|NI, "New Year's Day" },
    { "2027-01-04", SC, "2nd January (substitute day)" },
    { "2027-03-17", NI, "St Patrick's Day" },
    { "2027-03-26", EW|SC|NI, "Good Friday" },
    { "2027-03-29", EW|NI, "Easter Monday" },
    { "2027-05-03", EW|SC|NI, "Early May bank holiday" },
    { "2027-05-31", EW|SC|NI, "Spring bank holiday" },
    { "2027-07-12", NI, "Battle of the Boyne (Orangemen's Day)" },
    { "2027-08-02", SC, "Summer bank holiday" },
    { "2027-08-30", EW|NI, "Summer bank holiday" },
    { "2027-11-30", SC, "St Andrew's Day" },
    { "2027-12-27", EW|SC|NI, "Christmas Day (substitute day)" },
    { "2027-12-28", EW|SC|NI, "Boxing Day (substitute day)" },
    { "2028-01-03", EW|SC|NI, "New Year's Day (substitute day)" },
    { "2028-01-04", SC, "2nd January (substitute day)" },
    { "2028-03-17", NI, "St Patrick's Day" },
    { "2028-04-14", EW|SC|NI, "Good Friday" },
    { "2028-04-17", EW|NI, "Easter Monday" },
    { "2028-05-01", EW|SC|NI, "Early May bank holiday" },
    { "2028-05-29", EW|SC|NI, "Spring bank holiday" },
    { "2028-07-12", NI, "Battle of the Boyne (Orangemen's Day)" },
    { "2028-08-07", SC, "Summer bank holiday" },
    { "2028-08-28", EW|NI, "Summer bank holiday" },
    { "2028-11-30", SC, "St Andrew's Day" },
    { "2028-12-25", EW|SC|NI, "Christmas Day" },
    { "2028-12-26", EW|SC|NI, "Boxing Day" },
    { "2029-01-01", EW|SC|NI, "New Year's Day" },
    { "2029-01-02", SC, "2nd January" },
    { "2029-03-19", NI, "St Patrick's Day (substitute day)" },
    { "2029-03-30", EW|SC|NI, "Good Friday" },
    { "2029-04-02", EW|NI, "Easter Monday" },
    { "2029-05-07", EW|SC|NI, "Early May bank holiday" },
    { "2029-05-28", EW|SC|NI, "Spring bank holiday" },
    { "2029-07-12", NI, "Battle of the Boyne (Orangemen's Day)" },
    { "2029-08-06", SC, "Summer bank holiday" },
    { "2029-08-27", EW|NI, "Summer bank holiday" },
    { "2029-11-30", SC, "St Andrew's Day" },
    { "2029-12-25", EW|SC|NI, "Christmas Day" },
    { "2029-12-26", EW|SC|NI, "Boxing Day" },
    { "2030-01-01", EW|SC|NI, "New Year's Day" },
    { "2030-01-02", SC, "2nd January" },
    { "2030-03-18", NI, "St Patrick's Day (substitute day)" },
    { "2030-04-19", EW|SC|NI, "Good Friday" },
    { "2030-04-22", EW|NI, "Easter Monday" },
    { "2030-05-06", EW|SC|NI, "Early May bank holiday" },
    { "2030-05-27", EW|SC|NI, "Spring bank holiday" },
    { "2030-07-12", NI, "Battle of the Boyne (Orangemen's Day)" },
    { "2030-08-05", SC, "Summer bank holiday" },
    { "2030-08-26", EW|NI, "Summer bank holiday" },
    { "2030-12-02", SC, "St Andrew's Day (substitute day)" },
    { "2030-12-25", EW|SC|NI, "Christmas Day" },
    { "2030-12-26", EW|SC|NI, "Boxing Day" },

};

/* ---- names ---- */

static const char *const jur_names[] = { "england-wales", "scotland", "northern-ireland" };
static const char *const type_names[] = { "foi", "eir", "sar" };

const char *
cor_jurisdiction_to_string(cor_jurisdiction_t j)
{
    return (unsigned) j < G_N_ELEMENTS(jur_names) ? jur_names[j] : "?";
}

bool
cor_jurisdiction_from_string(const char *s, cor_jurisdiction_t *out)
{
    for (unsigned i = 0; s && i < G_N_ELEMENTS(jur_names); i++)
        if (strcmp(s, jur_names[i]) == 0) {
            *out = (cor_jurisdiction_t) i;
            return true;
        }
    return false;
}

const char *
cor_request_type_to_string(cor_request_type_t t)
{
    return (unsigned) t < G_N_ELEMENTS(type_names) ? type_names[t] : "?";
}

bool
cor_request_type_from_string(const char *s, cor_request_type_t *out)
{
    for (unsigned i = 0; s && i < G_N_ELEMENTS(type_names); i++)
        if (strcmp(s, type_names[i]) == 0) {
            *out = (cor_request_type_t) i;
            return true;
        }
    return false;
}

/* ---- day numbers (H. Hinnant's days_from_civil / civil_from_days) ---- */

cor_day_t
cor_cal_from_ymd(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned) (y - era * 400);
    unsigned doy = (unsigned) ((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (cor_day_t) (era * 146097 + (int) doe - 719468);
}

void
cor_cal_ymd(cor_day_t z, int *y, int *m, int *d)
{
    z += 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned) (z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int yy = (int) yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int) (doy - (153 * mp + 2) / 5 + 1);
    *m = (int) (mp < 10 ? mp + 3 : mp - 9);
    *y = yy + (*m <= 2);
}

int
cor_cal_weekday(cor_day_t d)
{
    /* 1970-01-01 was a Thursday (3) */
    int w = (int) ((d % 7 + 7) % 7);
    return (w + 3) % 7;
}

static int
days_in_month(int y, int m)
{
    static const int n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return n[m - 1];
}

void
cor_cal_format(cor_day_t d, char out[11])
{
    int y, m, dd;
    cor_cal_ymd(d, &y, &m, &dd);
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", y % 10000, m % 100, dd % 100);
    memcpy(out, tmp, 10);
    out[10] = '\0';
}

cor_status_t
cor_cal_parse(const char *s, cor_day_t *out, char **err)
{
    int y, m, d;
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        strspn(s, "0123456789") != 4 || strspn(s + 5, "0123456789") != 2 ||
        strspn(s + 8, "0123456789") != 2) {
        if (err)
            *err = g_strdup_printf("bad date '%s' (use YYYY-MM-DD)", s ? s : "");
        return COR_ERR_INVALID;
    }
    y = atoi(s);
    m = atoi(s + 5);
    d = atoi(s + 8);
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
        if (err)
            *err = g_strdup_printf("bad date '%s' (no such day)", s);
        return COR_ERR_INVALID;
    }
    *out = cor_cal_from_ymd(y, m, d);
    return COR_OK;
}

cor_day_t
cor_cal_today(void)
{
    time_t now = time(NULL);
    const char *env = g_getenv("CORRIDOR_NOW");
    if (env && *env) {
        char *end = NULL;
        gint64 v = g_ascii_strtoll(env, &end, 10);
        g_autoptr(GDateTime) dt = NULL;
        if (end && end != env && *end == '\0')
            now = (time_t) v;
        else if ((dt = g_date_time_new_from_iso8601(env, NULL)))
            now = (time_t) g_date_time_to_unix(dt);
    }
    struct tm tm;
    localtime_r(&now, &tm);
    return cor_cal_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

cor_day_t
cor_cal_first_day(void)
{
    return cor_cal_from_ymd(2020, 1, 1);
}

cor_day_t
cor_cal_last_day(void)
{
    return cor_cal_from_ymd(2030, 12, 31);
}

static cor_status_t
out_of_range(cor_day_t d, char **err)
{
    if (err) {
        char s[11];
        cor_cal_format(d, s);
        g_free(*err);
        *err = g_strdup_printf("%s is outside the bank-holiday tables (2020-01-01 to 2030-12-31):"
                               " corridor cannot work out working days there", s);
    }
    return COR_ERR_INVALID;
}

/* ---- holidays ---- */

static unsigned
nation_bit(cor_jurisdiction_t j)
{
    return j == COR_JUR_SCOTLAND ? SC : j == COR_JUR_NORTHERN_IRELAND ? NI : EW;
}

/* The table row for `d`, or NULL.  Dates sort as strings. */
static const holiday_t *
holiday_row(cor_day_t d)
{
    char s[11];
    cor_cal_format(d, s);
    size_t lo = 0, hi = G_N_ELEMENTS(holidays);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(holidays[mid].date, s);
        if (c == 0)
            return &holidays[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

cor_status_t
cor_cal_holiday(cor_jurisdiction_t j, cor_day_t d, const char **name, char **err)
{
    *name = NULL;
    if (d < cor_cal_first_day() || d > cor_cal_last_day())
        return out_of_range(d, err);
    const holiday_t *h = holiday_row(d);
    if (h && (h->nations & nation_bit(j)))
        *name = h->name;
    return COR_OK;
}

/* Which nations' bank holidays stop the clock for this request. */
static unsigned
holiday_mask(cor_request_type_t t, cor_jurisdiction_t j)
{
    if (t == COR_REQUEST_SAR)
        return nation_bit(j);
    if (j == COR_JUR_SCOTLAND)
        return SC;                 /* FOISA s.73, EISR reg 2(1) */
    return EW | SC | NI;           /* FOIA s.10(6), EIR reg 2(1): any part of the UK */
}

static bool
working(unsigned mask, cor_day_t d)
{
    if (cor_cal_weekday(d) >= 5)
        return false;
    /* Christmas Day and Good Friday are in every nation's table when they
     * fall on a weekday, so the statutes' explicit mention of them needs no
     * separate rule here. */
    const holiday_t *h = holiday_row(d);
    return !(h && (h->nations & mask));
}

cor_status_t
cor_cal_working_day(cor_request_type_t t, cor_jurisdiction_t j, cor_day_t d, bool *out,
                    char **err)
{
    if (d < cor_cal_first_day() || d > cor_cal_last_day())
        return out_of_range(d, err);
    *out = working(holiday_mask(t, j), d);
    return COR_OK;
}

/* The n-th working day after `from` (n >= 0; n == 0 gives `from`). */
static cor_status_t
nth_working_day_after(unsigned mask, cor_day_t from, int64_t n, cor_day_t *out, char **err)
{
    cor_day_t d = from;
    while (n > 0) {
        d++;
        if (d > cor_cal_last_day())
            return out_of_range(d, err);
        if (working(mask, d))
            n--;
    }
    *out = d;
    return COR_OK;
}

cor_status_t
cor_cal_due(cor_request_type_t t, cor_jurisdiction_t j, cor_day_t received, int64_t days_stopped,
            cor_day_t *due, char **err)
{
    if (received < cor_cal_first_day() || received > cor_cal_last_day())
        return out_of_range(received, err);
    if (days_stopped < 0)
        days_stopped = 0;
    unsigned mask = holiday_mask(t, j);
    if (t != COR_REQUEST_SAR)
        return nth_working_day_after(mask, received, 20 + days_stopped, due, err);

    int y, m, d;
    cor_cal_ymd(received, &y, &m, &d);
    if (++m > 12) {
        m = 1;
        y++;
    }
    int last = days_in_month(y, m);
    cor_day_t day = cor_cal_from_ymd(y, m, d <= last ? d : last) + (cor_day_t) days_stopped;
    for (;;) {
        if (day > cor_cal_last_day())
            return out_of_range(day, err);
        if (working(mask, day))
            break;
        day++;
    }
    *due = day;
    return COR_OK;
}

cor_status_t
cor_cal_working_days_between(cor_request_type_t t, cor_jurisdiction_t j, cor_day_t from,
                             cor_day_t to, int64_t *n, char **err)
{
    cor_day_t a = from < to ? from : to, b = from < to ? to : from;
    if (a < cor_cal_first_day() || a > cor_cal_last_day())
        return out_of_range(a, err);
    if (b > cor_cal_last_day())
        return out_of_range(b, err);
    unsigned mask = holiday_mask(t, j);
    int64_t k = 0;
    for (cor_day_t d = a + 1; d <= b; d++)
        k += working(mask, d);
    *n = from <= to ? k : -k;
    return COR_OK;
}

const char *
cor_stop_kind_to_string(cor_stop_kind_t k)
{
    return k == COR_STOP_FEE ? "fee" : "clarification";
}

bool
cor_stop_kind_from_string(const char *s, cor_stop_kind_t *out)
{
    if (s && strcmp(s, "clarification") == 0)
        *out = COR_STOP_CLARIFICATION;
    else if (s && strcmp(s, "fee") == 0)
        *out = COR_STOP_FEE;
    else
        return false;
    return true;
}

cor_status_t
cor_cal_resume(cor_request_type_t t, cor_jurisdiction_t j, cor_stop_kind_t k, cor_day_t stopped,
               cor_day_t resumed, cor_day_t *clock_from, int64_t *days_stopped, bool *restarted,
               int64_t *disregarded, char **err)
{
    if (restarted)
        *restarted = false;
    if (disregarded)
        *disregarded = 0;
    if (resumed < stopped) {
        if (err) {
            char a[11], b[11];
            cor_cal_format(stopped, a);
            cor_cal_format(resumed, b);
            g_free(*err);
            *err = g_strdup_printf("the clock cannot resume (%s) before it stopped (%s)", b, a);
        }
        return COR_ERR_INVALID;
    }
    if (stopped < cor_cal_first_day() || stopped > cor_cal_last_day())
        return out_of_range(stopped, err);
    if (resumed > cor_cal_last_day())
        return out_of_range(resumed, err);
    bool sar = t == COR_REQUEST_SAR;
    bool restart = sar ? k == COR_STOP_FEE : k == COR_STOP_CLARIFICATION;
    if (restart) {
        /* FOIA s.1(3)/s.10(6)(b), FOISA s.10(1)(b), EIR reg 9(4): from the
         * clarification; a SAR's month from the fee (UK GDPR Art 12A) */
        *clock_from = resumed;
        *days_stopped = 0;
        if (restarted)
            *restarted = true;
        return COR_OK;
    }
    int64_t n;
    if (sar) {
        /* Art 12A: the days from the request for clarification up to and
         * including its receipt do not count */
        n = (int64_t) resumed - stopped + 1;
    } else {
        /* FOIA s.10(2), FOISA s.10(2): working days from the day the
         * notice is given to the day the fee is received, of those that
         * count at all (after the day the count runs from) */
        cor_day_t from = stopped - 1 > *clock_from ? stopped - 1 : *clock_from;
        if (resumed <= from) {
            n = 0;
        } else {
            cor_status_t s = cor_cal_working_days_between(t, j, from, resumed, &n, err);
            if (s != COR_OK)
                return s;
        }
    }
    *days_stopped += n;
    if (disregarded)
        *disregarded = n;
    return COR_OK;
}
