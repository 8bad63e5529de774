/* Every demo scenario is a test: its JSON-lines event stream is checked segment by segment
 * (flags, seq and ack relative to each side's ISN, length), state by state, error by error,
 * and the same options must give the same bytes. The tests declared with BOTH() run twice:
 * over IPv4 (suite demo) and over IPv6 (suite demo6, synack demo --ipv6), with the same
 * expectations but for the addresses, the MSS (1460 or 1440) and what follows from it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo/scenario.h"

#define MAX_EVENTS 20000

struct ev {
	uint64_t t_us;
	char host[16], ev[16], flags[8], from[16], to[16], err[16], reason[32], conn[48], note[96];
	char src[48], dst[48], opts[96];
	uint32_t seq, ack, len, win;
	bool retx;
};

/* The family the current test runs in (each Test runs in its own process). */
static bool V6;

/* A test body run over IPv4 (suite demo) and over IPv6 (suite demo6). */
#define BOTH(name)                                                                                \
	static void name##_body(void);                                                           \
	Test(demo, name) { V6 = false; name##_body(); }                                          \
	Test(demo6, name) { V6 = true; name##_body(); }                                          \
	static void name##_body(void)

struct run {
	char *buf;
	size_t len;
	struct ev *evs;
	size_t n;
	char summary[512];
	struct synack_demo_result res;
	uint32_t iss[2]; /* client, server: from their first SYN */
};

static bool field(const char *line, const char *key, char *out, size_t cap)
{
	char pat[32];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *p = strstr(line, pat);
	if (!p)
		return false;
	p += strlen(pat);
	size_t n = 0;
	if (*p == '"') {
		p++;
		while (p[n] && p[n] != '"')
			n++;
	} else {
		while (p[n] && p[n] != ',' && p[n] != '}')
			n++;
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static uint64_t num(const char *line, const char *key)
{
	char b[32] = "0";
	field(line, key, b, sizeof b);
	return strtoull(b, NULL, 10);
}

static void parse(struct run *r)
{
	r->evs = calloc(MAX_EVENTS, sizeof *r->evs);
	char *save = NULL;
	for (char *line = strtok_r(r->buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "\"ev\":\"summary\"")) {
			snprintf(r->summary, sizeof r->summary, "%s", line);
			continue;
		}
		cr_assert_lt(r->n, MAX_EVENTS);
		struct ev *e = &r->evs[r->n++];
		char b[8];
		e->t_us = num(line, "t_us");
		field(line, "host", e->host, sizeof e->host);
		field(line, "ev", e->ev, sizeof e->ev);
		field(line, "flags", e->flags, sizeof e->flags);
		field(line, "from", e->from, sizeof e->from);
		field(line, "to", e->to, sizeof e->to);
		field(line, "errno", e->err, sizeof e->err);
		field(line, "reason", e->reason, sizeof e->reason);
		field(line, "note", e->note, sizeof e->note);
		field(line, "conn", e->conn, sizeof e->conn);
		field(line, "src", e->src, sizeof e->src);
		field(line, "dst", e->dst, sizeof e->dst);
		field(line, "opts", e->opts, sizeof e->opts);
		e->win = (uint32_t)num(line, "win");
		e->seq = (uint32_t)num(line, "seq");
		e->ack = (uint32_t)num(line, "ack");
		e->len = (uint32_t)num(line, "len");
		e->retx = field(line, "retx", b, sizeof b) && !strcmp(b, "true");
		/* Each side's ISN is the seq of the first SYN it sends. */
		int who = !strcmp(e->host, "server");
		if (!strcmp(e->ev, "tx") && strchr(e->flags, 'S') && !r->iss[who])
			r->iss[who] = e->seq;
	}
}

static struct run *run_opts(const struct synack_demo_opts *o)
{
	struct run *r = calloc(1, sizeof *r);
	FILE *f = open_memstream(&r->buf, &r->len);
	struct synack_demo_opts oo = *o;
	oo.out = f;
	oo.ipv6 = V6;
	oo.format = SYNACK_LADDER_JSONL;
	int err = synack_demo_run(&oo, &r->res);
	fclose(f);
	cr_assert_eq(err, 0, "scenario %s failed: %d", o->scenario, err);
	parse(r);
	return r;
}

static struct run *run_sc(const char *name)
{
	struct synack_demo_opts o;
	synack_demo_opts_default(&o);
	o.scenario = name;
	return run_opts(&o);
}

static void run_free(struct run *r)
{
	free(r->buf);
	free(r->evs);
	free(r);
}

/* One expected segment: who sent it, flags, seq and ack relative to the ISNs, length. */
struct seg {
	const char *host, *flags;
	uint32_t rseq, rack, len;
};

static uint32_t rel_seq(const struct run *r, const struct ev *e)
{
	return e->seq - r->iss[!strcmp(e->host, "server")];
}

static uint32_t rel_ack(const struct run *r, const struct ev *e)
{
	return strchr(e->flags, '.') ? e->ack - r->iss[strcmp(e->host, "server") != 0] : 0;
}

static void expect_tx(const struct run *r, const struct seg *want, size_t nwant)
{
	size_t k = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct ev *e = &r->evs[i];
		if (strcmp(e->ev, "tx"))
			continue;
		cr_assert_lt(k, nwant, "more segments than expected: %s %s at %llu", e->host,
			     e->flags, (unsigned long long)e->t_us);
		const struct seg *w = &want[k++];
		cr_assert_str_eq(e->host, w->host, "segment %zu", k - 1);
		cr_assert_str_eq(e->flags, w->flags, "segment %zu", k - 1);
		cr_assert_eq(rel_seq(r, e), w->rseq, "segment %zu seq", k - 1);
		cr_assert_eq(rel_ack(r, e), w->rack, "segment %zu ack", k - 1);
		cr_assert_eq(e->len, w->len, "segment %zu len", k - 1);
	}
	cr_assert_eq(k, nwant, "segments sent");
}

/* The states the host's connection with conn went through, "A>B>C". */
static void states_of(const struct run *r, const char *host, const char *conn, char *out,
		      size_t cap)
{
	out[0] = '\0';
	for (size_t i = 0; i < r->n; i++) {
		const struct ev *e = &r->evs[i];
		if (strcmp(e->ev, "state") || strcmp(e->host, host) || strcmp(e->conn, conn))
			continue;
		size_t n = strlen(out);
		snprintf(out + n, cap - n, "%s%s>%s", n ? "|" : "", e->from, e->to);
	}
}

#define CLIENT_EP (V6 ? "[2001:db8::1]:40000" : "10.0.0.1:40000")
#define SERVER_EP (V6 ? "[2001:db8::2]:80" : "10.0.0.2:80")
#define CLIENT_CONN (V6 ? "[2001:db8::1]:40000-[2001:db8::2]:80" : "10.0.0.1:40000-10.0.0.2:80")
#define SERVER_CONN (V6 ? "[2001:db8::2]:80-[2001:db8::1]:40000" : "10.0.0.2:80-10.0.0.1:40000")
/* The MSS each side announces: the configured 1460 less 20 over IPv6 (40-byte header). */
#define MSS (V6 ? 1440u : 1460u)

static const struct ev *find_ev(const struct run *r, const char *host, const char *ev,
				const char *flags, size_t from)
{
	for (size_t i = from; i < r->n; i++) {
		const struct ev *e = &r->evs[i];
		if (!strcmp(e->host, host) && !strcmp(e->ev, ev) && (!flags || !strcmp(e->flags, flags)))
			return e;
	}
	return NULL;
}

static void expect_summary(const struct run *r, uint64_t bytes, const char *cf, const char *sf)
{
	char b[80];
	cr_assert_eq(r->res.sent_bytes, bytes);
	cr_assert_eq(r->res.recv_bytes, bytes);
	cr_assert_str_eq(r->res.sent_sha256, r->res.recv_sha256);
	cr_assert_str_eq(synack_state_name(r->res.client_final), cf);
	cr_assert_str_eq(synack_state_name(r->res.server_final), sf);
	cr_assert(field(r->summary, "recv_sha256", b, sizeof b));
	cr_assert_str_eq(b, r->res.recv_sha256);
	cr_assert(field(r->summary, "client_final", b, sizeof b));
	cr_assert_str_eq(b, cf);
	cr_assert(field(r->summary, "server_final", b, sizeof b));
	cr_assert_str_eq(b, sf);
}

/* The echo conversation: handshake, 14 bytes each way, the client's close. */
static const struct seg echo_conv[] = {
	{"client", "S", 0, 0, 0},    {"server", "S.", 0, 1, 0},   {"client", ".", 1, 1, 0},
	{"client", "P.", 1, 1, 14},  {"server", ".", 1, 15, 0},   {"server", "P.", 1, 15, 14},
	{"client", ".", 15, 15, 0},  {"client", "F.", 15, 15, 0}, {"server", ".", 15, 16, 0},
	{"server", "F.", 15, 16, 0}, {"client", ".", 16, 16, 0},
};
#define ECHO_N (sizeof echo_conv / sizeof echo_conv[0])

BOTH(handshake_segments_states_and_time_wait)
{
	struct run *r = run_sc("handshake");
	expect_tx(r, echo_conv, ECHO_N);
	char st[512];
	states_of(r, "client", CLIENT_CONN, st, sizeof st);
	cr_assert_str_eq(st, "CLOSED>SYN-SENT|SYN-SENT>ESTABLISHED|ESTABLISHED>FIN-WAIT-1|"
			     "FIN-WAIT-1>FIN-WAIT-2|FIN-WAIT-2>TIME-WAIT|TIME-WAIT>CLOSED");
	states_of(r, "server", SERVER_CONN, st, sizeof st);
	cr_assert_str_eq(st, "LISTEN>SYN-RECEIVED|SYN-RECEIVED>ESTABLISHED|ESTABLISHED>CLOSE-WAIT|"
			     "CLOSE-WAIT>LAST-ACK|LAST-ACK>CLOSED");
	/* TIME-WAIT lasts 2*MSL = 60 s on the virtual clock. */
	uint64_t tw = 0, closed = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct ev *e = &r->evs[i];
		if (!strcmp(e->ev, "state") && !strcmp(e->host, "client") && !strcmp(e->to, "TIME-WAIT"))
			tw = e->t_us;
		if (!strcmp(e->ev, "state") && !strcmp(e->host, "client") && !strcmp(e->from, "TIME-WAIT"))
			closed = e->t_us;
	}
	cr_assert_eq(closed - tw, 60000000u);
	expect_summary(r, 14, "CLOSED", "CLOSED");
	run_free(r);
}

/* The handshake's segments in the family's own terms: every segment between the two
 * endpoints as the trace names them ([addr]:port for IPv6, RFC 5952 §6), the MSS announced
 * (the configured 1460, less 20 over IPv6) and the initial windows Linux would open with
 * (the largest multiple of the MSS, and of MSS - 12 for the SYN-ACK, below 65535). */
BOTH(handshake_addresses_mss_and_windows)
{
	struct run *r = run_sc("handshake");
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct ev *e = &r->evs[i];
		if (strcmp(e->ev, "tx") && strcmp(e->ev, "rx"))
			continue;
		int sender = !strcmp(e->host, "server") ^ !strcmp(e->ev, "rx");
		cr_assert_str_eq(e->src, sender ? SERVER_EP : CLIENT_EP, "event %zu", i);
		cr_assert_str_eq(e->dst, sender ? CLIENT_EP : SERVER_EP, "event %zu", i);
		n++;
	}
	cr_assert_eq(n, 22, "11 segments sent, 11 received");
	char want[96];
	const struct ev *syn = find_ev(r, "client", "tx", "S", 0);
	const struct ev *sa = find_ev(r, "server", "tx", "S.", 0);
	cr_assert(syn && sa);
	snprintf(want, sizeof want, "mss %u,sackOK,TS val ", MSS);
	cr_assert(!strncmp(syn->opts, want, strlen(want)), "%s", syn->opts);
	cr_assert(!strncmp(sa->opts, want, strlen(want)), "%s", sa->opts);
	cr_assert(strstr(syn->opts, ",nop,wscale 7") != NULL, "%s", syn->opts);
	cr_assert_eq(syn->win, V6 ? 64800u : 64240u, "45 (44) x MSS");
	cr_assert_eq(sa->win, V6 ? 64260u : 65160u, "45 x (MSS - 12)");
	run_free(r);
}

