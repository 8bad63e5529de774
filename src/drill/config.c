/* synack drill — run options, with packetdrill's names and IPv4 defaults.
 *
 * The same `--name=value` options are accepted on the command line and at the top of a
 * script; a value set on the command line wins over the script's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill/drill.h"

void drill_config_default(struct drill_config *c)
{
	memset(c, 0, sizeof *c);
	c->tolerance_us = 4000;
	c->tolerance_pct = 12.5;
	drill_parse_ipv4("192.168.0.1", &c->local_ip);
	drill_parse_ipv4("192.0.2.1", &c->remote_ip);
	c->bind_port = 8080;
	c->connect_port = 8080;
	c->remote_port = 40000;
}

int drill_parse_ipv4(const char *s, uint32_t *out)
{
	unsigned a, b, c, d;
	char extra;
	if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) != 4 || a > 255 || b > 255 ||
	    c > 255 || d > 255)
		return -1;
	*out = (a << 24) | (b << 16) | (c << 8) | d;
	return 0;
}

static int parse_num(const char *v, long lo, long hi, long *out)
{
	char *end;
	long x = strtol(v, &end, 0);
	if (!*v || *end || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

/* Options of packetdrill's that change nothing in an in-process run. */
static const char *const harmless[] = {"tcp_ts_tick_usecs", "strict_segments", "speed", "mtu",
				       "gateway_ip", "netmask_ip", "non_fatal", "debug", NULL};

static int set_port(const char *v, uint16_t *port, bool *bad)
{
	long x;
	if (parse_num(v, 1, 65535, &x) < 0)
		*bad = true;
	else
		*port = (uint16_t)x;
	return 0;
}

int drill_config_option(struct drill_config *c, const char *opt, bool from_script,
			struct drill_buf *err)
{
	char name[64];
	const char *eq = strchr(opt, '=');
	size_t n = eq ? (size_t)(eq - opt) : strlen(opt);
	const char *v = eq ? eq + 1 : "";
	long x;
	bool bad = false;
	if (n >= sizeof name)
		n = sizeof name - 1;
	memcpy(name, opt, n);
	name[n] = '\0';
	if (!strcmp(name, "tolerance_usecs")) {
		if (!(from_script && c->tolerance_set) && !(bad = parse_num(v, 0, 100000000, &x) < 0))
			c->tolerance_us = x;
	} else if (!strcmp(name, "tolerance_percent")) {
		char *end;
		double d = strtod(v, &end);
		if (!*v || *end || d < 0)
			bad = true;
		else if (!(from_script && c->pct_set))
			c->tolerance_pct = d;
	} else if (!strcmp(name, "local_ip")) {
		uint32_t ip;
		if (!(bad = drill_parse_ipv4(v, &ip) < 0) && !(from_script && c->local_ip_set))
			c->local_ip = ip;
	} else if (!strcmp(name, "remote_ip")) {
		uint32_t ip;
		if (!(bad = drill_parse_ipv4(v, &ip) < 0) && !(from_script && c->remote_ip_set))
			c->remote_ip = ip;
	} else if (!strcmp(name, "mss")) {
		if (!(bad = parse_num(v, 64, 65535, &x) < 0) && !(from_script && c->mss_set))
			c->mss = (uint16_t)x;
	} else if (!strcmp(name, "ip_version")) {
		if (!strcmp(v, "ipv6") || !strcmp(v, "ipv4-mapped-ipv6"))
			c->ipv6 = true;
		else if (strcmp(v, "ipv4"))
			bad = true;
	} else if (!strcmp(name, "define")) {
		bad = drill_define_set(c, v) < 0;
	} else if (!strcmp(name, "init_scripts")) {
		if (!*v || strlen(v) >= sizeof c->init_scripts)
			bad = true;
		else if (!(from_script && c->init_set))
			snprintf(c->init_scripts, sizeof c->init_scripts, "%s", v);
	} else if (!strcmp(name, "strict")) {
		c->strict = true;
	} else if (!strcmp(name, "bind_port")) {
		set_port(v, &c->bind_port, &bad);
	} else if (!strcmp(name, "connect_port")) {
		set_port(v, &c->connect_port, &bad);
	} else if (!strcmp(name, "remote_port")) {
		set_port(v, &c->remote_port, &bad);
	} else {
		for (int i = 0; harmless[i]; i++)
			if (!strcmp(name, harmless[i]))
				return 0;
		drill_buf_printf(err, "unsupported option --%s", opt);
		return -1;
	}
	if (bad) {
		drill_buf_printf(err, "bad value in --%s", opt);
		return -1;
	}
	return 0;
}
