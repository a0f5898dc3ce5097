/* test-yaml.c — the strict YAML loader and the policy loading rules of spec §2. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "canon.h"
#include "policy.h"
#include "tap.h"
#include "yaml.h"

/* Parses text; on success compares canonical JSON with want_canon, on failure
 * checks the message contains want_error. */
static void yaml_is(const char *text, const char *want_canon, const char *want_error) {
        csc_json_doc *doc = NULL;
        csc_error err = { 0 };
        int r = csc_yaml_parse(text, strlen(text), &doc, &err);
        if (want_canon) {
                CHECK(r == 0, "parse %s: %s", text, err.message);
                if (r == 0) {
                        csc_buf b = CSC_BUF_INIT;
                        csc_canon_write(csc_json_doc_root(doc), &b);
                        CHECK(strcmp(b.data, want_canon) == 0, "%s -> %s, want %s", text, b.data, want_canon);
                        csc_buf_free(&b);
                }
        } else {
                CHECK(r == -EINVAL && strstr(err.message, want_error), "%s: want error '%s', got %d '%s'", text,
                      want_error, r, err.message);
        }
        csc_json_doc_free(doc);
}

static const char policy_yaml[] =
        "# comment\n"
        "policy_schema_version: csc.policy.v0.1\n"
        "name: t\n"
        "allow_commands: [ls, \"true\"]\n"
        "deny_argv_prefixes:\n  - [ls, -R]\n"
        "allowed_effect_types: [observe]\n"
        "allowed_risk_classes: [low]\n"
        "max_timeout_sec: 60\n"
        "network: deny\n"
        "allow_secret_refs: false\n"
        "allowed_cwd_prefixes: [/w]\n"
        "allowed_read_prefixes: [/w]\n";

static void policy_fails(const char *text, const char *want) {
        csc_policy *p = NULL;
        csc_error err = { 0 };
        int r = csc_policy_load_text(text, strlen(text), "<t>", &p, &err);
        char buf[CSC_ERROR_PATH_MAX + CSC_ERROR_MSG_MAX + 4];
        csc_error_str(&err, buf, sizeof buf);
        CHECK(r < 0 && strstr(buf, want), "policy %.40s...: want '%s', got %d '%s'", text, want, r, buf);
        csc_policy_free(p);
}

