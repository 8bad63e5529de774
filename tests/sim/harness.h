/* The simulated-transfer harness: a client and a server stack on a synack_sim, each sending
 * its own seeded pseudo-random stream to the other, then both shutting down and closing; the
 * run ends when the world has nothing left to do (TIME-WAIT expired). Used by
 * tests/sim/test_transfer.c (thousands of seeds) and tests/sim/test_regress.c (single seeds
 * that once failed). Header-only: each test binary is one translation unit. */
#ifndef SYNACK_TEST_SIM_HARNESS_H
#define SYNACK_TEST_SIM_HARNESS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synack/synack.h"

#define H_CLIENT_ADDR 0x0a000001u /* 10.0.0.1 */
#define H_SERVER_ADDR 0x0a000002u /* 10.0.0.2 */
#define H_PORT 80

/* ---- a counting allocator: checks sizes on free and counts what is live ------------------ */

struct counting_alloc {
	size_t live_blocks, live_bytes, total;
	int bad_free; /* free with a size other than the one allocated */
};

static inline void *counting_alloc_fn(void *ctx, size_t size)
{
	struct counting_alloc *a = ctx;
	size_t *p = malloc(sizeof(size_t) * 2 + size);
	if (!p)
		return NULL;
	p[0] = size;
	a->live_blocks++;
	a->live_bytes += size;
	a->total++;
	return p + 2;
}

static inline void counting_free_fn(void *ctx, void *ptr, size_t size)
{
	struct counting_alloc *a = ctx;
	if (!ptr)
		return;
	size_t *p = (size_t *)ptr - 2;
	if (p[0] != size)
		a->bad_free++;
	a->live_blocks--;
	a->live_bytes -= p[0];
	free(p);
}

static inline struct synack_allocator counting_allocator(struct counting_alloc *a)
{
	return (struct synack_allocator){counting_alloc_fn, counting_free_fn, a};
}

/* ---- a trace sink: the last state each host reached, fault counts, a hash of the run ---- */

struct h_trace {
	enum synack_tcp_state last_to[2]; /* per host: 0 client, 1 server */
	int state_changes[2];
	unsigned visited[2]; /* per host: 1 << state for every state entered */
	uint64_t lost, dup, corrupt, reorder, tx, retx;
	uint64_t rto, tlp; /* retransmission timeouts and tail-loss probes that fired */
	uint64_t hash; /* FNV-1a over (kind, t, host, seq, ack, flags, len) */
	bool print;    /* SYNACK_TRACE set */
};

static inline void h_hash(struct h_trace *t, uint64_t v)
{
	t->hash = (t->hash ^ v) * 1099511628211ull;
}

/* SYNACK_TRACE=1: one line per event on stderr, to see what a failing seed did. */
static inline void h_print(const struct synack_trace_event *ev)
{
	char fl[16] = "";
	if (ev->seg)
		synack_tcp_flags_str(ev->seg->flags, fl, sizeof(fl));
	fprintf(stderr, "%12llu %-6s %-7s", (unsigned long long)ev->t_us,
		ev->host ? ev->host : "?", synack_trace_kind_name(ev->kind));
	if (ev->seg)
		fprintf(stderr, " %-3s seq %u ack %u win %u len %zu%s", fl, ev->seg->seq,
			ev->seg->ack, ev->seg->win, ev->seg->len, ev->retx ? " retx" : "");
	if (ev->seg && (ev->kind == SYNACK_TRACE_TX || ev->kind == SYNACK_TRACE_RX))
		fprintf(stderr, " [cwnd %u srtt %u]", ev->cwnd, ev->srtt_us);
	if (ev->kind == SYNACK_TRACE_STATE)
		fprintf(stderr, " %s -> %s", synack_state_name(ev->from), synack_state_name(ev->to));
	if (ev->kind == SYNACK_TRACE_DROP)
		fprintf(stderr, " %s", synack_drop_reason_name(ev->reason));
	if (ev->kind == SYNACK_TRACE_TIMER)
		fprintf(stderr, " %s", synack_timer_name(ev->timer));
	if (ev->kind == SYNACK_TRACE_ERROR)
		fprintf(stderr, " err %d", ev->err);
	fputc('\n', stderr);
}

