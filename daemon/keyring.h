/* keyring.h — the daemon's signing keys: the one active key that signs
 * receipts and the retired keys it still publishes (cscd.conf signing_keys),
 * loaded together so a reload swaps them atomically. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"
#include "config.h"
#include "json.h"
#include "keys.h"

typedef struct cscd_public_key {
        char key_id[CSC_KEY_ID_MAX + 1];
        unsigned char public_key[32];
        bool active;
} cscd_public_key;

typedef struct cscd_keyring {
        csc_signing_key *active;         /* signs */
        cscd_public_key *published;      /* the active key first, then every retired one */
        size_t n_published;
} cscd_keyring;

/* Loads the active key (signing_key_path or the systemd credential
 * csc-signing-key) and the retired public keys. On failure err_out says which
 * file and why. mlock: false when CAP_IPC_LOCK is missing (the key is then
 * held in ordinary memory, see keys.h). */
int cscd_keyring_load(const cscd_config *c, cscd_keyring **ret, char *err_out, size_t err_size);
cscd_keyring *cscd_keyring_free(cscd_keyring *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(cscd_keyring *, cscd_keyring_free);
/* "sha256:<hex of the 32 raw public key bytes>" into out (at least 72 bytes). */
void cscd_key_fingerprint(const unsigned char pk[32], char out[72]);
/* The pubkeys reply's "keys" array: {key_id, algorithm, public_key, fingerprint, active}. */
int cscd_keyring_json(const cscd_keyring *k, csc_json_doc *doc, csc_json **ret);
