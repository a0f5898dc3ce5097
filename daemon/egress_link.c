/* egress_link.c — keeping cscd-egress running and moving allowlisted
 * executions' connections to it (see egress_link.h).
 *
 * The proxy is started with the first allowlisted execution and kept. Its
 * states: IDLE (never needed yet), STARTING (forked, READY not yet read:
 * the sessions' listeners are not accepted on, so connections wait in the
 * kernel's backlog), READY, DOWN (dead; restarted after a delay that doubles
 * while it keeps dying young). Only in READY does a connection reach it; in
 * DOWN an accepted connection is closed at once (fail closed). */
#include "egress_link.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "canon.h"
#include "egress/egress_client.h"
#include "egress/egress_match.h"
#include "egress_record.h"
#include "json.h"
#include "log.h"

typedef enum link_state { LINK_IDLE, LINK_STARTING, LINK_READY, LINK_DOWN } link_state;

struct egress_session {
        egress_link *link;
        egress_session *next, *prev;
        char id[EGRESS_EXEC_ID_MAX + 1];
        char **hosts;                   /* copies: a reload may free the policy's */
        size_t n_hosts;
        int listener[2];
        sd_event_source *listen_src[2];
        bool begun;                     /* the running proxy knows this execution */
        bool ended;                     /* the commands are over */
        void (*done)(void *);
        void *done_userdata;
        sd_event_source *done_timer;
        egress_record rec;              /* what it did through the proxy */
        bool accept_paused;             /* accept4 failed (descriptors, memory): retried from a timer */
        sd_event_source *accept_retry;
        int pending;                    /* an accepted connection waiting for room on the control
                                         * socket; while there is one, this listener pauses */
};

struct egress_link {
        sd_event *event;
        char *path, *user;
        egress_cidr cidrs[EGRESS_PRIVATE_MAX];
        size_t n_cidrs;
        uint32_t idle_timeout_ms;
        uint64_t byte_cap;
        link_state state;
        pid_t pid;
        int ctl;
        unsigned starts;
        uint64_t restart_delay, ready_at;
        sd_event_source *ctl_src, *child_src, *restart_timer, *ready_timer;
        sd_event_source *stall_timer;   /* armed while messages wait for room: a proxy that reads nothing is stuck */
        egress_session *sessions;
        egress_msg *msg;                /* one message in or out (large: allocated once) */
        egress_wbuf *wb;                /* its encoding */
        /* Control messages the full socket did not take yet, in order; they
         * go before any waiting connection. */
        struct out_msg *out_head, *out_tail;
        size_t n_out;
};

typedef struct out_msg {
        struct out_msg *next;
        size_t len;
        uint8_t data[];
} out_msg;

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- sessions: the proxy's view of one execution -------------------------- */

static egress_session *find_session(egress_link *l, const char *id) {
        for (egress_session *s = l->sessions; s; s = s->next)
                if (strcmp(s->id, id) == 0)
                        return s;
        return NULL;
}

static bool wants_out(const egress_link *l) {
        if (l->out_head)
                return true;
        for (const egress_session *s = l->sessions; s; s = s->next)
                if (s->pending >= 0)
                        return true;
        return false;
}

static void drop_proxy(egress_link *l, const char *why);

static int on_stall(sd_event_source *src, uint64_t usec, void *userdata) {
        egress_link *l = userdata;
        l->stall_timer = sd_event_source_disable_unref(l->stall_timer);
        char why[80];
        snprintf(why, sizeof why, "has not read its control socket for %llu s", EGRESS_LINK_STALL_USEC / 1000000);
        drop_proxy(l, why);
        return 0;
}

/* EPOLLOUT while something waits for room, and the stall timer with it. */
static void update_control_events(egress_link *l) {
        bool out = wants_out(l);
        if (l->ctl_src)
                (void)sd_event_source_set_io_events(l->ctl_src, EPOLLIN | (out ? EPOLLOUT : 0));
        if (!out || l->state != LINK_READY)
                l->stall_timer = sd_event_source_disable_unref(l->stall_timer);
        else if (!l->stall_timer &&
                 sd_event_add_time_relative(l->event, &l->stall_timer, CLOCK_MONOTONIC, EGRESS_LINK_STALL_USEC, 0,
                                            on_stall, l) < 0)
                l->stall_timer = NULL;   /* without it a stuck proxy is found by the queue bound */
}

