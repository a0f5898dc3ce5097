/* test-mcp-rpc.c — the JSON-RPC line reader and classifier of `cscctl mcp`
 * at and past their edges: a line of exactly CSC_MCP_LINE_MAX_BYTES passes,
 * one byte more is refused once and the reader recovers at the next line;
 * lines split across reads, CRLF, empty lines; ids, versions, batches. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "csc_limits.h"
#include "mcp_rpc.h"
#include "../unit/tap.h"

typedef struct seen {
        size_t n, too_long, last_len;
        char last[64];
} seen;

static int collect(void *userdata, char *line, size_t len) {
        seen *s = userdata;
        if (!line) {
                s->too_long++;
                return 0;
        }
        s->n++;
        s->last_len = len;
        snprintf(s->last, sizeof s->last, "%.*s", (int) (len < 63 ? len : 63), line);
        return 0;
}

static void test_limits(void) {
        size_t max = CSC_MCP_LINE_MAX_BYTES;
        char *big = malloc(max + 2);
        memset(big, 'a', max + 1);
        mcp_line_reader r;
        seen s = { 0 };
        mcp_line_reader_init(&r, max);
        /* exactly at the limit, fed in two pieces, then its newline */
        CHECK(mcp_line_feed(&r, big, max / 2, collect, &s) == 0, "feed");
        CHECK(mcp_line_feed(&r, big + max / 2, max - max / 2, collect, &s) == 0, "feed");
        CHECK(mcp_line_feed(&r, "\n", 1, collect, &s) == 0 && s.n == 1 && s.last_len == max && s.too_long == 0,
              "a line of exactly the limit passes (n=%zu len=%zu)", s.n, s.last_len);
        /* one byte more: refused once, its rest dropped, the next line read */
        CHECK(mcp_line_feed(&r, big, max + 1, collect, &s) == 0 && s.too_long == 1, "limit+1 is refused");
        CHECK(mcp_line_feed(&r, big, 1000, collect, &s) == 0 && s.too_long == 1 && s.n == 1,
              "the rest of that line is dropped without a second report");
        CHECK(mcp_line_feed(&r, "xx\nnext\r\n", 9, collect, &s) == 0 && s.n == 2 && strcmp(s.last, "next") == 0,
              "the next line is read, CR removed (last '%s')", s.last);
        /* a line over the limit that ends within the same read */
        big[max + 1] = '\n';
        CHECK(mcp_line_feed(&r, big, max + 2, collect, &s) == 0 && s.too_long == 2 && s.n == 2, "limit+1 with newline");
        CHECK(mcp_line_feed(&r, "ok\n", 3, collect, &s) == 0 && s.n == 3 && strcmp(s.last, "ok") == 0, "recovered");
        CHECK(mcp_line_feed(&r, "\n\n", 2, collect, &s) == 0 && s.n == 5 && s.last_len == 0, "empty lines are lines");
        mcp_line_reader_free(&r);
        free(big);
}

static int kind_of(const char *line, int *ret_code) {
        mcp_msg m;
        csc_json_doc *id = NULL;
        char err[256];
        int r = mcp_msg_parse(line, strlen(line), &m, &id, err, sizeof err);
        csc_json_doc_free(id);
        *ret_code = r;
        if (r)
                return -1;
        int k = (int) m.kind;
        mcp_msg_done(&m);
        return k;
}

static void test_classify(void) {
        int code;
        CHECK(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &code) == MCP_MSG_REQUEST, "request");
        CHECK(kind_of("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"x\",\"params\":{}}", &code) == MCP_MSG_REQUEST, "string id");
        CHECK(kind_of("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", &code) == MCP_MSG_NOTIFICATION, "notification");
        CHECK(kind_of("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}", &code) == MCP_MSG_RESPONSE, "response");
        kind_of("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", &code);
        CHECK(code == MCP_INVALID_REQUEST, "a float id is invalid");
        kind_of("{\"jsonrpc\":\"2.0\",\"id\":99999999999999999999,\"method\":\"ping\"}", &code);
        CHECK(code == MCP_INVALID_REQUEST, "an id outside int64 is invalid");
        kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[1]}", &code);
        CHECK(code == MCP_INVALID_REQUEST, "array params are invalid");
        kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}", &code);
        CHECK(code == MCP_INVALID_REQUEST, "an empty method is invalid");
        kind_of("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", &code);
        CHECK(code == MCP_INVALID_REQUEST, "a batch is refused");
        kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"method\":\"x\"}", &code);
        CHECK(code == MCP_PARSE_ERROR, "duplicate keys are a parse error");
        kind_of("{\"id\":1,\"method\":\"ping\"}", &code);
        CHECK(code == MCP_INVALID_REQUEST, "no jsonrpc member is invalid");
}

int main(void) {
        test_limits();
        test_classify();
        return tap_done("mcp rpc");
}
