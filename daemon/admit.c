/* admit.c — the admission queue wired to the daemon. A valid submit that
 * finds max_executions or max_executions_per_peer reached waits here instead
 * of being refused: FIFO within its uid, round-robin across uids, at most
 * max_queued of them (and CSC_ADMISSION_MAX_BYTES of request frames); past
 * that it gets `busy`. It waits before its decision: nothing is decided,
 * spent or logged for it until it starts, so one whose client leaves (or
 * sends another request) is simply dropped, with no receipt. Slots freed by
 * ending executions are handed out from a deferred event source. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission.h"
#include "admit.h"
#include "cleanup.h"
#include "log.h"

struct queued_submit {
        manager *m;
        const execution_sink *sink;  /* how the execution, once started, reaches c */
        conn *c;
        admission_entry *entry;
        csc_contract *ct;
        csc_json_doc *extra;        /* what run needs of the request besides the contract: approvals, env */
};

static bool may_start(uid_t uid, void *userdata) {
        const manager *m = userdata;
        return m->n_executions < m->config->max_executions &&
               execution_count_of_uid(m, uid) < m->config->max_executions_per_peer;
}

int admit_init(manager *m) {
        return admission_new(&m->admission);
}

static queued_submit *queued_free(queued_submit *q) {
        csc_contract_free(q->ct);
        csc_json_doc_free(q->extra);
        free(q);
        return NULL;
}

/* {"approvals": …, "env": …} as the request had them (absent stays absent). */
static int copy_extra(const csc_json *req, csc_json_doc **ret) {
        static const char *const keys[] = { "approvals", "env" };
        _cleanup_(csc_json_doc_freep) csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL;
        int r = o ? 0 : -ENOMEM;
        for (size_t i = 0; i < sizeof keys / sizeof *keys && r == 0; i++) {
                const csc_json *v = csc_json_get(req, keys[i]);
                if (v) {
                        csc_json *copy = csc_json_copy(doc, v);
                        r = copy ? csc_json_object_set(doc, o, keys[i], copy) : -ENOMEM;
                }
        }
        if (r < 0)
                return r;
        csc_json_doc_set_root(doc, o);
        *ret = TAKE_PTR(doc);
        return 0;
}

int admit_or_queue(manager *m, const execution_sink *sink, conn *c, const csc_json *req, csc_contract *ct) {
        uid_t uid = conn_peer(c)->uid;
        /* Start now only when no one who waits could start instead: the
         * queue's order holds even in the pass before admit_kick runs. */
        if (may_start(uid, m) && !admission_can_pop(m->admission, may_start, m))
                return ADMIT_START;
        queued_submit *q = calloc(1, sizeof *q);
        int r = q ? copy_extra(req, &q->extra) : -ENOMEM;
        if (r == 0)
                r = admission_push(m->admission, uid, q, conn_request_bytes(c), m->config->max_queued, &q->entry);
        if (r < 0) {
                csc_contract_free(ct);
                if (q)
                        queued_free(q);
                if (r != -ENOSPC)
                        return conn_send_error(c, "internal", "out of memory", NULL);
                m->counters.busy++;
                char msg[256];
                snprintf(msg, sizeof msg, "too many executions running and the admission queue is full "
                         "(max_queued is %u, %zu waiting); retry later", m->config->max_queued,
                         admission_depth(m->admission));
                return conn_send_error(c, "busy", msg, NULL);
        }
        q->m = m;
        q->sink = sink;
        q->c = c;
        q->ct = ct;
        conn_set_queued(c, q);
        m->counters.queued++;
        admit_kick(m);
        return ADMIT_HELD;
}

