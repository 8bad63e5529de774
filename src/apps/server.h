/* synack — the built-in servers: echo (RFC 862), discard (RFC 863), chargen (RFC 864) and a
 * small HTTP/1.1 server, written against synack's socket API only.
 *
 * They are event driven: whoever runs the stack (the host loop, the simulator, a test) calls
 * synack_server_ready() when a socket's readiness changes, and the server reads and writes
 * until the socket would block. No call blocks and no thread is used.
 */
#ifndef SYNACK_APPS_SERVER_H
#define SYNACK_APPS_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "synack/stack.h"

enum synack_app_kind { SYNACK_APP_ECHO, SYNACK_APP_DISCARD, SYNACK_APP_CHARGEN, SYNACK_APP_HTTP };

/* "echo", "discard", "chargen", "http" → kind. Returns 0 or -EINVAL. */
int synack_app_parse(const char *name, enum synack_app_kind *out);
const char *synack_app_name(enum synack_app_kind k);
/* The well-known port: 7, 9, 19, 80. */
uint16_t synack_app_default_port(enum synack_app_kind k);

struct synack_app_opts {
	enum synack_app_kind kind;
	uint16_t port;      /* 0: the default port */
	const char *root;   /* http: files are served from here (NULL: only "/") */
	uint32_t max_conns; /* connections served at once; more are closed at once. 0: no limit */
	int backlog;        /* 0: 1024 */
	/* Timeouts, enforced by synack_server_tick(); 0: none. A connection that has not moved
	 * (no byte received, none of ours acknowledged) for idle_timeout_ms, or (http) whose
	 * request head is still incomplete after header_timeout_ms, is reset (SO_LINGER 0):
	 * its slot is free at once, so slow or silent clients (slowloris) cannot hold them. */
	uint32_t idle_timeout_ms;
	uint32_t header_timeout_ms;
};

struct synack_server;

/* Opens the listening socket. Errors: those of synack_socket/bind/listen, -ENOMEM. */
int synack_server_new(struct synack_server **out, struct synack_stack *s,
		      const struct synack_app_opts *opts);
/* Readiness of a socket changed: the listener or one of the server's connections. Other
 * descriptors are ignored (returns false). */
bool synack_server_ready(struct synack_server *srv, int fd, unsigned events);
/* Stops listening and closes every connection gracefully (FIN after what was queued). */
void synack_server_shutdown(struct synack_server *srv);
/* Applies the timeouts at now_us (the stack's clock, synack_stack_now()); returns when to
 * call again (SYNACK_TIME_NEVER: no timeout configured or no connection). The check is
 * sampled: a timeout acts between its length and its length plus the interval returned (at
 * most 1 s). */
uint64_t synack_server_tick(struct synack_server *srv, uint64_t now_us);
/* Connections reset by a timeout since the start. */
uint64_t synack_server_timeouts(const struct synack_server *srv);
/* Connections the server still holds a descriptor for. */
uint32_t synack_server_conns(const struct synack_server *srv);
/* Connections accepted since the start. */
uint64_t synack_server_accepted(const struct synack_server *srv);
void synack_server_destroy(struct synack_server *srv);

#endif
