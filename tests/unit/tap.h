/* tap.h — the unit tests' output in TAP (the Test Anything Protocol, version
 * 13): CHECK() prints "ok N - file:line: condition" or, on failure, "not ok
 * N - ..." with the explanation, and keeps going; tap_done() prints the plan
 * "1..N" (a trailing plan is valid TAP), then the suite's summary line
 * ("name: N passed, N failed", which tests/run-all.sh adds up), and returns
 * the exit code (0 all passed, 1 any failed). */
#pragma once
#include <stdio.h>

static int tap_failed, tap_passed;

#define CHECK(cond, ...)                                                                              \
        do {                                                                                          \
                int tap_n_ = tap_passed + tap_failed + 1;                                             \
                if (cond) {                                                                           \
                        tap_passed++;                                                                 \
                        printf("ok %d - %s:%d: %s\n", tap_n_, __FILE__, __LINE__, #cond);            \
                } else {                                                                              \
                        tap_failed++;                                                                 \
                        printf("not ok %d - %s:%d: %s: ", tap_n_, __FILE__, __LINE__, #cond);        \
                        printf(__VA_ARGS__);                                                          \
                        printf("\n");                                                                 \
                }                                                                                     \
        } while (0)

static inline int tap_done(const char *name) {
        printf("1..%d\n", tap_passed + tap_failed);
        printf("%s: %d passed, %d failed\n", name, tap_passed, tap_failed);
        return tap_failed ? 1 : 0;
}
