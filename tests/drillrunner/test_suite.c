/* The script suite as a unit test: every tests/drill/<topic>/<name>.pkt passes against the
 * engine (with --strict, as make drill-check runs it), so a change to the engine that breaks
 * a specified behaviour shows in `make unit`, before it lands. Run from the repository root. */
#include <criterion/criterion.h>
#include <glob.h>
#include <string.h>

#include "drill/drill.h"

Test(suite, every_script_passes)
{
	glob_t g;
	cr_assert_eq(glob("tests/drill/*/*.pkt", 0, NULL, &g), 0,
		     "no scripts found: run from the repository root");
	cr_assert_geq(g.gl_pathc, 80, "the suite holds at least 80 scripts");
	struct drill_config cfg;
	drill_config_default(&cfg);
	cfg.strict = true;
	struct drill_buf failures = {0};
	size_t failed = 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct drill_result res;
		if (drill_run_file(g.gl_pathv[i], &cfg, &res) == DRILL_FAIL) {
			failed++;
			drill_buf_printf(&failures, "%s", res.msg.p ? res.msg.p : g.gl_pathv[i]);
		}
		drill_result_free(&res);
	}
	size_t n = g.gl_pathc;
	globfree(&g);
	cr_expect_eq(failed, 0, "%zu of %zu scripts failed:\n%s", failed, n,
		     failures.p ? failures.p : "");
	drill_buf_free(&failures);
}
