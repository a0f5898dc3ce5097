/* egress_manager.c — cscd-egress's Manager: the control socket to cscd (a
 * fixed table of accepted message types, each parsed whole before it is
 * acted on), the registered executions, the address rules that need state
 * (egress_allow_private, this host's own addresses), the per-connection log
 * line and the queue of reports to cscd. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <syslog.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "egress.h"


static void log_line(Manager *m, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void log_line(Manager *m, int prio, const char *fmt, ...) {
        char text[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        if (m->journal)
                sd_journal_send("MESSAGE=cscd-egress: %s", text, "PRIORITY=%d", prio, "SYSLOG_IDENTIFIER=cscd-egress",
                                NULL);
        else
                fprintf(stderr, "<%d>cscd-egress: %s\n", prio, text);
}

void manager_log_conn(Manager *m, const Conn *c) {
        const char *host = c->req && c->req->host.kind ? c->req->host.name : "-";
        const char *verdict = egress_verdict_name(c->verdict);
        const char *proto = egress_proto_name(c->req ? c->req->proto : EGRESS_PROTO_NONE);
        unsigned port = c->req ? c->req->port : 0;
        const char *addr = c->addr_text[0] ? c->addr_text : "-";
        int prio = c->verdict == EGRESS_VERDICT_ALLOWED ? LOG_INFO : LOG_NOTICE;
        if (m->journal) {
                sd_journal_send("MESSAGE=cscd-egress: %s %s %s:%u via %s: %s", verdict, proto, host, port, addr,
                                c->reason, "PRIORITY=%d", prio, "SYSLOG_IDENTIFIER=cscd-egress",
                                "CSC_EXECUTION_ID=%s", c->exec->id, "CSC_EGRESS_VERDICT=%s", verdict,
                                "CSC_EGRESS_PROTO=%s", proto, "CSC_EGRESS_HOST=%s", host, "CSC_EGRESS_PORT=%u",
                                port, "CSC_EGRESS_ADDRESS=%s", addr, "CSC_EGRESS_REASON=%s", c->reason,
                                "CSC_EGRESS_BYTES_UP=%llu", (unsigned long long) c->bytes_up,
                                "CSC_EGRESS_BYTES_DOWN=%llu", (unsigned long long) c->bytes_down, NULL);
                return;
        }
        fprintf(stderr,
                "<%d>cscd-egress: CSC_EXECUTION_ID=%s verdict=%s proto=%s host=%s port=%u address=%s "
                "bytes_up=%llu bytes_down=%llu reason=\"%s\"\n",
                prio, c->exec->id, verdict, proto, host, port, addr, (unsigned long long) c->bytes_up,
                (unsigned long long) c->bytes_down, c->reason);
}

static int flush_out(Manager *m) {
        while (m->out_head) {
                OutMsg *o = m->out_head;
                if (send(m->control_fd, o->data, o->len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        return -errno;
                }
                m->out_head = o->next;
                if (!m->out_head)
                        m->out_tail = NULL;
                m->n_out--;
                free(o);
        }
        return sd_event_source_set_io_events(m->control_src, EPOLLIN | (m->out_head ? EPOLLOUT : 0));
}

int manager_send(Manager *m, const egress_msg *msg) {
        if (m->closing)
                return 0; /* shutting down: cscd learns from the closed socket */
        int r = egress_msg_encode(msg, m->wbuf);
        if (r < 0)
                return r;
        if (m->n_out >= EGRESS_CONTROL_QUEUE_MAX) {
                if (m->dropped_reports++ == 0)
                        log_line(m, LOG_WARNING, "cscd is not reading reports; dropping them");
                return -ENOBUFS;
        }
        OutMsg *o = malloc(sizeof *o + m->wbuf->len);
        if (!o)
                return -ENOMEM;
        o->next = NULL;
        o->len = m->wbuf->len;
        memcpy(o->data, m->wbuf->data, o->len);
        if (m->out_tail)
                m->out_tail->next = o;
        else
                m->out_head = o;
        m->out_tail = o;
        m->n_out++;
        r = flush_out(m);
        if (r < 0) {
                log_line(m, LOG_ERR, "control socket: %s; exiting", strerror(-r));
                sd_event_exit(m->event, 1);
        }
        return r;
}

