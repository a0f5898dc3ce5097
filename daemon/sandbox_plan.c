/* sandbox_plan.c — building a sandbox_plan from a decided contract (see
 * sandbox_plan.h). Pure: no file is opened and nothing is forked here. */
#include "sandbox_plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "build-config.h"
#include "env_names.h"
#include "env_policy.h"
#include "path.h"
#include "sandbox_egress.h"

/* ---- the arena: every byte a plan points to --------------------------- */

/* One block: the sandbox_plan itself at its start, then everything it points
 * to. A plan is therefore one run of bytes that can be copied to another
 * process and relocated there (sandbox_plan_relocate). */
struct plan_arena {
        char *base;
        size_t size, used;
        bool full;                   /* an allocation did not fit: build again, larger */
};

#define ARENA_FIRST (64 * 1024)
#define ARENA_MAX (256u * 1024 * 1024)

static void *arena_alloc(struct plan_arena *a, size_t size) {
        size = (size + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
        if (size > a->size - a->used) {
                a->full = true;
                return NULL;
        }
        void *p = a->base + a->used;
        a->used += size;
        return p;
}

static char *arena_strdup(struct plan_arena *a, const char *s) {
        size_t n = strlen(s) + 1;
        char *d = arena_alloc(a, n);
        return d ? memcpy(d, s, n) : NULL;
}

static char *arena_printf(struct plan_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *arena_printf(struct plan_arena *a, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        char *d = n < 0 ? NULL : arena_alloc(a, (size_t)n + 1);
        if (!d)
                return NULL;
        va_start(ap, fmt);
        vsnprintf(d, (size_t)n + 1, fmt, ap);
        va_end(ap);
        return d;
}

sandbox_plan *sandbox_plan_free(sandbox_plan *p) {
        if (p) {
                size_t size = p->bytes;
                sodium_memzero(p, size);   /* secrets live here */
                free(p);
        }
        return NULL;
}

const void *sandbox_plan_data(const sandbox_plan *p, size_t *ret_size) {
        *ret_size = p->bytes;
        return p;
}

/* ---- building ----------------------------------------------------------- */

typedef struct builder {
        const sandbox_plan_input *in;
        sandbox_plan *p;
        struct plan_arena *a;
        sandbox_bind *binds;
        size_t n_binds, cap_binds;
        char *why;
        size_t why_size;
} builder;

static int blocked(builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int blocked(builder *b, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->why, b->why_size, fmt, ap);
        va_end(ap);
        return SANDBOX_PLAN_BLOCKED;
}

/* One declared path (or a cwd shown read-only): normalized, refused when no
 * sandbox may bind it, skipped when the sandbox has its own. */
static int add_bind(builder *b, const char *path, bool writable) {
        if (csc_path_flavour_of(path) != CSC_PATH_POSIX)
                return 0;   /* Windows paths have nothing to bind on Linux */
        if (strlen(path) >= SANDBOX_PATH_MAX)
                return blocked(b, "declared path %.64s... is longer than %d bytes", path, SANDBOX_PATH_MAX - 1);
        char norm[SANDBOX_PATH_MAX];
        csc_path_normalize(path, norm);
        if (csc_path_has_dotdot(norm))
                return blocked(b, "declared path %s contains a '..' segment", norm);
        /* The sandbox's own /tmp and /dev/shm are private: never a host tree. */
        if (csc_path_under(norm, "/tmp") || csc_path_under(norm, "/dev/shm"))
                return blocked(b, "declared path %s lies in the sandbox's private %s", norm,
                               csc_path_under(norm, "/tmp") ? "/tmp" : "/dev/shm");
        /* /dev and /proc are the sandbox's own; /sys and /run are never shown. */
        static const char *const own[] = { "/dev", "/proc", "/sys", "/run" };
        for (size_t i = 0; i < sizeof own / sizeof *own; i++)
                if (csc_path_under(norm, own[i]))
                        return 0;
        if (b->n_binds == b->cap_binds) {
                size_t cap = b->cap_binds ? b->cap_binds * 2 : 16;
                sandbox_bind *nv = realloc(b->binds, cap * sizeof *nv);
                if (!nv)
                        return -ENOMEM;
                b->binds = nv;
                b->cap_binds = cap;
        }
        char *d = arena_strdup(b->a, norm);
        if (!d)
                return -ENOMEM;
        b->binds[b->n_binds++] = (sandbox_bind){ d, writable };
        return 0;
}

/* A declared "/" means "everything of the host the user may read": each real
 * top-level directory, not the root itself, which would cover the sandbox's
 * own /dev, /tmp and /proc. */
static int expand_root(builder *b) {
        for (size_t i = 0; i < b->n_binds; i++) {
                if (strcmp(b->binds[i].path, "/") != 0)
                        continue;
                if (b->binds[i].writable)
                        return blocked(b, "declared write path / cannot be bound");
                b->binds[i--] = b->binds[--b->n_binds];
                static const char *const own[] = { "dev", "proc", "sys", "run", "tmp", "usr", "etc", NULL };
                for (size_t t = 0; t < b->in->n_host_top; t++) {
                        const char *name = b->in->host_top[t];
                        bool skip = name[0] == '.' || name[0] == 0 || strchr(name, '/');
                        for (size_t k = 0; own[k] && !skip; k++)
                                skip = strcmp(name, own[k]) == 0;
                        char top[300];
                        if (skip || (size_t)snprintf(top, sizeof top, "/%s", name) >= sizeof top)
                                continue;
                        int r = add_bind(b, top, false);
                        if (r != 0)
                                return r;
                }
        }
        return 0;
}

static bool covered(const builder *b, size_t n, const char *path) {
        for (size_t i = 0; i < n; i++)
                if (csc_path_under(path, b->binds[i].path))
                        return true;
        return false;
}

static int bind_cmp(const void *x, const void *y) {
        const sandbox_bind *a = x, *b = y;
        size_t la = strlen(a->path), lb = strlen(b->path);
        if (la != lb)
                return la < lb ? -1 : 1;     /* parents first: nested binds layer on top */
        if (a->writable != b->writable)
                return (int)a->writable - (int)b->writable;   /* read-only first, writable on top */
        return strcmp(a->path, b->path);     /* a total order: the plan does not depend on qsort */
}

static int plan_binds(builder *b) {
        const csc_contract *c = b->in->contract;
        int r = 0;
        for (size_t i = 0; i < c->n_commands && r == 0; i++) {
                const csc_command *cmd = &c->commands[i];
                for (size_t k = 0; k < cmd->read_paths.n && r == 0; k++)
                        r = add_bind(b, cmd->read_paths.v[k], false);
                for (size_t k = 0; k < cmd->write_paths.n && r == 0; k++)
                        r = add_bind(b, cmd->write_paths.v[k], true);
        }
        /* A cwd outside every declared path and outside the sandbox's own
         * directories is shown read-only, so the command can start there. */
        size_t declared = b->n_binds;
        for (size_t i = 0; i < c->n_commands && r == 0; i++) {
                const char *cwd = c->commands[i].cwd;
                if (strlen(cwd) >= SANDBOX_PATH_MAX)
                        return blocked(b, "cwd is longer than %d bytes", SANDBOX_PATH_MAX - 1);
                char norm[SANDBOX_PATH_MAX];
                csc_path_normalize(cwd, norm);
                static const char *const own[] = { "/tmp", "/usr", "/etc", "/proc", "/dev" };
                bool skip = csc_path_flavour_of(norm) != CSC_PATH_POSIX || covered(b, declared, norm) ||
                            strcmp(norm, "/") == 0;
                for (size_t k = 0; k < sizeof own / sizeof *own && !skip; k++)
                        skip = csc_path_under(norm, own[k]);
                if (!skip)
                        r = add_bind(b, norm, false);
        }
        r = r ?: expand_root(b);
        if (r != 0)
                return r;
        if (b->n_binds > 1)   /* qsort(NULL, 0) is undefined */
                qsort(b->binds, b->n_binds, sizeof *b->binds, bind_cmp);
        sandbox_bind *v = b->n_binds ? arena_alloc(b->a, b->n_binds * sizeof *v) : NULL;
        if (b->n_binds && !v)
                return -ENOMEM;
        if (v)
                memcpy(v, b->binds, b->n_binds * sizeof *v);
        b->p->binds = v;
        b->p->n_binds = b->n_binds;
        return 0;
}

/* A NULL-terminated copy of n strings in the arena (each normalized when asked). */
static const char *const *copy_strv(builder *b, const char *const *v, size_t n, bool normalize, size_t *ret_n) {
        const char **d = arena_alloc(b->a, (n + 1) * sizeof *d);
        if (!d)
                return NULL;
        size_t out = 0;
        for (size_t i = 0; i < n; i++) {
                char norm[SANDBOX_PATH_MAX];
                if (normalize) {
                        if (!v[i] || v[i][0] != '/' || strlen(v[i]) >= sizeof norm)
                                continue;
                        csc_path_normalize(v[i], norm);
                }
                if (!(d[out++] = arena_strdup(b->a, normalize ? norm : v[i])))
                        return NULL;
        }
        d[out] = NULL;
        *ret_n = out;
        return d;
}

/* What must never be visible, whatever the policy allowed: the daemon's
 * configuration, state, secrets, key, credentials, socket and the admin's
 * mask_paths. A key file's directory is hidden with it. */
static int plan_masks(builder *b) {
        const cscd_config *cfg = b->in->config;
        const char *list[16 + 1];
        size_t n = 0;
        list[n++] = CSC_CONFDIR;
        list[n++] = "/etc/csc";   /* the usual place, whatever this build's sysconfdir */
        list[n++] = cfg->state_dir;
        list[n++] = cfg->secrets_dir;
        char keydir[SANDBOX_PATH_MAX];
        const char *key = cfg->signing_key_path;
        if (key && key[0] == '/' && strlen(key) < sizeof keydir) {
                memcpy(keydir, key, strlen(key) + 1);
                char *slash = strrchr(keydir, '/');
                if (slash != keydir) {
                        *slash = 0;
                        list[n++] = keydir;
                }
        }
        list[n++] = key;
        list[n++] = b->in->credentials_dir;
        list[n++] = cfg->socket_path;   /* a socket placed outside /run */
        list[n++] = "/var/lib/csc";
        size_t fixed = 0;
        const char **all = calloc(n + cfg->mask_paths.n + 1, sizeof *all);
        if (!all)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (list[i])
                        all[fixed++] = list[i];
        for (size_t i = 0; i < cfg->mask_paths.n; i++)
                all[fixed++] = cfg->mask_paths.v[i];
        b->p->masks = copy_strv(b, all, fixed, true, &b->p->n_masks);
        free(all);
        return b->p->masks ? 0 : -ENOMEM;
}

/* The three seccomp programs, copied in: the plan points nowhere else. */
static int plan_filters(builder *b) {
        const sandbox_filter *src[3] = { b->in->filter_deny_net, b->in->filter_allowlisted, b->in->filter_net };
        for (size_t i = 0; i < 3; i++) {
                sandbox_filter *f = &b->p->filters[i];
                *f = (sandbox_filter){ NULL, 0 };
                if (!src[i])
                        continue;
                f->len = src[i]->len;
                if (src[i]->insns && src[i]->len) {
                        f->insns = arena_alloc(b->a, src[i]->len * sizeof *f->insns);
                        if (!f->insns)
                                return -ENOMEM;
                        memcpy(f->insns, src[i]->insns, src[i]->len * sizeof *f->insns);
                }
        }
        return 0;
}

/* ---- per command -------------------------------------------------------- */

typedef struct env_list {
        const char **name, **value;
        size_t n, cap;
} env_list;

/* setenv(3)'s rule: a name set again keeps its place and takes the new value. */
static void env_set(env_list *e, const char *name, const char *value) {
        for (size_t i = 0; i < e->n; i++)
                if (strcmp(e->name[i], name) == 0) {
                        e->value[i] = value;
                        return;
                }
        if (e->n < e->cap) {
                e->name[e->n] = name;
                e->value[e->n++] = value;
        }
}

/* The fixed variables, then only the client's variables that the contract
 * names in env_allow and the admin allows (env_policy.h), then the proxy's
 * for an `allowlisted` command (last: no client name overrides them). */
static char *const *plan_env(builder *b, const csc_command *cmd) {
        size_t cap = 4 + cmd->env_allow.n + 16;
        env_list e = { .name = calloc(cap, sizeof *e.name), .value = calloc(cap, sizeof *e.value), .cap = cap };
        char **envp = e.name && e.value ? arena_alloc(b->a, (cap + 1) * sizeof *envp) : NULL;
        if (!envp) {
                free(e.name);
                free(e.value);
                return NULL;
        }
        env_set(&e, "PATH", CSCD_SANDBOX_PATH);
        env_set(&e, "HOME", "/tmp");
        env_set(&e, "TMPDIR", "/tmp");
        env_set(&e, "LANG", "C.UTF-8");
        const csc_json *env = b->in->env;
        for (size_t i = 0; i < cmd->env_allow.n; i++) {
                const char *name = cmd->env_allow.v[i];
                const csc_json *v = env ? csc_json_get(env, name) : NULL;
                if (!v || v->type != CSC_JSON_STRING || memchr(v->string.ptr, 0, v->string.len) ||
                    !env_name_passes(b->in->config, name) || strchr(name, '='))
                        continue;
                env_set(&e, name, v->string.ptr);
        }
        if (cmd->network == CSC_NET_ALLOWLISTED)
                for (const sandbox_egress_var *pv = sandbox_egress_env(); pv->name; pv++)
                        env_set(&e, pv->name, pv->value);
        size_t i = 0;
        for (; i < e.n; i++)
                if (!(envp[i] = arena_printf(b->a, "%s=%s", e.name[i], e.value[i])))
                        break;
        bool ok = i == e.n;
        envp[i] = NULL;
        free(e.name);
        free(e.value);
        return ok ? envp : NULL;
}

static int plan_segments(builder *b, const csc_command *cmd, size_t exe_base, sandbox_command *pc) {
        sandbox_segment *seg = arena_alloc(b->a, cmd->n_argvs * sizeof *seg);
        if (!seg)
                return -ENOMEM;
        for (size_t s = 0; s < cmd->n_argvs; s++) {
                size_t n;
                seg[s].argv = (char *const *)copy_strv(b, cmd->argvs[s].v, cmd->argvs[s].n, false, &n);
                const char *exe = b->in->exe_paths ? b->in->exe_paths[exe_base + s] : NULL;
                seg[s].exe = exe ? arena_strdup(b->a, exe) : NULL;
                if (!seg[s].argv || (exe && !seg[s].exe))
                        return -ENOMEM;
        }
        pc->segments = seg;
        pc->n_segments = cmd->n_argvs;
        return 0;
}

static int plan_secrets(builder *b, size_t index, sandbox_command *pc) {
        size_t n = 0;
        for (size_t i = 0; i < b->in->n_secrets; i++)
                n += b->in->secrets[i].command == index;
        if (n == 0)
                return 0;
        sandbox_secret_file *f = arena_alloc(b->a, n * sizeof *f);
        if (!f)
                return -ENOMEM;
        size_t k = 0;
        for (size_t i = 0; i < b->in->n_secrets; i++) {
                const cscd_secret *s = &b->in->secrets[i];
                if (s->command != index)
                        continue;
                char *value = arena_alloc(b->a, s->len + 1);
                f[k].path = arena_printf(b->a, "/run/secrets/%s", s->name);
                if (!value || !f[k].path)
                        return -ENOMEM;
                memcpy(value, s->value, s->len);
                f[k].value = value;
                f[k++].len = s->len;
        }
        pc->secrets = f;
        pc->n_secrets = n;
        return 0;
}

static int plan_commands(builder *b) {
        const sandbox_plan_input *in = b->in;
        const csc_contract *c = in->contract;
        sandbox_command *cmds = arena_alloc(b->a, c->n_commands * sizeof *cmds);
        if (!cmds)
                return -ENOMEM;
        size_t exe_base = 0;
        for (size_t i = 0; i < c->n_commands; i++) {
                const csc_command *cmd = &c->commands[i];
                sandbox_command *pc = &cmds[i];
                size_t n_write;
                const char *const *write = copy_strv(b, cmd->write_paths.v, cmd->write_paths.n, true, &n_write);
                *pc = (sandbox_command){
                        .cwd = arena_strdup(b->a, cmd->cwd),
                        .envp = plan_env(b, cmd),
                        .network = cmd->network,
                        .filter = &b->p->filters[cmd->network == CSC_NET_DENY          ? 0
                                                 : cmd->network == CSC_NET_ALLOWLISTED ? 1
                                                                                        : 2],
                        .unshare_net = !b->p->own_netns && cmd->network == CSC_NET_DENY,
                        .write_paths = write,
                        .n_write_paths = write ? n_write : 0,
                        .timeout_sec = cmd->timeout_sec,
                };
                if (!pc->cwd || !pc->envp || !pc->write_paths)
                        return -ENOMEM;
                int r = plan_segments(b, cmd, exe_base, pc);
                r = r ?: plan_secrets(b, i, pc);
                if (r < 0)
                        return r;
                exe_base += cmd->n_argvs;
        }
        b->p->commands = cmds;
        b->p->n_commands = c->n_commands;
        return 0;
}

/* Expected outputs the executor hashes as the peer (at most 64, as the
 * receipt reports them). */
static int plan_artifacts(builder *b) {
        const csc_strv *outs = &b->in->contract->expected_outputs;
        size_t n = 0;
        sandbox_artifact *v = arena_alloc(b->a, (outs->n ? outs->n : 1) * sizeof *v);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < outs->n && i < 64; i++) {
                if (csc_path_flavour_of(outs->v[i]) != CSC_PATH_POSIX)
                        continue;
                v[n].index = (uint32_t)i;
                if (!(v[n++].path = arena_strdup(b->a, outs->v[i])))
                        return -ENOMEM;
        }
        b->p->artifacts = v;
        b->p->n_artifacts = n;
        return 0;
}

static int plan_config(builder *b) {
        const sandbox_plan_input *in = b->in;
        const cscd_config *cfg = in->config;
        sandbox_plan *p = b->p;
        p->tmp_opts = arena_printf(b->a, "mode=1777,size=%llu", (unsigned long long)cfg->tmp_size_bytes);
        if (in->n_secrets > 0)
                p->secrets_opts = arena_printf(b->a, "mode=0500,uid=%u,gid=%u,size=1m", (unsigned)in->uid,
                                               (unsigned)in->gid);
        if (!p->tmp_opts || (in->n_secrets > 0 && !p->secrets_opts))
                return -ENOMEM;
        const sandbox_rlimit lim[SANDBOX_N_RLIMITS] = {
                { RLIMIT_CORE, 0 },
                { RLIMIT_CPU, cfg->rlimit_cpu_sec },
                { RLIMIT_AS, cfg->rlimit_as_bytes },
                { RLIMIT_FSIZE, cfg->rlimit_fsize_bytes },
                { RLIMIT_NOFILE, cfg->rlimit_nofile },
        };
        memcpy(p->rlimits, lim, sizeof lim);
        const char **names = calloc(cfg->protected_paths.n + cfg->protected_paths_extra.n + 1, sizeof *names);
        if (!names)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < cfg->protected_paths.n; i++)
                names[n++] = cfg->protected_paths.v[i];
        for (size_t i = 0; i < cfg->protected_paths_extra.n; i++)
                names[n++] = cfg->protected_paths_extra.v[i];
        p->protected_names = copy_strv(b, names, n, false, &p->n_protected_names);
        free(names);
        const csc_strv *pre = in->write_prefixes;
        p->write_prefixes = copy_strv(b, pre ? pre->v : NULL, pre ? pre->n : 0, false, &p->n_write_prefixes);
        if (!p->protected_names || !p->write_prefixes)
                return -ENOMEM;
        p->walk = (sandbox_walk_limits){ cfg->protected_walk_max_entries, cfg->protected_walk_max_depth,
                                         cfg->protected_walk_timeout_ms, cfg->protected_walk_max_found };
        return 0;
}

