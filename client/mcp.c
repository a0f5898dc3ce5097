/* mcp.c — `cscctl mcp`: a stdio MCP server (JSON-RPC 2.0, one message per
 * line) for agent hosts. This file owns the loop and the protocol methods:
 * initialize, ping, tools/list, tools/call, cancellation. Lines from the host
 * are hostile input: parsed strictly, capped in size, answered with -32700 or
 * -32600 when malformed, and the server keeps serving. Only protocol
 * messages go to stdout; diagnostics go to stderr. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build-config.h"
#include "cscctl.h"
#include "mcp.h"
#include "mcp_rpc.h"
#include "mcp_tools_json.h"
#include "uuid.h"

static const char *const protocol_versions[] = { "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05" };

typedef struct loop {
        mcp_server *s;
        csc_json_doc *tools_doc;      /* schemas/mcp-tools.json, embedded */
} loop;

uint64_t mcp_now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

static int on_initialize(loop *l, const csc_json *id, const csc_json *params) {
        const char *asked = csc_json_get_str(params, "protocolVersion"), *version = protocol_versions[0];
        for (size_t i = 0; asked && i < sizeof protocol_versions / sizeof protocol_versions[0]; i++)
                if (strcmp(asked, protocol_versions[i]) == 0)
                        version = protocol_versions[i];
        const csc_json *name = csc_json_get(csc_json_get(params, "clientInfo"), "name");
        if (name && name->type == CSC_JSON_STRING && name->string.len > 0 && name->string.len < sizeof l->s->agent_id &&
            !memchr(name->string.ptr, 0, name->string.len))
                memcpy(l->s->agent_id, name->string.ptr, name->string.len + 1);
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL, *caps = doc ? csc_json_new_object(doc) : NULL;
        csc_json *tools = doc ? csc_json_new_object(doc) : NULL, *info = doc ? csc_json_new_object(doc) : NULL;
        int r = o && caps && tools && info ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, tools, "listChanged", csc_json_new_bool(doc, false));
        r = r ?: csc_json_object_set(doc, caps, "tools", tools);
        r = r ?: csc_json_object_set(doc, info, "name", csc_json_new_string(doc, "cscd"));
        r = r ?: csc_json_object_set(doc, info, "title", csc_json_new_string(doc, "cscd: sandboxed commands with signed receipts"));
        r = r ?: csc_json_object_set(doc, info, "version", csc_json_new_string(doc, CSC_VERSION));
        r = r ?: csc_json_object_set(doc, o, "protocolVersion", csc_json_new_string(doc, version));
        r = r ?: csc_json_object_set(doc, o, "capabilities", caps);
        r = r ?: csc_json_object_set(doc, o, "serverInfo", info);
        r = r ?: csc_json_object_set(doc, o, "instructions", csc_json_new_string(doc,
                "Run commands through cscd: call csc_policy first to see what you may run, csc_check to test a "
                "plan, csc_run to run (argv, no shell; declare read_paths/write_paths; give an intent). Long "
                "runs: csc_start, csc_poll, csc_cancel. A needs_approval result says which command a human runs; "
                "then call again with the same arguments plus approvals."));
        r = r ?: mcp_write_result(l->s->out_fd, id, o);
        csc_json_doc_free(doc);
        return r;
}

static int on_tools_call(loop *l, const csc_json *id, const csc_json *params) {
        const csc_json *name = csc_json_get(params, "name"), *args = csc_json_get(params, "arguments");
        if (!name || name->type != CSC_JSON_STRING)
                return mcp_write_error(l->s->out_fd, id, MCP_INVALID_PARAMS, "tools/call needs a string \"name\"");
        if (args && args->type != CSC_JSON_OBJECT)
                return mcp_send_tool_error(l->s, id, "arguments: must be an object");
        const csc_json *token = csc_json_get(csc_json_get(params, "_meta"), "progressToken");
        if (token && token->type != CSC_JSON_STRING && token->type != CSC_JSON_INT)
                token = NULL;
        int r = mcp_tool_call(l->s, id, name->string.ptr, args, token);
        if (r == MCP_INVALID_PARAMS) {
                char msg[200];
                snprintf(msg, sizeof msg, "unknown tool \"%.100s\"", name->string.ptr);
                return mcp_write_error(l->s->out_fd, id, MCP_INVALID_PARAMS, msg);
        }
        return r;
}

