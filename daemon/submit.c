/* submit.c — one submit: validate, decide with the live policy, then either a
 * signed blocked receipt or a sandboxed execution whose output the daemon
 * reads, caps, hashes and streams; always ends with a signed receipt that is
 * appended to receipts.jsonl and logged. */
#include <errno.h>
#include <linux/limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "advisory.h"
#include "approval_gate.h"
#include "audit.h"
#include "cgroup.h"
#include "cgroup_reap.h"
#include "build-config.h"
#include "base64.h"
#include "canon.h"
#include "cleanup.h"
#include "contract.h"
#include "decide.h"
#include "env_policy.h"
#include "exec_path.h"
#include "egress_link.h"
#include "executor.h"
#include "sandbox_host.h"
#include "sandbox_plan.h"
#include "warm_pool.h"
#include "csc_limits.h"
#include "log.h"
#include "conn.h"
#include "execution.h"
#include "private_paths.h"
#include "receipt.h"
#include "redact.h"
#include "sandbox_egress.h"
#include "secrets.h"
#include "sign.h"
#include "timefmt.h"
#include "uuid.h"
#include "validate.h"
#include "execution_internal.h"

static const size_t out_cap[2] = { CSC_STDOUT_CAP, CSC_STDERR_CAP };
static const char *const out_name[2] = { "stdout", "stderr" };

static void drain_control(execution *e);
static void arm_watchdog(execution *e, uint64_t sec);
static void redact_and_emit(execution *e, int i, const char *buf, size_t n, bool eof);

/* Called once the command's processes are all dead (its EXIT report, or the
 * executor's own end): reads what they left in the pipes, until EAGAIN or
 * end of file and at most one pipe's capacity per stream, then closes them.
 * A copy of a write end passed out of the sandbox (SCM_RIGHTS to a host
 * process) can therefore neither hold the execution open nor add more than
 * what already sat in the pipe to the command's output and hashes. Reads
 * even while the client is paused: the caps bound what is queued. */
static void drain_and_close_outputs(execution *e) {
        for (int i = 0; i < 2; i++) {
                if (e->out_fd[i] < 0)
                        continue;
                int sz = fcntl(e->out_fd[i], F_GETPIPE_SZ);   /* what it can hold; the kernel bounds it */
                size_t budget = sz > 0 ? (size_t) sz : CSC_PIPE_DRAIN_MAX;
                char buf[65536];
                while (budget > 0) {
                        ssize_t n = read(e->out_fd[i], buf, budget < sizeof buf ? budget : sizeof buf);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                break;
                        redact_and_emit(e, i, buf, (size_t) n, false);
                        budget -= (size_t) n;
                }
                redact_and_emit(e, i, "", 0, true);
                execution_close_output(e, i);
        }
}

static void maybe_finish(execution *e);

static void egress_over(void *userdata) {
        execution *e = userdata;
        e->egress_over = true;
        maybe_finish(e);
}

static void maybe_finish(execution *e) {
        /* Wait for the executor to exit, every report it sent to be read and
         * every output pipe to be drained. */
        if (!e->child_exited)
                return;
        drain_control(e);
        /* The executor is gone, and with it (PID 1 of its namespace) every
         * process of the command: a pipe still open is held by someone else. */
        drain_and_close_outputs(e);
        if (e->egress && !e->egress_over) {
                /* The proxy's last reports (network_used) before the receipt. */
                if (e->egress_waiting)
                        return;
                e->egress_waiting = true;
                if (egress_session_end(e->egress, egress_over, e) == 0)
                        return;
                e->egress_over = true;   /* cannot wait: sign with what the proxy reported so far */
        }
        if (e->blocked || e->approval_refused) {
                execution_finish(e, "blocked");
                return;
        }
        if (!e->done_msg && !e->cancelled && !e->error[0])
                snprintf(e->error, sizeof e->error, "internal error: the executor ended unexpectedly");
        if (e->error[0] && !e->have_exit)
                e->final_exit = 1;
        bool ok = e->n_completed == e->contract->n_commands && e->final_exit == 0 && !e->cancelled && !e->error[0];
        if (!ok && !e->failed_command_id && e->n_completed < e->contract->n_commands)
                e->failed_command_id = e->contract->commands[e->n_completed].id;
        execution_finish(e, ok ? "success" : "failed");
}

