/* peer.c — SO_PEERCRED/SO_PEERGROUPS and the config's submit/admin lists. */
#include "peer.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int cscd_peer_from_fd(int fd, cscd_peer **ret) {
        struct ucred cred;
        socklen_t len = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -errno;
        if (cred.pid <= 0)
                return -EPERM;   /* a peer without credentials (another namespace) */
        cscd_peer *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->pid = cred.pid;
        p->uid = cred.uid;
        p->gid = cred.gid;
        socklen_t glen = 64 * sizeof(gid_t);
        for (;;) {
                gid_t *g = realloc(p->groups, glen);
                if (!g) {
                        cscd_peer_free(p);
                        return -ENOMEM;
                }
                p->groups = g;
                socklen_t l = glen;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &l) == 0) {
                        p->n_groups = l / sizeof(gid_t);
                        break;
                }
                if (errno != ERANGE || l <= glen) {
                        int r = -errno;
                        cscd_peer_free(p);
                        return r;
                }
                glen = l;
        }
        char buf[4096];
        struct passwd pw, *res = NULL;
        if (getpwuid_r(p->uid, &pw, buf, sizeof buf, &res) == 0 && res) {
                p->user_name = strdup(pw.pw_name);
                if (!p->user_name) {
                        cscd_peer_free(p);
                        return -ENOMEM;
                }
        }
        *ret = p;
        return 0;
}

cscd_peer *cscd_peer_free(cscd_peer *p) {
        if (p) {
                free(p->groups);
                free(p->user_name);
                free(p);
        }
        return NULL;
}

static bool in_groups(const cscd_peer *p, const cscd_strlist *names) {
        for (size_t i = 0; i < names->n; i++) {
                char buf[8192];
                struct group gr, *res = NULL;
                if (getgrnam_r(names->v[i], &gr, buf, sizeof buf, &res) != 0 || !res)
                        continue;
                if (p->gid == res->gr_gid)
                        return true;
                for (size_t k = 0; k < p->n_groups; k++)
                        if (p->groups[k] == res->gr_gid)
                                return true;
        }
        return false;
}

static bool listed(const cscd_peer *p, const cscd_strlist *users, const cscd_strlist *groups) {
        return (p->user_name && cscd_strlist_has(users, p->user_name)) || in_groups(p, groups);
}

unsigned cscd_peer_roles(const cscd_peer *p, const cscd_config *c) {
        unsigned roles = 0;
        if (p->uid == 0 || listed(p, &c->admin_users, &c->admin_groups))
                roles |= CSCD_ROLE_ADMIN;
        if (p->uid == 0) {
                if (c->allow_root_submit)
                        roles |= CSCD_ROLE_SUBMIT;
        } else if ((c->submit_users.n == 0 && c->submit_groups.n == 0) ||
                   listed(p, &c->submit_users, &c->submit_groups)) {
                roles |= CSCD_ROLE_SUBMIT;
        }
        return roles;
}
