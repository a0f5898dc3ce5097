/* session.c — cscd-session: one client connection, running as the peer.
 *
 * cscd (the monitor) forks, drops to the peer's uid, gid and groups with no
 * capabilities and no_new_privs, and executes this program with the client's
 * socket on fd 3 and its own end of a socket pair on fd 4. Everything the
 * client sends is read and parsed here: frames, JSON, the request type. Each
 * request goes to the monitor in the binary shape of mon_proto.h; whatever
 * the monitor sends back (ready-made frames) is copied to the client unread.
 *
 * Memory stays bounded on both paths: the client is read only while little
 * waits for the monitor, the monitor only while little waits for the client.
 * A client that stops reading fills this process's buffer and then the
 * socket pair, and the monitor pauses that connection's output as before.
 * The frame deadline and idle timeout stay in the monitor (FRAME_BEGIN tells
 * it a frame has started). A client that hangs up ends this process, and the
 * monitor sees its end close; one that only closes its write side has the
 * monitor's end shut down for writing in turn. When the monitor closes, the
 * session passes on what is left for at most a second, then ends. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "frame.h"
#include "mon_proto.h"
#include "session_seccomp.h"

#define CLIENT_FD 3
#define MON_FD 4
#define TO_MON_PAUSE (64u * 1024u)      /* read no more client bytes above this */
#define TO_CLIENT_PAUSE (256u * 1024u)  /* read no more monitor bytes above this */

typedef struct outq {
        csc_buf b;
        size_t off;
} outq;

typedef struct session {
        csc_frame_reader reader;
        outq to_mon, to_client;
        bool begin_sent;     /* FRAME_BEGIN sent for the frame in progress */
        bool refused;        /* a REFUSE went out: read the client no more */
        bool client_eof, mon_shut, mon_eof;
} session;

static void fail(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "cscd-session[%d]: ", (int) getpid());
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        exit(1);
}

static size_t pending(const outq *q) {
        return q->b.len - q->off;
}

