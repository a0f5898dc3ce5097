/* manager.c — the Manager: loading config/policy/key, the listening socket
 * (socket activation or our own bind), signals, reload and graceful stop. */
#include "manager.h"
#include "session_spawn.h"

#include "cleanup.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>
#include <stdio.h>

#include <systemd/sd-daemon.h>

#include "approval_store.h"
#include "audit.h"
#include "keyring.h"
#include "cgroup.h"
#include "privileges.h"
#include "sandbox_landlock.h"
#include "build-config.h"
#include "config.h"
#include "timefmt.h"
#include "cgroup_reap.h"
#include "warm_pool.h"
#include "egress_link.h"
#include "log.h"

policy_ref *policy_ref_get(policy_ref *p) {
        if (p)
                p->n_ref++;
        return p;
}

policy_ref *policy_ref_put(policy_ref *p) {
        if (p && --p->n_ref == 0) {
                csc_policy_free(p->policy);
                free(p);
        }
        return NULL;
}

static uint64_t now_mono(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        manager *m = userdata;
        if (si->ssi_signo == SIGHUP) {
                char err[1024];
                (void) manager_reload(m, err, sizeof err);
                return 0;
        }
        if (m->stopping)
                return 0;
        log_info("received %s, stopping: no new connections, running executions get %u s",
                 si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT", m->config->stop_grace_sec);
        sd_notify(0, "STOPPING=1");
        m->stopping = true;
        m->listen_source = sd_event_source_disable_unref(m->listen_source);
        manager_maybe_finish_stop(m);
        return 0;
}

static int on_stop_grace(sd_event_source *s, uint64_t usec, void *userdata) {
        manager *m = userdata;
        log_warning("stop grace period over: killing %u running execution(s)", m->n_executions);
        manager_kill_all_executions(m, "cscd is stopping: execution killed after the grace period");
        return 0;
}

void manager_maybe_finish_stop(manager *m) {
        if (!m->stopping)
                return;
        admit_refuse_all(m, "cscd is stopping; the queued submit did not start");
        if (m->n_executions == 0) {
                sd_event_exit(m->event, 0);
                return;
        }
        if (!m->stop_timer)
                (void) sd_event_add_time_relative(m->event, &m->stop_timer, CLOCK_MONOTONIC,
                                                  (uint64_t) m->config->stop_grace_sec * 1000000u, 0,
                                                  on_stop_grace, m);
}

int manager_new(manager **ret) {
        manager *m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->listen_fd = -1;
        m->session_program_fd = -1;
        int r = sd_event_new(&m->event);
        if (r < 0) {
                free(m);
                return r;
        }
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGHUP);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGCHLD);   /* child sources (pidfd) need it blocked */
        sigprocmask(SIG_BLOCK, &ss, NULL);
        signal(SIGPIPE, SIG_IGN);
        if ((r = sd_event_add_signal(m->event, NULL, SIGHUP, on_signal, m)) < 0 ||
            (r = sd_event_add_signal(m->event, NULL, SIGTERM, on_signal, m)) < 0 ||
            (r = sd_event_add_signal(m->event, NULL, SIGINT, on_signal, m)) < 0) {
                manager_free(m);
                return r;
        }
        if ((r = admit_init(m)) < 0) {
                manager_free(m);
                return r;
        }
        m->started_usec = now_mono();
        *ret = m;
        return 0;
}

