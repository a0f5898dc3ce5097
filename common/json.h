/* json.h — libcsc's JSON value tree: a strict RFC 8259 parser and a builder.
 *
 * Every value lives in the arena of a csc_json_doc and is freed with it.
 * Strictness (spec §8): duplicate keys in any object, nesting deeper than
 * CSC_JSON_MAX_DEPTH, invalid UTF-8, lone surrogate escapes, trailing data,
 * leading zeros, and non-finite numbers are errors. Integers and floats are
 * distinct types: `10` is INT, `10.0` and `1e1` are FLOAT. Strings carry their
 * length and may contain U+0000; they are also NUL-terminated for convenience.
 * Objects keep members in input order; canonical output sorts them. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"
#include "error.h"

typedef enum csc_json_type {
        CSC_JSON_NULL,
        CSC_JSON_BOOL,
        CSC_JSON_INT,
        CSC_JSON_FLOAT,
        CSC_JSON_STRING,
        CSC_JSON_ARRAY,
        CSC_JSON_OBJECT,
} csc_json_type;

typedef struct csc_json csc_json;
typedef struct csc_json_doc csc_json_doc;

typedef struct csc_json_member {
        const char *key;     /* NUL-terminated, valid UTF-8 */
        size_t key_len;
        csc_json *value;
} csc_json_member;

struct csc_json {
        csc_json_type type;
        union {
                bool boolean;
                struct {
                        int64_t value;      /* clamped when overflow */
                        bool overflow;      /* outside int64 range */
                        const char *text;   /* canonical decimal text ("-0" becomes "0") */
                } integer;
                double number;              /* CSC_JSON_FLOAT */
                struct {
                        const char *ptr;    /* NUL-terminated, may contain NULs */
                        size_t len;
                } string;
                struct {
                        csc_json **items;
                        size_t count;
                        size_t cap;
                } array;
                struct {
                        csc_json_member *members;
                        size_t count;
                        size_t cap;
                } object;
        };
};

/* Parses exactly one JSON value (surrounding whitespace allowed).
 * 0 on success; -EINVAL with err set ("invalid JSON at line L column C: ...",
 * "duplicate key \"k\"", "nesting deeper than 64") on bad input; -ENOMEM. */
int csc_json_parse(const char *text, size_t len, csc_json_doc **ret, csc_error *err);

csc_json_doc *csc_json_doc_new(void);                /* NULL on ENOMEM */
csc_json_doc *csc_json_doc_free(csc_json_doc *doc);  /* accepts NULL, returns NULL */
DEFINE_TRIVIAL_CLEANUP_FUNC(csc_json_doc *, csc_json_doc_free);
csc_json *csc_json_doc_root(const csc_json_doc *doc);
void csc_json_doc_set_root(csc_json_doc *doc, csc_json *root);

/* Builders: allocate in doc's arena; NULL only on ENOMEM. Strings are copied. */
csc_json *csc_json_new_null(csc_json_doc *doc);
csc_json *csc_json_new_bool(csc_json_doc *doc, bool b);
csc_json *csc_json_new_int(csc_json_doc *doc, int64_t v);
csc_json *csc_json_new_string(csc_json_doc *doc, const char *s);             /* NUL-terminated */
csc_json *csc_json_new_stringn(csc_json_doc *doc, const char *s, size_t len);
csc_json *csc_json_new_array(csc_json_doc *doc);
csc_json *csc_json_new_object(csc_json_doc *doc);
/* Deep copy of a value from any doc into doc. */
csc_json *csc_json_copy(csc_json_doc *doc, const csc_json *v);
int csc_json_array_append(csc_json_doc *doc, csc_json *array, csc_json *item);   /* 0/-ENOMEM */
/* Sets key (replacing an existing member of that key). 0/-ENOMEM. */
int csc_json_object_set(csc_json_doc *doc, csc_json *object, const char *key, csc_json *value);
/* Appends a member without looking for an existing one (parsers that check
 * duplicates themselves). 0/-ENOMEM. */
int csc_json_object_append(csc_json_doc *doc, csc_json *object, const char *key, size_t key_len, csc_json *value);
/* 1 with *ret_key set when two members share a key, 0 when none do, -ENOMEM. */
int csc_json_object_find_duplicate(const csc_json *object, const char **ret_key);
/* Removes key if present; returns true when it was there. */
bool csc_json_object_remove(csc_json *object, const char *key);
/* Arena allocation for callers that build typed views tied to the doc's lifetime. */
void *csc_json_doc_alloc(csc_json_doc *doc, size_t size);                       /* zeroed */
char *csc_json_doc_strdup(csc_json_doc *doc, const char *s);

/* Lookups; NULL when v is not an object/array or the member is absent. */
csc_json *csc_json_get(const csc_json *object, const char *key);
csc_json *csc_json_at(const csc_json *array, size_t i);
/* Convenience: the member's string (NULL if absent or not a string). */
const char *csc_json_get_str(const csc_json *object, const char *key);
const char *csc_json_type_name(csc_json_type t);   /* "string", "integer", ... */

/* UTF-8 helpers shared by parser, YAML loader and validators. */
bool csc_utf8_valid(const char *s, size_t len);               /* rejects surrogates, overlongs */
size_t csc_utf8_codepoints(const char *s, size_t len);        /* assumes valid UTF-8 */
/* True when none of the 8 bytes at s is a control character, '"', '\\' or >= 0x80:
 * the bytes a JSON string carries as they are (a word at a time, no alignment needed). */
static inline bool csc_json_plain8(const char *s) {
        const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
        uint64_t x, q, b;
        __builtin_memcpy(&x, s, 8);
        q = x ^ (ones * '"');
        b = x ^ (ones * '\\');
        return ((((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) | x) & high) == 0;
}
/* Length of the valid UTF-8 sequence that starts s (1 to 4), 0 when invalid. */
size_t csc_utf8_sequence(const char *s, size_t len);
