/* Fuzz target: the whole stack, driven through its public sans-IO entry points.
 *
 * The input is a program: a fuzzer-chosen sequence of inbound segments (built around the
 * numbers the stack last sent, so that many land in the window), ACKs whose SACK blocks are
 * placed relative to a connection's SND.UNA in units of its MSS (so that SACK loss recovery
 * is reachable), ICMP messages (errors quoting the last segment the stack sent, with the
 * fuzzer's type, code and next-hop MTU, and echo requests), raw frames, socket calls
 * (socket, bind, listen, accept, connect, send, recv, shutdown, close, setsockopt,
 * getsockopt), clock jumps, tunable changes (SYN cookies 0/1/2, options on/off) and injected
 * allocation failures, all against one stack on a virtual clock.
 *
 * After every step it checks what the public API lets it see:
 *  - every frame the stack sent is a valid IPv4/TCP packet from the stack's address with a
 *    correct checksum, never SYN+RST together, never a RST answering a RST;
 *  - for every socket and every connection (synack_stack_foreach): a known state;
 *    SND.UNA <= SND.NXT and bytes_in_flight == SND.NXT - SND.UNA (mod 2^32); queues within
 *    their buffers; a sane MSS once synchronized; readiness bits within the mask;
 *  - after a poll, the next deadline is not in the past;
 * and at the end, after destroy, that every byte the stack allocated was given back. */
#include <errno.h>

#include "fuzz.h"

#include "synack/synack.h"

/* A pointer to the IPv4 address x (host order) as a synack_addr, for the codec. */
#define ST_V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])

#define LOCAL 0x0a000002u
#define PEER 0x0a000001u
#define MAX_FD 12
#define MAX_STEPS 400

struct world {
	struct synack_stack *s;
	uint64_t now;
	/* counting allocator, with failure injection */
	size_t live_bytes, live_allocs, fail_after; /* fail_after: 0 = never */
	/* what the stack sent during the current step */
	unsigned frames, rsts;
	bool in_rst; /* the step is delivering a RST */
	/* the last segment the stack sent: inbound segments are built around it */
	uint16_t last_sport, last_dport;
	uint32_t last_seq, last_ack;
	bool last_has_ts;
	uint32_t last_tsval, peer_tsval;
	uint8_t buf[65536];
};

static void *w_alloc(void *ctx, size_t size)
{
	struct world *w = ctx;
	if (w->fail_after > 0 && --w->fail_after == 0)
		return NULL; /* this one fails; the next ones succeed again */
	void *p = malloc(size);
	if (p) {
		w->live_bytes += size;
		w->live_allocs++;
	}
	return p;
}

static void w_free(void *ctx, void *p, size_t size)
{
	struct world *w = ctx;
	if (!p)
		return;
	FUZZ_ASSERT(w->live_allocs > 0 && w->live_bytes >= size, "free of %zu bytes not allocated",
		    size);
	w->live_bytes -= size;
	w->live_allocs--;
	free(p);
}

/* Everything the stack sends must be a packet a peer could parse. */
static void w_output(void *ctx, const uint8_t *frame, const struct synack_frame_meta *meta)
{
	size_t len = meta->len;
	struct world *w = ctx;
	struct synack_ipv4 ip;
	const uint8_t *tcp;
	size_t tlen;
	int rc = synack_ipv4_parse(frame, len, &ip, &tcp, &tlen);
	FUZZ_ASSERT(rc == 0, "stack sent a bad IPv4 packet (%d)", rc);
	FUZZ_ASSERT(ip.src == LOCAL, "source %#x is not the stack's", ip.src);
	w->frames++;
	if (ip.proto != SYNACK_PROTO_TCP)
		return;
	struct synack_tcp_seg seg;
	rc = synack_tcp_parse(tcp, tlen, ST_V4(ip.src), ST_V4(ip.dst), true, &seg);
	FUZZ_ASSERT(rc == 0, "stack sent a bad TCP segment (%d)", rc);
	FUZZ_ASSERT(!((seg.flags & SYNACK_TH_SYN) && (seg.flags & SYNACK_TH_RST)), "SYN+RST sent");
	if (seg.flags & SYNACK_TH_RST) {
		w->rsts++;
		/* RFC 9293 §3.10.7.1: "An incoming segment containing a RST is discarded." */
		FUZZ_ASSERT(!w->in_rst, "a RST was answered with a RST");
	}
	w->last_sport = seg.sport;
	w->last_dport = seg.dport;
	w->last_seq = seg.seq;
	w->last_ack = seg.ack;
	w->last_has_ts = seg.opts.has_ts;
	w->last_tsval = seg.opts.ts_val;
}

