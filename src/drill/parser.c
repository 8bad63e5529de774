/* synack drill — the parser: tokens to events.
 *
 * The grammar is packetdrill's (parser.y), by hand, recursive descent:
 *
 *   script  := { "--name=value" | event }
 *   event   := [time] ( packet | syscall | `shell` | %{ code }% )
 *   time    := ["+"] secs ["~" ["+"] secs] | "*"          then, for syscalls, ["..." secs]
 *   packet  := ("<" | ">") ["port" N] flags [seq ":" end "(" len ")"]
 *              { "ack" N | "win" N | "urg" N } ["<" options ">"]
 *   syscall := name "(" [expr {"," expr}] ")" "=" ( "..." | int [ERRNO] ["(" text ")"] )
 *   expr    := primary {"|" primary};  primary := int | "..." | symbol | symbol "(" args ")" |
 *              "string" | "[" exprs "]" | "{" [name "="] expr, ... "}"
 *
 * `port N` is synack's extension for scripts with several remote clients (packetdrill has one).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill/drill.h"
#include "synack/wire.h"

struct parser {
	const char *path;
	const char *src;
	struct drill_token *t;
	size_t n, i;
	struct drill_buf *err;
	struct drill_script *out;
	size_t cap;
	bool unsupported;
};

static const struct drill_token *cur(const struct parser *p)
{
	return &p->t[p->i < p->n ? p->i : p->n - 1];
}

static const struct drill_token *ahead(const struct parser *p, size_t k)
{
	return &p->t[p->i + k < p->n ? p->i + k : p->n - 1];
}

static bool is_punct(const struct drill_token *t, char c)
{
	return t->kind == DRILL_TOK_PUNCT && t->punct == c;
}

static bool is_ident(const struct drill_token *t, const char *s)
{
	return t->kind == DRILL_TOK_IDENT && !strcmp(t->text, s);
}

static int error(struct parser *p, const char *fmt_what)
{
	const struct drill_token *t = cur(p);
	int len = (int)(t->len > 40 ? 40 : t->len);
	if (t->kind == DRILL_TOK_EOF)
		drill_buf_printf(p->err, "%s:%d: %s, found end of file", p->path,
				 p->i > 0 ? p->t[p->i - 1].line : t->line, fmt_what);
	else
		drill_buf_printf(p->err, "%s:%d: %s, found '%.*s'", p->path, t->line, fmt_what,
				 len, p->src + t->off);
	return -1;
}

/* Valid packetdrill that this runner does not implement: the script is SKIPPED, not failed. */
static int unsupported(struct parser *p, const char *what)
{
	drill_buf_printf(p->err, "line %d: unsupported: %s", cur(p)->line, what);
	p->unsupported = true;
	return -1;
}

static bool accept_punct(struct parser *p, char c)
{
	if (!is_punct(cur(p), c))
		return false;
	p->i++;
	return true;
}

static int expect_punct(struct parser *p, char c)
{
	char what[32] = "expected 'x'";
	what[10] = c;
	return accept_punct(p, c) ? 0 : error(p, what);
}

static int expect_int(struct parser *p, uint64_t *v)
{
	if (cur(p)->kind != DRILL_TOK_INT)
		return error(p, "expected a number");
	*v = cur(p)->ival;
	p->i++;
	return 0;
}

static int expect_u32(struct parser *p, uint32_t *v)
{
	uint64_t x = 0;
	if (expect_int(p, &x) < 0)
		return -1;
	if (x > 0xffffffffu) {
		p->i--;
		return error(p, "number does not fit in 32 bits");
	}
	*v = (uint32_t)x;
	return 0;
}

/* ---- times ---- */

static bool at_time(const struct parser *p)
{
	const struct drill_token *t = cur(p);
	return t->kind == DRILL_TOK_INT || t->kind == DRILL_TOK_FLOAT || is_punct(t, '*') ||
	       (is_punct(t, '+') && (ahead(p, 1)->kind == DRILL_TOK_INT ||
				     ahead(p, 1)->kind == DRILL_TOK_FLOAT));
}

static int parse_secs(struct parser *p, bool *rel, int64_t *us)
{
	*rel = accept_punct(p, '+');
	const struct drill_token *t = cur(p);
	if (t->kind != DRILL_TOK_INT && t->kind != DRILL_TOK_FLOAT)
		return error(p, "expected a time in seconds");
	*us = t->usecs;
	p->i++;
	return 0;
}

