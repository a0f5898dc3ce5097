/* test-json.c — strict JSON parsing and canonical JSON known answers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "json.h"
#include "tap.h"

static int parse(const char *s, size_t len, csc_json_doc **doc, csc_error *err) {
        return csc_json_parse(s, len, doc, err);
}

static void reject(const char *s, size_t len, const char *needle) {
        csc_json_doc *doc = NULL;
        csc_error err = { 0 };
        int r = parse(s, len, &doc, &err);
        CHECK(r == -EINVAL, "input %.40s should be rejected, got %d", s, r);
        if (r == -EINVAL)
                CHECK(strstr(err.message, needle) != NULL, "error '%s' lacks '%s'", err.message, needle);
        csc_json_doc_free(doc);
}

static void canon_is(const char *in, size_t len, const char *want) {
        csc_json_doc *doc = NULL;
        csc_error err = { 0 };
        int r = parse(in, len, &doc, &err);
        CHECK(r == 0, "parse %.40s: %s", in, err.message);
        if (r < 0)
                return;
        csc_buf b = CSC_BUF_INIT;
        r = csc_canon_write(csc_json_doc_root(doc), &b);
        CHECK(r == 0 && strcmp(b.data, want) == 0, "canon of %.60s = %s, want %s", in, b.data, want);
        csc_buf_free(&b);
        csc_json_doc_free(doc);
}

#define REJECT(s, needle) reject(s, sizeof(s) - 1, needle)
#define CANON(s, want) canon_is(s, sizeof(s) - 1, want)

int main(void) {
        /* Syntax. */
        REJECT("", "unexpected end");
        REJECT("{", "expected a string key");
        REJECT("{\"a\":1", "expected ','");
        REJECT("{\"a\" 1}", "expected ':'");
        REJECT("[1,]", "unexpected character");
        REJECT("{\"a\":1,}", "expected a string key");
        REJECT("{'a':1}", "expected a string key");
        REJECT("{a:1}", "expected a string key");
        REJECT("01", "leading zero");
        REJECT("-", "bad number");
        REJECT("1.", "bad fraction");
        REJECT("1e", "bad exponent");
        REJECT("+1", "unexpected character");
        REJECT("NaN", "unexpected character");
        REJECT("1e400", "out of range");
        REJECT("tru", "unexpected character");
        REJECT("{} {}", "trailing data");
        REJECT("[1] x", "trailing data");
        REJECT("\"abc", "unterminated");
        REJECT("\"a\tb\"", "control character");
        REJECT("\"\\x\"", "unknown escape");
        REJECT("\"\\u12\"", "bad \\u escape");
        REJECT("\"\\ud800\"", "lone high surrogate");
        REJECT("\"\\udc00\"", "lone low surrogate");
        REJECT("\"\\ud800\\u0041\"", "lone high surrogate");
        REJECT("\"\xff\"", "invalid UTF-8");
        REJECT("\"\xc0\xaf\"", "invalid UTF-8");           /* overlong '/' */
        REJECT("\"\xed\xa0\x80\"", "invalid UTF-8");       /* encoded surrogate */
        REJECT("\"\xf4\x90\x80\x80\"", "invalid UTF-8");   /* > U+10FFFF */
        REJECT("\"\xe2\x82\"", "invalid UTF-8");           /* truncated */
        REJECT("{\"a\":1,\"a\":2}", "duplicate key \"a\"");
        REJECT("{\"x\":{\"b\":1,\"c\":{\"d\":[{\"k\":1,\"k\":1}]}}}", "duplicate key \"k\"");
        REJECT("\"a\0b\"", "control character");

        /* Duplicate detection in large objects (sorted path). */
        {
                csc_buf b = CSC_BUF_INIT;
                csc_buf_putc(&b, '{');
                for (int i = 0; i < 1000; i++)
                        csc_buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
                csc_buf_puts(&b, ",\"k500\":0}");
                reject(b.data, b.len, "duplicate key \"k500\"");
                csc_buf_free(&b);
        }
        /* Depth: 64 passes, 65 fails, 10000 fails without crashing. */
        for (int depth = 63; depth <= 65; depth++) {
                char s[200] = { 0 };
                for (int i = 0; i < depth; i++)
                        s[i] = '[';
                for (int i = 0; i < depth; i++)
                        s[depth + i] = ']';
                csc_json_doc *doc = NULL;
                int r = parse(s, strlen(s), &doc, NULL);
                CHECK((depth <= 64) == (r == 0), "depth %d gave %d", depth, r);
                csc_json_doc_free(doc);
        }
        {
                size_t n = 10000;
                char *s = malloc(2 * n);
                memset(s, '[', n);
                memset(s + n, ']', n);
                reject(s, 2 * n, "nesting deeper than 64");
                memset(s, '{', n);
                reject(s, n, "expected a string key");
                free(s);
        }

        /* Types stay distinct. */
        {
                csc_json_doc *doc = NULL;
                const char *s = "[10, 10.0, 1e1, \"10\", true, null, -0, 9223372036854775807, "
                                "-9223372036854775808, 9223372036854775808, 123456789012345678901234567890]";
                CHECK(parse(s, strlen(s), &doc, NULL) == 0, "typed array parses");
                const csc_json *a = csc_json_doc_root(doc);
                CHECK(a->array.items[0]->type == CSC_JSON_INT && a->array.items[0]->integer.value == 10, "10 is int");
                CHECK(a->array.items[1]->type == CSC_JSON_FLOAT, "10.0 is float");
                CHECK(a->array.items[2]->type == CSC_JSON_FLOAT, "1e1 is float");
                CHECK(a->array.items[3]->type == CSC_JSON_STRING, "\"10\" is string");
                CHECK(a->array.items[4]->type == CSC_JSON_BOOL, "true is bool");
                CHECK(a->array.items[5]->type == CSC_JSON_NULL, "null");
                CHECK(strcmp(a->array.items[6]->integer.text, "0") == 0, "-0 canonical text 0");
                CHECK(!a->array.items[7]->integer.overflow && a->array.items[7]->integer.value == INT64_MAX, "max");
                CHECK(!a->array.items[8]->integer.overflow && a->array.items[8]->integer.value == INT64_MIN, "min");
                CHECK(a->array.items[9]->integer.overflow, "max+1 overflows");
                CHECK(a->array.items[10]->integer.overflow, "huge overflows");
                csc_json_doc_free(doc);
        }

        /* Canonical form: python3 -c 'import json; print(json.dumps(v, sort_keys=True,
         * separators=(",",":"), ensure_ascii=False))' gave each expected string. */
        CANON(" { \"b\" : 1 , \"a\" : [ true , false , null ] } ", "{\"a\":[true,false,null],\"b\":1}");
        CANON("{\"\\u00e9\":1,\"z\":2,\"\\ud83d\\ude00\":3,\"Z\":4,\"\\u0000\":5}",
              "{\"\\u0000\":5,\"Z\":4,\"z\":2,\"\xc3\xa9\":1,\"\xf0\x9f\x98\x80\":3}");
        CANON("\"\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\\\/\\u007f\\u2028\"",
              "\"\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\x7f\xe2\x80\xa8\"");
        CANON("\"\\u0000\"", "\"\\u0000\"");
        CANON("[1.0, 0.5, -0.0, 1e16, 1e15, 0.0001, 0.00001, 123.456, 1e-7, 2.5e+20, 1E2, 3.14159265358979]",
              "[1.0,0.5,-0.0,1e+16,1000000000000000.0,0.0001,1e-05,123.456,1e-07,2.5e+20,100.0,3.14159265358979]");
        CANON("[0.1, 1.7976931348623157e308, 5e-324, 123456789012345678]",
              "[0.1,1.7976931348623157e+308,5e-324,123456789012345678]");
        CANON("[-0, 123456789012345678901234567890]", "[0,123456789012345678901234567890]");
        CANON("{\"b\":{\"y\":1,\"x\":2},\"a\":{}}", "{\"a\":{},\"b\":{\"x\":2,\"y\":1}}");

        /* Builder round trip and replace semantics. */
        {
                csc_json_doc *doc = csc_json_doc_new();
                csc_json *o = csc_json_new_object(doc);
                csc_json_object_set(doc, o, "k", csc_json_new_int(doc, 1));
                csc_json_object_set(doc, o, "k", csc_json_new_stringn(doc, "a\0b", 3));
                csc_json_object_set(doc, o, "a", csc_json_new_bool(doc, true));
                csc_buf b = CSC_BUF_INIT;
                CHECK(csc_canon_write(o, &b) == 0 && strcmp(b.data, "{\"a\":true,\"k\":\"a\\u0000b\"}") == 0,
                      "builder canon %s", b.data);
                CHECK(csc_json_object_remove(o, "a") && !csc_json_get(o, "a"), "remove");
                csc_buf_free(&b);
                csc_json *bad = csc_json_new_stringn(doc, "\xff", 1);
                CHECK(csc_canon_write(bad, &b) == -EINVAL, "invalid UTF-8 in built string refused");
                csc_buf_free(&b);
                char hex[65];
                CHECK(csc_canon_sha256_hex(csc_json_new_object(doc), hex) == 0 &&
                      strcmp(hex, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a") == 0,
                      "sha256 of {} = %s", hex);
                csc_json_doc_free(doc);
        }
        return tap_done("json");
}
