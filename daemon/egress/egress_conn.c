/* egress_conn.c — one proxied connection of cscd-egress, from the first
 * request byte to the last relayed one:
 *
 *   REQUEST (HTTP head, or SOCKS greeting -> SOCKS_REQUEST)
 *     -> allowlist, limits -> RESOLVING (resolver pool) -> address rules
 *     -> CONNECTING (the checked address, no second lookup) -> RELAY
 *   any refusal -> CLOSING (flush the 403 / SOCKS reply, drain, close)
 *
 * In RELAY the client's first bytes of a CONNECT or SOCKS tunnel are held
 * until the TLS ClientHello's SNI has been read and compared with the
 * requested host (domain fronting); server-first protocols are not held up
 * because the downstream direction flows meanwhile.
 *
 * Functions that may end (free) the connection return false when they did;
 * callers then touch nothing of it. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "egress.h"


static const char http_200[] = "HTTP/1.1 200 Connection established\r\n\r\n";

static bool update_events(Conn *c);
static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);
static int on_upstream(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static uint64_t now_usec(Conn *c) {
        uint64_t t = 0;
        sd_event_now(c->exec->manager->event, CLOCK_MONOTONIC, &t);
        return t;
}

static void arm_timer(Conn *c, uint64_t ms) {
        uint64_t when = now_usec(c) + ms * 1000;
        if (!c->timer) {
                if (sd_event_add_time(c->exec->manager->event, &c->timer, CLOCK_MONOTONIC, when, 50 * 1000,
                                      on_timer, c) < 0)
                        c->timer = NULL; /* the request then has no deadline; the execution's end still closes it */
                return;
        }
        sd_event_source_set_time(c->timer, when);
        sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

static void set_reason(Conn *c, egress_verdict v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_reason(Conn *c, egress_verdict v, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->reason, sizeof c->reason, fmt, ap);
        va_end(ap);
        c->verdict = v;
}

static void pending_done(Conn *c) {
        if (c->state == CONN_REQUEST || c->state == CONN_SOCKS_REQUEST)
                c->exec->n_pending--;
}

void conn_end(Conn *c, egress_verdict verdict, const char *reason) {
        Exec *e = c->exec;
        Manager *m = e->manager;
        if (reason) {
                c->verdict = verdict;
                snprintf(c->reason, sizeof c->reason, "%s", reason);
        }
        if (c->state != CONN_CLOSING)
                pending_done(c);
        if (c->lookup)
                c->lookup->userdata = NULL; /* freed by the manager when it comes back */
        manager_log_conn(m, c);
        egress_msg msg = { .type = EGRESS_MSG_REPORT };
        egress_msg_report *p = &msg.report;
        snprintf(p->exec_id, sizeof p->exec_id, "%s", e->id);
        p->serial = c->serial;
        p->verdict = (uint8_t) c->verdict;
        p->proto = (uint8_t) (c->req ? c->req->proto : EGRESS_PROTO_NONE);
        p->port = c->req ? c->req->port : 0;
        snprintf(p->host, sizeof p->host, "%s", c->req && c->req->host.kind ? c->req->host.name : "");
        snprintf(p->address, sizeof p->address, "%s", c->addr_text);
        snprintf(p->reason, sizeof p->reason, "%s", c->reason);
        p->bytes_up = c->bytes_up;
        p->bytes_down = c->bytes_down;
        manager_send(m, &msg);
        if (c->verdict == EGRESS_VERDICT_ALLOWED)
                e->allowed++;
        else
                e->denied++;
        if (c->counted)
                e->n_active--;
        if (c->next)
                c->next->prev = c->prev;
        if (c->prev)
                c->prev->next = c->next;
        else
                e->conns = c->next;
        sd_event_source_disable_unref(c->csrc);
        sd_event_source_disable_unref(c->usrc);
        sd_event_source_disable_unref(c->timer);
        if (c->cfd >= 0)
                close(c->cfd);
        if (c->ufd >= 0)
                close(c->ufd);
        pipe_free(&c->up);
        pipe_free(&c->down);
        free(c->in);
        free(c->req);
        free(c);
}

/* Counts n bytes for the connection and its execution: up when read from
 * the client (or put in front of its bytes: a rewritten HTTP head), down
 * when read from upstream. */
static void account(Conn *c, size_t n, bool up) {
        Exec *e = c->exec;
        *(up ? &c->bytes_up : &c->bytes_down) += n;
        *(up ? &e->bytes_up : &e->bytes_down) += n;
}

