/* SYN cookies (RFC 4987 §3.6), Linux's construction: see cookie.h for the layout.
 *
 * The two hashes are SipHash-2-4 keyed with the stack's secret, over the 4-tuple, the counter
 * and a tag that keeps them apart from each other and from the RFC 6528 ISN hash (which hashes
 * the bare 12-byte tuple under the same key). */
#include "core/cookie.h"

#include "core/siphash.h"

#define COOKIE_MASK ((1u << SYNACK_COOKIE_BITS) - 1u)
#define TS_OPT_WSCALE_MASK 0xfu
#define TS_OPT_SACK (1u << 4)
#define TS_OPT_ECN (1u << 5)
#define TS_OPT_MASK ((1u << SYNACK_COOKIE_TS_BITS) - 1u)

static const uint16_t msstab[SYNACK_COOKIE_MSS_COUNT] = {536, 1300, 1440, 1460};

uint16_t synack_cookie_msstab(unsigned i)
{
	return i < SYNACK_COOKIE_MSS_COUNT ? msstab[i] : 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Linux's cookie_hash(saddr, daddr, sport, dport, count, c): c picks one of two hashes (and
 * 't' the timestamp offset). */
static uint32_t cookie_hash(const uint8_t secret[16], const struct synack_tuple *t, uint32_t count,
			    unsigned c)
{
	/* 20 bytes for IPv4 (as before IPv6 existed), 44 for IPv6. */
	uint8_t m[44];
	m[0] = 's';
	m[1] = 'y';
	m[2] = 'n';
	m[3] = (uint8_t)c;
	size_t n = 4 + synack_tuple_addr_bytes(&t->raddr, m + 4);
	n += synack_tuple_addr_bytes(&t->laddr, m + n);
	put32(m + n, (uint32_t)t->rport << 16 | t->lport);
	put32(m + n + 4, count);
	return (uint32_t)synack_siphash24(secret, m, n + 8);
}

uint32_t synack_cookie_ts_offset(const uint8_t secret[16], const struct synack_tuple *t)
{
	return cookie_hash(secret, t, 0, 't');
}

uint32_t synack_cookie_counter(uint64_t now_us)
{
	return (uint32_t)(now_us / SYNACK_COOKIE_PERIOD_US);
}

unsigned synack_cookie_mss_index(uint16_t peer_mss)
{
	unsigned i = SYNACK_COOKIE_MSS_COUNT - 1;
	while (i > 0 && peer_mss < msstab[i])
		i--;
	return i;
}

uint32_t synack_cookie_make_raw(const uint8_t secret[16], const struct synack_tuple *t,
				uint32_t peer_isn, uint32_t count, uint32_t mssind)
{
	return cookie_hash(secret, t, 0, 0) + peer_isn + (count << SYNACK_COOKIE_BITS) +
	       ((cookie_hash(secret, t, count, 1) + mssind) & COOKIE_MASK);
}

uint32_t synack_cookie_make(const uint8_t secret[16], const struct synack_tuple *t,
			    uint32_t peer_isn, uint16_t peer_mss, uint64_t now_us,
			    uint16_t *mss_out)
{
	unsigned i = synack_cookie_mss_index(peer_mss);
	if (mss_out)
		*mss_out = msstab[i];
	return synack_cookie_make_raw(secret, t, peer_isn, synack_cookie_counter(now_us), i);
}

/* Linux's check_tcp_syn_cookie followed by the msstab lookup of __cookie_v4_check. */
uint16_t synack_cookie_check(const uint8_t secret[16], const struct synack_tuple *t,
			     uint32_t seg_seq, uint32_t seg_ack, uint64_t now_us)
{
	uint32_t cookie = seg_ack - 1u;
	uint32_t peer_isn = seg_seq - 1u;
	uint32_t count = synack_cookie_counter(now_us);

	/* Strip the first hash and the peer's ISN: (count << 24) + (hash2 + mssind) mod 2^24. */
	cookie -= cookie_hash(secret, t, 0, 0) + peer_isn;
	/* Only count's low 8 bits travel; the age is their difference modulo 2^8. */
	uint32_t age =
		(count - (cookie >> SYNACK_COOKIE_BITS)) & (0xffffffffu >> SYNACK_COOKIE_BITS);
	if (age >= SYNACK_COOKIE_MAX_AGE)
		return 0;
	uint32_t mssind = (cookie - cookie_hash(secret, t, count - age, 1)) & COOKIE_MASK;
	if (mssind >= SYNACK_COOKIE_MSS_COUNT)
		return 0;
	return msstab[mssind];
}

uint32_t synack_cookie_ts_encode(uint32_t ts_now, const struct synack_cookie_opts *o)
{
	uint32_t opts =
		o->wscale_ok ? (o->snd_wscale & TS_OPT_WSCALE_MASK) : SYNACK_COOKIE_TS_WSCALE_NONE;
	if (o->sack_ok)
		opts |= TS_OPT_SACK;
	if (o->ecn_ok)
		opts |= TS_OPT_ECN;
	uint32_t ts = (ts_now & ~TS_OPT_MASK) | opts;
	/* Never a TSval ahead of our clock: the peer would see time run backwards later. The
	 * step back wraps modulo 2^32 like every timestamp (RFC 7323 §5.2). */
	if (ts > ts_now)
		ts -= 1u << SYNACK_COOKIE_TS_BITS;
	return ts;
}

bool synack_cookie_ts_decode(uint32_t ts_ecr, bool sack_enabled, bool wscale_enabled,
			     struct synack_cookie_opts *out)
{
	out->sack_ok = (ts_ecr & TS_OPT_SACK) != 0;
	out->ecn_ok = (ts_ecr & TS_OPT_ECN) != 0;
	uint32_t ws = ts_ecr & TS_OPT_WSCALE_MASK;
	out->wscale_ok = ws != SYNACK_COOKIE_TS_WSCALE_NONE;
	out->snd_wscale = out->wscale_ok ? (uint8_t)ws : 0;
	if (out->sack_ok && !sack_enabled)
		return false;
	if (out->wscale_ok && !wscale_enabled)
		return false;
	/* RFC 7323 §2.3: a shift count above 14 is used as 14 (15 means "none" here). */
	if (out->snd_wscale > 14)
		out->snd_wscale = 14;
	return true;
}
