/* egress_proto.c — encoding and decoding of the cscd <-> cscd-egress control
 * messages (format in egress_proto.h). Pure: no I/O, no logging. Decoding
 * parses every field of a message before the caller sees any of it. */
#include "egress_proto.h"

#include <errno.h>
#include <string.h>

void egress_rbuf_init(egress_rbuf *b, const void *p, size_t len) {
        b->p = p;
        b->len = len;
        b->off = 0;
}

int egress_rbuf_bytes(egress_rbuf *b, void *out, size_t n) {
        if (n > b->len - b->off)
                return -EBADMSG;
        if (n)
                memcpy(out, b->p + b->off, n);
        b->off += n;
        return 0;
}

int egress_rbuf_u8(egress_rbuf *b, uint8_t *ret) {
        return egress_rbuf_bytes(b, ret, 1);
}

int egress_rbuf_u16(egress_rbuf *b, uint16_t *ret) {
        uint8_t x[2];
        int r = egress_rbuf_bytes(b, x, 2);
        if (r == 0)
                *ret = (uint16_t) (x[0] << 8 | x[1]);
        return r;
}

int egress_rbuf_u32(egress_rbuf *b, uint32_t *ret) {
        uint8_t x[4];
        int r = egress_rbuf_bytes(b, x, 4);
        if (r == 0)
                *ret = (uint32_t) x[0] << 24 | (uint32_t) x[1] << 16 | (uint32_t) x[2] << 8 | x[3];
        return r;
}

int egress_rbuf_u64(egress_rbuf *b, uint64_t *ret) {
        uint32_t hi, lo;
        int r = egress_rbuf_u32(b, &hi);
        if (r == 0)
                r = egress_rbuf_u32(b, &lo);
        if (r == 0)
                *ret = (uint64_t) hi << 32 | lo;
        return r;
}

int egress_rbuf_str(egress_rbuf *b, char *out, size_t max) {
        size_t start = b->off;
        uint16_t n;
        int r = egress_rbuf_u16(b, &n);
        if (r < 0)
                return r;
        r = n > b->len - b->off ? -EBADMSG : n > max ? -EMSGSIZE : memchr(b->p + b->off, 0, n) ? -EILSEQ : 0;
        if (r < 0) {
                b->off = start; /* a failed getter consumes nothing */
                return r;
        }
        memcpy(out, b->p + b->off, n);
        out[n] = 0;
        b->off += n;
        return 0;
}

void egress_wbuf_begin(egress_wbuf *b, egress_msg_type type) {
        memset(b->data, 0, EGRESS_MSG_HEADER);
        b->data[0] = (uint8_t) (type >> 8);
        b->data[1] = (uint8_t) type;
        b->len = EGRESS_MSG_HEADER;
        b->error = 0;
}

void egress_wbuf_bytes(egress_wbuf *b, const void *p, size_t n) {
        if (b->error)
                return;
        if (n > sizeof b->data - b->len) {
                b->error = -EMSGSIZE;
                return;
        }
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
}

void egress_wbuf_u8(egress_wbuf *b, uint8_t v) {
        egress_wbuf_bytes(b, &v, 1);
}

void egress_wbuf_u16(egress_wbuf *b, uint16_t v) {
        uint8_t x[2] = { (uint8_t) (v >> 8), (uint8_t) v };
        egress_wbuf_bytes(b, x, 2);
}

void egress_wbuf_u32(egress_wbuf *b, uint32_t v) {
        uint8_t x[4] = { (uint8_t) (v >> 24), (uint8_t) (v >> 16), (uint8_t) (v >> 8), (uint8_t) v };
        egress_wbuf_bytes(b, x, 4);
}

void egress_wbuf_u64(egress_wbuf *b, uint64_t v) {
        egress_wbuf_u32(b, (uint32_t) (v >> 32));
        egress_wbuf_u32(b, (uint32_t) v);
}

