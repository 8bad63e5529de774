/* synack drill — the lexer: script text to tokens.
 *
 * packetdrill's lexical structure: `//` and `/ * * /` comments; numbers that are either integers
 * (also 0x hex) or times in seconds (`0.100`, `.5`); identifiers; "strings"; backquoted shell
 * commands; `%{ python }%` blocks; `--name=value` option lines; `...`; and single-character
 * punctuation. Packet flags such as `S.` come out as the identifier `S` followed by '.', and
 * the parser glues them back together.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "drill/drill.h"

struct lexer {
	const char *s;
	size_t len, i;
	int line;
	bool space;
	struct drill_tokens *out;
	size_t cap;
	struct drill_buf *err;
};

static struct drill_token *push(struct lexer *lx, enum drill_tok_kind kind, size_t off, int line)
{
	if (lx->out->n == lx->cap) {
		size_t cap = lx->cap ? lx->cap * 2 : 256;
		struct drill_token *v = realloc(lx->out->v, cap * sizeof *v);
		if (!v)
			abort();
		lx->out->v = v;
		lx->cap = cap;
	}
	struct drill_token *t = &lx->out->v[lx->out->n++];
	memset(t, 0, sizeof *t);
	t->kind = kind;
	t->off = off;
	t->line = line;
	t->space_before = lx->space;
	lx->space = false;
	return t;
}

static char *dup_range(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (!p)
		abort();
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static int fail(struct lexer *lx, int line, const char *what)
{
	drill_buf_printf(lx->err, "line %d: %s", line, what);
	return -1;
}

static int peek(const struct lexer *lx, size_t k)
{
	return lx->i + k < lx->len ? (unsigned char)lx->s[lx->i + k] : -1;
}

/* Skips whitespace and comments; counts lines. Returns -1 on an unterminated comment. */
static int skip_space(struct lexer *lx)
{
	for (;;) {
		int c = peek(lx, 0);
		if (c == '\n') {
			lx->line++;
			lx->i++;
			lx->space = true;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			lx->i++;
			lx->space = true;
		} else if (c == '/' && peek(lx, 1) == '/') {
			while (lx->i < lx->len && lx->s[lx->i] != '\n')
				lx->i++;
			lx->space = true;
		} else if (c == '/' && peek(lx, 1) == '*') {
			int start = lx->line;
			lx->i += 2;
			while (lx->i < lx->len && !(lx->s[lx->i] == '*' && peek(lx, 1) == '/')) {
				if (lx->s[lx->i] == '\n')
					lx->line++;
				lx->i++;
			}
			if (lx->i >= lx->len)
				return fail(lx, start, "unterminated /* comment");
			lx->i += 2;
			lx->space = true;
		} else {
			return 0;
		}
	}
}

/* A time in seconds written as decimal text, to microseconds, without floating point. */
static int64_t decimal_usecs(const char *s, size_t n)
{
	int64_t whole = 0, frac = 0;
	size_t i = 0;
	int digits = 0;
	while (i < n && isdigit((unsigned char)s[i])) {
		if (whole < 100000000LL) /* saturate: no script waits 30 years */
			whole = whole * 10 + (s[i] - '0');
		i++;
	}
	if (i < n && s[i] == '.')
		i++;
	while (i < n && isdigit((unsigned char)s[i])) {
		if (digits < 6) {
			frac = frac * 10 + (s[i] - '0');
			digits++;
		}
		i++;
	}
	while (digits++ < 6)
		frac *= 10;
	return whole * 1000000 + frac;
}

static void lex_number(struct lexer *lx)
{
	size_t start = lx->i;
	struct drill_token *t;
	if (peek(lx, 0) == '0' && (peek(lx, 1) == 'x' || peek(lx, 1) == 'X') &&
	    isxdigit(peek(lx, 2))) {
		lx->i += 2;
		while (isxdigit(peek(lx, 0)))
			lx->i++;
		t = push(lx, DRILL_TOK_INT, start, lx->line);
		t->ival = strtoull(lx->s + start, NULL, 16);
		/* Saturate as decimal_usecs does: a huge hex number must not overflow. */
		t->usecs = (int64_t)(t->ival < 100000000ULL ? t->ival : 100000000ULL) * 1000000;
		t->len = lx->i - start;
		return;
	}
	bool is_float = false;
	while (isdigit(peek(lx, 0)))
		lx->i++;
	if (peek(lx, 0) == '.' && isdigit(peek(lx, 1))) {
		is_float = true;
		lx->i++;
		while (isdigit(peek(lx, 0)))
			lx->i++;
	} else if (peek(lx, 0) == '.' && peek(lx, 1) != '.' && lx->i > start &&
		   !isalpha(peek(lx, 1))) {
		/* "1." is a time of one second; "1..." is a range start */
		is_float = true;
		lx->i++;
	}
	t = push(lx, is_float ? DRILL_TOK_FLOAT : DRILL_TOK_INT, start, lx->line);
	t->len = lx->i - start;
	t->ival = is_float ? 0 : strtoull(lx->s + start, NULL, 10);
	t->usecs = decimal_usecs(lx->s + start, t->len);
}

