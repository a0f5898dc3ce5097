/* online.c — cscctl commands that talk to cscd over its socket: submit,
 * check (live policy), status, reload, pubkeys. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "buf.h"
#include "canon.h"
#include "cscctl.h"
#include "frame.h"
#include "json.h"
#include "csc_limits.h"

typedef struct session {
        int fd;
        csc_frame_reader reader;
        const char *socket_path;
} session;

static int session_open(const cscctl_globals *g, session *s) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(g->socket_path) >= sizeof sa.sun_path)
                return fail(EXIT_USAGE, "socket path too long: %s", g->socket_path);
        strcpy(sa.sun_path, g->socket_path);
        s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s->fd < 0 || connect(s->fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int e = errno;
                if (s->fd >= 0)
                        close(s->fd);
                return fail(e == EACCES || e == EPERM ? EXIT_NOPERM : EXIT_UNAVAILABLE,
                            "cannot reach cscd at %s: %s", g->socket_path, strerror(e));
        }
        s->socket_path = g->socket_path;
        csc_frame_reader_init(&s->reader, 64u << 20);
        return 0;
}

static void session_close(session *s) {
        csc_frame_reader_reset(&s->reader);
        close(s->fd);
}

static int session_send(session *s, const csc_json *frame) {
        csc_buf b = CSC_BUF_INIT;
        int r = csc_frame_encode(frame, &b);
        for (size_t off = 0; r >= 0 && off < b.len;) {
                ssize_t n = send(s->fd, b.data + off, b.len - off, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        r = -errno;
                else
                        off += (size_t) n;
        }
        csc_buf_free(&b);
        return r < 0 ? fail(EXIT_UNAVAILABLE, "cannot send to cscd: %s", strerror(-r)) : 0;
}

/* Reads one frame; 0 with *ret set, or an exit code. */
static int session_recv(session *s, csc_json_doc **ret) {
        for (;;) {
                char buf[65536];
                ssize_t n = recv(s->fd, buf, sizeof buf, MSG_PEEK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return fail(EXIT_UNAVAILABLE, "cscd closed the connection unexpectedly (if it did not start: "
                                    "systemctl status cscd, journalctl -u cscd, cscd -t)");
                size_t used;
                int r = csc_frame_reader_feed(&s->reader, buf, (size_t) n, &used);
                /* Consume exactly what the reader used, so the next frame stays queued. */
                if (recv(s->fd, buf, used, 0) < 0)
                        return fail(EXIT_UNAVAILABLE, "read from cscd failed: %s", strerror(errno));
                if (r < 0)
                        return fail(EXIT_UNAVAILABLE, "bad frame from cscd");
                if (r == 1) {
                        char *payload;
                        size_t len;
                        csc_frame_reader_take(&s->reader, &payload, &len);
                        const char *code;
                        csc_error err = { 0 };
                        r = csc_frame_parse(payload, len, ret, &code, &err);
                        free(payload);
                        if (r < 0)
                                return fail(EXIT_UNAVAILABLE, "bad frame from cscd: %s", err.message);
                        return 0;
                }
        }
}

static csc_json *request(csc_json_doc *doc, const char *type) {
        csc_json *o = csc_json_new_object(doc);
        if (o && csc_json_object_set(doc, o, "type", csc_json_new_string(doc, type)) < 0)
                return NULL;
        return o;
}

/* An error frame becomes a message and an exit code; with --json the
 * message is also the object {"error": code, "message", "path"} on stdout. */
static int error_frame_as(const csc_json *f, bool json) {
        const char *code = csc_json_get_str(f, "code"), *msg = csc_json_get_str(f, "message");
        const char *path = csc_json_get_str(f, "path");
        fprintf(stderr, "cscctl: cscd refused the request: %s: %s%s%s\n", code ? code : "?", path ? path : "",
                path ? ": " : "", msg ? msg : "");
        if (json) {
                const char *kv[] = { "error", code ? code : "?", "message", msg ? msg : "", "path", path };
                print_result(kv, 6);
        }
        if (code && strcmp(code, "unauthorized") == 0)
                return EXIT_NOPERM;
        if (code && (strcmp(code, "invalid_contract") == 0 || strcmp(code, "invalid_approval") == 0 ||
                     strcmp(code, "bad_json") == 0 || strcmp(code, "too_large") == 0))
                return EXIT_DATAERR;
        if (code && strcmp(code, "busy") == 0)
                return EXIT_UNAVAILABLE;
        return EXIT_SOFTWARE;
}

static int print_json(const csc_json *v) {
        csc_buf b = CSC_BUF_INIT;
        int r = csc_json_write_pretty(v, &b);
        if (r >= 0)
                printf("%s\n", b.data);
        csc_buf_free(&b);
        return r;
}

/* Loads a JSON file as a value for a request. */
static int load_json_file(const char *path, size_t max, csc_json_doc **ret) {
        char *data;
        size_t len;
        int r = csc_read_file(path, max, &data, &len);
        if (r < 0)
                return fail(exit_for_read_error(r), "failed to read '%s': %s", path,
                            r == -EFBIG ? "file too large" : strerror(-r));
        csc_error err = { 0 };
        r = csc_json_parse(data, len, ret, &err);
        free(data);
        return r < 0 ? fail_err(EXIT_DATAERR, path, &err) : 0;
}

/* The contract from standard input (`submit -`): read from fd 0 itself, not
 * reopened by name (a pipe from another user cannot be reopened). */
static int load_json_stdin(size_t max, csc_json_doc **ret) {
        csc_buf b = CSC_BUF_INIT;
        char chunk[65536];
        for (;;) {
                ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        csc_buf_free(&b);
                        return fail(EXIT_NOINPUT, "failed to read the contract from stdin: %s", strerror(errno));
                }
                if (n == 0)
                        break;
                if (b.len + (size_t) n > max) {
                        csc_buf_free(&b);
                        return fail(EXIT_DATAERR, "the contract on stdin is larger than %zu bytes", max);
                }
                if (csc_buf_append(&b, chunk, (size_t) n) < 0) {
                        csc_buf_free(&b);
                        return fail(EXIT_SOFTWARE, "out of memory");
                }
        }
        csc_error err = { 0 };
        int r = csc_json_parse(b.data ? b.data : "", b.len, ret, &err);
        csc_buf_free(&b);
        return r < 0 ? fail_err(EXIT_DATAERR, "stdin", &err) : 0;
}

