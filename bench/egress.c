/* egress.c — benchmark mode --egress: the throughput of a CONNECT tunnel
 * through the real cscd-egress against a direct loopback TCP copy of the same
 * bytes, measured in the same run (target: the tunnel at least 50 % of
 * direct). The benchmark plays cscd's side of the control protocol: it
 * starts the proxy on a SOCK_SEQPACKET socketpair, registers one execution
 * allowed to reach the sink, and passes each accepted client connection,
 * with egress_client.c, the code cscd uses. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "egress_client.h"
#include "egress_proto.h"

#define ROUNDS 9
#define CHUNK (256 * 1024)

static int listen_loopback(uint16_t *ret_port) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof a) < 0 || listen(fd, 16) < 0 ||
            getsockname(fd, (struct sockaddr *) &a, &len) < 0) {
                if (fd >= 0)
                        close(fd);
                return -errno;
        }
        *ret_port = ntohs(a.sin_port);
        return fd;
}

static int dial(uint16_t port) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *) &a, sizeof a) < 0) {
                close(fd);
                return -errno;
        }
        return fd;
}

/* The sink: reads each connection to EOF, then answers one byte and closes. */
static void *sink(void *arg) {
        int lfd = *(int *) arg;
        char *buf = malloc(CHUNK);
        for (;;) {
                int c = accept(lfd, NULL, NULL);
                if (c < 0)
                        break;
                while (read(c, buf, CHUNK) > 0)
                        ;
                (void) !write(c, "k", 1);
                close(c);
        }
        free(buf);
        return NULL;
}

/* Sends bytes over fd, half-closes, waits for the sink's answer: MiB/s. */
static double transfer(int fd, size_t bytes) {
        static char buf[CHUNK];
        double t0 = (bench_now_ns() / 1e9);
        for (size_t sent = 0; sent < bytes;) {
                ssize_t n = write(fd, buf, bytes - sent < CHUNK ? bytes - sent : CHUNK);
                if (n <= 0)
                        return -1;
                sent += (size_t) n;
        }
        shutdown(fd, SHUT_WR);
        char k;
        if (read(fd, &k, 1) != 1)
                return -1;
        return (double) bytes / (1 << 20) / ((bench_now_ns() / 1e9) - t0);
}

/* One tunnel: connect to the execution's listener, pass the accepted end to
 * the proxy, CONNECT to the sink, move the bytes. */
static double tunnel(int ctl, int lfd, uint16_t lport, uint16_t sink_port, size_t bytes) {
        int c = dial(lport), a = c >= 0 ? accept(lfd, NULL, NULL) : -1;
        egress_msg m = { .type = EGRESS_MSG_CONN };
        snprintf(m.exec_id, sizeof m.exec_id, "bench");
        if (a < 0 || egress_client_send(ctl, &m, a) < 0) {
                if (c >= 0)
                        close(c);
                return -1;
        }
        close(a);
        char req[128], head[256] = "";   /* never the previous round's answer */
        int n = snprintf(req, sizeof req, "CONNECT 127.0.0.1:%u HTTP/1.1\r\n\r\n", sink_port);
        size_t got = 0;
        if (write(c, req, (size_t) n) != n)
                got = sizeof head;
        while (got < sizeof head - 1 && !strstr(head, "\r\n\r\n")) {
                ssize_t k = read(c, head + got, sizeof head - 1 - got);
                if (k <= 0)
                        break;
                got += (size_t) k;
                head[got] = 0;
        }
        double r = got < sizeof head && strncmp(head, "HTTP/1.1 200", 12) == 0 ? transfer(c, bytes) : -1;
        close(c);
        return r;
}