/* Room for what the executor learns while applying: a descriptor per bind,
 * and each protected object the walk reports (at most max_found, plus the
 * write paths a protected name downgrades), with its path. Mapped by the
 * executor itself, untouched pages cost nothing. */
static size_t scratch_size(const sandbox_plan *p) {
        size_t ops = (size_t)p->walk.max_found + p->n_binds + 1;
        return p->n_binds * sizeof(int) + ops * (SANDBOX_PATH_MAX + 64) + 4096;
}

int sandbox_plan_set_cgroup(sandbox_plan *p, const char *cgroup_procs) {
        size_t n = strlen(cgroup_procs) + 1;
        if (n > sizeof p->cgroup_room)
                return -ENAMETOOLONG;
        memcpy(p->cgroup_room, cgroup_procs, n);
        p->cgroup_procs = p->cgroup_room;
        return 0;
}

bool sandbox_plan_wants_host_top(const csc_contract *c) {
        for (size_t i = 0; i < c->n_commands; i++)
                for (size_t k = 0; k < c->commands[i].read_paths.n; k++) {
                        const char *p = c->commands[i].read_paths.v[k];
                        char norm[SANDBOX_PATH_MAX];
                        if (p[0] == '/' && strlen(p) < sizeof norm) {
                                csc_path_normalize(p, norm);
                                if (strcmp(norm, "/") == 0)
                                        return true;
                        }
                }
        return false;
}

