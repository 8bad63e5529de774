/* How many spoofed SYNs per second one synack stack absorbs on one CPU, with no device in the
 * way: SYNs fed straight to synack_stack_input() (frames built beforehand), answers discarded
 * by the output callback. Three cases: cookies mode 2 (every SYN answered with a cookie
 * SYN-ACK), mode 0 with the SYN queue full (every SYN dropped), and the ACK side (random
 * forged ACKs checked and refused). Built and run by bench/synflood.sh.
 * Usage: synflood_cpu [N] (default 1,000,000 SYNs per case) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/rng.h"
#include "synack/synack.h"

/* A pointer to the IPv4 address x (host order) as a synack_addr, for the codec. */
#define ST_V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])

#define SERVER 0x0a000002u
#define FRAME 64

static uint64_t sent;

static void out(void *ctx, const uint8_t *f, const struct synack_frame_meta *meta)
{
	size_t len = meta->len;
	(void)ctx, (void)f, (void)len;
	sent++;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* n frames of FRAME bytes each: SYNs (with Linux's options) or bare ACKs, random sources. */
static uint8_t *frames(size_t n, uint8_t flags, size_t *len)
{
	uint8_t *buf = calloc(n, FRAME);
	struct synack_rng r;
	synack_rng_seed(&r, flags);
	for (size_t i = 0; i < n; i++) {
		struct synack_tcp_seg s = {
			.sport = (uint16_t)(1024 + synack_rng_below(&r, 64512)),
			.dport = 80,
			.seq = (uint32_t)synack_rng_next(&r),
			.ack = (uint32_t)synack_rng_next(&r),
			.flags = flags,
			.win = 64240,
		};
		if (flags & SYNACK_TH_SYN)
			s.opts = (struct synack_tcp_opts){.has_mss = true, .mss = 1460};
		uint32_t src = 0xc6120000u | (uint32_t)synack_rng_below(&r, 0x20000);
		int l = synack_tcp_emit(buf + i * FRAME, FRAME, ST_V4(src), ST_V4(SERVER), 0, &s);
		if (l <= 0)
			exit(1);
		len[i] = (size_t)l;
	}
	return buf;
}

static void run(const char *what, int cookies, uint8_t flags, size_t n)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	synack_config_add_addr(&cfg, synack_addr_v4(SERVER), 24);
	cfg.output = out;
	cfg.syncookies = (uint8_t)cookies;
	struct synack_stack *s;
	if (synack_stack_new(&s, &cfg) != 0)
		exit(1);
	uint64_t t = 1000000;
	synack_stack_poll(s, t);
	int l = synack_socket(s);
	struct synack_endpoint ep = {synack_addr_v4(0), 80};
	synack_bind(s, l, &ep);
	synack_listen(s, l, 128);
	size_t *len = calloc(n, sizeof(size_t));
	uint8_t *f = frames(n, flags, len);
	/* Fill the SYN queue first (mode 0), or make the listener check cookies (ACKs). */
	size_t *wlen = calloc(256, sizeof(size_t));
	uint8_t *warm = frames(256, SYNACK_TH_SYN, wlen);
	for (size_t i = 0; i < 256; i++)
		synack_stack_input(s, warm + i * FRAME, wlen[i], t);
	size_t bytes0 = synack_stack_live_bytes(s);
	sent = 0;
	double t0 = now_s();
	for (size_t i = 0; i < n; i++)
		synack_stack_input(s, f + i * FRAME, len[i], t + i); /* one per microsecond */
	double dt = now_s() - t0;
	struct synack_counters c;
	synack_stack_counters(s, &c);
	printf("  %-40s %10.0f/s  (%zu in %.2f s; %llu answers; memory %+ld bytes)\n", what,
	       (double)n / dt, n, dt, (unsigned long long)sent,
	       (long)synack_stack_live_bytes(s) - (long)bytes0);
	synack_stack_destroy(s);
	free(f);
	free(len);
	free(warm);
	free(wlen);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	printf("spoofed segments absorbed by one stack on one CPU (no device):\n");
	run("SYN -> cookie SYN-ACK (mode 2)", 2, SYNACK_TH_SYN, n);
	run("SYN -> dropped, queue full (mode 0)", 0, SYNACK_TH_SYN, n);
	run("forged ACK -> checked, RST (mode 1)", 1, SYNACK_TH_ACK, n);
	return 0;
}
