/* execution.c — an execution's life in the manager: linked into its list
 * while it runs, told about its client's back-pressure and departure, and
 * freed (with everything it holds) once its receipt is out. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "audit.h"
#include "cgroup_reap.h"
#include "exec_path.h"
#include "execution.h"
#include "execution_internal.h"
#include "policy_ref.h"

int execution_send_frame(execution *e, csc_json_doc *doc, csc_json *o, const char *type) {
        int r = csc_json_object_set(doc, o, "type", csc_json_new_string(doc, type));
        if (r >= 0 && e->c)
                r = e->sink->send(e->c, o);
        return r;
}

void execution_close_output(execution *e, int i) {
        e->out_src[i] = sd_event_source_disable_unref(e->out_src[i]);
        if (e->out_fd[i] >= 0)
                close(e->out_fd[i]);
        e->out_fd[i] = -1;
}

void execution_set_paused(execution *e, bool paused) {
        if (!e->c)
                paused = false;   /* nobody left to wait for: drain */
        if (e->paused == paused)
                return;
        e->paused = paused;
        for (int i = 0; i < 2; i++)
                if (e->out_src[i])
                        sd_event_source_set_enabled(e->out_src[i], paused ? SD_EVENT_OFF : SD_EVENT_ON);
}

bool execution_receipt_pending(const execution *e) {
        return e->finished;
}

void execution_cancel(execution *e, const char *why) {
        e->c = NULL;
        execution_set_paused(e, false);   /* a stalled client must not keep the pipes unread */
        if (e->cancelled)
                return;
        e->cancelled = true;
        snprintf(e->error, sizeof e->error, "cancelled: %s", why);
        if (e->h)
                executor_kill(e->h);
}

void execution_kill_all(manager *m, const char *why) {
        for (execution *e = m->executions; e; e = e->next)
                if (e->h && !e->cancelled) {
                        e->cancelled = true;
                        snprintf(e->error, sizeof e->error, "cancelled: %s", why);
                        executor_kill(e->h);
                }
}

execution *execution_free(execution *e) {
        if (!e)
                return NULL;
        manager *m = e->m;
        if (e->prev)
                e->prev->next = e->next;
        else if (m->executions == e)
                m->executions = e->next;
        if (e->next)
                e->next->prev = e->prev;
        m->n_executions--;
        for (int i = 0; i < 2; i++)
                execution_close_output(e, i);
        sd_event_source_disable_unref(e->ctl_src);
        sd_event_source_disable_unref(e->child_src);
        sd_event_source_disable_unref(e->watchdog);
        if (e->h) {
                executor_kill(e->h);
                executor_handle_free(e->h, m->freeing ? NULL : m->event);
        }
        if (e->cgroup_dir[0])
                cgroup_reaper_remove(m->cgroup_reaper, e->cgroup_dir);
        cscd_secrets_free(e->secrets, e->n_secrets);
        exec_paths_free(e->exe_paths, e->n_exe_paths);
        approval_plan_clear(&e->approval);
        egress_session_free(e->egress);
        redactor_free(e->redact);
        cscd_audit_forget(m->audit, e);
        csc_json_doc_free(e->receipt_doc);
        if (e->c)
                e->sink->set_execution(e->c, NULL);
        csc_contract_free(e->contract);
        policy_ref_put(e->policy);
        free(e);
        m->execution_freed(m);   /* a slot is free */
        return NULL;
}

unsigned execution_count_of_uid(const manager *m, uid_t uid) {
        unsigned n = 0;
        for (const execution *e = m->executions; e; e = e->next)
                n += e->peer.uid == uid;
        return n;
}
