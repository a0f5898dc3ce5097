/* sign.c — signing and verifying CSC objects with libsodium's Ed25519. */
#include "sign.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "canon.h"

const char *csc_verify_result_str(csc_verify_result r) {
        switch (r) {
        case CSC_VERIFY_OK: return "valid signature";
        case CSC_VERIFY_MISSING_SIGNATURE: return "missing signature";
        case CSC_VERIFY_SIGNATURE_NOT_OBJECT: return "signature is not an object";
        case CSC_VERIFY_BAD_ALGORITHM: return "unsupported signature algorithm (want ed25519)";
        case CSC_VERIFY_MISSING_KEY_ID: return "signature has no key_id";
        case CSC_VERIFY_MISSING_VALUE: return "signature has no signature value";
        case CSC_VERIFY_BAD_BASE64: return "signature value is not valid base64";
        case CSC_VERIFY_UNKNOWN_KEY_ID: return "unknown key_id";
        case CSC_VERIFY_BAD_KEY: return "bad public key material";
        case CSC_VERIFY_BAD_SIGNATURE: return "bad signature";
        }
        return "unknown verification result";
}

/* Canonical payload: obj with signature.signature removed (on a copy). */
static int payload(const csc_json *obj, csc_buf *out) {
        csc_json_doc *tmp = csc_json_doc_new();
        csc_json *copy = tmp ? csc_json_copy(tmp, obj) : NULL;
        if (!copy) {
                csc_json_doc_free(tmp);
                return -ENOMEM;
        }
        csc_json *sig = csc_json_get(copy, "signature");
        if (sig && sig->type == CSC_JSON_OBJECT)
                csc_json_object_remove(sig, "signature");
        int r = csc_canon_write(copy, out);
        csc_json_doc_free(tmp);
        return r;
}

int csc_sign_object(csc_json_doc *doc, csc_json *obj, const csc_signing_key *key, const char *signed_at,
                    csc_error *err) {
        if (!obj || obj->type != CSC_JSON_OBJECT)
                return csc_error_set(err, -EINVAL, "", "only objects can be signed");
        csc_json *sig = csc_json_new_object(doc);
        if (!sig)
                return -ENOMEM;
        int r = csc_json_object_set(doc, sig, "algorithm", csc_json_new_string(doc, "ed25519"));
        r = r ?: csc_json_object_set(doc, sig, "key_id", csc_json_new_string(doc, csc_signing_key_id(key)));
        r = r ?: csc_json_object_set(doc, sig, "signed_at", csc_json_new_string(doc, signed_at));
        r = r ?: csc_json_object_set(doc, obj, "signature", sig);
        if (r < 0)
                return -ENOMEM;
        csc_buf buf = CSC_BUF_INIT;
        r = payload(obj, &buf);
        if (r < 0) {
                csc_buf_free(&buf);
                return csc_error_set(err, r, "", "cannot canonicalize: %s", strerror(-r));
        }
        unsigned char s[64];
        csc_signing_key_sign(key, buf.data, buf.len, s);
        csc_buf_free(&buf);
        char *b64 = NULL;
        r = csc_base64_encode(s, sizeof s, &b64);
        csc_json *v = r < 0 ? NULL : csc_json_new_string(doc, b64);
        free(b64);
        if (!v || csc_json_object_set(doc, sig, "signature", v) < 0)
                return -ENOMEM;
        return 0;
}

int csc_verify_object(const csc_json *obj, const csc_public_key *keys, size_t n, const char *expected_key_id,
                      csc_verify_result *res) {
        const csc_json *sig = csc_json_get(obj, "signature");
        if (!sig || sig->type == CSC_JSON_NULL) {
                *res = CSC_VERIFY_MISSING_SIGNATURE;
                return 0;
        }
        if (sig->type != CSC_JSON_OBJECT) {
                *res = CSC_VERIFY_SIGNATURE_NOT_OBJECT;
                return 0;
        }
        const char *alg = csc_json_get_str(sig, "algorithm");
        const csc_json *kid = csc_json_get(sig, "key_id");
        const csc_json *val = csc_json_get(sig, "signature");
        if (!alg || strcmp(alg, "ed25519") != 0 || strlen(alg) != csc_json_get(sig, "algorithm")->string.len) {
                *res = CSC_VERIFY_BAD_ALGORITHM;
                return 0;
        }
        if (!kid || kid->type != CSC_JSON_STRING || kid->string.len == 0) {
                *res = CSC_VERIFY_MISSING_KEY_ID;
                return 0;
        }
        if (!val || val->type != CSC_JSON_STRING || val->string.len == 0) {
                *res = CSC_VERIFY_MISSING_VALUE;
                return 0;
        }
        unsigned char *raw = NULL;
        size_t raw_len = 0;
        int r = csc_base64_decode(val->string.ptr, val->string.len, &raw, &raw_len);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *res = CSC_VERIFY_BAD_BASE64;
                return 0;
        }
        const csc_public_key *key = NULL;
        if (!expected_key_id || (strlen(expected_key_id) == kid->string.len && strcmp(expected_key_id, kid->string.ptr) == 0))
                for (size_t i = 0; i < n && !key; i++)
                        if (!keys[i].key_id || strcmp(keys[i].key_id, kid->string.ptr) == 0)
                                key = &keys[i];
        if (!key) {
                free(raw);
                *res = CSC_VERIFY_UNKNOWN_KEY_ID;
                return 0;
        }
        if (sodium_init() < 0 || !crypto_core_ed25519_is_valid_point(key->key)) {
                free(raw);
                *res = CSC_VERIFY_BAD_KEY;
                return 0;
        }
        csc_buf buf = CSC_BUF_INIT;
        r = payload(obj, &buf);
        if (r < 0) {
                free(raw);
                csc_buf_free(&buf);
                return r;
        }
        bool ok = raw_len == crypto_sign_BYTES &&
                  crypto_sign_verify_detached(raw, (const unsigned char *)buf.data, buf.len, key->key) == 0;
        free(raw);
        csc_buf_free(&buf);
        *res = ok ? CSC_VERIFY_OK : CSC_VERIFY_BAD_SIGNATURE;
        return 0;
}
