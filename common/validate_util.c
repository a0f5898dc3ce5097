/* validate_util.c — the schema walker and the shared checkers of validate_*.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csc_limits.h"
#include "timefmt.h"
#include "validate.h"
#include "validate_internal.h"

const char *const v_effect_types[] = { "observe", "transform_local", "fetch_external", "mutate_repo",
                                       "deploy", "touch_secrets", NULL };
const char *const v_risk_classes[] = { "low", "medium", "high", "critical", NULL };
const char *const v_network_modes[] = { "deny", "allowlisted", "full", NULL };

const v_array v_abs_path_array = { 0, 0, false, v_abs_path, NULL };
const v_array v_abs_path_array1 = { 1, 0, false, v_abs_path, NULL };
const v_array v_token_array = { 0, 0, false, v_token, NULL };
const v_array v_token_set = { 0, 0, true, v_token, NULL };

static const v_field signature_fields[] = {
        V_REQ("algorithm", v_const, "ed25519"),
        V_REQ("key_id", v_token, NULL),
        V_REQ("signed_at", v_rfc3339, NULL),
        V_REQ("signature", v_nonempty, NULL),
        V_END,
};
const v_object v_signature = { signature_fields, NULL };

bool csc_is_absolute_path(const char *s) {
        if (!s)
                return false;
        if (s[0] == '/')
                return true;
        if (s[0] == '\\' && s[1] == '\\')
                return true;
        return ((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')) && s[1] == ':' &&
               (s[2] == '\\' || s[2] == '/');
}

bool csc_is_rfc3339(const char *s) {
        int64_t t;
        return csc_time_parse(s, &t) == 0;
}

bool csc_is_hex64(const char *s) {
        if (!s)
                return false;
        size_t i = 0;
        for (; s[i]; i++) {
                char c = s[i];
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
                        return false;
        }
        return i == 64;
}

size_t v_push_key(vctx *c, const char *key) {
        size_t old = c->depth;
        if (c->depth < V_PATH_DEPTH)
                c->seg[c->depth] = (v_seg) { key, 0 };
        c->depth++;
        return old;
}

size_t v_push_index(vctx *c, size_t i) {
        size_t old = c->depth;
        if (c->depth < V_PATH_DEPTH)
                c->seg[c->depth] = (v_seg) { NULL, i };
        c->depth++;
        return old;
}

void v_pop(vctx *c, size_t old_depth) {
        c->depth = old_depth;
}

void v_path(const vctx *c, char *out, size_t size) {
        size_t o = 0;
        out[0] = 0;
        for (size_t i = 0; i < c->depth && o + 1 < size; i++) {
                int n;
                if (i >= V_PATH_DEPTH)
                        n = snprintf(out + o, size - o, "...");
                else if (c->seg[i].key)
                        n = snprintf(out + o, size - o, "%s%s", o ? "." : "", c->seg[i].key);
                else
                        n = snprintf(out + o, size - o, "[%zu]", c->seg[i].index);
                if (n < 0 || i >= V_PATH_DEPTH)
                        break;
                o = o + (size_t)n < size ? o + (size_t)n : size - 1;
        }
}

int v_fail(vctx *c, const char *fmt, ...) {
        if (c->err) {
                v_path(c, c->err->path, sizeof c->err->path);
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(c->err->message, sizeof c->err->message, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

const char *v_quote(char *out, size_t size, const char *s, size_t len) {
        size_t o = 0;
        for (size_t i = 0; i < len && o + 8 < size; i++) {
                unsigned char ch = (unsigned char)s[i];
                if (o >= 64 && (ch & 0xC0) != 0x80) {
                        memcpy(out + o, "...", 3);
                        o += 3;
                        break;
                }
                if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\')
                        o += (size_t)snprintf(out + o, size - o, ch == '"' || ch == '\\' ? "\\%c" : "\\x%02x", ch);
                else
                        out[o++] = (char)ch;
        }
        out[o] = 0;
        return out;
}

static int want(vctx *c, const csc_json *v, csc_json_type t, const char *what) {
        if (v->type == t)
                return 0;
        return v_fail(c, "must be %s, not %s", what, csc_json_type_name(v->type));
}

static const v_field *find_field(const v_field *f, const char *key, size_t len) {
        for (; f->key; f++)
                if (f->key_len == len && f->key[0] == key[0] && memcmp(f->key, key, len) == 0)
                        return f;
        return NULL;
}

/* One pass over the members finds each one's field (unknown keys fail here, so
 * an object that passes has at most one member per field: the parser rejects
 * duplicate keys) and marks the fields seen; required fields are then a mask
 * test instead of a lookup each. */
