/* cscctl.h — shared declarations of the cscctl client: exit codes, the
 * per-command entry points and small output helpers. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

#include "contract.h"
#include "error.h"

/* sysexits(3) values the design's CLI table uses. */
enum {
        EXIT_OK = 0,
        EXIT_USAGE = 64,
        EXIT_DATAERR = 65,
        EXIT_NOINPUT = 66,
        EXIT_UNAVAILABLE = 69,
        EXIT_SOFTWARE = 70,
        EXIT_NOPERM = 77,
};

typedef struct cscctl_globals {
        const char *socket_path;
} cscctl_globals;

typedef int (*cscctl_command_fn)(const cscctl_globals *g, int argc, char **argv);

int cmd_validate(const cscctl_globals *g, int argc, char **argv);
int cmd_hash(const cscctl_globals *g, int argc, char **argv);
int cmd_check(const cscctl_globals *g, int argc, char **argv);
int cmd_verify_receipt(const cscctl_globals *g, int argc, char **argv);
int cmd_keygen(const cscctl_globals *g, int argc, char **argv);
int cmd_verify_approval(const cscctl_globals *g, int argc, char **argv);
int cmd_approve(const cscctl_globals *g, int argc, char **argv);
int cmd_canonical(const cscctl_globals *g, int argc, char **argv);
int cmd_submit(const cscctl_globals *g, int argc, char **argv);
int cmd_status(const cscctl_globals *g, int argc, char **argv);
int cmd_reload(const cscctl_globals *g, int argc, char **argv);
int cmd_pubkeys(const cscctl_globals *g, int argc, char **argv);
int cmd_mcp(const cscctl_globals *g, int argc, char **argv);

/* Reads, parses, validates and hashes a contract file; on failure prints the
 * error naming the file and returns the exit code (65, 66, 70), else 0. */
int load_contract(const char *path, csc_contract **ret);
/* mkdir -p; what it creates gets mode. 0 when dir is (now) a directory, else -errno. */
int make_dirs(const char *dir, mode_t mode);
/* Removes flag from argv when present (for --json and friends). */
bool take_flag(int *argc, char **argv, const char *flag);
/* Prints {"k": "v", ...} (values "true"/"false" become booleans, NULL null)
 * as the --json result of a command. */
int print_result(const char *const *kv, size_t n);
/* Prints "cscctl: <what>: <err>" to stderr and returns code. */
int fail_err(int code, const char *what, const csc_error *err);
int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Maps a negative errno from reading an input file to the exit code. */
int exit_for_read_error(int r);
/* True when argv holds --help/-h; prints usage to stdout then. */
bool wants_help(int argc, char **argv, const char *usage);
int usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
