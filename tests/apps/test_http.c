/* The http app's request parser and path resolver: well-formed requests parse exactly;
 * malformed ones give the error that maps to 400 (or 414/431/501/505), never a crash. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apps/http.h"

static long parse(const char *s, struct synack_http_req *r)
{
	return synack_http_parse(s, strlen(s), r);
}

Test(http_parse, simple_get_keep_alive_by_default_in_1_1)
{
	struct synack_http_req r;
	const char *s = "GET /index.html?x=1 HTTP/1.1\r\nHost: a\r\n\r\n";
	cr_assert_eq(parse(s, &r), (long)strlen(s));
	cr_assert_eq(r.method, SYNACK_HTTP_GET);
	cr_assert_str_eq(r.target, "/index.html?x=1");
	cr_assert_eq(r.minor, 1);
	cr_assert(r.keep_alive);
	cr_assert_eq(r.content_length, 0);
}

Test(http_parse, head_and_http_1_0_closes_unless_keep_alive)
{
	struct synack_http_req r;
	cr_assert_gt(parse("HEAD / HTTP/1.0\r\n\r\n", &r), 0);
	cr_assert_eq(r.method, SYNACK_HTTP_HEAD);
	cr_assert_eq(r.minor, 0);
	cr_assert(!r.keep_alive);
	cr_assert_gt(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r), 0);
	cr_assert(r.keep_alive);
	cr_assert_gt(parse("GET / HTTP/1.1\r\nconnection:  foo, close \r\n\r\n", &r), 0);
	cr_assert(!r.keep_alive);
}

Test(http_parse, returns_only_the_first_of_pipelined_requests)
{
	struct synack_http_req r;
	const char *s = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
	cr_assert_eq(parse(s, &r), 19);
	cr_assert_str_eq(r.target, "/a");
	cr_assert_eq(parse(s + 19, &r), 19);
	cr_assert_str_eq(r.target, "/b");
}

Test(http_parse, incomplete_heads_need_more)
{
	struct synack_http_req r;
	const char *s = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	for (size_t n = 0; n < strlen(s); n++)
		cr_assert_eq(synack_http_parse(s, n, &r), 0, "prefix of %zu bytes", n);
}

Test(http_parse, content_length_parsed_and_conflicts_rejected)
{
	struct synack_http_req r;
	cr_assert_gt(parse("GET / HTTP/1.1\r\nContent-Length: 42\r\n\r\n", &r), 0);
	cr_assert_eq(r.content_length, 42);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n", &r),
		     -EINVAL);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &r), -EINVAL);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", &r),
		     -EINVAL);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &r), -ENOTSUP);
}

Test(http_parse, malformed_requests_are_400)
{
	static const char *const bad[] = {
		"\r\n\r\n",
		"GET\r\n\r\n",
		"GET /\r\n\r\n",
		"GET  / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1 \r\n\r\n",
		"GET / HTTX/1.1\r\n\r\n",
		"GET / HTTP/1.x\r\n\r\n",
		"G(T / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
		"GET / HTTP/1.1\r\n: a\r\n\r\n",
		"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
		"GET / HTTP/1.1\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
		"GET /\x01 HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nA: \x7f\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct synack_http_req r;
		long err = parse(bad[i], &r);
		cr_assert_eq(err, -EINVAL, "case %zu gave %ld", i, err);
		cr_assert_eq(synack_http_error_status(err, strlen(bad[i])), 400);
	}
}

Test(http_parse, embedded_nul_is_400)
{
	struct synack_http_req r;
	const char s[] = "GET /a\0b HTTP/1.1\r\n\r\n";
	cr_assert_eq(synack_http_parse(s, sizeof s - 1, &r), -EINVAL);
}

Test(http_parse, other_methods_versions_and_sizes)
{
	struct synack_http_req r;
	cr_assert_eq(parse("POST / HTTP/1.1\r\n\r\n", &r), -ENOSYS);
	cr_assert_eq(synack_http_error_status(-ENOSYS, 10), 501);
	cr_assert_eq(parse("GET / HTTP/2.0\r\n\r\n", &r), -EPROTONOSUPPORT);
	cr_assert_eq(synack_http_error_status(-EPROTONOSUPPORT, 10), 505);
	char big[SYNACK_HTTP_MAX_HEADER + 16];
	memset(big, 'a', sizeof big);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	cr_assert_eq(synack_http_parse(big, sizeof big, &r), -EMSGSIZE);
	cr_assert_eq(synack_http_error_status(-EMSGSIZE, sizeof big), 431);
	char longt[SYNACK_HTTP_MAX_TARGET + 64];
	memset(longt, 'a', sizeof longt);
	memcpy(longt, "GET /", 5);
	strcpy(longt + SYNACK_HTTP_MAX_TARGET + 20, " HTTP/1.1\r\n\r\n");
	cr_assert_eq(parse(longt, &r), -EMSGSIZE);
	cr_assert_eq(synack_http_error_status(-EMSGSIZE, strlen(longt)), 414);
}

/* Every byte value at every position of a valid request: never a crash, always a defined
 * answer (complete, incomplete or an error). */
