/* sandbox.c — the executor's side: build the filesystem view, then run the
 * contract's commands one after another as the peer, each in a clean process
 * tree that dies with it (profile "cscd-v1").
 *
 * Runs as root in fresh mount/PID/IPC/UTS(/net) namespaces, as PID 1 of its
 * PID namespace, so kill(-1, SIGKILL) ends every process a command started. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <linux/openat2.h>
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

#include "executor.h"
#include "sandbox_landlock.h"
#include "sandbox_seccomp.h"
#include "path.h"

#define BASE "/tmp"                    /* mount point of the scratch tmpfs (private namespace) */
#define NEWROOT "/newroot"             /* relative to the scratch root after the first pivot */
#define OLDROOT "/oldroot"
#define SAFE_PATH "/usr/local/bin:/usr/bin:/bin"

static int ctl_fd = -1;
static int landlock_abi;   /* detected once per executor, before the first command */

static void send_msg(executor_msg_type type, uint32_t index, int exit_code, const int *fds, const char *fmt, ...) {
        executor_msg m = { .type = type, .index = index, .exit_code = exit_code };
        if (fmt) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(m.message, sizeof m.message, fmt, ap);
                va_end(ap);
        }
        struct iovec iov = { &m, sizeof m };
        union {
                char buf[CMSG_SPACE(2 * sizeof(int))];
                struct cmsghdr align;
        } cm;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (fds) {
                memset(cm.buf, 0, sizeof cm.buf);
                mh.msg_control = cm.buf;
                mh.msg_controllen = sizeof cm.buf;
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(2 * sizeof(int));
                memcpy(CMSG_DATA(c), fds, 2 * sizeof(int));
        }
        while (sendmsg(ctl_fd, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR)
                ;
}

/* Reports why the sandbox cannot be built and ends the executor. */
_Noreturn static void die_as(executor_msg_type type, const char *fmt, va_list ap) {
        char buf[256];
        vsnprintf(buf, sizeof buf, fmt, ap);
        send_msg(type, 0, 1, NULL, "%s", buf);
        _exit(1);
}

/* An internal failure: a failed receipt with exit code 1. */
_Noreturn static void die_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn static void die_error(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        die_as(EXECUTOR_MSG_ERROR, fmt, ap);
}

/* A declared path that cannot be bound safely: a blocked receipt. */
_Noreturn static void die_blocked(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn static void die_blocked(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        die_as(EXECUTOR_MSG_BLOCKED, fmt, ap);
}

/* ---- filesystem view ---------------------------------------------------- */

/* mkdir -p of an absolute path (no symlink following is needed: every
 * component we create is a directory we made, under NEWROOT). */
static int mkdir_p(const char *path, mode_t mode) {
        char tmp[4096];
        if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
                return -ENAMETOOLONG;
        for (char *p = tmp + 1; *p; p++)
                if (*p == '/') {
                        *p = 0;
                        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                                return -errno;
                        *p = '/';
                }
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int make_target(const char *target, bool dir) {
        if (dir)
                return mkdir_p(target, 0755);
        char parent[4096];
        snprintf(parent, sizeof parent, "%s", target);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) {
                *slash = 0;
                int r = mkdir_p(parent, 0755);
                if (r < 0)
                        return r;
        }
        int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return errno == EEXIST ? 0 : -errno;
        close(fd);
        return 0;
}

/* Binds the already opened host object fd at NEWROOT+path. */
static int bind_fd(int fd, const char *path, bool writable) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        char target[4096];
        snprintf(target, sizeof target, NEWROOT "%s", path);
        int r = make_target(target, S_ISDIR(st.st_mode));
        if (r < 0)
                return r;
        int tree = (int)syscall(SYS_open_tree, fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
        if (tree < 0)
                return -errno;
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (writable ? 0 : MOUNT_ATTR_RDONLY) };
        if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0 ||
            syscall(SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
                r = -errno;
                close(tree);
                return r;
        }
        close(tree);
        return 0;
}

/* Opens a host path below OLDROOT without following any symlink (so a path
 * swapped for a symlink between the policy check and now cannot redirect the
 * bind). -ENOENT when absent, -ELOOP when it traverses a symlink. */
static int open_host(int oldroot, const char *path) {
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH,
        };
        const char *rel = path[1] ? path + 1 : ".";
        int fd = (int)syscall(SYS_openat2, oldroot, rel, &how, sizeof how);
        return fd < 0 ? -errno : fd;
}

