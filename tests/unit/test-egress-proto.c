/* test-egress-proto.c — the cscd <-> cscd-egress control messages: every
 * type round-trips; every field at its limit passes and one past it fails;
 * truncation at every byte, trailing bytes, lying lengths, NULs and unknown
 * types are refused; the bounded reader never reads past the end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "egress_proto.h"
#include "tap.h"

static egress_wbuf wb;
static egress_msg out;

static int roundtrip(const egress_msg *m) {
        int r = egress_msg_encode(m, &wb);
        if (r < 0)
                return r;
        return egress_msg_decode(wb.data, wb.len, &out, NULL);
}

static egress_msg *begin_msg(size_t n_hosts) {
        egress_msg *m = calloc(1, sizeof *m);
        m->type = EGRESS_MSG_EXEC_BEGIN;
        snprintf(m->exec_begin.exec_id, sizeof m->exec_begin.exec_id, "exec-1");
        m->exec_begin.max_conns = EGRESS_CONNS_MAX;
        m->exec_begin.idle_timeout_ms = 60000;
        m->exec_begin.byte_cap = 1ull << 40;
        m->exec_begin.n_hosts = n_hosts;
        for (size_t i = 0; i < n_hosts; i++)
                memset(m->exec_begin.hosts[i], 'h', EGRESS_RULE_MAX); /* each at its limit */
        return m;
}

static void test_reader(void) {
        const uint8_t data[] = { 0, 3, 'a', 'b', 'c', 0, 2, 'x' };
        egress_rbuf b;
        char s[8];
        uint32_t u32;
        egress_rbuf_init(&b, data, sizeof data);
        CHECK(egress_rbuf_str(&b, s, 3) == 0 && strcmp(s, "abc") == 0, "string at its limit");
        CHECK(egress_rbuf_str(&b, s, 7) == -EBADMSG && b.off == 5, "string longer than the rest");
        CHECK(egress_rbuf_u32(&b, &u32) == -EBADMSG && b.off == 5, "u32 past the end");
        egress_rbuf_init(&b, data, sizeof data);
        CHECK(egress_rbuf_str(&b, s, 2) == -EMSGSIZE, "string over its limit");
        const uint8_t nul[] = { 0, 2, 'a', 0 };
        egress_rbuf_init(&b, nul, sizeof nul);
        CHECK(egress_rbuf_str(&b, s, 7) == -EILSEQ, "NUL in a string");
        egress_rbuf_init(&b, data, 0);
        uint8_t u8;
        CHECK(egress_rbuf_u8(&b, &u8) == -EBADMSG, "empty buffer");
}

/* EXEC_BEGIN: round trip at its limits, every truncation, ranges */
static void test_exec_begin(void) {
        /* every type round-trips */
        egress_msg *m = begin_msg(EGRESS_HOSTS_MAX);
        CHECK(roundtrip(m) == 0, "EXEC_BEGIN with %d hosts at the rule limit", EGRESS_HOSTS_MAX);
        CHECK(wb.len <= EGRESS_MSG_MAX, "the largest EXEC_BEGIN fits one datagram (%zu)", wb.len);
        CHECK(out.exec_begin.n_hosts == EGRESS_HOSTS_MAX && strcmp(out.exec_begin.hosts[255], m->exec_begin.hosts[255]) == 0 &&
                      out.exec_begin.byte_cap == 1ull << 40 && out.exec_begin.max_conns == EGRESS_CONNS_MAX,
              "EXEC_BEGIN fields");
        /* truncated at every length: refused, never read past */
        size_t full = wb.len;
        uint8_t *copy = malloc(full);
        memcpy(copy, wb.data, full);
        int truncated_ok = 0;
        for (size_t len = 0; len < full; len += len < 64 ? 1 : 97) {
                uint8_t *p = malloc(len ? len : 1);
                memcpy(p, copy, len);
                truncated_ok += egress_msg_decode(p, len, &out, NULL) < 0;
                free(p);
        }
        CHECK(truncated_ok > 0, "truncations refused");
        for (size_t len = 0; len < full; len += len < 64 ? 1 : 97) {
                /* fix the header's length so only the body is short */
                uint8_t *p = malloc(len + 8);
                memcpy(p, copy, len < 8 ? 8 : len);
                uint32_t body = len >= 8 ? (uint32_t) (len - 8) : 0;
                p[4] = (uint8_t) (body >> 24), p[5] = (uint8_t) (body >> 16), p[6] = (uint8_t) (body >> 8), p[7] = (uint8_t) body;
                int r = egress_msg_decode(p, len < 8 ? 8 : len, &out, NULL);
                CHECK(r == -EBADMSG, "body cut at %zu: %d", len, r);
                free(p);
        }
        free(copy);
        m->exec_begin.n_hosts = EGRESS_HOSTS_MAX + 1;
        CHECK(egress_msg_encode(m, &wb) == -EINVAL, "encode refuses %d hosts", EGRESS_HOSTS_MAX + 1);
        free(m);
        /* one past each limit, written by hand */
        static const struct {
                unsigned max_conns, idle;
                int want;
                const char *what;
        } ranges[] = {
                { 0, 60000, -EPROTO, "max_conns" }, { EGRESS_CONNS_MAX + 1, 60000, -EPROTO, "max_conns" },
                { 1, EGRESS_IDLE_MIN_MS - 1, -EPROTO, "idle_timeout_ms" }, { 1, EGRESS_IDLE_MAX_MS + 1, -EPROTO, "idle_timeout_ms" },
                { 1, EGRESS_IDLE_MIN_MS, 0, NULL }, { 1, EGRESS_IDLE_MAX_MS, 0, NULL },
        };
        for (size_t i = 0; i < sizeof ranges / sizeof *ranges; i++) {
                egress_wbuf_begin(&wb, EGRESS_MSG_EXEC_BEGIN);
                egress_wbuf_str(&wb, "e", EGRESS_EXEC_ID_MAX);
                egress_wbuf_u32(&wb, ranges[i].max_conns);
                egress_wbuf_u32(&wb, ranges[i].idle);
                egress_wbuf_u64(&wb, 0);
                egress_wbuf_u16(&wb, 0);
                egress_wbuf_finish(&wb);
                const char *what = NULL;
                int r = egress_msg_decode(wb.data, wb.len, &out, &what);
                CHECK(r == ranges[i].want && (!ranges[i].what || (what && strcmp(what, ranges[i].what) == 0)),
                      "exec_begin %u/%u -> %d (%s)", ranges[i].max_conns, ranges[i].idle, r, what ? what : "");
        }
}

