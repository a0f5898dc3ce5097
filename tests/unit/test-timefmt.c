/* test-timefmt.c — RFC 3339 parsing/formatting and durations. */
#include <errno.h>
#include <string.h>

#include "tap.h"
#include "timefmt.h"
#include "validate.h"

static void parses(const char *s, int64_t want) {
        int64_t t = -1;
        CHECK(csc_time_parse(s, &t) == 0 && t == want, "%s -> %lld, want %lld", s, (long long)t, (long long)want);
}

int main(void) {
        parses("1970-01-01T00:00:00Z", 0);
        parses("2026-01-02T03:04:05Z", 1767323045LL * 1000000);
        parses("2026-01-02t03:04:05z", 1767323045LL * 1000000);
        parses("2026-01-02T05:04:05+02:00", 1767323045LL * 1000000);
        parses("2026-01-02T03:04:05.5Z", 1767323045LL * 1000000 + 500000);
        parses("2024-02-29T00:00:00Z", 1709164800LL * 1000000);
        const char *bad[] = { "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-32T00:00:00Z",
                              "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z", "2026-01-01 00:00:00Z",
                              "2026-01-01T00:00:00", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00+2:00",
                              "2026-01-01T00:00:00Zjunk", "", "1900-02-29T00:00:00Z" };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                int64_t t;
                CHECK(csc_time_parse(bad[i], &t) == -EINVAL, "'%s' must be refused", bad[i]);
                CHECK(!csc_is_rfc3339(bad[i]), "'%s' not rfc3339", bad[i]);
        }
        char buf[CSC_TIME_BUF];
        csc_time_format(1767323045LL * 1000000 + 999999, buf);
        CHECK(strcmp(buf, "2026-01-02T03:04:05Z") == 0, "format %s", buf);
        int64_t now = csc_time_now(buf), back;
        CHECK(csc_time_parse(buf, &back) == 0 && now - back < 1000000 && now >= back, "now round-trips");
        int64_t s;
        CHECK(csc_duration_parse("90", &s) == 0 && s == 90, "90");
        CHECK(csc_duration_parse("15m", &s) == 0 && s == 900, "15m");
        CHECK(csc_duration_parse("2h", &s) == 0 && s == 7200, "2h");
        CHECK(csc_duration_parse("1d", &s) == 0 && s == 86400, "1d");
        CHECK(csc_duration_parse("0", &s) == -EINVAL && csc_duration_parse("1w", &s) == -EINVAL &&
                      csc_duration_parse("-1", &s) == -EINVAL && csc_duration_parse("99999999999d", &s) == -EINVAL,
              "bad durations");
        return tap_done("timefmt");
}