static void check_info(const struct synack_tcp_info *i)
{
	FUZZ_ASSERT(i->state < SYNACK_STATE_COUNT, "state %d", (int)i->state);
	if (i->state == SYNACK_CLOSED || i->state == SYNACK_LISTEN)
		return;
	FUZZ_ASSERT((int32_t)(i->snd_nxt - i->snd_una) >= 0, "snd_una %u > snd_nxt %u", i->snd_una,
		    i->snd_nxt);
	FUZZ_ASSERT(i->bytes_in_flight == i->snd_nxt - i->snd_una,
		    "bytes_in_flight %u != snd_nxt - snd_una = %u", i->bytes_in_flight,
		    i->snd_nxt - i->snd_una);
	FUZZ_ASSERT(i->snd_wscale <= 14 && i->rcv_wscale <= 14, "wscale %u/%u", i->snd_wscale,
		    i->rcv_wscale);
	if (i->state == SYNACK_SYN_SENT)
		return;
	/* Linux's TCP_MIN_SND_MSS (48) less a timestamp option (12) is the floor. */
	FUZZ_ASSERT(i->snd_mss >= 36 && i->snd_mss <= 65535 - 40, "snd_mss %u", i->snd_mss);
	/* The receive queue holds at most a buffer (16 MiB is far above any configured one). */
	FUZZ_ASSERT(i->recv_q <= (16u << 20) && i->send_q <= (16u << 20), "queues %u/%u", i->recv_q,
		    i->send_q);
}

static void visit(void *ctx, int fd, const struct synack_tcp_info *info)
{
	unsigned *n = ctx;
	(*n)++;
	FUZZ_ASSERT(fd >= -1, "fd %d", fd);
	check_info(info);
}

static void check_world(struct world *w)
{
	for (int fd = 0; fd < MAX_FD; fd++) {
		struct synack_tcp_info info;
		int rc = synack_tcp_info(w->s, fd, &info);
		int ev = synack_events(w->s, fd);
		FUZZ_ASSERT((rc == -EBADF) == (ev == -EBADF), "fd %d: tcp_info %d, events %d", fd,
			    rc, ev);
		if (rc == -EBADF)
			continue;
		FUZZ_ASSERT(rc == 0, "tcp_info(%d) = %d", fd, rc);
		FUZZ_ASSERT((ev & ~0x1f) == 0, "events %#x", ev); /* READABLE..HUP, PRI */
		check_info(&info);
	}
	unsigned n = 0;
	synack_stack_foreach(w->s, visit, &n);
	FUZZ_ASSERT(w->live_allocs > 0 && synack_stack_live_allocs(w->s) <= w->live_allocs,
		    "stack reports %zu live blocks, allocator %zu", synack_stack_live_allocs(w->s),
		    w->live_allocs);
}

/* ---- steps ---------------------------------------------------------------------------------- */

static const uint16_t ports[] = {80, 81, 40000, 40001};

static uint16_t pick_port(struct world *w, uint8_t sel)
{
	switch (sel % 6) {
	case 4:
		return w->last_sport; /* the port the stack last sent from */
	case 5:
		return (uint16_t)(sel * 257);
	default:
		return ports[sel % 4];
	}
}

/* A segment built around the last one the stack sent, so it has a fair chance to be in
 * the window; the fuzzer picks flags, offsets, window, options and payload. */
