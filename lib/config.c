/*
 * config.c - the KMEM_* options, read from the environment at kmem_init.
 *
 *   KMEM_LIMIT       bytes kmem may hand out ("512M", "2G"); 0: no limit
 *   KMEM_HUGEPAGES   auto | hugetlb | thp | off              (auto)
 *   KMEM_PCP_HIGH    pages a thread's pcp list may hold      (from the zone)
 *   KMEM_PCP_BATCH   pages moved between pcp and buddy       (from the zone)
 *   KMEM_PCP_RAMP    halvings of both a new thread starts at (4; 0..8)
 *   KMEM_SLOB_MIN    malloc above it (to 8 KiB) to the medium heap; 0 off (512)
 *   KMEM_PARK_BYTES  a thread's frees parked per slab cache; 0 off (64K)
 *   KMEM_DEBUG_VM    0/1, no/yes, false/true, off/on         (0)
 *   KMEM_DECAY_MS    idle milliseconds before free memory goes back (200)
 *   KMEM_RETAIN      free bytes a zone keeps resident        (4M)
 *   KMEM_SYSFS_ROOT  where to read the NUMA topology         (/sys)
 *   KMEM_STATS       reports at exit: 1 for stderr, or a file path (off)
 *
 * A variable that is unset or empty means the default.  A bad value is
 * reported in one line and the default kept: a typo must not stop the
 * program, which may be anything run under LD_PRELOAD.  This runs inside
 * the first malloc, before libc is fully up, so nothing here allocates and
 * kmem_getenv scans environ itself instead of calling getenv.
 */
#include <limits.h>
#include <string.h>
#include "internal.h"

extern char **environ;

struct kmem_config kmem_config;

static const struct kmem_config kmem_config_defaults = {
	.limit = 0,
	.hugepages = HUGEPAGES_AUTO,
	.pcp_high = 0,
	.pcp_batch = 0,
	.pcp_ramp = 4,
	.malloc_borrow = 6,
	.slob_min = 512,
	.park_bytes = 64UL << 10,
	.debug_vm = false,
	.decay_ms = 200,
	.retain = 4UL << 20,
	.sysfs_root = "/sys",
};

/*
 * Before libc has set environ (an allocation from a .preinit_array
 * function, which runs before libc's own initialisation), the process's
 * initial environment is read from /proc/self/environ instead.
 */
static char early_env[64 << 10] __large_bss;
static ssize_t early_env_len = -1;

static const char *early_getenv(const char *name, size_t len)
{
	if (early_env_len < 0)
		early_env_len = os_read_file("/proc/self/environ", early_env, sizeof(early_env));
	for (ssize_t i = 0; i < early_env_len; i += (ssize_t)strlen(early_env + i) + 1)
		if (!strncmp(early_env + i, name, len) && early_env[i + (ssize_t)len] == '=')
			return early_env + i + len + 1;
	return NULL;
}

const char *kmem_getenv(const char *name)
{
	size_t len = strlen(name);

	if (!len || strchr(name, '='))
		return NULL;
	if (!environ)
		return early_getenv(name, len);
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, name, len) && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

/* Leading decimal digits of *s; false on none or on overflow. */
static bool parse_digits(const char **s, unsigned long *val)
{
	const char *p = *s;
	unsigned long v = 0;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (v > (ULONG_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*s = p;
	*val = v;
	return true;
}

static bool parse_ulong(const char *s, unsigned long *val)
{
	return parse_digits(&s, val) && !*s;
}

int kmem_parse_size(const char *s, unsigned long *bytes)
{
	unsigned long v;
	unsigned int shift = 0;

	if (!s || !parse_digits(&s, &v))
		return -1;
	switch (*s) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	}
	if (shift) {
		s++;
		if ((*s == 'i' || *s == 'I') && (s[1] == 'b' || s[1] == 'B'))
			s++;
	}
	if (*s == 'b' || *s == 'B')
		s++;
	if (*s || v > ULONG_MAX >> shift)
		return -1;
	*bytes = v << shift;
	return 0;
}

/* Case-insensitive comparison with a lower-case word. */
static bool word_is(const char *s, const char *word)
{
	for (; *word; s++, word++) {
		char c = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;

		if (c != *word)
			return false;
	}
	return !*s;
}

/* The value of an option, or NULL for unset or empty. */
static const char *option(const char *name)
{
	const char *v = kmem_getenv(name);

	return v && *v ? v : NULL;
}

/* Report a rejected value; returns 1 for the count of rejections. */
static int reject(const char *name, const char *val, const char *why)
{
	kmem_warn("%s='%s': %s; ignored", name, val, why);
	return 1;
}

static int read_size(const char *name, unsigned long *out)
{
	const char *v = option(name);

	if (v && kmem_parse_size(v, out))
		return reject(name, v, "not a size (bytes, or a number with K, M, G or T)");
	return 0;
}

/* A whole number from 0 to max; what says what it should have been. */
static int read_count(const char *name, int max, const char *what, int *out)
{
	const char *v = option(name);
	unsigned long n;

	if (!v)
		return 0;
	if (!parse_ulong(v, &n) || n > (unsigned long)max)
		return reject(name, v, what);
	*out = (int)n;
	return 0;
}

static int read_hugepages(void)
{
	static const char *const names[] = {
		[HUGEPAGES_AUTO] = "auto",
		[HUGEPAGES_HUGETLB] = "hugetlb",
		[HUGEPAGES_THP] = "thp",
		[HUGEPAGES_OFF] = "off",
	};
	const char *v = option("KMEM_HUGEPAGES");

	if (!v)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (word_is(v, names[i])) {
			kmem_config.hugepages = (enum hugepage_policy)i;
			return 0;
		}
	}
	return reject("KMEM_HUGEPAGES", v, "not one of auto, hugetlb, thp or off");
}