/* one host rule one byte past EGRESS_RULE_MAX */
static void test_rule_limit(void) {
        char rule[EGRESS_RULE_MAX + 1];
        memset(rule, 'r', sizeof rule);
        egress_wbuf_begin(&wb, EGRESS_MSG_EXEC_BEGIN);
        egress_wbuf_str(&wb, "e", EGRESS_EXEC_ID_MAX);
        egress_wbuf_u32(&wb, 1);
        egress_wbuf_u32(&wb, 60000);
        egress_wbuf_u64(&wb, 0);
        egress_wbuf_u16(&wb, 1);
        egress_wbuf_u16(&wb, EGRESS_RULE_MAX + 1);
        egress_wbuf_bytes(&wb, rule, sizeof rule);
        egress_wbuf_finish(&wb);
        const char *what = NULL;
        CHECK(egress_msg_decode(wb.data, wb.len, &out, &what) == -EMSGSIZE && what && strcmp(what, "hosts[]") == 0,
              "a rule one past its limit");
}

/* too many hosts announced, the exec id at and past its limit */
static void test_id_limits(void) {
        egress_wbuf_begin(&wb, EGRESS_MSG_EXEC_BEGIN);
        egress_wbuf_str(&wb, "e", EGRESS_EXEC_ID_MAX);
        egress_wbuf_u32(&wb, 1);
        egress_wbuf_u32(&wb, 60000);
        egress_wbuf_u64(&wb, 0);
        egress_wbuf_u16(&wb, EGRESS_HOSTS_MAX + 1);
        egress_wbuf_finish(&wb);
        CHECK(egress_msg_decode(wb.data, wb.len, &out, NULL) == -EPROTO, "host count over the limit");
        char id[EGRESS_EXEC_ID_MAX + 2];
        memset(id, 'i', sizeof id);
        id[EGRESS_EXEC_ID_MAX] = 0;
        egress_msg end = { .type = EGRESS_MSG_EXEC_END };
        memcpy(end.exec_id, id, sizeof end.exec_id);
        CHECK(roundtrip(&end) == 0 && strlen(out.exec_id) == EGRESS_EXEC_ID_MAX, "exec id at its limit");
        egress_wbuf_begin(&wb, EGRESS_MSG_EXEC_END);
        id[EGRESS_EXEC_ID_MAX] = 'i';
        id[EGRESS_EXEC_ID_MAX + 1] = 0;
        egress_wbuf_u16(&wb, EGRESS_EXEC_ID_MAX + 1);
        egress_wbuf_bytes(&wb, id, EGRESS_EXEC_ID_MAX + 1);
        egress_wbuf_finish(&wb);
        CHECK(egress_msg_decode(wb.data, wb.len, &out, NULL) == -EMSGSIZE, "exec id one past its limit");
        egress_wbuf_begin(&wb, EGRESS_MSG_EXEC_END);
        egress_wbuf_u16(&wb, 0);
        egress_wbuf_finish(&wb);
        CHECK(egress_msg_decode(wb.data, wb.len, &out, NULL) == -EPROTO, "empty exec id");
}

