/* test-canon-stream.c — contract_sha256 and canonical hashing streamed into
 * SHA-256 (no canonical buffer, expected_outputs merged while streaming, no
 * document copy) against known answers from the reference's Python
 * json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False), and
 * the validator's JSON paths, which are now rendered only on failure. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "canon.h"
#include "contract.h"
#include "json.h"
#include "tap.h"
#include "validate.h"

typedef struct vector {
        const char *name;
        const char *text;
        const char *contract_sha256;   /* Python: with expected_outputs [] added when absent */
} vector;

/* Generated with Python 3 from the texts below (see the file comment). */
static const vector vectors[] = {
        { "bench contract, no expected_outputs",
          "{\"version\":\"csc.v0.1\",\"contract_id\":\"bench-contract-0001\",\"intent\":\"show repository status\",\"actor\":{\"agent_id\":\"agent-7\",\"session_id\":\"sess-42\",\"initiating_user\":\"alice\",\"delegation_scope\":\"repo-maintainer\"},\"commands\":[{\"id\":\"cmd_1\",\"exec\":{\"argv\":[\"git\",\"status\",\"--porcelain\"]},\"cwd\":\"/workspace/app\",\"read_paths\":[\"/workspace/app\",\"/workspace/app/src/**\"],\"write_paths\":[],\"network\":\"deny\",\"env_allow\":[\"HOME\",\"LANG\"],\"secret_refs\":[],\"timeout_sec\":30,\"proposed_effect_type\":\"observe\"}],\"risk_class\":\"low\",\"approval_mode\":\"policy_only\",\"justification\":\"the agent needs to know which files changed before proposing a commit\"}",
          "3382c274f8aec72f3cce8bbf75971997c6edb5030a2c467a290ab903726d3dc2" },
        { "with expected_outputs",
          "{\"version\": \"csc.v0.1\", \"contract_id\": \"bench-contract-0001\", \"intent\": \"show repository status\", \"actor\": {\"agent_id\": \"agent-7\", \"session_id\": \"sess-42\", \"initiating_user\": \"alice\", \"delegation_scope\": \"repo-maintainer\"}, \"commands\": [{\"id\": \"cmd_1\", \"exec\": {\"argv\": [\"git\", \"status\", \"--porcelain\"]}, \"cwd\": \"/workspace/app\", \"read_paths\": [\"/workspace/app\", \"/workspace/app/src/**\"], \"write_paths\": [], \"network\": \"deny\", \"env_allow\": [\"HOME\", \"LANG\"], \"secret_refs\": [], \"timeout_sec\": 30, \"proposed_effect_type\": \"observe\"}], \"risk_class\": \"low\", \"approval_mode\": \"policy_only\", \"justification\": \"the agent needs to know which files changed before proposing a commit\", \"expected_outputs\": [\"/out/a\", \"/out/\303\251\"]}",
          "6b61ce47803f2a3d101e897b5fe4c785d4bda6c61d8cd3fe235b7914f2cf3514" },
        { "explicit empty expected_outputs",
          "{\"version\": \"csc.v0.1\", \"contract_id\": \"bench-contract-0001\", \"intent\": \"show repository status\", \"actor\": {\"agent_id\": \"agent-7\", \"session_id\": \"sess-42\", \"initiating_user\": \"alice\", \"delegation_scope\": \"repo-maintainer\"}, \"commands\": [{\"id\": \"cmd_1\", \"exec\": {\"argv\": [\"git\", \"status\", \"--porcelain\"]}, \"cwd\": \"/workspace/app\", \"read_paths\": [\"/workspace/app\", \"/workspace/app/src/**\"], \"write_paths\": [], \"network\": \"deny\", \"env_allow\": [\"HOME\", \"LANG\"], \"secret_refs\": [], \"timeout_sec\": 30, \"proposed_effect_type\": \"observe\"}], \"risk_class\": \"low\", \"approval_mode\": \"policy_only\", \"justification\": \"the agent needs to know which files changed before proposing a commit\", \"expected_outputs\": []}",
          "3382c274f8aec72f3cce8bbf75971997c6edb5030a2c467a290ab903726d3dc2" },
        { "keys around expected_outputs, non-ASCII, empty, NUL",
          "{\"\303\251\": 1, \"\346\227\245\346\234\254\": \"\350\252\236\", \"\177\": null, \"Z\": true, \"expected_outputr\": false, \"expected_outputs_x\": [], \"\": \"empty key\", \"a\\u0000b\": \"nul in key\", \"\360\237\230\200\": {\"z\": 1, \"a\": 2}, \"expected\": 0, \"f\": 1.5}",
          "a212599171f0f0637918f2def464805a072e1734e90e05f34a3a49db5994fc2a" },
        { "control characters and escapes",
          "{\"s\": \"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\\u007f\\\"\\\\/\\u2028\\u2029\\u00e9\\ud83d\\ude00\", \"t\": \"tab\\there\\nnl\\rcr\\bbs\\fff\"}",
          "7180dff016530f92c359d4b5852507594ddae084037585d008aa11d8cadada3b" },
        { "integers and floats",
          "{\"i\": [0, 0, 1, -1, 9223372036854775807, -9223372036854775808, 123456789012345678901234567890], \"f\": [1.5, -0.0, 0.0, 1e+300, 1e-07, 1e+16, 1000000000000000.0, 0.1, 123.456, -2.5e-05, 1e+22, 5e-324]}",
          "7962614df3d2d52d8c423b75401ec083783504474e05a5826f581306e0268a09" },
        { "nesting at the depth limit (64)",
          "{\"deep\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"leaf\"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
          "ec7f606647b407a70be0838a4c170002527aa38835dc2a8fbc2579dc7740d480" },
};

