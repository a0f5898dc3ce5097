/* sandbox_plan_relocate.c — a plan copied whole into another process made
 * usable there (see sandbox_plan.h). Runs in the executor after its clone:
 * no allocation and nothing of libc but memchr. Every pointer is checked to
 * lie inside the block before it is moved, so a damaged copy is refused,
 * never followed. */
#include <errno.h>
#include <string.h>

#include "sandbox_plan.h"

typedef struct mover {
        uintptr_t old_base;
        size_t size;
        char *new_base;
        int err;
} mover;

/* *ptr, n elements of elem bytes, moved into the new block; NULL stays NULL. */
static void move(mover *m, const void *ptr_to_ptr, size_t n, size_t elem) {
        void **pp = (void **)ptr_to_ptr;
        uintptr_t v = (uintptr_t)*pp;
        if (!v || m->err)
                return;
        if (v < m->old_base || v - m->old_base > m->size || (elem && n > (m->size - (v - m->old_base)) / elem)) {
                m->err = -EBADMSG;
                return;
        }
        *pp = m->new_base + (v - m->old_base);
}

/* A string: moved, and it must end inside the block. */
static void move_str(mover *m, const void *ptr_to_str) {
        move(m, ptr_to_str, 1, 1);
        const char *s = *(const char *const *)ptr_to_str;
        if (!m->err && s && !memchr(s, 0, (size_t)(m->new_base + m->size - s)))
                m->err = -EBADMSG;
}

/* A NULL-terminated or counted array of strings. */
static void move_strv(mover *m, const void *ptr_to_v, size_t n) {
        move(m, ptr_to_v, n, sizeof(char *));
        char **v = *(char ***)ptr_to_v;
        for (size_t i = 0; v && !m->err && i < n; i++)
                move_str(m, &v[i]);
}

/* envp and argv: NULL-terminated; their length is found inside the block. */
static void move_nulled(mover *m, const void *ptr_to_v) {
        move(m, ptr_to_v, 1, sizeof(char *));
        char **v = *(char ***)ptr_to_v;
        size_t n = 0;
        for (; v && !m->err; n++) {
                if ((size_t)((char *)&v[n + 1] - m->new_base) > m->size) {
                        m->err = -EBADMSG;
                        return;
                }
                if (!v[n])
                        break;
                move_str(m, &v[n]);
        }
}

static void move_command(mover *m, sandbox_command *c, sandbox_plan *p) {
        move_str(m, &c->cwd);
        move_nulled(m, &c->envp);
        move(m, &c->segments, c->n_segments, sizeof *c->segments);
        for (size_t s = 0; c->segments && !m->err && s < c->n_segments; s++) {
                sandbox_segment *seg = (sandbox_segment *)&c->segments[s];
                move_nulled(m, &seg->argv);
                move_str(m, &seg->exe);
        }
        move(m, &c->filter, 1, sizeof *c->filter);
        if (!m->err && c->filter && (c->filter < &p->filters[0] || c->filter > &p->filters[2]))
                m->err = -EBADMSG;
        move_strv(m, &c->write_paths, c->n_write_paths);
        move(m, &c->secrets, c->n_secrets, sizeof *c->secrets);
        for (size_t i = 0; c->secrets && !m->err && i < c->n_secrets; i++) {
                sandbox_secret_file *f = (sandbox_secret_file *)&c->secrets[i];
                move_str(m, &f->path);
                move(m, &f->value, f->len, 1);
        }
}

int sandbox_plan_relocate(sandbox_plan *p, size_t size, uintptr_t old_base) {
        if (size < sizeof *p || p->bytes != size)
                return -EBADMSG;
        mover m = { old_base, size, (char *)p, 0 };
        move(&m, &p->groups, p->n_groups, sizeof *p->groups);
        if (p->cgroup_procs)   /* it points at cgroup_room, in the block as well */
                move_str(&m, &p->cgroup_procs);
        for (size_t i = 0; i < 3; i++)
                move(&m, &p->filters[i].insns, p->filters[i].len, sizeof *p->filters[i].insns);
        move(&m, &p->binds, p->n_binds, sizeof *p->binds);
        for (size_t i = 0; p->binds && !m.err && i < p->n_binds; i++)
                move_str(&m, &((sandbox_bind *)p->binds)[i].path);
        move_strv(&m, &p->protected_names, p->n_protected_names);
        move_strv(&m, &p->write_prefixes, p->n_write_prefixes);
        move_strv(&m, &p->masks, p->n_masks);
        move_str(&m, &p->tmp_opts);
        move_str(&m, &p->secrets_opts);
        move(&m, &p->commands, p->n_commands, sizeof *p->commands);
        for (size_t i = 0; p->commands && !m.err && i < p->n_commands; i++)
                move_command(&m, (sandbox_command *)&p->commands[i], p);
        move(&m, &p->artifacts, p->n_artifacts, sizeof *p->artifacts);
        for (size_t i = 0; p->artifacts && !m.err && i < p->n_artifacts; i++)
                move_str(&m, &((sandbox_artifact *)p->artifacts)[i].path);
        return m.err;
}