/* Bytes the execution may still move (SIZE_MAX without a cap). */
static size_t cap_left(const Conn *c) {
        const Exec *e = c->exec;
        if (!e->byte_cap)
                return SIZE_MAX;
        uint64_t used = e->bytes_up + e->bytes_down;
        return used >= e->byte_cap ? 0 : (size_t) (e->byte_cap - used);
}

/* The reply (if any) is in the down pipe: send it, then close. */
static bool start_closing(Conn *c) {
        if (c->lookup) {
                c->lookup->userdata = NULL;
                c->lookup = NULL;
        }
        if (c->ufd >= 0) {
                sd_event_source_disable_unref(c->usrc);
                c->usrc = NULL;
                close(c->ufd);
                c->ufd = -1;
        }
        c->state = CONN_CLOSING;
        c->down.eof = true; /* shut the write side once the reply is out */
        arm_timer(c, EGRESS_CLOSING_LINGER_MS);
        return update_events(c);
}

static const char *status_text(int status) {
        switch (status) {
        case 403:
                return "Forbidden";
        case 408:
                return "Request Timeout";
        case 431:
                return "Request Header Fields Too Large";
        case 501:
                return "Not Implemented";
        case 502:
                return "Bad Gateway";
        case 504:
                return "Gateway Timeout";
        default:
                return "Bad Request";
        }
}

static int http_status(int err) {
        return err == -EOPNOTSUPP ? 501 : err == -EMSGSIZE ? 431 : 400;
}

/* Ends the request stage with a refusal the client can read: an HTTP status
 * with a short text body, or a SOCKS5 reply code. */
static bool refuse(Conn *c, egress_verdict v, int http, uint8_t socks, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
static bool refuse(Conn *c, egress_verdict v, int http, uint8_t socks, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->reason, sizeof c->reason, fmt, ap);
        va_end(ap);
        c->verdict = v;
        pending_done(c);
        bool socks5 = c->state == CONN_SOCKS_REQUEST || (c->req && c->req->proto == EGRESS_PROTO_SOCKS5);
        if (socks5) {
                uint8_t reply[10] = { 5, socks, 0, 1 };
                pipe_put(&c->down, reply, sizeof reply);
        } else if (http) {
                char body[EGRESS_REASON_MAX + EGRESS_HOST_MAX + 64], head[160];
                const char *host = c->req && c->req->host.kind ? c->req->host.name : "request";
                int bn = snprintf(body, sizeof body, "cscd-egress: %s refused: %s\n", host, c->reason);
                if (bn < 0 || (size_t) bn >= sizeof body)
                        bn = (int) sizeof body - 1;
                int hn = snprintf(head, sizeof head,
                                  "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                                  "Connection: close\r\n\r\n",
                                  http, status_text(http), bn);
                pipe_put(&c->down, head, (size_t) hn);
                pipe_put(&c->down, body, (size_t) bn);
        }
        return start_closing(c);
}

static void addr_text(const struct sockaddr_storage *ss, char *out, size_t n) {
        char a[INET6_ADDRSTRLEN] = "?";
        if (ss->ss_family == AF_INET) {
                const struct sockaddr_in *s4 = (const void *) ss;
                inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
                snprintf(out, n, "%s:%u", a, ntohs(s4->sin_port));
        } else {
                const struct sockaddr_in6 *s6 = (const void *) ss;
                inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
                snprintf(out, n, "[%s]:%u", a, ntohs(s6->sin6_port));
        }
}

static void set_port(struct sockaddr_storage *ss, uint16_t port) {
        if (ss->ss_family == AF_INET)
                ((struct sockaddr_in *) (void *) ss)->sin_port = htons(port);
        else
                ((struct sockaddr_in6 *) (void *) ss)->sin6_port = htons(port);
}

static bool check_sni(Conn *c);

