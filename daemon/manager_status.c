/* manager_status.c — what `cscctl status` shows of the running daemon. */
#include <errno.h>
#include <string.h>

#include "approval_store.h"
#include "build-config.h"
#include "cgroup.h"
#include "cgroup_reap.h"
#include "egress_link.h"
#include "keyring.h"
#include "manager_status.h"
#include "warm_pool.h"
#include "policy_ref.h"
#include "timefmt.h"

/* status.sandbox: the layers in force, and the ones weaker than designed. */
/* status.sandbox.warm_pool: how deep each pool should be and is, and how
 * submits were served. */
static int warm_pool_status_json(const warm_pool *p, csc_json_doc *doc, csc_json **ret) {
        warm_pool_stats st;
        warm_pool_stats_get(p, &st);
        csc_json *o = csc_json_new_object(doc), *ready = csc_json_new_object(doc), *want = csc_json_new_object(doc);
        int r = o && ready && want ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "warm_sandboxes", csc_json_new_int(doc, st.target));
        r = r ?: csc_json_object_set(doc, o, "off", st.off ? csc_json_new_string(doc, st.off) : csc_json_new_null(doc));
        r = r ?: csc_json_object_set(doc, ready, "own_network", csc_json_new_int(doc, (int64_t) st.ready[1]));
        r = r ?: csc_json_object_set(doc, ready, "host_network", csc_json_new_int(doc, (int64_t) st.ready[0]));
        r = r ?: csc_json_object_set(doc, want, "own_network", csc_json_new_int(doc, (int64_t) st.want[1]));
        r = r ?: csc_json_object_set(doc, want, "host_network", csc_json_new_int(doc, (int64_t) st.want[0]));
        r = r ?: csc_json_object_set(doc, o, "ready", ready);
        r = r ?: csc_json_object_set(doc, o, "depth", want);
        r = r ?: csc_json_object_set(doc, o, "served_warm", csc_json_new_int(doc, (int64_t) st.served_warm));
        r = r ?: csc_json_object_set(doc, o, "served_cold", csc_json_new_int(doc, (int64_t) st.served_cold));
        r = r ?: csc_json_object_set(doc, o, "made", csc_json_new_int(doc, (int64_t) st.made));
        r = r ?: csc_json_object_set(doc, o, "lost", csc_json_new_int(doc, (int64_t) st.lost));
        if (r < 0)
                return r;
        *ret = o;
        return 0;
}

static int sandbox_status_json(manager *m, csc_json_doc *doc, csc_json **ret) {
        const char *why;
        const char *mode = cscd_cgroups_mode(m->cgroups, &why);
        csc_json *sb = csc_json_new_object(doc);
        int r = sb ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, sb, "process_cap", csc_json_new_string(doc, mode));
        if (strcmp(mode, "none") == 0)
                r = r ?: csc_json_object_set(doc, sb, "process_cap_missing", csc_json_new_string(doc, why));
        else
                r = r ?: csc_json_object_set(doc, sb, "pids_max", csc_json_new_int(doc, (int64_t) m->config->pids_max));
        r = r ?: csc_json_object_set(doc, sb, "memory_cap",
                                     cscd_cgroups_memory(m->cgroups)
                                             ? csc_json_new_int(doc, (int64_t) m->config->memory_max_bytes)
                                             : csc_json_new_null(doc));
        r = r ?: csc_json_object_set(doc, sb, "cgroups_being_removed",
                                     csc_json_new_int(doc, (int64_t) cgroup_reaper_pending(m->cgroup_reaper)));
        r = r ?: csc_json_object_set(doc, sb, "seccomp", csc_json_new_bool(doc, m->filter_deny_net.insns != NULL));
        csc_json *pool = NULL;
        r = r ?: warm_pool_status_json(m->warm, doc, &pool);
        r = r ?: csc_json_object_set(doc, sb, "warm_pool", pool);
        int ll = m->landlock_abi;
        r = r ?: csc_json_object_set(doc, sb, "landlock_abi", csc_json_new_int(doc, ll));
        if (ll == 0)
                r = r ?: csc_json_object_set(doc, sb, "landlock_missing",
                                             csc_json_new_string(doc, "the kernel has no Landlock (or it is disabled)"));
        csc_json *wk = csc_json_new_array(doc);
        r = r ?: wk ? 0 : -ENOMEM;
        for (unsigned i = 0; i < m->n_weakened && r == 0; i++)
                r = csc_json_array_append(doc, wk, csc_json_new_string(doc, m->weakened[i]));
        r = r ?: csc_json_object_set(doc, sb, "weakened", wk);
        if (r < 0)
                return r;
        *ret = sb;
        return 0;
}

