/* test-conn.c — the connection layer (conn.c) over socketpair(), with no
 * daemon and no session process: the test plays the session, writing
 * monitor-protocol messages on its end and reading the reply frames there,
 * while conn.c holds the other end and reports to hooks the test records.
 * Covers dispatching a whole request, a refusal (error frame, then close),
 * a malformed message (close, nothing said), the frame deadline, the idle
 * timeout, a hang-up, the write queue's back-pressure and hard cap, and
 * `busy` on a refused socket. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "csc_limits.h"
#include "frame.h"
#include "mon_proto.h"
#include "peer.h"
#include "tap.h"

typedef struct fixture {
        sd_event *event;
        cscd_config *config;
        conn_set set;
        int session_fd;           /* the test's end: it plays the session */
        csc_frame_reader frames;  /* reply frames read from session_fd */
        unsigned n_requests, n_refused, n_busy;
        mon_request last_type;
        size_t last_bytes;
        char last_code[64];
} fixture;

static int on_request(void *userdata, conn *c, mon_request type, csc_json_doc *doc) {
        fixture *f = userdata;
        f->n_requests++;
        f->last_type = type;
        f->last_bytes = conn_request_bytes(c);
        csc_json_doc_free(doc);
        csc_json_doc *reply = csc_json_doc_new();
        csc_json *o = reply ? csc_json_new_object(reply) : NULL;
        int r = o ? csc_json_object_set(reply, o, "type", csc_json_new_string(reply, "status")) : -ENOMEM;
        r = r ?: conn_send(c, o);
        csc_json_doc_free(reply);
        return r;
}

static void on_refused(void *userdata, const cscd_peer *peer, const char *code, const char *message) {
        fixture *f = userdata;
        f->n_refused++;
        snprintf(f->last_code, sizeof f->last_code, "%s", code);
}

static void on_busy(void *userdata) {
        fixture *f = userdata;
        f->n_busy++;
}

/* No submit runs in these tests: the execution and queue hooks must stay unused. */
static void exec_set_paused(execution *e, bool paused) {
        abort();
}

static bool exec_receipt_pending(const execution *e) {
        abort();
}

static void exec_cancel(execution *e, const char *why) {
        abort();
}

static void queued_drop(queued_submit *q, const char *why) {
        abort();
}

static const conn_hooks hooks = {
        .request = on_request,
        .refused = on_refused,
        .busy = on_busy,
        .exec_set_paused = exec_set_paused,
        .exec_receipt_pending = exec_receipt_pending,
        .exec_cancel = exec_cancel,
        .queued_drop = queued_drop,
};

