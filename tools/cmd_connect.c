/* synack connect: not written yet. */
#include <stdio.h>

#include "commands.h"

int synack_cmd_connect(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "synack connect: not implemented yet\n");
	return 2;
}