static void emit_exit(execution *e) {
        const csc_command *cmd = &e->contract->commands[e->cmd];
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL;
        if (o && csc_json_object_set(doc, o, "command_id", csc_json_new_string(doc, cmd->id)) >= 0 &&
            csc_json_object_set(doc, o, "exit_code", csc_json_new_int(doc, e->exit_code)) >= 0)
                (void) execution_send_frame(e, doc, o, "exit");
        csc_json_doc_free(doc);
        e->final_exit = e->exit_code;
        e->have_exit = true;
        if (e->exit_code == 0)
                e->completed[e->n_completed++] = cmd->id;
        else {
                e->failed_command_id = cmd->id;
                if (e->exit_message[0] && !e->error[0])
                        snprintf(e->error, sizeof e->error, "%s", e->exit_message);
        }
}

/* Caps, hashes and streams bytes that are ready to leave (already redacted). */
static void emit_output(execution *e, int i, const char *buf, size_t n) {
        size_t keep = n;
        if (e->captured[i] + keep > out_cap[i]) {
                keep = out_cap[i] - e->captured[i];
                e->truncated[i] = true; /* the rest is drained and discarded */
        }
        if (keep == 0)
                return;
        e->captured[i] += keep;
        crypto_hash_sha256_update(&e->hash[i], (const unsigned char *) buf, keep);
        if (!e->c)
                return;
        char *b64 = NULL;
        if (csc_base64_encode(buf, keep, &b64) < 0)
                return;
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL;
        if (o && csc_json_object_set(doc, o, "command_id", csc_json_new_string(doc, e->contract->commands[e->cmd].id)) >= 0 &&
            csc_json_object_set(doc, o, "stream", csc_json_new_string(doc, out_name[i])) >= 0 &&
            csc_json_object_set(doc, o, "data", csc_json_new_string(doc, b64)) >= 0)
                (void) execution_send_frame(e, doc, o, "output");
        csc_json_doc_free(doc);
        free(b64);
}

/* With secrets, exact values become "***" before anything is hashed or sent. */
static void redact_and_emit(execution *e, int i, const char *buf, size_t n, bool eof) {
        if (!e->redact) {
                emit_output(e, i, buf, n);
                return;
        }
        csc_buf out = CSC_BUF_INIT;
        if (redactor_feed(e->redact, i, buf, n, eof, &out) == 0 && out.len)
                emit_output(e, i, out.data, out.len);
        if (out.data)
                sodium_memzero(out.data, out.cap);
        csc_buf_free(&out);
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        execution *e = userdata;
        int i = fd == e->out_fd[OUT_STDOUT] ? OUT_STDOUT : OUT_STDERR;
        char buf[65536];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                redact_and_emit(e, i, "", 0, true);
                execution_close_output(e, i);
                maybe_finish(e);
                return 0;
        }
        redact_and_emit(e, i, buf, (size_t) n, false);
        return 0;
}

/* Reads the executor's reports. A command's EXIT drains and closes its
 * output pipes before the next STARTED can hand over new ones. */
/* The sandbox is built and every declared path is bound: the approval is
 * spent now, the last step before the first command starts (spec §7), so no
 * refusal that could still come burns it. */
static void spend_approval_and_go(execution *e) {
        char why[1024];
        if (e->approval.n == 0 || e->approval_refused || e->cancelled) {
                if (e->approval.n == 0 && !e->cancelled)
                        snprintf(e->error, sizeof e->error, "internal error: the executor broke the protocol");
                executor_kill(e->h);
                return;
        }
        if (approval_gate_consume(e->m->approvals, &e->approval, e->execution_id, e->peer.uid, why, sizeof why)) {
                e->approval_refused = true;
                snprintf(e->error, sizeof e->error, "blocked: %s: %s", e->decision.reason, why);
                executor_kill(e->h);
                return;
        }
        int r = executor_go(e->h);
        if (r < 0) {
                snprintf(e->error, sizeof e->error, "internal error: cannot start the commands: %s", strerror(-r));
                executor_kill(e->h);
        }
}