static int on_request(loop *l, const mcp_msg *m) {
        const csc_json *id = m->id;
        if (strcmp(m->method, "initialize") == 0)
                return on_initialize(l, id, m->params);
        if (strcmp(m->method, "ping") == 0) {
                csc_json_doc *doc = csc_json_doc_new();
                csc_json *o = doc ? csc_json_new_object(doc) : NULL;
                int r = o ? mcp_write_result(l->s->out_fd, id, o) : -ENOMEM;
                csc_json_doc_free(doc);
                return r;
        }
        if (strcmp(m->method, "tools/list") == 0) {
                csc_json_doc *doc = csc_json_doc_new();
                csc_json *o = doc ? csc_json_new_object(doc) : NULL;
                const csc_json *tools = csc_json_get(csc_json_doc_root(l->tools_doc), "tools");
                int r = o ? csc_json_object_set(doc, o, "tools", csc_json_copy(doc, tools)) : -ENOMEM;
                r = r ?: mcp_write_result(l->s->out_fd, id, o);
                csc_json_doc_free(doc);
                return r;
        }
        if (strcmp(m->method, "tools/call") == 0)
                return on_tools_call(l, id, m->params);
        /* Everything else, server/discover included, gets an answer at once: silence makes hosts wait. */
        char msg[200];
        snprintf(msg, sizeof msg, "method not found: %.100s", m->method);
        return mcp_write_error(l->s->out_fd, id, MCP_METHOD_NOT_FOUND, msg);
}

static int on_notification(loop *l, const mcp_msg *m) {
        if (strcmp(m->method, "notifications/cancelled") == 0) {
                const csc_json *rid = csc_json_get(m->params, "requestId");
                if (rid)
                        mcp_calls_cancel_request(l->s, rid);
        }
        return 0;   /* notifications/initialized and unknown notifications need no answer */
}

static int on_line(void *userdata, char *line, size_t len) {
        loop *l = userdata;
        if (!line) {
                fprintf(stderr, "cscctl mcp: refused a line over %d bytes\n", CSC_MCP_LINE_MAX_BYTES);
                return mcp_write_error(l->s->out_fd, NULL, MCP_PARSE_ERROR, "line too long (over 4 MiB)");
        }
        size_t i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
                i++;
        if (i == len)
                return 0;   /* blank lines carry nothing */
        mcp_msg m;
        csc_json_doc *id_doc = NULL;
        char err[1100];
        int r = mcp_msg_parse(line, len, &m, &id_doc, err, sizeof err);
        if (r < 0 && r != MCP_PARSE_ERROR && r != MCP_INVALID_REQUEST)
                return r;
        if (r < 0) {
                r = mcp_write_error(l->s->out_fd, id_doc ? csc_json_doc_root(id_doc) : NULL, r, err);
                csc_json_doc_free(id_doc);
                return r;
        }
        csc_json_doc_free(id_doc);
        r = m.kind == MCP_MSG_REQUEST ? on_request(l, &m) : m.kind == MCP_MSG_NOTIFICATION ? on_notification(l, &m) : 0;
        mcp_msg_done(&m);
        return r;
}

static void identity_init(mcp_server *s) {
        char uuid[CSC_UUID_BUF];
        csc_uuid4(uuid);
        snprintf(s->session_id, sizeof s->session_id, "mcp-%s", uuid);
        snprintf(s->agent_id, sizeof s->agent_id, "mcp-client");
        struct passwd *pw = getpwuid(getuid());
        const char *user = pw ? pw->pw_name : getenv("USER");
        if (user && *user)
                snprintf(s->user, sizeof s->user, "%s", user);
        else
                snprintf(s->user, sizeof s->user, "uid-%u", (unsigned) getuid());
        if (!getcwd(s->cwd, sizeof s->cwd))
                snprintf(s->cwd, sizeof s->cwd, "/");
        s->who = (mcp_identity) { s->agent_id, s->session_id, s->user, s->cwd };
}

