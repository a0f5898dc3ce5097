/* sandbox_resolve.c — declared host paths are resolved by a process holding the
 * peer's uid, gid and supplementary groups and no capabilities (sandbox rule 1).
 *
 * The kernel then checks every component with the peer's credentials, search
 * permission on each ancestor included, so a path the peer could not reach on
 * the host never becomes a descriptor (rule 2). openat2() refuses every
 * symlink and magic link on the way, so a path swapped for a symlink while it
 * is being resolved cannot redirect it. What comes back is an O_PATH
 * descriptor: the privileged side mounts from it and never walks the path. */
#include "sandbox_resolve.h"

#include "sandbox_report.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* One reply per path: the errno of the lookup (0 on success) and, on success,
 * the descriptor as SCM_RIGHTS. */
typedef struct resolve_reply {
        int32_t err;
} resolve_reply;

static int send_reply(int sock, int err, int fd) {
        resolve_reply rep = { .err = err };
        return sandbox_send_fds(sock, &rep, sizeof rep, &fd, fd >= 0 ? 1 : 0);
}

static int recv_reply(int sock, int *ret_fd) {
        resolve_reply rep;
        struct iovec iov = { &rep, sizeof rep };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } cm;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof cm.buf };
        ssize_t n;
        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        int fd = -1;
        for (struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
                        memcpy(&fd, CMSG_DATA(c), sizeof fd);
        if (n != (ssize_t)sizeof rep || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (rep.err == 0) != (fd >= 0) ||
            rep.err < 0) {
                if (fd >= 0)
                        close(fd);
                return -EPROTO;
        }
        *ret_fd = rep.err == 0 ? fd : -rep.err;
        return 0;
}

/* Becomes the peer for good: groups, gid, uid, then no capability in any set
 * and no way to gain one. Raw system calls only (we are a forked child). */
static int become_peer(const sandbox_peer *who) {
        if (syscall(SYS_setgroups, who->n_groups, who->groups) < 0 ||
            syscall(SYS_setresgid, who->gid, who->gid, who->gid) < 0 ||
            syscall(SYS_setresuid, who->uid, who->uid, who->uid) < 0)
                return -errno;
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3];
        memset(none, 0, sizeof none);
        if (syscall(SYS_capset, &hdr, none) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        return 0;
}

_Noreturn static void resolver_main(const sandbox_peer *who, const char *const *paths, size_t n, int sock) {
        int r = become_peer(who);
        for (size_t i = 0; i < n; i++) {
                int fd = -1, err = -r;
                if (r == 0) {
                        struct open_how how = {
                                .flags = O_PATH | O_CLOEXEC,
                                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
                        };
                        fd = (int)syscall(SYS_openat2, AT_FDCWD, paths[i], &how, sizeof how);
                        err = fd < 0 ? errno : 0;
                }
                if (send_reply(sock, err, fd) < 0)
                        _exit(1);
                if (fd >= 0)
                        close(fd);
        }
        _exit(0);
}

int sandbox_resolve_as_peer(const sandbox_peer *who, const char *const *paths, size_t n, int *ret_fds) {
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(sp[0]);
                close(sp[1]);
                return r;
        }
        if (pid == 0) {
                close(sp[0]);
                resolver_main(who, paths, n, sp[1]);
        }
        close(sp[1]);
        int r = 0;
        size_t got = 0;
        for (; got < n && r == 0; got++)
                r = recv_reply(sp[0], &ret_fds[got]);
        close(sp[0]);
        if (r < 0) {
                kill(pid, SIGKILL);
                for (size_t i = 0; i + 1 < got; i++)
                        if (ret_fds[i] >= 0)
                                close(ret_fds[i]);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return r;
}
