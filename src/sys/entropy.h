/* The OS's random bytes, for the seed and ISN secret of stacks that drivers create. */
#ifndef SYNACK_SYS_ENTROPY_H
#define SYNACK_SYS_ENTROPY_H

#include <stddef.h>

/* Fills buf with len bytes from getrandom(2). Returns 0 or a negative errno. */
int sys_fill_random(void *buf, size_t len);

#endif
