/* Name tables: states (RFC 9293 and ss spellings), drop reasons, counters, timers, trace kinds. */
#include "synack/trace.h"

static const char *const state_names[SYNACK_STATE_COUNT] = {
	[SYNACK_CLOSED] = "CLOSED",
	[SYNACK_LISTEN] = "LISTEN",
	[SYNACK_SYN_SENT] = "SYN-SENT",
	[SYNACK_SYN_RECEIVED] = "SYN-RECEIVED",
	[SYNACK_ESTABLISHED] = "ESTABLISHED",
	[SYNACK_FIN_WAIT_1] = "FIN-WAIT-1",
	[SYNACK_FIN_WAIT_2] = "FIN-WAIT-2",
	[SYNACK_CLOSE_WAIT] = "CLOSE-WAIT",
	[SYNACK_CLOSING] = "CLOSING",
	[SYNACK_LAST_ACK] = "LAST-ACK",
	[SYNACK_TIME_WAIT] = "TIME-WAIT",
};

/* As iproute2's ss prints them. */
static const char *const state_ss_names[SYNACK_STATE_COUNT] = {
	[SYNACK_CLOSED] = "UNCONN",
	[SYNACK_LISTEN] = "LISTEN",
	[SYNACK_SYN_SENT] = "SYN-SENT",
	[SYNACK_SYN_RECEIVED] = "SYN-RECV",
	[SYNACK_ESTABLISHED] = "ESTAB",
	[SYNACK_FIN_WAIT_1] = "FIN-WAIT-1",
	[SYNACK_FIN_WAIT_2] = "FIN-WAIT-2",
	[SYNACK_CLOSE_WAIT] = "CLOSE-WAIT",
	[SYNACK_CLOSING] = "CLOSING",
	[SYNACK_LAST_ACK] = "LAST-ACK",
	[SYNACK_TIME_WAIT] = "TIME-WAIT",
};

static const char *const drop_names[SYNACK_DROP_COUNT] = {
#define SYNACK_X_NAME(id, name) [SYNACK_DROP_##id] = name,
	SYNACK_DROP_REASONS(SYNACK_X_NAME)
#undef SYNACK_X_NAME
};

static const char *const counter_names[SYNACK_CTR_COUNT] = {
#define SYNACK_X_NAME(id, name) [SYNACK_CTR_##id] = name,
	SYNACK_COUNTERS(SYNACK_X_NAME)
#undef SYNACK_X_NAME
};

static const char *const trace_kind_names[] = {
	[SYNACK_TRACE_TX] = "tx",
	[SYNACK_TRACE_RX] = "rx",
	[SYNACK_TRACE_DROP] = "drop",
	[SYNACK_TRACE_STATE] = "state",
	[SYNACK_TRACE_TIMER] = "timer",
	[SYNACK_TRACE_ERROR] = "error",
	[SYNACK_TRACE_LOST] = "lost",
	[SYNACK_TRACE_DUP] = "dup",
	[SYNACK_TRACE_CORRUPT] = "corrupt",
	[SYNACK_TRACE_REORDER] = "reorder",
	[SYNACK_TRACE_NOTE] = "note",
};

#define NAME_OR(tab, i, n) ((unsigned)(i) < (n) && (tab)[i] ? (tab)[i] : "?")

const char *synack_state_name(enum synack_tcp_state st)
{
	return NAME_OR(state_names, st, SYNACK_STATE_COUNT);
}

const char *synack_state_ss_name(enum synack_tcp_state st)
{
	return NAME_OR(state_ss_names, st, SYNACK_STATE_COUNT);
}

const char *synack_drop_reason_name(enum synack_drop_reason r)
{
	return NAME_OR(drop_names, r, SYNACK_DROP_COUNT);
}

const char *synack_counter_name(enum synack_counter c)
{
	return NAME_OR(counter_names, c, SYNACK_CTR_COUNT);
}

const char *synack_trace_kind_name(enum synack_trace_kind k)
{
	return NAME_OR(trace_kind_names, k, sizeof trace_kind_names / sizeof trace_kind_names[0]);
}
