/* synack — internal: one connection of a built-in server (src/apps). */
#ifndef SYNACK_APPS_CONN_H
#define SYNACK_APPS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack/stack.h"

#define APP_BUF 16384

struct app_conn {
	struct synack_stack *s;
	int fd;
	bool eof;           /* the peer's FIN was read */
	bool done;          /* the server is finished with it: close */
	uint8_t *out;       /* bytes to send: out[off..len) */
	size_t off, len;
	uint32_t chargen_pos;
	/* http */
	const char *root;
	char *req;          /* received bytes not yet parsed */
	size_t req_len;
	uint64_t skip;      /* request body bytes still to discard */
	int file;           /* the file being sent, or -1 */
	uint64_t file_off, file_left;
	bool close_after;   /* close once the response is out */
	uint64_t requests;
	/* Timeouts (server.c, synack_server_tick): when the connection last moved (RCV.NXT or
	 * SND.UNA changed), and since when a request head has been incomplete (0: none). */
	uint64_t moved_us, head_since_us;
	uint32_t seen_rcv, seen_una;
	uint64_t head_req; /* requests when head_since_us was set */
};

/* Sends out[off..len). Returns 1 when all is sent, 0 when the socket is full, <0 on error. */
int app_flush(struct app_conn *c);
/* Drives one HTTP connection until it would block; sets c->done when it is to be closed. */
void app_http_run(struct app_conn *c);
void app_http_release(struct app_conn *c);

#endif
