/*
 * bootstrap.c - allocation before kmem could have set anything up: from a
 * .preinit_array function (runs before every constructor), from an early
 * constructor, and from inside dlsym's error path, which allocates.
 * Prints the same under glibc and kmem; the memory must behave.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *early;
static char *ctor_mem;

static void preinit(int argc, char **argv, char **envp)
{
	early = malloc(100);
	strcpy(early, "allocated in preinit");
}
__attribute__((used, section(".preinit_array")))
static void (*preinit_entry)(int, char **, char **) = preinit;

__attribute__((constructor(101))) static void early_ctor(void)
{
	ctor_mem = calloc(100, 10);
	memset(ctor_mem, 'c', 999);
}

int main(void)
{
	void *h = dlsym(RTLD_NEXT, "kmem_no_such_symbol");
	const char *err = dlerror();
	char *grown;

	printf("%s\n", early);
	printf("constructor block: %zu bytes usable, ends with '%c'\n",
	       malloc_usable_size(ctor_mem) >= 1000 ? (size_t)1000 : (size_t)0, ctor_mem[998]);
	printf("dlsym: %s\n", h ? "found" : err ? "error reported" : "nothing");
	grown = realloc(early, 100000);
	printf("realloc of the preinit block keeps: %.20s\n", grown);
	free(grown);
	free(ctor_mem);
	return 0;
}
