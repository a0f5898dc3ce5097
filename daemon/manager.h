/* manager.h — the cscd Manager: owns the sd-event loop and every event
 * source, the loaded config, policy and key, the audit log, the listening
 * sockets, the connections and the executions. One thread, no globals. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "buf.h"
#include "config.h"
#include "contract.h"
#include "frame.h"
#include "keys.h"
#include "peer.h"
#include "policy.h"
#include "policy_ref.h"
#include "sandbox_seccomp.h"

typedef struct manager manager;
typedef struct conn conn;
typedef struct execution execution;

typedef struct manager_counters {
        uint64_t requests, executions_total;
        uint64_t success, failed, blocked, cancelled, errors, busy;
        uint64_t queued, queue_dropped;   /* submits that waited; of those, dropped before they started */
} manager_counters;

struct manager {
        sd_event *event;
        cscd_config *config;
        char *config_path;           /* NULL: built-in defaults */
        policy_ref *policy;
        struct cscd_keyring *keyring; /* active key + retired public keys (signing_keys) */
        csc_signing_key *key;        /* = keyring->active: the key that signs */
        bool config_error;           /* manager_load failed on config, policy or key: exit 78 */
        /* Layers weaker than designed, found at start ("landlock: why"). */
#define MANAGER_WEAKENED_MAX 8
        char weakened[MANAGER_WEAKENED_MAX][320];
        unsigned n_weakened;
        struct cscd_audit *audit;
        struct approval_store *approvals;
        struct cscd_cgroups *cgroups;       /* process cap per execution, or mode "none" */
        struct cgroup_reaper *cgroup_reaper; /* removes execution cgroups without blocking the loop */
        struct egress_link *egress;  /* cscd-egress, started with the first allowlisted execution */
        bool no_egress;              /* no CAP_NET_ADMIN: `allowlisted` is blocked (a weakened layer) */
        sandbox_filter filter_deny_net, filter_allowlisted, filter_net;   /* seccomp programs, compiled at start */
        int session_program_fd;      /* cscd-session, opened at start (O_PATH) */
        int listen_fd;
        bool listen_fd_owned;        /* we bound it (unlink on exit) */
        sd_event_source *listen_source;
        conn *conns;                 /* doubly linked */
        unsigned n_conns;
        unsigned n_conns_no_role;    /* of n_conns, peers with no role (max_connections_no_role) */
        execution *executions;
        unsigned n_executions;
        struct admission *admission;  /* submits waiting for an execution slot (admit.c) */
        sd_event_source *admit_src;  /* deferred: starts queued submits once slots are free */
        manager_counters counters;
        uint64_t started_usec;       /* CLOCK_MONOTONIC */
        bool stopping;
        sd_event_source *stop_timer;
        /* Command-line overrides applied over the config on every (re)load. */
        const char *opt_socket, *opt_policy, *opt_state_dir, *opt_key, *opt_key_id;
};

int manager_new(manager **ret);
manager *manager_free(manager *m);
/* Binds (or takes from systemd) the listening socket and accepts on it. */
int manager_listen(manager *m);
int manager_run(manager *m);
/* While stopping: refuses the queued submits, and ends the loop once no
 * execution runs (or arms the stop grace timer). */
void manager_maybe_finish_stop(manager *m);

/* conn.c */
enum { CONN_REFUSED = 1 };   /* conn_new: over the peer's share; a `busy` frame was sent */
/* Sets up a connection on fd, or refuses it (CONN_REFUSED; the caller closes fd). */
int conn_new(manager *m, int fd, conn **ret);
/* Sends one `busy` error frame on fd (best effort) and counts it. Does not close fd. */
void conn_refuse_busy(manager *m, int fd, const char *message);
conn *conn_free(conn *c);
/* Queues one reply frame; on failure closes the connection. */
int conn_send(conn *c, const csc_json *frame);
int conn_send_error(conn *c, const char *code, const char *message, const char *path);
/* Called when the connection's execution ended (c may resume reading). */
void conn_execution_done(conn *c);
bool conn_is_writable_backlogged(const conn *c);

/* Connection side of the admission queue: while q is set the connection
 * reads nothing (a request sent meanwhile drops the submit) and has no idle
 * timeout; NULL when the submit leaves the queue. */
typedef struct queued_submit queued_submit;
void conn_set_queued(conn *c, queued_submit *q);
/* The client closed the connection or its write side (a queued submit whose
 * client is gone is not started). */
bool conn_hung_up(const conn *c);
/* The length of the request frame being dispatched. */
size_t conn_request_bytes(const conn *c);

/* admit.c: the admission queue (admission.c) wired to the daemon. */
int admit_init(manager *m);
/* ADMIT_START: the submit may start now (ct stays the caller's).
 * ADMIT_HELD (0): it waits in the queue, which took ct, or the queue is full
 * and it was refused with `busy` (ct freed). < 0: the connection failed. */
enum { ADMIT_HELD = 0, ADMIT_START = 1 };
int admit_or_queue(manager *m, conn *c, const csc_json *req, csc_contract *ct);
/* A slot may have become free: start queued submits (deferred). */
void admit_kick(manager *m);
/* The client of a queued submit left (or broke the protocol): drop it. */
void admit_drop(queued_submit *q, const char *why);
/* cscd is stopping: every queued submit is refused with `busy`. */
void admit_refuse_all(manager *m, const char *why);
/* {"queued": n, "max_queued": n, "by_uid": [{"uid", "queued"}…]} — by_uid
 * lists every uid for an admin, else only the viewer's own. */
int admit_status_json(manager *m, uid_t viewer, bool all_uids, csc_json_doc *doc, csc_json **ret);
void admit_free(manager *m);

/* submit.c */
int execution_start(manager *m, conn *c, const csc_json *request);
/* A valid, admitted submit: decide, then block or run it. Takes ct. */
int execution_run(manager *m, conn *c, const csc_json *request, csc_contract *ct);
unsigned execution_count_of_uid(const manager *m, uid_t uid);
/* The receipt is signed and waits for the group commit before it is sent. */
bool execution_receipt_pending(const execution *e);
execution *execution_free(execution *e);
/* The client went away: kill the sandbox, still sign and log a receipt. */
void execution_cancel(execution *e, const char *why);
/* Output backpressure from the connection. */
void execution_set_paused(execution *e, bool paused);
void manager_kill_all_executions(manager *m, const char *why);
