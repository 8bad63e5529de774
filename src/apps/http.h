/* synack — the HTTP/1.1 request parser and path resolver of the built-in http app (RFC 9112).
 *
 * Pure functions over bytes: no I/O except synack_http_open() which opens the resolved file.
 * Malformed input yields an error code, never a crash or an out-of-bounds read.
 */
#ifndef SYNACK_APPS_HTTP_H
#define SYNACK_APPS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYNACK_HTTP_MAX_HEADER 8192 /* request line + header fields */
#define SYNACK_HTTP_MAX_TARGET 1024

enum synack_http_method { SYNACK_HTTP_GET, SYNACK_HTTP_HEAD };

struct synack_http_req {
	enum synack_http_method method;
	char target[SYNACK_HTTP_MAX_TARGET]; /* as sent, NUL-terminated */
	int minor;                           /* HTTP/1.<minor> */
	bool keep_alive;                     /* after this response, keep the connection open */
	uint64_t content_length;             /* body bytes to skip */
};

/* Parses one request head at the start of buf[0..len).
 * Returns the length of the head (request line + fields + CRLF CRLF) when complete, 0 when
 * more bytes are needed, or a negative errno:
 *   -EINVAL           malformed (bad request line, field, Content-Length, bare CR, NUL) → 400
 *   -EMSGSIZE         head longer than SYNACK_HTTP_MAX_HEADER, or target too long   → 431/414
 *   -ENOSYS           a method other than GET and HEAD                               → 501
 *   -EPROTONOSUPPORT  not HTTP/1.0 or HTTP/1.1                                       → 505
 *   -ENOTSUP          Transfer-Encoding in a request                                 → 501 */
long synack_http_parse(const char *buf, size_t len, struct synack_http_req *req);

/* The status code for a parse error (400, 414, 431, 501, 505). */
int synack_http_error_status(long err, size_t len);
const char *synack_http_reason(int status);

/* Maps a request target to a path relative to the document root: strips the query, decodes
 * %XX, rejects NUL, backslash, "." and ".." segments (no escape from the root), collapses
 * repeated slashes. "/" maps to "" (the index). Returns 0 or -EINVAL (400) / -ENOENT (404). */
int synack_http_resolve(const char *target, char *out, size_t cap);

/* Opens root/rel for reading, refusing anything whose real path is outside root (symlinks)
 * or that is not a regular file. Returns a descriptor and sets *size, or -ENOENT/-EACCES. */
int synack_http_open(const char *root, const char *rel, uint64_t *size);

/* A Content-Type for a file name by its extension. */
const char *synack_http_content_type(const char *path);

#endif
