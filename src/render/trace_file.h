/* synack — --trace FILE: the stack's trace events as JSON lines, one object per event,
 * written by the ladder renderer's jsonl backend. The command hands these two functions to
 * src/host as its trace sink (struct synack_trace_sink), so host needs no renderer. */
#ifndef SYNACK_RENDER_TRACE_FILE_H
#define SYNACK_RENDER_TRACE_FILE_H

#include "synack/stack.h"

/* Opens path and points cfg->trace at it. Errors: those of fopen, -ENOMEM. */
int synack_trace_file_open(void **state, const char *path, struct synack_config *cfg);
/* Flushes and closes (NULL is fine). */
void synack_trace_file_close(void *state);

#endif
