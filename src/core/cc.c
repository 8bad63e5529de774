/* The registry of congestion controllers, by name (Linux's tcp_cong_list, fixed at build
 * time: the core has no mutable globals). */
#include <string.h>

#include "core/cc.h"
#include "core/stack_impl.h"

static const struct cc_ops *const registry[] = {
	&cc_newreno,
	&cc_cubic,
};

const struct cc_ops *cc_find(const char *name)
{
	for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
		if (strlen(registry[i]->name) == strlen(name) &&
		    memcmp(registry[i]->name, name, strlen(name)) == 0)
			return registry[i];
	return NULL;
}

uint8_t cc_index(const struct cc_ops *ops)
{
	for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
		if (registry[i] == ops)
			return (uint8_t)i;
	SYNACK_ASSERT(0 && "a controller outside the registry");
	return 0;
}

const struct cc_ops *cc_at(uint8_t i)
{
	SYNACK_ASSERT(i < sizeof registry / sizeof registry[0]);
	return registry[i];
}

void cc_set(struct cc *cc, const struct cc_ops *ops)
{
	cc->ops = ops;
	memset(&cc->priv, 0, sizeof cc->priv);
}

void cc_idle_restart(struct cc *cc, uint32_t iw, uint64_t idle_us, uint32_t rto_us)
{
	/* tcp_current_ssthresh: max(ssthresh, 3/4 cwnd) */
	uint32_t three_q = (cc->cwnd >> 1) + (cc->cwnd >> 2);
	if (cc->ssthresh < three_q)
		cc->ssthresh = three_q;
	uint32_t restart = iw < cc->cwnd ? iw : cc->cwnd;
	uint32_t cwnd = cc->cwnd;
	int64_t delta = (int64_t)idle_us;
	while ((delta -= rto_us) > 0 && cwnd > restart && rto_us > 0)
		cwnd >>= 1;
	cc->cwnd = cwnd > restart ? cwnd : restart;
}
