/*
 * The CDR store: the spool and the threads that drain it.
 *
 * The spool is a directory of append-only segment files, seg-<n>.log, one
 * JSON line per record (record.c), and one cursor file per sink,
 * cursor.<sink>, holding "<segment> <offset>": where that sink's next
 * record starts. Three kinds of thread touch it:
 *
 *  - the loop thread (cdr_store_submit): serializes the record into a
 *    memory queue under a mutex. It never does disk I/O.
 *  - the spool thread: takes the whole queue, appends it to the current
 *    segment and fdatasyncs it (group commit: what arrives during one fsync
 *    goes in the next), then publishes the new durable end. A segment past
 *    SEGMENT_MAX bytes is closed and the next one started.
 *  - one writer thread per sink: reads records between its cursor and the
 *    durable end, hands a batch to the sink, and once the sink says it is
 *    durably stored writes the new cursor (write, fsync, rename, fsync of
 *    the directory). A failed batch is retried, after a back-off, from the
 *    same cursor: order is kept and a sink may see a record twice, which the
 *    databases absorb with their uuid key (INSERT OR IGNORE / ON CONFLICT
 *    DO NOTHING). Segments before every sink's cursor are deleted.
 *
 * At start-up a torn last line (a crash during an append) is cut off —
 * it was never fsync'd, so never counted as written — and every sink
 * resumes from its cursor: that is the replay.
 */
#define LOG_MODULE "store"
#include "store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
	SEGMENT_MAX = 8 << 20,
	BACKOFF_MIN_MS = 100,
	BACKOFF_MAX_MS = 5000,
	IDLE_WAIT_MS = 200,
};

struct spool_pos {
	uint64_t seg, off;
};

struct sink {
	struct cdr_store *st;
	enum cdr_sink_kind kind;
	const struct cdr_sink_ops *ops;
	void *impl;
	pthread_t thread;
	bool started;
	/* under st->lock */
	struct spool_pos cursor;
	uint64_t consumed; /* records before the cursor, in the spool's count */
	bool up;
	char error[256];
	uint64_t stored, failures;
};

struct cdr_store {
	struct cdr_conf conf;
	const char *extra_ptrs[CDR_EXTRA_MAX];
	int dir_fd;
	/* The submit queue (qlock): what the loop thread hands over. */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct buf queue;
	uint64_t queue_count;
	uint64_t submitted;
	bool closing; /* no more submissions; the spool thread drains and ends */
	/* Everything else (lock). */
	pthread_mutex_t lock;
	pthread_cond_t cond; /* durable end moved, a sink stored, or stopping */
	bool stopping;	     /* the sinks' threads end */
	struct spool_pos durable;
	uint64_t spooled;     /* records durably spooled, counted from the oldest segment */
	uint64_t spooled_run; /* of which appended since start */
	uint64_t spool_errors;
	uint64_t oldest_seg;
	int seg_fd;
	pthread_t spool_thread;
	bool spool_started;
	struct sink sinks[CDR_SINK_KINDS];
	size_t sink_count;
};

static const struct cdr_sink_ops *const sink_ops[CDR_SINK_KINDS] = {
    [CDR_SINK_SQLITE] = &cdr__sqlite_ops,
    [CDR_SINK_POSTGRES] = &cdr__pg_ops,
    [CDR_SINK_CSV] = &cdr__csv_ops,
};

static void seg_name(char *out, size_t size, uint64_t seg)
{
	snprintf(out, size, "seg-%016" PRIu64 ".log", seg);
}