static bool start_relay(Conn *c) {
        const egress_request *req = c->req;
        if (pipe_reserve(&c->down, EGRESS_RELAY_BUF) < 0 || pipe_reserve(&c->up, EGRESS_RELAY_BUF) < 0) {
                conn_end(c, EGRESS_VERDICT_FAILED, "out of memory");
                return false;
        }
        if (req->proto == EGRESS_PROTO_HTTP)
                pipe_put(&c->up, req->head, req->head_len);
        pipe_put(&c->up, c->in, c->in_len); /* sent along with the request */
        account(c, c->up.len, true);
        c->in_len = 0;
        if (req->proto == EGRESS_PROTO_CONNECT)
                pipe_put(&c->down, http_200, sizeof http_200 - 1);
        else if (req->proto == EGRESS_PROTO_SOCKS5) {
                static const uint8_t ok[10] = { 5, 0, 0, 1 };
                pipe_put(&c->down, ok, sizeof ok);
        }
        c->sni_pending = req->proto != EGRESS_PROTO_HTTP;
        set_reason(c, EGRESS_VERDICT_ALLOWED, "closed");
        c->state = CONN_RELAY;
        arm_timer(c, c->exec->idle_timeout_ms);
        if (c->sni_pending && c->up.len > 0 && !check_sni(c)) /* the ClientHello came with the request */
                return false;
        return update_events(c);
}

static bool connect_done(Conn *c) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        if (err == 0)
                return start_relay(c);
        return refuse(c, EGRESS_VERDICT_FAILED, 502, err == ECONNREFUSED ? 5 : err == EHOSTUNREACH || err == ENETUNREACH ? 4 : 1,
                      "connect to %s: %s", c->addr_text, strerror(err));
}

static bool start_connect(Conn *c) {
        Manager *m = c->exec->manager;
        addr_text(&c->addr, c->addr_text, sizeof c->addr_text);
        c->addr_len = c->addr.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
        c->ufd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->ufd < 0)
                return refuse(c, EGRESS_VERDICT_FAILED, 502, 1, "socket: %s", strerror(errno));
        if (connect(c->ufd, (struct sockaddr *) &c->addr, c->addr_len) < 0 && errno != EINPROGRESS) {
                int err = errno;
                return refuse(c, EGRESS_VERDICT_FAILED, 502, err == ECONNREFUSED ? 5 : 4,
                              "connect to %s: %s", c->addr_text, strerror(err));
        }
        if (sd_event_add_io(m->event, &c->usrc, c->ufd, EPOLLOUT, on_upstream, c) < 0)
                return refuse(c, EGRESS_VERDICT_FAILED, 502, 1, "cannot watch the upstream socket");
        c->state = CONN_CONNECTING;
        return update_events(c);
}

/* Dials the first address that the address rules allow. */
static bool choose_address(Conn *c, const struct sockaddr_storage *addrs, size_t n) {
        Manager *m = c->exec->manager;
        const char *why = "no address";
        char first[EGRESS_ADDR_TEXT_MAX + 1] = "";
        for (size_t i = 0; i < n; i++) {
                struct sockaddr_storage ss = addrs[i];
                set_port(&ss, c->req->port);
                const char *refusal = manager_address_refusal(m, &ss);
                if (!refusal) {
                        c->addr = ss;
                        return start_connect(c);
                }
                if (i == 0) {
                        why = refusal;
                        addr_text(&ss, first, sizeof first);
                }
        }
        snprintf(c->addr_text, sizeof c->addr_text, "%s", first);
        return refuse(c, EGRESS_VERDICT_DENIED, 403, 2, "%s is %s", first[0] ? first : c->req->host.name, why);
}

void conn_resolved(Conn *c, egress_lookup *l) {
        c->lookup = NULL;
        if (l->gai_error) {
                refuse(c, EGRESS_VERDICT_FAILED, 502, 4, "cannot resolve: %s", gai_strerror(l->gai_error));
                free(l);
                return;
        }
        struct sockaddr_storage addrs[EGRESS_ADDRS_MAX];
        size_t n = l->n;
        memcpy(addrs, l->addrs, n * sizeof addrs[0]);
        free(l);
        choose_address(c, addrs, n);
}

