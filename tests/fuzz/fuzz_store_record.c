/*
 * libFuzzer target for the CDR line parser (cdr_parse, store/record.c). The
 * spool is written by irisx itself, but a disk that returns garbage or a
 * hand-edited segment must not crash the writer threads that replay it.
 *
 * Invariant checked besides "no crash": a line that parses prints back to a
 * line that parses to the same record (uuid, numbers, variable count).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	struct cdr c, again;
	if (cdr_parse(line, size, &c) == 0) {
		struct buf b;
		buf_init(&b);
		cdr_print_json(&c, &b);
		if (cdr_parse(b.p, b.len - 1, &again) != 0 || strcmp(again.uuid, c.uuid) != 0 ||
		    again.created_us != c.created_us || again.q850 != c.q850 ||
		    again.var_count != c.var_count)
			abort();
		buf_fini(&b);
	}
	free(line);
	return 0;
}
