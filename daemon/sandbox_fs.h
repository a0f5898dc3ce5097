/* sandbox_fs.h — the executor's side: building the sandbox's filesystem view. */
#pragma once
#include "executor.h"

/* Builds the view and pivots into it; reports through sandbox_die_*() on failure. */
void sandbox_build_root(const executor_request *req);