int manager_status_json(manager *m, csc_json_doc *doc, csc_json **ret) {
        csc_json *o = csc_json_new_object(doc), *cnt = csc_json_new_object(doc);
        if (!o || !cnt)
                return -ENOMEM;
        uint64_t up = (csc_time_mono_usec() - m->started_usec) / 1000000u;
        int r = 0;
        r = r ?: csc_json_object_set(doc, o, "type", csc_json_new_string(doc, "status"));
        r = r ?: csc_json_object_set(doc, o, "version", csc_json_new_string(doc, CSC_VERSION));
        r = r ?: csc_json_object_set(doc, o, "uptime_sec", csc_json_new_int(doc, (int64_t) up));
        r = r ?: csc_json_object_set(doc, o, "policy_name", csc_json_new_string(doc, m->policy->policy->name));
        r = r ?: csc_json_object_set(doc, o, "policy_sha256", csc_json_new_string(doc, m->policy->policy->sha256));
        r = r ?: csc_json_object_set(doc, o, "policy_path", csc_json_new_string(doc, m->config->policy_path));
        r = r ?: csc_json_object_set(doc, o, "signing_key_id", csc_json_new_string(doc, csc_signing_key_id(m->key)));
        r = r ?: csc_json_object_set(doc, o, "signing_keys_published", csc_json_new_int(doc, (int64_t) m->keyring->n_published));
        r = r ?: csc_json_object_set(doc, o, "sandbox_profile_id", csc_json_new_string(doc, "cscd-v1"));
        r = r ?: csc_json_object_set(doc, o, "executions_running", csc_json_new_int(doc, m->n_executions));
        r = r ?: csc_json_object_set(doc, o, "executions_total", csc_json_new_int(doc, (int64_t) m->counters.executions_total));
        r = r ?: csc_json_object_set(doc, o, "connections", csc_json_new_int(doc, m->conns.n));
        r = r ?: csc_json_object_set(doc, o, "connections_no_role", csc_json_new_int(doc, m->conns.n_no_role));
        csc_json *cl = csc_json_new_object(doc);
        r = r ?: cl ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, cl, "max_connections", csc_json_new_int(doc, m->config->max_connections));
        r = r ?: csc_json_object_set(doc, cl, "max_connections_per_uid",
                                     csc_json_new_int(doc, m->config->max_connections_per_uid));
        r = r ?: csc_json_object_set(doc, cl, "max_connections_no_role",
                                     csc_json_new_int(doc, m->config->max_connections_no_role));
        r = r ?: csc_json_object_set(doc, o, "connection_limits", cl);
        r = r ?: csc_json_object_set(doc, cnt, "success", csc_json_new_int(doc, (int64_t) m->counters.success));
        r = r ?: csc_json_object_set(doc, cnt, "failed", csc_json_new_int(doc, (int64_t) m->counters.failed));
        r = r ?: csc_json_object_set(doc, cnt, "blocked", csc_json_new_int(doc, (int64_t) m->counters.blocked));
        r = r ?: csc_json_object_set(doc, cnt, "cancelled", csc_json_new_int(doc, (int64_t) m->counters.cancelled));
        r = r ?: csc_json_object_set(doc, cnt, "busy", csc_json_new_int(doc, (int64_t) m->counters.busy));
        r = r ?: csc_json_object_set(doc, cnt, "queued", csc_json_new_int(doc, (int64_t) m->counters.queued));
        r = r ?: csc_json_object_set(doc, cnt, "errors", csc_json_new_int(doc, (int64_t) m->counters.errors));
        r = r ?: csc_json_object_set(doc, cnt, "requests", csc_json_new_int(doc, (int64_t) m->counters.requests));
        r = r ?: csc_json_object_set(doc, o, "outcomes", cnt);
        approval_store_stats as;
        approval_store_stats_get(m->approvals, &as);
        csc_json *aj = csc_json_new_object(doc);
        r = r ?: aj ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, aj, "healthy", csc_json_new_bool(doc, as.healthy));
        if (!as.healthy)
                r = r ?: csc_json_object_set(doc, aj, "error", csc_json_new_string(doc, as.error));
        r = r ?: csc_json_object_set(doc, aj, "consumed", csc_json_new_int(doc, as.consumed));
        r = r ?: csc_json_object_set(doc, aj, "time_window_uses", csc_json_new_int(doc, as.uses));
        r = r ?: csc_json_object_set(doc, aj, "schema_version", csc_json_new_int(doc, as.schema_version));
        r = r ?: csc_json_object_set(doc, aj, "trusted_approvers", csc_json_new_int(doc, (int64_t) m->config->n_approvers));
        r = r ?: csc_json_object_set(doc, o, "approval_store", aj);
        csc_json *sb = NULL;
        r = r ?: sandbox_status_json(m, doc, &sb);
        r = r ?: csc_json_object_set(doc, o, "sandbox", sb);
        csc_json *eg = NULL;
        r = r ?: egress_link_status_json(m->egress, doc, &eg);
        r = r ?: csc_json_object_set(doc, o, "egress", eg);
        if (r < 0)
                return r;
        *ret = o;
        return 0;
}