/* json.c — libcsc's strict JSON parser, value tree, arena and builder.
 *
 * Owns: the csc_json_doc arena (every value, string and typed view tied to a
 * document), RFC 8259 parsing with the spec §8 strictness rules, UTF-8 checks.
 * The parser recurses once per nesting level and stops at CSC_JSON_MAX_DEPTH,
 * so hostile nesting costs at most 64 stack frames. */
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csc_limits.h"

/* ---- arena ---------------------------------------------------------------- */

typedef struct arena_chunk {
        struct arena_chunk *next;
        size_t used, size;
        max_align_t data[];
} arena_chunk;

struct csc_json_doc {
        arena_chunk *chunks;
        csc_json *root;
};

#define ARENA_MIN_CHUNK 8192u

/* Not zeroed: for bytes the caller fills at once (strings, grown member and item arrays). */
static void *arena_alloc(csc_json_doc *doc, size_t size) {
        size = (size + 15u) & ~(size_t) 15u;
        arena_chunk *c = doc->chunks;
        if (!c || c->size - c->used < size) {
                size_t want = size > ARENA_MIN_CHUNK ? size : ARENA_MIN_CHUNK;
                if (c && c->size * 2 > want && c->size < (1u << 20))
                        want = c->size * 2;
                arena_chunk *n = malloc(sizeof *n + want);
                if (!n)
                        return NULL;
                n->used = 0;
                n->size = want;
                n->next = doc->chunks;
                doc->chunks = n;
                c = n;
        }
        void *p = (char *) c->data + c->used;
        c->used += size;
        return p;
}

void *csc_json_doc_alloc(csc_json_doc *doc, size_t size) {
        void *p = arena_alloc(doc, size);
        if (p)
                memset(p, 0, size);
        return p;
}

static char *arena_strndup(csc_json_doc *doc, const char *s, size_t len) {
        char *p = arena_alloc(doc, len + 1);
        if (!p)
                return NULL;
        memcpy(p, s, len);
        p[len] = 0;
        return p;
}

char *csc_json_doc_strdup(csc_json_doc *doc, const char *s) {
        return arena_strndup(doc, s, strlen(s));
}

csc_json_doc *csc_json_doc_new(void) {
        return calloc(1, sizeof(csc_json_doc));
}

csc_json_doc *csc_json_doc_free(csc_json_doc *doc) {
        if (!doc)
                return NULL;
        for (arena_chunk *c = doc->chunks, *n; c; c = n) {
                n = c->next;
                free(c);
        }
        free(doc);
        return NULL;
}

csc_json *csc_json_doc_root(const csc_json_doc *doc) {
        return doc ? doc->root : NULL;
}

void csc_json_doc_set_root(csc_json_doc *doc, csc_json *root) {
        doc->root = root;
}

/* ---- UTF-8 ------------------------------------------------------------------ */

/* Decodes one UTF-8 sequence at s (n bytes available). Returns its length, or 0
 * when it is invalid (overlong, surrogate, > U+10FFFF, truncated). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *ret_cp) {
        unsigned char c = s[0];
        if (c < 0x80) {
                *ret_cp = c;
                return 1;
        }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) {
                len = 2; cp = c & 0x1F; min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
                len = 3; cp = c & 0x0F; min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
                len = 4; cp = c & 0x07; min = 0x10000;
        } else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                return 0;
        *ret_cp = cp;
        return len;
}

bool csc_utf8_valid(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s;
        size_t i = 0;
        while (i < len) {
                if (p[i] < 0x80) {
                        i++;
                        continue;
                }
                uint32_t cp;
                size_t l = utf8_decode(p + i, len - i, &cp);
                if (l == 0)
                        return false;
                i += l;
        }
        return true;
}

size_t csc_utf8_sequence(const char *s, size_t len) {
        uint32_t cp;
        return len ? utf8_decode((const unsigned char *) s, len, &cp) : 0;
}

size_t csc_utf8_codepoints(const char *s, size_t len) {
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
                if (((unsigned char) s[i] & 0xC0) != 0x80)
                        n++;
        return n;
}

/* ---- builder ------------------------------------------------------------------ */

