/* offline.c — cscctl commands that need no daemon: validate, hash, check
 * --policy, verify-receipt, keygen, canonical. */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "canon.h"
#include "contract.h"
#include "cscctl.h"
#include "decide.h"
#include "keys.h"
#include "csc_limits.h"
#include "policy.h"
#include "sign.h"
#include "timefmt.h"
#include "validate.h"

/* Reads and strictly parses a JSON file; prints the error and returns an exit code > 0 on failure. */
static int load_json(const char *path, size_t max, csc_json_doc **ret) {
        char *data;
        size_t len;
        int r = csc_read_file(path, max, &data, &len);
        if (r == -EFBIG)
                return fail(EXIT_DATAERR, "%s: larger than the %zu KiB limit", path, max / 1024);
        if (r < 0)
                return fail(exit_for_read_error(r), "failed to read '%s': %s", path, strerror(-r));
        csc_error err = { 0 };
        r = csc_json_parse(data, len, ret, &err);
        free(data);
        if (r < 0)
                return fail_err(r == -ENOMEM ? EXIT_SOFTWARE : EXIT_DATAERR, path, &err);
        return 0;
}

static int load_policy(const char *path, csc_policy **ret) {
        csc_error err = { 0 };
        int r = csc_policy_load_file(path, ret, &err);
        if (r >= 0)
                return 0;
        int code = r == -EFBIG || r == -EINVAL ? EXIT_DATAERR : r == -ENOMEM ? EXIT_SOFTWARE : EXIT_NOINPUT;
        return fail_err(code, path, &err);
}

/* validate --json: an invalid policy is a result, not an error message. */
static int load_policy_quiet(const char *path, csc_policy **ret, const char *kind) {
        csc_error err = { 0 };
        int r = csc_policy_load_file(path, ret, &err);
        if (r >= 0)
                return 0;
        if (r == -ENOENT || r == -EACCES || r == -EISDIR)
                return fail_err(EXIT_NOINPUT, path, &err);
        const char *kv[] = { "valid", "false", "kind", kind, "file", path, "path", err.path, "message", err.message };
        print_result(kv, 10);
        return EXIT_DATAERR;
}

int load_contract(const char *path, csc_contract **ret) {
        char *data;
        size_t len;
        int r = csc_read_file(path, CSC_CONTRACT_MAX_BYTES, &data, &len);
        if (r == -EFBIG)
                return fail(EXIT_DATAERR, "%s: contract is larger than 1 MiB", path);
        if (r < 0)
                return fail(exit_for_read_error(r), "failed to read '%s': %s", path, strerror(-r));
        csc_error err = { 0 };
        r = csc_contract_parse(data, len, ret, &err);
        free(data);
        if (r < 0)
                return fail_err(r == -ENOMEM ? EXIT_SOFTWARE : EXIT_DATAERR, path, &err);
        return 0;
}

/* The line of FILE where a top-level policy key is written (YAML "key:" or
 * JSON "\"key\":"), for pointing an admin at the rule; 0 when not found. */
static int policy_key_line(const char *path, const char *key) {
        char *data;
        size_t len;
        if (csc_read_file(path, CSC_POLICY_MAX_BYTES, &data, &len) < 0)
                return 0;
        size_t klen = strlen(key);
        int line = 1, found = 0;
        for (char *p = data; *p && !found; line++) {
                char *eol = strchr(p, '\n');
                char *q = p;
                while (*q == ' ' || *q == '\t' || *q == '{' || *q == ',')
                        q++;
                bool quoted = *q == '"' || *q == '\'';
                if (quoted)
                        q++;
                if (strncmp(q, key, klen) == 0) {
                        q += klen;
                        if (quoted && (*q == '"' || *q == '\''))
                                q++;
                        while (*q == ' ')
                                q++;
                        if (*q == ':')
                                found = line;
                }
                if (!eol)
                        break;
                p = eol + 1;
        }
        free(data);
        return found;
}

static const char validate_usage[] =
        "usage: cscctl validate contract|policy|receipt|approval|decision FILE\n"
        "Strictly validates FILE; prints the first problem with its JSON path.\n"
        "  --json  print {\"valid\", \"kind\", \"path\", \"message\"} on stdout\n"
        "exit: 0 valid, 65 invalid, 66 cannot read FILE\n";

