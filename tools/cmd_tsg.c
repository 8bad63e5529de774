/* synack tsg: not written yet. */
#include <stdio.h>

#include "commands.h"

int synack_cmd_tsg(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "synack tsg: not implemented yet\n");
	return 2;
}
