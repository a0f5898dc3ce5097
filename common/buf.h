/* buf.h — a growable byte buffer used for serialization. Always kept
 * NUL-terminated (data[len] == 0) when data != NULL. */
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef struct csc_buf {
        char *data;
        size_t len;
        size_t cap;
} csc_buf;

#define CSC_BUF_INIT { NULL, 0, 0 }

int csc_buf_append(csc_buf *b, const void *p, size_t n);   /* 0 or -ENOMEM */
int csc_buf_putc(csc_buf *b, char c);
int csc_buf_puts(csc_buf *b, const char *s);
int csc_buf_printf(csc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void csc_buf_reset(csc_buf *b);                             /* len = 0, keeps memory */
void csc_buf_free(csc_buf *b);                              /* frees, back to CSC_BUF_INIT */
/* Reads a whole file (at most max bytes) into a NUL-terminated malloc'd buffer.
 * -ENOENT/-EACCES/... from open, -EFBIG when larger than max, -EISDIR. */
int csc_read_file(const char *path, size_t max, char **ret_data, size_t *ret_len);
