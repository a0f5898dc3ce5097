/* test-egress-match.c — the egress allowlist rules of docs/egress.md, one
 * table row per rule: host spellings, rule syntax, matching (exact, wildcard,
 * ports, IP literals, empty list), address classes and CIDRs. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "egress_match.h"
#include "tap.h"

static const struct {
        const char *in;
        int kind; /* 0: refused */
        const char *norm;
} hosts[] = {
        { "example.com", EGRESS_HOST_NAME, "example.com" },
        { "Example.COM", EGRESS_HOST_NAME, "example.com" },
        { "example.com.", EGRESS_HOST_NAME, "example.com" },
        { "example.com..", 0, NULL },
        { ".example.com", 0, NULL },
        { "a..b", 0, NULL },
        { "", 0, NULL },
        { ".", 0, NULL },
        { "under_score.example", EGRESS_HOST_NAME, "under_score.example" },
        { "xn--bcher-kva.example", EGRESS_HOST_NAME, "xn--bcher-kva.example" },
        { "1.2.3.4", EGRESS_HOST_IPV4, "1.2.3.4" },
        { "1.2.3.4.", EGRESS_HOST_IPV4, "1.2.3.4" },
        { "255.255.255.255", EGRESS_HOST_IPV4, "255.255.255.255" },
        { "256.1.1.1", 0, NULL },
        { "2130706433", 0, NULL },      /* decimal */
        { "0177.0.0.1", 0, NULL },      /* octal */
        { "0x7f.0.0.1", 0, NULL },      /* hex part */
        { "0x7f000001", 0, NULL },      /* hex */
        { "127.1", 0, NULL },           /* short */
        { "127.0.1", 0, NULL },
        { "1.2.3.4.5", 0, NULL },
        { "01.2.3.4", 0, NULL },
        { "example.123", 0, NULL },     /* numeric last label */
        { "example.0x1f", 0, NULL },
        { "123.example", EGRESS_HOST_NAME, "123.example" },
        { "example.com%2f", 0, NULL },  /* percent-encoding */
        { "exa mple.com", 0, NULL },
        { "exa/mple.com", 0, NULL },
        { "exa@mple.com", 0, NULL },
        { "*.example.com", 0, NULL },
        { "::1", 0, NULL },             /* IPv6 only in brackets */
        { "[::1]", EGRESS_HOST_IPV6, "::1" },
        { "[::FFFF:1.2.3.4]", EGRESS_HOST_IPV6, "::ffff:1.2.3.4" },
        { "[fe80::1%eth0]", 0, NULL },  /* zone id */
        { "[::1", 0, NULL },
        { "[example.com]", 0, NULL },
        { "[]", 0, NULL },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x", EGRESS_HOST_NAME, NULL }, /* 63 */
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x", 0, NULL },               /* 64 */
};

static const struct {
        const char *rule; /* NULL: the list is empty */
        const char *host;
        unsigned port;
        bool match;
} matches[] = {
        { "example.com", "example.com", 443, true },
        { "example.com", "example.com", 80, true },
        { "example.com", "example.com", 8080, false },
        { "example.com", "EXAMPLE.com.", 443, true },
        { "example.com", "www.example.com", 443, false },
        { "example.com", "example.com.evil.net", 443, false },
        { "example.com", "notexample.com", 443, false },
        { "example.com:8443", "example.com", 8443, true },
        { "example.com:8443", "example.com", 443, false },
        { "*.example.com", "a.example.com", 443, true },
        { "*.example.com", "a.b.example.com", 80, true },
        { "*.example.com", "example.com", 443, false },
        { "*.example.com", "aexample.com", 443, false },
        { "*.example.com", "a.example.com", 22, false },
        { "*.example.com:22", "a.example.com", 22, true },
        { "Example.COM.", "example.com", 443, true },
        { "1.2.3.4", "1.2.3.4", 443, true },
        { "1.2.3.4", "1.2.3.5", 443, false },
        { "1.2.3.4:8080", "1.2.3.4", 8080, true },
        { "example.com", "1.2.3.4", 443, false },     /* an IP literal never matches a name */
        { "1.2.3.4", "example.com", 443, false },     /* nor a name an IP rule */
        { "[2001:db8::1]:443", "[2001:db8::1]", 443, true },
        { "[2001:db8::1]", "[2001:db8:0::1]", 80, true },
        { "[2001:db8::1]", "[2001:db8::2]", 80, false },
        { "[::ffff:1.2.3.4]", "1.2.3.4", 443, false }, /* different spellings are different hosts */
        { NULL, "example.com", 443, false },           /* the empty list denies everything */
};

