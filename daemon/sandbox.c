/* sandbox.c — the executor's side: build the filesystem view, then run the
 * contract's commands one after another as the peer, each in a clean process
 * tree that dies with it (profile "cscd-v1").
 *
 * Runs as root in fresh mount/PID/IPC/UTS(/net) namespaces, as PID 1 of its
 * PID namespace, so kill(-1, SIGKILL) ends every process a command started. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "canon.h"
#include "env_policy.h"
#include "executor.h"
#include "csc_limits.h"
#include "sandbox_egress.h"
#include "sandbox_fs.h"
#include "sandbox_report.h"
#include "sandbox_landlock.h"
#include "sandbox_seccomp.h"
#include "path.h"


static int landlock_abi;   /* detected once per executor, before the first command */

/* ---- running commands --------------------------------------------------- */

/* The fixed variables, then only the client's variables that the contract
 * names in env_allow and the admin allows (env_policy.h). */
static void set_env(const executor_request *req, const csc_command *cmd) {
        clearenv();
        setenv("PATH", CSCD_SANDBOX_PATH, 1);
        setenv("HOME", "/tmp", 1);
        setenv("TMPDIR", "/tmp", 1);
        setenv("LANG", "C.UTF-8", 1);
        for (size_t i = 0; i < cmd->env_allow.n; i++) {
                const char *name = cmd->env_allow.v[i];
                const csc_json *v = req->env ? csc_json_get(req->env, name) : NULL;
                if (!v || v->type != CSC_JSON_STRING || memchr(v->string.ptr, 0, v->string.len) ||
                    !env_name_passes(req->config, name))
                        continue;
                setenv(name, v->string.ptr, 1);
        }
        if (cmd->network == CSC_NET_ALLOWLISTED)
                sandbox_egress_set_env();   /* last: no client name overrides the proxy */
}

/* Becomes the peer: groups, gids, no capabilities in any set, no_new_privs. */
static int drop_privileges(const executor_request *req) {
        if (setgroups(req->n_groups, req->groups) < 0 || setresgid(req->gid, req->gid, req->gid) < 0)
                return -errno;
        for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                        return -errno;
        /* Root gets no implicit capabilities back (setuid-root binaries, uid 0
         * transitions), and that can never be turned off again. */
        if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                             SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                                             SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
                  0, 0, 0) < 0)
                return -errno;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;
        if (setresuid(req->uid, req->uid, req->uid) < 0)
                return -errno;
        cap_t none = cap_init();
        if (!none || cap_set_proc(none) < 0) {
                int r = -errno;
                cap_free(none);
                return r;
        }
        cap_free(none);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        uid_t ru, eu, su;
        gid_t rg, eg, sg;
        if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != req->uid || eu != req->uid ||
            su != req->uid || rg != req->gid || eg != req->gid || sg != req->gid)
                return -EPERM;
        return 0;
}

/* Where a segment failed before its program ran; names index stage_what[]. */
typedef enum exec_stage {
        STAGE_EXEC,          /* execve() itself */
        STAGE_CWD,           /* entering the working directory */
        STAGE_CONFINE,       /* becoming the peer, Landlock, seccomp, rlimits */
        STAGE_NETWORK,       /* the per-command empty network namespace */
} exec_stage;

static const char *const stage_what[] = {
        [STAGE_EXEC] = "cannot execute",
        [STAGE_CWD] = "cannot enter the working directory",
        [STAGE_CONFINE] = "cannot confine the command",
        [STAGE_NETWORK] = "cannot isolate the network",
};

typedef struct exec_report {
        int err;             /* errno */
        int stage;           /* exec_stage */
} exec_report;

