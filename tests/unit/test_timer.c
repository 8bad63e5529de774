/* The hierarchical timer wheel: deadline order, exactness to the microsecond, re-arm and cancel
 * during expiry, cascading over hours, days and beyond the wheel's range, next_deadline, and
 * a 100k-timer property test against a sorted reference. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "util/rng.h"
#include "core/timer.h"

#define MS 1000ull
#define SEC (1000 * MS)
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)

static struct synack_wheel w;

static void setup(void) { synack_wheel_init(&w, 0); }

TestSuite(timer, .init = setup);

Test(timer, empty_wheel)
{
	cr_assert_eq(synack_wheel_next_deadline(&w), UINT64_MAX);
	cr_assert_null(synack_wheel_expire(&w, 10 * DAY));
	cr_assert_eq(w.count, 0);
}

Test(timer, fires_in_deadline_order)
{
	static const uint64_t d[] = {90 * MS, 5 * MS, 70 * SEC, 5 * MS + 1, 64 * MS, 63 * MS,
				     4096 * MS, 1, 0, 3 * HOUR};
	struct synack_timer t[10] = {0};
	for (int i = 0; i < 10; i++) {
		t[i].kind = (uint32_t)i;
		synack_wheel_arm(&w, &t[i], d[i]);
	}
	cr_assert_eq(w.count, 10);
	static const int order[] = {8, 7, 1, 3, 5, 4, 0, 6, 2, 9};
	for (int i = 0; i < 10; i++) {
		struct synack_timer *x = synack_wheel_expire(&w, 4 * HOUR);
		cr_assert_not_null(x, "pop %d", i);
		cr_assert_eq(x->kind, (uint32_t)order[i], "pop %d: kind %u", i, x->kind);
		cr_assert(!synack_timer_armed(x));
		cr_assert_null(x->next);
		cr_assert_null(x->prev);
	}
	cr_assert_null(synack_wheel_expire(&w, 4 * HOUR));
	cr_assert_eq(w.count, 0);
}

Test(timer, exact_to_the_microsecond)
{
	struct synack_timer a = {0};
	synack_wheel_arm(&w, &a, 1500);
	cr_assert_eq(synack_wheel_next_deadline(&w), 1500);
	cr_assert_null(synack_wheel_expire(&w, 1000));
	cr_assert_null(synack_wheel_expire(&w, 1499));
	cr_assert_eq(synack_wheel_next_deadline(&w), 1500);
	cr_assert_eq(synack_wheel_expire(&w, 1500), &a);
	cr_assert_null(synack_wheel_expire(&w, 1500));
}

Test(timer, same_millisecond_different_microseconds)
{
	struct synack_timer a = {0}, b = {0}, c = {0};
	synack_wheel_arm(&w, &a, 7700);
	synack_wheel_arm(&w, &b, 7200);
	synack_wheel_arm(&w, &c, 7999);
	cr_assert_eq(synack_wheel_next_deadline(&w), 7200);
	cr_assert_eq(synack_wheel_expire(&w, 7500), &b);
	cr_assert_null(synack_wheel_expire(&w, 7500));
	cr_assert_eq(synack_wheel_next_deadline(&w), 7700);
	cr_assert_eq(synack_wheel_expire(&w, 7700), &a);
	cr_assert_null(synack_wheel_expire(&w, 7998));
	cr_assert_eq(synack_wheel_expire(&w, 8000), &c);
}

Test(timer, past_deadline_fires_on_next_expire)
{
	struct synack_timer a = {0}, b = {0}, c = {0};
	cr_assert_null(synack_wheel_expire(&w, 50 * SEC));
	synack_wheel_arm(&w, &a, 10 * SEC);
	synack_wheel_arm(&w, &b, 0);
	synack_wheel_arm(&w, &c, 50 * SEC + 1); /* this millisecond, but 1 us in the future */
	cr_assert_eq(synack_wheel_next_deadline(&w), 0);
	cr_assert_eq(synack_wheel_expire(&w, 50 * SEC), &b);
	cr_assert_eq(synack_wheel_expire(&w, 50 * SEC), &a);
	cr_assert_null(synack_wheel_expire(&w, 50 * SEC));
	cr_assert_eq(synack_wheel_next_deadline(&w), 50 * SEC + 1);
	cr_assert_eq(synack_wheel_expire(&w, 50 * SEC + 1), &c);
}

