/*
 * test_printk.c - printk.c: kmem_snprintf against the C library's snprintf
 * (a hand-written table, then every combination of flags, width,
 * precision, length and conversion), truncation, the buffered writer on
 * pipes and files (long output, interrupted writes), kmem_warn's line
 * format and atomicity, and kmem_panic.  Nothing here brings the
 * allocator up.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "helpers.h"

/* ---- helpers --------------------------------------------------------- */

#define CMP_BUF 640

static int mismatches;

/* vsnprintf and kmem_vsnprintf into size bytes of canary-filled buffers:
 * same return, same bytes, nothing written past size. */
static void vcompare(size_t size, const char *fmt, va_list ap)
{
	char want[CMP_BUF], got[CMP_BUF];
	va_list aq;
	int wn, gn;

	memset(want, 'Z', sizeof(want));
	memset(got, 'Z', sizeof(got));
	va_copy(aq, ap);
	wn = vsnprintf(want, size, fmt, ap);
	gn = kmem_vsnprintf(got, size, fmt, aq);
	va_end(aq);
	if (wn == gn && !memcmp(want, got, sizeof(got)))
		return;
	if (mismatches++ < 25)
		cr_expect(0, "format \"%s\", size %zu: libc %d \"%.*s\", kmem %d \"%.*s\"",
			  fmt, size, wn, (int)strnlen(want, size), want,
			  gn, (int)strnlen(got, size), got);
}

/* Compare with a buffer large enough and with three truncating sizes. */
static void vcompare_sizes(const char *fmt, va_list ap)
{
	static const size_t sizes[] = { CMP_BUF, 0, 1, 5 };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		va_list aq;

		va_copy(aq, ap);
		vcompare(sizes[i], fmt, aq);
		va_end(aq);
	}
}

__attribute__((format(printf, 1, 2)))
static void compare(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcompare_sizes(fmt, ap);
	va_end(ap);
}

/* For arguments out of range on purpose, such as %hhd of 300. */
static void compare_unchecked(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcompare_sizes(fmt, ap);
	va_end(ap);
}

/* kmem_vsnprintf without compile-time format checking, for formats that
 * are wrong on purpose. */
