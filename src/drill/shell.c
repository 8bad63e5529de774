/* synack drill — the shell lines of the peers' scripts, run without a shell.
 *
 * A backquoted command is never handed to /bin/sh: synack is not a kernel, so the runner
 * understands the few commands the suites use to configure and probe the stack under test,
 * and makes the script SKIPPED for anything else (naming the command):
 *
 *   sysctl [-q] [-w] NAME=VALUE...   the sysctl table (sysctl.c), Linux and FreeBSD names
 *   echo VALUE > /proc/sys/net/...   the same
 *   .../defaults.sh                  Linux's shared init script: read and run when the file
 *                                    exists beside the script, else synack's built-in copy of
 *                                    its settings (below)
 *   ip tcp_metrics flush ...         nothing to flush (synack caches no per-path metrics)
 *   tc qdisc ...                     nothing to configure (synack has no queueing discipline)
 *   sockstat ... | grep ... | wc -l  FreeBSD's state probes: sockstat's listing is produced
 *                                    from synack's connection table, then filtered by grep
 *                                    (-c -q -v -w -i -E) and `wc -l`; a non-zero exit status
 *                                    of the pipeline fails the script, as a failing command
 *                                    fails it in packetdrill
 *   nstat [-a] [-z] [NAME...] | grep  the stack's counters, one "NAME VALUE" line each, as
 *                                    Linux's nstat names them (always absolute values since
 *                                    the script began; zeros only with -z); piped into grep
 *                                    (and wc -l), a non-zero exit status fails the script
 *   true, :                          nothing
 *
 * Commands are separated by newlines, `;` and `&&`; `# comments`, `> /dev/null` and `2>&1`
 * are dropped; `$((a*b+c))` arithmetic is expanded.
 */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill/runner.h"

#define MAX_ARGS 32
#define MAX_STAGES 8

/* The settings of Linux's shared defaults.sh (the selftests' copy), as synack reads them when
 * the script's own copy is not beside it. The commands without a synack meaning (tc, ip
 * tcp_metrics) are left out: they change nothing here. */
static const char builtin_defaults[] =
	"sysctl -q net.ipv4.tcp_rmem=\"4096 540000 15728640\"\n"
	"sysctl -q net.ipv4.tcp_wmem=\"4096 262144 4194304\"\n"
	"sysctl -q net.ipv4.tcp_timestamps=1\n"
	"sysctl -q net.ipv4.tcp_syn_retries=5 net.ipv4.tcp_synack_retries=5\n"
	"sysctl -q net.ipv4.tcp_frto=2\n"
	"sysctl -q net.ipv4.tcp_sack=1 net.ipv4.tcp_dsack=1 net.ipv4.tcp_fack=0\n"
	"sysctl -q net.ipv4.tcp_reordering=3\n"
	"sysctl -q net.ipv4.tcp_congestion_control=cubic\n"
	"sysctl -q net.ipv4.tcp_slow_start_after_idle=0\n"
	"sysctl -q net.ipv4.tcp_early_retrans=4 net.ipv4.tcp_recovery=1\n"
	"sysctl -q net.ipv4.tcp_tso_win_divisor=3\n"
	"sysctl -q net.ipv4.tcp_ecn=0\n"
	"sysctl -q net.ipv4.tcp_pacing_ss_ratio=200 net.ipv4.tcp_pacing_ca_ratio=120\n"
	"sysctl -q net.ipv4.tcp_notsent_lowat=4294967295\n"
	"sysctl -q net.ipv4.tcp_fastopen=0x3\n"
	"sysctl -q net.ipv4.tcp_fastopen_key=a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4\n"
	"sysctl -q net.ipv4.tcp_syncookies=1\n";

struct cmd {
	char *argv[MAX_ARGS];
	int argc;
	char *out; /* `> FILE` other than /dev/null */
};

/* ---- words ---- */

/* Arithmetic of $(( )): integers with + - * / % and parentheses. */
static long arith(const char **s);

static long arith_atom(const char **s)
{
	while (isspace((unsigned char)**s))
		(*s)++;
	if (**s == '(') {
		(*s)++;
		long v = arith(s);
		while (isspace((unsigned char)**s))
			(*s)++;
		if (**s == ')')
			(*s)++;
		return v;
	}
	if (**s == '-') {
		(*s)++;
		return -arith_atom(s);
	}
	char *end;
	long v = strtol(*s, &end, 0);
	*s = end;
	return v;
}

