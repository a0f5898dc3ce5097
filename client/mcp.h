/* mcp.h — the state of one `cscctl mcp` server (one MCP session on stdio)
 * shared by its loop (mcp.c) and its tools (mcp_tools.c). */
#pragma once
#include <stdbool.h>
#include <poll.h>
#include <stdint.h>

#include "json.h"
#include "csc_limits.h"
#include "mcp_args.h"
#include "mcp_run.h"

/* A csc_run waiting for its execution (id_doc set), or a csc_start handle. */
typedef struct mcp_call {
        struct mcp_call *next;
        mcp_exec *exec;
        mcp_input in;                 /* the contract, kept to save it if it needs approval */
        csc_json_doc *id_doc;         /* csc_run: its JSON-RPC id as root */
        csc_json_doc *token_doc;      /* progressToken as root, or NULL */
        uint64_t progress_sent;       /* output bytes in the last progress notification */
        uint64_t progress_at_ms;
        unsigned handle;              /* csc_start: > 0 */
        uint64_t done_at_ms;          /* handles: when it finished (0: running) */
        csc_json_doc *result_doc;     /* handles: the final result, built once */
        csc_json *result;
} mcp_call;

/* A csc_poll call waiting (wait_ms) for news of a handle. */
typedef struct mcp_waiter {
        csc_json_doc *id_doc;
        unsigned handle;
        uint64_t offset[2];
        uint64_t deadline_ms;
} mcp_waiter;

typedef struct mcp_server {
        const char *socket_path;
        int out_fd;                   /* stdout: protocol messages only */
        mcp_identity who;
        char agent_id[257], session_id[48], user[256], cwd[4096];
        mcp_call *calls;
        unsigned next_handle;
        mcp_waiter waiters[CSC_MCP_MAX_WAITERS];
        size_t n_waiters;
} mcp_server;

uint64_t mcp_now_ms(void);

/* Sends a tools/call result: structured content, a text block, isError. */
int mcp_send_tool_result(mcp_server *s, const csc_json *id, const csc_json *structured, bool is_error);
/* An error result {status: "error", reason} for the request id. */
int mcp_send_tool_error(mcp_server *s, const csc_json *id, const char *reason);

/* tools/call: 0 when answered or deferred, MCP_INVALID_PARAMS for an unknown
 * tool, -errno on failure. */
int mcp_tool_call(mcp_server *s, const csc_json *id, const char *name, const csc_json *args,
                  const csc_json *progress_token);
/* csc_run (start false: answers when done) and csc_start (start true: a handle at once). */
int mcp_tool_run(mcp_server *s, const csc_json *id, const csc_json *args, const csc_json *progress_token, bool start);
int mcp_tool_poll(mcp_server *s, const csc_json *id, const csc_json *args);
int mcp_tool_cancel(mcp_server *s, const csc_json *id, const csc_json *args);
/* Reads every ready execution, finishes calls, sends progress, answers waiters. */
int mcp_calls_service(mcp_server *s, const struct pollfd *fds, size_t n_fds);
/* The fds to watch (at most CSC_MCP_MAX_HANDLES) and the next timer in ms (-1: none). */
size_t mcp_calls_pollfds(const mcp_server *s, struct pollfd *fds, size_t max, int *ret_timeout_ms);
/* notifications/cancelled: ends the csc_run with that request id, sends nothing. */
void mcp_calls_cancel_request(mcp_server *s, const csc_json *request_id);
void mcp_calls_free_all(mcp_server *s);
bool mcp_json_id_equal(const csc_json *a, const csc_json *b);
