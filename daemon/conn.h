/* conn.h — one client connection as the monitor sees it: the transport.
 * It reads the session's monitor-protocol messages (mon_proto.h), runs the
 * frame deadline and idle timeout, queues reply frames with back-pressure,
 * and keeps the per-uid share of connection slots. What a request means is
 * not its business: whole requests go to conn_hooks.request (dispatch.c), and
 * a submit running or waiting on the connection is reached through the
 * hooks too, so conn.c calls no module above it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "json.h"
#include "mon_proto.h"
#include "peer.h"

typedef struct conn conn;
/* What may hold a connection: a running execution or a queued submit.
 * Opaque here; only the hooks look inside. */
typedef struct execution execution;
typedef struct queued_submit queued_submit;

/* The owner's side of its connections. userdata is conn_set.userdata. */
typedef struct conn_hooks {
        /* One whole request from the session; takes doc. < 0 closes c. */
        int (*request)(void *userdata, conn *c, mon_request type, csc_json_doc *doc);
        /* An error frame went (or was meant to go) to the peer: count and audit it. */
        void (*refused)(void *userdata, const cscd_peer *peer, const char *code, const char *message);
        /* A connection was refused with `busy`. */
        void (*busy)(void *userdata);
        /* The connection's execution: output back-pressure; whether it has
         * ended and only its receipt waits to go out; cancel (the client left
         * or broke the protocol; the execution forgets c). */
        void (*exec_set_paused)(execution *e, bool paused);
        bool (*exec_receipt_pending)(const execution *e);
        void (*exec_cancel)(execution *e, const char *why);
        /* The connection's queued submit is dropped (it calls conn_set_queued(c, NULL)). */
        void (*queued_drop)(queued_submit *q, const char *why);
} conn_hooks;

/* Every connection of one owner, and what they need of it. */
typedef struct conn_set {
        sd_event *event;
        cscd_config **config;        /* the owner's live config: a reload swaps it */
        int session_program_fd;      /* cscd-session (O_PATH), borrowed */
        const conn_hooks *hooks;
        void *userdata;
        conn *head;                  /* doubly linked */
        unsigned n;
        unsigned n_no_role;          /* of n, peers with no role (max_connections_no_role) */
} conn_set;

enum { CONN_REFUSED = 1 };   /* conn_new: over the peer's share; a `busy` frame was sent */
/* Sets up a connection on the client's socket fd: reads its credentials,
 * starts its session and links it into s; fd is closed on success. Or
 * refuses it (CONN_REFUSED; the caller closes fd). < 0: failed. */
int conn_new(conn_set *s, int fd, conn **ret);
/* A connection over fd, already the session's end of the monitor protocol,
 * for peer, with no session process to watch (no share check): what
 * conn_new sets up once the session runs. Takes peer and fd on success.
 * The connection layer's tests drive it over socketpair(). */
int conn_new_on_fd(conn_set *s, cscd_peer *peer, int fd, conn **ret);
/* Sends one `busy` error frame on fd (best effort) and counts it (hooks.busy).
 * Does not close fd. */
void conn_refuse_busy(conn_set *s, int fd, const char *message);
/* Unlinks and frees c; a submit it holds is cancelled or dropped first. */
conn *conn_free(conn *c);

/* Queues one reply frame; on failure the connection ends. */
int conn_send(conn *c, const csc_json *frame);
/* Sends {type: "error", code, message[, path]} and reports it (hooks.refused). */
int conn_send_error(conn *c, const char *code, const char *message, const char *path);
bool conn_is_writable_backlogged(const conn *c);

const cscd_peer *conn_peer(const conn *c);
/* The length of the request frame being dispatched. */
size_t conn_request_bytes(const conn *c);
/* The client closed the connection or its write side (a submit whose client
 * is gone is not started). */
bool conn_hung_up(const conn *c);

/* A submit of the connection runs (e) or waits (q): while either is set the
 * connection reads nothing (a request sent meanwhile cancels or drops it)
 * and has no idle timeout. NULL when it ends or leaves the queue. */
void conn_set_execution(conn *c, execution *e);
void conn_set_queued(conn *c, queued_submit *q);
