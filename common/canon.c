/* canon.c — canonical JSON (spec §4), pretty printing and SHA-256 helpers.
 *
 * The canonical form must be byte-identical to the reference's Python
 * json.dumps(sort_keys=True, separators=(",",":"), ensure_ascii=False), so
 * floats are printed like Python's float repr (shortest round-trip digits,
 * exponent form below 1e-4 and from 1e16 on). */
#include "canon.h"

#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_string(csc_buf *out, const char *s, size_t len) {
        static const char hex[] = "0123456789abcdef";
        int r = csc_buf_putc(out, '"');
        size_t run = 0;  /* start of the pending run of bytes copied as-is */
        for (size_t i = 0; i < len && r >= 0; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c >= 0x20 && c != '"' && c != '\\')
                        continue;
                r = csc_buf_append(out, s + run, i - run);
                run = i + 1;
                if (r < 0)
                        break;
                char esc[7] = { '\\', 0 };
                size_t n = 2;
                switch (c) {
                case '"':  esc[1] = '"'; break;
                case '\\': esc[1] = '\\'; break;
                case '\n': esc[1] = 'n'; break;
                case '\r': esc[1] = 'r'; break;
                case '\t': esc[1] = 't'; break;
                case '\b': esc[1] = 'b'; break;
                case '\f': esc[1] = 'f'; break;
                default:
                        memcpy(esc, "\\u00", 4);
                        esc[4] = hex[c >> 4];
                        esc[5] = hex[c & 0xF];
                        n = 6;
                }
                r = csc_buf_append(out, esc, n);
        }
        if (r >= 0)
                r = csc_buf_append(out, s + run, len - run);
        return r < 0 ? r : csc_buf_putc(out, '"');
}

