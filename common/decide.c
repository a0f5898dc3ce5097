/* decide.c — spec §3 decision algorithm and PolicyDecision building. */
#include "decide.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "timefmt.h"

const char *csc_verdict_name(csc_verdict v) {
        switch (v) {
        case CSC_VERDICT_ALLOW:          return "allow";
        case CSC_VERDICT_DENY:           return "deny";
        case CSC_VERDICT_NEEDS_APPROVAL: return "needs_approval";
        }
        return "unknown";
}

static bool strv_has(const csc_strv *v, const char *s) {
        for (size_t i = 0; i < v->n; i++)
                if (strcmp(v->v[i], s) == 0)
                        return true;
        return false;
}

__attribute__((format(printf, 5, 6)))
static void deny(csc_decision *d, const char *code, const char *policy_key, const char *where, const char *fmt, ...) {
        d->verdict = CSC_VERDICT_DENY;
        d->code = code;
        d->policy_key = policy_key;
        snprintf(d->where, sizeof d->where, "%s", where);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->reason, sizeof d->reason, fmt, ap);
        va_end(ap);
}

/* The argv joined by single spaces (spec §3), allocated; NULL on ENOMEM. */
static char *join_argv(const csc_strv *argv) {
        size_t total = 1;
        for (size_t i = 0; i < argv->n; i++)
                total += strlen(argv->v[i]) + 1;
        char *j = malloc(total), *o = j;
        if (!j)
                return NULL;
        for (size_t i = 0; i < argv->n; i++) {
                size_t l = strlen(argv->v[i]);
                if (i > 0)
                        *o++ = ' ';
                memcpy(o, argv->v[i], l);
                o += l;
        }
        *o = 0;
        return j;
}

/* Spec §3's starter rule: curl whose space-joined argv contains an
 * allowed_egress_hosts entry that contains "stripe" is a financial_action,
 * other curl a fetch_external. Always the joined form, whatever its length;
 * when it cannot be built (out of memory) the stricter class is returned. */
static const char *classify(const csc_command *cmd, const csc_policy *p) {
        const csc_strv *argv = &cmd->argvs[0];
        if (strcmp(argv->v[0], "curl") != 0)
                return cmd->effect;
        const char *effect = "fetch_external";
        char *joined = NULL;
        for (size_t h = 0; h < p->allowed_egress_hosts.n; h++) {
                const char *host = p->allowed_egress_hosts.v[h];
                if (!strstr(host, "stripe"))
                        continue;
                if (!joined && !(joined = join_argv(argv))) {
                        effect = "financial_action";   /* fail closed */
                        break;
                }
                if (strstr(joined, host)) {
                        effect = "financial_action";
                        break;
                }
        }
        free(joined);
        return effect;
}

static bool check_argvs(const csc_command *cmd, size_t ci, const csc_policy *p, csc_decision *d) {
        for (size_t s = 0; s < cmd->n_argvs; s++) {
                const csc_strv *argv = &cmd->argvs[s];
                char where[96];
                if (cmd->is_pipeline)
                        snprintf(where, sizeof where, "commands[%zu].pipeline.segments[%zu].argv", ci, s);
                else
                        snprintf(where, sizeof where, "commands[%zu].exec.argv", ci);
                if (!strv_has(&p->allow_commands, argv->v[0])) {
                        deny(d, "COMMAND_NOT_ALLOWED", "allow_commands", where,
                             "command '%.200s' is not in allow_commands", argv->v[0]);
                        return false;
                }
                for (size_t k = 0; k < p->n_deny_argv_prefixes; k++) {
                        size_t n = p->deny_argv_prefix_lens[k];
                        if (n > argv->n)
                                continue;
                        bool eq = true;
                        for (size_t i = 0; i < n && eq; i++)
                                eq = strcmp(argv->v[i], p->deny_argv_prefixes[k][i]) == 0;
                        if (eq) {
                                deny(d, "ARGV_PREFIX_DENIED", "deny_argv_prefixes", where,
                                     "argv of command '%.100s' starts with denied prefix #%zu ('%.100s'...)",
                                     cmd->id, k + 1, p->deny_argv_prefixes[k][0]);
                                return false;
                        }
                }
        }
        return true;
}

