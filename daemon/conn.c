/* conn.c — one client connection: non-blocking frame reads with a per-frame
 * deadline and an idle timeout, SO_PEERCRED identity, the request table with
 * who may call each request, and a bounded write queue. A protocol error
 * closes this connection only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base64.h"
#include "canon.h"
#include "contract.h"
#include "decide.h"
#include "limits.h"
#include "log.h"
#include "manager.h"
#include "keyring.h"
#include "audit.h"
#include "peer.h"
#include "timefmt.h"

#define CONN_OUT_PAUSE_BYTES (1u << 20)   /* stop reading command output above this backlog */

struct conn {
        manager *m;
        conn *prev, *next;
        int fd;
        sd_event_source *io;
        sd_event_source *timer;      /* frame deadline or idle timeout */
        cscd_peer *peer;
        unsigned roles;
        csc_frame_reader reader;
        csc_buf out;
        size_t out_off;
        bool close_after_flush;
        execution *exec;             /* the running submit, if any */
};

static void conn_update_events(conn *c);

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        conn *c = userdata;
        if (csc_frame_reader_in_progress(&c->reader)) {
                c->close_after_flush = true;
                csc_frame_reader_reset(&c->reader);
                int r = conn_send_error(c, "bad_frame", "frame not completed in time", NULL);
                if (r < 0 || (c->out_off == c->out.len && !c->exec)) {
                        conn_free(c);   /* sent (or unsendable): nothing more to say */
                        return 0;
                }
                conn_update_events(c);
        } else if (!c->exec)
                conn_free(c);
        return 0;
}

static void conn_arm_timer(conn *c) {
        unsigned ms = csc_frame_reader_in_progress(&c->reader) ? c->m->config->frame_timeout_ms
                                                                : c->m->config->idle_timeout_ms;
        if (c->exec && !csc_frame_reader_in_progress(&c->reader)) {
                sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
                return;
        }
        uint64_t now;
        sd_event_now(c->m->event, CLOCK_MONOTONIC, &now);
        sd_event_source_set_time(c->timer, now + (uint64_t) ms * 1000u);
        sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

bool conn_is_writable_backlogged(const conn *c) {
        return c->out.len - c->out_off > CONN_OUT_PAUSE_BYTES;
}

static void conn_update_events(conn *c) {
        uint32_t ev = EPOLLRDHUP;
        /* While a submit runs, only watch for hang-up; the next request is read after it. */
        if (!c->exec && !c->close_after_flush)
                ev |= EPOLLIN;
        if (c->out.len > c->out_off)
                ev |= EPOLLOUT;
        sd_event_source_set_io_events(c->io, ev);
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
                execution_set_paused(c->exec, conn_is_writable_backlogged(c));
        return 0;
}

int conn_send(conn *c, const csc_json *frame) {
        int r = csc_frame_encode(frame, &c->out);
        if (r < 0)
                return r;
        r = conn_flush(c);
        if (r < 0)
                return r; /* the io handler sees the hang-up and cleans up */
        conn_update_events(c);
        return 0;
}

int conn_send_error(conn *c, const char *code, const char *message, const char *path) {
        csc_json_doc *doc = csc_json_doc_new();
        if (!doc)
                return -ENOMEM;
        csc_json *o = csc_json_new_object(doc);
        int r = o ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "type", csc_json_new_string(doc, "error"));
        r = r ?: csc_json_object_set(doc, o, "code", csc_json_new_string(doc, code));
        r = r ?: csc_json_object_set(doc, o, "message", csc_json_new_string(doc, message));
        if (path)
                r = r ?: csc_json_object_set(doc, o, "path", csc_json_new_string(doc, path));
        if (r >= 0)
                r = conn_send(c, o);
        csc_json_doc_free(doc);
        c->m->counters.errors++;
        cscd_audit_refused(c->m->audit, c->peer->uid, c->peer->pid, code, message);
        return r;
}

void conn_execution_done(conn *c) {
        c->exec = NULL;
        conn_arm_timer(c);
        conn_update_events(c);
}

/* ---- requests ---------------------------------------------------------- */

static int reply_simple(conn *c, csc_json_doc *doc, csc_json *o) {
        int r = conn_send(c, o);
        csc_json_doc_free(doc);
        return r;
}

