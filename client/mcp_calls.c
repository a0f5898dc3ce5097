/* mcp_calls.c — calls that outlive their request: csc_run waiting for its
 * execution (progress notifications on the way, silence after a
 * cancellation), csc_start handles kept until CSC_MCP_HANDLE_TTL_SEC after
 * they finish, and csc_poll calls waiting for news. At most
 * CSC_MCP_MAX_RUNNING executions run at once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp.h"
#include "mcp_rpc.h"

static mcp_call *call_free(mcp_call *c) {
        if (!c)
                return NULL;
        mcp_exec_free(c->exec);
        mcp_input_done(&c->in);
        csc_json_doc_free(c->id_doc);
        csc_json_doc_free(c->token_doc);
        csc_json_doc_free(c->result_doc);
        free(c);
        return NULL;
}

static void call_unlink(mcp_server *s, mcp_call *c) {
        for (mcp_call **p = &s->calls; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        return;
                }
}

static unsigned n_running(const mcp_server *s) {
        unsigned n = 0;
        for (const mcp_call *c = s->calls; c; c = c->next)
                n += !mcp_exec_done(c->exec);
        return n;
}

static mcp_call *find_handle(mcp_server *s, unsigned handle) {
        for (mcp_call *c = s->calls; c; c = c->next)
                if (handle && c->handle == handle)
                        return c;
        return NULL;
}

static bool waited_on(const mcp_server *s, unsigned handle) {
        for (size_t i = 0; i < s->n_waiters; i++)
                if (s->waiters[i].handle == handle)
                        return true;
        return false;
}

/* Room for one more handle: drops the oldest finished one when full. */
static bool make_room(mcp_server *s) {
        size_t n = 0;
        mcp_call *oldest = NULL;
        for (mcp_call *c = s->calls; c; c = c->next) {
                n += c->handle != 0;
                if (c->handle && c->done_at_ms && !waited_on(s, c->handle) &&
                    (!oldest || c->done_at_ms < oldest->done_at_ms))
                        oldest = c;
        }
        if (n < CSC_MCP_MAX_HANDLES)
                return true;
        if (!oldest)
                return false;
        call_unlink(s, oldest);
        call_free(oldest);
        return true;
}

/* needs_approval: save the exact contract and say how a human approves it. */
static int add_approval_steps(mcp_call *c, csc_json_doc *doc, csc_json *res) {
        char path[4096], file[4200], cmd[8600];
        int r = mcp_pending_save(&c->in, path, sizeof path);
        if (r < 0) {
                char reason[1400];
                snprintf(reason, sizeof reason, "%s (the contract could not be saved for approval: %s)",
                         csc_json_get_str(res, "reason") ?: "", strerror(-r));
                return csc_json_object_set(doc, res, "reason", csc_json_new_string(doc, reason));
        }
        snprintf(file, sizeof file, "%.*s.approval.json", (int) (strlen(path) - 5), path);
        snprintf(cmd, sizeof cmd, "cscctl approve '%s' --approver YOUR_NAME --out '%s'", path, file);
        r = csc_json_object_set(doc, res, "pending_path", csc_json_new_string(doc, path));
        r = r ?: csc_json_object_set(doc, res, "approve_command", csc_json_new_string(doc, cmd));
        r = r ?: csc_json_object_set(doc, res, "approval_file", csc_json_new_string(doc, file));
        return r;
}

static int final_result(mcp_call *c, csc_json_doc *doc, csc_json **ret) {
        int r = mcp_exec_result(c->exec, doc, ret);
        if (r >= 0 && strcmp(mcp_exec_status(c->exec), "needs_approval") == 0)
                r = add_approval_steps(c, doc, *ret);
        return r;
}

static bool is_success(const char *status) {
        return strcmp(status, "success") == 0;
}

