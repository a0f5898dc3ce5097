/* uuid.c — version-4 UUIDs. */
#include "uuid.h"

#include <sodium.h>
#include <stddef.h>

void csc_uuid4(char out[CSC_UUID_BUF]) {
        unsigned char b[16];
        randombytes_buf(b, sizeof b);
        b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
        b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
        char hex[33];
        sodium_bin2hex(hex, sizeof hex, b, sizeof b);
        size_t o = 0;
        for (size_t i = 0; i < 32; i++) {
                if (i == 8 || i == 12 || i == 16 || i == 20)
                        out[o++] = '-';
                out[o++] = hex[i];
        }
        out[o] = 0;
}
