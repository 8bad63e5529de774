/* synack — trace events, drop reasons and counters: what the stack did, made visible.
 *
 * A trace sink (synack_config.trace) sees every segment sent and received, every drop with its
 * reason, every state change, timer and error. Counters are named like Linux's MIB (nstat).
 */
#ifndef SYNACK_TRACE_H
#define SYNACK_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "socket.h"
#include "wire.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the library exports what this header declares */

/* Why a packet was dropped. Each has a counter and a name ("ip_bad_csum", ...). */
#define SYNACK_DROP_REASONS(X)                                                                 \
	X(NONE, "none")                                                                        \
	X(IP_TRUNCATED, "ip_truncated")                                                        \
	X(IP_VERSION, "ip_version")                                                            \
	X(IP_BAD_IHL, "ip_bad_ihl")                                                            \
	X(IP_BAD_TOTLEN, "ip_bad_totlen")                                                      \
	X(IP_BAD_CSUM, "ip_bad_csum")                                                          \
	X(IP_FRAGMENT, "ip_fragment")                                                          \
	X(IP_NOT_FOR_US, "ip_not_for_us")                                                      \
	X(IP_BAD_SRC, "ip_bad_src")                                                            \
	X(IP_UNKNOWN_PROTO, "ip_unknown_proto")                                                \
	X(IP6_BAD_EXTHDR, "ip6_bad_exthdr")                                                    \
	X(IP6_RH0, "ip6_rh0")                                                                  \
	X(IP6_UNKNOWN_OPTION, "ip6_unknown_option")                                            \
	X(IP_LAND, "ip_land")                                                                  \
	X(ICMP_MALFORMED, "icmp_malformed")                                                    \
	X(TCP_TRUNCATED, "tcp_truncated")                                                      \
	X(TCP_BAD_DOFF, "tcp_bad_doff")                                                        \
	X(TCP_BAD_CSUM, "tcp_bad_csum")                                                        \
	X(TCP_BAD_OPTION, "tcp_bad_option")                                                    \
	X(TCP_BAD_FLAGS, "tcp_bad_flags")                                                      \
	X(TCP_NO_SOCKET, "tcp_no_socket")                                                      \
	X(TCP_NOT_ACCEPTABLE, "tcp_not_acceptable")                                            \
	X(TCP_RST_NOT_EXACT, "tcp_rst_not_exact")                                              \
	X(TCP_RST_IN_TIME_WAIT, "tcp_rst_in_time_wait")                                        \
	X(TCP_SYN_IN_WINDOW, "tcp_syn_in_window")                                              \
	X(TCP_ACK_UNSENT, "tcp_ack_unsent")                                                    \
	X(TCP_ACK_OLD, "tcp_ack_old")                                                          \
	X(TCP_NO_ACK, "tcp_no_ack")                                                            \
	X(TCP_BAD_SYNACK, "tcp_bad_synack")                                                    \
	X(TCP_LISTEN_OVERFLOW, "tcp_listen_overflow")                                          \
	X(TCP_SYNQ_FULL, "tcp_synq_full")                                                      \
	X(TCP_OOO_FULL, "tcp_ooo_full")                                                        \
	X(TCP_RCVBUF_FULL, "tcp_rcvbuf_full")                                                  \
	X(TCP_BAD_COOKIE, "tcp_bad_cookie")                                                    \
	X(TCP_CHALLENGE_LIMIT, "tcp_challenge_limit")                                          \
	X(TCP_NO_MEMORY, "tcp_no_memory")                                                      \
	X(TCP_TABLE_FULL, "tcp_table_full")

enum synack_drop_reason {
#define SYNACK_X_ENUM(id, name) SYNACK_DROP_##id,
	SYNACK_DROP_REASONS(SYNACK_X_ENUM)
#undef SYNACK_X_ENUM
	SYNACK_DROP_COUNT
};
const char *synack_drop_reason_name(enum synack_drop_reason r);

