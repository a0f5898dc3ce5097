/* idle_steps.c — csc-idle-steps: what each step of making a sandbox costs
 * back to back and after an idle gap, one step at a time, to find where an
 * interactive submit's time goes (docs/performance.md). Needs root; runs in
 * a mount namespace of its own, so its mounts never reach the host.
 * usage: csc-idle-steps GAP_MS N */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define STEPS 6
#define MAX_N 400
#define CGROUP "/sys/fs/cgroup/pids/csc-idle-steps"   /* cgroup v1 pids; skipped where absent */

static const char *const names[STEPS] = {
        "write a pid to a v1 pids cgroup's cgroup.procs", "child unshare(CLONE_NEWNET)",
        "fork + exec + wait /bin/true", "setns(host mount ns) + unshare(CLONE_NEWNS)",
        "mount a tmpfs + umount2(MNT_DETACH)", "write + fdatasync (/var/tmp)",
};

static double us(void) {
        return bench_now_ns() / 1e3;
}

/* A child that waits, moved into the cgroup: the executor's join. */
static double cgroup_join(int cg) {
        pid_t c = fork();
        if (c == 0) {
                pause();
                _exit(0);
        }
        char b[32];
        int l = snprintf(b, sizeof b, "%d", (int)c);
        double t = us();
        ssize_t w = write(cg, b, (size_t)l);
        double d = us() - t;
        kill(c, SIGKILL);
        waitpid(c, NULL, 0);
        return w == l ? d : -1;
}

static double netns_in_child(void) {
        int p[2];
        if (pipe(p) < 0)
                return -1;
        pid_t c = fork();
        if (c == 0) {
                double t = us();
                double d = unshare(CLONE_NEWNET) == 0 ? us() - t : -1;
                _exit(write(p[1], &d, sizeof d) == sizeof d ? 0 : 1);
        }
        double d = -1;
        waitpid(c, NULL, 0);
        if (read(p[0], &d, sizeof d) != sizeof d)
                d = -1;
        close(p[0]);
        close(p[1]);
        return d;
}

static double step(int k, int cg, int hostns, int sync_fd) {
        double t = us();
        switch (k) {
        case 0:
                return cg >= 0 ? cgroup_join(cg) : -1;
        case 1:
                return netns_in_child();
        case 2: {
                pid_t c = fork();
                if (c == 0) {
                        execl("/bin/true", "true", (char *)NULL);
                        _exit(127);
                }
                waitpid(c, NULL, 0);
                break;
        }
        case 3:
                if (setns(hostns, CLONE_NEWNS) < 0 || unshare(CLONE_NEWNS) < 0 ||
                    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                        return -1;
                break;
        case 4:
                if (mount("tmpfs", "/mnt", "tmpfs", 0, "size=64k") < 0 || umount2("/mnt", MNT_DETACH) < 0)
                        return -1;
                break;
        default:
                if (write(sync_fd, "x", 1) != 1 || fdatasync(sync_fd) < 0)
                        return -1;
        }
        return us() - t;
}

int main(int argc, char **argv) {
        int gap = argc == 3 ? atoi(argv[1]) : -1, n = argc == 3 ? atoi(argv[2]) : 0;
        if (gap < 0 || gap > 10000 || n < 3 || n > MAX_N) {
                fprintf(stderr, "usage: csc-idle-steps GAP_MS N   (N 3..%d)\n", MAX_N);
                return 64;
        }
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                perror("csc-idle-steps: a mount namespace of its own (root needed)");
                return 77;
        }
        int hostns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        int sync_fd = open("/var/tmp/csc-idle-steps", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int cg = mkdir(CGROUP, 0755) == 0 || errno == EEXIST ? open(CGROUP "/cgroup.procs", O_WRONLY | O_CLOEXEC) : -1;
        static double v[STEPS][MAX_N];
        for (int i = 0; i < n; i++)
                for (int k = 0; k < STEPS; k++) {
                        if (gap)
                                usleep((useconds_t)gap * 1000);
                        v[k][i] = step(k, cg, hostns, sync_fd);
                }
        printf("each step alone, %d ms idle before it, n=%d: p50 (p90) us\n", gap, n);
        for (int k = 0; k < STEPS; k++) {
                qsort(v[k], (size_t)n, sizeof(double), bench_cmp_double);
                if (v[k][0] < 0)
                        printf("  %-50s %s\n", names[k], "not available here");
                else
                        printf("  %-50s %8.0f (%8.0f)\n", names[k], v[k][n / 2], v[k][n * 9 / 10]);
        }
        unlink("/var/tmp/csc-idle-steps");
        if (cg >= 0)
                rmdir(CGROUP);
        return 0;
}
