/* The simulated world: stacks on one simulated network, driven by one virtual clock.
 *
 * Each host is a stack whose output callback sends into the host's link — its simnet
 * endpoint, optionally wrapped by the fault decorator and then by a pcap writer (outermost,
 * so the capture shows what the host itself sent and received, like tcpdump on its NIC):
 *
 *     stack --output--> [pcap] -> [fault] -> simnet endpoint ~~~> peer's endpoint -> peer stack
 *
 * The stack is told the outermost link's capabilities (synack_config.caps), so it sends only
 * what the chain can take.
 *
 * The clock only jumps: synack_sim_step() finds the next event — the earliest of every host's
 * synack_driver_next() (its link's next arrival, its stack's next deadline) — moves the clock
 * there and processes everything due at that instant, host by host in the order they were
 * added, with the step every driver takes (drivers/driver.h): first the frames the host's
 * link has due (each handed to synack_stack_input_frame with its metadata), then the host's timers
 * (synack_stack_poll). Work caused at the same instant (a zero-delay reply, a frame released
 * by the fault decorator) is processed in further passes before the step returns. Nothing
 * depends on the wall clock or on addresses in memory, so a seed replays a run byte for byte.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/driver.h"
#include "synack/sim.h"
#include "util/rng.h"

#define SIM_MAX_FRAME 65536
#define SIM_MAX_PASSES 4096 /* same-instant passes per step: a guard against livelock */

struct sim_host {
	struct synack_sim *sim;
	struct synack_stack *stack;
	struct synack_link *link;     /* the outermost link */
	struct synack_link *endpoint; /* the simnet endpoint */
	struct synack_link *fault;    /* the fault decorator, or NULL */
	struct synack_pcap_writer *pcap; /* owned by the pcap decorator, or NULL */
	uint64_t tx_errors;           /* frames the link refused (queue full, ...) */
	struct synack_driver drv;     /* stack + outermost link, reading into sim->buf */
};

struct synack_sim {
	uint64_t seed;
	uint64_t now;
	struct synack_simnet *net;
	struct sim_host **hosts;
	size_t n_hosts, cap_hosts;
	uint8_t buf[SIM_MAX_FRAME];
};