/* A command started: its output pipes are ours now. */
static void on_started(execution *e, const executor_msg *msg, int fds[2]) {
        if (msg->index >= e->contract->n_commands || e->out_fd[0] >= 0 || e->out_fd[1] >= 0) {
                close(fds[0]);
                close(fds[1]);
                snprintf(e->error, sizeof e->error, "internal error: the executor broke the protocol");
                executor_kill(e->h);
                return;
        }
        e->cmd = msg->index;
        arm_watchdog(e, (uint64_t) e->contract->commands[msg->index].timeout_sec);
        for (int i = 0; i < 2; i++) {
                e->out_fd[i] = fds[i];
                fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
                sd_event_add_io(e->m->event, &e->out_src[i], fds[i], EPOLLIN, on_output, e);
                if (e->paused)
                        sd_event_source_set_enabled(e->out_src[i], SD_EVENT_OFF);
        }
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL;
        if (o && csc_json_object_set(doc, o, "command_id", csc_json_new_string(doc, e->contract->commands[msg->index].id)) >= 0)
                (void) execution_send_frame(e, doc, o, "started");
        csc_json_doc_free(doc);
}

static void drain_control(execution *e) {
        while (e->ctl_src) {
                executor_msg msg;
                int fds[2] = { -1, -1 };
                int r = executor_read_msg(e->h, &msg, fds);
                if (r == -EAGAIN)
                        return;
                if (r < 0) { /* end of stream: the child handler finishes the job */
                        e->ctl_src = sd_event_source_disable_unref(e->ctl_src);
                        return;
                }
                switch ((executor_msg_type) msg.type) {
                case EXECUTOR_MSG_STARTED:
                        on_started(e, &msg, fds);
                        break;
                case EXECUTOR_MSG_EXIT:
                        /* The executor killed and reaped every process of the
                         * command before it said so: what the command wrote is
                         * in the pipes now. Take that, and no more. */
                        e->exit_code = msg.exit_code;
                        snprintf(e->exit_message, sizeof e->exit_message, "%s", msg.message);
                        drain_and_close_outputs(e);
                        emit_exit(e);
                        arm_watchdog(e, 0);
                        break;
                case EXECUTOR_MSG_BLOCKED:
                        e->blocked = true;
                        snprintf(e->error, sizeof e->error, "blocked by the sandbox: %s", msg.message);
                        break;
                case EXECUTOR_MSG_ERROR:
                        snprintf(e->error, sizeof e->error, "internal error: %s", msg.message);
                        break;
                case EXECUTOR_MSG_ARTIFACT:
                        if (msg.index < e->contract->expected_outputs.n && e->n_artifacts < 64 &&
                            csc_is_hex64(msg.message)) {
                                e->artifact_path[e->n_artifacts] = e->contract->expected_outputs.v[msg.index];
                                memcpy(e->artifact_sha[e->n_artifacts], msg.message, 64);
                                e->artifact_sha[e->n_artifacts][64] = 0;
                                e->n_artifacts++;
                        }
                        break;
                case EXECUTOR_MSG_DONE:
                        e->done_msg = true;
                        break;
                case EXECUTOR_MSG_READY:
                        spend_approval_and_go(e);
                        break;
                case EXECUTOR_MSG_LISTENER:   /* takes the descriptors; a failure leaves the command no way out */
                        if (egress_session_add_listeners(e->egress, fds) == -EPROTO) {
                                snprintf(e->error, sizeof e->error, "internal error: the executor broke the protocol");
                                executor_kill(e->h);
                        }
                        break;
                default:
                        snprintf(e->error, sizeof e->error, "internal error: the executor broke the protocol");
                        executor_kill(e->h);
                }
        }
}

static int on_control(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        execution *e = userdata;
        drain_control(e);
        maybe_finish(e);
        return 0;
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        execution *e = userdata;
        e->child_exited = true;
        e->child_src = sd_event_source_disable_unref(e->child_src);
        maybe_finish(e);
        return 0;
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        execution *e = userdata;
        e->watchdog_fired = true;
        snprintf(e->error, sizeof e->error,
                 "internal error: the sandbox overran its command's timeout or the %d s it has before, between "
                 "and after commands", CSC_EXECUTOR_GRACE_SEC);
        executor_kill(e->h);
        return 0;
}

