/* Replays the fuzz corpora through the fuzz harnesses under the ordinary (gcc, and in
 * `make sanitize` ASan+UBSan) build: every committed seed in fuzz/corpus/<target>/ and every
 * input that ever crashed a target, kept in fuzz/regress/<target>/ with a name saying what it
 * broke. A harness aborts on any broken invariant, so a regression fails (crashes) the test.
 * The harness sources are compiled in here (not poked into: they only call the public API). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#define SYNACK_FUZZ_NO_MAIN 1
#include "../../fuzz/fuzz_addr.c"
#include "../../fuzz/fuzz_drill.c"
#include "../../fuzz/fuzz_http.c"
#include "../../fuzz/fuzz_ip6.c"
#include "../../fuzz/fuzz_pcap.c"
#include "../../fuzz/fuzz_reasm.c"
#include "../../fuzz/fuzz_stack.c"
#include "../../fuzz/fuzz_wire.c"
#include "../../fuzz/fuzz_ctl.c"
#include "../../fuzz/fuzz_httpconn.c"
#include "../../fuzz/fuzz_pair.c"

typedef int (*harness_fn)(const uint8_t *data, size_t len);

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	static uint8_t buf[1 << 20];
	*len = fread(buf, 1, sizeof(buf), f);
	cr_assert(ferror(f) == 0 && feof(f), "cannot read %s whole", path);
	fclose(f);
	return buf;
}

/* Runs every file of dir through fn; returns how many there were. */
static int replay_dir(const char *dir, harness_fn fn)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		size_t len;
		const uint8_t *data = slurp(path, &len);
		cr_log_info("replaying %s (%zu bytes)", path, len);
		cr_assert_eq(fn(data, len), 0, "%s", path);
		n++;
	}
	closedir(d);
	return n;
}

static void replay(const char *target, harness_fn fn, int min_seeds)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "fuzz/corpus/%s", target);
	int seeds = replay_dir(dir, fn);
	cr_assert_geq(seeds, min_seeds, "%s: %d seeds found (run from the repository root)", dir,
		      seeds);
	snprintf(dir, sizeof(dir), "fuzz/regress/%s", target);
	replay_dir(dir, fn);
}

Test(fuzz_regress, addr)
{
	replay("fuzz_addr", synack_fuzz_addr, 16);
}
Test(fuzz_regress, ip6)
{
	replay("fuzz_ip6", synack_fuzz_ip6, 11);
}
Test(fuzz_regress, wire)
{
	replay("fuzz_wire", synack_fuzz_wire, 14);
}
Test(fuzz_regress, drill)
{
	replay("fuzz_drill", synack_fuzz_drill, 10);
}
Test(fuzz_regress, http)
{
	replay("fuzz_http", synack_fuzz_http, 7);
}
Test(fuzz_regress, pcap)
{
	replay("fuzz_pcap", synack_fuzz_pcap, 14);
}
Test(fuzz_regress, reasm)
{
	replay("fuzz_reasm", synack_fuzz_reasm, 14);
}
Test(fuzz_regress, stack)
{
	replay("fuzz_stack", synack_fuzz_stack, 8);
}
Test(fuzz_regress, ctl)
{
	replay("fuzz_ctl", synack_fuzz_ctl, 5);
}
Test(fuzz_regress, httpconn)
{
	replay("fuzz_httpconn", synack_fuzz_httpconn, 5);
}
Test(fuzz_regress, pair)
{
	replay("fuzz_pair", synack_fuzz_pair, 6);
}
