/* synack — a simulated world: several stacks on one simulated network and one virtual clock.
 *
 * Each host is a stack plus its endpoint on a synack_simnet, optionally wrapped by the fault
 * decorator and a pcap writer. synack_sim_step() advances the clock to the next event (a frame
 * arriving or a stack deadline) and processes it; the caller drives applications between
 * steps through the socket API. Same seed, same inputs: same run, byte for byte.
 */
#ifndef SYNACK_SIM_H
#define SYNACK_SIM_H

#include "link.h"
#include "socket.h"
#include "stack.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the library exports what this header declares */

struct synack_sim;

struct synack_sim_host_opts {
	struct synack_sim_path path;        /* the host's outgoing path */
	const struct synack_fault_params *fault; /* NULL: no faults */
	const char *pcap_path;              /* NULL: no capture */
};

/* Errors: -ENOMEM. */
int synack_sim_new(struct synack_sim **out, uint64_t seed);
/* Destroys hosts (their stacks and links) and the network. */
void synack_sim_destroy(struct synack_sim *sim);
/* Adds a host. cfg->output is replaced by the simulator's; cfg->seed and cfg->secret are
 * derived from the simulation's seed and the host's index when both are zero; a config
 * without an allocator gets one backed by malloc. Fault events go to cfg->trace unless the
 * fault params name their own sink, under cfg->name unless they name a host. Errors:
 * -ENOMEM, -EINVAL, -EADDRINUSE, errors of fopen for the capture. */
int synack_sim_add_host(struct synack_sim *sim, const struct synack_config *cfg,
			const struct synack_sim_host_opts *opts, struct synack_stack **out);
uint64_t synack_sim_now(const struct synack_sim *sim);
/* The time of the next event, or SYNACK_TIME_NEVER. */
uint64_t synack_sim_next_event(const struct synack_sim *sim);
/* Processes every event due at the next event time if that is <= limit_us (advancing the
 * clock there); returns false, with the clock moved to limit_us, when there is none. */
bool synack_sim_step(struct synack_sim *sim, uint64_t limit_us);
/* Steps until the clock passes t_us or nothing is left; the clock ends at t_us. */
void synack_sim_run_until(struct synack_sim *sim, uint64_t t_us);
/* Injects a raw frame as if it had arrived on host's endpoint now (a spoofed packet). */
void synack_sim_inject(struct synack_sim *sim, struct synack_stack *host, const uint8_t *frame,
		       size_t len);
/* Sends a raw frame from outside onto the network (routed by destination, no path delay). */
int synack_sim_send_raw(struct synack_sim *sim, const uint8_t *frame, size_t len);
/* Errors: -EHOSTUNREACH (no host has the destination; counted as unroutable), -EMSGSIZE. */

/* The parts of the world, for scenarios and tests (NULL when host is not in sim): the network
 * (synack_simnet_unroutable), a host's simnet endpoint (synack_simnet_set_path), its fault
 * decorator (synack_fault_stats/_set_params; NULL without faults), and the number of frames
 * its link refused (-EAGAIN when the path's queue_limit is reached: a tail drop). */
struct synack_simnet *synack_sim_net(struct synack_sim *sim);
struct synack_link *synack_sim_host_endpoint(struct synack_sim *sim, struct synack_stack *host);
struct synack_link *synack_sim_host_fault(struct synack_sim *sim, struct synack_stack *host);
uint64_t synack_sim_host_tx_errors(const struct synack_sim *sim, const struct synack_stack *host);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
