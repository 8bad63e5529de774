/* Helpers of the core benchmarks (see core_util.h). */
#include "core_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A pointer to the IPv4 address x (host order) as a synack_addr, for the codec. */
#define ST_V4(x) (&(const struct synack_addr[1]){synack_addr_v4(x)}[0])

#ifndef BENCH_CC
#define BENCH_CC "unknown"
#endif
#ifndef BENCH_CFLAGS
#define BENCH_CFLAGS "unknown"
#endif
#ifndef BENCH_REV
#define BENCH_REV "unknown"
#endif

static void *count_alloc(void *ctx, size_t size)
{
	struct bench_alloc *a = ctx;
	a->allocs++;
	a->live_bytes += size;
	return malloc(size);
}

static void count_free(void *ctx, void *p, size_t size)
{
	struct bench_alloc *a = ctx;
	a->frees++;
	a->live_bytes -= size;
	free(p);
}

struct synack_allocator bench_allocator(struct bench_alloc *a)
{
	return (struct synack_allocator){.alloc = count_alloc, .free = count_free, .ctx = a};
}

uint64_t bench_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_rss(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

void bench_fifo_push(struct bench_fifo *q, const uint8_t *f, size_t len)
{
	if (len > BENCH_FRAME_CAP) {
		fprintf(stderr, "bench: frame of %zu bytes\n", len);
		exit(1);
	}
	if (q->len == q->cap) {
		/* Grow: unroll the ring into a bigger one. */
		size_t ncap = q->cap ? q->cap * 2 : 1024;
		uint8_t *s = malloc(ncap * BENCH_FRAME_CAP);
		uint32_t *l = malloc(ncap * sizeof *l);
		if (!s || !l) {
			fprintf(stderr, "bench: out of memory\n");
			exit(1);
		}
		for (size_t i = 0; i < q->len; i++) {
			size_t j = (q->head + i) % q->cap;
			memcpy(s + i * BENCH_FRAME_CAP, q->slots + j * BENCH_FRAME_CAP, q->lens[j]);
			l[i] = q->lens[j];
		}
		free(q->slots);
		free(q->lens);
		q->slots = s;
		q->lens = l;
		q->cap = ncap;
		q->head = 0;
	}
	size_t t = (q->head + q->len) % q->cap;
	memcpy(q->slots + t * BENCH_FRAME_CAP, f, len);
	q->lens[t] = (uint32_t)len;
	q->len++;
}

void bench_fifo_free(struct bench_fifo *q)
{
	free(q->slots);
	free(q->lens);
	memset(q, 0, sizeof *q);
}

static void pair_output(void *ctx, const uint8_t *frame, const struct synack_frame_meta *meta)
{
	size_t len = meta->len;
	bench_fifo_push(ctx, frame, len);
}

void bench_pair_init(struct bench_pair *p, const struct synack_config *base)
{
	memset(p, 0, sizeof *p);
	for (int i = 0; i < 2; i++) {
		struct synack_config cfg = *base;
		cfg.name = i ? "server" : "client";
		uint32_t a = i ? BENCH_SERVER_ADDR : BENCH_CLIENT_ADDR;
		synack_config_add_addr(&cfg, synack_addr_v4(a), 24);
		cfg.seed = 1000 + (uint64_t)i;
		memset(cfg.secret, 0x5a + i, sizeof cfg.secret);
		cfg.allocator = bench_allocator(&p->alloc[i]);
		cfg.output = pair_output;
		cfg.output_ctx = &p->q[i];
		int r = synack_stack_create(&p->st[i], &cfg);
		if (r < 0) {
			fprintf(stderr, "bench: synack_stack_create: %s\n", strerror(-r));
			exit(1);
		}
	}
	p->now = 1000000;
	bench_pair_advance(p, p->now);
}

void bench_pair_fini(struct bench_pair *p)
{
	for (int i = 0; i < 2; i++) {
		synack_stack_destroy(p->st[i]);
		bench_fifo_free(&p->q[i]);
	}
}

/* Feeds the oldest frame of q[from] to the other stack. */
static int deliver_one(struct bench_pair *p, int from)
{
	struct bench_fifo *q = &p->q[from];
	if (q->len == 0)
		return 0;
	/* The slot stays valid during input: the receiving stack outputs into the other queue. */
	size_t h = q->head;
	q->head = (q->head + 1) % q->cap;
	q->len--;
	synack_stack_input(p->st[1 - from], q->slots + h * BENCH_FRAME_CAP, q->lens[h], p->now);
	return 1;
}

size_t bench_pair_pump(struct bench_pair *p)
{
	size_t n = 0;
	for (;;) {
		int d = deliver_one(p, 0) + deliver_one(p, 1);
		if (!d)
			return n;
		n += (size_t)d;
	}
}

void bench_pair_advance(struct bench_pair *p, uint64_t now)
{
	p->now = now;
	for (int i = 0; i < 2; i++)
		synack_stack_poll(p->st[i], now);
}

static void die(const char *what, long r)
{
	fprintf(stderr, "bench: %s: %s\n", what, r < 0 ? strerror((int)-r) : "failed");
	exit(1);
}

int bench_pair_connect(struct bench_pair *p, int lfd, uint16_t port, int *sfd)
{
	struct synack_stack *c = p->st[0], *s = p->st[1];
	int fd = synack_socket(c);
	if (fd < 0)
		die("socket", fd);
	struct synack_endpoint srv = {synack_addr_v4(BENCH_SERVER_ADDR), port};
	int r = synack_connect(c, fd, &srv);
	if (r != -EINPROGRESS)
		die("connect", r);
	bench_pair_pump(p);
	*sfd = synack_accept(s, lfd, NULL);
	if (*sfd < 0)
		die("accept", *sfd);
	return fd;
}

size_t bench_craft(uint8_t *out, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
		   uint32_t seq, uint32_t ack, uint8_t flags)
{
	struct synack_tcp_seg seg;
	memset(&seg, 0, sizeof seg);
	seg.sport = sport;
	seg.dport = dport;
	seg.seq = seq;
	seg.ack = ack;
	seg.flags = flags;
	seg.win = 65535;
	if (flags & SYNACK_TH_SYN) {
		seg.opts.has_mss = true;
		seg.opts.mss = 1460;
	}
	int n = synack_tcp_emit(out, 128, ST_V4(src), ST_V4(dst), (uint16_t)seq, &seg);
	if (n <= 0) {
		fprintf(stderr, "bench: synack_tcp_emit failed\n");
		exit(1);
	}
	return (size_t)n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double bench_median(double *v, int n, double *best, int higher_is_better)
{
	qsort(v, (size_t)n, sizeof v[0], cmp_double);
	if (best)
		*best = higher_is_better ? v[n - 1] : v[0];
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void cpu_model(char *out, size_t cap)
{
	snprintf(out, cap, "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[256];
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "model name", 10) != 0)
			continue;
		char *v = strchr(line, ':');
		if (v) {
			v += 1 + (v[1] == ' ');
			v[strcspn(v, "\n")] = 0;
			snprintf(out, cap, "%s", v);
		}
		break;
	}
	fclose(f);
}

void bench_print_conditions(const char *what)
{
	char cpu[160];
	cpu_model(cpu, sizeof cpu);
	printf("## %s\n", what);
	printf("conditions: nproc=%ld cpu=\"%s\" cc=\"%s\" cflags=\"%s\" synack=%s\n",
	       sysconf(_SC_NPROCESSORS_ONLN), cpu, BENCH_CC, BENCH_CFLAGS, BENCH_REV);
}

long bench_arg(int argc, char **argv, const char *name, long def)
{
	size_t n = strlen(name);
	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
			return strtol(argv[i] + n + 1, NULL, 0);
	const char *e = getenv(name);
	return e ? strtol(e, NULL, 0) : def;
}
