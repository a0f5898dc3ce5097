/* egress_match.c — host normalization, allowlist rules and matching, and
 * address classification for cscd-egress. Pure; see egress_match.h. */
#include "egress_match.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char **ret_reason, const char *reason) {
        if (ret_reason)
                *ret_reason = reason;
        return -EINVAL;
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_hex(char c) {
        return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* A label that a resolver might read as a number: decimal, or 0x-hex. */
static bool label_numeric(const char *l, size_t n) {
        bool hex = n > 2 && l[0] == '0' && l[1] == 'x';
        for (size_t i = hex ? 2 : 0; i < n; i++)
                if (hex ? !is_hex(l[i]) : !is_digit(l[i]))
                        return false;
        return n > 0;
}

/* Canonical dotted quad: four decimal parts 0..255, no leading zeros. */
static bool dotted_quad(const char *s, uint8_t out[4]) {
        int part = 0;
        const char *p = s;
        while (part < 4) {
                size_t n = 0;
                unsigned v = 0;
                while (is_digit(p[n]) && n < 4)
                        v = v * 10 + (unsigned) (p[n++] - '0');
                if (n == 0 || n > 3 || v > 255 || (n > 1 && p[0] == '0'))
                        return false;
                out[part++] = (uint8_t) v;
                p += n;
                if (part < 4 && *p++ != '.')
                        return false;
        }
        return *p == 0;
}

static int parse_ipv6(const char *s, size_t len, egress_host *h, const char **ret_reason) {
        char tmp[64];
        if (len == 0 || len >= sizeof tmp)
                return fail(ret_reason, "bad IPv6 literal");
        for (size_t i = 0; i < len; i++)
                if (!is_hex((char) (s[i] | 0x20)) && s[i] != ':' && s[i] != '.')
                        return fail(ret_reason, "bad IPv6 literal");
        memcpy(tmp, s, len);
        tmp[len] = 0;
        if (inet_pton(AF_INET6, tmp, h->addr) != 1)
                return fail(ret_reason, "bad IPv6 literal");
        h->kind = EGRESS_HOST_IPV6;
        inet_ntop(AF_INET6, h->addr, h->name, sizeof h->name);
        return 0;
}

static int check_labels(const char *name, const char **ret_reason) {
        const char *l = name, *last = name;
        size_t last_len = 0;
        for (;;) {
                const char *dot = strchr(l, '.');
                size_t n = dot ? (size_t) (dot - l) : strlen(l);
                if (n == 0)
                        return fail(ret_reason, "empty label");
                if (n > 63)
                        return fail(ret_reason, "label longer than 63 bytes");
                last = l;
                last_len = n;
                if (!dot)
                        break;
                l = dot + 1;
        }
        if (label_numeric(last, last_len))
                return fail(ret_reason, "numeric host that is not a dotted-quad IPv4 address");
        return 0;
}

int egress_host_parse(const char *s, size_t len, bool brackets, egress_host *ret, const char **ret_reason) {
        egress_host h;
        memset(&h, 0, sizeof h);
        if (len == 0)
                return fail(ret_reason, "empty host");
        if (memchr(s, 0, len))
                return fail(ret_reason, "NUL byte in host");
        if (memchr(s, '%', len))
                return fail(ret_reason, "percent-encoding or zone id in host");
        if (brackets) {
                if (len < 2 || s[0] != '[' || s[len - 1] != ']')
                        return fail(ret_reason, "unbalanced brackets");
                int r = parse_ipv6(s + 1, len - 2, &h, ret_reason);
                if (r == 0)
                        *ret = h;
                return r;
        }
        if (len > EGRESS_HOST_MAX + 1)
                return fail(ret_reason, "host longer than 253 bytes");
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (c >= 'A' && c <= 'Z')
                        c = (char) (c | 0x20);
                if (!(is_digit(c) || (c >= 'a' && c <= 'z') || c == '.' || c == '-' || c == '_'))
                        return fail(ret_reason, c == ':' ? "IPv6 literal without brackets"
                                                         : "invalid character in host");
                h.name[i] = c;
        }
        if (h.name[len - 1] == '.')
                h.name[--len] = 0;
        if (len == 0 || len > EGRESS_HOST_MAX)
                return fail(ret_reason, len ? "host longer than 253 bytes" : "empty host");
        if (dotted_quad(h.name, h.addr)) {
                h.kind = EGRESS_HOST_IPV4;
                *ret = h;
                return 0;
        }
        int r = check_labels(h.name, ret_reason);
        if (r < 0)
                return r;
        h.kind = EGRESS_HOST_NAME;
        *ret = h;
        return 0;
}