static int simple_request(const cscctl_globals *g, const char *type, bool json, csc_json_doc **ret_doc) {
        session s;
        int code = session_open(g, &s);
        if (code)
                return code;
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *req = doc ? request(doc, type) : NULL;
        code = req ? session_send(&s, req) : EXIT_SOFTWARE;
        csc_json_doc_free(doc);
        if (!code)
                code = session_recv(&s, ret_doc);
        session_close(&s);
        if (!code && strcmp(csc_json_get_str(csc_json_doc_root(*ret_doc), "type"), "error") == 0) {
                code = error_frame_as(csc_json_doc_root(*ret_doc), json);
                *ret_doc = csc_json_doc_free(*ret_doc);
        }
        return code;
}

int cmd_check_daemon(const cscctl_globals *g, const char *contract_path, bool json);

int cmd_check_daemon(const cscctl_globals *g, const char *contract_path, bool json) {
        csc_json_doc *cdoc = NULL, *rdoc = NULL;
        int code = load_json_file(contract_path, CSC_CONTRACT_MAX_BYTES, &cdoc);
        if (code)
                return code;
        session s;
        code = session_open(g, &s);
        if (!code) {
                csc_json *req = request(cdoc, "check");
                code = req && csc_json_object_set(cdoc, req, "contract", csc_json_doc_root(cdoc)) >= 0
                               ? session_send(&s, req) : EXIT_SOFTWARE;
                if (!code)
                        code = session_recv(&s, &rdoc);
                session_close(&s);
        }
        csc_json_doc_free(cdoc);
        if (code)
                return code;
        const csc_json *f = csc_json_doc_root(rdoc);
        if (strcmp(csc_json_get_str(f, "type"), "error") == 0) {
                code = error_frame_as(f, json);
                csc_json_doc_free(rdoc);
                return code;
        }
        const csc_json *d = csc_json_get(f, "decision");
        const char *verdict = csc_json_get_str(d, "decision");
        if (json)
                print_json(d);
        else {
                const csc_json *reasons = csc_json_get(d, "reasons"), *codes = csc_json_get(d, "reason_codes");
                printf("decision:        %s\n", verdict ? verdict : "?");
                if (codes && codes->array.count)
                        printf("reason code:     %s\n", codes->array.items[0]->string.ptr);
                if (reasons && reasons->array.count)
                        printf("reason:          %s\n", reasons->array.items[0]->string.ptr);
                printf("policy:          %s (live policy of cscd)\n", csc_json_get_str(d, "policy_profile"));
        }
        code = !verdict ? EXIT_SOFTWARE : strcmp(verdict, "allow") == 0 ? 0 : strcmp(verdict, "deny") == 0 ? 1 : 2;
        csc_json_doc_free(rdoc);
        return code;
}

