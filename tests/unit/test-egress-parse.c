/* test-egress-parse.c — the proxy's request parsers, table-driven: HTTP
 * CONNECT and absolute-URI requests (and what the origin server receives),
 * SOCKS5 greetings and requests, TLS ClientHello SNI; each fed whole and
 * byte by byte (EGRESS_PARSE_MORE until the last byte). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "egress_parse.h"
#include "tap.h"

static egress_request req;

static const struct {
        const char *in;
        int want;          /* EGRESS_PARSE_DONE or a negative errno */
        int proto;
        const char *host;
        unsigned port;
        const char *head;  /* the rewritten head, for plain HTTP */
} http[] = {
        { "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", EGRESS_PARSE_DONE, EGRESS_PROTO_CONNECT,
          "example.com", 443, NULL },
        { "CONNECT Example.COM.:8443 HTTP/1.0\r\n\r\n", EGRESS_PARSE_DONE, EGRESS_PROTO_CONNECT, "example.com", 8443, NULL },
        { "CONNECT [2001:db8::1]:443 HTTP/1.1\r\n\r\n", EGRESS_PARSE_DONE, EGRESS_PROTO_CONNECT, "2001:db8::1", 443, NULL },
        { "CONNECT example.com HTTP/1.1\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },               /* port required */
        { "CONNECT example.com:443 HTTP/1.1\r\nHost: other.com:443\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },
        { "CONNECT example.com:443 HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },
        { "CONNECT 2130706433:443 HTTP/1.1\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },
        { "CONNECT exa%6dple.com:443 HTTP/1.1\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },
        { "CONNECT example.com:443 HTTP/2.0\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },
        { "CONNECT  example.com:443 HTTP/1.1\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },
        { "connect example.com:443 HTTP/1.1\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },        /* methods are upper case */
        { "OPTIONS example.com:443 HTTP/1.1\r\n\r\n", -EOPNOTSUPP, 0, NULL, 0, NULL },  /* not CONNECT: needs http:// */
        { "CONNECT example.com:443 HTTP/1.1\nHost: x\r\n\r\n", -EINVAL, 0, NULL, 0, NULL }, /* bare LF */
        { "CONNECT example.com:443 HTTP/1.1\r\nX: a\rb\r\n\r\n", -EINVAL, 0, NULL, 0, NULL }, /* bare CR */
        { "CONNECT example.com:443 HTTP/1.1\r\nX: a\r\n b\r\n\r\n", -EINVAL, 0, NULL, 0, NULL }, /* folding */
        { "CONNECT example.com:443 HTTP/1.1\r\nBad Name: a\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },
        { "CONNECT example.com:443 HTTP/1.1\r\nX: a\x01\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },
        { "GET http://example.com/a?b=c HTTP/1.1\r\nHost: example.com\r\nProxy-Connection: keep-alive\r\n"
          "Connection: keep-alive\r\nKeep-Alive: 5\r\nProxy-Authorization: Basic eA==\r\nAccept: */*\r\n\r\n",
          EGRESS_PARSE_DONE, EGRESS_PROTO_HTTP, "example.com", 80,
          "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nConnection: close\r\n\r\n" },
        { "POST HTTP://Example.com:8080 HTTP/1.1\r\nHost: example.com:8080\r\nContent-Length: 3\r\n\r\n", EGRESS_PARSE_DONE,
          EGRESS_PROTO_HTTP, "example.com", 8080,
          "POST / HTTP/1.1\r\nHost: example.com:8080\r\nContent-Length: 3\r\nConnection: close\r\n\r\n" },
        { "GET http://example.com?q HTTP/1.1\r\nHost: example.com:80\r\n\r\n", EGRESS_PARSE_DONE, EGRESS_PROTO_HTTP,
          "example.com", 80, "GET /?q HTTP/1.1\r\nHost: example.com:80\r\nConnection: close\r\n\r\n" },
        { "GET http://example.com/ HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },
        { "GET http://example.com/ HTTP/1.1\r\nHost: evil.com\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },
        { "GET http://example.com/ HTTP/1.1\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },             /* no Host */
        { "GET http://u:p@example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },
        { "GET http://example.com/#f HTTP/1.1\r\nHost: example.com\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },
        { "GET https://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", -EOPNOTSUPP, 0, NULL, 0, NULL },
        { "GET ftp://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", -EOPNOTSUPP, 0, NULL, 0, NULL },
        { "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },          /* origin-form */
        { "GET http://127.1/ HTTP/1.1\r\nHost: 127.1\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },
        { "\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },
        { "GET http://example.com/\x7f HTTP/1.1\r\nHost: example.com\r\n\r\n", -EINVAL, 0, NULL, 0, NULL },
};

static void test_http(void) {
        for (size_t i = 0; i < sizeof http / sizeof *http; i++) {
                const uint8_t *in = (const uint8_t *) http[i].in;
                size_t n = strlen(http[i].in);
                const char *why = NULL;
                /* every prefix short of the end asks for more (or fails the same way early) */
                bool more_ok = true;
                for (size_t k = 0; k + 1 < n; k++) {
                        int r = egress_http_parse(in, k, &req, &why);
                        if (r != EGRESS_PARSE_MORE && !(http[i].want < 0 && r == http[i].want))
                                more_ok = false;
                }
                CHECK(more_ok, "row %zu: prefixes ask for more", i);
                memset(&req, 0, sizeof req);
                int r = egress_http_parse(in, n, &req, &why);
                CHECK(r == http[i].want, "row %zu: got %d (%s), want %d", i, r, why ? why : "", http[i].want);
                if (r != EGRESS_PARSE_DONE || http[i].want != EGRESS_PARSE_DONE)
                        continue;
                CHECK((int) req.proto == http[i].proto && strcmp(req.host.name, http[i].host) == 0 &&
                              req.port == http[i].port && req.consumed == n,
                      "row %zu: %s:%u consumed %zu", i, req.host.name, req.port, req.consumed);
                if (http[i].head)
                        CHECK(req.head_len == strlen(http[i].head) && memcmp(req.head, http[i].head, req.head_len) == 0,
                              "row %zu: head '%.*s'", i, (int) req.head_len, req.head);
        }
        /* bytes after the head are left for the tunnel */
        const char *pipelined = "CONNECT example.com:443 HTTP/1.1\r\n\r\n\x16\x03\x01";
        CHECK(egress_http_parse((const uint8_t *) pipelined, strlen(pipelined), &req, NULL) == EGRESS_PARSE_DONE &&
                      req.consumed == strlen(pipelined) - 3,
              "pipelined bytes not consumed");
        /* ... whatever they are: a tunnel's first bytes may be NUL (they are not the request) */
        static const char early[] = "CONNECT example.com:443 HTTP/1.1\r\n\r\n\0\0\0\0";
        CHECK(egress_http_parse((const uint8_t *) early, sizeof early - 1, &req, NULL) == EGRESS_PARSE_DONE &&
                      req.consumed == sizeof early - 5,
              "NUL bytes after the head belong to the tunnel");
        static const char nul_head[] = "CONNECT example.com:443 HTTP/1.1\r\nX: a\0b\r\n\r\n";
        CHECK(egress_http_parse((const uint8_t *) nul_head, sizeof nul_head - 1, &req, NULL) == -EINVAL,
              "a NUL inside the head is refused");
        /* NUL anywhere, and the head size limit */
        CHECK(egress_http_parse((const uint8_t *) "CONNECT a\0b:443", 15, &req, NULL) == -EINVAL, "NUL");
        uint8_t *big = malloc(EGRESS_REQUEST_MAX + 10);
        memset(big, 'a', EGRESS_REQUEST_MAX + 10);
        memcpy(big, "GET http://a.b/ HTTP/1.1\r\nX: ", 29);
        CHECK(egress_http_parse(big, EGRESS_REQUEST_MAX - 1, &req, NULL) == EGRESS_PARSE_MORE, "just under the limit");
        CHECK(egress_http_parse(big, EGRESS_REQUEST_MAX, &req, NULL) == -EMSGSIZE, "at the limit without an end");
        free(big);
}

static void test_socks(void) {
        size_t used = 0;
        bool noauth = false;
        CHECK(egress_socks_greeting_parse((const uint8_t *) "\5", 1, &used, &noauth, NULL) == EGRESS_PARSE_MORE, "greeting 1 byte");
        CHECK(egress_socks_greeting_parse((const uint8_t *) "\5\2\2", 3, &used, &noauth, NULL) == EGRESS_PARSE_MORE, "greeting short");
        CHECK(egress_socks_greeting_parse((const uint8_t *) "\5\2\2\0", 4, &used, &noauth, NULL) == EGRESS_PARSE_DONE &&
                      used == 4 && noauth, "greeting with no-auth");
        CHECK(egress_socks_greeting_parse((const uint8_t *) "\5\1\2", 3, &used, &noauth, NULL) == EGRESS_PARSE_DONE && !noauth,
              "greeting without no-auth");
        CHECK(egress_socks_greeting_parse((const uint8_t *) "\5\0", 2, &used, &noauth, NULL) == -EINVAL, "no methods");
        CHECK(egress_socks_greeting_parse((const uint8_t *) "\4\1\0", 3, &used, &noauth, NULL) == -EINVAL, "SOCKS4");
        static const struct {
                const char *in;
                size_t n;
                int want;
                const char *host;
                unsigned port;
        } rows[] = {
                { "\5\1\0\3\13example.com\1\273", 18, EGRESS_PARSE_DONE, "example.com", 443 },
                { "\5\1\0\3\14Example.COM.\0\120", 19, EGRESS_PARSE_DONE, "example.com", 80 },
                { "\5\1\0\1\1\2\3\4\0\120", 10, EGRESS_PARSE_DONE, "1.2.3.4", 80 },
                { "\5\1\0\4\40\1\15\270\0\0\0\0\0\0\0\0\0\0\0\1\0\120", 22, EGRESS_PARSE_DONE, "2001:db8::1", 80 },
                { "\5\1\0\3\x0a" "127.0.0.01" "\0\120", 17, -EINVAL, NULL, 0 },
                { "\5\1\0\3\0\0\120", 7, -EINVAL, NULL, 0 },
                { "\5\1\0\3\3a%b\0\120", 10, -EINVAL, NULL, 0 },
                { "\5\1\0\3\3a\0b\0\120", 10, -EINVAL, NULL, 0 },
                { "\5\1\0\3\13example.com\0\0", 18, -EINVAL, NULL, 0 },      /* port 0 */
                { "\5\2\0\3\13example.com\1\273", 18, -EOPNOTSUPP, NULL, 0 }, /* BIND */
                { "\5\3\0\3\13example.com\1\273", 18, -EOPNOTSUPP, NULL, 0 }, /* UDP ASSOCIATE */
                { "\5\1\0\5\13example.com\1\273", 18, -EAFNOSUPPORT, NULL, 0 },
                { "\5\1\1\3\13example.com\1\273", 18, -EINVAL, NULL, 0 },     /* reserved byte */
        };
        for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
                const uint8_t *in = (const uint8_t *) rows[i].in;
                bool more_ok = true;
                for (size_t k = 0; k < rows[i].n; k++) {
                        int r = egress_socks_request_parse(in, k, &req, NULL);
                        if (r != EGRESS_PARSE_MORE && !(rows[i].want < 0 && r == rows[i].want))
                                more_ok = false;
                }
                CHECK(more_ok, "socks row %zu: prefixes ask for more", i);
                const char *why = NULL;
                int r = egress_socks_request_parse(in, rows[i].n, &req, &why);
                CHECK(r == rows[i].want, "socks row %zu: %d (%s)", i, r, why ? why : "");
                if (r == EGRESS_PARSE_DONE && rows[i].want == EGRESS_PARSE_DONE)
                        CHECK(strcmp(req.host.name, rows[i].host) == 0 && req.port == rows[i].port && req.consumed == rows[i].n &&
                                      req.proto == EGRESS_PROTO_SOCKS5,
                              "socks row %zu: %s:%u", i, req.host.name, req.port);
        }
}

/* A ClientHello with the given SNI (NULL: no server_name extension), in
 * records of at most rec bytes. Returns its length. */
static size_t hello(uint8_t *out, const char *sni, size_t rec) {
        uint8_t body[512];
        size_t n = 0;
        body[n++] = 3, body[n++] = 3;
        memset(body + n, 0xaa, 32), n += 32;
        body[n++] = 0;                          /* session id */
        body[n++] = 0, body[n++] = 2, body[n++] = 0x13, body[n++] = 1; /* one cipher suite */
        body[n++] = 1, body[n++] = 0;           /* null compression */
        size_t ext_at = n;
        n += 2;
        body[n++] = 0, body[n++] = 0x2b, body[n++] = 0, body[n++] = 3, body[n++] = 2, body[n++] = 3, body[n++] = 4;
        if (sni) {
                size_t l = strlen(sni);
                body[n++] = 0, body[n++] = 0;
                body[n++] = 0, body[n++] = (uint8_t) (l + 5);
                body[n++] = 0, body[n++] = (uint8_t) (l + 3);
                body[n++] = 0;
                body[n++] = 0, body[n++] = (uint8_t) l;
                memcpy(body + n, sni, l), n += l;
        }
        body[ext_at] = (uint8_t) ((n - ext_at - 2) >> 8), body[ext_at + 1] = (uint8_t) (n - ext_at - 2);
        uint8_t hs[600];
        hs[0] = 1, hs[1] = 0, hs[2] = (uint8_t) (n >> 8), hs[3] = (uint8_t) n;
        memcpy(hs + 4, body, n);
        size_t total = n + 4, off = 0, o = 0;
        while (off < total) {
                size_t k = total - off < rec ? total - off : rec;
                out[o++] = 0x16, out[o++] = 3, out[o++] = 1, out[o++] = (uint8_t) (k >> 8), out[o++] = (uint8_t) k;
                memcpy(out + o, hs + off, k);
                o += k, off += k;
        }
        return o;
}

static void test_tls(void) {
        uint8_t buf[4096];
        egress_host sni;
        size_t n = hello(buf, "Example.com", 16384);
        bool more_ok = true;
        for (size_t k = 1; k < n; k++)
                more_ok = more_ok && egress_tls_sni(buf, k, &sni, NULL) == EGRESS_PARSE_MORE;
        CHECK(more_ok, "every prefix of a ClientHello asks for more");
        CHECK(egress_tls_sni(buf, n, &sni, NULL) == EGRESS_TLS_SNI && strcmp(sni.name, "example.com") == 0, "SNI read");
        n = hello(buf, "front.example", 7); /* split over many small records */
        CHECK(egress_tls_sni(buf, n, &sni, NULL) == EGRESS_TLS_SNI && strcmp(sni.name, "front.example") == 0,
              "SNI over several records");
        n = hello(buf, NULL, 16384);
        CHECK(egress_tls_sni(buf, n, &sni, NULL) == EGRESS_TLS_NO_SNI, "no SNI");
        CHECK(egress_tls_sni((const uint8_t *) "SSH-2.0-x\r\n", 11, &sni, NULL) == EGRESS_TLS_NOT_TLS, "not TLS");
        CHECK(egress_tls_sni((const uint8_t *) "", 0, &sni, NULL) == EGRESS_PARSE_MORE, "nothing yet");
        n = hello(buf, "a%2fb", 16384);
        CHECK(egress_tls_sni(buf, n, &sni, NULL) == -EINVAL, "bad SNI name");
        n = hello(buf, "example.com", 16384);
        buf[5] = 2; /* ServerHello, not ClientHello */
        CHECK(egress_tls_sni(buf, n, &sni, NULL) == -EINVAL, "not a ClientHello");
        n = hello(buf, "example.com", 16384);
        buf[3] = 0x40, buf[4] = 1; /* record over 16384 */
        CHECK(egress_tls_sni(buf, n, &sni, NULL) == -EINVAL, "oversized record");
        n = hello(buf, "example.com", 16384);
        buf[7] = 0x50; /* handshake length over EGRESS_CLIENTHELLO_MAX */
        CHECK(egress_tls_sni(buf, n, &sni, NULL) == -EMSGSIZE, "oversized ClientHello");
        n = hello(buf, "example.com", 16384);
        buf[n - 12]++; /* the server_name list length no longer adds up */
        CHECK(egress_tls_sni(buf, n, &sni, NULL) == -EINVAL, "inconsistent server_name lengths");
        n = hello(buf, "example.com", 20);
        buf[25] = 0x15; /* an alert record in the middle */
        CHECK(egress_tls_sni(buf, n, &sni, NULL) == -EINVAL, "non-handshake record inside");
}

int main(void) {
        test_http();
        test_socks();
        test_tls();
        return tap_done("egress parse");
}
