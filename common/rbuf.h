/* rbuf.h — a bounded reader over bytes someone else wrote (sshbuf's getters
 * are the model): every getter checks what is left first and fails with
 * -EBADMSG instead of reading past the end. Integers are in host byte order:
 * both ends of every channel that uses this run on the same machine. */
#pragma once
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct csc_rbuf {
        const unsigned char *p;
        size_t len, off;
} csc_rbuf;

static inline csc_rbuf csc_rbuf_init(const void *p, size_t len) {
        return (csc_rbuf) { .p = p, .len = len, .off = 0 };
}

static inline size_t csc_rbuf_left(const csc_rbuf *b) {
        return b->len - b->off;
}

static inline int csc_rbuf_get(csc_rbuf *b, void *out, size_t n) {
        if (csc_rbuf_left(b) < n)
                return -EBADMSG;
        memcpy(out, b->p + b->off, n);
        b->off += n;
        return 0;
}

static inline int csc_rbuf_get_u8(csc_rbuf *b, uint8_t *ret) {
        return csc_rbuf_get(b, ret, sizeof *ret);
}

static inline int csc_rbuf_get_u32(csc_rbuf *b, uint32_t *ret) {
        return csc_rbuf_get(b, ret, sizeof *ret);
}

/* A u32 length, then that many bytes; *ret points into the buffer. */
static inline int csc_rbuf_get_bytes(csc_rbuf *b, const char **ret, size_t *ret_len, size_t max) {
        uint32_t n;
        int r = csc_rbuf_get_u32(b, &n);
        if (r < 0)
                return r;
        if (n > max || csc_rbuf_left(b) < n)
                return -EBADMSG;
        *ret = (const char *) b->p + b->off;
        *ret_len = n;
        b->off += n;
        return 0;
}
