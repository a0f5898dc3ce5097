/* sandbox_landlock.h — Landlock for commands (best ABI the kernel offers).
 *
 * Filesystem: read and execute everything the sandbox shows, write only in
 * /tmp, /dev/shm, /dev (device files) and the command's declared write paths
 * (defence in depth under the bind mounts). Network (ABI >= 4): TCP bind and
 * connect refused unless the command's network is "full". Scoping (ABI >= 6):
 * no connecting to abstract UNIX sockets and no signals outside the command's
 * own domain. A kernel without Landlock is reported, not fatal. */
#pragma once
#include <stdbool.h>

#include "sandbox_plan.h"

/* The kernel's Landlock ABI version, or 0 when unavailable. */
int sandbox_landlock_abi(void);
/* Restricts the calling process (no_new_privs must be set). 0, or -errno. */
int sandbox_landlock_apply(const sandbox_command *cmd, int abi);
