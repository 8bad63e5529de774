/* The drill lexer and parser: packetdrill's grammar into events (src/drill/lexer.c, parser.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "drill/drill.h"
#include "synack/wire.h"

static struct drill_script S;
static struct drill_buf E;

static int parse(const char *src)
{
	memset(&E, 0, sizeof E);
	return drill_parse("t.pkt", src, strlen(src), &S, &E);
}

static void done(void)
{
	drill_script_free(&S);
	drill_buf_free(&E);
}

TestSuite(parser, .fini = done);

Test(lexer, tokens_and_times)
{
	const char *src = "+.01 > S. 0:0(0) ack 1 <mss 1460,...> `x` ... 0x1f \"s\" %{ a }%";
	struct drill_tokens t;
	struct drill_buf err = {0};
	cr_assert_eq(drill_lex(src, strlen(src), &t, &err), 0);
	cr_assert_eq(t.v[0].kind, DRILL_TOK_PUNCT);
	cr_assert_eq(t.v[0].punct, '+');
	cr_assert_eq(t.v[1].kind, DRILL_TOK_FLOAT);
	cr_assert_eq(t.v[1].usecs, 10000, "'.01' is 10 ms");
	cr_assert_eq(t.v[2].punct, '>');
	cr_assert_eq(t.v[3].kind, DRILL_TOK_IDENT);
	cr_assert_str_eq(t.v[3].text, "S");
	cr_assert_eq(t.v[4].punct, '.');
	cr_assert(!t.v[4].space_before, "'.' glued to S makes S.");
	cr_assert_eq(t.v[5].kind, DRILL_TOK_INT);
	size_t n = t.n;
	cr_assert_eq(t.v[n - 1].kind, DRILL_TOK_EOF);
	cr_assert_eq(t.v[n - 2].kind, DRILL_TOK_CODE);
	cr_assert_str_eq(t.v[n - 2].text, " a ");
	cr_assert_eq(t.v[n - 3].kind, DRILL_TOK_STRING);
	cr_assert_eq(t.v[n - 4].ival, 0x1f);
	cr_assert_eq(t.v[n - 5].kind, DRILL_TOK_ELLIPSIS);
	cr_assert_eq(t.v[n - 6].kind, DRILL_TOK_SHELL);
	cr_assert_str_eq(t.v[n - 6].text, "x");
	drill_tokens_free(&t);
}

Test(lexer, comments_and_lines)
{
	const char *src = "// a\n/* b\n c */ 0.250 // d\n  --tolerance_usecs=1000\n";
	struct drill_tokens t;
	struct drill_buf err = {0};
	cr_assert_eq(drill_lex(src, strlen(src), &t, &err), 0);
	cr_assert_eq(t.n, 3);
	cr_assert_eq(t.v[0].kind, DRILL_TOK_FLOAT);
	cr_assert_eq(t.v[0].usecs, 250000);
	cr_assert_eq(t.v[0].line, 3);
	cr_assert_eq(t.v[1].kind, DRILL_TOK_OPTION);
	cr_assert_str_eq(t.v[1].text, "tolerance_usecs=1000");
	cr_assert_eq(t.v[1].line, 4);
	drill_tokens_free(&t);
}

Test(lexer, unterminated)
{
	struct drill_tokens t;
	struct drill_buf err = {0};
	cr_assert_eq(drill_lex("0 `sysctl", 9, &t, &err), -1);
	cr_assert(strstr(err.p, "line 1: unterminated `shell command`"), "%s", err.p);
	drill_buf_free(&err);
	cr_assert_eq(drill_lex("\n\n/* x", 6, &t, &err), -1);
	cr_assert(strstr(err.p, "line 3: unterminated /* comment"), "%s", err.p);
	drill_buf_free(&err);
}