static const char submit_usage[] =
        "usage: cscctl submit CONTRACT|- [--approval FILE]... [--receipt-out FILE] [--json] [--quiet]\n"
        "Submits CONTRACT (- reads it from stdin) to cscd, streams the commands'\n"
        "stdout/stderr to ours as they arrive, and ends with the signed receipt.\n"
        "A blocked or unapproved contract always gets its reason code and reason on\n"
        "stderr (also with --quiet).\n"
        "  --approval FILE     an approval artifact (repeatable)\n"
        "  --receipt-out FILE  write the signed receipt to FILE\n"
        "  --json              print the signed receipt on stdout at the end (errors\n"
        "                      as {\"error\", \"message\", \"path\"})\n"
        "  --quiet             no summary line on stderr\n"
        "exit: 0 success, 1 failed/blocked, 2 needs approval, 65 invalid contract,\n"
        "      69 daemon unavailable, 77 not permitted\n";

int cmd_submit(const cscctl_globals *g, int argc, char **argv);

/* deny / needs_approval: "cscctl: deny: CODE: reason" on stderr, whatever
 * the output options, so a person or agent always sees why. */
static void print_reason(const csc_json *d) {
        const char *verdict = csc_json_get_str(d, "decision");
        if (!verdict || strcmp(verdict, "allow") == 0)
                return;
        const csc_json *codes = csc_json_get(d, "reason_codes"), *reasons = csc_json_get(d, "reasons");
        for (size_t i = 0; codes && codes->type == CSC_JSON_ARRAY && i < codes->array.count; i++) {
                const csc_json *c = codes->array.items[i];
                const csc_json *r = reasons && reasons->type == CSC_JSON_ARRAY && i < reasons->array.count
                                            ? reasons->array.items[i] : NULL;
                fprintf(stderr, "cscctl: %s: %s: %s\n", verdict, c->type == CSC_JSON_STRING ? c->string.ptr : "?",
                        r && r->type == CSC_JSON_STRING ? r->string.ptr : "");
        }
        if (!codes || codes->type != CSC_JSON_ARRAY || codes->array.count == 0)
                fprintf(stderr, "cscctl: %s (no reason given)\n", verdict);
}

