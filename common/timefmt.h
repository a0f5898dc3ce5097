/* timefmt.h — RFC 3339 UTC timestamps ("2026-01-02T03:04:05Z") and durations. */
#pragma once
#include <stdint.h>

#define CSC_TIME_BUF 32

/* usec since the epoch → "YYYY-MM-DDTHH:MM:SSZ" (seconds precision, UTC). */
void csc_time_format(int64_t usec, char buf[CSC_TIME_BUF]);
/* Wall clock now, formatted. Returns the time in usec. */
int64_t csc_time_now(char buf[CSC_TIME_BUF]);
int64_t csc_time_now_usec(void);
/* CLOCK_MONOTONIC in usec: uptimes and systemd's MONOTONIC_USEC. */
uint64_t csc_time_mono_usec(void);
/* now + seconds, formatted. Always 0 (int for call-site symmetry). */
int csc_time_format_in(int64_t seconds, char buf[CSC_TIME_BUF]);
/* RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)", 'T'/'Z' any case.
 * Validates the calendar (leap years, month lengths; second 60 allowed as in
 * RFC 3339). 0 or -EINVAL. */
int csc_time_parse(const char *s, int64_t *ret_usec);
/* "90", "90s", "15m", "2h", "1d" → seconds (1 … 10 years). 0 or -EINVAL. */
int csc_duration_parse(const char *s, int64_t *ret_sec);
