/* redact.h — replaces exact secret values with "***" in a byte stream that
 * arrives in chunks (a value may straddle two reads). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

typedef struct redactor redactor;

/* values[i] of lens[i] bytes (empty values are ignored); copied. */
int redactor_new(const char *const *values, const size_t *lens, size_t n, redactor **ret);
redactor *redactor_free(redactor *r);
/* Feeds a chunk of stream s (0 or 1) and appends to out what can be emitted
 * now; with eof the held-back tail is flushed too. 0 or -ENOMEM. */
int redactor_feed(redactor *r, int s, const char *data, size_t len, bool eof, csc_buf *out);
