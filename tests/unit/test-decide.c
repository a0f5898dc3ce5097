/* test-decide.c — csc_decide()'s effect classification (spec §3): curl is a
 * financial_action when an allowed_egress_hosts entry containing "stripe"
 * occurs in the space-joined argv, at any argv length. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "decide.h"
#include "policy.h"
#include "tap.h"

static const char policy_text[] =
        "policy_schema_version: csc.policy.v0.1\n"
        "name: classify\n"
        "allow_commands: [curl]\n"
        "allowed_effect_types: [fetch_external]\n"
        "allowed_risk_classes: [low]\n"
        "max_timeout_sec: 60\n"
        "network: full\n"
        "allow_secret_refs: false\n"
        "allowed_cwd_prefixes: [/]\n"
        "allowed_read_prefixes: [/]\n"
        "allowed_egress_hosts: [\"api.stripe.com /v1\", \"pay.stripe.example\"]\n";

/* The effect csc_decide() gives to `curl ARGS... [padding]`. */
static const char *effect_of(const csc_policy *p, const char *args, size_t padding) {
        static char effect[64];
        size_t cap = strlen(args) + padding + 1024;
        char *text = malloc(cap), *pad = malloc(padding + 1);
        if (!text || !pad)
                abort();
        memset(pad, 'x', padding);
        pad[padding] = 0;
        snprintf(text, cap,
                 "{\"version\": \"csc.v0.1\", \"contract_id\": \"classify-0001\", \"intent\": \"t\", "
                 "\"justification\": \"t\", \"actor\": {\"agent_id\": \"a\", \"session_id\": \"s\", "
                 "\"initiating_user\": \"u\", \"delegation_scope\": \"t\"}, \"risk_class\": \"low\", "
                 "\"approval_mode\": \"policy_only\", \"commands\": [{\"id\": \"c\", \"exec\": {\"argv\": "
                 "[\"curl\", %s%s%s%s]}, \"cwd\": \"/\", \"read_paths\": [], \"write_paths\": [], \"network\": \"full\", "
                 "\"env_allow\": [], \"secret_refs\": [], \"timeout_sec\": 10, \"proposed_effect_type\": \"observe\"}]}",
                 args, padding ? ", \"" : "", pad, padding ? "\"" : "");
        csc_contract *c = NULL;
        csc_error err = { 0 };
        if (csc_contract_parse(text, strlen(text), &c, &err) < 0) {
                printf("contract: %s: %s\n", err.path, err.message);
                fflush(stdout);
                abort();
        }
        csc_decision d;
        csc_decide(c, p, &d);
        snprintf(effect, sizeof effect, "%s", d.n_effects ? d.effects[0].effect_type : "?");
        csc_contract_free(c);
        free(text);
        free(pad);
        return effect;
}

int main(void) {
        csc_policy *p = NULL;
        csc_error err = { 0 };
        if (csc_policy_load_text(policy_text, sizeof policy_text - 1, "<test>", &p, &err) < 0) {
                printf("policy: %s: %s\n", err.path, err.message);
                return 1;
        }
        /* A host entry that spans two elements through their joining space. */
        const char *span = "\"https://api.stripe.com\", \"/v1/charges\"";
        CHECK(!strcmp(effect_of(p, span, 0), "financial_action"), "short join: %s", effect_of(p, span, 0));
        CHECK(!strcmp(effect_of(p, span, 8192), "financial_action"), ">4 KiB join: %s", effect_of(p, span, 8192));
        CHECK(!strcmp(effect_of(p, span, 100000), "financial_action"), "~100 KiB join: %s", effect_of(p, span, 100000));
        /* Inside one element, short and long. */
        const char *one = "\"https://pay.stripe.example/x\"";
        CHECK(!strcmp(effect_of(p, one, 0), "financial_action"), "element");
        CHECK(!strcmp(effect_of(p, one, 8192), "financial_action"), "element, long");
        /* No entry occurs: fetch_external at every length. */
        const char *none = "\"https://api.stripe.com\", \"-d\", \"/v1/charges\"";
        CHECK(!strcmp(effect_of(p, none, 0), "fetch_external"), "no match");
        CHECK(!strcmp(effect_of(p, none, 8192), "fetch_external"), "no match, long");
        csc_policy_free(p);
        return tap_done("decide");
}