/* The segment process: never returns. status_fd reports why exec failed. */
_Noreturn static void run_segment(const executor_request *req, const csc_command *cmd, const csc_strv *argv,
                                  const char *exe, int in, int out, int err, int status_fd, bool own_netns) {
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        for (int s = 1; s < NSIG; s++)
                signal(s, SIG_DFL);
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || dup2(status_fd, 3) < 0)
                _exit(126);
        fcntl(3, F_SETFD, FD_CLOEXEC);
        close_range(4, ~0U, 0);
        exec_report rep = { 0, STAGE_NETWORK };
        if (!own_netns && cmd->network == CSC_NET_DENY && unshare(CLONE_NEWNET) < 0)
                goto fail;
        rep.stage = STAGE_CONFINE;
        int r = drop_privileges(req);
        if (r < 0) {
                errno = -r;
                goto fail;
        }
        rep.stage = STAGE_CWD;
        if (chdir(cmd->cwd) < 0)
                goto fail;
        set_env(req, cmd);
        rep.stage = STAGE_CONFINE;
        if ((r = sandbox_landlock_apply(cmd, landlock_abi)) < 0) {
                errno = -r;
                goto fail;
        }
        const sandbox_filter *filter = cmd->network == CSC_NET_DENY          ? req->filter_deny_net
                                       : cmd->network == CSC_NET_ALLOWLISTED ? req->filter_allowlisted
                                                                              : req->filter_net;
        if ((r = sandbox_seccomp_install(filter)) < 0) {
                errno = -r;
                goto fail;
        }
        /* Resource limits last: nothing may allocate after RLIMIT_AS is set
         * (a sanitizer runtime in this process would need far more). */
        const cscd_config *cfg = req->config;
        struct { int res; rlim_t v; } lim[] = {
                { RLIMIT_CORE, 0 },
                { RLIMIT_CPU, cfg->rlimit_cpu_sec },
                { RLIMIT_AS, cfg->rlimit_as_bytes },
                { RLIMIT_FSIZE, cfg->rlimit_fsize_bytes },
                { RLIMIT_NOFILE, cfg->rlimit_nofile },
        };
        for (size_t i = 0; i < sizeof lim / sizeof *lim; i++) {
                struct rlimit rl = { lim[i].v, lim[i].v };
                if (setrlimit(lim[i].res, &rl) < 0)
                        goto fail;
        }

        rep.stage = STAGE_EXEC;
        if (!exe) {
                errno = ENOENT;   /* on no directory of the fixed PATH */
                goto fail;
        }
        execve(exe, (char *const *)argv->v, environ);
fail:
        rep.err = errno;
        (void)!write(3, &rep, sizeof rep);
        _exit(rep.stage == STAGE_EXEC && (rep.err == ENOENT || rep.err == ENOTDIR) ? 127 : 126);
}

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Kills everything but us in the PID namespace and reaps it all. */
static void kill_and_reap_all(void) {
        kill(-1, SIGKILL);
        while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
                ;
}

/* /run/secrets for one command: a tmpfs only the peer can read, one 0400 file
 * per secret it declared. Returns whether it was mounted. */
static bool place_secrets(const executor_request *req, size_t index) {
        bool any = false;
        for (size_t i = 0; i < req->n_secrets; i++)
                any |= req->secrets[i].command == index;
        if (!any)
                return false;
        char opts[96];
        snprintf(opts, sizeof opts, "mode=0500,uid=%u,gid=%u,size=1m", (unsigned)req->uid, (unsigned)req->gid);
        if (mount("tmpfs", "/run/secrets", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0)
                sandbox_die_error("sandbox: cannot mount /run/secrets: %s", strerror(errno));
        for (size_t i = 0; i < req->n_secrets; i++) {
                const cscd_secret *s = &req->secrets[i];
                if (s->command != index)
                        continue;
                char path[256];
                snprintf(path, sizeof path, "/run/secrets/%s", s->name);
                int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0400);
                if (fd < 0 || write(fd, s->value, s->len) != (ssize_t)s->len || fchown(fd, req->uid, req->gid) < 0)
                        sandbox_die_error("sandbox: cannot place secret %s: %s", s->name, strerror(errno));
                close(fd);
        }
        return true;
}

/* The processes of one command's pipeline. */
typedef struct segments {
        size_t n;
        pid_t pid[CSC_MAX_SEGMENTS];
        int status_rd[CSC_MAX_SEGMENTS];   /* each one's exec_report, if it failed before its program ran */
        int status[CSC_MAX_SEGMENTS];
        bool done[CSC_MAX_SEGMENTS];
} segments;