static int parse_time(struct parser *p, struct drill_event *ev)
{
	bool rel, rel2;
	if (accept_punct(p, '*')) {
		ev->time_kind = DRILL_TIME_ANY;
		return 0;
	}
	if (parse_secs(p, &rel, &ev->t_us) < 0)
		return -1;
	ev->time_kind = rel ? DRILL_TIME_REL : DRILL_TIME_ABS;
	if (accept_punct(p, '~')) {
		if (parse_secs(p, &rel2, &ev->t_end_us) < 0)
			return -1;
		if (rel2 != rel)
			return error(p, "a time range must be all absolute or all relative");
		ev->time_kind = rel ? DRILL_TIME_REL_RANGE : DRILL_TIME_ABS_RANGE;
	}
	if (cur(p)->kind == DRILL_TOK_ELLIPSIS) {
		p->i++;
		ev->has_end = true;
		if (parse_secs(p, &ev->end_rel, &ev->end_us) < 0)
			return -1;
	}
	return 0;
}

/* ---- packets ---- */

static int flag_letters(struct parser *p, uint8_t *flags)
{
	const struct drill_token *t = cur(p);
	for (const char *c = t->text; *c; c++) {
		switch (*c) {
		case 'F': *flags |= SYNACK_TH_FIN; break;
		case 'S': *flags |= SYNACK_TH_SYN; break;
		case 'R': *flags |= SYNACK_TH_RST; break;
		case 'P': *flags |= SYNACK_TH_PSH; break;
		case 'U': *flags |= SYNACK_TH_URG; break;
		case 'E': *flags |= SYNACK_TH_ECE; break;
		case 'W': *flags |= SYNACK_TH_CWR; break;
		default: return error(p, "bad TCP flags (use F S R P . E W U)");
		}
	}
	p->i++;
	return 0;
}

/* "S", "S.", ".", "F.", "P.U", "-" (none). */
static int parse_flags(struct parser *p, uint8_t *flags)
{
	*flags = 0;
	bool any = false;
	if (cur(p)->kind == DRILL_TOK_IDENT) {
		if (flag_letters(p, flags) < 0)
			return -1;
		any = true;
	}
	if (is_punct(cur(p), '.') && (!any || !cur(p)->space_before)) {
		*flags |= SYNACK_TH_ACK;
		p->i++;
		if (cur(p)->kind == DRILL_TOK_IDENT && !cur(p)->space_before &&
		    flag_letters(p, flags) < 0)
			return -1;
		return 0;
	}
	if (any)
		return 0;
	if (accept_punct(p, '-'))
		return 0; /* no flags at all */
	return error(p, "expected TCP flags");
}

static int parse_sack_blocks(struct parser *p, struct drill_opt *o)
{
	while (cur(p)->kind == DRILL_TOK_INT) {
		if (o->nblocks == 4)
			return error(p, "at most 4 SACK blocks");
		if (expect_u32(p, &o->blocks[o->nblocks][0]) < 0 || expect_punct(p, ':') < 0 ||
		    expect_u32(p, &o->blocks[o->nblocks][1]) < 0)
			return -1;
		o->nblocks++;
	}
	return 0;
}

/* A Fast Open cookie in hex, as packetdrill writes it ("FO 0102030405060708"): the source
 * bytes of the tokens that follow without a space (digits and letters lex apart), 4..16
 * bytes. Nothing (a ',' or '>' next): a cookie request. */
static int parse_fo_cookie(struct parser *p, struct drill_opt *o)
{
	const struct drill_token *t = cur(p);
	if (t->kind != DRILL_TOK_INT && t->kind != DRILL_TOK_IDENT)
		return 0;
	size_t start = t->off, end = t->off + t->len;
	p->i++;
	while ((cur(p)->kind == DRILL_TOK_INT || cur(p)->kind == DRILL_TOK_IDENT) &&
	       !cur(p)->space_before && cur(p)->off == end) {
		end = cur(p)->off + cur(p)->len;
		p->i++;
	}
	size_t n = end - start;
	if (n % 2 || n < 8 || n > 32)
		return error(p, "a Fast Open cookie is 4 to 16 bytes of hex");
	for (size_t i = 0; i < n; i += 2) {
		unsigned v;
		char hex[3] = {p->src[start + i], p->src[start + i + 1], 0};
		if (!isxdigit((unsigned char)hex[0]) || !isxdigit((unsigned char)hex[1]) ||
		    sscanf(hex, "%x", &v) != 1)
			return error(p, "a Fast Open cookie is 4 to 16 bytes of hex");
		o->cookie[i / 2] = (uint8_t)v;
	}
	o->a = (uint32_t)(n / 2);
	return 0;
}

