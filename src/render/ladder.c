/* The ladder renderer's interpretation of trace events, shared by every backend.
 *
 * For each event it works out: the column of the host (left = opts.left or the first host
 * seen), the segment (from ev->seg, or parsed from the frame for link events), where the
 * segment goes, its seq/ack relative to each direction's base (tcpdump's relative numbering:
 * the base is the direction's SYN, or the first seq seen), and how an arrival relates to a
 * send already drawn: a segment is drawn once, at its send time, so its RX is implied —
 * unless the link held it back (REORDER: its late arrival is drawn), or no host here sent it
 * (an injected or spoofed frame: its arrival is all there is to draw).
 */
#include "render/ladder.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "render/ladder_backend.h"
#include "render/infer.h"
#include "render/svg_ladder.h"
#include "render/tcpopts.h"
#include "synack/wire.h"

#define FLIGHT_MAX 1024 /* sends awaiting their arrival; the oldest is forgotten first */
#define CONN_MAX 256    /* connections whose sequence bases are remembered */

struct flight {
	uint64_t key;
	unsigned count; /* arrivals still expected (a DUP adds one) */
	bool delayed;
	bool retx;
};

struct conn_base {
	struct synack_endpoint a, b; /* direction 0 is a -> b */
	bool has[2];
	uint32_t base[2];
	bool syn_seen[2];
	int8_t wscale[2]; /* the shift each direction's SYN offered; -1: no option */
	struct synack_infer inf; /* the capture analysis, run on a stack's sends (infer.h) */
};

/* A link event that came before the send it refers to (a link may report a loss from inside
 * the stack's output call, before the stack traces the send): held until the next event. */
struct deferred {
	bool used;
	struct synack_trace_event ev;
	struct synack_tcp_seg seg;
	struct synack_ladder_item it;
};

struct synack_ladder {
	struct synack_ladder_opts opts;
	const struct synack_ladder_backend *be;
	void *state;
	char names[2][32];
	bool named[2];
	struct synack_addr addr[2]; /* unspecified: not known yet */
	struct flight flights[FLIGHT_MAX];
	size_t nflights;
	struct conn_base conns[CONN_MAX];
	size_t nconns, conn_next;
	struct deferred held;
	/* The last arrival: a stack may trace RX (accepted for processing) and then DROP (the
	 * sequence check failed) for one segment, which is drawn once. */
	uint64_t rx_key, rx_t;
	bool rx_valid, rx_retx;
	bool io_error;
};

static const struct synack_ladder_backend *const backends[SYNACK_LADDER_FORMAT_COUNT] = {
	[SYNACK_LADDER_TEXT] = &synack_ladder_text_backend,
	[SYNACK_LADDER_JSONL] = &synack_ladder_jsonl_backend,
	[SYNACK_LADDER_SVG] = &synack_ladder_svg_backend,
	[SYNACK_LADDER_HTML] = &synack_ladder_html_backend,
};

int synack_ladder_format_parse(const char *name, enum synack_ladder_format *out)
{
	for (int f = 0; f < SYNACK_LADDER_FORMAT_COUNT; f++) {
		if (name && !strcmp(name, backends[f]->name)) {
			*out = (enum synack_ladder_format)f;
			return 0;
		}
	}
	return -EINVAL;
}

int synack_ladder_new(struct synack_ladder **out, const struct synack_ladder_opts *opts)
{
	if (!out || !opts || !opts->out || (unsigned)opts->format >= SYNACK_LADDER_FORMAT_COUNT)
		return -EINVAL;
	struct synack_ladder *l = calloc(1, sizeof *l);
	if (!l)
		return -ENOMEM;
	l->opts = *opts;
	l->be = backends[opts->format];
	const char *given[2] = {opts->left, opts->right};
	l->addr[0] = opts->left_addr;
	l->addr[1] = opts->right_addr;
	for (int c = 0; c < 2; c++) {
		if (!given[c])
			continue;
		snprintf(l->names[c], sizeof l->names[c], "%s", given[c]);
		l->named[c] = true;
	}
	int err = l->be->open(l, &l->state);
	if (err < 0) {
		free(l);
		return err;
	}
	*out = l;
	return 0;
}

void synack_ladder_free(struct synack_ladder *l)
{
	if (!l)
		return;
	l->be->close(l->state);
	free(l);
}

const struct synack_ladder_opts *synack_ladder_opts_of(const struct synack_ladder *l)
{
	return &l->opts;
}

const char *synack_ladder_col_name(const struct synack_ladder *l, int col)
{
	if (col < 0 || col > 1 || !l->named[col])
		return NULL;
	return l->names[col];
}

