/*
 * test_config.c - config.c: every KMEM_* option in each accepted form, each
 * rejection with its message on stderr and its count in the return value,
 * the defaults (also after a second kmem_config_init), kmem_parse_size
 * at its edges, and kmem_getenv against setenv.  Criterion runs each test
 * in its own process, so setenv does not leak between tests; the suite's
 * init clears whatever KMEM_* the caller's environment held.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "helpers.h"

#define C kmem_config

static const char *const options[] = {
	"KMEM_LIMIT", "KMEM_HUGEPAGES", "KMEM_PCP_HIGH", "KMEM_PCP_BATCH", "KMEM_PCP_RAMP",
	"KMEM_MALLOC_BORROW", "KMEM_DEBUG_VM", "KMEM_DECAY_MS", "KMEM_RETAIN", "KMEM_SYSFS_ROOT",
};

static void clear_options(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		unsetenv(options[i]);
}

TestSuite(config, .init = clear_options);

/* ---- helpers --------------------------------------------------------- */

static char err[8192];

/* kmem_config_init with fd 2 captured into err. */
static int init_capturing(void)
{
	struct stderr_capture cap;
	int ret;

	stderr_capture_begin(&cap);
	ret = kmem_config_init();
	stderr_capture_end(&cap, err, sizeof(err));
	return ret;
}

/* Set one option and read the configuration; expect no complaint. */
static void init_ok(const char *name, const char *value)
{
	setenv(name, value, 1);
	cr_assert_eq(init_capturing(), 0, "%s='%s' rejected: %s", name, value, err);
	cr_assert_str_eq(err, "", "%s='%s': %s", name, value, err);
}

/* Set one option and expect exactly the line msg about it. */
static void init_rejected(const char *name, const char *value, const char *msg)
{
	setenv(name, value, 1);
	cr_assert_eq(init_capturing(), 1, "%s='%s' accepted", name, value);
	cr_assert_str_eq(err, msg);
}

/* With no other option set, name=value alone is rejected as "not <what>". */
static void init_rejected_alone(const char *name, const char *value, const char *what)
{
	char msg[256];

	clear_options();
	snprintf(msg, sizeof(msg), "kmem: %s='%s': %s; ignored\n", name, value, what);
	init_rejected(name, value, msg);
}

static void assert_defaults(void)
{
	cr_assert_eq(C.limit, 0);
	cr_assert_eq(C.hugepages, HUGEPAGES_AUTO);
	cr_assert_eq(C.pcp_high, 0);
	cr_assert_eq(C.pcp_batch, 0);
	cr_assert_eq(C.pcp_ramp, 4);
	cr_assert_eq(C.malloc_borrow, 6);
	cr_assert_eq(C.debug_vm, false);
	cr_assert_eq(C.decay_ms, 200);
	cr_assert_eq(C.retain, 4UL << 20);
	cr_assert_str_eq(C.sysfs_root, "/sys");
}

static unsigned long size_of(const char *s)
{
	unsigned long v = 12345;

	cr_assert_eq(kmem_parse_size(s, &v), 0, "\"%s\" rejected", s);
	return v;
}

static void assert_not_size(const char *s)
{
	unsigned long v = 12345;

	cr_assert_eq(kmem_parse_size(s, &v), -1, "\"%s\" accepted as %lu", s, v);
	cr_assert_eq(v, 12345, "\"%s\": result written on failure", s);
}

/* ---- kmem_parse_size ------------------------------------------------- */

Test(config, parse_size_forms)
{
	cr_assert_eq(size_of("0"), 0);
	cr_assert_eq(size_of("4096"), 4096);
	cr_assert_eq(size_of("4096B"), 4096);
	cr_assert_eq(size_of("2k"), 2048);
	cr_assert_eq(size_of("2K"), 2048);
	cr_assert_eq(size_of("2KB"), 2048);
	cr_assert_eq(size_of("2KiB"), 2048);
	cr_assert_eq(size_of("64M"), 64UL << 20);
	cr_assert_eq(size_of("64m"), 64UL << 20);
	cr_assert_eq(size_of("64MiB"), 64UL << 20);
	cr_assert_eq(size_of("64mib"), 64UL << 20);
	cr_assert_eq(size_of("64Mb"), 64UL << 20);
	cr_assert_eq(size_of("1g"), 1UL << 30);
	cr_assert_eq(size_of("3G"), 3UL << 30);
	cr_assert_eq(size_of("1T"), 1UL << 40);
	cr_assert_eq(size_of("0M"), 0);
	cr_assert_eq(size_of("007k"), 7168);
}

