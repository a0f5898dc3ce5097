/* exec_path.c — resolving argv[0] on the sandbox's fixed PATH (see exec_path.h). */
#include "exec_path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "env_names.h"

int exec_path_resolve(const char *argv0, char out[PATH_MAX]) {
        if (strchr(argv0, '/')) {
                if (strlen(argv0) >= PATH_MAX)
                        return -ENAMETOOLONG;
                memcpy(out, argv0, strlen(argv0) + 1);
                return 0;
        }
        /* The directories are the system's own (root-owned, bound read-only
         * into every sandbox); the name contains no '/'. */
        static const char path[] = CSCD_SANDBOX_PATH;
        const char *dir = path;
        while (*dir) {
                size_t len = strcspn(dir, ":");
                char p[PATH_MAX];
                struct stat st;
                if ((size_t)snprintf(p, sizeof p, "%.*s/%s", (int)len, dir, argv0) < sizeof p && stat(p, &st) == 0 &&
                    S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
                        memcpy(out, p, strlen(p) + 1);
                        return 0;
                }
                dir += len + (dir[len] == ':');
        }
        return -ENOENT;
}

char **exec_paths_free(char **v, size_t n) {
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
        return NULL;
}

int exec_paths_resolve(const csc_contract *c, char ***ret, size_t *ret_n) {
        size_t n = 0;
        for (size_t i = 0; i < c->n_commands; i++)
                n += c->commands[i].n_argvs;
        char **v = calloc(n ? n : 1, sizeof *v);
        if (!v)
                return -ENOMEM;
        size_t k = 0;
        for (size_t i = 0; i < c->n_commands; i++)
                for (size_t s = 0; s < c->commands[i].n_argvs; s++, k++) {
                        char p[PATH_MAX];
                        if (exec_path_resolve(c->commands[i].argvs[s].v[0], p) < 0)
                                continue;
                        if (!(v[k] = strdup(p))) {
                                exec_paths_free(v, n);
                                return -ENOMEM;
                        }
                }
        *ret = v;
        *ret_n = n;
        return 0;
}