struct synack_addr synack_ladder_col_addr(const struct synack_ladder *l, int col)
{
	return col < 0 || col > 1 ? synack_addr_any(SYNACK_AF_INET6) : l->addr[col];
}

void synack_ladder_io_error(struct synack_ladder *l)
{
	l->io_error = true;
}

const char *synack_endpoint_str(const struct synack_endpoint *e, char *buf, size_t cap)
{
	char a[SYNACK_ADDR_STRLEN];
	synack_addr_str(&e->addr, a, sizeof a);
	/* RFC 5952 §6: an IPv6 address with a port is written [addr]:port. */
	snprintf(buf, cap, synack_addr_is_v4(&e->addr) ? "%s:%u" : "[%s]:%u", a, e->port);
	return buf;
}

static int col_of_host(struct synack_ladder *l, const char *host)
{
	if (!host)
		return SYNACK_LADDER_OFFSTAGE;
	for (int c = 0; c < 2; c++)
		if (l->named[c] && !strcmp(l->names[c], host))
			return c;
	for (int c = 0; c < 2; c++) {
		if (l->named[c])
			continue;
		snprintf(l->names[c], sizeof l->names[c], "%s", host);
		l->named[c] = true;
		return c;
	}
	return SYNACK_LADDER_OFFSTAGE; /* a third host: drawn off-stage */
}

static int col_of_addr(const struct synack_ladder *l, const struct synack_addr *addr)
{
	for (int c = 0; c < 2; c++)
		if (!synack_addr_is_any(&l->addr[c]) && synack_addr_eq(&l->addr[c], addr))
			return c;
	return SYNACK_LADDER_OFFSTAGE;
}

/* The segment of an event: ev->seg when the stack parsed it, else parsed from the frame
 * (link events carry only the frame; a corrupted one may not parse, checksums are not
 * verified). Addresses come from the IP header when there is a frame, else from the
 * connection and the direction of the event. */
static bool find_segment(const struct synack_trace_event *ev, struct synack_ladder_item *it)
{
	struct synack_ip_hdr ip;
	const uint8_t *tp = NULL;
	size_t tlen = 0;
	bool have_ip = ev->frame && synack_ip_parse(ev->frame, ev->frame_len, &ip, &tp, &tlen) == 0;
	if (ev->seg) {
		it->seg = *ev->seg;
	} else {
		if (!have_ip || ip.proto != SYNACK_PROTO_TCP || ip.fragment)
			return false;
		if (synack_tcp_parse(tp, tlen, &ip.src, &ip.dst, false, &it->seg) < 0)
			return false;
	}
	it->seg.payload = NULL;
	if (have_ip) {
		it->src.addr = ip.src;
		it->dst.addr = ip.dst;
	} else if (ev->has_conn) {
		bool out = ev->kind == SYNACK_TRACE_TX;
		it->src.addr = out ? ev->local.addr : ev->remote.addr;
		it->dst.addr = out ? ev->remote.addr : ev->local.addr;
	}
	it->src.port = it->seg.sport;
	it->dst.port = it->seg.dport;
	return true;
}

static bool ep_eq(const struct synack_endpoint *x, const struct synack_endpoint *y)
{
	return synack_addr_eq(&x->addr, &y->addr) && x->port == y->port;
}

static struct conn_base *conn_find(struct synack_ladder *l, const struct synack_endpoint *src,
				   const struct synack_endpoint *dst, int *dir)
{
	for (size_t i = 0; i < l->nconns; i++) {
		struct conn_base *c = &l->conns[i];
		if (ep_eq(&c->a, src) && ep_eq(&c->b, dst)) {
			*dir = 0;
			return c;
		}
		if (ep_eq(&c->a, dst) && ep_eq(&c->b, src)) {
			*dir = 1;
			return c;
		}
	}
	/* A new connection; when the table is full the oldest slot is reused. */
	size_t i = l->nconns < CONN_MAX ? l->nconns++ : (l->conn_next++ % CONN_MAX);
	struct conn_base *c = &l->conns[i];
	memset(c, 0, sizeof *c);
	c->a = *src;
	c->b = *dst;
	synack_infer_init(&c->inf);
	*dir = 0;
	return c;
}

/* RFC 7323 §2.2: "The Window field in a segment where the SYN bit is set (i.e., a <SYN> or
 * <SYN,ACK>) MUST NOT be scaled", and scaling is in effect only when both SYNs carried the
 * option; §2.3: a shift above 14 is taken as 14. */
