/* helper_program.h — the programs cscd starts from a descriptor opened at
 * start: cscd-session (one per connection) and cscd-executor (the warm
 * pool's executors). Every one runs the file cscd opened, even if the one on
 * disk is replaced while cscd runs. */
#pragma once
#include <stddef.h>

/* Opens path, or with path NULL the program `name` beside this cscd when
 * there is one (a build tree), else `installed`, O_PATH, and checks that it
 * may be executed. The descriptor or -errno; ret_path says which file. */
int helper_program_open(const char *path, const char *name, const char *installed, char *ret_path, size_t size);

/* The environment a helper gets: only the sanitizers' options (test builds
 * read them), pointing into environ; envp is NULL-terminated. */
void helper_program_env(char *envp[4]);