/* A connection over one end of a socketpair; the test keeps the other. */
static int fixture_init(fixture *f, unsigned frame_timeout_ms, unsigned idle_timeout_ms) {
        *f = (fixture) { .session_fd = -1 };
        int sv[2];
        if (sd_event_new(&f->event) < 0 || cscd_config_defaults(&f->config) < 0 ||
            socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
                return -1;
        f->config->frame_timeout_ms = frame_timeout_ms;
        f->config->idle_timeout_ms = idle_timeout_ms;
        f->set = (conn_set) { .event = f->event, .config = &f->config, .session_program_fd = -1,
                              .hooks = &hooks, .userdata = f };
        f->session_fd = sv[1];
        csc_frame_reader_init(&f->frames, 1u << 20);
        cscd_peer *peer = NULL;
        conn *c;
        if (cscd_peer_from_fd(sv[0], &peer) < 0 || conn_new_on_fd(&f->set, peer, sv[0], &c) < 0) {
                cscd_peer_free(peer);
                close(sv[0]);
                return -1;
        }
        return 0;
}

static void fixture_done(fixture *f) {
        while (f->set.head)
                conn_free(f->set.head);
        if (f->session_fd >= 0)
                close(f->session_fd);
        csc_frame_reader_reset(&f->frames);
        cscd_config_free(f->config);
        sd_event_unref(f->event);
}

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

/* Runs the loop for ms milliseconds, or until done(f) holds. */
static void pump(fixture *f, unsigned ms, bool (*done)(const fixture *f)) {
        uint64_t end = now_ms() + ms;
        while (now_ms() < end && !(done && done(f)))
                (void) sd_event_run(f->event, 10 * 1000);
}

static bool conn_gone(const fixture *f) {
        return f->set.n == 0;
}

static bool got_request(const fixture *f) {
        return f->n_requests > 0;
}

static int send_msg(fixture *f, const csc_buf *b) {
        return write(f->session_fd, b->data, b->len) == (ssize_t) b->len ? 0 : -1;
}

/* The next reply frame on the session's end, parsed; NULL when none is there. */
static csc_json_doc *read_frame(fixture *f) {
        for (;;) {
                char byte;
                ssize_t n = recv(f->session_fd, &byte, 1, MSG_DONTWAIT);
                if (n != 1)
                        return NULL;
                size_t used;
                if (csc_frame_reader_feed(&f->frames, &byte, 1, &used) != 1)
                        continue;
                char *payload;
                size_t len;
                csc_frame_reader_take(&f->frames, &payload, &len);
                csc_json_doc *doc = NULL;
                const char *code;
                csc_error err = { 0 };
                int r = csc_frame_parse(payload, len, &doc, &code, &err);
                free(payload);
                return r < 0 ? NULL : doc;
        }
}

static const char *str_of(csc_json_doc *doc, const char *key) {
        const csc_json *v = doc ? csc_json_get(csc_json_doc_root(doc), key) : NULL;
        return v && v->type == CSC_JSON_STRING ? v->string.ptr : "";
}

/* The session's end sees end of file: conn.c closed its side. */
static bool session_sees_eof(fixture *f) {
        struct pollfd p = { .fd = f->session_fd, .events = POLLIN };
        char byte;
        return poll(&p, 1, 1000) == 1 && recv(f->session_fd, &byte, 1, MSG_DONTWAIT) == 0;
}

static void test_request(void) {
        fixture f;
        CHECK(fixture_init(&f, 5000, 60000) == 0, "set up");
        csc_json_doc *req = NULL;
        csc_error err = { 0 };
        CHECK(csc_json_parse("{\"type\":\"status\"}", 17, &req, &err) == 0, "parse");
        csc_buf b = CSC_BUF_INIT;
        CHECK(mon_put_frame_begin(&b) == 0 && mon_put_request(&b, MON_REQ_STATUS, 21, csc_json_doc_root(req)) == 0,
              "encode");
        CHECK(send_msg(&f, &b) == 0, "write");
        pump(&f, 2000, got_request);
        CHECK(f.n_requests == 1 && f.last_type == MON_REQ_STATUS, "%u requests, type %d", f.n_requests, f.last_type);
        CHECK(f.last_bytes == 21, "the client's frame length: %zu", f.last_bytes);
        csc_json_doc *reply = read_frame(&f);
        CHECK(strcmp(str_of(reply, "type"), "status") == 0, "the reply frame reaches the session's end");
        CHECK(f.set.n == 1 && f.n_refused == 0, "the connection stays open");
        csc_json_doc_free(reply);
        csc_json_doc_free(req);
        csc_buf_free(&b);
        fixture_done(&f);
}

static void test_refusal(void) {
        fixture f;
        CHECK(fixture_init(&f, 5000, 60000) == 0, "set up");
        csc_buf b = CSC_BUF_INIT;
        CHECK(mon_put_refuse(&b, MON_REFUSE_BAD_JSON, "invalid JSON at line 1 column 2", "") == 0, "encode");
        CHECK(send_msg(&f, &b) == 0, "write");
        pump(&f, 2000, conn_gone);
        CHECK(conn_gone(&f), "a refused client is closed once the error is out");
        CHECK(f.n_refused == 1 && strcmp(f.last_code, "bad_json") == 0, "refused hook: %u, %s", f.n_refused,
              f.last_code);
        csc_json_doc *reply = read_frame(&f);
        CHECK(strcmp(str_of(reply, "type"), "error") == 0 && strcmp(str_of(reply, "code"), "bad_json") == 0 &&
                      strcmp(str_of(reply, "message"), "invalid JSON at line 1 column 2") == 0,
              "the error frame: %s %s", str_of(reply, "code"), str_of(reply, "message"));
        CHECK(session_sees_eof(&f), "then end of file");
        CHECK(f.n_requests == 0, "no request dispatched");
        csc_json_doc_free(reply);
        csc_buf_free(&b);
        fixture_done(&f);
}

static void test_malformed(void) {
        fixture f;
        CHECK(fixture_init(&f, 5000, 60000) == 0, "set up");
        /* An unknown kind: the session is not the program we started. */
        uint32_t bad[3] = { 99, 0, 0 };
        CHECK(write(f.session_fd, bad, sizeof bad) == (ssize_t) sizeof bad, "write");
        pump(&f, 2000, conn_gone);
        CHECK(conn_gone(&f), "a malformed message ends the connection");
        CHECK(read_frame(&f) == NULL && f.n_refused == 0, "and nothing is said to the peer");
        CHECK(session_sees_eof(&f), "end of file");
        fixture_done(&f);
}

static void test_frame_deadline(void) {
        fixture f;
        CHECK(fixture_init(&f, 100, 60000) == 0, "set up");
        csc_buf b = CSC_BUF_INIT;
        CHECK(mon_put_frame_begin(&b) == 0, "encode");
        CHECK(send_msg(&f, &b) == 0, "write");
        uint64_t start = now_ms();
        pump(&f, 3000, conn_gone);
        uint64_t took = now_ms() - start;
        CHECK(conn_gone(&f), "a frame not completed in time ends the connection");
        CHECK(took >= 90, "not before the deadline (%llu ms)", (unsigned long long) took);
        csc_json_doc *reply = read_frame(&f);
        CHECK(strcmp(str_of(reply, "code"), "bad_frame") == 0 &&
                      strcmp(str_of(reply, "message"), "frame not completed in time") == 0,
              "the error frame: %s %s", str_of(reply, "code"), str_of(reply, "message"));
        CHECK(f.n_refused == 1, "refused hook: %u", f.n_refused);
        csc_json_doc_free(reply);
        csc_buf_free(&b);
        fixture_done(&f);
}

static void test_idle_timeout(void) {
        fixture f;
        CHECK(fixture_init(&f, 5000, 100) == 0, "set up");
        pump(&f, 3000, conn_gone);
        CHECK(conn_gone(&f), "an idle connection is closed");
        CHECK(read_frame(&f) == NULL && f.n_refused == 0, "without an error frame");
        fixture_done(&f);
}

static void test_hang_up(void) {
        fixture f;
        CHECK(fixture_init(&f, 5000, 60000) == 0, "set up");
        close(f.session_fd);
        f.session_fd = -1;
        pump(&f, 2000, conn_gone);
        CHECK(conn_gone(&f), "the session's end closing frees the connection");
        fixture_done(&f);
}

/* Replies the peer does not read: past CSC_CONN_READ_PAUSE_BYTES queued the
 * connection reads no further request; past CSC_CONN_OUT_HARD_CAP_BYTES a
 * reply is refused (-ENOBUFS) and the connection ends. */
static void test_backlog(void) {
        fixture f;
        CHECK(fixture_init(&f, 5000, 60000) == 0, "set up");
        conn *c = f.set.head;
        csc_json_doc *doc = csc_json_doc_new();
        char *big = malloc(60000);
        if (!doc || !big)
                abort();
        memset(big, 'x', 59999);
        big[59999] = 0;
        csc_json *o = csc_json_new_object(doc);
        CHECK(csc_json_object_set(doc, o, "type", csc_json_new_string(doc, "output")) == 0 &&
                      csc_json_object_set(doc, o, "data", csc_json_new_string(doc, big)) == 0,
              "a 60 kB frame");
        int r = 0;
        size_t sent = 0;
        bool was_backlogged = false;
        while (r == 0 && sent < 2 * (size_t) CSC_CONN_OUT_HARD_CAP_BYTES) {
                r = conn_send(c, o);
                sent += 60000;
                was_backlogged |= conn_is_writable_backlogged(c);
        }
        CHECK(was_backlogged, "back-pressure reported past CSC_CONN_OUT_PAUSE_BYTES");
        CHECK(r == -ENOBUFS, "the hard cap refuses a reply: %d after %zu bytes", r, sent);
        CHECK(sent <= (size_t) CSC_CONN_OUT_HARD_CAP_BYTES + 60000 + 4 * 1024 * 1024,
              "not far past the cap plus the socket's buffers: %zu", sent);
        CHECK(conn_send(c, o) == -ECONNRESET, "a broken connection takes nothing more");
        pump(&f, 2000, conn_gone);
        CHECK(conn_gone(&f), "and ends");
        csc_json_doc_free(doc);
        free(big);
        fixture_done(&f);
}

static void test_refuse_busy(void) {
        fixture f;
        CHECK(fixture_init(&f, 5000, 60000) == 0, "set up");
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
        conn_refuse_busy(&f.set, sv[0], "too many connections; retry later");
        close(sv[0]);
        CHECK(f.n_busy == 1, "busy hook: %u", f.n_busy);
        int saved = f.session_fd;
        f.session_fd = sv[1];
        csc_json_doc *reply = read_frame(&f);
        f.session_fd = saved;
        CHECK(strcmp(str_of(reply, "code"), "busy") == 0 &&
                      strcmp(str_of(reply, "message"), "too many connections; retry later") == 0,
              "the busy frame: %s %s", str_of(reply, "code"), str_of(reply, "message"));
        csc_json_doc_free(reply);
        close(sv[1]);
        fixture_done(&f);
}

int main(void) {
        test_request();
        test_refusal();
        test_malformed();
        test_frame_deadline();
        test_idle_timeout();
        test_hang_up();
        test_backlog();
        test_refuse_busy();
        return tap_done("conn");
}
