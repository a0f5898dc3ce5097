/* config.c — parsing cscd.conf with libcsc's strict YAML loader. */
#include "config.h"
#include "warm_pool.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "env_names.h"
#include "canon.h"
#include "egress/egress_match.h"
#include "json.h"
#include "keys.h"
#include "csc_limits.h"
#include "protected_paths.h"
#include "validate.h"
#include "yaml.h"

static void strlist_free(cscd_strlist *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        *l = (cscd_strlist){ 0 };
}

bool cscd_strlist_has(const cscd_strlist *l, const char *s) {
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i], s) == 0)
                        return true;
        return false;
}

cscd_config *cscd_config_free(cscd_config *c) {
        if (!c)
                return NULL;
        free(c->socket_path);
        free(c->socket_group);
        free(c->policy_path);
        free(c->state_dir);
        free(c->signing_key_path);
        free(c->key_id);
        free(c->secrets_dir);
        free(c->session_program);
        free(c->executor_program);
        free(c->egress_proxy);
        free(c->egress_user);
        strlist_free(&c->submit_users);
        strlist_free(&c->submit_groups);
        strlist_free(&c->admin_users);
        strlist_free(&c->admin_groups);
        strlist_free(&c->mask_paths);
        strlist_free(&c->allow_env_names);
        strlist_free(&c->egress_allow_private);
        strlist_free(&c->protected_paths);
        strlist_free(&c->protected_paths_extra);
        for (size_t i = 0; i < c->n_approvers; i++) {
                free(c->approvers[i].identity);
                free(c->approvers[i].key_id);
        }
        free(c->approvers);
        for (size_t i = 0; i < c->n_signing_keys; i++) {
                free(c->signing_keys[i].key_id);
                free(c->signing_keys[i].private_key);
                free(c->signing_keys[i].public_key);
        }
        free(c->signing_keys);
        free(c);
        return NULL;
}

static int default_protected_paths(cscd_strlist *l) {
        size_t n = 0;
        while (pp_default_entries[n])
                n++;
        l->v = calloc(n + 1, sizeof *l->v);
        if (!l->v)
                return -ENOMEM;
        for (; l->n < n; l->n++)
                if (!(l->v[l->n] = strdup(pp_default_entries[l->n])))
                        return -ENOMEM;
        return 0;
}

/* Every protected name must be relative and free of "." and ".." segments. */
static int check_protected(const cscd_strlist *l, const char *key, csc_error *err) {
        for (size_t i = 0; i < l->n; i++) {
                char why[128], where[64];
                if (pp_entry_check(l->v[i], why, sizeof why) < 0) {
                        snprintf(where, sizeof where, "%s[%zu]", key, i);
                        return csc_error_set(err, -EINVAL, where, "\"%.64s\" %s", l->v[i], why);
                }
        }
        return 0;
}

int cscd_config_defaults(cscd_config **ret) {
        _cleanup_(cscd_config_freep) cscd_config *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->socket_path = strdup("/run/csc.sock");
        c->socket_mode = 0666;
        c->policy_path = strdup(CSC_CONFDIR "/policy.yaml");
        c->state_dir = strdup("/var/lib/csc");
        c->key_id = strdup("cscd");
        c->max_executions = 64;
        c->max_executions_per_peer = 16;
        c->max_queued = 256;
        c->max_connections = 256;
        c->max_connections_per_uid = 64;
        c->max_connections_no_role = 16;
        c->frame_timeout_ms = 5000;
        c->idle_timeout_ms = 60000;
        c->stop_grace_sec = 10;
        c->warm_sandboxes = 4;
        c->tmp_size_bytes = 64ull << 20;
        c->rlimit_cpu_sec = 300;
        c->rlimit_as_bytes = 1ull << 30;
        c->rlimit_fsize_bytes = 100ull << 20;
        c->rlimit_nofile = 1024;
        c->pids_max = 512;
        c->memory_max_bytes = 2ull << 30;
        c->block_interpreters = true;
        c->approval_requires_initiating_user = true;
        c->secrets_dir = strdup(CSC_CONFDIR "/secrets");
        c->egress_proxy = strdup(CSC_EGRESS_PROXY);
        c->egress_user = strdup("csc-egress");
        c->egress_idle_timeout_ms = 300000;
        c->protected_walk_max_entries = 200000;
        c->protected_walk_max_depth = 64;
        c->protected_walk_timeout_ms = 5000;
        c->protected_walk_max_found = 4096;
        if (default_protected_paths(&c->protected_paths) < 0)
                return -ENOMEM;
        if (!c->socket_path || !c->policy_path || !c->state_dir || !c->key_id || !c->secrets_dir || !c->egress_proxy ||
            !c->egress_user)
                return -ENOMEM;
        *ret = TAKE_PTR(c);
        return 0;
}