Test(timer, rearm_moves_timer)
{
	struct synack_timer a = {0};
	synack_wheel_arm(&w, &a, 10 * MS);
	synack_wheel_arm(&w, &a, 5 * SEC);
	cr_assert_eq(w.count, 1);
	cr_assert_eq(synack_wheel_next_deadline(&w), 5 * SEC);
	cr_assert_null(synack_wheel_expire(&w, 5 * SEC - 1));
	synack_wheel_arm(&w, &a, 2 * SEC); /* earlier again, now in the past */
	cr_assert_eq(w.count, 1);
	cr_assert_eq(synack_wheel_expire(&w, 5 * SEC - 1), &a);
	cr_assert_eq(w.count, 0);
}

Test(timer, cancel)
{
	struct synack_timer a = {0}, b = {0};
	synack_wheel_cancel(&w, &a); /* not armed: harmless */
	synack_wheel_arm(&w, &a, 100 * MS);
	synack_wheel_arm(&w, &b, 200 * MS);
	synack_wheel_cancel(&w, &a);
	synack_wheel_cancel(&w, &a);
	cr_assert(!synack_timer_armed(&a));
	cr_assert_eq(w.count, 1);
	cr_assert_eq(synack_wheel_next_deadline(&w), 200 * MS);
	cr_assert_eq(synack_wheel_expire(&w, SEC), &b);
	cr_assert_null(synack_wheel_expire(&w, SEC));
}

/* Between pops the owner may re-arm the popped timer, cancel one that is due, or arm a new
 * one that is already due: the next pop sees all of it. */
Test(timer, rearm_and_cancel_during_expiry)
{
	struct synack_timer a = {0}, b = {0}, c = {0}, d = {0};
	synack_wheel_arm(&w, &a, 10 * MS);
	synack_wheel_arm(&w, &b, 20 * MS);
	synack_wheel_arm(&w, &c, 30 * MS);
	uint64_t now = 40 * MS;
	struct synack_timer *x = synack_wheel_expire(&w, now);
	cr_assert_eq(x, &a);
	synack_wheel_arm(&w, &a, now + 5 * MS); /* retransmit again later */
	synack_wheel_cancel(&w, &b);            /* acked meanwhile */
	synack_wheel_arm(&w, &d, 25 * MS);      /* armed in the past: before c */
	cr_assert_eq(synack_wheel_expire(&w, now), &d);
	cr_assert_eq(synack_wheel_expire(&w, now), &c);
	synack_wheel_arm(&w, &c, now); /* re-armed for exactly now: due at once */
	cr_assert_eq(synack_wheel_expire(&w, now), &c);
	cr_assert_null(synack_wheel_expire(&w, now));
	cr_assert_eq(synack_wheel_next_deadline(&w), 45 * MS);
	cr_assert_eq(synack_wheel_expire(&w, 45 * MS), &a);
}

/* A level-1 timer can be due before a level-0 timer that wrapped into the next 64 ms block. */
Test(timer, next_deadline_across_levels)
{
	struct synack_timer a = {0}, b = {0};
	synack_wheel_init(&w, 10 * MS);
	synack_wheel_arm(&w, &a, 74 * MS + 3); /* diff 64 ms: level 1 */
	cr_assert_null(synack_wheel_expire(&w, 60 * MS));
	synack_wheel_arm(&w, &b, 120 * MS); /* diff 60 ms: level 0, slot behind now */
	cr_assert_eq(synack_wheel_next_deadline(&w), 74 * MS + 3);
	cr_assert_null(synack_wheel_expire(&w, 74 * MS + 2));
	cr_assert_eq(synack_wheel_expire(&w, 74 * MS + 3), &a);
	cr_assert_eq(synack_wheel_next_deadline(&w), 120 * MS);
	cr_assert_null(synack_wheel_expire(&w, 120 * MS - 1));
	cr_assert_eq(synack_wheel_expire(&w, 120 * MS), &b);
}

