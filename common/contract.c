/* contract.c — CommandContract: parse, validate, hash, and typed view. */
#include "contract.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "csc_limits.h"
#include "validate.h"

const char *csc_network_name(csc_network n) {
        switch (n) {
        case CSC_NET_DENY:        return "deny";
        case CSC_NET_ALLOWLISTED: return "allowlisted";
        case CSC_NET_FULL:        return "full";
        }
        return "unknown";
}

int csc_contract_sha256(const csc_json *contract, char ret_hex[65]) {
        if (!contract || contract->type != CSC_JSON_OBJECT)
                return -EINVAL;
        if (csc_json_get(contract, "expected_outputs"))
                return csc_canon_sha256_hex(contract, ret_hex);
        /* The reference hashes its parsed model, which fills expected_outputs: [].
         * The member is merged into the canonical stream at its sorted place. */
        static const csc_json empty = { .type = CSC_JSON_ARRAY };
        const csc_json_member m = { "expected_outputs", strlen("expected_outputs"), (csc_json *) &empty };
        return csc_canon_sha256_hex_with(contract, &m, ret_hex);
}

/* Views of a validated array of strings; the validator guarantees the types. */
int csc_strv_from_json(csc_json_doc *doc, const csc_json *a, csc_strv *ret) {
        size_t n = a ? a->array.count : 0;
        const char **v = csc_json_doc_alloc(doc, (n + 1) * sizeof *v);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                v[i] = a->array.items[i]->string.ptr;
        *ret = (csc_strv) { v, n };
        return 0;
}

static int enum_index(const char *s, const char *const *names, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(s, names[i]) == 0)
                        return (int) i;
        return -1;
}

static int build_command(csc_json_doc *doc, const csc_json *j, csc_command *c) {
        static const char *const nets[] = { "deny", "allowlisted", "full" };
        int r;
        c->id = csc_json_get_str(j, "id");
        c->cwd = csc_json_get_str(j, "cwd");
        c->effect = csc_json_get_str(j, "proposed_effect_type");
        c->timeout_sec = csc_json_get(j, "timeout_sec")->integer.value;
        c->network = (csc_network) enum_index(csc_json_get_str(j, "network"), nets, 3);
        const csc_json *exec = csc_json_get(j, "exec");
        const csc_json *segs = exec ? NULL : csc_json_get(csc_json_get(j, "pipeline"), "segments");
        c->is_pipeline = !exec;
        c->n_argvs = exec ? 1 : segs->array.count;
        c->argvs = csc_json_doc_alloc(doc, c->n_argvs * sizeof *c->argvs);
        if (!c->argvs)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_argvs; i++) {
                const csc_json *holder = exec ? exec : segs->array.items[i];
                r = csc_strv_from_json(doc, csc_json_get(holder, "argv"), &c->argvs[i]);
                if (r < 0)
                        return r;
        }
        if ((r = csc_strv_from_json(doc, csc_json_get(j, "read_paths"), &c->read_paths)) < 0 ||
            (r = csc_strv_from_json(doc, csc_json_get(j, "write_paths"), &c->write_paths)) < 0 ||
            (r = csc_strv_from_json(doc, csc_json_get(j, "env_allow"), &c->env_allow)) < 0 ||
            (r = csc_strv_from_json(doc, csc_json_get(j, "secret_refs"), &c->secret_refs)) < 0)
                return r;
        return 0;
}

static int contract_build(csc_json_doc *doc, csc_contract **ret, csc_error *err) {
        static const char *const risks[] = { "low", "medium", "high", "critical" };
        static const char *const modes[] = { "policy_only", "human_required", "dual_control_required" };
        const csc_json *root = csc_json_doc_root(doc);
        int r = csc_validate_contract(root, err);
        if (r < 0) {
                csc_json_doc_free(doc);
                return r;
        }
        csc_contract *c = calloc(1, sizeof *c);
        if (!c) {
                csc_json_doc_free(doc);
                return csc_error_set(err, -ENOMEM, "", "out of memory");
        }
        c->doc = doc;
        c->root = root;
        c->contract_id = csc_json_get_str(root, "contract_id");
        c->risk_name = csc_json_get_str(root, "risk_class");
        c->risk = (csc_risk) enum_index(c->risk_name, risks, 4);
        c->approval_mode = (csc_approval_mode) enum_index(csc_json_get_str(root, "approval_mode"), modes, 3);
        if (csc_strv_from_json(doc, csc_json_get(root, "expected_outputs"), &c->expected_outputs) < 0) {
                csc_contract_free(c);
                return csc_error_set(err, -ENOMEM, "", "out of memory");
        }
        const csc_json *cmds = csc_json_get(root, "commands");
        c->n_commands = cmds->array.count;
        c->commands = csc_json_doc_alloc(doc, c->n_commands * sizeof *c->commands);
        r = c->commands ? 0 : -ENOMEM;
        for (size_t i = 0; i < c->n_commands && r >= 0; i++)
                r = build_command(doc, cmds->array.items[i], &c->commands[i]);
        if (r >= 0)
                r = csc_contract_sha256(root, c->sha256);
        if (r < 0) {
                csc_contract_free(c);
                return csc_error_set(err, r, "", r == -ENOMEM ? "out of memory" : "cannot hash contract");
        }
        *ret = c;
        return 0;
}

int csc_contract_parse(const char *text, size_t len, csc_contract **ret, csc_error *err) {
        if (len > CSC_CONTRACT_MAX_BYTES)
                return csc_error_set(err, -EFBIG, "", "contract is larger than 1 MiB");
        csc_json_doc *doc;
        int r = csc_json_parse(text, len, &doc, err);
        if (r < 0)
                return r;
        return contract_build(doc, ret, err);
}

int csc_contract_from_json(const csc_json *v, csc_contract **ret, csc_error *err) {
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *copy = doc ? csc_json_copy(doc, v) : NULL;
        if (!copy) {
                csc_json_doc_free(doc);
                return csc_error_set(err, -ENOMEM, "", "out of memory");
        }
        csc_json_doc_set_root(doc, copy);
        return contract_build(doc, ret, err);
}

csc_contract *csc_contract_free(csc_contract *c) {
        if (!c)
                return NULL;
        csc_json_doc_free(c->doc);
        free(c);
        return NULL;
}
