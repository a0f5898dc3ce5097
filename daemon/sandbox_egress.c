/* sandbox_egress.c — loopback, the listener and the environment of an
 * allowlisted sandbox (see sandbox_egress.h). Runs in the executor before any
 * command: no allocation beyond libc's socket calls, no daemon state. */
#include "sandbox_egress.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

bool sandbox_egress_wanted(const csc_contract *ct) {
        for (size_t i = 0; i < ct->n_commands; i++)
                if (ct->commands[i].network == CSC_NET_ALLOWLISTED)
                        return true;
        return false;
}

int sandbox_egress_gate(const csc_contract *ct, bool unavailable, char *why, size_t why_size) {
        if (!sandbox_egress_wanted(ct))
                return 0;
        if (unavailable) {
                snprintf(why, why_size, "network 'allowlisted' is unavailable: cscd runs without CAP_NET_ADMIN "
                         "(see 'cscctl status', sandbox layers)");
                return 1;
        }
        for (size_t i = 0; i < ct->n_commands; i++)
                if (ct->commands[i].network == CSC_NET_FULL) {
                        snprintf(why, why_size, "command '%s' asks for network 'full' and another command for "
                                 "'allowlisted': one contract's commands share one network namespace, so it cannot "
                                 "have both (submit them as two contracts)", ct->commands[i].id);
                        return 1;
                }
        return 0;
}

static int loopback_up(void) {
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return -errno;
        struct ifreq ifr = { 0 };
        memcpy(ifr.ifr_name, "lo", 3);
        int r = ioctl(s, SIOCGIFFLAGS, &ifr);
        if (r == 0 && !(ifr.ifr_flags & IFF_UP)) {
                ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
                r = ioctl(s, SIOCSIFFLAGS, &ifr);
        }
        r = r < 0 ? -errno : 0;
        close(s);
        return r;
}

static int listen_on(int family, const void *addr, socklen_t len) {
        int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return -errno;
        int one = 1;
        if ((family == AF_INET6 && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) ||
            setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 || bind(s, addr, len) < 0 ||
            listen(s, CSCD_EGRESS_BACKLOG) < 0) {
                int r = -errno;
                close(s);
                return r;
        }
        return s;
}

int sandbox_egress_listen(int fds[2]) {
        fds[0] = fds[1] = -1;
        int r = loopback_up();
        if (r < 0)
                return r;
        struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons(CSCD_EGRESS_PORT),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        fds[0] = listen_on(AF_INET, &v4, sizeof v4);
        if (fds[0] < 0) {
                r = fds[0];
                fds[0] = -1;
                return r;
        }
        struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons(CSCD_EGRESS_PORT),
                                   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
        int s6 = listen_on(AF_INET6, &v6, sizeof v6);
        /* No IPv6 in this kernel or namespace: 127.0.0.1 alone. Anything else is a failure. */
        if (s6 < 0 && s6 != -EAFNOSUPPORT && s6 != -EADDRNOTAVAIL) {
                close(fds[0]);
                fds[0] = -1;
                return s6;
        }
        fds[1] = s6 < 0 ? -1 : s6;
        return 0;
}

#define PROXY_HTTP "http://127.0.0.1:3128"
#define PROXY_SOCKS "socks5h://127.0.0.1:3128"
_Static_assert(CSCD_EGRESS_PORT == 3128, "the proxy URLs name the port");

const sandbox_egress_var *sandbox_egress_env(void) {
        static const sandbox_egress_var vars[] = {
                { "HTTP_PROXY", PROXY_HTTP },        { "HTTPS_PROXY", PROXY_HTTP },
                { "http_proxy", PROXY_HTTP },        { "https_proxy", PROXY_HTTP },
                { "npm_config_proxy", PROXY_HTTP },  { "npm_config_https_proxy", PROXY_HTTP },
                { "PIP_PROXY", PROXY_HTTP },         { "ALL_PROXY", PROXY_SOCKS },
                { "all_proxy", PROXY_SOCKS },        { "NO_PROXY", "localhost,127.0.0.1,::1" },
                { "no_proxy", "localhost,127.0.0.1,::1" }, { NULL, NULL },
        };
        return vars;
}