static int parse_option(struct parser *p, struct drill_opt *o)
{
	const struct drill_token *t = cur(p);
	memset(o, 0, sizeof *o);
	if (t->kind != DRILL_TOK_IDENT)
		return error(p, "expected a TCP option");
	p->i++;
	if (!strcmp(t->text, "nop")) {
		o->kind = DRILL_OPT_NOP;
	} else if (!strcmp(t->text, "eol")) {
		o->kind = DRILL_OPT_EOL;
	} else if (!strcmp(t->text, "mss")) {
		o->kind = DRILL_OPT_MSS;
		return expect_u32(p, &o->a);
	} else if (!strcmp(t->text, "wscale")) {
		o->kind = DRILL_OPT_WSCALE;
		return expect_u32(p, &o->a);
	} else if (!strcmp(t->text, "sackOK")) {
		o->kind = DRILL_OPT_SACKOK;
	} else if (!strcmp(t->text, "sack")) {
		o->kind = DRILL_OPT_SACK;
		return parse_sack_blocks(p, o);
	} else if (!strcmp(t->text, "FO") || !strcmp(t->text, "FOEXP")) {
		o->kind = t->text[2] ? DRILL_OPT_FOEXP : DRILL_OPT_FO;
		return parse_fo_cookie(p, o);
	} else if (!strcmp(t->text, "TS")) {
		o->kind = DRILL_OPT_TS;
		if (!is_ident(cur(p), "val"))
			return error(p, "expected 'val' after TS");
		p->i++;
		if (expect_u32(p, &o->a) < 0)
			return -1;
		if (!is_ident(cur(p), "ecr"))
			return error(p, "expected 'ecr'");
		p->i++;
		return expect_u32(p, &o->b);
	} else {
		static const char *const pd[] = {"md5", "exp", "mpcapable", "dss",
						  "add_address", "remove_address", "mp_join_syn",
						  "mp_join_syn_ack", "mp_join_ack", "mp_fail",
						  "mp_fastclose", "mp_prio", "acc_ecn", "AccECN0",
						  "AccECN1", NULL};
		p->i--;
		for (int i = 0; pd[i]; i++)
			if (!strcmp(t->text, pd[i]))
				return unsupported(p, "TCP option (MD5, MPTCP, AccECN)");
		return error(p, "unsupported TCP option");
	}
	return 0;
}

static int parse_options(struct parser *p, struct drill_packet *pk)
{
	if (cur(p)->kind == DRILL_TOK_ELLIPSIS) {
		p->i++;
		pk->opts_mode = DRILL_OPTS_ANY;
		return expect_punct(p, '>');
	}
	pk->opts_mode = DRILL_OPTS_LIST;
	if (accept_punct(p, '>'))
		return 0;
	for (;;) {
		if (pk->nopts == DRILL_MAX_OPTS)
			return error(p, "too many TCP options");
		if (parse_option(p, &pk->opts[pk->nopts++]) < 0)
			return -1;
		if (accept_punct(p, '>'))
			return 0;
		if (expect_punct(p, ',') < 0)
			return -1;
	}
}

static int parse_seq(struct parser *p, struct drill_packet *pk)
{
	if (cur(p)->kind != DRILL_TOK_INT)
		return 0;
	pk->has_seq = true;
	if (expect_u32(p, &pk->seq) < 0 || expect_punct(p, ':') < 0 ||
	    expect_u32(p, &pk->end) < 0 || expect_punct(p, '(') < 0 ||
	    expect_u32(p, &pk->len) < 0 || expect_punct(p, ')') < 0)
		return -1;
	if (pk->end - pk->seq != pk->len)
		return error(p, "seq:end(len) does not add up");
	return 0;
}

/* ---- ICMP (packetdrill's icmp_packet.c names) ---- */

struct icmp_name {
	const char *name;
	uint8_t v;
};

static const struct icmp_name icmp_types[] = {
	{"echo_reply", 0}, {"unreachable", 3}, {"source_quench", 4}, {"redirect", 5},
	{"echo_request", 8}, {"time_exceeded", 11}, {"parameter_problem", 12}, {NULL, 0}};

