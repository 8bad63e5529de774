/* Captures made by the simulator (pcap_path of synack_sim_host_opts): synack's own stacks talk,
 * the client's link is captured, and the capture is drawn. Two checks per scenario:
 *   - the states inferred from the capture are the states the stacks' own trace says they went
 *     through (less what no wire can show: the end of TIME-WAIT, the listener's LISTEN);
 *   - the text ladder matches tests/render/golden/sim_NAME.txt exactly (SYNACK_UPDATE_GOLDEN=1
 *     rewrites it).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "render/conn.h"
#include "render/ladder.h"
#include "synack/synack.h"

#define CLI_ADDR 0x0a000001u
#define SRV_ADDR 0x0a000002u
#define CLI_PORT 40000

enum scen { CLIENT_CLOSES, SERVER_CLOSES, REFUSED, ABORT, LOSSY, SIMULTANEOUS, SIMULTANEOUS_OPEN };

struct world {
	enum scen scen;
	struct synack_sim *sim;
	struct synack_stack *cli, *srv;
	int cfd, lfd, sfd;
	size_t to_send, sent, rcvd;
	bool connected, cli_closed, srv_closed, cli_eof, srv_eof;
	char states[2][256]; /* the stacks' own STATE events for the client's connection */
};

static void trace(void *ctx, const struct synack_trace_event *ev)
{
	struct world *w = ctx;
	if (ev->kind != SYNACK_TRACE_STATE || !ev->has_conn || ev->remote.port == 0)
		return;
	int side = synack_addr_get_v4(&ev->local.addr) == SRV_ADDR;
	uint16_t cport = side ? ev->remote.port : ev->local.port;
	if (cport != CLI_PORT)
		return;
	char *p = w->states[side];
	size_t n = strlen(p);
	snprintf(p + n, sizeof w->states[0] - n, "%s%s", n ? " " : "", synack_state_name(ev->to));
}

static void client_app(struct world *w)
{
	static uint8_t buf[65536];
	if (w->cli_closed)
		return;
	while (w->sent < w->to_send) {
		ssize_t n = synack_send(w->cli, w->cfd, buf, w->to_send - w->sent, 0);
		if (n <= 0)
			break;
		w->sent += (size_t)n;
	}
	bool done = w->sent == w->to_send && w->sent > 0;
	if (w->scen == ABORT && done) {
		struct synack_linger lg = {1, 0};
		synack_setsockopt(w->cli, w->cfd, SYNACK_SOL_SOCKET, SYNACK_SO_LINGER, &lg,
				  sizeof lg);
		synack_close(w->cli, w->cfd);
		w->cli_closed = true;
		return;
	}
	if ((w->scen == CLIENT_CLOSES || w->scen == LOSSY || w->scen == SIMULTANEOUS_OPEN) &&
	    done) {
		synack_close(w->cli, w->cfd);
		w->cli_closed = true;
		return;
	}
	ssize_t n = synack_recv(w->cli, w->cfd, buf, sizeof buf, 0);
	if (n == 0 || (n < 0 && n != -EAGAIN && n != -ENOTCONN)) {
		synack_close(w->cli, w->cfd); /* the server closed first (or refused) */
		w->cli_closed = true;
	}
}

static void server_app(struct world *w)
{
	static uint8_t buf[65536];
	if (w->srv_closed || (w->lfd < 0 && w->sfd < 0))
		return;
	if (w->sfd < 0) {
		struct synack_endpoint peer;
		w->sfd = synack_accept(w->srv, w->lfd, &peer);
		if (w->sfd < 0)
			return;
	}
	ssize_t n;
	while ((n = synack_recv(w->srv, w->sfd, buf, sizeof buf, 0)) > 0)
		w->rcvd += (size_t)n;
	bool eof = n == 0 || (n < 0 && n != -EAGAIN);
	if ((w->scen == SERVER_CLOSES && w->rcvd >= 100) || eof) {
		synack_close(w->srv, w->sfd);
		synack_close(w->srv, w->lfd);
		w->srv_closed = true;
	}
}

/* Both applications close at the same virtual instant, once the data has arrived: the FINs
 * cross on the wire (RFC 9293 §3.6, Figure 13). */
