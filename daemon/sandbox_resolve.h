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

/* Bounds of the protected-path walk (cscd.conf protected_walk_*). */
typedef struct sandbox_walk_limits {
        unsigned long long max_entries;   /* directory entries read, all roots together */
        unsigned max_depth;               /* directories below a root */
        unsigned timeout_ms;              /* wall clock for the whole walk */
        unsigned max_found;               /* protected objects and pinned ancestors reported */
} sandbox_walk_limits;

typedef enum sandbox_found_kind {
        SANDBOX_FOUND_PROTECT = 1,   /* a protected object: keep it read-only */
        SANDBOX_FOUND_PIN,           /* a directory between a root and a protected object: pin it */
} sandbox_found_kind;

/* Called by the privileged side for each object the walk reports; owns fd
 * (O_PATH, O_CLOEXEC). A negative return stops the walk with that error. */
typedef int (*sandbox_found_fn)(void *userdata, sandbox_found_kind kind, const char *path, int fd);

/* Forks a child that becomes `who` (as sandbox_resolve_as_peer) and walks
 * every writable root in roots[] (absolute, normalized), never following a
 * symlink, looking for the protected names entries[] at every depth, in
 * every directory that looks like a git directory (hooks, config) and in
 * the target of every `.git` file ("gitdir: ...") that lies in a root.
 * Returns 0 when the walk completed, 1 with a reason in why when it refused
 * (a bound hit, a protected name that is a symlink, an unreadable directory
 * of the peer's own...: the contract must be blocked), or a negative errno. */
int sandbox_find_protected_as_peer(const sandbox_peer *who, const char *const *roots, size_t n_roots,
                                   const char *const *entries, size_t n_entries, const sandbox_walk_limits *lim,
                                   sandbox_found_fn fn, void *userdata, char *why, size_t why_size);
