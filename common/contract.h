/* contract.h — a validated CommandContract as typed, read-only views.
 *
 * csc_contract_parse() parses (strict JSON), validates, hashes and builds the
 * typed view in one step. All strings point into the contract's JSON doc and
 * live as long as the contract. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "json.h"

typedef enum csc_network { CSC_NET_DENY = 0, CSC_NET_ALLOWLISTED = 1, CSC_NET_FULL = 2 } csc_network;
typedef enum csc_risk { CSC_RISK_LOW, CSC_RISK_MEDIUM, CSC_RISK_HIGH, CSC_RISK_CRITICAL } csc_risk;
typedef enum csc_approval_mode {
        CSC_APPROVAL_POLICY_ONLY,
        CSC_APPROVAL_HUMAN_REQUIRED,
        CSC_APPROVAL_DUAL_CONTROL_REQUIRED,
} csc_approval_mode;

typedef struct csc_strv {
        const char **v;       /* v[n] == NULL */
        size_t n;
} csc_strv;

/* A view of a validated JSON array of strings (absent → empty), allocated in doc. */
int csc_strv_from_json(csc_json_doc *doc, const csc_json *array, csc_strv *ret);

typedef struct csc_command {
        const char *id;
        bool is_pipeline;
        csc_strv *argvs;      /* 1 for exec, >= 2 segments for a pipeline */
        size_t n_argvs;
        const char *cwd;
        csc_strv read_paths;
        csc_strv write_paths;
        csc_network network;
        csc_strv env_allow;
        csc_strv secret_refs;
        int64_t timeout_sec;
        const char *effect;   /* proposed_effect_type */
} csc_command;

typedef struct csc_contract {
        csc_json_doc *doc;    /* owns everything */
        const csc_json *root;
        const char *contract_id;
        csc_command *commands;
        size_t n_commands;
        csc_risk risk;
        const char *risk_name;
        csc_approval_mode approval_mode;
        char sha256[65];      /* contract_sha256, lower-case hex */
        csc_strv expected_outputs;   /* empty when absent */
} csc_contract;

/* Parses, validates (csc_validate_contract) and hashes. -EINVAL with err on
 * bad input (err->path names the JSON path), -EFBIG over CSC_CONTRACT_MAX_BYTES. */
int csc_contract_parse(const char *text, size_t len, csc_contract **ret, csc_error *err);
/* Same, from an already parsed value (deep-copied). */
int csc_contract_from_json(const csc_json *v, csc_contract **ret, csc_error *err);
csc_contract *csc_contract_free(csc_contract *c);
/* contract_sha256 of a (valid) contract value: canonical JSON with
 * "expected_outputs": [] added when absent (spec §4). */
int csc_contract_sha256(const csc_json *contract, char ret_hex[65]);

const char *csc_network_name(csc_network n);
