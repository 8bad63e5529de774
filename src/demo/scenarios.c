/* The demo scenarios, one per question people ask about TCP (RFC 9293 unless named).
 *
 * Each definition says how the two hosts are configured, what their applications do, which
 * frames the network treats specially (filter) and what happens at scheduled times (tick).
 * The conversation itself is entirely the stacks' doing.
 */
#include <errno.h>
#include <string.h>

#include "demo/world.h"

#define MSG "hello, synack\n"

static bool pure_ack(const struct synack_tcp_seg *seg)
{
	return seg->flags == SYNACK_TH_ACK && seg->len == 0;
}

/* Client connects, sends MSG, the server echoes it, the client closes when it has the echo
 * back, the server closes when it reads the client's FIN. */
static int setup_echo(struct demo *d)
{
	if (demo_listen(d, 8))
		return d->fail;
	demo_echo_apps(d, MSG);
	return demo_connect(d, DEMO_CLIENT);
}

/* ---- handshake ---------------------------------------------------------------------------- */

static const struct demo_scenario_def handshake = {
	.pub = {"handshake",
		"the three-way handshake, an echo, the four-way close and TIME-WAIT expiring", NULL},
	.setup = setup_echo,
};

/* ---- simultaneous open (RFC 9293 §3.5, figure 7) ------------------------------------------ */

static int setup_simopen(struct demo *d)
{
	struct demo_app *c = &d->app[DEMO_CLIENT], *s = &d->app[DEMO_SERVER];
	demo_app_queue(c, MSG, strlen(MSG));
	c->out_done = true;
	c->close_after_send = true;
	s->out_done = true;
	s->close_on_eof = true;
	if (demo_connect(d, DEMO_CLIENT))
		return d->fail;
	return demo_connect(d, DEMO_SERVER);
}

static const struct demo_scenario_def simultaneous_open = {
	.pub = {"simultaneous-open",
		"both sides connect at once: the SYNs cross, SYN-SENT -> SYN-RECEIVED on each side",
		"the server connects to the client's port 40000 instead of listening"},
	.setup = setup_simopen,
};

/* ---- simultaneous close (figure 13) -------------------------------------------------------- */

static int setup_simclose(struct demo *d)
{
	int err = setup_echo(d);
	d->app[DEMO_CLIENT].close_after_in = 0;
	d->app[DEMO_SERVER].close_on_eof = false;
	d->wake_at = 100000; /* both close at 100 ms, after the echo */
	return err;
}

/* Both close at the same instant once the echo is back (over a lossy link that may take
 * longer than 100 ms: then look again 100 ms later). */
static void tick_close_both(struct demo *d)
{
	if (d->app[DEMO_CLIENT].recvd < strlen(MSG) && !d->app[DEMO_CLIENT].err) {
		d->wake_at = demo_now(d) + 100000;
		return;
	}
	for (int w = 0; w < 2; w++) {
		struct demo_app *a = &d->app[w];
		if (!a->closed && a->fd >= 0) {
			(void)synack_close(a->s, a->fd);
			a->closed = true;
		}
	}
}

static const struct demo_scenario_def simultaneous_close = {
	.pub = {"simultaneous-close",
		"both sides close at once: the FINs cross, both go through CLOSING to TIME-WAIT",
		"both applications call close() at 100 ms, once the echo is back"},
	.setup = setup_simclose,
	.tick = tick_close_both,
};

/* ---- half-close ------------------------------------------------------------------------------ */

static uint8_t reply[3000];

