/* synack serve: not written yet. */
#include <stdio.h>

#include "commands.h"

int synack_cmd_serve(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "synack serve: not implemented yet\n");
	return 2;
}