static inline void h_trace_fn(void *ctx, const struct synack_trace_event *ev)
{
	struct h_trace *t = ctx;
	int host = ev->host && strcmp(ev->host, "server") == 0;
	h_hash(t, ev->kind);
	h_hash(t, ev->t_us);
	h_hash(t, (uint64_t)host);
	if (ev->seg) {
		h_hash(t, ev->seg->seq);
		h_hash(t, ev->seg->ack);
		h_hash(t, (uint64_t)ev->seg->flags << 32 | ev->seg->len);
	}
	if (t->print)
		h_print(ev);
	switch (ev->kind) {
	case SYNACK_TRACE_STATE:
		t->last_to[host] = ev->to;
		t->visited[host] |= 1u << ev->to;
		t->state_changes[host]++;
		break;
	case SYNACK_TRACE_TX:
		t->tx++;
		t->retx += ev->retx;
		break;
	case SYNACK_TRACE_TIMER:
		t->rto += ev->timer == SYNACK_TIMER_RETRANSMIT;
		t->tlp += ev->timer == SYNACK_TIMER_TLP;
		break;
	case SYNACK_TRACE_LOST: t->lost++; break;
	case SYNACK_TRACE_DUP: t->dup++; break;
	case SYNACK_TRACE_CORRUPT: t->corrupt++; break;
	case SYNACK_TRACE_REORDER: t->reorder++; break;
	default: break;
	}
}

/* ---- the data: a seeded stream, byte i a function of (seed, i) --------------------------- */

static inline void h_fill(uint8_t *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
	for (size_t i = 0; i < len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t n = len - i < 8 ? len - i : 8;
		memcpy(buf + i, &x, n);
	}
}

/* ---- one endpoint's application: send everything, read everything, shut, close ---------- */

struct h_app {
	struct synack_stack *s;
	int fd;         /* the connection, or -1 */
	int lfd;        /* the server's listener, or -1 */
	const uint8_t *out;
	size_t out_len, sent;
	const uint8_t *want; /* what the peer sends */
	size_t want_len, got;
	bool connected, shut, eof, closed, mismatch;
	uint8_t *echo;  /* echo mode: what was received is kept here and sent back */
	bool shut_after_eof; /* do not shut the write half before the peer's FIN */
	size_t read_chunk;   /* at most this many bytes read per turn, 0: no limit */
	int err;        /* the first unexpected error */
	char what[96];  /* where it happened */
};

static inline void h_fail(struct h_app *a, int err, const char *what)
{
	if (a->err)
		return;
	a->err = err ? err : -1;
	snprintf(a->what, sizeof(a->what), "%s", what);
}

static inline void h_app_accept(struct h_app *a)
{
	if (a->fd >= 0 || a->lfd < 0)
		return;
	int fd = synack_accept(a->s, a->lfd, NULL);
	if (fd == -EAGAIN)
		return;
	if (fd < 0)
		return h_fail(a, fd, "accept");
	a->fd = fd;
	a->connected = true;
	int rc = synack_close(a->s, a->lfd); /* one connection is all this server takes */
	if (rc < 0)
		h_fail(a, rc, "close(listener)");
	a->lfd = -1;
}

static inline void h_app_send(struct h_app *a)
{
	if (a->echo)
		a->out_len = a->got; /* send back everything received so far */
	while (a->sent < a->out_len) {
		ssize_t n = synack_send(a->s, a->fd, a->out + a->sent, a->out_len - a->sent, 0);
		if (n == -EAGAIN)
			return;
		if (n <= 0)
			return h_fail(a, (int)n, "send");
		a->sent += (size_t)n;
	}
	if (a->shut_after_eof && !a->eof)
		return;
	if (!a->shut) {
		int rc = synack_shutdown(a->s, a->fd, SYNACK_SHUT_WR);
		if (rc < 0)
			return h_fail(a, rc, "shutdown");
		a->shut = true;
	}
}