/* Reads text up to the closing delimiter `close` (a string of 1 or 2 chars). */
static int lex_delimited(struct lexer *lx, enum drill_tok_kind kind, size_t open_len,
			 const char *close, const char *what)
{
	size_t start = lx->i;
	int line = lx->line;
	size_t clen = strlen(close);
	lx->i += open_len;
	size_t body = lx->i;
	while (lx->i < lx->len && strncmp(lx->s + lx->i, close, clen) != 0) {
		if (lx->s[lx->i] == '\n') {
			if (kind == DRILL_TOK_STRING)
				return fail(lx, line, "newline in string");
			lx->line++;
		}
		if (kind == DRILL_TOK_STRING && lx->s[lx->i] == '\\' && lx->i + 1 < lx->len)
			lx->i++;
		lx->i++;
	}
	if (lx->i >= lx->len)
		return fail(lx, line, what);
	struct drill_token *t = push(lx, kind, start, line);
	t->text = dup_range(lx->s + body, lx->i - body);
	lx->i += clen;
	t->len = lx->i - start;
	return 0;
}

static bool at_line_start(const struct lexer *lx)
{
	size_t j = lx->i;
	while (j > 0 && (lx->s[j - 1] == ' ' || lx->s[j - 1] == '\t'))
		j--;
	return j == 0 || lx->s[j - 1] == '\n';
}

static int lex_one(struct lexer *lx)
{
	int c = peek(lx, 0);
	size_t start = lx->i;
	struct drill_token *t;
	if (isdigit(c) || (c == '.' && isdigit(peek(lx, 1)))) {
		lex_number(lx);
		return 0;
	}
	if (isalpha(c) || c == '_') {
		while (isalnum(peek(lx, 0)) || peek(lx, 0) == '_')
			lx->i++;
		t = push(lx, DRILL_TOK_IDENT, start, lx->line);
		t->len = lx->i - start;
		t->text = dup_range(lx->s + start, t->len);
		return 0;
	}
	if (c == '"')
		return lex_delimited(lx, DRILL_TOK_STRING, 1, "\"", "unterminated string");
	if (c == '`')
		return lex_delimited(lx, DRILL_TOK_SHELL, 1, "`", "unterminated `shell command`");
	if (c == '%' && peek(lx, 1) == '{')
		return lex_delimited(lx, DRILL_TOK_CODE, 2, "}%", "unterminated %{ code }% block");
	if (c == '-' && peek(lx, 1) == '-' && isalpha(peek(lx, 2)) && at_line_start(lx)) {
		lx->i += 2;
		while (lx->i < lx->len && lx->s[lx->i] != '\n' && lx->s[lx->i] != ' ' &&
		       lx->s[lx->i] != '\t')
			lx->i++;
		t = push(lx, DRILL_TOK_OPTION, start, lx->line);
		t->len = lx->i - start;
		t->text = dup_range(lx->s + start + 2, t->len - 2);
		return 0;
	}
	if (c == '.' && peek(lx, 1) == '.' && peek(lx, 2) == '.') {
		t = push(lx, DRILL_TOK_ELLIPSIS, start, lx->line);
		lx->i += 3;
		t->len = 3;
		return 0;
	}
	if (c < 0x20 || c > 0x7e)
		return fail(lx, lx->line, "unexpected character");
	t = push(lx, DRILL_TOK_PUNCT, start, lx->line);
	t->punct = (char)c;
	t->len = 1;
	lx->i++;
	return 0;
}

int drill_lex(const char *src, size_t len, struct drill_tokens *out, struct drill_buf *err)
{
	struct lexer lx = {.s = src, .len = len, .line = 1, .out = out, .err = err, .space = true};
	out->v = NULL;
	out->n = 0;
	for (;;) {
		if (skip_space(&lx) < 0 || (lx.i < lx.len && lex_one(&lx) < 0)) {
			drill_tokens_free(out);
			return -1;
		}
		if (lx.i >= lx.len)
			break;
	}
	push(&lx, DRILL_TOK_EOF, len, lx.line);
	return 0;
}

void drill_tokens_free(struct drill_tokens *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].text);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}