/* Sends l->msg (a control message, no descriptor), or queues it behind the
 * ones the full socket did not take yet: order is kept either way. */
static int send_control(egress_link *l) {
        if (l->state != LINK_READY)
                return -ENOTCONN;
        int r = egress_msg_encode(l->msg, l->wb);
        if (r < 0)
                return r;
        if (!l->out_head) {
                r = egress_client_send_bytes(l->ctl, l->wb->data, l->wb->len, -1);
                if (r != -EAGAIN)
                        return r;
        }
        if (l->n_out >= EGRESS_LINK_OUT_MAX) {
                drop_proxy(l, "does not read its control socket (the queue of waiting messages is full)");
                return -ENOBUFS;
        }
        out_msg *o = malloc(sizeof *o + l->wb->len);
        if (!o)
                return -ENOMEM;
        o->next = NULL;
        o->len = l->wb->len;
        memcpy(o->data, l->wb->data, o->len);
        if (l->out_tail)
                l->out_tail->next = o;
        else
                l->out_head = o;
        l->out_tail = o;
        l->n_out++;
        update_control_events(l);
        return 0;
}

static void free_out(egress_link *l) {
        while (l->out_head) {
                out_msg *o = l->out_head;
                l->out_head = o->next;
                free(o);
        }
        l->out_tail = NULL;
        l->n_out = 0;
}

/* CONN for one accepted connection of s: 0 (handed over: close ours),
 * -EAGAIN (no room now), or another error (refuse it). */
static int send_conn(egress_session *s, int c) {
        egress_link *l = s->link;
        if (!s->begun || l->state != LINK_READY)
                return -ENOTCONN;
        if (l->out_head)
                return -EAGAIN;   /* control messages first */
        memset(l->msg, 0, offsetof(egress_msg, exec_id) + sizeof l->msg->exec_id);
        l->msg->type = EGRESS_MSG_CONN;
        snprintf(l->msg->exec_id, sizeof l->msg->exec_id, "%s", s->id);
        int r = egress_msg_encode(l->msg, l->wb);
        return r < 0 ? r : egress_client_send_bytes(l->ctl, l->wb->data, l->wb->len, c);
}

static int send_config(egress_link *l) {
        memset(l->msg, 0, sizeof *l->msg);
        l->msg->type = EGRESS_MSG_CONFIG;
        l->msg->config.n = l->n_cidrs;
        memcpy(l->msg->config.cidrs, l->cidrs, l->n_cidrs * sizeof *l->cidrs);
        return send_control(l);
}

/* EXEC_END for s: the proxy closes its connections and answers EXEC_DONE. */
static int send_exec_end(egress_session *s) {
        egress_link *l = s->link;
        memset(l->msg, 0, offsetof(egress_msg, exec_id) + sizeof l->msg->exec_id);
        l->msg->type = EGRESS_MSG_EXEC_END;
        snprintf(l->msg->exec_id, sizeof l->msg->exec_id, "%s", s->id);
        return send_control(l);
}

static void session_begin(egress_session *s) {
        egress_link *l = s->link;
        memset(l->msg, 0, sizeof *l->msg);
        l->msg->type = EGRESS_MSG_EXEC_BEGIN;
        egress_msg_exec_begin *b = &l->msg->exec_begin;
        snprintf(b->exec_id, sizeof b->exec_id, "%s", s->id);
        b->max_conns = EGRESS_CONNS_MAX;
        b->idle_timeout_ms = l->idle_timeout_ms;
        b->byte_cap = l->byte_cap;
        b->n_hosts = s->n_hosts;
        for (size_t i = 0; i < s->n_hosts; i++)
                snprintf(b->hosts[i], sizeof b->hosts[i], "%s", s->hosts[i]);
        int r = send_control(l);
        s->begun = r == 0;
        s->rec.registered |= s->begun;
        if (r < 0)   /* its connections are refused: the proxy does not know it */
                log_warning("egress: execution %s: cannot register it with cscd-egress: %s", s->id, strerror(-r));
}

/* Wakes the execution waiting in egress_session_end(), from the loop. */
static void session_release(egress_session *s) {
        if (s->done_timer)
                (void)sd_event_source_set_time(s->done_timer, 0);
}

