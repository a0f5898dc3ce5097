/* pool.c — benchmark part (g), all in one run: two cscd from the same binary,
 * one with the warm pool (warm_sandboxes 4, the default) and one without
 * (0), submitting /bin/true back to back and after an idle gap, interleaved
 * with `unshare -Urmnpf --mount-proc /bin/true` after the same gap; the RSS
 * of the pool's executors, apart from cscd's own; and what privilege
 * separation costs a connection: a connect + `status` round trip (it starts
 * a cscd-session) against fork+exec of /bin/true, the floor for starting a
 * fresh image. Needs root. */
#include <dirent.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static double p50_of(double *v, int n) {
        qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
        return v[n / 2];
}

static double timed_submit(const char *sock, uid_t uid, gid_t gid, int *errors) {
        double t0 = bench_now_ns() / 1e3;
        if (bench_submit_true(sock, uid, gid) < 0)
                (*errors)++;
        return bench_now_ns() / 1e3 - t0;
}

static double timed_status(const char *sock, uid_t uid, gid_t gid, int *errors) {
        static const char frame[] = "{\"type\":\"status\"}";
        char type[32];
        double t0 = bench_now_ns() / 1e3;
        if (bench_request(sock, uid, gid, frame, sizeof frame - 1, true, type) < 0 || strcmp(type, "status") != 0)
                (*errors)++;
        return bench_now_ns() / 1e3 - t0;
}

/* Proportional set size (KiB) of cscd's children named cscd-executor: the
 * warm pool's executors, which share most pages with cscd. */
static long pool_pss_kib(pid_t daemon, int *count) {
        long total = 0;
        *count = 0;
        DIR *d = opendir("/proc");
        for (struct dirent *de; d && (de = readdir(d));) {
                char path[300], buf[512];
                snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
                FILE *f = fopen(path, "r");
                if (!f)
                        continue;
                size_t got = fread(buf, 1, sizeof buf - 1, f);
                fclose(f);
                buf[got] = 0;
                char *close_paren = strrchr(buf, ')');
                int ppid = 0;
                if (!strstr(buf, "(cscd-executor)") || !close_paren || sscanf(close_paren + 2, "%*c %d", &ppid) != 1 ||
                    ppid != daemon)
                        continue;
                snprintf(path, sizeof path, "/proc/%s/smaps_rollup", de->d_name);
                f = fopen(path, "r");
                long kib = 0;
                while (f && fgets(buf, sizeof buf, f))
                        if (sscanf(buf, "Pss: %ld kB", &kib) == 1)
                                break;
                if (f)
                        fclose(f);
                total += kib;
                (*count)++;
        }
        if (d)
                closedir(d);
        return total;
}

typedef struct pool_figures {
        double warm, cold, gap_warm, gap_cold, gap_unshare, status, fork_exec;
        long pool_pss;
        int pool_n, errors, n_gap;
} pool_figures;

static void measure(const char *warm, pid_t warm_pid, const char *cold, uid_t uid, gid_t gid, int n, int gap_ms,
                    pool_figures *f) {
        double *a = calloc((size_t)n, sizeof *a), *b = calloc((size_t)n, sizeof *b);
        for (int i = 0; i < 10; i++) {   /* warm up both */
                timed_submit(warm, uid, gid, &f->errors);
                timed_submit(cold, uid, gid, &f->errors);
        }
        for (int i = 0; i < n; i++) {    /* back to back, interleaved */
                a[i] = timed_submit(warm, uid, gid, &f->errors);
                b[i] = timed_submit(cold, uid, gid, &f->errors);
        }
        f->warm = p50_of(a, n);
        f->cold = p50_of(b, n);
        char *true_argv[] = { "/bin/true", NULL };
        char *unshare_argv[] = { "unshare", "-Urmnpf", "--mount-proc", "/bin/true", NULL };
        for (int i = 0; i < n; i++) {    /* a session per connection, against a fresh image's floor */
                a[i] = timed_status(warm, uid, gid, &f->errors);
                b[i] = bench_run_us(true_argv);
        }
        f->status = p50_of(a, n);
        f->fork_exec = p50_of(b, n);
        usleep(300000);   /* let the pool refill before its RSS is read */
        f->pool_pss = pool_pss_kib(warm_pid, &f->pool_n);
        f->n_gap = gap_ms > 0 ? (n < 50 ? n : 50) : 0;
        double *c = calloc((size_t)(f->n_gap ? f->n_gap : 1), sizeof *c);
        for (int i = 0; i < f->n_gap; i++) {
                usleep((useconds_t)gap_ms * 1000);
                a[i] = timed_submit(warm, uid, gid, &f->errors);
                usleep((useconds_t)gap_ms * 1000);
                b[i] = timed_submit(cold, uid, gid, &f->errors);
                usleep((useconds_t)gap_ms * 1000);
                c[i] = bench_run_us(unshare_argv);
        }
        if (f->n_gap) {
                f->gap_warm = p50_of(a, f->n_gap);
                f->gap_cold = p50_of(b, f->n_gap);
                f->gap_unshare = p50_of(c, f->n_gap);
        }
        free(a);
        free(b);
        free(c);
}

