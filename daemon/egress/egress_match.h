/* egress_match.h — the egress allowlist: host spelling rules, allowlist
 * rules and matching, and the address classes the proxy refuses to dial.
 * Pure functions (no I/O, no logging): the policy of docs/egress.md in code.
 *
 * Errors follow libcsc's rule: negative errno for bad input (here always
 * -EINVAL, with a static reason string); documented outcomes are positive. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "egress_proto.h"

typedef enum egress_host_kind {
        EGRESS_HOST_NAME = 1,
        EGRESS_HOST_IPV4 = 4,
        EGRESS_HOST_IPV6 = 6,
} egress_host_kind;

/* A host as the proxy understands it, after normalization: a name is lower
 * case without its trailing dot; an IP literal also keeps its binary form and
 * its text is canonical (inet_ntop). */
typedef struct egress_host {
        egress_host_kind kind;
        char name[EGRESS_HOST_MAX + 1];
        uint8_t addr[16]; /* IPv4 in the first 4 bytes */
} egress_host;

typedef struct egress_rule {
        bool wildcard;     /* "*.suffix": strict subdomains of host.name */
        egress_host host;
        uint16_t port;     /* 0: the default ports, 80 and 443 */
} egress_rule;

typedef struct egress_allowlist {
        size_t n;
        egress_rule rules[]; /* n of them */
} egress_allowlist;

/* Parses a bare host (a name, a dotted-quad IPv4, or "[IPv6]" when brackets
 * is true). Refuses: empty, NUL, '%' (percent-encoding, zone ids), characters
 * outside [A-Za-z0-9._-], empty or long labels, and any name whose last label
 * is numeric unless it is a canonical dotted quad (so decimal, octal, hex and
 * short IPv4 forms never reach a resolver). */
int egress_host_parse(const char *s, size_t len, bool brackets, egress_host *ret, const char **ret_reason);

/* Parses an authority "host[:port]" ("[v6]:port" for IPv6). When the port is
 * absent, default_port is used, or it is an error when default_port is 0.
 * Ports are 1..65535, decimal, no sign, no leading zero. */
int egress_authority_parse(const char *s, size_t len, uint16_t default_port, egress_host *ret_host,
                           uint16_t *ret_port, const char **ret_reason);

/* One allowed_egress_hosts entry: "host", "host:port", "*.suffix[:port]",
 * an IP literal ("[v6]" bracketed when it has a port). */
int egress_rule_parse(const char *s, egress_rule *ret, const char **ret_reason);

/* Builds an allowlist of n entries (free() it). -ENOMEM, or -EINVAL with
 * *ret_bad the index of the first bad entry and *ret_reason why. */
int egress_allowlist_new(const char (*hosts)[EGRESS_RULE_MAX + 1], size_t n, egress_allowlist **ret,
                         size_t *ret_bad, const char **ret_reason);

/* True when (host, port) matches a rule. An empty list matches nothing; an IP
 * literal only matches the same IP literal rule, never a name. */
bool egress_allowlist_match(const egress_allowlist *al, const egress_host *host, uint16_t port);

/* Address classes, the first one that applies. Only PUBLIC may be dialed
 * without an egress_allow_private range. */
typedef enum egress_addr_class {
        EGRESS_ADDR_PUBLIC = 0,
        EGRESS_ADDR_UNSPECIFIED,
        EGRESS_ADDR_LOOPBACK,
        EGRESS_ADDR_PRIVATE,     /* RFC 1918 */
        EGRESS_ADDR_SHARED,      /* 100.64.0.0/10 */
        EGRESS_ADDR_LINK_LOCAL,  /* 169.254.0.0/16 (cloud metadata), fe80::/10 */
        EGRESS_ADDR_UNIQUE_LOCAL,/* fc00::/7, fec0::/10 */
        EGRESS_ADDR_MULTICAST,
        EGRESS_ADDR_BROADCAST,
        EGRESS_ADDR_RESERVED,    /* 0.0.0.0/8, 240.0.0.0/4 */
        EGRESS_ADDR_HOST,        /* one of this host's own addresses */
} egress_addr_class;

/* family 4 or 6; addr 4 or 16 bytes. IPv4-mapped (::ffff:0:0/96), NAT64
 * (64:ff9b::/96) and 6to4 (2002::/16) addresses are judged by the IPv4
 * address they carry. */
egress_addr_class egress_addr_classify(int family, const uint8_t *addr);
const char *egress_addr_class_name(egress_addr_class c);

/* "a.b.c.d/n" or "v6/n"; a bare address is a /32 or /128. Host bits must be zero. */
int egress_cidr_parse(const char *s, egress_cidr *ret);
/* IPv4-mapped IPv6 addresses are also checked against IPv4 ranges. */
bool egress_cidr_contains(const egress_cidr *c, int family, const uint8_t *addr);
