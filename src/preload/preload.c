/* synack — the LD_PRELOAD layer: configuration, the stack, the descriptor table, fork and exit.
 *
 * Configuration comes from the environment that `synack run` sets:
 *   SYNACK_TUN=DEV SYNACK_ADDR=A.B.C.D/NN   required; without SYNACK_TUN everything passes.
 *                                           IPV6/NN, or one of each family: A.B.C.D/NN,IPV6/NN
 *   SYNACK_GW=ADDR                          the kernel's address on DEV, either family (checked)
 *   SYNACK_PCAP=FILE SYNACK_TRACE=FILE SYNACK_CTL=PATH     capture, trace, control socket
 *   SYNACK_MAX_SOCKETS=N                    (default 16384)
 *   SYNACK_LINGER_MS=N                      at exit, how long to let closes finish (3000)
 * The stack starts on the first TCP socket, not at load: a shell started by `synack run`
 * that never opens one leaves the TUN device to the program it runs.
 */
#include "preload/preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "host/ctl.h"
#include "render/trace_file.h"
#include "synack/tun.h"

struct pl_real pl_real;
volatile bool pl_forked;

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static struct synack_mt *volatile g_mt;
static volatile int g_state; /* 0 not started, 1 running, -1 failed or not configured */
static void *g_trace;
static int g_ctl_fd = -1;
static char g_ctl_path[108];

/* The table: one int per descriptor, handle + 1 (0: the kernel's), with its length in the
 * same allocation so a reader never pairs a new length with an old array. Grown under
 * table_lock; read without it (a descriptor's entry only changes while the program holds it,
 * and the stack thread reads entries for the TUN device's descriptor). Old tables are kept:
 * a thread may still be reading one. */
struct table {
	int len;
	int *refs; /* per handle: descriptors naming it */
	int v[];   /* v[fd]: handle + 1; v[len + handle]: the socket's family (AF_INET6 or 0) */
};
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct table *volatile g_tab;

#define RESOLVE(name) pl_real.name = (__typeof__(pl_real.name))dlsym(RTLD_NEXT, #name)

__attribute__((constructor)) static void pl_resolve(void)
{
	RESOLVE(socket); RESOLVE(bind); RESOLVE(listen); RESOLVE(accept); RESOLVE(accept4);
	RESOLVE(connect); RESOLVE(read); RESOLVE(write); RESOLVE(readv); RESOLVE(writev);
	RESOLVE(send); RESOLVE(recv); RESOLVE(sendto); RESOLVE(recvfrom); RESOLVE(sendmsg);
	RESOLVE(recvmsg); RESOLVE(close); RESOLVE(shutdown); RESOLVE(setsockopt);
	RESOLVE(getsockopt); RESOLVE(getsockname); RESOLVE(getpeername); RESOLVE(fcntl);
	RESOLVE(ioctl); RESOLVE(dup); RESOLVE(dup2); RESOLVE(dup3); RESOLVE(poll); RESOLVE(ppoll);
	RESOLVE(select); RESOLVE(pselect); RESOLVE(epoll_ctl); RESOLVE(epoll_wait);
	RESOLVE(epoll_pwait); RESOLVE(sendfile);
}

long pl_ret(long r)
{
	if (r >= 0)
		return r;
	errno = (int)-r;
	return -1;
}

