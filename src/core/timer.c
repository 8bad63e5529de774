/* A hierarchical timer wheel (Varghese & Lauck, "Hashed and Hierarchical Timing Wheels",
 * 1987, scheme 7) with 1 ms ticks, six levels of 64 slots.
 *
 * A timer's tick is floor(deadline_us / 1000). With diff = tick - now_ms, a timer lives on
 * level L = floor(log64(diff)) in slot (tick >> 6L) & 63: level 0 holds the next 63 ms one
 * millisecond per slot, level 1 the next 4095 ms in 64 ms slots, and so on. When now_ms
 * reaches a multiple of 64^L, the level-L slot for the new block is "cascaded": its timers
 * are placed again, now on a lower level. When now_ms reaches a timer's tick, it moves to the
 * sorted overdue list, from which expire() pops it once now_us >= its exact deadline.
 *
 * Invariants: every timer on the wheel has tick > now_ms; every timer on the overdue list has
 * tick <= now_ms (so it is earlier than any timer on the wheel); the far list holds ticks at
 * least 64^6 ms ahead of the now_ms at which they were last placed. */
#include <stddef.h>

#include "core/timer.h"

#define LVL_BITS 6
#define SLOT_MASK (SYNACK_WHEEL_SLOTS - 1)
#define WHEEL_SPAN_MS (1ull << (LVL_BITS * SYNACK_WHEEL_LEVELS)) /* 64^6 ms */
#define LIST_OVERDUE SYNACK_WHEEL_LEVELS
#define LIST_FAR (SYNACK_WHEEL_LEVELS + 1)

static uint64_t tick_of(const struct synack_timer *t) { return t->deadline_us / 1000; }

static struct synack_timer **list_of(struct synack_wheel *w, const struct synack_timer *t)
{
	if (t->level == LIST_OVERDUE)
		return &w->overdue;
	if (t->level == LIST_FAR)
		return &w->far;
	return &w->slots[t->level][t->slot];
}

static void unlink_timer(struct synack_wheel *w, struct synack_timer *t)
{
	struct synack_timer **head = list_of(w, t);
	if (t->prev)
		t->prev->next = t->next;
	else
		*head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->next = t->prev = NULL;
	if (t->level >= SYNACK_WHEEL_LEVELS)
		return;
	if (*head == NULL)
		w->occupied[t->level] &= ~(1ull << t->slot);
	else if (t->deadline_us == w->slot_min[t->level][t->slot])
		w->min_ok[t->level] &= ~(1ull << t->slot); /* the slot's earliest left */
}

static void push_front(struct synack_timer **head, struct synack_timer *t)
{
	t->prev = NULL;
	t->next = *head;
	if (*head)
		(*head)->prev = t;
	*head = t;
}

/* Inserts t after every timer with a deadline <= its own (equal deadlines stay FIFO). */
static void insert_sorted(struct synack_timer **head, struct synack_timer *t)
{
	struct synack_timer *prev = NULL, *cur = *head;
	while (cur && cur->deadline_us <= t->deadline_us) {
		prev = cur;
		cur = cur->next;
	}
	t->prev = prev;
	t->next = cur;
	if (cur)
		cur->prev = t;
	if (prev)
		prev->next = t;
	else
		*head = t;
}

/* Puts t where it belongs relative to now_ms. Due timers go onto *batch (a singly-linked
 * chain sorted later) when batch is given, else straight into the overdue list. */
static void place(struct synack_wheel *w, struct synack_timer *t, struct synack_timer **batch)
{
	uint64_t tick = tick_of(t);
	if (tick <= w->now_ms) {
		t->level = LIST_OVERDUE;
		if (batch) {
			t->next = *batch;
			*batch = t;
		} else {
			insert_sorted(&w->overdue, t);
		}
		return;
	}
	uint64_t diff = tick - w->now_ms;
	if (diff >= WHEEL_SPAN_MS) {
		t->level = LIST_FAR;
		insert_sorted(&w->far, t);
		return;
	}
	unsigned level = 0;
	for (uint64_t d = diff; d >= SYNACK_WHEEL_SLOTS; d >>= LVL_BITS)
		level++;
	t->level = (uint8_t)level;
	t->slot = (uint8_t)((tick >> (LVL_BITS * level)) & SLOT_MASK);
	uint64_t bit = 1ull << t->slot;
	uint64_t *min = &w->slot_min[level][t->slot];
	if (!w->slots[level][t->slot]) {
		*min = t->deadline_us; /* an empty slot's minimum is the new timer's */
		w->min_ok[level] |= bit;
	} else if (t->deadline_us < *min) {
		*min = t->deadline_us;
	}
	push_front(&w->slots[level][t->slot], t);
	w->occupied[level] |= bit;
}

