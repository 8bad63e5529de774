/* synack — TCP options in tcpdump's notation, for every picture that draws a segment.
 *
 *   full     <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>   every option in wire order,
 *            nop and eol included, as `tcpdump -v` prints them (RFC 9293 §3.2 MSS, RFC 7323
 *            window scale and timestamps, RFC 2018 SACK);
 *   compact  <mss 1460,sackOK,TS,wscale 7>                   no padding, timestamps without
 *            their values: what fits beside an arrow on a terminal.
 *
 * SACK blocks are printed relative to a base (the receiver's ISN, as tcpdump prints them
 * without -S) unless the caller passes none.
 */
#ifndef SYNACK_RENDER_TCPOPTS_H
#define SYNACK_RENDER_TCPOPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack/wire.h"

enum synack_opts_style { SYNACK_OPTS_FULL, SYNACK_OPTS_COMPACT };

/* The option bytes of opts in wire order into out (40 bytes): opts->raw when the parser kept
 * it, else what synack_tcp_opts_emit() would put on the wire for these options (a segment a
 * stack traced before emitting it). Returns the length (0: no options). */
size_t synack_tcp_opts_bytes(const struct synack_tcp_opts *opts, bool syn, uint8_t *out);
/* Writes "<...>" (or "" when there are no options) into buf and returns buf. sack_base: what
 * SACK edges are relative to (NULL: absolute). Malformed bytes end the list with "bad-opt". */
const char *synack_tcp_opts_str(const uint8_t *bytes, size_t len, enum synack_opts_style style,
				const uint32_t *sack_base, char *buf, size_t cap);
/* Lowercase hex of len bytes into buf (cap >= 2*len+1), and back: returns the byte count, or
 * -1 for an odd length, a non-hex digit or more than cap bytes. */
void synack_hex_str(const uint8_t *bytes, size_t len, char *buf, size_t cap);
int synack_hex_parse(const char *s, uint8_t *out, size_t cap);

#endif