static int unchecked(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kmem_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* Read fd to end of file into buf (NUL-terminated); returns the length. */
static size_t read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

/* An unlinked temporary file. */
static int temp_fd(void)
{
	char path[] = "/tmp/kmem-printk-XXXXXX";
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	unlink(path);
	return fd;
}

static size_t read_back(int fd, char *buf, size_t size)
{
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	return read_all(fd, buf, size);
}

/* Run fn with fd 2 going into a pipe; returns what it wrote. */
static size_t capture_stderr(void (*fn)(void *), void *arg, char *out, size_t size)
{
	int pipefd[2], saved;

	fflush(stderr);
	cr_assert_eq(pipe(pipefd), 0);
	saved = dup(2);
	cr_assert(saved >= 0);
	cr_assert_eq(dup2(pipefd[1], 2), 2);
	close(pipefd[1]);
	fn(arg);
	dup2(saved, 2);
	close(saved);
	size = read_all(pipefd[0], out, size);
	close(pipefd[0]);
	return size;
}

/* ---- kmem_snprintf against libc ------------------------------------- */

Test(printk, int_table)
{
	static const char *const fmts[] = {
		"%d", "%i", "%u", "%x", "%X", "%o", "[%5d]", "[%-5d]", "[%05d]",
		"[%+d]", "[% d]", "[%+5d]", "[%-+5d]", "[% 05d]", "[%+05d]",
		"[%.3d]", "[%8.3d]", "[%-8.3d]", "[%08.3d]", "[%.0d]", "[%+.0d]",
		"[%5.0d]", "[%#x]", "[%#X]", "[%#o]", "[%#.0o]", "[%#.0x]",
		"[%#08x]", "[%-#8x]", "[%#8.4x]", "[%#5o]", "[%#.4o]", "[%08u]",
		"[%-08d]", "[%0-8d]", "[% +d]", "[%+ d]", "[%1d]", "[%40d]",
		"[%.20u]", "[%-12.5x]", "[%012o]", "a%db%dc", "%d%%",
	};
	static const int vals[] = {
		0, 1, -1, 7, 8, 42, -42, 99, 255, 256, 4096, -100000,
		INT_MAX, INT_MIN, INT_MAX - 1, INT_MIN + 1,
	};

	for (size_t f = 0; f < ARRAY_SIZE(fmts); f++)
		for (size_t v = 0; v < ARRAY_SIZE(vals); v++)
			compare(fmts[f], vals[v], vals[v] / 3);
	cr_assert_eq(mismatches, 0);
}

Test(printk, length_modifiers)
{
	compare_unchecked("%hhd %hhu %hhx %hhd %hhd", 300, -1, 0x1ff, -129, 127);
	compare_unchecked("%hd %hu %hx %ho %hd", 70000, -1, -1, 65535, -32768);
	compare("%ld %lu %lx %lo", LONG_MIN, ULONG_MAX, ULONG_MAX, ULONG_MAX);
	compare("%ld %ld %+ld %lX", LONG_MAX, -1L, 0L, 0xdeadbeefUL);
	compare("%lld %lld %llu %llx %llo", LLONG_MIN, LLONG_MAX, ULLONG_MAX,
		ULLONG_MAX, ULLONG_MAX);
	compare("[%30lld] [%-30llu] [%030lld] [%.25llx]", LLONG_MIN, ULLONG_MAX,
		LLONG_MIN, ULLONG_MAX);
	compare("%zu %zx %zd %zd", SIZE_MAX, SIZE_MAX, (ssize_t)-5, (ssize_t)SSIZE_MAX);
	compare("%td %td %tx %tu", PTRDIFF_MIN, PTRDIFF_MAX, (ptrdiff_t)-1, (ptrdiff_t)12);
	compare("%jd %jd %ju %jx", INTMAX_MIN, INTMAX_MAX, UINTMAX_MAX, UINTMAX_MAX);
	compare("%#lx %#llo %#zx %#jX", 0x1234UL, 0777ULL, (size_t)0, (uintmax_t)0xabc);
	compare("%i %li %lli %hi %hhi", -3, -4L, -5LL, (short)-6, (signed char)-7);
	cr_assert_eq(mismatches, 0);
}

Test(printk, star_width_and_precision)
{
	compare("[%*d]", 6, 42);
	compare("[%*d]", -6, 42);
	compare("[%-*d]", -6, 42);
	compare("[%.*d]", 4, 42);
	compare("[%.*d]", -4, 42);
	compare("[%.*d]", 0, 0);
	compare("[%*.*d]", 9, 4, -42);
	compare("[%-*.*x]", 9, 4, 0xab);
	compare("[%0*d]", 7, -13);
	compare("[%*s]", 8, "abc");
	compare("[%*s]", -8, "abc");
	compare("[%.*s]", 2, "abcdef");
	compare("[%.*s]", -1, "abcdef");
	compare("[%*.*s|%*c]", 6, 3, "abcdef", 3, 'z');
	cr_assert_eq(mismatches, 0);
}

Test(printk, strings_and_chars)
{
	static const char *const fmts[] = {
		"[%s]", "[%10s]", "[%-10s]", "[%.2s]", "[%10.2s]", "[%-10.2s]",
		"[%.0s]", "[%.6s]", "[%.7s]", "[%.5s]", "[%1s]", "[%-1s]",
	};
	static const char *volatile strs[] = { "hello", "", "x", "a longer string", NULL };
	char unterminated[3] = { 'a', 'b', 'c' };

	for (size_t f = 0; f < ARRAY_SIZE(fmts); f++)
		for (size_t s = 0; s < ARRAY_SIZE(strs); s++)
			compare(fmts[f], strs[s]);
	/* The precision bounds the read: no NUL needed. */
	compare("[%.3s]", unterminated);
	compare("[%c] [%5c] [%-5c] [%c%c%c]", 'a', 'b', 'c', 'x', 'y', 'z');
	compare("[%c]", 256 + 'q');
	compare("%s=%d, %s=%#x", "one", 1, "two", 2);
	cr_assert_eq(mismatches, 0);
}

Test(printk, pointers)
{
	static void *const ptrs[] = {
		NULL, (void *)1, (void *)0xdeadbeef, (void *)0x7fffdeadbeefUL,
		(void *)UINTPTR_MAX, (void *)&mismatches,
	};
	static const char *const fmts[] = {
		"[%p]", "[%20p]", "[%-20p]", "[%3p]", "[%-3p]", "[%.12p]", "[%.0p]",
	};

	for (size_t f = 0; f < ARRAY_SIZE(fmts); f++)
		for (size_t p = 0; p < ARRAY_SIZE(ptrs); p++)
			compare(fmts[f], ptrs[p]);
	cr_assert_eq(mismatches, 0);
}

Test(printk, percent_and_text)
{
	char buf[8] = "junk";

	compare("%%");
	compare("100%% done, %d%%", 50);
	compare("plain text with no conversions");
	compare("%s", "");
	cr_assert_eq(mismatches, 0);
	cr_assert_eq(unchecked(buf, sizeof(buf), ""), 0);
	cr_assert_str_eq(buf, "");
}

Test(printk, unknown_conversions_print_literally)
{
	char buf[64];

	cr_assert_eq(unchecked(buf, sizeof(buf), "a%yb", 1), 4);
	cr_assert_str_eq(buf, "a%yb");
	unchecked(buf, sizeof(buf), "[%-5y][%lk][%#08w]", 1);
	cr_assert_str_eq(buf, "[%-5y][%lk][%#08w]");
	/* An unknown conversion takes no argument. */
	unchecked(buf, sizeof(buf), "%q %d", 7);
	cr_assert_str_eq(buf, "%q 7");
	/* %n writes nothing anywhere. */
	unchecked(buf, sizeof(buf), "x%ny", 7);
	cr_assert_str_eq(buf, "x%ny");
	/* A format cut short after the '%'. */
	cr_assert_eq(unchecked(buf, sizeof(buf), "abc%", 1), 4);
	cr_assert_str_eq(buf, "abc%");
	unchecked(buf, sizeof(buf), "abc%-08.3l", 1);
	cr_assert_str_eq(buf, "abc%-08.3l");
}

/* Every flag set, width, precision, length and integer conversion. */
static void compare_args(char len, int nstar, int s1, int s2, const char *fmt,
			 unsigned long long raw)
{
#define WITH_STARS(v)							\
	do {								\
		if (nstar == 0)						\
			compare(fmt, v);				\
		else if (nstar == 1)					\
			compare(fmt, s1, v);				\
		else							\
			compare(fmt, s1, s2, v);			\
	} while (0)

	switch (len) {
	case 'l': WITH_STARS((long)raw); break;
	case 'L': WITH_STARS((long long)raw); break;
	case 'z': WITH_STARS((size_t)raw); break;
	case 't': WITH_STARS((ptrdiff_t)raw); break;
	case 'j': WITH_STARS((intmax_t)raw); break;
	default: WITH_STARS((int)raw); break;
	}
#undef WITH_STARS
}

Test(printk, every_combination)
{
	static const char flags[] = "-0+ #";
	static const char *const widths[] = { "", "1", "6", "25", "*" };
	static const char *const precs[] = { "", ".", ".0", ".3", ".22", ".*" };
	static const char *const lens[] = { "hh", "h", "", "l", "ll", "z", "t", "j" };
	static const char convs[] = "diuoxX";
	static const unsigned long long vals[] = {
		0, 1, 9, 0x80, 0xff, 0x8000, 0x7fffffff, 0x80000000, 0xffffffff,
		0x123456789abcdefULL, (unsigned long long)LLONG_MIN, ULLONG_MAX,
		(unsigned long long)-42,
	};
	static const int star_w[] = { -9, 0, 7, 30 };
	static const int star_p[] = { -2, 0, 4 };
	unsigned long n = 0;

	for (unsigned int fl = 0; fl < 32; fl++)
	for (size_t w = 0; w < ARRAY_SIZE(widths); w++)
	for (size_t p = 0; p < ARRAY_SIZE(precs); p++)
	for (size_t l = 0; l < ARRAY_SIZE(lens); l++)
	for (const char *c = convs; *c; c++) {
		char fmt[32], *f = fmt;
		int stars[2] = { 0, 0 }, nstar = 0;

		*f++ = '[';
		*f++ = '%';
		for (int i = 0; i < 5; i++)
			if (fl & (1u << i))
				*f++ = flags[i];
		f += sprintf(f, "%s%s%s%c]", widths[w], precs[p], lens[l], *c);
		if (*widths[w] == '*')
			stars[nstar++] = star_w[n % ARRAY_SIZE(star_w)];
		if (!strcmp(precs[p], ".*"))
			stars[nstar++] = star_p[n % ARRAY_SIZE(star_p)];
		for (size_t v = 0; v < ARRAY_SIZE(vals); v++, n++) {
			char len = !strcmp(lens[l], "ll") ? 'L' : lens[l][0];

			compare_args(len, nstar, stars[0], stars[1], fmt, vals[v]);
		}
	}
	cr_assert_eq(mismatches, 0, "%d of %lu formats differ", mismatches, n);
}

/* ---- kmem_snprintf: truncation and return values -------------------- */

Test(printk, truncation)
{
	char buf[16];

	cr_assert_eq(kmem_snprintf(NULL, 0, "hello %s", "world"), 11);
	memset(buf, 'Z', sizeof(buf));
	cr_assert_eq(kmem_snprintf(buf, 0, "hello"), 5);
	cr_assert_eq(buf[0], 'Z', "size 0 writes nothing");
	cr_assert_eq(kmem_snprintf(buf, 1, "hello"), 5);
	cr_assert_eq(buf[0], '\0');
	cr_assert_eq(buf[1], 'Z');
	cr_assert_eq(kmem_snprintf(buf, 6, "hello world"), 11);
	cr_assert_str_eq(buf, "hello");
	cr_assert_eq(buf[6], 'Z');
	cr_assert_eq(kmem_snprintf(buf, 6, "hello"), 5);
	cr_assert_str_eq(buf, "hello");
	cr_assert_eq(kmem_snprintf(buf, 5, "hello"), 5);
	cr_assert_str_eq(buf, "hell");
	cr_assert_eq(kmem_snprintf(buf, sizeof(buf), "%d|%s|%x", -12, "ab", 255), 9);
	cr_assert_str_eq(buf, "-12|ab|ff");
	cr_assert_eq(kmem_snprintf(buf, 3, "%20d", 1), 20);
	cr_assert_str_eq(buf, "  ");
}

Test(printk, output_longer_than_buffers)
{
	static char want[20000], got[20000];
	int wn = snprintf(want, sizeof(want), "%5000d|%-6000s|%.3000d", -7, "x", 9);
	int gn = kmem_snprintf(got, sizeof(got), "%5000d|%-6000s|%.3000d", -7, "x", 9);

	cr_assert_eq(gn, 14002);
	cr_assert_eq(gn, wn);
	cr_assert_str_eq(got, want);
	cr_assert_eq(kmem_snprintf(NULL, 0, "%*d", 100000, 1), 100000);
}

/* ---- kmem_buf -------------------------------------------------------- */

Test(printk, bprintf_buffers_until_flush)
{
	struct kmem_buf b;
	int pipefd[2];
	char out[256];

	cr_assert_eq(pipe2(pipefd, O_NONBLOCK), 0);
	kmem_buf_init(&b, pipefd[1]);
	cr_assert_eq(b.fd, pipefd[1]);
	cr_assert_eq(b.len, 0);
	kmem_bprintf(&b, "zone %s: %lu pages\n", "Normal", 512UL);
	kmem_bprintf(&b, "order %d%c", 3, '\n');
	cr_assert_eq(b.len, strlen("zone Normal: 512 pages\norder 3\n"));
	cr_assert_eq(read(pipefd[0], out, sizeof(out)), -1, "written before the flush");
	cr_assert_eq(errno, EAGAIN);
	kmem_buf_flush(&b);
	cr_assert_eq(b.len, 0);
	close(pipefd[1]);
	read_all(pipefd[0], out, sizeof(out));
	cr_assert_str_eq(out, "zone Normal: 512 pages\norder 3\n");
	/* Flushing an empty buffer writes nothing. */
	kmem_buf_flush(&b);
	close(pipefd[0]);
}

Test(printk, bprintf_many_lines)
{
	static char want[200000], got[200000];
	struct kmem_buf b;
	size_t wlen = 0;
	int fd = temp_fd();

	kmem_buf_init(&b, fd);
	for (int i = 0; i < 5000; i++) {
		kmem_bprintf(&b, "line %d: %08x %s\n", i, i * 2654435761u, i % 7 ? "" : "seven");
		wlen += (size_t)snprintf(want + wlen, sizeof(want) - wlen, "line %d: %08x %s\n",
					 i, i * 2654435761u, i % 7 ? "" : "seven");
		cr_assert(b.len <= sizeof(b.data));
	}
	kmem_buf_flush(&b);
	cr_assert_gt(wlen, 4 * sizeof(b.data));
	cr_assert_eq(read_back(fd, got, sizeof(got)), wlen);
	cr_assert_str_eq(got, want);
	close(fd);
}

Test(printk, bprintf_line_longer_than_buffer)
{
	static char big[10001], want[40000], got[40000];
	struct kmem_buf b;
	int fd = temp_fd();
	int wlen;

	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)('a' + i % 26);
	kmem_buf_init(&b, fd);
	kmem_bprintf(&b, "before\n");
	kmem_bprintf(&b, "<%s>\n", big);
	kmem_bprintf(&b, "%9000d|%-5000s|\n", 42, "left");
	kmem_bprintf(&b, "after\n");
	kmem_buf_flush(&b);
	wlen = snprintf(want, sizeof(want), "before\n<%s>\n%9000d|%-5000s|\nafter\n",
			big, 42, "left");
	cr_assert_eq(read_back(fd, got, sizeof(got)), (size_t)wlen);
	cr_assert_str_eq(got, want);
	close(fd);
}

