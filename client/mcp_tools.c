/* mcp_tools.c — the six tools of `cscctl mcp` and the calls they leave
 * running: csc_run answers when its execution ends (with progress on the
 * way), csc_start returns a handle that csc_poll reads and csc_cancel ends.
 * Every result carries structuredContent valid against the tool's
 * outputSchema (schemas/mcp-tools.json) and a text block with the same
 * essentials. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "mcp.h"
#include "mcp_rpc.h"

bool mcp_json_id_equal(const csc_json *a, const csc_json *b) {
        if (!a || !b || a->type != b->type)
                return false;
        if (a->type == CSC_JSON_INT)
                return a->integer.value == b->integer.value;
        return a->type == CSC_JSON_STRING && a->string.len == b->string.len &&
               memcmp(a->string.ptr, b->string.ptr, a->string.len) == 0;
}

/* ---- results -------------------------------------------------------------- */

/* A run result for a model that reads only text: status, reason, approval steps, output. */
static int run_text(const csc_json *st, csc_buf *b) {
        const csc_json *ec = csc_json_get(st, "exit_code");
        int r = csc_buf_printf(b, "status: %s, exit code %s\n", csc_json_get_str(st, "status") ?: "?",
                               ec && ec->type == CSC_JSON_INT ? ec->integer.text : "none");
        r = r ?: csc_buf_printf(b, "reason: %s\n", csc_json_get_str(st, "reason") ?: "");
        const char *cmd = csc_json_get_str(st, "approve_command");
        if (!r && cmd)
                r = csc_buf_printf(b, "approval: a human runs\n  %s\nthen call again with the same arguments plus "
                                      "\"approvals\": [\"%s\"]\n", cmd, csc_json_get_str(st, "approval_file") ?: "");
        r = r ?: csc_buf_printf(b, "--- stdout (%s bytes) ---\n%s\n--- stderr (%s bytes) ---\n%s",
                                csc_json_get(st, "stdout_bytes")->integer.text, csc_json_get_str(st, "stdout"),
                                csc_json_get(st, "stderr_bytes")->integer.text, csc_json_get_str(st, "stderr"));
        return r;
}

static int text_of(const csc_json *st, csc_buf *b) {
        const char *status = csc_json_get_str(st, "status") ?: "?", *reason = csc_json_get_str(st, "reason");
        const csc_json *result = csc_json_get(st, "result");
        if (strcmp(status, "error") == 0 && !csc_json_get(st, "stdout") && !result)
                return csc_buf_printf(b, "error: %s", reason ?: "");
        if (csc_json_get(st, "stdout") && csc_json_get(st, "stdout_sha256"))
                return run_text(st, b);                                   /* csc_run */
        if (csc_json_get(st, "done")) {                                   /* csc_poll */
                int r = csc_buf_printf(b, "%s: %s; new output up to stdout_offset %s, stderr_offset %s\n",
                                       csc_json_get_str(st, "handle") ?: "?", status,
                                       csc_json_get(st, "stdout_offset")->integer.text,
                                       csc_json_get(st, "stderr_offset")->integer.text);
                r = r ?: csc_buf_printf(b, "--- new stdout ---\n%s\n--- new stderr ---\n%s\n",
                                        csc_json_get_str(st, "stdout"), csc_json_get_str(st, "stderr"));
                return r ?: result ? run_text(result, b) : 0;
        }
        if (csc_json_get(st, "contract")) {                               /* csc_check */
                const csc_json *code = csc_json_at(csc_json_get(st, "reason_codes"), 0);
                return csc_buf_printf(b, "decision: %s (%s)\nreason: %s\ncontract_sha256: %s",
                                      csc_json_get_str(st, "decision") ?: "?",
                                      code && code->type == CSC_JSON_STRING ? code->string.ptr : "?", reason ?: "",
                                      csc_json_get_str(st, "contract_sha256") ?: "?");
        }
        /* csc_policy, csc_start, csc_cancel: the object itself is the clearest text */
        int r = csc_buf_printf(b, "status: %s\n", status);
        return r ?: csc_json_write_pretty(st, b);
}

int mcp_send_tool_result(mcp_server *s, const csc_json *id, const csc_json *structured, bool is_error) {
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL, *content = doc ? csc_json_new_array(doc) : NULL;
        csc_json *text = doc ? csc_json_new_object(doc) : NULL;
        csc_buf b = CSC_BUF_INIT;
        int r = o && content && text ? text_of(structured, &b) : -ENOMEM;
        r = r ?: csc_json_object_set(doc, text, "type", csc_json_new_string(doc, "text"));
        r = r ?: csc_json_object_set(doc, text, "text", csc_json_new_stringn(doc, b.data ?: "", b.len));
        r = r ?: csc_json_array_append(doc, content, text);
        r = r ?: csc_json_object_set(doc, o, "content", content);
        r = r ?: csc_json_object_set(doc, o, "structuredContent", csc_json_copy(doc, structured));
        r = r ?: csc_json_object_set(doc, o, "isError", csc_json_new_bool(doc, is_error));
        r = r ?: mcp_write_result(s->out_fd, id, o);
        csc_buf_free(&b);
        csc_json_doc_free(doc);
        return r;
}

static csc_json *error_object(csc_json_doc *doc, const char *reason) {
        csc_json *o = csc_json_new_object(doc);
        int r = o ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "status", csc_json_new_string(doc, "error"));
        r = r ?: csc_json_object_set(doc, o, "reason", csc_json_new_string(doc, reason));
        return r < 0 ? NULL : o;
}

int mcp_send_tool_error(mcp_server *s, const csc_json *id, const char *reason) {
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? error_object(doc, reason) : NULL;
        int r = o ? mcp_send_tool_result(s, id, o, true) : -ENOMEM;
        csc_json_doc_free(doc);
        return r;
}