Test(config, parse_size_limits)
{
	cr_assert_eq(size_of("18446744073709551615"), ULONG_MAX);
	cr_assert_eq(size_of("16777215T"), 16777215UL << 40);
	cr_assert_eq(size_of("17179869183G"), 17179869183UL << 30);
	assert_not_size("18446744073709551616");
	assert_not_size("99999999999999999999999");
	assert_not_size("16777216T");
	assert_not_size("17179869184G");
	assert_not_size("17592186044416M");
	assert_not_size("18014398509481984K");
}

Test(config, parse_size_rejects_junk)
{
	static const char *const bad[] = {
		"", "K", "M", "B", "iB", "-1", "-1M", "+1", " 1", "1 ", "1 M",
		"12Q", "1.5G", "0x10", "1KK", "1KiBB", "1iB", "1ib", "1Ki", "1MBB",
		"1P", "1E", "ten", "1k2",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_not_size(bad[i]);
	cr_assert_eq(kmem_parse_size(NULL, &(unsigned long){ 0 }), -1);
}

/* ---- kmem_getenv ----------------------------------------------------- */

Test(config, getenv_sees_setenv)
{
	cr_assert_null(kmem_getenv("KMEM_TEST_VAR"));
	setenv("KMEM_TEST_VAR", "one", 1);
	cr_assert_str_eq(kmem_getenv("KMEM_TEST_VAR"), "one");
	setenv("KMEM_TEST_VAR", "two", 1);
	cr_assert_str_eq(kmem_getenv("KMEM_TEST_VAR"), "two");
	setenv("KMEM_TEST_VAR", "", 1);
	cr_assert_str_eq(kmem_getenv("KMEM_TEST_VAR"), "");
	setenv("KMEM_TEST_VAR", "a=b", 1);
	cr_assert_str_eq(kmem_getenv("KMEM_TEST_VAR"), "a=b");
	unsetenv("KMEM_TEST_VAR");
	cr_assert_null(kmem_getenv("KMEM_TEST_VAR"));
	cr_assert_str_eq(kmem_getenv("PATH"), getenv("PATH"));
}

Test(config, getenv_matches_whole_names)
{
	setenv("KMEM_TEST_VARIABLE", "long", 1);
	setenv("KMEM_TEST_V", "short", 1);
	cr_assert_null(kmem_getenv("KMEM_TEST_VAR"));
	cr_assert_null(kmem_getenv("KMEM_TEST_VARIABLES"));
	cr_assert_str_eq(kmem_getenv("KMEM_TEST_VARIABLE"), "long");
	cr_assert_str_eq(kmem_getenv("KMEM_TEST_V"), "short");
	cr_assert_null(kmem_getenv("KMEM_TEST_V=short"));
	cr_assert_null(kmem_getenv(""));
	cr_assert_null(kmem_getenv("="));
}

Test(config, getenv_without_environ)
{
	char **saved;

	char path[4096];
	const char *p = getenv("PATH");

	cr_assert_not_null(p);
	snprintf(path, sizeof(path), "%s", p);
	setenv("KMEM_TEST_VAR", "x", 1);
	saved = environ;
	environ = NULL;
	/* Before libc sets environ, the initial environment comes from
	 * /proc/self/environ: what was set later is not there. */
	cr_assert_null(kmem_getenv("KMEM_TEST_VAR"));
	cr_assert_str_eq(kmem_getenv("PATH"), path);
	environ = saved;
	cr_assert_str_eq(kmem_getenv("KMEM_TEST_VAR"), "x");
}

/* ---- defaults -------------------------------------------------------- */

Test(config, defaults)
{
	memset(&C, 0x5a, sizeof(C));
	cr_assert_eq(init_capturing(), 0);
	cr_assert_str_eq(err, "");
	assert_defaults();
}

Test(config, init_again_resets_to_defaults)
{
	setenv("KMEM_LIMIT", "1G", 1);
	setenv("KMEM_HUGEPAGES", "off", 1);
	setenv("KMEM_PCP_HIGH", "100", 1);
	setenv("KMEM_PCP_BATCH", "10", 1);
	setenv("KMEM_DEBUG_VM", "1", 1);
	setenv("KMEM_DECAY_MS", "5", 1);
	setenv("KMEM_RETAIN", "0", 1);
	setenv("KMEM_SYSFS_ROOT", "/tmp/sys", 1);
	cr_assert_eq(init_capturing(), 0, "%s", err);
	cr_assert_eq(C.limit, 1UL << 30);
	cr_assert_eq(C.hugepages, HUGEPAGES_OFF);
	cr_assert_eq(C.pcp_high, 100);
	cr_assert_eq(C.pcp_batch, 10);
	cr_assert_eq(C.debug_vm, true);
	cr_assert_eq(C.decay_ms, 5);
	cr_assert_eq(C.retain, 0);
	cr_assert_str_eq(C.sysfs_root, "/tmp/sys");

	clear_options();
	cr_assert_eq(init_capturing(), 0);
	assert_defaults();
}

Test(config, empty_values_mean_the_default)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		setenv(options[i], "", 1);
	cr_assert_eq(init_capturing(), 0, "%s", err);
	cr_assert_str_eq(err, "");
	assert_defaults();
}

