// SPDX-License-Identifier: Apache-2.0
// Small helpers shared by the whole VMM: cleanup attributes, logging, bounds arithmetic.
#pragma once

#include <time.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

static inline void freep(void *p)
{
	free(*(void **)p);
}
static inline void closep(const int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))

static inline void *steal_ptr(void *pp)
{
	void **p = pp;
	void *v = *p;
	*p = NULL;
	return v;
}
#define steal_pointer(pp) ((__typeof__(*(pp)))steal_ptr(pp))

static inline int steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

// One line on stderr: "clearvm: <what>: <why>". Returns -err so callers can `return log_err(...)`.
int log_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern bool log_verbose;
// Where events go instead of stderr (-1: stderr), and as JSON lines (OCI --log, --log-format).
extern int log_fd;
extern bool log_json;

// CLOCK_MONOTONIC in nanoseconds: the one clock of every timestamp, deadline and figure.
static inline int64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
static inline int64_t monotonic_ms(void)
{
	return monotonic_ns() / 1000000;
}

// t moved ms milliseconds later (for pthread's timed waits, all on CLOCK_MONOTONIC).
static inline void timespec_add_ms(struct timespec *t, long ms)
{
	t->tv_nsec += (ms % 1000) * 1000000;
	t->tv_sec += ms / 1000 + t->tv_nsec / 1000000000;
	t->tv_nsec %= 1000000000;
}
// While set (a template build, which falls back to a cold boot), errors are debug messages.
extern bool log_demoted;

// true when [off, off+len) fits in [0, size), without overflow.
static inline bool range_ok(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

// Writes all of buf to fd, retrying short writes and EINTR. Returns 0 or -errno.
int write_all(int fd, const void *buf, size_t len);
// Writes value into an existing kernel file (a /proc/sys setting, a cgroup's file), never
// creating one. Returns 0 or -errno (not logged).
int write_setting(const char *path, const char *value);
