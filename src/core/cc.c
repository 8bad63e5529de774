/* The registry of congestion controllers, by name (Linux's tcp_cong_list, fixed at build
 * time: the core has no mutable globals). */
#include <string.h>

#include "core/cc.h"

static const struct cc_ops *const registry[] = {
	&cc_newreno,
};

const struct cc_ops *cc_find(const char *name)
{
	for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
		if (strlen(registry[i]->name) == strlen(name) &&
		    memcmp(registry[i]->name, name, strlen(name)) == 0)
			return registry[i];
	return NULL;
}

void cc_set(struct cc *cc, const struct cc_ops *ops)
{
	cc->ops = ops;
	memset(&cc->priv, 0, sizeof cc->priv);
}
