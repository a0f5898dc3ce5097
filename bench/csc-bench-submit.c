/* csc-bench-submit.c — cscd's end-to-end benchmark: submit → signed receipt
 * for /bin/true under the full sandbox, over the socket, against baselines
 * measured in the same run:
 *   - `unshare -Urmnpf /bin/true` (namespaces alone, what the design's target
 *     is a ratio of);
 *   - the reference runner's launcher chain `bwrap … setpriv … prlimit … true`
 *     when bubblewrap is installed.
 * Needs root: it starts a real cscd in a temporary directory and submits as
 * the unprivileged user "nobody". Prints medians and ratios; --json FILE
 * writes them. */
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

#include "buf.h"
#include "frame.h"
#include "json.h"
#include "keys.h"

static double now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static double median(double *v, int n) {
        qsort(v, (size_t)n, sizeof *v, cmp_double);
        return v[n / 2];
}

static const char contract_json[] =
        "{\"type\":\"submit\",\"contract\":{\"version\":\"csc.v0.1\",\"contract_id\":\"bench-true-0001\","
        "\"intent\":\"benchmark\",\"actor\":{\"agent_id\":\"bench\",\"session_id\":\"bench\",\"initiating_user\":\"bench\","
        "\"delegation_scope\":\"bench\"},\"commands\":[{\"id\":\"t\",\"exec\":{\"argv\":[\"/bin/true\"]},\"cwd\":\"/tmp\","
        "\"read_paths\":[],\"write_paths\":[],\"network\":\"deny\",\"env_allow\":[],\"secret_refs\":[],\"timeout_sec\":10,"
        "\"proposed_effect_type\":\"observe\"}],\"risk_class\":\"low\",\"approval_mode\":\"policy_only\","
        "\"justification\":\"benchmark\"}}";

static const char policy_yaml[] =
        "policy_schema_version: csc.policy.v0.1\nname: bench\nallow_commands: [/bin/true]\n"
        "allowed_effect_types: [observe]\nallowed_risk_classes: [low]\nmax_timeout_sec: 60\nnetwork: deny\n"
        "allow_secret_refs: false\nallowed_cwd_prefixes: [/tmp]\nallowed_read_prefixes: [/tmp]\n";

