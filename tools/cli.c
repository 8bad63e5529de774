/* Checks the command line of serve and connect shares (see commands.h). */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "synack/tun.h"

int synack_cli_prob(const char *cmd, const char *opt, const char *arg, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= 0 && v <= 1)) {
		fprintf(stderr, "%s: --%s: want a probability from 0 to 1, not '%s'\n", cmd, opt, arg);
		return 2;
	}
	*out = v;
	return 0;
}

int synack_cli_check_tun_addr(const char *cmd, const char *tun, const char *cidr)
{
	uint32_t addr;
	unsigned prefix;
	if (!*tun || strlen(tun) >= IFNAMSIZ) {
		fprintf(stderr, "%s: --tun: a device name has 1 to %d characters, '%s' has %zu\n", cmd,
			IFNAMSIZ - 1, tun, strlen(tun));
		return 2;
	}
	if (!strchr(cidr, '/')) {
		fprintf(stderr,
			"%s: --addr: '%s' has no prefix length: write A.B.C.D/NN (e.g. %s/24)\n", cmd,
			cidr, cidr);
		return 2;
	}
	if (synack_parse_cidr(cidr, &addr, &prefix) < 0) {
		fprintf(stderr, "%s: --addr: want A.B.C.D/NN with NN from 1 to 31, not '%s'\n", cmd,
			cidr);
		return 2;
	}
	return 0;
}
