/* config.h — cscd.conf (YAML): every setting with a safe default.
 *
 * Unknown keys, wrong types and out-of-range values are errors that name the
 * key. cscd_config_defaults() is the embedded default configuration. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "cleanup.h"
#include "error.h"

/* Where cscd.conf, the policy, keys and secrets live: meson's
 * --sysconfdir/csc (build-config.h); /etc/csc when built without meson (the
 * fuzzers). The egress proxy likewise: libexecdir/csc/cscd-egress. */
#if __has_include("build-config.h")
#include "build-config.h"
#endif
#ifndef CSC_CONFDIR
#define CSC_CONFDIR "/etc/csc"
#endif
#ifndef CSC_EGRESS_PROXY
#define CSC_EGRESS_PROXY "/usr/libexec/csc/cscd-egress"
#endif

typedef struct cscd_strlist {
        char **v;
        size_t n;
} cscd_strlist;

/* A trusted approver: approvals signed with this key may claim this identity. */
typedef struct cscd_approver {
        char *identity;
        char *key_id;
        unsigned char public_key[32];
} cscd_approver;

/* One entry of signing_keys: the active key signs (private_key), retired
 * keys are only published for verification (public_key). */
typedef struct cscd_signing_key_spec {
        char *key_id;
        char *private_key;               /* the active key's file; NULL for retired keys */
        char *public_key;                /* a retired key's 32-byte .pub; optional for the active key */
        bool active;
} cscd_signing_key_spec;

typedef struct cscd_config {
        char *socket_path;               /* /run/csc.sock */
        mode_t socket_mode;              /* 0666: authorization is per request, by SO_PEERCRED */
        char *socket_group;              /* NULL: root's group */
        char *policy_path;               /* /etc/csc/policy.yaml */
        char *state_dir;                 /* /var/lib/csc */
        char *signing_key_path;          /* NULL: $CREDENTIALS_DIRECTORY/csc-signing-key */
        char *key_id;                    /* "cscd" */
        cscd_strlist submit_users, submit_groups;   /* both empty: any non-root user may submit */
        cscd_strlist admin_users, admin_groups;     /* root is always an admin */
        bool allow_root_submit;          /* false */
        unsigned max_executions;         /* 64 */
        unsigned max_executions_per_peer;/* 16, per uid */
        unsigned max_queued;             /* 256: submits waiting for a slot (0: refuse at once) */
        unsigned max_connections;        /* 256 */
        unsigned max_connections_per_uid;/* 64: connections one uid may hold */
        unsigned max_connections_no_role;/* 16: all peers with no role together; < max_connections */
        unsigned frame_timeout_ms;       /* 5000: a started frame must complete within this */
        unsigned idle_timeout_ms;        /* 60000: an idle connection is closed */
        unsigned stop_grace_sec;         /* 10 */
        char *executor_program;          /* NULL: cscd-executor beside cscd, else the installed one */
        unsigned warm_sandboxes;         /* 4: executors kept ready per network kind (warm_pool.h); 0 off */
        uint64_t tmp_size_bytes;         /* 64 MiB: the sandbox's private /tmp */
        cscd_strlist mask_paths;         /* extra host paths hidden inside every sandbox */
        uint64_t rlimit_cpu_sec;         /* 300 (the reference's default) */
        uint64_t rlimit_as_bytes;        /* 1 GiB address space */
        uint64_t rlimit_fsize_bytes;     /* 100 MiB largest file written */
        uint64_t rlimit_nofile;          /* 1024 open files */
        uint64_t pids_max;               /* 512 processes per execution (cgroup pids) */
        uint64_t memory_max_bytes;       /* 2 GiB per execution (cgroup v2 memory, when delegated) */
        char *secrets_dir;               /* /etc/csc/secrets: one root-only file per secret name */
        bool block_interpreters;         /* true: advisory blocking of shells/interpreters/wrappers */
        cscd_strlist allow_env_names;    /* client variables a command may receive (default none) */
        cscd_approver *approvers;        /* none: approvals need no signature */
        bool approval_requires_initiating_user;   /* true: needs-approval contracts name their submitter */
        size_t n_approvers;
        /* signing_keys: exactly one active; when set, signing_key_path and
         * key_id are filled from the active entry. */
        cscd_signing_key_spec *signing_keys;
        size_t n_signing_keys;
        cscd_strlist egress_allow_private; /* CIDRs cscd-egress may dial despite being private (docs/egress.md) */
        char *session_program;           /* cscd-session; NULL: beside cscd, else CSC_SESSION_PROGRAM */
        char *egress_proxy;              /* the cscd-egress binary (CSC_EGRESS_PROXY: libexecdir/csc/cscd-egress) */
        char *egress_user;               /* csc-egress: the unprivileged user the proxy becomes */
        unsigned egress_idle_timeout_ms; /* 300000: an idle proxied connection is closed */
        uint64_t egress_byte_cap;        /* 0 (none): bytes both ways per execution */
        /* Protected paths (docs/sandbox.md): names kept read-only at any depth
         * inside every writable root. protected_paths replaces the default
         * list; protected_paths_extra adds to it. */
        cscd_strlist protected_paths;            /* default: pp_default_entries */
        cscd_strlist protected_paths_extra;      /* none */
        uint64_t protected_walk_max_entries;     /* 200000 directory entries per sandbox */
        unsigned protected_walk_max_depth;       /* 64 directories below a write path */
        unsigned protected_walk_timeout_ms;      /* 5000 */
        unsigned protected_walk_max_found;       /* 4096 protected objects and pinned directories */
} cscd_config;

int cscd_config_defaults(cscd_config **ret);
int cscd_config_load_file(const char *path, cscd_config **ret, csc_error *err);
int cscd_config_load_text(const char *text, size_t len, cscd_config **ret, csc_error *err);
cscd_config *cscd_config_free(cscd_config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(cscd_config *, cscd_config_free);
bool cscd_strlist_has(const cscd_strlist *l, const char *s);
/* For `cscd -t`: applies every top-level setting of the YAML text on its own
 * and calls fn for each one that is wrong (so all of them are reported, not
 * only the first). *ret_partial: the config made of the settings that were
 * right (NULL if even that fails), so the policy and keys can be checked too.
 * Returns the number of errors, or a negative errno when the text is not YAML
 * at all (err set). */
int cscd_config_check_each(const char *text, size_t len, void (*fn)(const csc_error *e, void *userdata),
                           void *userdata, cscd_config **ret_partial, csc_error *err);
/* Prints every setting as YAML (`cscd -T`); key files are named, never read. */
void cscd_config_dump(const cscd_config *c, FILE *out);
/* libfyaml names text it parsed from memory "<memory-@0x…>": put the file's
 * name there instead. */
void cscd_error_name_file(csc_error *e, const char *file);