/* The execution ended: answer a csc_run, or keep a handle's result. */
static int finish_call(mcp_server *s, mcp_call *c) {
        if (c->handle) {
                c->done_at_ms = mcp_now_ms();
                c->result_doc = csc_json_doc_new();
                return c->result_doc ? final_result(c, c->result_doc, &c->result) : -ENOMEM;
        }
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *res = NULL;
        int r = doc ? final_result(c, doc, &res) : -ENOMEM;
        r = r ?: mcp_send_tool_result(s, csc_json_doc_root(c->id_doc), res,
                                      !is_success(csc_json_get_str(res, "status")));
        csc_json_doc_free(doc);
        call_unlink(s, c);
        call_free(c);
        return r;
}

static csc_json *copy_root(csc_json_doc **ret, const csc_json *v) {
        csc_json_doc *d = csc_json_doc_new();
        csc_json *c = d ? csc_json_copy(d, v) : NULL;
        if (!c) {
                csc_json_doc_free(d);
                return NULL;
        }
        csc_json_doc_set_root(d, c);
        *ret = d;
        return c;
}

static int send_started(mcp_server *s, const csc_json *id, unsigned handle) {
        char h[32];
        snprintf(h, sizeof h, "run-%u", handle);
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL;
        int r = o ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "status", csc_json_new_string(doc, "running"));
        r = r ?: csc_json_object_set(doc, o, "handle", csc_json_new_string(doc, h));
        r = r ?: mcp_send_tool_result(s, id, o, false);
        csc_json_doc_free(doc);
        return r;
}

int mcp_tool_run(mcp_server *s, const csc_json *id, const csc_json *args, const csc_json *token, bool start) {
        char err[1200];
        if (n_running(s) >= CSC_MCP_MAX_RUNNING)
                return mcp_send_tool_error(s, id, "too many running executions (at most 16 per server): wait for "
                                                  "one to end, or stop one with csc_cancel");
        if (start && !make_room(s))
                return mcp_send_tool_error(s, id, "too many handles: poll the finished ones first");
        mcp_input in;
        int r = mcp_input_build(args, &s->who, true, &in, err, sizeof err);
        if (r != 0)
                return r < 0 ? r : mcp_send_tool_error(s, id, err);
        mcp_exec *e = NULL;
        r = mcp_pending_match(&in);
        r = r < 0 ? r : mcp_exec_start(s->socket_path, &in, &e, err, sizeof err);
        if (r != 0) {
                mcp_input_done(&in);
                return r < 0 ? r : mcp_send_tool_error(s, id, err);
        }
        mcp_call *c = calloc(1, sizeof *c);
        if (!c) {
                mcp_exec_free(e);
                mcp_input_done(&in);
                return -ENOMEM;
        }
        c->in = in;
        c->exec = e;
        if ((!start && !copy_root(&c->id_doc, id)) || (token && !copy_root(&c->token_doc, token))) {
                call_free(c);
                return -ENOMEM;
        }
        c->handle = start ? ++s->next_handle : 0;
        c->next = s->calls;
        s->calls = c;
        return start ? send_started(s, id, c->handle) : 0;
}

/* ---- csc_poll, csc_cancel ------------------------------------------------- */

/* "run-N" → N, 0 when it is not a handle. */
static unsigned parse_handle(const csc_json *v) {
        unsigned n = 0;
        int used = 0;
        if (!v || v->type != CSC_JSON_STRING || sscanf(v->string.ptr, "run-%9u%n", &n, &used) != 1 ||
            (size_t) used != v->string.len)
                return 0;
        return n;
}

