/* synack drill — a packetdrill-language interpreter that runs scripts against synack in-process
 * on a virtual clock.
 *
 * The pipeline: lexer (text -> tokens) -> parser (tokens -> events, the AST) -> runner (events
 * -> a stack driven only through include/synack/{stack,socket}.h). packet.c builds inbound
 * frames and matches outbound ones, syscall.c runs the system calls, sysctl.c maps the shell
 * lines Linux scripts use to synack's tunables, report.c prints failures in the script's own
 * notation.
 *
 * Semantics follow google/packetdrill: times are absolute (`0.100`), relative (`+0.1`, to the
 * previous event; consecutive inbound packets chain on their script times), any (`*`) or ranges
 * (`0.1~0.2`); a blocking system call may carry an end time (`0.1...0.2`). Inbound sequence
 * numbers are sent as written (the script's remote ISN is its first SYN's seq); inbound ack
 * numbers and outbound seq numbers are relative to synack's ISN, learned from its SYN/SYN-ACK.
 */
#ifndef SYNACK_DRILL_H
#define SYNACK_DRILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- growable text buffer (messages, reports) ---- */
struct drill_buf {
	char *p;
	size_t len, cap;
};
void drill_buf_printf(struct drill_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void drill_buf_free(struct drill_buf *b);

/* ---- lexer ---- */
enum drill_tok_kind {
	DRILL_TOK_EOF,
	DRILL_TOK_INT,      /* 123, 0x1f */
	DRILL_TOK_FLOAT,    /* 0.100, .5 (times) */
	DRILL_TOK_IDENT,    /* SOCK_STREAM, mss, S */
	DRILL_TOK_STRING,   /* "..." (text without quotes) */
	DRILL_TOK_SHELL,    /* `...` (text without backquotes) */
	DRILL_TOK_CODE,     /* %{ ... }% */
	DRILL_TOK_OPTION,   /* --name=value at the start of a line (text without "--") */
	DRILL_TOK_ELLIPSIS, /* ... */
	DRILL_TOK_PUNCT     /* any other single character: < > , ( ) [ ] { } = : + - * ~ | . */
};

struct drill_token {
	enum drill_tok_kind kind;
	int line;
	size_t off, len;  /* the token's bytes in the source */
	uint64_t ival;    /* INT */
	int64_t usecs;    /* INT and FLOAT read as seconds, in microseconds */
	char *text;       /* IDENT, STRING, SHELL, CODE, OPTION (owned) */
	char punct;       /* PUNCT */
	bool space_before;
};

struct drill_tokens {
	struct drill_token *v;
	size_t n;
};

/* Tokenizes src. Returns 0, or -1 with a message "line N: ..." in err. */
int drill_lex(const char *src, size_t len, struct drill_tokens *out, struct drill_buf *err);
void drill_tokens_free(struct drill_tokens *t);

/* ---- AST ---- */
enum drill_time_kind {
	DRILL_TIME_ABS,       /* 0.100 */
	DRILL_TIME_REL,       /* +0.100 */
	DRILL_TIME_ANY,       /* * */
	DRILL_TIME_ABS_RANGE, /* 0.1~0.2 */
	DRILL_TIME_REL_RANGE  /* +0.1~+0.2 */
};

enum drill_expr_kind {
	DRILL_EX_INT,
	DRILL_EX_ELLIPSIS,
	DRILL_EX_SYMBOL,
	DRILL_EX_STRING,
	DRILL_EX_ARRAY,  /* [a, b] */
	DRILL_EX_STRUCT, /* {name=a, b} (names may be NULL) */
	DRILL_EX_CALL,   /* htons(8080), inet_addr("...") */
	DRILL_EX_OR      /* a | b */
};

struct drill_expr {
	enum drill_expr_kind kind;
	int64_t ival;
	char *text;   /* SYMBOL name, STRING text, CALL name */
	char **names; /* STRUCT field names (NULL entries for positional) */
	struct drill_expr **items; /* ARRAY/STRUCT/CALL elements; OR: 2 operands */
	size_t n;
};

enum drill_opt_kind {
	DRILL_OPT_EOL,
	DRILL_OPT_NOP,
	DRILL_OPT_MSS,
	DRILL_OPT_WSCALE,
	DRILL_OPT_SACKOK,
	DRILL_OPT_SACK,
	DRILL_OPT_TS,
	DRILL_OPT_FO,   /* TCP Fast Open, kind 34: "FO" (a cookie request) or "FO <hex cookie>" */
	DRILL_OPT_FOEXP /* the experimental form, kind 254 with magic 0xF989: "FOEXP [<hex>]" */
};

struct drill_opt {
	enum drill_opt_kind kind;
	uint32_t a, b; /* MSS/WSCALE value in a; TS val in a, ecr in b */
	uint32_t blocks[4][2];
	int nblocks;
	uint8_t cookie[16]; /* FO/FOEXP: the cookie, a bytes (0: a request) */
};

#define DRILL_MAX_OPTS 20

enum drill_opts_mode {
	DRILL_OPTS_UNWRITTEN, /* not checked on output; none sent on input */
	DRILL_OPTS_ANY,       /* <...>: not checked */
	DRILL_OPTS_LIST       /* checked exactly, in order (an empty <> means none) */
};

/* The ECN field of an IP header (RFC 3168 §5), and [ect01]: either ECT codepoint. */
enum {
	DRILL_ECN_NOT_ECT = 0,
	DRILL_ECN_ECT1 = 1,
	DRILL_ECN_ECT0 = 2,
	DRILL_ECN_CE = 3,
	DRILL_ECN_ECT01 = 4
};

struct drill_packet {
	bool inbound;
	bool has_ecn;      /* [noecn] [ect0] [ect1] [ce] [ect01] written */
	uint8_t ecn;       /* DRILL_ECN_* */
	/* (tos N, ttl N, df|nodf): IPv4 header fields (ttl, df and nodf are synack's) */
	bool has_tos, has_ttl;
	uint8_t tos, ttl;
	int df;            /* 0 not checked, 1 DF set, 2 DF clear */
	int port;          /* synack extension `port N`: the remote port; 0 = the default */
	uint8_t flags;     /* SYNACK_TH_* */
	bool has_seq;
	uint32_t seq, end, len;
	bool has_ack, has_win, has_urg;
	uint32_t ack, win, urg;
	enum drill_opts_mode opts_mode;
	struct drill_opt opts[DRILL_MAX_OPTS];
	int nopts;
	/* `< icmp TYPE [CODE] [mtu N] [seq:end(len)]`: an ICMP message about a segment synack
	 * sent (seq relative to synack's ISN, as in its `>` lines). */
	bool icmp;
	uint8_t icmp_type, icmp_code;
	bool has_mtu;
	uint16_t mtu;
};

#define DRILL_MAX_ARGS 8

struct drill_syscall {
	char *name;
	struct drill_expr *args[DRILL_MAX_ARGS];
	int nargs;
	bool ret_any;     /* = ... */
	int64_t ret;
	int err;          /* expected errno when ret == -1 (0: none written) */
	char *err_name;   /* "ECONNREFUSED" as written */
};

enum drill_event_kind {
	DRILL_EV_PACKET,
	DRILL_EV_SYSCALL,
	DRILL_EV_SHELL,
	DRILL_EV_CODE
};

struct drill_event {
	enum drill_event_kind kind;
	int line;
	char *text;         /* the event as written in the script */
	enum drill_time_kind time_kind;
	int64_t t_us, t_end_us; /* time, and range end */
	bool has_end;       /* blocking syscall end time: start...end */
	bool end_rel;
	int64_t end_us;
	struct drill_packet pkt;
	struct drill_syscall sc;
	char *shell;        /* SHELL and CODE text */
};

#define DRILL_MAX_DEFINES 32
struct drill_define {
	char name[64];
	char value[128];
};

/* Options a script may set at its top (and the command line): packetdrill's names. */
struct drill_config {
	int64_t tolerance_us;   /* 4000 */
	double tolerance_pct;   /* 12.5: extra allowance as a share of the time since the last event */
	uint32_t local_ip;      /* 192.168.0.1 */
	uint32_t remote_ip;     /* 192.0.2.1 */
	uint16_t bind_port;     /* 8080 */
	uint16_t connect_port;  /* 8080 */
	uint16_t remote_port;   /* the script's source port for inbound connections: 40000 */
	uint16_t mss;           /* --mss: inbound payloads larger than this go as several
				 * segments of this size (packetdrill's meaning); 0 = one frame */
	char init_scripts[256]; /* --init_scripts=a,b: shell scripts run before the script */
	struct drill_define defines[DRILL_MAX_DEFINES]; /* -D NAME=VALUE, #define */
	int ndefines;
	bool ipv6;              /* --ip_version=ipv6: the script is skipped */
	bool strict;            /* --strict: packets after the last `>` line are checked too */
	bool verbose;
	bool local_ip_set, remote_ip_set, tolerance_set, mss_set, pct_set; /* set on the command line */
	bool init_set;
};

void drill_config_default(struct drill_config *c);
/* Applies one "name=value" option (without the leading "--"). Returns 0, -1 with err. */
int drill_config_option(struct drill_config *c, const char *opt, bool from_script,
			struct drill_buf *err);
/* -D NAME[=VALUE] (VALUE "1" when omitted). Returns 0, or -1 for a bad name or a full table. */
int drill_define_set(struct drill_config *c, const char *def);
/* The value of a defined symbol, or NULL. */
const char *drill_define_get(const struct drill_config *c, const char *name);
/* Resolves nplab's #ifdef/#if/#else/#endif/#define lines in src (in place: directive lines and
 * inactive branches become blank). Returns 0, or -1 with "path:line: message" in err. */
int drill_preprocess(const char *path, char *src, size_t len, struct drill_config *c,
		     struct drill_buf *err);
/* Parses a dotted quad; returns 0 on success. */
int drill_parse_ipv4(const char *s, uint32_t *out);

struct drill_script {
	const char *path;
	char *src;
	size_t src_len;
	struct drill_event *ev;
	size_t nev;
	char **options; /* --name=value lines, in order */
	size_t noptions;
};

/* Parses a whole script. Returns 0, -1 with "path:line: message" in err, or -2 for valid
 * packetdrill this runner does not implement, with "line N: unsupported: what" in err. */
int drill_parse(const char *path, const char *src, size_t len, struct drill_script *out,
		struct drill_buf *err);
void drill_script_free(struct drill_script *s);
void drill_expr_free(struct drill_expr *e);

/* ---- symbols (syscall.c) ---- */
/* A named constant (SOCK_STREAM, O_NONBLOCK, ECONNRESET, POLLIN, TCP_ESTABLISHED...). */
bool drill_symbol_value(const char *name, int64_t *out);
const char *drill_errno_name(int err);
/* The system calls the runner implements (syscall.c). */
bool drill_syscall_supported(const char *name);

/* ---- sysctl.c ---- */
struct synack_config;
/* Sets one sysctl (Linux "net.ipv4.tcp_sack" or "tcp_sack", FreeBSD "net.inet.tcp...") in cfg.
 * Returns 1 if applied (or accepted without effect: a note goes to note), 0 if synack has no
 * equivalent (reason in why: the script is SKIPPED), -1 for a bad value. */
int drill_sysctl_set(const char *name, const char *value, struct synack_config *cfg,
		     bool sizes_allowed, struct drill_buf *why, struct drill_buf *note);

/* ---- runner ---- */
enum drill_status { DRILL_PASS, DRILL_FAIL, DRILL_SKIP };

struct drill_result {
	enum drill_status status;
	struct drill_buf msg; /* failure report or skip reason */
	struct drill_buf log; /* -v trace */
};

/* Runs a script held in memory. cfg gives the defaults (command line); the script's own
 * --options override them unless the command line set them. */
enum drill_status drill_run_source(const char *path, const char *src, size_t len,
				   const struct drill_config *cfg, struct drill_result *res);
enum drill_status drill_run_file(const char *path, const struct drill_config *cfg,
				 struct drill_result *res);
void drill_result_free(struct drill_result *res);

#endif
