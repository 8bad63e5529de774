/* Running a demo scenario: build the world, drive the applications between simulation steps
 * until nothing is left to happen, draw every trace event, write the summary.
 *
 * The world: a client stack (10.0.0.1, or 2001:db8::1 over IPv6) and a server stack (10.0.0.2,
 * or 2001:db8::2) on a synack_sim, each sending through a fault decorator (the
 * --loss/--dup/--reorder/--corrupt rates plus the scenario's own per-frame verdicts: drop this
 * ACK, hold that SYN). After every step both
 * stacks are polled at the current time and each host's little application (demo_app) reads,
 * writes and closes as its flags say. The run ends when no frame is in flight, no timer is
 * armed and the scenario has nothing scheduled — or at the time limit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "demo/world.h"

#define DEMO_LIMIT_MS_DEFAULT 1000000ull

static const char *const host_names[2] = {"client", "server"};
static const uint32_t host_addrs[2] = {SYNACK_DEMO_CLIENT_ADDR, SYNACK_DEMO_SERVER_ADDR};
static const uint8_t host_addrs6[2][16] = {SYNACK_DEMO_CLIENT_ADDR6, SYNACK_DEMO_SERVER_ADDR6};
static const uint16_t host_ports[2] = {SYNACK_DEMO_CLIENT_PORT, SYNACK_DEMO_SERVER_PORT};

static struct synack_addr host_addr(const struct demo *d, int who)
{
	return d->o->ipv6 ? synack_addr_v6(host_addrs6[who]) : synack_addr_v4(host_addrs[who]);
}

struct synack_endpoint demo_host_ep(const struct demo *d, int who)
{
	return (struct synack_endpoint){host_addr(d, who), host_ports[who]};
}

void synack_demo_opts_default(struct synack_demo_opts *o)
{
	memset(o, 0, sizeof *o);
	o->format = SYNACK_LADDER_TEXT;
	o->out = stdout;
	o->delay_ms = 10;
	o->seed = 1;
	o->bytes = 1u << 20;
	o->syn_retries = -1;
	o->synack_retries = -1;
	o->syncookies = -1;
	o->limit_ms = DEMO_LIMIT_MS_DEFAULT;
}

const struct synack_demo_scenario *synack_demo_list(size_t *n)
{
	static struct synack_demo_scenario pubs[32];
	for (size_t i = 0; i < synack_demo_ndefs && i < 32; i++)
		pubs[i] = synack_demo_defs[i]->pub;
	*n = synack_demo_ndefs;
	return pubs;
}

static const struct demo_scenario_def *find_def(const char *name)
{
	for (size_t i = 0; i < synack_demo_ndefs; i++)
		if (!strcmp(synack_demo_defs[i]->pub.name, name))
			return synack_demo_defs[i];
	return NULL;
}

const struct synack_demo_scenario *synack_demo_find(const char *name)
{
	const struct demo_scenario_def *def = name ? find_def(name) : NULL;
	return def ? &def->pub : NULL;
}

/* ---- helpers for scenarios ------------------------------------------------------------- */

uint64_t demo_now(const struct demo *d)
{
	return synack_sim_now(d->sim);
}

static int failed(struct demo *d, const char *what, int err)
{
	char b[16];
	if (err >= 0 || err == -EINPROGRESS)
		return 0;
	if (!d->fail) {
		d->fail = err;
		fprintf(stderr, "synack demo %s: %s failed: %s\n", d->def->pub.name, what,
			synack_errno_name(err, b, sizeof b));
	}
	return err;
}

int demo_listen(struct demo *d, int backlog)
{
	struct demo_app *a = &d->app[DEMO_SERVER];
	struct synack_endpoint ep = demo_host_ep(d, DEMO_SERVER);
	int fd = synack_socket(a->s);
	if (fd < 0)
		return failed(d, "socket", fd);
	int err = synack_bind(a->s, fd, &ep);
	if (!err)
		err = synack_listen(a->s, fd, backlog);
	if (err)
		return failed(d, "bind/listen", err);
	a->lfd = fd;
	return 0;
}