/* Forks every segment of cmd, piped together: stdin /dev/null, the last
 * one's stdout out_w, every stderr err_w. */
static void spawn_segments(const executor_request *req, size_t index, int out_w, int err_w, bool own_netns,
                           segments *sg) {
        const csc_command *cmd = &req->contract->commands[index];
        size_t exe_base = 0;
        for (size_t i = 0; i < index; i++)
                exe_base += req->contract->commands[i].n_argvs;
        sg->n = cmd->n_argvs;
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int prev_read = devnull;
        for (size_t s = 0; s < sg->n; s++) {
                int link[2] = { -1, -1 }, st[2];
                if ((s + 1 < sg->n && pipe2(link, O_CLOEXEC) < 0) || pipe2(st, O_CLOEXEC) < 0)
                        sandbox_die_error("sandbox: cannot create pipes: %s", strerror(errno));
                pid_t pid = fork();
                if (pid < 0)
                        sandbox_die_error("sandbox: cannot fork: %s", strerror(errno));
                if (pid == 0) {
                        close(st[0]);
                        run_segment(req, cmd, &cmd->argvs[s], req->exe_paths[exe_base + s], prev_read,
                                    s + 1 < sg->n ? link[1] : out_w, err_w, st[1], own_netns);
                }
                close(st[1]);
                if (prev_read != devnull)
                        close(prev_read);
                if (link[1] >= 0)
                        close(link[1]);
                prev_read = link[0];
                sg->pid[s] = pid;
                sg->status_rd[s] = st[0];
                sg->done[s] = false;
                sg->status[s] = 0;
        }
        if (prev_read >= 0 && prev_read != devnull)
                close(prev_read);
        close(devnull);
}

/* Waits for every segment, or kills them all at the deadline; true when it
 * timed out. */
static bool wait_segments(segments *sg, int64_t timeout_sec) {
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        int64_t deadline = now_ms() + timeout_sec * 1000;
        bool timed_out = false;
        size_t remaining = sg->n;
        while (remaining > 0) {
                int st;
                pid_t p;
                while ((p = waitpid(-1, &st, WNOHANG)) > 0)
                        for (size_t s = 0; s < sg->n; s++)
                                if (sg->pid[s] == p && !sg->done[s]) {
                                        sg->done[s] = true;
                                        sg->status[s] = st;
                                        remaining--;
                                }
                if (remaining == 0)
                        break;
                int64_t left = deadline - now_ms();
                if (left <= 0 && !timed_out) {
                        timed_out = true;
                        kill(-1, SIGKILL);
                        continue;
                }
                struct timespec ts = { left > 0 ? left / 1000 : 0, left > 0 ? (left % 1000) * 1000000 : 100000000 };
                sigtimedwait(&chld, NULL, &ts);
        }
        return timed_out;
}

/* The command's exit code (the first failing segment's, as a shell's
 * pipefail) and, when a segment failed before its program ran, why. */
static int segments_outcome(const csc_command *cmd, segments *sg, char *message, size_t message_size) {
        int code = 0;
        for (size_t s = 0; s < sg->n && code == 0; s++) {
                exec_report rep;
                ssize_t got = read(sg->status_rd[s], &rep, sizeof rep);
                int st = sg->status[s];
                int c = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
                if (WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE && s + 1 < sg->n)
                        c = 0;   /* `yes | head -1` succeeds */
                if (got == (ssize_t)sizeof rep && rep.stage >= STAGE_EXEC && rep.stage <= STAGE_NETWORK) {
                        const char *arg = rep.stage == STAGE_CWD ? cmd->cwd : cmd->argvs[s].v[0];
                        snprintf(message, message_size, "%s %.120s: %s", stage_what[rep.stage], arg,
                                 rep.stage == STAGE_EXEC && rep.err == ENOENT ? "executable not found"
                                                                            : strerror(rep.err));
                }
                code = c;
        }
        return code;
}