static inline void h_app_recv(struct h_app *a)
{
	uint8_t buf[16384];
	size_t budget = a->read_chunk ? a->read_chunk : SIZE_MAX;
	while (!a->eof && budget > 0) {
		size_t want = budget < sizeof(buf) ? budget : sizeof(buf);
		ssize_t n = synack_recv(a->s, a->fd, buf, want, 0);
		if (n == -EAGAIN)
			return;
		if (n < 0)
			return h_fail(a, (int)n, "recv");
		if (n == 0) {
			a->eof = true;
			break;
		}
		if (a->got + (size_t)n > a->want_len ||
		    memcmp(buf, a->want + a->got, (size_t)n) != 0) {
			a->mismatch = true;
			return;
		}
		if (a->echo)
			memcpy(a->echo + a->got, buf, (size_t)n);
		a->got += (size_t)n;
		budget -= (size_t)n;
	}
}

/* Runs the application as far as it can go without blocking. */
static inline void h_app_run(struct h_app *a)
{
	if (a->closed || a->err)
		return;
	h_app_accept(a);
	if (a->fd < 0)
		return;
	if (!a->connected) {
		int ev = synack_events(a->s, a->fd);
		if (ev & SYNACK_EV_ERROR) {
			int e = 0;
			size_t l = sizeof(e);
			synack_getsockopt(a->s, a->fd, SYNACK_SOL_SOCKET, SYNACK_SO_ERROR, &e, &l);
			return h_fail(a, e, "connect");
		}
		if (!(ev & SYNACK_EV_WRITABLE))
			return;
		a->connected = true;
	}
	h_app_send(a);
	if (a->err)
		return;
	h_app_recv(a);
	if (a->err)
		return;
	h_app_send(a); /* an echo has more to send, a late closer may shut now */
	if (a->err || !a->shut || !a->eof)
		return;
	int rc = synack_close(a->s, a->fd);
	if (rc < 0)
		return h_fail(a, rc, "close");
	a->closed = true;
	a->fd = -1;
}

/* A number that grows whenever the application gets anywhere. */
static inline size_t h_app_progress(const struct h_app *a)
{
	return a->sent + a->got + a->shut + a->eof + a->closed + a->connected + (a->fd >= 0);
}

/* ---- a whole transfer ----------------------------------------------------------------------- */

/* Who sends what and who closes first. */
enum h_mode {
	H_BY_SEED,    /* one of the three below, from the seed */
	H_CONCURRENT, /* each sends its own stream and shuts when done: closes usually cross */
	H_ECHO,       /* the server echoes the client's stream and shuts after the client's FIN:
			 the client closes actively (TIME-WAIT), the server passively (LAST-ACK) */
	H_SERVER_FIRST, /* each sends its own stream; the client waits for the server's FIN
			   before shutting: the server closes actively */
};

struct h_profile {
	const char *name;
	struct synack_sim_path path;
	struct synack_fault_params fault; /* applied on both hosts' outgoing frames */
	bool faults;
	uint8_t syn_retries, synack_retries; /* 0: Linux defaults */
	uint16_t mss;            /* 0: default */
	uint32_t sndbuf, rcvbuf; /* 0: default */
	bool no_options;         /* no timestamps, SACK or window scaling */
	size_t read_chunk;       /* a slow reader: at most this many bytes per turn (0: all) */
	bool ipv6;               /* dual-stack hosts (also fd00::1 and fd00::2), talking IPv6 */
};

