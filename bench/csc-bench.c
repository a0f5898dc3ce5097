/* csc-bench.c — cscd's benchmark: (a) decision cost by phase; with --cscd,
 * (b) submit→receipt latency, (c) throughput at 1/8/32 clients, (d) daemon
 * RSS, (e) what the MCP bridge adds, (b'') what `network: allowlisted` adds
 * to a submit; with --egress (a mode of its own), the
 * (f) the egress proxy's CONNECT tunnel throughput against a direct loopback copy;
 * every figure beside a baseline measured in the same run and the design's
 * target. --json FILE writes all figures. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static const char usage[] =
        "usage: csc-bench [--cscd PATH [--cscctl PATH] [--egress-proxy PATH] [--n N]] [--egress PATH [--egress-mib N]]\n"
        "                 [--json FILE]\n"
        "  (a) the cost of one policy decision (parse, validate, hash, evaluate)\n"
        "  --cscd PATH  also start PATH (root needed) and measure (b) submit->signed\n"
        "               receipt latency p50/p90/p99, (c) throughput at 1, 8, 32\n"
        "               concurrent clients, (d) daemon RSS, against fork+exec,\n"
        "               unshare and the reference's bwrap+setpriv+prlimit chain\n"
        "  --cscctl PATH  with --cscd: also measure (e) what `cscctl mcp` adds to a\n"
        "               csc_run of /bin/true (default: client/cscctl beside cscd's build dir)\n"
        "  --egress-proxy PATH  with --cscd: the cscd-egress cscd starts for (b''), the same\n"
        "               submit with network allowlisted (default: daemon/egress/cscd-egress beside cscd)\n"
        "  --gap-ms MS  with --cscd: (b-gap), up to 50 runs each of cscd, unshare and the\n"
        "               reference chain after MS ms idle (default 200; 0 skips it)\n"
        "               (g) then two more cscd, warm pool on and off, back to back and after the\n"
        "               gap, and a connection's session against fork+exec /bin/true\n"
        "  --n N        submits per latency measurement (default 300)\n"
        "  --json FILE  write every figure as JSON\n"
        "  --egress PATH  only (f): start the egress proxy PATH (cscd-egress) and compare\n"
        "               a CONNECT tunnel's throughput with a direct loopback copy (target >= 50 %)\n"
        "  --egress-mib N  MiB per egress round (default 256)\n";

int main(int argc, char **argv) {
        const char *json_out = NULL, *cscd = NULL, *cscctl = NULL, *egress = NULL, *egress_proxy = NULL;
        int n = 300, egress_mib = 256, gap_ms = 200;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
                        json_out = argv[++i];
                else if (strcmp(argv[i], "--cscd") == 0 && i + 1 < argc)
                        cscd = argv[++i];
                else if (strcmp(argv[i], "--cscctl") == 0 && i + 1 < argc)
                        cscctl = argv[++i];
                else if (strcmp(argv[i], "--egress") == 0 && i + 1 < argc)
                        egress = argv[++i];
                else if (strcmp(argv[i], "--gap-ms") == 0 && i + 1 < argc)
                        gap_ms = atoi(argv[++i]);
                else if (strcmp(argv[i], "--egress-proxy") == 0 && i + 1 < argc)
                        egress_proxy = argv[++i];
                else if (strcmp(argv[i], "--egress-mib") == 0 && i + 1 < argc)
                        egress_mib = atoi(argv[++i]);
                else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
                        n = atoi(argv[++i]);
                else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        fputs(usage, stdout);
                        return 0;
                } else {
                        fprintf(stderr, "csc-bench: unexpected argument '%s'\n%s", argv[i], usage);
                        return 64;
                }
        }
        if (n < 10) {
                fprintf(stderr, "csc-bench: --n must be at least 10\n");
                return 64;
        }
        FILE *json = NULL;
        if (json_out && !(json = fopen(json_out, "w"))) {
                fprintf(stderr, "csc-bench: cannot write %s: %s\n", json_out, strerror(errno));
                return 73;
        }
        if (gap_ms < 0 || gap_ms > 10000) {
                fprintf(stderr, "csc-bench: --gap-ms must be 0..10000\n");
                return 64;
        }
        if (egress_mib < 1 || egress_mib > 65536) {
                fprintf(stderr, "csc-bench: --egress-mib must be 1..65536\n");
                return 64;
        }
        if (json)
                fputc('{', json);
        int r = egress ? bench_egress(egress, egress_mib, json) : bench_decision(json);
        if (r == 0 && cscd && !egress) {
                if (json)
                        fputc(',', json);
                /* BUILD/daemon/cscd → BUILD/client/cscctl, the client built with it */
                char guess[4096];
                const char *slash = strrchr(cscd, '/');
                int dlen = slash ? (int) (slash - cscd) : 1;
                snprintf(guess, sizeof guess, "%.*s/../client/cscctl", dlen, slash ? cscd : ".");
                char eguess[4096];   /* BUILD/daemon/cscd → BUILD/daemon/egress/cscd-egress */
                snprintf(eguess, sizeof eguess, "%.*s/egress/cscd-egress", dlen, slash ? cscd : ".");
                char *eabs = realpath(egress_proxy ? egress_proxy : eguess, NULL);   /* cscd.conf wants it absolute */
                r = bench_submit(cscd, cscctl ? cscctl : guess, eabs, n, gap_ms, json);
                free(eabs);
                int rp = r == 0 ? bench_pool(cscd, n, gap_ms, json) : 0;
                r = rp == 77 ? r : rp;
        }
        if (json) {
                fputs("}\n", json);
                fclose(json);
        }
        return r;
}
