/*
 * The media library of one loop: opens what calls play, and caches decoded
 * prompts so that a thousand calls playing the same one hold its PCM once.
 *
 * Cache. An entry is a prompt decoded (play_file.c) or synthesized
 * (play_tts.c) and resampled to one rate, keyed by (path, rate) — the file's
 * mtime, size and inode must match too — or by (voice, text, rate). Sources
 * hold references (play_pcm.c); an unreferenced entry waits on an LRU list
 * and is evicted, oldest first, while the PCM held passes the cache limit.
 * PCM that calls are playing is never evicted: the limit can be exceeded by
 * what is in use, and by nothing else.
 *
 * Freshness. A file open whose entry was checked less than a second ago is
 * served at once; otherwise the file is stat()ed in the thread pool
 * (uv_fs_stat) and a changed file is decoded anew. An entry being decoded
 * collects the opens that want it, so concurrent opens decode once.
 *
 * Deferral. Every open answers through its callback from one uv_idle_t of
 * the library's, never before the open returns — even a cache hit or a tone.
 * The idle handle is active only while answers are queued; when it is, the
 * loop polls without blocking, so they go out on the next turn.
 *
 * Work. File decodes run in libuv's thread pool, any number at once; speech
 * jobs one at a time per library (espeak-ng is serialized process-wide, and
 * jobs queued behind its lock would idle pool threads the loop's other file
 * work needs).
 *
 * Destruction. Thread-pool work cannot be stopped once running, and its
 * completion is delivered on the loop after media_library_destroy may have
 * freed the library. So every job and in-flight stat is a separate
 * allocation holding a back pointer to the library; destroy clears those
 * pointers (and uv_cancel()s jobs not yet started), and a completion that
 * finds its pointer NULL frees itself and touches nothing else. Entries still
 * played by sources become orphans, freed by their last source. The idle
 * handle is closed and freed by its close callback. The loop must therefore
 * run after destroy (as for any libuv handle) for that memory to go, and
 * destroy may be called from within a ready callback.
 */
#define LOG_MODULE "media"
#include "media_play_int.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

enum {
	LIBRARY_REVALIDATE_MS = 1000,
	LIBRARY_MAX_TEXT = 4096, /* bytes of text one media_source_speak may say */
	LIBRARY_MAX_VOICE = 64,
};

#define TONE_PREFIX    "tone_stream://"
#define SILENCE_PREFIX "silence_stream://"

/* ---- intrusive circular lists --------------------------------------------- */

struct dlink {
	struct dlink *prev, *next;
};

static void dlist_init(struct dlink *h)
{
	h->prev = h->next = h;
}

static bool dlist_empty(const struct dlink *h)
{
	return h->next == h;
}