/* CPU seconds (user + system) the process has used so far. */
static double cpu_seconds(pid_t pid) {
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
                fclose(f);
        buf[n] = 0;
        char *p = strrchr(buf, ')'); /* the command name may contain spaces */
        unsigned long ut = 0, st = 0;
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
                return -1;
        return (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
}

static int drain_reports(int ctl) {
        uint8_t *buf = malloc(EGRESS_MSG_MAX);
        while (buf && recv(ctl, buf, EGRESS_MSG_MAX, MSG_DONTWAIT) > 0)
                ;
        free(buf);
        return 0;
}

int bench_egress(const char *proxy, int mib, FILE *json) {
        uint16_t sink_port, lport;
        int sfd = listen_loopback(&sink_port), lfd = listen_loopback(&lport), ctl = -1;
        pthread_t th;
        if (sfd < 0 || lfd < 0 || pthread_create(&th, NULL, sink, &sfd) != 0) {
                fprintf(stderr, "csc-bench: cannot set up loopback sockets\n");
                return 1;
        }
        pid_t pid;
        int r = egress_client_spawn(proxy, geteuid() == 0 ? "nobody" : NULL, 10000, &pid, &ctl);
        if (r < 0) {
                fprintf(stderr, "csc-bench: cannot start %s: %s\n", proxy, strerror(-r));
                return 1;
        }
        egress_msg *m = calloc(1, sizeof *m);
        m->type = EGRESS_MSG_CONFIG;
        m->config.n = 1;
        m->config.cidrs[0] = (egress_cidr) { .family = 4, .prefix = 8, .addr = { 127 } };
        egress_client_send(ctl, m, -1);
        memset(m, 0, sizeof *m);
        m->type = EGRESS_MSG_EXEC_BEGIN;
        snprintf(m->exec_begin.exec_id, sizeof m->exec_begin.exec_id, "bench");
        m->exec_begin.max_conns = EGRESS_CONNS_MAX;
        m->exec_begin.idle_timeout_ms = 60000;
        m->exec_begin.n_hosts = 1;
        snprintf(m->exec_begin.hosts[0], sizeof m->exec_begin.hosts[0], "127.0.0.1:%u", sink_port);
        egress_client_send(ctl, m, -1);
        free(m);
        size_t bytes = (size_t) mib << 20;
        double direct[ROUNDS], tun[ROUNDS], cpu0 = cpu_seconds(pid);
        int bad = 0;
        for (int i = 0; i < ROUNDS; i++) { /* interleaved, so both see the same machine load */
                int d = dial(sink_port);
                direct[i] = d >= 0 ? transfer(d, bytes) : -1;
                if (d >= 0)
                        close(d);
                tun[i] = tunnel(ctl, lfd, lport, sink_port, bytes);
                drain_reports(ctl);
                bad += direct[i] < 0 || tun[i] < 0;
        }
        double cpu = cpu_seconds(pid) - cpu0, gib = (double) bytes * ROUNDS / (1 << 30);
        close(ctl);
        waitpid(pid, NULL, 0);
        shutdown(sfd, SHUT_RDWR);
        pthread_join(th, NULL);
        close(sfd);
        close(lfd);
        if (bad) {
                fprintf(stderr, "csc-bench: %d of %d egress rounds failed\n", bad, ROUNDS);
                return 1;
        }
        qsort(direct, ROUNDS, sizeof *direct, bench_cmp_double);
        qsort(tun, ROUNDS, sizeof *tun, bench_cmp_double);
        double ratio = tun[ROUNDS / 2] / direct[ROUNDS / 2];
        printf("(f) egress: CONNECT tunnel through cscd-egress vs direct loopback TCP, %d MiB x %d rounds (median)\n",
               mib, ROUNDS);
        printf("    direct loopback copy      %10.0f MiB/s\n", direct[ROUNDS / 2]);
        printf("    CONNECT tunnel            %10.0f MiB/s\n", tun[ROUNDS / 2]);
        printf("    tunnel / direct           %10.0f %%   (target >= 50 %%: %s)\n", ratio * 100,
               ratio >= 0.5 ? "met" : "NOT met");
        printf("    proxy CPU per GiB relayed %10.3f s   (%.0f %% of one core at the tunnel's rate)\n", cpu / gib,
               cpu / gib * tun[ROUNDS / 2] / 1024 * 100);
        if (json)
                fprintf(json, "\"egress\":{\"mib\":%d,\"rounds\":%d,\"direct_mib_s\":%.1f,\"tunnel_mib_s\":%.1f,"
                              "\"ratio\":%.3f,\"target_ratio\":0.5,\"proxy_cpu_s_per_gib\":%.3f}",
                        mib, ROUNDS, direct[ROUNDS / 2], tun[ROUNDS / 2], ratio, cpu / gib);
        return 0;
}
