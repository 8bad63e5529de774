/* Connection tracking over a capture: decode, find the connection by four-tuple, infer, keep a
 * bounded record. See conn.h.
 */
#include "render/conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synack/wire.h"

struct slot {
	struct synack_endpoint key[2]; /* the canonical tuple (smaller endpoint first) */
	bool used;
	uint32_t conn; /* index + 1 of the tuple's latest connection */
};

struct synack_conns {
	struct synack_conns_opts o;
	struct synack_conns_stats st;
	struct synack_conn **v;
	size_t n, cap;
	struct slot *slots;
	size_t nslots, used;
	uint8_t scratch[65535]; /* a mended IPv4 packet (parse_ip) */
	struct synack_cc_sample cc_next; /* for the next packet only (synack_conns_next_cc) */
};

int synack_conns_new(struct synack_conns **out, const struct synack_conns_opts *opts)
{
	struct synack_conns *t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->o = *opts;
	t->nslots = 1024;
	t->slots = calloc(t->nslots, sizeof *t->slots);
	if (!t->slots) {
		free(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

void synack_conns_free(struct synack_conns *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i]->head);
		free(t->v[i]->tail);
		free(t->v[i]);
	}
	free(t->v);
	free(t->slots);
	free(t);
}

size_t synack_conns_count(const struct synack_conns *t)
{
	return t->n;
}

const struct synack_conn *synack_conns_get(const struct synack_conns *t, size_t i)
{
	return i < t->n ? t->v[i] : NULL;
}

const struct synack_conns_stats *synack_conns_stats(const struct synack_conns *t)
{
	return &t->st;
}

static int ep_cmp(const struct synack_endpoint *x, const struct synack_endpoint *y)
{
	int c = memcmp(x->addr.b, y->addr.b, sizeof x->addr.b);
	return c ? c : (int)x->port - (int)y->port;
}

static bool ep_eq(const struct synack_endpoint *x, const struct synack_endpoint *y)
{
	return ep_cmp(x, y) == 0;
}

/* The tuple in a canonical order (smaller endpoint first). */
static void tuple_key(const struct synack_endpoint *a, const struct synack_endpoint *b,
		      struct synack_endpoint key[2])
{
	bool swap = ep_cmp(a, b) > 0;
	key[0] = swap ? *b : *a;
	key[1] = swap ? *a : *b;
}

static uint64_t ep_hash(uint64_t h, const struct synack_endpoint *e)
{
	for (size_t i = 0; i < sizeof e->addr.b; i++)
		h = (h ^ e->addr.b[i]) * 0x100000001b3ull; /* FNV-1a */
	h = (h ^ (e->port >> 8)) * 0x100000001b3ull;
	return (h ^ (e->port & 0xff)) * 0x100000001b3ull;
}

static size_t slot_index(const struct synack_conns *t, const struct synack_endpoint key[2])
{
	uint64_t h = ep_hash(ep_hash(0xcbf29ce484222325ull, &key[0]), &key[1]);
	size_t mask = t->nslots - 1;
	size_t i = (size_t)(h >> 17) & mask;
	while (t->slots[i].used &&
	       !(ep_eq(&t->slots[i].key[0], &key[0]) && ep_eq(&t->slots[i].key[1], &key[1])))
		i = (i + 1) & mask;
	return i;
}

static int grow_slots(struct synack_conns *t)
{
	struct slot *old = t->slots;
	size_t oldn = t->nslots;
	t->slots = calloc(oldn * 2, sizeof *t->slots);
	if (!t->slots) {
		t->slots = old;
		return -ENOMEM;
	}
	t->nslots = oldn * 2;
	for (size_t i = 0; i < oldn; i++)
		if (old[i].used)
			t->slots[slot_index(t, old[i].key)] = old[i];
	free(old);
	return 0;
}

