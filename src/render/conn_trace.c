/* JSON lines trace back into trace events: see conn_trace.h. The parser takes flat objects
 * (string, number, true/false values), which is all the jsonl backend writes; anything else
 * makes the line bad, never a crash.
 */
#include "render/conn_trace.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "render/conn.h"
#include "render/ladder.h"
#include "render/tcpopts.h"

#define MAX_FIELDS 24

struct field {
	char key[16];
	char val[160];
	bool is_str;
};

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* A JSON string into out (cap bytes, truncated); returns the position after it or NULL. */
static const char *parse_str(const char *p, char *out, size_t cap)
{
	size_t n = 0;
	if (*p++ != '"')
		return NULL;
	for (; *p && *p != '"'; p++) {
		char c = *p;
		if (c == '\\') {
			p++;
			if (!*p)
				return NULL;
			c = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
			if (*p == 'u') { /* \u00XX: keep ASCII, replace the rest */
				if (!isxdigit((unsigned char)p[1]) ||
				    !isxdigit((unsigned char)p[2]) ||
				    !isxdigit((unsigned char)p[3]) ||
				    !isxdigit((unsigned char)p[4]))
					return NULL;
				char hex[5] = {p[1], p[2], p[3], p[4], 0};
				long v = strtol(hex, NULL, 16);
				c = v >= 0x20 && v < 0x7f ? (char)v : '?';
				p += 4;
			}
		}
		if (n + 1 < cap)
			out[n++] = c;
	}
	if (*p != '"')
		return NULL;
	out[n] = 0;
	return p + 1;
}

static int parse_object(const char *p, struct field *fs, int *nf)
{
	*nf = 0;
	p = skip_ws(p);
	if (*p++ != '{')
		return -EINVAL;
	p = skip_ws(p);
	if (*p == '}')
		return *skip_ws(p + 1) ? -EINVAL : 0;
	for (;;) {
		if (*nf == MAX_FIELDS)
			return -EINVAL;
		struct field *f = &fs[(*nf)++];
		p = parse_str(skip_ws(p), f->key, sizeof f->key);
		if (!p)
			return -EINVAL;
		p = skip_ws(p);
		if (*p++ != ':')
			return -EINVAL;
		p = skip_ws(p);
		f->is_str = *p == '"';
		if (f->is_str) {
			p = parse_str(p, f->val, sizeof f->val);
			if (!p)
				return -EINVAL;
		} else {
			size_t n = 0;
			while (*p &&
			       (isalnum((unsigned char)*p) || *p == '-' || *p == '.' || *p == '+'))
				if (n + 1 < sizeof f->val)
					f->val[n++] = *p++;
				else
					p++;
			f->val[n] = 0;
			/* A bare value is a number, true, false or null. */
			bool word = !strcmp(f->val, "true") || !strcmp(f->val, "false") ||
				    !strcmp(f->val, "null");
			if (n == 0 ||
			    (!word && !isdigit((unsigned char)f->val[0]) && f->val[0] != '-'))
				return -EINVAL;
		}
		p = skip_ws(p);
		if (*p == '}')
			return *skip_ws(p + 1) ? -EINVAL : 0;
		if (*p++ != ',')
			return -EINVAL;
	}
}

static const char *get(const struct field *fs, int nf, const char *key)
{
	for (int i = 0; i < nf; i++)
		if (!strcmp(fs[i].key, key))
			return fs[i].val;
	return NULL;
}

static uint64_t get_u(const struct field *fs, int nf, const char *key)
{
	const char *v = get(fs, nf, key);
	return v ? strtoull(v, NULL, 10) : 0;
}

static bool get_b(const struct field *fs, int nf, const char *key)
{
	const char *v = get(fs, nf, key);
	return v && !strcmp(v, "true");
}