/* New output of one stream from off, at most CSC_MCP_OUTPUT_CAP bytes, cut on a character boundary. */
static csc_json *chunk(csc_json_doc *doc, const mcp_exec *e, int stream, uint64_t off, uint64_t *ret_next) {
        const char *p;
        size_t len;
        mcp_exec_output(e, stream, &p, &len);
        size_t start = off > len ? len : (size_t) off, end = len - start > CSC_MCP_OUTPUT_CAP ? start + CSC_MCP_OUTPUT_CAP : len;
        if (end < len)
                for (int i = 0; i < 3 && end > start && ((unsigned char) p[end] & 0xC0) == 0x80; i++)
                        end--;
        else if (!mcp_exec_done(e))
                for (size_t i = 1; i <= 3 && i <= end - start; i++) {
                        unsigned char b = (unsigned char) p[end - i];
                        if ((b & 0xC0) == 0x80)
                                continue;
                        size_t want = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
                        if (want > i)
                                end -= i;   /* the rest of this character has not arrived yet */
                        break;
                }
        csc_buf b = CSC_BUF_INIT;
        csc_json *v = mcp_utf8_append(&b, p + start, end - start) < 0 ? NULL : csc_json_new_stringn(doc, b.data ?: "", b.len);
        csc_buf_free(&b);
        *ret_next = end;
        return v;
}

static int poll_reply(mcp_server *s, const csc_json *id, const mcp_call *c, const uint64_t off[2]) {
        char h[32];
        snprintf(h, sizeof h, "run-%u", c->handle);
        bool done = c->result != NULL;
        const char *status = done ? csc_json_get_str(c->result, "status") : "running";
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL;
        int r = o ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "status", csc_json_new_string(doc, status));
        r = r ?: csc_json_object_set(doc, o, "handle", csc_json_new_string(doc, h));
        r = r ?: csc_json_object_set(doc, o, "done", csc_json_new_bool(doc, done));
        static const char *const names[2][3] = { { "stdout", "stdout_offset", "stdout_bytes" },
                                                 { "stderr", "stderr_offset", "stderr_bytes" } };
        for (int k = 0; k < 2 && r >= 0; k++) {
                uint64_t next = 0;
                const char *p;
                size_t len;
                mcp_exec_output(c->exec, k, &p, &len);
                r = csc_json_object_set(doc, o, names[k][0], chunk(doc, c->exec, k, off[k], &next));
                r = r ?: csc_json_object_set(doc, o, names[k][1], csc_json_new_int(doc, (int64_t) next));
                r = r ?: csc_json_object_set(doc, o, names[k][2], csc_json_new_int(doc, (int64_t) len));
        }
        if (done) {
                r = r ?: csc_json_object_set(doc, o, "reason", csc_json_copy(doc, csc_json_get(c->result, "reason")));
                r = r ?: csc_json_object_set(doc, o, "result", csc_json_copy(doc, c->result));
        }
        r = r ?: mcp_send_tool_result(s, id, o, done && !is_success(status));
        csc_json_doc_free(doc);
        return r;
}

static bool has_news(const mcp_call *c, const uint64_t off[2]) {
        for (int k = 0; k < 2; k++) {
                const char *p;
                size_t len;
                mcp_exec_output(c->exec, k, &p, &len);
                if (len > off[k])
                        return true;
        }
        return c->result != NULL;
}

/* Integer argument in [0, max], default 0; 1 with a message when invalid. */
static int int_arg(const csc_json *args, const char *key, int64_t max, uint64_t *ret, char *e, size_t es) {
        const csc_json *v = csc_json_get(args, key);
        *ret = 0;
        if (!v)
                return 0;
        if (v->type != CSC_JSON_INT || v->integer.overflow || v->integer.value < 0 || v->integer.value > max) {
                snprintf(e, es, "%s: must be an integer from 0 to %lld", key, (long long) max);
                return 1;
        }
        *ret = (uint64_t) v->integer.value;
        return 0;
}

/* The handle argument and no unknown ones; 1 with a message when invalid. */
static int handle_args(mcp_server *s, const csc_json *args, const char *const *allowed, mcp_call **ret, char *e,
                       size_t es) {
        for (size_t i = 0; args && i < args->object.count; i++) {
                size_t k = 0;
                while (allowed[k] && strcmp(allowed[k], args->object.members[i].key) != 0)
                        k++;
                if (!allowed[k]) {
                        snprintf(e, es, "%.100s: unknown argument", args->object.members[i].key);
                        return 1;
                }
        }
        const csc_json *h = csc_json_get(args, "handle");
        if (!h || h->type != CSC_JSON_STRING) {
                snprintf(e, es, "handle: required, the string csc_start returned");
                return 1;
        }
        *ret = find_handle(s, parse_handle(h));
        if (!*ret) {
                snprintf(e, es, "handle: unknown or expired handle '%.100s' (handles live 10 minutes after the end)",
                         h->string.ptr);
                return 1;
        }
        return 0;
}

