/* sandbox_report.h — how the executor talks to the daemon: fixed-size
 * messages on the control socket (executor.h), descriptors as SCM_RIGHTS. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "executor.h"

/* Sends len bytes and n descriptors (n <= 2) in one message. 0 or -errno. */
int sandbox_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t n);

/* Receives one message of exactly len bytes and at most one descriptor
 * (*ret_fd, -1 when none). 0, or -EPROTO for a short, truncated or otherwise
 * malformed message (no descriptor is left open then), or -errno. */
int sandbox_recv_fd(int sock, void *buf, size_t len, int *ret_fd);

/* The executor's control socket: descriptor 3, from its first step on. */
#define SANDBOX_CTL_FD 3
/* A warm executor's descriptor of the host's mount namespace. */
#define SANDBOX_MNTNS_FD 4

/* One report whose message is the strings up to the NULL, concatenated (cut
 * to fit); fds (two: stdout and stderr read ends) only with STARTED.
 * Async-signal-safe. */
void sandbox_report_cat(executor_msg_type type, uint32_t index, int exit_code, const int *fds, ...);
#define sandbox_report(type, index, exit_code, fds, ...) \
        sandbox_report_cat(type, index, exit_code, fds, __VA_ARGS__, (const char *)NULL)

/* Reports type (ERROR: an internal failure, a failed receipt with exit code
 * 1; BLOCKED: a declared path that cannot be bound safely, a blocked receipt)
 * with the strings up to the NULL, and exits. */
_Noreturn void sandbox_die_cat(executor_msg_type type, ...);
#define sandbox_die_error(...) sandbox_die_cat(EXECUTOR_MSG_ERROR, __VA_ARGS__, (const char *)NULL)
#define sandbox_die_blocked(...) sandbox_die_cat(EXECUTOR_MSG_BLOCKED, __VA_ARGS__, (const char *)NULL)
