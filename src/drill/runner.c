/* synack drill — the runner: a virtual clock and the event loop.
 *
 * The runner drives one synack stack through its public API only: frames in with
 * synack_stack_input(), frames out through cfg.output, time through the step every driver
 * takes (drivers/driver.h: due timers fire, the clock comes to now; the runner's driver has no
 * link, the script's `<` lines are its frames). Script time 0 is DRILL_CLOCK_BASE_US on the
 * stack's clock. Time never runs by itself: it jumps from
 * event to event and, in between, from one of the stack's deadlines to the next, so a 60 s
 * TIME-WAIT costs nothing and every run is exactly reproducible.
 *
 * Event semantics, as packetdrill's run.c:
 * - `<` inbound packet: the clock advances to its time (timers due before it fire), then the
 *   frame is injected. A frame synack sent earlier than tolerance before it and that no `>`
 *   line claimed is an unexpected packet.
 * - `>` outbound packet: the next frame synack sends must match, at the script's time give or
 *   take the tolerance (tolerance_usecs, or tolerance_percent of the time since the previous
 *   event when larger — packetdrill's allowance for timers).
 * - system call: runs at its time; a blocking one may stay pending while later events run.
 * - relative times (`+t`) count from the current time, except that consecutive inbound
 *   packets chain on each other's script times; `*` matches any time.
 * At the end no blocking call may be left pending; frames sent after the last `>` line are
 * not checked (packetdrill's rule).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill/runner.h"

#define MAX_STEPS 1000000

/* The runner's stack declares no link capability: every frame out is complete (csum NONE),
 * as the script's packets are written. */
static void on_output(void *ctx, const uint8_t *frame, const struct synack_frame_meta *meta)
{
	struct drill_run *r = ctx;
	size_t len = meta->len;
	if (r->nout == r->capout) {
		r->capout = r->capout ? r->capout * 2 : 16;
		r->outq = realloc(r->outq, r->capout * sizeof *r->outq);
		if (!r->outq)
			abort();
	}
	struct drill_frame *f = &r->outq[r->nout++];
	f->t = r->now;
	f->len = len;
	f->data = malloc(len ? len : 1);
	if (!f->data)
		abort();
	memcpy(f->data, frame, len);
	drill_packet_learn(r, frame, len);
	char text[240];
	drill_packet_format(r, frame, len, false, text, sizeof text);
	drill_history_add(r, r->now, false, text);
}

static void pop_frame(struct drill_run *r)
{
	free(r->outq[0].data);
	memmove(r->outq, r->outq + 1, (r->nout - 1) * sizeof *r->outq);
	r->nout--;
}

int64_t drill_tolerance(const struct drill_run *r, int64_t t)
{
	int64_t tol = r->cfg.tolerance_us;
	int64_t delta = t - r->prev_t;
	int64_t dyn = (int64_t)(r->cfg.tolerance_pct / 100.0 * (double)(delta > 0 ? delta : 0));
	return dyn > tol ? dyn : tol;
}

/* ---- the clock ---- */

static int64_t next_deadline(const struct drill_run *r)
{
	uint64_t d = synack_driver_next(&r->drv);
	int64_t s = d == SYNACK_TIME_NEVER || d < DRILL_CLOCK_BASE_US
			    ? (d == SYNACK_TIME_NEVER ? INT64_MAX : 0)
			    : (int64_t)(d - DRILL_CLOCK_BASE_US);
	int64_t p = drill_syscall_deadline(r);
	return p < s ? p : s;
}

static void step(struct drill_run *r, int64_t t)
{
	if (t > r->now)
		r->now = t;
	(void)synack_driver_step(&r->drv, DRILL_CLOCK_BASE_US + (uint64_t)r->now);
	drill_syscall_retry(r);
}

/* Advances to t, firing every deadline on the way at its own time. */
void drill_advance(struct drill_run *r, int64_t t)
{
	for (int n = 0; !r->failed; n++) {
		int64_t d = next_deadline(r);
		if (d > t)
			break;
		if (n == MAX_STEPS) {
			drill_fail(r, r->ev, "the stack keeps a deadline at %lld us that never passes",
				   (long long)d);
			return;
		}
		step(r, d);
	}
	if (!r->failed)
		step(r, t);
}

/* ---- events ---- */