/* Every segment event of the default run, arrivals included, with its time: sends and
 * arrivals 10 ms apart (the link's one-way delay), replies at the instant of the arrival. */
struct segev {
	const char *host, *ev, *flags;
	uint32_t rseq, rack, len, t_ms;
};

BOTH(handshake_every_segment_event)
{
	static const struct segev want[] = {
		{"client", "tx", "S", 0, 0, 0, 0},      {"server", "rx", "S", 0, 0, 0, 10},
		{"server", "tx", "S.", 0, 1, 0, 10},    {"client", "rx", "S.", 0, 1, 0, 20},
		{"client", "tx", ".", 1, 1, 0, 20},     {"client", "tx", "P.", 1, 1, 14, 20},
		{"server", "rx", ".", 1, 1, 0, 30},     {"server", "rx", "P.", 1, 1, 14, 30},
		{"server", "tx", ".", 1, 15, 0, 30},    {"server", "tx", "P.", 1, 15, 14, 30},
		{"client", "rx", ".", 1, 15, 0, 40},    {"client", "rx", "P.", 1, 15, 14, 40},
		{"client", "tx", ".", 15, 15, 0, 40},   {"client", "tx", "F.", 15, 15, 0, 40},
		{"server", "rx", ".", 15, 15, 0, 50},   {"server", "rx", "F.", 15, 15, 0, 50},
		{"server", "tx", ".", 15, 16, 0, 50},   {"server", "tx", "F.", 15, 16, 0, 50},
		{"client", "rx", ".", 15, 16, 0, 60},   {"client", "rx", "F.", 15, 16, 0, 60},
		{"client", "tx", ".", 16, 16, 0, 60},   {"server", "rx", ".", 16, 16, 0, 70},
	};
	struct run *r = run_sc("handshake");
	size_t k = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct ev *e = &r->evs[i];
		if (strcmp(e->ev, "tx") && strcmp(e->ev, "rx") && strcmp(e->ev, "drop") &&
		    strcmp(e->ev, "lost"))
			continue;
		cr_assert_lt(k, sizeof want / sizeof want[0]);
		const struct segev *w = &want[k++];
		/* The sender of an arrival is the other host. */
		int sender = !strcmp(e->host, "server") ^ !strcmp(e->ev, "rx");
		uint32_t rseq = e->seq - r->iss[sender];
		uint32_t rack = strchr(e->flags, '.') ? e->ack - r->iss[!sender] : 0;
		cr_assert_str_eq(e->host, w->host, "event %zu", k - 1);
		cr_assert_str_eq(e->ev, w->ev, "event %zu", k - 1);
		cr_assert_str_eq(e->flags, w->flags, "event %zu", k - 1);
		cr_assert_eq(rseq, w->rseq, "event %zu seq", k - 1);
		cr_assert_eq(rack, w->rack, "event %zu ack", k - 1);
		cr_assert_eq(e->len, w->len, "event %zu len", k - 1);
		cr_assert_eq(e->t_us, w->t_ms * 1000u, "event %zu time", k - 1);
	}
	cr_assert_eq(k, sizeof want / sizeof want[0]);
	run_free(r);
}

