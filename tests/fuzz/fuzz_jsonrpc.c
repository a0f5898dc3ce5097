/* fuzz_jsonrpc.c — what `cscctl mcp` does with the host's stdin: the bounded
 * line reader fed in random chunk sizes, each line classified as JSON-RPC,
 * answered (to /dev/null), and a tools/call's arguments turned into a
 * contract. Checks the invariants the server relies on: a line never holds
 * a newline nor exceeds the limit, every answer is one line, and sanitized
 * output is valid UTF-8. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "mcp_args.h"
#include "mcp_rpc.h"
#include "mcp_run.h"

#define FUZZ_LINE_MAX 4096   /* small, so the over-the-limit path is reached */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int null_fd = -1;

static int on_line(void *userdata, char *line, size_t len) {
        (void) userdata;
        if (!line)
                return mcp_write_error(null_fd, NULL, MCP_PARSE_ERROR, "line too long");
        if (len > FUZZ_LINE_MAX || memchr(line, '\n', len) || line[len] != 0)
                abort();
        csc_buf clean = CSC_BUF_INIT;
        if (mcp_utf8_append(&clean, line, len) == 0 && !csc_utf8_valid(clean.data ? clean.data : "", clean.len))
                abort();
        csc_buf_free(&clean);
        mcp_msg m;
        csc_json_doc *id_doc = NULL;
        char err[512];
        int r = mcp_msg_parse(line, len, &m, &id_doc, err, sizeof err);
        if (r < 0) {
                mcp_write_error(null_fd, id_doc ? csc_json_doc_root(id_doc) : NULL, r, err);
                csc_json_doc_free(id_doc);
                return 0;
        }
        csc_json_doc_free(id_doc);
        if (m.kind == MCP_MSG_REQUEST) {
                const csc_json *args = csc_json_get(m.params, "arguments");
                mcp_identity who = { "fuzz", "fuzz-session", "fuzzer", "/" };
                mcp_input in;
                if (args && args->type == CSC_JSON_OBJECT && mcp_input_build(args, &who, false, &in, err, sizeof err) == 0)
                        mcp_input_done(&in);
                mcp_write_result(null_fd, m.id, m.params ? m.params : csc_json_doc_root(m.doc));
        }
        mcp_msg_done(&m);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (null_fd < 0)
                null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        mcp_line_reader r;
        mcp_line_reader_init(&r, FUZZ_LINE_MAX);
        size_t step = size ? (size_t) data[0] % 13 + 1 : 1;
        for (size_t off = 0; off < size; off += step) {
                size_t n = size - off < step ? size - off : step;
                if (mcp_line_feed(&r, (const char *) data + off, n, on_line, NULL) < 0)
                        break;
        }
        mcp_line_reader_free(&r);
        return 0;
}
