/* sandbox_mount.h — creating mount points beneath the sandbox's own tmpfs and
 * mounting by descriptor (sandbox rule 1). Errors are negative errno. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#define SANDBOX_PATH_MAX 4096

/* An O_PATH descriptor (in *ret) of the mount point for the absolute `path`
 * beneath rootfd, a directory (dir) or an empty file, creating what is missing
 * on our tmpfs. When a component is a bind of a host tree, nothing is created:
 * the object at the rest of the path must be the inode `want` describes (the
 * one the peer resolved), else -ESTALE; with want NULL that is -EXDEV. */
int sandbox_mount_point(int rootfd, const char *path, bool dir, const struct stat *want, int *ret);
/* A copy of the mount at srcfd (and, if recursive, every mount below it),
 * with attr_set (MOUNT_ATTR_*), mounted on targetfd. */
int sandbox_bind_fd(int srcfd, int targetfd, uint64_t attr_set, bool recursive);
/* A fresh tmpfs with the given mode and size strings, mounted on targetfd. */
int sandbox_tmpfs_fd(int targetfd, const char *mode, const char *size, uint64_t attr_set);
/* Hides `path` (absolute, as seen from rootfd, resolved without symlinks):
 * an empty read-only tmpfs over a directory, devnull_fd over anything else.
 * 0 when there is nothing of that name. */
int sandbox_mask(int rootfd, const char *path, int devnull_fd);