int mcp_tool_poll(mcp_server *s, const csc_json *id, const csc_json *args) {
        static const char *const allowed[] = { "handle", "stdout_offset", "stderr_offset", "wait_ms", NULL };
        char err[300];
        mcp_call *c = NULL;
        uint64_t off[2], wait_ms;
        if (handle_args(s, args, allowed, &c, err, sizeof err) || int_arg(args, "stdout_offset", INT64_MAX, &off[0], err, sizeof err) ||
            int_arg(args, "stderr_offset", INT64_MAX, &off[1], err, sizeof err) ||
            int_arg(args, "wait_ms", CSC_MCP_POLL_WAIT_MAX_MS, &wait_ms, err, sizeof err))
                return mcp_send_tool_error(s, id, err);
        if (wait_ms == 0 || has_news(c, off) || s->n_waiters == CSC_MCP_MAX_WAITERS)
                return poll_reply(s, id, c, off);
        mcp_waiter *w = &s->waiters[s->n_waiters];
        if (!copy_root(&w->id_doc, id))
                return -ENOMEM;
        w->handle = c->handle;
        w->offset[0] = off[0];
        w->offset[1] = off[1];
        w->deadline_ms = mcp_now_ms() + wait_ms;
        s->n_waiters++;
        return 0;
}

int mcp_tool_cancel(mcp_server *s, const csc_json *id, const csc_json *args) {
        static const char *const allowed[] = { "handle", NULL };
        char err[300];
        mcp_call *c = NULL;
        if (handle_args(s, args, allowed, &c, err, sizeof err))
                return mcp_send_tool_error(s, id, err);
        bool was_running = !c->result;
        if (was_running) {
                mcp_exec_cancel(c->exec);
                int r = finish_call(s, c);
                if (r < 0)
                        return r;
        }
        char h[32];
        snprintf(h, sizeof h, "run-%u", c->handle);
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL;
        int r = o ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "status", csc_json_new_string(doc, was_running ? "cancelled"
                                                          : csc_json_get_str(c->result, "status")));
        r = r ?: csc_json_object_set(doc, o, "handle", csc_json_new_string(doc, h));
        r = r ?: csc_json_object_set(doc, o, "reason", csc_json_new_string(doc, was_running
                        ? "cancelled: cscd killed the sandbox and logged the signed receipt"
                        : "it had already finished; csc_poll gives its result"));
        r = r ?: mcp_send_tool_result(s, id, o, false);
        csc_json_doc_free(doc);
        return r;
}

/* ---- the loop's side ------------------------------------------------------ */

static int send_progress(mcp_server *s, mcp_call *c, uint64_t now) {
        uint64_t total = mcp_exec_total_bytes(c->exec);
        if (!c->token_doc || total <= c->progress_sent || now < c->progress_at_ms + CSC_MCP_PROGRESS_MIN_MS)
                return 0;
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL, *msg = NULL;
        int r = o ? mcp_exec_last_lines(c->exec, doc, &msg) : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "progressToken", csc_json_copy(doc, csc_json_doc_root(c->token_doc)));
        r = r ?: csc_json_object_set(doc, o, "progress", csc_json_new_int(doc, (int64_t) total));
        r = r ?: csc_json_object_set(doc, o, "message", msg);
        r = r ?: mcp_write_notification(s->out_fd, "notifications/progress", o);
        csc_json_doc_free(doc);
        c->progress_sent = total;
        c->progress_at_ms = now;
        return r;
}

static mcp_call *call_of_fd(mcp_server *s, int fd) {
        for (mcp_call *c = s->calls; c; c = c->next)
                if (mcp_exec_fd(c->exec) == fd)
                        return c;
        return NULL;
}