BOTH(msl_option_shortens_time_wait)
{
	struct synack_demo_opts o;
	synack_demo_opts_default(&o);
	o.msl_ms = 1000;
	struct run *r = run_opts(&o);
	const struct ev *tw = NULL;
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->evs[i].ev, "state") && !strcmp(r->evs[i].from, "TIME-WAIT"))
			tw = &r->evs[i];
	cr_assert(tw);
	cr_assert_eq(r->res.end_us, tw->t_us);
	cr_assert_eq(tw->t_us, 60000u + 2000000u, "TIME-WAIT entered at 60 ms, 2 s long");
	run_free(r);
}

BOTH(refused)
{
	struct run *r = run_sc("refused");
	static const struct seg want[] = {{"client", "S", 0, 0, 0}, {"server", "R.", 0, 1, 0}};
	r->iss[1] = 0; /* the RST's seq is 0: there is no connection */
	expect_tx(r, want, 2);
	const struct ev *e = find_ev(r, "client", "error", NULL, 0);
	cr_assert(e);
	cr_assert_str_eq(e->err, "ECONNREFUSED");
	cr_assert(find_ev(r, "server", "drop", "S", 0));
	cr_assert_eq(r->res.client_err, -ECONNREFUSED);
	expect_summary(r, 0, "CLOSED", "CLOSED");
	run_free(r);
}

