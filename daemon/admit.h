/* admit.h — the admission queue (admission.c) wired to the daemon: a valid
 * submit that finds the execution caps reached waits here, and starts from a
 * deferred event source once a slot is free. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

#include "conn.h"
#include "contract.h"
#include "execution.h"
#include "json.h"
#include "manager.h"

int admit_init(manager *m);
/* ADMIT_START: the submit may start now (ct stays the caller's).
 * ADMIT_HELD (0): it waits in the queue, which took ct, or the queue is full
 * and it was refused with `busy` (ct freed). < 0: the connection failed.
 * A queued submit later runs with sink and c (execution_run). */
enum { ADMIT_HELD = 0, ADMIT_START = 1 };
int admit_or_queue(manager *m, const execution_sink *sink, conn *c, const csc_json *req, csc_contract *ct);
/* A slot may have become free: start queued submits (deferred). */
void admit_kick(manager *m);
/* The client of a queued submit left (or broke the protocol): drop it. */
void admit_drop(queued_submit *q, const char *why);
/* cscd is stopping: every queued submit is refused with `busy`. */
void admit_refuse_all(manager *m, const char *why);
/* {"queued": n, "max_queued": n, "by_uid": [{"uid", "queued"}…]} — by_uid
 * lists every uid for an admin, else only the viewer's own. */
int admit_status_json(manager *m, uid_t viewer, bool all_uids, csc_json_doc *doc, csc_json **ret);
void admit_free(manager *m);
