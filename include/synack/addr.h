/* synack — addresses of both IP families.
 *
 * One type holds an IPv4 or an IPv6 address. It is sixteen bytes in network byte order, as an
 * IPv6 address: an IPv4 address a.b.c.d is held as the IPv4-mapped address ::ffff:a.b.c.d
 * (RFC 4291 §2.5.5.2), the form a dual-stack socket reports it in on Linux. So one compare,
 * one copy and one hash serve both families, and the TCP state machine never looks at the
 * family. The unspecified address (bind to any) is all zero for IPv6 and ::ffff:0.0.0.0 for
 * IPv4; synack_addr_is_any() is true for both.
 *
 * IPv4 addresses also appear as a uint32_t in host byte order at the edges that speak only
 * IPv4 (the IPv4 header codec); synack_addr_v4()/synack_addr_get_v4() convert.
 */
#ifndef SYNACK_ADDR_H
#define SYNACK_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the library exports what this header declares */

#define SYNACK_AF_INET 4
#define SYNACK_AF_INET6 6

struct synack_addr {
	uint8_t b[16]; /* network byte order; IPv4 as ::ffff:a.b.c.d */
};

/* An address and a port: one end of a connection. Port in host byte order. */
struct synack_endpoint {
	struct synack_addr addr;
	uint16_t port;
};

/* The IPv4 address v4 (host byte order) as ::ffff:a.b.c.d. */
static inline struct synack_addr synack_addr_v4(uint32_t v4)
{
	struct synack_addr a;
	memset(a.b, 0, 10);
	a.b[10] = 0xff;
	a.b[11] = 0xff;
	a.b[12] = (uint8_t)(v4 >> 24);
	a.b[13] = (uint8_t)(v4 >> 16);
	a.b[14] = (uint8_t)(v4 >> 8);
	a.b[15] = (uint8_t)v4;
	return a;
}

/* An IPv6 address from its sixteen bytes (network byte order). */
static inline struct synack_addr synack_addr_v6(const uint8_t bytes[16])
{
	struct synack_addr a;
	memcpy(a.b, bytes, 16);
	return a;
}

/* True for an IPv4 address (IPv4-mapped form). */
static inline bool synack_addr_is_v4(const struct synack_addr *a)
{
	static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(a->b, pfx, 12) == 0;
}

/* SYNACK_AF_INET or SYNACK_AF_INET6. */
static inline int synack_addr_family(const struct synack_addr *a)
{
	return synack_addr_is_v4(a) ? SYNACK_AF_INET : SYNACK_AF_INET6;
}

/* The IPv4 address in host byte order (meaningful only when synack_addr_is_v4()). */
static inline uint32_t synack_addr_get_v4(const struct synack_addr *a)
{
	return (uint32_t)a->b[12] << 24 | (uint32_t)a->b[13] << 16 | (uint32_t)a->b[14] << 8 |
	       a->b[15];
}

static inline bool synack_addr_eq(const struct synack_addr *x, const struct synack_addr *y)
{
	return memcmp(x->b, y->b, 16) == 0;
}

/* The unspecified address of either family (:: or ::ffff:0.0.0.0). */
static inline bool synack_addr_is_any(const struct synack_addr *a)
{
	static const uint8_t zero[16];
	return memcmp(a->b, zero, 16) == 0 || (synack_addr_is_v4(a) && synack_addr_get_v4(a) == 0);
}

/* The unspecified address of a family. */
static inline struct synack_addr synack_addr_any(int family)
{
	if (family == SYNACK_AF_INET)
		return synack_addr_v4(0);
	struct synack_addr a;
	memset(a.b, 0, 16);
	return a;
}

/* Formats a (dotted quad for IPv4, RFC 5952 canonical text for IPv6: lowercase, no leading
 * zeros, the longest run of two or more zero groups as "::", the first on a tie) into buf;
 * returns buf. SYNACK_ADDR_STRLEN bytes are always enough; a smaller cap truncates (still
 * NUL-terminated when cap > 0). Sans-IO: no libc formatting. */
#define SYNACK_ADDR_STRLEN 46
const char *synack_addr_str(const struct synack_addr *a, char *buf, size_t cap);
/* Parses a dotted quad (no leading zeros) or IPv6 text (RFC 4291 §2.2: hex groups, one "::",
 * an optional dotted quad as the last 32 bits; no zone, no brackets). Text of the IPv4-mapped
 * form gives the IPv4 address. Returns 0, or -EINVAL (malformed, or a NULL argument) leaving
 * *out untouched. */
int synack_addr_parse(const char *text, struct synack_addr *out);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
