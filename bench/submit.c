/* submit.c — benchmark parts (b)-(d): submit → signed receipt for /bin/true
 * under the full sandbox over the real socket (p50/p90/p99, one client),
 * throughput at 1, 8 and 32 concurrent clients with errors, and cscd's RSS
 * idle and after the run; with the same-run baselines `fork+exec /bin/true`,
 * `unshare -Urmnpf --mount-proc /bin/true` and the reference runner's
 * launcher chain (bwrap + setpriv + prlimit) when bubblewrap is installed.
 * Needs root: it starts a real cscd in a temporary directory and submits as
 * the unprivileged user "nobody". */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "buf.h"
#include "frame.h"
#include "json.h"
#include "keys.h"

static int submit_once(const char *sock, uid_t uid, gid_t gid, char status[32]);

static double pct(double *v, int n, double p) {
        qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
        int i = (int)(p * (n - 1) + 0.5);
        return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static long rss_kib(pid_t pid) {
        char path[64], line[256];
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "r");
        long kib = -1;
        while (f && fgets(line, sizeof line, f))
                if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
                        break;
        if (f)
                fclose(f);
        return kib;
}

/* K client processes, each submitting per_client contracts; returns
 * contracts per second and adds failures to *errors. */
/* One unit of work for a throughput client: 0 on success. */
typedef int (*work_fn)(const char *sock, uid_t uid, gid_t gid);

static int work_submit(const char *sock, uid_t uid, gid_t gid) {
        char status[32];
        return submit_once(sock, uid, gid, status) < 0 || strcmp(status, "success") != 0 ? -1 : 0;
}