Test(printk, bprintf_keeps_a_record_whole)
{
	static char got[8192];
	struct kmem_buf b;
	char rec[201];
	int fd = temp_fd();

	memset(rec, 'r', 200);
	rec[200] = '\0';
	kmem_buf_init(&b, fd);
	for (int i = 0; i < 40; i++)
		kmem_bprintf(&b, "%099d\n", i);
	cr_assert_eq(b.len, 4000);
	/* 200 more bytes do not fit: the 4000 leave first, the record
	 * starts the buffer. */
	kmem_bprintf(&b, "%s", rec);
	cr_assert_eq(b.len, 200);
	cr_assert_eq(read_back(fd, got, sizeof(got)), 4000);
	cr_assert_eq(memcmp(b.data, rec, 200), 0);
	/* Exactly filling the buffer is fine too. */
	kmem_bprintf(&b, "%*s", 4096 - 200 - 1, "");
	cr_assert_eq(b.len, 4095);
	close(fd);
}

Test(printk, flush_to_a_bad_fd_drops_the_output)
{
	struct kmem_buf b;

	kmem_buf_init(&b, -1);
	kmem_bprintf(&b, "%5000d", 1);
	kmem_buf_flush(&b);
	cr_assert_eq(b.len, 0);
}

/* Short writes and EINTR: a one-page pipe, a slow reader, and a writer
 * thread hit by signals that do not restart system calls. */
