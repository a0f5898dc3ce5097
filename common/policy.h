/* policy.h — loading a CSC policy (YAML or JSON) and its typed view.
 *
 * csc_policy_load_file() applies spec §2's loading rules in order with their
 * error words: "failed to read" (missing/unreadable), over 512 KiB rejected
 * before parsing, "invalid YAML", "duplicate key" (any depth), "must contain a
 * YAML mapping", then csc_validate_policy(). STRICTER: anchors/aliases/tags
 * rejected, booleans only true/false. policy_sha256 is the canonical JSON of
 * the policy exactly as parsed (no defaults filled). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contract.h"
#include "error.h"
#include "json.h"

typedef struct csc_policy {
        csc_json_doc *doc;               /* owns everything */
        const csc_json *root;
        const char *name;
        csc_strv allow_commands;
        const char ***deny_argv_prefixes;   /* each a NULL-terminated argv prefix */
        size_t n_deny_argv_prefixes;
        size_t *deny_argv_prefix_lens;
        csc_strv allowed_effect_types;
        csc_strv manual_approval_effects;   /* manual_approval_for_classified_effect_types */
        csc_strv allowed_risk_classes;
        int64_t max_timeout_sec;
        csc_network network;
        bool allow_secret_refs;
        bool require_write_paths_empty;
        csc_strv allowed_cwd_prefixes;
        csc_strv allowed_read_prefixes;
        csc_strv allowed_write_prefixes;
        csc_strv allowed_egress_hosts;
        char sha256[65];                 /* policy_sha256 */
        const char *source;              /* file path it came from, or "<inline>" */
} csc_policy;

/* From a file (YAML or JSON; JSON is YAML 1.2 but is parsed as JSON when the
 * first non-blank byte is '{'). err->message contains the spec's words. */
int csc_policy_load_file(const char *path, csc_policy **ret, csc_error *err);
/* From text in memory (same rules, minus the file read). */
int csc_policy_load_text(const char *text, size_t len, const char *source, csc_policy **ret, csc_error *err);
csc_policy *csc_policy_free(csc_policy *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(csc_policy *, csc_policy_free);
