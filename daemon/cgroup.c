/* cgroup.c — per-execution pids cgroups, v2 or v1. */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct cscd_cgroups {
        int mode;                 /* 0 none, 1 v1, 2 v2 */
        bool memory;              /* v2 memory controller enabled for execution cgroups */
        char base[PATH_MAX];      /* where execution cgroups are created */
        char why[256];
};

static int write_file(const char *path, const char *text) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, text, strlen(text));
        int r = n == (ssize_t)strlen(text) ? 0 : n < 0 ? -errno : -EIO;
        close(fd);
        return r;
}

static bool file_has_word(const char *path, const char *word) {
        char buf[1024];
        FILE *f = fopen(path, "r");
        if (!f)
                return false;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        for (char *t = strtok(buf, " \n"); t; t = strtok(NULL, " \n"))
                if (strcmp(t, word) == 0)
                        return true;
        return false;
}

/* The daemon's cgroup path in a hierarchy: "0::" (v2) or "N:pids:" (v1). */
static bool own_path(const char *prefix, char *out, size_t size) {
        FILE *f = fopen("/proc/self/cgroup", "r");
        if (!f)
                return false;
        char line[PATH_MAX + 64];
        bool found = false;
        while (!found && fgets(line, sizeof line, f)) {
                char *p = strstr(line, prefix);
                if (!p || (prefix[0] == ':' && p == line))
                        continue;
                if (prefix[0] == '0' && p != line)
                        continue;
                p += strlen(prefix);
                p[strcspn(p, "\n")] = 0;
                snprintf(out, size, "%s", p);
                found = true;
        }
        fclose(f);
        return found;
}

static void init_v2(cscd_cgroups *c) {
        char self[PATH_MAX];
        if (!own_path("0::", self, sizeof self)) {
                snprintf(c->why, sizeof c->why, "cgroup2: no unified entry in /proc/self/cgroup");
                return;
        }
        char base[PATH_MAX + 32], leaf[PATH_MAX + 64], path[PATH_MAX + 96];
        snprintf(base, sizeof base, "/sys/fs/cgroup%s", strcmp(self, "/") == 0 ? "" : self);
        snprintf(path, sizeof path, "%s/cgroup.controllers", base);
        if (!file_has_word(path, "pids")) {
                snprintf(c->why, sizeof c->why, "cgroup2: the pids controller is not delegated to %.150s", base);
                return;
        }
        /* No internal processes: the daemon moves into a leaf of its own. */
        if (strcmp(self, "/") != 0) {
                snprintf(leaf, sizeof leaf, "%s/daemon", base);
                if (mkdir(leaf, 0755) < 0 && errno != EEXIST) {
                        snprintf(c->why, sizeof c->why, "cgroup2: cannot create %.150s: %s", leaf, strerror(errno));
                        return;
                }
                snprintf(path, sizeof path, "%s/cgroup.procs", leaf);
                int r = write_file(path, "0");
                if (r < 0) {
                        snprintf(c->why, sizeof c->why, "cgroup2: cannot move cscd into %.150s: %s", leaf, strerror(-r));
                        return;
                }
        }
        snprintf(path, sizeof path, "%s/cgroup.subtree_control", base);
        int r = write_file(path, "+pids");
        if (r < 0 && !file_has_word(path, "pids")) {
                snprintf(c->why, sizeof c->why, "cgroup2: cannot enable pids in %.150s: %s", base, strerror(-r));
                return;
        }
        char controllers[PATH_MAX + 96];
        snprintf(controllers, sizeof controllers, "%s/cgroup.controllers", base);
        if (file_has_word(controllers, "memory"))
                c->memory = write_file(path, "+memory") == 0 || file_has_word(path, "memory");
        snprintf(c->base, sizeof c->base, "%.4000s", base);
        c->mode = 2;
}

static void init_v1(cscd_cgroups *c) {
        char self[PATH_MAX];
        struct stat st;
        if (stat("/sys/fs/cgroup/pids/cgroup.procs", &st) < 0 || !own_path(":pids:", self, sizeof self)) {
                snprintf(c->why + strlen(c->why), sizeof c->why - strlen(c->why), "%scgroup1: no pids hierarchy",
                         c->why[0] ? "; " : "");
                return;
        }
        snprintf(c->base, sizeof c->base, "/sys/fs/cgroup/pids%.4000s", strcmp(self, "/") == 0 ? "" : self);
        /* A hierarchy that exists is not enough: containers mount it read-only. */
        if (access(c->base, W_OK) < 0) {
                snprintf(c->why + strlen(c->why), sizeof c->why - strlen(c->why), "%scgroup1: %.150s is not writable: %s",
                         c->why[0] ? "; " : "", c->base, strerror(errno));
                c->base[0] = 0;
                return;
        }
        c->mode = 1;
}

int cscd_cgroups_init(cscd_cgroups **ret) {
        cscd_cgroups *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        struct stat st;
        if (stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0)
                init_v2(c);
        if (c->mode == 0)
                init_v1(c);
        *ret = c;
        return 0;
}

cscd_cgroups *cscd_cgroups_free(cscd_cgroups *c) {
        free(c);
        return NULL;
}

bool cscd_cgroups_memory(const cscd_cgroups *c) {
        return c->memory;
}

const char *cscd_cgroups_mode(const cscd_cgroups *c, const char **why) {
        if (why)
                *why = c->why;
        return c->mode == 2 ? "cgroup2" : c->mode == 1 ? "cgroup1" : "none";
}

int cscd_cgroups_create(cscd_cgroups *c, const char *execution_id, uint64_t pids_max, uint64_t memory_max,
                        char dir[PATH_MAX], char procs_path[PATH_MAX]) {
        if (c->mode == 0)
                return -EOPNOTSUPP;
        if ((size_t)snprintf(dir, PATH_MAX, "%s/cscd-%s", c->base, execution_id) >= PATH_MAX)
                return -ENAMETOOLONG;
        if (mkdir(dir, 0755) < 0)
                return -errno;
        char path[PATH_MAX + 16], val[32];
        snprintf(path, sizeof path, "%s/pids.max", dir);
        snprintf(val, sizeof val, "%llu", (unsigned long long)pids_max);
        int r = write_file(path, val);
        if (r == 0 && c->memory) {
                snprintf(path, sizeof path, "%s/memory.max", dir);
                snprintf(val, sizeof val, "%llu", (unsigned long long)memory_max);
                r = write_file(path, val);
                if (r == 0) {
                        snprintf(path, sizeof path, "%s/memory.swap.max", dir);
                        (void)write_file(path, "0");   /* absent without swap accounting */
                }
        }
        if (r < 0) {
                rmdir(dir);
                return r;
        }
        snprintf(procs_path, PATH_MAX, "%s/cgroup.procs", dir);
        return 0;
}
