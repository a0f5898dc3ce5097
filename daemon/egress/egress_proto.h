/* egress_proto.h — the control protocol between cscd (root) and cscd-egress
 * (the unprivileged egress proxy), shared by both sides, plus every limit of
 * the proxy in one place.
 *
 * Transport: one AF_UNIX SOCK_SEQPACKET socket; one datagram is one message.
 * A message is an 8-byte header followed by its body; all integers are
 * big-endian:
 *
 *     u16 type | u16 reserved (0) | u32 body_length (== datagram length - 8)
 *
 * Strings are a u16 length followed by that many bytes: no NUL inside, no
 * terminator, each field has its own maximum. A message at most
 * EGRESS_MSG_MAX bytes; anything shorter or longer than its fields add up to
 * is refused whole (no field is acted on before every field parsed). Only
 * EGRESS_MSG_CONN carries a descriptor (exactly one, SCM_RIGHTS).
 *
 * Daemon -> proxy:
 *   CONFIG      u16 n (<= EGRESS_PRIVATE_MAX), n x { u8 family (4|6), u8 prefix,
 *               u8 addr[16] (IPv4 in the first 4 bytes, the rest zero) }
 *               The admin's egress_allow_private CIDRs; replaces the previous set.
 *   EXEC_BEGIN  str exec_id (1..EGRESS_EXEC_ID_MAX), u32 max_conns (1..EGRESS_CONNS_MAX),
 *               u32 idle_timeout_ms (EGRESS_IDLE_MIN_MS..EGRESS_IDLE_MAX_MS),
 *               u64 byte_cap (0 = none), u16 n (<= EGRESS_HOSTS_MAX),
 *               n x str host rule (1..EGRESS_RULE_MAX): the policy's allowed_egress_hosts
 *   EXEC_END    str exec_id: close that execution's connections; the proxy answers
 *               with its REPORTs, then EXEC_DONE
 *   CONN        str exec_id + one accepted TCP connection (SCM_RIGHTS)
 * Proxy -> daemon:
 *   READY       u32 protocol version (EGRESS_PROTO_VERSION), sent once when serving
 *   REPORT      str exec_id, u32 serial, u8 verdict, u8 proto, u16 port,
 *               str host (<= EGRESS_HOST_TEXT_MAX), str address (<= EGRESS_ADDR_TEXT_MAX),
 *               str reason (<= EGRESS_REASON_MAX), u64 bytes_up, u64 bytes_down
 *               one per connection, when it ends (or is refused)
 *   EXEC_DONE   str exec_id, u32 allowed, u32 denied, u64 bytes_up, u64 bytes_down
 *   ERROR       u16 type of the refused message, str exec_id (may be empty), str message
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits (every fixed size of the proxy; a value at a limit passes) ---- */
#define EGRESS_PROTO_VERSION      1
#define EGRESS_MSG_HEADER         8
#define EGRESS_MSG_MAX            (96 * 1024)  /* one control datagram */
#define EGRESS_EXEC_ID_MAX        128          /* bytes of an execution id */
#define EGRESS_HOSTS_MAX          256          /* allowed_egress_hosts entries */
#define EGRESS_RULE_MAX           262          /* "*." + 253 + ":65535" + "[]" slack */
#define EGRESS_PRIVATE_MAX        64           /* egress_allow_private CIDRs */
#define EGRESS_CONNS_MAX          64           /* concurrent connections per execution */
#define EGRESS_PENDING_MAX        64           /* per execution, still sending their request */
#define EGRESS_EXECS_MAX          4096         /* executions registered at once */
#define EGRESS_IDLE_MIN_MS        1000
#define EGRESS_IDLE_MAX_MS        86400000u
#define EGRESS_HOST_MAX           253          /* DNS name, without trailing dot */
#define EGRESS_HOST_TEXT_MAX      300          /* a host as reported (escaped, cut) */
#define EGRESS_ADDR_TEXT_MAX      64           /* "[v6]:port" text */
#define EGRESS_REASON_MAX         200
#define EGRESS_REQUEST_MAX        8192         /* request head (HTTP headers, SOCKS) */
#define EGRESS_REQUEST_TIMEOUT_MS 10000        /* to send a complete request */
#define EGRESS_CONNECT_TIMEOUT_MS 30000        /* resolve + connect upstream */
#define EGRESS_CLIENTHELLO_MAX    16384        /* client bytes held back to read the SNI */
#define EGRESS_RELAY_BUF          65536        /* per direction per connection (user buffer or pipe) */
#define EGRESS_PIPE_SIZE          262144       /* kernel pipe per direction once spliced */
#define EGRESS_RESOLVERS          4            /* resolver threads */
#define EGRESS_RESOLVE_QUEUE_MAX  256          /* lookups waiting for a thread */
#define EGRESS_ADDRS_MAX          16           /* addresses kept per lookup */
#define EGRESS_CONTROL_QUEUE_MAX  4096         /* messages waiting for the daemon */
#define EGRESS_CONTROL_FDS_MAX    4            /* descriptors read per message: room to notice extras */
#define EGRESS_CLOSING_LINGER_MS  2000         /* drain the client after a refusal, at most */
#define EGRESS_REPLY_MAX          1024         /* the client's buffer before the relay: replies only */
#define EGRESS_RELAY_PASSES       8            /* relay passes per wakeup, so one connection cannot starve others */

typedef enum egress_msg_type {
        EGRESS_MSG_CONFIG = 1,
        EGRESS_MSG_EXEC_BEGIN = 2,
        EGRESS_MSG_EXEC_END = 3,
        EGRESS_MSG_CONN = 4,
        EGRESS_MSG_READY = 0x80,
        EGRESS_MSG_REPORT = 0x81,
        EGRESS_MSG_EXEC_DONE = 0x82,
        EGRESS_MSG_ERROR = 0x83,
} egress_msg_type;