/* Long ranges cascade down every level; each timer fires at its exact microsecond, whether
 * the clock moves in one jump or in many small steps. */
static void check_long_range(uint64_t step)
{
	static const uint64_t d[] = {2 * HOUR + 17, DAY + 5 * SEC + 999, 12 * DAY + 1,
				     400 * DAY + 123456, 900 * DAY + 7, 3000 * DAY + 42};
	struct synack_timer t[6] = {0};
	for (int i = 0; i < 6; i++)
		synack_wheel_arm(&w, &t[i], d[i]);
	uint64_t now = 0;
	for (int i = 0; i < 6; i++) {
		cr_assert_eq(synack_wheel_next_deadline(&w), d[i], "timer %d", i);
		while (step && now + step < d[i]) {
			now += step;
			cr_assert_null(synack_wheel_expire(&w, now));
		}
		cr_assert_null(synack_wheel_expire(&w, d[i] - 1), "timer %d early", i);
		now = d[i];
		cr_assert_eq(synack_wheel_expire(&w, now), &t[i], "timer %d", i);
		cr_assert_null(synack_wheel_expire(&w, now));
	}
	cr_assert_eq(w.count, 0);
}

Test(timer, cascades_over_hours_and_days_in_jumps) { check_long_range(0); }

Test(timer, cascades_over_days_in_steps) { check_long_range(7 * HOUR + 13 * SEC + 7); }

/* Beyond 64^6 ms (about 795 days) timers wait on the far list; one armed later but due
 * earlier than a far timer still comes first, and next_deadline sees both. */
Test(timer, beyond_range_ordering)
{
	struct synack_timer far = {0}, near = {0}, later = {0};
	uint64_t span_us = (1ull << 36) * MS;
	synack_wheel_arm(&w, &far, span_us + 5 * DAY);
	cr_assert_eq(synack_wheel_next_deadline(&w), span_us + 5 * DAY);
	cr_assert_null(synack_wheel_expire(&w, 3 * DAY));
	synack_wheel_arm(&w, &near, span_us + DAY);      /* within range of now: on the wheel */
	synack_wheel_arm(&w, &later, span_us + 2 * DAY); /* on the wheel, after near */
	cr_assert_eq(synack_wheel_next_deadline(&w), span_us + DAY);
	cr_assert_null(synack_wheel_expire(&w, span_us + DAY - 1));
	cr_assert_eq(synack_wheel_expire(&w, span_us + DAY), &near);
	cr_assert_eq(synack_wheel_next_deadline(&w), span_us + 2 * DAY);
	cr_assert_null(synack_wheel_expire(&w, span_us + 2 * DAY - 1));
	cr_assert_eq(synack_wheel_expire(&w, span_us + 5 * DAY), &later);
	cr_assert_eq(synack_wheel_expire(&w, span_us + 5 * DAY), &far);
	cr_assert_null(synack_wheel_expire(&w, UINT64_MAX));
}

Test(timer, extreme_deadlines)
{
	struct synack_timer a = {0}, b = {0};
	synack_wheel_arm(&w, &a, UINT64_MAX);
	synack_wheel_arm(&w, &b, UINT64_MAX - 1);
	cr_assert_eq(synack_wheel_next_deadline(&w), UINT64_MAX - 1);
	cr_assert_null(synack_wheel_expire(&w, UINT64_MAX - 2));
	cr_assert_eq(synack_wheel_expire(&w, UINT64_MAX), &b);
	cr_assert_eq(synack_wheel_expire(&w, UINT64_MAX), &a);
}

/* ---- property test against a reference --------------------------------------------------- */

struct ref_entry {
	uint64_t deadline;
	uint32_t id, gen;
};

struct ref_heap {
	struct ref_entry *e;
	size_t n, cap;
};

