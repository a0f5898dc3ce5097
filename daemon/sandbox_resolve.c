/* sandbox_resolve.c — declared host paths are resolved by a process holding the
 * peer's uid, gid and supplementary groups and no capabilities (sandbox rule 1).
 *
 * The kernel then checks every component with the peer's credentials, search
 * permission on each ancestor included, so a path the peer could not reach on
 * the host never becomes a descriptor (rule 2). openat2() refuses every
 * symlink and magic link on the way, so a path swapped for a symlink while it
 * is being resolved cannot redirect it. What comes back is an O_PATH
 * descriptor: the privileged side mounts from it and never walks the path. */
#include "sandbox_resolve.h"

#include "path.h"
#include "sandbox_mount.h"
#include "safe_open.h"
#include "sandbox_report.h"
#include "sandbox_text.h"

#include <dirent.h>   /* DT_* only: the listing is getdents64 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* One reply per path: the errno of the lookup (0 on success) and, on success,
 * the descriptor as SCM_RIGHTS. */
typedef struct resolve_reply {
        int32_t err;
} resolve_reply;

static int send_reply(int sock, int err, int fd) {
        resolve_reply rep = { .err = err };
        return sandbox_send_fds(sock, &rep, sizeof rep, &fd, fd >= 0 ? 1 : 0);
}

static int recv_reply(int sock, int *ret_fd) {
        resolve_reply rep;
        int fd = -1;
        int r = sandbox_recv_fd(sock, &rep, sizeof rep, &fd);
        if (r < 0)
                return -EPROTO;
        if ((rep.err == 0) != (fd >= 0) || rep.err < 0) {
                if (fd >= 0)
                        close(fd);
                return -EPROTO;
        }
        *ret_fd = rep.err == 0 ? fd : -rep.err;
        return 0;
}

/* Becomes the peer for good: groups, gid, uid, then no capability in any set
 * and no way to gain one. Raw system calls only (we are a forked child). */
static int become_peer(const sandbox_peer *who) {
        if (syscall(SYS_setgroups, who->n_groups, who->groups) < 0 ||
            syscall(SYS_setresgid, who->gid, who->gid, who->gid) < 0 ||
            syscall(SYS_setresuid, who->uid, who->uid, who->uid) < 0)
                return -errno;
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3];
        memset(none, 0, sizeof none);
        if (syscall(SYS_capset, &hdr, none) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        return 0;
}

