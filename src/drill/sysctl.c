/* synack drill — the sysctls peers' scripts set, mapped to synack's tunables
 * (synack_stack_set_tunables, or the stack's initial configuration for buffer sizes).
 *
 * Every name a script may set is in one table, with what it means for synack:
 * - MAP: a tunable of synack's (tcp_syn_retries -> syn_retries, FreeBSD's
 *   net.inet.tcp.sack.enable -> sack, ...);
 * - NOOP: state synack does not keep, so setting it changes nothing (FreeBSD's host cache,
 *   kern.ipc.maxsockbuf's effect on buffers synack sizes itself);
 * - UNMODELLED: a Linux heuristic synack does not have (F-RTO, RACK, CUBIC, pacing, TSO
 *   deferral...). Accepted, with a note in -v, because Linux's shared defaults.sh sets them
 *   for every script; a script whose packets depend on one fails where synack differs;
 * - ONLY: synack behaves as one value (tcp_ecn=0 until synack has ECN); another value makes
 *   the script SKIPPED, naming the setting.
 * A name that is not in the table makes the script SKIPPED, with its name.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill/drill.h"
#include "synack/stack.h"

enum kind { MAP, NOOP, UNMODELLED, ONLY };
enum unit { U_COUNT, U_SECS_TO_MS, U_MS, U_SECS, U_BOOL, U_BYTES3, U_BYTES };

struct tunable {
	const char *name; /* without "net.ipv4." for Linux; full for others */
	enum kind kind;
	enum unit unit;
	size_t off, size; /* MAP: the field in struct synack_config */
	long lo, hi;      /* MAP: valid values; ONLY: the value synack has in lo */
	const char *note; /* NOOP/UNMODELLED/ONLY: why */
};

#define T(name, field, unit, lo, hi)                                                          \
	{name, MAP, unit, offsetof(struct synack_config, field),                              \
	 sizeof(((struct synack_config *)0)->field), lo, hi, NULL}
#define T2(name, kind, v, note) {name, kind, U_COUNT, 0, 0, v, v, note}

static const struct tunable table[] = {
	T("tcp_syncookies", syncookies, U_COUNT, 0, 2),
	T("tcp_synack_retries", synack_retries, U_COUNT, 0, 255),
	T("tcp_syn_retries", syn_retries, U_COUNT, 1, 127),
	T("tcp_retries2", retries2, U_COUNT, 0, 255),
	T("tcp_fin_timeout", fin_timeout_ms, U_SECS_TO_MS, 0, 86400),
	T("tcp_keepalive_time", keepalive_time_s, U_SECS, 1, 32767 * 60),
	T("tcp_keepalive_intvl", keepalive_intvl_s, U_SECS, 1, 32767),
	T("tcp_keepalive_probes", keepalive_probes, U_COUNT, 1, 127),
	T("tcp_timestamps", timestamps, U_BOOL, 0, 2),
	T("tcp_sack", sack, U_BOOL, 0, 1),
	T("tcp_window_scaling", window_scaling, U_BOOL, 0, 1),
	T("tcp_challenge_ack_limit", challenge_ack_limit, U_COUNT, 0, 1L << 30),
	T("tcp_rmem", rcvbuf, U_BYTES3, 1, 1L << 30),
	T("tcp_wmem", sndbuf, U_BYTES3, 1, 1L << 30),
	/* FreeBSD (the tcp-testsuite's settings) */
	T("net.inet.tcp.sack.enable", sack, U_BOOL, 0, 1),
	T("net.inet.tcp.syncookies", syncookies, U_BOOL, 0, 1),
	T("net.inet.tcp.rexmit_initial", rto_initial_ms, U_MS, 1, 600000),
	T("net.inet.tcp.rexmit_min", rto_min_ms, U_MS, 1, 600000),
	T("net.inet.tcp.recvspace", rcvbuf, U_BYTES, 1, 1L << 30),
	T("net.inet.tcp.sendspace", sndbuf, U_BYTES, 1, 1L << 30),
	T2("net.inet.tcp.hostcache.purgenow", NOOP, 0,
	   "synack keeps no host cache: there is nothing to flush"),
	T("kern.ipc.maxsockbuf", rcvbuf_max, U_BYTES, 1, 1L << 30),
	T("net.inet.tcp.ecn.enable", ecn, U_COUNT, 0, 2),
	T("tcp_ecn", ecn, U_COUNT, 0, 2),
	T("tcp_notsent_lowat", notsent_lowat, U_COUNT, 1, 4294967295L),
	T("tcp_fastopen", fastopen, U_COUNT, 0, 0x7fffffffL),
	T("tcp_recovery", recovery, U_COUNT, 0, 7),
	T2("tcp_fastopen_key", NOOP, 0,
	   "synack's Fast Open cookies are SipHash under the stack's secret, not Linux's AES "
	   "under this key: a script that expects Linux's cookie bytes fails on them"),
	/* Linux heuristics synack does not model (defaults.sh sets them for every script) */
	T2("tcp_frto", UNMODELLED, 0,
	   "F-RTO (RFC 5682; synack tells a spurious timeout by timestamps, RFC 3522)"),
	T2("tcp_dsack", NOOP, 0, "synack always sends and uses D-SACK (RFC 2883)"),
	T2("tcp_fack", UNMODELLED, 0, "FACK"),
	T2("tcp_reordering", UNMODELLED, 0, "a reordering degree (synack's dupthresh is 3)"),
	T2("tcp_congestion_control", UNMODELLED, 0, "this controller (synack runs NewReno, \"reno\")"),
	T2("tcp_slow_start_after_idle", UNMODELLED, 0, "slow start after idle"),
	T2("tcp_early_retrans", UNMODELLED, 0, "TLP / early retransmit"),
	T2("tcp_tso_win_divisor", UNMODELLED, 0, "TSO deferral"),
	T2("tcp_pacing_ss_ratio", UNMODELLED, 0, "pacing"),
	T2("tcp_pacing_ca_ratio", UNMODELLED, 0, "pacing"),
	T2("tcp_min_tso_segs", UNMODELLED, 0, "TSO sizing"),
	T2("tcp_autocorking", UNMODELLED, 0, "auto-corking"),
	T2("net.mptcp.enabled", UNMODELLED, 0, "MPTCP"),
	T2("net.inet.tcp.rfc1323", MAP, 0, NULL), /* special: timestamps and window scale */
};

