/* synack — HTTP/1.1 request parsing (RFC 9112 §2-3, §6) and safe path resolution. */
#include "apps/http.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 * "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
static bool is_tchar(char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Finds the end of the head ("\r\n\r\n"); returns its length or 0. */
static size_t head_end(const char *buf, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return i + 1;
	return 0;
}

/* request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 §3) */
static long parse_request_line(const char *p, const char *eol, struct synack_http_req *req)
{
	const char *sp1 = memchr(p, ' ', (size_t)(eol - p));
	if (!sp1 || sp1 == p)
		return -EINVAL;
	for (const char *q = p; q < sp1; q++)
		if (!is_tchar(*q))
			return -EINVAL;
	const char *t = sp1 + 1;
	const char *sp2 = memchr(t, ' ', (size_t)(eol - t));
	if (!sp2 || sp2 == t)
		return -EINVAL;
	for (const char *q = t; q < sp2; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f)
			return -EINVAL;
	size_t vlen = (size_t)(eol - sp2 - 1);
	if (vlen != 8 || memcmp(sp2 + 1, "HTTP/", 5) || sp2[6] < '0' || sp2[6] > '9' ||
	    sp2[7] != '.' || sp2[8] < '0' || sp2[8] > '9')
		return -EINVAL;
	if (sp2[6] != '1' || sp2[8] > '1')
		return -EPROTONOSUPPORT;
	if ((size_t)(sp2 - t) >= sizeof req->target)
		return -EMSGSIZE;
	size_t mlen = (size_t)(sp1 - p);
	if (mlen == 3 && !memcmp(p, "GET", 3))
		req->method = SYNACK_HTTP_GET;
	else if (mlen == 4 && !memcmp(p, "HEAD", 4))
		req->method = SYNACK_HTTP_HEAD;
	else
		return -ENOSYS;
	memcpy(req->target, t, (size_t)(sp2 - t));
	req->target[sp2 - t] = '\0';
	req->minor = sp2[8] - '0';
	req->keep_alive = req->minor == 1;
	return 0;
}

static bool value_has_token(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok);
	for (size_t i = 0; i + tl <= n; i++) {
		if (strncasecmp(v + i, tok, tl))
			continue;
		bool left = i == 0 || v[i - 1] == ',' || v[i - 1] == ' ' || v[i - 1] == '\t';
		bool right = i + tl == n || v[i + tl] == ',' || v[i + tl] == ' ' || v[i + tl] == '\t';
		if (left && right)
			return true;
	}
	return false;
}

static long parse_content_length(const char *v, size_t n, struct synack_http_req *req,
				 bool *seen)
{
	uint64_t x = 0;
	if (n == 0 || n > 18)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	/* RFC 9112 §6.3: differing Content-Length values are unrecoverable. */
	if (*seen && x != req->content_length)
		return -EINVAL;
	*seen = true;
	req->content_length = x;
	return 0;
}

/* field-line = field-name ":" OWS field-value OWS (RFC 9112 §5) */
static long parse_field(const char *p, const char *eol, struct synack_http_req *req, bool *cl_seen)
{
	const char *colon = memchr(p, ':', (size_t)(eol - p));
	if (!colon || colon == p)
		return -EINVAL;
	for (const char *q = p; q < colon; q++)
		if (!is_tchar(*q)) /* also rejects whitespace before the colon (§5.1) */
			return -EINVAL;
	const char *v = colon + 1, *e = eol;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	for (const char *q = v; q < e; q++)
		if ((*q < ' ' && *q != '\t') || *q == 0x7f)
			return -EINVAL;
	size_t nlen = (size_t)(colon - p), vlen = (size_t)(e - v);
	if (nlen == 10 && !strncasecmp(p, "Connection", 10)) {
		if (value_has_token(v, vlen, "close"))
			req->keep_alive = false;
		else if (value_has_token(v, vlen, "keep-alive"))
			req->keep_alive = true;
	} else if (nlen == 14 && !strncasecmp(p, "Content-Length", 14)) {
		return parse_content_length(v, vlen, req, cl_seen);
	} else if (nlen == 17 && !strncasecmp(p, "Transfer-Encoding", 17)) {
		return -ENOTSUP;
	}
	return 0;
}

