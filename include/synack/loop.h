/* synack — the event loop: one stack on one link, driven by the real clock (Linux).
 *
 * The loop is the only code in synack that sleeps. It owns one stack and one link (a TUN
 * device from tun.h, or any link with a pollable fd). It waits in epoll on the link's
 * descriptor, on any extra descriptors registered (a control socket, a pipe being sent), and
 * on a signalfd for SIGINT and SIGTERM, with the stack's next deadline as the timeout. Time is
 * CLOCK_MONOTONIC in microseconds; the stack's PRNG seed and ISN secret come from getrandom().
 *
 * Applications are told about socket readiness through on_ready. The stack's wake callback
 * only records the descriptor: on_ready runs after synack_stack_input()/poll() have returned,
 * so applications may call the socket API freely from it. A server in a few lines:
 *
 *     static void on_ready(void *ctx, int fd, unsigned events)
 *     {
 *         ... synack_accept() on the listener, synack_recv()/synack_send() on the others ...
 *     }
 *     synack_tun_open("tun0", addr, 24, NULL, &link);
 *     synack_config_default(&cfg);
 *     synack_config_add_addr(&cfg, synack_addr_v4(addr), 24);
 *     synack_loop_new(&loop, link, &cfg, &(struct synack_loop_hooks){.on_ready = on_ready});
 *     struct synack_stack *st = synack_loop_stack(loop);
 *     ... synack_socket(st), synack_bind(), synack_listen() ...
 *     synack_loop_run(loop);                 (until SIGINT/SIGTERM or synack_loop_stop())
 *     synack_loop_destroy(loop);
 *
 * examples/hello_tun.c is that program in full.
 */
#ifndef SYNACK_LOOP_H
#define SYNACK_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "link.h"
#include "stack.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the library exports what this header declares */

struct synack_loop;

struct synack_loop_hooks {
	/* A synack socket's readiness changed; events is synack_events(stack, fd). */
	void (*on_ready)(void *ctx, int fd, unsigned events);
	/* SIGINT or SIGTERM arrived. Without this hook, the loop stops. */
	void (*on_signal)(void *ctx, int signo);
	/* The alarm set with synack_loop_set_alarm() is due. */
	void (*on_alarm)(void *ctx, uint64_t now_us);
	void *ctx;
	unsigned flags; /* SYNACK_LOOP_* */
	/* Called with true right before synack_loop_run() waits in epoll and with false right
	 * after: the stack is not touched in between. A program running several loops on
	 * threads releases a lock here, so another thread may read the stack while the loop
	 * sleeps (`synack serve --threads` does, for `synack ss`). Optional. */
	void (*on_wait)(void *ctx, bool waiting);
};

/* The loop neither blocks nor reads SIGINT and SIGTERM (on_signal is never called): another
 * thread of the program takes them, and stops the loop by a descriptor of its own. */
#define SYNACK_LOOP_NO_SIGNALS 1u

/* A descriptor registered with synack_loop_add_fd() is ready (EPOLLIN/EPOLLOUT/...). */
typedef void (*synack_loop_fd_fn)(void *ctx, int fd, uint32_t epoll_events);

/* CLOCK_MONOTONIC in microseconds: the loop's clock. */
uint64_t synack_monotonic_us(void);

/* Creates the loop and its stack. cfg supplies the address, name and tunables; the loop sets
 * output, wake, the allocator (malloc) and, when both are zero, seed and secret (getrandom).
 * The loop owns link (destroyed with it); on failure the caller keeps it. SIGINT and SIGTERM
 * are blocked and read through a signalfd; they stay blocked after synack_loop_destroy() (the
 * process is about to exit, and a late second signal must not kill it).
 * With SYNACK_LOOP_NO_SIGNALS in hooks->flags, signals are left alone.
 * Errors: -ENOMEM, -EINVAL (bad config), errors of epoll_create1/signalfd/getrandom. */
int synack_loop_new(struct synack_loop **out, struct synack_link *link,
		    const struct synack_config *cfg, const struct synack_loop_hooks *hooks);
/* Destroys the stack (without sending anything), the link and the loop. NULL is a no-op. */
void synack_loop_destroy(struct synack_loop *l);
/* The loop's stack, for the socket API. */
struct synack_stack *synack_loop_stack(struct synack_loop *l);
/* Watches a host descriptor (level-triggered); at most 16. Errors: -ENOSPC (16 already), those
 * of epoll_ctl. */
int synack_loop_add_fd(struct synack_loop *l, int fd, uint32_t events, synack_loop_fd_fn fn,
		       void *ctx);
/* Errors: -ENOENT (not registered), those of epoll_ctl. */
int synack_loop_del_fd(struct synack_loop *l, int fd);
/* Calls on_alarm once at (or soon after) at_us; SYNACK_TIME_NEVER cancels. */
void synack_loop_set_alarm(struct synack_loop *l, uint64_t at_us);
/* Asks synack_loop_run() to return after the current iteration. */
void synack_loop_stop(struct synack_loop *l);
/* Marks fd ready so on_ready runs for it after the current step (e.g. to start a send). */
void synack_loop_kick(struct synack_loop *l, int fd);
/* Runs until synack_loop_stop() (or SIGINT/SIGTERM without an on_signal hook). Returns 0, or
 * a negative errno if the link or epoll failed. */
int synack_loop_run(struct synack_loop *l);
/* The signal that arrived last (0: none). */
int synack_loop_signal(const struct synack_loop *l);
/* Frames the link refused (-EAGAIN or an error) and frames dropped by the link's reader. */
uint64_t synack_loop_tx_errors(const struct synack_loop *l);

/* True when every connection the stack holds is a listener, FIN-WAIT-2 (our FIN was
 * acknowledged), TIME-WAIT or CLOSED: nothing of ours left to deliver or acknowledge (a
 * program may exit without cutting a transfer short). */
bool synack_stack_settled(const struct synack_stack *s);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
