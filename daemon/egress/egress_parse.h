/* egress_parse.h — parsers for the untrusted bytes a sandboxed client sends
 * to cscd-egress: the HTTP/1.1 proxy request head (CONNECT and http://
 * absolute-URI requests), the SOCKS5 greeting and request, and the SNI of a
 * TLS ClientHello. Pure (no I/O), incremental by re-parsing: call again with
 * the longer buffer while the result is EGRESS_PARSE_MORE.
 *
 * Returns: EGRESS_PARSE_MORE (> 0) need more bytes; EGRESS_PARSE_DONE (> 0)
 * ret filled; negative errno for a request to refuse, with *ret_reason set to
 * a short static text: -EINVAL malformed, -EMSGSIZE over EGRESS_REQUEST_MAX,
 * -EOPNOTSUPP a method, command or scheme the proxy does not serve,
 * -EAFNOSUPPORT a SOCKS address type it does not know. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "egress_match.h"
#include "egress_proto.h"

enum {
        EGRESS_PARSE_MORE = 1,
        EGRESS_PARSE_DONE = 2,
};

/* Room for the rewritten head of a plain HTTP request. */
#define EGRESS_HEAD_OUT_MAX (EGRESS_REQUEST_MAX + 64)

typedef struct egress_request {
        egress_proto proto;
        egress_host host;
        uint16_t port;
        size_t consumed; /* bytes of the input that were the request */
        /* EGRESS_PROTO_HTTP: the head to send upstream instead of the client's:
         * origin-form target, hop-by-hop headers removed, "Connection: close". */
        char head[EGRESS_HEAD_OUT_MAX];
        size_t head_len;
} egress_request;

/* An HTTP proxy request head (CONNECT authority, or METHOD http://... with a
 * Host header that names the same host and port). */
int egress_http_parse(const uint8_t *buf, size_t len, egress_request *ret, const char **ret_reason);

/* SOCKS5 greeting: VER 5, NMETHODS, METHODS. DONE sets *ret_consumed and
 * *ret_noauth (method 0, "no authentication", offered). */
int egress_socks_greeting_parse(const uint8_t *buf, size_t len, size_t *ret_consumed, bool *ret_noauth,
                                const char **ret_reason);
/* SOCKS5 request: VER 5, CMD 1 (CONNECT) only, RSV 0, ATYP 1/3/4, port. */
int egress_socks_request_parse(const uint8_t *buf, size_t len, egress_request *ret, const char **ret_reason);

enum {
        EGRESS_TLS_NOT_TLS = 3, /* does not start with a TLS handshake record */
        EGRESS_TLS_NO_SNI = 4,  /* a ClientHello without server_name */
        EGRESS_TLS_SNI = 5,     /* *ret_sni filled */
};
/* Reads the server_name of a ClientHello, reassembled from handshake records
 * (at most EGRESS_CLIENTHELLO_MAX bytes). EGRESS_PARSE_MORE, one of the
 * EGRESS_TLS_* outcomes, or -EINVAL/-EMSGSIZE for a malformed or oversized one. */
int egress_tls_sni(const uint8_t *buf, size_t len, egress_host *ret_sni, const char **ret_reason);

/* Same kind and same normalized text. */
bool egress_host_equal(const egress_host *a, const egress_host *b);