/* Fills the plan at the start of a's block; 0, SANDBOX_PLAN_BLOCKED, or
 * -ENOMEM (a->full: the block was too small). */
static int build_in(const sandbox_plan_input *in, struct plan_arena *a, char *why, size_t why_size) {
        sandbox_plan *p = arena_alloc(a, sizeof *p);
        if (!p)
                return -ENOMEM;
        builder b = { .in = in, .p = p, .a = a, .why = why, .why_size = why_size };
        const csc_contract *c = in->contract;
        p->uid = in->uid;
        p->gid = in->gid;
        p->own_netns = true;
        for (size_t i = 0; i < c->n_commands; i++)
                p->own_netns &= c->commands[i].network != CSC_NET_FULL;
        p->egress = sandbox_egress_wanted(c);
        p->await_go = in->await_go;
        p->landlock_abi = in->landlock_abi;
        p->title_start = in->title_start;
        p->title_end = in->title_end;
        gid_t *groups = arena_alloc(a, (in->n_groups ? in->n_groups : 1) * sizeof *groups);
        if (!groups)
                return -ENOMEM;
        if (in->n_groups)
                memcpy(groups, in->groups, in->n_groups * sizeof *groups);
        p->groups = groups;
        p->n_groups = in->n_groups;
        int r = in->cgroup_procs ? sandbox_plan_set_cgroup(p, in->cgroup_procs) : 0;
        r = r ?: plan_filters(&b);
        r = r ?: plan_binds(&b);
        r = r ?: plan_masks(&b);
        r = r ?: plan_config(&b);
        r = r ?: plan_commands(&b);
        r = r ?: plan_artifacts(&b);
        free(b.binds);
        return r;
}

int sandbox_plan_build(const sandbox_plan_input *in, sandbox_plan **ret, char *why, size_t why_size) {
        for (size_t size = ARENA_FIRST; size <= ARENA_MAX; size *= 2) {
                struct plan_arena a = { .base = calloc(1, size), .size = size };
                if (!a.base)
                        return -ENOMEM;
                int r = build_in(in, &a, why, why_size);
                sandbox_plan *p = (sandbox_plan *)a.base;
                if (r == 0) {
                        p->bytes = a.used;
                        p->scratch_size = scratch_size(p);
                        *ret = p;
                        return 0;
                }
                sodium_memzero(a.base, a.size);
                free(a.base);
                if (r != -ENOMEM || !a.full)
                        return r;
        }
        return -E2BIG;
}
