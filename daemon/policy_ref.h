/* policy_ref.h — a loaded policy shared by the executions it decided: reload
 * swaps the manager's reference, in-flight executions keep theirs. */
#pragma once
#include "cleanup.h"
#include "policy.h"

typedef struct policy_ref {
        csc_policy *policy;
        unsigned n_ref;
} policy_ref;

/* Another reference to p (NULL stays NULL). */
policy_ref *policy_ref_get(policy_ref *p);
/* Drops one reference; the last one frees the policy. Returns NULL. */
policy_ref *policy_ref_put(policy_ref *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(policy_ref *, policy_ref_put);