static void close_listeners(egress_session *s) {
        s->accept_retry = sd_event_source_disable_unref(s->accept_retry);
        s->accept_paused = false;
        if (s->pending >= 0) {   /* it waited for room; the execution is over */
                s->rec.refused++;
                close(s->pending);
                s->pending = -1;
        }
        for (int i = 0; i < 2; i++) {
                s->listen_src[i] = sd_event_source_disable_unref(s->listen_src[i]);
                if (s->listener[i] >= 0)
                        close(s->listener[i]);
                s->listener[i] = -1;
        }
}

/* Accepting is paused while the proxy starts, and for a session whose last
 * connection waits for room: connections wait in the kernel's backlog. */
static void update_listeners(egress_link *l) {
        for (egress_session *s = l->sessions; s; s = s->next)
                for (int i = 0; i < 2; i++)
                        if (s->listen_src[i])
                                (void)sd_event_source_set_enabled(s->listen_src[i],
                                                                  l->state == LINK_STARTING || s->pending >= 0 ||
                                                                                  s->accept_paused
                                                                          ? SD_EVENT_OFF
                                                                          : SD_EVENT_ON);
}

/* Counts a connection handed over (r == 0) or refused, and closes our copy. */
static void conn_sent(egress_session *s, int c, int r) {
        if (r < 0)
                s->rec.refused++;   /* fail closed: the client sees the connection reset */
        else
                s->rec.passed++;
        close(c);
}

static int on_accept_retry(sd_event_source *src, uint64_t usec, void *userdata) {
        egress_session *s = userdata;
        s->accept_retry = sd_event_source_disable_unref(s->accept_retry);
        s->accept_paused = false;
        update_listeners(s->link);
        return 0;
}

static int on_listen(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        egress_session *s = userdata;
        egress_link *l = s->link;
        for (int n = 0; n < EGRESS_LINK_ACCEPT_BURST; n++) {
                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (c < 0) {
                        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                                return 0;
                        /* Out of descriptors or memory: pause this execution's
                         * listeners rather than spin, and try again shortly. */
                        int e = errno;
                        if (!s->accept_retry &&
                            sd_event_add_time_relative(l->event, &s->accept_retry, CLOCK_MONOTONIC,
                                                       EGRESS_LINK_ACCEPT_RETRY_USEC, 0, on_accept_retry, s) >= 0) {
                                log_warning("egress: execution %s: cannot accept a connection: %s; retrying",
                                            s->id, strerror(e));
                                s->accept_paused = true;
                                update_listeners(l);
                        } else if (!s->accept_retry) {
                                log_error("egress: execution %s: cannot accept a connection: %s; no more are taken",
                                          s->id, strerror(e));
                                for (int i = 0; i < 2; i++)
                                        if (s->listen_src[i] == src)
                                                s->listen_src[i] = sd_event_source_disable_unref(s->listen_src[i]);
                        }
                        return 0;
                }
                int r = send_conn(s, c);
                if (r == -EAGAIN) {
                        /* The proxy is behind: this one waits, and so do this
                         * execution's next ones (in the backlog), not others'. */
                        s->pending = c;
                        update_listeners(l);
                        update_control_events(l);
                        return 0;
                }
                conn_sent(s, c, r);
        }
        return 0;
}

/* Room on the control socket: queued control messages first, then one
 * waiting connection per session, in list order. */
static int flush_out(egress_link *l) {
        while (l->out_head) {
                out_msg *o = l->out_head;
                int r = egress_client_send_bytes(l->ctl, o->data, o->len, -1);
                if (r == -EAGAIN)
                        return 0;
                if (r < 0)
                        return r;
                l->out_head = o->next;
                if (!l->out_head)
                        l->out_tail = NULL;
                l->n_out--;
                free(o);
                if (l->stall_timer)   /* it reads: not stuck */
                        (void)sd_event_source_set_time_relative(l->stall_timer, EGRESS_LINK_STALL_USEC);
        }
        for (egress_session *s = l->sessions; s; s = s->next) {
                if (s->pending < 0)
                        continue;
                int r = send_conn(s, s->pending);
                if (r == -EAGAIN)
                        return 0;
                conn_sent(s, s->pending, r);
                s->pending = -1;
        }
        update_listeners(l);
        return 0;
}