static const struct icmp_name unreach_codes[] = {
	{"net_unreachable", 0}, {"host_unreachable", 1}, {"protocol_unreachable", 2},
	{"port_unreachable", 3}, {"frag_needed", 4}, {"source_route_failed", 5},
	{"net_unknown", 6}, {"host_unknown", 7}, {"source_host_isolated", 8},
	{"net_prohibited", 9}, {"host_prohibited", 10}, {"net_unreachable_for_tos", 11},
	{"host_unreachable_for_tos", 12}, {"packet_filtered", 13}, {"precedence_violation", 14},
	{"precedence_cutoff", 15}, {NULL, 0}};

/* A name from the table, or "type_N" / "code_N". */
static bool icmp_lookup(const struct icmp_name *t, const char *prefix, const char *s,
			uint8_t *v)
{
	unsigned n;
	char extra;
	size_t pl = strlen(prefix);
	if (!strncmp(s, prefix, pl) && sscanf(s + pl, "%u%c", &n, &extra) == 1 && n < 256) {
		*v = (uint8_t)n;
		return true;
	}
	for (; t && t->name; t++)
		if (!strcmp(t->name, s)) {
			*v = t->v;
			return true;
		}
	return false;
}

static int parse_icmp(struct parser *p, struct drill_packet *pk)
{
	pk->icmp = true;
	p->i++;
	if (!pk->inbound)
		return unsupported(p, "outbound ICMP");
	if (cur(p)->kind != DRILL_TOK_IDENT ||
	    !icmp_lookup(icmp_types, "type_", cur(p)->text, &pk->icmp_type))
		return error(p, "expected an ICMP type (unreachable, time_exceeded, ...)");
	p->i++;
	if (cur(p)->kind == DRILL_TOK_IDENT && strcmp(cur(p)->text, "mtu")) {
		if (!icmp_lookup(pk->icmp_type == 3 ? unreach_codes : NULL, "code_", cur(p)->text,
				 &pk->icmp_code))
			return error(p, "unknown ICMP code");
		p->i++;
	}
	if (is_ident(cur(p), "mtu")) {
		uint32_t mtu;
		p->i++;
		if (expect_u32(p, &mtu) < 0)
			return -1;
		if (mtu > 65535 || pk->icmp_type != 3 || pk->icmp_code != 4)
			return error(p, "mtu goes with unreachable frag_needed, up to 65535");
		pk->has_mtu = true;
		pk->mtu = (uint16_t)mtu;
	}
	if (accept_punct(p, '[')) {
		if (cur(p)->kind != DRILL_TOK_INT)
			return error(p, "expected seq:end(len) of the segment the ICMP is about");
		if (parse_seq(p, pk) < 0 || expect_punct(p, ']') < 0)
			return -1;
	}
	return 0;
}

/* The ECN field of the IP header (RFC 3168 §5): [noecn] [ect0] [ect1] [ce], or [ect01] for
 * "either ECT codepoint" in an expectation. */
static int parse_ecn(struct parser *p, struct drill_packet *pk)
{
	static const struct { const char *name; uint8_t v; } marks[] = {
		{"noecn", DRILL_ECN_NOT_ECT}, {"ect1", DRILL_ECN_ECT1}, {"ect0", DRILL_ECN_ECT0},
		{"ce", DRILL_ECN_CE}, {"ect01", DRILL_ECN_ECT01}};
	p->i++;
	for (size_t k = 0; k < sizeof marks / sizeof marks[0]; k++)
		if (is_ident(cur(p), marks[k].name)) {
			pk->has_ecn = true;
			pk->ecn = marks[k].v;
			p->i++;
			if (pk->inbound && pk->ecn == DRILL_ECN_ECT01)
				return error(p, "[ect01] only goes with an outbound packet");
			return expect_punct(p, ']');
		}
	return error(p, "expected an ECN mark: noecn, ect0, ect1, ce, ect01");
}

/* (tos N, ttl N, df, nodf): IPv4 header fields of a packet. packetdrill writes the TOS so;
 * ttl, df and nodf are synack's, to observe IP_TTL and IP_MTU_DISCOVER. */
