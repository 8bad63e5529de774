/* synack demo: not written yet. */
#include <stdio.h>

#include "commands.h"

int synack_cmd_demo(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "synack demo: not implemented yet\n");
	return 2;
}
