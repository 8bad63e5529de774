/* The drill runner checked against itself: six deliberately broken expectations must FAIL with
 * a message that says what went wrong, and the correct version of each must PASS. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "drill/drill.h"

static const char *const PASSIVE =
	"0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
	"+0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n"
	"+0  bind(3, ..., ...) = 0\n"
	"+0  listen(3, 1) = 0\n"
	"+0  < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>\n";

static struct drill_result R;

static enum drill_status run(const char *tail)
{
	char src[4096];
	struct drill_config cfg;
	drill_config_default(&cfg);
	drill_result_free(&R); /* the previous run's report, if a test kept it */
	snprintf(src, sizeof src, "%s%s", PASSIVE, tail);
	return drill_run_source("t.pkt", src, strlen(src), &cfg, &R);
}

static void done(void)
{
	drill_result_free(&R);
}

TestSuite(runner, .fini = done);

static void expect_pass(const char *tail)
{
	enum drill_status st = run(tail);
	cr_assert_eq(st, DRILL_PASS, "correct script failed:\n%s", R.msg.p ? R.msg.p : "");
	drill_result_free(&R);
}

static void expect_fail(const char *tail, int line, const char *what)
{
	char where[32];
	enum drill_status st = run(tail);
	cr_assert_eq(st, DRILL_FAIL, "broken script passed");
	snprintf(where, sizeof where, "t.pkt:%d: ", line);
	cr_assert(R.msg.p && strstr(R.msg.p, where), "wanted '%s' in:\n%s", where, R.msg.p);
	cr_assert(strstr(R.msg.p, what), "wanted '%s' in:\n%s", what, R.msg.p);
}

Test(runner, wrong_flag)
{
	expect_pass("+0 > S. 0:0(0) ack 1 <...>\n");
	expect_fail("+0 > S 0:0(0) ack 1 <...>\n", 6,
		    "outbound packet: wrong flags: expected S but synack sent S.");
	cr_assert(strstr(R.msg.p, "  script: +0 > S 0:0(0) ack 1 <...>\n"), "%s", R.msg.p);
	cr_assert(strstr(R.msg.p, "  synack: 0.000000 > S. 0:0(0) ack 1 win "), "%s", R.msg.p);
	cr_assert(strstr(R.msg.p, "last segments"), "%s", R.msg.p);
	cr_assert(strstr(R.msg.p, "< S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>"),
		  "%s", R.msg.p);
}

Test(runner, wrong_ack)
{
	expect_pass("+0 > S. 0:0(0) ack 1 <...>\n");
	expect_fail("+0 > S. 0:0(0) ack 2 <...>\n", 6,
		    "wrong ack: expected ack 2 but synack sent ack 1");
}

Test(runner, missing_packet)
{
	expect_pass("+0 > S. 0:0(0) ack 1 <...>\n"
		    "+.1 < . 1:1(0) ack 1 win 257\n"
		    "+0 accept(3, ..., ...) = 4\n");
	expect_fail("+0 > S. 0:0(0) ack 1 <...>\n"
		    "+.1 < . 1:1(0) ack 1 win 257\n"
		    "+0 accept(3, ..., ...) = 4\n"
		    "+0 > P. 1:11(10) ack 1\n", 9,
		    "missing outbound packet: expected at 0.100000 sec, but synack sent nothing "
		    "by 0.104000 sec");
}

Test(runner, unexpected_extra_packet)
{
	expect_pass("+0 > S. 0:0(0) ack 1 <...>\n"
		    "+.1 < . 1:1(0) ack 1 win 257\n"
		    "+0 accept(3, ..., ...) = 4\n"
		    "+0 write(4, ..., 10) = 10\n"
		    "+0 > P. 1:11(10) ack 1\n");
	expect_fail("+.1 < . 1:1(0) ack 1 win 257\n"
		    "+0 accept(3, ..., ...) = 4\n"
		    "+0 write(4, ..., 10) = 10\n"
		    "+0 > P. 1:11(10) ack 1\n", 6,
		    "unexpected outbound packet: synack sent `> S. 0:0(0) ack 1 win ");
	cr_assert(strstr(R.msg.p, "at 0.000000 sec"), "%s", R.msg.p);
}

