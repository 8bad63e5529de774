/* Fuzz target: address text (src/core/addr.c), synack_addr_parse() and synack_addr_str(),
 * and the --addr parser of serve and connect (synack_parse_prefix(), src/link/tun.c).
 *
 * Invariants:
 *  - parse returns 0 or -EINVAL, and on -EINVAL leaves its output untouched;
 *  - round trip: whatever parses prints as text that parses back to the same address, and
 *    that text is canonical (printing the re-parsed address gives the same text); the same
 *    for the first 16 input bytes taken as an address;
 *  - the text fits SYNACK_ADDR_STRLEN and holds only digits, a-f, ':' and '.';
 *  - a differential oracle: the C library's inet_pton() accepts exactly what parse accepts
 *    (dotted quad when there is no ':', IPv6 otherwise) with the same bytes, and inet_ntop()
 *    prints every IPv6 address outside ::/96 as parse's counterpart does (RFC 5952);
 *  - synack_parse_prefix() returns 0 or -EINVAL, leaves its outputs untouched on -EINVAL,
 *    and accepts exactly "ADDRESS/N" where ADDRESS parses and N is a plain decimal in 1..31
 *    (IPv4) or 1..127 (IPv6), giving that address and N. */
#include <arpa/inet.h>
#include <errno.h>

#include "fuzz.h"

#include "synack/addr.h"
#include "synack/tun.h"

static void check_text(const char *t)
{
	size_t n = strlen(t);
	FUZZ_ASSERT(n > 0 && n < SYNACK_ADDR_STRLEN, "length %zu: '%s'", n, t);
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		FUZZ_ASSERT((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' ||
				    c == '.',
			    "character %#x in '%s'", (unsigned)(unsigned char)c, t);
	}
}

/* str(a) parses back to a, and str of that is the same text. */
static void round_trip(const struct synack_addr *a)
{
	char t1[SYNACK_ADDR_STRLEN], t2[SYNACK_ADDR_STRLEN];
	synack_addr_str(a, t1, sizeof t1);
	check_text(t1);
	struct synack_addr back;
	FUZZ_ASSERT(synack_addr_parse(t1, &back) == 0, "own text '%s' does not parse", t1);
	FUZZ_ASSERT(synack_addr_eq(a, &back), "'%s' parses to another address", t1);
	synack_addr_str(&back, t2, sizeof t2);
	FUZZ_ASSERT(strcmp(t1, t2) == 0, "not canonical: '%s' then '%s'", t1, t2);

	/* inet_ntop prints ::a.b.c.d and ::ffff:a.b.c.d in mixed notation: compare the rest. */
	static const uint8_t zero[12];
	if (synack_addr_is_v4(a) || memcmp(a->b, zero, 12) == 0)
		return;
	char lib[INET6_ADDRSTRLEN];
	FUZZ_ASSERT(inet_ntop(AF_INET6, a->b, lib, sizeof lib) != NULL, "inet_ntop failed");
	FUZZ_ASSERT(strcmp(lib, t1) == 0, "inet_ntop says '%s', we say '%s'", lib, t1);
}

static void differential(const char *text, int rc, const struct synack_addr *got)
{
	uint8_t lib[16];
	if (strchr(text, ':')) {
		int ok = inet_pton(AF_INET6, text, lib) == 1;
		FUZZ_ASSERT(ok == (rc == 0), "'%s': inet_pton %d, we %d", text, ok, rc);
		FUZZ_ASSERT(!ok || memcmp(lib, got->b, 16) == 0, "'%s': other bytes", text);
		return;
	}
	int ok = inet_pton(AF_INET, text, lib) == 1;
	FUZZ_ASSERT(ok == (rc == 0), "'%s': inet_pton %d, we %d", text, ok, rc);
	FUZZ_ASSERT(!ok || memcmp(lib, got->b + 12, 4) == 0, "'%s': other bytes", text);
	FUZZ_ASSERT(!ok || synack_addr_is_v4(got), "'%s': not IPv4-mapped", text);
}

/* The oracle of synack_parse_prefix(): under 64 bytes, the text before the first '/' parses,
 * and what follows is decimal digits only (no sign, no space) with a value in range. */
static void prefix_check(const char *text)
{
	struct synack_addr out = synack_addr_v4(0x01020304u), untouched = out;
	unsigned p = 1000;
	int rc = synack_parse_prefix(text, &out, &p);
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL, "parse_prefix returned %d", rc);
	const char *slash = strchr(text, '/');
	bool want = false;
	struct synack_addr a;
	unsigned n = 0;
	if (slash && strlen(text) < 64 && slash[1]) {
		char head[65];
		memcpy(head, text, (size_t)(slash - text));
		head[slash - text] = '\0';
		bool digits = true;
		for (const char *d = slash + 1; *d && digits; d++) {
			digits = *d >= '0' && *d <= '9';
			n = n > 1000 ? n : n * 10 + (unsigned)(*d - '0');
		}
		want = digits && synack_addr_parse(head, &a) == 0 && n >= 1 &&
		       n <= (synack_addr_is_v4(&a) ? 31u : 127u);
	}
	FUZZ_ASSERT((rc == 0) == want, "'%s': parse_prefix %d, oracle %d", text, rc, want);
	if (rc != 0) {
		FUZZ_ASSERT(synack_addr_eq(&out, &untouched) && p == 1000,
			    "a failed parse_prefix wrote its output");
		return;
	}
	FUZZ_ASSERT(synack_addr_eq(&out, &a) && p == n, "'%s': other address or prefix", text);
}

int synack_fuzz_addr(const uint8_t *data, size_t len);
int synack_fuzz_addr(const uint8_t *data, size_t len)
{
	if (len >= 16) {
		struct synack_addr a = synack_addr_v6(data);
		round_trip(&a);
	}
	if (len > 64)
		len = 64; /* longer text is refused on the same paths */
	char text[65];
	memcpy(text, data, len);
	text[len] = '\0';

	struct synack_addr out = synack_addr_v4(0x01020304u), untouched = out;
	int rc = synack_addr_parse(text, &out);
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL, "parse returned %d", rc);
	if (rc != 0)
		FUZZ_ASSERT(synack_addr_eq(&out, &untouched), "a failed parse wrote its output");
	else
		round_trip(&out);
	differential(text, rc, &out);
	prefix_check(text);
	return 0;
}

#ifndef SYNACK_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	return synack_fuzz_addr(data, len);
}
#endif