void egress_wbuf_str(egress_wbuf *b, const char *s, size_t max) {
        size_t n = strlen(s);
        if (n > max || n > UINT16_MAX) {
                if (!b->error)
                        b->error = -EMSGSIZE;
                return;
        }
        egress_wbuf_u16(b, (uint16_t) n);
        egress_wbuf_bytes(b, s, n);
}

int egress_wbuf_finish(egress_wbuf *b) {
        if (b->error)
                return b->error;
        uint32_t n = (uint32_t) (b->len - EGRESS_MSG_HEADER);
        b->data[4] = (uint8_t) (n >> 24);
        b->data[5] = (uint8_t) (n >> 16);
        b->data[6] = (uint8_t) (n >> 8);
        b->data[7] = (uint8_t) n;
        return 0;
}

int egress_msg_encode(const egress_msg *m, egress_wbuf *b) {
        egress_wbuf_begin(b, m->type);
        switch (m->type) {
        case EGRESS_MSG_CONFIG:
                if (m->config.n > EGRESS_PRIVATE_MAX)
                        return -EINVAL;
                egress_wbuf_u16(b, (uint16_t) m->config.n);
                for (size_t i = 0; i < m->config.n; i++) {
                        egress_wbuf_u8(b, m->config.cidrs[i].family);
                        egress_wbuf_u8(b, m->config.cidrs[i].prefix);
                        egress_wbuf_bytes(b, m->config.cidrs[i].addr, 16);
                }
                break;
        case EGRESS_MSG_EXEC_BEGIN: {
                const egress_msg_exec_begin *e = &m->exec_begin;
                if (e->n_hosts > EGRESS_HOSTS_MAX)
                        return -EINVAL;
                egress_wbuf_str(b, e->exec_id, EGRESS_EXEC_ID_MAX);
                egress_wbuf_u32(b, e->max_conns);
                egress_wbuf_u32(b, e->idle_timeout_ms);
                egress_wbuf_u64(b, e->byte_cap);
                egress_wbuf_u16(b, (uint16_t) e->n_hosts);
                for (size_t i = 0; i < e->n_hosts; i++)
                        egress_wbuf_str(b, e->hosts[i], EGRESS_RULE_MAX);
                break;
        }
        case EGRESS_MSG_EXEC_END:
        case EGRESS_MSG_CONN:
                egress_wbuf_str(b, m->exec_id, EGRESS_EXEC_ID_MAX);
                break;
        case EGRESS_MSG_READY:
                egress_wbuf_u32(b, m->version);
                break;
        case EGRESS_MSG_REPORT: {
                const egress_msg_report *p = &m->report;
                egress_wbuf_str(b, p->exec_id, EGRESS_EXEC_ID_MAX);
                egress_wbuf_u32(b, p->serial);
                egress_wbuf_u8(b, p->verdict);
                egress_wbuf_u8(b, p->proto);
                egress_wbuf_u16(b, p->port);
                egress_wbuf_str(b, p->host, EGRESS_HOST_TEXT_MAX);
                egress_wbuf_str(b, p->address, EGRESS_ADDR_TEXT_MAX);
                egress_wbuf_str(b, p->reason, EGRESS_REASON_MAX);
                egress_wbuf_u64(b, p->bytes_up);
                egress_wbuf_u64(b, p->bytes_down);
                break;
        }
        case EGRESS_MSG_EXEC_DONE:
                egress_wbuf_str(b, m->exec_done.exec_id, EGRESS_EXEC_ID_MAX);
                egress_wbuf_u32(b, m->exec_done.allowed);
                egress_wbuf_u32(b, m->exec_done.denied);
                egress_wbuf_u64(b, m->exec_done.bytes_up);
                egress_wbuf_u64(b, m->exec_done.bytes_down);
                break;
        case EGRESS_MSG_ERROR:
                egress_wbuf_u16(b, m->error.for_type);
                egress_wbuf_str(b, m->error.exec_id, EGRESS_EXEC_ID_MAX);
                egress_wbuf_str(b, m->error.message, EGRESS_REASON_MAX);
                break;
        default:
                return -EINVAL;
        }
        return egress_wbuf_finish(b);
}

