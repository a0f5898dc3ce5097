/* sandbox_fs.c — the executor builds the sandbox's filesystem view.
 *
 * Order matters (sandbox rule 1):
 *  1. every declared path (and a cwd outside them) is resolved by a process
 *     holding the peer's credentials (sandbox_resolve.c), before any mount
 *     changes, into O_PATH descriptors;
 *  2. a scratch tmpfs becomes the root; the new root is a private tmpfs on
 *     which the system binds, /tmp, /dev, /dev/shm, /proc and /run are made,
 *     all before anything of a user's is mounted;
 *  3. the declared paths are mounted from their descriptors onto mount points
 *     created relative to the new root's descriptor (sandbox_mount.c); then
 *     the protected paths the peer's walk found inside writable roots
 *     (sandbox_resolve.c) are re-mounted read-only from the sandbox's own
 *     view, after their ancestors are pinned, and only then the write paths
 *     an explicit policy prefix unlocked inside them;
 *  4. the daemon's own files are masked, by descriptor;
 *  5. pivot into the new root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "build-config.h"
#include "executor.h"
#include "path.h"
#include "protected_paths.h"
#include "safe_open.h"
#include "sandbox_fs.h"
#include "sandbox_mount.h"
#include "sandbox_report.h"
#include "sandbox_resolve.h"

#define BASE "/tmp"                    /* mount point of the scratch tmpfs (private namespace) */
#define NEWROOT "/newroot"             /* relative to the scratch root after the first pivot */
#define OLDROOT "/oldroot"
#define ATTR_RO (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

typedef struct bind_spec {
        char path[SANDBOX_PATH_MAX];   /* normalized POSIX path */
        bool writable;
        int fd;                        /* peer-resolved O_PATH descriptor, or -errno */
        bool deferred;                 /* an unlocked write path inside a protected path: bound after it */
} bind_spec;

typedef struct bind_set {
        bind_spec *v;
        size_t n, cap;
} bind_set;

static int bind_cmp(const void *a, const void *b) {
        const bind_spec *x = a, *y = b;
        size_t lx = strlen(x->path), ly = strlen(y->path);
        if (lx != ly)
                return lx < ly ? -1 : 1;     /* parents first: nested binds layer on top */
        return (int)x->writable - (int)y->writable;   /* read-only first, writable on top */
}

static bool covered(const bind_set *s, size_t n, const char *path) {
        for (size_t i = 0; i < n; i++)
                if (csc_path_under(path, s->v[i].path))
                        return true;
        return false;
}

static void add_bind(bind_set *s, const char *path, bool writable) {
        if (csc_path_flavour_of(path) != CSC_PATH_POSIX)
                return;   /* Windows paths have nothing to bind on Linux */
        if (strlen(path) >= SANDBOX_PATH_MAX)
                sandbox_die_blocked("declared path %.64s... is longer than %d bytes", path, SANDBOX_PATH_MAX - 1);
        char norm[SANDBOX_PATH_MAX];
        csc_path_normalize(path, norm);
        if (csc_path_has_dotdot(norm))
                sandbox_die_blocked("declared path %s contains a '..' segment", norm);
        /* The sandbox's own /tmp and /dev/shm are private: never a host tree
         * (the daemon refuses such contracts before they get here). */
        if (csc_path_under(norm, "/tmp") || csc_path_under(norm, "/dev/shm"))
                sandbox_die_blocked("declared path %s lies in the sandbox's private %s", norm,
                                    csc_path_under(norm, "/tmp") ? "/tmp" : "/dev/shm");
        /* /dev and /proc are the sandbox's own; /sys and /run are never shown. */
        static const char *const own[] = { "/dev", "/proc", "/sys", "/run" };
        for (size_t i = 0; i < sizeof own / sizeof *own; i++)
                if (csc_path_under(norm, own[i]))
                        return;
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 16;
                bind_spec *nv = realloc(s->v, cap * sizeof *nv);
                if (!nv)
                        sandbox_die_error("sandbox: out of memory");
                s->v = nv;
                s->cap = cap;
        }
        bind_spec *b = &s->v[s->n++];
        memcpy(b->path, norm, strlen(norm) + 1);
        b->writable = writable;
        b->fd = -1;
        b->deferred = false;
}

/* A declared "/" means "everything of the host the user may read": each real
 * top-level directory (listed by us, from the fixed path "/"), not the root
 * itself, which would cover the sandbox's own /dev, /tmp and /proc. */
