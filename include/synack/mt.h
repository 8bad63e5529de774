/* synack — a stack shared by threads: a stack thread drives the link and the timers, any
 * thread calls the socket API, blocking or not.
 *
 * The lock discipline: one mutex per stack. The stack thread holds it while it feeds frames
 * in and fires timers; an application thread holds it for the duration of one stack call
 * (never while it sleeps). A blocking call that cannot finish releases the mutex and waits
 * in poll(2) on the socket's descriptor, so a signal interrupts it with -EINTR as the kernel
 * would, and it never holds the stack while it waits.
 *
 * Every socket is named by a real kernel file descriptor (an eventfd), not by a stack-local
 * number: descriptor numbers never collide with files, pipes or kernel sockets, and the
 * descriptor can be handed to any event loop. It polls readable (POLLIN/EPOLLIN) while the
 * socket is ready for an event in its interest set (synack_mt_set_interest()) or has an error
 * or hang-up; it is written again on every change of readiness the stack reports, so
 * edge-triggered epoll sees a new edge. After a wake-up, ask synack_mt_events() what is ready.
 * Never read or write the descriptor yourself, and close it only with synack_mt_close().
 *
 * Errors are negative errno values, as in socket.h; the POSIX boundary (-1 and errno) is the
 * caller's (the LD_PRELOAD layer converts them).
 */
#ifndef SYNACK_MT_H
#define SYNACK_MT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "link.h"
#include "socket.h"
#include "stack.h"

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default) /* the library exports what this header declares */

struct synack_mt;

/* Flags of synack_mt_socket() and synack_mt_accept(). */
#define SYNACK_MT_NONBLOCK 0x1u /* calls never wait (as O_NONBLOCK) */
#define SYNACK_MT_CLOEXEC 0x2u  /* the descriptor is close-on-exec */

/* Per-call flags of send/recv, besides SYNACK_MSG_PEEK (Linux values). */
#define SYNACK_MSG_DONTWAIT 0x40
#define SYNACK_MSG_WAITALL 0x100

/* Options handled by this layer (level SYNACK_SOL_SOCKET): a uint64_t in microseconds,
 * 0 = wait forever (the default). A blocking receive (or accept) that times out returns
 * -EAGAIN; a blocking send returns what it queued, or -EAGAIN; a blocking connect returns
 * -EINPROGRESS (and goes on in the background), as Linux does. */
#define SYNACK_SO_RCVTIMEO 20
#define SYNACK_SO_SNDTIMEO 21

/* Starts a stack on link (the new object owns it) and its thread. cfg as for
 * synack_stack_new(); output, wake and the allocator are set here, and when both seed and
 * secret are zero they come from getrandom(). The stack thread blocks every signal, so
 * signals reach the application's threads. Errors: -ENOMEM, -EINVAL, errors of
 * eventfd/epoll_create1/pthread_create/getrandom. On failure the caller keeps link. */
int synack_mt_new(struct synack_mt **out, struct synack_link *link,
		  const struct synack_config *cfg);
/* Stops the thread and frees everything (open sockets included, without sending). */
void synack_mt_destroy(struct synack_mt *mt);
/* Waits until every connection has nothing of ours left to deliver (each is a listener,
 * FIN-WAIT-2, TIME-WAIT or CLOSED), at most timeout_ms. Returns 0, or -ETIMEDOUT. */
int synack_mt_settle(struct synack_mt *mt, int timeout_ms);
/* Runs fn(stack, ctx) with the stack locked and its clock current: for the rest of the API
 * (counters, the `ss` view, tunables). fn must not call synack_mt_* functions. */
void synack_mt_call(struct synack_mt *mt, void (*fn)(struct synack_stack *s, void *ctx),
		    void *ctx);
/* The stack's addresses, as synack_stack_addrs(); frames the link refused so far. */
size_t synack_mt_addrs(struct synack_mt *mt, struct synack_ifaddr *out, size_t cap);
uint64_t synack_mt_tx_errors(struct synack_mt *mt);