static bool handle_request(Conn *c) {
        Exec *e = c->exec;
        egress_request *req = c->req;
        if (!egress_allowlist_match(e->allow, &req->host, req->port))
                return refuse(c, EGRESS_VERDICT_DENIED, 403, 2, "%s port %u is not in allowed_egress_hosts",
                              req->host.name, req->port);
        if (cap_left(c) == 0)
                return refuse(c, EGRESS_VERDICT_DENIED, 403, 2, "the execution's byte cap is used up");
        if (e->n_active >= e->max_conns)
                return refuse(c, EGRESS_VERDICT_DENIED, 403, 2, "too many connections (at most %u)", e->max_conns);
        pending_done(c);
        c->counted = true;
        e->n_active++;
        c->state = CONN_RESOLVING;
        arm_timer(c, EGRESS_CONNECT_TIMEOUT_MS);
        if (req->host.kind != EGRESS_HOST_NAME) {
                struct sockaddr_storage ss;
                memset(&ss, 0, sizeof ss);
                if (req->host.kind == EGRESS_HOST_IPV4) {
                        ss.ss_family = AF_INET;
                        memcpy(&((struct sockaddr_in *) (void *) &ss)->sin_addr, req->host.addr, 4);
                } else {
                        ss.ss_family = AF_INET6;
                        memcpy(&((struct sockaddr_in6 *) (void *) &ss)->sin6_addr, req->host.addr, 16);
                }
                return choose_address(c, &ss, 1);
        }
        egress_lookup *l = calloc(1, sizeof *l);
        if (!l)
                return refuse(c, EGRESS_VERDICT_FAILED, 502, 1, "out of memory");
        snprintf(l->host, sizeof l->host, "%s", req->host.name);
        l->userdata = c;
        if (egress_resolver_submit(e->manager->resolver, l) < 0) {
                free(l);
                return refuse(c, EGRESS_VERDICT_FAILED, 502, 1, "resolver busy");
        }
        c->lookup = l;
        return update_events(c);
}

static void drop_in(Conn *c, size_t n) {
        memmove(c->in, c->in + n, c->in_len - n);
        c->in_len -= n;
}

/* Parses what arrived so far; false when the connection ended. */
static bool parse_request(Conn *c) {
        const char *why = "malformed request";
        int r;
        if (c->state == CONN_REQUEST && c->in_len > 0 && c->in[0] == 5) {
                size_t used = 0;
                bool noauth = false;
                r = egress_socks_greeting_parse(c->in, c->in_len, &used, &noauth, &why);
                if (r == EGRESS_PARSE_MORE)
                        return true;
                if (r < 0) {
                        conn_end(c, EGRESS_VERDICT_DENIED, why);
                        return false;
                }
                pipe_put(&c->down, noauth ? "\5\0" : "\5\xff", 2);
                if (!noauth) {
                        pending_done(c);
                        set_reason(c, EGRESS_VERDICT_DENIED, "SOCKS5 without the no-authentication method");
                        return start_closing(c);
                }
                c->req->proto = EGRESS_PROTO_SOCKS5;
                drop_in(c, used);
                c->state = CONN_SOCKS_REQUEST;
        }
        if (c->state == CONN_SOCKS_REQUEST) {
                r = egress_socks_request_parse(c->in, c->in_len, c->req, &why);
                if (r == EGRESS_PARSE_MORE)
                        return update_events(c);
                if (r < 0)
                        return refuse(c, EGRESS_VERDICT_DENIED, 0,
                                      r == -EOPNOTSUPP ? 7 : r == -EAFNOSUPPORT ? 8 : 1, "%s", why);
        } else {
                r = egress_http_parse(c->in, c->in_len, c->req, &why);
                if (r == EGRESS_PARSE_MORE)
                        return true;
                if (r < 0) {
                        c->req->host.kind = 0;
                        return refuse(c, EGRESS_VERDICT_DENIED, http_status(r), 0, "%s", why);
                }
        }
        drop_in(c, c->req->consumed);
        return handle_request(c);
}