static void expand_root(bind_set *s) {
        for (size_t i = 0; i < s->n; i++) {
                if (strcmp(s->v[i].path, "/") != 0)
                        continue;
                if (s->v[i].writable)
                        sandbox_die_blocked("declared write path / cannot be bound");
                s->v[i--] = s->v[--s->n];
                DIR *dir = opendir("/");
                if (!dir)
                        sandbox_die_error("sandbox: cannot list the host root: %s", strerror(errno));
                static const char *const own[] = { "dev", "proc", "sys", "run", "tmp", "usr", "etc", NULL };
                struct dirent *de;
                while ((de = readdir(dir))) {
                        bool skip = de->d_name[0] == '.' || de->d_type != DT_DIR;
                        for (size_t k = 0; own[k] && !skip; k++)
                                skip = strcmp(de->d_name, own[k]) == 0;
                        if (!skip) {
                                char top[300];
                                snprintf(top, sizeof top, "/%s", de->d_name);
                                add_bind(s, top, false);
                        }
                }
                closedir(dir);
        }
}

static void collect_binds(const csc_contract *c, bind_set *s) {
        for (size_t i = 0; i < c->n_commands; i++) {
                const csc_command *cmd = &c->commands[i];
                for (size_t k = 0; k < cmd->read_paths.n; k++)
                        add_bind(s, cmd->read_paths.v[k], false);
                for (size_t k = 0; k < cmd->write_paths.n; k++)
                        add_bind(s, cmd->write_paths.v[k], true);
        }
        /* A cwd outside every declared path and outside the sandbox's own
         * directories is shown read-only, so the command can start there. */
        size_t declared = s->n;
        for (size_t i = 0; i < c->n_commands; i++) {
                char norm[SANDBOX_PATH_MAX];
                if (strlen(c->commands[i].cwd) >= sizeof norm)
                        sandbox_die_blocked("cwd is longer than %zu bytes", sizeof norm - 1);
                csc_path_normalize(c->commands[i].cwd, norm);
                if (csc_path_flavour_of(norm) == CSC_PATH_POSIX && !covered(s, declared, norm) &&
                    strcmp(norm, "/") != 0 && !csc_path_under(norm, "/tmp") && !csc_path_under(norm, "/usr") &&
                    !csc_path_under(norm, "/etc") && !csc_path_under(norm, "/proc") && !csc_path_under(norm, "/dev"))
                        add_bind(s, norm, false);
        }
        expand_root(s);
        if (s->n > 1)   /* qsort(NULL, 0) is undefined */
                qsort(s->v, s->n, sizeof *s->v, bind_cmp);
}

/* Step 1: the peer resolves every path; nothing of ours is mounted yet. */
static void resolve_binds(const executor_request *req, bind_set *s) {
        if (s->n == 0)
                return;
        const char **paths = calloc(s->n, sizeof *paths);
        int *fds = calloc(s->n, sizeof *fds);
        if (!paths || !fds)
                sandbox_die_error("sandbox: out of memory");
        for (size_t i = 0; i < s->n; i++)
                paths[i] = s->v[i].path;
        sandbox_peer who = { req->uid, req->gid, req->groups, req->n_groups };
        int r = sandbox_resolve_as_peer(&who, paths, s->n, fds);
        if (r < 0)
                sandbox_die_error("sandbox: cannot resolve the declared paths as the peer: %s", strerror(-r));
        for (size_t i = 0; i < s->n; i++)
                s->v[i].fd = fds[i];
        free(paths);
        free(fds);
}

/* ---- Protected paths inside writable roots (docs/sandbox.md) ---- */

typedef struct protect_op {
        char *path;
        int fd;                        /* the peer's O_PATH descriptor: the inode to find there */
        sandbox_found_kind kind;
} protect_op;

typedef struct protect_set {
        protect_op *v;
        size_t n, cap;
} protect_set;

/* What this sandbox keeps read-only, for the failure note (the executor is
 * one process building one sandbox). */
static protect_set kept;

static int keep(protect_set *s, sandbox_found_kind kind, const char *path, int fd) {
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 32;
                protect_op *nv = realloc(s->v, cap * sizeof *nv);
                if (!nv)
                        return -ENOMEM;
                s->v = nv;
                s->cap = cap;
        }
        char *d = strdup(path);
        if (!d)
                return -ENOMEM;
        s->v[s->n++] = (protect_op){ d, fd, kind };
        return 0;
}