/* A TCP socket; returns its descriptor. Errors: -EMFILE, -ENOMEM, errors of eventfd. */
int synack_mt_socket(struct synack_mt *mt, unsigned flags);
/* As synack_bind(), synack_listen(). */
int synack_mt_bind(struct synack_mt *mt, int fd, const struct synack_endpoint *local);
int synack_mt_listen(struct synack_mt *mt, int fd, int backlog);
/* Blocking: waits for a connection (SO_RCVTIMEO: -EAGAIN). Returns the new descriptor.
 * Errors: as synack_accept(), -EINTR, -EBADF (closed meanwhile). */
int synack_mt_accept(struct synack_mt *mt, int fd, struct synack_endpoint *peer, unsigned flags);
/* Blocking: returns 0 once established, or the reason it failed (-ECONNREFUSED,
 * -ETIMEDOUT, -ENETUNREACH, ...); -EINTR or SO_SNDTIMEO: -EINPROGRESS, the attempt goes on.
 * Non-blocking: -EINPROGRESS; wait for writable, then read SO_ERROR. */
int synack_mt_connect(struct synack_mt *mt, int fd, const struct synack_endpoint *remote);
/* Blocking: queues all of buf, waiting for room; interrupted or timed out after queueing
 * some, returns that count. Errors: as synack_send(), -EINTR. */
ssize_t synack_mt_send(struct synack_mt *mt, int fd, const void *buf, size_t len, int flags);
/* Blocking: waits for data or the end of the stream (MSG_WAITALL: for len bytes).
 * Errors: as synack_recv(), -EINTR. */
ssize_t synack_mt_recv(struct synack_mt *mt, int fd, void *buf, size_t len, int flags);
int synack_mt_shutdown(struct synack_mt *mt, int fd, int how);
/* Closes the socket (gracefully, as synack_close()) and its descriptor. A thread blocked on
 * the socket wakes with -EBADF; the descriptor number stays taken until it has left. */
int synack_mt_close(struct synack_mt *mt, int fd);
/* As synack_setsockopt()/synack_getsockopt(), plus SYNACK_SO_RCVTIMEO/SNDTIMEO. */
int synack_mt_setsockopt(struct synack_mt *mt, int fd, int level, int name, const void *val,
			 size_t len);
int synack_mt_getsockopt(struct synack_mt *mt, int fd, int level, int name, void *val,
			 size_t *len);
int synack_mt_getsockname(struct synack_mt *mt, int fd, struct synack_endpoint *out);
int synack_mt_getpeername(struct synack_mt *mt, int fd, struct synack_endpoint *out);
int synack_mt_tcp_info(struct synack_mt *mt, int fd, struct synack_tcp_info *out);

/* Blocking mode of later calls (SYNACK_MT_NONBLOCK's switch). Errors: -EBADF. */
int synack_mt_set_nonblock(struct synack_mt *mt, int fd, bool on);
/* SYNACK_MT_NONBLOCK when calls on fd never wait, else 0. Errors: -EBADF. */
int synack_mt_flags(struct synack_mt *mt, int fd);
/* Readiness now (SYNACK_EV_*). Errors: -EBADF. */
int synack_mt_events(struct synack_mt *mt, int fd);
/* Which events make the descriptor poll readable (SYNACK_EV_READABLE/WRITABLE; errors and
 * hang-ups always do). The default is SYNACK_EV_READABLE. Errors: -EBADF, -EINVAL. */
int synack_mt_set_interest(struct synack_mt *mt, int fd, unsigned events);
/* A waiter joins (+1) or leaves (-1) the interest in events (counted, so several threads
 * and event loops can share a socket). Errors: -EBADF, -EINVAL. */
int synack_mt_add_interest(struct synack_mt *mt, int fd, unsigned events, int delta);
/* The socket is now named by newfd, which must be a dup of fd (same eventfd); fd becomes
 * the caller's to close. Errors: -EBADF, -EINVAL (not the same file). */
int synack_mt_rename(struct synack_mt *mt, int fd, int newfd);
/* Threads blocked in a call on fd right now (diagnostics and tests). Errors: -EBADF. */
int synack_mt_waiting(struct synack_mt *mt, int fd);
/* True when fd names a socket of this stack. */
bool synack_mt_is_socket(struct synack_mt *mt, int fd);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
