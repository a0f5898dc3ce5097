/* approve.c — `cscctl approve`: an ApprovalArtifact (spec §7) bound to a
 * contract's hash, optionally signed by the approver's Ed25519 key. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "canon.h"
#include "contract.h"
#include "cscctl.h"
#include "keys.h"
#include "csc_limits.h"
#include "sign.h"
#include "timefmt.h"
#include "uuid.h"
#include "validate.h"

static const char approve_usage[] =
        "usage: cscctl approve CONTRACT --approver ID [--method cli|manual|api|ticket]\n"
        "                      [--expires-in 1h] [--scope single_execution|time_window]\n"
        "                      [--ticket T] [--reason R] [--sign-key FILE --key-id ID]\n"
        "                      [--out FILE] [--json]\n"
        "Prints an approval artifact bound to CONTRACT's contract_sha256, with a fresh\n"
        "approval_id, approved_at now and expires_at after --expires-in (90s, 30m,\n"
        "2h, 1d; default 1h). With --sign-key it carries the approver's Ed25519\n"
        "signature, which cscd requires when cscd.conf lists trusted approvers.\n"
        "  --out FILE   write it to FILE (mode 0644, never over an existing file)\n"
        "exit: 0, 64 usage, 65 invalid contract or key, 66 cannot read, 73 cannot write\n";

int cmd_approve(const cscctl_globals *g, int argc, char **argv) {
        if (wants_help(argc, argv, approve_usage))
                return EXIT_OK;
        const char *contract = NULL, *approver = NULL, *method = "cli", *expires_in = "1h", *scope = "single_execution",
                   *ticket = NULL, *reason = NULL, *sign_key = NULL, *key_id = NULL, *out = NULL;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char **slot = strcmp(a, "--approver") == 0     ? &approver
                                    : strcmp(a, "--method") == 0     ? &method
                                    : strcmp(a, "--expires-in") == 0 ? &expires_in
                                    : strcmp(a, "--scope") == 0      ? &scope
                                    : strcmp(a, "--ticket") == 0     ? &ticket
                                    : strcmp(a, "--reason") == 0     ? &reason
                                    : strcmp(a, "--sign-key") == 0   ? &sign_key
                                    : strcmp(a, "--key-id") == 0     ? &key_id
                                    : strcmp(a, "--out") == 0        ? &out
                                                                     : NULL;
                if (slot && i + 1 < argc)
                        *slot = argv[++i];
                else if (strcmp(a, "--json") == 0)
                        continue;   /* JSON is the only output format */
                else if (a[0] != '-' && !contract)
                        contract = a;
                else
                        return usage_error(approve_usage, "unexpected argument '%s'", a);
        }
        if (!contract || !approver)
                return usage_error(approve_usage, "approve takes a contract and --approver");
        if (!sign_key != !key_id)
                return usage_error(approve_usage, "--sign-key and --key-id go together");
        int64_t secs;
        if (csc_duration_parse(expires_in, &secs) < 0)
                return usage_error(approve_usage, "--expires-in '%s' is not a duration such as 30m, 2h or 1d", expires_in);
        if (sodium_init() < 0)
                return fail(EXIT_SOFTWARE, "libsodium failed to initialize");

        csc_contract *c = NULL;
        int r = load_contract(contract, &c);
        if (r)
                return r;
        csc_error err = { 0 };
        csc_signing_key *key = NULL;
        if (sign_key && (r = csc_signing_key_load(sign_key, key_id, CSC_KEY_CHECK_MODE, &key, &err)) < 0) {
                csc_contract_free(c);
                return fail_err(r == -EINVAL ? EXIT_DATAERR : EXIT_NOINPUT, sign_key, &err);
        }
        char id[37], now[CSC_TIME_BUF], exp[CSC_TIME_BUF];
        csc_uuid4(id);
        int64_t t = csc_time_now(now);
        csc_time_format(t + secs * 1000000, exp);
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL, *ap = doc ? csc_json_new_object(doc) : NULL;
        r = o && ap ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "approval_version", csc_json_new_string(doc, "csc.approval.v0.1"));
        r = r ?: csc_json_object_set(doc, o, "approval_id", csc_json_new_string(doc, id));
        r = r ?: csc_json_object_set(doc, o, "contract_sha256", csc_json_new_string(doc, c->sha256));
        r = r ?: csc_json_object_set(doc, ap, "identity", csc_json_new_string(doc, approver));
        r = r ?: csc_json_object_set(doc, ap, "method", csc_json_new_string(doc, method));
        r = r ?: csc_json_object_set(doc, o, "approver", ap);
        r = r ?: csc_json_object_set(doc, o, "approved_at", csc_json_new_string(doc, now));
        r = r ?: csc_json_object_set(doc, o, "expires_at", csc_json_new_string(doc, exp));
        r = r ?: csc_json_object_set(doc, o, "scope", csc_json_new_string(doc, scope));
        if (ticket)
                r = r ?: csc_json_object_set(doc, o, "ticket_id", csc_json_new_string(doc, ticket));
        if (reason)
                r = r ?: csc_json_object_set(doc, o, "reason", csc_json_new_string(doc, reason));
        csc_contract_free(c);
        if (r < 0) {
                csc_signing_key_free(key);
                csc_json_doc_free(doc);
                return fail(EXIT_SOFTWARE, "out of memory");
        }
        /* Validate before signing: a bad --method or --scope is a usage error. */
        if (csc_validate_approval(o, &err) < 0) {
                csc_signing_key_free(key);
                csc_json_doc_free(doc);
                char buf[CSC_ERROR_PATH_MAX + CSC_ERROR_MSG_MAX + 4];
                return usage_error(approve_usage, "%s", csc_error_str(&err, buf, sizeof buf));
        }
        if (key) {
                r = csc_sign_object(doc, o, key, now, &err);
                key = csc_signing_key_free(key);
                if (r < 0) {
                        csc_json_doc_free(doc);
                        return fail_err(EXIT_SOFTWARE, "signing", &err);
                }
        }
        csc_buf b = CSC_BUF_INIT;
        r = csc_json_write_pretty(o, &b);
        r = r ?: csc_buf_putc(&b, '\n');
        csc_json_doc_free(doc);
        if (r < 0) {
                csc_buf_free(&b);
                return fail(EXIT_SOFTWARE, "out of memory");
        }
        int code = EXIT_OK;
        if (out) {
                int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0 || write(fd, b.data, b.len) != (ssize_t)b.len || fsync(fd) < 0) {
                        code = fail(73, "cannot write '%s': %s", out, strerror(errno));
                        if (fd >= 0)
                                unlink(out);
                }
                if (fd >= 0)
                        close(fd);
        } else {
                fwrite(b.data, 1, b.len, stdout);
        }
        csc_buf_free(&b);
        return code;
}