static bool ref_less(const struct ref_entry *a, const struct ref_entry *b)
{
	return a->deadline < b->deadline;
}

static void heap_push(struct ref_heap *h, struct ref_entry x)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		h->e = realloc(h->e, h->cap * sizeof(*h->e));
		cr_assert_not_null(h->e);
	}
	size_t i = h->n++;
	while (i > 0 && ref_less(&x, &h->e[(i - 1) / 2])) {
		h->e[i] = h->e[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->e[i] = x;
}

static void heap_pop(struct ref_heap *h)
{
	struct ref_entry x = h->e[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && ref_less(&h->e[c + 1], &h->e[c]))
			c++;
		if (!ref_less(&h->e[c], &x))
			break;
		h->e[i] = h->e[c];
		i = c;
	}
	if (h->n)
		h->e[i] = x;
}

#define NTIMERS 100000

struct model {
	struct synack_timer t[NTIMERS];
	uint32_t gen[NTIMERS];
	struct ref_heap heap;
	struct synack_rng rng;
	uint64_t now;
};

/* The reference's earliest armed deadline. An entry is stale (dropped) once its timer was
 * re-armed, cancelled or popped since: each of those bumps the timer's generation. */
static uint64_t ref_min(struct model *m)
{
	while (m->heap.n) {
		struct ref_entry *top = &m->heap.e[0];
		if (m->gen[top->id] == top->gen)
			return top->deadline;
		heap_pop(&m->heap);
	}
	return UINT64_MAX;
}

static uint64_t random_delay(struct synack_rng *r)
{
	switch (synack_rng_below(r, 5)) {
	case 0:
		return synack_rng_below(r, 100 * MS);
	case 1:
		return synack_rng_below(r, 10 * SEC);
	case 2:
		return synack_rng_below(r, 2 * HOUR);
	case 3:
		return synack_rng_below(r, 30 * DAY);
	default:
		return synack_rng_below(r, 2000 * DAY) + (synack_rng_below(r, 2) ? 0 : 1000 * DAY);
	}
}

static void model_arm(struct model *m, uint32_t id, uint64_t deadline)
{
	synack_wheel_arm(&w, &m->t[id], deadline);
	m->gen[id]++;
	heap_push(&m->heap, (struct ref_entry){deadline, id, m->gen[id]});
}

/* Walks every list of the wheel: links consistent, each timer armed and recorded where it is,
 * bitmaps right, and the total equal to count. */
static void wheel_check(const struct synack_wheel *wh)
{
	uint64_t n = 0;
	const struct synack_timer *heads[2] = {wh->overdue, wh->far};
	for (int l = 0; l < SYNACK_WHEEL_LEVELS; l++) {
		for (int s = 0; s < SYNACK_WHEEL_SLOTS; s++) {
			const struct synack_timer *prev = NULL;
			uint64_t min = UINT64_MAX;
			cr_assert_eq(wh->slots[l][s] != NULL, (wh->occupied[l] >> s) & 1);
			for (const struct synack_timer *t = wh->slots[l][s]; t; t = t->next) {
				cr_assert_eq(t->prev, prev);
				cr_assert(t->armed);
				cr_assert_eq(t->level, l);
				cr_assert_eq(t->slot, s);
				cr_assert_gt(t->deadline_us / 1000, wh->now_ms);
				if (t->deadline_us < min)
					min = t->deadline_us;
				prev = t;
				n++;
			}
			if (wh->slots[l][s] && (wh->min_ok[l] >> s & 1))
				cr_assert_eq(wh->slot_min[l][s], min, "cached minimum of slot %d/%d", l,
					     s);
		}
	}
	for (int k = 0; k < 2; k++) {
		const struct synack_timer *prev = NULL;
		for (const struct synack_timer *t = heads[k]; t; t = t->next) {
			cr_assert_eq(t->prev, prev);
			cr_assert(t->armed);
			cr_assert_eq(t->level, SYNACK_WHEEL_LEVELS + k);
			if (prev)
				cr_assert_leq(prev->deadline_us, t->deadline_us, "sorted");
			prev = t;
			n++;
		}
	}
	cr_assert_eq(n, wh->count);
}

