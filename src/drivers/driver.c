/* synack — the step every driver takes, see driver.h. */
#include "drivers/driver.h"

#include <errno.h>

/* Hands the stack every frame due by now. Returns 1 if something was due, 0, or -errno. */
static int drain_frames(struct synack_driver *d, uint64_t now)
{
	int did = 0;
	for (unsigned i = 0; !d->max_frames || i < d->max_frames; i++) {
		/* A link without a descriptor says when its next frame is due; one with a
		 * descriptor is read until it has nothing. */
		if (d->link->fd < 0) {
			if (synack_link_next_arrival(d->link) > now)
				break;
			did = 1;
		}
		struct synack_frame_meta meta;
		ssize_t n = synack_link_recv(d->link, d->buf, d->cap, &meta, now);
		if (n == 0)
			break;
		if (n == -EMSGSIZE) {
			d->rx_dropped++;
			continue;
		}
		if (n < 0)
			return (int)n;
		(void)synack_stack_input_frame(d->stack, d->buf, &meta, now); /* meta from the link */
		did = 1;
	}
	return did;
}

/* One batch: the ACKs the frames owe go once, at the end (synack_stack_input_begin). */
static int drain(struct synack_driver *d, uint64_t now)
{
	synack_stack_input_begin(d->stack);
	int did = drain_frames(d, now);
	synack_stack_input_end(d->stack, now);
	return did;
}

int synack_driver_step(struct synack_driver *d, uint64_t now)
{
	int did = d->link ? drain(d, now) : 0;
	if (synack_stack_next_deadline(d->stack) <= now) {
		(void)synack_stack_poll(d->stack, now);
		if (did == 0)
			did = 1;
	} else if (synack_stack_now(d->stack) < now) {
		(void)synack_stack_poll(d->stack, now); /* the clock only: nothing was due */
	}
	return did;
}

uint64_t synack_driver_next(const struct synack_driver *d)
{
	uint64_t t = synack_stack_next_deadline(d->stack);
	if (d->link) {
		uint64_t a = synack_link_next_arrival(d->link);
		if (a < t)
			t = a;
	}
	return t;
}
