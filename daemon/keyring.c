/* keyring.c — loading the active signing key and the retired public keys. */
#include "keyring.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

cscd_keyring *cscd_keyring_free(cscd_keyring *k) {
        if (k) {
                csc_signing_key_free(k->active);
                free(k->published);
                free(k);
        }
        return NULL;
}

void cscd_key_fingerprint(const unsigned char pk[32], char out[72]) {
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, pk, 32);
        memcpy(out, "sha256:", 7);
        sodium_bin2hex(out + 7, 65, h, sizeof h);
}

static int load_active(const cscd_config *c, csc_signing_key **ret, char *err_out, size_t err_size) {
        const char *path = c->signing_key_path;
        char cred[4096];
        if (!path) {
                const char *dir = getenv("CREDENTIALS_DIRECTORY");
                if (!dir) {
                        snprintf(err_out, err_size,
                                 "no signing key: set signing_key (or signing_keys) in the config, pass "
                                 "--signing-key, or provide the systemd credential csc-signing-key");
                        return -ENOKEY;
                }
                snprintf(cred, sizeof cred, "%s/csc-signing-key", dir);
                path = cred;
        }
        csc_error err = { 0 };
        int r = csc_signing_key_load(path, c->key_id, CSC_KEY_CHECK_MODE, ret, &err);
        if (r < 0) {
                char buf[CSC_ERROR_PATH_MAX + CSC_ERROR_MSG_MAX + 4];
                snprintf(err_out, err_size, "signing key %s: %s", path, csc_error_str(&err, buf, sizeof buf));
        }
        return r;
}

int cscd_keyring_load(const cscd_config *c, cscd_keyring **ret, char *err_out, size_t err_size) {
        _cleanup_(cscd_keyring_freep) cscd_keyring *k = calloc(1, sizeof *k);
        if (!k)
                return -ENOMEM;
        k->published = calloc(c->n_signing_keys + 1, sizeof *k->published);
        int r = k->published ? load_active(c, &k->active, err_out, err_size) : -ENOMEM;
        if (r < 0)
                return r;
        cscd_public_key *a = &k->published[k->n_published++];
        snprintf(a->key_id, sizeof a->key_id, "%s", csc_signing_key_id(k->active));
        memcpy(a->public_key, csc_signing_key_public(k->active), 32);
        a->active = true;
        for (size_t i = 0; i < c->n_signing_keys; i++) {
                const cscd_signing_key_spec *s = &c->signing_keys[i];
                if (s->active || strcmp(s->key_id, a->key_id) == 0) {
                        /* The active key's public_key, when given, must be its own. */
                        unsigned char pk[32];
                        csc_error err = { 0 };
                        if (s->active && s->public_key &&
                            (csc_public_key_load(s->public_key, pk, &err) < 0 || memcmp(pk, a->public_key, 32) != 0)) {
                                snprintf(err_out, err_size, "signing_keys[%zu].public_key %s: %s", i, s->public_key,
                                         err.message[0] ? err.message : "is not the public half of private_key");
                                return -EINVAL;
                        }
                        continue;
                }
                cscd_public_key *p = &k->published[k->n_published];
                csc_error err = { 0 };
                r = csc_public_key_load(s->public_key, p->public_key, &err);
                if (r < 0) {
                        snprintf(err_out, err_size, "signing_keys[%zu].public_key %s: %s", i, s->public_key,
                                 err.message);
                        return r;
                }
                snprintf(p->key_id, sizeof p->key_id, "%s", s->key_id);
                k->n_published++;
        }
        *ret = TAKE_PTR(k);
        return 0;
}

int cscd_keyring_json(const cscd_keyring *k, csc_json_doc *doc, csc_json **ret) {
        csc_json *keys = csc_json_new_array(doc);
        int r = keys ? 0 : -ENOMEM;
        for (size_t i = 0; i < k->n_published && r == 0; i++) {
                const cscd_public_key *p = &k->published[i];
                _cleanup_free_ char *b64 = NULL;
                char fp[72];
                cscd_key_fingerprint(p->public_key, fp);
                csc_json *o = csc_json_new_object(doc);
                r = o ? csc_base64_encode(p->public_key, 32, &b64) : -ENOMEM;
                r = r ?: csc_json_object_set(doc, o, "key_id", csc_json_new_string(doc, p->key_id));
                r = r ?: csc_json_object_set(doc, o, "algorithm", csc_json_new_string(doc, "ed25519"));
                r = r ?: csc_json_object_set(doc, o, "public_key", csc_json_new_string(doc, b64));
                r = r ?: csc_json_object_set(doc, o, "fingerprint", csc_json_new_string(doc, fp));
                r = r ?: csc_json_object_set(doc, o, "active", csc_json_new_bool(doc, p->active));
                r = r ?: csc_json_array_append(doc, keys, o);
        }
        if (r < 0)
                return r;
        *ret = keys;
        return 0;
}