static void dlist_append(struct dlink *h, struct dlink *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static void dlist_remove(struct dlink *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

/* ---- objects ---------------------------------------------------------------- */

enum entry_kind { ENTRY_FILE, ENTRY_SPEECH };

struct job;

struct media__entry {
	struct hmap_node node; /* lib->map, while in_map */
	struct dlink all;      /* lib->entries */
	struct dlink lru;      /* lib->lru while ready and unreferenced; lib->speech while queued */
	struct dlink waiters;  /* struct req.link, while loading */
	struct media_library *lib; /* NULL: an orphan, its library destroyed */
	enum entry_kind kind;
	bool in_map, ready, on_lru, queued;
	uint32_t rate;
	unsigned refs;	 /* requests and sources holding it */
	struct job *job; /* the decode or synthesis filling it */
	/* The file it was decoded from, as stat() saw it. */
	int64_t mtime_sec, mtime_nsec;
	uint64_t size, ino, dev;
	uint64_t checked_ms; /* uv_now() of the last stat that matched */
	int16_t *pcm;	     /* owned */
	size_t samples;
	size_t key_len;
	char key[]; /* the path, or "voice\0text" */
};

enum req_state { REQ_STAT, REQ_WAIT, REQ_QUEUED };

/* One open waiting for its answer. */
struct req {
	struct media_library *lib; /* NULL: an in-flight stat outliving its library */
	struct dlink all;	   /* lib->reqs */
	struct dlink link;	   /* entry->waiters (REQ_WAIT) or lib->queue (REQ_QUEUED) */
	enum req_state state;
	bool cancelled; /* a stat in flight whose answer nobody wants */
	media_source_ready_cb cb;
	void *arg;
	uint32_t rate;
	struct media__entry *entry; /* a reference, when waiting or answered with PCM */
	struct media_source *src;   /* a generated source to hand over */
	int err;
	uv_fs_t fs;
	char path[]; /* file opens */
};

struct job {
	uv_work_t work;
	struct media_library *lib; /* NULL: the library is gone, only free yourself */
	struct media__entry *entry;
	struct dlink link; /* lib->jobs */
	enum entry_kind kind;
	uint32_t rate;
	size_t max_bytes;
	struct media__decode_result res;
	const char *voice, *text; /* into key, for speech */
	char key[];		  /* a copy: the entry may go while this runs */
};

struct media_library {
	uv_loop_t *loop;
	char *sounds_dir; /* owned, NULL: the working directory */
	uv_idle_t *idle;  /* owned; freed by its close callback */
	struct hmap map;
	struct dlink entries, lru, speech, reqs, queue, jobs;
	size_t limit, bytes, nready;
	bool speech_busy;
	bool dispatching, destroyed; /* destroy called from a ready callback */
	uint64_t decodes, hits, evictions;
};

/* ---- entries ---------------------------------------------------------------- */

static uint64_t entry_hash(enum entry_kind kind, const char *key, size_t len, uint32_t rate)
{
	return hash_bytes(key, len, ((uint64_t)rate << 8) | (uint64_t)kind);
}

static struct media__entry *entry_find(struct media_library *lib, enum entry_kind kind,
				       const char *key, size_t len, uint32_t rate)
{
	uint64_t h = entry_hash(kind, key, len, rate);
	for (struct hmap_node *n = hmap_first(&lib->map, h); n; n = hmap_next(n)) {
		struct media__entry *e = container_of(n, struct media__entry, node);
		if (e->kind == kind && e->rate == rate && e->key_len == len &&
		    memcmp(e->key, key, len) == 0)
			return e;
	}
	return NULL;
}

static struct media__entry *entry_create(struct media_library *lib, enum entry_kind kind,
					 const char *key, size_t len, uint32_t rate)
{
	struct media__entry *e = calloc(1, sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	size_t before = lib->map.count;
	hmap_insert(&lib->map, &e->node, entry_hash(kind, key, len, rate));
	if (lib->map.count == before) {
		free(e);
		return NULL;
	}
	e->lib = lib;
	e->kind = kind;
	e->rate = rate;
	e->in_map = true;
	e->key_len = len;
	memcpy(e->key, key, len);
	dlist_init(&e->lru);
	dlist_init(&e->waiters);
	dlist_append(&lib->entries, &e->all);
	return e;
}

static void entry_unmap(struct media__entry *e)
{
	if (e->in_map) {
		hmap_remove(&e->lib->map, &e->node);
		e->in_map = false;
	}
	if (e->on_lru || e->queued) {
		dlist_remove(&e->lru);
		e->on_lru = e->queued = false;
	}
}

static void entry_free(struct media__entry *e)
{
	struct media_library *lib = e->lib;
	if (lib) {
		entry_unmap(e);
		dlist_remove(&e->all);
		if (e->ready) {
			lib->bytes -= e->samples * sizeof(int16_t);
			lib->nready--;
		}
	}
	free(e->pcm);
	free(e);
}

/* Evicts unreferenced entries, least recently used first, down to the limit. */
static void cache_trim(struct media_library *lib)
{
	while (lib->bytes > lib->limit && !dlist_empty(&lib->lru)) {
		struct media__entry *e = container_of(lib->lru.next, struct media__entry, lru);
		lib->evictions++;
		entry_free(e);
	}
}

/* Called whenever an entry may have lost its last holder. */
static void entry_settle(struct media__entry *e)
{
	if (e->refs || e->job || e->queued)
		return;
	if (!e->lib || !e->in_map || !e->ready) {
		entry_free(e);
		return;
	}
	if (!e->on_lru) {
		dlist_append(&e->lib->lru, &e->lru);
		e->on_lru = true;
	}
	cache_trim(e->lib);
}

static void entry_ref(struct media__entry *e)
{
	if (e->on_lru) {
		dlist_remove(&e->lru);
		e->on_lru = false;
	}
	e->refs++;
}

void media__entry_unref(struct media__entry *e)
{
	if (!e)
		return;
	if (--e->refs == 0)
		entry_settle(e);
}

const int16_t *media__entry_pcm(const struct media__entry *e, size_t *samples, uint32_t *rate)
{
	*samples = e->samples;
	*rate = e->rate;
	return e->pcm;
}

/* ---- answering ---------------------------------------------------------------- */

static void req_free(struct req *r)
{
	if (r->state != REQ_STAT)
		dlist_remove(&r->link);
	dlist_remove(&r->all);
	free(r);
}

static void dispatch_cb(uv_idle_t *idle);

static void req_answer(struct req *r)
{
	struct media_library *lib = r->lib;
	if (r->state == REQ_WAIT)
		dlist_remove(&r->link);
	r->state = REQ_QUEUED;
	dlist_append(&lib->queue, &r->link);
	if (!uv_is_active((uv_handle_t *)lib->idle))
		uv_idle_start(lib->idle, dispatch_cb);
}

static void req_answer_err(struct req *r, int err)
{
	r->err = err;
	req_answer(r);
}

/* The request takes a reference on a ready entry and is answered. */
static void req_answer_hit(struct req *r, struct media__entry *e)
{
	entry_ref(e);
	r->entry = e;
	r->lib->hits++;
	req_answer(r);
}

static void req_wait(struct req *r, struct media__entry *e)
{
	entry_ref(e);
	r->entry = e;
	r->state = REQ_WAIT;
	dlist_append(&e->waiters, &r->link);
}

static void dispatch_cb(uv_idle_t *idle)
{
	struct media_library *lib = idle->data;

	lib->dispatching = true;
	while (!dlist_empty(&lib->queue)) {
		struct req *r = container_of(lib->queue.next, struct req, link);
		media_source_ready_cb cb = r->cb;
		void *arg = r->arg;
		struct media_source *src = r->src;
		int err = r->err;
		if (!err && r->entry) {
			err = media__pcm_source_create(&src, r->entry);
			if (err < 0)
				media__entry_unref(r->entry);
		}
		req_free(r);
		cb(arg, err < 0 ? NULL : src, err < 0 ? err : 0);
		if (lib->destroyed) {
			free(lib);
			return;
		}
	}
	lib->dispatching = false;
	uv_idle_stop(idle);
}

/* ---- jobs in the thread pool ----------------------------------------------------- */

static void job_work(uv_work_t *w)
{
	struct job *j = container_of(w, struct job, work);
	if (j->kind == ENTRY_FILE)
		media__file_decode(j->key, j->rate, j->max_bytes, &j->res);
	else
		media__tts_synth(j->text, j->voice, j->rate, j->max_bytes, &j->res);
}

static void speech_next(struct media_library *lib);

/* Answers everything waiting for `e` with `err`, and forgets `e`. */
static void entry_fail(struct media__entry *e, int err)
{
	entry_unmap(e);
	e->refs++; /* hold it while its waiters let go */
	while (!dlist_empty(&e->waiters)) {
		struct req *r = container_of(e->waiters.next, struct req, link);
		r->entry = NULL;
		e->refs--;
		req_answer_err(r, err);
	}
	media__entry_unref(e);
}

static void job_done(uv_work_t *w, int status)
{
	struct job *j = container_of(w, struct job, work);
	struct media_library *lib = j->lib;

	if (!lib) {
		free(j->res.pcm);
		free(j);
		return;
	}
	struct media__entry *e = j->entry;
	int err = status < 0 ? status : j->res.err;
	dlist_remove(&j->link);
	e->job = NULL;
	if (err < 0) {
		if (e->kind == ENTRY_FILE)
			log_warn("cannot play %s: %s", e->key, strerror(-err));
		else
			log_warn("cannot speak \"%s\" (voice %s): %s", j->text,
				 *j->voice ? j->voice : "default", strerror(-err));
		entry_fail(e, err);
	} else {
		e->pcm = j->res.pcm;
		e->samples = j->res.samples;
		e->ready = true;
		e->checked_ms = uv_now(lib->loop);
		lib->bytes += e->samples * sizeof(int16_t);
		lib->nready++;
		e->refs++;
		while (!dlist_empty(&e->waiters)) {
			struct req *r = container_of(e->waiters.next, struct req, link);
			req_answer(r); /* keeps the reference it took while waiting */
		}
		media__entry_unref(e); /* settles: caches it, or frees it if stale */
	}
	bool speech = j->kind == ENTRY_SPEECH;
	free(j);
	if (speech) {
		lib->speech_busy = false;
		speech_next(lib);
	}
	cache_trim(lib);
}

static int job_start(struct media_library *lib, struct media__entry *e)
{
	struct job *j = calloc(1, sizeof(*j) + e->key_len + 1);
	if (!j)
		return -ENOMEM;
	j->lib = lib;
	j->entry = e;
	j->kind = e->kind;
	j->rate = e->rate;
	j->max_bytes = lib->limit;
	memcpy(j->key, e->key, e->key_len);
	if (e->kind == ENTRY_SPEECH) {
		j->voice = j->key;
		j->text = j->key + strlen(j->key) + 1;
	}
	int err = uv_queue_work(lib->loop, &j->work, job_work, job_done);
	if (err < 0) {
		free(j);
		return err;
	}
	e->job = j;
	dlist_append(&lib->jobs, &j->link);
	lib->decodes++;
	return 0;
}

/* Starts the next queued synthesis if none runs; skips the abandoned. */
static void speech_next(struct media_library *lib)
{
	while (!lib->speech_busy && !dlist_empty(&lib->speech)) {
		struct media__entry *e = container_of(lib->speech.next, struct media__entry, lru);
		dlist_remove(&e->lru);
		e->queued = false;
		if (e->refs == 0) {
			entry_free(e); /* every call that wanted it hung up */
			continue;
		}
		int err = job_start(lib, e);
		if (err < 0)
			entry_fail(e, err);
		else
			lib->speech_busy = true;
	}
}

/* ---- files ---------------------------------------------------------------------- */

static bool entry_matches(const struct media__entry *e, const uv_stat_t *st)
{
	return e->size == st->st_size && e->ino == st->st_ino && e->dev == st->st_dev &&
	       e->mtime_sec == st->st_mtim.tv_sec && e->mtime_nsec == st->st_mtim.tv_nsec;
}

static void stat_cb(uv_fs_t *fs)
{
	struct req *r = container_of(fs, struct req, fs);
	struct media_library *lib = r->lib;
	int err = (int)fs->result;
	uv_stat_t st = fs->statbuf;

	uv_fs_req_cleanup(fs);
	if (!lib) {
		free(r);
		return;
	}
	if (r->cancelled) {
		req_free(r);
		return;
	}
	if (err == 0 && !S_ISREG(st.st_mode))
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	if (err < 0) {
		log_warn("cannot play %s: %s", r->path, strerror(-err));
		req_answer_err(r, err);
		return;
	}
	size_t len = strlen(r->path);
	struct media__entry *e = entry_find(lib, ENTRY_FILE, r->path, len, r->rate);
	if (e && entry_matches(e, &st)) {
		if (e->ready) {
			e->checked_ms = uv_now(lib->loop);
			req_answer_hit(r, e);
		} else {
			req_wait(r, e);
		}
		return;
	}
	if (e) {
		/* The file changed: the old PCM stays with whoever plays it. */
		entry_unmap(e);
		e->refs++;
		media__entry_unref(e);
	}
	e = entry_create(lib, ENTRY_FILE, r->path, len, r->rate);
	if (!e) {
		req_answer_err(r, -ENOMEM);
		return;
	}
	e->size = st.st_size;
	e->ino = st.st_ino;
	e->dev = st.st_dev;
	e->mtime_sec = st.st_mtim.tv_sec;
	e->mtime_nsec = st.st_mtim.tv_nsec;
	req_wait(r, e);
	err = job_start(lib, e);
	if (err < 0)
		entry_fail(e, err);
}

static struct req *req_create(struct media_library *lib, media_source_ready_cb cb, void *arg,
			      uint32_t rate, size_t path_len)
{
	struct req *r = calloc(1, sizeof(*r) + path_len + 1);
	if (!r)
		return NULL;
	r->lib = lib;
	r->cb = cb;
	r->arg = arg;
	r->rate = rate;
	r->state = REQ_STAT; /* until answered or waiting; not on any link list */
	dlist_init(&r->link);
	dlist_append(&lib->reqs, &r->all);
	return r;
}

static int open_file(struct media_library *lib, const char *spec, uint32_t rate,
		     media_source_ready_cb cb, void *arg)
{
	bool relative = spec[0] != '/' && lib->sounds_dir;
	size_t dir_len = relative ? strlen(lib->sounds_dir) : 0;
	size_t len = dir_len + (relative ? 1 : 0) + strlen(spec);
	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	struct req *r = req_create(lib, cb, arg, rate, len);
	if (!r)
		return -ENOMEM;
	if (relative) {
		memcpy(r->path, lib->sounds_dir, dir_len);
		r->path[dir_len] = '/';
	}
	memcpy(r->path + len - strlen(spec), spec, strlen(spec) + 1);

	struct media__entry *e = entry_find(lib, ENTRY_FILE, r->path, len, rate);
	if (e && e->ready && uv_now(lib->loop) - e->checked_ms < LIBRARY_REVALIDATE_MS) {
		req_answer_hit(r, e);
		return 0;
	}
	int err = uv_fs_stat(lib->loop, &r->fs, r->path, stat_cb);
	if (err < 0) {
		dlist_remove(&r->all);
		free(r);
	}
	return err;
}

/* ---- public API -------------------------------------------------------------------- */

int media_library_create(struct media_library **out, struct uv_loop_s *loop, const char *sounds_dir)
{
	struct media_library *lib;
	int err = -ENOMEM;

	if (!out || !loop)
		return -EINVAL;
	lib = calloc(1, sizeof(*lib));
	if (!lib)
		return -ENOMEM;
	lib->loop = loop;
	lib->limit = MEDIA_LIBRARY_CACHE_DEFAULT;
	hmap_init(&lib->map);
	dlist_init(&lib->entries);
	dlist_init(&lib->lru);
	dlist_init(&lib->speech);
	dlist_init(&lib->reqs);
	dlist_init(&lib->queue);
	dlist_init(&lib->jobs);
	if (sounds_dir && *sounds_dir) {
		size_t n = strlen(sounds_dir);
		while (n > 1 && sounds_dir[n - 1] == '/')
			n--;
		lib->sounds_dir = strndup(sounds_dir, n);
		if (!lib->sounds_dir)
			goto out;
	}
	lib->idle = calloc(1, sizeof(*lib->idle));
	if (!lib->idle)
		goto out;
	err = uv_idle_init(loop, lib->idle);
	if (err < 0) {
		free(lib->idle);
		lib->idle = NULL;
		goto out;
	}
	lib->idle->data = lib;
	*out = lib;
	return 0;
out:
	free(lib->idle);
	free(lib->sounds_dir);
	free(lib);
	return err;
}

static void idle_close_cb(uv_handle_t *h)
{
	free(h);
}

void media_library_destroy(struct media_library *lib)
{
	if (!lib)
		return;
	/* Jobs: their completion will find no library. */
	while (!dlist_empty(&lib->jobs)) {
		struct job *j = container_of(lib->jobs.next, struct job, link);
		dlist_remove(&j->link);
		j->entry->job = NULL;
		j->lib = NULL;
		uv_cancel((uv_req_t *)&j->work); /* fails harmlessly once running */
	}
	/* Requests: no callback runs after destroy. */
	while (!dlist_empty(&lib->reqs)) {
		struct req *r = container_of(lib->reqs.next, struct req, all);
		dlist_remove(&r->all);
		if (r->state == REQ_STAT) {
			r->lib = NULL; /* stat_cb frees it */
			continue;
		}
		dlist_remove(&r->link);
		if (r->entry)
			r->entry->refs--;
		media_source_destroy(r->src);
		free(r);
	}
	/* Entries: those still played by sources outlive us as orphans. */
	while (!dlist_empty(&lib->entries)) {
		struct media__entry *e = container_of(lib->entries.next, struct media__entry, all);
		if (e->refs == 0) {
			entry_free(e);
			continue;
		}
		entry_unmap(e);
		dlist_remove(&e->all);
		e->lib = NULL;
	}
	hmap_fini(&lib->map);
	uv_close((uv_handle_t *)lib->idle, idle_close_cb);
	free(lib->sounds_dir);
	if (lib->dispatching)
		lib->destroyed = true; /* dispatch_cb frees lib when the callback returns */
	else
		free(lib);
}

void media_library_set_cache_limit(struct media_library *lib, size_t bytes)
{
	lib->limit = bytes;
	cache_trim(lib);
}

void media_library_stats(const struct media_library *lib, struct media_library_stats *out)
{
	out->bytes = lib->bytes;
	out->entries = lib->nready;
	out->decodes = lib->decodes;
	out->hits = lib->hits;
	out->evictions = lib->evictions;
}

static bool rate_ok(uint32_t rate)
{
	return rate >= MEDIA_PLAY_RATE_MIN && rate <= MEDIA_PLAY_RATE_MAX;
}

/* Hands a generated source to the callback on the next turn. */
static int answer_source(struct media_library *lib, struct media_source *src,
			 media_source_ready_cb cb, void *arg)
{
	struct req *r = req_create(lib, cb, arg, 0, 0);
	if (!r) {
		media_source_destroy(src);
		return -ENOMEM;
	}
	r->src = src;
	req_answer(r);
	return 0;
}

int media_source_open(struct media_library *lib, const char *spec, uint32_t rate,
		      media_source_ready_cb cb, void *arg)
{
	struct media_source *src;
	int err;

	if (!lib || !spec || !*spec || !cb || !rate_ok(rate))
		return -EINVAL;
	struct str s = str_from_cstr(spec);
	if (str_starts_with_i(s, TONE_PREFIX)) {
		struct media__tone_script *script = malloc(sizeof(*script));
		if (!script)
			return -ENOMEM;
		size_t n = sizeof(TONE_PREFIX) - 1;
		err = media__tone_parse(str_make(s.p + n, s.len - n), script);
		if (err == 0)
			err = media__tone_source_create(&src, script, rate);
		free(script);
		return err < 0 ? err : answer_source(lib, src, cb, arg);
	}
	if (str_starts_with_i(s, SILENCE_PREFIX)) {
		size_t n = sizeof(SILENCE_PREFIX) - 1;
		err = media__silence_source_create(&src, str_make(s.p + n, s.len - n), rate);
		return err < 0 ? err : answer_source(lib, src, cb, arg);
	}
	return open_file(lib, spec, rate, cb, arg);
}

static bool voice_ok(const char *v)
{
	size_t n = strlen(v);
	if (n > LIBRARY_MAX_VOICE)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '+' || c == '/'))
			return false;
	}
	return true;
}