/* The hash streamed into SHA-256 equals SHA-256 of the buffered canonical form. */
static void stream_equals_buffer(const csc_json *v, const char *name) {
        csc_buf b = CSC_BUF_INIT;
        char streamed[65], buffered[65];
        int r = csc_canon_write(v, &b);
        CHECK(r == 0, "%s: canon_write %d", name, r);
        csc_sha256_hex(b.data, b.len, buffered);
        CHECK(csc_canon_sha256_hex(v, streamed) == 0 && strcmp(streamed, buffered) == 0,
              "%s: streamed %s, buffered %s", name, streamed, buffered);
        csc_buf_free(&b);
}

static void check_vector(const char *name, const char *text, size_t len, const char *want) {
        csc_json_doc *doc = NULL;
        csc_error err = { 0 };
        int r = csc_json_parse(text, len, &doc, &err);
        CHECK(r == 0, "%s: parse: %s", name, err.message);
        if (r < 0)
                return;
        const csc_json *root = csc_json_doc_root(doc);
        char hex[65] = "";
        r = csc_contract_sha256(root, hex);
        CHECK(r == 0 && strcmp(hex, want) == 0, "%s: contract_sha256 %d %s, want %s", name, r, hex, want);
        stream_equals_buffer(root, name);
        /* The merged member gives what a copy with the member appended gives. */
        if (!csc_json_get(root, "expected_outputs")) {
                csc_json *copy = csc_json_copy(doc, root);
                CHECK(copy && csc_json_object_set(doc, copy, "expected_outputs", csc_json_new_array(doc)) == 0,
                      "%s: copy", name);
                char hex2[65] = "";
                CHECK(csc_canon_sha256_hex(copy, hex2) == 0 && strcmp(hex2, want) == 0,
                      "%s: explicit copy hashes to %s, want %s", name, hex2, want);
        }
        csc_json_doc_free(doc);
}

/* Strings longer than the staging buffer, built here rather than spelled out. */
static void check_long_strings(void) {
        csc_buf t = CSC_BUF_INIT;
        csc_buf_puts(&t, "{\"big\":\"");
        for (int i = 0; i < 3000; i++)
                csc_buf_putc(&t, 'x');
        for (int i = 0; i < 700; i++)
                csc_buf_puts(&t, "\xc3\xa9");
        csc_buf_puts(&t, "\",\"mid\":\"");
        for (int i = 0; i < 1020; i++)
                csc_buf_putc(&t, 'y');
        csc_buf_puts(&t, "\",\"esc\":\"");
        for (int i = 0; i < 400; i++)
                csc_buf_puts(&t, "\\u0001");
        csc_buf_puts(&t, "\"}");
        check_vector("strings longer than the staging buffer", t.data, t.len,
                     "2f47082663f6fd06b6f5eb3ab4b9cfb2f4835e1fbc1731e1094157c3a65f6163");
        csc_buf_free(&t);
}

