/* private_paths.h — directories that are the sandbox's own and never show a
 * host tree: /tmp and /dev/shm (private, size-capped tmpfs per execution).
 * A contract that declares a read or write path there is refused with a
 * reason, before anything runs: binding the host's /tmp would share files
 * across users and sandboxes. */
#pragma once
#include <stddef.h>

#include "contract.h"

/* 0, or 1 with why naming the command and the path. */
int private_paths_gate(const csc_contract *c, char *why, size_t why_size);
