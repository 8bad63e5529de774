/* Benchmark 3, memory: what one connection costs, from synack_stack_live_bytes (every byte the
 * stack holds goes through its allocator, so the figure is exact) and, beside it, the
 * process's RSS growth (buffers from malloc that were never written may not be resident).
 *
 *   established  N connections opened between two stacks back to back (default buffers,
 *                or SNDBUF/RCVBUF): (live_bytes after - before) / N, client and server
 *   time-wait    the client then closes all N first, the server closes after reading EOF:
 *                the client holds N TIME-WAIT entries: (live_bytes - before) / N
 *   tw-server    a server stack with max_sockets 64 serves TW synthetic peers (distinct
 *                address:port pairs) that each connect, are answered with a close, and
 *                ACK our FIN with theirs: the server holds TW compact TIME-WAIT entries
 *                (they are not sockets): (live_bytes - before) / entries, table included
 *   syn-queue    a fresh server stack (syncookies 0, listen backlog 4096 = the cap, like
 *                somaxconn) receives SYNQ spoofed SYNs from distinct address:port pairs that
 *                never complete: (live_bytes - before) / entries held; then the same with
 *                SYNQ6 IPv6 SYNs (a listener on [::])
 *
 *   idle         a server stack accepts IDLE synthetic peers that each send "ping", read
 *                the reply "pong" and acknowledge it, then stay quiet for 2 s (each folds
 *                its active part after 1 s): the server holds IDLE idle established
 *                connections after data both ways; total and (live_bytes - before) / IDLE
 *
 * Usage: core_memory [N=n] [SYNQ=n] [SYNQ6=n] [TW=n] [IDLE=n] [SNDBUF=n] [RCVBUF=n] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_util.h"

#define PORT 80
#define ST_V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])

struct tally {
	long n[SYNACK_STATE_COUNT];
};

static void count_state(void *ctx, int fd, const struct synack_tcp_info *info)
{
	(void)fd;
	((struct tally *)ctx)->n[info->state]++;
}

static long in_state(struct synack_stack *s, enum synack_tcp_state st)
{
	struct tally t = {0};
	synack_stack_foreach(s, count_state, &t);
	return t.n[st];
}

/* The server's IPv6 address (syn-queue over IPv6) and its peers' prefix. */
#define SERVER6 ((const uint8_t[16]){0xfd, 0, [15] = 2})
#define PEER6 ((const uint8_t[16]){0xfd, 0, [7] = 1})

/* A listener on PORT of the wildcard address of family (dual-stack for IPv6). */
static int listener_on(struct synack_stack *s, int backlog, int family)
{
	int fd = synack_socket(s);
	struct synack_endpoint ep = {synack_addr_any(family), PORT};
	if (fd < 0 || synack_bind(s, fd, &ep) < 0 || synack_listen(s, fd, backlog) < 0) {
		fprintf(stderr, "memory: listener setup failed\n");
		exit(1);
	}
	return fd;
}

static int listener(struct synack_stack *s, int backlog)
{
	return listener_on(s, backlog, SYNACK_AF_INET);
}