static const char *const bad_rules[] = {
        "", "*", "*.", "*.1.2.3.4", "**.example.com", "a.*.example.com", "example.com:", "example.com:0",
        "example.com:65536", "example.com:080", "example.com:+80", "example.com:8o", "example.com:443:1",
        "exa%6dple.com", "2130706433", "[::1]x", "http://example.com",
};

static const struct {
        const char *addr;
        egress_addr_class cls;
} classes[] = {
        { "8.8.8.8", EGRESS_ADDR_PUBLIC },        { "0.0.0.0", EGRESS_ADDR_UNSPECIFIED },
        { "0.1.2.3", EGRESS_ADDR_RESERVED },      { "127.0.0.1", EGRESS_ADDR_LOOPBACK },
        { "127.255.255.254", EGRESS_ADDR_LOOPBACK }, { "10.1.2.3", EGRESS_ADDR_PRIVATE },
        { "172.16.0.1", EGRESS_ADDR_PRIVATE },    { "172.31.255.255", EGRESS_ADDR_PRIVATE },
        { "172.32.0.1", EGRESS_ADDR_PUBLIC },     { "172.15.255.255", EGRESS_ADDR_PUBLIC },
        { "192.168.1.1", EGRESS_ADDR_PRIVATE },   { "192.169.1.1", EGRESS_ADDR_PUBLIC },
        { "100.64.0.1", EGRESS_ADDR_SHARED },     { "100.127.255.255", EGRESS_ADDR_SHARED },
        { "100.128.0.1", EGRESS_ADDR_PUBLIC },    { "169.254.169.254", EGRESS_ADDR_LINK_LOCAL },
        { "224.0.0.1", EGRESS_ADDR_MULTICAST },   { "239.255.255.255", EGRESS_ADDR_MULTICAST },
        { "255.255.255.255", EGRESS_ADDR_BROADCAST }, { "240.0.0.1", EGRESS_ADDR_RESERVED },
        { "::", EGRESS_ADDR_UNSPECIFIED },        { "::1", EGRESS_ADDR_LOOPBACK },
        { "fc00::1", EGRESS_ADDR_UNIQUE_LOCAL },  { "fdff::1", EGRESS_ADDR_UNIQUE_LOCAL },
        { "fec0::1", EGRESS_ADDR_UNIQUE_LOCAL },  { "fe80::1", EGRESS_ADDR_LINK_LOCAL },
        { "febf::1", EGRESS_ADDR_LINK_LOCAL },    { "ff02::1", EGRESS_ADDR_MULTICAST },
        { "2001:db8::1", EGRESS_ADDR_PUBLIC },    { "::ffff:127.0.0.1", EGRESS_ADDR_LOOPBACK },
        { "::ffff:10.0.0.1", EGRESS_ADDR_PRIVATE }, { "::ffff:8.8.8.8", EGRESS_ADDR_PUBLIC },
        { "64:ff9b::a9fe:a9fe", EGRESS_ADDR_LINK_LOCAL }, { "2002:7f00:1::", EGRESS_ADDR_LOOPBACK },
        { "::127.0.0.1", EGRESS_ADDR_RESERVED },
};

static int to_bytes(const char *s, uint8_t *out) {
        if (inet_pton(AF_INET, s, out) == 1)
                return 4;
        return inet_pton(AF_INET6, s, out) == 1 ? 6 : 0;
}

static void test_cidrs(void) {
        static const struct {
                const char *cidr, *addr;
                bool in;
        } rows[] = {
                { "127.0.0.0/8", "127.1.2.3", true },   { "127.0.0.0/8", "128.0.0.1", false },
                { "10.0.0.0/8", "::ffff:10.9.9.9", true }, { "192.168.4.0/22", "192.168.7.255", true },
                { "192.168.4.0/22", "192.168.8.0", false }, { "0.0.0.0/0", "8.8.8.8", true },
                { "0.0.0.0/0", "::1", false },          { "fd00::/8", "fd12::1", true },
                { "fd00::/8", "fc12::1", false },       { "10.1.2.3", "10.1.2.3", true },
                { "10.1.2.3", "10.1.2.4", false },      { "::/0", "2001:db8::1", true },
        };
        for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
                egress_cidr c;
                uint8_t a[16];
                int fam = to_bytes(rows[i].addr, a);
                CHECK(egress_cidr_parse(rows[i].cidr, &c) == 0, "parse %s", rows[i].cidr);
                CHECK(egress_cidr_contains(&c, fam, a) == rows[i].in, "%s in %s", rows[i].addr, rows[i].cidr);
        }
        static const char *const bad[] = { "", "/8", "10.0.0.0/33", "10.0.0.1/8", "10.0.0.0/", "10.0.0.0/-1",
                                           "10.0.0.0/08", "10.0.0/8", "::/129", "fd00::1/8", "example.com/8" };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                egress_cidr c;
                CHECK(egress_cidr_parse(bad[i], &c) == -EINVAL, "cidr '%s' refused", bad[i]);
        }
}

