/*
 * libFuzzer target for what a client of GET /v1/events controls before any
 * event flows: the ?events= and ?uuid= filter (evstream_filter_parse, after
 * the query's percent-decoding) and the handshake's Sec-WebSocket-Key
 * (ws_accept_key). The input is split at its first NUL byte into the events
 * value and the rest; the rest is both the uuid and the key.
 *
 * Invariants (abort when broken):
 *  - results are 0 or -EINVAL only;
 *  - a parsed filter has at most EVSTREAM_NAMES_MAX names, each non-empty,
 *    NUL-terminated and made of [A-Za-z0-9_:]; its uuid is NUL-terminated;
 *  - an accepted key gives 28 characters of base64 ending in '=';
 *  - a filter parsed from the names it kept, joined with ',', is the same.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_filter(const struct evstream_filter *f)
{
	if (f->name_count > EVSTREAM_NAMES_MAX)
		abort();
	if (!memchr(f->uuid, '\0', sizeof(f->uuid)))
		abort();
	for (size_t i = 0; i < f->name_count; i++) {
		const char *n = f->names[i];
		size_t len = strnlen(n, sizeof(f->names[i]));
		if (len == 0 || len == sizeof(f->names[i]))
			abort();
		for (size_t j = 0; j < len; j++) {
			char c = n[j];
			if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			      (c >= '0' && c <= '9') || c == '_' || c == ':'))
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	size_t first = strlen(in);
	const char *events = in;
	const char *rest = first < size ? in + first + 1 : "";

	struct evstream_filter f;
	int rc = evstream_filter_parse(&f, events, rest[0] ? rest : NULL);
	if (rc != 0 && rc != -EINVAL)
		abort();
	if (rc == 0) {
		check_filter(&f);
		if (f.name_count) {
			char joined[EVSTREAM_NAMES_MAX * 65];
			size_t n = 0;
			for (size_t i = 0; i < f.name_count; i++) {
				size_t l = strlen(f.names[i]);
				if (i)
					joined[n++] = ',';
				memcpy(joined + n, f.names[i], l);
				n += l;
			}
			joined[n] = '\0';
			struct evstream_filter g;
			if (evstream_filter_parse(&g, joined, NULL) != 0 ||
			    g.name_count != f.name_count)
				abort();
			for (size_t i = 0; i < f.name_count; i++)
				if (strcmp(g.names[i], f.names[i]) != 0)
					abort();
		}
	}

	char accept[WS_ACCEPT_LEN + 1];
	memset(accept, 'x', sizeof(accept));
	rc = ws_accept_key(rest, accept);
	if (rc != 0 && rc != -EINVAL)
		abort();
	if (rc == 0 && (strlen(accept) != WS_ACCEPT_LEN || accept[WS_ACCEPT_LEN - 1] != '='))
		abort();
	free(in);
	return 0;
}