static bool read_request(Conn *c) {
        ssize_t n = read(c->cfd, c->in + c->in_len, EGRESS_REQUEST_MAX - c->in_len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return true;
        if (n <= 0) {
                conn_end(c, EGRESS_VERDICT_DENIED, n == 0 ? "client closed before a complete request"
                                                           : "client error before a complete request");
                return false;
        }
        c->in_len += (size_t) n;
        return parse_request(c);
}

/* While the client's first tunnel bytes are held: read the ClientHello's SNI
 * and refuse a name other than the one requested (domain fronting). */
static bool check_sni(Conn *c) {
        egress_host sni;
        const char *why = "malformed ClientHello";
        if (c->up.off == c->up.len) {
                c->sni_pending = !c->up.eof; /* closed without a byte: nothing to check */
                return true;
        }
        int r = egress_tls_sni(c->up.data + c->up.off, c->up.len - c->up.off, &sni, &why);
        if (r == EGRESS_PARSE_MORE) {
                if (!c->up.eof && pipe_has_room(&c->up))
                        return true;
                conn_end(c, EGRESS_VERDICT_DENIED, "incomplete TLS ClientHello");
                return false;
        }
        if (r < 0) {
                conn_end(c, EGRESS_VERDICT_DENIED, why);
                return false;
        }
        if (r == EGRESS_TLS_SNI && !egress_host_equal(&sni, &c->req->host)) {
                set_reason(c, EGRESS_VERDICT_DENIED, "TLS SNI %s differs from the requested host %s", sni.name,
                           c->req->host.name);
                conn_end(c, EGRESS_VERDICT_DENIED, NULL);
                return false;
        }
        c->sni_pending = false;
        return true;
}

static bool relay_fail(Conn *c, int r, const char *where) {
        char why[EGRESS_REASON_MAX];
        snprintf(why, sizeof why, "%s: %s", where, strerror(-r));
        conn_end(c, EGRESS_VERDICT_ALLOWED, why);
        return false;
}

/* One pass over both directions, guided by which side is ready; *progress
 * tells whether any byte moved. False when the connection ended. */
static bool relay_pass(Conn *c, uint32_t crev, uint32_t urev, bool *progress) {
        size_t n;
        int r;
        *progress = false;
        if (!c->sni_pending) /* nothing more to look at: bulk data goes through the kernel */
                pipe_try_splice(&c->up);
        pipe_try_splice(&c->down);
        if (crev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                if ((r = pipe_fill(&c->up, c->cfd, cap_left(c), &n)) < 0)
                        return relay_fail(c, r, "client");
                account(c, n, true); /* counted as read, so the cap holds however much is buffered */
                *progress |= n > 0;
                if (c->sni_pending && !check_sni(c))
                        return false;
                urev |= EPOLLOUT; /* try to pass it on right away */
        }
        if ((urev & (EPOLLOUT | EPOLLERR)) && !c->sni_pending) {
                if ((r = pipe_flush(&c->up, c->ufd, &n)) < 0)
                        return relay_fail(c, r, "upstream");
                *progress |= n > 0;
        }
        if (urev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                if ((r = pipe_fill(&c->down, c->ufd, cap_left(c), &n)) < 0)
                        return relay_fail(c, r, "upstream");
                account(c, n, false);
                *progress |= n > 0;
                crev |= EPOLLOUT;
        }
        if (crev & (EPOLLOUT | EPOLLERR)) {
                if ((r = pipe_flush(&c->down, c->cfd, &n)) < 0)
                        return relay_fail(c, r, "client");
                *progress |= n > 0;
        }
        return true;
}

/* Relays until nothing moves (at most EGRESS_RELAY_PASSES passes, so one
 * busy connection cannot starve the others), then waits for readiness again.
 * Looping saves an epoll round trip per buffer on a bulk transfer. */
static bool relay(Conn *c, uint32_t crev, uint32_t urev) {
        bool progress = false, any = false;
        for (int pass = 0; pass < EGRESS_RELAY_PASSES; pass++) {
                if (!relay_pass(c, crev, urev, &progress))
                        return false;
                any |= progress;
                if (!progress || c->up.eof || c->down.eof)
                        break;
                crev = urev = EPOLLIN | EPOLLOUT;
        }
        if (c->up.shut && c->down.shut) {
                conn_end(c, EGRESS_VERDICT_ALLOWED, "closed");
                return false;
        }
        if (c->exec->byte_cap && cap_left(c) == 0) {
                conn_end(c, EGRESS_VERDICT_ALLOWED, "the execution's byte cap is used up");
                return false;
        }
        if (any)
                arm_timer(c, c->exec->idle_timeout_ms);
        return update_events(c);
}

/* After a refusal: send the reply, shut the write side, read and drop what
 * the client still sends (closing with unread data would reset the
 * connection and could destroy the reply before the client reads it). */
static bool closing(Conn *c, uint32_t crev) {
        size_t n;
        if ((crev & (EPOLLOUT | EPOLLERR)) && pipe_flush(&c->down, c->cfd, &n) < 0) {
                conn_end(c, 0, NULL);
                return false;
        }
        if (crev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                uint8_t sink[4096];
                ssize_t k = read(c->cfd, sink, sizeof sink);
                if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
                        conn_end(c, 0, NULL);
                        return false;
                }
        }
        return update_events(c);
}

static int set_events(sd_event_source *s, uint32_t ev) {
        if (!s)
                return 0;
        if (!ev)
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        int r = sd_event_source_set_io_events(s, ev);
        return r < 0 ? r : sd_event_source_set_enabled(s, SD_EVENT_ON);
}