/* The daemon's backstop for the executor: it may spend a command's own
 * timeout running it, and CSC_EXECUTOR_GRACE_SEC around it (building the
 * sandbox, between commands, hashing expected outputs); past that it is
 * killed, which ends every process of the execution. Re-armed at each
 * STARTED and EXIT, so no phase after a command ends can stretch to the
 * other commands' timeouts. */
static void arm_watchdog(execution *e, uint64_t sec) {
        if (!e->watchdog || e->watchdog_fired)
                return;
        if (sd_event_source_set_time_relative(e->watchdog, (sec + CSC_EXECUTOR_GRACE_SEC) * 1000000u) >= 0)
                (void) sd_event_source_set_enabled(e->watchdog, SD_EVENT_ONESHOT);
}

/* The redactor gets every secret of the execution (all commands'). */
static int redactor_for_secrets(execution *e) {
        const char **vals = calloc(e->n_secrets, sizeof *vals);
        size_t *lens = calloc(e->n_secrets, sizeof *lens);
        int r = vals && lens ? 0 : -ENOMEM;
        for (size_t i = 0; r == 0 && i < e->n_secrets; i++) {
                vals[i] = e->secrets[i].value;
                lens[i] = e->secrets[i].len;
        }
        if (r == 0)
                r = redactor_new(vals, lens, e->n_secrets, &e->redact);
        free(vals);
        free(lens);
        return r;
}

static int send_decision(execution *e) {
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL, *dj = NULL;
                int r = o ? csc_decision_to_json(&e->decision, e->contract, e->policy->policy, CSC_DECISION_VALID_SEC, doc, &dj)
                  : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "decision", dj);
        if (r >= 0)
                r = execution_send_frame(e, doc, o, "decision");
        csc_json_doc_free(doc);
        return r;
}

/* An internal failure before the sandbox ran: a failed receipt, exit 1. */
static int execution_fail(execution *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int execution_fail(execution *e, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->error, sizeof e->error, fmt, ap);
        va_end(ap);
        e->final_exit = 1;
        e->child_exited = true;
        maybe_finish(e);
        return 0;
}

/* A new execution of ct for c's peer, linked into the manager. NULL: out of
 * memory (ct freed). */
static execution *execution_new(manager *m, const execution_sink *sink, conn *c, csc_contract *ct) {
        const cscd_peer *peer = conn_peer(c);
        execution *e = calloc(1, sizeof *e);
        if (!e) {
                csc_contract_free(ct);
                return NULL;
        }
        e->m = m;
        e->sink = sink;
        e->c = c;
        e->contract = ct;
        e->policy = policy_ref_get(m->policy);
        e->peer = (cscd_peer_info) { peer->uid, peer->gid, peer->pid };
        e->out_fd[0] = e->out_fd[1] = -1;
        crypto_hash_sha256_init(&e->hash[0]);
        crypto_hash_sha256_init(&e->hash[1]);
        csc_uuid4(e->execution_id);
        csc_time_now(e->started_at);
        e->next = m->executions;
        if (m->executions)
                m->executions->prev = e;
        m->executions = e;
        m->n_executions++;
        m->counters.executions_total++;
        sink->set_execution(c, e);
        return e;
}

/* The decision and the gates, cheapest and pure first; the approval is only
 * checked here (it is spent at READY). 1: the execution is finished (a
 * blocked or failed receipt is on its way), 0: it may run. */