int main(void) {
        yaml_is("a: 1\nb: [x, 'y', \"z\"]\nc: {d: true, e: null, f: ~, g: }\n",
                "{\"a\":1,\"b\":[\"x\",\"y\",\"z\"],\"c\":{\"d\":true,\"e\":null,\"f\":null,\"g\":null}}", NULL);
        yaml_is("a: -5\nb: 1.5\nc: +3\nd: 1e3\n", "{\"a\":-5,\"b\":1.5,\"c\":3,\"d\":1000.0}", NULL);
        yaml_is("a: 1.2.3\nb: 0.0.0.0\nc: v1\nd: 'yes'\ne: \"0x10\"\n",
                "{\"a\":\"1.2.3\",\"b\":\"0.0.0.0\",\"c\":\"v1\",\"d\":\"yes\",\"e\":\"0x10\"}", NULL);
        yaml_is("k: \"caf\\u00e9 \\t\"\n", "{\"k\":\"café \\t\"}", NULL);
        yaml_is("", "null", NULL);
        yaml_is("- 1\n- - 2\n", "[1,[2]]", NULL);
        /* STRICTER rules. */
        yaml_is("a: 1\na: 2\n", NULL, "duplicate key \"a\"");
        yaml_is("x:\n  y: {k: 1, k: 2}\n", NULL, "duplicate key \"k\"");
        yaml_is("a: &x 1\nb: *x\n", NULL, "anchors are not allowed");
        yaml_is("a: *x\n", NULL, "invalid YAML");
        yaml_is("a: !!str 1\n", NULL, "tags are not allowed");
        yaml_is("a: !custom {}\n", NULL, "tags are not allowed");
        const char *bools[] = { "yes", "no", "on", "off", "y", "n", "Yes", "NO", "True", "FALSE", "On" };
        for (size_t i = 0; i < sizeof bools / sizeof *bools; i++) {
                char t[32];
                snprintf(t, sizeof t, "a: %s\n", bools[i]);
                yaml_is(t, NULL, "YAML 1.1 boolean");
        }
        const char *nums[] = { "0x1F", "0o17", "017", "1_000", ".inf", "-.inf", ".nan", "1:30", ".5", "5." };
        for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
                char t[32];
                snprintf(t, sizeof t, "a: %s\n", nums[i]);
                yaml_is(t, NULL, "ambiguous number");
        }
        yaml_is("a: 99999999999999999999\n", NULL, "out of range");
        yaml_is("? [a]\n: 1\n", NULL, "mapping keys must be strings");
        yaml_is("a: [1, 2\n", NULL, "invalid YAML");
        yaml_is("a: b: c\n", NULL, "invalid YAML");
        yaml_is("a: 1\n---\nb: 2\n", NULL, "only one document");
        yaml_is("a: \"\xff\"\n", NULL, "UTF-8");
        /* Nesting: 64 levels pass, 65 fail. */
        char deep[400] = "";
        for (int i = 0; i < 64; i++)
                strcat(deep, "[");
        for (int i = 0; i < 64; i++)
                strcat(deep, "]");
        csc_json_doc *d = NULL;
        CHECK(csc_yaml_parse(deep, strlen(deep), &d, NULL) == 0, "64 levels");
        csc_json_doc_free(d);
        char deeper[400] = "[";
        strcat(deeper, deep);
        strcat(deeper, "]");
        yaml_is(deeper, NULL, "nesting deeper than 64");

        /* Policy loading: YAML, JSON, errors in spec order with their words. */
        csc_policy *p = NULL;
        csc_error err = { 0 };
        CHECK(csc_policy_load_text(policy_yaml, sizeof policy_yaml - 1, "<t>", &p, &err) == 0, "policy: %s: %s", err.path, err.message);
        if (p) {
                CHECK(strcmp(p->name, "t") == 0 && p->allow_commands.n == 2 && strcmp(p->allow_commands.v[1], "true") == 0,
                      "typed view");
                CHECK(p->n_deny_argv_prefixes == 1 && p->deny_argv_prefix_lens[0] == 2 &&
                              strcmp(p->deny_argv_prefixes[0][1], "-R") == 0, "deny prefixes");
                CHECK(p->max_timeout_sec == 60 && p->network == CSC_NET_DENY && !p->allow_secret_refs &&
                              !p->require_write_paths_empty && p->allowed_write_prefixes.n == 0, "scalars and defaults");
                /* policy_sha256 ignores comments, formatting and key order. */
                const char json[] = "{\"name\":\"t\",\"policy_schema_version\":\"csc.policy.v0.1\",\"allow_commands\":[\"ls\",\"true\"],"
                                    "\"deny_argv_prefixes\":[[\"ls\",\"-R\"]],\"allowed_effect_types\":[\"observe\"],"
                                    "\"allowed_risk_classes\":[\"low\"],\"max_timeout_sec\":60,\"network\":\"deny\","
                                    "\"allow_secret_refs\":false,\"allowed_cwd_prefixes\":[\"/w\"],\"allowed_read_prefixes\":[\"/w\"]}";
                csc_policy *pj = NULL;
                CHECK(csc_policy_load_text(json, sizeof json - 1, "<j>", &pj, &err) == 0, "JSON policy: %s", err.message);
                CHECK(pj && strcmp(pj->sha256, p->sha256) == 0, "same policy_sha256 from YAML and JSON");
                csc_policy_free(pj);
        }
        csc_policy_free(p);
        CHECK(csc_policy_load_file("/nonexistent/policy.yaml", &p, &err) == -ENOENT && strstr(err.message, "failed to read"),
              "missing file: %s", err.message);
        policy_fails("a: [\n", "invalid YAML");
        policy_fails("a: 1\na: 2\n", "duplicate key");
        policy_fails("- a\n- b\n", "must contain a YAML mapping");
        policy_fails("just a string\n", "must contain a YAML mapping");
        policy_fails("", "must contain a YAML mapping");
        policy_fails("policy_schema_version: csc.policy.v0.1\n", "missing required key \"name\"");
        policy_fails("{\"a\":1,\"a\":2}", "duplicate key");
        char *big = malloc(600 * 1024);
        memset(big, '#', 600 * 1024 - 1);
        big[600 * 1024 - 1] = 0;
        policy_fails(big, "512 KiB");
        free(big);
        return tap_done("yaml");
}
