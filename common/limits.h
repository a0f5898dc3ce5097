/* limits.h — every size, count and depth limit of libcsc and cscd, in one place.
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
#define CSC_MAX_ARG_BYTES        (128 * 1024)       /* UTF-8 bytes per argv element */
#define CSC_MAX_JUSTIFICATION    4000               /* code points */
#define CSC_MAX_INTENT           1000               /* code points */
#define CSC_MAX_REASON           4000               /* approval reason, code points */
#define CSC_MAX_ERROR_TEXT       4000               /* receipt "error", code points */
#define CSC_STDOUT_CAP           (10 * 1024 * 1024) /* per contract */
#define CSC_STDERR_CAP           (1024 * 1024)      /* per contract */
#define CSC_JSON_MAX_DEPTH       64                 /* nesting of arrays/objects */
#define CSC_FRAME_MAX_BYTES      (2 * 1024 * 1024)  /* one wire frame's payload */
#define CSC_TIMEOUT_MAX_SEC      86400
#define CSC_CONTRACT_ID_MIN      8
#define CSC_CONTRACT_ID_MAX      128
/* cscd's audit trail (daemon/audit.c). */
#define CSC_AUDIT_ARGV_MAX       4096               /* CSC_ARGV journal field, bytes, then "...[truncated]" */
#define CSC_AUDIT_REFUSED_BURST  10                 /* refused-request log lines per uid per window */
#define CSC_AUDIT_REFUSED_WINDOW_SEC 60
#define CSC_AUDIT_REFUSED_UIDS   64                 /* uids tracked by the refusal rate limiter */
