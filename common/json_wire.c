/* json_wire.c — a JSON tree as tagged binary, and back with a bounded reader. */
#include "json_wire.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "csc_limits.h"
#include "rbuf.h"

enum {
        TAG_NULL = 1,
        TAG_FALSE,
        TAG_TRUE,
        TAG_INT,        /* int64 */
        TAG_BIG_INT,    /* outside int64: its canonical decimal text */
        TAG_FLOAT,      /* IEEE 754 double, finite */
        TAG_STRING,     /* u32 length, bytes */
        TAG_ARRAY,      /* u32 count, values */
        TAG_OBJECT,     /* u32 count, (u32 key length, key, value) each */
};

#define BIG_INT_TEXT_MAX 4096   /* a 2 MiB frame could carry more; no contract field needs one */

static int put_u32(csc_buf *out, size_t n) {
        if (n > UINT32_MAX)
                return -E2BIG;
        uint32_t v = (uint32_t) n;
        return csc_buf_append(out, &v, sizeof v);
}

static int put_tag(csc_buf *out, int tag) {
        return csc_buf_putc(out, (char) tag);
}

static int put_str(csc_buf *out, const char *s, size_t n) {
        int r = put_u32(out, n);
        return r ?: csc_buf_append(out, s, n);
}

int csc_json_wire_encode(const csc_json *v, csc_buf *out) {
        int r;
        switch (v->type) {
        case CSC_JSON_NULL:
                return put_tag(out, TAG_NULL);
        case CSC_JSON_BOOL:
                return put_tag(out, v->boolean ? TAG_TRUE : TAG_FALSE);
        case CSC_JSON_INT:
                if (v->integer.overflow) {
                        r = put_tag(out, TAG_BIG_INT);
                        return r ?: put_str(out, v->integer.text, strlen(v->integer.text));
                }
                r = put_tag(out, TAG_INT);
                return r ?: csc_buf_append(out, &v->integer.value, sizeof v->integer.value);
        case CSC_JSON_FLOAT:
                r = put_tag(out, TAG_FLOAT);
                return r ?: csc_buf_append(out, &v->number, sizeof v->number);
        case CSC_JSON_STRING:
                r = put_tag(out, TAG_STRING);
                return r ?: put_str(out, v->string.ptr, v->string.len);
        case CSC_JSON_ARRAY:
                r = put_tag(out, TAG_ARRAY);
                r = r ?: put_u32(out, v->array.count);
                for (size_t i = 0; r >= 0 && i < v->array.count; i++)
                        r = csc_json_wire_encode(v->array.items[i], out);
                return r;
        case CSC_JSON_OBJECT:
                r = put_tag(out, TAG_OBJECT);
                r = r ?: put_u32(out, v->object.count);
                for (size_t i = 0; r >= 0 && i < v->object.count; i++) {
                        const csc_json_member *m = &v->object.members[i];
                        r = put_str(out, m->key, m->key_len);
                        r = r ?: csc_json_wire_encode(m->value, out);
                }
                return r;
        }
        return -EINVAL;
}

typedef struct decoder {
        csc_rbuf in;
        csc_json_doc *doc;
        csc_error *err;
} decoder;

static int bad(decoder *d, const char *what) {
        return csc_error_set(d->err, -EBADMSG, "", "%s at byte %zu", what, d->in.off);
}

static int get_text(decoder *d, const char **ret, size_t *ret_len, const char *what) {
        if (csc_rbuf_get_bytes(&d->in, ret, ret_len, CSC_FRAME_MAX_BYTES) < 0)
                return bad(d, "truncated or oversized length");
        if (!csc_utf8_valid(*ret, *ret_len))
                return bad(d, what);
        return 0;
}

