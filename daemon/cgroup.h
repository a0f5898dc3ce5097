/* cgroup.h — a process-count cap per execution (cgroup "pids" controller).
 *
 * Detected once at start: the unified hierarchy (cgroup v2, the daemon moves
 * itself into a leaf "daemon" child of its own cgroup so its children may
 * have controllers; under systemd this needs Delegate=yes) or the v1 "pids"
 * hierarchy. Each execution gets its own child cgroup with pids.max; the
 * executor moves itself in before anything runs, so a fork bomb is capped
 * without touching the user's processes outside the sandbox. When neither
 * is available the cap is reported as absent (never faked). */
#pragma once
#include <linux/limits.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct cscd_cgroups cscd_cgroups;

/* Never fails: an unusable hierarchy gives mode "none" with the reason. */
int cscd_cgroups_init(cscd_cgroups **ret);
cscd_cgroups *cscd_cgroups_free(cscd_cgroups *c);
/* "cgroup2", "cgroup1" or "none"; why says what is missing for "none". */
const char *cscd_cgroups_mode(const cscd_cgroups *c, const char **why);
/* Creates the execution's cgroup with pids.max; procs_path receives the
 * cgroup.procs file the executor writes itself into. -errno on failure. */
int cscd_cgroups_create(cscd_cgroups *c, const char *execution_id, uint64_t pids_max, uint64_t memory_max,
                        char dir[PATH_MAX], char procs_path[PATH_MAX]);
/* True when execution cgroups also get memory.max (cgroup v2 with the memory
 * controller delegated). */
bool cscd_cgroups_memory(const cscd_cgroups *c);
/* Execution cgroups are removed by cgroup_reap.h, from the event loop. */
