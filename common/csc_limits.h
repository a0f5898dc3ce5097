/* csc_limits.h — every size, count and depth limit of libcsc and cscd, in one place.
 * A value exactly at a limit passes; one past it is rejected (spec §8). */
#pragma once

#define CSC_CONTRACT_MAX_BYTES   (1024 * 1024)      /* contract file or member */
#define CSC_POLICY_MAX_BYTES     (512 * 1024)       /* checked before parsing */
#define CSC_RECEIPT_MAX_BYTES    (1024 * 1024)
#define CSC_APPROVAL_MAX_BYTES   (64 * 1024)
#define CSC_DECISION_MAX_BYTES   (1024 * 1024)
#define CSC_KEY_FILE_MAX_BYTES   (16 * 1024)
#define CSC_CONFIG_MAX_BYTES     (256 * 1024)
#define CSC_MAX_COMMANDS         20
#define CSC_MAX_SEGMENTS         10
#define CSC_MAX_ARGV             200
#define CSC_MAX_SECRET_REFS      16                 /* secret_refs per command (STRICTER: the reference has none) */
#define CSC_MAX_ARG_BYTES        (128 * 1024)       /* UTF-8 bytes per argv element */
#define CSC_MAX_JUSTIFICATION    4000               /* code points */
#define CSC_MAX_INTENT           1000               /* code points */
#define CSC_MAX_REASON           4000               /* approval reason, code points */
#define CSC_MAX_ERROR_TEXT       4000               /* receipt "error", code points */
#define CSC_STDOUT_CAP           (10 * 1024 * 1024) /* per contract */
#define CSC_STDERR_CAP           (1024 * 1024)      /* per contract */
#define CSC_JSON_MAX_DEPTH       64                 /* nesting of arrays/objects */
#define CSC_FRAME_MAX_BYTES      (2 * 1024 * 1024)  /* one wire frame's payload */
/* cscd connections: back-pressure on a peer that does not read its replies. */
#define CSC_CONN_OUT_PAUSE_BYTES (1024 * 1024)      /* a submit's output sources pause above this unsent backlog */
#define CSC_CONN_READ_PAUSE_BYTES (64 * 1024)       /* no further request is read above this unsent backlog */
/* A connection whose unsent backlog would pass this is closed. A submit never
 * gets there: its output pauses at CSC_CONN_OUT_PAUSE_BYTES, after which at
 * most one output frame per stream, its started/exit frames and the receipt
 * (each at most one frame) are queued. Requests stop being read at
 * CSC_CONN_READ_PAUSE_BYTES, plus one reply. */
#define CSC_CONN_OUT_HARD_CAP_BYTES (CSC_CONN_OUT_PAUSE_BYTES + 2 * (CSC_FRAME_MAX_BYTES + 4))
/* cscctl mcp (the stdio MCP bridge) */
#define CSC_MCP_LINE_MAX_BYTES   (4 * 1024 * 1024)  /* one JSON-RPC line from the host */
#define CSC_MCP_OUTPUT_CAP       (32 * 1024)        /* stdout/stderr bytes in one tool result */
#define CSC_MCP_MAX_RUNNING      16                 /* executions running at once per server */
#define CSC_MCP_MAX_HANDLES      64                 /* kept handles, finished ones included */
#define CSC_MCP_HANDLE_TTL_SEC   600                /* a finished handle is kept this long */
#define CSC_MCP_MAX_WAITERS      64                 /* csc_poll calls waiting at once */
#define CSC_MCP_POLL_WAIT_MAX_MS 30000              /* longest csc_poll wait_ms */
#define CSC_MCP_PROGRESS_MIN_MS  100                /* at most 10 progress notifications a second */
#define CSC_MCP_MAX_APPROVALS    16                 /* approval files per call */
#define CSC_TIMEOUT_MAX_SEC      86400
#define CSC_CONTRACT_ID_MIN      8
#define CSC_CONTRACT_ID_MAX      128
#define CSC_PIPE_DRAIN_MAX       (1024 * 1024)      /* read from a dead command's pipe, per stream,
                                                       when its capacity cannot be asked (F_GETPIPE_SZ) */
#define CSC_EXECUTOR_GRACE_SEC   30                 /* the executor's time outside its commands' own
                                                       timeouts: before, between and after them */
/* cscd's audit trail (daemon/audit.c). */
#define CSC_AUDIT_ARGV_MAX       4096               /* CSC_ARGV journal field, bytes, then "...[truncated]" */
#define CSC_AUDIT_REFUSED_BURST  10                 /* refused-request log lines per uid per window */
#define CSC_AUDIT_REFUSED_WINDOW_SEC 60
#define CSC_AUDIT_REFUSED_UIDS   64                 /* uids tracked by the refusal rate limiter */
/* cscd's admission queue: bytes of request frames held at most over all
 * waiting submits (each frame is at most CSC_FRAME_MAX_BYTES); cscd.conf
 * max_queued bounds the count, this the memory, whichever comes first. */
#define CSC_ADMISSION_MAX_BYTES  (64u << 20)
/* Receipts' group commit: the longest a durable-before-sent receipt waits
 * for the shared fdatasync (daemon/audit.c). */
#define CSC_AUDIT_COMMIT_MAX_DELAY_USEC 2000u