static long arith_term(const char **s)
{
	long v = arith_atom(s);
	for (;;) {
		while (isspace((unsigned char)**s))
			(*s)++;
		char op = **s;
		if (op != '*' && op != '/' && op != '%')
			return v;
		(*s)++;
		long w = arith_atom(s);
		v = op == '*' ? v * w : w == 0 ? 0 : op == '/' ? v / w : v % w;
	}
}

static long arith(const char **s)
{
	long v = arith_term(s);
	for (;;) {
		while (isspace((unsigned char)**s))
			(*s)++;
		char op = **s;
		if (op != '+' && op != '-')
			return v;
		(*s)++;
		long w = arith_term(s);
		v = op == '+' ? v + w : v - w;
	}
}

/* Appends the expansion of "$((...))" at *s to out; returns false if it is not one. */
static bool expand_arith(const char **s, struct drill_buf *out)
{
	if (strncmp(*s, "$((", 3))
		return false;
	const char *e = strstr(*s, "))");
	if (!e)
		return false;
	char expr[128];
	snprintf(expr, sizeof expr, "%.*s", (int)(e - *s - 3), *s + 3);
	const char *p = expr;
	drill_buf_printf(out, "%ld", arith(&p));
	*s = e + 2;
	return true;
}

static void free_cmd(struct cmd *c);

/* Splits one simple command into words: quotes, $(( )), redirections, # comments. On an error
 * (-1) nothing is left allocated in c. */
static int split_words(const char *s, struct cmd *c, struct drill_buf *why)
{
	memset(c, 0, sizeof *c);
	bool redirect = false;
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			return 0;
		struct drill_buf w = {0};
		drill_buf_printf(&w, "%s", "");
		bool to_out = false, to_err = false;
		if (s[0] == '2' && s[1] == '>' && s[2] == '&' && s[3] == '1') {
			s += 4;
			drill_buf_free(&w);
			continue;
		}
		if ((*s == '>' || (s[0] == '2' && s[1] == '>') || (s[0] == '&' && s[1] == '>'))) {
			to_err = *s == '2';
			s += *s == '>' ? 1 : 2;
			if (*s == '>')
				s++;
			to_out = true;
			while (isspace((unsigned char)*s))
				s++;
		}
		char q = 0;
		while (*s && (q || !isspace((unsigned char)*s))) {
			if (q && *s == q) {
				q = 0;
				s++;
			} else if (!q && (*s == '"' || *s == '\'')) {
				q = *s++;
			} else if (q != '\'' && expand_arith(&s, &w)) {
				continue;
			} else if (!q && *s == '>') {
				break;
			} else {
				drill_buf_printf(&w, "%c", *s++);
			}
		}
		if (q) {
			drill_buf_free(&w);
			free_cmd(c);
			drill_buf_printf(why, "unterminated quote in `%s`", s);
			return -1;
		}
		if (to_out) {
			if (!to_err && strcmp(w.p, "/dev/null")) {
				free(c->out); /* a second redirection replaces the first */
				c->out = w.p, redirect = true;
			}
			else
				drill_buf_free(&w);
			continue;
		}
		if (c->argc == MAX_ARGS) {
			drill_buf_free(&w);
			free_cmd(c);
			drill_buf_printf(why, "too many words in a shell command");
			return -1;
		}
		c->argv[c->argc++] = w.p;
	}
	(void)redirect;
}

static void free_cmd(struct cmd *c)
{
	for (int i = 0; i < c->argc; i++)
		free(c->argv[i]);
	free(c->out);
	memset(c, 0, sizeof *c);
}

/* ---- sysctl ---- */

static int run_sysctl(struct drill_shell *sh, struct cmd *c, struct drill_buf *why)
{
	int rc = 1;
	for (int i = 1; i < c->argc && rc == 1; i++) {
		const char *a = c->argv[i];
		if (a[0] == '-') {
			if (strcmp(a, "-q") && strcmp(a, "-w") && strcmp(a, "-e")) {
				drill_buf_printf(why, "sysctl option %s not supported", a);
				return 0;
			}
			continue;
		}
		char *eq = strchr(a, '=');
		if (!eq) {
			drill_buf_printf(why, "sysctl %s: reading a value is not supported", a);
			return 0;
		}
		*eq = '\0';
		rc = drill_sysctl_set(a, eq + 1, sh->cfg, sh->sizes_allowed, why, sh->notes);
		*eq = '=';
	}
	return rc;
}

