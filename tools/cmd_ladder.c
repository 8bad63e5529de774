/* synack ladder: not written yet. */
#include <stdio.h>

#include "commands.h"

int synack_cmd_ladder(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "synack ladder: not implemented yet\n");
	return 2;
}