static int execution_gates(execution *e, const csc_json *req, approval_plan *approval) {
        manager *m = e->m;
        csc_contract *ct = e->contract;
        csc_decide(ct, e->policy->policy, &e->decision);
        cscd_journal_decision(m->audit, ct, e->execution_id, csc_verdict_name(e->decision.verdict),
                              e->decision.code, e->decision.reason, &e->peer);
        send_decision(e);
        if (e->decision.verdict == CSC_VERDICT_DENY) {
                snprintf(e->error, sizeof e->error, "blocked by policy: %s: %s", e->decision.code, e->decision.reason);
                execution_finish(e, "blocked");
                return 1;
        }
        if (e->decision.verdict == CSC_VERDICT_NEEDS_APPROVAL) {
                char why[1024];
                int r = approval_gate_check(m->config, ct, csc_json_get(req, "approvals"), conn_peer(e->c)->user_name,
                                            approval, why, sizeof why);
                if (r != 0) {
                        snprintf(e->error, sizeof e->error, "blocked: %s: %s", e->decision.reason,
                                 r < 0 ? "out of memory" : why);
                        execution_finish(e, "blocked");
                        return 1;
                }
        }
        if (!m->filter_deny_net.insns || !m->filter_allowlisted.insns || !m->filter_net.insns)
                return execution_fail(e, "internal error: the sandbox's seccomp filter could not be compiled; "
                                         "cscd runs nothing without it"), 1;
        /* The pure gates: each blocks with its reason in e->error. */
        if ((m->config->block_interpreters && advisory_blocked(ct, e->error, sizeof e->error)) ||
            env_gate(m->config, ct, e->error, sizeof e->error) != 0 ||
            private_paths_gate(ct, e->error, sizeof e->error) != 0 ||
            sandbox_egress_gate(ct, m->no_egress, e->error, sizeof e->error) != 0) {
                execution_finish(e, "blocked");
                return 1;
        }
        char why[512];
        int r = cscd_secrets_load(m->config->secrets_dir, ct, &e->secrets, &e->n_secrets, why, sizeof why);
        if (r != 0) {
                snprintf(e->error, sizeof e->error, "blocked: %s", r < 0 ? "out of memory loading secrets" : why);
                execution_finish(e, "blocked");
                return 1;
        }
        return 0;
}

/* The sandbox plan, built before any fork: 0 with *ret, or 1 when the
 * execution is finished (the plan refused the contract: a blocked receipt;
 * or a failure). */
static int execution_plan(execution *e, const csc_json *req, const approval_plan *approval, sandbox_plan **ret) {
        manager *m = e->m;
        csc_contract *ct = e->contract;
        const cscd_peer *peer = conn_peer(e->c);
        if ((e->n_secrets > 0 && redactor_for_secrets(e) < 0) || exec_paths_resolve(ct, &e->exe_paths, &e->n_exe_paths) < 0)
                return execution_fail(e, "internal error: out of memory"), 1;
        char **top = NULL;
        size_t n_top = 0;
        int r = sandbox_plan_wants_host_top(ct) ? sandbox_host_top(&top, &n_top) : 0;
        if (r < 0)
                return execution_fail(e, "internal error: cannot list the host's root: %s", strerror(-r)), 1;
        sandbox_plan_input in = {
                .contract = ct,
                .uid = peer->uid,
                .gid = peer->gid,
                .groups = peer->groups,
                .n_groups = peer->n_groups,
                .env = csc_json_get(req, "env"),
                .config = m->config,
                .filter_deny_net = &m->filter_deny_net,
                .filter_allowlisted = &m->filter_allowlisted,
                .filter_net = &m->filter_net,
                .secrets = e->secrets,
                .n_secrets = e->n_secrets,
                .exe_paths = e->exe_paths,
                .await_go = approval->n > 0,
                .write_prefixes = &e->policy->policy->allowed_write_prefixes,
                .host_top = (const char *const *)top,
                .n_host_top = n_top,
                .credentials_dir = getenv("CREDENTIALS_DIRECTORY"),
                .landlock_abi = m->landlock_abi,
                .title_start = m->title_start,
                .title_end = m->title_end,
        };
        char why[1024];
        r = sandbox_plan_build(&in, ret, why, sizeof why);
        sandbox_host_top_free(top);
        if (r == SANDBOX_PLAN_BLOCKED) {
                snprintf(e->error, sizeof e->error, "blocked by the sandbox: %s", why);
                execution_finish(e, "blocked");
                return 1;
        }
        if (r < 0)
                return execution_fail(e, "internal error: cannot plan the sandbox: %s", strerror(-r)), 1;
        return 0;
}

/* A cold executor: the execution's cgroup, then the clone. 0, or -errno
 * after the failure's receipt is on its way. */
