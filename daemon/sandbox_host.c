/* sandbox_host.c — host facts a sandbox plan takes as input (see sandbox_host.h). */
#include "sandbox_host.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"

char **sandbox_host_top_free(char **v) {
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
        return NULL;
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

int sandbox_host_top(char ***ret, size_t *ret_n) {
        _cleanup_(closedirp) DIR *dir = opendir("/");
        if (!dir)
                return -errno;
        char **v = NULL;
        size_t n = 0, cap = 0;
        for (struct dirent *de; (errno = 0, de = readdir(dir));) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                if (n + 1 >= cap) {
                        size_t nc = cap ? cap * 2 : 32;
                        char **nv = realloc(v, nc * sizeof *nv);
                        if (!nv)
                                goto oom;
                        v = nv;
                        cap = nc;
                }
                if (!(v[n] = strdup(de->d_name)))
                        goto oom;
                v[++n] = NULL;
        }
        if (errno != 0) {
                int r = -errno;
                sandbox_host_top_free(v);
                return r;
        }
        if (!v && !(v = calloc(1, sizeof *v)))
                return -ENOMEM;
        *ret = v;
        *ret_n = n;
        return 0;
oom:
        if (v)
                v[n] = NULL;
        sandbox_host_top_free(v);
        return -ENOMEM;
}

int sandbox_host_title_area(uintptr_t *ret_start, uintptr_t *ret_end) {
        char stat[1024];
        _cleanup_close_ int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = read(fd, stat, sizeof stat - 1);
        if (n <= 0)
                return n < 0 ? -errno : -EIO;
        stat[n] = 0;
        char *p = strrchr(stat, ')');
        unsigned long long start = 0, end = 0;
        /* After "pid (comm)": field 3 is the state; arg_start and arg_end are fields 48 and 49. */
        for (int field = 2; p && field < 49; field++) {
                p = strchr(p + 1, ' ');
                if (p && field + 1 == 48)
                        start = strtoull(p + 1, NULL, 10);
                if (p && field + 1 == 49)
                        end = strtoull(p + 1, NULL, 10);
        }
        if (!start || end <= start)
                return -EIO;
        *ret_start = (uintptr_t)start;
        *ret_end = (uintptr_t)end;
        return 0;
}