int cmd_submit(const cscctl_globals *g, int argc, char **argv) {
        if (wants_help(argc, argv, submit_usage))
                return EXIT_OK;
        struct timespec t_start;
        clock_gettime(CLOCK_MONOTONIC, &t_start);
        const char *contract = NULL, *receipt_out = NULL;
        const char *approvals[16];
        size_t n_approvals = 0;
        bool json = false, quiet = false;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--approval") == 0 && i + 1 < argc) {
                        if (n_approvals == 16)
                                return usage_error(submit_usage, "at most 16 approvals");
                        approvals[n_approvals++] = argv[++i];
                } else if (strcmp(argv[i], "--receipt-out") == 0 && i + 1 < argc)
                        receipt_out = argv[++i];
                else if (strcmp(argv[i], "--json") == 0)
                        json = true;
                else if (strcmp(argv[i], "--quiet") == 0)
                        quiet = true;
                else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0) && !contract)
                        contract = argv[i];
                else
                        return usage_error(submit_usage, "unexpected argument '%s'", argv[i]);
        }
        if (!contract)
                return usage_error(submit_usage, "submit takes a contract file (or - for stdin)");
        csc_json_doc *doc = NULL;
        int code = strcmp(contract, "-") == 0 ? load_json_stdin(CSC_CONTRACT_MAX_BYTES, &doc)
                                              : load_json_file(contract, CSC_CONTRACT_MAX_BYTES, &doc);
        if (code)
                return code;
        csc_json *req = request(doc, "submit");
        if (!req || csc_json_object_set(doc, req, "contract", csc_json_doc_root(doc)) < 0) {
                csc_json_doc_free(doc);
                return fail(EXIT_SOFTWARE, "out of memory");
        }
        if (n_approvals) {
                csc_json *arr = csc_json_new_array(doc);
                for (size_t i = 0; i < n_approvals && !code; i++) {
                        csc_json_doc *ad = NULL;
                        code = load_json_file(approvals[i], CSC_APPROVAL_MAX_BYTES, &ad);
                        if (!code && csc_json_array_append(doc, arr, csc_json_copy(doc, csc_json_doc_root(ad))) < 0)
                                code = EXIT_SOFTWARE;
                        csc_json_doc_free(ad);
                }
                if (!code && csc_json_object_set(doc, req, "approvals", arr) < 0)
                        code = EXIT_SOFTWARE;
        }
        session s;
        if (!code)
                code = session_open(g, &s);
        if (code) {
                csc_json_doc_free(doc);
                return code;
        }
        code = session_send(&s, req);
        csc_json_doc_free(doc);
        const char *verdict = NULL;
        char verdict_buf[32] = "";
        while (!code) {
                csc_json_doc *fd = NULL;
                code = session_recv(&s, &fd);
                if (code)
                        break;
                const csc_json *f = csc_json_doc_root(fd);
                const char *type = csc_json_get_str(f, "type");
                if (strcmp(type, "error") == 0) {
                        code = error_frame_as(f, json);
                } else if (strcmp(type, "decision") == 0) {
                        const csc_json *d = csc_json_get(f, "decision");
                        snprintf(verdict_buf, sizeof verdict_buf, "%s", csc_json_get_str(d, "decision") ?: "");
                        verdict = verdict_buf;
                        print_reason(d);
                } else if (strcmp(type, "output") == 0) {
                        const char *data = csc_json_get_str(f, "data"), *stream = csc_json_get_str(f, "stream");
                        unsigned char *bytes = NULL;
                        size_t n = 0;
                        if (data && csc_base64_decode(data, strlen(data), &bytes, &n) >= 0) {
                                FILE *out = stream && strcmp(stream, "stderr") == 0 ? stderr : stdout;
                                fwrite(bytes, 1, n, out);
                                fflush(out);
                        }
                        free(bytes);
                } else if (strcmp(type, "receipt") == 0) {
                        const csc_json *rc = csc_json_get(f, "receipt");
                        const char *status = csc_json_get_str(rc, "status");
                        const csc_json *ec = csc_json_get(rc, "exit_code");
                        bool receipt_lost = false;
                        /* Allowed, then blocked before running (an approval, a path, a
                         * secret): the reason is the receipt's error. Always said. */
                        if (status && strcmp(status, "blocked") == 0 && verdict && strcmp(verdict, "allow") == 0)
                                fprintf(stderr, "cscctl: blocked: %s\n", csc_json_get_str(rc, "error") ?: "(no reason given)");
                        if (receipt_out) {
                                csc_buf b = CSC_BUF_INIT;
                                int fdw = open(receipt_out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                                if (fdw < 0 || csc_json_write_pretty(rc, &b) < 0 || csc_buf_putc(&b, '\n') < 0 ||
                                    write(fdw, b.data, b.len) != (ssize_t) b.len)
                                {
                                        fprintf(stderr, "cscctl: cannot write receipt to %s: %s\n", receipt_out,
                                                strerror(errno));
                                        receipt_lost = true;
                                }
                                if (fdw >= 0)
                                        close(fdw);
                                csc_buf_free(&b);
                        }
                        if (json)
                                print_json(rc);
                        if (!quiet) {
                                struct timespec t_end;
                                clock_gettime(CLOCK_MONOTONIC, &t_end);
                                double ms = (double)(t_end.tv_sec - t_start.tv_sec) * 1e3 +
                                            (double)(t_end.tv_nsec - t_start.tv_nsec) / 1e6;
                                fprintf(stderr, "cscctl: %s, exit code %s, %.0f ms, execution %s%s%s\n", status ? status : "?",
                                        ec && ec->type == CSC_JSON_INT ? ec->integer.text : "-",
                                        ms, csc_json_get_str(rc, "execution_id") ?: "?",
                                        receipt_out && !receipt_lost ? ", receipt in " : "",
                                        receipt_out && !receipt_lost ? receipt_out : "");
                        }
                        if (status && strcmp(status, "success") == 0)
                                code = 0;
                        else if (verdict && strcmp(verdict, "needs_approval") == 0)
                                code = 2;
                        else
                                code = 1;
                        if (receipt_lost)
                                code = 73;   /* EX_CANTCREAT: the caller asked for the receipt and did not get it */
                        csc_json_doc_free(fd);
                        break;
                }
                csc_json_doc_free(fd);
        }
        session_close(&s);
        return code;
}

