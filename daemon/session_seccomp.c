/* session_seccomp.c — cscd-session may read and write its two sockets,
 * wait on them, manage its memory and exit. Anything else kills it: a
 * session that tries to open a file, spawn a process or make a socket has
 * been taken over by what it parsed. */
#include "session_seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <stddef.h>

static const char *const allowed[] = {
        "read", "write", "writev", "recvfrom", "sendto", "recvmsg", "sendmsg", "shutdown", "close",
        "poll", "ppoll", "fcntl",
        "brk", "mmap", "munmap", "mremap", "madvise", "mprotect",
        "rt_sigreturn", "rt_sigprocmask", "getpid", "gettid", "getrandom", "futex",
        "clock_gettime", "clock_getres", "gettimeofday", "exit", "exit_group",
        "newfstatat", "fstat", "lseek",
#if defined(__SANITIZE_ADDRESS__)
        /* AddressSanitizer and LeakSanitizer at exit (test builds only): they
         * read /proc/self/maps, stop the process with a ptraced clone, and
         * print their report. */
        "openat", "open", "readlink", "readlinkat", "getdents", "getdents64", "pread64", "clone", "clone3", "ptrace",
        "wait4", "waitid", "prctl", "sched_yield", "sigaltstack", "rt_sigaction", "kill", "tgkill",
        "getppid", "sched_getaffinity", "prlimit64", "getrlimit", "uname", "nanosleep", "clock_nanosleep",
        "access", "faccessat", "statx", "stat", "lstat", "dup", "dup2", "dup3", "ioctl", "set_robust_list",
        "rseq", "arch_prctl", "getuid", "geteuid", "getgid", "getegid", "pipe", "pipe2", "getcwd",
#endif
};

int session_seccomp_install(void) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
        if (!ctx)
                return -ENOMEM;
        int r = 0;
        for (size_t i = 0; r == 0 && i < sizeof allowed / sizeof *allowed; i++) {
                int nr = seccomp_syscall_resolve_name(allowed[i]);
                if (nr >= 0)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        }
        if (r == 0)
                r = seccomp_load(ctx);
        seccomp_release(ctx);
        return r;
}