static void store(struct synack_config *cfg, const struct tunable *t, unsigned long v)
{
	char *p = (char *)cfg + t->off;
	switch (t->size) {
	case 1: {
		uint8_t x = (uint8_t)v;
		memcpy(p, &x, 1);
		break;
	}
	case 2: {
		uint16_t x = (uint16_t)v;
		memcpy(p, &x, 2);
		break;
	}
	default: {
		uint32_t x = (uint32_t)v;
		memcpy(p, &x, 4);
	}
	}
}

/* The table entry for a sysctl name as written ("net.ipv4.tcp_sack", "tcp_sack" from
 * /proc/sys/net/ipv4/, "net.inet.tcp.sack.enable"). */
static const struct tunable *lookup(const char *name)
{
	if (!strncmp(name, "net.ipv4.", 9))
		name += 9;
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (!strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

static int apply_map(const struct tunable *t, const char *name, const char *value,
		     struct synack_config *cfg, bool sizes_allowed, struct drill_buf *why)
{
	long v[3] = {0, 0, 0};
	int n = sscanf(value, "%li %li %li", &v[0], &v[1], &v[2]);
	long x = t->unit == U_BYTES3 ? v[1] : v[0];
	if ((t->unit == U_BYTES3 && n != 3) || (t->unit != U_BYTES3 && n != 1) || x < t->lo ||
	    x > t->hi) {
		drill_buf_printf(why, "bad value for %s: '%s'", name, value);
		return -1;
	}
	if ((t->unit == U_BYTES3 || t->unit == U_BYTES) && !sizes_allowed) {
		drill_buf_printf(why, "%s after the first socket: synack sizes buffers when the "
			   "stack is created", name);
		return 0;
	}
	if (t->unit == U_BOOL)
		x = x != 0;
	if (t->unit == U_SECS_TO_MS)
		x *= 1000;
	store(cfg, t, (unsigned long)x);
	/* tcp_rmem's max bounds the window scale; Linux takes the larger of it and
	 * net.core.rmem_max (212992 by default). */
	if (!strcmp(t->name, "tcp_rmem"))
		cfg->rcvbuf_max = (uint32_t)(v[2] > 212992 ? v[2] : 212992);
	return 1;
}

int drill_sysctl_set(const char *name, const char *value, struct synack_config *cfg,
		     bool sizes_allowed, struct drill_buf *why, struct drill_buf *note)
{
	const struct tunable *t = lookup(name);
	if (!t) {
		drill_buf_printf(why, "sysctl %s has no synack equivalent", name);
		return 0;
	}
	if (!strcmp(t->name, "tcp_congestion_control") && strlen(value) < sizeof cfg->congestion &&
	    (!strcmp(value, "reno") || !strcmp(value, "newreno"))) {
		snprintf(cfg->congestion, sizeof cfg->congestion, "reno");
		return 1;
	}
	if (!strcmp(t->name, "net.inet.tcp.rfc1323")) {
		long x;
		if (sscanf(value, "%li", &x) != 1 || x < 0 || x > 3) {
			drill_buf_printf(why, "bad value for %s: '%s'", name, value);
			return -1;
		}
		cfg->window_scaling = x == 1 || x == 3;
		cfg->timestamps = x == 1 || x == 2;
		return 1;
	}
	switch (t->kind) {
	case MAP:
		return apply_map(t, name, value, cfg, sizes_allowed, why);
	case ONLY: {
		char *end;
		long long x = strtoll(value, &end, 0);
		if (*value && !*end && x == (long long)t->lo)
			return 1;
		drill_buf_printf(why, "sysctl %s=%s: %s", name, value, t->note);
		return 0;
	}
	case NOOP:
	case UNMODELLED:
		if (note)
			drill_buf_printf(note, "note: sysctl %s=%s not modelled: %s%s\n", name, value,
					 t->note, t->kind == UNMODELLED ? " is not in synack" : "");
		return 1;
	}
	return 0;
}
