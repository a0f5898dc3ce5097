/* egress_client.c — cscd's side of the control protocol: spawning the proxy
 * and moving one message at a time (see egress_client.h). */
#include "egress_client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int egress_client_send_bytes(int ctl, const void *data, size_t len, int fd) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control;
        struct iovec iov = { (void *) data, len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (fd >= 0) {
                memset(&control, 0, sizeof control);
                mh.msg_control = &control;
                mh.msg_controllen = sizeof control;
                struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &fd, sizeof fd);
        }
        return sendmsg(ctl, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int egress_client_send(int ctl, const egress_msg *m, int fd) {
        egress_wbuf *wb = malloc(sizeof *wb);
        if (!wb)
                return -ENOMEM;
        int r = egress_msg_encode(m, wb);
        if (r == 0)
                r = egress_client_send_bytes(ctl, wb->data, wb->len, fd);
        free(wb);
        return r;
}

int egress_client_recv(int ctl, egress_msg *ret) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * 4)];
        } control;
        uint8_t *buf = malloc(EGRESS_MSG_MAX);
        if (!buf)
                return -ENOMEM;
        struct iovec iov = { buf, EGRESS_MSG_MAX };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof control };
        ssize_t n = recvmsg(ctl, &mh, MSG_CMSG_CLOEXEC);
        int r = n < 0 ? -errno : n == 0 ? -ECONNRESET : 0;
        bool fds = false;
        for (struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
                        for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                                int fd;
                                memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
                                close(fd);
                        }
                        fds = true;
                }
        if (r == 0 && (fds || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))))
                r = -EBADMSG; /* the proxy never sends descriptors */
        if (r == 0)
                r = egress_msg_decode(buf, (size_t) n, ret, NULL);
        free(buf);
        return r;
}

/* In the child: only async-signal-safe calls. */
static void exec_proxy(int fd, const char *path, char *const argv[]) {
        if (fd != 3 && dup2(fd, 3) < 0)
                _exit(127);
        if (fd == 3 && fcntl(3, F_SETFD, 0) < 0) /* keep it across exec */
                _exit(127);
        close_range(4, ~0u, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(path, argv);
        _exit(127);
}

int egress_client_start(const char *path, const char *user, pid_t *ret_pid, int *ret_ctl) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        char *argv[] = { (char *) path, (char *) "--control-fd", (char *) "3", user ? (char *) "--user" : NULL,
                         (char *) user, NULL };
        pid_t pid = fork();
        if (pid < 0) {
                int e = -errno;
                close(sv[0]);
                close(sv[1]);
                return e;
        }
        if (pid == 0)
                exec_proxy(sv[1], path, argv);
        close(sv[1]);
        *ret_pid = pid;
        *ret_ctl = sv[0];
        return 0;
}

int egress_client_spawn(const char *path, const char *user, int timeout_ms, pid_t *ret_pid, int *ret_ctl) {
        pid_t pid;
        int ctl;
        int r = egress_client_start(path, user, &pid, &ctl);
        if (r < 0)
                return r;
        int sv[2] = { ctl, -1 };
        struct pollfd p = { sv[0], POLLIN, 0 };
        r = poll(&p, 1, timeout_ms);
        egress_msg *m = malloc(sizeof *m);
        if (r == 0)
                r = -ETIMEDOUT;
        else if (r < 0)
                r = -errno;
        else if (!m)
                r = -ENOMEM;
        else {
                r = egress_client_recv(sv[0], m);
                if (r == -ECONNRESET)
                        r = -ECHILD;
                else if (r == 0 && (m->type != EGRESS_MSG_READY || m->version != EGRESS_PROTO_VERSION))
                        r = -EPROTO;
        }
        free(m);
        if (r < 0) {
                close(sv[0]);
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return r;
        }
        *ret_pid = pid;
        *ret_ctl = sv[0];
        return 0;
}