static void established_and_time_wait(long n, uint32_t sndbuf, uint32_t rcvbuf)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.max_sockets = (uint32_t)n + 16;
	if (sndbuf)
		cfg.sndbuf = sndbuf;
	if (rcvbuf)
		cfg.rcvbuf = rcvbuf;
	struct bench_pair p;
	bench_pair_init(&p, &cfg);
	int lfd = listener(p.st[1], 4096);
	size_t c0 = synack_stack_live_bytes(p.st[0]), s0 = synack_stack_live_bytes(p.st[1]);
	uint64_t rss0 = bench_rss();
	int *cfd = malloc((size_t)n * sizeof *cfd), *sfd = malloc((size_t)n * sizeof *sfd);
	for (long i = 0; i < n; i++) {
		cfd[i] = bench_pair_connect(&p, lfd, PORT, &sfd[i]);
		if (i % 64 == 63)
			bench_pair_advance(&p, p.now + 1000);
	}
	size_t c1 = synack_stack_live_bytes(p.st[0]), s1 = synack_stack_live_bytes(p.st[1]);
	uint64_t rss1 = bench_rss();
	long est = in_state(p.st[0], SYNACK_ESTABLISHED);
	printf("sizes: N=%ld sndbuf=%u rcvbuf=%u ooo_max_segs=%u (buffer sizes: memory only while "
	       "data is queued)\n",
	       n, cfg.sndbuf, cfg.rcvbuf, cfg.ooo_max_segs);
	printf("established: %ld client connections ESTABLISHED; client %.0f B/conn, server %.0f "
	       "B/conn (live_bytes delta / N); RSS of both stacks +%.0f B/conn pair\n",
	       est, (double)(c1 - c0) / (double)n, (double)(s1 - s0) / (double)n,
	       (double)(rss1 - rss0) / (double)n);
	printf("RESULT memory ESTABLISHED sndbuf=%u rcvbuf=%u: client %.0f B/conn server %.0f "
	       "B/conn (no data queued: no buffer memory)\n",
	       cfg.sndbuf, cfg.rcvbuf, (double)(c1 - c0) / (double)n,
	       (double)(s1 - s0) / (double)n);
	char buf[16];
	for (long i = 0; i < n; i++) {
		synack_close(p.st[0], cfd[i]);
		bench_pair_pump(&p);
		if (synack_recv(p.st[1], sfd[i], buf, sizeof buf, 0) != 0)
			fprintf(stderr, "memory: expected EOF on server fd\n");
		synack_close(p.st[1], sfd[i]);
		bench_pair_pump(&p);
	}
	bench_pair_advance(&p, p.now + 1000);
	long tw = in_state(p.st[0], SYNACK_TIME_WAIT);
	size_t c2 = synack_stack_live_bytes(p.st[0]), s2 = synack_stack_live_bytes(p.st[1]);
	printf("time-wait: client holds %ld TIME-WAIT entries: %.0f B each (live_bytes delta / "
	       "entries); server back to %+ld B of its baseline\n",
	       tw, tw ? (double)(c2 - c0) / (double)tw : 0.0, (long)s2 - (long)s0);
	printf("RESULT memory TIME-WAIT: %.0f B/entry (%ld entries)\n",
	       tw ? (double)(c2 - c0) / (double)tw : 0.0, tw);
	free(cfd);
	free(sfd);
	bench_pair_fini(&p);
}

static uint64_t frames_out;
static void count_output(void *ctx, const uint8_t *f, const struct synack_frame_meta *meta)
{
	size_t len = meta->len;
	(void)ctx;
	(void)f;
	(void)len;
	frames_out++;
}

static uint8_t last_out[256];
static void keep_output(void *ctx, const uint8_t *f, const struct synack_frame_meta *meta)
{
	(void)ctx;
	memcpy(last_out, f, meta->len < sizeof last_out ? meta->len : sizeof last_out);
}