static void scale_window(struct conn_base *c, int dir, struct synack_ladder_item *it)
{
	bool syn = it->seg.flags & SYNACK_TH_SYN;
	if (syn) {
		c->syn_seen[dir] = true;
		c->wscale[dir] = it->seg.opts.has_wscale ? (int8_t)(it->seg.opts.wscale > 14
									 ? 14
									 : it->seg.opts.wscale)
							 : -1;
	}
	it->wscale_known = syn || (c->syn_seen[0] && c->syn_seen[1]);
	bool on = !syn && it->wscale_known && c->wscale[0] >= 0 && c->wscale[1] >= 0;
	it->wshift = on ? (uint8_t)c->wscale[dir] : 0;
	it->win_scaled = (uint32_t)it->seg.win << it->wshift;
}

/* tcpdump's relative numbering: seq relative to the sender's base, ack relative to the
 * receiver's. A direction's base is its SYN's seq, or the first seq seen. */
static void relative_numbers(struct synack_ladder *l, struct synack_ladder_item *it)
{
	int dir;
	struct conn_base *c = conn_find(l, &it->src, &it->dst, &dir);
	it->conn_idx = (int)(c - l->conns);
	it->conn_dir = dir;
	if (!c->has[dir]) {
		c->has[dir] = true;
		c->base[dir] = it->seg.seq;
	}
	it->rel_seq = it->seg.seq - c->base[dir];
	it->rel_ack = c->has[!dir] ? it->seg.ack - c->base[!dir] : it->seg.ack;
	it->has_ack_base = c->has[!dir];
	it->ack_base = c->has[!dir] ? c->base[!dir] : 0;
	scale_window(c, dir, it);
}

static uint32_t addr_word(const struct synack_addr *a)
{
	return synack_addr_is_v4(a) ? synack_addr_get_v4(a) : 0;
}

static uint64_t seg_key(const struct synack_ladder_item *it)
{
	/* IPv4 addresses as their 32-bit value; IPv6 ones folded here and hashed whole below. */
	uint32_t v[9] = {addr_word(&it->src.addr), addr_word(&it->dst.addr), it->src.port,
			 it->dst.port, it->seg.seq, it->seg.ack, it->seg.flags, it->seg.win,
			 (uint32_t)it->seg.len};
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		for (int b = 0; b < 4; b++) {
			h ^= (v[i] >> (8 * b)) & 0xff;
			h *= 0x100000001b3ull;
		}
	}
	for (int e = 0; e < 2 && !synack_addr_is_v4(&it->src.addr); e++) {
		const struct synack_addr *a = e ? &it->dst.addr : &it->src.addr;
		for (size_t i = 0; i < sizeof a->b; i++) {
			h ^= a->b[i];
			h *= 0x100000001b3ull;
		}
	}
	return h;
}

static struct flight *flight_find(struct synack_ladder *l, uint64_t key)
{
	for (size_t i = l->nflights; i-- > 0;) /* newest first */
		if (l->flights[i].key == key)
			return &l->flights[i];
	return NULL;
}

static void flight_remove(struct synack_ladder *l, struct flight *f)
{
	size_t i = (size_t)(f - l->flights);
	memmove(&l->flights[i], &l->flights[i + 1], (l->nflights - i - 1) * sizeof *f);
	l->nflights--;
}

static void flight_add(struct synack_ladder *l, uint64_t key, bool retx)
{
	if (l->nflights == FLIGHT_MAX)
		flight_remove(l, &l->flights[0]);
	l->flights[l->nflights++] = (struct flight){.key = key, .count = 1, .retx = retx};
}

/* Matches sends with what the link did to them and with their arrivals. Returns false for a
 * link event about a send not seen (yet). */
static bool track_flight(struct synack_ladder *l, struct synack_ladder_item *it)
{
	uint64_t key = seg_key(it);
	struct flight *f = flight_find(l, key);
	switch (it->ev->kind) {
	case SYNACK_TRACE_TX:
		flight_add(l, key, it->retx);
		return true;
	case SYNACK_TRACE_RX:
	case SYNACK_TRACE_DROP:
		if (it->ev->kind == SYNACK_TRACE_DROP && l->rx_valid && l->rx_key == key &&
		    l->rx_t == it->ev->t_us) {
			it->arrival = SYNACK_ARRIVAL_IMPLIED; /* drawn with its RX */
			it->retx = l->rx_retx;
			return true;
		}
		l->rx_valid = it->ev->kind == SYNACK_TRACE_RX;
		l->rx_key = key;
		l->rx_t = it->ev->t_us;
		l->rx_retx = f && f->retx;
		if (!f) {
			bool peer = l->opts.untraced_peer && it->src_col >= 0 && it->src_col != it->col;
			it->arrival = peer ? SYNACK_ARRIVAL_PEER : SYNACK_ARRIVAL_UNSENT;
			return true;
		}
		it->arrival = f->delayed ? SYNACK_ARRIVAL_DELAYED : SYNACK_ARRIVAL_IMPLIED;
		it->retx = f->retx;
		if (--f->count == 0)
			flight_remove(l, f);
		return true;
	case SYNACK_TRACE_LOST:
	case SYNACK_TRACE_DUP:
	case SYNACK_TRACE_REORDER:
	case SYNACK_TRACE_CORRUPT:
		if (!f)
			return false;
		it->retx = f->retx;
		if (it->ev->kind == SYNACK_TRACE_DUP)
			f->count++;
		if (it->ev->kind == SYNACK_TRACE_REORDER)
			f->delayed = true;
		if (it->ev->kind == SYNACK_TRACE_LOST && --f->count == 0)
			flight_remove(l, f);
		return true;
	default:
		return true;
	}
}