/* Counters, named like Linux's nstat (without the "Tcp"/"Ip" prefix added by nstat). */
#define SYNACK_COUNTERS(X)                                                                     \
	X(ActiveOpens, "TcpActiveOpens")                                                       \
	X(PassiveOpens, "TcpPassiveOpens")                                                     \
	X(AttemptFails, "TcpAttemptFails")                                                     \
	X(EstabResets, "TcpEstabResets")                                                       \
	X(CurrEstab, "TcpCurrEstab")                                                           \
	X(InSegs, "TcpInSegs")                                                                 \
	X(OutSegs, "TcpOutSegs")                                                               \
	X(RetransSegs, "TcpRetransSegs")                                                       \
	X(InErrs, "TcpInErrs")                                                                 \
	X(OutRsts, "TcpOutRsts")                                                               \
	X(InCsumErrors, "TcpInCsumErrors")                                                     \
	X(IpInReceives, "IpInReceives")                                                        \
	X(IpInHdrErrors, "IpInHdrErrors")                                                      \
	X(IpInAddrErrors, "IpInAddrErrors")                                                    \
	X(IpInUnknownProtos, "IpInUnknownProtos")                                              \
	X(IpInDelivers, "IpInDelivers")                                                        \
	X(IpOutRequests, "IpOutRequests")                                                      \
	X(IpOutNoRoutes, "IpOutNoRoutes")                                                      \
	X(IpReasmFails, "IpReasmFails")                                                        \
	X(IpReasmReqds, "IpReasmReqds")                                                        \
	X(IpReasmOKs, "IpReasmOKs")                                                            \
	X(IpReasmTimeout, "IpReasmTimeout")                                                    \
	X(IpFragFails, "IpFragFails")                                                          \
	X(IcmpInMsgs, "IcmpInMsgs")                                                            \
	X(IcmpOutMsgs, "IcmpOutMsgs")                                                          \
	X(IcmpInDestUnreachs, "IcmpInDestUnreachs")                                            \
	X(Ip6InReceives, "Ip6InReceives")                                                      \
	X(Ip6InHdrErrors, "Ip6InHdrErrors")                                                    \
	X(Ip6InAddrErrors, "Ip6InAddrErrors")                                                  \
	X(Ip6InUnknownProtos, "Ip6InUnknownProtos")                                            \
	X(Ip6InTruncatedPkts, "Ip6InTruncatedPkts")                                            \
	X(Ip6InDelivers, "Ip6InDelivers")                                                      \
	X(Ip6OutRequests, "Ip6OutRequests")                                                    \
	X(Ip6ReasmFails, "Ip6ReasmFails")                                                      \
	X(Ip6ReasmReqds, "Ip6ReasmReqds")                                                      \
	X(Ip6ReasmOKs, "Ip6ReasmOKs")                                                          \
	X(Ip6ReasmTimeout, "Ip6ReasmTimeout")                                                  \
	X(Ip6FragFails, "Ip6FragFails")                                                        \
	X(Icmp6InMsgs, "Icmp6InMsgs")                                                          \
	X(Icmp6InErrors, "Icmp6InErrors")                                                      \
	X(Icmp6OutMsgs, "Icmp6OutMsgs")                                                        \
	X(Icmp6InDestUnreachs, "Icmp6InDestUnreachs")                                          \
	X(Icmp6InPktTooBigs, "Icmp6InPktTooBigs")                                              \
	X(Icmp6InParmProblems, "Icmp6InParmProblems")                                          \
	X(Icmp6InEchos, "Icmp6InEchos")                                                        \
	X(Icmp6OutEchoReplies, "Icmp6OutEchoReplies")                                          \
	X(Icmp6OutParmProblems, "Icmp6OutParmProblems")                                        \
	X(Icmp6OutErrors, "Icmp6OutErrors")                                                    \
	X(Icmp6OutRateLimitHost, "Icmp6OutRateLimitHost")                                      \
	X(ListenOverflows, "TcpExtListenOverflows")                                            \
	X(ListenDrops, "TcpExtListenDrops")                                                    \
	X(SyncookiesSent, "TcpExtSyncookiesSent")                                              \
	X(SyncookiesRecv, "TcpExtSyncookiesRecv")                                              \
	X(SyncookiesFailed, "TcpExtSyncookiesFailed")                                          \
	X(TCPChallengeACK, "TcpExtTCPChallengeACK")                                            \
	X(TCPSYNChallenge, "TcpExtTCPSYNChallenge")                                            \
	X(TCPTimeouts, "TcpExtTCPTimeouts")                                                    \
	X(TCPKeepAlive, "TcpExtTCPKeepAlive")                                                  \
	X(TCPAbortOnData, "TcpExtTCPAbortOnData")                                              \
	X(TCPAbortOnClose, "TcpExtTCPAbortOnClose")                                            \
	X(TCPAbortOnTimeout, "TcpExtTCPAbortOnTimeout")                                        \
	X(TCPAbortOnLinger, "TcpExtTCPAbortOnLinger")                                          \
	X(TCPAbortOnMemory, "TcpExtTCPAbortOnMemory")                                          \
	X(TW, "TcpExtTW")                                                                      \
	X(TCPOFOQueue, "TcpExtTCPOFOQueue")                                                    \
	X(TCPOFODrop, "TcpExtTCPOFODrop")                                                      \
	X(DelayedACKs, "TcpExtDelayedACKs")                                                    \
	X(InCEPkts, "IpExtInCEPkts")                                                           \
	X(InECT0Pkts, "IpExtInECT0Pkts")                                                       \
	X(TCPECNEchoReduce, "TcpExtTCPECNEchoReduce")                                          \
	X(TCPFastOpenActive, "TcpExtTCPFastOpenActive")                                        \
	X(TCPFastOpenActiveFail, "TcpExtTCPFastOpenActiveFail")                                \
	X(TCPFastOpenPassive, "TcpExtTCPFastOpenPassive")                                      \
	X(TCPFastOpenPassiveFail, "TcpExtTCPFastOpenPassiveFail")                              \
	X(TCPFastOpenListenOverflow, "TcpExtTCPFastOpenListenOverflow")                        \
	X(TCPFastOpenCookieReqd, "TcpExtTCPFastOpenCookieReqd")                                \
	X(TCPTimeWaitOverflow, "TcpExtTCPTimeWaitOverflow")                                    \
	X(TWRecycled, "TcpExtTWRecycled")                                                      \
	X(TCPDSACKRecv, "TcpExtTCPDSACKRecv")                                                  \
	X(TCPDSACKUndo, "TcpExtTCPDSACKUndo")                                                  \
	X(TCPLossUndo, "TcpExtTCPLossUndo")                                                    \
	X(TCPFullUndo, "TcpExtTCPFullUndo")                                                    \
	X(TCPSpuriousRTOs, "TcpExtTCPSpuriousRTOs")                                            \
	X(TCPMemoryPressures, "TcpExtTCPMemoryPressures")                                      \
	X(TCPRcvQDrop, "TcpExtTCPRcvQDrop")                                                    \
	X(OfoPruned, "TcpExtOfoPruned")                                                        \
	/* synack's own: quiet connections folded, and woken again (tcb_flow.c) */              \
	X(TCPFlowFolds, "TcpExtTCPFlowFolds")                                                  \
	X(TCPFlowUnfolds, "TcpExtTCPFlowUnfolds")                                              \
	/* gauges, synack's own (Linux's sockstat "mem", in bytes): buffer memory in use */    \
	X(TCPMemBytes, "TcpExtTCPMemBytes")