/* Python's repr(float). */
static int write_float(csc_buf *out, double d) {
        if (!isfinite(d))
                return -EINVAL;
        if (d == 0)
                return csc_buf_puts(out, signbit(d) ? "-0.0" : "0.0");
        char e[40];
        for (int prec = 0; prec <= 16; prec++) {
                snprintf(e, sizeof e, "%.*e", prec, d);
                if (strtod(e, NULL) == d)
                        break;
        }
        /* e is "[-]D[.DDD]e[+-]XX": split into sign, digits and exponent. */
        const char *p = e;
        bool neg = *p == '-';
        if (neg)
                p++;
        char digits[24];
        size_t nd = 0;
        for (; *p && *p != 'e'; p++)
                if (*p != '.')
                        digits[nd++] = *p;
        while (nd > 1 && digits[nd - 1] == '0')
                nd--;
        digits[nd] = 0;
        int exp10 = atoi(p + 1);
        int decpt = exp10 + 1;
        int r = neg ? csc_buf_putc(out, '-') : 0;
        if (r < 0)
                return r;
        if (decpt > -4 && decpt <= 16) {
                if (decpt <= 0) {
                        r = csc_buf_puts(out, "0.");
                        for (int i = 0; i < -decpt && r >= 0; i++)
                                r = csc_buf_putc(out, '0');
                        return r < 0 ? r : csc_buf_append(out, digits, nd);
                }
                if ((size_t) decpt >= nd) {
                        r = csc_buf_append(out, digits, nd);
                        for (size_t i = nd; i < (size_t) decpt && r >= 0; i++)
                                r = csc_buf_putc(out, '0');
                        return r < 0 ? r : csc_buf_puts(out, ".0");
                }
                r = csc_buf_append(out, digits, (size_t) decpt);
                if (r >= 0)
                        r = csc_buf_putc(out, '.');
                return r < 0 ? r : csc_buf_append(out, digits + decpt, nd - (size_t) decpt);
        }
        r = csc_buf_putc(out, digits[0]);
        if (r >= 0 && nd > 1) {
                r = csc_buf_putc(out, '.');
                if (r >= 0)
                        r = csc_buf_append(out, digits + 1, nd - 1);
        }
        return r < 0 ? r : csc_buf_printf(out, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
}

static int key_cmp(const csc_json_member *x, const csc_json_member *y) {
        size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
        int c = memcmp(x->key, y->key, n);
        return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static int member_ptr_cmp(const void *a, const void *b) {
        return key_cmp(*(const csc_json_member *const *) a, *(const csc_json_member *const *) b);
}

static int canon(const csc_json *v, csc_buf *out) {
        int r;
        switch (v->type) {
        case CSC_JSON_NULL:
                return csc_buf_puts(out, "null");
        case CSC_JSON_BOOL:
                return csc_buf_puts(out, v->boolean ? "true" : "false");
        case CSC_JSON_INT:
                return csc_buf_puts(out, v->integer.text);
        case CSC_JSON_FLOAT:
                return write_float(out, v->number);
        case CSC_JSON_STRING:
                if (!csc_utf8_valid(v->string.ptr, v->string.len))
                        return -EINVAL;
                return write_string(out, v->string.ptr, v->string.len);
        case CSC_JSON_ARRAY:
                r = csc_buf_putc(out, '[');
                for (size_t i = 0; i < v->array.count && r >= 0; i++) {
                        if (i)
                                r = csc_buf_putc(out, ',');
                        if (r >= 0)
                                r = canon(v->array.items[i], out);
                }
                return r < 0 ? r : csc_buf_putc(out, ']');
        case CSC_JSON_OBJECT: {
                size_t n = v->object.count;
                const csc_json_member *small[32];
                const csc_json_member **order = small;
                if (n > 32) {
                        order = malloc(n * sizeof *order);
                        if (!order)
                                return -ENOMEM;
                }
                for (size_t i = 0; i < n; i++)
                        order[i] = &v->object.members[i];
                if (n <= 32) {
                        for (size_t i = 1; i < n; i++) /* insertion sort: objects are small */
                                for (size_t j = i; j > 0 && key_cmp(order[j - 1], order[j]) > 0; j--) {
                                        const csc_json_member *t = order[j];
                                        order[j] = order[j - 1];
                                        order[j - 1] = t;
                                }
                } else
                        qsort(order, n, sizeof *order, member_ptr_cmp);
                r = csc_buf_putc(out, '{');
                for (size_t i = 0; i < n && r >= 0; i++) {
                        if (i > 0 && key_cmp(order[i - 1], order[i]) == 0)
                                r = -EINVAL; /* duplicate key in a built object */
                        if (r >= 0 && i)
                                r = csc_buf_putc(out, ',');
                        if (r >= 0 && !csc_utf8_valid(order[i]->key, order[i]->key_len))
                                r = -EINVAL;
                        if (r >= 0)
                                r = write_string(out, order[i]->key, order[i]->key_len);
                        if (r >= 0)
                                r = csc_buf_putc(out, ':');
                        if (r >= 0)
                                r = canon(order[i]->value, out);
                }
                if (order != small)
                        free(order);
                return r < 0 ? r : csc_buf_putc(out, '}');
        }
        }
        return -EINVAL;
}

int csc_canon_write(const csc_json *v, csc_buf *out) {
        return canon(v, out);
}

void csc_hex32(const unsigned char digest[32], char ret_hex[65]) {
        sodium_bin2hex(ret_hex, 65, digest, 32);
}

void csc_sha256_hex(const void *data, size_t len, char ret_hex[65]) {
        unsigned char d[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(d, data, len);
        csc_hex32(d, ret_hex);
}

int csc_canon_sha256_hex(const csc_json *v, char ret_hex[65]) {
        csc_buf b = CSC_BUF_INIT;
        int r = csc_canon_write(v, &b);
        if (r >= 0)
                csc_sha256_hex(b.data, b.len, ret_hex);
        csc_buf_free(&b);
        return r;
}

static int indent(csc_buf *out, unsigned level) {
        int r = csc_buf_putc(out, '\n');
        for (unsigned i = 0; i < level && r >= 0; i++)
                r = csc_buf_puts(out, "  ");
        return r;
}

static int pretty(const csc_json *v, csc_buf *out, unsigned level) {
        int r = 0;
        switch (v->type) {
        case CSC_JSON_ARRAY:
                if (v->array.count == 0)
                        return csc_buf_puts(out, "[]");
                r = csc_buf_putc(out, '[');
                for (size_t i = 0; i < v->array.count && r >= 0; i++) {
                        if (i)
                                r = csc_buf_putc(out, ',');
                        if (r >= 0)
                                r = indent(out, level + 1);
                        if (r >= 0)
                                r = pretty(v->array.items[i], out, level + 1);
                }
                if (r >= 0)
                        r = indent(out, level);
                return r < 0 ? r : csc_buf_putc(out, ']');
        case CSC_JSON_OBJECT:
                if (v->object.count == 0)
                        return csc_buf_puts(out, "{}");
                r = csc_buf_putc(out, '{');
                for (size_t i = 0; i < v->object.count && r >= 0; i++) {
                        const csc_json_member *m = &v->object.members[i];
                        if (i)
                                r = csc_buf_putc(out, ',');
                        if (r >= 0)
                                r = indent(out, level + 1);
                        if (r >= 0)
                                r = write_string(out, m->key, m->key_len);
                        if (r >= 0)
                                r = csc_buf_puts(out, ": ");
                        if (r >= 0)
                                r = pretty(m->value, out, level + 1);
                }
                if (r >= 0)
                        r = indent(out, level);
                return r < 0 ? r : csc_buf_putc(out, '}');
        case CSC_JSON_NULL:
        case CSC_JSON_BOOL:
        case CSC_JSON_INT:
        case CSC_JSON_FLOAT:
        case CSC_JSON_STRING:
                return canon(v, out);
        }
        return -EINVAL;
}

int csc_json_write_pretty(const csc_json *v, csc_buf *out) {
        return pretty(v, out, 0);
}
