/* synack — the client transfer, see xfer.h. */
#include "host/xfer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#define XFER_BUF 65536

struct synack_xfer {
	struct synack_loop *loop;
	struct synack_stack *s;
	int fd;
	int in_fd, out_fd;
	bool in_pollable, in_watched;
	bool connected, in_eof, wr_shut, peer_eof, closed, done;
	int err;
	uint64_t sent, received;
	uint8_t *buf; /* from in_fd, not yet accepted by synack_send: buf[off..len) */
	size_t off, len;
	uint8_t rbuf[XFER_BUF];
};

static void finish(struct synack_xfer *x, int err)
{
	if (x->done)
		return;
	x->done = true;
	x->err = err;
	if (x->in_watched)
		synack_loop_del_fd(x->loop, x->in_fd);
	x->in_watched = false;
	if (!x->closed) {
		if (err) {
			/* An abort: RST now rather than a FIN that would pass for a complete stream. */
			struct synack_linger lg = {1, 0};
			synack_setsockopt(x->s, x->fd, SYNACK_SOL_SOCKET, SYNACK_SO_LINGER, &lg,
					  sizeof lg);
		}
		synack_close(x->s, x->fd);
		x->closed = true;
	}
}

static void on_input(void *ctx, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	struct synack_xfer *x = ctx;
	synack_loop_del_fd(x->loop, x->in_fd);
	x->in_watched = false;
	synack_loop_kick(x->loop, x->fd);
}

/* Fills buf from the source. Returns false when it must wait for the source. */
static bool fill(struct synack_xfer *x)
{
	ssize_t n = read(x->in_fd, x->buf, XFER_BUF);
	if (n > 0) {
		x->off = 0;
		x->len = (size_t)n;
		return true;
	}
	if (n == 0) {
		x->in_eof = true;
		return true;
	}
	if (errno == EAGAIN && x->in_pollable && !x->in_watched) {
		x->in_watched = synack_loop_add_fd(x->loop, x->in_fd, EPOLLIN, on_input, x) == 0;
		return false;
	}
	if (errno == EINTR || errno == EAGAIN)
		return false;
	finish(x, -EIO);
	return false;
}

/* Sends until the socket is full or the source is exhausted; then shuts the write half. */
static void pump_out(struct synack_xfer *x)
{
	while (!x->done && !x->wr_shut) {
		if (x->off < x->len) {
			ssize_t n = synack_send(x->s, x->fd, x->buf + x->off, x->len - x->off, 0);
			if (n == -EAGAIN)
				return;
			if (n < 0) {
				finish(x, (int)n);
				return;
			}
			x->off += (size_t)n;
			x->sent += (uint64_t)n;
			continue;
		}
		if (x->in_fd < 0 && !x->peer_eof)
			return; /* nothing to send: keep the write half open until the peer closes */
		if (x->in_eof || x->in_fd < 0) {
			synack_shutdown(x->s, x->fd, SYNACK_SHUT_WR);
			x->wr_shut = true;
			return;
		}
		if (!fill(x))
			return;
	}
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void pump_in(struct synack_xfer *x)
{
	while (!x->done && !x->peer_eof) {
		ssize_t n = synack_recv(x->s, x->fd, x->rbuf, sizeof x->rbuf, 0);
		if (n == -EAGAIN)
			return;
		if (n < 0) {
			finish(x, (int)n);
			return;
		}
		if (n == 0) {
			x->peer_eof = true;
			return;
		}
		x->received += (uint64_t)n;
		if (x->out_fd >= 0 && !write_all(x->out_fd, x->rbuf, (size_t)n)) {
			finish(x, -EIO);
			return;
		}
	}
}

void synack_xfer_ready(struct synack_xfer *x, int fd, unsigned events)
{
	if (fd != x->fd || x->done)
		return;
	if (!x->connected) {
		int soerr = 0;
		size_t len = sizeof soerr;
		synack_getsockopt(x->s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_ERROR, &soerr, &len);
		if (soerr) {
			finish(x, soerr < 0 ? soerr : -soerr);
			return;
		}
		if (!(events & SYNACK_EV_WRITABLE))
			return;
		x->connected = true;
	}
	pump_in(x);
	pump_out(x);
	if (!x->done && x->peer_eof && x->wr_shut)
		finish(x, 0);
}

int synack_xfer_start(struct synack_xfer **out, struct synack_loop *loop,
		      const struct synack_endpoint *remote, int in_fd, int out_fd)
{
	*out = NULL;
	struct synack_xfer *x = calloc(1, sizeof *x);
	if (!x || !(x->buf = malloc(XFER_BUF))) {
		free(x);
		return -ENOMEM;
	}
	x->loop = loop;
	x->s = synack_loop_stack(loop);
	x->in_fd = in_fd;
	x->out_fd = out_fd;
	struct stat st;
	if (in_fd >= 0 && fstat(in_fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		x->in_pollable = true;
		fcntl(in_fd, F_SETFL, fcntl(in_fd, F_GETFL) | O_NONBLOCK);
	}
	x->fd = synack_socket(x->s);
	int err = x->fd < 0 ? x->fd : synack_connect(x->s, x->fd, remote);
	if (err != -EINPROGRESS && err != 0) {
		if (x->fd >= 0)
			synack_close(x->s, x->fd);
		free(x->buf);
		free(x);
		return err;
	}
	*out = x;
	return 0;
}

void synack_xfer_abort(struct synack_xfer *x) { finish(x, -EINTR); }
bool synack_xfer_done(const struct synack_xfer *x) { return x->done; }
int synack_xfer_error(const struct synack_xfer *x) { return x->err; }
uint64_t synack_xfer_sent(const struct synack_xfer *x) { return x->sent; }
uint64_t synack_xfer_received(const struct synack_xfer *x) { return x->received; }

void synack_xfer_free(struct synack_xfer *x)
{
	if (!x)
		return;
	if (x->in_watched)
		synack_loop_del_fd(x->loop, x->in_fd);
	free(x->buf);
	free(x);
}
