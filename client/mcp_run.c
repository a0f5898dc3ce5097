/* mcp_run.c — executions of `cscctl mcp`: one cscd connection per tool call,
 * read without blocking the server's loop; output is hashed and kept (up to
 * cscd's capture caps) for csc_poll and the result. */
#include "mcp_run.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base64.h"
#include "canon.h"
#include "frame.h"
#include "csc_limits.h"

#define MCP_REPLY_FRAME_MAX (16u << 20)   /* cscd's frames: receipts ≤ 1 MiB, output chunks small */
#define MCP_LAST_BYTES      240           /* tail of the output shown in a progress message */

struct mcp_exec {
        int fd;
        csc_frame_reader reader;
        csc_json_doc *doc;                /* decision, receipt, error */
        const csc_json *decision, *receipt;
        char *error;                      /* set: status "error" */
        bool done;
        int64_t exit_code;
        bool have_exit;
        csc_buf out[2];
        uint64_t bytes[2];
        crypto_hash_sha256_state sha[2];
        char last[MCP_LAST_BYTES];
        size_t last_len;
        char contract_sha256[65];
        char contract_id[CSC_CONTRACT_ID_MAX + 1];
};

static csc_json *submit_request(csc_json_doc *doc, const mcp_input *in) {
        csc_json *o = csc_json_new_object(doc);
        int r = o ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "type", csc_json_new_string(doc, "submit"));
        r = r ?: csc_json_object_set(doc, o, "contract", csc_json_copy(doc, in->contract));
        if (in->env)
                r = r ?: csc_json_object_set(doc, o, "env", csc_json_copy(doc, in->env));
        if (in->approvals && in->approvals->array.count)
                r = r ?: csc_json_object_set(doc, o, "approvals", csc_json_copy(doc, in->approvals));
        return r < 0 ? NULL : o;
}

int mcp_exec_start(const char *socket_path, const mcp_input *in, mcp_exec **ret, char *e, size_t es) {
        mcp_exec *x = calloc(1, sizeof *x);
        csc_json_doc *rd = csc_json_doc_new();
        csc_json *req = rd ? submit_request(rd, in) : NULL;
        if (!x || !req || !(x->doc = csc_json_doc_new())) {
                free(x);
                csc_json_doc_free(rd);
                return -ENOMEM;
        }
        memcpy(x->contract_sha256, in->contract_sha256, sizeof x->contract_sha256);
        snprintf(x->contract_id, sizeof x->contract_id, "%s", csc_json_get_str(in->contract, "contract_id") ?: "");
        csc_frame_reader_init(&x->reader, MCP_REPLY_FRAME_MAX);
        crypto_hash_sha256_init(&x->sha[0]);
        crypto_hash_sha256_init(&x->sha[1]);
        x->fd = mcp_daemon_connect(socket_path, e, es);
        int r = x->fd < 0 ? 1 : mcp_send_frame(x->fd, req);
        csc_json_doc_free(rd);
        if (r < 0 && r != -ENOMEM) {
                snprintf(e, es, "cannot send to cscd: %s", strerror(-r));
                r = 1;
        }
        if (r != 0) {
                mcp_exec_free(x);
                return r;
        }
        fcntl(x->fd, F_SETFL, fcntl(x->fd, F_GETFL) | O_NONBLOCK);
        *ret = x;
        return 0;
}

mcp_exec *mcp_exec_free(mcp_exec *e) {
        if (!e)
                return NULL;
        if (e->fd >= 0)
                close(e->fd);
        csc_frame_reader_reset(&e->reader);
        csc_json_doc_free(e->doc);
        csc_buf_free(&e->out[0]);
        csc_buf_free(&e->out[1]);
        free(e->error);
        free(e);
        return NULL;
}

int mcp_exec_fd(const mcp_exec *e) {
        return e->done ? -1 : e->fd;
}

bool mcp_exec_done(const mcp_exec *e) {
        return e->done;
}

static void finish(mcp_exec *e, const char *error) {
        if (error && !e->error)
                e->error = strdup(error);
        e->done = true;
        if (e->fd >= 0)
                close(e->fd);
        e->fd = -1;
}

void mcp_exec_cancel(mcp_exec *e) {
        if (!e->done)
                finish(e, "cancelled by the client: cscd killed the sandbox and logged the signed receipt");
}

