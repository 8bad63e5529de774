/* Fuzz target: the built-in HTTP server's request parser and path resolver (src/apps/http.h).
 *
 * Invariants:
 *  - synack_http_parse returns one of its documented results; a complete head has a length
 *    within the buffer and the header limit, ends in CRLF CRLF, and holds a NUL-terminated
 *    target, a method and a version the parser accepts;
 *  - parsing is incremental: the head alone parses to the same request, and every proper
 *    prefix of it asks for more bytes (the server feeds the parser as segments arrive);
 *  - every error maps to one of the statuses the header lists;
 *  - synack_http_resolve on any target (the parsed one, and the raw input) either fails or
 *    yields a relative path inside its buffer with no empty, "." or ".." segment and no
 *    backslash: nothing can name a file outside the document root. */
#include <errno.h>

#include "fuzz.h"

#include "apps/http.h"

static void check_resolved(const char *target, size_t cap)
{
	char out[SYNACK_HTTP_MAX_TARGET + 8];
	memset(out, 'X', sizeof(out));
	int rc = synack_http_resolve(target, out, cap);
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL || rc == -ENOENT, "resolve returned %d", rc);
	if (rc != 0)
		return;
	size_t n = strnlen(out, cap);
	FUZZ_ASSERT(n < cap, "resolved path not terminated within %zu bytes", cap);
	FUZZ_ASSERT(strchr(out, '\\') == NULL, "backslash in '%s'", out);
	FUZZ_ASSERT(n == 0 || (out[0] != '/' && out[n - 1] != '/'), "not relative: '%s'", out);
	for (const char *seg = out; n > 0 && seg <= out + n;) {
		const char *slash = strchr(seg, '/');
		size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
		FUZZ_ASSERT(len > 0, "empty segment in '%s'", out);
		FUZZ_ASSERT(!(len == 1 && seg[0] == '.') && !(len == 2 && !memcmp(seg, "..", 2)),
			    "dot segment in '%s'", out);
		if (!slash)
			break;
		seg = slash + 1;
	}
}

static void check_request(const char *buf, size_t len, long n, const struct synack_http_req *req)
{
	FUZZ_ASSERT((size_t)n <= len && n <= SYNACK_HTTP_MAX_HEADER && n >= 4, "head length %ld",
		    n);
	FUZZ_ASSERT(!memcmp(buf + n - 4, "\r\n\r\n", 4), "head does not end in CRLF CRLF");
	FUZZ_ASSERT(req->method == SYNACK_HTTP_GET || req->method == SYNACK_HTTP_HEAD, "method");
	FUZZ_ASSERT(req->minor == 0 || req->minor == 1, "version 1.%d", req->minor);
	FUZZ_ASSERT(memchr(req->target, '\0', sizeof(req->target)) != NULL, "target unterminated");
	FUZZ_ASSERT(req->target[0] != '\0', "empty target");

	/* The head alone parses the same; every proper prefix asks for more. */
	struct synack_http_req again;
	FUZZ_ASSERT(synack_http_parse(buf, (size_t)n, &again) == n,
		    "head alone parses differently");
	FUZZ_ASSERT(again.method == req->method && again.minor == req->minor &&
			    again.keep_alive == req->keep_alive &&
			    again.content_length == req->content_length &&
			    strcmp(again.target, req->target) == 0,
		    "head alone gives another request");
	size_t cuts[] = {(size_t)n - 1, (size_t)n / 2, 1, 0};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		long r = synack_http_parse(buf, cuts[i], &again);
		FUZZ_ASSERT(r == 0, "prefix of %zu bytes of a valid head gave %ld", cuts[i], r);
	}
	check_resolved(req->target, SYNACK_HTTP_MAX_TARGET);
}

int synack_fuzz_http(const uint8_t *data, size_t len);
int synack_fuzz_http(const uint8_t *data, size_t len)
{
	/* A private copy, so that ASan sees any read past the end. */
	char *buf = malloc(len ? len : 1);
	FUZZ_ASSERT(buf != NULL, "out of memory");
	memcpy(buf, data, len);
	struct synack_http_req req;
	long n = synack_http_parse(buf, len, &req);
	if (n > 0) {
		check_request(buf, len, n, &req);
	} else if (n < 0) {
		FUZZ_ASSERT(n == -EINVAL || n == -EMSGSIZE || n == -ENOSYS ||
				    n == -EPROTONOSUPPORT || n == -ENOTSUP,
			    "undocumented error %ld", n);
		int st = synack_http_error_status(n, len);
		FUZZ_ASSERT(st == 400 || st == 414 || st == 431 || st == 501 || st == 505,
			    "status %d", st);
		FUZZ_ASSERT(synack_http_reason(st) != NULL, "no reason");
	} else {
		FUZZ_ASSERT(len < SYNACK_HTTP_MAX_HEADER, "asks for more past the header limit");
	}
	free(buf);

	/* The raw input as a target, with room to spare and with a cramped output buffer. */
	char *target = malloc(len + 1);
	FUZZ_ASSERT(target != NULL, "out of memory");
	memcpy(target, data, len);
	target[len] = '\0';
	check_resolved(target, SYNACK_HTTP_MAX_TARGET);
	check_resolved(target, 2 + (len % 16));
	FUZZ_ASSERT(synack_http_content_type(target) != NULL, "no content type");
	free(target);
	return 0;
}

#ifndef SYNACK_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	return synack_fuzz_http(data, len);
}
#endif
