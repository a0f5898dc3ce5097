/* sandbox_seccomp.h — the per-command seccomp filter of profile cscd-v1.
 *
 * The daemon compiles the three variants (network deny, allowlisted, full)
 * once at start with libseccomp and keeps the BPF programs; each command installs
 * its program with one prctl() right before exec. */
#pragma once
#include <linux/filter.h>
#include <stdbool.h>

#include "contract.h"

typedef struct sandbox_filter {
        struct sock_filter *insns;
        unsigned short len;
} sandbox_filter;

/* Native architecture only (any other ABI kills the process); EPERM for the
 * syscall families listed in docs/sandbox.md; for CSC_NET_DENY also
 * socket()/socketpair() of every family but AF_UNIX; for CSC_NET_ALLOWLISTED
 * socket() of every family but AF_UNIX, AF_INET and AF_INET6, and
 * socketpair() but AF_UNIX. 0 or -errno. */
int sandbox_seccomp_build(csc_network network, sandbox_filter *ret);
void sandbox_seccomp_free(sandbox_filter *f);
/* Installs a built program into the calling process (no_new_privs set). */
int sandbox_seccomp_install(const sandbox_filter *f);