/* ---- each option ----------------------------------------------------- */

Test(config, limit)
{
	init_ok("KMEM_LIMIT", "64M");
	cr_assert_eq(C.limit, 64UL << 20);
	init_ok("KMEM_LIMIT", "2GiB");
	cr_assert_eq(C.limit, 2UL << 30);
	init_ok("KMEM_LIMIT", "1048576");
	cr_assert_eq(C.limit, 1UL << 20);
	init_ok("KMEM_LIMIT", "0");
	cr_assert_eq(C.limit, 0);

	init_rejected("KMEM_LIMIT", "12Q",
		      "kmem: KMEM_LIMIT='12Q': not a size (bytes, or a number with K, M, G or T); ignored\n");
	cr_assert_eq(C.limit, 0);
	init_rejected("KMEM_LIMIT", "-1",
		      "kmem: KMEM_LIMIT='-1': not a size (bytes, or a number with K, M, G or T); ignored\n");
	init_rejected("KMEM_LIMIT", "16777216T",
		      "kmem: KMEM_LIMIT='16777216T': not a size (bytes, or a number with K, M, G or T); ignored\n");
	cr_assert_eq(C.limit, 0);
}

Test(config, hugepages)
{
	static const struct {
		const char *value;
		enum hugepage_policy policy;
	} ok[] = {
		{ "auto", HUGEPAGES_AUTO }, { "hugetlb", HUGEPAGES_HUGETLB },
		{ "thp", HUGEPAGES_THP }, { "off", HUGEPAGES_OFF },
		{ "THP", HUGEPAGES_THP }, { "HugeTLB", HUGEPAGES_HUGETLB },
		{ "Off", HUGEPAGES_OFF }, { "AUTO", HUGEPAGES_AUTO },
	};

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		init_ok("KMEM_HUGEPAGES", ok[i].value);
		cr_assert_eq(C.hugepages, ok[i].policy, "%s", ok[i].value);
	}
	init_rejected("KMEM_HUGEPAGES", "always",
		      "kmem: KMEM_HUGEPAGES='always': not one of auto, hugetlb, thp or off; ignored\n");
	cr_assert_eq(C.hugepages, HUGEPAGES_AUTO);
	init_rejected("KMEM_HUGEPAGES", "thpx",
		      "kmem: KMEM_HUGEPAGES='thpx': not one of auto, hugetlb, thp or off; ignored\n");
	init_rejected("KMEM_HUGEPAGES", "of",
		      "kmem: KMEM_HUGEPAGES='of': not one of auto, hugetlb, thp or off; ignored\n");
	init_rejected("KMEM_HUGEPAGES", "1",
		      "kmem: KMEM_HUGEPAGES='1': not one of auto, hugetlb, thp or off; ignored\n");
}

Test(config, pcp_sizes)
{
	init_ok("KMEM_PCP_HIGH", "512");
	cr_assert_eq(C.pcp_high, 512);
	cr_assert_eq(C.pcp_batch, 0);

	unsetenv("KMEM_PCP_HIGH");
	init_ok("KMEM_PCP_BATCH", "31");
	cr_assert_eq(C.pcp_high, 0);
	cr_assert_eq(C.pcp_batch, 31);

	init_ok("KMEM_PCP_HIGH", "31");
	cr_assert_eq(C.pcp_high, 31);
	cr_assert_eq(C.pcp_batch, 31);

	init_ok("KMEM_PCP_HIGH", "0");
	cr_assert_eq(C.pcp_high, 0);
	cr_assert_eq(C.pcp_batch, 31);

	setenv("KMEM_PCP_HIGH", "2147483647", 1);
	init_ok("KMEM_PCP_BATCH", "1");
	cr_assert_eq(C.pcp_high, INT_MAX);
	cr_assert_eq(C.pcp_batch, 1);
}

