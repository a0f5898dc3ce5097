/* dispatch.c — what each request of the monitor protocol does. The table
 * says which role a peer needs for each request type; the role is checked
 * against the config as it is now, before the handler runs. Handlers parse
 * the typed input (the contract) first, then act, and reply through the
 * connection. A submit goes on to admission (admit.c) and its execution. */
#include <errno.h>
#include <stdio.h>

#include "admit.h"
#include "cleanup.h"
#include "conn.h"
#include "contract.h"
#include "decide.h"
#include "dispatch.h"
#include "execution.h"
#include "keyring.h"
#include "manager.h"
#include "manager_load.h"
#include "manager_status.h"
#include "peer.h"
#include "policy_view.h"

/* An execution's frames go to its connection. */
static const execution_sink conn_sink = {
        .send = conn_send,
        .send_error = conn_send_error,
        .set_execution = conn_set_execution,
};

static int req_check(manager *m, conn *c, const csc_json *req) {
        const csc_json *cj = csc_json_get(req, "contract");
        if (!cj)
                return conn_send_error(c, "invalid_contract", "missing required key \"contract\"", "contract");
        csc_contract *ct = NULL;
        csc_error err = { 0 };
        int r = csc_contract_from_json(cj, &ct, &err);
        if (r < 0)
                return conn_send_error(c, "invalid_contract", err.message, err.path);
        csc_decision d;
        csc_policy *p = m->policy->policy;
        csc_decide(ct, p, &d);
        _cleanup_(csc_json_doc_freep) csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL, *dj = NULL;
        r = o ? csc_decision_to_json(&d, ct, p, CSC_DECISION_VALID_SEC, doc, &dj) : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "type", csc_json_new_string(doc, "decision"));
        r = r ?: csc_json_object_set(doc, o, "decision", dj);
        csc_contract_free(ct);
        if (r < 0)
                return conn_send_error(c, "internal", "cannot build decision", NULL);
        return conn_send(c, o);
}

static int req_status(manager *m, conn *c, const csc_json *req) {
        _cleanup_(csc_json_doc_freep) csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = NULL;
        int r = doc ? manager_status_json(m, doc, &o) : -ENOMEM;
        /* The admission queue: every uid's depth for an admin, else the peer's own. */
        csc_json *aq = NULL;
        const cscd_peer *peer = conn_peer(c);
        bool admin = cscd_peer_roles(peer, m->config) & CSCD_ROLE_ADMIN;
        r = r ?: admit_status_json(m, peer->uid, admin, doc, &aq);
        r = r ?: csc_json_object_set(doc, o, "admission", aq);
        if (r < 0)
                return conn_send_error(c, "internal", "cannot build status", NULL);
        return conn_send(c, o);
}

static int req_reload(manager *m, conn *c, const csc_json *req) {
        char err[2048] = "";
        int r = manager_reload(m, err, sizeof err);
        _cleanup_(csc_json_doc_freep) csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL;
        if (!o)
                return -ENOMEM;
        int q = csc_json_object_set(doc, o, "type", csc_json_new_string(doc, "reload"));
        q = q ?: csc_json_object_set(doc, o, "ok", csc_json_new_bool(doc, r >= 0));
        if (r >= 0)
                q = q ?: csc_json_object_set(doc, o, "policy_sha256", csc_json_new_string(doc, m->policy->policy->sha256));
        else
                q = q ?: csc_json_object_set(doc, o, "error", csc_json_new_string(doc, err));
        return q < 0 ? q : conn_send(c, o);
}

static int req_pubkeys(manager *m, conn *c, const csc_json *req) {
        _cleanup_(csc_json_doc_freep) csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL, *keys = NULL;
        int r = o ? cscd_keyring_json(m->keyring, doc, &keys) : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "type", csc_json_new_string(doc, "pubkeys"));
        r = r ?: csc_json_object_set(doc, o, "keys", keys);
        if (r < 0)
                return conn_send_error(c, "internal", "cannot build pubkeys reply", NULL);
        return conn_send(c, o);
}

