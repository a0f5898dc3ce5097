/* conn.c — one client connection, as the monitor sees it. The client's
 * socket belongs to the connection's session (cscd-session, running as the
 * peer), which reads and parses everything the client sends; here we read
 * the session's binary messages (mon_proto.h) with a bounded reader, never
 * the client's bytes. This file keeps: SO_PEERCRED identity (read from the
 * client's socket before the session starts), the per-uid share of
 * connection slots, the frame deadline and idle timeout, and a bounded write
 * queue of reply frames (requests are not read while replies wait unread; a
 * connection past the hard cap is closed). Whole requests go to the owner's
 * request hook (dispatch.c has the table). A protocol error closes this
 * connection only. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "conn.h"
#include "csc_limits.h"
#include "frame.h"
#include "log.h"
#include "session_spawn.h"

struct conn {
        conn_set *s;
        conn *prev, *next;
        int fd;
        sd_event_source *io;
        sd_event_source *timer;      /* frame deadline or idle timeout */
        sd_event_source *session;    /* the session process (pidfd), until it exits */
        cscd_peer *peer;
        mon_reader reader;           /* the session's messages */
        bool in_frame;               /* the session said a client frame has begun */
        csc_buf out;
        size_t out_off;
        bool close_after_flush;
        bool no_role;                /* no role at connect: counted in s->n_no_role */
        bool broken;                 /* passed the hard cap: shut down, freed by on_io */
        bool frame_deadline;         /* the timer is the current frame's deadline */
        execution *exec;             /* the running submit, if any */
        queued_submit *queued;       /* the submit waiting for a slot (admit.c), if any */
        size_t req_bytes;            /* the request frame being dispatched */
};

/* A submit of this connection runs or waits: read nothing, no idle timeout. */
static bool conn_holds_submit(const conn *c) {
        return c->exec || c->queued;
}

static void conn_update_events(conn *c);
static void conn_arm_timer(conn *c);

/* Part of a request has arrived: from the client (FRAME_BEGIN), or from the session. */
static bool conn_in_frame(const conn *c) {
        return c->in_frame || mon_reader_in_progress(&c->reader);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        conn *c = userdata;
        c->frame_deadline = false;
        if (conn_in_frame(c)) {
                c->close_after_flush = true;
                c->in_frame = false;
                mon_reader_reset(&c->reader);
                int r = conn_send_error(c, "bad_frame", "frame not completed in time", NULL);
                if (r < 0 || (c->out_off == c->out.len && !conn_holds_submit(c))) {
                        conn_free(c);   /* sent (or unsendable): nothing more to say */
                        return 0;
                }
                /* The error waits behind replies the peer has not read: give it
                 * the idle timeout to read them, then close. */
                conn_arm_timer(c);
                conn_update_events(c);
        } else if (!conn_holds_submit(c))
                conn_free(c);
        return 0;
}

