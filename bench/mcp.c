/* mcp.c — benchmark part (e): what the MCP bridge adds. `cscctl mcp` runs as
 * the benchmark user and is asked for csc_run of /bin/true; each call is
 * timed from the request line written to the response line read, and
 * interleaved with a direct submit of the same contract over the socket, so
 * both see the same daemon, machine and moment. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static double median(double *v, int n) {
        qsort(v, (size_t) n, sizeof *v, bench_cmp_double);
        return v[n / 2];
}

typedef struct bridge {
        pid_t pid;
        int to, from;       /* its stdin, its stdout */
        char buf[1 << 16];
        size_t len;
} bridge;

static int bridge_start(bridge *b, const char *cscctl, const char *sock, uid_t uid, gid_t gid) {
        int in[2], out[2];
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
                return -errno;
        b->pid = fork();
        if (b->pid < 0)
                return -errno;
        if (b->pid == 0) {
                int null = open("/dev/null", O_WRONLY);
                if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(null, 2) < 0 || setgroups(0, NULL) < 0 ||
                    setgid(gid) < 0 || setuid(uid) < 0 || chdir("/tmp") < 0)
                        _exit(126);
                char *const env[] = { "PATH=/usr/bin:/bin", "HOME=/", "USER=bench", NULL };
                execle(cscctl, cscctl, "--socket", sock, "mcp", (char *) NULL, env);
                _exit(127);
        }
        close(in[0]);
        close(out[1]);
        b->to = in[1];
        b->from = out[0];
        b->len = 0;
        return 0;
}

/* Writes one line, reads one line (the answer); 0 when it holds "ok_marker". */
static int bridge_call(bridge *b, const char *line, const char *ok_marker) {
        size_t n = strlen(line);
        if (write(b->to, line, n) != (ssize_t) n)
                return -EIO;
        for (;;) {
                char *nl = memchr(b->buf, '\n', b->len);
                if (nl) {
                        *nl = 0;
                        bool ok = strstr(b->buf, ok_marker) != NULL;
                        size_t used = (size_t) (nl - b->buf) + 1;
                        memmove(b->buf, nl + 1, b->len - used);
                        b->len -= used;
                        return ok ? 0 : -EPROTO;
                }
                if (b->len == sizeof b->buf)   /* a longer answer than ours ever is: drop its start */
                        b->len = 0;
                ssize_t got = read(b->from, b->buf + b->len, sizeof b->buf - b->len);
                if (got <= 0)
                        return -EIO;
                b->len += (size_t) got;
        }
}

static void bridge_stop(bridge *b) {
        close(b->to);   /* stdin closes: the server exits */
        close(b->from);
        waitpid(b->pid, NULL, 0);
}

static const char run_line[] =
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"csc_run\",\"arguments\":"
        "{\"argv\":[\"/bin/true\"],\"cwd\":\"/tmp\",\"timeout_sec\":10,\"intent\":\"benchmark\"}}}\n";
static const char check_line[] =
        "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"csc_check\",\"arguments\":"
        "{\"argv\":[\"/bin/true\"],\"cwd\":\"/tmp\",\"timeout_sec\":10,\"intent\":\"benchmark\"}}}\n";
/* The contract the bridge builds from those arguments, as a direct check sends it. */
static const char check_frame[] =
        "{\"type\":\"check\",\"contract\":{\"version\":\"csc.v0.1\",\"contract_id\":\"bench-check-00000001\","
        "\"intent\":\"benchmark\",\"justification\":\"benchmark\",\"actor\":{\"agent_id\":\"csc-bench\",\"session_id\":"
        "\"bench\",\"initiating_user\":\"nobody\",\"delegation_scope\":\"mcp\"},\"commands\":[{\"id\":\"cmd_1\",\"exec\":"
        "{\"argv\":[\"/bin/true\"]},\"cwd\":\"/tmp\",\"read_paths\":[],\"write_paths\":[],\"network\":\"deny\","
        "\"env_allow\":[],\"secret_refs\":[],\"timeout_sec\":10,\"proposed_effect_type\":\"observe\"}],"
        "\"risk_class\":\"low\",\"approval_mode\":\"policy_only\"}}";

