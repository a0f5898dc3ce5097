/* peer.h — who is on the other end of a connection (SO_PEERCRED), and what
 * that peer may ask for. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"

enum { CSCD_ROLE_SUBMIT = 1 << 0, CSCD_ROLE_ADMIN = 1 << 1 };

typedef struct cscd_peer {
        pid_t pid;
        uid_t uid;
        gid_t gid;
        gid_t *groups;           /* the peer process's supplementary groups (SO_PEERGROUPS) */
        size_t n_groups;
        char *user_name;         /* NULL when the uid has no passwd entry */
} cscd_peer;

/* What the journal and receipts.jsonl record about a peer. */
typedef struct cscd_peer_info {
        uid_t uid;
        gid_t gid;
        pid_t pid;
} cscd_peer_info;

int cscd_peer_from_fd(int fd, cscd_peer **ret);
cscd_peer *cscd_peer_free(cscd_peer *p);
/* CSCD_ROLE_* bits the config grants this peer. */
unsigned cscd_peer_roles(const cscd_peer *p, const cscd_config *c);
