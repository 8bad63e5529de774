/* Sequence arithmetic across the 2^32 wrap (RFC 9293 §3.4). */
#include <criterion/criterion.h>

#include "util/seq.h"

Test(seq, ordering_without_wrap)
{
	cr_assert(seq_lt(1, 2));
	cr_assert(!seq_lt(2, 1));
	cr_assert(seq_le(5, 5));
	cr_assert(seq_ge(5, 5));
	cr_assert(!seq_gt(5, 5));
}

Test(seq, ordering_across_wrap)
{
	cr_assert(seq_lt(0xFFFFFFF0u, 0x10u), "0xFFFFFFF0 is before 0x10 modulo 2^32");
	cr_assert(seq_gt(0x10u, 0xFFFFFFF0u));
	cr_assert(seq_lt(0xFFFFFFFFu, 0u));
	cr_assert_eq(seq_diff(0x5u, 0xFFFFFFFBu), 10);
	cr_assert_eq(seq_add(0xFFFFFFFFu, 1), 0u);
}

Test(seq, ranges_across_wrap)
{
	cr_assert(seq_in(0xFFFFFFFFu, 0xFFFFFFF0u, 0x10u));
	cr_assert(seq_in(0u, 0xFFFFFFF0u, 0x10u));
	cr_assert(!seq_in(0x10u, 0xFFFFFFF0u, 0x10u), "hi is exclusive");
	cr_assert(seq_between(0x10u, 0xFFFFFFF0u, 0x10u), "hi is inclusive");
	cr_assert(!seq_in(5u, 5u, 5u), "an empty range holds nothing");
	cr_assert_eq(seq_max(0xFFFFFFFEu, 3u), 3u);
	cr_assert_eq(seq_min(0xFFFFFFFEu, 3u), 0xFFFFFFFEu);
}