void pl_warn_once(const char *key, const char *fmt, ...)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static const char *said[16];
	pthread_mutex_lock(&lock);
	for (int i = 0; i < 16; i++) {
		if (said[i] == key) {
			pthread_mutex_unlock(&lock);
			return;
		}
		if (!said[i]) {
			said[i] = key;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(buf, sizeof buf, "synack-preload[%d]: ", (int)getpid());
	vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	va_end(ap);
	strncat(buf, "\n", sizeof buf - strlen(buf) - 1);
	if (pl_real.write(2, buf, strlen(buf)) < 0) {
		/* nowhere left to complain */
	}
}

/* ---- the descriptor table ---------------------------------------------------------------- */

int pl_handle(int fd)
{
	struct table *t = g_tab;
	if (fd < 0 || !t || fd >= t->len)
		return -1;
	return t->v[fd] - 1;
}

static int grow(int fd)
{
	struct table *o = g_tab;
	if (o && fd < o->len)
		return 0;
	int n = o ? o->len : 1024;
	while (n <= fd)
		n *= 2;
	struct table *t = calloc(1, sizeof *t + 2 * (size_t)n * sizeof(int));
	int *r = calloc((size_t)n, sizeof *r);
	if (!t || !r) {
		free(t);
		free(r);
		return -ENOMEM;
	}
	t->len = n;
	t->refs = r;
	if (o) {
		memcpy(t->v, o->v, (size_t)o->len * sizeof(int));
		memcpy(t->v + n, o->v + o->len, (size_t)o->len * sizeof(int));
		memcpy(r, o->refs, (size_t)o->len * sizeof *r);
		free(o->refs); /* only ever used under the lock */
		o->refs = NULL;
	}
	__atomic_store_n(&g_tab, t, __ATOMIC_RELEASE);
	return 0;
}

void pl_set(int fd, int handle)
{
	pthread_mutex_lock(&table_lock);
	int old = pl_handle(fd);
	if (grow(fd > handle ? fd : handle) == 0) {
		struct table *t = g_tab;
		if (old >= 0)
			t->refs[old]--;
		t->v[fd] = handle + 1;
		if (handle >= 0)
			t->refs[handle]++;
	}
	pthread_mutex_unlock(&table_lock);
}

void pl_set_family(int handle, int family)
{
	pthread_mutex_lock(&table_lock);
	if (grow(handle) == 0) {
		struct table *t = g_tab;
		t->v[t->len + handle] = family == AF_INET6 ? AF_INET6 : 0;
	}
	pthread_mutex_unlock(&table_lock);
}

int pl_family(int handle)
{
	struct table *t = g_tab;
	if (handle < 0 || !t || handle >= t->len)
		return AF_INET;
	return t->v[t->len + handle] == AF_INET6 ? AF_INET6 : AF_INET;
}

int pl_refs(int handle)
{
	pthread_mutex_lock(&table_lock);
	struct table *t = g_tab;
	int r = t && handle >= 0 && handle < t->len ? t->refs[handle] : 0;
	pthread_mutex_unlock(&table_lock);
	return r;
}

/* Another descriptor naming handle, or -1. */
int pl_alias_of(int handle);
int pl_alias_of(int handle)
{
	pthread_mutex_lock(&table_lock);
	struct table *t = g_tab;
	int r = -1;
	for (int i = 0; t && i < t->len && r < 0; i++)
		if (i != handle && t->v[i] == handle + 1)
			r = i;
	pthread_mutex_unlock(&table_lock);
	return r;
}

/* Re-points every alias of from to to (after synack_mt_rename). */
void pl_repoint(int from, int to);
void pl_repoint(int from, int to)
{
	pthread_mutex_lock(&table_lock);
	struct table *t = g_tab;
	if (t && from >= 0 && from < t->len && to >= 0 && to < t->len)
		t->v[t->len + to] = t->v[t->len + from];
	for (int i = 0; t && i < t->len; i++)
		if (t->v[i] == from + 1) {
			t->v[i] = to + 1;
			t->refs[from]--;
			t->refs[to]++;
		}
	pthread_mutex_unlock(&table_lock);
}

/* ---- addresses ------------------------------------------------------------------------- */

/* As Linux: an AF_INET socket takes a sockaddr_in (another family: EAFNOSUPPORT), an
 * AF_INET6 one a sockaddr_in6 of at least 24 bytes (shorter: EINVAL, before the family is
 * looked at; another family: EAFNOSUPPORT). The IPv6 address is kept as given, so an
 * IPv4-mapped ::ffff:a.b.c.d names the IPv4 address a.b.c.d, as synack's addresses do. */
int pl_endpoint(int family, const struct sockaddr *sa, socklen_t len, struct synack_endpoint *ep)
{
	if (!sa || len < sizeof(sa_family_t))
		return -EINVAL;
	if (family == AF_INET6) {
		if (len < 24) /* SIN6_LEN_RFC2133: sockaddr_in6 without sin6_scope_id */
			return -EINVAL;
		if (sa->sa_family != AF_INET6)
			return -EAFNOSUPPORT;
		struct sockaddr_in6 sin6;
		memset(&sin6, 0, sizeof sin6);
		memcpy(&sin6, sa, len < sizeof sin6 ? len : sizeof sin6);
		ep->addr = synack_addr_v6(sin6.sin6_addr.s6_addr);
		ep->port = ntohs(sin6.sin6_port);
		return 0;
	}
	if (sa->sa_family != AF_INET)
		return -EAFNOSUPPORT;
	if (len < sizeof(struct sockaddr_in))
		return -EINVAL;
	struct sockaddr_in sin;
	memcpy(&sin, sa, sizeof sin);
	ep->addr = synack_addr_v4(ntohl(sin.sin_addr.s_addr));
	ep->port = ntohs(sin.sin_port);
	return 0;
}

/* An AF_INET6 socket reports every address as IPv6, IPv4 peers as ::ffff:a.b.c.d (synack's
 * own form of them, and Linux's); an AF_INET socket as a sockaddr_in. */
void pl_sockaddr(int family, const struct synack_endpoint *ep, struct sockaddr *sa,
		 socklen_t *len)
{
	if (!sa || !len)
		return;
	union {
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} u;
	socklen_t size;
	memset(&u, 0, sizeof u);
	if (family == AF_INET6) {
		u.v6.sin6_family = AF_INET6;
		u.v6.sin6_port = htons(ep->port);
		memcpy(u.v6.sin6_addr.s6_addr, ep->addr.b, 16);
		size = sizeof u.v6;
	} else {
		u.v4.sin_family = AF_INET;
		u.v4.sin_port = htons(ep->port);
		u.v4.sin_addr.s_addr = htonl(synack_addr_get_v4(&ep->addr));
		size = sizeof u.v4;
	}
	socklen_t n = *len < size ? *len : size;
	memcpy(sa, &u, n);
	*len = size;
}

/* The families of SYNACK_ADDR ("A.B.C.D/NN", "IPV6/NN" or both, comma-separated): up to two
 * entries, one of each family. Returns how many, or -EINVAL. */
int pl_parse_addrs(const char *env, struct synack_tun_addr out[2])
{
	if (!env || !*env)
		return -EINVAL;
	char buf[128];
	if (strlen(env) >= sizeof buf)
		return -EINVAL;
	strcpy(buf, env);
	int n = 0;
	for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == 2 || synack_parse_prefix(tok, &out[n].addr, &out[n].prefix) < 0)
			return -EINVAL;
		n++;
	}
	if (n == 0 || (n == 2 && synack_addr_is_v4(&out[0].addr) == synack_addr_is_v4(&out[1].addr)))
		return -EINVAL;
	return n;
}

