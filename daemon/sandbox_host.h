/* sandbox_host.h — the facts about the host and about cscd itself that a
 * sandbox plan takes as input, read by the monitor before it builds one (so
 * that sandbox_plan.c stays pure). */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* The names of the real directories at the top of the host's "/", read from
 * that fixed path (no user controls it), for a declared "/". *ret is a
 * NULL-terminated array to free with sandbox_host_top_free(). 0 or -errno. */
int sandbox_host_top(char ***ret, size_t *ret_n);
char **sandbox_host_top_free(char **v);

/* Where our own argv lies in memory (/proc/self/stat arg_start, arg_end):
 * a cloned executor overwrites its copy with a neutral title. 0 or -errno. */
int sandbox_host_title_area(uintptr_t *ret_start, uintptr_t *ret_end);