/* Random trees (fixed seed): streaming and buffering agree at every size, so
 * the staging buffer's flush points never change the bytes hashed. */
static csc_json *random_value(csc_json_doc *doc, unsigned *seed, int depth) {
        static const char *const pieces[] = { "a", "\xc3\xa9", "\n", "\"", "\\", "\x01", "\xe6\x97\xa5", "z", "\x7f", "\xf0\x9f\x98\x80" };
        int kind = depth > 4 ? rand_r(seed) % 4 : rand_r(seed) % 6;
        char s[64];
        size_t n = 0;
        switch (kind) {
        case 0:
                return csc_json_new_int(doc, (int64_t) rand_r(seed) - RAND_MAX / 2);
        case 1:
                return csc_json_new_bool(doc, rand_r(seed) & 1);
        case 2:
                return csc_json_new_null(doc);
        case 3:
                for (int i = rand_r(seed) % 12; i > 0; i--) {
                        const char *p = pieces[rand_r(seed) % 10];
                        memcpy(s + n, p, strlen(p));
                        n += strlen(p);
                }
                return csc_json_new_stringn(doc, s, n);
        case 4: {
                csc_json *a = csc_json_new_array(doc);
                for (int i = rand_r(seed) % 6; i > 0; i--)
                        csc_json_array_append(doc, a, random_value(doc, seed, depth + 1));
                return a;
        }
        default: {
                csc_json *o = csc_json_new_object(doc);
                for (int i = rand_r(seed) % 8; i > 0; i--) {
                        char k[8] = { 0 };
                        for (int j = 0; j < 1 + rand_r(seed) % 3; j++)
                                k[j] = (char) ("abeEx_"[rand_r(seed) % 6]);
                        csc_json_object_set(doc, o, k, random_value(doc, seed, depth + 1));
                }
                return o;
        }
        }
}

static void check_random(void) {
        unsigned seed = 12;
        for (int i = 0; i < 300; i++) {
                csc_json_doc *doc = csc_json_doc_new();
                csc_json *o = csc_json_new_object(doc);
                for (int j = rand_r(&seed) % 40; j > 0; j--) {
                        char k[24];
                        snprintf(k, sizeof k, "k%d\xc3\xa9%d", rand_r(&seed) % 1000, j);
                        csc_json_object_set(doc, o, k, random_value(doc, &seed, 1));
                }
                char name[32];
                snprintf(name, sizeof name, "random %d", i);
                stream_equals_buffer(o, name);
                csc_json_doc_free(doc);
        }
}

static void check_errors(void) {
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = csc_json_new_object(doc);
        csc_json_object_set(doc, o, "expected_outputs", csc_json_new_array(doc));
        csc_json_member m = { "expected_outputs", strlen("expected_outputs"), csc_json_new_array(doc) };
        char hex[65];
        CHECK(csc_canon_sha256_hex_with(o, &m, hex) == -EINVAL, "an extra member already present is a duplicate");
        CHECK(csc_canon_sha256_hex_with(csc_json_new_array(doc), &m, hex) == -EINVAL, "extra member on a non-object");
        csc_json *bad = csc_json_new_object(doc);
        csc_json_object_set(doc, bad, "k", csc_json_new_stringn(doc, "a\xc3", 2));
        CHECK(csc_canon_sha256_hex(bad, hex) == -EINVAL, "invalid UTF-8 in a built string is refused when hashing");
        CHECK(csc_contract_sha256(bad, hex) == -EINVAL, "invalid UTF-8 in a built string is refused by contract_sha256");
        csc_json *badkey = csc_json_new_object(doc);
        csc_json_object_set(doc, badkey, "\xed\xa0\x80", csc_json_new_null(doc));
        CHECK(csc_canon_sha256_hex(badkey, hex) == -EINVAL, "a surrogate in a built key is refused");
        csc_json *dup = csc_json_new_object(doc);
        csc_json_object_append(doc, dup, "a", 1, csc_json_new_null(doc));
        csc_json_object_append(doc, dup, "a", 1, csc_json_new_null(doc));
        CHECK(csc_canon_sha256_hex(dup, hex) == -EINVAL, "duplicate keys in a built object are refused");
        csc_json_doc_free(doc);
}