BOTH(syn_timeout_backoff_then_etimedout)
{
	struct run *r = run_sc("syn-timeout");
	static const uint64_t at_s[] = {0, 1, 3, 7, 15, 31, 63};
	size_t k = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct ev *e = &r->evs[i];
		if (strcmp(e->ev, "tx"))
			continue;
		cr_assert_lt(k, 7);
		cr_assert_str_eq(e->flags, "S");
		cr_assert_eq(e->t_us, at_s[k] * 1000000, "SYN %zu at %llu", k,
			     (unsigned long long)e->t_us);
		cr_assert_eq(e->retx, k > 0);
		k++;
	}
	cr_assert_eq(k, 7, "1 SYN + 6 retries");
	const struct ev *e = find_ev(r, "client", "error", NULL, 0);
	cr_assert(e);
	cr_assert_str_eq(e->err, "ETIMEDOUT");
	cr_assert_eq(e->t_us, 127000000u);
	expect_summary(r, 0, "CLOSED", "CLOSED");
	run_free(r);
}

BOTH(simultaneous_open)
{
	struct run *r = run_sc("simultaneous-open");
	char st[512];
	states_of(r, "client", CLIENT_CONN, st, sizeof st);
	cr_assert(!strncmp(st, "CLOSED>SYN-SENT|SYN-SENT>SYN-RECEIVED|SYN-RECEIVED>ESTABLISHED|",
			   63), "%s", st);
	states_of(r, "server", SERVER_CONN, st, sizeof st);
	cr_assert(!strncmp(st, "CLOSED>SYN-SENT|SYN-SENT>SYN-RECEIVED|SYN-RECEIVED>ESTABLISHED|",
			   63), "%s", st);
	/* Two SYNs cross, then two SYN-ACKs each acknowledging the other's SYN. */
	const struct ev *c = find_ev(r, "client", "tx", "S.", 0);
	const struct ev *s = find_ev(r, "server", "tx", "S.", 0);
	cr_assert(c && s);
	cr_assert_eq(rel_seq(r, c), 0);
	cr_assert_eq(rel_ack(r, c), 1);
	cr_assert_eq(rel_seq(r, s), 0);
	cr_assert_eq(rel_ack(r, s), 1);
	expect_summary(r, 14, "CLOSED", "CLOSED");
	run_free(r);
}

