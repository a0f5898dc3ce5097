/* manager_status.h — the daemon's status reply, built from the Manager's state. */
#pragma once
#include "json.h"
#include "manager.h"

/* The status reply object in doc: version, uptime, policy, key, executions,
 * connections and their limits, outcome counters, approval store, sandbox
 * layers and the egress proxy. 0 or -ENOMEM. */
int manager_status_json(manager *m, csc_json_doc *doc, csc_json **ret);
