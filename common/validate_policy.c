/* validate_policy.c — Policy v0.1 (spec §2). */
#include <stdint.h>

#include "validate.h"
#include "validate_internal.h"

static const v_array allow_commands_array = { 1, 0, true, v_token, NULL };
static const v_array effect_set1 = { 1, 0, true, v_enum, v_effect_types };
static const v_array risk_set1 = { 1, 0, true, v_enum, v_risk_classes };
static const v_array argv_prefix = { 1, 0, false, v_token, NULL };
static const v_array deny_prefixes = { 0, 0, false, v_array_check, &argv_prefix };
static const v_int timeout_min = { 1, INT64_MAX };

static const v_field policy_fields[] = {
        V_REQ("policy_schema_version", v_const, "csc.policy.v0.1"),
        V_REQ("name", v_token, NULL),
        V_REQ("allow_commands", v_array_check, &allow_commands_array),
        V_OPT("deny_argv_prefixes", v_array_check, &deny_prefixes),
        V_REQ("allowed_effect_types", v_array_check, &effect_set1),
        V_OPT("manual_approval_for_classified_effect_types", v_array_check, &v_token_set),
        V_REQ("allowed_risk_classes", v_array_check, &risk_set1),
        V_REQ("max_timeout_sec", v_int_check, &timeout_min),
        V_REQ("network", v_enum, v_network_modes),
        V_REQ("allow_secret_refs", v_bool, NULL),
        V_OPT("require_write_paths_empty", v_bool, NULL),
        V_REQ("allowed_cwd_prefixes", v_array_check, &v_abs_path_array1),
        V_REQ("allowed_read_prefixes", v_array_check, &v_abs_path_array1),
        V_OPT("allowed_write_prefixes", v_array_check, &v_abs_path_array),
        V_OPT("allowed_egress_hosts", v_array_check, &v_token_set),
        V_END,
};
static const v_object policy_object = { policy_fields, NULL };

int csc_validate_policy(const csc_json *v, csc_error *err) {
        return v_validate(v, &policy_object, err);
}
