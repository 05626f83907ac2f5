/*
 * printk.c - formatted messages without allocating: kmem_snprintf, a
 * buffered writer for multi-line reports (kmem_buf), and the one-line
 * warnings and panics every other file uses.
 *
 * This code runs inside malloc, often before libc is initialised under
 * LD_PRELOAD, and while kmem's own locks are held.  stdio and snprintf may
 * call malloc (locale data, buffers, positional arguments), which would
 * recurse into the allocator, so the formatter here is self-contained: the
 * only calls out are write(2) and abort().
 *
 * Conversions: %s %c %d %i %u %x %X %o %p %%, length modifiers hh h l ll z
 * t j, flags - 0 + space #, width and precision (also '*').  Output matches
 * glibc, including "(null)" for a NULL %s and "(nil)" for a NULL %p.  An
 * unknown conversion is copied to the output as written.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include "internal.h"

/* Longest kmem_warn line, prefix and newline included. */
#define WARN_LINE_MAX 1024

/* Where formatted characters go: a string of size bytes, or a kmem_buf. */
struct out {
	char *buf;
	size_t size;
	size_t len;             /* characters produced, written or not */
	struct kmem_buf *b;
};

struct spec {
	bool left, zero, plus, space, alt, upper;
	int width;
	int prec;               /* -1: none */
	unsigned int base;
};

static void out_char(struct out *o, char c)
{
	if (o->b) {
		if (o->b->len == sizeof(o->b->data))
			kmem_buf_flush(o->b);
		o->b->data[o->b->len++] = c;
	} else if (o->len + 1 < o->size) {
		o->buf[o->len] = c;
	}
	o->len++;
}

static void out_repeat(struct out *o, char c, int n)
{
	while (n-- > 0)
		out_char(o, c);
}

/* len characters of s, padded to the field width with spaces. */
static void out_padded(struct out *o, const char *s, int len,
		       const struct spec *sp)
{
	if (!sp->left)
		out_repeat(o, ' ', sp->width - len);
	for (int i = 0; i < len; i++)
		out_char(o, s[i]);
	if (sp->left)
		out_repeat(o, ' ', sp->width - len);
}

static void out_number(struct out *o, unsigned long long v, char sign,
		       const struct spec *sp)
{
	const char *digits = sp->upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];           /* 22 octal digits for 64 bits */
	char prefix[3];
	int nd = 0, np = 0, zeros, len;

	if (sign)
		prefix[np++] = sign;
	if (sp->alt && sp->base == 16 && v) {
		prefix[np++] = '0';
		prefix[np++] = sp->upper ? 'X' : 'x';
	}
	if (v || sp->prec != 0) {
		do {
			tmp[nd++] = digits[v % sp->base];
			v /= sp->base;
		} while (v);
	}
	zeros = sp->prec > nd ? sp->prec - nd : 0;
	/* '#' with 'o': the first digit is a zero. */
	if (sp->alt && sp->base == 8 && !zeros && (!nd || tmp[nd - 1] != '0'))
		zeros = 1;
	len = np + zeros + nd;
	if (sp->zero && !sp->left && sp->prec < 0 && sp->width > len) {
		zeros += sp->width - len;
		len = sp->width;
	}
	if (!sp->left)
		out_repeat(o, ' ', sp->width - len);
	for (int i = 0; i < np; i++)
		out_char(o, prefix[i]);
	out_repeat(o, '0', zeros);
	while (nd)
		out_char(o, tmp[--nd]);
	if (sp->left)
		out_repeat(o, ' ', sp->width - len);
}

/* Read an int argument for '*' or digits for a width or precision. */
static int read_count(const char **fmt, va_list *ap)
{
	int n = 0;

	if (**fmt == '*') {
		(*fmt)++;
		return va_arg(*ap, int);
	}
	while (**fmt >= '0' && **fmt <= '9') {
		if (n < INT_MAX / 10)
			n = n * 10 + (*(*fmt)++ - '0');
		else
			(*fmt)++;
	}
	return n;
}

enum length { LEN_HH, LEN_H, LEN_INT, LEN_L, LEN_LL, LEN_Z, LEN_T, LEN_J };

static long long signed_arg(enum length len, va_list *ap)
{
	switch (len) {
	case LEN_HH: return (signed char)va_arg(*ap, int);
	case LEN_H:  return (short)va_arg(*ap, int);
	case LEN_L:  return va_arg(*ap, long);
	case LEN_LL: return va_arg(*ap, long long);
	case LEN_Z:  return va_arg(*ap, ssize_t);
	case LEN_T:  return va_arg(*ap, ptrdiff_t);
	case LEN_J:  return va_arg(*ap, intmax_t);
	default:     return va_arg(*ap, int);
	}
}

static unsigned long long unsigned_arg(enum length len, va_list *ap)
{
	switch (len) {
	case LEN_HH: return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_H:  return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_L:  return va_arg(*ap, unsigned long);
	case LEN_LL: return va_arg(*ap, unsigned long long);
	case LEN_Z:  return va_arg(*ap, size_t);
	case LEN_T:  return (uintptr_t)va_arg(*ap, ptrdiff_t);
	case LEN_J:  return va_arg(*ap, uintmax_t);
	default:     return va_arg(*ap, unsigned int);
	}
}

