/*
 * Internals shared by the recorder (record.c, on a loop) and the writer
 * thread (record_writer.c): the messages between them and the file the
 * writer owns.
 */
#ifndef IRISX_MEDIA_RECORD_INT_H
#define IRISX_MEDIA_RECORD_INT_H

#include "media/media.h"

#include <sndfile.h>
#include <stdatomic.h>
#include <uv.h>

/* Created on the loop, owned by the writer thread from its OPEN message on
 * (freed by it at CLOSE). The loop reads only `failed`. */
struct media__rec_file {
	struct media__rec_file *prev, *next; /* the writer's open files */
	char *path;
	uint32_t rate;
	int channels;
	int format; /* SF_FORMAT_* */
	SNDFILE *sf;
	uint64_t header_ms; /* when the header was last rewritten */
	bool dirty;	    /* written since then */
	bool write_failed;
	atomic_bool failed; /* could not be created */
	/* CLOSE: runs on the writer thread once the file is closed */
	void (*closed_cb)(void *arg);
	void *closed_arg;
};

enum media__rec_kind { MEDIA__REC_OPEN, MEDIA__REC_DATA, MEDIA__REC_CLOSE };

struct media__rec_msg {
	struct media__rec_msg *next;
	enum media__rec_kind kind;
	struct media__rec_file *file;
	size_t frames; /* DATA: interleaved frames in pcm */
	int16_t pcm[]; /* DATA */
};

/* Queues m (ownership passes). false when a DATA block was dropped because
 * the queue is full (m is freed). */
bool media__rec_post(struct media_record_writer *w, struct media__rec_msg *m);

#endif
