/* cscctl.c — entry point of the cscctl client: global options and the
 * command table. Each command lives in its own file. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "build-config.h"
#include "buf.h"
#include "canon.h"
#include "cscctl.h"
#include "json.h"

static const struct {
        const char *name;
        cscctl_command_fn fn;
        const char *summary;
} commands[] = {
        { "validate",       cmd_validate,       "strictly validate a contract, policy, receipt, approval or decision" },
        { "hash",           cmd_hash,           "print the contract_sha256 or policy_sha256 of a file" },
        { "check",          cmd_check,          "decide a contract against a policy file (offline)" },
        { "verify-receipt", cmd_verify_receipt, "verify the Ed25519 signature of a receipt" },
        { "keygen",         cmd_keygen,         "create an Ed25519 signing key pair" },
        { "approve",        cmd_approve,        "print an approval artifact bound to a contract's hash" },
        { "verify-approval", cmd_verify_approval, "verify the Ed25519 signature of an approval" },
        { "canonical",      cmd_canonical,      "print the canonical JSON form of JSON input" },
        { "submit",         cmd_submit,         "submit a contract to cscd and stream its output" },
        { "status",         cmd_status,         "show the daemon's status" },
        { "reload",         cmd_reload,         "make the daemon re-read policy and keys (admins)" },
        { "pubkeys",        cmd_pubkeys,        "fetch the daemon's public signing keys" },
        { "mcp",            cmd_mcp,            "serve MCP on stdio so agent hosts can run contracts" },
};

static const char usage[] =
        "usage: cscctl [--socket PATH] COMMAND [ARGS...]\n"
        "       cscctl COMMAND --help\n"
        "       cscctl --version\n";

static void print_help(void) {
        fputs(usage, stdout);
        fputs("\ncommands:\n", stdout);
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
                printf("  %-16s %s\n", commands[i].name, commands[i].summary);
        fputs("\noptions:\n"
              "  --socket PATH    daemon socket (default $CSC_SOCKET, else /run/csc.sock)\n"
              "  -h, --help       show this help\n"
              "  --version        show the version\n"
              "\nexit codes: 0 ok, 1 deny/failed/invalid signature, 2 needs approval, 64 usage,\n"
              "65 invalid input, 66 cannot open input, 69 daemon unavailable, 70 internal,\n"
              "77 not permitted\n", stdout);
}

/* Set once in main when the command line has --json: errors are then also
 * a JSON object on stdout, {"error": name of the exit code, "message"}. */
static bool json_errors;

static const char *exit_name(int code) {
        switch (code) {
        case EXIT_USAGE: return "usage";
        case EXIT_DATAERR: return "invalid_input";
        case EXIT_NOINPUT: return "cannot_open_input";
        case EXIT_UNAVAILABLE: return "daemon_unavailable";
        case EXIT_NOPERM: return "not_permitted";
        case 73: return "cannot_create_output";
        default: return "internal";
        }
}

static void json_error(int code, const char *message) {
        if (!json_errors)
                return;
        const char *kv[] = { "error", exit_name(code), "message", message };
        print_result(kv, 4);
}

int fail_err(int code, const char *what, const csc_error *err) {
        char buf[CSC_ERROR_PATH_MAX + CSC_ERROR_MSG_MAX + 4], msg[sizeof buf + 512];
        snprintf(msg, sizeof msg, "%s: %s", what, csc_error_str(err, buf, sizeof buf));
        fprintf(stderr, "cscctl: %s\n", msg);
        json_error(code, msg);
        return code;
}

static int vfail(int code, const char *fmt, va_list ap) {
        char msg[4096];
        vsnprintf(msg, sizeof msg, fmt, ap);
        fprintf(stderr, "cscctl: %s\n", msg);
        json_error(code, msg);
        return code;
}

int fail(int code, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vfail(code, fmt, ap);
        va_end(ap);
        return code;
}

int exit_for_read_error(int r) {
        switch (-r) {
        case ENOENT: case EACCES: case EISDIR: case ENOTDIR: case ELOOP: case EPERM:
                return EXIT_NOINPUT;
        case EFBIG: case EINVAL:
                return EXIT_DATAERR;
        default:
                return EXIT_SOFTWARE;
        }
}

int make_dirs(const char *dir, mode_t mode) {
        char path[4096];
        if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
                return -ENAMETOOLONG;
        for (char *p = path + 1;; p++) {
                if (*p != '/' && *p)
                        continue;
                char saved = *p;
                *p = 0;
                if (mkdir(path, mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = saved;
                if (!saved)
                        break;
        }
        struct stat st;
        if (stat(dir, &st) < 0)
                return -errno;
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

bool take_flag(int *argc, char **argv, const char *flag) {
        for (int i = 1; i < *argc; i++)
                if (strcmp(argv[i], flag) == 0) {
                        memmove(argv + i, argv + i + 1, (size_t)(*argc - i) * sizeof *argv);
                        (*argc)--;
                        return true;
                }
        return false;
}

int print_result(const char *const *kv, size_t n) {
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL;
        int r = o ? 0 : -ENOMEM;
        for (size_t i = 0; i + 1 < n && r == 0; i += 2) {
                const char *v = kv[i + 1];
                csc_json *val = !v ? csc_json_new_null(doc)
                                : strcmp(v, "true") == 0 ? csc_json_new_bool(doc, true)
                                : strcmp(v, "false") == 0 ? csc_json_new_bool(doc, false)
                                : csc_json_new_string(doc, v);
                r = csc_json_object_set(doc, o, kv[i], val);
        }
        csc_buf b = CSC_BUF_INIT;
        r = r ?: csc_json_write_pretty(o, &b);
        if (r == 0)
                printf("%s\n", b.data);
        csc_buf_free(&b);
        csc_json_doc_free(doc);
        return r;
}

bool wants_help(int argc, char **argv, const char *text) {
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0)
                        break;
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        fputs(text, stdout);
                        return true;
                }
        }
        return false;
}

int usage_error(const char *text, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vfail(EXIT_USAGE, fmt, ap);
        va_end(ap);
        fputs(text, stderr);
        return EXIT_USAGE;
}

int main(int argc, char **argv) {
        cscctl_globals g = { .socket_path = getenv("CSC_SOCKET") };
        if (!g.socket_path || !*g.socket_path)
                g.socket_path = "/run/csc.sock";
        int i = 1;
        for (; i < argc && argv[i][0] == '-'; i++) {
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        print_help();
                        return EXIT_OK;
                }
                if (strcmp(argv[i], "--version") == 0) {
                        printf("cscctl %s (CSC v0.1)\n", CSC_VERSION);
                        return EXIT_OK;
                }
                if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
                        g.socket_path = argv[++i];
                        continue;
                }
                if (strncmp(argv[i], "--socket=", 9) == 0) {
                        g.socket_path = argv[i] + 9;
                        continue;
                }
                fprintf(stderr, "cscctl: unknown option '%s'\n%s", argv[i], usage);
                return EXIT_USAGE;
        }
        if (i >= argc) {
                fprintf(stderr, "cscctl: missing command\n%s", usage);
                return EXIT_USAGE;
        }
        for (int k = i + 1; k < argc && strcmp(argv[k], "--") != 0; k++)
                json_errors |= strcmp(argv[k], "--json") == 0;
        for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
                if (strcmp(argv[i], commands[c].name) == 0) {
                        optind = 0;  /* let each command run getopt_long from its own argv[0] */
                        return commands[c].fn(&g, argc - i, argv + i);
                }
        fprintf(stderr, "cscctl: unknown command '%s'\n%s", argv[i], usage);
        return EXIT_USAGE;
}
