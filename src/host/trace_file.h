/* synack — --trace FILE: the stack's trace events as JSON lines, one object per event,
 * written by the ladder renderer's jsonl backend (src/render). */
#ifndef SYNACK_HOST_TRACE_FILE_H
#define SYNACK_HOST_TRACE_FILE_H

#include "synack/stack.h"

/* Opens path and points cfg->trace at it. Errors: those of fopen, -ENOMEM. */
int synack_trace_file_open(void **state, const char *path, struct synack_config *cfg);
/* Flushes and closes (NULL is fine). */
void synack_trace_file_close(void *state);

#endif