Test(config, pcp_bad_values)
{
	static const char *const bad[] = {
		"-1", "abc", "1.5", "12 ", "0x10", "4k", "2147483648",
		"99999999999999999999999",
	};
	const char *pages = "not a number of pages (0 for the default)";

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		init_rejected_alone("KMEM_PCP_HIGH", bad[i], pages);
		cr_assert_eq(C.pcp_high, 0);
		init_rejected_alone("KMEM_PCP_BATCH", bad[i], pages);
		cr_assert_eq(C.pcp_batch, 0);
	}

	/* One bad, one good: the good one stays. */
	clear_options();
	setenv("KMEM_PCP_HIGH", "64", 1);
	init_rejected("KMEM_PCP_BATCH", "x",
		      "kmem: KMEM_PCP_BATCH='x': not a number of pages (0 for the default); ignored\n");
	cr_assert_eq(C.pcp_high, 64);
	cr_assert_eq(C.pcp_batch, 0);
}

/*
 * A count option from 0 to 8: both ends and "" (the default def) accepted,
 * 9 and what is not a plain decimal number rejected with the line "not
 * <what>", the default kept.
 */
static void check_count_0_to_8(const char *name, const int *field, int def, const char *what)
{
	static const char *const bad[] = { "-1", "9", "abc", "1.5", "4 ", "0x2", "99999999999999999999" };

	init_ok(name, "0");
	cr_assert_eq(*field, 0, "%s=0", name);
	init_ok(name, "8");
	cr_assert_eq(*field, 8, "%s=8", name);
	init_ok(name, "");
	cr_assert_eq(*field, def, "%s=''", name);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		init_rejected_alone(name, bad[i], what);
		cr_assert_eq(*field, def, "%s='%s' changed it", name, bad[i]);
	}
}

Test(config, pcp_ramp)
{
	check_count_0_to_8("KMEM_PCP_RAMP", &C.pcp_ramp, 4, "not a number of halvings from 0 to 8");
}

Test(config, malloc_borrow)
{
	check_count_0_to_8("KMEM_MALLOC_BORROW", &C.malloc_borrow, 6, "not a number of classes from 0 to 8");
}

Test(config, pcp_high_below_batch_rejects_both)
{
	setenv("KMEM_PCP_HIGH", "8", 1);
	setenv("KMEM_PCP_BATCH", "16", 1);
	cr_assert_eq(init_capturing(), 2);
	cr_assert_str_eq(err, "kmem: KMEM_PCP_HIGH=8 is below KMEM_PCP_BATCH=16; both ignored\n");
	cr_assert_eq(C.pcp_high, 0);
	cr_assert_eq(C.pcp_batch, 0);
}

Test(config, debug_vm)
{
	static const char *const yes[] = { "1", "yes", "true", "on", "YES", "True", "ON" };
	static const char *const no[] = { "0", "no", "false", "off", "NO", "False", "Off" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		init_ok("KMEM_DEBUG_VM", yes[i]);
		cr_assert_eq(C.debug_vm, true, "%s", yes[i]);
		init_ok("KMEM_DEBUG_VM", no[i]);
		cr_assert_eq(C.debug_vm, false, "%s", no[i]);
	}
	init_rejected("KMEM_DEBUG_VM", "2",
		      "kmem: KMEM_DEBUG_VM='2': not 0 or 1 (or no/yes, false/true, off/on); ignored\n");
	cr_assert_eq(C.debug_vm, false);
	init_rejected("KMEM_DEBUG_VM", "maybe",
		      "kmem: KMEM_DEBUG_VM='maybe': not 0 or 1 (or no/yes, false/true, off/on); ignored\n");
	init_rejected("KMEM_DEBUG_VM", "01",
		      "kmem: KMEM_DEBUG_VM='01': not 0 or 1 (or no/yes, false/true, off/on); ignored\n");
	init_rejected("KMEM_DEBUG_VM", "yess",
		      "kmem: KMEM_DEBUG_VM='yess': not 0 or 1 (or no/yes, false/true, off/on); ignored\n");
}

