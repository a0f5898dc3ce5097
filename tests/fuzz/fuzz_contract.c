/* fuzz_contract.c — contract parsing, validation, hashing and a decision
 * against a fixed policy; canonical output must re-parse to the same hash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "contract.h"
#include "decide.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char policy_text[] =
        "policy_schema_version: csc.policy.v0.1\nname: fuzz\nallow_commands: [ls, git, curl]\n"
        "deny_argv_prefixes: [[git, push]]\nallowed_effect_types: [observe, fetch_external]\n"
        "manual_approval_for_classified_effect_types: [financial_action]\nallowed_risk_classes: [low, medium]\n"
        "max_timeout_sec: 60\nnetwork: allowlisted\nallow_secret_refs: false\nallowed_cwd_prefixes: [/w, 'C:\\\\w']\n"
        "allowed_read_prefixes: [/w]\nallowed_write_prefixes: [/w/out]\nallowed_egress_hosts: [api.stripe.com]\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static csc_policy *policy;
        if (!policy && csc_policy_load_text(policy_text, sizeof policy_text - 1, "<fuzz>", &policy, NULL) < 0)
                abort();
        csc_contract *c = NULL;
        csc_error err;
        if (csc_contract_parse((const char *)data, size, &c, &err) < 0)
                return 0;
        csc_decision d;
        csc_decide(c, policy, &d);
        /* The hash is a function of the value: canonical text hashes the same. */
        csc_buf b = CSC_BUF_INIT;
        if (csc_canon_write(c->root, &b) == 0) {
                csc_contract *c2 = NULL;
                if (csc_contract_parse(b.data, b.len, &c2, NULL) != 0 || strcmp(c2->sha256, c->sha256) != 0)
                        abort();
                csc_contract_free(c2);
        }
        csc_buf_free(&b);
        csc_contract_free(c);
        return 0;
}
