/* session_spawn.c — fork, become the peer, execute cscd-session. */
#include "session_spawn.h"
#include "helper_program.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build-config.h"

int session_program_open(const char *path, char *ret_path, size_t size) {
        return helper_program_open(path, "cscd-session", CSC_SESSION_PROGRAM, ret_path, size);
}

/* The child, between clone and exec: system calls only (it shares the
 * monitor's memory until the exec). */
static _Noreturn void become_session(int program_fd, int client_fd, int session_fd, const cscd_peer *peer,
                                     char **envp) {
        sigset_t none;
        sigemptyset(&none);
        if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
                _exit(127);
        /* fds 3 and 4, whatever numbers the two have now; the program on 5 (a script's
         * interpreter opens it as /dev/fd/5; cscd-session closes it). */
        int c = fcntl(client_fd, F_DUPFD, 10), s = fcntl(session_fd, F_DUPFD, 10), p = fcntl(program_fd, F_DUPFD, 10);
        if (c < 0 || s < 0 || p < 0 || dup2(c, 3) < 0 || dup2(s, 4) < 0 || dup2(p, 5) < 0 ||
            syscall(SYS_close_range, 6, ~0U, 0) < 0)
                _exit(127);
        if (syscall(SYS_setgroups, peer->n_groups, peer->groups) < 0 ||
            syscall(SYS_setresgid, peer->gid, peer->gid, peer->gid) < 0)
                _exit(127);
        /* Every capability the kernel knows, also those newer than our headers. */
        for (unsigned long cap = 0; cap < 64; cap++)
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
                        if (errno == EINVAL && cap > CAP_LAST_CAP)
                                break;
                        if (errno != EINVAL)
                                _exit(127);
                }
        if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                             SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                                             SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
                  0, 0, 0) < 0)
                _exit(127);
        if (syscall(SYS_setresuid, peer->uid, peer->uid, peer->uid) < 0)
                _exit(127);
        /* Root peers keep their capabilities across setresuid (NO_SETUID_FIXUP): clear them. */
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2] = { 0 };
        if (syscall(SYS_capset, &h, d) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                _exit(127);
        char *argv[] = { (char *) "cscd-session", NULL };
        syscall(SYS_execveat, 5, "", argv, envp, AT_EMPTY_PATH);
        _exit(127);
}

extern char **environ;

typedef struct spawn_args {
        int program_fd, client_fd, session_fd;
        const cscd_peer *peer;
        char **envp;
} spawn_args;

static int session_child(void *p) {
        const spawn_args *a = p;
        become_session(a->program_fd, a->client_fd, a->session_fd, a->peer, a->envp);
}

int session_spawn(int program_fd, int client_fd, const cscd_peer *peer, int *ret_fd, pid_t *ret_pid) {
        /* The session needs nothing from cscd's environment. */
        char *envp[4];
        helper_program_env(envp);
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                return -errno;
        /* A vfork-style child on a stack of its own: it shares our memory
         * until it executes (we wait), so nothing of the monitor's is copied
         * on the connection's path; it makes only system calls. */
        spawn_args a = { program_fd, client_fd, sp[1], peer, envp };
        size_t stack_size = 64 * 1024;
        void *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        pid_t pid = stack == MAP_FAILED ? -1 : clone(session_child, (char *) stack + stack_size,
                                                     CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
        int e = errno;
        if (stack != MAP_FAILED)
                munmap(stack, stack_size);
        if (pid < 0) {
                close(sp[0]);
                close(sp[1]);
                return -e;
        }
        close(sp[1]);
        if (fcntl(sp[0], F_SETFL, O_NONBLOCK) < 0) {
                e = errno;
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                close(sp[0]);
                return -e;
        }
        *ret_fd = sp[0];
        *ret_pid = pid;
        return 0;
}
