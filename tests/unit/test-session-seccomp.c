/* test-session-seccomp.c — cscd-session's seccomp program (built by
 * session_filter_gen.c) lets a session do its work and kills it for
 * anything else: a socket, an exec, a new directory. No root needed. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "session_seccomp.h"
#include "tap.h"

enum { TRY_WORK, TRY_SOCKET, TRY_EXEC, TRY_MKDIR };

/* The status of a child that installs the filter, then tries one thing. */
static int run(int what) {
        pid_t pid = fork();
        if (pid == 0) {
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || session_seccomp_install() < 0)
                        _exit(90);
                int sv[2];
                switch (what) {
                case TRY_WORK: {
                        /* What a session does: a pipe it already has, poll-free reads and writes. */
                        char buf[4] = "ok";
                        void *p = malloc(1 << 20);   /* mmap */
                        free(p);
                        _exit(write(STDOUT_FILENO, "", 0) == 0 && buf[0] == 'o' ? 0 : 91);
                }
                case TRY_SOCKET:
                        (void) socket(AF_INET, SOCK_STREAM, 0);
                        (void) socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
                        _exit(92);
                case TRY_EXEC: {
                        char *argv[] = { (char *) "/bin/true", NULL };
                        execv("/bin/true", argv);
                        _exit(93);
                }
                case TRY_MKDIR:
                        (void) mkdir("/tmp/csc-session-seccomp-test", 0700);
                        _exit(94);
                }
                _exit(95);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        return st;
}

int main(void) {
        int st = run(TRY_WORK);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a session's own work: status %#x", st);
        const struct {
                int what;
                const char *name;
        } refused[] = { { TRY_SOCKET, "socket" }, { TRY_EXEC, "execve" }, { TRY_MKDIR, "mkdir" } };
        for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
                st = run(refused[i].what);
                CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "%s: status %#x (want killed by SIGSYS)",
                      refused[i].name, st);
        }
        return tap_done("session seccomp");
}
