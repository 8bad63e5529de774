/* synack_version(): the library's version, set once in the top-level VERSION file. */
#include "synack/synack.h"

#ifndef SYNACK_VERSION_STRING
#error "SYNACK_VERSION_STRING is defined by the Makefile from the VERSION file"
#endif

const char *synack_version(void)
{
	return SYNACK_VERSION_STRING;
}
