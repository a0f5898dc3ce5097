/* test-sandbox-gates.c — the daemon's pure pre-sandbox checks, without root:
 * which client variables may reach a command (env_policy.c), declared paths
 * in the sandbox's private /tmp and /dev/shm (private_paths.c), and the
 * program an argv[0] runs (exec_path.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "contract.h"
#include "env_policy.h"
#include "exec_path.h"
#include "json.h"
#include "private_paths.h"
#include "tap.h"
#include "unit_contract.h"

/* A one-command contract with the given env_allow, read and write path JSON arrays. */
static csc_contract *contract_with(const char *env, const char *reads, const char *writes) {
        char text[2048];
        snprintf(text, sizeof text,
                 "{\"version\":\"csc.v0.1\",\"contract_id\":\"unit-0001\",\"intent\":\"t\",\"justification\":\"t\","
                 "\"actor\":{\"agent_id\":\"a\",\"session_id\":\"s\",\"initiating_user\":\"u\",\"delegation_scope\":\"d\"},"
                 "\"risk_class\":\"low\",\"approval_mode\":\"policy_only\",\"commands\":[{\"id\":\"c1\",\"cwd\":\"/\","
                 "\"read_paths\":%s,\"write_paths\":%s,\"network\":\"deny\",\"env_allow\":%s,\"secret_refs\":[],"
                 "\"timeout_sec\":5,\"proposed_effect_type\":\"observe\",\"exec\":{\"argv\":[\"true\"]}}]}",
                 reads, writes, env);
        return unit_contract(text);
}

static void env_cases(void) {
        cscd_config *cfg = NULL;
        CHECK(cscd_config_defaults(&cfg) == 0, "defaults");
        static const struct { const char *env; int want; const char *names; } cases[] = {
                { "[]", 0, NULL },
                { "[\"FOO\"]", 1, "'FOO'" },          /* default allowlist is empty */
                { "[\"PATH\"]", 1, "'PATH'" },
                { "[\"LC_ALL\"]", 1, "'LC_ALL'" },
                { "[\"LD_PRELOAD\"]", 1, "'LD_PRELOAD'" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                csc_contract *c = contract_with(cases[i].env, "[]", "[]");
                char why[512] = "";
                int r = c ? env_gate(cfg, c, why, sizeof why) : -1;
                CHECK(r == cases[i].want && (!cases[i].names || strstr(why, cases[i].names)), "env %s: %d '%s'",
                      cases[i].env, r, why);
                csc_contract_free(c);
        }
        cscd_config_free(cfg);
        cfg = NULL;
        const char conf[] = "allow_env_names: [FOO, CARGO_HOME]\n";
        csc_error err = { 0 };
        CHECK(cscd_config_load_text(conf, sizeof conf - 1, &cfg, &err) == 0, "allowlist loads: %s", err.message);
        csc_contract *c = contract_with("[\"FOO\", \"CARGO_HOME\"]", "[]", "[]");
        char why[512] = "";
        CHECK(c && env_gate(cfg, c, why, sizeof why) == 0, "allowed names pass: %s", why);
        CHECK(env_name_passes(cfg, "FOO") && !env_name_passes(cfg, "BAR") && !env_name_passes(cfg, "PATH"), "passes");
        csc_contract_free(c);
        cscd_config_free(cfg);
        static const char *const refused[] = { "PATH", "HOME", "TMPDIR", "LANG", "LC_CTYPE", "LD_PRELOAD",
                                               "GLIBC_TUNABLES", "GCONV_PATH", "MALLOC_ARENA_MAX", "1BAD", "A-B" };
        for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
                char text[128];
                snprintf(text, sizeof text, "allow_env_names: [\"%s\"]\n", refused[i]);
                cfg = NULL;
                err = (csc_error){ 0 };
                CHECK(cscd_config_load_text(text, strlen(text), &cfg, &err) < 0 &&
                              strcmp(err.path, "allow_env_names") == 0 && strstr(err.message, refused[i]),
                      "config refuses %s: '%s' '%s'", refused[i], err.path, err.message);
                cscd_config_free(cfg);
        }
}

static void private_path_cases(void) {
        static const struct { const char *reads, *writes; int want; const char *names; } cases[] = {
                { "[\"/srv/app\"]", "[\"/srv/app/out\"]", 0, NULL },
                { "[\"/tmp\"]", "[]", 1, "private /tmp" },
                { "[\"/tmp/\"]", "[]", 1, "private /tmp" },
                { "[\"/tmp//x/./\"]", "[]", 1, "private /tmp" },
                { "[\"//tmp/x\"]", "[]", 0, NULL },   /* a UNC path (spec §3): never bound on Linux */
                { "[]", "[\"/tmp/build\"]", 1, "write path '/tmp/build'" },
                { "[\"/dev/shm/x\"]", "[]", 1, "private /dev/shm" },
                { "[\"/tmpfoo\", \"/var/tmp\", \"/srv/tmp\"]", "[]", 0, NULL },
                { "[\"C:\\\\tmp\"]", "[]", 0, NULL },
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                csc_contract *c = contract_with("[]", cases[i].reads, cases[i].writes);
                char why[512] = "";
                int r = c ? private_paths_gate(c, why, sizeof why) : -1;
                CHECK(r == cases[i].want && (!cases[i].names || strstr(why, cases[i].names)), "paths %s %s: %d '%s'",
                      cases[i].reads, cases[i].writes, r, why);
                csc_contract_free(c);
        }
}

static void exec_path_cases(void) {
        char p[PATH_MAX];
        CHECK(exec_path_resolve("ls", p) == 0 && (strcmp(p, "/usr/bin/ls") == 0 || strcmp(p, "/bin/ls") == 0), "ls: %s", p);
        CHECK(exec_path_resolve("no-such-program-csc", p) == -ENOENT, "missing");
        CHECK(exec_path_resolve("/opt/tool", p) == 0 && strcmp(p, "/opt/tool") == 0, "a path is kept as written");
        CHECK(exec_path_resolve("./rel", p) == 0 && strcmp(p, "./rel") == 0, "relative path kept");
        CHECK(exec_path_resolve("passwd", p) == 0 && strcmp(p, "/usr/bin/passwd") == 0, "first PATH hit: %s", p);
        CHECK(exec_path_resolve("shadow", p) == -ENOENT, "/etc is not on the PATH");
}

int main(void) {
        env_cases();
        private_path_cases();
        exec_path_cases();
        return tap_done("sandbox gates");
}