static void conn_arm_timer(conn *c) {
        bool in_frame = conn_in_frame(c);
        const cscd_config *cf = *c->s->config;
        unsigned ms = in_frame ? cf->frame_timeout_ms : cf->idle_timeout_ms;
        if (conn_holds_submit(c) && !in_frame) {
                c->frame_deadline = false;
                sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
                return;
        }
        /* A frame's deadline runs from its first byte: bytes trickling in do
         * not move it, or a peer could hold a slot and a partial frame forever. */
        if (in_frame && c->frame_deadline)
                return;
        c->frame_deadline = in_frame;
        uint64_t now;
        sd_event_now(c->s->event, CLOCK_MONOTONIC, &now);
        sd_event_source_set_time(c->timer, now + (uint64_t) ms * 1000u);
        sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

static size_t conn_backlog(const conn *c) {
        return c->out.len - c->out_off;
}

bool conn_is_writable_backlogged(const conn *c) {
        return conn_backlog(c) > CSC_CONN_OUT_PAUSE_BYTES;
}

/* Replies wait unread: take no further request until they drain. */
static bool conn_replies_backlogged(const conn *c) {
        return conn_backlog(c) > CSC_CONN_READ_PAUSE_BYTES;
}

static void conn_update_events(conn *c) {
        bool backlogged = conn_replies_backlogged(c);
        uint32_t ev = 0;
        /* While replies wait, a half-close is not the end: the peer may still
         * be reading them. A full hang-up is always reported (EPOLLHUP). */
        if (conn_holds_submit(c) || !backlogged)
                ev |= EPOLLRDHUP;
        /* While a submit runs or waits, only watch for hang-up; the next request is read after it. */
        if (!conn_holds_submit(c) && !c->close_after_flush && !c->broken && !backlogged)
                ev |= EPOLLIN;
        if (c->out.len > c->out_off)
                ev |= EPOLLOUT;
        sd_event_source_set_io_events(c->io, ev);
}

/* The peer let more than the hard cap pile up. Shut the socket down rather
 * than free here: callers up the stack (a request handler, an execution)
 * still hold c. The hang-up wakes on_io, which frees it. */
static void conn_break(conn *c, size_t frame_len) {
        if (c->broken)
                return;
        c->broken = true;
        log_warning("closing the connection of uid %u (pid %d): %zu bytes of replies unread, "
                    "a further %zu would pass the %u byte cap",
                    (unsigned) c->peer->uid, (int) c->peer->pid, conn_backlog(c), frame_len,
                    (unsigned) CSC_CONN_OUT_HARD_CAP_BYTES);
        (void) shutdown(c->fd, SHUT_RDWR);
        sd_event_source_set_io_events(c->io, EPOLLRDHUP);
}

static int conn_flush(conn *c) {
        while (c->out_off < c->out.len) {
                ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        return -errno;
                }
                c->out_off += (size_t) n;
        }
        if (c->out_off == c->out.len) {
                csc_buf_reset(&c->out);
                c->out_off = 0;
        } else if (c->out_off > (1u << 20)) {
                memmove(c->out.data, c->out.data + c->out_off, c->out.len - c->out_off);
                c->out.len -= c->out_off;
                c->out_off = 0;
        }
        if (c->exec)
                c->s->hooks->exec_set_paused(c->exec, conn_is_writable_backlogged(c));
        return 0;
}

int conn_send(conn *c, const csc_json *frame) {
        if (c->broken)
                return -ECONNRESET;
        size_t before = c->out.len;
        int r = csc_frame_encode(frame, &c->out);
        if (r < 0)
                return r;
        if (conn_backlog(c) > CSC_CONN_OUT_HARD_CAP_BYTES) {
                size_t frame_len = c->out.len - before;
                c->out.len = before;
                conn_break(c, frame_len);
                return -ENOBUFS;
        }
        r = conn_flush(c);
        if (r < 0)
                return r; /* the io handler sees the hang-up and cleans up */
        conn_update_events(c);
        return 0;
}

/* An error object {type: "error", code, message[, path]} in doc. */
static int error_object(csc_json_doc *doc, const char *code, const char *message, const char *path,
                        csc_json **ret) {
        csc_json *o = csc_json_new_object(doc);
        int r = o ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "type", csc_json_new_string(doc, "error"));
        r = r ?: csc_json_object_set(doc, o, "code", csc_json_new_string(doc, code));
        r = r ?: csc_json_object_set(doc, o, "message", csc_json_new_string(doc, message));
        if (path)
                r = r ?: csc_json_object_set(doc, o, "path", csc_json_new_string(doc, path));
        if (r < 0)
                return r;
        *ret = o;
        return 0;
}

int conn_send_error(conn *c, const char *code, const char *message, const char *path) {
        _cleanup_(csc_json_doc_freep) csc_json_doc *doc = csc_json_doc_new();
        if (!doc)
                return -ENOMEM;
        csc_json *o = NULL;
        int r = error_object(doc, code, message, path, &o);
        if (r >= 0)
                r = conn_send(c, o);
        c->s->hooks->refused(c->s->userdata, c->peer, code, message);
        return r;
}

