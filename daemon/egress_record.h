/* egress_record.h — what one allowlisted execution did through the egress
 * proxy: the proxy's REPORTs (one per connection, at most
 * EGRESS_RECORD_LIST_MAX listed, the rest counted), its EXEC_DONE totals,
 * and what cscd itself saw (connections handed over, refused while the proxy
 * was away, the proxy lost). Written beside the receipt in receipts.jsonl. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "egress/egress_proto.h"

#define EGRESS_RECORD_LIST_MAX 256

typedef struct egress_conn_record egress_conn_record;

typedef struct egress_record {
        uint32_t allowed, denied;
        uint64_t bytes_up, bytes_down;
        unsigned refused;               /* connections closed because the proxy was not there */
        unsigned passed, reported;      /* connections handed to the proxy; REPORTs back */
        bool proxy_lost;                /* the proxy died while the execution ran */
        bool got_done;                  /* EXEC_DONE arrived */
        bool registered;                /* the proxy took the execution (EXEC_BEGIN sent) */
        bool touched;                   /* a connection not counted as allowed still reached its host */
        egress_conn_record *list;
        size_t n_list, not_listed;
} egress_record;

void egress_record_report(egress_record *r, const egress_msg_report *m);
/* EXEC_DONE's totals, unless the proxy was lost meanwhile (then the new
 * proxy knows only its part, and the REPORTs summed here are better). */
void egress_record_done(egress_record *r, const egress_msg_exec_done *m);
/* Connections the proxy took but never reported: it died with them open,
 * or its EXEC_DONE did not come in time. */
unsigned egress_record_unreported(const egress_record *r);
/* Allowed at least one connection, reported one that reached its host with
 * bytes moved (a late SNI refusal, a relay failure), or took one it never
 * reported (it may have been allowed): a receipt may over-report the
 * network, never under-report it. */
bool egress_record_network_used(const egress_record *r);
/* Appends `"egress":{...},`: canonical JSON for receipts.jsonl. */
int egress_record_write_json(const egress_record *r, csc_buf *b);
void egress_record_clear(egress_record *r);
