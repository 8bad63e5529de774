/* synack_stack_new(): the core's constructor with a malloc-based allocator filled in when the
 * caller gave none. It lives outside src/core because the core never calls malloc. */
#include <stdlib.h>

#include "synack/stack.h"

static void *heap_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void heap_free(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	(void)size;
	free(ptr);
}

int synack_stack_new(struct synack_stack **out, const struct synack_config *cfg)
{
	if (cfg && !cfg->allocator.alloc) {
		struct synack_config c = *cfg;
		c.allocator.alloc = heap_alloc;
		c.allocator.free = heap_free;
		c.allocator.ctx = NULL;
		return synack_stack_create(out, &c);
	}
	return synack_stack_create(out, cfg);
}