static void ep_name(const struct synack_endpoint *e, char *buf, size_t cap)
{
	char a[SYNACK_ADDR_STRLEN];
	synack_addr_str(&e->addr, a, sizeof a);
	/* RFC 5952 §6: an IPv6 address with a port is written [addr]:port. */
	snprintf(buf, cap, synack_addr_is_v4(&e->addr) ? "%s:%u" : "[%s]:%u", a, e->port);
}

/* A new connection from src to dst (src becomes ep[0]). */
static struct synack_conn *conn_add(struct synack_conns *t, struct slot *s,
				    const struct synack_endpoint *src,
				    const struct synack_endpoint *dst, uint64_t t_us)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct synack_conn **v = realloc(t->v, cap * sizeof *v);
		if (!v)
			return NULL;
		t->v = v;
		t->cap = cap;
	}
	struct synack_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->id = (uint32_t)t->n + 1;
	c->ep[0] = *src;
	c->ep[1] = *dst;
	ep_name(src, c->name[0], sizeof c->name[0]);
	ep_name(dst, c->name[1], sizeof c->name[1]);
	c->first_us = t_us;
	synack_infer_init(&c->inf);
	t->v[t->n++] = c;
	s->conn = (uint32_t)t->n;
	return c;
}

/* The connection a segment from src to dst belongs to, and its direction. */
static struct synack_conn *conn_lookup(struct synack_conns *t, const struct synack_endpoint *src,
				       const struct synack_endpoint *dst,
				       const struct synack_tcp_seg *seg, uint64_t t_us, int *dir)
{
	if (t->used * 2 >= t->nslots && grow_slots(t) < 0)
		return NULL;
	struct synack_endpoint key[2];
	tuple_key(src, dst, key);
	struct slot *s = &t->slots[slot_index(t, key)];
	if (!s->used) {
		s->used = true;
		s->key[0] = key[0];
		s->key[1] = key[1];
		t->used++;
		*dir = 0;
		return conn_add(t, s, src, dst, t_us);
	}
	struct synack_conn *c = t->v[s->conn - 1];
	*dir = ep_eq(&c->ep[0], src) ? 0 : 1;
	if (synack_infer_is_new_syn(&c->inf, *dir, seg)) {
		*dir = 0;
		return conn_add(t, s, src, dst, t_us);
	}
	return c;
}

/* ---- the bounded record ---------------------------------------------------------------- */

static int rec_keep(struct synack_conns *t, struct synack_conn *c, const struct synack_seg_rec *r)
{
	c->total_recs++;
	if (c->nhead < t->o.keep_first) {
		if (c->nhead == c->head_cap) {
			uint32_t cap = c->head_cap ? c->head_cap * 2 : 4;
			if (cap > t->o.keep_first)
				cap = t->o.keep_first;
			struct synack_seg_rec *h = realloc(c->head, cap * sizeof *h);
			if (!h)
				return -ENOMEM;
			c->head = h;
			c->head_cap = cap;
		}
		c->head[c->nhead++] = *r;
		return 0;
	}
	if (t->o.keep_last == 0)
		return 0;
	if (!c->tail) {
		c->tail = malloc(t->o.keep_last * sizeof *c->tail);
		if (!c->tail)
			return -ENOMEM;
	}
	c->tail[c->tail_pos] = *r;
	c->tail_pos = (c->tail_pos + 1) % t->o.keep_last;
	if (c->ntail < t->o.keep_last)
		c->ntail++;
	return 0;
}

uint64_t synack_conn_elided(const struct synack_conn *c)
{
	return c->total_recs - c->nhead - c->ntail;
}

void synack_conn_each(const struct synack_conn *c,
		      void (*fn)(void *ctx, const struct synack_seg_rec *r, uint64_t gap),
		      void *ctx)
{
	for (uint32_t i = 0; i < c->nhead; i++)
		fn(ctx, &c->head[i], 0);
	uint64_t gap = synack_conn_elided(c);
	/* The ring's oldest record: index 0 until it has wrapped, then the next write position. */
	uint32_t start = c->tail_pos < c->ntail ? c->tail_pos : 0;
	for (uint32_t k = 0; k < c->ntail; k++)
		fn(ctx, &c->tail[(start + k) % c->ntail], k == 0 ? gap : 0);
}

