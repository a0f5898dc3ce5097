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

/* Where canonical bytes go: a staging buffer on the stack, flushed either to a
 * csc_buf or straight into a SHA-256 state, so hashing never builds the whole
 * canonical string. Errors are sticky (the first one is kept in r). */
#define CANON_STAGE 1024
typedef struct sink {
        csc_buf *buf;                          /* NULL: hash into sha */
        crypto_hash_sha256_state *sha;
        size_t n;
        int r;
        char stage[CANON_STAGE];
} sink;

static void sink_write(sink *s, const char *p, size_t n) {
        if (s->r < 0 || n == 0)
                return;
        if (s->buf)
                s->r = csc_buf_append(s->buf, p, n);
        else
                crypto_hash_sha256_update(s->sha, (const unsigned char *) p, n);
}

static void flush(sink *s) {
        sink_write(s, s->stage, s->n);
        s->n = 0;
}

static inline void put(sink *s, const char *p, size_t n) {
        if (n > CANON_STAGE - s->n) {
                flush(s);
                if (n >= CANON_STAGE) {
                        sink_write(s, p, n);
                        return;
                }
        }
        memcpy(s->stage + s->n, p, n);
        s->n += n;
}

static inline void putch(sink *s, char c) {
        if (s->n == CANON_STAGE)
                flush(s);
        s->stage[s->n++] = c;
}

static void puts_(sink *s, const char *str) {
        put(s, str, strlen(str));
}

/* A JSON string with the spec's escapes. With check, invalid UTF-8 is -EINVAL
 * (validated in the same scan that looks for bytes to escape). */
static int write_string(sink *s, const char *str, size_t len, bool check) {
        static const char hex[] = "0123456789abcdef";
        /* 0: copied as-is (printable ASCII but '"' and '\\'), 1: escaped, 2: UTF-8 lead or continuation. */
#define R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
        static const unsigned char cls[256] = {
                R16(1), R16(1),
                0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* 0x20: '"' */
                R16(0), R16(0),
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,   /* 0x50: '\\' */
                R16(0), R16(0),
                R16(2), R16(2), R16(2), R16(2), R16(2), R16(2), R16(2), R16(2),
        };
#undef R16
        const unsigned char *p = (const unsigned char *) str;
        putch(s, '"');
        size_t run = 0;  /* start of the pending run of bytes copied as-is */
        size_t i = 0;
        for (;;) {
                while (i + 8 <= len && csc_json_plain8(str + i))
                        i += 8;
                while (i < len && cls[p[i]] == 0)
                        i++;
                if (i == len)
                        break;
                unsigned char c = p[i];
                if (cls[c] == 2) {
                        size_t l = check ? csc_utf8_sequence(str + i, len - i) : 1;
                        if (l == 0)
                                return -EINVAL;
                        i += l;
                        continue;
                }
                put(s, str + run, i - run);
                i++;
                run = i;
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
                put(s, esc, n);
        }
        put(s, str + run, len - run);
        putch(s, '"');
        return 0;
}

