/* approval_gate.c — approvals for a submit: validate, count, consume. */
#include "approval_gate.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approval.h"
#include "timefmt.h"

#define MAX_APPROVALS 16

int approval_gate(approval_store *store, const cscd_config *cfg, const csc_contract *c, const csc_json *approvals,
                  const char *execution_id, uid_t peer_uid, char *why, size_t why_size) {
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
        int64_t now = csc_time_now_usec();
        csc_approval_view valid[MAX_APPROVALS];
        size_t n_valid = 0;
        char first_failure[512] = "";
        for (size_t i = 0; i < n; i++) {
                csc_approval_view v;
                char one[512];
                int r = csc_approval_check(approvals->array.items[i], c->sha256, now, keys, n_keys, &v, one, sizeof one);
                if (r < 0)
                        return r;
                if (r != CSC_APPROVAL_OK) {
                        if (!first_failure[0])
                                snprintf(first_failure, sizeof first_failure, "%s", one);
                        continue;
                }
                bool same_id = false;
                for (size_t k = 0; k < n_valid; k++)
                        same_id |= strcmp(valid[k].approval_id, v.approval_id) == 0;
                if (!same_id)
                        valid[n_valid++] = v;
        }
        /* Distinct approvers: identities, and keys when signatures are required. */
        size_t distinct = 0;
        for (size_t i = 0; i < n_valid; i++) {
                bool seen = false;
                for (size_t k = 0; k < i; k++)
                        seen |= strcmp(valid[k].identity, valid[i].identity) == 0 ||
                                (n_keys > 0 && valid[k].key_id && valid[i].key_id &&
                                 strcmp(valid[k].key_id, valid[i].key_id) == 0);
                distinct += !seen;
        }
        if (distinct < need) {
                if (need == 2 && n_valid >= 1)
                        snprintf(why, why_size,
                                 "dual control needs valid approvals from two distinct approvers; got %zu from %s%s%s",
                                 distinct, valid[0].identity, first_failure[0] ? "; also " : "", first_failure);
                else
                        snprintf(why, why_size, "no valid approval: %s", first_failure[0] ? first_failure : "none presented");
                return 1;
        }
        /* Consume, in order, before anything runs (the INSERT is committed,
         * synchronous=FULL). A failure after one consumption still blocks:
         * the approval is spent, which fails closed. */
        (void)approval_store_purge(store, now);   /* expired rows are no longer needed to refuse replays */
        size_t used = 0;
        for (size_t i = 0; i < n_valid && used < need; i++) {
                bool dup = false;
                for (size_t k = 0; k < i; k++)
                        dup |= strcmp(valid[k].identity, valid[i].identity) == 0;
                if (dup)
                        continue;
                int r = approval_store_consume(store, valid[i].approval_id, valid[i].scope, c->sha256,
                                               valid[i].expires_at_usec, execution_id, (uint32_t)peer_uid, now);
                if (r == -EEXIST) {
                        snprintf(why, why_size, "approval %s was already used (single_execution approvals run once)",
                                 valid[i].approval_id);
                        return 1;
                }
                if (r < 0) {
                        snprintf(why, why_size, "the approval store cannot record approval %s (%s); "
                                 "contracts that need approval are blocked until it is repaired",
                                 valid[i].approval_id, strerror(-r));
                        return 1;
                }
                used++;
        }
        snprintf(why, why_size, "approved");
        return 0;
}