typedef enum { K_PATH, K_STRING, K_STRING_OR_NULL, K_MODE, K_BOOL, K_UINT, K_U64, K_LIST, K_PATH_LIST, K_APPROVERS,
               K_SIGNING_KEYS, K_CIDR_LIST } kind;

typedef struct key_spec {
        const char *key;
        kind k;
        size_t offset;
        uint64_t min, max;
} key_spec;

#define F(field) offsetof(cscd_config, field)
static const key_spec keys[] = {
        { "socket", K_PATH, F(socket_path), 0, 0 },
        { "socket_mode", K_MODE, F(socket_mode), 0, 0777 },
        { "socket_group", K_STRING_OR_NULL, F(socket_group), 0, 0 },
        { "policy", K_PATH, F(policy_path), 0, 0 },
        { "state_dir", K_PATH, F(state_dir), 0, 0 },
        { "signing_key", K_PATH, F(signing_key_path), 0, 0 },
        { "key_id", K_STRING, F(key_id), 0, 0 },
        { "submit_users", K_LIST, F(submit_users), 0, 0 },
        { "submit_groups", K_LIST, F(submit_groups), 0, 0 },
        { "admin_users", K_LIST, F(admin_users), 0, 0 },
        { "admin_groups", K_LIST, F(admin_groups), 0, 0 },
        { "allow_root_submit", K_BOOL, F(allow_root_submit), 0, 0 },
        { "max_executions", K_UINT, F(max_executions), 1, 4096 },
        { "max_executions_per_peer", K_UINT, F(max_executions_per_peer), 1, 4096 },
        { "max_queued", K_UINT, F(max_queued), 0, 65536 },
        { "max_connections", K_UINT, F(max_connections), 1, 65536 },
        { "max_connections_per_uid", K_UINT, F(max_connections_per_uid), 1, 65536 },
        { "max_connections_no_role", K_UINT, F(max_connections_no_role), 0, 65535 },
        { "frame_timeout_ms", K_UINT, F(frame_timeout_ms), 100, 600000 },
        { "idle_timeout_ms", K_UINT, F(idle_timeout_ms), 100, 86400000 },
        { "stop_grace_sec", K_UINT, F(stop_grace_sec), 0, 3600 },
        { "warm_sandboxes", K_UINT, F(warm_sandboxes), 0, WARM_POOL_MAX },
        { "tmp_size_bytes", K_U64, F(tmp_size_bytes), 1 << 20, 64ull << 30 },
        { "mask_paths", K_PATH_LIST, F(mask_paths), 0, 0 },
        { "approvers", K_APPROVERS, 0, 0, 0 },
        { "rlimit_cpu_sec", K_U64, F(rlimit_cpu_sec), 1, 86400 },
        { "rlimit_as_bytes", K_U64, F(rlimit_as_bytes), 16ull << 20, 1ull << 40 },
        { "rlimit_fsize_bytes", K_U64, F(rlimit_fsize_bytes), 1 << 20, 1ull << 40 },
        { "rlimit_nofile", K_U64, F(rlimit_nofile), 16, 1 << 20 },
        { "pids_max", K_U64, F(pids_max), 8, 1 << 22 },
        { "block_interpreters", K_BOOL, F(block_interpreters), 0, 0 },
        { "memory_max_bytes", K_U64, F(memory_max_bytes), 16ull << 20, 1ull << 42 },
        { "secrets_dir", K_PATH, F(secrets_dir), 0, 0 },
        { "allow_env_names", K_LIST, F(allow_env_names), 0, 0 },
        { "approval_requires_initiating_user", K_BOOL, F(approval_requires_initiating_user), 0, 0 },
        { "signing_keys", K_SIGNING_KEYS, 0, 0, 0 },
        { "egress_allow_private", K_CIDR_LIST, F(egress_allow_private), 0, EGRESS_PRIVATE_MAX },
        { "session_program", K_PATH, F(session_program), 0, 0 },
        { "executor_program", K_PATH, F(executor_program), 0, 0 },
        { "egress_proxy", K_PATH, F(egress_proxy), 0, 0 },
        { "egress_user", K_STRING, F(egress_user), 0, 0 },
        { "egress_idle_timeout_ms", K_UINT, F(egress_idle_timeout_ms), EGRESS_IDLE_MIN_MS, EGRESS_IDLE_MAX_MS },
        { "egress_byte_cap", K_U64, F(egress_byte_cap), 0, 1ull << 50 },
        { "protected_paths", K_LIST, F(protected_paths), 0, 0 },
        { "protected_paths_extra", K_LIST, F(protected_paths_extra), 0, 0 },
        { "protected_walk_max_entries", K_U64, F(protected_walk_max_entries), 1, 100000000 },
        { "protected_walk_max_depth", K_UINT, F(protected_walk_max_depth), 1, 256 },
        /* at most 20 s: the executor's own watchdog allows it 30 s (CSC_EXECUTOR_GRACE_SEC) */
        { "protected_walk_timeout_ms", K_UINT, F(protected_walk_timeout_ms), 10, 20000 },
        { "protected_walk_max_found", K_UINT, F(protected_walk_max_found), 1, 65536 },
};