void conn_refuse_busy(conn_set *s, int fd, const char *message) {
        _cleanup_(csc_json_doc_freep) csc_json_doc *doc = csc_json_doc_new();
        _cleanup_(csc_buf_free) csc_buf out = CSC_BUF_INIT;
        csc_json *o = NULL;
        int r = doc ? error_object(doc, "busy", message, NULL, &o) : -ENOMEM;
        r = r ?: csc_frame_encode(o, &out);
        /* A new socket's empty buffer takes this small frame whole; should it
         * not, the peer sees the hang-up alone, which also means "not served". */
        if (r >= 0)
                (void) !send(fd, out.data, out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        s->hooks->busy(s->userdata);
}

/* The session broke the monitor protocol: it is not the program we started
 * (or has been taken over). Log it and end the connection, saying nothing:
 * the peer is the only one who could have caused it. */
static int conn_malformed(conn *c, const char *what) {
        log_warning("closing the connection of uid %u (pid %d): its session sent a malformed message (%s)",
                    (unsigned) c->peer->uid, (int) c->peer->pid, what);
        return -EBADMSG;
}

/* One whole message from the session; takes body. */
static int conn_dispatch(conn *c, const mon_header *h, char *body) {
        if (h->kind == MON_MSG_FRAME_BEGIN) {
                c->in_frame = true;
                return 0;
        }
        c->in_frame = false;
        c->frame_deadline = false;   /* the next frame gets a deadline of its own */
        if (h->kind == MON_MSG_REFUSE) {
                char message[MON_REFUSE_TEXT_MAX + 1], path[MON_REFUSE_TEXT_MAX + 1];
                int r = mon_parse_refuse(body, h->len, message, path);
                free(body);
                if (r < 0)
                        return conn_malformed(c, "a refusal that does not parse");
                c->close_after_flush = true;
                return conn_send_error(c, mon_refusal_code(h->arg), message, path[0] ? path : NULL);
        }
        size_t frame_len;
        csc_json_doc *doc = NULL;
        csc_error err = { 0 };
        int r = mon_parse_request(body, h->len, &frame_len, &doc, &err);
        free(body);
        if (r < 0)
                return r == -ENOMEM ? r : conn_malformed(c, err.message);
        c->req_bytes = frame_len;
        return c->s->hooks->request(c->s->userdata, c, (mon_request) h->arg, doc);
}

/* Feeds peeked bytes to the message reader and dispatches whole messages
 * until the bytes run out, a submit starts, the connection is to close, or
 * replies back up. *ret_used says how many bytes the reader took. */
static int conn_feed(conn *c, const char *buf, size_t n, size_t *ret_used) {
        size_t off = 0;
        int r = 0;
        while (off < n && !c->close_after_flush && !c->broken && !conn_replies_backlogged(c)) {
                size_t used;
                r = mon_reader_feed(&c->reader, buf + off, n - off, &used);
                off += used;
                if (r == -EBADMSG) {
                        r = conn_malformed(c, "a bad message header");
                        break;
                }
                if (r <= 0)
                        break;
                mon_header h;
                char *body;
                mon_reader_take(&c->reader, &h, &body);
                r = conn_dispatch(c, &h, body);
                if (r < 0)
                        break;
                if (!conn_holds_submit(c))
                        continue;
                /* Bytes after a submit frame wait until it finishes: keep them simple
                 * by refusing pipelined requests during a submit. A submit that
                 * waits in the admission queue is dropped (it has not started).
                 * One whose receipt only waits for the group commit has ended:
                 * the bytes stay in the socket until the receipt is sent. */
                if (off < n && c->queued) {
                        c->s->hooks->queued_drop(c->queued, "client sent a request while its submit was queued");
                        c->close_after_flush = true;
                        conn_send_error(c, "bad_frame", "a request arrived while a submit was queued; "
                                        "the submit was dropped", NULL);
                } else if (off < n && !c->s->hooks->exec_receipt_pending(c->exec)) {
                        execution *e = c->exec;
                        c->exec = NULL;   /* the execution forgets us too (e->c = NULL) */
                        c->s->hooks->exec_cancel(e, "client sent a request during a running submit");
                        c->close_after_flush = true;
                        conn_send_error(c, "bad_frame", "a request arrived while a submit was running; "
                                        "the submit was cancelled", NULL);
                }
                break;
        }
        *ret_used = off;
        return r < 0 ? r : 0;
}

/* Peeks, then takes from the socket only the bytes that were used: while
 * replies wait unread, the rest of the peer's requests stay in the kernel's
 * bounded socket buffer, and the peer's writes block, instead of growing
 * our reply queue. */
static int conn_read(conn *c) {
        char buf[65536];
        ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT | MSG_PEEK);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (n == 0)
                return -ECONNRESET;
        size_t used;
        int r = conn_feed(c, buf, (size_t) n, &used);
        if (r < 0)
                return r;
        /* A connection that will close reads no more: drop all of what was peeked. */
        size_t take = c->close_after_flush ? (size_t) n : used;
        if (take > 0 && recv(c->fd, buf, take, MSG_DONTWAIT) != (ssize_t) take)
                return -EIO;   /* only we read this socket: the peeked bytes must be there */
        conn_arm_timer(c);
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        conn *c = userdata;
        int r = c->broken ? -ECONNRESET : 0;
        if (r >= 0 && (revents & EPOLLIN))
                r = conn_read(c);
        if (r >= 0 && (revents & EPOLLOUT))
                r = conn_flush(c);
        if (r >= 0 && (revents & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) && !(revents & EPOLLIN))
                r = -ECONNRESET;
        if (r >= 0 && c->close_after_flush && c->out_off == c->out.len && !conn_holds_submit(c))
                r = -ECONNRESET;
        if (r < 0) {
                conn_free(c);
                return 0;
        }
        conn_update_events(c);
        return 0;
}