static int req_check(conn *c, const csc_json *req) {
        const csc_json *cj = csc_json_get(req, "contract");
        if (!cj)
                return conn_send_error(c, "invalid_contract", "missing required key \"contract\"", "contract");
        csc_contract *ct = NULL;
        csc_error err = { 0 };
        int r = csc_contract_from_json(cj, &ct, &err);
        if (r < 0)
                return conn_send_error(c, "invalid_contract", err.message, err.path);
        csc_decision d;
        csc_policy *p = c->m->policy->policy;
        csc_decide(ct, p, &d);
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL, *dj = NULL;
        r = o ? csc_decision_to_json(&d, ct, p, CSC_DECISION_VALID_SEC, doc, &dj) : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "type", csc_json_new_string(doc, "decision"));
        r = r ?: csc_json_object_set(doc, o, "decision", dj);
        csc_contract_free(ct);
        if (r < 0) {
                csc_json_doc_free(doc);
                return conn_send_error(c, "internal", "cannot build decision", NULL);
        }
        return reply_simple(c, doc, o);
}

static int req_status(conn *c, const csc_json *req) {
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = NULL;
        int r = doc ? manager_status_json(c->m, doc, &o) : -ENOMEM;
        if (r < 0) {
                csc_json_doc_free(doc);
                return conn_send_error(c, "internal", "cannot build status", NULL);
        }
        return reply_simple(c, doc, o);
}

static int req_reload(conn *c, const csc_json *req) {
        char err[2048] = "";
        int r = manager_reload(c->m, err, sizeof err);
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL;
        if (!o) {
                csc_json_doc_free(doc);
                return -ENOMEM;
        }
        int q = csc_json_object_set(doc, o, "type", csc_json_new_string(doc, "reload"));
        q = q ?: csc_json_object_set(doc, o, "ok", csc_json_new_bool(doc, r >= 0));
        if (r >= 0)
                q = q ?: csc_json_object_set(doc, o, "policy_sha256", csc_json_new_string(doc, c->m->policy->policy->sha256));
        else
                q = q ?: csc_json_object_set(doc, o, "error", csc_json_new_string(doc, err));
        return q < 0 ? (csc_json_doc_free(doc), q) : reply_simple(c, doc, o);
}

static int req_pubkeys(conn *c, const csc_json *req) {
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL, *keys = NULL;
        int r = o ? cscd_keyring_json(c->m->keyring, doc, &keys) : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "type", csc_json_new_string(doc, "pubkeys"));
        r = r ?: csc_json_object_set(doc, o, "keys", keys);
        if (r < 0) {
                csc_json_doc_free(doc);
                return conn_send_error(c, "internal", "cannot build pubkeys reply", NULL);
        }
        return reply_simple(c, doc, o);
}

static int req_submit(conn *c, const csc_json *req) {
        return execution_start(c->m, c, req);
}

/* The request table: handler and the role a peer needs. */
static const struct {
        const char *type;
        int (*handler)(conn *c, const csc_json *req);
        unsigned role;       /* 0 = any authenticated peer */
} requests[] = {
        { "submit",  req_submit,  CSCD_ROLE_SUBMIT },
        { "check",   req_check,   CSCD_ROLE_SUBMIT | CSCD_ROLE_ADMIN },
        { "status",  req_status,  0 },
        { "reload",  req_reload,  CSCD_ROLE_ADMIN },
        { "pubkeys", req_pubkeys, 0 },
};

static int conn_dispatch(conn *c, char *payload, size_t len) {
        csc_json_doc *doc = NULL;
        const char *code = NULL;
        csc_error err = { 0 };
        int r = csc_frame_parse(payload, len, &doc, &code, &err);
        free(payload);
        if (r < 0) {
                c->close_after_flush = true;
                char buf[CSC_ERROR_PATH_MAX + CSC_ERROR_MSG_MAX + 4];
                return conn_send_error(c, code, csc_error_str(&err, buf, sizeof buf), NULL);
        }
        c->m->counters.requests++;
        const char *type = csc_json_get_str(csc_json_doc_root(doc), "type");
        for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
                if (strcmp(type, requests[i].type) != 0)
                        continue;
                if (requests[i].role && !(c->roles & requests[i].role)) {
                        csc_json_doc_free(doc);
                        return conn_send_error(c, "unauthorized",
                                               c->peer->uid == 0 && requests[i].role == CSCD_ROLE_SUBMIT
                                                       ? "root may not submit contracts (allow_root_submit is false)"
                                                       : "this user is not permitted to make this request",
                                               NULL);
                }
                r = requests[i].handler(c, csc_json_doc_root(doc));
                csc_json_doc_free(doc);
                return r;
        }
        c->close_after_flush = true;
        char msg[160];
        snprintf(msg, sizeof msg, "unknown request type \"%.100s\"", type);
        csc_json_doc_free(doc);   /* type points into it */
        return conn_send_error(c, "bad_frame", msg, "type");
}

