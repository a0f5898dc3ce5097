/* execution_receipt.c — the end of an execution: its signed receipt, built
 * from what submit.c gathered, made durable in receipts.jsonl (with the
 * egress connection list beside it), journaled, counted, then sent as the
 * last frame. */
#include <errno.h>
#include <string.h>

#include "audit.h"
#include "build-config.h"
#include "canon.h"
#include "cleanup.h"
#include "execution.h"
#include "execution_internal.h"
#include "log.h"
#include "receipt.h"
#include "sign.h"
#include "timefmt.h"

static void count_outcome(execution *e, const char *status);

/* The group commit made the receipt durable (or its fdatasync failed, which
 * is logged: fail visible, as a failed append): now the client gets it, as
 * the last frame, and the execution ends. */
static void receipt_durable(void *userdata, int r) {
        execution *e = userdata;
        if (r < 0)
                log_error("execution %s: cannot make the receipt durable in receipts.jsonl (fdatasync): %s",
                          e->execution_id, strerror(-r));
        if (e->receipt_frame)
                (void) execution_send_frame(e, e->receipt_doc, e->receipt_frame, "receipt");
        execution_free(e);
}

/* The receipts.jsonl line, with the egress connection list beside the receipt. */
static int append_receipt(execution *e, const csc_json *rc) {
        _cleanup_(csc_buf_free) csc_buf egress = CSC_BUF_INIT;
        if (e->egress && egress_session_write_json(e->egress, &egress) < 0)
                log_error("execution %s: cannot record its egress connections", e->execution_id);
        return cscd_audit_append_later(e->m->audit, rc, e->contract, &e->peer, egress.len ? egress.data : NULL,
                                       receipt_durable, e);
}

/* "sha256:<hex>" of what a stream carried. */
static void stream_hash(crypto_hash_sha256_state *h, char ret[72]) {
        unsigned char d[32];
        crypto_hash_sha256_final(h, d);
        memcpy(ret, "sha256:", 7);
        csc_hex32(d, ret + 7);
}

/* Signs the receipt, appends it to receipts.jsonl and logs it; it is sent
 * (receipt_durable) once the group commit has synced it. */
void execution_finish(execution *e, const char *status) {
        if (e->finished)
                return;
        e->finished = true;
        manager *m = e->m;
        char ended[32], so[72], se[72];
        csc_time_now(ended);
        stream_hash(&e->hash[OUT_STDOUT], so);
        stream_hash(&e->hash[OUT_STDERR], se);
        const csc_policy *p = e->policy->policy;
        bool ran = strcmp(status, "blocked") != 0;
        if (e->blocked)                 /* the sandbox refused a declared path at run time */
                e->final_exit = 126;
        const char *shas[64];
        for (size_t i = 0; i < e->n_artifacts; i++)
                shas[i] = e->artifact_sha[i];
        csc_receipt_info info = {
                .contract_id = e->contract->contract_id,
                .execution_id = e->execution_id,
                .contract_sha256 = e->contract->sha256,
                .status = status,
                .started_at = e->started_at,
                .ended_at = ended,
                .policy_profile = p->name,
                .has_exit = ran || e->blocked,
                .exit_code = e->final_exit,
                .stdout_hash = so,
                .stderr_hash = se,
                .stdout_truncated = e->truncated[OUT_STDOUT],
                .stderr_truncated = e->truncated[OUT_STDERR],
                .policy_schema_version = "csc.policy.v0.1",
                .policy_sha256 = p->sha256,
                .runner_version = "cscd " CSC_VERSION,
                .execution_mode = "hardened",
                .sandbox_profile_id = "cscd-v1",
                .signing_key_id = csc_signing_key_id(m->key),
                .completed_command_ids = e->completed,
                .n_completed = e->n_completed,
                .failed_command_id = e->failed_command_id,
                .error = e->error[0] ? e->error : NULL,
                .artifact_paths = e->artifact_path,
                .artifact_sha256 = shas,
                .n_artifacts = e->n_artifacts,
                /* `allowlisted` only; files_written: the expected outputs produced */
                .has_effect_summary = e->egress != NULL,
                .network_used = egress_session_network_used(e->egress),
                .files_written = (int64_t)e->n_artifacts,
                .secrets_used = (int64_t)e->n_secrets,
        };
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *rc = NULL, *frame = NULL;
        csc_error err = { 0 };
        int r = doc ? csc_receipt_build(doc, &info, &rc) : -ENOMEM;
        r = r ?: csc_sign_object(doc, rc, m->key, ended, &err);
        if (r < 0) {
                log_error("execution %s: cannot build or sign the receipt: %s", e->execution_id, strerror(-r));
                if (e->c)
                        e->sink->send_error(e->c, "internal", "cannot sign the receipt", NULL);
        } else {
                frame = csc_json_new_object(doc);
                if (frame && csc_json_object_set(doc, frame, "receipt", rc) >= 0) {
                        e->receipt_doc = TAKE_PTR(doc);
                        e->receipt_frame = frame;
                }
                cscd_journal_receipt(m->audit, e->contract, e->execution_id, status,
                                     ran ? e->final_exit : -1, e->error, &e->peer);
        }
        count_outcome(e, status);
        /* Durable first: when the client holds the receipt, receipts.jsonl
         * has it. The line is written now (rc is alive); the receipts
         * finished in this loop pass share one fdatasync, then go out. */
        int a = r >= 0 ? append_receipt(e, rc) : r;
        csc_json_doc_free(doc);
        if (a < 0) {
                if (r >= 0)
                        log_error("execution %s: cannot append the receipt to receipts.jsonl: %s",
                                  e->execution_id, strerror(-a));
                receipt_durable(e, 0);
        }
}

static void count_outcome(execution *e, const char *status) {
        manager *m = e->m;
        if (strcmp(status, "success") == 0)
                m->counters.success++;
        else if (strcmp(status, "blocked") == 0)
                m->counters.blocked++;
        else if (e->cancelled)
                m->counters.cancelled++;
        else
                m->counters.failed++;
}
