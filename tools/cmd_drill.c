/* synack drill: not written yet. */
#include <stdio.h>

#include "commands.h"

int synack_cmd_drill(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "synack drill: not implemented yet\n");
	return 2;
}