int v_object_check(vctx *c, const csc_json *v, const void *arg) {
        const v_object *o = arg;
        int r = want(c, v, CSC_JSON_OBJECT, "an object");
        if (r < 0)
                return r;
        const v_field *found[V_FIELDS_MAX];
        uint64_t seen = 0;
        char q[V_QUOTE_MAX];
        for (size_t i = 0; i < v->object.count; i++) {
                const csc_json_member *m = &v->object.members[i];
                const v_field *f = find_field(o->fields, m->key, m->key_len);
                if (!f)
                        return v_fail(c, "unknown key \"%s\"", v_quote(q, sizeof q, m->key, m->key_len));
                size_t k = (size_t)(f - o->fields);
                if (k >= V_FIELDS_MAX || (seen & (UINT64_C(1) << k)) || i >= V_FIELDS_MAX)
                        return v_fail(c, "duplicate key \"%s\"", v_quote(q, sizeof q, m->key, m->key_len));
                seen |= UINT64_C(1) << k;
                found[i] = f;
        }
        for (size_t k = 0; o->fields[k].key; k++)
                if (o->fields[k].required && !(seen & (UINT64_C(1) << k)))
                        return v_fail(c, "missing required key \"%s\"", o->fields[k].key);
        if (o->rule && (r = o->rule(c, v)) < 0)
                return r;
        for (size_t i = 0; i < v->object.count; i++) {
                const v_field *f = found[i];
                size_t old = v_push_key(c, f->key);
                r = f->check ? f->check(c, v->object.members[i].value, f->arg) : 0;
                if (r < 0)
                        return r;
                v_pop(c, old);
        }
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        const csc_json *x = *(const csc_json *const *)a, *y = *(const csc_json *const *)b;
        size_t n = x->string.len < y->string.len ? x->string.len : y->string.len;
        int d = memcmp(x->string.ptr, y->string.ptr, n);
        return d ? d : (x->string.len > y->string.len) - (x->string.len < y->string.len);
}

int v_array_check(vctx *c, const csc_json *v, const void *arg) {
        const v_array *a = arg;
        int r = want(c, v, CSC_JSON_ARRAY, "an array");
        if (r < 0)
                return r;
        size_t n = v->array.count;
        if (n < a->min)
                return a->min == 1 ? v_fail(c, "must not be empty")
                                   : v_fail(c, "must have at least %zu items, has %zu", a->min, n);
        if (a->max && n > a->max)
                return v_fail(c, "must have at most %zu items, has %zu", a->max, n);
        for (size_t i = 0; i < n; i++) {
                size_t old = v_push_index(c, i);
                r = a->item(c, v->array.items[i], a->item_arg);
                if (r < 0)
                        return r;
                v_pop(c, old);
        }
        if (a->unique && n > 1) {
                const csc_json **s = malloc(n * sizeof *s);
                if (!s) {
                        char path[CSC_ERROR_PATH_MAX];
                        v_path(c, path, sizeof path);
                        return csc_error_set(c->err, -ENOMEM, path, "out of memory");
                }
                memcpy(s, v->array.items, n * sizeof *s);
                qsort(s, n, sizeof *s, cmp_str);
                for (size_t i = 1; i < n; i++)
                        if (cmp_str(&s[i - 1], &s[i]) == 0) {
                                char q[V_QUOTE_MAX];
                                v_quote(q, sizeof q, s[i]->string.ptr, s[i]->string.len);
                                free(s);
                                return v_fail(c, "items must be unique; \"%s\" appears more than once", q);
                        }
                free(s);
        }
        return 0;
}

int v_text(vctx *c, const csc_json *v, const void *arg) {
        const v_len *l = arg;
        int r = want(c, v, CSC_JSON_STRING, "a string");
        if (r < 0)
                return r;
        size_t n = csc_utf8_codepoints(v->string.ptr, v->string.len);
        if (n < l->min)
                return l->min == 1 ? v_fail(c, "must not be empty")
                                   : v_fail(c, "must be at least %zu characters, has %zu", l->min, n);
        if (l->max && n > l->max)
                return v_fail(c, "must be at most %zu characters, has %zu", l->max, n);
        return 0;
}

int v_nonempty(vctx *c, const csc_json *v, const void *arg) {
        (void)arg;
        int r = want(c, v, CSC_JSON_STRING, "a string");
        if (r < 0)
                return r;
        return v->string.len ? 0 : v_fail(c, "must not be empty");
}

int v_token(vctx *c, const csc_json *v, const void *arg) {
        int r = v_nonempty(c, v, arg);
        if (r < 0)
                return r;
        return memchr(v->string.ptr, 0, v->string.len) ? v_fail(c, "must not contain a NUL character") : 0;
}

