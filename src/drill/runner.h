/* synack drill — the runner's state, shared by runner.c, packet.c, syscall.c and report.c.
 * Internal to src/drill.
 */
#ifndef SYNACK_DRILL_RUNNER_H
#define SYNACK_DRILL_RUNNER_H

#include "drill/drill.h"
#include "drivers/driver.h"
#include "synack/socket.h"
#include "synack/stack.h"

/* Script time 0 is this instant on the stack's clock. */
#define DRILL_CLOCK_BASE_US 1000000ull

/* One TCP connection as the script sees it: the script plays the remote end. */
struct drill_conn {
	uint16_t rport, lport;  /* remote (script) port, local (synack) port */
	bool lport_known;
	bool isn_known;
	uint32_t local_isn;     /* synack's ISN, learned from its SYN or SYN-ACK */
	/* packetdrill's ts_val_map: the TS val a script wrote on an outbound packet -> the one
	 * synack sent; an inbound ecr equal to a script val is sent as synack's (the newest
	 * DRILL_TS_MAP mappings are kept). */
#define DRILL_TS_MAP 64
	uint32_t ts_script[DRILL_TS_MAP], ts_live[DRILL_TS_MAP];
	unsigned ts_n;
};

/* A frame the stack sent, waiting to be matched by an outbound (`>`) event. */
struct drill_frame {
	int64_t t; /* script time, µs */
	uint8_t *data;
	size_t len;
};

#define DRILL_HIST 6
struct drill_hist {
	int64_t t;
	char text[240];
};

#define DRILL_MAX_FDS 64
#define DRILL_MAX_EPOLL 16

enum drill_fd_kind { DRILL_FD_SOCKET, DRILL_FD_EPOLL, DRILL_FD_PIPE_R, DRILL_FD_PIPE_W };

/* An epoll instance's interest list (level-triggered). */
struct drill_epoll {
	int n;
	struct {
		int fd;          /* the script's descriptor */
		uint32_t events; /* EPOLLIN|EPOLLOUT|... as the script wrote them */
		int64_t data;    /* the fd= / u64= the script gave */
	} items[DRILL_MAX_EPOLL];
};

struct drill_fd {
	bool used;
	enum drill_fd_kind kind;
	int live;       /* synack's descriptor (sockets) */
	bool nonblock;  /* O_NONBLOCK set by fcntl; sockets start blocking, as in packetdrill */
	bool inq;       /* TCP_INQ: recvmsg reports the bytes left to read in a cmsg */
	int peer;       /* pipes: the other end's script descriptor */
	size_t pipe_bytes; /* read end: bytes written and not read */
	struct drill_epoll *ep; /* epoll instances */
};

/* The shell lines of a script (shell.c): configuration (sysctl, init scripts) and probes. */
struct drill_shell {
	struct synack_config *cfg; /* tunables the sysctls change */
	bool sizes_allowed;        /* before the first system call: buffer sizes may change */
	const char *dir;           /* the script's directory (for ./defaults.sh) */
	struct drill_run *r;       /* NULL in the prescan: probes are checked, not run */
	struct drill_buf *notes;   /* what was accepted without effect (-v) */
	struct drill_buf *why;
	int depth;
};
/* Returns 1 when done, 0 for a command synack cannot run (SKIP; reason in why), -1 when a
 * command failed (FAIL; why says how). */
int drill_shell_run(struct drill_shell *sh, const char *cmd, struct drill_buf *why);

/* A blocking system call in progress (a socket without O_NONBLOCK whose call would block):
 * retried as the virtual clock advances until the stack lets it finish. */
struct drill_pending {
	bool active;
	const struct drill_event *ev;
	int64_t start;       /* script time the call started */
	int64_t lo, hi;      /* when it may return */
	int64_t timeout_at;  /* poll(): its timeout; -1 none */
	size_t done;         /* write/send: bytes queued so far */
};

struct drill_run {
	struct drill_config cfg;
	const struct drill_script *script;
	struct synack_stack *stack;
	struct synack_driver drv; /* the stack without a link: the script hands frames in */
	int64_t now;         /* script time, µs */
	struct drill_frame *outq;
	size_t nout, capout;
	struct drill_conn conns[32];
	size_t nconns;
	int def_conn;        /* the connection packets without `port N` belong to; -1 none */
	struct drill_fd fds[DRILL_MAX_FDS];
	struct drill_hist hist[DRILL_HIST];
	size_t nhist;
	struct drill_pending pend;
	const struct drill_event *ev; /* the event being run */
	const struct drill_event *last_out; /* the script's last `>` line (NULL: none) */
	int64_t ev_end;      /* its resolved end time (blocking syscalls with `...`) */
	int64_t prev_t;      /* script time of the previous event */
	bool prev_inbound;
	bool failed;
	bool skipped;        /* stopped on something synack cannot run: SKIP, not FAIL */
	struct drill_buf *msg, *log;
	bool verbose;
	uint16_t ip_id;      /* of the next inbound packet */
	const char *dir;     /* the script's directory */
	int sut_fd;          /* the socket under test (last one a call used), for %{ }% */
	struct drill_code *code; /* %{ }% blocks with the TCP_INFO seen at their time */
	size_t ncode;
};

/* runner.c */
void drill_advance(struct drill_run *r, int64_t t);
int64_t drill_tolerance(const struct drill_run *r, int64_t t);

/* packet.c */
struct drill_conn *drill_conn_for_port(struct drill_run *r, int port, bool create);
int drill_packet_inject(struct drill_run *r, const struct drill_event *ev);
int drill_packet_match(struct drill_run *r, const struct drill_event *ev,
		       const struct drill_frame *f);
