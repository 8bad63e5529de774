/* synack — the LD_PRELOAD layer: shared state of its three files.
 *
 *   preload.c  configuration from the environment, the stack (started on first use), the
 *              descriptor table, fork and exit, the control socket
 *   calls.c    the socket calls: socket ... close, fcntl, ioctl, dup, sendfile
 *   wait.c     poll/ppoll, select/pselect, epoll_ctl/epoll_wait/epoll_pwait
 *
 * A program's descriptor is either the kernel's (passed to libc untouched) or names a synack
 * socket: then it is the socket's eventfd (the mt layer's handle) or a dup of it (an alias).
 * pl_handle() maps a descriptor to its handle, or -1.
 */
#ifndef SYNACK_PRELOAD_H
#define SYNACK_PRELOAD_H

#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "synack/mt.h"
#include "synack/tun.h"

/* libc's functions, found with dlsym(RTLD_NEXT). */
struct pl_real {
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	int (*close)(int);
	int (*shutdown)(int, int);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*fcntl)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
		       const sigset_t *);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
	ssize_t (*sendfile)(int, int, off_t *, size_t);
};
extern struct pl_real pl_real;

/* The stack, started on first use; NULL when synack is not configured (everything passes
 * through) or could not start (pl_failed() says so). */
struct synack_mt *pl_mt(void);
bool pl_failed(void);
/* True in a child forked from a process that had a stack: its synack sockets are dead. */
extern volatile bool pl_forked;

/* Descriptor table. */
int pl_handle(int fd);
void pl_set(int fd, int handle); /* handle -1: fd is the kernel's again */
int pl_refs(int handle);         /* descriptors naming the handle */
/* fd is closed: returns the handle it named and forgets it (the caller closes). */
void pl_forget_epoll(int handle); /* wait.c: drop the socket from every epoll set */

/* Sets errno from a negative result and returns -1; passes non-negative results. */
long pl_ret(long r);
/* Prints "synack-preload: ..." on stderr once per message key. */
void pl_warn_once(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The family a synack socket was made with (AF_INET or AF_INET6), per handle; its aliases
 * and the sockets a listener accepts share it. */
void pl_set_family(int handle, int family);
int pl_family(int handle);
/* Whether SYNACK_ADDR gives synack an address of the family (its sockets are synack's). */
bool pl_has_family(int family);
int pl_parse_addrs(const char *env, struct synack_tun_addr out[2]);

/* sockaddr <-> endpoint, for a socket of the family. Errors: -EAFNOSUPPORT, -EINVAL. */
int pl_endpoint(int family, const struct sockaddr *sa, socklen_t len,
		struct synack_endpoint *ep);
void pl_sockaddr(int family, const struct synack_endpoint *ep, struct sockaddr *sa,
		 socklen_t *len);

/* calls.c: a synack socket that must become the kernel's (loopback): fd keeps its number. */
int pl_to_kernel(int fd, int handle);

#endif
