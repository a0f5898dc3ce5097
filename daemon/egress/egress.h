/* egress.h — cscd-egress's runtime objects. One Manager owns the sd-event
 * loop, the control socket to cscd, the resolver pool and the registered
 * executions; each execution owns its connections. Single-threaded except for
 * the resolver pool (egress_resolve.h). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "egress_match.h"
#include "egress_parse.h"
#include "egress_pipe.h"
#include "egress_proto.h"
#include "egress_resolve.h"

typedef struct Manager Manager;
typedef struct Exec Exec;
typedef struct Conn Conn;

typedef struct OutMsg {
        struct OutMsg *next;
        size_t len;
        uint8_t data[];
} OutMsg;


struct Manager {
        sd_event *event;
        int control_fd;
        sd_event_source *control_src;
        egress_resolver *resolver;
        int resolver_fd;
        sd_event_source *resolver_src;
        size_t n_private;
        egress_cidr private_cidrs[EGRESS_PRIVATE_MAX];
        Exec *execs;
        size_t n_execs;
        OutMsg *out_head, *out_tail;
        size_t n_out, dropped_reports;
        uint32_t next_serial;
        bool journal; /* stderr is the journal: log with sd_journal_send */
        bool closing; /* shutting down: no more reports */
        egress_wbuf *wbuf; /* encoding buffer for messages to cscd */
        uint8_t *rbuf;     /* one received datagram, EGRESS_MSG_MAX */
        egress_msg *msg;   /* the decoded datagram */
        /* this host's own addresses, refreshed at most every second */
        size_t n_own;
        egress_cidr *own; /* as many as the host has: a list cut short would let some through */
        uint64_t own_at_usec;
};

struct Exec {
        Exec *next, *prev;
        Manager *manager;
        char id[EGRESS_EXEC_ID_MAX + 1];
        egress_allowlist *allow;
        uint32_t max_conns, idle_timeout_ms;
        uint64_t byte_cap; /* 0: none */
        uint32_t n_active, n_pending;
        uint32_t allowed, denied;
        uint64_t bytes_up, bytes_down;
        Conn *conns;
};

typedef enum ConnState {
        CONN_REQUEST,     /* reading the HTTP head or the SOCKS greeting */
        CONN_SOCKS_REQUEST,
        CONN_RESOLVING,
        CONN_CONNECTING,
        CONN_RELAY,
        CONN_CLOSING,     /* flushing a refusal, then close */
} ConnState;


struct Conn {
        Conn *next, *prev;
        Exec *exec;
        uint32_t serial;
        ConnState state;
        int cfd, ufd;
        sd_event_source *csrc, *usrc, *timer;
        bool counted;     /* holds one of the execution's max_conns */
        bool sni_pending; /* holding the client's first bytes until the SNI is read */
        egress_request *req;
        egress_lookup *lookup;
        uint8_t *in;      /* request bytes, EGRESS_REQUEST_MAX */
        size_t in_len;
        Pipe up, down;    /* up: client -> upstream, down: upstream -> client */
        struct sockaddr_storage addr;
        socklen_t addr_len;
        char addr_text[EGRESS_ADDR_TEXT_MAX + 1];
        egress_verdict verdict;
        char reason[EGRESS_REASON_MAX + 1];
        uint64_t bytes_up, bytes_down;
};

/* egress_manager.c */
/* Starts the resolver threads; the caller loads the seccomp filter after. */
int manager_new(int control_fd, bool journal, Manager **ret);
/* Sends READY and runs the loop until cscd closes the control socket or
 * SIGTERM/SIGINT (which the caller blocked before manager_new). */
int manager_run(Manager *m);
Manager *manager_free(Manager *m);
int manager_send(Manager *m, const egress_msg *msg);
Exec *manager_find_exec(Manager *m, const char *id);
/* Why an address may not be dialed (a static text), or NULL when it may. */
const char *manager_address_refusal(Manager *m, const struct sockaddr_storage *ss);
void manager_log_conn(Manager *m, const Conn *c);

/* egress_conn.c */
/* Takes ownership of fd (an accepted TCP connection) for exec. */
int conn_new(Exec *exec, int fd);
/* Ends c: logs it, reports it to cscd, frees it. */
void conn_end(Conn *c, egress_verdict verdict, const char *reason);
/* A finished lookup for c (lookup->userdata). */
void conn_resolved(Conn *c, egress_lookup *l);