static int on_output(mcp_exec *e, const csc_json *f) {
        const char *data = csc_json_get_str(f, "data"), *stream = csc_json_get_str(f, "stream");
        unsigned char *bytes = NULL;
        size_t n = 0;
        if (!data || csc_base64_decode(data, strlen(data), &bytes, &n) < 0 || n == 0) {
                free(bytes);
                return 0;   /* cscd never sends these; ignore rather than fail the run */
        }
        int s = stream && strcmp(stream, "stderr") == 0 ? MCP_STDERR : MCP_STDOUT;
        size_t cap = s == MCP_STDOUT ? CSC_STDOUT_CAP : CSC_STDERR_CAP;
        size_t keep = e->out[s].len >= cap ? 0 : cap - e->out[s].len < n ? cap - e->out[s].len : n;
        int r = csc_buf_append(&e->out[s], bytes, keep);
        e->bytes[s] += n;
        crypto_hash_sha256_update(&e->sha[s], bytes, n);
        size_t tail = n < MCP_LAST_BYTES ? n : MCP_LAST_BYTES;
        if (tail > 0) {
                memcpy(e->last, bytes + n - tail, tail);
                e->last_len = tail;
        }
        free(bytes);
        return r;
}

/* 1 when the frame ended the execution. */
static int on_frame(mcp_exec *e, const csc_json *f) {
        const char *type = csc_json_get_str(f, "type");
        if (strcmp(type, "output") == 0)
                return on_output(e, f);
        if (strcmp(type, "decision") == 0 || strcmp(type, "receipt") == 0) {
                const csc_json *v = csc_json_get(f, type);
                if (!v || v->type != CSC_JSON_OBJECT) {
                        finish(e, "bad frame from cscd: no object in its decision or receipt");
                        return 1;
                }
                csc_json *copy = csc_json_copy(e->doc, v);
                if (!copy)
                        return -ENOMEM;
                if (type[0] == 'd') {
                        e->decision = copy;
                        return 0;
                }
                e->receipt = copy;
                finish(e, NULL);
                return 1;
        }
        if (strcmp(type, "exit") == 0) {
                const csc_json *c = csc_json_get(f, "exit_code");
                e->have_exit = c && c->type == CSC_JSON_INT;
                e->exit_code = e->have_exit ? c->integer.value : 0;
                return 0;
        }
        if (strcmp(type, "error") == 0) {
                char msg[1200];
                const char *path = csc_json_get_str(f, "path");
                snprintf(msg, sizeof msg, "cscd refused the request: %s: %s%s%.300s",
                         csc_json_get_str(f, "code") ?: "?", csc_json_get_str(f, "message") ?: "",
                         path ? " at " : "", path ?: "");
                finish(e, msg);
                return 1;
        }
        return 0;   /* started, and frame types a newer cscd may add */
}