static int on_done_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        egress_session *s = userdata;
        s->done_timer = sd_event_source_disable_unref(s->done_timer);
        void (*done)(void *) = s->done;
        s->done = NULL;
        if (done)
                done(s->done_userdata);
        return 0;
}

static int add_listener(egress_session *s, int slot, int fd) {
        s->listener[slot] = fd;
        int r = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ? -errno : 0;
        r = r ?: sd_event_add_io(s->link->event, &s->listen_src[slot], fd, EPOLLIN, on_listen, s);
        if (r < 0)   /* the listener stays open and unserved: its connections wait, then time out */
                log_error("egress: execution %s: cannot accept on its listener: %s", s->id, strerror(-r));
        return r;
}

int egress_session_add_listeners(egress_session *s, const int fds[2]) {
        if (!s || s->ended || s->listener[0] >= 0) {
                for (int i = 0; i < 2; i++)
                        if (fds[i] >= 0)
                                close(fds[i]);
                return -EPROTO;
        }
        int r = 0;
        for (int i = 0; i < 2; i++)
                if (fds[i] >= 0) {
                        int q = add_listener(s, i, fds[i]);
                        r = r ?: q;
                }
        update_listeners(s->link);
        return r;
}

/* ---- the proxy process ---------------------------------------------------- */

static void start_proxy(egress_link *l);

static int on_restart(sd_event_source *src, uint64_t usec, void *userdata) {
        egress_link *l = userdata;
        l->restart_timer = sd_event_source_disable_unref(l->restart_timer);
        start_proxy(l);
        return 0;
}

static void schedule_restart(egress_link *l) {
        l->state = LINK_DOWN;
        update_listeners(l);
        if (l->restart_timer)
                return;
        uint64_t delay = l->restart_delay;
        l->restart_delay = delay * 2 > EGRESS_LINK_RESTART_MAX_USEC ? EGRESS_LINK_RESTART_MAX_USEC : delay * 2;
        int r = sd_event_add_time_relative(l->event, &l->restart_timer, CLOCK_MONOTONIC, delay, 0, on_restart, l);
        if (r < 0)
                log_error("egress: cannot schedule the restart of cscd-egress: %s", strerror(-r));
}

/* The control socket is gone or the proxy misbehaved: close our end, make
 * sure the process ends, release every execution waiting for it. */
static void drop_proxy(egress_link *l, const char *why) {
        if (l->state == LINK_DOWN && l->ctl < 0)
                return;   /* dropped already */
        l->stall_timer = sd_event_source_disable_unref(l->stall_timer);
        log_warning("egress: cscd-egress (pid %d) %s; allowlisted connections are refused until it is back",
                    (int)l->pid, why);
        l->ctl_src = sd_event_source_disable_unref(l->ctl_src);
        l->ready_timer = sd_event_source_disable_unref(l->ready_timer);
        if (l->ctl >= 0)
                close(l->ctl);
        l->ctl = -1;
        if (l->child_src)   /* its child source reaps it and schedules the restart */
                (void)sd_event_source_send_child_signal(l->child_src, SIGKILL, NULL, 0);
        l->state = LINK_DOWN;
        free_out(l);
        for (egress_session *s = l->sessions; s; s = s->next) {
                s->rec.proxy_lost |= s->begun;
                s->begun = false;
                if (s->pending >= 0)
                        conn_sent(s, s->pending, -ENOTCONN);
                s->pending = -1;
                session_release(s);
        }
        update_listeners(l);
}

static int on_child(sd_event_source *src, const siginfo_t *si, void *userdata) {
        egress_link *l = userdata;
        l->child_src = sd_event_source_disable_unref(l->child_src);
        if (l->ctl >= 0) {
                char why[64];
                snprintf(why, sizeof why, "%s %d", si->si_code == CLD_EXITED ? "exited with status" : "was killed by signal",
                         si->si_status);
                drop_proxy(l, why);
        }
        l->pid = 0;
        /* A proxy that lived a while starts again at once; one that keeps dying young waits longer each time. */
        if (l->ready_at && now_usec() - l->ready_at > 10 * EGRESS_LINK_RESTART_MAX_USEC / 30)
                l->restart_delay = EGRESS_LINK_RESTART_MIN_USEC;
        l->ready_at = 0;
        schedule_restart(l);
        return 0;
}