int main(void) {
        for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
                egress_host h;
                const char *why = NULL;
                bool br = hosts[i].in[0] == '[';
                int r = egress_host_parse(hosts[i].in, strlen(hosts[i].in), br, &h, &why);
                if (hosts[i].kind == 0)
                        CHECK(r == -EINVAL && why, "host '%s' refused", hosts[i].in);
                else
                        CHECK(r == 0 && (int) h.kind == hosts[i].kind &&
                                      (!hosts[i].norm || strcmp(h.name, hosts[i].norm) == 0),
                              "host '%s' -> '%s' (r=%d %s)", hosts[i].in, r == 0 ? h.name : "", r, why ? why : "");
        }
        /* NUL inside the given length */
        {
                egress_host h;
                const char *why = NULL;
                CHECK(egress_host_parse("a.com\0.evil", 11, false, &h, &why) == -EINVAL, "NUL refused");
        }
        /* 253 bytes pass, 254 do not (a trailing dot is not counted) */
        {
                char name[300];
                egress_host h;
                memset(name, 'a', sizeof name);
                for (size_t i = 63; i < sizeof name; i += 64)
                        name[i] = '.';
                CHECK(egress_host_parse(name, 253, false, &h, NULL) == 0, "253 bytes");
                name[253] = '.';
                CHECK(egress_host_parse(name, 254, false, &h, NULL) == 0, "253 bytes and a trailing dot");
                name[253] = 'a';
                CHECK(egress_host_parse(name, 254, false, &h, NULL) == -EINVAL, "254 bytes");
        }
        for (size_t i = 0; i < sizeof matches / sizeof *matches; i++) {
                char rules[1][EGRESS_RULE_MAX + 1];
                egress_allowlist *al = NULL;
                egress_host h;
                uint16_t port;
                size_t n = matches[i].rule ? 1 : 0;
                if (n)
                        snprintf(rules[0], sizeof rules[0], "%s", matches[i].rule);
                CHECK(egress_allowlist_new(rules, n, &al, NULL, NULL) == 0, "rule '%s'", matches[i].rule);
                CHECK(egress_authority_parse(matches[i].host, strlen(matches[i].host), (uint16_t) matches[i].port,
                                             &h, &port, NULL) == 0,
                      "host '%s'", matches[i].host);
                CHECK(al && egress_allowlist_match(al, &h, (uint16_t) matches[i].port) == matches[i].match,
                      "'%s' %s '%s' port %u", matches[i].rule ? matches[i].rule : "(empty)",
                      matches[i].match ? "matches" : "does not match", matches[i].host, matches[i].port);
                free(al);
        }
        for (size_t i = 0; i < sizeof bad_rules / sizeof *bad_rules; i++) {
                char rules[2][EGRESS_RULE_MAX + 1] = { "ok.example" };
                egress_allowlist *al = NULL;
                size_t bad = 99;
                const char *why = NULL;
                snprintf(rules[1], sizeof rules[1], "%s", bad_rules[i]);
                CHECK(egress_allowlist_new(rules, 2, &al, &bad, &why) == -EINVAL && bad == 1 && why && !al,
                      "rule '%s' refused at index 1", bad_rules[i]);
        }
        for (size_t i = 0; i < sizeof classes / sizeof *classes; i++) {
                uint8_t a[16];
                int fam = to_bytes(classes[i].addr, a);
                egress_addr_class got = egress_addr_classify(fam, a);
                CHECK(got == classes[i].cls, "%s is %s, got %s", classes[i].addr,
                      egress_addr_class_name(classes[i].cls), egress_addr_class_name(got));
        }
        test_cidrs();
        return tap_done("egress match");
}