static csc_json *new_value(csc_json_doc *doc, csc_json_type t) {
        csc_json *v = csc_json_doc_alloc(doc, sizeof *v);
        if (v)
                v->type = t;
        return v;
}

csc_json *csc_json_new_null(csc_json_doc *doc) {
        return new_value(doc, CSC_JSON_NULL);
}

csc_json *csc_json_new_bool(csc_json_doc *doc, bool b) {
        csc_json *v = new_value(doc, CSC_JSON_BOOL);
        if (v)
                v->boolean = b;
        return v;
}

csc_json *csc_json_new_int(csc_json_doc *doc, int64_t i) {
        char text[24];
        snprintf(text, sizeof text, "%" PRId64, i);
        csc_json *v = new_value(doc, CSC_JSON_INT);
        if (!v)
                return NULL;
        v->integer.value = i;
        v->integer.text = csc_json_doc_strdup(doc, text);
        return v->integer.text ? v : NULL;
}

csc_json *csc_json_new_stringn(csc_json_doc *doc, const char *s, size_t len) {
        csc_json *v = new_value(doc, CSC_JSON_STRING);
        if (!v)
                return NULL;
        char *p = arena_strndup(doc, s, len);
        if (!p)
                return NULL;
        v->string.ptr = p;
        v->string.len = len;
        return v;
}

csc_json *csc_json_new_string(csc_json_doc *doc, const char *s) {
        return csc_json_new_stringn(doc, s, strlen(s));
}

csc_json *csc_json_new_array(csc_json_doc *doc) {
        return new_value(doc, CSC_JSON_ARRAY);
}

csc_json *csc_json_new_object(csc_json_doc *doc) {
        return new_value(doc, CSC_JSON_OBJECT);
}

int csc_json_array_append(csc_json_doc *doc, csc_json *a, csc_json *item) {
        if (!item)
                return -ENOMEM;
        if (a->array.count == a->array.cap) {
                size_t cap = a->array.cap ? a->array.cap * 2 : 4;
                csc_json **n = arena_alloc(doc, cap * sizeof *n);
                if (!n)
                        return -ENOMEM;
                if (a->array.count)
                        memcpy(n, a->array.items, a->array.count * sizeof *n);
                a->array.items = n;
                a->array.cap = cap;
        }
        a->array.items[a->array.count++] = item;
        return 0;
}

static int object_push(csc_json_doc *doc, csc_json *o, const char *key, size_t key_len, csc_json *value) {
        if (o->object.count == o->object.cap) {
                size_t cap = o->object.cap ? o->object.cap * 2 : 8;
                csc_json_member *n = arena_alloc(doc, cap * sizeof *n);
                if (!n)
                        return -ENOMEM;
                if (o->object.count)
                        memcpy(n, o->object.members, o->object.count * sizeof *n);
                o->object.members = n;
                o->object.cap = cap;
        }
        o->object.members[o->object.count++] = (csc_json_member) { key, key_len, value };
        return 0;
}

int csc_json_object_set(csc_json_doc *doc, csc_json *o, const char *key, csc_json *value) {
        if (!value)
                return -ENOMEM;
        size_t klen = strlen(key);
        for (size_t i = 0; i < o->object.count; i++)
                if (o->object.members[i].key_len == klen && memcmp(o->object.members[i].key, key, klen) == 0) {
                        o->object.members[i].value = value;
                        return 0;
                }
        char *k = arena_strndup(doc, key, klen);
        if (!k)
                return -ENOMEM;
        return object_push(doc, o, k, klen, value);
}