static const char status_usage[] =
        "usage: cscctl status [--json]\nShows the daemon's version, uptime, policy and keys, then grouped: the sandbox\n"
        "layers in force (seccomp, Landlock ABI, process and memory caps) and every\n"
        "weakened one, the approval store's health, and the counters.\n";

/* One "  key  value" line; arrays of strings as "a, b". */
static void print_setting(const char *key, const csc_json *v) {
        csc_buf b = CSC_BUF_INIT;
        if (v->type == CSC_JSON_STRING)
                csc_buf_append(&b, v->string.ptr, v->string.len);
        else if (v->type == CSC_JSON_ARRAY) {
                for (size_t i = 0; i < v->array.count; i++) {
                        const csc_json *e = v->array.items[i];
                        if (i)
                                csc_buf_puts(&b, ", ");
                        if (e->type == CSC_JSON_STRING)
                                csc_buf_append(&b, e->string.ptr, e->string.len);
                        else
                                csc_canon_write(e, &b);
                }
                if (!v->array.count)
                        csc_buf_puts(&b, "none");
        } else
                csc_canon_write(v, &b);
        printf("  %-28s %s\n", key, b.data ? b.data : "");
        csc_buf_free(&b);
}

/* Human status: the daemon's own settings first, then one titled group per
 * nested object (sandbox layers, approval store, counters, …), keys aligned. */
static void print_grouped(const csc_json *v) {
        static const struct { const char *key, *title; } titles[] = {
                { "sandbox", "sandbox layers" }, { "approval_store", "approval store" },
                { "outcomes", "counters (since start)" }, { "pool", "executor pool" },
                { "egress", "egress proxy (network: allowlisted)" },
        };
        printf("daemon\n");
        for (size_t i = 0; i < v->object.count; i++)
                if (v->object.members[i].value->type != CSC_JSON_OBJECT)
                        print_setting(v->object.members[i].key, v->object.members[i].value);
        for (size_t i = 0; i < v->object.count; i++) {
                const csc_json_member *m = &v->object.members[i];
                if (m->value->type != CSC_JSON_OBJECT)
                        continue;
                const char *title = m->key;
                for (size_t t = 0; t < sizeof titles / sizeof *titles; t++)
                        if (strcmp(titles[t].key, m->key) == 0)
                                title = titles[t].title;
                printf("\n%s\n", title);
                for (size_t k = 0; k < m->value->object.count; k++) {
                        const csc_json_member *e = &m->value->object.members[k];
                        if (e->value->type == CSC_JSON_OBJECT) {
                                for (size_t j = 0; j < e->value->object.count; j++) {
                                        char key[128];
                                        snprintf(key, sizeof key, "%s.%s", e->key, e->value->object.members[j].key);
                                        print_setting(key, e->value->object.members[j].value);
                                }
                        } else
                                print_setting(e->key, e->value);
                }
        }
}

int cmd_status(const cscctl_globals *g, int argc, char **argv);

int cmd_status(const cscctl_globals *g, int argc, char **argv) {
        if (wants_help(argc, argv, status_usage))
                return EXIT_OK;
        bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
        if (argc > 2 || (argc == 2 && !json))
                return usage_error(status_usage, "unexpected argument");
        csc_json_doc *d = NULL;
        int code = simple_request(g, "status", json, &d);
        if (code)
                return code;
        const csc_json *f = csc_json_doc_root(d);
        csc_json_object_remove((csc_json *) f, "type");
        if (json)
                print_json(f);
        else
                print_grouped(f);
        csc_json_doc_free(d);
        return 0;
}

