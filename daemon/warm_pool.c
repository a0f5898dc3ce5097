/* warm_pool.c — executors made before a submit needs them (see warm_pool.h). */
#include "warm_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "uuid.h"

typedef struct warm_entry {
        struct warm_entry *next;
        warm_pool *pool;
        executor_handle *h;
        sd_event_source *child;        /* it died while waiting */
        bool own_netns;
        char dir[PATH_MAX];            /* its cgroup, "" without cgroups */
} warm_entry;

struct warm_pool {
        sd_event *event;
        cscd_cgroups *cgroups;
        cgroup_reaper *reaper;
        sd_event_source *refill;       /* defer: one executor per loop iteration */
        sd_event_source *retry;        /* after a failure, try again in a second */
        int host_mntns;
        int program_fd;                /* cscd-executor */
        bool no_setns;                 /* no CAP_SYS_CHROOT: a warm executor could not copy the host's mounts */
        unsigned target;
        uint64_t pids_max, memory_max;
        const char *off;
        warm_entry *ready[2];
        size_t n_ready[2];
        uint64_t last_take_usec[2];
        uint64_t served_warm, served_cold, made, lost;
};

static uint64_t now_usec(const warm_pool *p) {
        uint64_t t = 0;
        (void)sd_event_now(p->event, CLOCK_MONOTONIC, &t);
        return t;
}

static size_t want(const warm_pool *p, int kind) {
        if (p->off)
                return 0;
        if (kind == 1 || (p->last_take_usec[kind] && now_usec(p) - p->last_take_usec[kind] < WARM_POOL_IDLE_USEC))
                return p->target;
        return 1;
}

static void entry_free(warm_entry *e, bool kill, bool wait) {
        warm_pool *p = e->pool;
        sd_event_source_disable_unref(e->child);
        if (kill)
                executor_kill(e->h);
        executor_handle_free(e->h, wait ? NULL : p->event);
        if (e->dir[0])
                cgroup_reaper_remove(p->reaper, e->dir);
        free(e);
}

static void unlink_entry(warm_entry *e) {
        warm_pool *p = e->pool;
        int k = e->own_netns;
        for (warm_entry **pp = &p->ready[k]; *pp; pp = &(*pp)->next)
                if (*pp == e) {
                        *pp = e->next;
                        p->n_ready[k]--;
                        return;
                }
}

static void schedule(warm_pool *p) {
        if (p->refill && !p->off)
                (void)sd_event_source_set_enabled(p->refill, SD_EVENT_ON);
}

static int on_died(sd_event_source *s, const siginfo_t *si, void *userdata) {
        warm_entry *e = userdata;
        warm_pool *p = e->pool;
        log_warning("a warm executor ended while it waited (status %d); it is replaced", si->si_status);
        unlink_entry(e);
        p->lost++;
        entry_free(e, false, false);
        schedule(p);
        return 0;
}

/* One warm executor of kind k: its cgroup, then the clone. */
static int make_one(warm_pool *p, int k) {
        warm_entry *e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        e->pool = p;
        e->own_netns = k;
        char procs[PATH_MAX] = "", id[48] = "warm-";
        csc_uuid4(id + 5);
        int r = 0;
        if (strcmp(cscd_cgroups_mode(p->cgroups, NULL), "none") != 0)
                r = cscd_cgroups_create(p->cgroups, id, p->pids_max, p->memory_max, e->dir, procs);
        r = r ?: executor_spawn_warm(p->program_fd, k, procs[0] ? procs : NULL, p->host_mntns, &e->h);
        r = r ?: sd_event_add_child(p->event, &e->child, executor_pid(e->h), WEXITED, on_died, e);
        if (r < 0) {
                if (e->h)
                        executor_kill(e->h);
                executor_handle_free(e->h, p->event);
                if (e->dir[0])
                        cgroup_reaper_remove(p->reaper, e->dir);
                free(e);
                return r;
        }
        e->next = p->ready[k];
        p->ready[k] = e;
        p->n_ready[k]++;
        p->made++;
        return 0;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        schedule(userdata);
        return 0;
}

