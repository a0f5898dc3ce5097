/* receipt.h — building an ExecutionReceipt object (spec §5) from typed
 * fields. Signing is separate (sign.h). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

typedef struct csc_receipt_info {
        const char *contract_id;
        const char *execution_id;
        const char *contract_sha256;
        const char *status;              /* success | failed | blocked | expired */
        const char *started_at, *ended_at;
        const char *policy_profile;
        bool has_exit;                   /* success/failed: exit_code and hashes present */
        int exit_code;
        const char *stdout_hash, *stderr_hash;   /* "sha256:<hex>" */
        bool stdout_truncated, stderr_truncated;
        const char *policy_schema_version;
        const char *policy_sha256;
        const char *runner_version;
        const char *execution_mode;      /* local | hardened */
        const char *sandbox_profile_id;
        const char *signing_key_id;
        const char *const *completed_command_ids;
        size_t n_completed;
        const char *failed_command_id;   /* NULL: emitted as null */
        const char *error;               /* NULL: omitted; cut to 4000 code points */
        const char *const *artifact_paths;   /* expected outputs that were produced ... */
        const char *const *artifact_sha256;  /* ... and their SHA-256 (hex) */
        size_t n_artifacts;                  /* 0: "artifacts" omitted */
        bool has_effect_summary;             /* false: "effect_summary" omitted */
        bool network_used;
        int64_t files_written, secrets_used;
} csc_receipt_info;

/* 0 or -ENOMEM. Optional string fields that are NULL are omitted. */
int csc_receipt_build(csc_json_doc *doc, const csc_receipt_info *info, csc_json **ret);
/* Cuts text to at most max code points, ending in "... [truncated]" when cut.
 * Returns an arena string. */
const char *csc_text_cut(csc_json_doc *doc, const char *text, size_t max);
