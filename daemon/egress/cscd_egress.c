/* cscd_egress.c — main of cscd-egress, the egress proxy for sandboxed
 * executions with `network: allowlisted`. cscd starts it with one end of a
 * SOCK_SEQPACKET socketpair (the control protocol of egress_proto.h); started
 * as root it first becomes --user (no groups, no capabilities, no new
 * privileges), then starts its resolver threads, loads its seccomp filter and
 * serves until cscd closes the control socket. See docs/egress.md. */
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "egress.h"
#include "egress_seccomp.h"

static const char usage[] =
        "usage: cscd-egress --control-fd FD [--user NAME]\n"
        "  The egress proxy of cscd. It is started by cscd, not by hand.\n"
        "  --control-fd FD  an AF_UNIX SOCK_SEQPACKET socket to cscd (control protocol v1)\n"
        "  --user NAME      the unprivileged user to become; required when started as root\n"
        "                   (the packaged one is csc-egress)\n";

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs("<3>cscd-egress: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        return code;
}

/* Root -> user: the bounding set emptied while still allowed to, then groups,
 * gid and uid; dropping uid 0 clears every capability set. */
static int drop_privileges(const char *user) {
        struct passwd *pw = getpwnam(user);
        if (!pw)
                return fail(-ENOENT, "no user '%s'", user);
        if (pw->pw_uid == 0)
                return fail(-EINVAL, "--user must not be root");
        uid_t uid = pw->pw_uid;
        gid_t gid = pw->pw_gid;
        for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
                        return fail(-errno, "cannot drop capability %d from the bounding set: %m", cap);
        if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
                return fail(-errno, "cannot become %s: %m", user);
        uid_t r, e, s;
        if (getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid || setuid(0) == 0)
                return fail(-EPERM, "still privileged after becoming %s", user);
        return 0;
}

/* Under journald, stderr is a stream whose device:inode is in JOURNAL_STREAM. */
static bool stderr_is_journal(void) {
        const char *js = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

static int parse_args(int argc, char **argv, int *ret_fd, const char **ret_user) {
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        fputs(usage, stdout);
                        exit(0);
                } else if (strcmp(argv[i], "--control-fd") == 0 && i + 1 < argc) {
                        char *end;
                        errno = 0;
                        long v = strtol(argv[++i], &end, 10);
                        if (errno || *end || v < 3 || v > 65535)
                                return fail(-EINVAL, "--control-fd: not a descriptor number: '%s'", argv[i]);
                        *ret_fd = (int) v;
                } else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
                        *ret_user = argv[++i];
                else
                        return fail(-EINVAL, "unexpected argument '%s'\n%s", argv[i], usage);
        }
        if (*ret_fd < 0)
                return fail(-EINVAL, "--control-fd is required\n%s", usage);
        return 0;
}

int main(int argc, char **argv) {
        int fd = -1;
        const char *user = NULL;
        if (parse_args(argc, argv, &fd, &user) < 0)
                return 64;
        if (sd_is_socket(fd, AF_UNIX, SOCK_SEQPACKET, -1) <= 0)
                return fail(64, "--control-fd %d is not an AF_UNIX SOCK_SEQPACKET socket", fd);
        if (geteuid() == 0) {
                if (!user)
                        return fail(64, "started as root: --user is required");
                if (drop_privileges(user) < 0)
                        return 71;
        } else if (user) {
                struct passwd *pw = getpwnam(user);
                if (!pw || pw->pw_uid != geteuid())
                        return fail(64, "--user %s: not running as root and not already that user", user);
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return fail(71, "no_new_privs: %m");
        signal(SIGPIPE, SIG_IGN);
        /* Each relayed connection holds up to six descriptors (two sockets, two pipes). */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigprocmask(SIG_BLOCK, &ss, NULL); /* before the resolver threads, which inherit it */
        /* Load what name resolution needs (NSS, resolv.conf) while files may still be opened freely. */
        struct addrinfo *ai = NULL;
        if (getaddrinfo("localhost", NULL, NULL, &ai) == 0)
                freeaddrinfo(ai);
        Manager *m = NULL;
        int r = manager_new(fd, stderr_is_journal(), &m);
        if (r < 0)
                return fail(71, "cannot start: %s", strerror(-r));
        r = egress_seccomp_apply();
        if (r < 0) {
                manager_free(m);
                return fail(71, "cannot load the seccomp filter: %s", strerror(-r));
        }
        r = manager_run(m);
        manager_free(m);
        if (r < 0)
                return fail(1, "%s", strerror(-r));
        return r;
}
