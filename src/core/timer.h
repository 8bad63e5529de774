/* Timers as absolute deadlines, kept in a hierarchical timer wheel (Varghese & Lauck) so that
 * arming, cancelling and expiring cost O(1) and a million idle timers cost nothing per tick.
 *
 * Resolution is 1 ms (a timer is placed by the millisecond its deadline falls in, but it only
 * expires once now_us >= its exact deadline). Level L's slots are 64^L ms wide, so six levels
 * cover 64^6 ms (about 795 days); later deadlines wait on an overflow list of the top level
 * that is re-examined at every top-level cascade. The wheel never allocates: timers are
 * embedded in their owners. Expiry pops one timer at a time, so an owner may re-arm or cancel
 * any timer (its own included) between pops.
 *
 * Costs: arm and cancel are O(1), except that a deadline that is already (or within the
 * current millisecond) due, or beyond the wheel's range, is inserted in order into a short
 * sorted list. next_deadline reads the cached minimum of the first non-empty slot of each
 * level; it walks such a slot only when an arm/cancel since the last expire() removed that
 * slot's earliest timer. */
#ifndef SYNACK_TIMER_H
#define SYNACK_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define SYNACK_WHEEL_LEVELS 6
#define SYNACK_WHEEL_SLOTS 64

struct synack_timer {
	struct synack_timer *next, *prev; /* NULL/NULL when not armed */
	uint64_t deadline_us;
	uint32_t kind;  /* owner's tag, e.g. enum synack_timer_kind */
	bool armed;
	uint8_t level, slot; /* wheel-private: which list holds the timer */
};

struct synack_wheel {
	uint64_t now_ms;  /* the wheel's current tick */
	uint64_t count;   /* armed timers */
	uint64_t occupied[SYNACK_WHEEL_LEVELS]; /* bitmap of non-empty slots per level */
	struct synack_timer *slots[SYNACK_WHEEL_LEVELS][SYNACK_WHEEL_SLOTS];
	/* Timers whose deadline falls in the current millisecond or earlier, sorted by
	 * deadline: the ones expire() pops next. */
	struct synack_timer *overdue;
	/* Deadlines 64^6 ms or more ahead, sorted by deadline (the top level's overflow). */
	struct synack_timer *far;
	/* The earliest deadline in each slot, exact when the slot's bit in min_ok is set, so
	 * that next_deadline need not walk a slot holding thousands of timers (connections
	 * opened together put their keepalive or TIME-WAIT timers in one high-level slot).
	 * Arming keeps it exact; removing the slot's earliest timer clears the bit; expire()
	 * recomputes the first non-empty slot of each level before it returns NULL. */
	uint64_t slot_min[SYNACK_WHEEL_LEVELS][SYNACK_WHEEL_SLOTS];
	uint64_t min_ok[SYNACK_WHEEL_LEVELS];
};

void synack_wheel_init(struct synack_wheel *w, uint64_t now_us);
/* Arms (or re-arms) t to fire at deadline_us. */
void synack_wheel_arm(struct synack_wheel *w, struct synack_timer *t, uint64_t deadline_us);
/* Disarms t; harmless when it is not armed. */
void synack_wheel_cancel(struct synack_wheel *w, struct synack_timer *t);
/* Moves from's arming (its deadline and its place among equal deadlines) to to, which keeps its
 * own kind and must not be armed; from is left disarmed. */
void synack_wheel_move(struct synack_wheel *w, struct synack_timer *to, struct synack_timer *from);
/* Returns one timer whose deadline is <= now_us (disarmed), or NULL when none is due. Timers
 * come out in deadline order. Advances the wheel to now_us. */
struct synack_timer *synack_wheel_expire(struct synack_wheel *w, uint64_t now_us);
/* The exact earliest deadline of any armed timer, or UINT64_MAX. */
uint64_t synack_wheel_next_deadline(const struct synack_wheel *w);
static inline bool synack_timer_armed(const struct synack_timer *t) { return t->armed; }

#endif
