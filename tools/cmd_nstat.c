/* synack nstat: not written yet. */
#include <stdio.h>

#include "commands.h"

int synack_cmd_nstat(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "synack nstat: not implemented yet\n");
	return 2;
}
