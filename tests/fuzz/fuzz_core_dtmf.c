/*
 * libFuzzer target for DTMF strings (core_dtmf_parse, core/dtmf.c):
 * uuid_send_dtmf's argument comes from ESL api lines, i.e. from the network.
 *
 * Besides "no crash, no undefined behaviour", it aborts when an invariant
 * breaks: a refusal is -EINVAL; an acceptance gives 1..CORE_DTMF_MAX digits
 * of the allowed set, a duration of 0 (the default) or 40 ms..1 h, and the
 * digits printed back with their duration parse to the same result.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char digits[CORE_DTMF_MAX + 1], again[CORE_DTMF_MAX + 1], line[CORE_DTMF_MAX + 16];
	uint32_t ms, ms2;
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	int rc = core_dtmf_parse(text, digits, &ms);
	if (rc == 0) {
		size_t n = strlen(digits);
		if (n == 0 || n > CORE_DTMF_MAX || strspn(digits, "0123456789*#ABCDabcdwW") != n)
			abort();
		if (ms != 0 && (ms < 40 || ms > 3600000))
			abort();
		if (ms)
			snprintf(line, sizeof(line), "%s@%u", digits, ms);
		else
			snprintf(line, sizeof(line), "%s", digits);
		if (core_dtmf_parse(line, again, &ms2) != 0 || strcmp(again, digits) != 0 ||
		    ms2 != ms)
			abort();
	} else if (rc != -EINVAL) {
		abort();
	}
	free(text);
	return 0;
}