/* Deeper than the limit is refused by the parser, so the limit is what hashing sees. */
static void check_depth_limit(void) {
        char text[200];
        size_t n = 0;
        for (int i = 0; i < 65; i++)
                text[n++] = '[';
        for (int i = 0; i < 65; i++)
                text[n++] = ']';
        csc_json_doc *doc = NULL;
        CHECK(csc_json_parse(text, n, &doc, NULL) == -EINVAL, "65 levels refused");
        csc_json_doc_free(doc);
}

/* The validator's error paths, now rendered from a segment stack on failure. */
static void path_is(const char *patch_from, const char *patch_to, const char *want_path, const char *want_msg) {
        const char *base = vectors[0].text;
        const char *at = strstr(base, patch_from);
        CHECK(at != NULL, "patch %s", patch_from);
        if (!at)
                return;
        csc_buf t = CSC_BUF_INIT;
        csc_buf_append(&t, base, (size_t) (at - base));
        csc_buf_puts(&t, patch_to);
        csc_buf_puts(&t, at + strlen(patch_from));
        csc_contract *c = NULL;
        csc_error err = { 0 };
        int r = csc_contract_parse(t.data, t.len, &c, &err);
        CHECK(r == -EINVAL && strcmp(err.path, want_path) == 0 && strstr(err.message, want_msg),
              "%s: got %d path '%s' message '%s'", want_path, r, err.path, err.message);
        csc_contract_free(c);
        csc_buf_free(&t);
}

static void check_paths(void) {
        path_is("\"/workspace/app/src/**\"", "\"rel\"", "commands[0].read_paths[1]", "must be an absolute path");
        path_is("\"agent_id\":\"agent-7\"", "\"agent_id\":\"\"", "actor.agent_id", "must not be empty");
        path_is("\"--porcelain\"", "7", "commands[0].exec.argv[2]", "must be a string, not integer");
        path_is("\"timeout_sec\":30", "\"timeout_sec\":30,\"bogus\":1", "commands[0]", "unknown key \"bogus\"");
        path_is("\"cwd\":\"/workspace/app\",", "", "commands[0]", "missing required key \"cwd\"");
        path_is("\"intent\":\"show repository status\",", "", "", "missing required key \"intent\"");
        path_is("\"exec\":{\"argv\":[\"git\",\"status\",\"--porcelain\"]}",
                "\"pipeline\":{\"segments\":[{\"argv\":[\"a\"]},{\"argv\":[]}]}",
                "commands[0].pipeline.segments[1].argv", "must not be empty");
        path_is("\"exec\":{\"argv\":[\"git\",\"status\",\"--porcelain\"]}",
                "\"exec\":{\"argv\":[\"git\"]},\"pipeline\":{\"segments\":[{\"argv\":[\"a\"]},{\"argv\":[\"b\"]}]}",
                "commands[0]", "exactly one of");
        path_is("{\"id\":\"cmd_1\"", "{\"id\":\"cmd_1\",\"exec\":{\"argv\":[\"x\"]},\"cwd\":\"/\",\"read_paths\":[],"
                "\"write_paths\":[],\"network\":\"deny\",\"env_allow\":[],\"secret_refs\":[],\"timeout_sec\":1,"
                "\"proposed_effect_type\":\"observe\"},{\"id\":\"cmd_1\"",
                "commands[1].id", "duplicate command id");
}

/* The word-at-a-time scans (canonical writer and parser) find a byte that needs
 * attention at every position of a word, and let everything else through. */
