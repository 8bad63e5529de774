/* synack — a userspace TCP/IP stack. Include this for everything. */
#ifndef SYNACK_H
#define SYNACK_H
#include "addr.h"
#include "link.h"
#include "sim.h"
#include "socket.h"
#include "stack.h"
#include "trace.h"
#include "wire.h"
#endif
