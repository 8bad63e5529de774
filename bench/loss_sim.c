/* loss_sim — synack's side of bench/loss.sh: one bulk transfer between two synack stacks on
 * the simulated network (synack_sim: the simnet path and the fault decorator on both hosts'
 * outgoing frames), on the virtual clock. The same path and fault code carries Linux's
 * packets in bench/fault_relay.c, so both stacks see the same impairment model.
 *
 *   loss_sim [bytes=N] [buf=B] [loss=P] [dup=P] [reorder=P] [corrupt=P] [reorder_us=U]
 *            [bw=BPS] [qlimit=FRAMES] [cap=S] [limit=S] [seed=N] [runs=N]
 *
 * The client connects to the server (both with send and receive buffers of B bytes, no
 * autotuning: the window is B), writes N bytes of a seeded pattern and closes; the server
 * reads and checks every byte. Paths: 50 ms each way (100 ms RTT), bandwidth BPS (0: none),
 * at most FRAMES frames in the network per sender (tail drop past it; 0: the simnet default).
 * Each of `runs` runs (seeds seed, seed+1, ...) prints one line:
 *
 *   seed=S at_cap=BYTES done_us=T rtos=R retrans=X win=W ok=1
 *
 * at_cap: bytes the server had received cap seconds after connect() (or all N, if it had them
 * sooner: then done_us <= cap); done_us: from connect() to the server's last byte, 0 when not
 * done within `limit` seconds; rtos: TcpExtTCPTimeouts of both stacks; retrans: RetransSegs of
 * both; win: the largest receive window the server announced (bytes, scaled); ok=0: a byte
 * arrived wrong (never expected).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synack/synack.h"

#define CLIENT_IP 0x0a000001u
#define SERVER_IP 0x0a000002u
#define PORT 5001

struct opts {
	uint64_t bytes, buf, bw, qlimit, reorder_us, cap_s, limit_s, seed, runs;
	double loss, dup, reorder, corrupt;
};

static uint8_t pattern(uint64_t i)
{
	uint64_t x = (i >> 3) * 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	return (uint8_t)(x >> ((i & 7) * 8));
}

static struct synack_stack *add_host(struct synack_sim *sim, const struct opts *o,
				     const char *name, uint32_t addr,
				     const struct synack_fault_params *fp)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.name = name;
	synack_config_add_addr(&cfg, synack_addr_v4(addr), 24);
	cfg.sndbuf = (uint32_t)o->buf;
	cfg.sndbuf_max = 0;
	cfg.rcvbuf = (uint32_t)o->buf;
	cfg.rcvbuf_max = (uint32_t)o->buf;
	struct synack_sim_host_opts ho = {
		.path = {.delay_us = 50000, .bandwidth_bps = o->bw, .queue_limit = (uint32_t)o->qlimit},
		.fault = fp,
	};
	struct synack_stack *st = NULL;
	int rc = synack_sim_add_host(sim, &cfg, &ho, &st);
	if (rc < 0) {
		fprintf(stderr, "loss_sim: add host: %s\n", strerror(-rc));
		exit(1);
	}
	return st;
}

struct run {
	struct synack_sim *sim;
	struct synack_stack *c, *s;
	int cfd, lfd, afd;
	uint64_t sent, got, t0, done_us, at_cap, max_win;
	bool closed, bad, capped;
};

static void drive(struct run *r, const struct opts *o)
{
	static uint8_t buf[65536];
	while (r->cfd >= 0 && r->sent < o->bytes) {
		size_t n = o->bytes - r->sent < sizeof(buf) ? (size_t)(o->bytes - r->sent) : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(r->sent + i);
		ssize_t w = synack_send(r->c, r->cfd, buf, n, 0);
		if (w <= 0)
			break;
		r->sent += (uint64_t)w;
	}
	if (r->sent == o->bytes && !r->closed) {
		synack_close(r->c, r->cfd);
		r->closed = true;
	}
	if (r->afd < 0) {
		int fd = synack_accept(r->s, r->lfd, NULL);
		if (fd < 0)
			return;
		r->afd = fd;
	}
	for (;;) {
		ssize_t n = synack_recv(r->s, r->afd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			r->bad |= buf[i] != pattern(r->got + (uint64_t)i);
		r->got += (uint64_t)n;
	}
	struct synack_tcp_info ti;
	if (synack_tcp_info(r->s, r->afd, &ti) == 0 && ti.rcv_wnd > r->max_win)
		r->max_win = ti.rcv_wnd;
	if (r->got == o->bytes && !r->done_us)
		r->done_us = synack_sim_now(r->sim) - r->t0;
}

static void one_run(const struct opts *o, uint64_t seed)
{
	struct run r = {.cfd = -1, .lfd = -1, .afd = -1};
	if (synack_sim_new(&r.sim, seed) < 0)
		exit(1);
	struct synack_fault_params fp = {.loss = o->loss, .dup = o->dup, .reorder = o->reorder,
					 .corrupt = o->corrupt,
					 .reorder_delay_us = (uint32_t)o->reorder_us};
	bool faults = o->loss > 0 || o->dup > 0 || o->reorder > 0 || o->corrupt > 0;
	r.c = add_host(r.sim, o, "client", CLIENT_IP, faults ? &fp : NULL);
	r.s = add_host(r.sim, o, "server", SERVER_IP, faults ? &fp : NULL);
	r.lfd = synack_socket(r.s);
	struct synack_endpoint any = {.addr = synack_addr_v4(0), .port = PORT};
	if (synack_bind(r.s, r.lfd, &any) < 0 || synack_listen(r.s, r.lfd, 4) < 0)
		exit(1);
	r.cfd = synack_socket(r.c);
	struct synack_endpoint srv = {.addr = synack_addr_v4(SERVER_IP), .port = PORT};
	r.t0 = synack_sim_now(r.sim);
	int rc = synack_connect(r.c, r.cfd, &srv);
	if (rc < 0 && rc != -EINPROGRESS)
		exit(1);
	uint64_t cap_at = r.t0 + o->cap_s * 1000000, end_at = r.t0 + o->limit_s * 1000000;
	while (!r.done_us) {
		uint64_t lim = r.capped ? end_at : cap_at;
		if (!synack_sim_step(r.sim, lim)) {
			if (r.capped || synack_sim_now(r.sim) >= end_at)
				break;
			r.capped = true;
			r.at_cap = r.got;
		}
		drive(&r, o);
	}
	if (!r.capped)
		r.at_cap = r.got;
	struct synack_counters cc, cs;
	synack_stack_counters(r.c, &cc);
	synack_stack_counters(r.s, &cs);
	printf("seed=%llu at_cap=%llu done_us=%llu rtos=%llu retrans=%llu win=%llu ok=%d\n",
	       (unsigned long long)seed, (unsigned long long)r.at_cap,
	       (unsigned long long)r.done_us,
	       (unsigned long long)(cc.v[SYNACK_CTR_TCPTimeouts] + cs.v[SYNACK_CTR_TCPTimeouts]),
	       (unsigned long long)(cc.v[SYNACK_CTR_RetransSegs] + cs.v[SYNACK_CTR_RetransSegs]),
	       (unsigned long long)r.max_win, !r.bad);
	fflush(stdout);
	synack_sim_destroy(r.sim);
}

static void parse(struct opts *o, const char *a)
{
	const char *eq = strchr(a, '=');
	if (!eq) {
		fprintf(stderr, "loss_sim: %s: expected NAME=VALUE\n", a);
		exit(2);
	}
	size_t k = (size_t)(eq - a);
	const char *v = eq + 1;
	char *end;
	double d = strtod(v, &end);
	if (*end || end == v || d < 0) {
		fprintf(stderr, "loss_sim: %s: not a number\n", a);
		exit(2);
	}
#define U(name) if (k == sizeof(#name) - 1 && !strncmp(a, #name, k)) { o->name = (uint64_t)d; return; }
#define P(name) if (k == sizeof(#name) - 1 && !strncmp(a, #name, k)) { o->name = d; return; }
	U(bytes) U(buf) U(bw) U(qlimit) U(reorder_us) U(cap_s) U(limit_s) U(seed) U(runs)
	P(loss) P(dup) P(reorder) P(corrupt)
#undef U
#undef P
	if (k == 3 && !strncmp(a, "cap", 3)) {
		o->cap_s = (uint64_t)d;
		return;
	}
	if (k == 5 && !strncmp(a, "limit", 5)) {
		o->limit_s = (uint64_t)d;
		return;
	}
	fprintf(stderr, "loss_sim: %s: unknown option\n", a);
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = {.bytes = 10u << 20, .buf = 32768, .reorder_us = 1000, .cap_s = 60,
			 .limit_s = 14400, .seed = 1, .runs = 1};
	for (int i = 1; i < argc; i++)
		parse(&o, argv[i]);
	if (o.limit_s < o.cap_s)
		o.limit_s = o.cap_s;
	for (uint64_t i = 0; i < o.runs; i++)
		one_run(&o, o.seed + i);
	return 0;
}
