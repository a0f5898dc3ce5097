/* cgroup_reap.h — removing execution cgroups without blocking the event loop.
 *
 * When an executor exits, the kernel kills the rest of its PID namespace,
 * but the last processes may still be exiting: rmdir answers EBUSY for a
 * moment. Instead of sleeping in the loop, a busy cgroup is retried from a
 * timer, sooner first (1 ms, doubling to CGROUP_REAP_MAX_DELAY_USEC), and
 * given up with a warning after CGROUP_REAP_TRIES attempts. */
#pragma once
#include <stddef.h>
#include <systemd/sd-event.h>

#define CGROUP_REAP_FIRST_DELAY_USEC 1000ULL
#define CGROUP_REAP_MAX_DELAY_USEC (250 * 1000ULL)
#define CGROUP_REAP_TRIES 60            /* about 12 s in all */

typedef struct cgroup_reaper cgroup_reaper;

int cgroup_reaper_new(sd_event *ev, cgroup_reaper **ret);
/* One last rmdir of each cgroup still pending (no waiting), then frees. */
cgroup_reaper *cgroup_reaper_free(cgroup_reaper *r);
/* Removes dir (an execution cgroup) now, or later while it is busy. */
void cgroup_reaper_remove(cgroup_reaper *r, const char *dir);
/* Cgroups waiting for their last processes (for status). */
size_t cgroup_reaper_pending(const cgroup_reaper *r);
