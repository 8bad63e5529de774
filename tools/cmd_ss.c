/* synack ss: not written yet. */
#include <stdio.h>

#include "commands.h"

int synack_cmd_ss(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "synack ss: not implemented yet\n");
	return 2;
}