static int on_found(void *userdata, sandbox_found_kind kind, const char *path, int fd) {
        int r = keep(userdata, kind, path, fd);
        if (r < 0)
                close(fd);
        return r;
}

static int op_cmp(const void *a, const void *b) {
        const protect_op *x = a, *y = b;
        size_t lx = strlen(x->path), ly = strlen(y->path);
        if (lx != ly)
                return lx < ly ? -1 : 1;   /* parents first */
        int c = strcmp(x->path, y->path);
        return c ? c : (int)x->kind - (int)y->kind;   /* PROTECT before PIN of the same path */
}

/* The configured names: protected_paths followed by protected_paths_extra. */
static const char **protected_entries(const cscd_config *cfg, size_t *n) {
        *n = cfg->protected_paths.n + cfg->protected_paths_extra.n;
        const char **v = calloc(*n + 1, sizeof *v);
        if (!v)
                sandbox_die_error("sandbox: out of memory");
        for (size_t i = 0; i < cfg->protected_paths.n; i++)
                v[i] = cfg->protected_paths.v[i];
        for (size_t i = 0; i < cfg->protected_paths_extra.n; i++)
                v[cfg->protected_paths.n + i] = cfg->protected_paths_extra.v[i];
        return v;
}

/* A declared write path that is (or lies in) a protected name stays writable
 * only when the policy unlocks it explicitly; otherwise it is bound
 * read-only. */
static void downgrade_named(const executor_request *req, bind_set *s, const char *const *entries, size_t n) {
        const csc_strv *pre = req->write_prefixes;
        for (size_t i = 0; i < s->n; i++) {
                bind_spec *b = &s->v[i];
                char p[SANDBOX_PATH_MAX];
                if (!b->writable || !pp_name_match(b->path, entries, n, p, sizeof p))
                        continue;
                if (pre && pp_unlocks(p, b->path, pre->v, pre->n))
                        continue;
                b->writable = false;
                if (keep(&kept, SANDBOX_FOUND_PROTECT, b->path, -1) < 0)
                        sandbox_die_error("sandbox: out of memory");
        }
}

/* Step 1b: the peer walks every writable root for protected names. */
static void find_protected(const executor_request *req, bind_set *s, protect_set *ops) {
        size_t n_entries;
        const char **entries = protected_entries(req->config, &n_entries);
        if (n_entries == 0) {
                free(entries);
                return;
        }
        downgrade_named(req, s, entries, n_entries);
        const char **roots = calloc(s->n + 1, sizeof *roots);
        if (!roots)
                sandbox_die_error("sandbox: out of memory");
        size_t n_roots = 0;
        for (size_t i = 0; i < s->n; i++) {
                bool inner = false;   /* a writable root inside another is walked with it */
                for (size_t k = 0; k < s->n && !inner; k++)
                        inner = k != i && s->v[k].writable && s->v[k].fd >= 0 &&
                                csc_path_under(s->v[i].path, s->v[k].path) &&
                                (strcmp(s->v[i].path, s->v[k].path) != 0 || k < i);
                if (s->v[i].writable && s->v[i].fd >= 0 && !inner)
                        roots[n_roots++] = s->v[i].path;
        }
        const cscd_config *cfg = req->config;
        sandbox_walk_limits lim = { cfg->protected_walk_max_entries, cfg->protected_walk_max_depth,
                                    cfg->protected_walk_timeout_ms, cfg->protected_walk_max_found };
        sandbox_peer who = { req->uid, req->gid, req->groups, req->n_groups };
        char why[512];
        int r = n_roots ? sandbox_find_protected_as_peer(&who, roots, n_roots, entries, n_entries, &lim, on_found, ops,
                                                         why, sizeof why)
                        : 0;
        free(roots);
        free(entries);
        if (r == 1)
                sandbox_die_blocked("%s", why);
        if (r < 0)
                sandbox_die_error("sandbox: cannot look for protected paths as the peer: %s", strerror(-r));
        if (ops->n > 1)
                qsort(ops->v, ops->n, sizeof *ops->v, op_cmp);
        size_t out = 0;
        for (size_t i = 0; i < ops->n; i++) {
                if (out > 0 && strcmp(ops->v[out - 1].path, ops->v[i].path) == 0) {
                        close(ops->v[i].fd);
                        free(ops->v[i].path);
                        continue;
                }
                ops->v[out++] = ops->v[i];
        }
        ops->n = out;
        /* An explicit unlock: the write path itself is not re-mounted, and a
         * write path inside a protected one is bound after it. */
        const csc_strv *pre = req->write_prefixes;
        for (size_t i = 0; i < ops->n; i++) {
                protect_op *op = &ops->v[i];
                for (size_t k = 0; k < s->n && op->kind == SANDBOX_FOUND_PROTECT; k++) {
                        bind_spec *b = &s->v[k];
                        if (!b->writable || !pre || !pp_unlocks(op->path, b->path, pre->v, pre->n))
                                continue;
                        if (strcmp(b->path, op->path) == 0)
                                op->kind = SANDBOX_FOUND_PIN;   /* unlocked: only pinned */
                        else
                                b->deferred = true;
                }
                if (op->kind == SANDBOX_FOUND_PROTECT && keep(&kept, SANDBOX_FOUND_PROTECT, op->path, -1) < 0)
                        sandbox_die_error("sandbox: out of memory");
        }
}

