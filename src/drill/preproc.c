/* synack drill — the preprocessor lines of nplab's packetdrill, and -D definitions.
 *
 * FreeBSD's tcp-testsuite is written for nplab's packetdrill, whose scripts may carry lines
 *
 *   #ifdef NAME / #ifndef NAME / #if EXPR / #elif EXPR / #else / #endif
 *   #define NAME [VALUE] / #undef NAME
 *
 * where EXPR is `defined(NAME)`, `defined NAME`, a number or a NAME (true when its value is
 * a non-zero number), optionally negated with `!`. Symbols come from the command line
 * (`-D NAME[=VALUE]`, `--define=NAME=VALUE`) and from #define; none is defined by default, as
 * packetdrill on Linux defines none. The same definitions name constants in system-call
 * arguments (`-D CMSG_LEVEL_IP=SOL_IP`, as Linux's selftests pass them).
 *
 * The pass runs on the text before the lexer: directive lines and the lines of inactive
 * branches become blank (their newlines stay, so line numbers in reports do not move).
 * Backquoted shell commands and %{ }% blocks are left alone.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill/drill.h"

#define MAX_DEPTH 16

const char *drill_define_get(const struct drill_config *c, const char *name)
{
	for (int i = 0; i < c->ndefines; i++)
		if (!strcmp(c->defines[i].name, name))
			return c->defines[i].value;
	return NULL;
}

int drill_define_set(struct drill_config *c, const char *def)
{
	const char *eq = strchr(def, '=');
	size_t n = eq ? (size_t)(eq - def) : strlen(def);
	const char *v = eq ? eq + 1 : "1";
	if (n == 0 || n >= sizeof c->defines[0].name || strlen(v) >= sizeof c->defines[0].value)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)def[i]) && def[i] != '_')
			return -1;
	int k = 0;
	while (k < c->ndefines && (strlen(c->defines[k].name) != n ||
				   strncmp(c->defines[k].name, def, n)))
		k++;
	if (k == DRILL_MAX_DEFINES)
		return -1;
	memcpy(c->defines[k].name, def, n);
	c->defines[k].name[n] = '\0';
	snprintf(c->defines[k].value, sizeof c->defines[k].value, "%s", v);
	if (k == c->ndefines)
		c->ndefines++;
	return 0;
}

static void undefine(struct drill_config *c, const char *name)
{
	for (int i = 0; i < c->ndefines; i++)
		if (!strcmp(c->defines[i].name, name)) {
			c->defines[i] = c->defines[--c->ndefines];
			return;
		}
}

/* The word starting at s (letters, digits, '_'), copied to out. Returns its end. */
static const char *word(const char *s, const char *end, char *out, size_t cap)
{
	size_t n = 0;
	while (s < end && (isalnum((unsigned char)*s) || *s == '_')) {
		if (n + 1 < cap)
			out[n++] = *s;
		s++;
	}
	out[n] = '\0';
	return s;
}

static const char *skip_blank(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++;
	return s;
}

/* EXPR of #if / #elif. Returns 1 or 0, -1 when it cannot be read. */
static int eval_cond(const struct drill_config *c, const char *s, const char *end)
{
	char name[64];
	bool neg = false;
	s = skip_blank(s, end);
	while (s < end && *s == '!') {
		neg = !neg;
		s = skip_blank(s + 1, end);
	}
	int v;
	if (end - s >= 7 && !strncmp(s, "defined", 7)) {
		s = skip_blank(s + 7, end);
		bool paren = s < end && *s == '(';
		s = skip_blank(s + paren, end);
		s = skip_blank(word(s, end, name, sizeof name), end);
		if (!name[0] || (paren && (s >= end || *s++ != ')')))
			return -1;
		v = drill_define_get(c, name) != NULL;
	} else {
		s = word(s, end, name, sizeof name);
		if (!name[0])
			return -1;
		const char *val = isdigit((unsigned char)name[0]) ? name : drill_define_get(c, name);
		v = val && strtol(val, NULL, 0) != 0;
	}
	s = skip_blank(s, end);
	if (s < end && !(s[0] == '/' && s + 1 < end && s[1] == '/'))
		return -1;
	return neg ? !v : v;
}

struct cond {
	bool active;   /* this branch runs */
	bool taken;    /* some branch of this #if ran */
	bool parent;   /* the enclosing block runs */
};

struct pp {
	struct drill_config *c;
	struct cond st[MAX_DEPTH];
	int depth;
	struct drill_buf *err;
	const char *path;
};