static int parse_ip_info(struct parser *p, struct drill_packet *pk)
{
	p->i++;
	for (;;) {
		uint32_t v;
		if (is_ident(cur(p), "tos") || is_ident(cur(p), "ttl")) {
			bool tos = is_ident(cur(p), "tos");
			p->i++;
			if (expect_u32(p, &v) < 0)
				return -1;
			if (v > 255)
				return error(p, "a tos or ttl goes from 0 to 255");
			if (tos)
				pk->has_tos = true, pk->tos = (uint8_t)v;
			else
				pk->has_ttl = true, pk->ttl = (uint8_t)v;
		} else if (is_ident(cur(p), "df") || is_ident(cur(p), "nodf")) {
			pk->df = is_ident(cur(p), "df") ? 1 : 2;
			p->i++;
		} else if (cur(p)->kind == DRILL_TOK_IDENT) {
			return unsupported(p, "IP-level field (flowlabel, ...)");
		} else {
			return error(p, "expected tos N, ttl N, df or nodf");
		}
		if (accept_punct(p, ')'))
			return 0;
		if (expect_punct(p, ',') < 0)
			return -1;
	}
}

static int parse_packet(struct parser *p, struct drill_packet *pk)
{
	pk->inbound = is_punct(cur(p), '<');
	p->i++;
	if (is_ident(cur(p), "port") && ahead(p, 1)->kind == DRILL_TOK_INT) {
		uint32_t port;
		p->i++;
		if (expect_u32(p, &port) < 0)
			return -1;
		if (port == 0 || port > 65535)
			return error(p, "bad port");
		pk->port = (int)port;
	}
	if (is_punct(cur(p), '[') && parse_ecn(p, pk) < 0)
		return -1;
	if (is_ident(cur(p), "icmp"))
		return parse_icmp(p, pk);
	if (is_ident(cur(p), "udp"))
		return unsupported(p, "UDP packets");
	if (is_punct(cur(p), '(') && parse_ip_info(p, pk) < 0)
		return -1;
	if (parse_flags(p, &pk->flags) < 0 || parse_seq(p, pk) < 0)
		return -1;
	if (pk->inbound && !pk->has_seq)
		return error(p, "an inbound packet needs seq:end(len)");
	for (;;) {
		if (is_ident(cur(p), "ack")) {
			p->i++;
			pk->has_ack = true;
			if (expect_u32(p, &pk->ack) < 0)
				return -1;
		} else if (is_ident(cur(p), "win")) {
			p->i++;
			pk->has_win = true;
			if (expect_u32(p, &pk->win) < 0)
				return -1;
		} else if (is_ident(cur(p), "urg")) {
			p->i++;
			pk->has_urg = true;
			if (expect_u32(p, &pk->urg) < 0)
				return -1;
		} else {
			break;
		}
	}
	if (accept_punct(p, '<'))
		return parse_options(p, pk);
	return 0;
}

/* ---- expressions ---- */

static struct drill_expr *new_expr(enum drill_expr_kind kind)
{
	struct drill_expr *e = calloc(1, sizeof *e);
	if (!e)
		abort();
	e->kind = kind;
	return e;
}

static void expr_push(struct drill_expr *e, struct drill_expr *item, char *name)
{
	e->items = realloc(e->items, (e->n + 1) * sizeof *e->items);
	e->names = realloc(e->names, (e->n + 1) * sizeof *e->names);
	if (!e->items || !e->names)
		abort();
	e->items[e->n] = item;
	e->names[e->n] = name;
	e->n++;
}

void drill_expr_free(struct drill_expr *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++) {
		drill_expr_free(e->items[i]);
		free(e->names[i]);
	}
	free(e->items);
	free(e->names);
	free(e->text);
	free(e);
}

static struct drill_expr *parse_expr(struct parser *p);

/* Parses "expr {, expr} close" into e; struct fields may be named. */
static int parse_list(struct parser *p, struct drill_expr *e, char close, bool named)
{
	if (accept_punct(p, close))
		return 0;
	for (;;) {
		char *name = NULL;
		if (named && cur(p)->kind == DRILL_TOK_IDENT && is_punct(ahead(p, 1), '=')) {
			name = strdup(cur(p)->text);
			p->i += 2;
		} else if (named && cur(p)->kind == DRILL_TOK_IDENT && is_punct(ahead(p, 1), '(') &&
			   is_punct(ahead(p, 3), ')') && is_punct(ahead(p, 4), '=')) {
			/* msg_iov(1)=[...], msg_control(...)=[...]: the length is not checked */
			name = strdup(cur(p)->text);
			p->i += 5;
		}
		struct drill_expr *item = parse_expr(p);
		if (!item) {
			free(name);
			return -1;
		}
		expr_push(e, item, name);
		if (accept_punct(p, close))
			return 0;
		if (expect_punct(p, ',') < 0)
			return -1;
	}
}

