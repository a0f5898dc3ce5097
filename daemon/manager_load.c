/* manager_load.c — loading config, policy and key at start (and the checks of
 * the layers that depend on the running kernel and capabilities), and the
 * atomic reload that swaps policy, keys and config or keeps the old ones. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "admit.h"
#include "approval_store.h"
#include "audit.h"
#include "cgroup.h"
#include "cgroup_reap.h"
#include "warm_pool.h"
#include "sandbox_host.h"
#include "build-config.h"
#include "helper_program.h"
#include "cleanup.h"
#include "egress_link.h"
#include "keyring.h"
#include "log.h"
#include "manager_load.h"
#include "policy_ref.h"
#include "privileges.h"
#include "sandbox_landlock.h"
#include "session_spawn.h"
#include "timefmt.h"

int manager_load_config(manager *m, cscd_config **ret, char *err_out, size_t err_size) {
        csc_error err = { 0 };
        char buf[CSC_ERROR_PATH_MAX + CSC_ERROR_MSG_MAX + 4];
        cscd_config *c = NULL;
        int r = m->config_path ? cscd_config_load_file(m->config_path, &c, &err) : cscd_config_defaults(&c);
        if (r < 0) {
                if (m->config_path)
                        cscd_error_name_file(&err, m->config_path);
                snprintf(err_out, err_size, "config %s: %s (run cscd -t for every error with its line)",
                         m->config_path ? m->config_path : "<built-in>", csc_error_str(&err, buf, sizeof buf));
                return r;
        }
        r = manager_apply_overrides(m, c);
        if (r < 0) {
                cscd_config_free(c);
                snprintf(err_out, err_size, "out of memory");
                return r;
        }
        *ret = c;
        return 0;
}

int manager_apply_overrides(manager *m, cscd_config *c) {
        struct { const char *opt; char **field; } ov[] = {
                { m->opt_socket, &c->socket_path },
                { m->opt_policy, &c->policy_path },
                { m->opt_state_dir, &c->state_dir },
                { m->opt_key, &c->signing_key_path },
                { m->opt_key_id, &c->key_id },
        };
        for (size_t i = 0; i < sizeof ov / sizeof ov[0]; i++) {
                if (!ov[i].opt)
                        continue;
                char *d = strdup(ov[i].opt);
                if (!d)
                        return -ENOMEM;
                free(*ov[i].field);
                *ov[i].field = d;
        }
        return 0;
}

static int load_policy(const char *path, policy_ref **ret, char *err_out, size_t err_size) {
        csc_error err = { 0 };
        _cleanup_(csc_policy_freep) csc_policy *p = NULL;
        int r = csc_policy_load_file(path, &p, &err);
        if (r < 0) {
                cscd_error_name_file(&err, path);
                char buf[CSC_ERROR_PATH_MAX + CSC_ERROR_MSG_MAX + 4];
                snprintf(err_out, err_size, "%s: %s", path, csc_error_str(&err, buf, sizeof buf));
                return r;
        }
        char why[256];
        if (egress_hosts_check(&p->allowed_egress_hosts, why, sizeof why) < 0) {
                /* What the proxy would refuse whole, refused here, with the entry named. */
                snprintf(err_out, err_size, "%s: %s", path, why);
                return -EINVAL;
        }
        policy_ref *ref = calloc(1, sizeof *ref);
        if (!ref)
                return -ENOMEM;
        ref->policy = TAKE_PTR(p);
        ref->n_ref = 1;
        *ret = ref;
        return 0;
}

/* A layer weaker than designed: logged once at start (MESSAGE_ID
 * CSCD_MESSAGE_DEGRADED) and listed by `cscctl status`. */
static void weakened(manager *m, const char *layer, const char *why) {
        cscd_journal_degraded(m->audit, layer, why);
        if (m->n_weakened < MANAGER_WEAKENED_MAX) {
                snprintf(m->weakened[m->n_weakened], sizeof m->weakened[0], "%s: %s", layer, why);
                m->n_weakened++;
        }
}

/* kB of this process's memory locked (VmLck), or -1 when unknown. */
static long long locked_kib(void) {
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        long long kib = -1;
        while (f && fgets(line, sizeof line, f))
                if (sscanf(line, "VmLck: %lld kB", &kib) == 1)
                        break;
        if (f)
                fclose(f);
        return kib;
}