/* 0, or -errno when the other end is gone. */
static int flush(outq *q, int fd) {
        while (pending(q) > 0) {
                ssize_t n = send(fd, q->b.data + q->off, pending(q), MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
                q->off += (size_t) n;
        }
        csc_buf_reset(&q->b);
        q->off = 0;
        return 0;
}

static void refuse(session *s, mon_refusal code, const char *message, const char *path) {
        if (mon_put_refuse(&s->to_mon.b, code, message, path) < 0)
                fail("out of memory");
        s->refused = true;
}

/* One whole frame: a REQUEST for the monitor, or a REFUSE saying why not. */
static void on_frame(session *s, char *payload, size_t len) {
        csc_json_doc *doc = NULL;
        const char *code = NULL;
        csc_error err = { 0 };
        int r = csc_frame_parse(payload, len, &doc, &code, &err);
        free(payload);
        if (r < 0) {
                char buf[CSC_ERROR_PATH_MAX + CSC_ERROR_MSG_MAX + 4];
                refuse(s, strcmp(code, "bad_json") == 0 ? MON_REFUSE_BAD_JSON : MON_REFUSE_BAD_FRAME,
                       csc_error_str(&err, buf, sizeof buf), NULL);
                return;
        }
        const csc_json *root = csc_json_doc_root(doc);
        const char *type = csc_json_get_str(root, "type");
        mon_request t = mon_request_from_name(type);
        if (!t) {
                char msg[160];
                snprintf(msg, sizeof msg, "unknown request type \"%.100s\"", type);
                refuse(s, MON_REFUSE_BAD_FRAME, msg, "type");
        } else if (mon_put_request(&s->to_mon.b, t, len, root) < 0)
                fail("out of memory");
        csc_json_doc_free(doc);
}

static void feed(session *s, const char *buf, size_t n) {
        size_t off = 0;
        while (off < n && !s->refused) {
                size_t used;
                int r = csc_frame_reader_feed(&s->reader, buf + off, n - off, &used);
                off += used;
                if (r == -EBADMSG || r == -EMSGSIZE) {
                        refuse(s, r == -EBADMSG ? MON_REFUSE_BAD_FRAME : MON_REFUSE_TOO_LARGE,
                               r == -EBADMSG ? "frame length 0" : "frame larger than 2 MiB", NULL);
                        return;
                }
                if (r < 0)
                        fail("frame reader: %s", strerror(-r));
                if (r == 0)
                        break;
                char *payload;
                size_t len;
                csc_frame_reader_take(&s->reader, &payload, &len);
                s->begin_sent = false;
                on_frame(s, payload, len);
        }
        if (!s->refused && csc_frame_reader_in_progress(&s->reader) && !s->begin_sent) {
                if (mon_put_frame_begin(&s->to_mon.b) < 0)
                        fail("out of memory");
                s->begin_sent = true;
        }
}

static void read_client(session *s) {
        char buf[65536];
        ssize_t n = recv(CLIENT_FD, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return;
                exit(0);   /* reset by the client: it is gone */
        }
        if (n == 0) {
                s->client_eof = true;
                return;
        }
        feed(s, buf, (size_t) n);
}

static void read_monitor(session *s) {
        char buf[65536];
        ssize_t n = recv(MON_FD, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return;
                s->mon_eof = true;
                return;
        }
        if (n == 0)
                s->mon_eof = true;
        else if (csc_buf_append(&s->to_client.b, buf, (size_t) n) < 0)
                fail("out of memory");
}

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

/* Once the monitor has closed, what it said last gets this long to reach a
 * client that is not reading; then the session ends, as the connection
 * would have when the monitor closed the client's socket itself. */
#define LAST_WORDS_MS 1000

static void run(session *s) {
        uint64_t give_up = 0;
        for (;;) {
                int timeout = -1;
                if (s->mon_eof) {
                        uint64_t now = now_ms();
                        if (!give_up)
                                give_up = now + LAST_WORDS_MS;
                        if (now >= give_up)
                                exit(0);
                        timeout = (int) (give_up - now);
                }
                struct pollfd p[2] = { { .fd = CLIENT_FD }, { .fd = MON_FD } };
                if (!s->client_eof && !s->refused && pending(&s->to_mon) < TO_MON_PAUSE)
                        p[0].events |= POLLIN;
                if (pending(&s->to_client))
                        p[0].events |= POLLOUT;
                if (!s->mon_eof && pending(&s->to_client) < TO_CLIENT_PAUSE)
                        p[1].events |= POLLIN;
                if (pending(&s->to_mon))
                        p[1].events |= POLLOUT;
                if (poll(p, 2, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        fail("poll: %s", strerror(errno));
                }
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
                        read_monitor(s);
                if (p[0].revents & POLLIN)
                        read_client(s);
                if (flush(&s->to_mon, MON_FD) < 0) {
                        /* The monitor stopped reading: pass on what it said, then go. */
                        csc_buf_reset(&s->to_mon.b);
                        s->to_mon.off = 0;
                        s->refused = true;
                }
                if (flush(&s->to_client, CLIENT_FD) < 0)
                        exit(0);
                /* A client that hung up entirely cannot read a reply: end the
                 * session, and the monitor sees its end close. */
                if ((p[0].revents & (POLLHUP | POLLERR)) && !(p[0].revents & POLLIN))
                        exit(0);
                if (s->client_eof && !s->mon_shut && pending(&s->to_mon) == 0) {
                        (void) shutdown(MON_FD, SHUT_WR);
                        s->mon_shut = true;
                }
                if (s->mon_eof && pending(&s->to_client) == 0)
                        exit(0);
        }
}

int main(int argc, char **argv) {
        if (argc != 1 || fcntl(CLIENT_FD, F_GETFD) < 0 || fcntl(MON_FD, F_GETFD) < 0)
                fail("started by cscd only (the client's socket on fd 3, cscd's on fd 4)");
        (void) close(5);   /* cscd executed us from it */
        if (fcntl(CLIENT_FD, F_SETFL, O_NONBLOCK) < 0 || fcntl(MON_FD, F_SETFL, O_NONBLOCK) < 0)
                fail("fcntl: %s", strerror(errno));
        int r = session_seccomp_install();
        if (r < 0)
                fail("cannot install the seccomp filter: %s", strerror(-r));
        session s = { 0 };
        csc_frame_reader_init(&s.reader, CSC_FRAME_MAX_BYTES);
        run(&s);
        return 0;
}