static int on_ready_timeout(sd_event_source *src, uint64_t usec, void *userdata) {
        egress_link *l = userdata;
        drop_proxy(l, "did not say READY in time");
        return 0;
}

static void on_message(egress_link *l) {
        egress_msg *m = l->msg;
        egress_session *s;
        switch (m->type) {
        case EGRESS_MSG_READY:
                if (l->state != LINK_STARTING || m->version != EGRESS_PROTO_VERSION) {
                        drop_proxy(l, "broke the control protocol (READY)");
                        return;
                }
                l->state = LINK_READY;
                l->starts++;
                l->ready_at = now_usec();
                l->ready_timer = sd_event_source_disable_unref(l->ready_timer);
                log_info("egress: cscd-egress ready (pid %d, start %u)", (int)l->pid, l->starts);
                if (send_config(l) < 0) {
                        drop_proxy(l, "did not take its configuration");
                        return;
                }
                for (s = l->sessions; s; s = s->next)
                        if (!s->ended)
                                session_begin(s);
                update_listeners(l);
                return;
        case EGRESS_MSG_REPORT:
                if ((s = find_session(l, m->report.exec_id)))   /* none: it ended without waiting */
                        egress_record_report(&s->rec, &m->report);
                return;
        case EGRESS_MSG_EXEC_DONE:
                s = find_session(l, m->exec_done.exec_id);
                if (!s)
                        return;
                egress_record_done(&s->rec, &m->exec_done);
                session_release(s);
                return;
        case EGRESS_MSG_ERROR:
                log_strip_controls(m->error.message);
                log_strip_controls(m->error.exec_id);
                log_warning("egress: cscd-egress refused message type %u%s%s: %s", (unsigned)m->error.for_type,
                            m->error.exec_id[0] ? " of execution " : "", m->error.exec_id, m->error.message);
                if ((s = find_session(l, m->error.exec_id))) {
                        if (m->error.for_type == EGRESS_MSG_EXEC_BEGIN)
                                s->begun = false;   /* it does not know the execution: refuse its connections here */
                        else if (m->error.for_type == EGRESS_MSG_EXEC_END)
                                session_release(s);   /* no EXEC_DONE will come */
                }
                return;
        case EGRESS_MSG_CONFIG:
        case EGRESS_MSG_EXEC_BEGIN:
        case EGRESS_MSG_EXEC_END:
        case EGRESS_MSG_CONN:
        default:
                drop_proxy(l, "sent a message only cscd may send");
        }
}

static int on_control(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        egress_link *l = userdata;
        if ((revents & EPOLLOUT) && l->state == LINK_READY) {
                int r = flush_out(l);
                if (r < 0) {
                        char why[96];
                        snprintf(why, sizeof why, "does not take messages (%s)", strerror(-r));
                        drop_proxy(l, why);
                        return 0;
                }
                update_control_events(l);
        }
        while (l->ctl >= 0) {
                int r = egress_client_recv(l->ctl, l->msg);
                if (r == -EAGAIN || r == -EINTR)
                        return 0;
                if (r < 0) {
                        char why[96];
                        snprintf(why, sizeof why, r == -ECONNRESET ? "closed its control socket"
                                                                   : "sent a malformed message (%s)", strerror(-r));
                        drop_proxy(l, why);
                        return 0;
                }
                on_message(l);
        }
        return 0;
}