static struct drill_expr *parse_primary(struct parser *p)
{
	const struct drill_token *t = cur(p);
	struct drill_expr *e = NULL;
	if (t->kind == DRILL_TOK_INT || (is_punct(t, '-') && ahead(p, 1)->kind == DRILL_TOK_INT)) {
		bool neg = accept_punct(p, '-');
		e = new_expr(DRILL_EX_INT);
		e->ival = neg ? -(int64_t)cur(p)->ival : (int64_t)cur(p)->ival;
		p->i++;
		return e;
	}
	if (t->kind == DRILL_TOK_ELLIPSIS) {
		p->i++;
		return new_expr(DRILL_EX_ELLIPSIS);
	}
	if (t->kind == DRILL_TOK_STRING) {
		e = new_expr(DRILL_EX_STRING);
		e->text = strdup(t->text);
		p->i++;
		return e;
	}
	if (t->kind == DRILL_TOK_IDENT) {
		p->i++;
		if (!accept_punct(p, '(')) {
			e = new_expr(DRILL_EX_SYMBOL);
			e->text = strdup(t->text);
			return e;
		}
		e = new_expr(DRILL_EX_CALL);
		e->text = strdup(t->text);
	} else if (accept_punct(p, '[')) {
		e = new_expr(DRILL_EX_ARRAY);
	} else if (accept_punct(p, '{')) {
		e = new_expr(DRILL_EX_STRUCT);
	} else {
		error(p, "expected an argument");
		return NULL;
	}
	char close = e->kind == DRILL_EX_ARRAY ? ']' : e->kind == DRILL_EX_STRUCT ? '}' : ')';
	if (parse_list(p, e, close, e->kind == DRILL_EX_STRUCT) < 0) {
		drill_expr_free(e);
		return NULL;
	}
	return e;
}

static struct drill_expr *parse_expr(struct parser *p)
{
	struct drill_expr *e = parse_primary(p);
	while (e && accept_punct(p, '|')) {
		struct drill_expr *rhs = parse_primary(p);
		if (!rhs) {
			drill_expr_free(e);
			return NULL;
		}
		struct drill_expr *o = new_expr(DRILL_EX_OR);
		expr_push(o, e, NULL);
		expr_push(o, rhs, NULL);
		e = o;
	}
	return e;
}

/* ---- system calls ---- */

/* Skips "(free text)" after a return value, e.g. "(Connection refused)". */
static int skip_paren_text(struct parser *p)
{
	int line = p->t[p->i - 1].line;
	if (!is_punct(cur(p), '(') || cur(p)->line != line)
		return 0;
	int depth = 0;
	do {
		if (cur(p)->kind == DRILL_TOK_EOF)
			return error(p, "unterminated '(' after the return value");
		if (is_punct(cur(p), '('))
			depth++;
		else if (is_punct(cur(p), ')'))
			depth--;
		p->i++;
	} while (depth > 0);
	return 0;
}

static int parse_return(struct parser *p, struct drill_syscall *sc)
{
	if (expect_punct(p, '=') < 0)
		return -1;
	if (cur(p)->kind == DRILL_TOK_ELLIPSIS) {
		p->i++;
		sc->ret_any = true;
		return 0;
	}
	bool neg = accept_punct(p, '-');
	uint64_t v = 0;
	if (expect_int(p, &v) < 0)
		return -1;
	sc->ret = neg ? -(int64_t)v : (int64_t)v;
	if (sc->ret == -1 && cur(p)->kind == DRILL_TOK_IDENT) {
		int64_t err;
		if (!drill_symbol_value(cur(p)->text, &err) || err <= 0 || err > 4095)
			return error(p, "unknown errno name");
		sc->err = (int)err;
		sc->err_name = strdup(cur(p)->text);
		p->i++;
	}
	return skip_paren_text(p);
}

static int parse_syscall(struct parser *p, struct drill_syscall *sc)
{
	sc->name = strdup(cur(p)->text);
	p->i++;
	if (expect_punct(p, '(') < 0)
		return -1;
	if (!accept_punct(p, ')')) {
		for (;;) {
			if (sc->nargs == DRILL_MAX_ARGS)
				return error(p, "too many arguments");
			sc->args[sc->nargs] = parse_expr(p);
			if (!sc->args[sc->nargs++])
				return -1;
			if (accept_punct(p, ')'))
				break;
			if (expect_punct(p, ',') < 0)
				return -1;
		}
	}
	return parse_return(p, sc);
}

