/* validate_approval.c — ApprovalArtifact v0.1 (spec §7). */
#include "csc_limits.h"
#include "validate.h"
#include "validate_internal.h"

static const char *const methods[] = { "manual", "cli", "api", "ticket", NULL };
static const char *const scopes[] = { "single_execution", "time_window", NULL };
static const v_len reason_len = { 0, CSC_MAX_REASON };

static const v_field approver_fields[] = {
        V_REQ("identity", v_token, NULL),
        V_REQ("method", v_enum, methods),
        V_END,
};
static const v_object approver_object = { approver_fields, NULL };

static const v_field approval_fields[] = {
        V_REQ("approval_version", v_const, "csc.approval.v0.1"),
        V_REQ("approval_id", v_token, NULL),
        V_REQ("contract_sha256", v_hex64, NULL),
        V_REQ("approver", v_object_check, &approver_object),
        V_REQ("approved_at", v_rfc3339, NULL),
        V_REQ("expires_at", v_rfc3339, NULL),
        V_REQ("scope", v_enum, scopes),
        V_OPT("ticket_id", v_token, NULL),
        V_OPT("reason", v_text, &reason_len),
        V_OPT("signature", v_object_check, &v_signature),
        V_END,
};
static const v_object approval_object = { approval_fields, NULL };

int csc_validate_approval(const csc_json *v, csc_error *err) {
        return v_validate(v, &approval_object, err);
}
