/* cscd-executor — a warm sandbox executor as a fresh image (warm_pool.h).
 *
 * cscd starts it in the sandbox's new namespaces with its control socket on
 * fd 3 and a descriptor of the host's mount namespace on fd 4: it joins the
 * execution cgroup named on its command line, waits for its plan, and then
 * does what a cold executor does (sandbox_run.c). It holds nothing of cscd's
 * memory. Not meant to be run by hand.
 *
 * usage: cscd-executor own-network|host-network [CGROUP_PROCS] */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "executor.h"
#include "sandbox_host.h"

int main(int argc, char **argv) {
        bool own = argc >= 2 && strcmp(argv[1], "own-network") == 0;
        if (argc < 2 || argc > 3 || (!own && strcmp(argv[1], "host-network") != 0)) {
                fprintf(stderr, "cscd-executor: started by cscd for its warm sandbox pool, not by hand\n");
                return 64;
        }
        /* The argv area is overwritten with a neutral title later: keep the path. */
        char cgroup[PATH_MAX];
        if (argc == 3 && (size_t)snprintf(cgroup, sizeof cgroup, "%s", argv[2]) >= sizeof cgroup)
                return 64;
        uintptr_t start = 0, end = 0;
        (void)sandbox_host_title_area(&start, &end);
        sandbox_warm_main(3, argc == 3 ? cgroup : NULL, own, 4, start, end);
}