/* An error frame from cscd as a tool error. */
static int send_daemon_error(mcp_server *s, const csc_json *id, const csc_json *f) {
        char msg[1200];
        const char *path = csc_json_get_str(f, "path");
        snprintf(msg, sizeof msg, "cscd refused the request: %s: %s%s%.300s", csc_json_get_str(f, "code") ?: "?",
                 csc_json_get_str(f, "message") ?: "", path ? " at " : "", path ?: "");
        return mcp_send_tool_error(s, id, msg);
}

/* ---- csc_policy, csc_check ------------------------------------------------ */

static int tool_policy(mcp_server *s, const csc_json *id, const csc_json *args) {
        if (args && args->object.count) {
                char msg[160];
                snprintf(msg, sizeof msg, "%.100s: unknown argument (csc_policy takes none)", args->object.members[0].key);
                return mcp_send_tool_error(s, id, msg);
        }
        csc_json_doc *rq = csc_json_doc_new(), *reply = NULL;
        csc_json *o = rq ? csc_json_new_object(rq) : NULL;
        char err[600];
        int r = o ? csc_json_object_set(rq, o, "type", csc_json_new_string(rq, "policy")) : -ENOMEM;
        r = r ?: mcp_daemon_request(s->socket_path, o, &reply, err, sizeof err);
        csc_json_doc_free(rq);
        if (r != 0)
                return r < 0 ? r : mcp_send_tool_error(s, id, err);
        csc_json *f = csc_json_doc_root(reply);
        if (strcmp(csc_json_get_str(f, "type"), "policy") != 0)
                r = send_daemon_error(s, id, f);
        else {
                csc_json_object_remove(f, "type");
                r = csc_json_object_set(reply, f, "status", csc_json_new_string(reply, "success"));
                r = r ?: mcp_send_tool_result(s, id, f, false);
        }
        csc_json_doc_free(reply);
        return r;
}

static csc_json *check_result(csc_json_doc *doc, const csc_json *d, const mcp_input *in) {
        const csc_json *first = csc_json_at(csc_json_get(d, "reasons"), 0);
        const char *reason = first && first->type == CSC_JSON_STRING ? first->string.ptr : "";
        csc_json *o = csc_json_new_object(doc);
        int r = o ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "status", csc_json_new_string(doc, "success"));
        /* The decision's members, when cscd sent them (a decision always has these). */
        static const char *const members[] = { "decision", "reason_codes", "policy_profile", "classified_effects" };
        for (size_t i = 0; i < sizeof members / sizeof members[0] && r >= 0; i++) {
                const csc_json *v = csc_json_get(d, members[i]);
                if (v)
                        r = csc_json_object_set(doc, o, members[i], csc_json_copy(doc, v));
        }
        r = r ?: csc_json_object_set(doc, o, "reason", csc_json_new_string(doc, reason));
        r = r ?: csc_json_object_set(doc, o, "contract_id", csc_json_copy(doc, csc_json_get(in->contract, "contract_id")));
        r = r ?: csc_json_object_set(doc, o, "contract_sha256", csc_json_new_string(doc, in->contract_sha256));
        r = r ?: csc_json_object_set(doc, o, "contract", csc_json_copy(doc, in->contract));
        return r < 0 ? NULL : o;
}

static int tool_check(mcp_server *s, const csc_json *id, const csc_json *args) {
        mcp_input in;
        char err[1200];
        int r = mcp_input_build(args, &s->who, false, &in, err, sizeof err);
        if (r != 0)
                return r < 0 ? r : mcp_send_tool_error(s, id, err);
        csc_json_doc *rq = csc_json_doc_new(), *reply = NULL;
        csc_json *o = rq ? csc_json_new_object(rq) : NULL;
        r = o ? csc_json_object_set(rq, o, "type", csc_json_new_string(rq, "check")) : -ENOMEM;
        r = r ?: csc_json_object_set(rq, o, "contract", csc_json_copy(rq, in.contract));
        r = r ?: mcp_daemon_request(s->socket_path, o, &reply, err, sizeof err);
        csc_json_doc_free(rq);
        if (r != 0) {
                mcp_input_done(&in);
                return r < 0 ? r : mcp_send_tool_error(s, id, err);
        }
        const csc_json *f = csc_json_doc_root(reply), *d = csc_json_get(f, "decision");
        if (strcmp(csc_json_get_str(f, "type"), "decision") != 0 || !d)
                r = send_daemon_error(s, id, f);
        else {
                csc_json_doc *doc = csc_json_doc_new();
                csc_json *res = doc ? check_result(doc, d, &in) : NULL;
                r = res ? mcp_send_tool_result(s, id, res, false) : -ENOMEM;
                csc_json_doc_free(doc);
        }
        csc_json_doc_free(reply);
        mcp_input_done(&in);
        return r;
}

/* ---- dispatch ------------------------------------------------------------- */

int mcp_tool_call(mcp_server *s, const csc_json *id, const char *name, const csc_json *args,
                  const csc_json *progress_token) {
        if (strcmp(name, "csc_policy") == 0)
                return tool_policy(s, id, args);
        if (strcmp(name, "csc_check") == 0)
                return tool_check(s, id, args);
        if (strcmp(name, "csc_run") == 0)
                return mcp_tool_run(s, id, args, progress_token, false);
        if (strcmp(name, "csc_start") == 0)
                return mcp_tool_run(s, id, args, NULL, true);
        if (strcmp(name, "csc_poll") == 0)
                return mcp_tool_poll(s, id, args);
        if (strcmp(name, "csc_cancel") == 0)
                return mcp_tool_cancel(s, id, args);
        return MCP_INVALID_PARAMS;
}