static int set_string(char **field, const csc_json *v, bool path, const char *key, csc_error *err) {
        if (v->type != CSC_JSON_STRING || v->string.len == 0 || memchr(v->string.ptr, 0, v->string.len))
                return csc_error_set(err, -EINVAL, key, "must be a non-empty string");
        if (path && v->string.ptr[0] != '/')
                return csc_error_set(err, -EINVAL, key, "must be an absolute path");
        char *d = strdup(v->string.ptr);
        if (!d)
                return -ENOMEM;
        free(*field);
        *field = d;
        return 0;
}

static int set_list(cscd_strlist *l, const csc_json *v, bool paths, const char *key, csc_error *err) {
        if (v->type != CSC_JSON_ARRAY)
                return csc_error_set(err, -EINVAL, key, "must be a list of strings");
        strlist_free(l);
        l->v = calloc(v->array.count + 1, sizeof *l->v);
        if (!l->v)
                return -ENOMEM;
        for (size_t i = 0; i < v->array.count; i++) {
                char path[64];
                snprintf(path, sizeof path, "%s[%zu]", key, i);
                int r = set_string(&l->v[l->n], v->array.items[i], paths, path, err);
                if (r < 0)
                        return r;
                l->n++;
        }
        return 0;
}

/* A list of at most s->max CIDRs ("10.0.0.0/8", "fd00::/8"), each checked
 * by the parser cscd-egress uses, so what cscd accepts the proxy accepts. */
static int set_cidr_list(cscd_strlist *l, const csc_json *v, const key_spec *s, csc_error *err) {
        int r = set_list(l, v, false, s->key, err);
        if (r < 0)
                return r;
        if (l->n > s->max)
                return csc_error_set(err, -EINVAL, s->key, "at most %llu ranges", (unsigned long long) s->max);
        for (size_t i = 0; i < l->n; i++) {
                egress_cidr cidr;
                char path[64];
                snprintf(path, sizeof path, "%s[%zu]", s->key, i);
                if (egress_cidr_parse(l->v[i], &cidr) < 0)
                        return csc_error_set(err, -EINVAL, path, "must be an address range such as 10.0.0.0/8 "
                                                                 "(no host bits set)");
        }
        return 0;
}