int v_arg(vctx *c, const csc_json *v, const void *arg) {
        int r = v_token(c, v, arg);
        if (r < 0)
                return r;
        if (v->string.len > CSC_MAX_ARG_BYTES)
                return v_fail(c, "argv element is %zu bytes; the limit is %d", v->string.len, CSC_MAX_ARG_BYTES);
        return 0;
}

int v_const(vctx *c, const csc_json *v, const void *arg) {
        const char *want_s = arg;
        int r = want(c, v, CSC_JSON_STRING, "a string");
        if (r < 0)
                return r;
        if (v->string.len != strlen(want_s) || strcmp(v->string.ptr, want_s) != 0) {
                char q[V_QUOTE_MAX];
                return v_fail(c, "must be \"%s\", not \"%s\"", want_s, v_quote(q, sizeof q, v->string.ptr, v->string.len));
        }
        return 0;
}

int v_enum(vctx *c, const csc_json *v, const void *arg) {
        const char *const *e = arg;
        int r = want(c, v, CSC_JSON_STRING, "a string");
        if (r < 0)
                return r;
        for (size_t i = 0; e[i]; i++)
                if (v->string.len == strlen(e[i]) && strcmp(v->string.ptr, e[i]) == 0)
                        return 0;
        char list[256] = "", q[V_QUOTE_MAX];
        size_t o = 0;
        for (size_t i = 0; e[i] && o < sizeof list; i++)
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", e[i]);
        return v_fail(c, "must be one of %s, not \"%s\"", list, v_quote(q, sizeof q, v->string.ptr, v->string.len));
}

int v_int_check(vctx *c, const csc_json *v, const void *arg) {
        const v_int *l = arg;
        if (v->type == CSC_JSON_FLOAT)
                return v_fail(c, "must be an integer literal, not a number with a fraction or exponent");
        int r = want(c, v, CSC_JSON_INT, "an integer");
        if (r < 0)
                return r;
        if (v->integer.overflow)
                return v_fail(c, "integer %s is out of range", v->integer.text);
        if (v->integer.value < l->min)
                return v_fail(c, "must be at least %lld, is %lld", (long long)l->min, (long long)v->integer.value);
        if (v->integer.value > l->max)
                return v_fail(c, "must be at most %lld, is %lld", (long long)l->max, (long long)v->integer.value);
        return 0;
}

int v_bool(vctx *c, const csc_json *v, const void *arg) {
        (void)arg;
        return want(c, v, CSC_JSON_BOOL, "true or false");
}

static bool no_nul(const csc_json *v) {
        return !memchr(v->string.ptr, 0, v->string.len);
}

int v_hex64(vctx *c, const csc_json *v, const void *arg) {
        (void)arg;
        int r = want(c, v, CSC_JSON_STRING, "a string");
        if (r < 0)
                return r;
        return no_nul(v) && csc_is_hex64(v->string.ptr) ? 0 : v_fail(c, "must be 64 hex digits (a SHA-256 digest)");
}

int v_sha256_tag(vctx *c, const csc_json *v, const void *arg) {
        (void)arg;
        int r = want(c, v, CSC_JSON_STRING, "a string");
        if (r < 0)
                return r;
        if (!no_nul(v) || strncmp(v->string.ptr, "sha256:", 7) != 0 || !csc_is_hex64(v->string.ptr + 7))
                return v_fail(c, "must be \"sha256:\" followed by 64 hex digits");
        return 0;
}

int v_rfc3339(vctx *c, const csc_json *v, const void *arg) {
        (void)arg;
        int r = want(c, v, CSC_JSON_STRING, "a string");
        if (r < 0)
                return r;
        return no_nul(v) && csc_is_rfc3339(v->string.ptr)
                       ? 0
                       : v_fail(c, "must be an RFC 3339 date-time such as 2026-01-02T03:04:05Z");
}

int v_abs_path(vctx *c, const csc_json *v, const void *arg) {
        (void)arg;
        int r = want(c, v, CSC_JSON_STRING, "a string");
        if (r < 0)
                return r;
        if (!no_nul(v))
                return v_fail(c, "must not contain a NUL character");
        return csc_is_absolute_path(v->string.ptr) ? 0 : v_fail(c, "must be an absolute path");
}

int v_string_or_null(vctx *c, const csc_json *v, const void *arg) {
        (void)arg;
        if (v->type == CSC_JSON_NULL || v->type == CSC_JSON_STRING)
                return 0;
        return v_fail(c, "must be a string or null, not %s", csc_json_type_name(v->type));
}

int v_validate(const csc_json *root, const v_object *schema, csc_error *err) {
        vctx c = { .err = err };
        if (err)
                csc_error_clear(err);
        return v_object_check(&c, root, schema);
}