/* Each decoder parses one body; r accumulates the first failure and *what
 * names the field it happened in. */
#define GET(call, name)                        \
        do {                                   \
                if (r == 0 && (r = (call)) < 0) \
                        *what = (name);        \
        } while (0)
#define RANGE(cond, name)                      \
        do {                                   \
                if (r == 0 && !(cond)) {       \
                        r = -EPROTO;           \
                        *what = (name);        \
                }                              \
        } while (0)

static int decode_config(egress_rbuf *b, egress_msg_config *c, const char **what) {
        uint16_t n = 0;
        int r = 0;
        GET(egress_rbuf_u16(b, &n), "config.count");
        RANGE(n <= EGRESS_PRIVATE_MAX, "config.count");
        for (size_t i = 0; r == 0 && i < n; i++) {
                egress_cidr *x = &c->cidrs[i];
                GET(egress_rbuf_u8(b, &x->family), "config.family");
                GET(egress_rbuf_u8(b, &x->prefix), "config.prefix");
                GET(egress_rbuf_bytes(b, x->addr, 16), "config.address");
                RANGE(x->family == 4 || x->family == 6, "config.family");
                RANGE(x->prefix <= (x->family == 4 ? 32 : 128), "config.prefix");
                for (size_t k = 4; r == 0 && x->family == 4 && k < 16; k++)
                        RANGE(x->addr[k] == 0, "config.address");
        }
        c->n = n;
        return r;
}

static int decode_exec_begin(egress_rbuf *b, egress_msg_exec_begin *e, const char **what) {
        uint16_t n = 0;
        int r = 0;
        GET(egress_rbuf_str(b, e->exec_id, EGRESS_EXEC_ID_MAX), "exec_id");
        RANGE(e->exec_id[0] != 0, "exec_id");
        GET(egress_rbuf_u32(b, &e->max_conns), "max_conns");
        RANGE(e->max_conns >= 1 && e->max_conns <= EGRESS_CONNS_MAX, "max_conns");
        GET(egress_rbuf_u32(b, &e->idle_timeout_ms), "idle_timeout_ms");
        RANGE(e->idle_timeout_ms >= EGRESS_IDLE_MIN_MS && e->idle_timeout_ms <= EGRESS_IDLE_MAX_MS,
              "idle_timeout_ms");
        GET(egress_rbuf_u64(b, &e->byte_cap), "byte_cap");
        GET(egress_rbuf_u16(b, &n), "hosts.count");
        RANGE(n <= EGRESS_HOSTS_MAX, "hosts.count");
        for (size_t i = 0; r == 0 && i < n; i++) {
                GET(egress_rbuf_str(b, e->hosts[i], EGRESS_RULE_MAX), "hosts[]");
                RANGE(e->hosts[i][0] != 0, "hosts[]");
        }
        e->n_hosts = n;
        return r;
}

static int decode_report(egress_rbuf *b, egress_msg_report *p, const char **what) {
        int r = 0;
        GET(egress_rbuf_str(b, p->exec_id, EGRESS_EXEC_ID_MAX), "exec_id");
        GET(egress_rbuf_u32(b, &p->serial), "serial");
        GET(egress_rbuf_u8(b, &p->verdict), "verdict");
        RANGE(p->verdict >= EGRESS_VERDICT_ALLOWED && p->verdict <= EGRESS_VERDICT_FAILED, "verdict");
        GET(egress_rbuf_u8(b, &p->proto), "proto");
        RANGE(p->proto <= EGRESS_PROTO_SOCKS5, "proto");
        GET(egress_rbuf_u16(b, &p->port), "port");
        GET(egress_rbuf_str(b, p->host, EGRESS_HOST_TEXT_MAX), "host");
        GET(egress_rbuf_str(b, p->address, EGRESS_ADDR_TEXT_MAX), "address");
        GET(egress_rbuf_str(b, p->reason, EGRESS_REASON_MAX), "reason");
        GET(egress_rbuf_u64(b, &p->bytes_up), "bytes_up");
        GET(egress_rbuf_u64(b, &p->bytes_down), "bytes_down");
        return r;
}