/* The peer's share of connection slots (max_connections itself is checked
 * at accept, before the credentials are read). Peers without a role share
 * max_connections_no_role, so the rest stays free for those with one. The
 * per-uid count walks the list: it is at most max_connections long, and
 * this runs once per accepted connection. Returns a refusal or NULL. */
static const char *conn_over_share(const conn_set *s, const cscd_peer *p, unsigned roles, char *buf, size_t size) {
        const cscd_config *cf = *s->config;
        if (!roles && s->n_no_role >= cf->max_connections_no_role) {
                snprintf(buf, size, "too many connections from users without a role "
                         "(max_connections_no_role is %u); retry later", cf->max_connections_no_role);
                return buf;
        }
        unsigned mine = 0;
        for (const conn *c = s->head; c; c = c->next)
                mine += c->peer->uid == p->uid;
        if (mine >= cf->max_connections_per_uid) {
                snprintf(buf, size, "too many connections from this user (max_connections_per_uid is %u); "
                         "retry later", cf->max_connections_per_uid);
                return buf;
        }
        return NULL;
}

/* The connection ends before its session has exited: the loop keeps
 * watching it (floating), so it is reaped without waiting here. */
static void conn_release_session(conn *c) {
        if (!c->session)
                return;
        sd_event_source_set_userdata(c->session, NULL);
        sd_event_source_set_floating(c->session, true);
        c->session = sd_event_source_unref(c->session);
}

/* The session exited. While the connection lives it owns the source; after
 * conn_free the loop does (floating), and this frees it. */
static int on_session_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        conn *c = userdata;
        if (si->si_code != CLD_EXITED || si->si_status != 0)
                log_warning("session (pid %d)%s %s %d", (int) si->si_pid, c ? " of a live connection" : "",
                            si->si_code == CLD_EXITED ? "exited with status" : "was killed by signal", si->si_status);
        if (c)
                c->session = sd_event_source_disable_unref(s);
        else {
                sd_event_source_set_enabled(s, SD_EVENT_OFF);
                sd_event_source_set_floating(s, false);   /* drops the loop's reference */
        }
        return 0;
}