static void on_signal(int sig)
{
	(void)sig;
}

struct slow_writer {
	int fd;
	atomic_bool done;
};

static void *slow_writer(void *arg)
{
	struct slow_writer *w = arg;
	struct kmem_buf b;

	kmem_buf_init(&b, w->fd);
	for (int i = 0; i < 3000; i++)
		kmem_bprintf(&b, "%06d %s\n", i, "interrupted writes keep every byte");
	kmem_bprintf(&b, "%20000s\n", "end");
	kmem_buf_flush(&b);
	close(w->fd);
	w->done = true;
	return NULL;
}

Test(printk, bprintf_survives_eintr_and_short_writes)
{
	static char want[200000], got[200000];
	struct sigaction sa = { .sa_handler = on_signal };   /* no SA_RESTART */
	struct slow_writer w;
	pthread_t t;
	int pipefd[2];
	size_t wlen = 0, len = 0;

	cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	cr_assert_eq(pipe(pipefd), 0);
	fcntl(pipefd[1], F_SETPIPE_SZ, 4096);
	w.fd = pipefd[1];
	atomic_init(&w.done, false);
	cr_assert_eq(pthread_create(&t, NULL, slow_writer, &w), 0);
	for (;;) {
		ssize_t n;

		if (!w.done)
			pthread_kill(t, SIGUSR1);
		n = read(pipefd[0], got + len, MIN(sizeof(got) - 1 - len, 700));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		usleep(20);
	}
	pthread_join(t, NULL);
	close(pipefd[0]);
	got[len] = '\0';
	for (int i = 0; i < 3000; i++)
		wlen += (size_t)snprintf(want + wlen, sizeof(want) - wlen, "%06d %s\n",
					 i, "interrupted writes keep every byte");
	wlen += (size_t)snprintf(want + wlen, sizeof(want) - wlen, "%20000s\n", "end");
	cr_assert_eq(len, wlen);
	cr_assert_str_eq(got, want);
}