static void send_error(Manager *m, uint16_t for_type, const char *exec_id, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void send_error(Manager *m, uint16_t for_type, const char *exec_id, const char *fmt, ...) {
        egress_msg msg = { .type = EGRESS_MSG_ERROR };
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg.error.message, sizeof msg.error.message, fmt, ap);
        va_end(ap);
        msg.error.for_type = for_type;
        snprintf(msg.error.exec_id, sizeof msg.error.exec_id, "%s", exec_id ? exec_id : "");
        log_line(m, LOG_WARNING, "refused control message %u%s%s: %s", for_type, exec_id ? " for " : "",
                 exec_id ? exec_id : "", msg.error.message);
        manager_send(m, &msg);
}

Exec *manager_find_exec(Manager *m, const char *id) {
        for (Exec *e = m->execs; e; e = e->next)
                if (strcmp(e->id, id) == 0)
                        return e;
        return NULL;
}

/* 0, or -errno when the list could not be read (the last one is kept). */
static int refresh_own_addresses(Manager *m) {
        uint64_t now = 0;
        struct ifaddrs *ifa = NULL;
        size_t n = 0;
        sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        if (m->own_at_usec && now - m->own_at_usec < 1000 * 1000)
                return 0;
        if (getifaddrs(&ifa) < 0)
                return -errno;
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
                n++;
        egress_cidr *own = calloc(n ? n : 1, sizeof *own);
        if (!own) {
                freeifaddrs(ifa);
                return -ENOMEM;
        }
        n = 0;
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
                egress_cidr *c = &own[n];
                if (!i->ifa_addr)
                        continue;
                if (i->ifa_addr->sa_family == AF_INET) {
                        memcpy(c->addr, &((struct sockaddr_in *) (void *) i->ifa_addr)->sin_addr, 4);
                        c->family = 4;
                        c->prefix = 32;
                } else if (i->ifa_addr->sa_family == AF_INET6) {
                        memcpy(c->addr, &((struct sockaddr_in6 *) (void *) i->ifa_addr)->sin6_addr, 16);
                        c->family = 6;
                        c->prefix = 128;
                } else
                        continue;
                n++;
        }
        freeifaddrs(ifa);
        free(m->own);
        m->own = own;
        m->n_own = n;
        m->own_at_usec = now;
        return 0;
}

const char *manager_address_refusal(Manager *m, const struct sockaddr_storage *ss) {
        int family = ss->ss_family == AF_INET ? 4 : 6;
        const uint8_t *a = family == 4 ? (const uint8_t *) &((const struct sockaddr_in *) (const void *) ss)->sin_addr
                                       : (const uint8_t *) &((const struct sockaddr_in6 *) (const void *) ss)->sin6_addr;
        if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6)
                return "not an IP address";
        for (size_t i = 0; i < m->n_private; i++)
                if (egress_cidr_contains(&m->private_cidrs[i], family, a))
                        return NULL;
        egress_addr_class cls = egress_addr_classify(family, a);
        if (cls != EGRESS_ADDR_PUBLIC)
                return egress_addr_class_name(cls);
        if (refresh_own_addresses(m) < 0 && !m->own_at_usec)
                return "not checkable: this host's addresses cannot be listed"; /* fail closed */
        for (size_t i = 0; i < m->n_own; i++)
                if (egress_cidr_contains(&m->own[i], family, a))
                        return egress_addr_class_name(EGRESS_ADDR_HOST);
        return NULL;
}

/* The execution ended: a connection still being served ends with that
 * reason; one already refused (closing) keeps its verdict and reason. */
static void conn_end_execution(Conn *c) {
        if (c->state == CONN_CLOSING)
                conn_end(c, 0, NULL);
        else if (c->state == CONN_RELAY)
                conn_end(c, EGRESS_VERDICT_ALLOWED, "execution ended");
        else if (c->state == CONN_RESOLVING || c->state == CONN_CONNECTING)
                conn_end(c, EGRESS_VERDICT_FAILED, "execution ended before the connection was made");
        else
                conn_end(c, EGRESS_VERDICT_DENIED, "execution ended before a complete request");
}

