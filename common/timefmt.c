/* timefmt.c — RFC 3339 parsing and UTC formatting without locale or TZ state. */
#include "timefmt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool leap(int64_t y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int mdays(int64_t y, int m) {
        static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d) {
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

void csc_time_format(int64_t usec, char buf[CSC_TIME_BUF]) {
        time_t t = (time_t)(usec >= 0 ? usec / 1000000 : (usec - 999999) / 1000000);
        struct tm tm;
        if (!gmtime_r(&t, &tm)) {
                snprintf(buf, CSC_TIME_BUF, "1970-01-01T00:00:00Z");
                return;
        }
        snprintf(buf, CSC_TIME_BUF, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned short)((tm.tm_year + 1900) % 10000),
                 (unsigned char)(tm.tm_mon + 1), (unsigned char)tm.tm_mday, (unsigned char)tm.tm_hour,
                 (unsigned char)tm.tm_min, (unsigned char)tm.tm_sec);
}

int64_t csc_time_now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

uint64_t csc_time_mono_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

int64_t csc_time_now(char buf[CSC_TIME_BUF]) {
        int64_t now = csc_time_now_usec();
        csc_time_format(now, buf);
        return now;
}

int csc_time_format_in(int64_t seconds, char buf[CSC_TIME_BUF]) {
        csc_time_format(csc_time_now_usec() + seconds * 1000000, buf);
        return 0;
}

static bool digits(const char *s, int n, int *ret) {
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return true;
}

int csc_time_parse(const char *s, int64_t *ret_usec) {
        int y, mo, d, h, mi, se;
        if (!s || strlen(s) < 20)
                return -EINVAL;
        if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
            !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
            s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
                return -EINVAL;
        if (mo < 1 || mo > 12 || d < 1 || d > mdays(y, mo) || h > 23 || mi > 59 || se > 60)
                return -EINVAL;
        const char *p = s + 19;
        int64_t frac = 0;
        if (*p == '.') {
                p++;
                int n = 0;
                int64_t scale = 100000;
                while (*p >= '0' && *p <= '9') {
                        if (scale > 0) {
                                frac += (*p - '0') * scale;
                                scale /= 10;
                        }
                        p++;
                        n++;
                }
                if (n == 0)
                        return -EINVAL;
        }
        int64_t off = 0;
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                int oh, om;
                if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
                        return -EINVAL;
                off = (int64_t)(oh * 60 + om) * 60 * (*p == '+' ? 1 : -1);
                p += 6;
        } else {
                return -EINVAL;
        }
        if (*p)
                return -EINVAL;
        int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
        *ret_usec = t * 1000000 + frac;
        return 0;
}

int csc_duration_parse(const char *s, int64_t *ret_sec) {
        if (!s || !*s || *s < '0' || *s > '9')
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || v == 0)
                return -EINVAL;
        int64_t mul = 1;
        if (*end == 's')
                end++;
        else if (*end == 'm')
                mul = 60, end++;
        else if (*end == 'h')
                mul = 3600, end++;
        else if (*end == 'd')
                mul = 86400, end++;
        if (*end || v > 10ULL * 366 * 86400 / (unsigned long long)mul)
                return -EINVAL;
        *ret_sec = (int64_t)v * mul;
        return 0;
}
