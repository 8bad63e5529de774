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
	const char *py = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n%{ print(1) }%\n";
	cr_assert_eq(drill_run_source("t.pkt", py, strlen(py), &cfg, &R), DRILL_SKIP);
	cr_assert(strstr(R.msg.p, "python"), "%s", R.msg.p);
	drill_result_free(&R);
	const char *sh = "0 `ip link set dev tun0 mtu 1000`\n";
	cr_assert_eq(drill_run_source("t.pkt", sh, strlen(sh), &cfg, &R), DRILL_SKIP);
	cr_assert(strstr(R.msg.p, "shell command not supported: `ip link set dev tun0 mtu 1000`"),
		  "%s", R.msg.p);
	drill_result_free(&R);
	const char *mark = "// checks X\n// drill-skip: engine lacks X\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n";
	cr_assert_eq(drill_run_source("t.pkt", mark, strlen(mark), &cfg, &R), DRILL_SKIP);
	cr_assert_str_eq(R.msg.p, "line 2: marked to skip: engine lacks X");
	drill_result_free(&R);
	const char *sc = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 sendmsg(3, ..., 0) = 0\n";
	cr_assert_eq(drill_run_source("t.pkt", sc, strlen(sc), &cfg, &R), DRILL_SKIP);
	cr_assert_str_eq(R.msg.p, "line 2: unsupported: system call sendmsg()");
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
