/* synack drill — failure reports, in the script's own notation.
 *
 * A failure reads like this:
 *
 *   tests/drill/x.pkt:12: outbound packet: wrong flags: expected S. but synack sent S
 *     script: +0 > S. 0:0(0) ack 1 <...>
 *     synack: 0.100000 > S 0:0(0) win 65535 <mss 1460,nop,wscale 7>
 *     last segments (script time, script notation):
 *       0.000000 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
 *
 * Only the first failure of a script is reported: later events would run on a state the
 * script did not intend.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill/runner.h"

static void buf_vprintf(struct drill_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			abort();
		b->p = p;
		b->cap = cap;
	}
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void drill_buf_printf(struct drill_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void drill_buf_free(struct drill_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void drill_fmt_time(int64_t us, char *out, size_t cap)
{
	const char *sign = us < 0 ? "-" : "";
	uint64_t a = us < 0 ? (uint64_t)(-us) : (uint64_t)us;
	snprintf(out, cap, "%s%llu.%06llu", sign, (unsigned long long)(a / 1000000),
		 (unsigned long long)(a % 1000000));
}

void drill_fail(struct drill_run *r, const struct drill_event *ev, const char *fmt, ...)
{
	if (r->failed)
		return;
	r->failed = true;
	va_list ap;
	drill_buf_printf(r->msg, "%s:%d: ", r->script->path, ev ? ev->line : 0);
	va_start(ap, fmt);
	buf_vprintf(r->msg, fmt, ap);
	va_end(ap);
	drill_buf_printf(r->msg, "\n");
	if (ev && ev->text)
		drill_buf_printf(r->msg, "  script: %s\n", ev->text);
}

void drill_skip(struct drill_run *r, const struct drill_event *ev, const char *fmt, ...)
{
	if (r->failed)
		return;
	r->failed = true;
	r->skipped = true;
	va_list ap;
	drill_buf_printf(r->msg, "line %d: unsupported: ", ev ? ev->line : 0);
	va_start(ap, fmt);
	buf_vprintf(r->msg, fmt, ap);
	va_end(ap);
}

void drill_fail_detail(struct drill_run *r, const char *fmt, ...)
{
	va_list ap;
	drill_buf_printf(r->msg, "  ");
	va_start(ap, fmt);
	buf_vprintf(r->msg, fmt, ap);
	va_end(ap);
	drill_buf_printf(r->msg, "\n");
}

void drill_history_add(struct drill_run *r, int64_t t, bool inbound, const char *text)
{
	struct drill_hist *h = &r->hist[r->nhist % DRILL_HIST];
	h->t = t;
	snprintf(h->text, sizeof h->text, "%c %s", inbound ? '<' : '>', text);
	r->nhist++;
	if (r->verbose) {
		char ts[32];
		drill_fmt_time(t, ts, sizeof ts);
		drill_logf(r, "%s %s", ts, h->text);
	}
}

void drill_report_finish(struct drill_run *r)
{
	if (!r->failed || r->skipped || r->nhist == 0)
		return;
	drill_buf_printf(r->msg, "  last segments (script time, script notation):\n");
	size_t first = r->nhist > DRILL_HIST ? r->nhist - DRILL_HIST : 0;
	for (size_t i = first; i < r->nhist; i++) {
		const struct drill_hist *h = &r->hist[i % DRILL_HIST];
		char ts[32];
		drill_fmt_time(h->t, ts, sizeof ts);
		drill_buf_printf(r->msg, "    %s %s\n", ts, h->text);
	}
}

void drill_logf(struct drill_run *r, const char *fmt, ...)
{
	if (!r->verbose || !r->log)
		return;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(r->log, fmt, ap);
	va_end(ap);
	drill_buf_printf(r->log, "\n");
}
