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
struct drill_fd {
	bool used;
	int live;       /* synack's descriptor */
	bool nonblock;  /* O_NONBLOCK set by fcntl; sockets start blocking, as in packetdrill */
};

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
	struct drill_buf *msg, *log;
	bool verbose;
	uint16_t ip_id;      /* of the next inbound packet */
};

/* runner.c */
void drill_advance(struct drill_run *r, int64_t t);
int64_t drill_tolerance(const struct drill_run *r, int64_t t);

/* packet.c */
struct drill_conn *drill_conn_for_port(struct drill_run *r, int port, bool create);
int drill_packet_inject(struct drill_run *r, const struct drill_event *ev);
int drill_packet_match(struct drill_run *r, const struct drill_event *ev,
		       const struct drill_frame *f);
/* The frame in script notation ("S. 0:0(0) ack 1 win 65535 <mss 1460,...>"). */
void drill_packet_format(struct drill_run *r, const uint8_t *frame, size_t len, bool inbound,
			 char *out, size_t cap);
/* Learns ports and ISN from an outbound frame (called when the stack sends it). */
void drill_packet_learn(struct drill_run *r, const uint8_t *frame, size_t len);

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

/* report.c */
void drill_fail(struct drill_run *r, const struct drill_event *ev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void drill_fail_detail(struct drill_run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void drill_history_add(struct drill_run *r, int64_t t, bool inbound, const char *text);
void drill_report_finish(struct drill_run *r);
void drill_logf(struct drill_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "1.200000" */
void drill_fmt_time(int64_t us, char *out, size_t cap);

#endif