static Exec *exec_free(Manager *m, Exec *e) {
        while (e->conns)
                conn_end_execution(e->conns);
        if (e->next)
                e->next->prev = e->prev;
        if (e->prev)
                e->prev->next = e->next;
        else
                m->execs = e->next;
        m->n_execs--;
        free(e->allow);
        free(e);
        return NULL;
}

static int on_config(Manager *m, egress_msg *msg, int fd) {
        m->n_private = msg->config.n;
        memcpy(m->private_cidrs, msg->config.cidrs, msg->config.n * sizeof msg->config.cidrs[0]);
        log_line(m, LOG_INFO, "egress_allow_private: %zu ranges", m->n_private);
        return 0;
}

static int on_exec_begin(Manager *m, egress_msg *msg, int fd) {
        const egress_msg_exec_begin *b = &msg->exec_begin;
        if (manager_find_exec(m, b->exec_id)) {
                send_error(m, EGRESS_MSG_EXEC_BEGIN, b->exec_id, "execution already registered");
                return 0;
        }
        if (m->n_execs >= EGRESS_EXECS_MAX) {
                send_error(m, EGRESS_MSG_EXEC_BEGIN, b->exec_id, "too many executions (at most %d)", EGRESS_EXECS_MAX);
                return 0;
        }
        Exec *e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        size_t bad = 0;
        const char *why = "";
        int r = egress_allowlist_new(b->hosts, b->n_hosts, &e->allow, &bad, &why);
        if (r < 0) {
                free(e);
                if (r == -ENOMEM)
                        return r;
                send_error(m, EGRESS_MSG_EXEC_BEGIN, b->exec_id, "allowed_egress_hosts[%zu]: %s", bad, why);
                return 0;
        }
        e->manager = m;
        snprintf(e->id, sizeof e->id, "%s", b->exec_id);
        e->max_conns = b->max_conns;
        e->idle_timeout_ms = b->idle_timeout_ms;
        e->byte_cap = b->byte_cap;
        e->next = m->execs;
        if (m->execs)
                m->execs->prev = e;
        m->execs = e;
        m->n_execs++;
        return 0;
}

static int on_exec_end(Manager *m, egress_msg *msg, int fd) {
        Exec *e = manager_find_exec(m, msg->exec_id);
        if (!e) {
                send_error(m, EGRESS_MSG_EXEC_END, msg->exec_id, "unknown execution");
                return 0;
        }
        egress_msg done = { .type = EGRESS_MSG_EXEC_DONE };
        while (e->conns) /* their reports go out before EXEC_DONE */
                conn_end_execution(e->conns);
        snprintf(done.exec_done.exec_id, sizeof done.exec_done.exec_id, "%s", e->id);
        done.exec_done.allowed = e->allowed;
        done.exec_done.denied = e->denied;
        done.exec_done.bytes_up = e->bytes_up;
        done.exec_done.bytes_down = e->bytes_down;
        exec_free(m, e);
        manager_send(m, &done);
        return 0;
}

static int set_nonblock(int fd) {
        int fl = fcntl(fd, F_GETFL);
        return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

static int on_conn(Manager *m, egress_msg *msg, int fd) {
        Exec *e = manager_find_exec(m, msg->exec_id);
        if (!e) {
                close(fd);
                send_error(m, EGRESS_MSG_CONN, msg->exec_id, "unknown execution: connection closed");
                return 0;
        }
        if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, -1) <= 0 || set_nonblock(fd) < 0) {
                close(fd);
                send_error(m, EGRESS_MSG_CONN, msg->exec_id, "the descriptor is not a stream socket");
                return 0;
        }
        return conn_new(e, fd);
}

/* What cscd may send, and which messages carry a descriptor. */
static const struct {
        egress_msg_type type;
        bool takes_fd;
        int (*handler)(Manager *m, egress_msg *msg, int fd);
} control_table[] = {
        { EGRESS_MSG_CONFIG, false, on_config },
        { EGRESS_MSG_EXEC_BEGIN, false, on_exec_begin },
        { EGRESS_MSG_EXEC_END, false, on_exec_end },
        { EGRESS_MSG_CONN, true, on_conn },
};

static void close_fds(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
}

/* One datagram: its descriptors, then the message parsed whole, then the
 * handler. A bad message is refused with an ERROR; the proxy keeps serving. */