static void interpret(struct synack_ladder *l, const struct synack_trace_event *ev,
		      struct synack_ladder_item *it)
{
	memset(it, 0, sizeof *it);
	it->ev = ev;
	if (ev->note)
		snprintf(it->note, sizeof it->note, "%s", ev->note);
	it->col = col_of_host(l, ev->host);
	it->src_col = it->dst_col = SYNACK_LADDER_OFFSTAGE;
	it->retx = ev->kind == SYNACK_TRACE_TX && ev->retx;
	/* A host's own events tell its address (a listener bound to 0.0.0.0 does not). */
	if (it->col >= 0 && synack_addr_is_any(&l->addr[it->col]) && ev->has_conn)
		l->addr[it->col] = ev->local.addr;
	if (ev->kind == SYNACK_TRACE_STATE || ev->kind == SYNACK_TRACE_TIMER ||
	    ev->kind == SYNACK_TRACE_ERROR || ev->kind == SYNACK_TRACE_NOTE)
		return;
	it->has_seg = find_segment(ev, it);
	if (!it->has_seg)
		return;
	/* Learn each column's address from what its host sends and receives. */
	if (it->col >= 0 && synack_addr_is_any(&l->addr[it->col])) {
		bool sender = ev->kind != SYNACK_TRACE_RX && ev->kind != SYNACK_TRACE_DROP;
		l->addr[it->col] = sender ? it->src.addr : it->dst.addr;
	}
	it->src_col = col_of_addr(l, &it->src.addr);
	it->dst_col = col_of_addr(l, &it->dst.addr);
	synack_tcp_flags_str(it->seg.flags, it->flags, sizeof it->flags);
	it->optlen = (uint8_t)synack_tcp_opts_bytes(&it->seg.opts,
						    (it->seg.flags & SYNACK_TH_SYN) != 0,
						    it->optbytes);
	relative_numbers(l, it);
}

/* A stack's send (or an untraced peer's, seen arriving) gets what the capture analysis would
 * say of it, so a simulated ladder marks duplicate ACKs, zero windows and probes as the ladder
 * of its capture does. Retransmissions are the stack's own word (ev->retx); a resent segment is
 * not also "out-of-order". */
static void annotate(struct synack_ladder *l, struct synack_ladder_item *it)
{
	bool send = it->ev->kind == SYNACK_TRACE_TX || it->arrival == SYNACK_ARRIVAL_PEER;
	if (!it->has_seg || !send || it->note[0] || it->conn_idx < 0 ||
	    (size_t)it->conn_idx >= l->nconns)
		return;
	struct synack_infer_result res;
	synack_infer_segment(&l->conns[it->conn_idx].inf, it->conn_dir, &it->seg, it->ev->t_us,
			     &res);
	unsigned marks = res.marks & ~(SYNACK_MARK_RETX | SYNACK_MARK_RST);
	if (it->retx)
		marks &= ~SYNACK_MARK_OOO;
	synack_infer_marks_str(marks, res.dupack_n, it->note, sizeof it->note);
}

static void deliver(struct synack_ladder *l, const struct synack_ladder_item *it)
{
	l->be->item(l, l->state, it);
}

static void release_held(struct synack_ladder *l)
{
	if (!l->held.used)
		return;
	l->held.used = false;
	deliver(l, &l->held.it);
}

