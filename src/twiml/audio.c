/*
 * <Play> audio by URL: each URL is downloaded once (fetch, written off the
 * loop, the GET signed as a document's) into the cache directory as <hash>.<extension> and played
 * from there by every later call. Calls asking for a URL being downloaded wait for the same
 * download. A failed download is forgotten (the next call tries again). At most
 * TWIML_AUDIO_ENTRIES_MAX URLs are kept: past that the oldest one is forgotten and its file removed
 * (in the thread pool; a call playing it keeps its open file).
 */
#define LOG_MODULE "twiml"
#include "exec_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum audio_state { AUDIO_LOADING, AUDIO_READY };

struct twiml__audio {
	struct hmap_node node;
	struct twiml__audio_cache *cache;
	enum audio_state state;
	uint64_t order;
	struct fetch_op *op;
	struct twiml__audio_wait *waiters;
	char *url;
	char path[1200];
};

void twiml__audio_init(struct twiml__audio_cache *c, struct twiml *tw)
{
	memset(c, 0, sizeof(*c));
	c->tw = tw;
	hmap_init(&c->entries);
}

static void entry_free(struct twiml__audio *a)
{
	struct twiml__audio_cache *c = a->cache;
	if (a->op)
		fetch_cancel(a->op);
	for (struct twiml__audio_wait *w = a->waiters; w; w = w->next)
		w->audio = NULL;
	hmap_remove(&c->entries, &a->node);
	c->count--;
	free(a->url);
	free(a);
}

void twiml__audio_fini(struct twiml__audio_cache *c)
{
	for (size_t i = 0; c->entries.buckets && i <= c->entries.mask; i++)
		while (c->entries.buckets[i])
			entry_free(container_of(c->entries.buckets[i], struct twiml__audio, node));
	hmap_fini(&c->entries);
}

static struct twiml__audio *entry_find(struct twiml__audio_cache *c, const char *url)
{
	uint64_t h = hash_str(str_from_cstr(url));
	for (struct hmap_node *n = hmap_first(&c->entries, h); n; n = hmap_next(n)) {
		struct twiml__audio *a = container_of(n, struct twiml__audio, node);
		if (strcmp(a->url, url) == 0)
			return a;
	}
	return NULL;
}

/* The URL path's extension when it names a format libsndfile reads (it
 * probes the content anyway; the name helps people looking at the cache). */
static const char *url_extension(const char *url)
{
	static const char *const known[] = {"wav", "mp3", "ogg",  "opus", "flac",
					    "au",  "aif", "aiff", "gsm"};
	size_t end = strcspn(url, "?#");
	const char *slash = NULL;
	for (const char *p = url; p < url + end; p++)
		if (*p == '/')
			slash = p;
	const char *dot = NULL;
	for (const char *p = slash ? slash : url; p < url + end; p++)
		if (*p == '.')
			dot = p;
	if (dot) {
		size_t n = (size_t)(url + end - dot - 1);
		for (size_t i = 0; i < ARRAY_LEN(known); i++)
			if (strlen(known[i]) == n && strncasecmp(dot + 1, known[i], n) == 0)
				return known[i];
	}
	return "audio";
}

static void unlink_done_cb(uv_fs_t *req)
{
	uv_fs_req_cleanup(req);
	free(req);
}

void twiml__file_remove(uv_loop_t *loop, const char *path)
{
	uv_fs_t *req = malloc(sizeof(*req));
	if (req && uv_fs_unlink(loop, req, path, unlink_done_cb) != 0)
		free(req);
}

/* Forgets the oldest ready entry (and removes its file off the loop). */
static void evict_oldest(struct twiml__audio_cache *c)
{
	struct twiml__audio *oldest = NULL;
	for (size_t i = 0; c->entries.buckets && i <= c->entries.mask; i++)
		for (struct hmap_node *n = c->entries.buckets[i]; n; n = n->next) {
			struct twiml__audio *a = container_of(n, struct twiml__audio, node);
			if (a->state == AUDIO_READY && (!oldest || a->order < oldest->order))
				oldest = a;
		}
	if (!oldest)
		return;
	twiml__file_remove(c->tw->loop, oldest->path);
	entry_free(oldest);
}