static int run_echo(struct drill_shell *sh, struct cmd *c, struct drill_buf *why)
{
	static const char proc[] = "/proc/sys/";
	if (!c->out || strncmp(c->out, proc, sizeof proc - 1) || c->argc < 2) {
		drill_buf_printf(why, "echo without a /proc/sys target is not supported");
		return 0;
	}
	char name[160], value[160] = "";
	snprintf(name, sizeof name, "%s", c->out + sizeof proc - 1);
	for (char *p = name; *p; p++)
		if (*p == '/')
			*p = '.';
	for (int i = 1; i < c->argc; i++)
		snprintf(value + strlen(value), sizeof value - strlen(value), "%s%s", i > 1 ? " " : "",
			 c->argv[i]);
	return drill_sysctl_set(name, value, sh->cfg, sh->sizes_allowed, why, sh->notes);
}

/* ---- sockstat | grep | wc ---- */

static const char *bsd_state(enum synack_tcp_state st)
{
	static const char *const names[SYNACK_STATE_COUNT] = {
		[SYNACK_CLOSED] = "CLOSED",         [SYNACK_LISTEN] = "LISTEN",
		[SYNACK_SYN_SENT] = "SYN_SENT",     [SYNACK_SYN_RECEIVED] = "SYN_RCVD",
		[SYNACK_ESTABLISHED] = "ESTABLISHED", [SYNACK_FIN_WAIT_1] = "FIN_WAIT_1",
		[SYNACK_FIN_WAIT_2] = "FIN_WAIT_2", [SYNACK_CLOSE_WAIT] = "CLOSE_WAIT",
		[SYNACK_CLOSING] = "CLOSING",       [SYNACK_LAST_ACK] = "LAST_ACK",
		[SYNACK_TIME_WAIT] = "TIME_WAIT"};
	return (unsigned)st < SYNACK_STATE_COUNT ? names[st] : "?";
}

struct listing {
	struct drill_buf *out;
	bool listen_only, connected_only, states;
	long port;
	const struct drill_run *r;
};

static void fmt_ep(char *out, size_t cap, const struct synack_endpoint *e)
{
	if (synack_addr_is_any(&e->addr) && e->port == 0) {
		snprintf(out, cap, "*:*");
		return;
	}
	char a[64];
	snprintf(out, cap, "%s:%u", synack_addr_str(&e->addr, a, sizeof a), e->port);
}

/* One line per socket, in FreeBSD sockstat's columns; the script's descriptor is shown, and
 * the command is packetdrill's name as sockstat cuts it ("packetdril"). */
static void list_one(void *ctx, int fd, const struct synack_tcp_info *ti)
{
	struct listing *l = ctx;
	bool listen = ti->state == SYNACK_LISTEN;
	if ((l->listen_only && !listen) || (l->connected_only && listen))
		return;
	if (l->port >= 0 && ti->local.port != l->port && ti->remote.port != l->port)
		return;
	int sfd = -1;
	for (int i = 0; i < DRILL_MAX_FDS && fd >= 0; i++)
		if (l->r->fds[i].used && l->r->fds[i].kind == DRILL_FD_SOCKET &&
		    l->r->fds[i].live == fd)
			sfd = i;
	char loc[40], rem[40], fds[12];
	fmt_ep(loc, sizeof loc, &ti->local);
	fmt_ep(rem, sizeof rem, &ti->remote);
	snprintf(fds, sizeof fds, "%d", sfd);
	drill_buf_printf(l->out, "%-8s %-10s %-5s %-3s %-5s %-21s %-21s%s%s\n",
			 sfd >= 0 ? "root" : "?", sfd >= 0 ? "packetdril" : "?",
			 sfd >= 0 ? "1" : "?", sfd >= 0 ? fds : "?", "tcp4", loc, rem,
			 l->states ? " " : "", l->states ? bsd_state(ti->state) : "");
}

