/* test-sign.c — Ed25519 receipt signing and every verification failure (spec §6),
 * the three private-key formats, public key files, keygen and base64. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "keys.h"
#include "sign.h"
#include "tap.h"

static const char receipt_text[] =
        "{\"receipt_version\":\"csc.receipt.v0.1\",\"contract_id\":\"c-0000001\",\"execution_id\":\"e1\","
        "\"contract_sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\","
        "\"status\":\"blocked\",\"started_at\":\"2026-01-01T00:00:00Z\",\"ended_at\":\"2026-01-01T00:00:00Z\","
        "\"policy_profile\":\"p\",\"failed_command_id\":null,\"error\":\"caf\\u00e9 \\u0001\"}";

static char dir[] = "/tmp/csc-test-sign.XXXXXX";

static void write_file(const char *name, const void *p, size_t n, mode_t mode) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
        if (fd < 0 || write(fd, p, n) != (ssize_t)n)
                abort();
        fchmod(fd, mode);
        close(fd);
}

static const char *at(const char *name) {
        static char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        return path;
}

/* Signs a fresh copy of the receipt, applies edit (if any) and verifies. */
static csc_verify_result verify_edited(const csc_signing_key *k, void (*edit)(csc_json_doc *, csc_json *),
                                       const char *expected_key_id) {
        csc_json_doc *doc = NULL;
        if (csc_json_parse(receipt_text, sizeof receipt_text - 1, &doc, NULL) < 0)
                abort();
        csc_json *r = csc_json_doc_root(doc);
        if (csc_sign_object(doc, r, k, "2026-01-01T00:00:01Z", NULL) < 0)
                abort();
        if (edit)
                edit(doc, r);
        csc_public_key pk = { .key_id = "k1" };
        memcpy(pk.key, csc_signing_key_public(k), 32);
        csc_verify_result res = CSC_VERIFY_OK;
        int rv = csc_verify_object(r, &pk, 1, expected_key_id, &res);
        CHECK(rv == 0, "verify returned %d", rv);
        csc_json_doc_free(doc);
        return res;
}

static void drop_sig(csc_json_doc *d, csc_json *r) { (void)d; csc_json_object_remove(r, "signature"); }
static void sig_string(csc_json_doc *d, csc_json *r) { csc_json_object_set(d, r, "signature", csc_json_new_string(d, "x")); }
static void sig_alg(csc_json_doc *d, csc_json *r) { csc_json_object_set(d, csc_json_get(r, "signature"), "algorithm", csc_json_new_string(d, "rsa")); }
static void sig_nokid(csc_json_doc *d, csc_json *r) { (void)d; csc_json_object_remove(csc_json_get(r, "signature"), "key_id"); }
static void sig_noval(csc_json_doc *d, csc_json *r) { (void)d; csc_json_object_remove(csc_json_get(r, "signature"), "signature"); }
static void sig_b64(csc_json_doc *d, csc_json *r) { csc_json_object_set(d, csc_json_get(r, "signature"), "signature", csc_json_new_string(d, "!!not base64!!")); }
static void sig_kid(csc_json_doc *d, csc_json *r) { csc_json_object_set(d, csc_json_get(r, "signature"), "key_id", csc_json_new_string(d, "other")); }
static void body_edit(csc_json_doc *d, csc_json *r) { csc_json_object_set(d, r, "status", csc_json_new_string(d, "success")); }
static void signed_at_edit(csc_json_doc *d, csc_json *r) { csc_json_object_set(d, csc_json_get(r, "signature"), "signed_at", csc_json_new_string(d, "2027-01-01T00:00:00Z")); }
static void null_removed(csc_json_doc *d, csc_json *r) { (void)d; csc_json_object_remove(r, "failed_command_id"); }
static void int_to_float(csc_json_doc *d, csc_json *r) {
        /* 1 vs 1.0 must not verify the same: types stay exact when canonicalizing. */
        csc_json_doc *t = NULL;
        csc_json_parse("1.0", 3, &t, NULL);
        csc_json_object_set(d, r, "exit_code", csc_json_copy(d, csc_json_doc_root(t)));
        csc_json_doc_free(t);
}

