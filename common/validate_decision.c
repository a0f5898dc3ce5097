/* validate_decision.c — PolicyDecision (spec §3), what `cscctl check --json` prints. */
#include "validate.h"
#include "validate_internal.h"

static const char *const verdicts[] = { "allow", "deny", "needs_approval", NULL };
static const v_array reasons = { 1, 0, false, v_nonempty, NULL };
static const v_array codes = { 1, 0, true, v_token, NULL };

static const v_field effect_fields[] = {
        V_REQ("command_id", v_token, NULL),
        V_REQ("effect_type", v_token, NULL),
        V_END,
};
static const v_object effect_object = { effect_fields, NULL };
static const v_array effects = { 0, 0, false, v_object_check, &effect_object };

static const v_field decision_fields[] = {
        V_REQ("contract_id", v_nonempty, NULL),
        V_REQ("decision", v_enum, verdicts),
        V_REQ("policy_profile", v_nonempty, NULL),
        V_REQ("reasons", v_array_check, &reasons),
        V_REQ("reason_codes", v_array_check, &codes),
        V_REQ("expires_at", v_rfc3339, NULL),
        V_OPT("contract_sha256", v_hex64, NULL),
        V_OPT("classified_effects", v_array_check, &effects),
        V_END,
};
static const v_object decision_object = { decision_fields, NULL };

int csc_validate_decision(const csc_json *v, csc_error *err) {
        return v_validate(v, &decision_object, err);
}
