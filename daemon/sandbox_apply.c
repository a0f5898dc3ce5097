/* sandbox_apply.c — the executor applies a plan's filesystem view
 * (sandbox_plan.h). It runs after the clone: system calls and
 * async-signal-safe functions only; what it learns goes to the scratch
 * mapping the executor made for it, never to malloc.
 *
 * Order matters (sandbox rule 1):
 *  1. every bind of the plan (declared paths, a cwd outside them) is resolved by a process
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
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "path.h"
#include "protected_paths.h"
#include "safe_open.h"
#include "sandbox_apply.h"
#include "sandbox_mount.h"
#include "sandbox_report.h"
#include "sandbox_resolve.h"
#include "sandbox_text.h"

#define BASE "/tmp"                    /* mount point of the scratch tmpfs (private namespace) */
#define NEWROOT "/newroot"             /* relative to the scratch root after the first pivot */
#define OLDROOT "/oldroot"
#define ATTR_RO (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)

/* What applying learns, in the scratch mapping. */
typedef struct bind_state {
        int fd;                        /* peer-resolved O_PATH descriptor, or -errno */
        bool writable;                 /* the plan's, unless a protected name downgraded it */
        bool deferred;                 /* an unlocked write path inside a protected path: bound after it */
} bind_state;

typedef struct protect_op {
        const char *path;
        int fd;                        /* the peer's O_PATH descriptor: the inode to find there */
        sandbox_found_kind kind;
} protect_op;

typedef struct applier {
        const sandbox_plan *p;
        sandbox_scratch *sc;
        bind_state *b;                 /* one per plan bind */
        protect_op *ops;
        size_t n_ops, cap_ops;
        sandbox_view *view;
} applier;

void *sandbox_scratch_alloc(sandbox_scratch *sc, size_t size) {
        size = (size + 15) & ~(size_t)15;
        if (size > sc->size - sc->used)
                return NULL;
        void *p = sc->base + sc->used;
        sc->used += size;
        return p;
}

static const char *scratch_strdup(sandbox_scratch *sc, const char *s) {
        size_t n = strlen(s) + 1;
        char *d = sandbox_scratch_alloc(sc, n);
        return d ? memcpy(d, s, n) : NULL;
}

/* Step 1: the peer resolves every path; nothing of ours is mounted yet. */
static void resolve_binds(applier *ap) {
        const sandbox_plan *p = ap->p;
        if (p->n_binds == 0)
                return;
        const char **paths = sandbox_scratch_alloc(ap->sc, p->n_binds * sizeof *paths);
        int *fds = sandbox_scratch_alloc(ap->sc, p->n_binds * sizeof *fds);
        if (!paths || !fds)
                sandbox_die_error("sandbox: the plan's scratch space is too small");
        for (size_t i = 0; i < p->n_binds; i++)
                paths[i] = p->binds[i].path;
        sandbox_peer who = { p->uid, p->gid, p->groups, p->n_groups };
        int r = sandbox_resolve_as_peer(&who, paths, p->n_binds, fds);
        if (r < 0)
                sandbox_die_error("sandbox: cannot resolve the declared paths as the peer: ", sandbox_text_errno(-r));
        for (size_t i = 0; i < p->n_binds; i++)
                ap->b[i].fd = fds[i];
}

/* ---- Protected paths inside writable roots (docs/sandbox.md) ---- */

/* What this sandbox keeps read-only, for the failure note. */
static void keep_note(applier *ap, const char *path) {
        sandbox_view *v = ap->view;
        if (v->n_kept < v->cap_kept)
                v->kept[v->n_kept++] = path;
}

static int on_found(void *userdata, sandbox_found_kind kind, const char *path, int fd) {
        applier *ap = userdata;
        const char *d = ap->n_ops < ap->cap_ops ? scratch_strdup(ap->sc, path) : NULL;
        if (!d) {
                close(fd);
                return -ENOMEM;
        }
        ap->ops[ap->n_ops++] = (protect_op){ d, fd, kind };
        return 0;
}

static int op_cmp(const protect_op *x, const protect_op *y) {
        size_t lx = strlen(x->path), ly = strlen(y->path);
        if (lx != ly)
                return lx < ly ? -1 : 1;   /* parents first */
        int c = strcmp(x->path, y->path);
        return c ? c : (int)x->kind - (int)y->kind;   /* PROTECT before PIN of the same path */
}