static void resolve_time(struct drill_run *r, const struct drill_event *ev, int64_t *t,
			 int64_t *lo, int64_t *hi)
{
	bool inbound = ev->kind == DRILL_EV_PACKET && ev->pkt.inbound;
	int64_t base = r->prev_inbound && inbound ? r->prev_t : r->now;
	int64_t end = 0;
	*t = r->now;
	switch (ev->time_kind) {
	case DRILL_TIME_ABS: *t = ev->t_us; break;
	case DRILL_TIME_REL: *t = base + ev->t_us; break;
	case DRILL_TIME_ANY: *t = r->now; break;
	case DRILL_TIME_ABS_RANGE: *t = ev->t_us; end = ev->t_end_us; break;
	case DRILL_TIME_REL_RANGE: *t = base + ev->t_us; end = base + ev->t_end_us; break;
	}
	bool rel = ev->time_kind == DRILL_TIME_REL || ev->time_kind == DRILL_TIME_REL_RANGE;
	r->ev_end = ev->has_end ? ((rel || ev->end_rel) ? base + ev->end_us : ev->end_us) : *t;
	int64_t tol = drill_tolerance(r, *t);
	bool range = ev->time_kind == DRILL_TIME_ABS_RANGE || ev->time_kind == DRILL_TIME_REL_RANGE;
	*lo = *t - tol;
	*hi = (range ? end : *t) + tol;
	if (ev->time_kind == DRILL_TIME_ANY) {
		*lo = INT64_MIN / 2;
		*hi = r->now + 3600 * 1000000LL;
	}
}

static void fail_unexpected(struct drill_run *r, const struct drill_event *ev,
			    const struct drill_frame *f, const char *when)
{
	char text[240], ts[32];
	drill_packet_format(r, f->data, f->len, false, text, sizeof text);
	drill_fmt_time(f->t, ts, sizeof ts);
	drill_fail(r, ev, "unexpected outbound packet: synack sent `> %s` at %s sec %s", text, ts,
		   when);
}

/* A frame sent well before time t that no `>` line claimed is unexpected — when a later `>`
 * line exists: packetdrill would hand the frame to that line, which could not match it. After
 * the last `>` line, frames are not checked (as in packetdrill, so Linux scripts that do not
 * list their final ACKs run unchanged). */
static void check_unexpected(struct drill_run *r, const struct drill_event *ev, int64_t t)
{
	bool checked = r->cfg.strict || ev < r->last_out;
	if (r->nout > 0 && checked && r->outq[0].t < t - r->cfg.tolerance_us)
		fail_unexpected(r, ev, &r->outq[0], "that the script does not expect before this line");
}

static void run_outbound(struct drill_run *r, const struct drill_event *ev, int64_t t,
			 int64_t lo, int64_t hi)
{
	for (int n = 0; r->nout == 0 && !r->failed && n < MAX_STEPS; n++) {
		int64_t d = next_deadline(r);
		if (d > hi)
			break;
		step(r, d);
	}
	if (r->failed)
		return;
	char ts[32], hs[32];
	drill_fmt_time(t, ts, sizeof ts);
	drill_fmt_time(hi, hs, sizeof hs);
	if (r->nout == 0) {
		drill_fail(r, ev, "missing outbound packet: expected at %s sec, but synack sent "
			   "nothing by %s sec", ts, hs);
		return;
	}
	size_t run = drill_packet_run_length(r, &ev->pkt);
	for (int n = 0; run == 0 && !r->failed && n < MAX_STEPS; n++) {
		int64_t d = next_deadline(r);
		if (d > hi)
			break;
		step(r, d);
		run = drill_packet_run_length(r, &ev->pkt);
	}
	if (r->failed)
		return;
	run = run ? run : 1;
	uint32_t offset = 0;
	for (size_t k = 0; k < run; k++) {
		struct drill_frame f = r->outq[0];
		struct drill_event part;
		if (run > 1)
			drill_packet_part(ev, &f, offset, k + 1 == run, &part);
		if (drill_packet_match(r, run > 1 ? &part : ev, &f) < 0)
			return;
		if (ev->time_kind != DRILL_TIME_ANY && (f.t < lo || f.t > hi)) {
			char as[32], tol[32];
			drill_fmt_time(f.t, as, sizeof as);
			drill_fmt_time(drill_tolerance(r, t), tol, sizeof tol);
			drill_fail(r, ev, "timing error: expected outbound packet at %s sec but synack "
				   "sent it at %s sec (tolerance %s sec)", ts, as, tol);
			return;
		}
		offset += run > 1 ? part.pkt.len : 0;
		pop_frame(r);
	}
}