/* tcpdump's notation back to flag bits: S F R P U E W and '.' for ACK ("none": 0). */
static uint8_t flags_parse(const char *s)
{
	uint8_t f = 0;
	for (; s && *s; s++) {
		switch (*s) {
		case 'S':
			f |= SYNACK_TH_SYN;
			break;
		case 'F':
			f |= SYNACK_TH_FIN;
			break;
		case 'R':
			f |= SYNACK_TH_RST;
			break;
		case 'P':
			f |= SYNACK_TH_PSH;
			break;
		case 'U':
			f |= SYNACK_TH_URG;
			break;
		case 'E':
			f |= SYNACK_TH_ECE;
			break;
		case 'W':
			f |= SYNACK_TH_CWR;
			break;
		case '.':
			f |= SYNACK_TH_ACK;
			break;
		default:
			break;
		}
	}
	return f;
}

static int kind_parse(const char *s, enum synack_trace_kind *k)
{
	for (int i = 0; i <= SYNACK_TRACE_NOTE; i++) {
		if (s && !strcmp(s, synack_trace_kind_name((enum synack_trace_kind)i))) {
			*k = (enum synack_trace_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

static enum synack_tcp_state state_parse(const char *s)
{
	for (int i = 0; i < SYNACK_STATE_COUNT; i++)
		if (s && !strcmp(s, synack_state_name((enum synack_tcp_state)i)))
			return (enum synack_tcp_state)i;
	return SYNACK_CLOSED;
}

static int name_lookup(const char *s, int n, const char *(*name)(int))
{
	for (int i = 0; i < n; i++)
		if (s && !strcmp(s, name(i)))
			return i;
	return 0;
}

static const char *drop_name(int i)
{
	return synack_drop_reason_name((enum synack_drop_reason)i);
}
static const char *timer_name(int i)
{
	return synack_timer_name((enum synack_timer_kind)i);
}

static int errno_parse(const char *s)
{
	char buf[16];
	for (int e = 1; e < 256; e++)
		if (s && !strcmp(s, synack_errno_name(e, buf, sizeof buf)))
			return -e;
	return s && s[0] == 'E' ? -atoi(s + 1) : 0;
}

static int endpoint_parse(const char *s, struct synack_endpoint *e)
{
	char spec[SYNACK_ADDR_STRLEN + 32];
	if (!s)
		return -EINVAL;
	snprintf(spec, sizeof spec, "%.*s-0.0.0.0:0", SYNACK_ADDR_STRLEN + 8, s);
	struct synack_endpoint dummy;
	return synack_conn_spec_parse(spec, e, &dummy);
}

static void segment_fields(const struct field *fs, int nf, struct synack_trace_event *ev,
			   struct synack_trace_line_store *st)
{
	struct synack_endpoint src, dst;
	if (endpoint_parse(get(fs, nf, "src"), &src) < 0 ||
	    endpoint_parse(get(fs, nf, "dst"), &dst) < 0 || !get(fs, nf, "flags"))
		return;
	memset(&st->seg, 0, sizeof st->seg);
	st->seg.sport = src.port;
	st->seg.dport = dst.port;
	st->seg.seq = (uint32_t)get_u(fs, nf, "seq");
	st->seg.ack = (uint32_t)get_u(fs, nf, "ack");
	st->seg.win = (uint16_t)get_u(fs, nf, "win");
	st->seg.len = (size_t)get_u(fs, nf, "len");
	st->seg.doff = 20;
	st->seg.flags = flags_parse(get(fs, nf, "flags"));
	/* The option bytes as on the wire (older traces have none: no options drawn). */
	const char *hex = get(fs, nf, "optbytes");
	uint8_t ob[SYNACK_TCP_OPT_MAX];
	int olen = hex ? synack_hex_parse(hex, ob, sizeof ob) : -1;
	if (olen > 0) {
		/* Malformed options stay as raw bytes: the picture says "bad-opt". */
		(void)synack_tcp_opts_parse(ob, (size_t)olen, &st->seg.opts);
		st->seg.doff = (uint8_t)(20 + ((olen + 3) & ~3));
	}
	ev->seg = &st->seg;
	ev->retx = get_b(fs, nf, "retx");
	/* The tracing stack's congestion state (traces before it was added have none). */
	if (get(fs, nf, "cwnd")) {
		ev->has_cc = true;
		ev->cwnd = (uint32_t)get_u(fs, nf, "cwnd");
		ev->ssthresh = get(fs, nf, "ssthresh") ? (uint32_t)get_u(fs, nf, "ssthresh")
						       : UINT32_MAX;
		ev->srtt_us = (uint32_t)get_u(fs, nf, "srtt_us");
		ev->in_flight = (uint32_t)get_u(fs, nf, "in_flight");
	}
	ev->has_conn = true;
	/* As the renderer reads an event without a frame: local is the sender only for TX. */
	bool out = ev->kind == SYNACK_TRACE_TX;
	ev->local = out ? src : dst;
	ev->remote = out ? dst : src;
}

int synack_trace_parse_line(const char *line, struct synack_trace_event *ev,
			    struct synack_trace_line_store *st)
{
	struct field fs[MAX_FIELDS];
	int nf;
	memset(ev, 0, sizeof *ev);
	if (parse_object(line, fs, &nf) < 0 || kind_parse(get(fs, nf, "ev"), &ev->kind) < 0)
		return -EINVAL;
	ev->t_us = get_u(fs, nf, "t_us");
	const char *host = get(fs, nf, "host");
	snprintf(st->host, sizeof st->host, "%.63s", host ? host : "");
	ev->host = host ? st->host : NULL;
	const char *conn = get(fs, nf, "conn");
	if (conn && synack_conn_spec_parse(conn, &ev->local, &ev->remote) == 0)
		ev->has_conn = true;
	const char *note = get(fs, nf, "note");
	if (note) {
		snprintf(st->note, sizeof st->note, "%s", note);
		ev->note = st->note;
	}
	switch (ev->kind) {
	case SYNACK_TRACE_STATE:
		ev->from = state_parse(get(fs, nf, "from"));
		ev->to = state_parse(get(fs, nf, "to"));
		ev->uncertain = get_b(fs, nf, "uncertain");
		break;
	case SYNACK_TRACE_TIMER:
		ev->timer = (enum synack_timer_kind)name_lookup(get(fs, nf, "timer"),
								SYNACK_TIMER_COUNT, timer_name);
		break;
	case SYNACK_TRACE_ERROR:
		ev->err = errno_parse(get(fs, nf, "errno"));
		break;
	case SYNACK_TRACE_NOTE:
		break;
	default:
		segment_fields(fs, nf, ev, st);
		if (ev->kind == SYNACK_TRACE_DROP)
			ev->reason = (enum synack_drop_reason)name_lookup(
				get(fs, nf, "reason"), SYNACK_DROP_COUNT, drop_name);
		break;
	}
	return 0;
}

bool synack_trace_is_jsonl(FILE *f)
{
	/* One byte of lookahead only (ungetc guarantees one): a pcapng file starts with "\n\r\r\n"
	 * bytes that a whitespace skip would swallow from a pipe. */
	int c = fgetc(f);
	if (c == EOF)
		return false;
	ungetc(c, f);
	return c == '{';
}

int synack_trace_first_opener(FILE *f, char *host, size_t cap)
{
	long start = ftell(f);
	if (start < 0)
		return -ESPIPE;
	char line[4096];
	struct synack_trace_line_store store;
	int rc = -ENOENT;
	while (rc == -ENOENT && fgets(line, sizeof line, f)) {
		struct synack_trace_event ev;
		if (synack_trace_parse_line(line, &ev, &store) == 0 && ev.kind == SYNACK_TRACE_TX &&
		    ev.seg && ev.host &&
		    (ev.seg->flags & (SYNACK_TH_SYN | SYNACK_TH_ACK)) == SYNACK_TH_SYN) {
			snprintf(host, cap, "%s", ev.host);
			rc = 0;
		}
	}
	clearerr(f);
	if (fseek(f, start, SEEK_SET) != 0)
		return -ESPIPE;
	return rc;
}

static bool ep_eq(const struct synack_endpoint *x, const struct synack_endpoint *y)
{
	return synack_addr_eq(&x->addr, &y->addr) && x->port == y->port;
}

static void summary_host(struct synack_trace_summary *s, const char *host)
{
	for (unsigned i = 0; i < s->nhosts && i < 2; i++)
		if (!strcmp(s->hosts[i], host))
			return;
	if (s->nhosts < 2)
		snprintf(s->hosts[s->nhosts], sizeof s->hosts[0], "%s", host);
	if (s->nhosts < 3)
		s->nhosts++;
}

static void summary_segment(struct synack_trace_summary *s, const struct synack_trace_event *ev)
{
	/* as the reader builds it: for a TX local is the sender, else the receiver */
	bool out = ev->kind == SYNACK_TRACE_TX;
	const struct synack_endpoint *src = out ? &ev->local : &ev->remote;
	const struct synack_endpoint *dst = out ? &ev->remote : &ev->local;
	size_t i = 0;
	for (; i < s->nconns; i++)
		if ((ep_eq(&s->conns[i].a, src) && ep_eq(&s->conns[i].b, dst)) ||
		    (ep_eq(&s->conns[i].a, dst) && ep_eq(&s->conns[i].b, src)))
			break;
	if (i == s->nconns) {
		if (s->nconns == SYNACK_TRACE_MAX_CONNS) {
			s->more_conns++;
			return;
		}
		memset(&s->conns[i], 0, sizeof s->conns[i]);
		s->conns[i].a = *src;
		s->conns[i].b = *dst;
		s->nconns++;
	}
	bool syn = (ev->seg->flags & (SYNACK_TH_SYN | SYNACK_TH_ACK)) == SYNACK_TH_SYN;
	if (syn && !ep_eq(&s->conns[i].a, src)) { /* the opener goes first */
		struct synack_endpoint t = s->conns[i].a;
		char h[64];
		s->conns[i].a = s->conns[i].b;
		s->conns[i].b = t;
		memcpy(h, s->conns[i].host_a, sizeof h);
		memcpy(s->conns[i].host_a, s->conns[i].host_b, sizeof h);
		memcpy(s->conns[i].host_b, h, sizeof h);
	}
	if (out && ev->host)
		snprintf(ep_eq(&s->conns[i].a, src) ? s->conns[i].host_a : s->conns[i].host_b, 64,
			 "%s", ev->host);
}

int synack_trace_summarize(FILE *f, struct synack_trace_summary *s)
{
	memset(s, 0, sizeof *s);
	long start = ftell(f);
	if (start < 0)
		return -ESPIPE;
	char line[4096];
	struct synack_trace_line_store store;
	while (fgets(line, sizeof line, f)) {
		struct synack_trace_event ev;
		if (synack_trace_parse_line(line, &ev, &store) < 0)
			continue;
		if (!s->has_t0)
			s->has_t0 = true, s->t0_us = ev.t_us;
		if (ev.host && ev.host[0] && ev.kind != SYNACK_TRACE_NOTE)
			summary_host(s, ev.host);
		if (ev.seg && ev.has_conn && (ev.kind == SYNACK_TRACE_TX || ev.kind == SYNACK_TRACE_RX))
			summary_segment(s, &ev);
	}
	clearerr(f);
	return fseek(f, start, SEEK_SET) == 0 ? 0 : -ESPIPE;
}

/* A listener's endpoint serves e: the same port, and the same address or any. */
static bool listener_of(const struct synack_endpoint *l, const struct synack_endpoint *e)
{
	return l->port == e->port && (ep_eq(l, e) || synack_addr_is_any(&l->addr));
}

static bool matches(const struct synack_trace_event *ev, const struct synack_endpoint *a,
		    const struct synack_endpoint *b)
{
	if (!ev->has_conn)
		return ev->kind == SYNACK_TRACE_NOTE;
	if (ev->kind == SYNACK_TRACE_STATE && ev->remote.port == 0) /* the listener */
		return listener_of(&ev->local, a) || listener_of(&ev->local, b);
	return (ep_eq(&ev->local, a) && ep_eq(&ev->remote, b)) ||
	       (ep_eq(&ev->local, b) && ep_eq(&ev->remote, a));
}

int synack_trace_read(FILE *f, synack_trace_fn sink, void *ctx, bool filter,
		      const struct synack_endpoint *fa, const struct synack_endpoint *fb,
		      struct synack_trace_read_stats *st)
{
	char line[4096];
	struct synack_trace_line_store store;
	memset(st, 0, sizeof *st);
	while (fgets(line, sizeof line, f)) {
		size_t n = strlen(line);
		if (n == sizeof line - 1 && line[n - 1] != '\n') { /* too long: skip the rest */
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			st->lines++;
			st->bad++;
			continue;
		}
		st->lines++;
		if (*skip_ws(line) == 0)
			continue;
		struct synack_trace_event ev;
		if (synack_trace_parse_line(line, &ev, &store) < 0) {
			st->bad++;
			continue;
		}
		if (filter && !matches(&ev, fa, fb))
			continue;
		st->events++;
		sink(ctx, &ev);
	}
	return ferror(f) ? -EIO : 0;
}

/* ---- a trace as a capture ---------------------------------------------------------------- */

struct as_capture {
	struct synack_conns *t;
	struct synack_trace_summary *sm;
	long fed;
	int err;
	uint8_t payload[65536]; /* zeros: the renderers never look at the bytes */
};

static void feed(void *ctx, const struct synack_trace_event *ev)
{
	struct as_capture *a = ctx;
	if (a->err || !ev->seg || !ev->has_conn)
		return;
	/* the sends; and arrivals only when one host traced (its peer's sends) */
	bool send = ev->kind == SYNACK_TRACE_TX;
	if (!send && !(ev->kind == SYNACK_TRACE_RX && a->sm->nhosts == 1))
		return;
	const struct synack_endpoint *src = send ? &ev->local : &ev->remote;
	const struct synack_endpoint *dst = send ? &ev->remote : &ev->local;
	struct synack_tcp_seg seg = *ev->seg;
	seg.payload = a->payload;
	if (seg.len > sizeof a->payload)
		seg.len = sizeof a->payload;
	static uint8_t big[sizeof ((struct as_capture *)0)->payload + 128];
	int n = synack_tcp_emit(big, sizeof big, &src->addr, &dst->addr, 0, &seg);
	if (n < 0)
		return;
	if (ev->has_cc) {
		struct synack_cc_sample cc = {true, send, ev->cwnd, ev->ssthresh, ev->srtt_us,
					      ev->in_flight};
		synack_conns_next_cc(a->t, &cc);
	}
	int rc = synack_conns_packet(a->t, ev->t_us * 1000, big, (size_t)n);
	if (rc < 0)
		a->err = rc;
	else
		a->fed++;
}

long synack_conns_read_trace(struct synack_conns *t, FILE *f)
{
	static struct synack_trace_summary sm;
	struct as_capture *a = calloc(1, sizeof *a);
	if (!a)
		return -ENOMEM;
	a->t = t;
	a->sm = &sm;
	if (synack_trace_summarize(f, &sm) < 0)
		memset(&sm, 0, sizeof sm); /* a pipe: take the sends only */
	struct synack_trace_read_stats st;
	int rc = synack_trace_read(f, feed, a, false, NULL, NULL, &st);
	long out = a->err ? a->err : rc < 0 ? rc : a->fed;
	free(a);
	return out;
}

int synack_conns_load(struct synack_conns *t, const char *path, struct synack_pcap_stats *pst,
		      char *err, size_t errcap)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = -errno;
		snprintf(err, errcap, "%s: %s", path, strerror(-e));
		return e;
	}
	if (!synack_trace_is_jsonl(f)) {
		fclose(f);
		return synack_conns_read_file(t, path, pst, err, errcap);
	}
	if (pst)
		memset(pst, 0, sizeof *pst);
	long n = synack_conns_read_trace(t, f);
	fclose(f);
	if (n < 0) {
		snprintf(err, errcap, "%s: %s", path, strerror((int)-n));
		return (int)n;
	}
	if (n == 0) {
		snprintf(err, errcap, "%s: no segments in this trace", path);
		return -ENODATA;
	}
	return 0;
}
