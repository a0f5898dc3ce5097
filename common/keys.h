/* keys.h — Ed25519 key files (spec §6).
 *
 * Private keys are accepted as a 32-byte raw seed, 64 bytes seed‖public (the
 * public half must match the seed), or PEM PKCS#8 ("BEGIN PRIVATE KEY").
 * Public keys are 32 raw bytes (the reference CLI's format). The secret key
 * lives in sodium_malloc'd memory (guard pages, mlock'd) that is marked
 * MADV_WIPEONFORK, so a forked child never holds it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define CSC_KEY_ID_MAX 64

typedef struct csc_signing_key csc_signing_key;

enum {
        CSC_KEY_CHECK_MODE = 1 << 0,   /* refuse files readable or writable by group/other */
};

/* key_id: [A-Za-z0-9._-]{1,64}. err names the file and the problem.
 * -ENOENT/-EACCES reading, -EFBIG too large, -EINVAL bad content or mode. */
int csc_signing_key_load(const char *path, const char *key_id, unsigned flags, csc_signing_key **ret,
                         csc_error *err);
int csc_signing_key_from_seed(const unsigned char seed[32], const char *key_id, csc_signing_key **ret);
csc_signing_key *csc_signing_key_free(csc_signing_key *k);
const char *csc_signing_key_id(const csc_signing_key *k);
const unsigned char *csc_signing_key_public(const csc_signing_key *k);   /* 32 bytes */
/* Detached Ed25519 signature of msg. */
void csc_signing_key_sign(const csc_signing_key *k, const void *msg, size_t len, unsigned char sig[64]);

/* Reads a 32-byte raw public key file. */
int csc_public_key_load(const char *path, unsigned char ret[32], csc_error *err);

bool csc_key_id_valid(const char *id);
/* Generates a key pair: DIR/ID.key (seed, 0600) and DIR/ID.pub (0644); never
 * overwrites (O_EXCL). -EINVAL bad id, else -errno from the file system. */
int csc_keygen_write(const char *dir, const char *key_id, csc_error *err);
