/* configtest.h — `cscd -t`: load everything a start would load (cscd.conf,
 * the policy, the signing keys, the approvers' keys, the state and secrets
 * dirs) without starting, and report every error as file:line:column: what;
 * `cscd -T`: print the effective configuration. */
#pragma once
#include <stdio.h>

#include "manager.h"

/* 0 when a start would succeed, 78 (EX_CONFIG) with every error on stderr.
 * Warnings (unknown users or groups, a missing secrets dir) do not fail. */
int cscd_config_test(manager *m);
/* Prints the effective configuration (the file plus command-line overrides)
 * as YAML; 0, or 78 when it does not load. */
int cscd_config_print(manager *m, FILE *out);
