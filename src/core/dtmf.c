/*
 * FreeSWITCH's DTMF strings as uuid_send_dtmf and send_dtmf take them:
 * "digits[@duration_ms]". Pure, so that a door or a test can parse without
 * pulling in channels.
 */
#include "core.h"

#include <errno.h>
#include <string.h>

int core_dtmf_parse(const char *s, char digits[CORE_DTMF_MAX + 1], uint32_t *duration_ms)
{
	if (!s)
		return -EINVAL;
	struct str all = str_trim(str_from_cstr(s)), d = all;
	ptrdiff_t at = str_find_char(all, '@');
	*duration_ms = 0;
	if (at >= 0) {
		d = str_make(all.p, (size_t)at);
		struct str dur = str_make(all.p + at + 1, all.len - (size_t)at - 1);
		/* media_stream_send_dtmf's floor is 40 ms; an hour is nobody's digit */
		if (str_to_u32(dur, duration_ms) != 0 || *duration_ms < 40 ||
		    *duration_ms > 3600000)
			return -EINVAL;
	}
	if (d.len == 0 || d.len > CORE_DTMF_MAX)
		return -EINVAL;
	for (size_t i = 0; i < d.len; i++)
		if (!strchr("0123456789*#ABCDabcdwW", d.p[i]) || d.p[i] == '\0')
			return -EINVAL;
	memcpy(digits, d.p, d.len);
	digits[d.len] = '\0';
	return 0;
}
