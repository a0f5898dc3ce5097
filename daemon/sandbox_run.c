/* sandbox_run.c — the executor: apply the plan's view (sandbox_apply.c),
 * then run the plan's commands one after another as the peer, each in a
 * clean process tree that dies with it (profile "cscd-v1"). After the clone,
 * so system calls and async-signal-safe functions only: everything it needs
 * was decided in the plan (sandbox_plan.h).
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
#include <stdbool.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "canon.h"
#include "executor.h"
#include "csc_limits.h"
#include "sandbox_egress.h"
#include "sandbox_apply.h"
#include "sandbox_report.h"
#include "sandbox_landlock.h"
#include "sandbox_seccomp.h"
#include "sandbox_text.h"


/* Becomes the peer: groups, gids, no capabilities in any set, no_new_privs.
 * Raw system calls (capset, not libcap: it allocates). */
static int drop_privileges(const sandbox_plan *p) {
        if (setgroups(p->n_groups, p->groups) < 0 || setresgid(p->gid, p->gid, p->gid) < 0)
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
        if (setresuid(p->uid, p->uid, p->uid) < 0)
                return -errno;
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3];
        memset(none, 0, sizeof none);
        if (syscall(SYS_capset, &hdr, none) < 0)
                return -errno;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        uid_t ru, eu, su;
        gid_t rg, eg, sg;
        if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != p->uid || eu != p->uid ||
            su != p->uid || rg != p->gid || eg != p->gid || sg != p->gid)
                return -EPERM;
        return 0;
}

/* Every signal back to its default disposition, through sigaction (signal()
 * is not on the async-signal-safe list). */