static void simultaneous(struct world *w)
{
	static uint8_t buf[256];
	if (w->cli_closed)
		return;
	if (w->sent < w->to_send) {
		ssize_t n = synack_send(w->cli, w->cfd, buf, w->to_send - w->sent, 0);
		w->sent += n > 0 ? (size_t)n : 0;
	}
	if (w->sfd < 0) {
		struct synack_endpoint peer;
		w->sfd = synack_accept(w->srv, w->lfd, &peer);
	}
	ssize_t n;
	while (w->sfd >= 0 && (n = synack_recv(w->srv, w->sfd, buf, sizeof buf, 0)) > 0)
		w->rcvd += (size_t)n;
	if (w->rcvd < w->to_send || synack_sim_now(w->sim) < 200000)
		return;
	synack_close(w->cli, w->cfd);
	synack_close(w->srv, w->sfd);
	synack_close(w->srv, w->lfd);
	w->cli_closed = w->srv_closed = true;
}

/* Runs a scenario with the client's link captured to pcap. */
static void run(struct world *w, enum scen scen, const char *pcap)
{
	memset(w, 0, sizeof *w);
	w->scen = scen;
	w->lfd = w->sfd = -1;
	w->to_send = scen == LOSSY ? 60000 : 100;
	cr_assert_eq(synack_sim_new(&w->sim, 7), 0);
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.trace = trace;
	cfg.trace_ctx = w;
	cfg.msl_ms = 1000;
	cfg.name = "client";
	synack_config_add_addr(&cfg, synack_addr_v4(CLI_ADDR), 24);
	struct synack_fault_params loss = {.loss = 0.08, .host = "client"};
	struct synack_sim_host_opts ho = {.path = {.delay_us = 10000},
					  .pcap_path = pcap,
					  .fault = scen == LOSSY ? &loss : NULL};
	cr_assert_eq(synack_sim_add_host(w->sim, &cfg, &ho, &w->cli), 0);
	cfg.name = "server";
	cfg.addrs[0].addr = synack_addr_v4(SRV_ADDR); /* the same config, the other host */
	struct synack_sim_host_opts hs = {.path = {.delay_us = 10000}};
	cr_assert_eq(synack_sim_add_host(w->sim, &cfg, &hs, &w->srv), 0);
	if (scen != REFUSED && scen != SIMULTANEOUS_OPEN) {
		w->lfd = synack_socket(w->srv);
		struct synack_endpoint l = {synack_addr_v4(SRV_ADDR), 80};
		cr_assert_eq(synack_bind(w->srv, w->lfd, &l), 0);
		cr_assert_eq(synack_listen(w->srv, w->lfd, 8), 0);
	}
	if (scen == SIMULTANEOUS_OPEN) { /* the server connects to the client at once too */
		w->sfd = synack_socket(w->srv);
		struct synack_endpoint l = {synack_addr_v4(SRV_ADDR), 80},
				       r = {synack_addr_v4(CLI_ADDR), CLI_PORT};
		cr_assert_eq(synack_bind(w->srv, w->sfd, &l), 0);
		cr_assert_eq(synack_connect(w->srv, w->sfd, &r), -EINPROGRESS);
	}
	w->cfd = synack_socket(w->cli);
	struct synack_endpoint c = {synack_addr_v4(CLI_ADDR), CLI_PORT},
			       s = {synack_addr_v4(SRV_ADDR), 80};
	cr_assert_eq(synack_bind(w->cli, w->cfd, &c), 0);
	cr_assert_eq(synack_connect(w->cli, w->cfd, &s), -EINPROGRESS);
	if (scen == SIMULTANEOUS) {
		while (synack_sim_step(w->sim, 200000)) /* the clock stops at 200 ms */
			simultaneous(w);
		simultaneous(w);
	}
	while (synack_sim_step(w->sim, 120000000ull)) {
		client_app(w);
		server_app(w);
	}
	synack_sim_destroy(w->sim); /* closes the capture */
}

/* The stack's states, less what a capture cannot show: the CLOSED that ends TIME-WAIT. */
static void wire_visible(char *s)
{
	size_t n = strlen(s);
	const char *tail = "TIME-WAIT CLOSED";
	if (n >= strlen(tail) && !strcmp(s + n - strlen(tail), tail))
		s[n - strlen(" CLOSED")] = 0;
}

static void inferred(const struct synack_conn *c, int ep, char *out, size_t cap);

struct collect {
	int ep;
	char *out;
	size_t cap;
};

static void collect(void *ctx, const struct synack_seg_rec *r, uint64_t gap)
{
	struct collect *k = ctx;
	for (uint8_t i = 0; i < r->nchanges; i++) {
		if (r->ch[i].ep != k->ep || r->ch[i].to == SYNACK_LISTEN)
			continue;
		size_t n = strlen(k->out);
		snprintf(k->out + n, k->cap - n, "%s%s", n ? " " : "",
			 synack_state_name(r->ch[i].to));
	}
}