static int on_admit(sd_event_source *s, void *userdata) {
        manager *m = userdata;
        queued_submit *q;
        while (!m->stopping && (q = admission_pop(m->admission, may_start, m))) {
                conn *c = q->c;
                csc_contract *ct = q->ct;
                q->ct = NULL;
                conn_set_queued(c, NULL);
                /* Roles as the config says now: a reload while it waited may
                 * have revoked the submit role. A failure to send is the
                 * connection's: its io handler sees it. */
                if (conn_hung_up(c)) {
                        /* Gone while it waited (its hang-up not handled yet): start
                         * nothing for it; the io handler frees the connection. */
                        csc_contract_free(ct);
                        m->counters.queue_dropped++;
                } else if (!(cscd_peer_roles(conn_peer(c), m->config) & CSCD_ROLE_SUBMIT)) {
                        csc_contract_free(ct);
                        m->counters.queue_dropped++;
                        (void) conn_send_error(c, "unauthorized", "this user may no longer submit contracts "
                                               "(a reload revoked the role while the submit waited)", NULL);
                } else
                        (void) execution_run(m, q->sink, c, csc_json_doc_root(q->extra), ct);
                queued_free(q);
        }
        return 0;
}

void admit_kick(manager *m) {
        if (!m->admission || admission_depth(m->admission) == 0)
                return;
        int r = m->admit_src ? sd_event_source_set_enabled(m->admit_src, SD_EVENT_ONESHOT)
                             : sd_event_add_defer(m->event, &m->admit_src, on_admit, m);
        if (r < 0)
                log_error("cannot schedule queued submits: %s", strerror(-r));
}

void admit_drop(queued_submit *q, const char *why) {
        manager *m = q->m;
        (void) admission_remove(m->admission, q->entry);
        log_info("dropped a queued submit of uid %u: %s", (unsigned) conn_peer(q->c)->uid, why);
        conn_set_queued(q->c, NULL);
        m->counters.queue_dropped++;
        queued_free(q);
}

static bool any_uid(uid_t uid, void *userdata) {
        return true;
}

void admit_refuse_all(manager *m, const char *why) {
        queued_submit *q;
        while (m->admission && (q = admission_pop(m->admission, any_uid, NULL))) {
                conn *c = q->c;
                conn_set_queued(c, NULL);
                m->counters.queue_dropped++;
                queued_free(q);
                (void) conn_send_error(c, "busy", why, NULL);
        }
}

typedef struct uid_rows {
        csc_json_doc *doc;
        csc_json *arr;
        uid_t viewer;
        bool all;
} uid_rows;

static int add_uid_row(uid_t uid, size_t depth, void *userdata) {
        uid_rows *u = userdata;
        if (!u->all && uid != u->viewer)
                return 0;
        csc_json *o = csc_json_new_object(u->doc);
        int r = o ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(u->doc, o, "uid", csc_json_new_int(u->doc, (int64_t) uid));
        r = r ?: csc_json_object_set(u->doc, o, "queued", csc_json_new_int(u->doc, (int64_t) depth));
        return r ?: csc_json_array_append(u->doc, u->arr, o);
}

int admit_status_json(manager *m, uid_t viewer, bool all_uids, csc_json_doc *doc, csc_json **ret) {
        csc_json *o = csc_json_new_object(doc);
        uid_rows u = { doc, csc_json_new_array(doc), viewer, all_uids };
        int r = o && u.arr ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "queued", csc_json_new_int(doc, (int64_t) admission_depth(m->admission)));
        r = r ?: csc_json_object_set(doc, o, "max_queued", csc_json_new_int(doc, m->config->max_queued));
        r = r ?: admission_foreach_uid(m->admission, add_uid_row, &u);
        r = r ?: csc_json_object_set(doc, o, "by_uid", u.arr);
        r = r ?: csc_json_object_set(doc, o, "queued_total", csc_json_new_int(doc, (int64_t) m->counters.queued));
        r = r ?: csc_json_object_set(doc, o, "dropped", csc_json_new_int(doc, (int64_t) m->counters.queue_dropped));
        if (r < 0)
                return r;
        *ret = o;
        return 0;
}

void admit_free(manager *m) {
        m->admit_src = sd_event_source_disable_unref(m->admit_src);
        m->admission = admission_free(m->admission);
}
