/* executor.h — the per-submit sandboxed executor.
 *
 * executor_spawn() clones a child into new mount, PID, IPC, UTS (and, unless a
 * command needs the host network, network) namespaces. The child is PID 1 of
 * its PID namespace: it applies the plan (sandbox_plan.h) it was given: the
 * sandbox's filesystem (sandbox_apply.c), then the commands one after another
 * as the peer's uid/gid (sandbox_run.c), reporting over a SOCK_SEQPACKET
 * control socket:
 *   STARTED {index} + SCM_RIGHTS {stdout read end, stderr read end}
 *   EXIT    {index, exit_code, message}
 *   BLOCKED {message}   a declared path could not be bound safely (no command ran)
 *   ERROR   {message}   the sandbox could not be built (internal error)
 *   ARTIFACT {index, sha256} an expected output the commands produced,
 *                       hashed as the peer after the last command succeeded
 *   READY   {}          (with await_go) the sandbox is built and every declared
 *                       path bound; the executor then waits for one byte on
 *                       the control socket: EXECUTOR_GO runs the commands,
 *                       anything else (or EOF) ends it. The daemon spends a
 *                       single-execution approval here, the last step before
 *                       the first command starts.
 *   LISTENER {} + SCM_RIGHTS {the 127.0.0.1:3128 listener[, the [::1]:3128 one]}
 *                       made in the sandbox's network namespace when a command
 *                       is `allowlisted`; sent before READY and before any
 *                       command runs. The daemon accepts on it and hands each
 *                       connection to cscd-egress (egress_link.h).
 *   DONE    {}          all commands ran, or the first failure stopped them
 * The daemon owns the read ends of every command's output; the executor never
 * sees the signing key (MADV_WIPEONFORK) and never signs. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "sandbox_plan.h"

typedef enum executor_msg_type {
        EXECUTOR_MSG_STARTED = 1,
        EXECUTOR_MSG_EXIT,
        EXECUTOR_MSG_BLOCKED,
        EXECUTOR_MSG_ERROR,
        EXECUTOR_MSG_DONE,
        EXECUTOR_MSG_ARTIFACT,   /* {index into expected_outputs, message = SHA-256 hex} */
        EXECUTOR_MSG_READY,      /* the sandbox is built; with await_go the executor waits for GO */
        EXECUTOR_MSG_LISTENER,   /* + SCM_RIGHTS {127.0.0.1 listener[, ::1 listener]}: `allowlisted` */
} executor_msg_type;

typedef struct executor_msg {
        uint32_t type;
        uint32_t index;
        int32_t exit_code;
        char message[256];
} executor_msg;

#define EXECUTOR_GO 'G'

/* To a warm executor: its plan, as SCM_RIGHTS {a memfd of size bytes} with
 * the address the plan was built at (sandbox_plan_relocate). */
typedef struct executor_plan_msg {
        uint64_t size;
        uint64_t base;
} executor_plan_msg;

typedef struct executor_handle executor_handle;

/* Tells an executor waiting after READY to run its commands. 0 or -errno. */
int executor_go(executor_handle *h);

/* Clones the executor for plan (which the caller may free once this
 * returns: the child has its own copy). 0 or -errno. */
int executor_spawn(const sandbox_plan *plan, executor_handle **ret);
/* A warm executor: namespaces made (its own network when own_netns), then
 * a fresh image, cscd-executor (program_fd), which joins the cgroup at
 * cgroup_procs (or none: NULL) and waits for a plan (executor_send_plan).
 * host_mntns is a descriptor of the host's mount namespace: the executor
 * takes a fresh copy of it when the plan comes. 0 or -errno. */
int executor_spawn_warm(int program_fd, bool own_netns, const char *cgroup_procs, int host_mntns,
                        executor_handle **ret);
/* Sends a warm executor its plan. 0 or -errno. */
int executor_send_plan(executor_handle *h, const sandbox_plan *plan);
/* Kills the whole sandbox (SIGKILL to its PID 1 ends the namespace). */
void executor_kill(executor_handle *h);
/* Kills it if still running and closes the handle. An executor not reaped
 * yet is reaped by a floating child source of event when it exits: this
 * never waits (only without a loop, or out of memory, for the killed
 * executor's exit). NULL-safe; returns NULL. */
executor_handle *executor_handle_free(executor_handle *h, sd_event *event);
/* Non-blocking: 0 with *msg (fds[] set for STARTED, fds[0] and maybe fds[1]
 * for LISTENER, else -1), -EAGAIN, or
 * -EPIPE at end of stream / on a malformed message. */
int executor_read_msg(executor_handle *h, executor_msg *msg, int fds[2]);
int executor_control_fd(const executor_handle *h);
int executor_pidfd(const executor_handle *h);
/* Its pid, for sd_event_add_child(): the loop watches every child by pid
 * (sd-event uses a pidfd where the kernel has one), never a mix of pid and
 * pidfd sources, which under valgrind (no pidfd_open) leaves SIGCHLD's
 * signal data behind. */
pid_t executor_pid(const executor_handle *h);

/* sandbox_run.c: the child's side, with the control socket ctl. Never returns. */
_Noreturn void sandbox_main(const sandbox_plan *plan, int ctl);
/* cscd-executor's side (a fresh image): title_start/end is its own argv
 * area, overwritten with a neutral title once the plan has come. */
_Noreturn void sandbox_warm_main(int ctl, const char *cgroup_procs, bool own_netns, int host_mntns,
                                 uintptr_t title_start, uintptr_t title_end);
