/* env_policy.c — the environment allowlist (see env_policy.h). */
#include "env_policy.h"

#include <stdio.h>
#include <string.h>

bool env_name_passes(const cscd_config *cfg, const char *name) {
        return env_name_valid(name) && !env_name_fixed(name) && !env_name_dangerous(name) &&
               cscd_strlist_has(&cfg->allow_env_names, name);
}

int env_gate(const cscd_config *cfg, const csc_contract *c, char *why, size_t why_size) {
        for (size_t i = 0; i < c->n_commands; i++)
                for (size_t k = 0; k < c->commands[i].env_allow.n; k++) {
                        const char *name = c->commands[i].env_allow.v[k];
                        if (env_name_passes(cfg, name))
                                continue;
                        snprintf(why, why_size,
                                 "command '%.64s' asks for the environment variable '%.128s', which %s", c->commands[i].id,
                                 name,
                                 env_name_fixed(name) ? "cscd sets itself and never takes from a client"
                                 : env_name_dangerous(name)
                                         ? "lets an allowed program run other code and is never passed"
                                         : "cscd.conf allow_env_names does not list");
                        return 1;
                }
        return 0;
}