static int setup_halfclose(struct demo *d)
{
	struct demo_app *c = &d->app[DEMO_CLIENT], *s = &d->app[DEMO_SERVER];
	static const char line[] = "the server keeps talking after the client's FIN\n";
	for (size_t i = 0; i < sizeof reply; i++)
		reply[i] = (uint8_t)line[i % (sizeof line - 1)];
	if (demo_listen(d, 8))
		return d->fail;
	demo_app_queue(c, "GET /\n", 6);
	c->out_done = true;
	c->shut_after_send = true; /* shutdown(SHUT_WR): FIN, but keep reading */
	c->close_on_eof = true;
	s->eof_reply = reply;
	s->eof_reply_len = sizeof reply;
	s->close_after_send = true;
	return demo_connect(d, DEMO_CLIENT);
}

static const struct demo_scenario_def half_close = {
	.pub = {"half-close",
		"shutdown(SHUT_WR): the client's FIN ends only its direction; the server keeps "
		"sending",
		"summary measures the server->client data"},
	.stream = DEMO_SERVER,
	.setup = setup_halfclose,
};

/* ---- refused ------------------------------------------------------------------------------- */

static int setup_refused(struct demo *d)
{
	d->app[DEMO_CLIENT].out_done = true;
	return demo_connect(d, DEMO_CLIENT); /* nobody listens on port 80 */
}

static const struct demo_scenario_def refused = {
	.pub = {"refused", "a SYN to a closed port is answered with RST: connect fails ECONNREFUSED",
		NULL},
	.setup = setup_refused,
};

/* ---- syn-timeout ----------------------------------------------------------------------------- */

static int setup_syntimeout(struct demo *d)
{
	d->blackhole[DEMO_SERVER] = true; /* every frame to the server is lost */
	d->app[DEMO_CLIENT].out_done = true;
	if (demo_listen(d, 8))
		return d->fail;
	return demo_connect(d, DEMO_CLIENT);
}

static const struct demo_scenario_def syn_timeout = {
	.pub = {"syn-timeout",
		"a silent server: the SYN is retried with exponential backoff, then ETIMEDOUT",
		"every frame to the server is dropped; 6 SYN retries (tcp_syn_retries)"},
	.setup = setup_syntimeout,
};

/* ---- lost-third-ack --------------------------------------------------------------------------- */

static enum demo_verdict filter_third_ack(struct demo *d, int who, const struct synack_ip_hdr *ip,
					  const struct synack_tcp_seg *seg)
{
	if (who != DEMO_CLIENT || d->phase != 0 || !pure_ack(seg))
		return DEMO_PASS;
	d->phase = 1;
	return DEMO_DROP;
}

static const struct demo_scenario_def lost_third_ack = {
	.pub = {"lost-third-ack",
		"the handshake's last ACK is lost: the client's first data segment completes it",
		"the network drops the client's first pure ACK"},
	.setup = setup_echo,
	.filter = filter_third_ack,
};

/* ---- lost-last-ack ---------------------------------------------------------------------------- */

static enum demo_verdict filter_last_ack(struct demo *d, int who, const struct synack_ip_hdr *ip,
					 const struct synack_tcp_seg *seg)
{
	if (who == DEMO_SERVER && (seg->flags & SYNACK_TH_FIN) && d->phase == 0) {
		d->mark = seg->seq + (uint32_t)seg->len + 1; /* the ACK that acknowledges it */
		d->phase = 1;
		return DEMO_PASS;
	}
	if (who == DEMO_CLIENT && d->phase == 1 && pure_ack(seg) && seg->ack == d->mark) {
		d->phase = 2;
		return DEMO_DROP;
	}
	return DEMO_PASS;
}

static const struct demo_scenario_def lost_last_ack = {
	.pub = {"lost-last-ack",
		"the close's last ACK is lost: the server retransmits its FIN, TIME-WAIT re-ACKs it",
		"the network drops the client's ACK of the server's FIN, once"},
	.setup = setup_echo,
	.filter = filter_last_ack,
};

/* ---- old-duplicate-syn (RFC 9293 §3.5, figure 8) ---------------------------------------------- */

