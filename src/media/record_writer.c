/*
 * The recording writer: one thread owns every recording file (libsndfile),
 * fed by the loops through a bounded queue of messages (open, audio, close).
 * A loop never waits for the disk: when the queue holds more audio than its
 * limit, the block is dropped and counted instead.
 *
 * Crash safety: each file's header is rewritten (SFC_UPDATE_HEADER_NOW) at
 * least once a second while audio comes in, so a process killed mid-way
 * leaves a WAV whose sizes are at most a second short of its data;
 * media_wav_repair (record_wav.c) makes them whole at the next start.
 * Opus in Ogg needs no header refresh: libsndfile writes its pages whole,
 * one at least every MEDIA_RECORD_OGG_PAGE_MS, and a reader stops at the
 * last whole page of a file cut short.
 */
#define LOG_MODULE "record"
#include "media/media_record_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { HEADER_EVERY_MS = 1000 };

struct media_record_writer {
	uv_thread_t thread;
	uv_mutex_t lock;
	uv_cond_t cond;
	struct media__rec_msg *head, *tail; /* under lock */
	size_t queued_bytes, queue_max;	    /* under lock */
	bool stopping;			    /* under lock */
	uint64_t dropped;		    /* under lock */
	/* the thread's own: files open now */
	struct media__rec_file *files;
};

/* mkdir -p of the file's directory. */

static void file_open(struct media_record_writer *w, struct media__rec_file *f)
{
	SF_INFO info = {.samplerate = (int)f->rate, .channels = f->channels, .format = f->format};
	int err = fs_mkdir_p(f->path, 0755, true);
	if (!err && !(f->sf = sf_open(f->path, SFM_WRITE, &info)))
		err = -EIO;
	if (err) {
		log_err("recording %s: cannot create the file: %s", f->path,
			err == -EIO ? sf_strerror(NULL) : strerror(-err));
		atomic_store(&f->failed, true);
		return;
	}
	if ((f->format & SF_FORMAT_TYPEMASK) == SF_FORMAT_OGG) {
		double ms = MEDIA_RECORD_OGG_PAGE_MS;
		sf_command(f->sf, SFC_SET_OGG_PAGE_LATENCY_MS, &ms, sizeof(ms));
	} else {
		/* written now, so that even a file killed at once has a header */
		sf_command(f->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
	}
	f->header_ms = uv_hrtime() / 1000000;
	f->next = w->files;
	f->prev = NULL;
	if (w->files)
		w->files->prev = f;
	w->files = f;
}

static void file_close(struct media_record_writer *w, struct media__rec_file *f)
{
	if (f->sf) {
		sf_close(f->sf);
		if (f->prev)
			f->prev->next = f->next;
		else
			w->files = f->next;
		if (f->next)
			f->next->prev = f->prev;
	}
	void (*closed_cb)(void *) = f->closed_cb;
	void *arg = f->closed_arg;
	free(f->path);
	free(f);
	if (closed_cb)
		closed_cb(arg);
}

static void file_write(struct media__rec_file *f, const int16_t *pcm, size_t frames)
{
	if (!f->sf)
		return;
	sf_count_t n = sf_writef_short(f->sf, pcm, (sf_count_t)frames);
	if (n != (sf_count_t)frames && !f->write_failed) {
		f->write_failed = true;
		log_err("recording %s: write failed: %s", f->path, sf_strerror(f->sf));
	}
	f->dirty = true;
}

/* Every second, the headers of files written to since their last update. */
static void headers_update(struct media_record_writer *w, bool force)
{
	uint64_t now = uv_hrtime() / 1000000;
	for (struct media__rec_file *f = w->files; f; f = f->next) {
		bool wav = (f->format & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAV;
		if (wav && f->dirty && (force || now - f->header_ms >= HEADER_EVERY_MS)) {
			sf_command(f->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
			f->header_ms = now;
			f->dirty = false;
		}
	}
}

static void run_msg(struct media_record_writer *w, struct media__rec_msg *m)
{
	switch (m->kind) {
	case MEDIA__REC_OPEN:
		file_open(w, m->file);
		break;
	case MEDIA__REC_DATA:
		file_write(m->file, m->pcm, m->frames);
		break;
	case MEDIA__REC_CLOSE:
		file_close(w, m->file);
		break;
	}
	free(m);
}

static void writer_main(void *arg)
{
	struct media_record_writer *w = arg;
	uv_mutex_lock(&w->lock);
	for (;;) {
		while (!w->head && !w->stopping) {
			/* wake at least every half second to keep headers current */
			if (uv_cond_timedwait(&w->cond, &w->lock, 500 * 1000000ULL) != 0)
				break;
		}
		struct media__rec_msg *batch = w->head;
		w->head = w->tail = NULL;
		w->queued_bytes = 0;
		bool stopping = w->stopping;
		uv_mutex_unlock(&w->lock);
		while (batch) {
			struct media__rec_msg *next = batch->next;
			run_msg(w, batch);
			batch = next;
		}
		headers_update(w, false);
		uv_mutex_lock(&w->lock);
		if (stopping && !w->head)
			break;
	}
	uv_mutex_unlock(&w->lock);
	/* files whose recorder never closed them (a destroy without stop) */
	while (w->files)
		file_close(w, w->files);
}

int media_record_writer_create(struct media_record_writer **out, size_t queue_bytes)
{
	struct media_record_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->queue_max = queue_bytes ? queue_bytes : MEDIA_RECORD_QUEUE_DEFAULT;
	int err = uv_mutex_init(&w->lock);
	if (err)
		goto out_free;
	if ((err = uv_cond_init(&w->cond)))
		goto out_mutex;
	if ((err = uv_thread_create(&w->thread, writer_main, w)))
		goto out_cond;
	*out = w;
	return 0;
out_cond:
	uv_cond_destroy(&w->cond);
out_mutex:
	uv_mutex_destroy(&w->lock);
out_free:
	free(w);
	return err;
}

void media_record_writer_destroy(struct media_record_writer *w)
{
	if (!w)
		return;
	uv_mutex_lock(&w->lock);
	w->stopping = true;
	uv_cond_signal(&w->cond);
	uv_mutex_unlock(&w->lock);
	uv_thread_join(&w->thread);
	uv_cond_destroy(&w->cond);
	uv_mutex_destroy(&w->lock);
	if (w->dropped)
		log_warn("recordings: %llu audio blocks were dropped (writer queue full)",
			 (unsigned long long)w->dropped);
	free(w);
}

uint64_t media_record_writer_dropped(const struct media_record_writer *w)
{
	struct media_record_writer *mw = (struct media_record_writer *)w;
	uv_mutex_lock(&mw->lock);
	uint64_t n = mw->dropped;
	uv_mutex_unlock(&mw->lock);
	return n;
}

bool media__rec_post(struct media_record_writer *w, struct media__rec_msg *m)
{
	size_t bytes = m->kind == MEDIA__REC_DATA ? m->frames * (size_t)m->file->channels * 2 : 0;
	m->next = NULL;
	uv_mutex_lock(&w->lock);
	/* opens and closes always pass: they are small and keep files consistent */
	if (bytes && w->queued_bytes + bytes > w->queue_max) {
		if (w->dropped++ % 100 == 0)
			log_warn("recording %s: writer queue full, audio dropped", m->file->path);
		uv_mutex_unlock(&w->lock);
		free(m);
		return false;
	}
	w->queued_bytes += bytes;
	if (w->tail)
		w->tail->next = m;
	else
		w->head = m;
	w->tail = m;
	uv_cond_signal(&w->cond);
	uv_mutex_unlock(&w->lock);
	return true;
}
