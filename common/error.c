/* error.c — csc_error helpers (see error.h for the rule). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int csc_error_set(csc_error *err, int r, const char *path, const char *fmt, ...) {
        if (!err)
                return r;
        snprintf(err->path, sizeof err->path, "%s", path ? path : "");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        return r;
}

const char *csc_error_str(const csc_error *err, char *buf, size_t size) {
        if (!err)
                snprintf(buf, size, "unknown error");
        else if (err->path[0])
                snprintf(buf, size, "%s: %s", err->path, err->message);
        else
                snprintf(buf, size, "%s", err->message);
        return buf;
}

void csc_error_clear(csc_error *err) {
        if (err) {
                err->path[0] = 0;
                err->message[0] = 0;
        }
}
