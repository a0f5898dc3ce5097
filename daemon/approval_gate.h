/* approval_gate.h — may a contract that needs approval run? (spec §7)
 *
 * Checks the approvals sent with a submit against the contract's hash, the
 * daemon's clock and (when cscd.conf lists approvers) their signatures and
 * identities; requires one valid approval for human_required (and for a
 * policy's manual-approval effects), two from distinct approvers (and keys)
 * for dual_control_required. The check consumes nothing; the consume step,
 * the last one before the command starts, spends single_execution approvals
 * in the persistent store. Fails closed when the store is unavailable. */
#pragma once
#include <stddef.h>
#include <sys/types.h>

#include "approval_store.h"
#include "config.h"
#include "contract.h"
#include "json.h"

/* The approvals approval_gate_consume() will record. Strings are borrowed
 * from the submit's approvals array and the contract: valid while both are. */
typedef struct approval_plan {
        size_t n;
        struct {
                const char *approval_id, *scope;
                int64_t expires_at_usec;
        } use[2];
        const char *contract_sha256;
} approval_plan;

/* Pure check: validates the approvals (and, when cfg says so, that the
 * contract's actor.initiating_user is the submitting user peer_user, NULL
 * when the uid has no name), decides which approvals would be consumed and
 * consumes nothing. 0: approved, *ret_plan filled. 1: blocked, why says
 * which rule failed for which approval_id. Negative errno: out of memory. */
int approval_gate_check(const cscd_config *cfg, const csc_contract *c, const csc_json *approvals,
                        const char *peer_user, approval_plan *ret_plan, char *why, size_t why_size);

/* A copy of plan whose strings *dst owns (the submit's approvals array does
 * not outlive the request). 0 or -ENOMEM. Free with approval_plan_clear(). */
int approval_plan_dup(const approval_plan *src, approval_plan *dst);
void approval_plan_clear(approval_plan *p);

/* Records the plan in the persistent store (single_execution approvals are
 * spent here): call it last, immediately before the command starts, so a
 * refusal that could still come cannot burn an approval. 0: recorded.
 * 1: blocked (a replay, or the store cannot record; fails closed), why says so. */
int approval_gate_consume(approval_store *store, const approval_plan *plan, const char *execution_id,
                          uid_t peer_uid, char *why, size_t why_size);