static int read_bool(const char *name, bool *out)
{
	static const char *const no[] = { "0", "no", "false", "off" };
	static const char *const yes[] = { "1", "yes", "true", "on" };
	const char *v = option(name);

	if (!v)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(no); i++) {
		if (word_is(v, no[i]) || word_is(v, yes[i])) {
			*out = word_is(v, yes[i]);
			return 0;
		}
	}
	return reject(name, v, "not 0 or 1 (or no/yes, false/true, off/on)");
}

static int read_ms(const char *name, unsigned long *out)
{
	const char *v = option(name);

	if (v && !parse_ulong(v, out))
		return reject(name, v, "not a number of milliseconds");
	return 0;
}

static int read_path(const char *name, char *out, size_t size)
{
	const char *v = option(name);
	size_t len;

	if (!v)
		return 0;
	len = strlen(v);
	if (len >= size) {
		kmem_warn("%s='%.40s...': longer than %zu bytes; ignored",
			  name, v, size - 1);
		return 1;
	}
	memcpy(out, v, len + 1);
	return 0;
}

/* KMEM_STATS: a boolean, or the path of a file to write the reports to. */
static int read_stats(void)
{
	const char *v = option("KMEM_STATS");

	if (!v)
		return 0;
	if (word_is(v, "0") || word_is(v, "no") || word_is(v, "false") || word_is(v, "off"))
		return 0;
	if (word_is(v, "1") || word_is(v, "yes") || word_is(v, "true") || word_is(v, "on") ||
	    word_is(v, "-") || word_is(v, "stderr")) {
		memcpy(kmem_config.stats, "-", 2);
		return 0;
	}
	return read_path("KMEM_STATS", kmem_config.stats, sizeof(kmem_config.stats));
}

/* A pcp list holds at least one batch.  Checked when both are given; a
 * value left at 0 is derived from the zone's size. */
static int check_pcp(void)
{
	struct kmem_config *c = &kmem_config;

	if (!c->pcp_high || !c->pcp_batch || c->pcp_high >= c->pcp_batch)
		return 0;
	kmem_warn("KMEM_PCP_HIGH=%d is below KMEM_PCP_BATCH=%d; both ignored",
		  c->pcp_high, c->pcp_batch);
	c->pcp_high = 0;
	c->pcp_batch = 0;
	return 2;
}

int kmem_config_init(void)
{
	static const char pages[] = "not a number of pages (0 for the default)";
	struct kmem_config *c = &kmem_config;
	int rejected = 0;

	*c = kmem_config_defaults;
	rejected += read_size("KMEM_LIMIT", &c->limit);
	rejected += read_hugepages();
	rejected += read_count("KMEM_PCP_HIGH", INT_MAX, pages, &c->pcp_high);
	rejected += read_count("KMEM_PCP_BATCH", INT_MAX, pages, &c->pcp_batch);
	rejected += check_pcp();
	/* past 8 halvings every list starts at one page anyway */
	rejected += read_count("KMEM_PCP_RAMP", PCP_RAMP_MAX,
			       "not a number of halvings from 0 to 8", &c->pcp_ramp);
	rejected += read_count("KMEM_MALLOC_BORROW", MALLOC_BORROW_MAX,
			       "not a number of classes from 0 to 8", &c->malloc_borrow);
	rejected += read_size("KMEM_SLOB_MIN", &c->slob_min);
	rejected += read_size("KMEM_PARK_BYTES", &c->park_bytes);
	rejected += read_bool("KMEM_DEBUG_VM", &c->debug_vm);
	rejected += read_ms("KMEM_DECAY_MS", &c->decay_ms);
	rejected += read_size("KMEM_RETAIN", &c->retain);
	rejected += read_path("KMEM_SYSFS_ROOT", c->sysfs_root, sizeof(c->sysfs_root));
	rejected += read_stats();
	return rejected;
}
