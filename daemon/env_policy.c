/* env_policy.c — the environment allowlist (see env_policy.h). */
#include "env_policy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

bool env_name_fixed(const char *name) {
        return strcmp(name, "PATH") == 0 || strcmp(name, "HOME") == 0 || strcmp(name, "TMPDIR") == 0 ||
               strcmp(name, "LANG") == 0 || strcmp(name, "LANGUAGE") == 0 || strncmp(name, "LC_", 3) == 0;
}

bool env_name_dangerous(const char *name) {
        static const char *const exact[] = { "GCONV_PATH", "LOCPATH", "HOSTALIASES", "NLSPATH", "MALLOC_CONF",
                                             "GLIBC_TUNABLES", "RESOLV_HOST_CONF", "LOCALDOMAIN", "RES_OPTIONS" };
        if (strncmp(name, "LD_", 3) == 0 || strncmp(name, "MALLOC_", 7) == 0)
                return true;
        for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
                if (strcmp(name, exact[i]) == 0)
                        return true;
        return false;
}

static bool name_valid(const char *s) {
        if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
                return false;
        for (size_t i = 1; s[i]; i++)
                if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
                      s[i] == '_'))
                        return false;
        return strlen(s) <= 128;
}

int env_allowlist_check(const cscd_strlist *allow, char *why, size_t why_size) {
        for (size_t i = 0; i < allow->n; i++) {
                const char *n = allow->v[i];
                const char *bad = !name_valid(n)          ? "is not a valid environment variable name"
                                  : env_name_fixed(n)     ? "is set by cscd itself and never comes from a client"
                                  : env_name_dangerous(n) ? "lets an allowed program run other code; it is never passed"
                                                          : NULL;
                if (bad) {
                        snprintf(why, why_size, "'%.128s' %s", n, bad);
                        return -EINVAL;
                }
        }
        return 0;
}

bool env_name_passes(const cscd_config *cfg, const char *name) {
        return name_valid(name) && !env_name_fixed(name) && !env_name_dangerous(name) &&
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
