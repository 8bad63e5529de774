/* hello_tun: an echo server on a TUN device, talking to the Linux kernel's TCP.
 *
 * The stack runs in the event loop (loop.h) on a TUN link (tun.h): the loop waits on the
 * device and the stack's next deadline, and calls on_ready when a socket can make progress.
 * Port 7 echoes what it receives and closes after the peer does. SIGINT or SIGTERM ends it.
 * As root (CAP_NET_ADMIN), in a network namespace of your own:
 *
 *   cc hello_tun.c $(pkg-config --cflags --libs synack) -o hello_tun
 *   scripts/netns shell                  # a fresh namespace: the kernel is 10.77.0.1 on tun0
 *   # ./hello_tun tun0 10.77.0.2/24 &
 *   # echo hello | socat -t 2 - TCP:10.77.0.2:7
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <synack/synack.h>

struct echo {
	struct synack_stack *st;
	int lfd;
};

/* Echoes what fd has, without losing a byte when the send buffer is full: peek, send, and
 * consume only what send took. The rest waits for the next on_ready (space or data). */
static void echo_conn(struct synack_stack *st, int fd)
{
	char buf[4096];
	ssize_t n, sent = 0;
	while ((n = synack_recv(st, fd, buf, sizeof buf, SYNACK_MSG_PEEK)) > 0 &&
	       (sent = synack_send(st, fd, buf, (size_t)n, 0)) > 0)
		synack_recv(st, fd, buf, (size_t)sent, 0);
	if (n == 0 || (n < 0 && n != -EAGAIN) || (sent < 0 && sent != -EAGAIN))
		synack_close(st, fd); /* end of stream (graceful close) or an error */
}

static void on_ready(void *ctx, int fd, unsigned events)
{
	struct echo *e = ctx;
	(void)events;
	if (fd != e->lfd) {
		echo_conn(e->st, fd);
		return;
	}
	int cfd;
	while ((cfd = synack_accept(e->st, e->lfd, NULL)) >= 0)
		echo_conn(e->st, cfd); /* data may have arrived with the handshake */
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "tun0", *cidr = argc > 2 ? argv[2] : "10.77.0.2/24";
	uint32_t addr;
	unsigned prefix;
	if (argc > 3 || synack_parse_cidr(cidr, &addr, &prefix) < 0) {
		fprintf(stderr, "usage: hello_tun [DEVICE [A.B.C.D/NN]]\n");
		return 2;
	}
	struct synack_link *tun;
	int err = synack_tun_open(dev, addr, prefix, NULL, &tun);
	if (err < 0) {
		fprintf(stderr, "hello_tun: %s: %s\n", dev, strerror(-err));
		return 1;
	}
	struct synack_config cfg;
	synack_config_default(&cfg);
	synack_config_add_addr(&cfg, synack_addr_v4(addr), prefix);
	struct echo e = {.lfd = -1};
	struct synack_loop *loop;
	err = synack_loop_new(&loop, tun, &cfg, &(struct synack_loop_hooks){.on_ready = on_ready, .ctx = &e});
	if (err < 0) {
		synack_link_destroy(tun);
		fprintf(stderr, "hello_tun: %s\n", strerror(-err));
		return 1;
	}
	e.st = synack_loop_stack(loop);
	e.lfd = synack_socket(e.st);
	err = synack_bind(e.st, e.lfd, &(struct synack_endpoint){.port = 7});
	if (err == 0)
		err = synack_listen(e.st, e.lfd, 16);
	if (err == 0) {
		printf("hello_tun: echo on %s port 7 via %s\n", cidr, dev);
		fflush(stdout);
		err = synack_loop_run(loop); /* until SIGINT or SIGTERM */
	}
	if (err < 0)
		fprintf(stderr, "hello_tun: %s\n", strerror(-err));
	synack_loop_destroy(loop);
	return err < 0;
}