static uint32_t out_seq(void)
{
	const uint8_t *t = last_out + 20; /* no IP options */
	return (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
}

static void time_wait_server(long n)
{
	struct bench_alloc a = {0};
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.name = "server";
	synack_config_add_addr(&cfg, synack_addr_v4(BENCH_SERVER_ADDR), 24);
	cfg.allocator = bench_allocator(&a);
	cfg.output = keep_output;
	cfg.max_sockets = 64;
	cfg.max_tw_buckets = (uint32_t)n;
	struct synack_stack *s;
	if (synack_stack_create(&s, &cfg) < 0)
		exit(1);
	uint64_t now = 1000000;
	synack_stack_poll(s, now);
	int lfd = listener(s, 64);
	size_t b0 = synack_stack_live_bytes(s);
	uint64_t t0 = bench_ns();
	uint8_t f[128];
	for (long i = 0; i < n; i++) {
		uint32_t src = 0x0C000000u + (uint32_t)(i / 50000) + 1;
		uint16_t sport = (uint16_t)(10000 + i % 50000);
		size_t len = bench_craft(f, src, sport, BENCH_SERVER_ADDR, PORT, 1000, 0, SYNACK_TH_SYN);
		synack_stack_input(s, f, len, now);
		uint32_t iss = out_seq();
		len = bench_craft(f, src, sport, BENCH_SERVER_ADDR, PORT, 1001, iss + 1, SYNACK_TH_ACK);
		synack_stack_input(s, f, len, now);
		int fd = synack_accept(s, lfd, NULL);
		if (fd < 0 || synack_close(s, fd) < 0) {
			fprintf(stderr, "memory: tw-server: connection %ld not accepted (%d)\n", i, fd);
			exit(1);
		}
		len = bench_craft(f, src, sport, BENCH_SERVER_ADDR, PORT, 1001, iss + 2,
				  SYNACK_TH_FIN | SYNACK_TH_ACK);
		synack_stack_input(s, f, len, now);
		if (i % 1000 == 999)
			now += 1000; /* 1 ms per 1000: all still in TIME-WAIT at the end */
	}
	double secs = (double)(bench_ns() - t0) / 1e9;
	long tw = in_state(s, SYNACK_TIME_WAIT);
	size_t b1 = synack_stack_live_bytes(s);
	struct synack_counters c;
	synack_stack_counters(s, &c);
	printf("tw-server: %ld connections served and closed first in %.1f s with max_sockets 64: "
	       "%ld TIME-WAIT entries, %.1f MiB in all, TcpExtTCPTimeWaitOverflow %llu\n",
	       n, secs, tw, (double)(b1 - b0) / 1048576.0,
	       (unsigned long long)c.v[SYNACK_CTR_TCPTimeWaitOverflow]);
	printf("RESULT memory TIME-WAIT (server, compact): %.1f B/entry, %.1f MiB for %ld entries\n",
	       tw ? (double)(b1 - b0) / (double)tw : 0.0, (double)(b1 - b0) / 1048576.0, tw);
	synack_stack_destroy(s);
}

/* A SYN from the synthetic peer i: an IPv4 one, or (v6) an IPv6 one to SERVER6. */
static size_t craft_syn(uint8_t *f, long i, bool v6)
{
	uint32_t seq = (uint32_t)(i * 2654435761u);
	uint16_t sport = (uint16_t)(10000 + i % 50000);
	uint32_t host = (uint32_t)(i / 50000) + 1;
	if (!v6)
		return bench_craft(f, 0x0C000000u + host, sport, BENCH_SERVER_ADDR, PORT, seq, 0,
				   SYNACK_TH_SYN);
	struct synack_tcp_seg seg;
	memset(&seg, 0, sizeof seg);
	seg.sport = sport;
	seg.dport = PORT;
	seg.seq = seq;
	seg.flags = SYNACK_TH_SYN;
	seg.win = 65535;
	seg.opts.has_mss = true;
	seg.opts.mss = 1440;
	struct synack_addr src = synack_addr_v6(PEER6), dst = synack_addr_v6(SERVER6);
	src.b[12] = (uint8_t)(host >> 24);
	src.b[13] = (uint8_t)(host >> 16);
	src.b[14] = (uint8_t)(host >> 8);
	src.b[15] = (uint8_t)host;
	int len = synack_tcp_emit(f, 128, &src, &dst, 0, &seg);
	if (len <= 0) {
		fprintf(stderr, "memory: synack_tcp_emit failed\n");
		exit(1);
	}
	return (size_t)len;
}

static void syn_queue(long n, bool v6)
{
	frames_out = 0;
	struct bench_alloc a = {0};
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.name = "server";
	synack_config_add_addr(&cfg, synack_addr_v4(BENCH_SERVER_ADDR), 24);
	synack_config_add_addr(&cfg, synack_addr_v6(SERVER6), 64);
	cfg.allocator = bench_allocator(&a);
	cfg.output = count_output;
	cfg.max_sockets = (uint32_t)n + 16;
	cfg.syncookies = 0;
	struct synack_stack *s;
	if (synack_stack_create(&s, &cfg) < 0)
		exit(1);
	synack_stack_poll(s, 1000000);
	(void)listener_on(s, 1 << 30, v6 ? SYNACK_AF_INET6 : SYNACK_AF_INET);
	size_t b0 = synack_stack_live_bytes(s);
	uint8_t f[128];
	for (long i = 0; i < n; i++)
		synack_stack_input(s, f, craft_syn(f, i, v6), 1000000 + (uint64_t)i);
	long held = in_state(s, SYNACK_SYN_RECEIVED);
	struct synack_counters c;
	synack_stack_counters(s, &c);
	size_t b1 = synack_stack_live_bytes(s);
	const char *fam = v6 ? "IPv6" : "IPv4";
	printf("syn-queue: %ld spoofed %s SYNs, %ld held in SYN-RECEIVED (backlog capped at 4096), "
	       "%llu SYN-ACKs sent, ListenDrops %llu, synq_full drops %llu\n",
	       n, fam, held, (unsigned long long)frames_out,
	       (unsigned long long)c.v[SYNACK_CTR_ListenDrops],
	       (unsigned long long)c.drops[SYNACK_DROP_TCP_SYNQ_FULL]);
	printf("RESULT memory SYN-queue entry %s: %.0f B/entry (%ld entries)\n", fam,
	       held ? (double)(b1 - b0) / (double)held : 0.0, held);
	synack_stack_destroy(s);
}


/* A segment from a synthetic peer, with payload. */
static size_t craft_data(uint8_t *out, size_t cap, uint32_t src, uint16_t sport, uint32_t seq,
			 uint32_t ack, uint8_t flags, const char *data, size_t len)
{
	struct synack_tcp_seg seg;
	memset(&seg, 0, sizeof seg);
	seg.sport = sport;
	seg.dport = PORT;
	seg.seq = seq;
	seg.ack = ack;
	seg.flags = flags;
	seg.win = 65535;
	if (flags & SYNACK_TH_SYN) {
		seg.opts.has_mss = true;
		seg.opts.mss = 1460;
	}
	seg.payload = (const uint8_t *)data;
	seg.len = len;
	int n = synack_tcp_emit(out, cap, ST_V4(src), ST_V4(BENCH_SERVER_ADDR), (uint16_t)seq, &seg);
	if (n <= 0)
		exit(1);
	return (size_t)n;
}

/* IDLE synthetic peers each connect, send "ping", read the server's "pong" (acknowledged):
 * the server then holds IDLE established connections that exchanged data both ways and
 * have nothing queued. Buffers come with data (src/core/buf.h), so they hold none. */
static void idle_server(long n)
{
	struct bench_alloc a = {0};
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.name = "server";
	synack_config_add_addr(&cfg, synack_addr_v4(BENCH_SERVER_ADDR), 24);
	cfg.allocator = bench_allocator(&a);
	cfg.output = keep_output;
	cfg.max_sockets = (uint32_t)n + 16;
	struct synack_stack *s;
	if (synack_stack_create(&s, &cfg) < 0)
		exit(1);
	uint64_t now = 1000000;
	synack_stack_poll(s, now);
	int lfd = listener(s, 64);
	size_t b0 = synack_stack_live_bytes(s);
	uint64_t rss0 = bench_rss(), t0 = bench_ns();
	uint8_t f[256];
	char buf[8];
	for (long i = 0; i < n; i++) {
		uint32_t src = 0x0C000000u + (uint32_t)(i / 50000) + 1;
		uint16_t sport = (uint16_t)(10000 + i % 50000);
		size_t len = craft_data(f, sizeof f, src, sport, 1000, 0, SYNACK_TH_SYN, NULL, 0);
		synack_stack_input(s, f, len, now);
		uint32_t iss = out_seq();
		len = craft_data(f, sizeof f, src, sport, 1001, iss + 1, SYNACK_TH_ACK, "ping", 4);
		synack_stack_input(s, f, len, now);
		int fd = synack_accept(s, lfd, NULL);
		if (fd < 0 || synack_recv(s, fd, buf, sizeof buf, 0) != 4 ||
		    synack_send(s, fd, "pong", 4, 0) != 4) {
			fprintf(stderr, "memory: idle: connection %ld failed (%d)\n", i, fd);
			exit(1);
		}
		len = craft_data(f, sizeof f, src, sport, 1005, iss + 5, SYNACK_TH_ACK, NULL, 0);
		synack_stack_input(s, f, len, now);
		if (i % 1000 == 999)
			now += 1000;
	}
	/* Quiet for a second, every connection gives its active part back (tcb_flow.c). */
	now += 2000000;
	synack_stack_poll(s, now);
	double secs = (double)(bench_ns() - t0) / 1e9;
	long est = in_state(s, SYNACK_ESTABLISHED);
	size_t b1 = synack_stack_live_bytes(s);
	struct synack_counters c;
	synack_stack_counters(s, &c);
	printf("idle: %ld established connections after ping/pong (read, acknowledged) in %.1f s, "
	       "%llu folded: %.1f MiB in all (live_bytes), %.0f B/conn, buffer memory %llu B; "
	       "RSS +%.1f MiB\n",
	       est, secs, (unsigned long long)c.v[SYNACK_CTR_TCPFlowFolds],
	       (double)(b1 - b0) / 1048576.0, (double)(b1 - b0) / (double)n,
	       (unsigned long long)c.v[SYNACK_CTR_TCPMemBytes],
	       (double)(bench_rss() - rss0) / 1048576.0);
	printf("RESULT memory IDLE: %ld connections %.1f MiB total (%.0f B/conn, goal < 512 MiB "
	       "for 1,000,000)\n",
	       est, (double)(b1 - b0) / 1048576.0, (double)(b1 - b0) / (double)n);
	synack_stack_destroy(s);
}

int main(int argc, char **argv)
{
	long n = bench_arg(argc, argv, "N", 10000);
	long synq = bench_arg(argc, argv, "SYNQ", 5000);
	long synq6 = bench_arg(argc, argv, "SYNQ6", 5000);
	long twn = bench_arg(argc, argv, "TW", 100000);
	long idle = bench_arg(argc, argv, "IDLE", 100000);
	uint32_t sb = (uint32_t)bench_arg(argc, argv, "SNDBUF", 0);
	uint32_t rb = (uint32_t)bench_arg(argc, argv, "RCVBUF", 0);
	bench_print_conditions("memory per connection, per SYN-queue entry, per TIME-WAIT entry");
	printf("lazy buffers: 16 KiB chunks taken as data comes and given back as it goes "
	       "(src/core/buf.h): an idle connection holds none\n");
	established_and_time_wait(n, sb, rb);
	if (idle > 0)
		idle_server(idle);
	time_wait_server(twn);
	syn_queue(synq, false);
	if (synq6 > 0)
		syn_queue(synq6, true);
	return 0;
}
