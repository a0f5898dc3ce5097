/* manager.h — the cscd Manager: owns the sd-event loop and every event
 * source, the loaded config, policy and key, the audit log, the listening
 * sockets, the connections and the executions. One thread, no globals. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "conn.h"
#include "keys.h"
#include "policy_ref.h"
#include "sandbox_seccomp.h"

typedef struct manager manager;
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
        struct warm_pool *warm;              /* executors made before a submit needs them */
        struct egress_link *egress;  /* cscd-egress, started with the first allowlisted execution */
        int landlock_abi;            /* the kernel's Landlock ABI, read at start (0: none) */
        uintptr_t title_start, title_end;   /* our argv area: a cloned executor overwrites it */
        bool no_egress;              /* no CAP_NET_ADMIN: `allowlisted` is blocked (a weakened layer) */
        sandbox_filter filter_deny_net, filter_allowlisted, filter_net;   /* seccomp programs, compiled at start */
        int session_program_fd;      /* cscd-session, opened at start (O_PATH) */
        int listen_fd;
        bool listen_fd_owned;        /* we bound it (unlink on exit) */
        sd_event_source *listen_source;
        conn_set conns;              /* the connections, and what they need of the manager */
        execution *executions;
        unsigned n_executions;
        /* execution_free calls it once an execution is gone (a slot is free):
         * the execution module does not call up into the manager. */
        void (*execution_freed)(manager *m);
        struct admission *admission;  /* submits waiting for an execution slot (admit.c) */
        sd_event_source *admit_src;  /* deferred: starts queued submits once slots are free */
        manager_counters counters;
        uint64_t started_usec;       /* CLOCK_MONOTONIC */
        bool stopping;
        bool freeing;                /* manager_free: killed executors are waited for, not left to the loop */
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