int demo_connect(struct demo *d, int who)
{
	struct demo_app *a = &d->app[who];
	struct synack_endpoint me = demo_host_ep(d, who);
	struct synack_endpoint peer = demo_host_ep(d, !who);
	int fd = a->fd >= 0 ? a->fd : synack_socket(a->s);
	if (fd < 0)
		return failed(d, "socket", fd);
	a->fd = fd;
	int err = synack_bind(a->s, fd, &me);
	if (err)
		return failed(d, "bind", err);
	return failed(d, "connect", synack_connect(a->s, fd, &peer));
}

int demo_setsockopt_int(struct demo *d, int who, int level, int name, int val)
{
	struct demo_app *a = &d->app[who];
	if (a->fd < 0)
		a->fd = synack_socket(a->s);
	if (a->fd < 0)
		return failed(d, "socket", a->fd);
	return failed(d, "setsockopt", synack_setsockopt(a->s, a->fd, level, name, &val, sizeof val));
}

void demo_app_queue(struct demo_app *a, const void *data, size_t len)
{
	if (a->out_len + len > a->out_cap) {
		size_t cap = a->out_cap ? a->out_cap : 256;
		while (cap < a->out_len + len)
			cap *= 2;
		uint8_t *p = realloc(a->out, cap);
		if (!p)
			return; /* the summary will show the bytes missing */
		a->out = p;
		a->out_cap = cap;
	}
	memcpy(a->out + a->out_len, data, len);
	a->out_len += len;
}

void demo_echo_apps(struct demo *d, const char *msg)
{
	struct demo_app *c = &d->app[DEMO_CLIENT], *s = &d->app[DEMO_SERVER];
	demo_app_queue(c, msg, strlen(msg));
	c->out_done = true;
	c->close_after_in = strlen(msg);
	s->echo = true;
	s->close_on_eof = true;
}

void demo_release_held(struct demo *d)
{
	if (!d->held_len)
		return;
	synack_sim_inject(d->sim, d->app[d->held_to].s, d->held, d->held_len);
	d->held_len = 0;
}

/* ---- trace: remember what the summary needs, draw everything ----------------------------- */

static bool is_client_conn(const struct demo *d, const struct synack_trace_event *ev, int who)
{
	struct synack_endpoint me = demo_host_ep(d, who);
	struct synack_endpoint peer = demo_host_ep(d, !who);
	return ev->has_conn && synack_addr_eq(&ev->local.addr, &me.addr) &&
	       ev->local.port == me.port && synack_addr_eq(&ev->remote.addr, &peer.addr) &&
	       ev->remote.port == peer.port;
}

static void demo_trace(void *ctx, const struct synack_trace_event *ev)
{
	struct demo *d = ctx;
	int who = ev->host && !strcmp(ev->host, "server") ? DEMO_SERVER : DEMO_CLIENT;
	if (ev->kind == SYNACK_TRACE_STATE && is_client_conn(d, ev, who)) {
		d->final[who] = ev->to;
		d->seen[who] = true;
	}
	if (ev->kind == SYNACK_TRACE_ERROR && !d->first_err[who])
		d->first_err[who] = ev->err;
	if (d->def->show && !d->def->show(d, ev)) {
		d->hidden++;
		return;
	}
	synack_ladder_event(d->ladder, ev);
}

/* The link's events: a frame the scenario holds back is reported as held (REORDER), which it
 * is — the scenario plays the network and delivers it later — not as lost. */
static void demo_fault_trace(void *ctx, const struct synack_trace_event *ev)
{
	struct demo_host_ctx *h = ctx;
	struct demo *d = h->d;
	if (ev->kind == SYNACK_TRACE_LOST && d->held_len && ev->frame_len == d->held_len &&
	    !memcmp(ev->frame, d->held, d->held_len)) {
		struct synack_trace_event copy = *ev;
		copy.kind = SYNACK_TRACE_REORDER;
		demo_trace(d, &copy);
		return;
	}
	demo_trace(d, ev);
}

static bool demo_drop_if(void *ctx, const uint8_t *frame, size_t len, uint64_t now_us)
{
	struct demo_host_ctx *h = ctx;
	struct demo *d = h->d;
	struct synack_ip_hdr ip;
	struct synack_tcp_seg seg;
	const uint8_t *tp;
	size_t tlen;
	if (synack_ip_parse(frame, len, &ip, &tp, &tlen) < 0 || ip.proto != SYNACK_PROTO_TCP ||
	    ip.fragment)
		return false;
	if (synack_tcp_parse(tp, tlen, &ip.src, &ip.dst, false, &seg) < 0)
		return false;
	for (int w = 0; w < 2; w++) {
		struct synack_addr a = host_addr(d, w);
		if (d->blackhole[w] && synack_addr_eq(&ip.dst, &a))
			return true;
	}
	if (!d->def->filter)
		return false;
	enum demo_verdict v = d->def->filter(d, h->who, &ip, &seg);
	if (v == DEMO_HOLD && len <= sizeof d->held && !d->held_len) {
		memcpy(d->held, frame, len);
		d->held_len = len;
		d->held_to = !h->who;
	}
	return v != DEMO_PASS;
}