static int work_fork_exec(const char *sock, uid_t uid, gid_t gid) {
        pid_t pid = fork();
        if (pid == 0) {
                execl("/bin/true", "true", (char *)NULL);
                _exit(127);
        }
        int st;
        return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* k concurrent clients doing per_client units of work each: units/s. */
static double throughput_of(work_fn work, const char *sock, uid_t uid, gid_t gid, int k, int per_client, int *errors) {
        int pipes[64][2];
        pid_t kids[64];
        double t0 = (bench_now_ns() / 1e3);
        for (int i = 0; i < k; i++) {
                if (pipe(pipes[i]) < 0)
                        return -1;
                kids[i] = fork();
                if (kids[i] == 0) {
                        int bad = 0;
                        for (int j = 0; j < per_client; j++)
                                bad += work(sock, uid, gid) < 0;
                        (void)!write(pipes[i][1], &bad, sizeof bad);
                        _exit(0);
                }
                close(pipes[i][1]);
        }
        for (int i = 0; i < k; i++) {
                int bad = per_client;
                if (read(pipes[i][0], &bad, sizeof bad) != (ssize_t)sizeof bad)
                        bad = per_client;
                *errors += bad;
                close(pipes[i][0]);
                waitpid(kids[i], NULL, 0);
        }
        double secs = ((bench_now_ns() / 1e3) - t0) / 1e6;
        return (double)(k * per_client) / secs;
}

static const char contract_json[] =
        "{\"type\":\"submit\",\"contract\":{\"version\":\"csc.v0.1\",\"contract_id\":\"bench-true-0001\","
        "\"intent\":\"benchmark\",\"actor\":{\"agent_id\":\"bench\",\"session_id\":\"bench\",\"initiating_user\":\"bench\","
        "\"delegation_scope\":\"bench\"},\"commands\":[{\"id\":\"t\",\"exec\":{\"argv\":[\"/bin/true\"]},\"cwd\":\"/tmp\","
        "\"read_paths\":[],\"write_paths\":[],\"network\":\"deny\",\"env_allow\":[],\"secret_refs\":[],\"timeout_sec\":10,"
        "\"proposed_effect_type\":\"observe\"}],\"risk_class\":\"low\",\"approval_mode\":\"policy_only\","
        "\"justification\":\"benchmark\"}}";

/* The same with one declared read path, which the sandbox resolves as the
 * peer and binds from the descriptor: the cost of sandbox rule 1. */
static const char contract_path_json[] =
        "{\"type\":\"submit\",\"contract\":{\"version\":\"csc.v0.1\",\"contract_id\":\"bench-true-0002\","
        "\"intent\":\"benchmark\",\"actor\":{\"agent_id\":\"bench\",\"session_id\":\"bench\",\"initiating_user\":\"bench\","
        "\"delegation_scope\":\"bench\"},\"commands\":[{\"id\":\"t\",\"exec\":{\"argv\":[\"/bin/true\"]},\"cwd\":\"/tmp\","
        "\"read_paths\":[\"/usr/share\"],\"write_paths\":[],\"network\":\"deny\",\"env_allow\":[],\"secret_refs\":[],"
        "\"timeout_sec\":10,\"proposed_effect_type\":\"observe\"}],\"risk_class\":\"low\",\"approval_mode\":\"policy_only\","
        "\"justification\":\"benchmark\"}}";

/* The first with `network: allowlisted`: the sandbox's listener, handed to
 * cscd, and the execution registered with cscd-egress (nothing connects). */
static const char contract_allow_json[] =
        "{\"type\":\"submit\",\"contract\":{\"version\":\"csc.v0.1\",\"contract_id\":\"bench-true-0003\","
        "\"intent\":\"benchmark\",\"actor\":{\"agent_id\":\"bench\",\"session_id\":\"bench\",\"initiating_user\":\"bench\","
        "\"delegation_scope\":\"bench\"},\"commands\":[{\"id\":\"t\",\"exec\":{\"argv\":[\"/bin/true\"]},\"cwd\":\"/tmp\","
        "\"read_paths\":[],\"write_paths\":[],\"network\":\"allowlisted\",\"env_allow\":[],\"secret_refs\":[],"
        "\"timeout_sec\":10,\"proposed_effect_type\":\"observe\"}],\"risk_class\":\"low\",\"approval_mode\":\"policy_only\","
        "\"justification\":\"benchmark\"}}";

static const char policy_yaml[] =
        "policy_schema_version: csc.policy.v0.1\nname: bench\nallow_commands: [/bin/true]\n"
        "allowed_effect_types: [observe]\nallowed_risk_classes: [low]\nmax_timeout_sec: 60\nnetwork: allowlisted\n"
        "allowed_egress_hosts: [example.org]\n"
        "allow_secret_refs: false\nallowed_cwd_prefixes: [/tmp]\nallowed_read_prefixes: [/tmp, /usr/share]\n";

/* One submit frame as uid: returns the receipt's status in status (or "error"). */
int bench_request(const char *sock, uid_t uid, gid_t gid, const char *frame, size_t n, bool first_only,
                  char status[32]) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* SO_PEERCRED records the credentials at connect time. */
        if (setegid(gid) < 0 || seteuid(uid) < 0) {
                close(fd);
                return -errno;
        }
        int r = connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ? -errno : 0;
        if (seteuid(0) < 0 || setegid(0) < 0)
                abort();
        if (r < 0) {
                close(fd);
                return r;
        }
        unsigned char hdr[4] = { (unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                                 (unsigned char)n };
        if (write(fd, hdr, 4) != 4 || write(fd, frame, n) != (ssize_t)n) {
                close(fd);
                return -EIO;
        }
        csc_frame_reader rd;
        csc_frame_reader_init(&rd, 4u << 20);
        snprintf(status, 32, "error");
        char buf[65536];
        bool done = false;
        while (!done) {
                ssize_t got = read(fd, buf, sizeof buf);
                if (got <= 0)
                        break;
                size_t off = 0;
                while (off < (size_t)got && !done) {
                        size_t used;
                        int f = csc_frame_reader_feed(&rd, buf + off, (size_t)got - off, &used);
                        off += used;
                        if (f < 0)
                                break;
                        if (f == 1) {
                                char *payload;
                                size_t len;
                                csc_frame_reader_take(&rd, &payload, &len);
                                csc_json_doc *doc = NULL;
                                if (csc_json_parse(payload, len, &doc, NULL) == 0) {
                                        const csc_json *root = csc_json_doc_root(doc);
                                        const char *type = csc_json_get_str(root, "type");
                                        if (first_only) {
                                                snprintf(status, 32, "%s", type ? type : "?");
                                                done = true;
                                        } else if (type && strcmp(type, "receipt") == 0) {
                                                snprintf(status, 32, "%s",
                                                         csc_json_get_str(csc_json_get(root, "receipt"), "status") ?: "?");
                                                done = true;
                                        } else if (type && strcmp(type, "error") == 0)
                                                done = true;
                                }
                                csc_json_doc_free(doc);
                                free(payload);
                        }
                }
        }
        csc_frame_reader_reset(&rd);
        close(fd);
        return done ? 0 : -EPROTO;
}

static int submit_frame(const char *sock, uid_t uid, gid_t gid, const char *frame, size_t n, char status[32]) {
        return bench_request(sock, uid, gid, frame, n, false, status);
}

static int submit_once(const char *sock, uid_t uid, gid_t gid, char status[32]) {
        return submit_frame(sock, uid, gid, contract_json, sizeof contract_json - 1, status);
}

int bench_submit_true(const char *sock, uid_t uid, gid_t gid) {
        char status[32];
        return submit_once(sock, uid, gid, status) == 0 && strcmp(status, "success") == 0 ? 0 : -1;
}

double bench_run_us(char *const argv[]) {
        double t0 = (bench_now_ns() / 1e3);
        pid_t pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);
                dup2(null, 1);
                dup2(null, 2);
                execvp(argv[0], argv);
                _exit(127);
        }
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                return -1;
        return (bench_now_ns() / 1e3) - t0;
}

