/* The event loop is public API: include/synack/loop.h. This forwarding header keeps the
 * library's own includes working until the loop moves to src/drivers/. */
#ifndef SYNACK_HOST_LOOP_H
#define SYNACK_HOST_LOOP_H
#include "synack/loop.h"
#endif