/* The hosts' IPv6 addresses in an ipv6 profile: fd00::1 (client), fd00::2 (server). */
static inline struct synack_addr h_addr6(int i)
{
	uint8_t b[16] = {0xfd, [15] = (uint8_t)(i + 1)};
	return synack_addr_v6(b);
}

struct h_result {
	bool ok;
	char why[256];
	uint64_t end_us;      /* virtual time when the world went quiet */
	uint64_t done_us;     /* virtual time when both sides had every byte (0: never) */
	uint64_t steps;
	struct h_trace trace;
	size_t live_after[2], baseline[2];
	size_t leaked_blocks[2];
	int bad_free;
};

static inline void h_count_visit(void *ctx, int fd, const struct synack_tcp_info *info)
{
	(*(int *)ctx)++;
}

static inline int h_conns(const struct synack_stack *s)
{
	int n = 0;
	synack_stack_foreach(s, h_count_visit, &n);
	return n;
}

#define H_FAIL(r, ...)                                                                         \
	do {                                                                                   \
		snprintf((r)->why, sizeof((r)->why), __VA_ARGS__);                             \
		(r)->ok = false;                                                               \
	} while (0)

/* Runs one transfer of `bytes` each way under profile p with the given seed. */
/* Everything one transfer holds. */
struct h_world {
	const struct h_profile *p;
	enum h_mode mode;
	size_t bytes;
	uint8_t *cdata, *sdata; /* what the client sends, what the server sends */
	struct counting_alloc ca[2];
	struct synack_sim *sim;
	struct synack_stack *st[2];
	struct h_app app[2];
	bool busy;     /* still had events after the time limit */
	bool livelock; /* the clock stopped moving */
};

static const char *const h_names[2] = {"client", "server"};
#define H_LIMIT_US (4ull * 3600 * 1000000) /* 4 virtual hours */

static inline int h_add_hosts(struct h_world *w, struct h_result *r)
{
	const struct h_profile *p = w->p;
	const uint32_t addrs[2] = {H_CLIENT_ADDR, H_SERVER_ADDR};
	for (int i = 0; i < 2; i++) {
		struct synack_config cfg;
		synack_config_default(&cfg);
		cfg.name = h_names[i];
		synack_config_add_addr(&cfg, synack_addr_v4(addrs[i]), 24);
		if (p->ipv6)
			synack_config_add_addr(&cfg, h_addr6(i), 64);
		cfg.allocator = counting_allocator(&w->ca[i]);
		cfg.trace = h_trace_fn;
		cfg.trace_ctx = &r->trace;
		if (p->syn_retries)
			cfg.syn_retries = p->syn_retries;
		if (p->synack_retries)
			cfg.synack_retries = p->synack_retries;
		if (p->mss)
			cfg.mss = p->mss;
		if (p->sndbuf)
			cfg.sndbuf = p->sndbuf;
		if (p->rcvbuf)
			cfg.rcvbuf = p->rcvbuf;
		if (p->no_options)
			cfg.timestamps = cfg.sack = cfg.window_scaling = false;
		struct synack_sim_host_opts o = {.path = p->path,
						 .fault = p->faults ? &p->fault : NULL};
		int rc = synack_sim_add_host(w->sim, &cfg, &o, &w->st[i]);
		if (rc != 0) {
			H_FAIL(r, "add_host(%s): %d", h_names[i], rc);
			return rc;
		}
		r->baseline[i] = synack_stack_live_allocs(w->st[i]);
	}
	return 0;
}