/* One submit as uid: returns the receipt's status in status (or "error"). */
static int submit_once(const char *sock, uid_t uid, gid_t gid, char status[32]) {
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
        size_t n = sizeof contract_json - 1;
        unsigned char hdr[4] = { (unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                                 (unsigned char)n };
        if (write(fd, hdr, 4) != 4 || write(fd, contract_json, n) != (ssize_t)n) {
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
                                        if (type && strcmp(type, "receipt") == 0) {
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

/* fork+exec+wait of argv, in microseconds; -1 on failure. */
static double run_us(char *const argv[]) {
        double t0 = now_us();
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
        return now_us() - t0;
}

static bool have(const char *prog) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
        return system(cmd) == 0;
}

int main(int argc, char **argv) {
        const char *cscd = NULL, *json_out = NULL;
        int n = 300;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--cscd") == 0 && i + 1 < argc)
                        cscd = argv[++i];
                else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
                        n = atoi(argv[++i]);
                else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
                        json_out = argv[++i];
                else if (strcmp(argv[i], "--help") == 0) {
                        puts("usage: csc-bench-submit --cscd PATH [--n N] [--json FILE]\n"
                             "Median submit->signed receipt for /bin/true under the full sandbox, and baselines.");
                        return 0;
                } else {
                        fprintf(stderr, "csc-bench-submit: unexpected argument '%s'\n", argv[i]);
                        return 64;
                }
        }
        if (!cscd || n < 10) {
                fprintf(stderr, "csc-bench-submit: --cscd PATH is required (and --n >= 10)\n");
                return 64;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "csc-bench-submit: needs root (it starts cscd)\n");
                return 77;
        }
        struct passwd *pw = getpwnam("nobody");
        if (!pw) {
                fprintf(stderr, "csc-bench-submit: no user 'nobody'\n");
                return 1;
        }
        char dir[] = "/tmp/csc-bench.XXXXXX";
        if (!mkdtemp(dir) || chmod(dir, 0755) < 0)
                return 1;
        char path[512], sock[512], state[512], key[512];
        snprintf(path, sizeof path, "%s/policy.yaml", dir);
        FILE *f = fopen(path, "w");
        if (!f || fputs(policy_yaml, f) < 0 || fclose(f) != 0)
                return 1;
        csc_error err = { 0 };
        if (csc_keygen_write(dir, "bench", &err) < 0) {
                fprintf(stderr, "csc-bench-submit: keygen: %s\n", err.message);
                return 1;
        }
        snprintf(sock, sizeof sock, "%s/csc.sock", dir);
        snprintf(state, sizeof state, "%s/state", dir);
        snprintf(key, sizeof key, "%s/bench.key", dir);
        pid_t daemon = fork();
        if (daemon == 0) {
                int null = open("/dev/null", O_RDWR);
                dup2(null, 2);
                execl(cscd, cscd, "--socket", sock, "--state-dir", state, "--policy", path, "--signing-key", key,
                      "--key-id", "bench", (char *)NULL);
                _exit(127);
        }
        struct stat st;
        for (int i = 0; i < 100 && stat(sock, &st) < 0; i++)
                usleep(20000);
        char status[32];
        double *sub = calloc((size_t)n, sizeof *sub), *uns = calloc((size_t)n, sizeof *uns),
               *chain = calloc((size_t)n, sizeof *chain);
        int errors = 0;
        for (int i = 0; i < 20; i++)   /* warm up */
                submit_once(sock, pw->pw_uid, pw->pw_gid, status);
        for (int i = 0; i < n; i++) {
                double t0 = now_us();
                if (submit_once(sock, pw->pw_uid, pw->pw_gid, status) < 0 || strcmp(status, "success") != 0)
                        errors++;
                sub[i] = now_us() - t0;
        }
        char *unshare_argv[] = { "unshare", "-Urmnpf", "/bin/true", NULL };
        bool unshare_ok = true;
        for (int i = 0; i < n && unshare_ok; i++)
                unshare_ok = (uns[i] = run_us(unshare_argv)) >= 0;
        bool chain_ok = have("bwrap") && have("setpriv") && have("prlimit");
        char *chain_argv[] = { "bwrap", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink",
                               "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev",
                               "/dev", "--tmpfs", "/tmp", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                               "--unshare-cgroup-try", "--die-with-parent", "--new-session",
                               "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs",
                               "prlimit", "--cpu=300", "--as=1073741824", "--fsize=104857600", "--core=0",
                               "/bin/true", NULL };
        for (int i = 0; i < n && chain_ok; i++)
                chain_ok = (chain[i] = run_us(chain_argv)) >= 0;
        kill(daemon, SIGTERM);
        waitpid(daemon, NULL, 0);
        char rm[600];
        snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
        if (system(rm) != 0)
                fprintf(stderr, "csc-bench-submit: could not remove %s\n", dir);

        double m_sub = median(sub, n), m_uns = unshare_ok ? median(uns, n) : -1, m_chain = chain_ok ? median(chain, n) : -1;
        printf("csc-bench-submit: %d sequential submits of /bin/true as 'nobody' (median, microseconds)\n", n);
        printf("%-58s %10.0f   target <= 1500\n", "cscd submit -> signed receipt (full sandbox, socket)", m_sub);
        if (unshare_ok)
                printf("%-58s %10.0f   ratio %.2fx (target <= 1.5x)\n", "baseline: unshare -Urmnpf /bin/true", m_uns,
                       m_sub / m_uns);
        else
                printf("%-58s %10s\n", "baseline: unshare -Urmnpf /bin/true", "failed");
        if (chain_ok)
                printf("%-58s %10.0f   ratio %.2fx (target < 1x)\n", "baseline: bwrap + setpriv + prlimit /bin/true",
                       m_chain, m_sub / m_chain);
        else
                printf("%-58s %10s\n", "baseline: bwrap + setpriv + prlimit /bin/true", "not available");
        printf("errors: %d\n", errors);
        if (json_out) {
                FILE *j = fopen(json_out, "w");
                if (j) {
                        fprintf(j, "{\"n\":%d,\"submit_median_us\":%.0f,\"unshare_median_us\":%.0f,"
                                   "\"launcher_chain_median_us\":%.0f,\"errors\":%d}\n",
                                n, m_sub, m_uns, m_chain, errors);
                        fclose(j);
                }
        }
        free(sub);
        free(uns);
        free(chain);
        return errors ? 1 : 0;
}