bool csc_json_object_remove(csc_json *o, const char *key) {
        if (!o || o->type != CSC_JSON_OBJECT)
                return false;
        size_t klen = strlen(key);
        for (size_t i = 0; i < o->object.count; i++)
                if (o->object.members[i].key_len == klen && memcmp(o->object.members[i].key, key, klen) == 0) {
                        memmove(o->object.members + i, o->object.members + i + 1,
                                (o->object.count - i - 1) * sizeof(csc_json_member));
                        o->object.count--;
                        return true;
                }
        return false;
}

csc_json *csc_json_copy(csc_json_doc *doc, const csc_json *v) {
        csc_json *c;
        switch (v->type) {
        case CSC_JSON_NULL:
        case CSC_JSON_BOOL:
        case CSC_JSON_FLOAT:
                c = new_value(doc, v->type);
                if (c)
                        *c = *v;
                return c;
        case CSC_JSON_INT:
                c = new_value(doc, v->type);
                if (!c)
                        return NULL;
                *c = *v;
                c->integer.text = csc_json_doc_strdup(doc, v->integer.text);
                return c->integer.text ? c : NULL;
        case CSC_JSON_STRING:
                return csc_json_new_stringn(doc, v->string.ptr, v->string.len);
        case CSC_JSON_ARRAY:
                c = csc_json_new_array(doc);
                if (!c)
                        return NULL;
                for (size_t i = 0; i < v->array.count; i++)
                        if (csc_json_array_append(doc, c, csc_json_copy(doc, v->array.items[i])) < 0)
                                return NULL;
                return c;
        case CSC_JSON_OBJECT:
                c = csc_json_new_object(doc);
                if (!c)
                        return NULL;
                for (size_t i = 0; i < v->object.count; i++) {
                        const csc_json_member *m = &v->object.members[i];
                        char *k = arena_strndup(doc, m->key, m->key_len);
                        csc_json *cv = csc_json_copy(doc, m->value);
                        if (!k || !cv || object_push(doc, c, k, m->key_len, cv) < 0)
                                return NULL;
                }
                return c;
        }
        return NULL;
}

csc_json *csc_json_get(const csc_json *o, const char *key) {
        if (!o || o->type != CSC_JSON_OBJECT)
                return NULL;
        size_t klen = strlen(key);
        for (size_t i = 0; i < o->object.count; i++)
                if (o->object.members[i].key_len == klen && memcmp(o->object.members[i].key, key, klen) == 0)
                        return o->object.members[i].value;
        return NULL;
}

csc_json *csc_json_at(const csc_json *a, size_t i) {
        if (!a || a->type != CSC_JSON_ARRAY || i >= a->array.count)
                return NULL;
        return a->array.items[i];
}

const char *csc_json_get_str(const csc_json *o, const char *key) {
        csc_json *v = csc_json_get(o, key);
        return v && v->type == CSC_JSON_STRING ? v->string.ptr : NULL;
}

const char *csc_json_type_name(csc_json_type t) {
        switch (t) {
        case CSC_JSON_NULL:   return "null";
        case CSC_JSON_BOOL:   return "boolean";
        case CSC_JSON_INT:    return "integer";
        case CSC_JSON_FLOAT:  return "number";
        case CSC_JSON_STRING: return "string";
        case CSC_JSON_ARRAY:  return "array";
        case CSC_JSON_OBJECT: return "object";
        }
        return "unknown";
}

/* ---- parser ------------------------------------------------------------------- */

typedef struct parser {
        const char *p, *start, *end;
        csc_json_doc *doc;
        csc_error *err;
        unsigned depth;
        char *scratch;          /* string decode buffer (malloc'd) */
        size_t scratch_cap;
} parser;

static int perr(parser *ps, const char *what) {
        size_t line = 1, col = 1;
        for (const char *q = ps->start; q < ps->p && q < ps->end; q++) {
                if (*q == '\n') {
                        line++;
                        col = 1;
                } else
                        col++;
        }
        return csc_error_set(ps->err, -EINVAL, "", "invalid JSON at line %zu column %zu: %s", line, col, what);
}

