/* env_names.h — which environment variable names can never come from a
 * client, whatever cscd.conf says, and the sandbox's fixed PATH. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define CSCD_SANDBOX_PATH "/usr/local/bin:/usr/bin:/bin"

/* [A-Za-z_][A-Za-z0-9_]*, at most 128 bytes. */
bool env_name_valid(const char *name);
/* Set by cscd for every command: PATH, HOME, TMPDIR, LANG, LANGUAGE, LC_*. */
bool env_name_fixed(const char *name);
/* Lets an allowed program run other code: LD_*, MALLOC_*, GCONV_PATH, GLIBC_TUNABLES, ... */
bool env_name_dangerous(const char *name);
/* The cscd.conf allow_env_names check: 0, or -EINVAL with why naming the first bad entry. */
int env_allowlist_check(const cscd_strlist *allow, char *why, size_t why_size);