int cmd_validate(const cscctl_globals *g, int argc, char **argv) {
        if (wants_help(argc, argv, validate_usage))
                return EXIT_OK;
        bool json = take_flag(&argc, argv, "--json");
        if (argc != 3)
                return usage_error(validate_usage, "validate takes a kind and a file");
        const char *kind = argv[1], *path = argv[2];
        if (strcmp(kind, "policy") == 0) {
                csc_policy *p = NULL;
                int code = json ? load_policy_quiet(path, &p, kind) : load_policy(path, &p);
                if (code)
                        return code;
                if (json) {
                        const char *kv[] = { "valid", "true", "kind", kind, "file", path, "name", p->name };
                        print_result(kv, 8);
                } else
                        printf("%s: valid policy '%s'\n", path, p->name);
                csc_policy_free(p);
                return EXIT_OK;
        }
        static const struct {
                const char *kind;
                size_t max;
                int (*validate)(const csc_json *, csc_error *);
        } kinds[] = {
                { "contract", CSC_CONTRACT_MAX_BYTES, csc_validate_contract },
                { "receipt",  CSC_RECEIPT_MAX_BYTES,  csc_validate_receipt },
                { "approval", CSC_APPROVAL_MAX_BYTES, csc_validate_approval },
                { "decision", CSC_DECISION_MAX_BYTES, csc_validate_decision },
        };
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
                if (strcmp(kind, kinds[i].kind) != 0)
                        continue;
                csc_json_doc *doc = NULL;
                int code = load_json(path, kinds[i].max, &doc);
                if (code)
                        return code;
                csc_error err = { 0 };
                int r = kinds[i].validate(csc_json_doc_root(doc), &err);
                csc_json_doc_free(doc);
                if (r < 0 && json) {
                        const char *kv[] = { "valid", "false", "kind", kind, "file", path, "path", err.path,
                                             "message", err.message };
                        print_result(kv, 10);
                        return EXIT_DATAERR;
                }
                if (r < 0)
                        return fail_err(EXIT_DATAERR, path, &err);
                if (json) {
                        const char *kv[] = { "valid", "true", "kind", kind, "file", path };
                        print_result(kv, 6);
                } else
                        printf("%s: valid %s\n", path, kind);
                return EXIT_OK;
        }
        return usage_error(validate_usage, "unknown kind '%s'", kind);
}

static const char hash_usage[] =
        "usage: cscctl hash contract|policy FILE\n"
        "Prints contract_sha256 or policy_sha256 (64 lower-case hex digits).\n"
        "  --json  print {\"kind\", \"sha256\"}\n"
        "exit: 0, 65 invalid, 66 cannot read FILE\n";

int cmd_hash(const cscctl_globals *g, int argc, char **argv) {
        if (wants_help(argc, argv, hash_usage))
                return EXIT_OK;
        bool json = take_flag(&argc, argv, "--json");
        if (argc != 3)
                return usage_error(hash_usage, "hash takes a kind and a file");
        if (strcmp(argv[1], "contract") == 0) {
                csc_contract *c = NULL;
                int code = load_contract(argv[2], &c);
                if (code)
                        return code;
                const char *kv[] = { "kind", "contract", "contract_sha256", c->sha256 };
                if (json)
                        print_result(kv, 4);
                else
                        printf("%s\n", c->sha256);
                csc_contract_free(c);
                return EXIT_OK;
        }
        if (strcmp(argv[1], "policy") == 0) {
                csc_policy *p = NULL;
                int code = load_policy(argv[2], &p);
                if (code)
                        return code;
                const char *kv[] = { "kind", "policy", "policy_sha256", p->sha256, "name", p->name };
                if (json)
                        print_result(kv, 6);
                else
                        printf("%s\n", p->sha256);
                csc_policy_free(p);
                return EXIT_OK;
        }
        return usage_error(hash_usage, "unknown kind '%s'", argv[1]);
}

static const char check_usage[] =
        "usage: cscctl check CONTRACT [--policy FILE] [--json]\n"
        "Decides CONTRACT against the policy in FILE, or against the daemon's live\n"
        "policy when --policy is not given.\n"
        "  --policy FILE  decide offline against this policy (YAML or JSON)\n"
        "  --json         print the PolicyDecision object\n"
        "exit: 0 allow, 1 deny, 2 needs_approval, 65 invalid input, 66 cannot read,\n"
        "      69 daemon unavailable (without --policy)\n";

int check_print(const csc_decision *d, const csc_contract *c, const csc_policy *p, bool json);