/* In place and without allocation (qsort may allocate): a heap sort. */
static void sift_down(protect_op *v, size_t root, size_t n) {
        for (size_t child; (child = 2 * root + 1) < n; root = child) {
                if (child + 1 < n && op_cmp(&v[child], &v[child + 1]) < 0)
                        child++;
                if (op_cmp(&v[root], &v[child]) >= 0)
                        return;
                protect_op t = v[root];
                v[root] = v[child];
                v[child] = t;
        }
}

static void sort_ops(protect_op *v, size_t n) {
        for (size_t i = n / 2; i-- > 0;)
                sift_down(v, i, n);
        for (size_t end = n; end-- > 1;) {
                protect_op t = v[0];
                v[0] = v[end];
                v[end] = t;
                sift_down(v, 0, end);
        }
}

/* A declared write path that is (or lies in) a protected name stays writable
 * only when the policy unlocks it explicitly; otherwise it is bound
 * read-only. */
static void downgrade_named(applier *ap) {
        const sandbox_plan *p = ap->p;
        for (size_t i = 0; i < p->n_binds; i++) {
                char prot[SANDBOX_PATH_MAX];
                if (!ap->b[i].writable || !pp_name_match(p->binds[i].path, p->protected_names, p->n_protected_names,
                                                         prot, sizeof prot))
                        continue;
                if (pp_unlocks(prot, p->binds[i].path, p->write_prefixes, p->n_write_prefixes))
                        continue;
                ap->b[i].writable = false;
                keep_note(ap, p->binds[i].path);
        }
}

/* The walk's roots: writable binds the peer could resolve, not inside another. */
static size_t walk_roots(applier *ap, const char **roots) {
        const sandbox_plan *p = ap->p;
        size_t n = 0;
        for (size_t i = 0; i < p->n_binds; i++) {
                bool inner = false;   /* a writable root inside another is walked with it */
                for (size_t k = 0; k < p->n_binds && !inner; k++)
                        inner = k != i && ap->b[k].writable && ap->b[k].fd >= 0 &&
                                csc_path_under(p->binds[i].path, p->binds[k].path) &&
                                (strcmp(p->binds[i].path, p->binds[k].path) != 0 || k < i);
                if (ap->b[i].writable && ap->b[i].fd >= 0 && !inner)
                        roots[n++] = p->binds[i].path;
        }
        return n;
}

/* Sorted, one per path; then an explicit unlock: the write path itself is
 * not re-mounted, and a write path inside a protected one is bound after it. */
static void settle_ops(applier *ap) {
        const sandbox_plan *p = ap->p;
        if (ap->n_ops > 1)
                sort_ops(ap->ops, ap->n_ops);
        size_t out = 0;
        for (size_t i = 0; i < ap->n_ops; i++) {
                if (out > 0 && strcmp(ap->ops[out - 1].path, ap->ops[i].path) == 0) {
                        close(ap->ops[i].fd);
                        continue;
                }
                ap->ops[out++] = ap->ops[i];
        }
        ap->n_ops = out;
        for (size_t i = 0; i < ap->n_ops; i++) {
                protect_op *op = &ap->ops[i];
                for (size_t k = 0; k < p->n_binds && op->kind == SANDBOX_FOUND_PROTECT; k++) {
                        const char *w = p->binds[k].path;
                        if (!ap->b[k].writable || !pp_unlocks(op->path, w, p->write_prefixes, p->n_write_prefixes))
                                continue;
                        if (strcmp(w, op->path) == 0)
                                op->kind = SANDBOX_FOUND_PIN;   /* unlocked: only pinned */
                        else
                                ap->b[k].deferred = true;
                }
                if (op->kind == SANDBOX_FOUND_PROTECT)
                        keep_note(ap, op->path);
        }
}

