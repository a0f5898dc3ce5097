/* privileges.c — trimming the daemon's capabilities with libcap. */
#include "privileges.h"

#include <errno.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Each one is needed by the daemon or by the executor before it becomes the peer. */
static const cap_value_t kept[] = {
        CAP_SYS_ADMIN,       /* namespaces, mounts, pivot_root, sethostname */
        CAP_SETUID,          /* become the peer */
        CAP_SETGID,          /* the peer's gid and supplementary groups */
        CAP_SETPCAP,         /* clear each command's bounding set, lock securebits */
        CAP_DAC_OVERRIDE,    /* open declared paths and cgroup files for binding/setup */
        CAP_DAC_READ_SEARCH,
        CAP_CHOWN,           /* secrets files owned by the peer */
        CAP_FOWNER,
        CAP_KILL,            /* kill sandboxes */
        CAP_IPC_LOCK,        /* sodium_malloc mlocks the signing key */
};

uint64_t cscd_kept_capabilities(void) {
        uint64_t m = 0;
        for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
                m |= 1ULL << kept[i];
        return m;
}

int cscd_drop_privileges(void) {
        if (geteuid() != 0)
                return 0;
        uint64_t keep = cscd_kept_capabilities();
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
                if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                        return -errno;
        cap_t caps = cap_get_proc();
        if (!caps)
                return -errno;
        int r = cap_clear(caps);
        r = r ?: cap_set_flag(caps, CAP_PERMITTED, sizeof kept / sizeof *kept, kept, CAP_SET);
        r = r ?: cap_set_flag(caps, CAP_EFFECTIVE, sizeof kept / sizeof *kept, kept, CAP_SET);
        r = r ?: cap_set_proc(caps);
        int saved = errno;
        cap_free(caps);
        if (r < 0)
                return -saved;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;
        return 0;
}