int bench_pool(const char *cscd, int n, int gap_ms, FILE *json) {
        struct passwd *pw = getpwnam("nobody");
        if (geteuid() != 0 || !pw)
                return 77;
        uid_t uid = pw->pw_uid;
        gid_t gid = pw->pw_gid;
        char dir[] = "/tmp/csc-bench-pool.XXXXXX", warm[512], cold[512];
        pid_t dw = -1, dc = -1;
        if (bench_prepare_dir(dir) < 0 || bench_start_cscd(cscd, dir, "warm", "warm_sandboxes: 4\n", &dw, warm) < 0 ||
            bench_start_cscd(cscd, dir, "cold", "warm_sandboxes: 0\n", &dc, cold) < 0)
                return 1;
        pool_figures f = { 0 };
        measure(warm, dw, cold, uid, gid, n, gap_ms, &f);
        kill(dw, SIGTERM);
        kill(dc, SIGTERM);
        waitpid(dw, NULL, 0);
        waitpid(dc, NULL, 0);
        bench_remove_dir(dir);
        printf("\n(g) the warm pool, same binary, warm_sandboxes 4 against 0, interleaved, n=%d (us)\n", n);
        printf("%-52s %9.0f   pool off %9.0f   = %.2fx\n", "back to back p50, pool on", f.warm, f.cold, f.warm / f.cold);
        if (f.n_gap) {
                printf("%-52s %9.0f   pool off %9.0f   = %.2fx\n", "after the idle gap p50, pool on", f.gap_warm,
                       f.gap_cold, f.gap_warm / f.gap_cold);
                printf("%-52s %9.0f   pool on = %.2fx (target <= 0.5x)\n", "unshare -Urmnpf --mount-proc, same gap",
                       f.gap_unshare, f.gap_warm / f.gap_unshare);
        }
        printf("%-52s %9ld KiB (Pss, %d executors; apart from cscd's RSS)\n", "the pool's executors", f.pool_pss, f.pool_n);
        printf("(g') privilege separation: a session per connection\n");
        printf("%-52s %9.0f   fork+exec /bin/true %9.0f   = %.2fx\n", "connect + status p50 (starts a cscd-session)",
               f.status, f.fork_exec, f.status / f.fork_exec);
        printf("errors in (g): %d\n", f.errors);
        if (json)
                fprintf(json, ",\"pool_us\":{\"n\":%d,\"warm_p50\":%.0f,\"cold_p50\":%.0f,\"gap_ms\":%d,\"gap_n\":%d,"
                              "\"gap_warm_p50\":%.0f,\"gap_cold_p50\":%.0f,\"gap_unshare_p50\":%.0f,\"pool_pss_kib\":%ld,"
                              "\"pool_executors\":%d,\"errors\":%d},"
                              "\"session_us\":{\"connect_status_p50\":%.0f,\"fork_exec_true_p50\":%.0f}",
                        n, f.warm, f.cold, gap_ms, f.n_gap, f.gap_warm, f.gap_cold, f.gap_unshare, f.pool_pss, f.pool_n,
                        f.errors, f.status, f.fork_exec);
        return f.errors ? 1 : 0;
}