/* Runs the pending blocking call to completion, or fails if it does not return in time. */
static void finish_pending(struct drill_run *r)
{
	struct drill_pending *pd = &r->pend;
	for (int n = 0; pd->active && !r->failed && n < MAX_STEPS; n++) {
		int64_t d = next_deadline(r);
		if (d > pd->hi)
			break;
		step(r, d);
	}
	if (pd->active && !r->failed) {
		char hs[32];
		drill_fmt_time(pd->hi, hs, sizeof hs);
		pd->active = false;
		drill_fail(r, pd->ev, "%s(): blocking call did not return by %s sec",
			   pd->ev->sc.name, hs);
	}
}

static void run_shell(struct drill_run *r, const struct drill_event *ev)
{
	struct synack_config cfg;
	struct drill_buf why = {0}, notes = {0};
	synack_stack_get_config(r->stack, &cfg);
	struct drill_shell sh = {.cfg = &cfg, .sizes_allowed = true, .dir = r->dir, .r = r,
				 .notes = &notes};
	int rc = drill_shell_run(&sh, ev->shell, &why);
	if (notes.p)
		drill_logf(r, "%s", notes.p);
	if (rc == 1)
		synack_stack_set_tunables(r->stack, &cfg);
	else if (rc == 0)
		drill_skip(r, ev, "%s", why.p ? why.p : "shell command");
	else
		drill_fail(r, ev, "%s", why.p ? why.p : "shell command failed");
	drill_buf_free(&why);
	drill_buf_free(&notes);
}

static void run_event(struct drill_run *r, const struct drill_event *ev)
{
	int64_t t = 0, lo = 0, hi = 0;
	r->ev = ev;
	resolve_time(r, ev, &t, &lo, &hi);
	if (ev->time_kind == DRILL_TIME_ABS && t < r->prev_t) {
		drill_fail(r, ev, "time goes backward in the script");
		return;
	}
	drill_logf(r, "line %d: %s", ev->line, ev->text);
	bool outbound = ev->kind == DRILL_EV_PACKET && !ev->pkt.inbound;
	if (ev->kind == DRILL_EV_SYSCALL && r->pend.active)
		finish_pending(r);
	if (outbound) {
		run_outbound(r, ev, t, lo, hi);
	} else {
		drill_advance(r, t);
		check_unexpected(r, ev, t);
	}
	if (r->failed)
		return;
	if (ev->kind == DRILL_EV_PACKET && ev->pkt.inbound)
		drill_packet_inject(r, ev);
	else if (ev->kind == DRILL_EV_SYSCALL)
		drill_syscall_run(r, ev);
	else if (ev->kind == DRILL_EV_SHELL)
		run_shell(r, ev);
	else if (ev->kind == DRILL_EV_CODE)
		drill_code_record(r, ev);
	drill_syscall_retry(r);
	r->prev_t = ev->time_kind == DRILL_TIME_ANY ? r->now : t;
	r->prev_inbound = ev->kind == DRILL_EV_PACKET && ev->pkt.inbound;
}

/* ---- set-up ---- */

/* A getsockopt(TCP_INFO) naming a field synack does not report (tcpi_ca_state, ...) cannot be
 * checked: the script is skipped rather than failed. Returns the field or NULL. */
static const char *unknown_tcp_info_field(const struct drill_event *ev)
{
	const struct drill_syscall *sc = &ev->sc;
	if (strcmp(sc->name, "getsockopt") || sc->nargs < 4 || sc->args[2]->kind != DRILL_EX_SYMBOL ||
	    strcmp(sc->args[2]->text, "TCP_INFO") || sc->args[3]->kind != DRILL_EX_STRUCT)
		return NULL;
	for (size_t k = 0; k < sc->args[3]->n; k++) {
		const char *f = sc->args[3]->names[k];
		if (f && !drill_tcp_info_field_known(f))
			return f;
	}
	return NULL;
}

/* A shell line in the prescan: configuration is applied to cfg (buffer sizes only before the
 * first system call), probes are only checked. Returns PASS, SKIP or FAIL (reason in msg). */
static enum drill_status prescan_shell(const char *text, int line, const char *dir,
				       bool before_sockets, struct synack_config *cfg,
				       struct drill_buf *msg)
{
	struct synack_config scratch = *cfg;
	struct drill_buf why = {0};
	struct drill_shell sh = {.cfg = before_sockets ? cfg : &scratch,
				 .sizes_allowed = before_sockets, .dir = dir};
	int rc = drill_shell_run(&sh, text, &why);
	if (rc != 1 && line > 0)
		drill_buf_printf(msg, "line %d: %s%s", line, rc == 0 ? "unsupported: " : "",
				 why.p ? why.p : "?");
	else if (rc != 1)
		drill_buf_printf(msg, "--init_scripts: %s%s", rc == 0 ? "unsupported: " : "",
				 why.p ? why.p : "?");
	drill_buf_free(&why);
	return rc == 1 ? DRILL_PASS : rc == 0 ? DRILL_SKIP : DRILL_FAIL;
}

