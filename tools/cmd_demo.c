/* synack demo: a client and a server on a simulated network, drawn as a ladder diagram.
 * Thin: parses options and runs a scenario from src/demo. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "demo/scenario.h"

static void usage(FILE *f)
{
	size_t n;
	const struct synack_demo_scenario *sc = synack_demo_list(&n);
	fprintf(f,
		"NAME\n"
		"    synack demo - TCP between two synack stacks on a simulated network, as a "
		"ladder\n\n"
		"SYNOPSIS\n"
		"    synack demo [--scenario NAME] [--format text|jsonl|svg|html] [OPTIONS]\n"
		"    synack demo --list | --help\n\n"
		"DESCRIPTION\n"
		"    A client (10.0.0.1, port 40000) and a server (10.0.0.2, port 80) run on one\n"
		"    virtual clock, no root and no network needed (--ipv6: 2001:db8::1 and\n"
		"    2001:db8::2, every scenario over IPv6). Every segment, state change,\n"
		"    timer, error and link fault is drawn: time on the left, one column per host,\n"
		"    arrows at their send time with tcpdump flags (S, S., ., P., F., R, R.), seq,\n"
		"    ack, win (scaled by the negotiated shift) and len, and the TCP options in\n"
		"    tcpdump's notation on a line under SYNs and SACKs (--verbose: under every\n"
		"    segment, in full). The same options give the same output, byte for byte.\n\n"
		"SCENARIOS\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "    %s\n        %s\n", sc[i].name, sc[i].question);
	fprintf(f,
		"\nOPTIONS\n"
		"    --scenario NAME   which conversation (default: handshake)\n"
		"    --list            print the scenario names, one per line\n"
		"    --format F        text (a ladder, seq/ack relative to each ISN) or jsonl (one\n"
		"                      JSON object per event, absolute seq/ack, then a summary),\n"
		"                      svg (the ladder as an SVG picture) or html (a page with it)\n"
		"    --absolute        text: absolute seq/ack\n"
		"    --verbose, -v     every segment's options in full (TS val/ecr, nop), and the\n"
		"                      window as scaled and raw: win=131072 (1024<<7)\n"
		"    --raw-window      win= is the raw header field, unscaled\n"
		"    --max-rows N      text: elide the middle of ladders longer than N rows\n"
		"  link (both directions):\n"
		"    --loss P --dup P --reorder P --corrupt P   per-frame probabilities (0)\n"
		"    --delay MS        one-way delay (10)      --jitter MS   extra 0..MS (0)\n"
		"    --seed N          seeds the network and the stacks (1)\n"
		"  stacks:\n"
		"    --bytes N         transfer size (1048576)  --mss N   MSS announced (1460)\n"
		"    --msl MS          TIME-WAIT lasts 2*MSL (30000)\n"
		"    --syn-retries N (6)   --synack-retries N (5)\n"
		"    --syncookies N    0 never, 1 when the SYN queue is full (default), 2 always\n"
		"    --limit S         stop after S virtual seconds (1000)\n"
		"    --pcap FILE       also capture the client's link to FILE (tcpdump -r FILE)\n"
		"    --ipv6, -6        run over IPv6: 2001:db8::1 and ::2, the MSS announced 20\n"
		"                      less (1440), spoofed peers from 2001:2::/48\n\n"
		"EXIT STATUS\n"
		"    0 when the scenario ran, 2 on bad usage, 1 when it could not run.\n");
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

enum {
	OPT_LIST = 256, OPT_FORMAT, OPT_ABS, OPT_ROWS, OPT_LOSS, OPT_DUP, OPT_REORDER,
	OPT_CORRUPT, OPT_DELAY, OPT_JITTER, OPT_SEED, OPT_BYTES, OPT_MSS, OPT_MSL, OPT_SYNR,
	OPT_SYNACKR, OPT_LIMIT, OPT_PCAP, OPT_COOKIES, OPT_RAWWIN
};

static const struct option longopts[] = {
	{"scenario", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'},
	{"list", no_argument, NULL, OPT_LIST},       {"format", required_argument, NULL, OPT_FORMAT},
	{"absolute", no_argument, NULL, OPT_ABS},    {"verbose", no_argument, NULL, 'v'},
	{"raw-window", no_argument, NULL, OPT_RAWWIN},    {"max-rows", required_argument, NULL, OPT_ROWS},
	{"loss", required_argument, NULL, OPT_LOSS}, {"dup", required_argument, NULL, OPT_DUP},
	{"reorder", required_argument, NULL, OPT_REORDER},
	{"corrupt", required_argument, NULL, OPT_CORRUPT},
	{"delay", required_argument, NULL, OPT_DELAY},
	{"jitter", required_argument, NULL, OPT_JITTER},
	{"seed", required_argument, NULL, OPT_SEED}, {"bytes", required_argument, NULL, OPT_BYTES},
	{"mss", required_argument, NULL, OPT_MSS},   {"msl", required_argument, NULL, OPT_MSL},
	{"syn-retries", required_argument, NULL, OPT_SYNR},
	{"synack-retries", required_argument, NULL, OPT_SYNACKR},
	{"limit", required_argument, NULL, OPT_LIMIT}, {"pcap", required_argument, NULL, OPT_PCAP},
	{"syncookies", required_argument, NULL, OPT_COOKIES},
	{"ipv6", no_argument, NULL, '6'},
	{NULL, 0, NULL, 0},
};

/* Applies one numeric option; returns -EINVAL when the value is out of range. */
/* The option's long name, for messages. */
static const char *opt_name(int c)
{
	for (const struct option *lo = longopts; lo->name; lo++)
		if (lo->val == c)
			return lo->name;
	return "?";
}