static void step_segment(struct world *w, struct fuzz_input *in)
{
	uint8_t sel = fuzz_u8(in);
	struct synack_tcp_seg seg;
	memset(&seg, 0, sizeof(seg));
	bool reply = sel & 1;
	seg.sport = reply ? w->last_dport : pick_port(w, fuzz_u8(in));
	seg.dport = reply ? w->last_sport : pick_port(w, fuzz_u8(in));
	int32_t dseq = (int8_t)fuzz_u8(in), dack = (int8_t)fuzz_u8(in);
	if (sel & 2) { /* far away in the sequence space */
		dseq *= 65536;
		dack *= 65536;
	}
	seg.seq = w->last_ack + (uint32_t)dseq;
	seg.ack = w->last_seq + (uint32_t)dack;
	seg.flags = fuzz_u8(in);
	seg.win = fuzz_u16(in);
	const uint8_t *p;
	size_t n = fuzz_bytes(in, SYNACK_TCP_OPT_MAX, &p);
	n &= ~(size_t)3;
	memcpy(seg.opts.raw, p, n);
	seg.opts.raw_len = (uint8_t)n;
	seg.len = fuzz_bytes(in, 3000, &seg.payload);
	uint32_t src = (sel & 4) ? PEER + (sel >> 3) : PEER;
	int len = synack_tcp_emit(w->buf, sizeof(w->buf), ST_V4(src), ST_V4(LOCAL), 1, &seg);
	if (len < 0)
		return;
	if (sel & 0x80) /* a flipped bit: the checksum must catch it */
		w->buf[20 + fuzz_u8(in) % (len - 20)] ^= (uint8_t)(1u << (sel & 7));
	w->in_rst = seg.flags & SYNACK_TH_RST;
	synack_stack_input(w->s, w->buf, (size_t)len, w->now);
	w->in_rst = false;
}

/* The connection the last segment the stack sent belongs to, as TCP_INFO shows it. */
struct last_conn {
	uint16_t sport, dport;
	bool found;
	struct synack_tcp_info info;
};

static void find_last(void *ctx, int fd, const struct synack_tcp_info *info)
{
	struct last_conn *l = ctx;
	(void)fd;
	if (info->local.port == l->sport && info->remote.port == l->dport &&
	    info->state != SYNACK_LISTEN) {
		l->found = true;
		l->info = *info;
	}
}

/* An ACK for the connection of the last segment sent, with SACK blocks at fuzzer-chosen
 * multiples of its MSS above SND.UNA (and a timestamp when the stack sends them): duplicate
 * ACKs that open RFC 6675 recovery, and partial ACKs that move it along. */
static void step_sack(struct world *w, struct fuzz_input *in)
{
	struct last_conn l = {.sport = w->last_sport, .dport = w->last_dport};
	synack_stack_foreach(w->s, find_last, &l);
	if (!l.found)
		return;
	uint32_t mss = l.info.snd_mss ? l.info.snd_mss : 536;
	uint8_t sel = fuzz_u8(in);
	struct synack_tcp_seg seg;
	memset(&seg, 0, sizeof(seg));
	seg.sport = w->last_dport;
	seg.dport = w->last_sport;
	seg.seq = l.info.rcv_nxt;
	seg.ack = l.info.snd_una + (sel & 3) * mss; /* 0: a duplicate ACK */
	seg.flags = SYNACK_TH_ACK;
	seg.win = fuzz_u16(in);
	uint8_t *o = seg.opts.raw;
	size_t n = 0;
	if (w->last_has_ts) {
		w->peer_tsval += 1 + fuzz_u8(in);
		o[n++] = 1, o[n++] = 1, o[n++] = 8, o[n++] = 10;
		uint32_t v[2] = {w->peer_tsval, w->last_tsval};
		for (int i = 0; i < 2; i++)
			for (int b = 3; b >= 0; b--)
				o[n++] = (uint8_t)(v[i] >> (8 * b));
	}
	unsigned blocks = 1 + (sel >> 2) % 3;
	if (w->last_has_ts && blocks > 3)
		blocks = 3;
	o[n++] = 1, o[n++] = 1, o[n++] = 5, o[n++] = (uint8_t)(2 + 8 * blocks);
	for (unsigned i = 0; i < blocks; i++) {
		uint8_t a = fuzz_u8(in), len = fuzz_u8(in);
		uint32_t edges[2] = {l.info.snd_una + (a % 64) * mss,
				     l.info.snd_una + (a % 64 + 1 + len % 8) * mss};
		for (int e = 0; e < 2; e++)
			for (int b = 3; b >= 0; b--)
				o[n++] = (uint8_t)(edges[e] >> (8 * b));
	}
	seg.opts.raw_len = (uint8_t)n;
	int len = synack_tcp_emit(w->buf, sizeof(w->buf), ST_V4(PEER), ST_V4(LOCAL), 1, &seg);
	if (len > 0)
		synack_stack_input(w->s, w->buf, (size_t)len, w->now);
}

