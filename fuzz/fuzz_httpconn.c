/* Fuzz target: the built-in HTTP server's connection code (src/apps/httpd.c, server.c) over a
 * real stack on the simulator: a client sends the input as request bytes, in chunks whose
 * size the first input byte picks, reads whatever comes back, then closes.
 *
 * Invariants:
 *  - whatever the server sends starts with "HTTP/1.1 " (a response, never stray bytes);
 *  - once the client has closed and the header and idle timeouts have passed, the server
 *    holds no connection (nothing leaks a slot, whatever the bytes were). */
#include <errno.h>

#include "fuzz.h"

#include "apps/server.h"
#include "synack/synack.h"

static struct synack_stack *hc_cs, *hc_ss;
static struct synack_server *hc_srv;
static struct synack_sim *hc_sim;
static uint64_t hc_tick;
static int hc_woken[256], hc_nwoken;

static void hc_wake(void *ctx, int fd, unsigned ev)
{
	(void)ctx;
	(void)ev;
	if (hc_nwoken < 256)
		hc_woken[hc_nwoken++] = fd;
}

static void hc_pump(uint64_t ms)
{
	uint64_t end = synack_sim_now(hc_sim) + ms * 1000;
	for (;;) {
		uint64_t lim = hc_tick < end ? hc_tick : end;
		while (synack_sim_step(hc_sim, lim)) {
			for (int round = 0; hc_nwoken && round < 100; round++) {
				int batch[256], n = hc_nwoken;
				memcpy(batch, hc_woken, sizeof(int) * (size_t)n);
				hc_nwoken = 0;
				for (int i = 0; i < n; i++)
					synack_server_ready(hc_srv, batch[i],
							    (unsigned)synack_events(hc_ss, batch[i]));
			}
		}
		if (lim == hc_tick)
			hc_tick = synack_server_tick(hc_srv, lim);
		if (lim == end)
			return;
	}
}

int synack_fuzz_httpconn(const uint8_t *data, size_t len);
int synack_fuzz_httpconn(const uint8_t *data, size_t len)
{
	FUZZ_ASSERT(synack_sim_new(&hc_sim, 1) == 0, "sim");
	struct synack_config cfg;
	synack_config_default(&cfg);
	struct synack_sim_host_opts o = {.path = {.delay_us = 1000}};
	synack_config_add_addr(&cfg, synack_addr_v4(0x0a000001u), 24);
	FUZZ_ASSERT(synack_sim_add_host(hc_sim, &cfg, &o, &hc_cs) == 0, "client");
	cfg.addrs[0].addr = synack_addr_v4(0x0a000002u);
	cfg.wake = hc_wake;
	FUZZ_ASSERT(synack_sim_add_host(hc_sim, &cfg, &o, &hc_ss) == 0, "server");
	struct synack_app_opts a = {.kind = SYNACK_APP_HTTP, .max_conns = 4,
				    .idle_timeout_ms = 5000, .header_timeout_ms = 2000};
	FUZZ_ASSERT(synack_server_new(&hc_srv, hc_ss, &a) == 0, "server app");
	hc_tick = 0;
	hc_nwoken = 0;
	int fd = synack_socket(hc_cs);
	struct synack_endpoint ep = {synack_addr_v4(0x0a000002u), 80};
	FUZZ_ASSERT(synack_connect(hc_cs, fd, &ep) == -EINPROGRESS, "connect");
	hc_pump(10);
	size_t chunk = len ? (size_t)data[0] % 64 + 1 : 1;
	const uint8_t *p = len ? data + 1 : data;
	size_t left = len ? len - 1 : 0;
	static char got[1 << 16];
	size_t ngot = 0;
	for (int guard = 0; guard < 4096 && left; guard++) {
		size_t n = left < chunk ? left : chunk;
		ssize_t w = synack_send(hc_cs, fd, p, n, 0);
		if (w > 0) {
			p += w;
			left -= (size_t)w;
		} else if (w != -EAGAIN) {
			break; /* the server closed or reset it */
		}
		hc_pump(2);
		ssize_t r;
		while ((r = synack_recv(hc_cs, fd, got + ngot, sizeof got - ngot, 0)) > 0)
			ngot += (size_t)r;
	}
	hc_pump(50);
	ssize_t r;
	while ((r = synack_recv(hc_cs, fd, got + ngot, sizeof got - ngot, 0)) > 0)
		ngot += (size_t)r;
	if (ngot)
		FUZZ_ASSERT(ngot >= 9 && !memcmp(got, "HTTP/1.1 ", 9), "stray bytes: %.20s", got);
	synack_close(hc_cs, fd);
	hc_pump(10000);
	FUZZ_ASSERT(synack_server_conns(hc_srv) == 0, "%u connections left",
		    synack_server_conns(hc_srv));
	synack_server_destroy(hc_srv);
	synack_sim_destroy(hc_sim);
	return 0;
}

#ifndef SYNACK_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	return synack_fuzz_httpconn(data, len);
}
#endif