/* The loop: stdin lines and every execution's socket. Ends when stdin closes. */
static int serve(loop *l) {
        mcp_line_reader rd;
        mcp_line_reader_init(&rd, CSC_MCP_LINE_MAX_BYTES);
        int r = 0;
        for (;;) {
                struct pollfd fds[1 + CSC_MCP_MAX_HANDLES];
                int timeout = -1;
                fds[0] = (struct pollfd) { .fd = STDIN_FILENO, .events = POLLIN };
                size_t n = 1 + mcp_calls_pollfds(l->s, fds + 1, CSC_MCP_MAX_HANDLES, &timeout);
                if (poll(fds, n, timeout) < 0 && errno != EINTR) {
                        r = -errno;
                        break;
                }
                r = mcp_calls_service(l->s, fds + 1, n - 1);
                if (r < 0)
                        break;
                if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;
                char buf[65536];
                ssize_t k = read(STDIN_FILENO, buf, sizeof buf);
                if (k < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (k <= 0)
                        break;   /* the host closed stdin: stop, cancelling what runs */
                r = mcp_line_feed(&rd, buf, (size_t) k, on_line, l);
                if (r < 0)
                        break;
        }
        mcp_line_reader_free(&rd);
        mcp_calls_free_all(l->s);
        return r;
}

static const char mcp_usage[] =
        "usage: cscctl [--socket PATH] mcp [--socket PATH]\n"
        "Serves the Model Context Protocol on stdin/stdout (JSON-RPC 2.0, one message\n"
        "per line) for agent hosts (Claude Code, Codex CLI, OpenAI Agents SDK, LangGraph).\n"
        "Tools: csc_policy, csc_check, csc_run, csc_start, csc_poll, csc_cancel. Each\n"
        "call is one contract submitted to cscd as the user running this server. Logs\n"
        "go to stderr. It exits when stdin closes, cancelling running commands.\n"
        "The socket: --socket, else $CSC_SOCKET, else /run/csc.sock. Contracts that need\n"
        "approval are saved under $XDG_STATE_HOME/csc/pending/ (else\n"
        "~/.local/state/csc/pending/). See docs/agents.md.\n"
        "exit: 0 when stdin closed, 64 usage, 70 internal error\n";

int cmd_mcp(const cscctl_globals *g, int argc, char **argv) {
        if (wants_help(argc, argv, mcp_usage))
                return EXIT_OK;
        const char *socket_path = g->socket_path;
        for (int i = 1; i < argc; i++) {   /* hosts' configs often put options after the command */
                if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
                        socket_path = argv[++i];
                else if (strncmp(argv[i], "--socket=", 9) == 0)
                        socket_path = argv[i] + 9;
                else
                        return usage_error(mcp_usage, "unexpected argument '%s'", argv[i]);
        }
        signal(SIGPIPE, SIG_IGN);   /* a host that went away is seen as EPIPE on stdout */
        /* Nothing but protocol messages may reach stdout: the protocol gets a private copy of
         * it, and fd 1 becomes stderr so a stray write anywhere cannot corrupt the stream. */
        int out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        if (out < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
                return fail(EXIT_SOFTWARE, "mcp: cannot set up stdout: %s", strerror(errno));
        mcp_server s = { .socket_path = socket_path, .out_fd = out };
        identity_init(&s);
        loop l = { .s = &s };
        csc_error err = { 0 };
        if (csc_json_parse(mcp_tools_json, strlen(mcp_tools_json), &l.tools_doc, &err) < 0)
                return fail(EXIT_SOFTWARE, "embedded tool schemas are invalid: %s", err.message);
        int r = serve(&l);
        csc_json_doc_free(l.tools_doc);
        if (r < 0 && r != -EPIPE)
                return fail(EXIT_SOFTWARE, "mcp: %s", strerror(-r));
        return EXIT_OK;
}