static int spawn_cold(execution *e, sandbox_plan *plan) {
        manager *m = e->m;
        char procs[PATH_MAX];
        int r;
        if (strcmp(cscd_cgroups_mode(m->cgroups, NULL), "none") != 0 &&
            (r = cscd_cgroups_create(m->cgroups, e->execution_id, m->config->pids_max, m->config->memory_max_bytes,
                                     e->cgroup_dir, procs)) < 0) {
                e->cgroup_dir[0] = 0;
                execution_fail(e, "internal error: cannot create the execution's cgroup: %s", strerror(-r));
                return r;
        }
        if (e->cgroup_dir[0] && (r = sandbox_plan_set_cgroup(plan, procs)) < 0) {
                execution_fail(e, "internal error: the cgroup path is too long");
                return r;
        }
        if ((r = executor_spawn(plan, &e->h)) < 0) {
                execution_fail(e, "internal error: cannot start the sandbox: %s", strerror(-r));
                return r;
        }
        return 0;
}

/* Everything the executor needs, then the executor itself, watched. */
static int execution_spawn(execution *e, const csc_json *req, approval_plan *approval) {
        manager *m = e->m;
        csc_contract *ct = e->contract;
        _cleanup_(sandbox_plan_freep) sandbox_plan *plan = NULL;
        int r = execution_plan(e, req, approval, &plan);
        if (r != 0)
                return 0;   /* finished: blocked, or failed */
        if (approval->n > 0 && approval_plan_dup(approval, &e->approval) < 0)
                return execution_fail(e, "internal error: out of memory");
        if (sandbox_egress_wanted(ct) &&
            (r = egress_session_new(m->egress, e->execution_id, &e->policy->policy->allowed_egress_hosts, &e->egress)) < 0)
                return execution_fail(e, "internal error: cannot prepare the egress proxy: %s", strerror(-r));
        /* A warm executor (its namespaces made, its cgroup joined), else a
         * cold one; one that died in the pool unnoticed yet is replaced. */
        if (warm_pool_take(m->warm, plan->own_netns, &e->h, e->cgroup_dir) == 0 &&
            (r = executor_send_plan(e->h, plan)) < 0) {
                log_warning("a warm executor did not take its plan (%s); starting a cold one", strerror(-r));
                executor_kill(e->h);
                e->h = executor_handle_free(e->h, m->event);
                if (e->cgroup_dir[0])
                        cgroup_reaper_remove(m->cgroup_reaper, e->cgroup_dir);
                e->cgroup_dir[0] = 0;
        }
        if (!e->h && spawn_cold(e, plan) < 0)
                return 0;   /* failed, with a receipt */
        plan = sandbox_plan_free(plan);   /* the executor has its own copy; the secrets in ours are wiped */
        if ((r = sd_event_add_io(m->event, &e->ctl_src, executor_control_fd(e->h), EPOLLIN, on_control, e)) < 0 ||
            (r = sd_event_add_child(m->event, &e->child_src, executor_pid(e->h), WEXITED, on_child, e)) < 0 ||
            (r = sd_event_add_time_relative(m->event, &e->watchdog, CLOCK_MONOTONIC,
                                            CSC_EXECUTOR_GRACE_SEC * 1000000u, 0, on_watchdog, e)) < 0) {
                snprintf(e->error, sizeof e->error, "internal error: cannot watch the sandbox: %s", strerror(-r));
                executor_kill(e->h);
                e->child_exited = true;
                maybe_finish(e);
        }
        return 0;
}

/* A valid submit that may start: decide, then block or run it. Takes ct. */
int execution_run(manager *m, const execution_sink *sink, conn *c, const csc_json *req, csc_contract *ct) {
        execution *e = execution_new(m, sink, c, ct);
        if (!e)
                return sink->send_error(c, "internal", "out of memory", NULL);
        /* Borrowed from req and ct; e keeps a copy, spent when the executor
         * reports READY (spend_approval_and_go). */
        approval_plan approval = { 0 };
        if (execution_gates(e, req, &approval) != 0)
                return 0;
        return execution_spawn(e, req, &approval);
}
