/* audit.h — the durable record of what cscd did: receipts.jsonl in the state
 * dir (one signed receipt per line, with the peer beside it, durable before
 * the receipt is sent: receipts appended in one event-loop pass share one
 * fdatasync, a group commit) and structured journal entries. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "contract.h"
#include "csc_limits.h"   /* CSC_AUDIT_COMMIT_MAX_DELAY_USEC */
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
/* Appends {"commands":[{id, argv|pipeline, cwd}…],"peer":{"uid","gid","pid"},
 * "receipt":…} as one canonical JSON line: the commands that ran beside
 * their signed receipt. ct may be NULL (then no "commands"). */
int cscd_audit_append(cscd_audit *a, const csc_json *receipt, const csc_contract *ct, const cscd_peer_info *peer);
/* Group commit. cscd_audit_append_later writes the line as cscd_audit_append
 * does but without the fdatasync; done(userdata, r) runs later, after ONE
 * fdatasync that covers every line appended since the last (r < 0: that sync
 * failed, the line may not be on disk). The commit runs from a deferred
 * source at idle priority, i.e. once the events that were ready together
 * (executions ending at the same time) have all been handled, and at the
 * latest after CSC_AUDIT_COMMIT_MAX_DELAY_USEC (a timer at normal priority),
 * so a stream of other events (a command's busy output) cannot hold a
 * receipt back. Returns < 0, and never calls done, when the line could
 * not be written. Without an event loop (cscd_audit_set_event not called)
 * it syncs at once and calls done before it returns. extra, when not NULL,
 * is canonical `"key":value,` text placed after "commands" (the egress
 * connection list: "egress" sorts between "commands" and "peer"). */
typedef void (*cscd_audit_durable_fn)(void *userdata, int r);
int cscd_audit_set_event(cscd_audit *a, sd_event *event);
int cscd_audit_append_later(cscd_audit *a, const csc_json *receipt, const csc_contract *ct, const cscd_peer_info *peer,
                            const char *extra,
                            cscd_audit_durable_fn done, void *userdata);
/* Drops a pending done for userdata (it is being freed before its commit). */
void cscd_audit_forget(cscd_audit *a, void *userdata);
/* Reopens receipts.jsonl by name in the state dir (after a rotation renamed
 * it); the old descriptor is closed only once the new one is open, and after
 * the lines written to it but not yet synced are (the group commit reports
 * that sync's failure). */
int cscd_audit_reopen(cscd_audit *a);

/* MESSAGE_IDs, one per event type (journalctl MESSAGE_ID=…). */
#define CSCD_MESSAGE_DECISION "54d7e454a5b040448ba708ce46a69412"
#define CSCD_MESSAGE_RECEIPT  "12f30d9ff34641f4911e70d38531487b"
#define CSCD_MESSAGE_REFUSED  "97456283e4da427883113792dfa160b4"
#define CSCD_MESSAGE_DEGRADED "9a6dac894a10430884ba9b61ba708723"

/* Journal entries with the design's fields (CSC_CONTRACT_ID, CSC_EXECUTION_ID,
 * CSC_DECISION / CSC_STATUS, CSC_PEER_UID, CSC_PEER_PID) plus CSC_ARGV (every
 * command's argv, shell-quoted, truncated at CSC_AUDIT_ARGV_MAX), CSC_CWD and
 * MESSAGE_ID. Without journald (cscd run by hand) the same line goes to
 * stderr with the fields spelled out. */
void cscd_journal_decision(const cscd_audit *a, const csc_contract *ct, const char *execution_id,
                           const char *decision, const char *code, const char *reason, const cscd_peer_info *peer);
void cscd_journal_receipt(const cscd_audit *a, const csc_contract *ct, const char *execution_id, const char *status,
                          int exit_code, const char *error, const cscd_peer_info *peer);
/* A refused request (error frame): code, reason, uid, pid; at most
 * CSC_AUDIT_REFUSED_BURST lines per uid per CSC_AUDIT_REFUSED_WINDOW_SEC, then
 * one line saying how many were suppressed. a may be NULL (before the state
 * dir is open): then nothing is logged. */
void cscd_audit_refused(cscd_audit *a, uid_t uid, pid_t pid, const char *code, const char *reason);
/* A sandbox or hardening layer that is weaker than designed, at start. */
void cscd_journal_degraded(const cscd_audit *a, const char *layer, const char *why);
