/* records/calendar.h — UK bank holidays 2020–2030 and the statutory due
 * dates of FOI, EIR and subject-access requests.
 *
 * Dates are day numbers (cor_day_t: days since 1970-01-01, proleptic
 * Gregorian), written 'YYYY-MM-DD' everywhere else.  The tables cover
 * 2020-01-01 to 2030-12-31 for each nation (England & Wales, Scotland,
 * Northern Ireland) with substitute days and the one-off days; every
 * function that would need a day outside them fails with COR_ERR_INVALID
 * and says so ("outside the bank-holiday tables (2020–2030)"), never a
 * guess.
 *
 * The rules (records/calendar.c has the statutory references):
 *
 *   FOI under FOIA (england-wales, northern-ireland) and EIR there: the
 *     20th working day after the day of receipt; a working day is not a
 *     Saturday, Sunday, Christmas Day, Good Friday or a bank holiday in ANY
 *     part of the UK (FOIA s.10(6); EIR reg 2(1) uses the same meaning).
 *   FOI under FOISA (scotland) and EIR under the EISR: the 20th working day
 *     after receipt; a working day is not a Saturday, Sunday, Christmas Day
 *     or a Scottish bank holiday (FOISA s.10(1), s.73; EISR reg 2(1)).
 *   SAR (UK GDPR Art 12(3), ICO guidance): one calendar month starting the
 *     day after receipt: the same date next month, or that month's last day
 *     when it has no such date; a due day that is a weekend or a bank
 *     holiday in the case's jurisdiction moves to the next working day.
 *
 *   Stopping the clock (clarification, fees): the days in (stopped, resumed]
 *   do not count.  FOI/EIR: the working days used before the stop carry
 *   over, i.e. the due date is the (20 + k)th working day after receipt,
 *   where k is the number of working days in the stopped periods.  SAR: the
 *   stopped calendar days are added to the month before the working-day
 *   adjustment.  `days_stopped` below is that k (FOI/EIR) or the calendar
 *   days (SAR), summed over every stop.
 */
#ifndef COR_RECORDS_CALENDAR_H
#define COR_RECORDS_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"

typedef int32_t cor_day_t;

typedef enum cor_jurisdiction {
    COR_JUR_ENGLAND_WALES = 0,
    COR_JUR_SCOTLAND,
    COR_JUR_NORTHERN_IRELAND,
} cor_jurisdiction_t;

typedef enum cor_request_type {
    COR_REQUEST_FOI = 0,
    COR_REQUEST_EIR,
    COR_REQUEST_SAR,
} cor_request_type_t;

/* Names as on the command line and in the store ("england-wales", "foi").
 * Static strings (transfer none); _from_string: false for an unknown name. */
const char *cor_jurisdiction_to_string(cor_jurisdiction_t j);
bool cor_jurisdiction_from_string(const char *s, cor_jurisdiction_t *out);
const char *cor_request_type_to_string(cor_request_type_t t);
bool cor_request_type_from_string(const char *s, cor_request_type_t *out);

/* The first and last day the tables cover (2020-01-01, 2030-12-31). */
cor_day_t cor_cal_first_day(void);
cor_day_t cor_cal_last_day(void);

/* Strict 'YYYY-MM-DD' (a real calendar date, any year 1970–9999).
 * COR_ERR_INVALID with *err quoting the value. */
cor_status_t cor_cal_parse(const char *s, cor_day_t *out, char **err);
/* 'YYYY-MM-DD' into out[11]. */
void cor_cal_format(cor_day_t d, char out[11]);
/* 0 = Monday ... 6 = Sunday. */
int cor_cal_weekday(cor_day_t d);
/* Year, month (1–12) and day of month. */
void cor_cal_ymd(cor_day_t d, int *y, int *m, int *dd);
cor_day_t cor_cal_from_ymd(int y, int m, int d);
/* Today in the local time zone; $CORRIDOR_NOW, when set (seconds since the
 * epoch or ISO 8601 with a zone, as for digests; for tests), is "now". */
cor_day_t cor_cal_today(void);

/* The name of the bank holiday on `d` in `j` (static), or NULL.
 * COR_ERR_INVALID outside the tables. */
cor_status_t cor_cal_holiday(cor_jurisdiction_t j, cor_day_t d, const char **name, char **err);

/* Whether `d` is a working day for a request of type `t` in `j` (the rules
 * above; for a SAR: not a weekend nor a bank holiday in `j`). */
cor_status_t cor_cal_working_day(cor_request_type_t t, cor_jurisdiction_t j, cor_day_t d,
                                 bool *working, char **err);

/* The due date of a request received on `received` (rules above). */
cor_status_t cor_cal_due(cor_request_type_t t, cor_jurisdiction_t j, cor_day_t received,
                         int64_t days_stopped, cor_day_t *due, char **err);

/* What a stop from `stopped` to `resumed` (stopped <= resumed) adds to
 * days_stopped: working days in (stopped, resumed] for FOI/EIR, calendar
 * days for a SAR. */
cor_status_t cor_cal_stop_days(cor_request_type_t t, cor_jurisdiction_t j, cor_day_t stopped,
                               cor_day_t resumed, int64_t *days, char **err);

/* Working days in (from, to] for the request's rules (negative when to <
 * from: minus the working days in (to, from]). */
cor_status_t cor_cal_working_days_between(cor_request_type_t t, cor_jurisdiction_t j,
                                          cor_day_t from, cor_day_t to, int64_t *n,
                                          char **err);

#endif