static int parse_port(const char *s, size_t n, uint16_t *ret, const char **ret_reason) {
        unsigned v = 0;
        if (n == 0 || n > 5 || s[0] == '0')
                return fail(ret_reason, "bad port");
        for (size_t i = 0; i < n; i++) {
                if (!is_digit(s[i]))
                        return fail(ret_reason, "bad port");
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        if (v > 65535)
                return fail(ret_reason, "bad port");
        *ret = (uint16_t) v;
        return 0;
}

int egress_authority_parse(const char *s, size_t len, uint16_t default_port, egress_host *ret_host,
                           uint16_t *ret_port, const char **ret_reason) {
        size_t host_len = len;
        const char *colon = NULL;
        bool brackets = len > 0 && s[0] == '[';
        if (brackets) {
                const char *close = memchr(s, ']', len);
                if (!close)
                        return fail(ret_reason, "unbalanced brackets");
                host_len = (size_t) (close - s) + 1;
                if (host_len < len) {
                        if (s[host_len] != ':')
                                return fail(ret_reason, "bad authority");
                        colon = s + host_len;
                }
        } else {
                colon = memchr(s, ':', len);
                if (colon)
                        host_len = (size_t) (colon - s);
        }
        uint16_t port = default_port;
        if (colon) {
                int r = parse_port(colon + 1, len - host_len - 1, &port, ret_reason);
                if (r < 0)
                        return r;
        } else if (default_port == 0)
                return fail(ret_reason, "port missing");
        egress_host h;
        int r = egress_host_parse(s, host_len, brackets, &h, ret_reason);
        if (r < 0)
                return r;
        *ret_host = h;
        *ret_port = port;
        return 0;
}

int egress_rule_parse(const char *s, egress_rule *ret, const char **ret_reason) {
        egress_rule rule;
        memset(&rule, 0, sizeof rule);
        size_t len = strlen(s);
        if (len >= 2 && s[0] == '*' && s[1] == '.') {
                rule.wildcard = true;
                s += 2;
                len -= 2;
        }
        /* port 0 here means "no port written": the default ports apply */
        int r = egress_authority_parse(s, len, 1, &rule.host, &rule.port, ret_reason);
        if (r < 0)
                return r;
        const char *colon = len && s[0] == '[' ? strstr(s, "]:") : strchr(s, ':');
        if (!colon)
                rule.port = 0;
        if (rule.wildcard && rule.host.kind != EGRESS_HOST_NAME)
                return fail(ret_reason, "a wildcard needs a name");
        *ret = rule;
        return 0;
}

int egress_allowlist_new(const char (*hosts)[EGRESS_RULE_MAX + 1], size_t n, egress_allowlist **ret,
                         size_t *ret_bad, const char **ret_reason) {
        if (n > EGRESS_HOSTS_MAX)
                return fail(ret_reason, "too many hosts");
        egress_allowlist *al = malloc(sizeof *al + n * sizeof al->rules[0]);
        if (!al)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int r = egress_rule_parse(hosts[i], &al->rules[i], ret_reason);
                if (r < 0) {
                        if (ret_bad)
                                *ret_bad = i;
                        free(al);
                        return r;
                }
        }
        al->n = n;
        *ret = al;
        return 0;
}

static bool rule_matches(const egress_rule *rule, const egress_host *h, uint16_t port) {
        if (rule->port ? port != rule->port : port != 80 && port != 443)
                return false;
        if (rule->host.kind != h->kind)
                return false;
        if (h->kind != EGRESS_HOST_NAME)
                return memcmp(rule->host.addr, h->addr, h->kind == EGRESS_HOST_IPV4 ? 4 : 16) == 0;
        if (!rule->wildcard)
                return strcmp(rule->host.name, h->name) == 0;
        size_t sn = strlen(rule->host.name), hn = strlen(h->name);
        return hn > sn + 1 && h->name[hn - sn - 1] == '.' && strcmp(h->name + hn - sn, rule->host.name) == 0;
}

bool egress_allowlist_match(const egress_allowlist *al, const egress_host *host, uint16_t port) {
        for (size_t i = 0; i < al->n; i++)
                if (rule_matches(&al->rules[i], host, port))
                        return true;
        return false;
}