int cmd_reload(const cscctl_globals *g, int argc, char **argv);

int cmd_reload(const cscctl_globals *g, int argc, char **argv) {
        if (wants_help(argc, argv, "usage: cscctl reload [--json]\nAsks cscd to re-read its policy and keys (admins only).\n"
                                   "exit: 0 reloaded, 1 refused (the old policy stays), 69, 77\n"))
                return EXIT_OK;
        bool json = take_flag(&argc, argv, "--json");
        csc_json_doc *d = NULL;
        int code = simple_request(g, "reload", json, &d);
        if (code)
                return code;
        const csc_json *f = csc_json_doc_root(d);
        const csc_json *ok = csc_json_get(f, "ok");
        if (json) {
                print_json(f);
                code = ok && ok->type == CSC_JSON_BOOL && ok->boolean ? 0 : 1;
        } else if (ok && ok->type == CSC_JSON_BOOL && ok->boolean) {
                printf("reloaded: policy_sha256 %s\n", csc_json_get_str(f, "policy_sha256") ?: "?");
                code = 0;
        } else {
                fprintf(stderr, "cscctl: reload refused, the old policy stays: %s\n", csc_json_get_str(f, "error") ?: "?");
                code = 1;
        }
        csc_json_doc_free(d);
        return code;
}

static const char pubkeys_usage[] =
        "usage: cscctl pubkeys [--out-dir DIR] [--json]\n"
        "Fetches every public key the daemon publishes (the active one and retired\n"
        "ones): KEY_ID ed25519 BASE64 sha256:FINGERPRINT active|retired. With\n"
        "--out-dir, writes each as DIR/KEY_ID.pub (32 raw bytes; DIR is created),\n"
        "a keyring for verify-receipt --keyring DIR.\n";

int cmd_pubkeys(const cscctl_globals *g, int argc, char **argv);

int cmd_pubkeys(const cscctl_globals *g, int argc, char **argv) {
        if (wants_help(argc, argv, pubkeys_usage))
                return EXIT_OK;
        const char *dir = NULL;
        bool json = false;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--out-dir") == 0 && i + 1 < argc)
                        dir = argv[++i];
                else if (strcmp(argv[i], "--json") == 0)
                        json = true;
                else
                        return usage_error(pubkeys_usage, "unexpected argument '%s'", argv[i]);
        }
        if (dir) {
                int r = make_dirs(dir, 0755);
                if (r < 0)
                        return fail(73, "cannot create %s: %s", dir, strerror(-r));
        }
        csc_json_doc *d = NULL;
        int code = simple_request(g, "pubkeys", json, &d);
        if (code)
                return code;
        const csc_json *keys = csc_json_get(csc_json_doc_root(d), "keys");
        if (json)
                print_json(keys);
        for (size_t i = 0; keys && i < keys->array.count && !code; i++) {
                const char *id = csc_json_get_str(keys->array.items[i], "key_id");
                const char *pk = csc_json_get_str(keys->array.items[i], "public_key");
                unsigned char *raw = NULL;
                size_t n = 0;
                if (!id || !pk || csc_base64_decode(pk, strlen(pk), &raw, &n) < 0 || n != 32 ||
                    strchr(id, '/') || id[0] == '.') {
                        free(raw);
                        code = fail(EXIT_SOFTWARE, "malformed key in the daemon's reply");
                        break;
                }
                if (dir) {
                        char path[4096];
                        snprintf(path, sizeof path, "%s/%s.pub", dir, id);
                        int fdw = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
                        if (fdw < 0 || write(fdw, raw, 32) != 32)
                                code = fail(73, "cannot write %s: %s", path, strerror(errno));
                        else
                                printf("%s\n", path);
                        if (fdw >= 0)
                                close(fdw);
                } else if (!json) {
                        const csc_json *act = csc_json_get(keys->array.items[i], "active");
                        const char *fp = csc_json_get_str(keys->array.items[i], "fingerprint");
                        printf("%s ed25519 %s %s %s\n", id, pk, fp ? fp : "-",
                               act && act->type == CSC_JSON_BOOL && act->boolean ? "active" : "retired");
                }
                free(raw);
        }
        csc_json_doc_free(d);
        return code;
}
