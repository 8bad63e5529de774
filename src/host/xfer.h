/* synack — the client transfer of `synack connect`: connect, send a file (or stdin) while
 * receiving into another (or stdout), half-close after the last byte sent, receive until the
 * peer closes, then close.
 *
 * Without a source nothing is sent and the write half is closed only after the peer has
 * closed its own (so the peer closes first). On SIGINT/SIGTERM the connection is aborted with
 * a RST (SO_LINGER 0): an interrupted transfer must not look complete to the peer.
 */
#ifndef SYNACK_HOST_XFER_H
#define SYNACK_HOST_XFER_H

#include <stdbool.h>
#include <stdint.h>

#include "synack/loop.h"
#include "synack/socket.h"

struct synack_xfer;

/* in_fd: source (-1: none); out_fd: sink (-1: received bytes are thrown away). Starts the
 * connect. Errors: those of synack_socket/synack_connect, -ENOMEM. */
int synack_xfer_start(struct synack_xfer **out, struct synack_loop *loop,
		      const struct synack_endpoint *remote, int in_fd, int out_fd);
/* Drive from the loop's hooks. */
void synack_xfer_ready(struct synack_xfer *x, int fd, unsigned events);
void synack_xfer_abort(struct synack_xfer *x);
/* True once finished (well or not); then synack_xfer_error() is 0 or a negative errno
 * (-ECONNREFUSED, -ETIMEDOUT, -ECONNRESET, -EHOSTUNREACH, -EINTR for an abort, -EIO). */
bool synack_xfer_done(const struct synack_xfer *x);
int synack_xfer_error(const struct synack_xfer *x);
uint64_t synack_xfer_sent(const struct synack_xfer *x);
uint64_t synack_xfer_received(const struct synack_xfer *x);
void synack_xfer_free(struct synack_xfer *x);

#endif
