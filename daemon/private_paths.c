/* private_paths.c — refusing declared paths in the sandbox's private directories. */
#include "private_paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

static const char *private_dir(const char *declared) {
        static const char *const dirs[] = { "/tmp", "/dev/shm" };
        if (csc_path_flavour_of(declared) != CSC_PATH_POSIX)
                return NULL;
        size_t len = strlen(declared);
        char *norm = malloc(len + 1);
        if (!norm)
                return "/tmp";   /* cannot tell: refuse */
        csc_path_normalize(declared, norm);
        const char *hit = NULL;
        for (size_t i = 0; i < sizeof dirs / sizeof *dirs && !hit; i++)
                if (csc_path_under(norm, dirs[i]))
                        hit = dirs[i];
        free(norm);
        return hit;
}

int private_paths_gate(const csc_contract *c, char *why, size_t why_size) {
        for (size_t i = 0; i < c->n_commands; i++) {
                const csc_command *cmd = &c->commands[i];
                const csc_strv *lists[] = { &cmd->read_paths, &cmd->write_paths };
                for (size_t l = 0; l < 2; l++)
                        for (size_t k = 0; k < lists[l]->n; k++) {
                                const char *dir = private_dir(lists[l]->v[k]);
                                if (!dir)
                                        continue;
                                snprintf(why, why_size,
                                         "command '%.64s' declares the %s path '%.200s', inside the sandbox's private %s: "
                                         "cscd never binds host paths there (declare a directory outside /tmp and /dev/shm)",
                                         cmd->id, l ? "write" : "read", lists[l]->v[k], dir);
                                return 1;
                        }
        }
        return 0;
}
