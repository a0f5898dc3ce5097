/* sandbox_resolve.h — resolving declared host paths as the peer (rule 1). */
#pragma once
#include <stddef.h>
#include <sys/types.h>

typedef struct sandbox_peer {
        uid_t uid;
        gid_t gid;
        const gid_t *groups;
        size_t n_groups;
} sandbox_peer;

/* Forks a child that becomes `who` (no capabilities, no_new_privs) and opens
 * each of paths[0..n) with openat2(O_PATH, RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS). ret_fds[i] is then an O_PATH descriptor (O_CLOEXEC)
 * or the lookup's negative errno as the peer saw it (-ENOENT, -EACCES, -ELOOP
 * for a symlink on the way, ...). Returns 0, or a negative errno when the
 * resolver itself failed (then no descriptor is left open). */
int sandbox_resolve_as_peer(const sandbox_peer *who, const char *const *paths, size_t n, int *ret_fds);
