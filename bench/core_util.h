/* Shared by the core benchmarks (bench/core_*.c): a counting allocator, a wall clock, two
 * stacks wired back to back through frame queues on a virtual clock, statistics, and the
 * "conditions" header every benchmark prints before its figures. Not part of the library. */
#ifndef SYNACK_BENCH_CORE_UTIL_H
#define SYNACK_BENCH_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "synack/synack.h"

/* malloc/free, counting calls and bytes: the stack's injected allocator. */
struct bench_alloc {
	uint64_t allocs, frees;
	uint64_t live_bytes;
};
struct synack_allocator bench_allocator(struct bench_alloc *a);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_ns(void);
/* Resident set size of this process in bytes (/proc/self/statm). */
uint64_t bench_rss(void);

/* A FIFO of frames (growable; grows only in the harness, never inside the stack). */
struct bench_fifo {
	uint8_t *slots; /* cap slots of BENCH_FRAME_CAP bytes */
	uint32_t *lens;
	size_t cap, head, len;
};
#define BENCH_FRAME_CAP 1600
void bench_fifo_push(struct bench_fifo *q, const uint8_t *f, size_t len);
void bench_fifo_free(struct bench_fifo *q);

/* Two stacks back to back: whatever one outputs is queued and fed to the other by pump(). No
 * link delay, no loss; the clock is virtual (`now`, microseconds) and moves only when the
 * caller moves it. */
struct bench_pair {
	struct synack_stack *st[2]; /* 0: client 10.0.0.1, 1: server 10.0.0.2 */
	struct bench_fifo q[2];     /* q[i]: frames sent by st[i] */
	struct bench_alloc alloc[2];
	uint64_t now;
};
#define BENCH_CLIENT_ADDR 0x0A000001u
#define BENCH_SERVER_ADDR 0x0A000002u
/* cfg is the config for both stacks (output, name, addr, allocator and seed are filled in).
 * Exits on failure. */
void bench_pair_init(struct bench_pair *p, const struct synack_config *cfg);
void bench_pair_fini(struct bench_pair *p);
/* Delivers queued frames alternately until both queues are empty; returns frames delivered. */
size_t bench_pair_pump(struct bench_pair *p);
/* Moves the clock to now and fires whatever timers are due on both stacks. */
void bench_pair_advance(struct bench_pair *p, uint64_t now);
/* Opens one connection client -> server port (a listener on lfd must exist): returns the
 * client fd and puts the server's accepted fd in *sfd. Exits on failure. */
int bench_pair_connect(struct bench_pair *p, int lfd, uint16_t port, int *sfd);

/* Writes an IPv4+TCP packet (no options, or MSS 1460 on a SYN) into out (>= 128 bytes);
 * returns its length. For synthetic peers: spoofed SYNs, handshake ACKs, pure ACKs. */
size_t bench_craft(uint8_t *out, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
		   uint32_t seq, uint32_t ack, uint8_t flags);

/* Sorts v[0..n) and returns its median; *best gets the minimum (or the maximum when
 * higher_is_better). */
double bench_median(double *v, int n, double *best, int higher_is_better);

/* Prints the conditions: machine (nproc, CPU model), compiler and flags (from the
 * BENCH_CC/BENCH_CFLAGS macros the build script passes), synack's git revision. */
void bench_print_conditions(const char *what);

/* A long integer from argv or the environment (NAME=value), else def. */
long bench_arg(int argc, char **argv, const char *name, long def);

#endif
