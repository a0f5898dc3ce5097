/* validate_internal.h — the small table-driven schema walker behind validate.h.
 *
 * An object schema is a table of fields {key, required, check, arg}. The walk is
 * pre-order in document order: for each object its own key set first (unknown
 * keys in input order, then missing required keys in table order, then the
 * object's cross-key rule), then every member's value in input order. Arrays
 * check their item count first, then each item in order, then uniqueness.
 * The first problem found sets err (path + message) and ends the walk with
 * -EINVAL; -ENOMEM only from the uniqueness check's sort buffer.
 * Internal to libcsc's validate_*.c files. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "json.h"

/* The JSON path of the value being checked, kept as a stack of segments and
 * rendered only when a check fails (building it eagerly with snprintf for every
 * member was most of the cost of validating a valid contract). Schemas nest far
 * less than V_PATH_DEPTH; deeper segments are counted but rendered as "...". */
#define V_PATH_DEPTH 32
typedef struct v_seg {
        const char *key;      /* NULL: an array index */
        size_t index;
} v_seg;

typedef struct vctx {
        csc_error *err;
        v_seg seg[V_PATH_DEPTH];
        size_t depth;
} vctx;

/* A checker validates one value; arg is its parameter block (or NULL). */
typedef int (*v_check_fn)(vctx *c, const csc_json *v, const void *arg);

typedef struct v_field {
        const char *key;
        size_t key_len;       /* strlen(key), from the V_REQ/V_OPT literal */
        bool required;
        v_check_fn check;
        const void *arg;
} v_field;

typedef struct v_object {
        const v_field *fields;                         /* ends with { NULL } */
        int (*rule)(vctx *c, const csc_json *obj);     /* cross-key rule, or NULL */
} v_object;

typedef struct v_array {
        size_t min, max;            /* item count; max 0 = unbounded */
        bool unique;                /* string items only: no two equal */
        v_check_fn item;
        const void *item_arg;
} v_array;

typedef struct v_int { int64_t min, max; } v_int;     /* INT64_MIN/INT64_MAX = open */
typedef struct v_len { size_t min, max; } v_len;      /* code points; max 0 = unbounded */

#define V_REQ(k, fn, a) { ("" k), sizeof(k) - 1, true, (fn), (a) }
#define V_OPT(k, fn, a) { ("" k), sizeof(k) - 1, false, (fn), (a) }
#define V_END { NULL, 0, false, NULL, NULL }
/* An object schema has at most this many fields (a bit mask tracks the ones seen). */
#define V_FIELDS_MAX 64

/* Runs the object schema on root with an empty path, filling err. */
int v_validate(const csc_json *root, const v_object *schema, csc_error *err);

/* Path building: push returns the old depth to pass to v_pop. */
size_t v_push_key(vctx *c, const char *key);
size_t v_push_index(vctx *c, size_t i);
void v_pop(vctx *c, size_t old_depth);
/* Renders the current path ("commands[2].cwd", "" for the document) into out. */
void v_path(const vctx *c, char *out, size_t size);

/* Fails at the current path: sets err, returns -EINVAL. */
int v_fail(vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Quotes untrusted text for a message: control bytes as \xNN, cut at a code point
 * boundary after ~64 bytes with "...". Returns out. */
const char *v_quote(char *out, size_t size, const char *s, size_t len);
#define V_QUOTE_MAX 280

/* Checkers (arg in parentheses). */
int v_object_check(vctx *c, const csc_json *v, const void *arg);   /* (const v_object *) */
int v_array_check(vctx *c, const csc_json *v, const void *arg);    /* (const v_array *) */
int v_text(vctx *c, const csc_json *v, const void *arg);           /* code point length (const v_len *) */
int v_nonempty(vctx *c, const csc_json *v, const void *arg);       /* non-empty string (NULL) */
int v_token(vctx *c, const csc_json *v, const void *arg);          /* non-empty, no NUL (NULL) */
int v_arg(vctx *c, const csc_json *v, const void *arg);            /* argv element (NULL) */
int v_const(vctx *c, const csc_json *v, const void *arg);          /* (const char *) */
int v_enum(vctx *c, const csc_json *v, const void *arg);           /* (const char *const[], NULL-ended) */
int v_int_check(vctx *c, const csc_json *v, const void *arg);      /* (const v_int *) */
int v_bool(vctx *c, const csc_json *v, const void *arg);           /* (NULL) */
int v_hex64(vctx *c, const csc_json *v, const void *arg);          /* (NULL) */
int v_sha256_tag(vctx *c, const csc_json *v, const void *arg);     /* "sha256:" + hex64 (NULL) */
int v_rfc3339(vctx *c, const csc_json *v, const void *arg);        /* (NULL) */
int v_abs_path(vctx *c, const csc_json *v, const void *arg);       /* absolute, no NUL (NULL) */
int v_string_or_null(vctx *c, const csc_json *v, const void *arg); /* (NULL) */

/* Shared parameter blocks. */
extern const char *const v_effect_types[];     /* the six core effect types */
extern const char *const v_risk_classes[];
extern const char *const v_network_modes[];
extern const v_array v_abs_path_array;         /* any count of absolute paths */
extern const v_array v_abs_path_array1;        /* at least one */
extern const v_array v_token_array;            /* non-empty strings, no NUL */
extern const v_array v_token_set;              /* the same, unique */
extern const v_object v_signature;             /* {algorithm, key_id, signed_at, signature} */