/* --init_scripts=a,b: each runs as a shell line before the script. */
static enum drill_status init_scripts(const struct drill_config *c, const char *dir,
				      struct synack_config *cfg, struct drill_buf *msg)
{
	char list[sizeof c->init_scripts];
	snprintf(list, sizeof list, "%s", c->init_scripts);
	enum drill_status st = DRILL_PASS;
	for (char *save = NULL, *f = strtok_r(list, ",", &save); f && st == DRILL_PASS;
	     f = strtok_r(NULL, ",", &save))
		st = prescan_shell(f, 0, dir, true, cfg, msg);
	return st;
}

/* Decides SKIPPED before anything runs, and applies the sysctls that precede the first
 * system call to the stack's initial configuration (buffer sizes can only be set there). */
static enum drill_status prescan(const struct drill_script *s, const struct drill_config *c,
				 const char *dir, struct synack_config *cfg, struct drill_buf *msg)
{
	if (c->ipv6) {
		drill_buf_printf(msg, "IPv6 scripts are not supported (synack speaks IPv4)");
		return DRILL_SKIP;
	}
	enum drill_status st = init_scripts(c, dir, cfg, msg);
	bool before_sockets = true;
	for (size_t i = 0; i < s->nev && st == DRILL_PASS; i++) {
		const struct drill_event *ev = &s->ev[i];
		char name[64];
		if (ev->kind == DRILL_EV_SYSCALL)
			before_sockets = false;
		if (ev->kind == DRILL_EV_SYSCALL && !drill_syscall_supported(ev->sc.name)) {
			drill_buf_printf(msg, "line %d: unsupported: system call %s()", ev->line,
					 ev->sc.name);
			return DRILL_SKIP;
		}
		const char *field = ev->kind == DRILL_EV_SYSCALL ? unknown_tcp_info_field(ev) : NULL;
		if (ev->kind == DRILL_EV_CODE)
			field = drill_code_unknown_field(ev->shell, name, sizeof name);
		if (field) {
			drill_buf_printf(msg, "line %d: unsupported: TCP_INFO field %s", ev->line,
					 field);
			return DRILL_SKIP;
		}
		if (ev->kind == DRILL_EV_SHELL)
			st = prescan_shell(ev->shell, ev->line, dir, before_sockets, cfg, msg);
	}
	return st;
}

static int make_stack(struct drill_run *r, struct synack_config *cfg)
{
	cfg->name = "synack";
	/* Drill scripts speak IPv4 (sin_addr, inet_addr()): the stack has the one address. */
	synack_config_add_addr(cfg, synack_addr_v4(r->cfg.local_ip), 24);
	cfg->seed = 1;
	for (int i = 0; i < 16; i++)
		cfg->secret[i] = (uint8_t)(0x5a ^ (i * 37));
	cfg->output = on_output;
	cfg->output_ctx = r;
	int err = synack_stack_new(&r->stack, cfg);
	if (!err)
		r->drv = (struct synack_driver){.stack = r->stack};
	return err;
}

/* What synack sends after the last `>` line is not checked, as in packetdrill (Linux's
 * scripts end without listing the final ACKs); -v shows it. */
static void finish(struct drill_run *r)
{
	if (r->pend.active)
		finish_pending(r);
	drill_code_finish(r);
	if (!r->failed && r->nout > 0 && r->cfg.strict)
		fail_unexpected(r, r->ev, &r->outq[0], "after the script's last line (--strict)");
	else if (!r->failed && r->nout > 0)
		drill_logf(r, "note: %zu packet(s) sent after the last `>` line, not checked",
			   r->nout);
}

