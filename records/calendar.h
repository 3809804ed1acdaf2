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
 *   Stopping the clock.  Two kinds, each with its own rule:
 *
 *   clarification  the authority asked the requester for the information it
 *                  needs to identify and locate what they want.
 *                  FOI/EIR: the duty to answer does not arise until the
 *                  clarification arrives (FOIA s.1(3); the "date of
 *                  receipt" becomes the day it is received, s.10(6)(b);
 *                  FOISA s.1(3) with s.10(1)(b); EIR reg 9(4), EISR reg
 *                  9(4)): the 20 working days RESTART, counted after the
 *                  day the clarification arrives; days used before count
 *                  for nothing.
 *                  SAR: the time is PAUSED (UK GDPR Art 12A as inserted by
 *                  the Data (Use and Access) Act 2025, the ICO's "stop the
 *                  clock" guidance before it; DPA 2018 s.54(3C) words it
 *                  for Part 3): the days from the day the controller asks
 *                  up to and including the day it receives the answer do
 *                  not count, i.e. that many calendar days are added.
 *   fee            FOI/EIR: a fees notice (FOIA s.9 with s.10(2); FOISA
 *                  s.9 with s.10(2); EIR/EISR reg 8 advance payment, which
 *                  the ICO treats the same way): the working days from the
 *                  day the notice is given up to and including the day the
 *                  fee is received are disregarded — only those that
 *                  would have counted (after the day the count runs from).
 *                  SAR: the month starts again on the day the fee is
 *                  received (Art 12A: the "relevant time" is the latest of
 *                  receipt, the identity information asked for, and the
 *                  fee; ICO guidance before it).
 *
 *   So a case carries the day its count runs from (`clock_from`: received,
 *   or the day a restart happened) and `days_stopped`: the working days
 *   (FOI/EIR) or calendar days (SAR) disregarded since then.  The due date
 *   is cor_cal_due(clock_from, days_stopped).  A restart sets days_stopped
 *   back to 0.
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

/* The due date of a request whose count runs from `received` (the day of
 * receipt, or of a restart) with `days_stopped` disregarded (rules above). */
cor_status_t cor_cal_due(cor_request_type_t t, cor_jurisdiction_t j, cor_day_t received,
                         int64_t days_stopped, cor_day_t *due, char **err);

/* The kinds of stop (above).  Static names "clarification", "fee";
 * _from_string: false for another name. */
typedef enum cor_stop_kind {
    COR_STOP_CLARIFICATION = 0,
    COR_STOP_FEE,
} cor_stop_kind_t;
const char *cor_stop_kind_to_string(cor_stop_kind_t k);
bool cor_stop_kind_from_string(const char *s, cor_stop_kind_t *out);

/* Applies a stop of kind `k` on `stopped`, ended on `resumed` (stopped <=
 * resumed, else COR_ERR_INVALID naming both days), to a clock counting
 * from *clock_from with *days_stopped disregarded (rules above): both are
 * updated; *restarted (may be NULL) says whether the count restarted and
 * *disregarded (may be NULL) how many days this stop added. */
cor_status_t cor_cal_resume(cor_request_type_t t, cor_jurisdiction_t j, cor_stop_kind_t k,
                            cor_day_t stopped, cor_day_t resumed, cor_day_t *clock_from,
                            int64_t *days_stopped, bool *restarted, int64_t *disregarded,
                            char **err);

/* Working days in (from, to] for the request's rules (negative when to <
 * from: minus the working days in (to, from]). */
cor_status_t cor_cal_working_days_between(cor_request_type_t t, cor_jurisdiction_t j,
                                          cor_day_t from, cor_day_t to, int64_t *n,
                                          char **err);

#endif
