/* An LD_PRELOAD allocation counter for bench/core-allocs.sh: counts the calls to malloc,
 * calloc, realloc, aligned_alloc/posix_memalign/memalign (operator new goes through
 * malloc) and, on the signal ALLOC_COUNT_SIGNAL (SIGRTMIN+5 unless set), appends one line
 * "<mallocs> <callocs> <reallocs> <aligned> <frees>" to the file ALLOC_COUNT_FILE. The
 * counters are relaxed atomics: the core is one thread, and a figure per thousand
 * transactions needs no ordering. glibc's __libc_* entry points do the work, so that no
 * dlsym (which allocates) is needed.
 * Build: cc -O2 -shared -fPIC -o alloc-count.so alloc-count.c */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void* __libc_memalign(size_t, size_t);
extern void __libc_free(void*);

static atomic_ulong n_malloc, n_calloc, n_realloc, n_aligned, n_free;
static int out_fd = -1;

void* malloc(size_t n)
{
  atomic_fetch_add_explicit(&n_malloc, 1, memory_order_relaxed);
  return __libc_malloc(n);
}

void* calloc(size_t k, size_t n)
{
  atomic_fetch_add_explicit(&n_calloc, 1, memory_order_relaxed);
  return __libc_calloc(k, n);
}

void* realloc(void* p, size_t n)
{
  atomic_fetch_add_explicit(&n_realloc, 1, memory_order_relaxed);
  return __libc_realloc(p, n);
}

void free(void* p)
{
  if (p)
    atomic_fetch_add_explicit(&n_free, 1, memory_order_relaxed);
  __libc_free(p);
}

void* memalign(size_t a, size_t n)
{
  atomic_fetch_add_explicit(&n_aligned, 1, memory_order_relaxed);
  return __libc_memalign(a, n);
}

void* aligned_alloc(size_t a, size_t n)
{
  return memalign(a, n);
}

int posix_memalign(void** p, size_t a, size_t n)
{
  void* m = memalign(a, n);
  if (!m)
    return 12; /* ENOMEM */
  *p = m;
  return 0;
}

/* Only async-signal-safe calls here: a hand-made decimal line and one write. */
static char* put(char* s, unsigned long v, char end)
{
  char d[24];
  int k = 0;
  do
    d[k++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  while (k)
    *s++ = d[--k];
  *s++ = end;
  return s;
}

static void on_signal(int sig)
{
  (void)sig;
  char line[160], *s = line;
  s = put(s, atomic_load(&n_malloc), ' ');
  s = put(s, atomic_load(&n_calloc), ' ');
  s = put(s, atomic_load(&n_realloc), ' ');
  s = put(s, atomic_load(&n_aligned), ' ');
  s = put(s, atomic_load(&n_free), '\n');
  if (out_fd >= 0)
    (void)!write(out_fd, line, (size_t)(s - line));
}

__attribute__((constructor)) static void start(void)
{
  const char* f = getenv("ALLOC_COUNT_FILE");
  const char* sig = getenv("ALLOC_COUNT_SIGNAL");
  if (!f)
    return;
  out_fd = open(f, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigaction(sig ? atoi(sig) : SIGRTMIN + 5, &sa, NULL);
}
