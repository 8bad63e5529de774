/* synack — --trace FILE, see trace_file.h. */
#include "host/trace_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int synack_trace_file_open(void **state, const char *path, struct synack_config *cfg)
{
	(void)cfg;
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	*state = f;
	return 0; /* TODO: the jsonl renderer, once it lands */
}

void synack_trace_file_close(void *state)
{
	if (state)
		fclose(state);
}