static bool update_events(Conn *c) {
        uint32_t cev = 0, uev = 0;
        bool down_data = pipe_pending_shutdown(&c->down);
        if (down_data)
                cev |= EPOLLOUT;
        switch (c->state) {
        case CONN_REQUEST:
        case CONN_SOCKS_REQUEST:
        case CONN_CLOSING:
                cev |= EPOLLIN;
                break;
        case CONN_RESOLVING:
                break;
        case CONN_CONNECTING:
                uev = EPOLLOUT;
                break;
        case CONN_RELAY:
                if (!c->up.eof && pipe_has_room(&c->up))
                        cev |= EPOLLIN;
                if (!c->down.eof && pipe_has_room(&c->down))
                        uev |= EPOLLIN;
                if (!c->sni_pending && pipe_pending_shutdown(&c->up))
                        uev |= EPOLLOUT;
                break;
        }
        if (set_events(c->csrc, cev) < 0 || set_events(c->usrc, uev) < 0) {
                conn_end(c, EGRESS_VERDICT_FAILED, "cannot watch the connection");
                return false;
        }
        return true;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Conn *c = userdata;
        switch (c->state) {
        case CONN_REQUEST:
        case CONN_SOCKS_REQUEST:
                refuse(c, EGRESS_VERDICT_DENIED, 408, 1, "no complete request within %u ms",
                       EGRESS_REQUEST_TIMEOUT_MS);
                break;
        case CONN_RESOLVING:
        case CONN_CONNECTING:
                refuse(c, EGRESS_VERDICT_FAILED, 504, 4, "no connection within %u ms", EGRESS_CONNECT_TIMEOUT_MS);
                break;
        case CONN_RELAY:
                conn_end(c, EGRESS_VERDICT_ALLOWED, "idle timeout");
                break;
        case CONN_CLOSING:
                conn_end(c, 0, NULL);
                break;
        }
        return 0;
}

static int on_upstream(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Conn *c = userdata;
        if (c->state == CONN_CONNECTING)
                connect_done(c);
        else if (c->state == CONN_RELAY)
                relay(c, 0, revents);
        return 0;
}

static int on_client(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Conn *c = userdata;
        size_t n;
        switch (c->state) {
        case CONN_REQUEST:
        case CONN_SOCKS_REQUEST:
                if ((revents & EPOLLOUT) && pipe_flush(&c->down, c->cfd, &n) < 0) {
                        conn_end(c, EGRESS_VERDICT_DENIED, "client error before a complete request");
                        break;
                }
                if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
                        read_request(c);
                else
                        update_events(c);
                break;
        case CONN_RESOLVING:
        case CONN_CONNECTING:
                if ((revents & EPOLLOUT) && pipe_flush(&c->down, c->cfd, &n) < 0)
                        conn_end(c, EGRESS_VERDICT_FAILED, "client error");
                else
                        update_events(c);
                break;
        case CONN_RELAY:
                relay(c, revents, 0);
                break;
        case CONN_CLOSING:
                closing(c, revents);
                break;
        }
        return 0;
}

int conn_new(Exec *e, int fd) {
        Conn *c = calloc(1, sizeof *c);
        if (!c) {
                close(fd);
                return -ENOMEM;
        }
        c->exec = e;
        c->cfd = fd;
        c->ufd = -1;
        c->serial = ++e->manager->next_serial;
        c->state = CONN_REQUEST;
        c->next = e->conns;
        if (e->conns)
                e->conns->prev = c;
        e->conns = c;
        e->n_pending++;
        pipe_init(&c->up);
        pipe_init(&c->down);
        c->in = malloc(EGRESS_REQUEST_MAX);
        c->req = calloc(1, sizeof *c->req);
        if (!c->in || !c->req || pipe_reserve(&c->down, EGRESS_REPLY_MAX) < 0) {
                conn_end(c, EGRESS_VERDICT_FAILED, "out of memory");
                return -ENOMEM;
        }
        if (e->n_pending > EGRESS_PENDING_MAX) {
                conn_end(c, EGRESS_VERDICT_DENIED, "too many connections still sending their request");
                return 0;
        }
        int r = sd_event_add_io(e->manager->event, &c->csrc, fd, EPOLLIN, on_client, c);
        if (r < 0) {
                conn_end(c, EGRESS_VERDICT_FAILED, "cannot watch the connection");
                return r;
        }
        arm_timer(c, EGRESS_REQUEST_TIMEOUT_MS);
        return 0;
}
