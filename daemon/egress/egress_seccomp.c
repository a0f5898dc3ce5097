/* egress_seccomp.c — cscd-egress's own seccomp filter: an allowlist. The
 * proxy reads and writes sockets, runs one sd-event loop, resolves names
 * (files under /etc, UDP/TCP to the resolver) and lists the host's addresses
 * (netlink). Everything else fails with EPERM: no exec, no new processes or
 * threads (the resolver threads exist before the filter is loaded; TSYNC puts
 * them under it too), no writable opens, no ptrace, no mounts. EPERM rather
 * than a kill so that an unexpected libc path costs one connection, not all
 * of them; the refused calls give nothing either way. */
#include "egress_seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static const char *const allowed[] = {
        /* I/O on descriptors the proxy holds */
        "read", "write", "readv", "writev", "pread64", "close", "lseek", "fcntl", "fstat", "newfstatat",
        "fstatat64", "statx", "stat", "lstat", "faccessat", "faccessat2", "access", "readlink", "readlinkat",
        "getdents64",
        /* sockets */
        "connect", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "getsockopt",
        "setsockopt", "getsockname", "getpeername", "shutdown", "bind",
        /* the relay: splice through a pipe of its own */
        "pipe2", "splice",
        /* the event loop and the resolver's waits */
        "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "timerfd_create",
        "timerfd_settime", "timerfd_gettime", "eventfd2", "signalfd4", "poll", "ppoll", "select", "pselect6",
        /* memory, threads already running, signals, time */
        "mmap", "munmap", "mprotect", "mremap", "madvise", "brk", "futex", "set_robust_list", "rseq",
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "restart_syscall", "sched_yield",
        "sched_getaffinity", "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday",
        "getrandom", "getpid", "gettid", "getuid", "geteuid", "getgid", "getegid", "uname", "prlimit64",
        "getrlimit", "tgkill", "exit", "exit_group",
};

#if defined(__SANITIZE_ADDRESS__)
#define EGRESS_SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EGRESS_SANITIZER_BUILD 1
#endif
#endif
#ifdef EGRESS_SANITIZER_BUILD
/* Sanitizer builds only (the tests): LeakSanitizer stops the world at exit by
 * cloning a tracer that ptraces the threads. Release builds never allow these. */
static const char *const sanitizer_extra[] = {
        "clone", "ptrace", "prctl", "wait4", "getppid", "kill", "pipe", "pipe2", "sched_getaffinity", "open", "getdents",
};
#endif

/* socket(): IP for upstream connections and DNS, netlink for the host's
 * addresses, AF_UNIX datagrams for the journal. */
static const int families[] = { AF_INET, AF_INET6, AF_NETLINK };

int egress_seccomp_apply(void) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        if (!ctx)
                return -ENOMEM;
        int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (r == 0)
                r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
        for (size_t i = 0; r == 0 && i < sizeof allowed / sizeof *allowed; i++) {
                int nr = seccomp_syscall_resolve_name(allowed[i]);
                if (nr != __NR_SCMP_ERROR)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        }
#ifdef EGRESS_SANITIZER_BUILD
        for (size_t i = 0; r == 0 && i < sizeof sanitizer_extra / sizeof *sanitizer_extra; i++) {
                int nr = seccomp_syscall_resolve_name(sanitizer_extra[i]);
                if (nr != __NR_SCMP_ERROR)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        }
#endif
        for (size_t i = 0; r == 0 && i < sizeof families / sizeof *families; i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t) families[i]));
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2, SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_DGRAM));
        /* openat only for reading (/etc/hosts, /etc/resolv.conf, NSS files) */
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
                                     SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND, O_RDONLY));
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, FIONREAD));
        if (r == 0)
                r = seccomp_load(ctx);
        seccomp_release(ctx);
        return r;
}
