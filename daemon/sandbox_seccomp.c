/* sandbox_seccomp.c — libseccomp filter for commands. The families and why
 * each is refused are documented in docs/sandbox.md. */
#include "sandbox_seccomp.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/seccomp.h>

/* Syscalls answered with EPERM, by family. Names unknown to this libseccomp
 * or architecture are skipped (seccomp_syscall_resolve_name < 0). */
static const char *const refused[] = {
        /* namespaces and mounts: a command must not rebuild its view */
        "unshare", "setns", "mount", "umount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
        "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
        /* kernel keyrings */
        "add_key", "request_key", "keyctl",
        /* eBPF, perf, userfaultfd, io_uring: large kernel attack surface */
        "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
        /* kernel code and reboot */
        "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot", "swapon",
        "swapoff",
        /* file handles bypass path-based checks */
        "open_by_handle_at", "name_to_handle_at",
        /* other processes' memory */
        "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
        /* clocks and time */
        "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "stime",
        /* accounting, quotas, personality tricks, obsolete or dangerous */
        "acct", "quotactl", "quotactl_fd", "lookup_dcookie", "vhangup", "nfsservctl", "uselib", "_sysctl",
        "iopl", "ioperm", "syslog",
};

static int build_ctx(csc_network network, scmp_filter_ctx *ret) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return -ENOMEM;
        int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        for (size_t i = 0; r == 0 && i < sizeof refused / sizeof *refused; i++) {
                int nr = seccomp_syscall_resolve_name(refused[i]);
                if (nr < 0)
                        continue;
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
        }
        /* Terminal injection: TIOCSTI pushes input into another reader's tty,
         * TIOCLINUX can do the same on a virtual console. */
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));
        /* clone/clone3 with namespace flags: clone3's flags live in memory that
         * seccomp cannot read, so clone3 is refused with ENOSYS (libc falls
         * back to clone), and clone with any CLONE_NEW* flag gets EPERM. */
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
        static const unsigned long newns[] = { CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                                               CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET };
        for (size_t i = 0; r == 0 && i < sizeof newns / sizeof *newns; i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, newns[i], newns[i]));
        if (network == CSC_NET_DENY && r == 0) {
                /* Only AF_UNIX sockets (an empty network namespace already has no
                 * route; this also closes netlink, packet and vsock). */
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                                     SCMP_A0(SCMP_CMP_NE, AF_UNIX));
        }
        if (network == CSC_NET_ALLOWLISTED) {
                /* AF_UNIX, AF_INET and AF_INET6 only: the sandbox's namespace has
                 * only lo, where the proxy listens. Families a network namespace
                 * does not scope (vsock to the hypervisor and host) or that
                 * reach past it (netlink, packet) are refused. Each family is
                 * compared on the low 32 bits the kernel reads; a value past
                 * the last family is refused by the kernel itself. */
                for (int fam = 0; r == 0 && fam < 64; fam++)
                        if (fam != AF_UNIX && fam != AF_INET && fam != AF_INET6)
                                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
                                                     SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, (scmp_datum_t)fam));
        }
        if (network != CSC_NET_FULL && r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socketpair), 1,
                                     SCMP_A0(SCMP_CMP_NE, AF_UNIX));
        if (r < 0) {
                seccomp_release(ctx);
                return r;
        }
        *ret = ctx;
        return 0;
}

int sandbox_seccomp_build(csc_network network, sandbox_filter *ret) {
        scmp_filter_ctx ctx = NULL;
        int r = build_ctx(network, &ctx);
        if (r < 0)
                return r;
        int fd = memfd_create("cscd-seccomp", MFD_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                seccomp_release(ctx);
                return r;
        }
        r = seccomp_export_bpf(ctx, fd);
        seccomp_release(ctx);
        off_t size = r == 0 ? lseek(fd, 0, SEEK_END) : -1;
        if (r == 0 && (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0 ||
                       size / (off_t)sizeof(struct sock_filter) > 65535))
                r = -EINVAL;
        struct sock_filter *insns = r == 0 ? malloc((size_t)size) : NULL;
        if (r == 0 && !insns)
                r = -ENOMEM;
        if (r == 0 && pread(fd, insns, (size_t)size, 0) != size)
                r = -EIO;
        close(fd);
        if (r < 0) {
                free(insns);
                return r;
        }
        ret->insns = insns;
        ret->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
        return 0;
}

void sandbox_seccomp_free(sandbox_filter *f) {
        free(f->insns);
        f->insns = NULL;
        f->len = 0;
}

int sandbox_seccomp_install(const sandbox_filter *f) {
        struct sock_fprog prog = { .len = f->len, .filter = f->insns };
        if (!f->insns || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
                return f->insns ? -errno : -EINVAL;
        return 0;
}
