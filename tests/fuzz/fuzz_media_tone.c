/*
 * Fuzz target: the tone_stream:// script parser (FreeSWITCH's TGML), and the
 * generator over what it accepts. The first byte picks the output rate and
 * read size; the rest is the script. A parsed script must make a source
 * that yields bounded audio without hanging: reads are capped in total.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/media_play_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t rates[] = {8000, 16000, 44100, 48000, 1000, 192000, 11025, 22050};
	static struct media__tone_script script;
	int16_t pcm[4096];

	if (size < 1)
		return 0;
	uint32_t rate = rates[data[0] & 7];
	size_t chunk = 1 + (size_t)(data[0] >> 3) * 97;
	if (chunk > ARRAY_LEN(pcm))
		chunk = ARRAY_LEN(pcm);
	/* An exact-size copy, so reads past the end are caught. */
	char *text = malloc(size - 1 ? size - 1 : 1);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	int err = media__tone_parse(str_make(text, size - 1), &script);
	if (err == 0) {
		if (script.nseg == 0 || script.nseg > MEDIA_TONE_MAX_SEGMENTS || script.plays == 0)
			abort();
		struct media_source *src;
		if (media__tone_source_create(&src, &script, rate) != 0)
			abort();
		size_t total = 0;
		uint32_t r = rate;
		while (total < 48000) {
			size_t k = media_source_read(src, pcm, chunk, r);
			if (k > chunk)
				abort();
			total += k;
			if (k < chunk)
				break;
			if (total > 24000)
				r = rates[(data[0] + 1) & 7]; /* a codec change mid-tone */
		}
		media_source_destroy(src);
	} else if (err != -EINVAL) {
		abort();
	}
	free(text);
	return 0;
}