/* ---- events ---- */

static struct drill_event *new_event(struct parser *p)
{
	struct drill_script *s = p->out;
	if (s->nev == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		s->ev = realloc(s->ev, p->cap * sizeof *s->ev);
		if (!s->ev)
			abort();
	}
	struct drill_event *ev = &s->ev[s->nev++];
	memset(ev, 0, sizeof *ev);
	return ev;
}

static int parse_event(struct parser *p)
{
	size_t first = p->i;
	struct drill_event *ev = new_event(p);
	ev->line = cur(p)->line;
	ev->time_kind = DRILL_TIME_REL; /* an event without a time happens at +0 */
	bool timed = at_time(p);
	if (timed && parse_time(p, ev) < 0)
		return -1;
	const struct drill_token *t = cur(p);
	int rc;
	if (t->kind == DRILL_TOK_SHELL || t->kind == DRILL_TOK_CODE) {
		ev->kind = t->kind == DRILL_TOK_SHELL ? DRILL_EV_SHELL : DRILL_EV_CODE;
		ev->shell = strdup(t->text);
		p->i++;
		rc = 0;
	} else if (!timed) {
		return error(p, "expected an event time");
	} else if (is_punct(t, '<') || is_punct(t, '>')) {
		ev->kind = DRILL_EV_PACKET;
		rc = parse_packet(p, &ev->pkt);
	} else if (t->kind == DRILL_TOK_IDENT && is_punct(ahead(p, 1), '(')) {
		ev->kind = DRILL_EV_SYSCALL;
		rc = parse_syscall(p, &ev->sc);
	} else {
		return error(p, "expected a packet, a system call or a `command`");
	}
	if (rc < 0)
		return -1;
	if (ev->has_end && ev->kind != DRILL_EV_SYSCALL) {
		p->i = first;
		return error(p, "only a system call can have an end time (...)");
	}
	const struct drill_token *last = &p->t[p->i - 1];
	size_t from = p->t[first].off;
	ev->text = strndup(p->src + from, last->off + last->len - from);
	return 0;
}

int drill_parse(const char *path, const char *src, size_t len, struct drill_script *out,
		struct drill_buf *err)
{
	struct drill_tokens toks;
	memset(out, 0, sizeof *out);
	out->path = path;
	struct drill_buf lexerr = {0};
	if (drill_lex(src, len, &toks, &lexerr) < 0) {
		drill_buf_printf(err, "%s:%s", path, lexerr.p + 5); /* "line N: x" -> "path:N: x" */
		drill_buf_free(&lexerr);
		return -1;
	}
	struct parser p = {.path = path, .src = src, .t = toks.v, .n = toks.n, .err = err,
			   .out = out};
	int rc = 0;
	size_t ocap = 0;
	while (cur(&p)->kind != DRILL_TOK_EOF) {
		if (cur(&p)->kind == DRILL_TOK_OPTION) {
			if (out->noptions == ocap) {
				ocap = ocap ? ocap * 2 : 8;
				out->options = realloc(out->options, ocap * sizeof *out->options);
				if (!out->options)
					abort();
			}
			out->options[out->noptions++] = strdup(cur(&p)->text);
			p.i++;
			continue;
		}
		if (parse_event(&p) < 0) {
			rc = -1;
			break;
		}
	}
	drill_tokens_free(&toks);
	if (rc < 0) {
		drill_script_free(out);
		if (p.unsupported)
			rc = -2;
	}
	return rc;
}

static void free_event(struct drill_event *ev)
{
	free(ev->text);
	free(ev->shell);
	free(ev->sc.name);
	free(ev->sc.err_name);
	for (int i = 0; i < ev->sc.nargs; i++)
		drill_expr_free(ev->sc.args[i]);
}

void drill_script_free(struct drill_script *s)
{
	for (size_t i = 0; i < s->nev; i++)
		free_event(&s->ev[i]);
	free(s->ev);
	for (size_t i = 0; i < s->noptions; i++)
		free(s->options[i]);
	free(s->options);
	s->ev = NULL;
	s->nev = 0;
	s->options = NULL;
	s->noptions = 0;
}