static void reference_escape(const char *in, size_t len, csc_buf *out) {
        csc_buf_putc(out, '"');
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) in[i];
                const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                              : c == '\t' ? "\\t" : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
                if (e)
                        csc_buf_puts(out, e);
                else if (c < 0x20)
                        csc_buf_printf(out, "\\u%04x", c);
                else
                        csc_buf_putc(out, (char) c);
        }
        csc_buf_putc(out, '"');
}

static void check_word_scans(void) {
        static const char *const specials[] = { "\x01", "\x1f", "\"", "\\", "\n", " ", "\x7f", "~",
                                                "\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x98\x80" };
        csc_json_doc *doc = csc_json_doc_new();
        for (size_t sp = 0; sp < sizeof specials / sizeof specials[0]; sp++)
                for (size_t len = 1; len <= 24; len++)
                        for (size_t at = 0; at < len; at++) {
                                char in[40];
                                size_t n = 0;
                                for (size_t i = 0; i < len; i++) {
                                        const char *p = i == at ? specials[sp] : "a";
                                        memcpy(in + n, p, strlen(p));
                                        n += strlen(p);
                                }
                                csc_buf want = CSC_BUF_INIT, got = CSC_BUF_INIT;
                                reference_escape(in, n, &want);
                                int r = csc_canon_write(csc_json_new_stringn(doc, in, n), &got);
                                CHECK(r == 0 && got.len == want.len && memcmp(got.data, want.data, want.len) == 0,
                                      "special %zu at %zu of %zu: %s, want %s", sp, at, len, got.data, want.data);
                                /* The parser: raw control bytes refused, the rest read back. */
                                csc_json_doc *pd = NULL;
                                r = csc_json_parse(want.data, want.len, &pd, NULL);
                                const csc_json *v = csc_json_doc_root(pd);
                                CHECK(r == 0 && v && v->string.len == n && memcmp(v->string.ptr, in, n) == 0,
                                      "parse back special %zu at %zu of %zu", sp, at, len);
                                pd = csc_json_doc_free(pd);
                                if ((unsigned char) specials[sp][0] < 0x20) {
                                        csc_buf raw = CSC_BUF_INIT;
                                        csc_buf_putc(&raw, '"');
                                        csc_buf_append(&raw, in, n);
                                        csc_buf_putc(&raw, '"');
                                        CHECK(csc_json_parse(raw.data, raw.len, &pd, NULL) == -EINVAL,
                                              "raw control byte at %zu of %zu accepted", at, len);
                                        csc_json_doc_free(pd);
                                        csc_buf_free(&raw);
                                }
                                csc_buf_free(&want);
                                csc_buf_free(&got);
                        }
        /* A broken UTF-8 sequence anywhere in a word is refused by both. */
        for (size_t len = 1; len <= 24; len++)
                for (size_t at = 0; at < len; at++) {
                        char in[40];
                        memset(in, 'a', len);
                        in[at] = (char) 0x80;
                        char hex[65];
                        CHECK(csc_canon_sha256_hex(csc_json_new_stringn(doc, in, len), hex) == -EINVAL,
                              "lone continuation byte at %zu of %zu hashed", at, len);
                        char text[44];
                        text[0] = '"';
                        memcpy(text + 1, in, len);
                        text[len + 1] = '"';
                        csc_json_doc *pd = NULL;
                        CHECK(csc_json_parse(text, len + 2, &pd, NULL) == -EINVAL,
                              "lone continuation byte at %zu of %zu parsed", at, len);
                        csc_json_doc_free(pd);
                }
        csc_json_doc_free(doc);
}

int main(void) {
        if (sodium_init() < 0)
                return 1;
        for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
                check_vector(vectors[i].name, vectors[i].text, strlen(vectors[i].text), vectors[i].contract_sha256);
        /* Absent and explicitly empty expected_outputs hash the same (spec §4). */
        CHECK(strcmp(vectors[0].contract_sha256, vectors[2].contract_sha256) == 0, "absent == empty");
        check_long_strings();
        check_random();
        check_errors();
        check_depth_limit();
        check_paths();
        check_word_scans();
        return tap_done("canon-stream");
}
