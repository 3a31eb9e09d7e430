/*
 * libFuzzer target for SIP INFO DTMF bodies (core_dtmf_info_parse,
 * core/dtmf.c): the body and Content-Type come from the network.
 *
 * Input: the Content-Type up to the first NUL byte, the body after it (no
 * NUL: application/dtmf-relay and the whole input as body). Besides "no
 * crash, no undefined behaviour" (the body is copied to a buffer of its
 * exact size, so a read past it is caught), it aborts when an invariant
 * breaks: the result is 0, -ENOTSUP or -EBADMSG; an accepted digit is one
 * of 0-9 * # A-D and the duration at most 60000 ms; and accepting depends
 * on the content type's parameters not at all.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	struct str ct = STR("application/dtmf-relay");
	const uint8_t *b = data;
	size_t blen = size;
	if (nul) {
		ct = str_make((const char *)data, (size_t)(nul - data));
		b = nul + 1;
		blen = size - (size_t)(nul - data) - 1;
	}
	char *body = malloc(blen ? blen : 1);
	if (!body)
		return 0;
	memcpy(body, b, blen);
	char digit = 0;
	uint32_t ms = 0;
	int rc = core_dtmf_info_parse(ct, str_make(body, blen), &digit, &ms);
	if (rc != 0 && rc != -ENOTSUP && rc != -EBADMSG)
		abort();
	if (rc == 0 && (!digit || !strchr("0123456789*#ABCD", digit) || ms > 60000))
		abort();
	if (rc != -ENOTSUP && ct.len < 200 && !memchr(ct.p, ';', ct.len)) {
		/* the same type with a parameter parses the same */
		char with[256];
		memcpy(with, ct.p, ct.len);
		memcpy(with + ct.len, ";x=1", 4);
		char d2 = 0;
		uint32_t ms2 = 0;
		int rc2 = core_dtmf_info_parse(str_make(with, ct.len + 4), str_make(body, blen),
					       &d2, &ms2);
		if (rc2 != rc || (rc == 0 && (d2 != digit || ms2 != ms)))
			abort();
	}
	free(body);
	return 0;
}