static enum demo_verdict filter_old_dup(struct demo *d, int who, const struct synack_ip_hdr *ip,
					const struct synack_tcp_seg *seg)
{
	if (who != DEMO_CLIENT || d->phase != 0 || seg->flags != SYNACK_TH_SYN)
		return DEMO_PASS;
	d->phase = 1;
	d->mark = seg->seq;
	return DEMO_HOLD; /* the new SYN is slow: the network delivers it at 30 ms */
}

/* A SYN from `from` to the server, as an old or spoofed one: MSS option only (1460 over IPv4,
 * 1440 over IPv6: a 1500-byte link less the headers). */
static int inject_syn(struct demo *d, struct synack_addr from, uint16_t sport, uint32_t seq)
{
	uint8_t frame[128];
	struct synack_tcp_seg s = {.sport = sport, .dport = SYNACK_DEMO_SERVER_PORT, .seq = seq,
				   .flags = SYNACK_TH_SYN, .win = 64240};
	s.opts.has_mss = true;
	s.opts.mss = synack_addr_is_v4(&from) ? 1460 : 1440;
	struct synack_addr to = demo_host_ep(d, DEMO_SERVER).addr;
	int n = synack_tcp_emit(frame, sizeof frame, &from, &to, 0, &s);
	if (n < 0)
		return -EINVAL;
	synack_sim_inject(d->sim, d->app[DEMO_SERVER].s, frame, (size_t)n);
	return 0;
}

static int setup_old_dup(struct demo *d)
{
	int err = setup_echo(d);
	if (err)
		return err;
	if (d->phase != 1)
		return -EPROTO; /* the client sent no SYN */
	/* An old SYN of an earlier incarnation of the same connection arrives first. */
	d->wake_at = 30000;
	return inject_syn(d, demo_host_ep(d, DEMO_CLIENT).addr, SYNACK_DEMO_CLIENT_PORT,
			  d->mark - 1000);
}

static const struct demo_scenario_def old_duplicate_syn = {
	.pub = {"old-duplicate-syn",
		"an old SYN of an earlier incarnation arrives: RST, then a fresh start (why three "
		"steps)",
		"old SYN seq=ISS-1000 injected at 0 ms; the real SYN held until 30 ms; absolute "
		"seq/ack"},
	.absolute = true,
	.setup = setup_old_dup,
	.tick = demo_release_held,
	.filter = filter_old_dup,
};

/* ---- keepalive -------------------------------------------------------------------------------- */

static int setup_keepalive(struct demo *d)
{
	if (demo_setsockopt_int(d, DEMO_CLIENT, SYNACK_SOL_SOCKET, SYNACK_SO_KEEPALIVE, 1) ||
	    demo_setsockopt_int(d, DEMO_CLIENT, SYNACK_IPPROTO_TCP, SYNACK_TCP_KEEPIDLE, 10) ||
	    demo_setsockopt_int(d, DEMO_CLIENT, SYNACK_IPPROTO_TCP, SYNACK_TCP_KEEPINTVL, 2) ||
	    demo_setsockopt_int(d, DEMO_CLIENT, SYNACK_IPPROTO_TCP, SYNACK_TCP_KEEPCNT, 3))
		return d->fail;
	int err = setup_echo(d);
	d->app[DEMO_CLIENT].close_after_in = 0; /* stay connected, idle */
	d->wake_at = 1000000;                  /* the server vanishes at 1 s */
	return err;
}

/* The server vanishes at 1 s, or (over a lossy link) as soon after as the echo is back. */
static void tick_vanish(struct demo *d)
{
	if (d->app[DEMO_CLIENT].recvd < strlen(MSG) && !d->app[DEMO_CLIENT].err) {
		d->wake_at = demo_now(d) + 1000000;
		return;
	}
	d->blackhole[DEMO_SERVER] = true;
}

static const struct demo_scenario_def keepalive = {
	.pub = {"keepalive",
		"the peer vanishes while the connection is idle: keepalive probes, then ETIMEDOUT",
		"keepalive idle 10 s, interval 2 s, 3 probes (Linux 7200/75/9); server cut off "
		"at 1 s"},
	.setup = setup_keepalive,
	.tick = tick_vanish,
};

