/* sandbox_seccomp.h — the per-command seccomp filter of profile cscd-v1. */
#pragma once
#include <stdbool.h>

/* Loads the filter into the calling process (after no_new_privs): native
 * architecture only (any other ABI kills the process); EPERM for the
 * syscall families listed in docs/sandbox.md; with deny_network also
 * socket()/socketpair() of every family but AF_UNIX. 0 or -errno. */
int sandbox_seccomp_load(bool deny_network);
