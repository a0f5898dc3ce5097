/* advisory.h — advisory command blocking (as in the reference runner).
 *
 * Refuses argv[0]s that are shells, interpreters or wrappers that run other
 * programs: by the name given and by the basename of the executable it
 * resolves to on the sandbox's PATH (so /bin/sh → dash is caught either
 * way). This is advice, not the boundary: an allowed program can still run
 * code (make, git hooks, ...); the sandbox is what contains it. On by
 * default (block_interpreters in cscd.conf). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "contract.h"

/* True when some command of c is blocked; why names the command and the
 * executable. */
bool advisory_blocked(const csc_contract *c, char *why, size_t why_size);