int media_source_speak(struct media_library *lib, const char *text, const char *voice,
		       uint32_t rate, media_source_ready_cb cb, void *arg)
{
	if (!voice)
		voice = "";
	if (!lib || !text || !cb || !rate_ok(rate) || !voice_ok(voice))
		return -EINVAL;
	size_t text_len = strlen(text), voice_len = strlen(voice);
	if (text_len == 0 || text_len > LIBRARY_MAX_TEXT)
		return -EINVAL;

	char key[LIBRARY_MAX_VOICE + 1 + LIBRARY_MAX_TEXT];
	memcpy(key, voice, voice_len + 1);
	memcpy(key + voice_len + 1, text, text_len);
	size_t key_len = voice_len + 1 + text_len;

	struct req *r = req_create(lib, cb, arg, rate, 0);
	if (!r)
		return -ENOMEM;
	struct media__entry *e = entry_find(lib, ENTRY_SPEECH, key, key_len, rate);
	if (e && e->ready) {
		req_answer_hit(r, e);
		return 0;
	}
	if (!e) {
		e = entry_create(lib, ENTRY_SPEECH, key, key_len, rate);
		if (!e) {
			dlist_remove(&r->all);
			free(r);
			return -ENOMEM;
		}
		e->queued = true;
		dlist_append(&lib->speech, &e->lru);
	}
	req_wait(r, e);
	speech_next(lib);
	return 0;
}

void media_source_open_cancel(struct media_library *lib, void *arg)
{
	if (!lib)
		return;
	struct dlink *n = lib->reqs.next;
	while (n != &lib->reqs) {
		struct req *r = container_of(n, struct req, all);
		n = n->next;
		if (r->arg != arg || r->cancelled)
			continue;
		if (r->state == REQ_STAT) {
			r->cancelled = true; /* stat_cb frees it */
			continue;
		}
		struct media__entry *e = r->entry;
		media_source_destroy(r->src);
		req_free(r);
		media__entry_unref(e);
	}
}
