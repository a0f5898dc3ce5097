/* mcp_rpc.c — JSON-RPC 2.0 lines for `cscctl mcp`: the bounded stdin line
 * reader, strict message classification, and the stdout writers. */
#include "mcp_rpc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "canon.h"

void mcp_line_reader_init(mcp_line_reader *r, size_t max) {
        *r = (mcp_line_reader) { .line = CSC_BUF_INIT, .max = max };
}

void mcp_line_reader_free(mcp_line_reader *r) {
        csc_buf_free(&r->line);
}

static int emit(mcp_line_reader *r, mcp_line_fn fn, void *userdata) {
        size_t len = r->line.len;
        if (len > 0 && r->line.data[len - 1] == '\r')
                len--;
        char empty[1] = "";
        char *data = r->line.data ? r->line.data : empty;
        data[len] = 0;
        int q = fn(userdata, data, len);
        csc_buf_reset(&r->line);
        return q;
}

int mcp_line_feed(mcp_line_reader *r, const char *data, size_t n, mcp_line_fn fn, void *userdata) {
        while (n > 0) {
                const char *nl = memchr(data, '\n', n);
                size_t chunk = nl ? (size_t) (nl - data) : n;
                if (r->discarding) {
                        if (nl)
                                r->discarding = false;
                } else if (r->line.len + chunk > r->max) {
                        /* Over the limit: report once, then drop the rest of this line. */
                        csc_buf_reset(&r->line);
                        r->discarding = !nl;
                        int q = fn(userdata, NULL, 0);
                        if (q < 0)
                                return q;
                } else {
                        int q = csc_buf_append(&r->line, data, chunk);
                        if (q < 0)
                                return q;
                        if (nl && (q = emit(r, fn, userdata)) < 0)
                                return q;
                }
                if (!nl)
                        break;
                data = nl + 1;
                n -= chunk + 1;
        }
        return 0;
}

static int fail(char *buf, size_t size, int code, const char *msg) {
        snprintf(buf, size, "%s", msg);
        return code;
}

/* Reads the id member: absent is fine (notification); a present id must be a string or an integer. */
static int read_id(const csc_json *root, const csc_json **ret, csc_json_doc **ret_id_doc, char *e, size_t es) {
        const csc_json *id = csc_json_get(root, "id");
        *ret = NULL;
        if (!id)
                return 0;
        if (id->type != CSC_JSON_STRING && !(id->type == CSC_JSON_INT && !id->integer.overflow))
                return fail(e, es, MCP_INVALID_REQUEST, "\"id\" must be a string or an integer");
        csc_json_doc *d = csc_json_doc_new();
        csc_json *copy = d ? csc_json_copy(d, id) : NULL;
        if (!copy) {
                csc_json_doc_free(d);
                return -ENOMEM;
        }
        csc_json_doc_set_root(d, copy);
        *ret_id_doc = d;
        *ret = id;
        return 0;
}

static int classify(const csc_json *root, mcp_msg *m, csc_json_doc **ret_id_doc, char *e, size_t es) {
        if (root->type == CSC_JSON_ARRAY)
                return fail(e, es, MCP_INVALID_REQUEST, "batches are not supported (one message per line)");
        if (root->type != CSC_JSON_OBJECT)
                return fail(e, es, MCP_INVALID_REQUEST, "a message must be a JSON object");
        int r = read_id(root, &m->id, ret_id_doc, e, es);
        if (r)
                return r;
        const char *v = csc_json_get_str(root, "jsonrpc");
        if (!v || strcmp(v, "2.0") != 0)
                return fail(e, es, MCP_INVALID_REQUEST, "\"jsonrpc\" must be \"2.0\"");
        const csc_json *method = csc_json_get(root, "method");
        if (!method) {
                if (!m->id || (!csc_json_get(root, "result") && !csc_json_get(root, "error")))
                        return fail(e, es, MCP_INVALID_REQUEST, "missing \"method\"");
                m->kind = MCP_MSG_RESPONSE;
                return 0;
        }
        if (method->type != CSC_JSON_STRING || method->string.len == 0 ||
            memchr(method->string.ptr, 0, method->string.len))
                return fail(e, es, MCP_INVALID_REQUEST, "\"method\" must be a non-empty string");
        const csc_json *params = csc_json_get(root, "params");
        if (params && params->type != CSC_JSON_OBJECT)
                return fail(e, es, MCP_INVALID_REQUEST, "\"params\" must be an object");
        m->method = method->string.ptr;
        m->params = params;
        m->kind = m->id ? MCP_MSG_REQUEST : MCP_MSG_NOTIFICATION;
        return 0;
}

int mcp_msg_parse(const char *line, size_t len, mcp_msg *ret, csc_json_doc **ret_id_doc, char *ret_error,
                  size_t error_size) {
        csc_error err = { 0 };
        mcp_msg m = { 0 };
        *ret_id_doc = NULL;
        int r = csc_json_parse(line, len, &m.doc, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                char buf[CSC_ERROR_PATH_MAX + CSC_ERROR_MSG_MAX + 4];
                snprintf(ret_error, error_size, "parse error: %s", csc_error_str(&err, buf, sizeof buf));
                return MCP_PARSE_ERROR;
        }
        r = classify(csc_json_doc_root(m.doc), &m, ret_id_doc, ret_error, error_size);
        if (r) {
                csc_json_doc_free(m.doc);
                return r;
        }
        *ret = m;
        return 0;
}

void mcp_msg_done(mcp_msg *m) {
        m->doc = csc_json_doc_free(m->doc);
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Canonical JSON escapes every control character, so the line holds no raw newline. */
static int write_line(int fd, const csc_json *msg) {
        csc_buf b = CSC_BUF_INIT;
        int r = csc_canon_write(msg, &b);
        r = r ?: csc_buf_putc(&b, '\n');
        r = r ?: write_all(fd, b.data, b.len);
        csc_buf_free(&b);
        return r;
}

static csc_json *envelope(csc_json_doc *doc, const csc_json *id) {
        csc_json *o = csc_json_new_object(doc);
        int r = o ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "jsonrpc", csc_json_new_string(doc, "2.0"));
        r = r ?: csc_json_object_set(doc, o, "id", id ? csc_json_copy(doc, id) : csc_json_new_null(doc));
        return r < 0 ? NULL : o;
}

int mcp_write_result(int fd, const csc_json *id, const csc_json *result) {
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? envelope(doc, id) : NULL;
        int r = o ? csc_json_object_set(doc, o, "result", csc_json_copy(doc, result)) : -ENOMEM;
        r = r ?: write_line(fd, o);
        csc_json_doc_free(doc);
        return r;
}

int mcp_write_error(int fd, const csc_json *id, int code, const char *message) {
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? envelope(doc, id) : NULL, *e = doc ? csc_json_new_object(doc) : NULL;
        int r = o && e ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, e, "code", csc_json_new_int(doc, code));
        r = r ?: csc_json_object_set(doc, e, "message", csc_json_new_string(doc, message));
        r = r ?: csc_json_object_set(doc, o, "error", e);
        r = r ?: write_line(fd, o);
        csc_json_doc_free(doc);
        return r;
}

int mcp_write_notification(int fd, const char *method, const csc_json *params) {
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL;
        int r = o ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "jsonrpc", csc_json_new_string(doc, "2.0"));
        r = r ?: csc_json_object_set(doc, o, "method", csc_json_new_string(doc, method));
        r = r ?: csc_json_object_set(doc, o, "params", csc_json_copy(doc, params));
        r = r ?: write_line(fd, o);
        csc_json_doc_free(doc);
        return r;
}
