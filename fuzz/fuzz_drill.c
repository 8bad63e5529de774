/* Fuzz target: the packetdrill-language interpreter (src/drill): lexer, parser and runner.
 *
 * The input is a script. Invariants: the lexer and the parser accept or reject it with a
 * message, never crash or read outside it; what the parser accepts is within its own bounds
 * (options, arguments, known event kinds, lines inside the script); and the runner, which
 * drives a whole stack on a virtual clock, ends with PASS, FAIL or SKIP — FAIL and SKIP
 * with a message — and frees everything (LeakSanitizer checks). */
#include "fuzz.h"

#include "drill/drill.h"

static void check_script(const struct drill_script *s, int lines)
{
	for (size_t i = 0; i < s->nev; i++) {
		const struct drill_event *e = &s->ev[i];
		FUZZ_ASSERT(e->kind >= DRILL_EV_PACKET && e->kind <= DRILL_EV_CODE, "event kind %d",
			    (int)e->kind);
		FUZZ_ASSERT(e->line >= 1 && e->line <= lines, "event on line %d of %d", e->line,
			    lines);
		if (e->kind == DRILL_EV_PACKET)
			FUZZ_ASSERT(e->pkt.nopts >= 0 && e->pkt.nopts <= DRILL_MAX_OPTS,
				    "%d options", e->pkt.nopts);
		if (e->kind == DRILL_EV_SYSCALL)
			FUZZ_ASSERT(e->sc.nargs >= 0 && e->sc.nargs <= DRILL_MAX_ARGS && e->sc.name,
				    "syscall with %d arguments", e->sc.nargs);
	}
}

int synack_fuzz_drill(const uint8_t *data, size_t len);
int synack_fuzz_drill(const uint8_t *data, size_t len)
{
	if (len > 4096)
		return 0; /* scripts are small; keep each run short */
	char *src = malloc(len + 1);
	FUZZ_ASSERT(src != NULL, "out of memory");
	memcpy(src, data, len);
	src[len] = '\0';
	int lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += src[i] == '\n';

	struct drill_tokens toks = {0};
	struct drill_buf err = {0};
	if (drill_lex(src, len, &toks, &err) == 0)
		drill_tokens_free(&toks);
	else
		FUZZ_ASSERT(err.len > 0, "lexer failed without a message");
	drill_buf_free(&err);

	struct drill_script s;
	memset(&s, 0, sizeof(s));
	int rc = drill_parse("fuzz.pkt", src, len, &s, &err);
	FUZZ_ASSERT(rc == 0 || rc == -1 || rc == -2, "parse returned %d", rc);
	if (rc == 0)
		check_script(&s, lines);
	else
		FUZZ_ASSERT(err.len > 0, "parse failed (%d) without a message", rc);
	if (rc == 0)
		drill_script_free(&s);
	drill_buf_free(&err);

	struct drill_config cfg;
	drill_config_default(&cfg);
	struct drill_result res;
	enum drill_status st = drill_run_source("fuzz.pkt", src, len, &cfg, &res);
	FUZZ_ASSERT(st == DRILL_PASS || st == DRILL_FAIL || st == DRILL_SKIP, "status %d", (int)st);
	FUZZ_ASSERT(st == res.status, "returned %d, result says %d", (int)st, (int)res.status);
	FUZZ_ASSERT(st == DRILL_PASS || res.msg.len > 0, "status %d without a message", (int)st);
	drill_result_free(&res);
	free(src);
	return 0;
}

#ifndef SYNACK_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	return synack_fuzz_drill(data, len);
}
#endif
