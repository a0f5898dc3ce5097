/* audit.h — the durable record of what cscd did: receipts.jsonl in the state
 * dir (one signed receipt per line, with the peer beside it, fdatasync'd before
 * the call returns) and structured journal entries. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "json.h"
#include "peer.h"

typedef struct cscd_audit cscd_audit;

/* Creates state_dir (0700) if missing, refuses one that group/others can
 * write, and opens receipts.jsonl for appending. */
int cscd_audit_open(const char *state_dir, cscd_audit **ret, csc_error *err);
cscd_audit *cscd_audit_free(cscd_audit *a);
/* True when the file ended in a partial line at open (a crash mid-write);
 * *offset is where that line starts. The next append starts a new line. */
bool cscd_audit_torn_tail(const cscd_audit *a, uint64_t *offset);
/* Appends {"peer":{"uid","gid","pid"},"receipt":…} as one canonical JSON line. */
int cscd_audit_append(cscd_audit *a, const csc_json *receipt, const cscd_peer_info *peer);

/* Journal entries with the design's fields (CSC_CONTRACT_ID, CSC_EXECUTION_ID,
 * CSC_DECISION / CSC_STATUS, CSC_PEER_UID, CSC_PEER_PID). */
void cscd_journal_decision(const char *contract_id, const char *execution_id, const char *decision,
                           const char *code, const char *reason, const cscd_peer_info *peer);
void cscd_journal_receipt(const char *contract_id, const char *execution_id, const char *status, int exit_code,
                          const char *error, const cscd_peer_info *peer);