typedef enum egress_verdict {
        EGRESS_VERDICT_ALLOWED = 1, /* matched and connected (bytes may be 0) */
        EGRESS_VERDICT_DENIED = 2,  /* refused by the allowlist, an address rule or a limit */
        EGRESS_VERDICT_FAILED = 3,  /* allowed, but the request was malformed or upstream failed */
} egress_verdict;

typedef enum egress_proto {
        EGRESS_PROTO_NONE = 0,
        EGRESS_PROTO_CONNECT = 1, /* HTTP CONNECT tunnel */
        EGRESS_PROTO_HTTP = 2,    /* plain http:// absolute-URI request */
        EGRESS_PROTO_SOCKS5 = 3,
} egress_proto;

typedef struct egress_cidr {
        uint8_t family; /* 4 or 6 */
        uint8_t prefix; /* 0..32 or 0..128 */
        uint8_t addr[16];
} egress_cidr;

typedef struct egress_msg_config {
        size_t n;
        egress_cidr cidrs[EGRESS_PRIVATE_MAX];
} egress_msg_config;

typedef struct egress_msg_exec_begin {
        char exec_id[EGRESS_EXEC_ID_MAX + 1];
        uint32_t max_conns, idle_timeout_ms;
        uint64_t byte_cap;
        size_t n_hosts;
        char hosts[EGRESS_HOSTS_MAX][EGRESS_RULE_MAX + 1];
} egress_msg_exec_begin;

typedef struct egress_msg_report {
        char exec_id[EGRESS_EXEC_ID_MAX + 1];
        uint32_t serial;
        uint8_t verdict, proto;
        uint16_t port;
        char host[EGRESS_HOST_TEXT_MAX + 1];
        char address[EGRESS_ADDR_TEXT_MAX + 1];
        char reason[EGRESS_REASON_MAX + 1];
        uint64_t bytes_up, bytes_down;
} egress_msg_report;

typedef struct egress_msg_exec_done {
        char exec_id[EGRESS_EXEC_ID_MAX + 1];
        uint32_t allowed, denied;
        uint64_t bytes_up, bytes_down;
} egress_msg_exec_done;

typedef struct egress_msg_error {
        uint16_t for_type;
        char exec_id[EGRESS_EXEC_ID_MAX + 1];
        char message[EGRESS_REASON_MAX + 1];
} egress_msg_error;

/* A decoded message. Large (exec_begin holds the allowlist): allocate it. */
typedef struct egress_msg {
        egress_msg_type type;
        union {
                egress_msg_config config;
                egress_msg_exec_begin exec_begin;
                char exec_id[EGRESS_EXEC_ID_MAX + 1]; /* EXEC_END, CONN */
                uint32_t version;                     /* READY */
                egress_msg_report report;
                egress_msg_exec_done exec_done;
                egress_msg_error error;
        };
} egress_msg;

/* ---- the bounded reader: getters fail with -EBADMSG instead of overreading ---- */
typedef struct egress_rbuf {
        const uint8_t *p;
        size_t len, off;
} egress_rbuf;

void egress_rbuf_init(egress_rbuf *b, const void *p, size_t len);
int egress_rbuf_u8(egress_rbuf *b, uint8_t *ret);
int egress_rbuf_u16(egress_rbuf *b, uint16_t *ret);
int egress_rbuf_u32(egress_rbuf *b, uint32_t *ret);
int egress_rbuf_u64(egress_rbuf *b, uint64_t *ret);
int egress_rbuf_bytes(egress_rbuf *b, void *out, size_t n);
/* A u16-length string of at most max bytes, no NUL, written NUL-terminated to
 * out (max + 1 bytes). -EBADMSG short, -EMSGSIZE longer than max, -EILSEQ NUL. */
int egress_rbuf_str(egress_rbuf *b, char *out, size_t max);

/* ---- the writer: a fixed buffer; puts fail with -EMSGSIZE past the end ---- */
typedef struct egress_wbuf {
        uint8_t data[EGRESS_MSG_MAX];
        size_t len;
        int error; /* first failure, sticky; checked once by egress_wbuf_finish */
} egress_wbuf;

void egress_wbuf_begin(egress_wbuf *b, egress_msg_type type);
void egress_wbuf_u8(egress_wbuf *b, uint8_t v);
void egress_wbuf_u16(egress_wbuf *b, uint16_t v);
void egress_wbuf_u32(egress_wbuf *b, uint32_t v);
void egress_wbuf_u64(egress_wbuf *b, uint64_t v);
void egress_wbuf_bytes(egress_wbuf *b, const void *p, size_t n);
void egress_wbuf_str(egress_wbuf *b, const char *s, size_t max);
/* Writes the body length into the header; 0 or the first put's error. */
int egress_wbuf_finish(egress_wbuf *b);

/* Encodes any message (either direction) into b. 0 or -EMSGSIZE/-EINVAL. */
int egress_msg_encode(const egress_msg *m, egress_wbuf *b);
/* Decodes one whole datagram into ret (meaningful only on success). -EBADMSG
 * (short, trailing bytes, length mismatch), -EMSGSIZE (a field over its limit),
 * -EILSEQ (NUL in a string), -EPROTO (unknown type, nonzero reserved, a value
 * out of range). ret_what, when not NULL, names the failing field. */
int egress_msg_decode(const void *data, size_t len, egress_msg *ret, const char **ret_what);

const char *egress_verdict_name(egress_verdict v);
const char *egress_proto_name(egress_proto p);