static void check_layers(manager *m, const char *optional_caps_missing) {
        char why[256];
        if (m->landlock_abi == 0)
                weakened(m, "landlock", "the kernel has no Landlock (or it is disabled): only mounts limit the "
                                        "filesystem view");
        const char *cg_why;
        const char *cg_mode = cscd_cgroups_mode(m->cgroups, &cg_why);
        if (strcmp(cg_mode, "none") == 0)
                weakened(m, "process_cap", cg_why);
        else if (!cscd_cgroups_memory(m->cgroups)) {
                snprintf(why, sizeof why, "the memory controller is not delegated (%s): memory_max_bytes is not "
                         "enforced; rlimit_as_bytes still is", cg_mode);
                weakened(m, "memory_cap", why);
        }
        if (strstr(optional_caps_missing, "CAP_IPC_LOCK")) {
                snprintf(why, sizeof why, "started without CAP_IPC_LOCK: the signing key is not mlock'ed unless "
                         "RLIMIT_MEMLOCK allows it (locked now: %lld kB)", locked_kib());
                weakened(m, "key_mlock", why);
        } else if (geteuid() == 0 && locked_kib() == 0)
                weakened(m, "key_mlock", "the signing key could not be mlock'ed (it may be swapped out)");
        m->no_egress = strstr(optional_caps_missing, "CAP_NET_ADMIN") != NULL;
        if (m->no_egress)
                weakened(m, "egress", "started without CAP_NET_ADMIN (cannot bring up lo in a sandbox's network "
                                      "namespace): contracts with network 'allowlisted' are blocked");
}

/* The commands' seccomp programs, compiled once. Without them cscd keeps
 * serving decisions, status and receipts, but runs nothing (fail closed,
 * see submit.c). */
static void load_seccomp_filters(manager *m) {
        int r;
        if ((r = sandbox_seccomp_build(CSC_NET_DENY, &m->filter_deny_net)) < 0 ||
            (r = sandbox_seccomp_build(CSC_NET_ALLOWLISTED, &m->filter_allowlisted)) < 0 ||
            (r = sandbox_seccomp_build(CSC_NET_FULL, &m->filter_net)) < 0) {
                log_error_errno(r, "cannot compile the sandbox's seccomp filter; no command will run");
                sandbox_seccomp_free(&m->filter_deny_net);
                sandbox_seccomp_free(&m->filter_allowlisted);
                sandbox_seccomp_free(&m->filter_net);
                weakened(m, "seccomp", "the sandbox's seccomp filter could not be compiled: no command runs");
        }
}

/* Execution cgroups, their reaper, and the warm pool (off, with a warning,
 * when cscd-executor cannot be opened). */
static int load_sandbox_parts(manager *m, const char *optional_caps_missing) {
        int r = cscd_cgroups_init(&m->cgroups);
        r = r ?: cgroup_reaper_new(m->event, &m->cgroup_reaper);
        if (r < 0)
                return log_error_errno(r, "cannot set up cgroups");
        char executor_path[PATH_MAX];
        int xfd = helper_program_open(m->config->executor_program, "cscd-executor", CSC_EXECUTOR_PROGRAM, executor_path,
                                      sizeof executor_path);
        if (xfd < 0)
                log_warning("executor_program %s: %s; the warm sandbox pool is off", executor_path, strerror(-xfd));
        bool no_setns = strstr(optional_caps_missing, "CAP_SYS_CHROOT") != NULL;
        if (no_setns)
                log_warning("started without CAP_SYS_CHROOT: the warm sandbox pool is off");
        if ((r = warm_pool_new(m->event, m->cgroups, m->cgroup_reaper, xfd, no_setns, &m->warm)) < 0)
                return log_error_errno(r, "cannot set up the warm sandbox pool");
        warm_pool_configure(m->warm, m->config->warm_sandboxes, m->config->pids_max, m->config->memory_max_bytes);
        return 0;
}

