/* synack drill — the shell lines Linux scripts use to set TCP sysctls, mapped to synack's
 * tunables (synack_stack_set_tunables).
 *
 * Accepted, alone or joined by `;` / `&&` / newlines inside one backquoted command:
 *   sysctl [-q] [-w] net.ipv4.tcp_NAME=VALUE
 *   echo VALUE > /proc/sys/net/ipv4/tcp_NAME
 * Anything else is not run: the runner marks the script skipped with the command as reason,
 * so a script is never passed while ignoring what it asked for.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill/drill.h"
#include "synack/stack.h"

enum unit { U_COUNT, U_SECS_TO_MS, U_SECS, U_BOOL, U_BYTES3 };

struct tunable {
	const char *name;
	enum unit unit;
	size_t off; /* offset in struct synack_config */
	size_t size;
	long lo, hi;
};

#define T(name, field, unit, lo, hi)                                                          \
	{name, unit, offsetof(struct synack_config, field),                                   \
	 sizeof(((struct synack_config *)0)->field), lo, hi}

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

/* Applies NAME=VALUE; returns 1, 0 (not ours), -1 (bad value). */
static int apply(const char *name, const char *value, struct synack_config *cfg,
		 bool sizes_allowed, struct drill_buf *why)
{
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		const struct tunable *t = &table[i];
		if (strcmp(t->name, name))
			continue;
		long v[3] = {0, 0, 0};
		int n = sscanf(value, "%ld %ld %ld", &v[0], &v[1], &v[2]);
		long x = t->unit == U_BYTES3 ? v[1] : v[0];
		if ((t->unit == U_BYTES3 && n != 3) || (t->unit != U_BYTES3 && n != 1) ||
		    x < t->lo || x > t->hi) {
			drill_buf_printf(why, "bad value for %s: '%s'", name, value);
			return -1;
		}
		if (t->unit == U_BYTES3 && !sizes_allowed) {
			drill_buf_printf(why, "%s after the first socket: synack sizes buffers when "
				   "the stack is created", name);
			return 0;
		}
		if (t->unit == U_BOOL)
			x = x != 0;
		if (t->unit == U_SECS_TO_MS)
			x *= 1000;
		store(cfg, t, (unsigned long)x);
		return 1;
	}
	drill_buf_printf(why, "no synack tunable for net.ipv4.%s", name);
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* One simple command. */
static int apply_one(char *cmd, struct synack_config *cfg, bool sizes_allowed,
		     struct drill_buf *why)
{
	cmd = trim(cmd);
	if (!*cmd)
		return 1;
	if (!strncmp(cmd, "sysctl ", 7)) {
		char *p = cmd + 7;
		for (;;) {
			p = trim(p);
			if (!strncmp(p, "-q ", 3) || !strncmp(p, "-w ", 3))
				p += 3;
			else
				break;
		}
		char *eq = strchr(p, '=');
		if (strncmp(p, "net.ipv4.", 9) || !eq)
			goto unknown;
		*eq = '\0';
		char *name = trim(p + 9), *val = trim(eq + 1);
		if (val[0] == '"' && val[strlen(val) - 1] == '"' && strlen(val) >= 2) {
			val[strlen(val) - 1] = '\0';
			val++;
		}
		return apply(name, val, cfg, sizes_allowed, why);
	}
	if (!strncmp(cmd, "echo ", 5)) {
		char *gt = strchr(cmd, '>');
		if (!gt)
			goto unknown;
		*gt = '\0';
		char *val = trim(cmd + 5), *path = trim(gt + 1);
		if (strncmp(path, "/proc/sys/net/ipv4/", 19))
			goto unknown;
		if (val[0] == '"' && strlen(val) >= 2 && val[strlen(val) - 1] == '"') {
			val[strlen(val) - 1] = '\0';
			val++;
		}
		return apply(path + 19, val, cfg, sizes_allowed, why);
	}
unknown:
	drill_buf_printf(why, "shell command not supported: `%s`", cmd);
	return 0;
}

int drill_sysctl_apply(const char *cmd, struct synack_config *cfg, bool sizes_allowed,
		       struct drill_buf *why)
{
	char *copy = strdup(cmd);
	if (!copy)
		abort();
	int rc = 1;
	char *s = copy;
	while (s && rc == 1) {
		char *next = strpbrk(s, ";&\n");
		if (next) {
			if (*next == '&' && next[1] != '&') {
				drill_buf_printf(why, "shell command not supported: `%s`", cmd);
				rc = 0;
				break;
			}
			*next = '\0';
			next += (next[1] == '&') ? 2 : 1;
		}
		rc = apply_one(s, cfg, sizes_allowed, why);
		s = next;
	}
	free(copy);
	return rc;
}
