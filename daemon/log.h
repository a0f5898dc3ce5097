/* log.h — daemon logging to stderr with sd-daemon priority prefixes, so
 * journald files each line at its level when cscd runs under systemd.
 * Logs once where an error is handled; returns the error for `return log_…`. */
#pragma once
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#define log_at(prefix, ...) (fprintf(stderr, prefix "cscd: " __VA_ARGS__), fputc('\n', stderr))
#define log_info(...)  log_at(SD_INFO, __VA_ARGS__)
#define log_notice(...) log_at(SD_NOTICE, __VA_ARGS__)
#define log_warning(...) log_at(SD_WARNING, __VA_ARGS__)
#define log_error(...) log_at(SD_ERR, __VA_ARGS__)
/* Logs "<msg>: <strerror(-r)>" and evaluates to r (negative errno). */
#define log_error_errno(r, fmt, ...)                                                     \
        ({                                                                               \
                int _r = (r);                                                            \
                fprintf(stderr, SD_ERR "cscd: " fmt ": %s\n", ##__VA_ARGS__, strerror(-_r)); \
                _r;                                                                      \
        })

/* Text from a less trusted process goes into our log as one line: control
 * characters (a newline could forge a line with any priority) become '?'. */
static inline void log_strip_controls(char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        *s = '?';
}
