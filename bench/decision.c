/* decision.c — benchmark part (a): the cost of one decision for a typical
 * one-command contract, split into parse, validate, hash and evaluate, with
 * SHA-256 of the raw bytes as the same-run baseline, against the design's
 * targets (<= 20 us total, <= 2 us evaluate, total <= 3x the baseline). SHA-256
 * of the canonical bytes is printed too: it is the floor of the hash phase. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "bench.h"
#include "buf.h"
#include "canon.h"
#include "contract.h"
#include "decide.h"
#include "policy.h"
#include "validate.h"

static const char contract_text[] =
        "{\"version\":\"csc.v0.1\",\"contract_id\":\"bench-contract-0001\",\"intent\":\"show repository status\","
        "\"actor\":{\"agent_id\":\"agent-7\",\"session_id\":\"sess-42\",\"initiating_user\":\"alice\","
        "\"delegation_scope\":\"repo-maintainer\"},"
        "\"commands\":[{\"id\":\"cmd_1\",\"exec\":{\"argv\":[\"git\",\"status\",\"--porcelain\"]},"
        "\"cwd\":\"/workspace/app\",\"read_paths\":[\"/workspace/app\",\"/workspace/app/src/**\"],"
        "\"write_paths\":[],\"network\":\"deny\",\"env_allow\":[\"HOME\",\"LANG\"],\"secret_refs\":[],"
        "\"timeout_sec\":30,\"proposed_effect_type\":\"observe\"}],"
        "\"risk_class\":\"low\",\"approval_mode\":\"policy_only\","
        "\"justification\":\"the agent needs to know which files changed before proposing a commit\"}";

static const char policy_text[] =
        "policy_schema_version: csc.policy.v0.1\n"
        "name: dev-readonly\n"
        "allow_commands: [git, ls, cat, grep, head, wc, find, echo, \"true\"]\n"
        "deny_argv_prefixes: [[git, push], [git, config]]\n"
        "allowed_effect_types: [observe]\n"
        "allowed_risk_classes: [low, medium]\n"
        "max_timeout_sec: 300\n"
        "network: deny\n"
        "allow_secret_refs: false\n"
        "require_write_paths_empty: true\n"
        "allowed_cwd_prefixes: [/workspace, /home, /srv]\n"
        "allowed_read_prefixes: [/workspace, /home, /srv]\n";

#define ROUNDS 15
#define ITERS 4000

typedef struct phase {
        const char *name;
        double ns[ROUNDS];
        double median;
} phase;

static void finish_phase(phase *p) {
        qsort(p->ns, ROUNDS, sizeof p->ns[0], bench_cmp_double);
        p->median = p->ns[ROUNDS / 2];
}

int bench_decision(FILE *json) {
        csc_error err = { 0 };
        csc_policy *policy = NULL;
        if (csc_policy_load_text(policy_text, sizeof policy_text - 1, "<bench>", &policy, &err) < 0) {
                fprintf(stderr, "csc-bench: policy: %s\n", err.message);
                return 1;
        }
        csc_contract *contract = NULL;
        if (csc_contract_parse(contract_text, sizeof contract_text - 1, &contract, &err) < 0) {
                fprintf(stderr, "csc-bench: contract: %s: %s\n", err.path, err.message);
                return 1;
        }
        phase ph[7] = { { .name = "parse" }, { .name = "validate" }, { .name = "hash" }, { .name = "evaluate" }, { .name = "total (parse+validate+hash+evaluate)" },
                         { .name = "baseline: SHA-256 of the raw bytes" },
                         { .name = "SHA-256 of the canonical bytes" } };
        /* The bytes contract_sha256 hashes, built once (with expected_outputs: []). */
        csc_buf canonical = CSC_BUF_INIT;
        {
                csc_json_doc *cd = NULL;
                csc_json_parse(contract_text, sizeof contract_text - 1, &cd, NULL);
                csc_json *croot = csc_json_doc_root(cd);
                if (!croot || csc_json_object_set(cd, croot, "expected_outputs", csc_json_new_array(cd)) < 0 ||
                    csc_canon_write(croot, &canonical) < 0) {
                        fprintf(stderr, "csc-bench: cannot build the canonical contract\n");
                        return 1;
                }
                csc_json_doc_free(cd);
        }
        volatile int sink = 0;
        for (int round = 0; round < ROUNDS; round++) {
                double t0 = bench_now_ns();
                for (int i = 0; i < ITERS; i++) {
                        csc_json_doc *doc = NULL;
                        sink += csc_json_parse(contract_text, sizeof contract_text - 1, &doc, NULL);
                        csc_json_doc_free(doc);
                }
                double t1 = bench_now_ns();
                csc_json_doc *doc = NULL;
                csc_json_parse(contract_text, sizeof contract_text - 1, &doc, NULL);
                const csc_json *root = csc_json_doc_root(doc);
                double t2 = bench_now_ns();
                for (int i = 0; i < ITERS; i++)
                        sink += csc_validate_contract(root, NULL);
                double t3 = bench_now_ns();
                char hex[65];
                for (int i = 0; i < ITERS; i++)
                        sink += csc_contract_sha256(root, hex);
                double t4 = bench_now_ns();
                csc_decision d;
                for (int i = 0; i < ITERS; i++) {
                        csc_decide(contract, policy, &d);
                        sink += (int) d.verdict;
                }
                double t5 = bench_now_ns();
                for (int i = 0; i < ITERS; i++) {
                        csc_contract *c = NULL;
                        sink += csc_contract_parse(contract_text, sizeof contract_text - 1, &c, NULL);
                        csc_decide(c, policy, &d);
                        csc_contract_free(c);
                }
                double t6 = bench_now_ns();
                unsigned char digest[crypto_hash_sha256_BYTES];
                for (int i = 0; i < ITERS; i++) {
                        crypto_hash_sha256(digest, (const unsigned char *) contract_text, sizeof contract_text - 1);
                        sink += digest[0];
                }
                double t7 = bench_now_ns();
                for (int i = 0; i < ITERS; i++) {
                        crypto_hash_sha256(digest, (const unsigned char *) canonical.data, canonical.len);
                        sink += digest[0];
                }
                double t8 = bench_now_ns();
                ph[5].ns[round] = (t7 - t6) / ITERS;
                ph[6].ns[round] = (t8 - t7) / ITERS;
                csc_json_doc_free(doc);
                ph[0].ns[round] = (t1 - t0) / ITERS;
                ph[1].ns[round] = (t3 - t2) / ITERS;
                ph[2].ns[round] = (t4 - t3) / ITERS;
                ph[3].ns[round] = (t5 - t4) / ITERS;
                ph[4].ns[round] = (t6 - t5) / ITERS;
        }
        for (int i = 0; i < 7; i++)
                finish_phase(&ph[i]);
        printf("(a) one decision for a typical one-command contract (%zu bytes), median of %d rounds x %d\n",
               sizeof contract_text - 1, ROUNDS, ITERS);
        printf("%-40s %12s %12s\n", "phase", "ns/op", "target");
        for (int i = 0; i < 7; i++)
                printf("%-40s %12.0f %12s\n", ph[i].name, ph[i].median,
                       i == 3 ? "<= 2000" : i == 4 ? "<= 20000" : "");
        double ratio = ph[4].median / ph[5].median;
        bool ok = ph[3].median <= 2000 && ph[4].median <= 20000 && ratio <= 3.0;
        printf("canonical form: %zu bytes (raw %zu)\n", canonical.len, sizeof contract_text - 1);
        printf("ratio total / baseline (same run): %.2fx (target <= 3x); hash / SHA-256 of the canonical bytes: %.2fx\n",
               ratio, ph[2].median / ph[6].median);
        printf("targets: %s\n", ok ? "met" : "NOT met");
        if (json) {
                FILE *f = json;
                fprintf(f, "\"decision_ns\":{\"parse\":%.0f,\"validate\":%.0f,\"hash\":%.0f,\"evaluate\":%.0f,"
                           "\"total\":%.0f,\"baseline_sha256_raw\":%.0f,\"sha256_canonical\":%.0f},\"decision_ratio\":%.3f,"
                           "\"decision_targets_ns\":{\"evaluate\":2000,\"total\":20000},\"decision_target_ratio\":3,\"decision_targets_met\":%s",
                        ph[0].median, ph[1].median, ph[2].median, ph[3].median, ph[4].median, ph[5].median, ph[6].median,
                        ratio, ok ? "true" : "false");
        }
        csc_buf_free(&canonical);
        csc_contract_free(contract);
        csc_policy_free(policy);
        return sink == 12345 ? 2 : 0;
}
