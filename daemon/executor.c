/* executor.c — spawning the sandboxed executor and reading its reports. */
#include "executor.h"
#include "helper_program.h"
#include "sandbox_report.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct executor_handle {
        pid_t pid;
        int pidfd;
        int ctl;
        bool reaped;
};

/* clone3, or clone() where clone3 answers ENOSYS (a container's seccomp
 * profile that predates it, an old kernel). Same flags, same pidfd; with a
 * NULL stack clone() continues on a copy of ours, like fork(). */
static long clone_executor(struct clone_args *args) {
        long pid = syscall(SYS_clone3, args, sizeof *args);
        if (pid >= 0 || errno != ENOSYS)
                return pid;
        unsigned long flags = (unsigned long)args->flags | (unsigned long)args->exit_signal;
        int *pidfd = (int *)(uintptr_t)args->pidfd;
#if defined(__s390x__) || defined(__s390__) || defined(__CRIS__)
        return syscall(SYS_clone, NULL, flags, pidfd, NULL, NULL);
#else
        return syscall(SYS_clone, flags, NULL, pidfd, NULL, NULL);
#endif
}

/* Clones the executor into new namespaces; in the child, run(arg) never returns. */
static int spawn(bool own_netns, void (*run)(int ctl, const void *arg), const void *arg, executor_handle **ret) {
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return -errno;
        executor_handle *h = calloc(1, sizeof *h);
        if (!h) {
                close(sp[0]);
                close(sp[1]);
                return -ENOMEM;
        }
        int pidfd = -1;
        struct clone_args args = {
                .flags = CLONE_PIDFD | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS |
                         (own_netns ? CLONE_NEWNET : 0),
                .pidfd = (uint64_t)(uintptr_t)&pidfd,
                .exit_signal = SIGCHLD,
        };
        long pid = clone_executor(&args);
        if (pid < 0) {
                int r = -errno;
                close(sp[0]);
                close(sp[1]);
                free(h);
                return r;
        }
        if (pid == 0) {
                close(sp[0]);
                run(sp[1], arg);
                _exit(1);
        }
        close(sp[1]);
        h->pid = (pid_t)pid;
        h->pidfd = pidfd;
        h->ctl = sp[0];
        *ret = h;
        return 0;
}

static void run_cold(int ctl, const void *arg) {
        sandbox_main(arg, ctl);
}

int executor_spawn(const sandbox_plan *plan, executor_handle **ret) {
        return spawn(plan->own_netns, run_cold, plan, ret);
}

typedef struct warm_args {
        int program_fd;
        const char *cgroup_procs;
        bool own_netns;
        int host_mntns;
} warm_args;

/* In the clone, until the exec: the control socket on 3, the host's mount
 * namespace on 4, the program on 5 (cscd-executor closes it), then a fresh
 * image. */
static void run_warm(int ctl, const void *arg) {
        const warm_args *w = arg;
        int c = fcntl(ctl, F_DUPFD, 10), m = fcntl(w->host_mntns, F_DUPFD, 10), p = fcntl(w->program_fd, F_DUPFD, 10);
        if (c < 0 || m < 0 || p < 0 || dup2(c, 3) < 0 || dup2(m, 4) < 0 || dup2(p, 5) < 0 ||
            syscall(SYS_close_range, 6, ~0U, 0) < 0)
                _exit(127);
        char *envp[4];
        helper_program_env(envp);
        char *argv[] = { "cscd-executor", w->own_netns ? "own-network" : "host-network", (char *)w->cgroup_procs, NULL };
        syscall(SYS_execveat, 5, "", argv, envp, AT_EMPTY_PATH);
        _exit(127);
}

int executor_spawn_warm(int program_fd, bool own_netns, const char *cgroup_procs, int host_mntns,
                        executor_handle **ret) {
        warm_args w = { program_fd, cgroup_procs, own_netns, host_mntns };
        return spawn(own_netns, run_warm, &w, ret);
}

