/* protected_paths.h — names kept read-only inside writable roots (cscd.conf
 * protected_paths): the pure rules, shared by the config loader, the
 * executor and the unit tests. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* The default list (NULL-terminated). */
extern const char *const pp_default_entries[];

/* 0 when `entry` is a valid protected name: relative, non-empty, no empty,
 * "." or ".." segment, no trailing '/'; else -EINVAL with a reason in why. */
int pp_entry_check(const char *entry, char *why, size_t why_size);

/* When the normalized absolute `path` is, or lies inside, a protected name
 * (some run of its components equals an entry's components), writes the
 * shortest such ancestor-or-self to out and returns true. */
bool pp_name_match(const char *path, const char *const *entries, size_t n, char *out, size_t out_size);

/* The unlock rule: write path `write_path` may stay writable although it lies
 * at or inside the protected path `protected_path` only when some policy
 * prefix names the protected path or a path inside it (never a parent) and
 * write_path lies at or inside that prefix. */
bool pp_unlocks(const char *protected_path, const char *write_path, const char *const *prefixes, size_t n);