/* ---- the world ----------------------------------------------------------------------------- */

static int add_host(struct demo *d, int who)
{
	const struct synack_demo_opts *o = d->o;
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.name = host_names[who];
	synack_config_add_addr(&cfg, host_addr(d, who), o->ipv6 ? 64 : 24);
	cfg.trace = demo_trace;
	cfg.trace_ctx = d;
	if (o->mss)
		cfg.mss = o->mss;
	if (o->msl_ms)
		cfg.msl_ms = o->msl_ms;
	if (d->def->config)
		d->def->config(d, who, &cfg);
	if (o->syn_retries >= 0)
		cfg.syn_retries = (uint8_t)o->syn_retries;
	if (o->synack_retries >= 0)
		cfg.synack_retries = (uint8_t)o->synack_retries;
	if (o->syncookies >= 0)
		cfg.syncookies = (uint8_t)o->syncookies;
	d->hctx[who] = (struct demo_host_ctx){d, who};
	d->fault[who] = (struct synack_fault_params){
		.loss = o->loss, .dup = o->dup, .reorder = o->reorder, .corrupt = o->corrupt,
		.drop_if = demo_drop_if, .drop_ctx = &d->hctx[who],
		.trace = demo_fault_trace, .trace_ctx = &d->hctx[who], .host = host_names[who]};
	struct synack_sim_host_opts ho = {
		.path = {.delay_us = o->delay_ms * 1000, .jitter_us = o->jitter_ms * 1000},
		.fault = &d->fault[who],
		/* The capture sits outside the fault decorator: it shows what the client sent
		 * (lost frames included) and what reached it, like tcpdump on its interface. */
		.pcap_path = who == DEMO_CLIENT ? o->pcap_path : NULL};
	struct demo_app *a = &d->app[who];
	a->fd = a->lfd = -1;
	synack_sha256_init(&a->sent_h);
	synack_sha256_init(&a->recv_h);
	return synack_sim_add_host(d->sim, &cfg, &ho, &a->s);
}

/* ---- the applications ------------------------------------------------------------------- */

static void app_close(struct demo *d, struct demo_app *a)
{
	if (a->closed || a->fd < 0)
		return;
	(void)synack_close(a->s, a->fd);
	a->closed = true;
}

static void app_read(struct demo_app *a)
{
	uint8_t buf[16384];
	for (;;) {
		ssize_t n = synack_recv(a->s, a->fd, buf, sizeof buf, 0);
		if (n > 0) {
			synack_sha256_update(&a->recv_h, buf, (size_t)n);
			a->recvd += (uint64_t)n;
			if (a->echo)
				demo_app_queue(a, buf, (size_t)n);
			continue;
		}
		if (n == 0 && !a->eof) {
			a->eof = true;
			if (a->eof_reply)
				demo_app_queue(a, a->eof_reply, a->eof_reply_len);
			if (a->echo || a->eof_reply)
				a->out_done = true;
		} else if (n < 0 && n != -EAGAIN && n != -ENOTCONN && !a->err) {
			a->err = (int)n;
		}
		return;
	}
}

static void app_write(struct demo *d, struct demo_app *a)
{
	struct synack_tcp_info ti;
	if (!a->connected && synack_tcp_info(a->s, a->fd, &ti) == 0 &&
	    (ti.state == SYNACK_ESTABLISHED || ti.state == SYNACK_CLOSE_WAIT))
		a->connected = true;
	if (!a->connected || a->shut || demo_now(d) < a->send_at)
		return;
	while (a->out_off < a->out_len) {
		size_t n = a->out_len - a->out_off;
		ssize_t k = synack_send(a->s, a->fd, a->out + a->out_off, n > 65536 ? 65536 : n, 0);
		if (k <= 0) {
			if (k < 0 && k != -EAGAIN && !a->err)
				a->err = (int)k;
			return;
		}
		synack_sha256_update(&a->sent_h, a->out + a->out_off, (size_t)k);
		a->out_off += (size_t)k;
		a->sent += (uint64_t)k;
	}
}

