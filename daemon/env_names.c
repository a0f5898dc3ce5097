/* env_names.c — environment variable names cscd never takes from a client
 * (see env_names.h). Pure: no configuration, no I/O. */
#include "env_names.h"

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

bool env_name_valid(const char *s) {
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
                const char *bad = !env_name_valid(n)          ? "is not a valid environment variable name"
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