BOTH(simultaneous_close_through_closing)
{
	struct run *r = run_sc("simultaneous-close");
	char st[512];
	const char *tail = "ESTABLISHED>FIN-WAIT-1|FIN-WAIT-1>CLOSING|CLOSING>TIME-WAIT|TIME-WAIT>CLOSED";
	states_of(r, "client", CLIENT_CONN, st, sizeof st);
	cr_assert(strstr(st, tail), "%s", st);
	states_of(r, "server", SERVER_CONN, st, sizeof st);
	cr_assert(strstr(st, tail), "%s", st);
	const struct ev *cf = find_ev(r, "client", "tx", "F.", 0);
	const struct ev *sf = find_ev(r, "server", "tx", "F.", 0);
	cr_assert(cf && sf);
	cr_assert_eq(cf->t_us, 100000u);
	cr_assert_eq(sf->t_us, 100000u);
	expect_summary(r, 14, "CLOSED", "CLOSED");
	run_free(r);
}

BOTH(half_close_server_keeps_sending)
{
	struct run *r = run_sc("half-close");
	char st[512];
	states_of(r, "client", CLIENT_CONN, st, sizeof st);
	cr_assert(strstr(st, "FIN-WAIT-1>FIN-WAIT-2|FIN-WAIT-2>TIME-WAIT"), "%s", st);
	/* The server sends its 3000 bytes after it has the client's FIN (in CLOSE-WAIT). */
	size_t i = 0;
	while (i < r->n && !(!strcmp(r->evs[i].host, "server") && !strcmp(r->evs[i].to, "CLOSE-WAIT")))
		i++;
	cr_assert_lt(i, r->n);
	uint32_t after = 0;
	for (; i < r->n; i++)
		if (!strcmp(r->evs[i].host, "server") && !strcmp(r->evs[i].ev, "tx"))
			after += r->evs[i].len;
	cr_assert_eq(after, 3000);
	expect_summary(r, 3000, "CLOSED", "CLOSED");
	run_free(r);
}

BOTH(lost_third_ack_completed_by_data)
{
	struct run *r = run_sc("lost-third-ack");
	expect_tx(r, echo_conv, ECHO_N);
	const struct ev *lost = find_ev(r, "client", "lost", ".", 0);
	cr_assert(lost);
	cr_assert_eq(rel_seq(r, lost), 1);
	cr_assert_eq(rel_ack(r, lost), 1);
	/* The server leaves SYN-RECEIVED when the client's data (which carries the ACK) arrives. */
	const struct ev *data = find_ev(r, "server", "rx", "P.", 0);
	cr_assert(data);
	size_t i = (size_t)(data - r->evs);
	const struct ev *est = NULL;
	for (size_t k = 0; k < r->n; k++)
		if (!strcmp(r->evs[k].host, "server") && !strcmp(r->evs[k].to, "ESTABLISHED"))
			est = &r->evs[k];
	cr_assert(est);
	cr_assert_eq(est->t_us, data->t_us);
	cr_assert_gt((size_t)(est - r->evs), i, "ESTABLISHED after the data arrived");
	expect_summary(r, 14, "CLOSED", "CLOSED");
	run_free(r);
}

