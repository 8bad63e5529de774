/* Checks the command line of serve and connect shares (see commands.h). */
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "synack/tun.h"

int synack_cli_add_addr(const char *cmd, const char *cidr[2], const char *arg)
{
	if (cidr[0] && cidr[1]) {
		fprintf(stderr, "%s: --addr: at most two (one IPv4, one IPv6), not also '%s'\n", cmd,
			arg);
		return 2;
	}
	cidr[cidr[0] ? 1 : 0] = arg;
	return 0;
}

int synack_cli_check_tun_addr(const char *cmd, const char *tun, const char *const cidr[2])
{
	if (!*tun || strlen(tun) >= IFNAMSIZ) {
		fprintf(stderr, "%s: --tun: a device name has 1 to %d characters, '%s' has %zu\n", cmd,
			IFNAMSIZ - 1, tun, strlen(tun));
		return 2;
	}
	struct synack_addr a[2];
	unsigned prefix;
	for (int i = 0; i < 2 && cidr[i]; i++) {
		if (!strchr(cidr[i], '/')) {
			fprintf(stderr,
				"%s: --addr: '%s' has no prefix length: write A.B.C.D/NN or IPV6/NN "
				"(e.g. %s/%s)\n",
				cmd, cidr[i], cidr[i], strchr(cidr[i], ':') ? "64" : "24");
			return 2;
		}
		if (synack_parse_prefix(cidr[i], &a[i], &prefix) < 0) {
			fprintf(stderr,
				"%s: --addr: want A.B.C.D/NN (NN 1 to 31) or IPV6/NN (NN 1 to 127), "
				"not '%s'\n",
				cmd, cidr[i]);
			return 2;
		}
	}
	if (cidr[1] && synack_addr_is_v4(&a[0]) == synack_addr_is_v4(&a[1])) {
		fprintf(stderr, "%s: --addr: one address of each family at most: '%s' and '%s' are "
				"both %s\n",
			cmd, cidr[0], cidr[1], synack_addr_is_v4(&a[0]) ? "IPv4" : "IPv6");
		return 2;
	}
	return 0;
}