enum synack_counter {
#define SYNACK_X_ENUM(id, name) SYNACK_CTR_##id,
	SYNACK_COUNTERS(SYNACK_X_ENUM)
#undef SYNACK_X_ENUM
	SYNACK_CTR_COUNT
};
const char *synack_counter_name(enum synack_counter c); /* nstat name, e.g. "TcpActiveOpens" */

struct synack_counters {
	uint64_t v[SYNACK_CTR_COUNT];
	uint64_t drops[SYNACK_DROP_COUNT];
};
void synack_stack_counters(const struct synack_stack *s, struct synack_counters *out);

enum synack_timer_kind {
	SYNACK_TIMER_RETRANSMIT, /* RTO: SYN, SYN-ACK, data or FIN */
	SYNACK_TIMER_PERSIST,    /* zero-window probe */
	SYNACK_TIMER_KEEPALIVE,
	SYNACK_TIMER_TIME_WAIT,  /* 2*MSL */
	SYNACK_TIMER_FIN_WAIT_2, /* orphan timeout */
	SYNACK_TIMER_DELACK,
	SYNACK_TIMER_TLP,        /* tail loss probe (RFC 8985 §7) */
	SYNACK_TIMER_REO,        /* RACK's reordering window ran out (RFC 8985 §6.2) */
	SYNACK_TIMER_COUNT
};
const char *synack_timer_name(enum synack_timer_kind k);