Test(runner, strict_checks_after_the_last_outbound_line)
{
	const char *tail = "+0 > S. 0:0(0) ack 1 <...>\n"
			   "+.1 < . 1:1(0) ack 1 win 257\n"
			   "+0 accept(3, ..., ...) = 4\n"
			   "+0 write(4, ..., 10) = 10\n";
	expect_pass(tail); /* packetdrill's rule: after the last `>` line nothing is checked */
	char src[4096];
	struct drill_config cfg;
	drill_config_default(&cfg);
	cfg.strict = true;
	snprintf(src, sizeof src, "%s%s", PASSIVE, tail);
	cr_assert_eq(drill_run_source("t.pkt", src, strlen(src), &cfg, &R), DRILL_FAIL);
	cr_assert(strstr(R.msg.p, "t.pkt:9: unexpected outbound packet: synack sent `> P. 1:11(10) "
			 "ack 1 win "), "%s", R.msg.p);
	cr_assert(strstr(R.msg.p, "after the script's last line (--strict)"), "%s", R.msg.p);
}

Test(runner, packet_outside_time_tolerance)
{
	expect_pass("+0 > S. 0:0(0) ack 1 <...>\n");
	expect_fail("+0.5 > S. 0:0(0) ack 1 <...>\n", 6,
		    "timing error: expected outbound packet at 0.500000 sec but synack sent it at "
		    "0.000000 sec (tolerance 0.062500 sec)");
	expect_fail("+0.010 > S. 0:0(0) ack 1 <...>\n", 6, "(tolerance 0.004000 sec)");
}

Test(runner, wrong_errno)
{
	expect_pass("+0 > S. 0:0(0) ack 1 <...>\n"
		    "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
		    "+0 accept(3, ..., ...) = -1 EAGAIN (Resource temporarily unavailable)\n");
	expect_fail("+0 > S. 0:0(0) ack 1 <...>\n"
		    "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
		    "+0 accept(3, ..., ...) = -1 EINVAL (Invalid argument)\n", 8,
		    "accept(): wrong errno: expected = -1 EINVAL (Invalid argument) but synack "
		    "returned = -1 EAGAIN (Resource temporarily unavailable)");
}

Test(runner, blocking_accept_waits_on_the_virtual_clock)
{
	expect_pass("+0 > S. 0:0(0) ack 1 <...>\n"
		    "+0...0.2 accept(3, ..., ...) = 4\n"
		    "+.2 < . 1:1(0) ack 1 win 257\n");
	expect_fail("+0 > S. 0:0(0) ack 1 <...>\n"
		    "+0...0.1 accept(3, ..., ...) = 4\n"
		    "+.2 < . 1:1(0) ack 1 win 257\n", 7,
		    "accept(): timing error: blocking call returned at 0.200000 sec, expected "
		    "between 0.087500 and 0.112500 sec");
}

Test(runner, skipped_scripts_say_why)
{
	struct drill_config cfg;
	drill_config_default(&cfg);
	const char *py = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n%{ assert tcpi_ca_state == 0 }%\n";
	cr_assert_eq(drill_run_source("t.pkt", py, strlen(py), &cfg, &R), DRILL_SKIP);
	cr_assert_str_eq(R.msg.p, "line 2: unsupported: TCP_INFO field tcpi_ca_state");
	drill_result_free(&R);
	const char *sh = "0 `ip link set dev tun0 mtu 1000`\n";
	cr_assert_eq(drill_run_source("t.pkt", sh, strlen(sh), &cfg, &R), DRILL_SKIP);
	cr_assert_str_eq(R.msg.p, "line 1: unsupported: shell command not supported: "
			 "`ip link set dev tun0 mtu 1000`");
	drill_result_free(&R);
	const char *mark = "// checks X\n// drill-skip: engine lacks X\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n";
	cr_assert_eq(drill_run_source("t.pkt", mark, strlen(mark), &cfg, &R), DRILL_SKIP);
	cr_assert_str_eq(R.msg.p, "line 2: marked to skip: engine lacks X");
	drill_result_free(&R);
	const char *sc = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 splice(3, ..., 0) = 0\n";
	cr_assert_eq(drill_run_source("t.pkt", sc, strlen(sc), &cfg, &R), DRILL_SKIP);
	cr_assert_str_eq(R.msg.p, "line 2: unsupported: system call splice()");
	drill_result_free(&R);
	const char *ti = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
			 "+0 getsockopt(3, SOL_TCP, TCP_INFO, {tcpi_state=TCP_CLOSE, tcpi_ca_state=0}, ...) = 0\n";
	cr_assert_eq(drill_run_source("t.pkt", ti, strlen(ti), &cfg, &R), DRILL_SKIP);
	cr_assert_str_eq(R.msg.p, "line 2: unsupported: TCP_INFO field tcpi_ca_state");
	drill_result_free(&R);
	const char *ok = "0 `sysctl -q net.ipv4.tcp_timestamps=0`\n"
			 "+0 `echo 3 > /proc/sys/net/ipv4/tcp_synack_retries`\n";
	cr_assert_eq(drill_run_source("t.pkt", ok, strlen(ok), &cfg, &R), DRILL_PASS, "%s",
		     R.msg.p ? R.msg.p : "");
}