/* One scope check for a path: ".." (STRICTER), absoluteness, prefix. */
static bool check_scope(const char *path, const csc_strv *prefixes, const char *code, const char *policy_key,
                        const char *what, const char *where, csc_decision *d) {
        if (path[0] != '/' && csc_path_flavour_of(path) == CSC_PATH_POSIX) {
                deny(d, "PATH_NOT_ABSOLUTE", policy_key, where, "%s '%.300s' is not an absolute path", what, path);
                return false;
        }
        if (csc_path_has_dotdot(path)) {
                deny(d, code, policy_key, where, "%s '%.300s' contains a '..' segment", what, path);
                return false;
        }
        if (!csc_path_under_any(path, prefixes->v, prefixes->n)) {
                deny(d, code, policy_key, where, "%s '%.300s' is not under %s", what, path, policy_key);
                return false;
        }
        return true;
}

/* Spec §3 steps 2.3–2.11 for one command; false when it denied. */
static bool check_command(const csc_command *cmd, size_t ci, const csc_policy *p, csc_decision *d,
                          const char *classified, bool *needs_approval) {
        char where[96];
        if (!strv_has(&p->allowed_effect_types, cmd->effect)) {
                snprintf(where, sizeof where, "commands[%zu].proposed_effect_type", ci);
                deny(d, "EFFECT_TYPE_NOT_ALLOWED", "allowed_effect_types", where,
                     "effect type '%s' of command '%.100s' is not allowed", cmd->effect, cmd->id);
                return false;
        }
        if (strv_has(&p->manual_approval_effects, classified) && !*needs_approval) {
                *needs_approval = true;
                /* The first trigger names itself: an approver must see what is being approved. */
                snprintf(d->reason, sizeof d->reason,
                         "effect type '%s' of command '%.100s' requires manual approval under policy '%.200s'",
                         classified, cmd->id, p->name);
        }
        if (cmd->timeout_sec > p->max_timeout_sec) {
                snprintf(where, sizeof where, "commands[%zu].timeout_sec", ci);
                deny(d, "TIMEOUT_EXCEEDS_POLICY", "max_timeout_sec", where,
                     "timeout %lld s of command '%.100s' exceeds the policy maximum of %lld s",
                     (long long) cmd->timeout_sec, cmd->id, (long long) p->max_timeout_sec);
                return false;
        }
        if (cmd->network > p->network) {
                snprintf(where, sizeof where, "commands[%zu].network", ci);
                deny(d, "NETWORK_EXCEEDS_POLICY", "network", where,
                     "network '%s' of command '%.100s' exceeds the policy's '%s'",
                     csc_network_name(cmd->network), cmd->id, csc_network_name(p->network));
                return false;
        }
        if (cmd->secret_refs.n > 0 && !p->allow_secret_refs) {
                snprintf(where, sizeof where, "commands[%zu].secret_refs", ci);
                deny(d, "SECRET_REF_NOT_ALLOWED", "allow_secret_refs", where,
                     "command '%.100s' references secrets but the policy does not allow secret refs", cmd->id);
                return false;
        }
        snprintf(where, sizeof where, "commands[%zu].cwd", ci);
        if (!check_scope(cmd->cwd, &p->allowed_cwd_prefixes, "CWD_NOT_ALLOWED", "allowed_cwd_prefixes", "cwd",
                         where, d))
                return false;
        for (size_t i = 0; i < cmd->read_paths.n; i++) {
                snprintf(where, sizeof where, "commands[%zu].read_paths[%zu]", ci, i);
                if (!check_scope(cmd->read_paths.v[i], &p->allowed_read_prefixes, "READ_SCOPE_DENIED",
                                 "allowed_read_prefixes", "read path", where, d))
                        return false;
        }
        if (p->require_write_paths_empty && cmd->write_paths.n > 0) {
                snprintf(where, sizeof where, "commands[%zu].write_paths", ci);
                deny(d, "WRITE_PATHS_NOT_EMPTY", "require_write_paths_empty", where,
                     "command '%.100s' declares write paths but the policy requires none", cmd->id);
                return false;
        }
        for (size_t i = 0; i < cmd->write_paths.n; i++) {
                snprintf(where, sizeof where, "commands[%zu].write_paths[%zu]", ci, i);
                if (!check_scope(cmd->write_paths.v[i], &p->allowed_write_prefixes, "WRITE_SCOPE_DENIED",
                                 "allowed_write_prefixes", "write path", where, d))
                        return false;
        }
        return true;
}