int mcp_exec_read(mcp_exec *e) {
        if (e->done)
                return 1;
        char buf[65536];
        ssize_t n = recv(e->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : (finish(e, "lost the connection to cscd"), 1);
        if (n == 0) {
                finish(e, "cscd closed the connection before the receipt");
                return 1;
        }
        for (size_t off = 0; off < (size_t) n && !e->done;) {
                size_t used;
                int r = csc_frame_reader_feed(&e->reader, buf + off, (size_t) n - off, &used);
                off += used;
                if (r < 0) {
                        finish(e, r == -ENOMEM ? "out of memory" : "bad frame from cscd");
                        return 1;
                }
                if (r == 0)
                        continue;
                char *payload;
                size_t len;
                csc_frame_reader_take(&e->reader, &payload, &len);
                csc_json_doc *fd = NULL;
                const char *code;
                csc_error err = { 0 };
                r = csc_frame_parse(payload, len, &fd, &code, &err);
                free(payload);
                if (r < 0) {
                        finish(e, "bad frame from cscd");
                        return 1;
                }
                r = on_frame(e, csc_json_doc_root(fd));
                csc_json_doc_free(fd);
                if (r < 0)
                        return r;
        }
        return e->done ? 1 : 0;
}

const char *mcp_exec_status(const mcp_exec *e) {
        if (!e->done)
                return "running";
        if (e->error || !e->receipt)
                return "error";
        const char *s = csc_json_get_str(e->receipt, "status") ?: "";
        if (strcmp(s, "success") == 0 || strcmp(s, "failed") == 0)
                return strcmp(s, "success") == 0 ? "success" : "failed";
        const char *d = csc_json_get_str(e->decision, "decision");
        return d && strcmp(d, "needs_approval") == 0 ? "needs_approval" : "blocked";
}

uint64_t mcp_exec_total_bytes(const mcp_exec *e) {
        return e->bytes[0] + e->bytes[1];
}

void mcp_exec_output(const mcp_exec *e, int stream, const char **ret_data, size_t *ret_len) {
        *ret_data = e->out[stream].data ? e->out[stream].data : "";
        *ret_len = e->out[stream].len;
}

const char *mcp_exec_contract_sha256(const mcp_exec *e) {
        return e->contract_sha256;
}

int mcp_exec_last_lines(const mcp_exec *e, csc_json_doc *doc, csc_json **ret) {
        size_t n = e->last_len;
        while (n > 0 && (e->last[n - 1] == '\n' || e->last[n - 1] == '\r'))
                n--;
        size_t start = 0;   /* do not start inside a UTF-8 sequence */
        while (start < n && start < 3 && ((unsigned char) e->last[start] & 0xC0) == 0x80)
                start++;
        csc_buf b = CSC_BUF_INIT;
        int r = mcp_utf8_append(&b, e->last + start, n - start);
        *ret = r < 0 ? NULL : csc_json_new_stringn(doc, b.data ? b.data : "", b.len);
        csc_buf_free(&b);
        return *ret ? 0 : -ENOMEM;
}

static csc_json *digest(csc_json_doc *doc, const crypto_hash_sha256_state *st) {
        crypto_hash_sha256_state copy = *st;   /* the state stays usable */
        unsigned char d[crypto_hash_sha256_BYTES];
        char hex[65];
        crypto_hash_sha256_final(&copy, d);
        csc_hex32(d, hex);
        return csc_json_new_string(doc, hex);
}

/* The human reason: our own error, the receipt's error, else the decision's. */
static const char *reason_of(const mcp_exec *e) {
        if (e->error)
                return e->error;
        const char *err = csc_json_get_str(e->receipt, "error");
        if (err && *err)
                return err;
        const csc_json *reasons = csc_json_get(e->decision, "reasons");
        if (reasons && reasons->type == CSC_JSON_ARRAY && reasons->array.count &&
            reasons->array.items[0]->type == CSC_JSON_STRING)
                return reasons->array.items[0]->string.ptr;
        return e->done ? "the execution ended without a reason" : "running";
}

static csc_json *copy_or_null(csc_json_doc *doc, const csc_json *v) {
        return v ? csc_json_copy(doc, v) : csc_json_new_null(doc);
}

int mcp_exec_result(const mcp_exec *e, csc_json_doc *doc, csc_json **ret) {
        const csc_json *ec = csc_json_get(e->receipt, "exit_code"), *codes = csc_json_get(e->decision, "reason_codes");
        const char *verdict = csc_json_get_str(e->decision, "decision");
        csc_json *o = csc_json_new_object(doc);
        int r = o ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "status", csc_json_new_string(doc, mcp_exec_status(e)));
        r = r ?: csc_json_object_set(doc, o, "decision", verdict ? csc_json_new_string(doc, verdict) : csc_json_new_null(doc));
        r = r ?: csc_json_object_set(doc, o, "reason_codes", codes ? csc_json_copy(doc, codes) : csc_json_new_array(doc));
        r = r ?: csc_json_object_set(doc, o, "reason", csc_json_new_string(doc, reason_of(e)));
        r = r ?: csc_json_object_set(doc, o, "exit_code", ec && ec->type == CSC_JSON_INT ? csc_json_copy(doc, ec)
                                                                                           : csc_json_new_null(doc));
        static const char *const names[2][3] = { { "stdout", "stdout_bytes", "stdout_sha256" },
                                                 { "stderr", "stderr_bytes", "stderr_sha256" } };
        for (int s = 0; s < 2 && r >= 0; s++) {
                r = csc_json_object_set(doc, o, names[s][0], mcp_capped_string(doc, e->out[s].data ?: "", e->out[s].len));
                r = r ?: csc_json_object_set(doc, o, names[s][1], csc_json_new_int(doc, (int64_t) e->bytes[s]));
                r = r ?: csc_json_object_set(doc, o, names[s][2], digest(doc, &e->sha[s]));
        }
        r = r ?: csc_json_object_set(doc, o, "contract_id", csc_json_new_string(doc, e->contract_id));
        r = r ?: csc_json_object_set(doc, o, "contract_sha256", csc_json_new_string(doc, e->contract_sha256));
        r = r ?: csc_json_object_set(doc, o, "execution_id", copy_or_null(doc, csc_json_get(e->receipt, "execution_id")));
        r = r ?: csc_json_object_set(doc, o, "receipt", copy_or_null(doc, e->receipt));
        if (r < 0)
                return r;
        *ret = o;
        return 0;
}