/* splitmix64's finaliser: distinct, well-mixed seeds for each part of the world. */
static uint64_t mix(uint64_t seed, uint64_t salt)
{
	uint64_t z = seed + 0x9e3779b97f4a7c15ull * (salt + 1);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

enum { SALT_NET = 0, SALT_STACK = 1, SALT_SECRET = 2, SALT_FAULT = 3 };

static uint64_t host_seed(const struct synack_sim *sim, size_t index, int what)
{
	return mix(mix(sim->seed, what), index);
}

int synack_sim_new(struct synack_sim **out, uint64_t seed)
{
	struct synack_sim *sim = calloc(1, sizeof(*sim));
	if (!sim)
		return -ENOMEM;
	sim->seed = seed;
	int err = synack_simnet_new(&sim->net, mix(seed, SALT_NET));
	if (err) {
		free(sim);
		return err;
	}
	*out = sim;
	return 0;
}

static void host_free(struct sim_host *h)
{
	if (h->stack)
		synack_stack_destroy(h->stack);
	synack_link_destroy(h->link);
	free(h);
}

void synack_sim_destroy(struct synack_sim *sim)
{
	if (!sim)
		return;
	for (size_t i = 0; i < sim->n_hosts; i++)
		host_free(sim->hosts[i]);
	free(sim->hosts);
	synack_simnet_destroy(sim->net);
	free(sim);
}

/* The stack's output callback: every frame leaves at the simulation's current time. */
static void host_output(void *ctx, const uint8_t *frame, const struct synack_frame_meta *meta)
{
	struct sim_host *h = ctx;
	if (synack_link_send(h->link, frame, meta, h->sim->now) < 0)
		h->tx_errors++;
}

/* A host answers on the simulated network to all its addresses, of both families (0.0.0.0
 * when it has none, as before hosts had a list). */
static int attach_host(struct synack_sim *sim, const struct synack_config *cfg,
		       const struct synack_sim_path *path, struct synack_link **out)
{
	struct synack_addr a[SYNACK_STACK_ADDRS_MAX];
	size_t n = 0;
	for (uint32_t i = 0; i < cfg->naddrs && n < 8; i++)
		a[n++] = cfg->addrs[i].addr;
	if (n == 0)
		a[n++] = synack_addr_v4(0);
	return synack_simnet_attach_addrs(sim->net, a, n, path, out);
}

/* Builds endpoint -> [fault] -> [pcap] for a host. */
static int host_links(struct synack_sim *sim, struct sim_host *h, const struct synack_config *cfg,
		      const struct synack_sim_host_opts *o)
{
	int err = attach_host(sim, cfg, o ? &o->path : NULL, &h->endpoint);
	if (err)
		return err;
	h->link = h->endpoint;
	if (o && o->fault) {
		struct synack_fault_params p = *o->fault;
		if (!p.trace) { /* faults go where the host's own events go: one ladder */
			p.trace = cfg->trace;
			p.trace_ctx = cfg->trace_ctx;
		}
		if (!p.host)
			p.host = cfg->name;
		err = synack_fault_wrap(h->link, &p, host_seed(sim, sim->n_hosts, SALT_FAULT),
					&h->fault);
		if (err)
			return err;
		h->link = h->fault;
	}
	if (o && o->pcap_path) {
		err = synack_pcap_open(&h->pcap, o->pcap_path);
		if (err)
			return err;
		struct synack_link *cap;
		err = synack_pcap_wrap(h->link, h->pcap, &cap);
		if (err) {
			(void)synack_pcap_close(h->pcap);
			h->pcap = NULL;
			return err;
		}
		h->link = cap;
	}
	return 0;
}

static void derive_identity(const struct synack_sim *sim, size_t index, struct synack_config *c)
{
	static const uint8_t zero[sizeof(c->secret)];
	if (c->seed != 0 || memcmp(c->secret, zero, sizeof(zero)) != 0)
		return;
	c->seed = host_seed(sim, index, SALT_STACK);
	struct synack_rng r;
	synack_rng_seed(&r, host_seed(sim, index, SALT_SECRET));
	for (size_t i = 0; i < sizeof(c->secret); i += 8) {
		uint64_t v = synack_rng_next(&r);
		memcpy(c->secret + i, &v, 8);
	}
}

int synack_sim_add_host(struct synack_sim *sim, const struct synack_config *cfg,
			const struct synack_sim_host_opts *opts, struct synack_stack **out)
{
	if (!sim || !cfg || !out)
		return -EINVAL;
	if (sim->n_hosts == sim->cap_hosts) {
		size_t cap = sim->cap_hosts ? sim->cap_hosts * 2 : 4;
		struct sim_host **hs = realloc(sim->hosts, cap * sizeof(*hs));
		if (!hs)
			return -ENOMEM;
		sim->hosts = hs;
		sim->cap_hosts = cap;
	}
	struct sim_host *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->sim = sim;
	int err = host_links(sim, h, cfg, opts);
	if (err) {
		host_free(h);
		return err;
	}
	struct synack_config c = *cfg;
	c.output = host_output;
	c.output_ctx = h;
	c.caps = h->link->caps; /* the stack sends what the host's link can take */
	derive_identity(sim, sim->n_hosts, &c);
	err = synack_stack_new(&h->stack, &c); /* malloc-backed when cfg brings no allocator */
	if (err) {
		h->stack = NULL;
		host_free(h);
		return err;
	}
	(void)synack_stack_poll(h->stack, sim->now); /* the stack's clock starts at ours */
	h->drv = (struct synack_driver){.stack = h->stack, .link = h->link, .buf = sim->buf,
					.cap = sizeof(sim->buf)};
	sim->hosts[sim->n_hosts++] = h;
	*out = h->stack;
	return 0;
}

uint64_t synack_sim_now(const struct synack_sim *sim)
{
	return sim->now;
}

uint64_t synack_sim_next_event(const struct synack_sim *sim)
{
	uint64_t t = SYNACK_TIME_NEVER;
	for (size_t i = 0; i < sim->n_hosts; i++) {
		uint64_t d = synack_driver_next(&sim->hosts[i]->drv);
		if (d < t)
			t = d;
	}
	return t;
}

/* One pass over the hosts in order: each takes the driver step at now. Returns whether
 * anything was due (simulated links fail only with -EMSGSIZE, which the step counts). */
static bool pass(struct synack_sim *sim)
{
	bool any = false;
	for (size_t i = 0; i < sim->n_hosts; i++)
		any |= synack_driver_step(&sim->hosts[i]->drv, sim->now) != 0;
	return any;
}

/* Brings every stack's clock to the simulation's, so API calls made between steps act now. */
static void sync_clocks(struct synack_sim *sim)
{
	for (size_t i = 0; i < sim->n_hosts; i++)
		if (synack_stack_now(sim->hosts[i]->stack) < sim->now)
			(void)synack_stack_poll(sim->hosts[i]->stack, sim->now);
}

bool synack_sim_step(struct synack_sim *sim, uint64_t limit_us)
{
	uint64_t t = synack_sim_next_event(sim);
	if (t == SYNACK_TIME_NEVER || t > limit_us) {
		if (limit_us != SYNACK_TIME_NEVER && limit_us > sim->now) {
			sim->now = limit_us;
			sync_clocks(sim);
		}
		return false;
	}
	if (t > sim->now)
		sim->now = t;
	for (int i = 0; i < SIM_MAX_PASSES && pass(sim); i++)
		;
	sync_clocks(sim);
	return true;
}

void synack_sim_run_until(struct synack_sim *sim, uint64_t t_us)
{
	while (synack_sim_step(sim, t_us))
		;
}

static struct sim_host *find_host(const struct synack_sim *sim, const struct synack_stack *s)
{
	for (size_t i = 0; i < sim->n_hosts; i++)
		if (sim->hosts[i]->stack == s)
			return sim->hosts[i];
	return NULL;
}

void synack_sim_inject(struct synack_sim *sim, struct synack_stack *host, const uint8_t *frame,
		       size_t len)
{
	struct sim_host *h = find_host(sim, host);
	if (!h)
		return;
	if (h->pcap)
		(void)synack_pcap_write(h->pcap, frame, len, sim->now);
	synack_stack_input(h->stack, frame, len, sim->now);
}

int synack_sim_send_raw(struct synack_sim *sim, const uint8_t *frame, size_t len)
{
	return synack_simnet_inject(sim->net, frame, len, sim->now);
}

struct synack_simnet *synack_sim_net(struct synack_sim *sim)
{
	return sim->net;
}

struct synack_link *synack_sim_host_endpoint(struct synack_sim *sim, struct synack_stack *host)
{
	struct sim_host *h = find_host(sim, host);
	return h ? h->endpoint : NULL;
}

struct synack_link *synack_sim_host_fault(struct synack_sim *sim, struct synack_stack *host)
{
	struct sim_host *h = find_host(sim, host);
	return h ? h->fault : NULL;
}

uint64_t synack_sim_host_tx_errors(const struct synack_sim *sim, const struct synack_stack *host)
{
	const struct sim_host *h = find_host(sim, host);
	return h ? h->tx_errors : 0;
}