static void skip_ws(parser *ps) {
        while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
                ps->p++;
}

static int hex4(const char *s, uint32_t *ret) {
        uint32_t v = 0;
        for (int i = 0; i < 4; i++) {
                char c = s[i];
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (uint32_t) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (uint32_t) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (uint32_t) (c - 'A' + 10);
                else
                        return -EINVAL;
        }
        *ret = v;
        return 0;
}

static size_t utf8_encode(uint32_t cp, char *out) {
        if (cp < 0x80) {
                out[0] = (char) cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char) (0xC0 | (cp >> 6));
                out[1] = (char) (0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char) (0xE0 | (cp >> 12));
                out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
                out[2] = (char) (0x80 | (cp & 0x3F));
                return 3;
        }
        out[0] = (char) (0xF0 | (cp >> 18));
        out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char) (0x80 | (cp & 0x3F));
        return 4;
}

/* Parses a string at ps->p (which points at the opening quote) into the arena. */
static int parse_string(parser *ps, const char **ret, size_t *ret_len) {
        ps->p++; /* opening quote */
        /* Fast path: no escapes, and UTF-8 checked only when a byte >= 0x80 was seen.
         * stop[c] is 1 for '"', '\\' and the control characters. */
#define R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
        static const unsigned char stop[256] = {
                R16(1), R16(1),
                0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* 0x20: '"' */
                R16(0), R16(0),
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,   /* 0x50: '\\' */
        };
#undef R16
        const unsigned char *s = (const unsigned char *) ps->p, *end = (const unsigned char *) ps->end;
        unsigned high = 0;
        while (end - s >= 8 && csc_json_plain8((const char *) s))
                s += 8;
        while (s < end && !stop[*s])
                high |= *s++;
        if (s < end && *s == '"') {
                size_t len = (size_t) ((const char *) s - ps->p);
                if ((high & 0x80) && !csc_utf8_valid(ps->p, len))
                        return perr(ps, "invalid UTF-8 in string");
                char *out = arena_strndup(ps->doc, ps->p, len);
                if (!out)
                        return -ENOMEM;
                ps->p = (const char *) s + 1;
                *ret = out;
                *ret_len = len;
                return 0;
        }
        /* Slow path: decode escapes into scratch (output never longer than input). */
        size_t max = (size_t) (ps->end - ps->p);
        if (ps->scratch_cap < max + 1) {
                char *n = realloc(ps->scratch, max + 1);
                if (!n)
                        return -ENOMEM;
                ps->scratch = n;
                ps->scratch_cap = max + 1;
        }
        size_t o = 0;
        for (;;) {
                if (ps->p >= ps->end)
                        return perr(ps, "unterminated string");
                unsigned char c = (unsigned char) *ps->p;
                if (c == '"') {
                        ps->p++;
                        break;
                }
                if (c < 0x20)
                        return perr(ps, "control character in string");
                if (c != '\\') {
                        if (c < 0x80) {
                                ps->scratch[o++] = (char) c;
                                ps->p++;
                                continue;
                        }
                        uint32_t cp;
                        size_t l = utf8_decode((const unsigned char *) ps->p, (size_t) (ps->end - ps->p), &cp);
                        if (l == 0)
                                return perr(ps, "invalid UTF-8 in string");
                        memcpy(ps->scratch + o, ps->p, l);
                        o += l;
                        ps->p += l;
                        continue;
                }
                if (ps->end - ps->p < 2)
                        return perr(ps, "unterminated escape");
                char e = ps->p[1];
                ps->p += 2;
                switch (e) {
                case '"':  ps->scratch[o++] = '"'; break;
                case '\\': ps->scratch[o++] = '\\'; break;
                case '/':  ps->scratch[o++] = '/'; break;
                case 'b':  ps->scratch[o++] = '\b'; break;
                case 'f':  ps->scratch[o++] = '\f'; break;
                case 'n':  ps->scratch[o++] = '\n'; break;
                case 'r':  ps->scratch[o++] = '\r'; break;
                case 't':  ps->scratch[o++] = '\t'; break;
                case 'u': {
                        uint32_t cp;
                        if (ps->end - ps->p < 4 || hex4(ps->p, &cp) < 0)
                                return perr(ps, "bad \\u escape");
                        ps->p += 4;
                        if (cp >= 0xDC00 && cp <= 0xDFFF)
                                return perr(ps, "lone low surrogate in \\u escape");
                        if (cp >= 0xD800 && cp <= 0xDBFF) {
                                uint32_t lo;
                                if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
                                    hex4(ps->p + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
                                        return perr(ps, "lone high surrogate in \\u escape");
                                ps->p += 6;
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        }
                        o += utf8_encode(cp, ps->scratch + o);
                        break;
                }
                default:
                        ps->p--;
                        return perr(ps, "unknown escape");
                }
        }
        char *out = arena_strndup(ps->doc, ps->scratch, o);
        if (!out)
                return -ENOMEM;
        *ret = out;
        *ret_len = o;
        return 0;
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static int parse_number(parser *ps, csc_json **ret) {
        const char *s = ps->p, *q = s;
        bool neg = false, is_float = false;
        if (q < ps->end && *q == '-') {
                neg = true;
                q++;
        }
        if (q >= ps->end || !is_digit(*q))
                return perr(ps, "bad number");
        if (*q == '0') {
                q++;
                if (q < ps->end && is_digit(*q))
                        return perr(ps, "leading zero in number");
        } else
                while (q < ps->end && is_digit(*q))
                        q++;
        const char *int_end = q;
        if (q < ps->end && *q == '.') {
                is_float = true;
                q++;
                if (q >= ps->end || !is_digit(*q))
                        return perr(ps, "bad fraction in number");
                while (q < ps->end && is_digit(*q))
                        q++;
        }
        if (q < ps->end && (*q == 'e' || *q == 'E')) {
                is_float = true;
                q++;
                if (q < ps->end && (*q == '+' || *q == '-'))
                        q++;
                if (q >= ps->end || !is_digit(*q))
                        return perr(ps, "bad exponent in number");
                while (q < ps->end && is_digit(*q))
                        q++;
        }
        ps->p = q;
        if (is_float) {
                char tmp[64];
                size_t n = (size_t) (q - s);
                char *heap = NULL, *txt = tmp;
                if (n >= sizeof tmp) {
                        heap = malloc(n + 1);
                        if (!heap)
                                return -ENOMEM;
                        txt = heap;
                }
                memcpy(txt, s, n);
                txt[n] = 0;
                double d = strtod(txt, NULL);
                free(heap);
                if (!isfinite(d))
                        return perr(ps, "number out of range");
                csc_json *v = new_value(ps->doc, CSC_JSON_FLOAT);
                if (!v)
                        return -ENOMEM;
                v->number = d;
                *ret = v;
                return 0;
        }
        const char *digits = neg ? s + 1 : s;
        size_t nd = (size_t) (int_end - digits);
        csc_json *v = new_value(ps->doc, CSC_JSON_INT);
        if (!v)
                return -ENOMEM;
        uint64_t mag = 0;
        bool overflow = false;
        for (size_t i = 0; i < nd; i++) {
                unsigned d = (unsigned) (digits[i] - '0');
                if (mag > (UINT64_MAX - d) / 10) {
                        overflow = true;
                        break;
                }
                mag = mag * 10 + d;
        }
        if (!overflow && (neg ? mag > (uint64_t) INT64_MAX + 1 : mag > (uint64_t) INT64_MAX))
                overflow = true;
        if (overflow) {
                v->integer.overflow = true;
                v->integer.value = neg ? INT64_MIN : INT64_MAX;
        } else
                v->integer.value = neg ? (mag == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) mag) : (int64_t) mag;
        /* Canonical text: "-0" is 0 in Python. */
        bool zero = nd == 1 && digits[0] == '0';
        v->integer.text = zero ? arena_strndup(ps->doc, "0", 1) : arena_strndup(ps->doc, s, (size_t) (int_end - s));
        if (!v->integer.text)
                return -ENOMEM;
        *ret = v;
        return 0;
}

static int parse_value(parser *ps, csc_json **ret);
static int member_cmp(const void *a, const void *b);

static int check_duplicates(parser *ps, const csc_json *o, const char *obj_start) {
        size_t n = o->object.count;
        const csc_json_member *m = o->object.members;
        for (size_t i = 1; i < n; i++)
                for (size_t j = 0; j < i; j++)
                        if (m[i].key_len == m[j].key_len && m[i].key[0] == m[j].key[0] &&
                            memcmp(m[i].key, m[j].key, m[i].key_len) == 0) {
                                const char *save = ps->p;
                                ps->p = obj_start;
                                char what[CSC_ERROR_MSG_MAX / 2];
                                snprintf(what, sizeof what, "duplicate key \"%.100s\" in object", m[i].key);
                                int r = perr(ps, what);
                                ps->p = save;
                                return r;
                        }
        return 0;
}

static int member_cmp(const void *a, const void *b) {
        const csc_json_member *x = a, *y = b;
        size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
        int c = memcmp(x->key, y->key, n);
        return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static int check_duplicates_sorted(parser *ps, const csc_json *o, const char *obj_start) {
        const char *dup = NULL;
        int r = csc_json_object_find_duplicate(o, &dup);
        if (r <= 0)
                return r;
        const char *save = ps->p;
        ps->p = obj_start;
        char what[CSC_ERROR_MSG_MAX / 2];
        snprintf(what, sizeof what, "duplicate key \"%.100s\" in object", dup);
        r = perr(ps, what);
        ps->p = save;
        return r;
}

static int parse_object(parser *ps, csc_json **ret) {
        const char *obj_start = ps->p;
        ps->p++;
        csc_json *o = csc_json_new_object(ps->doc);
        if (!o)
                return -ENOMEM;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == '}') {
                ps->p++;
                *ret = o;
                return 0;
        }
        for (;;) {
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != '"')
                        return perr(ps, "expected a string key");
                const char *key;
                size_t klen;
                int r = parse_string(ps, &key, &klen);
                if (r < 0)
                        return r;
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':')
                        return perr(ps, "expected ':'");
                ps->p++;
                csc_json *v;
                r = parse_value(ps, &v);
                if (r < 0)
                        return r;
                r = object_push(ps->doc, o, key, klen, v);
                if (r < 0)
                        return r;
                skip_ws(ps);
                if (ps->p < ps->end && *ps->p == ',') {
                        ps->p++;
                        continue;
                }
                if (ps->p < ps->end && *ps->p == '}') {
                        ps->p++;
                        break;
                }
                return perr(ps, "expected ',' or '}'");
        }
        int r = o->object.count <= 16 ? check_duplicates(ps, o, obj_start) : check_duplicates_sorted(ps, o, obj_start);
        if (r < 0)
                return r;
        *ret = o;
        return 0;
}