void csc_decide(const csc_contract *c, const csc_policy *p, csc_decision *d) {
        memset(d, 0, sizeof *d);
        if (!strv_has(&p->allowed_risk_classes, c->risk_name)) {
                deny(d, "RISK_CLASS_NOT_ALLOWED", "allowed_risk_classes", "risk_class",
                     "risk class '%s' is not allowed by policy '%.200s'", c->risk_name, p->name);
                return;
        }
        bool needs_approval = false;
        for (size_t ci = 0; ci < c->n_commands; ci++) {
                const csc_command *cmd = &c->commands[ci];
                if (!check_argvs(cmd, ci, p, d))
                        return;
                const char *classified = classify(cmd, p);
                d->effects[d->n_effects++] = (csc_classified_effect) { cmd->id, classified };
                if (!check_command(cmd, ci, p, d, classified, &needs_approval))
                        return;
        }
        if (needs_approval || c->approval_mode != CSC_APPROVAL_POLICY_ONLY) {
                d->verdict = CSC_VERDICT_NEEDS_APPROVAL;
                d->code = "APPROVAL_REQUIRED";
                d->policy_key = needs_approval ? "manual_approval_for_classified_effect_types" : NULL;
                snprintf(d->where, sizeof d->where, "%s", needs_approval ? "" : "approval_mode");
                if (!needs_approval)
                        snprintf(d->reason, sizeof d->reason, "approval mode '%s' requires human approval",
                                 c->approval_mode == CSC_APPROVAL_HUMAN_REQUIRED ? "human_required"
                                                                                 : "dual_control_required");
                return;
        }
        d->verdict = CSC_VERDICT_ALLOW;
        d->code = "ALLOW";
        snprintf(d->reason, sizeof d->reason, "allowed by policy '%.200s'", p->name);
}

int csc_decision_to_json(const csc_decision *d, const csc_contract *c, const csc_policy *p,
                         int64_t valid_for_sec, csc_json_doc *doc, csc_json **ret) {
        char expires_at[CSC_TIME_BUF];
        csc_time_format_in(valid_for_sec, expires_at);
        csc_json *o = csc_json_new_object(doc);
        csc_json *reasons = csc_json_new_array(doc), *codes = csc_json_new_array(doc);
        csc_json *effects = csc_json_new_array(doc);
        if (!o || !reasons || !codes || !effects)
                return -ENOMEM;
        int r = 0;
        for (size_t i = 0; i < d->n_effects && r >= 0; i++) {
                csc_json *e = csc_json_new_object(doc);
                if (!e)
                        return -ENOMEM;
                r = csc_json_object_set(doc, e, "command_id", csc_json_new_string(doc, d->effects[i].command_id));
                if (r >= 0)
                        r = csc_json_object_set(doc, e, "effect_type", csc_json_new_string(doc, d->effects[i].effect_type));
                if (r >= 0)
                        r = csc_json_array_append(doc, effects, e);
        }
        if (r >= 0) r = csc_json_array_append(doc, reasons, csc_json_new_string(doc, d->reason));
        if (r >= 0) r = csc_json_array_append(doc, codes, csc_json_new_string(doc, d->code));
        if (r >= 0) r = csc_json_object_set(doc, o, "contract_id", csc_json_new_string(doc, c->contract_id));
        if (r >= 0) r = csc_json_object_set(doc, o, "decision", csc_json_new_string(doc, csc_verdict_name(d->verdict)));
        if (r >= 0) r = csc_json_object_set(doc, o, "policy_profile", csc_json_new_string(doc, p->name));
        if (r >= 0) r = csc_json_object_set(doc, o, "reasons", reasons);
        if (r >= 0) r = csc_json_object_set(doc, o, "reason_codes", codes);
        if (r >= 0) r = csc_json_object_set(doc, o, "expires_at", csc_json_new_string(doc, expires_at));
        if (r >= 0) r = csc_json_object_set(doc, o, "contract_sha256", csc_json_new_string(doc, c->sha256));
        if (r >= 0) r = csc_json_object_set(doc, o, "classified_effects", effects);
        if (r < 0)
                return r;
        *ret = o;
        return 0;
}