BOTH(lost_last_ack_fin_retransmitted_time_wait_reacks)
{
	struct run *r = run_sc("lost-last-ack");
	const struct ev *lost = find_ev(r, "client", "lost", ".", 0);
	cr_assert(lost);
	cr_assert_eq(rel_seq(r, lost), 16);
	cr_assert_eq(rel_ack(r, lost), 16);
	const struct ev *fin2 = NULL;
	for (size_t k = 0; k < r->n; k++)
		if (!strcmp(r->evs[k].host, "server") && !strcmp(r->evs[k].ev, "tx") &&
		    !strcmp(r->evs[k].flags, "F.") && r->evs[k].retx)
			fin2 = &r->evs[k];
	cr_assert(fin2, "the server retransmits its FIN");
	cr_assert_eq(rel_seq(r, fin2), 15);
	const struct ev *reack = find_ev(r, "client", "tx", ".", (size_t)(fin2 - r->evs));
	cr_assert(reack, "TIME-WAIT re-ACKs the retransmitted FIN");
	cr_assert_eq(rel_ack(r, reack), 16);
	char st[512];
	states_of(r, "server", SERVER_CONN, st, sizeof st);
	cr_assert(strstr(st, "CLOSE-WAIT>LAST-ACK|LAST-ACK>CLOSED"), "%s", st);
	expect_summary(r, 14, "CLOSED", "CLOSED");
	run_free(r);
}

BOTH(old_duplicate_syn_reset_then_fresh_handshake)
{
	struct run *r = run_sc("old-duplicate-syn");
	uint32_t iss = r->iss[0];
	/* The old SYN (seq ISS-1000) arrives first and is answered... */
	const struct ev *old = find_ev(r, "server", "rx", "S", 0);
	cr_assert(old);
	cr_assert_eq(old->seq, iss - 1000);
	const struct ev *sa = find_ev(r, "server", "tx", "S.", 0);
	cr_assert(sa);
	cr_assert_eq(sa->ack, iss - 999);
	/* ...the client, in SYN-SENT, sees an ACK of something it never sent: RST seq=SEG.ACK. */
	const struct ev *rst = find_ev(r, "client", "tx", "R", 0);
	cr_assert(rst);
	cr_assert_eq(rst->seq, iss - 999);
	char st[512];
	states_of(r, "server", SERVER_CONN, st, sizeof st);
	cr_assert(!strncmp(st, "LISTEN>SYN-RECEIVED|SYN-RECEIVED>LISTEN|LISTEN>SYN-RECEIVED|"
			       "SYN-RECEIVED>ESTABLISHED", 84), "%s", st);
	/* The real SYN, held by the network, arrives at 30 ms and the handshake completes. */
	const struct ev *real = find_ev(r, "server", "rx", "S", (size_t)(old - r->evs) + 1);
	cr_assert(real);
	cr_assert_eq(real->seq, iss);
	cr_assert_eq(real->t_us, 30000u);
	cr_assert(find_ev(r, "client", "reorder", "S", 0));
	expect_summary(r, 14, "CLOSED", "CLOSED");
	run_free(r);
}

BOTH(keepalive_probes_then_etimedout)
{
	struct run *r = run_sc("keepalive");
	static const uint64_t probe_us[] = {10040000, 12040000, 14040000};
	size_t k = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct ev *e = &r->evs[i];
		if (strcmp(e->ev, "tx") || strcmp(e->host, "client") || e->t_us < 1000000 ||
		    strcmp(e->flags, "."))
			continue;
		cr_assert_lt(k, 3);
		cr_assert_eq(e->t_us, probe_us[k], "probe %zu at %llu", k,
			     (unsigned long long)e->t_us);
		cr_assert_eq(rel_seq(r, e), 14, "a probe carries seq = SND.NXT - 1");
		cr_assert_eq(e->len, 0);
		k++;
	}
	cr_assert_eq(k, 3);
	const struct ev *e = find_ev(r, "client", "error", NULL, 0);
	cr_assert(e);
	cr_assert_str_eq(e->err, "ETIMEDOUT");
	cr_assert_eq(e->t_us, 16040000u);
	expect_summary(r, 14, "CLOSED", "ESTABLISHED");
	run_free(r);
}

BOTH(abort_sends_rst)
{
	struct run *r = run_sc("abort");
	const struct ev *rst = find_ev(r, "client", "tx", "R.", 0);
	cr_assert(rst);
	cr_assert_eq(rel_seq(r, rst), 15);
	cr_assert_null(find_ev(r, "client", "tx", "F.", 0), "no FIN");
	const struct ev *e = find_ev(r, "server", "error", NULL, 0);
	cr_assert(e);
	cr_assert_str_eq(e->err, "ECONNRESET");
	expect_summary(r, 14, "CLOSED", "CLOSED");
	run_free(r);
}