static int req_policy(manager *m, conn *c, const csc_json *req) {
        _cleanup_(csc_json_doc_freep) csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = NULL;
        int r = doc ? policy_view_json(m->policy->policy, conn_peer(c), m->config, doc, &o) : -ENOMEM;
        if (r < 0)
                return conn_send_error(c, "internal", "cannot build policy reply", NULL);
        return conn_send(c, o);
}

/* A submit: the contract parses, then admission (before the decision: past
 * the execution caps the submit waits, and nothing is decided, spent or
 * logged for it until it starts, so one dropped while waiting leaves no
 * trace), then its execution. */
static int req_submit(manager *m, conn *c, const csc_json *req) {
        const csc_json *cj = csc_json_get(req, "contract");
        if (!cj)
                return conn_send_error(c, "invalid_contract", "missing required key \"contract\"", "contract");
        const csc_json *aj = csc_json_get(req, "approvals");
        if (aj && aj->type != CSC_JSON_ARRAY)
                return conn_send_error(c, "invalid_approval", "must be an array of approval objects", "approvals");
        if (m->stopping)
                return conn_send_error(c, "busy", "cscd is stopping", NULL);
        csc_contract *ct = NULL;
        csc_error err = { 0 };
        int r = csc_contract_from_json(cj, &ct, &err);
        if (r < 0) {
                char path[CSC_ERROR_PATH_MAX + 16];
                snprintf(path, sizeof path, "%s%s%s", "contract", err.path[0] ? "." : "", err.path);
                return conn_send_error(c, "invalid_contract", err.message, err.path[0] ? err.path : NULL);
        }
        if (conn_hung_up(c)) {
                /* The client cancelled before we read its submit (a hang-up
                 * right behind the frame): start nothing, as for one queued. */
                csc_contract_free(ct);
                return 0;
        }
        r = admit_or_queue(m, &conn_sink, c, req, ct);
        if (r != ADMIT_START)
                return r;   /* queued (the queue holds ct), refused with `busy`, or a failed send */
        return execution_run(m, &conn_sink, c, req, ct);
}

/* The request table: handler and the role a peer needs, by mon_request. */
static const struct {
        int (*handler)(manager *m, conn *c, const csc_json *req);
        unsigned role;       /* 0 = any authenticated peer */
} requests[_MON_REQ_MAX] = {
        [MON_REQ_SUBMIT] =  { req_submit,  CSCD_ROLE_SUBMIT },
        [MON_REQ_CHECK] =   { req_check,   CSCD_ROLE_SUBMIT | CSCD_ROLE_ADMIN },
        [MON_REQ_STATUS] =  { req_status,  0 },
        [MON_REQ_RELOAD] =  { req_reload,  CSCD_ROLE_ADMIN },
        [MON_REQ_PUBKEYS] = { req_pubkeys, 0 },
        [MON_REQ_POLICY] =  { req_policy,  CSCD_ROLE_SUBMIT },
};

int dispatch_request(void *userdata, conn *c, mon_request type, csc_json_doc *doc) {
        manager *m = userdata;
        _cleanup_(csc_json_doc_freep) csc_json_doc *req = doc;
        m->counters.requests++;
        unsigned role = requests[type].role;
        /* Roles as the config says now: a reload that revokes one also ends
         * it on connections that are already open. */
        const cscd_peer *peer = conn_peer(c);
        if (role && !(cscd_peer_roles(peer, m->config) & role))
                return conn_send_error(c, "unauthorized",
                                       peer->uid == 0 && role == CSCD_ROLE_SUBMIT
                                               ? "root may not submit contracts (allow_root_submit is false)"
                                               : "this user is not permitted to make this request",
                                       NULL);
        return requests[type].handler(m, c, csc_json_doc_root(req));
}
