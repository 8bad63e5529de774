/* synack — --trace FILE, see trace_file.h: the ladder renderer's jsonl backend on a file. */
#include "render/trace_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "render/ladder.h"

struct trace_file {
	FILE *f;
	struct synack_ladder *ladder;
};

int synack_trace_file_open(void **state, const char *path, struct synack_config *cfg)
{
	*state = NULL;
	struct trace_file *t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->f = fopen(path, "w");
	if (!t->f) {
		int err = -errno;
		free(t);
		return err;
	}
	struct synack_ladder_opts o = {.format = SYNACK_LADDER_JSONL, .out = t->f};
	int err = synack_ladder_new(&t->ladder, &o);
	if (err) {
		fclose(t->f);
		free(t);
		return err;
	}
	cfg->trace = synack_ladder_trace;
	cfg->trace_ctx = t->ladder;
	*state = t;
	return 0;
}

void synack_trace_file_close(void *state)
{
	struct trace_file *t = state;
	if (!t)
		return;
	synack_ladder_finish(t->ladder);
	synack_ladder_free(t->ladder);
	fclose(t->f);
	free(t);
}