/* The applications for the mode; the server listens on :80 and the client connects. */
static inline int h_start_apps(struct h_world *w, struct h_result *r)
{
	struct h_app *app = w->app;
	app[0] = (struct h_app){.s = w->st[0], .fd = -1, .lfd = -1, .out = w->cdata,
				.out_len = w->bytes, .want = w->sdata, .want_len = w->bytes};
	app[1] = (struct h_app){.s = w->st[1], .fd = -1, .lfd = -1, .out = w->sdata,
				.out_len = w->bytes, .want = w->cdata, .want_len = w->bytes};
	app[0].read_chunk = app[1].read_chunk = w->p->read_chunk;
	if (w->mode == H_ECHO) {
		app[1].echo = w->sdata; /* filled as the data arrives, sent back from there */
		app[1].out_len = 0;
		app[1].shut_after_eof = true;
	}
	if (w->mode == H_SERVER_FIRST)
		app[0].shut_after_eof = true;
	struct synack_endpoint srv = {w->p->ipv6 ? h_addr6(1) : synack_addr_v4(H_SERVER_ADDR),
				      H_PORT};
	app[1].lfd = synack_socket(w->st[1]);
	if (app[1].lfd < 0 || synack_bind(w->st[1], app[1].lfd, &srv) != 0 ||
	    synack_listen(w->st[1], app[1].lfd, 16) != 0) {
		H_FAIL(r, "server setup");
		return -1;
	}
	app[0].fd = synack_socket(w->st[0]);
	int rc = synack_connect(w->st[0], app[0].fd, &srv);
	if (rc != -EINPROGRESS) {
		H_FAIL(r, "connect returned %d", rc);
		return -1;
	}
	return 0;
}

/* Applications, then one step of the world, until nothing is left to happen. */
static inline void h_drive(struct h_world *w, struct h_result *r)
{
	uint64_t last_t = SYNACK_TIME_NEVER, same_t = 0;
	for (;;) {
		size_t before = h_app_progress(&w->app[0]) + h_app_progress(&w->app[1]);
		h_app_run(&w->app[0]);
		h_app_run(&w->app[1]);
		bool moved = h_app_progress(&w->app[0]) + h_app_progress(&w->app[1]) != before;
		uint64_t next = synack_sim_next_event(w->sim);
		if (next == SYNACK_TIME_NEVER && moved)
			continue; /* a slow reader still has buffered bytes to take */
		if (next == SYNACK_TIME_NEVER)
			break; /* quiet: every timer, TIME-WAIT included, has run out */
		if (next > H_LIMIT_US) {
			w->busy = true;
			break;
		}
		synack_sim_step(w->sim, H_LIMIT_US);
		r->steps++;
		if (!r->done_us && w->app[0].got == w->bytes && w->app[1].got == w->bytes)
			r->done_us = synack_sim_now(w->sim);
		/* An engine whose deadline stays due, or two stacks answering each other at zero
		 * delay, would spin here forever: make that a failure, not a hang. */
		same_t = synack_sim_now(w->sim) == last_t ? same_t + 1 : 0;
		last_t = synack_sim_now(w->sim);
		if (same_t > 100000) {
			w->livelock = true;
			break;
		}
	}
	r->end_us = synack_sim_now(w->sim);
}