int check_print(const csc_decision *d, const csc_contract *c, const csc_policy *p, bool json) {
        if (json) {
                csc_json_doc *doc = csc_json_doc_new();
                csc_json *o = NULL;
                csc_buf b = CSC_BUF_INIT;
                int r = doc ? csc_decision_to_json(d, c, p, CSC_DECISION_VALID_SEC, doc, &o) : -ENOMEM;
                if (r >= 0)
                        r = csc_json_write_pretty(o, &b);
                if (r >= 0)
                        printf("%s\n", b.data);
                csc_buf_free(&b);
                csc_json_doc_free(doc);
                if (r < 0)
                        return fail(EXIT_SOFTWARE, "cannot build decision: %s", strerror(-r));
        } else {
                bool colour = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
                const char *on = !colour ? "" : d->verdict == CSC_VERDICT_ALLOW ? "\033[32m"
                                 : d->verdict == CSC_VERDICT_DENY ? "\033[31m" : "\033[33m";
                printf("decision:        %s%s%s\n", on, csc_verdict_name(d->verdict), colour ? "\033[0m" : "");
                printf("reason code:     %s\n", d->code);
                printf("reason:          %s\n", d->reason);
                if (d->where[0])
                        printf("offending value: %s\n", d->where);
                if (d->policy_key) {
                        int line = policy_key_line(p->source, d->policy_key);
                        if (line > 0)
                                printf("policy rule:     %s (policy '%s', %s line %d)\n", d->policy_key, p->name,
                                       p->source, line);
                        else
                                printf("policy rule:     %s (policy '%s', %s)\n", d->policy_key, p->name, p->source);
                }
                printf("contract_sha256: %s\n", c->sha256);
                printf("policy_sha256:   %s\n", p->sha256);
                for (size_t i = 0; i < d->n_effects; i++)
                        printf("effect:          %s = %s\n", d->effects[i].command_id, d->effects[i].effect_type);
        }
        switch (d->verdict) {
        case CSC_VERDICT_ALLOW:          return 0;
        case CSC_VERDICT_DENY:           return 1;
        case CSC_VERDICT_NEEDS_APPROVAL: return 2;
        }
        return EXIT_SOFTWARE;
}

int cmd_check_daemon(const cscctl_globals *g, const char *contract_path, bool json);

int cmd_check(const cscctl_globals *g, int argc, char **argv) {
        if (wants_help(argc, argv, check_usage))
                return EXIT_OK;
        const char *policy_path = NULL, *contract_path = NULL;
        bool json = false;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0)
                        json = true;
                else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc)
                        policy_path = argv[++i];
                else if (strncmp(argv[i], "--policy=", 9) == 0)
                        policy_path = argv[i] + 9;
                else if (argv[i][0] != '-' && !contract_path)
                        contract_path = argv[i];
                else
                        return usage_error(check_usage, "unexpected argument '%s'", argv[i]);
        }
        if (!contract_path)
                return usage_error(check_usage, "check takes a contract file");
        if (!policy_path)
                return cmd_check_daemon(g, contract_path, json);
        csc_policy *p = NULL;
        csc_contract *ct = NULL;
        int code = load_policy(policy_path, &p);
        if (!code)
                code = load_contract(contract_path, &ct);
        if (!code) {
                csc_decision d;
                csc_decide(ct, p, &d);
                code = check_print(&d, ct, p, json);
        }
        csc_contract_free(ct);
        csc_policy_free(p);
        return code;
}

static const char verify_usage[] =
        "usage: cscctl verify-receipt RECEIPT (--public-key FILE | --keyring DIR) [--key-id ID]\n"
        "Verifies the receipt's Ed25519 signature with a raw 32-byte public key.\n"
        "  --public-key FILE  the signer's public key (as written by keygen/pubkeys)\n"
        "  --keyring DIR      every DIR/KEY_ID.pub (as `cscctl pubkeys --out-dir DIR`\n"
        "                     writes them); the receipt's key_id picks the key\n"
        "  --key-id ID        require this signing key id\n"
        "  --json             print {\"valid\", \"reason\"}\n"
        "exit: 0 VALID, 1 INVALID: <reason>, 64 usage, 66 cannot read a file\n";

static const char verify_approval_usage[] =
        "usage: cscctl verify-approval APPROVAL --public-key FILE [--key-id ID]\n"
        "Verifies the approval's Ed25519 signature (made by 'cscctl approve --sign-key')\n"
        "with the approver's raw 32-byte public key.\n"
        "  --public-key FILE  the approver's public key\n"
        "  --key-id ID        require this signing key id\n"
        "  --json             print {\"valid\", \"reason\"}\n"
        "exit: 0 VALID, 1 INVALID: <reason>, 64 usage, 66 cannot read a file\n";

#define KEYRING_MAX 256   /* public keys read from one --keyring DIR */

