/* test-redact.c — streaming secret redaction equals redacting the whole
 * stream at once, whatever the read boundaries (property test with fixed
 * seeds), including overlapping and prefix-sharing secrets. */
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "tap.h"

/* The reference: at each position the longest secret that starts there. */
static void reference(const char *in, size_t n, const char *const *v, const size_t *l, size_t k, csc_buf *out) {
        size_t i = 0;
        while (i < n) {
                size_t hit = 0;
                for (size_t j = 0; j < k; j++)
                        if (l[j] && l[j] <= n - i && l[j] > hit && memcmp(in + i, v[j], l[j]) == 0)
                                hit = l[j];
                if (hit) {
                        csc_buf_append(out, "***", 3);
                        i += hit;
                } else {
                        csc_buf_append(out, in + i, 1);
                        i++;
                }
        }
}

static unsigned rnd(unsigned *s) {
        *s = *s * 1103515245u + 12345u;
        return (*s >> 16) & 0x7fff;
}

int main(void) {
        static const char *const secrets[] = { "hunter2", "hunt", "s3cr3t-Value-42!", "aaa", "" };
        static const size_t lens[] = { 7, 4, 16, 3, 0 };
        const size_t k = 5;
        static const char *const pieces[] = { "hunter2", "hunt", "hun", "s3cr3t-", "Value-42!", "a", "aa", "x", "\n", "h" };
        unsigned seed = 20261123;
        int mismatches = 0;
        for (int round = 0; round < 3000; round++) {
                char in[600];
                size_t n = 0;
                while (n < 500) {
                        const char *p = pieces[rnd(&seed) % 10];
                        size_t pl = strlen(p);
                        memcpy(in + n, p, pl);
                        n += pl;
                }
                csc_buf want = CSC_BUF_INIT, got = CSC_BUF_INIT;
                reference(in, n, secrets, lens, k, &want);
                redactor *r = NULL;
                if (redactor_new(secrets, lens, k, &r) < 0)
                        return 1;
                size_t off = 0;
                while (off < n) {
                        size_t chunk = rnd(&seed) % 20 + 1;
                        if (chunk > n - off)
                                chunk = n - off;
                        redactor_feed(r, round % 2, in + off, chunk, false, &got);
                        off += chunk;
                }
                redactor_feed(r, round % 2, "", 0, true, &got);
                redactor_free(r);
                if (want.len != got.len || memcmp(want.data, got.data, want.len) != 0)
                        mismatches++;
                csc_buf_free(&want);
                csc_buf_free(&got);
        }
        CHECK(mismatches == 0, "%d of 3000 random streams differ from whole-stream redaction", mismatches);

        /* Never emits a secret, even one split byte by byte. */
        redactor *r = NULL;
        redactor_new(secrets, lens, k, &r);
        csc_buf out = CSC_BUF_INIT;
        const char *s = "pre s3cr3t-Value-42! post";
        for (size_t i = 0; s[i]; i++)
                redactor_feed(r, 0, s + i, 1, false, &out);
        redactor_feed(r, 0, "", 0, true, &out);
        CHECK(out.data && strcmp(out.data, "pre *** post") == 0, "byte by byte: '%s'", out.data ? out.data : "");
        csc_buf_free(&out);
        /* Streams are independent: a prefix on stdout never joins stderr. */
        redactor_feed(r, 0, "hunt", 4, false, &out);
        csc_buf err = CSC_BUF_INIT;
        redactor_feed(r, 1, "er2", 3, true, &err);
        redactor_feed(r, 0, "", 0, true, &out);
        CHECK(out.data && strcmp(out.data, "***") == 0 && err.data && strcmp(err.data, "er2") == 0,
              "streams independent: '%s' '%s'", out.data ? out.data : "", err.data ? err.data : "");
        csc_buf_free(&out);
        csc_buf_free(&err);
        redactor_free(r);
        /* No secrets at all: bytes pass through unchanged and immediately. */
        redactor_new(NULL, NULL, 0, &r);
        redactor_feed(r, 0, "abc", 3, false, &out);
        CHECK(out.len == 3 && memcmp(out.data, "abc", 3) == 0, "passthrough");
        csc_buf_free(&out);
        redactor_free(r);
        return tap_done("redact");
}