static int decode_body(egress_rbuf *b, egress_msg *m, const char **what) {
        int r = 0;
        switch (m->type) {
        case EGRESS_MSG_CONFIG:
                return decode_config(b, &m->config, what);
        case EGRESS_MSG_EXEC_BEGIN:
                return decode_exec_begin(b, &m->exec_begin, what);
        case EGRESS_MSG_EXEC_END:
        case EGRESS_MSG_CONN:
                GET(egress_rbuf_str(b, m->exec_id, EGRESS_EXEC_ID_MAX), "exec_id");
                RANGE(m->exec_id[0] != 0, "exec_id");
                return r;
        case EGRESS_MSG_READY:
                GET(egress_rbuf_u32(b, &m->version), "version");
                return r;
        case EGRESS_MSG_REPORT:
                return decode_report(b, &m->report, what);
        case EGRESS_MSG_EXEC_DONE:
                GET(egress_rbuf_str(b, m->exec_done.exec_id, EGRESS_EXEC_ID_MAX), "exec_id");
                GET(egress_rbuf_u32(b, &m->exec_done.allowed), "allowed");
                GET(egress_rbuf_u32(b, &m->exec_done.denied), "denied");
                GET(egress_rbuf_u64(b, &m->exec_done.bytes_up), "bytes_up");
                GET(egress_rbuf_u64(b, &m->exec_done.bytes_down), "bytes_down");
                return r;
        case EGRESS_MSG_ERROR:
                GET(egress_rbuf_u16(b, &m->error.for_type), "for_type");
                GET(egress_rbuf_str(b, m->error.exec_id, EGRESS_EXEC_ID_MAX), "exec_id");
                GET(egress_rbuf_str(b, m->error.message, EGRESS_REASON_MAX), "message");
                return r;
        }
        *what = "type";
        return -EPROTO;
}

int egress_msg_decode(const void *data, size_t len, egress_msg *ret, const char **ret_what) {
        const char *what_local = NULL, **what = ret_what ? ret_what : &what_local;
        egress_rbuf b;
        uint16_t type = 0, reserved = 0;
        uint32_t body = 0;
        int r = 0;

        *what = NULL;
        if (len > EGRESS_MSG_MAX) {
                *what = "length";
                return -EMSGSIZE;
        }
        egress_rbuf_init(&b, data, len);
        GET(egress_rbuf_u16(&b, &type), "header");
        GET(egress_rbuf_u16(&b, &reserved), "header");
        GET(egress_rbuf_u32(&b, &body), "header");
        RANGE(reserved == 0, "header.reserved");
        if (r == 0 && body != len - EGRESS_MSG_HEADER) {
                *what = "header.length";
                return -EBADMSG;
        }
        if (r < 0)
                return r;
        ret->type = (egress_msg_type) type;
        r = decode_body(&b, ret, what);
        if (r == 0 && b.off != b.len) {
                *what = "trailing bytes";
                r = -EBADMSG;
        }
        return r;
}

const char *egress_verdict_name(egress_verdict v) {
        switch (v) {
        case EGRESS_VERDICT_ALLOWED:
                return "allowed";
        case EGRESS_VERDICT_DENIED:
                return "denied";
        case EGRESS_VERDICT_FAILED:
                return "failed";
        }
        return "unknown";
}

const char *egress_proto_name(egress_proto p) {
        switch (p) {
        case EGRESS_PROTO_NONE:
                return "none";
        case EGRESS_PROTO_CONNECT:
                return "connect";
        case EGRESS_PROTO_HTTP:
                return "http";
        case EGRESS_PROTO_SOCKS5:
                return "socks5";
        }
        return "unknown";
}