Test(parser, passive_open_script)
{
	const char *src =
		"// passive open\n"
		"0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
		"+0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n"
		"+0  bind(3, ..., ...) = 0\n"
		"+0  listen(3, 1) = 0\n"
		"0.100 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>\n"
		"+0  > S. 0:0(0) ack 1 <...>\n"
		"+.1 < . 1:1(0) ack 1 win 257\n"
		"+0  accept(3, ..., ...) = 4\n";
	cr_assert_eq(parse(src), 0, "%s", E.p);
	cr_assert_eq(S.nev, 8);
	const struct drill_event *ev = S.ev;
	cr_assert_eq(ev[0].kind, DRILL_EV_SYSCALL);
	cr_assert_eq(ev[0].time_kind, DRILL_TIME_ABS);
	cr_assert_str_eq(ev[0].sc.name, "socket");
	cr_assert_eq(ev[0].sc.nargs, 3);
	cr_assert_eq(ev[0].sc.args[0]->kind, DRILL_EX_ELLIPSIS);
	cr_assert_str_eq(ev[0].sc.args[1]->text, "SOCK_STREAM");
	cr_assert_eq(ev[0].sc.ret, 3);
	cr_assert_eq(ev[0].line, 2);
	cr_assert_eq(ev[1].sc.args[3]->kind, DRILL_EX_ARRAY);
	cr_assert_eq(ev[1].sc.args[3]->items[0]->ival, 1);
	cr_assert_eq(ev[1].time_kind, DRILL_TIME_REL);
	const struct drill_packet *syn = &ev[4].pkt;
	cr_assert_eq(ev[4].kind, DRILL_EV_PACKET);
	cr_assert_eq(ev[4].t_us, 100000);
	cr_assert(syn->inbound);
	cr_assert_eq(syn->flags, SYNACK_TH_SYN);
	cr_assert(syn->has_seq && syn->seq == 0 && syn->end == 0 && syn->len == 0);
	cr_assert(syn->has_win && syn->win == 32792);
	cr_assert_eq(syn->opts_mode, DRILL_OPTS_LIST);
	cr_assert_eq(syn->nopts, 6);
	cr_assert_eq(syn->opts[0].kind, DRILL_OPT_MSS);
	cr_assert_eq(syn->opts[0].a, 1000);
	cr_assert_eq(syn->opts[1].kind, DRILL_OPT_SACKOK);
	cr_assert_eq(syn->opts[4].kind, DRILL_OPT_NOP);
	cr_assert_eq(syn->opts[5].kind, DRILL_OPT_WSCALE);
	cr_assert_eq(syn->opts[5].a, 7);
	const struct drill_packet *sa = &ev[5].pkt;
	cr_assert(!sa->inbound);
	cr_assert_eq(sa->flags, SYNACK_TH_SYN | SYNACK_TH_ACK);
	cr_assert(sa->has_ack && sa->ack == 1);
	cr_assert(!sa->has_win);
	cr_assert_eq(sa->opts_mode, DRILL_OPTS_ANY);
	cr_assert_eq(ev[6].pkt.flags, SYNACK_TH_ACK);
	cr_assert_eq(ev[6].t_us, 100000);
	cr_assert_str_eq(ev[6].text, "+.1 < . 1:1(0) ack 1 win 257");
}

Test(parser, errno_return_and_text)
{
	cr_assert_eq(parse("0 connect(3, ..., ...) = -1 ECONNREFUSED (Connection refused)\n"
			   "+0 fcntl(3, F_GETFL) = 0x802 (flags O_RDWR|O_NONBLOCK)\n"
			   "+0 read(3, ..., 10) = ...\n"), 0, "%s", E.p);
	cr_assert_eq(S.nev, 3);
	cr_assert_eq(S.ev[0].sc.ret, -1);
	cr_assert_eq(S.ev[0].sc.err, ECONNREFUSED);
	cr_assert_str_eq(S.ev[0].sc.err_name, "ECONNREFUSED");
	cr_assert_eq(S.ev[1].sc.ret, 0x802);
	cr_assert(S.ev[2].sc.ret_any);
}

Test(parser, structs_or_and_calls)
{
	cr_assert_eq(parse("0 setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n"
			   "0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
			   "0 bind(3, {sa_family=AF_INET, sin_port=htons(9000), "
			   "sin_addr=inet_addr(\"192.168.0.1\")}, 16) = 0\n"
			   "0 writev(4, [{..., 10}, {iov_base=..., iov_len=20}], 2) = 30\n"), 0, "%s",
		     E.p);
	const struct drill_expr *l = S.ev[0].sc.args[3];
	cr_assert_eq(l->kind, DRILL_EX_STRUCT);
	cr_assert_eq(l->n, 2);
	cr_assert_str_eq(l->names[1], "linger");
	cr_assert_eq(l->items[1]->ival, 0);
	cr_assert_eq(S.ev[1].sc.args[2]->kind, DRILL_EX_OR);
	const struct drill_expr *sa = S.ev[2].sc.args[1];
	cr_assert_eq(sa->items[1]->kind, DRILL_EX_CALL);
	cr_assert_str_eq(sa->items[1]->text, "htons");
	cr_assert_eq(sa->items[1]->items[0]->ival, 9000);
	cr_assert_eq(sa->items[2]->items[0]->kind, DRILL_EX_STRING);
	const struct drill_expr *iov = S.ev[3].sc.args[1];
	cr_assert_eq(iov->kind, DRILL_EX_ARRAY);
	cr_assert_eq(iov->n, 2);
	cr_assert_null(iov->items[0]->names[1]);
	cr_assert_str_eq(iov->items[1]->names[1], "iov_len");
}