static egress_addr_class classify4(const uint8_t *a) {
        if (a[0] == 0)
                return a[1] | a[2] | a[3] ? EGRESS_ADDR_RESERVED : EGRESS_ADDR_UNSPECIFIED;
        if (a[0] == 127)
                return EGRESS_ADDR_LOOPBACK;
        if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168))
                return EGRESS_ADDR_PRIVATE;
        if (a[0] == 100 && (a[1] & 0xc0) == 64)
                return EGRESS_ADDR_SHARED;
        if (a[0] == 169 && a[1] == 254)
                return EGRESS_ADDR_LINK_LOCAL;
        if ((a[0] & 0xf0) == 224)
                return EGRESS_ADDR_MULTICAST;
        if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
                return EGRESS_ADDR_BROADCAST;
        if ((a[0] & 0xf0) == 240)
                return EGRESS_ADDR_RESERVED;
        return EGRESS_ADDR_PUBLIC;
}

egress_addr_class egress_addr_classify(int family, const uint8_t *a) {
        static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };
        static const uint8_t zero[16];
        if (family == 4)
                return classify4(a);
        if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
                return classify4(a + 12);
        if (a[0] == 0x20 && a[1] == 0x02)
                return classify4(a + 2);
        if (memcmp(a, zero, 16) == 0)
                return EGRESS_ADDR_UNSPECIFIED;
        if (memcmp(a, zero, 15) == 0 && a[15] == 1)
                return EGRESS_ADDR_LOOPBACK;
        if (memcmp(a, zero, 12) == 0) /* deprecated IPv4-compatible ::a.b.c.d */
                return EGRESS_ADDR_RESERVED;
        if ((a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0))
                return EGRESS_ADDR_UNIQUE_LOCAL;
        if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
                return EGRESS_ADDR_LINK_LOCAL;
        if (a[0] == 0xff)
                return EGRESS_ADDR_MULTICAST;
        return EGRESS_ADDR_PUBLIC;
}

const char *egress_addr_class_name(egress_addr_class c) {
        switch (c) {
        case EGRESS_ADDR_PUBLIC:
                return "public";
        case EGRESS_ADDR_UNSPECIFIED:
                return "unspecified address";
        case EGRESS_ADDR_LOOPBACK:
                return "loopback address";
        case EGRESS_ADDR_PRIVATE:
                return "private address (RFC 1918)";
        case EGRESS_ADDR_SHARED:
                return "shared address space (100.64.0.0/10)";
        case EGRESS_ADDR_LINK_LOCAL:
                return "link-local address";
        case EGRESS_ADDR_UNIQUE_LOCAL:
                return "unique-local address";
        case EGRESS_ADDR_MULTICAST:
                return "multicast address";
        case EGRESS_ADDR_BROADCAST:
                return "broadcast address";
        case EGRESS_ADDR_RESERVED:
                return "reserved address";
        case EGRESS_ADDR_HOST:
                return "an address of this host";
        }
        return "unknown";
}

int egress_cidr_parse(const char *s, egress_cidr *ret) {
        char tmp[64];
        egress_cidr c;
        memset(&c, 0, sizeof c);
        const char *slash = strchr(s, '/');
        size_t n = slash ? (size_t) (slash - s) : strlen(s);
        if (n == 0 || n >= sizeof tmp)
                return -EINVAL;
        memcpy(tmp, s, n);
        tmp[n] = 0;
        if (strchr(tmp, ':')) {
                if (inet_pton(AF_INET6, tmp, c.addr) != 1)
                        return -EINVAL;
                c.family = 6;
        } else {
                if (!dotted_quad(tmp, c.addr))
                        return -EINVAL;
                c.family = 4;
        }
        unsigned max = c.family == 4 ? 32 : 128, prefix = max;
        if (slash) {
                uint16_t p;
                if (strcmp(slash + 1, "0") == 0)
                        p = 0;
                else if (parse_port(slash + 1, strlen(slash + 1), &p, NULL) < 0)
                        return -EINVAL;
                if (p > max)
                        return -EINVAL;
                prefix = p;
        }
        for (unsigned bit = prefix; bit < max; bit++)
                if (c.addr[bit / 8] & (0x80 >> (bit % 8)))
                        return -EINVAL; /* host bits set: almost always a typo */
        c.prefix = (uint8_t) prefix;
        *ret = c;
        return 0;
}

bool egress_cidr_contains(const egress_cidr *c, int family, const uint8_t *addr) {
        static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        if (family == 6 && c->family == 4 && memcmp(addr, mapped, 12) == 0) {
                family = 4;
                addr += 12;
        }
        if (family != c->family)
                return false;
        unsigned full = c->prefix / 8, rest = c->prefix % 8;
        if (memcmp(addr, c->addr, full) != 0)
                return false;
        if (rest == 0)
                return true;
        uint8_t mask = (uint8_t) (0xff << (8 - rest));
        return (addr[full] & mask) == (c->addr[full] & mask);
}