/* What a numeric option accepts, as numeric_opt() checks it. */
static const char *numeric_rule(int c)
{
	switch (c) {
	case OPT_LOSS: case OPT_DUP: case OPT_REORDER: case OPT_CORRUPT:
		return "a probability from 0 to 1";
	case OPT_DELAY: case OPT_JITTER: return "milliseconds, 0 to 60000";
	case OPT_BYTES: return "a byte count up to 1e10";
	case OPT_MSS: return "64 to 65495";
	case OPT_MSL: return "milliseconds, 1 to 1800000";
	case OPT_SYNR: case OPT_SYNACKR: return "a count, 0 to 255";
	case OPT_COOKIES: return "0, 1 or 2";
	case OPT_LIMIT: return "seconds, 1 to 1e9";
	default: return "a non-negative number";
	}
}

static int numeric_opt(int c, const char *arg, struct synack_demo_opts *o)
{
	double v;
	switch (c) {
	case OPT_LOSS: return parse_num(arg, 0, 1, &o->loss);
	case OPT_DUP: return parse_num(arg, 0, 1, &o->dup);
	case OPT_REORDER: return parse_num(arg, 0, 1, &o->reorder);
	case OPT_CORRUPT: return parse_num(arg, 0, 1, &o->corrupt);
	default: break;
	}
	if (parse_num(arg, 0, 1e18, &v) < 0)
		return -EINVAL;
	switch (c) {
	case OPT_ROWS: o->max_rows = (unsigned)v; break;
	case OPT_DELAY: if (v > 60000) return -EINVAL; o->delay_ms = (uint32_t)v; break;
	case OPT_JITTER: if (v > 60000) return -EINVAL; o->jitter_ms = (uint32_t)v; break;
	case OPT_SEED: o->seed = (uint64_t)v; break;
	case OPT_BYTES: if (v > 1e10) return -EINVAL; o->bytes = (uint64_t)v; break;
	case OPT_MSS: if (v < 64 || v > 65495) return -EINVAL; o->mss = (uint16_t)v; break;
	case OPT_MSL: if (v < 1 || v > SYNACK_MSL_MAX_MS) return -EINVAL; o->msl_ms = (uint32_t)v; break;
	case OPT_SYNR: if (v > 255) return -EINVAL; o->syn_retries = (int)v; break;
	case OPT_SYNACKR: if (v > 255) return -EINVAL; o->synack_retries = (int)v; break;
	case OPT_COOKIES: if (v > 2) return -EINVAL; o->syncookies = (int)v; break;
	case OPT_LIMIT: if (v < 1 || v > 1e9) return -EINVAL; o->limit_ms = (uint64_t)v * 1000; break;
	default: return -EINVAL;
	}
	return 0;
}

/* Parses the demo's options into o (shared with `synack fsm demo`). Returns 0 to run, 1 when
 * --help or --list printed what was asked (exit 0), 2 on a usage error (reported). */
int synack_demo_parse_args(int argc, char **argv, struct synack_demo_opts *o, const char *cmd)
{
	synack_demo_opts_default(o);
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":s:hv6", longopts, NULL)) != -1) {
		size_t n;
		const struct synack_demo_scenario *sc;
		switch (c) {
		case 's': o->scenario = optarg; break;
		case 'h': usage(stdout); return 1;
		case OPT_LIST:
			sc = synack_demo_list(&n);
			for (size_t i = 0; i < n; i++)
				printf("%s\n", sc[i].name);
			return 1;
		case OPT_FORMAT:
			if (synack_ladder_format_parse(optarg, &o->format) < 0) {
				fprintf(stderr, "%s: --format must be text, jsonl, svg or html, not '%s'\n",
					cmd, optarg);
				return 2;
			}
			break;
		case OPT_ABS: o->absolute = true; break;
		case 'v': o->verbose = true; break;
		case OPT_RAWWIN: o->raw_window = true; break;
		case OPT_PCAP: o->pcap_path = optarg; break;
		case '6': o->ipv6 = true; break;
		case ':':
			fprintf(stderr, "%s: %s needs a value\n", cmd, argv[optind - 1]);
			return 2;
		case '?':
			fprintf(stderr, "%s: unknown option '%s' (%s --help)\n", cmd, argv[optind - 1],
				cmd);
			return 2;
		default:
			if (numeric_opt(c, optarg, o) < 0) {
				fprintf(stderr, "%s: --%s: bad value '%s' (want %s)\n", cmd,
					opt_name(c), optarg, numeric_rule(c));
				return 2;
			}
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", cmd, argv[optind]);
		return 2;
	}
	if (o->scenario && !synack_demo_find(o->scenario)) {
		fprintf(stderr, "%s: --scenario: no scenario '%s' (synack demo --list)\n", cmd,
			o->scenario);
		return 2;
	}
	return 0;
}

int synack_cmd_demo(int argc, char **argv)
{
	struct synack_demo_opts o;
	int rc = synack_demo_parse_args(argc, argv, &o, "synack demo");
	if (rc)
		return rc == 1 ? 0 : 2;
	int err = synack_demo_run(&o, NULL);
	if (err < 0) {
		fprintf(stderr, "synack demo: the scenario could not run (%s)\n", strerror(-err));
		return 1;
	}
	return 0;
}