static bool active(const struct pp *p)
{
	return p->depth == 0 || p->st[p->depth - 1].active;
}

static int pp_error(struct pp *p, int line, const char *what)
{
	drill_buf_printf(p->err, "%s:%d: %s", p->path, line, what);
	return -1;
}

/* One directive line (s points after '#'). */
static int directive(struct pp *p, const char *s, const char *end, int line)
{
	char dir[16], name[64];
	s = skip_blank(word(skip_blank(s, end), end, dir, sizeof dir), end);
	struct cond *top = p->depth ? &p->st[p->depth - 1] : NULL;
	if (!strcmp(dir, "ifdef") || !strcmp(dir, "ifndef") || !strcmp(dir, "if")) {
		int v;
		if (p->depth == MAX_DEPTH)
			return pp_error(p, line, "#if nested too deeply");
		if (!strcmp(dir, "if")) {
			v = eval_cond(p->c, s, end);
		} else {
			word(s, end, name, sizeof name);
			v = name[0] ? (drill_define_get(p->c, name) != NULL) == (dir[2] == 'd') : -1;
		}
		if (v < 0)
			return pp_error(p, line, "cannot read the condition of this #if");
		bool par = active(p);
		p->st[p->depth++] = (struct cond){.active = par && v, .taken = v, .parent = par};
		return 0;
	}
	if (!strcmp(dir, "elif") || !strcmp(dir, "else")) {
		if (!top)
			return pp_error(p, line, "#else or #elif without #if");
		int v = dir[1] == 'l' && dir[2] == 'i' ? eval_cond(p->c, s, end) : 1;
		if (v < 0)
			return pp_error(p, line, "cannot read the condition of this #elif");
		top->active = top->parent && !top->taken && v;
		top->taken |= v;
		return 0;
	}
	if (!strcmp(dir, "endif")) {
		if (!top)
			return pp_error(p, line, "#endif without #if");
		p->depth--;
		return 0;
	}
	if (!strcmp(dir, "define") || !strcmp(dir, "undef")) {
		if (!active(p))
			return 0;
		s = skip_blank(word(s, end, name, sizeof name), end);
		if (!name[0])
			return pp_error(p, line, "expected a name");
		if (dir[0] == 'u') {
			undefine(p->c, name);
			return 0;
		}
		char def[200];
		const char *ve = s;
		while (ve < end && !isspace((unsigned char)*ve))
			ve++;
		snprintf(def, sizeof def, "%s=%.*s", name, (int)(ve - s), s);
		if (ve == s)
			snprintf(def, sizeof def, "%s", name);
		if (drill_define_set(p->c, def) < 0)
			return pp_error(p, line, "bad #define");
		return 0;
	}
	return 1; /* not a directive: leave the line to the lexer */
}

static void blank(char *s, char *end)
{
	for (; s < end; s++)
		if (*s != '\n')
			*s = ' ';
}

/* Tracks whether the text from s to end leaves a `shell` or %{ code }% block open. */
static void scan_blocks(const char *s, const char *end, bool *in_shell, bool *in_code)
{
	for (; s < end; s++) {
		if (*in_code) {
			if (s[0] == '}' && s + 1 < end && s[1] == '%')
				*in_code = false, s++;
		} else if (*in_shell) {
			if (*s == '`')
				*in_shell = false;
		} else if (s[0] == '/' && s + 1 < end && s[1] == '/') {
			return;
		} else if (*s == '`') {
			*in_shell = true;
		} else if (s[0] == '%' && s + 1 < end && s[1] == '{') {
			*in_code = true, s++;
		}
	}
}

int drill_preprocess(const char *path, char *src, size_t len, struct drill_config *c,
		     struct drill_buf *err)
{
	struct pp p = {.c = c, .err = err, .path = path};
	bool in_shell = false, in_code = false;
	int line = 1;
	char *s = src, *end = src + len;
	while (s < end) {
		char *nl = memchr(s, '\n', (size_t)(end - s));
		char *le = nl ? nl : end;
		const char *t = skip_blank(s, le);
		int rc = 1;
		if (!in_shell && !in_code && t < le && *t == '#')
			rc = directive(&p, t + 1, le, line);
		if (rc < 0)
			return -1;
		if (rc == 0 || !active(&p))
			blank(s, le);
		else
			scan_blocks(s, le, &in_shell, &in_code);
		s = nl ? nl + 1 : end;
		line++;
	}
	if (p.depth)
		return pp_error(&p, line - 1, "#if without #endif");
	return 0;
}
