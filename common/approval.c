/* approval.c — spec §7 approval rules plus approver authentication. */
#include "approval.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "timefmt.h"
#include "validate.h"

const char *csc_approval_result_str(csc_approval_result r) {
        switch (r) {
        case CSC_APPROVAL_OK:             return "valid";
        case CSC_APPROVAL_INVALID:        return "invalid approval";
        case CSC_APPROVAL_WRONG_CONTRACT: return "approval is for another contract (its contract_sha256 differs)";
        case CSC_APPROVAL_BAD_WINDOW:     return "expires_at is not after approved_at";
        case CSC_APPROVAL_EXPIRED:        return "approval has expired";
        case CSC_APPROVAL_FUTURE:         return "approved_at is in the future";
        case CSC_APPROVAL_UNSIGNED:       return "approval is not signed but signatures are required";
        case CSC_APPROVAL_BAD_SIGNATURE:  return "approval signature does not verify";
        case CSC_APPROVAL_WRONG_IDENTITY: return "signing key may not claim this approver identity";
        }
        return "unknown";
}

int csc_approval_check(const csc_json *a, const char *contract_sha256, int64_t now_usec,
                       const csc_approver_key *keys, size_t n_keys, csc_approval_view *v,
                       char *why, size_t why_size) {
        csc_error err = { 0 };
        memset(v, 0, sizeof *v);
        if (csc_validate_approval(a, &err) < 0) {
                const char *id = a && a->type == CSC_JSON_OBJECT ? csc_json_get_str(a, "approval_id") : NULL;
                snprintf(why, why_size, "approval %s: %s%s%s", id ? id : "(no approval_id)", err.path,
                         err.path[0] ? ": " : "", err.message);
                return CSC_APPROVAL_INVALID;
        }
        v->approval_id = csc_json_get_str(a, "approval_id");
        v->identity = csc_json_get_str(csc_json_get(a, "approver"), "identity");
        v->scope = csc_json_get_str(a, "scope");
        const csc_json *sig = csc_json_get(a, "signature");
        v->key_id = sig ? csc_json_get_str(sig, "key_id") : NULL;
        if (csc_time_parse(csc_json_get_str(a, "approved_at"), &v->approved_at_usec) < 0 ||
            csc_time_parse(csc_json_get_str(a, "expires_at"), &v->expires_at_usec) < 0) {
                snprintf(why, why_size, "approval %s: unparseable timestamp", v->approval_id);
                return CSC_APPROVAL_INVALID;
        }
        csc_approval_result r = CSC_APPROVAL_OK;
        if (strcasecmp(csc_json_get_str(a, "contract_sha256"), contract_sha256) != 0)
                r = CSC_APPROVAL_WRONG_CONTRACT;
        else if (v->expires_at_usec <= v->approved_at_usec)
                r = CSC_APPROVAL_BAD_WINDOW;
        else if (now_usec >= v->expires_at_usec)
                r = CSC_APPROVAL_EXPIRED;
        else if (v->approved_at_usec > now_usec + CSC_APPROVAL_CLOCK_SKEW_USEC)
                r = CSC_APPROVAL_FUTURE;
        else if (n_keys > 0) {
                if (!sig)
                        r = CSC_APPROVAL_UNSIGNED;
                else {
                        const csc_approver_key *k = NULL;
                        for (size_t i = 0; i < n_keys && !k; i++)
                                if (v->key_id && strcmp(keys[i].key.key_id, v->key_id) == 0)
                                        k = &keys[i];
                        csc_verify_result vr = CSC_VERIFY_UNKNOWN_KEY_ID;
                        if (k) {
                                int q = csc_verify_object(a, &k->key, 1, k->key.key_id, &vr);
                                if (q < 0)
                                        return q;
                        }
                        if (vr != CSC_VERIFY_OK) {
                                snprintf(why, why_size, "approval %s: %s (%s)", v->approval_id,
                                         csc_approval_result_str(CSC_APPROVAL_BAD_SIGNATURE), csc_verify_result_str(vr));
                                return CSC_APPROVAL_BAD_SIGNATURE;
                        }
                        if (strcmp(k->identity, v->identity) != 0)
                                r = CSC_APPROVAL_WRONG_IDENTITY;
                }
        }
        if (r != CSC_APPROVAL_OK)
                snprintf(why, why_size, "approval %s: %s", v->approval_id, csc_approval_result_str(r));
        else
                snprintf(why, why_size, "approval %s by %s: valid", v->approval_id, v->identity);
        return r;
}