/* ---- kmem_warn and kmem_panic ---------------------------------------- */

static void warn_hello(void *arg)
{
	kmem_warn("hello %s, %d%%", "world", 42);
	kmem_warn("second");
}

Test(printk, warn_line_format)
{
	char out[256];

	capture_stderr(warn_hello, NULL, out, sizeof(out));
	cr_assert_str_eq(out, "kmem: hello world, 42%\nkmem: second\n");
}

static void warn_long(void *arg)
{
	kmem_warn("%s", (const char *)arg);
}

Test(printk, warn_cuts_long_messages_but_ends_the_line)
{
	static char msg[5000], out[8192];
	size_t len;

	memset(msg, 'm', sizeof(msg) - 1);
	len = capture_stderr(warn_long, msg, out, sizeof(out));
	cr_assert_eq(len, 1024);
	cr_assert_eq(strncmp(out, "kmem: mmmm", 10), 0);
	cr_assert_eq(out[1022], 'm');
	cr_assert_eq(out[1023], '\n');

	/* The longest message that fits is not cut. */
	msg[1024 - 7] = '\0';
	len = capture_stderr(warn_long, msg, out, sizeof(out));
	cr_assert_eq(len, 1024);
	cr_assert_eq(out[1023], '\n');
}

static void warn_errno(void *arg)
{
	errno = 1234;
	kmem_warn("errno is not touched");
	*(int *)arg = errno;
}

