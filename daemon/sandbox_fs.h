/* sandbox_fs.h — the executor's side: building the sandbox's filesystem view,
 * and how the executor reports a failure while doing it. */
#pragma once
#include "executor.h"

/* Builds the view and pivots into it; reports through the die helpers on failure. */
void sandbox_build_root(const executor_request *req);

/* An internal failure: a failed receipt with exit code 1. Never returns. */
_Noreturn void sandbox_die_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A declared path that cannot be bound safely: a blocked receipt. Never returns. */
_Noreturn void sandbox_die_blocked(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