manager *manager_free(manager *m) {
        if (!m)
                return NULL;
        while (m->executions)
                execution_free(m->executions);
        while (m->conns)
                conn_free(m->conns);
        admit_free(m);
        sd_event_source_disable_unref(m->listen_source);
        sd_event_source_disable_unref(m->stop_timer);
        if (m->listen_fd >= 0) {
                if (m->listen_fd_owned)
                        unlink(m->config->socket_path);
                close(m->listen_fd);
        }
        if (m->session_program_fd >= 0)
                close(m->session_program_fd);
        policy_ref_put(m->policy);
        cscd_keyring_free(m->keyring);
        egress_link_free(m->egress);   /* after the executions: each may hold a session */
        warm_pool_free(m->warm);       /* before the reaper: its cgroups go there */
        cgroup_reaper_free(m->cgroup_reaper);
        cscd_audit_free(m->audit);
        approval_store_free(m->approvals);
        cscd_cgroups_free(m->cgroups);
        sandbox_seccomp_free(&m->filter_deny_net);
        sandbox_seccomp_free(&m->filter_allowlisted);
        sandbox_seccomp_free(&m->filter_net);
        cscd_config_free(m->config);
        free(m->config_path);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

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
        csc_policy *p = NULL;
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
                csc_policy_free(p);
                return -EINVAL;
        }
        policy_ref *ref = calloc(1, sizeof *ref);
        if (!ref) {
                csc_policy_free(p);
                return -ENOMEM;
        }
        ref->policy = p;
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
        if (sandbox_landlock_abi() == 0)
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
        r = cscd_cgroups_init(&m->cgroups);
        r = r ?: cgroup_reaper_new(m->event, &m->cgroup_reaper);
        if (r < 0)
                return log_error_errno(r, "cannot set up cgroups");
        if ((r = warm_pool_new(m->event, m->cgroups, m->cgroup_reaper, &m->warm)) < 0)
                return log_error_errno(r, "cannot set up the warm sandbox pool");
        warm_pool_configure(m->warm, m->config->warm_sandboxes, m->config->pids_max, m->config->memory_max_bytes);
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
        char *sock = strdup(cur->socket_path), *state = strdup(cur->state_dir);
        if (!sock || !state) {
                free(sock);
                free(state);
                return -ENOMEM;
        }
        free(nc->socket_path);
        nc->socket_path = sock;
        free(nc->state_dir);
        nc->state_dir = state;
        return 0;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(policy_ref *, policy_ref_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(cscd_keyring *, cscd_keyring_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(cscd_config *, cscd_config_free);

int manager_reload(manager *m, char *err, size_t err_size) {
        uint64_t mono = now_mono();
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

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        manager *m = userdata;
        for (;;) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_warning("accept failed: %m");
                        return 0;
                }
                if (m->n_conns >= m->config->max_connections) {
                        char why[96];
                        snprintf(why, sizeof why, "too many connections (max_connections is %u); retry later",
                                 m->config->max_connections);
                        conn_refuse_busy(m, cfd, why);
                        close(cfd);
                        continue;
                }
                conn *c;
                int r = conn_new(m, cfd, &c);
                if (r < 0)
                        log_error_errno(r, "cannot set up connection");
                if (r != 0)
                        close(cfd);
        }
}

static int bind_socket(manager *m) {
        const char *path = m->config->socket_path;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path)
                return log_error("socket path too long: %s", path), -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return log_error_errno(-errno, "socket()");
        struct stat st;
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode)) {
                        close(fd);
                        log_error("%s exists and is not a socket; refusing to replace it", path);
                        return -EEXIST;
                }
                int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (probe >= 0 && connect(probe, (struct sockaddr *) &sa, sizeof sa) == 0) {
                        close(probe);
                        close(fd);
                        log_error("%s is in use by a running daemon", path);
                        return -EADDRINUSE;
                }
                if (probe >= 0)
                        close(probe);
                unlink(path); /* stale socket from a previous run */
        }
        mode_t old = umask(0177);
        int r = bind(fd, (struct sockaddr *) &sa, sizeof sa);
        umask(old);
        if (r < 0) {
                r = -errno;
                close(fd);
                return log_error_errno(r, "cannot bind %s", path);
        }
        if (m->config->socket_group) {
                struct group *g = getgrnam(m->config->socket_group);
                if (!g || chown(path, 0, g->gr_gid) < 0)
                        log_warning("cannot give %s to group '%s'", path, m->config->socket_group);
        }
        if (chmod(path, m->config->socket_mode) < 0 || listen(fd, 128) < 0) {
                r = -errno;
                close(fd);
                unlink(path);
                return log_error_errno(r, "cannot set up %s", path);
        }
        m->listen_fd = fd;
        m->listen_fd_owned = true;
        return 0;
}

int manager_listen(manager *m) {
        int n = sd_listen_fds(1);
        if (n < 0)
                return log_error_errno(n, "sd_listen_fds");
        if (n > 1) {
                log_error("expected one socket from systemd, got %d", n);
                return -EINVAL;
        }
        if (n == 1) {
                int fd = SD_LISTEN_FDS_START;
                if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
                        log_error("the socket passed by systemd is not a listening AF_UNIX stream socket");
                        return -EINVAL;
                }
                int fl = fcntl(fd, F_GETFL);
                if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                        return log_error_errno(-errno, "cannot make the activated socket non-blocking");
                m->listen_fd = fd;
                log_info("using the socket passed by systemd");
        } else {
                int r = bind_socket(m);
                if (r < 0)
                        return r;
                log_info("listening on %s", m->config->socket_path);
        }
        return sd_event_add_io(m->event, &m->listen_source, m->listen_fd, EPOLLIN, on_accept, m);
}

int manager_run(manager *m) {
        char status[512];
        snprintf(status, sizeof status, "READY=1\nSTATUS=serving with policy '%s', 0 executions running",
                 m->policy->policy->name);
        sd_notify(0, status);
        uint64_t wd_usec;
        if (sd_watchdog_enabled(0, &wd_usec) > 0)
                sd_event_set_watchdog(m->event, 1);
        return sd_event_loop(m->event);
}

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
        int ll = sandbox_landlock_abi();
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
        uint64_t up = (now_mono() - m->started_usec) / 1000000u;
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
        r = r ?: csc_json_object_set(doc, o, "connections", csc_json_new_int(doc, m->n_conns));
        r = r ?: csc_json_object_set(doc, o, "connections_no_role", csc_json_new_int(doc, m->n_conns_no_role));
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