/* One direct check request as uid, answered with a decision: 0. */
static int check_once(const char *sock, uid_t uid, gid_t gid) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (setegid(gid) < 0 || seteuid(uid) < 0) {   /* SO_PEERCRED is taken at connect */
                close(fd);
                return -errno;
        }
        int r = connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0 ? -errno : 0;
        if (seteuid(0) < 0 || setegid(0) < 0)
                abort();
        size_t n = sizeof check_frame - 1;
        unsigned char hdr[4] = { (unsigned char) (n >> 24), (unsigned char) (n >> 16), (unsigned char) (n >> 8),
                                 (unsigned char) n };
        if (r == 0 && (write(fd, hdr, 4) != 4 || write(fd, check_frame, n) != (ssize_t) n))
                r = -EIO;
        char buf[8192];
        size_t got = 0, want = 0;
        while (r == 0 && (got < 4 || got < 4 + want)) {
                ssize_t k = read(fd, buf + got, sizeof buf - 1 - got);
                if (k <= 0) {
                        r = -EIO;
                        break;
                }
                got += (size_t) k;
                if (got >= 4)
                        want = (size_t) buf[0] << 24 | (size_t) (unsigned char) buf[1] << 16 |
                               (size_t) (unsigned char) buf[2] << 8 | (unsigned char) buf[3];
                if (want > sizeof buf - 5)
                        r = -EMSGSIZE;
        }
        close(fd);
        buf[got < sizeof buf ? got : sizeof buf - 1] = 0;
        return r == 0 && strstr(buf + 4, "\"type\":\"decision\"") ? 0 : -EPROTO;
}

/* Paired samples: the median of (bridge - direct), robust to the machine's noise. */
static double paired_median(const double *via, const double *direct, double *tmp, int n) {
        for (int i = 0; i < n; i++)
                tmp[i] = via[i] - direct[i];
        return median(tmp, n);
}

int bench_mcp(const char *cscctl, const char *sock, uid_t uid, gid_t gid, int n, bench_submit_fn submit,
              bench_mcp_figures *ret) {
        bridge b;
        char *exe = realpath(cscctl, NULL);   /* the bridge starts in /tmp: a relative path would not do */
        if (!exe || access(exe, X_OK) < 0) {
                free(exe);
                return 77;
        }
        int r = bridge_start(&b, exe, sock, uid, gid);
        free(exe);
        if (r < 0 ||
            bridge_call(&b, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                            "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"csc-bench\",\"version\":\"1\"}}}\n",
                        "\"protocolVersion\"") < 0) {
                fprintf(stderr, "csc-bench: cscctl mcp did not start\n");
                return 1;
        }
        double *s[5];   /* run via, run direct, check via, check direct, scratch */
        for (int k = 0; k < 5; k++)
                s[k] = calloc((size_t) n, sizeof *s[k]);
        int errors = 0;
        for (int i = 0; i < 20; i++)   /* warm up every path */
                (void) (bridge_call(&b, run_line, "\"status\":\"success\"") + submit(sock, uid, gid) +
                        bridge_call(&b, check_line, "\"decision\":\"allow\"") + check_once(sock, uid, gid));
        for (int i = 0; i < n; i++) {
                /* Alternate which goes first: the daemon still tidies up after a receipt, which
                 * would otherwise always slow the second request of a pair. */
                for (int k = 0; k < 4; k++) {
                        int which = (i & 1) ? k ^ 1 : k;   /* 0 run via, 1 run direct, 2 check via, 3 check direct */
                        double t0 = (bench_now_ns() / 1e3);
                        errors += (which == 0   ? bridge_call(&b, run_line, "\"status\":\"success\"")
                                   : which == 1 ? submit(sock, uid, gid)
                                   : which == 2 ? bridge_call(&b, check_line, "\"decision\":\"allow\"")
                                                : check_once(sock, uid, gid)) < 0;
                        s[which][i] = (bench_now_ns() / 1e3) - t0;
                }
        }
        bridge_stop(&b);
        ret->run_added = paired_median(s[0], s[1], s[4], n);
        ret->check_added = paired_median(s[2], s[3], s[4], n);
        ret->run_direct = median(s[1], n), ret->run_bridge = median(s[0], n);
        ret->check_direct = median(s[3], n), ret->check_bridge = median(s[2], n);
        ret->errors = errors;
        for (int k = 0; k < 5; k++)
                free(s[k]);
        return errors ? 1 : 0;
}

void bench_mcp_print(const bench_mcp_figures *f, int n) {
        printf("\n(e) what `cscctl mcp` adds, interleaved with the direct requests, n=%d (us)\n", n);
        printf("%-52s %9s %9s %9s\n", "", "direct", "bridge", "added");
        printf("%-52s %9.0f %9.0f %9.0f   (target <= 300)\n", "csc_run of /bin/true vs submit -> receipt, p50",
               f->run_direct, f->run_bridge, f->run_added);
        printf("%-52s %9.0f %9.0f %9.0f\n", "csc_check vs check -> decision, p50 (no sandbox noise)",
               f->check_direct, f->check_bridge, f->check_added);
        printf("added = median of the paired differences; errors in (e): %d\n", f->errors);
}