/* ---- input ----------------------------------------------------------------------------- */

static bool wanted(const struct synack_conns *t, const struct synack_endpoint *src,
		   const struct synack_endpoint *dst)
{
	if (!t->o.filter)
		return true;
	return (ep_eq(src, &t->o.fa) && ep_eq(dst, &t->o.fb)) ||
	       (ep_eq(src, &t->o.fb) && ep_eq(dst, &t->o.fa));
}

static void fill_rec(struct synack_seg_rec *r, uint64_t t_us, int dir,
		     const struct synack_tcp_seg *seg, const struct synack_infer_result *res)
{
	memset(r, 0, sizeof *r);
	r->t_us = t_us;
	r->seq = seg->seq;
	r->ack = seg->ack;
	r->len = (uint32_t)seg->len;
	r->win = seg->win;
	r->flags = seg->flags;
	r->dir = (uint8_t)dir;
	r->marks = (uint8_t)res->marks;
	r->dupack_n = res->dupack_n;
	r->nsack = seg->opts.sack_count > 3 ? 3 : seg->opts.sack_count;
	memcpy(r->sack, seg->opts.sack, r->nsack * sizeof r->sack[0]);
	r->optlen = seg->opts.raw_len;
	memcpy(r->opt, seg->opts.raw, r->optlen);
	r->nchanges = res->nchanges;
	memcpy(r->ch, res->ch, res->nchanges * sizeof res->ch[0]);
}

void synack_conns_next_cc(struct synack_conns *t, const struct synack_cc_sample *cc)
{
	t->cc_next = *cc;
}

static int segment(struct synack_conns *t, uint64_t t_us, const struct synack_ip_hdr *ip,
		   const struct synack_tcp_seg *seg, const struct synack_cc_sample *cc)
{
	struct synack_endpoint src = {ip->src, seg->sport};
	struct synack_endpoint dst = {ip->dst, seg->dport};
	if (!wanted(t, &src, &dst)) {
		t->st.filtered++;
		return 0;
	}
	t->st.tcp++;
	int dir;
	struct synack_conn *c = conn_lookup(t, &src, &dst, seg, t_us, &dir);
	if (!c)
		return -ENOMEM;
	struct synack_infer_result res;
	synack_infer_segment(&c->inf, dir, seg, t_us, &res);
	c->last_us = t_us;
	struct synack_conn_dir_stats *ds = &c->st[dir];
	ds->segs++;
	ds->bytes += seg->len;
	if (res.marks & SYNACK_MARK_RETX) {
		ds->retx_segs++;
		ds->retx_bytes += seg->len;
	}
	if (t_us < t->o.from_us || (t->o.to_us && t_us > t->o.to_us)) {
		c->outside++;
		return 0;
	}
	struct synack_seg_rec r;
	fill_rec(&r, t_us, dir, seg, &res);
	if (cc->set) {
		r.cc = *cc;
		r.cc_dir = (uint8_t)(cc->sender ? dir : !dir);
	}
	return rec_keep(t, c, &r);
}

/* The IP header of either family. An IPv4 one is forgiven what a capture on the sending host
 * shows of offloads: a checksum the NIC was to fill in, and a TSO super-packet's total length
 * of 0. Such a header is mended in a scratch copy (and counted) rather than thrown away.
 * IPv6 has no header checksum, and its GSO packets carry their true payload length. */
