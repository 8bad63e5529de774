/* Socket API misuse: every call gets the errno socket.h lists, and nothing crashes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "support/segtest.h"

Test(api, bad_descriptors)
{
	struct segtest t;
	st_init(&t, NULL);
	struct synack_endpoint ep = {synack_addr_v4(0), 1};
	char b[4];
	size_t len = sizeof b;
	struct synack_tcp_info ti;
	for (int fd = -1; fd < 3; fd += 3) {
		cr_assert_eq(synack_bind(t.s, fd, &ep), -EBADF);
		cr_assert_eq(synack_listen(t.s, fd, 1), -EBADF);
		cr_assert_eq(synack_accept(t.s, fd, NULL), -EBADF);
		cr_assert_eq(synack_connect(t.s, fd, &ep), -EBADF);
		cr_assert_eq(synack_send(t.s, fd, b, 1, 0), -EBADF);
		cr_assert_eq(synack_recv(t.s, fd, b, 1, 0), -EBADF);
		cr_assert_eq(synack_shutdown(t.s, fd, SYNACK_SHUT_WR), -EBADF);
		cr_assert_eq(synack_close(t.s, fd), -EBADF);
		cr_assert_eq(synack_setsockopt(t.s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_REUSEADDR, b, 4), -EBADF);
		cr_assert_eq(synack_getsockopt(t.s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_ERROR, b, &len), -EBADF);
		cr_assert_eq(synack_events(t.s, fd), -EBADF);
		cr_assert_eq(synack_tcp_info(t.s, fd, &ti), -EBADF);
		cr_assert_eq(synack_getsockname(t.s, fd, &ep), -EBADF);
	}
	int fd = synack_socket(t.s);
	cr_assert_eq(synack_close(t.s, fd), 0);
	cr_assert_eq(synack_close(t.s, fd), -EBADF, "anything after close");
	cr_assert_eq(synack_send(t.s, fd, b, 1, 0), -EBADF);
	st_fini(&t);
}

Test(api, fresh_socket_misuse)
{
	struct segtest t;
	st_init(&t, NULL);
	int fd = synack_socket(t.s);
	char b[4];
	cr_assert_eq(synack_send(t.s, fd, b, 1, 0), -ENOTCONN, "send before connect");
	cr_assert_eq(synack_recv(t.s, fd, b, 1, 0), -ENOTCONN);
	cr_assert_eq(synack_shutdown(t.s, fd, SYNACK_SHUT_WR), -ENOTCONN);
	cr_assert_eq(synack_shutdown(t.s, fd, 7), -EINVAL);
	cr_assert_eq(synack_accept(t.s, fd, NULL), -EINVAL, "accept on a non-listener");
	struct synack_endpoint ep;
	cr_assert_eq(synack_getpeername(t.s, fd, &ep), -ENOTCONN);
	cr_assert_eq(synack_events(t.s, fd), SYNACK_EV_HUP | SYNACK_EV_WRITABLE,
		     "Linux: an unconnected socket polls as writable and hung up");
	st_fini(&t);
}

Test(api, listener_misuse)
{
	struct segtest t;
	st_init(&t, NULL);
	int lfd = st_listen(&t, 80, 4);
	char b[4];
	cr_assert_eq(synack_listen(t.s, lfd, 8), 0, "listen twice only changes the backlog");
	cr_assert_eq(synack_recv(t.s, lfd, b, 1, 0), -EINVAL);
	cr_assert_eq(synack_send(t.s, lfd, b, 1, 0), -ENOTCONN);
	struct synack_endpoint to = {synack_addr_v4(ST_PEER), 80};
	cr_assert_eq(synack_connect(t.s, lfd, &to), -EINVAL);
	cr_assert_eq(synack_accept(t.s, lfd, NULL), -EAGAIN);
	struct synack_endpoint ep = {synack_addr_v4(0), 81};
	cr_assert_eq(synack_bind(t.s, lfd, &ep), -EINVAL);
	int other = synack_socket(t.s);
	struct synack_endpoint same = {synack_addr_v4(0), 80};
	cr_assert_eq(synack_bind(t.s, other, &same), -EADDRINUSE);
	st_fini(&t);
}

Test(api, connect_states)
{
	struct segtest t;
	st_init(&t, NULL);
	int fd = synack_socket(t.s);
	struct synack_endpoint to = {synack_addr_v4(ST_PEER), 80};
	cr_assert_eq(synack_connect(t.s, fd, NULL), -EINVAL);
	cr_assert_eq(synack_connect(t.s, fd, &to), -EINPROGRESS);
	cr_assert_eq(synack_connect(t.s, fd, &to), -EALREADY);
	char b[4];
	cr_assert_eq(synack_send(t.s, fd, b, 1, 0), -EAGAIN, "still connecting");
	cr_assert_eq(synack_recv(t.s, fd, b, 1, 0), -EAGAIN);
	cr_assert_eq(synack_listen(t.s, fd, 1), -EINVAL, "connecting");
	st_fini(&t);
}

Test(api, sockopts)
{
	struct segtest t;
	st_init(&t, NULL);
	int fd = synack_socket(t.s);
	int v = 1, out = 0;
	size_t len = sizeof out;
	cr_assert_eq(synack_setsockopt(t.s, fd, 99, 1, &v, sizeof v), -ENOPROTOOPT);
	cr_assert_eq(synack_setsockopt(t.s, fd, SYNACK_SOL_SOCKET, 1234, &v, sizeof v), -ENOPROTOOPT);
	cr_assert_eq(synack_setsockopt(t.s, fd, SYNACK_IPPROTO_TCP, 99, &v, sizeof v), -ENOPROTOOPT);
	cr_assert_eq(synack_setsockopt(t.s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_KEEPALIVE, &v, 1), -EINVAL);
	cr_assert_eq(synack_setsockopt(t.s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_KEEPALIVE, &v, sizeof v), 0);
	cr_assert_eq(synack_getsockopt(t.s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_KEEPALIVE, &out, &len), 0);
	cr_assert_eq(out, 1);
	v = 0;
	cr_assert_eq(synack_setsockopt(t.s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_KEEPIDLE, &v, sizeof v), -EINVAL);
	v = 30;
	cr_assert_eq(synack_setsockopt(t.s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_KEEPIDLE, &v, sizeof v), 0);
	cr_assert_eq(synack_getsockopt(t.s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_KEEPIDLE, &out, &len), 0);
	cr_assert_eq(out, 30);
	cr_assert_eq(synack_getsockopt(t.s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_KEEPINTVL, &out, &len), 0);
	cr_assert_eq(out, 75);
	cr_assert_eq(synack_getsockopt(t.s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_KEEPCNT, &out, &len), 0);
	cr_assert_eq(out, 9);
	cr_assert_eq(synack_getsockopt(t.s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_MAXSEG, &out, &len), 0);
	cr_assert_eq(out, 1460);
	cr_assert_eq(synack_getsockopt(t.s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_SNDBUF, &out, &len), 0);
	cr_assert_eq(out, 16384);
	cr_assert_eq(synack_getsockopt(t.s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_ERROR, &out, &len), 0);
	cr_assert_eq(out, 0);
	size_t small = 2;
	cr_assert_eq(synack_getsockopt(t.s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_ERROR, &out, &small), -EINVAL);
	struct synack_tcp_info ti;
	size_t tl = sizeof ti;
	cr_assert_eq(synack_getsockopt(t.s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_INFO, &ti, &tl), 0);
	cr_assert_eq(ti.state, SYNACK_CLOSED);
	cr_assert_eq(synack_setsockopt(t.s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_INFO, &ti, tl), -ENOPROTOOPT);
	v = 500;
	cr_assert_eq(synack_setsockopt(t.s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_MAXSEG, &v, sizeof v), 0);
	cr_assert_eq(synack_getsockopt(t.s, fd, SYNACK_IPPROTO_TCP, SYNACK_TCP_MAXSEG, &out, &len), 0);
	cr_assert_eq(out, 500);
	st_fini(&t);
}

Test(api, so_error_reports_and_clears)
{
	struct segtest t;
	st_init(&t, NULL);
	struct st_seg syn;
	int fd = st_start_connect(&t, &syn);
	ST_IN(&t, .flags = F_R | F_A, .ack = syn.seq + 1);
	int e = 0;
	size_t len = sizeof e;
	cr_assert_eq(synack_getsockopt(t.s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_ERROR, &e, &len), 0);
	cr_assert_eq(e, ECONNREFUSED);
	cr_assert_eq(synack_getsockopt(t.s, fd, SYNACK_SOL_SOCKET, SYNACK_SO_ERROR, &e, &len), 0);
	cr_assert_eq(e, 0, "read and cleared");
	st_fini(&t);
}

Test(api, max_sockets_gives_emfile)
{
	struct synack_config cfg;
	st_config(&cfg);
	cfg.max_sockets = 3;
	struct segtest t;
	st_init(&t, &cfg);
	cr_assert_eq(synack_socket(t.s), 0);
	cr_assert_eq(synack_socket(t.s), 1);
	cr_assert_eq(synack_socket(t.s), 2);
	cr_assert_eq(synack_socket(t.s), -EMFILE);
	synack_close(t.s, 1);
	cr_assert_eq(synack_socket(t.s), 1, "the lowest free descriptor");
	st_fini(&t);
}

Test(api, connect_again_after_refusal_starts_clean)
{
	struct segtest t;
	st_init(&t, NULL);
	struct st_seg syn;
	int fd = st_start_connect(&t, &syn);
	struct synack_endpoint to = {synack_addr_v4(ST_PEER), ST_SERVER_PORT};
	ST_IN(&t, .flags = F_R | F_A, .ack = syn.seq + 1);
	cr_assert_eq(synack_connect(t.s, fd, &to), -ECONNREFUSED);
	st_at(&t, 1000000);
	cr_assert_eq(synack_connect(t.s, fd, &to), -EINPROGRESS, "a new attempt");
	struct st_seg syn2;
	cr_assert(st_next(&t, &syn2));
	cr_assert_eq(syn2.flags, F_S);
	cr_assert_eq(syn2.seq - syn.seq, 250000, "a new ISN, 1 s later on the 4 us clock");
	ST_IN(&t, .flags = F_S | F_A, .seq = 77, .ack = syn2.seq + 1, .opts = {.has_mss = true, .mss = 1460});
	st_expect(&t, F_A, syn2.seq + 1, 78, NULL);
	cr_assert_eq(synack_send(t.s, fd, "ok", 2, 0), 2);
	st_expect_data(&t, F_A | F_P, syn2.seq + 1, 78, 2);
	st_fini(&t);
}
