/* tap.h — minimal test helpers shared by unit tests: CHECK() records a
 * failure with its line and keeps going; tap_done() prints the summary and
 * returns the exit code (0 all passed, 1 any failed). */
#pragma once
#include <stdio.h>

static int tap_failed, tap_passed;

#define CHECK(cond, ...)                                                          \
        do {                                                                      \
                if (cond)                                                         \
                        tap_passed++;                                             \
                else {                                                            \
                        tap_failed++;                                             \
                        printf("not ok %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
                        printf(__VA_ARGS__);                                      \
                        printf("\n");                                             \
                }                                                                 \
        } while (0)

static inline int tap_done(const char *name) {
        printf("%s: %d passed, %d failed\n", name, tap_passed, tap_failed);
        return tap_failed ? 1 : 0;
}
