/* sandbox_apply.h — the executor's side: applying a plan's filesystem view
 * (sandbox_plan.h). After the clone, so system calls and async-signal-safe
 * functions only; what applying learns lives in a scratch mapping. */
#pragma once
#include <stddef.h>

#include "sandbox_plan.h"

/* A bump allocator over memory the executor mapped for itself (mmap is a
 * system call; malloc is not safe after the clone). */
typedef struct sandbox_scratch {
        char *base;
        size_t size, used;
} sandbox_scratch;

/* size bytes, 16-aligned, or NULL when the mapping is full. */
void *sandbox_scratch_alloc(sandbox_scratch *sc, size_t size);

/* What the applied view keeps read-only, for a failing command's note. */
typedef struct sandbox_view {
        const char **kept;
        size_t n_kept, cap_kept;
} sandbox_view;

/* Resolves the plan's binds as the peer, walks its writable roots for
 * protected names, builds the view and pivots into it. Reports through
 * sandbox_die_*() on failure (and never returns then). */
void sandbox_apply_root(const sandbox_plan *p, sandbox_scratch *sc, sandbox_view *view);

/* The protected paths this sandbox keeps read-only that lie in cmd's write
 * paths, ", "-separated into buf (only whole names that fit); returns how many. */
size_t sandbox_protected_note(const sandbox_view *v, const sandbox_command *cmd, char *buf, size_t size);