/* "-"? then digits without a leading zero: the parser's canonical text. */
static bool big_int_text_ok(const char *s, size_t n) {
        if (n == 0)
                return false;
        size_t i = s[0] == '-';
        if (n <= i + 1 || n > BIG_INT_TEXT_MAX || s[i] == '0')
                return false;
        for (; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

static int decode_value(decoder *d, unsigned depth, csc_json **ret);

static int decode_array(decoder *d, unsigned depth, csc_json **ret) {
        uint32_t n;
        /* Every item takes at least one byte: a count beyond what is left is a lie. */
        if (csc_rbuf_get_u32(&d->in, &n) < 0 || n > csc_rbuf_left(&d->in))
                return bad(d, "bad array count");
        csc_json *a = csc_json_new_array(d->doc);
        if (!a)
                return -ENOMEM;
        for (uint32_t i = 0; i < n; i++) {
                csc_json *item;
                int r = decode_value(d, depth + 1, &item);
                r = r ?: csc_json_array_append(d->doc, a, item);
                if (r < 0)
                        return r;
        }
        *ret = a;
        return 0;
}

static int decode_object(decoder *d, unsigned depth, csc_json **ret) {
        uint32_t n;
        if (csc_rbuf_get_u32(&d->in, &n) < 0 || n > csc_rbuf_left(&d->in) / 5)
                return bad(d, "bad object count");
        csc_json *o = csc_json_new_object(d->doc);
        if (!o)
                return -ENOMEM;
        for (uint32_t i = 0; i < n; i++) {
                const char *key;
                size_t key_len;
                csc_json *value;
                int r = get_text(d, &key, &key_len, "key is not UTF-8");
                r = r ?: decode_value(d, depth + 1, &value);
                r = r ?: csc_json_object_append(d->doc, o, key, key_len, value);
                if (r < 0)
                        return r;
        }
        const char *dup;
        int r = csc_json_object_find_duplicate(o, &dup);
        if (r < 0)
                return r;
        if (r > 0)
                return bad(d, "duplicate key");
        *ret = o;
        return 0;
}

static int decode_scalar(decoder *d, uint8_t tag, csc_json **ret) {
        const char *s;
        size_t n;
        int64_t i;
        double f;
        switch (tag) {
        case TAG_NULL:
                *ret = csc_json_new_null(d->doc);
                break;
        case TAG_FALSE:
        case TAG_TRUE:
                *ret = csc_json_new_bool(d->doc, tag == TAG_TRUE);
                break;
        case TAG_INT:
                if (csc_rbuf_get(&d->in, &i, sizeof i) < 0)
                        return bad(d, "truncated integer");
                *ret = csc_json_new_int(d->doc, i);
                break;
        case TAG_BIG_INT: {
                int r = get_text(d, &s, &n, "integer text is not UTF-8");
                if (r < 0)
                        return r;
                if (!big_int_text_ok(s, n))
                        return bad(d, "bad integer text");
                csc_json *v = csc_json_new_int(d->doc, s[0] == '-' ? INT64_MIN : INT64_MAX);
                char *text = csc_json_doc_alloc(d->doc, n + 1);
                if (!v || !text)
                        return -ENOMEM;
                memcpy(text, s, n);
                v->integer.overflow = true;
                v->integer.text = text;
                *ret = v;
                return 0;
        }
        case TAG_FLOAT:
                if (csc_rbuf_get(&d->in, &f, sizeof f) < 0)
                        return bad(d, "truncated number");
                if (!isfinite(f))
                        return bad(d, "number is not finite");
                *ret = csc_json_new_null(d->doc);
                if (*ret) {
                        (*ret)->type = CSC_JSON_FLOAT;
                        (*ret)->number = f;
                }
                break;
        case TAG_STRING: {
                int r = get_text(d, &s, &n, "string is not UTF-8");
                if (r < 0)
                        return r;
                *ret = csc_json_new_stringn(d->doc, s, n);
                break;
        }
        default:
                return bad(d, "unknown tag");
        }
        return *ret ? 0 : -ENOMEM;
}

static int decode_value(decoder *d, unsigned depth, csc_json **ret) {
        uint8_t tag;
        if (csc_rbuf_get_u8(&d->in, &tag) < 0)
                return bad(d, "truncated value");
        if (tag != TAG_ARRAY && tag != TAG_OBJECT)
                return decode_scalar(d, tag, ret);
        if (depth >= CSC_JSON_MAX_DEPTH)
                return bad(d, "nesting too deep");
        return tag == TAG_ARRAY ? decode_array(d, depth, ret) : decode_object(d, depth, ret);
}

int csc_json_wire_decode(const void *data, size_t len, csc_json_doc **ret, csc_error *err) {
        decoder d = { .in = csc_rbuf_init(data, len), .doc = csc_json_doc_new(), .err = err };
        if (!d.doc)
                return -ENOMEM;
        csc_json *root;
        int r = decode_value(&d, 0, &root);
        if (r >= 0 && csc_rbuf_left(&d.in) != 0)
                r = bad(&d, "trailing bytes");
        if (r < 0) {
                csc_json_doc_free(d.doc);
                return r;
        }
        csc_json_doc_set_root(d.doc, root);
        *ret = d.doc;
        return 0;
}
