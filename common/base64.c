/* base64.c — thin wrappers over libsodium's constant-time base64 codec. */
#include "base64.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>

int csc_base64_encode(const void *data, size_t len, char **ret) {
        size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
        char *s = malloc(n);
        if (!s)
                return -ENOMEM;
        sodium_bin2base64(s, n, data, len, sodium_base64_VARIANT_ORIGINAL);
        *ret = s;
        return 0;
}

int csc_base64_decode(const char *s, size_t len, unsigned char **ret, size_t *ret_len) {
        if (len % 4 != 0)
                return -EINVAL;
        size_t cap = len / 4 * 3 + 1;
        unsigned char *out = malloc(cap);
        if (!out)
                return -ENOMEM;
        size_t n = 0;
        const char *end = NULL;
        if (sodium_base642bin(out, cap, s, len, NULL, &n, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
            end != s + len) {
                free(out);
                return -EINVAL;
        }
        *ret = out;
        *ret_len = n;
        return 0;
}
