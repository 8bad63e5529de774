/* synack — the control socket of a running synack, and the `ss` and `nstat` views.
 *
 * A Unix stream socket (mode 0600: only its owner can connect). A client sends one request
 * line and reads the answer until the server closes:
 *     "ss"      the connection table, formatted like `ss -tan`
 *     "ss -i"   the same with a line of TCP internals per connection, like `ss -tani`
 *     "nstat"   the counters, named and formatted like `nstat -a`
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

/* Writes the table like `ss -tan` (with `-i`: internals). */
void synack_format_ss(const struct synack_stack *s, bool internals, FILE *out);
/* Writes non-zero counters (and drop reasons as SynackDrop_<reason>) like `nstat -a`. */
void synack_format_nstat(const struct synack_counters *c, FILE *out);

/* Client side: sends request to the synack listening at path and copies the answer to out.
 * Errors: -ENAMETOOLONG, -ECONNREFUSED/-ENOENT (nobody there), -EACCES, -EIO. */
int synack_ctl_query(const char *path, const char *request, FILE *out);

#endif
