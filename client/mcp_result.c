/* mcp_result.c — what an execution looks like to an MCP host: the result
 * object (status, decision, reason, exit code, capped UTF-8 output with full
 * byte counts and digests, the signed receipt), the progress message, and
 * the blocking single-reply requests to cscd. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "canon.h"
#include "frame.h"
#include "csc_limits.h"
#include "mcp_run.h"

#define MCP_REQUEST_WAIT_S 30   /* policy/check replies come at once; do not hang forever */

/* Length of the UTF-8 sequence starting at p (1..4) when valid, else 0. */
static size_t utf8_seq(const unsigned char *p, size_t n) {
        size_t len = p[0] < 0x80 ? 1 : (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
        if (len == 0 || len > n)
                return 0;
        return csc_utf8_valid((const char *) p, len) ? len : 0;
}

int mcp_utf8_append(csc_buf *out, const char *p, size_t n) {
        const unsigned char *u = (const unsigned char *) p;
        for (size_t i = 0; i < n;) {
                size_t run = 0;
                while (i + run < n && u[i + run] < 0x80)   /* fast path for ASCII */
                        run++;
                if (run && csc_buf_append(out, p + i, run) < 0)
                        return -ENOMEM;
                i += run;
                if (i >= n)
                        break;
                size_t k = utf8_seq(u + i, n - i);
                int r = k ? csc_buf_append(out, p + i, k) : csc_buf_append(out, "\xEF\xBF\xBD", 3);
                if (r < 0)
                        return r;
                i += k ? k : 1;
        }
        return 0;
}

/* Moves a cut point off UTF-8 continuation bytes (forward or back). */
static size_t char_boundary(const char *p, size_t n, size_t at, bool forward) {
        for (int i = 0; i < 3 && at > 0 && at < n && ((unsigned char) p[at] & 0xC0) == 0x80; i++)
                at = forward ? at + 1 : at - 1;
        return at;
}

csc_json *mcp_capped_string(csc_json_doc *doc, const char *p, size_t n) {
        csc_buf b = CSC_BUF_INIT;
        int r;
        if (n <= CSC_MCP_OUTPUT_CAP)
                r = mcp_utf8_append(&b, p, n);
        else {
                size_t head = char_boundary(p, n, CSC_MCP_OUTPUT_CAP / 2, false);
                size_t tail = char_boundary(p, n, n - CSC_MCP_OUTPUT_CAP / 2, true);
                r = mcp_utf8_append(&b, p, head);
                r = r ?: csc_buf_printf(&b, "\n[… %zu bytes omitted …]\n", tail - head);
                r = r ?: mcp_utf8_append(&b, p + tail, n - tail);
        }
        csc_json *s = r < 0 ? NULL : csc_json_new_stringn(doc, b.data ? b.data : "", b.len);
        csc_buf_free(&b);
        return s;
}

int mcp_daemon_connect(const char *path, char *e, size_t es) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path) {
                snprintf(e, es, "socket path too long: %s", path);
                return -1;
        }
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                snprintf(e, es, "cannot reach cscd at %s: %s", path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        return fd;
}

int mcp_send_frame(int fd, const csc_json *frame) {
        csc_buf b = CSC_BUF_INIT;
        int r = csc_frame_encode(frame, &b);
        for (size_t off = 0; r >= 0 && off < b.len;) {
                ssize_t n = send(fd, b.data + off, b.len - off, MSG_NOSIGNAL);
                if (n < 0 && errno != EINTR)
                        r = -errno;
                else if (n > 0)
                        off += (size_t) n;
        }
        csc_buf_free(&b);
        return r;
}

int mcp_daemon_request(const char *socket_path, const csc_json *request, csc_json_doc **ret, char *e, size_t es) {
        int fd = mcp_daemon_connect(socket_path, e, es);
        if (fd < 0)
                return 1;
        struct timeval tv = { .tv_sec = MCP_REQUEST_WAIT_S };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        int r = mcp_send_frame(fd, request);
        csc_frame_reader rd;
        csc_frame_reader_init(&rd, CSC_FRAME_MAX_BYTES * 8);
        int got = 0;
        while (r >= 0 && got == 0) {
                char buf[65536];
                ssize_t n = recv(fd, buf, sizeof buf, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = n < 0 ? -errno : -ECONNRESET;
                        break;
                }
                size_t used;   /* one request, one reply: bytes after it are not expected */
                got = csc_frame_reader_feed(&rd, buf, (size_t) n, &used);
                r = got < 0 ? got : 0;
        }
        close(fd);
        if (r < 0) {
                csc_frame_reader_reset(&rd);
                snprintf(e, es, "no reply from cscd: %s", strerror(-r));
                return r == -ENOMEM ? r : 1;
        }
        char *payload;
        size_t len;
        csc_frame_reader_take(&rd, &payload, &len);
        const char *code;
        csc_error err = { 0 };
        r = csc_frame_parse(payload, len, ret, &code, &err);
        free(payload);
        if (r < 0) {
                snprintf(e, es, "bad reply from cscd: %s", err.message);
                return 1;
        }
        return 0;
}
