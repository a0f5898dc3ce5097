/* decide.h — the decision engine of spec §3 and the PolicyDecision object.
 *
 * csc_decide() is pure: no allocation, no I/O. It follows spec §3's order,
 * including the STRICTER points: ".." segments in cwd/read/write paths are
 * denied with that check's scope code, and all commands are evaluated so a
 * deny anywhere wins over a needs_approval remembered earlier. */
#pragma once
#include <stddef.h>

#include "contract.h"
#include "json.h"
#include "csc_limits.h"
#include "policy.h"

typedef enum csc_verdict { CSC_VERDICT_ALLOW, CSC_VERDICT_DENY, CSC_VERDICT_NEEDS_APPROVAL } csc_verdict;

typedef struct csc_classified_effect {
        const char *command_id;
        const char *effect_type;
} csc_classified_effect;

typedef struct csc_decision {
        csc_verdict verdict;
        const char *code;          /* reason code, e.g. "CWD_NOT_ALLOWED" */
        char reason[1024];         /* human reason */
        char where[128];           /* JSON path of the offending value in the contract, "" if none */
        const char *policy_key;    /* the policy rule that decided, e.g. "allowed_cwd_prefixes" */
        csc_classified_effect effects[CSC_MAX_COMMANDS];
        size_t n_effects;
} csc_decision;

void csc_decide(const csc_contract *c, const csc_policy *p, csc_decision *ret);

const char *csc_verdict_name(csc_verdict v);   /* "allow", "deny", "needs_approval" */
/* How long a PolicyDecision stays valid (its expires_at is now + this). */
#define CSC_DECISION_VALID_SEC (15 * 60)
/* Builds the PolicyDecision object (schema: decision) in doc, expiring
 * valid_for_sec from now. 0 or -ENOMEM. */
int csc_decision_to_json(const csc_decision *d, const csc_contract *c, const csc_policy *p,
                         int64_t valid_for_sec, csc_json_doc *doc, csc_json **ret);