static void download_done_cb(void *arg, const struct fetch_response *r)
{
	struct twiml__audio *a = arg;
	a->op = NULL;
	int err = r->error;
	if (!err && (r->status < 200 || r->status > 299))
		err = -ENOENT;
	struct twiml__audio_wait *waiters = a->waiters;
	a->waiters = NULL;
	char path[sizeof(a->path)];
	memcpy(path, a->path, sizeof(path));
	if (err) {
		log_warn("<Play> %s: %s (HTTP %ld)", a->url,
			 r->error_text ? r->error_text : strerror(-err), r->status);
		entry_free(a); /* the next call tries again */
	} else {
		a->state = AUDIO_READY;
		log_info("<Play> %s cached as %s (%llu ms)", a->url, a->path,
			 (unsigned long long)(r->elapsed_us / 1000));
	}
	/* Each waiter's callback may start another wait or finish its call:
	 * take it off the list before calling it. */
	while (waiters) {
		struct twiml__audio_wait *w = waiters;
		waiters = w->next;
		w->next = NULL;
		w->audio = NULL;
		w->cb(w->arg, err ? NULL : path, err);
	}
}

int twiml__audio_get(struct twiml__audio_cache *c, const char *url, struct twiml__audio_wait *w,
		     char *out, size_t size)
{
	struct twiml__audio *a = entry_find(c, url);
	if (a && a->state == AUDIO_READY) {
		if (strlen(a->path) >= size)
			return -ENAMETOOLONG;
		memcpy(out, a->path, strlen(a->path) + 1);
		return 1;
	}
	if (!a) {
		if (c->count >= TWIML_AUDIO_ENTRIES_MAX)
			evict_oldest(c);
		a = calloc(1, sizeof(*a));
		char *copy = a ? strdup(url) : NULL;
		if (!copy) {
			free(a);
			return -ENOMEM;
		}
		a->cache = c;
		a->url = copy;
		a->order = ++c->clock;
		snprintf(a->path, sizeof(a->path), "%s/%016llx.%s", c->tw->set.audio_cache_dir,
			 (unsigned long long)hash_str(str_from_cstr(url)), url_extension(url));
		/* Signed as the documents are: the application may serve its
		 * audio only to irisx. */
		char sig[29], sig_header[64];
		if (twiml_signature(c->tw->set.auth_token, url, NULL, sig) != 0) {
			free(a->url);
			free(a);
			return -EINVAL;
		}
		snprintf(sig_header, sizeof(sig_header), "X-Twilio-Signature: %s", sig);
		struct fetch_request req = {
		    .headers = {sig_header},
		    .url = url,
		    .method = "GET",
		    .timeout_ms = c->tw->set.timeout_ms * 4, /* audio is larger than a document */
		    .max_body = TWIML_AUDIO_MAX_BYTES,
		    .follow_redirects = true,
		    .download_path = a->path,
		};
		int e = fetch_start(c->tw->fetch, &req, download_done_cb, a, &a->op);
		if (e) {
			free(a->url);
			free(a);
			return e;
		}
		if (hmap_insert(&c->entries, &a->node, hash_str(str_from_cstr(url))) != 0) {
			fetch_cancel(a->op);
			free(a->url);
			free(a);
			return -ENOMEM;
		}
		c->count++;
	}
	w->audio = a;
	w->next = a->waiters;
	a->waiters = w;
	return 0;
}

void twiml__audio_unwait(struct twiml__audio_wait *w)
{
	struct twiml__audio *a = w->audio;
	if (!a)
		return;
	for (struct twiml__audio_wait **p = &a->waiters; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	w->audio = NULL;
	w->next = NULL;
}