static void inferred(const struct synack_conn *c, int ep, char *out, size_t cap)
{
	out[0] = 0;
	struct collect k = {ep, out, cap};
	synack_conn_each(c, collect, &k);
}

static void check(const char *name, enum scen scen, const char *cli_want, const char *srv_want)
{
	bool update = getenv("SYNACK_UPDATE_GOLDEN") != NULL;
	char pcap[128], txt[128];
	snprintf(pcap, sizeof pcap, "/tmp/synack-simcap-%d-%s.pcap", (int)getpid(), name);
	snprintf(txt, sizeof txt, "tests/render/golden/sim_%s.txt", name);
	struct world w;
	run(&w, scen, pcap);
	wire_visible(w.states[0]);
	wire_visible(w.states[1]);
	cr_assert_str_eq(w.states[0], cli_want, "the client stack went %s (server: %s)",
			 w.states[0], w.states[1]);
	cr_assert_str_eq(w.states[1], srv_want, "the server stack went %s", w.states[1]);

	struct synack_conns *t;
	struct synack_conns_opts o = {.keep_first = 1000, .keep_last = 1000};
	cr_assert_eq(synack_conns_new(&t, &o), 0);
	char err[256];
	cr_assert_eq(synack_conns_read_file(t, pcap, NULL, err, sizeof err), 0, "%s", err);
	/* SYNACK_SIMCAP_DIR keeps the captures (tests/render/run.sh checks them with tshark). */
	const char *keep = getenv("SYNACK_SIMCAP_DIR");
	char kept[256];
	snprintf(kept, sizeof kept, "%s/sim_%s.pcap", keep ? keep : ".", name);
	if (!keep || rename(pcap, kept) != 0)
		remove(pcap);
	cr_assert_eq(synack_conns_count(t), 1);
	const struct synack_conn *c = synack_conns_get(t, 0);
	char got[256];
	inferred(c, 0, got, sizeof got);
	cr_assert_str_eq(got, w.states[0], "client: inferred '%s', the stack said '%s'", got,
			 w.states[0]);
	inferred(c, 1, got, sizeof got);
	cr_assert_str_eq(got, w.states[1], "server: inferred '%s', the stack said '%s'", got,
			 w.states[1]);

	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct synack_ladder_opts lo = {
		.format = SYNACK_LADDER_TEXT, .out = m, .left = c->name[0], .right = c->name[1]};
	struct synack_ladder *l;
	cr_assert_eq(synack_ladder_new(&l, &lo), 0);
	synack_conn_replay(c, synack_ladder_trace, l);
	cr_assert_eq(synack_ladder_finish(l), 0);
	synack_ladder_free(l);
	fclose(m);
	FILE *f = fopen(txt, update ? "w" : "r");
	cr_assert_not_null(f, "%s: run with SYNACK_UPDATE_GOLDEN=1", txt);
	if (update) {
		fwrite(buf, 1, len, f);
	} else {
		char *want = calloc(1, 1 << 20);
		size_t n = fread(want, 1, (1 << 20) - 1, f);
		cr_assert_eq(n, len, "%s: %zu bytes expected, drawn %zu:\n%s", txt, n, len, buf);
		cr_assert_eq(memcmp(want, buf, len), 0, "%s differs; drawn:\n%s", txt, buf);
		free(want);
	}
	fclose(f);
	free(buf);
	synack_conns_free(t);
}

Test(simcap, client_closes_first)
{
	check("client_closes", CLIENT_CLOSES,
	      "SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT",
	      "SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED");
}

Test(simcap, server_closes_first)
{
	check("server_closes", SERVER_CLOSES, "SYN-SENT ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED",
	      "SYN-RECEIVED ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT");
}

Test(simcap, refused)
{
	check("refused", REFUSED, "SYN-SENT CLOSED", "");
}

Test(simcap, abort_with_rst)
{
	check("abort", ABORT, "SYN-SENT ESTABLISHED CLOSED", "SYN-RECEIVED ESTABLISHED CLOSED");
}

Test(simcap, lossy_transfer)
{
	check("lossy", LOSSY, "SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT",
	      "SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED");
}

Test(simcap, simultaneous_close)
{
	check("simultaneous", SIMULTANEOUS, "SYN-SENT ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT",
	      "SYN-RECEIVED ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT");
}

Test(simcap, simultaneous_open)
{
	check("simultaneous_open", SIMULTANEOUS_OPEN,
	      "SYN-SENT SYN-RECEIVED ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT",
	      "SYN-SENT SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED");
}
