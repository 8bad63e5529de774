/* Fuzz target: the pcap/pcapng reader (src/render/pcapread.h), fed the input as a file.
 *
 * Invariants: open and next return only their documented results; every packet handed out
 * is readable over its whole ip_len (ASan checks the read), is at most the record limit long
 * and starts with an IPv4 or IPv6 version nibble; the stats count exactly the packets handed out; an
 * error has a message and sticks (every later call repeats it); the reader ends (by the end
 * of file or an error) within one call per record. The link-header stripper, tried on the raw
 * input under every link type, returns NULL with a reason or a slice of its input. */
#include <errno.h>

#include "fuzz.h"

#include "render/pcapread.h"

static void check_packet(const struct synack_pcap_pkt *pkt)
{
	FUZZ_ASSERT(pkt->ip != NULL && pkt->ip_len > 0 && pkt->ip_len <= SYNACK_PCAP_MAX_CAPLEN,
		    "packet of %zu bytes", pkt->ip_len);
	FUZZ_ASSERT(pkt->ip[0] >> 4 == 4 || pkt->ip[0] >> 4 == 6, "not IP: %#x", pkt->ip[0]);
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < pkt->ip_len; i++)
		sink ^= pkt->ip[i];
	(void)sink;
}

static void read_all(const uint8_t *data, size_t len)
{
	/* fmemopen refuses a zero size: open one byte and read it away. */
	static const uint8_t empty = 0;
	FILE *f = fmemopen((void *)(len ? data : &empty), len ? len : 1, "rb");
	FUZZ_ASSERT(f != NULL, "fmemopen failed");
	if (len == 0)
		(void)fgetc(f);
	struct synack_pcapread *r = NULL;
	int rc = synack_pcapread_open(&r, f);
	if (rc < 0) {
		/* A failed open still hands out the reader, so the caller can read the message. */
		FUZZ_ASSERT(rc == -EINVAL || rc == -ENODATA || rc == -ENOMEM || rc == -EIO,
			    "open returned %d", rc);
		FUZZ_ASSERT(rc == -ENOMEM || (r && synack_pcapread_error(r)[0] != '\0'),
			    "open error %d without a message", rc);
		synack_pcapread_close(r);
		fclose(f);
		return;
	}
	FUZZ_ASSERT(r != NULL, "open succeeded without a reader");
	uint64_t handed = 0;
	struct synack_pcap_pkt pkt;
	/* Each record takes at least 8 bytes of the file, so len/8 + 2 calls must reach the end. */
	for (size_t calls = 0;; calls++) {
		FUZZ_ASSERT(calls <= len / 8 + 2, "reader did not finish after %zu calls", calls);
		rc = synack_pcapread_next(r, &pkt);
		if (rc != 1)
			break;
		check_packet(&pkt);
		handed++;
	}
	const struct synack_pcap_stats *st = synack_pcapread_stats(r);
	FUZZ_ASSERT(st->ip == handed, "stats say %llu packets, %llu handed out",
		    (unsigned long long)st->ip, (unsigned long long)handed);
	FUZZ_ASSERT(st->records >= st->ip + st->truncated + st->non_ip + st->bad_link,
		    "more packets classified than records read");
	if (rc < 0) {
		FUZZ_ASSERT(rc == -EINVAL || rc == -EIO, "next returned %d", rc);
		FUZZ_ASSERT(synack_pcapread_error(r)[0] != '\0', "error %d without a message", rc);
		FUZZ_ASSERT(synack_pcapread_next(r, &pkt) == rc, "error did not stick");
	} else {
		FUZZ_ASSERT(rc == 0, "next returned %d", rc);
		FUZZ_ASSERT(synack_pcapread_next(r, &pkt) == 0, "end of capture did not stick");
	}
	synack_pcapread_close(r);
	fclose(f);
}

static void strip_all(const uint8_t *data, size_t len)
{
	static const uint32_t types[] = {SYNACK_LINKTYPE_NULL,	     SYNACK_LINKTYPE_ETHERNET,
					 SYNACK_LINKTYPE_DLT_RAW1,   SYNACK_LINKTYPE_DLT_RAW2,
					 SYNACK_LINKTYPE_RAW,	     SYNACK_LINKTYPE_LOOP,
					 SYNACK_LINKTYPE_LINUX_SLL,  SYNACK_LINKTYPE_IPV4,
					 SYNACK_LINKTYPE_LINUX_SLL2, SYNACK_LINKTYPE_IPV6,
					 9999};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t ip_len = 12345;
		int why = 0;
		const uint8_t *ip = synack_pcap_strip_link(types[i], data, len, &ip_len, &why);
		if (!ip) {
			FUZZ_ASSERT(why == 1 || why == 2, "linktype %u: NULL with why %d", types[i],
				    why);
			continue;
		}
		FUZZ_ASSERT(ip >= data && ip <= data + len && ip_len <= (size_t)(data + len - ip),
			    "linktype %u: slice outside the frame", types[i]);
	}
}

int synack_fuzz_pcap(const uint8_t *data, size_t len);
int synack_fuzz_pcap(const uint8_t *data, size_t len)
{
	read_all(data, len);
	/* A private copy so that ASan catches any read past the frame. */
	uint8_t *copy = malloc(len ? len : 1);
	FUZZ_ASSERT(copy != NULL, "out of memory");
	memcpy(copy, data, len);
	strip_all(copy, len);
	free(copy);
	return 0;
}

#ifndef SYNACK_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	return synack_fuzz_pcap(data, len);
}
#endif
