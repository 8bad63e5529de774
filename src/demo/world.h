/* The demo's inside: the world a scenario runs in (two hosts, their little applications, the
 * faults) and what a scenario definition supplies. scenario.c runs worlds; scenarios.c
 * defines the scenarios. */
#ifndef SYNACK_DEMO_WORLD_H
#define SYNACK_DEMO_WORLD_H

#include "util/rng.h"
#include "demo/scenario.h"
#include "synack/synack.h"

#define DEMO_CLIENT 0
#define DEMO_SERVER 1

/* A tiny application on one host, driven after every simulation step. */
struct demo_app {
	struct synack_stack *s;
	int fd;                /* the connection, or -1 */
	int lfd;               /* a listener whose first connection becomes fd, or -1 */
	uint8_t *out;          /* bytes to send; out_off of them sent */
	size_t out_len, out_cap, out_off;
	uint64_t send_at;      /* send nothing before this virtual time */
	bool echo;             /* queue what is read to be sent back */
	bool out_done;         /* nothing more will be queued (an echo is done at EOF) */
	bool shut_after_send;  /* shutdown(SHUT_WR) once everything is sent */
	bool close_after_send; /* close once everything is sent */
	bool close_on_eof;     /* close once the peer's FIN is read and everything is sent */
	size_t close_after_in; /* close once this many bytes were read (0: never) */
	const uint8_t *eof_reply; /* queued (then nothing more) when the peer's FIN is read */
	size_t eof_reply_len;
	bool connected, eof, shut, closed;
	int err;               /* the error the socket reported, or 0 */
	struct synack_sha256 sent_h, recv_h;
	uint64_t sent, recvd;
};

enum demo_verdict { DEMO_PASS, DEMO_DROP, DEMO_HOLD };

struct demo;

struct demo_scenario_def {
	struct synack_demo_scenario pub;
	bool absolute;         /* text: absolute seq/ack (when the numbers are the point) */
	unsigned max_rows;     /* text: elide long ladders */
	int stream;            /* whose data the summary measures: DEMO_CLIENT or DEMO_SERVER */
	/* Adjusts a host's configuration (retries, keepalive, cookies). Optional. */
	void (*config)(struct demo *d, int who, struct synack_config *cfg);
	/* Opens sockets, sets the applications up, arms d->wake_at. */
	int (*setup)(struct demo *d);
	/* Called when the clock reaches d->wake_at. Optional. */
	void (*tick)(struct demo *d);
	/* Whether a trace event is drawn (a flood's thousands of spoofed segments are not;
	 * the scenario counts them in notes instead). Optional: everything is drawn. */
	bool (*show)(struct demo *d, const struct synack_trace_event *ev);
	/* Decides the fate of each frame a host sends (after the random faults). Optional. */
	enum demo_verdict (*filter)(struct demo *d, int who, const struct synack_ip_hdr *ip,
				    const struct synack_tcp_seg *seg);
};

struct demo_host_ctx {
	struct demo *d;
	int who;
};

struct demo {
	const struct synack_demo_opts *o;
	const struct demo_scenario_def *def;
	struct synack_sim *sim;
	struct synack_ladder *ladder;
	struct demo_app app[2];
	struct demo_host_ctx hctx[2];
	struct synack_fault_params fault[2];
	enum synack_tcp_state final[2];
	bool seen[2];          /* the client's connection existed on that side */
	int first_err[2];
	uint64_t wake_at;      /* next scenario action, or SYNACK_TIME_NEVER */
	struct synack_rng rng;
	int fail;              /* the API error that broke the scenario, or 0 */
	/* Scenario scratch. */
	int phase;
	uint32_t mark;         /* a sequence number the scenario is waiting for */
	bool blackhole[2];     /* drop everything sent to this host */
	uint8_t held[1600];    /* a frame held back by the scenario, playing the network */
	size_t held_len;
	int held_to;
	uint64_t hidden;       /* trace events the scenario chose not to draw */
	char note[160];        /* the text of the scenario's latest note */
};

/* Helpers for scenarios (scenario.c). Each returns 0 or a negative errno, and records the
 * first failure in d->fail with a line on stderr. */
uint64_t demo_now(const struct demo *d);
/* A host's address and port in the scenario's family (DEMO_CLIENT or DEMO_SERVER). */
struct synack_endpoint demo_host_ep(const struct demo *d, int who);
int demo_listen(struct demo *d, int backlog);
int demo_connect(struct demo *d, int who);     /* who binds its port and connects to the other */
void demo_app_queue(struct demo_app *a, const void *data, size_t len);
int demo_setsockopt_int(struct demo *d, int who, int level, int name, int val);
/* Hands the held frame to its destination host now. */
void demo_release_held(struct demo *d);
/* The standard little conversation: the client sends `msg`, the server echoes it, the client
 * closes when the echo is back, the server closes at EOF. */
void demo_echo_apps(struct demo *d, const char *msg);

extern const struct demo_scenario_def *const synack_demo_defs[];
extern const size_t synack_demo_ndefs;

#endif