static void start_proxy(egress_link *l) {
        if (l->state == LINK_STARTING || l->state == LINK_READY || l->child_src || l->restart_timer)
                return;
        pid_t pid;
        int ctl, r = egress_client_start(l->path, l->user, &pid, &ctl);
        if (r < 0) {
                log_error("egress: cannot start %s: %s", l->path, strerror(-r));
                schedule_restart(l);
                return;
        }
        l->pid = pid;
        l->ctl = ctl;
        l->state = LINK_STARTING;
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0 || fcntl(ctl, F_SETFL, O_NONBLOCK) < 0 ||
            (r = sd_event_add_child_pidfd(l->event, &l->child_src, pidfd, WEXITED, on_child, l)) < 0 ||
            (r = sd_event_source_set_child_pidfd_own(l->child_src, true)) < 0 ||
            (r = sd_event_add_io(l->event, &l->ctl_src, ctl, EPOLLIN, on_control, l)) < 0 ||
            (r = sd_event_add_time_relative(l->event, &l->ready_timer, CLOCK_MONOTONIC, EGRESS_LINK_READY_USEC, 0,
                                            on_ready_timeout, l)) < 0) {
                log_error("egress: cannot watch cscd-egress (pid %d): %s", (int)pid,
                          strerror(r < 0 ? -r : errno));
                if (!l->child_src) {   /* nothing will reap it: do it here, it is ours */
                        kill(pid, SIGKILL);
                        if (pidfd >= 0)
                                close(pidfd);
                        (void)waitpid(pid, NULL, 0);
                        l->pid = 0;
                }
                drop_proxy(l, "could not be watched");
                if (!l->child_src)
                        schedule_restart(l);
                return;
        }
        log_info("egress: started %s (pid %d) as %s", l->path, (int)pid, l->user);
        update_listeners(l);
}

/* ---- the link ------------------------------------------------------------- */

static int set_config(egress_link *l, const cscd_config *config) {
        char *path = strdup(config->egress_proxy), *user = strdup(config->egress_user);
        if (!path || !user) {
                free(path);
                free(user);
                return -ENOMEM;
        }
        free(l->path);
        free(l->user);
        l->path = path;
        l->user = user;
        l->idle_timeout_ms = config->egress_idle_timeout_ms;
        l->byte_cap = config->egress_byte_cap;
        l->n_cidrs = 0;
        for (size_t i = 0; i < config->egress_allow_private.n && i < EGRESS_PRIVATE_MAX; i++)
                if (egress_cidr_parse(config->egress_allow_private.v[i], &l->cidrs[l->n_cidrs]) == 0)
                        l->n_cidrs++;   /* the config loader refused any that do not parse */
        return 0;
}

int egress_link_new(sd_event *ev, const cscd_config *config, egress_link **ret) {
        egress_link *l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        l->event = sd_event_ref(ev);
        l->ctl = -1;
        l->restart_delay = EGRESS_LINK_RESTART_MIN_USEC;
        l->msg = malloc(sizeof *l->msg);
        l->wb = malloc(sizeof *l->wb);
        int r = l->msg && l->wb ? set_config(l, config) : -ENOMEM;
        if (r < 0) {
                egress_link_free(l);
                return r;
        }
        *ret = l;
        return 0;
}

void egress_link_reconfigure(egress_link *l, const cscd_config *config) {
        if (set_config(l, config) < 0) {
                log_error("egress: out of memory applying the new configuration; keeping the old one");
                return;
        }
        if (l->state != LINK_READY)
                return;   /* sent when it is READY */
        if (send_config(l) < 0)
                drop_proxy(l, "did not take its new configuration");
}

egress_link *egress_link_free(egress_link *l) {
        if (!l)
                return NULL;
        while (l->sessions)
                egress_session_free(l->sessions);
        l->ctl_src = sd_event_source_disable_unref(l->ctl_src);
        l->ready_timer = sd_event_source_disable_unref(l->ready_timer);
        l->restart_timer = sd_event_source_disable_unref(l->restart_timer);
        l->stall_timer = sd_event_source_disable_unref(l->stall_timer);
        if (l->ctl >= 0)
                close(l->ctl);   /* the proxy exits when it reads EOF */
        /* Not waited for any longer: it exits on the EOF by itself. */
        l->child_src = sd_event_source_disable_unref(l->child_src);
        sd_event_unref(l->event);
        free_out(l);
        free(l->wb);
        free(l->msg);
        free(l->path);
        free(l->user);
        free(l);
        return NULL;
}

int egress_link_status_json(const egress_link *l, csc_json_doc *doc, csc_json **ret) {
        static const char *const names[] = { [LINK_IDLE] = "not started", [LINK_STARTING] = "starting",
                                             [LINK_READY] = "ready", [LINK_DOWN] = "down" };
        csc_json *o = csc_json_new_object(doc);
        unsigned n = 0;
        for (const egress_session *s = l->sessions; s; s = s->next)
                n++;
        int r = o ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "proxy", csc_json_new_string(doc, names[l->state]));
        if (l->pid > 0)
                r = r ?: csc_json_object_set(doc, o, "pid", csc_json_new_int(doc, l->pid));
        r = r ?: csc_json_object_set(doc, o, "starts", csc_json_new_int(doc, l->starts));
        r = r ?: csc_json_object_set(doc, o, "executions", csc_json_new_int(doc, n));
        if (r < 0)
                return r;
        *ret = o;
        return 0;
}

