/* enosys.c — runs a program with clone3 answered by ENOSYS, as the seccomp
 * profiles of older container runtimes do (for cscd's clone() fallback).
 * usage: enosys PROGRAM [ARGS...] */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: enosys PROGRAM [ARGS...]\n");
                return 64;
        }
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx || seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0 ||
            seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0 || seccomp_load(ctx) < 0) {
                fprintf(stderr, "enosys: cannot install the filter\n");
                return 70;
        }
        seccomp_release(ctx);
        execvp(argv[1], argv + 1);
        perror(argv[1]);
        return 127;
}
