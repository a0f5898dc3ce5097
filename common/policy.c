/* policy.c — spec §2 policy loading: read, size cap, YAML/JSON, shape, schema, views. */
#include "policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "canon.h"
#include "csc_limits.h"
#include "validate.h"
#include "yaml.h"

static const char *const net_names[] = { "deny", "allowlisted", "full" };

static int build_views(csc_policy *p) {
        csc_json_doc *doc = p->doc;
        const csc_json *v = p->root;
        p->name = csc_json_get_str(v, "name");
        int r = csc_strv_from_json(doc, csc_json_get(v, "allow_commands"), &p->allow_commands);
        r = r ?: csc_strv_from_json(doc, csc_json_get(v, "allowed_effect_types"), &p->allowed_effect_types);
        r = r ?: csc_strv_from_json(doc, csc_json_get(v, "manual_approval_for_classified_effect_types"),
                                    &p->manual_approval_effects);
        r = r ?: csc_strv_from_json(doc, csc_json_get(v, "allowed_risk_classes"), &p->allowed_risk_classes);
        r = r ?: csc_strv_from_json(doc, csc_json_get(v, "allowed_cwd_prefixes"), &p->allowed_cwd_prefixes);
        r = r ?: csc_strv_from_json(doc, csc_json_get(v, "allowed_read_prefixes"), &p->allowed_read_prefixes);
        r = r ?: csc_strv_from_json(doc, csc_json_get(v, "allowed_write_prefixes"), &p->allowed_write_prefixes);
        r = r ?: csc_strv_from_json(doc, csc_json_get(v, "allowed_egress_hosts"), &p->allowed_egress_hosts);
        if (r < 0)
                return r;
        p->max_timeout_sec = csc_json_get(v, "max_timeout_sec")->integer.value;
        const char *net = csc_json_get_str(v, "network");
        for (size_t i = 0; i < 3; i++)
                if (strcmp(net, net_names[i]) == 0)
                        p->network = (csc_network)i;
        p->allow_secret_refs = csc_json_get(v, "allow_secret_refs")->boolean;
        const csc_json *rw = csc_json_get(v, "require_write_paths_empty");
        p->require_write_paths_empty = rw && rw->boolean;
        const csc_json *deny = csc_json_get(v, "deny_argv_prefixes");
        size_t n = deny ? deny->array.count : 0;
        p->deny_argv_prefixes = csc_json_doc_alloc(doc, (n + 1) * sizeof *p->deny_argv_prefixes);
        p->deny_argv_prefix_lens = csc_json_doc_alloc(doc, (n + 1) * sizeof *p->deny_argv_prefix_lens);
        if (!p->deny_argv_prefixes || !p->deny_argv_prefix_lens)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                csc_strv sv;
                r = csc_strv_from_json(doc, deny->array.items[i], &sv);
                if (r < 0)
                        return r;
                p->deny_argv_prefixes[i] = sv.v;
                p->deny_argv_prefix_lens[i] = sv.n;
        }
        p->n_deny_argv_prefixes = n;
        return 0;
}

/* Takes ownership of doc. */
static int from_doc(csc_json_doc *doc, const char *source, csc_policy **ret, csc_error *err) {
        const csc_json *root = csc_json_doc_root(doc);
        if (!root || root->type != CSC_JSON_OBJECT) {
                csc_json_doc_free(doc);
                return csc_error_set(err, -EINVAL, "", "policy must contain a YAML mapping at the top level");
        }
        int r = csc_validate_policy(root, err);
        if (r < 0) {
                csc_json_doc_free(doc);
                return r;
        }
        csc_policy *p = calloc(1, sizeof *p);
        if (!p) {
                csc_json_doc_free(doc);
                return -ENOMEM;
        }
        p->doc = doc;
        p->root = root;
        p->source = csc_json_doc_strdup(doc, source ? source : "<inline>");
        r = p->source ? csc_canon_sha256_hex(root, p->sha256) : -ENOMEM;
        r = r ?: build_views(p);
        if (r < 0) {
                csc_policy_free(p);
                return csc_error_set(err, r, "", "out of memory");
        }
        *ret = p;
        return 0;
}

int csc_policy_load_text(const char *text, size_t len, const char *source, csc_policy **ret, csc_error *err) {
        if (len > CSC_POLICY_MAX_BYTES)
                return csc_error_set(err, -EFBIG, "", "policy is %zu bytes; the limit is %d (512 KiB)", len,
                                     CSC_POLICY_MAX_BYTES);
        size_t i = 0;
        while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
                i++;
        csc_json_doc *doc = NULL;
        int r = i < len && text[i] == '{' ? csc_json_parse(text, len, &doc, err) : csc_yaml_parse(text, len, &doc, err);
        if (r < 0)
                return r;
        return from_doc(doc, source, ret, err);
}

int csc_policy_load_file(const char *path, csc_policy **ret, csc_error *err) {
        char *data = NULL;
        size_t len = 0;
        int r = csc_read_file(path, CSC_POLICY_MAX_BYTES, &data, &len);
        if (r == -EFBIG)
                return csc_error_set(err, r, "", "policy file '%s' is larger than 512 KiB (%d bytes); rejected before parsing",
                                     path, CSC_POLICY_MAX_BYTES);
        if (r < 0)
                return csc_error_set(err, r, "", "failed to read policy file '%s': %s", path, strerror(-r));
        r = csc_policy_load_text(data, len, path, ret, err);
        free(data);
        return r;
}

csc_policy *csc_policy_free(csc_policy *p) {
        if (p) {
                csc_json_doc_free(p->doc);
                free(p);
        }
        return NULL;
}