/* Pops everything due at m->now, checking each against the reference; sometimes re-arms the
 * popped timer or cancels another one between pops. */
static uint64_t drain(struct model *m, uint64_t *rearms)
{
	uint64_t popped = 0;
	struct synack_timer *x;
	while ((x = synack_wheel_expire(&w, m->now)) != NULL) {
		uint32_t id = x->kind;
		uint64_t want = ref_min(m);
		cr_assert_eq(x->deadline_us, want, "popped %lu, reference min %lu at now %lu",
			     (unsigned long)x->deadline_us, (unsigned long)want,
			     (unsigned long)m->now);
		cr_assert_leq(x->deadline_us, m->now, "fired early");
		m->gen[id]++; /* disarmed in the reference */
		popped++;
		uint64_t dice = synack_rng_below(&m->rng, 100);
		if (dice < 10 && *rearms > 0) {
			(*rearms)--;
			uint64_t d = dice < 2 ? m->now - synack_rng_below(&m->rng, m->now + 1)
					      : m->now + random_delay(&m->rng);
			model_arm(m, id, d);
		} else if (dice < 15) {
			uint32_t victim = (uint32_t)synack_rng_below(&m->rng, NTIMERS);
			synack_wheel_cancel(&w, &m->t[victim]);
			m->gen[victim]++;
		}
	}
	uint64_t next = ref_min(m);
	cr_assert(next > m->now, "nothing due is left behind at %lu", (unsigned long)m->now);
	cr_assert_eq(synack_wheel_next_deadline(&w), next);
	return popped;
}

Test(timer, property_100k_random_timers)
{
	struct model *m = calloc(1, sizeof(*m));
	cr_assert_not_null(m);
	synack_rng_seed(&m->rng, 20261121);
	m->now = 5 * SEC + 123;
	synack_wheel_init(&w, m->now);
	for (uint32_t i = 0; i < NTIMERS; i++) {
		m->t[i].kind = i;
		model_arm(m, i, m->now + random_delay(&m->rng));
	}
	cr_assert_eq(synack_wheel_next_deadline(&w), ref_min(m));
	uint64_t rearms = 20000, popped = 0, steps = 0;
	while (w.count > 0) {
		uint64_t next = synack_wheel_next_deadline(&w);
		cr_assert_eq(next, ref_min(m));
		uint64_t dice = synack_rng_below(&m->rng, 64);
		if (dice < 40 && next > m->now) {
			/* Sleep exactly until the next deadline, after checking one us before. */
			m->now = next - 1;
			popped += drain(m, &rearms);
			m->now = next;
		} else if (dice < 63) {
			m->now += synack_rng_below(&m->rng, 3 * MS);
		} else {
			m->now += random_delay(&m->rng) / 16;
		}
		popped += drain(m, &rearms);
		if (steps++ % 64 == 0)
			wheel_check(&w);
	}
	cr_assert_eq(ref_min(m), UINT64_MAX);
	cr_assert_geq(popped, NTIMERS - 20000, "most timers fired (%lu)", (unsigned long)popped);
	cr_log_info("%lu pops in %lu steps", (unsigned long)popped, (unsigned long)steps);
	free(m->heap.e);
	free(m);
}

/* Connections opened together put their keepalives in one high-level slot: next_deadline
 * stays exact when that slot's earliest timer is cancelled or re-armed (with or without an
 * expire() in between), and an earlier arrival lowers it. */