Test(runner, sysctl_changes_what_synack_sends)
{
	/* tcp_sack=0 and tcp_window_scaling=0: the SYN-ACK carries only the MSS. */
	const char *src = "0 `sysctl -q net.ipv4.tcp_sack=0; sysctl -q net.ipv4.tcp_window_scaling=0`\n"
			  "+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
			  "+0 bind(3, ..., ...) = 0\n"
			  "+0 listen(3, 1) = 0\n"
			  "+0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>\n"
			  "+0 > S. 0:0(0) ack 1 <mss 1460>\n";
	struct drill_config cfg;
	drill_config_default(&cfg);
	cr_assert_eq(drill_run_source("t.pkt", src, strlen(src), &cfg, &R), DRILL_PASS, "%s",
		     R.msg.p ? R.msg.p : "");
}

/* ---- the peers' dialects: a broken expectation must FAIL, an unsupported construct SKIP ---- */

static const char *const ESTABLISHED =
	"+0 > S. 0:0(0) ack 1 <...>\n"
	"+.1 < . 1:1(0) ack 1 win 257\n"
	"+0 accept(3, ..., ...) = 4\n";

static void expect_pass2(const char *tail)
{
	char src[4096];
	snprintf(src, sizeof src, "%s%s", ESTABLISHED, tail);
	expect_pass(src);
}

static void expect_fail2(const char *tail, int line, const char *what)
{
	char src[4096];
	snprintf(src, sizeof src, "%s%s", ESTABLISHED, tail);
	expect_fail(src, line, what);
	drill_result_free(&R);
}

static void expect_skip(const char *tail, const char *why)
{
	char src[4096];
	snprintf(src, sizeof src, "%s%s", ESTABLISHED, tail);
	enum drill_status st = run(src);
	cr_assert_eq(st, DRILL_SKIP, "not skipped (%d):\n%s", st, R.msg.p ? R.msg.p : "");
	cr_assert_str_eq(R.msg.p, why);
	drill_result_free(&R);
}

Test(runner, broken_dialect_expectations_fail)
{
	expect_pass2("+0 write(4, ..., 3000) = 3000\n+0 > [noecn] P. 1:3001(3000) ack 1\n");
	expect_fail2("+0 write(4, ..., 3000) = 3000\n+0 > [ect0] P. 1:3001(3000) ack 1\n", 10,
		     "wrong ECN field: expected [ect0] but synack sent [noecn]");
	/* a TSO line is the run of segments covering exactly its range */
	expect_fail2("+0 write(4, ..., 3000) = 3000\n+0 > P. 1:4001(4000) ack 1\n", 10,
		     "wrong length: expected (4000) but synack sent (1000)");
	expect_fail2("+0 write(4, ..., 3000) = 3000\n+0 > . 1:3001(3000) ack 1\n", 10,
		     "wrong flags: expected . but synack sent P.");
	expect_pass2("+0 ioctl(4, SIOCOUTQ, [0]) = 0\n");
	expect_fail2("+0 ioctl(4, SIOCOUTQ, [1]) = 0\n", 9,
		     "ioctl(): wrong value: expected [1] but synack gave [0]");
	expect_pass2("+0 %{ assert tcpi_snd_cwnd == 10 }%\n");
	expect_fail2("+0 %{ assert tcpi_snd_cwnd == 11, tcpi_snd_cwnd }%\n", 9,
		     "%{ }%: assertion failed: 10");
	expect_pass2("+0 `sockstat -4 -s | grep -c ESTABLISHED | grep 1`\n");
	expect_fail2("+0 `sockstat -4 -s | grep -c TIME_WAIT | grep 1`\n", 9,
		     "shell command exited with status 1; sockstat listed:");
	expect_fail2("+0 epoll_create(1) = 5\n"
		     "+0 epoll_ctl(5, EPOLL_CTL_ADD, 4, {events=EPOLLOUT, fd=4}) = 0\n"
		     "+0 epoll_wait(5, {events=EPOLLIN, fd=4}, 1, 0) = 1\n", 11,
		     "epoll_wait(): event 1: expected events=0x1 for 4 but synack reported "
		     "events=0x4 for fd 4");
	expect_fail2("+0 < P. 1:11(10) ack 1 win 257\n"
		     "+0 setsockopt(4, SOL_TCP, TCP_INQ, [1], 4) = 0\n"
		     "+0 recvmsg(4, {msg_iov(1)=[{..., 4}], msg_flags=0, msg_control(...)=[{"
		     "cmsg_level=SOL_TCP, cmsg_type=TCP_CM_INQ, cmsg_data=5}]}, 0) = 4\n", 11,
		     "recvmsg(): wrong TCP_CM_INQ: expected 5 but synack has 6 bytes left to read");
}

