/* egress_resolve.c — the resolver thread pool (see egress_resolve.h). The
 * threads share only the two lists below, under one mutex; everything else
 * in a lookup is written by its thread before the lookup is published to the
 * done list and read by the loop after it took it from there. */
#include "egress_resolve.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct egress_resolver {
        pthread_mutex_t lock;
        pthread_cond_t wake;
        egress_lookup *queue, *queue_tail, *done;
        size_t queued;
        bool stop;
        int efd;
        size_t n_threads;
        pthread_t threads[EGRESS_RESOLVERS];
};

static void resolve_one(egress_lookup *l) {
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
        struct addrinfo *res = NULL;
        l->n = 0;
        l->gai_error = getaddrinfo(l->host, NULL, &hints, &res);
        for (struct addrinfo *ai = res; ai && l->n < EGRESS_ADDRS_MAX; ai = ai->ai_next) {
                if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
                    ai->ai_addrlen > sizeof l->addrs[0])
                        continue;
                memset(&l->addrs[l->n], 0, sizeof l->addrs[0]);
                memcpy(&l->addrs[l->n], ai->ai_addr, ai->ai_addrlen);
                l->n++;
        }
        if (res)
                freeaddrinfo(res);
        if (l->gai_error == 0 && l->n == 0)
                l->gai_error = EAI_NODATA;
}

static void *worker(void *arg) {
        egress_resolver *r = arg;
        pthread_mutex_lock(&r->lock);
        for (;;) {
                while (!r->stop && !r->queue)
                        pthread_cond_wait(&r->wake, &r->lock);
                if (r->stop)
                        break;
                egress_lookup *l = r->queue;
                r->queue = l->next;
                if (!r->queue)
                        r->queue_tail = NULL;
                r->queued--;
                pthread_mutex_unlock(&r->lock);
                resolve_one(l);
                pthread_mutex_lock(&r->lock);
                l->next = r->done;
                r->done = l;
                uint64_t one = 1;
                /* an eventfd write only fails at a counter near 2^64 */
                (void) !write(r->efd, &one, sizeof one);
        }
        pthread_mutex_unlock(&r->lock);
        return NULL;
}

static void free_list(egress_lookup *l) {
        while (l) {
                egress_lookup *next = l->next;
                free(l);
                l = next;
        }
}

egress_resolver *egress_resolver_free(egress_resolver *r) {
        if (!r)
                return NULL;
        pthread_mutex_lock(&r->lock);
        r->stop = true;
        pthread_cond_broadcast(&r->wake);
        pthread_mutex_unlock(&r->lock);
        for (size_t i = 0; i < r->n_threads; i++)
                pthread_join(r->threads[i], NULL);
        free_list(r->queue);
        free_list(r->done);
        if (r->efd >= 0)
                close(r->efd);
        pthread_cond_destroy(&r->wake);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return NULL;
}

int egress_resolver_new(egress_resolver **ret, int *ret_fd) {
        egress_resolver *r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        pthread_mutex_init(&r->lock, NULL);
        pthread_cond_init(&r->wake, NULL);
        r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (r->efd < 0) {
                int e = -errno;
                egress_resolver_free(r);
                return e;
        }
        for (size_t i = 0; i < EGRESS_RESOLVERS; i++) {
                int e = pthread_create(&r->threads[i], NULL, worker, r);
                if (e != 0) {
                        egress_resolver_free(r);
                        return -e;
                }
                r->n_threads++;
        }
        *ret = r;
        *ret_fd = r->efd;
        return 0;
}

int egress_resolver_submit(egress_resolver *r, egress_lookup *l) {
        pthread_mutex_lock(&r->lock);
        if (r->queued >= EGRESS_RESOLVE_QUEUE_MAX) {
                pthread_mutex_unlock(&r->lock);
                return -EBUSY;
        }
        l->next = NULL;
        if (r->queue_tail)
                r->queue_tail->next = l;
        else
                r->queue = l;
        r->queue_tail = l;
        r->queued++;
        pthread_cond_signal(&r->wake);
        pthread_mutex_unlock(&r->lock);
        return 0;
}

egress_lookup *egress_resolver_take(egress_resolver *r) {
        uint64_t count;
        (void) !read(r->efd, &count, sizeof count);
        pthread_mutex_lock(&r->lock);
        egress_lookup *l = r->done;
        r->done = NULL;
        pthread_mutex_unlock(&r->lock);
        return l;
}
