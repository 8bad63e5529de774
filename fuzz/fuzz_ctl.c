/* Fuzz target: the host's control requests (src/host/ctl.c, synack_ctl_answer), what a local
 * client of `--ctl` may send. The stack answering holds a listener, so that ss has a row.
 *
 * Invariants:
 *  - any request gets an answer: a known one ("ss", "ss -i", "nstat") its table, anything
 *    else exactly one line "error: unknown request ..."; nothing is empty;
 *  - answering changes nothing in the stack (the same counters before and after, apart from
 *    the rates' memory of the last nstat). */
#include "fuzz.h"

#include "host/ctl.h"
#include "synack/synack.h"

static void ctl_output(void *ctx, const uint8_t *f, const struct synack_frame_meta *meta)
{
	(void)ctx;
	(void)f;
	(void)meta;
}

static struct synack_stack *ctl_stack(void)
{
	static struct synack_stack *s;
	if (s)
		return s;
	struct synack_config cfg;
	synack_config_default(&cfg);
	synack_config_add_addr(&cfg, synack_addr_v4(0x0a000002u), 24);
	cfg.output = ctl_output;
	FUZZ_ASSERT(synack_stack_new(&s, &cfg) == 0, "stack");
	int l = synack_socket(s);
	struct synack_endpoint ep = {synack_addr_any(SYNACK_AF_INET), 80};
	FUZZ_ASSERT(synack_bind(s, l, &ep) == 0 && synack_listen(s, l, 8) == 0, "listener");
	return s;
}

int synack_fuzz_ctl(const uint8_t *data, size_t len);
int synack_fuzz_ctl(const uint8_t *data, size_t len)
{
	struct synack_stack *s = ctl_stack();
	char req[64];
	size_t n = len < sizeof req - 1 ? len : sizeof req - 1;
	memcpy(req, data, n);
	req[n] = '\0';
	req[strcspn(req, "\r\n")] = '\0'; /* as the loop cuts the request line */
	struct synack_counters before, after;
	synack_stack_counters(s, &before);
	char *out = NULL;
	size_t olen = 0;
	FILE *m = open_memstream(&out, &olen);
	FUZZ_ASSERT(m != NULL, "memstream");
	struct synack_ctl_rates rates = {0};
	synack_ctl_answer(s, (len & 1) ? &rates : NULL, 1000000, req, m);
	fclose(m);
	synack_stack_counters(s, &after);
	FUZZ_ASSERT(olen > 0, "no answer to '%s'", req);
	bool known = !strcmp(req, "ss") || !strcmp(req, "ss -i") || !strcmp(req, "ss -m") ||
		     !strcmp(req, "nstat");
	if (!known) {
		FUZZ_ASSERT(!strncmp(out, "error: unknown request", 22), "'%s': %.40s", req, out);
		FUZZ_ASSERT(memchr(out, '\n', olen) == out + olen - 1, "one line for '%s'", req);
	}
	FUZZ_ASSERT(!memcmp(&before, &after, sizeof before), "answering '%s' changed counters", req);
	free(out);
	return 0;
}

#ifndef SYNACK_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	return synack_fuzz_ctl(data, len);
}
#endif