/* Whether the configuration names an address of the family: sockets of a family synack has no
 * address of stay the kernel's. Read once (the environment does not change under us). */
bool pl_has_family(int family)
{
	static int have = -1; /* bit 0: IPv4, bit 1: IPv6 */
	if (have < 0) {
		struct synack_tun_addr a[2];
		int n = pl_parse_addrs(getenv("SYNACK_ADDR"), a);
		int h = n < 0 ? 1 : 0; /* unparsable: IPv4 sockets come and fail with EACCES */
		for (int i = 0; i < n; i++)
			h |= synack_addr_is_v4(&a[i].addr) ? 1 : 2;
		have = h;
	}
	return (have & (family == AF_INET6 ? 2 : 1)) != 0;
}

/* ---- the control socket ---------------------------------------------------------------- */

struct answer_ctx {
	const char *req;
	FILE *out;
};

/* The control thread is the only one answering, so one set of nstat rates serves it. */
static struct synack_ctl_rates g_ctl_rates;

static void answer_locked(struct synack_stack *s, void *ctx)
{
	struct answer_ctx *a = ctx;
	uint64_t now = synack_monotonic_us();
	if (!g_ctl_rates.prev_us) {
		synack_stack_counters(s, &g_ctl_rates.prev);
		g_ctl_rates.prev_us = now;
	}
	synack_ctl_answer(s, &g_ctl_rates, now, a->req, a->out);
}

