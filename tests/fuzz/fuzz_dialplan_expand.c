/*
 * Fuzz target: expansion of action data (${var}, nesting, substrings, $N,
 * $$). The input is the template, then after a NUL byte "name=value" lines
 * that become the variables. Odd-sized inputs also get captures: slices of
 * the template standing in for regex groups.
 *
 * Checks: the result respects DIALPLAN_EXPAND_MAX, a template without '$'
 * comes out unchanged, and the only failure is -E2BIG.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dialplan/dialplan.h"

enum { VARS_MAX = 16 };

struct vars {
	const char *name[VARS_MAX], *value[VARS_MAX];
	size_t count;
};

static const char *get(void *arg, const char *name)
{
	struct vars *v = arg;
	for (size_t i = 0; i < v->count; i++)
		if (strcmp(v->name[i], name) == 0)
			return v->value[i];
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	struct vars v = {.count = 0};
	struct dialplan_captures caps = {.count = 0};
	struct buf out;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	size_t tlen = strlen(copy); /* the template ends at the first NUL */

	/* "name=value" lines after the NUL, written in place */
	for (char *p = copy + tlen + 1; p < copy + size && v.count < VARS_MAX;) {
		char *nl = memchr(p, '\n', (size_t)(copy + size - p));
		char *end = nl ? nl : copy + size;
		*end = '\0';
		char *eq = strchr(p, '=');
		if (eq) {
			*eq = '\0';
			v.name[v.count] = p;
			v.value[v.count] = eq + 1;
			v.count++;
		}
		p = end + 1;
	}
	if (size % 2) {
		caps.count = DIALPLAN_CAPTURES_MAX;
		for (size_t i = 0; i < DIALPLAN_CAPTURES_MAX; i++)
			if (i * 2 < tlen && i % 3 != 2)
				caps.group[i] =
				    str_make(copy + i, tlen - i * 2 < i ? tlen - i * 2 : i);
	}
	struct dialplan_vars dv = {.get_cb = get, .arg = &v};
	buf_init(&out);
	int rc = dialplan_expand(str_make(copy, tlen), size % 2 ? &caps : NULL, &dv, &out);
	if (rc != 0 && rc != -E2BIG)
		abort();
	if (out.len > DIALPLAN_EXPAND_MAX)
		abort();
	if (rc == 0 && !memchr(copy, '$', tlen) && (out.len != tlen || memcmp(out.p, copy, tlen)))
		abort();
	buf_fini(&out);
	free(copy);
	return 0;
}
