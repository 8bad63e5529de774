/* synack — the http app: HTTP/1.1 with persistent connections (RFC 9112 §9.3), GET and HEAD,
 * a built-in page at "/" and files under the document root with an exact Content-Length.
 * One request is answered at a time; pipelined requests wait in the buffer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/conn.h"
#include "apps/http.h"
#include "synack/socket.h"

static const char builtin_page[] =
	"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>synack</title></head>\n"
	"<body>\n<h1>synack</h1>\n"
	"<p>This page came to you over TCP from <b>synack</b>, a userspace TCP/IP stack: "
	"the handshake, every segment and the close were handled outside the kernel.</p>\n"
	"</body></html>\n";

void app_http_release(struct app_conn *c)
{
	if (c->file >= 0)
		close(c->file);
	c->file = -1;
	free(c->req);
	c->req = NULL;
}

static void put_head(struct app_conn *c, int status, const char *type, uint64_t length)
{
	int n = snprintf((char *)c->out, APP_BUF,
			 "HTTP/1.1 %d %s\r\nServer: synack\r\nContent-Type: %s\r\n"
			 "Content-Length: %llu\r\nConnection: %s\r\n\r\n",
			 status, synack_http_reason(status), type, (unsigned long long)length,
			 c->close_after ? "close" : "keep-alive");
	c->off = 0;
	c->len = n > 0 && n < APP_BUF ? (size_t)n : 0;
}

static void respond_error(struct app_conn *c, int status, bool head_only)
{
	char body[96];
	int n = snprintf(body, sizeof body, "%d %s\n", status, synack_http_reason(status));
	put_head(c, status, "text/plain; charset=utf-8", (uint64_t)n);
	if (!head_only && c->len + (size_t)n <= APP_BUF) {
		memcpy(c->out + c->len, body, (size_t)n);
		c->len += (size_t)n;
	}
}

static bool append_from_file(struct app_conn *c);

static void respond(struct app_conn *c, const struct synack_http_req *r)
{
	bool head = r->method == SYNACK_HTTP_HEAD;
	char rel[SYNACK_HTTP_MAX_TARGET];
	int err = synack_http_resolve(r->target, rel, sizeof rel);
	if (err) {
		respond_error(c, err == -EINVAL ? 400 : 404, head);
		return;
	}
	uint64_t size = 0;
	int fd = c->root ? synack_http_open(c->root, rel, &size) : -ENOENT;
	if (fd < 0 && rel[0] == '\0') {
		/* "/" without an index.html under the root: the built-in page. */
		size_t n = sizeof builtin_page - 1;
		put_head(c, 200, "text/html; charset=utf-8", n);
		if (!head && c->len + n <= APP_BUF) {
			memcpy(c->out + c->len, builtin_page, n);
			c->len += n;
		}
		return;
	}
	if (fd < 0) {
		respond_error(c, 404, head);
		return;
	}
	put_head(c, 200, synack_http_content_type(rel[0] ? rel : "index.html"), size);
	if (head) {
		close(fd);
		return;
	}
	c->file = fd;
	c->file_off = 0;
	c->file_left = size;
	/* The head and the start of the body go out in one send: sent apart, the body would
	 * wait (Nagle) for the ACK of the head, a delayed ACK at a kernel client. */
	if (size && !append_from_file(c))
		c->close_after = true; /* the file shrank: what was promised cannot be kept */
}

/* Appends to the output what fits of the file being sent. Returns false when the file
 * failed. */
static bool append_from_file(struct app_conn *c)
{
	if (c->off == c->len)
		c->off = c->len = 0;
	size_t room = APP_BUF - c->len;
	size_t want = c->file_left < room ? (size_t)c->file_left : room;
	ssize_t n = pread(c->file, c->out + c->len, want, (off_t)c->file_off);
	if (n <= 0) {
		close(c->file);
		c->file = -1;
		return false;
	}
	c->len += (size_t)n;
	c->file_off += (uint64_t)n;
	c->file_left -= (uint64_t)n;
	if (c->file_left == 0) {
		close(c->file);
		c->file = -1;
	}
	return true;
}

/* Takes the next request from the buffer. Returns true if a response was started. */
static bool next_request(struct app_conn *c)
{
	if (c->skip) {
		size_t k = c->skip < c->req_len ? (size_t)c->skip : c->req_len;
		memmove(c->req, c->req + k, c->req_len - k);
		c->req_len -= k;
		c->skip -= k;
		if (c->skip)
			return false;
	}
	struct synack_http_req r;
	long n = synack_http_parse(c->req, c->req_len, &r);
	if (n == 0)
		return false;
	c->requests++;
	if (n < 0) {
		/* RFC 9112 §9.6: after a malformed request the framing is lost; close. */
		c->close_after = true;
		respond_error(c, synack_http_error_status(n, c->req_len), false);
		c->req_len = 0;
		return true;
	}
	memmove(c->req, c->req + n, c->req_len - (size_t)n);
	c->req_len -= (size_t)n;
	c->skip = r.content_length;
	c->close_after = !r.keep_alive;
	respond(c, &r);
	return true;
}

/* Reads more request bytes. Returns 1 if some arrived, 0 if none now, -1 at EOF or error. */
static int read_more(struct app_conn *c)
{
	if (!c->req && !(c->req = malloc(SYNACK_HTTP_MAX_HEADER)))
		return -1;
	size_t room = SYNACK_HTTP_MAX_HEADER - c->req_len;
	if (room == 0)
		return 1; /* full: the parser reports the oversized head */
	ssize_t n = synack_recv(c->s, c->fd, c->req + c->req_len, room, 0);
	if (n == -EAGAIN)
		return 0;
	if (n <= 0) {
		c->eof = true;
		return -1;
	}
	c->req_len += (size_t)n;
	return 1;
}

void app_http_run(struct app_conn *c)
{
	for (int guard = 0; guard < 100000; guard++) {
		int f = app_flush(c);
		if (f < 0) {
			c->done = true;
			return;
		}
		if (f == 0)
			return; /* wait for WRITABLE */
		if (c->file >= 0) {
			if (!append_from_file(c)) {
				c->done = true;
				return;
			}
			continue;
		}
		if (c->close_after || c->eof) {
			c->done = true;
			return;
		}
		if (next_request(c))
			continue;
		int r = read_more(c);
		if (r < 0) {
			c->done = true;
			return;
		}
		if (r == 0)
			return;
	}
}