static int parse_ip(struct synack_conns *t, const uint8_t *pkt, size_t len,
		    struct synack_ip_hdr *ip, const uint8_t **tp, size_t *tlen)
{
	int rc = synack_ip_parse(pkt, len, ip, tp, tlen);
	if (rc == 0 || len < 1 || pkt[0] >> 4 != 4)
		return rc;
	bool bad_len = rc == -SYNACK_DROP_IP_BAD_TOTLEN && len >= 20 && pkt[2] == 0 && pkt[3] == 0;
	if (rc != -SYNACK_DROP_IP_BAD_CSUM && !bad_len)
		return rc;
	size_t n = len > sizeof t->scratch ? sizeof t->scratch : len;
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > n)
		return rc;
	memcpy(t->scratch, pkt, n);
	if (bad_len) {
		t->scratch[2] = (uint8_t)(n >> 8);
		t->scratch[3] = (uint8_t)n;
	}
	t->scratch[10] = t->scratch[11] = 0;
	uint16_t sum = synack_csum_fold(synack_csum_add(0, t->scratch, ihl));
	t->scratch[10] = (uint8_t)(sum >> 8); /* the folded sum is in the bytes' own order */
	t->scratch[11] = (uint8_t)sum;
	if (synack_ip_parse(t->scratch, n, ip, tp, tlen) < 0) {
		t->scratch[10] = (uint8_t)sum; /* the other byte order, whichever the fold used */
		t->scratch[11] = (uint8_t)(sum >> 8);
		if ((rc = synack_ip_parse(t->scratch, n, ip, tp, tlen)) < 0)
			return rc;
	}
	t->st.mended++;
	return 0;
}

int synack_conns_packet(struct synack_conns *t, uint64_t t_ns, const uint8_t *pkt, size_t len)
{
	if (!t->st.started) {
		t->st.started = true;
		t->st.start_ns = t_ns;
	}
	uint64_t t_us = t_ns >= t->st.start_ns ? (t_ns - t->st.start_ns) / 1000 : 0;
	struct synack_cc_sample cc = t->cc_next;
	t->cc_next.set = false;
	struct synack_ip_hdr ip;
	const uint8_t *tp;
	size_t tlen;
	if (parse_ip(t, pkt, len, &ip, &tp, &tlen) < 0) {
		t->st.malformed++;
		return 0;
	}
	/* A fragment is counted as one whatever it carries: an IPv6 fragment after the first
	 * names the upper layer too, but holds none of its header. */
	if (ip.fragment) {
		t->st.fragments++;
		return 0;
	}
	if (ip.proto != SYNACK_PROTO_TCP) {
		t->st.non_tcp++;
		return 0;
	}
	struct synack_tcp_seg seg;
	if (synack_tcp_parse(tp, tlen, &ip.src, &ip.dst, t->o.verify_csum, &seg) < 0) {
		t->st.malformed++;
		return 0;
	}
	return segment(t, t_us, &ip, &seg, &cc);
}

int synack_conns_read_file(struct synack_conns *t, const char *path, struct synack_pcap_stats *pst,
			   char *err, size_t errcap)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		int e = errno;
		snprintf(err, errcap, "%s: %s", path, strerror(e));
		return -e;
	}
	struct synack_pcapread *r = NULL;
	int rc = synack_pcapread_open(&r, f);
	struct synack_pcap_pkt p;
	while (rc == 0 && (rc = synack_pcapread_next(r, &p)) == 1)
		rc = synack_conns_packet(t, p.t_ns, p.ip, p.ip_len);
	if (rc < 0)
		snprintf(err, errcap, "%s: %s", path,
			 rc == -ENOMEM ? "out of memory" : synack_pcapread_error(r));
	if (r && pst)
		*pst = *synack_pcapread_stats(r);
	synack_pcapread_close(r);
	if (f != stdin)
		fclose(f);
	return rc < 0 ? rc : 0;
}

static int parse_ep(const char *s, size_t n, struct synack_endpoint *e)
{
	/* A.B.C.D:PORT or [IPv6]:PORT */
	char buf[SYNACK_ADDR_STRLEN + 8];
	if (n >= sizeof buf)
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = 0;
	char *colon = strrchr(buf, ':');
	if (!colon || colon == buf)
		return -EINVAL;
	char *host = buf, *host_end = colon;
	if (buf[0] == '[') {
		if (colon[-1] != ']')
			return -EINVAL;
		host = buf + 1;
		host_end = colon - 1;
	}
	*host_end = '\0';
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end || port > 65535)
		return -EINVAL;
	struct synack_addr a;
	if (synack_addr_parse(host, &a) < 0 || (host == buf) != synack_addr_is_v4(&a))
		return -EINVAL; /* IPv6 only in brackets */
	e->addr = a;
	e->port = (uint16_t)port;
	return 0;
}

