/*
 * Decoding a prompt file for the cache: libsndfile reads it (WAV, and
 * whatever else the installed libsndfile reads: AIFF, AU, FLAC, Ogg/Vorbis,
 * ...), at any rate and channel count; channels are averaged to mono and
 * the result resampled to the rate asked for.
 *
 * Runs in libuv's thread pool (media__file_decode is the work function of a
 * job) and reads the file in small chunks, so memory is the output plus a
 * few kilobytes whatever the file's size.
 */
#include "media_play_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { FILE_CHUNK_FRAMES = 2048, FILE_MAX_CHANNELS = 64 };

void media__file_decode(const char *path, uint32_t rate, size_t max_bytes,
			struct media__decode_result *res)
{
	struct media__resampler rs;
	SF_INFO info = {0};
	SNDFILE *sf = NULL;
	float *frames = NULL, *mono = NULL;
	int fd, err;

	res->pcm = NULL;
	res->samples = 0;
	memset(&rs, 0, sizeof(rs));

	/* Open it ourselves so that a permission problem reads as EACCES rather
	 * than as libsndfile's "system error". */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	sf = sf_open_fd(fd, SFM_READ, &info, 0 /* we close fd */);
	if (!sf) {
		err = -EBADMSG; /* not a format libsndfile reads */
		goto out;
	}
	if (info.channels < 1 || info.channels > FILE_MAX_CHANNELS || info.samplerate < 1 ||
	    info.frames < 0) {
		err = -EBADMSG;
		goto out;
	}
	/* A file that cannot fit the cache is refused before reading it. */
	size_t max_samples = max_bytes / sizeof(int16_t);
	if (info.frames > 0 &&
	    (double)info.frames * rate / info.samplerate > (double)max_samples + 1) {
		err = -EFBIG;
		goto out;
	}
	err = media__resampler_init(&rs, (uint32_t)info.samplerate, rate, max_samples);
	if (err < 0)
		goto out;
	frames = malloc(sizeof(float) * FILE_CHUNK_FRAMES * (size_t)info.channels);
	mono = malloc(sizeof(float) * FILE_CHUNK_FRAMES);
	if (!frames || !mono) {
		err = -ENOMEM;
		goto out;
	}
	/* Full scale as int16: libsndfile normalizes to [-1, 1). */
	const float scale = 32768.0f / (float)info.channels;
	for (;;) {
		sf_count_t n = sf_readf_float(sf, frames, FILE_CHUNK_FRAMES);
		if (n <= 0)
			break;
		for (sf_count_t i = 0; i < n; i++) {
			float sum = 0;
			for (int c = 0; c < info.channels; c++)
				sum += frames[i * info.channels + c];
			mono[i] = sum * scale;
		}
		err = media__resampler_push(&rs, mono, (size_t)n);
		if (err < 0)
			goto out;
	}
	if (sf_error(sf) != SF_ERR_NO_ERROR) {
		err = -EIO;
		goto out;
	}
	err = media__resampler_finish(&rs, &res->pcm, &res->samples);
out:
	if (sf)
		sf_close(sf);
	if (fd >= 0)
		close(fd);
	media__resampler_fini(&rs);
	free(frames);
	free(mono);
	res->err = err;
}