static int sockstat(struct drill_shell *sh, struct cmd *c, struct drill_buf *out,
		    struct drill_buf *why)
{
	struct listing l = {.out = out, .port = -1, .r = sh->r};
	bool header = true, v6_only = false;
	for (int i = 1; i < c->argc; i++) {
		const char *a = c->argv[i];
		if (a[0] != '-') {
			drill_buf_printf(why, "sockstat argument %s not supported", a);
			return 0;
		}
		for (const char *f = a + 1; *f; f++) {
			switch (*f) {
			case '4': break;
			case '6': v6_only = true; break;
			case 'c': l.connected_only = true; break;
			case 'l': l.listen_only = true; break;
			case 's': l.states = true; break;
			case 'q': header = false; break;
			case 'n': case 'w': break;
			case 'P':
			case 'p':
				if (f[1] || i + 1 == c->argc) {
					drill_buf_printf(why, "sockstat -%c needs a value", *f);
					return 0;
				}
				if (*f == 'P' && strcmp(c->argv[i + 1], "tcp")) {
					drill_buf_printf(why, "sockstat -P %s: synack speaks TCP only",
							 c->argv[i + 1]);
					return 0;
				}
				if (*f == 'p')
					l.port = strtol(c->argv[i + 1], NULL, 10);
				i++;
				break;
			default:
				drill_buf_printf(why, "sockstat -%c not supported", *f);
				return 0;
			}
			if (*f == 'P' || *f == 'p')
				break;
		}
	}
	if (header)
		drill_buf_printf(out, "USER     COMMAND    PID   FD  PROTO LOCAL ADDRESS         "
				 "FOREIGN ADDRESS      %s\n", l.states ? "STATE" : "");
	if (!v6_only && sh->r && sh->r->stack)
		synack_stack_foreach(sh->r->stack, list_one, &l);
	return 1;
}

/* grep [-c] [-q] [-v] [-w] [-i] [-E] [-F] PATTERN over in. Sets *status as grep exits. */
static int grep(struct cmd *c, const char *in, struct drill_buf *out, int *status,
		struct drill_buf *why)
{
	bool count = false, quiet = false, invert = false, wordm = false, icase = false;
	bool ext = false, fixed = false;
	const char *pat = NULL;
	for (int i = 1; i < c->argc; i++) {
		const char *a = c->argv[i];
		if (a[0] == '-' && a[1] && !pat) {
			for (const char *f = a + 1; *f; f++) {
				switch (*f) {
				case 'c': count = true; break;
				case 'q': quiet = true; break;
				case 'v': invert = true; break;
				case 'w': wordm = true; break;
				case 'i': icase = true; break;
				case 'E': ext = true; break;
				case 'F': fixed = true; break;
				default:
					drill_buf_printf(why, "grep -%c not supported", *f);
					return 0;
				}
			}
		} else if (!pat) {
			pat = a;
		} else {
			drill_buf_printf(why, "grep with a file argument is not supported");
			return 0;
		}
	}
	if (!pat) {
		drill_buf_printf(why, "grep without a pattern");
		return 0;
	}
	struct drill_buf rx = {0};
	drill_buf_printf(&rx, "%s", wordm ? "\\<" : "");
	for (const char *p = pat; *p; p++)
		drill_buf_printf(&rx, fixed && strchr(".[]\\*^$+?(){}|", *p) ? "\\%c" : "%c", *p);
	drill_buf_printf(&rx, "%s", wordm ? "\\>" : "");
	regex_t re;
	int flags = REG_NOSUB | (icase ? REG_ICASE : 0) | (ext ? REG_EXTENDED : 0);
	int bad = regcomp(&re, rx.p, flags);
	drill_buf_free(&rx);
	if (bad) {
		drill_buf_printf(why, "grep pattern '%s' cannot be read", pat);
		return 0;
	}
	long n = 0;
	const char *s = in ? in : "";
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char *line = strndup(s, len);
		bool hit = (regexec(&re, line, 0, NULL, 0) == 0) != invert;
		if (hit) {
			n++;
			if (!count && !quiet)
				drill_buf_printf(out, "%s\n", line);
		}
		free(line);
		s += len + (nl ? 1 : 0);
	}
	regfree(&re);
	if (count && !quiet)
		drill_buf_printf(out, "%ld\n", n);
	*status = n > 0 ? 0 : 1;
	return 1;
}