Test(http_parse, single_byte_mutations_never_crash)
{
	const char *s = "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n";
	size_t n = strlen(s);
	char *buf = malloc(n); /* exact size: ASan catches a read past the end */
	for (size_t i = 0; i < n; i++)
		for (int b = 0; b < 256; b++) {
			memcpy(buf, s, n);
			buf[i] = (char)b;
			struct synack_http_req r;
			long v = synack_http_parse(buf, n, &r);
			cr_assert(v == 0 || v == (long)n || v == -EINVAL || v == -ENOSYS ||
				  v == -EPROTONOSUPPORT || v == -ENOTSUP || v == -EMSGSIZE);
		}
	free(buf);
}

Test(http_resolve, maps_targets_to_relative_paths)
{
	char out[256];
	cr_assert_eq(synack_http_resolve("/", out, sizeof out), 0);
	cr_assert_str_eq(out, "");
	cr_assert_eq(synack_http_resolve("/a//b/c.txt?q=/../x", out, sizeof out), 0);
	cr_assert_str_eq(out, "a/b/c.txt");
	cr_assert_eq(synack_http_resolve("/big%20file", out, sizeof out), 0);
	cr_assert_str_eq(out, "big file");
}

Test(http_resolve, refuses_escapes)
{
	char out[256];
	static const char *const bad[] = {"/..",      "/../etc/passwd", "/a/../../b", "/%2e%2e/x",
					  "/a/%2E%2e", "/a%2fb",        "/a%00b",     "/a\\b",
					  "/./a",     "a",              "/%zz",       "/%4"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(synack_http_resolve(bad[i], out, sizeof out), -EINVAL, "%s", bad[i]);
}

Test(http_open, stays_under_the_root_even_through_symlinks)
{
	char dir[] = "/tmp/synack-http-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char p[512];
	snprintf(p, sizeof p, "%s/f.txt", dir);
	FILE *f = fopen(p, "w");
	fputs("hello", f);
	fclose(f);
	snprintf(p, sizeof p, "%s/out", dir);
	cr_assert_eq(symlink("/etc/hostname", p), 0);
	snprintf(p, sizeof p, "%s/sub", dir);
	mkdir(p, 0700);

	uint64_t size = 0;
	int fd = synack_http_open(dir, "f.txt", &size);
	cr_assert_geq(fd, 0);
	cr_assert_eq(size, 5);
	close(fd);
	cr_assert_eq(synack_http_open(dir, "out", &size), -EACCES);
	cr_assert_eq(synack_http_open(dir, "sub", &size), -ENOENT);
	cr_assert_eq(synack_http_open(dir, "missing", &size), -ENOENT);

	snprintf(p, sizeof p, "rm -rf '%s'", dir);
	cr_assert_eq(system(p), 0);
}

Test(http_type, by_extension)
{
	cr_assert_str_eq(synack_http_content_type("a/b.HTML"), "text/html; charset=utf-8");
	cr_assert_str_eq(synack_http_content_type("x.bin"), "application/octet-stream");
	cr_assert_str_eq(synack_http_content_type("dir.d/noext"), "application/octet-stream");
}