static int on_refill(sd_event_source *s, void *userdata) {
        warm_pool *p = userdata;
        int k = p->n_ready[1] < want(p, 1) ? 1 : p->n_ready[0] < want(p, 0) ? 0 : -1;
        if (k < 0)
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        int r = make_one(p, k);
        if (r < 0) {
                log_warning("cannot make a warm executor: %s; trying again in a second", strerror(-r));
                (void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
                sd_event_source_disable_unref(p->retry);
                p->retry = NULL;
                (void)sd_event_add_time_relative(p->event, &p->retry, CLOCK_MONOTONIC, 1000000, 0, on_retry, p);
        }
        return 0;
}

/* wait: reap each killed executor here (the pool is being freed with the
 * loop), instead of leaving it to a source of the loop. */
static void drain(warm_pool *p, bool wait) {
        for (int k = 0; k < 2; k++)
                while (p->ready[k]) {
                        warm_entry *e = p->ready[k];
                        p->ready[k] = e->next;
                        p->n_ready[k]--;
                        entry_free(e, true, wait);
                }
}

void warm_pool_configure(warm_pool *p, unsigned target, uint64_t pids_max, uint64_t memory_max) {
        const char *off = target == 0                  ? "warm_sandboxes is 0"
                          : p->host_mntns < 0          ? "cannot open the host's mount namespace"
                          : p->program_fd < 0          ? "no cscd-executor program (executor_program)"
                          : p->no_setns                ? "cscd runs without CAP_SYS_CHROOT"
                                                       : NULL;
        if (target != p->target || pids_max != p->pids_max || memory_max != p->memory_max || off != p->off)
                drain(p, false);
        p->target = target > WARM_POOL_MAX ? WARM_POOL_MAX : target;
        p->pids_max = pids_max;
        p->memory_max = memory_max;
        p->off = off;
        schedule(p);
}

int warm_pool_new(sd_event *event, cscd_cgroups *cgroups, cgroup_reaper *reaper, int program_fd, bool no_setns,
                  warm_pool **ret) {
        warm_pool *p = calloc(1, sizeof *p);
        if (!p) {
                if (program_fd >= 0)
                        close(program_fd);
                return -ENOMEM;
        }
        p->program_fd = program_fd;
        p->no_setns = no_setns;
        p->event = event;
        p->cgroups = cgroups;
        p->reaper = reaper;
        p->off = "not configured";
        p->host_mntns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        int r = sd_event_add_defer(event, &p->refill, on_refill, p);
        r = r ?: sd_event_source_set_enabled(p->refill, SD_EVENT_OFF);
        /* After the requests of this iteration: a submit never waits for a refill. */
        r = r ?: sd_event_source_set_priority(p->refill, SD_EVENT_PRIORITY_IDLE);
        if (r < 0) {
                warm_pool_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

warm_pool *warm_pool_free(warm_pool *p) {
        if (!p)
                return NULL;
        drain(p, true);
        sd_event_source_disable_unref(p->refill);
        sd_event_source_disable_unref(p->retry);
        if (p->host_mntns >= 0)
                close(p->host_mntns);
        if (p->program_fd >= 0)
                close(p->program_fd);
        free(p);
        return NULL;
}

int warm_pool_take(warm_pool *p, bool own_netns, executor_handle **ret, char dir[PATH_MAX]) {
        int k = own_netns;
        p->last_take_usec[k] = now_usec(p);
        warm_entry *e = p->ready[k];
        if (!e) {
                if (!p->off) {
                        p->served_cold++;
                        schedule(p);
                }
                return -EAGAIN;
        }
        p->ready[k] = e->next;
        p->n_ready[k]--;
        e->child = sd_event_source_disable_unref(e->child);
        *ret = e->h;
        memcpy(dir, e->dir, sizeof e->dir);
        free(e);
        p->served_warm++;
        schedule(p);
        return 0;
}

void warm_pool_stats_get(const warm_pool *p, warm_pool_stats *ret) {
        *ret = (warm_pool_stats){
                .target = p->target, .off = p->off,
                .ready = { p->n_ready[0], p->n_ready[1] }, .want = { want(p, 0), want(p, 1) },
                .served_warm = p->served_warm, .served_cold = p->served_cold, .made = p->made, .lost = p->lost,
        };
}