/* Step 3b: pins (a bind of the sandbox's own view onto itself, so the
 * directory cannot be renamed away: EBUSY) and read-only re-mounts, each on
 * the very inode the peer found, never granting more than the view had. */
static void apply_protected(int rootfd, protect_set *ops) {
        for (size_t i = 0; i < ops->n; i++) {
                protect_op *op = &ops->v[i];
                struct stat st;
                int target = -1;
                int r = fstat(op->fd, &st) < 0 ? -errno
                                               : sandbox_mount_point(rootfd, op->path, S_ISDIR(st.st_mode), &st, &target);
                if (r == -ESTALE)
                        sandbox_die_blocked("protected path %s changed while the sandbox was built", op->path);
                r = r < 0 ? r
                          : sandbox_bind_fd(target, target, op->kind == SANDBOX_FOUND_PROTECT ? ATTR_RO : 0, true);
                if (r < 0)
                        sandbox_die_blocked("protected path %s cannot be made read-only: %s", op->path, strerror(-r));
                close(target);
                close(op->fd);
                free(op->path);
        }
        free(ops->v);
        *ops = (protect_set){ 0 };
}

size_t sandbox_protected_note(const csc_command *cmd, char *buf, size_t size) {
        size_t len = 0, listed = 0;
        if (size)
                buf[0] = 0;
        for (size_t i = 0; i < kept.n && size; i++) {
                bool in = false;
                for (size_t k = 0; k < cmd->write_paths.n && !in; k++)
                        in = csc_path_under(kept.v[i].path, cmd->write_paths.v[k]) ||
                             csc_path_under(cmd->write_paths.v[k], kept.v[i].path);
                if (!in)
                        continue;
                int w = snprintf(buf + len, size - len, "%s%s", listed ? ", " : "", kept.v[i].path);
                if (w < 0 || (size_t)w >= size - len) {
                        buf[len] = 0;
                        break;
                }
                len += (size_t)w;
                listed++;
        }
        return listed;
}

/* Opens a fixed system path below OLDROOT without following any symlink. */
static int open_host(int oldroot, const char *path) {
        return safe_openat2(oldroot, path[1] ? path + 1 : ".", O_PATH,
                            RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH);
}