static int parse_array(parser *ps, csc_json **ret) {
        ps->p++;
        csc_json *a = csc_json_new_array(ps->doc);
        if (!a)
                return -ENOMEM;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ']') {
                ps->p++;
                *ret = a;
                return 0;
        }
        for (;;) {
                csc_json *v;
                int r = parse_value(ps, &v);
                if (r < 0)
                        return r;
                r = csc_json_array_append(ps->doc, a, v);
                if (r < 0)
                        return r;
                skip_ws(ps);
                if (ps->p < ps->end && *ps->p == ',') {
                        ps->p++;
                        continue;
                }
                if (ps->p < ps->end && *ps->p == ']') {
                        ps->p++;
                        break;
                }
                return perr(ps, "expected ',' or ']'");
        }
        *ret = a;
        return 0;
}

static bool match_word(parser *ps, const char *w, size_t n) {
        if ((size_t) (ps->end - ps->p) < n || memcmp(ps->p, w, n) != 0)
                return false;
        ps->p += n;
        return true;
}

static int parse_value(parser *ps, csc_json **ret) {
        skip_ws(ps);
        if (ps->p >= ps->end)
                return perr(ps, "unexpected end of input");
        char c = *ps->p;
        int r;
        switch (c) {
        case '{':
        case '[':
                if (++ps->depth > CSC_JSON_MAX_DEPTH)
                        return perr(ps, "nesting deeper than 64 levels");
                r = c == '{' ? parse_object(ps, ret) : parse_array(ps, ret);
                ps->depth--;
                return r;
        case '"': {
                const char *s;
                size_t len;
                r = parse_string(ps, &s, &len);
                if (r < 0)
                        return r;
                csc_json *v = new_value(ps->doc, CSC_JSON_STRING);
                if (!v)
                        return -ENOMEM;
                v->string.ptr = s;
                v->string.len = len;
                *ret = v;
                return 0;
        }
        case 't':
                if (!match_word(ps, "true", 4))
                        break;
                return (*ret = csc_json_new_bool(ps->doc, true)) ? 0 : -ENOMEM;
        case 'f':
                if (!match_word(ps, "false", 5))
                        break;
                return (*ret = csc_json_new_bool(ps->doc, false)) ? 0 : -ENOMEM;
        case 'n':
                if (!match_word(ps, "null", 4))
                        break;
                return (*ret = csc_json_new_null(ps->doc)) ? 0 : -ENOMEM;
        default:
                if (c == '-' || is_digit(c))
                        return parse_number(ps, ret);
                break;
        }
        return perr(ps, "unexpected character");
}

