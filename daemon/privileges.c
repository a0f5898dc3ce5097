/* privileges.c — trimming the daemon's capabilities with libcap. */
#include "privileges.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Each one is needed by the daemon or by the executor before it becomes the
 * peer; the optional ones only make it stronger. */
static const struct {
        cap_value_t cap;
        bool optional;
} kept[] = {
        { CAP_SYS_ADMIN, false },       /* namespaces, mounts, pivot_root, sethostname */
        { CAP_SETUID, false },          /* become the peer */
        { CAP_SETGID, false },          /* the peer's gid and supplementary groups */
        { CAP_SETPCAP, false },         /* clear each command's bounding set, lock securebits */
        { CAP_DAC_OVERRIDE, false },    /* open declared paths and cgroup files for binding/setup */
        { CAP_DAC_READ_SEARCH, false },
        { CAP_CHOWN, false },           /* secrets files owned by the peer */
        { CAP_FOWNER, false },
        { CAP_KILL, false },            /* kill sandboxes */
        { CAP_NET_ADMIN, true },        /* loopback up in an `allowlisted` sandbox's own network namespace */
        { CAP_IPC_LOCK, true },         /* sodium_malloc mlocks the signing key */
        { CAP_SYS_CHROOT, true },       /* warm executors copy the host's mounts afresh (setns): warm_pool.h */
};
#define N_KEPT (sizeof kept / sizeof *kept)

uint64_t cscd_kept_capabilities(void) {
        uint64_t m = 0;
        for (size_t i = 0; i < N_KEPT; i++)
                m |= 1ULL << kept[i].cap;
        return m;
}

/* "CAP_SYS_ADMIN", as unit files and capabilities(7) spell it. */
static void append_name(char *out, size_t size, cap_value_t c) {
        char *name = cap_to_name(c);
        size_t n = strlen(out);
        snprintf(out + n, size - n, "%s%s", n ? " " : "", name ? name : "?");
        for (char *p = out + n; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        cap_free(name);
}

int cscd_trim_capabilities(char *missing, size_t missing_size, char *optional_missing, size_t optional_size) {
        missing[0] = optional_missing[0] = 0;
        if (geteuid() != 0)
                return 0;
        cap_t caps = cap_get_proc();
        if (!caps)
                return -errno;
        cap_value_t have[N_KEPT];
        size_t n_have = 0;
        for (size_t i = 0; i < N_KEPT; i++) {
                cap_flag_value_t v = CAP_CLEAR;
                if (cap_get_flag(caps, kept[i].cap, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
                        have[n_have++] = kept[i].cap;
                else if (kept[i].optional)
                        append_name(optional_missing, optional_size, kept[i].cap);
                else
                        append_name(missing, missing_size, kept[i].cap);
        }
        if (missing[0]) {
                cap_free(caps);
                return -EPERM;
        }
        uint64_t keep = 0;
        for (size_t i = 0; i < n_have; i++)
                keep |= 1ULL << have[i];
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
                if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) {
                        int e = errno;
                        cap_free(caps);
                        return -e;
                }
        int r = cap_clear(caps);
        r = r ?: cap_set_flag(caps, CAP_PERMITTED, (int)n_have, have, CAP_SET);
        r = r ?: cap_set_flag(caps, CAP_EFFECTIVE, (int)n_have, have, CAP_SET);
        r = r ?: cap_set_proc(caps);
        int saved = errno;
        cap_free(caps);
        if (r < 0)
                return -saved;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;
        return 0;
}
