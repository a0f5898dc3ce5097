/* sandbox_plan.h — what a sandbox will be, decided in the monitor before any
 * fork, as pure data (bubblewrap's setup-op list; systemd's mount list).
 *
 * sandbox_plan_build() turns a decided contract, the peer's credentials and
 * the config into a sandbox_plan: the declared paths to bind, in mount order;
 * the daemon's files to mask; per command the argv with argv[0] already
 * resolved, the exact environment, the Landlock write rules, the seccomp
 * program, the secrets to place; the rlimits, the cgroup, uid, gid and
 * groups. It touches no file and forks nothing, so it is unit-tested without
 * root (tests/unit/test-sandbox-plan.c). Whatever it can refuse from the
 * contract alone (a '..' segment, a declared path in the private /tmp, a
 * writable "/") it refuses here, before the fork.
 *
 * sandbox_apply.c and sandbox_run.c, in the cloned executor, only apply a
 * plan: system calls and async-signal-safe functions, no allocation, no
 * stdio, no getenv, no globals. The plan owns every byte it points to (one
 * arena) and holds no pointer into the contract or the request. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "config.h"
#include "contract.h"
#include "json.h"
#include "sandbox_mount.h"
#include "sandbox_resolve.h"
#include "sandbox_seccomp.h"
#include "secrets.h"

#define SANDBOX_N_RLIMITS 5

typedef struct sandbox_bind {
        const char *path;             /* normalized absolute POSIX path */
        bool writable;
} sandbox_bind;

typedef struct sandbox_segment {
        char *const *argv;            /* NULL-terminated */
        const char *exe;              /* the program, resolved on the fixed PATH; NULL: not found (127) */
} sandbox_segment;

typedef struct sandbox_secret_file {
        const char *path;             /* /run/secrets/NAME */
        const char *value;            /* wiped when the plan is freed */
        size_t len;
} sandbox_secret_file;

typedef struct sandbox_command {
        const char *cwd;
        char *const *envp;            /* the exact environment, NULL-terminated */
        const sandbox_segment *segments;
        size_t n_segments;
        csc_network network;
        const sandbox_filter *filter; /* this command's seccomp program */
        bool unshare_net;             /* `deny` in a sandbox that shares the host's network */
        const char *const *write_paths;   /* normalized POSIX write paths: Landlock's write rules */
        size_t n_write_paths;
        const sandbox_secret_file *secrets;
        size_t n_secrets;
        int64_t timeout_sec;
} sandbox_command;

typedef struct sandbox_artifact {
        uint32_t index;               /* into the contract's expected_outputs */
        const char *path;
} sandbox_artifact;

typedef struct sandbox_rlimit {
        int resource;
        rlim_t value;
} sandbox_rlimit;

typedef struct sandbox_plan {
        size_t bytes;                 /* the plan is one block of this many bytes, starting here */
        uid_t uid;
        gid_t gid;
        const gid_t *groups;
        size_t n_groups;
        const char *cgroup_procs;     /* the execution cgroup's cgroup.procs to join, or NULL */
        char cgroup_room[PATH_MAX];   /* where cgroup_procs points when set */
        sandbox_filter filters[3];    /* the seccomp programs for deny, allowlisted, full */
        bool own_netns;               /* no command needs the host's network */
        bool await_go;                /* report READY, then wait for GO */
        bool egress;                  /* a command is `allowlisted`: hand over the proxy listener */
        int landlock_abi;             /* 0: no Landlock */

        const sandbox_bind *binds;    /* parents first; read-only before writable of one length */
        size_t n_binds;
        const char *const *protected_names;   /* protected_paths + protected_paths_extra */
        size_t n_protected_names;
        const char *const *write_prefixes;    /* the policy's allowed_write_prefixes */
        size_t n_write_prefixes;
        sandbox_walk_limits walk;
        const char *const *masks;     /* normalized; hidden in every sandbox */
        size_t n_masks;

        const char *tmp_opts;         /* tmpfs options of /tmp and /dev/shm */
        const char *secrets_opts;     /* tmpfs options of /run/secrets; NULL when no command has a secret */
        sandbox_rlimit rlimits[SANDBOX_N_RLIMITS];

        const sandbox_command *commands;
        size_t n_commands;
        const sandbox_artifact *artifacts;
        size_t n_artifacts;

        uintptr_t title_start, title_end;   /* our argv area, overwritten with a neutral title */
        size_t scratch_size;          /* bytes the executor maps for what it learns while applying */
} sandbox_plan;

typedef struct sandbox_plan_input {
        const csc_contract *contract;
        uid_t uid;
        gid_t gid;
        const gid_t *groups;
        size_t n_groups;
        const csc_json *env;          /* the client's {NAME: value}, or NULL */
        const cscd_config *config;
        const char *cgroup_procs;
        const sandbox_filter *filter_deny_net, *filter_allowlisted, *filter_net;
        const cscd_secret *secrets;
        size_t n_secrets;
        char *const *exe_paths;       /* every argv's program, in contract order; NULL: not found */
        bool await_go;
        const csc_strv *write_prefixes;
        const char *const *host_top;  /* the host's top-level directories, for a declared "/" */
        size_t n_host_top;
        const char *credentials_dir;  /* $CREDENTIALS_DIRECTORY of cscd, or NULL */
        int landlock_abi;
        uintptr_t title_start, title_end;
} sandbox_plan_input;

enum { SANDBOX_PLAN_BLOCKED = 1 };

/* 0 with *ret, SANDBOX_PLAN_BLOCKED with a reason in why (the contract asks
 * for what no sandbox gives), or -ENOMEM. */
int sandbox_plan_build(const sandbox_plan_input *in, sandbox_plan **ret, char *why, size_t why_size);
/* Wipes the secrets and frees everything. NULL-safe; returns NULL. */
sandbox_plan *sandbox_plan_free(sandbox_plan *p);
static inline void sandbox_plan_freep(sandbox_plan **p) {
        *p = sandbox_plan_free(*p);
}
/* The execution cgroup's cgroup.procs, made after the plan (a refused plan
 * makes none). 0 or -ENOMEM. */
int sandbox_plan_set_cgroup(sandbox_plan *p, const char *cgroup_procs);

/* The plan's bytes: one block (the plan at its start) that can be copied to
 * another process, where sandbox_plan_relocate() makes it usable. */
const void *sandbox_plan_data(const sandbox_plan *p, size_t *ret_size);

/* Makes a plan usable that was copied whole to p (size bytes) from the
 * address old_base: every pointer in it is moved by the distance, after
 * checking that it lay inside the block (and a string ends there). For the
 * executor, after its clone: no allocation, no libc beyond memchr.
 * 0, or -EBADMSG for a block that is not a plan of that size. */
int sandbox_plan_relocate(sandbox_plan *p, size_t size, uintptr_t old_base);

/* Does the contract declare "/" (the host's top-level directories are then
 * needed as input)? */
bool sandbox_plan_wants_host_top(const csc_contract *c);