/* nstat lists the stack's counters under Linux's names; piped into grep it asserts them. */
Test(runner, nstat_counters_asserted_through_grep)
{
	expect_pass2("+0 `nstat TcpPassiveOpens | grep -q -E \"^TcpPassiveOpens +1 \"`\n");
	expect_pass2("+0 `nstat -z TcpExtTCPFastOpenPassive | grep -c FastOpen | grep -q -w 1`\n");
	expect_fail2("+0 `nstat TcpPassiveOpens | grep -q -E \"^TcpPassiveOpens +2 \"`\n", 9,
		     "shell command exited with status 1; nstat listed:\n#kernel\n"
		     "TcpPassiveOpens                  1                0.0\n");
	/* without -z a zero counter is not listed */
	expect_fail2("+0 `nstat TcpExtTCPFastOpenPassive | grep -q FastOpen`\n", 9,
		     "shell command exited with status 1; nstat listed:\n#kernel\n");
}

/* The FO option: an outbound cookie must match byte for byte. */
static enum drill_status run_whole(const char *src)
{
	struct drill_config cfg;
	drill_config_default(&cfg);
	drill_result_free(&R);
	return drill_run_source("t.pkt", src, strlen(src), &cfg, &R);
}

Test(runner, fastopen_cookie_compared_exactly)
{
	const char *head = "0 `sysctl -q net.ipv4.tcp_fastopen=0x3`\n"
			   "+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
			   "+0 bind(3, ..., ...) = 0\n"
			   "+0 listen(3, 1) = 0\n"
			   "+0 setsockopt(3, SOL_TCP, TCP_FASTOPEN, [1], 4) = 0\n"
			   "+0 < S 0:0(0) win 1000 <mss 1000,FO,nop,nop>\n";
	char src[1024];
	snprintf(src, sizeof src, "%s+0 > S. 0:0(0) ack 1 <mss 1460,FO 681ac24b94d16259,nop,nop>\n",
		 head);
	cr_assert_eq(run_whole(src), DRILL_PASS, "%s", R.msg.p ? R.msg.p : "");
	snprintf(src, sizeof src, "%s+0 > S. 0:0(0) ack 1 <mss 1460,FO 681ac24b94d16258,nop,nop>\n",
		 head);
	cr_assert_eq(run_whole(src), DRILL_FAIL);
	cr_assert(strstr(R.msg.p, "synack sent <mss 1460,FO 681ac24b94d16259,nop,nop>"), "%s",
		  R.msg.p);
	snprintf(src, sizeof src, "%s+0 > S. 0:0(0) ack 1 <mss 1460,FO,nop,nop>\n", head);
	cr_assert_eq(run_whole(src), DRILL_FAIL, "a request is not a cookie");
	drill_result_free(&R);
}