/* Data byte-exact, both closed, both CLOSED with nothing left, the right side in TIME-WAIT. */
static inline void h_check_end(struct h_world *w, struct h_result *r)
{
	for (int i = 0; i < 2 && r->ok; i++) {
		const struct h_app *a = &w->app[i];
		const char *n = h_names[i];
		if (a->err)
			H_FAIL(r, "%s: %s failed with %d", n, a->what, a->err);
		else if (a->mismatch || a->got != w->bytes)
			H_FAIL(r, "%s: received %zu of %zu bytes%s", n, a->got, w->bytes,
			       a->mismatch ? ", not byte-exact" : "");
		else if (!a->closed)
			H_FAIL(r, "%s: never closed (sent %zu, shut %d, eof %d)", n, a->sent,
			       a->shut, a->eof);
		else if (r->trace.last_to[i] != SYNACK_CLOSED)
			H_FAIL(r, "%s: last state %s, not CLOSED", n,
			       synack_state_name(r->trace.last_to[i]));
		else if (h_conns(w->st[i]) != 0)
			H_FAIL(r, "%s: %d connections left", n, h_conns(w->st[i]));
	}
	/* Who closed first is up to the mode, where the mode decides it. */
	const unsigned tw = 1u << SYNACK_TIME_WAIT, la = 1u << SYNACK_LAST_ACK;
	const unsigned *v = r->trace.visited;
	int act = w->mode == H_ECHO ? 0 : w->mode == H_SERVER_FIRST ? 1 : -1;
	if (r->ok && act >= 0 &&
	    (!(v[act] & tw) || (v[act] & la) || !(v[!act] & la) || (v[!act] & tw)))
		H_FAIL(r, "%s should have closed first (TIME-WAIT) and %s last (LAST-ACK)",
		       h_names[act], h_names[!act]);
	if (w->livelock)
		H_FAIL(r, "livelock: 100000 steps at t=%llu us", (unsigned long long)r->end_us);
	if (r->ok && w->busy)
		H_FAIL(r, "still busy after %llu us", (unsigned long long)H_LIMIT_US);
	for (int i = 0; i < 2; i++) {
		struct synack_counters c;
		synack_stack_counters(w->st[i], &c);
		uint64_t v4 = c.v[SYNACK_CTR_IpInReceives], v6 = c.v[SYNACK_CTR_Ip6InReceives];
		if (r->ok && (w->p->ipv6 ? v4 != 0 || v6 == 0 : v6 != 0))
			H_FAIL(r, "%s received %llu IPv4 and %llu IPv6 packets", h_names[i],
			       (unsigned long long)v4, (unsigned long long)v6);
		r->live_after[i] = synack_stack_live_allocs(w->st[i]);
		if (r->ok && r->live_after[i] != r->baseline[i])
			H_FAIL(r, "%s: %zu live allocations after close, %zu in a fresh stack",
			       h_names[i], r->live_after[i], r->baseline[i]);
	}
}

/* After synack_sim_destroy: the counting allocators must be empty. */
static inline void h_check_destroyed(struct h_world *w, struct h_result *r)
{
	for (int i = 0; i < 2; i++) {
		r->leaked_blocks[i] = w->ca[i].live_blocks;
		r->bad_free += w->ca[i].bad_free;
		if (r->ok && w->ca[i].live_blocks != 0)
			H_FAIL(r, "%s: destroy left %zu blocks", h_names[i], w->ca[i].live_blocks);
		if (r->ok && w->ca[i].bad_free)
			H_FAIL(r, "%s: %d frees with the wrong size", h_names[i],
			       w->ca[i].bad_free);
	}
}

/* Runs one transfer of `bytes` each way under profile p with the given seed. */
static inline void h_transfer(const struct h_profile *p, uint64_t seed, size_t bytes,
			      enum h_mode mode, struct h_result *r)
{
	struct h_world w = {.p = p, .bytes = bytes, .mode = mode};
	if (w.mode == H_BY_SEED)
		w.mode = (enum h_mode)(H_CONCURRENT + seed % 3);
	memset(r, 0, sizeof(*r));
	r->ok = true;
	r->trace.hash = 1469598103934665603ull;
	r->trace.print = getenv("SYNACK_TRACE") != NULL;
	w.cdata = malloc(bytes ? bytes : 1);
	w.sdata = malloc(bytes ? bytes : 1);
	h_fill(w.cdata, bytes, seed * 2 + 1);
	h_fill(w.sdata, bytes, seed * 2 + 2);
	if (w.mode == H_ECHO)
		memcpy(w.sdata, w.cdata, bytes); /* the client gets its own stream back */
	if (synack_sim_new(&w.sim, seed) != 0) {
		H_FAIL(r, "sim_new");
	} else {
		if (h_add_hosts(&w, r) == 0 && h_start_apps(&w, r) == 0) {
			h_drive(&w, r);
			h_check_end(&w, r);
		}
		synack_sim_destroy(w.sim);
		h_check_destroyed(&w, r);
	}
	free(w.cdata);
	free(w.sdata);
}

#endif