static int wc_lines(struct cmd *c, const char *in, struct drill_buf *out, int *status,
		    struct drill_buf *why)
{
	if (c->argc != 2 || strcmp(c->argv[1], "-l")) {
		drill_buf_printf(why, "only `wc -l` is supported");
		return 0;
	}
	long n = 0;
	for (const char *s = in ? in : ""; *s; s++)
		n += *s == '\n';
	drill_buf_printf(out, "%ld\n", n);
	*status = 0;
	return 1;
}

/* nstat [-a] [-z] [NAME...]: the counters (names as nstat prints them), absolute. */
static int nstat(struct drill_shell *sh, struct cmd *c, struct drill_buf *out,
		 struct drill_buf *why)
{
	bool zeros = false;
	int names = 0;
	for (int i = 1; i < c->argc; i++) {
		const char *a = c->argv[i];
		if (a[0] != '-') {
			names++;
			continue;
		}
		for (const char *f = a + 1; *f; f++) {
			if (*f == 'z')
				zeros = true;
			else if (*f != 'a' && *f != 's') {
				drill_buf_printf(why, "nstat -%c not supported", *f);
				return 0;
			}
		}
	}
	if (!sh->r)
		return 1;
	struct synack_counters ctr;
	synack_stack_counters(sh->r->stack, &ctr);
	drill_buf_printf(out, "#kernel\n");
	for (int k = 0; k < SYNACK_CTR_COUNT; k++) {
		const char *name = synack_counter_name((enum synack_counter)k);
		bool named = names == 0;
		for (int i = 1; i < c->argc && !named; i++)
			named = c->argv[i][0] != '-' && !strcmp(c->argv[i], name);
		if (named && (zeros || ctr.v[k]))
			drill_buf_printf(out, "%-32s %-16llu 0.0\n", name,
					 (unsigned long long)ctr.v[k]);
	}
	return 1;
}

/* sockstat | grep ... | wc -l. In the prescan (no stack yet) the stages are only checked. */
static int run_pipeline(struct drill_shell *sh, char **stages, int n, struct drill_buf *why)
{
	struct drill_buf data = {0}, listing = {0};
	int status = 0, rc = 1;
	for (int i = 0; i < n && rc == 1; i++) {
		struct cmd c;
		struct drill_buf out = {0};
		if (split_words(stages[i], &c, why) < 0) {
			rc = 0;
			break;
		}
		const char *name = c.argc ? c.argv[0] : "";
		if (i == 0 && !strcmp(name, "sockstat"))
			rc = sockstat(sh, &c, &out, why);
		else if (i == 0 && !strcmp(name, "nstat"))
			rc = nstat(sh, &c, &out, why);
		else if (i > 0 && !strcmp(name, "grep"))
			rc = grep(&c, data.p, &out, &status, why);
		else if (i > 0 && !strcmp(name, "wc"))
			rc = wc_lines(&c, data.p, &out, &status, why);
		else {
			drill_buf_printf(why, "shell command not supported: `%s`", stages[i]);
			rc = 0;
		}
		free_cmd(&c);
		if (i == 0 && out.p)
			drill_buf_printf(&listing, "%s", out.p);
		drill_buf_free(&data);
		data = out;
	}
	if (rc == 1 && sh->r && status != 0) {
		drill_buf_printf(why, "shell command exited with status %d; %s listed:\n%s",
				 status, strncmp(stages[0], "nstat", 5) ? "sockstat" : "nstat",
				 listing.p ? listing.p : "");
		rc = -1;
	}
	drill_buf_free(&listing);
	drill_buf_free(&data);
	return rc;
}

/* ---- commands ---- */

static int run_file(struct drill_shell *sh, const char *text);

static int run_init_script(struct drill_shell *sh, const char *path, struct drill_buf *why)
{
	char full[512];
	if (path[0] == '/' || !sh->dir)
		snprintf(full, sizeof full, "%s", path);
	else
		snprintf(full, sizeof full, "%s/%s", sh->dir, path);
	FILE *f = fopen(full, "rb");
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (!f && strcmp(base, "defaults.sh")) {
		drill_buf_printf(why, "init script %s not found", full);
		return 0;
	}
	if (sh->depth > 4) {
		drill_buf_printf(why, "init scripts nested too deeply");
		return 0;
	}
	struct drill_buf text = {0};
	if (f) {
		char chunk[4096];
		size_t n;
		while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
			drill_buf_printf(&text, "%.*s", (int)n, chunk);
		fclose(f);
	} else {
		drill_buf_printf(&text, "%s", builtin_defaults);
	}
	sh->depth++;
	struct drill_buf *saved = sh->why;
	sh->why = why;
	int rc = run_file(sh, text.p ? text.p : "");
	sh->why = saved;
	sh->depth--;
	drill_buf_free(&text);
	return rc;
}