int bench_prepare_dir(char *dir) {
        if (!mkdtemp(dir) || chmod(dir, 0755) < 0)
                return -errno;
        char path[512];
        snprintf(path, sizeof path, "%s/policy.yaml", dir);
        FILE *f = fopen(path, "w");
        if (!f || fputs(policy_yaml, f) < 0 || fclose(f) != 0)
                return -EIO;
        csc_error err = { 0 };
        if (csc_keygen_write(dir, "bench", &err) < 0) {
                fprintf(stderr, "csc-bench-submit: keygen: %s\n", err.message);
                return -EIO;
        }
        return 0;
}

/* One benchmark user submits everything, under the default caps (the
 * issue's "default config"): past max_executions_per_peer (16) its submits
 * wait in the admission queue, so 32 clients see no errors. */
int bench_start_cscd(const char *cscd, const char *dir, const char *name, const char *conf_text, pid_t *ret_pid,
                     char sock[512]) {
        char conf[512], state[512], key[512], policy[512];
        snprintf(conf, sizeof conf, "%s/%s.conf", dir, name);
        snprintf(sock, 512, "%s/%s.sock", dir, name);
        snprintf(state, sizeof state, "%s/state-%s", dir, name);
        snprintf(key, sizeof key, "%s/bench.key", dir);
        snprintf(policy, sizeof policy, "%s/policy.yaml", dir);
        FILE *cf = fopen(conf, "w");
        if (!cf || fputs(conf_text, cf) < 0 || fclose(cf) != 0)
                return -EIO;
        pid_t daemon = fork();
        if (daemon < 0)
                return -errno;
        if (daemon == 0) {
                int null = open("/dev/null", O_RDWR);
                if (!getenv("CSC_BENCH_DAEMON_STDERR"))   /* debugging the benchmark itself */
                        dup2(null, 2);
                execl(cscd, cscd, "--config", conf, "--socket", sock, "--state-dir", state, "--policy", policy,
                      "--signing-key", key, "--key-id", "bench", (char *)NULL);
                _exit(127);
        }
        struct stat st;
        for (int i = 0; i < 100 && stat(sock, &st) < 0; i++)
                usleep(20000);
        *ret_pid = daemon;
        return 0;
}

void bench_remove_dir(const char *dir) {
        char rm[600];
        snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
        if (system(rm) != 0)
                fprintf(stderr, "csc-bench: could not remove %s\n", dir);
}

static bool have(const char *prog) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
        return system(cmd) == 0;
}

