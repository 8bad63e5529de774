/* synack — what every driver does, once.
 *
 * A driver owns a clock and feeds one stack: the real-wire loop (loop.c, CLOCK_MONOTONIC),
 * the simulated world (sim.c, a virtual clock shared by every host) and the drill runner
 * (src/drill/runner.c, a virtual clock jumping from script event to deadline). Each decides
 * how to wait — epoll, a jump to the next event, a jump to the next script line — but the
 * step at a given `now` is the same for all three and lives here:
 *
 *   1. drain the link into the stack: every frame the link has due by now goes to
 *      synack_stack_input_frame() at now, with the metadata the link gave it (a link with a
 *      descriptor is read until it has nothing);
 *   2. poll: the stack's timers due by now fire (synack_stack_poll()); a stack whose clock is
 *      behind is brought to now, so socket calls made after the step act at now;
 *   3. the next deadline: the earlier of the stack's next timer and the link's next arrival
 *      (synack_driver_next()), which is what the driver sleeps or jumps to.
 *
 * Frames go in before timers fire: a frame that arrived by now was on the wire before the
 * driver noticed the timer was due (an ACK due at the same instant as the RTO cancels the
 * retransmission, as on a real host that reads its NIC before running its timer wheel).
 */
#ifndef SYNACK_DRIVERS_DRIVER_H
#define SYNACK_DRIVERS_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "synack/link.h"
#include "synack/stack.h"

struct synack_driver {
	struct synack_stack *stack;
	struct synack_link *link; /* NULL: the driver hands frames to the stack itself (drill) */
	uint8_t *buf;             /* a frame's room, cap bytes: frames larger are dropped */
	size_t cap;
	unsigned max_frames;      /* frames taken per step, 0: every frame due */
	uint64_t rx_dropped;      /* frames the link dropped for not fitting buf (-EMSGSIZE) */
};

/* One step at now, as above. Returns 1 if anything was due (a frame, a timer, or a link that
 * had something due but delivered nothing, e.g. a fault decorator releasing held frames: a
 * driver processing one instant steps again until this returns 0), 0 if nothing was, or the
 * link's negative errno (the frames before it were delivered, timers still ran). */
int synack_driver_step(struct synack_driver *d, uint64_t now);

/* The earliest time the next step has work: the stack's next deadline or the link's next
 * arrival, SYNACK_TIME_NEVER if neither. A link with a descriptor reports SYNACK_TIME_NEVER;
 * its driver waits on the descriptor as well. */
uint64_t synack_driver_next(const struct synack_driver *d);

#endif