_Noreturn static void resolver_main(const sandbox_peer *who, const char *const *paths, size_t n, int sock) {
        int r = become_peer(who);
        for (size_t i = 0; i < n; i++) {
                int fd = -1, err = -r;
                if (r == 0) {
                        fd = safe_openat2(AT_FDCWD, paths[i], O_PATH, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
                        err = fd < 0 ? -fd : 0;
                }
                if (send_reply(sock, err, fd) < 0)
                        _exit(1);
                if (fd >= 0)
                        close(fd);
        }
        _exit(0);
}

int sandbox_resolve_as_peer(const sandbox_peer *who, const char *const *paths, size_t n, int *ret_fds) {
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(sp[0]);
                close(sp[1]);
                return r;
        }
        if (pid == 0) {
                close(sp[0]);
                resolver_main(who, paths, n, sp[1]);
        }
        close(sp[1]);
        int r = 0;
        size_t got = 0;
        for (; got < n && r == 0; got++)
                r = recv_reply(sp[0], &ret_fds[got]);
        close(sp[0]);
        if (r < 0) {
                kill(pid, SIGKILL);
                for (size_t i = 0; i + 1 < got; i++)
                        if (ret_fds[i] >= 0)
                                close(ret_fds[i]);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return r;
}

/* ---- The protected-path walk (cscd.conf protected_paths) ----
 *
 * Runs as the peer, like the resolution above: every open is openat2()
 * beneath a directory descriptor with RESOLVE_NO_SYMLINKS, directories are
 * entered with O_NOFOLLOW, so a symlink or rename swapped in during the walk
 * can only make an open fail, never lead elsewhere. What is found goes back
 * as O_PATH descriptors; the privileged side only checks that the object
 * at that path in the sandbox is the same inode, then re-mounts the
 * sandbox's own view of it read-only. Every bound, when hit, refuses. */

enum { WALK_PROTECT = SANDBOX_FOUND_PROTECT, WALK_PIN = SANDBOX_FOUND_PIN, WALK_REFUSE, WALK_END };

typedef struct walk_msg {
        int32_t kind;
        char text[SANDBOX_PATH_MAX];   /* the path, or the reason of a refusal */
} walk_msg;

typedef struct walker {
        int sock;
        uid_t uid;
        const char *const *roots;
        size_t n_roots;
        const char *const *entries;
        size_t n_entries;
        const sandbox_walk_limits *lim;
        unsigned long long seen;
        unsigned found;
        struct timespec deadline;
        char last_chain[SANDBOX_PATH_MAX];   /* parent of the last object whose ancestors were pinned */
        walk_msg msg;                        /* the message being sent, or received */
} walker;

/* getdents64's record (glibc 2.36 has no wrapper). */
struct linux_dirent64_ {
        uint64_t d_ino;
        int64_t d_off;
        unsigned short d_reclen;
        unsigned char d_type;
        char d_name[];
};

/* Beneath dirfd; an absolute path (dirfd AT_FDCWD) from the peer's root. */
static int open_beneath(int dirfd, const char *rel, int flags) {
        return safe_openat2(dirfd, rel, flags,
                            (dirfd == AT_FDCWD ? 0 : RESOLVE_BENEATH) | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

static void walk_send(walker *w, int kind, const char *text, int fd) {
        w->msg.kind = kind;
        sandbox_text(w->msg.text, sizeof w->msg.text, text);
        if (sandbox_send_fds(w->sock, &w->msg, sizeof w->msg, &fd, fd >= 0 ? 1 : 0) < 0)
                _exit(1);
}

/* Refuses with the strings up to the NULL as the reason; never returns. */
_Noreturn static void walk_refuse_cat(walker *w, ...) {
        char why[512];
        size_t len = 0;
        va_list ap;
        va_start(ap, w);
        for (const char *s; (s = va_arg(ap, const char *)) && len + 1 < sizeof why;)
                len += strlen(sandbox_text(why + len, sizeof why - len, s));
        va_end(ap);
        why[len] = 0;
        walk_send(w, WALK_REFUSE, why, -1);
        _exit(0);
}
#define walk_refuse(w, ...) walk_refuse_cat(w, __VA_ARGS__, (const char *)NULL)

static void walk_emit(walker *w, int kind, const char *path, int fd) {
        char n[21];
        if (++w->found > w->lim->max_found)
                walk_refuse(w, "more than ", sandbox_text_u64(n, w->lim->max_found), " protected paths and their "
                            "directories under the write paths (protected_walk_max_found)");
        walk_send(w, kind, path, fd);
}

static void join(walker *w, char *out, const char *dir, const char *name) {
        const char *d = strcmp(dir, "/") == 0 ? "" : dir;
        if (strlen(d) + 1 + strlen(name) >= SANDBOX_PATH_MAX) {
                char head[201], n[21];
                sandbox_text(head, sizeof head, dir);
                walk_refuse(w, "a path under ", head, " is longer than ", sandbox_text_u64(n, SANDBOX_PATH_MAX - 1),
                            " bytes");
        }
        sandbox_text(out, SANDBOX_PATH_MAX, d, "/", name);
}

/* Pins every directory strictly between `root` and `path`: renaming one of
 * them away inside the sandbox (and building a new tree in its place) then
 * fails with EBUSY. */
static void pin_chain(walker *w, const char *root, const char *path) {
        char parent[SANDBOX_PATH_MAX];
        sandbox_text(parent, sizeof parent, path);
        char *slash = strrchr(parent, '/');
        if (!slash)
                return;
        *slash = 0;
        if (strcmp(parent, w->last_chain) == 0)
                return;
        sandbox_text(w->last_chain, sizeof w->last_chain, parent);
        size_t rl = strlen(root);
        for (char *p = parent + rl + 1; rl < strlen(parent) && p && *p;) {
                char *next = strchr(p, '/');
                if (next)
                        *next = 0;
                int fd = open_beneath(AT_FDCWD, parent, O_PATH | O_DIRECTORY);
                if (fd < 0)
                        walk_refuse(w, parent, " changed while protected paths were looked for: ",
                                    sandbox_text_errno(-fd));
                walk_emit(w, WALK_PIN, parent, fd);
                close(fd);
                if (next)
                        *next = '/';
                p = next ? next + 1 : NULL;
        }
}

/* dir/rel is protected: report it if it exists (then true). */
static bool protect_at(walker *w, const char *root, int dirfd, const char *dir, const char *rel) {
        char path[SANDBOX_PATH_MAX];
        join(w, path, dir, rel);
        int fd = open_beneath(dirfd, rel, O_PATH);
        if (fd == -ENOENT || fd == -ENOTDIR)
                return false;
        if (fd == -ELOOP)
                walk_refuse(w, "protected path ", path, " is, or passes through, a symlink; cscd cannot keep what "
                            "it points to read-only");
        if (fd < 0)
                walk_refuse(w, "protected path ", path, " cannot be inspected: ", sandbox_text_errno(-fd));
        struct stat st;
        if (fstat(fd, &st) < 0)
                walk_refuse(w, "protected path ", path, " cannot be inspected: ", sandbox_text_errno(errno));
        char n[21];
        if (!S_ISDIR(st.st_mode) && st.st_nlink > 1)
                walk_refuse(w, "protected path ", path, " has ", sandbox_text_u64(n, st.st_nlink),
                            " hard links; another name could change it");
        pin_chain(w, root, path);
        walk_emit(w, WALK_PROTECT, path, fd);
        close(fd);
        return true;
}

static bool is_type(int dirfd, const char *name, mode_t type) {
        int fd = open_beneath(dirfd, name, O_PATH);
        struct stat st;
        bool ok = fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == type;
        if (fd >= 0)
                close(fd);
        return ok;
}

/* A directory git would use as a repository: HEAD, objects/, refs/. */
static bool looks_like_git_dir(int dirfd) {
        return is_type(dirfd, "HEAD", S_IFREG) && is_type(dirfd, "objects", S_IFDIR) && is_type(dirfd, "refs", S_IFDIR);
}

static const char *root_of(const walker *w, const char *path) {
        for (size_t i = 0; i < w->n_roots; i++)
                if (csc_path_under(path, w->roots[i]))
                        return w->roots[i];
        return NULL;
}

/* "base/rel" with "." and ".." removed by text; no symlink is ever followed
 * when it is opened, so the text is what the kernel will walk. */
static bool lexical_join(const char *base, const char *rel, char *out, size_t size) {
        char tmp[SANDBOX_PATH_MAX * 2];
        if (strlen(base) + 1 + strlen(rel) >= sizeof tmp)
                return false;
        if (rel[0] == '/')
                sandbox_text(tmp, sizeof tmp, rel);
        else
                sandbox_text(tmp, sizeof tmp, base, "/", rel);
        size_t n = 0;
        out[0] = 0;
        for (char *save = NULL, *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (strcmp(c, ".") == 0)
                        continue;
                if (strcmp(c, "..") == 0) {
                        while (n > 0 && out[--n] != '/')
                                ;
                        out[n] = 0;
                        continue;
                }
                if (n + 1 + strlen(c) + 1 > size)
                        return false;
                sandbox_text(out + n, size - n, "/", c);
                n += 1 + strlen(c);
        }
        if (n == 0)
                sandbox_text(out, size, "/");
        return true;
}

/* dir/.git is a file naming the real git directory ("gitdir: PATH", as git
 * reads it): when that lies in a writable root, its hooks and config are
 * protected as well. */
static void follow_gitfile(walker *w, int dirfd, const char *dir) {
        int fd = open_beneath(dirfd, ".git", O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        char buf[SANDBOX_PATH_MAX];
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 8 || strncmp(buf, "gitdir: ", 8) != 0)
                return;   /* git refuses it as well */
        buf[n] = 0;
        while (n > 8 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
                buf[--n] = 0;
        char target[SANDBOX_PATH_MAX];
        if (!lexical_join(dir, buf + 8, target, sizeof target))
                walk_refuse(w, "the gitdir in ", dir, "/.git is too long");
        int tfd = open_beneath(AT_FDCWD, target, O_PATH | O_DIRECTORY);
        if (tfd == -ELOOP)
                walk_refuse(w, "the gitdir ", target, " named by ", dir, "/.git passes through a symlink");
        const char *root = root_of(w, target);
        if (tfd >= 0 && root) {
                protect_at(w, root, tfd, target, "hooks");
                protect_at(w, root, tfd, target, "config");
        }
        if (tfd >= 0)
                close(tfd);
}

static void check_time(walker *w) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        char n[21];
        if (now.tv_sec > w->deadline.tv_sec || (now.tv_sec == w->deadline.tv_sec && now.tv_nsec > w->deadline.tv_nsec))
                walk_refuse(w, "looking for protected paths under the write paths took longer than ",
                            sandbox_text_u64(n, w->lim->timeout_ms), " ms (protected_walk_timeout_ms); declare "
                            "narrower write paths");
}

/* One directory: its protected names, then its subdirectories. */
/* Does entry's first component equal name? */
static bool first_component_is(const char *entry, const char *name) {
        size_t n = strlen(name);
        return strncmp(entry, name, n) == 0 && (entry[n] == 0 || entry[n] == '/');
}

/* One directory, from its listing: the protected entries whose first
 * component is listed, git's files, then the subdirectories. Names are
 * matched from the listing so that a directory costs one getdents plus an
 * open per match, not an open per configured entry. */
static void walk_dir(walker *w, const char *root, int dirfd, const char *dir, unsigned depth);

/* One entry of a listing: its protected names, git's files, then below it. */
static void walk_entry(walker *w, const char *root, int dirfd, const char *dir, unsigned depth, const char *name,
                       unsigned char type) {
        char n[21];
        for (size_t i = 0; i < w->n_entries; i++)
                if (first_component_is(w->entries[i], name))
                        protect_at(w, root, dirfd, dir, w->entries[i]);
        if (strcmp(name, ".git") == 0 && type != DT_DIR)
                follow_gitfile(w, dirfd, dir);
        if (type != DT_DIR && type != DT_UNKNOWN)
                return;
        int c = open_beneath(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (c == -ENOTDIR || c == -ELOOP || c == -ENOENT)
                return;   /* not a directory (any more): nothing below it to walk */
        char sub[SANDBOX_PATH_MAX];
        join(w, sub, dir, name);
        if (c == -EACCES) {
                struct stat st;
                if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_uid != w->uid)
                        return;   /* not the peer's: it cannot open it up inside either */
                walk_refuse(w, sub, " cannot be searched for protected paths (permission denied), and the "
                            "submitting user could open it up");
        }
        if (c < 0)
                walk_refuse(w, sub, " cannot be opened while looking for protected paths: ", sandbox_text_errno(-c));
        if (depth + 1 > w->lim->max_depth)
                walk_refuse(w, sub, " is more than ", sandbox_text_u64(n, w->lim->max_depth),
                            " directories below its write path (protected_walk_max_depth)");
        walk_dir(w, root, c, sub, depth + 1);
        close(c);
}

/* One directory, from its listing (getdents64: no allocation): the
 * protected entries whose first component is listed, git's files, then the
 * subdirectories. Names are matched from the listing so that a directory
 * costs one getdents plus an open per match, not an open per configured
 * entry. */
static void walk_dir(walker *w, const char *root, int dirfd, const char *dir, unsigned depth) {
        bool head = false;
        char n[21];
        int lfd = open_beneath(dirfd, ".", O_RDONLY | O_DIRECTORY);
        if (lfd < 0)
                walk_refuse(w, dir, " cannot be listed while looking for protected paths: ", sandbox_text_errno(-lfd));
        _Alignas(struct linux_dirent64_) char buf[4096];
        for (;;) {
                long got = syscall(SYS_getdents64, lfd, buf, sizeof buf);
                if (got < 0)
                        walk_refuse(w, dir, " cannot be listed while looking for protected paths: ",
                                    sandbox_text_errno(errno));
                if (got == 0)
                        break;
                for (long off = 0; off < got;) {
                        const struct linux_dirent64_ *de = (const void *)(buf + off);
                        off += de->d_reclen;
                        if (++w->seen > w->lim->max_entries)
                                walk_refuse(w, "more than ", sandbox_text_u64(n, w->lim->max_entries), " entries under "
                                            "the write paths (protected_walk_max_entries); declare narrower write paths");
                        if ((w->seen & 255) == 0)
                                check_time(w);
                        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                                continue;
                        head = head || strcmp(de->d_name, "HEAD") == 0;
                        walk_entry(w, root, dirfd, dir, depth, de->d_name, de->d_type);
                }
        }
        close(lfd);
        /* A repository without a hooks directory is refused: a new one could
         * not be kept from being created (docs/sandbox.md). */
        if (head && looks_like_git_dir(dirfd)) {
                if (!protect_at(w, root, dirfd, dir, "hooks"))
                        walk_refuse(w, "git directory ", dir, " has no hooks directory, and cscd cannot keep one from "
                                    "being created; create it (mkdir ", dir, "/hooks)");
                protect_at(w, root, dirfd, dir, "config");
        }
}

/* The root itself may lie inside a protected name (a write path ".config"
 * and the entry ".config/git"): the rest of such entries, relative to it. */
static void walk_root_partial(walker *w, const char *root, int rootfd) {
        for (size_t i = 0; i < w->n_entries; i++)
                for (const char *s = strchr(w->entries[i], '/'); s; s = strchr(s + 1, '/')) {
                        size_t head = (size_t)(s - w->entries[i]), rl = strlen(root);
                        if (rl > head && root[rl - head - 1] == '/' &&
                            strncmp(root + rl - head, w->entries[i], head) == 0)
                                protect_at(w, root, rootfd, root, s + 1);
                }
}

_Noreturn static void walker_main(const sandbox_peer *who, walker *w) {
        int r = become_peer(who);
        if (r < 0)
                walk_refuse(w, "cannot become the submitting user: ", sandbox_text_errno(-r));
        clock_gettime(CLOCK_MONOTONIC, &w->deadline);
        w->deadline.tv_sec += w->lim->timeout_ms / 1000;
        w->deadline.tv_nsec += (long)(w->lim->timeout_ms % 1000) * 1000000L;
        if (w->deadline.tv_nsec >= 1000000000L) {
                w->deadline.tv_sec++;
                w->deadline.tv_nsec -= 1000000000L;
        }
        for (size_t i = 0; i < w->n_roots; i++) {
                int fd = open_beneath(AT_FDCWD, w->roots[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
                if (fd == -ENOTDIR || fd == -ENOENT)
                        continue;   /* a file or nothing: no names below it */
                if (fd < 0)
                        walk_refuse(w, "write path ", w->roots[i], " cannot be searched for protected paths: ",
                                    sandbox_text_errno(-fd));
                w->last_chain[0] = 0;
                walk_root_partial(w, w->roots[i], fd);
                walk_dir(w, w->roots[i], fd, w->roots[i], 0);
                close(fd);
                check_time(w);
        }
        walk_send(w, WALK_END, "", -1);
        _exit(0);
}

static int walk_recv(int sock, walk_msg *m, int *ret_fd) {
        int fd = -1;
        if (sandbox_recv_fd(sock, m, sizeof *m, &fd) < 0)
                return -EPROTO;
        bool with_fd = m->kind == WALK_PROTECT || m->kind == WALK_PIN;
        if (with_fd != (fd >= 0) ||
            m->kind < WALK_PROTECT || m->kind > WALK_END || memchr(m->text, 0, sizeof m->text) == NULL) {
                if (fd >= 0)
                        close(fd);
                return -EPROTO;
        }
        *ret_fd = fd;
        return 0;
}

int sandbox_find_protected_as_peer(const sandbox_peer *who, const char *const *roots, size_t n_roots,
                                   const char *const *entries, size_t n_entries, const sandbox_walk_limits *lim,
                                   sandbox_found_fn fn, void *userdata, char *why, size_t why_size) {
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return -errno;
        /* On our stack, not the heap: this runs in the cloned executor. */
        walker w;
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(sp[0]);
                close(sp[1]);
                return r;
        }
        if (pid == 0) {
                close(sp[0]);
                w = (walker){ .sock = sp[1], .uid = who->uid, .roots = roots, .n_roots = n_roots,
                              .entries = entries, .n_entries = n_entries, .lim = lim };
                walker_main(who, &w);
        }
        close(sp[1]);
        int r = 0;
        for (;;) {
                int fd = -1;
                r = walk_recv(sp[0], &w.msg, &fd);
                if (r < 0 || w.msg.kind == WALK_END)
                        break;
                if (w.msg.kind == WALK_REFUSE) {
                        sandbox_text(why, why_size, w.msg.text);
                        r = 1;
                        break;
                }
                r = fn(userdata, (sandbox_found_kind)w.msg.kind, w.msg.text, fd);
                if (r < 0)
                        break;
        }
        close(sp[0]);
        if (r != 0)
                kill(pid, SIGKILL);
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return r;
}
