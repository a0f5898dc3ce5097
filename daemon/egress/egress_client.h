/* egress_client.h — cscd's side of the control protocol (egress_proto.h):
 * start cscd-egress on a SOCK_SEQPACKET socketpair, send a message (CONN
 * with its descriptor), receive one. Used by cscd and csc-bench; no logging,
 * negative errno on failure. */
#pragma once
#include <sys/types.h>

#include "egress_proto.h"

/* Forks and executes path as egress_client_spawn() does, without waiting:
 * the caller reads READY from *ret_ctl itself (an event loop). */
int egress_client_start(const char *path, const char *user, pid_t *ret_pid, int *ret_ctl);

/* Forks and executes path with the control socket as descriptor 3 (every
 * other descriptor closed), as `path --control-fd 3 [--user user]`, then
 * waits up to timeout_ms for READY. On success *ret_pid is the proxy and
 * *ret_ctl the daemon's end (blocking, close-on-exec). -ETIMEDOUT, -EPROTO
 * (no READY, or another version), -ECHILD (it exited), or from the calls. */
int egress_client_spawn(const char *path, const char *user, int timeout_ms, pid_t *ret_pid, int *ret_ctl);

/* Sends m, with fd attached when fd >= 0 (the caller keeps its copy). -EAGAIN
 * when ctl is non-blocking and the queue is full, -EPIPE when the proxy is gone. */
int egress_client_send(int ctl, const egress_msg *m, int fd);

/* Sends one already encoded message (egress_msg_encode), as egress_client_send. */
int egress_client_send_bytes(int ctl, const void *data, size_t len, int fd);

/* Receives and decodes one message from the proxy into *ret (large: allocate
 * it). -EAGAIN (non-blocking, nothing yet), -ECONNRESET (the proxy closed or
 * died), -EBADMSG/-EMSGSIZE/-EPROTO/-EILSEQ for a message that does not
 * decode, or that carries descriptors (which are closed). */
int egress_client_recv(int ctl, egress_msg *ret);
