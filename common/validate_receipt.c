/* validate_receipt.c — ExecutionReceipt v0.1 (spec §5), signed or not. */
#include <stdint.h>
#include <string.h>

#include "csc_limits.h"
#include "validate.h"
#include "validate_internal.h"

static const char *const statuses[] = { "success", "failed", "blocked", "expired", NULL };
static const char *const modes[] = { "local", "hardened", NULL };
static const v_int any_int = { INT64_MIN, INT64_MAX };
static const v_int count = { 0, INT64_MAX };
static const v_len error_len = { 0, CSC_MAX_ERROR_TEXT };

static const v_field artifact_fields[] = {
        V_REQ("path", v_nonempty, NULL),
        V_REQ("sha256", v_hex64, NULL),
        V_END,
};
static const v_object artifact_object = { artifact_fields, NULL };
static const v_array artifacts = { 0, 0, false, v_object_check, &artifact_object };

static const v_field effect_fields[] = {
        V_REQ("files_written", v_int_check, &count),
        V_REQ("network_used", v_bool, NULL),
        V_REQ("secrets_used", v_int_check, &count),
        V_END,
};
static const v_object effect_object = { effect_fields, NULL };

/* success/failed receipts report what ran: exit_code and both hashes. */
static int ran_fields(vctx *c, const csc_json *obj) {
        const char *s = csc_json_get_str(obj, "status");
        if (!s || (strcmp(s, "success") != 0 && strcmp(s, "failed") != 0))
                return 0;
        static const char *const need[] = { "exit_code", "stdout_hash", "stderr_hash" };
        for (size_t i = 0; i < 3; i++)
                if (!csc_json_get(obj, need[i]))
                        return v_fail(c, "missing required key \"%s\" (required when status is \"%s\")", need[i], s);
        return 0;
}

static int truncated_flag(vctx *c, const csc_json *v, const void *arg) {
        return v_bool(c, v, arg);
}

static const v_field receipt_fields[] = {
        V_REQ("receipt_version", v_const, "csc.receipt.v0.1"),
        V_REQ("contract_id", v_nonempty, NULL),
        V_REQ("execution_id", v_nonempty, NULL),
        V_REQ("contract_sha256", v_hex64, NULL),
        V_REQ("status", v_enum, statuses),
        V_REQ("started_at", v_rfc3339, NULL),
        V_REQ("ended_at", v_rfc3339, NULL),
        V_REQ("policy_profile", v_nonempty, NULL),
        V_OPT("exit_code", v_int_check, &any_int),
        V_OPT("stdout_hash", v_sha256_tag, NULL),
        V_OPT("stderr_hash", v_sha256_tag, NULL),
        V_OPT("stdout_truncated", truncated_flag, NULL),
        V_OPT("stderr_truncated", truncated_flag, NULL),
        V_OPT("artifacts", v_array_check, &artifacts),
        V_OPT("policy_schema_version", v_nonempty, NULL),
        V_OPT("policy_sha256", v_hex64, NULL),
        V_OPT("runner_version", v_nonempty, NULL),
        V_OPT("execution_mode", v_enum, modes),
        V_OPT("sandbox_profile_id", v_nonempty, NULL),
        V_OPT("signing_key_id", v_nonempty, NULL),
        V_OPT("effect_summary", v_object_check, &effect_object),
        V_OPT("completed_command_ids", v_array_check, &v_token_set),
        V_OPT("failed_command_id", v_string_or_null, NULL),
        V_OPT("error", v_text, &error_len),
        V_OPT("signature", v_object_check, &v_signature),
        V_END,
};
static const v_object receipt_object = { receipt_fields, ran_fields };

int csc_validate_receipt(const csc_json *v, csc_error *err) {
        return v_validate(v, &receipt_object, err);
}
