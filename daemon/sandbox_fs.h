/* sandbox_fs.h — the executor's side: building the sandbox's filesystem view. */
#pragma once
#include "executor.h"

/* Builds the view and pivots into it; reports through sandbox_die_*() on failure. */
void sandbox_build_root(const executor_request *req);


/* The protected paths this sandbox keeps read-only that lie in cmd's write
 * paths, ", "-separated into buf (truncated to fit); returns how many. */
size_t sandbox_protected_note(const csc_command *cmd, char *buf, size_t size);
