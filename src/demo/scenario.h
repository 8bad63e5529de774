/* The demo scenarios: a client (10.0.0.1) and a server (10.0.0.2, port 80) on a simulated
 * network, each scenario answering one question people ask about TCP, drawn as a ladder.
 * With opts.ipv6 the same scenarios run over IPv6: the client is 2001:db8::1 and the server
 * 2001:db8::2 (RFC 3849's documentation prefix), and a scenario's spoofed or injected
 * segments come from IPv6 addresses too.
 *
 * A scenario builds a synack_sim world, drives the socket API between synack_sim_step calls
 * (small built-in applications: echo, sender, reader) and feeds every trace event to the
 * ladder renderer. It runs on the virtual clock until nothing is left to happen, then writes
 * a summary: in jsonl the line
 *   {"ev":"summary","sent_bytes":N,"recv_bytes":N,"sent_sha256":"...","recv_sha256":"...",
 *    "client_final":"CLOSED","server_final":"CLOSED"}
 * where sent/recv are the scenario's data stream (client to server, except half-close whose
 * data goes from the server to the client) as written by one application and read by the
 * other, and *_final the last state of the client's connection (10.0.0.1:40000 ->
 * 10.0.0.2:80, or [2001:db8::1]:40000 -> [2001:db8::2]:80) on each side (CLOSED when it never existed or was freed).
 *
 * Same options, same output, byte for byte.
 */
#ifndef SYNACK_DEMO_SCENARIO_H
#define SYNACK_DEMO_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "render/ladder.h"
#include "render/sha256.h"
#include "synack/socket.h"

#define SYNACK_DEMO_CLIENT_ADDR 0x0a000001u /* 10.0.0.1 */
#define SYNACK_DEMO_SERVER_ADDR 0x0a000002u /* 10.0.0.2 */
/* With --ipv6: 2001:db8::1 and 2001:db8::2. */
#define SYNACK_DEMO_CLIENT_ADDR6 {0x20, 0x01, 0x0d, 0xb8, [15] = 1}
#define SYNACK_DEMO_SERVER_ADDR6 {0x20, 0x01, 0x0d, 0xb8, [15] = 2}
#define SYNACK_DEMO_CLIENT_PORT 40000
#define SYNACK_DEMO_SERVER_PORT 80

struct synack_demo_opts {
	const char *scenario;            /* NULL: "handshake" */
	enum synack_ladder_format format;
	FILE *out;
	bool absolute;                   /* text: absolute seq/ack (some scenarios force it) */
	bool verbose, raw_window;        /* ladder: every option in full; win as the raw field */
	unsigned max_rows;               /* text: elide beyond this many rows (0: scenario's) */
	double loss, dup, reorder, corrupt; /* per frame, both directions */
	uint32_t delay_ms, jitter_ms;    /* one-way: 10 and 0 */
	uint64_t seed;                   /* 1 */
	uint64_t bytes;                  /* transfer: 1 MiB */
	uint16_t mss;                    /* 0: the stack's (1460) */
	uint32_t msl_ms;                 /* 0: the stack's (30000: TIME-WAIT 60 s) */
	int syn_retries, synack_retries; /* -1: the stack's or the scenario's */
	int syncookies;                  /* -1: the stack's (1: when the SYN queue is full) */
	uint64_t limit_ms;               /* virtual time limit: 1000 s */
	const char *pcap_path;           /* capture the client's link to this file (NULL: no) */
	bool ipv6;                       /* run over IPv6 (2001:db8::1 and ::2), not IPv4 */
};

struct synack_demo_result {
	uint64_t sent_bytes, recv_bytes;
	char sent_sha256[65], recv_sha256[65];
	enum synack_tcp_state client_final, server_final;
	int client_err, server_err;      /* first error each side's socket reported, or 0 */
	uint64_t end_us;                 /* the virtual time the run ended */
	bool hit_limit;                  /* stopped by limit_ms, not by running out of events */
};

struct synack_demo_scenario {
	const char *name;
	const char *question;            /* one line: what it shows */
	const char *notes;               /* settings it changes, or NULL */
};

void synack_demo_opts_default(struct synack_demo_opts *o);
/* The scenarios, in gallery order. */
const struct synack_demo_scenario *synack_demo_list(size_t *n);
const struct synack_demo_scenario *synack_demo_find(const char *name);
/* Runs one scenario, writing its ladder (and summary) to o->out. res may be NULL.
 * Errors: -ENOENT (unknown scenario), -EINVAL (bad option), -ENOMEM, or a socket API error
 * that made the scenario impossible (reported on stderr too). */
int synack_demo_run(const struct synack_demo_opts *o, struct synack_demo_result *res);

#endif
