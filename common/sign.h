/* sign.h — Ed25519 signatures over canonical JSON (spec §6).
 *
 * A signed object carries "signature": {"algorithm":"ed25519","key_id":…,
 * "signed_at":…,"signature":<base64>}. The payload is the canonical JSON of
 * the whole object as emitted with only signature.signature removed. */
#pragma once
#include <stddef.h>

#include "error.h"
#include "json.h"
#include "keys.h"

typedef struct csc_public_key {
        const char *key_id;        /* NULL: matches any key_id */
        unsigned char key[32];
} csc_public_key;

typedef enum csc_verify_result {
        CSC_VERIFY_OK = 0,
        CSC_VERIFY_MISSING_SIGNATURE,
        CSC_VERIFY_SIGNATURE_NOT_OBJECT,
        CSC_VERIFY_BAD_ALGORITHM,
        CSC_VERIFY_MISSING_KEY_ID,
        CSC_VERIFY_MISSING_VALUE,
        CSC_VERIFY_BAD_BASE64,
        CSC_VERIFY_UNKNOWN_KEY_ID,
        CSC_VERIFY_BAD_KEY,
        CSC_VERIFY_BAD_SIGNATURE,
} csc_verify_result;

const char *csc_verify_result_str(csc_verify_result r);

/* Sets obj.signature (replacing any) and signs obj with key. obj must be an
 * object in doc. 0, -EINVAL (not an object), -ENOMEM. */
int csc_sign_object(csc_json_doc *doc, csc_json *obj, const csc_signing_key *key, const char *signed_at,
                    csc_error *err);
/* Verifies obj against keys[0..n). expected_key_id (may be NULL) must equal
 * the object's key_id when given. Returns 0 with *res set (CSC_VERIFY_OK or
 * the reason), or -ENOMEM. */
int csc_verify_object(const csc_json *obj, const csc_public_key *keys, size_t n, const char *expected_key_id,
                      csc_verify_result *res);
