/* receipt.c — ExecutionReceipt object building (spec §5). */
#include "receipt.h"

#include <errno.h>
#include <string.h>

#include "csc_limits.h"

const char *csc_text_cut(csc_json_doc *doc, const char *text, size_t max) {
        static const char tail[] = "... [truncated]";
        size_t len = strlen(text);
        if (csc_utf8_codepoints(text, len) <= max)
                return csc_json_doc_strdup(doc, text);
        size_t keep = max - (sizeof tail - 1), cps = 0, i = 0;
        for (; i < len; i++) {
                if (((unsigned char) text[i] & 0xC0) != 0x80) {
                        if (cps == keep)
                                break;
                        cps++;
                }
        }
        char *out = csc_json_doc_alloc(doc, i + sizeof tail);
        if (!out)
                return NULL;
        memcpy(out, text, i);
        memcpy(out + i, tail, sizeof tail);
        return out;
}

static int set_str(csc_json_doc *doc, csc_json *o, const char *key, const char *value) {
        if (!value)
                return 0;
        return csc_json_object_set(doc, o, key, csc_json_new_string(doc, value));
}

int csc_receipt_build(csc_json_doc *doc, const csc_receipt_info *in, csc_json **ret) {
        csc_json *o = csc_json_new_object(doc);
        if (!o)
                return -ENOMEM;
        int r = 0;
        r = r ?: set_str(doc, o, "receipt_version", "csc.receipt.v0.1");
        r = r ?: set_str(doc, o, "contract_id", in->contract_id);
        r = r ?: set_str(doc, o, "execution_id", in->execution_id);
        r = r ?: set_str(doc, o, "contract_sha256", in->contract_sha256);
        r = r ?: set_str(doc, o, "status", in->status);
        r = r ?: set_str(doc, o, "started_at", in->started_at);
        r = r ?: set_str(doc, o, "ended_at", in->ended_at);
        r = r ?: set_str(doc, o, "policy_profile", in->policy_profile);
        if (in->has_exit) {
                r = r ?: csc_json_object_set(doc, o, "exit_code", csc_json_new_int(doc, in->exit_code));
                r = r ?: set_str(doc, o, "stdout_hash", in->stdout_hash);
                r = r ?: set_str(doc, o, "stderr_hash", in->stderr_hash);
                r = r ?: csc_json_object_set(doc, o, "stdout_truncated", csc_json_new_bool(doc, in->stdout_truncated));
                r = r ?: csc_json_object_set(doc, o, "stderr_truncated", csc_json_new_bool(doc, in->stderr_truncated));
        }
        r = r ?: set_str(doc, o, "policy_schema_version", in->policy_schema_version);
        r = r ?: set_str(doc, o, "policy_sha256", in->policy_sha256);
        r = r ?: set_str(doc, o, "runner_version", in->runner_version);
        r = r ?: set_str(doc, o, "execution_mode", in->execution_mode);
        r = r ?: set_str(doc, o, "sandbox_profile_id", in->sandbox_profile_id);
        r = r ?: set_str(doc, o, "signing_key_id", in->signing_key_id);
        if (r == 0 && in->has_effect_summary) {
                csc_json *fx = csc_json_new_object(doc);
                r = fx ? 0 : -ENOMEM;
                r = r ?: csc_json_object_set(doc, fx, "files_written", csc_json_new_int(doc, in->files_written));
                r = r ?: csc_json_object_set(doc, fx, "network_used", csc_json_new_bool(doc, in->network_used));
                r = r ?: csc_json_object_set(doc, fx, "secrets_used", csc_json_new_int(doc, in->secrets_used));
                r = r ?: csc_json_object_set(doc, o, "effect_summary", fx);
        }
        csc_json *ids = csc_json_new_array(doc);
        if (!ids)
                return -ENOMEM;
        for (size_t i = 0; i < in->n_completed && r == 0; i++)
                r = csc_json_array_append(doc, ids, csc_json_new_string(doc, in->completed_command_ids[i]));
        r = r ?: csc_json_object_set(doc, o, "completed_command_ids", ids);
        r = r ?: csc_json_object_set(doc, o, "failed_command_id",
                                     in->failed_command_id ? csc_json_new_string(doc, in->failed_command_id)
                                                           : csc_json_new_null(doc));
        if (in->n_artifacts > 0 && r == 0) {
                csc_json *arts = csc_json_new_array(doc);
                r = arts ? 0 : -ENOMEM;
                for (size_t i = 0; i < in->n_artifacts && r == 0; i++) {
                        csc_json *a = csc_json_new_object(doc);
                        r = a ? 0 : -ENOMEM;
                        r = r ?: set_str(doc, a, "path", in->artifact_paths[i]);
                        r = r ?: set_str(doc, a, "sha256", in->artifact_sha256[i]);
                        r = r ?: csc_json_array_append(doc, arts, a);
                }
                r = r ?: csc_json_object_set(doc, o, "artifacts", arts);
        }
        if (in->error) {
                const char *cut = csc_text_cut(doc, in->error, CSC_MAX_ERROR_TEXT);
                r = r ?: (cut ? set_str(doc, o, "error", cut) : -ENOMEM);
        }
        if (r < 0)
                return r;
        *ret = o;
        return 0;
}