/* approvers: [{identity, key_id, public_key: /path/to/32-byte.pub}, ...] */
static int set_approvers(cscd_config *c, const csc_json *v, csc_error *err) {
        if (v->type != CSC_JSON_ARRAY)
                return csc_error_set(err, -EINVAL, "approvers", "must be a list of {identity, key_id, public_key}");
        c->approvers = calloc(v->array.count + 1, sizeof *c->approvers);
        if (!c->approvers)
                return -ENOMEM;
        for (size_t i = 0; i < v->array.count; i++) {
                const csc_json *a = v->array.items[i];
                char path[64];
                snprintf(path, sizeof path, "approvers[%zu]", i);
                if (a->type != CSC_JSON_OBJECT)
                        return csc_error_set(err, -EINVAL, path, "must be a mapping {identity, key_id, public_key}");
                for (size_t k = 0; k < a->object.count; k++) {
                        const char *key = a->object.members[k].key;
                        if (strcmp(key, "identity") != 0 && strcmp(key, "key_id") != 0 && strcmp(key, "public_key") != 0)
                                return csc_error_set(err, -EINVAL, path, "unknown key \"%.64s\"", key);
                }
                cscd_approver *ap = &c->approvers[c->n_approvers++];
                char *pub = NULL;
                int r = 0;
                static const char *const need[] = { "identity", "key_id", "public_key" };
                for (size_t k = 0; k < 3 && r == 0; k++)
                        if (!csc_json_get(a, need[k]))
                                r = csc_error_set(err, -EINVAL, path, "missing required key \"%s\"", need[k]);
                if (r == 0)
                        r = set_string(&ap->identity, csc_json_get(a, "identity"), false, path, err);
                if (r == 0)
                        r = set_string(&ap->key_id, csc_json_get(a, "key_id"), false, path, err);
                if (r == 0)
                        r = set_string(&pub, csc_json_get(a, "public_key"), true, path, err);
                if (r == 0) {
                        r = csc_public_key_load(pub, ap->public_key, err);
                        if (r < 0)
                                snprintf(err->path, sizeof err->path, "%s.public_key", path);
                }
                free(pub);
                if (r < 0)
                        return r;
                for (size_t k = 0; k + 1 < c->n_approvers; k++)
                        if (strcmp(c->approvers[k].key_id, ap->key_id) == 0)
                                return csc_error_set(err, -EINVAL, path, "key_id \"%s\" is listed twice", ap->key_id);
        }
        return 0;
}

/* One signing_keys entry: {key_id, private_key?, public_key?, active?}. */
static int set_signing_key(cscd_signing_key_spec *k, const csc_json *a, const char *path, csc_error *err) {
        if (a->type != CSC_JSON_OBJECT)
                return csc_error_set(err, -EINVAL, path, "must be a mapping {key_id, private_key | public_key, active}");
        int r = 0;
        for (size_t i = 0; i < a->object.count && r == 0; i++) {
                const char *key = a->object.members[i].key;
                const csc_json *v = a->object.members[i].value;
                char p[96];
                snprintf(p, sizeof p, "%s.%s", path, key);
                if (strcmp(key, "key_id") == 0)
                        r = set_string(&k->key_id, v, false, p, err);
                else if (strcmp(key, "private_key") == 0)
                        r = set_string(&k->private_key, v, true, p, err);
                else if (strcmp(key, "public_key") == 0)
                        r = set_string(&k->public_key, v, true, p, err);
                else if (strcmp(key, "active") == 0) {
                        if (v->type != CSC_JSON_BOOL)
                                return csc_error_set(err, -EINVAL, p, "must be true or false");
                        k->active = v->boolean;
                } else
                        return csc_error_set(err, -EINVAL, path, "unknown key \"%.64s\"", key);
        }
        if (r < 0)
                return r;
        if (!k->key_id)
                return csc_error_set(err, -EINVAL, path, "missing required key \"key_id\"");
        if (!csc_key_id_valid(k->key_id))
                return csc_error_set(err, -EINVAL, path, "invalid key_id (want [A-Za-z0-9._-], 1-64 chars)");
        if (k->active && !k->private_key)
                return csc_error_set(err, -EINVAL, path, "the active key needs private_key");
        if (!k->active && k->private_key)
                return csc_error_set(err, -EINVAL, path,
                                     "a retired key is only published: give its public_key, not its private_key");
        if (!k->active && !k->public_key)
                return csc_error_set(err, -EINVAL, path, "a retired key needs public_key");
        return 0;
}