int synack_conn_spec_parse(const char *s, struct synack_endpoint *a, struct synack_endpoint *b)
{
	const char *dash = s ? strchr(s, '-') : NULL;
	if (!dash)
		return -EINVAL;
	if (parse_ep(s, (size_t)(dash - s), a) < 0 || parse_ep(dash + 1, strlen(dash + 1), b) < 0)
		return -EINVAL;
	return 0;
}

/* ---- replay as trace events ------------------------------------------------------------ */

struct replay {
	const struct synack_conn *c;
	synack_trace_fn sink;
	void *ctx;
};

static void emit_changes(const struct replay *rp, const struct synack_seg_rec *r, bool before)
{
	for (uint8_t i = 0; i < r->nchanges; i++) {
		const struct synack_infer_change *ch = &r->ch[i];
		if (ch->before != before)
			continue;
		struct synack_trace_event ev = {
			.kind = SYNACK_TRACE_STATE,
			.t_us = r->t_us,
			.host = rp->c->name[ch->ep],
			.has_conn = true,
			.local = rp->c->ep[ch->ep],
			.remote = rp->c->ep[!ch->ep],
			.from = ch->from,
			.to = ch->to,
			.uncertain = ch->uncertain,
		};
		rp->sink(rp->ctx, &ev);
	}
}

static void emit_gap(const struct replay *rp, const struct synack_seg_rec *r, uint64_t gap)
{
	char note[96];
	snprintf(note, sizeof note, "... %llu segments not shown ...", (unsigned long long)gap);
	struct synack_trace_event ev = {
		.kind = SYNACK_TRACE_NOTE,
		.t_us = r->t_us,
		.note = note,
	};
	rp->sink(rp->ctx, &ev);
}

static void replay_one(void *ctx, const struct synack_seg_rec *r, uint64_t gap)
{
	const struct replay *rp = ctx;
	if (gap)
		emit_gap(rp, r, gap);
	emit_changes(rp, r, true);
	const struct synack_conn *c = rp->c;
	struct synack_tcp_seg seg = {
		.sport = c->ep[r->dir].port,
		.dport = c->ep[!r->dir].port,
		.seq = r->seq,
		.ack = r->ack,
		.doff = 20,
		.flags = r->flags,
		.win = r->win,
		.len = r->len,
	};
	if (r->optlen) {
		(void)synack_tcp_opts_parse(r->opt, r->optlen, &seg.opts); /* parsed once already */
		seg.doff = (uint8_t)(20 + ((r->optlen + 3) & ~3));
	} else {
		seg.opts.sack_count = r->nsack;
		memcpy(seg.opts.sack, r->sack, r->nsack * sizeof r->sack[0]);
	}
	char note[96];
	unsigned marks = r->marks & ~(SYNACK_MARK_RETX | SYNACK_MARK_RST);
	synack_infer_marks_str(marks, r->dupack_n, note, sizeof note);
	struct synack_trace_event ev = {
		.kind = SYNACK_TRACE_TX,
		.t_us = r->t_us,
		.host = c->name[r->dir],
		.has_conn = true,
		.local = c->ep[r->dir],
		.remote = c->ep[!r->dir],
		.seg = &seg,
		.retx = (r->marks & SYNACK_MARK_RETX) != 0,
		.note = note[0] ? note : NULL,
	};
	rp->sink(rp->ctx, &ev);
	emit_changes(rp, r, false);
}

void synack_conn_replay(const struct synack_conn *c, synack_trace_fn sink, void *ctx)
{
	struct replay rp = {c, sink, ctx};
	synack_conn_each(c, replay_one, &rp);
}