static int service_waiters(mcp_server *s, uint64_t now) {
        for (size_t i = 0; i < s->n_waiters;) {
                mcp_waiter *w = &s->waiters[i];
                mcp_call *c = find_handle(s, w->handle);
                if (c && !has_news(c, w->offset) && now < w->deadline_ms) {
                        i++;
                        continue;
                }
                int r = c ? poll_reply(s, csc_json_doc_root(w->id_doc), c, w->offset)
                          : mcp_send_tool_error(s, csc_json_doc_root(w->id_doc), "handle: expired");
                csc_json_doc_free(w->id_doc);
                s->waiters[i] = s->waiters[--s->n_waiters];
                if (r < 0)
                        return r;
        }
        return 0;
}

int mcp_calls_service(mcp_server *s, const struct pollfd *fds, size_t n_fds) {
        int r = 0;
        for (size_t i = 0; i < n_fds && r >= 0; i++) {
                mcp_call *c = fds[i].revents ? call_of_fd(s, fds[i].fd) : NULL;
                if (!c)
                        continue;
                r = mcp_exec_read(c->exec);
                if (r == 1)
                        r = finish_call(s, c);
        }
        uint64_t now = mcp_now_ms();
        for (mcp_call *c = s->calls, *next; c && r >= 0; c = next) {
                next = c->next;
                if (!c->result && !mcp_exec_done(c->exec))
                        r = send_progress(s, c, now);
                else if (c->handle && c->done_at_ms + CSC_MCP_HANDLE_TTL_SEC * 1000u < now && !waited_on(s, c->handle)) {
                        call_unlink(s, c);
                        call_free(c);
                }
        }
        return r < 0 ? r : service_waiters(s, now);
}

size_t mcp_calls_pollfds(const mcp_server *s, struct pollfd *fds, size_t max, int *ret_timeout_ms) {
        size_t n = 0;
        uint64_t now = mcp_now_ms(), next = UINT64_MAX;
        for (const mcp_call *c = s->calls; c; c = c->next) {
                int fd = mcp_exec_fd(c->exec);
                if (fd >= 0 && n < max)
                        fds[n++] = (struct pollfd) { .fd = fd, .events = POLLIN };
                if (fd >= 0 && c->token_doc && mcp_exec_total_bytes(c->exec) > c->progress_sent) {
                        uint64_t due = c->progress_at_ms + CSC_MCP_PROGRESS_MIN_MS;
                        next = due < next ? due : next;
                }
        }
        for (size_t i = 0; i < s->n_waiters; i++)
                next = s->waiters[i].deadline_ms < next ? s->waiters[i].deadline_ms : next;
        *ret_timeout_ms = next == UINT64_MAX ? -1 : next <= now ? 0 : (int) (next - now);
        return n;
}

void mcp_calls_cancel_request(mcp_server *s, const csc_json *request_id) {
        for (mcp_call *c = s->calls, *next; c; c = next) {
                next = c->next;
                if (c->id_doc && mcp_json_id_equal(csc_json_doc_root(c->id_doc), request_id)) {
                        mcp_exec_cancel(c->exec);   /* cscd kills the sandbox; we answer nothing */
                        call_unlink(s, c);
                        call_free(c);
                }
        }
        for (size_t i = 0; i < s->n_waiters;) {
                if (mcp_json_id_equal(csc_json_doc_root(s->waiters[i].id_doc), request_id)) {
                        csc_json_doc_free(s->waiters[i].id_doc);
                        s->waiters[i] = s->waiters[--s->n_waiters];
                } else
                        i++;
        }
}

void mcp_calls_free_all(mcp_server *s) {
        while (s->calls) {
                mcp_call *c = s->calls;
                s->calls = c->next;
                call_free(c);
        }
        for (size_t i = 0; i < s->n_waiters; i++)
                csc_json_doc_free(s->waiters[i].id_doc);
        s->n_waiters = 0;
}