/* Starts the connection's session on (a copy of) the client's socket fd and watches it. */
static int conn_start_session(conn *c, int fd) {
        int sfd;
        pid_t pid;
        int r = session_spawn(c->s->session_program_fd, fd, c->peer, &sfd, &pid);
        if (r < 0)
                return log_error_errno(r, "cannot start a session for uid %u", (unsigned) c->peer->uid), r;
        /* sd-event watches it by pidfd where the kernel has one, by SIGCHLD elsewhere. */
        r = sd_event_add_child(c->s->event, &c->session, pid, WEXITED, on_session_exit, c);
        if (r < 0) {
                /* Rare: it ends once its socket closes; reaped here (it was just killed). */
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                close(sfd);
                return log_error_errno(r, "cannot watch the session of uid %u", (unsigned) c->peer->uid), r;
        }
        (void) sd_event_source_set_child_process_own(c->session, true);
        c->fd = sfd;
        return 0;
}

/* Watches c->fd and creates c's timer. On failure neither is left. */
static int conn_watch(conn *c) {
        int r = sd_event_add_io(c->s->event, &c->io, c->fd, EPOLLIN | EPOLLRDHUP, on_io, c);
        if (r >= 0)
                r = sd_event_add_time(c->s->event, &c->timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_timer, c);
        if (r < 0)
                c->io = sd_event_source_disable_unref(c->io);
        return r;
}

/* Links c into its set, counts it, and starts its idle timeout. */
static void conn_link(conn *c) {
        conn_set *s = c->s;
        c->next = s->head;
        if (s->head)
                s->head->prev = c;
        s->head = c;
        s->n++;
        s->n_no_role += c->no_role;
        conn_arm_timer(c);
}

int conn_new(conn_set *s, int fd, conn **ret) {
        _cleanup_free_ conn *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->s = s;
        c->fd = -1;
        int r = cscd_peer_from_fd(fd, &c->peer);
        if (r < 0)
                return r;
        unsigned roles = cscd_peer_roles(c->peer, *s->config);
        c->no_role = roles == 0;
        char why[160];
        if (conn_over_share(s, c->peer, roles, why, sizeof why)) {
                conn_refuse_busy(s, fd, why);
                cscd_peer_free(c->peer);
                return CONN_REFUSED;
        }
        r = conn_start_session(c, fd);
        if (r >= 0)
                r = conn_watch(c);
        if (r < 0) {
                if (c->fd >= 0)
                        close(c->fd);
                conn_release_session(c);
                cscd_peer_free(c->peer);
                return r;
        }
        close(fd);   /* the session has it now */
        conn_link(c);
        *ret = TAKE_PTR(c);
        return 0;
}

int conn_new_on_fd(conn_set *s, cscd_peer *peer, int fd, conn **ret) {
        _cleanup_free_ conn *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->s = s;
        c->fd = fd;
        c->peer = peer;
        c->no_role = cscd_peer_roles(peer, *s->config) == 0;
        int r = conn_watch(c);
        if (r < 0)
                return r;
        conn_link(c);
        *ret = TAKE_PTR(c);
        return 0;
}

conn *conn_free(conn *c) {
        if (!c)
                return NULL;
        conn_set *s = c->s;
        if (c->exec) {
                execution *e = c->exec;
                c->exec = NULL;
                s->hooks->exec_cancel(e, "client disconnected");
        }
        if (c->queued)
                s->hooks->queued_drop(c->queued, "client disconnected");
        if (c->prev)
                c->prev->next = c->next;
        else
                s->head = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n--;
        s->n_no_role -= c->no_role;
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        close(c->fd);   /* the session sees the end of its input, and exits */
        conn_release_session(c);
        mon_reader_reset(&c->reader);
        csc_buf_free(&c->out);
        cscd_peer_free(c->peer);
        free(c);
        return NULL;
}

const cscd_peer *conn_peer(const conn *c) {
        return c->peer;
}

void conn_set_queued(conn *c, queued_submit *q) {
        c->queued = q;
        conn_arm_timer(c);
        conn_update_events(c);
}

size_t conn_request_bytes(const conn *c) {
        return c->req_bytes;
}

void conn_set_execution(conn *c, execution *e) {
        c->exec = e;
        conn_arm_timer(c);
        conn_update_events(c);
}

bool conn_hung_up(const conn *c) {
        struct pollfd p = { .fd = c->fd, .events = POLLRDHUP };
        return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}