static void app_pump(struct demo *d, struct demo_app *a)
{
	if (a->closed)
		return;
	if (a->fd < 0 && a->lfd >= 0) {
		int fd = synack_accept(a->s, a->lfd, NULL);
		if (fd >= 0)
			a->fd = fd;
	}
	if (a->fd < 0)
		return;
	app_read(a);
	app_write(d, a);
	bool all_sent = a->out_done && a->out_off == a->out_len;
	if (a->err) {
		app_close(d, a);
		return;
	}
	if (all_sent && a->shut_after_send && !a->shut) {
		(void)synack_shutdown(a->s, a->fd, SYNACK_SHUT_WR);
		a->shut = true;
	}
	if (all_sent && (a->close_after_send || (a->eof && a->close_on_eof) ||
			 (a->close_after_in && a->recvd >= a->close_after_in)))
		app_close(d, a);
}

static void pump_all(struct demo *d)
{
	for (int w = 0; w < 2; w++)
		(void)synack_stack_poll(d->app[w].s, demo_now(d));
	/* Twice: what one application does can unblock the other at the same instant. */
	for (int round = 0; round < 2; round++)
		for (int w = 0; w < 2; w++)
			app_pump(d, &d->app[w]);
}

/* Steps until nothing is left to happen or the limit; returns true at the limit. */
static bool run(struct demo *d)
{
	uint64_t limit = d->o->limit_ms * 1000;
	pump_all(d);
	for (;;) {
		uint64_t now = demo_now(d);
		if (d->wake_at != SYNACK_TIME_NEVER && d->wake_at < now)
			d->wake_at = now;
		if (synack_sim_next_event(d->sim) == SYNACK_TIME_NEVER &&
		    d->wake_at == SYNACK_TIME_NEVER)
			return false;
		uint64_t stop = d->wake_at < limit ? d->wake_at : limit;
		if (!synack_sim_step(d->sim, stop)) {
			if (stop != d->wake_at)
				return true;
			d->wake_at = SYNACK_TIME_NEVER;
			if (d->def->tick)
				d->def->tick(d);
		}
		pump_all(d);
	}
}

/* ---- the summary ---------------------------------------------------------------------------- */

static void digest(const struct synack_sha256 *h, char hex[65])
{
	struct synack_sha256 c = *h;
	uint8_t dg[SYNACK_SHA256_LEN];
	synack_sha256_final(&c, dg);
	synack_sha256_hex(dg, hex);
}

static void fill_result(struct demo *d, bool hit_limit, struct synack_demo_result *r)
{
	const struct demo_app *tx = &d->app[d->def->stream], *rx = &d->app[!d->def->stream];
	memset(r, 0, sizeof *r);
	r->sent_bytes = tx->sent;
	r->recv_bytes = rx->recvd;
	digest(&tx->sent_h, r->sent_sha256);
	digest(&rx->recv_h, r->recv_sha256);
	r->client_final = d->final[DEMO_CLIENT];
	r->server_final = d->final[DEMO_SERVER];
	r->client_err = d->first_err[DEMO_CLIENT];
	r->server_err = d->first_err[DEMO_SERVER];
	r->end_us = demo_now(d);
	r->hit_limit = hit_limit;
}

