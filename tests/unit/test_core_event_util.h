/*
 * Shared by the event and command tests: a core built from the repository's
 * default configuration on its own loop, never started (no socket opens).
 */
#ifndef TEST_CORE_EVENT_UTIL_H
#define TEST_CORE_EVENT_UTIL_H

#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

struct test_core {
	uv_loop_t loop;
	struct core *core;
};

static inline void test_core_open(struct test_core *t)
{
	char err[512];
	struct config *cfg = NULL;
	const char *vars[] = {"state_dir=/tmp", NULL};
	if (config_load(&cfg, SOURCE_DIR "/conf", vars, err, sizeof(err)) != 0) {
		fprintf(stderr, "config: %s\n", err);
		abort();
	}
	uv_loop_init(&t->loop);
	if (core_create(&t->core, &t->loop, cfg) != 0)
		abort();
}

static void test_core_done_cb(void *arg)
{
	*(int *)arg = 1;
}

static inline void test_core_close(struct test_core *t)
{
	int done = 0;
	core_shutdown(t->core, 100, test_core_done_cb, &done);
	for (int i = 0; i < 1000 && !done; i++)
		uv_run(&t->loop, UV_RUN_ONCE);
	if (!done)
		abort();
	uv_run(&t->loop, UV_RUN_DEFAULT);
	core_destroy(t->core);
	if (uv_loop_close(&t->loop) != 0)
		abort();
}

#endif
