/* manager.c — the Manager: the listening socket (socket activation or our
 * own bind), signals, graceful stop, and the wiring of the modules it owns:
 * connections reach the request table (dispatch.c) and the executions
 * through conn_hooks, and an ending execution tells the manager through
 * execution_freed. Loading and reload are manager_load.c, the status reply
 * manager_status.c. */
#include "manager.h"

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

#include "admit.h"
#include "approval_store.h"
#include "audit.h"
#include "cgroup.h"
#include "cgroup_reap.h"
#include "warm_pool.h"
#include "cleanup.h"
#include "config.h"
#include "conn.h"
#include "dispatch.h"
#include "egress_link.h"
#include "execution.h"
#include "keyring.h"
#include "log.h"
#include "manager_load.h"
#include "policy_ref.h"
#include "timefmt.h"

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
        execution_kill_all(m, "cscd is stopping: execution killed after the grace period");
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

/* An error frame went to a peer. */
static void on_conn_refused(void *userdata, const cscd_peer *peer, const char *code, const char *message) {
        manager *m = userdata;
        m->counters.errors++;
        cscd_audit_refused(m->audit, peer->uid, peer->pid, code, message);
}

static void on_conn_busy(void *userdata) {
        manager *m = userdata;
        m->counters.busy++;
}

static const conn_hooks manager_conn_hooks = {
        .request = dispatch_request,
        .refused = on_conn_refused,
        .busy = on_conn_busy,
        .exec_set_paused = execution_set_paused,
        .exec_receipt_pending = execution_receipt_pending,
        .exec_cancel = execution_cancel,
        .queued_drop = admit_drop,
};

static void on_execution_freed(manager *m) {
        char status[256];
        snprintf(status, sizeof status, "STATUS=serving with policy '%s', %u executions running",
                 m->policy->policy->name, m->n_executions);
        sd_notify(0, status);
        admit_kick(m);    /* a slot is free: the next queued submit may start */
        manager_maybe_finish_stop(m);
}

int manager_new(manager **ret) {
        manager *m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->listen_fd = -1;
        m->session_program_fd = -1;
        m->execution_freed = on_execution_freed;
        int r = sd_event_new(&m->event);
        if (r < 0) {
                free(m);
                return r;
        }
        m->conns = (conn_set) {
                .event = m->event,
                .config = &m->config,
                .session_program_fd = -1,
                .hooks = &manager_conn_hooks,
                .userdata = m,
        };
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
        m->started_usec = csc_time_mono_usec();
        *ret = m;
        return 0;
}

manager *manager_free(manager *m) {
        if (!m)
                return NULL;
        /* The loop goes away with us: no floating source may outlive it
         * (a child source freed with the loop can leak its signal data). */
        m->freeing = true;
        while (m->executions)
                execution_free(m->executions);
        /* Its pidfd child sources go before the sessions' pid ones: sd-event
         * unmasks SIGCHLD only when a pid source is the last child source to
         * go, and otherwise leaks the loop's signal data (valgrind saw it). */
        m->warm = warm_pool_free(m->warm);
        while (m->conns.head)
                conn_free(m->conns.head);
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

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        manager *m = userdata;
        for (;;) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_warning("accept failed: %m");
                        return 0;
                }
                if (m->conns.n >= m->config->max_connections) {
                        char why[96];
                        snprintf(why, sizeof why, "too many connections (max_connections is %u); retry later",
                                 m->config->max_connections);
                        conn_refuse_busy(&m->conns, cfd, why);
                        close(cfd);
                        continue;
                }
                conn *c;
                int r = conn_new(&m->conns, cfd, &c);
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
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return log_error_errno(-errno, "socket()");
        struct stat st;
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode)) {
                        log_error("%s exists and is not a socket; refusing to replace it", path);
                        return -EEXIST;
                }
                _cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (probe >= 0 && connect(probe, (struct sockaddr *) &sa, sizeof sa) == 0) {
                        log_error("%s is in use by a running daemon", path);
                        return -EADDRINUSE;
                }
                unlink(path); /* stale socket from a previous run */
        }
        mode_t old = umask(0177);
        int r = bind(fd, (struct sockaddr *) &sa, sizeof sa);
        umask(old);
        if (r < 0) {
                r = -errno;
                return log_error_errno(r, "cannot bind %s", path);
        }
        if (m->config->socket_group) {
                struct group *g = getgrnam(m->config->socket_group);
                if (!g || chown(path, 0, g->gr_gid) < 0)
                        log_warning("cannot give %s to group '%s'", path, m->config->socket_group);
        }
        if (chmod(path, m->config->socket_mode) < 0 || listen(fd, 128) < 0) {
                r = -errno;
                unlink(path);
                return log_error_errno(r, "cannot set up %s", path);
        }
        m->listen_fd = TAKE_FD(fd);
        m->listen_fd_owned = true;
        return 0;
}

int manager_listen(manager *m) {
        m->conns.session_program_fd = m->session_program_fd;   /* opened by manager_load */
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