static void bind_system(int oldroot, const char *path) {
        struct stat st;
        if (fstatat(oldroot, path + 1, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return;
        char target[4096];
        snprintf(target, sizeof target, NEWROOT "%s", path);
        if (S_ISLNK(st.st_mode)) {
                char link[4096];
                ssize_t n = readlinkat(oldroot, path + 1, link, sizeof link - 1);
                if (n < 0)
                        die_error("sandbox: cannot read the symlink %s: %s", path, strerror(errno));
                link[n] = 0;
                if (symlink(link, target) < 0)
                        die_error("sandbox: cannot create the symlink %s: %s", path, strerror(errno));
                return;
        }
        int fd = open_host(oldroot, path);
        if (fd < 0)
                die_error("sandbox: cannot open %s: %s", path, strerror(-fd));
        int r = bind_fd(fd, path, false);
        close(fd);
        if (r < 0)
                die_error("sandbox: cannot bind %s: %s", path, strerror(-r));
}

typedef struct bind_spec {
        char path[4096];       /* normalized POSIX path */
        bool writable;
        bool optional_cwd;     /* the cwd's own read-only bind_spec */
} bind_spec;

static int bind_cmp(const void *a, const void *b) {
        const bind_spec *x = a, *y = b;
        size_t lx = strlen(x->path), ly = strlen(y->path);
        if (lx != ly)
                return lx < ly ? -1 : 1;     /* parents first: nested binds layer on top */
        return (int)x->writable - (int)y->writable;   /* read-only first, writable on top */
}

static bool covered(const bind_spec *b, size_t n, const char *path) {
        for (size_t i = 0; i < n; i++)
                if (csc_path_under(path, b[i].path))
                        return true;
        return false;
}

static void add_bind(bind_spec **v, size_t *n, size_t *cap, const char *path, bool writable, bool cwd) {
        if (csc_path_flavour_of(path) != CSC_PATH_POSIX)
                return;   /* Windows paths have nothing to bind on Linux */
        if (strlen(path) >= sizeof((bind_spec *)0)->path)
                die_blocked("declared path %.64s... is longer than %zu bytes", path, sizeof((bind_spec *)0)->path - 1);
        if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 16;
                bind_spec *nv = realloc(*v, *cap * sizeof **v);
                if (!nv)
                        die_error("sandbox: out of memory");
                *v = nv;
        }
        bind_spec *b = &(*v)[(*n)++];
        memset(b, 0, sizeof *b);
        csc_path_normalize(path, b->path);
        /* /dev and /proc are the sandbox's own; /sys and /run are never shown. */
        static const char *const own[] = { "/dev", "/proc", "/sys", "/run" };
        for (size_t i = 0; i < sizeof own / sizeof *own; i++)
                if (csc_path_under(b->path, own[i])) {
                        (*n)--;
                        return;
                }
        b->writable = writable;
        b->optional_cwd = cwd;
}

static void bind_declared(int oldroot, const csc_contract *c) {
        bind_spec *v = NULL;
        size_t n = 0, cap = 0;
        for (size_t i = 0; i < c->n_commands; i++) {
                const csc_command *cmd = &c->commands[i];
                for (size_t k = 0; k < cmd->read_paths.n; k++)
                        add_bind(&v, &n, &cap, cmd->read_paths.v[k], false, false);
                for (size_t k = 0; k < cmd->write_paths.n; k++)
                        add_bind(&v, &n, &cap, cmd->write_paths.v[k], true, false);
        }
        /* A cwd outside every declared path and outside the sandbox's own
         * directories is shown read-only, so the command can start there. */
        size_t declared = n;
        for (size_t i = 0; i < c->n_commands; i++) {
                char norm[4096];
                if (strlen(c->commands[i].cwd) >= sizeof norm)
                        die_blocked("cwd is longer than %zu bytes", sizeof norm - 1);
                csc_path_normalize(c->commands[i].cwd, norm);
                if (csc_path_flavour_of(norm) == CSC_PATH_POSIX && !covered(v, declared, norm) &&
                    strcmp(norm, "/") != 0 && strcmp(norm, "/tmp") != 0 && !csc_path_under(norm, "/usr") &&
                    !csc_path_under(norm, "/etc") && !csc_path_under(norm, "/proc") && !csc_path_under(norm, "/dev"))
                        add_bind(&v, &n, &cap, norm, false, true);
        }
        /* A declared "/" means "everything of the host the user may read":
         * bind each real top-level directory, not the root itself, which
         * would cover the sandbox's own /dev, /tmp and /proc. */
        for (size_t i = 0; i < n; i++) {
                if (strcmp(v[i].path, "/") != 0)
                        continue;
                bool writable = v[i].writable;
                v[i--] = v[--n];
                if (writable)
                        die_blocked("declared write path / cannot be bound");
                int dfd = openat(oldroot, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                DIR *dir = dfd < 0 ? NULL : fdopendir(dfd);
                if (!dir)
                        die_error("sandbox: cannot list the host root: %s", strerror(errno));
                static const char *const own[] = { "dev", "proc", "sys", "run", "tmp", "usr", "etc", NULL };
                struct dirent *de;
                while ((de = readdir(dir))) {
                        bool skip = de->d_name[0] == '.' || de->d_type != DT_DIR;
                        for (size_t k = 0; own[k] && !skip; k++)
                                skip = strcmp(de->d_name, own[k]) == 0;
                        if (!skip) {
                                char top[300];
                                snprintf(top, sizeof top, "/%s", de->d_name);
                                add_bind(&v, &n, &cap, top, false, false);
                        }
                }
                closedir(dir);
        }
        qsort(v, n, sizeof *v, bind_cmp);
        for (size_t i = 0; i < n; i++) {
                if (csc_path_has_dotdot(v[i].path))
                        die_blocked("declared path %s contains a '..' segment", v[i].path);
                if (strcmp(v[i].path, "/") == 0 && v[i].writable)
                        die_blocked("declared write path / cannot be bound");
                int fd = open_host(oldroot, v[i].path);
                if (fd == -ENOENT)
                        continue;   /* nothing there to show; the command sees ENOENT */
                if (fd == -ELOOP || fd == -EXDEV)
                        die_blocked("declared path %s resolves through a symlink; cscd binds only real paths",
                                    v[i].path);
                if (fd < 0)
                        die_blocked("declared path %s cannot be opened: %s", v[i].path, strerror(-fd));
                int r = bind_fd(fd, v[i].path, v[i].writable);
                close(fd);
                if (r < 0)
                        die_blocked("declared path %s cannot be bound: %s", v[i].path, strerror(-r));
        }
        free(v);
}

static void mount_tmpfs(const char *target, const char *opts, unsigned long flags) {
        if (mkdir_p(target, 0755) < 0 || mount("tmpfs", target, "tmpfs", flags, opts) < 0)
                die_error("sandbox: cannot mount tmpfs on %s: %s", target, strerror(errno));
}

static void make_dev(int oldroot) {
        mount_tmpfs(NEWROOT "/dev", "mode=0755,size=64k", MS_NOSUID | MS_NOEXEC);
        static const char *const nodes[] = { "null", "zero", "full", "random", "urandom" };
        for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++) {
                char host[64];
                snprintf(host, sizeof host, "/dev/%s", nodes[i]);
                int fd = open_host(oldroot, host);
                if (fd < 0)
                        die_error("sandbox: cannot open %s: %s", host, strerror(-fd));
                struct stat st;
                char target[128];
                snprintf(target, sizeof target, NEWROOT "/dev/%s", nodes[i]);
                int t = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
                if (t < 0 || fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode))
                        die_error("sandbox: cannot make %s", target);
                close(t);
                /* device binds keep nodev off for these five only */
                int tree = (int)syscall(SYS_open_tree, fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
                struct mount_attr attr = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC };
                if (tree < 0 || syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0 ||
                    syscall(SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        die_error("sandbox: cannot bind %s: %s", host, strerror(errno));
                close(tree);
                close(fd);
        }
        static const char *const links[][2] = {
                { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
                { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
        };
        for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
                char target[128];
                snprintf(target, sizeof target, NEWROOT "/dev/%s", links[i][1]);
                if (symlink(links[i][0], target) < 0)
                        die_error("sandbox: cannot create %s: %s", target, strerror(errno));
        }
        if (mkdir(NEWROOT "/dev/shm", 01777) < 0 || chmod(NEWROOT "/dev/shm", 01777) < 0)
                die_error("sandbox: cannot create /dev/shm: %s", strerror(errno));
        if (mount(NULL, NEWROOT "/dev", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) < 0)
                die_error("sandbox: cannot make /dev read-only: %s", strerror(errno));
}

/* Hides a host path inside the sandbox: an empty read-only tmpfs over a
 * directory, /dev/null over a file. Absent paths need nothing. */
static void mask(const char *path) {
        if (!path || path[0] != '/')
                return;
        char norm[4096], target[4096 + 16];
        if (strlen(path) >= sizeof norm)
                return;
        csc_path_normalize(path, norm);
        snprintf(target, sizeof target, NEWROOT "%s", norm);
        struct stat st;
        if (lstat(target, &st) < 0)
                return;
        if (S_ISDIR(st.st_mode)) {
                if (mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=000,size=4k") < 0)
                        die_error("sandbox: cannot mask %s: %s", norm, strerror(errno));
        } else if (!S_ISLNK(st.st_mode)) {
                if (mount(NEWROOT "/dev/null", target, NULL, MS_BIND, NULL) < 0)
                        die_error("sandbox: cannot mask %s: %s", norm, strerror(errno));
        }
}

static void mask_dirname(const char *file) {
        if (!file || file[0] != '/')
                return;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", file);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = 0;
                mask(dir);
        }
        mask(file);
}

static void build_root(const executor_request *req) {
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                die_error("sandbox: cannot make mounts private: %s", strerror(errno));
        if (mount("tmpfs", BASE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k") < 0)
                die_error("sandbox: cannot mount the scratch tmpfs: %s", strerror(errno));
        if (mkdir(BASE OLDROOT, 0755) < 0 || mkdir(BASE NEWROOT, 0755) < 0 ||
            syscall(SYS_pivot_root, BASE, BASE OLDROOT) < 0 || chdir("/") < 0)
                die_error("sandbox: cannot pivot into the scratch root: %s", strerror(errno));
        mount_tmpfs(NEWROOT, "mode=0755,size=1m", MS_NOSUID | MS_NODEV);
        int oldroot = open(OLDROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (oldroot < 0)
                die_error("sandbox: cannot open the host root: %s", strerror(errno));

        static const char *const sys[] = { "/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32" };
        for (size_t i = 0; i < sizeof sys / sizeof *sys; i++)
                bind_system(oldroot, sys[i]);
        char opts[64];
        snprintf(opts, sizeof opts, "mode=1777,size=%llu", (unsigned long long)req->config->tmp_size_bytes);
        mount_tmpfs(NEWROOT "/tmp", opts, MS_NOSUID | MS_NODEV);
        make_dev(oldroot);
        if (mount("tmpfs", NEWROOT "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0)
                die_error("sandbox: cannot mount /dev/shm: %s", strerror(errno));
        bind_declared(oldroot, req->contract);
        if (mkdir_p(NEWROOT "/proc", 0555) < 0 ||
            mount("proc", NEWROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                die_error("sandbox: cannot mount /proc: %s", strerror(errno));

        /* What must never be visible, whatever the policy allowed. */
        mask("/etc/csc");
        mask(req->config->state_dir);
        mask_dirname(req->config->signing_key_path);
        mask(getenv("CREDENTIALS_DIRECTORY"));
        mask(req->config->socket_path);   /* a socket placed outside /run */
        mask("/run");
        mask("/sys");
        mask("/var/lib/csc");
        for (size_t i = 0; i < req->config->mask_paths.n; i++)
                mask(req->config->mask_paths.v[i]);
        if (req->n_secrets > 0) {
                /* A fresh, empty /run holding only the per-command secrets mount point. */
                mount_tmpfs(NEWROOT "/run", "mode=0755,size=64k", MS_NOSUID | MS_NODEV | MS_NOEXEC);
                if (mkdir(NEWROOT "/run/secrets", 0755) < 0)
                        die_error("sandbox: cannot create /run/secrets: %s", strerror(errno));
        }
        close(oldroot);

        if (mount(NULL, NEWROOT, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
                die_error("sandbox: cannot make the root read-only: %s", strerror(errno));
        if (chdir(NEWROOT) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 ||
            chdir("/") < 0)
                die_error("sandbox: cannot pivot into the sandbox root: %s", strerror(errno));
}

/* ---- running commands --------------------------------------------------- */

static bool env_name_refused(const char *name) {
        /* Loader and libc knobs would let a command run code that is not its
         * argv[0]; the policy's allow_commands would mean nothing. */
        return strncmp(name, "LD_", 3) == 0 || strcmp(name, "GCONV_PATH") == 0 || strcmp(name, "LOCPATH") == 0 ||
               strcmp(name, "HOSTALIASES") == 0 || strcmp(name, "NLSPATH") == 0 || strcmp(name, "MALLOC_CONF") == 0 ||
               strcmp(name, "GLIBC_TUNABLES") == 0 || strchr(name, '=') != NULL;
}

static void set_env(const executor_request *req, const csc_command *cmd) {
        clearenv();
        setenv("PATH", SAFE_PATH, 1);
        setenv("HOME", "/tmp", 1);
        setenv("TMPDIR", "/tmp", 1);
        setenv("LANG", "C.UTF-8", 1);
        for (size_t i = 0; i < cmd->env_allow.n; i++) {
                const char *name = cmd->env_allow.v[i];
                const csc_json *v = req->env ? csc_json_get(req->env, name) : NULL;
                if (!v || v->type != CSC_JSON_STRING || memchr(v->string.ptr, 0, v->string.len) || env_name_refused(name))
                        continue;
                setenv(name, v->string.ptr, 1);
        }
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

typedef struct exec_report {
        int err;          /* errno */
        int stage;        /* 0 exec, 1 cwd, 2 privileges, 3 network */
} exec_report;

/* The segment process: never returns. status_fd reports why exec failed. */
_Noreturn static void run_segment(const executor_request *req, const csc_command *cmd, const csc_strv *argv,
                                  int in, int out, int err, int status_fd, bool own_netns) {
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        for (int s = 1; s < NSIG; s++)
                signal(s, SIG_DFL);
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || dup2(status_fd, 3) < 0)
                _exit(126);
        fcntl(3, F_SETFD, FD_CLOEXEC);
        close_range(4, ~0U, 0);
        exec_report rep = { 0, 3 };
        if (!own_netns && cmd->network == CSC_NET_DENY && unshare(CLONE_NEWNET) < 0)
                goto fail;
        rep.stage = 2;
        int r = drop_privileges(req);
        if (r < 0) {
                errno = -r;
                goto fail;
        }
        rep.stage = 1;
        if (chdir(cmd->cwd) < 0)
                goto fail;
        set_env(req, cmd);
        rep.stage = 2;
        if ((r = sandbox_landlock_apply(cmd, landlock_abi)) < 0) {
                errno = -r;
                goto fail;
        }
        if ((r = sandbox_seccomp_install(cmd->network == CSC_NET_DENY ? req->filter_deny_net : req->filter_net)) < 0) {
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

        rep.stage = 0;
        execvp(argv->v[0], (char *const *)argv->v);
fail:
        rep.err = errno;
        (void)!write(3, &rep, sizeof rep);
        _exit(rep.stage == 0 && (rep.err == ENOENT || rep.err == ENOTDIR) ? 127 : 126);
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
                die_error("sandbox: cannot mount /run/secrets: %s", strerror(errno));
        for (size_t i = 0; i < req->n_secrets; i++) {
                const cscd_secret *s = &req->secrets[i];
                if (s->command != index)
                        continue;
                char path[256];
                snprintf(path, sizeof path, "/run/secrets/%s", s->name);
                int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0400);
                if (fd < 0 || write(fd, s->value, s->len) != (ssize_t)s->len || fchown(fd, req->uid, req->gid) < 0)
                        die_error("sandbox: cannot place secret %s: %s", s->name, strerror(errno));
                close(fd);
        }
        return true;
}

static int run_command(const executor_request *req, size_t index, bool own_netns) {
        const csc_command *cmd = &req->contract->commands[index];
        bool secrets = place_secrets(req, index);
        int out[2], err[2];
        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
                die_error("sandbox: cannot create pipes: %s", strerror(errno));
        int rd[2] = { out[0], err[0] };
        send_msg(EXECUTOR_MSG_STARTED, (uint32_t)index, 0, rd, NULL);
        close(out[0]);
        close(err[0]);

        size_t n = cmd->n_argvs;
        pid_t pids[16];
        int status_rd[16], seg_status[16];
        bool seg_done[16];
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int prev_read = devnull;
        for (size_t s = 0; s < n; s++) {
                int link[2] = { -1, -1 }, st[2];
                if ((s + 1 < n && pipe2(link, O_CLOEXEC) < 0) || pipe2(st, O_CLOEXEC) < 0)
                        die_error("sandbox: cannot create pipes: %s", strerror(errno));
                pid_t pid = fork();
                if (pid < 0)
                        die_error("sandbox: cannot fork: %s", strerror(errno));
                if (pid == 0) {
                        close(st[0]);
                        run_segment(req, cmd, &cmd->argvs[s], prev_read, s + 1 < n ? link[1] : out[1], err[1], st[1],
                                    own_netns);
                }
                close(st[1]);
                if (prev_read != devnull)
                        close(prev_read);
                if (link[1] >= 0)
                        close(link[1]);
                prev_read = link[0];
                pids[s] = pid;
                status_rd[s] = st[0];
                seg_done[s] = false;
                seg_status[s] = 0;
        }
        if (prev_read >= 0 && prev_read != devnull)
                close(prev_read);
        close(devnull);
        close(out[1]);
        close(err[1]);

        /* Wait for every segment, or the timeout. */
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        int64_t deadline = now_ms() + cmd->timeout_sec * 1000;
        bool timed_out = false;
        size_t remaining = n;
        while (remaining > 0) {
                int st;
                pid_t p;
                while ((p = waitpid(-1, &st, WNOHANG)) > 0)
                        for (size_t s = 0; s < n; s++)
                                if (pids[s] == p && !seg_done[s]) {
                                        seg_done[s] = true;
                                        seg_status[s] = st;
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
        kill_and_reap_all();   /* no process outlives its command */
        if (secrets && umount2("/run/secrets", MNT_DETACH) < 0)
                die_error("sandbox: cannot remove /run/secrets: %s", strerror(errno));

        int code = 0;
        char message[200] = "";
        if (timed_out) {
                code = 124;
                snprintf(message, sizeof message, "command timed out after %lld seconds", (long long)cmd->timeout_sec);
        } else {
                for (size_t s = 0; s < n && code == 0; s++) {
                        exec_report rep;
                        ssize_t got = read(status_rd[s], &rep, sizeof rep);
                        int st = seg_status[s];
                        int c = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
                        if (WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE && s + 1 < n)
                                c = 0;   /* `yes | head -1` succeeds */
                        if (got == (ssize_t)sizeof rep) {
                                static const char *const what[] = { "cannot execute", "cannot enter the working directory",
                                                                    "cannot drop privileges", "cannot isolate the network" };
                                const char *arg = rep.stage == 1 ? cmd->cwd : cmd->argvs[s].v[0];
                                snprintf(message, sizeof message, "%s %.120s: %s", what[rep.stage & 3], arg,
                                         rep.stage == 0 && rep.err == ENOENT ? "executable not found" : strerror(rep.err));
                        }
                        code = c;
                }
        }
        for (size_t s = 0; s < n; s++)
                close(status_rd[s]);
        send_msg(EXECUTOR_MSG_EXIT, (uint32_t)index, code, NULL, "%s", message);
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
                        static const char digits[] = "0123456789abcdef";
                        for (int k = 0; k < 32; k++) {
                                hex[2 * k] = digits[d[k] >> 4];
                                hex[2 * k + 1] = digits[d[k] & 15];
                        }
                        hex[64] = 0;
                        send_msg(EXECUTOR_MSG_ARTIFACT, (uint32_t)i, 0, NULL, "%s", hex);
                }
        }
}

_Noreturn void sandbox_main(const executor_request *req, int ctl, bool own_netns) {
        /* Die with the daemon; never keep its signal mask. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (dup2(ctl, 3) < 0)
                _exit(1);
        ctl_fd = 3;
        fcntl(ctl_fd, F_SETFD, FD_CLOEXEC);
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
        (void)sethostname("csc-sandbox", strlen("csc-sandbox"));

        if (req->cgroup_procs) {
                /* Join the execution's pids cgroup before anything else runs. */
                int fd = open(req->cgroup_procs, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, "0", 1) != 1)
                        die_error("sandbox: cannot join the execution cgroup %s: %s", req->cgroup_procs, strerror(errno));
                close(fd);
        }
        landlock_abi = sandbox_landlock_abi();
        build_root(req);
        bool ok = true;
        for (size_t i = 0; i < req->contract->n_commands && ok; i++)
                ok = run_command(req, i, own_netns) == 0;
        if (ok)
                report_artifacts(req);
        send_msg(EXECUTOR_MSG_DONE, 0, 0, NULL, NULL);
        _exit(0);
}
