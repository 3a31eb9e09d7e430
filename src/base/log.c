/*
 * Logging to stderr: one line per call to log_write, written with a single
 * write() so lines from several threads never interleave.
 */
#include "base.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Set once at start-up, read everywhere. */
static enum log_level g_level = LOG_INFO;
static bool g_color;
static struct {
	log_tap_cb cb;
	void *arg;
} g_tap;
static _Thread_local bool t_in_tap;

void log_set_tap(log_tap_cb cb, void *arg)
{
	g_tap.arg = arg;
	__atomic_store_n(&g_tap.cb, cb, __ATOMIC_RELEASE);
}

static const char *const level_names[] = {
	[LOG_ERR] = "err",   [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

static const char *const level_colors[] = {
	[LOG_ERR] = "\033[31m",	 [LOG_WARNING] = "\033[33m", [LOG_NOTICE] = "\033[36m",
	[LOG_INFO] = "\033[32m", [LOG_DEBUG] = "\033[90m",
};

void log_set_level(enum log_level level)
{
	g_level = level;
}

enum log_level log_get_level(void)
{
	return g_level;
}

void log_set_color(bool on)
{
	g_color = on;
}

int log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < ARRAY_LEN(level_names); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(name, "error") == 0 || strcmp(name, "warn") == 0) {
		*out = name[0] == 'e' ? LOG_ERR : LOG_WARNING;
		return 0;
	}
	return -EINVAL;
}

void log_write(enum log_level level, const char *module, const char *fmt, ...)
{
	char line[2048];
	size_t n = 0;
	struct timespec ts;
	struct tm tm;

	if (!log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n += strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ld %s%-7s%s [%s] ",
			      ts.tv_nsec / 1000000, g_color ? level_colors[level] : "",
			      level_names[level], g_color ? "\033[0m" : "", module);
	size_t text_at = n;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += (size_t)m;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2; /* truncated: keep the newline */
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
	log_tap_cb tap = __atomic_load_n(&g_tap.cb, __ATOMIC_ACQUIRE);
	if (tap && !t_in_tap && n > text_at) {
		t_in_tap = true;
		tap(g_tap.arg, level, module, line + text_at, n - 1 - text_at);
		t_in_tap = false;
	}
}