static int read_control(Manager *m) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * EGRESS_CONTROL_FDS_MAX)];
        } control;
        struct iovec iov = { m->rbuf, EGRESS_MSG_MAX };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof control };
        int fds[EGRESS_CONTROL_FDS_MAX];
        size_t n_fds = 0;
        ssize_t n = recvmsg(m->control_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (n == 0)
                return -ECONNRESET;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
                        for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int) && n_fds < EGRESS_CONTROL_FDS_MAX; i++)
                                memcpy(&fds[n_fds++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
        const char *what = NULL;
        int r = (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ? -EMSGSIZE : egress_msg_decode(m->rbuf, (size_t) n, m->msg, &what);
        if (r < 0) {
                close_fds(fds, n_fds);
                send_error(m, 0, NULL, "malformed control message (%s): %s", what ? what : "datagram", strerror(-r));
                return 0;
        }
        for (size_t i = 0; i < sizeof control_table / sizeof *control_table; i++) {
                if (control_table[i].type != m->msg->type)
                        continue;
                if (n_fds != (control_table[i].takes_fd ? 1u : 0u)) {
                        close_fds(fds, n_fds);
                        send_error(m, (uint16_t) m->msg->type, NULL, "expected %d descriptors, got %zu",
                                   control_table[i].takes_fd, n_fds);
                        return 0;
                }
                return control_table[i].handler(m, m->msg, n_fds ? fds[0] : -1);
        }
        close_fds(fds, n_fds);
        send_error(m, (uint16_t) m->msg->type, NULL, "message type not accepted from cscd");
        return 0;
}

static int on_control(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        int r = 0;
        if (revents & EPOLLOUT)
                r = flush_out(m);
        if (r >= 0 && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                r = read_control(m);
        if (r < 0) {
                if (r == -ECONNRESET)
                        log_line(m, LOG_INFO, "cscd closed the control socket; exiting");
                else
                        log_line(m, LOG_ERR, "control socket: %s; exiting", strerror(-r));
                sd_event_exit(m->event, r == -ECONNRESET ? 0 : 1);
        }
        return 0;
}

static int on_resolver(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        for (egress_lookup *l = egress_resolver_take(m->resolver), *next; l; l = next) {
                next = l->next;
                if (l->userdata)
                        conn_resolved(l->userdata, l);
                else
                        free(l);
        }
        return 0;
}

int manager_new(int control_fd, bool journal, Manager **ret) {
        Manager *m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->control_fd = control_fd;
        m->resolver_fd = -1;
        m->journal = journal;
        m->wbuf = malloc(sizeof *m->wbuf);
        m->rbuf = malloc(EGRESS_MSG_MAX);
        m->msg = malloc(sizeof *m->msg);
        int r = m->wbuf && m->rbuf && m->msg ? sd_event_new(&m->event) : -ENOMEM;
        if (r >= 0)
                r = egress_resolver_new(&m->resolver, &m->resolver_fd);
        if (r < 0) {
                manager_free(m);
                return r;
        }
        *ret = m;
        return 0;
}

int manager_run(Manager *m) {
        int r = set_nonblock(m->control_fd);
        if (r == 0)
                r = sd_event_add_io(m->event, &m->control_src, m->control_fd, EPOLLIN, on_control, m);
        if (r == 0)
                r = sd_event_add_io(m->event, &m->resolver_src, m->resolver_fd, EPOLLIN, on_resolver, m);
        if (r == 0)
                r = sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
        if (r == 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);
        if (r < 0)
                return r;
        egress_msg ready = { .type = EGRESS_MSG_READY, .version = EGRESS_PROTO_VERSION };
        r = manager_send(m, &ready);
        if (r < 0)
                return r;
        log_line(m, LOG_INFO, "serving (protocol %d)", EGRESS_PROTO_VERSION);
        return sd_event_loop(m->event);
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        m->closing = true;
        while (m->execs)
                exec_free(m, m->execs);
        while (m->out_head) {
                OutMsg *o = m->out_head;
                m->out_head = o->next;
                free(o);
        }
        sd_event_source_disable_unref(m->control_src);
        sd_event_source_disable_unref(m->resolver_src);
        m->resolver = egress_resolver_free(m->resolver);
        sd_event_unref(m->event);
        free(m->own);
        free(m->wbuf);
        free(m->rbuf);
        free(m->msg);
        free(m);
        return NULL;
}