Test(config, decay_ms)
{
	init_ok("KMEM_DECAY_MS", "0");
	cr_assert_eq(C.decay_ms, 0);
	init_ok("KMEM_DECAY_MS", "250");
	cr_assert_eq(C.decay_ms, 250);
	init_ok("KMEM_DECAY_MS", "18446744073709551615");
	cr_assert_eq(C.decay_ms, ULONG_MAX);

	init_rejected("KMEM_DECAY_MS", "-1",
		      "kmem: KMEM_DECAY_MS='-1': not a number of milliseconds; ignored\n");
	cr_assert_eq(C.decay_ms, 200);
	init_rejected("KMEM_DECAY_MS", "1s",
		      "kmem: KMEM_DECAY_MS='1s': not a number of milliseconds; ignored\n");
	init_rejected("KMEM_DECAY_MS", "2.5",
		      "kmem: KMEM_DECAY_MS='2.5': not a number of milliseconds; ignored\n");
	init_rejected("KMEM_DECAY_MS", "18446744073709551616",
		      "kmem: KMEM_DECAY_MS='18446744073709551616': not a number of milliseconds; ignored\n");
	cr_assert_eq(C.decay_ms, 200);
}

Test(config, retain)
{
	init_ok("KMEM_RETAIN", "0");
	cr_assert_eq(C.retain, 0);
	init_ok("KMEM_RETAIN", "16M");
	cr_assert_eq(C.retain, 16UL << 20);
	init_ok("KMEM_RETAIN", "8192");
	cr_assert_eq(C.retain, 8192);

	init_rejected("KMEM_RETAIN", "lots",
		      "kmem: KMEM_RETAIN='lots': not a size (bytes, or a number with K, M, G or T); ignored\n");
	cr_assert_eq(C.retain, 4UL << 20);
}

Test(config, sysfs_root)
{
	char path[300], msg[256];

	init_ok("KMEM_SYSFS_ROOT", "/tmp/fake-sys");
	cr_assert_str_eq(C.sysfs_root, "/tmp/fake-sys");
	init_ok("KMEM_SYSFS_ROOT", "relative/dir");
	cr_assert_str_eq(C.sysfs_root, "relative/dir");

	/* 255 bytes fit with the NUL; 256 do not. */
	path[0] = '/';
	memset(path + 1, 'p', sizeof(path) - 1);
	path[255] = '\0';
	init_ok("KMEM_SYSFS_ROOT", path);
	cr_assert_str_eq(C.sysfs_root, path);

	path[255] = 'p';
	path[256] = '\0';
	snprintf(msg, sizeof(msg), "kmem: KMEM_SYSFS_ROOT='%.40s...': longer than 255 bytes; ignored\n",
		 path);
	init_rejected("KMEM_SYSFS_ROOT", path, msg);
	cr_assert_str_eq(C.sysfs_root, "/sys");
}

/* ---- several at once ------------------------------------------------- */

Test(config, every_rejection_is_counted_and_reported)
{
	setenv("KMEM_LIMIT", "12Q", 1);
	setenv("KMEM_HUGEPAGES", "never", 1);
	setenv("KMEM_PCP_HIGH", "x", 1);
	setenv("KMEM_PCP_BATCH", "y", 1);
	setenv("KMEM_DEBUG_VM", "2", 1);
	setenv("KMEM_DECAY_MS", "soon", 1);
	setenv("KMEM_RETAIN", "-4M", 1);
	cr_assert_eq(init_capturing(), 7, "%s", err);
	cr_assert_str_eq(err,
		"kmem: KMEM_LIMIT='12Q': not a size (bytes, or a number with K, M, G or T); ignored\n"
		"kmem: KMEM_HUGEPAGES='never': not one of auto, hugetlb, thp or off; ignored\n"
		"kmem: KMEM_PCP_HIGH='x': not a number of pages (0 for the default); ignored\n"
		"kmem: KMEM_PCP_BATCH='y': not a number of pages (0 for the default); ignored\n"
		"kmem: KMEM_DEBUG_VM='2': not 0 or 1 (or no/yes, false/true, off/on); ignored\n"
		"kmem: KMEM_DECAY_MS='soon': not a number of milliseconds; ignored\n"
		"kmem: KMEM_RETAIN='-4M': not a size (bytes, or a number with K, M, G or T); ignored\n");
	assert_defaults();
}

Test(config, good_options_survive_bad_neighbours)
{
	setenv("KMEM_LIMIT", "256M", 1);
	setenv("KMEM_HUGEPAGES", "nope", 1);
	setenv("KMEM_DEBUG_VM", "on", 1);
	setenv("KMEM_RETAIN", "1Z", 1);
	cr_assert_eq(init_capturing(), 2, "%s", err);
	cr_assert_eq(C.limit, 256UL << 20);
	cr_assert_eq(C.hugepages, HUGEPAGES_AUTO);
	cr_assert_eq(C.debug_vm, true);
	cr_assert_eq(C.retain, 4UL << 20);
}
