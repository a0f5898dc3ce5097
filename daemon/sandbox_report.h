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

/* The control socket every report goes to (set once, first thing in the executor). */
void sandbox_report_init(int ctl);
/* One report; fds (two: stdout and stderr read ends) only with STARTED. */
void sandbox_report(executor_msg_type type, uint32_t index, int exit_code, const int *fds, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

/* An internal failure: a failed receipt with exit code 1. Never returns. */
_Noreturn void sandbox_die_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A declared path that cannot be bound safely: a blocked receipt. Never returns. */
_Noreturn void sandbox_die_blocked(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