static enum length read_length(const char **fmt)
{
	switch (*(*fmt)++) {
	case 'h':
		return **fmt == 'h' ? (++*fmt, LEN_HH) : LEN_H;
	case 'l':
		return **fmt == 'l' ? (++*fmt, LEN_LL) : LEN_L;
	case 'z': return LEN_Z;
	case 't': return LEN_T;
	case 'j': return LEN_J;
	}
	--*fmt;
	return LEN_INT;
}

static char sign_of(bool negative, const struct spec *sp)
{
	return negative ? '-' : sp->plus ? '+' : sp->space ? ' ' : 0;
}

static void format(struct out *o, const char *fmt, va_list *ap)
{
	while (*fmt) {
		const char *start = fmt;
		struct spec sp = { .prec = -1, .base = 10 };
		enum length len;
		long long sv;

		if (*fmt != '%') {
			out_char(o, *fmt++);
			continue;
		}
		for (fmt++;; fmt++) {
			switch (*fmt) {
			case '-': sp.left = true; continue;
			case '0': sp.zero = true; continue;
			case '+': sp.plus = true; continue;
			case ' ': sp.space = true; continue;
			case '#': sp.alt = true; continue;
			}
			break;
		}
		sp.width = read_count(&fmt, ap);
		if (sp.width < 0) {
			sp.left = true;
			sp.width = sp.width == INT_MIN ? INT_MAX : -sp.width;
		}
		if (*fmt == '.') {
			fmt++;
			sp.prec = read_count(&fmt, ap);
			if (sp.prec < 0)
				sp.prec = -1;
		}
		len = read_length(&fmt);

		switch (*fmt) {
		case 'd':
		case 'i':
			sv = signed_arg(len, ap);
			out_number(o, sv < 0 ? -(unsigned long long)sv : (unsigned long long)sv,
				   sign_of(sv < 0, &sp), &sp);
			break;
		case 'u':
		case 'o':
		case 'x':
		case 'X':
			sp.base = *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16;
			sp.upper = *fmt == 'X';
			out_number(o, unsigned_arg(len, ap), 0, &sp);
			break;
		case 'p': {
			uintptr_t p = (uintptr_t)va_arg(*ap, void *);

			if (!p) {
				out_padded(o, "(nil)", 5, &sp);
				break;
			}
			sp.base = 16;
			sp.alt = true;
			out_number(o, p, sign_of(false, &sp), &sp);
			break;
		}
		case 's': {
			const char *s = va_arg(*ap, const char *);
			int n = 0;

			/* glibc: "(null)" unless the precision cuts it. */
			if (!s)
				s = sp.prec < 0 || sp.prec >= 6 ? "(null)" : "";
			while ((sp.prec < 0 || n < sp.prec) && s[n])
				n++;
			out_padded(o, s, n, &sp);
			break;
		}
		case 'c': {
			char c = (char)va_arg(*ap, int);

			out_padded(o, &c, 1, &sp);
			break;
		}
		case '%':
			out_char(o, '%');
			break;
		default:
			/* Unknown or cut short: copy it as written. */
			while (start < fmt)
				out_char(o, *start++);
			if (*fmt)
				out_char(o, *fmt);
			else
				return;
		}
		fmt++;
	}
}

int kmem_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { .buf = buf, .size = size };
	va_list aq;

	va_copy(aq, ap);
	format(&o, fmt, &aq);
	va_end(aq);
	if (size)
		buf[MIN(o.len, size - 1)] = '\0';
	return o.len > INT_MAX ? -1 : (int)o.len;
}

int kmem_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kmem_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* write(2) all of [s, s + len), through short writes and EINTR.  Returns
 * false when the fd refuses the rest. */
static bool write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		s += n;
		len -= (size_t)n;
	}
	return true;
}

void kmem_buf_init(struct kmem_buf *b, int fd)
{
	b->fd = fd;
	b->len = 0;
}

/* Output that cannot be written is dropped: there is nobody to tell. */
void kmem_buf_flush(struct kmem_buf *b)
{
	write_all(b->fd, b->data, b->len);
	b->len = 0;
}

void kmem_bprintf(struct kmem_buf *b, const char *fmt, ...)
{
	size_t room = sizeof(b->data) - b->len;
	va_list ap;
	int n;

	/* Usually the text fits in what is left: format it in place. */
	va_start(ap, fmt);
	n = kmem_vsnprintf(b->data + b->len, room, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < room) {
		b->len += (size_t)n;
		return;
	}
	/* Otherwise start it on an empty buffer so that it leaves in one
	 * write if it can, and stream it through the buffer if it cannot. */
	kmem_buf_flush(b);
	va_start(ap, fmt);
	format(&(struct out){ .b = b }, fmt, &ap);
	va_end(ap);
}

static void vwarn(const char *fmt, va_list ap)
{
	char line[WARN_LINE_MAX] = "kmem: ";
	size_t len = 6, room = sizeof(line) - len - 1;
	int saved_errno = errno;
	int n;

	/* A message too long for the line is cut; it still ends the line. */
	n = kmem_vsnprintf(line + len, room + 1, fmt, ap);
	len += n < 0 ? room : MIN((size_t)n, room);
	line[len++] = '\n';
	/* One write, so that lines from concurrent threads stay whole. */
	write_all(STDERR_FILENO, line, len);
	errno = saved_errno;
}

void kmem_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

_Noreturn void kmem_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	abort();
}
