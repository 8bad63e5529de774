/* SYN cookies (RFC 4987 §3.6), after Linux's net/ipv4/syncookies.c.
 *
 * RFC 4987 §3.6 (in substance): the listener encodes what it must remember of a SYN into the
 * initial sequence number of its SYN-ACK and keeps no state at all; the returning ACK carries
 * the number back (ack - 1), and only then is a connection created.
 *
 * The cookie (our ISN) is Linux's two-hash construction:
 *
 *     ISN = H(k, 0, tuple) + peer ISN + (count << 24) + ((H(k, count, tuple) + mssind) mod 2^24)
 *
 * where count is a coarse clock (now_us / 64 s) and mssind indexes a table of four MSS values.
 * The returning ACK has ack = ISN + 1 and seq = peer ISN + 1, so the listener strips the first
 * hash and the peer's ISN, reads count's low 8 bits from the top byte, accepts it only if it is
 * less than SYNACK_COOKIE_MAX_AGE periods old, strips the second hash and is left with mssind:
 * anything other than 0..3 means a forged or corrupted cookie. A blind forger must hit a
 * 2-in-256 counter window and a 4-in-2^24 residue: about one chance in 2^29 per ACK.
 *
 * What a cookie cannot hold travels, when the SYN carried timestamps (RFC 7323), in the low 6
 * bits of our TSval, which the peer echoes in TSecr: the peer's window scale (4 bits, 15 = none),
 * SACK-permitted (1 bit) and ECN (1 bit) — Linux's cookie_init_timestamp and
 * cookie_timestamp_decode. Without timestamps a cookie connection gets none of those: its
 * SYN-ACK must not offer window scaling or SACK (Linux clears the options), and its MSS is the
 * table value at or below the peer's.
 *
 * Pure functions: no state, no clock (now_us is an argument), no allocation. */
#ifndef SYNACK_CORE_COOKIE_H
#define SYNACK_CORE_COOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/conntab.h"

/* The counter ticks every 64 s; a cookie is accepted while its counter is at most one period
 * behind (Linux: MAX_SYNCOOKIE_AGE 2, "diff >= MAX_SYNCOOKIE_AGE" is rejected), so it lives
 * between 64 and 128 s. */
#define SYNACK_COOKIE_PERIOD_US (64ull * 1000000ull)
#define SYNACK_COOKIE_MAX_AGE 2u
#define SYNACK_COOKIE_BITS 24
#define SYNACK_COOKIE_MSS_COUNT 4
/* Low bits of TSval that carry options (Linux's TSBITS). */
#define SYNACK_COOKIE_TS_BITS 6
#define SYNACK_COOKIE_TS_WSCALE_NONE 0xfu

/* Linux's msstab: 536 (the RFC 9293 default), 1300, 1440 (PPPoE and tunnels), 1460 (Ethernet).
 * Returns entry i, or 0 when i >= SYNACK_COOKIE_MSS_COUNT. */
uint16_t synack_cookie_msstab(unsigned i);

/* The coarse counter at now_us. */
uint32_t synack_cookie_counter(uint64_t now_us);

/* The largest table entry not above peer_mss (index 0, 536, when peer_mss is smaller). */
unsigned synack_cookie_mss_index(uint16_t peer_mss);

/* The cookie ISN for a SYN whose sequence number is peer_isn, arriving on tuple t (local = the
 * listener, remote = the SYN's source), announcing peer_mss. *mss_out (optional) receives the
 * table MSS the cookie encodes: the connection will send segments no larger than that. */
uint32_t synack_cookie_make(const uint8_t secret[16], const struct synack_tuple *t,
			    uint32_t peer_isn, uint16_t peer_mss, uint64_t now_us,
			    uint16_t *mss_out);

/* The same with an explicit counter and MSS index (tests and forgers use this). */
uint32_t synack_cookie_make_raw(const uint8_t secret[16], const struct synack_tuple *t,
				uint32_t peer_isn, uint32_t count, uint32_t mssind);

/* Validates the ACK (seg_seq, seg_ack) completing a cookie handshake at now_us: seg_ack - 1
 * must be a cookie made for this tuple and peer ISN seg_seq - 1 within the last
 * SYNACK_COOKIE_MAX_AGE periods. Returns the encoded MSS, or 0 when the cookie is not valid. */
uint16_t synack_cookie_check(const uint8_t secret[16], const struct synack_tuple *t,
			     uint32_t seg_seq, uint32_t seg_ack, uint64_t now_us);

/* The offset added to our millisecond clock to form TSvals on a cookie connection: a keyed
 * hash of the tuple, so that the connection created from the ACK continues the clock the
 * stateless SYN-ACK used (Linux: secure_tcp_ts_off), while different peers cannot compare
 * our clocks (RFC 7323 §7.1). */
uint32_t synack_cookie_ts_offset(const uint8_t secret[16], const struct synack_tuple *t);

/* What the timestamp carries for a cookie connection. */
struct synack_cookie_opts {
	bool wscale_ok;	    /* the SYN carried window scale (and we do window scaling) */
	uint8_t snd_wscale; /* the peer's shift count, 0..14 */
	bool sack_ok;	    /* the SYN carried SACK-permitted (and we do SACK) */
	bool ecn_ok;	    /* the SYN asked for ECN (ECE+CWR) */
};

/* Our TSval for the SYN-ACK: ts_now with its low 6 bits replaced by the options, moved back
 * one 64-tick step if that would put it in the future (Linux's cookie_init_timestamp). */
uint32_t synack_cookie_ts_encode(uint32_t ts_now, const struct synack_cookie_opts *o);

/* Reads the options back from the TSecr of the returning ACK. Returns false when they claim
 * something this stack has switched off (SACK or window scaling): Linux rejects such a cookie
 * (cookie_timestamp_decode), since the SYN-ACK could not have offered it. */
bool synack_cookie_ts_decode(uint32_t ts_ecr, bool sack_enabled, bool wscale_enabled,
			     struct synack_cookie_opts *out);

#endif
