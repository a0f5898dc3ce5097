/* fuzz_redact.c — secret redaction over arbitrary streams and read
 * boundaries must equal redacting the whole stream at once. The first bytes
 * choose the secrets and the chunk sizes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 4)
                return 0;
        /* secrets: up to 3, lengths from data[0..2] % 6, bytes taken from the input's end */
        const char *vals[3];
        size_t lens[3], n = 0, tail = size;
        for (int i = 0; i < 3; i++) {
                size_t l = data[i] % 6;
                if (l > tail - 4)
                        l = 0;
                tail -= l;
                vals[n] = (const char *)data + tail;
                lens[n++] = l;
        }
        const char *in = (const char *)data + 4;
        size_t len = tail - 4;
        unsigned step = data[3] % 9 + 1;
        /* reference */
        csc_buf want = CSC_BUF_INIT, got = CSC_BUF_INIT;
        for (size_t i = 0; i < len;) {
                size_t hit = 0;
                for (size_t k = 0; k < n; k++)
                        if (lens[k] && lens[k] <= len - i && lens[k] > hit && memcmp(in + i, vals[k], lens[k]) == 0)
                                hit = lens[k];
                csc_buf_append(&want, hit ? "***" : in + i, hit ? 3 : 1);
                i += hit ? hit : 1;
        }
        redactor *r = NULL;
        if (redactor_new(vals, lens, n, &r) < 0)
                abort();
        for (size_t off = 0; off < len; off += step)
                redactor_feed(r, 0, in + off, len - off < step ? len - off : step, false, &got);
        redactor_feed(r, 0, "", 0, true, &got);
        redactor_free(r);
        if (want.len != got.len || (want.len && memcmp(want.data, got.data, want.len) != 0))
                abort();
        csc_buf_free(&want);
        csc_buf_free(&got);
        return 0;
}
