/* test-egress-client.c — cscd's side of the control protocol over a real
 * SOCK_SEQPACKET socketpair: a CONN carries its descriptor, replies decode,
 * a reply with a descriptor or garbage is refused (and the descriptor
 * closed), EOF is reported; and, given the proxy's path, a real spawn:
 * READY, an execution registered and ended, EXEC_DONE back. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "egress_client.h"
#include "tap.h"

static egress_msg msg;

static void test_pair(void) {
        int sv[2], p[2];
        CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0 && pipe(p) == 0, "socketpair");
        egress_msg conn = { .type = EGRESS_MSG_CONN };
        snprintf(conn.exec_id, sizeof conn.exec_id, "exec-7");
        CHECK(egress_client_send(sv[0], &conn, p[1]) == 0, "send CONN with a descriptor");
        close(p[1]);
        /* the proxy's end: one datagram, one descriptor, which is the pipe */
        uint8_t buf[256];
        union {
                struct cmsghdr align;
                char b[CMSG_SPACE(sizeof(int))];
        } control;
        struct iovec iov = { buf, sizeof buf };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof control };
        ssize_t n = recvmsg(sv[1], &mh, 0);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        int fd = -1;
        if (cm && cm->cmsg_type == SCM_RIGHTS)
                memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        CHECK(n > 0 && egress_msg_decode(buf, (size_t) n, &msg, NULL) == 0 && msg.type == EGRESS_MSG_CONN &&
                      strcmp(msg.exec_id, "exec-7") == 0,
              "CONN decodes on the other side");
        CHECK(fd >= 0 && write(fd, "x", 1) == 1, "the descriptor arrived");
        char c;
        CHECK(read(p[0], &c, 1) == 1 && c == 'x', "and is the same pipe");
        close(fd);
        close(p[0]);
        /* replies */
        egress_msg rep = { .type = EGRESS_MSG_REPORT };
        snprintf(rep.report.exec_id, sizeof rep.report.exec_id, "exec-7");
        rep.report.verdict = EGRESS_VERDICT_ALLOWED;
        rep.report.bytes_down = 42;
        CHECK(egress_client_send(sv[1], &rep, -1) == 0 && egress_client_recv(sv[0], &msg) == 0 &&
                      msg.type == EGRESS_MSG_REPORT && msg.report.bytes_down == 42,
              "REPORT received");
        CHECK(pipe(p) == 0 && egress_client_send(sv[1], &rep, p[1]) == 0, "a reply with a descriptor");
        close(p[1]);
        CHECK(egress_client_recv(sv[0], &msg) == -EBADMSG, "is refused");
        CHECK(read(p[0], &c, 1) == 0, "and its descriptor closed (the pipe sees EOF)");
        close(p[0]);
        CHECK(send(sv[1], "\0\x81\0\0\0\0\0\x09x", 9, 0) == 9 && egress_client_recv(sv[0], &msg) == -EBADMSG,
              "a short REPORT is refused");
        fcntl(sv[0], F_SETFL, O_NONBLOCK);
        CHECK(egress_client_recv(sv[0], &msg) == -EAGAIN, "nothing pending");
        close(sv[1]);
        CHECK(egress_client_recv(sv[0], &msg) == -ECONNRESET, "EOF");
        CHECK(egress_client_send(sv[0], &rep, -1) == -EPIPE, "send after the peer closed");
        close(sv[0]);
}

static void test_spawn(const char *proxy) {
        pid_t pid;
        int ctl;
        CHECK(egress_client_spawn("/bin/false", NULL, 5000, &pid, &ctl) == -ECHILD, "a program that exits");
        CHECK(egress_client_spawn("/nonexistent/cscd-egress", NULL, 5000, &pid, &ctl) == -ECHILD, "no such program");
        if (!proxy)
                return;
        int r = egress_client_spawn(proxy, geteuid() == 0 ? "nobody" : NULL, 10000, &pid, &ctl);
        CHECK(r == 0, "spawn %s: %s", proxy, strerror(-r));
        if (r < 0)
                return;
        egress_msg *m = calloc(1, sizeof *m);
        m->type = EGRESS_MSG_EXEC_BEGIN;
        snprintf(m->exec_begin.exec_id, sizeof m->exec_begin.exec_id, "e1");
        m->exec_begin.max_conns = 1;
        m->exec_begin.idle_timeout_ms = 1000;
        CHECK(egress_client_send(ctl, m, -1) == 0, "EXEC_BEGIN");
        memset(m, 0, sizeof *m);
        m->type = EGRESS_MSG_EXEC_END;
        snprintf(m->exec_id, sizeof m->exec_id, "e1");
        CHECK(egress_client_send(ctl, m, -1) == 0, "EXEC_END");
        CHECK(egress_client_recv(ctl, m) == 0 && m->type == EGRESS_MSG_EXEC_DONE && strcmp(m->exec_done.exec_id, "e1") == 0 &&
                      m->exec_done.allowed == 0 && m->exec_done.denied == 0,
              "EXEC_DONE for an execution without connections");
        free(m);
        close(ctl);
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "the proxy exits 0 when the control socket closes (status %#x)", status);
}

int main(int argc, char **argv) {
        signal(SIGPIPE, SIG_IGN);
        test_pair();
        test_spawn(argc > 1 ? argv[1] : NULL);
        return tap_done("egress client");
}
