/* synack — the control socket of a running synack, and the `ss` and `nstat` views.
 *
 * A Unix stream socket (mode 0600: only its owner can connect). A client sends one request
 * line and reads the answer until the server closes:
 *     "ss"      the connection table, formatted like `ss -tan`
 *     "ss -i"   the same with a line of TCP internals per connection, like `ss -tani`
 *     "nstat"   the counters, named and formatted like `nstat -a`: absolute values and the
 *               rate per second since the previous "nstat" request (or since the socket
 *               opened), as nstat rates against its history
 */
#ifndef SYNACK_HOST_CTL_H
#define SYNACK_HOST_CTL_H

#include <stdbool.h>
#include <stdio.h>

#include "synack/loop.h"
#include "synack/stack.h"
#include "synack/trace.h"

struct synack_ctl;

/* Binds the socket at path (replacing a stale one) and registers it with the loop.
 * Errors: -ENAMETOOLONG, -EADDRINUSE (a live synack answers there), errors of socket/bind. */
int synack_ctl_open(struct synack_ctl **out, const char *path, struct synack_loop *loop);
/* Unregisters, closes and unlinks the socket. */
void synack_ctl_close(struct synack_ctl *c);

/* The pieces, for a process without a loop (the LD_PRELOAD layer serves from a thread):
 * binds and listens at path (mode 0600, a stale socket replaced) and returns the descriptor
 * (non-blocking, close-on-exec) or an error as synack_ctl_open(); answers one request to out;
 * reads one client's request from cfd and writes answer()'s text back (1 s timeouts). */
int synack_ctl_listen(const char *path);
/* The counters at the last "nstat" answer, for its rates per second. */
struct synack_ctl_rates {
	struct synack_counters prev;
	uint64_t prev_us;
};
/* rates NULL: nstat without rates (0.0); else rates against it, then it is moved to now_us. */
void synack_ctl_answer(const struct synack_stack *s, struct synack_ctl_rates *rates,
		       uint64_t now_us, const char *request, FILE *out);
/* The same for n stacks (one per queue of `synack serve --threads`): ss lists every stack's
 * connections under one header, nstat adds their counters up. The caller keeps the stacks
 * still while it runs. */
void synack_ctl_answer_stacks(const struct synack_stack *const *s, size_t n,
			      struct synack_ctl_rates *rates, uint64_t now_us, const char *request,
			      FILE *out);
int synack_ctl_serve_client(int cfd, void (*answer)(void *ctx, const char *req, FILE *out),
			    void *ctx);

/* Writes the table like `ss -tan` (with `-i`: internals). */
void synack_format_ss(const struct synack_stack *s, bool internals, FILE *out);
void synack_format_ss_stacks(const struct synack_stack *const *s, size_t n, bool internals,
			     FILE *out);
/* Writes non-zero counters (and drop reasons as SynackDrop_<reason>) like `nstat -a`: name,
 * value, and the rate per second against prev over secs (0.0 when prev is NULL or secs <= 0). */
void synack_format_nstat(const struct synack_counters *c, const struct synack_counters *prev,
			 double secs, FILE *out);

/* Client side: sends request to the synack listening at path and copies the answer to out.
 * Errors: -ENAMETOOLONG, -ECONNREFUSED/-ENOENT (nobody there), -EACCES, -EIO. */
int synack_ctl_query(const char *path, const char *request, FILE *out);

#endif
