/* configtest.c — `cscd -t` and `cscd -T`. Errors carry file:line:column: the
 * JSON path a loader names is walked in libfyaml's document tree of the
 * same file to find where that value is written. */
#include "configtest.h"
#include "helper_program.h"
#include "manager_load.h"
#include "session_spawn.h"
#include "egress_link.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <grp.h>
#include <libfyaml.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "keyring.h"
#include "csc_limits.h"
#include "policy.h"

typedef struct test_ctx {
        const char *file;        /* the file errors are located in */
        const char *text;        /* its contents (NULL: unreadable) */
        size_t len;
        unsigned errors, warnings;
} test_ctx;

/* Line and column (1-based) of the value at JSON path ("a.b[2].c") in YAML
 * text; 1:1 when the path is empty or cannot be found. */
static void locate(const char *text, size_t len, const char *path, int *line, int *col) {
        *line = *col = 1;
        struct fy_parse_cfg cfg = { .flags = FYPCF_QUIET };
        struct fy_document *d = text ? fy_document_build_from_string(&cfg, text, len) : NULL;
        struct fy_node *n = d ? fy_document_root(d) : NULL;
        const char *p = path;
        while (n && *p) {
                struct fy_token *t = NULL;
                if (*p == '[') {
                        int idx = atoi(p + 1);
                        n = fy_node_get_type(n) == FYNT_SEQUENCE ? fy_node_sequence_get_by_index(n, idx) : NULL;
                        p = strchr(p, ']');
                        p = p ? p + 1 : "";
                        t = n && fy_node_get_type(n) == FYNT_SCALAR ? fy_node_get_scalar_token(n) : NULL;
                } else {
                        if (*p == '.')
                                p++;
                        size_t k = strcspn(p, ".[");
                        struct fy_node_pair *pair = fy_node_get_type(n) == FYNT_MAPPING
                                                            ? fy_node_mapping_lookup_pair_by_string(n, p, k)
                                                            : NULL;
                        p += k;
                        n = pair ? fy_node_pair_value(pair) : NULL;
                        struct fy_node *key = pair ? fy_node_pair_key(pair) : NULL;
                        t = key ? fy_node_get_scalar_token(key) : NULL;
                        if (n && fy_node_get_type(n) == FYNT_SCALAR)
                                t = fy_node_get_scalar_token(n);
                }
                const struct fy_mark *mk = t ? fy_token_start_mark(t) : NULL;
                if (mk) {
                        *line = mk->line + 1;
                        *col = mk->column + 1;
                }
        }
        if (d)
                fy_document_destroy(d);
}

