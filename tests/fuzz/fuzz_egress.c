/* fuzz_egress.c — cscd-egress's request parsers as a connection drives them:
 * the first byte picks SOCKS5 (greeting, then request) or HTTP (CONNECT or
 * absolute URI), and the bytes after a complete request go to the TLS
 * ClientHello SNI reader, each fed in growing prefixes. Checks the parsers'
 * promises: nothing consumed past the input, a rewritten head within its
 * buffer, a host on every DONE. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static egress_request req;

static void sni(const uint8_t *p, size_t n) {
        egress_host h;
        for (size_t k = 0; k <= n; k += 1 + k / 4) {
                int r = egress_tls_sni(p, k, &h, NULL);
                if (r == EGRESS_TLS_SNI && (h.kind == 0 || strlen(h.name) > EGRESS_HOST_MAX))
                        abort();
                if (r != EGRESS_PARSE_MORE)
                        return;
        }
}

static size_t request(const uint8_t *p, size_t n) {
        size_t used = 0;
        bool noauth = false;
        int r;
        if (n > 0 && p[0] == 5) {
                r = egress_socks_greeting_parse(p, n, &used, &noauth, NULL);
                if (r != EGRESS_PARSE_DONE)
                        return 0;
                if (used > n)
                        abort();
                p += used;
                n -= used;
                r = egress_socks_request_parse(p, n, &req, NULL);
        } else
                r = egress_http_parse(p, n, &req, NULL);
        if (r != EGRESS_PARSE_DONE)
                return 0;
        if (req.consumed > n || req.head_len > sizeof req.head || req.host.kind == 0 || req.port == 0)
                abort();
        return used + req.consumed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* an exact-size copy, so ASan sees any read past the end */
        uint8_t *p = malloc(size ? size : 1);
        memcpy(p, data, size);
        size_t done = request(p, size);
        if (done)
                sni(p + done, size - done);
        else
                sni(p, size);
        egress_host h;
        uint16_t port;
        egress_authority_parse((const char *) p, size, 443, &h, &port, NULL);
        free(p);
        return 0;
}
