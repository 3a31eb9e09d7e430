/*
 * Recording a channel (record_session, uuid_record): each recording is a
 * media_recorder fed by the channel stream's tap — what the far end sent and
 * what irisx sent — and written by the core's writer thread. Events and
 * variables as FreeSWITCH's: RECORD_START / RECORD_STOP with
 * Record-File-Path; record_ms, record_seconds, record_samples at the stop.
 *
 * A recording is malloc'd, not in the channel's arena: its limit timer is
 * closed (and the recording freed) after the stop, possibly once the
 * channel is gone; the close callback touches nothing else.
 */
#define LOG_MODULE "record"
#include "core_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct channel_recording {
	struct channel_recording *next;
	struct channel *ch;
	char *path; /* resolved */
	struct media_recorder *rec;
	uv_timer_t limit;
};

int core_record_path_resolve(const char *recordings_dir, const char *path, char *out, size_t size)
{
	if (!path || !*path)
		return -EINVAL;
	/* a ".." component anywhere: refused, relative or absolute alike */
	for (const char *p = path; *p;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return -EINVAL;
		p += n;
		while (*p == '/')
			p++;
	}
	int n = path[0] == '/'
		    ? snprintf(out, size, "%s", path)
		    : snprintf(out, size, "%s/%s", recordings_dir ? recordings_dir : ".", path);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

int core_recordings_open(struct core *core, const char *state_dir)
{
	char dir[4096];
	if (snprintf(dir, sizeof(dir), "%s/recordings", state_dir) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return -errno;
	unsigned fixed = 0;
	media_wav_repair_dir(dir, &fixed);
	if (fixed)
		log_notice("%u recording(s) in %s were cut short and repaired", fixed, dir);
	char *copy = strdup(dir);
	if (!copy)
		return -ENOMEM;
	int err = media_record_writer_create(&core->rec_writer, 0);
	if (err) {
		free(copy);
		return err;
	}
	core->recordings_dir = copy;
	return 0;
}

/* ---- the tap: every recording of the channel hears both directions, the
 * record application's (channel_record_read.c) the far end only ---- */

void core__record_tap_rx(struct channel *ch, const int16_t *pcm, size_t samples, uint32_t rate)
{
	for (struct channel_recording *r = ch->recordings; r; r = r->next)
		media_recorder_rx(r->rec, pcm, samples, rate);
	if (core__record_read_active(ch))
		core__record_read_rx(ch, pcm, samples, rate);
}

static void tap_rx_cb(void *arg, const int16_t *pcm, size_t samples, uint32_t rate)
{
	core__record_tap_rx(arg, pcm, samples, rate);
}

static void tap_tx_cb(void *arg, const int16_t *pcm, size_t samples, uint32_t rate)
{
	struct channel *ch = arg;
	for (struct channel_recording *r = ch->recordings; r; r = r->next)
		media_recorder_tx(r->rec, pcm, samples, rate);
}

void core__record_tap_update(struct channel *ch)
{
	struct media_stream *s = ch->media ? ch->media->stream : NULL;
	if (!s)
		return;
	struct media_tap tap = {.rx_cb = tap_rx_cb, .tx_cb = tap_tx_cb, .arg = ch};
	bool on = ch->recordings || core__record_read_active(ch);
	media_stream_set_tap(s, on ? &tap : NULL);
}

bool core__record_path_busy(const struct channel *ch, const char *path)
{
	for (const struct channel_recording *r = ch->recordings; r; r = r->next)
		if (strcmp(r->path, path) == 0)
			return true;
	return false;
}

/* ---- start / stop ---- */

static void path_extra(void *arg, struct core_event *ev)
{
	struct channel_recording *r = arg;
	core_event_add_header(ev, "Record-File-Path", "%s", r->path);
}

static void limit_closed_cb(uv_handle_t *h)
{
	struct channel_recording *r = h->data;
	free(r->path);
	free(r);
}

static void record_end(struct channel *ch, struct channel_recording *r)
{
	uint64_t frames = media_recorder_frames(r->rec);
	uint32_t rate = media_recorder_rate(r->rec);
	uint64_t ms = frames * 1000 / rate;
	char v[32];
	snprintf(v, sizeof(v), "%llu", (unsigned long long)ms);
	channel_var_set(ch, "record_ms", v);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)(ms / 1000));
	channel_var_set(ch, "record_seconds", v);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)frames);
	channel_var_set(ch, "record_samples", v);
	log_info("[%s] recording %s stopped after %llu ms", ch->uuid, r->path,
		 (unsigned long long)ms);
	media_recorder_destroy(r->rec);
	r->rec = NULL;
	channel_event_fire(ch, "RECORD_STOP", path_extra, r);
	uv_timer_stop(&r->limit);
	uv_close((uv_handle_t *)&r->limit, limit_closed_cb);
}

