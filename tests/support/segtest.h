/* segtest: drive one stack segment by segment, as packetdrill does.
 *
 * A segtest owns a stack (address 10.0.0.2) whose output is captured into an array, a
 * counting allocator (with failure injection), and a record of trace events. The test plays
 * the peer (10.0.0.1): it crafts inbound segments with the codec and asserts every outbound
 * segment exactly. Time is explicit: st_at() moves the clock and fires timers. */
#ifndef SYNACK_TESTS_SEGTEST_H
#define SYNACK_TESTS_SEGTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack/synack.h"

#define ST_LOCAL 0x0A000002u /* 10.0.0.2: the stack under test */
#define ST_PEER 0x0A000001u  /* 10.0.0.1: the test */
/* A pointer to the IPv4 address x (host order) as a synack_addr, for the codec's arguments. */
#define ST_V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])
#define ST_MAX_FRAMES 4096
#define ST_FRAME_CAP 65536 /* a segmented (TSO) frame: up to 64 KB */
#define ST_MAX_EVENTS 4096

#define F_S SYNACK_TH_SYN
#define F_A SYNACK_TH_ACK
#define F_F SYNACK_TH_FIN
#define F_R SYNACK_TH_RST
#define F_P SYNACK_TH_PSH

struct st_frame {
	uint8_t b[ST_FRAME_CAP];
	size_t len;
	uint64_t t_us;
	struct synack_frame_meta meta; /* as the stack gave it (len, family checked) */
};

struct st_event {
	enum synack_trace_kind kind;
	uint64_t t_us;
	enum synack_tcp_state from, to;
	enum synack_drop_reason reason;
	enum synack_timer_kind timer;
	int err;
	bool retx;
	uint8_t flags;
	/* TX/RX: the congestion state the stack traced with it (trace.h) */
	bool has_cc;
	uint32_t cwnd, ssthresh, srtt_us, in_flight;
};

/* The IPv6 addresses of st_init6: fd00::2 (the stack, /64) and fd00::1 (the test). */
#define ST_V6_LOCAL ((const uint8_t[16]){0xfd, [15] = 2})
#define ST_V6_PEER ((const uint8_t[16]){0xfd, [15] = 1})

struct segtest {
	struct synack_stack *s;
	struct synack_config cfg;
	uint64_t now;
	/* the addresses segments travel between: 10.0.0.2 and 10.0.0.1, or (st_init6) the
	 * IPv6 ones */
	struct synack_addr local, peer;
	/* the peer's side of the connection under test */
	uint16_t lport, rport;
	/* captured output */
	struct st_frame *frames;
	size_t nframes, next;
	/* trace */
	struct st_event *ev;
	size_t nev;
	/* wake callback: last mask per fd (fds < 64) and number of calls */
	unsigned wake_mask[64];
	size_t wakes;
	/* called from the wake callback (may use the socket API) */
	void (*wake_hook)(struct segtest *t, int fd, unsigned events);
	/* counting allocator */
	size_t live_bytes, live_allocs, nallocs;
	size_t fail_at; /* 0: never; N: the Nth allocation (1-based) fails */
};

/* A decoded outbound segment. */
struct st_seg {
	struct synack_addr src, dst;
	uint32_t flow;      /* IPv6 flow label (0 for IPv4) */
	uint8_t hop_limit;  /* TTL or hop limit */
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t win;
	size_t len;
	struct synack_tcp_opts opts;
	uint8_t data[ST_FRAME_CAP];
	uint64_t t_us;
};

/* What the peer sends. win 0 means 65535; ST_ZERO_WIN sends a zero window. */
#define ST_ZERO_WIN 0x10000u
struct st_in {
	uint8_t flags;
	uint32_t seq, ack;
	uint32_t win;
	const void *data;
	size_t len;
	struct synack_tcp_opts opts;
	uint16_t sport, dport; /* 0: the segtest's rport/lport */
};

/* cfg may be NULL (defaults with addr 10.0.0.2). The callbacks and allocator are replaced. */
void st_init(struct segtest *t, const struct synack_config *cfg);
/* Like st_init with the fail_at-th allocation failing (0: none). Returns false (and checks
 * that nothing leaked) when the stack could not be created. */
bool st_try_init(struct segtest *t, const struct synack_config *cfg, size_t fail_at);
/* A dual-stack segtest: the stack has 10.0.0.2/24 and fd00::2/64, and the test plays the peer
 * from fd00::1, so every fixture and st_send/st_next speak IPv6. */
void st_init6(struct segtest *t);
/* Destroys the stack and asserts that every allocation was freed. */
void st_fini(struct segtest *t);
void st_config(struct synack_config *cfg); /* defaults for a segtest stack */

void st_send(struct segtest *t, const struct st_in *in);
#define ST_IN(t, ...) st_send((t), &(struct st_in){__VA_ARGS__})
/* Sends a raw frame. */
void st_send_raw(struct segtest *t, const uint8_t *frame, size_t len);
/* Moves the clock to t_us and fires due timers. */
void st_at(struct segtest *t, uint64_t t_us);

/* Pops the next outbound segment; false when there is none. */
bool st_next(struct segtest *t, struct st_seg *out);
/* Asserts the next outbound segment's flags, seq and ack (and that there is one). */
void st_expect(struct segtest *t, uint8_t flags, uint32_t seq, uint32_t ack, struct st_seg *out);
/* Asserts the next outbound segment's flags and ack, whatever its seq (a SYN-ACK's ISS). */
void st_expect_ack(struct segtest *t, uint8_t flags, uint32_t ack, struct st_seg *out);
/* Asserts flags, seq, ack and payload length. */
void st_expect_data(struct segtest *t, uint8_t flags, uint32_t seq, uint32_t ack, size_t len);
void st_expect_none(struct segtest *t);
size_t st_pending(const struct segtest *t);

uint64_t st_counter(const struct segtest *t, enum synack_counter c);
uint64_t st_drops(const struct segtest *t, enum synack_drop_reason r);
/* Number of trace events of kind (and for STATE, to == st when st >= 0). */
size_t st_count_events(const struct segtest *t, enum synack_trace_kind kind);
bool st_saw_state(const struct segtest *t, enum synack_tcp_state from, enum synack_tcp_state to);
enum synack_tcp_state st_state(const struct segtest *t, int fd);
/* Connections (descriptor or not) in state st, through synack_stack_foreach. */
size_t st_count_state(const struct segtest *t, enum synack_tcp_state st);
/* The time of the last STATE event into `to`, or UINT64_MAX. */
uint64_t st_state_time(const struct segtest *t, enum synack_tcp_state to);

/* Fixtures. The peer uses port 40000 (rport) and the stack's listener port 80 (lport). */
#define ST_PEER_PORT 40000
#define ST_SERVER_PORT 80
int st_listen(struct segtest *t, uint16_t port, int backlog);
/* Passive open with peer ISN peer_isn and MSS option 1460 only (no TS/WS/SACK). Returns the
 * accepted fd; *iss gets the stack's ISS. */
int st_passive_open(struct segtest *t, uint32_t peer_isn, uint32_t *iss);
/* Active open to 10.0.0.1:80 answered by a SYN-ACK with peer_isn (MSS 1460 only). Sets
 * lport/rport. Returns the fd; *iss gets the stack's ISS. */
/* Starts an active open to ST_PEER:ST_SERVER_PORT (connect returns -EINPROGRESS), points the
 * segment builder at that connection and reads the SYN into *syn. Returns the descriptor. */
int st_start_connect(struct segtest *t, struct st_seg *syn);
int st_active_open(struct segtest *t, uint32_t peer_isn, uint32_t *iss);

#endif