int csc_json_parse(const char *text, size_t len, csc_json_doc **ret, csc_error *err) {
        parser ps = { .p = text, .start = text, .end = text + len, .err = err };
        ps.doc = csc_json_doc_new();
        if (!ps.doc)
                return -ENOMEM;
        csc_json *root = NULL;
        int r = parse_value(&ps, &root);
        if (r >= 0) {
                skip_ws(&ps);
                if (ps.p != ps.end)
                        r = perr(&ps, "trailing data after the JSON value");
        }
        free(ps.scratch);
        if (r < 0) {
                if (r == -ENOMEM)
                        csc_error_set(err, r, "", "out of memory");
                csc_json_doc_free(ps.doc);
                return r;
        }
        ps.doc->root = root;
        *ret = ps.doc;
        return 0;
}

int csc_json_object_append(csc_json_doc *doc, csc_json *o, const char *key, size_t klen, csc_json *value) {
        if (!value)
                return -ENOMEM;
        char *k = arena_strndup(doc, key, klen);
        if (!k)
                return -ENOMEM;
        return object_push(doc, o, k, klen, value);
}

int csc_json_object_find_duplicate(const csc_json *o, const char **ret_key) {
        size_t n = o->object.count;
        if (n < 2)
                return 0;
        csc_json_member *tmp = malloc(n * sizeof *tmp);
        if (!tmp)
                return -ENOMEM;
        memcpy(tmp, o->object.members, n * sizeof *tmp);
        qsort(tmp, n, sizeof *tmp, member_cmp);
        int r = 0;
        for (size_t i = 1; i < n && !r; i++)
                if (member_cmp(&tmp[i - 1], &tmp[i]) == 0) {
                        *ret_key = tmp[i].key;
                        r = 1;
                }
        free(tmp);
        return r;
}
