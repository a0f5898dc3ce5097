/* bench.h — the parts of csc-bench. Each prints its table and, when json is
 * not NULL, writes its members (no surrounding braces) to it. */
#pragma once
#include <stdbool.h>
#include <stdio.h>

#include <sys/types.h>

int bench_decision(FILE *json);
/* Needs root; starts cscd (path) itself. n: submits per measurement. cscctl:
 * the client whose `mcp` bridge part (e) measures; egress: the cscd-egress
 * cscd starts for the allowlisted part (b''), skipped when NULL or missing;
 * gap_ms > 0: also (b-gap), every run after that much idle time. */
int bench_submit(const char *cscd, const char *cscctl, const char *egress, int n, int gap_ms, FILE *json);

/* One direct submit of the benchmark contract as uid; 0 when it succeeded. */
typedef int (*bench_submit_fn)(const char *sock, uid_t uid, gid_t gid);
typedef struct bench_mcp_figures {
        double run_direct, run_bridge, run_added;        /* p50s, and the median paired difference */
        double check_direct, check_bridge, check_added;
        int errors;
} bench_mcp_figures;
/* Part (e): csc_run through `cscctl mcp` (run as uid) interleaved with direct
 * submits, and csc_check with direct checks, on the running daemon's socket.
 * 0, 1 (errors) or 77 (no cscctl). */
int bench_mcp(const char *cscctl, const char *sock, uid_t uid, gid_t gid, int n, bench_submit_fn submit,
              bench_mcp_figures *ret);
void bench_mcp_print(const bench_mcp_figures *f, int n);
/* Starts the egress proxy (path) and compares a CONNECT tunnel through it
 * with a direct loopback copy of mib MiB per round. */
int bench_egress(const char *proxy, int mib, FILE *json);

/* submit.c, shared with pool.c: a temporary directory with the benchmark's
 * policy and key; a cscd started there as NAME with cscd.conf text conf_text
 * (its socket in sock); the directory removed. */
int bench_prepare_dir(char *dir);
int bench_start_cscd(const char *cscd, const char *dir, const char *name, const char *conf_text, pid_t *ret_pid,
                     char sock[512]);
void bench_remove_dir(const char *dir);
/* One request frame as uid: until the receipt (or an error), or only the
 * first reply frame (its type in status). 0 or -errno. */
int bench_request(const char *sock, uid_t uid, gid_t gid, const char *frame, size_t n, bool first_only,
                  char status[32]);
/* One submit of the /bin/true contract: 0 when it succeeded. */
int bench_submit_true(const char *sock, uid_t uid, gid_t gid);
/* fork+exec+wait of argv, in microseconds; -1 on failure. */
double bench_run_us(char *const argv[]);
/* Part (g): the warm pool against the same cscd with it off, and the cost of
 * a session per connection, in one run. */
int bench_pool(const char *cscd, int n, int gap_ms, FILE *json);

/* CLOCK_MONOTONIC in nanoseconds, and a qsort comparison of doubles (bench_util.c). */
double bench_now_ns(void);
int bench_cmp_double(const void *a, const void *b);
