/*
 * libFuzzer target for TwiML URL handling: the input is split at its
 * first NUL into a base and a reference (no NUL: a fixed base), resolved
 * (RFC 3986 §5.2), and the result given a query.
 *
 * Invariants: a result is NUL-terminated within the buffer and starts with
 * http:// or https://; an absolute result resolves to itself; a buffer one
 * byte too small gives -ENAMETOOLONG; failures are -EINVAL or
 * -ENAMETOOLONG only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "twiml/twiml_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	char out[512], again[512], small[512], q[1024];

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	const char *base = "http://a/b/c/d;p?q", *ref = in;
	size_t nul = strlen(in);
	if (nul < size) {
		base = in;
		ref = in + nul + 1;
	}
	int rc = twiml_url_resolve(base, ref, out, sizeof(out));
	if (rc == 0) {
		size_t len = strlen(out);
		if (strncmp(out, "http://", 7) != 0 && strncmp(out, "https://", 8) != 0)
			abort();
		if (twiml_url_resolve(out, out, again, sizeof(again)) != 0 ||
		    strcmp(out, again) != 0)
			abort();
		if (twiml_url_resolve(base, ref, small, len) != -ENAMETOOLONG)
			abort();
		if (twiml_url_with_query(out, "Digits=1", q, sizeof(q)) != 0 ||
		    !strstr(q, "Digits=1"))
			abort();
	} else if (rc != -EINVAL && rc != -ENAMETOOLONG) {
		abort();
	}
	free(in);
	return 0;
}