/* Step 1b: the peer walks every writable root for protected names. */
static void find_protected(applier *ap) {
        const sandbox_plan *p = ap->p;
        if (p->n_protected_names == 0)
                return;
        downgrade_named(ap);
        const char **roots = sandbox_scratch_alloc(ap->sc, (p->n_binds + 1) * sizeof *roots);
        ap->cap_ops = (size_t)p->walk.max_found + 1;
        ap->ops = sandbox_scratch_alloc(ap->sc, ap->cap_ops * sizeof *ap->ops);
        if (!roots || !ap->ops)
                sandbox_die_error("sandbox: the plan's scratch space is too small");
        size_t n_roots = walk_roots(ap, roots);
        sandbox_peer who = { p->uid, p->gid, p->groups, p->n_groups };
        char why[512];
        int r = n_roots ? sandbox_find_protected_as_peer(&who, roots, n_roots, p->protected_names,
                                                         p->n_protected_names, &p->walk, on_found, ap, why, sizeof why)
                        : 0;
        if (r == 1)
                sandbox_die_blocked(why);
        if (r < 0)
                sandbox_die_error("sandbox: cannot look for protected paths as the peer: ", sandbox_text_errno(-r));
        settle_ops(ap);
}

/* Step 3b: pins (a bind of the sandbox's own view onto itself, so the
 * directory cannot be renamed away: EBUSY) and read-only re-mounts, each on
 * the very inode the peer found, never granting more than the view had. */
static void apply_protected(applier *ap, int rootfd) {
        for (size_t i = 0; i < ap->n_ops; i++) {
                protect_op *op = &ap->ops[i];
                struct stat st;
                int target = -1;
                int r = fstat(op->fd, &st) < 0 ? -errno
                                               : sandbox_mount_point(rootfd, op->path, S_ISDIR(st.st_mode), &st, &target);
                if (r == -ESTALE)
                        sandbox_die_blocked("protected path ", op->path, " changed while the sandbox was built");
                r = r < 0 ? r
                          : sandbox_bind_fd(target, target, op->kind == SANDBOX_FOUND_PROTECT ? ATTR_RO : 0, true);
                if (r < 0)
                        sandbox_die_blocked("protected path ", op->path, " cannot be made read-only: ",
                                            sandbox_text_errno(-r));
                close(target);
                close(op->fd);
        }
        ap->n_ops = 0;
}

size_t sandbox_protected_note(const sandbox_view *v, const sandbox_command *cmd, char *buf, size_t size) {
        size_t len = 0, listed = 0;
        if (size)
                buf[0] = 0;
        for (size_t i = 0; i < v->n_kept && size; i++) {
                bool in = false;
                for (size_t k = 0; k < cmd->n_write_paths && !in; k++)
                        in = csc_path_under(v->kept[i], cmd->write_paths[k]) ||
                             csc_path_under(cmd->write_paths[k], v->kept[i]);
                if (!in)
                        continue;
                const char *sep = listed ? ", " : "";
                if (strlen(sep) + strlen(v->kept[i]) >= size - len)
                        break;   /* only whole names */
                sandbox_text(buf + len, size - len, sep, v->kept[i]);
                len += strlen(buf + len);
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
                        sandbox_die_error("sandbox: cannot read the symlink ", path, ": ", sandbox_text_errno(errno));
                link[n] = 0;
                if (symlinkat(link, rootfd, path + 1) < 0)
                        sandbox_die_error("sandbox: cannot create the symlink ", path, ": ", sandbox_text_errno(errno));
                return;
        }
        int fd = open_host(oldroot, path), target = -1;
        int r = fd < 0 ? fd : sandbox_mount_point(rootfd, path, true, NULL, &target);
        r = r < 0 ? r : sandbox_bind_fd(fd, target, ATTR_RO, true);
        if (r < 0)
                sandbox_die_error("sandbox: cannot bind ", path, ": ", sandbox_text_errno(-r));
        close(target);
        close(fd);
}

/* Step 3: one declared path, from the peer's descriptor. */
static void bind_declared(int rootfd, const char *path, const bind_state *b) {
        if (b->fd == -ENOENT || b->fd == -ENOTDIR)
                return;   /* nothing there to show; the command sees ENOENT */
        if (b->fd == -ELOOP)
                sandbox_die_blocked("declared path ", path, " resolves through a symlink; cscd binds only real paths");
        if (b->fd == -EACCES || b->fd == -EPERM)
                sandbox_die_blocked("declared path ", path, " is not reachable by the submitting user on the host "
                                    "(permission denied)");
        if (b->fd < 0)
                sandbox_die_blocked("declared path ", path, " cannot be opened: ", sandbox_text_errno(-b->fd));
        struct stat st;
        int target = -1;
        int r = fstat(b->fd, &st) < 0 ? -errno : sandbox_mount_point(rootfd, path, S_ISDIR(st.st_mode), &st, &target);
        if (r == -ESTALE)
                sandbox_die_blocked("declared path ", path, " changed while it was being bound");
        r = r < 0 ? r : sandbox_bind_fd(b->fd, target, b->writable ? MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV : ATTR_RO, true);
        if (r < 0)
                sandbox_die_blocked("declared path ", path, " cannot be bound: ", sandbox_text_errno(-r));
        close(target);
}