int executor_send_plan(executor_handle *h, const sandbox_plan *plan) {
        size_t size;
        const void *data = sandbox_plan_data(plan, &size);
        int fd = memfd_create("cscd-plan", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = 0;
        for (size_t done = 0; done < size && r == 0;) {
                ssize_t n = write(fd, (const char *)data + done, size - done);
                if (n < 0 && errno != EINTR)
                        r = -errno;
                done += n > 0 ? (size_t)n : 0;
        }
        executor_plan_msg m = { size, (uint64_t)(uintptr_t)data };
        r = r ?: sandbox_send_fds(h->ctl, &m, sizeof m, &fd, 1);
        close(fd);
        return r;
}

void executor_kill(executor_handle *h) {
        if (!h || h->reaped)
                return;
        if (h->pidfd < 0 || syscall(SYS_pidfd_send_signal, h->pidfd, SIGKILL, NULL, 0) == 0 || errno != ENOSYS)
                return;
        /* No pidfd_send_signal (valgrind, old kernels): kill() reaches the
         * same process only while it is our child and not reaped (its pid
         * is still its own), which waitid without reaping tells. */
        siginfo_t si = { 0 };
        if (waitid((idtype_t)P_PIDFD, (id_t)h->pidfd, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0)
                (void)kill(h->pid, SIGKILL);
}

static int on_reaped(sd_event_source *s, const siginfo_t *si, void *userdata) {
        return 0;   /* sd-event has reaped it; the floating source goes with it */
}

executor_handle *executor_handle_free(executor_handle *h, sd_event *event) {
        if (!h)
                return NULL;
        if (h->pidfd >= 0) {
                siginfo_t si = { 0 };
                /* Usually sd-event has reaped it already (ECHILD). Otherwise
                 * SIGKILL ends the whole PID namespace promptly, and a
                 * floating source of the loop reaps it then: nothing here
                 * waits. */
                if (waitid((idtype_t)P_PIDFD, (id_t)h->pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0) {
                        executor_kill(h);
                        sd_event_source *src = NULL;
                        if (event && sd_event_add_child(event, &src, h->pid, WEXITED, on_reaped, NULL) >= 0 &&
                            sd_event_source_set_floating(src, true) >= 0) {
                                sd_event_source_unref(src);   /* the loop holds it now */
                        } else {
                                /* No loop to hand it to (out of memory, or at
                                 * exit): SIGKILL is already sent, so this wait is
                                 * short. */
                                sd_event_source_disable_unref(src);
                                while (waitid((idtype_t)P_PIDFD, (id_t)h->pidfd, &si, WEXITED) < 0 && errno == EINTR)
                                        ;
                        }
                }
                if (h->pidfd >= 0)
                        close(h->pidfd);
        }
        if (h->ctl >= 0)
                close(h->ctl);
        free(h);
        return NULL;
}

int executor_read_msg(executor_handle *h, executor_msg *msg, int fds[2]) {
        fds[0] = fds[1] = -1;
        union {
                char buf[CMSG_SPACE(2 * sizeof(int))];
                struct cmsghdr align;
        } cm;
        struct iovec iov = { msg, sizeof *msg };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof cm.buf };
        ssize_t n = recvmsg(h->ctl, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? -EAGAIN : -EPIPE;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        int got[2] = { -1, -1 };
                        memcpy(got, CMSG_DATA(c), (k > 2 ? 2 : k) * sizeof(int));
                        for (size_t i = 0; i < k && i < 2; i++)
                                fds[i] = got[i];
                }
        if (n != (ssize_t)sizeof *msg || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
            (msg->type == EXECUTOR_MSG_STARTED && (fds[0] < 0 || fds[1] < 0)) ||
            (msg->type == EXECUTOR_MSG_LISTENER && fds[0] < 0) ||
            (msg->type != EXECUTOR_MSG_STARTED && msg->type != EXECUTOR_MSG_LISTENER && fds[0] >= 0)) {
                for (int i = 0; i < 2; i++)
                        if (fds[i] >= 0)
                                close(fds[i]);
                fds[0] = fds[1] = -1;
                return -EPIPE;
        }
        msg->message[sizeof msg->message - 1] = 0;
        return 0;
}

int executor_go(executor_handle *h) {
        char go = EXECUTOR_GO;
        return send(h->ctl, &go, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1 ? 0 : -errno;
}

int executor_control_fd(const executor_handle *h) {
        return h->ctl;
}

pid_t executor_pid(const executor_handle *h) {
        return h->pid;
}

int executor_pidfd(const executor_handle *h) {
        return h->pidfd;
}