static void timespec_after_ms(struct timespec *ts, uint32_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void cond_init_mono(pthread_cond_t *c)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- start-up: segments, torn tails, cursors ---- */

static int segments_scan(int dir_fd, uint64_t *oldest, uint64_t *newest, bool *any)
{
	int fd = dup(dir_fd);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	*any = false;
	struct dirent *de;
	while ((de = readdir(d))) {
		unsigned long long n;
		char tail[8];
		if (sscanf(de->d_name, "seg-%16llu.%7s", &n, tail) != 2 || strcmp(tail, "log"))
			continue;
		if (!*any || n < *oldest)
			*oldest = n;
		if (!*any || n > *newest)
			*newest = n;
		*any = true;
	}
	closedir(d);
	return 0;
}

/* Lines in [from, to) of a segment (to = UINT64_MAX: its end). */
static int64_t segment_count_lines(int dir_fd, uint64_t seg, uint64_t from, uint64_t to)
{
	char name[64], buf[65536];
	seg_name(name, sizeof(name), seg);
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	int64_t lines = 0;
	uint64_t off = from;
	while (off < to) {
		size_t want = sizeof(buf);
		if (to - off < want)
			want = (size_t)(to - off);
		ssize_t n = pread(fd, buf, want, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			lines = -errno;
			break;
		}
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
		off += (uint64_t)n;
	}
	close(fd);
	return lines;
}

/* Cuts a segment back to its last complete line: what follows was being
 * appended when the process died and was never fsync'd. */
static int segment_trim(int dir_fd, uint64_t seg)
{
	char name[64];
	seg_name(name, sizeof(name), seg);
	int fd = openat(dir_fd, name, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	struct stat sb;
	int e = 0;
	if (fstat(fd, &sb) != 0) {
		e = -errno;
		goto out;
	}
	off_t end = sb.st_size;
	char c;
	while (end > 0) {
		if (pread(fd, &c, 1, end - 1) != 1) {
			e = -EIO;
			goto out;
		}
		if (c == '\n')
			break;
		end--;
	}
	if (end != sb.st_size) {
		log_warn("cdr spool: %s: cutting a torn last line (%lld bytes)", name,
			 (long long)(sb.st_size - end));
		if (ftruncate(fd, end) != 0 || fsync(fd) != 0)
			e = -errno;
	}
out:
	close(fd);
	return e;
}

static void cursor_name(char *out, size_t size, const char *sink, bool tmp)
{
	snprintf(out, size, "cursor.%s%s", sink, tmp ? ".tmp" : "");
}

static int cursor_read(int dir_fd, const char *sink, struct spool_pos *pos)
{
	char name[64], text[64];
	cursor_name(name, sizeof(name), sink, false);
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -EBADMSG;
	text[n] = '\0';
	unsigned long long seg, off;
	if (sscanf(text, "%llu %llu", &seg, &off) != 2)
		return -EBADMSG;
	pos->seg = seg;
	pos->off = off;
	return 0;
}

static int cursor_write(int dir_fd, const char *sink, struct spool_pos pos)
{
	char name[64], tmp[64], text[64];
	cursor_name(name, sizeof(name), sink, false);
	cursor_name(tmp, sizeof(tmp), sink, true);
	int len = snprintf(text, sizeof(text), "%" PRIu64 " %" PRIu64 "\n", pos.seg, pos.off);
	int fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	int e = write_all(fd, text, (size_t)len);
	if (!e && fsync(fd) != 0)
		e = -errno;
	close(fd);
	if (!e && renameat(dir_fd, tmp, dir_fd, name) != 0)
		e = -errno;
	if (!e && fsync(dir_fd) != 0)
		e = -errno;
	return e;
}

static int segment_open(struct cdr_store *st, uint64_t seg)
{
	char name[64];
	seg_name(name, sizeof(name), seg);
	int fd = openat(st->dir_fd, name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	/* The new name must survive a crash as well as the data. */
	if (fsync(st->dir_fd) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	struct stat sb;
	if (fstat(fd, &sb) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	st->seg_fd = fd;
	st->durable = (struct spool_pos){seg, (uint64_t)sb.st_size};
	return 0;
}

/* Opens the spool: trims a torn tail, counts what each sink still has to
 * store and starts writing a fresh segment. */
static int spool_open(struct cdr_store *st)
{
	int e = fs_mkdir_p(st->conf.spool_dir, 0750, false);
	if (e)
		return e;
	st->dir_fd = open(st->conf.spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dir_fd < 0)
		return -errno;
	uint64_t oldest = 0, newest = 0;
	bool any = false;
	if ((e = segments_scan(st->dir_fd, &oldest, &newest, &any)))
		return e;
	if (any && (e = segment_trim(st->dir_fd, newest)))
		return e;
	st->oldest_seg = any ? oldest : 1;
	uint64_t total = 0;
	for (uint64_t s = oldest; any && s <= newest; s++) {
		int64_t n = segment_count_lines(st->dir_fd, s, 0, UINT64_MAX);
		if (n < 0)
			return (int)n;
		total += (uint64_t)n;
	}
	st->spooled = total;
	/* A fresh segment: an earlier one may end on a trimmed line, and a
	 * segment that is never appended to again is simpler to reason about. */
	if ((e = segment_open(st, any ? newest + 1 : 1)))
		return e;
	for (size_t i = 0; i < st->sink_count; i++) {
		struct sink *k = &st->sinks[i];
		struct spool_pos pos;
		if (cursor_read(st->dir_fd, k->ops->name, &pos) != 0 || pos.seg < st->oldest_seg)
			pos = (struct spool_pos){st->oldest_seg, 0};
		k->cursor = pos;
		uint64_t before = 0;
		for (uint64_t s = st->oldest_seg; any && s <= pos.seg && s <= newest; s++) {
			int64_t n = segment_count_lines(st->dir_fd, s, 0,
							s == pos.seg ? pos.off : UINT64_MAX);
			if (n < 0)
				return (int)n;
			before += (uint64_t)n;
		}
		k->consumed = before;
		if (total > before)
			log_notice("cdr spool: %" PRIu64 " records to replay into %s",
				   total - before, k->ops->name);
	}
	return 0;
}

/* ---- the spool thread ---- */

static void *spool_main(void *arg)
{
	struct cdr_store *st = arg;
	struct buf batch;
	buf_init(&batch);
	for (;;) {
		pthread_mutex_lock(&st->qlock);
		while (st->queue.len == 0 && !st->closing) {
			struct timespec ts;
			timespec_after_ms(&ts, IDLE_WAIT_MS);
			pthread_cond_timedwait(&st->qcond, &st->qlock, &ts);
		}
		if (st->queue.len == 0 && st->closing) {
			pthread_mutex_unlock(&st->qlock);
			break;
		}
		struct buf tmp = st->queue;
		st->queue = batch;
		batch = tmp;
		uint64_t count = st->queue_count;
		st->queue_count = 0;
		pthread_mutex_unlock(&st->qlock);

		/* Until it is on disk the batch is retried, never dropped. */
		for (;;) {
			off_t start = (off_t)st->durable.off;
			int e = write_all(st->seg_fd, batch.p, batch.len);
			if (!e && fdatasync(st->seg_fd) != 0)
				e = -errno;
			if (!e)
				break;
			log_err("cdr spool: appending %" PRIu64 " records: %s (retrying)", count,
				strerror(-e));
			/* A partial append must not leave half a line behind. */
			if (ftruncate(st->seg_fd, start) != 0)
				log_err("cdr spool: truncating: %s", strerror(errno));
			pthread_mutex_lock(&st->lock);
			st->spool_errors++;
			pthread_mutex_unlock(&st->lock);
			usleep(BACKOFF_MIN_MS * 1000);
		}
		pthread_mutex_lock(&st->lock);
		st->durable.off += batch.len;
		st->spooled += count;
		st->spooled_run += count;
		if (st->durable.off >= SEGMENT_MAX) {
			int old = st->seg_fd;
			int e = segment_open(st, st->durable.seg + 1);
			if (e)
				log_err("cdr spool: next segment: %s (staying on this one)",
					strerror(-e));
			else
				close(old);
		}
		pthread_cond_broadcast(&st->cond);
		pthread_mutex_unlock(&st->lock);
		buf_reset(&batch);
	}
	buf_fini(&batch);
	return NULL;
}

/* ---- reading a batch for a sink ---- */

struct reader {
	char *buf;
	size_t cap;
	struct cdr *recs;
	size_t rec_cap;
};

/* Segments are deleted only behind every cursor: delete the ones no sink
 * needs any more. Called with st->lock held. */
static void segments_collect(struct cdr_store *st)
{
	uint64_t min = st->durable.seg;
	for (size_t i = 0; i < st->sink_count; i++)
		if (st->sinks[i].cursor.seg < min)
			min = st->sinks[i].cursor.seg;
	for (; st->oldest_seg < min; st->oldest_seg++) {
		char name[64];
		seg_name(name, sizeof(name), st->oldest_seg);
		if (unlinkat(st->dir_fd, name, 0) != 0 && errno != ENOENT)
			log_warn("cdr spool: deleting %s: %s", name, strerror(errno));
	}
}

/*
 * Reads up to batch_size records from `pos` (not past the durable end)
 * into r; `next` gets the position after them. 0 with b->count 0: nothing
 * new. Lines that do not parse are skipped (logged): a record that can
 * never be stored must not stop the ones behind it.
 */
static int reader_fill(struct cdr_store *st, struct reader *r, struct spool_pos pos,
		       struct spool_pos durable, struct cdr_batch *b, struct spool_pos *next)
{
	b->count = 0;
	b->lines = 0;
	*next = pos;
	for (;;) {
		uint64_t limit = UINT64_MAX;
		if (pos.seg == durable.seg)
			limit = durable.off;
		if (pos.seg > durable.seg || pos.off >= limit)
			return 0;
		char name[64];
		seg_name(name, sizeof(name), pos.seg);
		int fd = openat(st->dir_fd, name, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno != ENOENT)
				return -errno;
			pos = (struct spool_pos){pos.seg + 1, 0}; /* an empty segment went */
			*next = pos;
			continue;
		}
		size_t want = st->conf.batch_size * 1024;
		if (want < 65536)
			want = 65536;
		ssize_t n;
		size_t len;
		for (;;) {
			if (r->cap < want) {
				char *nb = realloc(r->buf, want);
				if (!nb) {
					close(fd);
					return -ENOMEM;
				}
				r->buf = nb;
				r->cap = want;
			}
			len = want;
			if (limit != UINT64_MAX && limit - pos.off < len)
				len = (size_t)(limit - pos.off);
			n = pread(fd, r->buf, len, (off_t)pos.off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				int e = -errno;
				close(fd);
				return e;
			}
			/* A line longer than the buffer: read more at once. */
			if (n == (ssize_t)want && !memchr(r->buf, '\n', (size_t)n)) {
				want *= 2;
				continue;
			}
			break;
		}
		close(fd);
		if (n == 0) {
			/* The end of a finished segment: on to the next one. */
			if (pos.seg < durable.seg) {
				pos = (struct spool_pos){pos.seg + 1, 0};
				*next = pos;
				if (b->count)
					return 0;
				continue;
			}
			return 0;
		}
		char *p = r->buf, *end = r->buf + n;
		while (b->count < st->conf.batch_size) {
			char *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl)
				break;
			if (b->count >= r->rec_cap) {
				size_t cap = r->rec_cap ? r->rec_cap * 2 : 64;
				struct cdr *nr = realloc(r->recs, cap * sizeof(*nr));
				if (!nr)
					return -ENOMEM;
				r->recs = nr;
				r->rec_cap = cap;
			}
			b->lines++; /* a line skipped as unparsable is consumed too */
			if (cdr_parse(p, (size_t)(nl - p), &r->recs[b->count]) == 0)
				b->count++;
			else
				log_err("cdr spool: %s at %" PRIu64 ": not a record, skipped", name,
					pos.off + (uint64_t)(p - r->buf));
			p = nl + 1;
		}
		next->seg = pos.seg;
		next->off = pos.off + (uint64_t)(p - r->buf);
		/* All of a finished segment read: the cursor moves past it now,
		 * so that it can be deleted without another round. */
		if (p == end && (size_t)n < len && pos.seg < durable.seg)
			*next = (struct spool_pos){pos.seg + 1, 0};
		b->recs = r->recs;
		return 0;
	}
}

/* ---- the sinks' threads ---- */

static bool sink_sleep(struct cdr_store *st, uint32_t ms)
{
	struct timespec ts;
	timespec_after_ms(&ts, ms);
	pthread_mutex_lock(&st->lock);
	/* The condition is broadcast at every spool commit: a back-off must
	 * not end early because records keep arriving. */
	while (!st->stopping && pthread_cond_timedwait(&st->cond, &st->lock, &ts) != ETIMEDOUT)
		;
	bool stop = st->stopping;
	pthread_mutex_unlock(&st->lock);
	return !stop;
}

static void sink_fail(struct sink *k, const char *what, const char *err)
{
	struct cdr_store *st = k->st;
	pthread_mutex_lock(&st->lock);
	bool was_up = k->up;
	k->up = false;
	k->failures++;
	if (what)
		snprintf(k->error, sizeof(k->error), "%s: %s", what, err);
	else
		snprintf(k->error, sizeof(k->error), "%s", err);
	pthread_mutex_unlock(&st->lock);
	/* Once per outage, not once per retry. */
	if (was_up || k->failures == 1)
		log_err("cdr %s: %s", k->ops->name, k->error);
}

static void *sink_main(void *arg)
{
	struct sink *k = arg;
	struct cdr_store *st = k->st;
	struct reader r = {0};
	char err[256];
	uint32_t backoff = BACKOFF_MIN_MS;
	bool open = false;

	for (;;) {
		pthread_mutex_lock(&st->lock);
		bool stop = st->stopping;
		struct spool_pos pos = k->cursor, durable = st->durable;
		pthread_mutex_unlock(&st->lock);
		if (stop)
			break;
		if (!open) {
			err[0] = '\0';
			if (k->ops->open(k->impl, err, sizeof(err)) != 0) {
				sink_fail(k, NULL, err);
				sink_sleep(st, backoff);
				backoff =
				    backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
				continue;
			}
			open = true;
			pthread_mutex_lock(&st->lock);
			k->up = true;
			k->error[0] = '\0';
			pthread_mutex_unlock(&st->lock);
			log_notice("cdr %s: ready", k->ops->name);
		}
		struct cdr_batch b;
		struct spool_pos next;
		int e = reader_fill(st, &r, pos, durable, &b, &next);
		if (e) {
			sink_fail(k, "reading the spool", strerror(-e));
			sink_sleep(st, backoff);
			continue;
		}
		if (b.count == 0 && next.seg == pos.seg && next.off == pos.off) {
			pthread_mutex_lock(&st->lock);
			if (!st->stopping && st->durable.seg == durable.seg &&
			    st->durable.off == durable.off) {
				struct timespec ts;
				timespec_after_ms(&ts, IDLE_WAIT_MS);
				pthread_cond_timedwait(&st->cond, &st->lock, &ts);
			}
			pthread_mutex_unlock(&st->lock);
			continue;
		}
		if (b.count) {
			err[0] = '\0';
			if (k->ops->write(k->impl, &b, err, sizeof(err)) != 0) {
				sink_fail(k, "storing", err);
				k->ops->close(k->impl);
				open = false;
				sink_sleep(st, backoff);
				backoff =
				    backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
				continue;
			}
		}
		backoff = BACKOFF_MIN_MS;
		e = cursor_write(st->dir_fd, k->ops->name, next);
		if (e) {
			/* Stored but not recorded as such: the batch comes again
			 * and the uuid key absorbs it. */
			sink_fail(k, "writing the cursor", strerror(-e));
			sink_sleep(st, backoff);
			continue;
		}
		pthread_mutex_lock(&st->lock);
		k->cursor = next;
		k->stored += b.count;
		k->up = true;
		k->error[0] = '\0';
		segments_collect(st);
		pthread_mutex_unlock(&st->lock);
		pthread_mutex_lock(&st->lock);
		k->consumed += b.lines;
		pthread_cond_broadcast(&st->cond);
		pthread_mutex_unlock(&st->lock);
	}
	if (open)
		k->ops->close(k->impl);
	free(r.buf);
	free(r.recs);
	return NULL;
}

/* ---- public ---- */

int cdr_store_create(struct cdr_store **out, const struct cdr_conf *conf)
{
	if (!out || !conf || conf->batch_size == 0)
		return -EINVAL;
	struct cdr_store *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->conf = *conf;
	st->dir_fd = -1;
	st->seg_fd = -1;
	for (size_t i = 0; i < conf->extra_count; i++)
		st->extra_ptrs[i] = st->conf.extra_names[i];
	pthread_mutex_init(&st->qlock, NULL);
	pthread_mutex_init(&st->lock, NULL);
	cond_init_mono(&st->qcond);
	cond_init_mono(&st->cond);
	buf_init(&st->queue);
	int e = 0;
	for (int kind = 0; kind < CDR_SINK_KINDS; kind++) {
		if (!conf->sinks[kind])
			continue;
		struct sink *k = &st->sinks[st->sink_count];
		k->st = st;
		k->kind = (enum cdr_sink_kind)kind;
		k->ops = sink_ops[kind];
		switch (kind) {
		case CDR_SINK_SQLITE:
			e = cdr__sqlite_create(&k->impl, &st->conf);
			break;
		case CDR_SINK_POSTGRES:
			e = cdr__pg_create(&k->impl, &st->conf);
			break;
		default:
			e = cdr__csv_create(&k->impl, &st->conf);
			break;
		}
		if (e)
			goto fail;
		st->sink_count++;
	}
	if ((e = spool_open(st))) {
		log_err("cdr spool %s: %s", conf->spool_dir, strerror(-e));
		goto fail;
	}
	if ((e = -pthread_create(&st->spool_thread, NULL, spool_main, st)))
		goto fail;
	st->spool_started = true;
	for (size_t i = 0; i < st->sink_count; i++) {
		if ((e = -pthread_create(&st->sinks[i].thread, NULL, sink_main, &st->sinks[i])))
			goto fail;
		st->sinks[i].started = true;
	}
	*out = st;
	return 0;
fail:
	cdr_store_destroy(st);
	return e;
}

int cdr_store_submit(struct cdr_store *st, const struct cdr *c)
{
	if (!st || !c || !c->uuid || !*c->uuid)
		return -EINVAL;
	pthread_mutex_lock(&st->qlock);
	if (st->closing) {
		pthread_mutex_unlock(&st->qlock);
		return -ESHUTDOWN;
	}
	size_t before = st->queue.len;
	cdr_print_json(c, &st->queue);
	if (st->queue.failed) {
		/* Out of memory: keep what was queued, refuse this one. */
		st->queue.failed = false;
		st->queue.len = before;
		pthread_mutex_unlock(&st->qlock);
		return -ENOMEM;
	}
	st->queue_count++;
	st->submitted++;
	pthread_cond_signal(&st->qcond);
	pthread_mutex_unlock(&st->qlock);
	return 0;
}

size_t cdr_store_extra_names(const struct cdr_store *st, const char *const **names)
{
	*names = st->extra_ptrs;
	return st->conf.extra_count;
}

static bool all_stored(struct cdr_store *st, uint64_t submitted)
{
	if (st->spooled_run < submitted)
		return false;
	for (size_t i = 0; i < st->sink_count; i++)
		if (st->sinks[i].consumed < st->spooled)
			return false;
	return true;
}

int cdr_store_flush(struct cdr_store *st, uint32_t timeout_ms)
{
	pthread_mutex_lock(&st->qlock);
	uint64_t submitted = st->submitted;
	pthread_mutex_unlock(&st->qlock);
	struct timespec deadline;
	timespec_after_ms(&deadline, timeout_ms);
	pthread_mutex_lock(&st->lock);
	int e = 0;
	while (!all_stored(st, submitted)) {
		if (pthread_cond_timedwait(&st->cond, &st->lock, &deadline) == ETIMEDOUT) {
			e = all_stored(st, submitted) ? 0 : -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&st->lock);
	return e;
}

void cdr_store_destroy(struct cdr_store *st)
{
	if (!st)
		return;
	pthread_mutex_lock(&st->qlock);
	st->closing = true;
	pthread_cond_broadcast(&st->qcond);
	pthread_mutex_unlock(&st->qlock);
	/* The spool thread writes what is queued before it ends. */
	if (st->spool_started)
		pthread_join(st->spool_thread, NULL);
	pthread_mutex_lock(&st->lock);
	st->stopping = true;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
	for (size_t i = 0; i < st->sink_count; i++) {
		if (st->sinks[i].started)
			pthread_join(st->sinks[i].thread, NULL);
		st->sinks[i].ops->destroy(st->sinks[i].impl);
	}
	if (st->seg_fd >= 0)
		close(st->seg_fd);
	if (st->dir_fd >= 0)
		close(st->dir_fd);
	buf_fini(&st->queue);
	pthread_mutex_destroy(&st->qlock);
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->qcond);
	pthread_cond_destroy(&st->cond);
	free(st);
}

void cdr_store_stats(struct cdr_store *st, struct cdr_store_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&st->qlock);
	out->submitted = st->submitted;
	pthread_mutex_unlock(&st->qlock);
	pthread_mutex_lock(&st->lock);
	out->spooled = st->spooled_run;
	out->spool_errors = st->spool_errors;
	out->sink_count = st->sink_count;
	uint64_t pending = out->submitted - st->spooled_run;
	for (size_t i = 0; i < st->sink_count; i++) {
		const struct sink *k = &st->sinks[i];
		struct cdr_sink_stats *s = &out->sinks[i];
		s->name = k->ops->name;
		s->up = k->up;
		snprintf(s->error, sizeof(s->error), "%s", k->error);
		s->backlog = (st->spooled > k->consumed ? st->spooled - k->consumed : 0) + pending;
		s->stored = k->stored;
		s->failures = k->failures;
	}
	pthread_mutex_unlock(&st->lock);
}