void synack_ladder_event(struct synack_ladder *l, const struct synack_trace_event *ev)
{
	if (!l || !ev)
		return;
	struct synack_ladder_item it;
	interpret(l, ev, &it);
	bool known = !it.has_seg || track_flight(l, &it);
	if (!known && !l->held.used) {
		/* A link event before its send: hold it one event. */
		l->held.used = true;
		l->held.ev = *ev;
		l->held.seg = it.seg;
		l->held.ev.seg = &l->held.seg;
		l->held.ev.frame = NULL;
		l->held.ev.frame_len = 0;
		l->held.it = it;
		l->held.it.ev = &l->held.ev;
		return;
	}
	annotate(l, &it);
	if (l->held.used && ev->kind == SYNACK_TRACE_TX && it.has_seg &&
	    seg_key(&it) == seg_key(&l->held.it)) {
		/* The send the held link event was about: draw the send, then replay the event. */
		deliver(l, &it);
		l->held.used = false;
		track_flight(l, &l->held.it);
		deliver(l, &l->held.it);
		return;
	}
	release_held(l);
	deliver(l, &it);
}

void synack_ladder_trace(void *ctx, const struct synack_trace_event *ev)
{
	synack_ladder_event(ctx, ev);
}

int synack_ladder_finish(struct synack_ladder *l)
{
	release_held(l);
	l->be->finish(l, l->state);
	if (fflush(l->opts.out) != 0 || ferror(l->opts.out))
		l->io_error = true;
	return l->io_error ? -EIO : 0;
}

static void put_win(const struct synack_ladder_item *it, const struct synack_ladder_opts *o,
		    char *buf, size_t cap)
{
	if (o->raw_window)
		snprintf(buf, cap, " win=%u", it->seg.win);
	else if (o->verbose && it->wshift)
		snprintf(buf, cap, " win=%u (%u<<%u)", it->win_scaled, it->seg.win, it->wshift);
	else if (o->verbose && !it->wscale_known)
		snprintf(buf, cap, " win=%u (scale unknown)", it->seg.win);
	else
		snprintf(buf, cap, " win=%u", it->win_scaled);
}

void synack_ladder_seg_label(const struct synack_ladder_item *it,
			     const struct synack_ladder_opts *o, bool with_win, char *buf,
			     size_t cap)
{
	uint32_t seq = o->absolute ? it->seg.seq : it->rel_seq;
	uint32_t ack = o->absolute ? it->seg.ack : it->rel_ack;
	int n = snprintf(buf, cap, "%s seq=%u", it->flags, seq);
	if (it->seg.flags & SYNACK_TH_ACK)
		n += snprintf(buf + n, cap > (size_t)n ? cap - (size_t)n : 0, " ack=%u", ack);
	if (with_win && cap > (size_t)n) {
		put_win(it, o, buf + n, cap - (size_t)n);
		n += (int)strlen(buf + n);
	}
	if (it->seg.len)
		snprintf(buf + n, cap > (size_t)n ? cap - (size_t)n : 0, " len=%zu", it->seg.len);
}

const char *synack_ladder_opts_label(const struct synack_ladder_item *it,
				     const struct synack_ladder_opts *o, bool full, char *buf,
				     size_t cap)
{
	bool rel = !o->absolute && it->has_ack_base;
	return synack_tcp_opts_str(it->optbytes, it->optlen,
				   full || o->verbose ? SYNACK_OPTS_FULL : SYNACK_OPTS_COMPACT,
				   rel ? &it->ack_base : NULL, buf, cap);
}

struct errno_name {
	int err;
	const char *name;
};

static const struct errno_name errno_names[] = {
	{ECONNREFUSED, "ECONNREFUSED"}, {ECONNRESET, "ECONNRESET"}, {ETIMEDOUT, "ETIMEDOUT"},
	{EPIPE, "EPIPE"}, {ECONNABORTED, "ECONNABORTED"}, {EHOSTUNREACH, "EHOSTUNREACH"},
	{ENETUNREACH, "ENETUNREACH"}, {EAGAIN, "EAGAIN"}, {EINPROGRESS, "EINPROGRESS"},
	{ENOTCONN, "ENOTCONN"}, {EISCONN, "EISCONN"}, {EALREADY, "EALREADY"},
	{EADDRINUSE, "EADDRINUSE"}, {EADDRNOTAVAIL, "EADDRNOTAVAIL"}, {EINVAL, "EINVAL"},
	{EBADF, "EBADF"}, {ENOMEM, "ENOMEM"}, {EMFILE, "EMFILE"}, {ENOPROTOOPT, "ENOPROTOOPT"},
	{EOPNOTSUPP, "EOPNOTSUPP"}, {EMSGSIZE, "EMSGSIZE"}, {EIO, "EIO"},
};

const char *synack_errno_name(int err, char *buf, size_t cap)
{
	int e = err < 0 ? -err : err;
	for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
		if (errno_names[i].err == e)
			return errno_names[i].name;
	snprintf(buf, cap, "E%d", e);
	return buf;
}