int bench_submit(const char *cscd, const char *cscctl, const char *egress, int n, int gap_ms, FILE *json) {
        if (geteuid() != 0) {
                fprintf(stderr, "csc-bench: the submit benchmark needs root (it starts cscd)\n");
                return 77;
        }
        bool allow_ok = egress && access(egress, X_OK) == 0 && getpwnam("csc-egress");   /* before pw: one static buffer */
        struct passwd *pw = getpwnam("nobody");
        if (!pw) {
                fprintf(stderr, "csc-bench-submit: no user 'nobody'\n");
                return 1;
        }
        char dir[] = "/tmp/csc-bench.XXXXXX", sock[512];
        char conf[600] = "# the defaults, and where the egress proxy is\n";
        if (allow_ok)
                snprintf(conf + strlen(conf), sizeof conf - strlen(conf), "egress_proxy: \"%s\"\n", egress);
        pid_t daemon;
        if (bench_prepare_dir(dir) < 0 || bench_start_cscd(cscd, dir, "main", conf, &daemon, sock) < 0)
                return 1;
        char status[32];
        double *sub = calloc((size_t)n, sizeof *sub), *sub_path = calloc((size_t)n, sizeof *sub_path), *base[3];
        double *sub_allow = calloc((size_t)n, sizeof *sub_allow);
        int errors_allow = 0;
        for (int b = 0; b < 3; b++)
                base[b] = calloc((size_t)n, sizeof *base[b]);
        int errors = 0;
        long rss_idle = rss_kib(daemon);
        for (int i = 0; i < 20; i++)   /* warm up */
                submit_once(sock, pw->pw_uid, pw->pw_gid, status);
        int errors_path = 0;
        for (int i = 0; i < n; i++) {   /* (b) and (b') interleaved */
                double t0 = (bench_now_ns() / 1e3);
                if (submit_once(sock, pw->pw_uid, pw->pw_gid, status) < 0 || strcmp(status, "success") != 0)
                        errors++;
                sub[i] = (bench_now_ns() / 1e3) - t0;
                t0 = bench_now_ns() / 1e3;
                if (submit_frame(sock, pw->pw_uid, pw->pw_gid, contract_path_json, sizeof contract_path_json - 1,
                                 status) < 0 ||
                    strcmp(status, "success") != 0)
                        errors_path++;
                sub_path[i] = bench_now_ns() / 1e3 - t0;
                t0 = bench_now_ns() / 1e3;
                if (allow_ok && (submit_frame(sock, pw->pw_uid, pw->pw_gid, contract_allow_json,
                                              sizeof contract_allow_json - 1, status) < 0 ||
                                 strcmp(status, "success") != 0))
                        errors_allow++;
                sub_allow[i] = bench_now_ns() / 1e3 - t0;
        }
        static const int conc[3] = { 1, 8, 32 };
        double tput[3];
        int tput_err[3] = { 0, 0, 0 };
        for (int c = 0; c < 3; c++)
                tput[c] = throughput_of(work_submit, sock, pw->pw_uid, pw->pw_gid, conc[c],
                                        conc[c] == 1 ? n : (n * 2 / conc[c] + 4), &tput_err[c]);
        double tput_fe[3];   /* the same clients, each unit a fork+exec of /bin/true */
        int fe_err = 0;
        for (int c = 0; c < 3; c++)
                tput_fe[c] = throughput_of(work_fork_exec, NULL, 0, 0, conc[c], conc[c] == 1 ? n : (n * 2 / conc[c] + 4),
                                           &fe_err);
        long rss_after = rss_kib(daemon);
        bench_mcp_figures mcp = { 0 };
        int mcp_r = bench_mcp(cscctl, sock, pw->pw_uid, pw->pw_gid, n, bench_submit_true, &mcp);
        char *true_argv[] = { "/bin/true", NULL };
        char *unshare_argv[] = { "unshare", "-Urmnpf", "--mount-proc", "/bin/true", NULL };
        char *chain_argv[] = { "bwrap", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink",
                               "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/sbin", "/sbin",
                               "--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                               "--unshare-net", "--unshare-pid", "--new-session", "--die-with-parent",
                               "setpriv", "--no-new-privs",
                               "prlimit", "--cpu=300", "--as=1073741824", "--fsize=104857600", "--nofile=1024",
                               "/bin/true", NULL };
        char **argvs[3] = { true_argv, unshare_argv, chain_argv };
        static const char *const base_name[3] = { "fork+exec /bin/true", "unshare -Urmnpf --mount-proc /bin/true",
                                                  "reference chain: bwrap+setpriv+prlimit /bin/true" };
        bool base_ok[3] = { true, true, have("bwrap") && have("setpriv") && have("prlimit") };
        for (int b = 0; b < 3; b++)
                for (int i = 0; i < n && base_ok[b]; i++)
                        base_ok[b] = (base[b][i] = bench_run_us(argvs[b])) >= 0;
        /* (b-gap) interactive: gap_ms idle before each run, cscd and the
         * baselines interleaved so they share the machine's state. */
        int n_gap = gap_ms > 0 ? (n < 50 ? n : 50) : 0, errors_gap = 0;
        double *gap[3];
        for (int b = 0; b < 3; b++)
                gap[b] = calloc((size_t)(n_gap ? n_gap : 1), sizeof *gap[b]);
        bool gap_ok[3] = { true, base_ok[1], base_ok[2] };
        for (int i = 0; i < n_gap; i++) {
                usleep((useconds_t)gap_ms * 1000);
                double t0 = bench_now_ns() / 1e3;
                if (submit_once(sock, pw->pw_uid, pw->pw_gid, status) < 0 || strcmp(status, "success") != 0)
                        errors_gap++;
                gap[0][i] = bench_now_ns() / 1e3 - t0;
                for (int b = 1; b < 3; b++)
                        if (gap_ok[b]) {
                                usleep((useconds_t)gap_ms * 1000);
                                gap_ok[b] = (gap[b][i] = bench_run_us(argvs[b])) >= 0;
                        }
        }
        kill(daemon, SIGTERM);
        waitpid(daemon, NULL, 0);
        bench_remove_dir(dir);

        double p50 = pct(sub, n, 0.5), p90 = pct(sub, n, 0.9), p99 = pct(sub, n, 0.99);
        double bm[3];
        for (int b = 0; b < 3; b++)
                bm[b] = base_ok[b] ? pct(base[b], n, 0.5) : -1;
        printf("\n(b) submit -> signed receipt for /bin/true, full sandbox, over the socket, 1 client, n=%d (us)\n", n);
        printf("%-52s %9.0f  %9.0f  %9.0f   target p50 <= 1500\n", "cscd p50 / p90 / p99", p50, p90, p99);
        for (int b = 0; b < 3; b++) {
                if (base_ok[b])
                        printf("%-52s %9.0f   cscd p50 = %.2fx%s\n", base_name[b], bm[b], p50 / bm[b],
                               b == 1 ? " (target <= 1.5x)" : b == 2 ? " (target < 1x)" : "");
                else
                        printf("%-52s %9s\n", base_name[b], "not available");
        }
        double pp50 = pct(sub_path, n, 0.5);
        printf("(b') the same with one declared read path (/usr/share, resolved as the peer, bound by descriptor):\n"
               "%-52s %9.0f  %9.0f  %9.0f   = %.2fx (b) p50, errors %d\n",
               "cscd p50 / p90 / p99", pp50, pct(sub_path, n, 0.9), pct(sub_path, n, 0.99), pp50 / p50, errors_path);
        double ap50 = allow_ok ? pct(sub_allow, n, 0.5) : -1;
        if (allow_ok)
                printf("(b'') the same with network allowlisted (a listener in the sandbox's netns, handed to cscd;\n"
                       "     the execution registered with cscd-egress and ended there):\n"
                       "%-52s %9.0f  %9.0f  %9.0f   = %.2fx (b) p50 (+%.0f us), errors %d\n",
                       "cscd p50 / p90 / p99", ap50, pct(sub_allow, n, 0.9), pct(sub_allow, n, 0.99), ap50 / p50,
                       ap50 - p50, errors_allow);
        else
                printf("(b'') network allowlisted: skipped (no cscd-egress binary, or no user csc-egress)\n");
        double g50[3] = { -1, -1, -1 };
        if (n_gap) {
                for (int b = 0; b < 3; b++)
                        g50[b] = gap_ok[b] ? pct(gap[b], n_gap, 0.5) : -1;
                printf("(b-gap) interactive: %d ms idle before each run, n=%d, interleaved (us):\n", gap_ms, n_gap);
                printf("%-52s %9.0f  %9.0f   errors %d\n", "cscd p50 / p90", g50[0], pct(gap[0], n_gap, 0.9), errors_gap);
                if (gap_ok[1])
                        printf("%-52s %9.0f   cscd p50 = %.2fx (target <= 0.5x)\n", "unshare -Urmnpf --mount-proc, same gap",
                               g50[1], g50[0] / g50[1]);
                if (gap_ok[2])
                        printf("%-52s %9.0f   cscd p50 = %.2fx (target <= 0.25x)\n", "reference chain, same gap", g50[2],
                               g50[0] / g50[2]);
                else
                        printf("%-52s %9s\n", "reference chain, same gap", "not available");
        }
        printf("\n(c) throughput (contracts/s, every one a full sandbox)\n");
        for (int c = 0; c < 3; c++)
                printf("%2d concurrent clients: %8.0f/s, errors %d;  fork+exec /bin/true %8.0f/s, cscd = %.3fx%s\n", conc[c],
                       tput[c], tput_err[c], tput_fe[c], tput[c] / tput_fe[c],
                       conc[c] == 32 ? "   (target >= 800/s on 2 cores, 0 errors)" : "");
        printf("\n(d) cscd RSS: idle %ld KiB, after the run %ld KiB   (target idle <= 4096 KiB)\n", rss_idle, rss_after);
        printf("errors in (b): %d\n", errors);
        if (mcp_r != 77)
                bench_mcp_print(&mcp, n);
        else
                printf("\n(e) MCP bridge: %s not found; skipped (pass --cscctl PATH)\n", cscctl);
        if (json) {
                fprintf(json, "\"submit_us\":{\"n\":%d,\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,\"errors\":%d},"
                              "\"baselines_us\":{\"fork_exec_true\":%.0f,\"unshare_true\":%.0f,\"reference_chain_true\":%.0f},"
                              "\"throughput_per_s\":{\"1\":%.0f,\"8\":%.0f,\"32\":%.0f},"
                              "\"throughput_errors\":{\"1\":%d,\"8\":%d,\"32\":%d},"
                              "\"throughput_fork_exec_per_s\":{\"1\":%.0f,\"8\":%.0f,\"32\":%.0f},"
                              "\"rss_kib\":{\"idle\":%ld,\"after\":%ld},"
                              "\"submit_declared_path_us\":{\"p50\":%.0f,\"errors\":%d},"
                              "\"submit_allowlisted_us\":{\"p50\":%.0f,\"errors\":%d},"
                              "\"submit_gap_us\":{\"gap_ms\":%d,\"n\":%d,\"p50\":%.0f,\"unshare_p50\":%.0f,"
                              "\"reference_chain_p50\":%.0f,\"errors\":%d}",
                        n, p50, p90, p99, errors, bm[0], bm[1], bm[2], tput[0], tput[1], tput[2], tput_err[0],
                        tput_err[1], tput_err[2], tput_fe[0], tput_fe[1], tput_fe[2], rss_idle, rss_after, pp50, errors_path, ap50, errors_allow,
                        gap_ms, n_gap, g50[0], g50[1], g50[2], errors_gap);
                if (mcp_r != 77)
                        fprintf(json, ",\"mcp_bridge_us\":{\"n\":%d,\"run\":{\"direct_p50\":%.0f,\"bridge_p50\":%.0f,"
                                      "\"added\":%.0f},\"check\":{\"direct_p50\":%.0f,\"bridge_p50\":%.0f,\"added\":%.0f},"
                                      "\"errors\":%d}",
                                n, mcp.run_direct, mcp.run_bridge, mcp.run_added, mcp.check_direct, mcp.check_bridge,
                                mcp.check_added, mcp.errors);
        }
        free(sub);
        free(sub_path);
        free(sub_allow);
        for (int b = 0; b < 3; b++)
                free(gap[b]);
        for (int b = 0; b < 3; b++)
                free(base[b]);
        return errors || errors_path || errors_allow || errors_gap || tput_err[0] || tput_err[1] || tput_err[2] || mcp_r == 1 ? 1 : 0;
}