Test(printk, warn_preserves_errno)
{
	char out[128];
	int e = 0, saved;

	capture_stderr(warn_errno, &e, out, sizeof(out));
	cr_assert_eq(e, 1234);
	cr_assert_str_eq(out, "kmem: errno is not touched\n");

	/* A closed stderr does not hurt either. */
	saved = dup(2);
	close(2);
	errno = 77;
	kmem_warn("nowhere");
	cr_assert_eq(errno, 77);
	dup2(saved, 2);
	close(saved);
}

#define WARN_THREADS 8
#define WARNS_PER_THREAD 400

static void *warn_many(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < WARNS_PER_THREAD; i++)
		kmem_warn("thread %ld line %04d %0300ld", id, i, id);
	return NULL;
}

static void run_warn_threads(void *arg)
{
	pthread_t t[WARN_THREADS];

	for (long i = 0; i < WARN_THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, warn_many, (void *)i), 0);
	for (int i = 0; i < WARN_THREADS; i++)
		pthread_join(t[i], NULL);
}

struct reader {
	int fd;
	char *buf;
	size_t size, len;
};

static void *read_pipe(void *arg)
{
	struct reader *r = arg;

	r->len = read_all(r->fd, r->buf, r->size);
	return NULL;
}

Test(printk, warn_lines_from_threads_do_not_interleave)
{
	static char out[WARN_THREADS * WARNS_PER_THREAD * 400];
	int seen[WARN_THREADS] = { 0 };
	struct reader r = { .buf = out, .size = sizeof(out) };
	int pipefd[2], saved, lines = 0;
	pthread_t reader;

	cr_assert_eq(pipe(pipefd), 0);
	r.fd = pipefd[0];
	cr_assert_eq(pthread_create(&reader, NULL, read_pipe, &r), 0);
	saved = dup(2);
	dup2(pipefd[1], 2);
	close(pipefd[1]);
	run_warn_threads(NULL);
	dup2(saved, 2);
	close(saved);
	pthread_join(reader, NULL);
	close(pipefd[0]);

	for (char *line = out, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		long id;
		int i, end = 0;

		*nl = '\0';
		cr_assert_eq(sscanf(line, "kmem: thread %ld line %d %*300d%n", &id, &i, &end), 2,
			     "mangled line: %.80s", line);
		cr_assert(id >= 0 && id < WARN_THREADS);
		cr_assert_eq(end, (int)strlen(line), "mangled line: %.80s", line);
		cr_assert_eq(i, seen[id], "thread %ld: line %d after %d", id, i, seen[id]);
		seen[id]++;
		lines++;
	}
	cr_assert_eq(lines, WARN_THREADS * WARNS_PER_THREAD);
}

static void panic_now(void *arg)
{
	kmem_panic("bad page %p: %s", (void *)0x1000, (const char *)arg);
}

Test(printk, panic_aborts_after_the_message)
{
	expect_death(panic_now, "freed twice", "kmem: bad page 0x1000: freed twice\n");
}
