/* synack drill — %{ python }% assertions.
 *
 * packetdrill's code blocks see the TCP_INFO of the socket under test as it was when the
 * block's line ran, as Python variables with Linux's names (tcpi_rtt, tcpi_snd_cwnd, ...), and
 * run after the script's last line. So does synack drill: each block's line records synack's
 * TCP_INFO of the socket the last system call used (sockopt.c gives the values in Linux's
 * units); at the end, one python3 process runs every block with its values. A failed
 * assertion (or any Python error) fails the script at the block's line. A block naming a
 * tcpi_ field synack does not report makes the script SKIPPED; so does a missing python3.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "drill/runner.h"

struct drill_code {
	const struct drill_event *ev;
	bool have_info;
	struct synack_tcp_info ti;
};

/* A tcpi_ name the block uses that synack cannot give, or NULL. */
const char *drill_code_unknown_field(const char *code, char *buf, size_t cap)
{
	for (const char *s = strstr(code, "tcpi_"); s; s = strstr(s + 1, "tcpi_")) {
		if (s > code && (isalnum((unsigned char)s[-1]) || s[-1] == '_'))
			continue;
		size_t n = 0;
		while (isalnum((unsigned char)s[n]) || s[n] == '_')
			n++;
		snprintf(buf, cap, "%.*s", (int)n, s);
		if (!drill_tcp_info_field_known(buf))
			return buf;
	}
	return NULL;
}

void drill_code_record(struct drill_run *r, const struct drill_event *ev)
{
	struct drill_code *v = realloc(r->code, (r->ncode + 1) * sizeof *v);
	if (!v)
		abort();
	r->code = v;
	struct drill_code *c = &r->code[r->ncode++];
	memset(c, 0, sizeof *c);
	c->ev = ev;
	int fd = drill_live_fd(r, r->sut_fd);
	c->have_info = synack_tcp_info(r->stack, fd, &c->ti) == 0;
}

static void hex(struct drill_buf *b, const char *s)
{
	for (; *s; s++)
		drill_buf_printf(b, "%02x", (unsigned char)*s);
}

/* The program: a runner function, then one call per block with its variables. */
static void program(const struct drill_run *r, struct drill_buf *b)
{
	drill_buf_printf(b,
		"import sys, textwrap\n"
		"def run(line, src, env):\n"
		"    src = textwrap.dedent(bytes.fromhex(src).decode().strip('\\n'))\n"
		"    try:\n"
		"        exec(compile(src.strip() if '\\n' not in src else src, 'line %%d' %% line, 'exec'), env)\n"
		"    except AssertionError as e:\n"
		"        print('%%d\\tassertion failed%%s' %% (line, (': ' + str(e)) if str(e) else ''))\n"
		"        sys.exit(1)\n"
		"    except Exception as e:\n"
		"        print('%%d\\t%%s: %%s' %% (line, type(e).__name__, e))\n"
		"        sys.exit(1)\n");
	for (size_t i = 0; i < r->ncode; i++) {
		const struct drill_code *c = &r->code[i];
		drill_buf_printf(b, "run(%d, '", c->ev->line);
		hex(b, c->ev->shell);
		drill_buf_printf(b, "', {");
		for (size_t k = 0; c->have_info && drill_tcp_info_names[k]; k++) {
			int64_t v = 0;
			drill_tcp_info_value(&c->ti, drill_tcp_info_names[k], &v);
			drill_buf_printf(b, "'%s': %lld, ", drill_tcp_info_names[k], (long long)v);
		}
		drill_buf_printf(b, "})\n");
	}
}

void drill_code_finish(struct drill_run *r)
{
	if (r->ncode == 0 || r->failed)
		return;
	char path[] = "/tmp/synack-drill-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		drill_skip(r, r->code[0].ev, "%%{ }%% block: cannot write a temporary file");
		return;
	}
	struct drill_buf prog = {0};
	program(r, &prog);
	FILE *f = fdopen(fd, "w");
	fputs(prog.p, f);
	fclose(f);
	drill_buf_free(&prog);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "python3 %s 2>&1", path);
	FILE *p = popen(cmd, "r");
	struct drill_buf out = {0};
	char chunk[512];
	size_t n;
	while (p && (n = fread(chunk, 1, sizeof chunk, p)) > 0)
		drill_buf_printf(&out, "%.*s", (int)n, chunk);
	int st = p ? pclose(p) : -1;
	unlink(path);
	int code = st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (code == 127 || code < 0) {
		drill_skip(r, r->code[0].ev, "%%{ }%% block: python3 is not installed");
	} else if (code != 0) {
		int line = out.p ? atoi(out.p) : 0;
		const struct drill_event *ev = r->code[0].ev;
		for (size_t i = 0; i < r->ncode; i++)
			if (r->code[i].ev->line == line)
				ev = r->code[i].ev;
		const char *tab = out.p ? strchr(out.p, '\t') : NULL;
		drill_fail(r, ev, "%%{ }%%: %.*s", tab ? (int)strcspn(tab + 1, "\n") : 40,
			   tab ? tab + 1 : (out.p ? out.p : "python3 failed"));
	}
	drill_buf_free(&out);
}

void drill_code_free(struct drill_run *r)
{
	free(r->code);
	r->code = NULL;
	r->ncode = 0;
}