/* signing_keys: one active key that signs, retired keys still published. */
static int set_signing_keys(cscd_config *c, const csc_json *v, csc_error *err) {
        if (v->type != CSC_JSON_ARRAY || v->array.count == 0)
                return csc_error_set(err, -EINVAL, "signing_keys", "must be a non-empty list of {key_id, ...}");
        c->signing_keys = calloc(v->array.count, sizeof *c->signing_keys);
        if (!c->signing_keys)
                return -ENOMEM;
        size_t active = SIZE_MAX;
        for (size_t i = 0; i < v->array.count; i++) {
                char path[64];
                snprintf(path, sizeof path, "signing_keys[%zu]", i);
                cscd_signing_key_spec *k = &c->signing_keys[c->n_signing_keys++];
                int r = set_signing_key(k, v->array.items[i], path, err);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (strcmp(c->signing_keys[j].key_id, k->key_id) == 0)
                                return csc_error_set(err, -EINVAL, path, "key_id \"%s\" is listed twice", k->key_id);
                if (k->active && active != SIZE_MAX)
                        return csc_error_set(err, -EINVAL, path, "only one key may be active (signing_keys[%zu] is)",
                                             active);
                if (k->active)
                        active = i;
        }
        if (active == SIZE_MAX)
                return csc_error_set(err, -EINVAL, "signing_keys", "no key is active: mark the one that signs active: true");
        _cleanup_free_ char *p = strdup(c->signing_keys[active].private_key), *id = strdup(c->signing_keys[active].key_id);
        if (!p || !id)
                return -ENOMEM;
        free(c->signing_key_path);
        free(c->key_id);
        c->signing_key_path = TAKE_PTR(p);
        c->key_id = TAKE_PTR(id);
        return 0;
}

static int apply(cscd_config *c, const key_spec *s, const csc_json *v, csc_error *err) {
        void *field = (char *)c + s->offset;
        switch (s->k) {
        case K_PATH:
        case K_STRING:
                return set_string(field, v, s->k == K_PATH, s->key, err);
        case K_STRING_OR_NULL:
                if (v->type == CSC_JSON_NULL) {
                        free(*(char **)field);
                        *(char **)field = NULL;
                        return 0;
                }
                return set_string(field, v, false, s->key, err);
        case K_MODE: {
                /* A string of octal digits ("0660"): YAML would misread a bare 0660. */
                if (v->type != CSC_JSON_STRING || v->string.len < 3 || v->string.len > 4 ||
                    strspn(v->string.ptr, "01234567") != v->string.len)
                        return csc_error_set(err, -EINVAL, s->key, "must be an octal mode in quotes, such as \"0660\"");
                *(mode_t *)field = (mode_t)strtoul(v->string.ptr, NULL, 8);
                return 0;
        }
        case K_BOOL:
                if (v->type != CSC_JSON_BOOL)
                        return csc_error_set(err, -EINVAL, s->key, "must be true or false");
                *(bool *)field = v->boolean;
                return 0;
        case K_UINT:
        case K_U64:
                if (v->type != CSC_JSON_INT || v->integer.overflow || v->integer.value < (int64_t)s->min ||
                    (uint64_t)v->integer.value > s->max)
                        return csc_error_set(err, -EINVAL, s->key, "must be an integer from %llu to %llu",
                                             (unsigned long long)s->min, (unsigned long long)s->max);
                if (s->k == K_UINT)
                        *(unsigned *)field = (unsigned)v->integer.value;
                else
                        *(uint64_t *)field = (uint64_t)v->integer.value;
                return 0;
        case K_LIST:
        case K_PATH_LIST:
                return set_list(field, v, s->k == K_PATH_LIST, s->key, err);
        case K_APPROVERS:
                return set_approvers(c, v, err);
        case K_SIGNING_KEYS:
                return set_signing_keys(c, v, err);
        case K_CIDR_LIST:
                return set_cidr_list(field, v, s, err);
        }
        return -EINVAL;
}

