/* keys.c — loading, generating and holding Ed25519 keys. */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "buf.h"
#include "csc_limits.h"

struct csc_signing_key {
        unsigned char sk[crypto_sign_SECRETKEYBYTES];   /* seed ‖ public */
        unsigned char pk[crypto_sign_PUBLICKEYBYTES];
        char key_id[CSC_KEY_ID_MAX + 1];
};

/* The PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410): SEQUENCE,
 * version 0, AlgorithmIdentifier 1.3.101.112, OCTET STRING { OCTET STRING(32) }. */
static const unsigned char pkcs8_prefix[16] = { 0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                                0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20 };

bool csc_key_id_valid(const char *id) {
        size_t n = id ? strlen(id) : 0;
        if (n == 0 || n > CSC_KEY_ID_MAX || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = id[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-'))
                        return false;
        }
        return true;
}

int csc_signing_key_from_seed(const unsigned char seed[32], const char *key_id, csc_signing_key **ret) {
        if (!csc_key_id_valid(key_id))
                return -EINVAL;
        if (sodium_init() < 0)
                return -EIO;
        csc_signing_key *k = sodium_malloc(sizeof *k);
        if (!k)
                return -ENOMEM;
        /* sodium_malloc places the object at the end of whole pages: advise the
         * page-aligned range that covers it. */
        long page = sysconf(_SC_PAGESIZE);
        uintptr_t start = (uintptr_t)k & ~(uintptr_t)(page - 1);
        uintptr_t end = ((uintptr_t)k + sizeof *k + (uintptr_t)page - 1) & ~(uintptr_t)(page - 1);
        if (madvise((void *)start, end - start, MADV_WIPEONFORK) < 0) {
                int r = -errno;
                sodium_free(k);
                return r;
        }
        crypto_sign_seed_keypair(k->pk, k->sk, seed);
        snprintf(k->key_id, sizeof k->key_id, "%s", key_id);
        *ret = k;
        return 0;
}

csc_signing_key *csc_signing_key_free(csc_signing_key *k) {
        if (k)
                sodium_free(k);   /* zeroes before unmapping */
        return NULL;
}

const char *csc_signing_key_id(const csc_signing_key *k) {
        return k->key_id;
}

const unsigned char *csc_signing_key_public(const csc_signing_key *k) {
        return k->pk;
}

void csc_signing_key_sign(const csc_signing_key *k, const void *msg, size_t len, unsigned char sig[64]) {
        crypto_sign_detached(sig, NULL, msg, len, k->sk);
}

/* Extracts the seed of a PEM PKCS#8 Ed25519 key. */
static int pem_seed(const char *data, size_t len, unsigned char seed[32]) {
        static const char begin[] = "-----BEGIN PRIVATE KEY-----", endm[] = "-----END PRIVATE KEY-----";
        const char *b = memmem(data, len, begin, sizeof begin - 1);
        if (!b)
                return -EINVAL;
        b += sizeof begin - 1;
        const char *e = memmem(b, len - (size_t)(b - data), endm, sizeof endm - 1);
        if (!e)
                return -EINVAL;
        char body[128];
        size_t n = 0;
        for (const char *p = b; p < e; p++) {
                if (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')
                        continue;
                if (n >= sizeof body - 1)
                        return -EINVAL;
                body[n++] = *p;
        }
        unsigned char *der = NULL;
        size_t der_len = 0;
        int r = csc_base64_decode(body, n, &der, &der_len);
        sodium_memzero(body, sizeof body);
        if (r < 0)
                return r;
        if (der_len != 48 || memcmp(der, pkcs8_prefix, sizeof pkcs8_prefix) != 0) {
                sodium_memzero(der, der_len);
                free(der);
                return -EINVAL;
        }
        memcpy(seed, der + 16, 32);
        sodium_memzero(der, der_len);
        free(der);
        return 0;
}

static int check_mode(const char *path, csc_error *err) {
        struct stat st;
        if (stat(path, &st) < 0)
                return csc_error_set(err, -errno, path, "failed to read key: %s", strerror(errno));
        if (st.st_mode & 077)
                return csc_error_set(err, -EINVAL, path,
                                     "private key is accessible by group or others (mode %04o); chmod 600 it",
                                     (unsigned)(st.st_mode & 07777));
        return 0;
}

int csc_signing_key_load(const char *path, const char *key_id, unsigned flags, csc_signing_key **ret,
                         csc_error *err) {
        if (!csc_key_id_valid(key_id))
                return csc_error_set(err, -EINVAL, path, "invalid key id \"%s\" (want [A-Za-z0-9._-], 1-64 chars)",
                                     key_id ? key_id : "");
        if (flags & CSC_KEY_CHECK_MODE) {
                int r = check_mode(path, err);
                if (r < 0)
                        return r;
        }
        char *data = NULL;
        size_t len = 0;
        int r = csc_read_file(path, CSC_KEY_FILE_MAX_BYTES, &data, &len);
        if (r == -EFBIG)
                return csc_error_set(err, r, path, "key file is larger than %d bytes", CSC_KEY_FILE_MAX_BYTES);
        if (r < 0)
                return csc_error_set(err, r, path, "failed to read key: %s", strerror(-r));
        unsigned char seed[32];
        if (len == 32 || len == 64) {
                memcpy(seed, data, 32);
        } else if (pem_seed(data, len, seed) < 0) {
                sodium_memzero(data, len);
                free(data);
                return csc_error_set(err, -EINVAL, path,
                                     "not an Ed25519 private key (want 32-byte seed, 64-byte seed+public, or PEM PKCS#8)");
        }
        csc_signing_key *k = NULL;
        r = csc_signing_key_from_seed(seed, key_id, &k);
        sodium_memzero(seed, sizeof seed);
        if (r == 0 && len == 64 && sodium_memcmp(k->pk, data + 32, 32) != 0) {
                k = csc_signing_key_free(k);
                r = csc_error_set(err, -EINVAL, path, "64-byte key: public half does not match the seed");
        } else if (r < 0) {
                csc_error_set(err, r, path, "cannot hold key: %s", strerror(-r));
        }
        sodium_memzero(data, len);
        free(data);
        if (r < 0)
                return r;
        *ret = k;
        return 0;
}

int csc_public_key_load(const char *path, unsigned char ret[32], csc_error *err) {
        char *data = NULL;
        size_t len = 0;
        int r = csc_read_file(path, 1024, &data, &len);
        if (r == -EFBIG)
                return csc_error_set(err, r, path, "public key must be 32 raw bytes (file is larger)");
        if (r < 0)
                return csc_error_set(err, r, path, "failed to read public key: %s", strerror(-r));
        if (len != 32) {
                free(data);
                return csc_error_set(err, -EINVAL, path, "public key must be 32 raw bytes, file has %zu", len);
        }
        memcpy(ret, data, 32);
        free(data);
        return 0;
}

static int write_new(const char *dir, const char *name, mode_t mode, const void *p, size_t n, csc_error *err) {
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
                return csc_error_set(err, -ENAMETOOLONG, dir, "path too long");
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return csc_error_set(err, -errno, path, "cannot create: %s", strerror(errno));
        int r = 0;
        if (fchmod(fd, mode) < 0 || write(fd, p, n) != (ssize_t)n || fsync(fd) < 0)
                r = csc_error_set(err, errno ? -errno : -EIO, path, "cannot write: %s", strerror(errno ? errno : EIO));
        close(fd);
        if (r < 0)
                unlink(path);
        return r;
}

int csc_keygen_write(const char *dir, const char *key_id, csc_error *err) {
        if (!csc_key_id_valid(key_id))
                return csc_error_set(err, -EINVAL, "", "invalid key id \"%s\" (want [A-Za-z0-9._-], 1-64 chars)",
                                     key_id ? key_id : "");
        if (sodium_init() < 0)
                return csc_error_set(err, -EIO, "", "libsodium failed to initialize");
        unsigned char seed[32], pk[32], sk[64];
        randombytes_buf(seed, sizeof seed);
        crypto_sign_seed_keypair(pk, sk, seed);
        sodium_memzero(sk, sizeof sk);
        char name[CSC_KEY_ID_MAX + 8];
        snprintf(name, sizeof name, "%s.key", key_id);
        int r = write_new(dir, name, 0600, seed, sizeof seed, err);
        sodium_memzero(seed, sizeof seed);
        if (r < 0)
                return r;
        snprintf(name, sizeof name, "%s.pub", key_id);
        r = write_new(dir, name, 0644, pk, sizeof pk, err);
        if (r < 0) {
                char path[4096];
                snprintf(path, sizeof path, "%s/%s.key", dir, key_id);
                unlink(path);
        }
        return r;
}
