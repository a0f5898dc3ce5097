/* sandbox_mount.c — mount points and mounts by descriptor (sandbox rule 1).
 *
 * Every mount point is created relative to a descriptor of the sandbox's own
 * private tmpfs, one component at a time with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV): a component that is a bind of a host
 * tree stops the walk (EXDEV), so nothing is ever created inside a user's
 * tree. A declared path nested in an earlier bind is not created at all: the
 * object already there is opened and must be the very inode the peer
 * resolved, or the bind is refused. Mounts go from descriptor to descriptor
 * (open_tree, fsmount, move_mount), never by path. */
#include "sandbox_mount.h"

#include "safe_open.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int openat2_fd(int dirfd, const char *path, int flags, uint64_t resolve) {
        return safe_openat2(dirfd, path, flags, resolve);
}

#define RESOLVE_OURS (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)
#define RESOLVE_INSIDE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

/* The rest of `path` lies in a bind of a host tree: open what is there (never
 * create) and check it is the object `want` describes. */
static int open_nested(int dirfd, const char *rest, const struct stat *want) {
        if (!want)
                return -EXDEV;   /* our own mount points never lie inside a host tree */
        int fd = openat2_fd(dirfd, rest, O_PATH, RESOLVE_INSIDE);
        if (fd < 0)
                return fd == -ENOENT || fd == -ELOOP || fd == -ENOTDIR ? -ESTALE : fd;
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_dev != want->st_dev || st.st_ino != want->st_ino) {
                close(fd);
                return -ESTALE;
        }
        return fd;
}

int sandbox_mount_point(int rootfd, const char *path, bool dir, const struct stat *want, int *ret) {
        if (path[0] != '/')
                return -EINVAL;
        char buf[SANDBOX_PATH_MAX];
        if (strlen(path) >= sizeof buf)
                return -ENAMETOOLONG;
        memcpy(buf, path, strlen(path) + 1);
        int cur = openat2_fd(rootfd, ".", O_PATH | O_DIRECTORY, RESOLVE_OURS);
        if (cur < 0)
                return cur;
        char *comp = buf + 1;
        while (*comp) {
                char *slash = strchr(comp, '/');
                bool last = !slash || !slash[1];
                if (slash)
                        *slash = 0;
                int fd = openat2_fd(cur, comp, O_PATH | (last && !dir ? 0 : O_DIRECTORY), RESOLVE_OURS);
                if (fd == -ENOENT) {
                        int made;
                        if (last && !dir) {
                                made = openat(cur, comp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                                if (made >= 0)
                                        close(made);
                        } else
                                made = mkdirat(cur, comp, 0755);
                        fd = made < 0 ? -errno : openat2_fd(cur, comp, O_PATH | (last && !dir ? 0 : O_DIRECTORY),
                                                            RESOLVE_OURS);
                }
                if (fd == -EXDEV) {
                        if (slash)
                                *slash = '/';
                        fd = open_nested(cur, comp, want);
                        close(cur);
                        if (fd < 0)
                                return fd;
                        *ret = fd;
                        return 0;
                }
                close(cur);
                if (fd < 0)
                        return fd;
                cur = fd;
                if (!slash)
                        break;
                comp = slash + 1;
        }
        *ret = cur;
        return 0;
}

int sandbox_bind_fd(int srcfd, int targetfd, uint64_t attr_set, bool recursive) {
        int tree = (int)syscall(SYS_open_tree, srcfd, "",
                                OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0));
        if (tree < 0)
                return -errno;
        struct mount_attr attr = { .attr_set = attr_set };
        int r = 0;
        if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0 ||
            syscall(SYS_move_mount, tree, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                r = -errno;
        close(tree);
        return r;
}

int sandbox_tmpfs_fd(int targetfd, const char *mode, const char *size, uint64_t attr_set) {
        int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        int r = 0, mnt = -1;
        if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", mode, 0) < 0 ||
            syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", size, 0) < 0 ||
            syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
            (mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attr_set)) < 0 ||
            syscall(SYS_move_mount, mnt, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                r = -errno;
        if (mnt >= 0)
                close(mnt);
        close(fs);
        return r;
}

int sandbox_mask(int rootfd, const char *path, int devnull_fd) {
        if (!path || path[0] != '/' || !path[1])
                return 0;
        int fd = openat2_fd(rootfd, path + 1, O_PATH, RESOLVE_INSIDE);
        if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP)
                return 0;   /* nothing of that name in the sandbox */
        if (fd < 0)
                return fd;
        struct stat st;
        int r = fstat(fd, &st) < 0 ? -errno : 0;
        if (r == 0 && S_ISDIR(st.st_mode))
                r = sandbox_tmpfs_fd(fd, "000", "4k", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                                           MOUNT_ATTR_NOEXEC);
        else if (r == 0 && !S_ISLNK(st.st_mode))
                r = sandbox_bind_fd(devnull_fd, fd, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, false);
        close(fd);
        return r;
}
