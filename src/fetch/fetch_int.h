/*
 * fetch's internals shared by fetch.c (requests, libcurl on the loop) and
 * download.c (writing a download's body in the thread pool).
 */
#ifndef IRISX_FETCH_INT_H
#define IRISX_FETCH_INT_H

#include "fetch/fetch.h"

#include <curl/curl.h>
#include <uv.h>

enum fetch_op_state {
	FETCH_OP_TRANSFER, /* in the multi handle */
	FETCH_OP_DISK,	   /* a download being written (or removed) in the thread pool */
	FETCH_OP_CALLING,  /* its callback is running */
};

struct fetch_op {
	struct fetch *f;
	struct fetch_op *prev, *next; /* the fetch's ops in flight */
	enum fetch_op_state state;
	bool cancelled; /* while on disk: remove the file, run no callback */
	fetch_done_cb cb;
	void *arg;
	CURL *easy;
	struct curl_slist *headers;
	char *req_body;
	uint64_t start_ns;
	/* the response, as it arrives */
	char *body;
	size_t body_len, body_cap, max_body;
	bool too_big, no_memory; /* why body_cb stopped the transfer */
	/* what the callback reads, saved when the transfer ends */
	struct fetch_response resp;
	char *content_type, *effective_url, *error_text;
	char errbuf[CURL_ERROR_SIZE];
	/* downloads */
	char *path, *part;
	uv_fs_t fs;
	uv_file fd;
	size_t written;
	bool renamed; /* path holds the file: a cancel removes it */
};

struct fetch {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	struct fetch_op *ops;
	struct fetch_sock *socks;
	size_t in_flight;
	unsigned refs; /* the timer, poll handles, downloads on disk */
	bool destroyed;
};

/* Drops one of the references counted in refs; frees a destroyed fetch at 0. */
void fetch__unref(struct fetch *f);
/* Out of the fetch's list and of fetch_in_flight. */
void fetch__op_unlink(struct fetch_op *op);
void fetch__op_free(struct fetch_op *op);
/* Runs the callback with what was saved (error unless one is set), frees op. */
void fetch__op_finish(struct fetch_op *op, int error);
/* The transfer ended with a 2xx: writes op->body to op->part then renames it
 * to op->path; the callback runs after that (or with -EIO). */
void fetch__download_begin(struct fetch_op *op);

#endif
