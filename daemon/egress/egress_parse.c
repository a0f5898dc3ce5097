/* egress_parse.c — the proxy's request parsers (HTTP proxy head, SOCKS5,
 * TLS ClientHello SNI). Strict on purpose: anything a lenient server might
 * read differently (bare CR or LF, folded headers, two Host headers, NUL,
 * userinfo, fragments) is refused rather than guessed. See egress_parse.h. */
#include "egress_parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

static int refuse(const char **ret_reason, int r, const char *reason) {
        if (ret_reason)
                *ret_reason = reason;
        return r;
}

bool egress_host_equal(const egress_host *a, const egress_host *b) {
        return a->kind == b->kind && strcmp(a->name, b->name) == 0;
}

static bool is_tchar(uint8_t c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A line [p, p+n) without its CRLF. */
typedef struct line {
        const char *p;
        size_t n;
} line;

/* Splits [buf, buf+end), which ends with a CRLF, into lines; refuses NUL,
 * bare CR, bare LF. Returns the number of lines (request line first). */
static int split_lines(const uint8_t *buf, size_t end, line *lines, size_t max, const char **ret_reason) {
        size_t n = 0, start = 0;
        for (size_t i = 0; i < end; i++) {
                if (buf[i] == 0)
                        return refuse(ret_reason, -EINVAL, "NUL byte in request");
                if (buf[i] == '\n')
                        return refuse(ret_reason, -EINVAL, "bare LF in request");
                if (buf[i] != '\r')
                        continue;
                if (i + 1 >= end || buf[i + 1] != '\n')
                        return refuse(ret_reason, -EINVAL, "bare CR in request");
                if (n == max)
                        return refuse(ret_reason, -EMSGSIZE, "too many header lines");
                lines[n++] = (line) { (const char *) buf + start, i - start };
                i++;
                start = i + 1;
        }
        return (int) n;
}

typedef struct head_info {
        line method, target, version;
        const line *host; /* the Host header's value, trimmed; NULL when absent */
        line host_value;
} head_info;

static bool header_is(const line *l, const char *name) {
        size_t n = strlen(name);
        return l->n > n && l->p[n] == ':' && strncasecmp(l->p, name, n) == 0;
}

static int parse_request_line(const line *l, head_info *h, const char **ret_reason) {
        const char *sp1 = memchr(l->p, ' ', l->n);
        const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', l->n - (size_t) (sp1 + 1 - l->p)) : NULL;
        if (!sp1 || !sp2 || sp1 == l->p || sp2 == sp1 + 1)
                return refuse(ret_reason, -EINVAL, "malformed request line");
        h->method = (line) { l->p, (size_t) (sp1 - l->p) };
        h->target = (line) { sp1 + 1, (size_t) (sp2 - sp1 - 1) };
        h->version = (line) { sp2 + 1, l->n - (size_t) (sp2 + 1 - l->p) };
        for (size_t i = 0; i < h->method.n; i++)
                if (!(h->method.p[i] >= 'A' && h->method.p[i] <= 'Z'))
                        return refuse(ret_reason, -EINVAL, "malformed method");
        for (size_t i = 0; i < h->target.n; i++)
                if ((uint8_t) h->target.p[i] <= ' ' || (uint8_t) h->target.p[i] >= 0x7f)
                        return refuse(ret_reason, -EINVAL, "malformed request target");
        if (!(h->version.n == 8 && (memcmp(h->version.p, "HTTP/1.1", 8) == 0 ||
                                    memcmp(h->version.p, "HTTP/1.0", 8) == 0)))
                return refuse(ret_reason, -EINVAL, "not HTTP/1.0 or HTTP/1.1");
        return 0;
}

static int parse_headers(const line *lines, size_t n, head_info *h, const char **ret_reason) {
        h->host = NULL;
        for (size_t i = 1; i < n; i++) {
                const line *l = &lines[i];
                const char *colon = memchr(l->p, ':', l->n);
                if (l->n == 0 || l->p[0] == ' ' || l->p[0] == '\t')
                        return refuse(ret_reason, -EINVAL, "folded or empty header line");
                if (!colon || colon == l->p)
                        return refuse(ret_reason, -EINVAL, "malformed header line");
                for (const char *c = l->p; c < colon; c++)
                        if (!is_tchar((uint8_t) *c))
                                return refuse(ret_reason, -EINVAL, "malformed header name");
                for (const char *c = colon + 1; c < l->p + l->n; c++)
                        if (((uint8_t) *c < ' ' && *c != '\t') || *c == 0x7f)
                                return refuse(ret_reason, -EINVAL, "control character in header value");
                if (!header_is(l, "host"))
                        continue;
                if (h->host)
                        return refuse(ret_reason, -EINVAL, "more than one Host header");
                const char *v = colon + 1, *e = l->p + l->n;
                while (v < e && (*v == ' ' || *v == '\t'))
                        v++;
                while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
                        e--;
                h->host_value = (line) { v, (size_t) (e - v) };
                h->host = &h->host_value;
        }
        return 0;
}

/* The Host header must name the request's host and port. */
static int check_host_header(const head_info *h, const egress_request *req, uint16_t default_port,
                             const char **ret_reason) {
        egress_host hh;
        uint16_t port;
        const char *why;
        if (egress_authority_parse(h->host->p, h->host->n, default_port, &hh, &port, &why) < 0)
                return refuse(ret_reason, -EINVAL, "malformed Host header");
        if (!egress_host_equal(&hh, &req->host) || port != req->port)
                return refuse(ret_reason, -EINVAL, "Host header names another host");
        return 0;
}

static int append(egress_request *req, const char *p, size_t n) {
        if (n > sizeof req->head - req->head_len)
                return -EMSGSIZE;
        memcpy(req->head + req->head_len, p, n);
        req->head_len += n;
        return 0;
}

/* Origin-form request line, the end-to-end headers, "Connection: close". */
static int rewrite_head(const line *lines, size_t n, const head_info *h, const char *path, size_t path_len,
                        egress_request *req) {
        static const char *const hop[] = { "connection", "proxy-connection", "keep-alive", "proxy-authorization" };
        int r = 0;
        req->head_len = 0;
        r = r ?: append(req, h->method.p, h->method.n);
        r = r ?: append(req, " ", 1);
        if (path_len == 0 || path[0] == '?')
                r = r ?: append(req, "/", 1);
        r = r ?: append(req, path, path_len);
        r = r ?: append(req, " ", 1);
        r = r ?: append(req, h->version.p, h->version.n);
        r = r ?: append(req, "\r\n", 2);
        for (size_t i = 1; i < n && r == 0; i++) {
                bool drop = false;
                for (size_t k = 0; k < sizeof hop / sizeof *hop; k++)
                        drop = drop || header_is(&lines[i], hop[k]);
                if (!drop) {
                        r = append(req, lines[i].p, lines[i].n);
                        r = r ?: append(req, "\r\n", 2);
                }
        }
        r = r ?: append(req, "Connection: close\r\n\r\n", 21);
        return r;
}

static int parse_absolute(const line *lines, size_t n, const head_info *h, egress_request *req,
                          const char **ret_reason) {
        const line *t = &h->target;
        if (t->n > 0 && t->p[0] == '/')
                return refuse(ret_reason, -EINVAL, "not a proxy request (origin-form target)");
        if (t->n < 7 || strncasecmp(t->p, "http://", 7) != 0)
                return refuse(ret_reason, -EOPNOTSUPP, "only http:// URIs are proxied (use CONNECT for https)");
        const char *a = t->p + 7, *end = t->p + t->n, *ae = a;
        while (ae < end && *ae != '/' && *ae != '?' && *ae != '#')
                ae++;
        if (memchr(a, '@', (size_t) (ae - a)))
                return refuse(ret_reason, -EINVAL, "userinfo in URI");
        if (memchr(t->p, '#', t->n))
                return refuse(ret_reason, -EINVAL, "fragment in URI");
        int r = egress_authority_parse(a, (size_t) (ae - a), 80, &req->host, &req->port, ret_reason);
        if (r < 0)
                return r;
        if (!h->host)
                return refuse(ret_reason, -EINVAL, "Host header missing");
        r = check_host_header(h, req, 80, ret_reason);
        if (r < 0)
                return r;
        if (rewrite_head(lines, n, h, ae, (size_t) (end - ae), req) < 0)
                return refuse(ret_reason, -EMSGSIZE, "request head too large");
        req->proto = EGRESS_PROTO_HTTP;
        return 0;
}

int egress_http_parse(const uint8_t *buf, size_t len, egress_request *ret, const char **ret_reason) {
        line lines[256];
        head_info h;
        size_t end = 0;
        size_t scan = len < EGRESS_REQUEST_MAX ? len : EGRESS_REQUEST_MAX;
        for (size_t i = 3; i < scan && !end; i++)
                if (buf[i - 3] == '\r' && buf[i - 2] == '\n' && buf[i - 1] == '\r' && buf[i] == '\n')
                        end = i + 1; /* the head is [0, end); its lines end at end - 2 */
        /* NUL refused in the head only: what a client sends after it (a
         * tunnel's first bytes, sent without waiting) is not the request. */
        if (memchr(buf, 0, end ? end : scan))
                return refuse(ret_reason, -EINVAL, "NUL byte in request");
        if (!end)
                return len >= EGRESS_REQUEST_MAX ? refuse(ret_reason, -EMSGSIZE, "request head too large")
                                                 : EGRESS_PARSE_MORE;
        int n = split_lines(buf, end - 2, lines, sizeof lines / sizeof *lines, ret_reason);
        if (n < 0)
                return n;
        if (n == 0)
                return refuse(ret_reason, -EINVAL, "empty request");
        int r = parse_request_line(&lines[0], &h, ret_reason);
        if (r == 0)
                r = parse_headers(lines, (size_t) n, &h, ret_reason);
        if (r < 0)
                return r;
        ret->consumed = end;
        ret->head_len = 0;
        if (h.method.n == 7 && memcmp(h.method.p, "CONNECT", 7) == 0) {
                r = egress_authority_parse(h.target.p, h.target.n, 0, &ret->host, &ret->port, ret_reason);
                if (r == 0 && h.host)
                        r = check_host_header(&h, ret, ret->port, ret_reason);
                if (r < 0)
                        return r;
                ret->proto = EGRESS_PROTO_CONNECT;
                return EGRESS_PARSE_DONE;
        }
        r = parse_absolute(lines, (size_t) n, &h, ret, ret_reason);
        return r < 0 ? r : EGRESS_PARSE_DONE;
}

int egress_socks_greeting_parse(const uint8_t *buf, size_t len, size_t *ret_consumed, bool *ret_noauth,
                                const char **ret_reason) {
        if (len < 2)
                return EGRESS_PARSE_MORE;
        if (buf[0] != 5)
                return refuse(ret_reason, -EINVAL, "not SOCKS version 5");
        if (buf[1] == 0)
                return refuse(ret_reason, -EINVAL, "SOCKS greeting without methods");
        if (len < 2 + (size_t) buf[1])
                return EGRESS_PARSE_MORE;
        *ret_noauth = memchr(buf + 2, 0, buf[1]) != NULL;
        *ret_consumed = 2 + (size_t) buf[1];
        return EGRESS_PARSE_DONE;
}

int egress_socks_request_parse(const uint8_t *buf, size_t len, egress_request *ret, const char **ret_reason) {
        size_t need = 4;
        if (len < need)
                return EGRESS_PARSE_MORE;
        if (buf[0] != 5 || buf[2] != 0)
                return refuse(ret_reason, -EINVAL, "malformed SOCKS request");
        if (buf[1] != 1)
                return refuse(ret_reason, -EOPNOTSUPP, "only the SOCKS CONNECT command is served");
        switch (buf[3]) {
        case 1:
                need += 4;
                break;
        case 4:
                need += 16;
                break;
        case 3:
                if (len < 5)
                        return EGRESS_PARSE_MORE;
                need += 1 + (size_t) buf[4];
                break;
        default:
                return refuse(ret_reason, -EAFNOSUPPORT, "unknown SOCKS address type");
        }
        if (len < need + 2)
                return EGRESS_PARSE_MORE;
        egress_host h;
        memset(&h, 0, sizeof h);
        if (buf[3] == 3) {
                int r = egress_host_parse((const char *) buf + 5, buf[4], false, &h, ret_reason);
                if (r < 0)
                        return r;
        } else {
                h.kind = buf[3] == 1 ? EGRESS_HOST_IPV4 : EGRESS_HOST_IPV6;
                memcpy(h.addr, buf + 4, buf[3] == 1 ? 4 : 16);
                inet_ntop(buf[3] == 1 ? AF_INET : AF_INET6, h.addr, h.name, sizeof h.name);
        }
        uint16_t port = (uint16_t) (buf[need] << 8 | buf[need + 1]);
        if (port == 0)
                return refuse(ret_reason, -EINVAL, "port 0");
        ret->proto = EGRESS_PROTO_SOCKS5;
        ret->host = h;
        ret->port = port;
        ret->consumed = need + 2;
        ret->head_len = 0;
        return EGRESS_PARSE_DONE;
}

static uint32_t be(const uint8_t *p, size_t n) {
        uint32_t v = 0;
        while (n--)
                v = v << 8 | *p++;
        return v;
}

/* Walks the ClientHello body (after the 4-byte handshake header) to its
 * server_name extension. Every length is checked against what remains. */
static int clienthello_sni(const uint8_t *p, size_t n, egress_host *ret_sni, const char **ret_reason) {
        size_t off = 2 + 32; /* legacy_version, random */
        if (off + 1 > n || (off += 1 + p[off]) > n)
                return refuse(ret_reason, -EINVAL, "truncated ClientHello (session id)");
        if (off + 2 > n || (off += 2 + be(p + off, 2)) > n)
                return refuse(ret_reason, -EINVAL, "truncated ClientHello (cipher suites)");
        if (off + 1 > n || (off += 1 + p[off]) > n)
                return refuse(ret_reason, -EINVAL, "truncated ClientHello (compression)");
        if (off == n)
                return EGRESS_TLS_NO_SNI;
        if (off + 2 > n || off + 2 + be(p + off, 2) != n)
                return refuse(ret_reason, -EINVAL, "ClientHello extensions length mismatch");
        off += 2;
        bool found = false;
        while (off < n) {
                if (off + 4 > n)
                        return refuse(ret_reason, -EINVAL, "truncated extension");
                uint32_t type = be(p + off, 2), elen = be(p + off + 2, 2);
                off += 4;
                if (elen > n - off)
                        return refuse(ret_reason, -EINVAL, "truncated extension");
                if (type == 0) {
                        const uint8_t *e = p + off;
                        if (found)
                                return refuse(ret_reason, -EINVAL, "two server_name extensions");
                        /* server_name_list: exactly one host_name entry */
                        if (elen < 5 || be(e, 2) != elen - 2 || e[2] != 0 || be(e + 3, 2) != elen - 5)
                                return refuse(ret_reason, -EINVAL, "malformed server_name");
                        if (egress_host_parse((const char *) e + 5, elen - 5, false, ret_sni, ret_reason) < 0)
                                return refuse(ret_reason, -EINVAL, "malformed server_name");
                        found = true;
                }
                off += elen;
        }
        return found ? EGRESS_TLS_SNI : EGRESS_TLS_NO_SNI;
}

int egress_tls_sni(const uint8_t *buf, size_t len, egress_host *ret_sni, const char **ret_reason) {
        uint8_t hs[EGRESS_CLIENTHELLO_MAX];
        size_t have = 0, off = 0;
        if (len == 0)
                return EGRESS_PARSE_MORE;
        if (buf[0] != 0x16)
                return EGRESS_TLS_NOT_TLS;
        for (;;) {
                if (have >= 4) {
                        uint32_t hlen = be(hs + 1, 3);
                        if (hs[0] != 1)
                                return refuse(ret_reason, -EINVAL, "first handshake message is not a ClientHello");
                        if (hlen > sizeof hs - 4)
                                return refuse(ret_reason, -EMSGSIZE, "ClientHello too large");
                        if (have >= 4 + hlen)
                                return clienthello_sni(hs + 4, hlen, ret_sni, ret_reason);
                }
                if (len - off < 5)
                        return len - off > 0 && buf[off] != 0x16
                                       ? refuse(ret_reason, -EINVAL, "non-handshake record inside ClientHello")
                                       : EGRESS_PARSE_MORE;
                uint32_t rlen = be(buf + off + 3, 2);
                if (buf[off] != 0x16 || buf[off + 1] != 3 || rlen == 0 || rlen > 16384)
                        return refuse(ret_reason, -EINVAL, "malformed TLS record");
                if (rlen > sizeof hs - have)
                        return refuse(ret_reason, -EMSGSIZE, "ClientHello too large");
                if (len - off - 5 < rlen)
                        return EGRESS_PARSE_MORE;
                memcpy(hs + have, buf + off + 5, rlen);
                have += rlen;
                off += 5 + rlen;
        }
}