/* Merge sort of a singly-linked chain by deadline (stable). */
static struct synack_timer *sort_chain(struct synack_timer *a)
{
	if (!a || !a->next)
		return a;
	struct synack_timer *slow = a, *fast = a->next;
	while (fast && fast->next) {
		slow = slow->next;
		fast = fast->next->next;
	}
	struct synack_timer *b = slow->next;
	slow->next = NULL;
	a = sort_chain(a);
	b = sort_chain(b);
	struct synack_timer head = {0}, *tail = &head;
	while (a && b) {
		struct synack_timer **take = b->deadline_us < a->deadline_us ? &b : &a;
		tail->next = *take;
		tail = *take;
		*take = (*take)->next;
	}
	tail->next = a ? a : b;
	return head.next;
}

/* Merges a chain of newly due timers into the (sorted, doubly-linked) overdue list. */
static void merge_overdue(struct synack_wheel *w, struct synack_timer *batch)
{
	batch = sort_chain(batch);
	struct synack_timer *old = w->overdue, *prev = NULL;
	struct synack_timer **link = &w->overdue;
	while (batch || old) {
		struct synack_timer *t;
		if (old && (!batch || old->deadline_us <= batch->deadline_us)) {
			t = old;
			old = old->next;
		} else {
			t = batch;
			batch = batch->next;
		}
		t->prev = prev;
		*link = t;
		link = &t->next;
		prev = t;
	}
	*link = NULL;
}

/* Re-places every timer of one slot; they all belong to the block now_ms just entered. */
static void cascade(struct synack_wheel *w, unsigned level, struct synack_timer **batch)
{
	unsigned slot = (unsigned)((w->now_ms >> (LVL_BITS * level)) & SLOT_MASK);
	struct synack_timer *t = w->slots[level][slot];
	w->slots[level][slot] = NULL;
	w->occupied[level] &= ~(1ull << slot);
	while (t) {
		struct synack_timer *next = t->next;
		place(w, t, batch);
		t = next;
	}
}

/* At each top-level boundary, far timers that came within range join the wheel. */
static void pull_far(struct synack_wheel *w, struct synack_timer **batch)
{
	while (w->far && tick_of(w->far) - w->now_ms < WHEEL_SPAN_MS) {
		struct synack_timer *t = w->far;
		unlink_timer(w, t);
		place(w, t, batch);
	}
}

static uint64_t rotr(uint64_t x, unsigned n)
{
	n &= 63;
	return n ? x >> n | x << (64 - n) : x;
}

/* The first tick of the first non-empty slot of a level, in the order now_ms will reach
 * them, or UINT64_MAX. Level 0 slot s is reached at the tick it names; a level-L slot is
 * reached (cascaded) when its 64^L-ms block begins. */
static uint64_t first_slot_tick(const struct synack_wheel *w, unsigned level, unsigned *slot)
{
	uint64_t bits = w->occupied[level];
	if (!bits)
		return UINT64_MAX;
	unsigned shift = LVL_BITS * level;
	uint64_t base = (w->now_ms >> shift) + 1;
	unsigned k = (unsigned)__builtin_ctzll(rotr(bits, (unsigned)(base & SLOT_MASK)));
	*slot = (unsigned)((base + k) & SLOT_MASK);
	return (base + k) << shift;
}

/* The next tick after now_ms at which anything happens: a slot reached or a far check. */
static uint64_t next_event(const struct synack_wheel *w)
{
	uint64_t best = UINT64_MAX;
	unsigned slot;
	for (unsigned l = 0; l < SYNACK_WHEEL_LEVELS; l++) {
		uint64_t t = first_slot_tick(w, l, &slot);
		if (t < best)
			best = t;
	}
	unsigned top = LVL_BITS * (SYNACK_WHEEL_LEVELS - 1);
	if (w->far) {
		uint64_t t = ((w->now_ms >> top) + 1) << top;
		if (t < best)
			best = t;
	}
	return best;
}