/* Every DIR/ID.pub whose ID is a valid key id, keyed by that id. 0, or an exit code. */
static int load_keyring(const char *dir, csc_public_key keys[KEYRING_MAX], char ids[KEYRING_MAX][CSC_KEY_ID_MAX + 1],
                        size_t *n) {
        DIR *d = opendir(dir);
        if (!d)
                return fail(exit_for_read_error(-errno), "cannot open keyring %s: %s", dir, strerror(errno));
        *n = 0;
        int code = 0;
        struct dirent *de;
        while (!code && (de = readdir(d))) {
                size_t len = strlen(de->d_name);
                if (len < 5 || strcmp(de->d_name + len - 4, ".pub") != 0 || len - 4 > CSC_KEY_ID_MAX)
                        continue;
                memcpy(ids[*n], de->d_name, len - 4);
                ids[*n][len - 4] = 0;
                if (!csc_key_id_valid(ids[*n]))
                        continue;
                if (*n == KEYRING_MAX) {
                        code = fail(EXIT_DATAERR, "keyring %s holds more than %d keys", dir, KEYRING_MAX);
                        break;
                }
                char path[4200];
                snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
                csc_error err = { 0 };
                int r = csc_public_key_load(path, keys[*n].key, &err);
                if (r < 0)
                        code = fail_err(r == -EINVAL || r == -EFBIG ? EXIT_DATAERR : EXIT_NOINPUT, path, &err);
                keys[*n].key_id = ids[*n];
                (*n)++;
        }
        closedir(d);
        if (!code && *n == 0)
                code = fail(EXIT_NOINPUT, "keyring %s holds no KEY_ID.pub files", dir);
        return code;
}

/* verify-receipt and verify-approval: the same signature rule (spec §6). */
static int verify_signed(const char *usage, const char *kind, size_t max, int argc, char **argv) {
        if (wants_help(argc, argv, usage))
                return EXIT_OK;
        bool json = take_flag(&argc, argv, "--json");
        const char *file = NULL, *pub = NULL, *key_id = NULL, *ring = NULL;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--public-key") == 0 && i + 1 < argc)
                        pub = argv[++i];
                else if (strcmp(argv[i], "--keyring") == 0 && i + 1 < argc && strcmp(kind, "receipt") == 0)
                        ring = argv[++i];
                else if (strcmp(argv[i], "--key-id") == 0 && i + 1 < argc)
                        key_id = argv[++i];
                else if (argv[i][0] != '-' && !file)
                        file = argv[i];
                else
                        return usage_error(usage, "unexpected argument '%s'", argv[i]);
        }
        if (!file || !pub == !ring)
                return usage_error(usage, "takes a %s file and --public-key%s", kind,
                                   strcmp(kind, "receipt") == 0 ? " or --keyring" : "");
        csc_public_key ring_keys[KEYRING_MAX];
        char ring_ids[KEYRING_MAX][CSC_KEY_ID_MAX + 1];
        csc_public_key key = { .key_id = key_id };
        const csc_public_key *keys = &key;
        size_t n_keys = 1;
        csc_error err = { 0 };
        int r = 0;
        if (ring) {
                r = load_keyring(ring, ring_keys, ring_ids, &n_keys);
                if (r)
                        return r;
                keys = ring_keys;
        } else if ((r = csc_public_key_load(pub, key.key, &err)) < 0)
                return fail_err(r == -EINVAL || r == -EFBIG ? EXIT_DATAERR : EXIT_NOINPUT, pub, &err);
        char *data;
        size_t len;
        r = csc_read_file(file, max, &data, &len);
        if (r == -EFBIG) {
                printf("INVALID: %s is larger than %zu bytes\n", kind, max);
                return 1;
        }
        if (r < 0)
                return fail(exit_for_read_error(r), "failed to read '%s': %s", file, strerror(-r));
        csc_json_doc *doc = NULL;
        r = csc_json_parse(data, len, &doc, &err);
        free(data);
        if (r < 0) {
                char buf[CSC_ERROR_PATH_MAX + CSC_ERROR_MSG_MAX + 4];
                printf("INVALID: %s is not valid JSON: %s\n", kind, csc_error_str(&err, buf, sizeof buf));
                return 1;
        }
        csc_verify_result res;
        r = csc_verify_object(csc_json_doc_root(doc), keys, n_keys, key_id, &res);
        csc_json_doc_free(doc);
        if (r < 0)
                return fail(EXIT_SOFTWARE, "verification failed: %s", strerror(-r));
        if (json) {
                const char *kv[] = { "valid", res == CSC_VERIFY_OK ? "true" : "false", "reason", csc_verify_result_str(res) };
                print_result(kv, 4);
                return res == CSC_VERIFY_OK ? 0 : 1;
        }
        if (res != CSC_VERIFY_OK) {
                printf("INVALID: %s\n", csc_verify_result_str(res));
                return 1;
        }
        printf("VALID\n");
        return 0;
}

