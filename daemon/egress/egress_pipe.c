/* egress_pipe.c — one relay direction: user buffer first, then splice(2)
 * through a kernel pipe (see egress_pipe.h). */
#include "egress_pipe.h"
#include "egress_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SPLICE_FLAGS (SPLICE_F_NONBLOCK | SPLICE_F_MOVE)

void pipe_init(Pipe *p) {
        memset(p, 0, sizeof *p);
        p->pfd[0] = p->pfd[1] = -1;
}

void pipe_free(Pipe *p) {
        free(p->data);
        if (p->pfd[0] >= 0)
                close(p->pfd[0]);
        if (p->pfd[1] >= 0)
                close(p->pfd[1]);
        pipe_init(p);
}

int pipe_reserve(Pipe *p, size_t cap) {
        if (cap <= p->cap)
                return 0;
        uint8_t *d = realloc(p->data, cap);
        if (!d)
                return -ENOMEM;
        p->data = d;
        p->cap = cap;
        return 0;
}

void pipe_put(Pipe *p, const void *data, size_t n) {
        if (n > p->cap - p->len)
                n = p->cap - p->len;
        if (n)
                memcpy(p->data + p->len, data, n);
        p->len += n;
}

void pipe_try_splice(Pipe *p) {
        if (p->pfd[0] >= 0 || p->off != p->len || p->eof)
                return;
        if (pipe2(p->pfd, O_NONBLOCK | O_CLOEXEC) < 0) {
                p->pfd[0] = p->pfd[1] = -1;
                return;
        }
        /* larger batches per splice; the kernel may refuse (pipe-max-size, user quota) */
        (void) fcntl(p->pfd[0], F_SETPIPE_SZ, EGRESS_PIPE_SIZE);
        int sz = fcntl(p->pfd[0], F_GETPIPE_SZ);
        p->pipe_cap = sz > 0 ? (size_t) sz : 4096;
        p->off = p->len = 0;
}

static bool spliced(const Pipe *p) {
        return p->pfd[0] >= 0;
}

int pipe_fill(Pipe *p, int fd, size_t limit, size_t *ret_n) {
        *ret_n = 0;
        if (p->eof)
                return 0;
        ssize_t n;
        if (spliced(p)) {
                size_t room = p->pipe_cap - p->in_pipe < limit ? p->pipe_cap - p->in_pipe : limit;
                if (room == 0)
                        return 0;
                n = splice(fd, NULL, p->pfd[1], NULL, room, SPLICE_FLAGS);
        } else {
                if (p->off > 0) {
                        memmove(p->data, p->data + p->off, p->len - p->off);
                        p->len -= p->off;
                        p->off = 0;
                }
                size_t room = p->cap - p->len < limit ? p->cap - p->len : limit;
                if (room == 0)
                        return 0;
                n = read(fd, p->data + p->len, room);
        }
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (n == 0)
                p->eof = true;
        if (spliced(p))
                p->in_pipe += (size_t) n;
        else
                p->len += (size_t) n;
        *ret_n = (size_t) n;
        return 0;
}

int pipe_flush(Pipe *p, int fd, size_t *ret_n) {
        *ret_n = 0;
        if (pipe_has_data(p)) {
                ssize_t n = spliced(p) ? splice(p->pfd[0], NULL, fd, NULL, p->in_pipe, SPLICE_FLAGS)
                                       : send(fd, p->data + p->off, p->len - p->off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
                *ret_n = (size_t) n;
                if (spliced(p))
                        p->in_pipe -= (size_t) n;
                else if ((p->off += (size_t) n) == p->len)
                        p->off = p->len = 0;
        }
        if (p->eof && !pipe_has_data(p) && !p->shut) {
                p->shut = true;
                if (shutdown(fd, SHUT_WR) < 0 && errno != ENOTCONN)
                        return -errno;
        }
        return 0;
}

bool pipe_has_data(const Pipe *p) {
        return p->off < p->len || p->in_pipe > 0;
}

bool pipe_has_room(const Pipe *p) {
        return spliced(p) ? p->in_pipe < p->pipe_cap : p->len < p->cap || p->off > 0;
}

bool pipe_pending_shutdown(const Pipe *p) {
        return pipe_has_data(p) || (p->eof && !p->shut);
}
