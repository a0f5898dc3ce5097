/* base64.h — standard base64 with padding (RFC 4648 §4), via libsodium. */
#pragma once
#include <stddef.h>

/* *ret is a malloc'd NUL-terminated string. 0 or -ENOMEM. */
int csc_base64_encode(const void *data, size_t len, char **ret);
/* Strict: padding required, no whitespace, no URL-safe alphabet.
 * *ret is malloc'd (may be NULL when *ret_len is 0). 0, -EINVAL or -ENOMEM. */
int csc_base64_decode(const char *s, size_t len, unsigned char **ret, size_t *ret_len);
