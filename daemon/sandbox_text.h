/* sandbox_text.h — message text in the executor, where only async-signal-safe
 * calls are allowed after the clone: no printf family, no strerror (its
 * locale), no allocation. */
#pragma once
#include <stddef.h>

/* Concatenates the strings up to the NULL into buf, cut to fit (always
 * NUL-terminated when size > 0, never in the middle of a UTF-8 character).
 * Returns buf. */
char *sandbox_text_cat(char *buf, size_t size, ...);
#define sandbox_text(buf, size, ...) sandbox_text_cat(buf, size, __VA_ARGS__, (const char *)NULL)

/* The description of an errno value ("No such file or directory"); a fixed
 * text for one glibc does not know. */
const char *sandbox_text_errno(int errnum);

/* An unsigned decimal in buf (at least 21 bytes). Returns buf. */
char *sandbox_text_u64(char *buf, unsigned long long v);
/* A signed decimal in buf (at least 21 bytes). Returns buf. */
char *sandbox_text_i64(char *buf, long long v);