Test(timer, next_deadline_of_a_crowded_slot)
{
	static struct synack_timer t[1000];
	for (int i = 0; i < 1000; i++)
		synack_wheel_arm(&w, &t[i], 2 * HOUR + 1000 * (uint64_t)i);
	cr_assert_null(synack_wheel_expire(&w, SEC));
	cr_assert_eq(synack_wheel_next_deadline(&w), 2 * HOUR);
	synack_wheel_cancel(&w, &t[0]);
	cr_assert_eq(synack_wheel_next_deadline(&w), 2 * HOUR + 1000, "before expire");
	cr_assert_null(synack_wheel_expire(&w, SEC + 1));
	cr_assert_eq(synack_wheel_next_deadline(&w), 2 * HOUR + 1000, "after expire");
	synack_wheel_arm(&w, &t[1], 3 * HOUR); /* the earliest moves away */
	cr_assert_eq(synack_wheel_next_deadline(&w), 2 * HOUR + 2000);
	synack_wheel_arm(&w, &t[0], 2 * HOUR - 5); /* an earlier one joins */
	cr_assert_eq(synack_wheel_next_deadline(&w), 2 * HOUR - 5);
	cr_assert_null(synack_wheel_expire(&w, 2 * SEC));
	cr_assert_eq(synack_wheel_next_deadline(&w), 2 * HOUR - 5);
	cr_assert_eq(synack_wheel_expire(&w, 2 * HOUR - 5), &t[0]);
	cr_assert_eq(synack_wheel_next_deadline(&w), 2 * HOUR + 2000);
	wheel_check(&w);
}

/* Moving an armed timer keeps its deadline and its place among timers of the same deadline
 * (first, middle and last of a list; a slot, the overdue list); the new entry keeps its own
 * kind; moving a disarmed timer copies its deadline and leaves both disarmed. */
Test(timer, move_keeps_the_place_among_equal_deadlines)
{
	for (uint64_t at = 5 * SEC; at != 0; at = at == 5 * SEC ? 1 : 0) {
		synack_wheel_init(&w, 0);
		if (at == 1)
			cr_assert_null(synack_wheel_expire(&w, 2 * MS)); /* deadline 1: overdue */
		struct synack_timer t[4] = {0}, moved[3] = {0};
		for (int i = 0; i < 4; i++) {
			t[i].kind = (uint32_t)i;
			synack_wheel_arm(&w, &t[i], at);
		}
		struct synack_timer *before[4];
		for (int m = 0; m < 3; m++) {
			moved[m].kind = 10u + (uint32_t)m;
			synack_wheel_move(&w, &moved[m], &t[m == 2 ? 3 : m]); /* 0, 1 and 3 move */
			cr_assert(!synack_timer_armed(&t[m == 2 ? 3 : m]));
			cr_assert(synack_timer_armed(&moved[m]));
			cr_assert_eq(moved[m].deadline_us, at);
		}
		cr_assert_eq(w.count, 4);
		uint32_t seen[4];
		for (int i = 0; i < 4; i++) {
			before[i] = synack_wheel_expire(&w, 10 * SEC);
			cr_assert_not_null(before[i]);
			seen[i] = before[i]->kind;
		}
		cr_assert_null(synack_wheel_expire(&w, 10 * SEC));
		/* Without the moves the same arming pops in some fixed order: the moved entries
		 * stand where their originals stood. */
		synack_wheel_init(&w, 0);
		if (at == 1)
			synack_wheel_expire(&w, 2 * MS);
		struct synack_timer u[4] = {0};
		for (int i = 0; i < 4; i++) {
			u[i].kind = (uint32_t)i;
			synack_wheel_arm(&w, &u[i], at);
		}
		static const uint32_t as_moved[4] = {10, 11, 2, 12};
		for (int i = 0; i < 4; i++)
			cr_assert_eq(seen[i], as_moved[synack_wheel_expire(&w, 10 * SEC)->kind]);
	}
	struct synack_timer a = {0}, b = {.kind = 7};
	synack_wheel_init(&w, 0);
	synack_wheel_arm(&w, &a, 3 * MS);
	synack_wheel_cancel(&w, &a);
	synack_wheel_move(&w, &b, &a);
	cr_assert(!synack_timer_armed(&b));
	cr_assert_eq(b.kind, 7);
	cr_assert_eq(b.deadline_us, 3 * MS);
	cr_assert_eq(w.count, 0);
}