/* Python's repr(float), rendered into out (at most 25 bytes with the NUL). */
static int format_float(double d, char out[48]) {
        if (!isfinite(d))
                return -EINVAL;
        if (d == 0) {
                strcpy(out, signbit(d) ? "-0.0" : "0.0");
                return 0;
        }
        char e[40];
        for (int prec = 0; prec <= 16; prec++) {
                snprintf(e, sizeof e, "%.*e", prec, d);
                if (strtod(e, NULL) == d)
                        break;
        }
        /* e is "[-]D[.DDD]e[+-]XX": split into sign, digits and exponent. */
        const char *p = e;
        size_t o = 0;
        if (*p == '-')
                out[o++] = *p++;
        char digits[24];
        size_t nd = 0;
        for (; *p && *p != 'e'; p++)
                if (*p != '.')
                        digits[nd++] = *p;
        while (nd > 1 && digits[nd - 1] == '0')
                nd--;
        int exp10 = atoi(p + 1);
        int decpt = exp10 + 1;
        if (decpt > -4 && decpt <= 16) {
                if (decpt <= 0) {
                        out[o++] = '0';
                        out[o++] = '.';
                        for (int i = 0; i < -decpt; i++)
                                out[o++] = '0';
                        memcpy(out + o, digits, nd);
                        o += nd;
                } else if ((size_t) decpt >= nd) {
                        memcpy(out + o, digits, nd);
                        o += nd;
                        for (size_t i = nd; i < (size_t) decpt; i++)
                                out[o++] = '0';
                        out[o++] = '.';
                        out[o++] = '0';
                } else {
                        memcpy(out + o, digits, (size_t) decpt);
                        o += (size_t) decpt;
                        out[o++] = '.';
                        memcpy(out + o, digits + decpt, nd - (size_t) decpt);
                        o += nd - (size_t) decpt;
                }
                out[o] = 0;
                return 0;
        }
        out[o++] = digits[0];
        if (nd > 1) {
                out[o++] = '.';
                memcpy(out + o, digits + 1, nd - 1);
                o += nd - 1;
        }
        snprintf(out + o, 48 - o, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
        return 0;
}

static int key_cmp(const csc_json_member *x, const csc_json_member *y) {
        /* Most keys differ in their first byte; empty keys compare as the NUL after them. */
        unsigned char a = (unsigned char) x->key[0], b = (unsigned char) y->key[0];
        if (a != b && x->key_len && y->key_len)
                return a < b ? -1 : 1;
        size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
        int c = memcmp(x->key, y->key, n);
        return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static int member_ptr_cmp(const void *a, const void *b) {
        return key_cmp(*(const csc_json_member *const *) a, *(const csc_json_member *const *) b);
}

static int canon(const csc_json *v, sink *s, const csc_json_member *extra);

/* An object's members in key order (with extra, a member that is not in v,
 * merged in), each written once; adjacent equal keys are a duplicate (-EINVAL). */
static int canon_object(const csc_json *v, sink *s, const csc_json_member *extra) {
        size_t n = v->object.count + (extra ? 1 : 0);
        const csc_json_member *small[32];
        const csc_json_member **order = small;
        if (n > 32) {
                order = malloc(n * sizeof *order);
                if (!order)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < v->object.count; i++)
                order[i] = &v->object.members[i];
        if (extra)
                order[n - 1] = extra;
        if (n <= 32) {
                /* Insertion sort (objects are small), shifting rather than swapping
                 * pairs: swapped pairs compile to overlapping 16-byte stores and
                 * loads that stall store forwarding, which cost more than the rest
                 * of the canonical walk. */
                for (size_t i = 1; i < n; i++) {
                        const csc_json_member *cur = order[i];
                        size_t j = i;
                        for (; j > 0 && key_cmp(order[j - 1], cur) > 0; j--)
                                order[j] = order[j - 1];
                        order[j] = cur;
                }
        } else
                qsort(order, n, sizeof *order, member_ptr_cmp);
        int r = 0;
        putch(s, '{');
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (i > 0 && key_cmp(order[i - 1], order[i]) == 0) {
                        r = -EINVAL; /* duplicate key in a built object */
                        break;
                }
                if (i)
                        putch(s, ',');
                r = write_string(s, order[i]->key, order[i]->key_len, true);
                if (r >= 0) {
                        putch(s, ':');
                        r = canon(order[i]->value, s, NULL);
                }
        }
        if (order != small)
                free(order);
        putch(s, '}');
        return r;
}

static int canon(const csc_json *v, sink *s, const csc_json_member *extra) {
        int r = 0;
        char f[48];
        if (extra && v->type != CSC_JSON_OBJECT)
                return -EINVAL;
        switch (v->type) {
        case CSC_JSON_NULL:
                put(s, "null", 4);
                return 0;
        case CSC_JSON_BOOL:
                if (v->boolean)
                        put(s, "true", 4);
                else
                        put(s, "false", 5);
                return 0;
        case CSC_JSON_INT:
                puts_(s, v->integer.text);
                return 0;
        case CSC_JSON_FLOAT:
                r = format_float(v->number, f);
                if (r >= 0)
                        puts_(s, f);
                return r;
        case CSC_JSON_STRING:
                return write_string(s, v->string.ptr, v->string.len, true);
        case CSC_JSON_ARRAY:
                putch(s, '[');
                for (size_t i = 0; i < v->array.count && r >= 0; i++) {
                        if (i)
                                putch(s, ',');
                        r = canon(v->array.items[i], s, NULL);
                }
                putch(s, ']');
                return r;
        case CSC_JSON_OBJECT:
                return canon_object(v, s, extra);
        }
        return -EINVAL;
}

int csc_canon_write(const csc_json *v, csc_buf *out) {
        sink s = { .buf = out };
        int r = canon(v, &s, NULL);
        flush(&s);
        return r < 0 ? r : s.r;
}

void csc_hex32(const unsigned char digest[32], char ret_hex[65]) {
        sodium_bin2hex(ret_hex, 65, digest, 32);
}

void csc_sha256_hex(const void *data, size_t len, char ret_hex[65]) {
        unsigned char d[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(d, data, len);
        csc_hex32(d, ret_hex);
}

int csc_canon_sha256_hex_with(const csc_json *v, const csc_json_member *extra, char ret_hex[65]) {
        crypto_hash_sha256_state sha;
        crypto_hash_sha256_init(&sha);
        sink s = { .sha = &sha };
        int r = canon(v, &s, extra);
        flush(&s);
        if (r < 0)
                return r;
        unsigned char d[crypto_hash_sha256_BYTES];
        crypto_hash_sha256_final(&sha, d);
        csc_hex32(d, ret_hex);
        return 0;
}

int csc_canon_sha256_hex(const csc_json *v, char ret_hex[65]) {
        return csc_canon_sha256_hex_with(v, NULL, ret_hex);
}

static void indent(sink *s, unsigned level) {
        putch(s, '\n');
        for (unsigned i = 0; i < level; i++)
                put(s, "  ", 2);
}

static int pretty(const csc_json *v, sink *s, unsigned level) {
        int r = 0;
        switch (v->type) {
        case CSC_JSON_ARRAY:
                if (v->array.count == 0) {
                        put(s, "[]", 2);
                        return 0;
                }
                putch(s, '[');
                for (size_t i = 0; i < v->array.count && r >= 0; i++) {
                        if (i)
                                putch(s, ',');
                        indent(s, level + 1);
                        r = pretty(v->array.items[i], s, level + 1);
                }
                indent(s, level);
                putch(s, ']');
                return r;
        case CSC_JSON_OBJECT:
                if (v->object.count == 0) {
                        put(s, "{}", 2);
                        return 0;
                }
                putch(s, '{');
                for (size_t i = 0; i < v->object.count && r >= 0; i++) {
                        const csc_json_member *m = &v->object.members[i];
                        if (i)
                                putch(s, ',');
                        indent(s, level + 1);
                        r = write_string(s, m->key, m->key_len, false);
                        put(s, ": ", 2);
                        if (r >= 0)
                                r = pretty(m->value, s, level + 1);
                }
                indent(s, level);
                putch(s, '}');
                return r;
        case CSC_JSON_NULL:
        case CSC_JSON_BOOL:
        case CSC_JSON_INT:
        case CSC_JSON_FLOAT:
        case CSC_JSON_STRING:
                return canon(v, s, NULL);
        }
        return -EINVAL;
}

int csc_json_write_pretty(const csc_json *v, csc_buf *out) {
        sink s = { .buf = out };
        int r = pretty(v, &s, 0);
        flush(&s);
        return r < 0 ? r : s.r;
}
