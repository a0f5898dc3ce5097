/* manager_load.h — what the Manager loads: cscd.conf with the command-line
 * overrides, the policy and the signing keys at start (with the layers found
 * weaker than designed), and the same again, atomically, on reload. */
#pragma once
#include <stddef.h>

#include "config.h"
#include "manager.h"

/* cscd.conf (or the defaults) with the command-line overrides applied; on
 * failure err_out names the file and the problem. */
int manager_load_config(manager *m, cscd_config **ret, char *err_out, size_t err_size);
/* --socket, --policy, --state-dir, --signing-key, --key-id over c. */
int manager_apply_overrides(manager *m, cscd_config *c);
/* Loads config, policy and key (first start: any error is fatal). */
int manager_load(manager *m);
/* Reload: policy and key atomically; on error the old ones stay. Logs. */
int manager_reload(manager *m, char *ret_error, size_t error_size);
