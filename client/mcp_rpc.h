/* mcp_rpc.h — the JSON-RPC 2.0 side of `cscctl mcp`: a bounded line reader
 * for the host's stdin (hostile input), message classification, and writers
 * that put exactly one compact JSON object and a newline on stdout.
 *
 * Nothing here logs or touches global state; the fuzz harness drives the
 * reader and the parser directly. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "json.h"

/* JSON-RPC error codes the bridge sends. */
enum {
        MCP_PARSE_ERROR = -32700,
        MCP_INVALID_REQUEST = -32600,
        MCP_METHOD_NOT_FOUND = -32601,
        MCP_INVALID_PARAMS = -32602,
        MCP_INTERNAL_ERROR = -32603,
};

typedef struct mcp_line_reader {
        csc_buf line;        /* bytes of the current, unfinished line */
        size_t max;          /* longest accepted line, without its newline */
        bool discarding;     /* a line went over max: drop bytes up to its newline */
} mcp_line_reader;

/* Called per complete line (newline and a trailing CR removed; line is
 * NUL-terminated and may be modified), or once with line NULL for a line
 * that went over the limit. A negative return stops feeding and is returned. */
typedef int (*mcp_line_fn)(void *userdata, char *line, size_t len);

void mcp_line_reader_init(mcp_line_reader *r, size_t max);
void mcp_line_reader_free(mcp_line_reader *r);
/* Feeds n bytes. 0, -ENOMEM, or what the callback returned. */
int mcp_line_feed(mcp_line_reader *r, const char *data, size_t n, mcp_line_fn fn, void *userdata);

typedef enum mcp_msg_kind {
        MCP_MSG_REQUEST,        /* method and id */
        MCP_MSG_NOTIFICATION,   /* method, no id */
        MCP_MSG_RESPONSE,       /* result or error with an id: the host answering us */
} mcp_msg_kind;

typedef struct mcp_msg {
        csc_json_doc *doc;      /* owns everything below */
        mcp_msg_kind kind;
        const csc_json *id;     /* string or integer; NULL for notifications */
        const char *method;
        const csc_json *params; /* object, or NULL when absent */
} mcp_msg;

/* Classifies one line. 0 with *ret filled (free with mcp_msg_done), or a
 * negative JSON-RPC code (MCP_PARSE_ERROR, MCP_INVALID_REQUEST) with a
 * message in ret_error and, when the id could be read, *ret_id_doc holding
 * it as its root (else NULL) so the error can echo it. */
int mcp_msg_parse(const char *line, size_t len, mcp_msg *ret, csc_json_doc **ret_id_doc, char *ret_error,
                  size_t error_size);
void mcp_msg_done(mcp_msg *m);

/* Each writes one line to fd (blocking, all or nothing). 0 or -errno. id may
 * be NULL (JSON null). */
int mcp_write_result(int fd, const csc_json *id, const csc_json *result);
int mcp_write_error(int fd, const csc_json *id, int code, const char *message);
int mcp_write_notification(int fd, const char *method, const csc_json *params);
