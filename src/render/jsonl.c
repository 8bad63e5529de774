/* The ladder renderer's JSON-lines backend: one object per trace event, for tools and tests.
 *
 *   {"t_us":N,"host":"client","ev":"tx","src":"10.0.0.1:40000","dst":"10.0.0.2:80",
 *    "flags":"S.","seq":N,"ack":N,"win":N,"win_scaled":N,"len":N,"retx":false,
 *    "opts":"mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7","optbytes":"020405b4..."}
 *   ev: tx, rx, drop (adds "reason"), lost, dup, corrupt, reorder (the link's doings);
 *   {"t_us":N,"host":"server","ev":"state","conn":"10.0.0.2:80-10.0.0.1:40000",
 *    "from":"LISTEN","to":"SYN-RECEIVED"}
 *   {"t_us":N,"host":"client","ev":"timer","conn":"...","timer":"retransmit"}
 *   {"t_us":N,"host":"client","ev":"error","conn":"...","errno":"ECONNREFUSED"}
 *   {"t_us":N,"host":"...","ev":"note","note":"..."}  (from a capture's analysis, which may
 *   also add "note" to segments and "uncertain":true to inferred states)
 *
 * seq and ack are the absolute 32-bit values on the wire; win is the raw header field and
 * win_scaled the window it means (scaled by the sender's negotiated shift); opts is tcpdump's
 * notation with absolute SACK edges and optbytes the option bytes as on the wire (both left
 * out when the segment has no options). TX and RX events of a stack's own connection add its
 * congestion state: "cwnd":N,"ssthresh":N (left out while unset),"srtt_us":N,"in_flight":N
 * (TX: as the segment left; RX: as it arrived, before it was processed). Every
 * event is printed, arrivals included: this is the record, the text ladder is the picture.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "render/ladder_backend.h"
#include "render/tcpopts.h"

static int jsonl_open(struct synack_ladder *l, void **state)
{
	*state = NULL;
	return 0;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_conn(FILE *f, const struct synack_trace_event *ev)
{
	char a[SYNACK_ADDR_STRLEN + 8], b[SYNACK_ADDR_STRLEN + 8];
	if (!ev->has_conn)
		return;
	fprintf(f, ",\"conn\":\"%s-%s\"", synack_endpoint_str(&ev->local, a, sizeof a),
		synack_endpoint_str(&ev->remote, b, sizeof b));
}

static void json_segment(FILE *f, const struct synack_ladder_item *it)
{
	char a[SYNACK_ADDR_STRLEN + 8], b[SYNACK_ADDR_STRLEN + 8], text[200], hex[96];
	fprintf(f, ",\"src\":\"%s\",\"dst\":\"%s\",\"flags\":\"%s\",\"seq\":%u,\"ack\":%u,"
		   "\"win\":%u,\"win_scaled\":%u,\"len\":%zu,\"retx\":%s",
		synack_endpoint_str(&it->src, a, sizeof a), synack_endpoint_str(&it->dst, b, sizeof b),
		it->flags, it->seg.seq, it->seg.ack, it->seg.win, it->win_scaled, it->seg.len,
		it->retx ? "true" : "false");
	if (!it->optlen)
		return;
	synack_tcp_opts_str(it->optbytes, it->optlen, SYNACK_OPTS_FULL, NULL, text, sizeof text);
	size_t n = strlen(text);
	if (n >= 2) { /* without the brackets */
		text[n - 1] = '\0';
		fputs(",\"opts\":", f);
		json_str(f, text + 1);
	}
	synack_hex_str(it->optbytes, it->optlen, hex, sizeof hex);
	fprintf(f, ",\"optbytes\":\"%s\"", hex);
}

/* The tracing stack's congestion state (TX: as the segment left; RX: as it arrived, before
 * it was processed); ssthresh is left out while it is unset (infinite). */
static void json_cc(FILE *f, const struct synack_trace_event *ev)
{
	fprintf(f, ",\"cwnd\":%u", ev->cwnd);
	if (ev->ssthresh != UINT32_MAX)
		fprintf(f, ",\"ssthresh\":%u", ev->ssthresh);
	fprintf(f, ",\"srtt_us\":%u,\"in_flight\":%u", ev->srtt_us, ev->in_flight);
}

static void jsonl_item(struct synack_ladder *l, void *state, const struct synack_ladder_item *it)
{
	FILE *f = synack_ladder_opts_of(l)->out;
	const struct synack_trace_event *ev = it->ev;
	char ebuf[16];
	fprintf(f, "{\"t_us\":%llu,\"host\":", (unsigned long long)ev->t_us);
	json_str(f, ev->host);
	fprintf(f, ",\"ev\":\"%s\"", synack_trace_kind_name(ev->kind));
	switch (ev->kind) {
	case SYNACK_TRACE_STATE:
		json_conn(f, ev);
		fprintf(f, ",\"from\":\"%s\",\"to\":\"%s\"", synack_state_name(ev->from),
			synack_state_name(ev->to));
		if (ev->uncertain)
			fputs(",\"uncertain\":true", f);
		break;
	case SYNACK_TRACE_TIMER:
		json_conn(f, ev);
		fprintf(f, ",\"timer\":\"%s\"", synack_timer_name(ev->timer));
		break;
	case SYNACK_TRACE_ERROR:
		json_conn(f, ev);
		fprintf(f, ",\"errno\":\"%s\"", synack_errno_name(ev->err, ebuf, sizeof ebuf));
		break;
	default:
		if (it->has_seg)
			json_segment(f, it);
		else if (ev->frame)
			fprintf(f, ",\"frame_len\":%zu", ev->frame_len);
		if (ev->has_cc && it->has_seg)
			json_cc(f, ev);
		if (ev->note) {
			fputs(",\"note\":", f);
			json_str(f, ev->note);
		}
		if (ev->kind == SYNACK_TRACE_DROP)
			fprintf(f, ",\"reason\":\"%s\"", synack_drop_reason_name(ev->reason));
		break;
	}
	if (fputs("}\n", f) == EOF)
		synack_ladder_io_error(l);
}

static void jsonl_finish(struct synack_ladder *l, void *state)
{
}

static void jsonl_close(void *state)
{
}

const struct synack_ladder_backend synack_ladder_jsonl_backend = {
	.name = "jsonl",
	.open = jsonl_open,
	.item = jsonl_item,
	.finish = jsonl_finish,
	.close = jsonl_close,
};
