/* cgroup_reap.c — execution cgroups removed from timers (see cgroup_reap.h). */
#include "cgroup_reap.h"

#include <errno.h>
#include <linux/limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

typedef struct pending {
        struct pending *next, *prev;
        cgroup_reaper *reaper;
        sd_event_source *timer;
        unsigned tries;
        uint64_t delay;
        char dir[PATH_MAX];
} pending;

struct cgroup_reaper {
        sd_event *event;
        pending *list;
        size_t n;
};

/* 0: gone (or never there), -EBUSY: still populated, another -errno: give up. */
static int try_remove(const char *dir) {
        return rmdir(dir) == 0 || errno == ENOENT ? 0 : -errno;
}

static void pending_free(pending *p) {
        cgroup_reaper *r = p->reaper;
        sd_event_source_disable_unref(p->timer);
        if (p->prev)
                p->prev->next = p->next;
        else
                r->list = p->next;
        if (p->next)
                p->next->prev = p->prev;
        r->n--;
        free(p);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        pending *p = userdata;
        int r = try_remove(p->dir);
        if (r == -EBUSY && ++p->tries < CGROUP_REAP_TRIES) {
                p->delay = p->delay * 2 > CGROUP_REAP_MAX_DELAY_USEC ? CGROUP_REAP_MAX_DELAY_USEC : p->delay * 2;
                if (sd_event_source_set_time_relative(p->timer, p->delay) >= 0 &&
                    sd_event_source_set_enabled(p->timer, SD_EVENT_ONESHOT) >= 0)
                        return 0;
        }
        if (r < 0)
                log_warning("cannot remove the execution cgroup %s: %s; left in place", p->dir, strerror(-r));
        pending_free(p);
        return 0;
}

int cgroup_reaper_new(sd_event *ev, cgroup_reaper **ret) {
        cgroup_reaper *r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->event = sd_event_ref(ev);
        *ret = r;
        return 0;
}

cgroup_reaper *cgroup_reaper_free(cgroup_reaper *r) {
        if (!r)
                return NULL;
        while (r->list) {
                (void)try_remove(r->list->dir);
                pending_free(r->list);
        }
        sd_event_unref(r->event);
        free(r);
        return NULL;
}

void cgroup_reaper_remove(cgroup_reaper *r, const char *dir) {
        int q = try_remove(dir);
        if (q != -EBUSY || !r) {
                if (q < 0)
                        log_warning("cannot remove the execution cgroup %s: %s; left in place", dir, strerror(-q));
                return;
        }
        pending *p = calloc(1, sizeof *p);
        if (!p || snprintf(p->dir, sizeof p->dir, "%s", dir) >= (int)sizeof p->dir ||
            sd_event_add_time_relative(r->event, &p->timer, CLOCK_MONOTONIC, CGROUP_REAP_FIRST_DELAY_USEC, 0, on_retry,
                                       p) < 0) {
                log_warning("cannot schedule the removal of the execution cgroup %s; left in place", dir);
                if (p)
                        sd_event_source_disable_unref(p->timer);
                free(p);
                return;
        }
        p->reaper = r;
        p->delay = CGROUP_REAP_FIRST_DELAY_USEC;
        p->next = r->list;
        if (r->list)
                r->list->prev = p;
        r->list = p;
        r->n++;
}

size_t cgroup_reaper_pending(const cgroup_reaper *r) {
        return r ? r->n : 0;
}