/* Unlinks the recordings matching path ("all": every one) onto a list. */
static struct channel_recording *take(struct channel *ch, const char *path)
{
	struct channel_recording *out = NULL, **pp = &ch->recordings;
	while (*pp) {
		struct channel_recording *r = *pp;
		if (!path || strcmp(r->path, path) == 0) {
			*pp = r->next;
			r->next = out;
			out = r;
		} else {
			pp = &r->next;
		}
	}
	core__record_tap_update(ch);
	return out;
}

static void end_all(struct channel *ch, struct channel_recording *list)
{
	while (list) {
		struct channel_recording *next = list->next;
		record_end(ch, list);
		list = next;
	}
}

static void limit_cb(uv_timer_t *t)
{
	struct channel_recording *r = t->data;
	struct channel *ch = r->ch;
	log_info("[%s] recording %s reached its limit", ch->uuid, r->path);
	end_all(ch, take(ch, r->path));
}

int channel_record_start(struct channel *ch, const char *path, uint32_t limit_secs)
{
	struct core *core = ch->core;
	char full[4096];
	if (!core->rec_writer)
		return -ENOTSUP;
	int err = core_record_path_resolve(core->recordings_dir, path, full, sizeof(full));
	if (err)
		return err;
	const char *reading = core__record_read_path(ch);
	if (core__record_path_busy(ch, full) || (reading && strcmp(reading, full) == 0))
		return -EEXIST;
	if ((err = core__media_ready(ch)))
		return err;
	struct channel_recording *r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(full))) {
		free(r);
		return -ENOMEM;
	}
	uint32_t rate = ch->media->audio_rate ? ch->media->audio_rate : 8000;
	const char *stereo = channel_var(ch, "RECORD_STEREO");
	err = media_recorder_create(&r->rec, core->rec_writer, full, rate,
				    stereo && config_is_true(stereo));
	if (err) {
		free(r->path);
		free(r);
		return err;
	}
	r->ch = ch;
	uv_timer_init(core->loop, &r->limit);
	r->limit.data = r;
	if (limit_secs)
		uv_timer_start(&r->limit, limit_cb, (uint64_t)limit_secs * 1000, 0);
	r->next = ch->recordings;
	ch->recordings = r;
	core__record_tap_update(ch);
	/* The CDR's recording path: the last recording started on the leg. */
	channel_var_set(ch, "recording_path", full);
	log_info("[%s] recording to %s (%s, %u Hz%s)", ch->uuid, full,
		 stereo && config_is_true(stereo) ? "stereo" : "mono", rate,
		 limit_secs ? ", limited" : "");
	channel_event_fire(ch, "RECORD_START", path_extra, r);
	return 0;
}

static const char *resolve_or_all(struct channel *ch, const char *path, char *full, size_t n,
				  int *err)
{
	*err = 0;
	if (path && strcmp(path, "all") == 0)
		return NULL;
	*err = core_record_path_resolve(ch->core->recordings_dir, path, full, n);
	return full;
}

int channel_record_stop(struct channel *ch, const char *path)
{
	char full[4096];
	int err;
	const char *p = resolve_or_all(ch, path, full, sizeof(full), &err);
	if (err)
		return err;
	struct channel_recording *list = take(ch, p);
	if (!list)
		return -ENOENT;
	end_all(ch, list);
	return 0;
}

int channel_record_mask(struct channel *ch, const char *path, bool mask)
{
	char full[4096];
	int err;
	const char *p = resolve_or_all(ch, path, full, sizeof(full), &err);
	if (err)
		return err;
	bool found = false;
	for (struct channel_recording *r = ch->recordings; r; r = r->next) {
		if (!p || strcmp(r->path, p) == 0) {
			media_recorder_mask(r->rec, mask);
			found = true;
		}
	}
	return found ? 0 : -ENOENT;
}

void core__record_hangup(struct channel *ch)
{
	if (ch->recordings)
		end_all(ch, take(ch, NULL));
}
