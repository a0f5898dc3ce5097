/* egress_link.h — cscd's side of `network: allowlisted`: it keeps
 * cscd-egress running (started with the first allowlisted execution,
 * restarted when it dies or stops reading its control socket) and
 * moves each allowlisted execution's connections to it.
 *
 * cscd parses none of the proxied bytes: it accepts on the listener the
 * executor made inside the sandbox's network namespace and passes each
 * accepted descriptor to the proxy (egress_proto.h, CONN). The proxy answers
 * with one REPORT per connection and EXEC_DONE after EXEC_END; those are the
 * connection list beside the receipt and the receipt's network_used.
 *
 * Fail closed: while the proxy is down, accepted connections are closed at
 * once; an execution whose proxy died ends without waiting for it. */
#pragma once
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "buf.h"
#include "config.h"
#include "contract.h"

/* After EXEC_END, how long an execution waits for the proxy's EXEC_DONE
 * (its last REPORTs) before its receipt is signed without them. */
#define EGRESS_LINK_DONE_WAIT_USEC (2 * 1000 * 1000ULL)
/* Restart delays after the proxy dies: from the first to the last, doubling. */
#define EGRESS_LINK_RESTART_MIN_USEC (250 * 1000ULL)
#define EGRESS_LINK_RESTART_MAX_USEC (30 * 1000 * 1000ULL)
/* How long a started proxy may take to say READY before it is killed. */
#define EGRESS_LINK_READY_USEC (10 * 1000 * 1000ULL)
/* Control messages queued while the proxy's socket is full; past it, or
 * when nothing waiting moved for EGRESS_LINK_STALL_USEC, the proxy is
 * considered stuck: killed and restarted. */
#define EGRESS_LINK_OUT_MAX 4096
#define EGRESS_LINK_STALL_USEC (10 * 1000 * 1000ULL)
/* After accept4 fails for want of descriptors or memory, accepting pauses this long. */
#define EGRESS_LINK_ACCEPT_RETRY_USEC (100 * 1000ULL)
/* Connections accepted per listener wakeup (the loop serves others between). */
#define EGRESS_LINK_ACCEPT_BURST 64

typedef struct egress_link egress_link;
typedef struct egress_session egress_session;

/* Starts the proxy of config (egress_proxy, egress_user, egress_allow_private)
 * on ev. Failing to start is not fatal: it is logged and retried, and
 * allowlisted executions fail closed meanwhile. */
int egress_link_new(sd_event *ev, const cscd_config *config, egress_link **ret);
/* Closes the control socket (the proxy exits) and every session's link to it. */
egress_link *egress_link_free(egress_link *l);
/* A reload: the new egress_allow_private goes to the running proxy; a new
 * binary or user takes effect at the next restart. */
void egress_link_reconfigure(egress_link *l, const cscd_config *config);
/* For status: {"proxy": "not started"|"starting"|"ready"|"down", "pid",
 * "starts", "executions"} (the executions registered with it now). */
int egress_link_status_json(const egress_link *l, csc_json_doc *doc, csc_json **ret);

/* Whether every entry of a policy's allowed_egress_hosts is one the proxy
 * takes (egress_match.h); -EINVAL with why naming the first that is not. */
int egress_hosts_check(const csc_strv *hosts, char *why, size_t why_size);

/* One allowlisted execution. hosts: the policy's allowed_egress_hosts. */
int egress_session_new(egress_link *l, const char *execution_id, const csc_strv *hosts, egress_session **ret);
/* Takes fds[0] and fds[1] (when >= 0), the listening sockets from the
 * executor, and accepts on them. -EPROTO when s is NULL (no execution of
 * ours asked for one) or already has its listeners; both are closed then.
 * A failure to watch one is logged here. */
int egress_session_add_listeners(egress_session *s, const int fds[2]);
/* The commands are over: closes the listeners, sends EXEC_END and calls
 * done(userdata) once EXEC_DONE arrives, the proxy is gone or refuses it, or
 * EGRESS_LINK_DONE_WAIT_USEC passes (never from inside this call). A
 * negative errno when it cannot wait (done is then never called: go on). */
int egress_session_end(egress_session *s, void (*done)(void *userdata), void *userdata);
egress_session *egress_session_free(egress_session *s);
/* Whether the proxy allowed at least one connection, or died holding one
 * it had not reported (then it may have been allowed: true). */
bool egress_session_network_used(const egress_session *s);
/* Appends `"egress":{...},` (the connection list and totals) for receipts.jsonl. */
int egress_session_write_json(const egress_session *s, csc_buf *b);