static int run_command(const executor_request *req, size_t index, bool own_netns) {
        const csc_command *cmd = &req->contract->commands[index];
        bool secrets = place_secrets(req, index);
        int out[2], err[2];
        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
                sandbox_die_error("sandbox: cannot create pipes: %s", strerror(errno));
        int rd[2] = { out[0], err[0] };
        sandbox_report(EXECUTOR_MSG_STARTED, (uint32_t)index, 0, rd, "%s", "");
        close(out[0]);
        close(err[0]);
        segments sg;
        spawn_segments(req, index, out[1], err[1], own_netns, &sg);
        close(out[1]);
        close(err[1]);
        bool timed_out = wait_segments(&sg, cmd->timeout_sec);
        kill_and_reap_all();   /* no process outlives its command */
        if (secrets && umount2("/run/secrets", MNT_DETACH) < 0)
                sandbox_die_error("sandbox: cannot remove /run/secrets: %s", strerror(errno));

        int code = 0;
        char message[250] = "";
        if (timed_out) {
                code = 124;
                snprintf(message, sizeof message, "command timed out after %lld seconds", (long long)cmd->timeout_sec);
        } else
                code = segments_outcome(cmd, &sg, message, sizeof message);
        for (size_t s = 0; s < sg.n; s++)
                close(sg.status_rd[s]);
        /* A failing command whose write paths hold read-only protected paths:
         * the receipt's error names them (the kernel said EROFS to one). */
        char kept[160];
        if (code != 0 && sandbox_protected_note(cmd, kept, sizeof kept) > 0) {
                size_t len = strlen(message);
                snprintf(message + len, sizeof message - len, "%sread-only protected paths in this command's write "
                         "paths: %s", len ? "; " : "", kept);
        }
        sandbox_report(EXECUTOR_MSG_EXIT, (uint32_t)index, code, NULL, "%s", message);
        return code;
}

/* Hashes the contract's expected outputs that exist, reading them as the
 * peer (so a receipt never reveals a file the peer could not read). */
