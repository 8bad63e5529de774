/* synack — a streaming reader for captures: pcap (both byte orders, micro- and nanosecond
 * timestamps) and pcapng (SHB, IDB, EPB, SPB and the obsolete PB, both byte orders, a link
 * type and timestamp resolution per interface), as tcpdump, dumpcap and synack's own pcap
 * writer produce them.
 *
 * It hands out the IP packets, IPv4 and IPv6, with the link header taken off, one at a
 * time: Ethernet (EtherType 0x0800 or 0x86DD, with 802.1Q/802.1ad tags), raw IP (LINKTYPE_RAW
 * 101 and the DLT_RAW values 12 and 14: the version nibble tells the family), LINKTYPE_IPV4
 * (228), LINKTYPE_IPV6 (229), Linux cooked captures (SLL 113, SLL2 276, as `tcpdump -i any`
 * writes them) and BSD loopback (NULL 0, LOOP 108: AF_INET, and AF_INET6 as 10, 24, 28 or 30
 * whichever system wrote it). Everything else is counted and skipped: packets cut short by the
 * snapshot length, other network protocols (ARP, LLDP, ...), unknown link types. Memory is one record buffer whatever the size of the file; malformed or truncated
 * files stop the reader with an error message that says where and what.
 */
#ifndef SYNACK_RENDER_PCAPREAD_H
#define SYNACK_RENDER_PCAPREAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SYNACK_LINKTYPE_NULL 0
#define SYNACK_LINKTYPE_ETHERNET 1
#define SYNACK_LINKTYPE_DLT_RAW1 12
#define SYNACK_LINKTYPE_DLT_RAW2 14
#define SYNACK_LINKTYPE_RAW 101
#define SYNACK_LINKTYPE_LOOP 108
#define SYNACK_LINKTYPE_LINUX_SLL 113
#define SYNACK_LINKTYPE_IPV4 228
#define SYNACK_LINKTYPE_IPV6 229
#define SYNACK_LINKTYPE_LINUX_SLL2 276

/* The largest packet record accepted (libpcap's own maximum snapshot length). */
#define SYNACK_PCAP_MAX_CAPLEN 262144u

struct synack_pcapread;

/* One IP packet from the capture (ip[0] >> 4 is 4 or 6); `ip` points into the reader's buffer
 * and stays valid until the next call. */
struct synack_pcap_pkt {
	uint64_t t_ns;	   /* capture time, nanoseconds since the epoch */
	const uint8_t *ip; /* the IP header and what follows it, as captured */
	size_t ip_len;	   /* captured bytes from ip on (may include link padding) */
	uint32_t orig_len; /* the frame's length on the wire */
	uint32_t linktype;
	uint32_t iface;	 /* pcapng interface id; 0 for pcap */
	uint64_t record; /* 1-based number of the record in the file (as Wireshark counts) */
};

struct synack_pcap_stats {
	uint64_t records;   /* packet records read */
	uint64_t ip;	    /* IPv4 and IPv6 packets handed out */
	uint64_t truncated; /* shorter than on the wire (snapshot length): skipped */
	uint64_t non_ip;    /* other protocols (ARP, LLDP, ...): skipped */
	uint64_t bad_link;  /* link header cut short, or a link type not handled: skipped */
};

enum synack_pcap_format { SYNACK_PCAP_CLASSIC, SYNACK_PCAP_NG };

/* Starts reading f (not owned: the caller closes it). Reads the file header.
 * Errors: -ENOMEM; -EINVAL (not a capture, or a malformed header: see _error);
 * -ENODATA (an empty file). */
int synack_pcapread_open(struct synack_pcapread **out, FILE *f);
/* The next IP packet: returns 1 and fills *pkt, 0 at the end of the capture. Errors:
 * -EINVAL (malformed or truncated file; _error says where), -EIO (read error). After an
 * error every further call returns the same error. */
int synack_pcapread_next(struct synack_pcapread *r, struct synack_pcap_pkt *pkt);
/* A one-line description of the last error ("" when none). */
const char *synack_pcapread_error(const struct synack_pcapread *r);
const struct synack_pcap_stats *synack_pcapread_stats(const struct synack_pcapread *r);
enum synack_pcap_format synack_pcapread_format(const struct synack_pcapread *r);
void synack_pcapread_close(struct synack_pcapread *r);

/* Strips a link header: returns a pointer to the IP packet inside frame (and its length in
 * *ip_len), or NULL when the frame is neither IPv4 nor IPv6 (*why = 1: another protocol, 2: link header
 * too short or unknown link type). Exposed for tests. */
const uint8_t *synack_pcap_strip_link(uint32_t linktype, const uint8_t *frame, size_t len,
				      size_t *ip_len, int *why);

#endif
