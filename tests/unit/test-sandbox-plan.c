/* test-sandbox-plan.c — the sandbox plan (daemon/sandbox_plan.c) built from
 * contracts, table-driven, as a non-root user: when started as root it first
 * becomes nobody, so the plan provably needs no privilege, no file and no
 * fork. Every case frees the contract and the config before it reads the
 * plan: a plan holds no pointer into its inputs (ASan would report one). */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "contract.h"
#include "json.h"
#include "sandbox_plan.h"
#include "tap.h"
#include "unit_contract.h"

/* A contract whose commands array is `commands` (JSON text). */
static csc_contract *contract_of(const char *commands, const char *outputs) {
        char text[16384];
        snprintf(text, sizeof text,
                 "{\"version\":\"csc.v0.1\",\"contract_id\":\"unit-0001\",\"intent\":\"t\",\"justification\":\"t\","
                 "\"actor\":{\"agent_id\":\"a\",\"session_id\":\"s\",\"initiating_user\":\"u\",\"delegation_scope\":\"d\"},"
                 "\"risk_class\":\"low\",\"approval_mode\":\"policy_only\",\"commands\":%s%s%s}",
                 commands, outputs ? ",\"expected_outputs\":" : "", outputs ? outputs : "");
        return unit_contract(text);
}

/* One command with the given cwd, read and write paths, network and env_allow. */
static csc_contract *one_command(const char *cwd, const char *reads, const char *writes, const char *network,
                                 const char *env_allow) {
        char cmd[12288];
        snprintf(cmd, sizeof cmd,
                 "[{\"id\":\"c1\",\"cwd\":\"%s\",\"read_paths\":%s,\"write_paths\":%s,\"network\":\"%s\","
                 "\"env_allow\":%s,\"secret_refs\":[],\"timeout_sec\":5,\"proposed_effect_type\":\"observe\","
                 "\"exec\":{\"argv\":[\"true\"]}}]",
                 cwd, reads, writes, network, env_allow);
        return contract_of(cmd, NULL);
}

static cscd_config *config_of(const char *text) {
        cscd_config *cfg = NULL;
        csc_error err = { 0 };
        int r = text ? cscd_config_load_text(text, strlen(text), &cfg, &err) : cscd_config_defaults(&cfg);
        if (r < 0)
                printf("# config: %s\n", err.message);
        return cfg;
}

static const sandbox_filter f_deny = { NULL, 1 }, f_allow = { NULL, 2 }, f_full = { NULL, 3 };

/* Builds a plan of c (freed here, with cfg) for uid 1000; returns the
 * build's result, the plan in *ret and the refusal in why. */
static int plan_of(csc_contract *c, cscd_config *cfg, const sandbox_plan_input *extra, sandbox_plan **ret, char *why,
                   size_t why_size) {
        static const gid_t groups[] = { 1000, 27 };
        sandbox_plan_input in = extra ? *extra : (sandbox_plan_input){ 0 };
        in.contract = c;
        in.config = cfg;
        in.uid = 1000;
        in.gid = 1000;
        in.groups = groups;
        in.n_groups = 2;
        in.filter_deny_net = &f_deny;
        in.filter_allowlisted = &f_allow;
        in.filter_net = &f_full;
        *ret = NULL;
        why[0] = 0;
        int r = c && cfg ? sandbox_plan_build(&in, ret, why, why_size) : -EINVAL;
        csc_contract_free(c);
        cscd_config_free(cfg);
        return r;
}

/* The plan's binds as "path:ro path:rw ...". */
static void binds_text(const sandbox_plan *p, char *buf, size_t size) {
        size_t len = 0;
        buf[0] = 0;
        for (size_t i = 0; p && i < p->n_binds && len < size; i++)
                len += (size_t)snprintf(buf + len, size - len, "%s%s:%s", i ? " " : "", p->binds[i].path,
                                        p->binds[i].writable ? "rw" : "ro");
}