static void report_artifacts(const executor_request *req) {
        const csc_strv *outs = &req->contract->expected_outputs;
        for (size_t i = 0; i < outs->n && i < 64; i++) {
                if (csc_path_flavour_of(outs->v[i]) != CSC_PATH_POSIX)
                        continue;
                int p[2];
                if (pipe2(p, O_CLOEXEC) < 0)
                        return;
                pid_t pid = fork();
                if (pid < 0) {
                        close(p[0]);
                        close(p[1]);
                        return;
                }
                if (pid == 0) {
                        close(p[0]);
                        if (drop_privileges(req) < 0)
                                _exit(1);
                        int fd = open(outs->v[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                        struct stat st;
                        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                                _exit(1);
                        crypto_hash_sha256_state h;
                        crypto_hash_sha256_init(&h);
                        unsigned char buf[65536], d[32];
                        ssize_t n;
                        while ((n = read(fd, buf, sizeof buf)) > 0)
                                crypto_hash_sha256_update(&h, buf, (unsigned long long)n);
                        if (n < 0)
                                _exit(1);
                        crypto_hash_sha256_final(&h, d);
                        (void)!write(p[1], d, sizeof d);
                        _exit(0);
                }
                close(p[1]);
                unsigned char d[32];
                ssize_t got = read(p[0], d, sizeof d);
                close(p[0]);
                int st;
                waitpid(pid, &st, 0);
                if (got == (ssize_t)sizeof d && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
                        char hex[65];
                        csc_hex32(d, hex);
                        sandbox_report(EXECUTOR_MSG_ARTIFACT, (uint32_t)i, 0, NULL, "%s", hex);
                }
        }
}

/* /proc/1/cmdline inside the sandbox would show cscd's own argv (config,
 * state dir, key path): overwrite our copy of that memory with a neutral
 * title. The last byte is left non-zero so the kernel reads the area as a
 * process title and shows only the text up to its NUL. */
static void neutral_cmdline(void) {
        char stat[1024];
        int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, stat, sizeof stat - 1);
        if (fd >= 0)
                close(fd);
        if (n <= 0)
                return;
        stat[n] = 0;
        char *p = strrchr(stat, ')');
        unsigned long long start = 0, end = 0;
        /* After "pid (comm)": field 3 is the state; arg_start and arg_end are fields 48 and 49. */
        for (int field = 2; p && field < 49; field++) {
                p = strchr(p + 1, ' ');
                if (p && field + 1 == 48)
                        start = strtoull(p + 1, NULL, 10);
                if (p && field + 1 == 49)
                        end = strtoull(p + 1, NULL, 10);
        }
        static const char title[] = "cscd-executor";
        if (!start || end <= start + sizeof title)
                return;
        char *area = (char *)(uintptr_t)start;
        memset(area, 0, (size_t)(end - start));
        memcpy(area, title, sizeof title);
        area[end - start - 1] = ' ';
}

/* `allowlisted`: the proxy's listening socket, made here in the sandbox's own
 * network namespace, goes to the daemon; we keep no copy, so no command can
 * inherit or accept on it. */
static void hand_over_listener(bool own_netns) {
        if (!own_netns)   /* the daemon refuses such a contract before it spawns us */
                sandbox_die_error("sandbox: 'allowlisted' needs the sandbox's own network namespace");
        int fds[2];
        int r = sandbox_egress_listen(fds);
        if (r < 0)
                sandbox_die_error("sandbox: cannot listen for the egress proxy: %s", strerror(-r));
        executor_msg m = { .type = EXECUTOR_MSG_LISTENER };
        r = sandbox_send_fds(3, &m, sizeof m, fds, fds[1] >= 0 ? 2 : 1);
        close(fds[0]);
        if (fds[1] >= 0)
                close(fds[1]);
        if (r < 0)
                sandbox_die_error("sandbox: cannot hand the egress listener to cscd: %s", strerror(-r));
}

_Noreturn void sandbox_main(const executor_request *req, int ctl, bool own_netns) {
        /* Die with the daemon; never keep its signal mask. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (dup2(ctl, 3) < 0)
                _exit(1);
        sandbox_report_init(3);
        fcntl(3, F_SETFD, FD_CLOEXEC);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
                dup2(null, 0);
                dup2(null, 1);
        }
        close_range(4, ~0U, 0);
        for (int s = 1; s < NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        signal(s, SIG_DFL);
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_SETMASK, &mask, NULL);   /* SIGCHLD only through sigtimedwait */
        prctl(PR_SET_NAME, "cscd-executor");
        if (sethostname("csc-sandbox", strlen("csc-sandbox")) < 0)
                sandbox_die_error("sandbox: cannot set the hostname: %s", strerror(errno));

        if (req->cgroup_procs) {
                /* Join the execution's pids cgroup before anything else runs. */
                int fd = open(req->cgroup_procs, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, "0", 1) != 1)
                        sandbox_die_error("sandbox: cannot join the execution cgroup %s: %s", req->cgroup_procs, strerror(errno));
                close(fd);
        }
        /* A cgroup namespace rooted here: /proc/self/cgroup shows "/", not the host's hierarchy. */
        if (unshare(CLONE_NEWCGROUP) < 0)
                sandbox_die_error("sandbox: cannot create a cgroup namespace: %s", strerror(errno));
        neutral_cmdline();
        landlock_abi = sandbox_landlock_abi();
        sandbox_build_root(req);
        if (sandbox_egress_wanted(req->contract))
                hand_over_listener(own_netns);
        if (req->await_go) {
                /* Every refusal the sandbox could still make is behind us:
                 * the daemon spends the approval now, then lets us run. */
                sandbox_report(EXECUTOR_MSG_READY, 0, 0, NULL, "%s", "");
                char go = 0;
                ssize_t n;
                do
                        n = read(3, &go, 1);
                while (n < 0 && errno == EINTR);
                if (n != 1 || go != EXECUTOR_GO)
                        _exit(1);
        }
        bool ok = true;
        for (size_t i = 0; i < req->contract->n_commands && ok; i++)
                ok = run_command(req, i, own_netns) == 0;
        if (ok)
                report_artifacts(req);
        sandbox_report(EXECUTOR_MSG_DONE, 0, 0, NULL, "%s", "");
        _exit(0);
}