static void bind_system(int oldroot, int rootfd, const char *path) {
        struct stat st;
        if (fstatat(oldroot, path + 1, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return;
        if (S_ISLNK(st.st_mode)) {
                char link[SANDBOX_PATH_MAX];
                ssize_t n = readlinkat(oldroot, path + 1, link, sizeof link - 1);
                if (n < 0)
                        sandbox_die_error("sandbox: cannot read the symlink %s: %s", path, strerror(errno));
                link[n] = 0;
                if (symlinkat(link, rootfd, path + 1) < 0)
                        sandbox_die_error("sandbox: cannot create the symlink %s: %s", path, strerror(errno));
                return;
        }
        int fd = open_host(oldroot, path), target = -1;
        int r = fd < 0 ? fd : sandbox_mount_point(rootfd, path, true, NULL, &target);
        r = r < 0 ? r : sandbox_bind_fd(fd, target, ATTR_RO, true);
        if (r < 0)
                sandbox_die_error("sandbox: cannot bind %s: %s", path, strerror(-r));
        close(target);
        close(fd);
}

/* Step 3: one declared path, from the peer's descriptor. */
static void bind_declared(int rootfd, const bind_spec *b) {
        if (b->fd == -ENOENT || b->fd == -ENOTDIR)
                return;   /* nothing there to show; the command sees ENOENT */
        if (b->fd == -ELOOP)
                sandbox_die_blocked("declared path %s resolves through a symlink; cscd binds only real paths", b->path);
        if (b->fd == -EACCES || b->fd == -EPERM)
                sandbox_die_blocked("declared path %s is not reachable by the submitting user on the host "
                                    "(permission denied)", b->path);
        if (b->fd < 0)
                sandbox_die_blocked("declared path %s cannot be opened: %s", b->path, strerror(-b->fd));
        struct stat st;
        int target = -1;
        int r = fstat(b->fd, &st) < 0 ? -errno : sandbox_mount_point(rootfd, b->path, S_ISDIR(st.st_mode), &st, &target);
        if (r == -ESTALE)
                sandbox_die_blocked("declared path %s changed while it was being bound", b->path);
        r = r < 0 ? r : sandbox_bind_fd(b->fd, target, b->writable ? MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV : ATTR_RO, true);
        if (r < 0)
                sandbox_die_blocked("declared path %s cannot be bound: %s", b->path, strerror(-r));
        close(target);
}

/* mkdir -p beneath the new root, before anything of a user's is mounted
 * there (every component is one of ours). */
static void mkdir_ours(const char *path, mode_t mode) {
        char tmp[SANDBOX_PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s", path);
        for (char *p = tmp + 1; *p; p++)
                if (*p == '/') {
                        *p = 0;
                        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                                sandbox_die_error("sandbox: cannot create %s: %s", tmp, strerror(errno));
                        *p = '/';
                }
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                sandbox_die_error("sandbox: cannot create %s: %s", tmp, strerror(errno));
}

static void mount_tmpfs(const char *target, const char *opts, unsigned long flags) {
        mkdir_ours(target, 0755);
        if (mount("tmpfs", target, "tmpfs", flags, opts) < 0)
                sandbox_die_error("sandbox: cannot mount tmpfs on %s: %s", target, strerror(errno));
}

static void make_dev(int oldroot) {
        mount_tmpfs(NEWROOT "/dev", "mode=0755,size=64k", MS_NOSUID | MS_NOEXEC);
        static const char *const nodes[] = { "null", "zero", "full", "random", "urandom" };
        for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++) {
                char host[64], target[128];
                snprintf(host, sizeof host, "/dev/%s", nodes[i]);
                snprintf(target, sizeof target, NEWROOT "/dev/%s", nodes[i]);
                int fd = open_host(oldroot, host);
                struct stat st;
                if (fd < 0 || fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode))
                        sandbox_die_error("sandbox: cannot open %s", host);
                int t = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
                if (t < 0)
                        sandbox_die_error("sandbox: cannot make %s: %s", target, strerror(errno));
                /* device binds keep nodev off for these five only */
                int r = sandbox_bind_fd(fd, t, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, false);
                if (r < 0)
                        sandbox_die_error("sandbox: cannot bind %s: %s", host, strerror(-r));
                close(t);
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
                        sandbox_die_error("sandbox: cannot create %s: %s", target, strerror(errno));
        }
        if (mkdir(NEWROOT "/dev/shm", 01777) < 0 || chmod(NEWROOT "/dev/shm", 01777) < 0)
                sandbox_die_error("sandbox: cannot create /dev/shm: %s", strerror(errno));
        if (mount(NULL, NEWROOT "/dev", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) < 0)
                sandbox_die_error("sandbox: cannot make /dev read-only: %s", strerror(errno));
}

/* Step 2: everything of ours, before anything of a user's. */
static void make_own(const executor_request *req, int oldroot, int rootfd) {
        static const char *const sys[] = { "/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32" };
        for (size_t i = 0; i < sizeof sys / sizeof *sys; i++)
                bind_system(oldroot, rootfd, sys[i]);
        char opts[64];
        snprintf(opts, sizeof opts, "mode=1777,size=%llu", (unsigned long long)req->config->tmp_size_bytes);
        mount_tmpfs(NEWROOT "/tmp", opts, MS_NOSUID | MS_NODEV);
        make_dev(oldroot);
        if (mount("tmpfs", NEWROOT "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0)
                sandbox_die_error("sandbox: cannot mount /dev/shm: %s", strerror(errno));
        mkdir_ours(NEWROOT "/proc", 0555);
        if (mount("proc", NEWROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                sandbox_die_error("sandbox: cannot mount /proc: %s", strerror(errno));
        if (req->n_secrets > 0) {
                /* A fresh, empty /run holding only the per-command secrets mount point. */
                mount_tmpfs(NEWROOT "/run", "mode=0755,size=64k", MS_NOSUID | MS_NODEV | MS_NOEXEC);
                mkdir_ours(NEWROOT "/run/secrets", 0755);
        }
}

static void mask(int rootfd, int devnull, const char *path) {
        if (!path || path[0] != '/' || strlen(path) >= SANDBOX_PATH_MAX)
                return;
        char norm[SANDBOX_PATH_MAX];
        csc_path_normalize(path, norm);
        int r = sandbox_mask(rootfd, norm, devnull);
        if (r < 0)
                sandbox_die_error("sandbox: cannot mask %s: %s", norm, strerror(-r));
}

static void mask_dirname(int rootfd, int devnull, const char *file) {
        if (!file || file[0] != '/' || strlen(file) >= SANDBOX_PATH_MAX)
                return;
        char dir[SANDBOX_PATH_MAX];
        snprintf(dir, sizeof dir, "%s", file);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = 0;
                mask(rootfd, devnull, dir);
        }
        mask(rootfd, devnull, file);
}

/* Step 4: what must never be visible, whatever the policy allowed. */
static void mask_daemon_files(const executor_request *req, int rootfd) {
        int devnull = open(NEWROOT "/dev/null", O_PATH | O_CLOEXEC | O_NOFOLLOW);
        if (devnull < 0)
                sandbox_die_error("sandbox: cannot open /dev/null: %s", strerror(errno));
        const cscd_config *cfg = req->config;
        mask(rootfd, devnull, CSC_CONFDIR);
        mask(rootfd, devnull, "/etc/csc");   /* the usual place, whatever this build's sysconfdir */
        mask(rootfd, devnull, cfg->state_dir);
        mask(rootfd, devnull, cfg->secrets_dir);
        mask_dirname(rootfd, devnull, cfg->signing_key_path);
        mask(rootfd, devnull, getenv("CREDENTIALS_DIRECTORY"));
        mask(rootfd, devnull, cfg->socket_path);   /* a socket placed outside /run */
        mask(rootfd, devnull, "/var/lib/csc");
        for (size_t i = 0; i < cfg->mask_paths.n; i++)
                mask(rootfd, devnull, cfg->mask_paths.v[i]);
        close(devnull);
}

void sandbox_build_root(const executor_request *req) {
        bind_set binds = { 0 };
        protect_set ops = { 0 };
        collect_binds(req->contract, &binds);
        resolve_binds(req, &binds);
        find_protected(req, &binds, &ops);

        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                sandbox_die_error("sandbox: cannot make mounts private: %s", strerror(errno));
        if (mount("tmpfs", BASE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k") < 0)
                sandbox_die_error("sandbox: cannot mount the scratch tmpfs: %s", strerror(errno));
        if (mkdir(BASE OLDROOT, 0755) < 0 || mkdir(BASE NEWROOT, 0755) < 0 ||
            syscall(SYS_pivot_root, BASE, BASE OLDROOT) < 0 || chdir("/") < 0)
                sandbox_die_error("sandbox: cannot pivot into the scratch root: %s", strerror(errno));
        mount_tmpfs(NEWROOT, "mode=0755,size=1m", MS_NOSUID | MS_NODEV);
        int oldroot = open(OLDROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int rootfd = open(NEWROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (oldroot < 0 || rootfd < 0)
                sandbox_die_error("sandbox: cannot open the roots: %s", strerror(errno));

        make_own(req, oldroot, rootfd);
        for (size_t i = 0; i < binds.n; i++)
                if (!binds.v[i].deferred)
                        bind_declared(rootfd, &binds.v[i]);
        apply_protected(rootfd, &ops);
        for (size_t i = 0; i < binds.n; i++) {
                if (binds.v[i].deferred)
                        bind_declared(rootfd, &binds.v[i]);
                if (binds.v[i].fd >= 0)
                        close(binds.v[i].fd);
        }
        free(binds.v);
        mask_daemon_files(req, rootfd);
        close(rootfd);
        close(oldroot);

        if (mount(NULL, NEWROOT, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
                sandbox_die_error("sandbox: cannot make the root read-only: %s", strerror(errno));
        if (chdir(NEWROOT) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 ||
            chdir("/") < 0)
                sandbox_die_error("sandbox: cannot pivot into the sandbox root: %s", strerror(errno));
}