static uint16_t fuzz_csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t put_ipv4(uint8_t *b, uint32_t src, uint32_t dst, uint8_t proto, size_t total)
{
	memset(b, 0, 20);
	b[0] = 0x45;
	b[2] = (uint8_t)(total >> 8), b[3] = (uint8_t)total;
	b[6] = 0x40; /* DF */
	b[8] = 64, b[9] = proto;
	for (int i = 0; i < 4; i++) {
		b[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		b[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	uint16_t c = fuzz_csum(b, 20);
	b[10] = (uint8_t)(c >> 8), b[11] = (uint8_t)c;
	return 20;
}

/* An ICMP message to the stack: an error (the fuzzer's type and code; "fragmentation needed"
 * with its next-hop MTU) quoting the IP header and the first 8 bytes of the TCP header of the
 * last segment the stack sent, its sequence number moved by the fuzzer; or an echo request. */
static void step_icmp(struct world *w, struct fuzz_input *in)
{
	uint8_t sel = fuzz_u8(in), type = fuzz_u8(in), code = fuzz_u8(in);
	uint16_t mtu = fuzz_u16(in);
	uint8_t *b = w->buf;
	size_t n = 20;
	uint8_t *icmp = b + n;
	memset(icmp, 0, 8);
	if (sel & 1) { /* echo request with a payload */
		icmp[0] = 8;
		const uint8_t *p;
		size_t plen = fuzz_bytes(in, 1400, &p);
		memcpy(icmp + 8, p, plen);
		n += 8 + plen;
	} else {
		static const uint8_t types[] = {3, 3, 3, 11, 12, 4, 5};
		icmp[0] = (sel & 2) ? type : types[(sel >> 2) % sizeof(types)];
		icmp[1] = (sel & 2) ? code : (icmp[0] == 3 ? code % 16 : code % 2);
		if (icmp[0] == 3 && (sel & 0x40))
			icmp[1] = 4; /* fragmentation needed */
		icmp[6] = (uint8_t)(mtu >> 8), icmp[7] = (uint8_t)mtu;
		uint8_t *q = icmp + 8; /* the quoted datagram */
		put_ipv4(q, LOCAL, PEER, SYNACK_PROTO_TCP, 40);
		uint32_t seq = w->last_seq + (uint32_t)(int32_t)(int8_t)fuzz_u8(in);
		q[20] = (uint8_t)(w->last_sport >> 8), q[21] = (uint8_t)w->last_sport;
		q[22] = (uint8_t)(w->last_dport >> 8), q[23] = (uint8_t)w->last_dport;
		for (int i = 0; i < 4; i++)
			q[24 + i] = (uint8_t)(seq >> (24 - 8 * i));
		n += 8 + 28;
	}
	uint16_t c = fuzz_csum(icmp, n - 20);
	icmp[2] = (uint8_t)(c >> 8), icmp[3] = (uint8_t)c;
	put_ipv4(b, (sel & 0x80) ? PEER + 1 : PEER, LOCAL, 1, n);
	synack_stack_input(w->s, b, n, w->now);
}

static void step_raw(struct world *w, struct fuzz_input *in)
{
	const uint8_t *p;
	size_t n = fuzz_bytes(in, 1600, &p);
	memcpy(w->buf, p, n);
	synack_stack_input(w->s, w->buf, n, w->now);
}

static void step_time(struct world *w, struct fuzz_input *in)
{
	uint8_t sel = fuzz_u8(in);
	uint64_t next = synack_stack_next_deadline(w->s);
	switch (sel % 4) {
	case 0:
		w->now += fuzz_u16(in); /* microseconds */
		break;
	case 1:
		w->now += (uint64_t)fuzz_u16(in) * 1000; /* up to a minute */
		break;
	case 2:
		if (next != SYNACK_TIME_NEVER && next > w->now)
			w->now = next;
		break;
	default:
		w->now += (uint64_t)fuzz_u8(in) * 60000000; /* hours */
		break;
	}
	uint64_t d = synack_stack_poll(w->s, w->now);
	FUZZ_ASSERT(d == SYNACK_TIME_NEVER || d > w->now, "deadline %llu not after now %llu",
		    (unsigned long long)d, (unsigned long long)w->now);
}

static void step_sockopt(struct world *w, struct fuzz_input *in, int fd)
{
	static const int opts[][2] = {
		{SYNACK_SOL_SOCKET, SYNACK_SO_REUSEADDR},
		{SYNACK_SOL_SOCKET, SYNACK_SO_SNDBUF},
		{SYNACK_SOL_SOCKET, SYNACK_SO_RCVBUF},
		{SYNACK_SOL_SOCKET, SYNACK_SO_KEEPALIVE},
		{SYNACK_SOL_SOCKET, SYNACK_SO_LINGER},
		{SYNACK_SOL_SOCKET, SYNACK_SO_ERROR},
		{SYNACK_IPPROTO_TCP, SYNACK_TCP_NODELAY},
		{SYNACK_IPPROTO_TCP, SYNACK_TCP_MAXSEG},
		{SYNACK_IPPROTO_TCP, SYNACK_TCP_KEEPIDLE},
		{SYNACK_IPPROTO_TCP, SYNACK_TCP_KEEPINTVL},
		{SYNACK_IPPROTO_TCP, SYNACK_TCP_KEEPCNT},
		{SYNACK_IPPROTO_TCP, SYNACK_TCP_INFO},
		{99, 1},
	};
	uint8_t sel = fuzz_u8(in);
	const int *o = opts[(sel >> 1) % (sizeof(opts) / sizeof(opts[0]))];
	union {
		int i;
		struct synack_linger l;
		struct synack_tcp_info info;
		uint8_t b[sizeof(struct synack_tcp_info)];
	} v;
	memset(&v, 0, sizeof(v));
	size_t len = (fuzz_u8(in) & 1) ? sizeof(int) : fuzz_u8(in) % sizeof(v);
	if (o[1] == SYNACK_SO_LINGER && o[0] == SYNACK_SOL_SOCKET && (sel & 0x80))
		len = sizeof(struct synack_linger);
	v.l.l_onoff = (int)fuzz_u32(in) % 3;
	v.l.l_linger = (int)(fuzz_u32(in) % 5);
	if (sel & 1) {
		int rc = synack_getsockopt(w->s, fd, o[0], o[1], &v, &len);
		FUZZ_ASSERT(rc <= 0 && len <= sizeof(v), "getsockopt %d len %zu", rc, len);
	} else {
		int rc = synack_setsockopt(w->s, fd, o[0], o[1], &v, len);
		FUZZ_ASSERT(rc <= 0, "setsockopt %d", rc);
	}
}

static void step_tunables(struct world *w, struct fuzz_input *in)
{
	struct synack_config c;
	synack_stack_get_config(w->s, &c);
	uint8_t sel = fuzz_u8(in);
	c.syncookies = (sel & 3) % 3;
	c.timestamps = sel & 4;
	c.sack = sel & 8;
	c.window_scaling = sel & 16;
	c.challenge_ack_limit = (sel & 32) ? 1 : 1000;
	synack_stack_set_tunables(w->s, &c);
}

static void step_api(struct world *w, struct fuzz_input *in, uint8_t op)
{
	int fd = (int)(fuzz_u8(in) % (MAX_FD + 1)) - 1;
	uint8_t arg = fuzz_u8(in);
	struct synack_endpoint ep = {.addr = synack_addr_v4((arg & 0x80) ? PEER : 0),
				     .port = pick_port(w, arg)};
	ssize_t rc = 0;
	switch (op) {
	case 0:
		rc = synack_socket(w->s);
		break;
	case 1:
		ep.addr = synack_addr_v4((arg & 0x40) ? LOCAL : 0);
		rc = synack_bind(w->s, fd, &ep);
		break;
	case 2:
		rc = synack_listen(w->s, fd, arg % 5);
		break;
	case 3:
		rc = synack_accept(w->s, fd, (arg & 1) ? &ep : NULL);
		break;
	case 4:
		ep.addr = synack_addr_v4(PEER);
		rc = synack_connect(w->s, fd, &ep);
		break;
	case 5: {
		const uint8_t *p;
		size_t n = fuzz_bytes(in, 65536, &p);
		static uint8_t big[65536];
		memcpy(big, p, n);
		if (!(arg & 1))
			n = (size_t)arg * 256; /* a large write of whatever big holds */
		rc = synack_send(w->s, fd, big, n, 0);
		FUZZ_ASSERT(rc < 0 || (size_t)rc <= n, "send %zd of %zu", rc, n);
		break;
	}
	case 6: {
		size_t n = (size_t)arg * 256;
		rc = synack_recv(w->s, fd, w->buf, n, (arg & 1) ? SYNACK_MSG_PEEK : 0);
		FUZZ_ASSERT(rc < 0 || (size_t)rc <= n, "recv %zd of %zu", rc, n);
		break;
	}
	case 7:
		rc = synack_shutdown(w->s, fd, arg % 4);
		break;
	case 8:
		rc = synack_close(w->s, fd);
		break;
	case 9:
		step_sockopt(w, in, fd);
		break;
	default: {
		struct synack_endpoint e;
		rc = (arg & 1) ? synack_getsockname(w->s, fd, &e)
			       : synack_getpeername(w->s, fd, &e);
		break;
	}
	}
	FUZZ_ASSERT(rc > -4096, "call %u returned %zd", op, rc);
}

static void run(struct world *w, struct fuzz_input *in)
{
	for (int step = 0; step < MAX_STEPS && !fuzz_empty(in); step++) {
		uint8_t op = fuzz_u8(in);
		w->frames = w->rsts = 0;
		switch (op % 16) {
		case 0:
		case 1:
		case 2:
		case 3:
			step_segment(w, in);
			break;
		case 4:
			step_raw(w, in);
			break;
		case 5:
		case 6:
			step_time(w, in);
			break;
		case 7:
			step_tunables(w, in);
			break;
		case 8:
			w->fail_after = 1 + fuzz_u8(in) % 4;
			break;
		case 15:
			if (fuzz_u8(in) & 1)
				step_sack(w, in);
			else
				step_icmp(w, in);
			break;
		default:
			step_api(w, in, (uint8_t)((op >> 4) % 11));
			break;
		}
		check_world(w);
	}
}

int synack_fuzz_stack(const uint8_t *data, size_t len);
int synack_fuzz_stack(const uint8_t *data, size_t len)
{
	static struct world w;
	memset(&w, 0, sizeof(w));
	struct fuzz_input in = {data, len};
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.name = "fuzz";
	synack_config_add_addr(&cfg, synack_addr_v4(LOCAL), 24);
	cfg.seed = fuzz_u8(&in);
	memset(cfg.secret, 0x42, sizeof(cfg.secret));
	cfg.allocator = (struct synack_allocator){w_alloc, w_free, &w};
	cfg.output = w_output;
	cfg.output_ctx = &w;
	cfg.max_sockets = 32;
	cfg.sndbuf = 8192;
	cfg.rcvbuf = 8192;
	cfg.ooo_max_segs = 8;
	w.now = 1000000;
	w.last_sport = 40000;
	w.last_dport = 80;
	w.peer_tsval = 100000; /* above the seeds' timestamps, so PAWS lets step_sack's ACKs in */
	if (synack_stack_new(&w.s, &cfg) != 0)
		return 0;
	synack_stack_poll(w.s, w.now);
	run(&w, &in);
	for (int fd = 0; fd < MAX_FD; fd++)
		synack_close(w.s, fd);
	synack_stack_poll(w.s, w.now + 3600ull * 1000000);
	synack_stack_destroy(w.s);
	FUZZ_ASSERT(w.live_allocs == 0 && w.live_bytes == 0,
		    "after destroy: %zu blocks, %zu bytes still allocated", w.live_allocs,
		    w.live_bytes);
	return 0;
}

#ifndef SYNACK_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	return synack_fuzz_stack(data, len);
}
#endif
