/* getrandom(2) until the buffer is full (EINTR retried): one copy for every driver. */
#include <errno.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/types.h>

#include "sys/entropy.h"

int sys_fill_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += (size_t)n;
		len -= (size_t)n;
	}
	return 0;
}