int cmd_verify_receipt(const cscctl_globals *g, int argc, char **argv) {
        return verify_signed(verify_usage, "receipt", CSC_RECEIPT_MAX_BYTES, argc, argv);
}

int cmd_verify_approval(const cscctl_globals *g, int argc, char **argv) {
        return verify_signed(verify_approval_usage, "approval", CSC_APPROVAL_MAX_BYTES, argc, argv);
}

static const char keygen_usage[] =
        "usage: cscctl keygen --key-id ID --out-dir DIR\n"
        "Writes DIR/ID.key (32-byte Ed25519 seed, mode 0600) and DIR/ID.pub\n"
        "(32 raw bytes). Existing files are never overwritten. DIR is created\n"
        "(mode 0700) when missing, its parents too.\n"
        "  --json  print {\"key_id\", \"private_key\", \"public_key\"}\n"
        "exit: 0, 64 usage, 73 cannot create\n";

int cmd_keygen(const cscctl_globals *g, int argc, char **argv) {
        if (wants_help(argc, argv, keygen_usage))
                return EXIT_OK;
        bool json = take_flag(&argc, argv, "--json");
        const char *id = NULL, *dir = NULL;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--key-id") == 0 && i + 1 < argc)
                        id = argv[++i];
                else if (strcmp(argv[i], "--out-dir") == 0 && i + 1 < argc)
                        dir = argv[++i];
                else
                        return usage_error(keygen_usage, "unexpected argument '%s'", argv[i]);
        }
        if (!id || !dir)
                return usage_error(keygen_usage, "keygen takes --key-id and --out-dir");
        csc_error err = { 0 };
        int r = make_dirs(dir, 0700);
        if (r < 0)
                return fail(73, "keygen: cannot create %s: %s", dir, strerror(-r));
        r = csc_keygen_write(dir, id, &err);
        if (r < 0)
                return fail_err(r == -EINVAL ? EXIT_USAGE : 73, "keygen", &err);
        char k[4200], pk[4200];
        snprintf(k, sizeof k, "%s/%s.key", dir, id);
        snprintf(pk, sizeof pk, "%s/%s.pub", dir, id);
        if (json) {
                const char *kv[] = { "key_id", id, "private_key", k, "public_key", pk };
                print_result(kv, 6);
        } else
                printf("%s\n%s\n", k, pk);
        return EXIT_OK;
}

static const char canonical_usage[] =
        "usage: cscctl canonical [--lines] [FILE]\n"
        "Prints the canonical JSON (spec §4) of the JSON value in FILE (default\n"
        "stdin). With --lines every input line is one JSON value.\n"
        "exit: 0, 65 invalid JSON\n";

static int canon_one(const char *text, size_t len, const char *where) {
        csc_json_doc *doc = NULL;
        csc_error err = { 0 };
        int r = csc_json_parse(text, len, &doc, &err);
        if (r < 0)
                return fail_err(EXIT_DATAERR, where, &err);
        csc_buf b = CSC_BUF_INIT;
        r = csc_canon_write(csc_json_doc_root(doc), &b);
        if (r >= 0) {
                fwrite(b.data, 1, b.len, stdout);
                fputc('\n', stdout);
        }
        csc_buf_free(&b);
        csc_json_doc_free(doc);
        return r < 0 ? fail(EXIT_DATAERR, "%s: cannot canonicalize", where) : 0;
}

int cmd_canonical(const cscctl_globals *g, int argc, char **argv) {
        if (wants_help(argc, argv, canonical_usage))
                return EXIT_OK;
        bool lines = false;
        const char *path = NULL;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--lines") == 0)
                        lines = true;
                else if (!path)
                        path = argv[i];
                else
                        return usage_error(canonical_usage, "unexpected argument '%s'", argv[i]);
        }
        char *data;
        size_t len;
        int r = csc_read_file(path && strcmp(path, "-") != 0 ? path : "/dev/stdin", 64u << 20, &data, &len);
        if (r < 0)
                return fail(exit_for_read_error(r), "failed to read input: %s", strerror(-r));
        int code = 0;
        if (!lines)
                code = canon_one(data, len, path ? path : "stdin");
        else
                for (char *p = data, *nl; p < data + len && !code; p = nl + 1) {
                        nl = memchr(p, '\n', (size_t) (data + len - p));
                        if (!nl)
                                nl = data + len;
                        if (nl > p)
                                code = canon_one(p, (size_t) (nl - p), "line");
                }
        free(data);
        return code;
}
