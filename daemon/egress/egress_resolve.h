/* egress_resolve.h — name resolution off the event loop: a fixed pool of
 * EGRESS_RESOLVERS threads running getaddrinfo(), started before the seccomp
 * filter is loaded, with a bounded queue and an eventfd that tells the loop
 * when lookups are done.
 *
 * Why threads and not getaddrinfo_a(): getaddrinfo_a starts its helper
 * threads lazily (clone3 after the filter is loaded, which the filter must
 * then allow), reports completion by a signal or a further thread, and has no
 * bound of ours on its queue. A pool made at startup needs no clone at run
 * time, has a queue limit we choose, and completes through one eventfd that
 * sd-event watches like any other descriptor. A lookup nobody waits for any
 * more (its connection closed) is dropped when it completes. */
#pragma once
#include <stddef.h>
#include <sys/socket.h>

#include "egress_proto.h"

typedef struct egress_resolver egress_resolver;

typedef struct egress_lookup {
        struct egress_lookup *next; /* owned by the resolver while submitted */
        void *userdata;             /* the waiting connection; NULL: nobody waits */
        char host[EGRESS_HOST_MAX + 1];
        int gai_error;              /* 0 or an EAI_* code */
        size_t n;                   /* addresses, in resolver order, IPv4/IPv6 only */
        struct sockaddr_storage addrs[EGRESS_ADDRS_MAX];
} egress_lookup;

/* Starts the threads; ret_fd is the eventfd to watch for EPOLLIN. */
int egress_resolver_new(egress_resolver **ret, int *ret_fd);
/* Stops and joins the threads (waits for running lookups), frees every lookup. */
egress_resolver *egress_resolver_free(egress_resolver *r);
/* Queues l (ownership passes to the resolver until it comes back from
 * egress_resolver_take). -EBUSY when EGRESS_RESOLVE_QUEUE_MAX are waiting. */
int egress_resolver_submit(egress_resolver *r, egress_lookup *l);
/* Reads the eventfd and returns the finished lookups as a list (caller owns). */
egress_lookup *egress_resolver_take(egress_resolver *r);