/* ---- abort -------------------------------------------------------------------------------------- */

static int setup_abort(struct demo *d)
{
	struct synack_linger lg = {.l_onoff = 1, .l_linger = 0};
	int err = setup_echo(d);
	if (err)
		return err;
	struct demo_app *c = &d->app[DEMO_CLIENT];
	err = synack_setsockopt(c->s, c->fd, SYNACK_SOL_SOCKET, SYNACK_SO_LINGER, &lg, sizeof lg);
	if (err)
		fprintf(stderr, "synack demo abort: SO_LINGER: %d\n", err);
	return err;
}

static const struct demo_scenario_def abort_ = {
	.pub = {"abort", "close() with SO_LINGER {1, 0} aborts: RST instead of FIN, ECONNRESET "
			 "at the peer",
		NULL},
	.setup = setup_abort,
};

/* ---- syn-flood ---------------------------------------------------------------------------------- */

/* 2,000 spoofed SYNs per virtual second for 2 s from random addresses of 198.18.0.0/15 (RFC
 * 2544's benchmarking range; over IPv6 RFC 5180's 2001:2::/48, the same 17 random bits as
 * 2001:2::X:YYYY) against a listener with backlog 4; the legitimate client connects
 * 0.5 s into the flood. With SYN cookies (the default, as Linux's tcp_syncookies=1) the full
 * SYN queue does not matter: the client's SYN gets a cookie SYN-ACK, its ACK carries the cookie
 * back, and the exchange completes. With --syncookies 0 the client's SYNs are dropped and it
 * gives up. Only the first few spoofed SYNs are drawn; notes count the rest. */
#define FLOOD_SYNS 4000
#define FLOOD_GAP_US 500
#define FLOOD_SHOWN 3
#define FLOOD_NOTE_EVERY 1000
#define FLOOD_BACKLOG 4
#define FLOOD_CLIENT_AT 1000 /* the client connects after this many spoofed SYNs (0.5 s) */
#define FLOOD_NET 0xc6120000u
#define FLOOD_MASK 0xfffe0000u

static void config_flood(struct demo *d, int who, struct synack_config *cfg)
{
	if (who == DEMO_CLIENT)
		cfg->syn_retries = 3;
}

static int setup_flood(struct demo *d)
{
	if (demo_listen(d, FLOOD_BACKLOG))
		return d->fail;
	demo_echo_apps(d, MSG);
	d->wake_at = 0;
	return 0;
}

static const uint8_t FLOOD_NET6[6] = {0x20, 0x01, 0x00, 0x02, 0x00, 0x00}; /* 2001:2::/48 */

/* A spoofed source: 17 random bits in the benchmarking range of the scenario's family. */
static struct synack_addr flood_addr(const struct demo *d, uint32_t bits)
{
	if (!d->o->ipv6)
		return synack_addr_v4(FLOOD_NET | bits);
	uint8_t b[16] = {0};
	memcpy(b, FLOOD_NET6, sizeof FLOOD_NET6);
	b[13] = (uint8_t)(bits >> 16);
	b[14] = (uint8_t)(bits >> 8);
	b[15] = (uint8_t)bits;
	return synack_addr_v6(b);
}

static bool spoofed(const struct synack_addr *a)
{
	if (synack_addr_is_v4(a))
		return (synack_addr_get_v4(a) & FLOOD_MASK) == FLOOD_NET;
	return !memcmp(a->b, FLOOD_NET6, sizeof FLOOD_NET6);
}

/* Does the event concern a spoofed peer? By its connection, or else by its frame. */
static bool flood_event(const struct synack_trace_event *ev)
{
	if (ev->has_conn)
		return spoofed(&ev->remote.addr);
	struct synack_ip_hdr ip;
	const uint8_t *p;
	size_t n;
	return ev->frame && synack_ip_parse(ev->frame, ev->frame_len, &ip, &p, &n) == 0 &&
	       (spoofed(&ip.src) || spoofed(&ip.dst));
}

