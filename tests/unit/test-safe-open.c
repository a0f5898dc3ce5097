/* test-safe-open.c — the openat2 fallback walk gives the same answers as
 * openat2 itself (symlinks refused on the way and at the end, no "..", no
 * absolute path beneath, no mount crossing with NO_XDEV, permissions as the
 * caller), case by case on a real tree. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "safe_open.h"
#include "tap.h"

static int real_openat2(int dirfd, const char *path, int flags, uint64_t resolve) {
        struct open_how how = { .flags = (uint64_t)flags | O_CLOEXEC, .resolve = resolve };
        int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        return fd < 0 ? -errno : fd;
}

static void same(int dirfd, const char *path, int flags, uint64_t resolve, int want) {
        int a = safe_open_walk(dirfd, path, flags, resolve), b = real_openat2(dirfd, path, flags, resolve);
        bool ok = want < 0 ? a == want : a >= 0;
        if (ok && a >= 0 && b >= 0) {
                struct stat x, y;
                ok = fstat(a, &x) == 0 && fstat(b, &y) == 0 && x.st_ino == y.st_ino && x.st_dev == y.st_dev;
        }
        /* openat2 may allow ".." that stays beneath; the walk refuses every "..". */
        bool agree = (a < 0) == (b < 0) || strstr(path, "..");
        CHECK(ok && agree, "%s: walk %d, openat2 %d, want %d", path, a, b, want);
        if (a >= 0)
                close(a);
        if (b >= 0)
                close(b);
}

int main(void) {
        char top[] = "/tmp/csc-safe-open.XXXXXX";
        if (!mkdtemp(top))
                return 1;
        char p[512];
        snprintf(p, sizeof p, "%s/a/b", top);
        snprintf(p, sizeof p, "%s/a", top), mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/a/b", top), mkdir(p, 0755);
        snprintf(p, sizeof p, "%s/a/b/file", top);
        FILE *f = fopen(p, "w");
        fputs("content", f);
        fclose(f);
        snprintf(p, sizeof p, "%s/link", top), (void)!symlink("a", p);
        snprintf(p, sizeof p, "%s/a/etc", top), (void)!symlink("/etc", p);
        snprintf(p, sizeof p, "%s/private", top), mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/private/x", top), mkdir(p, 0755);
        int dir = open(top, O_PATH | O_DIRECTORY);
        uint64_t ns = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, nb = ns | RESOLVE_BENEATH;

        same(dir, "a/b/file", O_PATH, nb, 0);
        same(dir, "a//b/./file", O_PATH, nb, 0);
        same(dir, "a/b", O_PATH | O_DIRECTORY, nb, 0);
        same(dir, "a/b/file", O_PATH | O_DIRECTORY, nb, -ENOTDIR);
        same(dir, "link/b/file", O_PATH, nb, -ELOOP);          /* a symlink on the way */
        same(dir, "a/etc", O_PATH, nb, -ELOOP);                /* a symlink at the end */
        same(dir, "a/etc/passwd", O_PATH, nb, -ELOOP);
        same(dir, "a/missing", O_PATH, nb, -ENOENT);
        same(dir, "a/b/file/x", O_PATH, nb, -ENOTDIR);
        same(dir, "/etc", O_PATH, nb, -EXDEV);                 /* absolute beneath */
        same(dir, "../etc", O_PATH, nb, -EXDEV);
        same(AT_FDCWD, "/proc/self", O_PATH, ns, -ELOOP);      /* a magic link is a symlink to lstat */
        same(AT_FDCWD, "/proc/1", O_PATH, ns | RESOLVE_NO_XDEV, -EXDEV);   /* / into the proc mount */
        same(AT_FDCWD, "/etc/passwd", O_PATH, ns, 0);

        /* Opened for reading: the walk reopens the last component and checks it. */
        int fd = safe_open_walk(dir, "a/b/file", O_RDONLY, nb);
        char buf[16] = "";
        CHECK(fd >= 0 && read(fd, buf, sizeof buf - 1) == 7 && strcmp(buf, "content") == 0, "read through the walk");
        if (fd >= 0)
                close(fd);
        CHECK(safe_open_walk(dir, "a", O_PATH, RESOLVE_BENEATH) == -EINVAL, "symlinks must be refused by the caller");

        /* Permissions are the caller's: a 0700 directory of root stops another user. */
        if (geteuid() == 0) {
                pid_t pid = fork();
                if (pid == 0) {
                        if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                                _exit(2);
                        int r = safe_open_walk(dir, "private/x", O_PATH, nb), q = real_openat2(dir, "private/x", O_PATH, nb);
                        _exit(r == -EACCES && q == -EACCES ? 0 : 1);
                }
                int st;
                waitpid(pid, &st, 0);
                CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "EACCES as an unprivileged user (status %d)", st);
        }
        close(dir);
        char rm[600];
        snprintf(rm, sizeof rm, "rm -rf '%s'", top);
        if (system(rm) != 0)
                printf("# could not remove %s\n", top);
        return tap_done("safe open");
}
