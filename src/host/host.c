/* synack — a stack on a real wire, see host.h. */
#include "host/host.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *why, size_t cap, int err, const char *what, const char *arg)
{
	snprintf(why, cap, "%s %s: %s", what, arg ? arg : "", strerror(-err));
	return err;
}

int synack_host_open(struct synack_host *h, const struct synack_host_opts *o,
		     const struct synack_loop_hooks *hooks, char *why, size_t why_cap)
{
	memset(h, 0, sizeof *h);
	unsigned prefix;
	if (synack_parse_cidr(o->cidr, &h->addr, &prefix) < 0)
		return fail(why, why_cap, -EINVAL, "bad address (want A.B.C.D/NN)", o->cidr);
	struct synack_link *link;
	int err = synack_tun_open_flags(o->tun, h->addr, prefix,
					o->no_offload ? SYNACK_TUN_NO_OFFLOAD : 0, &h->tun, &link);
	if (err)
		return fail(why, why_cap, err, "cannot open TUN device", o->tun);
	if (o->pcap) {
		struct synack_pcap_writer *w;
		struct synack_link *wrapped;
		err = synack_pcap_open(&w, o->pcap);
		if (!err && (err = synack_pcap_wrap(link, w, &wrapped)) < 0)
			synack_pcap_close(w);
		if (err) {
			synack_link_destroy(link);
			return fail(why, why_cap, err, "cannot write capture", o->pcap);
		}
		link = wrapped;
	}
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.name = o->name;
	synack_config_add_addr(&cfg, synack_addr_v4(h->addr), prefix); /* parse_cidr checked it */
	if (o->max_sockets)
		cfg.max_sockets = o->max_sockets;
	if (h->tun.mtu >= 576 && h->tun.mtu - 40 < cfg.mss)
		cfg.mss = (uint16_t)(h->tun.mtu - 40);
	if (o->trace) {
		err = o->trace_sink.open && o->trace_sink.close
			      ? o->trace_sink.open(&h->trace_state, o->trace, &cfg)
			      : -EINVAL;
		if (!err)
			h->trace_close = o->trace_sink.close;
		if (err) {
			synack_link_destroy(link);
			return fail(why, why_cap, err, "cannot write trace", o->trace);
		}
	}
	err = synack_loop_new(&h->loop, link, &cfg, hooks);
	if (err) {
		synack_link_destroy(link);
		synack_host_close(h);
		return fail(why, why_cap, err, "cannot start the stack", "");
	}
	h->stack = synack_loop_stack(h->loop);
	if (o->ctl && (err = synack_ctl_open(&h->ctl, o->ctl, h->loop)) < 0) {
		synack_host_close(h);
		return fail(why, why_cap, err, "cannot open control socket", o->ctl);
	}
	return 0;
}

void synack_host_close(struct synack_host *h)
{
	synack_ctl_close(h->ctl);
	h->ctl = NULL;
	synack_loop_destroy(h->loop);
	h->loop = NULL;
	h->stack = NULL;
	if (h->trace_close)
		h->trace_close(h->trace_state);
	h->trace_state = NULL;
	h->trace_close = NULL;
}