/* CONFIG: CIDR families, prefixes, host bytes of an IPv4 entry */
static void test_config(void) {
        egress_msg c = { .type = EGRESS_MSG_CONFIG };
        c.config.n = EGRESS_PRIVATE_MAX;
        for (size_t i = 0; i < c.config.n; i++)
                c.config.cidrs[i] = (egress_cidr) { 4, 8, { 10 } };
        CHECK(roundtrip(&c) == 0 && out.config.n == EGRESS_PRIVATE_MAX, "CONFIG at its limit");
        c.config.n = 1;
        c.config.cidrs[0] = (egress_cidr) { 4, 33, { 10 } };
        CHECK(roundtrip(&c) == -EPROTO, "IPv4 prefix 33");
        c.config.cidrs[0] = (egress_cidr) { 6, 129, { 0xfd } };
        CHECK(roundtrip(&c) == -EPROTO, "IPv6 prefix 129");
        c.config.cidrs[0] = (egress_cidr) { 5, 8, { 10 } };
        CHECK(roundtrip(&c) == -EPROTO, "family 5");
        c.config.cidrs[0] = (egress_cidr) { 4, 8, { 10, 0, 0, 0, 1 } };
        CHECK(roundtrip(&c) == -EPROTO, "IPv4 entry with bytes after the address");
        c.config.n = EGRESS_PRIVATE_MAX + 1;
        CHECK(egress_msg_encode(&c, &wb) == -EINVAL, "CONFIG over its limit");
}

/* proxy -> daemon messages */
static void test_replies(void) {
        egress_msg r = { .type = EGRESS_MSG_REPORT };
        snprintf(r.report.exec_id, sizeof r.report.exec_id, "e1");
        r.report.serial = 7, r.report.verdict = EGRESS_VERDICT_DENIED, r.report.proto = EGRESS_PROTO_SOCKS5;
        r.report.port = 443;
        memset(r.report.host, 'h', EGRESS_HOST_TEXT_MAX);
        snprintf(r.report.address, sizeof r.report.address, "[2001:db8::1]:443");
        snprintf(r.report.reason, sizeof r.report.reason, "not in allowed_egress_hosts");
        r.report.bytes_up = UINT64_MAX;
        CHECK(roundtrip(&r) == 0 && out.report.bytes_up == UINT64_MAX && out.report.port == 443 &&
                      strlen(out.report.host) == EGRESS_HOST_TEXT_MAX && out.report.verdict == EGRESS_VERDICT_DENIED,
              "REPORT");
        r.report.verdict = 9;
        CHECK(roundtrip(&r) == -EPROTO, "REPORT with verdict 9");
        egress_msg d = { .type = EGRESS_MSG_EXEC_DONE };
        snprintf(d.exec_done.exec_id, sizeof d.exec_done.exec_id, "e1");
        d.exec_done.allowed = 3, d.exec_done.denied = 4, d.exec_done.bytes_down = 5;
        CHECK(roundtrip(&d) == 0 && out.exec_done.allowed == 3 && out.exec_done.denied == 4, "EXEC_DONE");
        egress_msg e = { .type = EGRESS_MSG_ERROR };
        e.error.for_type = 2;
        snprintf(e.error.message, sizeof e.error.message, "allowed_egress_hosts[1]: bad");
        CHECK(roundtrip(&e) == 0 && out.error.for_type == 2 && out.error.exec_id[0] == 0, "ERROR");
        egress_msg y = { .type = EGRESS_MSG_READY, .version = EGRESS_PROTO_VERSION };
        CHECK(roundtrip(&y) == 0 && out.version == EGRESS_PROTO_VERSION, "READY");
}

/* header: unknown type, reserved bits, trailing bytes, oversized datagram */
static void test_header(void) {
        egress_msg end = { .type = EGRESS_MSG_EXEC_END };
        snprintf(end.exec_id, sizeof end.exec_id, "x");
        egress_msg_encode(&end, &wb);
        wb.data[1] = 0x7f;
        CHECK(egress_msg_decode(wb.data, wb.len, &out, NULL) == -EPROTO, "unknown type");
        egress_msg_encode(&end, &wb);
        wb.data[2] = 1;
        CHECK(egress_msg_decode(wb.data, wb.len, &out, NULL) == -EPROTO, "reserved bits");
        egress_msg_encode(&end, &wb);
        wb.data[wb.len] = 'x';
        wb.data[7]++;
        CHECK(egress_msg_decode(wb.data, wb.len + 1, &out, NULL) == -EBADMSG, "trailing bytes");
        egress_msg_encode(&end, &wb);
        CHECK(egress_msg_decode(wb.data, wb.len - 1, &out, NULL) == -EBADMSG, "header longer than the datagram");
        CHECK(egress_msg_decode(wb.data, EGRESS_MSG_MAX + 1, &out, NULL) == -EMSGSIZE, "datagram over the limit");
}

int main(void) {
        test_reader();
        test_exec_begin();
        test_rule_limit();
        test_id_limits();
        test_config();
        test_replies();
        test_header();
        return tap_done("egress proto");
}
