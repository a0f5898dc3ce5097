/* config.c — parsing cscd.conf with libcsc's strict YAML loader. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "env_names.h"
#include "json.h"
#include "keys.h"
#include "limits.h"
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
        strlist_free(&c->submit_users);
        strlist_free(&c->submit_groups);
        strlist_free(&c->admin_users);
        strlist_free(&c->admin_groups);
        strlist_free(&c->mask_paths);
        strlist_free(&c->allow_env_names);
        strlist_free(&c->protected_paths);
        strlist_free(&c->protected_paths_extra);
        for (size_t i = 0; i < c->n_approvers; i++) {
                free(c->approvers[i].identity);
                free(c->approvers[i].key_id);
        }
        free(c->approvers);
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
        cscd_config *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->socket_path = strdup("/run/csc.sock");
        c->socket_mode = 0666;
        c->policy_path = strdup("/etc/csc/policy.yaml");
        c->state_dir = strdup("/var/lib/csc");
        c->key_id = strdup("cscd");
        c->max_executions = 64;
        c->max_executions_per_peer = 16;
        c->max_connections = 256;
        c->max_connections_per_uid = 64;
        c->max_connections_no_role = 16;
        c->frame_timeout_ms = 5000;
        c->idle_timeout_ms = 60000;
        c->stop_grace_sec = 10;
        c->tmp_size_bytes = 64ull << 20;
        c->rlimit_cpu_sec = 300;
        c->rlimit_as_bytes = 1ull << 30;
        c->rlimit_fsize_bytes = 100ull << 20;
        c->rlimit_nofile = 1024;
        c->pids_max = 512;
        c->memory_max_bytes = 2ull << 30;
        c->block_interpreters = true;
        c->approval_requires_initiating_user = true;
        c->secrets_dir = strdup("/etc/csc/secrets");
        c->protected_walk_max_entries = 200000;
        c->protected_walk_max_depth = 64;
        c->protected_walk_timeout_ms = 5000;
        c->protected_walk_max_found = 4096;
        if (default_protected_paths(&c->protected_paths) < 0) {
                cscd_config_free(c);
                return -ENOMEM;
        }
        if (!c->socket_path || !c->policy_path || !c->state_dir || !c->key_id || !c->secrets_dir) {
                cscd_config_free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

typedef enum { K_PATH, K_STRING, K_STRING_OR_NULL, K_MODE, K_BOOL, K_UINT, K_U64, K_LIST, K_PATH_LIST, K_APPROVERS } kind;

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
        { "max_connections", K_UINT, F(max_connections), 1, 65536 },
        { "max_connections_per_uid", K_UINT, F(max_connections_per_uid), 1, 65536 },
        { "max_connections_no_role", K_UINT, F(max_connections_no_role), 0, 65535 },
        { "frame_timeout_ms", K_UINT, F(frame_timeout_ms), 100, 600000 },
        { "idle_timeout_ms", K_UINT, F(idle_timeout_ms), 100, 86400000 },
        { "stop_grace_sec", K_UINT, F(stop_grace_sec), 0, 3600 },
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
        }
        return -EINVAL;
}

int cscd_config_load_text(const char *text, size_t len, cscd_config **ret, csc_error *err) {
        csc_json_doc *doc = NULL;
        int r = csc_yaml_parse(text, len, &doc, err);
        if (r < 0)
                return r;
        const csc_json *root = csc_json_doc_root(doc);
        cscd_config *c = NULL;
        if (root->type == CSC_JSON_NULL) {
                csc_json_doc_free(doc);
                return cscd_config_defaults(ret);   /* an empty file means the defaults */
        }
        if (root->type != CSC_JSON_OBJECT) {
                csc_json_doc_free(doc);
                return csc_error_set(err, -EINVAL, "", "the config must contain a YAML mapping");
        }
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
        csc_json_doc_free(doc);
        if (r < 0) {
                if (r == -ENOMEM)
                        csc_error_set(err, r, "", "out of memory");
                cscd_config_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

int cscd_config_load_file(const char *path, cscd_config **ret, csc_error *err) {
        char *data = NULL;
        size_t len = 0;
        int r = csc_read_file(path, CSC_CONFIG_MAX_BYTES, &data, &len);
        if (r == -EFBIG)
                return csc_error_set(err, r, "", "config file '%s' is larger than %d bytes", path, CSC_CONFIG_MAX_BYTES);
        if (r < 0)
                return csc_error_set(err, r, "", "failed to read config file '%s': %s", path, strerror(-r));
        r = cscd_config_load_text(data, len, ret, err);
        free(data);
        return r;
}