static int conn_read(conn *c) {
        char buf[65536];
        ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (n == 0)
                return -ECONNRESET;
        size_t off = 0;
        while (off < (size_t) n && !c->close_after_flush) {
                size_t used;
                int r = csc_frame_reader_feed(&c->reader, buf + off, (size_t) n - off, &used);
                off += used;
                if (r == -EBADMSG || r == -EMSGSIZE) {
                        c->close_after_flush = true;
                        csc_frame_reader_reset(&c->reader);
                        return conn_send_error(c, r == -EBADMSG ? "bad_frame" : "too_large",
                                               r == -EBADMSG ? "frame length 0" : "frame larger than 2 MiB", NULL);
                }
                if (r < 0)
                        return r;
                if (r == 1) {
                        char *payload;
                        size_t len;
                        csc_frame_reader_take(&c->reader, &payload, &len);
                        r = conn_dispatch(c, payload, len);
                        if (r < 0)
                                return r;
                        if (c->exec) {
                                /* Bytes after a submit frame wait until it finishes: keep them simple
                                 * by refusing pipelined requests during a submit. */
                                if (off < (size_t) n) {
                                        execution *e = c->exec;
                                        c->exec = NULL;   /* the execution forgets us too (e->c = NULL) */
                                        execution_cancel(e, "client sent a request during a running submit");
                                        c->close_after_flush = true;
                                        conn_send_error(c, "bad_frame", "a request arrived while a submit was running; "
                                                        "the submit was cancelled", NULL);
                                }
                                break;
                        }
                }
        }
        conn_arm_timer(c);
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        conn *c = userdata;
        int r = 0;
        if (revents & EPOLLIN)
                r = conn_read(c);
        if (r >= 0 && (revents & EPOLLOUT))
                r = conn_flush(c);
        if (r >= 0 && (revents & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) && !(revents & EPOLLIN))
                r = -ECONNRESET;
        if (r >= 0 && c->close_after_flush && c->out_off == c->out.len && !c->exec)
                r = -ECONNRESET;
        if (r < 0) {
                conn_free(c);
                return 0;
        }
        conn_update_events(c);
        return 0;
}

int conn_new(manager *m, int fd, conn **ret) {
        conn *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->m = m;
        c->fd = fd;
        csc_frame_reader_init(&c->reader, CSC_FRAME_MAX_BYTES);
        int r = cscd_peer_from_fd(fd, &c->peer);
        if (r < 0) {
                free(c);
                return r;
        }
        c->roles = cscd_peer_roles(c->peer, m->config);
        r = sd_event_add_io(m->event, &c->io, fd, EPOLLIN | EPOLLRDHUP, on_io, c);
        if (r >= 0)
                r = sd_event_add_time(m->event, &c->timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_timer, c);
        if (r < 0) {
                sd_event_source_disable_unref(c->io);
                cscd_peer_free(c->peer);
                free(c);
                return r;
        }
        c->next = m->conns;
        if (m->conns)
                m->conns->prev = c;
        m->conns = c;
        m->n_conns++;
        conn_arm_timer(c);
        *ret = c;
        return 0;
}

conn *conn_free(conn *c) {
        if (!c)
                return NULL;
        if (c->exec) {
                execution *e = c->exec;
                c->exec = NULL;
                execution_cancel(e, "client disconnected");
        }
        manager *m = c->m;
        if (c->prev)
                c->prev->next = c->next;
        else
                m->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        m->n_conns--;
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        close(c->fd);
        csc_frame_reader_reset(&c->reader);
        csc_buf_free(&c->out);
        cscd_peer_free(c->peer);
        free(c);
        return NULL;
}

/* Accessors for submit.c, which does not see the struct. */
const cscd_peer *conn_peer(const conn *c);
void conn_set_execution(conn *c, execution *e);

const cscd_peer *conn_peer(const conn *c) {
        return c->peer;
}

void conn_set_execution(conn *c, execution *e) {
        c->exec = e;
        conn_arm_timer(c);
        conn_update_events(c);
}
