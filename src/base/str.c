/*
 * Slices: comparison, trimming and number conversion without copying.
 */
#include "base.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

struct str str_from_cstr(const char *s)
{
	return s ? str_make(s, strlen(s)) : STR_NULL;
}

bool str_eq(struct str a, struct str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool str_ieq(struct str a, struct str b)
{
	return a.len == b.len && (a.len == 0 || strncasecmp(a.p, b.p, a.len) == 0);
}

bool str_ieq_cstr(struct str a, const char *s)
{
	return str_ieq(a, str_from_cstr(s));
}

bool str_starts_with_i(struct str s, const char *prefix)
{
	size_t n = strlen(prefix);
	return s.len >= n && strncasecmp(s.p, prefix, n) == 0;
}

static bool is_trim_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct str str_trim(struct str s)
{
	while (s.len > 0 && is_trim_space(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && is_trim_space(s.p[s.len - 1]))
		s.len--;
	return s;
}

ptrdiff_t str_find_char(struct str s, char c)
{
	const char *hit = s.len ? memchr(s.p, c, s.len) : NULL;
	return hit ? hit - s.p : -1;
}

int str_to_u64(struct str s, uint64_t *out)
{
	uint64_t v = 0;

	if (s.len == 0)
		return -EINVAL;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';
		if (d > 9)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int str_to_u32(struct str s, uint32_t *out)
{
	uint64_t v;
	int err = str_to_u64(s, &v);

	if (err)
		return err;
	if (v > UINT32_MAX)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int str_copy_cstr(struct str s, char *dst, size_t dst_size)
{
	if (dst_size == 0 || s.len >= dst_size)
		return -ENOSPC;
	if (s.len)
		memcpy(dst, s.p, s.len);
	dst[s.len] = '\0';
	return 0;
}
