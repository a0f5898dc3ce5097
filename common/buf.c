/* buf.c — growable byte buffer and bounded whole-file reads. */
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int buf_reserve(csc_buf *b, size_t extra) {
        if (extra > SIZE_MAX / 2 - b->len)
                return -ENOMEM;
        size_t need = b->len + extra + 1;
        if (need <= b->cap)
                return 0;
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need)
                cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p)
                return -ENOMEM;
        b->data = p;
        b->cap = cap;
        return 0;
}

int csc_buf_append(csc_buf *b, const void *p, size_t n) {
        int r = buf_reserve(b, n);
        if (r < 0)
                return r;
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = 0;
        return 0;
}

int csc_buf_putc(csc_buf *b, char c) {
        return csc_buf_append(b, &c, 1);
}

int csc_buf_puts(csc_buf *b, const char *s) {
        return csc_buf_append(b, s, strlen(s));
}

int csc_buf_printf(csc_buf *b, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        int r = buf_reserve(b, (size_t) n);
        if (r < 0)
                return r;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t) n;
        return 0;
}

void csc_buf_reset(csc_buf *b) {
        b->len = 0;
        if (b->data)
                b->data[0] = 0;
}

void csc_buf_free(csc_buf *b) {
        free(b->data);
        *b = (csc_buf) CSC_BUF_INIT;
}

int csc_read_file(const char *path, size_t max, char **ret_data, size_t *ret_len) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        if (S_ISDIR(st.st_mode)) {
                close(fd);
                return -EISDIR;
        }
        if (S_ISREG(st.st_mode) && (uint64_t) st.st_size > max) {
                close(fd);
                return -EFBIG;
        }
        /* Read up to max+1 bytes so that growing files and pipes are also bounded. */
        csc_buf b = CSC_BUF_INIT;
        int r = 0;
        for (;;) {
                char chunk[65536];
                ssize_t n = read(fd, chunk, sizeof chunk);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                if (n == 0)
                        break;
                if (b.len + (size_t) n > max) {
                        r = -EFBIG;
                        break;
                }
                r = csc_buf_append(&b, chunk, (size_t) n);
                if (r < 0)
                        break;
        }
        close(fd);
        if (r < 0) {
                csc_buf_free(&b);
                return r;
        }
        if (!b.data && csc_buf_append(&b, "", 0) < 0)
                return -ENOMEM;
        *ret_data = b.data;
        *ret_len = b.len;
        return 0;
}