/* mkdir -p beneath the new root, before anything of a user's is mounted
 * there (every component is one of ours, a fixed name). */
static void mkdir_ours(const char *path, mode_t mode) {
        char tmp[256];
        if (strlen(path) >= sizeof tmp)
                sandbox_die_error("sandbox: cannot create ", path, ": ", sandbox_text_errno(ENAMETOOLONG));
        memcpy(tmp, path, strlen(path) + 1);
        for (char *p = tmp + 1; *p; p++)
                if (*p == '/') {
                        *p = 0;
                        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                                sandbox_die_error("sandbox: cannot create ", tmp, ": ", sandbox_text_errno(errno));
                        *p = '/';
                }
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                sandbox_die_error("sandbox: cannot create ", tmp, ": ", sandbox_text_errno(errno));
}

static void mount_tmpfs(const char *target, const char *opts, unsigned long flags) {
        mkdir_ours(target, 0755);
        if (mount("tmpfs", target, "tmpfs", flags, opts) < 0)
                sandbox_die_error("sandbox: cannot mount tmpfs on ", target, ": ", sandbox_text_errno(errno));
}

static void make_dev(int oldroot) {
        mount_tmpfs(NEWROOT "/dev", "mode=0755,size=64k", MS_NOSUID | MS_NOEXEC);
        static const char *const nodes[][2] = {
                { "/dev/null", NEWROOT "/dev/null" },       { "/dev/zero", NEWROOT "/dev/zero" },
                { "/dev/full", NEWROOT "/dev/full" },       { "/dev/random", NEWROOT "/dev/random" },
                { "/dev/urandom", NEWROOT "/dev/urandom" },
        };
        for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++) {
                int fd = open_host(oldroot, nodes[i][0]);
                struct stat st;
                if (fd < 0 || fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode))
                        sandbox_die_error("sandbox: cannot open ", nodes[i][0]);
                int t = open(nodes[i][1], O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
                if (t < 0)
                        sandbox_die_error("sandbox: cannot make ", nodes[i][1], ": ", sandbox_text_errno(errno));
                /* device binds keep nodev off for these five only */
                int r = sandbox_bind_fd(fd, t, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, false);
                if (r < 0)
                        sandbox_die_error("sandbox: cannot bind ", nodes[i][0], ": ", sandbox_text_errno(-r));
                close(t);
                close(fd);
        }
        static const char *const links[][2] = {
                { "/proc/self/fd", NEWROOT "/dev/fd" }, { "/proc/self/fd/0", NEWROOT "/dev/stdin" },
                { "/proc/self/fd/1", NEWROOT "/dev/stdout" }, { "/proc/self/fd/2", NEWROOT "/dev/stderr" },
        };
        for (size_t i = 0; i < sizeof links / sizeof *links; i++)
                if (symlink(links[i][0], links[i][1]) < 0)
                        sandbox_die_error("sandbox: cannot create ", links[i][1], ": ", sandbox_text_errno(errno));
        if (mkdir(NEWROOT "/dev/shm", 01777) < 0 || chmod(NEWROOT "/dev/shm", 01777) < 0)
                sandbox_die_error("sandbox: cannot create /dev/shm: ", sandbox_text_errno(errno));
        if (mount(NULL, NEWROOT "/dev", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) < 0)
                sandbox_die_error("sandbox: cannot make /dev read-only: ", sandbox_text_errno(errno));
}