static void default_signals(void) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigemptyset(&dfl.sa_mask);
        for (int s = 1; s < NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        (void)sigaction(s, &dfl, NULL);
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
_Noreturn static void run_segment(const sandbox_plan *p, const sandbox_command *cmd, const sandbox_segment *seg,
                                  int in, int out, int err, int status_fd) {
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        default_signals();
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || dup2(status_fd, 3) < 0)
                _exit(126);
        fcntl(3, F_SETFD, FD_CLOEXEC);
        close_range(4, ~0U, 0);
        exec_report rep = { 0, STAGE_NETWORK };
        if (cmd->unshare_net && unshare(CLONE_NEWNET) < 0)
                goto fail;
        rep.stage = STAGE_CONFINE;
        int r = drop_privileges(p);
        if (r < 0) {
                errno = -r;
                goto fail;
        }
        rep.stage = STAGE_CWD;
        if (chdir(cmd->cwd) < 0)
                goto fail;
        rep.stage = STAGE_CONFINE;
        if ((r = sandbox_landlock_apply(cmd, p->landlock_abi)) < 0 || (r = sandbox_seccomp_install(cmd->filter)) < 0) {
                errno = -r;
                goto fail;
        }
        /* Resource limits last: nothing may allocate after RLIMIT_AS is set
         * (a sanitizer runtime in this process would need far more). */
        for (size_t i = 0; i < SANDBOX_N_RLIMITS; i++) {
                struct rlimit rl = { p->rlimits[i].value, p->rlimits[i].value };
                if (setrlimit(p->rlimits[i].resource, &rl) < 0)
                        goto fail;
        }

        rep.stage = STAGE_EXEC;
        if (!seg->exe) {
                errno = ENOENT;   /* on no directory of the fixed PATH */
                goto fail;
        }
        execve(seg->exe, seg->argv, cmd->envp);
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
static bool place_secrets(const sandbox_plan *p, const sandbox_command *cmd) {
        if (cmd->n_secrets == 0)
                return false;
        if (mount("tmpfs", "/run/secrets", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, p->secrets_opts) < 0)
                sandbox_die_error("sandbox: cannot mount /run/secrets: ", sandbox_text_errno(errno));
        for (size_t i = 0; i < cmd->n_secrets; i++) {
                const sandbox_secret_file *s = &cmd->secrets[i];
                int fd = open(s->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0400);
                if (fd < 0 || write(fd, s->value, s->len) != (ssize_t)s->len || fchown(fd, p->uid, p->gid) < 0)
                        sandbox_die_error("sandbox: cannot place secret ", s->path, ": ", sandbox_text_errno(errno));
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
static void spawn_segments(const sandbox_plan *p, const sandbox_command *cmd, int out_w, int err_w, segments *sg) {
        sg->n = cmd->n_segments;
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int prev_read = devnull;
        for (size_t s = 0; s < sg->n; s++) {
                int link[2] = { -1, -1 }, st[2];
                if ((s + 1 < sg->n && pipe2(link, O_CLOEXEC) < 0) || pipe2(st, O_CLOEXEC) < 0)
                        sandbox_die_error("sandbox: cannot create pipes: ", sandbox_text_errno(errno));
                pid_t pid = fork();
                if (pid < 0)
                        sandbox_die_error("sandbox: cannot fork: ", sandbox_text_errno(errno));
                if (pid == 0) {
                        close(st[0]);
                        run_segment(p, cmd, &cmd->segments[s], prev_read, s + 1 < sg->n ? link[1] : out_w, err_w,
                                    st[1]);
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
static int segments_outcome(const sandbox_command *cmd, segments *sg, char *message, size_t message_size) {
        int code = 0;
        for (size_t s = 0; s < sg->n && code == 0; s++) {
                exec_report rep;
                ssize_t got = read(sg->status_rd[s], &rep, sizeof rep);
                int st = sg->status[s];
                int c = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
                if (WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE && s + 1 < sg->n)
                        c = 0;   /* `yes | head -1` succeeds */
                if (got == (ssize_t)sizeof rep && rep.stage >= STAGE_EXEC && rep.stage <= STAGE_NETWORK) {
                        char arg[121];   /* at most 120 bytes of the path or program */
                        sandbox_text(arg, sizeof arg, rep.stage == STAGE_CWD ? cmd->cwd : cmd->segments[s].argv[0]);
                        sandbox_text(message, message_size, stage_what[rep.stage], " ", arg, ": ",
                                     rep.stage == STAGE_EXEC && rep.err == ENOENT ? "executable not found"
                                                                                : sandbox_text_errno(rep.err));
                }
                code = c;
        }
        return code;
}

static int run_command(const sandbox_plan *p, const sandbox_view *view, size_t index) {
        const sandbox_command *cmd = &p->commands[index];
        bool secrets = place_secrets(p, cmd);
        int out[2], err[2];
        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
                sandbox_die_error("sandbox: cannot create pipes: ", sandbox_text_errno(errno));
        int rd[2] = { out[0], err[0] };
        sandbox_report(EXECUTOR_MSG_STARTED, (uint32_t)index, 0, rd, "");
        close(out[0]);
        close(err[0]);
        segments sg;
        spawn_segments(p, cmd, out[1], err[1], &sg);
        close(out[1]);
        close(err[1]);
        bool timed_out = wait_segments(&sg, cmd->timeout_sec);
        kill_and_reap_all();   /* no process outlives its command */
        if (secrets && umount2("/run/secrets", MNT_DETACH) < 0)
                sandbox_die_error("sandbox: cannot remove /run/secrets: ", sandbox_text_errno(errno));

        int code = 0;
        char message[250] = "";
        if (timed_out) {
                code = 124;
                char n[21];
                sandbox_text(message, sizeof message, "command timed out after ", sandbox_text_i64(n, cmd->timeout_sec),
                             " seconds");
        } else
                code = segments_outcome(cmd, &sg, message, sizeof message);
        for (size_t s = 0; s < sg.n; s++)
                close(sg.status_rd[s]);
        /* A failing command whose write paths hold read-only protected paths:
         * the receipt's error names them (the kernel said EROFS to one). */
        char kept[160];
        if (code != 0 && sandbox_protected_note(view, cmd, kept, sizeof kept) > 0) {
                size_t len = strlen(message);
                sandbox_text(message + len, sizeof message - len, len ? "; " : "",
                             "read-only protected paths in this command's write paths: ", kept);
        }
        sandbox_report(EXECUTOR_MSG_EXIT, (uint32_t)index, code, NULL, message);
        return code;
}

/* One expected output hashed as the peer (so a receipt never reveals a file
 * the peer could not read); the child writes the digest to fd. */
_Noreturn static void hash_as_peer(const sandbox_plan *p, const char *path, int fd_out) {
        if (drop_privileges(p) < 0)
                _exit(1);
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
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
        (void)!write(fd_out, d, sizeof d);
        _exit(0);
}

static void report_artifacts(const sandbox_plan *p) {
        for (size_t i = 0; i < p->n_artifacts; i++) {
                int fds[2];
                if (pipe2(fds, O_CLOEXEC) < 0)
                        return;
                pid_t pid = fork();
                if (pid < 0) {
                        close(fds[0]);
                        close(fds[1]);
                        return;
                }
                if (pid == 0) {
                        close(fds[0]);
                        hash_as_peer(p, p->artifacts[i].path, fds[1]);
                }
                close(fds[1]);
                unsigned char d[32];
                ssize_t got = read(fds[0], d, sizeof d);
                close(fds[0]);
                int st;
                waitpid(pid, &st, 0);
                if (got == (ssize_t)sizeof d && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
                        char hex[65];
                        csc_hex32(d, hex);
                        sandbox_report(EXECUTOR_MSG_ARTIFACT, p->artifacts[i].index, 0, NULL, hex);
                }
        }
}

/* /proc/1/cmdline inside the sandbox would show cscd's own argv (config,
 * state dir, key path): overwrite our copy of that memory (found by the plan
 * builder) with a neutral title. The last byte is left non-zero so the
 * kernel reads the area as a process title and shows only the text up to
 * its NUL. */
static void neutral_cmdline(const sandbox_plan *p) {
        static const char title[] = "cscd-executor";
        if (!p->title_start || p->title_end <= p->title_start + sizeof title)
                return;
        char *area = (char *)p->title_start;
        size_t len = (size_t)(p->title_end - p->title_start);
        memset(area, 0, len);
        memcpy(area, title, sizeof title);
        area[len - 1] = ' ';
}

/* `allowlisted`: the proxy's listening socket, made here in the sandbox's own
 * network namespace, goes to the daemon; we keep no copy, so no command can
 * inherit or accept on it. */
static void hand_over_listener(const sandbox_plan *p) {
        if (!p->own_netns)   /* the daemon refuses such a contract before it spawns us */
                sandbox_die_error("sandbox: 'allowlisted' needs the sandbox's own network namespace");
        int fds[2];
        int r = sandbox_egress_listen(fds);
        if (r < 0)
                sandbox_die_error("sandbox: cannot listen for the egress proxy: ", sandbox_text_errno(-r));
        executor_msg m = { .type = EXECUTOR_MSG_LISTENER };
        r = sandbox_send_fds(SANDBOX_CTL_FD, &m, sizeof m, fds, fds[1] >= 0 ? 2 : 1);
        close(fds[0]);
        if (fds[1] >= 0)
                close(fds[1]);
        if (r < 0)
                sandbox_die_error("sandbox: cannot hand the egress listener to cscd: ", sandbox_text_errno(-r));
}

/* The executor's first steps: the control socket on fd 3 (and a warm one's
 * host mount namespace on fd 4), nothing else inherited, default signals,
 * SIGCHLD only through sigtimedwait. */
static void executor_setup(int ctl, int mntns) {
        /* Die with the daemon; never keep its signal mask. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (dup2(ctl, SANDBOX_CTL_FD) < 0 || (mntns >= 0 && dup2(mntns, SANDBOX_MNTNS_FD) < 0))
                _exit(1);
        fcntl(SANDBOX_CTL_FD, F_SETFD, FD_CLOEXEC);
        if (mntns >= 0)
                fcntl(SANDBOX_MNTNS_FD, F_SETFD, FD_CLOEXEC);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
                dup2(null, 0);
                dup2(null, 1);
        }
        close_range(mntns >= 0 ? SANDBOX_MNTNS_FD + 1 : SANDBOX_CTL_FD + 1, ~0U, 0);
        default_signals();
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_SETMASK, &mask, NULL);
        prctl(PR_SET_NAME, "cscd-executor");
}

/* Waits for GO after READY: every refusal the sandbox could still make is
 * behind us, and the daemon spends the approval now. */
static void await_go(void) {
        sandbox_report(EXECUTOR_MSG_READY, 0, 0, NULL, "");
        char go = 0;
        ssize_t n;
        do
                n = read(SANDBOX_CTL_FD, &go, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1 || go != EXECUTOR_GO)
                _exit(1);
}

/* The namespaces' own setup, before any plan: the hostname, the execution's
 * cgroup (joined before anything else runs), a cgroup namespace rooted there. */
static void enter_sandbox(const char *cgroup_procs) {
        if (sethostname("csc-sandbox", strlen("csc-sandbox")) < 0)
                sandbox_die_error("sandbox: cannot set the hostname: ", sandbox_text_errno(errno));
        if (cgroup_procs) {
                int fd = open(cgroup_procs, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, "0", 1) != 1)
                        sandbox_die_error("sandbox: cannot join the execution cgroup ", cgroup_procs, ": ",
                                          sandbox_text_errno(errno));
                close(fd);
        }
        /* /proc/self/cgroup shows "/", not the host's hierarchy. */
        if (unshare(CLONE_NEWCGROUP) < 0)
                sandbox_die_error("sandbox: cannot create a cgroup namespace: ", sandbox_text_errno(errno));
}

/* Everything the plan says, then DONE. */
_Noreturn static void run_plan(const sandbox_plan *p) {
        neutral_cmdline(p);
        /* What applying learns goes here: a mapping of our own, untouched pages cost nothing. */
        void *mem = mmap(NULL, p->scratch_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                         -1, 0);
        if (mem == MAP_FAILED)
                sandbox_die_error("sandbox: cannot map scratch space: ", sandbox_text_errno(errno));
        sandbox_scratch sc = { mem, p->scratch_size, 0 };
        sandbox_view view = { 0 };
        sandbox_apply_root(p, &sc, &view);
        if (p->egress)
                hand_over_listener(p);
        if (p->await_go)
                await_go();
        bool ok = true;
        for (size_t i = 0; i < p->n_commands && ok; i++)
                ok = run_command(p, &view, i) == 0;
        if (ok)
                report_artifacts(p);
        sandbox_report(EXECUTOR_MSG_DONE, 0, 0, NULL, "");
        _exit(0);
}

_Noreturn void sandbox_main(const sandbox_plan *p, int ctl) {
        executor_setup(ctl, -1);
        enter_sandbox(p->cgroup_procs);
        run_plan(p);
}

/* The plan, as a memfd and the address it was built at; mapped privately
 * (so it can be relocated) and relocated. Exits when the daemon closes the
 * socket instead (the pool is drained). */
static sandbox_plan *receive_plan(void) {
        executor_plan_msg m;
        int fd = -1;
        int r = sandbox_recv_fd(SANDBOX_CTL_FD, &m, sizeof m, &fd);
        if (r == -EPROTO || (r == 0 && fd < 0))
                sandbox_die_error("sandbox: malformed plan message");
        if (r < 0)
                _exit(0);   /* no plan will come */
        if (m.size < sizeof(sandbox_plan) || m.size > ((uint64_t)1 << 30))
                sandbox_die_error("sandbox: malformed plan message");
        void *map = mmap(NULL, (size_t)m.size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        close(fd);
        if (map == MAP_FAILED)
                sandbox_die_error("sandbox: cannot map the plan: ", sandbox_text_errno(errno));
        if (sandbox_plan_relocate(map, (size_t)m.size, (uintptr_t)m.base) < 0)
                sandbox_die_error("sandbox: the plan cannot be relocated");
        return map;
}

_Noreturn void sandbox_warm_main(int ctl, const char *cgroup_procs, bool own_netns, int host_mntns,
                                 uintptr_t title_start, uintptr_t title_end) {
        executor_setup(ctl, host_mntns);
        enter_sandbox(cgroup_procs);
        /* Warm: namespaces made, cgroup joined. Nothing of any peer yet. */
        sandbox_plan *p = receive_plan();
        if (p->own_netns != own_netns)
                sandbox_die_error("sandbox: the plan is for another network kind");
        p->title_start = title_start;   /* ours, not the monitor's */
        p->title_end = title_end;
        /* A fresh copy of the host's mounts as they are now, not as they were
         * when this executor was made (the host's / need not propagate). */
        if (setns(SANDBOX_MNTNS_FD, CLONE_NEWNS) < 0 || unshare(CLONE_NEWNS) < 0)
                sandbox_die_error("sandbox: cannot take a fresh copy of the host's mounts: ", sandbox_text_errno(errno));
        close(SANDBOX_MNTNS_FD);
        run_plan(p);
}
