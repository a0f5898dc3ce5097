/* approval_gate.c — approvals for a submit: validate and count (a pure
 * check), then consume as the last step before the command starts. */
#include "approval_gate.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approval.h"
#include "cleanup.h"
#include "timefmt.h"

#define MAX_APPROVALS 16

/* An approval is bound to the contract's hash, and so to its
 * actor.initiating_user: requiring that to be the submitting user's login
 * name keeps one user from running what another was approved for. */
static bool initiated_by(const csc_contract *c, const char *peer_user) {
        const csc_json *u = csc_json_get(csc_json_get(c->root, "actor"), "initiating_user");
        return peer_user && u && u->type == CSC_JSON_STRING && u->string.len == strlen(peer_user) &&
               memcmp(u->string.ptr, peer_user, u->string.len) == 0;
}

/* The approvals that are valid for c now, each approval_id once; the first
 * refusal's reason in first_failure. 0, or a negative errno. */
static int collect_valid(const csc_json *approvals, const csc_contract *c, const csc_approver_key *keys, size_t n_keys,
                         csc_approval_view valid[MAX_APPROVALS], size_t *n_valid, char *first_failure, size_t ff_size) {
        int64_t now = csc_time_now_usec();
        for (size_t i = 0; i < approvals->array.count; i++) {
                csc_approval_view v;
                char one[512];
                int r = csc_approval_check(approvals->array.items[i], c->sha256, now, keys, n_keys, &v, one, sizeof one);
                if (r < 0)
                        return r;
                if (r != CSC_APPROVAL_OK) {
                        if (!first_failure[0])
                                snprintf(first_failure, ff_size, "%s", one);
                        continue;
                }
                bool same_id = false;
                for (size_t k = 0; k < *n_valid; k++)
                        same_id |= strcmp(valid[k].approval_id, v.approval_id) == 0;
                if (!same_id)
                        valid[(*n_valid)++] = v;
        }
        return 0;
}

/* Distinct approvers: identities, and keys when signatures are required. */
static size_t count_distinct(const csc_approval_view *valid, size_t n_valid, bool signed_keys) {
        size_t distinct = 0;
        for (size_t i = 0; i < n_valid; i++) {
                bool seen = false;
                for (size_t k = 0; k < i; k++)
                        seen |= strcmp(valid[k].identity, valid[i].identity) == 0 ||
                                (signed_keys && valid[k].key_id && valid[i].key_id &&
                                 strcmp(valid[k].key_id, valid[i].key_id) == 0);
                distinct += !seen;
        }
        return distinct;
}

