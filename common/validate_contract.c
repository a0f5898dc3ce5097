/* validate_contract.c — CommandContract v0.1 (spec §1, limits §8). */
#include <string.h>

#include "csc_limits.h"
#include "validate.h"
#include "validate_internal.h"

static const v_len contract_id_len = { CSC_CONTRACT_ID_MIN, CSC_CONTRACT_ID_MAX };
static const v_len intent_len = { 1, CSC_MAX_INTENT };
static const v_len justification_len = { 1, CSC_MAX_JUSTIFICATION };
static const v_int timeout_range = { 1, CSC_TIMEOUT_MAX_SEC };

static int contract_id_check(vctx *c, const csc_json *v, const void *arg) {
        int r = v_text(c, v, arg);
        if (r < 0)
                return r;
        return memchr(v->string.ptr, 0, v->string.len) ? v_fail(c, "must not contain a NUL character") : 0;
}

static const v_array secret_refs_array = { 0, CSC_MAX_SECRET_REFS, false, v_token, NULL };
static const v_array argv_array = { 1, CSC_MAX_ARGV, false, v_arg, NULL };
static const v_field argv_fields[] = { V_REQ("argv", v_array_check, &argv_array), V_END };
static const v_object argv_object = { argv_fields, NULL };
static const v_array segments_array = { 2, CSC_MAX_SEGMENTS, false, v_object_check, &argv_object };
static const v_field pipeline_fields[] = { V_REQ("segments", v_array_check, &segments_array), V_END };
static const v_object pipeline_object = { pipeline_fields, NULL };

static int exactly_one_runnable(vctx *c, const csc_json *obj) {
        bool e = csc_json_get(obj, "exec"), p = csc_json_get(obj, "pipeline");
        if (e && p)
                return v_fail(c, "must have exactly one of \"exec\" or \"pipeline\", not both");
        if (!e && !p)
                return v_fail(c, "must have exactly one of \"exec\" or \"pipeline\"");
        return 0;
}

static const v_field command_fields[] = {
        V_REQ("id", v_token, NULL),
        V_OPT("exec", v_object_check, &argv_object),
        V_OPT("pipeline", v_object_check, &pipeline_object),
        V_REQ("cwd", v_abs_path, NULL),
        V_REQ("read_paths", v_array_check, &v_abs_path_array),
        V_REQ("write_paths", v_array_check, &v_abs_path_array),
        V_REQ("network", v_enum, v_network_modes),
        V_REQ("env_allow", v_array_check, &v_token_array),
        V_REQ("secret_refs", v_array_check, &secret_refs_array),
        V_REQ("timeout_sec", v_int_check, &timeout_range),
        V_REQ("proposed_effect_type", v_enum, v_effect_types),
        V_END,
};
static const v_object command_object = { command_fields, exactly_one_runnable };
static const v_array commands_array = { 1, CSC_MAX_COMMANDS, false, v_object_check, &command_object };

/* The array, then STRICTER: command ids unique (n ≤ 20, so pairwise is fine). */
static int commands_check(vctx *c, const csc_json *v, const void *arg) {
        (void)arg;
        int r = v_array_check(c, v, &commands_array);
        if (r < 0)
                return r;
        for (size_t i = 1; i < v->array.count; i++) {
                const csc_json *a = csc_json_get(v->array.items[i], "id");
                for (size_t j = 0; j < i; j++) {
                        const csc_json *b = csc_json_get(v->array.items[j], "id");
                        if (a->string.len == b->string.len && memcmp(a->string.ptr, b->string.ptr, a->string.len) == 0) {
                                size_t old = v_push_index(c, i);
                                v_push_key(c, "id");
                                char q[V_QUOTE_MAX];
                                r = v_fail(c, "duplicate command id \"%s\" (also commands[%zu].id)",
                                           v_quote(q, sizeof q, a->string.ptr, a->string.len), j);
                                v_pop(c, old);
                                return r;
                        }
                }
        }
        return 0;
}

static const v_field actor_fields[] = {
        V_REQ("agent_id", v_token, NULL),
        V_REQ("session_id", v_token, NULL),
        V_REQ("initiating_user", v_token, NULL),
        V_REQ("delegation_scope", v_token, NULL),
        V_END,
};
static const v_object actor_object = { actor_fields, NULL };

static const char *const approval_modes[] = { "policy_only", "human_required", "dual_control_required", NULL };

static const v_field contract_fields[] = {
        V_REQ("version", v_const, "csc.v0.1"),
        V_REQ("contract_id", contract_id_check, &contract_id_len),
        V_REQ("intent", v_text, &intent_len),
        V_REQ("actor", v_object_check, &actor_object),
        V_REQ("commands", commands_check, NULL),
        V_REQ("risk_class", v_enum, v_risk_classes),
        V_REQ("approval_mode", v_enum, approval_modes),
        V_REQ("justification", v_text, &justification_len),
        V_OPT("expected_outputs", v_array_check, &v_abs_path_array),
        V_END,
};
static const v_object contract_object = { contract_fields, NULL };

int csc_validate_contract(const csc_json *v, csc_error *err) {
        return v_validate(v, &contract_object, err);
}
