/* error.h — the one error rule of libcsc.
 *
 * Functions that can fail return a negative errno (-EINVAL for bad input,
 * -ENOMEM, -EIO, -ENOENT, -EFBIG for a size limit, ...). Documented outcomes
 * that are not failures (deny, needs_approval, ...) are positive enum values.
 * When a function rejects input it also fills a caller-provided csc_error
 * (if not NULL) with the JSON path of the first problem and a message; library
 * code never logs. csc_error_str() renders "path: message" (or just the
 * message when there is no path). */
#pragma once
#include <stddef.h>

#define CSC_ERROR_PATH_MAX 256
#define CSC_ERROR_MSG_MAX  768

typedef struct csc_error {
        char path[CSC_ERROR_PATH_MAX];   /* e.g. "commands[2].cwd", "" for the document */
        char message[CSC_ERROR_MSG_MAX]; /* e.g. "must be an absolute path" */
} csc_error;

/* Sets err (if not NULL) and returns r, so callers can `return csc_error_set(...)`. */
int csc_error_set(csc_error *err, int r, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* "path: message" or "message"; buf of at least CSC_ERROR_PATH_MAX+CSC_ERROR_MSG_MAX+2. */
const char *csc_error_str(const csc_error *err, char *buf, size_t size);
void csc_error_clear(csc_error *err);
