/* TCP options in tcpdump's notation: see tcpopts.h. */
#include "render/tcpopts.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

size_t synack_tcp_opts_bytes(const struct synack_tcp_opts *opts, bool syn, uint8_t *out)
{
	if (opts->raw_len) {
		memcpy(out, opts->raw, opts->raw_len);
		return opts->raw_len;
	}
	if (!opts->has_mss && !opts->has_wscale && !opts->sack_ok && !opts->has_ts &&
	    !opts->sack_count)
		return 0;
	int n = synack_tcp_opts_emit(opts, syn, out);
	return n > 0 ? (size_t)n : 0;
}

struct sbuf {
	char *p;
	size_t cap, n;
};

static void put(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(b->p + b->n, b->cap > b->n ? b->cap - b->n : 0, fmt, ap);
	va_end(ap);
	if (k > 0)
		b->n = b->n + (size_t)k < b->cap ? b->n + (size_t)k : b->cap - 1;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One option with a length octet; returns false when its length is wrong for its kind. */
static bool one_option(struct sbuf *b, const uint8_t *o, size_t olen,
		       enum synack_opts_style style, const uint32_t *base)
{
	switch (o[0]) {
	case SYNACK_TCPOPT_MSS:
		if (olen != 4)
			return false;
		put(b, "mss %u", (unsigned)(o[2] << 8 | o[3]));
		return true;
	case SYNACK_TCPOPT_WSCALE:
		if (olen != 3)
			return false;
		put(b, "wscale %u", o[2]);
		return true;
	case SYNACK_TCPOPT_SACK_PERM:
		if (olen != 2)
			return false;
		put(b, "sackOK");
		return true;
	case SYNACK_TCPOPT_TS:
		if (olen != 10)
			return false;
		if (style == SYNACK_OPTS_COMPACT)
			put(b, "TS");
		else
			put(b, "TS val %u ecr %u", get32(o + 2), get32(o + 6));
		return true;
	case SYNACK_TCPOPT_SACK:
		if ((olen - 2) % 8)
			return false;
		if (style == SYNACK_OPTS_FULL)
			put(b, "sack %zu ", (olen - 2) / 8);
		else
			put(b, "sack ");
		for (size_t i = 2; i + 8 <= olen; i += 8) {
			uint32_t l = get32(o + i), r = get32(o + i + 4);
			if (base)
				l -= *base, r -= *base;
			put(b, "{%u:%u}", l, r);
		}
		return true;
	default:
		put(b, "opt-%u", o[0]);
		if (style == SYNACK_OPTS_FULL && olen > 2) {
			put(b, " 0x");
			for (size_t i = 2; i < olen; i++)
				put(b, "%02x", o[i]);
		}
		return true;
	}
}

const char *synack_tcp_opts_str(const uint8_t *p, size_t len, enum synack_opts_style style,
				const uint32_t *sack_base, char *buf, size_t cap)
{
	struct sbuf b = {buf, cap, 0};
	if (!cap)
		return buf;
	buf[0] = '\0';
	if (!len)
		return buf;
	bool first = true;
	put(&b, "<");
	for (size_t i = 0; i < len;) {
		uint8_t kind = p[i];
		bool pad = kind == SYNACK_TCPOPT_NOP || kind == SYNACK_TCPOPT_EOL;
		if (pad && style == SYNACK_OPTS_COMPACT) {
			if (kind == SYNACK_TCPOPT_EOL)
				break;
			i++;
			continue;
		}
		if (!first)
			put(&b, ",");
		first = false;
		if (kind == SYNACK_TCPOPT_EOL) {
			put(&b, "eol");
			break;
		}
		if (kind == SYNACK_TCPOPT_NOP) {
			put(&b, "nop");
			i++;
			continue;
		}
		size_t olen = i + 1 < len ? p[i + 1] : 0;
		if (olen < 2 || olen > len - i || !one_option(&b, p + i, olen, style, sack_base)) {
			put(&b, "bad-opt");
			break;
		}
		i += olen;
	}
	if (first) { /* only padding, compact */
		buf[0] = '\0';
		return buf;
	}
	put(&b, ">");
	return buf;
}

void synack_hex_str(const uint8_t *bytes, size_t len, char *buf, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 3 <= cap; i++, n += 2)
		snprintf(buf + n, 3, "%02x", bytes[i]);
	if (cap)
		buf[n < cap ? n : cap - 1] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int synack_hex_parse(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s);
	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(n / 2);
}