int approval_gate_check(const cscd_config *cfg, const csc_contract *c, const csc_json *approvals,
                        const char *peer_user, approval_plan *ret_plan, char *why, size_t why_size) {
        if (cfg->approval_requires_initiating_user && !initiated_by(c, peer_user)) {
                snprintf(why, why_size,
                         "a contract that needs approval must name its submitter: actor.initiating_user must be "
                         "'%s', the login name of the submitting user (approval_requires_initiating_user)",
                         peer_user ? peer_user : "(the submitting uid has no login name)");
                return 1;
        }
        size_t need = c->approval_mode == CSC_APPROVAL_DUAL_CONTROL_REQUIRED ? 2 : 1;
        size_t n = approvals && approvals->type == CSC_JSON_ARRAY ? approvals->array.count : 0;
        if (n == 0) {
                snprintf(why, why_size, "approval required: %s, and no approval was presented",
                         need == 2 ? "dual control needs two approvals from distinct approvers" : "one valid approval is needed");
                return 1;
        }
        if (n > MAX_APPROVALS) {
                snprintf(why, why_size, "too many approvals (%zu; at most %d)", n, MAX_APPROVALS);
                return 1;
        }
        csc_approver_key keys[64];
        size_t n_keys = cfg->n_approvers < 64 ? cfg->n_approvers : 64;
        for (size_t i = 0; i < n_keys; i++) {
                keys[i].identity = cfg->approvers[i].identity;
                keys[i].key.key_id = cfg->approvers[i].key_id;
                memcpy(keys[i].key.key, cfg->approvers[i].public_key, 32);
        }
        csc_approval_view valid[MAX_APPROVALS];
        size_t n_valid = 0;
        char first_failure[512] = "";
        int r = collect_valid(approvals, c, keys, n_keys, valid, &n_valid, first_failure, sizeof first_failure);
        if (r < 0)
                return r;
        size_t distinct = count_distinct(valid, n_valid, n_keys > 0);
        if (distinct < need) {
                if (need == 2 && n_valid >= 1)
                        snprintf(why, why_size,
                                 "dual control needs valid approvals from two distinct approvers; got %zu from %s%s%s",
                                 distinct, valid[0].identity, first_failure[0] ? "; also " : "", first_failure);
                else
                        snprintf(why, why_size, "no valid approval: %s", first_failure[0] ? first_failure : "none presented");
                return 1;
        }
        /* Decide which approvals the consume step records: one per distinct
         * approver, in order, until enough. */
        approval_plan plan = { .contract_sha256 = c->sha256 };
        for (size_t i = 0; i < n_valid && plan.n < need; i++) {
                bool dup = false;
                for (size_t k = 0; k < i; k++)
                        dup |= strcmp(valid[k].identity, valid[i].identity) == 0;
                if (dup)
                        continue;
                plan.use[plan.n].approval_id = valid[i].approval_id;
                plan.use[plan.n].scope = valid[i].scope;
                plan.use[plan.n].expires_at_usec = valid[i].expires_at_usec;
                plan.n++;
        }
        *ret_plan = plan;
        snprintf(why, why_size, "approved");
        return 0;
}

int approval_plan_dup(const approval_plan *src, approval_plan *dst) {
        *dst = (approval_plan){ .n = 0, .contract_sha256 = NULL };
        char *sha = strdup(src->contract_sha256 ? src->contract_sha256 : "");
        if (!sha)
                return -ENOMEM;
        dst->contract_sha256 = sha;
        for (size_t i = 0; i < src->n; i++) {
                _cleanup_free_ char *id = strdup(src->use[i].approval_id), *scope = strdup(src->use[i].scope);
                if (!id || !scope) {
                        approval_plan_clear(dst);
                        return -ENOMEM;
                }
                dst->use[i].approval_id = TAKE_PTR(id);
                dst->use[i].scope = TAKE_PTR(scope);
                dst->use[i].expires_at_usec = src->use[i].expires_at_usec;
                dst->n = i + 1;
        }
        return 0;
}

void approval_plan_clear(approval_plan *p) {
        for (size_t i = 0; i < p->n; i++) {
                free((char *)p->use[i].approval_id);
                free((char *)p->use[i].scope);
        }
        free((char *)p->contract_sha256);
        *p = (approval_plan){ 0 };
}

int approval_gate_consume(approval_store *store, const approval_plan *plan, const char *execution_id,
                          uid_t peer_uid, char *why, size_t why_size) {
        /* In order; each INSERT is committed (synchronous=FULL). A failure
         * after one consumption still blocks: that approval is spent, which
         * fails closed. */
        int64_t now = csc_time_now_usec();
        (void)approval_store_purge(store, now);   /* expired rows are no longer needed to refuse replays */
        for (size_t i = 0; i < plan->n; i++) {
                const char *id = plan->use[i].approval_id;
                int r = approval_store_consume(store, id, plan->use[i].scope, plan->contract_sha256,
                                               plan->use[i].expires_at_usec, execution_id, (uint32_t)peer_uid, now);
                if (r == -EEXIST) {
                        snprintf(why, why_size, "approval %s was already used (single_execution approvals run once)", id);
                        return 1;
                }
                if (r < 0) {
                        snprintf(why, why_size, "the approval store cannot record approval %s (%s); "
                                 "contracts that need approval are blocked until it is repaired", id, strerror(-r));
                        return 1;
                }
        }
        snprintf(why, why_size, "approved");
        return 0;
}