static void report(test_ctx *t, bool warning, const char *path, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void report(test_ctx *t, bool warning, const char *path, const char *fmt, ...) {
        int line, col;
        locate(t->text, t->len, path, &line, &col);
        fprintf(stderr, "%s:%d:%d: %s", t->file, line, col, warning ? "warning: " : "");
        va_list ap;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        if (warning)
                t->warnings++;
        else
                t->errors++;
}

/* A csc_error from a loader of t->file. YAML syntax errors carry their own
 * position ("<memory-@0x…>:L:C: error: what" from libfyaml, or "… at line L
 * column C" from our strict scalar rules): print that instead of 1:1. */
static void report_error(test_ctx *t, const csc_error *e) {
        const char *m = e->message, *mem = strstr(m, "<memory-@");
        int line, col, n = 0;
        char what[CSC_ERROR_MSG_MAX];
        if (mem && (mem = strchr(mem, '>')) && sscanf(mem, ">:%d:%d: %n", &line, &col, &n) == 2 && n > 0) {
                const char *w = mem + n;
                if (strncmp(w, "error: ", 7) == 0)
                        w += 7;
                fprintf(stderr, "%s:%d:%d: invalid YAML: %s\n", t->file, line, col, w);
                t->errors++;
                return;
        }
        const char *at = strstr(m, " at line ");
        if (at && sscanf(at, " at line %d column %d", &line, &col) == 2) {
                snprintf(what, sizeof what, "%.*s", (int)(at - m), m);
                fprintf(stderr, "%s:%d:%d: %s%s%s\n", t->file, line, col, e->path, e->path[0] ? ": " : "", what);
                t->errors++;
                return;
        }
        report(t, false, e->path, "%s%s%s", e->path, e->path[0] ? ": " : "", m);
}

static void on_config_error(const csc_error *e, void *userdata) {
        report_error(userdata, e);
}

static int read_text(const char *path, size_t max, char **data, size_t *len) {
        int r = csc_read_file(path, max, data, len);
        if (r < 0)
                fprintf(stderr, "%s: cannot read: %s\n", path, r == -EFBIG ? "file too large" : strerror(-r));
        return r;
}

static void check_names(test_ctx *t, const char *key, const cscd_strlist *l, bool groups) {
        for (size_t i = 0; i < l->n; i++) {
                bool known = groups ? getgrnam(l->v[i]) != NULL : getpwnam(l->v[i]) != NULL;
                if (!known) {
                        char path[96];
                        snprintf(path, sizeof path, "%s[%zu]", key, i);
                        report(t, true, path, "%s: no %s named \"%s\" on this system", path, groups ? "group" : "user",
                               l->v[i]);
                }
        }
}

/* Each signing key on its own, so every broken one is named. */
static void check_keys(test_ctx *t, const cscd_config *c) {
        if (c->n_signing_keys == 0) {
                cscd_keyring *k = NULL;
                char err[2048];
                if (cscd_keyring_load(c, &k, err, sizeof err) < 0)
                        report(t, false, c->signing_key_path ? "signing_key" : "", "%s", err);
                cscd_keyring_free(k);
                return;
        }
        for (size_t i = 0; i < c->n_signing_keys; i++) {
                const cscd_signing_key_spec *s = &c->signing_keys[i];
                csc_error e = { 0 };
                char path[96], buf[CSC_ERROR_PATH_MAX + CSC_ERROR_MSG_MAX + 4];
                csc_signing_key *sk = NULL;
                unsigned char pk[32];
                int r = 0;
                if (s->private_key) {
                        snprintf(path, sizeof path, "signing_keys[%zu].private_key", i);
                        r = csc_signing_key_load(s->private_key, s->key_id, CSC_KEY_CHECK_MODE, &sk, &e);
                        csc_signing_key_free(sk);
                        if (r < 0)
                                report(t, false, path, "%s: %s", path, csc_error_str(&e, buf, sizeof buf));
                }
                if (s->public_key) {
                        snprintf(path, sizeof path, "signing_keys[%zu].public_key", i);
                        if (csc_public_key_load(s->public_key, pk, &e) < 0)
                                report(t, false, path, "%s: %s", path, csc_error_str(&e, buf, sizeof buf));
                }
        }
        cscd_keyring *k = NULL;   /* what ties them together (the active key's own public_key) */
        char err[2048];
        if (t->errors == 0 && cscd_keyring_load(c, &k, err, sizeof err) < 0)
                report(t, false, "signing_keys", "%s", err);
        cscd_keyring_free(k);
}

/* A directory cscd needs to be root's and closed to others. */
static void check_dir(test_ctx *t, const char *key, const char *dir, bool missing_ok) {
        struct stat st;
        if (lstat(dir, &st) < 0) {
                report(t, missing_ok, key, "%s %s: %s%s", key, dir, strerror(errno),
                       missing_ok ? " (created at start / needed only when used)" : "");
                return;
        }
        if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
                report(t, false, key, "%s %s must be a directory owned by cscd's user with mode 0700 (it is %04o, uid %u)",
                       key, dir, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
}

static void check_policy(const char *path, unsigned *errors) {
        test_ctx p = { .file = path };
        char *text = NULL;
        if (read_text(path, CSC_POLICY_MAX_BYTES, &text, &p.len) < 0) {
                (*errors)++;
                return;
        }
        p.text = text;
        csc_policy *pol = NULL;
        csc_error e = { 0 };
        char why[256];
        if (csc_policy_load_text(text, p.len, path, &pol, &e) < 0)
                report_error(&p, &e);
        else if (egress_hosts_check(&pol->allowed_egress_hosts, why, sizeof why) < 0) {
                fprintf(stderr, "%s: %s\n", path, why);
                (*errors)++;
        }
        csc_policy_free(pol);
        free(text);
        *errors += p.errors;
}

int cscd_config_test(manager *m) {
        test_ctx t = { .file = m->config_path ? m->config_path : "<built-in defaults>" };
        char *text = NULL;
        cscd_config *c = NULL;
        if (m->config_path) {
                if (read_text(m->config_path, CSC_CONFIG_MAX_BYTES, &text, &t.len) < 0)
                        return 78;
                t.text = text;
                csc_error e = { 0 };
                int r = cscd_config_check_each(text, t.len, on_config_error, &t, &c, &e);
                if (r < 0)
                        report_error(&t, &e);
                if (r > 0 && c)
                        fprintf(stderr, "cscd: checking the rest with the settings that are right\n");
                if (c && manager_apply_overrides(m, c) < 0)
                        c = cscd_config_free(c);
        } else if (cscd_config_defaults(&c) < 0 || manager_apply_overrides(m, c) < 0)
                c = cscd_config_free(c);
        if (c) {
                check_keys(&t, c);
                check_names(&t, "submit_users", &c->submit_users, false);
                check_names(&t, "admin_users", &c->admin_users, false);
                check_names(&t, "submit_groups", &c->submit_groups, true);
                check_names(&t, "admin_groups", &c->admin_groups, true);
                if (c->socket_group && !getgrnam(c->socket_group))
                        report(&t, true, "socket_group", "socket_group: no group named \"%s\"", c->socket_group);
                check_dir(&t, "state_dir", c->state_dir, true);
                check_dir(&t, "secrets_dir", c->secrets_dir, true);
                char session_path[PATH_MAX];
                int sfd = session_program_open(c->session_program, session_path, sizeof session_path);
                if (sfd < 0)
                        report(&t, false, "session_program", "session_program %s: %s (cscd cannot serve a connection "
                               "without it)", session_path, strerror(-sfd));
                else
                        close(sfd);
                if (c->warm_sandboxes > 0) {
                        int xfd = helper_program_open(c->executor_program, "cscd-executor", CSC_EXECUTOR_PROGRAM,
                                                      session_path, sizeof session_path);
                        if (xfd < 0)
                                report(&t, true, "executor_program", "executor_program %s: %s (the warm sandbox pool "
                                       "stays off without it)", session_path, strerror(-xfd));
                        else
                                close(xfd);
                }
                /* Needed only by `network: allowlisted`: warnings, not errors. */
                if (access(c->egress_proxy, X_OK) < 0)
                        report(&t, true, "egress_proxy", "egress_proxy %s: %s (network: allowlisted fails closed without it)",
                               c->egress_proxy, strerror(errno));
                if (!getpwnam(c->egress_user))
                        report(&t, true, "egress_user", "egress_user: no user named \"%s\" (network: allowlisted fails "
                               "closed without it)", c->egress_user);
                check_policy(c->policy_path, &t.errors);
        }
        cscd_config_free(c);
        free(text);
        if (t.errors) {
                fprintf(stderr, "cscd: configuration test failed: %u error(s), %u warning(s)\n", t.errors, t.warnings);
                return 78;
        }
        fprintf(stderr, "cscd: configuration test passed%s%.0u%s\n", t.warnings ? " with " : "", t.warnings,
                t.warnings ? " warning(s)" : "");
        return 0;
}

int cscd_config_print(manager *m, FILE *out) {
        cscd_config *c = NULL;
        char err[2048];
        if (manager_load_config(m, &c, err, sizeof err) < 0) {
                fprintf(stderr, "cscd: %s\n", err);
                return 78;
        }
        fprintf(out, "# effective configuration: %s%s\n", m->config_path ? m->config_path : "built-in defaults",
                m->opt_socket || m->opt_policy || m->opt_state_dir || m->opt_key || m->opt_key_id
                        ? " with command-line overrides" : "");
        cscd_config_dump(c, out);
        cscd_config_free(c);
        return 0;
}