Test(parser, times_ranges_any_and_end)
{
	cr_assert_eq(parse("0.1~0.2 > . 1:1(0) ack 1\n"
			   "+0.1~+0.3 > . 1:1(0) ack 1\n"
			   "* > F. 1:1(0) ack 1\n"
			   "0.5...0.75 read(4, ..., 100) = 100\n"
			   "+0...1.5 accept(3, ..., ...) = 4\n"), 0, "%s", E.p);
	cr_assert_eq(S.ev[0].time_kind, DRILL_TIME_ABS_RANGE);
	cr_assert_eq(S.ev[0].t_us, 100000);
	cr_assert_eq(S.ev[0].t_end_us, 200000);
	cr_assert_eq(S.ev[1].time_kind, DRILL_TIME_REL_RANGE);
	cr_assert_eq(S.ev[1].t_end_us, 300000);
	cr_assert_eq(S.ev[2].time_kind, DRILL_TIME_ANY);
	cr_assert_eq(S.ev[2].pkt.flags, SYNACK_TH_FIN | SYNACK_TH_ACK);
	cr_assert(S.ev[3].has_end);
	cr_assert_eq(S.ev[3].t_us, 500000);
	cr_assert_eq(S.ev[3].end_us, 750000);
	cr_assert(S.ev[4].has_end);
	cr_assert_eq(S.ev[4].time_kind, DRILL_TIME_REL);
	cr_assert_eq(S.ev[4].end_us, 1500000);
}

Test(parser, options_shell_and_code)
{
	cr_assert_eq(parse("--tolerance_usecs=10000\n"
			   "0 `sysctl -q net.ipv4.tcp_timestamps=0`\n"
			   "`echo 1 > /proc/sys/net/ipv4/tcp_sack`\n"
			   "%{ print(1) }%\n"), 0, "%s", E.p);
	cr_assert_eq(S.noptions, 1);
	cr_assert_str_eq(S.options[0], "tolerance_usecs=10000");
	cr_assert_eq(S.nev, 3);
	cr_assert_eq(S.ev[0].kind, DRILL_EV_SHELL);
	cr_assert_str_eq(S.ev[0].shell, "sysctl -q net.ipv4.tcp_timestamps=0");
	cr_assert_eq(S.ev[1].kind, DRILL_EV_SHELL);
	cr_assert_eq(S.ev[2].kind, DRILL_EV_CODE);
}

Test(parser, tcp_options_sack_ts_port_and_empty)
{
	cr_assert_eq(parse("0 < port 40001 . 1:1(0) ack 1 win 100 <nop,nop,TS val 10 ecr 20>\n"
			   "0 < . 1:1(0) ack 1 win 100 <sack 1001:2001 3001:4001,nop,nop>\n"
			   "0 > . 1:1(0) ack 1 <>\n"
			   "0 > P.U 1:2(1) ack 1 urg 1 win 8\n"
			   "0 < R 5:5(0) win 0\n"), 0, "%s", E.p);
	cr_assert_eq(S.ev[0].pkt.port, 40001);
	cr_assert_eq(S.ev[0].pkt.opts[2].kind, DRILL_OPT_TS);
	cr_assert_eq(S.ev[0].pkt.opts[2].a, 10);
	cr_assert_eq(S.ev[0].pkt.opts[2].b, 20);
	cr_assert_eq(S.ev[1].pkt.opts[0].nblocks, 2);
	cr_assert_eq(S.ev[1].pkt.opts[0].blocks[1][0], 3001);
	cr_assert_eq(S.ev[1].pkt.opts[0].blocks[1][1], 4001);
	cr_assert_eq(S.ev[2].pkt.opts_mode, DRILL_OPTS_LIST);
	cr_assert_eq(S.ev[2].pkt.nopts, 0);
	cr_assert_eq(S.ev[3].pkt.flags, SYNACK_TH_PSH | SYNACK_TH_URG | SYNACK_TH_ACK);
	cr_assert(S.ev[3].pkt.has_urg && S.ev[3].pkt.urg == 1);
	cr_assert_eq(S.ev[4].pkt.flags, SYNACK_TH_RST);
	cr_assert(!S.ev[4].pkt.has_ack);
	cr_assert_eq(S.ev[4].pkt.seq, 5);
}

