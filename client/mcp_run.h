/* mcp_run.h — one contract submitted to cscd on behalf of an MCP tool call:
 * its own connection, the frames as they arrive (non-blocking), the output
 * kept for csc_poll, and the result object every run tool returns. Also the
 * blocking one-frame requests (policy, check). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "json.h"
#include "mcp_args.h"

typedef struct mcp_exec mcp_exec;

enum { MCP_STDOUT = 0, MCP_STDERR = 1 };

/* Connects, sends the submit request built from in (in stays the caller's).
 * 0 with *ret, 1 when cscd cannot be reached (message in ret_error), -errno. */
int mcp_exec_start(const char *socket_path, const mcp_input *in, mcp_exec **ret, char *ret_error, size_t error_size);
mcp_exec *mcp_exec_free(mcp_exec *e);   /* closes the connection if still open */
int mcp_exec_fd(const mcp_exec *e);     /* -1 once done */
/* Reads what is available. 0 when more is to come, 1 when the execution is
 * done (receipt, error frame, or the connection ended), -ENOMEM. */
int mcp_exec_read(mcp_exec *e);
bool mcp_exec_done(const mcp_exec *e);
/* Ends a running execution by closing its connection: cscd kills the
 * sandbox and still signs and logs the receipt. */
void mcp_exec_cancel(mcp_exec *e);
/* success | failed | blocked | needs_approval | error, or running. */
const char *mcp_exec_status(const mcp_exec *e);
/* All output bytes received so far on both streams (only grows). */
uint64_t mcp_exec_total_bytes(const mcp_exec *e);
/* The output kept for a stream (up to cscd's capture caps). */
void mcp_exec_output(const mcp_exec *e, int stream, const char **ret_data, size_t *ret_len);
/* The tail of the latest output, as valid UTF-8, trailing newlines cut. */
int mcp_exec_last_lines(const mcp_exec *e, csc_json_doc *doc, csc_json **ret);
/* The run result object (schema: schemas/mcp-tools.json, csc_run output). */
int mcp_exec_result(const mcp_exec *e, csc_json_doc *doc, csc_json **ret);
const char *mcp_exec_contract_sha256(const mcp_exec *e);

/* Appends bytes as UTF-8, each invalid sequence replaced by U+FFFD. */
int mcp_utf8_append(csc_buf *out, const char *p, size_t n);
/* Head and tail of bytes as a JSON string, capped at CSC_MCP_OUTPUT_CAP with
 * a "[… N bytes omitted …]" marker between them. */
csc_json *mcp_capped_string(csc_json_doc *doc, const char *p, size_t n);

/* A connection to cscd: the fd, or -1 with the reason in ret_error. */
int mcp_daemon_connect(const char *socket_path, char *ret_error, size_t error_size);
/* Sends one frame, all of it (blocking). 0 or -errno. */
int mcp_send_frame(int fd, const csc_json *frame);
/* One request, one reply frame (blocking, bounded wait). 0 with *ret (an
 * error frame included), 1 when cscd cannot be reached or answered badly
 * (ret_error says why), -ENOMEM. */
int mcp_daemon_request(const char *socket_path, const csc_json *request, csc_json_doc **ret, char *ret_error,
                       size_t error_size);