int manager_load(manager *m) {
        char err[2048];
        int r = manager_load_config(m, &m->config, err, sizeof err);
        if (r < 0) {
                m->config_error = r != -ENOMEM;
                return log_error("cannot start: %s", err), r;
        }
        r = load_policy(m->config->policy_path, &m->policy, err, sizeof err);
        if (r < 0) {
                m->config_error = r != -ENOMEM;
                return log_error("cannot load policy: %s", err), r;
        }
        r = cscd_keyring_load(m->config, &m->keyring, err, sizeof err);
        if (r < 0) {
                m->config_error = r != -ENOMEM;
                return log_error("%s", err), r;
        }
        m->key = m->keyring->active;
        char session_path[PATH_MAX];
        r = session_program_open(m->config->session_program, session_path, sizeof session_path);
        if (r < 0) {
                m->config_error = true;
                return log_error("cannot start: session_program %s: %s", session_path, strerror(-r)), r;
        }
        m->session_program_fd = r;
        csc_error e = { 0 };
        r = cscd_audit_open(m->config->state_dir, &m->audit, &e);
        if (r < 0) {
                char buf[CSC_ERROR_PATH_MAX + CSC_ERROR_MSG_MAX + 4];
                log_error("cannot open state dir %s: %s", m->config->state_dir, csc_error_str(&e, buf, sizeof buf));
                return r;
        }
        /* Group commit of receipts; without it each receipt syncs alone. */
        if ((r = cscd_audit_set_event(m->audit, m->event)) < 0)
                log_warning("receipts.jsonl: no group commit, one fdatasync per receipt: %s", strerror(-r));
        load_seccomp_filters(m);
        if ((r = egress_link_new(m->event, m->config, &m->egress)) < 0)
                return log_error_errno(r, "cannot set up the egress proxy link");
        char missing[256], optional[128];
        r = cscd_trim_capabilities(missing, sizeof missing, optional, sizeof optional);
        if (r == -EPERM && missing[0]) {
                m->config_error = true;   /* the unit or container took them away: a restart cannot help */
                return log_error("cscd needs these capabilities and was started without them: %s "
                                 "(see CapabilityBoundingSet= in cscd.service)", missing), r;
        }
        if (r < 0)
                return log_error_errno(r, "cannot drop capabilities");
        /* Facts that do not change while cscd runs, read once for every plan. */
        m->landlock_abi = sandbox_landlock_abi();
        (void) sandbox_host_title_area(&m->title_start, &m->title_end);   /* none found: the title stays */
        if ((r = load_sandbox_parts(m, optional)) < 0)
                return r;
        check_layers(m, optional);
        const char *cg_why;
        const char *cg_mode = cscd_cgroups_mode(m->cgroups, &cg_why);
        if (strcmp(cg_mode, "none") != 0)
                log_info("process cap for sandboxes: %s pids, max %llu per execution", cg_mode,
                         (unsigned long long) m->config->pids_max);
        r = approval_store_open(m->config->state_dir, &m->approvals);
        if (r == -ENOMEM)
                return log_error_errno(r, "cannot open the approval store");
        if (r < 0) {
                approval_store_stats st;
                approval_store_stats_get(m->approvals, &st);
                log_warning("approval store unavailable (%s): contracts that need approval will be blocked; "
                            "everything else is served", st.error);
        } else
                (void) approval_store_purge(m->approvals, csc_time_now_usec());
        uint64_t torn;
        if (cscd_audit_torn_tail(m->audit, &torn))
                log_warning("receipts.jsonl in %s ended in a torn line at byte %llu (crash during a write); "
                            "the partial line is kept and new receipts start on a new line",
                            m->config->state_dir, (unsigned long long) torn);
        log_info("loaded policy '%s' (sha256 %s) from %s, signing key '%s'", m->policy->policy->name,
                 m->policy->policy->sha256, m->config->policy_path, csc_signing_key_id(m->key));
        return 0;
}

/* Settings that cannot change without a restart keep their running values. */
static int keep_restart_only(const cscd_config *cur, cscd_config *nc) {
        _cleanup_free_ char *sock = strdup(cur->socket_path), *state = strdup(cur->state_dir);
        if (!sock || !state)
                return -ENOMEM;
        free(nc->socket_path);
        nc->socket_path = TAKE_PTR(sock);
        free(nc->state_dir);
        nc->state_dir = TAKE_PTR(state);
        return 0;
}

int manager_reload(manager *m, char *err, size_t err_size) {
        uint64_t mono = csc_time_mono_usec();
        char msg[128];
        snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long) mono);
        sd_notify(0, msg);
        /* The receipts log is reopened whatever happens to the config: a
         * rotation (rename + reload) must never keep writing to the old file. */
        int a = cscd_audit_reopen(m->audit);
        if (a < 0)
                log_error_errno(a, "cannot reopen receipts.jsonl in %s; still writing to the open file",
                                m->config->state_dir);
        _cleanup_(policy_ref_putp) policy_ref *np = NULL;
        _cleanup_(cscd_keyring_freep) cscd_keyring *nk = NULL;
        _cleanup_(cscd_config_freep) cscd_config *nc = NULL;
        int r = manager_load_config(m, &nc, err, err_size);
        if (r >= 0)
                r = load_policy(nc->policy_path, &np, err, err_size);
        if (r >= 0)
                r = cscd_keyring_load(nc, &nk, err, err_size);
        if (r >= 0 && (r = keep_restart_only(m->config, nc)) < 0)
                snprintf(err, err_size, "out of memory");
        if (r < 0) {
                log_error("reload refused, keeping the current policy '%s': %s", m->policy->policy->name, err);
                sd_notify(0, "READY=1");
                return r;
        }
        policy_ref_put(m->policy);
        m->policy = TAKE_PTR(np);
        cscd_keyring_free(m->keyring);
        m->keyring = TAKE_PTR(nk);
        m->key = m->keyring->active;
        cscd_config_free(m->config);
        m->config = TAKE_PTR(nc);
        egress_link_reconfigure(m->egress, m->config);
        warm_pool_configure(m->warm, m->config->warm_sandboxes, m->config->pids_max, m->config->memory_max_bytes);
        log_info("reloaded: policy '%s' (sha256 %s), signing key '%s' (%zu key(s) published)", m->policy->policy->name,
                 m->policy->policy->sha256, csc_signing_key_id(m->key), m->keyring->n_published);
        admit_kick(m);   /* larger caps may let queued submits start */
        sd_notify(0, "READY=1");
        return 0;
}