static enum drill_status run_script(const struct drill_script *s, const struct drill_config *c,
				    struct drill_result *res)
{
	struct drill_run *r = calloc(1, sizeof *r);
	if (!r)
		abort();
	r->cfg = *c;
	r->script = s;
	r->def_conn = -1;
	r->msg = &res->msg;
	r->log = &res->log;
	r->verbose = c->verbose;
	r->sut_fd = -1;
	char dir[512];
	const char *slash = strrchr(s->path, '/');
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - s->path) : 1,
		 slash ? s->path : ".");
	r->dir = dir;
	struct synack_config cfg;
	synack_config_default(&cfg);
	enum drill_status st = prescan(s, c, dir, &cfg, &res->msg);
	if (st == DRILL_PASS) {
		int rc = make_stack(r, &cfg);
		if (rc < 0) {
			drill_buf_printf(&res->msg, "%s: cannot create the stack (%d)\n", s->path, rc);
			st = DRILL_FAIL;
		}
	}
	if (st == DRILL_PASS) {
		for (size_t i = 0; i < s->nev; i++)
			if (s->ev[i].kind == DRILL_EV_PACKET && !s->ev[i].pkt.inbound)
				r->last_out = &s->ev[i];
		for (size_t i = 0; i < s->nev && !r->failed; i++)
			run_event(r, &s->ev[i]);
		if (!r->failed)
			finish(r);
		drill_report_finish(r);
		st = r->skipped ? DRILL_SKIP : r->failed ? DRILL_FAIL : DRILL_PASS;
	}
	drill_code_free(r);
	for (int i = 0; i < DRILL_MAX_FDS; i++)
		free(r->fds[i].ep);
	if (r->stack)
		synack_stack_destroy(r->stack);
	for (size_t i = 0; i < r->nout; i++)
		free(r->outq[i].data);
	free(r->outq);
	free(r);
	return st;
}

/* A script may be marked as known not to pass, with the reason, by a line
 *   // drill-skip: REASON
 * (used for behaviour the engine does not have yet; the suite lists them). */
static bool marked_skip(const char *src, size_t len, struct drill_buf *msg)
{
	static const char mark[] = "// drill-skip:";
	int line = 1;
	for (size_t i = 0; i < len; i++) {
		bool bol = i == 0 || src[i - 1] == '\n';
		if (i > 0 && src[i - 1] == '\n')
			line++;
		if (!bol || len - i < sizeof mark - 1 || memcmp(src + i, mark, sizeof mark - 1))
			continue;
		size_t j = i + sizeof mark - 1, e = j;
		while (e < len && src[e] != '\n')
			e++;
		while (j < e && src[j] == ' ')
			j++;
		drill_buf_printf(msg, "line %d: marked to skip: %.*s", line, (int)(e - j), src + j);
		return true;
	}
	return false;
}

enum drill_status drill_run_source(const char *path, const char *src, size_t len,
				   const struct drill_config *cfg, struct drill_result *res)
{
	struct drill_script s;
	struct drill_config c = *cfg;
	memset(res, 0, sizeof *res);
	if (marked_skip(src, len, &res->msg))
		return res->status = DRILL_SKIP;
	char *text = malloc(len + 1);
	if (!text)
		abort();
	memcpy(text, src, len);
	text[len] = '\0';
	if (drill_preprocess(path, text, len, &c, &res->msg) < 0) {
		free(text);
		drill_buf_printf(&res->msg, "\n");
		return res->status = DRILL_FAIL;
	}
	int prc = drill_parse(path, text, len, &s, &res->msg);
	if (prc < 0) {
		free(text);
		if (prc == -2)
			return res->status = DRILL_SKIP;
		drill_buf_printf(&res->msg, "\n");
		return res->status = DRILL_FAIL;
	}
	for (size_t i = 0; i < s.noptions; i++) {
		struct drill_buf err = {0};
		if (drill_config_option(&c, s.options[i], true, &err) < 0) {
			drill_buf_printf(&res->msg, "%s: %s\n", path, err.p);
			drill_buf_free(&err);
			drill_script_free(&s);
			free(text);
			return res->status = DRILL_FAIL;
		}
	}
	res->status = run_script(&s, &c, res);
	drill_script_free(&s);
	free(text);
	return res->status;
}

enum drill_status drill_run_file(const char *path, const struct drill_config *cfg,
				 struct drill_result *res)
{
	FILE *f = fopen(path, "rb");
	memset(res, 0, sizeof *res);
	if (!f) {
		drill_buf_printf(&res->msg, "%s: cannot open\n", path);
		return res->status = DRILL_FAIL;
	}
	struct drill_buf b = {0};
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		drill_buf_printf(&b, "%.*s", (int)n, chunk);
	fclose(f);
	enum drill_status st = drill_run_source(path, b.p ? b.p : "", b.len, cfg, res);
	drill_buf_free(&b);
	return st;
}

void drill_result_free(struct drill_result *res)
{
	drill_buf_free(&res->msg);
	drill_buf_free(&res->log);
}
