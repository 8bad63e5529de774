/* synack — a stack on a real wire: the TUN device, optional pcap capture and trace file, the
 * event loop, and the control socket, set up and torn down together for `serve` and
 * `connect`. */
#ifndef SYNACK_HOST_HOST_H
#define SYNACK_HOST_HOST_H

#include <stdint.h>
#include <stdio.h>

#include "host/ctl.h"
#include "synack/loop.h"
#include "synack/tun.h"

/* Where --trace goes. open() points cfg->trace at path (state is handed to close()); host
 * calls them where the trace belongs in set-up and tear-down. The command passes render's
 * JSON-lines writer (render/trace_file.h): host itself needs no renderer. */
struct synack_trace_sink {
	int (*open)(void **state, const char *path, struct synack_config *cfg);
	void (*close)(void *state); /* flushes; NULL state is fine */
};

struct synack_host_opts {
	const char *name;     /* the stack's name in traces ("serve", "connect") */
	const char *tun;      /* device name */
	const char *cidr[2];  /* synack's addresses, A.B.C.D/NN or IPV6/NN, one of each family
			       * at most (cidr[1] may be NULL) */
	const char *pcap;     /* capture file, or NULL */
	uint64_t pcap_max;    /* the most the capture file may hold, bytes (0: no limit) */
	const char *trace;    /* JSON-lines trace file, or NULL */
	struct synack_trace_sink trace_sink; /* required with trace (else -EINVAL) */
	const char *ctl;      /* control socket path, or NULL */
	uint32_t max_sockets; /* 0: the stack's default */
	bool no_offload;      /* a plain TUN device (SYNACK_TUN_NO_OFFLOAD) */
	const char *cmd;      /* "synack serve": the prefix of the lines below on stderr */
	bool progress;        /* print the connection's progress on stderr (connect) */
	/* 0 or 1: one queue, one stack. N > 1: a multi-queue device (the kernel spreads flows
	 * over N queues, steered by synack_tun_steer() when the kernel takes the program), a
	 * stack per queue: synack_host_open() makes queue 0's loop with hooks, the caller makes
	 * the others with synack_host_add_queue() and runs each on its own thread. Needs no
	 * pcap, trace or progress (-EINVAL), and the host opens no control socket (the caller
	 * answers for every stack). */
	unsigned queues;
};

#define SYNACK_HOST_QUEUES_MAX 64

/* What --progress prints from: the stack's own trace events. */
struct synack_host_progress {
	bool on, connected, opened;
	unsigned syn_retries;
	uint64_t t_open, sent, rcvd, last_print;
};

struct synack_host {
	struct synack_loop *loop;
	struct synack_stack *stack;
	struct synack_ctl *ctl;
	struct synack_tun_info tun;
	struct synack_tun_addr addrs[2]; /* synack's, as --addr gave them */
	size_t naddrs;
	void *trace_state;
	void (*trace_close)(void *state);
	const char *cmd;
	bool in_host_netns; /* running in the host's own network namespace (not one made for it) */
	synack_trace_fn trace_next; /* the trace file's sink, after progress */
	void *trace_next_ctx;
	struct synack_host_progress prog;
	unsigned queues;         /* 1, or the device's queues */
	bool steered;            /* the kernel runs synack_tun_steer()'s program */
	struct synack_loop *qloop[SYNACK_HOST_QUEUES_MAX]; /* [0] = loop */
	struct synack_link *qlink[SYNACK_HOST_QUEUES_MAX]; /* queues not yet in a loop */
	struct synack_config cfg; /* the stacks' configuration (queue 0's) */
	bool no_offload;
};

/* Sets everything up. The stack gets each address of o->cidr, the first as its default source
 * for its family. On failure returns a negative errno and writes a one-line reason
 * (without newline) to why, with what to do about it for the TUN device's usual errors (root
 * or CAP_NET_ADMIN, the 15-character name limit, a device held by another process, a missing
 * /dev/net/tun). In the host's own network namespace, the changes made to it (a TUN device
 * created, an address given to the kernel's side) are printed on stderr, and undone by
 * synack_host_close(). */
int synack_host_open(struct synack_host *h, const struct synack_host_opts *o,
		     const struct synack_loop_hooks *hooks, char *why, size_t why_cap);
/* Makes queue q's loop and stack (1 <= q < h->queues), with cfg's steer_queue = q, into
 * h->qloop[q]. Errors: -EINVAL (no such queue, or made already), those of synack_loop_new(). */
int synack_host_add_queue(struct synack_host *h, unsigned q, const struct synack_loop_hooks *hooks);
/* Tears everything down (the capture and the trace are flushed). */
void synack_host_close(struct synack_host *h);

#endif
