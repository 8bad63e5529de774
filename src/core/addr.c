/* Addresses as text, by hand (the core calls no snprintf/inet_pton: sans-IO, no libc).
 *
 * Output: an IPv4(-mapped) address as a dotted quad; any other as RFC 5952 §4 canonical text:
 * "Leading zeros MUST be suppressed" (§4.1), "The use of the symbol '::' MUST be used to its
 * maximum capability" and "MUST NOT be used to shorten just one 16-bit 0 field" (§4.2.1-2),
 * "When there is an alternative choice in the placement of a '::', the longest run of
 * consecutive 16-bit 0 fields MUST be shortened", the first on a tie (§4.2.3), and "The
 * characters 'a', 'b', 'c', 'd', 'e', and 'f' in an IPv6 address MUST be represented in
 * lowercase" (§4.3).
 *
 * Input: a dotted quad (four decimal numbers 0..255, no leading zeros: "010" is octal to some
 * parsers, so it is refused rather than guessed), or IPv6 text as RFC 4291 §2.2 writes it:
 * eight groups of one to four hex digits (either case), at most one "::" standing for one or
 * more zero groups, and optionally a dotted quad in place of the last two groups. */
#include <errno.h>

#include "synack/addr.h"

/* ---- output -------------------------------------------------------------------------------- */

static char *put_dec(char *p, unsigned v)
{
	if (v >= 100)
		*p++ = (char)('0' + v / 100);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

static char *put_hex(char *p, unsigned v)
{
	static const char digits[] = "0123456789abcdef";
	bool started = false;
	for (int shift = 12; shift >= 0; shift -= 4) {
		unsigned d = v >> shift & 0xf;
		if (d || started || shift == 0) {
			*p++ = digits[d];
			started = true;
		}
	}
	return p;
}

static char *put_quad(char *p, const uint8_t *b)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			*p++ = '.';
		p = put_dec(p, b[i]);
	}
	return p;
}

/* The longest run (>= 2) of zero groups, the first on a tie; *len 0 when there is none. */
static void zero_run(const uint16_t g[8], int *start, int *len)
{
	*start = -1;
	*len = 0;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > *len && j - i >= 2) {
			*start = i;
			*len = j - i;
		}
		i = j > i ? j : i + 1;
	}
}

static char *put_v6(char *p, const uint8_t *b)
{
	uint16_t g[8];
	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);
	int zs, zl;
	zero_run(g, &zs, &zl);
	for (int i = 0; i < 8; i++) {
		if (i == zs) {
			*p++ = ':';
			*p++ = ':';
			i += zl - 1;
			continue;
		}
		if (i > 0 && i != zs + zl)
			*p++ = ':';
		p = put_hex(p, g[i]);
	}
	return p;
}

const char *synack_addr_str(const struct synack_addr *a, char *buf, size_t cap)
{
	char tmp[SYNACK_ADDR_STRLEN];
	char *end = synack_addr_is_v4(a) ? put_quad(tmp, a->b + 12) : put_v6(tmp, a->b);
	size_t n = (size_t)(end - tmp);
	if (cap == 0)
		return buf;
	if (n > cap - 1)
		n = cap - 1; /* truncated, still terminated */
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return buf;
}

/* ---- input --------------------------------------------------------------------------------- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A dotted quad that ends the string: four bytes, network order. */
static int parse_quad(const char *p, uint8_t out[4])
{
	for (int i = 0; i < 4; i++) {
		if (i > 0 && *p++ != '.')
			return -EINVAL;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		unsigned v = 0;
		int digits = 0;
		for (; *p >= '0' && *p <= '9'; p++, digits++) {
			if (digits == 3 || (digits == 1 && v == 0))
				return -EINVAL; /* too long, or a leading zero */
			v = v * 10 + (unsigned)(*p - '0');
		}
		if (v > 255)
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	return *p == '\0' ? 0 : -EINVAL;
}

/* One to four hex digits at *pp; the value, or -EINVAL. *pp moves past them. */
static long parse_group(const char **pp)
{
	const char *p = *pp;
	long v = 0;
	int digits = 0;
	for (int d; (d = hex_digit(*p)) >= 0; p++) {
		if (++digits > 4)
			return -EINVAL;
		v = v * 16 + d;
	}
	if (digits == 0)
		return -EINVAL;
	*pp = p;
	return v;
}

/* Fills out from the bytes before the "::" (b[0..gap)) and after it (b[gap..n)). */
static int v6_assemble(const uint8_t *b, int n, int gap, struct synack_addr *out)
{
	if (gap < 0 ? n != 16 : n > 14)
		return -EINVAL; /* eight groups without "::"; "::" stands for at least one */
	memset(out->b, 0, 16);
	if (gap < 0)
		gap = n;
	memcpy(out->b, b, (size_t)gap);
	memcpy(out->b + 16 - (n - gap), b + gap, (size_t)(n - gap));
	return 0;
}

static int parse_v6(const char *p, struct synack_addr *out)
{
	uint8_t b[16] = {0};
	int n = 0, gap = -1;
	if (p[0] == ':') {
		if (p[1] != ':')
			return -EINVAL; /* a lone leading colon */
		gap = 0;
		p += 2;
		if (*p == '\0')
			return v6_assemble(b, n, gap, out);
	}
	for (;;) {
		const char *start = p;
		long v = parse_group(&p);
		if (*p == '.') {
			/* RFC 4291 §2.2 (3): the low-order 32 bits as a dotted quad, at the end. */
			if (n > 12 || parse_quad(start, b + n) < 0)
				return -EINVAL;
			return v6_assemble(b, n + 4, gap, out);
		}
		if (v < 0 || n > 14)
			return -EINVAL;
		b[n++] = (uint8_t)(v >> 8);
		b[n++] = (uint8_t)v;
		if (*p == '\0')
			return v6_assemble(b, n, gap, out);
		if (*p++ != ':')
			return -EINVAL;
		if (*p == ':') {
			if (gap >= 0)
				return -EINVAL; /* a second "::" */
			gap = n;
			if (*++p == '\0')
				return v6_assemble(b, n, gap, out);
		}
	}
}

static bool has_colon(const char *p)
{
	for (; *p; p++)
		if (*p == ':')
			return true;
	return false;
}

int synack_addr_parse(const char *text, struct synack_addr *out)
{
	if (!text || !out)
		return -EINVAL;
	struct synack_addr a;
	if (has_colon(text)) {
		if (parse_v6(text, &a) < 0)
			return -EINVAL;
	} else {
		uint8_t q[4];
		if (parse_quad(text, q) < 0)
			return -EINVAL;
		a = synack_addr_v4((uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
				   (uint32_t)q[2] << 8 | q[3]);
	}
	*out = a; /* untouched on error */
	return 0;
}
