/* redact.c — streaming exact-match redaction. Holds back at most the longest
 * secret minus one byte per stream, so nothing is delayed more than needed. */
#include "redact.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct redactor {
        char **values;
        size_t *lens;
        size_t n, maxlen;
        csc_buf carry[2];
};

int redactor_new(const char *const *values, const size_t *lens, size_t n, redactor **ret) {
        redactor *r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->values = calloc(n + 1, sizeof *r->values);
        r->lens = calloc(n + 1, sizeof *r->lens);
        if (!r->values || !r->lens) {
                redactor_free(r);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                if (lens[i] == 0)
                        continue;
                r->values[r->n] = malloc(lens[i]);
                if (!r->values[r->n]) {
                        redactor_free(r);
                        return -ENOMEM;
                }
                memcpy(r->values[r->n], values[i], lens[i]);
                r->lens[r->n] = lens[i];
                if (lens[i] > r->maxlen)
                        r->maxlen = lens[i];
                r->n++;
        }
        *ret = r;
        return 0;
}

redactor *redactor_free(redactor *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n; i++) {
                sodium_memzero(r->values[i], r->lens[i]);
                free(r->values[i]);
        }
        for (int s = 0; s < 2; s++) {
                if (r->carry[s].data)
                        sodium_memzero(r->carry[s].data, r->carry[s].cap);
                csc_buf_free(&r->carry[s]);
        }
        free(r->values);
        free(r->lens);
        free(r);
        return NULL;
}

int redactor_feed(redactor *r, int s, const char *data, size_t len, bool eof, csc_buf *out) {
        csc_buf *c = &r->carry[s];
        if (csc_buf_append(c, data, len) < 0)
                return -ENOMEM;
        /* Positions below limit have room for the longest secret; the tail
         * stays in carry until more bytes (or the end) arrive. With no
         * (non-empty) secrets everything passes at once. */
        size_t n = c->len, i = 0, limit;
        if (eof || r->maxlen == 0)
                limit = n;
        else
                limit = n >= r->maxlen ? n - (r->maxlen - 1) : 0;
        int rc = 0;
        while (i < limit && rc == 0) {
                size_t hit = 0;
                for (size_t k = 0; k < r->n; k++)
                        if (r->lens[k] <= n - i && r->lens[k] > hit && memcmp(c->data + i, r->values[k], r->lens[k]) == 0)
                                hit = r->lens[k];
                if (hit) {
                        rc = csc_buf_append(out, "***", 3);
                        i += hit;
                } else {
                        /* copy the run of bytes up to the next possible match start */
                        size_t j = i + 1;
                        while (j < limit) {
                                bool maybe = false;
                                for (size_t k = 0; k < r->n && !maybe; k++)
                                        maybe = c->data[j] == r->values[k][0];
                                if (maybe)
                                        break;
                                j++;
                        }
                        rc = csc_buf_append(out, c->data + i, j - i);
                        i = j;
                }
        }
        if (rc < 0)
                return rc;
        /* keep the unprocessed tail (it may begin a secret) */
        memmove(c->data, c->data + i, n - i);
        sodium_memzero(c->data + (n - i), i);
        c->len = n - i;
        if (c->data)
                c->data[c->len] = 0;
        return 0;
}
