/* enosys.c — runs a program with some system calls answered by ENOSYS, as the
 * seccomp profiles of older container runtimes do: clone3 (cscd's clone()
 * fallback), and with ENOSYS_SYSCALLS=clone3,openat2 also openat2 (the
 * sandbox's component walk in daemon/safe_open.c).
 * usage: [ENOSYS_SYSCALLS=a,b] enosys PROGRAM [ARGS...] */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: enosys PROGRAM [ARGS...]\n");
                return 64;
        }
        const char *list = getenv("ENOSYS_SYSCALLS");
        char names[256];
        snprintf(names, sizeof names, "%s", list && *list ? list : "clone3");
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        int r = ctx && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) == 0 ? 0 : -1;
        for (char *save = NULL, *name = strtok_r(names, ",", &save); name && r == 0; name = strtok_r(NULL, ",", &save)) {
                int nr = seccomp_syscall_resolve_name(name);
                r = nr == __NR_SCMP_ERROR ? -1 : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
        }
        if (r < 0 || seccomp_load(ctx) < 0) {
                fprintf(stderr, "enosys: cannot install the filter for %s\n", names);
                return 70;
        }
        seccomp_release(ctx);
        execvp(argv[1], argv + 1);
        perror(argv[1]);
        return 127;
}
