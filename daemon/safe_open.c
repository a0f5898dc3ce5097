/* safe_open.c — openat2() with the resolve flags the sandbox relies on, and
 * the same guarantees where a container's seccomp profile answers openat2
 * with ENOSYS (nspawn 252, older Docker profiles): a walk one component at a
 * time, each opened O_PATH|O_NOFOLLOW relative to the previous descriptor. */
#include "safe_open.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SAFE_OPEN_RESOLVE_KNOWN (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

static int mount_id(int fd, uint64_t *ret) {
        struct statx stx;
        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
                return -errno;
        if (!(stx.stx_mask & STATX_MNT_ID))
                return -ENOSYS;   /* cannot tell mounts apart: fail closed */
        *ret = stx.stx_mnt_id;
        return 0;
}

/* Opens one component below cur: never follows a symlink (magic links are
 * symlinks to lstat), refuses to leave cur's mount with no_xdev. */
static int step(int cur, const char *comp, bool dir, bool no_xdev) {
        int fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        int r = fstat(fd, &st) < 0 ? -errno : 0;
        if (r == 0 && S_ISLNK(st.st_mode))
                r = -ELOOP;
        else if (r == 0 && dir && !S_ISDIR(st.st_mode))
                r = -ENOTDIR;
        uint64_t a, b;
        if (r == 0 && no_xdev && ((r = mount_id(cur, &a)) < 0 || (r = mount_id(fd, &b)) < 0 || a != b))
                r = r < 0 ? r : -EXDEV;
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

/* The final descriptor with the caller's flags: O_PATH ones are the walk's
 * own; anything else is opened again and must be the same inode. */
static int finish(int parent, const char *comp, int fd, int flags) {
        if (flags & O_PATH) {
                struct stat st;
                if ((flags & O_DIRECTORY) && (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))) {
                        close(fd);
                        return -ENOTDIR;
                }
                return fd;
        }
        int real = openat(parent, comp, flags | O_NOFOLLOW | O_CLOEXEC);
        struct stat a, b;
        int r = real < 0 ? -errno : fstat(fd, &a) < 0 || fstat(real, &b) < 0 ? -errno : 0;
        if (r == 0 && (a.st_dev != b.st_dev || a.st_ino != b.st_ino))
                r = -ESTALE;
        close(fd);
        if (r < 0 && real >= 0)
                close(real);
        return r < 0 ? r : real;
}

int safe_open_walk(int dirfd, const char *path, int flags, uint64_t resolve) {
        if ((resolve & ~(uint64_t)SAFE_OPEN_RESOLVE_KNOWN) || !(resolve & RESOLVE_NO_SYMLINKS))
                return -EINVAL;   /* only what the sandbox uses: never following symlinks */
        bool beneath = resolve & RESOLVE_BENEATH, no_xdev = resolve & RESOLVE_NO_XDEV;
        if (path[0] == '/' && beneath)
                return -EXDEV;
        char buf[4096];
        if (strlen(path) >= sizeof buf)
                return -ENAMETOOLONG;
        memcpy(buf, path, strlen(path) + 1);
        int cur = path[0] == '/' ? open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)
                                 : openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return -errno;
        int parent = -1;
        const char *last = ".";
        for (char *comp = buf, *next; comp; comp = next) {
                char *slash = strchr(comp, '/');
                next = slash ? slash + 1 : NULL;
                if (slash)
                        *slash = 0;
                if (!*comp || strcmp(comp, ".") == 0)
                        continue;
                if (strcmp(comp, "..") == 0) {   /* never needed by the sandbox: refuse, as BENEATH would at the top */
                        if (parent >= 0)
                                close(parent);
                        close(cur);
                        return -EXDEV;
                }
                bool more = next && next[strspn(next, "/")];
                int fd = step(cur, comp, more, no_xdev);
                if (parent >= 0)
                        close(parent);
                if (fd < 0) {
                        close(cur);
                        return fd;
                }
                parent = cur;
                cur = fd;
                last = comp;
        }
        if (parent < 0) {   /* the path named dirfd (or "/") itself */
                parent = openat(cur, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (parent < 0) {
                        int r = -errno;
                        close(cur);
                        return r;
                }
        }
        int r = finish(parent, last, cur, flags);
        close(parent);
        return r;
}

int safe_openat2(int dirfd, const char *path, int flags, uint64_t resolve) {
        struct open_how how = { .flags = (uint64_t)flags | O_CLOEXEC, .resolve = resolve };
        int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        if (fd >= 0)
                return fd;
        if (errno != ENOSYS)
                return -errno;
        return safe_open_walk(dirfd, path, flags, resolve);
}
