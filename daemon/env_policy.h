/* env_policy.h — which environment variables a command may receive from its
 * client (STRICTER than the reference, where the contract alone decides).
 *
 * cscd sets PATH, HOME, TMPDIR and LANG itself and never takes them, or any
 * LC_* variable, from a client. Loader and libc knobs (LD_*, GCONV_PATH, ...)
 * are never passed either. Any other name passes only when the admin lists it
 * in cscd.conf `allow_env_names` (default: none), and a contract whose
 * env_allow names a variable that is not allowed is blocked, naming it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "contract.h"
#include "env_names.h"

/* May the client's variable `name` reach the command? */
bool env_name_passes(const cscd_config *cfg, const char *name);
/* 0 when every env_allow name of every command passes, else 1 with why. */
int env_gate(const cscd_config *cfg, const csc_contract *c, char *why, size_t why_size);
