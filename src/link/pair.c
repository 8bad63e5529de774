/* synack — a pair of links joined by a Unix datagram socketpair: what one sends, the other
 * receives, one frame per datagram, with real descriptors to wait on. Two stacks driven by
 * threads (or processes) meet on it without a TUN device or privileges. Frames are never
 * reordered; a frame that finds the peer's queue full is lost (-EAGAIN), as on a wire. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "synack/frame.h"
#include "synack/link.h"

#define PAIR_QUEUE_BYTES (4 << 20)

/* The pair declares no offload, so frames arrive complete (the meta says so). */
static int pair_send(struct synack_link *l, const uint8_t *frame,
		     const struct synack_frame_meta *meta, uint64_t now_us)
{
	(void)now_us;
	if (synack_frame_meta_check(meta) < 0)
		return -EINVAL;
	for (;;) {
		ssize_t n = send(l->fd, frame, meta->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == ENOBUFS ? -EAGAIN : -errno;
	}
}

static ssize_t pair_recv(struct synack_link *l, uint8_t *buf, size_t cap,
			 struct synack_frame_meta *out, uint64_t now_us)
{
	(void)now_us;
	for (;;) {
		ssize_t n = recv(l->fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC);
		if (n >= 0 && (size_t)n > cap)
			return -EMSGSIZE;
		if (n >= 0) {
			if (n > 0)
				*out = synack_frame_meta_plain(buf, (size_t)n);
			return n;
		}
		if (errno == EINTR)
			continue;
		return errno == EAGAIN ? 0 : -errno;
	}
}

static uint64_t pair_next_arrival(struct synack_link *l)
{
	(void)l;
	return SYNACK_TIME_NEVER;
}

static void pair_destroy(struct synack_link *l)
{
	close(l->fd);
	free(l);
}

static const struct synack_link_ops pair_ops = {
	.send = pair_send,
	.recv = pair_recv,
	.next_arrival = pair_next_arrival,
	.destroy = pair_destroy,
};

int synack_pair_new(struct synack_link **a, struct synack_link **b)
{
	*a = *b = NULL;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	int sz = PAIR_QUEUE_BYTES;
	for (int i = 0; i < 2; i++) {
		setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
		setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	}
	struct synack_link *la = malloc(sizeof *la), *lb = malloc(sizeof *lb);
	if (!la || !lb) {
		free(la);
		free(lb);
		close(sv[0]);
		close(sv[1]);
		return -ENOMEM;
	}
	*la = (struct synack_link){&pair_ops, sv[0], (struct synack_link_caps){0}};
	*lb = (struct synack_link){&pair_ops, sv[1], (struct synack_link_caps){0}};
	*a = la;
	*b = lb;
	return 0;
}
