/* approval_gate.h — may a contract that needs approval run? (spec §7)
 *
 * Checks the approvals sent with a submit against the contract's hash, the
 * daemon's clock and (when cscd.conf lists approvers) their signatures and
 * identities; requires one valid approval for human_required (and for a
 * policy's manual-approval effects), two from distinct approvers (and keys)
 * for dual_control_required; then consumes single_execution approvals in the
 * persistent store before anything runs. Fails closed when the store is
 * unavailable. */
#pragma once
#include <stddef.h>
#include <sys/types.h>

#include "approval_store.h"
#include "config.h"
#include "contract.h"
#include "json.h"

/* 0: approved and consumed. 1: blocked, why says which rule failed for which
 * approval_id. Negative errno: out of memory. */
int approval_gate(approval_store *store, const cscd_config *cfg, const csc_contract *c, const csc_json *approvals,
                  const char *execution_id, uid_t peer_uid, char *why, size_t why_size);
