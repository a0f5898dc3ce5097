/* execution_internal.h — one running execution's state, shared by the files
 * of the execution module: submit.c (gates, spawning, the executor's reports
 * and the command's output), execution.c (its place in the manager, its
 * client, freeing it) and execution_receipt.c (signing, logging and
 * delivering the receipt). Not for other modules: they use execution.h. */
#pragma once
#include <linux/limits.h>
#include <sodium.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "approval_gate.h"
#include "decide.h"
#include "egress_link.h"
#include "execution.h"
#include "executor.h"
#include "manager.h"
#include "policy_ref.h"
#include "redact.h"
#include "secrets.h"

enum { OUT_STDOUT, OUT_STDERR };

struct execution {
        manager *m;
        execution *prev, *next;
        const execution_sink *sink;     /* how frames reach c */
        conn *c;                        /* NULL once the client is gone */
        cscd_peer_info peer;
        policy_ref *policy;
        csc_contract *contract;
        csc_decision decision;
        char execution_id[37];
        char cgroup_dir[PATH_MAX];      /* empty: no process cap */
        char **exe_paths;               /* argv[0] of every argv, resolved on the fixed PATH */
        size_t n_exe_paths;
        cscd_secret *secrets;           /* values never leave this struct but to the executor */
        size_t n_secrets;
        redactor *redact;               /* NULL without secrets */
        const char *artifact_path[64];  /* expected outputs produced, in report order */
        char artifact_sha[64][65];
        size_t n_artifacts;
        char started_at[32];
        executor_handle *h;
        sd_event_source *ctl_src, *child_src, *watchdog;
        int out_fd[2];
        sd_event_source *out_src[2];
        crypto_hash_sha256_state hash[2];
        size_t captured[2];
        bool truncated[2];
        bool paused;
        /* progress of the current command */
        size_t cmd;                     /* index of the running command */
        int exit_code;
        char exit_message[256];
        size_t n_completed;
        const char *completed[CSC_MAX_COMMANDS];
        const char *failed_command_id;
        int final_exit;
        bool have_exit;
        bool done_msg, child_exited, cancelled, finished, blocked, watchdog_fired;
        csc_json_doc *receipt_doc;      /* the signed receipt frame, sent once receipts.jsonl has it durably */
        csc_json *receipt_frame;
        approval_plan approval;         /* spent when the executor is READY; n == 0: none needed */
        bool approval_refused;          /* the store refused it (a replay, or it cannot record) */
        egress_session *egress;         /* `allowlisted`: the proxy's view of this execution */
        bool egress_waiting, egress_over;   /* asked the proxy for its last reports; they are in */
        char error[4096];
};

/* Removes output stream i's event source and closes its pipe. */
void execution_close_output(execution *e, int i);
/* Adds "type" to o and sends it to the client, if it is still there. */
int execution_send_frame(execution *e, csc_json_doc *doc, csc_json *o, const char *type);
/* Signs the receipt with status, appends it to receipts.jsonl and logs it;
 * it is sent, and e freed, once the group commit has synced it. Once. */
void execution_finish(execution *e, const char *status);
