/* hello_sim: the smallest complete synack program.
 *
 * Two stacks on a simulated network (10 ms each way, virtual clock): the server listens on
 * port 7, the client connects, sends a line, the server echoes it back, and both close. Every
 * call is non-blocking; the program advances the virtual clock with synack_sim_step() and
 * looks at readiness with synack_events() in between, as any event loop would.
 *
 *   cc hello_sim.c $(pkg-config --cflags --libs synack) -o hello_sim && ./hello_sim
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <synack/synack.h>

#define CLIENT_IP 0x0a000001u /* 10.0.0.1 */
#define SERVER_IP 0x0a000002u /* 10.0.0.2 */

static struct synack_stack *add_host(struct synack_sim *sim, const char *name, uint32_t addr)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.name = name;
	synack_config_add_addr(&cfg, synack_addr_v4(addr), 24);
	struct synack_sim_host_opts opts = {.path = {.delay_us = 10000}};
	struct synack_stack *st = NULL;
	int err = synack_sim_add_host(sim, &cfg, &opts, &st);
	if (err < 0)
		fprintf(stderr, "add_host %s: %s\n", name, strerror(-err));
	return st;
}

int main(void)
{
	struct synack_sim *sim;
	if (synack_sim_new(&sim, 42) < 0)
		return 1;
	struct synack_stack *client = add_host(sim, "client", CLIENT_IP);
	struct synack_stack *server = add_host(sim, "server", SERVER_IP);
	if (!client || !server)
		return 1;

	int lfd = synack_socket(server);
	struct synack_endpoint any7 = {.addr = synack_addr_v4(0), .port = 7};
	if (synack_bind(server, lfd, &any7) < 0 || synack_listen(server, lfd, 16) < 0)
		return 1;

	int cfd = synack_socket(client);
	struct synack_endpoint srv = {.addr = synack_addr_v4(SERVER_IP), .port = 7};
	int rc = synack_connect(client, cfd, &srv);
	printf("connect: %s\n", rc == -EINPROGRESS ? "in progress" : strerror(-rc));

	const char msg[] = "hello, synack\n";
	char echo[64] = {0};
	size_t got = 0;
	int afd = -1;
	bool sent = false, closed = false;
	/* Run for at most 5 virtual minutes: long enough for TIME-WAIT (60 s) to pass. */
	while (synack_sim_step(sim, 300 * 1000000ull)) {
		if (afd < 0 && (afd = synack_accept(server, lfd, NULL)) < 0)
			afd = -1;
		if (!sent && (synack_events(client, cfd) & SYNACK_EV_WRITABLE))
			sent = synack_send(client, cfd, msg, sizeof msg - 1, 0) > 0;
		if (afd >= 0) { /* the echo server: read what is there, write it back */
			char buf[64];
			ssize_t n = synack_recv(server, afd, buf, sizeof buf, 0);
			if (n > 0)
				synack_send(server, afd, buf, (size_t)n, 0);
			else if (n == 0) { /* the client closed: close too */
				synack_close(server, afd);
				afd = -2;
			}
		}
		ssize_t n = synack_recv(client, cfd, echo + got, sizeof echo - 1 - got, 0);
		if (n > 0 && (got += (size_t)n) == sizeof msg - 1 && !closed) {
			synack_close(client, cfd);
			closed = true;
		}
	}
	printf("echoed: %s", echo);
	struct synack_counters c;
	synack_stack_counters(client, &c);
	printf("client: ActiveOpens=%llu OutSegs=%llu RetransSegs=%llu\n",
	       (unsigned long long)c.v[SYNACK_CTR_ActiveOpens],
	       (unsigned long long)c.v[SYNACK_CTR_OutSegs],
	       (unsigned long long)c.v[SYNACK_CTR_RetransSegs]);
	int ok = got == sizeof msg - 1 && !memcmp(echo, msg, got);
	synack_sim_destroy(sim);
	return ok ? 0 : 1;
}
