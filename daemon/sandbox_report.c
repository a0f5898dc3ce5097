/* sandbox_report.c — the executor's reports to the daemon (see sandbox_report.h). */
#include "sandbox_report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The executor is a process of its own with one control socket; this is set
 * once before anything else runs there and never in the daemon. */
static int report_fd = -1;

int sandbox_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t n) {
        if (n > 2)
                return -EINVAL;
        struct iovec iov = { (void *)buf, len };
        union {
                char buf[CMSG_SPACE(2 * sizeof(int))];
                struct cmsghdr align;
        } cm;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (n > 0) {
                memset(cm.buf, 0, sizeof cm.buf);
                mh.msg_control = cm.buf;
                mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(n * sizeof(int));
                memcpy(CMSG_DATA(c), fds, n * sizeof(int));
        }
        ssize_t r;
        do
                r = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (r < 0 && errno == EINTR);
        return r < 0 ? -errno : r == (ssize_t)len ? 0 : -EPIPE;
}

int sandbox_recv_fd(int sock, void *buf, size_t len, int *ret_fd) {
        struct iovec iov = { buf, len };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } cm;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof cm.buf };
        ssize_t n;
        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        int fd = -1;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
                        memcpy(&fd, CMSG_DATA(c), sizeof fd);
        if (n != (ssize_t)len || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
                if (fd >= 0)
                        close(fd);
                return -EPROTO;
        }
        *ret_fd = fd;
        return 0;
}

void sandbox_report_init(int ctl) {
        report_fd = ctl;
}

static void vreport(executor_msg_type type, uint32_t index, int exit_code, const int *fds, const char *fmt, va_list ap) {
        executor_msg m = { .type = type, .index = index, .exit_code = exit_code };
        if (fmt)
                vsnprintf(m.message, sizeof m.message, fmt, ap);
        (void)sandbox_send_fds(report_fd, &m, sizeof m, fds, fds ? 2 : 0);
}

void sandbox_report(executor_msg_type type, uint32_t index, int exit_code, const int *fds, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vreport(type, index, exit_code, fds, fmt, ap);
        va_end(ap);
}

_Noreturn void sandbox_die_error(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vreport(EXECUTOR_MSG_ERROR, 0, 1, NULL, fmt, ap);
        va_end(ap);
        _exit(1);
}

_Noreturn void sandbox_die_blocked(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vreport(EXECUTOR_MSG_BLOCKED, 0, 1, NULL, fmt, ap);
        va_end(ap);
        _exit(1);
}