static void answer(void *ctx, const char *req, FILE *out)
{
	struct answer_ctx a = {req, out};
	synack_mt_call(ctx, answer_locked, &a);
}

static void *ctl_thread(void *arg)
{
	struct synack_mt *mt = arg;
	for (;;) {
		struct pollfd p = {.fd = g_ctl_fd, .events = POLLIN};
		if (pl_real.poll(&p, 1, -1) < 0 && errno != EINTR)
			return NULL;
		int cfd = pl_real.accept4(g_ctl_fd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
		synack_ctl_serve_client(cfd, answer, mt);
		pl_real.close(cfd);
	}
}

static int start_ctl(struct synack_mt *mt, const char *path)
{
	int fd = synack_ctl_listen(path);
	if (fd < 0)
		return fd;
	g_ctl_fd = fd;
	snprintf(g_ctl_path, sizeof g_ctl_path, "%s", path);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t t;
	int err = pthread_create(&t, NULL, ctl_thread, mt);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	pthread_detach(t);
	return 0;
}

/* ---- starting the stack ----------------------------------------------------------------- */

static int fail(const char *what, const char *arg, int err)
{
	pl_warn_once("start", "%s%s%s: %s; TCP sockets of this program fail with EACCES", what,
		     arg ? " " : "", arg ? arg : "", strerror(-err));
	return err;
}

static int open_link(struct synack_link **link, struct synack_tun_addr addrs[2], int *naddrs,
		     unsigned *mtu)
{
	const char *tun = getenv("SYNACK_TUN"), *cidr = getenv("SYNACK_ADDR");
	const char *gw = getenv("SYNACK_GW"), *pcap = getenv("SYNACK_PCAP");
	int n = pl_parse_addrs(cidr, addrs);
	if (n < 0)
		return fail("bad or missing SYNACK_ADDR (want A.B.C.D/NN, IPV6/NN or one of each, "
			    "comma-separated)", cidr, -EINVAL);
	*naddrs = n;
	struct synack_tun_info info;
	int err = synack_tun_open_addrs(tun, addrs, (size_t)n, 0, &info, link);
	if (err == -EBUSY)
		return fail("cannot open TUN device (another process holds it: one process per "
			    "device, see docs/preload.md on fork and exec)", tun, err);
	if (err == -EAFNOSUPPORT)
		return fail("cannot open TUN device (IPv6 is off on it: "
			    "net.ipv6.conf.DEV.disable_ipv6)", tun, err);
	if (err)
		return fail("cannot open TUN device", tun, err);
	*mtu = info.mtu;
	struct synack_addr g;
	unsigned pfx;
	char gbuf[64];
	int ok = gw && strlen(gw) + 4 < sizeof gbuf;
	if (ok) { /* synack_parse_prefix wants a prefix length: any valid one will do */
		snprintf(gbuf, sizeof gbuf, "%s/%s", gw, strchr(gw, ':') ? "64" : "24");
		ok = synack_parse_prefix(gbuf, &g, &pfx) == 0 &&
		     (synack_addr_is_v4(&g) ? synack_addr_get_v4(&g) == info.kernel_addr
					    : synack_addr_eq(&g, &info.kernel_addr6));
	}
	if (gw && !ok) {
		synack_link_destroy(*link);
		return fail("SYNACK_GW is not the kernel's address on the device", gw, -EINVAL);
	}
	if (pcap) {
		struct synack_pcap_writer *w;
		struct synack_link *wrapped;
		err = synack_pcap_open(&w, pcap);
		if (!err && (err = synack_pcap_wrap(*link, w, &wrapped)) < 0)
			synack_pcap_close(w);
		if (err) {
			synack_link_destroy(*link);
			return fail("cannot write capture", pcap, err);
		}
		*link = wrapped;
	}
	return 0;
}

static unsigned env_uint(const char *name, unsigned dflt)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n = v ? strtoul(v, &end, 10) : 0;
	return v && *v && !*end && n > 0 && n < 10000000 ? (unsigned)n : dflt;
}

