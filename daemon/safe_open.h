/* safe_open.h — opening paths without following symlinks, with or without
 * the openat2() system call (see safe_open.c). */
#pragma once
#include <stdint.h>

/* openat2(dirfd, path, {flags | O_CLOEXEC, resolve}); when the system call
 * answers ENOSYS, safe_open_walk(). Returns a descriptor or a negative errno. */
int safe_openat2(int dirfd, const char *path, int flags, uint64_t resolve);

/* The fallback, callable on its own (the tests use it directly). resolve must
 * hold RESOLVE_NO_SYMLINKS and may add RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS
 * and RESOLVE_NO_XDEV; ".." is refused (-EXDEV). The same errors as openat2:
 * -ELOOP for a symlink on the way, -EXDEV for a mount crossed with NO_XDEV or
 * an absolute path with BENEATH, -ENOENT, -EACCES, -ENOTDIR. */
int safe_open_walk(int dirfd, const char *path, int flags, uint64_t resolve);
