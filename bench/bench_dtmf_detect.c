/*
 * bench_dtmf_detect — the CPU in-band DTMF detection costs a call: one core
 * runs 500 detectors (one per call) over 20 ms frames of 8 kHz speech-like
 * audio with a digit now and then, as the media path feeds them, and prints
 * the CPU time per call as a share of one core and per second of audio.
 *
 *   bench_dtmf_detect [CALLS [SECONDS]]   default 500 calls, 20 s of audio each
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "media/media.h"

enum { RATE = 8000, FRAME = 160 };

static unsigned long digits_seen;

static void digit_cb(void *arg, char digit, uint32_t ms)
{
	(void)arg;
	(void)digit;
	(void)ms;
	digits_seen++;
}

int main(int argc, char **argv)
{
	int calls = argc > 1 ? atoi(argv[1]) : 500;
	int seconds = argc > 2 ? atoi(argv[2]) : 20;
	if (calls <= 0 || seconds <= 0)
		return 2;
	/* one second of audio: noise with a digit (941+1336 Hz, "0") for 100 ms */
	int16_t *sec = malloc(RATE * sizeof(*sec));
	struct media_dtmf_detector **det = calloc((size_t)calls, sizeof(*det));
	if (!sec || !det)
		return 1;
	srand(1);
	for (int i = 0; i < RATE; i++) {
		double t = (double)i / RATE, v = (rand() % 4000) - 2000;
		if (i >= 4000 && i < 4800)
			v = 7000 * (sin(2 * M_PI * 941 * t) + sin(2 * M_PI * 1336 * t));
		sec[i] = (int16_t)v;
	}
	for (int c = 0; c < calls; c++)
		if (media_dtmf_detector_create(&det[c], RATE, digit_cb, NULL))
			return 1;
	struct timespec a, b;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	for (int s = 0; s < seconds; s++)
		for (int f = 0; f < RATE / FRAME; f++)
			for (int c = 0; c < calls; c++)
				media_dtmf_detector_feed(det[c], sec + f * FRAME, FRAME);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	double cpu = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	double per_call = cpu / seconds / calls; /* CPU seconds per second of a call */
	printf("in-band DTMF detection: %d calls x %d s of 8 kHz audio in %.2f s CPU\n", calls,
	       seconds, cpu);
	printf("per call: %.3f%% of one core (%.1f us CPU per second of audio); "
	       "%d calls: %.1f%% of one core\n",
	       per_call * 100, per_call * 1e6, calls, per_call * calls * 100);
	printf("digits detected: %lu (expected %d)\n", digits_seen, calls * seconds);
	for (int c = 0; c < calls; c++)
		media_dtmf_detector_destroy(det[c]);
	free(det);
	free(sec);
	return digits_seen == (unsigned long)calls * (unsigned long)seconds ? 0 : 1;
}
