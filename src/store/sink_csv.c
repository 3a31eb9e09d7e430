/*
 * The CSV sink, as mod_cdr_csv writes Master.csv: one file, one line per
 * record from a column template (${field} names; cdr_csv_print), appended
 * and fdatasync'd per batch. A file has no key, so a batch retried after a
 * crash between its append and its cursor may appear twice: the CSV file is
 * at-least-once, the databases exactly-once.
 */
#define LOG_MODULE "store"
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct csv_sink {
	char path[1024];
	char template[2048];
	int fd;
	struct buf out;
};

int cdr__csv_create(void **out, const struct cdr_conf *conf)
{
	struct csv_sink *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	snprintf(s->path, sizeof(s->path), "%s", conf->csv_path);
	snprintf(s->template, sizeof(s->template), "%s", conf->csv_template);
	s->fd = -1;
	buf_init(&s->out);
	*out = s;
	return 0;
}

static int csv_open(void *impl, char *err, size_t err_size)
{
	struct csv_sink *s = impl;
	s->fd = open(s->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (s->fd < 0) {
		int e = -errno;
		snprintf(err, err_size, "%s: %s", s->path, strerror(errno));
		return e;
	}
	return 0;
}

static int csv_write(void *impl, const struct cdr_batch *b, char *err, size_t err_size)
{
	struct csv_sink *s = impl;
	buf_reset(&s->out);
	for (size_t i = 0; i < b->count; i++)
		cdr_csv_print(&b->recs[i], s->template, &s->out);
	if (s->out.failed) {
		snprintf(err, err_size, "out of memory");
		s->out.failed = false;
		return -ENOMEM;
	}
	const char *p = s->out.p;
	size_t len = s->out.len;
	while (len) {
		ssize_t n = write(s->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			snprintf(err, err_size, "%s: %s", s->path, strerror(errno));
			return e;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fdatasync(s->fd) != 0) {
		int e = -errno;
		snprintf(err, err_size, "%s: %s", s->path, strerror(errno));
		return e;
	}
	return 0;
}

static void csv_close(void *impl)
{
	struct csv_sink *s = impl;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static void csv_destroy(void *impl)
{
	struct csv_sink *s = impl;
	csv_close(s);
	buf_fini(&s->out);
	free(s);
}

const struct cdr_sink_ops cdr__csv_ops = {
    .name = "csv",
    .open = csv_open,
    .write = csv_write,
    .close = csv_close,
    .destroy = csv_destroy,
};