static bool show_flood(struct demo *d, const struct synack_trace_event *ev)
{
	return !flood_event(ev) || d->phase <= FLOOD_SHOWN;
}

/* A note across the ladder: how the flood is going, from the server's counters. */
static void note_flood(struct demo *d)
{
	struct synack_counters c;
	synack_stack_counters(d->app[DEMO_SERVER].s, &c);
	snprintf(d->note, sizeof d->note, "%d spoofed SYNs: %llu cookies sent, %llu dropped",
		 d->phase, (unsigned long long)c.v[SYNACK_CTR_SyncookiesSent],
		 (unsigned long long)c.v[SYNACK_CTR_ListenDrops]);
	struct synack_trace_event ev = {.kind = SYNACK_TRACE_NOTE, .t_us = demo_now(d),
					.host = "server", .note = d->note};
	synack_ladder_event(d->ladder, &ev);
}

static void tick_flood(struct demo *d)
{
	if (d->phase >= FLOOD_SYNS)
		return;
	uint32_t bits = (uint32_t)synack_rng_below(&d->rng, 0x20000);
	uint16_t port = (uint16_t)(1024 + synack_rng_below(&d->rng, 64512));
	(void)inject_syn(d, flood_addr(d, bits), port, (uint32_t)synack_rng_next(&d->rng));
	d->phase++;
	if (d->phase % FLOOD_NOTE_EVERY == 0)
		note_flood(d);
	if (d->phase == FLOOD_CLIENT_AT)
		(void)demo_connect(d, DEMO_CLIENT);
	d->wake_at = d->phase < FLOOD_SYNS ? demo_now(d) + FLOOD_GAP_US : SYNACK_TIME_NEVER;
}

static const struct demo_scenario_def syn_flood = {
	.pub = {"syn-flood",
		"a SYN flood fills the SYN queue; SYN cookies keep a legitimate client served",
		"4000 spoofed SYNs at 2000/s, backlog 4, client at 0.5 s; try --syncookies 0"},
	.config = config_flood,
	.setup = setup_flood,
	.tick = tick_flood,
	.show = show_flood,
};

/* ---- transfer ----------------------------------------------------------------------------------- */

static int setup_transfer(struct demo *d)
{
	struct demo_app *c = &d->app[DEMO_CLIENT], *s = &d->app[DEMO_SERVER];
	if (demo_listen(d, 8))
		return d->fail;
	uint8_t chunk[4096];
	for (uint64_t left = d->o->bytes; left > 0;) {
		size_t n = left < sizeof chunk ? (size_t)left : sizeof chunk;
		for (size_t i = 0; i < n; i++)
			chunk[i] = (uint8_t)synack_rng_next(&d->rng);
		demo_app_queue(c, chunk, n);
		left -= n;
	}
	c->out_done = true;
	c->close_after_send = true;
	s->out_done = true;
	s->close_on_eof = true;
	return demo_connect(d, DEMO_CLIENT);
}

static const struct demo_scenario_def transfer = {
	.pub = {"transfer", "a bulk transfer of --bytes N (1 MiB): segmentation, windows, ACKs",
		"the text ladder elides the middle"},
	.max_rows = 60,
	.setup = setup_transfer,
};

const struct demo_scenario_def *const synack_demo_defs[] = {
	&handshake,     &simultaneous_open, &simultaneous_close, &half_close, &refused,
	&syn_timeout,   &lost_third_ack,    &lost_last_ack,      &old_duplicate_syn,
	&keepalive,     &abort_,            &syn_flood,          &transfer,
};
const size_t synack_demo_ndefs = sizeof synack_demo_defs / sizeof synack_demo_defs[0];