/* Moves now_ms to tick (nothing happens strictly between), cascading top-down. */
static void advance_to(struct synack_wheel *w, uint64_t tick)
{
	struct synack_timer *batch = NULL;
	w->now_ms = tick;
	for (unsigned l = SYNACK_WHEEL_LEVELS - 1; l >= 1; l--) {
		uint64_t mask = (1ull << (LVL_BITS * l)) - 1;
		if ((tick & mask) != 0)
			continue;
		cascade(w, l, &batch);
		if (l == SYNACK_WHEEL_LEVELS - 1)
			pull_far(w, &batch);
	}
	cascade(w, 0, &batch); /* level-0 slot of this tick: all due now */
	if (batch)
		merge_overdue(w, batch);
}

void synack_wheel_init(struct synack_wheel *w, uint64_t now_us)
{
	*w = (struct synack_wheel){0};
	w->now_ms = now_us / 1000;
}

void synack_wheel_cancel(struct synack_wheel *w, struct synack_timer *t)
{
	if (!t->armed)
		return;
	unlink_timer(w, t);
	t->armed = false;
	w->count--;
}

void synack_wheel_arm(struct synack_wheel *w, struct synack_timer *t, uint64_t deadline_us)
{
	synack_wheel_cancel(w, t);
	t->deadline_us = deadline_us;
	t->armed = true;
	w->count++;
	place(w, t, NULL);
}

void synack_wheel_move(struct synack_wheel *w, struct synack_timer *to, struct synack_timer *from)
{
	uint32_t kind = to->kind;
	*to = *from;
	to->kind = kind;
	if (from->armed) {
		if (to->prev)
			to->prev->next = to;
		else
			*list_of(w, to) = to;
		if (to->next)
			to->next->prev = to;
	}
	from->next = from->prev = NULL;
	from->armed = false;
}

static uint64_t slot_min(const struct synack_timer *t)
{
	uint64_t m = UINT64_MAX;
	for (; t; t = t->next)
		if (t->deadline_us < m)
			m = t->deadline_us;
	return m;
}

/* Makes the cached minimum of each level's first non-empty slot exact again (the only slots
 * next_deadline reads), so that an idle stack's polls cost O(levels), not O(timers). */
static void refresh_mins(struct synack_wheel *w)
{
	for (unsigned l = 0; l < SYNACK_WHEEL_LEVELS; l++) {
		unsigned slot;
		if (first_slot_tick(w, l, &slot) == UINT64_MAX || (w->min_ok[l] >> slot & 1))
			continue;
		w->slot_min[l][slot] = slot_min(w->slots[l][slot]);
		w->min_ok[l] |= 1ull << slot;
	}
}

static struct synack_timer *expire_one(struct synack_wheel *w, uint64_t now_us)
{
	uint64_t target = now_us / 1000;
	for (;;) {
		struct synack_timer *t = w->overdue;
		if (t) {
			/* The earliest timer of all; if it is not due, nothing is. */
			if (t->deadline_us > now_us)
				return NULL;
			synack_wheel_cancel(w, t);
			return t;
		}
		if (w->now_ms >= target)
			return NULL;
		uint64_t e = next_event(w);
		if (e > target) {
			w->now_ms = target;
			return NULL;
		}
		advance_to(w, e);
	}
}

struct synack_timer *synack_wheel_expire(struct synack_wheel *w, uint64_t now_us)
{
	struct synack_timer *t = expire_one(w, now_us);
	if (!t)
		refresh_mins(w);
	return t;
}

uint64_t synack_wheel_next_deadline(const struct synack_wheel *w)
{
	if (w->overdue)
		return w->overdue->deadline_us;
	/* Slots of one level are reached in order of their deadlines, so each level's earliest
	 * timer is in its first non-empty slot; a slot that starts after the best deadline
	 * found so far cannot hold anything earlier and is not scanned. */
	uint64_t best = w->far ? w->far->deadline_us : UINT64_MAX;
	for (unsigned l = 0; l < SYNACK_WHEEL_LEVELS; l++) {
		unsigned slot;
		uint64_t start = first_slot_tick(w, l, &slot);
		if (start == UINT64_MAX || start > best / 1000)
			continue;
		uint64_t m = w->min_ok[l] >> slot & 1 ? w->slot_min[l][slot]
						       : slot_min(w->slots[l][slot]);
		if (m < best)
			best = m;
	}
	return best;
}
