/* probe.c — attacks run from inside the sandbox by the adversarial suite.
 * `csc-probe NAME [ARG]` makes one attempt and prints one line:
 *   "BLOCKED <errno name>"  the kernel refused (the expected outcome), or
 *   "ESCAPED <detail>"      the attempt worked (the suite fails on this).
 * Exit status 0 when it could make the attempt at all, 2 on a usage error.
 * Attempts that the sandbox answers by killing the process (foreign
 * syscall ABIs) never print; the suite checks the signal instead. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int result(long r, const char *what) {
        if (r < 0)
                printf("BLOCKED %s\n", strerrorname_np(errno) ?: "?");
        else
                printf("ESCAPED %s\n", what);
        return 0;
}

static int sock_attempt(int family, int type) {
        int fd = socket(family, type, 0);
        if (fd >= 0)
                close(fd);
        return result(fd, "socket created");
}

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: csc-probe NAME [ARG]\n");
                return 2;
        }
        const char *n = argv[1], *arg = argc > 2 ? argv[2] : "";
        if (!strcmp(n, "unshare-user")) return result(unshare(CLONE_NEWUSER), "new user namespace");
        if (!strcmp(n, "unshare-net")) return result(unshare(CLONE_NEWNET), "new network namespace");
        if (!strcmp(n, "setns")) {
                int fd = open("/proc/1/ns/mnt", O_RDONLY);
                return result(fd < 0 ? -1 : setns(fd, 0), "joined pid 1's mount namespace");
        }
        if (!strcmp(n, "clone-newns")) {
                long r = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
                if (r == 0)
                        _exit(0);
                return result(r, "cloned into a new mount namespace");
        }
        if (!strcmp(n, "clone3")) return result(syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS ? -1 : 0, "clone3 reachable");
        if (!strcmp(n, "mount")) return result(mount("tmpfs", "/tmp", "tmpfs", 0, NULL), "mounted tmpfs");
        if (!strcmp(n, "umount")) return result(umount2("/proc", MNT_DETACH), "unmounted /proc");
        if (!strcmp(n, "pivot_root")) return result(syscall(SYS_pivot_root, "/tmp", "/tmp"), "pivot_root");
        if (!strcmp(n, "chroot")) return result(chroot("/tmp"), "chroot");
        if (!strcmp(n, "open_tree")) return result(syscall(SYS_open_tree, AT_FDCWD, "/", 1), "open_tree");
        if (!strcmp(n, "fsopen")) return result(syscall(SYS_fsopen, "tmpfs", 0), "fsopen");
        if (!strcmp(n, "add_key")) return result(syscall(SYS_add_key, "user", "k", "v", 1, -3), "added a key");
        if (!strcmp(n, "keyctl")) return result(syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0), "keyctl");
        if (!strcmp(n, "bpf")) {
                union bpf_attr a;
                memset(&a, 0, sizeof a);
                return result(syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a), "bpf");
        }
        if (!strcmp(n, "perf")) {
                struct perf_event_attr a;
                memset(&a, 0, sizeof a);
                a.size = sizeof a;
                a.type = PERF_TYPE_SOFTWARE;
                a.config = PERF_COUNT_SW_CPU_CLOCK;
                a.exclude_kernel = 1;
                return result(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0), "perf_event_open");
        }
        if (!strcmp(n, "userfaultfd")) return result(syscall(SYS_userfaultfd, 0), "userfaultfd");
        if (!strcmp(n, "io_uring")) {
                char params[120];
                memset(params, 0, sizeof params);
                return result(syscall(SYS_io_uring_setup, 4, params), "io_uring_setup");
        }
        if (!strcmp(n, "kexec")) return result(syscall(SYS_kexec_load, 0, 0, NULL, 0), "kexec_load");
        if (!strcmp(n, "init_module")) return result(syscall(SYS_init_module, "", 0, ""), "init_module");
        if (!strcmp(n, "delete_module")) return result(syscall(SYS_delete_module, "ext4", 0), "delete_module");
        if (!strcmp(n, "open_by_handle")) {
                char h[64];
                memset(h, 0, sizeof h);
                return result(syscall(SYS_open_by_handle_at, AT_FDCWD, h, O_RDONLY), "open_by_handle_at");
        }
        if (!strcmp(n, "name_to_handle")) {
                char h[256];
                int mnt;
                memset(h, 0, sizeof h);
                *(unsigned *)h = 128;
                return result(syscall(SYS_name_to_handle_at, AT_FDCWD, "/", h, &mnt, 0), "name_to_handle_at");
        }
        if (!strcmp(n, "ptrace-attach")) return result(ptrace(PTRACE_ATTACH, 1, 0, 0), "ptrace attached to pid 1");
        if (!strcmp(n, "ptrace-traceme")) return result(ptrace(PTRACE_TRACEME, 0, 0, 0), "ptrace traceme");
        if (!strcmp(n, "process_vm")) {
                char buf[8];
                struct iovec l = { buf, 8 }, r = { (void *)0x400000, 8 };
                return result(process_vm_readv(1, &l, 1, &r, 1, 0), "read pid 1's memory");
        }
        if (!strcmp(n, "tiocsti")) {
                char c = 'x';
                return result(ioctl(0, TIOCSTI, &c), "pushed a byte into a terminal");
        }
        if (!strcmp(n, "tioclinux")) {
                char c = 0;
                return result(ioctl(0, TIOCLINUX, &c), "TIOCLINUX");
        }
        if (!strcmp(n, "settimeofday")) {
                struct timeval tv;
                gettimeofday(&tv, NULL);
                return result(settimeofday(&tv, NULL), "set the clock");
        }
        if (!strcmp(n, "clock_settime")) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                return result(clock_settime(CLOCK_REALTIME, &ts), "set the clock");
        }
        if (!strcmp(n, "adjtimex")) {
                char tx[256];
                memset(tx, 0, sizeof tx);
                *(unsigned *)tx = 0x0001; /* ADJ_OFFSET */
                return result(syscall(SYS_adjtimex, tx), "adjtimex");
        }
        if (!strcmp(n, "reboot")) return result(reboot(RB_POWER_OFF), "reboot");
        if (!strcmp(n, "swapon")) return result(syscall(SYS_swapon, "/tmp/x", 0), "swapon");
        if (!strcmp(n, "x32")) {
                syscall(0x40000000 | SYS_getpid);
                printf("ESCAPED x32 syscall returned\n");
                return 0;
        }
        if (!strcmp(n, "int80")) {
                long ret;
                __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
                printf("ESCAPED int 0x80 returned %ld\n", ret);
                return 0;
        }
        if (!strcmp(n, "socket-inet")) return sock_attempt(AF_INET, SOCK_STREAM);
        if (!strcmp(n, "socket-inet6")) return sock_attempt(AF_INET6, SOCK_DGRAM);
        if (!strcmp(n, "socket-raw")) return sock_attempt(AF_INET, SOCK_RAW);
        if (!strcmp(n, "socket-packet")) return sock_attempt(AF_PACKET, SOCK_RAW);
        if (!strcmp(n, "socket-netlink")) return sock_attempt(AF_NETLINK, SOCK_RAW);
        if (!strcmp(n, "socket-vsock")) return sock_attempt(40 /* AF_VSOCK */, SOCK_STREAM);
        if (!strcmp(n, "socketpair-inet")) {
                int sv[2];
                return result(socketpair(AF_INET, SOCK_STREAM, 0, sv), "socketpair");
        }
        if (!strcmp(n, "abstract-connect")) {
                int fd = socket(AF_UNIX, SOCK_STREAM, 0);
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                size_t len = strlen(arg);
                memcpy(sa.sun_path + 1, arg, len);
                return result(connect(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)),
                              "connected to a host abstract socket");
        }
        if (!strcmp(n, "unix-connect")) {
                int fd = socket(AF_UNIX, SOCK_STREAM, 0);
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                snprintf(sa.sun_path, sizeof sa.sun_path, "%s", arg);
                return result(connect(fd, (struct sockaddr *)&sa, sizeof sa), "connected to the daemon socket");
        }
        if (!strcmp(n, "setuid0")) return result(setuid(0), "became root");
        if (!strcmp(n, "setgid0")) return result(setgid(0), "became gid 0");
        if (!strcmp(n, "kill")) return result(kill(atoi(arg), SIGKILL), "signalled the process");
        if (!strcmp(n, "kill1")) return result(kill(1, SIGKILL), "killed the sandbox's pid 1");
        if (!strcmp(n, "status")) {
                /* Prints the security-relevant lines of /proc/self/status. */
                FILE *f = fopen("/proc/self/status", "r");
                char line[256];
                while (f && fgets(line, sizeof line, f))
                        if (!strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs", 10) || !strncmp(line, "Seccomp:", 8) ||
                            !strncmp(line, "Uid", 3) || !strncmp(line, "Gid", 3))
                                fputs(line, stdout);
                printf("Securebits:\t%d\n", (int)syscall(SYS_prctl, 27 /* PR_GET_SECUREBITS */, 0, 0, 0, 0));
                return 0;
        }
        if (!strcmp(n, "rlimits")) {
                static const struct { int r; const char *name; } l[] = {
                        { RLIMIT_CPU, "cpu" }, { RLIMIT_AS, "as" }, { RLIMIT_FSIZE, "fsize" },
                        { RLIMIT_NOFILE, "nofile" }, { RLIMIT_CORE, "core" } };
                for (size_t i = 0; i < sizeof l / sizeof *l; i++) {
                        struct rlimit rl;
                        getrlimit(l[i].r, &rl);
                        printf("%s %llu %llu\n", l[i].name, (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
                }
                return 0;
        }
        if (!strcmp(n, "raise-rlimit")) {
                struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
                return result(setrlimit(RLIMIT_AS, &rl), "raised RLIMIT_AS");
        }
        if (!strcmp(n, "membomb")) {
                size_t sz = 2ull << 30;
                char *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p != MAP_FAILED)
                        memset(p, 1, sz);
                return result(p == MAP_FAILED ? -1 : 0, "mapped and touched 2 GiB");
        }
        if (!strcmp(n, "nofile")) {
                int count = 0;
                while (open("/dev/null", O_RDONLY) >= 0 && count < 100000)
                        count++;
                printf("%s %d\n", count < 100000 ? "BLOCKED" : "ESCAPED", count);
                return 0;
        }
        if (!strcmp(n, "open")) {   /* open(arg) for reading */
                int fd = open(arg, O_RDONLY);
                return result(fd, "opened for reading");
        }
        if (!strcmp(n, "write")) {  /* create/write arg */
                int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                return result(fd < 0 ? -1 : write(fd, "x", 1), "wrote the file");
        }
        if (!strcmp(n, "link")) {   /* hard link arg into /tmp */
                return result(link(arg, "/tmp/probe-link"), "hard-linked into /tmp");
        }
        if (!strcmp(n, "mknod")) return result(mknod("/tmp/probe-dev", S_IFCHR | 0666, makedev(1, 3)), "made a device node");
        if (!strcmp(n, "exec")) {   /* exec arg (a setuid binary, say) and report the euid it ran with */
                execl(arg, arg, (char *)NULL);
                return result(-1, "");
        }
        if (!strcmp(n, "flip") && argc == 5) {
                /* Not an attempt from inside: run on the host by the race tests.
                 * `flip A B SECONDS` swaps A and B (renameat2 RENAME_EXCHANGE)
                 * as fast as it can for SECONDS, then prints the swap count. */
                time_t end = time(NULL) + atoi(argv[4]);
                unsigned long swaps = 0;
                while (time(NULL) < end)
                        if (syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD, argv[3], 2 /* RENAME_EXCHANGE */) == 0)
                                swaps++;
                printf("swapped %lu times\n", swaps);
                return 0;
        }
        if (!strcmp(n, "pass-fds")) {   /* hand our stdout/stderr to a host listener at arg, then exit */
                printf("before-pass\n");
                fflush(stdout);
                int fd = socket(AF_UNIX, SOCK_STREAM, 0);
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                snprintf(sa.sun_path, sizeof sa.sun_path, "%s", arg);
                if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
                        return result(-1, "");
                int fds[2] = { 1, 2 };
                union {
                        char buf[CMSG_SPACE(sizeof fds)];
                        struct cmsghdr align;
                } cm;
                memset(cm.buf, 0, sizeof cm.buf);
                char byte = 'F';
                struct iovec iov = { &byte, 1 };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
                                     .msg_controllen = sizeof cm.buf };
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof fds);
                memcpy(CMSG_DATA(c), fds, sizeof fds);
                if (sendmsg(fd, &mh, 0) != 1 || read(fd, &byte, 1) != 1)   /* the listener acknowledges */
                        return result(-1, "");
                return result(0, "passed stdout and stderr out of the sandbox");
        }
        fprintf(stderr, "csc-probe: unknown probe '%s'\n", n);
        return 2;
}