/* TSO: how many queued frames a `>` line covers (0: not all sent yet), and the expectation
 * for one of them (offset: its first byte within the line's range). */
size_t drill_packet_run_length(struct drill_run *r, const struct drill_packet *pk);
void drill_packet_part(const struct drill_event *ev, const struct drill_frame *f,
		       uint32_t offset, bool last, struct drill_event *out);
/* The frame in script notation ("S. 0:0(0) ack 1 win 65535 <mss 1460,...>"). */
void drill_packet_format(struct drill_run *r, const uint8_t *frame, size_t len, bool inbound,
			 char *out, size_t cap);
/* Learns ports and ISN from an outbound frame (called when the stack sends it). */
void drill_packet_learn(struct drill_run *r, const uint8_t *frame, size_t len);

/* One system call being run (syscall.c, msg.c, epoll.c). */
struct drill_call {
	struct drill_run *r;
	const struct drill_event *ev;
	const struct drill_syscall *sc;
	bool retry;       /* a pending call, tried again */
	bool blocking;    /* the socket is blocking */
	bool would_block; /* out: it must wait */
	int64_t ret;      /* out: >= 0 or -errno */
	int newfd_live;   /* out: socket()/accept() descriptor to map */
	bool nonblock;    /* out: socket(SOCK_NONBLOCK) */
};

/* syscall.c: helpers for the calls. Each returns 0, or -1 after reporting a failure (or a
 * SKIP). */
int drill_bad_arg(struct drill_call *c, int i, const char *what);
int drill_arg_int(struct drill_call *c, int i, int64_t *v);
bool drill_arg_any(const struct drill_call *c, int i);
/* A struct field by name (or NULL). */
const struct drill_expr *drill_field(const struct drill_expr *e, const char *name);
/* synack's descriptor for argument i (1 << 20 when not an open socket: synack says EBADF);
 * -2 after a failure. */
int drill_fd_arg(struct drill_call *c, int i, int *script_fd);
int drill_recv_common(struct drill_call *c, int64_t len, int flags);
int drill_send_common(struct drill_call *c, int64_t len, int flags);
int drill_sendto_fastopen(struct drill_call *c, int64_t len, int flags);
int64_t drill_open(struct drill_call *c, int fd, const struct synack_endpoint *ep,
		   const void *data, size_t len);
int drill_iov_total(struct drill_call *c, const struct drill_expr *e, int i, int64_t *total);

/* msg.c: sendto, recvfrom, sendmsg, recvmsg, ioctl. epoll.c: epoll_*, pipe. */
int drill_sc_sendto(struct drill_call *c);
int drill_sc_recvfrom(struct drill_call *c);
int drill_sc_sendmsg(struct drill_call *c);
int drill_sc_recvmsg(struct drill_call *c);
int drill_sc_ioctl(struct drill_call *c);
int drill_sc_epoll_create(struct drill_call *c);
int drill_sc_epoll_ctl(struct drill_call *c);
int drill_sc_epoll_wait(struct drill_call *c);
int drill_sc_pipe(struct drill_call *c);
/* Readiness of a script descriptor as a SYNACK_EV_* mask (1u << 31: not open). */
unsigned drill_fd_events(const struct drill_run *r, int64_t sfd);
/* read/write/close on a pipe descriptor (script fd); returns false if fd is not a pipe. */
bool drill_pipe_io(struct drill_call *c, int sfd, int64_t len, bool write);

/* syscall.c */
int drill_syscall_run(struct drill_run *r, const struct drill_event *ev);
/* Retries the pending blocking call; returns -1 if it finished wrongly (failure reported). */
int drill_syscall_retry(struct drill_run *r);
int64_t drill_syscall_deadline(const struct drill_run *r);
int drill_eval(struct drill_run *r, const struct drill_event *ev, const struct drill_expr *e,
	       int64_t *v);
/* A script descriptor to synack's (an invalid descriptor when it is not open). */
int drill_live_fd(const struct drill_run *r, int64_t script_fd);

/* sockopt.c: setsockopt, getsockopt and poll. Each sets *ret (>= 0 or -errno) and returns 0,
 * or -1 after reporting a failure (a value that does not match, a bad argument). */
int drill_sockopt_set(struct drill_run *r, const struct drill_event *ev, int fd, int64_t *ret);
int drill_sockopt_get(struct drill_run *r, const struct drill_event *ev, int fd, int64_t *ret);
int drill_poll(struct drill_run *r, const struct drill_event *ev, bool retry, int64_t *ret,
	       bool *would_block);
/* Whether a tcpi_* field of TCP_INFO is one synack reports. */
bool drill_tcp_info_field_known(const char *name);
/* Every tcpi_* name synack reports (NULL-terminated), and one value in Linux's units. */
extern const char *const drill_tcp_info_names[];
int drill_tcp_info_value(const struct synack_tcp_info *ti, const char *name, int64_t *v);

/* python.c: %{ }% blocks. */
struct drill_code;
const char *drill_code_unknown_field(const char *code, char *buf, size_t cap);
void drill_code_record(struct drill_run *r, const struct drill_event *ev);
void drill_code_finish(struct drill_run *r);
void drill_code_free(struct drill_run *r);

/* report.c */
void drill_fail(struct drill_run *r, const struct drill_event *ev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Stops the script as SKIPPED: valid packetdrill that synack cannot run. The reason is one
 * line, "line N: unsupported: ...". */
void drill_skip(struct drill_run *r, const struct drill_event *ev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void drill_fail_detail(struct drill_run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void drill_history_add(struct drill_run *r, int64_t t, bool inbound, const char *text);
void drill_report_finish(struct drill_run *r);
void drill_logf(struct drill_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "1.200000" */
void drill_fmt_time(int64_t us, char *out, size_t cap);

#endif