static void at_exit(void);

static int start(void)
{
	struct synack_link *link;
	struct synack_tun_addr addrs[2];
	int naddrs;
	unsigned mtu;
	int err = open_link(&link, addrs, &naddrs, &mtu);
	if (err)
		return err;
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.name = "run";
	for (int i = 0; i < naddrs; i++)
		synack_config_add_addr(&cfg, addrs[i].addr, addrs[i].prefix);
	cfg.max_sockets = env_uint("SYNACK_MAX_SOCKETS", 16384);
	if (mtu >= 576 && mtu - 40 < cfg.mss)
		cfg.mss = (uint16_t)(mtu - 40);
	const char *trace = getenv("SYNACK_TRACE");
	if (trace && (err = synack_trace_file_open(&g_trace, trace, &cfg)) < 0) {
		synack_link_destroy(link);
		return fail("cannot write trace", trace, err);
	}
	struct synack_mt *mt;
	err = synack_mt_new(&mt, link, &cfg);
	if (err) {
		synack_link_destroy(link);
		return fail("cannot start the stack", NULL, err);
	}
	const char *ctl = getenv("SYNACK_CTL");
	if (ctl && (err = start_ctl(mt, ctl)) < 0)
		fail("cannot open control socket (ss/nstat unavailable)", ctl, err);
	g_mt = mt;
	atexit(at_exit);
	return 0;
}

struct synack_mt *pl_mt(void)
{
	if (g_state == 1)
		return g_mt;
	if (g_state < 0 || pl_forked)
		return NULL;
	if (!getenv("SYNACK_TUN")) {
		g_state = -1;
		return NULL;
	}
	pthread_mutex_lock(&init_lock);
	if (g_state == 0)
		g_state = start() == 0 ? 1 : -2;
	pthread_mutex_unlock(&init_lock);
	return g_state == 1 ? g_mt : NULL;
}

bool pl_failed(void) { return g_state == -2; }

/* ---- fork and exit ---------------------------------------------------------------------- */

/* A forked child has no stack thread: its copies of synack sockets are dead. It may close
 * them (a forking server's child closing the listener does) and use kernel sockets; any other
 * call on them fails with ENOTSUP and a message. A child that execs starts clean: the new
 * image has its own (not yet started) preload state. */
static void in_child(void)
{
	if (g_state == 1)
		pl_forked = true;
	g_ctl_fd = -1;
}

__attribute__((constructor)) static void pl_atfork(void) { pthread_atfork(NULL, NULL, in_child); }

/* Exit: the kernel would go on delivering what the program wrote and close its connections
 * gracefully; synack lives in this process, so it closes what is still open and waits (at
 * most SYNACK_LINGER_MS) until every close is acknowledged. */
static void at_exit(void)
{
	struct synack_mt *mt = g_mt;
	if (!mt || pl_forked)
		return;
	struct table *t = g_tab;
	for (int fd = 0; t && fd < t->len; fd++) {
		int h = pl_handle(fd);
		if (h == fd && synack_mt_close(mt, h) == 0)
			pl_set(fd, -1);
	}
	synack_mt_settle(mt, (int)env_uint("SYNACK_LINGER_MS", 3000));
	if (g_ctl_fd >= 0)
		unlink(g_ctl_path);
	/* The capture and the trace are stdio streams: exit() flushes them after this. */
}