/* The flood: 4,000 spoofed SYNs at 2,000/s against backlog 4; the client connects at 0.5 s. */
static struct run *run_flood(int cookies)
{
	struct synack_demo_opts o;
	synack_demo_opts_default(&o);
	o.scenario = "syn-flood";
	o.syncookies = cookies;
	return run_opts(&o);
}

/* Counts the client's SYNs, and the server's drops of them because its SYN queue is full. */
static void count_client_syns(const struct run *r, size_t *syns, size_t *dropped)
{
	*syns = *dropped = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct ev *e = &r->evs[i];
		if (!strcmp(e->host, "client") && !strcmp(e->ev, "tx") && !strcmp(e->flags, "S"))
			(*syns)++;
		if (!strcmp(e->host, "server") && !strcmp(e->ev, "drop") &&
		    !strcmp(e->reason, "tcp_synq_full") && e->seq == r->iss[0])
			(*dropped)++;
	}
}

BOTH(syn_flood_with_cookies_serves_the_client)
{
	struct run *r = run_flood(-1); /* the stack's default: cookies when the queue is full */
	size_t syns, dropped;
	count_client_syns(r, &syns, &dropped);
	cr_assert_eq(syns, 1, "one SYN is enough: the cookie SYN-ACK answers it");
	cr_assert_eq(dropped, 0);
	const struct ev *sa = find_ev(r, "server", "tx", "S.", 0);
	while (sa && sa->ack != r->iss[0] + 1)
		sa = find_ev(r, "server", "tx", "S.", (size_t)(sa - r->evs) + 1);
	cr_assert(sa, "the client's SYN gets a SYN-ACK in spite of the full SYN queue");
	cr_assert_eq(sa->t_us, 509500, "10 ms after the client's SYN at 0.4995 s, mid-flood");
	cr_assert_null(find_ev(r, "client", "error", NULL, 0));
	expect_summary(r, 14, "CLOSED", "CLOSED");
	const struct ev *note = NULL;
	for (const struct ev *n = find_ev(r, "server", "note", NULL, 0); n;
	     n = find_ev(r, "server", "note", NULL, (size_t)(n - r->evs) + 1))
		note = n;
	cr_assert(note);
	cr_assert_str_eq(note->note, "4000 spoofed SYNs: 3997 cookies sent, 0 dropped",
			 "the last note counts the whole flood");
	/* The spoofed SYNs come from the family's benchmarking range: 198.18.0.0/15 (RFC 2544),
	 * 2001:2::/48 (RFC 5180). */
	const struct ev *spoof = find_ev(r, "server", "rx", "S", 0);
	cr_assert(spoof);
	cr_assert(!strncmp(spoof->src, V6 ? "[2001:2::" : "198.1", V6 ? 9 : 5), "%s", spoof->src);
	run_free(r);
}

BOTH(syn_flood_without_cookies_turns_the_client_away)
{
	struct run *r = run_flood(0);
	size_t syns, dropped;
	count_client_syns(r, &syns, &dropped);
	cr_assert_eq(syns, 4, "a SYN and 3 retries");
	cr_assert_eq(dropped, 4, "every one dropped: the SYN queue is full");
	const struct ev *e = find_ev(r, "client", "error", NULL, 0);
	cr_assert(e);
	cr_assert_str_eq(e->err, "ETIMEDOUT");
	expect_summary(r, 0, "CLOSED", "CLOSED");
	run_free(r);
}

BOTH(transfer_one_mib_byte_exact)
{
	struct run *r = run_sc("transfer");
	expect_summary(r, 1u << 20, "CLOSED", "CLOSED");
	/* Full-sized segments carry the MSS less the 12 bytes of the timestamp option: 1448
	 * over IPv4, 1428 over IPv6; none is larger, and the data adds up to the transfer. */
	uint64_t sum = 0, full = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct ev *e = &r->evs[i];
		if (strcmp(e->ev, "tx") || strcmp(e->host, "client") || !e->len || e->retx)
			continue;
		cr_assert_leq(e->len, MSS - 12, "segment of %u bytes", e->len);
		full += e->len == MSS - 12;
		sum += e->len;
	}
	cr_assert_eq(sum, 1u << 20);
	cr_assert_gt(full, (1u << 20) / (MSS - 12) / 2, "mostly full-sized segments");
	run_free(r);
}

