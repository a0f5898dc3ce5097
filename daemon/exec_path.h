/* exec_path.h — the program each argv runs, decided once by the daemon.
 *
 * A bare name is looked up on the sandbox's fixed PATH (CSCD_SANDBOX_PATH,
 * whose directories the sandbox binds read-only from the host, so the host
 * resolves the same way); a name with a '/' is executed as written. The
 * executor then execs exactly that path: no client variable can change which
 * program an allowed argv[0] runs. */
#pragma once
#include <linux/limits.h>

#include "contract.h"

/* 0 with the path in out, or -ENOENT when a bare name is on no PATH directory. */
int exec_path_resolve(const char *argv0, char out[PATH_MAX]);

/* Every argv of the contract, in order (command by command, segment by
 * segment): *ret is an array of n strings, NULL where the program was not
 * found (the command then fails with 127). Free with exec_paths_free. */
int exec_paths_resolve(const csc_contract *c, char ***ret, size_t *ret_n);
char **exec_paths_free(char **v, size_t n);
