/* warm_pool.h — executors made before a submit needs them (issue: agents
 * submit, think, submit again; the costly part of a sandbox is its
 * namespaces and joining its cgroup, which after an idle moment waits for an
 * RCU grace period).
 *
 * One pool per network kind: sandboxes with their own network namespace
 * (`deny`, `allowlisted`) and sandboxes on the host's (`full`). A warm
 * executor has its PID, IPC, UTS (and network) namespaces, has joined its
 * own cgroup and made its cgroup namespace, and waits for a plan. It holds
 * nothing of any peer or request: no plan, no path, no descriptor of a
 * user's. When a plan comes it takes a fresh copy of the host's mounts
 * (so it sees the host as it is then) and applies the plan as a cold
 * executor would. Executors are never reused. The pool refills from the
 * event loop, one executor per iteration. A kind used in the last minute is
 * kept at `warm_sandboxes` deep; one not used keeps one executor. */
#pragma once
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "cgroup.h"
#include "cgroup_reap.h"
#include "executor.h"

#define WARM_POOL_MAX 64                /* cscd.conf warm_sandboxes bound */
#define WARM_POOL_IDLE_USEC (60 * 1000000ULL)   /* a kind unused this long keeps one executor */

typedef struct warm_pool warm_pool;

typedef struct warm_pool_stats {
        unsigned target;                /* warm_sandboxes */
        const char *off;                /* why the pool is off, or NULL */
        size_t ready[2];                /* [0] host network, [1] own network */
        size_t want[2];
        uint64_t served_warm, served_cold, made, lost;
} warm_pool_stats;

/* Warm executors run the program at program_fd (cscd-executor; the pool
 * owns the descriptor; -errno: none could be opened, and the pool stays off)
 * and copy the caller's mount namespace, which setns() allows only with
 * CAP_SYS_CHROOT (no_setns: cscd runs without it, and the pool stays off). */
int warm_pool_new(sd_event *event, cscd_cgroups *cgroups, cgroup_reaper *reaper, int program_fd, bool no_setns,
                  warm_pool **ret);
/* Kills every warm executor and frees the pool. NULL-safe; returns NULL. */
warm_pool *warm_pool_free(warm_pool *p);
/* warm_sandboxes (0: off) and the cgroup limits new executors get. A change
 * drains the pool (its executors have the old limits). */
void warm_pool_configure(warm_pool *p, unsigned target, uint64_t pids_max, uint64_t memory_max);
/* A warm executor for a sandbox with (own_netns) or without its own network:
 * 0 with the executor in *ret and its cgroup directory in dir ("" when
 * cgroups are off), both the caller's now; -EAGAIN when none is ready (the
 * caller spawns one cold). */
int warm_pool_take(warm_pool *p, bool own_netns, executor_handle **ret, char dir[PATH_MAX]);
void warm_pool_stats_get(const warm_pool *p, warm_pool_stats *ret);