static int run_simple(struct drill_shell *sh, const char *text, struct drill_buf *why)
{
	char *stages[MAX_STAGES];
	int n = 0;
	char *copy = strdup(text);
	if (!copy)
		abort();
	for (char *s = copy, *bar; n < MAX_STAGES; s = bar + 1) {
		stages[n++] = s;
		bar = strchr(s, '|');
		if (!bar)
			break;
		*bar = '\0';
	}
	int rc;
	if (n > 1) {
		rc = run_pipeline(sh, stages, n, why);
		free(copy);
		return rc;
	}
	struct cmd c;
	if (split_words(copy, &c, why) < 0) {
		free(copy);
		return 0;
	}
	const char *name = c.argc ? c.argv[0] : "";
	size_t nl = strlen(name);
	if (c.argc == 0 || !strcmp(name, "true") || !strcmp(name, ":"))
		rc = 1;
	else if (!strcmp(name, "sysctl"))
		rc = run_sysctl(sh, &c, why);
	else if (!strcmp(name, "echo"))
		rc = run_echo(sh, &c, why);
	else if (nl >= 3 && !strcmp(name + nl - 3, ".sh"))
		rc = run_init_script(sh, name, why);
	else if (!strcmp(name, "ip") && c.argc >= 3 && !strcmp(c.argv[1], "tcp_metrics"))
		rc = 1; /* synack keeps no per-destination metrics: nothing to flush */
	else if (!strcmp(name, "tc") && c.argc >= 2 && !strcmp(c.argv[1], "qdisc"))
		rc = 1; /* synack has no queueing discipline */
	else if (!strcmp(name, "sockstat") || !strcmp(name, "nstat"))
		rc = run_pipeline(sh, stages, 1, why);
	else if (!strcmp(name, "tcpdrop")) {
		drill_buf_printf(why, "tcpdrop: synack's API has no way to drop a connection from "
			   "outside");
		rc = 0;
	}
	else {
		drill_buf_printf(why, "shell command not supported: `%s`", text);
		rc = 0;
	}
	free_cmd(&c);
	free(copy);
	return rc;
}

/* The end of the command at s: a newline, `;` or `&&` outside quotes (a `&` of a redirection
 * such as 2>&1 is not one). Sets *skip to the separator's length; NULL at the end. */
static char *command_end(char *s, size_t *skip, bool *background)
{
	char q = 0;
	for (; *s; s++) {
		if (q) {
			q = *s == q ? 0 : q;
		} else if (*s == '"' || *s == '\'') {
			q = *s;
		} else if (*s == '#' && (s[-1] == ' ' || s[-1] == '\t' || s[-1] == '\n')) {
			while (*s && *s != '\n')
				s++;
			s--;
		} else if (*s == '\n' || *s == ';') {
			*skip = 1;
			return s;
		} else if (s[0] == '&' && s[1] == '&') {
			*skip = 2;
			return s;
		} else if (*s == '&' && s[-1] != '>' && s[1] != '>') {
			*background = true;
		}
	}
	return NULL;
}

/* Runs every command of a text: lines, `;`, `&&`. */
static int run_file(struct drill_shell *sh, const char *text)
{
	char *copy = malloc(strlen(text) + 2);
	if (!copy)
		abort();
	copy[0] = '\n'; /* so that s[-1] is always readable */
	strcpy(copy + 1, text);
	int rc = 1;
	char *s = copy + 1;
	while (s && rc == 1) {
		size_t skip = 0;
		bool background = false;
		char *end = command_end(s, &skip, &background);
		if (end)
			*end = '\0';
		if (background) {
			drill_buf_printf(sh->why, "shell command not supported: `%s` (background)", s);
			rc = 0;
			break;
		}
		while (isspace((unsigned char)*s))
			s++;
		if (*s && *s != '#')
			rc = run_simple(sh, s, sh->why);
		s = end ? end + skip : NULL;
	}
	free(copy);
	return rc;
}

int drill_shell_run(struct drill_shell *sh, const char *cmd, struct drill_buf *why)
{
	sh->why = why;
	return run_file(sh, cmd);
}
