/* sandbox_report.c — the executor's reports to the daemon (see sandbox_report.h). */
#include "sandbox_report.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox_text.h"

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

/* The strings in ap, concatenated into m's message, cut to fit. */
static void message_cat(executor_msg *m, va_list ap) {
        size_t len = 0, size = sizeof m->message;
        for (const char *s; (s = va_arg(ap, const char *));) {
                size_t n = strlen(sandbox_text(m->message + len, size - len, s));
                len += n;
                if (n < strlen(s))
                        break;   /* cut: nothing after it */
        }
}

void sandbox_report_cat(executor_msg_type type, uint32_t index, int exit_code, const int *fds, ...) {
        executor_msg m = { .type = type, .index = index, .exit_code = exit_code };
        va_list ap;
        va_start(ap, fds);
        message_cat(&m, ap);
        va_end(ap);
        (void)sandbox_send_fds(SANDBOX_CTL_FD, &m, sizeof m, fds, fds ? 2 : 0);
}

_Noreturn void sandbox_die_cat(executor_msg_type type, ...) {
        executor_msg m = { .type = type, .index = 0, .exit_code = 1 };
        va_list ap;
        va_start(ap, type);
        message_cat(&m, ap);
        va_end(ap);
        (void)sandbox_send_fds(SANDBOX_CTL_FD, &m, sizeof m, NULL, 0);
        _exit(1);
}
