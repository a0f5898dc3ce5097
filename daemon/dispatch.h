/* dispatch.h — the monitor's request table: for each request type the
 * handler and the role a peer needs. conn.c reaches it only through
 * conn_hooks.request, which the manager points here. */
#pragma once
#include "conn.h"
#include "mon_proto.h"

/* One whole request from c's session (userdata: the manager); takes doc.
 * Checks the peer's role as the config says now, then runs the handler.
 * < 0: the connection ends. */
int dispatch_request(void *userdata, conn *c, mon_request type, csc_json_doc *doc);
