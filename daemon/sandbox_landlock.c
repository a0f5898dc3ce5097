/* sandbox_landlock.c — raw Landlock syscalls (no library in Debian 12). */
#include "sandbox_landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox_egress.h"

/* Newer than Debian 12's uapi headers. */
#define LL_FS_TRUNCATE (1ULL << 14)
#define LL_FS_IOCTL_DEV (1ULL << 15)
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {   /* the v6 layout; the kernel takes a prefix by size */
        uint64_t handled_access_fs;
        uint64_t handled_access_net;
        uint64_t scoped;
};

#define LL_RULE_NET_PORT 2
struct ll_net_port_attr {
        uint64_t allowed_access;
        uint64_t port;
} __attribute__((packed));

#define FS_READ (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_WRITE_V1 (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
                     LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |   \
                     LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM)
#define FS_ALL_V1 (FS_READ | FS_WRITE_V1 | LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_BLOCK)
#define FS_FILE_RIGHTS (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
                        LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

int sandbox_landlock_abi(void) {
        long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
        return v < 0 ? 0 : (int)v;
}

static int add(int ruleset, const char *path, uint64_t rights, uint64_t handled) {
        int fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;   /* not in this sandbox's view: nothing to allow */
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        if (!S_ISDIR(st.st_mode))
                rights &= FS_FILE_RIGHTS;
        struct landlock_path_beneath_attr pb = { .allowed_access = rights & handled, .parent_fd = fd };
        int r = 0;
        if (pb.allowed_access && syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
                r = -errno;
        close(fd);
        return r;
}

int sandbox_landlock_apply(const sandbox_command *cmd, int abi) {
        if (abi <= 0)
                return 0;
        uint64_t fs = FS_ALL_V1;
        if (abi >= 2)
                fs |= LANDLOCK_ACCESS_FS_REFER;
        if (abi >= 3)
                fs |= LL_FS_TRUNCATE;
        if (abi >= 5)
                fs |= LL_FS_IOCTL_DEV;
        struct ll_ruleset_attr attr = { .handled_access_fs = fs };
        size_t size = sizeof(uint64_t);
        if (abi >= 4) {
                size = 2 * sizeof(uint64_t);
                if (cmd->network != CSC_NET_FULL)
                        attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;   /* no rule: none allowed */
        }
        if (abi >= 6) {
                size = sizeof attr;
                attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
        }
        int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
        if (ruleset < 0)
                return -errno;
        uint64_t write = FS_WRITE_V1 | (abi >= 2 ? LANDLOCK_ACCESS_FS_REFER : 0) | (abi >= 3 ? LL_FS_TRUNCATE : 0);
        int r = add(ruleset, "/", FS_READ, fs);
        r = r ?: add(ruleset, "/tmp", write, fs);
        r = r ?: add(ruleset, "/dev/shm", write, fs);
        r = r ?: add(ruleset, "/dev", LANDLOCK_ACCESS_FS_WRITE_FILE | LL_FS_IOCTL_DEV, fs);
        if (r == 0 && abi >= 4 && cmd->network == CSC_NET_ALLOWLISTED) {
                /* The proxy's port, and nothing else: no other connect, no bind. */
                struct ll_net_port_attr np = { .allowed_access = LL_NET_CONNECT_TCP, .port = CSCD_EGRESS_PORT };
                if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &np, 0) < 0)
                        r = -errno;
        }
        for (size_t i = 0; r == 0 && i < cmd->n_write_paths; i++)
                r = add(ruleset, cmd->write_paths[i], write, fs);
        if (r == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
                r = -errno;
        close(ruleset);
        return r;
}