Test(parser, icmp)
{
	cr_assert_eq(parse("0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]\n"
			   "0 < icmp time_exceeded\n"
			   "0 < icmp unreachable code_9 [5:5(0)]\n"
			   "0 < icmp type_40\n"), 0, "%s", E.p);
	const struct drill_packet *a = &S.ev[0].pkt;
	cr_assert(a->icmp && a->inbound);
	cr_assert_eq(a->icmp_type, 3);
	cr_assert_eq(a->icmp_code, 4);
	cr_assert(a->has_mtu && a->mtu == 1200);
	cr_assert(a->has_seq && a->seq == 1 && a->len == 1460);
	cr_assert_eq(S.ev[1].pkt.icmp_type, 11);
	cr_assert_eq(S.ev[1].pkt.icmp_code, 0, "a missing code is 0, as in packetdrill");
	cr_assert(!S.ev[1].pkt.has_seq);
	cr_assert_eq(S.ev[2].pkt.icmp_code, 9);
	cr_assert_eq(S.ev[3].pkt.icmp_type, 40);
}

static void expect_error(const char *src, const char *msg)
{
	struct drill_script s;
	struct drill_buf err = {0};
	int want = strstr(msg, "unsupported:") ? -2 : -1;
	cr_assert_eq(drill_parse("t.pkt", src, strlen(src), &s, &err), want, "parsed: %s", src);
	cr_assert(err.p && strstr(err.p, msg), "wanted '%s' in '%s'", msg, err.p ? err.p : "");
	drill_buf_free(&err);
}

Test(parser, errors_name_the_line)
{
	expect_error("0 < X 0:0(0) win 1\n", "t.pkt:1: bad TCP flags");
	expect_error("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
		     "+0 < S 0:5(0) win 1\n", "t.pkt:2: seq:end(len) does not add up");
	expect_error("0 close(3)\n", "t.pkt:1: expected '='");
	expect_error("0 close(3) = -1 EWHAT\n", "unknown errno name");
	expect_error("0 < S 0:0(0) <mss 1000, bogus 3>\n", "unsupported TCP option, found 'bogus'");
	expect_error("\n\nhello\n", "t.pkt:3: expected an event time");
	expect_error("0 < S\n", "an inbound packet needs seq:end(len)");
	expect_error("0...1 < S 0:0(0)\n", "only a system call can have an end time");
	expect_error("0 \"abc\n", "t.pkt:1: newline in string");
	expect_error("0 > icmp unreachable\n", "line 1: unsupported: outbound ICMP");
	expect_error("0 < icmp bogus\n", "expected an ICMP type");
	expect_error("0 < S 0:0(0) win 1 <mss 1000,md5 abcd>\n", "unsupported: TCP option");
	expect_error("0 < S 0:0(0) win 1 <mss 1000,FO abcd>\n",
		     "a Fast Open cookie is 4 to 16 bytes of hex");
	expect_error("0 < S 0:0(0) win 1 <mss 1000,FO 01020304x5>\n",
		     "a Fast Open cookie is 4 to 16 bytes of hex");
	expect_error("0 < (flowlabel 0x1) S 0:0(0) win 1\n", "unsupported: IP-level field (flowlabel, ...)");
	expect_error("0 < (tos 300) S 0:0(0) win 1\n", "a tos or ttl goes from 0 to 255");
	expect_error("0 < udp (10)\n", "unsupported: UDP packets");
	expect_error("0 < [ect2] S 0:0(0) win 1\n", "expected an ECN mark: noecn, ect0, ect1, ce, ect01");
	expect_error("0 < [ect01] S 0:0(0) win 1\n", "[ect01] only goes with an outbound packet");
	expect_error("0 < icmp time_exceeded mtu 5\n", "mtu goes with unreachable frag_needed");
}

Test(parser, ecn_marks_and_msghdr_fields)
{
	cr_assert_eq(parse("0 < [ect0] S 0:0(0) win 1\n0 > [ce] S. 0:0(0) ack 1\n"
			   "0 recvmsg(4, {msg_iov(1)=[{..., 10}], msg_flags=0}, 0) = 10\n"), 0,
		     "%s", E.p ? E.p : "");
	cr_assert(S.ev[0].pkt.has_ecn && S.ev[0].pkt.ecn == DRILL_ECN_ECT0);
	cr_assert(S.ev[1].pkt.has_ecn && S.ev[1].pkt.ecn == DRILL_ECN_CE);
	const struct drill_expr *m = S.ev[2].sc.args[1];
	cr_assert_eq(m->kind, DRILL_EX_STRUCT);
	cr_assert_str_eq(m->names[0], "msg_iov");
	cr_assert_eq(m->items[0]->kind, DRILL_EX_ARRAY);
	cr_assert_str_eq(m->names[1], "msg_flags");
}
