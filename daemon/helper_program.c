/* helper_program.c — finding, opening and the environment of cscd's helper
 * programs (see helper_program.h). */
#include "helper_program.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int helper_program_open(const char *path, const char *name, const char *installed, char *ret_path, size_t size) {
        if (path)
                snprintf(ret_path, size, "%s", path);
        else {
                /* Beside this cscd (a build tree), else the installed one. */
                char self[PATH_MAX];
                ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
                char *slash = n > 0 ? (self[n] = 0, strrchr(self, '/')) : NULL;
                int w = slash ? snprintf(ret_path, size, "%.*s/%s", (int) (slash - self), self, name) : -1;
                if (w < 0 || (size_t) w >= size || access(ret_path, X_OK) < 0)
                        snprintf(ret_path, size, "%s", installed);
        }
        int fd = open(ret_path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (faccessat(fd, "", X_OK, AT_EMPTY_PATH | AT_EACCESS) < 0) {
                int e = errno;
                close(fd);
                return -e;
        }
        return fd;
}

void helper_program_env(char *envp[4]) {
        static const char *const pass[] = { "ASAN_OPTIONS=", "UBSAN_OPTIONS=", "LSAN_OPTIONS=" };
        size_t n = 0;
        for (size_t i = 0; i < 4; i++)
                envp[i] = NULL;
        for (char **e = environ; e && *e; e++)
                for (size_t i = 0; i < 3; i++)
                        if (strncmp(*e, pass[i], strlen(pass[i])) == 0 && n < 3)
                                envp[n++] = *e;
}