enum synack_trace_kind {
	SYNACK_TRACE_TX,    /* segment sent: seg, frame */
	SYNACK_TRACE_RX,    /* segment received and accepted for processing: seg, frame */
	SYNACK_TRACE_DROP,  /* packet dropped: reason; seg if it parsed that far */
	SYNACK_TRACE_STATE, /* from -> to */
	SYNACK_TRACE_TIMER, /* timer fired */
	SYNACK_TRACE_ERROR, /* error reported to the socket: err (negative errno) */
	/* Emitted by links (fault decorator, simulator), not by the stack: frame is set. */
	SYNACK_TRACE_LOST,    /* the link dropped the frame */
	SYNACK_TRACE_DUP,     /* the link duplicated the frame */
	SYNACK_TRACE_CORRUPT, /* the link flipped bits in the frame */
	SYNACK_TRACE_REORDER, /* the link held the frame back behind later ones */
	/* Emitted by renderers' inputs (the pcap analysis), not by the stack: note is set. */
	SYNACK_TRACE_NOTE     /* a remark drawn across the ladder ("... 120 segments not shown") */
};
const char *synack_trace_kind_name(enum synack_trace_kind k); /* "tx", "rx", "drop", ... */

struct synack_trace_event {
	enum synack_trace_kind kind;
	uint64_t t_us;
	const char *host;              /* the stack's name */
	bool has_conn;                 /* local/remote are set */
	struct synack_endpoint local, remote;
	const struct synack_tcp_seg *seg; /* TX/RX/DROP, may be NULL for DROP */
	const uint8_t *frame;          /* the whole IPv4 packet, when there is one */
	size_t frame_len;
	bool retx;                     /* TX: a retransmission */
	enum synack_drop_reason reason;
	enum synack_tcp_state from, to;
	enum synack_timer_kind timer;
	int err;                       /* negative errno */
	/* Set by the pcap analysis (src/render/infer.h), NULL/false from a stack: */
	const char *note;              /* TX: what the analysis saw ("dup-ack #2", "zero-window",
	                                * "out-of-order", ...); NOTE: the remark */
	bool uncertain;                /* STATE: inferred from a capture that did not show how the
	                                * connection began ("ESTABLISHED?") */
	/* Appended (ABI: older fields keep their offsets). TX and RX of a connection the stack
	 * holds a tcb for: its congestion state when the event was traced (TX: as the segment
	 * leaves; RX: as the segment arrives, before it is processed). false from a listener, a
	 * reset to no socket, or a capture. */
	bool has_cc;
	uint32_t cwnd;      /* bytes */
	uint32_t ssthresh;  /* bytes; UINT32_MAX while unset (before the first loss) */
	uint32_t srtt_us;   /* smoothed RTT (RFC 6298), 0 before the first sample */
	uint32_t in_flight; /* SND.NXT - SND.UNA, bytes (TX: before this segment counts) */
};

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