/* Step 2: everything of ours, before anything of a user's. */
static void make_own(const sandbox_plan *p, int oldroot, int rootfd) {
        static const char *const sys[] = { "/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32" };
        for (size_t i = 0; i < sizeof sys / sizeof *sys; i++)
                bind_system(oldroot, rootfd, sys[i]);
        mount_tmpfs(NEWROOT "/tmp", p->tmp_opts, MS_NOSUID | MS_NODEV);
        make_dev(oldroot);
        if (mount("tmpfs", NEWROOT "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, p->tmp_opts) < 0)
                sandbox_die_error("sandbox: cannot mount /dev/shm: ", sandbox_text_errno(errno));
        mkdir_ours(NEWROOT "/proc", 0555);
        if (mount("proc", NEWROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                sandbox_die_error("sandbox: cannot mount /proc: ", sandbox_text_errno(errno));
        if (p->secrets_opts) {
                /* A fresh, empty /run holding only the per-command secrets mount point. */
                mount_tmpfs(NEWROOT "/run", "mode=0755,size=64k", MS_NOSUID | MS_NODEV | MS_NOEXEC);
                mkdir_ours(NEWROOT "/run/secrets", 0755);
        }
}

/* Step 4: what must never be visible, whatever the policy allowed. */
static void mask_daemon_files(const sandbox_plan *p, int rootfd) {
        int devnull = open(NEWROOT "/dev/null", O_PATH | O_CLOEXEC | O_NOFOLLOW);
        if (devnull < 0)
                sandbox_die_error("sandbox: cannot open /dev/null: ", sandbox_text_errno(errno));
        for (size_t i = 0; i < p->n_masks; i++) {
                int r = sandbox_mask(rootfd, p->masks[i], devnull);
                if (r < 0)
                        sandbox_die_error("sandbox: cannot mask ", p->masks[i], ": ", sandbox_text_errno(-r));
        }
        close(devnull);
}

/* Into the scratch tmpfs, keeping the old root below it; the new root is a
 * tmpfs of its own there. */
static void enter_scratch_root(int *ret_oldroot, int *ret_rootfd) {
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                sandbox_die_error("sandbox: cannot make mounts private: ", sandbox_text_errno(errno));
        if (mount("tmpfs", BASE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k") < 0)
                sandbox_die_error("sandbox: cannot mount the scratch tmpfs: ", sandbox_text_errno(errno));
        if (mkdir(BASE OLDROOT, 0755) < 0 || mkdir(BASE NEWROOT, 0755) < 0 ||
            syscall(SYS_pivot_root, BASE, BASE OLDROOT) < 0 || chdir("/") < 0)
                sandbox_die_error("sandbox: cannot pivot into the scratch root: ", sandbox_text_errno(errno));
        mount_tmpfs(NEWROOT, "mode=0755,size=1m", MS_NOSUID | MS_NODEV);
        *ret_oldroot = open(OLDROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
        *ret_rootfd = open(NEWROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (*ret_oldroot < 0 || *ret_rootfd < 0)
                sandbox_die_error("sandbox: cannot open the roots: ", sandbox_text_errno(errno));
}

void sandbox_apply_root(const sandbox_plan *p, sandbox_scratch *sc, sandbox_view *view) {
        applier ap = { .p = p, .sc = sc, .view = view };
        ap.b = sandbox_scratch_alloc(sc, (p->n_binds + 1) * sizeof *ap.b);
        view->cap_kept = p->n_binds + (size_t)p->walk.max_found + 1;
        view->kept = sandbox_scratch_alloc(sc, view->cap_kept * sizeof *view->kept);
        if (!ap.b || !view->kept)
                sandbox_die_error("sandbox: the plan's scratch space is too small");
        for (size_t i = 0; i < p->n_binds; i++)
                ap.b[i] = (bind_state){ -1, p->binds[i].writable, false };
        resolve_binds(&ap);
        find_protected(&ap);

        int oldroot, rootfd;
        enter_scratch_root(&oldroot, &rootfd);
        make_own(p, oldroot, rootfd);
        for (size_t i = 0; i < p->n_binds; i++)
                if (!ap.b[i].deferred)
                        bind_declared(rootfd, p->binds[i].path, &ap.b[i]);
        apply_protected(&ap, rootfd);
        for (size_t i = 0; i < p->n_binds; i++) {
                if (ap.b[i].deferred)
                        bind_declared(rootfd, p->binds[i].path, &ap.b[i]);
                if (ap.b[i].fd >= 0)
                        close(ap.b[i].fd);
        }
        mask_daemon_files(p, rootfd);
        close(rootfd);
        close(oldroot);

        if (mount(NULL, NEWROOT, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
                sandbox_die_error("sandbox: cannot make the root read-only: ", sandbox_text_errno(errno));
        if (chdir(NEWROOT) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 ||
            chdir("/") < 0)
                sandbox_die_error("sandbox: cannot pivot into the sandbox root: ", sandbox_text_errno(errno));
}