long synack_http_parse(const char *buf, size_t len, struct synack_http_req *req)
{
	memset(req, 0, sizeof *req);
	size_t hl = head_end(buf, len < SYNACK_HTTP_MAX_HEADER ? len : SYNACK_HTTP_MAX_HEADER);
	if (hl == 0)
		return len >= SYNACK_HTTP_MAX_HEADER ? -EMSGSIZE : 0;
	/* Every line ends in CRLF; a bare CR or LF, or a NUL, is malformed (RFC 9112 §2.2). */
	for (size_t i = 0; i < hl; i++) {
		if (buf[i] == '\0')
			return -EINVAL;
		if (buf[i] == '\r' && buf[i + 1] != '\n')
			return -EINVAL;
		if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
			return -EINVAL;
	}
	const char *p = buf, *end = buf + hl - 2; /* the final empty line's CRLF */
	const char *eol = memchr(p, '\r', (size_t)(end - p));
	long err = parse_request_line(p, eol, req);
	if (err)
		return err;
	bool cl_seen = false;
	for (p = eol + 2; p < end; p = eol + 2) {
		eol = memchr(p, '\r', (size_t)(end - p));
		if (*p == ' ' || *p == '\t')
			return -EINVAL; /* obs-fold (§5.2): rejected */
		err = parse_field(p, eol, req, &cl_seen);
		if (err)
			return err;
	}
	return (long)hl;
}

int synack_http_error_status(long err, size_t len)
{
	switch (err) {
	case -EMSGSIZE: return len >= SYNACK_HTTP_MAX_HEADER ? 431 : 414;
	case -ENOSYS:
	case -ENOTSUP: return 501;
	case -EPROTONOSUPPORT: return 505;
	default: return 400;
	}
}

const char *synack_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Appends one decoded segment; "." and ".." never name anything under the root. */
static int put_segment(const char *seg, size_t n, char *out, size_t cap, size_t *o)
{
	if (n == 0)
		return 0;
	if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
		return -EINVAL;
	if (*o + (*o ? 1 : 0) + n + 1 > cap)
		return -EINVAL;
	if (*o)
		out[(*o)++] = '/';
	memcpy(out + *o, seg, n);
	*o += n;
	out[*o] = '\0';
	return 0;
}

int synack_http_resolve(const char *target, char *out, size_t cap)
{
	if (!target || target[0] != '/' || cap < 2)
		return -EINVAL;
	char seg[256];
	size_t sn = 0, o = 0;
	out[0] = '\0';
	for (const char *p = target + 1;; p++) {
		char c = *p;
		if (c == '\0' || c == '?' || c == '#' || c == '/') {
			int err = put_segment(seg, sn, out, cap, &o);
			if (err)
				return err;
			sn = 0;
			if (c != '/')
				return 0;
			continue;
		}
		if (c == '%') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (char)(hi * 16 + lo);
			p += 2;
			/* A decoded slash, backslash or NUL would change the path's structure. */
			if (c == '\0' || c == '/' || c == '\\')
				return -EINVAL;
		}
		if (c == '\\')
			return -EINVAL;
		if (sn + 1 >= sizeof seg)
			return -EINVAL;
		seg[sn++] = c;
	}
}

int synack_http_open(const char *root, const char *rel, uint64_t *size)
{
	char rroot[PATH_MAX], path[PATH_MAX], real[PATH_MAX];
	if (!root || !realpath(root, rroot))
		return -ENOENT;
	int n = snprintf(path, sizeof path, "%s/%s", rroot, rel[0] ? rel : "index.html");
	if (n < 0 || (size_t)n >= sizeof path || !realpath(path, real))
		return -ENOENT;
	size_t rl = strlen(rroot);
	/* The real path must lie under the real root: a symlink may not lead out. */
	if (strncmp(real, rroot, rl) || (real[rl] != '/' && !(rl == 1 && rroot[0] == '/')))
		return -EACCES;
	int fd = open(real, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -ENOENT;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

const char *synack_http_content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
		{".txt", "text/plain; charset=utf-8"}, {".css", "text/css"},
		{".js", "text/javascript"},            {".json", "application/json"},
		{".svg", "image/svg+xml"},             {".png", "image/png"},
		{".jpg", "image/jpeg"},                {".pcap", "application/vnd.tcpdump.pcap"},
	};
	const char *dot = strrchr(path, '.');
	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
			if (!strcasecmp(dot, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}