static void print_summary(const struct demo *d, const struct synack_demo_result *r)
{
	FILE *f = d->o->out;
	char b[16];
	if (d->o->format == SYNACK_LADDER_JSONL) {
		fprintf(f, "{\"ev\":\"summary\",\"sent_bytes\":%llu,\"recv_bytes\":%llu,"
			   "\"sent_sha256\":\"%s\",\"recv_sha256\":\"%s\",\"client_final\":\"%s\","
			   "\"server_final\":\"%s\"}\n",
			(unsigned long long)r->sent_bytes, (unsigned long long)r->recv_bytes,
			r->sent_sha256, r->recv_sha256, synack_state_name(r->client_final),
			synack_state_name(r->server_final));
		return;
	}
	if (d->o->format != SYNACK_LADDER_TEXT)
		f = stderr; /* an SVG or HTML document stays well-formed */
	const char *dir = d->def->stream == DEMO_CLIENT ? "client->server" : "server->client";
	if (!r->sent_bytes && !r->recv_bytes)
		fprintf(f, "\nsummary: no data exchanged\n");
	else
		fprintf(f, "\nsummary: %s %llu bytes sent, %llu received, sha256 %s (%.16s...)\n",
			dir, (unsigned long long)r->sent_bytes, (unsigned long long)r->recv_bytes,
			strcmp(r->sent_sha256, r->recv_sha256) ? "DIFFERS" : "equal",
			r->recv_sha256);
	fprintf(f, "         client %s", synack_state_name(r->client_final));
	if (r->client_err)
		fprintf(f, " (%s)", synack_errno_name(r->client_err, b, sizeof b));
	fprintf(f, ", server %s", synack_state_name(r->server_final));
	if (r->server_err)
		fprintf(f, " (%s)", synack_errno_name(r->server_err, b, sizeof b));
	fprintf(f, "; virtual time %llu.%06llu s%s\n", (unsigned long long)(r->end_us / 1000000),
		(unsigned long long)(r->end_us % 1000000),
		r->hit_limit ? " (stopped at the time limit)" : "");
}

/* ---- running ------------------------------------------------------------------------------ */

static void title(const struct demo *d, char *buf, size_t cap)
{
	const struct synack_demo_opts *o = d->o;
	const struct synack_demo_scenario *p = &d->def->pub;
	int n = snprintf(buf, cap, "synack demo --scenario %s\n  %s\n", p->name, p->question);
	if (p->notes)
		n += snprintf(buf + n, cap - (size_t)n, "  (%s)\n", p->notes);
	snprintf(buf + n, cap - (size_t)n,
		 "  link: %sone-way delay %u ms, jitter %u ms, loss %g, dup %g, reorder %g, corrupt "
		 "%g; seed %llu",
		 o->ipv6 ? "IPv6, " : "", o->delay_ms, o->jitter_ms, o->loss, o->dup, o->reorder,
		 o->corrupt, (unsigned long long)o->seed);
}

static void world_free(struct demo *d)
{
	synack_sim_destroy(d->sim);
	synack_ladder_free(d->ladder);
	for (int w = 0; w < 2; w++)
		free(d->app[w].out);
}

static int world_new(struct demo *d, char *ttl, size_t cap)
{
	const struct synack_demo_opts *o = d->o;
	title(d, ttl, cap);
	struct synack_ladder_opts lo = {
		.format = o->format, .out = o->out, .left = "client", .right = "server",
		.left_addr = host_addr(d, DEMO_CLIENT), .right_addr = host_addr(d, DEMO_SERVER),
		.absolute = o->absolute || d->def->absolute,
		.verbose = o->verbose, .raw_window = o->raw_window,
		.max_rows = o->max_rows ? o->max_rows : d->def->max_rows, .title = ttl};
	int err = synack_ladder_new(&d->ladder, &lo);
	if (!err)
		err = synack_sim_new(&d->sim, o->seed);
	for (int w = 0; !err && w < 2; w++)
		err = add_host(d, w);
	return err;
}

int synack_demo_run(const struct synack_demo_opts *o, struct synack_demo_result *res)
{
	const struct demo_scenario_def *def = find_def(o->scenario ? o->scenario : "handshake");
	if (!def)
		return -ENOENT;
	if (!o->out || o->loss < 0 || o->loss > 1 || o->dup < 0 || o->dup > 1 ||
	    o->reorder < 0 || o->reorder > 1 || o->corrupt < 0 || o->corrupt > 1)
		return -EINVAL;
	struct demo *d = calloc(1, sizeof *d);
	if (!d)
		return -ENOMEM;
	char ttl[512];
	d->o = o;
	d->def = def;
	d->wake_at = SYNACK_TIME_NEVER;
	synack_rng_seed(&d->rng, o->seed ^ 0x5eedd3e0u);
	int err = world_new(d, ttl, sizeof ttl);
	if (!err)
		err = def->setup(d);
	if (!err && d->fail)
		err = d->fail;
	struct synack_demo_result r;
	if (!err) {
		bool hit = run(d);
		fill_result(d, hit, &r);
		if (synack_ladder_finish(d->ladder) < 0)
			err = -EIO;
		print_summary(d, &r);
		if (res)
			*res = r;
	}
	world_free(d);
	free(d);
	return err;
}
