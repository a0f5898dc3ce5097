/* approval.h — checking ApprovalArtifacts (spec §7) against a contract.
 *
 * Pure checks, no state: the consumed-approval store lives in the daemon.
 * Each failure has its own reason so a blocked receipt can say which rule
 * failed for which approval_id. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "sign.h"

#define CSC_APPROVAL_CLOCK_SKEW_USEC (60 * 1000000LL)   /* approved_at may be this far in the future */

typedef enum csc_approval_result {
        CSC_APPROVAL_OK = 0,
        CSC_APPROVAL_INVALID,          /* schema */
        CSC_APPROVAL_WRONG_CONTRACT,   /* contract_sha256 differs */
        CSC_APPROVAL_BAD_WINDOW,       /* expires_at <= approved_at */
        CSC_APPROVAL_EXPIRED,          /* now >= expires_at */
        CSC_APPROVAL_FUTURE,           /* approved_at beyond the skew allowance */
        CSC_APPROVAL_UNSIGNED,         /* signatures required, none present */
        CSC_APPROVAL_BAD_SIGNATURE,    /* signature does not verify / unknown key */
        CSC_APPROVAL_WRONG_IDENTITY,   /* the key may not claim this approver identity */
} csc_approval_result;

/* A trusted approver key and the identity it may claim. */
typedef struct csc_approver_key {
        csc_public_key key;            /* key.key_id names the key */
        const char *identity;
} csc_approver_key;

typedef struct csc_approval_view {
        const char *approval_id;
        const char *identity;
        const char *scope;             /* single_execution | time_window */
        const char *key_id;            /* signing key id when signed, else NULL */
        int64_t approved_at_usec, expires_at_usec;
} csc_approval_view;

/* Checks one approval. keys/n_keys: when n_keys > 0 a valid signature from a
 * listed key whose identity matches approver.identity is required. Fills
 * *ret_view (when the schema is valid) and a human reason in why.
 * Returns the result (never negative except -ENOMEM). */
int csc_approval_check(const csc_json *approval, const char *contract_sha256, int64_t now_usec,
                       const csc_approver_key *keys, size_t n_keys, csc_approval_view *ret_view,
                       char *why, size_t why_size);
const char *csc_approval_result_str(csc_approval_result r);