int egress_hosts_check(const csc_strv *hosts, char *why, size_t why_size) {
        if (hosts->n > EGRESS_HOSTS_MAX) {
                snprintf(why, why_size, "allowed_egress_hosts: more than %d entries", EGRESS_HOSTS_MAX);
                return -EINVAL;
        }
        for (size_t i = 0; i < hosts->n; i++) {
                egress_rule rule;
                const char *reason = "invalid";
                if (strlen(hosts->v[i]) > EGRESS_RULE_MAX || egress_rule_parse(hosts->v[i], &rule, &reason) < 0) {
                        snprintf(why, why_size, "allowed_egress_hosts[%zu] '%.100s': %s", i, hosts->v[i],
                                 strlen(hosts->v[i]) > EGRESS_RULE_MAX ? "too long" : reason);
                        return -EINVAL;
                }
        }
        return 0;
}

/* ---- session lifetime ----------------------------------------------------- */

int egress_session_new(egress_link *l, const char *execution_id, const csc_strv *hosts, egress_session **ret) {
        if (strlen(execution_id) > EGRESS_EXEC_ID_MAX || hosts->n > EGRESS_HOSTS_MAX)
                return -E2BIG;
        egress_session *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->link = l;
        s->listener[0] = s->listener[1] = -1;
        s->pending = -1;
        snprintf(s->id, sizeof s->id, "%s", execution_id);
        s->hosts = calloc(hosts->n + 1, sizeof *s->hosts);
        for (; s->hosts && s->n_hosts < hosts->n; s->n_hosts++)
                if (!(s->hosts[s->n_hosts] = strdup(hosts->v[s->n_hosts])))
                        break;
        if (!s->hosts || s->n_hosts < hosts->n) {
                for (size_t i = 0; i < s->n_hosts; i++)
                        free(s->hosts[i]);
                free(s->hosts);
                free(s);
                return -ENOMEM;
        }
        s->next = l->sessions;
        if (l->sessions)
                l->sessions->prev = s;
        l->sessions = s;
        if (l->state == LINK_READY)
                session_begin(s);
        else if (l->state == LINK_IDLE || (l->state == LINK_DOWN && !l->restart_timer && !l->child_src))
                start_proxy(l);   /* the first allowlisted execution starts it; or a restart could not be scheduled */
        *ret = s;
        return 0;
}

int egress_session_end(egress_session *s, void (*done)(void *userdata), void *userdata) {
        if (s->ended)
                return -EALREADY;
        s->ended = true;
        close_listeners(s);
        egress_link *l = s->link;
        bool wait = s->begun && send_exec_end(s) == 0;
        int r = sd_event_add_time_relative(l->event, &s->done_timer, CLOCK_MONOTONIC,
                                           wait ? EGRESS_LINK_DONE_WAIT_USEC : 0, 0, on_done_timer, s);
        if (r < 0) {
                s->done_timer = NULL;
                return r;   /* the caller goes on without the last reports */
        }
        s->done = done;
        s->done_userdata = userdata;
        return 0;
}

egress_session *egress_session_free(egress_session *s) {
        if (!s)
                return NULL;
        egress_link *l = s->link;
        if (!s->ended && s->begun) {   /* freed without an end: tell the proxy to close its connections */
                (void)send_exec_end(s);
        }
        close_listeners(s);
        s->done_timer = sd_event_source_disable_unref(s->done_timer);
        if (s->prev)
                s->prev->next = s->next;
        else if (l->sessions == s)
                l->sessions = s->next;
        if (s->next)
                s->next->prev = s->prev;
        for (size_t i = 0; i < s->n_hosts; i++)
                free(s->hosts[i]);
        free(s->hosts);
        egress_record_clear(&s->rec);
        free(s);
        return NULL;
}

bool egress_session_network_used(const egress_session *s) {
        return s && egress_record_network_used(&s->rec);
}

int egress_session_write_json(const egress_session *s, csc_buf *b) {
        return egress_record_write_json(&s->rec, b);
}