int main(void) {
        if (!mkdtemp(dir))
                return 1;
        unsigned char seed[32], pk[32], sk[64];
        for (int i = 0; i < 32; i++)
                seed[i] = (unsigned char)(i * 7 + 1);
        if (sodium_init() < 0)
                return 1;
        crypto_sign_seed_keypair(pk, sk, seed);

        /* Three private-key formats give the same key. */
        write_file("raw.key", seed, 32, 0600);
        write_file("full.key", sk, 64, 0600);
        unsigned char der[48] = { 0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20 };
        memcpy(der + 16, seed, 32);
        char *b64 = NULL;
        csc_base64_encode(der, sizeof der, &b64);
        char pem[256];
        int n = snprintf(pem, sizeof pem, "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n", b64);
        free(b64);
        write_file("pem.key", pem, (size_t)n, 0600);
        const char *files[] = { "raw.key", "full.key", "pem.key" };
        csc_signing_key *k = NULL;
        for (size_t i = 0; i < 3; i++) {
                csc_signing_key *t = NULL;
                csc_error err = { 0 };
                int r = csc_signing_key_load(at(files[i]), "k1", CSC_KEY_CHECK_MODE, &t, &err);
                CHECK(r == 0, "%s: %s", files[i], err.message);
                if (r == 0) {
                        CHECK(memcmp(csc_signing_key_public(t), pk, 32) == 0, "%s: public key", files[i]);
                        CHECK(strcmp(csc_signing_key_id(t), "k1") == 0, "key id");
                }
                if (i == 0)
                        k = t;
                else
                        csc_signing_key_free(t);
        }
        if (!k)
                return tap_done("sign");

        /* Bad key files each fail with a message. */
        csc_signing_key *bad = NULL;
        csc_error err = { 0 };
        write_file("loose.key", seed, 32, 0644);
        CHECK(csc_signing_key_load(at("loose.key"), "k1", CSC_KEY_CHECK_MODE, &bad, &err) == -EINVAL &&
                      strstr(err.message, "group or others"), "mode 0644 refused: %s", err.message);
        CHECK(csc_signing_key_load(at("loose.key"), "k1", 0, &bad, &err) == 0, "mode not checked without the flag");
        bad = csc_signing_key_free(bad);
        unsigned char mism[64];
        memcpy(mism, sk, 64);
        mism[40] ^= 1;
        write_file("mismatch.key", mism, 64, 0600);
        CHECK(csc_signing_key_load(at("mismatch.key"), "k1", 0, &bad, &err) == -EINVAL && strstr(err.message, "does not match"),
              "64-byte key with a wrong public half: %s", err.message);
        write_file("short.key", seed, 31, 0600);
        CHECK(csc_signing_key_load(at("short.key"), "k1", 0, &bad, &err) == -EINVAL, "31 bytes refused");
        CHECK(csc_signing_key_load(at("absent.key"), "k1", 0, &bad, &err) == -ENOENT && strstr(err.message, "failed to read"),
              "missing key: %s", err.message);
        CHECK(csc_signing_key_load(at("raw.key"), "../x", 0, &bad, &err) == -EINVAL, "bad key id refused");
        CHECK(csc_signing_key_load(at("raw.key"), "", 0, &bad, &err) == -EINVAL, "empty key id refused");

        /* Public key files: exactly 32 bytes. */
        unsigned char got[32];
        write_file("k.pub", pk, 32, 0644);
        CHECK(csc_public_key_load(at("k.pub"), got, &err) == 0 && memcmp(got, pk, 32) == 0, "public key loads");
        write_file("long.pub", sk, 64, 0644);
        CHECK(csc_public_key_load(at("long.pub"), got, &err) == -EINVAL, "64-byte public key refused");

        /* Signing and every verification failure with its own reason. */
        CHECK(verify_edited(k, NULL, NULL) == CSC_VERIFY_OK, "signed receipt verifies");
        CHECK(verify_edited(k, NULL, "k1") == CSC_VERIFY_OK, "verifies with the expected key id");
        CHECK(verify_edited(k, drop_sig, NULL) == CSC_VERIFY_MISSING_SIGNATURE, "missing signature");
        CHECK(verify_edited(k, sig_string, NULL) == CSC_VERIFY_SIGNATURE_NOT_OBJECT, "signature not object");
        CHECK(verify_edited(k, sig_alg, NULL) == CSC_VERIFY_BAD_ALGORITHM, "bad algorithm");
        CHECK(verify_edited(k, sig_nokid, NULL) == CSC_VERIFY_MISSING_KEY_ID, "missing key id");
        CHECK(verify_edited(k, sig_noval, NULL) == CSC_VERIFY_MISSING_VALUE, "missing value");
        CHECK(verify_edited(k, sig_b64, NULL) == CSC_VERIFY_BAD_BASE64, "bad base64");
        CHECK(verify_edited(k, sig_kid, NULL) == CSC_VERIFY_UNKNOWN_KEY_ID, "unknown key id");
        CHECK(verify_edited(k, NULL, "k2") == CSC_VERIFY_UNKNOWN_KEY_ID, "expected key id differs");
        CHECK(verify_edited(k, body_edit, NULL) == CSC_VERIFY_BAD_SIGNATURE, "edited body");
        CHECK(verify_edited(k, signed_at_edit, NULL) == CSC_VERIFY_BAD_SIGNATURE, "signed_at is signed");
        CHECK(verify_edited(k, null_removed, NULL) == CSC_VERIFY_BAD_SIGNATURE, "null members are signed");
        CHECK(verify_edited(k, int_to_float, NULL) == CSC_VERIFY_BAD_SIGNATURE, "added member breaks it");
        for (int i = CSC_VERIFY_OK; i <= CSC_VERIFY_BAD_SIGNATURE; i++)
                for (int j = CSC_VERIFY_OK; j < i; j++)
                        CHECK(strcmp(csc_verify_result_str(i), csc_verify_result_str(j)) != 0, "distinct reasons %d %d", i, j);

        /* Bad key material: a point that is not on the curve. */
        {
                csc_json_doc *doc = NULL;
                csc_json_parse(receipt_text, sizeof receipt_text - 1, &doc, NULL);
                csc_json *r = csc_json_doc_root(doc);
                csc_sign_object(doc, r, k, "2026-01-01T00:00:01Z", NULL);
                csc_public_key badk = { .key_id = NULL };
                memset(badk.key, 0xff, 32);
                csc_verify_result res;
                csc_verify_object(r, &badk, 1, NULL, &res);
                CHECK(res == CSC_VERIFY_BAD_KEY, "bad key material: %s", csc_verify_result_str(res));
                csc_json_doc_free(doc);
        }

        /* Base64: strict, padded. */
        unsigned char *out = NULL;
        size_t outn = 0;
        CHECK(csc_base64_decode("aGk=", 4, &out, &outn) == 0 && outn == 2 && memcmp(out, "hi", 2) == 0, "decode");
        free(out);
        CHECK(csc_base64_decode("aGk", 3, &out, &outn) == -EINVAL, "unpadded refused");
        CHECK(csc_base64_decode("aG k", 4, &out, &outn) == -EINVAL, "space refused");
        CHECK(csc_base64_decode("aG-_", 4, &out, &outn) == -EINVAL, "url alphabet refused");

        /* keygen: 0600 seed + 32-byte pub, never overwrites. */
        CHECK(csc_keygen_write(dir, "gen", &err) == 0, "keygen: %s", err.message);
        struct stat st;
        CHECK(stat(at("gen.key"), &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 32, "gen.key 0600 32 bytes");
        CHECK(stat(at("gen.pub"), &st) == 0 && st.st_size == 32, "gen.pub 32 bytes");
        CHECK(csc_keygen_write(dir, "gen", &err) == -EEXIST, "keygen refuses to overwrite");
        csc_signing_key *g = NULL;
        CHECK(csc_signing_key_load(at("gen.key"), "gen", CSC_KEY_CHECK_MODE, &g, &err) == 0 &&
                      csc_public_key_load(at("gen.pub"), got, &err) == 0 && memcmp(got, csc_signing_key_public(g), 32) == 0,
              "generated pair matches");
        csc_signing_key_free(g);
        csc_signing_key_free(k);
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                return 1;
        return tap_done("sign");
}
