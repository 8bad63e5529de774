/* synack report: not written yet. */
#include <stdio.h>

#include "commands.h"

int synack_cmd_report(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "synack report: not implemented yet\n");
	return 2;
}