BOTH(transfer_over_a_lossy_link)
{
	struct synack_demo_opts o;
	synack_demo_opts_default(&o);
	o.scenario = "transfer";
	o.bytes = 200000;
	o.loss = 0.05;
	o.dup = 0.01;
	o.reorder = 0.01;
	o.seed = 7;
	struct run *r = run_opts(&o);
	expect_summary(r, 200000, "CLOSED", "CLOSED");
	cr_assert(find_ev(r, "client", "lost", NULL, 0), "5%% loss lost something");
	run_free(r);
}

static char *render(const struct synack_demo_opts *o, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	struct synack_demo_opts oo = *o;
	oo.out = f;
	oo.ipv6 = V6;
	cr_assert_eq(synack_demo_run(&oo, NULL), 0);
	fclose(f);
	return buf;
}

BOTH(same_seed_same_bytes)
{
	struct synack_demo_opts o;
	synack_demo_opts_default(&o);
	o.scenario = "transfer";
	o.bytes = 50000;
	o.loss = 0.1;
	o.reorder = 0.05;
	o.jitter_ms = 3;
	o.seed = 42;
	for (int fmt = 0; fmt < 2; fmt++) {
		o.format = fmt ? SYNACK_LADDER_JSONL : SYNACK_LADDER_TEXT;
		size_t n1, n2;
		char *a = render(&o, &n1), *b = render(&o, &n2);
		cr_assert_eq(n1, n2);
		cr_assert_eq(memcmp(a, b, n1), 0, "byte for byte");
		free(a);
		free(b);
	}
}

BOTH(every_scenario_runs_in_both_formats)
{
	size_t n;
	const struct synack_demo_scenario *sc = synack_demo_list(&n);
	cr_assert_eq(n, 13);
	for (size_t i = 0; i < n; i++) {
		struct synack_demo_opts o;
		synack_demo_opts_default(&o);
		o.scenario = sc[i].name;
		o.bytes = 20000;
		size_t len;
		char *text = render(&o, &len);
		cr_assert(strstr(text, "summary: "), "%s: text summary", sc[i].name);
		for (char *line = text; *line;) {
			char *nl = strchr(line, '\n');
			size_t w = nl ? (size_t)(nl - line) : strlen(line);
			if (line[0] == ' ' && strchr(line, '|'))
				cr_assert_leq(w, 100, "%s: a ladder row wider than 100 columns", sc[i].name);
			line = nl ? nl + 1 : line + w;
		}
		free(text);
		struct run *r = run_opts(&o);
		cr_assert(r->summary[0], "%s: jsonl summary", sc[i].name);
		cr_assert_str_eq(r->res.sent_sha256, r->res.recv_sha256, "%s", sc[i].name);
		cr_assert(!r->res.hit_limit, "%s ran out of events", sc[i].name);
		run_free(r);
	}
	struct synack_demo_opts o;
	synack_demo_opts_default(&o);
	o.scenario = "no-such";
	cr_assert_eq(synack_demo_run(&o, NULL), -ENOENT);
}

BOTH(pcap_of_the_client_link)
{
	char path[] = "/tmp/synack-demo-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	struct synack_demo_opts o;
	synack_demo_opts_default(&o);
	o.pcap_path = path;
	size_t len;
	free(render(&o, &len));
	FILE *f = fopen(path, "rb");
	cr_assert(f);
	uint8_t hdr[24];
	cr_assert_eq(fread(hdr, 1, sizeof hdr, f), sizeof hdr);
	uint32_t magic = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 |
			 (uint32_t)hdr[3] << 24;
	cr_assert_eq(magic, 0xa1b2c3d4u, "a microsecond pcap");
	uint32_t linktype = (uint32_t)hdr[20] | (uint32_t)hdr[21] << 8;
	cr_assert_eq(linktype, 101, "LINKTYPE_RAW: bare IP packets of either family");
	/* Every segment of the conversation: the client's 6 out and the server's 5 in, each an
	 * IP packet of the run's family (the version nibble) with a 20- or 40-byte header. */
	size_t records = 0;
	uint8_t rec[16], ip0;
	while (fread(rec, 1, sizeof rec, f) == sizeof rec) {
		uint32_t incl = (uint32_t)rec[8] | (uint32_t)rec[9] << 8 | (uint32_t)rec[10] << 16 |
				(uint32_t)rec[11] << 24;
		cr_assert_eq(fread(&ip0, 1, 1, f), 1);
		cr_assert_eq(ip0 >> 4, V6 ? 6 : 4, "record %zu", records);
		cr_assert_geq(incl, V6 ? 40u + 20u : 20u + 20u);
		cr_assert_eq(fseek(f, incl - 1, SEEK_CUR), 0);
		records++;
	}
	fclose(f);
	unlink(path);
	cr_assert_eq(records, ECHO_N);
}