int cscd_config_load_text(const char *text, size_t len, cscd_config **ret, csc_error *err) {
        _cleanup_(csc_json_doc_freep) csc_json_doc *doc = NULL;
        int r = csc_yaml_parse(text, len, &doc, err);
        if (r < 0)
                return r;
        const csc_json *root = csc_json_doc_root(doc);
        _cleanup_(cscd_config_freep) cscd_config *c = NULL;
        if (root->type == CSC_JSON_NULL)
                return cscd_config_defaults(ret);   /* an empty file means the defaults */
        if (root->type != CSC_JSON_OBJECT)
                return csc_error_set(err, -EINVAL, "", "the config must contain a YAML mapping");
        r = cscd_config_defaults(&c);
        for (size_t i = 0; r >= 0 && i < root->object.count; i++) {
                const csc_json_member *m = &root->object.members[i];
                const key_spec *s = NULL;
                for (size_t k = 0; k < sizeof keys / sizeof *keys && !s; k++)
                        if (strcmp(keys[k].key, m->key) == 0)
                                s = &keys[k];
                if (!s) {
                        r = csc_error_set(err, -EINVAL, "", "unknown setting \"%.64s\"", m->key);
                        break;
                }
                r = apply(c, s, m->value, err);
        }
        if (r >= 0 && c->n_signing_keys && (csc_json_get(root, "signing_key") || csc_json_get(root, "key_id")))
                r = csc_error_set(err, -EINVAL, "signing_keys",
                                  "use either signing_key/key_id or signing_keys, not both");
        if (r >= 0 && c->max_executions_per_peer > c->max_executions)
                r = csc_error_set(err, -EINVAL, "max_executions_per_peer", "must not exceed max_executions");
        char why[256];
        if (r >= 0 && env_allowlist_check(&c->allow_env_names, why, sizeof why) < 0)
                r = csc_error_set(err, -EINVAL, "allow_env_names", "%s", why);
        if (r >= 0)
                r = check_protected(&c->protected_paths, "protected_paths", err);
        if (r >= 0)
                r = check_protected(&c->protected_paths_extra, "protected_paths_extra", err);
        /* The default share never breaks a small max_connections: it becomes half of it. */
        if (r >= 0 && !csc_json_get(root, "max_connections_no_role") &&
            c->max_connections_no_role >= c->max_connections)
                c->max_connections_no_role = c->max_connections / 2;
        if (r >= 0 && c->max_connections_no_role >= c->max_connections)
                r = csc_error_set(err, -EINVAL, "max_connections_no_role",
                                  "must be less than max_connections (%u), so that users with a role keep room",
                                  c->max_connections);
        if (r < 0) {
                if (r == -ENOMEM)
                        csc_error_set(err, r, "", "out of memory");
                return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int cscd_config_load_file(const char *path, cscd_config **ret, csc_error *err) {
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = csc_read_file(path, CSC_CONFIG_MAX_BYTES, &data, &len);
        if (r == -EFBIG)
                return csc_error_set(err, r, "", "config file '%s' is larger than %d bytes", path, CSC_CONFIG_MAX_BYTES);
        if (r < 0)
                return csc_error_set(err, r, "", "failed to read config file '%s': %s", path, strerror(-r));
        return cscd_config_load_text(data, len, ret, err);
}

/* The settings of root that load on their own, each appended to good. */
static int check_members(const csc_json *root, csc_json_doc *gdoc, csc_json *good,
                         void (*fn)(const csc_error *e, void *userdata), void *userdata) {
        int n = 0;
        for (size_t i = 0; i < root->object.count; i++) {
                const csc_json_member *m = &root->object.members[i];
                _cleanup_(csc_buf_free) csc_buf b = CSC_BUF_INIT;
                csc_json_doc *one = csc_json_doc_new();
                csc_json *o = one ? csc_json_new_object(one) : NULL;
                int r = o ? csc_json_object_set(one, o, m->key, csc_json_copy(one, m->value)) : -ENOMEM;
                r = r ?: csc_canon_write(o, &b);
                csc_json_doc_free(one);
                _cleanup_(cscd_config_freep) cscd_config *c = NULL;
                csc_error e = { 0 };
                if (r == 0 && cscd_config_load_text(b.data, b.len, &c, &e) < 0) {
                        if (!e.path[0])   /* "unknown setting": point at the key */
                                snprintf(e.path, sizeof e.path, "%.200s", m->key);
                        fn(&e, userdata);
                        n++;
                } else if (r == 0)
                        r = csc_json_object_set(gdoc, good, m->key, csc_json_copy(gdoc, m->value));
                if (r < 0)
                        return r;
        }
        return n;
}

int cscd_config_check_each(const char *text, size_t len, void (*fn)(const csc_error *e, void *userdata),
                           void *userdata, cscd_config **ret_partial, csc_error *err) {
        _cleanup_(csc_json_doc_freep) csc_json_doc *doc = NULL;
        int r = csc_yaml_parse(text, len, &doc, err);
        if (r < 0)
                return r;
        const csc_json *root = csc_json_doc_root(doc);
        _cleanup_(csc_json_doc_freep) csc_json_doc *gdoc = csc_json_doc_new();
        csc_json *good = gdoc ? csc_json_new_object(gdoc) : NULL;
        int n = !good ? -ENOMEM : root->type == CSC_JSON_OBJECT ? check_members(root, gdoc, good, fn, userdata) : 0;
        _cleanup_(csc_buf_free) csc_buf b = CSC_BUF_INIT;
        _cleanup_(cscd_config_freep) cscd_config *c = NULL;
        csc_error e = { 0 };
        if (n == 0 && cscd_config_load_text(text, len, &c, &e) < 0) {
                /* The rules that tie settings together (or a non-mapping file). */
                fn(&e, userdata);
                n = 1;
        } else if (n > 0 && csc_canon_write(good, &b) == 0) {
                if (cscd_config_load_text(b.data, b.len, &c, &e) < 0)
                        c = NULL;   /* reported with the settings that broke it */
        }
        if (n < 0)
                return n;
        *ret_partial = TAKE_PTR(c);
        return n;
}

static void dump_list(FILE *out, const char *key, const cscd_strlist *l) {
        fprintf(out, "%s: [", key);
        for (size_t i = 0; i < l->n; i++)
                fprintf(out, "%s\"%s\"", i ? ", " : "", l->v[i]);
        fputs("]\n", out);
}

void cscd_config_dump(const cscd_config *c, FILE *out) {
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
                const key_spec *s = &keys[i];
                const void *field = (const char *)c + s->offset;
                switch (s->k) {
                case K_PATH:
                case K_STRING:
                case K_STRING_OR_NULL: {
                        const char *v = *(char *const *)field;
                        if (v)
                                fprintf(out, "%s: \"%s\"\n", s->key, v);
                        else
                                fprintf(out, "%s: null\n", s->key);
                        break;
                }
                case K_MODE: fprintf(out, "%s: \"%04o\"\n", s->key, (unsigned)*(const mode_t *)field); break;
                case K_BOOL: fprintf(out, "%s: %s\n", s->key, *(const bool *)field ? "true" : "false"); break;
                case K_UINT: fprintf(out, "%s: %u\n", s->key, *(const unsigned *)field); break;
                case K_U64: fprintf(out, "%s: %llu\n", s->key, (unsigned long long)*(const uint64_t *)field); break;
                case K_LIST:
                case K_PATH_LIST:
                case K_CIDR_LIST: dump_list(out, s->key, field); break;
                case K_APPROVERS:
                        fprintf(out, "approvers:%s\n", c->n_approvers ? "" : " []");
                        for (size_t a = 0; a < c->n_approvers; a++)
                                fprintf(out, "  - {identity: \"%s\", key_id: \"%s\"}\n", c->approvers[a].identity,
                                        c->approvers[a].key_id);
                        break;
                case K_SIGNING_KEYS:
                        fprintf(out, "signing_keys:%s\n", c->n_signing_keys ? "" : " []");
                        for (size_t k = 0; k < c->n_signing_keys; k++) {
                                const cscd_signing_key_spec *sk = &c->signing_keys[k];
                                fprintf(out, "  - {key_id: \"%s\", active: %s", sk->key_id, sk->active ? "true" : "false");
                                if (sk->private_key)
                                        fprintf(out, ", private_key: \"%s\"", sk->private_key);
                                if (sk->public_key)
                                        fprintf(out, ", public_key: \"%s\"", sk->public_key);
                                fputs("}\n", out);
                        }
                        break;
                }
        }
}

void cscd_error_name_file(csc_error *e, const char *file) {
        char *mem = strstr(e->message, "<memory-@");
        char *end = mem ? strchr(mem, '>') : NULL;
        if (!end)
                return;
        char rest[CSC_ERROR_MSG_MAX];
        snprintf(rest, sizeof rest, "%s", end + 1);
        snprintf(mem, sizeof e->message - (size_t)(mem - e->message), "%s%s", file, rest);
}
