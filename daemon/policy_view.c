/* policy_view.c — builds the `policy` reply: the live policy's rules as the
 * asking user sees them. Read-only: it copies values out of the typed policy
 * and config and never decides anything itself. */
#include "policy_view.h"

#include <errno.h>

static csc_json *strv_json(csc_json_doc *doc, const csc_strv *v) {
        csc_json *a = csc_json_new_array(doc);
        for (size_t i = 0; a && i < v->n; i++)
                if (csc_json_array_append(doc, a, csc_json_new_string(doc, v->v[i])) < 0)
                        return NULL;
        return a;
}

static csc_json *deny_prefixes_json(csc_json_doc *doc, const csc_policy *p) {
        csc_json *a = csc_json_new_array(doc);
        for (size_t k = 0; a && k < p->n_deny_argv_prefixes; k++) {
                csc_strv sv = { .v = p->deny_argv_prefixes[k], .n = p->deny_argv_prefix_lens[k] };
                if (csc_json_array_append(doc, a, strv_json(doc, &sv)) < 0)
                        return NULL;
        }
        return a;
}

static csc_json *user_json(csc_json_doc *doc, const cscd_peer *peer) {
        csc_json *u = csc_json_new_object(doc);
        int r = u ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, u, "uid", csc_json_new_int(doc, (int64_t) peer->uid));
        r = r ?: csc_json_object_set(doc, u, "name", peer->user_name ? csc_json_new_string(doc, peer->user_name)
                                                                      : csc_json_new_null(doc));
        return r < 0 ? NULL : u;
}

int policy_view_json(const csc_policy *p, const cscd_peer *peer, const cscd_config *cfg, csc_json_doc *doc,
                     csc_json **ret) {
        csc_json *o = csc_json_new_object(doc);
        int r = o ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "type", csc_json_new_string(doc, "policy"));
        r = r ?: csc_json_object_set(doc, o, "policy_profile", csc_json_new_string(doc, p->name));
        r = r ?: csc_json_object_set(doc, o, "policy_sha256", csc_json_new_string(doc, p->sha256));
        r = r ?: csc_json_object_set(doc, o, "user", user_json(doc, peer));
        r = r ?: csc_json_object_set(doc, o, "allow_commands", strv_json(doc, &p->allow_commands));
        r = r ?: csc_json_object_set(doc, o, "deny_argv_prefixes", deny_prefixes_json(doc, p));
        r = r ?: csc_json_object_set(doc, o, "allowed_effect_types", strv_json(doc, &p->allowed_effect_types));
        r = r ?: csc_json_object_set(doc, o, "approval_required_effect_types",
                                     strv_json(doc, &p->manual_approval_effects));
        r = r ?: csc_json_object_set(doc, o, "allowed_risk_classes", strv_json(doc, &p->allowed_risk_classes));
        r = r ?: csc_json_object_set(doc, o, "max_timeout_sec", csc_json_new_int(doc, p->max_timeout_sec));
        r = r ?: csc_json_object_set(doc, o, "network", csc_json_new_string(doc, csc_network_name(p->network)));
        r = r ?: csc_json_object_set(doc, o, "allowed_egress_hosts", strv_json(doc, &p->allowed_egress_hosts));
        r = r ?: csc_json_object_set(doc, o, "allowed_cwd_prefixes", strv_json(doc, &p->allowed_cwd_prefixes));
        r = r ?: csc_json_object_set(doc, o, "allowed_read_prefixes", strv_json(doc, &p->allowed_read_prefixes));
        r = r ?: csc_json_object_set(doc, o, "allowed_write_prefixes", strv_json(doc, &p->allowed_write_prefixes));
        r = r ?: csc_json_object_set(doc, o, "require_write_paths_empty", csc_json_new_bool(doc, p->require_write_paths_empty));
        r = r ?: csc_json_object_set(doc, o, "allow_secret_refs", csc_json_new_bool(doc, p->allow_secret_refs));
        /* The daemon's advisory block narrows allow_commands: say so, or an agent plans a shell it cannot run. */
        r = r ?: csc_json_object_set(doc, o, "block_interpreters", csc_json_new_bool(doc, cfg->block_interpreters));
        /* Client variables a command may receive (cscd.conf); any other env_allow name is blocked. */
        csc_strv env = { .v = (const char **) cfg->allow_env_names.v, .n = cfg->allow_env_names.n };
        r = r ?: csc_json_object_set(doc, o, "allow_env_names", strv_json(doc, &env));
        if (r < 0)
                return -ENOMEM;
        *ret = o;
        return 0;
}
