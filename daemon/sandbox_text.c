/* sandbox_text.c — async-signal-safe message text (see sandbox_text.h). */
#include "sandbox_text.h"

#include <stdarg.h>
#include <string.h>

char *sandbox_text_cat(char *buf, size_t size, ...) {
        if (size == 0)
                return buf;
        size_t len = 0;
        va_list ap;
        va_start(ap, size);
        for (const char *s; (s = va_arg(ap, const char *));) {
                size_t n = strlen(s);
                if (n > size - 1 - len) {
                        n = size - 1 - len;
                        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
                                n--;   /* s[n] continues a character: cut before its start */
                        memcpy(buf + len, s, n);
                        len += n;
                        break;
                }
                memcpy(buf + len, s, n);
                len += n;
        }
        va_end(ap);
        buf[len] = 0;
        return buf;
}

const char *sandbox_text_errno(int errnum) {
        const char *d = strerrordesc_np(errnum);
        return d ? d : "Unknown error";
}

char *sandbox_text_u64(char *buf, unsigned long long v) {
        char tmp[21];
        size_t n = 0;
        do
                tmp[n++] = (char)('0' + v % 10);
        while ((v /= 10) && n < sizeof tmp);
        for (size_t i = 0; i < n; i++)
                buf[i] = tmp[n - 1 - i];
        buf[n] = 0;
        return buf;
}

char *sandbox_text_i64(char *buf, long long v) {
        if (v >= 0)
                return sandbox_text_u64(buf, (unsigned long long)v);
        buf[0] = '-';
        sandbox_text_u64(buf + 1, 0ULL - (unsigned long long)v);
        return buf;
}
