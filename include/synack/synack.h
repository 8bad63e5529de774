/* synack — a userspace TCP/IP stack. Include this for everything. */
#ifndef SYNACK_H
#define SYNACK_H
#include "addr.h"
#include "link.h"
#include "loop.h"
#include "mt.h"
#include "sim.h"
#include "socket.h"
#include "stack.h"
#include "trace.h"
#include "tun.h"
#include "wire.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the library exports what this header declares */

/* The library's version, "MAJOR.MINOR.PATCH" (the same as `synack --version` and the
 * pkg-config module's). Programs built against one major version run with any later minor. */
const char *synack_version(void);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