Test(runner, unsupported_dialect_constructs_skip)
{
	expect_skip("+0 `sysctl -q net.ipv4.tcp_no_such_thing=1`\n",
		    "line 9: unsupported: sysctl net.ipv4.tcp_no_such_thing has no synack equivalent");
	expect_skip("+0 `tcpdrop 192.168.0.1 8080 192.0.2.1 40000`\n",
		    "line 9: unsupported: tcpdrop: synack's API has no way to drop a connection "
		    "from outside");
	expect_skip("+0 `ss -tn`\n", "line 9: unsupported: shell command not supported: "
		    "`ss -tn`");
	expect_skip("+0 `nstat -n | grep -q TcpActiveOpens`\n",
		    "line 9: unsupported: nstat -n not supported");
	expect_skip("+0 recv(4, ..., 1, MSG_WAITALL) = 1\n",
		    "line 9: unsupported: recv(): flag MSG_WAITALL is not supported by synack");
	expect_pass2("+0 write(4, ..., 10) = 10\n+0 > (tos 0x0, ttl 64, df) P. 1:11(10) ack 1\n");
	expect_fail2("+0 write(4, ..., 10) = 10\n+0 > (ttl 63) P. 1:11(10) ack 1\n", 10,
		     "wrong ttl: expected (ttl 63) but synack sent (ttl 64)");
	expect_skip("+0 setsockopt(4, SOL_SOCKET, SO_BINDTODEVICE, [1], 4) = 0\n",
		    "line 9: unsupported: setsockopt(): option SO_BINDTODEVICE is not in synack");
	expect_skip("+0 setsockopt(4, SOL_TCP, TCP_NO_SUCH, [1], 4) = 0\n",
		    "line 9: unsupported: setsockopt(): symbol TCP_NO_SUCH is not known to synack drill");
	expect_skip("+0 epoll_create(1) = 5\n"
		    "+0 epoll_ctl(5, EPOLL_CTL_ADD, 4, {events=EPOLLIN|EPOLLET, fd=4}) = 0\n",
		    "line 10: unsupported: epoll_ctl(): EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE and "
		    "EPOLLRDHUP are not supported");
	expect_skip("+0 sendmsg(4, {msg_iov(1)=[{..., 10}], msg_control(...)=[{cmsg_level=SOL_IP, "
		    "cmsg_type=IP_TOS, cmsg_data=1}]}, 0) = 10\n",
		    "line 9: unsupported: sendmsg(): control messages are not supported by synack");
	expect_skip("+0 ioctl(4, 0x8906, [0]) = 0\n",
		    "line 9: unsupported: ioctl(): request (number) is not supported");
	expect_skip("+0 < (flowlabel 0x2) . 1:1(0) ack 1 win 257\n",
		    "line 9: unsupported: IP-level field (flowlabel, ...)");
	expect_skip("+0 socket(..., SOCK_DGRAM, IPPROTO_UDP) = 5\n",
		    "line 9: unsupported: socket(): only TCP sockets (SOCK_STREAM, IPPROTO_TCP)");
}

Test(runner, ifdef_follows_the_defined_symbols)
{
	const char *src = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
			  "#ifdef FreeBSD\n"
			  "+0 getsockopt(3, SOL_SOCKET, SO_RCVBUF, [65536], [4]) = 0\n"
			  "#else\n"
			  "+0 getsockopt(3, SOL_SOCKET, SO_RCVBUF, [131072], [4]) = 0\n"
			  "#endif\n"
			  "+0 getsockopt(3, SOL_SOCKET, SO_RCVBUF, [RCVBUF], [4]) = 0\n";
	struct drill_config cfg;
	drill_config_default(&cfg);
	cr_assert_eq(drill_define_set(&cfg, "RCVBUF=131072"), 0);
	cr_assert_eq(drill_run_source("t.pkt", src, strlen(src), &cfg, &R), DRILL_PASS, "%s",
		     R.msg.p ? R.msg.p : "");
	drill_result_free(&R);
	cr_assert_eq(drill_define_set(&cfg, "FreeBSD"), 0);
	cr_assert_eq(drill_run_source("t.pkt", src, strlen(src), &cfg, &R), DRILL_FAIL);
	cr_assert(strstr(R.msg.p, "t.pkt:3: getsockopt(): wrong value: expected [65536] but "
			 "synack gave [131072]"), "%s", R.msg.p);
	drill_result_free(&R);
	const char *bad = "#ifdef X\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n";
	cr_assert_eq(drill_run_source("t.pkt", bad, strlen(bad), &cfg, &R), DRILL_FAIL);
	cr_assert(strstr(R.msg.p, "t.pkt:2: #if without #endif"), "%s", R.msg.p);
}