static void bind_cases(void) {
        static const struct {
                const char *cwd, *reads, *writes, *want;
        } cases[] = {
                /* parents first, read-only before writable of one length, normalized */
                { "/", "[\"/srv/a/b\",\"/srv//a/\"]", "[\"/srv/a/b/c\",\"/srv/z\"]",
                  "/srv/a:ro /srv/z:rw /srv/a/b:ro /srv/a/b/c:rw" },
                { "/", "[\"/srv/x\"]", "[\"/srv/x\"]", "/srv/x:ro /srv/x:rw" },
                /* the sandbox's own directories are never host binds */
                { "/", "[\"/proc/1\",\"/sys\",\"/run/x\",\"/dev/null\"]", "[]", "" },
                /* Windows paths have nothing to bind */
                { "/", "[\"C:\\\\data\"]", "[]", "" },
                /* a cwd outside the declared paths is shown read-only */
                { "/home/u/w", "[\"/srv\"]", "[]", "/srv:ro /home/u/w:ro" },
                { "/srv/a/x", "[\"/srv/a\"]", "[]", "/srv/a:ro" },
                { "/usr/lib", "[]", "[]", "" },
                { "/tmp", "[]", "[]", "" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                sandbox_plan *p;
                char why[512], got[1024];
                int r = plan_of(one_command(cases[i].cwd, cases[i].reads, cases[i].writes, "deny", "[]"), config_of(NULL),
                                NULL, &p, why, sizeof why);
                binds_text(p, got, sizeof got);
                CHECK(r == 0 && strcmp(got, cases[i].want) == 0, "binds %s %s: %d '%s' (%s), want '%s'", cases[i].reads,
                      cases[i].writes, r, got, why, cases[i].want);
                sandbox_plan_free(p);
        }
}

/* What the plan refuses from the contract alone: before any fork. */
static void refusal_cases(void) {
        char longp[SANDBOX_PATH_MAX + 16] = "[\"/";
        memset(longp + 3, 'a', SANDBOX_PATH_MAX);
        strcpy(longp + 3 + SANDBOX_PATH_MAX, "\"]");
        static const struct {
                const char *reads, *writes, *want;
        } cases[] = {
                { "[\"/srv/../etc\"]", "[]", "contains a '..' segment" },
                { "[\"/tmp/x\"]", "[]", "lies in the sandbox's private /tmp" },
                { "[]", "[\"/dev/shm/x\"]", "lies in the sandbox's private /dev/shm" },
                { "[]", "[\"/\"]", "declared write path / cannot be bound" },
                { NULL, "[]", "is longer than 4095 bytes" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                sandbox_plan *p;
                char why[512];
                csc_contract *c = one_command("/", cases[i].reads ? cases[i].reads : longp, cases[i].writes, "deny", "[]");
                int r = plan_of(c, config_of(NULL), NULL, &p, why, sizeof why);
                CHECK(r == SANDBOX_PLAN_BLOCKED && !p && strstr(why, cases[i].want), "refuse %s %s: %d '%s'",
                      cases[i].reads ? cases[i].reads : "(long)", cases[i].writes, r, why);
        }
}

/* A declared "/" is every real top-level directory of the host but ours. */
static void root_cases(void) {
        static const char *const top[] = { "home", "srv", "tmp", "proc", "usr", ".hidden", "etc", "opt", "run", "dev" };
        sandbox_plan_input extra = { .host_top = top, .n_host_top = sizeof top / sizeof *top };
        sandbox_plan *p;
        char why[512], got[512];
        int r = plan_of(one_command("/", "[\"/\"]", "[\"/srv/out\"]", "deny", "[]"), config_of(NULL), &extra, &p, why,
                        sizeof why);
        binds_text(p, got, sizeof got);
        CHECK(r == 0 && strcmp(got, "/opt:ro /srv:ro /home:ro /srv/out:rw") == 0, "root: %d '%s' (%s)", r, got, why);
        sandbox_plan_free(p);
        csc_contract *c = one_command("/", "[\"/./\"]", "[]", "deny", "[]");
        CHECK(c && sandbox_plan_wants_host_top(c), "a declared /./ asks for the host's top");
        csc_contract_free(c);
        c = one_command("/", "[\"/srv\"]", "[]", "deny", "[]");
        CHECK(c && !sandbox_plan_wants_host_top(c), "no declared / asks for nothing");
        csc_contract_free(c);
}

/* The exact environment of a command, as envp. */
static void envp_text(const sandbox_command *cmd, char *buf, size_t size) {
        size_t len = 0;
        buf[0] = 0;
        for (size_t i = 0; cmd->envp[i] && len < size; i++)
                len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? " " : "", cmd->envp[i]);
}

static void env_cases(void) {
        csc_json_doc *doc = NULL;
        csc_error err = { 0 };
        static const char env[] = "{\"FOO\":\"1\",\"PATH\":\"/evil\",\"BAR\":\"x\",\"NUL\":\"a\\u0000b\","
                                  "\"HTTP_PROXY\":\"http://evil\"}";
        CHECK(csc_json_parse(env, sizeof env - 1, &doc, &err) == 0, "env parses: %s", err.message);
        static const char conf[] = "allow_env_names: [FOO, NUL, HTTP_PROXY]\n";
        static const struct {
                const char *network, *env_allow, *want;
        } cases[] = {
                { "deny", "[]", "PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp TMPDIR=/tmp LANG=C.UTF-8" },
                /* only allowed names the contract lists; never PATH; never a value with NUL */
                { "deny", "[\"FOO\",\"BAR\",\"NUL\",\"MISSING\"]",
                  "PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp TMPDIR=/tmp LANG=C.UTF-8 FOO=1" },
                /* the proxy's variables come last and win over a client's of the same name */
                { "allowlisted", "[\"HTTP_PROXY\",\"FOO\"]",
                  "PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp TMPDIR=/tmp LANG=C.UTF-8 HTTP_PROXY=http://127.0.0.1:3128 "
                  "FOO=1 HTTPS_PROXY=http://127.0.0.1:3128 http_proxy=http://127.0.0.1:3128 "
                  "https_proxy=http://127.0.0.1:3128 npm_config_proxy=http://127.0.0.1:3128 "
                  "npm_config_https_proxy=http://127.0.0.1:3128 PIP_PROXY=http://127.0.0.1:3128 "
                  "ALL_PROXY=socks5h://127.0.0.1:3128 all_proxy=socks5h://127.0.0.1:3128 "
                  "NO_PROXY=localhost,127.0.0.1,::1 no_proxy=localhost,127.0.0.1,::1" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                sandbox_plan_input extra = { .env = doc ? csc_json_doc_root(doc) : NULL };
                sandbox_plan *p;
                char why[512], got[2048] = "";
                int r = plan_of(one_command("/", "[]", "[]", cases[i].network, cases[i].env_allow), config_of(conf),
                                &extra, &p, why, sizeof why);
                if (p)
                        envp_text(&p->commands[0], got, sizeof got);
                CHECK(r == 0 && strcmp(got, cases[i].want) == 0, "env %s %s: %d\n#  got '%s'\n# want '%s'",
                      cases[i].network, cases[i].env_allow, r, got, cases[i].want);
                sandbox_plan_free(p);
        }
        csc_json_doc_free(doc);
}

/* argv[0] resolved by the monitor, the filter by network, the host's
 * network shared only with `full`, and a per-command empty namespace for
 * `deny` then. */
static void command_cases(void) {
        static const char cmds[] =
                "[{\"id\":\"a\",\"cwd\":\"/\",\"read_paths\":[],\"write_paths\":[\"/srv//w/\",\"C:\\\\x\"],"
                "\"network\":\"full\",\"env_allow\":[],\"secret_refs\":[],\"timeout_sec\":7,"
                "\"proposed_effect_type\":\"observe\",\"exec\":{\"argv\":[\"ls\",\"-l\"]}},"
                "{\"id\":\"b\",\"cwd\":\"/\",\"read_paths\":[],\"write_paths\":[],\"network\":\"deny\","
                "\"env_allow\":[],\"secret_refs\":[],\"timeout_sec\":9,\"proposed_effect_type\":\"observe\","
                "\"pipeline\":{\"segments\":[{\"argv\":[\"nosuch\"]},{\"argv\":[\"wc\",\"-l\"]}]}}]";
        char *exe[] = { "/usr/bin/ls", NULL, "/usr/bin/wc" };
        sandbox_plan_input extra = { .exe_paths = exe, .await_go = true, .landlock_abi = 4 };
        sandbox_plan *p;
        char why[512];
        int r = plan_of(contract_of(cmds, "[\"/srv/w/out\",\"C:\\\\y\",\"/srv/w/log\"]"), config_of(NULL), &extra,
                        &p, why, sizeof why);
        CHECK(r == 0 && p && p->n_commands == 2, "two commands: %d %s", r, why);
        if (!p)
                return;
        const sandbox_command *a = &p->commands[0], *b = &p->commands[1];
        CHECK(!p->own_netns && p->await_go && !p->egress && p->landlock_abi == 4, "sandbox flags");
        CHECK(p->uid == 1000 && p->gid == 1000 && p->n_groups == 2 && p->groups[1] == 27, "credentials");
        CHECK(a->n_segments == 1 && strcmp(a->segments[0].exe, "/usr/bin/ls") == 0 &&
                      strcmp(a->segments[0].argv[0], "ls") == 0 && strcmp(a->segments[0].argv[1], "-l") == 0 &&
                      !a->segments[0].argv[2], "exec argv and program");
        CHECK(b->n_segments == 2 && !b->segments[0].exe && strcmp(b->segments[1].exe, "/usr/bin/wc") == 0,
              "pipeline programs, one not found");
        CHECK(a->filter == &p->filters[2] && a->filter->len == f_full.len && b->filter == &p->filters[0] &&
                      b->filter->len == f_deny.len, "filters by network, copied into the plan");
        CHECK(!a->unshare_net && b->unshare_net, "deny in a host-network sandbox gets its own namespace");
        CHECK(a->n_write_paths == 1 && strcmp(a->write_paths[0], "/srv/w") == 0, "Landlock write rules: %zu",
              a->n_write_paths);
        CHECK(a->timeout_sec == 7 && b->timeout_sec == 9, "timeouts");
        CHECK(p->n_artifacts == 2 && p->artifacts[0].index == 0 && p->artifacts[1].index == 2 &&
                      strcmp(p->artifacts[1].path, "/srv/w/log") == 0, "artifacts keep their contract index");
        CHECK(sandbox_plan_set_cgroup(p, "/sys/fs/cgroup/pids/csc/x/cgroup.procs") == 0 &&
                      strcmp(p->cgroup_procs, "/sys/fs/cgroup/pids/csc/x/cgroup.procs") == 0, "cgroup");
        sandbox_plan_free(p);
}

/* Limits, tmpfs options, masks and secrets come from the config and the
 * monitor; the secret values are copied into the plan. */
static void config_cases(void) {
        static const char conf[] = "tmp_size_bytes: 1048576\nrlimit_nofile: 77\nrlimit_cpu_sec: 9\n"
                                   "state_dir: /var/lib/cscx\nsocket: /srv/sock/csc.sock\n"
                                   "signing_key: /etc/keys//k.key\nmask_paths: [/srv/hidden/, /opt/../x]\n"
                                   "protected_paths: [.git/hooks]\nprotected_paths_extra: [.envrc]\n";
        char name[] = "tok", value[] = "s3cret";
        cscd_secret sec = { name, value, 6, 0 };
        sandbox_plan_input extra = { .secrets = &sec, .n_secrets = 1, .credentials_dir = "/run/credentials/cscd" };
        sandbox_plan *p;
        char why[512];
        int r = plan_of(one_command("/", "[]", "[]", "deny", "[]"), config_of(conf), &extra, &p, why, sizeof why);
        CHECK(r == 0 && p, "plan: %d %s", r, why);
        if (!p)
                return;
        CHECK(strcmp(p->tmp_opts, "mode=1777,size=1048576") == 0, "tmp opts %s", p->tmp_opts);
        CHECK(p->secrets_opts && strcmp(p->secrets_opts, "mode=0500,uid=1000,gid=1000,size=1m") == 0, "secrets opts");
        bool nofile = false, cpu = false, core = false;
        for (size_t i = 0; i < SANDBOX_N_RLIMITS; i++) {
                nofile |= p->rlimits[i].resource == RLIMIT_NOFILE && p->rlimits[i].value == 77;
                cpu |= p->rlimits[i].resource == RLIMIT_CPU && p->rlimits[i].value == 9;
                core |= p->rlimits[i].resource == RLIMIT_CORE && p->rlimits[i].value == 0;
        }
        CHECK(nofile && cpu && core, "rlimits");
        char masks[2048] = "";
        size_t len = 0;
        for (size_t i = 0; i < p->n_masks; i++)
                len += (size_t)snprintf(masks + len, sizeof masks - len, " %s", p->masks[i]);
        static const char *const want[] = { " /etc/csc ", " /var/lib/cscx ", " /etc/keys ", " /etc/keys/k.key ",
                                            " /run/credentials/cscd ", " /srv/sock/csc.sock ", " /var/lib/csc ",
                                            " /srv/hidden" };
        strcat(masks, " ");
        for (size_t i = 0; i < sizeof want / sizeof *want; i++)
                CHECK(strstr(masks, want[i]), "mask %s in%s", want[i], masks);
        CHECK(p->n_protected_names == 2 && strcmp(p->protected_names[1], ".envrc") == 0, "protected names");
        const sandbox_command *c = &p->commands[0];
        memset(value, 'X', sizeof value - 1);   /* the plan has its own copy */
        CHECK(c->n_secrets == 1 && strcmp(c->secrets[0].path, "/run/secrets/tok") == 0 && c->secrets[0].len == 6 &&
                      memcmp(c->secrets[0].value, "s3cret", 6) == 0, "secret file");
        CHECK(p->scratch_size > p->walk.max_found, "scratch sized by the walk's bound");
        sandbox_plan_free(p);
}

/* Everything a plan says, as text, to compare two plans. */
static void plan_text(const sandbox_plan *p, char *buf, size_t size) {
        size_t len = 0;
        char part[4096];
        binds_text(p, part, sizeof part);
        len += (size_t)snprintf(buf + len, size - len, "binds %s|groups %u,%u|cgroup %s|tmp %s|", part,
                                (unsigned)p->groups[0], (unsigned)p->groups[1], p->cgroup_procs ? p->cgroup_procs : "-",
                                p->tmp_opts);
        for (size_t i = 0; i < p->n_masks; i++)
                len += (size_t)snprintf(buf + len, size - len, "mask %s|", p->masks[i]);
        for (size_t i = 0; i < p->n_protected_names; i++)
                len += (size_t)snprintf(buf + len, size - len, "pp %s|", p->protected_names[i]);
        for (size_t i = 0; i < p->n_commands; i++) {
                const sandbox_command *c = &p->commands[i];
                envp_text(c, part, sizeof part);
                len += (size_t)snprintf(buf + len, size - len, "cmd %s env %s filter %u|", c->cwd, part,
                                        (unsigned)c->filter->len);
                for (size_t s = 0; s < c->n_segments; s++)
                        for (size_t k = 0; c->segments[s].argv[k]; k++)
                                len += (size_t)snprintf(buf + len, size - len, "arg %s exe %s|", c->segments[s].argv[k],
                                                        c->segments[s].exe ? c->segments[s].exe : "-");
                for (size_t k = 0; k < c->n_write_paths; k++)
                        len += (size_t)snprintf(buf + len, size - len, "w %s|", c->write_paths[k]);
                for (size_t k = 0; k < c->n_secrets; k++)
                        len += (size_t)snprintf(buf + len, size - len, "secret %s %.*s|", c->secrets[k].path,
                                                (int)c->secrets[k].len, c->secrets[k].value);
        }
        for (size_t i = 0; i < p->n_artifacts; i++)
                len += (size_t)snprintf(buf + len, size - len, "out %u %s|", p->artifacts[i].index, p->artifacts[i].path);
}

/* A plan copied whole to another address (as to a warm executor) and
 * relocated there says exactly what the original said, after the original
 * is gone; a damaged copy is refused. */
static void relocate_cases(void) {
        static const char cmds[] =
                "[{\"id\":\"a\",\"cwd\":\"/srv\",\"read_paths\":[\"/srv\"],\"write_paths\":[\"/srv/w\"],"
                "\"network\":\"deny\",\"env_allow\":[\"FOO\"],\"secret_refs\":[],\"timeout_sec\":7,"
                "\"proposed_effect_type\":\"observe\",\"pipeline\":{\"segments\":[{\"argv\":[\"ls\",\"-l\"]},"
                "{\"argv\":[\"wc\"]}]}}]";
        static const char env[] = "{\"FOO\":\"bar\"}";
        csc_json_doc *doc = NULL;
        csc_error err = { 0 };
        CHECK(csc_json_parse(env, sizeof env - 1, &doc, &err) == 0, "env");
        char *exe[] = { "/usr/bin/ls", "/usr/bin/wc" };
        char name[] = "tok", value[] = "v4lue";
        cscd_secret sec = { name, value, 5, 0 };
        sandbox_plan_input extra = { .exe_paths = exe, .env = csc_json_doc_root(doc), .secrets = &sec, .n_secrets = 1,
                                     .cgroup_procs = "/sys/fs/cgroup/x/cgroup.procs" };
        sandbox_plan *p;
        char why[512];
        int r = plan_of(contract_of(cmds, "[\"/srv/w/o\"]"), config_of("allow_env_names: [FOO]\n"), &extra, &p, why,
                        sizeof why);
        csc_json_doc_free(doc);
        CHECK(r == 0 && p, "plan: %d %s", r, why);
        if (!p)
                return;
        size_t size;
        const void *data = sandbox_plan_data(p, &size);
        char *copy = malloc(size), *bad = malloc(size);
        static char before[16384], after[16384];
        plan_text(p, before, sizeof before);
        memcpy(copy, data, size);
        memcpy(bad, data, size);
        uintptr_t old = (uintptr_t)data;
        sandbox_plan_free(p);   /* nothing may point into it any more */
        sandbox_plan *q = (sandbox_plan *)copy;
        CHECK(sandbox_plan_relocate(q, size, old) == 0, "relocates");
        plan_text(q, after, sizeof after);
        CHECK(strcmp(before, after) == 0 && strstr(after, "secret /run/secrets/tok v4lue") && strstr(after, "env PATH="),
              "the copy says what the plan said:\n# %s\n# %s", before, after);
        CHECK(sandbox_plan_relocate((sandbox_plan *)bad, size - 8, old) == -EBADMSG, "a short copy is refused");
        sandbox_plan *b = (sandbox_plan *)bad;
        b->tmp_opts = (const char *)(old + size + 64);   /* outside the block */
        CHECK(sandbox_plan_relocate(b, size, old) == -EBADMSG, "a pointer outside the block is refused");
        free(copy);
        free(bad);
}

/* No privilege needed: as root, become nobody first. */
static void drop_root(void) {
        if (geteuid() != 0)
                return;
        if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0) {
                printf("# cannot become nobody\n");
                exit(1);
        }
}

int main(void) {
        drop_root();
        CHECK(geteuid() != 0, "runs as a non-root user (uid %u)", (unsigned)geteuid());
        bind_cases();
        refusal_cases();
        root_cases();
        env_cases();
        command_cases();
        config_cases();
        relocate_cases();
        return tap_done("sandbox plan");
}
