/* sandbox_egress.h — the sandbox's end of `network: allowlisted`: loopback up
 * in the sandbox's own network namespace, a listening socket on
 * 127.0.0.1:CSCD_EGRESS_PORT (and [::1] when the namespace has IPv6) that the
 * executor hands to the daemon, the proxy variables of a command's
 * environment. See docs/egress.md. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "contract.h"

/* The one port of the proxy inside every sandbox: HTTP CONNECT, plain
 * http:// and SOCKS5 all arrive here (the first byte tells them apart). */
#define CSCD_EGRESS_PORT 3128
#define CSCD_EGRESS_BACKLOG 128

/* Whether any command of ct asks for `allowlisted`. */
bool sandbox_egress_wanted(const csc_contract *ct);

/* Before anything is spawned: 1 with why set when ct has an `allowlisted`
 * command and either a `full` one (the sandbox's network namespace is shared
 * by every command, so the two cannot meet) or unavailable is true (cscd
 * runs without CAP_NET_ADMIN), else 0. */
int sandbox_egress_gate(const csc_contract *ct, bool unavailable, char *why, size_t why_size);

/* In the executor, as root in the sandbox's new network namespace: brings
 * `lo` up and listens on 127.0.0.1 and, when the namespace has IPv6, ::1.
 * fds[1] is -1 without IPv6. 0, or -errno (nothing left open). */
int sandbox_egress_listen(int fds[2]);

typedef struct sandbox_egress_var {
        const char *name, *value;
} sandbox_egress_var;

/* The proxy variables of an allowlisted command, ending in { NULL, NULL }.
 * The plan sets them after the client's names, so a contract's env_allow
 * cannot override them. */
const sandbox_egress_var *sandbox_egress_env(void);
