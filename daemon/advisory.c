/* advisory.c — names of shells, interpreters and program-running wrappers. */
#include "advisory.h"
#include "exec_path.h"

#include <fnmatch.h>
#include <linux/limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const patterns[] = {
        /* shells */
        "sh", "bash", "dash", "zsh", "ksh", "ksh93", "mksh", "csh", "tcsh", "fish", "ash", "busybox", "rbash",
        /* interpreters */
        "python", "python[0-9]*", "pypy", "pypy[0-9]*", "perl", "perl[0-9]*", "ruby", "ruby[0-9]*", "node", "nodejs",
        "deno", "bun", "php", "php[0-9]*", "lua", "lua[0-9]*", "luajit", "tclsh", "tclsh[0-9]*", "wish", "wish[0-9]*",
        "Rscript", "R", "pwsh", "powershell", "osascript", "awk", "gawk", "mawk", "nawk", "expect",
        /* wrappers that run another program */
        "env", "xargs", "nohup", "sudo", "su", "doas", "pkexec", "unshare", "nsenter", "chroot", "setsid", "setpriv",
        "runuser", "capsh", "strace", "ltrace", "gdb", "timeout", "stdbuf", "nice", "ionice", "taskset", "chrt",
        "flock", "script", "watch", "parallel",
};

static const char *matches(const char *name) {
        for (size_t i = 0; i < sizeof patterns / sizeof *patterns; i++)
                if (fnmatch(patterns[i], name, 0) == 0)
                        return patterns[i];
        return NULL;
}

static const char *base(const char *p) {
        const char *s = strrchr(p, '/');
        return s ? s + 1 : p;
}

/* The real file a bare name runs on the sandbox's fixed PATH (system
 * directories only). A name with a '/' is judged by its name: the daemon
 * never walks a path a user may control. */
static bool resolve(const char *argv0, char out[PATH_MAX]) {
        char p[PATH_MAX];
        if (strchr(argv0, '/') || exec_path_resolve(argv0, p) < 0)
                return false;
        return realpath(p, out) != NULL;
}

bool advisory_blocked(const csc_contract *c, char *why, size_t why_size) {
        for (size_t i = 0; i < c->n_commands; i++)
                for (size_t k = 0; k < c->commands[i].n_argvs; k++) {
                        const char *argv0 = c->commands[i].argvs[k].v[0];
                        const char *hit = matches(base(argv0));
                        char real[PATH_MAX] = "";
                        if (!hit && resolve(argv0, real))
                                hit = matches(base(real));
                        if (hit) {
                                snprintf(why, why_size,
                                         "advisory block: command '%.100s' runs '%.100s'%s%.200s%s, a shell, interpreter or "
                                         "program-running wrapper (pattern '%s'); set block_interpreters: false in "
                                         "cscd.conf to allow it",
                                         c->commands[i].id, argv0, real[0] ? " (" : "", real, real[0] ? ")" : "", hit);
                                return true;
                        }
                }
        return false;
}
