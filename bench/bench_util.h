/*
 * What the bench tools (bench_*.c) share: CPU time from getrusage, running a
 * loop for a while, and reading a bounded positive number from the command
 * line. Header-only: each tool is one source file.
 */
#ifndef IRISX_BENCH_UTIL_H
#define IRISX_BENCH_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <uv.h>

/* User + system CPU seconds of RUSAGE_SELF or RUSAGE_THREAD. */
static inline double bench_cpu_seconds(int who)
{
	struct rusage ru;
	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* User CPU seconds only: the time spent in irisx's own code. */
static inline double bench_cpu_user_seconds(int who)
{
	struct rusage ru;
	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
}

static inline void bench_stop_cb(uv_timer_t *t)
{
	uv_stop(t->loop);
}

/* Runs `loop` for `ms` milliseconds. */
static inline void bench_run_for(uv_loop_t *loop, uint64_t ms)
{
	uv_timer_t t;
	uv_timer_init(loop, &t);
	uv_timer_start(&t, bench_stop_cb, ms, 0);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

/* A done callback that raises the int flag it is given. */
static inline void bench_flag_set(void *arg)
{
	*(int *)arg = 1;
}

/* 1..max in decimal, nothing else: 0 or -EINVAL. */
static inline int bench_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

#endif
