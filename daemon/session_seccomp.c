/* session_seccomp.c — loads cscd-session's seccomp program, compiled at
 * build time by session_filter_gen.c (the list and why are there). */
#include "session_seccomp.h"

#include <errno.h>
#include <stddef.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>

#include "session_filter.h"

int session_seccomp_install(void) {
        struct sock_fprog prog = {
                .len = (unsigned short) (sizeof session_filter / sizeof *session_filter),
                .filter = (struct sock_filter *) session_filter,
        };
        /* no_new_privs is set by cscd before the exec, as this requires. */
        return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0 ? -errno : 0;
}
